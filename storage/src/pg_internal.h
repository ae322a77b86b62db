// The PostgreSQL side of sql::Db and sql::Stmt (libpq): a physical connection with its prepared
// statements (PgLink), what a Db talks through (PgConn: a dedicated link, or links borrowed from
// a PgPool one transaction at a time), and a statement's binds and result. Private to the
// storage module.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "medallion/core/status.h"
#include "medallion/storage/db.h"

namespace medallion::sql {

// One connection to the server, with the statements prepared on it (prepared statements are
// per session, so per link).
class PgLink {
 public:
  explicit PgLink(PGconn* c) : c_(c) {}
  ~PgLink() { PQfinish(c_); }
  PgLink(const PgLink&) = delete;
  PgLink& operator=(const PgLink&) = delete;

  PGconn* raw() const { return c_; }
  // Lost (the server closed it, or a read or write on it failed): never used again.
  bool broken() const { return PQstatus(c_) != CONNECTION_OK; }
  // The name `statement` is prepared under on this connection (preparing it on first use, after
  // translating it: ? -> $n, INSERT OR IGNORE -> ON CONFLICT DO NOTHING); "" with *error set if
  // it does not prepare.
  std::string Prepared(const char* statement, int* params, std::string* error);
  // Statements without parameters; an error names `what`.
  Status Exec(const char* statement, std::string_view what);
  // COMMIT; unavailable when PostgreSQL rolled the transaction back instead (a statement in it
  // had failed) or the commit failed.
  Status Commit(std::string_view what);

 private:
  PGconn* c_;
  struct Prepared_ {
    std::string name;
    int params = 0;
  };
  std::unordered_map<std::string, Prepared_> names_;  // statement text -> its prepared form
};

// What one Db talks through. Dedicated: one link for the Db's life, medallion.container set once
// for the session. Pooled: each transaction (BEGIN ... COMMIT or ROLLBACK) borrows a link from the
// pool and keeps it to its end; a statement outside one runs in a transaction of its own; each
// such transaction first sets medallion.container transaction-locally (set_config(..., true), as
// SET LOCAL), so a link back in the pool carries no tenant.
class PgConn {
 public:
  explicit PgConn(std::unique_ptr<PgLink> own) : own_(std::move(own)) {}
  PgConn(std::shared_ptr<PgPool> pool, std::string container)
      : pool_(std::move(pool)), container_(std::move(container)) {}
  ~PgConn();
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;

  bool pooled() const { return pool_ != nullptr; }
  PgLink* own() const { return own_.get(); }
  // Any statements without parameters; in pooled mode BEGIN, COMMIT and ROLLBACK (not ROLLBACK TO)
  // take and give back the transaction's link.
  Status Exec(const char* statement, std::string_view what);
  Status Commit(std::string_view what);
  // Runs `statement` (sql::Stmt's dialect) with the binds given, preparing it on the link it runs
  // on. The result (the caller PQclears it), or nullptr with *error set. A pooled statement outside
  // a transaction is committed before this returns (COMMIT answered ROLLBACK is an error).
  PGresult* Run(const char* statement, int n, const char* const* values, const int* lengths,
                const int* formats, std::string* error);

  int64_t changes = 0;  // rows changed by the last command (PQcmdTuples)

 private:
  // A link from the pool in a transaction for this Db's container (BEGIN; set_config(..., true)).
  // A link found lost at BEGIN is dropped and another tried: nothing had been sent on it.
  Result<std::unique_ptr<PgLink>> Take(std::string_view what);
  void Give(std::unique_ptr<PgLink> link);

  std::unique_ptr<PgLink> own_;
  std::shared_ptr<PgPool> pool_;
  std::string container_;
  std::string begin_;              // "BEGIN; SELECT set_config('medallion.container', '...', true)"
  std::unique_ptr<PgLink> held_;   // pooled: the open transaction's link
};

// `statement` in PostgreSQL's dialect (see PgLink::Prepared); *params: how many it takes.
std::string TranslateToPostgres(std::string_view statement, int* params);

class PgStmt {
 public:
  PgStmt(PgConn* conn, const char* statement);
  ~PgStmt() { Clear(); }
  PgStmt(const PgStmt&) = delete;
  PgStmt& operator=(const PgStmt&) = delete;

  bool ok() const { return ok_; }
  void Bind(int i, std::string_view v, bool binary);
  void BindNull(int i);
  // SQLITE_ROW (100), SQLITE_DONE (101) or SQLITE_ERROR (1).
  int Step();
  // Ready to run again: the result dropped and the binds cleared.
  void Reset();
  std::string Col(int i) const;  // bytea columns decoded to their bytes
  int64_t ColInt(int i) const;
  bool ColIsNull(int i) const;
  const std::string& error() const { return error_; }

 private:
  void Clear();
  void Slot(int i);

  PgConn* conn_;
  std::string statement_, error_;
  std::vector<std::string> values_;
  std::vector<int> formats_;
  std::vector<bool> null_;
  PGresult* res_ = nullptr;
  int row_ = -1;
  bool ok_ = false;
  bool failed_ = false;    // the last run failed (until Reset)
  bool select_ = false;    // the statement reads (SELECT ...)
  bool bad_text_ = false;  // a text bind PostgreSQL would refuse (see Step)
};

}  // namespace medallion::sql
