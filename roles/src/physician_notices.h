// What the physician's workspace keeps on disk beside her container (<dir>/physician.sqlite):
// the prescriptions it delivered (digest → the patient's DID), so that it knows whose word
// about each it takes, and the refusals her patients chose to tell her
// (claims::RefusalNotice, docs/web.md §"A refusal reaches the prescriber"). Thread-safe.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "medallion/claims/pharmacy.h"
#include "medallion/core/status.h"

namespace medallion::roles {

class PrescriberNotices {
 public:
  // At most this many refusals are kept per prescription (a patient's notices beyond are
  // refused with resource_exhausted).
  static constexpr int kMaxPerPrescription = 50;

  static Result<std::unique_ptr<PrescriberNotices>> Open(const std::string& path);
  ~PrescriberNotices();

  // Records that the prescription of hex digest `digest` was delivered to `patient` (again: no
  // change).
  Status Issued(const std::string& digest, const std::string& patient, int64_t at);
  // The patient of a delivered prescription; not_found for any other digest.
  Result<std::string> SubjectOf(const std::string& digest);
  // Keeps a verified notice received at `received`: true if new, false if its id (jti) was
  // kept already (a replay changes nothing).
  Result<bool> Keep(const claims::RefusalNotice& n, int64_t received);
  // Each prescription's refusals, newest first: digest → [{"pharmacy", "reason",
  // "description", "at", "received"}].
  Result<std::map<std::string, nlohmann::json>> Refusals();

 private:
  explicit PrescriberNotices(sqlite3* db) : db_(db) {}
  std::mutex mu_;
  sqlite3* db_;
};

}  // namespace medallion::roles
