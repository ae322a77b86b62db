// Fuzz target: the HTTP request handlers of the roles, in process. Each input is one raw HTTP/1.1
// request (request line, headers, body) that httplib's own Server parses and routes — through
// Server::process_request on an in-memory Stream (no socket, nothing on the network) — to the
// handlers a role registers. The first byte picks the role:
//   0  ledger node: RegisterLedgerRoutes with a Log and a Witness over in-memory stores, built
//      afresh for every input (entries, checkpoints, proofs, lookups, tlog-witness add-checkpoint)
//   1  DID resolver: RegisterResolverRoutes (did:key) and the credential context
//   2  personal container: RegisterUmaRoutes (UMA authorization server, owner API, approvals,
//      devices) and the FHIR resource server, over SQLite files in a temporary directory
//   3  society: its desk (roles/src/society_desk.h: clerks' passkeys and sessions, directory,
//      onboarding decisions, licenses, status lists) and RegisterSocietyRoutes (challenges,
//      onboarding with did-auth proofs, the admin API, status lists)
//   4  pharmacy: its counter (roles/src/pharmacy_counter.h: staff, counter requests, the
//      patient's side of a request, dispense/refuse) and RegisterPharmacyRoutes (challenges, the
//      dispense pipeline) with a fake ledger
//   5  two whole containers (roles::ContainerRole) mounted under /c/alice (the patient's web app)
//      and /c/doc (the physician's workspace): the apps' assets, /web/v1/... (passkeys, sessions,
//      CSRF, pairing, relationships, prescriptions, the physician's patients and prescribing),
//      the owner API and FHIR behind the mount
//   6  a container host (roles::HostRole) on a shared listener: lazily opened containers under
//      /c/<name> (ann, ben, cat; at most two open, so the least recently used one is closed
//      and reopened) and one by virtual host (Host: dan.example)
// Roles 2-6 keep their databases across inputs (on tmpfs when there is one); their resolvers
// know did:key only, so no input can make a handler fetch anything. The fake clock advances one
// second per input.
//
// Signed-in web requests: the harness holds a live browser session for each app (made through
// the app's own session store, web.sqlite; remade when an input ended it) and replaces, in the
// input, "@SID@" by the session id and "@CSRF@" by its CSRF token — those of the clerk (role 3),
// the pharmacist (role 4), or the patient (role 5; the physician's for a request that names
// /c/doc). The cookie names are the seeds' to write: mdl_staff_8070 (desk), mdl_staff_8060
// (counter), mdl_session_8090 (containers).
// The rest of the input is the request; for convenience its head may use bare "\n" line ends
// (turned into CRLF here), and a Content-Length is added when the head has none.
#include <dlfcn.h>
#include <httplib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cctype>
#include <cstdio>
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
#include "medallion/roles/container.h"
#include "medallion/roles/did_http.h"
#include "medallion/roles/issuer_http.h"
#include "medallion/roles/ledger_http.h"
#include "medallion/roles/pharmacy.h"
#include "medallion/roles/pharmacy_http.h"
#include "medallion/roles/role.h"
#include "medallion/roles/society.h"
#include "medallion/roles/uma_http.h"
#include "medallion/uma/authorization_server.h"
#include "medallion/uma/record_store.h"
#include "medallion/web/sessions.h"
#include "pharmacy_counter.h"  // roles/src: the apps are the roles' private classes
#include "society_desk.h"

using namespace medallion;
namespace fs = std::filesystem;
using nlohmann::json;

// Nothing here may reach the network. Some handlers call out by design (the patient's app
// presents a prescription to the pharmacy address she typed; the physician's workspace reaches
// a patient's container): every outgoing TCP/UDP connection of this process is refused here
// (name lookups too, as the resolver connects its UDP socket), so such a call ends at once with
// "unavailable" and no input can make this process connect anywhere. Serving is in process;
// the host's listener only binds and accepts. This definition takes the place of libc's (and of
// the sanitizer's interceptor, a weak alias) for the whole process; Unix sockets pass.
extern "C" int connect(int fd, const struct sockaddr* addr, socklen_t len) {
  if (addr != nullptr && (addr->sa_family == AF_INET || addr->sa_family == AF_INET6)) {
    errno = ECONNREFUSED;
    return -1;
  }
  using Fn = int (*)(int, const struct sockaddr*, socklen_t);
  static const Fn real = reinterpret_cast<Fn>(::dlsym(RTLD_NEXT, "connect"));
  return real(fd, addr, len);
}

