// BIP-32: test vectors 1-4 (every chain, private and public derivation) and vector 5.
#include <catch2/catch.hpp>

#include "medallion/core/encoding.h"
#include "medallion/wallet/hd_key.h"
#include "test_util.h"

using namespace medallion;
using namespace medallion::wallet;
using medallion::testing::Hex;

TEST_CASE("BIP-32 vectors 1-4", "[wallet][bip32][vectors]") {
  auto doc = medallion::testing::ReadJsonVector("bip32/bip32.json");
  REQUIRE(doc["valid"].size() == 4);
  for (const auto& v : doc["valid"]) {
    auto master = MasterKeyFromSeed(Curve::kSecp256k1, Hex(v["seed"].get<std::string>()));
    REQUIRE(master.has_value());
    for (const auto& chain : v["chains"]) {
      const std::string path = chain["path"];
      INFO("seed " << v["seed"].get<std::string>() << " path " << path);
      auto k = DerivePath(*master, std::string_view(path));
      REQUIRE(k.has_value());
      CHECK(SerializeXprv(*k).Reveal() == chain["xprv"].get<std::string>());
      CHECK(SerializeXpub(*k) == chain["xpub"].get<std::string>());
      // Parsing round-trips.
      auto parsed = ParseExtendedKey(chain["xprv"].get<std::string>());
      REQUIRE(parsed.has_value());
      CHECK(SerializeXprv(*parsed).Reveal() == chain["xprv"].get<std::string>());
      auto parsed_pub = ParseExtendedKey(chain["xpub"].get<std::string>());
      REQUIRE(parsed_pub.has_value());
      CHECK_FALSE(parsed_pub->has_private_key());
      CHECK(SerializeXpub(*parsed_pub) == chain["xpub"].get<std::string>());
    }
  }
}

TEST_CASE("BIP-32 public derivation matches private derivation", "[wallet][bip32]") {
  auto master = MasterKeyFromSeed(Curve::kSecp256k1, Hex("000102030405060708090a0b0c0d0e0f"));
  REQUIRE(master.has_value());
  auto account = DerivePath(*master, std::string_view("m/0'/1"));
  REQUIRE(account.has_value());
  ExtendedKey pub = account->Neutered();
  for (uint32_t i : {0u, 1u, 2u, 1000000u}) {
    auto a = DeriveChild(*account, i);
    auto b = DeriveChild(pub, i);
    REQUIRE(a.has_value());
    REQUIRE(b.has_value());
    CHECK(SerializeXpub(*a) == SerializeXpub(*b));
  }
  auto hardened = DeriveChild(pub, kHardened);
  REQUIRE_FALSE(hardened.has_value());
  CHECK_THAT(hardened.error().message(), Catch::Contains("hardened"));
}

TEST_CASE("BIP-32 vector 5: every invalid extended key rejected with its reason",
          "[wallet][bip32][vectors]") {
  auto doc = medallion::testing::ReadJsonVector("bip32/bip32.json");
  REQUIRE(doc["invalid"].size() == 16);
  for (const auto& v : doc["invalid"]) {
    const std::string reason = v["reason"];
    INFO(reason);
    auto r = ParseExtendedKey(v["key"].get<std::string>());
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == StatusCode::kInvalidArgument);
    // Our messages use the vector's own wording; key-range and point errors name the check.
    std::string expect = reason;
    if (reason.rfind("private key", 0) == 0) expect = "private key not in 1..n-1";
    if (reason.rfind("invalid pubkey 0", 0) == 0) expect = "invalid pubkey";
    CHECK_THAT(r.error().message(), Catch::Contains(expect));
  }
}

TEST_CASE("Derivation paths parse strictly", "[wallet][bip32]") {
  CHECK(ParsePath("m")->empty());
  CHECK(FormatPath(*ParsePath("m/44'/0h/0H/1/2")) == "m/44'/0'/0'/1/2");
  for (const char* bad :
       {"", "44'/0'", "m/", "m//1", "m/01", "m/-1", "m/2147483648", "m/1x", "m/1'/", "n/1"}) {
    INFO(bad);
    CHECK_FALSE(ParsePath(bad).has_value());
  }
  CHECK(ParsePath("m/2147483647'")->at(0) == 0xffffffffu);
}
