// The one SQLite helper of every store (records, consent, the society, the key store, the
// ledger's leaves): statements with typed binds, a cache of prepared statements for hot paths,
// explicit IMMEDIATE transactions, and opening a database in WAL mode with synchronous=FULL and
// numbered migrations. The same Stmt and StmtCache also run over a sql::Db (db.h), SQLite or
// PostgreSQL, so a store written on them is written once for both backends. The target
// `medallion::storage` links SQLite and libpq; a module that includes this header links it.
#pragma once

#include <sqlite3.h>

#include <array>
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

// Inserts many rows into one table through multi-row statements ("INSERT INTO t(a, b) VALUES
// (?, ?), (?, ?), ...", https://sqlite.org/lang_insert.html): up to kMaxRows rows per statement
// run, in chunks of 64, 32, ... 1 rows, each statement prepared once and kept. A statement
// run costs SQLite its setup and teardown whatever it inserts; for the ledger's small leaf and
// key rows that was half the insert (BM_LogAppend/4096, 2026-12-07: 262,000/s with a statement
// per row, 333,000-357,000/s with 64 rows per statement). SQLite only (the PostgreSQL stores
// batch their own way). Not thread-safe: the caller serializes, as for its connection.
class RowInserter {
 public:
  static constexpr int kMaxRows = 64;

  // The values of one row, bound in column order. Text and Blob bind without a copy
  // (SQLITE_STATIC): what they point to must live until Insert returns.
  class Row {
   public:
    Row& Int(int64_t v);
    Row& Text(std::string_view v);
    Row& Text(const char* v) { return Text(std::string_view(v)); }  // a literal lives on
    Row& Blob(ByteView v);
    // A temporary would be gone before the statement runs (ASan caught one in a test).
    Row& Text(std::string&&) = delete;
    Row& Blob(Bytes&&) = delete;

   private:
    friend class RowInserter;
    Row(sqlite3_stmt* s, int first) : s_(s), next_(first) {}
    sqlite3_stmt* s_;
    int next_;  // the next parameter (1-based)
  };

  // `head`: everything before the values, e.g. "INSERT OR IGNORE INTO t(a, b, c) VALUES";
  // `columns`: values per row. `what` names the store in errors. REQUIRES: 1 <= columns <= 256
  // (64 rows of 256 values stay under SQLite's 32,766 parameters per statement).
  RowInserter(sqlite3* db, std::string head, int columns, std::string_view what = "store");
  // Finalizes its statements. REQUIRES: destroyed before the connection is closed.
  ~RowInserter();
  RowInserter(const RowInserter&) = delete;
  RowInserter& operator=(const RowInserter&) = delete;

  // Inserts rows 0 .. n-1 in order; bind(i, row) binds row i's values (exactly `columns`).
  // Errors: unavailable "<what>: sqlite: <SQLite's message>" (a constraint, I/O), internal if
  // `bind` bound another number of values. On error the rows of earlier chunks stay inserted:
  // run it inside a transaction, which the error rolls back.
  template <typename F>
  Status Insert(size_t n, F&& bind) {
    size_t i = 0;
    while (i < n) {
      int rows = kMaxRows;
      while (static_cast<size_t>(rows) > n - i) rows /= 2;
      sqlite3_stmt* s = Statement(rows);
      if (s == nullptr) return Error();
      for (int r = 0; r < rows; ++r) {
        Row row(s, r * columns_ + 1);
        bind(i + static_cast<size_t>(r), row);
        const int bound = row.next_ - r * columns_ - 1;
        if (bound != columns_) return WrongColumns(s, bound);
      }
      // Every parameter was bound again above, so none still points at an earlier call's data.
      const int rc = sqlite3_step(s);
      Status st = rc == SQLITE_DONE ? Status::Ok() : Error();
      sqlite3_reset(s);
      if (!st.ok()) return st;
      i += static_cast<size_t>(rows);
    }
    return Status::Ok();
  }

 private:
  // The statement for `rows` rows (a power of two <= kMaxRows), prepared on first use; nullptr
  // if it does not prepare.
  sqlite3_stmt* Statement(int rows);
  Status Error() const;
  Status WrongColumns(sqlite3_stmt* s, int bound) const;

  sqlite3* db_;
  std::string head_;
  int columns_;
  std::string_view what_;
  std::array<sqlite3_stmt*, 7> stmts_{};  // [k]: 2^k rows
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
