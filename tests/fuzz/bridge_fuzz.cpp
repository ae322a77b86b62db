// Fuzz target: the phone bridge's JSON inputs (mobile-bridge, include/medallion/bridge.h): every
// answer the bridge reads from the container is outside input. The bridge is driven through its C
// ABI only, against a fake container on 127.0.0.1 inside this process (an httplib server on an
// ephemeral loopback port; nothing leaves the host) whose answers come from the fuzz input:
//   input = <pending status byte> <queue answer> \x1e <decision answer> \x1e <pairing answer>
// Each input runs mdl_phone_pair (the pairing answer; when bit 6 of the status byte is set), mdl_phone_pending (the queue: every item
// checked, its human text built) and mdl_phone_decide for request "r1" (approve or deny by the
// status byte; approving an item whose payload asks for a signature signs a Data Integrity
// document or a did-auth JWT with the device key). The challenge and session answers are valid.
// The wallet is restored once from a fixed mnemonic into a store in a temporary directory, removed
// at exit.
#include <httplib.h>
#include <unistd.h>

#include <cstdlib>
#include <chrono>
#include <filesystem>
#include <iterator>
#include <mutex>
#include <string>
#include <thread>

#include "fuzz_util.h"
#include "medallion/bridge.h"

namespace {

namespace fs = std::filesystem;

constexpr char kSeparator[] = "\x1e";
constexpr int kStatuses[] = {200, 200, 200, 200, 400, 401, 403, 404, 409, 500};

struct Answers {
  std::mutex mu;
  int queue_status = 200;
  std::string queue, decision, pairing;
};

struct FakeContainer {
  Answers answers;
  httplib::Server server;
  std::thread thread;
  int port = 0;

  FakeContainer() {
    auto reply = [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(answers.mu);
      const std::string& path = req.path;
      if (path == "/device/v1/challenge") {
        res.set_content(R"({"nonce":"bm9uY2U"})", "application/json");
      } else if (path == "/device/v1/session") {
        res.set_content(R"({"access_token":"tok","expires_in":600})", "application/json");
      } else if (path == "/device/v1/requests") {
        res.status = answers.queue_status;
        res.set_content(answers.queue, "application/json");
      } else if (path.rfind("/device/v1/requests/", 0) == 0) {
        res.set_content(answers.decision, "application/json");
      } else if (path == "/pairing/v1/complete") {
        res.set_content(answers.pairing, "application/json");
      } else {
        res.status = 404;
      }
    };
    server.Get(".*", reply);
    server.Post(".*", reply);
    port = server.bind_to_any_port("127.0.0.1");
    MDL_FUZZ_CHECK(port > 0);
    thread = std::thread([this] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeContainer() {
    server.stop();
    thread.join();
  }
  std::string PairingUri() const {
    return "medallion-pair://v1?url=http%3A%2F%2F127.0.0.1%3A" + std::to_string(port) +
           "&id=p1&secret=c2VjcmV0&expires=4102444800";
  }
};

struct Harness {
  fs::path dir;
  FakeContainer container;
  mdl_phone* phone = nullptr;

  Harness() {
    ::setenv("MEDALLION_ALLOW_TEST_KDF", "1", 1);
    dir = medallion::fuzz::MakeTempDir("bridge");
    const std::string store = (dir / "phone.db").string();
    const std::string mnemonic =
        "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
        "abandon about";
    const uint8_t pass[] = {'p', 'w'};
    MDL_FUZZ_CHECK(mdl_phone_restore(store.c_str(), pass, sizeof pass, MDL_KDF_TEST,
                                     mnemonic.c_str(), mnemonic.size(), &phone) == MDL_OK);
    {
      std::lock_guard<std::mutex> lock(container.answers.mu);
      container.answers.pairing = R"({"device_id":"d1"})";
    }
    char* out = nullptr;
    MDL_FUZZ_CHECK(mdl_phone_pair(phone, container.PairingUri().c_str(), "fuzz phone", &out) ==
                   MDL_OK);
    mdl_string_free(out);
  }
  ~Harness() {
    mdl_phone_destroy(phone);
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

Harness* harness = nullptr;

void Cleanup() {
  delete harness;
  harness = nullptr;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (harness == nullptr) {
    harness = new Harness();
    std::atexit(Cleanup);
  }
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const auto parts = medallion::fuzz::Split(medallion::fuzz::AsView(data + 1, size - 1),
                                            kSeparator, 3);
  {
    std::lock_guard<std::mutex> lock(harness->container.answers.mu);
    auto& a = harness->container.answers;
    a.queue_status = kStatuses[mode % std::size(kStatuses)];
    a.queue = parts[0];
    a.decision = parts.size() > 1 ? parts[1] : "{}";
    a.pairing = parts.size() > 2 ? parts[2] : R"({"device_id":"d1"})";
  }
  mdl_phone* phone = harness->phone;
  char* out = nullptr;
  // Pairing writes the store (an fsync): only with bit 6 of the status byte.
  if ((mode & 0x40) &&
      mdl_phone_pair(phone, harness->container.PairingUri().c_str(), "fuzz phone", &out) ==
          MDL_OK) {
    MDL_FUZZ_CHECK(out != nullptr);
  }
  mdl_string_free(out);
  out = nullptr;
  (void)mdl_phone_pending(phone, &out);
  mdl_string_free(out);
  out = nullptr;
  (void)mdl_phone_decide(phone, "r1", (mode & 0x80) ? 1 : 0, &out);
  mdl_string_free(out);
  (void)mdl_phone_last_error(phone);
  return 0;
}
