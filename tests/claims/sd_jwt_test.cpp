// SD-JWT VC (RFC 9901, draft-ietf-oauth-sd-jwt-vc): the RFC's disclosure vectors, issuance and
// presentation round trips with nested and array claims, and one test per refusal.
#include "medallion/claims/sd_jwt.h"

#include <catch2/catch.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "medallion/claims/data_integrity.h"
#include "medallion/core/encoding.h"
#include "medallion/did/did_key.h"
#include "medallion/wallet/keys.h"
#include "test_util.h"

using namespace medallion;
using namespace medallion::claims;
using nlohmann::json;
namespace rc = medallion::claims::sd_jwt_reason;

namespace {

constexpr int64_t kNow = 1'780'000'000;  // 2026-05-28

// A did:key signer for a fixed private key.
Signer MakeSigner(Alg alg, uint8_t fill) {
  const auto walg =
      alg == Alg::kEdDSA ? wallet::SignatureAlg::kEdDSA : wallet::SignatureAlg::kES256K;
  auto key = std::make_shared<wallet::SigningKey>(*wallet::MakeSigningKey(walg, Bytes(32, fill)));
  const auto type = alg == Alg::kEdDSA ? did::KeyType::kEd25519 : did::KeyType::kSecp256k1;
  Signer s;
  s.alg = alg;
  s.public_key = key->public_key;
  s.verification_method = *did::DidKeyFromPublicKey(type, key->public_key) + "#" +
                          *did::MultikeyFromPublicKey(type, key->public_key);
  s.sign = [key](ByteView m) { return wallet::Sign(*key, m); };
  return s;
}

std::string DidOf(const Signer& s) {
  return s.verification_method.substr(0, s.verification_method.find('#'));
}
HolderKey HolderOf(const Signer& s) { return HolderKey{s.alg, s.public_key}; }

struct Fixture {
  FakeClock clock{kNow * 1000};
  SeededRng rng{7};
  Env env{&clock, &rng};
  did::Resolver resolver;
  Signer issuer = MakeSigner(Alg::kEdDSA, 1);
  Signer holder = MakeSigner(Alg::kEdDSA, 2);
  Signer other = MakeSigner(Alg::kEdDSA, 3);
  Signer issuer_k = MakeSigner(Alg::kES256K, 4);
  Signer holder_k = MakeSigner(Alg::kES256K, 5);

  SdJwtVerifyOptions Options() const {
    SdJwtVerifyOptions o;
    o.expected_audience = "https://pharmacy.example";
    o.expected_nonce = "n-0S6_WzA2Mj";
    return o;
  }
  SdJwtPresentOptions Present(std::vector<std::string> reveal) const {
    SdJwtPresentOptions o;
    o.reveal = std::move(reveal);
    o.audience = "https://pharmacy.example";
    o.nonce = "n-0S6_WzA2Mj";
    return o;
  }
  Result<VerifiedSdJwt> Verify(const std::string& token, SdJwtVerifyOptions o) const {
    return VerifySdJwt(token, resolver, o, clock);
  }
  Result<VerifiedSdJwt> Verify(const std::string& token) const { return Verify(token, Options()); }
};

json LicensePayload() {
  return json{
      {"vct", "https://medallion.example/vct/MedicalLicense"},
      {"given_name", "Ada"},
      {"family_name", "Lovelace"},
      {"license",
       {{"number", "MD-1234"},
        {"jurisdiction", "NY"},
        {"schedules", json::array({"II", "III", "IV"})}}},
      {"address", {{"street_address", "1 Main St"}, {"locality", "Albany"}, {"country", "US"}}},
      {"nationalities", json::array({"US", "DE"})},
      {"exp", kNow + 86400}};
}

const std::vector<std::string> kDisclosable = {"/given_name",
                                               "/family_name",
                                               "/address",
                                               "/address/street_address",
                                               "/nationalities/0",
                                               "/nationalities/1",
                                               "/license/schedules/2"};

std::string ReasonOf(const Status& s) { return std::string(ReasonCode(s)); }
template <typename T>
StatusCode CodeOf(const Result<T>& r) {
  return r.has_value() ? StatusCode::kOk : r.error().code();
}

// Crafting tokens by hand, for the refusals the issuer API will not produce.
std::string B64(const json& j) { return Base64UrlEncode(AsBytes(j.dump())); }
std::string Jws(const json& header, const json& payload, const Signer& s) {
  const std::string input = B64(header) + "." + B64(payload);
  return input + "." + Base64UrlEncode(*s.sign(AsBytes(input)));
}
struct Disc {
  std::string enc, digest;
};
Disc D(const json& array) {
  Disc d;
  d.enc = Base64UrlEncode(AsBytes(array.dump()));
  d.digest = DisclosureDigest(d.enc);
  return d;
}
json Header(const Signer& s) {
  return json{
      {"alg", std::string(AlgName(s.alg))}, {"typ", "dc+sd-jwt"}, {"kid", s.verification_method}};
}
json BasePayload(const Signer& s) {
  return json{{"iss", DidOf(s)}, {"vct", "urn:test"}, {"iat", kNow}};
}

std::vector<std::string> SplitTilde(const std::string& s) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '~') {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}
std::string JoinTilde(const std::vector<std::string>& parts) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? "~" : "") + parts[i];
  return out;
}
json JwtPart(const std::string& jwt, int index) {
  std::string seg = jwt.substr(0, jwt.find('~'));
  size_t a = seg.find('.'), b = seg.find('.', a + 1);
  std::string piece = index == 0 ? seg.substr(0, a) : seg.substr(a + 1, b - a - 1);
  return json::parse(ToString(*Base64UrlDecode(piece)));
}

