// SqliteLeafStore: the ledger's embedded storage (WAL, synchronous=FULL, one transaction
// per sequencer batch, numbered migrations in PRAGMA user_version). The tree is stored as
// tiles (tile_rows.h): one row per full tile, the partial tile of each level one row rewritten
// by each batch and kept in memory between batches.
#include "medallion/ledger/store.h"

#include <sqlite3.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "medallion/storage/sqlite.h"
#include "tile_rows.h"

namespace medallion::ledger {
namespace {

// Migration N brings the schema from version N-1 to N. Append only; never edit a shipped one.
struct Migration {
  const char* sql;
  // Runs after `sql`, in the same transaction (data conversions SQL alone cannot do).
  Status (*convert)(sqlite3* db) = nullptr;
};

Status NodesToTiles(sqlite3* db);

const Migration kMigrations[] = {
    // 1: leaves, complete-subtree nodes above the leaves, key index, checkpoints, witness state.
    {R"sql(
CREATE TABLE leaves(
  idx INTEGER PRIMARY KEY,
  leaf_hash BLOB NOT NULL CHECK(length(leaf_hash) = 32),
  entry BLOB NOT NULL);
CREATE TABLE nodes(
  level INTEGER NOT NULL CHECK(level >= 1),
  idx INTEGER NOT NULL,
  hash BLOB NOT NULL CHECK(length(hash) = 32),
  PRIMARY KEY(level, idx)) WITHOUT ROWID;
CREATE TABLE entry_keys(
  kind INTEGER NOT NULL,
  value TEXT NOT NULL,
  idx INTEGER NOT NULL,
  PRIMARY KEY(kind, value, idx)) WITHOUT ROWID;
CREATE TABLE checkpoints(
  size INTEGER PRIMARY KEY,
  note TEXT NOT NULL);
CREATE TABLE witness_state(
  origin TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  root BLOB NOT NULL CHECK(length(root) = 32));
)sql"},
    // 2 (issue 18): the tree as tiles (tile_rows.h), converted from the node rows, which go.
    {R"sql(
CREATE TABLE tiles(
  level INTEGER NOT NULL CHECK(level >= 0 AND level < 8),
  idx INTEGER NOT NULL,
  width INTEGER NOT NULL CHECK(width BETWEEN 1 AND 256),
  hashes BLOB NOT NULL,
  PRIMARY KEY(level, idx));
)sql",
     NodesToTiles},
    // 3: the keys of the latest entries, in commit order, not yet merged into entry_keys
    // (kKeyMergeRows). No index: rows are only appended, read whole at open, and moved out in one
    // sorted pass.
    {R"sql(
CREATE TABLE entry_keys_tail(
  kind INTEGER NOT NULL,
  value TEXT NOT NULL,
  idx INTEGER NOT NULL);
)sql",
     nullptr},
};
constexpr int kSchemaVersion = sizeof(kMigrations) / sizeof(kMigrations[0]);

// Statements, the statement cache and transactions are storage's (storage/sqlite.h). A failed
// statement still reads "sqlite: <operation>: <SQLite's message>"; a failed Exec (pragmas,
// migrations, BEGIN/COMMIT) reads as storage words it, "ledger: sqlite: <SQLite's message>".
using sql::Stmt;
constexpr std::string_view kWhat = "ledger";
// Tile rows kept in memory: 1,024 rows of at most 16,320 bytes (~16 MB). At 10^7 leaves every
// tile above level 0 (154 of them) stays warm, so a proof reads at most its level-0 tile.
constexpr size_t kRowCacheCapacity = 1024;
// WAL checkpoints (https://sqlite.org/wal.html §"Checkpointing"): SQLite's default runs one in
// the committing connection once the WAL holds 1,000 pages, so a commit every ~12 batches waited
// for it (a tenth of the sequencer's time at 1,000 entries per commit). Here a thread of the
// store's own, on a second connection, checkpoints from kCheckpointPages on while the sequencer
// goes on; a checkpoint that runs beside a writer cannot let the WAL restart, so from
// kSelfCheckpointPages on the committing connection checkpoints itself (cheap then: the
// thread has copied most frames already). Commits stay as durable as before: each one still
// fsyncs the WAL; a checkpoint only moves committed pages into the database file (and fsyncs
// it, synchronous=FULL, before the WAL may be reused).
constexpr int kCheckpointPages = 1000;
constexpr int kSelfCheckpointPages = 8000;
// The key index (entry_keys, a B-tree on (kind, value, idx)) takes keys that are hashes, DIDs and
// nullifiers: each lands on a random page, so a commit of n entries wrote ~n index pages to the
// WAL (4 KiB per entry appended, measured: 1.65 WAL pages per entry for single appends over
// HTTP). A commit now appends its keys to entry_keys_tail (rows in commit order, ~80 bytes each)
// and to an in-memory map that FindByKey reads beside the index; once the tail holds
// kKeyMergeRows rows, the commit that reaches it moves them into entry_keys in key order, which
// writes each index page it touches once for the whole tail (the LSM idea, one level deep).
// That commit takes longer (~55 ms measured at 65,536 rows); memory for the map is ~10 MB.
constexpr size_t kKeyMergeRows = 65536;
// A commit with at least this many keys writes them straight into entry_keys, in key order, as
// before the tail: a large sorted batch is a merge of its own, and sending it through the tail
// only added work (BM_LogAppend/4096, 2026-12-07: 174,000/s with every commit through the tail;
// with this bound 225,000-250,000/s, as the build before the tail in the same minutes; 256
// instead of 64 left BM_LogAppend/1024 ~5 % behind). FindByKey reads both, so they mix freely.
constexpr size_t kDirectKeys = 64;

