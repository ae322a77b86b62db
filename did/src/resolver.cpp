// The method-independent resolver, dereferencing, and did:key resolution.
#include "medallion/did/resolver.h"

#include <nlohmann/json.hpp>

#include <ctime>

namespace medallion::did {
namespace {

using nlohmann::json;

class DidKeyResolver final : public MethodResolver {
 public:
  std::string_view method() const override { return "key"; }
  ResolutionResult Resolve(std::string_view did, const ResolutionOptions& options) override {
    if (options.version_id || options.version_time || options.ledger_position) {
      // A did:key never changes: every version is the one document.
    }
    auto key = ParseDidKey(did);
    if (!key) return ResolutionResult::Error(kInvalidDid, key.error().message());
    DidDocument doc;
    doc.id = std::string(did);
    if (key->type == KeyType::kX25519) {
      (void)AddKey(doc, KeyType::kX25519, key->public_key, {Relationship::kKeyAgreement});
    } else {
      (void)AddKey(doc, key->type, key->public_key,
                   {Relationship::kAuthentication, Relationship::kAssertionMethod,
                    Relationship::kCapabilityInvocation, Relationship::kCapabilityDelegation});
      if (key->type == KeyType::kEd25519) {
        auto x = Ed25519ToX25519PublicKey(key->public_key);
        if (!x) return ResolutionResult::Error(kInvalidDid, x.error().message());
        (void)AddKey(doc, KeyType::kX25519, *x, {Relationship::kKeyAgreement});
      }
    }
    ResolutionResult r;
    r.document = std::move(doc);
    return r;
  }
};

}  // namespace

std::string XmlDateTime(int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

ResolutionResult ResolutionResult::Error(std::string_view code, std::string message) {
  ResolutionResult r;
  r.error = std::string(code);
  r.error_message = std::move(message);
  return r;
}

json ResolutionResult::ToJson() const {
  json meta = json::object();
  if (ok()) {
    meta["contentType"] = content_type;
  } else {
    meta["error"] = error;
    if (!error_message.empty()) meta["errorMessage"] = error_message;
  }
  json dmeta = json::object();
  if (metadata.created) dmeta["created"] = *metadata.created;
  if (metadata.updated) dmeta["updated"] = *metadata.updated;
  if (metadata.deactivated) dmeta["deactivated"] = true;
  if (metadata.version_id) dmeta["versionId"] = *metadata.version_id;
  if (metadata.next_version_id) dmeta["nextVersionId"] = *metadata.next_version_id;
  if (!metadata.extra_json.empty()) {
    json extra = json::parse(metadata.extra_json, nullptr, false);
    if (extra.is_object()) {
      for (auto& [k, v] : extra.items()) dmeta[k] = v;
    }
  }
  return {{"@context", "https://w3id.org/did-resolution/v1"},
          {"didDocument", document ? document->ToJson() : json(nullptr)},
          {"didResolutionMetadata", meta},
          {"didDocumentMetadata", dmeta}};
}

Resolver::Resolver() { Register(MakeDidKeyResolver()); }
Resolver::~Resolver() = default;

void Resolver::Register(std::shared_ptr<MethodResolver> method) {
  methods_[std::string(method->method())] = std::move(method);
}

ResolutionResult Resolver::Resolve(std::string_view did, const ResolutionOptions& options) const {
  if (!IsValidDid(did)) return ResolutionResult::Error(kInvalidDid, "not a valid DID");
  auto it = methods_.find(DidMethod(did));
  if (it == methods_.end()) {
    return ResolutionResult::Error(kMethodNotSupported,
                                   "did:" + std::string(DidMethod(did)) + " is not supported");
  }
  if (options.version_id && options.version_time) {
    return ResolutionResult::Error(kInvalidOptions, "versionId and versionTime are exclusive");
  }
  return it->second->Resolve(did, options);
}

Result<VerificationMethod> Resolver::DereferenceMethod(std::string_view did_url,
                                                       std::optional<Relationship> relationship,
                                                       const ResolutionOptions& options) const {
  MDL_ASSIGN_OR_RETURN(DidUrl url, ParseDidUrl(did_url));
  if (url.fragment.empty() || !url.path.empty() || !url.query.empty()) {
    return Status::InvalidArgument("a verification method is named by did#fragment");
  }
  ResolutionResult r = Resolve(url.did, options);
  if (!r.ok()) {
    if (r.error == kNotFound) return Status::NotFound(url.did + ": " + r.error_message);
    if (r.error == kInvalidDid || r.error == kMethodNotSupported)
      return Status::InvalidArgument(url.did + ": " + r.error + ": " + r.error_message);
    return Status::Unavailable(url.did + ": " + r.error + ": " + r.error_message);
  }
  if (r.metadata.deactivated) return Status::FailedPrecondition(url.did + " is deactivated");
  const VerificationMethod* vm = relationship
                                     ? r.document->FindMethodFor("#" + url.fragment, *relationship)
                                     : r.document->FindMethod("#" + url.fragment);
  if (vm == nullptr) {
    return Status::NotFound(
        "no verification method #" + url.fragment +
        (relationship ? " under " + std::string(RelationshipName(*relationship)) : std::string()) +
        " in " + url.did);
  }
  return *vm;
}

std::shared_ptr<MethodResolver> MakeDidKeyResolver() { return std::make_shared<DidKeyResolver>(); }

}  // namespace medallion::did
