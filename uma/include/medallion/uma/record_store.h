// The container's FHIR R4 record store: the owner's resources (MedicationRequest,
// AllergyIntolerance, Condition, Observation, DocumentReference) in SQLite, versioned, with
// create / read / update / search by type and patient. Access control is the UMA layer's job
// (issue 6): this store trusts its caller.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "medallion/core/env.h"
#include "medallion/core/status.h"

namespace medallion::sql {
class Db;
}

namespace medallion::uma {

// The resource types the store accepts.
bool IsSupportedResourceType(std::string_view type);

// Largest resource accepted, as compact JSON.
inline constexpr size_t kMaxResourceBytes = 256 * 1024;

// Checks a resource against FHIR R4 for its type: resourceType supported; the elements R4
// requires (MedicationRequest: status, intent, medication[x], subject; AllergyIntolerance:
// patient; Condition: subject; Observation: status, code; DocumentReference: status, content
// with attachments), code values from the required value sets, references as
// {"reference": "Type/id"}, ids matching [A-Za-z0-9.-]{1,64}. Errors: invalid_argument
// "fhir: <Type>.<element>: ...".
Status ValidateResource(const nlohmann::json& resource);

class RecordStore {
 public:
  // Opens or creates the store (WAL, synchronous=FULL, numbered migrations), or, when `path` is
  // a postgresql:// URL, the rows of `container` in a database shared by a host's containers
  // (row-level security; docs/scale-out.md). Thread safe on either backend.
  static Result<std::unique_ptr<RecordStore>> Open(const std::string& path, Env env,
                                                   const std::string& container = "");
  ~RecordStore();
  RecordStore(const RecordStore&) = delete;
  RecordStore& operator=(const RecordStore&) = delete;

  // Stores a new resource: the server assigns `id` (a client id is refused: FHIR create is
  // POST), `meta.versionId` "1" and `meta.lastUpdated`. Returns the stored resource.
  Result<nlohmann::json> Create(const nlohmann::json& resource);
  // The current version. not_found for an unknown id or type.
  Result<nlohmann::json> Read(std::string_view type, std::string_view id);
  // A past version (FHIR vread).
  Result<nlohmann::json> ReadVersion(std::string_view type, std::string_view id, uint64_t version);
  // Replaces a resource (FHIR update): the body's resourceType and id must match; with
  // `if_match`, the current version must be that one (failed_precondition otherwise: a lost
  // update is refused). The version is incremented; old versions are kept.
  Result<nlohmann::json> Update(std::string_view type, std::string_view id,
                                const nlohmann::json& resource,
                                std::optional<uint64_t> if_match = std::nullopt);
  // Current resources of `type`, optionally only those about `patient` ("Patient/<id>" as in
  // subject.reference or patient.reference), oldest first, at most `limit` (≤ 1000).
  Result<std::vector<nlohmann::json>> Search(std::string_view type,
                                             std::optional<std::string> patient,
                                             size_t limit = 100);

 private:
  RecordStore(std::unique_ptr<sql::Db> db, Env env);
  // Held by every call on PostgreSQL, whose connection serves one statement at a time (a
  // SQLite connection is opened serialized and needs none).
  std::unique_lock<std::mutex> Guard();
  std::unique_ptr<sql::Db> db_;
  std::mutex mu_;
  Env env_;
};

}  // namespace medallion::uma
