// The SQL (SQLite or PostgreSQL, storage/db.h) ticket store.
#include "tickets.h"

#include "medallion/core/hash.h"
#include "medallion/storage/sqlite.h"

namespace medallion::uma::internal {
namespace {

using nlohmann::json;
using sql::Stmt;

constexpr std::string_view kWhat = "consent";
constexpr size_t kMaxTicketBytes = 512;  // our tickets are 43 characters

class SqlTicketStore final : public TicketStore {
 public:
  explicit SqlTicketStore(sql::Db& db) : db_(db) {}

  Status Put(std::string_view ticket, const std::string& rs_client, const json& data, int64_t now,
             int64_t expires) override {
    const Hash256 h = Sha256(AsBytes(ticket));
    // Expired tickets are dropped as new ones are made, so the table stays small.
    Stmt gc(cache_, "DELETE FROM tickets WHERE expires < ?", kWhat);
    if (gc.Int(1, now - 3600).Step() != SQLITE_DONE) return gc.Error();
    Stmt ins(cache_, "INSERT INTO tickets (hash, client_id, data, issued, expires) VALUES (?,?,?,?,?)",
             kWhat);
    ins.Blob(1, h.data(), h.size())
        .Text(2, rs_client)
        .Text(3, data.dump())
        .Int(4, now)
        .Int(5, expires);
    if (ins.Step() != SQLITE_DONE) return ins.Error();
    return Status::Ok();
  }

  Result<std::pair<std::string, json>> Consume(std::string_view ticket, int64_t now,
                                               bool gathering) override {
    if (ticket.empty() || ticket.size() > kMaxTicketBytes)
      return Status::NotFound("unknown ticket");
    const Hash256 h = Sha256(AsBytes(ticket));
    Stmt q(cache_, "SELECT client_id, data, expires, used FROM tickets WHERE hash = ?", kWhat);
    q.Blob(1, h.data(), h.size());
    if (q.Step() != SQLITE_ROW) return Status::NotFound("unknown ticket");
    if ((q.Col(0) == kGatheringOwner) != gathering) return Status::NotFound("unknown ticket");
    if (q.ColInt(3) != 0) return Status::NotFound("the ticket was already used");
    std::pair<std::string, json> out{q.Col(0), json::parse(q.Col(1), nullptr, false)};
    if (out.second.is_discarded()) return Status::DataLoss("consent: a stored ticket is not JSON");
    const bool expired = q.ColInt(2) <= now;
    Stmt use(cache_, "UPDATE tickets SET used = 1 WHERE hash = ? AND used = 0", kWhat);
    if (use.Blob(1, h.data(), h.size()).Step() != SQLITE_DONE) return use.Error();
    if (db_.Changes() != 1) return Status::NotFound("the ticket was already used");
    if (expired) return Status::FailedPrecondition("the ticket has expired");
    return out;
  }

 private:
  sql::Db& db_;
  sql::StmtCache cache_{db_, kWhat};  // statements prepared once (the caller serializes)
};

}  // namespace

std::unique_ptr<TicketStore> NewSqlTicketStore(sql::Db& db) {
  return std::make_unique<SqlTicketStore>(db);
}

}  // namespace medallion::uma::internal