Status Exec(sqlite3* db, const char* statement) { return sql::Exec(db, statement, kWhat); }

// unavailable: "sqlite: <op>: <SQLite's message for the last failure on db>".
Status SqlError(sqlite3* db, const char* op) {
  return Status::Unavailable(std::string("sqlite: ") + op + ": " + sqlite3_errmsg(db));
}

bool ToHash(const std::string& b, Hash* out) {
  if (b.size() != kHashSize) return false;
  std::memcpy(out->data(), b.data(), kHashSize);
  return true;
}

// Migration 2: one tile row per tile of the stored tree, built from the leaf hashes (level 0)
// and the node rows (levels >= 1) as they are (`ledger verify` recomputes them afterwards); a
// node missing from a tile is data_loss and the migration does not happen.
Status NodesToTiles(sqlite3* db) {
  uint64_t size;
  {
    Stmt s(db, "SELECT COALESCE(MAX(idx) + 1, 0) FROM leaves", kWhat);
    if (!s.ok() || s.Step() != SQLITE_ROW) return SqlError(db, "size");
    size = static_cast<uint64_t>(s.ColInt(0));
  }
  Stmt leaves(db, "SELECT idx, leaf_hash FROM leaves WHERE idx >= ?2 AND idx < ?3 ORDER BY idx",
              kWhat);
  Stmt nodes(db,
             "SELECT idx, hash FROM nodes WHERE level = ?1 AND idx >= ?2 AND idx < ?3 ORDER BY idx",
             kWhat);
  Stmt put(db, "INSERT INTO tiles(level, idx, width, hashes) VALUES(?, ?, ?, ?)", kWhat);
  if (!leaves.ok() || !nodes.ok() || !put.ok()) return SqlError(db, "prepare");
  using tile_rows::kHeight;
  using tile_rows::kWidth;
  for (uint32_t level = 0; level < 64 / kHeight && (size >> (kHeight * level)) > 0; ++level) {
    const uint64_t hashes = size >> (kHeight * level);
    for (uint64_t t = 0; t * kWidth < hashes; ++t) {
      const auto width = static_cast<uint32_t>(std::min<uint64_t>(kWidth, hashes - t * kWidth));
      Bytes row;
      row.reserve(tile_rows::StoredHashes(width) * kHashSize);
      for (uint32_t rise = 0; rise < kHeight; ++rise) {
        const uint32_t node_level = kHeight * level + rise;
        const uint64_t first = t << (kHeight - rise);
        const uint64_t count = width >> rise;
        // A partial tile stores its base hashes only (tile_rows.h).
        if (count == 0 || (rise > 0 && width < kWidth)) break;
        Stmt& q = node_level == 0 ? leaves : nodes;
        q.Reset();
        if (node_level != 0) q.Int(1, node_level);
        q.Int(2, static_cast<int64_t>(first)).Int(3, static_cast<int64_t>(first + count));
        uint64_t got = 0;
        int rc;
        while ((rc = q.Step()) == SQLITE_ROW && static_cast<uint64_t>(q.ColInt(0)) == first + got) {
          const std::string h = q.ColBlob(1);
          if (h.size() != kHashSize) return Status::DataLoss("node hash is not 32 bytes");
          row.insert(row.end(), h.begin(), h.end());
          ++got;
        }
        if (rc != SQLITE_DONE && rc != SQLITE_ROW) return SqlError(db, "read nodes");
        if (got != count) {
          return Status::DataLoss("node (" + std::to_string(node_level) + ", " +
                                  std::to_string(first + got) + ") is missing");
        }
      }
      put.Reset();
      put.Int(1, level).Int(2, static_cast<int64_t>(t)).Int(3, width).Blob(4, row);
      if (put.Step() != SQLITE_DONE) return SqlError(db, "insert tile");
    }
  }
  return sql::Exec(db, "DROP TABLE nodes", kWhat);
}

}  // namespace

