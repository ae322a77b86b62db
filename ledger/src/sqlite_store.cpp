// SqliteLeafStore: the ledger's embedded storage (WAL, synchronous=FULL, one transaction
// per sequencer batch, numbered migrations in PRAGMA user_version).
#include "medallion/ledger/store.h"

#include <sqlite3.h>

#include <cstring>
#include <mutex>
#include <unordered_map>

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

// A prepared statement: owned (finalized on destruction), or borrowed from the store's
// statement cache (reset and unbound on destruction, so it holds no read transaction open).
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) != SQLITE_OK) s_ = nullptr;
  }
  Stmt(sqlite3* db, sqlite3_stmt* cached) : db_(db), s_(cached), owned_(false) {}
  ~Stmt() {
    if (owned_) {
      sqlite3_finalize(s_);
    } else if (s_ != nullptr) {
      sqlite3_reset(s_);
      sqlite3_clear_bindings(s_);
    }
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return s_ != nullptr; }
  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& Bind(int i, ByteView b) {
    sqlite3_bind_blob(s_, i, b.data(), static_cast<int>(b.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& BindText(int i, std::string_view t) {
    sqlite3_bind_text(s_, i, t.data(), static_cast<int>(t.size()), SQLITE_TRANSIENT);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return sqlite3_step(s_); }
  // Makes the statement ready for new bindings (prepared once, run per row).
  void Reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  int64_t Int(int col) { return sqlite3_column_int64(s_, col); }
  Bytes Blob(int col) {
    auto p = static_cast<const uint8_t*>(sqlite3_column_blob(s_, col));
    return Bytes(p, p + sqlite3_column_bytes(s_, col));
  }
  std::string Text(int col) {
    auto p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return p ? std::string(p, sqlite3_column_bytes(s_, col)) : std::string();
  }
  Status Error(const char* what) const {
    return Status::Unavailable(std::string("sqlite: ") + what + ": " + sqlite3_errmsg(db_));
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
  bool owned_ = true;
};

Status Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : "unknown";
    sqlite3_free(err);
    return Status::Unavailable(std::string("sqlite: ") + m);
  }
  return Status::Ok();
}

bool ToHash(const Bytes& b, Hash* out) {
  if (b.size() != kHashSize) return false;
  std::memcpy(out->data(), b.data(), kHashSize);
  return true;
}

}  // namespace

struct SqliteLeafStore::Impl {
  std::mutex mu;
  sqlite3* db = nullptr;
  // Statements of the hot paths (node reads for proofs, batch inserts, the size and key
  // lookups), prepared once: preparing costs more than running them. Keyed by the SQL
  // literal's address; used under `mu` only.
  std::unordered_map<const char*, sqlite3_stmt*> cache;
  ~Impl() {
    for (auto& [sql, s] : cache) sqlite3_finalize(s);
    if (db) sqlite3_close(db);
  }
  // A cached statement for `sql` (a string literal), ready for binding. REQUIRES: mu held.
  Stmt Cached(const char* sql) {
    auto it = cache.find(sql);
    if (it == cache.end()) {
      sqlite3_stmt* s = nullptr;
      if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) {
        sqlite3_finalize(s);
        return Stmt(db, static_cast<sqlite3_stmt*>(nullptr));
      }
      it = cache.emplace(sql, s).first;
    }
    return Stmt(db, it->second);
  }
  // Runs `body` inside BEGIN IMMEDIATE ... COMMIT, rolling back on error.
  template <typename F>
  Status Transaction(F&& body) {
    MDL_RETURN_IF_ERROR(Exec(db, "BEGIN IMMEDIATE"));
    Status st = body();
    if (!st.ok()) {
      (void)Exec(db, "ROLLBACK");
      return st;
    }
    st = Exec(db, "COMMIT");
    if (!st.ok()) (void)Exec(db, "ROLLBACK");
    return st;
  }
  Result<uint64_t> SizeLocked() {
    Stmt s = Cached("SELECT COALESCE(MAX(idx) + 1, 0) FROM leaves");
    if (!s.ok() || s.Step() != SQLITE_ROW) return s.Error("size");
    return static_cast<uint64_t>(s.Int(0));
  }
};

SqliteLeafStore::SqliteLeafStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteLeafStore::~SqliteLeafStore() = default;

int SqliteLeafStore::SchemaVersion() { return kSchemaVersion; }

