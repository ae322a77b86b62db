// The one SQLite helper of every store (records, consent, the society, the key store, the
// ledger's leaves): statements with typed binds, a cache of prepared statements for hot paths,
// explicit IMMEDIATE transactions, and opening a database in WAL mode with synchronous=FULL and
// numbered migrations. The same Stmt and StmtCache also run over a sql::Db (db.h), SQLite or
// PostgreSQL, so a store written on them is written once for both backends. The target
// `medallion::storage` links SQLite and libpq; a module that includes this header links it.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "medallion/core/bytes.h"
#include "medallion/core/status.h"
#include "medallion/storage/db.h"

namespace medallion::sql {

// Runs one or more statements with no result rows. `what` names the store in error messages
// ("records", "consent"). Errors: unavailable with SQLite's message.
Status Exec(sqlite3* db, const char* statement, std::string_view what);

class StmtCache;
class PgStmt;  // storage/src/pg.cpp

// A prepared statement. Binds are 1-based, columns 0-based (SQLite's convention). A statement
// that did not prepare reports ok() false and every Step() fails; Error() names the cause.
// Owned (prepared here, finalized on destruction) or borrowed from a StmtCache (see there).
class Stmt {
 public:
  Stmt(sqlite3* db, const char* statement, std::string_view what = "store");
  // Borrowed from `cache` (prepared there on first use; see StmtCache): the same code reads as
  // an owned statement's, without preparing it again on every call.
  Stmt(StmtCache& cache, const char* statement, std::string_view what = "store");
  // Over `db`, either backend (on PostgreSQL: prepared once per connection, see db.h for the SQL
  // it takes; Step() answers SQLITE_ROW, SQLITE_DONE or SQLITE_ERROR there too).
  Stmt(Db& db, const char* statement, std::string_view what = "store");
  // Owned: finalizes. Borrowed: resets and clears the bindings, so it holds no read open.
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return ok_; }
  Stmt& Text(int i, std::string_view v);
  Stmt& Blob(int i, const void* p, size_t n);
  Stmt& Blob(int i, ByteView v) { return Blob(i, v.data(), v.size()); }
  Stmt& Int(int i, int64_t v);
  Stmt& Null(int i);
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step();
  // Ready to run again with new binds (bindings cleared).
  void Reset();
  std::string Col(int i);
  std::string ColBlob(int i);
  int64_t ColInt(int i);
  bool ColIsNull(int i);
  // unavailable: "<what>: sqlite: <SQLite's message>" (or "postgresql: ").
  Status Error() const;

 private:
  friend class StmtCache;
  // Borrows `cached` (nullptr: a statement that did not prepare).
  Stmt(sqlite3* db, sqlite3_stmt* cached, std::string_view what);
  // Runs `pg` (owned: deleted with this statement).
  Stmt(PgStmt* pg, bool owned, std::string_view what);

  sqlite3* db_ = nullptr;
  PgStmt* pg_ = nullptr;  // set on PostgreSQL; every method then forwards to it
  std::string_view what_;
  sqlite3_stmt* s_ = nullptr;
  bool ok_ = false;
  bool owned_ = true;
};

// Statements prepared once (SQLITE_PREPARE_PERSISTENT) and kept for the life of the cache, for
// hot paths where preparing costs more than running. Keyed by the statement's address: pass
// string literals. Not thread safe (the caller serializes, as it does the connection).
// REQUIRES: destroyed before `db` is closed.
class StmtCache {
 public:
  StmtCache(sqlite3* db, std::string_view what = "store");
  // Over `db`, either backend (REQUIRES: destroyed before `db`).
  StmtCache(Db& db, std::string_view what = "store");
  // Finalizes every cached statement.
  ~StmtCache();
  StmtCache(const StmtCache&) = delete;
  StmtCache& operator=(const StmtCache&) = delete;
  // The cached statement for `statement`, prepared on first use, borrowed and ready to bind; a
  // failed prepare is not cached (ok() false, Error() says why). REQUIRES: the Stmt dies before
  // this cache and before the next Get of the same statement.
  Stmt Get(const char* statement);

 private:
  friend class Stmt;
  // The cached handle for `statement` (prepared on first use), or nullptr if it does not prepare.
  sqlite3_stmt* Prepared(const char* statement);
  // The cached PostgreSQL statement for `statement` (made on first use; ok() false if it does
  // not prepare, and it is then tried again by the next PgStmt only after a new cache).
  PgStmt* PgPrepared(const char* statement);

  sqlite3* db_ = nullptr;
  PgConn* pg_ = nullptr;
  std::string_view what_;
  std::unordered_map<const char*, sqlite3_stmt*> stmts_;
  std::unordered_map<const char*, PgStmt*> pg_stmts_;  // owned (deleted by the destructor)
};

// COMMIT, timed into medallion_sqlite_commit_seconds{store=<what>} (with synchronous=FULL the
// commit is the WAL's fsync: this is the fsync latency an operator watches).
Status Commit(sqlite3* db, std::string_view what);

// Runs `body` in BEGIN IMMEDIATE ... COMMIT; rolls back if it fails or the commit does.
template <typename F>
Status InTransaction(sqlite3* db, std::string_view what, F&& body) {
  MDL_RETURN_IF_ERROR(Exec(db, "BEGIN IMMEDIATE", what));
  Status st = body();
  if (!st.ok()) {
    (void)Exec(db, "ROLLBACK", what);
    return st;
  }
  st = Commit(db, what);
  if (!st.ok()) (void)Exec(db, "ROLLBACK", what);
  return st;
}

// Opens (creating) `path` serialized (FULLMUTEX), WAL with synchronous=FULL and secure_delete,
// and applies the migrations it has not seen, each numbered by its position (1-based) in
// `migrations`, in one transaction. On success *out owns the handle (sqlite3_close it).
// Errors: unavailable (cannot open), failed_precondition (a newer schema), data_loss.
Status OpenDatabase(const std::string& path, std::string_view what,
                    std::span<const char* const> migrations, sqlite3** out);

}  // namespace medallion::sql
