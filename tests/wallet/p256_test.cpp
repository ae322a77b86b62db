// ES256 (ECDSA P-256 / SHA-256) verification and P-256 public key checks: RFC 6979 §A.2.5
// known answers, high-S, and refused encodings of keys and DER signatures.
#include <catch2/catch.hpp>

#include "medallion/core/encoding.h"
#include "medallion/wallet/keys.h"
#include "test_util.h"

using namespace medallion;
using namespace medallion::wallet;
using medallion::testing::Hex;

namespace {

// RFC 6979 §A.2.5: the P-256 key and its deterministic SHA-256 signatures.
const Bytes kUx = Hex("60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6");
const Bytes kUy = Hex("7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299");
const Bytes kSampleR = Hex("efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716");
const Bytes kSampleS = Hex("f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8");
const Bytes kTestR = Hex("f1abb023518351cd71d881567b1ea663ed3efcf6c5132b354f28d3b0b7d38367");
const Bytes kTestS = Hex("019f4113742a2b14bd25926b49c649155f267e60d3814b4c0cc84250e46f0083");
// SEC 2 v2 §2.4.2: the field prime, the group order and the generator.
const Bytes kP = Hex("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff");
const Bytes kN = Hex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
const Bytes kGx = Hex("6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296");
const Bytes kGy = Hex("4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5");

// a - b for 32-byte big-endian a >= b.
Bytes Sub(const Bytes& a, const Bytes& b) {
  Bytes out(a.size());
  int borrow = 0;
  for (size_t i = a.size(); i-- > 0;) {
    int d = int(a[i]) - int(b[i]) - borrow;
    borrow = d < 0 ? 1 : 0;
    out[i] = uint8_t(d + (borrow ? 256 : 0));
  }
  return out;
}

// DER INTEGER of an unsigned big-endian value: minimal, with a 0x00 pad if the top bit is set.
Bytes DerInteger(Bytes v) {
  while (v.size() > 1 && v[0] == 0 && (v[1] & 0x80) == 0) v.erase(v.begin());
  if (v[0] & 0x80) v.insert(v.begin(), 0x00);
  return Concat(Bytes{0x02, uint8_t(v.size())}, v);
}

Bytes DerSignature(const Bytes& r, const Bytes& s) {
  Bytes body = Concat(DerInteger(r), DerInteger(s));
  return Concat(Bytes{0x30, uint8_t(body.size())}, body);
}

}  // namespace

TEST_CASE("ES256 verifies the RFC 6979 §A.2.5 P-256/SHA-256 signatures",
          "[wallet][p256][vectors]") {
  CHECK(IsValidP256PublicKey(kUx, kUy));
  CHECK(VerifyEs256P256(kUx, kUy, AsBytes("sample"), DerSignature(kSampleR, kSampleS)));
  CHECK(VerifyEs256P256(kUx, kUy, AsBytes("test"), DerSignature(kTestR, kTestS)));
  // Crossed messages, another key (the generator), a changed r.
  CHECK_FALSE(VerifyEs256P256(kUx, kUy, AsBytes("test"), DerSignature(kSampleR, kSampleS)));
  CHECK_FALSE(VerifyEs256P256(kGx, kGy, AsBytes("sample"), DerSignature(kSampleR, kSampleS)));
  Bytes r = kSampleR;
  r[31] ^= 1;
  CHECK_FALSE(VerifyEs256P256(kUx, kUy, AsBytes("sample"), DerSignature(r, kSampleS)));
}

TEST_CASE("ES256 accepts both S forms (no low-S rule)", "[wallet][p256]") {
  // The published "sample" s is above n/2; n - s is its low-S twin. WebAuthn authenticators
  // produce either, and ES256 (unlike Bitcoin's secp256k1 policy) does not forbid high S.
  Bytes low_s = Sub(kN, kSampleS);
  CHECK(low_s < kSampleS);
  CHECK(VerifyEs256P256(kUx, kUy, AsBytes("sample"), DerSignature(kSampleR, low_s)));
}

TEST_CASE("ES256 refuses malformed DER signatures", "[wallet][p256]") {
  const Bytes good = DerSignature(kTestR, kTestS);
  REQUIRE(VerifyEs256P256(kUx, kUy, AsBytes("test"), good));
  auto refused = [&](const Bytes& sig) { return !VerifyEs256P256(kUx, kUy, AsBytes("test"), sig); };
  CHECK(refused({}));
  CHECK(refused(Concat(kTestR, kTestS)));     // raw r || s (the JOSE layout) is not DER
  CHECK(refused(Concat(good, Bytes{0x00})));  // trailing byte
  Bytes truncated(good.begin(), good.end() - 1);
  CHECK(refused(truncated));
  // BER long-form length for the SEQUENCE (0x30 0x81 len): same content, not DER.
  Bytes ber = Concat(Bytes{0x30, 0x81, good[1]}, ByteView(good).subspan(2));
  CHECK(refused(ber));
  // A non-minimal INTEGER: s with an extra leading zero byte.
  Bytes s_body = DerInteger(kTestS);  // 02 20 01 9f ...
  Bytes padded_s = Concat(Bytes{0x02, uint8_t(s_body[1] + 1), 0x00}, ByteView(s_body).subspan(2));
  Bytes body = Concat(DerInteger(kTestR), padded_s);
  Bytes nonminimal = Concat(Bytes{0x30, uint8_t(body.size())}, body);
  CHECK(refused(nonminimal));
  // Out-of-range scalars: r = 0, s = n, s = n + s' wrapped is impossible in 32 bytes.
  CHECK(refused(DerSignature(Bytes(32, 0), kTestS)));
  CHECK(refused(DerSignature(kTestR, kN)));
  CHECK(refused(Bytes(200, 0x30)));  // oversized
  Bytes wrong_tag = good;
  wrong_tag[0] = 0x31;
  CHECK(refused(wrong_tag));
}

TEST_CASE("P-256 public keys must be points on the curve", "[wallet][p256]") {
  CHECK(IsValidP256PublicKey(kGx, kGy));
  Bytes y = kUy;
  y[31] ^= 1;
  CHECK_FALSE(IsValidP256PublicKey(kUx, y));
  CHECK_FALSE(IsValidP256PublicKey(Bytes(32, 0), Bytes(32, 0)));  // (0, 0): not on the curve
  CHECK_FALSE(IsValidP256PublicKey(kP, kUy));                     // x not a field element
  CHECK_FALSE(IsValidP256PublicKey(kUx, Bytes(32, 0xff)));
  CHECK_FALSE(IsValidP256PublicKey(Bytes(kUx.begin(), kUx.end() - 1), kUy));
  CHECK_FALSE(IsValidP256PublicKey(Concat(Bytes{0}, kUx), kUy));
  // y + p does not fit in 32 bytes here, but (x, p - y) is the negated point: valid, and
  // it is a different key, so the signature does not verify under it.
  Bytes neg_y = Sub(kP, kUy);
  CHECK(IsValidP256PublicKey(kUx, neg_y));
  CHECK_FALSE(VerifyEs256P256(kUx, neg_y, AsBytes("test"), DerSignature(kTestR, kTestS)));
  // A signature check with an invalid key is simply false.
  CHECK_FALSE(VerifyEs256P256(kUx, y, AsBytes("test"), DerSignature(kTestR, kTestS)));
}
