// The consent server's group commit (docs/uma.md §"Group commit"): concurrent grants and reads
// keep the disclosure log's hash chain exact, and after a kill -9 in the middle of such a load
// every acknowledged release is in the log and every logged release was asked for, with at most
// the requests then in flight logged but unanswered.
#include <catch2/catch.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "uma/reply_http.h"
#include "uma/uma_world.h"

using namespace medallion;
using namespace medallion::uma;
using medallion::testing::Http;
using medallion::testing::UmaWorld;
using nlohmann::json;

namespace {

constexpr int kThreads = 16;

// The shared parts of the load: a resource server with one resource, a client, a policy that
// grants licensed physicians read access, and the physician's license.
struct Load {
  UmaWorld& w;
  std::string pat, resource, client_id, client_secret;
  json license;
  std::string last_error;  // the last RPT answer (for a failing test's message)

  explicit Load(UmaWorld& world) : w(world) {
    pat = *w.as->InternalPat("fhir");
    Reply r = w.as->CreateResource(pat, {{"name", "Medication requests"},
                                         {"type", "MedicationRequest"},
                                         {"resource_scopes", {"read"}}});
    REQUIRE(Http(r) == 201);
    resource = r.body["_id"];
    Reply c = w.as->RegisterClient({{"client_name", "Dr. app"}}, "");
    REQUIRE(Http(c) == 201);
    client_id = c.body["client_id"];
    client_secret = c.body["client_secret"];
    Reply p = w.as->AddPolicy(w.OwnerSession(),
                              {{"effect", "permit"},
                               {"subjects", {{{"credential_type", "MedicalLicenseCredential"}}}},
                               {"resource_types", {"MedicationRequest"}},
                               {"scopes", {"read"}},
                               {"purposes", {"treatment"}}});
    REQUIRE(Http(p) == 201);
    license = w.License(w.physician);
  }

  // The four requests of a grant: ticket, need_info, claims → RPT. "" if any step failed.
  std::string Grant() {
    Reply t = w.as->RequestPermission(pat, {{"resource_id", resource}, {"resource_scopes", {"read"}}});
    if (Http(t) != 201) return "";
    std::map<std::string, std::string> form = {{"grant_type", kUmaTicketGrant},
                                               {"ticket", t.body["ticket"]}};
    Reply first = w.as->Token(form, {client_id, client_secret});
    if (first.body.value("error", "") != "need_info") return "";
    const std::string next = first.body["ticket"];
    form = {{"grant_type", kUmaTicketGrant},
            {"ticket", next},
            {"claim_token", w.Vp(w.physician, {license}, next)},
            {"claim_token_format", kClaimTokenVp}};
    Reply rpt = w.as->Token(form, {client_id, client_secret});
    last_error = rpt.body.dump();
    if (Http(rpt) != 200) return "";
    return rpt.body["access_token"];
  }

  // A protected-resource read: authorized by `rpt`, released as `record`. True once logged.
  bool Read(const std::string& rpt, const std::string& record) {
    Reply refusal;
    auto access = w.as->Authorize(pat, rpt, resource, "read", &refusal);
    return access && w.as->RecordRelease(*access, resource, "read", {record}).ok();
  }
};

// The release records the log names, each with how often.
std::map<std::string, int> LoggedReleases(const json& exported) {
  std::map<std::string, int> out;
  for (const json& item : exported["entries"]) {
    const json& e = item["entry"];
    if (e.value("event", "") != "release") continue;
    for (const json& r : e["records"]) out[r.get<std::string>()]++;
  }
  return out;
}

// The owner's export of the disclosure log, required to verify; its entry count in *entries.
json VerifiedExport(UmaWorld& w, uint64_t* entries = nullptr) {
  Reply exported = w.as->ExportDisclosures(w.OwnerSession());
  REQUIRE(Http(exported) == 200);
  auto n = VerifyDisclosureExport(exported.body);
  INFO((n ? "" : n.error().ToString()));
  REQUIRE(n);
  if (entries != nullptr) *entries = *n;
  return exported.body;
}

}  // namespace

