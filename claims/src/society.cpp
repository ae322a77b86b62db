// The medical society: directory matching, license issuance with status entries, status
// changes, signed status lists — all persisted in SQLite.
#include "medallion/claims/society.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "medallion/claims/credentials.h"
#include "medallion/claims/data_integrity.h"
#include "medallion/claims/jose.h"
#include "medallion/core/encoding.h"
#include "medallion/storage/sqlite.h"

namespace medallion::claims {
namespace {

using nlohmann::json;
using sql::Stmt;

constexpr std::string_view kWhat = "society";

constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE licenses (
  id TEXT PRIMARY KEY,
  did TEXT NOT NULL,
  license_number TEXT NOT NULL,
  status_index INTEGER NOT NULL,
  vc TEXT NOT NULL,
  issued INTEGER NOT NULL,
  superseded INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX licenses_by_number ON licenses(license_number);
CREATE TABLE lists (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  state TEXT NOT NULL
);
CREATE TABLE challenges (
  nonce TEXT PRIMARY KEY,
  expires INTEGER NOT NULL
);
)sql",
};

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

Result<std::string> Str(const json& e, const char* k, size_t i) {
  auto it = e.find(k);
  if (it == e.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    return Status::InvalidArgument("directory entry " + std::to_string(i) + ": " + k +
                                   " is a non-empty string");
  }
  return it->get<std::string>();
}

}  // namespace

Result<std::vector<DirectoryEntry>> ParseDirectory(const json& j) {
  if (!j.is_array()) return Status::InvalidArgument("the directory is a JSON array");
  std::vector<DirectoryEntry> out;
  for (size_t i = 0; i < j.size(); ++i) {
    const json& e = j[i];
    if (!e.is_object())
      return Status::InvalidArgument("directory entry " + std::to_string(i) + " is not an object");
    DirectoryEntry d;
    MDL_ASSIGN_OR_RETURN(d.license_number, Str(e, "license_number", i));
    MDL_ASSIGN_OR_RETURN(d.name, Str(e, "name", i));
    MDL_ASSIGN_OR_RETURN(d.jurisdiction, Str(e, "jurisdiction", i));
    MDL_ASSIGN_OR_RETURN(d.license_type, Str(e, "license_type", i));
    MDL_ASSIGN_OR_RETURN(d.specialty, Str(e, "specialty", i));
    MDL_ASSIGN_OR_RETURN(d.valid_until, Str(e, "valid_until", i));
    MDL_RETURN_IF_ERROR(ParseDateTimeStamp(d.valid_until).status());
    for (const json& s : e.value("schedules", json::array())) {
      if (!s.is_string() || !IsSchedule(s.get<std::string>())) {
        return Status::InvalidArgument("directory entry " + std::to_string(i) +
                                       ": schedules are II, III, IV or V");
      }
      d.schedules.push_back(s);
    }
    out.push_back(std::move(d));
  }
  return out;
}

Society::Society(sqlite3* db, SocietyOptions options, Env env)
    : db_(db), options_(std::move(options)), env_(env) {}
Society::~Society() { sqlite3_close(db_); }

Result<std::unique_ptr<Society>> Society::Open(const std::string& path, SocietyOptions options,
                                               Env env) {
  if (!did::IsValidDid(options.did) || !options.signer.sign || options.base_url.empty()) {
    return Status::InvalidArgument("society: a DID, a signer and a base URL are required");
  }
  sqlite3* db = nullptr;
  MDL_RETURN_IF_ERROR(sql::OpenDatabase(path, kWhat, kMigrations, &db));
  std::unique_ptr<Society> s(new Society(db, std::move(options), env));
  // The lists are created once and then only ever loaded.
  Stmt q(db, "SELECT COUNT(*) FROM lists", kWhat);
  if (q.Step() == SQLITE_ROW && q.ColInt(0) == 0) {
    StatusListConfig config;
    config.revocation_list_url = s->options_.base_url + "/status/revocation";
    config.suspension_list_url = s->options_.base_url + "/status/suspension";
    config.length = s->options_.status_list_length;
    MDL_ASSIGN_OR_RETURN(StatusListIssuer lists, StatusListIssuer::Create(config));
    MDL_RETURN_IF_ERROR(sql::InTransaction(db, kWhat, [&]() -> Status {
      Stmt ins(db, "INSERT INTO lists (id, state) VALUES (1, ?)", kWhat);
      if (ins.Text(1, lists.Serialize()).Step() != SQLITE_DONE) return ins.Error();
      return Status::Ok();
    }));
  }
  return s;
}

