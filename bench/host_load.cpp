// A container host with many containers on one listener (issue 16): how fast it is ready, what
// an idle container costs in memory and threads, and a mixed load on many of them at once.
//
// One process. The host is what `medallion host serve` runs with {"listen", "open": "lazy"}:
// roles::HostRole, every container under /c/<name>, opened on its first request. Each container
// has its own owner (a did:key) and its own directory under --data-dir (a real disk: WAL,
// synchronous=FULL). The --active containers are prepared before the host starts (untimed): a
// MedicationRequest record and a policy that lets the physician's DID read it for treatment.
//
//   1. ready: HostRole::Start() with --containers containers; RSS and threads before and after,
//      so the cost of an idle (listed, not opened) container is (RSS after - RSS before) / N.
//   2. warm-up (untimed): each active container's first request opens it; each gets a
//      requesting-party client (RFC 7591) and an RPT from a full grant.
//   3. mixed load, --threads client threads for --seconds: each operation picks an active
//      container at random; one in four is a full UMA grant round trip (GET → 401 + ticket,
//      POST /token → need_info, POST /token with a did-auth+jwt → RPT, GET with the RPT → 200),
//      the others a protected-resource read with that container's RPT (GET → 200).
//
// Prints one JSON line. Results and commands: docs/benchmarks.md.
//
//   host_load [--containers 10000] [--active 1000] [--threads 16] [--seconds 10]
//             [--data-dir DIR] [--keep-data]
#include <httplib.h>
#include <netinet/in.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "medallion/claims/jose.h"
#include "medallion/core/encoding.h"
#include "medallion/did/did_key.h"
#include "medallion/did/resolver.h"
#include "medallion/roles/container.h"
#include "medallion/uma/authorization_server.h"
#include "medallion/uma/record_store.h"
#include "bench_party.h"

#ifndef MEDALLION_BENCH_DATA_DIR
#define MEDALLION_BENCH_DATA_DIR "/var/tmp"
#endif

namespace {

using namespace medallion;
using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;
namespace fs = std::filesystem;

struct Options {
  int containers = 10000;
  int active = 1000;
  int threads = 16;
  double seconds = 10;
  std::string data_dir = MEDALLION_BENCH_DATA_DIR;
  bool keep_data = false;
};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "host_load: %s\n", what.c_str());
  std::exit(1);
}

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Die("missing value for " + a);
      return argv[++i];
    };
    if (a == "--containers")
      o.containers = std::atoi(value().c_str());
    else if (a == "--active")
      o.active = std::atoi(value().c_str());
    else if (a == "--threads")
      o.threads = std::atoi(value().c_str());
    else if (a == "--seconds")
      o.seconds = std::atof(value().c_str());
    else if (a == "--data-dir")
      o.data_dir = value();
    else if (a == "--keep-data")
      o.keep_data = true;
    else
      Die("unknown argument " + a +
          "\nusage: host_load [--containers N] [--active N] [--threads N] [--seconds S] "
          "[--data-dir DIR] [--keep-data]");
  }
  if (o.containers < 1 || o.active < 1 || o.active > o.containers || o.threads < 1 ||
      o.seconds <= 0)
    Die("--containers >= --active >= 1, --threads >= 1, --seconds > 0");
  return o;
}

using bench::NowSeconds;
using bench::Party;

// VmRSS (kB) and Threads of this process.
std::pair<long, long> RssAndThreads() {
  std::ifstream f("/proc/self/status");
  long rss = 0, threads = 0;
  for (std::string line; std::getline(f, line);) {
    if (line.rfind("VmRSS:", 0) == 0) rss = std::atol(line.c_str() + 6);
    if (line.rfind("Threads:", 0) == 0) threads = std::atol(line.c_str() + 8);
  }
  return {rss, threads};
}

int FreePort() {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t n = sizeof a;
  if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &n) != 0)
    Die("no free port");
  const int port = ntohs(a.sin_port);
  ::close(s);
  return port;
}

