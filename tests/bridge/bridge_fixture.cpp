// A running container for the C ABI test (bridge_test.c): the owner's consent endpoints on
// 127.0.0.1, pairing offers (a good one, one with a wrong secret, one that expires after 1 s while
// its URI claims 2100), and — as soon as a phone has paired — three requests for it: a
// prescription to co-sign (Data Integrity, by the device's method on did:example:owner), a fill
// to authorize (did-auth+jwt) and a recovery. Prints one JSON line, serves until stdin closes.
#include <httplib.h>

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
  if (port <= 0) return 1;
  testing::UmaWorld w("bridge-fixture");
  SystemClock system_clock;
  w.env.clock = &system_clock;
  w.issuer = "http://127.0.0.1:" + std::to_string(port);
  std::mutex mu;
  std::condition_variable paired_cv;
  std::string device_key;  // Multikey of the first paired device
  w.device_key_hook = [&](ByteView key, bool add) -> Status {
    if (!add) return Status::Ok();
    w.example->Add("did:example:owner", Bytes(key.begin(), key.end()));
    std::lock_guard<std::mutex> lock(mu);
    if (device_key.empty()) device_key = *did::MultikeyFromPublicKey(did::KeyType::kEd25519, key);
    paired_cv.notify_all();
    return Status::Ok();
  };
  w.Open();
  roles::RegisterUmaRoutes(http, *w.as);
  const std::string session = w.OwnerSession();
  auto offer = [&](int64_t ttl) { return w.as->CreatePairing(session, ttl).body; };
  json expiring = offer(1);
  json good = offer(0), wrong = offer(0);
  std::string wrong_uri = wrong["uri"];
  wrong_uri.replace(wrong_uri.find(wrong["secret"].get<std::string>()),
                    wrong["secret"].get<std::string>().size(), Base64UrlEncode(Bytes(32, 7)));
  std::string expiring_uri = expiring["uri"];
  expiring_uri = expiring_uri.substr(0, expiring_uri.find("&expires=")) +
                 "&expires=4102444800";  // claims 2100
  std::string past_uri = good["uri"].get<std::string>();
  past_uri = past_uri.substr(0, past_uri.find("&expires=")) + "&expires=1000000000";

  std::thread serve([&] { http.listen_after_bind(); });
  while (!http.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::thread queue([&] {
    std::unique_lock<std::mutex> lock(mu);
    if (!paired_cv.wait_for(lock, std::chrono::seconds(60), [&] { return !device_key.empty(); }))
      return;
    const std::string vm = "did:example:owner#" + device_key;
    lock.unlock();
    const json credential = {{"@context", {claims::kVcContextV2}},
                             {"type", {"VerifiableCredential"}},
                             {"issuer", "did:example:owner"},
                             {"credentialSubject", {{"id", "did:example:patient"}}}};
    (void)w.as->QueueApproval(
        uma::kRequestPrescriptionCosign,
        {{"text", "Co-sign the prescription of oxycodone 5 mg for Alice"}},
        {{"sign",
          {{"format", "data_integrity"}, {"verification_method", vm}, {"document", credential}}}});
    (void)w.as->QueueApproval(
        uma::kRequestFill, {{"text", "Authorize the fill at Main St Pharmacy"}},
        {{"sign",
          {{"format", "did-auth+jwt"},
           {"verification_method", vm},
           {"claims", {{"aud", "https://pharmacy.example"}, {"prescription", "abc"}}}}}});
    (void)w.as->QueueApproval(uma::kRequestRecovery,
                              {{"text", "Recover the DID with the guardians' shares"}},
                              json::object());
  });

  std::cout << json{{"base_url", w.issuer},
                    {"pairing_uri", good["uri"]},
                    {"wrong_secret_uri", wrong_uri},
                    {"expiring_uri", expiring_uri},
                    {"past_uri", past_uri}}
                   .dump()
            << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    if (device_key.empty()) device_key = "none";
    paired_cv.notify_all();
  }
  queue.join();
  http.stop();
  serve.join();
  return 0;
}
