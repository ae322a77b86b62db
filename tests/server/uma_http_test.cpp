// The container's consent endpoints and FHIR resource server over HTTP: form and client
// authentication parsing, the UMA 401, the grant through real requests, FHIR interactions
// (create, read, vread, search, update with If-Match), the owner API, and restarts.
#include <catch2/catch.hpp>
#include <httplib.h>

#include <thread>

#include "medallion/core/encoding.h"
#include "medallion/http/http.h"
#include "medallion/roles/uma_http.h"
#include "uma/uma_world.h"

using namespace medallion;
using namespace medallion::http;
using namespace medallion::roles;
using medallion::testing::UmaWorld;
using nlohmann::json;

namespace {

struct Container {
  httplib::Server http;
  int port = 0;
  std::thread thread;
  UmaWorld w{"uma-http"};
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

httplib::Headers Bearer(const std::string& t) { return {{"Authorization", "Bearer " + t}}; }

std::string Basic(const std::string& id, const std::string& secret) {
  return "Basic " + Base64Encode(AsBytes(id + ":" + secret));
}

const json kMedicationRequest = {
    {"resourceType", "MedicationRequest"},
    {"status", "active"},
    {"intent", "order"},
    {"medicationCodeableConcept",
     {{"coding",
       {{{"system", "http://www.nlm.nih.gov/research/umls/rxnorm"}, {"code", "1049502"}}}}}},
    {"subject", {{"reference", "Patient/p1"}}}};

}  // namespace

TEST_CASE("form bodies: RFC 6749 §3.1-3.2 rules", "[uma][http]") {
  auto f = ParseForm("grant_type=a&ticket=b%2Bc+d&empty=&scope=x%20y");
  REQUIRE(f);
  CHECK(f->at("ticket") == "b+c d");
  CHECK(f->at("scope") == "x y");
  CHECK(f->count("empty") == 0);  // sent without a value: omitted
  CHECK_FALSE(ParseForm("ticket=a&ticket=b"));
  CHECK(ParseForm("")->empty());
}

TEST_CASE("the UMA grant and the FHIR server over HTTP", "[uma][http]") {
  Container c;
  UmaWorld& w = c.w;
  httplib::Client http(c.Url());
  const std::string session = w.OwnerSession();
  REQUIRE(
      w.as->AddPolicy(session, {{"effect", "permit"},
                                {"subjects", {{{"credential_type", "MedicalLicenseCredential"}}}},
                                {"resource_types", {"MedicationRequest"}},
                                {"scopes", {"read", "search"}},
                                {"purposes", {"treatment"}}})
          .ok());

  // The owner writes a record with her session.
  auto created = http.Post("/fhir/MedicationRequest", Bearer(session), kMedicationRequest.dump(),
                           "application/fhir+json");
  REQUIRE(created);
  REQUIRE(created->status == 201);
  const json record = json::parse(created->body);
  const std::string id = record["id"];
  CHECK(created->get_header_value("ETag") == "W/\"1\"");
  CHECK(created->get_header_value("Location") == "/fhir/MedicationRequest/" + id + "/_history/1");

  // Discovery.
  auto disc = http.Get("/.well-known/uma2-configuration");
  REQUIRE(disc);
  CHECK(json::parse(disc->body)["token_endpoint"] == c.Url() + "/token");

  // UMA Grant §3.2: no token → 401 with a ticket.
  auto no_token = http.Get("/fhir/MedicationRequest/" + id);
  REQUIRE(no_token);
  CHECK(no_token->status == 401);
  const std::string www = no_token->get_header_value("WWW-Authenticate");
  REQUIRE(www.rfind("UMA realm=\"medallion\", as_uri=\"" + c.Url() + "\", ticket=\"", 0) == 0);
  const std::string ticket =
      www.substr(www.find("ticket=\"") + 8, www.size() - www.find("ticket=\"") - 9);

  // A client registers (RFC 7591) and asks for a token.
  auto reg = http.Post("/register", json{{"client_name", "Dr. app"}}.dump(), "application/json");
  REQUIRE(reg);
  REQUIRE(reg->status == 201);
  const json client = json::parse(reg->body);
  const std::string basic = Basic(client["client_id"], client["client_secret"]);

  // Transport refusals: not a form, a repeated parameter, two authentication methods.
  auto not_form = http.Post("/token", {{"Authorization", basic}}, "{}", "application/json");
  CHECK(not_form->status == 400);
  CHECK(json::parse(not_form->body)["error"] == "invalid_request");
  auto repeated = http.Post("/token", {{"Authorization", basic}}, "grant_type=x&grant_type=y",
                            "application/x-www-form-urlencoded");
  CHECK(repeated->status == 400);
  auto two_methods = http.Post("/token", {{"Authorization", basic}},
                               "grant_type=" + PercentEncode(uma::kUmaTicketGrant) + "&client_id=x",
                               "application/x-www-form-urlencoded");
  CHECK(two_methods->status == 400);
  auto no_auth =
      http.Post("/token", "grant_type=client_credentials", "application/x-www-form-urlencoded");
  CHECK(no_auth->status == 401);
  CHECK(no_auth->get_header_value("WWW-Authenticate").rfind("Basic", 0) == 0);

  auto token = [&](const std::string& body) {
    auto r =
        http.Post("/token", {{"Authorization", basic}}, body, "application/x-www-form-urlencoded");
    REQUIRE(r);
    CHECK(r->get_header_value("Cache-Control") == "no-store");
    return std::make_pair(r->status, json::parse(r->body));
  };
  const std::string grant = "grant_type=" + PercentEncode(uma::kUmaTicketGrant);
  auto [s1, need] = token(grant + "&ticket=" + ticket);
  CHECK(s1 == 403);
  REQUIRE(need["error"] == "need_info");
  const std::string t2 = need["ticket"];
  const std::string vp = w.Vp(w.physician, {w.License(w.physician)}, t2);
  auto [s2, ok] = token(grant + "&ticket=" + t2 + "&claim_token=" + vp +
                        "&claim_token_format=" + PercentEncode(uma::kClaimTokenVp));
  INFO(ok.dump());
  REQUIRE(s2 == 200);
  const std::string rpt = ok["access_token"];

  // Read, vread, search with the RPT.
  auto read = http.Get("/fhir/MedicationRequest/" + id, Bearer(rpt));
  REQUIRE(read->status == 200);
  CHECK(read->get_header_value("Content-Type") == "application/fhir+json");
  CHECK(json::parse(read->body)["id"] == id);
  CHECK(http.Get("/fhir/MedicationRequest/" + id + "/_history/1", Bearer(rpt))->status == 200);
  auto search = http.Get("/fhir/MedicationRequest?patient=p1", Bearer(rpt));
  REQUIRE(search->status == 401);  // "search" was not in the ticket: a new ticket for it
  // Write access was never granted.
  json changed = record;
  changed["status"] = "on-hold";
  CHECK(http.Put("/fhir/MedicationRequest/" + id, Bearer(rpt), changed.dump(),
                 "application/fhir+json")
            ->status == 401);
  // Another type is another resource.
  CHECK(http.Get("/fhir/Condition?patient=p1", Bearer(rpt))->status == 401);

  // The owner's update with If-Match: a stale version is refused (412), the current accepted.
  auto stale = http.Put("/fhir/MedicationRequest/" + id,
                        {{"Authorization", "Bearer " + session}, {"If-Match", "W/\"7\""}},
                        changed.dump(), "application/fhir+json");
  CHECK(stale->status == 412);
  auto fresh = http.Put("/fhir/MedicationRequest/" + id,
                        {{"Authorization", "Bearer " + session}, {"If-Match", "W/\"1\""}},
                        changed.dump(), "application/fhir+json");
  CHECK(fresh->status == 200);
  CHECK(fresh->get_header_value("ETag") == "W/\"2\"");
  auto owner_search = http.Get("/fhir/MedicationRequest?patient=Patient/p1", Bearer(session));
  REQUIRE(owner_search->status == 200);
  const json bundle = json::parse(owner_search->body);
  CHECK(bundle["resourceType"] == "Bundle");
  CHECK(bundle["type"] == "searchset");
  CHECK(bundle["total"] == 1);
  CHECK(http.Get("/fhir/MedicationRequest?name=x", Bearer(session))->status == 400);
  auto invalid =
      http.Post("/fhir/MedicationRequest", Bearer(session),
                json{{"resourceType", "MedicationRequest"}}.dump(), "application/fhir+json");
  CHECK(invalid->status == 400);
  CHECK(json::parse(invalid->body)["error_description"].get<std::string>().find(
            "fhir: MedicationRequest.status") != std::string::npos);
  CHECK(http.Get("/fhir/Patient/p1", Bearer(session))->status == 404);

  // Introspection and revocation over HTTP.
  const std::string pat = *w.as->InternalPat("probe");
  auto intro_none = http.Post("/introspect", "token=" + rpt, "application/x-www-form-urlencoded");
  CHECK(intro_none->status == 401);
  auto rev = http.Post("/revoke", {{"Authorization", basic}}, "token=" + rpt,
                       "application/x-www-form-urlencoded");
  CHECK(rev->status == 200);
  CHECK(http.Get("/fhir/MedicationRequest/" + id, Bearer(rpt))->status == 401);

  // The owner API: 401 with WWW-Authenticate Bearer without a session; the log shows the release.
  auto no_session = http.Get("/owner/v1/policies");
  CHECK(no_session->status == 401);
  CHECK(no_session->get_header_value("WWW-Authenticate").rfind("Bearer", 0) == 0);
  CHECK(http.Post("/owner/v1/policies", json{{"effect", "permit"}}.dump(), "application/json")
            ->status == 401);
  auto policies = http.Get("/owner/v1/policies", Bearer(session));
  CHECK(json::parse(policies->body).size() == 1);
  auto log = http.Get("/owner/v1/disclosures?after=0&limit=1000", Bearer(session));
  REQUIRE(log->status == 200);
  int releases = 0;
  const json entries = json::parse(log->body)["entries"];
  for (const json& e : entries) {
    if (e["event"] == "release" && e["requesting_party"] == w.physician.Did()) ++releases;
  }
  CHECK(releases == 2);  // read and vread
  auto exported = http.Get("/owner/v1/disclosures/export", Bearer(session));
  CHECK(uma::VerifyDisclosureExport(json::parse(exported->body)));
  CHECK(http.Get("/owner/v1/disclosures?after=x", Bearer(session))->status == 400);

  // Owner sign-in over HTTP.
  auto ch = http.Post("/owner/v1/challenge", "", "application/json");
  REQUIRE(ch->status == 200);
  const std::string nonce = json::parse(ch->body)["nonce"];
  auto signin =
      http.Post("/owner/v1/session", json{{"token", w.DidAuth(w.patient, nonce, "")}}.dump(),
                "application/json");
  CHECK(signin->status == 200);
  CHECK(http.Post("/owner/v1/session", "not json", "application/json")->status == 400);
}

TEST_CASE("the FHIR server finds its resources again after a restart", "[uma][http]") {
  UmaWorld w("uma-restart");
  auto first = FhirResourceServer::Create(*w.as, *w.records);
  REQUIRE(first);
  const std::string id = (*first)->ResourceIdFor("Observation");
  REQUIRE(!id.empty());
  first->reset();
  w.Open();
  auto second = FhirResourceServer::Create(*w.as, *w.records);
  REQUIRE(second);
  CHECK((*second)->ResourceIdFor("Observation") == id);
  CHECK((*second)->ResourceIdFor("Patient").empty());
  const std::string pat = *w.as->InternalPat("medallion-fhir");
  CHECK(w.as->ListResources(pat).body.size() == 5);
}

// Issue 12: one request with 100,000 nested arrays used to overflow the container's stack (the
// parser built it; an error message dump()ed it). Every JSON entry point now refuses it with a
// 400 before building anything, and the container goes on serving.
TEST_CASE("JSON nested 100,000 deep is refused at every entry point, and the container survives",
          "[uma][http][hardening]") {
  Container c;
  httplib::Client http(c.Url());
  const std::string session = c.w.OwnerSession();
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  struct Case {
    const char* path;
    std::string body;
    bool owner;
  };
  const std::vector<Case> cases = {
      {"/inbox/v1/credentials",
       "{\"@context\":[\"https://www.w3.org/ns/credentials/v2\"," + deep + "]}", false},
      {"/owner/v1/approvals",
       "{\"kind\":\"recovery\",\"summary\":{\"text\":\"x\"},\"payload\":" + deep + "}", true},
      {"/owner/v1/approvals", "{\"kind\":\"recovery\",\"summary\":" + deep + "}", true},
      {"/owner/v1/credentials", deep, true},
      {"/owner/v1/policies", deep, true},
      {"/register", deep, false},
      {"/uma/permission", deep, false},
      {"/pairing/v1/complete", deep, false},
      {"/device/v1/session", deep, false},
      {"/fhir/MedicationRequest", deep, true},
  };
  for (const Case& k : cases) {
    INFO(k.path);
    auto r = http.Post(
        k.path, k.owner ? Bearer(session) : httplib::Headers{}, k.body,
        std::string(k.path).rfind("/fhir", 0) == 0 ? "application/fhir+json" : "application/json");
    REQUIRE(r);
    CHECK(r->status == 400);
    auto body = json::parse(r->body, nullptr, false);
    REQUIRE(body.is_object());
    CHECK(body.contains("error"));
    // The answer never echoes the hostile value.
    CHECK(r->body.size() < 1000);
  }
  // Still serving.
  auto discovery = http.Get("/.well-known/uma2-configuration");
  REQUIRE(discovery);
  CHECK(discovery->status == 200);
  // FedAuthz §3.2: an unsupported method is 405 with Allow, not 404.
  auto put_permission = http.Put("/uma/permission", "{}", "application/json");
  REQUIRE(put_permission);
  CHECK(put_permission->status == 405);
  CHECK(put_permission->get_header_value("Allow") == "POST");
  auto post_resource = http.Post("/uma/resource_set/abc", "{}", "application/json");
  REQUIRE(post_resource);
  CHECK(post_resource->status == 405);
  // A body that is not JSON at all, and one that is not application/json.
  auto form =
      http.Post("/owner/v1/policies", Bearer(session), "{}", "application/x-www-form-urlencoded");
  REQUIRE(form);
  CHECK(form->status == 415);
}
