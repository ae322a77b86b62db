// SLIP-0039 Shamir's Secret-Sharing for Mnemonic Codes: share encoding, RS1024 checksum,
// GF(256) secret sharing with a digest share, and the PBKDF2 Feistel encryption.
//
// Side channels: share values, word indices and mnemonic words are secret. GF(256) products
// on share data use a branch-free shift-and-add multiply; the log/exp tables are consulted
// only for the public x coordinates. Word lookups scan the whole word list and the RS1024
// step selects generator terms with masks. What remains data-dependent is the length of
// each word (and so of each mnemonic string) and the choice of error on invalid input.
#include "medallion/wallet/slip39.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <span>
#include <string>
#include <utility>

#include "medallion/core/hash.h"

namespace medallion::wallet::slip39 {
namespace {

// ---------------------------------------------------------------------------------------------
// Constants (SLIP-0039 §Format of the share mnemonic, §Encryption of the master secret).

constexpr int kRadixBits = 10;             // bits per word
constexpr int kIdBits = 15;                // identifier
constexpr int kIterationExponentBits = 4;  // iteration exponent (after the ext bit)
constexpr int kIdExpWords = 2;             // id || ext || e = 20 bits
constexpr int kShareParamsWords = 2;       // GI || Gt || g || I || t = 20 bits
constexpr int kChecksumWords = 3;          // RS1024 checksum = 30 bits
constexpr int kMetadataWords = kIdExpWords + kShareParamsWords + kChecksumWords;
constexpr int kMinMnemonicWords =
    kMetadataWords + (static_cast<int>(kMinSecretBytes) * 8 + kRadixBits - 1) / kRadixBits;
constexpr size_t kDigestBytes = 4;  // SLIP-0039 §Design rationale 4 (Digest)
constexpr uint8_t kDigestIndex = 254;
constexpr uint8_t kSecretIndex = 255;
constexpr uint32_t kBaseIterationCount = 10000;
constexpr uint8_t kRoundCount = 4;
constexpr std::string_view kCustomization = "shamir";
constexpr std::string_view kCustomizationExtendable = "shamir_extendable";

Status Invalid(std::string reason) { return Status::InvalidArgument("slip39: " + reason); }

// ---------------------------------------------------------------------------------------------
// SLIP-0039 §Wordlist, embedded at build time and checked at compile time.

constexpr std::array<std::string_view, 1024> kWordlist = {
#include "slip39_wordlist.inc"
};

constexpr bool WordlistIsWellFormed() {
  for (size_t i = 0; i < kWordlist.size(); ++i) {
    const std::string_view w = kWordlist[i];
    if (w.size() < 4 || w.size() > 8) return false;
    for (char c : w) {
      if (c < 'a' || c > 'z') return false;
    }
    if (i > 0 && !(kWordlist[i - 1] < w)) return false;  // sorted, hence unique
  }
  return true;
}
static_assert(WordlistIsWellFormed(), "SLIP-0039 word list must be 1024 sorted words of 4-8 a-z");

// Each word packed little-endian into a uint64_t (at most 8 letters, zero-filled), so a
// lookup is one XOR per word and a comparison never exits early.
constexpr std::array<uint64_t, 1024> PackWordlist() {
  std::array<uint64_t, 1024> packed{};
  for (size_t i = 0; i < kWordlist.size(); ++i) {
    for (size_t k = 0; k < kWordlist[i].size(); ++k) {
      packed[i] |= static_cast<uint64_t>(static_cast<uint8_t>(kWordlist[i][k])) << (8 * k);
    }
  }
  return packed;
}
constexpr std::array<uint64_t, 1024> kPackedWords = PackWordlist();

// 1 if a == b, else 0, without a data-dependent branch.
constexpr uint64_t EqualMask64(uint64_t a, uint64_t b) {
  const uint64_t d = a ^ b;
  return ((d | (0 - d)) >> 63) ^ 1;
}

// Index of `word` (case-insensitive), or -1. Scans every entry of the list.
int WordToIndex(std::string_view word) {
  if (word.size() < 4 || word.size() > 8) return -1;  // word lengths are public anyway
  uint64_t packed = 0;
  uint32_t non_letter = 0;
  for (size_t k = 0; k < word.size(); ++k) {
    uint8_t c = static_cast<uint8_t>(word[k]);
    const uint32_t upper = static_cast<uint8_t>(c - 'A') < 26;
    c = static_cast<uint8_t>(c | (upper << 5));
    non_letter |= static_cast<uint32_t>(static_cast<uint8_t>(c - 'a') >= 26);
    packed |= static_cast<uint64_t>(c) << (8 * k);
  }
  uint64_t index = 0;
  uint64_t found = 0;
  for (size_t i = 0; i < kPackedWords.size(); ++i) {
    const uint64_t eq = EqualMask64(packed, kPackedWords[i]);
    index |= static_cast<uint64_t>(i) & (0 - eq);
    found |= eq;
  }
  return (found & (non_letter ^ 1)) != 0 ? static_cast<int>(index) : -1;
}

// Appends the word for `index` (< 1024) to `out`. Scans every entry of the list.
void AppendWord(uint16_t index, std::string& out) {
  uint64_t packed = 0;
  for (size_t i = 0; i < kPackedWords.size(); ++i) {
    packed |= kPackedWords[i] & (0 - EqualMask64(i, index));
  }
  for (; packed != 0; packed >>= 8) out.push_back(static_cast<char>(packed & 0xFF));
}

// Word indices of one mnemonic: they encode share data, so they are wiped on destruction.
// Capacity is reserved up front so that no reallocation leaves an unwiped copy behind.
struct WordIndices {
  explicit WordIndices(size_t capacity) { v.reserve(capacity); }
  ~WordIndices() { SecureWipe(v.data(), v.capacity() * sizeof(uint16_t)); }
  WordIndices(const WordIndices&) = delete;
  WordIndices& operator=(const WordIndices&) = delete;
  std::vector<uint16_t> v;
};

// ---------------------------------------------------------------------------------------------
// SLIP-0039 §Checksum: RS1024 over GF(1024).

constexpr std::array<uint32_t, 10> kRs1024Generator = {
    0xE0E040,   0x1C1C080,  0x3838100,  0x7070200,  0xE0E0009,
    0x1C0C2412, 0x38086C24, 0x3090FC48, 0x21B1F890, 0x3F3F120};

uint32_t Rs1024Step(uint32_t chk, uint32_t value) {
  const uint32_t b = chk >> 20;
  chk = ((chk & 0xFFFFF) << kRadixBits) ^ value;
  for (int i = 0; i < 10; ++i) chk ^= kRs1024Generator[i] & (0u - ((b >> i) & 1u));
  return chk;
}

std::string_view CustomizationString(bool extendable) {
  return extendable ? kCustomizationExtendable : kCustomization;
}

// rs1024_polymod(cs || values [|| 0, 0, 0]).
uint32_t Rs1024Polymod(std::string_view cs, std::span<const uint16_t> values, int zero_words) {
  uint32_t chk = 1;
  for (char c : cs) chk = Rs1024Step(chk, static_cast<uint8_t>(c));
  for (uint16_t v : values) chk = Rs1024Step(chk, v);
  for (int i = 0; i < zero_words; ++i) chk = Rs1024Step(chk, 0);
  return chk;
}

// ---------------------------------------------------------------------------------------------
// GF(256) with the Rijndael polynomial x^8 + x^4 + x^3 + x + 1 (SLIP-0039 §Shamir's
// secret-sharing).

struct GfTables {
  std::array<uint8_t, 255> exp{};
  std::array<uint8_t, 256> log{};
};

// Powers of the generator 3 (x + 1).
constexpr GfTables MakeGfTables() {
  GfTables t;
  uint32_t poly = 1;
  for (uint32_t i = 0; i < 255; ++i) {
    t.exp[i] = static_cast<uint8_t>(poly);
    t.log[poly] = static_cast<uint8_t>(i);
    poly = (poly << 1) ^ poly;
    if (poly & 0x100) poly ^= 0x11B;
  }
  return t;
}
constexpr GfTables kGf = MakeGfTables();
static_assert(kGf.exp[1] == 3 && kGf.exp[254] == 0xF6 && kGf.log[3] == 1);

// Table-based product and quotient: for PUBLIC operands only (share x coordinates).
uint8_t GfMulPublic(uint8_t a, uint8_t b) {
  if (a == 0 || b == 0) return 0;
  return kGf.exp[(kGf.log[a] + kGf.log[b]) % 255];
}
uint8_t GfDivPublic(uint8_t a, uint8_t b) {  // REQUIRES: b != 0
  if (a == 0) return 0;
  return kGf.exp[(kGf.log[a] + 255 - kGf.log[b]) % 255];
}

// Constant-time product (shift and add, reduction by mask) for secret share bytes.
uint8_t GfMulSecret(uint8_t a, uint8_t b) {
  uint32_t x = a;
  uint32_t r = 0;
  for (int i = 0; i < 8; ++i) {
    r ^= x & (0u - ((b >> i) & 1u));
    x = (x << 1) ^ (0x11Bu & (0u - ((x >> 7) & 1u)));
  }
  return static_cast<uint8_t>(r);
}

struct Point {
  uint8_t x;
  ByteView y;
};

// SLIP-0039 §Polynomial interpolation: the value vector at `x` of the polynomial through
// `points`, by Lagrange's formula. The x coordinates must be pairwise distinct and the y
// vectors of equal length (callers check; a violation here is an internal error).
Result<SecretBytes> Interpolate(uint8_t x, std::span<const Point> points) {
  if (points.empty()) return Status::Internal("slip39: interpolation without points");
  const size_t n = points[0].y.size();
  for (size_t i = 0; i < points.size(); ++i) {
    if (points[i].y.size() != n) return Status::Internal("slip39: share lengths differ");
    for (size_t j = 0; j < i; ++j) {
      if (points[i].x == points[j].x) return Status::Internal("slip39: share indices repeat");
    }
  }
  for (const Point& p : points) {
    if (p.x == x) return SecretBytes::CopyFrom(p.y);
  }
  SecretBytes out(n);
  std::span<uint8_t> acc = out.RevealMutable();
  for (size_t i = 0; i < points.size(); ++i) {
    // basis_i(x) = prod_{j != i} (x - x_j) / (x_i - x_j); subtraction is XOR in GF(2^8).
    uint8_t basis = 1;
    for (size_t j = 0; j < points.size(); ++j) {
      if (j == i) continue;
      basis = GfMulPublic(basis, GfDivPublic(x ^ points[j].x, points[i].x ^ points[j].x));
    }
    for (size_t k = 0; k < n; ++k) acc[k] ^= GfMulSecret(points[i].y[k], basis);
  }
  return out;
}

// first 4 bytes of HMAC-SHA256(key = R, msg = S): SLIP-0039 §Sharing a secret, step 3.
std::array<uint8_t, kDigestBytes> ShareDigest(ByteView random_part, ByteView shared_secret) {
  Hash256 mac = HmacSha256(random_part, shared_secret);
  std::array<uint8_t, kDigestBytes> digest{};
  std::copy_n(mac.begin(), kDigestBytes, digest.begin());
  SecureWipe(mac.data(), mac.size());
  return digest;
}

// SLIP-0039 §Sharing a secret, SplitSecret(T, N, S): shares for indices 0..N-1.
// REQUIRES (checked by Split): 0 < T <= N <= 16, |S| >= 16.
Result<std::vector<SecretBytes>> SplitSecret(uint8_t threshold, uint8_t count, ByteView secret,
                                             Rng& rng) {
  std::vector<SecretBytes> shares;
  shares.reserve(count);
  if (threshold == 1) {
    for (uint8_t i = 0; i < count; ++i) shares.push_back(SecretBytes::CopyFrom(secret));
    return shares;
  }
  const size_t n = secret.size();
  // D = digest || R, stored at index 254; S at index 255.
  SecretBytes digest_share(n);
  std::span<uint8_t> d = digest_share.RevealMutable();
  rng.Fill(d.subspan(kDigestBytes));
  std::array<uint8_t, kDigestBytes> digest = ShareDigest(d.subspan(kDigestBytes), secret);
  std::copy(digest.begin(), digest.end(), d.begin());
  SecureWipe(digest.data(), digest.size());

  const uint8_t random_count = threshold - 2;
  for (uint8_t i = 0; i < random_count; ++i) shares.push_back(rng.RandomSecret(n));

  std::vector<Point> base;
  base.reserve(threshold);
  for (uint8_t i = 0; i < random_count; ++i) base.push_back({i, shares[i].Reveal()});
  base.push_back({kDigestIndex, digest_share.Reveal()});
  base.push_back({kSecretIndex, secret});
  for (uint8_t i = random_count; i < count; ++i) {
    MDL_ASSIGN_OR_RETURN(SecretBytes y, Interpolate(i, base));
    shares.push_back(std::move(y));
  }
  return shares;
}

// SLIP-0039 §Sharing a secret, RecoverSecret(T, shares), including the digest check.
Result<SecretBytes> RecoverSecret(uint8_t threshold, std::span<const Point> points) {
  if (threshold == 1) return SecretBytes::CopyFrom(points[0].y);
  MDL_ASSIGN_OR_RETURN(SecretBytes secret, Interpolate(kSecretIndex, points));
  MDL_ASSIGN_OR_RETURN(SecretBytes digest_share, Interpolate(kDigestIndex, points));
  const ByteView d = digest_share.Reveal();
  std::array<uint8_t, kDigestBytes> digest = ShareDigest(d.subspan(kDigestBytes), secret.Reveal());
  const bool ok = ConstantTimeEqual(digest, d.first(kDigestBytes));
  SecureWipe(digest.data(), digest.size());
  if (!ok) return Invalid("invalid digest of the shared secret (a share is wrong or forged)");
  return secret;
}

// ---------------------------------------------------------------------------------------------
// SLIP-0039 §Encryption of the master secret / §Decryption of the master secret: a four-round
// Feistel network with F(i, R) = PBKDF2-HMAC-SHA256(password = i || P, salt = salt_prefix || R,
// iterations = 2500 << e, dkLen = n/2), salt_prefix = "shamir" || id (2 bytes, big-endian)
// unless the extendable flag is set, in which case it is empty.

Result<SecretBytes> Feistel(ByteView input, std::string_view passphrase, uint8_t iteration_exponent,
                            uint16_t identifier, bool extendable, bool decrypt) {
  const size_t half = input.size() / 2;
  SecretBytes l = SecretBytes::CopyFrom(input.first(half));
  SecretBytes r = SecretBytes::CopyFrom(input.subspan(half));

  SecretBytes password(1 + passphrase.size());
  std::copy(passphrase.begin(), passphrase.end(), password.RevealMutable().begin() + 1);

  const size_t prefix_len = extendable ? 0 : kCustomization.size() + 2;
  SecretBytes salt(prefix_len + half);
  if (!extendable) {
    std::span<uint8_t> s = salt.RevealMutable();
    std::copy(kCustomization.begin(), kCustomization.end(), s.begin());
    s[kCustomization.size()] = static_cast<uint8_t>(identifier >> 8);
    s[kCustomization.size() + 1] = static_cast<uint8_t>(identifier & 0xFF);
  }
  const uint32_t iterations = (kBaseIterationCount << iteration_exponent) / kRoundCount;

  SecretBytes f(half);
  for (uint8_t step = 0; step < kRoundCount; ++step) {
    const uint8_t round = decrypt ? static_cast<uint8_t>(kRoundCount - 1 - step) : step;
    password.RevealMutable()[0] = round;
    std::copy(r.Reveal().begin(), r.Reveal().end(), salt.RevealMutable().begin() + prefix_len);
    if (PKCS5_PBKDF2_HMAC(reinterpret_cast<const char*>(password.Reveal().data()),
                          static_cast<int>(password.size()), salt.Reveal().data(),
                          static_cast<int>(salt.size()), static_cast<int>(iterations), EVP_sha256(),
                          static_cast<int>(half), f.RevealMutable().data()) != 1) {
      return Status::Internal("slip39: PBKDF2-HMAC-SHA256 failed");
    }
    // (L, R) = (R, L xor F(i, R))
    for (size_t k = 0; k < half; ++k) l.RevealMutable()[k] ^= f.Reveal()[k];
    std::swap(l, r);
  }
  // Output R || L.
  SecretBytes out(input.size());
  std::span<uint8_t> o = out.RevealMutable();
  std::copy(r.Reveal().begin(), r.Reveal().end(), o.begin());
  std::copy(l.Reveal().begin(), l.Reveal().end(), o.begin() + half);
  return out;
}

// ---------------------------------------------------------------------------------------------
// SLIP-0039 §Format of the share mnemonic.

struct ShareParams {
  uint16_t identifier;
  bool extendable;
  uint8_t iteration_exponent;
  uint8_t group_index;
  uint8_t group_threshold;  // actual values, 1..16
  uint8_t group_count;
  uint8_t member_index;
  uint8_t member_threshold;
};

// The mnemonic for one share. REQUIRES: parameters in range (checked by Split).
SecretString EncodeShare(const ShareParams& p, ByteView value) {
  const size_t value_words = (value.size() * 8 + kRadixBits - 1) / kRadixBits;
  const size_t total_words = kMetadataWords + value_words;
  WordIndices words(total_words);

  const uint32_t id_exp = (static_cast<uint32_t>(p.identifier) << (1 + kIterationExponentBits)) |
                          (static_cast<uint32_t>(p.extendable) << kIterationExponentBits) |
                          p.iteration_exponent;
  const uint32_t params = (static_cast<uint32_t>(p.group_index) << 16) |
                          (static_cast<uint32_t>(p.group_threshold - 1) << 12) |
                          (static_cast<uint32_t>(p.group_count - 1) << 8) |
                          (static_cast<uint32_t>(p.member_index) << 4) |
                          static_cast<uint32_t>(p.member_threshold - 1);
  words.v.push_back(static_cast<uint16_t>(id_exp >> kRadixBits));
  words.v.push_back(static_cast<uint16_t>(id_exp & 0x3FF));
  words.v.push_back(static_cast<uint16_t>(params >> kRadixBits));
  words.v.push_back(static_cast<uint16_t>(params & 0x3FF));

  // Big-endian bit stream, left-padded with zero bits to a multiple of 10. The padding bits
  // are implicitly the zero high bits of the accumulator.
  uint32_t acc = 0;
  int acc_bits = static_cast<int>(value_words * kRadixBits - value.size() * 8);
  for (uint8_t byte : value) {
    acc = (acc << 8) | byte;
    acc_bits += 8;
    if (acc_bits >= kRadixBits) {
      acc_bits -= kRadixBits;
      words.v.push_back(static_cast<uint16_t>((acc >> acc_bits) & 0x3FF));
      acc &= (1u << acc_bits) - 1;
    }
  }
  acc = 0;

  const uint32_t chk =
      Rs1024Polymod(CustomizationString(p.extendable), words.v, kChecksumWords) ^ 1;
  for (int i = kChecksumWords - 1; i >= 0; --i) {
    words.v.push_back(static_cast<uint16_t>((chk >> (kRadixBits * i)) & 0x3FF));
  }

  SecretString mnemonic;
  mnemonic.RevealMutable().reserve(total_words * 9);
  for (size_t i = 0; i < words.v.size(); ++i) {
    if (i != 0) mnemonic.RevealMutable().push_back(' ');
    AppendWord(words.v[i], mnemonic.RevealMutable());
  }
  return mnemonic;
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Parses one mnemonic. Errors carry only the reason (no "slip39: " prefix), so that Combine
// can say which mnemonic failed.
Result<DecodedShare> Decode(std::string_view mnemonic) {
  WordIndices words(mnemonic.size() / 2 + 1);
  size_t pos = 0;
  while (pos < mnemonic.size()) {
    if (IsSpace(mnemonic[pos])) {
      ++pos;
      continue;
    }
    size_t end = pos;
    while (end < mnemonic.size() && !IsSpace(mnemonic[end])) ++end;
    const int index = WordToIndex(mnemonic.substr(pos, end - pos));
    if (index < 0) {
      return Status::InvalidArgument("word " + std::to_string(words.v.size() + 1) +
                                     " is not in the SLIP-0039 word list");
    }
    words.v.push_back(static_cast<uint16_t>(index));
    pos = end;
  }

  // §Combining the shares, step 1: length, padding length, checksum, padding bits.
  const int word_count = static_cast<int>(words.v.size());
  if (word_count < kMinMnemonicWords) {
    return Status::InvalidArgument("invalid mnemonic length: " + std::to_string(word_count) +
                                   " words, at least " + std::to_string(kMinMnemonicWords) +
                                   " needed");
  }
  const int value_words = word_count - kMetadataWords;
  const int padding_bits = (kRadixBits * value_words) % 16;
  if (padding_bits > 8) {
    return Status::InvalidArgument("invalid mnemonic length: " + std::to_string(word_count) +
                                   " words do not encode a whole number of 16-bit units");
  }

  const uint32_t id_exp = (static_cast<uint32_t>(words.v[0]) << kRadixBits) | words.v[1];
  DecodedShare share;
  share.identifier = static_cast<uint16_t>(id_exp >> (1 + kIterationExponentBits));
  share.extendable = ((id_exp >> kIterationExponentBits) & 1) != 0;
  share.iteration_exponent = static_cast<uint8_t>(id_exp & ((1u << kIterationExponentBits) - 1));
  static_assert(kIdBits + 1 + kIterationExponentBits == kIdExpWords * kRadixBits);

  if (Rs1024Polymod(CustomizationString(share.extendable), words.v, 0) != 1) {
    return Status::InvalidArgument("invalid checksum");
  }

  const uint32_t params = (static_cast<uint32_t>(words.v[2]) << kRadixBits) | words.v[3];
  share.group_index = static_cast<uint8_t>((params >> 16) & 0xF);
  share.group_threshold = static_cast<uint8_t>(((params >> 12) & 0xF) + 1);
  share.group_count = static_cast<uint8_t>(((params >> 8) & 0xF) + 1);
  share.member_index = static_cast<uint8_t>((params >> 4) & 0xF);
  share.member_threshold = static_cast<uint8_t>((params & 0xF) + 1);
  if (share.group_threshold > share.group_count) {
    return Status::InvalidArgument("group threshold " + std::to_string(share.group_threshold) +
                                   " exceeds group count " + std::to_string(share.group_count));
  }

  const size_t value_bytes = static_cast<size_t>(kRadixBits * value_words - padding_bits) / 8;
  share.value = SecretBytes(value_bytes);
  std::span<uint8_t> out = share.value.RevealMutable();
  uint32_t acc = 0;
  int acc_bits = 0;
  uint32_t padding = 0;
  bool padding_read = false;
  size_t o = 0;
  for (int i = kIdExpWords + kShareParamsWords; i < word_count - kChecksumWords; ++i) {
    acc = (acc << kRadixBits) | words.v[i];
    acc_bits += kRadixBits;
    if (!padding_read) {  // padding_bits <= 8 < 10: all of it is in the first value word
      acc_bits -= padding_bits;
      padding = acc >> acc_bits;
      acc &= (1u << acc_bits) - 1;
      padding_read = true;
    }
    while (acc_bits >= 8) {
      acc_bits -= 8;
      out[o++] = static_cast<uint8_t>(acc >> acc_bits);
      acc &= (1u << acc_bits) - 1;
    }
  }
  acc = 0;
  if (padding != 0) return Status::InvalidArgument("invalid padding");
  return share;
}

bool IsPrintableAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 32 && c <= 126; });
}

