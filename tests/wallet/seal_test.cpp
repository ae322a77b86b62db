// The crypto boundary's helpers for other modules: point checks, secp256k1 (de)compression,
// signing with a bare seed, Ed25519 → X25519 and sealed boxes to an Ed25519 key.
#include <catch2/catch.hpp>

#include "medallion/core/encoding.h"
#include "medallion/wallet/keys.h"
#include "medallion/wallet/seal.h"
#include "test_util.h"

using namespace medallion;
using namespace medallion::wallet;
using medallion::testing::Hex;

namespace {
// RFC 8032 §7.1 TEST 1.
const Bytes kRfcSeed = Hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
const Bytes kRfcPublic = Hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
const Bytes kRfcSignature =
    Hex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701c"
        "f9b46bd25bf5f0595bbe24655141438e7a100b");
// The secp256k1 generator G (SEC 2 §2.4.1), compressed and uncompressed.
const Bytes kG33 = Hex("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
const Bytes kG65 =
    Hex("0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc"
        "0e1108a8fd17b448a68554199c47d08ffb10d4b8");
}  // namespace

TEST_CASE("Ed25519 point checks and signing with a seed", "[wallet][keys]") {
  CHECK(IsValidEd25519PublicKey(kRfcPublic));
  CHECK_FALSE(IsValidEd25519PublicKey(Bytes(32, 0)));  // small order
  CHECK_FALSE(IsValidEd25519PublicKey(ByteView(kRfcPublic).first(31)));
  auto sig = SignEd25519WithSeed(kRfcSeed, {});
  REQUIRE(sig);
  CHECK(*sig == kRfcSignature);
  CHECK(Verify(SignatureAlg::kEdDSA, kRfcPublic, {}, *sig));
  CHECK_FALSE(SignEd25519WithSeed(Bytes(31, 1), {}).has_value());
}

TEST_CASE("secp256k1 public keys: validity, compression both ways", "[wallet][keys]") {
  CHECK(IsValidSecp256k1PublicKey(kG33));
  CHECK(IsValidSecp256k1PublicKey(kG65));
  Bytes off = kG33;
  off[0] = 0x05;
  CHECK_FALSE(IsValidSecp256k1PublicKey(off));
  Bytes hybrid = kG65;
  hybrid[0] = 0x06;  // SEC 1 "hybrid": refused
  CHECK_FALSE(IsValidSecp256k1PublicKey(hybrid));
  CHECK(*DecompressSecp256k1PublicKey(kG33) == kG65);
  CHECK(*DecompressSecp256k1PublicKey(kG65) == kG65);
  CHECK(*CompressSecp256k1PublicKey(kG65) == kG33);
  CHECK_FALSE(DecompressSecp256k1PublicKey(ByteView(kG33).first(32)).has_value());
}

TEST_CASE("Sealed boxes open only with the recipient's Ed25519 key", "[wallet][seal]") {
  auto alice = MakeSigningKey(SignatureAlg::kEdDSA, kRfcSeed);
  auto bob = MakeSigningKey(SignatureAlg::kEdDSA, Bytes(32, 7));
  REQUIRE(alice);
  REQUIRE(bob);
  auto x = Ed25519PublicKeyToX25519(alice->public_key);
  REQUIRE(x);
  CHECK(x->size() == 32);
  CHECK_FALSE(Ed25519PublicKeyToX25519(Bytes(32, 0)).has_value());
  CHECK_FALSE(Ed25519PublicKeyToX25519(Bytes(31, 9)).has_value());

  const std::string plain = "{\"location\":\"https://records.example/p/1\"}";
  auto sealed = SealToEd25519(alice->public_key, AsBytes(plain));
  REQUIRE(sealed);
  CHECK(sealed->size() == plain.size() + kSealOverheadBytes);
  auto opened = OpenSealedToEd25519(*alice, *sealed);
  REQUIRE(opened);
  CHECK(std::string(opened->Reveal().begin(), opened->Reveal().end()) == plain);

  auto wrong = OpenSealedToEd25519(*bob, *sealed);
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().code() == StatusCode::kUnauthenticated);
  Bytes tampered = *sealed;
  tampered.back() ^= 1;
  CHECK(OpenSealedToEd25519(*alice, tampered).error().code() == StatusCode::kUnauthenticated);
  CHECK(
      OpenSealedToEd25519(*alice, ByteView(*sealed).first(kSealOverheadBytes - 1)).error().code() ==
      StatusCode::kUnauthenticated);
  CHECK_FALSE(SealToEd25519(Bytes(32, 0), AsBytes(plain)).has_value());
  auto es = MakeSigningKey(SignatureAlg::kES256K, Bytes(32, 3));
  REQUIRE(es);
  CHECK(OpenSealedToEd25519(*es, *sealed).error().code() == StatusCode::kInvalidArgument);
}
