// Recoverable secp256k1 ECDSA (libsecp256k1's recovery module), for Ethereum transactions.
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "medallion/wallet/keys.h"
#include "secp256k1_context.h"

namespace medallion::wallet {

Result<RecoverableSignature> SignSecp256k1Recoverable(ByteView private_key, ByteView digest) {
  if (digest.size() != 32) return Status::InvalidArgument("secp256k1: the digest must be 32 bytes");
  if (private_key.size() != 32) return Status::InvalidArgument("secp256k1: keys are 32 bytes");
  secp256k1_ecdsa_recoverable_signature sig;
  // RFC 6979 nonces (the default nonce function); libsecp256k1 always produces low-S.
  if (secp256k1_ecdsa_sign_recoverable(Secp256k1Context(), &sig, digest.data(), private_key.data(),
                                       nullptr, nullptr) != 1) {
    return Status::InvalidArgument("secp256k1: private key out of range");
  }
  uint8_t compact[64];
  RecoverableSignature out;
  secp256k1_ecdsa_recoverable_signature_serialize_compact(Secp256k1Context(), compact,
                                                          &out.recovery_id, &sig);
  std::copy(compact, compact + 32, out.r.begin());
  std::copy(compact + 32, compact + 64, out.s.begin());
  return out;
}

Result<Bytes> RecoverSecp256k1PublicKey(ByteView digest, const RecoverableSignature& signature) {
  if (digest.size() != 32) return Status::InvalidArgument("secp256k1: the digest must be 32 bytes");
  if (signature.recovery_id < 0 || signature.recovery_id > 3)
    return Status::InvalidArgument("secp256k1: recovery id outside 0..3");
  uint8_t compact[64];
  std::copy(signature.r.begin(), signature.r.end(), compact);
  std::copy(signature.s.begin(), signature.s.end(), compact + 32);
  secp256k1_ecdsa_recoverable_signature sig;
  // Parsing refuses r or s >= n (and accepts zero, which recovery then refuses).
  if (secp256k1_ecdsa_recoverable_signature_parse_compact(Secp256k1Context(), &sig, compact,
                                                          signature.recovery_id) != 1) {
    return Status::InvalidArgument("secp256k1: r or s out of range");
  }
  // EIP-2: s above n/2 is refused (the malleable twin of a valid signature).
  secp256k1_ecdsa_signature plain, normalized;
  secp256k1_ecdsa_recoverable_signature_convert(Secp256k1Context(), &plain, &sig);
  if (secp256k1_ecdsa_signature_normalize(Secp256k1Context(), &normalized, &plain) == 1)
    return Status::InvalidArgument("secp256k1: high-S signature (EIP-2)");
  secp256k1_pubkey pk;
  if (secp256k1_ecdsa_recover(Secp256k1Context(), &pk, &sig, digest.data()) != 1)
    return Status::InvalidArgument("secp256k1: no public key recovers from this signature");
  Bytes out(65);
  size_t len = out.size();
  secp256k1_ec_pubkey_serialize(Secp256k1Context(), out.data(), &len, &pk,
                                SECP256K1_EC_UNCOMPRESSED);
  return out;
}

Result<Bytes> Secp256k1UncompressedPublicKey(ByteView private_key) {
  if (private_key.size() != 32) return Status::InvalidArgument("secp256k1: keys are 32 bytes");
  secp256k1_pubkey pk;
  if (secp256k1_ec_pubkey_create(Secp256k1Context(), &pk, private_key.data()) != 1)
    return Status::InvalidArgument("secp256k1: private key out of range");
  Bytes out(65);
  size_t len = out.size();
  secp256k1_ec_pubkey_serialize(Secp256k1Context(), out.data(), &len, &pk,
                                SECP256K1_EC_UNCOMPRESSED);
  return out;
}

}  // namespace medallion::wallet
