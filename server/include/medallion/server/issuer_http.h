// What an issuer (a medical society) publishes over HTTP besides its did:web document: the
// Medallion JSON-LD context and its status list credentials.
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace httplib {
class Server;
}

namespace medallion::server {

// GET /credentials/v1 → the Medallion context (application/ld+json), the document that
// https://w3id.org/medallion/credentials/v1 names. Verifiers use the embedded copy offline.
void RegisterCredentialContext(httplib::Server& server);

// GET `path` → the current status list credential (application/vc+ld+json), produced by
// `current` on every request so that revocations show at once. `path` starts with '/'.
void RegisterStatusListCredential(httplib::Server& server, const std::string& path,
                                  std::function<nlohmann::json()> current);

}  // namespace medallion::server
