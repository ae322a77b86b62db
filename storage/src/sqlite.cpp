// The SQLite helper (medallion/storage/sqlite.h).
#include "medallion/storage/sqlite.h"

#include "medallion/core/metrics.h"
#include "pg_internal.h"

namespace medallion::sql {

Status Exec(sqlite3* db, const char* statement, std::string_view what) {
  char* err = nullptr;
  if (sqlite3_exec(db, statement, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : "unknown";
    sqlite3_free(err);
    return Status::Unavailable(std::string(what) + ": sqlite: " + m);
  }
  return Status::Ok();
}

Stmt::Stmt(sqlite3* db, const char* statement, std::string_view what) : db_(db), what_(what) {
  ok_ = sqlite3_prepare_v2(db, statement, -1, &s_, nullptr) == SQLITE_OK;
}

Stmt::Stmt(sqlite3* db, sqlite3_stmt* cached, std::string_view what)
    : db_(db), what_(what), s_(cached), ok_(cached != nullptr), owned_(false) {}

Stmt::Stmt(PgStmt* pg, bool owned, std::string_view what)
    : pg_(pg), what_(what), ok_(pg->ok()), owned_(owned) {}

Stmt::Stmt(StmtCache& cache, const char* statement, std::string_view what)
    : db_(cache.db_), what_(what), owned_(false) {
  if (cache.pg_ != nullptr) {
    pg_ = cache.PgPrepared(statement);
    ok_ = pg_->ok();
  } else {
    s_ = cache.Prepared(statement);
    ok_ = s_ != nullptr;
  }
}

Stmt::Stmt(Db& db, const char* statement, std::string_view what) : db_(db.sqlite()), what_(what) {
  if (db.pg() != nullptr) {
    pg_ = new PgStmt(db.pg(), statement);
    ok_ = pg_->ok();
  } else {
    ok_ = sqlite3_prepare_v2(db_, statement, -1, &s_, nullptr) == SQLITE_OK;
  }
}

Stmt::~Stmt() {
  if (pg_ != nullptr) {
    if (owned_) {
      delete pg_;
    } else {
      pg_->Reset();
    }
  } else if (owned_) {
    sqlite3_finalize(s_);
  } else if (s_ != nullptr) {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
}

Stmt& Stmt::Text(int i, std::string_view v) {
  if (pg_) return pg_->Bind(i, v, false), *this;
  sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}

Stmt& Stmt::Blob(int i, const void* p, size_t n) {
  if (pg_) return pg_->Bind(i, std::string_view(static_cast<const char*>(p), n), true), *this;
  sqlite3_bind_blob(s_, i, p, static_cast<int>(n), SQLITE_TRANSIENT);
  return *this;
}

Stmt& Stmt::Int(int i, int64_t v) {
  if (pg_) return pg_->Bind(i, std::to_string(v), false), *this;
  sqlite3_bind_int64(s_, i, v);
  return *this;
}

Stmt& Stmt::Null(int i) {
  if (pg_) return pg_->BindNull(i), *this;
  sqlite3_bind_null(s_, i);
  return *this;
}

int Stmt::Step() {
  if (pg_) return pg_->Step();
  return ok_ ? sqlite3_step(s_) : SQLITE_ERROR;
}

void Stmt::Reset() {
  if (pg_) return pg_->Reset();
  if (!ok_) return;
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
}

std::string Stmt::Col(int i) {
  if (pg_) return pg_->Col(i);
  auto p = sqlite3_column_text(s_, i);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<size_t>(sqlite3_column_bytes(s_, i)))
           : "";
}

std::string Stmt::ColBlob(int i) {
  if (pg_) return pg_->Col(i);
  auto p = static_cast<const char*>(sqlite3_column_blob(s_, i));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s_, i))) : "";
}

int64_t Stmt::ColInt(int i) { return pg_ ? pg_->ColInt(i) : sqlite3_column_int64(s_, i); }

bool Stmt::ColIsNull(int i) {
  return pg_ ? pg_->ColIsNull(i) : sqlite3_column_type(s_, i) == SQLITE_NULL;
}

Status Stmt::Error() const {
  if (pg_) {
    std::string m = pg_->error();
    while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
    return Status::Unavailable(std::string(what_) + ": postgresql: " + m);
  }
  return Status::Unavailable(std::string(what_) + ": sqlite: " + sqlite3_errmsg(db_));
}

StmtCache::StmtCache(sqlite3* db, std::string_view what) : db_(db), what_(what) {}

StmtCache::StmtCache(Db& db, std::string_view what) : db_(db.sqlite()), pg_(db.pg()), what_(what) {}

StmtCache::~StmtCache() {
  for (auto& [statement, s] : stmts_) sqlite3_finalize(s);
  for (auto& [statement, s] : pg_stmts_) delete s;
}

