// HTTP load on the container's UMA 2.0 authorization server and FHIR resource server (issue 6).
//
// One process: the server side is what `medallion container serve` runs (uma::AuthorizationServer,
// uma::RecordStore, roles::RegisterUmaRoutes, roles::FhirResourceServer as a resource-server
// client the owner registered, http::ConfigureServer) on 127.0.0.1:0 with SystemClock +
// SystemRng and its databases on a real disk; the client side is N threads, one keep-alive
// httplib::Client each. Client and server share the machine's cores.
//
//   --mode grant       the full UMA round trip, counted when all four requests succeeded:
//                      GET /fhir/MedicationRequest/<id> without a token → 401 + ticket;
//                      POST /token (client_secret_basic, uma-ticket grant, ticket) → 403
//                      need_info + ticket; the client signs a vp+jwt (nonce = that ticket,
//                      aud = issuer) presenting the physician's society-signed license;
//                      POST /token with it → 200 RPT; GET the record with the RPT → 200.
//   --mode introspect  POST /introspect (bearer PAT from client_credentials) of one RPT → 200
//                      {"active": true}.
//   --mode resource    GET the record with a valid RPT (one per thread) → 200 (the resource
//                      server's Authorize + the release's entry in the disclosure log).
//   --mode token       POST /token, client_credentials (client_secret_basic) → 200 with an
//                      access token: the resource server's PAT, stored (group commit) as
//                      every token is.
//   --peer JSON        token or introspect against another OAuth 2.0 server instead: the JSON
//                      line bench/oidc_provider.mjs prints (url, token_endpoint,
//                      introspection_endpoint, client_id, client_secret, token). The same
//                      client threads and loop; cpu_cores_busy is then the client's alone.
//
// Any other status (or an answer without what it must carry) is an error, counted and reported.
// Prints one JSON line. Round-trip latency includes the client's VP signing; `phases` gives each
// step's share so it can be subtracted. Results and commands: docs/benchmarks.md.
//
//   uma_http_load --mode grant|introspect|resource|token [--threads 4] [--seconds 10]
//                 [--data-dir DIR] [--keep-data] [--peer JSON]
#include <httplib.h>
#include <sodium.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "medallion/claims/credentials.h"
#include "medallion/claims/data_integrity.h"
#include "medallion/claims/jose.h"
#include "medallion/core/encoding.h"
#include "medallion/did/did_key.h"
#include "medallion/did/resolver.h"
#include "medallion/http/http.h"
#include "medallion/roles/uma_http.h"
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

enum class Mode { kGrant, kIntrospect, kResource, kToken };

struct Options {
  Mode mode = Mode::kGrant;
  std::string mode_name = "grant";
  int threads = 4;
  double seconds = 10;
  std::string data_dir = MEDALLION_BENCH_DATA_DIR;
  bool keep_data = false;
  std::string peer;  // the JSON line bench/oidc_provider.mjs prints: load that server instead
};

[[noreturn]] void Usage(const std::string& why) {
  std::fprintf(
      stderr,
      "%s\nusage: uma_http_load --mode grant|introspect|resource|token [--threads N] [--seconds S] "
      "[--data-dir DIR] [--keep-data] [--peer JSON]\n",
      why.c_str());
  std::exit(2);
}

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Usage("missing value for " + a);
      return argv[++i];
    };
    if (a == "--mode")
      o.mode_name = value();
    else if (a == "--threads")
      o.threads = std::atoi(value().c_str());
    else if (a == "--seconds")
      o.seconds = std::atof(value().c_str());
    else if (a == "--data-dir")
      o.data_dir = value();
    else if (a == "--keep-data")
      o.keep_data = true;
    else if (a == "--peer")
      o.peer = value();
    else
      Usage("unknown argument " + a);
  }
  if (o.mode_name == "grant")
    o.mode = Mode::kGrant;
  else if (o.mode_name == "introspect")
    o.mode = Mode::kIntrospect;
  else if (o.mode_name == "resource")
    o.mode = Mode::kResource;
  else if (o.mode_name == "token")
    o.mode = Mode::kToken;
  else
    Usage("--mode must be grant, introspect, resource or token");
  if (!o.peer.empty() && o.mode != Mode::kToken && o.mode != Mode::kIntrospect)
    Usage("--peer runs --mode token or introspect");
  if (o.threads < 1 || o.threads > 256) Usage("--threads must be 1..256");
  if (o.seconds <= 0 || o.seconds > 600) Usage("--seconds must be in (0, 600]");
  return o;
}