// secp256k1 group order n, big-endian.
const Bytes kSecpN =
    testing::Hex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
Bytes HighS(Bytes sig) {  // r || (n - s)
  int borrow = 0;
  for (int i = 31; i >= 0; --i) {
    int v = int(kSecpN[i]) - int(sig[32 + i]) - borrow;
    borrow = v < 0;
    sig[32 + i] = static_cast<uint8_t>(v + (borrow ? 256 : 0));
  }
  return sig;
}

}  // namespace

TEST_CASE("RFC 9901 disclosure vectors: digest and decoding", "[claims][sd-jwt][vectors]") {
  auto doc = testing::ReadJsonVector("sd-jwt/disclosures.json");
  REQUIRE(doc["pairs"].size() >= 2);
  for (const auto& v : doc["pairs"]) {
    const std::string enc = v["disclosure"].get<std::string>();
    INFO(enc);
    CHECK(DisclosureDigest(enc) == v["digest_sha256_b64url"].get<std::string>());
    auto d = DecodeDisclosure(enc);
    REQUIRE(d.has_value());
    const json& expected = v["decoded"];
    CHECK(d->salt == expected[0].get<std::string>());
    if (expected.size() == 3) {
      REQUIRE(d->name.has_value());
      CHECK(*d->name == expected[1].get<std::string>());
    } else {
      CHECK_FALSE(d->name.has_value());
    }
    CHECK(json::parse(d->value_json) == expected.back());
  }
}

TEST_CASE("Malformed disclosures are refused", "[claims][sd-jwt]") {
  for (const std::string& bad :
       {B64(json{{"a", 1}}), B64(json::array({"salt"})), B64(json::array({"s", "n", 1, 2})),
        B64(json::array({1, "n", "v"})), B64(json::array({"s", 7, "v"})), std::string("not*base64"),
        Base64UrlEncode(AsBytes(R"(["s","n","v")")),
        Base64UrlEncode(AsBytes(R"(["s",{"a":1,"a":2}])"))}) {
    INFO(bad);
    auto d = DecodeDisclosure(bad);
    REQUIRE_FALSE(d.has_value());
    CHECK(ReasonOf(d.error()) == rc::kDisclosureMalformed);
  }
}