struct SqliteLeafStore::Impl {
  std::mutex mu;
  sqlite3* db = nullptr;
  // Statements of the hot paths (node reads for proofs, batch inserts, the size and key
  // lookups), prepared once: preparing costs more than running them. Used under `mu` only.
  std::optional<sql::StmtCache> cache;
  // The partial tiles of the stored tree as of partials->size (reloaded when the size read in
  // a batch's transaction differs), and the tile rows read lately (full ones never change).
  std::optional<tile_rows::Partials> partials;
  tile_rows::RowCache rows{kRowCacheCapacity};
  sqlite3_stmt* tile_read = nullptr;  // SELECT width, hashes FROM tiles WHERE level, idx
  // The checkpointer (kCheckpointPages): its connection, thread and wake-up.
  sqlite3* checkpoint_db = nullptr;
  std::thread checkpointer;
  std::mutex checkpoint_mu;
  std::condition_variable checkpoint_cv;
  bool checkpoint_wanted = false;
  bool checkpoint_stop = false;
  int checkpoint_asked_at = 0;  // WAL frames when the checkpointer was last asked (writer only)
  // entry_keys_tail in memory (kKeyMergeRows): key → its indices, ascending; the number of rows
  // in the table; and the log size it reflects (nullopt: to be read; another size: the file was
  // appended to by another connection, so it is read again).
  struct KeyHash {
    size_t operator()(const EntryKey& k) const {
      return std::hash<std::string_view>()(k.value) * 31 + static_cast<size_t>(k.kind);
    }
  };
  std::unordered_map<EntryKey, std::vector<uint64_t>, KeyHash> tail;
  // Multi-row inserts (storage's RowInserter) of leaves, of keys into the index (kDirectKeys)
  // and of keys into the tail. Made at Open; reset before the connection closes.
  std::optional<sql::RowInserter> leaf_insert;
  std::optional<sql::RowInserter> index_insert;
  std::optional<sql::RowInserter> tail_insert;
  size_t tail_rows = 0;
  std::optional<uint64_t> tail_size;
  ~Impl() {
    if (checkpointer.joinable()) {
      {
        std::lock_guard<std::mutex> lock(checkpoint_mu);
        checkpoint_stop = true;
      }
      checkpoint_cv.notify_one();
      checkpointer.join();
    }
    if (checkpoint_db) sqlite3_close(checkpoint_db);
    sqlite3_finalize(tile_read);
    leaf_insert.reset();
    index_insert.reset();
    tail_insert.reset();
    cache.reset();  // its statements are finalized before the connection closes
    if (db) sqlite3_close(db);
  }
  // A cached statement for `sql` (a string literal), ready for binding. REQUIRES: mu held.
  Stmt Cached(const char* sql) { return cache->Get(sql); }
  // Runs `body` inside BEGIN IMMEDIATE ... COMMIT, rolling back on error.
  template <typename F>
  Status Transaction(F&& body) {
    return sql::InTransaction(db, kWhat, std::forward<F>(body));
  }
  // The stored row of tile (level, index); not_found if there is none. REQUIRES: mu held.
  // A raw statement (prepared at Open): the row's blob is copied once, straight from SQLite.
  Result<tile_rows::Row> ReadRow(uint32_t level, uint64_t index) {
    sqlite3_stmt* s = tile_read;
    sqlite3_bind_int(s, 1, static_cast<int>(level));
    sqlite3_bind_int64(s, 2, static_cast<sqlite3_int64>(index));
    const int rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
      sqlite3_reset(s);
      if (rc == SQLITE_DONE) {
        return Status::NotFound("tile (" + std::to_string(level) + ", " + std::to_string(index) +
                                ")");
      }
      return SqlError(db, "get tile");
    }
    tile_rows::Row row{level, index, static_cast<uint32_t>(sqlite3_column_int64(s, 0)), {}};
    const auto* hashes = static_cast<const uint8_t*>(sqlite3_column_blob(s, 1));
    const auto bytes = static_cast<size_t>(sqlite3_column_bytes(s, 1));
    Status st = tile_rows::CheckRow(level, index, row.width, bytes);
    if (st.ok()) row.hashes.assign(hashes, hashes + bytes);
    sqlite3_reset(s);
    if (!st.ok()) return st;
    tile_rows::Expand(row);
    return row;
  }
  // The row of tile (level, index) holding at least `min_width` base hashes (or, for a node
  // lookup, the node at `place`): from the cache, else read and cached. REQUIRES: mu held.
  Result<std::shared_ptr<const tile_rows::Row>> Row(uint32_t level, uint64_t index,
                                                    uint32_t min_width) {
    auto row = rows.Get(level, index);
    if (row && row->width >= min_width) return row;
    MDL_ASSIGN_OR_RETURN(tile_rows::Row read, ReadRow(level, index));
    row = std::make_shared<const tile_rows::Row>(std::move(read));
    rows.Put(row);
    return row;
  }
  // Opens the checkpointer's connection to `path` and starts it; on any failure SQLite's own
  // automatic checkpoints stay in place.
  void StartCheckpointer(const std::string& path) {
    if (path.empty() || path == ":memory:") return;
    if (sqlite3_open_v2(path.c_str(), &checkpoint_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK ||
        !sql::Exec(checkpoint_db, "PRAGMA synchronous=FULL", kWhat).ok()) {
      sqlite3_close(checkpoint_db);
      checkpoint_db = nullptr;
      return;
    }
    sqlite3_busy_timeout(checkpoint_db, 5000);
    checkpointer = std::thread([this] { RunCheckpointer(); });
    // Replaces SQLite's automatic checkpoint (sqlite3_wal_autocheckpoint is a WAL hook too).
    sqlite3_wal_hook(
        db,
        [](void* arg, sqlite3* handle, const char* name, int pages) -> int {
          auto* impl = static_cast<Impl*>(arg);
          if (pages < impl->checkpoint_asked_at) impl->checkpoint_asked_at = 0;  // WAL restarted
          if (pages >= kSelfCheckpointPages) {
            // Passive: never waits; a checkpoint already running makes this one a no-op.
            (void)sqlite3_wal_checkpoint_v2(handle, name, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                            nullptr);
          } else if (pages >= impl->checkpoint_asked_at + kCheckpointPages) {
            // Once per kCheckpointPages new frames, as SQLite's own: a checkpoint per commit
            // (its fsync of the database file beside every WAL fsync) slowed single appends.
            impl->checkpoint_asked_at = pages;
            {
              std::lock_guard<std::mutex> lock(impl->checkpoint_mu);
              impl->checkpoint_wanted = true;
            }
            impl->checkpoint_cv.notify_one();
          }
          return SQLITE_OK;
        },
        this);
  }
  void RunCheckpointer() {
    std::unique_lock<std::mutex> lock(checkpoint_mu);
    while (true) {
      checkpoint_cv.wait(lock, [&] { return checkpoint_wanted || checkpoint_stop; });
      if (checkpoint_stop) return;
      checkpoint_wanted = false;
      lock.unlock();
      // Errors (busy: another checkpoint runs) leave the frames for the next one.
      (void)sqlite3_wal_checkpoint_v2(checkpoint_db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                      nullptr);
      lock.lock();
    }
  }
  // Adds (key, index) to the in-memory tail, once (the index's INSERT OR IGNORE).
  void AddToTail(const EntryKey& key, uint64_t index) {
    std::vector<uint64_t>& v = tail[key];
    auto at = std::lower_bound(v.begin(), v.end(), index);
    if (at == v.end() || *at != index) v.insert(at, index);
  }
  // Reads entry_keys_tail into `tail` unless it reflects log size `size`. REQUIRES: mu held.
  Status FreshTail(uint64_t size) {
    if (tail_size && *tail_size == size) return Status::Ok();
    tail.clear();
    tail_rows = 0;
    tail_size.reset();
    Stmt s = Cached("SELECT kind, value, idx FROM entry_keys_tail");
    if (!s.ok()) return SqlError(db, "prepare");
    int rc;
    while ((rc = s.Step()) == SQLITE_ROW) {
      AddToTail(EntryKey{static_cast<KeyKind>(s.ColInt(0)), s.Col(1)},
                static_cast<uint64_t>(s.ColInt(2)));
      ++tail_rows;
    }
    if (rc != SQLITE_DONE) return SqlError(db, "read key tail");
    tail_size = size;
    return Status::Ok();
  }
  Result<uint64_t> SizeLocked() {
    Stmt s = Cached("SELECT COALESCE(MAX(idx) + 1, 0) FROM leaves");
    if (!s.ok() || s.Step() != SQLITE_ROW) return SqlError(db, "size");
    return static_cast<uint64_t>(s.ColInt(0));
  }
};

