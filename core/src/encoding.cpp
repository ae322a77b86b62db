// Strict encoders and decoders: hex, base58btc, base64(url), multibase, varint, multicodec.
#include "medallion/core/encoding.h"

#include <algorithm>
#include <array>

#include "medallion/core/hash.h"
#include "medallion/core/secret.h"

namespace medallion {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kBase58Alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kBase64UrlAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::array<int8_t, 256> ReverseTable(const char* alphabet) {
  std::array<int8_t, 256> t;
  t.fill(-1);
  for (int i = 0; alphabet[i] != '\0'; ++i)
    t[static_cast<uint8_t>(alphabet[i])] = static_cast<int8_t>(i);
  return t;
}

std::string Base64EncodeWith(ByteView data, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8) | data[i + 2];
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  size_t rest = data.size() - i;
  if (rest == 1) {
    uint32_t v = uint32_t{data[i]} << 16;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    if (pad) out += "==";
  } else if (rest == 2) {
    uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    if (pad) out += '=';
  }
  return out;
}

// Decodes unpadded base64 text in `alphabet`; rejects a 1-mod-4 length and non-zero
// trailing bits so that every byte string has exactly one accepted encoding.
Result<Bytes> Base64DecodeUnpadded(std::string_view text, const std::array<int8_t, 256>& rev,
                                   const char* what) {
  if (text.size() % 4 == 1)
    return Status::InvalidArgument(std::string(what) + ": impossible length");
  Bytes out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = rev[static_cast<uint8_t>(c)];
    if (v < 0)
      return Status::InvalidArgument(std::string(what) + ": character outside the alphabet");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>((acc >> bits) & 0xff));
    }
  }
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) {
    return Status::InvalidArgument(std::string(what) + ": non-zero trailing bits (non-canonical)");
  }
  return out;
}

}  // namespace

bool ConstantTimeEqual(ByteView a, ByteView b);  // defined in secret.cpp

std::string HexEncode(ByteView data) {
  std::string out;
  out.reserve(data.size() * 2);
  for (uint8_t b : data) {
    out += kHexDigits[b >> 4];
    out += kHexDigits[b & 15];
  }
  return out;
}

