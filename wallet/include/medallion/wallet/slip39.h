// SLIP-0039 Shamir's Secret-Sharing for Mnemonic Codes: split a master secret into groups of
// mnemonic shares and combine a quorum back (two-level scheme, RS1024 checksum, Feistel
// encryption with PBKDF2-HMAC-SHA256, extendable-backup flag).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "medallion/core/bytes.h"
#include "medallion/core/env.h"
#include "medallion/core/secret.h"
#include "medallion/core/status.h"

namespace medallion::wallet::slip39 {

// SLIP-0039 §Notation: at most 16 groups and 16 members per group.
inline constexpr uint8_t kMaxShareCount = 16;
// SLIP-0039 §Format of the share mnemonic: the iteration exponent is a 4-bit field.
inline constexpr uint8_t kMaxIterationExponent = 15;
// SLIP-0039 §Format of the share mnemonic: the master secret is at least 128 bits.
inline constexpr size_t kMinSecretBytes = 16;

// One group: `member_threshold` of `member_count` shares restore the group's share.
struct GroupSpec {
  uint8_t member_threshold = 1;
  uint8_t member_count = 1;
};

// SLIP-0039 §Generating the shares: encrypts `master_secret` (at least 16 bytes, even length,
// i.e. at least 128 bits and a multiple of 16 bits; 16 and 32 bytes are the lengths every
// implementation must support, BIP-32 seeds may be up to 64) with `passphrase` (printable
// ASCII, code points 32..126) and splits it into `groups`, of which `group_threshold` must be
// present. Returns one vector of mnemonics per group, in group order, members in index order.
// `extendable` sets the extendable-backup flag; `iteration_exponent` (0..15) sets the PBKDF2
// cost (10000 << e iterations in total). All randomness comes from `rng`.
// Errors: invalid_argument ("slip39: <reason>") for any parameter out of range, including a
// group with member threshold 1 and more than one member (forbidden by §Generating the shares).
// Thread-safe if `rng` is.
Result<std::vector<std::vector<SecretString>>> Split(ByteView master_secret,
                                                     std::string_view passphrase,
                                                     uint8_t group_threshold,
                                                     const std::vector<GroupSpec>& groups, Rng& rng,
                                                     uint8_t iteration_exponent = 1,
                                                     bool extendable = true);

// SLIP-0039 §Combining the shares: combines mnemonics (any order, words separated by ASCII
// whitespace, case-insensitive) and decrypts with `passphrase`. Exactly the group threshold
// of groups must be present, each with exactly its member threshold of distinct members, as
// the spec requires. A wrong passphrase is not detectable and yields a different secret.
// Errors: invalid_argument with a reason ("slip39: mnemonic 2: invalid checksum", unknown
// word, invalid padding, mismatched identifiers, too few shares or groups, digest mismatch,
// non-ASCII passphrase, ...). Reasons never contain words of the mnemonics. Thread-safe.
Result<SecretBytes> Combine(const std::vector<std::string>& mnemonics, std::string_view passphrase);

// One parsed share mnemonic (SLIP-0039 §Format of the share mnemonic), with thresholds and
// counts decoded to their actual values (the mnemonic stores them minus one).
struct DecodedShare {
  uint16_t identifier = 0;  // 15 bits
  bool extendable = false;
  uint8_t iteration_exponent = 0;  // 0..15
  uint8_t group_index = 0;         // 0..15, the x coordinate of the group share
  uint8_t group_threshold = 1;     // 1..16
  uint8_t group_count = 1;         // 1..16, >= group_threshold
  uint8_t member_index = 0;        // 0..15, the x coordinate of the member share
  uint8_t member_threshold = 1;    // 1..16
  SecretBytes value;               // the share value without padding
};

// Parses and checks one mnemonic (word list, length, padding, RS1024 checksum, group
// threshold <= group count) without combining it. For displaying share metadata and for
// early feedback while a user types shares. Errors: invalid_argument ("slip39: <reason>").
Result<DecodedShare> DecodeShare(std::string_view mnemonic);

}  // namespace medallion::wallet::slip39
