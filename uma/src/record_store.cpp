// FHIR R4 resource store on SQLite (WAL, explicit transactions, numbered migrations).
#include "medallion/uma/record_store.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "medallion/core/encoding.h"
#include "medallion/core/jcs.h"
#include "medallion/core/json.h"
#include "medallion/did/resolver.h"
#include "medallion/storage/sqlite.h"

namespace medallion::uma {
namespace {

using nlohmann::json;

constexpr const char* kTypes[] = {"MedicationRequest", "AllergyIntolerance", "Condition",
                                  "Observation", "DocumentReference"};

constexpr const char* kSqliteMigrations[] = {
    R"sql(
CREATE TABLE resources (
  type TEXT NOT NULL,
  id TEXT NOT NULL,
  version INTEGER NOT NULL,
  patient TEXT,
  body TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  current INTEGER NOT NULL,
  PRIMARY KEY (type, id, version)
);
CREATE INDEX resources_by_patient ON resources(type, patient, current);
CREATE INDEX resources_current ON resources(type, current, updated_at);
)sql",
};

// PostgreSQL: the same table led by the tenant column (docs/scale-out.md), and `seq` for the
// insertion order SQLite's rowid gives.
constexpr char kPgV1[] = R"sql(
CREATE TABLE fhir_resources (
  container_id TEXT NOT NULL DEFAULT current_setting('medallion.container'),
  seq BIGINT GENERATED ALWAYS AS IDENTITY,
  type TEXT NOT NULL,
  id TEXT NOT NULL,
  version BIGINT NOT NULL,
  patient TEXT,
  body TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  current BIGINT NOT NULL,
  PRIMARY KEY (container_id, type, id, version)
);
CREATE INDEX fhir_resources_by_patient ON fhir_resources(container_id, type, patient, current);
CREATE INDEX fhir_resources_current ON fhir_resources(container_id, type, current, updated_at);
)sql";

std::span<const char* const> PgMigrations() {
  static const std::string v1 = kPgV1 + sql::TenantIsolation("fhir_resources");
  static const char* const list[] = {v1.c_str()};
  return list;
}

Status Fhir(const std::string& type, const std::string& what) {
  return Status::InvalidArgument("fhir: " + type + "." + what);
}

bool IsFhirId(const std::string& s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
  });
}

// A FHIR Reference with a relative literal reference "Type/id".
// FHIR R4 Reference (§2.3.0): a relative literal reference ("Type/id"), or a logical one by
// identifier (a prescription names its patient and prescriber by their DIDs).
bool IsReference(const json& j) {
  if (!j.is_object()) return false;
  if (!j.contains("reference")) {
    auto id = j.find("identifier");
    return id != j.end() && id->is_object() && id->contains("value") &&
           (*id)["value"].is_string() && !(*id)["value"].get<std::string>().empty() &&
           (*id)["value"].get<std::string>().size() <= 4096;
  }
  if (!j["reference"].is_string()) return false;
  const std::string r = j["reference"];
  const size_t slash = r.find('/');
  return slash != std::string::npos && slash > 0 && IsFhirId(r.substr(slash + 1)) &&
         std::all_of(r.begin(), r.begin() + static_cast<std::ptrdiff_t>(slash), ::isalpha);
}

bool IsCodeableConcept(const json& j) {
  if (!j.is_object()) return false;
  if (j.contains("coding")) {
    if (!j["coding"].is_array()) return false;
    for (const auto& c : j["coding"]) {
      if (!c.is_object() || (c.contains("code") && !c["code"].is_string()) ||
          (c.contains("system") && !c["system"].is_string())) {
        return false;
      }
    }
  }
  return j.contains("coding") || (j.contains("text") && j["text"].is_string());
}

Status RequireCode(const json& r, const std::string& type, const char* element,
                   std::initializer_list<const char*> values) {
  if (!r.contains(element) || !r[element].is_string())
    return Fhir(type, std::string(element) + ": required");
  const std::string v = r[element];
  for (const char* x : values) {
    if (v == x) return Status::Ok();
  }
  return Fhir(type, std::string(element) + ": '" + v + "' is not in the required value set");
}

