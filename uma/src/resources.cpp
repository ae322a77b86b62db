// The SQL (SQLite or PostgreSQL, storage/db.h) resource store.
#include "resources.h"

#include "medallion/storage/sqlite.h"

namespace medallion::uma::internal {
namespace {

using nlohmann::json;
using sql::Stmt;

constexpr std::string_view kWhat = "consent";

class SqlResourceStore final : public ResourceStore {
 public:
  explicit SqlResourceStore(sql::Db& db) : db_(db) {}

  std::optional<ResourceRow> Get(std::string_view id) override {
    Stmt q(cache_, "SELECT client_id, owner, description FROM resources WHERE id = ?", kWhat);
    q.Text(1, id);
    if (q.Step() != SQLITE_ROW) return std::nullopt;
    ResourceRow row{q.Col(0), q.Col(1), json::parse(q.Col(2), nullptr, false)};
    if (!row.description.is_object()) return std::nullopt;
    return row;
  }

  Status Create(const std::string& id, const ResourceRow& row, int64_t now,
                size_t max_per_server) override {
    Stmt count(cache_, "SELECT COUNT(*) FROM resources WHERE client_id = ?", kWhat);
    if (count.Text(1, row.client_id).Step() == SQLITE_ROW &&
        static_cast<size_t>(count.ColInt(0)) >= max_per_server) {
      return Status::ResourceExhausted("too many resources");
    }
    Stmt ins(
        db_,
        "INSERT INTO resources (id, client_id, owner, description, created) VALUES (?,?,?,?,?)",
        kWhat);
    ins.Text(1, id)
        .Text(2, row.client_id)
        .Text(3, row.owner)
        .Text(4, row.description.dump())
        .Int(5, now);
    if (ins.Step() != SQLITE_DONE) return ins.Error();
    return Status::Ok();
  }

  Status Update(std::string_view id, const std::string& client_id,
                const json& description) override {
    Stmt up(cache_, "UPDATE resources SET description = ? WHERE id = ? AND client_id = ?", kWhat);
    if (up.Text(1, description.dump()).Text(2, id).Text(3, client_id).Step() != SQLITE_DONE)
      return up.Error();
    return Status::Ok();
  }

  Status Delete(std::string_view id, const std::string& client_id) override {
    Stmt del(cache_, "DELETE FROM resources WHERE id = ? AND client_id = ?", kWhat);
    if (del.Text(1, id).Text(2, client_id).Step() != SQLITE_DONE) return del.Error();
    return Status::Ok();
  }

  std::vector<std::string> List(const std::string& client_id) override {
    std::vector<std::string> ids;
    Stmt q(cache_, "SELECT id FROM resources WHERE client_id = ? ORDER BY created, id", kWhat);
    q.Text(1, client_id);
    while (q.Step() == SQLITE_ROW) ids.push_back(q.Col(0));
    return ids;
  }

 private:
  sql::Db& db_;
  sql::StmtCache cache_{db_, kWhat};  // statements prepared once (the caller serializes)
};

}  // namespace

std::unique_ptr<ResourceStore> NewSqlResourceStore(sql::Db& db) {
  return std::make_unique<SqlResourceStore>(db);
}

}  // namespace medallion::uma::internal
