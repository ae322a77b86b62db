// Hash functions and KDFs, all delegated to OpenSSL 3 or libsodium (nothing hand-rolled).
#pragma once

#include <array>
#include <cstdint>

#include "medallion/core/bytes.h"
#include "medallion/core/secret.h"

namespace medallion {

using Hash256 = std::array<uint8_t, 32>;

Hash256 Sha256(ByteView data);
std::array<uint8_t, 64> Sha512(ByteView data);
// SHA-256(SHA-256(x)), Base58Check checksums.
Hash256 Sha256d(ByteView data);
// RIPEMD-160 (OpenSSL legacy provider-free EVP lookup; BIP-32 fingerprints).
std::array<uint8_t, 20> Ripemd160(ByteView data);
// RIPEMD-160(SHA-256(x)).
std::array<uint8_t, 20> Hash160(ByteView data);

Hash256 HmacSha256(ByteView key, ByteView data);
std::array<uint8_t, 64> HmacSha512(ByteView key, ByteView data);

// PBKDF2-HMAC-SHA512 (RFC 8018 §5.2) into `out_len` bytes of wiped memory.
SecretBytes Pbkdf2HmacSha512(ByteView password, ByteView salt, uint32_t iterations, size_t out_len);

}  // namespace medallion
