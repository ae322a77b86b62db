// did:web: the DID <-> URL rules (did:web §"Read (Resolve)", §"Create (Register)" examples and
// every malformed form), and DidWebResolver over a fake fetcher and a fake clock.
#include "medallion/did/did_web.h"

#include <sodium.h>

#include <catch2/catch.hpp>
#include <map>
#include <mutex>
#include <vector>

#include "medallion/core/env.h"
#include "medallion/did/resolver.h"

using namespace medallion;
using namespace medallion::did;

namespace {

struct UrlCase {
  const char* did;
  const char* url;
};

// A DID document for `did` with one Ed25519 key (seeded, so the key is a valid point).
DidDocument MakeDocument(const std::string& did, uint8_t seed_byte = 1) {
  REQUIRE(sodium_init() >= 0);
  uint8_t seed[crypto_sign_SEEDBYTES];
  std::fill(std::begin(seed), std::end(seed), seed_byte);
  uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_seed_keypair(pk, sk, seed);
  DidDocument doc;
  doc.id = did;
  REQUIRE(AddKey(doc, KeyType::kEd25519, ByteView(pk, sizeof pk),
                 {Relationship::kAuthentication, Relationship::kAssertionMethod})
              .ok());
  return doc;
}

std::string Json(const DidDocument& doc) { return doc.ToJson().dump(); }

// Answers from a table; records every URL asked for. Thread-safe.
class FakeFetcher final : public DocumentFetcher {
 public:
  void Set(const std::string& url, Result<std::string> answer) {
    std::lock_guard<std::mutex> lock(mu_);
    answers_.insert_or_assign(url, std::move(answer));
  }
  Result<std::string> Fetch(const std::string& url) override {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.push_back(url);
    auto it = answers_.find(url);
    if (it == answers_.end()) return Status::NotFound("HTTP 404");
    return it->second;
  }
  size_t calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_.size();
  }
  std::string last_url() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_.empty() ? "" : calls_.back();
  }

 private:
  std::mutex mu_;
  std::map<std::string, Result<std::string>> answers_;
  std::vector<std::string> calls_;
};

constexpr int64_t kStart = 1'800'000'000'000;
constexpr int64_t kTtl = 60'000;

}  // namespace

TEST_CASE("did:web to URL: the spec's examples and round trips", "[did][didweb]") {
  const UrlCase c = GENERATE(values<UrlCase>({
      // did:web §"Create (Register)" and §"Read (Resolve)" examples.
      {"did:web:w3c-ccg.github.io", "https://w3c-ccg.github.io/.well-known/did.json"},
      {"did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json"},
      {"did:web:example.com%3A3000:user:alice", "https://example.com:3000/user/alice/did.json"},
      {"did:web:example.com%3A3000", "https://example.com:3000/.well-known/did.json"},
      {"did:web:example.com:u:bob", "https://example.com/u/bob/did.json"},
      // Ours.
      {"did:web:localhost%3A8443", "https://localhost:8443/.well-known/did.json"},
      {"did:web:xn--bcher-kva.example", "https://xn--bcher-kva.example/.well-known/did.json"},
      {"did:web:pharmacy.example.org%3A65535:Staff_1:Dr.Smith-2",
       "https://pharmacy.example.org:65535/Staff_1/Dr.Smith-2/did.json"},
      {"did:web:example.com:.well-known:x", "https://example.com/.well-known/x/did.json"},
      {"did:web:a1.b2", "https://a1.b2/.well-known/did.json"},
      {"did:web:example.com%3A1:..a", "https://example.com:1/..a/did.json"},
  }));
  INFO(c.did);
  auto url = DidWebToUrl(c.did);
  REQUIRE(url.has_value());
  CHECK(*url == c.url);
  auto back = UrlToDidWeb(c.url);
  REQUIRE(back.has_value());
  CHECK(*back == c.did);
}