Result<StatusListIssuer> Society::LoadLists() {
  Stmt q(db_, "SELECT state FROM lists WHERE id = 1", kWhat);
  if (q.Step() != SQLITE_ROW) return Status::DataLoss("society: the status lists are missing");
  return StatusListIssuer::Deserialize(q.Col(0));
}

Status Society::SaveLists(const StatusListIssuer& lists) {
  Stmt up(db_, "UPDATE lists SET state = ? WHERE id = 1", kWhat);
  if (up.Text(1, lists.Serialize()).Step() != SQLITE_DONE) return up.Error();
  return Status::Ok();
}

Result<json> Society::Challenge() {
  const std::string nonce = Base64UrlEncode(env_.rng->RandomBytes(32));
  const int64_t expires = env_.clock->NowSeconds() + options_.challenge_ttl;
  MDL_RETURN_IF_ERROR(sql::InTransaction(db_, kWhat, [&]() -> Status {
    Stmt gc(db_, "DELETE FROM challenges WHERE expires <= ?", kWhat);
    if (gc.Int(1, env_.clock->NowSeconds()).Step() != SQLITE_DONE) return gc.Error();
    Stmt ins(db_, "INSERT INTO challenges (nonce, expires) VALUES (?,?)", kWhat);
    if (ins.Text(1, nonce).Int(2, expires).Step() != SQLITE_DONE) return ins.Error();
    return Status::Ok();
  }));
  return json{{"nonce", nonce}, {"audience", options_.did}, {"expires", expires}};
}

Result<json> Society::Onboard(std::string_view proof, const std::string& license_number,
                              const std::string& name, const did::Resolver& resolver) {
  const int64_t now = env_.clock->NowSeconds();
  JwtCheckOptions co;
  co.now = now;
  co.expected_audience = options_.did;
  VerifiedJwt info;
  auto payload = VerifyJwt(JwtKind::kDidAuth, proof, resolver, co, &info);
  if (!payload)
    return Status::Unauthenticated("the proof of DID control was refused: " +
                                   payload.error().message());
  if (!info.issued_at || !info.expires || *info.expires - *info.issued_at > 600) {
    return Status::Unauthenticated("the proof needs iat and exp at most 600 s apart");
  }
  const std::string nonce = payload->value("nonce", "");
  const DirectoryEntry* entry = nullptr;
  for (const DirectoryEntry& d : options_.directory) {
    if (d.license_number == license_number && Lower(d.name) == Lower(name)) entry = &d;
  }
  json vc;
  Status st = sql::InTransaction(db_, kWhat, [&]() -> Status {
    Stmt del(db_, "DELETE FROM challenges WHERE nonce = ? AND expires > ?", kWhat);
    if (del.Text(1, nonce).Int(2, now).Step() != SQLITE_DONE) return del.Error();
    if (sqlite3_changes(db_) != 1)
      return Status::Unauthenticated("the challenge is unknown, used or expired");
    if (entry == nullptr)
      return Status::NotFound("no directory entry matches that license number and name");
    MDL_ASSIGN_OR_RETURN(StatusListIssuer lists, LoadLists());
    // One live license per number: the previous one is revoked (and a revoked number stays out).
    std::vector<uint64_t> previous;
    {
      Stmt q(db_, "SELECT status_index FROM licenses WHERE license_number = ? AND superseded = 0",
             kWhat);
      q.Text(1, license_number);
      while (q.Step() == SQLITE_ROW) previous.push_back(static_cast<uint64_t>(q.ColInt(0)));
    }
    for (uint64_t i : previous) {
      if (lists.State(i).revoked)
        return Status::FailedPrecondition("this license number was revoked");
    }
    for (uint64_t i : previous) MDL_RETURN_IF_ERROR(lists.Revoke(i));
    Stmt sup(db_, "UPDATE licenses SET superseded = 1 WHERE license_number = ?", kWhat);
    if (sup.Text(1, license_number).Step() != SQLITE_DONE) return sup.Error();

    MDL_ASSIGN_OR_RETURN(uint64_t index, lists.Assign(*env_.rng));
    MDL_ASSIGN_OR_RETURN(json status, lists.CredentialStatus(index));
    const std::string id = NewCredentialId(*env_.rng);
    LicenseClaims c{info.controller,       entry->license_number, entry->jurisdiction,
                    entry->license_type,   entry->specialty,      entry->schedules,
                    did::XmlDateTime(now), entry->valid_until,    entry->name};
    MDL_ASSIGN_OR_RETURN(json unsigned_vc, BuildLicenseCredential(id, options_.did, c, status));
    ProofOptions po;
    po.created = did::XmlDateTime(now);
    MDL_ASSIGN_OR_RETURN(vc, AddProof(unsigned_vc, options_.signer, po));
    Stmt ins(db_,
             "INSERT INTO licenses (id, did, license_number, status_index, vc, issued) VALUES "
             "(?,?,?,?,?,?)",
             kWhat);
    ins.Text(1, id)
        .Text(2, info.controller)
        .Text(3, license_number)
        .Int(4, static_cast<int64_t>(index))
        .Text(5, vc.dump())
        .Int(6, now);
    if (ins.Step() != SQLITE_DONE) return ins.Error();
    return SaveLists(lists);
  });
  if (!st.ok()) return st;
  return vc;
}

