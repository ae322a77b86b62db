// SLIP-0039 Shamir's Secret-Sharing for Mnemonic Codes: split a master secret into groups of
// mnemonic shares and combine a quorum back. PLACEHOLDER interface; being written.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "medallion/core/bytes.h"
#include "medallion/core/env.h"
#include "medallion/core/secret.h"
#include "medallion/core/status.h"

namespace medallion::wallet::slip39 {

// One group: `member_threshold` of `member_count` shares restore the group's share.
struct GroupSpec {
  uint8_t member_threshold = 1;
  uint8_t member_count = 1;
};

// SLIP-39 "Generating and combining the shares": encrypts `master_secret` (16..32 bytes, even
// length: 128-256 bits, a multiple of 16 bits) with `passphrase` (printable ASCII) and splits
// it into `groups`, of which `group_threshold` must be present. Returns one vector of
// mnemonics per group. `extendable` sets the extendable-backup flag; `iteration_exponent`
// (0..15) sets the PBKDF2 cost. Errors: invalid_argument for any parameter out of range.
Result<std::vector<std::vector<SecretString>>> Split(ByteView master_secret, std::string_view passphrase,
                                                     uint8_t group_threshold, const std::vector<GroupSpec>& groups,
                                                     Rng& rng, uint8_t iteration_exponent = 1,
                                                     bool extendable = true);

// Combines mnemonics (any order) and decrypts with `passphrase`. Errors: invalid_argument
// with a reason (bad checksum, unknown word, invalid padding, mismatched identifiers, too few
// shares or groups, digest mismatch, ...).
Result<SecretBytes> Combine(const std::vector<std::string>& mnemonics, std::string_view passphrase);

}  // namespace medallion::wallet::slip39
