// OpenID4VP 1.0 (oid4vc/verifier.h, dcql.h): DCQL parsing and matching, a wallet -> verifier
// presentation over direct_post end to end, and each refusal with its §8.5 error code.
#include "medallion/oid4vc/verifier.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "medallion/core/encoding.h"
#include "medallion/claims/sd_jwt.h"
#include "medallion/did/did_key.h"
#include "medallion/did/resolver.h"
#include "medallion/oid4vc/dcql.h"
#include "medallion/wallet/keys.h"

using namespace medallion;
using namespace medallion::oid4vc;
using nlohmann::json;

namespace {

constexpr int64_t kNow = 1'780'000'000;
constexpr const char* kVct = "urn:medallion:vct:MedicalLicenseCredential:1";
constexpr const char* kResponseUri = "https://pharmacy.example/oid4vp/response";

std::shared_ptr<wallet::SigningKey> Key(uint8_t fill) {
  return std::make_shared<wallet::SigningKey>(
      *wallet::MakeSigningKey(wallet::SignatureAlg::kEdDSA, Bytes(32, fill)));
}

claims::Signer SignerOf(const std::shared_ptr<wallet::SigningKey>& k) {
  const std::string did = *did::DidKeyFromPublicKey(did::KeyType::kEd25519, k->public_key);
  return claims::WalletSigner(
      k, did + "#" + *did::MultikeyFromPublicKey(did::KeyType::kEd25519, k->public_key));
}

json LicenseQuery() {
  return json::parse(R"({"credentials": [{"id": "license", "format": "dc+sd-jwt",
      "meta": {"vct_values": ["urn:medallion:vct:MedicalLicenseCredential:1"]},
      "claims": [{"path": ["family_name"]}, {"path": ["license", "number"]}]}]})");
}

struct Fixture {
  FakeClock clock{kNow * 1000};
  SeededRng rng{23};
  Env env{&clock, &rng};
  std::filesystem::path dir;
  std::shared_ptr<wallet::SigningKey> issuer_key = Key(1), holder_key = Key(2);
  claims::Signer issuer = SignerOf(issuer_key), holder = SignerOf(holder_key);
  did::Resolver resolver;
  std::unique_ptr<Verifier> verifier;
  std::string license;  // the wallet's SD-JWT VC

  Fixture() {
    static int n = 0;
    dir = std::filesystem::temp_directory_path() /
          ("medallion-oid4vp-" + std::to_string(::getpid()) + "-" + std::to_string(++n));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    verifier = Open();
    json payload = {{"vct", kVct},
                    {"sub", "did:example:ada"},
                    {"given_name", "Ada"},
                    {"family_name", "Lovelace"},
                    {"birthdate", "1990-12-10"},
                    {"license", {{"number", "L-1815"}, {"specialty", "cardiology"}}},
                    {"exp", kNow + 86400}};
    claims::SdJwtIssueOptions o;
    o.disclosable = {"/given_name", "/family_name", "/birthdate", "/license/number",
                     "/license/specialty"};
    o.holder = claims::HolderKey{claims::Alg::kEdDSA, holder_key->public_key};
    license = *claims::IssueSdJwt(payload, issuer, o, env);
  }
  ~Fixture() { std::filesystem::remove_all(dir); }

  std::unique_ptr<Verifier> Open() {
    VerifierOptions o;
    o.client_id = std::string(kRedirectUriPrefix) + kResponseUri;
    o.response_uri = kResponseUri;
    auto v = Verifier::Open((dir / "oid4vp.db").string(), o, env);
    REQUIRE(v.has_value());
    return std::move(*v);
  }

  // The wallet's reading of a fresh request.
  ParsedRequest Request(const json& query = LicenseQuery()) {
    auto r = verifier->CreateRequest(query);
    REQUIRE(r.has_value());
    auto parsed = ParseAuthorizationRequest(r->params);
    REQUIRE(parsed.has_value());
    return *parsed;
  }
  std::map<std::string, std::string> Respond(const ParsedRequest& r) {
    auto form = BuildResponse(r, {license}, holder, env);
    REQUIRE(form.has_value());
    return *form;
  }
};

}  // namespace

