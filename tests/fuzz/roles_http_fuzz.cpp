// Fuzz target: the HTTP request handlers of the roles, in process. Each input is one raw HTTP/1.1
// request (request line, headers, body) that httplib's own Server parses and routes — through
// Server::process_request on an in-memory Stream (no socket, no listener, nothing on the
// network) — to the handlers a role registers (roles/*_http.h). The first byte picks the role:
//   0  ledger node: RegisterLedgerRoutes with a Log and a Witness over in-memory stores, built
//      afresh for every input (entries, checkpoints, proofs, lookups, tlog-witness add-checkpoint)
//   1  DID resolver: RegisterResolverRoutes (did:key) and the credential context
//   2  personal container: RegisterUmaRoutes (UMA authorization server, owner API, approvals,
//      devices) and the FHIR resource server, over SQLite files in a temporary directory
//   3  society: RegisterSocietyRoutes (challenges, onboarding with did-auth proofs, the admin API,
//      status lists) over SQLite in the temporary directory
//   4  pharmacy: RegisterPharmacyRoutes (challenges, the dispense pipeline) with a fake ledger
// Roles 2-4 keep their databases across inputs (building them costs milliseconds); their
// resolvers know did:key only, so no input can make a handler fetch anything. The roles' web
// apps (staff desks, the patient app: roles/src private headers) are not reached.
// The rest of the input is the request; for convenience its head may use bare "\n" line ends
// (turned into CRLF here), and a Content-Length is added when the head has none.
#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "medallion/claims/pharmacy.h"
#include "medallion/claims/presentation.h"
#include "medallion/claims/society.h"
#include "medallion/did/resolver.h"
#include "medallion/http/http.h"
#include "medallion/ledger/checkpoint.h"
#include "medallion/ledger/log.h"
#include "medallion/ledger/signed_note.h"
#include "medallion/ledger/store.h"
#include "medallion/ledger/witness.h"
#include "medallion/roles/did_http.h"
#include "medallion/roles/issuer_http.h"
#include "medallion/roles/ledger_http.h"
#include "medallion/roles/pharmacy_http.h"
#include "medallion/roles/uma_http.h"
#include "medallion/uma/authorization_server.h"
#include "medallion/uma/record_store.h"

using namespace medallion;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// httplib::Server::process_request is protected; a pointer to it, formed through a derived
// class (C++ [class.protected]), calls it on any Server: the server parses the request from the
// stream, routes it and writes the response back, as it does for a socket.
struct ServerAccess : httplib::Server {
  static constexpr auto kProcess = &ServerAccess::process_request;
};

// A Stream over the request bytes; the response is written into `out`.
class MemoryStream final : public httplib::Stream {
 public:
  explicit MemoryStream(std::string in) : in_(std::move(in)) {}
  bool is_readable() const override { return pos_ < in_.size(); }
  bool is_writable() const override { return true; }
  ssize_t read(char* ptr, size_t size) override {
    const size_t n = std::min(size, in_.size() - pos_);
    std::copy_n(in_.data() + pos_, n, ptr);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    out.append(ptr, size);
    return static_cast<ssize_t>(size);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 40000;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 8080;
  }
  socket_t socket() const override { return INVALID_SOCKET; }
  std::string out;

 private:
  std::string in_;
  size_t pos_ = 0;
};

void Serve(httplib::Server& server, std::string request) {
  MemoryStream stream(std::move(request));
  bool closed = false;
  (void)(server.*ServerAccess::kProcess)(stream, true, closed, [](httplib::Request&) {});
}

// The request with CRLF line ends in its head and a Content-Length when it has none.
std::string Normalize(std::string_view raw) {
  size_t head_end = raw.find("\n\n");
  size_t body_at = head_end == std::string_view::npos ? raw.size() : head_end + 2;
  const size_t crlf = raw.find("\r\n\r\n");
  if (crlf != std::string_view::npos && crlf < head_end) {
    head_end = crlf;
    body_at = crlf + 4;
  }
  if (head_end == std::string_view::npos) head_end = raw.size();
  std::string head;
  for (size_t i = 0; i < head_end; ++i) {
    if (raw[i] == '\n' && (i == 0 || raw[i - 1] != '\r')) head += '\r';
    head += raw[i];
  }
  const std::string_view body = raw.substr(std::min(body_at, raw.size()));
  std::string lower = head;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower.find("content-length:") == std::string::npos && !body.empty())
    head += "\r\nContent-Length: " + std::to_string(body.size());
  return head + "\r\n\r\n" + std::string(body);
}

constexpr const char* kOrigin = "ledger.example/fuzz";

class FakeLedger final : public claims::LedgerPort {
 public:
  Result<std::vector<Record>> Find(const ledger::EntryKey&) override {
    return std::vector<Record>{};
  }
  Result<ledger::AppendResult> Append(const json&) override {
    return ledger::AppendResult{next_++, {}};
  }
  std::string TrustedCheckpoint() override { return ""; }

 private:
  uint64_t next_ = 0;
};

