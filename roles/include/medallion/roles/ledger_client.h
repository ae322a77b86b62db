// A client of a Medallion ledger node over HTTP that trusts nothing it is told: checkpoints
// are verified against the pinned log key and the witness policy, each new checkpoint must be
// consistent with the last trusted one (no rollback, no split view), and every entry handed
// back carries a verified RFC 9162 inclusion proof against the trusted checkpoint.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "medallion/claims/pharmacy.h"
#include "medallion/ledger/entry.h"
#include "medallion/ledger/log.h"
#include "medallion/ledger/witness.h"

namespace medallion::roles {

// An entry proven to be in the log at the trusted checkpoint.
struct ProvenEntry {
  uint64_t index = 0;
  ledger::Hash leaf_hash{};
  std::string entry;  // canonical JSON
  ledger::Proof inclusion_proof;
  uint64_t tree_size = 0;
};

// Thread-safe, except verifier(), which is for single-threaded callers (the command line).
class LedgerClient {
 public:
  // `base_url` like "http://127.0.0.1:8080". The verifier holds the pinned key, origin,
  // witness policy and (optionally) the checkpoint trusted in an earlier session.
  LedgerClient(std::string base_url, ledger::LogVerifier verifier);
  ~LedgerClient();
  LedgerClient(LedgerClient&&) noexcept;

  // Appends entries (JSON objects); each answer is its index and leaf hash once durable.
  // Errors: the server's error (invalid_argument, already_exists, resource_exhausted...),
  // unavailable if the node cannot be reached, data_loss if the answer is malformed.
  Result<ledger::AppendResult> Append(const nlohmann::json& entry);
  Result<std::vector<Result<ledger::AppendResult>>> AppendBatch(
      const std::vector<nlohmann::json>& entries);

  // Fetches the latest checkpoint and, if it is newer than the trusted one, a consistency
  // proof; verifies both and trusts the checkpoint. failed_precondition "rollback" / "split
  // view"; unauthenticated for a bad signature or too few witness cosignatures.
  Result<ledger::Checkpoint> Refresh();

  // Proves that `leaf_hash` is leaf `index` of the trusted checkpoint (Refresh first).
  Status VerifyIncluded(uint64_t index, const ledger::Hash& leaf_hash);

  // Proves that the tree of `size` leaves with root `root` (from elsewhere: an anchor on a
  // chain, another client's checkpoint) is a prefix of the trusted checkpoint: equal roots at
  // equal sizes, else a consistency proof fetched from the node (Refresh first). Errors:
  // failed_precondition with reason "split_view" if it is not, "beyond_trusted" if `size` is
  // larger than the trusted checkpoint, or when nothing is trusted yet; the node's errors.
  Status VerifyConsistentWithTrusted(uint64_t size, const ledger::Hash& root);

  // Entries carrying `key`, each with a verified inclusion proof at the trusted size.
  Result<std::vector<ProvenEntry>> Lookup(const ledger::EntryKey& key);
  // Entries [start, end) with verified inclusion proofs (end <= trusted size).
  Result<std::vector<ProvenEntry>> Entries(uint64_t start, uint64_t end);

  const ledger::LogVerifier& verifier() const { return verifier_; }

  // GET a path; the body on 200, else the server's error as a Status. (Also for tests.)
  Result<std::string> Get(const std::string& path_and_query);

 private:
  Result<nlohmann::json> GetJson(const std::string& path_and_query);
  Result<ledger::Proof> GetProof(const std::string& path_and_query);
  std::string base_url_;
  // Guards verifier_ (the trusted checkpoint): Refresh, VerifyIncluded, Lookup and Entries may
  // be called from several threads (a container's web handlers and its grants share one).
  std::unique_ptr<std::mutex> mu_ = std::make_unique<std::mutex>();
  ledger::LogVerifier verifier_;
};

// The pharmacy pipeline's view of a remote ledger: every Find refreshes the trusted
// checkpoint (signature, witness policy, consistency) and returns only entries whose inclusion
// proof verifies against it; TrustedCheckpoint is that checkpoint's note. Thread-safe.
std::unique_ptr<claims::LedgerPort> MakeLedgerPort(std::shared_ptr<LedgerClient> client);

// Parses an HTTP error body {"error", "error_description"} into a Status (data_loss if it is
// not one). Exposed for the other HTTP clients.
Status StatusFromHttpError(int http_status, const std::string& body);

}  // namespace medallion::roles
