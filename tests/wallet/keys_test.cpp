// Purpose-scoped and pairwise key paths; EdDSA and ES256K signing and verification.
#include <catch2/catch.hpp>
#include <secp256k1.h>

#include <set>

#include "medallion/core/encoding.h"
#include "medallion/wallet/keys.h"
#include "test_util.h"

using namespace medallion;
using namespace medallion::wallet;
using medallion::testing::Hex;

namespace {
const Bytes kSeed =
    Hex("5eb00bbddcf069084889a8ab9155568165f5c453ccb85e70811aaed6f6da5fc19a5ac40b389cd370d086206dec"
        "8aa6c43daea6690f20ad3d8d48b2d2ce9e38e4");
}

TEST_CASE("Purpose and pairwise paths are the documented ones", "[wallet][keys]") {
  CHECK(PurposeKeyPath(0, KeyPurpose::kAuthentication, 0) == "m/5063756'/0'/0'/0'");
  CHECK(PurposeKeyPath(2, KeyPurpose::kEs256k, 3) == "m/5063756'/2'/5'/3'");
  CHECK(PairwiseKeyPath(0, 9, KeyPurpose::kAuthentication) == "m/5063756'/0'/7'/9'/0'");
  CHECK(CurveForPurpose(KeyPurpose::kKeyAgreement) == Curve::kCurve25519);
  CHECK(CurveForPurpose(KeyPurpose::kEs256k) == Curve::kSecp256k1);
  for (auto p : {KeyPurpose::kAuthentication, KeyPurpose::kAssertion, KeyPurpose::kKeyAgreement,
                 KeyPurpose::kDidUpdate, KeyPurpose::kRecoveryCommitment, KeyPurpose::kEs256k,
                 KeyPurpose::kDevice}) {
    CHECK(*ParseKeyPurpose(KeyPurposeName(p)) == p);
  }
  CHECK_FALSE(ParseKeyPurpose("signing").has_value());
}

TEST_CASE("Keys for different purposes and relationships are distinct", "[wallet][keys]") {
  std::set<std::string> seen;
  for (uint32_t rel = 0; rel < 5; ++rel) {
    for (auto p : {KeyPurpose::kAuthentication, KeyPurpose::kAssertion, KeyPurpose::kDidUpdate}) {
      auto k = DeriveSigningKey(kSeed, SignatureAlg::kEdDSA, PairwiseKeyPath(0, rel, p));
      REQUIRE(k.has_value());
      CHECK(seen.insert(HexEncode(k->public_key)).second);
      auto top = DeriveSigningKey(kSeed, SignatureAlg::kEdDSA, PurposeKeyPath(0, p, rel));
      CHECK(seen.insert(HexEncode(top->public_key)).second);
    }
  }
}

TEST_CASE("EdDSA signs and verifies; tampering is refused", "[wallet][keys][eddsa]") {
  auto k =
      DeriveSigningKey(kSeed, SignatureAlg::kEdDSA, PurposeKeyPath(0, KeyPurpose::kAssertion, 0));
  REQUIRE(k.has_value());
  const Bytes msg = ToBytes("prescription hash");
  auto sig = Sign(*k, msg);
  REQUIRE(sig.has_value());
  CHECK(sig->size() == 64);
  CHECK(Verify(SignatureAlg::kEdDSA, k->public_key, msg, *sig));
  Bytes bad = *sig;
  bad[10] ^= 1;
  CHECK_FALSE(Verify(SignatureAlg::kEdDSA, k->public_key, msg, bad));
  CHECK_FALSE(Verify(SignatureAlg::kEdDSA, k->public_key, ToBytes("other"), *sig));
  CHECK_FALSE(Verify(SignatureAlg::kEdDSA, Bytes(31), msg, *sig));
  CHECK_FALSE(Verify(SignatureAlg::kEdDSA, k->public_key, msg, Bytes(63)));
}

