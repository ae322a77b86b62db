// Purpose-scoped key paths and EdDSA / ES256K signatures (libsodium, libsecp256k1).
#include "medallion/wallet/keys.h"

#include <secp256k1.h>
#include <sodium.h>

#include "medallion/core/hash.h"
#include "secp256k1_context.h"

namespace medallion::wallet {
namespace {

// SEC 1 v2 §2.3.3 encodings we accept: compressed (0x02/0x03, 33 bytes) and uncompressed
// (0x04, 65 bytes). libsecp256k1's parser also takes the "hybrid" form (0x06/0x07, 65 bytes),
// which no JOSE or did:key producer emits; refusing it keeps one key from having three spellings.
bool IsStandardSecp256k1Encoding(ByteView public_key) {
  if (public_key.size() == 33) return public_key[0] == 0x02 || public_key[0] == 0x03;
  if (public_key.size() == 65) return public_key[0] == 0x04;
  return false;
}

}  // namespace

std::string_view KeyPurposeName(KeyPurpose purpose) {
  switch (purpose) {
    case KeyPurpose::kAuthentication:
      return "authentication";
    case KeyPurpose::kAssertion:
      return "assertion";
    case KeyPurpose::kKeyAgreement:
      return "key-agreement";
    case KeyPurpose::kDidUpdate:
      return "did-update";
    case KeyPurpose::kRecoveryCommitment:
      return "recovery";
    case KeyPurpose::kEs256k:
      return "es256k";
    case KeyPurpose::kDevice:
      return "device";
  }
  return "unknown";
}

Result<KeyPurpose> ParseKeyPurpose(std::string_view name) {
  for (uint32_t i = 0; i <= static_cast<uint32_t>(KeyPurpose::kDevice); ++i) {
    if (KeyPurposeName(static_cast<KeyPurpose>(i)) == name) return static_cast<KeyPurpose>(i);
  }
  return Status::InvalidArgument(
      "unknown key purpose '" + std::string(name) +
      "' (authentication, assertion, key-agreement, did-update, recovery, es256k, device)");
}

Curve CurveForPurpose(KeyPurpose purpose) {
  switch (purpose) {
    case KeyPurpose::kKeyAgreement:
      return Curve::kCurve25519;
    case KeyPurpose::kEs256k:
      return Curve::kSecp256k1;
    default:
      return Curve::kEd25519;
  }
}

std::string PurposeKeyPath(uint32_t account, KeyPurpose purpose, uint32_t index) {
  return FormatPath({kMedallionPurpose | kHardened, account | kHardened,
                     static_cast<uint32_t>(purpose) | kHardened, index | kHardened});
}

std::string PairwiseKeyPath(uint32_t account, uint32_t relationship, KeyPurpose purpose) {
  MDL_CHECK(relationship < kHardened);
  return FormatPath({kMedallionPurpose | kHardened, account | kHardened, kPairwiseRole | kHardened,
                     relationship | kHardened, static_cast<uint32_t>(purpose) | kHardened});
}

std::string_view SignatureAlgName(SignatureAlg alg) {
  return alg == SignatureAlg::kEdDSA ? "EdDSA" : "ES256K";
}

Result<SignatureAlg> ParseSignatureAlg(std::string_view name) {
  if (name == "EdDSA" || name == "Ed25519") return SignatureAlg::kEdDSA;
  if (name == "ES256K") return SignatureAlg::kES256K;
  return Status::InvalidArgument("unsupported algorithm '" + std::string(name) +
                                 "' (EdDSA, ES256K)");
}

Result<SigningKey> SigningKeyFromExtended(const ExtendedKey& key) {
  if (!key.has_private_key()) return Status::InvalidArgument("key has no private part");
  switch (key.curve()) {
    case Curve::kEd25519:
      return MakeSigningKey(SignatureAlg::kEdDSA, key.private_key().Reveal());
    case Curve::kSecp256k1:
      return MakeSigningKey(SignatureAlg::kES256K, key.private_key().Reveal());
    case Curve::kCurve25519:
      break;
  }
  return Status::InvalidArgument("curve25519 keys are for key agreement, not signing");
}

Result<SigningKey> MakeSigningKey(SignatureAlg alg, ByteView private_key) {
  if (private_key.size() != 32) return Status::InvalidArgument("signing keys are 32 bytes");
  SigningKey out;
  out.alg = alg;
  out.private_key = SecretBytes::CopyFrom(private_key);
  if (alg == SignatureAlg::kEdDSA) {
    out.public_key.resize(crypto_sign_PUBLICKEYBYTES);
    out.expanded = SecretBytes(crypto_sign_SECRETKEYBYTES);
    crypto_sign_seed_keypair(out.public_key.data(), out.expanded.RevealMutable().data(),
                             private_key.data());
    return out;
  }
  secp256k1_pubkey pk;
  if (secp256k1_ec_pubkey_create(Secp256k1Context(), &pk, private_key.data()) != 1) {
    return Status::InvalidArgument("secp256k1: private key out of range");
  }
  out.public_key.resize(33);
  size_t len = 33;
  secp256k1_ec_pubkey_serialize(Secp256k1Context(), out.public_key.data(), &len, &pk,
                                SECP256K1_EC_COMPRESSED);
  return out;
}

Result<SigningKey> DeriveSigningKey(ByteView seed, SignatureAlg alg, std::string_view path) {
  const Curve curve = alg == SignatureAlg::kEdDSA ? Curve::kEd25519 : Curve::kSecp256k1;
  MDL_ASSIGN_OR_RETURN(ExtendedKey k, DeriveFromSeed(curve, seed, path));
  return SigningKeyFromExtended(k);
}

Result<Bytes> Sign(const SigningKey& key, ByteView message) {
  if (key.private_key.size() != 32) return Status::InvalidArgument("signing key must be 32 bytes");
  if (key.alg == SignatureAlg::kEdDSA) {
    Bytes sig(crypto_sign_BYTES);
    if (key.expanded.size() == crypto_sign_SECRETKEYBYTES) {
      crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(),
                           key.expanded.Reveal().data());
      return sig;
    }
    Bytes pk(crypto_sign_PUBLICKEYBYTES);
    SecretBytes sk(crypto_sign_SECRETKEYBYTES);
    crypto_sign_seed_keypair(pk.data(), sk.RevealMutable().data(), key.private_key.Reveal().data());
    crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), sk.Reveal().data());
    return sig;
  }
  Hash256 digest = Sha256(message);
  secp256k1_ecdsa_signature s;
  // secp256k1_ecdsa_sign uses RFC 6979 nonces and always produces low-S signatures.
  if (secp256k1_ecdsa_sign(Secp256k1Context(), &s, digest.data(), key.private_key.Reveal().data(),
                           nullptr, nullptr) != 1) {
    return Status::InvalidArgument("secp256k1: invalid private key");
  }
  Bytes sig(64);
  secp256k1_ecdsa_signature_serialize_compact(Secp256k1Context(), sig.data(), &s);
  return sig;
}

