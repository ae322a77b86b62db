// Verifiable credentials and presentations secured with JOSE: W3C "Securing Verifiable
// Credentials using JOSE and COSE" §3.1.1 (typ vc+jwt) and §3.1.2 (typ vp+jwt) over JWS compact
// serialization (RFC 7515 §7.1), with EdDSA (Ed25519, RFC 8037) and ES256K (RFC 8812 §3.2).
//
// The JWS payload is the credential (or presentation) itself plus registered JWT claims
// (RFC 7519 §4.1); the `vc` and `vp` claims of the older VC-JWT mapping are refused. The key is
// found through `kid`, an absolute DID URL that must name a verification method of the issuer's
// DID (holder's for presentations) under assertionMethod (authentication). Keys embedded in the
// header (`jwk`, `jku`, `x5c`, `x5u`) are never used.
//
// Failures carry a reason code as the Status message prefix (ReasonCode() in
// data_integrity.h): the codes in `jwt_reason` below, or reason::kMethodUnresolved and
// reason::kSignatureInvalid shared with Data Integrity.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "medallion/claims/data_integrity.h"
#include "medallion/claims/signer.h"
#include "medallion/core/status.h"
#include "medallion/did/resolver.h"

namespace medallion::claims {

// The `typ` values of VC-JOSE-COSE §3.1.1 / §3.1.2 (media types application/vc+jwt, vp+jwt) and
// the `cty` values they allow.
inline constexpr std::string_view kVcJwtType = "vc+jwt";
inline constexpr std::string_view kVpJwtType = "vp+jwt";
// A DID authentication token (Medallion, docs/uma.md §"Claim tokens"): a JWT whose `sub` is a DID
// and whose key is one of that DID's authentication methods — proof of control of the DID for
// one audience and nonce (the UMA claim token, the owner's sign-in, approvals).
inline constexpr std::string_view kDidAuthJwtType = "did-auth+jwt";
// A signed Authorization Request Object (RFC 9101 §4, typ per §10.8; OpenID4VP 1.0 §5.9.3
// `decentralized_identifier:` clients): the request parameters as claims, `client_id` required,
// signed by a key of the client's DID (the `nonce` member is the request's own, §5.2).
inline constexpr std::string_view kAuthzRequestJwtType = "oauth-authz-req+jwt";

// A bound on a compact JWS a verifier accepts (the header, payload and signature together).
inline constexpr size_t kMaxJwtBytes = 256 * 1024;

namespace jwt_reason {
inline constexpr std::string_view kMalformed = "jwt_malformed";  // not a compact JWS / bad JSON
inline constexpr std::string_view kAlgNotAllowed = "alg_not_allowed";  // none, HS*, anything else
inline constexpr std::string_view kAlgKeyMismatch =
    "alg_key_mismatch";                                           // alg does not fit the key type
inline constexpr std::string_view kTypMismatch = "typ_mismatch";  // not vc+jwt / vp+jwt as expected
inline constexpr std::string_view kCtyUnsupported = "cty_unsupported";    // cty other than vc / vp
inline constexpr std::string_view kCritUnsupported = "crit_unsupported";  // RFC 7515 §4.1.11
inline constexpr std::string_view kKidInvalid =
    "kid_invalid";  // missing, or not an absolute DID URL
inline constexpr std::string_view kKidNotIssuer =
    "kid_not_issuer";  // kid's DID is not the issuer's / holder's
inline constexpr std::string_view kIssMismatch = "iss_mismatch";  // iss is not the issuer / holder
inline constexpr std::string_view kClaimForbidden =
    "claim_forbidden";  // `vc` / `vp` claims present
inline constexpr std::string_view kPayloadInvalid =
    "payload_invalid";  // not a VC / VP (context, type, issuer)
inline constexpr std::string_view kExpired = "jwt_expired";            // exp passed
inline constexpr std::string_view kNotYetValid = "jwt_not_yet_valid";  // nbf / iat in the future
inline constexpr std::string_view kCredentialExpired = "credential_expired";  // validUntil passed
inline constexpr std::string_view kCredentialNotYetValid =
    "credential_not_yet_valid";  // validFrom ahead
inline constexpr std::string_view kAudienceMismatch = "audience_mismatch";
inline constexpr std::string_view kNonceMismatch = "nonce_mismatch";
}  // namespace jwt_reason

// typ vc+jwt, vp+jwt, did-auth+jwt, oauth-authz-req+jwt
enum class JwtKind { kCredential, kPresentation, kDidAuth, kAuthzRequest };

struct JwtSignOptions {
  int64_t issued_at = 0;  // `iat` (POSIX seconds); 0 = omit
  int64_t not_before =
      0;  // `nbf`; 0 = omit (VC-JOSE-COSE: NOT RECOMMENDED, kept for peers that want it)
  int64_t expires = 0;        // `exp`; 0 = omit
  std::string audience;       // `aud`: presentations, the verifier
  std::string nonce;          // `nonce`: presentations, the verifier's challenge
  std::string jwt_id;         // `jti`
  bool content_type = false;  // add `cty` "vc" / "vp" (VC-JOSE-COSE §3.1.1: optional)
};

// Secures `document` (a credential for kCredential, a presentation for kPresentation, a claims
// object whose `sub` is the signer's DID for kDidAuth, request parameters with a `client_id` for
// kAuthzRequest: `iss` is then the signer's DID and the document's `nonce` stays) as a
// compact JWS: protected header {alg, kid = signer.verification_method, typ[, cty]}, payload =
// the document with `iss` = the issuer (holder) id and the JWT claims of `options`, both
// serialized with RFC 8785 JCS. The signer's DID must be the credential's issuer (the
// presentation's holder, when it names one). Errors: invalid_argument for a document that is
// not a VC / VP, already carries `vc`, `vp` or conflicting claims, or whose issuer (holder) is
// not the signer's DID; the signer's error.
Result<std::string> SignJwt(JwtKind kind, const nlohmann::json& document, const Signer& signer,
                            const JwtSignOptions& options);

struct JwtCheckOptions {
  int64_t now = 0;                // REQUIRES: > 0, POSIX seconds
  int64_t max_clock_skew = 300;   // REQUIRES: 0 <= max_clock_skew <= kMaxClockSkewSeconds
  std::string expected_audience;  // "" = `aud` not checked
  std::string expected_nonce;     // "" = `nonce` not checked
  did::ResolutionOptions resolution;
};

struct VerifiedJwt {
  Alg alg = Alg::kEdDSA;
  std::string kid;         // the verification method (absolute DID URL)
  std::string controller;  // the DID the method belongs to (= issuer / holder)
  std::optional<int64_t> issued_at, not_before, expires;
};

// RFC 7515 §5.2 validation and the VC-JOSE-COSE checks: strict base64url, header and payload
// parsed with jcs::ParseStrict (duplicate members refused), alg in {EdDSA, ES256K} and matching
// the key type, typ vc+jwt (vp+jwt), cty absent or vc (vp), no crit, kid resolved through
// `resolver` under assertionMethod (authentication), iss = issuer (holder), iat/nbf/exp and
// validFrom/validUntil within `max_clock_skew`, aud/nonce when expected. kDidAuth,
// kPresentation and kAuthzRequest keys are authentication methods. On success returns the
// payload and, if `info` is not null, fills it. Errors carry a reason code (see above):
// invalid_argument for malformed input and refused header values, permission_denied for
// issuer/kid/aud/nonce mismatches, failed_precondition for time failures, the resolver's code
// for method_unresolved, unauthenticated for signature_invalid. Thread-safe if the resolver is.
Result<nlohmann::json> VerifyJwt(JwtKind kind, std::string_view compact_jws,
                                 const did::Resolver& resolver, const JwtCheckOptions& options,
                                 VerifiedJwt* info = nullptr);

}  // namespace medallion::claims
