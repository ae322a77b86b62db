// BIP-39: every trezor vector, plus validation failures and NFKD passphrases.
#include <catch2/catch.hpp>

#include "medallion/core/encoding.h"
#include "medallion/core/hash.h"
#include "medallion/wallet/bip39.h"
#include "medallion/wallet/hd_key.h"
#include "test_util.h"

using namespace medallion;
using namespace medallion::wallet;
using medallion::testing::Hex;

TEST_CASE("BIP-39 wordlist matches the published file", "[wallet][bip39]") {
  const auto& list = bip39::EnglishWordlist();
  REQUIRE(list.size() == 2048);
  std::string joined;
  for (auto w : list) joined += std::string(w) + "\n";
  CHECK(HexEncode(Sha256(AsBytes(joined))) ==
        "2f5eed53a4727b4bf8880d8f3f199efc90e58503646d9ff8eff3a2ed3b24dbda");
  CHECK(std::is_sorted(list.begin(), list.end()));
}

TEST_CASE("BIP-39 trezor vectors", "[wallet][bip39][vectors]") {
  auto vectors = medallion::testing::ReadJsonVector("bip39/trezor-vectors.json")["english"];
  REQUIRE(vectors.size() == 24);
  for (const auto& v : vectors) {
    const std::string entropy_hex = v[0], mnemonic = v[1], seed_hex = v[2], xprv = v[3];
    INFO(mnemonic);
    auto m = bip39::MnemonicFromEntropy(Hex(entropy_hex));
    REQUIRE(m.has_value());
    CHECK(m->Reveal() == mnemonic);
    CHECK(bip39::ValidateMnemonic(mnemonic).ok());
    auto e = bip39::MnemonicToEntropy(mnemonic);
    REQUIRE(e.has_value());
    CHECK(HexEncode(e->Reveal()) == entropy_hex);
    auto seed = bip39::MnemonicToSeed(mnemonic, "TREZOR");
    REQUIRE(seed.has_value());
    CHECK(HexEncode(seed->Reveal()) == seed_hex);
    auto master = MasterKeyFromSeed(Curve::kSecp256k1, seed->Reveal());
    REQUIRE(master.has_value());
    CHECK(SerializeXprv(*master).Reveal() == xprv);
  }
}

TEST_CASE("BIP-39 rejects bad mnemonics with a reason", "[wallet][bip39]") {
  const std::string good =
      "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
      "about";
  CHECK(bip39::ValidateMnemonic(good).ok());
  SECTION("bad checksum") {
    auto st = bip39::ValidateMnemonic(
        "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
        "abandon");
    CHECK(st.code() == StatusCode::kInvalidArgument);
    CHECK_THAT(st.message(), Catch::Contains("checksum"));
  }
  SECTION("unknown word") {
    auto st = bip39::ValidateMnemonic(
        "abandon abandon abandon abandon abandon abandonx abandon abandon abandon abandon abandon "
        "about");
    CHECK_THAT(st.message(), Catch::Contains("word 6"));
  }
  SECTION("wrong word count") {
    CHECK_FALSE(bip39::ValidateMnemonic("abandon abandon abandon").ok());
    CHECK_FALSE(bip39::ValidateMnemonic("").ok());
  }
  SECTION("invalid UTF-8") { CHECK_FALSE(bip39::ValidateMnemonic("abandon \xff\xfe").ok()); }
  SECTION("bad entropy lengths") {
    CHECK_FALSE(bip39::MnemonicFromEntropy(Bytes(15)).has_value());
    CHECK_FALSE(bip39::MnemonicFromEntropy(Bytes(17)).has_value());
    CHECK_FALSE(bip39::MnemonicFromEntropy(Bytes(36)).has_value());
  }
}

TEST_CASE("BIP-39 passphrases are NFKD-normalized", "[wallet][bip39]") {
  const std::string m =
      "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
      "about";
  // U+00D1 (composed) vs N + U+0303 (decomposed), and the compatibility ligature U+FB01 "ﬁ" vs
  // "fi".
  auto composed = bip39::MnemonicToSeed(m,
                                        "\xC3\x91"
                                        "and\xC3\xBA");
  auto decomposed = bip39::MnemonicToSeed(m,
                                          "N\xCC\x83"
                                          "andu\xCC\x81");
  REQUIRE(composed.has_value());
  REQUIRE(decomposed.has_value());
  CHECK(HexEncode(composed->Reveal()) == HexEncode(decomposed->Reveal()));
  auto lig = bip39::MnemonicToSeed(m, "\xEF\xAC\x81");
  auto plain = bip39::MnemonicToSeed(m, "fi");
  CHECK(HexEncode(lig->Reveal()) == HexEncode(plain->Reveal()));
  CHECK(HexEncode(plain->Reveal()) != HexEncode(bip39::MnemonicToSeed(m, "")->Reveal()));
}

TEST_CASE("BIP-39 generation covers every size and round-trips", "[wallet][bip39]") {
  SeededRng rng(7);
  for (int bits : {128, 160, 192, 224, 256}) {
    auto m = bip39::GenerateMnemonic(rng, bits);
    REQUIRE(m.has_value());
    const size_t words = std::count(m->Reveal().begin(), m->Reveal().end(), ' ') + 1;
    CHECK(words == static_cast<size_t>((bits + bits / 32) / 11));
    CHECK(bip39::ValidateMnemonic(m->Reveal()).ok());
  }
  CHECK_FALSE(bip39::GenerateMnemonic(rng, 100).has_value());
  CHECK_FALSE(bip39::GenerateMnemonic(rng, 512).has_value());
}

TEST_CASE("BIP-39 seeds for every language's trezor vectors (NFKD of the sentence)",
          "[wallet][bip39][vectors]") {
  // Generation and checksum validation use the English list; a sentence in any language still
  // hashes to its seed (BIP-39 §"From mnemonic to seed"), which exercises NFKD on composed
  // Latin letters, Hangul and the Japanese ideographic space.
  auto doc = medallion::testing::ReadJsonVector("bip39/trezor-vectors.json");
  size_t rows = 0;
  for (auto& [language, vectors] : doc.items()) {
    for (const auto& v : vectors) {
      INFO(language << ": " << v[1].get<std::string>());
      auto seed = bip39::MnemonicToSeed(v[1].get<std::string>(), "TREZOR");
      REQUIRE(seed.has_value());
      CHECK(HexEncode(seed->Reveal()) == v[2].get<std::string>());
      auto master = MasterKeyFromSeed(Curve::kSecp256k1, seed->Reveal());
      CHECK(SerializeXprv(*master).Reveal() == v[3].get<std::string>());
      ++rows;
    }
  }
  CHECK(rows == 12 * 24);
}