Result<std::unique_ptr<SqliteLeafStore>> SqliteLeafStore::Open(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  if (sqlite3_open_v2(path.c_str(), &impl->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
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
    Stmt s(impl->db, "PRAGMA user_version");
    if (!s.ok() || s.Step() != SQLITE_ROW) return s.Error("user_version");
    version = static_cast<int>(s.Int(0));
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
    if (!st.ok()) return Status::Unavailable("migration " + std::to_string(v + 1) + ": " + st.message());
  }
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
        return Status::FailedPrecondition("append: leaf index " + std::to_string(batch.leaves[i].index) +
                                          ", expected " + std::to_string(size + i));
      }
    }
    Stmt leaf = impl_->Cached("INSERT INTO leaves(idx, leaf_hash, entry) VALUES(?, ?, ?)");
    Stmt node = impl_->Cached("INSERT INTO nodes(level, idx, hash) VALUES(?, ?, ?)");
    Stmt key = impl_->Cached("INSERT OR IGNORE INTO entry_keys(kind, value, idx) VALUES(?, ?, ?)");
    if (!leaf.ok() || !node.ok() || !key.ok()) return leaf.Error("prepare");
    for (const StoredLeaf& l : batch.leaves) {
      leaf.Bind(1, static_cast<int64_t>(l.index)).Bind(2, l.leaf_hash).Bind(3, AsBytes(l.entry));
      if (leaf.Step() != SQLITE_DONE) return leaf.Error("insert leaf");
      leaf.Reset();
    }
    for (const CompactRange::Node& n : batch.nodes) {
      if (n.level == 0) continue;  // level 0 is the leaves table
      node.Bind(1, n.level).Bind(2, static_cast<int64_t>(n.index)).Bind(3, n.hash);
      if (node.Step() != SQLITE_DONE) return node.Error("insert node");
      node.Reset();
    }
    for (const auto& [k, idx] : batch.keys) {
      key.Bind(1, static_cast<int>(k.kind)).BindText(2, k.value).Bind(3, static_cast<int64_t>(idx));
      if (key.Step() != SQLITE_DONE) return key.Error("insert key");
      key.Reset();
    }
    if (batch.checkpoint) {
      Stmt s = impl_->Cached("INSERT OR REPLACE INTO checkpoints(size, note) VALUES(?, ?)");
      s.Bind(1, static_cast<int64_t>(batch.checkpoint->size)).BindText(2, batch.checkpoint->note);
      if (s.Step() != SQLITE_DONE) return s.Error("insert checkpoint");
    }
    return Status::Ok();
  });
}

Status SqliteLeafStore::GetNode(uint32_t level, uint64_t index, Hash* out) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  Stmt s = level == 0 ? impl_->Cached("SELECT leaf_hash FROM leaves WHERE idx = ?2")
                      : impl_->Cached("SELECT hash FROM nodes WHERE level = ?1 AND idx = ?2");
  if (!s.ok()) return s.Error("prepare");
  if (level != 0) s.Bind(1, level);
  s.Bind(2, static_cast<int64_t>(index));
  int rc = s.Step();
  if (rc == SQLITE_DONE) {
    return Status::NotFound("node (" + std::to_string(level) + ", " + std::to_string(index) + ")");
  }
  if (rc != SQLITE_ROW) return s.Error("get node");
  if (!ToHash(s.Blob(0), out)) return Status::DataLoss("node hash is not 32 bytes");
  return Status::Ok();
}

Result<std::vector<StoredLeaf>> SqliteLeafStore::GetLeaves(uint64_t start, uint64_t end) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  MDL_ASSIGN_OR_RETURN(uint64_t size, impl_->SizeLocked());
  if (start > end || end > size) {
    return Status::InvalidArgument("leaves: range [" + std::to_string(start) + ", " + std::to_string(end) +
                                   ") outside the log of size " + std::to_string(size));
  }
  Stmt s(impl_->db, "SELECT idx, leaf_hash, entry FROM leaves WHERE idx >= ? AND idx < ? ORDER BY idx");
  if (!s.ok()) return s.Error("prepare");
  s.Bind(1, static_cast<int64_t>(start)).Bind(2, static_cast<int64_t>(end));
  std::vector<StoredLeaf> out;
  out.reserve(end - start);
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    StoredLeaf l;
    l.index = static_cast<uint64_t>(s.Int(0));
    Bytes h = s.Blob(1);
    if (!ToHash(h, &l.leaf_hash)) return Status::DataLoss("leaf hash is not 32 bytes at " + std::to_string(l.index));
    Bytes e = s.Blob(2);
    l.entry.assign(e.begin(), e.end());
    out.push_back(std::move(l));
  }
  if (rc != SQLITE_DONE) return s.Error("get leaves");
  if (out.size() != end - start) return Status::DataLoss("leaves: rows missing in [" + std::to_string(start) + ", " + std::to_string(end) + ")");
  return out;
}