Result<Bytes> CompressSecp256k1PublicKey(ByteView public_key) {
  secp256k1_pubkey pk;
  if (!IsStandardSecp256k1Encoding(public_key) ||
      secp256k1_ec_pubkey_parse(Secp256k1Context(), &pk, public_key.data(), public_key.size()) !=
          1) {
    return Status::InvalidArgument("secp256k1: invalid public key");
  }
  Bytes out(33);
  size_t len = out.size();
  secp256k1_ec_pubkey_serialize(Secp256k1Context(), out.data(), &len, &pk, SECP256K1_EC_COMPRESSED);
  return out;
}

Result<Bytes> DecompressSecp256k1PublicKey(ByteView public_key) {
  secp256k1_pubkey pk;
  if (!IsStandardSecp256k1Encoding(public_key) ||
      secp256k1_ec_pubkey_parse(Secp256k1Context(), &pk, public_key.data(), public_key.size()) !=
          1) {
    return Status::InvalidArgument("secp256k1: invalid public key");
  }
  Bytes out(65);
  size_t len = out.size();
  secp256k1_ec_pubkey_serialize(Secp256k1Context(), out.data(), &len, &pk,
                                SECP256K1_EC_UNCOMPRESSED);
  return out;
}

bool IsValidEd25519PublicKey(ByteView public_key) {
  return public_key.size() == crypto_core_ed25519_BYTES &&
         crypto_core_ed25519_is_valid_point(public_key.data()) == 1;
}

bool IsValidSecp256k1PublicKey(ByteView public_key) {
  secp256k1_pubkey pk;
  return IsStandardSecp256k1Encoding(public_key) &&
         secp256k1_ec_pubkey_parse(Secp256k1Context(), &pk, public_key.data(), public_key.size()) ==
             1;
}

Result<Bytes> SignEd25519WithSeed(ByteView seed, ByteView message) {
  if (seed.size() != crypto_sign_SEEDBYTES)
    return Status::InvalidArgument("Ed25519 seeds are 32 bytes");
  Bytes pk(crypto_sign_PUBLICKEYBYTES);
  SecretBytes sk(crypto_sign_SECRETKEYBYTES);
  crypto_sign_seed_keypair(pk.data(), sk.RevealMutable().data(), seed.data());
  Bytes sig(crypto_sign_BYTES);
  crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), sk.Reveal().data());
  return sig;
}

bool Verify(SignatureAlg alg, ByteView public_key, ByteView message, ByteView signature) {
  if (signature.size() != 64) return false;
  if (alg == SignatureAlg::kEdDSA) {
    if (public_key.size() != crypto_sign_PUBLICKEYBYTES) return false;
    return crypto_sign_verify_detached(signature.data(), message.data(), message.size(),
                                       public_key.data()) == 0;
  }
  secp256k1_pubkey pk;
  if (!IsStandardSecp256k1Encoding(public_key) ||
      secp256k1_ec_pubkey_parse(Secp256k1Context(), &pk, public_key.data(), public_key.size()) !=
          1) {
    return false;
  }
  secp256k1_ecdsa_signature s;
  if (secp256k1_ecdsa_signature_parse_compact(Secp256k1Context(), &s, signature.data()) != 1)
    return false;
  // secp256k1_ecdsa_verify rejects high-S; accept them by normalizing (the signature is
  // still bound to the same key and message, only malleated).
  secp256k1_ecdsa_signature_normalize(Secp256k1Context(), &s, &s);
  Hash256 digest = Sha256(message);
  return secp256k1_ecdsa_verify(Secp256k1Context(), &s, digest.data(), &pk) == 1;
}

}  // namespace medallion::wallet
