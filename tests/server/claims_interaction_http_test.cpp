// Interactive claims gathering over HTTP (UMA Grant §3.3.2-§3.3.3 by OpenID4VP 1.0): the
// physician's UMA client (roles/flow.h UmaClient::GrantByPresentation) against the container's
// routes (roles/src/uma_http.cpp): the FHIR server's 401 ticket, need_info with redirect_user,
// the claims interaction endpoint's 302 to openid4vp://, her wallet's direct_post, the redirect
// back with a new ticket, the RPT, and the FHIR read it allows.
#include <catch2/catch.hpp>
#include <httplib.h>

#include <thread>

#include "medallion/claims/sd_jwt.h"
#include "medallion/http/http.h"
#include "medallion/roles/flow.h"
#include "medallion/roles/uma_http.h"
#include "uma/uma_world.h"

using namespace medallion;
using namespace medallion::roles;
using medallion::testing::UmaWorld;
using nlohmann::json;

namespace {

struct Container {
  httplib::Server http;
  int port = 0;
  std::thread thread;
  UmaWorld w{"uma-ci-http"};
  SystemClock system_clock;
  std::unique_ptr<FhirResourceServer> fhir;

  Container() {
    http::ConfigureServer(http);
    port = http.bind_to_any_port("127.0.0.1");
    w.env.clock = &system_clock;
    w.issuer = Url();
    w.Open();
    fhir = std::move(*FhirResourceServer::Create(*w.as, *w.records));
    RegisterUmaRoutes(http, *w.as);
    fhir->RegisterRoutes(http);
    thread = std::thread([this] { http.listen_after_bind(); });
    while (!http.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~Container() {
    http.stop();
    thread.join();
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port); }
};

// The society's license SD-JWT VC for `physician`, bound to her authentication key.
std::string License(UmaWorld& w, const flow::Party& physician) {
  json payload = {{"vct", uma::kLicenseVct},          {"sub", physician.did},
                  {"license_number", "MD-777"},       {"name", "Dr. Grace"},
                  {"jurisdiction", "US-MA"},          {"license_type", "MD"},
                  {"specialty", "Family Medicine"},   {"exp", w.Now() + 86400}};
  claims::SdJwtIssueOptions o;
  o.disclosable = {"/name", "/jurisdiction", "/license_type", "/specialty"};
  o.holder = claims::HolderKey{claims::Alg::kEdDSA, physician.auth->public_key};
  auto sd = claims::IssueSdJwt(payload, w.society.Signer(), o, w.env);
  REQUIRE(sd);
  return *sd;
}

}  // namespace

TEST_CASE("claims interaction over HTTP: the physician's client signs in with her wallet's "
          "license",
          "[uma][http][claims_interaction]") {
  Container c;
  UmaWorld& w = c.w;
  const std::string session = w.OwnerSession();
  REQUIRE(w.as->AddPolicy(session,
                          {{"effect", "permit"},
                           {"subjects", {{{"credential_type", "MedicalLicenseCredential"}}}},
                           {"resource_types", {"MedicationRequest"}},
                           {"scopes", {"read", "search"}},
                           {"purposes", {"treatment"}}})
              .ok());
  auto physician = flow::PartyFromSeed(Bytes(32, 0x77), "");  // her did:key
  REQUIRE(physician);
  const std::string license = License(w, *physician);

  // The discovery document names the endpoint.
  auto meta = flow::Call("GET", c.Url() + "/.well-known/uma2-configuration");
  REQUIRE(meta);
  CHECK(meta->body["claims_interaction_endpoint"] == c.Url() + "/uma/claims_interaction");

  flow::UmaClient uma{c.Url()};
  uma.claims_redirect_uri = "http://127.0.0.1/claims-back";
  REQUIRE(uma.Register().ok());
  auto probe = flow::Call("GET", c.Url() + "/fhir/MedicationRequest");
  REQUIRE(probe);
  REQUIRE(probe->status == 401);
  auto granted = uma.GrantByPresentation(probe->body["ticket"], *physician, license);
  if (!granted) FAIL(granted.error().ToString());
  REQUIRE(granted);
  INFO(granted->body.dump());
  REQUIRE(granted->status == 200);
  CHECK_FALSE(uma.rpt.empty());
  auto read = flow::Call("GET", c.Url() + "/fhir/MedicationRequest", uma.rpt);
  REQUIRE(read);
  CHECK(read->status == 200);

  // The endpoint over HTTP: an unregistered redirect URI is a JSON 400, not a redirect.
  httplib::Client http(c.Url());
  auto bad = http.Get(("/uma/claims_interaction?client_id=" + uma.client_id +
                       "&ticket=x&claims_redirect_uri=https%3A%2F%2Fevil.example%2F&state=s")
                          .c_str());
  REQUIRE(bad);
  CHECK(bad->status == 400);
  CHECK(bad->get_header_value("Location").empty());
  // A direct_post with an unknown state: the wallet gets OpenID4VP's invalid_request.
  auto post = http.Post("/uma/claims_interaction/response", "state=nope&vp_token=%7B%7D",
                        "application/x-www-form-urlencoded");
  REQUIRE(post);
  CHECK(post->status == 400);
  CHECK(json::parse(post->body)["error"] == "invalid_request");

  // A client without a registered claims_redirect_uri cannot use the path at all.
  flow::UmaClient plain{c.Url()};
  REQUIRE(plain.Register().ok());
  CHECK_FALSE(plain.GrantByPresentation("t", *physician, license));
}
