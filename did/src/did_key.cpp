// did:key encoding and parsing (did-method-key, multibase base58btc, multicodec).
#include "medallion/did/did_key.h"

#include "medallion/core/encoding.h"
#include "medallion/wallet/keys.h"
#include "medallion/wallet/seal.h"

namespace medallion::did {
namespace {

uint64_t CodecOf(KeyType type) {
  switch (type) {
    case KeyType::kEd25519:
      return multicodec::kEd25519Pub;
    case KeyType::kSecp256k1:
      return multicodec::kSecp256k1Pub;
    case KeyType::kX25519:
      return multicodec::kX25519Pub;
  }
  return 0;
}

bool ValidSecp256k1Point(ByteView key) {
  return key.size() == 33 && wallet::IsValidSecp256k1PublicKey(key);
}

Status CheckKey(KeyType type, ByteView key) {
  switch (type) {
    case KeyType::kEd25519:
      if (key.size() != 32) return Status::InvalidArgument("Ed25519 keys are 32 bytes");
      // Canonical, on the curve, in the main subgroup, not of small order (libsodium).
      if (!wallet::IsValidEd25519PublicKey(key)) {
        return Status::InvalidArgument(
            "Ed25519 key is not a canonical point of the main subgroup (small order, non-canonical "
            "or off the curve)");
      }
      return Status::Ok();
    case KeyType::kX25519:
      if (key.size() != 32) return Status::InvalidArgument("X25519 keys are 32 bytes");
      return Status::Ok();
    case KeyType::kSecp256k1:
      if (!ValidSecp256k1Point(key))
        return Status::InvalidArgument("not a compressed secp256k1 public key");
      return Status::Ok();
  }
  return Status::InvalidArgument("unknown key type");
}

}  // namespace

std::string_view KeyTypeName(KeyType type) {
  switch (type) {
    case KeyType::kEd25519:
      return "Ed25519";
    case KeyType::kSecp256k1:
      return "secp256k1";
    case KeyType::kX25519:
      return "X25519";
  }
  return "unknown";
}

Result<std::string> MultikeyFromPublicKey(KeyType type, ByteView public_key) {
  MDL_RETURN_IF_ERROR(CheckKey(type, public_key));
  return MultibaseEncode(Multibase::kBase58Btc, MulticodecWrap(CodecOf(type), public_key));
}

Result<std::string> DidKeyFromPublicKey(KeyType type, ByteView public_key) {
  MDL_ASSIGN_OR_RETURN(std::string mb, MultikeyFromPublicKey(type, public_key));
  return "did:key:" + mb;
}

Result<DidKey> ParseMultikey(std::string_view multibase) {
  if (multibase.empty() || multibase[0] != 'z') {
    return Status::InvalidArgument("did:key: the identifier must be base58btc multibase ('z')");
  }
  MDL_ASSIGN_OR_RETURN(Bytes raw, MultibaseDecode(multibase));
  MDL_ASSIGN_OR_RETURN(MulticodecValue mc, MulticodecUnwrap(raw));
  KeyType type;
  switch (mc.code) {
    case multicodec::kEd25519Pub:
      type = KeyType::kEd25519;
      break;
    case multicodec::kSecp256k1Pub:
      type = KeyType::kSecp256k1;
      break;
    case multicodec::kX25519Pub:
      type = KeyType::kX25519;
      break;
    default:
      return Status::InvalidArgument("did:key: unsupported multicodec 0x" +
                                     HexEncode(VarintEncode(mc.code)));
  }
  MDL_RETURN_IF_ERROR(CheckKey(type, mc.data));
  return DidKey{type, std::move(mc.data), std::string(multibase)};
}

Result<DidKey> ParseDidKey(std::string_view did) {
  constexpr std::string_view kPrefix = "did:key:";
  if (did.substr(0, kPrefix.size()) != kPrefix) return Status::InvalidArgument("not a did:key");
  std::string_view id = did.substr(kPrefix.size());
  if (id.find_first_of("#?/") != std::string_view::npos) {
    return Status::InvalidArgument("did:key: a DID has no path, query or fragment");
  }
  return ParseMultikey(id);
}

Result<Bytes> Ed25519ToX25519PublicKey(ByteView ed25519_public_key) {
  return wallet::Ed25519PublicKeyToX25519(ed25519_public_key);
}

}  // namespace medallion::did
