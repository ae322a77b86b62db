// The PostgreSQL side of sql::Db and sql::Stmt (libpq): a connection with its prepared
// statements, and a statement's binds and result. Private to the storage module.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "medallion/core/status.h"

namespace medallion::sql {

class PgConn {
 public:
  explicit PgConn(PGconn* c) : c_(c) {}
  ~PgConn() { PQfinish(c_); }
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;

  PGconn* raw() const { return c_; }
  // The name `statement` is prepared under on this connection (preparing it on first use, after
  // translating it: ? -> $n, INSERT OR IGNORE -> ON CONFLICT DO NOTHING); "" with *error set if
  // it does not prepare.
  std::string Prepared(const char* statement, int* params, std::string* error);
  // Statements without parameters; an error names `what`.
  Status Exec(const char* statement, std::string_view what);
  // COMMIT; unavailable when PostgreSQL rolled the transaction back instead (a statement in it
  // had failed) or the commit failed.
  Status Commit(std::string_view what);

  int64_t changes = 0;  // rows changed by the last command (PQcmdTuples)

 private:
  PGconn* c_;
  struct Prepared_ {
    std::string name;
    int params = 0;
  };
  std::unordered_map<std::string, Prepared_> names_;  // statement text -> its prepared form
};

// `statement` in PostgreSQL's dialect (see PgConn::Prepared); *params: how many it takes.
std::string TranslateToPostgres(std::string_view statement, int* params);

class PgStmt {
 public:
  PgStmt(PgConn* conn, const char* statement);
  ~PgStmt() { Clear(); }
  PgStmt(const PgStmt&) = delete;
  PgStmt& operator=(const PgStmt&) = delete;

  bool ok() const { return !name_.empty(); }
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
  std::string name_, error_;
  std::vector<std::string> values_;
  std::vector<int> formats_;
  std::vector<bool> null_;
  PGresult* res_ = nullptr;
  int row_ = -1;
  bool select_ = false;    // the statement reads (SELECT ...)
  bool bad_text_ = false;  // a text bind PostgreSQL would refuse (see Step)
};

}  // namespace medallion::sql
