// Checkpoint anchoring on an EVM chain (docs/scale-out.md "Anchoring on an EVM chain"): the
// ledger node's anchoring thread, which records its latest checkpoint in the LedgerAnchor
// contract every N entries or T seconds, and the client's check that a log's checkpoint is
// consistent with every checkpoint the log anchored.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "medallion/chain/anchor.h"
#include "medallion/core/env.h"
#include "medallion/core/secret.h"
#include "medallion/core/status.h"
#include "medallion/ledger/checkpoint.h"

namespace medallion::ledger {
class Log;
}

namespace medallion::roles {

class LedgerClient;

// The origin hash an anchor carries: SHA-256 of the log's origin line.
chain::Hash32 AnchorOriginHash(std::string_view origin);

struct AnchoringOptions {
  std::string rpc;       // Ethereum JSON-RPC URL; empty: no anchoring
  std::string contract;  // the LedgerAnchor contract's address (0x...)
  // The anchoring key: a secp256k1 private key, 64 hex digits, created 0600 if missing
  // (LoadOrCreateSeed). Its address must be the contract's writer.
  std::string key_file = "anchor.key";
  uint64_t every_entries = 0;  // anchor once the log grew by this many entries (0: never)
  uint64_t every_seconds = 0;  // anchor a grown log this long after the last anchor (0: never)
};

// The anchoring thread of a ledger node. Anchors (origin hash, size, root) of the log's latest
// checkpoint when the log grew by `every_entries` since the last anchor, or when it grew at all
// and `every_seconds` passed since the last anchor (or since the start). On start it learns
// the last size it anchored from the chain, so a restart does not anchor again. Errors from the
// chain never reach the log: they are counted in /metrics
// (medallion_anchor_submissions_total{outcome}) and retried after a growing pause (1 s to 60 s).
class CheckpointAnchorer {
 public:
  // Reads (or creates) the key, parses the contract address and starts the thread. Errors:
  // invalid_argument for a bad address, key file or an option without its companions
  // (neither every_entries nor every_seconds), the key file's errors. The chain is not
  // contacted here (a chain that is down does not stop the ledger from starting).
  // REQUIRES: `log` outlives the anchorer.
  static Result<std::unique_ptr<CheckpointAnchorer>> Start(ledger::Log* log,
                                                           const AnchoringOptions& options,
                                                           Env env);
  // Stops and joins the thread (an anchor in flight finishes or times out first).
  ~CheckpointAnchorer();
  CheckpointAnchorer(const CheckpointAnchorer&) = delete;
  CheckpointAnchorer& operator=(const CheckpointAnchorer&) = delete;

  // The anchoring key's address (what the contract's writer must be).
  const chain::Address& address() const { return address_; }
  // The size of the newest checkpoint anchored by this key (learned or sent); 0 if none.
  uint64_t last_anchored_size() const { return last_size_.load(); }

 private:
  CheckpointAnchorer(ledger::Log* log, chain::AnchorContract contract, SecretBytes key,
                     chain::Address address, AnchoringOptions options, Env env);
  void Run();
  // One pass: sync with the chain if needed, anchor if due. Errors are the chain's.
  Status Step();

  ledger::Log* log_;
  chain::AnchorContract contract_;
  SecretBytes key_;
  chain::Address address_;
  AnchoringOptions options_;
  Env env_;
  chain::Hash32 origin_hash_{};

  bool synced_ = false;  // last_size_ learned from the chain (thread only)
  int64_t last_time_ = 0;
  std::atomic<uint64_t> last_size_{0};

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

// What CheckAnchoredCheckpoint found.
struct AnchorCheckReport {
  ledger::Checkpoint checkpoint;                 // the log's checkpoint, now trusted
  std::vector<chain::AnchorRecord> anchors;      // the writer's anchors of this origin, checked
  size_t ignored = 0;                            // anchors of this origin by other senders
};

// Reads every anchor of the client's log (origin hash) from `contract`, then refreshes the
// client's checkpoint (signature, witnesses, consistency with its trusted state) and requires
// it to be consistent with each anchor sent by `writer`: equal roots at equal sizes, a
// consistency proof from each anchored size. Anchors by other senders are ignored (counted).
// Errors (failed_precondition, by reason): "anchor_writer" if the contract's writer is not
// `writer`; "not_anchored" if the writer anchored nothing for this log; "split_view" if the
// writer anchored two roots for one size, or an anchored root is not a prefix of the log's
// checkpoint; "behind_anchor" if the log offers a tree smaller than one it anchored. The
// client's and the chain node's errors otherwise.
Result<AnchorCheckReport> CheckAnchoredCheckpoint(LedgerClient& client,
                                                  const chain::AnchorContract& contract,
                                                  const chain::Address& writer);

}  // namespace medallion::roles
