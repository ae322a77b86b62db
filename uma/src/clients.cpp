// The SQL (SQLite or PostgreSQL, storage/db.h) client store.
#include "clients.h"

#include "medallion/core/secret.h"
#include "medallion/storage/sqlite.h"

namespace medallion::uma::internal {
namespace {

using nlohmann::json;
using sql::Stmt;

constexpr std::string_view kWhat = "consent";
constexpr size_t kMaxCredentialBytes = 512;  // our ids and secrets are far shorter

class SqlClientStore final : public ClientStore {
 public:
  explicit SqlClientStore(sql::Db& db) : db_(db) {}

  Status Insert(const std::string& client_id, const Hash256& secret_hash, const std::string& kind,
                const json& metadata, int64_t now) override {
    Stmt ins(
        db_,
        "INSERT INTO clients (client_id, secret_hash, kind, metadata, created) VALUES (?,?,?,?,?)",
        kWhat);
    ins.Text(1, client_id)
        .Blob(2, secret_hash.data(), secret_hash.size())
        .Text(3, kind)
        .Text(4, metadata.dump());
    if (ins.Int(5, now).Step() != SQLITE_DONE) return ins.Error();
    return Status::Ok();
  }

  std::optional<ClientRow> Authenticate(std::string_view client_id,
                                        std::string_view secret) override {
    if (client_id.size() > kMaxCredentialBytes || secret.size() > kMaxCredentialBytes)
      return std::nullopt;
    Stmt q(cache_, "SELECT secret_hash, kind, metadata FROM clients WHERE client_id = ?", kWhat);
    q.Text(1, client_id);
    if (q.Step() != SQLITE_ROW) return std::nullopt;
    const std::string stored = q.ColBlob(0);
    const Hash256 given = Sha256(AsBytes(secret));
    if (stored.size() != given.size() || !ConstantTimeEqual(AsBytes(stored), given))
      return std::nullopt;
    ClientRow row{q.Col(1), json::parse(q.Col(2), nullptr, false)};
    if (!row.metadata.is_object()) return std::nullopt;
    return row;
  }

  std::optional<ClientRow> Find(std::string_view client_id) override {
    if (client_id.empty() || client_id.size() > kMaxCredentialBytes) return std::nullopt;
    Stmt q(cache_, "SELECT kind, metadata FROM clients WHERE client_id = ?", kWhat);
    q.Text(1, client_id);
    if (q.Step() != SQLITE_ROW) return std::nullopt;
    ClientRow row{q.Col(0), json::parse(q.Col(1), nullptr, false)};
    if (!row.metadata.is_object()) return std::nullopt;
    return row;
  }

  std::string InternalClient(const std::string& name) override {
    // The one dialect difference of this store: reading a member of the JSON metadata.
    Stmt q(cache_,
           db_.backend() == sql::Backend::kPostgres
               ? "SELECT client_id FROM clients WHERE kind = 'internal' AND "
                 "(metadata::jsonb ->> 'client_name') = ?"
               : "SELECT client_id FROM clients WHERE kind = 'internal' AND json_extract(metadata, "
                 "'$.client_name') = ?",
           kWhat);
    if (q.Text(1, name).Step() == SQLITE_ROW) return q.Col(0);
    return "";
  }

 private:
  sql::Db& db_;
  sql::StmtCache cache_{db_, kWhat};  // statements prepared once (the caller serializes)
};

}  // namespace

std::unique_ptr<ClientStore> NewSqlClientStore(sql::Db& db) {
  return std::make_unique<SqlClientStore>(db);
}

}  // namespace medallion::uma::internal
