// did:mdl resolution through a real ledger node over HTTP: the verifying op fetcher, the
// ledger's did.op validator, GET /1.0/identifiers, and refusals when the ledger lies (a
// tampered inclusion proof) or the checkpoint lacks the witnesses the policy requires.
#include <catch2/catch.hpp>

#include <httplib.h>
#include <sodium.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "medallion/core/encoding.h"
#include "medallion/core/hash.h"
#include "medallion/did/did_mdl.h"
#include "medallion/did/resolver.h"
#include "medallion/ledger/log.h"
#include "medallion/ledger/store.h"
#include "medallion/roles/did_http.h"
#include "medallion/http/http.h"
#include "medallion/roles/ledger_client.h"
#include "medallion/roles/ledger_http.h"

namespace medallion::roles {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Key {
  Bytes pk = Bytes(32), sk = Bytes(64);
  explicit Key(uint8_t b) {
    Bytes seed(32, b);
    if (sodium_init() < 0) std::abort();
    crypto_sign_seed_keypair(pk.data(), sk.data(), seed.data());
  }
  did::mdl::OpSigner Signer() const {
    Bytes s = sk;
    return {pk, [s](ByteView m) -> Result<Bytes> {
              Bytes sig(64);
              crypto_sign_detached(sig.data(), nullptr, m.data(), m.size(), s.data());
              return sig;
            }};
  }
};

// An httplib server on 127.0.0.1 in a thread, stopped on destruction.
struct Running {
  httplib::Server server;
  int port = 0;
  std::thread thread;
  template <typename Setup>
  explicit Running(Setup setup) {
    http::ConfigureServer(server);
    setup(server);
    port = server.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~Running() {
    server.stop();
    thread.join();
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port); }
};

struct Node {
  fs::path dir;
  FakeClock clock{1'790'000'000'000};
  SeededRng rng{3};
  ledger::ValidatorRegistry validators;
  std::unique_ptr<ledger::Log> log;
  Node() {
    static std::atomic<int> n{0};
    dir = fs::temp_directory_path() /
          ("medallion-did-http-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    fs::remove_all(dir);
    fs::create_directories(dir);
    did::mdl::RegisterLedgerValidator(validators);
    ledger::LogOptions o;
    o.validators = &validators;
    log = std::move(*ledger::Log::Open(
        std::move(*ledger::SqliteLeafStore::Open((dir / "l.db").string())),
        ledger::Ed25519NoteSigner::FromSeed("ledger.test", Bytes(32, 9)), Env{&clock, &rng}, o));
  }
  ~Node() {
    log.reset();
    fs::remove_all(dir);
  }
  ledger::LogVerifier Verifier(size_t witnesses_required = 0) const {
    ledger::WitnessPolicy policy;
    if (witnesses_required > 0) {
      auto w = ledger::CosignatureV1Signer::FromSeed("w.test", Bytes(32, 5));
      policy.witnesses.push_back(w.Verifier());
      policy.threshold = witnesses_required;
    }
    return ledger::LogVerifier(log->Verifier(), "ledger.test", policy);
  }
};

const Key U0(1), U1(2), U2(3), R0(4), A0(5), S0(6), A1(7), S1(8);

did::mdl::KeySet Keys(const Key& a, const Key& s) {
  did::mdl::KeySet k;
  k.authentication = a.pk;
  k.assertion = s.pk;
  return k;
}

// W3C DID Resolution, HTTP(S) binding: Accept picks the representation (issue 12: it was
// ignored). application/did+json → the DID document alone; the resolution result by default;
// anything else → 406 representationNotSupported.
TEST_CASE("the resolver honours Accept", "[server][did][http]") {
  did::Resolver resolver;  // did:key is always there
  Running http([&](httplib::Server& s) { RegisterResolverRoutes(s, resolver); });
  httplib::Client c(http.Url());
  const std::string path =
      "/1.0/identifiers/did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
  auto plain = c.Get(path.c_str());
  REQUIRE(plain);
  CHECK(plain->status == 200);
  CHECK(json::parse(plain->body).contains("didResolutionMetadata"));
  auto doc = c.Get(path.c_str(), {{"Accept", "application/did+json"}});
  REQUIRE(doc);
  CHECK(doc->status == 200);
  CHECK(doc->get_header_value("Content-Type") == "application/did+json");
  const json d = json::parse(doc->body);
  CHECK(d["id"] == "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK");
  CHECK_FALSE(d.contains("didResolutionMetadata"));
  auto result =
      c.Get(path.c_str(),
            {{"Accept", "application/ld+json;profile=\"https://w3id.org/did-resolution\""}});
  REQUIRE(result);
  CHECK(json::parse(result->body).contains("didDocument"));
  auto unsupported = c.Get(path.c_str(), {{"Accept", "text/html"}});
  REQUIRE(unsupported);
  CHECK(unsupported->status == 406);
  CHECK(json::parse(unsupported->body)["didResolutionMetadata"]["error"] ==
        "representationNotSupported");
  // A failed resolution also has the top-level error members of every Medallion error.
  CHECK(json::parse(unsupported->body).value("error", "") == "representationNotSupported");
  CHECK(!json::parse(unsupported->body).value("error_description", "").empty());
  auto invalid = c.Get("/1.0/identifiers/did:key:zz..");
  REQUIRE(invalid);
  CHECK(invalid->status == 400);
  CHECK(json::parse(invalid->body).value("error", "") == "invalidDid");
}

}  // namespace

TEST_CASE("did:mdl over a ledger node: create, rotate, resolve, refuse lies",
          "[server][did][http]") {
  Node node;
  Running ledger_http(
      [&](httplib::Server& s) { RegisterLedgerRoutes(s, node.log.get(), nullptr, nullptr); });
  LedgerClient writer(ledger_http.Url(), node.Verifier());

  auto create = did::mdl::BuildCreate(Keys(A0, S0), U0.Signer(), did::mdl::KeyCommitment(U1.pk),
                                      did::mdl::KeyCommitment(R0.pk), 1'790'000'000);
  REQUIRE(create);
  REQUIRE(writer.Append(json::parse(create->canonical)));
  // The ledger's validator refuses a forged operation over HTTP with a JSON error.
  json forged = json::parse(create->canonical);
  forged["ts"] = 1'790'000'001;
  auto refused = writer.Append(forged);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == StatusCode::kUnauthenticated);

  did::Resolver resolver;
  resolver.Register(did::mdl::MakeMdlResolver(
      MakeLedgerOpFetcher(std::make_shared<LedgerClient>(ledger_http.Url(), node.Verifier()))));
  auto r0 = resolver.Resolve(create->did);
  REQUIRE(r0.ok());
  CHECK(*r0.metadata.version_id == "0");

  // Rotate the signing keys: old signatures verify as of their ledger position only.
  did::mdl::State s0 = *did::mdl::ReplayOperations(create->did, {{0, create->canonical}}).state;
  auto rotate = did::mdl::BuildUpdate(s0, Keys(A1, S1), U1.Signer(), did::mdl::KeyCommitment(U2.pk),
                                      1'790'000'100);
  REQUIRE(rotate);
  auto appended = writer.Append(json::parse(rotate->canonical));
  REQUIRE(appended);
  auto r1 = resolver.Resolve(create->did);
  REQUIRE(r1.ok());
  CHECK(*r1.metadata.version_id == "1");
  const std::string old_vm =
      create->did + "#" + *did::MultikeyFromPublicKey(did::KeyType::kEd25519, S0.pk);
  CHECK(resolver
            .DereferenceMethod(old_vm, did::Relationship::kAssertionMethod,
                               {.ledger_position = appended->index})
            .has_value());
  CHECK_FALSE(resolver.DereferenceMethod(old_vm, did::Relationship::kAssertionMethod).has_value());

  SECTION("GET /1.0/identifiers") {
    Running http([&](httplib::Server& s) { RegisterResolverRoutes(s, resolver); });
    httplib::Client c(http.Url());
    auto ok = c.Get("/1.0/identifiers/" + create->did);
    REQUIRE(ok);
    CHECK(ok->status == 200);
    json j = json::parse(ok->body);
    CHECK(j["didDocument"]["id"] == create->did);
    CHECK(j["didDocumentMetadata"]["versionId"] == "1");
    auto v0 = c.Get("/1.0/identifiers/" + create->did + "?versionId=0");
    CHECK(json::parse(v0->body)["didDocumentMetadata"]["nextVersionId"] == "1");
    CHECK(c.Get("/1.0/identifiers/did:mdl:" + Base58Encode(Bytes(32, 7)))->status == 404);
    CHECK(c.Get("/1.0/identifiers/not-a-did")->status == 400);
    CHECK(c.Get("/1.0/identifiers/did:example:abc")->status == 501);
    CHECK(c.Get("/1.0/identifiers/" + create->did + "?versionTime=yesterday")->status == 400);
    CHECK(json::parse(
              c.Get("/1.0/identifiers/did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK")
                  ->body)["didDocument"]["id"] ==
          "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK");
  }

  SECTION("a tampered inclusion proof makes resolution fail, not lie") {
    // A proxy that flips a bit of every lookup proof.
    Running proxy([&](httplib::Server& s) {
      s.Get(R"(/(.*))", [&](const httplib::Request& req, httplib::Response& res) {
        httplib::Client up(ledger_http.Url());
        std::string path = req.path;
        if (!req.params.empty()) path = httplib::append_query_params(path, req.params);
        auto r = up.Get(path);
        res.status = r->status;
        std::string body = r->body;
        if (req.path == "/ledger/v1/lookup") {
          json j = json::parse(body);
          for (auto& m : j["matches"]) {
            if (!m["inclusion_proof"].empty()) {
              std::string h = m["inclusion_proof"][0];
              h[0] = h[0] == '0' ? '1' : '0';
              m["inclusion_proof"][0] = h;
            }
          }
          body = j.dump();
        }
        res.set_content(body, r->get_header_value("Content-Type"));
      });
    });
    did::Resolver lied_to;
    lied_to.Register(did::mdl::MakeMdlResolver(
        MakeLedgerOpFetcher(std::make_shared<LedgerClient>(proxy.Url(), node.Verifier()))));
    auto r = lied_to.Resolve(create->did);
    CHECK(r.error == did::kInternalError);
    CHECK_THAT(r.error_message, Catch::Contains("proof"));
  }

  SECTION("a checkpoint without the required witness cosignatures is refused") {
    did::Resolver strict;
    strict.Register(did::mdl::MakeMdlResolver(
        MakeLedgerOpFetcher(std::make_shared<LedgerClient>(ledger_http.Url(), node.Verifier(1)))));
    auto r = strict.Resolve(create->did);
    CHECK(r.error == did::kInternalError);
    CHECK_THAT(r.error_message, Catch::Contains("unauthenticated"));
  }
}

}  // namespace medallion::roles

#include "medallion/claims/credentials.h"
#include "medallion/roles/issuer_http.h"

namespace medallion::roles {

TEST_CASE("An issuer serves the Medallion context and its status lists", "[server][issuer][http]") {
  int version = 1;
  Running http([&](httplib::Server& s) {
    RegisterCredentialContext(s);
    RegisterStatusListCredential(s, "/status/1", [&] {
      return nlohmann::json{{"version", version}};
    });
  });
  httplib::Client c(http.Url());
  auto ctx = c.Get("/credentials/v1");
  REQUIRE(ctx);
  CHECK(ctx->status == 200);
  CHECK(ctx->get_header_value("Content-Type") == "application/ld+json");
  CHECK(ctx->body == claims::MedallionContextDocument());
  CHECK(nlohmann::json::parse(c.Get("/status/1")->body)["version"] == 1);
  version = 2;
  CHECK(nlohmann::json::parse(c.Get("/status/1")->body)["version"] == 2);
  CHECK(c.Get("/status/2")->status == 404);
}

}  // namespace medallion::roles

namespace medallion::roles {

TEST_CASE("The pharmacy's remote ledger port proves what it returns", "[server][pharmacy][http]") {
  Node node;
  Running ledger_http(
      [&](httplib::Server& s) { RegisterLedgerRoutes(s, node.log.get(), nullptr, nullptr); });
  auto port = MakeLedgerPort(std::make_shared<LedgerClient>(ledger_http.Url(), node.Verifier()));
  const std::string digest = HexEncode(Sha256(AsBytes("a prescription")));
  json anchor = {{"type", "anchor"},
                 {"v", 1},
                 {"hash", digest},
                 {"kind", "credential"},
                 {"ts", 1'790'000'000}};
  auto appended = port->Append(anchor);
  REQUIRE(appended);
  auto found = port->Find({ledger::KeyKind::kHash, digest});
  REQUIRE(found);
  REQUIRE(found->size() == 1);
  CHECK((*found)[0].index == appended->index);
  CHECK(port->TrustedCheckpoint().find("ledger.test\n") == 0);
  // A nullifier can be used once.
  json dispense = {{"type", "dispense"},
                   {"v", 1},
                   {"nullifier", digest},
                   {"rx", digest},
                   {"pharmacy", "did:web:pharmacy.example"},
                   {"qty", 1},
                   {"sig", Base64UrlEncode(Bytes(64, 1))},
                   {"ts", 1'790'000'000}};
  REQUIRE(port->Append(dispense));
  auto again = port->Append(dispense);
  REQUIRE_FALSE(again);
  CHECK(again.error().code() == StatusCode::kAlreadyExists);
  // A port that requires a witness nobody provides finds nothing.
  auto strict = MakeLedgerPort(std::make_shared<LedgerClient>(ledger_http.Url(), node.Verifier(1)));
  CHECK_FALSE(strict->Find({ledger::KeyKind::kHash, digest}).has_value());
}

}  // namespace medallion::roles
