// The ledger node over HTTP, end to end on 127.0.0.1: real httplib servers in-process over a
// real SqliteLeafStore (FakeClock / SeededRng Env), every /ledger/v1 route and its errors, the
// verifying LedgerClient, two witnesses with the CosignatureCollector and a k-of-n client
// policy, a canned fake node for rollback / split view / forged checkpoints, the tlog-witness
// add-checkpoint endpoint's statuses, and `medallion ledger verify` on an edited database.
#include <catch2/catch.hpp>

#include <httplib.h>
#include <sqlite3.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "medallion/core/encoding.h"
#include "medallion/core/hash.h"
#include "medallion/core/jcs.h"
#include "medallion/ledger/checkpoint.h"
#include "medallion/ledger/log.h"
#include "medallion/ledger/merkle.h"
#include "medallion/ledger/signed_note.h"
#include "medallion/ledger/store.h"
#include "medallion/ledger/witness.h"
#include "medallion/http/http.h"
#include "medallion/roles/ledger_client.h"
#include "medallion/roles/ledger_http.h"
#include "test_util.h"

namespace medallion::roles {
namespace {

namespace fs = std::filesystem;
using ledger::Hash;
using nlohmann::json;

constexpr const char* kOrigin = "ledger.example/http-test";
const Bytes kLogSeed(32, 0x42);
const Bytes kW1Seed(32, 0x51);
const Bytes kW2Seed(32, 0x52);

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() /
            ("medallion-server-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

ledger::Ed25519NoteSigner LogSigner() {
  return ledger::Ed25519NoteSigner::FromSeed(kOrigin, kLogSeed);
}

// ---- entries ----

std::string Hex32(const std::string& s) { return HexEncode(Sha256(AsBytes(s))); }

json Anchor(uint64_t i, const std::string& by = "") {
  json j = {{"type", "anchor"},
            {"v", 1},
            {"hash", Hex32("anchor " + std::to_string(i))},
            {"kind", "document"},
            {"ts", 1700000000 + i}};
  if (!by.empty()) {
    j["by"] = by;
    j["sig"] =
        Base64UrlEncode(Bytes(64, 2));  // the schema's shape; these nodes register no validators
  }
  return j;
}

json Dispense(const std::string& nullifier_seed) {
  return {{"type", "dispense"},
          {"v", 1},
          {"nullifier", Hex32(nullifier_seed)},
          {"rx", Hex32("rx")},
          {"pharmacy", "did:web:pharmacy.example"},
          {"qty", 30},
          {"sig", Base64UrlEncode(Bytes(64, 1))},
          {"ts", 1700000000}};
}

json Relationship(const std::string& rel) {
  return {{"type", "relationship"},
          {"v", 1},
          {"rel", rel},
          {"a", Base64UrlEncode(Bytes(16, 2))},
          {"b", Base64UrlEncode(Bytes(16, 3))},
          {"kind", "patient_provider"},
          {"action", "open"},
          {"sig", Base64UrlEncode(Bytes(64, 4))},
          {"ts", 1700000000}};
}

std::string Canon(const json& j) { return jcs::Canonicalize(j).value(); }
Hash LeafOf(const json& j) { return ledger::HashLeaf(AsBytes(Canon(j))); }
std::string LeafHex(const json& j) { return HexEncode(LeafOf(j)); }

Hash HashFromHex(const std::string& hex) {
  Bytes b = testing::Hex(hex);
  REQUIRE(b.size() == 32);
  Hash h;
  std::copy(b.begin(), b.end(), h.begin());
  return h;
}

ledger::Proof ProofFromJson(const json& j) {
  ledger::Proof p;
  for (const auto& h : j.at("hashes")) p.push_back(HashFromHex(h.get<std::string>()));
  return p;
}

json ProofJson(const ledger::Proof& p) {
  json hashes = json::array();
  for (const auto& h : p) hashes.push_back(HexEncode(h));
  return {{"hashes", hashes}};
}

// ---- servers ----

// An httplib server with Medallion's defaults on 127.0.0.1:<any port>, in its own thread.
class HttpServer {
 public:
  HttpServer() { http::ConfigureServer(server_); }
  ~HttpServer() { Stop(); }
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  httplib::Server& server() { return server_; }
  void Start() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    REQUIRE(port_ > 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() before the accept loop runs would be lost; wait for it.
    for (int i = 0; i < 2000 && !server_.is_running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    REQUIRE(server_.is_running());
  }
  void Stop() {
    if (thread_.joinable()) {
      server_.stop();
      thread_.join();
    }
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

struct WitnessNode {
  TempDir dir;
  FakeClock clock{1700000100000};
  SeededRng rng{11};
  std::unique_ptr<ledger::SqliteLeafStore> store;
  std::unique_ptr<ledger::Witness> witness;
  ledger::CosignatureV1Verifier key;
  HttpServer http;

  WitnessNode(const std::string& name, const Bytes& seed)
      : key(ledger::CosignatureV1Signer::FromSeed(name, seed).Verifier()) {
    auto s = ledger::SqliteLeafStore::Open(dir.File("witness.db"));
    REQUIRE(s);
    store = std::move(s).value();
    witness = std::make_unique<ledger::Witness>(
        store.get(), ledger::CosignatureV1Signer::FromSeed(name, seed), Env{&clock, &rng},
        std::vector<ledger::Witness::KnownLog>{{kOrigin, LogSigner().Verifier()}});
    RegisterLedgerRoutes(http.server(), nullptr, witness.get(), nullptr);
    http.Start();
  }
  WitnessEndpoint Endpoint() const { return {http.url(), key}; }
};

struct LogNode {
  TempDir dir;
  FakeClock clock{1700000000000};
  SeededRng rng{7};
  std::string db = dir.File("ledger.db");
  std::unique_ptr<ledger::Log> log;
  std::unique_ptr<CosignatureCollector> collector;
  HttpServer http;  // last: stopped first, before what its handlers use

  explicit LogNode(std::vector<WitnessEndpoint> witnesses = {}) {
    auto store = ledger::SqliteLeafStore::Open(db);
    REQUIRE(store);
    auto l = ledger::Log::Open(std::move(store).value(), LogSigner(), Env{&clock, &rng});
    REQUIRE(l);
    log = std::move(l).value();
    // A long interval: rounds run on kicks (appends) and on RunOnce.
    if (!witnesses.empty())
      collector = std::make_unique<CosignatureCollector>(log.get(), std::move(witnesses), 3600000);
    RegisterLedgerRoutes(http.server(), log.get(), nullptr, collector.get());
    http.Start();
  }
  ~LogNode() {
    http.Stop();
    collector.reset();
    log.reset();
  }
  httplib::Client Client() const {
    httplib::Client c(http.url());
    c.set_read_timeout(30, 0);
    return c;
  }
};

// A node that answers canned checkpoint notes and consistency proofs (a lying log).
struct FakeNode {
  std::mutex mu;
  std::string note;
  json consistency = {{"hashes", json::array()}};
  int consistency_requests = 0;
  HttpServer http;

  FakeNode() {
    http.server().Get("/ledger/v1/checkpoint",
                      [this](const httplib::Request&, httplib::Response& res) {
                        std::lock_guard<std::mutex> lock(mu);
                        res.set_content(note, "text/plain; charset=utf-8");
                      });
    http.server().Get("/ledger/v1/proof/consistency",
                      [this](const httplib::Request&, httplib::Response& res) {
                        std::lock_guard<std::mutex> lock(mu);
                        ++consistency_requests;
                        res.set_content(consistency.dump(), "application/json");
                      });
    http.Start();
  }
  void Serve(std::string n, const ledger::Proof& proof = {}) {
    std::lock_guard<std::mutex> lock(mu);
    note = std::move(n);
    consistency = ProofJson(proof);
  }
};

// ---- HTTP helpers ----

json Body(const httplib::Result& res) {
  REQUIRE(res);
  json j = json::parse(res->body, nullptr, false);
  INFO(res->body);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

// A JSON error answer: status, content type, {"error", "error_description"}.
void CheckError(const httplib::Result& res, int status, const std::string& error,
                const std::string& contains = "") {
  REQUIRE(res);
  INFO("status " << res->status << " body " << res->body);
  CHECK(res->status == status);
  CHECK(res->get_header_value("Content-Type") == "application/json");
  json j = json::parse(res->body, nullptr, false);
  REQUIRE(j.is_object());
  CHECK(j.value("error", "") == error);
  CHECK(j.contains("error_description"));
  if (!contains.empty())
    CHECK(j.value("error_description", "").find(contains) != std::string::npos);
}

httplib::Result PostJson(httplib::Client& c, const std::string& body) {
  return c.Post("/ledger/v1/entries", body, "application/json");
}

ledger::Checkpoint CheckpointOf(const std::string& note) {
  auto v = ledger::OpenCheckpoint(note, LogSigner().Verifier(), kOrigin, nullptr);
  REQUIRE(v);
  return v->checkpoint;
}

ledger::WitnessPolicy Policy(std::vector<ledger::CosignatureV1Verifier> keys, size_t threshold) {
  return ledger::WitnessPolicy{std::move(keys), threshold};
}

LedgerClient MakeClient(const std::string& url, ledger::WitnessPolicy policy = {},
                        std::string_view trusted = {}) {
  return LedgerClient(
      url, ledger::LogVerifier(LogSigner().Verifier(), kOrigin, std::move(policy), trusted));
}

// A checkpoint note for an arbitrary (size, root), signed with the log's own key and, if
// given, cosigned by witnesses: what a compromised log (with colluding witnesses) could serve.
std::string SignedNote(uint64_t size, const Hash& root,
                       const std::vector<const ledger::CosignatureV1Signer*>& cosigners = {}) {
  ledger::Checkpoint cp{kOrigin, size, root, {}};
  std::string note = LogSigner().SignNote(cp.ToText());
  for (const auto* w : cosigners) note += w->SignatureLine(cp.ToText(), 1700000200);
  return note;
}

// ---- the /ledger/v1 API ----

TEST_CASE("ledger http: append one entry and a batch and read every route",
          "[server][ledger][http]") {
  LogNode node;
  auto c = node.Client();

  // Empty log: checkpoint of size 0 with the empty root.
  auto cp0 = c.Get("/ledger/v1/checkpoint");
  REQUIRE(cp0);
  CHECK(cp0->status == 200);
  CHECK(cp0->get_header_value("Content-Type").rfind("text/plain", 0) == 0);
  CHECK(CheckpointOf(cp0->body).size == 0);
  CHECK(CheckpointOf(cp0->body).root == ledger::EmptyRoot());

  // The key route.
  json key = Body(c.Get("/ledger/v1/key"));
  CHECK(key["origin"] == kOrigin);
  CHECK(key["verifier_key"] == LogSigner().Verifier().VerifierKey());
  CHECK(key["public_key"] == HexEncode(LogSigner().public_key()));

  // One entry: index and leaf hash = HashLeaf(canonical bytes). Members out of canonical order
  // on the wire do not matter.
  const json e0 = Anchor(0, "did:web:clinic.example");
  auto r0 = PostJson(
      c, "{\"v\":1,\"type\":\"anchor\",\"ts\":1700000000,\"kind\":\"document\",\"hash\":\"" +
             e0["hash"].get<std::string>() + "\",\"by\":\"did:web:clinic.example\",\"sig\":\"" +
             e0["sig"].get<std::string>() + "\"}");
  json a0 = Body(r0);
  CHECK(r0->status == 200);
  CHECK(a0 == json{{"index", 0}, {"leaf_hash", LeafHex(e0)}});

  // A batch: consecutive indices in order.
  std::vector<json> batch = {Anchor(1), Dispense("n1"), Relationship(Base64UrlEncode(Bytes(16, 9))),
                             Anchor(2, "did:web:clinic.example")};
  json rb = Body(PostJson(c, json{{"entries", batch}}.dump()));
  REQUIRE(rb["results"].size() == batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    CHECK(rb["results"][i] == json{{"index", i + 1}, {"leaf_hash", LeafHex(batch[i])}});
  }
  std::vector<json> all = {e0};
  all.insert(all.end(), batch.begin(), batch.end());
  const uint64_t n = all.size();
  CHECK(node.log->Size() == n);

  // Checkpoint: signed by the log, size n, root over the leaf hashes.
  auto cpn = c.Get("/ledger/v1/checkpoint");
  REQUIRE(cpn);
  ledger::Checkpoint cp = CheckpointOf(cpn->body);
  std::vector<Hash> leaves;
  for (const auto& e : all) leaves.push_back(LeafOf(e));
  CHECK(cp.size == n);
  CHECK(cp.root == ledger::RootFromLeaves(leaves));

  // Entries: the canonical bytes, index and leaf hash.
  json entries = Body(c.Get("/ledger/v1/entries?start=0&end=" + std::to_string(n)));
  REQUIRE(entries["entries"].size() == n);
  for (uint64_t i = 0; i < n; ++i) {
    CHECK(entries["entries"][i]["index"] == i);
    CHECK(entries["entries"][i]["entry"] == Canon(all[i]));
    CHECK(entries["entries"][i]["leaf_hash"] == LeafHex(all[i]));
  }
  CHECK(Body(c.Get("/ledger/v1/entries?start=2&end=2"))["entries"].empty());

  // Inclusion proofs for every leaf at every size, verified against the RFC 9162 roots.
  for (uint64_t size = 1; size <= n; ++size) {
    const Hash root = ledger::RootFromLeaves(std::span(leaves).first(size));
    for (uint64_t i = 0; i < size; ++i) {
      auto p = ProofFromJson(Body(c.Get("/ledger/v1/proof/inclusion?index=" + std::to_string(i) +
                                        "&size=" + std::to_string(size))));
      CHECK(ledger::VerifyInclusion(i, size, leaves[i], p, root).ok());
    }
  }
  // Consistency proofs between every pair of sizes.
  for (uint64_t m = 1; m <= n; ++m) {
    for (uint64_t k = m; k <= n; ++k) {
      auto p = ProofFromJson(Body(c.Get("/ledger/v1/proof/consistency?first=" + std::to_string(m) +
                                        "&second=" + std::to_string(k))));
      CHECK(ledger::VerifyConsistency(m, k, p, ledger::RootFromLeaves(std::span(leaves).first(m)),
                                      ledger::RootFromLeaves(std::span(leaves).first(k)))
                .ok());
    }
  }

  // Lookups by did, nullifier and relationship id, each with an inclusion proof.
  auto lookup = [&](const std::string& kind, const std::string& value,
                    const std::string& extra = "") {
    httplib::Params params{{"kind", kind}, {"value", value}};
    return c.Get(httplib::append_query_params("/ledger/v1/lookup", params) + extra);
  };
  json byDid = Body(lookup("did", "did:web:clinic.example"));
  CHECK(byDid["size"] == n);
  REQUIRE(byDid["matches"].size() == 2);
  CHECK(byDid["matches"][0]["index"] == 0);
  CHECK(byDid["matches"][1]["index"] == 4);
  for (const auto& m : byDid["matches"]) {
    const uint64_t i = m["index"].get<uint64_t>();
    CHECK(m["entry"] == Canon(all[i]));
    CHECK(m["leaf_hash"] == LeafHex(all[i]));
    CHECK(ledger::VerifyInclusion(i, n, leaves[i],
                                  ProofFromJson({{"hashes", m["inclusion_proof"]}}), cp.root)
              .ok());
  }
  json byNull = Body(lookup("nullifier", Hex32("n1")));
  REQUIRE(byNull["matches"].size() == 1);
  CHECK(byNull["matches"][0]["index"] == 2);
  json byRel = Body(lookup("relationship", Base64UrlEncode(Bytes(16, 9))));
  REQUIRE(byRel["matches"].size() == 1);
  CHECK(byRel["matches"][0]["index"] == 3);
  // At an earlier size, later matches are left out and proofs are at that size.
  json early = Body(lookup("did", "did:web:clinic.example", "&size=3"));
  CHECK(early["size"] == 3);
  REQUIRE(early["matches"].size() == 1);
  CHECK(ledger::VerifyInclusion(0, 3, leaves[0],
                                ProofFromJson({{"hashes", early["matches"][0]["inclusion_proof"]}}),
                                ledger::RootFromLeaves(std::span(leaves).first(3)))
            .ok());
  CHECK(Body(lookup("did", "did:web:nobody.example"))["matches"].empty());
}

TEST_CASE("ledger http: every negative answers a JSON error and changes nothing",
          "[server][ledger][http][negative]") {
  LogNode node;
  auto c = node.Client();
  for (uint64_t i = 0; i < 5; ++i) REQUIRE(node.log->AppendSync(Canon(Anchor(i))));
  REQUIRE(node.log->AppendSync(Canon(Dispense("used"))));
  const uint64_t n = node.log->Size();
  const std::string note = node.log->CheckpointNote();

  SECTION("malformed bodies") {
    CheckError(PostJson(c, "{\"type\":\"anchor\""), 400, "invalid_argument");
    CheckError(PostJson(c, ""), 400, "invalid_argument");
    CheckError(PostJson(c, "[1,2]"), 400, "invalid_argument", "object");
    CheckError(PostJson(c, "\"anchor\""), 400, "invalid_argument");
    CheckError(PostJson(c, Canon(Anchor(9)) + " {}"), 400, "invalid_argument");  // trailing data
    CheckError(PostJson(c, "{\"a\":\"\xff\"}"), 400, "invalid_argument");        // not UTF-8
  }
  SECTION("duplicate keys") {
    std::string dup = Canon(Anchor(9));
    dup.insert(1, "\"v\":1,");
    CheckError(PostJson(c, dup), 400, "invalid_argument");
    CheckError(PostJson(c, "{\"entries\":[" + Canon(Anchor(9)) + "],\"entries\":[]}"), 400,
               "invalid_argument");
  }
  SECTION("schema violations") {
    json unknown = Anchor(9);
    unknown["note"] = "patient has the flu";
    CheckError(PostJson(c, unknown.dump()), 400, "invalid_argument", "\"note\"");
    json missing = Anchor(9);
    missing.erase("hash");
    CheckError(PostJson(c, missing.dump()), 400, "invalid_argument", "hash");
    json badType = Anchor(9);
    badType["type"] = "diagnosis";
    CheckError(PostJson(c, badType.dump()), 400, "invalid_argument");
    json nested = Anchor(9);
    nested["kind"] = json::object({{"x", 1}});
    CheckError(PostJson(c, nested.dump()), 400, "invalid_argument");
    json big = Anchor(9);
    big["by"] = "did:web:" + std::string(5000, 'a');
    CheckError(PostJson(c, big.dump()), 400, "invalid_argument");
  }
  SECTION("a repeated dispense nullifier is already_exists") {
    CheckError(PostJson(c, Canon(Dispense("used"))), 409, "already_exists");
  }
  SECTION("a body over 1 MiB is 413 with a JSON error") {
    std::string huge = "{\"entries\":[" + Canon(Anchor(1));
    while (huge.size() <= http::kMaxRequestBody) huge += "," + Canon(Anchor(1));
    huge += "]}";
    CheckError(PostJson(c, huge), 413, "request_too_large");
  }
  SECTION("a batch with one bad entry changes nothing") {
    json bad = Anchor(101);
    bad["extra"] = 1;
    json batch = {{"entries", {Anchor(100), bad, Anchor(102)}}};
    CheckError(PostJson(c, batch.dump()), 400, "invalid_argument", "entries[1]");
    json badLast = {{"entries", {Anchor(100), Anchor(101), json::object()}}};
    CheckError(PostJson(c, badLast.dump()), 400, "invalid_argument", "entries[2]");
    CheckError(PostJson(c, json{{"entries", json::array()}}.dump()), 400, "invalid_argument");
    CheckError(PostJson(c, json{{"entries", Anchor(1)}}.dump()), 400, "invalid_argument");
    CheckError(PostJson(c, json{{"entries", {Anchor(100)}}, {"x", 1}}.dump()), 400,
               "invalid_argument");
    json tooMany = {{"entries", json::array()}};
    for (int i = 0; i < 1001; ++i) tooMany["entries"].push_back(Anchor(200 + i));
    CheckError(PostJson(c, tooMany.dump()), 400, "invalid_argument");
  }
  SECTION("bad query parameters") {
    CheckError(c.Get("/ledger/v1/proof/inclusion?size=3"), 400, "invalid_argument", "index");
    CheckError(c.Get("/ledger/v1/proof/inclusion?index=1"), 400, "invalid_argument", "size");
    CheckError(c.Get("/ledger/v1/proof/inclusion?index=x&size=3"), 400, "invalid_argument",
               "index");
    CheckError(c.Get("/ledger/v1/proof/inclusion?index=01&size=3"), 400, "invalid_argument",
               "index");
    CheckError(c.Get("/ledger/v1/proof/inclusion?index=-1&size=3"), 400, "invalid_argument",
               "index");
    CheckError(c.Get("/ledger/v1/proof/inclusion?index=1&size=3a"), 400, "invalid_argument",
               "size");
    CheckError(c.Get("/ledger/v1/proof/inclusion?index=1&size=99999999999999999999999"), 400,
               "invalid_argument", "size");
    CheckError(c.Get("/ledger/v1/proof/inclusion?index=&size=3"), 400, "invalid_argument", "index");
    CheckError(c.Get("/ledger/v1/proof/inclusion?index=3&size=3"), 400,
               "invalid_argument");  // index >= size
    CheckError(c.Get("/ledger/v1/proof/consistency?first=1"), 400, "invalid_argument", "second");
    CheckError(c.Get("/ledger/v1/proof/consistency?first=4&second=2"), 400, "invalid_argument");
    CheckError(c.Get("/ledger/v1/proof/consistency?first=0&second=2"), 400,
               "invalid_argument");  // proves nothing
    CheckError(c.Get("/ledger/v1/entries?start=0"), 400, "invalid_argument", "end");
    CheckError(c.Get("/ledger/v1/entries?start=3&end=2"), 400, "invalid_argument");
    CheckError(c.Get("/ledger/v1/entries?start=0&end=1001"), 400, "invalid_argument");
    CheckError(c.Get("/ledger/v1/lookup?kind=email&value=x"), 400, "invalid_argument");
    CheckError(c.Get("/ledger/v1/lookup?value=x"), 400, "invalid_argument");
    CheckError(c.Get("/ledger/v1/lookup?kind=did&value="), 400, "invalid_argument");
    CheckError(c.Get("/ledger/v1/lookup?kind=did&value=" + std::string(257, 'a')), 400,
               "invalid_argument");
    CheckError(c.Get("/ledger/v1/lookup?kind=did&value=did:web:a&size=x"), 400, "invalid_argument",
               "size");
  }
  SECTION("sizes beyond the log") {
    const std::string past = std::to_string(n + 1);
    CheckError(c.Get("/ledger/v1/proof/inclusion?index=0&size=" + past), 400, "invalid_argument",
               "beyond");
    CheckError(c.Get("/ledger/v1/proof/consistency?first=1&second=" + past), 400,
               "invalid_argument", "beyond");
    CheckError(c.Get("/ledger/v1/proof/consistency?first=" + past + "&second=" + past), 400,
               "invalid_argument");
    CheckError(c.Get("/ledger/v1/entries?start=0&end=" + past), 400, "invalid_argument");
    CheckError(c.Get("/ledger/v1/entries?start=" + past + "&end=" + past), 400, "invalid_argument");
    CheckError(c.Get("/ledger/v1/lookup?kind=did&value=did:web:a&size=" + past), 400,
               "invalid_argument", "beyond");
  }
  SECTION("unknown routes and methods") {
    CheckError(c.Get("/ledger/v1/nothing"), 404, "not_found");
    CheckError(c.Get("/"), 404, "not_found");
    CheckError(c.Post("/ledger/v1/checkpoint", "{}", "application/json"), 404, "not_found");
    CheckError(c.Post("/add-checkpoint", "old 0\n\n", "text/plain"), 404,
               "not_found");  // not a witness
    // A method no route has (httplib answers 404, not 405).
    CheckError(c.Delete("/ledger/v1/entries"), 404, "not_found");
    CheckError(c.Put("/ledger/v1/entries", "{}", "application/json"), 404, "not_found");
  }
  // Whatever was refused, the log did not move.
  CHECK(node.log->Size() == n);
  CHECK(node.log->CheckpointNote() == note);
  auto cp = c.Get("/ledger/v1/checkpoint");
  REQUIRE(cp);
  CHECK(cp->body == note);
}

TEST_CASE("ledger http: a batch with a repeated nullifier answers per entry",
          "[server][ledger][http]") {
  LogNode node;
  auto c = node.Client();
  REQUIRE(node.log->AppendSync(Canon(Dispense("once"))));
  // Schema-valid entries are sequenced one by one: the duplicate alone is refused.
  json rb = Body(PostJson(c, json{{"entries", {Anchor(1), Dispense("once"), Anchor(2)}}}.dump()));
  REQUIRE(rb["results"].size() == 3);
  CHECK(rb["results"][0]["index"] == 1);
  CHECK(rb["results"][1]["error"] == "already_exists");
  CHECK(rb["results"][2]["index"] == 2);
  CHECK(node.log->Size() == 3);
}

// ---- the verifying client ----

TEST_CASE("ledger client: append refresh inclusion lookup entries", "[server][ledger][client]") {
  LogNode node;
  auto client = MakeClient(node.http.url());

  // Nothing is trusted before Refresh.
  CHECK(client.VerifyIncluded(0, Hash{}).code() == StatusCode::kFailedPrecondition);
  CHECK(client.Entries(0, 0).error().code() == StatusCode::kFailedPrecondition);
  CHECK(client.Lookup({ledger::KeyKind::kDid, "did:web:a.example"}).error().code() ==
        StatusCode::kFailedPrecondition);

  auto a0 = client.Append(Anchor(0, "did:web:a.example"));
  REQUIRE(a0);
  CHECK(a0->index == 0);
  CHECK(a0->leaf_hash == LeafOf(Anchor(0, "did:web:a.example")));
  std::vector<json> batch = {Anchor(1), Dispense("c1"), Anchor(2, "did:web:a.example"),
                             Relationship(Base64UrlEncode(Bytes(20, 5)))};
  auto rb = client.AppendBatch(batch);
  REQUIRE(rb);
  REQUIRE(rb->size() == batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    REQUIRE((*rb)[i]);
    CHECK((*rb)[i]->index == i + 1);
    CHECK((*rb)[i]->leaf_hash == LeafOf(batch[i]));
  }
  // Errors come back as the server's Status.
  json bad = Anchor(3);
  bad["free_text"] = "no";
  auto e1 = client.Append(bad);
  REQUIRE_FALSE(e1);
  CHECK(e1.error().code() == StatusCode::kInvalidArgument);
  CHECK(e1.error().message().find("free_text") != std::string::npos);
  CHECK(client.Append(Dispense("c1")).error().code() == StatusCode::kAlreadyExists);
  auto eb = client.AppendBatch({Anchor(3), bad});
  REQUIRE_FALSE(eb);
  CHECK(eb.error().code() == StatusCode::kInvalidArgument);
  auto partial = client.AppendBatch({Dispense("c1")});
  REQUIRE(partial);
  CHECK((*partial)[0].error().code() == StatusCode::kAlreadyExists);
  CHECK(node.log->Size() == 5);

  auto cp = client.Refresh();
  REQUIRE(cp);
  CHECK(cp->size == 5);
  CHECK(client.verifier().trusted()->size == 5);
  CHECK(client.VerifyIncluded(0, a0->leaf_hash).ok());
  CHECK(client.VerifyIncluded(2, LeafOf(Dispense("c1"))).ok());
  CHECK(client.VerifyIncluded(1, a0->leaf_hash).code() ==
        StatusCode::kFailedPrecondition);  // wrong leaf
  CHECK(client.VerifyIncluded(5, a0->leaf_hash).code() ==
        StatusCode::kFailedPrecondition);  // not yet trusted

  auto found = client.Lookup({ledger::KeyKind::kDid, "did:web:a.example"});
  REQUIRE(found);
  REQUIRE(found->size() == 2);
  CHECK((*found)[0].index == 0);
  CHECK((*found)[1].index == 3);
  CHECK((*found)[1].entry == Canon(batch[2]));
  CHECK((*found)[1].tree_size == 5);
  auto byNull = client.Lookup({ledger::KeyKind::kNullifier, Hex32("c1")});
  REQUIRE(byNull);
  REQUIRE(byNull->size() == 1);
  CHECK((*byNull)[0].index == 2);
  auto byRel = client.Lookup({ledger::KeyKind::kRelationship, Base64UrlEncode(Bytes(20, 5))});
  REQUIRE(byRel);
  REQUIRE(byRel->size() == 1);
  CHECK((*byRel)[0].index == 4);
  auto none = client.Lookup({ledger::KeyKind::kDid, "did:web:nobody.example"});
  REQUIRE(none);
  CHECK(none->empty());

  auto entries = client.Entries(0, 5);
  REQUIRE(entries);
  REQUIRE(entries->size() == 5);
  for (uint64_t i = 0; i < 5; ++i) {
    CHECK((*entries)[i].index == i);
    CHECK((*entries)[i].leaf_hash == ledger::HashLeaf(AsBytes((*entries)[i].entry)));
  }
  CHECK((*entries)[3].entry == Canon(batch[2]));
  CHECK(client.Entries(0, 6).error().code() == StatusCode::kInvalidArgument);
  CHECK(client.Entries(1, 1)->empty());

  // Growth: the next Refresh fetches and verifies a consistency proof.
  for (uint64_t i = 10; i < 17; ++i) REQUIRE(client.Append(Anchor(i)));
  REQUIRE(client.Refresh());
  CHECK(client.verifier().trusted()->size == 12);
  CHECK(client.VerifyIncluded(11, LeafOf(Anchor(16))).ok());
  // The same checkpoint again is fine.
  REQUIRE(client.Refresh());

  // Trust carries across sessions through the saved note.
  const std::string saved = client.verifier().trusted_note();
  REQUIRE(client.Append(Anchor(20)));
  auto later = MakeClient(node.http.url(), {}, saved);
  REQUIRE(later.verifier().trusted());
  CHECK(later.verifier().trusted()->size == 12);
  REQUIRE(later.Refresh());
  CHECK(later.verifier().trusted()->size == 13);

  // A node that is not there.
  int dead_port = 0;
  {
    HttpServer gone;
    gone.Start();
    dead_port = gone.port();
  }
  auto dead = MakeClient("http://127.0.0.1:" + std::to_string(dead_port));
  CHECK(dead.Refresh().error().code() == StatusCode::kUnavailable);
  CHECK(dead.Append(Anchor(1)).error().code() == StatusCode::kUnavailable);
}

// ---- witnesses, policies and lying nodes ----

TEST_CASE("ledger client: a hostile node's 100,000-deep answers are refused, not recursed into",
          "[server][ledger][client]") {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  HttpServer hostile;
  hostile.server().Get(".*", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(deep, "application/json");
  });
  hostile.server().Post(".*", [&](const httplib::Request& req, httplib::Response& res) {
    res.status = req.body.find("\"entries\"") != std::string::npos
                     ? 400
                     : 200;  // the batch: a deep error body
    res.set_content(deep, "application/json");
  });
  hostile.Start();
  auto client = MakeClient(hostile.url());
  auto refreshed = client.Refresh();
  REQUIRE_FALSE(refreshed);
  CHECK(refreshed.error().code() == StatusCode::kDataLoss);
  auto appended = client.Append(Anchor(0));
  REQUIRE_FALSE(appended);
  CHECK(appended.error().code() == StatusCode::kDataLoss);
  auto batch = client.AppendBatch({Anchor(1)});
  REQUIRE_FALSE(batch);
  CHECK(batch.error().message().find("without a JSON error body") != std::string::npos);
}

// Issue 12: a listener holds at most ConnectionLimits::max_total connections; the newest beyond
// it are shut down (connection_guard.h). Idle connections from one address, under its
// per-address limit, so only the total applies.
TEST_CASE("connection guard: a listener keeps at most max_total connections", "[server][guard]") {
  httplib::Server server;
  http::ConfigureServer(server);
  server.Get("/ping", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("pong", "text/plain");
  });
  http::ConnectionLimits limits;
  limits.max_total = 4;
  limits.max_per_address = 100;
  limits.shed_after = std::chrono::milliseconds(0);
  limits.request_timeout =
      std::chrono::milliseconds(120'000);  // only the count closes anything here
  auto port = http::BindServer(server, "127.0.0.1", 0, limits);
  REQUIRE(port);
  std::thread loop([&] { server.listen_after_bind(); });
  for (int i = 0; i < 2000 && !server.is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  REQUIRE(server.is_running());

  std::vector<int> fds;
  for (int i = 0; i < 10; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(*port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    fds.push_back(fd);
  }
  // A connection the server shut down reads as end of stream.
  auto closed_by_server = [](int fd) {
    char c;
    return ::recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK) == 0;
  };
  size_t closed = 0;
  for (int i = 0; i < 100 && closed < 6; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    closed = static_cast<size_t>(std::count_if(fds.begin(), fds.end(), closed_by_server));
  }
  CHECK(closed == 6);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // and no more than that
  CHECK(static_cast<size_t>(std::count_if(fds.begin(), fds.end(), closed_by_server)) == 6);
  for (int fd : fds) ::close(fd);
  // The listener still serves.
  httplib::Client c("127.0.0.1", *port);
  auto r = c.Get("/ping");
  REQUIRE(r);
  CHECK(r->body == "pong");
  server.stop();
  loop.join();
}

TEST_CASE("ledger http: two witnesses with a 2-of-2 policy and what a client refuses",
          "[server][ledger][witness]") {
  WitnessNode w1("w1.example", kW1Seed);
  WitnessNode w2("w2.example", kW2Seed);
  LogNode node({w1.Endpoint(), w2.Endpoint()});
  const auto w1s = ledger::CosignatureV1Signer::FromSeed("w1.example", kW1Seed);
  const auto w2s = ledger::CosignatureV1Signer::FromSeed("w2.example", kW2Seed);
  const auto policy2 = Policy({w1.key, w2.key}, 2);

  // Before any round, the node serves its plain note: a 2-of-2 client refuses it.
  auto strict = MakeClient(node.http.url(), policy2);
  CHECK(strict.Refresh().error().code() == StatusCode::kUnauthenticated);
  CHECK_FALSE(strict.verifier().trusted());

  for (uint64_t i = 0; i < 5; ++i) REQUIRE(node.log->AppendSync(Canon(Anchor(i))));
  CHECK(node.collector->RunOnce() == 2);
  const std::string note5 = node.collector->CosignedNote();
  {
    auto parsed = ledger::ParseNote(note5);
    REQUIRE(parsed);
    CHECK(parsed->signatures.size() == 3);  // the log and two witnesses
  }
  auto served = node.Client().Get("/ledger/v1/checkpoint");
  REQUIRE(served);
  CHECK(served->body == note5);

  // The 2-of-2 client accepts the cosigned checkpoint.
  auto cp5 = strict.Refresh();
  REQUIRE(cp5);
  CHECK(cp5->size == 5);
  auto opened = ledger::OpenCheckpoint(strict.verifier().trusted_note(), LogSigner().Verifier(),
                                       kOrigin, &policy2);
  REQUIRE(opened);
  CHECK(opened->witnesses.size() == 2);

  // Growth: the witnesses are asked with old size 5 and a consistency proof.
  for (uint64_t i = 5; i < 9; ++i) REQUIRE(node.log->AppendSync(Canon(Anchor(i))));
  CHECK(node.collector->RunOnce() == 2);
  REQUIRE(strict.Refresh());
  CHECK(strict.verifier().trusted()->size == 9);
  const std::string note9 = strict.verifier().trusted_note();

  // A second collector starts from size 0, learns each witness's size from a 409, and retries.
  {
    CosignatureCollector fresh(node.log.get(), {w1.Endpoint(), w2.Endpoint()}, 3600000);
    CHECK(fresh.RunOnce() == 2);
    auto p = ledger::ParseNote(fresh.CosignedNote());
    REQUIRE(p);
    CHECK(p->signatures.size() == 3);
  }
  // A collector told a wrong key for a witness keeps none of its lines.
  {
    auto wrong = ledger::CosignatureV1Signer::FromSeed("w2.example", Bytes(32, 0x99)).Verifier();
    CosignatureCollector misled(node.log.get(), {w1.Endpoint(), {w2.http.url(), wrong}}, 3600000);
    CHECK(misled.RunOnce() == 1);
  }

  SECTION("a client pinned to a wrong witness key refuses") {
    auto wrong = ledger::CosignatureV1Signer::FromSeed("w2.example", Bytes(32, 0x99)).Verifier();
    auto c = MakeClient(node.http.url(), Policy({w1.key, wrong}, 2));
    auto r = c.Refresh();
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == StatusCode::kUnauthenticated);
    CHECK_FALSE(c.verifier().trusted());
    // Also a 1-of-1 policy naming only an unknown witness.
    auto lone = ledger::CosignatureV1Signer::FromSeed("w3.example", Bytes(32, 0x98)).Verifier();
    CHECK(MakeClient(node.http.url(), Policy({lone}, 1)).Refresh().error().code() ==
          StatusCode::kUnauthenticated);
    // 1 of {w1, wrong} is enough.
    CHECK(MakeClient(node.http.url(), Policy({w1.key, wrong}, 1)).Refresh());
  }
  SECTION("a client with a wrong log key refuses") {
    auto otherKey = ledger::Ed25519NoteSigner::FromSeed(kOrigin, Bytes(32, 0x77)).Verifier();
    LedgerClient c(node.http.url(), ledger::LogVerifier(otherKey, kOrigin, policy2));
    auto r = c.Refresh();
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == StatusCode::kUnauthenticated);
    // The right key under the wrong origin.
    LedgerClient c2(node.http.url(),
                    ledger::LogVerifier(LogSigner().Verifier(), "other.example/log", policy2));
    CHECK_FALSE(c2.Refresh());
    CHECK_FALSE(c2.verifier().trusted());
  }

  FakeNode fake;
  SECTION("a forged checkpoint (another key, the same origin) is refused") {
    auto imposter = ledger::Ed25519NoteSigner::FromSeed(kOrigin, Bytes(32, 0x66));
    ledger::Checkpoint forged{kOrigin, 20, ledger::HashLeaf(AsBytes("forged")), {}};
    // Even carrying valid witness cosignatures of the forged text.
    std::string note = imposter.SignNote(forged.ToText()) + w1s.SignatureLine(forged.ToText(), 1) +
                       w2s.SignatureLine(forged.ToText(), 1);
    fake.Serve(note);
    auto c = MakeClient(fake.http.url(), policy2, note9);
    auto r = c.Refresh();
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == StatusCode::kUnauthenticated);
    CHECK(c.verifier().trusted()->size == 9);
    auto fresh = MakeClient(fake.http.url(), policy2);
    CHECK(fresh.Refresh().error().code() == StatusCode::kUnauthenticated);
    // The log's signature line with a flipped bit.
    std::string flipped = note9;
    const size_t sig = flipped.find("\n\u2014 " + std::string(kOrigin) + " ");
    REQUIRE(sig != std::string::npos);
    const size_t end = flipped.find('\n', sig + 1);
    flipped[end - 3] = flipped[end - 3] == 'A' ? 'B' : 'A';
    fake.Serve(flipped);
    CHECK_FALSE(MakeClient(fake.http.url(), policy2).Refresh());
  }
  SECTION("rollback to an older checkpoint is refused") {
    fake.Serve(note5);
    auto c = MakeClient(fake.http.url(), policy2, note9);
    REQUIRE(c.verifier().trusted());
    auto r = c.Refresh();
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == StatusCode::kFailedPrecondition);
    CHECK(r.error().message().find("rollback") != std::string::npos);
    CHECK(c.verifier().trusted()->size == 9);
    CHECK(c.verifier().trusted_note() == note9);
  }
  SECTION("split view: same size, different root") {
    // Signed by the log's own key and cosigned by both witnesses' keys (all colluding).
    std::string other = SignedNote(9, ledger::HashLeaf(AsBytes("fork")), {&w1s, &w2s});
    REQUIRE(ledger::OpenCheckpoint(other, LogSigner().Verifier(), kOrigin, &policy2));
    fake.Serve(other);
    auto c = MakeClient(fake.http.url(), policy2, note9);
    auto r = c.Refresh();
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == StatusCode::kFailedPrecondition);
    CHECK(r.error().message().find("split view") != std::string::npos);
    CHECK(c.verifier().trusted_note() == note9);
  }
  SECTION("split view: a different larger tree with a proof that does not connect") {
    for (uint64_t i = 9; i < 14; ++i) REQUIRE(node.log->AppendSync(Canon(Anchor(i))));
    auto realProof = node.log->ConsistencyProof(9, 14);
    REQUIRE(realProof);
    // A different tree of size 14 offered with the real log's proof, and with a doctored one.
    std::string other = SignedNote(14, ledger::HashLeaf(AsBytes("fork 14")), {&w1s, &w2s});
    fake.Serve(other, *realProof);
    auto c = MakeClient(fake.http.url(), policy2, note9);
    auto r = c.Refresh();
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == StatusCode::kFailedPrecondition);
    CHECK(r.error().message().find("split view") != std::string::npos);
    CHECK(fake.consistency_requests == 1);
    CHECK(c.verifier().trusted()->size == 9);

    // The real size-14 checkpoint with a corrupted, truncated or empty proof.
    CHECK(node.collector->RunOnce() == 2);
    const std::string note14 = node.collector->CosignedNote();
    ledger::Proof corrupt = *realProof;
    corrupt.back()[5] ^= 0x20;
    ledger::Proof shortProof(realProof->begin(), realProof->end() - 1);
    for (const ledger::Proof& p : {corrupt, shortProof, ledger::Proof{}}) {
      fake.Serve(note14, p);
      auto rr = c.Refresh();
      REQUIRE_FALSE(rr);
      CHECK(rr.error().code() == StatusCode::kFailedPrecondition);
      CHECK(c.verifier().trusted()->size == 9);
    }
    // Control: the same fake node with the right proof is believed.
    fake.Serve(note14, *realProof);
    auto ok = c.Refresh();
    REQUIRE(ok);
    CHECK(ok->size == 14);
    // And afterwards the old checkpoint is a rollback.
    fake.Serve(note9);
    CHECK(c.Refresh().error().message().find("rollback") != std::string::npos);
  }
  SECTION("a malformed checkpoint is data_loss, and trust does not move") {
    fake.Serve("not a note");
    auto c = MakeClient(fake.http.url(), policy2, note9);
    CHECK(c.Refresh().error().code() == StatusCode::kDataLoss);
    CHECK(c.verifier().trusted()->size == 9);
  }
}

// ---- the tlog-witness endpoint ----

std::string AddCheckpointBody(uint64_t old_size, const ledger::Proof& proof,
                              const std::string& note) {
  return ledger::FormatAddCheckpointRequest({old_size, proof, note});
}

TEST_CASE("witness http: add-checkpoint 200 / 409 / 403 / 404 / 422 / 400",
          "[server][witness][http]") {
  WitnessNode w("w1.example", kW1Seed);
  LogNode node;
  httplib::Client c(w.http.url());
  auto post = [&](const std::string& body) {
    return c.Post("/add-checkpoint", body, "text/plain");
  };
  const auto policy = Policy({w.key}, 1);

  for (uint64_t i = 0; i < 5; ++i) REQUIRE(node.log->AppendSync(Canon(Anchor(i))));
  const std::string note5 = node.log->CheckpointNote();

  // First contact: old 0, empty proof.
  auto ok = post(AddCheckpointBody(0, {}, note5));
  REQUIRE(ok);
  REQUIRE(ok->status == 200);
  CHECK(ok->get_header_value("Content-Type").rfind("text/plain", 0) == 0);
  CHECK(ok->body.rfind("\u2014 w1.example ", 0) == 0);
  auto cosigned =
      ledger::OpenCheckpoint(note5 + ok->body, LogSigner().Verifier(), kOrigin, &policy);
  REQUIRE(cosigned);
  auto ts = ledger::CosignatureTimestamp(ledger::ParseNote(note5 + ok->body)->signatures[1]);
  CHECK(*ts == 1700000100);  // the witness's FakeClock

  for (uint64_t i = 5; i < 9; ++i) REQUIRE(node.log->AppendSync(Canon(Anchor(i))));
  const std::string note9 = node.log->CheckpointNote();
  const ledger::Proof proof = *node.log->ConsistencyProof(5, 9);

  SECTION("409: the old size is not the witness's; the body is its size") {
    auto r = post(AddCheckpointBody(0, {}, note9));
    REQUIRE(r);
    CHECK(r->status == 409);
    CHECK(r->get_header_value("Content-Type") == "text/x.tlog.size");
    CHECK(r->body == "5\n");
    auto r3 = post(AddCheckpointBody(3, *node.log->ConsistencyProof(3, 9), note9));
    REQUIRE(r3);
    CHECK(r3->status == 409);
    CHECK(r3->body == "5\n");
  }
  SECTION("403: the log's signature does not verify") {
    auto imposter = ledger::Ed25519NoteSigner::FromSeed(kOrigin, Bytes(32, 0x66));
    auto r = post(AddCheckpointBody(5, proof, imposter.SignNote(CheckpointOf(note9).ToText())));
    REQUIRE(r);
    CHECK(r->status == 403);
    // A refusal other than 409 is a JSON error like every other Medallion error.
    CHECK(r->get_header_value("Content-Type") == "application/json");
    json j = json::parse(r->body, nullptr, false);
    CHECK(j.value("error", "") == "forbidden");
    CHECK(!j.value("error_description", "").empty());
  }
  SECTION("404: unknown origin") {
    auto other = ledger::Ed25519NoteSigner::FromSeed("other.example/log", kLogSeed);
    ledger::Checkpoint cp = CheckpointOf(note9);
    cp.origin = "other.example/log";
    auto r = post(AddCheckpointBody(0, {}, other.SignNote(cp.ToText())));
    REQUIRE(r);
    CHECK(r->status == 404);
  }
  SECTION("422: the consistency proof does not verify") {
    ledger::Proof bad = proof;
    bad[0][0] ^= 1;
    auto r = post(AddCheckpointBody(5, bad, note9));
    REQUIRE(r);
    CHECK(r->status == 422);
    auto empty = post(AddCheckpointBody(5, {}, note9));
    REQUIRE(empty);
    CHECK(empty->status == 422);
    // A different tree of size 9 signed by the log (a fork) cannot connect either.
    auto fork = post(AddCheckpointBody(5, proof, SignedNote(9, ledger::HashLeaf(AsBytes("fork")))));
    REQUIRE(fork);
    CHECK(fork->status == 422);
  }
  SECTION("400: malformed") {
    const std::vector<std::string> bodies = {"hello",
                                             "",
                                             "old 5\n\n",
                                             "old x\n\n" + note9,
                                             "old 05\n\n" + note9,
                                             "old 5\nnot base64!\n\n" + note9,
                                             "old 5\n" + note9};
    for (const std::string& body : bodies) {
      auto r = post(body);
      REQUIRE(r);
      INFO(body << " -> " << r->status << " " << r->body);
      CHECK(r->status == 400);
    }
    // Old size beyond the checkpoint's size.
    auto r = post(AddCheckpointBody(10, {}, note9));
    REQUIRE(r);
    CHECK(r->status == 400);
  }
  // After every refusal above the witness is still at 5 and accepts the valid growth.
  auto grown = post(AddCheckpointBody(5, proof, note9));
  REQUIRE(grown);
  CHECK(grown->status == 200);
  CHECK(ledger::OpenCheckpoint(note9 + grown->body, LogSigner().Verifier(), kOrigin, &policy));
  // A witness node has no ledger routes.
  CheckError(c.Get("/ledger/v1/checkpoint"), 404, "not_found");
}

// ---- `medallion ledger verify` on an edited database ----

struct Run {
  int exit_code = -1;
  std::string out;
};

Run RunCli(const std::string& args) {
  Run r;
  // Appended piecewise: GCC 12's -Warray-bounds misfires on operator+ of a temporary here.
  std::string cmd = MEDALLION_CLI;
  cmd.append(" ").append(args).append(" 2>/dev/null");
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

void Sql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  INFO((err ? err : ""));
  sqlite3_free(err);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

TEST_CASE("medallion ledger verify reports an edited row at its index (exit 1)",
          "[server][ledger][cli][verify]") {
  TempDir dir;
  const std::string db = dir.File("ledger.db");
  const std::string key = dir.File("ledger.key");
  {
    std::ofstream(key) << HexEncode(kLogSeed) << "\n";
    fs::permissions(key, fs::perms::owner_read | fs::perms::owner_write);
    FakeClock clock(1700000000000);
    SeededRng rng(3);
    auto store = ledger::SqliteLeafStore::Open(db);
    REQUIRE(store);
    auto log = ledger::Log::Open(std::move(store).value(), LogSigner(), Env{&clock, &rng},
                                 ledger::LogOptions{.max_batch = 4});
    REQUIRE(log);
    // One by one: every size 1..25 has a stored checkpoint.
    for (uint64_t i = 0; i < 25; ++i) REQUIRE((*log)->AppendSync(Canon(Anchor(i))));
  }
  const std::string args =
      "ledger verify --db " + db + " --key-file " + key + " --origin " + kOrigin;
  Run good = RunCli(args + " --json");
  INFO(good.out);
  REQUIRE(good.exit_code == 0);
  json g = json::parse(good.out);
  CHECK(g["ok"] == true);
  CHECK(g["leaves"] == 25);

  SECTION("an edited entry") {
    Sql(db, "UPDATE leaves SET entry = replace(entry, 'document', 'credential') WHERE idx = 13");
    Run bad = RunCli(args + " --json");
    INFO(bad.out);
    CHECK(bad.exit_code == 1);
    json b = json::parse(bad.out);
    CHECK(b["ok"] == false);
    CHECK(b["first_bad_index"] == 13);
    Run text = RunCli(args);
    CHECK(text.exit_code == 1);
    CHECK(text.out.find("CORRUPT at index 13") != std::string::npos);
  }
  SECTION("an edited leaf hash") {
    Sql(db, "UPDATE leaves SET leaf_hash = x'" + HexEncode(ledger::HashLeaf(AsBytes("x"))) +
                "' WHERE idx = 7");
    Run bad = RunCli(args + " --json");
    INFO(bad.out);
    CHECK(bad.exit_code == 1);
    CHECK(json::parse(bad.out)["first_bad_index"] == 7);
  }
  SECTION("the last leaf's hash edited (issue 12: the open failed and no index was named)") {
    Sql(db, "UPDATE leaves SET leaf_hash = x'" + HexEncode(ledger::HashLeaf(AsBytes("x"))) +
                "' WHERE idx = 24");
    Run bad = RunCli(args + " --json");
    INFO(bad.out);
    CHECK(bad.exit_code == 1);
    CHECK(json::parse(bad.out)["first_bad_index"] == 24);
    Run text = RunCli(args);
    CHECK(text.out.find("CORRUPT at index 24") != std::string::npos);
  }
  SECTION("the last leaf's entry and hash edited together") {
    const json forged = Anchor(99);
    Sql(db, "UPDATE leaves SET entry = '" + Canon(forged) + "', leaf_hash = x'" +
                HexEncode(ledger::HashLeaf(AsBytes(Canon(forged)))) + "' WHERE idx = 24");
    Run bad = RunCli(args + " --json");
    INFO(bad.out);
    CHECK(bad.exit_code == 1);
    CHECK(json::parse(bad.out)["first_bad_index"] == 24);
  }
  SECTION("an edited checkpoint") {
    Sql(db, "UPDATE checkpoints SET note = replace(note, '" + std::string(kOrigin) +
                "', 'ledger.example/other') WHERE size = 8");
    Run bad = RunCli(args + " --json");
    INFO(bad.out);
    CHECK(bad.exit_code == 1);
    CHECK(json::parse(bad.out)["first_bad_index"] == 8);
  }
}

}  // namespace
}  // namespace medallion::roles
