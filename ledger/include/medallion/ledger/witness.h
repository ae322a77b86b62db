// The witness side of C2SP tlog-witness (add-checkpoint) and the client-side verifier.
//
// Witness::AddCheckpoint takes the request body of POST /add-checkpoint, checks the log's
// signature and the consistency proof from the size the witness last cosigned, persists the
// new size atomically (compare-and-set per origin) and returns a cosignature/v1 line.
// LogVerifier is what a client keeps: a pinned log key, a witness policy and the last
// trusted checkpoint; it refuses rollbacks and split views.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "medallion/core/env.h"
#include "medallion/core/status.h"
#include "medallion/ledger/checkpoint.h"
#include "medallion/ledger/merkle.h"
#include "medallion/ledger/signed_note.h"
#include "medallion/ledger/store.h"

namespace medallion::ledger {

// The body of an add-checkpoint request: "old <size>\n", one base64 proof hash per line, an
// empty line, then the signed checkpoint note.
struct AddCheckpointRequest {
  uint64_t old_size = 0;
  Proof proof;
  std::string note;
};
Result<AddCheckpointRequest> ParseAddCheckpointRequest(std::string_view body);
std::string FormatAddCheckpointRequest(const AddCheckpointRequest& request);

// Outcome of AddCheckpoint, with the tlog-witness HTTP status each error stands for:
//   invalid_argument    400  malformed body, or old size > checkpoint size
//   not_found           404  unknown origin
//   unauthenticated     403  the log's signature does not verify
//   already_exists      409  old size is not the size last cosigned (see *current_size), or
//                            the same size as last cosigned with a different root
//   failed_precondition 422  the consistency proof does not verify
int AddCheckpointHttpStatus(const Status& status);

class Witness {
 public:
  struct KnownLog {
    std::string origin;
    Ed25519NoteVerifier key;
  };
  // `state` holds the per-origin witness state; not owned, must outlive the Witness.
  Witness(LeafStore* state, CosignatureV1Signer signer, Env env, std::vector<KnownLog> logs);

  // Handles one add-checkpoint body. On success returns the cosignature line
  // ("— <name> base64(...)\n") and the new size is durably recorded. On already_exists,
  // *current_size (if not null) is the size the witness holds. Thread-safe (the store's
  // compare-and-set settles races; the loser gets already_exists).
  Result<std::string> AddCheckpoint(std::string_view body, uint64_t* current_size);
  CosignatureV1Verifier Verifier() const { return signer_.Verifier(); }

 private:
  LeafStore* state_;
  CosignatureV1Signer signer_;
  Env env_;
  std::vector<KnownLog> logs_;
};

// A client's view of one log.
class LogVerifier {
 public:
  // `trusted_note`: the checkpoint note saved from an earlier session (empty: none). REQUIRES
  // the note to have been accepted before (it is re-verified; on failure the verifier starts
  // with no trusted checkpoint and `trusted()` is nullopt).
  LogVerifier(Ed25519NoteVerifier log_key, std::string origin, WitnessPolicy policy,
              std::string_view trusted_note = {});

  // Accepts `note` if it is signed by the log, has the right origin, satisfies the witness
  // policy and is consistent with the trusted checkpoint (`consistency_proof` from the trusted
  // size to the new size; empty if there is none yet or the sizes are equal).
  // failed_precondition "rollback" for a smaller tree, "split view" for a same-size different
  // root or a failing consistency proof; otherwise the errors of OpenCheckpoint. On success the
  // new checkpoint becomes trusted; save trusted_note() to carry it across sessions.
  Result<Checkpoint> Update(std::string_view note, std::span<const Hash> consistency_proof);

  // Checks that `leaf_hash` is leaf `index` of the trusted checkpoint.
  // failed_precondition if nothing is trusted yet or the proof fails.
  Status VerifyInclusion(uint64_t index, const Hash& leaf_hash, std::span<const Hash> proof) const;

  const std::optional<Checkpoint>& trusted() const { return trusted_; }
  const std::string& trusted_note() const { return trusted_note_; }

 private:
  Ed25519NoteVerifier log_key_;
  std::string origin_;
  WitnessPolicy policy_;
  std::optional<Checkpoint> trusted_;
  std::string trusted_note_;
};

}  // namespace medallion::ledger
