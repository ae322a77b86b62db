// SQLite helpers for the modules' stores (records, consent, the society): statements with
// typed binds, explicit IMMEDIATE transactions, and opening a database in WAL mode with
// numbered migrations. Header-only: a module that includes it links SQLite::SQLite3.
#pragma once

#include <sqlite3.h>

#include <string>
#include <string_view>

#include "medallion/core/status.h"

namespace medallion::sql {

// `what` names the store in error messages ("records", "consent").
inline Status Exec(sqlite3* db, const char* statement, std::string_view what) {
  char* err = nullptr;
  if (sqlite3_exec(db, statement, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : "unknown";
    sqlite3_free(err);
    return Status::Unavailable(std::string(what) + ": sqlite: " + m);
  }
  return Status::Ok();
}

class Stmt {
 public:
  Stmt(sqlite3* db, const char* statement, std::string_view what = "store") : db_(db), what_(what) {
    ok_ = sqlite3_prepare_v2(db, statement, -1, &s_, nullptr) == SQLITE_OK;
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return ok_; }
  Stmt& Text(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Blob(int i, const void* p, size_t n) {
    sqlite3_bind_blob(s_, i, p, static_cast<int>(n), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Int(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return ok_ ? sqlite3_step(s_) : SQLITE_ERROR; }
  std::string Col(int i) {
    auto p = sqlite3_column_text(s_, i);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(s_, i))) : "";
  }
  std::string ColBlob(int i) {
    auto p = static_cast<const char*>(sqlite3_column_blob(s_, i));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s_, i))) : "";
  }
  int64_t ColInt(int i) { return sqlite3_column_int64(s_, i); }
  Status Error() const { return Status::Unavailable(std::string(what_) + ": sqlite: " + sqlite3_errmsg(db_)); }

 private:
  sqlite3* db_;
  std::string_view what_;
  sqlite3_stmt* s_ = nullptr;
  bool ok_ = false;
};

// Runs `body` in BEGIN IMMEDIATE ... COMMIT; rolls back if it fails or the commit does.
template <typename F>
Status InTransaction(sqlite3* db, std::string_view what, F&& body) {
  MDL_RETURN_IF_ERROR(Exec(db, "BEGIN IMMEDIATE", what));
  Status st = body();
  if (!st.ok()) {
    (void)Exec(db, "ROLLBACK", what);
    return st;
  }
  st = Exec(db, "COMMIT", what);
  if (!st.ok()) (void)Exec(db, "ROLLBACK", what);
  return st;
}

// Opens (creating) `path` serialized (FULLMUTEX), WAL with synchronous=FULL, and applies the
// migrations it has not seen, each numbered by its position. On success *out owns the handle.
// Errors: unavailable (cannot open), failed_precondition (a newer schema), data_loss.
template <size_t N>
Status OpenDatabase(const std::string& path, std::string_view what, const char* const (&migrations)[N], sqlite3** out) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr) !=
      SQLITE_OK) {
    std::string m = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Status::Unavailable(std::string(what) + ": cannot open " + path + ": " + m);
  }
  auto fail = [&](Status st) {
    sqlite3_close(db);
    return st;
  };
  sqlite3_busy_timeout(db, 5000);
  Status st = Exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA secure_delete=ON;", what);
  if (st.ok()) st = Exec(db, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)", what);
  if (st.ok()) {
    st = InTransaction(db, what, [&]() -> Status {
      Stmt q(db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", what);
      if (q.Step() != SQLITE_ROW) return Status::DataLoss(std::string(what) + ": cannot read the schema version");
      const int64_t have = q.ColInt(0);
      const int64_t want = static_cast<int64_t>(N);
      if (have > want) return Status::FailedPrecondition(std::string(what) + ": database schema is newer than this build");
      for (int64_t v = have; v < want; ++v) {
        MDL_RETURN_IF_ERROR(Exec(db, migrations[v], what));
        Stmt ins(db, "INSERT INTO schema_migrations (version) VALUES (?)", what);
        if (ins.Int(1, v + 1).Step() != SQLITE_DONE) return ins.Error();
      }
      return Status::Ok();
    });
  }
  if (!st.ok()) return fail(st);
  *out = db;
  return Status::Ok();
}

}  // namespace medallion::sql
