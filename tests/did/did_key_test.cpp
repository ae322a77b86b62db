// did:key: every DID and key in the did-method-key test vectors, plus malformed DIDs.
#include <catch2/catch.hpp>
#include <sodium.h>

#include "medallion/core/encoding.h"
#include "medallion/did/did_key.h"
#include "test_util.h"

using namespace medallion;
using namespace medallion::did;
using medallion::testing::Hex;

namespace {
// A verification method's public key: publicKeyBase58, or publicKeyJwk (OKP: x; EC
// secp256k1: compressed from x and y).
Bytes PublicKeyOf(const nlohmann::json& vm) {
  if (vm.contains("publicKeyBase58"))
    return *Base58Decode(vm["publicKeyBase58"].get<std::string>());
  const auto& jwk = vm.at("publicKeyJwk");
  Bytes x = *Base64UrlDecode(jwk.at("x").get<std::string>());
  if (jwk.at("kty") == "OKP") return x;
  Bytes y = *Base64UrlDecode(jwk.at("y").get<std::string>());
  Bytes out{static_cast<uint8_t>(0x02 | (y.back() & 1))};
  out.insert(out.end(), x.begin(), x.end());
  return out;
}
// The fragment of an id ("#z6LS..." or "did:key:...#z6LS...").
std::string Fragment(const std::string& id) { return id.substr(id.find('#') + 1); }
}  // namespace

TEST_CASE("did:key Ed25519 + X25519 vectors", "[did][didkey][vectors]") {
  auto doc = medallion::testing::ReadJsonVector("didkey/ed25519-x25519.json");
  REQUIRE(doc.size() >= 5);
  REQUIRE(sodium_init() >= 0);
  for (auto& [did_str, v] : doc.items()) {
    INFO(did_str);
    // The seed is the Ed25519 private seed.
    Bytes pk(32);
    Bytes sk(64);
    crypto_sign_seed_keypair(pk.data(), sk.data(), Hex(v["seed"].get<std::string>()).data());
    CHECK(pk == PublicKeyOf(v["verificationKeyPair"]));
    CHECK(*DidKeyFromPublicKey(KeyType::kEd25519, pk) == did_str);
    auto parsed = ParseDidKey(did_str);
    REQUIRE(parsed.has_value());
    CHECK(parsed->type == KeyType::kEd25519);
    CHECK(parsed->public_key == pk);
    auto x = Ed25519ToX25519PublicKey(pk);
    REQUIRE(x.has_value());
    CHECK(*x == PublicKeyOf(v["keyAgreementKeyPair"]));
    CHECK(*MultikeyFromPublicKey(KeyType::kX25519, *x) ==
          Fragment(v["keyAgreementKeyPair"]["id"].get<std::string>()));
  }
}

TEST_CASE("did:key secp256k1 vectors", "[did][didkey][vectors]") {
  auto doc = medallion::testing::ReadJsonVector("didkey/secp256k1.json");
  REQUIRE(doc.size() >= 3);
  for (auto& [did_str, v] : doc.items()) {
    INFO(did_str);
    const Bytes pk = PublicKeyOf(v["verificationKeyPair"]);
    CHECK(*DidKeyFromPublicKey(KeyType::kSecp256k1, pk) == did_str);
    auto parsed = ParseDidKey(did_str);
    REQUIRE(parsed.has_value());
    CHECK(parsed->type == KeyType::kSecp256k1);
    CHECK(parsed->public_key == pk);
  }
}

TEST_CASE("did:key X25519 vectors", "[did][didkey][vectors]") {
  auto doc = medallion::testing::ReadJsonVector("didkey/x25519.json")["didDocument"];
  REQUIRE(doc.size() >= 1);
  for (auto& [did_str, d] : doc.items()) {
    INFO(did_str);
    const Bytes pk = PublicKeyOf(d["verificationMethod"][0]);
    CHECK(*DidKeyFromPublicKey(KeyType::kX25519, pk) == did_str);
    CHECK(ParseDidKey(did_str)->type == KeyType::kX25519);
  }
}

TEST_CASE("Malformed did:key values are refused", "[did][didkey]") {
  for (const char* bad : {"", "did:key:", "did:web:example.com",
                          "did:key:6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
                          "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooW",
                          "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp#frag",
                          "did:key:z0OIl", "did:key:uAAAA",
                          "did:key:"
                          "z2J9gaYxrKVpdoG9A4gRnmpnRCcxU6agDtFVVBVdn1JedouoZN7SzcyREXXzWgt3gGiwpoHq"
                          "7K68X4m32D8HgzG8wv3sY5j7"}) {
    INFO(bad);
    CHECK_FALSE(ParseDidKey(bad).has_value());
  }
  CHECK_FALSE(DidKeyFromPublicKey(KeyType::kEd25519, Bytes(31)).has_value());
  CHECK_FALSE(DidKeyFromPublicKey(KeyType::kSecp256k1, Bytes(33, 0)).has_value());
}
