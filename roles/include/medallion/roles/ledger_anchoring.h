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

// Where an anchoring (or paying) secp256k1 key comes from: exactly one of a hex key file and a
// wallet key store.
struct AnchoringKeyOptions {
  // A secp256k1 private key, 64 hex digits (created 0600 if missing where the caller allows).
  std::string key_file;
  // A Medallion wallet key store (`wallet init`); the key is BIP-32 over secp256k1 at the
  // BIP-44 Ethereum path m/44'/60'/account'/0/0 (SLIP-44 coin type 60), the account any
  // Ethereum wallet derives from the same mnemonic.
  std::string store;
  std::string passphrase_file;  // the store's passphrase (else $MEDALLION_PASSPHRASE, a prompt)
  uint32_t account = 0;
  bool account_given = false;  // the account option was given (it needs a store)
  // How the options are spelt in messages: "--anchor-" (serve) gives --anchor-key,
  // --anchor-store, --anchor-passphrase-file, --anchor-account.
  std::string option_prefix = "--anchor-";
};

// The key of `options` and its address. With `create_key_file` a missing key file is created
// (0600, LoadOrCreateSeed) and *created says so. Errors: invalid_argument for neither or both
// of a key file and a store, a passphrase file or account without a store, an account >= 2^31,
// a key file that is not 32 bytes of hex; the key file's errors (not_found without
// `create_key_file`); OpenAndUnlock's (a wrong passphrase is unauthenticated).
struct AnchoringKey {
  SecretBytes key;
  chain::Address address{};
  bool created = false;
};
Result<AnchoringKey> LoadAnchoringKey(const AnchoringKeyOptions& options, bool create_key_file);

struct AnchoringOptions {
  std::string rpc;       // Ethereum JSON-RPC URL; empty: no anchoring
  std::string contract;  // the LedgerAnchor contract's address (0x...)
  // The anchoring key. Its address must be the contract's writer.
  AnchoringKeyOptions key;
  uint64_t every_entries = 0;     // anchor once the log grew by this many entries (0: never)
  uint64_t every_seconds = 0;     // anchor a grown log this long after the last anchor (0: never)
  chain::AnchorListOptions list;  // where the node reads its past anchors (from_block, range)
  // Any option set: anchoring was asked for (and then needs rpc).
  bool requested() const {
    return !rpc.empty() || !contract.empty() || !key.key_file.empty() || !key.store.empty() ||
           every_entries > 0 || every_seconds > 0;
  }
};

// The options' own checks, before anything is opened: rpc, contract and a period
// (every_entries or every_seconds) are all needed. Errors: invalid_argument.
Status CheckAnchoringOptions(const AnchoringOptions& options);

// The anchoring thread of a ledger node. Anchors (origin hash, size, root) of the log's latest
// checkpoint when the log grew by `every_entries` since the last anchor, or when it grew at all
// and `every_seconds` passed since the last anchor (or since the start). On start it learns
// the last size it anchored from the chain, so a restart does not anchor again. Errors from the
// chain never reach the log: they are counted in /metrics
// (medallion_anchor_submissions_total{outcome}) and retried after a growing pause (1 s to 60 s).
class CheckpointAnchorer {
 public:
  // Checks the options (CheckAnchoringOptions), parses the contract address and starts the
  // thread with `key` (LoadAnchoringKey of options.key). Errors: invalid_argument. The chain
  // is not contacted here (a chain that is down does not stop the ledger from starting).
  // REQUIRES: `log` outlives the anchorer.
  static Result<std::unique_ptr<CheckpointAnchorer>> Start(ledger::Log* log,
                                                           const AnchoringOptions& options,
                                                           AnchoringKey key, Env env);
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
// The anchors are read from `list.from_block`, `list.block_range` blocks per eth_getLogs.
Result<AnchorCheckReport> CheckAnchoredCheckpoint(LedgerClient& client,
                                                  const chain::AnchorContract& contract,
                                                  const chain::Address& writer,
                                                  const chain::AnchorListOptions& list = {});

}  // namespace medallion::roles
