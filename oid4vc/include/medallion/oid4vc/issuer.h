// An OpenID for Verifiable Credential Issuance 1.0 (final, 2025-09) Credential Issuer with its
// own OAuth 2.0 authorization server (docs/openid4vc.md):
//
//   - Credential Issuer Metadata (§12.2) and the RFC 8414 authorization server metadata (§12.3);
//   - Credential Offers (§4.1) by value and by reference (§4.1.3), each with a single-use
//     pre-authorized code and, by default, a Transaction Code (`tx_code`, §4.1.1);
//   - the Token Endpoint (§6) for grant type urn:ietf:params:oauth:grant-type:pre-authorized_code
//     (anonymous access, no DPoP): an access token bound to its offer, with an expiry;
//   - the Nonce Endpoint (§7): single-use `c_nonce` values with an expiry, bound to the access
//     token when the request presents one;
//   - the Credential Endpoint (§8) with `jwt` key proofs (Appendix F.1, typ
//     `openid4vci-proof+jwt`, ES256 or EdDSA, the key as `jwk` or as a `kid` did:key / did:jwk
//     URL), issuing an SD-JWT VC (`dc+sd-jwt`, Appendix A.3) whose `cnf.jwk` is the proven key;
//   - the Authorization Code Flow (§3.4, §5; RFC 6749 §4.1) with PKCE (RFC 7636, S256 only):
//     an offer's `authorization_code` grant carries a single-use `issuer_state`, the secret that
//     authenticates the physician at the Authorization Endpoint (docs/openid4vc.md); the code is
//     single use, short-lived, bound to client_id, redirect_uri and code_challenge;
//   - deferred issuance (§8.3 `transaction_id` + `interval`, §9 Deferred Credential Endpoint)
//     for an offer whose credential is not ready yet (the society's clerk has not decided):
//     the claims come later from SetDeferredSource's callback;
//   - credential configurations a role supplies (IssuerOptions::configurations, e.g. the
//     physician's PrescriptionConfiguration): the same pipeline, the credential made by the
//     role's callback for the proven key.
//
// Codes, tokens, nonces and transaction codes are stored only as SHA-256 digests, in the
// issuer's own SQLite file (WAL, synchronous=FULL), so a restart keeps every single-use rule.
// Errors of the protocol carry the spec's error code as the Status reason (error codes below);
// the HTTP layer (roles/oid4vci_http.h) sends them as {"error", "error_description"}.
// Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "medallion/claims/signer.h"
#include "medallion/core/bytes.h"
#include "medallion/core/env.h"
#include "medallion/core/status.h"

struct sqlite3;

