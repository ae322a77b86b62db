// The method-independent resolver, dereferencing, and did:key resolution.
#include "medallion/did/resolver.h"

#include <array>
#include <ctime>
#include <functional>
#include <list>
#include <mutex>
#include <unordered_map>

#include <nlohmann/json.hpp>

namespace medallion::did {
namespace {

using nlohmann::json;

// Resolver::DereferenceMethod's error for a failed resolution.
Status ResolutionFailure(std::string_view did, const ResolutionResult& r) {
  const std::string d(did);
  if (r.error == kNotFound) return Status::NotFound(d + ": " + r.error_message);
  if (r.error == kInvalidDid || r.error == kMethodNotSupported) {
    return Status::InvalidArgument(d + ": " + r.error + ": " + r.error_message);
  }
  return Status::Unavailable(d + ": " + r.error + ": " + r.error_message);
}

// The method "#fragment" of `doc` (under `relationship`, if given).
Result<VerificationMethod> FindIn(const DidDocument& doc, std::string_view fragment,
                                  std::optional<Relationship> relationship) {
  const std::string ref = "#" + std::string(fragment);
  const VerificationMethod* vm =
      relationship ? doc.FindMethodFor(ref, *relationship) : doc.FindMethod(ref);
  if (vm == nullptr) {
    return Status::NotFound(
        "no verification method " + ref +
        (relationship ? " under " + std::string(RelationshipName(*relationship)) : std::string()) +
        " in " + doc.id);
  }
  return *vm;
}

constexpr Relationship kSigningRelationships[] = {
    Relationship::kAuthentication, Relationship::kAssertionMethod,
    Relationship::kCapabilityInvocation, Relationship::kCapabilityDelegation};

// did-method-key §"Read". The document is a pure function of the DID, so resolved DIDs are kept
// in a bounded cache (least recently used out), sharded to keep threads apart. The key is
// checked once, when the DID is parsed; the X25519 keyAgreement key of an Ed25519 did:key (a
// second point check and a field inversion) is derived only when the whole document or that
// method is asked for, and then kept with the entry.
class DidKeyResolver final : public MethodResolver {
 public:
  explicit DidKeyResolver(size_t capacity)
      : per_shard_(capacity == 0 ? 0 : std::max<size_t>(capacity / kShards, 1)) {}

  std::string_view method() const override { return "key"; }

  // A did:key never changes: every version (versionId, versionTime, ledger position) is the one
  // document.
  ResolutionResult Resolve(std::string_view did, const ResolutionOptions&) override {
    auto doc = Document(did);
    if (!doc) return ResolutionResult::Error(kInvalidDid, doc.error().message());
    ResolutionResult r;
    r.document = **doc;
    return r;
  }

  Result<VerificationMethod> Dereference(std::string_view did, std::string_view fragment,
                                         std::optional<Relationship> relationship,
                                         const ResolutionOptions&) override {
    auto entry = Lookup(did);
    if (!entry) return ResolutionFailure(did, ResolutionResult::Error(kInvalidDid,
                                                                      entry.error().message()));
    const Entry& e = **entry;
    if (e.signing && fragment == e.signing->public_key_multibase &&
        (!relationship || *relationship != Relationship::kKeyAgreement)) {
      return *e.signing;  // the did:key's own key, under every relationship but keyAgreement
    }
    MDL_ASSIGN_OR_RETURN(std::shared_ptr<const DidDocument> doc, Document(did));
    return FindIn(*doc, fragment, relationship);
  }

 private:
  struct Entry {
    std::optional<VerificationMethod> signing;  // none for an X25519 did:key
    std::shared_ptr<const DidDocument> document;  // built on first need
  };
  static constexpr size_t kShards = 16;
  struct Shard {
    std::mutex mu;
    std::list<std::string> lru;  // most recent first; the map's keys view these strings
    std::unordered_map<std::string_view,
                       std::pair<std::shared_ptr<Entry>, std::list<std::string>::iterator>>
        map;
  };

  static VerificationMethod MethodFor(std::string_view did, DidKey key) {
    VerificationMethod vm;
    vm.id = std::string(did) + "#" + key.multibase;
    vm.controller = std::string(did);
    vm.public_key_multibase = std::move(key.multibase);
    vm.key_type = key.type;
    vm.public_key = std::move(key.public_key);
    return vm;
  }