std::string Token(const claims::Signer& s, const std::string& did, const std::string& aud,
                  const std::string& nonce, bool owner) {
  claims::JwtSignOptions o;
  o.issued_at = NowSeconds();
  o.expires = o.issued_at + 300;
  o.audience = aud;
  o.nonce = nonce;
  json claims = {{"sub", did}};
  if (!owner) claims["purpose_of_use"] = "treatment";
  auto jwt = claims::SignJwt(claims::JwtKind::kDidAuth, claims, s, o);
  if (!jwt) Die("sign: " + jwt.error().ToString());
  return *jwt;
}

// One active container as a requesting party's client sees it.
struct Target {
  std::string prefix, issuer, record_path, basic, rpt;
};

struct Stats {
  long long grants = 0, reads = 0, errors = 0;
  std::string first_error;
  void Error(const std::string& what) {
    ++errors;
    if (first_error.empty()) first_error = what;
  }
};

std::string Describe(const httplib::Result& r, const std::string& step) {
  if (!r) return step + ": transport error " + httplib::to_string(r.error());
  return step + ": " + std::to_string(r->status) + " " + r->body.substr(0, 200);
}

// One keep-alive client of the host (a thread's own).
std::unique_ptr<httplib::Client> HostClient(const std::string& base) {
  auto http = std::make_unique<httplib::Client>(base);
  http->set_keep_alive(true);
  http->set_tcp_nodelay(true);
  http->set_read_timeout(60, 0);
  return http;
}

// The full UMA grant round trip at `t` (its RPT kept in t.rpt).
bool Grant(httplib::Client& http, Target& t, const Party& physician, Stats& s) {
  const std::string grant = "grant_type=" + PercentEncode(uma::kUmaTicketGrant);
  const httplib::Headers basic = {{"Authorization", t.basic}};
  auto r1 = http.Get(t.prefix + t.record_path);
  const std::string www = r1 ? r1->get_header_value("WWW-Authenticate") : "";
  const size_t at = www.find("ticket=\"");
  if (!r1 || r1->status != 401 || at == std::string::npos) {
    s.Error(Describe(r1, "GET without token (want 401)"));
    return false;
  }
  const std::string ticket = www.substr(at + 8, www.size() - at - 9);
  auto r2 = http.Post(t.prefix + "/token", basic, grant + "&ticket=" + PercentEncode(ticket),
                      "application/x-www-form-urlencoded");
  json need = r2 ? json::parse(r2->body, nullptr, false) : json();
  if (!r2 || r2->status != 403 || !need.is_object() || !need.contains("ticket")) {
    s.Error(Describe(r2, "token without claims (want 403 need_info)"));
    return false;
  }
  const std::string ticket2 = need["ticket"];
  const std::string claim =
      Token(physician.Signer(), physician.Did(), t.issuer, ticket2, /*owner=*/false);
  auto r3 = http.Post(t.prefix + "/token", basic,
                      grant + "&ticket=" + PercentEncode(ticket2) +
                          "&claim_token=" + PercentEncode(claim) +
                          "&claim_token_format=" + PercentEncode(uma::kClaimTokenDidAuth),
                      "application/x-www-form-urlencoded");
  json ok = r3 ? json::parse(r3->body, nullptr, false) : json();
  if (!r3 || r3->status != 200 || !ok.is_object() || !ok.contains("access_token")) {
    s.Error(Describe(r3, "token with did-auth (want 200 RPT)"));
    return false;
  }
  t.rpt = ok["access_token"];
  return true;
}