Status Society::SetStatus(const std::string& license_id, const std::string& action) {
  if (action != "revoke" && action != "suspend" && action != "reinstate") {
    return Status::InvalidArgument("action is revoke, suspend or reinstate");
  }
  return sql::InTransaction(db_, kWhat, [&]() -> Status {
    Stmt q(db_, "SELECT status_index FROM licenses WHERE id = ?", kWhat);
    if (q.Text(1, license_id).Step() != SQLITE_ROW) return Status::NotFound("no such license");
    const uint64_t index = static_cast<uint64_t>(q.ColInt(0));
    MDL_ASSIGN_OR_RETURN(StatusListIssuer lists, LoadLists());
    if (action == "revoke") MDL_RETURN_IF_ERROR(lists.Revoke(index));
    if (action == "suspend") MDL_RETURN_IF_ERROR(lists.Suspend(index));
    if (action == "reinstate") MDL_RETURN_IF_ERROR(lists.Reinstate(index));
    return SaveLists(lists);
  });
}

Result<json> Society::StatusListCredential(StatusPurpose purpose) {
  MDL_ASSIGN_OR_RETURN(StatusListIssuer lists, LoadLists());
  const int64_t now = env_.clock->NowSeconds();
  StatusListCredentialOptions o;
  o.issuer = options_.did;
  o.valid_from = did::XmlDateTime(now - 60);
  o.valid_until = did::XmlDateTime(now + 86400);
  o.ttl_millis = options_.status_ttl_millis;
  MDL_ASSIGN_OR_RETURN(json list, lists.StatusListCredential(purpose, o));
  ProofOptions po;
  po.created = did::XmlDateTime(now - 60);
  return AddProof(list, options_.signer, po);
}

Result<json> Society::Licenses() {
  MDL_ASSIGN_OR_RETURN(StatusListIssuer lists, LoadLists());
  json out = json::array();
  Stmt q(db_,
         "SELECT id, did, license_number, status_index, issued FROM licenses ORDER BY issued, id",
         kWhat);
  while (q.Step() == SQLITE_ROW) {
    const StatusEntryState s = lists.State(static_cast<uint64_t>(q.ColInt(3)));
    out.push_back({{"id", q.Col(0)},
                   {"did", q.Col(1)},
                   {"license_number", q.Col(2)},
                   {"status", s.revoked     ? "revoked"
                              : s.suspended ? "suspended"
                                            : "active"},
                   {"issued", q.ColInt(4)}});
  }
  return out;
}

}  // namespace medallion::claims
