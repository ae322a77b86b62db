// The SQL (SQLite or PostgreSQL, storage/db.h) device store.
#include "devices_store.h"

#include <algorithm>

#include "medallion/storage/sqlite.h"

namespace medallion::uma::internal {
namespace {

using sql::Stmt;

constexpr std::string_view kWhat = "consent";

class SqlDeviceStore final : public DeviceStore {
 public:
  explicit SqlDeviceStore(sql::Db& db) : db_(db) {}

  Status PutPairing(const std::string& id, const Hash256& secret_hash, int64_t expires,
                    int64_t now) override {
    Stmt gc(cache_, "DELETE FROM pairings WHERE expires < ?", kWhat);
    if (gc.Int(1, now - 86400).Step() != SQLITE_DONE) return gc.Error();
    Stmt ins(cache_, "INSERT INTO pairings (id, secret_hash, expires, created) VALUES (?,?,?,?)",
             kWhat);
    ins.Text(1, id).Blob(2, secret_hash.data(), secret_hash.size()).Int(3, expires).Int(4, now);
    if (ins.Step() != SQLITE_DONE) return ins.Error();
    return Status::Ok();
  }

  Result<PairingRow> FindPairing(std::string_view id) override {
    Stmt q(cache_, "SELECT secret_hash, expires, used, attempts FROM pairings WHERE id = ?", kWhat);
    const int rc = q.Text(1, id).Step();
    if (rc == SQLITE_DONE) return Status::NotFound("unknown pairing");
    if (rc != SQLITE_ROW) return q.Error();
    const std::string hash = q.ColBlob(0);
    PairingRow row;
    if (hash.size() != row.secret_hash.size()) {
      return Status::DataLoss("consent: a stored pairing secret hash is not 32 bytes");
    }
    std::copy(hash.begin(), hash.end(), row.secret_hash.begin());
    row.expires = q.ColInt(1);
    row.used = q.ColInt(2) != 0;
    row.attempts = q.ColInt(3);
    return row;
  }

  Status BurnAttempt(std::string_view id) override {
    Stmt bump(cache_, "UPDATE pairings SET attempts = attempts + 1 WHERE id = ?", kWhat);
    if (bump.Text(1, id).Step() != SQLITE_DONE) return bump.Error();
    return Status::Ok();
  }

  Result<bool> ConsumePairing(std::string_view id) override {
    Stmt use(cache_, "UPDATE pairings SET used = 1 WHERE id = ? AND used = 0", kWhat);
    if (use.Text(1, id).Step() != SQLITE_DONE) return use.Error();
    return db_.Changes() == 1;
  }

  Status AddDevice(const std::string& id, ByteView public_key, const std::string& name,
                   int64_t created) override {
    Stmt ins(cache_, "INSERT INTO devices (id, public_key, name, created) VALUES (?,?,?,?)", kWhat);
    ins.Text(1, id).Blob(2, public_key.data(), public_key.size()).Text(3, name).Int(4, created);
    if (ins.Step() != SQLITE_DONE) return ins.Error();
    return Status::Ok();
  }

  Result<size_t> CountActive() override {
    Stmt count(cache_, "SELECT COUNT(*) FROM devices WHERE revoked IS NULL", kWhat);
    if (count.Step() != SQLITE_ROW) return count.Error();
    return static_cast<size_t>(count.ColInt(0));
  }

  Result<std::vector<DeviceRow>> ListDevices() override {
    Stmt q(cache_, "SELECT id, public_key, name, created, revoked FROM devices ORDER BY created, id",
           kWhat);
    std::vector<DeviceRow> out;
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) {
      DeviceRow d;
      d.id = q.Col(0);
      const std::string pk = q.ColBlob(1);
      d.public_key.assign(pk.begin(), pk.end());
      d.name = q.Col(2);
      d.created = q.ColInt(3);
      d.revoked = q.ColInt(4);  // NULL reads as 0
      out.push_back(std::move(d));
    }
    if (rc != SQLITE_DONE) return q.Error();
    return out;
  }

  Result<Bytes> ActiveKey(std::string_view id) override {
    Stmt q(cache_, "SELECT public_key FROM devices WHERE id = ? AND revoked IS NULL", kWhat);
    const int rc = q.Text(1, id).Step();
    if (rc == SQLITE_DONE) return Status::NotFound("no such device in use");
    if (rc != SQLITE_ROW) return q.Error();
    const std::string pk = q.ColBlob(0);
    return Bytes(pk.begin(), pk.end());
  }

  Status Revoke(std::string_view id, int64_t now) override {
    Stmt up(cache_, "UPDATE devices SET revoked = ? WHERE id = ?", kWhat);
    if (up.Int(1, now).Text(2, id).Step() != SQLITE_DONE) return up.Error();
    return Status::Ok();
  }

 private:
  sql::Db& db_;
  sql::StmtCache cache_{db_, kWhat};  // statements prepared once (the caller serializes)
};

}  // namespace

std::unique_ptr<DeviceStore> NewSqlDeviceStore(sql::Db& db) {
  return std::make_unique<SqlDeviceStore>(db);
}

}  // namespace medallion::uma::internal