// The patient a resource is about, as "Patient/<id>" ("" if none).
std::string PatientOf(const json& r) {
  for (const char* e : {"subject", "patient"}) {
    if (r.contains(e) && IsReference(r[e]) && r[e].contains("reference")) {
      const std::string ref = r[e]["reference"];
      if (ref.rfind("Patient/", 0) == 0) return ref;
    }
  }
  return "";
}

constexpr std::string_view kWhat = "records";
using sql::Stmt;

// On PostgreSQL the table is fhir_resources (the consent store's `resources` shares the schema)
// and `seq` orders what SQLite's rowid does: each statement below is written for both.
bool OnPg(const sql::Db& db) { return db.backend() == sql::Backend::kPostgres; }

Result<std::string> Serialize(const json& r) {
  MDL_ASSIGN_OR_RETURN(std::string s, jcs::Canonicalize(r));
  if (s.size() > kMaxResourceBytes)
    return Status::InvalidArgument("fhir: resource larger than 256 KiB");
  return s;
}

}  // namespace

bool IsSupportedResourceType(std::string_view type) {
  return std::any_of(std::begin(kTypes), std::end(kTypes),
                     [&](const char* t) { return type == t; });
}

Status ValidateResource(const json& r) {
  if (!r.is_object() || !r.contains("resourceType") || !r["resourceType"].is_string()) {
    return Status::InvalidArgument("fhir: a resource is a JSON object with a resourceType");
  }
  const std::string type = r["resourceType"];
  if (!IsSupportedResourceType(type))
    return Status::InvalidArgument("fhir: resourceType " + type + " is not stored here");
  if (r.contains("id") && (!r["id"].is_string() || !IsFhirId(r["id"])))
    return Fhir(type, "id: must match [A-Za-z0-9.-]{1,64}");
  if (type == "MedicationRequest") {
    MDL_RETURN_IF_ERROR(RequireCode(r, type, "status",
                                    {"active", "on-hold", "cancelled", "completed",
                                     "entered-in-error", "stopped", "draft", "unknown"}));
    MDL_RETURN_IF_ERROR(RequireCode(r, type, "intent",
                                    {"proposal", "plan", "order", "original-order", "reflex-order",
                                     "filler-order", "instance-order", "option"}));
    const bool by_concept = r.contains("medicationCodeableConcept") &&
                            IsCodeableConcept(r["medicationCodeableConcept"]);
    const bool ref = r.contains("medicationReference") && IsReference(r["medicationReference"]);
    if (by_concept == ref)
      return Fhir(type,
                  "medication[x]: exactly one of medicationCodeableConcept / medicationReference");
    if (!r.contains("subject") || !IsReference(r["subject"]))
      return Fhir(type, "subject: a Reference is required");
  } else if (type == "AllergyIntolerance") {
    if (!r.contains("patient") || !IsReference(r["patient"]))
      return Fhir(type, "patient: a Reference is required");
    if (r.contains("code") && !IsCodeableConcept(r["code"]))
      return Fhir(type, "code: must be a CodeableConcept");
  } else if (type == "Condition") {
    if (!r.contains("subject") || !IsReference(r["subject"]))
      return Fhir(type, "subject: a Reference is required");
    if (r.contains("code") && !IsCodeableConcept(r["code"]))
      return Fhir(type, "code: must be a CodeableConcept");
  } else if (type == "Observation") {
    MDL_RETURN_IF_ERROR(RequireCode(r, type, "status",
                                    {"registered", "preliminary", "final", "amended", "corrected",
                                     "cancelled", "entered-in-error", "unknown"}));
    if (!r.contains("code") || !IsCodeableConcept(r["code"]))
      return Fhir(type, "code: a CodeableConcept is required");
    if (r.contains("subject") && !IsReference(r["subject"]))
      return Fhir(type, "subject: must be a Reference");
  } else if (type == "DocumentReference") {
    MDL_RETURN_IF_ERROR(
        RequireCode(r, type, "status", {"current", "superseded", "entered-in-error"}));
    if (!r.contains("content") || !r["content"].is_array() || r["content"].empty())
      return Fhir(type, "content: at least one is required");
    for (const auto& c : r["content"]) {
      if (!c.is_object() || !c.contains("attachment") || !c["attachment"].is_object()) {
        return Fhir(type, "content.attachment: required");
      }
    }
    if (r.contains("subject") && !IsReference(r["subject"]))
      return Fhir(type, "subject: must be a Reference");
  }
  return Status::Ok();
}

