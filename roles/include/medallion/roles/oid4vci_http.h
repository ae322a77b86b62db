// The OpenID4VCI 1.0 credential issuer over HTTP (oid4vc/issuer.h, docs/openid4vc.md), and the
// society's use of it: an offer of a physician's license once the society's onboarding has
// issued it.
#pragma once

#include <string>

#include "medallion/claims/society.h"
#include "medallion/oid4vc/issuer.h"

namespace httplib {
class Server;
}

namespace medallion::roles {

// The wallet-facing endpoints (all JSON; errors {"error", "error_description"} with the spec's
// codes, `Cache-Control: no-store` on every answer that carries a secret):
//   GET  /.well-known/openid-credential-issuer   OpenID4VCI §12.2.2 (issuer metadata)
//   GET  /.well-known/oauth-authorization-server RFC 8414 §3 (the issuer is its own AS)
//   GET  /oid4vci/offers/<id>                    §4.1.3 (an offer by reference)
//   GET  /oid4vci/authorize                      §5.1 (authorization code + PKCE S256; 302 to
//                                                redirect_uri; errors as JSON, not redirected)
//   POST /oid4vci/token                          §6 (form-encoded; pre-authorized code or
//                                                authorization_code + code_verifier)
//   POST /oid4vci/nonce                          §7 (a bearer token, if sent, binds the nonce)
//   POST /oid4vci/credential                     §8 (bearer token; 401 invalid_token with
//                                                WWW-Authenticate, RFC 6750 §3); 202
//                                                {transaction_id, interval} for a deferred offer
//   POST /oid4vci/deferred_credential            §9 (bearer token that got the transaction_id;
//                                                202 while pending, 200 with the credential)
// The Credential Issuer Identifier must be the origin this server is reached at.
void RegisterOid4vciRoutes(httplib::Server& server, oid4vc::Issuer& issuer);

// The society's side, behind its admin token: POST /society/v1/oid4vci/offers {"license_id",
// "tx_code"?: true, "grant"?: "pre-authorized_code" (default) | "authorization_code" (an
// issuer_state the physician is given with the offer, no tx_code), "format"?: "dc+sd-jwt" (default)
// | "ldp_vc" (the license as signed at onboarding, for a key of its subject's DID)} → 201
// {"license_id", "format", "offer_uri", "offer_uri_by_reference", "tx_code", "expires",
// "credential_offer"} for an active, current license (the physician passed the onboarding check:
// proof of control of her DID and the directory match). 404 for an unknown license, 412
// (failed_precondition) for a revoked, suspended or superseded one. In review mode, {"request_id"}
// instead of "license_id" offers the license of an onboarding request still pending (dc+sd-jwt
// only): a deferred offer (OpenID4VCI §9) whose credential the wallet gets from the deferred
// endpoint once the clerk approves (412 for a decided request or without review mode, 404 for an
// unknown one). Also registers RegisterOid4vciRoutes and the issuer's deferred source.
void RegisterSocietyOid4vciRoutes(httplib::Server& server, claims::Society& society,
                                  oid4vc::Issuer& issuer, std::string admin_token);

// The claims of the SD-JWT VC offered for `license_id` (the license's subject DID as `sub`, the
// directory entry's members, `exp` from valid_until). Errors: not_found, failed_precondition.
Result<std::string> SocietyLicenseClaims(claims::Society& society, const std::string& license_id);

}  // namespace medallion::roles