SqliteLeafStore::SqliteLeafStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteLeafStore::~SqliteLeafStore() = default;

int SqliteLeafStore::SchemaVersion() { return kSchemaVersion; }

Result<std::unique_ptr<SqliteLeafStore>> SqliteLeafStore::Open(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  if (sqlite3_open_v2(path.c_str(), &impl->db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string m = impl->db ? sqlite3_errmsg(impl->db) : "out of memory";
    return Status::Unavailable("sqlite: cannot open " + path + ": " + m);
  }
  sqlite3_busy_timeout(impl->db, 5000);
  // WAL keeps readers off the writer's back; FULL makes every commit an fsync of the WAL,
  // which is what "acknowledged only when durable" needs.
  MDL_RETURN_IF_ERROR(Exec(impl->db, "PRAGMA journal_mode=WAL"));
  MDL_RETURN_IF_ERROR(Exec(impl->db, "PRAGMA synchronous=FULL"));
  // Reads through a memory map (up to SQLite's 2 GiB build limit) rather than a pread and a copy
  // per page: a proof's tile rows are 16 KB each. Writes still go through the WAL as before.
  MDL_RETURN_IF_ERROR(Exec(impl->db, "PRAGMA mmap_size=2147418112"));
  MDL_RETURN_IF_ERROR(Exec(impl->db, "PRAGMA foreign_keys=ON"));
  int version;
  {
    Stmt s(impl->db, "PRAGMA user_version", kWhat);
    if (!s.ok() || s.Step() != SQLITE_ROW) return SqlError(impl->db, "user_version");
    version = static_cast<int>(s.ColInt(0));
  }
  if (version > kSchemaVersion) {
    return Status::DataLoss("ledger database schema " + std::to_string(version) +
                            " is newer than this build (" + std::to_string(kSchemaVersion) + ")");
  }
  for (int v = version; v < kSchemaVersion; ++v) {
    Status st = impl->Transaction([&]() -> Status {
      MDL_RETURN_IF_ERROR(Exec(impl->db, kMigrations[v].sql));
      if (kMigrations[v].convert != nullptr) MDL_RETURN_IF_ERROR(kMigrations[v].convert(impl->db));
      return Exec(impl->db, ("PRAGMA user_version=" + std::to_string(v + 1)).c_str());
    });
    if (!st.ok())
      return Status::Unavailable("migration " + std::to_string(v + 1) + ": " + st.message());
  }
  impl->cache.emplace(impl->db, kWhat);
  impl->leaf_insert.emplace(impl->db, "INSERT INTO leaves(idx, leaf_hash, entry) VALUES", 3, kWhat);
  impl->index_insert.emplace(impl->db, "INSERT OR IGNORE INTO entry_keys(kind, value, idx) VALUES",
                             3, kWhat);
  impl->tail_insert.emplace(impl->db, "INSERT INTO entry_keys_tail(kind, value, idx) VALUES", 3,
                            kWhat);
  if (sqlite3_prepare_v3(impl->db, "SELECT width, hashes FROM tiles WHERE level = ? AND idx = ?",
                         -1, SQLITE_PREPARE_PERSISTENT, &impl->tile_read, nullptr) != SQLITE_OK) {
    return SqlError(impl->db, "prepare");
  }
  impl->StartCheckpointer(path);
  return std::unique_ptr<SqliteLeafStore>(new SqliteLeafStore(std::move(impl)));
}

Result<uint64_t> SqliteLeafStore::Size() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->SizeLocked();
}