std::string Num(size_t v) { return std::to_string(v); }

}  // namespace

Result<DecodedShare> DecodeShare(std::string_view mnemonic) {
  Result<DecodedShare> r = Decode(mnemonic);
  if (!r) return Invalid(r.error().message());
  return r;
}

Result<std::vector<std::vector<SecretString>>> Split(ByteView master_secret,
                                                     std::string_view passphrase,
                                                     uint8_t group_threshold,
                                                     const std::vector<GroupSpec>& groups, Rng& rng,
                                                     uint8_t iteration_exponent, bool extendable) {
  // §Format of the share mnemonic and §Sharing a secret: length constraints.
  if (master_secret.size() < kMinSecretBytes) {
    return Invalid("master secret must be at least 128 bits, got " + Num(master_secret.size() * 8));
  }
  if (master_secret.size() % 2 != 0) {
    return Invalid("master secret length must be a multiple of 16 bits, got " +
                   Num(master_secret.size() * 8));
  }
  // §Passphrase.
  if (!IsPrintableAscii(passphrase)) {
    return Invalid("passphrase must contain only printable ASCII characters (32-126)");
  }
  if (iteration_exponent > kMaxIterationExponent) {
    return Invalid("iteration exponent must be at most 15, got " + Num(iteration_exponent));
  }
  // §Notation and §Generating the shares, step 1.
  if (groups.empty() || groups.size() > kMaxShareCount) {
    return Invalid("group count must be 1..16, got " + Num(groups.size()));
  }
  if (group_threshold < 1 || group_threshold > groups.size()) {
    return Invalid("group threshold must be 1.." + Num(groups.size()) + ", got " +
                   Num(group_threshold));
  }
  for (size_t i = 0; i < groups.size(); ++i) {
    const GroupSpec& g = groups[i];
    if (g.member_count < 1 || g.member_count > kMaxShareCount) {
      return Invalid("group " + Num(i + 1) + ": member count must be 1..16, got " +
                     Num(g.member_count));
    }
    if (g.member_threshold < 1 || g.member_threshold > g.member_count) {
      return Invalid("group " + Num(i + 1) + ": member threshold must be 1.." +
                     Num(g.member_count) + ", got " + Num(g.member_threshold));
    }
    if (g.member_threshold == 1 && g.member_count > 1) {
      return Invalid("group " + Num(i + 1) +
                     ": member threshold 1 with more than one member is not allowed; use 1-of-1");
    }
  }

  // §Generating the shares, steps 2-6.
  std::array<uint8_t, 2> id_bytes{};
  rng.Fill(id_bytes);
  const uint16_t identifier =
      static_cast<uint16_t>(((id_bytes[0] << 8) | id_bytes[1]) & ((1u << kIdBits) - 1));

  MDL_ASSIGN_OR_RETURN(SecretBytes ems, Feistel(master_secret, passphrase, iteration_exponent,
                                                identifier, extendable, /*decrypt=*/false));
  MDL_ASSIGN_OR_RETURN(
      std::vector<SecretBytes> group_shares,
      SplitSecret(group_threshold, static_cast<uint8_t>(groups.size()), ems.Reveal(), rng));

  std::vector<std::vector<SecretString>> out(groups.size());
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    const GroupSpec& g = groups[gi];
    MDL_ASSIGN_OR_RETURN(
        std::vector<SecretBytes> member_shares,
        SplitSecret(g.member_threshold, g.member_count, group_shares[gi].Reveal(), rng));
    out[gi].reserve(member_shares.size());
    for (size_t mi = 0; mi < member_shares.size(); ++mi) {
      const ShareParams p{identifier,
                          extendable,
                          iteration_exponent,
                          static_cast<uint8_t>(gi),
                          group_threshold,
                          static_cast<uint8_t>(groups.size()),
                          static_cast<uint8_t>(mi),
                          g.member_threshold};
      out[gi].push_back(EncodeShare(p, member_shares[mi].Reveal()));
    }
  }
  return out;
}

