// VC-JOSE-COSE §3.1.1 / §3.1.2 (vc+jwt, vp+jwt) over RFC 7515 compact JWS: round trips with
// EdDSA and ES256K, and every refusal of VerifyJwt with its reason code.
#include <catch2/catch.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "medallion/claims/jose.h"
#include "medallion/core/encoding.h"
#include "medallion/core/hash.h"
#include "medallion/core/jcs.h"
#include "medallion/did/did_key.h"
#include "medallion/wallet/keys.h"

using namespace medallion;
using namespace medallion::claims;
using nlohmann::json;

namespace {

constexpr int64_t kNow = 1767323045;  // 2026-01-02T03:04:05Z

Signer MakeSigner(wallet::SignatureAlg alg, uint8_t fill, const std::string& did = "") {
  auto key = std::make_shared<wallet::SigningKey>(*wallet::MakeSigningKey(alg, Bytes(32, fill)));
  const did::KeyType type =
      alg == wallet::SignatureAlg::kEdDSA ? did::KeyType::kEd25519 : did::KeyType::kSecp256k1;
  Signer s;
  s.alg = alg == wallet::SignatureAlg::kEdDSA ? Alg::kEdDSA : Alg::kES256K;
  s.public_key = key->public_key;
  std::string mb = *did::MultikeyFromPublicKey(type, key->public_key);
  s.verification_method = (did.empty() ? "did:key:" + mb : did) + "#" + mb;
  s.sign = [key](ByteView m) { return wallet::Sign(*key, m); };
  return s;
}
std::string DidOf(const Signer& s) {
  return s.verification_method.substr(0, s.verification_method.find('#'));
}

json Credential(const std::string& issuer) {
  json vc = json::parse(R"({
    "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
    "id": "urn:uuid:3f1c2b9a-6a57-4c4e-8d6e-1f0b8a3d2c77",
    "type": ["VerifiableCredential", "MedicalLicenseCredential"],
    "validFrom": "2026-01-01T00:00:00Z",
    "validUntil": "2027-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:physician", "licenseNumber": "MD-12345", "schedules": ["II", "III"]}
  })");
  vc["issuer"] = issuer;
  return vc;
}

json Presentation(const std::string& holder) {
  json vp = {{"@context", {"https://www.w3.org/ns/credentials/v2"}},
             {"type", {"VerifiablePresentation"}}};
  if (!holder.empty()) vp["holder"] = holder;
  return vp;
}

const did::Resolver& KeyResolver() {
  static did::Resolver r;
  return r;
}

JwtCheckOptions At(int64_t now) {
  JwtCheckOptions o;
  o.now = now;
  return o;
}

std::string B64(std::string_view s) { return Base64UrlEncode(AsBytes(s)); }

// A token from raw header and payload texts, signed (or not) by `signer`.
std::string Token(const std::string& header_text, const std::string& payload_text,
                  const Signer* signer) {
  std::string input = B64(header_text) + "." + B64(payload_text);
  if (signer == nullptr) return input + ".";
  return input + "." + Base64UrlEncode(*signer->sign(AsBytes(input)));
}
std::string Token(const json& header, const json& payload, const Signer* signer) {
  return Token(*jcs::Canonicalize(header), *jcs::Canonicalize(payload), signer);
}

struct Parts {
  json header, payload;
  std::string signature;
};
Parts Split(const std::string& jwt) {
  size_t a = jwt.find('.'), b = jwt.find('.', a + 1);
  Parts p;
  p.header = json::parse(ToString(*Base64UrlDecode(jwt.substr(0, a))));
  p.payload = json::parse(ToString(*Base64UrlDecode(jwt.substr(a + 1, b - a - 1))));
  p.signature = jwt.substr(b + 1);
  return p;
}

template <typename T>
std::string ReasonOf(const Result<T>& r) {
  REQUIRE_FALSE(r.has_value());
  return std::string(ReasonCode(r.error()));
}

// The secp256k1 group order, for making the high-S twin of a signature.
const Bytes kOrder = *HexDecode("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141");

