// Signature verification for the claims module (delegates to the wallet's implementations).
#include "medallion/claims/signer.h"

#include "medallion/wallet/keys.h"

namespace medallion::claims {

std::string_view AlgName(Alg alg) { return alg == Alg::kEdDSA ? "EdDSA" : "ES256K"; }

bool VerifySignature(Alg alg, ByteView public_key, ByteView message, ByteView signature) {
  return wallet::Verify(
      alg == Alg::kEdDSA ? wallet::SignatureAlg::kEdDSA : wallet::SignatureAlg::kES256K, public_key,
      message, signature);
}

Signer WalletSigner(std::shared_ptr<const wallet::SigningKey> key,
                    std::string verification_method) {
  Signer s;
  s.alg = key->alg == wallet::SignatureAlg::kES256K ? Alg::kES256K : Alg::kEdDSA;
  s.verification_method = std::move(verification_method);
  s.public_key = key->public_key;
  s.sign = [key](ByteView m) { return wallet::Sign(*key, m); };
  return s;
}

}  // namespace medallion::claims