Status SqliteLeafStore::Append(const AppendBatch& batch) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::optional<tile_rows::Partials> next;
  std::vector<tile_rows::Row> tiles;
  bool merged = false;
  const bool direct = batch.keys.size() >= kDirectKeys;
  uint64_t size_before = 0;
  Status st = impl_->Transaction([&]() -> Status {
    MDL_ASSIGN_OR_RETURN(uint64_t size, impl_->SizeLocked());
    size_before = size;
    MDL_RETURN_IF_ERROR(impl_->FreshTail(size));
    for (size_t i = 0; i < batch.leaves.size(); ++i) {
      if (batch.leaves[i].index != size + i) {
        return Status::FailedPrecondition("append: leaf index " +
                                          std::to_string(batch.leaves[i].index) + ", expected " +
                                          std::to_string(size + i));
      }
    }
    if (!impl_->partials || impl_->partials->size != size) {
      impl_->partials.reset();
      MDL_ASSIGN_OR_RETURN(tile_rows::Partials loaded,
                           tile_rows::LoadPartials(size, [&](uint32_t level, uint64_t index) {
                             return impl_->ReadRow(level, index);
                           }));
      impl_->partials = std::move(loaded);
    }
    next = *impl_->partials;
    MDL_ASSIGN_OR_RETURN(tiles, tile_rows::AddBatch(*next, batch));
    Stmt tile =
        impl_->Cached("INSERT OR REPLACE INTO tiles(level, idx, width, hashes) VALUES(?, ?, ?, ?)");
    if (!tile.ok()) return SqlError(impl_->db, "prepare");
    MDL_RETURN_IF_ERROR(
        impl_->leaf_insert->Insert(batch.leaves.size(), [&](size_t i, sql::RowInserter::Row& row) {
          const StoredLeaf& l = batch.leaves[i];
          row.Int(static_cast<int64_t>(l.index)).Blob(l.leaf_hash).Blob(AsBytes(l.entry));
        }));
    for (const tile_rows::Row& t : tiles) {
      tile.Int(1, t.level).Int(2, static_cast<int64_t>(t.index)).Int(3, t.width).Blob(4, t.hashes);
      if (tile.Step() != SQLITE_DONE) return SqlError(impl_->db, "insert tile");
      tile.Reset();
    }
    // The keys go straight into the index in key order (kDirectKeys: neighbouring index entries
    // land on pages the previous insert touched), or else to the tail in commit order.
    std::vector<const std::pair<EntryKey, uint64_t>*> keys;
    keys.reserve(batch.keys.size());
    for (const auto& k : batch.keys) keys.push_back(&k);
    if (direct) {
      std::sort(keys.begin(), keys.end(), [](const auto* a, const auto* b) { return *a < *b; });
    }
    sql::RowInserter& into = direct ? *impl_->index_insert : *impl_->tail_insert;
    MDL_RETURN_IF_ERROR(into.Insert(keys.size(), [&](size_t i, sql::RowInserter::Row& row) {
      const auto& [k, idx] = *keys[i];
      row.Int(static_cast<int>(k.kind)).Text(k.value).Int(static_cast<int64_t>(idx));
    }));
    // A full tail moves into the index in key order: neighbouring index entries land on pages
    // the previous insert just touched, and each page is written once.
    if (!direct && impl_->tail_rows + batch.keys.size() >= kKeyMergeRows) {
      MDL_RETURN_IF_ERROR(Exec(impl_->db,
                               "INSERT OR IGNORE INTO entry_keys(kind, value, idx) "
                               "SELECT kind, value, idx FROM entry_keys_tail "
                               "ORDER BY kind, value, idx; "
                               "DELETE FROM entry_keys_tail"));
      merged = true;
    }
    if (batch.checkpoint) {
      Stmt s = impl_->Cached("INSERT OR REPLACE INTO checkpoints(size, note) VALUES(?, ?)");
      s.Int(1, static_cast<int64_t>(batch.checkpoint->size)).Text(2, batch.checkpoint->note);
      if (s.Step() != SQLITE_DONE) return SqlError(impl_->db, "insert checkpoint");
    }
    return Status::Ok();
  });
  if (!st.ok()) {
    impl_->partials.reset();  // reread from the database by the next batch
    impl_->tail_size.reset();  // and the key tail
    return st;
  }
  impl_->partials = std::move(next);
  if (merged) {
    impl_->tail.clear();
    impl_->tail_rows = 0;
  } else if (!direct) {
    for (const auto& [k, idx] : batch.keys) impl_->AddToTail(k, idx);
    impl_->tail_rows += batch.keys.size();
  }
  impl_->tail_size = size_before + batch.leaves.size();
  for (const tile_rows::Row& t : tiles) impl_->rows.Erase(t.level, t.index);
  return Status::Ok();
}