Bytes HighS(const Bytes& rs) {
  Bytes out = rs;
  int borrow = 0;
  for (int i = 31; i >= 0; --i) {
    int d = kOrder[i] - rs[32 + i] - borrow;
    borrow = d < 0;
    out[32 + i] = static_cast<uint8_t>(d + (borrow ? 256 : 0));
  }
  return out;
}

class TestMethod final : public did::MethodResolver {
 public:
  std::string_view method() const override { return "test"; }
  did::ResolutionResult Resolve(std::string_view d, const did::ResolutionOptions&) override {
    auto it = docs_.find(std::string(d));
    if (it == docs_.end()) return did::ResolutionResult::Error(did::kNotFound, "no such test DID");
    did::ResolutionResult r;
    r.document = it->second;
    return r;
  }
  void Add(const std::string& d, const Signer& s, std::initializer_list<did::Relationship> rels) {
    did::DidDocument& doc = docs_[d];
    doc.id = d;
    REQUIRE(did::AddKey(doc,
                        s.alg == Alg::kEdDSA ? did::KeyType::kEd25519 : did::KeyType::kSecp256k1,
                        s.public_key, rels)
                .ok());
  }

 private:
  std::map<std::string, did::DidDocument> docs_;
};

}  // namespace

TEST_CASE("vc+jwt round trips with EdDSA and ES256K", "[claims][jose]") {
  auto alg = GENERATE(wallet::SignatureAlg::kEdDSA, wallet::SignatureAlg::kES256K);
  Signer issuer = MakeSigner(alg, 0x21);
  const json vc = Credential(DidOf(issuer));
  JwtSignOptions so;
  so.issued_at = kNow;
  so.expires = kNow + 3600;
  so.jwt_id = "urn:uuid:3f1c2b9a-6a57-4c4e-8d6e-1f0b8a3d2c77";
  auto jwt = SignJwt(JwtKind::kCredential, vc, issuer, so);
  REQUIRE(jwt);

  Parts p = Split(*jwt);
  CHECK(
      p.header ==
      json({{"alg", AlgName(issuer.alg)}, {"kid", issuer.verification_method}, {"typ", "vc+jwt"}}));
  CHECK(p.payload["iss"] == DidOf(issuer));
  CHECK(p.payload["iat"] == kNow);
  CHECK_FALSE(p.payload.contains("vc"));
  CHECK(Base64UrlDecode(p.signature)->size() == 64);

  VerifiedJwt info;
  auto payload = VerifyJwt(JwtKind::kCredential, *jwt, KeyResolver(), At(kNow + 10), &info);
  REQUIRE(payload);
  json expected = vc;
  expected["iss"] = DidOf(issuer);
  expected["iat"] = kNow;
  expected["exp"] = kNow + 3600;
  expected["jti"] = so.jwt_id;
  CHECK(*payload == expected);
  CHECK(info.alg == issuer.alg);
  CHECK(info.kid == issuer.verification_method);
  CHECK(info.controller == DidOf(issuer));
  CHECK(info.issued_at == kNow);
  CHECK(info.expires == kNow + 3600);
  CHECK_FALSE(info.not_before);

  SECTION("with cty, and typ/cty in their full media-type forms") {
    JwtSignOptions o = so;
    o.content_type = true;
    auto t = SignJwt(JwtKind::kCredential, vc, issuer, o);
    REQUIRE(t);
    CHECK(Split(*t).header["cty"] == "vc");
    CHECK(VerifyJwt(JwtKind::kCredential, *t, KeyResolver(), At(kNow)));
    json h = Split(*t).header;
    h["typ"] = "application/VC+JWT";
    h["cty"] = "Application/vc";
    CHECK(VerifyJwt(JwtKind::kCredential, Token(h, Split(*t).payload, &issuer), KeyResolver(),
                    At(kNow)));
  }
  SECTION("an issuer object with an id") {
    json v = vc;
    v["issuer"] = {{"id", DidOf(issuer)}, {"name", "Medical Society"}};
    auto t = SignJwt(JwtKind::kCredential, v, issuer, so);
    REQUIRE(t);
    CHECK(VerifyJwt(JwtKind::kCredential, *t, KeyResolver(), At(kNow)));
  }
}

