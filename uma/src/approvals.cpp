// The SQL (SQLite or PostgreSQL, storage/db.h) request store.
#include "approvals.h"

#include "medallion/storage/sqlite.h"

namespace medallion::uma::internal {
namespace {

using nlohmann::json;
using sql::Stmt;

constexpr std::string_view kWhat = "consent";

class SqlRequestStore final : public RequestStore {
 public:
  explicit SqlRequestStore(sql::Db& db) : db_(db) {}

  Status Insert(const std::string& id, const std::string& kind, const std::string& hash,
                const json& data, int64_t created) override {
    Stmt ins(cache_,
             "INSERT INTO requests (id, hash, data, status, created, kind) "
             "VALUES (?,?,?,'pending',?,?)",
             kWhat);
    ins.Text(1, id).Text(2, hash).Text(3, data.dump()).Int(4, created).Text(5, kind);
    if (ins.Step() != SQLITE_DONE) return ins.Error();
    return Status::Ok();
  }

  Result<size_t> CountPending() override {
    Stmt count(cache_, "SELECT COUNT(*) FROM requests WHERE status = 'pending'", kWhat);
    if (count.Step() != SQLITE_ROW) return count.Error();
    return static_cast<size_t>(count.ColInt(0));
  }

  Result<RequestRow> Get(std::string_view id) override {
    Stmt q(cache_, "SELECT id, hash, data, status, kind, created, decided FROM requests WHERE id = ?",
           kWhat);
    const int rc = q.Text(1, id).Step();
    if (rc == SQLITE_DONE) return Status::NotFound("no such request");
    if (rc != SQLITE_ROW) return q.Error();
    return Row(q);
  }

  Result<std::vector<RequestRow>> List(bool pending_only) override {
    Stmt q(cache_,
           pending_only ? "SELECT id, hash, data, status, kind, created, decided FROM requests "
                          "WHERE status = 'pending' ORDER BY created, id"
                        : "SELECT id, hash, data, status, kind, created, decided FROM requests "
                          "ORDER BY created, id",
           kWhat);
    std::vector<RequestRow> out;
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) {
      MDL_ASSIGN_OR_RETURN(RequestRow row, Row(q));
      out.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) return q.Error();
    return out;
  }

  Status Decide(std::string_view id, const json& data, const std::string& status,
                int64_t decided) override {
    Stmt up(cache_, "UPDATE requests SET data = ?, status = ?, decided = ? WHERE id = ?", kWhat);
    up.Text(1, data.dump()).Text(2, status).Int(3, decided).Text(4, id);
    if (up.Step() != SQLITE_DONE) return up.Error();
    return Status::Ok();
  }

  Status PutData(std::string_view id, const json& data) override {
    Stmt up(cache_, "UPDATE requests SET data = ? WHERE id = ?", kWhat);
    if (up.Text(1, data.dump()).Text(2, id).Step() != SQLITE_DONE) return up.Error();
    return Status::Ok();
  }

 private:
  // The row `q` stands on (columns id, hash, data, status, kind, created, decided).
  static Result<RequestRow> Row(Stmt& q) {
    RequestRow row;
    row.id = q.Col(0);
    row.hash = q.Col(1);
    row.data = json::parse(q.Col(2), nullptr, false);
    if (row.data.is_discarded()) return Status::DataLoss("consent: a stored request is not JSON");
    row.status = q.Col(3);
    row.kind = q.Col(4);
    row.created = q.ColInt(5);
    row.decided = q.ColInt(6);
    return row;
  }

  sql::Db& db_;
  sql::StmtCache cache_{db_, kWhat};  // statements prepared once (the caller serializes)
};

}  // namespace

std::unique_ptr<RequestStore> NewSqlRequestStore(sql::Db& db) {
  return std::make_unique<SqlRequestStore>(db);
}

}  // namespace medallion::uma::internal