using bench::NowSeconds;
using bench::Party;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "uma_http_load: %s\n", what.c_str());
  std::exit(1);
}

std::string Basic(const std::string& id, const std::string& secret) {
  return "Basic " + Base64Encode(AsBytes(PercentEncode(id) + ":" + PercentEncode(secret)));
}

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

const json kMedicationRequest = {
    {"resourceType", "MedicationRequest"},
    {"status", "active"},
    {"intent", "order"},
    {"medicationCodeableConcept",
     {{"coding",
       {{{"system", "http://www.nlm.nih.gov/research/umls/rxnorm"}, {"code", "1049502"}}}}}},
    {"subject", {{"reference", "Patient/p1"}}}};

// What the requesting party's client knows.
struct World {
  std::string url;  // == the issuer
  std::string record_path;
  std::string rs_basic;  // the FHIR resource server's client credentials (for its PAT)
  const Party* physician = nullptr;
  json license;
};

// The steps of one grant round trip (latencies kept per step).
enum Phase { kGet401, kTokenNeedInfo, kSignVp, kTokenRpt, kGetRecord, kPhases };
constexpr const char* kPhaseNames[kPhases] = {"get_401", "token_need_info", "client_sign_vp",
                                              "token_rpt", "get_record"};

struct Worker {
  long long ops = 0;
  long long requests = 0;
  long long errors = 0;
  std::string first_error;
  std::vector<double> latency_ms;
  std::vector<double> phase_ms[kPhases];

  void Error(const std::string& what) {
    ++errors;
    if (first_error.empty()) first_error = what;
  }
};

std::string Describe(const httplib::Result& r, const char* step) {
  if (!r) return std::string(step) + ": transport error " + httplib::to_string(r.error());
  return std::string(step) + ": " + std::to_string(r->status) + " " + r->body.substr(0, 300);
}

double MsSince(SteadyClock::time_point t) {
  return std::chrono::duration<double, std::milli>(SteadyClock::now() - t).count();
}

// A requesting party's client: its own connection and its own registration (RFC 7591).
class RequestingClient {
 public:
  RequestingClient(const World& w, Worker& stats) : w_(w), stats_(stats), http_(w.url) {
    http_.set_keep_alive(true);
    http_.set_tcp_nodelay(true);
    http_.set_connection_timeout(5, 0);
    http_.set_read_timeout(60, 0);
    http_.set_write_timeout(60, 0);
  }

  httplib::Client& http() { return http_; }

  bool Register() {
    auto r =
        http_.Post("/register", json{{"client_name", "uma_http_load"}}.dump(), "application/json");
    if (!r || r->status != 201) {
      stats_.Error(Describe(r, "register"));
      return false;
    }
    const json c = json::parse(r->body);
    basic_ = Basic(c["client_id"], c["client_secret"]);
    return true;
  }

  // The full round trip; the RPT in *rpt. `timed`: record each step's latency.
  bool RoundTrip(std::string* rpt, bool timed) {
    const std::string grant = "grant_type=" + PercentEncode(uma::kUmaTicketGrant);
    auto t = SteadyClock::now();
    auto mark = [&](Phase p) {
      if (timed) stats_.phase_ms[p].push_back(MsSince(t));
      t = SteadyClock::now();
    };
    // UMA Grant §3.2: no token → 401 with a ticket in WWW-Authenticate.
    auto r1 = http_.Get(w_.record_path);
    ++stats_.requests;
    const std::string www = r1 ? r1->get_header_value("WWW-Authenticate") : "";
    const size_t at = www.find("ticket=\"");
    if (!r1 || r1->status != 401 || at == std::string::npos || www.back() != '"') {
      stats_.Error(Describe(r1, "GET without token (want 401 + ticket)"));
      return false;
    }
    const std::string ticket = www.substr(at + 8, www.size() - at - 9);
    mark(kGet401);

    // UMA Grant §3.3.1 without claims → 403 need_info with a rotated ticket (§3.3.6).
    auto r2 =
        http_.Post("/token", {{"Authorization", basic_}},
                   grant + "&ticket=" + PercentEncode(ticket), "application/x-www-form-urlencoded");
    ++stats_.requests;
    json need = r2 ? json::parse(r2->body, nullptr, false) : json();
    if (!r2 || r2->status != 403 || !need.is_object() || need.value("error", "") != "need_info" ||
        !need.contains("ticket")) {
      stats_.Error(Describe(r2, "token without claims (want 403 need_info)"));
      return false;
    }
    const std::string ticket2 = need["ticket"];
    mark(kTokenNeedInfo);

    // The client pushes a vp+jwt bound to the new ticket and this AS.
    const std::string vp = SignVp(ticket2);
    mark(kSignVp);

    auto r3 = http_.Post("/token", {{"Authorization", basic_}},
                         grant + "&ticket=" + PercentEncode(ticket2) +
                             "&claim_token=" + PercentEncode(vp) +
                             "&claim_token_format=" + PercentEncode(uma::kClaimTokenVp),
                         "application/x-www-form-urlencoded");
    ++stats_.requests;
    json ok = r3 ? json::parse(r3->body, nullptr, false) : json();
    if (!r3 || r3->status != 200 || !ok.is_object() || !ok.contains("access_token")) {
      stats_.Error(Describe(r3, "token with vp-jwt (want 200 RPT)"));
      return false;
    }
    *rpt = ok["access_token"];
    mark(kTokenRpt);

    if (!ReadRecord(*rpt)) return false;
    mark(kGetRecord);
    return true;
  }