Result<Bytes> HexDecode(std::string_view text) {
  if (text.size() % 2 != 0) return Status::InvalidArgument("hex: odd length");
  Bytes out(text.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = HexValue(text[2 * i]);
    int lo = HexValue(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return Status::InvalidArgument("hex: non-hex character");
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

// The base58 functions carry extended private keys (xprv), so every intermediate buffer is
// wiped before it is freed (ScopedWipe), and buffers are sized up front so that no reallocation
// leaves a copy behind.
std::string Base58Encode(ByteView data) {
  size_t zeros = 0;
  while (zeros < data.size() && data[zeros] == 0) ++zeros;
  // The number in limbs of 58^5 (least significant first), fed 32 bits at a time: a limb times
  // 2^32 plus a carry stays below 2^64, and each pass touches a limb per five digits instead of a
  // digit per byte (the schoolbook loop was most of a Data Integrity signature's encoding).
  constexpr uint64_t kLimb = 58ull * 58 * 58 * 58 * 58;
  const size_t digits_max = (data.size() - zeros) * 138 / 100 + 1;  // log(256)/log(58) ≈ 1.365
  std::vector<uint64_t> limbs;
  limbs.reserve(digits_max / 5 + 2);  // never reallocated: the one buffer is wiped
  ScopedWipe wipe_limbs(limbs);
  auto feed = [&](uint64_t multiplier, uint64_t value) {
    uint64_t carry = value;
    for (uint64_t& l : limbs) {
      const uint64_t v = l * multiplier + carry;
      l = v % kLimb;
      carry = v / kLimb;
    }
    while (carry != 0) {
      limbs.push_back(carry % kLimb);
      carry /= kLimb;
    }
  };
  size_t i = zeros;
  if (const size_t head = (data.size() - zeros) % 4; head != 0) {
    uint64_t v = 0;
    for (size_t k = 0; k < head; ++k) v = (v << 8) | data[i++];
    feed(uint64_t{1} << (8 * head), v);
  }
  for (; i < data.size(); i += 4) {
    const uint64_t v = (uint64_t{data[i]} << 24) | (uint64_t{data[i + 1]} << 16) |
                       (uint64_t{data[i + 2]} << 8) | uint64_t{data[i + 3]};
    feed(uint64_t{1} << 32, v);
  }
  std::string out(zeros + limbs.size() * 5, '1');
  size_t end = out.size();  // digits from the least significant, right to left
  for (const uint64_t limb : limbs) {
    uint64_t l = limb;
    for (int d = 0; d < 5; ++d) {
      out[--end] = kBase58Alphabet[l % 58];
      l /= 58;
    }
  }
  // The most significant limb's leading zero digits are not digits of the number.
  size_t first = zeros;
  while (first < out.size() && out[first] == '1') ++first;
  out.erase(zeros, first - zeros);
  return out;
}

Result<Bytes> Base58Decode(std::string_view text) {
  static const auto rev = ReverseTable(kBase58Alphabet);
  size_t zeros = 0;
  while (zeros < text.size() && text[zeros] == '1') ++zeros;
  std::vector<uint8_t> b256((text.size() - zeros) * 733 / 1000 + 1, 0);
  ScopedWipe wipe_b256(b256);
  size_t length = 0;
  for (size_t i = zeros; i < text.size(); ++i) {
    int carry = rev[static_cast<uint8_t>(text[i])];
    if (carry < 0) return Status::InvalidArgument("base58: character outside the alphabet");
    size_t j = 0;
    for (auto it = b256.rbegin(); (carry != 0 || j < length) && it != b256.rend(); ++it, ++j) {
      carry += 58 * (*it);
      *it = static_cast<uint8_t>(carry % 256);
      carry /= 256;
    }
    length = j;
  }
  Bytes out;
  out.reserve(zeros + length);
  out.assign(zeros, 0);
  out.insert(out.end(), b256.end() - static_cast<std::ptrdiff_t>(length), b256.end());
  return out;
}

std::string Base58CheckEncode(ByteView payload) {
  Hash256 check = Sha256d(payload);
  Bytes full;
  full.reserve(payload.size() + 4);
  ScopedWipe wipe_full(full);
  full.assign(payload.begin(), payload.end());
  full.insert(full.end(), check.begin(), check.begin() + 4);
  return Base58Encode(full);
}

// The decoded payload is returned in a plain vector: callers holding secrets (ParseExtendedKey)
// copy it into SecretBytes and wipe it.
Result<Bytes> Base58CheckDecode(std::string_view text) {
  MDL_ASSIGN_OR_RETURN(Bytes full, Base58Decode(text));
  ScopedWipe wipe_full(full);
  if (full.size() < 4) return Status::InvalidArgument("base58check: too short");
  ByteView payload(full.data(), full.size() - 4);
  Hash256 check = Sha256d(payload);
  if (!std::equal(check.begin(), check.begin() + 4, full.end() - 4)) {
    return Status::InvalidArgument("base58check: invalid checksum");
  }
  return Bytes(payload.begin(), payload.end());
}

std::string Base64UrlEncode(ByteView data) {
  return Base64EncodeWith(data, kBase64UrlAlphabet, false);
}

Result<Bytes> Base64UrlDecode(std::string_view text) {
  static const auto rev = ReverseTable(kBase64UrlAlphabet);
  return Base64DecodeUnpadded(text, rev, "base64url");
}

std::string Base64Encode(ByteView data) { return Base64EncodeWith(data, kBase64Alphabet, true); }

Result<Bytes> Base64Decode(std::string_view text) {
  static const auto rev = ReverseTable(kBase64Alphabet);
  if (text.size() % 4 != 0) return Status::InvalidArgument("base64: length not a multiple of 4");
  size_t pad = 0;
  while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
  return Base64DecodeUnpadded(text.substr(0, text.size() - pad), rev, "base64");
}

std::string MultibaseEncode(Multibase base, ByteView data) {
  switch (base) {
    case Multibase::kBase58Btc:
      return "z" + Base58Encode(data);
    case Multibase::kBase64Url:
      return "u" + Base64UrlEncode(data);
  }
  Panic("unknown multibase");
}

Result<Bytes> MultibaseDecode(std::string_view text) {
  if (text.empty()) return Status::InvalidArgument("multibase: empty");
  switch (text[0]) {
    case 'z':
      return Base58Decode(text.substr(1));
    case 'u':
      return Base64UrlDecode(text.substr(1));
    default:
      return Status::InvalidArgument("multibase: unsupported base prefix");
  }
}

Bytes VarintEncode(uint64_t value) {
  Bytes out;
  do {
    uint8_t b = value & 0x7f;
    value >>= 7;
    if (value != 0) b |= 0x80;
    out.push_back(b);
  } while (value != 0);
  return out;
}

Result<uint64_t> VarintDecode(ByteView data, size_t* consumed) {
  uint64_t value = 0;
  // multiformats unsigned-varint: at most 9 bytes (63 bits), minimal encoding.
  for (size_t i = 0; i < data.size() && i < 9; ++i) {
    uint8_t b = data[i];
    value |= uint64_t{b & 0x7fu} << (7 * i);
    if ((b & 0x80) == 0) {
      if (i > 0 && b == 0) return Status::InvalidArgument("varint: not minimally encoded");
      *consumed = i + 1;
      return value;
    }
  }
  return Status::InvalidArgument(data.size() < 9 ? "varint: truncated"
                                                 : "varint: longer than 9 bytes");
}

Bytes MulticodecWrap(uint64_t code, ByteView key) {
  Bytes out = VarintEncode(code);
  out.insert(out.end(), key.begin(), key.end());
  return out;
}

Result<MulticodecValue> MulticodecUnwrap(ByteView data) {
  size_t n = 0;
  MDL_ASSIGN_OR_RETURN(uint64_t code, VarintDecode(data, &n));
  return MulticodecValue{code, Bytes(data.begin() + static_cast<std::ptrdiff_t>(n), data.end())};
}

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace medallion