Result<SecretBytes> Combine(const std::vector<std::string>& mnemonics,
                            std::string_view passphrase) {
  if (mnemonics.empty()) return Invalid("no mnemonics given");
  if (!IsPrintableAscii(passphrase)) {
    return Invalid("passphrase must contain only printable ASCII characters (32-126)");
  }

  // §Combining the shares, step 1: each share on its own.
  std::vector<DecodedShare> shares;
  shares.reserve(mnemonics.size());
  for (size_t i = 0; i < mnemonics.size(); ++i) {
    Result<DecodedShare> r = Decode(mnemonics[i]);
    if (!r) return Invalid("mnemonic " + Num(i + 1) + ": " + r.error().message());
    shares.push_back(std::move(r).value());
  }

  // Step 1: common parameters.
  const DecodedShare& first = shares[0];
  for (size_t i = 1; i < shares.size(); ++i) {
    const DecodedShare& s = shares[i];
    const std::string which = "mnemonics 1 and " + Num(i + 1);
    if (s.identifier != first.identifier) return Invalid(which + " have different identifiers");
    if (s.extendable != first.extendable) {
      return Invalid(which + " have different extendable-backup flags");
    }
    if (s.iteration_exponent != first.iteration_exponent) {
      return Invalid(which + " have different iteration exponents");
    }
    if (s.group_threshold != first.group_threshold) {
      return Invalid(which + " have different group thresholds");
    }
    if (s.group_count != first.group_count) return Invalid(which + " have different group counts");
    if (s.value.size() != first.value.size()) return Invalid(which + " have different lengths");
  }

  // Step 1: per group, one member threshold and distinct member indices.
  std::array<std::vector<const DecodedShare*>, kMaxShareCount> by_group;
  for (const DecodedShare& s : shares) {
    std::vector<const DecodedShare*>& members = by_group[s.group_index];
    for (const DecodedShare* m : members) {
      if (m->member_threshold != s.member_threshold) {
        return Invalid("shares of group " + Num(s.group_index + 1) +
                       " have different member thresholds");
      }
      if (m->member_index == s.member_index) {
        return Invalid("duplicate member " + Num(s.member_index + 1) + " in group " +
                       Num(s.group_index + 1));
      }
    }
    members.push_back(&s);
  }

  // Step 1: exactly GT groups, each with exactly T_i members.
  const size_t group_count = static_cast<size_t>(
      std::count_if(by_group.begin(), by_group.end(), [](const auto& g) { return !g.empty(); }));
  if (group_count < first.group_threshold) {
    return Invalid("insufficient number of groups: " + Num(group_count) + " given, " +
                   Num(first.group_threshold) + " needed");
  }
  if (group_count > first.group_threshold) {
    return Invalid("too many groups: " + Num(group_count) + " given, exactly " +
                   Num(first.group_threshold) + " needed");
  }
  for (size_t gi = 0; gi < by_group.size(); ++gi) {
    const auto& members = by_group[gi];
    if (members.empty()) continue;
    const size_t need = members[0]->member_threshold;
    if (members.size() < need) {
      return Invalid("insufficient number of shares in group " + Num(gi + 1) + ": " +
                     Num(members.size()) + " given, " + Num(need) + " needed");
    }
    if (members.size() > need) {
      return Invalid("too many shares in group " + Num(gi + 1) + ": " + Num(members.size()) +
                     " given, exactly " + Num(need) + " needed");
    }
  }

  // Steps 2-3: the group shares, then the encrypted master secret.
  std::vector<SecretBytes> group_shares;
  group_shares.reserve(first.group_threshold);
  std::vector<Point> group_points;
  group_points.reserve(first.group_threshold);
  for (size_t gi = 0; gi < by_group.size(); ++gi) {
    const auto& members = by_group[gi];
    if (members.empty()) continue;
    std::vector<Point> points;
    points.reserve(members.size());
    for (const DecodedShare* m : members) points.push_back({m->member_index, m->value.Reveal()});
    MDL_ASSIGN_OR_RETURN(SecretBytes gs, RecoverSecret(members[0]->member_threshold, points));
    group_shares.push_back(std::move(gs));
    group_points.push_back({static_cast<uint8_t>(gi), group_shares.back().Reveal()});
  }
  MDL_ASSIGN_OR_RETURN(SecretBytes ems, RecoverSecret(first.group_threshold, group_points));

  // Step 4.
  return Feistel(ems.Reveal(), passphrase, first.iteration_exponent, first.identifier,
                 first.extendable, /*decrypt=*/true);
}

}  // namespace medallion::wallet::slip39