  bool ReadRecord(const std::string& rpt) {
    auto r = http_.Get(w_.record_path, {{"Authorization", "Bearer " + rpt}});
    ++stats_.requests;
    if (!r || r->status != 200 || r->body.find("\"MedicationRequest\"") == std::string::npos) {
      stats_.Error(Describe(r, "GET with RPT (want 200 record)"));
      return false;
    }
    return true;
  }

 private:
  std::string SignVp(const std::string& nonce) {
    const Party& p = *w_.physician;
    json vp = {{"@context", {claims::kVcContextV2}},
               {"type", {"VerifiablePresentation"}},
               {"holder", p.Did()},
               {"verifiableCredential", {w_.license}},
               {"purpose_of_use", "treatment"}};
    claims::JwtSignOptions o;
    o.issued_at = NowSeconds();
    o.expires = o.issued_at + 300;
    o.audience = w_.url;
    o.nonce = nonce;
    auto jwt = claims::SignJwt(claims::JwtKind::kPresentation, vp, signer_, o);
    if (!jwt) Die("vp signing: " + jwt.error().ToString());
    return *jwt;
  }

  const World& w_;
  Worker& stats_;
  httplib::Client http_;
  std::string basic_;
  claims::Signer signer_ = w_.physician->Signer();
};


// Prints the run's JSON line; exit status 1 if any request failed.
int Report(const Options& o, std::vector<Worker>& stats, double elapsed, double cpu,
           const char* target) {
  Worker all;
  for (Worker& s : stats) {
    all.ops += s.ops;
    all.requests += s.requests;
    all.errors += s.errors;
    if (all.first_error.empty()) all.first_error = s.first_error;
    all.latency_ms.insert(all.latency_ms.end(), s.latency_ms.begin(), s.latency_ms.end());
    for (int p = 0; p < kPhases; ++p)
      all.phase_ms[p].insert(all.phase_ms[p].end(), s.phase_ms[p].begin(), s.phase_ms[p].end());
  }
  auto pct = [](std::vector<double>& v, double p) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
  };
  auto round3 = [](double x) { return std::round(x * 1000) / 1000; };
  nlohmann::ordered_json out = {{"target", target},
                                {"mode", o.mode_name},
                                {"threads", o.threads},
                                {"seconds", round3(elapsed)},
                                {"ops", all.ops},
                                {"ops_per_s", std::round(all.ops / elapsed * 10) / 10},
                                {"requests", all.requests},
                                {"requests_per_s", std::round(all.requests / elapsed)},
                                {"p50_ms", round3(pct(all.latency_ms, 0.5))},
                                {"p99_ms", round3(pct(all.latency_ms, 0.99))},
                                {"errors", all.errors},
                                {"cpu_cores_busy", std::round(cpu / elapsed * 100) / 100}};
  if (o.mode == Mode::kGrant) {
    nlohmann::ordered_json phases = nlohmann::ordered_json::object();
    for (int p = 0; p < kPhases; ++p) {
      double sum = 0;
      for (double x : all.phase_ms[p]) sum += x;
      const double mean = all.phase_ms[p].empty() ? 0 : sum / all.phase_ms[p].size();
      phases[kPhaseNames[p]] = {{"p50_ms", round3(pct(all.phase_ms[p], 0.5))},
                                {"mean_ms", round3(mean)}};
    }
    out["phases"] = phases;
  }
  if (all.errors > 0) out["first_error"] = all.first_error;
  std::printf("%s\n", out.dump().c_str());
  return all.errors > 0 ? 1 : 0;
}

