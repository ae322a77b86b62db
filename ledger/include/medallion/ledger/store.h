// LeafStore: the ledger's storage interface, and its SQLite implementation (PostgreSQL's is in
// pg_store.h; OpenLeafStore picks one from the --db value).
//
// A store keeps the leaves (leaf hash and canonical entry bytes), the hash of every complete
// subtree (so any RFC 9162 proof needs O(log n) node reads; SQLite keeps them as C2SP tiles,
// one row per tile, see GetTile), the signed
// checkpoints, and a key index (DID, nullifier, relationship id -> leaf indices). Writes
// come in batches from the single sequencer: one batch is one transaction.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "medallion/core/status.h"
#include "medallion/ledger/entry.h"
#include "medallion/ledger/merkle.h"

namespace medallion::ledger {

struct StoredLeaf {
  uint64_t index = 0;
  Hash leaf_hash{};
  std::string entry;  // canonical JSON
};

struct StoredCheckpoint {
  uint64_t size = 0;
  std::string note;  // the signed note
};

// Everything one sequencer batch writes, atomically.
struct AppendBatch {
  std::vector<StoredLeaf> leaves;         // consecutive indices starting at Size()
  std::vector<CompactRange::Node> nodes;  // complete nodes at level >= 1 they complete
  std::vector<std::pair<EntryKey, uint64_t>> keys;
  std::optional<StoredCheckpoint> checkpoint;  // the checkpoint for the new size
};

class LeafStore : public NodeSource {
 public:
  ~LeafStore() override = default;

  // The number of leaves stored.
  [[nodiscard]] virtual Result<uint64_t> Size() = 0;
  // The first `width` hashes of hash tile (level, index) (c2sp.org/tlog-tiles §"Merkle Tree":
  // the nodes at tree level 8 * level, indices index * 256 ..), width * 32 bytes.
  // not_found if the store does not hold that many yet. REQUIRES: 1 <= width <= 256,
  // level < 8. The default reads them one GetNode at a time; a store that keeps tiles answers
  // from one stored row.
  [[nodiscard]] virtual Result<Bytes> GetTile(uint32_t level, uint64_t index, uint32_t width);
  // Writes `batch` atomically and durably: on OK everything is on disk, on error nothing is.
  // REQUIRES: batch.leaves[0].index == Size() and indices consecutive (failed_precondition
  // otherwise, nothing written).
  [[nodiscard]] virtual Status Append(const AppendBatch& batch) = 0;
  // Leaves [start, end) in index order. invalid_argument unless start <= end <= Size().
  [[nodiscard]] virtual Result<std::vector<StoredLeaf>> GetLeaves(uint64_t start, uint64_t end) = 0;
  // Indices of the leaves indexed under `key`, ascending, at most `limit`, from `after`
  // (exclusive; -1 for the start).
  [[nodiscard]] virtual Result<std::vector<uint64_t>> FindByKey(const EntryKey& key, int64_t after,
                                                                size_t limit) = 0;
  // The checkpoint with the largest size, or nullopt if none is stored.
  [[nodiscard]] virtual Result<std::optional<StoredCheckpoint>> LatestCheckpoint() = 0;
  // Stored checkpoints with size in [from_size, ...), ascending, at most `limit`.
  [[nodiscard]] virtual Result<std::vector<StoredCheckpoint>> GetCheckpoints(uint64_t from_size,
                                                                             size_t limit) = 0;
  // Stores a checkpoint outside a batch (the empty tree's). Replaces one of the same size.
  [[nodiscard]] virtual Status PutCheckpoint(const StoredCheckpoint& checkpoint) = 0;

  // Witness state (c2sp.org/tlog-witness): the last checkpoint size and root cosigned per
  // origin. CompareAndSetWitnessState succeeds only if the stored size is still
  // `expected_size` (nullopt: no state yet); otherwise failed_precondition and nothing written.
  struct WitnessState {
    uint64_t size = 0;
    Hash root{};
  };
  [[nodiscard]] virtual Result<std::optional<WitnessState>> GetWitnessState(
      const std::string& origin) = 0;
  [[nodiscard]] virtual Status CompareAndSetWitnessState(const std::string& origin,
                                                         std::optional<uint64_t> expected_size,
                                                         const WitnessState& state) = 0;

  // The sequencer lease (docs/ledger.md §Sequencer lease): among the stores open on one database
  // at most one holds it, and the Log sequences (appends) only through a store that holds it.
  // TryAcquireSequencerLease: true if this store holds the lease now (it already did, or just
  // took it); false if another holder has it; unavailable if the database cannot be reached.
  // A store that took the lease and lost it (its connection died, or another holder fenced it)
  // refuses Append with unavailable or failed_precondition, reason "lease_lost".
  // The defaults are for a store only one process can open (SQLite in this build: its file is
  // written by one sequencer at a time because Append checks Size() in its transaction).
  [[nodiscard]] virtual Result<bool> TryAcquireSequencerLease() { return true; }
  // Whether this store still holds the lease as far as it knows.
  virtual bool HoldsSequencerLease() { return true; }
};

// Opens the LeafStore named by `db`: PostgreSQL (PgLeafStore, pg_store.h) for a
// "postgresql://" or "postgres://" URL, SQLite (SqliteLeafStore) for anything else (a file
// path, ":memory:"). Errors as the chosen store's Open; a URL's password is never in them.
Result<std::unique_ptr<LeafStore>> OpenLeafStore(const std::string& db);

// SQLite (WAL, synchronous=FULL, numbered schema migrations; schema 2 keeps the tree as tiles,
// one row per full tile and one rewritten row per partial tile, converted from schema 1's node
// rows when an older database is opened). All methods are thread-safe
// (one connection behind a mutex).
class SqliteLeafStore final : public LeafStore {
 public:
  // Opens or creates the database at `path` (":memory:" for tests) and applies migrations.
  // unavailable if the file cannot be opened; data_loss if its schema is newer than ours.
  static Result<std::unique_ptr<SqliteLeafStore>> Open(const std::string& path);
  ~SqliteLeafStore() override;

  // The schema version this build writes (PRAGMA user_version).
  static int SchemaVersion();

  Result<uint64_t> Size() override;
  Status Append(const AppendBatch& batch) override;
  // Node reads come from tile rows (one row per tile, kept in a small cache: full tiles never
  // change), so a proof reads a few rows rather than a row per node.
  Status GetNode(uint32_t level, uint64_t index, Hash* out) override;
  // Straight from the stored tile row.
  Result<Bytes> GetTile(uint32_t level, uint64_t index, uint32_t width) override;
  Result<std::vector<StoredLeaf>> GetLeaves(uint64_t start, uint64_t end) override;
  Result<std::vector<uint64_t>> FindByKey(const EntryKey& key, int64_t after,
                                          size_t limit) override;
  Result<std::optional<StoredCheckpoint>> LatestCheckpoint() override;
  Result<std::vector<StoredCheckpoint>> GetCheckpoints(uint64_t from_size, size_t limit) override;
  Status PutCheckpoint(const StoredCheckpoint& checkpoint) override;
  Result<std::optional<WitnessState>> GetWitnessState(const std::string& origin) override;
  Status CompareAndSetWitnessState(const std::string& origin, std::optional<uint64_t> expected_size,
                                   const WitnessState& state) override;

 private:
  struct Impl;
  explicit SqliteLeafStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace medallion::ledger
