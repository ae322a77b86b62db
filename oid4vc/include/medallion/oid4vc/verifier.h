// OpenID for Verifiable Presentations 1.0 (final, 2025-07): a Verifier and the Wallet's side of
// one presentation, for SD-JWT VCs (dc+sd-jwt, Appendix B.3) asked for with DCQL (dcql.h), the
// Response Mode direct_post (§8.2). No HTTP here (docs/openid4vc.md says what is mounted).
//
// Verifier:
//   - CreateRequest: an Authorization Request (§5) by value — client_id with a Client Identifier
//     Prefix (§5.9.3: `redirect_uri:` the response_uri, or `decentralized_identifier:` a DID),
//     response_type vp_token (§5.6), response_mode direct_post and response_uri (§8.2), a fresh
//     nonce (§5.2) and state, dcql_query (§5.1). Kept in the verifier's own SQLite file (WAL,
//     synchronous=FULL) with an expiry; one response is accepted per request, ever.
//   - VerifyResponse: the direct_post form (§8.2): `state` known, unexpired and not answered
//     before (the request is spent by the first post, whatever its outcome); a §8.5 error
//     response from the wallet; else `vp_token` (§8.1: a JSON object keyed by Credential Query
//     id, each value an array of presentations), each presentation an SD-JWT+KB (Appendix B.3.6)
//     whose issuer signature verifies through the caller's did::Resolver and whose KB-JWT
//     carries this request's nonce and aud = client_id; the disclosed claims must satisfy the
//     query (§6.4) and the credential_sets (§8.6).
// Wallet:
//   - ParseAuthorizationRequest: the request parameters, checked (§5, §5.9.3, §8.2);
//   - BuildResponse: the vp_token from held SD-JWT VCs revealing only what the query asks
//     (MatchDcql), each with a KB-JWT for the nonce and client_id; access_denied when the
//     query cannot be satisfied.
//
// Errors carry the §8.5 codes (dcql.h vp_error) as the Status reason; a refused presentation
// says invalid_request with the claims module's reason (nonce_mismatch, aud_mismatch,
// signature_invalid, ...) at the head of the detail. Not built: request objects (JAR, request_uri,
// §5.10), direct_post.jwt (§8.3), transaction_data (§8.4), the DC API (Appendix A).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "medallion/claims/sd_jwt.h"
#include "medallion/claims/signer.h"
#include "medallion/core/env.h"
#include "medallion/core/status.h"
#include "medallion/did/resolver.h"
#include "medallion/oid4vc/dcql.h"

struct sqlite3;

namespace medallion::oid4vc {

// §5.9.3 Client Identifier Prefixes we use.
inline constexpr std::string_view kRedirectUriPrefix = "redirect_uri:";
inline constexpr std::string_view kDecentralizedIdentifierPrefix = "decentralized_identifier:";
// §5.6 / §8.2.
inline constexpr std::string_view kVpTokenResponseType = "vp_token";
inline constexpr std::string_view kDirectPost = "direct_post";
// The scheme of a request handed to a wallet by link or QR code (§5 examples, "openid4vp://").
inline constexpr std::string_view kRequestScheme = "openid4vp://";

struct VerifierOptions {
  // The full client_id, prefix included: "redirect_uri:<response_uri>" (then it must equal the
  // response_uri, §5.9.3) or "decentralized_identifier:<did>".
  std::string client_id;
  std::string response_uri;  // where the wallet posts (§8.2): absolute http(s) URL
  int64_t request_ttl_seconds = 600;
  int64_t kb_max_age_seconds = 300;
  int64_t max_clock_skew_seconds = 60;
};

// An Authorization Request, by value: its parameters (the dcql_query as JSON text).
struct AuthorizationRequest {
  std::map<std::string, std::string> params;
  std::string uri;  // openid4vp://?<params, form-encoded>
  std::string state, nonce;
  int64_t expires = 0;
};

// A verified response: per Credential Query id, the verified credentials (processed payloads).
struct VerifiedPresentation {
  std::string state;
  std::map<std::string, std::vector<claims::VerifiedSdJwt>> credentials;
};

class Verifier {
 public:
  // Errors: invalid_argument (a client_id without a supported prefix, a redirect_uri client_id
  // that is not "redirect_uri:" + response_uri, a response_uri that is not http(s)), the
  // database's.
  static Result<std::unique_ptr<Verifier>> Open(const std::string& path, VerifierOptions options,
                                                Env env);
  ~Verifier();
  Verifier(const Verifier&) = delete;
  Verifier& operator=(const Verifier&) = delete;

  const VerifierOptions& options() const { return options_; }

  // A new request for `dcql_query` (validated with ParseDcqlQuery: its errors).
  Result<AuthorizationRequest> CreateRequest(const nlohmann::json& dcql_query);

  // §8.2: the form the wallet posted to response_uri. Errors (reason): invalid_request (no or
  // unknown state, expired, already answered, malformed or unsatisfying vp_token, a presentation
  // refused — the claims reason code heads the detail), or the error code the wallet posted
  // (§8.5, e.g. access_denied).
  Result<VerifiedPresentation> VerifyResponse(const std::map<std::string, std::string>& form,
                                              const did::Resolver& resolver);

 private:
  Verifier(sqlite3* db, VerifierOptions options, Env env);
  int64_t Now() const;

  sqlite3* db_;
  std::mutex mu_;
  VerifierOptions options_;
  Env env_;
};

// The wallet's reading of a request (§5).
struct ParsedRequest {
  std::string client_id, response_uri, nonce, state;
  DcqlQuery query;
};

// Checks the parameters: response_type vp_token, response_mode direct_post with a response_uri
// and no redirect_uri (§8.2), a nonce, a client_id with the redirect_uri prefix naming the
// response_uri (§5.9.3), a valid dcql_query. Errors (reason): invalid_request; invalid_client
// (a decentralized_identifier client_id: that prefix needs a signed request object, not
// supported yet, or an unknown prefix); request_uri (not supported yet) is refused with
// invalid_request. Also the query's errors (vp_formats_not_supported for another format).
Result<ParsedRequest> ParseAuthorizationRequest(const std::map<std::string, std::string>& params);

// The direct_post form (vp_token, state) answering `request` from `held` SD-JWT VCs, each
// bound to `holder` (its cnf key) with a KB-JWT (aud = client_id, nonce). Errors: access_denied
// (the query cannot be satisfied; the detail names the query), PresentSdJwt's errors.
Result<std::map<std::string, std::string>> BuildResponse(const ParsedRequest& request,
                                                         const std::vector<std::string>& held,
                                                         const claims::Signer& holder,
                                                         const Env& env);

}  // namespace medallion::oid4vc