PgStmt* StmtCache::PgPrepared(const char* statement) {
  auto it = pg_stmts_.find(statement);
  if (it == pg_stmts_.end()) it = pg_stmts_.emplace(statement, new PgStmt(pg_, statement)).first;
  return it->second;
}

sqlite3_stmt* StmtCache::Prepared(const char* statement) {
  auto it = stmts_.find(statement);
  if (it == stmts_.end()) {
    sqlite3_stmt* s = nullptr;
    const int rc = sqlite3_prepare_v3(db_, statement, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(s);
      return nullptr;
    }
    it = stmts_.emplace(statement, s).first;
  }
  return it->second;
}

Stmt StmtCache::Get(const char* statement) {
  if (pg_) return Stmt(PgPrepared(statement), false, what_);
  return Stmt(db_, Prepared(statement), what_);
}

RowInserter::Row& RowInserter::Row::Int(int64_t v) {
  sqlite3_bind_int64(s_, next_++, v);
  return *this;
}

RowInserter::Row& RowInserter::Row::Text(std::string_view v) {
  sqlite3_bind_text(s_, next_++, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  return *this;
}

RowInserter::Row& RowInserter::Row::Blob(ByteView v) {
  // A zero-length blob with a null pointer would bind NULL: point at something.
  static const uint8_t kEmpty = 0;
  sqlite3_bind_blob(s_, next_++, v.empty() ? &kEmpty : v.data(), static_cast<int>(v.size()),
                    SQLITE_STATIC);
  return *this;
}

RowInserter::RowInserter(sqlite3* db, std::string head, int columns, std::string_view what)
    : db_(db), head_(std::move(head)), columns_(columns), what_(what) {}

RowInserter::~RowInserter() {
  for (sqlite3_stmt* s : stmts_) sqlite3_finalize(s);
}

sqlite3_stmt* RowInserter::Statement(int rows) {
  size_t k = 0;
  while ((1 << k) < rows) ++k;
  if (stmts_[k] != nullptr) return stmts_[k];
  std::string one = "(";
  for (int c = 0; c < columns_; ++c) one += c == 0 ? "?" : ", ?";
  one += ")";
  std::string q = head_;
  for (int r = 0; r < rows; ++r) q += (r == 0 ? " " : ", ") + one;
  // PERSISTENT: kept for the connection's life, which SQLite's lookaside does not serve.
  if (sqlite3_prepare_v3(db_, q.c_str(), static_cast<int>(q.size()), SQLITE_PREPARE_PERSISTENT,
                         &stmts_[k], nullptr) != SQLITE_OK) {
    sqlite3_finalize(stmts_[k]);
    stmts_[k] = nullptr;
  }
  return stmts_[k];
}

Status RowInserter::Error() const {
  return Status::Unavailable(std::string(what_) + ": sqlite: " + sqlite3_errmsg(db_));
}

Status RowInserter::WrongColumns(sqlite3_stmt* s, int bound) const {
  sqlite3_reset(s);
  return Status::Internal(std::string(what_) + ": a row bound " + std::to_string(bound) +
                          " values for " + std::to_string(columns_) + " columns");
}

Status Commit(sqlite3* db, std::string_view what) {
  metrics::ScopedTimer timer("medallion_sqlite_commit_seconds",
                             "SQLite COMMIT latency (the WAL fsync with synchronous=FULL), by store",
                             {{"store", std::string(what)}});
  return Exec(db, "COMMIT", what);
}

Status OpenDatabase(const std::string& path, std::string_view what,
                    std::span<const char* const> migrations, sqlite3** out) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string m = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Status::Unavailable(std::string(what) + ": cannot open " + path + ": " + m);
  }
  sqlite3_busy_timeout(db, 5000);
  Status st =
      Exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA secure_delete=ON;", what);
  if (st.ok())
    st = Exec(db, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)",
              what);
  if (st.ok()) {
    st = InTransaction(db, what, [&]() -> Status {
      Stmt q(db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", what);
      if (q.Step() != SQLITE_ROW)
        return Status::DataLoss(std::string(what) + ": cannot read the schema version");
      const int64_t have = q.ColInt(0);
      const auto want = static_cast<int64_t>(migrations.size());
      if (have > want)
        return Status::FailedPrecondition(std::string(what) +
                                          ": database schema is newer than this build");
      for (int64_t v = have; v < want; ++v) {
        MDL_RETURN_IF_ERROR(Exec(db, migrations[static_cast<size_t>(v)], what));
        Stmt ins(db, "INSERT INTO schema_migrations (version) VALUES (?)", what);
        if (ins.Int(1, v + 1).Step() != SQLITE_DONE) return ins.Error();
      }
      return Status::Ok();
    });
  }
  if (!st.ok()) {
    sqlite3_close(db);
    return st;
  }
  *out = db;
  return Status::Ok();
}

}  // namespace medallion::sql