TEST_CASE("did:web to URL: malformed DIDs are invalid_argument", "[did][didweb]") {
  const std::string long_label(64, 'a');
  std::string long_host;
  while (long_host.size() < 254) long_host += "abcdefghi.";
  long_host += "com";
  const std::string bad = GENERATE_COPY(values<std::string>({
      // Not did:web at all.
      "",
      "did:web",
      "did:web:",
      "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
      "did:WEB:example.com",
      "DID:web:example.com",
      "did:webs:example.com",
      // DID syntax (DID Core §3.1).
      "did:web:example.com#key-1",
      "did:web:example.com/path",
      "did:web:example.com?versionId=1",
      "did:web:user@example.com",
      "did:web:exa mple.com",
      "did:web:example.com:",
      "did:web:example.com%",
      "did:web:example.com%3",
      "did:web:example.com%ZZ",
      "did:web:ex\xc3\xa4mple.com",
      // Host: case, characters, labels, FQDN.
      "did:web:Example.com",
      "did:web:EXAMPLE.COM",
      "did:web:example.Com",
      "did:web:ex_ample.com",
      "did:web:example.com.",
      "did:web:.example.com",
      "did:web:exa..mple.com",
      "did:web:-example.com",
      "did:web:example-.com",
      "did:web:example.-com",
      "did:web:intranet",
      "did:web:" + long_label + ".com",
      "did:web:" + long_host,
      "did:web:%3A3000",
      "did:web:example.com%2Eevil.com",
      // IP addresses (did:web: "MUST NOT include IP addresses"), also as inet_aton reads them.
      "did:web:127.0.0.1",
      "did:web:127.0.0.1%3A8080",
      "did:web:10.0.0.1:user:alice",
      "did:web:0x7f.1",
      "did:web:0x7f.0x0.0x0.0x1",
      "did:web:2130706433",
      "did:web:017700000001",
      "did:web:example.123",
      "did:web:1.2.3.4.5",
      // Port.
      "did:web:example.com%3A",
      "did:web:example.com%3A0",
      "did:web:example.com%3A65536",
      "did:web:example.com%3A080",
      "did:web:example.com%3A443",
      "did:web:example.com%3Aabc",
      "did:web:example.com%3a3000",
      "did:web:example.com%3A30%3A00",
      "did:web:example.com%3A3000%3A1",
      "did:web:example.com%3A-1",
      "did:web:example.com%3A+80",
      "did:web:example.com%3A99999999999",
      "did:web:example.com%2F",
      "did:web:example.com%40evil.com",
      // Path segments.
      "did:web:example.com::alice",
      "did:web:example.com:user::alice",
      "did:web:example.com:..",
      "did:web:example.com:.",
      "did:web:example.com:user:..:admin",
      "did:web:example.com:%2E%2E",
      "did:web:example.com:a%2Fb",
      "did:web:example.com:a%20b",
      "did:web:example.com:.well-known",
      "did:web:example.com:%2e%2e",
      "did:web:example.com%3A8080:..",
  }));
  INFO(bad);
  auto url = DidWebToUrl(bad);
  CHECK_FALSE(url.has_value());
  if (!url) CHECK(url.error().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("URL to did:web: normalization and refusals", "[did][didweb]") {
  SECTION("normalized per RFC 3986 §6.2") {
    CHECK(*UrlToDidWeb("HTTPS://Example.COM:443/user/alice/did.json") ==
          "did:web:example.com:user:alice");
    CHECK(*UrlToDidWeb("https://example.com") == "did:web:example.com");
    CHECK(*UrlToDidWeb("https://example.com/") == "did:web:example.com");
    CHECK(*UrlToDidWeb("https://example.com:443/.well-known/did.json") == "did:web:example.com");
    CHECK(*UrlToDidWeb("https://localhost:8443/.well-known/did.json") ==
          "did:web:localhost%3A8443");
    // Path case is significant (RFC 3986 §6.2.2.1 folds only scheme and host).
    CHECK(*UrlToDidWeb("https://example.com/Users/Alice/did.json") ==
          "did:web:example.com:Users:Alice");
  }
  SECTION("refused") {
    const std::string bad = GENERATE(values<std::string>({
        "",
        "example.com",
        "http://example.com/.well-known/did.json",
        "ftp://example.com/.well-known/did.json",
        "https:/example.com/.well-known/did.json",
        "https://",
        "https:///.well-known/did.json",
        "https://example.com/user/alice",
        "https://example.com/did.json",
        "https://example.com//did.json",
        "https://example.com/user//did.json",
        "https://example.com/a/../did.json",
        "https://example.com/./did.json",
        "https://example.com/.well-known/did.json?x=1",
        "https://example.com/.well-known/did.json#k",
        "https://user@example.com/.well-known/did.json",
        "https://user:pw@example.com/.well-known/did.json",
        "https://127.0.0.1/.well-known/did.json",
        "https://[::1]/.well-known/did.json",
        "https://[::1]:8443/.well-known/did.json",
        "https://0x7f.1/.well-known/did.json",
        "https://example.com/a%2Fb/did.json",
        "https://example.com/%2E%2E/did.json",
        "https://example.com/a b/did.json",
        "https://example.com:0/.well-known/did.json",
        "https://example.com:99999/.well-known/did.json",
        "https://example.com:/.well-known/did.json",
        "https://example.com:08080/.well-known/did.json",
        "https://example.com:80x/.well-known/did.json",
        "https://exa_mple.com/.well-known/did.json",
        "https://intranet/.well-known/did.json",
        "https://example.com./.well-known/did.json",
        "https://example.com/.well-known/did.json/",
        "https://example.com/.well-known/did.jsonx",
        "https://example.com/a:b/did.json",
        "https://example.com/a\\b/did.json",
        "https://ex%41mple.com/.well-known/did.json",
    }));
    INFO(bad);
    auto did = UrlToDidWeb(bad);
    CHECK_FALSE(did.has_value());
    if (!did) CHECK(did.error().code() == StatusCode::kInvalidArgument);
  }
}

TEST_CASE("did:web path segments", "[did][didweb]") {
  CHECK(IsValidDidWebPathSegment("alice"));
  CHECK(IsValidDidWebPathSegment("A.b-c_d"));
  CHECK(IsValidDidWebPathSegment("..."));
  CHECK_FALSE(IsValidDidWebPathSegment(""));
  CHECK_FALSE(IsValidDidWebPathSegment("."));
  CHECK_FALSE(IsValidDidWebPathSegment(".."));
  CHECK_FALSE(IsValidDidWebPathSegment("a/b"));
  CHECK_FALSE(IsValidDidWebPathSegment("a:b"));
  CHECK_FALSE(IsValidDidWebPathSegment("a%2Fb"));
  CHECK_FALSE(IsValidDidWebPathSegment("a b"));
}

TEST_CASE("did:web resolver: resolves and checks the document", "[did][didweb][resolver]") {
  FakeClock clock(kStart);
  auto fetcher = std::make_shared<FakeFetcher>();
  auto web = std::make_shared<DidWebResolver>(fetcher, Env{&clock, nullptr}, kTtl);
  const std::string did = "did:web:pharmacy.example:branch:north";
  const std::string url = "https://pharmacy.example/branch/north/did.json";
  const DidDocument doc = MakeDocument(did);
  fetcher->Set(url, Json(doc));

  SECTION("success through the method-independent resolver, and dereferencing") {
    Resolver resolver;
    resolver.Register(web);
    ResolutionResult r = resolver.Resolve(did);
    REQUIRE(r.ok());
    CHECK(fetcher->last_url() == url);
    REQUIRE(r.document.has_value());
    CHECK(r.document->id == did);
    CHECK(r.document->ToJson() == doc.ToJson());
    CHECK(r.content_type == "application/did+json");
    const std::string key_id = doc.verification_methods.at(0).id;
    auto vm = resolver.DereferenceMethod(key_id, Relationship::kAssertionMethod);
    REQUIRE(vm.has_value());
    CHECK(vm->public_key == doc.verification_methods.at(0).public_key);
    CHECK_FALSE(resolver.DereferenceMethod(key_id, Relationship::kKeyAgreement).has_value());
  }
  SECTION("the document's id must be the DID resolved") {
    // Another host's DID, the host's own DID served under a path, and a near miss in case.
    for (const std::string other :
         {"did:web:evil.example", "did:web:pharmacy.example",
          "did:web:pharmacy.example:branch:North", "did:web:pharmacy.example:branch:north:x"}) {
      INFO(other);
      fetcher->Set(url, Json(MakeDocument(other)));
      web->ClearCache();
      ResolutionResult r = web->Resolve(did, {});
      CHECK(r.error == kInvalidDidDocument);
      CHECK_FALSE(r.document.has_value());
      CHECK(r.error_message.find("not the DID resolved") != std::string::npos);
    }
  }
  SECTION("bodies that are not a DID document") {
    nlohmann::json missing_id = doc.ToJson();
    missing_id.erase("id");
    nlohmann::json bad_ref = doc.ToJson();
    bad_ref["authentication"] = {did + "#nope"};
    nlohmann::json legacy = doc.ToJson();
    legacy["verificationMethod"][0]["type"] = "Ed25519VerificationKey2018";
    const std::string body = GENERATE_COPY(values<std::string>({
        "",
        "not json",
        "{",
        "[]",
        "null",
        "\"did:web:pharmacy.example:branch:north\"",
        "{}",
        Json(doc).substr(0, 40),
        missing_id.dump(),
        bad_ref.dump(),
        legacy.dump(),
        Json(doc) + "garbage",
    }));
    INFO(body);
    fetcher->Set(url, body);
    ResolutionResult r = web->Resolve(did, {});
    CHECK(r.error == kInvalidDidDocument);
    CHECK_FALSE(r.document.has_value());
  }
  SECTION("a body over 64 KiB is refused even if the fetcher let it through") {
    nlohmann::json big = doc.ToJson();
    big["padding"] = std::string(kDidWebMaxDocumentBytes, 'x');
    fetcher->Set(url, big.dump());
    CHECK(web->Resolve(did, {}).error == kInvalidDidDocument);
  }
}

TEST_CASE("did:web resolver: fetch errors map to DID Resolution errors",
          "[did][didweb][resolver]") {
  FakeClock clock(kStart);
  auto fetcher = std::make_shared<FakeFetcher>();
  DidWebResolver web(fetcher, Env{&clock, nullptr}, kTtl);
  const std::string did = "did:web:society.example";
  const std::string url = "https://society.example/.well-known/did.json";
  struct Case {
    Status fetch_error;
    std::string_view expected;
  };
  const Case c = GENERATE(values<Case>({
      {Status::NotFound("HTTP 404"), kNotFound},
      {Status::Unavailable("TLS certificate verification failed"), kInternalError},
      {Status::InvalidArgument("Content-Type 'text/html' is not JSON"), kInvalidDidDocument},
      {Status::PermissionDenied("HTTP 403"), kInternalError},
      {Status::Internal("boom"), kInternalError},
  }));
  fetcher->Set(url, c.fetch_error);
  ResolutionResult r = web.Resolve(did, {});
  CHECK(r.error == c.expected);
  CHECK_FALSE(r.document.has_value());
  CHECK(r.error_message.find(did) != std::string::npos);
  nlohmann::json j = r.ToJson();
  CHECK(j["didResolutionMetadata"]["error"] == std::string(c.expected));
  CHECK(j["didDocument"].is_null());
}

TEST_CASE("did:web resolver: refused before any fetch", "[did][didweb][resolver]") {
  FakeClock clock(kStart);
  auto fetcher = std::make_shared<FakeFetcher>();
  DidWebResolver web(fetcher, Env{&clock, nullptr}, kTtl);
  SECTION("invalid DIDs") {
    for (const char* bad : {"did:web:127.0.0.1", "did:web:Example.com", "did:web:example.com:..",
                            "did:web:example.com%3A443"}) {
      INFO(bad);
      CHECK(web.Resolve(bad, {}).error == kInvalidDid);
    }
  }
  SECTION("version options: did:web keeps no history (DID Resolution §4: FEATURE_NOT_SUPPORTED)") {
    fetcher->Set("https://example.com/.well-known/did.json",
                 Json(MakeDocument("did:web:example.com")));
    ResolutionOptions by_id;
    by_id.version_id = "1";
    ResolutionOptions by_time;
    by_time.version_time = kStart / 1000;
    ResolutionOptions by_position;
    by_position.ledger_position = 10;
    for (const auto& o : {by_id, by_time, by_position}) {
      ResolutionResult r = web.Resolve("did:web:example.com", o);
      CHECK(r.error == kFeatureNotSupported);
      CHECK_FALSE(r.document.has_value());
    }
    CHECK(web.Resolve("did:web:example.com", {}).ok());
  }
  CHECK(fetcher->calls() <= 1);
}

TEST_CASE("did:web resolver: cache TTL", "[did][didweb][resolver][cache]") {
  FakeClock clock(kStart);
  auto fetcher = std::make_shared<FakeFetcher>();
  const std::string did = "did:web:clinic.example";
  const std::string url = "https://clinic.example/.well-known/did.json";
  const DidDocument v1 = MakeDocument(did, 1);
  const DidDocument v2 = MakeDocument(did, 2);
  fetcher->Set(url, Json(v1));

  SECTION("a success is served from the cache until the TTL, then refetched") {
    DidWebResolver web(fetcher, Env{&clock, nullptr}, kTtl);
    REQUIRE(web.Resolve(did, {}).ok());
    CHECK(fetcher->calls() == 1);
    fetcher->Set(url, Json(v2));  // did:web §"Update": the institution rotates its key
    clock.Advance(kTtl - 1);
    ResolutionResult cached = web.Resolve(did, {});
    CHECK(fetcher->calls() == 1);
    CHECK(cached.document->ToJson() == v1.ToJson());
    clock.Advance(1);
    ResolutionResult fresh = web.Resolve(did, {});
    CHECK(fetcher->calls() == 2);
    REQUIRE(fresh.ok());
    CHECK(fresh.document->ToJson() == v2.ToJson());
    web.ClearCache();
    REQUIRE(web.Resolve(did, {}).ok());
    CHECK(fetcher->calls() == 3);
  }
  SECTION("errors are cached for at most a few seconds") {
    DidWebResolver web(fetcher, Env{&clock, nullptr}, kTtl);
    fetcher->Set(url, Status::Unavailable("connection refused"));
    CHECK(web.Resolve(did, {}).error == kInternalError);
    fetcher->Set(url, Json(v1));
    clock.Advance(kDidWebErrorCacheMillis - 1);
    CHECK(web.Resolve(did, {}).error == kInternalError);
    CHECK(fetcher->calls() == 1);
    clock.Advance(1);
    CHECK(web.Resolve(did, {}).ok());
    CHECK(fetcher->calls() == 2);
  }
  SECTION("an error is never cached longer than the TTL itself") {
    DidWebResolver web(fetcher, Env{&clock, nullptr}, 1'000);
    fetcher->Set(url, Status::NotFound("HTTP 404"));
    CHECK(web.Resolve(did, {}).error == kNotFound);
    fetcher->Set(url, Json(v1));
    clock.Advance(1'000);
    CHECK(web.Resolve(did, {}).ok());
    CHECK(fetcher->calls() == 2);
  }
  SECTION("TTL 0 disables the cache") {
    DidWebResolver web(fetcher, Env{&clock, nullptr}, 0);
    REQUIRE(web.Resolve(did, {}).ok());
    REQUIRE(web.Resolve(did, {}).ok());
    CHECK(fetcher->calls() == 2);
  }
  SECTION("the cache is bounded: the entry expiring soonest goes first") {
    DidWebResolver web(fetcher, Env{&clock, nullptr}, kTtl, /*max_cache_entries=*/2);
    for (const char* d : {"did:web:a.example", "did:web:b.example", "did:web:c.example"}) {
      std::string host = std::string(d).substr(8);
      fetcher->Set("https://" + host + "/.well-known/did.json", Json(MakeDocument(d)));
      REQUIRE(web.Resolve(d, {}).ok());
      clock.Advance(1);
    }
    CHECK(fetcher->calls() == 3);
    REQUIRE(web.Resolve("did:web:c.example", {}).ok());
    REQUIRE(web.Resolve("did:web:b.example", {}).ok());
    CHECK(fetcher->calls() == 3);
    REQUIRE(web.Resolve("did:web:a.example", {}).ok());  // evicted: fetched again
    CHECK(fetcher->calls() == 4);
  }
}