Result<std::unique_ptr<RecordStore>> RecordStore::Open(const std::string& path, Env env,
                                                       const std::string& container) {
  MDL_ASSIGN_OR_RETURN(std::unique_ptr<sql::Db> db,
                       sql::Db::Open(path, kWhat, {kSqliteMigrations, PgMigrations()}, container));
  return std::unique_ptr<RecordStore>(new RecordStore(std::move(db), env));
}

RecordStore::RecordStore(std::unique_ptr<sql::Db> db, Env env) : db_(std::move(db)), env_(env) {}

RecordStore::~RecordStore() = default;

std::unique_lock<std::mutex> RecordStore::Guard() {
  return OnPg(*db_) ? std::unique_lock<std::mutex>(mu_) : std::unique_lock<std::mutex>();
}

Result<json> RecordStore::Create(const json& resource) {
  MDL_RETURN_IF_ERROR(ValidateResource(resource));
  if (resource.contains("id"))
    return Status::InvalidArgument("fhir: create assigns the id; the resource must not carry one");
  json r = resource;
  r["id"] = env_.rng->RandomId(12);
  // Ids are base64url; keep them in the FHIR id alphabet by mapping '_' → '.'.
  std::string id = r["id"];
  std::replace(id.begin(), id.end(), '_', '.');
  r["id"] = id;
  const int64_t now = env_.clock->NowSeconds();
  r["meta"] = {{"versionId", "1"}, {"lastUpdated", did::XmlDateTime(now)}};
  MDL_ASSIGN_OR_RETURN(std::string body, Serialize(r));
  const std::string type = r["resourceType"];
  auto lock = Guard();
  MDL_RETURN_IF_ERROR(sql::InTransaction(*db_, [&]() -> Status {
    Stmt ins(*db_, OnPg(*db_) ? "INSERT INTO fhir_resources (type, id, version, patient, body, "
                                "updated_at, current) VALUES (?,?,1,?,?,?,1)"
                              : "INSERT INTO resources (type, id, version, patient, body, "
                                "updated_at, current) VALUES (?,?,1,?,?,?,1)");
    ins.Text(1, type).Text(2, id).Text(3, PatientOf(r)).Text(4, body).Int(5, now);
    if (ins.Step() != SQLITE_DONE) return ins.Error();
    return Status::Ok();
  }));
  return r;
}

Result<json> RecordStore::Read(std::string_view type, std::string_view id) {
  auto lock = Guard();
  Stmt q(*db_, OnPg(*db_)
                   ? "SELECT body FROM fhir_resources WHERE type = ? AND id = ? AND current = 1"
                   : "SELECT body FROM resources WHERE type = ? AND id = ? AND current = 1");
  q.Text(1, type).Text(2, id);
  if (q.Step() != SQLITE_ROW)
    return Status::NotFound("fhir: no " + std::string(type) + "/" + std::string(id));
  return json::parse(q.Col(0));
}

Result<json> RecordStore::ReadVersion(std::string_view type, std::string_view id,
                                      uint64_t version) {
  auto lock = Guard();
  Stmt q(*db_, OnPg(*db_)
                   ? "SELECT body FROM fhir_resources WHERE type = ? AND id = ? AND version = ?"
                   : "SELECT body FROM resources WHERE type = ? AND id = ? AND version = ?");
  q.Text(1, type).Text(2, id).Int(3, static_cast<int64_t>(version));
  if (q.Step() != SQLITE_ROW) {
    return Status::NotFound("fhir: no version " + std::to_string(version) + " of " +
                            std::string(type) + "/" + std::string(id));
  }
  return json::parse(q.Col(0));
}

