// OpenID4VP 1.0 §6 DCQL and §7 Claims Path Pointers for dc+sd-jwt (dcql.h).
#include "medallion/oid4vc/dcql.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "medallion/claims/sd_jwt.h"
#include "medallion/core/json.h"

namespace medallion::oid4vc {

using nlohmann::json;

namespace {

Status Malformed(std::string_view detail) {
  return Status::WithReason(StatusCode::kInvalidArgument, vp_error::kInvalidRequest, detail);
}
Status Unsatisfied(StatusCode code, std::string_view detail) {
  return Status::WithReason(code, vp_error::kAccessDenied, detail);
}

// §6.1 `id`: "a non-empty string consisting of alphanumeric, underscore (_), or hyphen (-)".
bool ValidId(const json& v) {
  if (!v.is_string()) return false;
  const std::string& s = v.get_ref<const std::string&>();
  if (s.empty() || s.size() > 128) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

// A non-empty array of at most kMaxDcqlEntries elements.
bool NonEmptyArray(const json& v) {
  return v.is_array() && !v.empty() && v.size() <= kMaxDcqlEntries;
}

Result<ClaimsQuery> ParseClaim(const json& c, const std::string& where) {
  if (!c.is_object()) return Malformed(where + " is not an object");
  ClaimsQuery q;
  if (c.contains("id")) {
    if (!ValidId(c["id"])) return Malformed(where + ".id is not a valid identifier");
    q.id = c["id"].get<std::string>();
  }
  if (!c.contains("path") || !NonEmptyArray(c["path"]))
    return Malformed(where + ".path must be a non-empty array");
  for (const json& e : c["path"]) {
    if (!(e.is_string() || e.is_null() || e.is_number_unsigned()))
      return Malformed(where + ".path elements are strings, non-negative integers or null");
  }
  q.path = c["path"];
  if (c.contains("values")) {
    if (!NonEmptyArray(c["values"])) return Malformed(where + ".values must be a non-empty array");
    for (const json& v : c["values"]) {
      if (!(v.is_string() || v.is_number_integer() || v.is_boolean()))
        return Malformed(where + ".values elements are strings, integers or booleans");
      q.values.push_back(v);
    }
  }
  return q;
}

Result<CredentialQuery> ParseCredential(const json& c, size_t i) {
  const std::string where = "credentials[" + std::to_string(i) + "]";
  if (!c.is_object()) return Malformed(where + " is not an object");
  CredentialQuery q;
  if (!c.contains("id") || !ValidId(c["id"]))
    return Malformed(where + ".id must be a non-empty string of [A-Za-z0-9_-]");
  q.id = c["id"].get<std::string>();
  if (!c.contains("format") || !c["format"].is_string())
    return Malformed(where + ".format must be a string");
  q.format = c["format"].get<std::string>();
  if (q.format != kSdJwtVcFormat)
    return Status::WithReason(StatusCode::kInvalidArgument, vp_error::kVpFormatsNotSupported,
                              where + ".format \"" + q.format + "\": only dc+sd-jwt is supported");
  if (c.contains("multiple")) {
    if (!c["multiple"].is_boolean()) return Malformed(where + ".multiple must be a boolean");
    q.multiple = c["multiple"].get<bool>();
  }
  if (c.contains("require_cryptographic_holder_binding")) {
    if (!c["require_cryptographic_holder_binding"].is_boolean())
      return Malformed(where + ".require_cryptographic_holder_binding must be a boolean");
    q.require_cryptographic_holder_binding = c["require_cryptographic_holder_binding"].get<bool>();
  }
  if (c.contains("trusted_authorities"))
    return Malformed(where + ".trusted_authorities (§6.1.1) is not supported");
  // §6.1 `meta` REQUIRED; Appendix B.3.5: `vct_values` REQUIRED for dc+sd-jwt.
  if (!c.contains("meta") || !c["meta"].is_object())
    return Malformed(where + ".meta must be an object");
  const json& meta = c["meta"];
  if (!meta.contains("vct_values") || !NonEmptyArray(meta["vct_values"]))
    return Malformed(where + ".meta.vct_values must be a non-empty array");
  for (const json& v : meta["vct_values"]) {
    if (!v.is_string() || v.get_ref<const std::string&>().empty())
      return Malformed(where + ".meta.vct_values elements are non-empty strings");
    q.vct_values.push_back(v.get<std::string>());
  }
  if (c.contains("claims")) {
    if (!NonEmptyArray(c["claims"])) return Malformed(where + ".claims must be a non-empty array");
    std::set<std::string> ids;
    for (size_t k = 0; k < c["claims"].size(); ++k) {
      MDL_ASSIGN_OR_RETURN(
          ClaimsQuery cq, ParseClaim(c["claims"][k], where + ".claims[" + std::to_string(k) + "]"));
      if (!cq.id.empty() && !ids.insert(cq.id).second)
        return Malformed(where + ".claims: duplicate id \"" + cq.id + "\"");
      q.claims.push_back(std::move(cq));
    }
  }
  if (c.contains("claim_sets")) {
    // §6.1: claim_sets MUST NOT be present when claims is absent; every claim then has an id.
    if (q.claims.empty()) return Malformed(where + ".claim_sets without claims");
    for (const ClaimsQuery& cq : q.claims) {
      if (cq.id.empty()) return Malformed(where + ".claims need ids when claim_sets is present");
    }
    if (!NonEmptyArray(c["claim_sets"]))
      return Malformed(where + ".claim_sets must be a non-empty array");
    for (const json& option : c["claim_sets"]) {
      if (!NonEmptyArray(option))
        return Malformed(where + ".claim_sets options must be non-empty arrays");
      std::vector<std::string> ids;
      for (const json& id : option) {
        if (!id.is_string() ||
            std::none_of(q.claims.begin(), q.claims.end(),
                         [&](const ClaimsQuery& cq) { return cq.id == id.get<std::string>(); }))
          return Malformed(where + ".claim_sets names a claim id that is not in claims");
        ids.push_back(id.get<std::string>());
      }
      q.claim_sets.push_back(std::move(ids));
    }
  }
  return q;
}

void Walk(const json& node, const json& path, size_t i, const std::string& pointer,
          std::vector<std::string>* out) {
  if (i == path.size()) {
    out->push_back(pointer);
    return;
  }
  const json& e = path[i];
  if (e.is_string()) {
    if (!node.is_object()) return;
    const std::string& name = e.get_ref<const std::string&>();
    auto it = node.find(name);
    if (it == node.end()) return;
    Walk(*it, path, i + 1, pointer + "/" + claims::EscapeJsonPointerToken(name), out);
  } else if (e.is_null()) {
    if (!node.is_array()) return;
    for (size_t k = 0; k < node.size(); ++k)
      Walk(node[k], path, i + 1, pointer + "/" + std::to_string(k), out);
  } else {
    if (!node.is_array()) return;
    const uint64_t k = e.get<uint64_t>();
    if (k >= node.size()) return;
    Walk(node[k], path, i + 1, pointer + "/" + std::to_string(k), out);
  }
}

// The pointers one Claims Query selects, after the `values` filter (§6.3, §6.4.1).
Result<std::vector<std::string>> SelectClaim(const ClaimsQuery& claim, const json& payload) {
  MDL_ASSIGN_OR_RETURN(std::vector<std::string> found, SelectPath(payload, claim.path));
  if (!claim.values.empty()) {
    std::vector<std::string> kept;
    for (const std::string& p : found) {
      const json& v = payload.at(json::json_pointer(p));
      if (std::find(claim.values.begin(), claim.values.end(), v) != claim.values.end())
        kept.push_back(p);
    }
    if (kept.empty())
      return Unsatisfied(StatusCode::kNotFound,
                         "claim " + claim.path.dump() + " has none of the requested values");
    found = std::move(kept);
  }
  return found;
}

}  // namespace

const CredentialQuery* DcqlQuery::Find(std::string_view id) const {
  for (const CredentialQuery& c : credentials) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

Result<std::vector<std::string>> DcqlQuery::RequiredIds(
    const std::vector<std::string>* available) const {
  std::vector<std::string> out;
  if (credential_sets.empty()) {
    for (const CredentialQuery& c : credentials) out.push_back(c.id);
    return out;
  }
  auto have = [&](const std::string& id) {
    return available == nullptr ||
           std::find(available->begin(), available->end(), id) != available->end();
  };
  for (size_t i = 0; i < credential_sets.size(); ++i) {
    const CredentialSetQuery& set = credential_sets[i];
    if (!set.required) continue;
    const std::vector<std::string>* chosen = nullptr;
    for (const auto& option : set.options) {
      if (std::all_of(option.begin(), option.end(), have)) {
        chosen = &option;
        break;
      }
    }
    if (chosen == nullptr)
      return Unsatisfied(StatusCode::kFailedPrecondition,
                         "no option of credential_sets[" + std::to_string(i) + "] can be met");
    for (const std::string& id : *chosen) {
      if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
    }
  }
  return out;
}

Result<DcqlQuery> ParseDcqlQuery(const json& query) {
  if (!query.is_object()) return Malformed("dcql_query is not a JSON object");
  DcqlQuery q;
  if (!query.contains("credentials") || !NonEmptyArray(query["credentials"]))
    return Malformed("dcql_query.credentials must be a non-empty array");
  for (size_t i = 0; i < query["credentials"].size(); ++i) {
    MDL_ASSIGN_OR_RETURN(CredentialQuery c, ParseCredential(query["credentials"][i], i));
    if (q.Find(c.id) != nullptr) return Malformed("credentials: duplicate id \"" + c.id + "\"");
    q.credentials.push_back(std::move(c));
  }
  if (query.contains("credential_sets")) {
    if (!NonEmptyArray(query["credential_sets"]))
      return Malformed("dcql_query.credential_sets must be a non-empty array");
    for (size_t i = 0; i < query["credential_sets"].size(); ++i) {
      const json& s = query["credential_sets"][i];
      const std::string where = "credential_sets[" + std::to_string(i) + "]";
      if (!s.is_object()) return Malformed(where + " is not an object");
      CredentialSetQuery set;
      if (!s.contains("options") || !NonEmptyArray(s["options"]))
        return Malformed(where + ".options must be a non-empty array");
      for (const json& option : s["options"]) {
        if (!NonEmptyArray(option))
          return Malformed(where + ".options elements must be non-empty arrays");
        std::vector<std::string> ids;
        for (const json& id : option) {
          if (!id.is_string() || q.Find(id.get<std::string>()) == nullptr)
            return Malformed(where + ".options names an id that is not a Credential Query");
          ids.push_back(id.get<std::string>());
        }
        set.options.push_back(std::move(ids));
      }
      if (s.contains("required")) {
        if (!s["required"].is_boolean()) return Malformed(where + ".required must be a boolean");
        set.required = s["required"].get<bool>();
      }
      q.credential_sets.push_back(std::move(set));
    }
  }
  return q;
}

Result<DcqlQuery> ParseDcqlQuery(std::string_view text) {
  if (text.size() > kMaxDcqlBytes) return Malformed("dcql_query is too large");
  auto j = ParseJsonObject(text, "dcql_query");
  if (!j) return Malformed("dcql_query is not a JSON object");
  return ParseDcqlQuery(*j);
}

json DcqlQueryToJson(const DcqlQuery& query) {
  json creds = json::array();
  for (const CredentialQuery& c : query.credentials) {
    json cj = {{"id", c.id}, {"format", c.format}, {"meta", {{"vct_values", c.vct_values}}}};
    if (c.multiple) cj["multiple"] = true;
    if (!c.require_cryptographic_holder_binding) cj["require_cryptographic_holder_binding"] = false;
    if (!c.claims.empty()) {
      json claims = json::array();
      for (const ClaimsQuery& cq : c.claims) {
        json x = {{"path", cq.path}};
        if (!cq.id.empty()) x["id"] = cq.id;
        if (!cq.values.empty()) x["values"] = cq.values;
        claims.push_back(std::move(x));
      }
      cj["claims"] = std::move(claims);
    }
    if (!c.claim_sets.empty()) cj["claim_sets"] = c.claim_sets;
    creds.push_back(std::move(cj));
  }
  json out = {{"credentials", std::move(creds)}};
  if (!query.credential_sets.empty()) {
    json sets = json::array();
    for (const CredentialSetQuery& s : query.credential_sets)
      sets.push_back({{"options", s.options}, {"required", s.required}});
    out["credential_sets"] = std::move(sets);
  }
  return out;
}

Result<std::vector<std::string>> SelectPath(const json& payload, const json& path) {
  std::vector<std::string> out;
  if (path.is_array() && !path.empty()) Walk(payload, path, 0, "", &out);
  if (out.empty()) return Status::NotFound("claim " + path.dump() + " is not in the credential");
  return out;
}

Result<std::vector<std::string>> SelectClaims(const CredentialQuery& query, const json& payload) {
  // Appendix B.3.5: the credential's vct is one of vct_values.
  const auto vct = payload.find("vct");
  if (vct == payload.end() || !vct->is_string() ||
      std::find(query.vct_values.begin(), query.vct_values.end(), vct->get<std::string>()) ==
          query.vct_values.end())
    return Unsatisfied(StatusCode::kNotFound, "the credential's vct is not one of vct_values");
  std::vector<std::string> out;
  if (query.claims.empty()) return out;  // §6.4.1: no claims requested
  auto select = [&](const ClaimsQuery& cq) -> Status {
    auto p = SelectClaim(cq, payload);
    if (!p) {
      return p.error().reason().empty()
                 ? Unsatisfied(StatusCode::kNotFound, "claim " + cq.path.dump() + " is absent")
                 : p.error();
    }
    out.insert(out.end(), p->begin(), p->end());
    return Status::Ok();
  };
  if (query.claim_sets.empty()) {
    for (const ClaimsQuery& cq : query.claims) MDL_RETURN_IF_ERROR(select(cq));
    return out;
  }
  Status last;
  for (const auto& option : query.claim_sets) {
    out.clear();
    Status st;
    for (const std::string& id : option) {
      const auto it = std::find_if(query.claims.begin(), query.claims.end(),
                                   [&](const ClaimsQuery& cq) { return cq.id == id; });
      st = it == query.claims.end() ? Malformed("claim_sets names an unknown claim id")
                                    : select(*it);
      if (!st.ok()) break;
    }
    if (st.ok()) return out;
    last = st;
  }
  return Unsatisfied(StatusCode::kNotFound,
                     "no claim_sets option can be met (" + last.message() + ")");
}

Result<std::vector<DcqlSelection>> MatchDcql(const DcqlQuery& query,
                                             const std::vector<std::string>& held) {
  struct View {
    json payload;
    std::vector<std::string> disclosable;
  };
  std::vector<std::optional<View>> views;
  for (const std::string& c : held) {
    auto v = claims::InspectSdJwt(c);
    std::optional<View> view;
    if (v) {
      auto payload = ParseJsonObject(v->payload_json, "sd-jwt payload");
      if (payload) view = View{std::move(*payload), v->disclosable};
    }
    views.push_back(std::move(view));  // an unreadable credential matches nothing
  }
  // Per Credential Query, the credentials meeting it and what each must reveal.
  std::map<std::string, std::vector<DcqlSelection>> candidates;
  std::map<std::string, std::string> why;
  std::vector<std::string> satisfiable;
  for (const CredentialQuery& cq : query.credentials) {
    for (size_t i = 0; i < views.size(); ++i) {
      if (!views[i]) continue;
      auto selected = SelectClaims(cq, views[i]->payload);
      if (!selected) {
        why[cq.id] = selected.error().message();
        continue;
      }
      DcqlSelection s{cq.id, i, {}};
      // Reveal each disclosable claim that a selected claim is, lies within (§7.1: a path
      // selecting an object or array asks for all of it), or is part of (a claim inside a
      // disclosure that holds a whole object or array: that disclosure is the smallest unit
      // there is). Disclosures above it are added by PresentSdJwt.
      for (const std::string& d : views[i]->disclosable) {
        for (const std::string& p : *selected) {
          if (d == p || d.starts_with(p + "/") || p.starts_with(d + "/")) {
            s.reveal.push_back(d);
            break;
          }
        }
      }
      candidates[cq.id].push_back(std::move(s));
      if (!cq.multiple) break;
    }
    if (!candidates[cq.id].empty()) satisfiable.push_back(cq.id);
  }
  auto required = query.RequiredIds(&satisfiable);
  if (!required) return required.error();
  std::vector<DcqlSelection> out;
  for (const std::string& id : *required) {
    auto& c = candidates[id];
    if (c.empty()) {
      const std::string reason = why.count(id) ? why[id] : "the wallet holds no such credential";
      return Unsatisfied(StatusCode::kFailedPrecondition,
                         "credential query \"" + id + "\" cannot be satisfied: " + reason);
    }
    for (DcqlSelection& s : c) out.push_back(std::move(s));
  }
  return out;
}

}  // namespace medallion::oid4vc
