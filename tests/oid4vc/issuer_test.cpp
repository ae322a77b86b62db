// OpenID4VCI 1.0 issuer (oid4vc/issuer.h): the pre-authorized code flow end to end, and each
// refusal with the spec's error code (§6.3, §8.3.1.2, RFC 6750 §3.1).
#include "medallion/oid4vc/issuer.h"

#include <openssl/ecdsa.h>
#include <sqlite3.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <future>
#include <optional>
#include <thread>
#include <nlohmann/json.hpp>

#include "medallion/claims/credentials.h"
#include "medallion/claims/pharmacy.h"
#include "medallion/claims/sd_jwt.h"
#include "medallion/core/encoding.h"
#include "medallion/did/did_key.h"
#include "medallion/did/resolver.h"
#include "medallion/wallet/keys.h"

using namespace medallion;
using namespace medallion::oid4vc;
using nlohmann::json;

namespace {

constexpr int64_t kNow = 1'780'000'000;
constexpr const char* kIssuerId = "https://society.example";

std::shared_ptr<wallet::SigningKey> Key(uint8_t fill) {
  return std::make_shared<wallet::SigningKey>(
      *wallet::MakeSigningKey(wallet::SignatureAlg::kEdDSA, Bytes(32, fill)));
}

std::string B64(const json& j) { return Base64UrlEncode(AsBytes(j.dump())); }

json Jwk(const wallet::SigningKey& k) {
  return {{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", Base64UrlEncode(k.public_key)}};
}

// A jwt key proof (Appendix F.1) signed by `signer` with `header` and `payload`.
std::string Proof(const wallet::SigningKey& signer, const json& header, const json& payload) {
  const std::string input = B64(header) + "." + B64(payload);
  Bytes sig = *wallet::Sign(signer, AsBytes(input));
  return input + "." + Base64UrlEncode(sig);
}

// An ES256 proof by a fresh P-256 key (OpenSSL), the key in the header as a JWK.
std::string Es256Proof(const json& payload, json* jwk_out) {
  EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  REQUIRE(pkey != nullptr);
  BIGNUM *x = nullptr, *y = nullptr;
  REQUIRE(EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x) == 1);
  REQUIRE(EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y) == 1);
  Bytes xb(32), yb(32);
  BN_bn2binpad(x, xb.data(), 32);
  BN_bn2binpad(y, yb.data(), 32);
  BN_free(x);
  BN_free(y);
  json jwk = {
      {"kty", "EC"}, {"crv", "P-256"}, {"x", Base64UrlEncode(xb)}, {"y", Base64UrlEncode(yb)}};
  *jwk_out = jwk;
  const std::string input =
      B64({{"typ", "openid4vci-proof+jwt"}, {"alg", "ES256"}, {"jwk", jwk}}) + "." + B64(payload);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  REQUIRE(EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, pkey) == 1);
  size_t len = 0;
  REQUIRE(EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const uint8_t*>(input.data()),
                         input.size()) == 1);
  Bytes der(len);
  REQUIRE(EVP_DigestSign(ctx, der.data(), &len, reinterpret_cast<const uint8_t*>(input.data()),
                         input.size()) == 1);
  der.resize(len);
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(pkey);
  const uint8_t* p = der.data();
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  REQUIRE(sig != nullptr);
  Bytes raw(64);
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw.data(), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw.data() + 32, 32);
  ECDSA_SIG_free(sig);
  return input + "." + Base64UrlEncode(raw);
}

struct Fixture {
  FakeClock clock{kNow * 1000};
  SeededRng rng{19};
  Env env{&clock, &rng};
  std::filesystem::path dir;
  std::shared_ptr<wallet::SigningKey> issuer_key = Key(1);
  std::shared_ptr<wallet::SigningKey> holder = Key(2);
  std::shared_ptr<wallet::SigningKey> other = Key(3);
  std::unique_ptr<Issuer> issuer;

  Fixture() {
    static int n = 0;
    dir = std::filesystem::temp_directory_path() /
          ("medallion-oid4vci-" + std::to_string(::getpid()) + "-" + std::to_string(++n));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    IssuerOptions o;
    o.credential_issuer = kIssuerId;
    const std::string did =
        *did::DidKeyFromPublicKey(did::KeyType::kEd25519, issuer_key->public_key);
    o.signer = claims::WalletSigner(
        issuer_key,
        did + "#" + *did::MultikeyFromPublicKey(did::KeyType::kEd25519, issuer_key->public_key));
    issuer = std::move(*Issuer::Open((dir / "oid4vci.db").string(), o, env));
  }
  ~Fixture() {
    issuer.reset();
    std::filesystem::remove_all(dir);
  }

  Offer NewOffer(bool tx = true) {
    OfferRequest r;
    r.claims_json = json{
        {"sub", "did:example:physician"},
        {"license_number", "MA-MD-1"},
        {"name", "Dr. Rivera"},
        {"schedules",
         {"II", "III"}}}.dump();
    r.disclosable = {"/name", "/schedules"};
    r.tx_code = tx;
    auto o = issuer->CreateOffer(r);
    REQUIRE(o.has_value());
    return *o;
  }
  static std::string Code(const Offer& o) {
    return json::parse(
        o.offer_json)["grants"][std::string(kPreAuthorizedGrant)]["pre-authorized_code"];
  }
  Result<std::string> Token(const Offer& o, std::optional<std::string> tx) {
    std::map<std::string, std::string> form = {{"grant_type", std::string(kPreAuthorizedGrant)},
                                               {"pre-authorized_code", Code(o)}};
    if (tx) form["tx_code"] = *tx;
    return issuer->Token(form);
  }
  std::string AccessToken() {
    Offer o = NewOffer();
    auto t = Token(o, o.tx_code);
    REQUIRE(t.has_value());
    return json::parse(*t)["access_token"];
  }
  std::string CNonce(const std::string& token = "") {
    auto n = issuer->Nonce(token);
    REQUIRE(n.has_value());
    return json::parse(*n)["c_nonce"];
  }
  json Payload(const std::string& nonce) {
    return {{"aud", kIssuerId}, {"iat", kNow}, {"nonce", nonce}};
  }
  json Header(const wallet::SigningKey& k) {
    return {{"typ", "openid4vci-proof+jwt"}, {"alg", "EdDSA"}, {"jwk", Jwk(k)}};
  }
  Result<std::string> Request(const std::string& token, const std::string& proof) {
    json body = {{"credential_configuration_id", std::string(kLicenseSdJwtConfiguration)},
                 {"proofs", {{"jwt", {proof}}}}};
    return issuer->Credential(token, body.dump());
  }
};

void RequireRefused(const Result<std::string>& r, std::string_view reason) {
  REQUIRE_FALSE(r.has_value());
  CHECK(r.status().reason() == reason);
}

}  // namespace

