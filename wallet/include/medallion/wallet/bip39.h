// BIP-39 mnemonic codes: generation, validation, entropy recovery and seed derivation.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "medallion/core/bytes.h"
#include "medallion/core/env.h"
#include "medallion/core/secret.h"
#include "medallion/core/status.h"

namespace medallion::wallet::bip39 {

// The 2048-word English list (BIP-39 "Wordlist"), in order.
const std::vector<std::string_view>& EnglishWordlist();

// BIP-39 §"Generating the mnemonic": entropy of 16, 20, 24, 28 or 32 bytes → 12..24 words.
// Errors: invalid_argument for any other length.
Result<SecretString> MnemonicFromEntropy(ByteView entropy);

// Fresh random mnemonic from `entropy_bits` (128, 160, 192, 224 or 256) bits of `rng`.
Result<SecretString> GenerateMnemonic(Rng& rng, int entropy_bits);

// Checks word count, that every word is in the list and the checksum. Words are separated
// by single ASCII spaces after NFKD normalization; leading/trailing whitespace is ignored.
// Errors: invalid_argument naming the problem ("unknown word 5", "bad checksum", ...).
Status ValidateMnemonic(std::string_view mnemonic);

// The entropy encoded by a valid mnemonic. Errors as ValidateMnemonic.
Result<SecretBytes> MnemonicToEntropy(std::string_view mnemonic);

// BIP-39 §"From mnemonic to seed": PBKDF2-HMAC-SHA512(NFKD(mnemonic), "mnemonic" ||
// NFKD(passphrase), 2048) → 64 bytes. The mnemonic is not validated here (BIP-39 allows
// seeds from any sentence); callers validate first. Errors: invalid_argument if either
// string is not valid UTF-8.
Result<SecretBytes> MnemonicToSeed(std::string_view mnemonic, std::string_view passphrase);

// Unicode NFKD normalization (utf8proc). Errors: invalid_argument for invalid UTF-8.
Result<SecretString> NormalizeNfkd(std::string_view text);

}  // namespace medallion::wallet::bip39
