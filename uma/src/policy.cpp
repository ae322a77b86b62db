// Owner policies: strict JSON form and the deny-overrides evaluation.
#include "medallion/uma/policy.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "medallion/did/document.h"

namespace medallion::uma {
namespace {

using nlohmann::json;

constexpr size_t kMaxListItems = 256;
constexpr size_t kMaxStringBytes = 512;

const std::set<std::string, std::less<>>& Purposes() {
  static const std::set<std::string, std::less<>> kPurposes = {
      "treatment", "research", "payment", "operations", "public_health", "emergency"};
  return kPurposes;
}

Status Bad(const std::string& member, const std::string& why) {
  return Status::InvalidArgument("policy: " + member + ": " + why);
}

Result<std::vector<std::string>> StringList(const json& j, const char* member, bool dids = false) {
  std::vector<std::string> out;
  auto it = j.find(member);
  if (it == j.end()) return out;
  if (!it->is_array()) return Bad(member, "must be an array of strings");
  if (it->size() > kMaxListItems) return Bad(member, "too many items");
  for (const json& v : *it) {
    if (!v.is_string() || v.get_ref<const std::string&>().empty() ||
        v.get_ref<const std::string&>().size() > kMaxStringBytes) {
      return Bad(member, "must be an array of non-empty strings");
    }
    if (dids && !did::IsValidDid(v.get<std::string>()))
      return Bad(member, "'" + v.get<std::string>() + "' is not a DID");
    out.push_back(v.get<std::string>());
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<int64_t> Seconds(const json& j, const char* member) {
  auto it = j.find(member);
  if (it == j.end()) return int64_t{0};
  if (!it->is_number_integer() || it->get<int64_t>() <= 0)
    return Bad(member, "must be a positive integer (POSIX seconds)");
  return it->get<int64_t>();
}

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// A relationship id (22 base64url characters: 16 bytes, docs/relationships.md) or "*".
bool IsRelationshipSubject(const std::string& v) {
  if (v == kAnyRelationship) return true;
  return v.size() == 22 && std::all_of(v.begin(), v.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
         });
}

bool SubjectMatches(const SubjectRule& rule, const RequestingParty& party,
                    const std::vector<std::string>& trusted) {
  if (party.did.empty()) return false;  // nothing matches an unproven party
  if (!rule.did.empty()) return rule.did == party.did;
  if (!rule.relationship.empty()) {
    return rule.relationship == kAnyRelationship ? !party.relationships.empty()
                                                 : Contains(party.relationships, rule.relationship);
  }
  const std::vector<std::string>& issuers = rule.issuers.empty() ? trusted : rule.issuers;
  return std::any_of(
      party.credentials.begin(), party.credentials.end(), [&](const VerifiedCredential& c) {
        return Contains(c.types, rule.credential_type) && Contains(issuers, c.issuer);
      });
}

// Whether `p` applies to (resource, scope) for `party` at `now`; `why` says which part failed.
bool Applies(const Policy& p, const ResourceRef& resource, const std::string& scope,
             const RequestingParty& party, const std::vector<std::string>& trusted, int64_t now) {
  if (!std::any_of(p.subjects.begin(), p.subjects.end(),
                   [&](const SubjectRule& r) { return SubjectMatches(r, party, trusted); })) {
    return false;
  }
  // A type matches exactly, or by its last path segment ("MedicationRequest" for
  // "http://hl7.org/fhir/StructureDefinition/MedicationRequest").
  const std::string short_type = resource.type.substr(resource.type.find_last_of('/') + 1);
  const bool resource_ok =
      Contains(p.resource_ids, resource.id) || Contains(p.resource_types, "*") ||
      (!resource.type.empty() &&
       (Contains(p.resource_types, resource.type) || Contains(p.resource_types, short_type)));
  if (!resource_ok) return false;
  if (!p.scopes.empty() && !Contains(p.scopes, scope)) return false;
  if (!p.purposes.empty() && !Contains(p.purposes, party.purpose)) return false;
  if (p.not_before != 0 && now < p.not_before) return false;
  if (p.not_after != 0 && now >= p.not_after) return false;
  return true;
}

std::vector<std::string> Approvers(const Policy& p) {
  std::vector<std::string> out = p.co_approvers;
  if (p.owner_approval) out.push_back(kOwnerApprover);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

bool IsPurposeOfUse(std::string_view purpose) { return Purposes().count(purpose) > 0; }

Result<Policy> PolicyFromJson(const json& j) {
  if (!j.is_object()) return Status::InvalidArgument("policy: must be a JSON object");
  static const std::set<std::string, std::less<>> kMembers = {
      "id",       "effect",     "subjects",  "resource_ids",   "resource_types", "scopes",
      "purposes", "not_before", "not_after", "owner_approval", "co_approvers",   "note"};
  for (const auto& [key, value] : j.items()) {
    if (!kMembers.count(key)) return Bad(key, "unknown member");
  }
  Policy p;
  auto effect = j.find("effect");
  if (effect == j.end() || !effect->is_string() || (*effect != "permit" && *effect != "deny")) {
    return Bad("effect", "must be \"permit\" or \"deny\"");
  }
  p.effect = *effect == "permit" ? Policy::Effect::kPermit : Policy::Effect::kDeny;

  auto subjects = j.find("subjects");
  if (subjects == j.end() || !subjects->is_array() || subjects->empty() ||
      subjects->size() > kMaxListItems) {
    return Bad("subjects", "must be a non-empty array");
  }
  for (const json& s : *subjects) {
    if (!s.is_object()) return Bad("subjects", "each subject must be an object");
    for (const auto& [key, value] : s.items()) {
      if (key != "did" && key != "credential_type" && key != "issuers" && key != "relationship")
        return Bad("subjects." + key, "unknown member");
    }
    SubjectRule rule;
    if (auto d = s.find("did"); d != s.end()) {
      if (!d->is_string() || !did::IsValidDid(d->get<std::string>()))
        return Bad("subjects.did", "must be a DID");
      rule.did = d->get<std::string>();
    }
    if (auto t = s.find("credential_type"); t != s.end()) {
      if (!t->is_string() || t->get_ref<const std::string&>().empty() ||
          t->get_ref<const std::string&>().size() > kMaxStringBytes) {
        return Bad("subjects.credential_type", "must be a non-empty string");
      }
      rule.credential_type = t->get<std::string>();
    }
    if (auto r = s.find("relationship"); r != s.end()) {
      if (!r->is_string() || !IsRelationshipSubject(r->get_ref<const std::string&>())) {
        return Bad("subjects.relationship", "must be a relationship id or \"*\"");
      }
      rule.relationship = r->get<std::string>();
    }
    if (!rule.did.empty() + !rule.credential_type.empty() + !rule.relationship.empty() != 1) {
      return Bad("subjects",
                 "each subject names exactly one of did, credential_type or relationship");
    }
    MDL_ASSIGN_OR_RETURN(rule.issuers, StringList(s, "issuers", /*dids=*/true));
    if (rule.credential_type.empty() && !rule.issuers.empty())
      return Bad("subjects.issuers", "only with credential_type");
    p.subjects.push_back(std::move(rule));
  }
  MDL_ASSIGN_OR_RETURN(p.resource_ids, StringList(j, "resource_ids"));
  MDL_ASSIGN_OR_RETURN(p.resource_types, StringList(j, "resource_types"));
  if (p.resource_ids.empty() && p.resource_types.empty()) {
    return Bad("resource_ids",
               "a policy names resource_ids or resource_types (\"*\" for every resource)");
  }
  MDL_ASSIGN_OR_RETURN(p.scopes, StringList(j, "scopes"));
  MDL_ASSIGN_OR_RETURN(p.purposes, StringList(j, "purposes"));
  for (const std::string& purpose : p.purposes) {
    if (!IsPurposeOfUse(purpose))
      return Bad("purposes", "'" + purpose + "' is not a purpose of use");
  }
  if (p.effect == Policy::Effect::kPermit && p.purposes.empty()) {
    return Bad("purposes", "a permit names the purposes of use it allows");
  }
  MDL_ASSIGN_OR_RETURN(p.not_before, Seconds(j, "not_before"));
  MDL_ASSIGN_OR_RETURN(p.not_after, Seconds(j, "not_after"));
  if (p.not_before != 0 && p.not_after != 0 && p.not_after <= p.not_before) {
    return Bad("not_after", "must be after not_before");
  }
  if (auto a = j.find("owner_approval"); a != j.end()) {
    if (!a->is_boolean()) return Bad("owner_approval", "must be a boolean");
    p.owner_approval = a->get<bool>();
  }
  MDL_ASSIGN_OR_RETURN(p.co_approvers, StringList(j, "co_approvers", /*dids=*/true));
  if (p.effect == Policy::Effect::kDeny && (p.owner_approval || !p.co_approvers.empty())) {
    return Bad("owner_approval", "a deny needs no approval");
  }
  if (auto n = j.find("note"); n != j.end()) {
    if (!n->is_string() || n->get_ref<const std::string&>().size() > kMaxStringBytes) {
      return Bad("note", "must be a string of at most 512 bytes");
    }
    p.note = n->get<std::string>();
  }
  return p;
}

json PolicyToJson(const Policy& p) {
  json subjects = json::array();
  for (const SubjectRule& r : p.subjects) {
    json s = json::object();
    if (!r.did.empty()) s["did"] = r.did;
    if (!r.credential_type.empty()) s["credential_type"] = r.credential_type;
    if (!r.issuers.empty()) s["issuers"] = r.issuers;
    if (!r.relationship.empty()) s["relationship"] = r.relationship;
    subjects.push_back(std::move(s));
  }
  json j = {{"effect", p.effect == Policy::Effect::kPermit ? "permit" : "deny"},
            {"subjects", subjects}};
  if (!p.id.empty()) j["id"] = p.id;
  if (!p.resource_ids.empty()) j["resource_ids"] = p.resource_ids;
  if (!p.resource_types.empty()) j["resource_types"] = p.resource_types;
  if (!p.scopes.empty()) j["scopes"] = p.scopes;
  if (!p.purposes.empty()) j["purposes"] = p.purposes;
  if (p.not_before != 0) j["not_before"] = p.not_before;
  if (p.not_after != 0) j["not_after"] = p.not_after;
  if (p.owner_approval) j["owner_approval"] = true;
  if (!p.co_approvers.empty()) j["co_approvers"] = p.co_approvers;
  if (!p.note.empty()) j["note"] = p.note;
  return j;
}

Decision Evaluate(const std::vector<Policy>& policies,
                  const std::vector<RequestedPermission>& requested, const RequestingParty& party,
                  const std::vector<std::string>& trusted_issuers, int64_t now) {
  // Policies in id order, so that ties and explanations never depend on storage order.
  std::vector<const Policy*> ordered;
  for (const Policy& p : policies) ordered.push_back(&p);
  std::sort(ordered.begin(), ordered.end(),
            [](const Policy* a, const Policy* b) { return a->id < b->id; });

  Decision d;
  std::map<std::string, GrantedPermission> granted;  // by resource id
  std::set<std::string> approvers;
  size_t pairs = 0, denied = 0, waiting = 0;
  for (const RequestedPermission& req : requested) {
    std::vector<std::string> scopes = req.scopes;
    std::sort(scopes.begin(), scopes.end());
    scopes.erase(std::unique(scopes.begin(), scopes.end()), scopes.end());
    for (const std::string& scope : scopes) {
      ++pairs;
      const std::string pair = req.resource.id + " " + scope;
      const Policy* deny = nullptr;
      const Policy* permit = nullptr;
      const Policy* approval = nullptr;
      for (const Policy* p : ordered) {
        if (!Applies(*p, req.resource, scope, party, trusted_issuers, now)) continue;
        if (p->effect == Policy::Effect::kDeny) {
          if (deny == nullptr) deny = p;
        } else if (!p->owner_approval && p->co_approvers.empty()) {
          if (permit == nullptr) permit = p;
        } else if (approval == nullptr || Approvers(*p).size() < Approvers(*approval).size()) {
          approval = p;
        }
      }
      if (deny != nullptr) {
        ++denied;
        d.explanation.push_back(pair + ": deny (policy " + deny->id +
                                " denies; deny overrides permit)");
        continue;
      }
      const Policy* grantor = permit != nullptr ? permit : approval;
      if (grantor == nullptr) {
        ++denied;
        d.explanation.push_back(pair + ": deny (no policy permits: default deny)");
        continue;
      }
      GrantedPermission& g = granted[req.resource.id];
      g.resource_id = req.resource.id;
      g.scopes.push_back(scope);
      g.policy_ids.push_back(grantor->id);
      if (permit != nullptr) {
        d.explanation.push_back(pair + ": permit (policy " + permit->id + ")");
      } else {
        ++waiting;
        std::vector<std::string> who = Approvers(*approval);
        approvers.insert(who.begin(), who.end());
        d.explanation.push_back(pair + ": needs approval (policy " + approval->id + ")");
      }
    }
  }
  for (auto& [id, g] : granted) {
    std::sort(g.scopes.begin(), g.scopes.end());
    std::sort(g.policy_ids.begin(), g.policy_ids.end());
    g.policy_ids.erase(std::unique(g.policy_ids.begin(), g.policy_ids.end()), g.policy_ids.end());
    d.permissions.push_back(std::move(g));
  }
  if (pairs == 0 || denied == pairs) {
    d.outcome = Decision::Outcome::kDeny;
    d.permissions.clear();
  } else if (waiting > 0) {
    d.outcome = Decision::Outcome::kApprovalRequired;
    d.approvers.assign(approvers.begin(), approvers.end());
  } else {
    d.outcome = Decision::Outcome::kPermit;
  }
  return d;
}

}  // namespace medallion::uma