TEST_CASE("Issue, inspect, present and verify with nested and array claims", "[claims][sd-jwt]") {
  Fixture f;
  SdJwtIssueOptions io;
  io.disclosable = kDisclosable;
  io.holder = HolderOf(f.holder);
  io.min_decoys = 1;
  io.max_decoys = 3;
  auto issued = IssueSdJwt(LicensePayload(), f.issuer, io, f.env);
  REQUIRE(issued.has_value());
  const auto parts = SplitTilde(*issued);
  REQUIRE(parts.size() == kDisclosable.size() + 2);  // JWT, 7 disclosures, "" after the final '~'
  CHECK(parts.back().empty());

  // The header and signed payload (SD-JWT VC §3.2.1, RFC 9901 §4.1).
  const json header = JwtPart(*issued, 0), signed_payload = JwtPart(*issued, 1);
  CHECK(header["typ"] == "dc+sd-jwt");
  CHECK(header["alg"] == "EdDSA");
  CHECK(header["kid"] == f.issuer.verification_method);
  CHECK(signed_payload["iss"] == DidOf(f.issuer));
  CHECK(signed_payload["iat"] == kNow);
  CHECK(signed_payload["_sd_alg"] == "sha-256");
  CHECK(signed_payload["cnf"]["jwk"]["kty"] == "OKP");
  CHECK(signed_payload["cnf"]["jwk"]["x"] == Base64UrlEncode(f.holder.public_key));
  CHECK_FALSE(signed_payload.contains("given_name"));
  CHECK_FALSE(signed_payload.contains("address"));
  // given_name + family_name + address, plus 1-3 decoys, sorted.
  const auto top = signed_payload["_sd"].get<std::vector<std::string>>();
  CHECK(top.size() >= 4);
  CHECK(top.size() <= 6);
  CHECK(std::is_sorted(top.begin(), top.end()));
  CHECK(signed_payload["nationalities"].size() >= 3);  // two digests and at least one decoy
  // "II", "III" in clear; "IV" and the decoys as {"...": digest} at random positions (§4.2.5).
  json clear = json::array();
  size_t digests = 0;
  for (const auto& e : signed_payload["license"]["schedules"]) {
    if (e.is_string())
      clear.push_back(e);
    else if (e.is_object() && e.contains("..."))
      ++digests;
  }
  CHECK(clear == json::array({"II", "III"}));
  CHECK(digests >= 2);
  // Salts: 128 bits, base64url (RFC 9901 §9.3).
  for (size_t i = 1; i + 1 < parts.size(); ++i) {
    auto d = DecodeDisclosure(parts[i]);
    REQUIRE(d.has_value());
    CHECK(Base64UrlDecode(d->salt)->size() == 16);
  }

  auto view = InspectSdJwt(*issued);
  REQUIRE(view.has_value());
  auto sorted = kDisclosable;
  std::sort(sorted.begin(), sorted.end());
  CHECK(view->disclosable == sorted);
  json full = json::parse(view->payload_json);
  json expected = LicensePayload();
  expected["iss"] = DidOf(f.issuer);
  expected["iat"] = kNow;
  expected["cnf"] = signed_payload["cnf"];
  CHECK(full == expected);

  SECTION("a subset with key binding") {
    auto presented = PresentSdJwt(
        *issued, f.Present({"/address/street_address", "/nationalities/1"}), &f.holder, f.env);
    REQUIRE(presented.has_value());
    // street_address brings address along; nothing else.
    CHECK(SplitTilde(*presented).size() == 1 + 3 + 1);
    auto v = f.Verify(*presented);
    REQUIRE(v.has_value());
    CHECK(v->key_bound);
    CHECK(v->issuer == DidOf(f.issuer));
    CHECK(v->verification_method == f.issuer.verification_method);
    CHECK(v->vct == "https://medallion.example/vct/MedicalLicense");
    json p = json::parse(v->payload_json);
    CHECK_FALSE(p.contains("given_name"));
    CHECK_FALSE(p.contains("family_name"));
    CHECK_FALSE(p.contains("_sd"));
    CHECK_FALSE(p.contains("_sd_alg"));
    CHECK(p["address"] ==
          json{{"street_address", "1 Main St"}, {"locality", "Albany"}, {"country", "US"}});
    CHECK(p["nationalities"] == json::array({"DE"}));
    CHECK(p["license"]["schedules"] == json::array({"II", "III"}));
    CHECK(v->disclosed ==
          std::vector<std::string>{"/address", "/address/street_address", "/nationalities/0"});
  }
  SECTION("everything") {
    auto presented = PresentSdJwt(*issued, f.Present(kDisclosable), &f.holder, f.env);
    REQUIRE(presented.has_value());
    auto v = f.Verify(*presented);
    REQUIRE(v.has_value());
    CHECK(json::parse(v->payload_json) == expected);
  }
  SECTION("nothing, with key binding") {
    auto presented = PresentSdJwt(*issued, f.Present({}), &f.holder, f.env);
    REQUIRE(presented.has_value());
    auto v = f.Verify(*presented);
    REQUIRE(v.has_value());
    json p = json::parse(v->payload_json);
    CHECK_FALSE(p.contains("address"));
    CHECK(p["nationalities"] == json::array());
    CHECK(p["license"]["number"] == "MD-1234");
  }
  SECTION("a parent without its disclosable children") {
    auto presented = PresentSdJwt(*issued, f.Present({"/address"}), &f.holder, f.env);
    REQUIRE(presented.has_value());
    auto v = f.Verify(*presented);
    REQUIRE(v.has_value());
    CHECK(json::parse(v->payload_json)["address"] ==
          json{{"locality", "Albany"}, {"country", "US"}});
  }
  SECTION("without key binding, when the verifier does not ask for it") {
    auto presented = PresentSdJwt(*issued, f.Present({"/given_name"}), nullptr, f.env);
    REQUIRE(presented.has_value());
    CHECK(presented->back() == '~');
    auto o = f.Options();
    o.require_key_binding = false;
    REQUIRE(f.Verify(*presented, o).has_value());
    auto refused = f.Verify(*presented);
    REQUIRE_FALSE(refused.has_value());
    CHECK(ReasonOf(refused.error()) == rc::kKbMissing);
  }
}

