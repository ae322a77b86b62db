// roles/oid4vp_wallet.h: the OpenID4VP wallet's pieces shared by `oid4vp respond` and the
// patient's web app — the request link's parameters, the transport rule, the kept SD-JWT VCs,
// the consent plan, and the direct_post of a presentation and of a refusal to a loopback
// verifier (checked there with oid4vc::Verifier).
#include "medallion/roles/oid4vp_wallet.h"

#include <httplib.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <chrono>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "medallion/claims/sd_jwt.h"
#include "medallion/core/encoding.h"
#include "medallion/did/did_key.h"
#include "medallion/did/resolver.h"
#include "medallion/roles/uma_http.h"
#include "medallion/wallet/keys.h"

using namespace medallion;
using nlohmann::json;

namespace {

constexpr const char* kVct = "urn:example:vct:HealthInsuranceCard:1";

std::shared_ptr<wallet::SigningKey> Key(uint8_t fill) {
  return std::make_shared<wallet::SigningKey>(
      *wallet::MakeSigningKey(wallet::SignatureAlg::kEdDSA, Bytes(32, fill)));
}

claims::Signer SignerOf(const std::shared_ptr<wallet::SigningKey>& k) {
  const std::string did = *did::DidKeyFromPublicKey(did::KeyType::kEd25519, k->public_key);
  return claims::WalletSigner(
      k, did + "#" + *did::MultikeyFromPublicKey(did::KeyType::kEd25519, k->public_key));
}

// A verifier's response_uri on loopback: keeps the forms posted to it.
struct FakeVerifier {
  httplib::Server server;
  std::thread thread;
  int port = 0;
  std::mutex mu;
  std::vector<std::string> bodies;
  FakeVerifier() {
    server.Post("/cb", [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard<std::mutex> lock(mu);
        bodies.push_back(req.body);
      }
      res.set_content(R"({"redirect_uri":"https://verifier.example/done"})", "application/json");
    });
    server.Post("/refuse", [](const httplib::Request&, httplib::Response& res) {
      res.status = 400;
      res.set_content(R"({"error":"invalid_request","error_description":"no"})",
                      "application/json");
    });
    port = server.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ~FakeVerifier() {
    server.stop();
    thread.join();
  }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port) + path;
  }
};

