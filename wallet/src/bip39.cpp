// BIP-39 mnemonic codes (bitcoin/bips bip-0039.mediawiki).
#include "medallion/wallet/bip39.h"

#include <utf8proc.h>

#include <algorithm>
#include <cstdlib>

#include "medallion/core/hash.h"

namespace medallion::wallet::bip39 {
namespace {

constexpr const char* kEnglish[] = {
#include "bip39_english.inc"
};
static_assert(sizeof(kEnglish) / sizeof(kEnglish[0]) == 2048,
              "BIP-39 wordlist must have 2048 words");

int WordIndex(std::string_view word) {
  const auto& list = EnglishWordlist();
  auto it = std::lower_bound(list.begin(), list.end(), word);  // the English list is sorted
  if (it == list.end() || *it != word) return -1;
  return static_cast<int>(it - list.begin());
}

// Splits on runs of ASCII spaces (after NFKD, the ideographic space becomes U+0020).
std::vector<std::string_view> SplitWords(std::string_view s) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
    size_t j = i;
    while (j < s.size() && !(s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r')) ++j;
    if (j > i) words.push_back(s.substr(i, j - i));
    i = j;
  }
  return words;
}

}  // namespace

const std::vector<std::string_view>& EnglishWordlist() {
  static const std::vector<std::string_view> list(std::begin(kEnglish), std::end(kEnglish));
  return list;
}

Result<SecretString> NormalizeNfkd(std::string_view text) {
  utf8proc_uint8_t* out = nullptr;
  utf8proc_ssize_t n = utf8proc_map(
      reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
      static_cast<utf8proc_ssize_t>(text.size()), &out,
      static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_DECOMPOSE));
  if (n < 0) return Status::InvalidArgument("text is not valid UTF-8");
  SecretString result(std::string(reinterpret_cast<char*>(out), static_cast<size_t>(n)));
  SecureWipe(out, static_cast<size_t>(n));
  std::free(out);
  return result;
}

Result<SecretString> MnemonicFromEntropy(ByteView entropy) {
  const size_t ent_bits = entropy.size() * 8;
  if (ent_bits < 128 || ent_bits > 256 || ent_bits % 32 != 0) {
    return Status::InvalidArgument("bip39: entropy must be 128, 160, 192, 224 or 256 bits");
  }
  const size_t cs_bits = ent_bits / 32;
  Hash256 h = Sha256(entropy);
  // ENT || CS as a bit string, read 11 bits at a time.
  auto bit = [&](size_t i) -> int {
    if (i < ent_bits) return (entropy[i / 8] >> (7 - i % 8)) & 1;
    size_t j = i - ent_bits;
    return (h[j / 8] >> (7 - j % 8)) & 1;
  };
  const size_t words = (ent_bits + cs_bits) / 11;
  std::string out;
  out.reserve(words * 9);
  for (size_t w = 0; w < words; ++w) {
    int idx = 0;
    for (size_t b = 0; b < 11; ++b) idx = (idx << 1) | bit(w * 11 + b);
    if (w > 0) out += ' ';
    out += kEnglish[idx];
  }
  SecureWipe(h.data(), h.size());
  return SecretString(std::move(out));
}

Result<SecretString> GenerateMnemonic(Rng& rng, int entropy_bits) {
  if (entropy_bits < 128 || entropy_bits > 256 || entropy_bits % 32 != 0) {
    return Status::InvalidArgument("bip39: entropy must be 128, 160, 192, 224 or 256 bits");
  }
  SecretBytes entropy = rng.RandomSecret(static_cast<size_t>(entropy_bits / 8));
  return MnemonicFromEntropy(entropy.Reveal());
}

Result<SecretBytes> MnemonicToEntropy(std::string_view mnemonic) {
  MDL_ASSIGN_OR_RETURN(SecretString norm, NormalizeNfkd(mnemonic));
  std::vector<std::string_view> words = SplitWords(norm.Reveal());
  const size_t n = words.size();
  if (n < 12 || n > 24 || n % 3 != 0) {
    return Status::InvalidArgument("bip39: a mnemonic has 12, 15, 18, 21 or 24 words, got " +
                                   std::to_string(n));
  }
  const size_t total_bits = n * 11;
  const size_t cs_bits = total_bits / 33;
  const size_t ent_bits = total_bits - cs_bits;
  std::vector<uint8_t> bits(total_bits);
  for (size_t w = 0; w < n; ++w) {
    int idx = WordIndex(words[w]);
    if (idx < 0)
      return Status::InvalidArgument("bip39: word " + std::to_string(w + 1) +
                                     " is not in the wordlist");
    for (size_t b = 0; b < 11; ++b) bits[w * 11 + b] = static_cast<uint8_t>((idx >> (10 - b)) & 1);
  }
  SecretBytes entropy(ent_bits / 8);
  auto ent = entropy.RevealMutable();
  for (size_t i = 0; i < ent_bits; ++i)
    ent[i / 8] = static_cast<uint8_t>(ent[i / 8] | (bits[i] << (7 - i % 8)));
  Hash256 h = Sha256(entropy.Reveal());
  bool ok = true;
  for (size_t i = 0; i < cs_bits; ++i)
    ok &= (((h[i / 8] >> (7 - i % 8)) & 1) == bits[ent_bits + i]);
  SecureWipe(bits.data(), bits.size());
  SecureWipe(h.data(), h.size());
  if (!ok) return Status::InvalidArgument("bip39: checksum mismatch");
  return entropy;
}

Status ValidateMnemonic(std::string_view mnemonic) {
  auto r = MnemonicToEntropy(mnemonic);
  return r.status();
}

Result<SecretBytes> MnemonicToSeed(std::string_view mnemonic, std::string_view passphrase) {
  MDL_ASSIGN_OR_RETURN(SecretString m, NormalizeNfkd(mnemonic));
  MDL_ASSIGN_OR_RETURN(SecretString p, NormalizeNfkd(passphrase));
  // BIP-39 hashes the NFKD sentence exactly as given; callers that accept user input
  // re-encode it canonically first (MnemonicFromEntropy(MnemonicToEntropy(x))).
  const SecretString& sentence = m;
  SecretString salt("mnemonic" + p.Reveal());
  return Pbkdf2HmacSha512(AsBytes(sentence.Reveal()), AsBytes(salt.Reveal()), 2048, 64);
}

}  // namespace medallion::wallet::bip39