TEST_CASE("dcql: a query is parsed, and a malformed one refused naming the fault", "[oid4vp]") {
  auto q = ParseDcqlQuery(LicenseQuery());
  REQUIRE(q.has_value());
  REQUIRE(q->credentials.size() == 1);
  CHECK(q->credentials[0].vct_values == std::vector<std::string>{kVct});
  CHECK(ParseDcqlQuery(DcqlQueryToJson(*q)).has_value());

  auto refused = [](const std::string& text, std::string_view reason, const std::string& says) {
    auto r = ParseDcqlQuery(std::string_view(text));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().reason() == reason);
    CHECK_THAT(r.error().message(), Catch::Contains(says));
  };
  const std::string meta = R"("meta": {"vct_values": ["v"]})";
  refused("[]", "invalid_request", "not a JSON object");
  refused(R"({"credentials": []})", "invalid_request", "credentials must be a non-empty array");
  refused(R"({"credentials": [{"format": "dc+sd-jwt", )" + meta + "}]}", "invalid_request", ".id");
  refused(R"({"credentials": [{"id": "a b", "format": "dc+sd-jwt", )" + meta + "}]}",
          "invalid_request", ".id");
  refused(R"({"credentials": [{"id": "a", "format": "dc+sd-jwt"}]})", "invalid_request", ".meta");
  refused(R"({"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {}}]})", "invalid_request",
          "vct_values");
  refused(R"({"credentials": [{"id": "a", "format": "mso_mdoc", )" + meta + "}]}",
          "vp_formats_not_supported", "mso_mdoc");
  refused(R"({"credentials": [{"id": "a", "format": "dc+sd-jwt", )" + meta +
              R"(}, {"id": "a", "format": "dc+sd-jwt", )" + meta + "}]}",
          "invalid_request", "duplicate id");
  refused(R"({"credentials": [{"id": "a", "format": "dc+sd-jwt", )" + meta +
              R"(, "claims": [{"path": []}]}]})",
          "invalid_request", "path");
  refused(R"({"credentials": [{"id": "a", "format": "dc+sd-jwt", )" + meta +
              R"(, "claims": [{"path": ["x", -1]}]}]})",
          "invalid_request", "path elements");
  refused(R"({"credentials": [{"id": "a", "format": "dc+sd-jwt", )" + meta +
              R"(, "claims": [{"id": "x", "path": ["x"]}], "claim_sets": [["y"]]}]})",
          "invalid_request", "claim_sets names");
  refused(R"({"credentials": [{"id": "a", "format": "dc+sd-jwt", )" + meta +
              R"(}], "credential_sets": [{"options": [["b"]]}]})",
          "invalid_request", "not a Credential Query");
  refused(R"({"credentials": [{"id": "a", "format": "dc+sd-jwt", )" + meta +
              R"(, "trusted_authorities": []}]})",
          "invalid_request", "trusted_authorities");
}

TEST_CASE("dcql: the matcher picks the credential and only the disclosures asked", "[oid4vp]") {
  Fixture f;
  auto q = ParseDcqlQuery(LicenseQuery());
  REQUIRE(q.has_value());
  auto m = MatchDcql(*q, {"not an sd-jwt", f.license});
  REQUIRE(m.has_value());
  REQUIRE(m->size() == 1);
  CHECK((*m)[0].credential == 1);
  CHECK((*m)[0].reveal == std::vector<std::string>{"/family_name", "/license/number"});

  // A path naming an object asks for all of it (§7.1); a values filter that fails refuses.
  json whole = LicenseQuery();
  whole["credentials"][0]["claims"] = json::parse(R"([{"path": ["license"]}])");
  m = MatchDcql(*ParseDcqlQuery(whole), {f.license});
  REQUIRE(m.has_value());
  CHECK((*m)[0].reveal == std::vector<std::string>{"/license/number", "/license/specialty"});
  json values = LicenseQuery();
  values["credentials"][0]["claims"][1]["values"] = json::array({"L-0000"});
  m = MatchDcql(*ParseDcqlQuery(values), {f.license});
  REQUIRE_FALSE(m.has_value());
  CHECK(m.error().reason() == "access_denied");

  // claim_sets: the first option that can be met; credential_sets: the first option.
  json sets = json::parse(R"({"credentials": [
      {"id": "lic", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:medallion:vct:MedicalLicenseCredential:1"]},
       "claims": [{"id": "npi", "path": ["npi"]}, {"id": "num", "path": ["license", "number"]}],
       "claim_sets": [["npi"], ["num"]]},
      {"id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:eudi:pid:1"]}}],
      "credential_sets": [{"options": [["pid"], ["lic"]]}]})");
  m = MatchDcql(*ParseDcqlQuery(sets), {f.license});
  REQUIRE(m.has_value());
  REQUIRE(m->size() == 1);
  CHECK((*m)[0].query_id == "lic");
  CHECK((*m)[0].reveal == std::vector<std::string>{"/license/number"});

  // A claim inside a disclosure that holds a whole object: that disclosure is revealed, and
  // the verifier then finds the claim.
  {
    json payload = {{"vct", kVct}, {"license", {{"number", "L-1815"}, {"specialty", "cardiology"}}}};
    claims::SdJwtIssueOptions o;
    o.disclosable = {"/license"};
    o.holder = claims::HolderKey{claims::Alg::kEdDSA, f.holder_key->public_key};
    const std::string whole_license = *claims::IssueSdJwt(payload, f.issuer, o, f.env);
    json inner = LicenseQuery();
    inner["credentials"][0]["claims"] = json::parse(R"([{"path": ["license", "number"]}])");
    m = MatchDcql(*ParseDcqlQuery(inner), {whole_license});
    REQUIRE(m.has_value());
    CHECK((*m)[0].reveal == std::vector<std::string>{"/license"});
    auto parsed = f.Request(inner);
    auto form = BuildResponse(parsed, {whole_license}, f.holder, f.env);
    REQUIRE(form.has_value());
    auto verified = f.verifier->VerifyResponse(*form, f.resolver);
    CHECK(verified.has_value());
    if (!verified) FAIL_CHECK(verified.error().message());
  }

  // No claims asked: nothing selectively disclosable is revealed (§6.4.1).
  json none = LicenseQuery();
  none["credentials"][0].erase("claims");
  m = MatchDcql(*ParseDcqlQuery(none), {f.license});
  REQUIRE(m.has_value());
  CHECK((*m)[0].reveal.empty());
}

