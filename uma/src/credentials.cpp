// The SQL (SQLite or PostgreSQL, storage/db.h) credential store.
#include "credentials.h"

#include "medallion/storage/sqlite.h"

namespace medallion::uma::internal {
namespace {

using nlohmann::json;
using sql::Stmt;

constexpr std::string_view kWhat = "consent";

class SqlCredentialStore final : public CredentialStore {
 public:
  explicit SqlCredentialStore(sql::Db& db) : db_(db) {}

  Result<bool> Add(const CredentialRow& r) override {
    Stmt ins(cache_,
             "INSERT OR IGNORE INTO credentials (id, vc, issuer, types, source, received, "
             "pharmacy_copy, notices) VALUES (?,?,?,?,?,?,?,?)",
             kWhat);
    ins.Text(1, r.id)
        .Text(2, r.vc.dump())
        .Text(3, r.issuer)
        .Text(4, r.types.dump())
        .Text(5, r.source)
        .Int(6, r.received);
    if (!r.pharmacy_copy.is_null()) ins.Text(7, r.pharmacy_copy.dump());
    if (!r.notices.empty()) ins.Text(8, r.notices);
    if (ins.Step() != SQLITE_DONE) return ins.Error();
    if (db_.Changes() != 0) return true;
    if (!r.pharmacy_copy.is_null()) {
      Stmt upd(cache_,
               "UPDATE credentials SET pharmacy_copy = ? WHERE id = ? AND pharmacy_copy IS NULL",
               kWhat);
      upd.Text(1, r.pharmacy_copy.dump()).Text(2, r.id);
      if (upd.Step() != SQLITE_DONE) return upd.Error();
    }
    if (!r.notices.empty()) {
      Stmt upd(cache_, "UPDATE credentials SET notices = ? WHERE id = ? AND notices IS NULL", kWhat);
      upd.Text(1, r.notices).Text(2, r.id);
      if (upd.Step() != SQLITE_DONE) return upd.Error();
    }
    return false;
  }

  Result<std::vector<CredentialRow>> List() override {
    std::vector<CredentialRow> out;
    Stmt q(cache_,
           "SELECT id, vc, issuer, types, source, received, pharmacy_copy, notices FROM credentials "
           "ORDER BY received, id",
           kWhat);
    while (q.Step() == SQLITE_ROW) {
      CredentialRow r{q.Col(0), json::parse(q.Col(1), nullptr, false),
                      q.Col(2), json::parse(q.Col(3), nullptr, false),
                      q.Col(4), q.ColInt(5)};
      if (!q.ColIsNull(6)) r.pharmacy_copy = json::parse(q.Col(6), nullptr, false);
      if (!q.ColIsNull(7)) r.notices = q.Col(7);
      if (r.vc.is_discarded() || r.types.is_discarded() || r.pharmacy_copy.is_discarded())
        return Status::DataLoss("consent: a kept credential is not JSON");
      out.push_back(std::move(r));
    }
    return out;
  }

 private:
  sql::Db& db_;
  sql::StmtCache cache_{db_, kWhat};  // statements prepared once (the caller serializes)
};

}  // namespace

std::unique_ptr<CredentialStore> NewSqlCredentialStore(sql::Db& db) {
  return std::make_unique<SqlCredentialStore>(db);
}

}  // namespace medallion::uma::internal
