// The container role mounted under a path prefix: two containers on one shared listener (one
// worker pool), each answering under its own prefix with its own issuer.
#include <catch2/catch.hpp>
#include <httplib.h>
#include <sodium.h>

#include <filesystem>
#include <thread>

#include "medallion/core/encoding.h"
#include "medallion/core/env.h"
#include "medallion/did/did_key.h"
#include "medallion/http/http.h"
#include "medallion/roles/container.h"

using namespace medallion;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// A fresh did:key (only its public key matters here).
std::string OwnerDid() {
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_keypair(pk, sk);
  sodium_memzero(sk, sizeof sk);
  return "did:key:" +
         *did::MultikeyFromPublicKey(did::KeyType::kEd25519, Bytes(pk, pk + sizeof pk));
}

}  // namespace

TEST_CASE("two containers mounted under two prefixes share one server", "[server][roles][mount]") {
  SystemClock clock;
  SystemRng rng;
  const Env env{&clock, &rng};
  const fs::path dir =
      fs::temp_directory_path() / ("medallion-mount-" + HexEncode(rng.RandomBytes(6)));

  httplib::Server shared;
  http::ConfigureServer(shared);
  auto port = http::BindServer(shared, "127.0.0.1", 0);
  REQUIRE(port);
  const std::string base = "http://127.0.0.1:" + std::to_string(*port);

  roles::ContainerOptions a, b;
  a.dir = (dir / "alice").string();
  a.owner = OwnerDid();
  b.dir = (dir / "bob").string();
  b.owner = OwnerDid();
  roles::ContainerRole alice(a, env), bob(b, env);
  REQUIRE(alice.Mount(shared, "/c/alice", base).ok());
  REQUIRE(bob.Mount(shared, "/c/bob", base + "/").ok());
  CHECK(alice.issuer() == base + "/c/alice");
  CHECK(bob.issuer() == base + "/c/bob");
  CHECK(alice.banner()["owner"] == a.owner);

  roles::ContainerRole bad(
      roles::ContainerOptions{.dir = (dir / "bad").string(), .owner = OwnerDid()}, env);
  CHECK(bad.Mount(shared, "/c/bad/", base).code() == StatusCode::kInvalidArgument);
  CHECK(bad.Mount(shared, "c", base).code() == StatusCode::kInvalidArgument);

  std::thread serving([&] { shared.listen_after_bind(); });
  while (!shared.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  httplib::Client http(base);
  for (const auto& [prefix, owner] :
       {std::pair{std::string("/c/alice"), a.owner}, std::pair{std::string("/c/bob"), b.owner}}) {
    auto disc = http.Get((prefix + "/.well-known/uma2-configuration").c_str());
    REQUIRE(disc);
    CHECK(disc->status == 200);
    const json d = json::parse(disc->body);
    CHECK(d["issuer"] == base + prefix);
    CHECK(d["token_endpoint"] == base + prefix + "/token");

    // UMA Grant §3.2 through the mount: 401 naming this container as the authorization server.
    auto no_token = http.Get((prefix + "/fhir/MedicationRequest").c_str());
    REQUIRE(no_token);
    CHECK(no_token->status == 401);
    CHECK(no_token->get_header_value("WWW-Authenticate")
              .rfind("UMA realm=\"medallion\", as_uri=\"" + base + prefix + "\"", 0) == 0);

    // A POST with a body reaches the container (the owner's sign-in challenge names its issuer).
    auto challenge = http.Post((prefix + "/owner/v1/challenge").c_str(), "{}", "application/json");
    REQUIRE(challenge);
    CHECK(challenge->status == 200);
    CHECK(json::parse(challenge->body).contains("nonce"));

    // A path the container does not serve is its JSON 404.
    auto missing = http.Get((prefix + "/no/such/endpoint").c_str());
    REQUIRE(missing);
    CHECK(missing->status == 404);
    CHECK(json::parse(missing->body)["error"] == "not_found");
  }
  auto outside = http.Get("/c/carol/.well-known/uma2-configuration");
  REQUIRE(outside);
  CHECK(outside->status == 404);

  shared.stop();
  serving.join();
  std::error_code ec;
  fs::remove_all(dir, ec);
}