  // The entry for `did`, parsed (one point check) and cached on first sight.
  Result<std::shared_ptr<Entry>> Lookup(std::string_view did) {
    Shard* shard = per_shard_ == 0 ? nullptr : &shards_[std::hash<std::string_view>{}(did) % kShards];
    if (shard != nullptr) {
      std::lock_guard lock(shard->mu);
      auto it = shard->map.find(did);
      if (it != shard->map.end()) {
        shard->lru.splice(shard->lru.begin(), shard->lru, it->second.second);
        return it->second.first;
      }
    }
    MDL_ASSIGN_OR_RETURN(DidKey key, ParseDidKey(did));
    auto entry = std::make_shared<Entry>();
    if (key.type == KeyType::kX25519) {
      DidDocument doc;
      doc.id = std::string(did);
      VerificationMethod vm = MethodFor(did, std::move(key));
      doc.Ids(Relationship::kKeyAgreement).push_back(vm.id);
      doc.verification_methods.push_back(std::move(vm));
      entry->document = std::make_shared<const DidDocument>(std::move(doc));
    } else {
      entry->signing = MethodFor(did, std::move(key));
    }
    if (shard == nullptr) return entry;
    std::lock_guard lock(shard->mu);
    auto [it, inserted] = shard->map.try_emplace(did);
    if (!inserted) return it->second.first;  // another thread was first
    shard->map.erase(it);  // re-keyed below on the list's own copy of the DID
    shard->lru.emplace_front(did);
    shard->map.emplace(shard->lru.front(), std::make_pair(entry, shard->lru.begin()));
    if (shard->map.size() > per_shard_) {
      shard->map.erase(shard->lru.back());
      shard->lru.pop_back();
    }
    return entry;
  }

  // The whole document of `did`, built once per cache entry.
  Result<std::shared_ptr<const DidDocument>> Document(std::string_view did) {
    MDL_ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, Lookup(did));
    {
      std::lock_guard lock(doc_mu_);
      if (entry->document) return entry->document;
    }
    DidDocument doc;
    doc.id = std::string(did);
    const VerificationMethod& signing = *entry->signing;
    for (Relationship r : kSigningRelationships) doc.Ids(r).push_back(signing.id);
    doc.verification_methods.push_back(signing);
    if (signing.key_type == KeyType::kEd25519) {
      MDL_ASSIGN_OR_RETURN(Bytes x, Ed25519ToX25519PublicKey(signing.public_key));
      MDL_RETURN_IF_ERROR(AddKey(doc, KeyType::kX25519, x, {Relationship::kKeyAgreement}));
    }
    auto built = std::make_shared<const DidDocument>(std::move(doc));
    std::lock_guard lock(doc_mu_);
    if (!entry->document) entry->document = std::move(built);
    return entry->document;
  }

  const size_t per_shard_;
  std::array<Shard, kShards> shards_;
  std::mutex doc_mu_;  // guards Entry::document
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

Result<VerificationMethod> MethodResolver::Dereference(std::string_view did,
                                                       std::string_view fragment,
                                                       std::optional<Relationship> relationship,
                                                       const ResolutionOptions& options) {
  ResolutionResult r = Resolve(did, options);
  if (!r.ok()) return ResolutionFailure(did, r);
  if (r.metadata.deactivated) {
    return Status::FailedPrecondition(std::string(did) + " is deactivated");
  }
  return FindIn(*r.document, fragment, relationship);
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
  if (!IsValidDid(url.did)) {
    return ResolutionFailure(url.did, ResolutionResult::Error(kInvalidDid, "not a valid DID"));
  }
  auto it = methods_.find(DidMethod(url.did));
  if (it == methods_.end()) {
    return ResolutionFailure(
        url.did, ResolutionResult::Error(kMethodNotSupported, "did:" +
                                                                  std::string(DidMethod(url.did)) +
                                                                  " is not supported"));
  }
  if (options.version_id && options.version_time) {
    return ResolutionFailure(url.did, ResolutionResult::Error(
                                          kInvalidOptions, "versionId and versionTime are exclusive"));
  }
  return it->second->Dereference(url.did, url.fragment, relationship, options);
}

std::shared_ptr<MethodResolver> MakeDidKeyResolver(size_t cache_capacity) {
  return std::make_shared<DidKeyResolver>(cache_capacity);
}

}  // namespace medallion::did
