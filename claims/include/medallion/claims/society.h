// A medical society as an issuer: it verifies a physician once — proof of control of her DID
// plus a match against its licensing directory — issues her MedicalLicenseCredential with
// revocation and suspension entries on its Bitstring Status Lists, and later revokes, suspends
// or reinstates it. State (issued licenses, the lists, open challenges) is in SQLite (WAL,
// synchronous=FULL), so a revocation survives a restart. Never sees patient data.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "medallion/claims/signer.h"
#include "medallion/claims/status_list.h"
#include "medallion/core/env.h"
#include "medallion/core/status.h"
#include "medallion/did/resolver.h"

struct sqlite3;

namespace medallion::claims {

// One licensee in the society's directory (loaded from a JSON file:
// [{"license_number", "name", "jurisdiction", "license_type", "specialty", "schedules": [...],
// "valid_until": "2028-01-01T00:00:00Z"}]).
struct DirectoryEntry {
  std::string license_number;
  std::string name;
  std::string jurisdiction;
  std::string license_type;
  std::string specialty;
  std::vector<std::string> schedules;
  std::string valid_until;
};
// Errors: invalid_argument naming the entry and member.
Result<std::vector<DirectoryEntry>> ParseDirectory(const nlohmann::json& j);

// A directory file as a clerk imports it, every problem listed rather than the first:
// JSON (an array of entries as above; an entry's "line" is the line its object starts on) or
// CSV (RFC 4180: a header line naming the columns license_number, name, jurisdiction,
// license_type, specialty, schedules (space- or ';'-separated), valid_until; quoted fields may
// hold commas, quotes and newlines). `errors` holds "line N: what is wrong" for each bad line
// (and duplicates of a license number); `entries` only when there is no error.
struct DirectoryImport {
  std::vector<DirectoryEntry> entries;
  std::vector<std::pair<int, std::string>> errors;  // (line, message)
};
DirectoryImport ParseDirectoryFile(std::string_view text, std::string_view format);
nlohmann::json DirectoryEntryJson(const DirectoryEntry& e);

struct SocietyOptions {
  std::string did;       // the society's DID (did:web)
  Signer signer;         // its assertion key
  std::string base_url;  // where it publishes: <base_url>/status/revocation, /status/suspension
  std::vector<DirectoryEntry> directory;
  int64_t challenge_ttl = 300;
  uint64_t status_list_length = kStatusListMinEntries;
  // How long verifiers may cache a list (credentialSubject.ttl): how soon a revocation shows.
  int64_t status_ttl_millis = 60'000;
  // Onboarding requests wait for a clerk's decision (ApproveOnboarding) instead of being issued
  // at once on a directory match.
  bool review = false;
};

class Society {
 public:
  static Result<std::unique_ptr<Society>> Open(const std::string& path, SocietyOptions options,
                                               Env env);
  ~Society();
  Society(const Society&) = delete;
  Society& operator=(const Society&) = delete;

  // A single-use onboarding challenge: {"nonce", "audience" (the society's DID), "expires"}.
  Result<nlohmann::json> Challenge();

  // Onboards a physician: `proof` is a did-auth+jwt (aud = the society's DID, nonce = an unused
  // challenge) by the DID to license; `license_number` and `name` must match a directory entry
  // (name compared case-insensitively). One live license per license number: onboarding again
  // returns a new credential and revokes the previous one. Returns the signed credential — or,
  // with options.review, {"request": <id>, "status": "pending"}: a clerk decides.
  // Errors: unauthenticated (proof), not_found (no directory match — the same answer for a
  // wrong number or name), failed_precondition (a revoked number is not re-licensed).
  Result<nlohmann::json> Onboard(std::string_view proof, const std::string& license_number,
                                 const std::string& name, const did::Resolver& resolver);

  // --- The clerk's desk ---
  // The directory: [DirectoryEntryJson + "updated_at", "source"], by license number.
  Result<nlohmann::json> Directory();
  // Adds or replaces entries (by license number) in one transaction: {"added", "updated"}.
  Result<nlohmann::json> ImportDirectory(const std::vector<DirectoryEntry>& entries,
                                         const std::string& source);
  // Onboarding requests, newest first: [{"id", "did", "license_number", "name", "created",
  // "status": "pending"|"approved"|"rejected", "directory_match", "decided_by"?, "decided_at"?,
  // "reason"?, "license_id"?}].
  Result<nlohmann::json> OnboardingRequests();
  // One request as its physician polls it ({"status"}, + "credential" once approved).
  // Errors: not_found.
  Result<nlohmann::json> OnboardingRequest(const std::string& id);
  // A clerk's decision. Approving issues the license from the directory entry of the request's
  // license number (the name must match); rejecting records the reason. Errors: not_found,
  // failed_precondition (decided already; no directory match; a revoked number),
  // invalid_argument (reason).
  Result<nlohmann::json> DecideOnboarding(const std::string& id, bool approve,
                                          const std::string& reason, const std::string& clerk);

  // "revoke" (final), "suspend", "reinstate". Errors: not_found, invalid_argument,
  // failed_precondition (a revoked license).
  Status SetStatus(const std::string& license_id, const std::string& action);
  // SetStatus with the clerk's reason kept (1-200 characters, one line).
  Status SetStatus(const std::string& license_id, const std::string& action,
                   const std::string& reason, const std::string& clerk);
  // The lists as published: {"revocation": {"url", "length", "set"}, "suspension": {...},
  // "updated_at" (the last change), "ttl_ms"}.
  Result<nlohmann::json> StatusListState();

  // The signed status list credential of `purpose` (valid one day, ttl status_ttl_millis).
  Result<nlohmann::json> StatusListCredential(StatusPurpose purpose);
  // Issued licenses: [{"id", "did", "license_number", "name", "status", "issued",
  // "superseded", "events": [{"action", "reason", "by", "at"}]}].
  Result<nlohmann::json> Licenses();
  // The signed credential of one issued license, as issued (what OpenID4VCI's ldp_vc offer
  // hands to its holder, docs/openid4vc.md). Errors: not_found.
  Result<nlohmann::json> LicenseCredential(const std::string& license_id);

  const SocietyOptions& options() const { return options_; }

 private:
  Society(sqlite3* db, SocietyOptions options, Env env);
  Result<StatusListIssuer> LoadLists();
  Status SaveLists(const StatusListIssuer& lists);
  Result<const DirectoryEntry*> Match(const std::string& license_number, const std::string& name,
                                      DirectoryEntry* storage);
  // Issues the license for `did` from `entry` (inside a transaction). Returns the credential.
  Result<nlohmann::json> Issue(const std::string& did, const DirectoryEntry& entry, int64_t now,
                               std::string* license_id);
  sqlite3* db_;
  // One connection, many server threads: a transaction begun by one request while another's is
  // open failed ("cannot start a transaction within a transaction", a 503). Every public method
  // that reads or writes db_ holds this (recursive: SetStatus calls SetStatus).
  std::recursive_mutex mu_;
  SocietyOptions options_;
  Env env_;
};

}  // namespace medallion::claims
