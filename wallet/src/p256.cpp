// ES256 verification: ECDSA over NIST P-256 with SHA-256 (FIPS 186-4 §6.4, SEC 1 v2 §4.1.4),
// through OpenSSL 3's EVP interface. Verification only: Medallion never holds P-256 keys, it
// checks WebAuthn credentials (COSE alg -7, RFC 9053 §2.1).
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>

#include "medallion/wallet/keys.h"

namespace medallion::wallet {
namespace {

// The P-256 field prime p = 2^256 - 2^224 + 2^192 + 2^96 - 1, big-endian (SEC 2 v2 §2.4.2).
constexpr std::array<uint8_t, 32> kP256FieldPrime = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

// Largest DER ECDSA-Sig-Value for a 256-bit group: SEQUENCE(2) + 2 × INTEGER(2 + 33).
constexpr size_t kMaxDerSignatureBytes = 72;

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

// A coordinate is an element of the field only if it is below p (SEC 1 v2 §2.3.4 step 2.2);
// OpenSSL would otherwise reduce some values modulo p and accept a second encoding.
bool BelowFieldPrime(ByteView c) {
  return std::lexicographical_compare(c.begin(), c.end(), kP256FieldPrime.begin(),
                                      kP256FieldPrime.end());
}

// The public key (x, y) as an OpenSSL key, or null if it is not a valid P-256 point.
PkeyPtr P256PublicKey(ByteView x32, ByteView y32) {
  if (x32.size() != kP256CoordinateBytes || y32.size() != kP256CoordinateBytes) return nullptr;
  if (!BelowFieldPrime(x32) || !BelowFieldPrime(y32)) return nullptr;
  // SEC 1 v2 §2.3.3: the uncompressed encoding 0x04 || x || y.
  std::array<uint8_t, 1 + 2 * kP256CoordinateBytes> point{};
  point[0] = 0x04;
  std::memcpy(point.data() + 1, x32.data(), kP256CoordinateBytes);
  std::memcpy(point.data() + 1 + kP256CoordinateBytes, y32.data(), kP256CoordinateBytes);
  char group[] = "prime256v1";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()),
      OSSL_PARAM_construct_end()};
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return nullptr;
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params) != 1) return nullptr;
  PkeyPtr key(raw);
  // Full public-key validation (SP 800-56A §5.6.2.3.3): not infinity, on the curve, n·Q = O.
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) return nullptr;
  return key;
}

}  // namespace

bool IsValidP256PublicKey(ByteView x32, ByteView y32) { return P256PublicKey(x32, y32) != nullptr; }

bool VerifyEs256P256(ByteView x32, ByteView y32, ByteView message, ByteView der_signature) {
  if (der_signature.empty() || der_signature.size() > kMaxDerSignatureBytes) return false;
  PkeyPtr key = P256PublicKey(x32, y32);
  if (!key) return false;
  MdCtxPtr md(EVP_MD_CTX_new());
  if (!md) return false;
  if (EVP_DigestVerifyInit_ex(md.get(), nullptr, "SHA256", nullptr, nullptr, key.get(), nullptr) !=
      1) {
    return false;
  }
  // OpenSSL's ECDSA verification decodes the DER, re-encodes it and compares, so BER forms
  // and trailing bytes fail here; r and s are range-checked against n.
  static const uint8_t kEmpty = 0;
  const uint8_t* msg = message.empty() ? &kEmpty : message.data();
  return EVP_DigestVerify(md.get(), der_signature.data(), der_signature.size(), msg,
                          message.size()) == 1;
}

}  // namespace medallion::wallet