struct World {
  fs::path dir;
  FakeClock clock{fuzz::kNowSeconds * 1000};
  SeededRng rng{7};
  Env env{&clock, &rng};
  did::Resolver resolver;
  claims::Signer owner = fuzz::TestSigner(claims::Alg::kEdDSA, 0x81);
  claims::Signer society_key = fuzz::TestSigner(claims::Alg::kEdDSA, 0x82);
  claims::Signer pharmacy_key = fuzz::TestSigner(claims::Alg::kEdDSA, 0x83);
  SecretBytes pseudonym_secret = SecretBytes::CopyFrom(Bytes(32, 0x42));

  httplib::Server resolver_server;
  // The container.
  std::unique_ptr<uma::AuthorizationServer> as;
  std::unique_ptr<uma::RecordStore> records;
  std::unique_ptr<roles::FhirResourceServer> fhir;
  httplib::Server container_server;
  // The society.
  std::unique_ptr<claims::Society> society;
  httplib::Server society_server;
  // The pharmacy.
  FakeLedger pharmacy_ledger;
  claims::ChallengeStore challenges{env};
  roles::PharmacyService pharmacy;
  httplib::Server pharmacy_server;

  World() {
    dir = medallion::fuzz::MakeTempDir("roles");

    http::ConfigureServer(resolver_server);
    roles::RegisterResolverRoutes(resolver_server, resolver);
    roles::RegisterCredentialContext(resolver_server);

    uma::AuthorizationServerOptions o;
    o.issuer = "https://patient.example";
    o.owner_did = fuzz::DidOf(owner);
    o.trusted_issuers = {fuzz::DidOf(society_key)};
    o.resolver = &resolver;
    o.license_status = [](const json&) { return Status::Ok(); };
    o.owner_signer = owner;
    o.pseudonym_secret = &pseudonym_secret;
    as = uma::AuthorizationServer::Open((dir / "consent.db").string(), o, env).value();
    records = uma::RecordStore::Open((dir / "records.db").string(), env).value();
    fhir = roles::FhirResourceServer::Create(*as, *records).value();
    http::ConfigureServer(container_server);
    roles::RegisterUmaRoutes(container_server, *as);
    fhir->RegisterRoutes(container_server);

    claims::SocietyOptions so;
    so.did = fuzz::DidOf(society_key);
    so.signer = society_key;
    so.base_url = "https://society.example";
    so.directory = {{"MD-1", "Ada Lovelace", "CA", "MD", "cardiology", {"II"}, "2030-01-01T00:00:00Z"}};
    society = claims::Society::Open((dir / "society.db").string(), so, env).value();
    http::ConfigureServer(society_server);
    roles::RegisterSocietyRoutes(society_server, *society, resolver, "admin-token");

    pharmacy.config.pharmacy_did = fuzz::DidOf(pharmacy_key);
    pharmacy.config.domain = "https://pharmacy.example";
    pharmacy.config.receipt_signer = pharmacy_key;
    pharmacy.config.trusted_license_issuers = {fuzz::DidOf(society_key)};
    pharmacy.config.pseudonym_secret = &pseudonym_secret;
    pharmacy.resolver = &resolver;
    pharmacy.challenges = &challenges;
    pharmacy.ledger = &pharmacy_ledger;
    pharmacy.license_status = [](const json&) { return Status::Ok(); };
    pharmacy.env = env;
    http::ConfigureServer(pharmacy_server);
    roles::RegisterPharmacyRoutes(pharmacy_server, pharmacy);
  }
  ~World() {
    fhir.reset();
    as.reset();
    records.reset();
    society.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

World* world = nullptr;

void Cleanup() {
  delete world;
  world = nullptr;
}

// A ledger node and a witness, fresh for each input.
void ServeLedger(World& w, std::string request) {
  auto log_store = ledger::SqliteLeafStore::Open(":memory:");
  auto witness_store = ledger::SqliteLeafStore::Open(":memory:");
  MDL_FUZZ_CHECK(log_store.has_value() && witness_store.has_value());
  auto log = ledger::Log::Open(std::move(log_store).value(),
                               ledger::Ed25519NoteSigner::FromSeed(kOrigin, Bytes(32, 0x42)), w.env)
                 .value();
  ledger::Witness witness(witness_store->get(),
                          ledger::CosignatureV1Signer::FromSeed("witness.example/w1", Bytes(32, 0x51)),
                          w.env, {{kOrigin, ledger::Ed25519NoteSigner::FromSeed(kOrigin, Bytes(32, 0x42)).Verifier()}});
  httplib::Server server;
  http::ConfigureServer(server);
  roles::RegisterLedgerRoutes(server, log.get(), &witness, nullptr);
  Serve(server, std::move(request));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (world == nullptr) {
    world = new World();
    std::atexit(Cleanup);
  }
  if (size == 0 || size > 64 * 1024) return 0;
  std::string request = Normalize(fuzz::AsView(data + 1, size - 1));
  switch (data[0] % 5) {
    case 0:
      ServeLedger(*world, std::move(request));
      break;
    case 1:
      Serve(world->resolver_server, std::move(request));
      break;
    case 2:
      Serve(world->container_server, std::move(request));
      break;
    case 3:
      Serve(world->society_server, std::move(request));
      break;
    case 4:
      Serve(world->pharmacy_server, std::move(request));
      break;
  }
  return 0;
}
