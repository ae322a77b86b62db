// The patient's container as an OpenID4VP wallet in her web app (docs/openid4vc.md §"Wallet in
// the web app"): she pastes a verifier's openid4vp:// link, sees who asks for what, and approves
// or declines. The routes, all in her browser session (cookie, same origin, CSRF token):
//
//   POST /web/v1/oid4vp/plan            {"request": "openid4vp://?..."} → the consent plan:
//        {"id", "client_id", "response_uri", "expires_in", "can_answer", "disclosures": [...],
//         "unmet"?}; the parsed request is kept here under `id`, single use, 5 minutes.
//   POST /web/v1/oid4vp/<id>/approve    → the presentation (only the asked claims, a KB-JWT with
//        the request's nonce and aud = client_id, signed by her authentication key) posted to
//        the response_uri (§8.2 direct_post): {"sent", "status", "verifier_answer",
//        "redirect_uri"?}.
//   POST /web/v1/oid4vp/<id>/decline    → §8.5 access_denied posted instead.
#pragma once

#include <httplib.h>

#include <functional>
#include <optional>
#include <string>

#include "medallion/claims/signer.h"
#include "medallion/core/env.h"
#include "medallion/did/resolver.h"

namespace medallion::uma {
class AuthorizationServer;
}

namespace medallion::roles {

struct WalletWebOptions {
  uma::AuthorizationServer* as = nullptr;  // her kept credentials (outlives the routes)
  // Her authentication key (the key `oid4vci accept --container` proved, so the one her SD-JWT
  // VCs are bound to); no `sign` function without her wallet: the plan is shown, approval
  // refused.
  claims::Signer holder;
  // The owner session of the request's browser session (origin and CSRF checked); nullopt
  // when an error was sent.
  std::function<std::optional<std::string>(const httplib::Request&, httplib::Response&)>
      owner_token;
  Env env;
  // Resolves a decentralized_identifier: verifier's DID (its signed request object, OID4VP
  // §5.9.3); null: did:key only. Outlives the routes.
  const did::Resolver* resolver = nullptr;
  // Plain http to loopback verifiers (tests): --allow-insecure-loopback. Otherwise https only,
  // so a pasted link cannot make the container call services on its own host.
  bool allow_insecure_loopback = false;
};

void RegisterWalletWebRoutes(httplib::Server& server, WalletWebOptions options);

}  // namespace medallion::roles