TEST_CASE("ES256K issuer and holder, and a high-S issuer signature", "[claims][sd-jwt][es256k]") {
  Fixture f;
  SdJwtIssueOptions io;
  io.disclosable = {"/given_name", "/nationalities/0"};
  io.holder = HolderOf(f.holder_k);
  auto issued = IssueSdJwt(LicensePayload(), f.issuer_k, io, f.env);
  REQUIRE(issued.has_value());
  const json jwk = JwtPart(*issued, 1)["cnf"]["jwk"];
  CHECK(jwk["kty"] == "EC");
  CHECK(jwk["crv"] == "secp256k1");
  auto back = HolderKeyFromJwk(jwk);
  REQUIRE(back.has_value());
  CHECK(back->public_key == f.holder_k.public_key);

  auto presented = PresentSdJwt(*issued, f.Present({"/given_name"}), &f.holder_k, f.env);
  REQUIRE(presented.has_value());
  auto v = f.Verify(*presented);
  REQUIRE(v.has_value());
  CHECK(json::parse(v->payload_json)["given_name"] == "Ada");

  // The same signature with s replaced by n - s (as non-normalizing signers produce) verifies.
  std::string jwt = presented->substr(0, presented->find('~'));
  const size_t dot = jwt.rfind('.');
  Bytes sig = *Base64UrlDecode(jwt.substr(dot + 1));
  const std::string high = jwt.substr(0, dot + 1) + Base64UrlEncode(HighS(sig));
  REQUIRE(high != jwt);
  // The KB-JWT's sd_hash covers the issuer JWT, so present again over the altered JWT.
  auto re = PresentSdJwt(high + presented->substr(presented->find('~'),
                                                  presented->rfind('~') - presented->find('~') + 1),
                         f.Present({"/given_name"}), &f.holder_k, f.env);
  REQUIRE(re.has_value());
  CHECK(f.Verify(*re).has_value());
}

TEST_CASE("Issuance refusals", "[claims][sd-jwt]") {
  Fixture f;
  auto issue = [&](json payload, std::vector<std::string> disclosable, bool holder = false) {
    SdJwtIssueOptions io;
    io.disclosable = std::move(disclosable);
    if (holder) io.holder = HolderOf(f.holder);
    return IssueSdJwt(payload, f.issuer, io, f.env);
  };
  CHECK(issue(LicensePayload(), {"/given_name"}).has_value());
  CHECK_FALSE(issue(json::array(), {}).has_value());
  CHECK_FALSE(issue(LicensePayload(), {"/nope"}).has_value());
  CHECK_FALSE(issue(LicensePayload(), {"/nationalities/2"}).has_value());
  CHECK_FALSE(issue(LicensePayload(), {"/nationalities/01"}).has_value());
  CHECK_FALSE(issue(LicensePayload(), {""}).has_value());
  CHECK_FALSE(issue(LicensePayload(), {"given_name"}).has_value());
  for (const char* reserved : {"/exp", "/vct", "/iss", "/cnf"})
    CHECK_FALSE(issue(LicensePayload(), {reserved}, true).has_value());
  json p = LicensePayload();
  p["address"]["_sd"] = json::array();
  CHECK_FALSE(issue(p, {}).has_value());
  p = LicensePayload();
  p["nationalities"].push_back(json{{"...", "x"}});
  CHECK_FALSE(issue(p, {}).has_value());
  p = LicensePayload();
  p["_sd_alg"] = "sha-256";
  CHECK_FALSE(issue(p, {}).has_value());
  p = LicensePayload();
  p.erase("vct");
  CHECK_FALSE(issue(p, {}).has_value());
  p = LicensePayload();
  p["iss"] = "did:example:someone-else";
  CHECK_FALSE(issue(p, {}).has_value());
  p = LicensePayload();
  p["cnf"] = json{{"jwk", {{"kty", "OKP"}}}};
  CHECK_FALSE(issue(p, {}, true).has_value());
  SdJwtIssueOptions io;
  io.min_decoys = 3;
  io.max_decoys = 2;
  CHECK_FALSE(IssueSdJwt(LicensePayload(), f.issuer, io, f.env).has_value());
}

