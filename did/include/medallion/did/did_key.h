// did:key (W3C CCG did-method-key): DIDs that are a multibase-encoded multicodec public key.
// Supported: Ed25519 (with its derived X25519 key agreement key), secp256k1 (compressed),
// X25519.
#pragma once

#include <string>
#include <string_view>

#include "medallion/core/bytes.h"
#include "medallion/core/status.h"

namespace medallion::did {

enum class KeyType { kEd25519, kSecp256k1, kX25519 };
std::string_view KeyTypeName(KeyType type);

struct DidKey {
  KeyType type;
  Bytes public_key;       // Ed25519 / X25519: 32 bytes; secp256k1: 33-byte compressed
  std::string multibase;  // "z6Mk...": the method-specific identifier and fragment
};

// did-method-key §"Create": "did:key:" + multibase(base58btc, multicodec(type) || key).
// Errors: invalid_argument for a key of the wrong length (or not a secp256k1 point).
Result<std::string> DidKeyFromPublicKey(KeyType type, ByteView public_key);
// The multibase form alone (also the `publicKeyMultibase` of a Multikey).
Result<std::string> MultikeyFromPublicKey(KeyType type, ByteView public_key);

// did-method-key §"Read": parses and validates a did:key (only base58btc, a supported
// multicodec, the right key length, a valid secp256k1 point). Errors: invalid_argument.
Result<DidKey> ParseDidKey(std::string_view did);
// Parses a `publicKeyMultibase` value.
Result<DidKey> ParseMultikey(std::string_view multibase);

// The X25519 key agreement key of an Ed25519 public key (birational map, RFC 7748 §4.1;
// libsodium crypto_sign_ed25519_pk_to_curve25519). Errors: invalid_argument.
Result<Bytes> Ed25519ToX25519PublicKey(ByteView ed25519_public_key);

}  // namespace medallion::did