Status SqliteLeafStore::GetNode(uint32_t level, uint64_t index, Hash* out) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  const tile_rows::NodePlace place = tile_rows::PlaceOf(level, index);
  if (place.tile_level >= 64 / tile_rows::kHeight) {
    return Status::NotFound("node (" + std::to_string(level) + ", " + std::to_string(index) + ")");
  }
  // The narrowest row that holds the node: (pos + 1) nodes at this rise need that many times
  // 2^rise base hashes.
  const uint64_t min_width = (place.pos + 1) << place.rise;
  auto row = impl_->Row(place.tile_level, place.tile_index,
                        static_cast<uint32_t>(std::min<uint64_t>(min_width, tile_rows::kWidth)));
  if (!row) return row.error();
  if (!tile_rows::NodeFromRow(place, (*row)->width, (*row)->hashes.data(), out)) {
    return Status::NotFound("node (" + std::to_string(level) + ", " + std::to_string(index) + ")");
  }
  return Status::Ok();
}

Result<Bytes> SqliteLeafStore::GetTile(uint32_t level, uint64_t index, uint32_t width) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  MDL_ASSIGN_OR_RETURN(auto row, impl_->Row(level, index, width));
  if (row->width < width) {
    return Status::NotFound("tile (" + std::to_string(level) + ", " + std::to_string(index) +
                            ") is " + std::to_string(row->width) + " wide");
  }
  return Bytes(row->hashes.begin(),
               row->hashes.begin() + static_cast<ptrdiff_t>(width) * kHashSize);
}

