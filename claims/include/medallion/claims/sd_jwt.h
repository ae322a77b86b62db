// SD-JWT (RFC 9901, Selective Disclosure for JSON Web Tokens) as profiled by SD-JWT VC
// (draft-ietf-oauth-sd-jwt-vc, `typ` "dc+sd-jwt"): issuance with chosen selectively disclosable
// claims (nested object properties and array elements, decoy digests), presentation of a subset
// with a Key Binding JWT (`kb+jwt`), and verification that rebuilds the processed payload.
//
// Hash: sha-256 only (`_sd_alg`, RFC 9901 §4.1.1). Signatures: EdDSA (Ed25519) and ES256K only
// (never "none"); the issuer key is the `kid` DID URL, resolved through did::Resolver under
// assertionMethod. The holder key is the `cnf.jwk` of the issuer-signed payload (RFC 7800 §3.2).
// Every function is thread-safe when the Signer, the Env and the Resolver it is given are.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "medallion/claims/signer.h"
#include "medallion/core/env.h"
#include "medallion/core/status.h"
#include "medallion/did/resolver.h"

namespace medallion::claims {

// One reference token of an RFC 6901 JSON Pointer (§3, §4): '~' as "~0", '/' as "~1".
std::string EscapeJsonPointerToken(std::string_view token);

// `typ` of an SD-JWT VC (SD-JWT VC §3.2.1 "JOSE Header") and of a KB-JWT (RFC 9901 §4.3).
inline constexpr std::string_view kSdJwtVcTyp = "dc+sd-jwt";
inline constexpr std::string_view kKbJwtTyp = "kb+jwt";

// Bounds on untrusted input: the whole serialized SD-JWT (+KB) and the number of disclosures.
inline constexpr size_t kMaxSdJwtBytes = 1 << 20;
inline constexpr size_t kMaxDisclosures = 4096;

// The reason codes of a refused SD-JWT: every error returned by VerifySdJwt (and by the holder
// functions, where they apply) has a message "<reason>: <detail>"; ReasonCode() in
// data_integrity.h extracts it.
namespace sd_jwt_reason {
inline constexpr std::string_view kMalformed = "sd_jwt_malformed";      // syntax, types, sizes
inline constexpr std::string_view kTypInvalid = "typ_invalid";          // header typ not expected
inline constexpr std::string_view kAlgUnsupported = "alg_unsupported";  // not EdDSA / ES256K
inline constexpr std::string_view kAlgMismatch = "alg_mismatch";        // alg vs key type
inline constexpr std::string_view kIssuerUnresolved = "issuer_unresolved";   // kid not resolvable
inline constexpr std::string_view kIssuerMismatch = "issuer_mismatch";       // kid's DID != iss
inline constexpr std::string_view kSignatureInvalid = "signature_invalid";   // issuer signature
inline constexpr std::string_view kSdAlgUnsupported = "sd_alg_unsupported";  // _sd_alg != sha-256
inline constexpr std::string_view kDisclosureMalformed = "disclosure_malformed";
inline constexpr std::string_view kDisclosureDuplicate = "disclosure_duplicate";
inline constexpr std::string_view kDisclosureUnreferenced = "disclosure_unreferenced";
inline constexpr std::string_view kDigestDuplicate = "digest_duplicate";
inline constexpr std::string_view kClaimNameReserved =
    "claim_name_reserved";  // "_sd", "...", "_sd_alg"
inline constexpr std::string_view kClaimNameCollision = "claim_name_collision";
inline constexpr std::string_view kClaimNotDisclosable =
    "claim_not_disclosable";  // iss, exp, cnf...
inline constexpr std::string_view kVctMismatch = "vct_mismatch";
inline constexpr std::string_view kExpired = "expired";
inline constexpr std::string_view kNotYetValid = "not_yet_valid";
inline constexpr std::string_view kCnfMissing = "cnf_missing";  // no usable cnf.jwk
inline constexpr std::string_view kKbMissing = "kb_missing";
inline constexpr std::string_view kKbMalformed = "kb_malformed";
inline constexpr std::string_view kKbSignatureInvalid = "kb_signature_invalid";
inline constexpr std::string_view kSdHashMismatch = "sd_hash_mismatch";
inline constexpr std::string_view kNonceMismatch = "nonce_mismatch";
inline constexpr std::string_view kAudienceMismatch = "aud_mismatch";
inline constexpr std::string_view kKbStale = "kb_stale";         // iat older than the window
inline constexpr std::string_view kKbInFuture = "kb_in_future";  // iat ahead of the clock
}  // namespace sd_jwt_reason

// A decoded disclosure (RFC 9901 §4.2.1, §4.2.2).
struct Disclosure {
  std::string salt;
  std::optional<std::string> name;  // absent for an array element
  std::string value_json;           // the claim value, as JSON text
};

// RFC 9901 §4.2.1/§4.2.2: base64url-decodes a disclosure and checks that it is a JSON array of
// [salt, name, value] or [salt, value] with string salt and name. Errors: invalid_argument
// (reason disclosure_malformed).
Result<Disclosure> DecodeDisclosure(std::string_view encoded);

// RFC 9901 §4.2.3: base64url(SHA-256(the ASCII bytes of the encoded disclosure)).
std::string DisclosureDigest(std::string_view encoded);

// A holder's public key, to be put in `cnf.jwk` (RFC 7800 §3.2): OKP/Ed25519 for EdDSA,
// EC/secp256k1 for ES256K.
struct HolderKey {
  Alg alg = Alg::kEdDSA;
  Bytes public_key;  // Ed25519: 32 bytes; secp256k1: 33-byte compressed
};

// The public JWK of a key as JSON text ({"crv","kty","x"[,"y"]}). Errors: invalid_argument for a
// key of the wrong length or not on the curve.
Result<std::string> PublicJwkJson(Alg alg, ByteView public_key);
// A key from a public JWK (JSON object). Errors: invalid_argument for any other key type or curve,
// a coordinate of the wrong length, a point not on the curve, or a JWK carrying private members.
Result<HolderKey> HolderKeyFromJwk(const nlohmann::json& jwk);

struct SdJwtIssueOptions {
  // RFC 6901 JSON Pointers into the payload of the claims to make selectively disclosable, e.g.
  // "/given_name", "/address/street_address", "/nationalities/1". A pointer and one below it may
  // both be listed (a recursive disclosure, RFC 9901 §4.2.6). SD-JWT VC §3.2.2.2 claims (iss, nbf,
  // exp, cnf, vct, vct#integrity, status) and the root cannot be selectively disclosable.
  std::vector<std::string> disclosable;
  // Decoy digests (RFC 9901 §4.2.5): each `_sd` array and each array with a selectively
  // disclosable element gets a number of decoys drawn uniformly from [min_decoys, max_decoys].
  uint32_t min_decoys = 0;
  uint32_t max_decoys = 0;
  // The holder's key for key binding, put in `cnf.jwk` (RFC 9901 §4.1.2). Unset: no binding.
  std::optional<HolderKey> holder;
  std::string typ = std::string(kSdJwtVcTyp);
};

// RFC 9901 §4 / SD-JWT VC §3: issues "<issuer-signed JWT>~<disclosure>~...~". The payload is a JSON
// object; `iss` is set to the DID of issuer.verification_method when absent (and must equal it
// when present), `iat` to the Env clock when absent, `cnf` from options.holder; with typ dc+sd-jwt
// a string `vct` is required. Salts are 128 bits from the Env rng (RFC 9901 §9.3); `_sd` arrays are
// sorted (§4.2.4.1) and decoy array elements placed at random positions. The header carries `alg`,
// `typ` and `kid` = issuer.verification_method.
// Errors: invalid_argument (a payload that is not an object or uses `_sd`, `_sd_alg` or `...` as
// claim names, a pointer that names nothing or a claim that cannot be disclosable, a payload
// `cnf` together with options.holder, min_decoys > max_decoys, values not serializable as UTF-8
// JSON); the signer's error.
Result<std::string> IssueSdJwt(const nlohmann::json& payload, const Signer& issuer,
                               const SdJwtIssueOptions& options, const Env& env);

// What a holder sees in an issued SD-JWT (not verified): the payload with every disclosure
// applied, and the JSON Pointers (into that payload) of the selectively disclosable claims.
struct SdJwtHolderView {
  std::string payload_json;
  std::vector<std::string> disclosable;
};
// Parses an issued SD-JWT (RFC 9901 §7.2 "Processing by the Holder") without checking the issuer
// signature. Errors: invalid_argument with the reason codes above.
Result<SdJwtHolderView> InspectSdJwt(std::string_view sd_jwt);

struct SdJwtPresentOptions {
  // JSON Pointers into the holder's view of the claims to reveal. Revealing a claim also reveals
  // every selectively disclosable claim above it (a nested disclosure is only verifiable through
  // its parent's); claims nested below it that are themselves disclosable must be named too.
  std::vector<std::string> reveal;
  // Key Binding JWT claims (RFC 9901 §4.3): the verifier's identifier and nonce.
  std::string audience;
  std::string nonce;
};

// RFC 9901 §7.2: builds "<issuer-signed JWT>~<revealed disclosures>~" and, with a holder signer,
// appends a KB-JWT (header typ kb+jwt; payload iat from the Env clock, aud, nonce, and sd_hash =
// base64url(SHA-256) of the presented SD-JWT, RFC 9901 §4.3.1). `holder` may be null (no key
// binding). Errors: invalid_argument (malformed input, a pointer that names nothing, empty aud or
// nonce with a holder); failed_precondition (the holder key is not the `cnf.jwk` of the SD-JWT,
// or there is no `cnf`); the signer's error.
Result<std::string> PresentSdJwt(std::string_view issued, const SdJwtPresentOptions& options,
                                 const Signer* holder, const Env& env);

struct SdJwtVerifyOptions {
  std::string expected_typ = std::string(kSdJwtVcTyp);  // "" = do not check the header typ
  std::string expected_vct;                             // "" = any (but present, for dc+sd-jwt)
  bool require_key_binding = true;
  // With key binding: the values the KB-JWT must carry (REQUIRED when require_key_binding).
  std::string expected_audience;
  std::string expected_nonce;
  int64_t kb_max_age_seconds = 300;  // a KB-JWT older than this (plus skew) is stale
  int64_t max_clock_skew_seconds = 60;
  did::ResolutionOptions resolution;  // resolve the issuer key as of this point, if set
};

struct VerifiedSdJwt {
  // The processed payload (RFC 9901 §7.1 step 4): disclosed claims in place, `_sd`, `_sd_alg` and
  // undisclosed/decoy digests removed. JSON text.
  std::string payload_json;
  std::string issuer;               // iss
  std::string verification_method;  // the resolved kid
  std::string vct;
  std::vector<std::string> disclosed;  // JSON Pointers of the claims revealed by disclosures
  bool key_bound = false;              // a KB-JWT was present and verified
};

// RFC 9901 §7.1 and §7.3 with SD-JWT VC §3: verifies an SD-JWT or SD-JWT+KB. Checks, in order:
// syntax and size; header alg (allow-list) and typ; `kid` (absolute DID URL, or "#frag" relative
// to iss) resolved under assertionMethod, its DID equal to iss, its key type matching alg; the
// issuer signature; `_sd_alg`; every disclosure (well-formed, no duplicates, digest referenced
// exactly once, no `_sd`/`...` names, no name collisions, none of the SD-JWT VC non-disclosable
// claims at the top level); exp/nbf/iat with skew; vct; then the KB-JWT: present if required,
// typ kb+jwt, alg matching cnf.jwk, signature by cnf.jwk, sd_hash, nonce, aud, iat within
// [now - kb_max_age - skew, now + skew]. A KB-JWT that is present is always checked.
// Errors: a Status whose message starts with one of the sd_jwt_reason codes; invalid_argument for
// options that require key binding without an expected nonce and audience.
Result<VerifiedSdJwt> VerifySdJwt(std::string_view presentation, const did::Resolver& resolver,
                                  const SdJwtVerifyOptions& options, const Clock& clock);

}  // namespace medallion::claims
