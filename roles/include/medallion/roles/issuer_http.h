// What an issuer (a medical society) publishes over HTTP besides its did:web document: the
// Medallion JSON-LD context and its status list credentials.
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "medallion/claims/society.h"
#include "medallion/did/resolver.h"

namespace httplib {
class Server;
}

namespace medallion::roles {

// GET /credentials/v1 → the Medallion context (application/ld+json), the document that
// https://w3id.org/medallion/credentials/v1 names. Verifiers use the embedded copy offline.
void RegisterCredentialContext(httplib::Server& server);

// GET `path` → the current status list credential (application/vc+ld+json), produced by
// `current` on every request so that revocations show at once. `path` starts with '/'.
void RegisterStatusListCredential(httplib::Server& server, const std::string& path,
                                  std::function<nlohmann::json()> current);

// The society's service (docs/credentials.md §"The society"): POST /society/v1/challenge;
// POST /society/v1/licenses {"proof" (did-auth+jwt, aud = the society's DID, nonce = a
// challenge), "license_number", "name"} → 201 the license; with `Authorization: Bearer
// <admin token>`: GET /society/v1/licenses and POST /society/v1/licenses/{id}/status
// {"action": "revoke" | "suspend" | "reinstate"}; GET /status/revocation and /status/suspension
// (the signed lists). `society`, `resolver` must outlive `server`.
void RegisterSocietyRoutes(httplib::Server& server, claims::Society& society,
                           const did::Resolver& resolver, std::string admin_token);

}  // namespace medallion::roles