Result<std::vector<StoredLeaf>> SqliteLeafStore::GetLeaves(uint64_t start, uint64_t end) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  MDL_ASSIGN_OR_RETURN(uint64_t size, impl_->SizeLocked());
  if (start > end || end > size) {
    return Status::InvalidArgument("leaves: range [" + std::to_string(start) + ", " +
                                   std::to_string(end) + ") outside the log of size " +
                                   std::to_string(size));
  }
  Stmt s(impl_->db,
         "SELECT idx, leaf_hash, entry FROM leaves WHERE idx >= ? AND idx < ? ORDER BY idx", kWhat);
  if (!s.ok()) return SqlError(impl_->db, "prepare");
  s.Int(1, static_cast<int64_t>(start)).Int(2, static_cast<int64_t>(end));
  std::vector<StoredLeaf> out;
  out.reserve(end - start);
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    StoredLeaf l;
    l.index = static_cast<uint64_t>(s.ColInt(0));
    if (!ToHash(s.ColBlob(1), &l.leaf_hash)) {
      return Status::DataLoss("leaf hash is not 32 bytes at " + std::to_string(l.index));
    }
    l.entry = s.ColBlob(2);
    out.push_back(std::move(l));
  }
  if (rc != SQLITE_DONE) return SqlError(impl_->db, "get leaves");
  if (out.size() != end - start)
    return Status::DataLoss("leaves: rows missing in [" + std::to_string(start) + ", " +
                            std::to_string(end) + ")");
  return out;
}

