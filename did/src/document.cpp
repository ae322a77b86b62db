// DID documents: syntax checks, Multikey methods, JSON in and out (W3C DID Core 1.0).
#include "medallion/did/document.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

#include "medallion/core/encoding.h"

namespace medallion::did {
namespace {

using nlohmann::json;

bool IsIdChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
}

constexpr Relationship kAllRelationships[] = {
    Relationship::kAuthentication, Relationship::kAssertionMethod, Relationship::kKeyAgreement,
    Relationship::kCapabilityInvocation, Relationship::kCapabilityDelegation};

Result<std::string> StringField(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string())
    return Status::InvalidArgument(std::string("DID document: \"") + name + "\" must be a string");
  return it->get<std::string>();
}

// Resolves a possibly relative reference ("#key-1") against the document id.
std::string Absolute(const std::string& doc_id, const std::string& ref) {
  return !ref.empty() && ref[0] == '#' ? doc_id + ref : ref;
}

Result<VerificationMethod> MethodFromJson(const json& m, const std::string& doc_id) {
  if (!m.is_object())
    return Status::InvalidArgument("DID document: a verification method must be an object");
  VerificationMethod vm;
  MDL_ASSIGN_OR_RETURN(std::string id, StringField(m, "id"));
  vm.id = Absolute(doc_id, id);
  MDL_ASSIGN_OR_RETURN(vm.type, StringField(m, "type"));
  MDL_ASSIGN_OR_RETURN(vm.controller, StringField(m, "controller"));
  if (vm.type != "Multikey") {
    return Status::InvalidArgument("DID document: verification method " + vm.id +
                                   " has unsupported type " + vm.type + " (Multikey only)");
  }
  MDL_ASSIGN_OR_RETURN(vm.public_key_multibase, StringField(m, "publicKeyMultibase"));
  auto key = ParseMultikey(vm.public_key_multibase);
  if (!key) return Status::InvalidArgument("DID document: " + vm.id + ": " + key.error().message());
  vm.key_type = key->type;
  vm.public_key = key->public_key;
  auto url = ParseDidUrl(vm.id);
  if (!url || url->fragment.empty())
    return Status::InvalidArgument("DID document: method id " + vm.id +
                                   " is not a DID URL with a fragment");
  if (!IsValidDid(vm.controller))
    return Status::InvalidArgument("DID document: controller of " + vm.id + " is not a DID");
  return vm;
}

}  // namespace

