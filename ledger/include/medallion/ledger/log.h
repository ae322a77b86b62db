// Log: the ledger node's in-process core. One sequencer thread takes validated entries from
// a bounded queue, writes each batch to the LeafStore in one transaction (one fsync) with the
// nodes it completes and a freshly signed checkpoint, and only then completes the callers'
// futures with each entry's index and leaf hash.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "medallion/core/env.h"
#include "medallion/core/status.h"
#include "medallion/ledger/checkpoint.h"
#include "medallion/ledger/entry.h"
#include "medallion/ledger/merkle.h"
#include "medallion/ledger/signed_note.h"
#include "medallion/ledger/store.h"
#include "medallion/ledger/tiles.h"

namespace medallion::ledger {

struct LogOptions {
  // Entries waiting for the sequencer; beyond this Append answers resource_exhausted.
  size_t max_queue = 65536;
  // Entries per transaction at most.
  size_t max_batch = 4096;
  // Checked before an entry is queued; nullptr: schema only. Not owned; must outlive the Log.
  const ValidatorRegistry* validators = nullptr;
  // A dispense nullifier may appear once in the whole log (already_exists otherwise).
  bool unique_nullifiers = true;
  // For VerifyStorage only (`ledger verify`): open even when the latest checkpoint disagrees
  // with the stored tree, so that the damage can be located leaf by leaf; no sequencer runs and
  // every Append fails with unavailable.
  bool open_damaged_for_verify = false;
  // While another process holds the store's sequencer lease (a hot standby: docs/ledger.md
  // §Sequencer lease), the log asks for the lease and refreshes what it serves (size,
  // checkpoint) from the store this often.
  std::chrono::milliseconds lease_poll{200};
};

struct AppendResult {
  uint64_t index = 0;
  Hash leaf_hash{};
};

struct VerifyReport {
  bool ok = true;
  uint64_t leaves = 0;       // leaves recomputed
  uint64_t checkpoints = 0;  // checkpoints checked
  // The first leaf index whose stored data disagrees with the recomputation (an edited
  // entry, leaf hash or node), or the size of the first bad checkpoint.
  std::optional<uint64_t> first_bad_index;
  std::string problem;
};

class Log {
 public:
  // Opens the log over `store` (owned), signing checkpoints with `signer`, whose name is the
  // log's origin. Rebuilds the right border from O(log n) stored nodes and checks that the
  // latest checkpoint matches it (data_loss otherwise); signs the empty tree's checkpoint on
  // first use. Starts the sequencer thread.
  // If the store's sequencer lease is held by another process, the log opens as a standby: it
  // serves the store's latest checkpoint and the proofs and entries under it, refuses appends
  // (unavailable, reason "standby"), and takes the lease over when it is free, reloading the
  // tree from the store before it sequences. An active log whose lease is lost (its database
  // connection died, or it was fenced) becomes a standby the same way.
  static Result<std::unique_ptr<Log>> Open(std::unique_ptr<LeafStore> store,
                                           Ed25519NoteSigner signer, Env env,
                                           LogOptions options = {});
  // Stops accepting appends, commits what is queued, joins the sequencer.
  ~Log();
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  const std::string& origin() const { return signer_.name(); }
  // The log's verifier key ("name+id+base64(0x01||key)").
  std::string VerifierKey() const { return signer_.Verifier().VerifierKey(); }
  Ed25519NoteVerifier Verifier() const { return signer_.Verifier(); }

  // Parses, schema-checks and validates `json_entry` in the caller's thread, then queues it.
  // The future completes after the batch holding it is committed, with its index and leaf
  // hash; or at once with invalid_argument / the validator's error / resource_exhausted
  // (queue full) / unavailable (log closing); or after commit failure with the store's error.
  // already_exists for a repeated dispense nullifier. Thread-safe.
  std::future<Result<AppendResult>> Append(std::string_view json_entry);
  // Queues a schema-checked entry (validators still run).
  std::future<Result<AppendResult>> Append(Entry entry);
  // Append and wait.
  Result<AppendResult> AppendSync(std::string_view json_entry) { return Append(json_entry).get(); }