namespace medallion::roles {
// The friend role.h names: a started role's listener.
struct RoleTestAccess {
  static httplib::Server& Listener(Role& role) { return role.listener(); }
};
}  // namespace medallion::roles

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
  // A streamed answer (Server-Sent Events: a content provider) gets its first chunk, then the
  // client is gone, so that no provider waits here for events that will not come.
  bool is_writable() const override {
    const size_t head = out.find("\r\n\r\n");
    return head == std::string::npos || out.size() == head + 4;
  }
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

// MEDALLION_FUZZ_VERBOSE=1: each request line and the status line of its answer on stderr (to
// see which seeds get past sign-in).
const bool kVerbose = std::getenv("MEDALLION_FUZZ_VERBOSE") != nullptr;

void Serve(httplib::Server& server, std::string request) {
  const std::string line = kVerbose ? request.substr(0, request.find('\r')) : "";
  MemoryStream stream(std::move(request));
  bool closed = false;
  (void)(server.*ServerAccess::kProcess)(stream, true, closed, [](httplib::Request&) {});
  if (kVerbose) {
    std::fprintf(stderr, "%s -> %s\n", line.c_str(),
                 stream.out.substr(0, stream.out.find('\r')).c_str());
  }
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

// A new directory for the roles' files: on tmpfs when there is one (their SQLite files sync on
// every commit, which would make each input cost milliseconds).
fs::path ScratchDir() {
  std::error_code ec;
  if (fs::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0) {
    std::string tmpl = "/dev/shm/medallion-fuzz-roles-XXXXXX";
    if (::mkdtemp(tmpl.data()) != nullptr) return tmpl;
  }
  return fuzz::MakeTempDir("roles");
}

// A live browser session of one app, made through the app's own store (a second connection to
// its web.sqlite) and remade when it has ended.
struct WebSession {
  std::unique_ptr<web::BrowserStore> store;
  std::string account, id, csrf;

  void Open(const fs::path& web_db, Env& env, std::string who) {
    auto s = web::BrowserStore::Open(web_db.string(), env);
    MDL_FUZZ_CHECK(s.has_value());
    store = std::move(s).value();
    account = std::move(who);
  }
  void Ensure() {
    if (!id.empty() && store->Touch(id).has_value()) return;
    auto s = store->CreateSession("passkey", account);
    MDL_FUZZ_CHECK(s.has_value());
    id = s->id;
    csrf = s->csrf_token;
  }
};

void ReplaceAll(std::string& s, std::string_view from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
}

// The input with the session's id and CSRF token in place of "@SID@" and "@CSRF@".
std::string WithSession(std::string request, WebSession& session) {
  if (request.find("@SID@") == std::string::npos && request.find("@CSRF@") == std::string::npos)
    return request;
  session.Ensure();
  ReplaceAll(request, "@SID@", session.id);
  ReplaceAll(request, "@CSRF@", session.csrf);
  return request;
}

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
  // The web apps.
  claims::Signer physician_key = fuzz::TestSigner(claims::Alg::kEdDSA, 0x84);
  std::unique_ptr<roles::SocietyDesk> desk;
  std::unique_ptr<roles::PharmacyCounter> counter;
  std::unique_ptr<roles::ContainerRole> alice, doc;
  httplib::Server web_server;
  WebSession clerk, pharmacist, patient, physician;
  // The host.
  std::unique_ptr<roles::HostRole> host;

  World() {
    dir = ScratchDir();

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
    // The desk first, as SocietyRole::Start registers it.
    roles::DeskOptions desk_options;
    desk_options.dir = (dir / "desk").string();
    desk_options.origin = "http://localhost:8070";
    fs::create_directories(desk_options.dir);
    desk = roles::SocietyDesk::Open(*society, desk_options, env).value();
    desk->RegisterRoutes(society_server);
    roles::RegisterSocietyRoutes(society_server, *society, resolver, "admin-token");
    MDL_FUZZ_CHECK(roles::AddSocietyClerk(desk_options.dir, desk_options.origin, "clerk1", "clerk",
                                          "Clerk One", env)
                       .has_value());
    clerk.Open(fs::path(desk_options.dir) / "web.sqlite", env, "clerk1");

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
    // The counter first, as PharmacyRole::Start registers it.
    roles::CounterOptions counter_options;
    counter_options.dir = (dir / "counter").string();
    counter_options.origin = "http://localhost:8060";
    fs::create_directories(counter_options.dir);
    counter = roles::PharmacyCounter::Open(pharmacy, counter_options, env).value();
    roles::PharmacyCounter* c = counter.get();
    pharmacy.on_dispensed = [c](const claims::DispenseResult& r) { (void)c->Record(r, "", ""); };
    counter->RegisterRoutes(pharmacy_server);
    roles::RegisterPharmacyRoutes(pharmacy_server, pharmacy);
    MDL_FUZZ_CHECK(roles::AddPharmacyStaff(counter_options.dir, counter_options.origin, "pharm1",
                                           "pharmacist", "Pat Pharmacist", env)
                       .has_value());
    pharmacist.Open(fs::path(counter_options.dir) / "web.sqlite", env, "pharm1");

    // Two containers with their apps, mounted on one server as a host without a listener would.
    http::ConfigureServer(web_server);
    const std::string origin = "http://localhost:8090";
    roles::ContainerOptions a;
    a.dir = (dir / "alice").string();
    a.owner = fuzz::DidOf(owner);
    a.web_origin = origin;
    a.verifier.trusted = {fuzz::DidOf(society_key)};
    alice = std::make_unique<roles::ContainerRole>(a, env);
    MDL_FUZZ_CHECK(alice->Mount(web_server, "/c/alice", origin).ok());
    patient.Open(fs::path(a.dir) / "web.sqlite", env, "");
    roles::ContainerOptions d = a;
    d.dir = (dir / "doc").string();
    d.owner = fuzz::DidOf(physician_key);
    d.app = "physician";
    doc = std::make_unique<roles::ContainerRole>(d, env);
    MDL_FUZZ_CHECK(doc->Mount(web_server, "/c/doc", origin).ok());
    physician.Open(fs::path(d.dir) / "web.sqlite", env, "");

    // A host: three containers by path (at most two open) and one by virtual host.
    roles::HostOptions ho;
    ho.listen = "127.0.0.1:0";
    ho.lazy = true;
    ho.max_open = 2;
    for (const char* name : {"ann", "ben", "cat", "dan"}) {
      roles::ContainerOptions one;
      one.dir = (dir / "host" / name).string();
      one.owner = fuzz::DidOf(owner);
      if (std::string_view(name) == "dan") one.virtual_host = "dan.example";
      ho.containers.emplace_back(name, one);
    }
    host = std::make_unique<roles::HostRole>(ho, env);
    const Status started = host->Start();
    if (!started.ok()) std::fprintf(stderr, "host: %s\n", started.message().c_str());
    MDL_FUZZ_CHECK(started.ok());
  }
  ~World() {
    host.reset();
    clerk = {};
    pharmacist = {};
    patient = {};
    physician = {};
    doc.reset();
    alice.reset();
    counter.reset();
    desk.reset();
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
    // No log line per request (http/src/observe.cpp) unless asked for: it is a write to stderr
    // per input, and libFuzzer's job logs would grow by it.
    ::setenv("MEDALLION_LOG", "off", /*overwrite=*/0);
    world = new World();
    std::atexit(Cleanup);
  }
  if (size == 0 || size > 64 * 1024) return 0;
  World& w = *world;
  w.clock.Advance(1000);
  std::string raw(fuzz::AsView(data + 1, size - 1));
  switch (data[0] % 7) {
    case 3:
      raw = WithSession(std::move(raw), w.clerk);
      break;
    case 4:
      raw = WithSession(std::move(raw), w.pharmacist);
      break;
    case 5: {
      // The physician's session for her workspace: the request line names /c/doc.
      const std::string_view line = std::string_view(raw).substr(0, raw.find('\n'));
      raw = WithSession(std::move(raw),
                        line.find("/c/doc") != std::string_view::npos ? w.physician : w.patient);
      break;
    }
    default:
      break;
  }
  std::string request = Normalize(raw);
  switch (data[0] % 7) {
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
    case 5:
      Serve(world->web_server, std::move(request));
      break;
    case 6:
      Serve(roles::RoleTestAccess::Listener(*world->host), std::move(request));
      break;
  }
  return 0;
}