TEST_CASE("Presentation refusals", "[claims][sd-jwt]") {
  Fixture f;
  SdJwtIssueOptions io;
  io.disclosable = kDisclosable;
  io.holder = HolderOf(f.holder);
  const std::string issued = *IssueSdJwt(LicensePayload(), f.issuer, io, f.env);
  auto refuse = [&](const SdJwtPresentOptions& o, const Signer* s) {
    return PresentSdJwt(issued, o, s, f.env);
  };
  CHECK(CodeOf(refuse(f.Present({"/nope"}), &f.holder)) == StatusCode::kInvalidArgument);
  CHECK(CodeOf(refuse(f.Present({"/nationalities/2"}), &f.holder)) == StatusCode::kInvalidArgument);
  CHECK(CodeOf(refuse(f.Present({"/given_name"}), &f.other)) == StatusCode::kFailedPrecondition);
  auto no_nonce = f.Present({"/given_name"});
  no_nonce.nonce.clear();
  CHECK(CodeOf(refuse(no_nonce, &f.holder)) == StatusCode::kInvalidArgument);
  // Already bound.
  const std::string bound = *PresentSdJwt(issued, f.Present({}), &f.holder, f.env);
  CHECK_FALSE(PresentSdJwt(bound, f.Present({}), &f.holder, f.env).has_value());
  // No cnf: nothing to bind to.
  SdJwtIssueOptions unbound;
  const std::string plain = *IssueSdJwt(LicensePayload(), f.issuer, unbound, f.env);
  CHECK(CodeOf(PresentSdJwt(plain, f.Present({}), &f.holder, f.env)) ==
        StatusCode::kFailedPrecondition);
}

TEST_CASE("Verification refusals: issuer JWT", "[claims][sd-jwt]") {
  Fixture f;
  SdJwtVerifyOptions loose = f.Options();
  loose.require_key_binding = false;
  auto expect = [&](const std::string& token, std::string_view reason) {
    INFO(token.substr(0, 120));
    auto v = f.Verify(token, loose);
    REQUIRE_FALSE(v.has_value());
    CHECK(ReasonOf(v.error()) == reason);
  };
  const json h = Header(f.issuer), p = BasePayload(f.issuer);
  REQUIRE(f.Verify(Jws(h, p, f.issuer) + "~", loose).has_value());

  SECTION("syntax") {
    const std::string good = Jws(h, p, f.issuer);
    expect(good, rc::kMalformed);                                    // no '~'
    expect(good.substr(0, good.size() - 10) + "~", rc::kMalformed);  // truncated signature
    expect(good.substr(0, good.rfind('.')) + "~", rc::kMalformed);   // two parts
    expect(good + "~~", rc::kMalformed);                             // an empty disclosure
    expect("~", rc::kMalformed);
    expect(good + "." + "~", rc::kMalformed);
    expect(std::string(kMaxSdJwtBytes + 1, 'a'), rc::kMalformed);
    const std::string bad_json = Base64UrlEncode(AsBytes(R"({"alg":"EdDSA","alg":"EdDSA"})")) +
                                 "." + B64(p) + "." + Base64UrlEncode(Bytes(64, 1));
    expect(bad_json + "~", rc::kMalformed);  // duplicate header member
  }
  SECTION("algorithms and typ") {
    for (const char* alg : {"none", "HS256", "ES256", "RS256", "eddsa"}) {
      json bad = h;
      bad["alg"] = alg;
      expect(Jws(bad, p, f.issuer) + "~", rc::kAlgUnsupported);
    }
    json bad = h;
    bad["alg"] = "ES256K";  // an Ed25519 key
    expect(Jws(bad, p, f.issuer) + "~", rc::kAlgMismatch);
    bad = h;
    bad["typ"] = "vc+sd-jwt";
    expect(Jws(bad, p, f.issuer) + "~", rc::kTypInvalid);
    bad.erase("typ");
    expect(Jws(bad, p, f.issuer) + "~", rc::kTypInvalid);
    bad = h;
    bad["crit"] = json::array({"exp"});
    expect(Jws(bad, p, f.issuer) + "~", rc::kMalformed);
  }
  SECTION("issuer key") {
    json bad = h;
    bad["kid"] = "did:key:z6MkInvalid#z6MkInvalid";
    expect(Jws(bad, p, f.issuer) + "~", rc::kIssuerMismatch);
    json q = p;
    q["iss"] = "did:key:z6MkInvalid";
    bad["kid"] = "did:key:z6MkInvalid#z6MkInvalid";
    expect(Jws(bad, q, f.issuer) + "~", rc::kIssuerUnresolved);
    bad = h;
    bad.erase("kid");
    expect(Jws(bad, p, f.issuer) + "~", rc::kMalformed);
    // A relative kid resolves against iss.
    bad = h;
    bad["kid"] = f.issuer.verification_method.substr(f.issuer.verification_method.find('#'));
    CHECK(f.Verify(Jws(bad, p, f.issuer) + "~", loose).has_value());
    // Re-signed by another key, keeping the issuer's kid.
    expect(Jws(h, p, f.other) + "~", rc::kSignatureInvalid);
    // Re-signed by another key under its own kid: not the iss DID.
    expect(Jws(Header(f.other), p, f.other) + "~", rc::kIssuerMismatch);
    // A changed field under the original signature.
    const std::string good = Jws(h, p, f.issuer);
    json q2 = p;
    q2["vct"] = "urn:other";
    const std::string tampered =
        good.substr(0, good.find('.') + 1) + B64(q2) + good.substr(good.rfind('.'));
    expect(tampered + "~", rc::kSignatureInvalid);
    json no_iss = p;
    no_iss.erase("iss");
    expect(Jws(h, no_iss, f.issuer) + "~", rc::kMalformed);
  }
  SECTION("validity and vct") {
    json q = p;
    q["exp"] = kNow - 61;
    expect(Jws(h, q, f.issuer) + "~", rc::kExpired);
    q["exp"] = kNow - 30;  // within the skew
    CHECK(f.Verify(Jws(h, q, f.issuer) + "~", loose).has_value());
    q = p;
    q["nbf"] = kNow + 120;
    expect(Jws(h, q, f.issuer) + "~", rc::kNotYetValid);
    q = p;
    q["iat"] = kNow + 120;
    expect(Jws(h, q, f.issuer) + "~", rc::kNotYetValid);
    q = p;
    q["exp"] = "tomorrow";
    expect(Jws(h, q, f.issuer) + "~", rc::kMalformed);
    q = p;
    q.erase("vct");
    expect(Jws(h, q, f.issuer) + "~", rc::kMalformed);
    auto o = loose;
    o.expected_vct = "urn:other";
    auto v = f.Verify(Jws(h, p, f.issuer) + "~", o);
    REQUIRE_FALSE(v.has_value());
    CHECK(ReasonOf(v.error()) == rc::kVctMismatch);
  }
  SECTION("options") {
    auto o = f.Options();
    o.expected_nonce.clear();
    auto v = f.Verify(Jws(h, p, f.issuer) + "~", o);
    REQUIRE_FALSE(v.has_value());
    CHECK(v.error().code() == StatusCode::kInvalidArgument);
  }
}

