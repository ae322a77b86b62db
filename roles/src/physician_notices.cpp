// The workspace's delivered prescriptions and their refusals (physician_notices.h).
#include "physician_notices.h"

#include "medallion/storage/sqlite.h"

namespace medallion::roles {
namespace {

using nlohmann::json;

constexpr std::string_view kWhat = "physician workspace";

constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE issued (
  digest TEXT PRIMARY KEY,      -- hex SHA-256 of the PrescriptionCredential (CredentialDigest)
  patient TEXT NOT NULL,        -- its subject's DID
  at INTEGER NOT NULL
);
CREATE TABLE refusals (
  id TEXT PRIMARY KEY,          -- the notice's jti
  digest TEXT NOT NULL REFERENCES issued(digest),
  pharmacy TEXT NOT NULL,
  reason TEXT NOT NULL,
  description TEXT NOT NULL,
  refused_at INTEGER NOT NULL,
  received INTEGER NOT NULL
);
CREATE INDEX refusals_by_digest ON refusals(digest);
)sql",
};

}  // namespace

Result<std::unique_ptr<PrescriberNotices>> PrescriberNotices::Open(const std::string& path) {
  sqlite3* db = nullptr;
  MDL_RETURN_IF_ERROR(sql::OpenDatabase(path, kWhat, kMigrations, &db));
  return std::unique_ptr<PrescriberNotices>(new PrescriberNotices(db));
}

PrescriberNotices::~PrescriberNotices() { sqlite3_close(db_); }

Status PrescriberNotices::Issued(const std::string& digest, const std::string& patient,
                                 int64_t at) {
  std::lock_guard lock(mu_);
  sql::Stmt ins(db_, "INSERT OR IGNORE INTO issued (digest, patient, at) VALUES (?, ?, ?)", kWhat);
  ins.Text(1, digest).Text(2, patient).Int(3, at);
  if (ins.Step() != SQLITE_DONE) return ins.Error();
  return Status::Ok();
}

Result<std::string> PrescriberNotices::SubjectOf(const std::string& digest) {
  std::lock_guard lock(mu_);
  sql::Stmt q(db_, "SELECT patient FROM issued WHERE digest = ?", kWhat);
  q.Text(1, digest);
  const int rc = q.Step();
  if (rc == SQLITE_ROW) return q.Col(0);
  if (rc != SQLITE_DONE) return q.Error();
  return Status::NotFound("no prescription of yours delivered from this workspace has that digest");
}

Result<bool> PrescriberNotices::Keep(const claims::RefusalNotice& n, int64_t received) {
  std::lock_guard lock(mu_);
  bool added = false;
  Status st = sql::InTransaction(db_, kWhat, [&]() -> Status {
    sql::Stmt seen(db_, "SELECT 1 FROM refusals WHERE id = ?", kWhat);
    seen.Text(1, n.id);
    const int rc = seen.Step();
    if (rc == SQLITE_ROW) return Status::Ok();
    if (rc != SQLITE_DONE) return seen.Error();
    sql::Stmt count(db_, "SELECT COUNT(*) FROM refusals WHERE digest = ?", kWhat);
    count.Text(1, n.prescription);
    if (count.Step() != SQLITE_ROW) return count.Error();
    if (count.ColInt(0) >= kMaxPerPrescription) {
      return Status::WithReason(StatusCode::kResourceExhausted, "too_many_notices",
                                "this prescription has as many refusal notices as are kept");
    }
    sql::Stmt ins(db_,
                  "INSERT INTO refusals (id, digest, pharmacy, reason, description, refused_at, "
                  "received) VALUES (?, ?, ?, ?, ?, ?, ?)",
                  kWhat);
    ins.Text(1, n.id)
        .Text(2, n.prescription)
        .Text(3, n.pharmacy)
        .Text(4, n.reason)
        .Text(5, n.description)
        .Int(6, n.refused_at)
        .Int(7, received);
    if (ins.Step() != SQLITE_DONE) return ins.Error();
    added = true;
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return added;
}

Result<std::map<std::string, json>> PrescriberNotices::Refusals() {
  std::lock_guard lock(mu_);
  std::map<std::string, json> out;
  sql::Stmt q(db_,
              "SELECT digest, pharmacy, reason, description, refused_at, received FROM refusals "
              "ORDER BY refused_at DESC, received DESC",
              kWhat);
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    json& list = out[q.Col(0)];
    if (list.is_null()) list = json::array();
    list.push_back({{"pharmacy", q.Col(1)},
                    {"reason", q.Col(2)},
                    {"description", q.Col(3)},
                    {"at", q.ColInt(4)},
                    {"received", q.ColInt(5)}});
  }
  if (rc != SQLITE_DONE) return q.Error();
  return out;
}

}  // namespace medallion::roles
