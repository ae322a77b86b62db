// A running container for the spec-only UMA client (tests/interop/uma_client.mjs): the
// authorization server and the FHIR resource server on 127.0.0.1 (a free port), a patient's
// records and policy, a licensed physician, a revoked license, a stranger and a resource-server
// client. Prints one JSON line describing all that, then serves until stdin closes or SIGTERM.
#include <httplib.h>
#include <signal.h>

#include <iostream>
#include <thread>

#include "medallion/http/http.h"
#include "medallion/roles/uma_http.h"
#include "uma/uma_world.h"

using namespace medallion;
using nlohmann::json;

int main() {
  httplib::Server http;
  http::ConfigureServer(http);
  const int port = http.bind_to_any_port("127.0.0.1");
  if (port <= 0) {
    std::cerr << "uma_fixture: cannot bind\n";
    return 1;
  }
  testing::UmaWorld w("uma-fixture");
  SystemClock system_clock;
  w.env.clock = &system_clock;  // the client signs with real time
  w.issuer = "http://127.0.0.1:" + std::to_string(port);
  w.Open();

  auto rx = w.records->Create(
      {{"resourceType", "MedicationRequest"},
       {"status", "active"},
       {"intent", "order"},
       {"medicationCodeableConcept",
        {{"coding",
          {{{"system", "http://www.nlm.nih.gov/research/umls/rxnorm"}, {"code", "1049502"}}}}}},
       {"subject", {{"reference", "Patient/p1"}}}});
  auto condition = w.records->Create({{"resourceType", "Condition"},
                                      {"subject", {{"reference", "Patient/p1"}}},
                                      {"code", {{"text", "Hypertension"}}}});
  const std::string session = w.OwnerSession();
  // The FHIR server runs as an ordinary resource-server client the owner registered (RFC 7591)
  // and takes its PAT with client_credentials — the credentials the spec-only client gets too.
  uma::Reply rs = w.as->RegisterClient(
      {{"client_name", "fhir resource server"}, {"scope", "uma_protection"}}, session);
  if (!rs.ok()) {
    std::cerr << "uma_fixture: registration failed\n";
    return 1;
  }
  const uma::ClientCredentials rs_client{rs.body["client_id"], rs.body["client_secret"]};
  uma::AuthorizationServer* as = w.as.get();
  auto fhir = roles::FhirResourceServer::Create(
      *w.as, *w.records, [as, rs_client]() -> Result<std::string> {
        uma::Reply t = as->Token(
            {{"grant_type", "client_credentials"}, {"scope", "uma_protection"}}, rs_client);
        if (!t.ok()) return Status::Unauthenticated(t.body.dump());
        return t.body["access_token"].get<std::string>();
      });
  if (!rx || !condition || !fhir) {
    std::cerr << "uma_fixture: setup failed\n";
    return 1;
  }
  roles::RegisterUmaRoutes(http, *w.as);
  (*fhir)->RegisterRoutes(http);

  uma::Reply policy =
      w.as->AddPolicy(session, {{"effect", "permit"},
                                {"subjects", {{{"credential_type", "MedicalLicenseCredential"}}}},
                                {"resource_types", {"MedicationRequest"}},
                                {"scopes", {"read", "search"}},
                                {"purposes", {"treatment"}},
                                {"note", "licensed physicians, for treatment"}});
  if (!policy.ok()) {
    std::cerr << "uma_fixture: policy or client failed\n";
    return 1;
  }
  const json license = w.License(w.physician);
  const json revoked = w.License(w.physician, "urn:uuid:license-revoked");
  w.revoked.insert("urn:uuid:license-revoked");

  auto party = [](const testing::UmaKey& k) {
    return json{{"did", k.Did()}, {"kid", k.Kid()}, {"private_jwk", k.PrivateJwk()}};
  };
  json fixture = {
      {"base_url", w.issuer},
      {"record", "MedicationRequest/" + (*rx)["id"].get<std::string>()},
      {"forbidden_path", "/fhir/Condition?patient=p1"},
      {"physician", party(w.physician)},
      {"stranger", party(w.stranger)},
      {"license", license},
      {"revoked_license", revoked},
      {"resource_server",
       {{"client_id", rs.body["client_id"]}, {"client_secret", rs.body["client_secret"]}}},
      {"purpose", "treatment"}};

  std::thread serve([&] { http.listen_after_bind(); });
  while (!http.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::cout << fixture.dump() << std::endl;
  // Until the driver closes our stdin (or kills us).
  std::string line;
  while (std::getline(std::cin, line)) {
  }
  http.stop();
  serve.join();
  return 0;
}
