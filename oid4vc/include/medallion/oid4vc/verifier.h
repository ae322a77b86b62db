// OpenID for Verifiable Presentations 1.0 (final, 2025-07): a Verifier and the Wallet's side of
// one presentation, for SD-JWT VCs (dc+sd-jwt, Appendix B.3) asked for with DCQL (dcql.h), the
// Response Mode direct_post (§8.2). No HTTP here (docs/openid4vc.md says what is mounted).
//
// Verifier:
//   - CreateRequest: an Authorization Request (§5) by value — client_id with a Client Identifier
//     Prefix (§5.9.3: `redirect_uri:` the response_uri, or `decentralized_identifier:` a DID),
//     response_type vp_token (§5.6), response_mode direct_post and response_uri (§8.2), a fresh
//     nonce (§5.2) and state, dcql_query (§5.1). Kept in the verifier's own SQLite file (WAL,
//     synchronous=FULL) or as a container's rows in PostgreSQL, with an expiry; one response
//     is accepted per request, ever.
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
// signature_invalid, ...) at the head of the detail. Request objects (RFC 9101, OID4VP §5.10):
// unsigned for redirect_uri: clients (§5.9.3 forbids signing them); signed JWS (typ
// oauth-authz-req+jwt, kid a DID URL of the client's DID) for decentralized_identifier: clients
// (§5.9.3 requires it), by reference and by value; the wallet fetches by reference only through
// a function its caller supplies (no HTTP here) and verifies a signed object through its
// did::Resolver. direct_post.jwt (§8.3): encrypted responses, ECDH-ES with A128GCM or A256GCM
// (RFC 7518 §4.6, §5.3) to a per-request P-256 key. Not built: the x509_san_dns: / x509_hash:
// prefixes (an X.509 chain), signed or signed-then-encrypted responses, transaction_data (§8.4),
// the DC API (Appendix A).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
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

namespace medallion::sql {
class Db;
}

namespace medallion::oid4vc {

// §5.9.3 Client Identifier Prefixes we use.
inline constexpr std::string_view kRedirectUriPrefix = "redirect_uri:";
inline constexpr std::string_view kDecentralizedIdentifierPrefix = "decentralized_identifier:";
// §5.6 / §8.2.
inline constexpr std::string_view kVpTokenResponseType = "vp_token";
inline constexpr std::string_view kDirectPost = "direct_post";
inline constexpr std::string_view kDirectPostJwt = "direct_post.jwt";  // §8.3
// The scheme of a request handed to a wallet by link or QR code (§5 examples, "openid4vp://").
inline constexpr std::string_view kRequestScheme = "openid4vp://";
// §5.8: the `aud` of a request object when the wallet's metadata is static (no wallet `issuer`).
inline constexpr std::string_view kStaticDiscoveryAudience = "https://self-issued.me/v2";

struct VerifierOptions {
  // The full client_id, prefix included: "redirect_uri:<response_uri>" (then it must equal the
  // response_uri, §5.9.3) or "decentralized_identifier:<did>".
  std::string client_id;
  std::string response_uri;  // where the wallet posts (§8.2): absolute http(s) URL
  int64_t request_ttl_seconds = 600;
  int64_t kb_max_age_seconds = 300;
  int64_t max_clock_skew_seconds = 60;
  // When set, each request also gets an id and a request object by reference (RFC 9101 §5.2,
  // OID4VP §5.10): request_uri = request_uri_base + id.
  std::string request_uri_base;
  // Required for, and only for, a decentralized_identifier: client (§5.9.3: its requests MUST be
  // signed with a key of the DID, named by `kid`): the signer of its request objects, whose
  // verification_method is a DID URL of the client's DID, listed under the DID's authentication
  // methods (the wallet's check, ParseAuthorizationRequest).
  std::optional<claims::Signer> request_signer;
};

// What a caller may fix in a new request.
struct RequestOptions {
  // The nonce (§5.2), e.g. a challenge the caller's own pipeline consumes; "" = a fresh one.
  std::string nonce;
  // The state (OID4VP §5, RFC 6749 §4.1.1: the key the response comes back under), e.g. one the
  // caller already keyed a record of its own by; "" = a fresh one. It must be unpredictable (the
  // request is answered by whoever knows it) and unused: a second request with the same state fails
  // (the database's error).
  std::string state;
  // §8.3: response_mode direct_post.jwt — the wallet encrypts its response to an ephemeral
  // P-256 key of this request (client_metadata.jwks, alg ECDH-ES; enc A128GCM or A256GCM,
  // RFC 7516/7518 §4.6); the private key stays in the verifier's file.
  bool encrypted_response = false;
};

// What the verifier keeps of one request, for its caller (the staff's outcome).
struct RequestRecord {
  std::string id, state;
  int64_t expires = 0;
  bool answered = false;
  std::optional<nlohmann::json> outcome;  // RecordOutcome's, if any
};

// A response read, nothing spent yet: the request it answers and its presentations per
// Credential Query (shape checked: §8.1, `multiple`, credential_sets), or the wallet's §8.5
// error (`error` non-empty).
struct PendingResponse {
  std::string id, state, nonce;
  DcqlQuery query;
  std::map<std::string, std::vector<std::string>> presentations;
  std::map<std::string, std::string> form;  // the whole form (extension parameters included)
  std::string error, error_description;
};

// An Authorization Request, by value: its parameters (the dcql_query as JSON text).
struct AuthorizationRequest {
  std::map<std::string, std::string> params;
  std::string uri;  // openid4vp://?<params, form-encoded>
  std::string state, nonce;
  int64_t expires = 0;
  // With VerifierOptions::request_uri_base: the request's id, its request_uri and the
  // by-reference form openid4vp://?client_id=...&request_uri=... (§5.10, RFC 9101 §5.2).
  // For a decentralized_identifier: client `uri` is openid4vp://?client_id=...&request=<the
  // signed request object> (RFC 9101 §5.1: by value, signed).
  std::string id, request_uri, uri_by_reference;
};

// A verified response: per Credential Query id, the verified credentials (processed payloads).
struct VerifiedPresentation {
  std::string state;
  std::map<std::string, std::vector<claims::VerifiedSdJwt>> credentials;
};

class Verifier {
 public:
  // Errors: invalid_argument (a client_id without a supported prefix, a redirect_uri client_id
  // that is not "redirect_uri:" + response_uri, a response_uri that is not http(s); a
  // decentralized_identifier: client without a request_signer of its DID, a redirect_uri: one
  // with a request_signer), the database's.
  static Result<std::unique_ptr<Verifier>> Open(const std::string& path, VerifierOptions options,
                                                Env env);
  // The same on `where`, a SQLite path or a PostgreSQL URL (sql::Db::Open: through the PgPool
  // that lives for that URL, if any), the requests on PostgreSQL kept as `container`'s rows —
  // a tenant column under row-level security, as the container's other tables (docs/
  // scale-out.md): another container's verifier on the same database neither sees nor answers
  // nor spends them. `container` is required on PostgreSQL, ignored on SQLite.
  static Result<std::unique_ptr<Verifier>> Open(const std::string& where,
                                                const std::string& container,
                                                VerifierOptions options, Env env);
  ~Verifier();
  Verifier(const Verifier&) = delete;
  Verifier& operator=(const Verifier&) = delete;