TEST_CASE("oid4vp: a request is made with the spec's parameters", "[oid4vp]") {
  Fixture f;
  auto r = f.verifier->CreateRequest(LicenseQuery());
  REQUIRE(r.has_value());
  CHECK(r->params.at("client_id") == std::string("redirect_uri:") + kResponseUri);
  CHECK(r->params.at("response_type") == "vp_token");
  CHECK(r->params.at("response_mode") == "direct_post");
  CHECK(r->params.at("response_uri") == kResponseUri);
  CHECK(r->params.at("nonce") == r->nonce);
  CHECK(r->params.at("state") == r->state);
  CHECK(r->nonce != r->state);
  CHECK(r->uri.starts_with("openid4vp://?"));
  CHECK(json::parse(r->params.at("dcql_query")) ==
        DcqlQueryToJson(*ParseDcqlQuery(LicenseQuery())));
  // A malformed query makes no request.
  auto bad = f.verifier->CreateRequest(json::parse(R"({"credentials": 1})"));
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().reason() == "invalid_request");

  // A decentralized_identifier: client; the wallet wants a signed request object for it: its
  // plain parameters (unsigned) are refused.
  VerifierOptions o;
  o.client_id = "decentralized_identifier:" +
                f.issuer.verification_method.substr(0, f.issuer.verification_method.find('#'));
  o.response_uri = kResponseUri;
  o.request_signer = f.issuer;
  auto v = Verifier::Open((f.dir / "did.db").string(), o, f.env);
  REQUIRE(v.has_value());
  auto dr = (*v)->CreateRequest(LicenseQuery());
  REQUIRE(dr.has_value());
  CHECK(dr->params.at("client_id") == o.client_id);
  auto parsed = ParseAuthorizationRequest(dr->params);
  REQUIRE_FALSE(parsed.has_value());
  CHECK(parsed.error().reason() == "invalid_request");
  CHECK_THAT(parsed.error().message(), Catch::Contains("signed"));
  o.request_signer.reset();

  // Wrong client_id / response_uri pairs are refused at Open and by the wallet.
  o.client_id = "redirect_uri:https://elsewhere.example/cb";
  CHECK_FALSE(Verifier::Open((f.dir / "x.db").string(), o, f.env).has_value());
  auto params = r->params;
  params["client_id"] = "redirect_uri:https://elsewhere.example/cb";
  CHECK(ParseAuthorizationRequest(params).error().reason() == "invalid_request");
  params = r->params;
  params["response_mode"] = "fragment";
  CHECK(ParseAuthorizationRequest(params).error().reason() == "invalid_request");
  params = r->params;
  params.erase("nonce");
  CHECK(ParseAuthorizationRequest(params).error().reason() == "invalid_request");
}

TEST_CASE("oid4vp: wallet -> verifier end to end, disclosing only what was asked", "[oid4vp]") {
  Fixture f;
  ParsedRequest req = f.Request();
  auto form = f.Respond(req);
  CHECK(form.at("state") == req.state);
  // A restart keeps the request.
  f.verifier = f.Open();
  auto v = f.verifier->VerifyResponse(form, f.resolver);
  REQUIRE(v.has_value());
  REQUIRE(v->credentials.at("license").size() == 1);
  const claims::VerifiedSdJwt& c = v->credentials.at("license")[0];
  CHECK(c.key_bound);
  json payload = json::parse(c.payload_json);
  CHECK(payload["family_name"] == "Lovelace");
  CHECK(payload["license"]["number"] == "L-1815");
  CHECK_FALSE(payload.contains("given_name"));
  CHECK_FALSE(payload.contains("birthdate"));
  CHECK_FALSE(payload["license"].contains("specialty"));
}

