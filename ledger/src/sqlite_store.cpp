// SqliteLeafStore: the ledger's embedded storage (WAL, synchronous=FULL, one transaction
// per sequencer batch, numbered migrations in PRAGMA user_version).
#include "medallion/ledger/store.h"

#include <sqlite3.h>

#include <cstring>
#include <mutex>
#include <optional>

#include "medallion/storage/sqlite.h"

namespace medallion::ledger {
namespace {

// Migration N brings the schema from version N-1 to N. Append only; never edit a shipped one.
const char* const kMigrations[] = {
    // 1: leaves, complete-subtree nodes above the leaves, key index, checkpoints, witness state.
    R"sql(
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
)sql",
};
constexpr int kSchemaVersion = sizeof(kMigrations) / sizeof(kMigrations[0]);

// Statements, the statement cache and transactions are storage's (storage/sqlite.h). A failed
// statement still reads "sqlite: <operation>: <SQLite's message>"; a failed Exec (pragmas,
// migrations, BEGIN/COMMIT) reads as storage words it, "ledger: sqlite: <SQLite's message>".
using sql::Stmt;
constexpr std::string_view kWhat = "ledger";

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

}  // namespace

struct SqliteLeafStore::Impl {
  std::mutex mu;
  sqlite3* db = nullptr;
  // Statements of the hot paths (node reads for proofs, batch inserts, the size and key
  // lookups), prepared once: preparing costs more than running them. Used under `mu` only.
  std::optional<sql::StmtCache> cache;
  ~Impl() {
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
      MDL_RETURN_IF_ERROR(Exec(impl->db, kMigrations[v]));
      return Exec(impl->db, ("PRAGMA user_version=" + std::to_string(v + 1)).c_str());
    });
    if (!st.ok())
      return Status::Unavailable("migration " + std::to_string(v + 1) + ": " + st.message());
  }
  impl->cache.emplace(impl->db, kWhat);
  return std::unique_ptr<SqliteLeafStore>(new SqliteLeafStore(std::move(impl)));
}

Result<uint64_t> SqliteLeafStore::Size() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->SizeLocked();
}

Status SqliteLeafStore::Append(const AppendBatch& batch) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->Transaction([&]() -> Status {
    MDL_ASSIGN_OR_RETURN(uint64_t size, impl_->SizeLocked());
    for (size_t i = 0; i < batch.leaves.size(); ++i) {
      if (batch.leaves[i].index != size + i) {
        return Status::FailedPrecondition("append: leaf index " +
                                          std::to_string(batch.leaves[i].index) + ", expected " +
                                          std::to_string(size + i));
      }
    }
    Stmt leaf = impl_->Cached("INSERT INTO leaves(idx, leaf_hash, entry) VALUES(?, ?, ?)");
    Stmt node = impl_->Cached("INSERT INTO nodes(level, idx, hash) VALUES(?, ?, ?)");
    Stmt key = impl_->Cached("INSERT OR IGNORE INTO entry_keys(kind, value, idx) VALUES(?, ?, ?)");
    if (!leaf.ok() || !node.ok() || !key.ok()) return SqlError(impl_->db, "prepare");
    for (const StoredLeaf& l : batch.leaves) {
      leaf.Int(1, static_cast<int64_t>(l.index)).Blob(2, l.leaf_hash).Blob(3, AsBytes(l.entry));
      if (leaf.Step() != SQLITE_DONE) return SqlError(impl_->db, "insert leaf");
      leaf.Reset();
    }
    for (const CompactRange::Node& n : batch.nodes) {
      if (n.level == 0) continue;  // level 0 is the leaves table
      node.Int(1, n.level).Int(2, static_cast<int64_t>(n.index)).Blob(3, n.hash);
      if (node.Step() != SQLITE_DONE) return SqlError(impl_->db, "insert node");
      node.Reset();
    }
    for (const auto& [k, idx] : batch.keys) {
      key.Int(1, static_cast<int>(k.kind)).Text(2, k.value).Int(3, static_cast<int64_t>(idx));
      if (key.Step() != SQLITE_DONE) return SqlError(impl_->db, "insert key");
      key.Reset();
    }
    if (batch.checkpoint) {
      Stmt s = impl_->Cached("INSERT OR REPLACE INTO checkpoints(size, note) VALUES(?, ?)");
      s.Int(1, static_cast<int64_t>(batch.checkpoint->size)).Text(2, batch.checkpoint->note);
      if (s.Step() != SQLITE_DONE) return SqlError(impl_->db, "insert checkpoint");
    }
    return Status::Ok();
  });
}

Status SqliteLeafStore::GetNode(uint32_t level, uint64_t index, Hash* out) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  Stmt s = level == 0 ? impl_->Cached("SELECT leaf_hash FROM leaves WHERE idx = ?2")
                      : impl_->Cached("SELECT hash FROM nodes WHERE level = ?1 AND idx = ?2");
  if (!s.ok()) return SqlError(impl_->db, "prepare");
  if (level != 0) s.Int(1, level);
  s.Int(2, static_cast<int64_t>(index));
  int rc = s.Step();
  if (rc == SQLITE_DONE) {
    return Status::NotFound("node (" + std::to_string(level) + ", " + std::to_string(index) + ")");
  }
  if (rc != SQLITE_ROW) return SqlError(impl_->db, "get node");
  if (!ToHash(s.ColBlob(0), out)) return Status::DataLoss("node hash is not 32 bytes");
  return Status::Ok();
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
  Stmt s = impl_->Cached(
      "SELECT idx FROM entry_keys WHERE kind = ? AND value = ? AND idx > ? ORDER BY idx LIMIT ?");
  if (!s.ok()) return SqlError(impl_->db, "prepare");
  s.Int(1, static_cast<int>(key.kind)).Text(2, key.value).Int(3, after);
  s.Int(4, static_cast<int64_t>(limit));
  std::vector<uint64_t> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(static_cast<uint64_t>(s.ColInt(0)));
  if (rc != SQLITE_DONE) return SqlError(impl_->db, "find by key");
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
