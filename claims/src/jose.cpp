// VC-JOSE-COSE §3.1.1 / §3.1.2: credentials and presentations as compact JWS (RFC 7515) with
// EdDSA and ES256K, keys found through `kid` DID URLs.
#include "medallion/claims/jose.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <utility>

#include <nlohmann/json.hpp>

#include "medallion/core/encoding.h"
#include "medallion/core/jcs.h"

namespace medallion::claims {
namespace {

using nlohmann::json;

// VC Data Model 2.0 §4.3: the first @context entry of every credential and presentation.
constexpr std::string_view kCredentialsV2Context = "https://www.w3.org/ns/credentials/v2";
constexpr size_t kSignatureBytes = 64;  // EdDSA (RFC 8032) and ES256K r||s (RFC 8812 §3.2)

Status Fail(StatusCode code, std::string_view why, const std::string& detail) {
  return Status(code, std::string(why) + ": " + detail, std::string(why));
}
Status Malformed(const std::string& detail) {
  return Fail(StatusCode::kInvalidArgument, jwt_reason::kMalformed, detail);
}

// RFC 7515 §4.1.9-4.1.10: media types compare case-insensitively, and a value without '/'
// stands for "application/" + value.
std::string NormalizeMediaType(std::string_view v) {
  std::string out(v);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (out.find('/') == std::string::npos) out = "application/" + out;
  return out;
}

bool HasType(const json& doc, std::string_view wanted) {
  auto it = doc.find("type");
  if (it == doc.end()) return false;
  if (it->is_string()) return *it == wanted;
  if (!it->is_array()) return false;
  return std::any_of(it->begin(), it->end(),
                     [&](const json& t) { return t.is_string() && t == wanted; });
}

// The id of `issuer` / `holder`: a string, or an object's `id` (VC Data Model 2.0 §4.7, §5.2).
std::optional<std::string> PartyId(const json& doc, const char* key) {
  auto it = doc.find(key);
  if (it == doc.end()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object()) {
    auto id = it->find("id");
    if (id != it->end() && id->is_string()) return id->get<std::string>();
  }
  return std::string();  // present but without a usable id
}

// The shape VC-JOSE-COSE §3.1.1 / §3.1.2 secure: a VC Data Model 2.0 credential (with an issuer)
// or presentation, without the VC-JWT 1.1 `vc` / `vp` claims. Returns the issuer (holder) id,
// "" for a presentation without a holder.
std::string_view TypFor(JwtKind kind) {
  switch (kind) {
    case JwtKind::kCredential:
      return kVcJwtType;
    case JwtKind::kPresentation:
      return kVpJwtType;
    case JwtKind::kDidAuth:
      return kDidAuthJwtType;
    case JwtKind::kAuthzRequest:
      return kAuthzRequestJwtType;
  }
  MDL_CHECK(false);
  return {};
}

Result<std::string> CheckDocument(JwtKind kind, const json& doc) {
  auto invalid = [](const std::string& d) {
    return Fail(StatusCode::kInvalidArgument, jwt_reason::kPayloadInvalid, d);
  };
  if (!doc.is_object()) return invalid("the payload is not a JSON object");
  if (kind == JwtKind::kAuthzRequest) {
    // RFC 9101 §4 / OpenID4VP §5: the request parameters; whose key signs is the caller's check
    // (OpenID4VP §5.9.3: a key of the client_id's DID). No VC payload.
    auto id = doc.find("client_id");
    if (id == doc.end() || !id->is_string() || id->get<std::string>().empty())
      return invalid("a request object needs a `client_id`");
    if (doc.contains("@context") || doc.contains("vc") || doc.contains("vp"))
      return invalid("a request object carries no credential or presentation");
    return std::string();
  }
  if (kind == JwtKind::kDidAuth) {
    // docs/uma.md §"Claim tokens": `sub` is the DID whose control is proven; no VC payload.
    auto sub = doc.find("sub");
    if (sub == doc.end() || !sub->is_string() || !did::IsValidDid(sub->get<std::string>())) {
      return invalid("`sub` must be a DID");
    }
    if (doc.contains("@context") || doc.contains("vc") || doc.contains("vp")) {
      return invalid("a DID authentication token carries no credential or presentation");
    }
    return sub->get<std::string>();
  }
  // VC-JOSE-COSE §"JOSE Header Parameters and JWT Claims": "The JWT Claim Names vc and vp MUST
  // NOT be present."
  if (doc.contains("vc") || doc.contains("vp")) {
    return Fail(StatusCode::kInvalidArgument, jwt_reason::kClaimForbidden,
                "the `vc` and `vp` claims must not be present");
  }
  auto ctx = doc.find("@context");
  if (ctx == doc.end() || !ctx->is_array() || ctx->empty() || (*ctx)[0] != kCredentialsV2Context) {
    return invalid("@context must be an array starting with " + std::string(kCredentialsV2Context));
  }
  if (kind == JwtKind::kCredential) {
    if (!HasType(doc, "VerifiableCredential"))
      return invalid("type does not include VerifiableCredential");
    std::optional<std::string> issuer = PartyId(doc, "issuer");
    if (!issuer || issuer->empty()) return invalid("the credential has no issuer id");
    if (!doc.contains("credentialSubject"))
      return invalid("the credential has no credentialSubject");
    return *issuer;
  }
  if (!HasType(doc, "VerifiablePresentation"))
    return invalid("type does not include VerifiablePresentation");
  std::optional<std::string> holder = PartyId(doc, "holder");
  if (holder && holder->empty()) return invalid("holder has no id");
  return holder.value_or("");
}

// A NumericDate claim (RFC 7519 §2): a JSON number of seconds, fractions truncated.
Result<std::optional<int64_t>> NumericDate(const json& payload, const char* claim) {
  auto it = payload.find(claim);
  if (it == payload.end()) return std::optional<int64_t>();
  if (!it->is_number()) return Malformed(std::string("`") + claim + "` is not a NumericDate");
  double v = it->get<double>();
  if (!std::isfinite(v) || v < 0 || v > 253402300799.0) {  // up to 9999-12-31T23:59:59Z
    return Malformed(std::string("`") + claim + "` is out of range");
  }
  return std::optional<int64_t>(static_cast<int64_t>(std::floor(v)));
}

Result<json> DecodeJsonPart(std::string_view part, const char* what) {
  auto bytes = Base64UrlDecode(part);  // strict: no padding, no stray bits (RFC 7515 §2)
  if (!bytes) return Malformed(std::string(what) + " is not base64url: " + bytes.error().message());
  auto parsed = jcs::ParseStrict(ToString(*bytes));  // RFC 7515 §5.2 step 3-4; duplicates refused
  if (!parsed) return Malformed(std::string(what) + ": " + parsed.error().message());
  if (!parsed->is_object()) return Malformed(std::string(what) + " is not a JSON object");
  return std::move(*parsed);
}

}  // namespace

Result<std::string> SignJwt(JwtKind kind, const json& document, const Signer& signer,
                            const JwtSignOptions& options) {
  MDL_CHECK(static_cast<bool>(signer.sign));
  auto party = CheckDocument(kind, document);
  if (!party) return Status::InvalidArgument(party.error().message());
  auto kid = did::ParseDidUrl(signer.verification_method);
  if (!kid || kid->fragment.empty() || !kid->path.empty() || !kid->query.empty()) {
    return Status::InvalidArgument(
        "the signer's verification method is not an absolute DID URL with a fragment");
  }
  // The key must belong to the party the token speaks for (VC-JOSE-COSE §"iss", §"kid").
  if (!party->empty() && *party != kid->did) {
    return Status::InvalidArgument("the " +
                                   std::string(kind == JwtKind::kCredential ? "issuer" : "holder") +
                                   " '" + *party + "' is not the signer's DID " + kid->did);
  }
  for (const char* claim : {"iss", "iat", "nbf", "exp", "aud", "nonce", "jti", "cnf"}) {
    if (kind == JwtKind::kDidAuth && std::string_view(claim) == "cnf") continue;
    // OpenID4VP §5.2: a request's nonce is one of its parameters.
    if (kind == JwtKind::kAuthzRequest && std::string_view(claim) == "nonce") continue;
    if (document.contains(claim)) {
      return Status::InvalidArgument(std::string("the document already has a `") + claim +
                                     "` member");
    }
  }
  json header = {
      {"alg", AlgName(signer.alg)}, {"kid", signer.verification_method}, {"typ", TypFor(kind)}};
  if (options.content_type && (kind == JwtKind::kCredential || kind == JwtKind::kPresentation))
    header["cty"] = kind == JwtKind::kCredential ? "vc" : "vp";
  json payload = document;
  payload["iss"] = party->empty() ? kid->did : *party;
  if (options.issued_at != 0) payload["iat"] = options.issued_at;
  if (options.not_before != 0) payload["nbf"] = options.not_before;
  if (options.expires != 0) payload["exp"] = options.expires;
  if (!options.audience.empty()) payload["aud"] = options.audience;
  if (!options.nonce.empty()) payload["nonce"] = options.nonce;
  if (!options.jwt_id.empty()) payload["jti"] = options.jwt_id;

  MDL_ASSIGN_OR_RETURN(std::string header_text, jcs::Canonicalize(header));
  MDL_ASSIGN_OR_RETURN(std::string payload_text, jcs::Canonicalize(payload));
  // RFC 7515 §5.1: signing input = BASE64URL(header) '.' BASE64URL(payload).
  std::string signing_input =
      Base64UrlEncode(AsBytes(header_text)) + "." + Base64UrlEncode(AsBytes(payload_text));
  MDL_ASSIGN_OR_RETURN(Bytes signature, signer.sign(AsBytes(signing_input)));
  if (signature.size() != kSignatureBytes)
    return Status::Internal("the signer returned a malformed signature");
  return signing_input + "." + Base64UrlEncode(signature);
}

Result<json> VerifyJwt(JwtKind kind, std::string_view jws, const did::Resolver& resolver,
                       const JwtCheckOptions& options, VerifiedJwt* info) {
  MDL_CHECK(options.now > 0);
  MDL_CHECK(options.max_clock_skew >= 0 && options.max_clock_skew <= kMaxClockSkewSeconds);
  const int64_t now = options.now, skew = options.max_clock_skew;

  // RFC 7515 §7.1 / §5.2 step 1: exactly three base64url parts; an empty signature is an
  // unsecured JWS (RFC 7519 §6), never accepted.
  if (jws.size() > kMaxJwtBytes) {
    return Malformed("the token is larger than " + std::to_string(kMaxJwtBytes) + " bytes");
  }
  size_t d1 = jws.find('.');
  size_t d2 = d1 == std::string_view::npos ? d1 : jws.find('.', d1 + 1);
  if (d2 == std::string_view::npos || jws.find('.', d2 + 1) != std::string_view::npos) {
    return Malformed("not a JWS compact serialization (three parts separated by '.')");
  }
  std::string_view header_b64 = jws.substr(0, d1), payload_b64 = jws.substr(d1 + 1, d2 - d1 - 1),
                   signature_b64 = jws.substr(d2 + 1);
  if (header_b64.empty() || payload_b64.empty()) return Malformed("an empty header or payload");
  if (signature_b64.empty()) {
    return Fail(StatusCode::kInvalidArgument, jwt_reason::kAlgNotAllowed,
                "an unsecured JWS (empty signature)");
  }

  MDL_ASSIGN_OR_RETURN(json header, DecodeJsonPart(header_b64, "the JOSE header"));
  // The algorithm allow-list (RFC 8725 §3.1): never "none", never a MAC, nothing unlisted.
  auto alg_it = header.find("alg");
  if (alg_it == header.end() || !alg_it->is_string()) return Malformed("the header has no `alg`");
  Alg alg;
  if (*alg_it == "EdDSA") {
    alg = Alg::kEdDSA;
  } else if (*alg_it == "ES256K") {
    alg = Alg::kES256K;
  } else {
    return Fail(StatusCode::kInvalidArgument, jwt_reason::kAlgNotAllowed,
                "alg '" + alg_it->get<std::string>() + "' (allowed: EdDSA, ES256K)");
  }
  // RFC 7515 §4.1.11: we understand no extension, so any `crit` (and b64, RFC 7797 §3) refuses.
  if (header.contains("crit") || header.contains("b64")) {
    return Fail(StatusCode::kInvalidArgument, jwt_reason::kCritUnsupported,
                "critical header extensions are not supported");
  }
  // VC-JOSE-COSE §3.1.1 / §3.1.2: typ vc+jwt / vp+jwt; we require it (explicit typing, RFC 8725
  // §3.11), so a credential token cannot pass as a presentation or as some other JWT.
  const std::string expected_typ = std::string(TypFor(kind));
  auto typ_it = header.find("typ");
  if (typ_it == header.end() || !typ_it->is_string() ||
      NormalizeMediaType(typ_it->get<std::string>()) != "application/" + expected_typ) {
    return Fail(StatusCode::kInvalidArgument, jwt_reason::kTypMismatch,
                "typ must be " + expected_typ);
  }
  // "When present, the cty header parameter SHOULD be vc" (vp): any other content type (a
  // nested JWT, say) is not something this verifier unwraps.
  if (auto cty = header.find("cty"); cty != header.end()) {
    if (kind == JwtKind::kDidAuth || kind == JwtKind::kAuthzRequest) {
      return Fail(StatusCode::kInvalidArgument, jwt_reason::kCtyUnsupported,
                  "a " + expected_typ + " has no cty");
    }
    const std::string expected_cty =
        kind == JwtKind::kCredential ? "application/vc" : "application/vp";
    if (!cty->is_string() || NormalizeMediaType(cty->get<std::string>()) != expected_cty) {
      return Fail(StatusCode::kInvalidArgument, jwt_reason::kCtyUnsupported,
                  "cty must be absent or " + expected_cty.substr(12));
    }
  }
  auto kid_it = header.find("kid");
  if (kid_it == header.end() || !kid_it->is_string()) {
    return Fail(StatusCode::kInvalidArgument, jwt_reason::kKidInvalid, "the header has no `kid`");
  }
  const std::string kid = kid_it->get<std::string>();
  auto kid_url = did::ParseDidUrl(kid);
  if (!kid_url || kid_url->fragment.empty() || !kid_url->path.empty() || !kid_url->query.empty()) {
    return Fail(StatusCode::kInvalidArgument, jwt_reason::kKidInvalid,
                "kid '" + kid + "' is not an absolute DID URL");
  }

  MDL_ASSIGN_OR_RETURN(json payload, DecodeJsonPart(payload_b64, "the payload"));
  MDL_ASSIGN_OR_RETURN(std::string party, CheckDocument(kind, payload));

  // VC-JOSE-COSE §"iss": iss, when present, MUST match issuer (issuer.id); for presentations we
  // hold it to the holder the same way. RFC 7519 §5.3: an `iss` replicated into the header must
  // equal the claim.
  std::optional<std::string> iss;
  if (auto it = payload.find("iss"); it != payload.end()) {
    if (!it->is_string()) return Malformed("`iss` is not a string");
    iss = it->get<std::string>();
    if (!party.empty() && *iss != party) {
      return Fail(StatusCode::kPermissionDenied, jwt_reason::kIssMismatch,
                  "iss '" + *iss + "' is not '" + party + "'");
    }
  }
  if (auto it = header.find("iss"); it != header.end() && (!iss || *it != *iss)) {
    return Fail(StatusCode::kPermissionDenied, jwt_reason::kIssMismatch,
                "the header's iss differs from the claim");
  }
  const std::string signer_did = !party.empty() ? party : iss.value_or(kid_url->did);
  if (kid_url->did != signer_did) {
    return Fail(StatusCode::kPermissionDenied, jwt_reason::kKidNotIssuer,
                "kid belongs to " + kid_url->did + ", not to " + signer_did);
  }

  // VC-JOSE-COSE §"kid" with DID Core §7.2: the method, under assertionMethod for credentials
  // and authentication for presentations.
  const did::Relationship relationship = kind == JwtKind::kCredential
                                             ? did::Relationship::kAssertionMethod
                                             : did::Relationship::kAuthentication;
  // kDidAuth and kPresentation both prove control: authentication methods only; so does a
  // kAuthzRequest (the verifier authenticating itself to the wallet, DID Core §5.3.1).
  auto vm = resolver.DereferenceMethod(kid, relationship, options.resolution);
  if (!vm) return Fail(vm.error().code(), reason::kMethodUnresolved, vm.error().message());
  const bool key_fits = (alg == Alg::kEdDSA && vm->key_type == did::KeyType::kEd25519) ||
                        (alg == Alg::kES256K && vm->key_type == did::KeyType::kSecp256k1);
  if (!key_fits) {
    return Fail(StatusCode::kInvalidArgument, jwt_reason::kAlgKeyMismatch,
                "alg " + std::string(AlgName(alg)) + " with a " +
                    std::string(did::KeyTypeName(vm->key_type)) + " key");
  }

  // RFC 7515 §5.2 steps 6-8.
  auto signature = Base64UrlDecode(signature_b64);
  if (!signature) return Malformed("the signature is not base64url");
  std::string_view signing_input = jws.substr(0, d2);
  if (signature->size() != kSignatureBytes ||
      !VerifySignature(alg, vm->public_key, AsBytes(signing_input), *signature)) {
    return Fail(StatusCode::kUnauthenticated, reason::kSignatureInvalid,
                "the JWS signature does not verify");
  }

  // RFC 7519 §4.1.4-4.1.6 with bounded clock skew.
  MDL_ASSIGN_OR_RETURN(std::optional<int64_t> iat, NumericDate(payload, "iat"));
  MDL_ASSIGN_OR_RETURN(std::optional<int64_t> nbf, NumericDate(payload, "nbf"));
  MDL_ASSIGN_OR_RETURN(std::optional<int64_t> exp, NumericDate(payload, "exp"));
  if (exp && now - skew >= *exp) {
    return Fail(StatusCode::kFailedPrecondition, jwt_reason::kExpired,
                "exp " + did::XmlDateTime(*exp) + " has passed");
  }
  if (nbf && *nbf > now + skew) {
    return Fail(StatusCode::kFailedPrecondition, jwt_reason::kNotYetValid,
                "nbf " + did::XmlDateTime(*nbf));
  }
  if (iat && *iat > now + skew) {
    return Fail(StatusCode::kFailedPrecondition, jwt_reason::kNotYetValid, "issued in the future");
  }
  // VC Data Model 2.0 §4.9: the credential's own validity period.
  if (kind == JwtKind::kCredential) {
    for (const char* key : {"validFrom", "validUntil"}) {
      auto it = payload.find(key);
      if (it == payload.end()) continue;
      auto t = it->is_string() ? ParseDateTimeStamp(it->get<std::string>())
                               : Result<int64_t>(Status::InvalidArgument("not a string"));
      if (!t) {
        return Fail(StatusCode::kInvalidArgument, jwt_reason::kPayloadInvalid,
                    std::string(key) + ": " + t.error().message());
      }
      const bool from = std::string_view(key) == "validFrom";
      if (from && *t > now + skew) {
        return Fail(StatusCode::kFailedPrecondition, jwt_reason::kCredentialNotYetValid,
                    "validFrom " + it->get<std::string>());
      }
      if (!from && now - skew > *t) {
        return Fail(StatusCode::kFailedPrecondition, jwt_reason::kCredentialExpired,
                    "validUntil " + it->get<std::string>());
      }
    }
  }
  // RFC 7519 §4.1.3: the verifier must find itself in `aud`.
  if (!options.expected_audience.empty()) {
    bool ok = false;
    if (auto it = payload.find("aud"); it != payload.end()) {
      if (it->is_string()) ok = *it == options.expected_audience;
      if (it->is_array()) {
        ok = std::any_of(it->begin(), it->end(),
                         [&](const json& a) { return a == options.expected_audience; });
      }
    }
    if (!ok) {
      return Fail(StatusCode::kPermissionDenied, jwt_reason::kAudienceMismatch,
                  "not addressed to this verifier");
    }
  }
  if (!options.expected_nonce.empty()) {
    auto it = payload.find("nonce");
    if (it == payload.end() || *it != options.expected_nonce) {
      return Fail(StatusCode::kPermissionDenied, jwt_reason::kNonceMismatch,
                  "not the expected nonce");
    }
  }

  if (info != nullptr) {
    info->alg = alg;
    info->kid = kid;
    info->controller = vm->controller;
    info->issued_at = iat;
    info->not_before = nbf;
    info->expires = exp;
  }
  return payload;
}

}  // namespace medallion::claims