struct Fixture {
  FakeClock clock{int64_t{1'780'000'000} * 1000};
  SeededRng rng{41};
  Env env{&clock, &rng};
  std::shared_ptr<wallet::SigningKey> issuer_key = Key(3), holder_key = Key(4);
  claims::Signer issuer = SignerOf(issuer_key), holder = SignerOf(holder_key);
  std::string card;
  std::filesystem::path dir;
  Fixture() {
    json payload = {{"vct", kVct},
                    {"member_id", "M-1"},
                    {"name", "Ada"},
                    {"birthdate", "1990-12-10"},
                    {"exp", 1'780'000'000 + 86400}};
    claims::SdJwtIssueOptions o;
    o.disclosable = {"/member_id", "/name", "/birthdate"};
    o.holder = claims::HolderKey{claims::Alg::kEdDSA, holder_key->public_key};
    card = *claims::IssueSdJwt(payload, issuer, o, env);
    static int n = 0;
    dir = std::filesystem::temp_directory_path() /
          ("medallion-oid4vp-wallet-" + std::to_string(::getpid()) + "-" + std::to_string(++n));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  ~Fixture() { std::filesystem::remove_all(dir); }

  std::unique_ptr<oid4vc::Verifier> Verifier(const std::string& response_uri) {
    oid4vc::VerifierOptions o;
    o.client_id = std::string(oid4vc::kRedirectUriPrefix) + response_uri;
    o.response_uri = response_uri;
    return *oid4vc::Verifier::Open((dir / "v.db").string(), o, env);
  }
};

json AskQuery() {
  return {{"credentials",
           {{{"id", "card"},
             {"format", "dc+sd-jwt"},
             {"meta", {{"vct_values", {kVct}}}},
             {"claims", {{{"path", {"member_id"}}}}}}}}};
}

}  // namespace

TEST_CASE("oid4vp wallet: the request link's parameters and the transport rule", "[oid4vp]") {
  CHECK_FALSE(static_cast<bool>(roles::Oid4vpRequestParams("openid4vp://client_id=x")));
  const std::string too_long = "openid4vp://?" + std::string(100 * 1024, 'a');
  CHECK_FALSE(static_cast<bool>(roles::Oid4vpRequestParams(too_long)));
  auto p = roles::Oid4vpRequestParams("openid4vp://?client_id=redirect_uri%3Ahttps%3A%2F%2Fv&a=b#f");
  REQUIRE(p);
  CHECK(p->at("client_id") == "redirect_uri:https://v");
  CHECK(p->at("a") == "b");

  CHECK(roles::CheckPresentationTransport("https://verifier.example/cb").ok());
  CHECK(roles::CheckPresentationTransport("http://127.0.0.1:8080/cb").ok());
  CHECK(roles::CheckPresentationTransport("http://localhost/cb").ok());
  CHECK_FALSE(roles::CheckPresentationTransport("http://verifier.example/cb").ok());
  CHECK_FALSE(roles::CheckPresentationTransport("http://127.0.0.1.evil.example/cb").ok());
  CHECK_FALSE(roles::CheckPresentationTransport("ftp://127.0.0.1/cb").ok());
  // A server-side wallet (her container) reaches loopback only with --allow-insecure-loopback.
  CHECK(roles::CheckPresentationTransport("https://verifier.example/cb", false).ok());
  CHECK_FALSE(roles::CheckPresentationTransport("http://127.0.0.1:8080/cb", false).ok());
  CHECK_FALSE(roles::CheckPresentationTransport("http://localhost/cb", false).ok());
  CHECK_FALSE(roles::CheckPresentationTransport("http://[::1]:9/cb", false).ok());

  // A response_uri off loopback over plain http is refused before anything is built; so is a
  // request_uri (not fetched).
  auto off = roles::ReadOid4vpRequest(
      "openid4vp://?client_id=redirect_uri%3Ahttp%3A%2F%2Fverifier.example%2Fcb&response_type="
      "vp_token&response_mode=direct_post&response_uri=http%3A%2F%2Fverifier.example%2Fcb&nonce="
      "n&dcql_query=" +
      PercentEncode(AskQuery().dump()));
  REQUIRE_FALSE(off);
  CHECK(off.error().message().find("https is required") != std::string::npos);
  auto by_ref = roles::ReadOid4vpRequest(
      "openid4vp://?client_id=redirect_uri%3Ahttps%3A%2F%2Fv.example%2Fcb&request_uri=http%3A%2F%2F"
      "verifier.example%2Freq");
  REQUIRE_FALSE(by_ref);
  CHECK(by_ref.error().message().find("https is required") != std::string::npos);
}

TEST_CASE("oid4vp wallet: the kept SD-JWT VCs and the consent plan", "[oid4vp]") {
  Fixture f;
  const json rows = json::array({{{"id", "a"}, {"credential", {{"type", "VC"}}}},
                                 {{"id", "b"}, {"format", "dc+sd-jwt"}, {"credential", f.card}},
                                 {{"id", "c"}, {"format", "dc+sd-jwt"}, {"credential", 7}}});
  std::vector<std::string> labels;
  const std::vector<std::string> held = roles::KeptSdJwtVcs(rows, &labels);
  REQUIRE(held.size() == 1);
  CHECK(held[0] == f.card);
  CHECK(labels == std::vector<std::string>{"container:b"});

  auto query = oid4vc::ParseDcqlQuery(AskQuery());
  REQUIRE(query);
  auto selections = oid4vc::MatchDcql(*query, held);
  REQUIRE(selections);
  const json plan = roles::Oid4vpDisclosurePlan(labels, held, *selections, true);
  REQUIRE(plan.size() == 1);
  CHECK(plan[0]["query_id"] == "card");
  CHECK(plan[0]["vct"] == kVct);
  CHECK(plan[0]["issuer"] == f.issuer.verification_method.substr(0, f.issuer.verification_method.find('#')));
  CHECK(plan[0]["disclosed_claims"] == json::array({"/member_id"}));
  CHECK(plan[0]["disclosed_values"] == json{{"/member_id", "M-1"}});
  const json always = plan[0]["always_visible"];
  CHECK(std::find(always.begin(), always.end(), "cnf") != always.end());
  CHECK(std::find(always.begin(), always.end(), "vct") != always.end());
  CHECK(std::find(always.begin(), always.end(), "_sd") == always.end());
  CHECK(std::find(always.begin(), always.end(), "name") == always.end());
  CHECK_FALSE(roles::Oid4vpDisclosurePlan(labels, held, *selections).contains("disclosed_values"));
}

TEST_CASE("oid4vp wallet: direct_post of the presentation and of the refusal", "[oid4vp]") {
  Fixture f;
  FakeVerifier v;
  auto verifier = f.Verifier(v.Url("/cb"));
  did::Resolver resolver;  // did:key
  auto request = verifier->CreateRequest(AskQuery());
  REQUIRE(request);
  // Without loopback http (her container without --allow-insecure-loopback): not read, and a
  // request read elsewhere is neither answered nor declined; nothing reaches the verifier.
  CHECK_FALSE(roles::ReadOid4vpRequest(request->uri, nullptr, nullptr, false));
  auto parsed = roles::ReadOid4vpRequest(request->uri);
  REQUIRE(parsed);
  const std::vector<std::string> held{f.card};
  CHECK_FALSE(roles::PostOid4vpResponse(*parsed, held, f.holder, f.env, false));
  CHECK_FALSE(roles::PostOid4vpDecline(*parsed, "no", false));

  auto sent = roles::PostOid4vpResponse(*parsed, held, f.holder, f.env);
  REQUIRE(sent);
  CHECK((*sent)["sent"] == true);
  CHECK((*sent)["status"] == 200);
  CHECK((*sent)["redirect_uri"] == "https://verifier.example/done");
  REQUIRE(v.bodies.size() == 1);
  auto form = roles::ParseForm(v.bodies[0]);
  REQUIRE(form);
  auto verified = verifier->VerifyResponse(*form, resolver);
  REQUIRE(verified);
  const auto& c = verified->credentials.at("card").at(0);
  CHECK(c.key_bound);
  auto claims = json::parse(c.payload_json);
  CHECK(claims["member_id"] == "M-1");
  CHECK_FALSE(claims.contains("name"));
  CHECK_FALSE(claims.contains("birthdate"));

  // Declined: access_denied with the state, nothing else.
  auto second = verifier->CreateRequest(AskQuery());
  REQUIRE(second);
  auto parsed2 = roles::ReadOid4vpRequest(second->uri);
  REQUIRE(parsed2);
  auto declined = roles::PostOid4vpDecline(*parsed2, "the holder declined the request");
  REQUIRE(declined);
  CHECK((*declined)["declined"] == true);
  REQUIRE(v.bodies.size() == 2);
  auto refusal = roles::ParseForm(v.bodies[1]);
  REQUIRE(refusal);
  CHECK(refusal->at("error") == "access_denied");
  CHECK(refusal->at("state") == second->state);
  CHECK_FALSE(refusal->count("vp_token"));
  auto read = verifier->VerifyResponse(*refusal, resolver);
  REQUIRE_FALSE(read);
  CHECK(read.error().reason() == oid4vc::vp_error::kAccessDenied);

  // A verifier's refusal (not 2xx) is an error naming it; nothing she does not hold is sent.
  oid4vc::ParsedRequest to_refuse = *parsed;
  to_refuse.response_uri = v.Url("/refuse");
  auto refused = roles::PostOid4vpResponse(to_refuse, held, f.holder, f.env);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message().find("no") != std::string::npos);
  auto none = roles::PostOid4vpResponse(*parsed, {}, f.holder, f.env);
  REQUIRE_FALSE(none);
  CHECK(none.error().reason() == oid4vc::vp_error::kAccessDenied);
  CHECK(v.bodies.size() == 2);
}

TEST_CASE("oid4vp wallet: a decentralized_identifier: verifier's signed request, read with its DID",
          "[oid4vp]") {
  Fixture f;
  FakeVerifier v;
  // The verifier's DID is the issuer's did:key here; its request objects are signed (§5.9.3).
  const std::string vm = f.issuer.verification_method;
  const std::string did = vm.substr(0, vm.find('#'));
  oid4vc::VerifierOptions o;
  o.client_id = std::string(oid4vc::kDecentralizedIdentifierPrefix) + did;
  o.response_uri = v.Url("/cb");
  o.request_signer = f.issuer;
  auto verifier = oid4vc::Verifier::Open((f.dir / "did.db").string(), o, f.env);
  REQUIRE(verifier);
  auto request = (*verifier)->CreateRequest(AskQuery());
  REQUIRE(request);
  // By value (request=<JWS>): verified through the default did:key resolver at the caller's time.
  auto parsed = roles::ReadOid4vpRequest(request->uri, nullptr, f.env.clock);
  INFO((parsed ? "" : parsed.error().ToString()));
  REQUIRE(parsed);
  CHECK(parsed->client_id == o.client_id);
  CHECK(parsed->verifier_did == did);
  CHECK(parsed->request_kid == vm);
  // Posted and accepted: the KB-JWT's aud is the whole client_id.
  auto sent = roles::PostOid4vpResponse(*parsed, {f.card}, f.holder, f.env);
  REQUIRE(sent);
  REQUIRE(v.bodies.size() == 1);
  auto form = roles::ParseForm(v.bodies[0]);
  REQUIRE(form);
  did::Resolver resolver;
  CHECK((*verifier)->VerifyResponse(*form, resolver).has_value());
  // The same signed request read a day later: expired (exp = the request's expiry).
  auto later = (*verifier)->CreateRequest(AskQuery());
  REQUIRE(later);
  FakeClock tomorrow{(int64_t{1'780'000'000} + 86400) * 1000};
  auto stale = roles::ReadOid4vpRequest(later->uri, nullptr, &tomorrow);
  REQUIRE_FALSE(stale);
  CHECK(stale.error().reason() == oid4vc::vp_error::kInvalidRequest);
  CHECK(stale.error().message().find("jwt_expired") != std::string::npos);
}