TEST_CASE("concurrent grants and reads: the disclosure log stays one exact chain",
          "[uma][log][concurrency]") {
  UmaWorld w("group");
  Load load(w);
  std::atomic<int> grant_failures{0}, read_failures{0};
  std::vector<std::vector<std::string>> released(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 6; ++i) {
        const std::string rpt = load.Grant();
        if (rpt.empty()) {
          ++grant_failures;
          continue;
        }
        for (int k = 0; k < 3; ++k) {
          const std::string record =
              "MedicationRequest/t" + std::to_string(t) + "-" + std::to_string(i * 3 + k);
          if (load.Read(rpt, record)) {
            released[static_cast<size_t>(t)].push_back(record);
          } else {
            ++read_failures;
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(grant_failures == 0);
  CHECK(read_failures == 0);

  uint64_t n = 0;
  const json exported = VerifiedExport(w, &n);
  const std::map<std::string, int> logged = LoggedReleases(exported);
  size_t acked = 0;
  for (const auto& per_thread : released) {
    for (const std::string& r : per_thread) {
      INFO(r);
      const auto it = logged.find(r);
      CHECK(it != logged.end());
      if (it != logged.end()) CHECK(it->second == 1);
      ++acked;
    }
  }
  CHECK(acked == static_cast<size_t>(kThreads * 6 * 3));
  CHECK(logged.size() == acked);
  size_t decisions = 0;
  for (const json& item : exported["entries"]) {
    if (item["entry"].value("event", "") == "decision") ++decisions;
  }
  CHECK(decisions == static_cast<size_t>(kThreads * 6 * 2));  // need_info and the RPT

  // The same chain after a restart.
  w.Open();
  Reply again = w.as->ExportDisclosures(w.OwnerSession());
  auto m = VerifyDisclosureExport(again.body);
  REQUIRE(m);
  CHECK(*m == n + 1);  // the owner's sign-in
}

// The rule kept across a crash: an answered release is in the log (it was committed before the
// answer); a logged release was asked for; a logged release may lack its answer only if the
// crash came between its commit and its reply, so there are at most as many of those as
// requests in flight.
TEST_CASE("kill -9 in the middle of a concurrent load: no acknowledged release is missing",
          "[uma][log][crash]") {
  UmaWorld w("crash");
  std::optional<Load> load;
  load.emplace(w);
  const std::string pat = load->pat, resource = load->resource;
  w.as.reset();  // the child opens the container itself: no connection crosses the fork
  w.records.reset();

  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(fds[0]);
    // Its own random stream: the parent's copy would otherwise mint the same tokens again.
    static SeededRng child_rng{0xC41D};
    w.env.rng = &child_rng;
    w.Open();
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0;; ++i) {
          const std::string rpt = load->Grant();
          if (rpt.empty()) continue;
          const std::string record = "MedicationRequest/t" + std::to_string(t) + "-" +
                                     std::to_string(i);
          const std::string asked = "A " + record + "\n";
          if (::write(fds[1], asked.data(), asked.size()) < 0) ::_exit(3);
          if (!load->Read(rpt, record)) continue;
          const std::string acked = "R " + record + "\n";  // under PIPE_BUF: written whole
          if (::write(fds[1], acked.data(), acked.size()) < 0) ::_exit(3);
        }
      });
    }
    for (auto& th : threads) th.join();
    ::_exit(0);
  }
  ::close(fds[1]);
  std::set<std::string> asked, acked;
  std::string buffer;
  char chunk[4096];
  bool killed = false;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  for (;;) {
    pollfd p{fds[0], POLLIN, 0};
    if (!killed && (::poll(&p, 1, 1000) == 0 && std::chrono::steady_clock::now() > give_up)) {
      ::kill(child, SIGKILL);  // the load made no progress: the checks below say so
      killed = true;
      continue;
    }
    const ssize_t got = ::read(fds[0], chunk, sizeof chunk);
    if (got <= 0) break;
    buffer.append(chunk, static_cast<size_t>(got));
    for (size_t nl; (nl = buffer.find('\n')) != std::string::npos; buffer.erase(0, nl + 1)) {
      const std::string line = buffer.substr(0, nl);
      (line[0] == 'A' ? asked : acked).insert(line.substr(2));
    }
    if (!killed && acked.size() >= 120) {
      ::kill(child, SIGKILL);
      killed = true;
    }
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  ::close(fds[0]);
  REQUIRE(killed);
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(acked.size() >= 120);

  w.Open();
  const std::map<std::string, int> logged = LoggedReleases(VerifiedExport(w));
  size_t unanswered = 0;
  for (const std::string& r : acked) {
    INFO("acknowledged but not logged: " << r);
    CHECK(logged.count(r) == 1);
  }
  for (const auto& [r, times] : logged) {
    INFO("logged: " << r);
    CHECK(times == 1);
    CHECK(asked.count(r) == 1);
    if (acked.count(r) == 0) ++unanswered;
  }
  CHECK(unanswered <= static_cast<size_t>(kThreads));
  // And the container goes on from there.
  load.emplace(w);
  const std::string rpt = load->Grant();
  INFO(load->last_error);
  CHECK(!rpt.empty());
}

// The owner-session check of the HTTP handlers and the web app's cookie bridge runs without the
// server's lock: concurrent checks must each answer for their own token (they shared one
// prepared statement, whose bind/step/reset interleaved: a live session judged dead, and the
// bridge opened a new owner session on a refused request).
TEST_CASE("concurrent owner-session checks each answer for their own token",
          "[uma][concurrency]") {
  UmaWorld w("owner-check");
  const std::string live = w.OwnerSession();
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 400; ++i) {
        if (t % 2 == 0) {
          if (!w.as->CheckOwner(live).ok()) ++wrong;
        } else if (w.as->CheckOwner("forged-" + std::to_string(t) + "-" + std::to_string(i))
                       .ok()) {
          ++wrong;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(wrong == 0);
  CHECK(w.as->CheckOwner(live).ok());
}
