// The SQL (SQLite or PostgreSQL, storage/db.h) token store.
#include "tokens.h"

#include "medallion/storage/sqlite.h"

namespace medallion::uma::internal {
namespace {

using nlohmann::json;
using sql::Stmt;

constexpr std::string_view kWhat = "consent";
constexpr size_t kMaxTokenBytes = 512;  // our own opaque tokens are 43 characters

class SqlTokenStore final : public TokenStore {
 public:
  explicit SqlTokenStore(sql::Db& db) : db_(db) {}

  Status Insert(std::string_view token, const TokenRow& row) override {
    const Hash256 h = Sha256(AsBytes(token));
    Stmt ins(cache_,
             "INSERT INTO tokens (hash, kind, client_id, subject, data, issued, expires) VALUES "
             "(?,?,?,?,?,?,?)",
             kWhat);
    ins.Blob(1, h.data(), h.size()).Text(2, row.kind).Text(3, row.client_id).Text(4, row.subject);
    ins.Text(5, row.data.dump()).Int(6, row.issued).Int(7, row.expires);
    if (ins.Step() != SQLITE_DONE) return ins.Error();
    return Status::Ok();
  }

  std::optional<TokenRow> Live(std::string_view token, std::string_view kind,
                               int64_t now) override {
    if (token.empty() || token.size() > kMaxTokenBytes) return std::nullopt;
    const Hash256 h = Sha256(AsBytes(token));
    Stmt q(cache_,
           "SELECT kind, client_id, subject, data, issued, expires FROM tokens WHERE hash = ? AND "
           "revoked = 0",
           kWhat);
    q.Blob(1, h.data(), h.size());
    if (q.Step() != SQLITE_ROW) return std::nullopt;
    TokenRow row{q.Col(0),    q.Col(1),   q.Col(2), json::parse(q.Col(3), nullptr, false),
                 q.ColInt(4), q.ColInt(5)};
    if (row.kind != kind || row.expires <= now || row.data.is_discarded()) return std::nullopt;
    return row;
  }

  std::optional<TokenRow> Find(const Hash256& hash) override {
    Stmt q(cache_, "SELECT kind, client_id, subject FROM tokens WHERE hash = ?", kWhat);
    q.Blob(1, hash.data(), hash.size());
    if (q.Step() != SQLITE_ROW) return std::nullopt;
    return TokenRow{q.Col(0), q.Col(1), q.Col(2), json::object(), 0, 0};
  }

  Status Revoke(const Hash256& hash) override {
    Stmt up(cache_, "UPDATE tokens SET revoked = 1 WHERE hash = ?", kWhat);
    if (up.Blob(1, hash.data(), hash.size()).Step() != SQLITE_DONE) return up.Error();
    return Status::Ok();
  }

  Result<size_t> RevokeRpts(int64_t now,
                            const std::function<bool(const json& data)>& matches) override {
    std::vector<std::string> hashes;
    {
      Stmt q(cache_,
             "SELECT hash, data FROM tokens WHERE kind = 'rpt' AND revoked = 0 AND expires > ?",
             kWhat);
      q.Int(1, now);
      while (q.Step() == SQLITE_ROW) {
        const json data = json::parse(q.Col(1), nullptr, false);
        if (!data.is_discarded() && matches(data)) hashes.push_back(q.ColBlob(0));
      }
    }
    for (const std::string& h : hashes) {
      Stmt r(cache_, "UPDATE tokens SET revoked = 1 WHERE hash = ?", kWhat);
      if (r.Blob(1, h.data(), h.size()).Step() != SQLITE_DONE) return r.Error();
    }
    return hashes.size();
  }

  Status RevokeDeviceSessions(std::string_view device_id) override {
    Stmt kill(cache_, "UPDATE tokens SET revoked = 1 WHERE kind = 'device' AND subject = ?", kWhat);
    if (kill.Text(1, device_id).Step() != SQLITE_DONE) return kill.Error();
    return Status::Ok();
  }

  Result<size_t> RevokeKind(std::string_view kind, int64_t now) override {
    Stmt kill(cache_, "UPDATE tokens SET revoked = 1 WHERE kind = ? AND revoked = 0 AND expires > ?",
              kWhat);
    if (kill.Text(1, kind).Int(2, now).Step() != SQLITE_DONE) return kill.Error();
    return static_cast<size_t>(db_.Changes());
  }

  Status PutChallenge(const std::string& nonce, int64_t expires, int64_t now,
                      size_t max_open) override {
    Stmt gc(cache_, "DELETE FROM challenges WHERE expires <= ?", kWhat);
    if (gc.Int(1, now).Step() != SQLITE_DONE) return gc.Error();
    Stmt count(cache_, "SELECT COUNT(*) FROM challenges", kWhat);
    if (count.Step() == SQLITE_ROW && count.ColInt(0) >= static_cast<int64_t>(max_open)) {
      return Status::ResourceExhausted("too many open challenges");
    }
    Stmt ins(cache_, "INSERT INTO challenges (nonce, expires) VALUES (?,?)", kWhat);
    if (ins.Text(1, nonce).Int(2, expires).Step() != SQLITE_DONE) return ins.Error();
    return Status::Ok();
  }

  Result<bool> ConsumeChallenge(const std::string& nonce, int64_t now) override {
    Stmt del(cache_, "DELETE FROM challenges WHERE nonce = ? AND expires > ?", kWhat);
    if (del.Text(1, nonce).Int(2, now).Step() != SQLITE_DONE) return del.Error();
    return db_.Changes() == 1;
  }

 private:
  sql::Db& db_;
  sql::StmtCache cache_{db_, kWhat};  // statements prepared once (the caller serializes)
};

}  // namespace

std::unique_ptr<TokenStore> NewSqlTokenStore(sql::Db& db) {
  return std::make_unique<SqlTokenStore>(db);
}

}  // namespace medallion::uma::internal