bool IsValidDid(std::string_view did) {
  if (did.size() < 7 || did.size() > 2048 || did.substr(0, 4) != "did:") return false;
  const size_t colon = did.find(':', 4);
  if (colon == std::string_view::npos || colon == 4) return false;
  for (size_t i = 4; i < colon; ++i) {
    const char c = did[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  }
  std::string_view id = did.substr(colon + 1);
  if (id.empty() || id.back() == ':') return false;
  for (size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    if (IsIdChar(c) || c == ':') continue;
    if (c == '%' && i + 2 < id.size() && std::isxdigit(static_cast<unsigned char>(id[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(id[i + 2]))) {
      i += 2;
      continue;
    }
    return false;
  }
  return true;
}

Result<DidUrl> ParseDidUrl(std::string_view url) {
  DidUrl out;
  const size_t end_of_did = url.find_first_of("/?#");
  out.did = std::string(url.substr(0, end_of_did));
  if (!IsValidDid(out.did))
    return Status::InvalidArgument("not a DID: " + std::string(url.substr(0, 80)));
  if (end_of_did == std::string_view::npos) return out;
  std::string_view rest = url.substr(end_of_did);
  const size_t hash = rest.find('#');
  if (hash != std::string_view::npos) {
    out.fragment = std::string(rest.substr(hash + 1));
    rest = rest.substr(0, hash);
  }
  const size_t q = rest.find('?');
  if (q != std::string_view::npos) {
    out.query = std::string(rest.substr(q + 1));
    rest = rest.substr(0, q);
  }
  out.path = std::string(rest);
  for (char c : out.fragment) {
    if (static_cast<unsigned char>(c) < 0x21 || c == '#')
      return Status::InvalidArgument("invalid character in DID URL fragment");
  }
  return out;
}

std::string_view DidMethod(std::string_view did) {
  if (did.substr(0, 4) != "did:") return {};
  const size_t colon = did.find(':', 4);
  return colon == std::string_view::npos ? std::string_view{} : did.substr(4, colon - 4);
}

std::string_view RelationshipName(Relationship r) {
  switch (r) {
    case Relationship::kAuthentication:
      return "authentication";
    case Relationship::kAssertionMethod:
      return "assertionMethod";
    case Relationship::kKeyAgreement:
      return "keyAgreement";
    case Relationship::kCapabilityInvocation:
      return "capabilityInvocation";
    case Relationship::kCapabilityDelegation:
      return "capabilityDelegation";
  }
  return "";
}

Result<Relationship> ParseRelationship(std::string_view name) {
  for (Relationship r : kAllRelationships) {
    if (RelationshipName(r) == name) return r;
  }
  return Status::InvalidArgument("unknown verification relationship '" + std::string(name) + "'");
}

const std::vector<std::string>& DidDocument::Ids(Relationship r) const {
  return const_cast<DidDocument*>(this)->Ids(r);
}

std::vector<std::string>& DidDocument::Ids(Relationship r) {
  switch (r) {
    case Relationship::kAuthentication:
      return authentication;
    case Relationship::kAssertionMethod:
      return assertion_method;
    case Relationship::kKeyAgreement:
      return key_agreement;
    case Relationship::kCapabilityInvocation:
      return capability_invocation;
    case Relationship::kCapabilityDelegation:
      return capability_delegation;
  }
  Panic("bad Relationship");
}

const VerificationMethod* DidDocument::FindMethod(std::string_view ref) const {
  const std::string abs = Absolute(id, std::string(ref));
  for (const auto& vm : verification_methods) {
    if (vm.id == abs) return &vm;
  }
  return nullptr;
}

const VerificationMethod* DidDocument::FindMethodFor(std::string_view ref, Relationship r) const {
  const VerificationMethod* vm = FindMethod(ref);
  if (vm == nullptr) return nullptr;
  const auto& ids = Ids(r);
  return std::find(ids.begin(), ids.end(), vm->id) != ids.end() ? vm : nullptr;
}

const Service* DidDocument::FindService(std::string_view type) const {
  for (const auto& s : services) {
    if (s.type == type) return &s;
  }
  return nullptr;
}

json DidDocument::ToJson() const {
  json j = {{"@context", {"https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"}},
            {"id", id}};
  if (!controller.empty())
    j["controller"] = controller.size() == 1 ? json(controller[0]) : json(controller);
  json vms = json::array();
  for (const auto& vm : verification_methods) {
    vms.push_back({{"id", vm.id},
                   {"type", vm.type},
                   {"controller", vm.controller},
                   {"publicKeyMultibase", vm.public_key_multibase}});
  }
  if (!vms.empty()) j["verificationMethod"] = vms;
  for (Relationship r : kAllRelationships) {
    if (!Ids(r).empty()) j[std::string(RelationshipName(r))] = Ids(r);
  }
  if (!services.empty()) {
    json ss = json::array();
    for (const auto& s : services)
      ss.push_back({{"id", s.id}, {"type", s.type}, {"serviceEndpoint", s.endpoint}});
    j["service"] = ss;
  }
  return j;
}

Result<DidDocument> DidDocument::FromJson(const json& j) {
  if (!j.is_object()) return Status::InvalidArgument("DID document must be a JSON object");
  DidDocument doc;
  MDL_ASSIGN_OR_RETURN(doc.id, StringField(j, "id"));
  if (!IsValidDid(doc.id)) return Status::InvalidArgument("DID document: id is not a DID");
  if (auto c = j.find("controller"); c != j.end()) {
    if (c->is_string()) {
      doc.controller.push_back(c->get<std::string>());
    } else if (c->is_array()) {
      for (const auto& x : *c) {
        if (!x.is_string()) return Status::InvalidArgument("DID document: controller must be DIDs");
        doc.controller.push_back(x.get<std::string>());
      }
    } else {
      return Status::InvalidArgument("DID document: controller must be a DID or a list of DIDs");
    }
    for (const auto& c2 : doc.controller) {
      if (!IsValidDid(c2))
        return Status::InvalidArgument("DID document: controller " + c2 + " is not a DID");
    }
  }
  if (auto vms = j.find("verificationMethod"); vms != j.end()) {
    if (!vms->is_array())
      return Status::InvalidArgument("DID document: verificationMethod must be an array");
    for (const auto& m : *vms) {
      MDL_ASSIGN_OR_RETURN(VerificationMethod vm, MethodFromJson(m, doc.id));
      if (doc.FindMethod(vm.id) != nullptr)
        return Status::InvalidArgument("DID document: duplicate method id " + vm.id);
      doc.verification_methods.push_back(std::move(vm));
    }
  }
  for (Relationship r : kAllRelationships) {
    auto it = j.find(std::string(RelationshipName(r)));
    if (it == j.end()) continue;
    if (!it->is_array())
      return Status::InvalidArgument("DID document: " + std::string(RelationshipName(r)) +
                                     " must be an array");
    for (const auto& ref : *it) {
      if (ref.is_string()) {
        const std::string abs = Absolute(doc.id, ref.get<std::string>());
        if (doc.FindMethod(abs) == nullptr) {
          return Status::InvalidArgument("DID document: " + std::string(RelationshipName(r)) +
                                         " refers to unknown method " + abs);
        }
        doc.Ids(r).push_back(abs);
      } else {
        // An embedded method (DID Core §5.3): add it to the list of methods.
        MDL_ASSIGN_OR_RETURN(VerificationMethod vm, MethodFromJson(ref, doc.id));
        if (doc.FindMethod(vm.id) == nullptr) doc.verification_methods.push_back(vm);
        doc.Ids(r).push_back(vm.id);
      }
    }
  }
  if (auto ss = j.find("service"); ss != j.end()) {
    if (!ss->is_array()) return Status::InvalidArgument("DID document: service must be an array");
    for (const auto& s : *ss) {
      if (!s.is_object())
        return Status::InvalidArgument("DID document: a service must be an object");
      Service svc;
      MDL_ASSIGN_OR_RETURN(std::string sid, StringField(s, "id"));
      svc.id = Absolute(doc.id, sid);
      MDL_ASSIGN_OR_RETURN(svc.type, StringField(s, "type"));
      MDL_ASSIGN_OR_RETURN(svc.endpoint, StringField(s, "serviceEndpoint"));
      doc.services.push_back(std::move(svc));
    }
  }
  return doc;
}

Status AddKey(DidDocument& doc, KeyType type, ByteView public_key,
              std::initializer_list<Relationship> relationships) {
  MDL_ASSIGN_OR_RETURN(std::string mk, MultikeyFromPublicKey(type, public_key));
  VerificationMethod vm;
  vm.id = doc.id + "#" + mk;
  vm.controller = doc.id;
  vm.public_key_multibase = mk;
  vm.key_type = type;
  vm.public_key = Bytes(public_key.begin(), public_key.end());
  if (doc.FindMethod(vm.id) == nullptr) doc.verification_methods.push_back(vm);
  for (Relationship r : relationships) {
    auto& ids = doc.Ids(r);
    if (std::find(ids.begin(), ids.end(), vm.id) == ids.end()) ids.push_back(vm.id);
  }
  return Status::Ok();
}

}  // namespace medallion::did