TEST_CASE("RFC 8032 §7.1 test 1 reproduces", "[wallet][keys][eddsa][vectors]") {
  SigningKey k;
  k.alg = SignatureAlg::kEdDSA;
  k.private_key = SecretBytes::CopyFrom(
      Hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
  auto sig = Sign(k, {});
  REQUIRE(sig.has_value());
  CHECK(HexEncode(*sig) ==
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701c"
        "f9b46bd25bf5f0595bbe24655141438e7a100b");
  CHECK(Verify(SignatureAlg::kEdDSA,
               Hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"), {}, *sig));
}

TEST_CASE("ES256K signs low-S, verifies high-S after normalizing", "[wallet][keys][es256k]") {
  auto k =
      DeriveSigningKey(kSeed, SignatureAlg::kES256K, PurposeKeyPath(0, KeyPurpose::kEs256k, 0));
  REQUIRE(k.has_value());
  CHECK(k->public_key.size() == 33);
  const Bytes msg = ToBytes("hello");
  auto sig = Sign(*k, msg);
  REQUIRE(sig.has_value());
  CHECK(Verify(SignatureAlg::kES256K, k->public_key, msg, *sig));
  // s must be at most n/2.
  const Bytes half_n = Hex("7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0");
  CHECK(std::lexicographical_compare(sig->begin() + 32, sig->end(), half_n.begin(), half_n.end()));
  // High-S twin: s' = n - s.
  const Bytes n = Hex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
  Bytes high = *sig;
  int borrow = 0;
  for (int i = 31; i >= 0; --i) {
    int d = n[i] - (*sig)[32 + i] - borrow;
    borrow = d < 0;
    high[32 + i] = static_cast<uint8_t>(d + (borrow ? 256 : 0));
  }
  CHECK(HexEncode(high) != HexEncode(*sig));
  CHECK(Verify(SignatureAlg::kES256K, k->public_key, msg, high));
  Bytes bad = *sig;
  bad[0] ^= 0x80;
  CHECK_FALSE(Verify(SignatureAlg::kES256K, k->public_key, msg, bad));
  CHECK_FALSE(Verify(SignatureAlg::kES256K, Hex("02" + std::string(64, '0')), msg, *sig));
  // RFC 6979 makes signatures deterministic.
  CHECK(HexEncode(*Sign(*k, msg)) == HexEncode(*sig));
}

TEST_CASE("Curve25519 keys cannot sign", "[wallet][keys]") {
  auto k =
      DeriveFromSeed(Curve::kCurve25519, kSeed, PurposeKeyPath(0, KeyPurpose::kKeyAgreement, 0));
  REQUIRE(k.has_value());
  CHECK_FALSE(SigningKeyFromExtended(*k).has_value());
}

TEST_CASE("ES256K verify takes compressed and uncompressed keys, not hybrid ones",
          "[wallet][keys][es256k]") {
  auto k =
      DeriveSigningKey(kSeed, SignatureAlg::kES256K, PurposeKeyPath(0, KeyPurpose::kEs256k, 0));
  REQUIRE(k.has_value());
  const Bytes msg = ToBytes("prescription hash");
  auto sig = Sign(*k, msg);
  REQUIRE(sig.has_value());
  secp256k1_pubkey pk;
  REQUIRE(secp256k1_ec_pubkey_parse(secp256k1_context_static, &pk, k->public_key.data(),
                                    k->public_key.size()) == 1);
  Bytes uncompressed(65);
  size_t len = uncompressed.size();
  REQUIRE(secp256k1_ec_pubkey_serialize(secp256k1_context_static, uncompressed.data(), &len, &pk,
                                        SECP256K1_EC_UNCOMPRESSED) == 1);
  REQUIRE(uncompressed[0] == 0x04);
  CHECK(Verify(SignatureAlg::kES256K, k->public_key, msg, *sig));
  CHECK(Verify(SignatureAlg::kES256K, uncompressed, msg, *sig));
  CHECK(*CompressSecp256k1PublicKey(uncompressed) == k->public_key);

  // SEC 1 "hybrid" form: 0x06 (even y) or 0x07 (odd y) || x || y. libsecp256k1 parses it, so
  // only our own check keeps it out.
  Bytes hybrid = uncompressed;
  hybrid[0] = (uncompressed[64] & 1) ? 0x07 : 0x06;
  secp256k1_pubkey parsed;
  REQUIRE(secp256k1_ec_pubkey_parse(secp256k1_context_static, &parsed, hybrid.data(),
                                    hybrid.size()) == 1);
  CHECK_FALSE(Verify(SignatureAlg::kES256K, hybrid, msg, *sig));
  CHECK_FALSE(CompressSecp256k1PublicKey(hybrid).has_value());
  Bytes wrong_parity = hybrid;
  wrong_parity[0] ^= 1;
  CHECK_FALSE(Verify(SignatureAlg::kES256K, wrong_parity, msg, *sig));

  // Prefixes and lengths that do not go together.
  Bytes long_compressed = k->public_key;
  long_compressed.resize(65);
  CHECK_FALSE(Verify(SignatureAlg::kES256K, long_compressed, msg, *sig));
  Bytes short_uncompressed(uncompressed.begin(), uncompressed.begin() + 33);
  CHECK_FALSE(Verify(SignatureAlg::kES256K, short_uncompressed, msg, *sig));
  Bytes bad_prefix = k->public_key;
  bad_prefix[0] = 0x05;
  CHECK_FALSE(Verify(SignatureAlg::kES256K, bad_prefix, msg, *sig));
  CHECK_FALSE(Verify(SignatureAlg::kES256K, Bytes{}, msg, *sig));
}