TEST_CASE("oid4vp: each refusal carries the spec's error", "[oid4vp]") {
  Fixture f;
  auto refused = [&](const std::map<std::string, std::string>& form, std::string_view reason,
                     const std::string& says) {
    auto v = f.verifier->VerifyResponse(form, f.resolver);
    REQUIRE_FALSE(v.has_value());
    CHECK(v.error().reason() == reason);
    CHECK_THAT(v.error().message(), Catch::Contains(says));
  };

  SECTION("a response posted twice") {
    auto form = f.Respond(f.Request());
    REQUIRE(f.verifier->VerifyResponse(form, f.resolver).has_value());
    refused(form, "invalid_request", "already answered");
  }
  SECTION("a wrong nonce") {
    ParsedRequest req = f.Request();
    req.nonce = "not-the-nonce";
    refused(f.Respond(req), "invalid_request", "nonce_mismatch");
  }
  SECTION("a replayed response: another request's presentation under its state") {
    ParsedRequest a = f.Request(), b = f.Request();
    auto form = f.Respond(a);
    REQUIRE(f.verifier->VerifyResponse(form, f.resolver).has_value());
    form["state"] = b.state;  // a's nonce, b's state
    refused(form, "invalid_request", "nonce_mismatch");
  }
  SECTION("a response to an unknown state") {
    auto form = f.Respond(f.Request());
    form["state"] = "no-such-state";
    refused(form, "invalid_request", "unknown state");
    form.erase("state");
    refused(form, "invalid_request", "no valid state");
  }
  SECTION("an expired request") {
    auto form = f.Respond(f.Request());
    f.clock.Advance(601 * 1000);
    refused(form, "invalid_request", "expired");
  }
  SECTION("an aud for another verifier") {
    ParsedRequest req = f.Request();
    req.client_id = "redirect_uri:https://other.example/cb";
    refused(f.Respond(req), "invalid_request", "aud_mismatch");
  }
  SECTION("an issuer signature that does not verify") {
    ParsedRequest req = f.Request();
    auto form = f.Respond(req);
    json vp = json::parse(form["vp_token"]);
    std::string p = vp["license"][0];
    const size_t dot = p.find('.', p.find('.') + 1);
    p[dot + 2] = p[dot + 2] == 'A' ? 'B' : 'A';
    vp["license"][0] = p;
    form["vp_token"] = vp.dump();
    refused(form, "invalid_request", "signature_invalid");
  }
  SECTION("an undisclosed claim the verifier needs") {
    ParsedRequest req = f.Request();
    claims::SdJwtPresentOptions o;
    o.reveal = {"/family_name"};  // not /license/number
    o.audience = req.client_id;
    o.nonce = req.nonce;
    auto p = claims::PresentSdJwt(f.license, o, &f.holder, f.env);
    REQUIRE(p.has_value());
    json vp = {{"license", {*p}}};
    refused({{"vp_token", vp.dump()}, {"state", req.state}}, "invalid_request",
            "not satisfied by the disclosed claims");
  }
  SECTION("a vp_token that is malformed or answers another query") {
    ParsedRequest req = f.Request();
    refused({{"vp_token", "[1]"}, {"state", req.state}}, "invalid_request", "not a JSON object");
    req = f.Request();
    auto form = f.Respond(req);
    json vp = json::parse(form["vp_token"]);
    form["vp_token"] = json{{"other", vp["license"]}}.dump();
    refused(form, "invalid_request", "not a Credential Query");
    req = f.Request();
    form = f.Respond(req);
    form["vp_token"] = "{}";
    refused(form, "invalid_request", "does not answer credential query \"license\"");
  }
  SECTION("credential_sets and multiple are enforced on the response") {
    json q = LicenseQuery();
    q["credentials"].push_back(json::parse(
        R"({"id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:eudi:pid:1"]}})"));
    q["credential_sets"] = json::parse(R"([{"options": [["pid"], ["license"]]}])");
    ParsedRequest req = f.Request(q);
    auto form = f.Respond(req);
    auto v = f.verifier->VerifyResponse(form, f.resolver);
    REQUIRE(v.has_value());
    CHECK(v->credentials.count("license") == 1);
    // Two presentations for a query without `multiple`.
    req = f.Request();
    form = f.Respond(req);
    json vp = json::parse(form["vp_token"]);
    vp["license"].push_back(vp["license"][0]);
    form["vp_token"] = vp.dump();
    refused(form, "invalid_request", "multiple is false");
  }
  SECTION("a query the wallet cannot satisfy: access_denied, posted back to the verifier") {
    json q = LicenseQuery();
    q["credentials"][0]["claims"].push_back({{"path", {"license", "expiry_date"}}});
    ParsedRequest req = f.Request(q);
    auto form = BuildResponse(req, {f.license}, f.holder, f.env);
    REQUIRE_FALSE(form.has_value());
    CHECK(form.error().reason() == "access_denied");
    CHECK_THAT(form.error().message(), Catch::Contains("\"license\" cannot be satisfied"));
    json other = LicenseQuery();
    other["credentials"][0]["meta"]["vct_values"] = json::array({"urn:eudi:pid:1"});
    auto none = BuildResponse(f.Request(other), {f.license}, f.holder, f.env);
    REQUIRE_FALSE(none.has_value());
    CHECK(none.error().reason() == "access_denied");
    // §8.5: the wallet's error response ends the request.
    refused({{"error", "access_denied"}, {"state", req.state}}, "access_denied", "refused");
    refused({{"error", "access_denied"}, {"state", req.state}}, "invalid_request",
            "already answered");
  }
}

