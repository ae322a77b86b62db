// Hash, HMAC and KDF known answers (FIPS 180-4 examples, RFC 4231, RIPEMD-160 paper, RFC 6070-style
// PBKDF2).
#include <catch2/catch.hpp>

#include "medallion/core/encoding.h"
#include "medallion/core/hash.h"
#include "medallion/core/secret.h"
#include "test_util.h"

using namespace medallion;
using medallion::testing::Hex;

TEST_CASE("SHA-2 and RIPEMD-160 known answers", "[core][hash]") {
  CHECK(HexEncode(Sha256(AsBytes("abc"))) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(HexEncode(Sha256(AsBytes(""))) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(HexEncode(Sha512(AsBytes("abc"))) ==
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3"
        "feebbd454d4423643ce80e2a9ac94fa54ca49f");
  CHECK(HexEncode(Ripemd160(AsBytes("abc"))) == "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc");
  CHECK(HexEncode(Ripemd160(AsBytes(""))) == "9c1185a5c5e9fc54612808977ee8f548b2258d31");
}

TEST_CASE("HMAC known answers (RFC 4231 test case 2)", "[core][hash]") {
  CHECK(HexEncode(HmacSha256(AsBytes("Jefe"), AsBytes("what do ya want for nothing?"))) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(HexEncode(HmacSha512(AsBytes("Jefe"), AsBytes("what do ya want for nothing?"))) ==
        "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8"
        "f0e6fdcaeab1a34d4a6b4b636e070a38bce737");
}

TEST_CASE("PBKDF2-HMAC-SHA512 known answer", "[core][hash]") {
  // Widely published PBKDF2-HMAC-SHA512 vector: P="password", S="salt", c=1, dkLen=64.
  auto k = Pbkdf2HmacSha512(AsBytes("password"), AsBytes("salt"), 1, 64);
  CHECK(HexEncode(k.Reveal()) ==
        "867f70cf1ade02cff3752599a3a53dc4af34c7a669815ae5d513554e1c8cf252c02d470a285a0501bad999bfe9"
        "43c08f050235d7d68b1da55e63f73b60a57fce");
}

TEST_CASE("SecretBytes is wiped, moved and compared in constant time", "[core][secret]") {
  SecretBytes a = SecretBytes::CopyFrom(Hex("0102030405"));
  CHECK(a.size() == 5);
  SecretBytes b = std::move(a);
  CHECK(a.empty());  // NOLINT(bugprone-use-after-move): checking the moved-from state
  CHECK(b.size() == 5);
  SecretBytes c = b.Clone();
  CHECK(ConstantTimeEqual(b.Reveal(), c.Reveal()));
  c.RevealMutable()[4] ^= 1;
  CHECK_FALSE(ConstantTimeEqual(b.Reveal(), c.Reveal()));
  CHECK_FALSE(ConstantTimeEqual(b.Reveal(), Hex("01020304")));
  static_assert(!std::is_copy_constructible_v<SecretBytes>);
}
