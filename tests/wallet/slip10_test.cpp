// SLIP-10: every vector for secp256k1, ed25519 and curve25519 (nist256p1 is not supported).
#include <catch2/catch.hpp>

#include "medallion/core/encoding.h"
#include "medallion/wallet/hd_key.h"
#include "test_util.h"

using namespace medallion;
using namespace medallion::wallet;
using medallion::testing::Hex;

TEST_CASE("SLIP-10 vectors", "[wallet][slip10][vectors]") {
  auto doc = medallion::testing::ReadJsonVector("slip10/slip10.json")["vectors"];
  auto curve_name = GENERATE(as<std::string>{}, "secp256k1", "ed25519", "curve25519");
  Curve curve = *ParseCurve(curve_name);
  size_t chains = 0;
  for (const auto& v : doc[curve_name]) {
    auto master = MasterKeyFromSeed(curve, Hex(v["seed"].get<std::string>()));
    REQUIRE(master.has_value());
    for (const auto& c : v["chains"]) {
      const std::string path = c["path"];
      INFO(curve_name << " vector " << v["vector"] << " " << path);
      auto k = DerivePath(*master, std::string_view(path));
      REQUIRE(k.has_value());
      CHECK(HexEncode(k->chain_code()) == c["chain_code"].get<std::string>());
      CHECK(HexEncode(k->private_key().Reveal()) == c["private"].get<std::string>());
      CHECK(HexEncode(k->Slip10PublicKey()) == c["public"].get<std::string>());
      char fp[9];
      std::snprintf(fp, sizeof fp, "%08x", k->parent_fingerprint());
      CHECK(std::string(fp) == c["fingerprint"].get<std::string>());
      ++chains;
    }
  }
  CHECK(chains >= 10);
}

TEST_CASE("SLIP-10 ed25519 refuses non-hardened derivation", "[wallet][slip10]") {
  auto master = MasterKeyFromSeed(Curve::kEd25519, Hex("000102030405060708090a0b0c0d0e0f"));
  REQUIRE(master.has_value());
  auto r = DeriveChild(*master, 1);
  REQUIRE_FALSE(r.has_value());
  CHECK_THAT(r.error().message(), Catch::Contains("hardened"));
  CHECK_FALSE(DerivePath(*master, std::string_view("m/0'/1")).has_value());
}

TEST_CASE("Seeds outside 16..64 bytes are refused", "[wallet][slip10]") {
  CHECK_FALSE(MasterKeyFromSeed(Curve::kEd25519, Bytes(15)).has_value());
  CHECK_FALSE(MasterKeyFromSeed(Curve::kSecp256k1, Bytes(65)).has_value());
  CHECK(MasterKeyFromSeed(Curve::kSecp256k1, Bytes(16, 1)).has_value());
}