TEST_CASE("oid4vp: a caller's nonce, ReadResponse spends nothing, Spend once, the outcome kept",
          "[oid4vp]") {
  Fixture f;
  RequestOptions ro;
  ro.nonce = "a-challenge-of-the-caller";
  auto r = f.verifier->CreateRequest(LicenseQuery(), ro);
  REQUIRE(r.has_value());
  CHECK(r->nonce == "a-challenge-of-the-caller");
  CHECK(r->params.at("nonce") == "a-challenge-of-the-caller");
  CHECK_FALSE(r->id.empty());
  CHECK(r->request_uri.empty());  // no request_uri_base: by value only
  auto parsed = ParseAuthorizationRequest(r->params);
  REQUIRE(parsed.has_value());
  auto form = f.Respond(*parsed);
  form["medallion_extra"] = "kept";

  // Read twice: nothing is spent; the presentations come back by Credential Query.
  for (int i = 0; i < 2; ++i) {
    auto p = f.verifier->ReadResponse(form);
    REQUIRE(p.has_value());
    CHECK(p->id == r->id);
    CHECK(p->nonce == r->nonce);
    REQUIRE(p->presentations.at("license").size() == 1);
    CHECK(p->form.at("medallion_extra") == "kept");
    CHECK(p->error.empty());
  }
  // Refusals of ReadResponse spend nothing either.
  auto bad = form;
  bad["vp_token"] = "{}";
  CHECK(f.verifier->ReadResponse(bad).error().reason() == "invalid_request");
  bad = form;
  bad["state"] = "nope";
  CHECK(f.verifier->ReadResponse(bad).error().reason() == "invalid_request");
  // A wallet's §8.5 error is read as such.
  auto declined = f.verifier->ReadResponse({{"state", r->state}, {"error", "access_denied"}});
  REQUIRE(declined.has_value());
  CHECK(declined->error == "access_denied");

  auto rec = f.verifier->Lookup(r->id);
  REQUIRE(rec.has_value());
  CHECK_FALSE(rec->answered);
  CHECK_FALSE(rec->outcome.has_value());
  REQUIRE(f.verifier->Spend(r->state).ok());
  Status again = f.verifier->Spend(r->state);
  CHECK(again.reason() == "invalid_request");
  CHECK_THAT(again.message(), Catch::Contains("already answered"));
  CHECK_THAT(f.verifier->ReadResponse(form).error().message(),
             Catch::Contains("already answered"));
  REQUIRE(f.verifier->RecordOutcome(r->id, {{"status", "dispensed"}}).ok());
  f.verifier = f.Open();  // kept across a restart
  rec = f.verifier->Lookup(r->id);
  REQUIRE(rec.has_value());
  CHECK(rec->answered);
  REQUIRE(rec->outcome.has_value());
  CHECK((*rec->outcome)["status"] == "dispensed");
  CHECK(f.verifier->Lookup("no-such-id").error().code() == StatusCode::kNotFound);
}

TEST_CASE("oid4vp: a request object by reference, unsigned for redirect_uri:, fetched by the "
          "wallet through its caller",
          "[oid4vp]") {
  Fixture f;
  VerifierOptions o;
  o.client_id = std::string(kRedirectUriPrefix) + kResponseUri;
  o.response_uri = kResponseUri;
  o.request_uri_base = "https://pharmacy.example/oid4vp/requests/";
  auto v = Verifier::Open((f.dir / "ref.db").string(), o, f.env);
  REQUIRE(v.has_value());
  auto r = (*v)->CreateRequest(LicenseQuery());
  REQUIRE(r.has_value());
  CHECK(r->request_uri == o.request_uri_base + r->id);
  CHECK(r->uri_by_reference == "openid4vp://?client_id=" + PercentEncode(o.client_id) +
                                   "&request_uri=" + PercentEncode(r->request_uri));
  auto object = (*v)->RequestObject(r->id);
  REQUIRE(object.has_value());
  // An Unsecured JWT (alg none, empty signature), typ oauth-authz-req+jwt.
  const std::string& jwt = *object;
  REQUIRE(jwt.back() == '.');
  json header = json::parse(ToString(*Base64UrlDecode(jwt.substr(0, jwt.find('.')))));
  CHECK(header == json{{"alg", "none"}, {"typ", "oauth-authz-req+jwt"}});
  CHECK((*v)->RequestObject("unknown").error().code() == StatusCode::kNotFound);

  std::vector<std::pair<std::string, std::string>> fetched;
  std::string served = jwt, served_uri = r->request_uri;
  RequestObjectFetcher fetch = [&](const std::string& uri,
                                   const std::string& method) -> Result<std::string> {
    fetched.emplace_back(uri, method);
    if (uri != served_uri) return Status::NotFound("404");
    return served;
  };
  std::map<std::string, std::string> outer = {{"client_id", o.client_id},
                                              {"request_uri", r->request_uri}};
  auto parsed = ParseAuthorizationRequest(outer, fetch);
  REQUIRE(parsed.has_value());
  CHECK(fetched == std::vector<std::pair<std::string, std::string>>{{r->request_uri, "get"}});
  CHECK(parsed->nonce == r->nonce);
  CHECK(parsed->state == r->state);
  CHECK(parsed->client_id == o.client_id);
  // The wallet answers it and the verifier accepts the answer; the object is gone after.
  auto form = BuildResponse(*parsed, {f.license}, f.holder, f.env);
  REQUIRE(form.has_value());
  REQUIRE((*v)->VerifyResponse(*form, f.resolver).has_value());
  CHECK((*v)->RequestObject(r->id).error().code() == StatusCode::kNotFound);

  // Refusals.
  auto refused = [&](std::map<std::string, std::string> params, std::string_view reason,
                     const std::string& says) {
    auto p = ParseAuthorizationRequest(params, fetch);
    REQUIRE_FALSE(p.has_value());
    CHECK(p.error().reason() == reason);
    CHECK_THAT(p.error().message(), Catch::Contains(says));
  };
  auto fresh = (*v)->CreateRequest(LicenseQuery());
  REQUIRE(fresh.has_value());
  served = *(*v)->RequestObject(fresh->id);
  outer["request_uri"] = served_uri = fresh->request_uri;
  auto with = [&](const char* k, const std::string& val) {
    auto m = outer;
    m[k] = val;
    return m;
  };
  refused(with("request_uri_method", "put"), "invalid_request_uri_method", "get or post");
  refused(with("client_id", "redirect_uri:https://elsewhere.example/cb"), "invalid_request",
          "client_id is not the request's");
  refused(with("client_id", "decentralized_identifier:did:example:v"), "invalid_request",
          "must be signed");
  refused(with("client_id", "x509_san_dns:pharmacy.example"), "invalid_client", "redirect_uri:");
  refused(with("request_uri", "https://pharmacy.example/oid4vp/requests/gone"), "invalid_request",
          "could not be fetched");
  CHECK(ParseAuthorizationRequest(outer, nullptr).error().reason() == "invalid_request");
  CHECK(ParseAuthorizationRequest(outer).error().reason() == "invalid_request");  // by value only
  // A signed object is not what a redirect_uri: client may send.
  const std::string payload = served.substr(served.find('.') + 1, served.size() - served.find('.') - 2);
  served = Base64UrlEncode(AsBytes(json{{"alg", "EdDSA"}}.dump())) + "." + payload + ".c2ln";
  refused(outer, "invalid_request", "unsigned JWT");
  served = Base64UrlEncode(AsBytes(json{{"alg", "EdDSA"}}.dump())) + "." + payload + ".";
  refused(outer, "invalid_request", "alg none");
  served = "not a jwt";
  refused(outer, "invalid_request", "unsigned JWT");
  // POST is fetched with method "post".
  served = *(*v)->RequestObject(fresh->id);
  fetched.clear();
  REQUIRE(ParseAuthorizationRequest(with("request_uri_method", "post"), fetch).has_value());
  CHECK(fetched.back().second == "post");
}

