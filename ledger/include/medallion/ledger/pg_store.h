// PgLeafStore: the ledger's LeafStore on PostgreSQL (libpq), selected by a postgresql:// URL
// (docs/ledger.md §Storage, docs/scale-out.md §Ledger).
//
// Same contract as SqliteLeafStore: one transaction per sequencer batch, acknowledged only after
// COMMIT succeeded with synchronous_commit on; versioned migrations applied at open; a newer
// schema refused (data_loss). In addition it implements the sequencer lease: a session advisory
// lock (pg_try_advisory_lock) on the connection that writes, with an epoch bumped at every
// acquisition and checked inside every append transaction (fencing).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "medallion/ledger/store.h"

namespace medallion::ledger {

// True when `db` names a PostgreSQL database: a "postgresql://" or "postgres://" URL (libpq's
// connection URI, https://www.postgresql.org/docs/15/libpq-connect.html#LIBPQ-CONNSTRING).
bool IsPostgresUrl(std::string_view db);

// `db` fit for a log line or an error: a URL's password (userinfo after ':', or a "password="
// query parameter) replaced by "***". Anything else is returned as is.
std::string RedactDbUrl(std::string_view db);

// All methods are thread-safe: reads use one connection and writes (appends, checkpoints,
// witness state, the lease) another, each behind its own mutex. A lost connection is reopened
// at the next call; while the server cannot be reached every call answers unavailable
// ("postgresql: ..."), and the writer's lease is gone with its connection.
class PgLeafStore final : public LeafStore {
 public:
  // Connects (twice) to `url`, checks the schema version in ledger_schema_migrations and applies
  // the missing migrations in one transaction under an advisory lock (two processes opening a
  // fresh database migrate it once). unavailable if the server cannot be reached or a migration
  // fails; data_loss if the schema is newer than this build. Messages never hold the password.
  // The URL may set the schema with options=-csearch_path%3D<schema> (tests use one per case).
  static Result<std::unique_ptr<PgLeafStore>> Open(const std::string& url);
  ~PgLeafStore() override;

  // The schema version this build writes (the highest row of ledger_schema_migrations).
  static int SchemaVersion();

  Result<uint64_t> Size() override;
  Status Append(const AppendBatch& batch) override;
  // From tile rows, as SqliteLeafStore (schema 2: the tree as tiles, tile_rows.h).
  Status GetNode(uint32_t level, uint64_t index, Hash* out) override;
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

  // pg_try_advisory_lock on the writing connection (key: a constant and hashtext of the
  // schema, so that each schema of a database has its own lease); on success the epoch in
  // sequencer_lease is incremented and remembered, and every later Append checks it in its
  // transaction (failed_precondition, reason "lease_lost", if another holder bumped it).
  Result<bool> TryAcquireSequencerLease() override;
  bool HoldsSequencerLease() override;
  // The epoch this store acquired (0 before it holds the lease). For tests and metrics.
  int64_t LeaseEpoch();

 private:
  struct Impl;
  explicit PgLeafStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace medallion::ledger
