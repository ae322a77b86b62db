// One connection to a store's database on either backend: a SQLite file (the default) or a
// PostgreSQL database shared by the containers of a host, each container's rows kept apart by a
// tenant column and row-level security (docs/scale-out.md §"The container host on PostgreSQL").
// Statements over a Db are the sql::Stmt of medallion/storage/sqlite.h, written once in the
// common SQL both backends run: `?` placeholders (rewritten $1, $2 ... for PostgreSQL) and
// INSERT OR IGNORE (rewritten INSERT ... ON CONFLICT DO NOTHING); anything else that differs is
// chosen by the caller on backend(). Not thread safe: the caller serializes, as for a sqlite3*.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

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
class PgLink;  // storage/src/pg.cpp

// A pool of PostgreSQL connections shared by the Dbs of many containers (a container host:
// docs/scale-out.md §"The connection pool"), so that the number of server connections is the
// pool's size, not two per container. A Db opened on a pool holds no connection between
// transactions: each transaction borrows one and keeps it until COMMIT or ROLLBACK, a statement
// outside a transaction runs in one of its own, and each such transaction first sets
// medallion.container for itself only (set_config(..., true), i.e. SET LOCAL), so a connection
// back in the pool carries no tenant. A connection found lost is dropped and a new one made in
// its place. Thread safe (the Dbs over it are not: each is serialized by its caller).
class PgPool {
 public:
  // Up to `size` connections to `url` (at least 1), made as needed; one is made now, so a bad URL
  // or a role that bypasses row-level security is refused here. While the pool lives,
  // Db::Open(url, ...) with this same URL borrows from it (so stores opened by URL, as a host's
  // containers' are, share it without knowing it). Errors: as Db::Open's.
  static Result<std::shared_ptr<PgPool>> Open(const std::string& url, size_t size);
  ~PgPool();
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  const std::string& url() const { return url_; }
  size_t size() const { return size_; }
  struct Stats {
    size_t open = 0;       // connections now (idle and lent)
    size_t idle = 0;       // in the pool
    uint64_t made = 0;     // connections made since the start
    uint64_t dropped = 0;  // connections found lost (or left unusable) and closed
  };
  Stats stats();
  // The first column of the first row of `query` ("" for none or NULL) on a pooled connection,
  // as it lies in the pool between borrowers: in no transaction, no container set. For checks
  // and tests. Errors: unavailable.
  Result<std::string> QueryIdle(const char* query);
  // The pool registered for `url` by Open (nullptr if none lives).
  static std::shared_ptr<PgPool> For(const std::string& url);

 private:
  friend class PgConn;
  friend class Db;
  PgPool(std::string url, size_t size);
  // A connection: an idle one, else a new one if fewer than size() are open, else the first one
  // given back (waiting at most 30 s: unavailable then). Errors: unavailable, invalid_argument.
  Result<std::unique_ptr<PgLink>> Take(std::string_view what);
  // Back to the pool if usable and outside any transaction (one left open is rolled back), else
  // closed (and a new one will be made in its place when needed).
  void Give(std::unique_ptr<PgLink> link);
  // Whether `key` (a store and its schema version) was migrated over this pool; marks it.
  bool Migrated(const std::string& key);
  void MarkMigrated(const std::string& key);

  const std::string url_;
  const size_t size_;
  std::mutex mu_;
  std::condition_variable given_;
  std::vector<std::unique_ptr<PgLink>> idle_;
  size_t open_ = 0;
  uint64_t made_ = 0, dropped_ = 0;
  std::set<std::string> migrated_;
};

class Db {
 public:
  // Opens `where`: a PostgreSQL URL, else a SQLite path (sql::OpenDatabase: WAL,
  // synchronous=FULL). Applies the migrations not yet applied (PostgreSQL: in one transaction
  // under an advisory lock, so containers opening at once migrate once, recorded in the table
  // <what>_schema_migrations). On PostgreSQL (a connection of its own) the connection is fixed
  // to `container` (medallion.container, set once for the session; every row it writes carries it and it
  // reads no other) and the role must be neither superuser nor BYPASSRLS, which row-level
  // security would not bind. Errors: invalid_argument (PostgreSQL without a container, or a
  // role that bypasses row-level security), unavailable (cannot connect or open),
  // failed_precondition (a newer schema), data_loss.
  // If a PgPool for `where` lives (PgPool::Open), the Db borrows from it (see the next Open).
  static Result<std::unique_ptr<Db>> Open(const std::string& where, std::string_view what,
                                          const Schema& schema, const std::string& container);
  // On PostgreSQL through `pool` (see PgPool): no connection of its own; the migrations are
  // applied on a borrowed connection (once per store and pool). Errors: as above.
  static Result<std::unique_ptr<Db>> Open(std::shared_ptr<PgPool> pool, std::string_view what,
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

  // Runs statements with no result rows (SQLite: several; PostgreSQL: several, no parameters;
  // over a pool, BEGIN, COMMIT and ROLLBACK alone, not with others in one string).
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