// A JWS over `header` and `payload` by `signer` (the tests' own, for headers SignJwt would not
// make).
std::string SignRaw(const json& header, const json& payload, const claims::Signer& signer) {
  const std::string input = Base64UrlEncode(AsBytes(header.dump())) + "." +
                            Base64UrlEncode(AsBytes(payload.dump()));
  return input + "." + Base64UrlEncode(*signer.sign(AsBytes(input)));
}

TEST_CASE("oid4vp: decentralized_identifier: — request objects signed by a key of the DID, "
          "verified by the wallet through its resolver",
          "[oid4vp]") {
  Fixture f;
  const std::string did = f.issuer.verification_method.substr(0, f.issuer.verification_method.find('#'));
  VerifierOptions o;
  o.client_id = std::string(kDecentralizedIdentifierPrefix) + did;
  o.response_uri = kResponseUri;
  o.request_uri_base = "https://pharmacy.example/oid4vp/requests/";
  // §5.9.3: no signer, a signer of another DID, or a signer for a redirect_uri: client: refused.
  CHECK(Verifier::Open((f.dir / "a.db").string(), o, f.env).error().code() ==
        StatusCode::kInvalidArgument);
  o.request_signer = f.holder;
  CHECK(Verifier::Open((f.dir / "a.db").string(), o, f.env).error().code() ==
        StatusCode::kInvalidArgument);
  VerifierOptions ro = o;
  ro.client_id = std::string(kRedirectUriPrefix) + kResponseUri;
  CHECK(Verifier::Open((f.dir / "a.db").string(), ro, f.env).error().code() ==
        StatusCode::kInvalidArgument);
  o.request_signer = f.issuer;
  auto v = Verifier::Open((f.dir / "did.db").string(), o, f.env);
  REQUIRE(v.has_value());
  auto r = (*v)->CreateRequest(LicenseQuery());
  REQUIRE(r.has_value());

  // The object: a JWS, typ oauth-authz-req+jwt, kid the DID URL; iss the DID, aud §5.8's.
  auto object = (*v)->RequestObject(r->id);
  REQUIRE(object.has_value());
  const std::string jws = *object;
  const size_t d1 = jws.find('.'), d2 = jws.rfind('.');
  json header = json::parse(ToString(*Base64UrlDecode(jws.substr(0, d1))));
  json body = json::parse(ToString(*Base64UrlDecode(jws.substr(d1 + 1, d2 - d1 - 1))));
  CHECK(header == json{{"alg", "EdDSA"}, {"kid", f.issuer.verification_method},
                       {"typ", "oauth-authz-req+jwt"}});
  CHECK(body["client_id"] == o.client_id);
  CHECK(body["iss"] == did);
  CHECK(body["aud"] == "https://self-issued.me/v2");
  CHECK(body["iat"] == kNow);
  CHECK(body["exp"] == r->expires);
  CHECK(body["nonce"] == r->nonce);
  CHECK(body["state"] == r->state);
  CHECK(body["response_uri"] == kResponseUri);
  CHECK(body["dcql_query"].is_object());
  // By value: the same signed object in `request` (RFC 9101 §5.1).
  CHECK(r->uri.starts_with("openid4vp://?client_id=" + PercentEncode(o.client_id) + "&request="));

  std::string served = jws;
  RequestObjectFetcher fetch = [&](const std::string& uri,
                                   const std::string&) -> Result<std::string> {
    if (!uri.starts_with(o.request_uri_base)) return Status::NotFound("404");
    return served;
  };
  std::map<std::string, std::string> outer = {{"client_id", o.client_id},
                                              {"request_uri", r->request_uri}};
  auto parsed = ParseAuthorizationRequest(outer, fetch, &f.resolver, kNow);
  INFO((parsed ? "" : parsed.error().ToString()));
  REQUIRE(parsed.has_value());
  CHECK(parsed->client_id == o.client_id);
  CHECK(parsed->verifier_did == did);
  CHECK(parsed->request_kid == f.issuer.verification_method);
  CHECK(parsed->nonce == r->nonce);
  auto by_value = ParseAuthorizationRequest(
      {{"client_id", o.client_id}, {"request", jws}}, nullptr, &f.resolver, kNow);
  REQUIRE(by_value.has_value());
  CHECK(by_value->state == r->state);
  // The KB-JWT's aud is the whole client_id, prefix included; the verifier accepts the answer.
  auto form = BuildResponse(*parsed, {f.license}, f.holder, f.env);
  REQUIRE(form.has_value());
  auto verified = (*v)->VerifyResponse(*form, f.resolver);
  INFO((verified ? "" : verified.error().ToString()));
  REQUIRE(verified.has_value());

  // Refusals, each invalid_request with what is wrong.
  auto fresh = (*v)->CreateRequest(LicenseQuery());
  REQUIRE(fresh.has_value());
  const std::string good = *(*v)->RequestObject(fresh->id);
  auto refused = [&](const std::string& object_text, const std::string& client,
                     const std::string& says, const did::Resolver* resolver) {
    served = object_text;
    auto p = ParseAuthorizationRequest({{"client_id", client}, {"request_uri", fresh->request_uri}},
                                       fetch, resolver, kNow);
    REQUIRE_FALSE(p.has_value());
    CHECK(p.error().reason() == "invalid_request");
    CHECK_THAT(p.error().message(), Catch::Contains(says));
  };
  const json claims = json::parse(
      ToString(*Base64UrlDecode(good.substr(good.find('.') + 1,
                                            good.rfind('.') - good.find('.') - 1))));
  const json good_header = {{"alg", "EdDSA"}, {"kid", f.issuer.verification_method},
                            {"typ", "oauth-authz-req+jwt"}};
  REQUIRE(ParseAuthorizationRequest(outer, [&](auto&, auto&) -> Result<std::string> {
            return SignRaw(good_header, claims, f.issuer);
          }, &f.resolver, kNow).has_value());  // the raw signer makes acceptable objects
  // No resolver: a signed object cannot be checked, so it is not read.
  refused(good, o.client_id, "no DID resolver", nullptr);
  // Unsigned under decentralized_identifier:.
  refused(Base64UrlEncode(AsBytes(json{{"alg", "none"}, {"typ", "oauth-authz-req+jwt"}}.dump())) +
              "." + Base64UrlEncode(AsBytes(claims.dump())) + ".",
          o.client_id, "must be signed", &f.resolver);
  // Signed under redirect_uri: (the object's own client_id aside).
  refused(good, std::string(kRedirectUriPrefix) + kResponseUri, "must not be signed", &f.resolver);
  // A signature that does not verify.
  std::string tampered = good;
  tampered[good.rfind('.') + 3] = tampered[good.rfind('.') + 3] == 'A' ? 'B' : 'A';
  refused(tampered, o.client_id, "signature_invalid", &f.resolver);
  json changed = claims;
  changed["response_uri"] = "https://attacker.example/collect";
  refused(good.substr(0, good.find('.')) + "." + Base64UrlEncode(AsBytes(changed.dump())) +
              good.substr(good.rfind('.')),
          o.client_id, "signature_invalid", &f.resolver);
  // A kid of another DID (a well-formed object signed by someone else's key).
  const std::string other_did =
      f.holder.verification_method.substr(0, f.holder.verification_method.find('#'));
  json by_other = claims;
  by_other["iss"] = other_did;
  refused(SignRaw({{"alg", "EdDSA"}, {"kid", f.holder.verification_method},
                   {"typ", "oauth-authz-req+jwt"}},
                  by_other, f.holder),
          o.client_id, "not of the client's DID", &f.resolver);
  // A kid that is not a method of the DID.
  refused(SignRaw({{"alg", "EdDSA"}, {"kid", did + "#no-such-key"}, {"typ", "oauth-authz-req+jwt"}},
                  claims, f.issuer),
          o.client_id, "method_unresolved", &f.resolver);
  // typ other than oauth-authz-req+jwt, or none.
  refused(SignRaw({{"alg", "EdDSA"}, {"kid", f.issuer.verification_method}, {"typ", "JWT"}},
                  claims, f.issuer),
          o.client_id, "typ_mismatch", &f.resolver);
  refused(SignRaw({{"alg", "EdDSA"}, {"kid", f.issuer.verification_method}}, claims, f.issuer),
          o.client_id, "typ_mismatch", &f.resolver);
  // An aud for another wallet (§5.8).
  json aud = claims;
  aud["aud"] = "https://wallet.other.example";
  refused(SignRaw(good_header, aud, f.issuer), o.client_id, "aud", &f.resolver);
  // The object's client_id is not the outer one.
  json other_client = claims;
  other_client["client_id"] = std::string(kDecentralizedIdentifierPrefix) + did + ":x";
  refused(SignRaw(good_header, other_client, f.issuer), o.client_id,
          "client_id is not the request's", &f.resolver);
  // Expired.
  served = good;
  auto late = ParseAuthorizationRequest(outer, fetch, &f.resolver,
                                        fresh->expires + 3600);
  REQUIRE_FALSE(late.has_value());
  CHECK(late.error().reason() == "invalid_request");
  CHECK_THAT(late.error().message(), Catch::Contains("jwt_expired"));
}

