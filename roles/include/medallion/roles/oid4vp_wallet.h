// The wallet's side of OpenID for Verifiable Presentations 1.0 over HTTP, shared by the command
// line (`medallion oid4vp respond`) and the patient's web app (roles/src/web_oid4vc.cpp): read an
// `openid4vp://` request, say what answering it would disclose (the consent plan), post the
// presentation (§8.2 direct_post) or the refusal (§8.5 access_denied) to the response_uri.
// The protocol logic is oid4vc/verifier.h and oid4vc/dcql.h; this adds the transport.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "medallion/claims/signer.h"
#include "medallion/core/env.h"
#include "medallion/core/status.h"
#include "medallion/did/resolver.h"
#include "medallion/oid4vc/dcql.h"
#include "medallion/oid4vc/verifier.h"

namespace medallion::roles {

// Bounds on a pasted request link.
inline constexpr size_t kMaxOid4vpRequestBytes = 96 * 1024;

// The query of a request URI as parameters (application/x-www-form-urlencoded, §5 by value:
// "openid4vp://?client_id=...&dcql_query=..."). Errors: invalid_argument (no query, too long,
// malformed form).
Result<std::map<std::string, std::string>> Oid4vpRequestParams(std::string_view uri);

// Only TLS, or — with `loopback_http` — plain http to this machine's loopback (tests, a
// wallet on the holder's own machine): where a wallet fetches a request object and posts a
// presentation (OID4VP §14.x, RFC 6749 §1.6). A server-side wallet (her container) allows
// loopback only when started with --allow-insecure-loopback: a link would otherwise make the
// container call services on its own host. Errors: invalid_argument naming the URL.
Status CheckPresentationTransport(const std::string& url, bool loopback_http = true);

// A request object by reference (OID4VP §5.10, RFC 9101 §5.2): GET (or POST, for
// request_uri_method=post) of `uri`, only https or loopback, at most 64 KiB within 5 seconds,
// HTTP 200 required. The oid4vc::RequestObjectFetcher the wallet uses.
inline constexpr size_t kMaxRequestObjectBytes = 64 * 1024;
inline constexpr int kRequestObjectTimeoutSeconds = 5;
Result<std::string> FetchRequestObject(const std::string& uri, const std::string& method);

// ParseAuthorizationRequest of the URI's parameters (by value, or by reference through
// FetchRequestObject), then the response_uri's transport checked (before anything is shown or
// built). A decentralized_identifier: verifier's signed request object (OID4VP §5.9.3) is
// verified through `resolver` (null: did:key only) at `clock`'s time (null: the system's).
Result<oid4vc::ParsedRequest> ReadOid4vpRequest(std::string_view uri,
                                                const did::Resolver* resolver = nullptr,
                                                const Clock* clock = nullptr,
                                                bool loopback_http = true);

// The SD-JWT VCs among a container's kept credentials (GET /owner/v1/credentials rows with
// format dc+sd-jwt), with a label per credential ("container:<id>").
std::vector<std::string> KeptSdJwtVcs(const nlohmann::json& rows, std::vector<std::string>* labels);

// What the holder is asked to consent to, per Credential Query: the credential chosen (its
// label, vct, issuer), the selectively disclosable claims revealed (JSON pointers,
// "disclosed_claims") and the claims every presentation of that credential shows anyway (the
// issuer-signed payload's own members, "always_visible"). With `values`, also the revealed
// claims' values ("disclosed_values": pointer → value) so she sees what leaves.
nlohmann::json Oid4vpDisclosurePlan(const std::vector<std::string>& labels,
                                    const std::vector<std::string>& held,
                                    const std::vector<oid4vc::DcqlSelection>& selections,
                                    bool values = false);

// §8.2: BuildResponse (only what the query asks, a KB-JWT with the request's nonce and aud =
// client_id, signed by `holder`), posted form-encoded to the response_uri. Answers {"sent":
// true, "status", "verifier_answer", "redirect_uri"? (§8.2: the verifier's answer may send the
// user on)}. Errors: BuildResponse's (access_denied: nothing is posted), the post's, a verifier
// answer that is not 2xx (its Status).
Result<nlohmann::json> PostOid4vpResponse(const oid4vc::ParsedRequest& request,
                                          const std::vector<std::string>& held,
                                          const claims::Signer& holder, const Env& env,
                                          bool loopback_http = true);

// §8.5: the error response access_denied (she declines, or nothing she holds answers), posted
// like a response with the request's state. Answers {"sent": true, "declined": true, "status",
// "verifier_answer"}.
Result<nlohmann::json> PostOid4vpDecline(const oid4vc::ParsedRequest& request,
                                         const std::string& why, bool loopback_http = true);

}  // namespace medallion::roles
