// C2SP tlog-checkpoint (c2sp.org/tlog-checkpoint), tlog-cosignature/1.0 witness
// cosignatures (c2sp.org/tlog-cosignature) and a "k of n named witnesses" policy.
//
// A checkpoint is the text of a signed note: origin line, decimal tree size, base64 root
// hash, then optional non-empty extension lines. A v1 cosignature is an Ed25519 signature
// (signature type 0x04) over "cosignature/v1\ntime <t>\n" || checkpoint text, carried as
// base64(key ID || u64 big-endian t || signature).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "medallion/core/status.h"
#include "medallion/ledger/merkle.h"
#include "medallion/ledger/signed_note.h"

namespace medallion::ledger {

inline constexpr size_t kMaxCheckpointBytes = 16 * 1024;

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Hash root{};
  std::vector<std::string> extensions;  // lines after the root hash, without newlines

  // The note text: "<origin>\n<size>\n<base64 root>\n" + one line per extension.
  std::string ToText() const;
  bool operator==(const Checkpoint&) const = default;
};

// Parses checkpoint note text. invalid_argument if: fewer than three lines, an empty origin,
// a size that is not canonical decimal (no sign, no leading zeros) or exceeds 2^63-1, a root
// that is not base64 of 32 bytes, an empty extension line, no final newline, not UTF-8 or
// control characters.
Result<Checkpoint> ParseCheckpoint(std::string_view text);

// A witness public key for cosignature/v1 (signature type 0x04).
class CosignatureV1Verifier final : public NoteVerifier {
 public:
  // REQUIRES: IsValidNoteKeyName(name), public_key is 32 bytes.
  CosignatureV1Verifier(std::string name, ByteView public_key);
  // "<name>+<hex id>+base64(0x04 || key)"; invalid_argument if malformed or of another type.
  static Result<CosignatureV1Verifier> FromVerifierKey(std::string_view vkey);

  const std::string& name() const override { return name_; }
  uint32_t key_id() const override { return key_id_; }
  // `signature` is u64 timestamp || Ed25519 signature, over the cosigned message.
  bool Verify(std::string_view text, ByteView signature) const override;
  std::string VerifierKey() const;
  const Bytes& public_key() const { return public_key_; }

 private:
  std::string name_;
  Bytes public_key_;
  uint32_t key_id_;
};

// A witness signing key. Not copyable.
class CosignatureV1Signer {
 public:
  // REQUIRES: IsValidNoteKeyName(name), seed is 32 bytes.
  static CosignatureV1Signer FromSeed(std::string name, ByteView seed);
  static CosignatureV1Signer Generate(std::string name, Rng& rng);
  const std::string& name() const { return inner_.name(); }
  uint32_t key_id() const { return key_id_; }
  CosignatureV1Verifier Verifier() const { return {inner_.name(), inner_.public_key()}; }
  // "— <name> base64(id || timestamp || sig)\n" over `checkpoint_text` at `timestamp` (POSIX
  // seconds). REQUIRES: timestamp <= 2^63-1.
  std::string SignatureLine(std::string_view checkpoint_text, uint64_t timestamp) const;

 private:
  explicit CosignatureV1Signer(Ed25519NoteSigner inner);
  Ed25519NoteSigner inner_;  // the same Ed25519 key, used over the cosigned message
  uint32_t key_id_;
};

// "cosignature/v1\ntime <t>\n" || checkpoint_text (tlog-cosignature §Ed25519 signed message).
std::string CosignedMessage(std::string_view checkpoint_text, uint64_t timestamp);
// The timestamp of a cosignature line's payload (first 8 bytes). invalid_argument if short.
Result<uint64_t> CosignatureTimestamp(const NoteSignature& signature);

// "Accept a checkpoint only with k of n named witness cosignatures."
struct WitnessPolicy {
  std::vector<CosignatureV1Verifier> witnesses;
  size_t threshold = 0;

  // Counts the distinct policy witnesses whose cosignature on `note.text` verifies.
  // OK if at least `threshold`; unauthenticated if fewer, or if a policy witness's
  // cosignature fails to verify (a forged cosignature spoils the note).
  Status Check(const VerifiedNote& note) const;
};

struct VerifiedCheckpoint {
  Checkpoint checkpoint;
  std::string note;                    // the whole signed note as received
  std::vector<std::string> witnesses;  // the policy witnesses that cosigned
};

// Verifies a checkpoint note against the log's Ed25519 note key (typed, so that a witness
// cosignature can never stand in for the log's signature), checks that the origin is `origin`,
// parses it and applies `policy` (nullptr: no witnesses required). invalid_argument for malformed
// notes or checkpoints, unauthenticated for missing or bad signatures, failed_precondition
// for a wrong origin.
Result<VerifiedCheckpoint> OpenCheckpoint(std::string_view note, const Ed25519NoteVerifier& log_key,
                                          std::string_view origin, const WitnessPolicy* policy);

}  // namespace medallion::ledger