TEST_CASE("ES256K: a high-S signature made elsewhere still verifies", "[claims][jose][es256k]") {
  Signer issuer = MakeSigner(wallet::SignatureAlg::kES256K, 0x31);
  auto jwt = SignJwt(JwtKind::kCredential, Credential(DidOf(issuer)), issuer, {});
  REQUIRE(jwt);
  size_t dot = jwt->rfind('.');
  Bytes sig = *Base64UrlDecode(jwt->substr(dot + 1));
  Bytes high = HighS(sig);
  REQUIRE(high != sig);
  std::string twin = jwt->substr(0, dot + 1) + Base64UrlEncode(high);
  CHECK(VerifyJwt(JwtKind::kCredential, twin, KeyResolver(), At(kNow)));
  // A DER-encoded or otherwise re-sized signature is not RFC 8812's r||s.
  std::string longer = jwt->substr(0, dot + 1) + Base64UrlEncode(Concat(sig, Bytes{0}));
  CHECK(ReasonOf(VerifyJwt(JwtKind::kCredential, longer, KeyResolver(), At(kNow))) ==
        "signature_invalid");
}

TEST_CASE("vp+jwt round trips under authentication, with aud and nonce", "[claims][jose][vp]") {
  Signer holder = MakeSigner(wallet::SignatureAlg::kEdDSA, 0x41);
  JwtSignOptions so;
  so.issued_at = kNow;
  so.expires = kNow + 300;
  so.audience = "https://pharmacy.example";
  so.nonce = "n-0S6_WzA2Mj";
  auto jwt = SignJwt(JwtKind::kPresentation, Presentation(DidOf(holder)), holder, so);
  REQUIRE(jwt);
  CHECK(Split(*jwt).header["typ"] == "vp+jwt");
  JwtCheckOptions co = At(kNow + 1);
  co.expected_audience = "https://pharmacy.example";
  co.expected_nonce = "n-0S6_WzA2Mj";
  VerifiedJwt info;
  REQUIRE(VerifyJwt(JwtKind::kPresentation, *jwt, KeyResolver(), co, &info));
  CHECK(info.controller == DidOf(holder));

  SECTION("audience_mismatch and nonce_mismatch") {
    JwtCheckOptions c = co;
    c.expected_audience = "https://other.example";
    CHECK(ReasonOf(VerifyJwt(JwtKind::kPresentation, *jwt, KeyResolver(), c)) ==
          "audience_mismatch");
    c = co;
    c.expected_nonce = "replayed";
    CHECK(ReasonOf(VerifyJwt(JwtKind::kPresentation, *jwt, KeyResolver(), c)) == "nonce_mismatch");
    // aud as a list containing the verifier.
    Parts p = Split(*jwt);
    p.payload["aud"] = json::array({"https://a.example", "https://pharmacy.example"});
    CHECK(
        VerifyJwt(JwtKind::kPresentation, Token(p.header, p.payload, &holder), KeyResolver(), co));
    p.payload.erase("aud");
    CHECK(ReasonOf(VerifyJwt(JwtKind::kPresentation, Token(p.header, p.payload, &holder),
                             KeyResolver(), co)) == "audience_mismatch");
  }
  SECTION("a presentation without holder: iss names the presenter") {
    auto t = SignJwt(JwtKind::kPresentation, Presentation(""), holder, so);
    REQUIRE(t);
    CHECK(Split(*t).payload["iss"] == DidOf(holder));
    CHECK(VerifyJwt(JwtKind::kPresentation, *t, KeyResolver(), co));
  }
  SECTION("a vp+jwt is not a vc+jwt and the reverse") {
    CHECK(ReasonOf(VerifyJwt(JwtKind::kCredential, *jwt, KeyResolver(), co)) == "typ_mismatch");
    auto vc = SignJwt(JwtKind::kCredential, Credential(DidOf(holder)), holder, {});
    REQUIRE(vc);
    CHECK(ReasonOf(VerifyJwt(JwtKind::kPresentation, *vc, KeyResolver(), At(kNow))) ==
          "typ_mismatch");
  }
  SECTION("the holder's key must be an authentication key") {
    auto method = std::make_shared<TestMethod>();
    did::Resolver resolver;
    resolver.Register(method);
    Signer assert_only = MakeSigner(wallet::SignatureAlg::kEdDSA, 0x42, "did:test:pat");
    method->Add("did:test:pat", assert_only, {did::Relationship::kAssertionMethod});
    auto t = SignJwt(JwtKind::kPresentation, Presentation("did:test:pat"), assert_only, so);
    REQUIRE(t);
    CHECK(ReasonOf(VerifyJwt(JwtKind::kPresentation, *t, resolver, co)) == "method_unresolved");
  }
}

