// DID documents (W3C DID Core 1.0) with Multikey verification methods, and DID syntax.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "medallion/core/bytes.h"
#include "medallion/core/status.h"
#include "medallion/did/did_key.h"

namespace medallion::did {

// DID Core §3.1 syntax: "did:" method ":" method-specific-id (method [a-z0-9]+, id chars
// ALPHA / DIGIT / "." / "-" / "_" / pct-encoded, ":"-separated, last segment non-empty).
bool IsValidDid(std::string_view did);

// A parsed DID URL (DID Core §3.2): did, optional path, query and fragment.
struct DidUrl {
  std::string did;
  std::string path;      // "" or starting with "/"
  std::string query;     // without "?"
  std::string fragment;  // without "#"
};
Result<DidUrl> ParseDidUrl(std::string_view url);
// The method name of a DID ("key", "web", "mdl").
std::string_view DidMethod(std::string_view did);

// The verification relationships of DID Core §5.3.
enum class Relationship {
  kAuthentication,
  kAssertionMethod,
  kKeyAgreement,
  kCapabilityInvocation,
  kCapabilityDelegation
};
std::string_view RelationshipName(Relationship r);
Result<Relationship> ParseRelationship(std::string_view name);

// A Multikey verification method (Controlled Identifiers §2.2.2).
struct VerificationMethod {
  std::string id;  // absolute DID URL: did#fragment
  std::string type = "Multikey";
  std::string controller;  // a DID
  std::string public_key_multibase;
  // Decoded from publicKeyMultibase.
  KeyType key_type = KeyType::kEd25519;
  Bytes public_key;
};

struct Service {
  std::string id;    // absolute DID URL
  std::string type;  // e.g. "MedallionContainer", "UMAAuthorizationServer"
  std::string endpoint;
};

struct DidDocument {
  std::string id;
  std::vector<std::string> controller;  // empty: the DID controls itself
  std::vector<VerificationMethod> verification_methods;
  // Each relationship lists method ids (references into verification_methods).
  std::vector<std::string> authentication, assertion_method, key_agreement, capability_invocation,
      capability_delegation;
  std::vector<Service> services;

  const std::vector<std::string>& Ids(Relationship r) const;
  std::vector<std::string>& Ids(Relationship r);
  // The verification method with this id (absolute, or "#fragment" relative to the document).
  const VerificationMethod* FindMethod(std::string_view id) const;
  // The method with `id` if it is listed under `r`; nullptr otherwise.
  const VerificationMethod* FindMethodFor(std::string_view id, Relationship r) const;
  const Service* FindService(std::string_view type) const;

  // DID Core §4 JSON representation (with the did/v1 and multikey/v1 contexts).
  nlohmann::json ToJson() const;
  // Parses and checks a document: every method is a Multikey with a decodable key (or a
  // JsonWebKey-free legacy type refused), every relationship reference resolves to a method of
  // this document (embedded methods are accepted and added), ids are DID URLs of this DID.
  // Errors: invalid_argument naming the problem.
  static Result<DidDocument> FromJson(const nlohmann::json& j);
};

// Adds a Multikey method `did#<multibase>` for `key` under the given relationships.
Status AddKey(DidDocument& doc, KeyType type, ByteView public_key,
              std::initializer_list<Relationship> relationships);

}  // namespace medallion::did