Result<json> RecordStore::Update(std::string_view type, std::string_view id, const json& resource,
                                 std::optional<uint64_t> if_match) {
  MDL_RETURN_IF_ERROR(ValidateResource(resource));
  if (resource["resourceType"] != type || StringOr(resource, "id") != id) {
    return Status::InvalidArgument(
        "fhir: update: the body's resourceType and id must match the URL");
  }
  json r = resource;
  const int64_t now = env_.clock->NowSeconds();
  json stored;
  auto lock = Guard();
  MDL_RETURN_IF_ERROR(sql::InTransaction(*db_, [&]() -> Status {
    Stmt q(*db_,
           OnPg(*db_)
               ? "SELECT version FROM fhir_resources WHERE type = ? AND id = ? AND current = 1"
               : "SELECT version FROM resources WHERE type = ? AND id = ? AND current = 1");
    q.Text(1, type).Text(2, id);
    if (q.Step() != SQLITE_ROW)
      return Status::NotFound("fhir: no " + std::string(type) + "/" + std::string(id));
    const int64_t version = q.ColInt(0);
    if (if_match && static_cast<int64_t>(*if_match) != version) {
      return Status::FailedPrecondition("fhir: version " + std::to_string(version) +
                                        " is current, not " + std::to_string(*if_match));
    }
    r["meta"] = {{"versionId", std::to_string(version + 1)},
                 {"lastUpdated", did::XmlDateTime(now)}};
    auto body = Serialize(r);
    if (!body) return body.error();
    Stmt old(*db_, OnPg(*db_) ? "UPDATE fhir_resources SET current = 0 WHERE type = ? AND id = ? "
                                "AND current = 1"
                              : "UPDATE resources SET current = 0 WHERE type = ? AND id = ? AND "
                                "current = 1");
    if (old.Text(1, type).Text(2, id).Step() != SQLITE_DONE) return old.Error();
    Stmt ins(*db_, OnPg(*db_) ? "INSERT INTO fhir_resources (type, id, version, patient, body, "
                                "updated_at, current) VALUES (?,?,?,?,?,?,1)"
                              : "INSERT INTO resources (type, id, version, patient, body, "
                                "updated_at, current) VALUES (?,?,?,?,?,?,1)");
    ins.Text(1, type)
        .Text(2, id)
        .Int(3, version + 1)
        .Text(4, PatientOf(r))
        .Text(5, *body)
        .Int(6, now);
    if (ins.Step() != SQLITE_DONE) return ins.Error();
    stored = r;
    return Status::Ok();
  }));
  return stored;
}

Result<std::vector<json>> RecordStore::Search(std::string_view type,
                                              std::optional<std::string> patient, size_t limit) {
  if (!IsSupportedResourceType(type))
    return Status::InvalidArgument("fhir: resourceType " + std::string(type) +
                                   " is not stored here");
  if (limit == 0 || limit > 1000) return Status::InvalidArgument("fhir: _count must be 1..1000");
  auto lock = Guard();
  const bool pg = OnPg(*db_);
  Stmt q(*db_, patient ? (pg ? "SELECT body FROM fhir_resources WHERE type = ? AND patient = ? AND "
                               "current = 1 ORDER BY updated_at, seq LIMIT ?"
                             : "SELECT body FROM resources WHERE type = ? AND patient = ? AND "
                               "current = 1 ORDER BY updated_at, rowid LIMIT ?")
                       : (pg ? "SELECT body FROM fhir_resources WHERE type = ? AND current = 1 "
                               "ORDER BY updated_at, seq LIMIT ?"
                             : "SELECT body FROM resources WHERE type = ? AND current = 1 ORDER "
                               "BY updated_at, rowid LIMIT ?"));
  q.Text(1, type);
  if (patient) {
    q.Text(2, *patient).Int(3, static_cast<int64_t>(limit));
  } else {
    q.Int(2, static_cast<int64_t>(limit));
  }
  std::vector<json> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) out.push_back(json::parse(q.Col(0)));
  if (rc != SQLITE_DONE) return q.Error();
  return out;
}

}  // namespace medallion::uma