Result<std::vector<uint64_t>> SqliteLeafStore::FindByKey(const EntryKey& key, int64_t after,
                                                         size_t limit) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  MDL_ASSIGN_OR_RETURN(uint64_t size, impl_->SizeLocked());
  MDL_RETURN_IF_ERROR(impl_->FreshTail(size));
  Stmt s = impl_->Cached(
      "SELECT idx FROM entry_keys WHERE kind = ? AND value = ? AND idx > ? ORDER BY idx LIMIT ?");
  if (!s.ok()) return SqlError(impl_->db, "prepare");
  s.Int(1, static_cast<int>(key.kind)).Text(2, key.value).Int(3, after);
  s.Int(4, static_cast<int64_t>(limit));
  std::vector<uint64_t> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(static_cast<uint64_t>(s.ColInt(0)));
  if (rc != SQLITE_DONE) return SqlError(impl_->db, "find by key");
  // Then the tail's (kKeyMergeRows): the union, ascending, of the index's first `limit` and the
  // tail's (a large commit writes to the index directly, kDirectKeys, so they interleave).
  auto t = impl_->tail.find(key);
  if (t != impl_->tail.end()) {
    for (uint64_t idx : t->second) {
      if (static_cast<int64_t>(idx) > after) out.push_back(idx);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    if (out.size() > limit) out.resize(limit);
  }
  return out;
}

Result<std::optional<StoredCheckpoint>> SqliteLeafStore::LatestCheckpoint() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  Stmt s(impl_->db, "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1", kWhat);
  if (!s.ok()) return SqlError(impl_->db, "prepare");
  int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<StoredCheckpoint>();
  if (rc != SQLITE_ROW) return SqlError(impl_->db, "latest checkpoint");
  return std::optional<StoredCheckpoint>(
      StoredCheckpoint{static_cast<uint64_t>(s.ColInt(0)), s.Col(1)});
}

Result<std::vector<StoredCheckpoint>> SqliteLeafStore::GetCheckpoints(uint64_t from_size,
                                                                      size_t limit) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  Stmt s(impl_->db, "SELECT size, note FROM checkpoints WHERE size >= ? ORDER BY size LIMIT ?",
         kWhat);
  if (!s.ok()) return SqlError(impl_->db, "prepare");
  s.Int(1, static_cast<int64_t>(from_size)).Int(2, static_cast<int64_t>(limit));
  std::vector<StoredCheckpoint> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    out.push_back({static_cast<uint64_t>(s.ColInt(0)), s.Col(1)});
  }
  if (rc != SQLITE_DONE) return SqlError(impl_->db, "checkpoints");
  return out;
}

Status SqliteLeafStore::PutCheckpoint(const StoredCheckpoint& checkpoint) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->Transaction([&]() -> Status {
    Stmt s(impl_->db, "INSERT OR REPLACE INTO checkpoints(size, note) VALUES(?, ?)", kWhat);
    s.Int(1, static_cast<int64_t>(checkpoint.size)).Text(2, checkpoint.note);
    if (s.Step() != SQLITE_DONE) return SqlError(impl_->db, "put checkpoint");
    return Status::Ok();
  });
}

Result<std::optional<LeafStore::WitnessState>> SqliteLeafStore::GetWitnessState(
    const std::string& origin) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  Stmt s(impl_->db, "SELECT size, root FROM witness_state WHERE origin = ?", kWhat);
  if (!s.ok()) return SqlError(impl_->db, "prepare");
  s.Text(1, origin);
  int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<WitnessState>();
  if (rc != SQLITE_ROW) return SqlError(impl_->db, "witness state");
  WitnessState w;
  w.size = static_cast<uint64_t>(s.ColInt(0));
  if (!ToHash(s.ColBlob(1), &w.root)) return Status::DataLoss("witness root is not 32 bytes");
  return std::optional<WitnessState>(w);
}

Status SqliteLeafStore::CompareAndSetWitnessState(const std::string& origin,
                                                  std::optional<uint64_t> expected_size,
                                                  const WitnessState& state) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->Transaction([&]() -> Status {
    Stmt get(impl_->db, "SELECT size FROM witness_state WHERE origin = ?", kWhat);
    get.Text(1, origin);
    int rc = get.Step();
    std::optional<uint64_t> current;
    if (rc == SQLITE_ROW)
      current = static_cast<uint64_t>(get.ColInt(0));
    else if (rc != SQLITE_DONE)
      return SqlError(impl_->db, "witness state");
    if (current != expected_size) {
      return Status::FailedPrecondition("witness state for " + origin + " changed");
    }
    Stmt put(impl_->db, "INSERT OR REPLACE INTO witness_state(origin, size, root) VALUES(?, ?, ?)",
             kWhat);
    put.Text(1, origin).Int(2, static_cast<int64_t>(state.size)).Blob(3, state.root);
    if (put.Step() != SQLITE_DONE) return SqlError(impl_->db, "put witness state");
    return Status::Ok();
  });
}

}  // namespace medallion::ledger
