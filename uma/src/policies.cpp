// The SQL (SQLite or PostgreSQL, storage/db.h) policy store.
#include "policies.h"

#include "medallion/storage/sqlite.h"

namespace medallion::uma::internal {
namespace {

using nlohmann::json;
using sql::Stmt;

constexpr std::string_view kWhat = "consent";

class SqlPolicyStore final : public PolicyStore {
 public:
  explicit SqlPolicyStore(sql::Db& db) : db_(db) {}

  std::vector<Policy> Active() override {
    std::vector<Policy> out;
    Stmt q(cache_, "SELECT id, body FROM policies WHERE revoked IS NULL ORDER BY id", kWhat);
    while (q.Step() == SQLITE_ROW) {
      auto p = PolicyFromJson(json::parse(q.Col(1), nullptr, false));
      if (!p) continue;  // cannot happen: bodies are stored after PolicyFromJson
      p->id = q.Col(0);
      out.push_back(std::move(*p));
    }
    return out;
  }

  Status Add(const Policy& p, const json& body, int64_t now) override {
    Stmt ins(cache_, "INSERT INTO policies (id, body, created) VALUES (?,?,?)", kWhat);
    if (ins.Text(1, p.id).Text(2, body.dump()).Int(3, now).Step() != SQLITE_DONE)
      return ins.Error();
    return Status::Ok();
  }

  Status Revoke(std::string_view id, int64_t now) override {
    Stmt up(cache_, "UPDATE policies SET revoked = ? WHERE id = ? AND revoked IS NULL", kWhat);
    if (up.Int(1, now).Text(2, id).Step() != SQLITE_DONE) return up.Error();
    return Status::Ok();
  }

  Status AddReceipt(const ReceiptRow& r) override {
    Stmt rec(cache_,
             "INSERT INTO receipts (policy_id, action, receipt, hash, ledger, created) VALUES "
             "(?,?,?,?,?,?)",
             kWhat);
    rec.Text(1, r.policy_id)
        .Text(2, r.action)
        .Text(3, r.receipt.dump())
        .Text(4, r.hash)
        .Text(5, r.ledger.dump());
    if (rec.Int(6, r.created).Step() != SQLITE_DONE) return rec.Error();
    return Status::Ok();
  }

  std::string GrantReceiptHash(std::string_view id) override {
    Stmt q(cache_, "SELECT hash FROM receipts WHERE policy_id = ? AND action = 'grant'", kWhat);
    if (q.Text(1, id).Step() == SQLITE_ROW) return q.Col(0);
    return "";
  }

  Result<std::vector<ReceiptRow>> Receipts() override {
    std::vector<ReceiptRow> out;
    Stmt q(cache_,
           "SELECT policy_id, action, receipt, hash, ledger, created FROM receipts ORDER BY seq",
           kWhat);
    while (q.Step() == SQLITE_ROW) {
      ReceiptRow r{q.Col(0),
                   q.Col(1),
                   json::parse(q.Col(2), nullptr, false),
                   q.Col(3),
                   json::parse(q.Col(4), nullptr, false),
                   q.ColInt(5)};
      if (!r.receipt.is_object() || r.ledger.is_discarded())
        return Status::DataLoss("consent: a stored receipt is not JSON");
      out.push_back(std::move(r));
    }
    return out;
  }

 private:
  sql::Db& db_;
  sql::StmtCache cache_{db_, kWhat};  // statements prepared once (the caller serializes)
};

}  // namespace

std::unique_ptr<PolicyStore> NewSqlPolicyStore(sql::Db& db) {
  return std::make_unique<SqlPolicyStore>(db);
}

}  // namespace medallion::uma::internal