// --peer: the same loop against another OAuth 2.0 server (client_credentials, RFC 7662).
int RunPeer(const Options& o) {
  const json peer = json::parse(o.peer, nullptr, false);
  if (!peer.is_object() || !peer.contains("url") || !peer.contains("client_id"))
    Usage("--peer: the JSON line of bench/oidc_provider.mjs");
  const std::string url = peer["url"], basic = Basic(peer["client_id"], peer["client_secret"]);
  const std::string token_path = peer.value("token_endpoint", "/token");
  const std::string intro_path = peer.value("introspection_endpoint", "/token/introspection");
  const std::string token_body = "grant_type=client_credentials&scope=" +
                                 PercentEncode(peer.value("scope", "read"));
  // A fresh token to introspect (an in-memory peer may have evicted the one it printed).
  std::string token = peer.value("token", "");
  {
    httplib::Client http(url);
    auto r = http.Post(token_path, {{"Authorization", basic}}, token_body,
                       "application/x-www-form-urlencoded");
    if (!r || r->status != 200) Die("peer setup: " + Describe(r, "client_credentials"));
    token = json::parse(r->body).value("access_token", token);
  }
  const std::string intro_body = "token=" + PercentEncode(token);
  std::vector<Worker> stats(o.threads);
  std::atomic<int> ready{0};
  std::mutex setup_mu;
  std::atomic<bool> go{false};
  SteadyClock::time_point deadline;
  std::vector<std::thread> pool;
  for (int i = 0; i < o.threads; ++i) {
    pool.emplace_back([&, i] {
      Worker& s = stats[i];
      httplib::Client http(url);
      http.set_keep_alive(true);
      http.set_tcp_nodelay(true);
      http.set_connection_timeout(5, 0);
      http.set_read_timeout(60, 0);
      const httplib::Headers auth = {{"Authorization", basic}};
      auto once = [&]() -> bool {
        if (o.mode == Mode::kToken) {
          auto r = http.Post(token_path, auth, token_body, "application/x-www-form-urlencoded");
          ++s.requests;
          const bool ok = r && r->status == 200 && r->body.find("\"access_token\"") != std::string::npos;
          if (!ok) s.Error(Describe(r, "client_credentials (want 200 access_token)"));
          return ok;
        }
        auto r = http.Post(intro_path, auth, intro_body, "application/x-www-form-urlencoded");
        ++s.requests;
        const bool ok = r && r->status == 200 && r->body.find("\"active\":true") != std::string::npos;
        if (!ok) s.Error(Describe(r, "introspect (want 200 active)"));
        return ok;
      };
      bool ok;
      {
        std::lock_guard<std::mutex> one_at_a_time(setup_mu);  // connect one at a time
        ok = once();
      }
      s.requests = 0;
      ++ready;
      while (!go.load()) std::this_thread::sleep_for(std::chrono::microseconds(200));
      if (!ok) return;
      while (SteadyClock::now() < deadline) {
        const auto start = SteadyClock::now();
        if (once()) {
          ++s.ops;
          s.latency_ms.push_back(MsSince(start));
        } else if (s.errors > 1000 && s.ops == 0) {
          break;
        }
      }
    });
  }
  while (ready.load() < o.threads) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const double cpu0 = CpuSeconds();
  const auto t0 = SteadyClock::now();
  deadline = t0 + std::chrono::duration_cast<SteadyClock::duration>(
                      std::chrono::duration<double>(o.seconds));
  go = true;
  for (auto& th : pool) th.join();
  const double elapsed = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  return Report(o, stats, elapsed, CpuSeconds() - cpu0, "peer");
}
}  // namespace

