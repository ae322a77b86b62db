// Fuzz target: BIP-39 mnemonics (wallet/bip39.h). The input as a mnemonic: NFKD normalization,
// validation and entropy recovery (a valid mnemonic's entropy must encode back to a mnemonic that
// validates to the same entropy), and seed derivation for valid ones (PBKDF2, 2048 rounds); the
// input's first bytes as entropy must make a mnemonic that validates.
#include <algorithm>

#include "fuzz_util.h"
#include "medallion/wallet/bip39.h"

using namespace medallion;
using namespace medallion::wallet::bip39;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  const std::string_view text = fuzz::AsView(data, size);
  (void)NormalizeNfkd(text);
  const Status valid = ValidateMnemonic(text);
  auto entropy = MnemonicToEntropy(text);
  MDL_FUZZ_CHECK(valid.ok() == entropy.has_value());
  if (entropy) {
    auto words = MnemonicFromEntropy(entropy->Reveal());
    MDL_FUZZ_CHECK(words.has_value());
    auto back = MnemonicToEntropy(words->Reveal());
    MDL_FUZZ_CHECK(back.has_value());
    MDL_FUZZ_CHECK(std::ranges::equal(back->Reveal(), entropy->Reveal()));
    (void)MnemonicToSeed(text, "TREZOR");
  }
  for (size_t n : {16, 20, 24, 28, 32}) {
    if (size < n) break;
    auto words = MnemonicFromEntropy(ByteView(data, n));
    MDL_FUZZ_CHECK(words.has_value());
    MDL_FUZZ_CHECK(ValidateMnemonic(words->Reveal()).ok());
  }
  return 0;
}