TEST_CASE("oid4vci: metadata names the endpoints and the license configuration") {
  Fixture f;
  json m = json::parse(f.issuer->CredentialIssuerMetadata());
  CHECK(m["credential_issuer"] == kIssuerId);
  CHECK(m["credential_endpoint"] == "https://society.example/oid4vci/credential");
  CHECK(m["nonce_endpoint"] == "https://society.example/oid4vci/nonce");
  json c = m["credential_configurations_supported"][std::string(kLicenseSdJwtConfiguration)];
  CHECK(c["format"] == "dc+sd-jwt");
  CHECK(c["vct"] == std::string(kLicenseVct));
  CHECK(c["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"] ==
        json({"ES256", "EdDSA"}));
  json as = json::parse(f.issuer->AuthorizationServerMetadata());
  CHECK(as["token_endpoint"] == "https://society.example/oid4vci/token");
  CHECK(as["pre-authorized_grant_anonymous_access_supported"] == true);
}

TEST_CASE("oid4vci: offer URI by value and by reference") {
  Fixture f;
  Offer o = f.NewOffer();
  CHECK(o.uri.starts_with("openid-credential-offer://?credential_offer=%7B%22"));
  CHECK(o.uri_by_reference ==
        "openid-credential-offer://"
        "?credential_offer_uri=https%3A%2F%2Fsociety.example%2Foid4vci%2Foffers%2F" +
            o.id);
  CHECK(o.tx_code.size() == 6);
  json offer = json::parse(o.offer_json);
  CHECK(offer["credential_configuration_ids"] == json({std::string(kLicenseSdJwtConfiguration)}));
  CHECK(offer["grants"][std::string(kPreAuthorizedGrant)]["tx_code"]["length"] == 6);
  auto by_ref = f.issuer->OfferObject(o.id);
  REQUIRE(by_ref.has_value());
  CHECK(*by_ref == o.offer_json);
  CHECK(f.issuer->OfferObject("nope").status().code() == StatusCode::kNotFound);
}

TEST_CASE("oid4vci: the pre-authorized flow issues an SD-JWT VC bound to the proof key") {
  Fixture f;
  const std::string token = f.AccessToken();
  const std::string nonce = f.CNonce();
  auto r = f.Request(token, Proof(*f.holder, f.Header(*f.holder), f.Payload(nonce)));
  REQUIRE(r.has_value());
  const std::string sd = json::parse(*r)["credentials"][0]["credential"];
  did::Resolver resolver;
  claims::SdJwtVerifyOptions vo;
  vo.require_key_binding = false;
  vo.expected_vct = std::string(kLicenseVct);
  auto v = claims::VerifySdJwt(sd, resolver, vo, f.clock);
  REQUIRE(v.has_value());
  json p = json::parse(v->payload_json);
  CHECK(p["license_number"] == "MA-MD-1");
  CHECK(p["name"] == "Dr. Rivera");
  CHECK(p["cnf"]["jwk"] == Jwk(*f.holder));
  CHECK(v->disclosed.size() >= 2);
  // The token is spent with its credential.
  RequireRefused(f.Request(token, Proof(*f.holder, f.Header(*f.holder), f.Payload(f.CNonce()))),
                 error::kInvalidToken);
}

TEST_CASE("oid4vci: an ES256 proof binds a P-256 key; did:key and did:jwk kids are accepted") {
  Fixture f;
  json jwk;
  auto r = f.Request(f.AccessToken(), Es256Proof(f.Payload(f.CNonce()), &jwk));
  REQUIRE(r.has_value());
  auto view =
      claims::InspectSdJwt(json::parse(*r)["credentials"][0]["credential"].get<std::string>());
  REQUIRE(view.has_value());
  CHECK(json::parse(view->payload_json)["cnf"]["jwk"] == jwk);

  const std::string mb = *did::MultikeyFromPublicKey(did::KeyType::kEd25519, f.holder->public_key);
  json h = {{"typ", "openid4vci-proof+jwt"}, {"alg", "EdDSA"}, {"kid", "did:key:" + mb + "#" + mb}};
  CHECK(f.Request(f.AccessToken(), Proof(*f.holder, h, f.Payload(f.CNonce()))).has_value());
  h["kid"] = "did:jwk:" + B64(Jwk(*f.holder)) + "#0";
  CHECK(f.Request(f.AccessToken(), Proof(*f.holder, h, f.Payload(f.CNonce()))).has_value());
  // A kid naming another key than the one that signed.
  const std::string omb = *did::MultikeyFromPublicKey(did::KeyType::kEd25519, f.other->public_key);
  h["kid"] = "did:key:" + omb + "#" + omb;
  RequireRefused(f.Request(f.AccessToken(), Proof(*f.holder, h, f.Payload(f.CNonce()))),
                 error::kInvalidProof);
}