namespace medallion::oid4vc {

// OpenID4VCI 1.0 Appendix F.1: the `typ` of a `jwt` key proof.
inline constexpr std::string_view kProofJwtTyp = "openid4vci-proof+jwt";
// §4.1.1 / §6.1: the grant type of the Pre-Authorized Code Flow.
inline constexpr std::string_view kPreAuthorizedGrant =
    "urn:ietf:params:oauth:grant-type:pre-authorized_code";
// §4.1: the scheme of a Credential Offer handed to a wallet (link or QR code).
inline constexpr std::string_view kOfferScheme = "openid-credential-offer://";
// Our credential configuration (§12.2.4): the MedicalLicenseCredential as an SD-JWT VC.
inline constexpr std::string_view kLicenseSdJwtConfiguration = "MedicalLicenseCredential_dc+sd-jwt";
// The same license as issued at onboarding: a W3C VC 2.0 secured with Data Integrity
// eddsa-jcs-2022 (format `ldp_vc`, Appendix A.1.2), held by the DID it names; the key proof's
// `kid` must be a key of that DID.
inline constexpr std::string_view kLicenseLdpConfiguration = "MedicalLicenseCredential_ldp_vc";
// The SD-JWT VC type of that configuration (SD-JWT VC §3.2.2.1 `vct`).
inline constexpr std::string_view kLicenseVct = "urn:medallion:vct:MedicalLicenseCredential:1";

// A physician's container's configuration (roles/physician_desk.h): the pharmacy copy of a
// PrescriptionCredential as an SD-JWT VC (`vct` claims::kPrescriptionVct), signed by the
// prescriber and bound (`cnf`) to the wallet's proven Ed25519 key.
inline constexpr std::string_view kPrescriptionSdJwtConfiguration =
    "PrescriptionCredential_dc+sd-jwt";
// The Credential Response member (an extension parameter, §8.3) that carries the prescriber's
// phone co-signature of a controlled substance's copy (a did-auth+jwt over its SdJwtDigest).
inline constexpr std::string_view kPrescriberCosignatureMember = "prescriber_cosignature";

// The error codes (the Status reason of every protocol error).
namespace error {
// RFC 6749 §5.2, OpenID4VCI §6.3 (Token Endpoint).
inline constexpr std::string_view kInvalidRequest = "invalid_request";
inline constexpr std::string_view kInvalidGrant = "invalid_grant";
inline constexpr std::string_view kUnsupportedGrantType = "unsupported_grant_type";
// RFC 6750 §3.1 (Credential and Nonce Endpoints: the access token).
inline constexpr std::string_view kInvalidToken = "invalid_token";
// OpenID4VCI §8.3.1.2 (Credential Endpoint).
inline constexpr std::string_view kInvalidCredentialRequest = "invalid_credential_request";
inline constexpr std::string_view kUnknownCredentialConfiguration =
    "unknown_credential_configuration";
inline constexpr std::string_view kUnknownCredentialIdentifier = "unknown_credential_identifier";
inline constexpr std::string_view kInvalidProof = "invalid_proof";
inline constexpr std::string_view kInvalidNonce = "invalid_nonce";
inline constexpr std::string_view kCredentialRequestDenied = "credential_request_denied";
// RFC 6749 §4.1.2.1 (Authorization Endpoint), RFC 9396 §5 (authorization_details).
inline constexpr std::string_view kUnsupportedResponseType = "unsupported_response_type";
inline constexpr std::string_view kAccessDenied = "access_denied";
inline constexpr std::string_view kInvalidScope = "invalid_scope";
inline constexpr std::string_view kInvalidAuthorizationDetails = "invalid_authorization_details";
// OpenID4VCI §9.3 (Deferred Credential Endpoint).
inline constexpr std::string_view kInvalidTransactionId = "invalid_transaction_id";
}  // namespace error

// A credential configuration a role supplies (§12.2.4): the protocol (offers, both grants,
// tokens, nonces, key proofs, single use) stays the issuer's; the role gives the metadata and
// makes the credential once the wallet has proven its key.
struct IssueRequest {
  std::string configuration_id;
  std::string label;        // the offer's (OfferRequest::label)
  std::string claims_json;  // the offer's content (OfferRequest::claims_json), as stored
  std::string holder_jwk;   // the proven public key (RFC 7517 JWK, JSON text; no private part)
  int64_t now = 0;          // POSIX seconds
};
struct IssuedCredential {
  std::string credential;  // the §8.3 `credential` value as JSON text (a string for an SD-JWT)
  // A JSON object (text) whose members are added to the Credential Response next to
  // `credentials` (extension parameters: §8.3 lets wallets ignore what they do not know);
  // "" for none.
  std::string extra_json;
};
struct CredentialConfiguration {
  std::string id;  // credential_configuration_id
  // Its §12.2.4 object (format, vct, credential_metadata, ...). The issuer sets
  // proof_types_supported from proof_algs, and scope.
  std::string metadata_json;
  std::string scope;  // §5.1.2 / §12.2.4 `scope`
  // The `jwt` proofs' algorithms (a subset of ES256, EdDSA), checked before the nonce is spent.
  std::vector<std::string> proof_algs = {"ES256", "EdDSA"};
  // The role's deterministic checks of the offer's content against the proven key (e.g. a
  // controlled substance only for the patient's pseudonym), run after the key proof is
  // verified and before the access token is touched (without the issuer's lock; optional).
  // An error is the request's answer and leaves the token usable: the wallet may retry with
  // another key and a fresh c_nonce (the proof's nonce is spent, §7 / §8.3.1.2).
  std::function<Status(const IssueRequest&)> precheck;
  // Makes the credential for a verified proof (called without the issuer's lock, at most once
  // at a time per access token: the token is claimed "in progress" before). A credential, or
  // an error other than kUnavailable, spends the token; kUnavailable (transient: a ledger
  // outage) gives it back for a retry. An error is the request's answer: a reason from
  // error::, or none (the Status code then decides).
  std::function<Result<IssuedCredential>(const IssueRequest&)> issue;
};

struct IssuerOptions {
  // The Credential Issuer Identifier (§12.2.1): an https URL (http on loopback in tests) with no
  // query or fragment. Endpoints live under it (/oid4vci/...), metadata at its well-known URLs.
  std::string credential_issuer;
  std::string display_name = "Medical society";
  // Signs the credentials: the issuer's assertion key; its DID is the credential's `iss`.
  claims::Signer signer;
  int64_t offer_ttl_seconds = 600;      // the pre-authorized code's lifetime
  int64_t token_ttl_seconds = 300;      // the access token's
  int64_t auth_code_ttl_seconds = 60;   // an authorization code's (RFC 6749 §4.1.2: short)
  int64_t nonce_ttl_seconds = 300;      // a c_nonce's
  int64_t proof_max_age_seconds = 300;  // a key proof's `iat` may be this old (plus skew)
  int64_t max_clock_skew_seconds = 60;
  int tx_code_length = 6;        // digits (§4.1.1 tx_code.input_mode "numeric")
  // §4.1.1 tx_code.description: tells the holder where the code comes from.
  std::string tx_code_description = "The code the society gave you with this offer";
  int max_tx_code_attempts = 5;  // wrong transaction codes before the offer is burnt
  // §8.3 `interval`: the seconds a wallet should wait between deferred credential requests.
  int64_t deferred_interval_seconds = 60;
  // How long a transaction_id (and the access token it is bound to, at the deferred endpoint
  // only) stays good: a clerk may take days.
  int64_t transaction_ttl_seconds = 14 * 86400;
  // The configurations offered. Empty (the society): the MedicalLicenseCredential as
  // dc+sd-jwt and as ldp_vc, built in. Otherwise exactly these (a physician's container: the
  // PrescriptionCredential, roles/physician_desk.h); deferred offers are the built-in
  // license's only.
  std::vector<CredentialConfiguration> configurations;
};

// What a deferred offer's credential is, asked for each deferred credential request with the
// offer's label: the claims (JSON object text) once ready; std::nullopt while pending; an
// error (it is final: the transaction is spent, credential_request_denied) once refused.
using DeferredSource = std::function<Result<std::optional<std::string>>(const std::string& label)>;

// What a new offer is for.
struct OfferRequest {
  std::string configuration_id = std::string(kLicenseSdJwtConfiguration);
  // dc+sd-jwt: the credential's claims (a JSON object: `sub`, the license's members, `exp`,
  // ...); the issuer adds iss, iat, vct and cnf at issuance. ldp_vc: the signed credential,
  // handed over as is. A role's configuration: any JSON object, handed to its `issue`.
  std::string claims_json;
  // ldp_vc (required there): the DID the credential is about; the key proof's `kid` must be a
  // DID URL of it (did:key; did:jwk).
  std::string holder_did;
  // RFC 6901 pointers into claims of those to make selectively disclosable.
  std::vector<std::string> disclosable;
  bool tx_code = true;  // require a transaction code (handed to the holder out of band)
  // Offer the `authorization_code` grant (with a single-use issuer_state) instead of the
  // pre-authorized code; tx_code does not apply.
  bool authorization_code = false;
  std::string label;  // who it is for (the society's license id), kept with the offer
  // dc+sd-jwt only: the credential is not ready yet (claims_json is not used); the credential
  // endpoint answers 202 {transaction_id, interval} and the deferred endpoint issues once the
  // DeferredSource gives the claims for `label`.
  bool deferred = false;
};

struct Offer {
  std::string id;          // names the offer by reference (§4.1.3)
  std::string offer_json;  // the Credential Offer object (§4.1.1)
  std::string uri;         // openid-credential-offer://?credential_offer=<the object, URL-encoded>
  std::string uri_by_reference;  // ...?credential_offer_uri=<issuer>/oid4vci/offers/<id>
  std::string tx_code;           // "" when none; shown to the holder through another channel
  std::string issuer_state;      // the authorization_code grant's (also inside offer_json)
  int64_t expires = 0;           // POSIX seconds
};

// The PrescriptionCredential configuration's metadata (§12.2.4, Appendix A.3.2: format
// dc+sd-jwt, vct, the claims a wallet may show), with `issue` supplied by the prescriber's role.
// Proofs are EdDSA only: the copy's holder key is an Ed25519 key (claims::IssuePrescriptionSdJwt).
CredentialConfiguration PrescriptionConfiguration(
    std::function<Result<IssuedCredential>(const IssueRequest&)> issue,
    std::function<Status(const IssueRequest&)> precheck = {});

class Issuer {
 public:
  // Opens (creating) the issuer's state at `path`. Errors: invalid_argument (options: an
  // identifier that is not an absolute http(s) URL, a signer without a DID URL), the database's.
  static Result<std::unique_ptr<Issuer>> Open(const std::string& path, IssuerOptions options,
                                              Env env);
  ~Issuer();
  Issuer(const Issuer&) = delete;
  Issuer& operator=(const Issuer&) = delete;

