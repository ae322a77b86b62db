// Anonymous sealed boxes to an Ed25519 key: the recipient's Ed25519 key is mapped to X25519
// (RFC 7748 §4.1, the birational map of RFC 8032's Edwards25519) and the plaintext sealed with
// an ephemeral X25519 key and XSalsa20-Poly1305 (libsodium crypto_box_seal). Used where a
// signing identity (a pairwise pseudonym) must also receive short secrets.
#pragma once

#include <cstddef>

#include "medallion/core/bytes.h"
#include "medallion/core/secret.h"
#include "medallion/core/status.h"
#include "medallion/wallet/keys.h"

namespace medallion::wallet {

// What sealing adds to the plaintext: the ephemeral public key and the MAC (48 bytes).
inline constexpr size_t kSealOverheadBytes = 48;

// The X25519 public key of an Ed25519 public key. Errors: invalid_argument for a key that is not
// 32 bytes or is small-order, non-canonical or not on the curve.
Result<Bytes> Ed25519PublicKeyToX25519(ByteView ed25519_public_key);

// Seals `plain` to the holder of the Ed25519 key `ed25519_public_key`: only the matching
// private key opens it; the sender stays anonymous. Randomness from libsodium's system RNG
// (the ephemeral key). Returns plain.size() + kSealOverheadBytes bytes. Errors: invalid_argument
// for an unusable key (as Ed25519PublicKeyToX25519). Thread-safe.
Result<Bytes> SealToEd25519(ByteView ed25519_public_key, ByteView plain);

// Opens a box sealed by SealToEd25519 to `recipient` (an EdDSA key). Errors: invalid_argument
// if `recipient` is not an EdDSA key; unauthenticated if the box is too short, was sealed to
// another key or was altered. The plaintext is returned as SecretBytes (it was sealed for a
// reason). Thread-safe.
Result<SecretBytes> OpenSealedToEd25519(const SigningKey& recipient, ByteView sealed);

}  // namespace medallion::wallet