int main(int argc, char** argv) {
  // The in-process server writes no per-request log lines (http/src/observe.h): a benchmark
  // measures the server, not its terminal. MEDALLION_LOG=json in the environment keeps them.
  setenv("MEDALLION_LOG", "off", /*overwrite=*/0);
  const Options o = Parse(argc, argv);
  if (sodium_init() < 0) Die("sodium_init");
  if (!o.peer.empty()) return RunPeer(o);
  Env env = DefaultEnv();

  // --- the container (server side) ---
  httplib::Server http;
  http::ConfigureServer(http);
  const int port = http.bind_to_any_port("127.0.0.1");
  if (port <= 0) Die("cannot bind 127.0.0.1");
  const std::string issuer = "http://127.0.0.1:" + std::to_string(port);

  const std::filesystem::path dir = std::filesystem::path(o.data_dir) /
                                    ("uma-http-" + o.mode_name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);

  const Party society(1), physician(2), patient(4);
  did::Resolver resolver;
  uma::AuthorizationServerOptions ao;
  ao.issuer = issuer;
  ao.owner_did = patient.Did();
  ao.trusted_issuers = {society.Did()};
  ao.resolver = &resolver;
  ao.license_status = [](const json&) {
    return Status::Ok();
  };  // a status list lookup is not measured here
  auto as_or = uma::AuthorizationServer::Open((dir / "consent.db").string(), ao, env);
  if (!as_or) Die("authorization server: " + as_or.error().ToString());
  std::unique_ptr<uma::AuthorizationServer> as = std::move(*as_or);
  auto records_or = uma::RecordStore::Open((dir / "records.db").string(), env);
  if (!records_or) Die("record store: " + records_or.error().ToString());
  std::unique_ptr<uma::RecordStore> records = std::move(*records_or);
  auto record = records->Create(kMedicationRequest);
  if (!record) Die("record: " + record.error().ToString());

  // The owner signs in (did-auth+jwt on a challenge), registers the FHIR server as a resource
  // server client (RFC 7591 with her session) and writes her policy.
  uma::Reply challenge = as->OwnerChallenge();
  claims::JwtSignOptions so;
  so.issued_at = NowSeconds();
  so.expires = so.issued_at + 300;
  so.audience = issuer;
  so.nonce = challenge.body["nonce"];
  auto signin_jwt =
      claims::SignJwt(claims::JwtKind::kDidAuth, {{"sub", patient.Did()}}, patient.Signer(), so);
  if (!signin_jwt) Die("owner sign-in token: " + signin_jwt.error().ToString());
  uma::Reply signin = as->OwnerSignIn(*signin_jwt);
  if (!signin.ok()) Die("owner sign-in: " + signin.body.dump());
  const std::string session = signin.body["access_token"];
  uma::Reply rs = as->RegisterClient(
      {{"client_name", "fhir resource server"}, {"scope", uma::kProtectionScope}}, session);
  if (!rs.ok()) Die("resource server registration: " + rs.body.dump());
  const uma::ClientCredentials rs_client{rs.body["client_id"], rs.body["client_secret"]};
  uma::AuthorizationServer* as_ptr = as.get();
  auto fhir = roles::FhirResourceServer::Create(
      *as, *records, [as_ptr, rs_client]() -> Result<std::string> {
        uma::Reply t = as_ptr->Token(
            {{"grant_type", "client_credentials"}, {"scope", uma::kProtectionScope}}, rs_client);
        if (!t.ok()) return Status::Unauthenticated(t.body.dump());
        return t.body["access_token"].get<std::string>();
      });
  if (!fhir) Die("fhir server: " + fhir.error().ToString());
  uma::Reply policy =
      as->AddPolicy(session, {{"effect", "permit"},
                              {"subjects", {{{"credential_type", uma::kLicenseCredentialType}}}},
                              {"resource_types", {"MedicationRequest"}},
                              {"scopes", {"read", "search"}},
                              {"purposes", {"treatment"}}});
  if (!policy.ok()) Die("policy: " + policy.body.dump());
  roles::RegisterUmaRoutes(http, *as);
  (*fhir)->RegisterRoutes(http);
  std::thread serve([&] { http.listen_after_bind(); });
  while (!http.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  // --- what the requesting party holds: a license from the society (Data Integrity proof) ---
  World w;
  w.url = issuer;
  w.record_path = "/fhir/MedicationRequest/" + (*record)["id"].get<std::string>();
  w.rs_basic = Basic(rs_client.client_id, rs_client.client_secret);
  w.physician = &physician;
  {
    claims::LicenseClaims c{physician.Did(),
                            "MD-12345",
                            "US-MA",
                            "MD",
                            "Internal Medicine",
                            {"II", "III"},
                            "2026-01-01T00:00:00Z",
                            "2036-01-01T00:00:00Z"};
    auto vc = claims::BuildLicenseCredential("urn:uuid:license-bench", society.Did(), c, nullptr);
    if (!vc) Die("license: " + vc.error().ToString());
    claims::ProofOptions po;
    po.created = did::XmlDateTime(NowSeconds() - 3600);
    auto secured = claims::AddProof(*vc, society.Signer(), po);
    if (!secured) Die("license proof: " + secured.error().ToString());
    w.license = *secured;
  }

  // Introspection: one RPT, and a PAT the resource server takes with client_credentials.
  std::string shared_rpt, pat;
  const std::string token_body =
      "grant_type=client_credentials&scope=" + PercentEncode(uma::kProtectionScope);
  if (o.mode == Mode::kIntrospect) {
    Worker setup;
    RequestingClient c(w, setup);
    if (!c.Register() || !c.RoundTrip(&shared_rpt, false)) Die("setup: " + setup.first_error);
    auto t =
        c.http().Post("/token", {{"Authorization", w.rs_basic}},
                      "grant_type=client_credentials&scope=" + std::string(uma::kProtectionScope),
                      "application/x-www-form-urlencoded");
    if (!t || t->status != 200) Die("setup: " + Describe(t, "PAT (client_credentials)"));
    pat = json::parse(t->body)["access_token"];
  }

  // --- load ---
  std::vector<Worker> stats(o.threads);
  std::atomic<int> ready{0};
  std::mutex setup_mu;
  std::atomic<bool> go{false};
  SteadyClock::time_point t0, deadline;
  std::vector<std::thread> pool;
  for (int i = 0; i < o.threads; ++i) {
    pool.emplace_back([&, i] {
      Worker& s = stats[i];
      RequestingClient c(w, s);
      std::string rpt;
      // Untimed per-thread setup, one thread at a time: the connection (a discovery GET), a
      // registration (grant, resource) and an RPT (resource). One at a time because
      // cpp-httplib 0.11 listens with a backlog of 5: N clients connecting at once overflow
      // the accept queue and some connections are reset (docs/benchmarks.md, issue 6).
      bool ok;
      {
        std::lock_guard<std::mutex> one_at_a_time(setup_mu);
        auto d = c.http().Get("/.well-known/uma2-configuration");
        ok = d && d->status == 200;
        if (!ok) s.Error(Describe(d, "discovery (want 200)"));
        if (ok && (o.mode == Mode::kGrant || o.mode == Mode::kResource)) ok = c.Register();
        if (ok && o.mode == Mode::kResource) ok = c.RoundTrip(&rpt, false);
      }
      s.requests = 0;
      ++ready;
      while (!go.load()) std::this_thread::sleep_for(std::chrono::microseconds(200));
      if (!ok) return;
      const std::string intro_body = "token=" + PercentEncode(shared_rpt);
      const httplib::Headers intro_headers = {{"Authorization", "Bearer " + pat}};
      while (SteadyClock::now() < deadline) {
        const auto start = SteadyClock::now();
        bool done = false;
        switch (o.mode) {
          case Mode::kGrant:
            done = c.RoundTrip(&rpt, true);
            break;
          case Mode::kResource:
            done = c.ReadRecord(rpt);
            break;
          case Mode::kIntrospect: {
            auto r = c.http().Post("/introspect", intro_headers, intro_body,
                                   "application/x-www-form-urlencoded");
            ++s.requests;
            done = r && r->status == 200 && r->body.find("\"active\":true") != std::string::npos;
            if (!done) s.Error(Describe(r, "introspect (want 200 active)"));
            break;
          }
          case Mode::kToken: {
            auto r = c.http().Post("/token", {{"Authorization", w.rs_basic}}, token_body,
                                   "application/x-www-form-urlencoded");
            ++s.requests;
            done = r && r->status == 200 && r->body.find("\"access_token\"") != std::string::npos;
            if (!done) s.Error(Describe(r, "client_credentials (want 200 access_token)"));
            break;
          }
        }
        if (done) {
          ++s.ops;
          s.latency_ms.push_back(MsSince(start));
        } else if (s.errors > 1000 && s.ops == 0) {
          break;  // nothing works: do not spin
        }
      }
    });
  }
  while (ready.load() < o.threads) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const double cpu0 = CpuSeconds();
  t0 = SteadyClock::now();
  deadline = t0 + std::chrono::duration_cast<SteadyClock::duration>(
                      std::chrono::duration<double>(o.seconds));
  go = true;
  for (auto& th : pool) th.join();
  const double elapsed = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  const double cpu = CpuSeconds() - cpu0;
  http.stop();
  serve.join();
  fhir->reset();
  as.reset();
  records.reset();
  if (!o.keep_data) std::filesystem::remove_all(dir);

  return Report(o, stats, elapsed, cpu, "medallion");
}
