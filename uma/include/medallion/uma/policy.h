// The owner's consent policies and their evaluation: who (a DID, any holder of a credential
// type from a trusted issuer, or the provider of one of her relationships) may do what (scopes) to
// which resources, for which purpose of use, in which time window, and whether each request needs
// the owner's (and other parties') approval. Deny overrides permit; the default is deny; the result
// is deterministic and comes with an explanation for the decision log. Pure functions: no storage,
// no clock.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "medallion/core/status.h"

namespace medallion::uma {

// Purposes of use, the vocabulary of the ledger's consent receipts (docs/ledger.md).
bool IsPurposeOfUse(std::string_view purpose);

// The name an approver list uses for the container's owner.
inline constexpr char kOwnerApprover[] = "owner";

// One way a requesting party can match a policy: exactly one of `did`, `credential_type` or
// `relationship`.
struct SubjectRule {
  std::string did;              // this DID
  std::string credential_type;  // or: any holder of a verified credential of this type ...
  std::vector<std::string>
      issuers;  // ... issued by one of these DIDs (empty: the container's trusted issuers)
  // Or: the provider of this relationship (its id, docs/relationships.md), or of any of hers
  // ("*"), proven by signing in with the provider's pairwise key of that relationship (its
  // did:key) while the relationship is active and accepted by her.
  std::string relationship;
};

// The subject value naming every relationship of the owner.
inline constexpr char kAnyRelationship[] = "*";

struct Policy {
  std::string id;  // assigned by the store
  enum class Effect { kPermit, kDeny } effect = Effect::kPermit;
  std::vector<SubjectRule> subjects;      // any of them; at least one
  std::vector<std::string> resource_ids;  // UMA resource ids ...
  std::vector<std::string>
      resource_types;  // ... or resource types (exact, or the last path segment); "*" = all
  std::vector<std::string> scopes;    // empty = every scope
  std::vector<std::string> purposes;  // permit: at least one; deny: empty = every purpose
  int64_t not_before = 0;             // POSIX seconds, 0 = no bound
  int64_t not_after = 0;
  bool owner_approval = false;            // each request waits for the owner's decision
  std::vector<std::string> co_approvers;  // DIDs whose approval is also required (multi-party)
  std::string note;                       // the owner's own label; never shown to requesters
};

// Strict JSON form (docs/uma.md §"Policies"): unknown members, wrong types, an empty subject
// list, a rule naming not exactly one of did / credential_type / relationship, a relationship
// that is neither a relationship id nor "*", unknown purposes, a window with
// not_after <= not_before are refused (invalid_argument naming the member). `id` is ignored
// on input.
Result<Policy> PolicyFromJson(const nlohmann::json& j);
nlohmann::json PolicyToJson(const Policy& p);

// A credential the claims gathering verified (signature, validity, status, holder binding).
struct VerifiedCredential {
  std::vector<std::string> types;
  std::string issuer;
  std::string id;
  std::string digest;  // hex SHA-256 of the canonical credential
  // What the owner is shown about its subject (a license's name, licenseNumber, licenseType,
  // specialty, jurisdiction): member name → value, strings only.
  std::vector<std::pair<std::string, std::string>> facts;
};

// What the authorization server knows about the requesting party.
struct RequestingParty {
  std::string did;  // proven control ("" = not yet proven)
  std::vector<VerifiedCredential> credentials;
  std::string purpose;  // declared purpose of use ("" = none)
  // The owner's relationships (ids) whose provider pseudonym is the key of `did`, active and
  // accepted by her: filled by the authorization server (AuthorizationServerOptions::
  // relationships_of) when a policy names a relationship.
  std::vector<std::string> relationships;
};

struct ResourceRef {
  std::string id;
  std::string type;
  std::vector<std::string> scopes;  // the scopes the resource was registered with
};

struct RequestedPermission {
  ResourceRef resource;
  std::vector<std::string> scopes;
};

struct GrantedPermission {
  std::string resource_id;
  std::vector<std::string> scopes;      // sorted
  std::vector<std::string> policy_ids;  // the permits that granted them, sorted
};

struct Decision {
  enum class Outcome { kPermit, kApprovalRequired, kDeny } outcome = Outcome::kDeny;
  // kPermit: what is granted (denied pairs are dropped). kApprovalRequired: what would be
  // granted once every approver agrees.
  std::vector<GrantedPermission> permissions;
  std::vector<std::string> approvers;    // kApprovalRequired: "owner" and/or DIDs, sorted
  std::vector<std::string> explanation;  // one line per (resource, scope): which rule decided
};

// Evaluates `requested` for `party` at `now` (UMA Grant §3.3.4 "authorization assessment"):
// for each (resource, scope) pair, the policies that apply are those whose subject, resource,
// scope, purpose and time window all match; any applicable deny denies the pair (deny
// overrides); otherwise an applicable permit without approval grants it; otherwise an
// applicable permit with approval makes it wait for that policy's approvers (the permit with
// the fewest approvers, then the smallest id); otherwise the pair is denied (default deny).
// The request is denied if every pair is; waits for approval if any remaining pair does;
// otherwise permits the remaining pairs. `trusted_issuers` stands in for a credential rule
// without issuers. Deterministic: the output depends only on the arguments.
Decision Evaluate(const std::vector<Policy>& policies,
                  const std::vector<RequestedPermission>& requested, const RequestingParty& party,
                  const std::vector<std::string>& trusted_issuers, int64_t now);

}  // namespace medallion::uma
