// Sealed boxes to Ed25519 keys (libsodium crypto_box_seal over the X25519 form of the key).
#include "medallion/wallet/seal.h"

#include <sodium.h>

namespace medallion::wallet {

static_assert(kSealOverheadBytes == crypto_box_SEALBYTES);

Result<Bytes> Ed25519PublicKeyToX25519(ByteView ed25519_public_key) {
  if (ed25519_public_key.size() != crypto_sign_PUBLICKEYBYTES)
    return Status::InvalidArgument("Ed25519 keys are 32 bytes");
  Bytes out(crypto_scalarmult_curve25519_BYTES);
  if (crypto_sign_ed25519_pk_to_curve25519(out.data(), ed25519_public_key.data()) != 0) {
    return Status::InvalidArgument("Ed25519 key is small-order, non-canonical or not on the curve");
  }
  return out;
}

Result<Bytes> SealToEd25519(ByteView ed25519_public_key, ByteView plain) {
  MDL_ASSIGN_OR_RETURN(Bytes x25519, Ed25519PublicKeyToX25519(ed25519_public_key));
  if (sodium_init() < 0) Panic("sodium_init failed");
  Bytes sealed(crypto_box_SEALBYTES + plain.size());
  if (crypto_box_seal(sealed.data(), plain.data(), plain.size(), x25519.data()) != 0) {
    return Status::InvalidArgument("the key cannot receive a sealed box");
  }
  return sealed;
}

Result<SecretBytes> OpenSealedToEd25519(const SigningKey& recipient, ByteView sealed) {
  if (recipient.alg != SignatureAlg::kEdDSA ||
      recipient.private_key.size() != crypto_sign_SEEDBYTES) {
    return Status::InvalidArgument("sealed boxes open with an EdDSA key");
  }
  if (sealed.size() < crypto_box_SEALBYTES)
    return Status::Unauthenticated("the sealed box is too short");
  MDL_ASSIGN_OR_RETURN(Bytes pk, Ed25519PublicKeyToX25519(recipient.public_key));
  // crypto_sign_ed25519_sk_to_curve25519 reads the seed half of the expanded key.
  SecretBytes expanded(crypto_sign_SECRETKEYBYTES);
  Bytes ed_pk(crypto_sign_PUBLICKEYBYTES);
  crypto_sign_seed_keypair(ed_pk.data(), expanded.RevealMutable().data(),
                           recipient.private_key.Reveal().data());
  SecretBytes sk(crypto_box_SECRETKEYBYTES);
  if (crypto_sign_ed25519_sk_to_curve25519(sk.RevealMutable().data(), expanded.Reveal().data()) !=
      0) {
    return Status::InvalidArgument("the key cannot open sealed boxes");
  }
  SecretBytes plain(sealed.size() - crypto_box_SEALBYTES);
  if (crypto_box_seal_open(plain.RevealMutable().data(), sealed.data(), sealed.size(), pk.data(),
                           sk.Reveal().data()) != 0) {
    return Status::Unauthenticated("the sealed box does not open with this key");
  }
  return plain;
}

}  // namespace medallion::wallet
