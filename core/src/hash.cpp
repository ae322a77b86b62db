// Hashes, HMAC and PBKDF2 through OpenSSL 3 EVP (RIPEMD-160 and PBKDF2 are not in
// libsodium 1.0.18).
#include "medallion/core/hash.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>

#include "medallion/core/status.h"

namespace medallion {
namespace {

template <size_t N>
std::array<uint8_t, N> Digest(const EVP_MD* md, ByteView data) {
  std::array<uint8_t, N> out{};
  unsigned int len = 0;
  if (md == nullptr || EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr) != 1 ||
      len != N) {
    Panic("EVP_Digest failed");
  }
  return out;
}

const EVP_MD* Ripemd160Md() {
  // OpenSSL 3 keeps RIPEMD-160 in the default provider since 3.0.7; fall back to the
  // legacy name lookup for older builds.
  static const EVP_MD* md = [] {
    const EVP_MD* m = EVP_MD_fetch(nullptr, "RIPEMD160", nullptr);
    if (m == nullptr) m = EVP_ripemd160();
    return m;
  }();
  return md;
}

}  // namespace

// Explicitly fetched once: EVP_sha256() makes OpenSSL 3 look the implementation up on every
// EVP_Digest call, which tripled the cost of hashing a 65-byte Merkle node (docs/benchmarks.md).
const EVP_MD* FetchedMd(const char* name) {
  const EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
  if (md == nullptr) Panic(std::string("OpenSSL has no ") + name);
  return md;
}

Hash256 Sha256(ByteView data) {
  static const EVP_MD* md = FetchedMd("SHA256");
  return Digest<32>(md, data);
}
std::array<uint8_t, 64> Sha512(ByteView data) {
  static const EVP_MD* md = FetchedMd("SHA512");
  return Digest<64>(md, data);
}
Hash256 Sha256d(ByteView data) {
  Hash256 h = Sha256(data);
  return Sha256(h);
}
std::array<uint8_t, 20> Ripemd160(ByteView data) { return Digest<20>(Ripemd160Md(), data); }
std::array<uint8_t, 20> Hash160(ByteView data) {
  Hash256 h = Sha256(data);
  return Ripemd160(h);
}

Hash256 HmacSha256(ByteView key, ByteView data) {
  Hash256 out{};
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(), data.size(),
           out.data(), &len) == nullptr) {
    Panic("HMAC-SHA256 failed");
  }
  return out;
}

std::array<uint8_t, 64> HmacSha512(ByteView key, ByteView data) {
  std::array<uint8_t, 64> out{};
  unsigned int len = 0;
  if (HMAC(EVP_sha512(), key.data(), static_cast<int>(key.size()), data.data(), data.size(),
           out.data(), &len) == nullptr) {
    Panic("HMAC-SHA512 failed");
  }
  return out;
}

SecretBytes Pbkdf2HmacSha512(ByteView password, ByteView salt, uint32_t iterations,
                             size_t out_len) {
  SecretBytes out(out_len);
  if (PKCS5_PBKDF2_HMAC(reinterpret_cast<const char*>(password.data()),
                        static_cast<int>(password.size()), salt.data(),
                        static_cast<int>(salt.size()), static_cast<int>(iterations), EVP_sha512(),
                        static_cast<int>(out_len), out.RevealMutable().data()) != 1) {
    Panic("PBKDF2 failed");
  }
  return out;
}

}  // namespace medallion