Result<std::vector<uint64_t>> SqliteLeafStore::FindByKey(const EntryKey& key, int64_t after, size_t limit) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  Stmt s = impl_->Cached("SELECT idx FROM entry_keys WHERE kind = ? AND value = ? AND idx > ? ORDER BY idx LIMIT ?");
  if (!s.ok()) return s.Error("prepare");
  s.Bind(1, static_cast<int>(key.kind)).BindText(2, key.value).Bind(3, after).Bind(4, static_cast<int64_t>(limit));
  std::vector<uint64_t> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(static_cast<uint64_t>(s.Int(0)));
  if (rc != SQLITE_DONE) return s.Error("find by key");
  return out;
}

Result<std::optional<StoredCheckpoint>> SqliteLeafStore::LatestCheckpoint() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  Stmt s(impl_->db, "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1");
  if (!s.ok()) return s.Error("prepare");
  int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<StoredCheckpoint>();
  if (rc != SQLITE_ROW) return s.Error("latest checkpoint");
  return std::optional<StoredCheckpoint>(StoredCheckpoint{static_cast<uint64_t>(s.Int(0)), s.Text(1)});
}

Result<std::vector<StoredCheckpoint>> SqliteLeafStore::GetCheckpoints(uint64_t from_size, size_t limit) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  Stmt s(impl_->db, "SELECT size, note FROM checkpoints WHERE size >= ? ORDER BY size LIMIT ?");
  if (!s.ok()) return s.Error("prepare");
  s.Bind(1, static_cast<int64_t>(from_size)).Bind(2, static_cast<int64_t>(limit));
  std::vector<StoredCheckpoint> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back({static_cast<uint64_t>(s.Int(0)), s.Text(1)});
  if (rc != SQLITE_DONE) return s.Error("checkpoints");
  return out;
}

Status SqliteLeafStore::PutCheckpoint(const StoredCheckpoint& checkpoint) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->Transaction([&]() -> Status {
    Stmt s(impl_->db, "INSERT OR REPLACE INTO checkpoints(size, note) VALUES(?, ?)");
    s.Bind(1, static_cast<int64_t>(checkpoint.size)).BindText(2, checkpoint.note);
    if (s.Step() != SQLITE_DONE) return s.Error("put checkpoint");
    return Status::Ok();
  });
}

Result<std::optional<LeafStore::WitnessState>> SqliteLeafStore::GetWitnessState(const std::string& origin) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  Stmt s(impl_->db, "SELECT size, root FROM witness_state WHERE origin = ?");
  if (!s.ok()) return s.Error("prepare");
  s.BindText(1, origin);
  int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<WitnessState>();
  if (rc != SQLITE_ROW) return s.Error("witness state");
  WitnessState w;
  w.size = static_cast<uint64_t>(s.Int(0));
  if (!ToHash(s.Blob(1), &w.root)) return Status::DataLoss("witness root is not 32 bytes");
  return std::optional<WitnessState>(w);
}

Status SqliteLeafStore::CompareAndSetWitnessState(const std::string& origin, std::optional<uint64_t> expected_size,
                                                  const WitnessState& state) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->Transaction([&]() -> Status {
    Stmt get(impl_->db, "SELECT size FROM witness_state WHERE origin = ?");
    get.BindText(1, origin);
    int rc = get.Step();
    std::optional<uint64_t> current;
    if (rc == SQLITE_ROW) current = static_cast<uint64_t>(get.Int(0));
    else if (rc != SQLITE_DONE) return get.Error("witness state");
    if (current != expected_size) {
      return Status::FailedPrecondition("witness state for " + origin + " changed");
    }
    Stmt put(impl_->db, "INSERT OR REPLACE INTO witness_state(origin, size, root) VALUES(?, ?, ?)");
    put.BindText(1, origin).Bind(2, static_cast<int64_t>(state.size)).Bind(3, state.root);
    if (put.Step() != SQLITE_DONE) return put.Error("put witness state");
    return Status::Ok();
  });
}

}  // namespace medallion::ledger