TEST_CASE("VerifyJwt refuses with one reason code per failure", "[claims][jose][negative]") {
  Signer issuer = MakeSigner(wallet::SignatureAlg::kEdDSA, 0x51);
  Signer other = MakeSigner(wallet::SignatureAlg::kEdDSA, 0x52);
  Signer k1 = MakeSigner(wallet::SignatureAlg::kES256K, 0x53);
  JwtSignOptions so;
  so.issued_at = kNow;
  so.expires = kNow + 3600;
  const std::string jwt = *SignJwt(JwtKind::kCredential, Credential(DidOf(issuer)), issuer, so);
  const Parts good = Split(jwt);
  const JwtCheckOptions at = At(kNow + 60);
  auto verify = [&](const std::string& t, const JwtCheckOptions& o) {
    return VerifyJwt(JwtKind::kCredential, t, KeyResolver(), o);
  };
  auto reason = [&](const std::string& t) { return ReasonOf(verify(t, at)); };
  auto resigned = [&](const std::function<void(json & h, json & p)>& edit, const Signer* s) {
    json h = good.header, p = good.payload;
    edit(h, p);
    return Token(h, p, s);
  };
  REQUIRE(verify(jwt, at));

  SECTION("alg_not_allowed: none, MACs, others") {
    CHECK(reason(resigned([](json& h, json&) { h["alg"] = "none"; }, nullptr)) ==
          "alg_not_allowed");
    CHECK(reason(resigned([](json& h, json&) { h["alg"] = "none"; }, &issuer)) ==
          "alg_not_allowed");
    CHECK(reason(resigned([](json& h, json&) { h["alg"] = "EdDSA"; }, nullptr)) ==
          "alg_not_allowed");
    // HS256 keyed with the issuer's public key: the classic algorithm-confusion forgery.
    json h = good.header;
    h["alg"] = "HS256";
    std::string input = B64(*jcs::Canonicalize(h)) + "." + B64(*jcs::Canonicalize(good.payload));
    Hash256 mac = HmacSha256(issuer.public_key, AsBytes(input));
    CHECK(reason(input + "." + Base64UrlEncode(mac)) == "alg_not_allowed");
    for (const char* alg : {"HS512", "ES256", "RS256", "PS256", "Ed25519", "eddsa", "ES256K-R"}) {
      INFO(alg);
      CHECK(reason(resigned([&](json& hh, json&) { hh["alg"] = alg; }, &issuer)) ==
            "alg_not_allowed");
    }
    CHECK(reason(resigned([](json& hh, json&) { hh["alg"] = 1; }, &issuer)) == "jwt_malformed");
  }
  SECTION("alg_key_mismatch: ES256K claimed for an Ed25519 key and the reverse") {
    CHECK(reason(resigned([](json& h, json&) { h["alg"] = "ES256K"; }, &k1)) == "alg_key_mismatch");
    auto kt = SignJwt(JwtKind::kCredential, Credential(DidOf(k1)), k1, {});
    REQUIRE(kt);
    Parts kp = Split(*kt);
    kp.header["alg"] = "EdDSA";
    CHECK(reason(Token(kp.header, kp.payload, &issuer)) == "alg_key_mismatch");
  }
  SECTION("typ_mismatch and cty_unsupported") {
    CHECK(reason(resigned([](json& h, json&) { h.erase("typ"); }, &issuer)) == "typ_mismatch");
    CHECK(reason(resigned([](json& h, json&) { h["typ"] = "JWT"; }, &issuer)) == "typ_mismatch");
    CHECK(reason(resigned([](json& h, json&) { h["typ"] = "vc+sd-jwt"; }, &issuer)) ==
          "typ_mismatch");
    CHECK(reason(resigned([](json& h, json&) { h["typ"] = "vc-ld+jwt"; }, &issuer)) ==
          "typ_mismatch");
    CHECK(reason(resigned([](json& h, json&) { h["cty"] = "JWT"; }, &issuer)) == "cty_unsupported");
    CHECK(reason(resigned([](json& h, json&) { h["cty"] = "vp"; }, &issuer)) == "cty_unsupported");
  }
  SECTION("crit_unsupported") {
    CHECK(reason(resigned([](json& h, json&) { h["crit"] = {"exp"}; }, &issuer)) ==
          "crit_unsupported");
    CHECK(reason(resigned([](json& h, json&) { h["b64"] = false; }, &issuer)) ==
          "crit_unsupported");
  }
  SECTION("kid_invalid, kid_not_issuer, method_unresolved") {
    CHECK(reason(resigned([](json& h, json&) { h.erase("kid"); }, &issuer)) == "kid_invalid");
    CHECK(reason(resigned([](json& h, json&) { h["kid"] = 7; }, &issuer)) == "kid_invalid");
    std::string frag = issuer.verification_method.substr(issuer.verification_method.find('#'));
    CHECK(reason(resigned([&](json& h, json&) { h["kid"] = frag; }, &issuer)) == "kid_invalid");
    CHECK(reason(resigned([&](json& h, json&) { h["kid"] = DidOf(issuer); }, &issuer)) ==
          "kid_invalid");
    CHECK(reason(resigned([](json& h, json&) { h["kid"] = "https://issuer.example/keys/1"; },
                          &issuer)) == "kid_invalid");
    // Another DID's key, even a valid signature by it, does not speak for the issuer.
    CHECK(reason(resigned([&](json& h, json&) { h["kid"] = other.verification_method; }, &other)) ==
          "kid_not_issuer");
    CHECK(reason(resigned([&](json& h, json&) { h["kid"] = DidOf(issuer) + "#key-2"; }, &issuer)) ==
          "method_unresolved");
    // An issuer that is not a DID cannot be reached through a DID URL kid.
    CHECK(reason(resigned(
              [](json&, json& p) {
                p["issuer"] = "https://issuer.example";
                p["iss"] = "https://issuer.example";
              },
              &issuer)) == "kid_not_issuer");
  }
  SECTION("iss_mismatch") {
    CHECK(reason(resigned([&](json&, json& p) { p["iss"] = DidOf(other); }, &issuer)) ==
          "iss_mismatch");
    CHECK(reason(resigned([&](json& h, json&) { h["iss"] = DidOf(other); }, &issuer)) ==
          "iss_mismatch");
    CHECK(reason(resigned([](json&, json& p) { p["iss"] = 5; }, &issuer)) == "jwt_malformed");
    // iss may be absent; replicated into the header it must equal the claim.
    CHECK(verify(resigned([](json&, json& p) { p.erase("iss"); }, &issuer), at));
    CHECK(verify(resigned([&](json& h, json&) { h["iss"] = DidOf(issuer); }, &issuer), at));
  }
  SECTION("claim_forbidden and payload_invalid") {
    CHECK(reason(resigned([](json&, json& p) { p["vc"] = json::object(); }, &issuer)) ==
          "claim_forbidden");
    CHECK(reason(resigned([](json&, json& p) { p["vp"] = json::object(); }, &issuer)) ==
          "claim_forbidden");
    CHECK(reason(resigned([](json&, json& p) { p["type"] = "VerifiablePresentation"; }, &issuer)) ==
          "payload_invalid");
    CHECK(reason(resigned(
              [](json&, json& p) { p["@context"] = {"https://www.w3.org/2018/credentials/v1"}; },
              &issuer)) == "payload_invalid");
    CHECK(reason(resigned([](json&, json& p) { p.erase("@context"); }, &issuer)) ==
          "payload_invalid");
    CHECK(reason(resigned([](json&, json& p) { p.erase("issuer"); }, &issuer)) ==
          "payload_invalid");
    CHECK(reason(resigned(
              [](json&, json& p) {
                p["issuer"] = {{"name", "x"}};
              },
              &issuer)) == "payload_invalid");
    CHECK(reason(resigned([](json&, json& p) { p.erase("credentialSubject"); }, &issuer)) ==
          "payload_invalid");
    CHECK(reason(Token(*jcs::Canonicalize(good.header), "[1,2]", &issuer)) == "jwt_malformed");
  }
  SECTION("signature_invalid: tampering and a re-signature with another key") {
    CHECK(
        reason(resigned([](json&, json& p) { p["credentialSubject"]["schedules"].push_back("I"); },
                        &other)) == "signature_invalid");
    // The same payload text with one claim changed, original signature kept.
    json p = good.payload;
    p["credentialSubject"]["licenseNumber"] = "MD-99999";
    std::string tampered = B64(*jcs::Canonicalize(good.header)) + "." + B64(*jcs::Canonicalize(p)) +
                           "." + good.signature;
    CHECK(reason(tampered) == "signature_invalid");
    Bytes sig = *Base64UrlDecode(good.signature);
    sig[5] ^= 0x80;
    CHECK(reason(jwt.substr(0, jwt.rfind('.') + 1) + Base64UrlEncode(sig)) == "signature_invalid");
    CHECK(reason(jwt.substr(0, jwt.rfind('.') + 1) +
                 Base64UrlEncode(Bytes(sig.begin(), sig.begin() + 63))) == "signature_invalid");
  }
  SECTION("jwt_malformed: structure, strict base64url, strict JSON") {
    CHECK(reason("") == "jwt_malformed");
    CHECK(reason("abc") == "jwt_malformed");
    CHECK(reason(jwt.substr(0, jwt.rfind('.'))) == "jwt_malformed");  // two parts
    CHECK(reason(jwt + ".x") == "jwt_malformed");                     // four parts
    CHECK(reason(jwt.substr(0, jwt.size() / 2)) != "");               // truncated anywhere: refused
    CHECK(reason(jwt.substr(0, jwt.rfind('.') + 1)) == "alg_not_allowed");  // empty signature
    CHECK(reason("." + jwt.substr(jwt.find('.') + 1)) == "jwt_malformed");  // empty header
    std::string hb = jwt.substr(0, jwt.find('.'));
    CHECK(reason(hb + "=" + jwt.substr(hb.size())) == "jwt_malformed");  // padding
    std::string std64 = jwt;
    std64[std64.rfind('.') + 2] = '+';
    CHECK(reason(std64) == "jwt_malformed");  // not the url-safe alphabet
    // Duplicate header members (RFC 7515 §5.2 step 4, RFC 7493 §2.3).
    std::string dup = R"({"alg":"none","alg":"EdDSA","kid":")" + issuer.verification_method +
                      R"(","typ":"vc+jwt"})";
    CHECK(reason(Token(dup, *jcs::Canonicalize(good.payload), &issuer)) == "jwt_malformed");
    std::string dup_payload = *jcs::Canonicalize(good.payload);
    dup_payload.insert(1, R"("issuer":"did:example:evil",)");
    CHECK(reason(Token(*jcs::Canonicalize(good.header), dup_payload, &issuer)) == "jwt_malformed");
    CHECK(reason(Token("not json", *jcs::Canonicalize(good.payload), &issuer)) == "jwt_malformed");
    CHECK(reason(Token(*jcs::Canonicalize(good.header), "{\"a\":1} x", &issuer)) ==
          "jwt_malformed");
    CHECK(reason(std::string(kMaxJwtBytes + 1, 'a')) == "jwt_malformed");
  }
  SECTION("jwt_expired, jwt_not_yet_valid, with bounded clock skew") {
    CHECK(verify(jwt, At(kNow + 3600 + 299)));
    auto r = verify(jwt, At(kNow + 3600 + 300));
    CHECK(ReasonOf(r) == "jwt_expired");
    CHECK(r.error().code() == StatusCode::kFailedPrecondition);
    CHECK(verify(jwt, At(kNow - 300)));  // iat 300 s ahead of the verifier's clock
    CHECK(ReasonOf(verify(jwt, At(kNow - 301))) == "jwt_not_yet_valid");
    JwtCheckOptions strict = At(kNow - 1);
    strict.max_clock_skew = 0;
    CHECK(ReasonOf(verify(jwt, strict)) == "jwt_not_yet_valid");
    CHECK(ReasonOf(verify(resigned([](json&, json& p) { p["nbf"] = kNow + 1000; }, &issuer), at)) ==
          "jwt_not_yet_valid");
    CHECK(reason(resigned([](json&, json& p) { p["exp"] = "tomorrow"; }, &issuer)) ==
          "jwt_malformed");
    CHECK(reason(resigned([](json&, json& p) { p["iat"] = -1; }, &issuer)) == "jwt_malformed");
    CHECK(verify(resigned([](json&, json& p) { p["exp"] = kNow + 100.5; }, &issuer), at));
  }
  SECTION("credential_expired and credential_not_yet_valid (validFrom / validUntil)") {
    CHECK(ReasonOf(verify(jwt, At(*ParseDateTimeStamp("2027-01-01T00:05:01Z")))) == "jwt_expired");
    json no_exp_h = good.header;
    json p = good.payload;
    p.erase("exp");
    std::string t = Token(no_exp_h, p, &issuer);
    CHECK(verify(t, At(*ParseDateTimeStamp("2027-01-01T00:04:59Z"))));
    CHECK(ReasonOf(verify(t, At(*ParseDateTimeStamp("2027-01-01T00:05:01Z")))) ==
          "credential_expired");
    p.erase("iat");
    t = Token(no_exp_h, p, &issuer);
    CHECK(ReasonOf(verify(t, At(*ParseDateTimeStamp("2025-12-31T23:54:59Z")))) ==
          "credential_not_yet_valid");
    p["validUntil"] = "next year";
    CHECK(reason(Token(no_exp_h, p, &issuer)) == "payload_invalid");
  }
}