TEST_CASE("Verification refusals: disclosures", "[claims][sd-jwt]") {
  Fixture f;
  SdJwtVerifyOptions loose = f.Options();
  loose.require_key_binding = false;
  const json h = Header(f.issuer);
  auto token = [&](const json& payload, const std::vector<Disc>& ds) {
    std::string out = Jws(h, payload, f.issuer) + "~";
    for (const auto& d : ds) out += d.enc + "~";
    return out;
  };
  auto expect = [&](const std::string& t, std::string_view reason) {
    auto v = f.Verify(t, loose);
    REQUIRE_FALSE(v.has_value());
    CHECK(ReasonOf(v.error()) == reason);
  };
  const Disc name = D(json::array({"c2FsdHNhbHRzYWx0c2FsdA", "given_name", "Ada"}));
  const Disc element = D(json::array({"c2FsdHNhbHRzYWx0c2FsdB", "DE"}));
  json p = BasePayload(f.issuer);
  p["_sd"] = json::array({name.digest});
  p["nationalities"] = json::array({json{{"...", element.digest}}, "US"});
  REQUIRE(f.Verify(token(p, {name, element}), loose).has_value());
  CHECK(json::parse(f.Verify(token(p, {name, element}), loose)->payload_json)["nationalities"] ==
        json::array({"DE", "US"}));

  SECTION("duplicate disclosure") {
    expect(token(p, {name, element, name}), rc::kDisclosureDuplicate);
  }
  SECTION("unreferenced or swapped disclosure") {
    const Disc swapped = D(json::array({"c2FsdHNhbHRzYWx0c2FsdA", "given_name", "Eve"}));
    expect(token(p, {swapped}), rc::kDisclosureUnreferenced);
    expect(token(p, {name, D(json::array({"eHh4eHh4eHh4eHh4eHh4eA", "extra", 1}))}),
           rc::kDisclosureUnreferenced);
  }
  SECTION("digest twice in one _sd, in two places, or via a disclosure") {
    json q = p;
    q["_sd"] = json::array({name.digest, name.digest});
    expect(token(q, {name}), rc::kDigestDuplicate);
    expect(token(q, {}), rc::kDigestDuplicate);  // even undisclosed
    q = p;
    q["nationalities"].push_back(json{{"...", element.digest}});
    expect(token(q, {element}), rc::kDigestDuplicate);
    // A disclosed object whose value repeats a digest already in the payload.
    const Disc nested = D(json::array(
        {"bmVzdG5lc3RuZXN0bmVzdA", "address", json{{"_sd", json::array({name.digest})}}}));
    q = p;
    q["_sd"] = json::array({name.digest, nested.digest});
    expect(token(q, {name, nested}), rc::kDigestDuplicate);
  }
  SECTION("reserved claim names") {
    for (const char* reserved : {"_sd", "...", "_sd_alg"}) {
      const Disc bad = D(json::array({"cmVzZXJ2ZWRyZXNlcnZlZA", reserved, "x"}));
      json q = p;
      q["_sd"] = json::array({name.digest, bad.digest});
      expect(token(q, {name, bad}), rc::kClaimNameReserved);
    }
  }
  SECTION("claim name collisions") {
    json q = p;
    q["given_name"] = "Bob";
    expect(token(q, {name}), rc::kClaimNameCollision);
    const Disc again = D(json::array({"YWdhaW5hZ2FpbmFnYWluYQ", "given_name", "Eve"}));
    q = p;
    q["_sd"] = json::array({name.digest, again.digest});
    expect(token(q, {name, again}), rc::kClaimNameCollision);
  }
  SECTION("disclosure kind does not fit its place") {
    json q = p;
    q["_sd"] = json::array({name.digest, element.digest});
    expect(token(q, {name, element}), rc::kDisclosureMalformed);
    q = p;
    q["nationalities"].push_back(json{{"...", name.digest}});
    q["_sd"] = json::array();
    expect(token(q, {name, element}), rc::kDisclosureMalformed);
  }
  SECTION("malformed structures") {
    json q = p;
    q["_sd"] = name.digest;
    expect(token(q, {}), rc::kMalformed);
    q = p;
    q["_sd"] = json::array({5});
    expect(token(q, {}), rc::kMalformed);
    q = p;
    q["nationalities"] = json::array({json{{"...", 5}}});
    expect(token(q, {}), rc::kMalformed);
    expect(token(p, {name, element}) + "bm90LWEtZGlzY2xvc3VyZQ~", rc::kDisclosureMalformed);
    expect(token(p, {name, element}) + "bm90LWEtand0",
           rc::kKbMalformed);  // a KB-JWT that is not a JWS
  }
  SECTION("_sd_alg") {
    json q = p;
    q["_sd_alg"] = "sha-512";
    expect(token(q, {name, element}), rc::kSdAlgUnsupported);
    q["_sd_alg"] = "sha-256";
    CHECK(f.Verify(token(q, {name, element}), loose).has_value());
  }
  SECTION("non-disclosable claims") {
    for (const char* claim : {"exp", "cnf", "iss", "vct", "status", "nbf"}) {
      const Disc bad = D(json::array({"bm9uZGlzY2xvc2FibGVhYQ", claim, 1}));
      json q = p;
      if (std::string(claim) == "iss" || std::string(claim) == "vct") q.erase(claim);
      q["_sd"] = json::array({name.digest, bad.digest});
      auto v = f.Verify(token(q, {name, bad}), loose);
      REQUIRE_FALSE(v.has_value());
      // iss and vct are missing from the signed payload, which is refused first.
      CHECK((ReasonOf(v.error()) == rc::kClaimNotDisclosable ||
             ReasonOf(v.error()) == rc::kMalformed));
    }
    const Disc exp = D(json::array({"bm9uZGlzY2xvc2FibGViYg", "exp", kNow + 100}));
    json q = p;
    q["_sd"] = json::array({name.digest, exp.digest});
    expect(token(q, {name, exp}), rc::kClaimNotDisclosable);
    // Nested, the same names are ordinary claims.
    const Disc nested_exp = D(json::array({"bm9uZGlzY2xvc2FibGVjYw", "exp", 5}));
    q = p;
    q["license"] = json{{"_sd", json::array({nested_exp.digest})}};
    CHECK(f.Verify(token(q, {name, element, nested_exp}), loose).has_value());
  }
}