bool Read(httplib::Client& http, const Target& t, Stats& s) {
  auto r = http.Get(t.prefix + t.record_path, {{"Authorization", "Bearer " + t.rpt}});
  if (!r || r->status != 200 || r->body.find("\"MedicationRequest\"") == std::string::npos) {
    s.Error(Describe(r, "GET with RPT (want 200)"));
    return false;
  }
  return true;
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

int main(int argc, char** argv) {
  // The in-process server writes no per-request log lines (http/src/observe.h): a benchmark
  // measures the server, not its terminal. MEDALLION_LOG=json in the environment keeps them.
  setenv("MEDALLION_LOG", "off", /*overwrite=*/0);
  const Options o = Parse(argc, argv);
  if (sodium_init() < 0) Die("sodium_init");
  Env env = DefaultEnv();
  const fs::path root = fs::path(o.data_dir) / ("host-load-" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root);
  const int port = FreePort();
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  const Party physician = Party::FromLabel("physician");
  auto name_of = [](int i) { return "c" + std::to_string(i); };

  // --- the active containers' data, before the host starts (untimed) ---
  const auto prep0 = SteadyClock::now();
  std::vector<Target> targets(static_cast<size_t>(o.active));
  {
    std::atomic<int> next{0};
    std::vector<std::thread> pool;
    for (int k = 0; k < 8; ++k) {
      pool.emplace_back([&] {
        did::Resolver resolver;
        for (int i; (i = next++) < o.active;) {
          const Party owner = Party::FromLabel("owner " + std::to_string(i));
          const fs::path dir = root / name_of(i);
          fs::create_directories(dir);
          fs::permissions(dir, fs::perms::owner_all);
          Target& t = targets[static_cast<size_t>(i)];
          t.prefix = "/c/" + name_of(i);
          t.issuer = base + t.prefix;
          uma::AuthorizationServerOptions ao;
          ao.issuer = t.issuer;
          ao.owner_did = owner.Did();
          ao.resolver = &resolver;
          ao.license_status = [](const json&) { return Status::Ok(); };
          auto as = uma::AuthorizationServer::Open((dir / "consent.db").string(), ao, env);
          if (!as) Die("prepare: " + as.error().ToString());
          auto records = uma::RecordStore::Open((dir / "records.db").string(), env);
          if (!records) Die("prepare: " + records.error().ToString());
          auto record = (*records)->Create(kMedicationRequest);
          if (!record) Die("prepare: " + record.error().ToString());
          t.record_path = "/fhir/MedicationRequest/" + (*record)["id"].get<std::string>();
          uma::Reply ch = (*as)->OwnerChallenge();
          uma::Reply in = (*as)->OwnerSignIn(
              Token(owner.Signer(), owner.Did(), t.issuer, ch.body["nonce"], /*owner=*/true));
          if (!in.ok()) Die("prepare: sign-in " + in.body.dump());
          uma::Reply p = (*as)->AddPolicy(in.body["access_token"].get<std::string>(),
                                          {{"effect", "permit"},
                                           {"subjects", {{{"did", physician.Did()}}}},
                                           {"resource_types", {"MedicationRequest"}},
                                           {"scopes", {"read"}},
                                           {"purposes", {"treatment"}}});
          if (!p.ok()) Die("prepare: policy " + p.body.dump());
        }
      });
    }
    for (auto& th : pool) th.join();
  }
  const double prepare_s = std::chrono::duration<double>(SteadyClock::now() - prep0).count();

  // --- 1. ready ---
  const auto [rss0, threads0] = RssAndThreads();
  roles::HostOptions ho;
  ho.listen = "127.0.0.1:" + std::to_string(port);
  ho.lazy = true;
  for (int i = 0; i < o.containers; ++i) {
    roles::ContainerOptions c;
    c.dir = (root / name_of(i)).string();
    c.owner = Party::FromLabel("owner " + std::to_string(i)).Did();
    ho.containers.emplace_back(name_of(i), std::move(c));
  }
  const auto t0 = SteadyClock::now();
  roles::HostRole host(std::move(ho), env);
  if (Status st = host.Start(); !st.ok()) Die("host: " + st.ToString());
  const double ready_s = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  const auto [rss1, threads1] = RssAndThreads();

  // --- 2. warm-up: open each active container, a client and an RPT each (untimed) ---
  const auto warm0 = SteadyClock::now();
  std::vector<Stats> stats(static_cast<size_t>(o.threads));
  {
    std::atomic<int> next{0};
    std::vector<std::thread> pool;
    for (int w = 0; w < o.threads; ++w) {
      pool.emplace_back([&, w] {
        auto client = HostClient(base);
        httplib::Client& http = *client;
        Stats& s = stats[static_cast<size_t>(w)];
        for (int i; (i = next++) < o.active;) {
          Target& t = targets[static_cast<size_t>(i)];
          auto r = http.Post(t.prefix + "/register", json{{"client_name", "host_load"}}.dump(),
                             "application/json");
          if (!r || r->status != 201) {
            s.Error(Describe(r, "register"));
            continue;
          }
          const json c = json::parse(r->body);
          t.basic = "Basic " + Base64Encode(AsBytes(
                                   PercentEncode(c["client_id"].get<std::string>()) + ":" +
                                   PercentEncode(c["client_secret"].get<std::string>())));
          (void)(Grant(http, t, physician, s) && Read(http, t, s));
        }
      });
    }
    for (auto& th : pool) th.join();
  }
  const double warm_s = std::chrono::duration<double>(SteadyClock::now() - warm0).count();
  long long warm_errors = 0;
  std::string first_error;
  for (Stats& s : stats) {
    warm_errors += s.errors;
    if (first_error.empty()) first_error = s.first_error;
    s = Stats();
  }

  // --- 3. the mixed load ---
  std::atomic<bool> go{false};
  std::atomic<long> peak_threads{0};
  SteadyClock::time_point deadline;
  std::vector<std::thread> pool;
  for (int w = 0; w < o.threads; ++w) {
    pool.emplace_back([&, w] {
      auto client = HostClient(base);
      httplib::Client& http = *client;
      (void)http.Get("/c/" + name_of(0) + "/.well-known/uma2-configuration");  // connect
      std::mt19937 rng(static_cast<unsigned>(w) * 7919u + 1);
      std::uniform_int_distribution<int> pick(0, o.active - 1);
      Stats& s = stats[static_cast<size_t>(w)];
      while (!go.load()) std::this_thread::sleep_for(std::chrono::microseconds(200));
      // Each thread works on its own containers' targets: a grant replaces the RPT.
      for (int n = 0; SteadyClock::now() < deadline; ++n) {
        int i = pick(rng);
        i -= i % o.threads;
        i += w;
        if (i >= o.active) i = w % o.active;
        Target& t = targets[static_cast<size_t>(i)];
        if (n % 4 == 0) {
          if (Grant(http, t, physician, s) && Read(http, t, s)) ++s.grants;
        } else if (Read(http, t, s)) {
          ++s.reads;
        }
        if (w == 0 && n % 64 == 0) {
          const long th = RssAndThreads().second;
          if (th > peak_threads) peak_threads = th;
        }
      }
    });
  }
  const auto l0 = SteadyClock::now();
  deadline = l0 + std::chrono::duration_cast<SteadyClock::duration>(
                      std::chrono::duration<double>(o.seconds));
  go = true;
  for (auto& th : pool) th.join();
  const double elapsed = std::chrono::duration<double>(SteadyClock::now() - l0).count();
  const auto [rss2, threads2] = RssAndThreads();
  Stats all;
  for (Stats& s : stats) {
    all.grants += s.grants;
    all.reads += s.reads;
    all.errors += s.errors;
    if (all.first_error.empty()) all.first_error = s.first_error;
  }
  const size_t open_now = host.open_containers();
  host.Stop();
  if (!o.keep_data) fs::remove_all(root);

  nlohmann::ordered_json out = {
      {"containers", o.containers},
      {"active", o.active},
      {"prepare_s", std::round(prepare_s * 10) / 10},
      {"ready_s", std::round(ready_s * 1000) / 1000},
      {"rss_before_start_mb", rss0 / 1024.0},
      {"rss_ready_mb", rss1 / 1024.0},
      {"rss_per_idle_container_kb",
       std::round(static_cast<double>(rss1 - rss0) / o.containers * 100) / 100},
      {"threads_before_start", threads0},
      {"threads_ready", threads1},
      {"threads_peak_under_load", std::max<long>(peak_threads.load(), threads2)},
      {"max_open", host.max_open()},
      {"open_after_load", open_now},
      {"warm_up_s", std::round(warm_s * 10) / 10},
      {"warm_up_errors", warm_errors},
      {"load_threads", o.threads},
      {"load_s", std::round(elapsed * 1000) / 1000},
      {"grants_per_s", std::round(all.grants / elapsed * 10) / 10},
      {"reads_per_s", std::round(all.reads / elapsed * 10) / 10},
      {"rss_after_load_mb", rss2 / 1024.0},
      {"errors", all.errors}};
  if (!first_error.empty()) out["warm_up_first_error"] = first_error;
  if (!all.first_error.empty()) out["first_error"] = all.first_error;
  std::printf("%s\n", out.dump().c_str());
  return all.errors + warm_errors > 0 ? 1 : 0;
}
