// One Resolve(did, options) for every DID method, returning a W3C DID Resolution result
// (DID Resolution §4 "DID Resolution Result": didDocument, didResolutionMetadata,
// didDocumentMetadata), and DID URL dereferencing to a verification method.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "medallion/core/status.h"
#include "medallion/did/document.h"

namespace medallion::did {

struct ResolutionOptions {
  // DID Resolution §"versionId" / "versionTime" (POSIX seconds): the document as it was.
  std::optional<std::string> version_id;
  std::optional<int64_t> version_time;
  // Medallion extension for ledger methods: the document as of ledger position N (only
  // operations at indices < N count). Lets a verifier resolve a key as of a postmark.
  std::optional<uint64_t> ledger_position;
};

// The error values of DID Resolution §"didResolutionMetadata" (and Medallion's own).
inline constexpr std::string_view kInvalidDid = "invalidDid";
inline constexpr std::string_view kNotFound = "notFound";
inline constexpr std::string_view kMethodNotSupported = "methodNotSupported";
inline constexpr std::string_view kRepresentationNotSupported = "representationNotSupported";
inline constexpr std::string_view kInvalidDidDocument = "invalidDidDocument";
inline constexpr std::string_view kInternalError = "internalError";
inline constexpr std::string_view kInvalidOptions = "invalidOptions";

struct DocumentMetadata {
  std::optional<std::string> created;  // XML datetime (RFC 3339, "Z")
  std::optional<std::string> updated;
  bool deactivated = false;
  std::optional<std::string> version_id;
  std::optional<std::string> next_version_id;
  // Method-specific extras (did:mdl: ignored operations, ledger positions...), JSON text.
  std::string extra_json;
};

struct ResolutionResult {
  std::optional<DidDocument> document;
  std::string error;          // "" on success; else one of the k* values above
  std::string error_message;  // human-readable detail for `error`
  std::string content_type = "application/did+json";
  DocumentMetadata metadata;

  bool ok() const { return error.empty(); }
  // The DID Resolution result as JSON: {"didDocument", "didResolutionMetadata",
  // "didDocumentMetadata"}.
  nlohmann::json ToJson() const;
  static ResolutionResult Error(std::string_view code, std::string message);
};

// One DID method. Implementations are thread-safe.
class MethodResolver {
 public:
  virtual ~MethodResolver() = default;
  virtual std::string_view method() const = 0;  // "key", "web", "mdl"
  // REQUIRES: DidMethod(did) == method() and IsValidDid(did).
  virtual ResolutionResult Resolve(std::string_view did, const ResolutionOptions& options) = 0;
  // The verification method "did#fragment" (under `relationship`, if given), with the errors
  // of Resolver::DereferenceMethod. The default resolves the document and looks the method up;
  // a method may answer without building the whole document.
  // REQUIRES: as Resolve; `fragment` without its '#'.
  virtual Result<VerificationMethod> Dereference(std::string_view did, std::string_view fragment,
                                                 std::optional<Relationship> relationship,
                                                 const ResolutionOptions& options);
};

class Resolver {
 public:
  Resolver();  // did:key is always registered
  ~Resolver();
  void Register(std::shared_ptr<MethodResolver> method);
  ResolutionResult Resolve(std::string_view did, const ResolutionOptions& options = {}) const;

  // DID Core §7.2 dereferencing of "did...#fragment" to a verification method; with
  // `relationship`, the method must also be listed under it. Errors: invalid_argument (not
  // a DID URL with a fragment), not_found (DID or method unknown, or not under the
  // relationship), failed_precondition (the DID is deactivated), unavailable (resolution
  // failed for another reason).
  Result<VerificationMethod> DereferenceMethod(std::string_view did_url,
                                               std::optional<Relationship> relationship,
                                               const ResolutionOptions& options = {}) const;

 private:
  std::map<std::string, std::shared_ptr<MethodResolver>, std::less<>> methods_;
};

// did:key resolution (did-method-key §"Read"): one Multikey method for the key, under
// authentication, assertionMethod, capabilityInvocation and capabilityDelegation; for Ed25519
// also the derived X25519 key under keyAgreement; an X25519 did:key has keyAgreement only.
// Resolved documents are kept in a bounded cache of `cache_capacity` DIDs (least recently used
// out; a did:key document is a pure function of its DID); 0 turns the cache off.
inline constexpr size_t kDidKeyCacheCapacity = 4096;
std::shared_ptr<MethodResolver> MakeDidKeyResolver(size_t cache_capacity = kDidKeyCacheCapacity);

// POSIX seconds → "2026-11-23T05:00:00Z".
std::string XmlDateTime(int64_t seconds);

}  // namespace medallion::did