TEST_CASE("Verification refusals: key binding", "[claims][sd-jwt][kb]") {
  Fixture f;
  SdJwtIssueOptions io;
  io.disclosable = kDisclosable;
  io.holder = HolderOf(f.holder);
  const std::string issued = *IssueSdJwt(LicensePayload(), f.issuer, io, f.env);
  const std::string presented =
      *PresentSdJwt(issued, f.Present({"/given_name", "/family_name"}), &f.holder, f.env);
  REQUIRE(f.Verify(presented).has_value());
  auto expect = [&](const std::string& t, std::string_view reason, SdJwtVerifyOptions o) {
    auto v = f.Verify(t, o);
    REQUIRE_FALSE(v.has_value());
    CHECK(ReasonOf(v.error()) == reason);
  };
  const std::string sd = presented.substr(0, presented.rfind('~') + 1);
  const std::string kb = presented.substr(presented.rfind('~') + 1);
  auto kb_token = [&](const json& header, const json& payload, const Signer& s) {
    return sd + Jws(header, payload, s);
  };
  const json kb_header = {{"alg", "EdDSA"}, {"typ", "kb+jwt"}};
  const json kb_payload = {{"iat", kNow},
                           {"aud", "https://pharmacy.example"},
                           {"nonce", "n-0S6_WzA2Mj"},
                           {"sd_hash", DisclosureDigest(sd)}};
  REQUIRE(f.Verify(kb_token(kb_header, kb_payload, f.holder)).has_value());

  SECTION("sd_hash: a disclosure removed, added or reordered after binding") {
    auto parts = SplitTilde(presented);
    auto fewer = parts;
    fewer.erase(fewer.begin() + 1);
    expect(JoinTilde(fewer), rc::kSdHashMismatch, f.Options());
    auto swapped = parts;
    std::swap(swapped[1], swapped[2]);
    expect(JoinTilde(swapped), rc::kSdHashMismatch, f.Options());
    const auto all = SplitTilde(issued);
    auto more = parts;
    for (size_t i = 1; i + 1 < all.size(); ++i) {
      if (std::find(parts.begin(), parts.end(), all[i]) == parts.end()) {
        auto d = DecodeDisclosure(all[i]);
        if (d->name && *d->name == "address") {
          more.insert(more.end() - 1, all[i]);
          break;
        }
      }
    }
    REQUIRE(more.size() == parts.size() + 1);
    expect(JoinTilde(more), rc::kSdHashMismatch, f.Options());
    json q = kb_payload;
    q["sd_hash"] = DisclosureDigest(sd + "x");
    expect(kb_token(kb_header, q, f.holder), rc::kSdHashMismatch, f.Options());
  }
  SECTION("nonce and audience") {
    auto o = f.Options();
    o.expected_nonce = "another";
    expect(presented, rc::kNonceMismatch, o);
    o = f.Options();
    o.expected_audience = "https://elsewhere.example";
    expect(presented, rc::kAudienceMismatch, o);
    json q = kb_payload;
    q["aud"] = json::array({"https://a.example", "https://pharmacy.example"});
    CHECK(f.Verify(kb_token(kb_header, q, f.holder)).has_value());
  }
  SECTION("freshness") {
    f.clock.Advance(301'000);
    CHECK(f.Verify(presented).has_value());  // 301 s old: within max age + skew
    f.clock.Advance(60'000);
    expect(presented, rc::kKbStale, f.Options());
    f.clock.Set(kNow * 1000);
    json q = kb_payload;
    q["iat"] = kNow + 61;
    expect(kb_token(kb_header, q, f.holder), rc::kKbInFuture, f.Options());
    q["iat"] = kNow + 59;
    CHECK(f.Verify(kb_token(kb_header, q, f.holder)).has_value());
  }
  SECTION("signature, typ, alg and structure") {
    expect(kb_token(kb_header, kb_payload, f.other), rc::kKbSignatureInvalid, f.Options());
    json bad = kb_header;
    bad["typ"] = "JWT";
    expect(kb_token(bad, kb_payload, f.holder), rc::kKbMalformed, f.Options());
    bad = kb_header;
    bad["alg"] = "none";
    expect(kb_token(bad, kb_payload, f.holder), rc::kAlgUnsupported, f.Options());
    bad = kb_header;
    bad["alg"] = "ES256K";
    expect(kb_token(bad, kb_payload, f.holder_k), rc::kAlgMismatch, f.Options());
    for (const char* missing : {"iat", "aud", "nonce", "sd_hash"}) {
      json q = kb_payload;
      q.erase(missing);
      expect(kb_token(kb_header, q, f.holder), rc::kKbMalformed, f.Options());
    }
    expect(sd + kb.substr(0, kb.size() - 5), rc::kKbMalformed, f.Options());
    expect(presented + "~", rc::kDisclosureMalformed,
           f.Options());  // the KB-JWT read as a disclosure
  }
  SECTION("no cnf in the SD-JWT") {
    const std::string plain = *IssueSdJwt(LicensePayload(), f.issuer, SdJwtIssueOptions{}, f.env);
    const std::string plain_sd = plain;
    json q = kb_payload;
    q["sd_hash"] = DisclosureDigest(plain_sd);
    expect(plain_sd + Jws(kb_header, q, f.holder), rc::kCnfMissing, f.Options());
    expect(plain_sd, rc::kKbMissing, f.Options());
  }
  SECTION("a KB-JWT is checked even when not required") {
    auto o = f.Options();
    o.require_key_binding = false;
    expect(kb_token(kb_header, kb_payload, f.other), rc::kKbSignatureInvalid, o);
  }
}