TEST_CASE("oid4vp: direct_post.jwt — the response encrypted to the request's key (ECDH-ES)",
          "[oid4vp]") {
  Fixture f;
  RequestOptions ro;
  ro.encrypted_response = true;
  auto r = f.verifier->CreateRequest(LicenseQuery(), ro);
  REQUIRE(r.has_value());
  CHECK(r->params.at("response_mode") == "direct_post.jwt");
  json meta = json::parse(r->params.at("client_metadata"));
  const json jwk = meta["jwks"]["keys"][0];
  CHECK(jwk["kty"] == "EC");
  CHECK(jwk["crv"] == "P-256");
  CHECK(jwk["kid"] == r->id);
  CHECK(jwk["alg"] == "ECDH-ES");
  CHECK_FALSE(jwk.contains("d"));
  CHECK(meta["encrypted_response_enc_values_supported"] == json::array({"A128GCM", "A256GCM"}));

  // The wallet's answer, as direct_post would carry it, then encrypted.
  auto plain_params = r->params;
  plain_params["response_mode"] = "direct_post";
  plain_params.erase("client_metadata");
  auto parsed = ParseAuthorizationRequest(plain_params);
  REQUIRE(parsed.has_value());
  auto form = f.Respond(*parsed);
  json payload = {{"vp_token", json::parse(form.at("vp_token"))}, {"state", form.at("state")}};

  auto refused = [&](const std::map<std::string, std::string>& posted, const std::string& says) {
    auto v = f.verifier->VerifyResponse(posted, f.resolver);
    REQUIRE_FALSE(v.has_value());
    CHECK(v.error().reason() == "invalid_request");
    CHECK_THAT(v.error().message(), Catch::Contains(says));
  };
  // Refused, and nothing spent: the plain form, a tampered JWE, another request's state inside,
  // another verifier's key.
  refused(form, "asked for an encrypted response");
  auto jwe = EncryptResponse(payload, jwk, "A128GCM");
  REQUIRE(jwe.has_value());
  CHECK(std::count(jwe->begin(), jwe->end(), '.') == 4);
  std::string tampered = *jwe;
  tampered[tampered.rfind('.') - 3] = tampered[tampered.rfind('.') - 3] == 'A' ? 'B' : 'A';
  refused({{"response", tampered}}, "decryption failed");
  auto other = f.verifier->CreateRequest(LicenseQuery(), ro);
  REQUIRE(other.has_value());
  json crossed = payload;
  crossed["state"] = other->state;
  refused({{"response", *EncryptResponse(crossed, jwk, "A128GCM")}}, "not its request's");
  json other_jwk = json::parse(other->params.at("client_metadata"))["jwks"]["keys"][0];
  json wrong_key = other_jwk;
  wrong_key["kid"] = r->id;  // names this request, encrypted to the other one's key
  refused({{"response", *EncryptResponse(payload, wrong_key, "A256GCM")}}, "decryption failed");
  refused({{"response", "a.b.c"}}, "not a compact JWE");
  refused({{"response", *jwe}, {"state", r->state}}, "only `response`");
  CHECK_FALSE(EncryptResponse(payload, jwk, "A192CBC").has_value());

  // The real one, A256GCM this time.
  auto v = f.verifier->VerifyResponse({{"response", *EncryptResponse(payload, jwk, "A256GCM")}},
                                      f.resolver);
  INFO((v ? "" : v.error().ToString()));
  REQUIRE(v.has_value());
  CHECK(json::parse(v->credentials.at("license")[0].payload_json)["family_name"] == "Lovelace");
  refused({{"response", *jwe}}, "already answered");
}
