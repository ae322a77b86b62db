// One connection to a store's database on either backend: a SQLite file (the default) or a
// PostgreSQL database shared by the containers of a host, each container's rows kept apart by a
// tenant column and row-level security (docs/scale-out.md §"The container host on PostgreSQL").
// Statements over a Db are the sql::Stmt of medallion/storage/sqlite.h, written once in the
// common SQL both backends run: `?` placeholders (rewritten $1, $2 ... for PostgreSQL) and
// INSERT OR IGNORE (rewritten INSERT ... ON CONFLICT DO NOTHING); anything else that differs is
// chosen by the caller on backend(). Not thread safe: the caller serializes, as for a sqlite3*.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "medallion/core/status.h"

struct sqlite3;

namespace medallion::sql {

enum class Backend { kSqlite, kPostgres };

// True for a postgresql:// or postgres:// URL (libpq's connection URIs).
bool IsPostgresUrl(std::string_view where);

// A store's schema on both backends: migrations numbered by position (1-based) in each list; the
// lists are separate because the dialects differ and PostgreSQL started later (its v1 is the
// SQLite schema's latest state, with the tenant column and row-level security).
struct Schema {
  std::span<const char* const> sqlite;
  std::span<const char* const> postgres;
};

// The PostgreSQL statements that isolate `table` by container (for a migration): row-level
// security enabled and forced (so the owning role is bound too), one policy for every command
// USING and WITH CHECK container_id = current_setting('medallion.container', true). A
// connection that never set medallion.container compares with NULL: it sees and writes nothing.
std::string TenantIsolation(std::string_view table);

class PgConn;  // storage/src/pg.cpp

class Db {
 public:
  // Opens `where`: a PostgreSQL URL, else a SQLite path (sql::OpenDatabase: WAL,
  // synchronous=FULL). Applies the migrations not yet applied (PostgreSQL: in one transaction
  // under an advisory lock, so containers opening at once migrate once, recorded in the table
  // <what>_schema_migrations). On PostgreSQL the connection is fixed to `container`
  // (medallion.container, set once for the session; every row it writes carries it and it
  // reads no other) and the role must be neither superuser nor BYPASSRLS, which row-level
  // security would not bind. Errors: invalid_argument (PostgreSQL without a container, or a
  // role that bypasses row-level security), unavailable (cannot connect or open),
  // failed_precondition (a newer schema), data_loss.
  static Result<std::unique_ptr<Db>> Open(const std::string& where, std::string_view what,
                                          const Schema& schema, const std::string& container);
  // A SQLite connection opened elsewhere (e.g. a read-only WAL reader); owns and closes it.
  static std::unique_ptr<Db> AdoptSqlite(sqlite3* db, std::string_view what);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  Backend backend() const { return pg_ ? Backend::kPostgres : Backend::kSqlite; }
  // The SQLite handle (nullptr on PostgreSQL); the PostgreSQL connection (nullptr on SQLite).
  sqlite3* sqlite() const { return sqlite_; }
  PgConn* pg() const { return pg_.get(); }
  std::string_view what() const { return what_; }

  // Runs statements with no result rows (SQLite: several; PostgreSQL: several, no parameters).
  Status Exec(const char* statement);
  // BEGIN IMMEDIATE (SQLite: takes the write lock now) or BEGIN.
  Status Begin();
  // COMMIT, timed as sql::Commit does.
  Status Commit();
  // Rows changed by the last INSERT, UPDATE or DELETE run on this connection.
  int64_t Changes() const;

 private:
  explicit Db(std::string_view what);
  std::string_view what_;
  sqlite3* sqlite_ = nullptr;
  std::unique_ptr<PgConn> pg_;
};

// Runs `body` in Begin() ... Commit(); rolls back if it fails or the commit does.
template <typename F>
Status InTransaction(Db& db, F&& body) {
  MDL_RETURN_IF_ERROR(db.Begin());
  Status st = body();
  if (!st.ok()) {
    (void)db.Exec("ROLLBACK");
    return st;
  }
  st = db.Commit();
  if (!st.ok()) (void)db.Exec("ROLLBACK");
  return st;
}

}  // namespace medallion::sql