  const VerifierOptions& options() const { return options_; }

  // A new request for `dcql_query` (validated with ParseDcqlQuery: its errors).
  Result<AuthorizationRequest> CreateRequest(const nlohmann::json& dcql_query,
                                             const RequestOptions& request_options = {});

  // The request object of request `id` (RFC 9101 §2.1) as the wallet fetches it from the
  // request_uri (content type application/oauth-authz-req+jwt, RFC 9101 §10.2), typ
  // oauth-authz-req+jwt (RFC 9101 §10.8), its claims the request's parameters (dcql_query as an
  // object): for a redirect_uri: client an Unsecured JWT (RFC 7519 §6, alg "none"; OID4VP
  // §5.9.3: such requests cannot be signed); for a decentralized_identifier: client a JWS by
  // the request_signer (kid its DID URL; iss the DID, aud "https://self-issued.me/v2" (§5.8,
  // static discovery), iat now, exp the request's expiry). Errors: not_found (unknown, expired
  // or answered), the signer's.
  Result<std::string> RequestObject(const std::string& id);

  // §8.2: the form the wallet posted to response_uri. Errors (reason): invalid_request (no or
  // unknown state, expired, already answered, malformed or unsatisfying vp_token, a presentation
  // refused — the claims reason code heads the detail), or the error code the wallet posted
  // (§8.5, e.g. access_denied).
  Result<VerifiedPresentation> VerifyResponse(const std::map<std::string, std::string>& form,
                                              const did::Resolver& resolver);

  // For a caller that verifies the presentations itself (the pharmacy's dispense pipeline):
  // ReadResponse checks the form like VerifyResponse — state known, unexpired, unanswered; the
  // vp_token's shape against the query — but verifies no presentation and spends nothing.
  // Errors (reason): invalid_request.
  Result<PendingResponse> ReadResponse(const std::map<std::string, std::string>& form);
  // Marks the request answered, once: invalid_request "already answered" for the second call.
  Status Spend(const std::string& state);
  // The caller's outcome of request `id` (any JSON), kept with the request until it is dropped.
  Status RecordOutcome(const std::string& id, const nlohmann::json& outcome);
  // A request by id. Errors: not_found.
  Result<RequestRecord> Lookup(const std::string& id);