  const IssuerOptions& options() const { return options_; }
  std::string Endpoint(std::string_view name) const;  // <credential_issuer>/oid4vci/<name>

  // §12.2.4 Credential Issuer Metadata (JSON text).
  std::string CredentialIssuerMetadata() const;
  // RFC 8414 §2 Authorization Server Metadata, with the OpenID4VCI §12.3 member
  // `pre-authorized_grant_anonymous_access_supported` (JSON text).
  std::string AuthorizationServerMetadata() const;

  // Creates an offer. Errors: invalid_argument (unknown configuration id, claims that are not
  // a JSON object, an ldp_vc offer without holder_did), the database's.
  Result<Offer> CreateOffer(const OfferRequest& request);
  // §4.1.3: the Credential Offer object of a live offer (JSON text). Errors: not_found (unknown,
  // expired or already redeemed: the same answer).
  Result<std::string> OfferObject(const std::string& id);

  // §5.1 Authorization Request (RFC 6749 §4.1.1 with RFC 7636 §4.3 and RFC 9396 / `scope`):
  // the query parameters. Returns the redirect (RFC 6749 §4.1.2): redirect_uri with `code`,
  // `state` (if given) and `iss` (RFC 9207). Errors (reason), never redirected (redirect_uris
  // are not registered, RFC 6749 §4.1.2.1 / §10.15): invalid_request, unsupported_response_type,
  // access_denied (unknown, expired or used issuer_state), invalid_scope,
  // invalid_authorization_details.
  Result<std::string> Authorize(const std::map<std::string, std::string>& query);