TEST_CASE("SignJwt refuses what it must not sign", "[claims][jose][negative]") {
  Signer issuer = MakeSigner(wallet::SignatureAlg::kEdDSA, 0x61);
  Signer other = MakeSigner(wallet::SignatureAlg::kEdDSA, 0x62);
  CHECK_FALSE(
      SignJwt(JwtKind::kCredential, Credential(DidOf(other)), issuer, {}));  // not the issuer's key
  CHECK_FALSE(SignJwt(JwtKind::kCredential, Credential("https://issuer.example"), issuer, {}));
  json vc = Credential(DidOf(issuer));
  vc["vc"] = json::object();
  CHECK_FALSE(SignJwt(JwtKind::kCredential, vc, issuer, {}));
  vc = Credential(DidOf(issuer));
  vc["exp"] = 5;
  CHECK_FALSE(SignJwt(JwtKind::kCredential, vc, issuer, {}));
  CHECK_FALSE(SignJwt(JwtKind::kCredential, Presentation(DidOf(issuer)), issuer, {}));
  CHECK_FALSE(SignJwt(JwtKind::kPresentation, Presentation(DidOf(other)), issuer, {}));
  CHECK_FALSE(SignJwt(JwtKind::kCredential, json::array(), issuer, {}));
  Signer relative = issuer;
  relative.verification_method = "#key-1";
  CHECK_FALSE(SignJwt(JwtKind::kCredential, Credential(DidOf(issuer)), relative, {}));
}