  // Whether this log sequences (holds the store's sequencer lease) or is a standby.
  bool IsSequencer() const;

  // The committed tree size (the latest checkpoint's).
  uint64_t Size() const;
  // The latest signed checkpoint note (C2SP tlog-checkpoint).
  std::string CheckpointNote() const;
  Checkpoint LatestCheckpoint() const;

  // RFC 9162 proofs against committed sizes. invalid_argument for sizes beyond Size() or out
  // of order. O(log n) store reads.
  Result<Proof> InclusionProof(uint64_t index, uint64_t size);
  Result<Proof> ConsistencyProof(uint64_t first, uint64_t second);
  // c2sp.org/tlog-tiles: a hash tile or entry bundle of the committed tree (ReadTile in
  // tiles.h, against Size()). not_found if the tile, at its width, is not in the tree yet.
  Result<Bytes> Tile(const TileId& tile);
  // Canonical entries [start, end); invalid_argument if end > Size() or end - start > 1000.
  Result<std::vector<StoredLeaf>> Entries(uint64_t start, uint64_t end);
  // Indices of entries carrying `key`, ascending, after `after` (-1: from the start).
  Result<std::vector<uint64_t>> FindByKey(const EntryKey& key, int64_t after = -1,
                                          size_t limit = 100);

  // Recomputes every leaf hash from the stored entry, every stored node from the leaves (the
  // leaf hashes of the level-0 tiles too) and every stored checkpoint's root and signature; reports
  // the first disagreement. Reads the whole store; safe while appends continue (it checks the
  // committed prefix).
  Result<VerifyReport> VerifyStorage();

 private:
  struct Pending {
    Entry entry;
    Hash leaf_hash;  // of entry.canonical, hashed on the caller's thread (RFC 9162 §2.1.1)
    std::promise<Result<AppendResult>> done;
  };
  Log(std::unique_ptr<LeafStore> store, Ed25519NoteSigner signer, LogOptions options);
  void Run();
  void CommitBatch(std::vector<Pending>& batch);
  // Loads the tree from the store as its sequencer: Size() leaves, the border nodes, the latest
  // checkpoint, which must match (data_loss otherwise); stores the empty tree's checkpoint on
  // first use. Sequencer thread (or Open) only.
  Status LoadAsSequencer();
  // Loads the tree as a standby: the latest stored checkpoint first, then the border nodes of
  // its size, whose root must be the checkpoint's (data_loss otherwise). Consistent while
  // another process appends: nodes under a committed checkpoint never change.
  Status LoadAsStandby();
  // Publishes the loaded tree to readers. REQUIRES: mu_ not held.
  void Publish(uint64_t size, std::string note, const Checkpoint& checkpoint);
  // Leaves the sequencer role: queued appends fail with unavailable (reason "standby").
  void BecomeStandby(const Status& why);
  Result<std::string> SignCheckpoint(uint64_t size, const Hash& root) const;

  std::unique_ptr<LeafStore> store_;
  Ed25519NoteSigner signer_;
  LogOptions options_;

  // Sequencer state: only the sequencer thread touches range_.
  CompactRange range_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool closing_ = false;
  bool active_ = false;       // holds the lease and sequences
  bool need_reload_ = false;  // sequencer thread only: a commit failed, reload before the next
  uint64_t committed_size_ = 0;
  std::string checkpoint_note_;
  Checkpoint checkpoint_;

  std::thread sequencer_;

  // Acknowledgements of committed batches, completed on a thread of their own so that the
  // sequencer starts the next commit at once: completing a promise wakes its waiter (a futex
  // call), ~9 % of the sequencer's time at 1,200 entries per commit. Only committed, published
  // results are queued here; the completer drains the queue before it stops.
  using Done = std::pair<std::promise<Result<AppendResult>>, AppendResult>;
  void Complete();
  std::mutex done_mu_;
  std::condition_variable done_cv_;
  std::deque<std::vector<Done>> done_queue_;
  bool done_stop_ = false;
  std::thread completer_;
};

}  // namespace medallion::ledger