 private:
  Verifier(std::unique_ptr<sql::Db> db, VerifierOptions options, Env env);
  int64_t Now() const;
  // The request of `state` for a response: its nonce, dcql and id; "unknown", "answered",
  // "expired" refusals; with `spend`, marks it answered in the same transaction.
  Status LoadForResponse(const std::string& state, bool spend, std::string* nonce,
                         std::string* dcql, std::string* id);
  // §8.3: a direct_post.jwt form {"response": <JWE>} decrypted with its request's key (the JWE's
  // kid is the request id) into the response parameters; a plain form as is, unless its request
  // asked for an encrypted response.
  Result<std::map<std::string, std::string>> OpenForm(
      const std::map<std::string, std::string>& form);

  struct Statements;  // verifier.cpp: the SQL, with the table's name on this backend
  std::unique_ptr<sql::Db> db_;
  std::unique_ptr<const Statements> sql_;
  std::mutex mu_;  // serializes db_ (a sql::Db is not thread safe)
  VerifierOptions options_;
  Env env_;
};

// §8.3 the wallet's side of direct_post.jwt: `payload` (the response parameters: vp_token as a
// JSON object, state, ...) as a compact JWE for the verifier's `jwk` (EC P-256, from
// client_metadata.jwks; its kid goes in the header): alg ECDH-ES with an ephemeral key, enc
// A128GCM or A256GCM. The form to post is {"response": <JWE>}. Errors: invalid_argument.
Result<std::string> EncryptResponse(const nlohmann::json& payload, const nlohmann::json& jwk,
                                    const std::string& enc);

// The wallet's reading of a request (§5).
struct ParsedRequest {
  std::string client_id, response_uri, nonce, state;
  DcqlQuery query;
  // decentralized_identifier: clients: the DID (client_id without its prefix) and the
  // verification method whose signature on the request object verified.
  std::string verifier_did, request_kid;
};

// Checks the parameters: response_type vp_token, response_mode direct_post with a response_uri
// and no redirect_uri (§8.2), a nonce, a client_id with the redirect_uri prefix naming the
// response_uri (§5.9.3), a valid dcql_query. Errors (reason): invalid_request (also: a
// decentralized_identifier client_id — that prefix needs a signed request object, the
// overload below —, request and request_uri, read by the overload below); invalid_client (an
// unknown prefix). Also the query's errors (vp_formats_not_supported for another format).
Result<ParsedRequest> ParseAuthorizationRequest(const std::map<std::string, std::string>& params);

// Fetches a request object: (request_uri, method "get" or "post") → the response body. The
// caller's HTTP (OID4VP §5.10: a POST sends wallet_metadata/wallet_nonce; we send neither).
using RequestObjectFetcher =
    std::function<Result<std::string>(const std::string& uri, const std::string& method)>;

// The same, also for a request object (RFC 9101 §5): by reference, `client_id` + `request_uri`
// (+ `request_uri_method` "get" or "post", §5.10), the object fetched through `fetch`; or by
// value, `client_id` + `request`. The object's client_id must be the outer one (RFC 9101 §5:
// its parameters are the only ones used), its typ (when present, and always when signed)
// oauth-authz-req+jwt. Per prefix (§5.9.3):
//   - redirect_uri: an Unsecured JWT (alg none) only;
//   - decentralized_identifier: (with `resolver`) a JWS only, verified by claims::VerifyJwt: alg
//     EdDSA or ES256K, kid a DID URL of the client_id's DID resolved through `resolver` to one
//     of that DID's authentication methods (DID Core §5.3.1: the verifier authenticating
//     itself; §5.9.3 asks only for a verificationMethod named by kid), iat/exp within
//     `max_clock_skew` of `now`, aud absent or "https://self-issued.me/v2" (§5.8: this wallet's
//     metadata is static). Without a resolver, refused.
// Errors: invalid_request (another method, a fetch failure, a malformed object, a signed one
// under redirect_uri:, an unsigned one under decentralized_identifier:, a signature that does
// not verify — the claims reason code in the detail —, a kid of another DID, a client_id
// mismatch), invalid_client (another prefix), invalid_request_uri_method, and those of the
// by-value form.
Result<ParsedRequest> ParseAuthorizationRequest(const std::map<std::string, std::string>& params,
                                                const RequestObjectFetcher& fetch,
                                                const did::Resolver* resolver = nullptr,
                                                int64_t now = 0, int64_t max_clock_skew = 60);

// The direct_post form (vp_token, state) answering `request` from `held` SD-JWT VCs, each
// bound to `holder` (its cnf key) with a KB-JWT (aud = client_id, nonce). Errors: access_denied
// (the query cannot be satisfied; the detail names the query), PresentSdJwt's errors.
Result<std::map<std::string, std::string>> BuildResponse(const ParsedRequest& request,
                                                         const std::vector<std::string>& held,
                                                         const claims::Signer& holder,
                                                         const Env& env);

}  // namespace medallion::oid4vc