  // §6.1 Token Request (the form parameters). Returns the §6.2 Token Response (JSON text).
  // Errors (reason): unsupported_grant_type, invalid_request (a missing parameter, a missing
  // tx_code the offer requires), invalid_grant (unknown, expired or redeemed code; a wrong
  // tx_code; too many wrong ones). grant_type=authorization_code (RFC 6749 §4.1.3, RFC 7636
  // §4.5): code, redirect_uri, code_verifier, client_id (optional: PKCE binds the public
  // client; if sent it must match); invalid_grant on a wrong verifier, a reused, expired or
  // unknown code, another redirect_uri or client_id (each burns the code; reuse also revokes
  // the token it gave).
  Result<std::string> Token(const std::map<std::string, std::string>& form);

  // §7.2 Nonce Response ({"c_nonce"}, JSON text). `access_token` may be empty (an unbound
  // nonce, usable once by any session); with a token, the nonce is usable only with it.
  // Errors: invalid_token (a token that is given but not live).
  Result<std::string> Nonce(std::string_view access_token);

  // §8.2 Credential Request with the bearer `access_token`; returns the §8.3 Credential Response
  // (JSON text). Errors (reason): invalid_token (unauthenticated); invalid_credential_request,
  // unknown_credential_configuration, unknown_credential_identifier, invalid_proof,
  // invalid_nonce, credential_request_denied (invalid_argument / permission_denied).
  // A deferred offer's answer (after the same checks, the key proof included) is the §8.3
  // response {"transaction_id", "interval"} (HTTP 202): the id is single-use, stored as a
  // digest, bound to the access token and the proven key.
  Result<std::string> Credential(std::string_view access_token, std::string_view request_json);

  // §9.1 Deferred Credential Request ({"transaction_id"}) with the access token that got it.
  // Returns {"credentials": [...]} (the credential bound to the key proven at the credential
  // endpoint) once the DeferredSource has the claims, or again {"transaction_id", "interval"}
  // (§9.2, HTTP 202) while pending. Errors: invalid_token (no token), invalid_credential_request
  // (body), invalid_transaction_id (unknown, used, expired, or another token's), credential_
  // request_denied (the source refused: the transaction is spent).
  Result<std::string> DeferredCredential(std::string_view access_token,
                                         std::string_view request_json);

  // Where deferred offers' claims come from (set before serving; without it, deferred offers
  // are refused at CreateOffer).
  void SetDeferredSource(DeferredSource source);

 private:
  Issuer(sqlite3* db, IssuerOptions options, Env env);
  struct HolderKey;
  Result<HolderKey> VerifyProof(std::string_view jwt, const std::string& token_digest,
                                const std::string& required_did,
                                const std::vector<std::string>& algs);
  // The role's configuration `id` (nullptr: a built-in one or unknown).
  const CredentialConfiguration* RoleConfiguration(std::string_view id) const;
  bool KnownConfiguration(std::string_view id) const;
  Result<std::string> SdJwtCredential(const std::string& claims_text,
                                      const std::string& disclosable_text, const HolderKey& holder,
                                      int64_t now);
  Result<std::string> AuthorizationCodeToken(const std::map<std::string, std::string>& form);
  // A new access token for `offer_id`, stored as its digest (§6.2). REQUIRES mu_ held, inside
  // the caller's transaction.
  Result<std::string> NewAccessToken(const std::string& offer_id, int64_t now);
  // The token response (§6.2) carrying `token`.
  std::string TokenResponse(const std::string& token) const;
  Bytes Digest(std::string_view secret) const;
  int64_t Now() const;

  sqlite3* db_;
  std::mutex mu_;
  IssuerOptions options_;
  std::string issuer_did_;
  Env env_;
  DeferredSource deferred_source_;
};

}  // namespace medallion::oid4vc
