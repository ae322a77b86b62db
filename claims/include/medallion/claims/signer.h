// Signing keys as the claims module sees them: a verification method id and a callback, so
// that keys stay in the wallet (or on the phone) and the claims module never holds them.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "medallion/core/bytes.h"
#include "medallion/core/status.h"
#include "medallion/wallet/keys.h"

namespace medallion::claims {

enum class Alg { kEdDSA, kES256K };  // JOSE names "EdDSA" (Ed25519), "ES256K"
std::string_view AlgName(Alg alg);

struct Signer {
  Alg alg = Alg::kEdDSA;
  std::string verification_method;  // absolute DID URL: did#fragment
  Bytes public_key;                 // Ed25519 32 bytes; secp256k1 33 bytes compressed
  // Signs raw bytes: EdDSA over the message; ES256K over SHA-256(message), 64-byte r||s, low-S.
  std::function<Result<Bytes>(ByteView message)> sign;
};

// A signer over a wallet key (EdDSA or ES256K by the key's algorithm), named `verification_method`.
// The key is shared: it stays alive (and wiped at the end) as long as a copy of the signer does.
Signer WalletSigner(std::shared_ptr<const wallet::SigningKey> key, std::string verification_method);

// Verifies a signature with a public key taken from a resolved verification method.
bool VerifySignature(Alg alg, ByteView public_key, ByteView message, ByteView signature);

}  // namespace medallion::claims