TEST_CASE("oid4vci: token endpoint refusals (§6.3)") {
  Fixture f;
  Offer o = f.NewOffer();
  RequireRefused(f.issuer->Token({{"grant_type", "client_credentials"}, {"code", "x"}}),
                 error::kUnsupportedGrantType);
  RequireRefused(f.issuer->Token({{"grant_type", std::string(kPreAuthorizedGrant)}}),
                 error::kInvalidRequest);
  RequireRefused(f.Token(o, std::nullopt), error::kInvalidRequest);  // tx_code required
  RequireRefused(f.Token(o, o.tx_code == "000000" ? "111111" : "000000"), error::kInvalidGrant);
  REQUIRE(f.Token(o, o.tx_code).has_value());
  // Single use: the same code again.
  RequireRefused(f.Token(o, o.tx_code), error::kInvalidGrant);
  CHECK(f.issuer->OfferObject(o.id).status().code() == StatusCode::kNotFound);

  SECTION("expired") {
    Offer e = f.NewOffer();
    f.clock.Advance(601'000);
    RequireRefused(f.Token(e, e.tx_code), error::kInvalidGrant);
  }
  SECTION("too many wrong transaction codes burn the offer") {
    Offer b = f.NewOffer();
    const std::string wrong = b.tx_code == "000000" ? "111111" : "000000";
    for (int i = 0; i < 5; ++i) RequireRefused(f.Token(b, wrong), error::kInvalidGrant);
    RequireRefused(f.Token(b, b.tx_code), error::kInvalidGrant);
  }
  SECTION("an offer without tx_code") {
    Offer n = f.NewOffer(false);
    CHECK(n.tx_code.empty());
    CHECK(f.Token(n, std::nullopt).has_value());
  }
}

TEST_CASE("oid4vci: access token refusals (RFC 6750 invalid_token)") {
  Fixture f;
  const std::string nonce = f.CNonce();
  auto r = f.Request("not-a-token", Proof(*f.holder, f.Header(*f.holder), f.Payload(nonce)));
  RequireRefused(r, error::kInvalidToken);
  CHECK(r.status().code() == StatusCode::kUnauthenticated);
  const std::string token = f.AccessToken();
  f.clock.Advance(301'000);
  RequireRefused(f.Request(token, Proof(*f.holder, f.Header(*f.holder), f.Payload(f.CNonce()))),
                 error::kInvalidToken);
  RequireRefused(f.issuer->Nonce(token), error::kInvalidToken);
}

TEST_CASE("oid4vci: nonce refusals (§8.3.1.2 invalid_nonce)") {
  Fixture f;
  SECTION("a wrong nonce") {
    RequireRefused(
        f.Request(f.AccessToken(), Proof(*f.holder, f.Header(*f.holder), f.Payload("made-up"))),
        error::kInvalidNonce);
  }
  SECTION("no nonce") {
    json p = f.Payload("");
    p.erase("nonce");
    RequireRefused(f.Request(f.AccessToken(), Proof(*f.holder, f.Header(*f.holder), p)),
                   error::kInvalidNonce);
  }
  SECTION("a replayed nonce") {
    const std::string nonce = f.CNonce();
    const std::string proof = Proof(*f.holder, f.Header(*f.holder), f.Payload(nonce));
    REQUIRE(f.Request(f.AccessToken(), proof).has_value());
    RequireRefused(f.Request(f.AccessToken(), proof), error::kInvalidNonce);
  }
  SECTION("an expired nonce") {
    const std::string nonce = f.CNonce();
    f.clock.Advance(250'000);
    const std::string token = f.AccessToken();
    f.clock.Advance(60'000);  // the nonce is 310 s old (ttl 300), the token 60 s (ttl 300)
    json p = f.Payload(nonce);
    p["iat"] = kNow + 310;
    RequireRefused(f.Request(token, Proof(*f.holder, f.Header(*f.holder), p)),
                   error::kInvalidNonce);
  }
  SECTION("a token holds at most 16 unused nonces: the oldest are dropped") {
    const std::string token = f.AccessToken();
    const std::string first = f.CNonce(token);
    for (int i = 0; i < 16; ++i) (void)f.CNonce(token);
    RequireRefused(f.Request(token, Proof(*f.holder, f.Header(*f.holder), f.Payload(first))),
                   error::kInvalidNonce);
    CHECK(f.Request(token, Proof(*f.holder, f.Header(*f.holder), f.Payload(f.CNonce(token))))
              .has_value());
  }
  SECTION("a c_nonce given to another session") {
    const std::string mine = f.AccessToken();
    const std::string theirs = f.AccessToken();
    const std::string their_nonce = f.CNonce(theirs);
    RequireRefused(f.Request(mine, Proof(*f.holder, f.Header(*f.holder), f.Payload(their_nonce))),
                   error::kInvalidNonce);
    // ... and it still works in its own session.
    CHECK(f.Request(theirs, Proof(*f.holder, f.Header(*f.holder), f.Payload(their_nonce)))
              .has_value());
  }
}

TEST_CASE("oid4vci: proof refusals (§8.3.1.2 invalid_proof)") {
  Fixture f;
  const std::string token = f.AccessToken();
  auto refused = [&](const std::string& proof) {
    RequireRefused(f.Request(token, proof), error::kInvalidProof);
  };
  // A proof JWT by another key than the one it names.
  refused(Proof(*f.other, f.Header(*f.holder), f.Payload(f.CNonce())));
  // aud for another issuer.
  json p = f.Payload(f.CNonce());
  p["aud"] = "https://other-issuer.example";
  refused(Proof(*f.holder, f.Header(*f.holder), p));
  // No aud, no iat, a stale or future iat.
  p = f.Payload(f.CNonce());
  p.erase("aud");
  refused(Proof(*f.holder, f.Header(*f.holder), p));
  p = f.Payload(f.CNonce());
  p.erase("iat");
  refused(Proof(*f.holder, f.Header(*f.holder), p));
  p = f.Payload(f.CNonce());
  p["iat"] = kNow - 361;
  refused(Proof(*f.holder, f.Header(*f.holder), p));
  p["iat"] = kNow + 61;
  refused(Proof(*f.holder, f.Header(*f.holder), p));
  // Header: wrong typ, none, an alg that does not fit the key, both kid and jwk, a private jwk.
  json h = f.Header(*f.holder);
  h["typ"] = "JWT";
  refused(Proof(*f.holder, h, f.Payload(f.CNonce())));
  h = f.Header(*f.holder);
  h["alg"] = "none";
  refused(Proof(*f.holder, h, f.Payload(f.CNonce())));
  h["alg"] = "ES256";
  refused(Proof(*f.holder, h, f.Payload(f.CNonce())));
  h = f.Header(*f.holder);
  h["kid"] = "did:jwk:" + B64(Jwk(*f.holder)) + "#0";
  refused(Proof(*f.holder, h, f.Payload(f.CNonce())));
  h = f.Header(*f.holder);
  h["jwk"]["d"] = "AAAA";
  refused(Proof(*f.holder, h, f.Payload(f.CNonce())));
  refused("not.a.jwt");
  // No proofs at all.
  RequireRefused(
      f.issuer->Credential(
          token,
          json{{"credential_configuration_id", std::string(kLicenseSdJwtConfiguration)}}.dump()),
      error::kInvalidProof);
  // None of these spent the token or the proof's nonce was never taken: a good proof works.
  CHECK(f.Request(token, Proof(*f.holder, f.Header(*f.holder), f.Payload(f.CNonce()))).has_value());
}

TEST_CASE("oid4vci: credential request refusals") {
  Fixture f;
  const std::string token = f.AccessToken();
  const std::string proof = Proof(*f.holder, f.Header(*f.holder), f.Payload(f.CNonce()));
  RequireRefused(f.issuer->Credential(token, "[1]"), error::kInvalidCredentialRequest);
  RequireRefused(f.issuer->Credential(token, json{{"proofs", {{"jwt", {proof}}}}}.dump()),
                 error::kInvalidCredentialRequest);
  RequireRefused(
      f.issuer->Credential(
          token,
          json{{"credential_configuration_id", "Other"}, {"proofs", {{"jwt", {proof}}}}}.dump()),
      error::kUnknownCredentialConfiguration);
  RequireRefused(
      f.issuer->Credential(
          token, json{{"credential_identifier", "x"}, {"proofs", {{"jwt", {proof}}}}}.dump()),
      error::kUnknownCredentialIdentifier);
}

TEST_CASE("oid4vci: expired offers and tokens are dropped as new offers come") {
  Fixture f;
  const Offer old = f.NewOffer();
  REQUIRE(f.Token(old, old.tx_code).has_value());
  const Offer unused = f.NewOffer();
  auto rows = [&](const char* table) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open_v2((f.dir / "oid4vci.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) ==
            SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, (std::string("SELECT count(*) FROM ") + table).c_str(), -1, &s,
                               nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(s) == SQLITE_ROW);
    const int n = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
  };
  CHECK(rows("offers") == 2);
  CHECK(rows("tokens") == 1);
  f.clock.Advance(700'000);  // past the offers' 600 s, the token's 300 s and the 60 s skew
  const Offer fresh = f.NewOffer();
  CHECK(rows("offers") == 1);
  CHECK(rows("tokens") == 0);
  RequireRefused(f.Token(unused, unused.tx_code), error::kInvalidGrant);
  CHECK(f.Token(fresh, fresh.tx_code).has_value());
}

TEST_CASE("oid4vci: single-use rules survive a restart") {
  Fixture f;
  Offer o = f.NewOffer();
  REQUIRE(f.Token(o, o.tx_code).has_value());
  IssuerOptions opts = f.issuer->options();
  f.issuer.reset();
  f.issuer = std::move(*Issuer::Open((f.dir / "oid4vci.db").string(), opts, f.env));
  RequireRefused(f.Token(o, o.tx_code), error::kInvalidGrant);
}

TEST_CASE("oid4vci: ldp_vc hands over the signed license to a key of its holder's DID") {
  Fixture f;
  const std::string mb = *did::MultikeyFromPublicKey(did::KeyType::kEd25519, f.holder->public_key);
  const std::string holder_did = "did:key:" + mb;
  const json license = {{"@context", {claims::kVcContextV2, claims::kMedallionContext}},
                        {"type", {"VerifiableCredential", "MedicalLicenseCredential"}},
                        {"credentialSubject", {{"id", holder_did}}},
                        {"proof", {{"type", "DataIntegrityProof"}}}};
  OfferRequest r;
  r.configuration_id = std::string(kLicenseLdpConfiguration);
  r.claims_json = license.dump();
  CHECK(f.issuer->CreateOffer(r).status().code() == StatusCode::kInvalidArgument);  // no DID
  r.holder_did = holder_did;
  auto offer = f.issuer->CreateOffer(r);
  REQUIRE(offer.has_value());
  auto t = f.Token(*offer, offer->tx_code);
  REQUIRE(t.has_value());
  const std::string token = json::parse(*t)["access_token"];
  auto request = [&](const std::string& proof) {
    return f.issuer->Credential(
        token, json{{"credential_configuration_id", std::string(kLicenseLdpConfiguration)},
                    {"proofs", {{"jwt", {proof}}}}}
                   .dump());
  };
  const std::string nonce = f.CNonce();
  // A jwk names no DID; another DID's key; both refused before the nonce is spent.
  RequireRefused(request(Proof(*f.holder, f.Header(*f.holder), f.Payload(nonce))),
                 error::kInvalidProof);
  const std::string omb = *did::MultikeyFromPublicKey(did::KeyType::kEd25519, f.other->public_key);
  json h = {
      {"typ", "openid4vci-proof+jwt"}, {"alg", "EdDSA"}, {"kid", "did:key:" + omb + "#" + omb}};
  RequireRefused(request(Proof(*f.other, h, f.Payload(nonce))), error::kInvalidProof);
  // The wrong configuration for this token.
  RequireRefused(f.Request(token, Proof(*f.holder, f.Header(*f.holder), f.Payload(nonce))),
                 error::kInvalidCredentialRequest);
  h["kid"] = "did:key:" + mb + "#" + mb;
  auto ok = request(Proof(*f.holder, h, f.Payload(nonce)));
  REQUIRE(ok.has_value());
  CHECK(json::parse(*ok)["credentials"][0]["credential"] == license);
  json m = json::parse(f.issuer->CredentialIssuerMetadata());
  CHECK(m["credential_configurations_supported"][std::string(kLicenseLdpConfiguration)]["format"] ==
        "ldp_vc");
}

namespace {

// A deferred offer (§9) whose claims come from `state`: "pending", "ready" or "refused".
struct DeferredFixture : Fixture {
  std::string state = "pending";
  std::vector<std::string> asked;
  DeferredFixture() {
    issuer->SetDeferredSource(
        [this](const std::string& label) -> Result<std::optional<std::string>> {
          asked.push_back(label);
          if (state == "refused") return Status::PermissionDenied("the clerk rejected the request");
          if (state == "pending") return std::optional<std::string>();
          return std::optional<std::string>(json{
              {"sub", "did:example:physician"},
              {"license_number", "MA-MD-2"},
              {"name", "Dr. Okafor"}}.dump());
        });
  }
  std::string DeferredToken() {
    OfferRequest r;
    r.deferred = true;
    r.label = "request-7";
    r.disclosable = {"/name"};
    r.tx_code = false;
    auto o = issuer->CreateOffer(r);
    REQUIRE(o.has_value());
    auto t = Token(*o, std::nullopt);
    REQUIRE(t.has_value());
    return json::parse(*t)["access_token"];
  }
  // The credential endpoint's 202 answer: the transaction_id.
  std::string TransactionId(const std::string& token) {
    auto r = Request(token, Proof(*holder, Header(*holder), Payload(CNonce(token))));
    REQUIRE(r.has_value());
    json j = json::parse(*r);
    CHECK_FALSE(j.contains("credentials"));
    CHECK(j["interval"] == 60);
    return j["transaction_id"];
  }
  Result<std::string> Deferred(const std::string& token, const std::string& id) {
    return issuer->DeferredCredential(token, json{{"transaction_id", id}}.dump());
  }
};

}  // namespace

TEST_CASE("oid4vci deferred: pending, then the credential bound to the key proven earlier") {
  DeferredFixture f;
  json m = json::parse(f.issuer->CredentialIssuerMetadata());
  CHECK(m["deferred_credential_endpoint"] == "https://society.example/oid4vci/deferred_credential");
  const std::string token = f.DeferredToken();
  const std::string id = f.TransactionId(token);
  CHECK(f.asked.empty());  // the credential endpoint does not ask: it defers
  // §9.2: still pending — the same id and the interval again, as often as asked.
  for (int i = 0; i < 2; ++i) {
    auto p = f.Deferred(token, id);
    REQUIRE(p.has_value());
    CHECK(json::parse(*p) == json{{"transaction_id", id}, {"interval", 60}});
  }
  CHECK(f.asked == std::vector<std::string>{"request-7", "request-7"});
  // The clerk approves; days later (the access token's own expiry is long past).
  f.state = "ready";
  f.clock.Advance(3 * 86400 * 1000LL);
  auto r = f.Deferred(token, id);
  REQUIRE(r.has_value());
  const std::string sd = json::parse(*r)["credentials"][0]["credential"];
  auto view = claims::InspectSdJwt(sd);
  REQUIRE(view.has_value());
  json p = json::parse(view->payload_json);
  CHECK(p["license_number"] == "MA-MD-2");
  CHECK(p["cnf"]["jwk"] == Jwk(*f.holder));
  CHECK(p["vct"] == std::string(kLicenseVct));
  // Single use.
  RequireRefused(f.Deferred(token, id), error::kInvalidTransactionId);
}

TEST_CASE("oid4vci deferred: refusals (§9.3)") {
  DeferredFixture f;
  const std::string token = f.DeferredToken();
  const std::string id = f.TransactionId(token);
  // The token was spent at the credential endpoint: no second transaction.
  RequireRefused(f.Request(token, Proof(*f.holder, f.Header(*f.holder), f.Payload(f.CNonce()))),
                 error::kInvalidToken);
  RequireRefused(f.Deferred(token, "unknown"), error::kInvalidTransactionId);
  // Another session's token with this id.
  const std::string other_token = f.DeferredToken();
  RequireRefused(f.Deferred(other_token, id), error::kInvalidTransactionId);
  RequireRefused(f.Deferred("", id), error::kInvalidToken);
  RequireRefused(f.issuer->DeferredCredential(token, "{}"), error::kInvalidCredentialRequest);
  RequireRefused(f.issuer->DeferredCredential(token, "[1]"), error::kInvalidCredentialRequest);
  // Expired.
  f.clock.Advance((14 * 86400 + 1) * 1000LL);
  RequireRefused(f.Deferred(token, id), error::kInvalidTransactionId);
}

TEST_CASE("oid4vci deferred: a rejected request spends the transaction") {
  DeferredFixture f;
  const std::string token = f.DeferredToken();
  const std::string id = f.TransactionId(token);
  f.state = "refused";
  RequireRefused(f.Deferred(token, id), error::kCredentialRequestDenied);
  f.state = "ready";
  RequireRefused(f.Deferred(token, id), error::kInvalidTransactionId);
}

TEST_CASE("oid4vci deferred: offers are dc+sd-jwt, labelled, on an issuer with a source") {
  Fixture f;  // no deferred source
  OfferRequest r;
  r.deferred = true;
  r.label = "request-1";
  CHECK(f.issuer->CreateOffer(r).status().code() == StatusCode::kInvalidArgument);
  DeferredFixture d;
  r.configuration_id = std::string(kLicenseLdpConfiguration);
  r.holder_did = "did:example:x";
  CHECK(d.issuer->CreateOffer(r).status().code() == StatusCode::kInvalidArgument);
  r = OfferRequest{};
  r.deferred = true;
  CHECK(d.issuer->CreateOffer(r).status().code() == StatusCode::kInvalidArgument);  // no label
}

namespace {

// A code_verifier and its S256 challenge, BASE64URL(SHA-256(verifier)) computed independently
// (Python hashlib + base64.urlsafe_b64encode, padding stripped).
constexpr const char* kVerifier = "dBjftJeZ4CVP-mJ92K5HcnPDHQxWnaNFrtpPtvgjYQm1";
constexpr const char* kChallenge = "q-qvgDgsDuvtIKxY7UcmzGuhi663nqT55LvYppJneLU";
constexpr const char* kRedirect = "https://wallet.example/cb";

struct AuthFixture : Fixture {
  Offer offer;
  AuthFixture() {
    OfferRequest r;
    r.claims_json = json{{"sub", "did:example:physician"}, {"license_number", "MA-MD-3"}}.dump();
    r.authorization_code = true;
    auto o = issuer->CreateOffer(r);
    REQUIRE(o.has_value());
    offer = *o;
  }
  std::map<std::string, std::string> Query() {
    return {
        {"response_type", "code"},
        {"client_id", "wallet-1"},
        {"redirect_uri", kRedirect},
        {"code_challenge", kChallenge},
        {"code_challenge_method", "S256"},
        {"authorization_details",
         json::array({{{"type", "openid_credential"},
                       {"credential_configuration_id", std::string(kLicenseSdJwtConfiguration)}}})
             .dump()},
        {"issuer_state", offer.issuer_state},
        {"state", "xyz"}};
  }
  // The code from a redirect location.
  static std::string CodeOf(const std::string& location) {
    const size_t a = location.find("code=") + 5;
    return location.substr(a, location.find('&', a) - a);
  }
  std::string AuthCode() {
    auto l = issuer->Authorize(Query());
    REQUIRE(l.has_value());
    return CodeOf(*l);
  }
  std::map<std::string, std::string> TokenForm(const std::string& code) {
    return {{"grant_type", "authorization_code"},
            {"code", code},
            {"redirect_uri", kRedirect},
            {"code_verifier", kVerifier},
            {"client_id", "wallet-1"}};
  }
};

}  // namespace

TEST_CASE("oid4vci auth code: offer, authorize, token with PKCE, credential") {
  AuthFixture f;
  json as = json::parse(f.issuer->AuthorizationServerMetadata());
  CHECK(as["authorization_endpoint"] == "https://society.example/oid4vci/authorize");
  CHECK(as["code_challenge_methods_supported"] == json({"S256"}));
  CHECK(as["grant_types_supported"] ==
        json({std::string(kPreAuthorizedGrant), "authorization_code"}));
  json grants = json::parse(f.offer.offer_json)["grants"];
  CHECK(grants.size() == 1);
  CHECK(grants["authorization_code"]["issuer_state"] == f.offer.issuer_state);
  CHECK(f.offer.tx_code.empty());
  auto l = f.issuer->Authorize(f.Query());
  REQUIRE(l.has_value());
  CHECK(l->starts_with("https://wallet.example/cb?code="));
  CHECK(l->find("&state=xyz&iss=https%3A%2F%2Fsociety.example") != std::string::npos);
  auto t = f.issuer->Token(f.TokenForm(AuthFixture::CodeOf(*l)));
  REQUIRE(t.has_value());
  const std::string token = json::parse(*t)["access_token"];
  auto r = f.Request(token, Proof(*f.holder, f.Header(*f.holder), f.Payload(f.CNonce(token))));
  REQUIRE(r.has_value());
  auto view =
      claims::InspectSdJwt(json::parse(*r)["credentials"][0]["credential"].get<std::string>());
  REQUIRE(view.has_value());
  CHECK(json::parse(view->payload_json)["license_number"] == "MA-MD-3");
  // scope instead of authorization_details, on a fresh offer.
  AuthFixture g;
  auto q = g.Query();
  q.erase("authorization_details");
  q["scope"] = "openid MedicalLicenseCredential";
  CHECK(g.issuer->Authorize(q).has_value());
}

TEST_CASE("oid4vci auth code: authorization endpoint refusals") {
  AuthFixture f;
  auto refused = [&](const char* name, std::optional<std::string> value, std::string_view reason) {
    auto q = f.Query();
    if (value)
      q[name] = *value;
    else
      q.erase(name);
    RequireRefused(f.issuer->Authorize(q), reason);
  };
  refused("response_type", "token", error::kUnsupportedResponseType);
  refused("client_id", std::nullopt, error::kInvalidRequest);
  refused("redirect_uri", std::nullopt, error::kInvalidRequest);
  refused("redirect_uri", "/relative", error::kInvalidRequest);
  refused("redirect_uri", "https://wallet.example/cb#frag", error::kInvalidRequest);
  refused("code_challenge", std::nullopt, error::kInvalidRequest);
  refused("code_challenge_method", std::nullopt, error::kInvalidRequest);
  refused("code_challenge_method", "plain", error::kInvalidRequest);
  refused("code_challenge", "short", error::kInvalidRequest);
  refused("issuer_state", std::nullopt, error::kInvalidRequest);
  refused("issuer_state", "not-an-offer", error::kAccessDenied);
  refused("authorization_details", "[{\"type\":\"openid_credential\"}]",
          error::kInvalidAuthorizationDetails);
  refused("authorization_details",
          json::array({{{"type", "openid_credential"},
                        {"credential_configuration_id", std::string(kLicenseLdpConfiguration)}}})
              .dump(),
          error::kInvalidAuthorizationDetails);
  refused("authorization_details", "not json", error::kInvalidAuthorizationDetails);
  {
    auto q = f.Query();
    q.erase("authorization_details");
    RequireRefused(f.issuer->Authorize(q), error::kInvalidRequest);  // neither
    q["scope"] = "SomethingElse";
    RequireRefused(f.issuer->Authorize(q), error::kInvalidScope);
  }
  // A pre-authorized offer has no issuer_state; the auth offer's is single use.
  REQUIRE(f.issuer->Authorize(f.Query()).has_value());
  RequireRefused(f.issuer->Authorize(f.Query()), error::kAccessDenied);
  // Expired offer.
  AuthFixture g;
  g.clock.Advance(601 * 1000);
  RequireRefused(g.issuer->Authorize(g.Query()), error::kAccessDenied);
}

TEST_CASE("oid4vci auth code: token endpoint refusals (invalid_grant)") {
  {  // wrong verifier, and the code is spent by the attempt
    AuthFixture f;
    const std::string code = f.AuthCode();
    auto form = f.TokenForm(code);
    form["code_verifier"] = std::string(43, 'a');
    RequireRefused(f.issuer->Token(form), error::kInvalidGrant);
    RequireRefused(f.issuer->Token(f.TokenForm(code)), error::kInvalidGrant);
  }
  {  // another redirect_uri
    AuthFixture f;
    auto form = f.TokenForm(f.AuthCode());
    form["redirect_uri"] = "https://wallet.example/other";
    RequireRefused(f.issuer->Token(form), error::kInvalidGrant);
  }
  {  // another client_id
    AuthFixture f;
    auto form = f.TokenForm(f.AuthCode());
    form["client_id"] = "wallet-2";
    RequireRefused(f.issuer->Token(form), error::kInvalidGrant);
  }
  {  // expired
    AuthFixture f;
    const std::string code = f.AuthCode();
    f.clock.Advance(61 * 1000);
    RequireRefused(f.issuer->Token(f.TokenForm(code)), error::kInvalidGrant);
  }
  {  // reuse: refused, and the token it gave is revoked
    AuthFixture f;
    const std::string code = f.AuthCode();
    auto t = f.issuer->Token(f.TokenForm(code));
    REQUIRE(t.has_value());
    RequireRefused(f.issuer->Token(f.TokenForm(code)), error::kInvalidGrant);
    RequireRefused(f.issuer->Nonce(json::parse(*t)["access_token"].get<std::string>()),
                   error::kInvalidToken);
  }
  {  // unknown code; missing verifier; a code is not a pre-authorized code
    AuthFixture f;
    RequireRefused(f.issuer->Token(f.TokenForm("unknown")), error::kInvalidGrant);
    auto form = f.TokenForm(f.AuthCode());
    form.erase("code_verifier");
    RequireRefused(f.issuer->Token(form), error::kInvalidRequest);
    // client_id may be left out (a public client: PKCE binds it).
    AuthFixture g;
    auto ok = g.TokenForm(g.AuthCode());
    ok.erase("client_id");
    CHECK(g.issuer->Token(ok).has_value());
  }
}

// --- A role's configuration: the physician's PrescriptionCredential (PrescriptionConfiguration).
// The role below stands for roles/physician_desk.cpp's IssueToWallet: it signs the offer's
// content as a prescription SD-JWT VC bound to the proven key, and hands back a co-signature
// beside it; the protocol (offer, token, nonce, proof) is the issuer's one pipeline.
namespace {

struct PrescriberFixture {
  FakeClock clock{kNow * 1000};
  SeededRng rng{23};
  Env env{&clock, &rng};
  std::filesystem::path dir;
  std::shared_ptr<wallet::SigningKey> prescriber_key = Key(5);
  std::shared_ptr<wallet::SigningKey> holder = Key(6);
  std::shared_ptr<wallet::SigningKey> other = Key(7);
  claims::Signer signer;
  std::vector<IssueRequest> calls;  // what the role was asked
  int outages = 0;                  // issue answers kUnavailable (the ledger down) this often
  std::function<void()> on_issue;   // runs first in issue (a test holds a request there)
  std::unique_ptr<Issuer> issuer;
  static constexpr const char* kId = "https://dr-rivera.example";

  PrescriberFixture() {
    static int n = 0;
    dir = std::filesystem::temp_directory_path() /
          ("medallion-oid4vci-rx-" + std::to_string(::getpid()) + "-" + std::to_string(++n));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const std::string did =
        *did::DidKeyFromPublicKey(did::KeyType::kEd25519, prescriber_key->public_key);
    signer = claims::WalletSigner(
        prescriber_key,
        did + "#" +
            *did::MultikeyFromPublicKey(did::KeyType::kEd25519, prescriber_key->public_key));
    IssuerOptions o;
    o.credential_issuer = kId;
    o.signer = signer;
    o.configurations.push_back(
        PrescriptionConfiguration([this](const IssueRequest& r) -> Result<IssuedCredential> {
          if (on_issue) on_issue();
          calls.push_back(r);
          if (outages > 0) {
            --outages;
            return Status::WithReason(StatusCode::kUnavailable, error::kCredentialRequestDenied,
                                      "the ledger is unreachable");
          }
          json content = json::parse(r.claims_json);
          if (content.value("refuse", false))
            return Status::WithReason(StatusCode::kPermissionDenied,
                                      error::kCredentialRequestDenied, "the role refuses");
          json jwk = json::parse(r.holder_jwk);
          claims::SdJwtIssueOptions so;
          so.disclosable = {"/sub"};
          so.holder = claims::HolderKey{claims::Alg::kEdDSA,
                                        *Base64UrlDecode(jwk["x"].get<std::string>())};
          json payload = {{"vct", claims::kPrescriptionVct},
                          {"jti", r.label},
                          {"sub", "did:example:patient"},
                          {"prescription", content["prescription"]}};
          auto sd = claims::IssueSdJwt(payload, signer, so, env);
          if (!sd) return sd.status();
          return IssuedCredential{json(*sd).dump(),
                                  json{{std::string(kPrescriberCosignatureMember), "cosig.jwt"}}
                                      .dump()};
        },
        // The precheck: an offer naming `only_x` is for that key only (as the physician's
        // controlled substance is for the pseudonym).
        [](const IssueRequest& r) -> Status {
          json content = json::parse(r.claims_json);
          const std::string only = content.value("only_x", "");
          if (!only.empty() && json::parse(r.holder_jwk).value("x", "") != only)
            return Status::WithReason(StatusCode::kPermissionDenied,
                                      error::kCredentialRequestDenied, "another key");
          return Status::Ok();
        }));
    issuer = std::move(*Issuer::Open((dir / "oid4vci.db").string(), o, env));
  }
  ~PrescriberFixture() {
    issuer.reset();
    std::filesystem::remove_all(dir);
  }
  Offer NewOffer(bool refuse = false, const std::string& only_x = "") {
    OfferRequest r;
    r.configuration_id = std::string(kPrescriptionSdJwtConfiguration);
    r.claims_json = json{{"prescription", {{"resourceType", "MedicationRequest"}}},
                         {"refuse", refuse},
                         {"only_x", only_x}}
                        .dump();
    r.label = "urn:uuid:rx-1";
    auto o = issuer->CreateOffer(r);
    REQUIRE(o.has_value());
    return *o;
  }
  Result<std::string> Token(const Offer& o, const std::string& tx) {
    return issuer->Token({{"grant_type", std::string(kPreAuthorizedGrant)},
                          {"pre-authorized_code", Fixture::Code(o)},
                          {"tx_code", tx}});
  }
  std::string AccessToken(const Offer& o) {
    auto t = Token(o, o.tx_code);
    REQUIRE(t.has_value());
    return json::parse(*t)["access_token"];
  }
  std::string CNonce(const std::string& token) {
    auto n = issuer->Nonce(token);
    REQUIRE(n.has_value());
    return json::parse(*n)["c_nonce"];
  }
  std::string ProofBy(const wallet::SigningKey& signer_key, const wallet::SigningKey& named,
                      const std::string& nonce) {
    return Proof(signer_key, {{"typ", "openid4vci-proof+jwt"}, {"alg", "EdDSA"}, {"jwk", Jwk(named)}},
                 {{"aud", kId}, {"iat", kNow}, {"nonce", nonce}});
  }
  Result<std::string> Request(const std::string& token, const std::string& proof,
                              std::string_view configuration = kPrescriptionSdJwtConfiguration) {
    json body = {{"credential_configuration_id", std::string(configuration)},
                 {"proofs", {{"jwt", {proof}}}}};
    return issuer->Credential(token, body.dump());
  }
};

}  // namespace

TEST_CASE("oid4vci prescription: the metadata offers the role's configuration only") {
  PrescriberFixture f;
  json m = json::parse(f.issuer->CredentialIssuerMetadata());
  CHECK(m["credential_issuer"] == PrescriberFixture::kId);
  json configs = m["credential_configurations_supported"];
  REQUIRE(configs.size() == 1);
  json c = configs[std::string(kPrescriptionSdJwtConfiguration)];
  CHECK(c["format"] == "dc+sd-jwt");
  CHECK(c["vct"] == claims::kPrescriptionVct);
  CHECK(c["scope"] == "PrescriptionCredential");
  CHECK(c["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"] ==
        json({"EdDSA"}));
  CHECK_FALSE(m.contains("deferred_credential_endpoint"));
  // The society's configurations are not this issuer's.
  OfferRequest license;
  license.claims_json = "{}";
  CHECK(f.issuer->CreateOffer(license).status().code() == StatusCode::kInvalidArgument);
  license.configuration_id = std::string(kPrescriptionSdJwtConfiguration);
  license.deferred = true;
  license.label = "x";
  CHECK(f.issuer->CreateOffer(license).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("oid4vci prescription: offer, token, nonce, credential bound to the proven key") {
  PrescriberFixture f;
  Offer o = f.NewOffer();
  CHECK(o.tx_code.size() == 6);
  json offer = json::parse(o.offer_json);
  CHECK(offer["credential_issuer"] == PrescriberFixture::kId);
  CHECK(offer["credential_configuration_ids"] ==
        json({std::string(kPrescriptionSdJwtConfiguration)}));
  CHECK(offer["grants"][std::string(kPreAuthorizedGrant)].contains("tx_code"));
  const std::string token = f.AccessToken(o);
  auto r = f.Request(token, f.ProofBy(*f.holder, *f.holder, f.CNonce(token)));
  REQUIRE(r.has_value());
  json response = json::parse(*r);
  CHECK(response[std::string(kPrescriberCosignatureMember)] == "cosig.jwt");
  // The role was asked once, with the offer's label and content and the proven key.
  REQUIRE(f.calls.size() == 1);
  CHECK(f.calls[0].label == "urn:uuid:rx-1");
  CHECK(json::parse(f.calls[0].claims_json)["prescription"]["resourceType"] == "MedicationRequest");
  CHECK(json::parse(f.calls[0].holder_jwk) == Jwk(*f.holder));
  CHECK(f.calls[0].now == kNow);
  const std::string sd = response["credentials"][0]["credential"];
  did::Resolver resolver;
  claims::SdJwtVerifyOptions vo;
  vo.require_key_binding = false;
  vo.expected_vct = claims::kPrescriptionVct;
  auto v = claims::VerifySdJwt(sd, resolver, vo, f.clock);
  REQUIRE(v.has_value());
  json p = json::parse(v->payload_json);
  CHECK(p["cnf"]["jwk"] == Jwk(*f.holder));
  CHECK(p["iss"] == f.signer.verification_method.substr(0, f.signer.verification_method.find('#')));
  CHECK(p["jti"] == "urn:uuid:rx-1");
  // One credential per token.
  RequireRefused(f.Request(token, f.ProofBy(*f.holder, *f.holder, f.CNonce(""))),
                 error::kInvalidToken);
  CHECK(f.calls.size() == 1);
}

TEST_CASE("oid4vci prescription: refusals with the spec's errors") {
  PrescriberFixture f;
  SECTION("a replayed offer (§6.3 invalid_grant)") {
    Offer o = f.NewOffer();
    REQUIRE(f.Token(o, o.tx_code).has_value());
    RequireRefused(f.Token(o, o.tx_code), error::kInvalidGrant);
  }
  SECTION("a wrong tx_code (§6.3 invalid_grant), a missing one (invalid_request)") {
    Offer o = f.NewOffer();
    RequireRefused(f.Token(o, o.tx_code == "000000" ? "111111" : "000000"), error::kInvalidGrant);
    RequireRefused(f.issuer->Token({{"grant_type", std::string(kPreAuthorizedGrant)},
                                    {"pre-authorized_code", Fixture::Code(o)}}),
                   error::kInvalidRequest);
    CHECK(f.Token(o, o.tx_code).has_value());  // not yet withdrawn
  }
  SECTION("a proof by another key (§8.3.1.2 invalid_proof); the nonce is not spent") {
    Offer o = f.NewOffer();
    const std::string token = f.AccessToken(o);
    const std::string nonce = f.CNonce(token);
    // Signed by `other` while naming the holder's key.
    RequireRefused(f.Request(token, f.ProofBy(*f.other, *f.holder, nonce)), error::kInvalidProof);
    CHECK(f.calls.empty());
    // An ES256 proof: this configuration takes EdDSA only (its proof_signing_alg_values).
    json jwk;
    RequireRefused(f.Request(token, Es256Proof({{"aud", PrescriberFixture::kId},
                                                {"iat", kNow},
                                                {"nonce", nonce}},
                                               &jwk)),
                   error::kInvalidProof);
    // The same nonce still serves the holder's own proof.
    CHECK(f.Request(token, f.ProofBy(*f.holder, *f.holder, nonce)).has_value());
  }
  SECTION("a replayed nonce, and a nonce of another token's session (invalid_nonce)") {
    Offer o1 = f.NewOffer(), o2 = f.NewOffer();
    const std::string t1 = f.AccessToken(o1), t2 = f.AccessToken(o2);
    const std::string n2 = f.CNonce(t2);
    RequireRefused(f.Request(t1, f.ProofBy(*f.holder, *f.holder, n2)), error::kInvalidNonce);
    const std::string n1 = f.CNonce(t1);
    REQUIRE(f.Request(t1, f.ProofBy(*f.holder, *f.holder, n1)).has_value());
    RequireRefused(f.Request(t2, f.ProofBy(*f.holder, *f.holder, n1)), error::kInvalidNonce);
  }
  SECTION("another configuration (unknown_credential_configuration)") {
    Offer o = f.NewOffer();
    const std::string token = f.AccessToken(o);
    RequireRefused(f.Request(token, f.ProofBy(*f.holder, *f.holder, f.CNonce(token)),
                             kLicenseSdJwtConfiguration),
                   error::kUnknownCredentialConfiguration);
  }
  SECTION("the role's refusal is the answer (credential_request_denied)") {
    Offer o = f.NewOffer(true);
    const std::string token = f.AccessToken(o);
    auto r = f.Request(token, f.ProofBy(*f.holder, *f.holder, f.CNonce(token)));
    RequireRefused(r, error::kCredentialRequestDenied);
    CHECK(f.calls.size() == 1);
    // The role's refusal in issue (not its precheck) is final: the token is spent.
    RequireRefused(f.Request(token, f.ProofBy(*f.holder, *f.holder, f.CNonce(""))),
                   error::kInvalidToken);
    CHECK(f.calls.size() == 1);
  }
  SECTION("the authorization code flow names the configuration's scope") {
    OfferRequest r;
    r.configuration_id = std::string(kPrescriptionSdJwtConfiguration);
    r.claims_json = "{}";
    r.authorization_code = true;
    auto o = f.issuer->CreateOffer(r);
    REQUIRE(o.has_value());
    std::map<std::string, std::string> q = {
        {"response_type", "code"},
        {"client_id", "wallet"},
        {"redirect_uri", "https://wallet.example/cb"},
        {"code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"},
        {"code_challenge_method", "S256"},
        {"issuer_state", o->issuer_state},
        {"scope", "MedicalLicenseCredential"}};
    RequireRefused(f.issuer->Authorize(q), error::kInvalidScope);
    auto fresh = f.issuer->CreateOffer(r);
    REQUIRE(fresh.has_value());
    q["issuer_state"] = fresh->issuer_state;
    q["scope"] = "PrescriptionCredential";
    CHECK(f.issuer->Authorize(q).has_value());
  }
}

// The access token is spent only once the role has made the credential (the review finding
// "OpenID4VCI spends the access token before the role decides").
TEST_CASE("oid4vci prescription: the precheck's refusal leaves the token, the right key then "
          "gets the credential on it") {
  PrescriberFixture f;
  const std::string holder_x = Jwk(*f.holder)["x"];
  Offer o = f.NewOffer(false, holder_x);
  const std::string token = f.AccessToken(o);
  const std::string nonce = f.CNonce(token);
  // A third-party wallet's key: refused before the role is asked to issue.
  RequireRefused(f.Request(token, f.ProofBy(*f.other, *f.other, nonce)),
                 error::kCredentialRequestDenied);
  CHECK(f.calls.empty());
  // That proof spent its c_nonce (§7, §8.3.1.2: single use once a verified proof used it).
  RequireRefused(f.Request(token, f.ProofBy(*f.holder, *f.holder, nonce)), error::kInvalidNonce);
  // The token is live: a fresh nonce for it, and the holder's key gets the credential.
  auto r = f.Request(token, f.ProofBy(*f.holder, *f.holder, f.CNonce(token)));
  REQUIRE(r.has_value());
  REQUIRE(f.calls.size() == 1);
  CHECK(json::parse(f.calls[0].holder_jwk) == Jwk(*f.holder));
  // And then it is spent, as before.
  RequireRefused(f.Request(token, f.ProofBy(*f.holder, *f.holder, f.CNonce(""))),
                 error::kInvalidToken);
  RequireRefused(f.issuer->Nonce(token), error::kInvalidToken);
  CHECK(f.calls.size() == 1);
}

TEST_CASE("oid4vci prescription: issue's kUnavailable gives the token back, a retry gets the "
          "credential once") {
  PrescriberFixture f;
  Offer o = f.NewOffer();
  const std::string token = f.AccessToken(o);
  f.outages = 2;
  for (int i = 1; i <= 2; ++i) {
    auto r = f.Request(token, f.ProofBy(*f.holder, *f.holder, f.CNonce(token)));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.status().code() == StatusCode::kUnavailable);
    CHECK(f.calls.size() == static_cast<size_t>(i));
  }
  auto r = f.Request(token, f.ProofBy(*f.holder, *f.holder, f.CNonce(token)));
  REQUIRE(r.has_value());
  CHECK(json::parse(*r)["credentials"][0]["credential"].is_string());
  CHECK(f.calls.size() == 3);
  RequireRefused(f.Request(token, f.ProofBy(*f.holder, *f.holder, f.CNonce(""))),
                 error::kInvalidToken);
  CHECK(f.calls.size() == 3);
}

TEST_CASE("oid4vci prescription: while the role issues the token is claimed, a concurrent "
          "request on it is refused and one credential results") {
  PrescriberFixture f;
  Offer o = f.NewOffer();
  const std::string token = f.AccessToken(o);
  const std::string first_proof = f.ProofBy(*f.holder, *f.holder, f.CNonce(token));
  std::promise<void> entered, release;
  std::shared_future<void> released = release.get_future().share();
  bool waited = false;  // only the first request waits (the second never reaches issue)
  f.on_issue = [&] {
    if (waited) return;
    waited = true;
    entered.set_value();
    released.wait();
  };
  std::optional<Result<std::string>> first;
  std::thread t([&] { first.emplace(f.Request(token, first_proof)); });
  entered.get_future().wait();  // the first request is inside issue, outside the lock
  // The second request on the same token (an unbound nonce: the token is not live for the
  // nonce endpoint while claimed) is refused before the role is asked.
  RequireRefused(f.Request(token, f.ProofBy(*f.holder, *f.holder, f.CNonce(""))),
                 error::kInvalidToken);
  RequireRefused(f.issuer->Nonce(token), error::kInvalidToken);
  CHECK(f.calls.empty());
  release.set_value();
  t.join();
  REQUIRE(first.has_value());
  CHECK(first->has_value());
  CHECK(f.calls.size() == 1);
  RequireRefused(f.Request(token, f.ProofBy(*f.holder, *f.holder, f.CNonce(""))),
                 error::kInvalidToken);
}
