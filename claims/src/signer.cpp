// Signature verification for the claims module (delegates to the wallet's implementations).
#include "medallion/claims/signer.h"

#include "medallion/wallet/keys.h"

namespace medallion::claims {

std::string_view AlgName(Alg alg) { return alg == Alg::kEdDSA ? "EdDSA" : "ES256K"; }

bool VerifySignature(Alg alg, ByteView public_key, ByteView message, ByteView signature) {
  return wallet::Verify(alg == Alg::kEdDSA ? wallet::SignatureAlg::kEdDSA : wallet::SignatureAlg::kES256K, public_key,
                        message, signature);
}

}  // namespace medallion::claims
