// Hierarchical deterministic keys: BIP-32 (secp256k1) and SLIP-10 (Ed25519, Curve25519;
// secp256k1 per SLIP-10 is BIP-32 with SLIP-10's retry rule for the ~2^-127 invalid cases).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "medallion/core/bytes.h"
#include "medallion/core/secret.h"
#include "medallion/core/status.h"

namespace medallion::wallet {

enum class Curve { kSecp256k1, kEd25519, kCurve25519 };
std::string_view CurveName(Curve curve);  // "secp256k1", "ed25519", "curve25519"
Result<Curve> ParseCurve(std::string_view name);

inline constexpr uint32_t kHardened = 0x80000000u;

// An extended key: a key, its chain code and its place in the tree. Move-only (the private
// key lives in SecretBytes); Clone() copies explicitly.
class ExtendedKey {
 public:
  Curve curve() const { return curve_; }
  uint8_t depth() const { return depth_; }
  uint32_t parent_fingerprint() const { return parent_fingerprint_; }
  uint32_t child_number() const { return child_number_; }
  ByteView chain_code() const { return chain_code_.Reveal(); }
  bool has_private_key() const { return !private_key_.empty(); }
  // 32 bytes. REQUIRES: has_private_key().
  const SecretBytes& private_key() const;
  // secp256k1: 33-byte compressed point; ed25519 / curve25519: the raw 32-byte key.
  const Bytes& public_key() const { return public_key_; }
  // SLIP-10 serialized public key: secp256k1 compressed; others 0x00 || key (33 bytes).
  Bytes Slip10PublicKey() const;
  // First 32 bits of HASH160(Slip10PublicKey()) (BIP-32 §"Key identifiers").
  uint32_t Fingerprint() const;
  // The same key without its private part. Only secp256k1 keys can derive public children.
  ExtendedKey Neutered() const;
  ExtendedKey Clone() const;

 private:
  friend struct ExtendedKeyAccess;
  Curve curve_ = Curve::kSecp256k1;
  uint8_t depth_ = 0;
  uint32_t parent_fingerprint_ = 0;
  uint32_t child_number_ = 0;
  SecretBytes chain_code_;
  SecretBytes private_key_;
  Bytes public_key_;
};

// BIP-32 §"Master key generation" / SLIP-10 §"Master key generation". `seed` is 16..64
// bytes. Errors: invalid_argument for a seed of another length.
Result<ExtendedKey> MasterKeyFromSeed(Curve curve, ByteView seed);

// BIP-32 §"Child key derivation (CKD) functions" / SLIP-10 §"Private parent key → private
// child key". A key without its private part derives only non-hardened secp256k1 children.
// Errors: invalid_argument for a non-hardened Ed25519/Curve25519 index or a hardened index
// from a public key; failed_precondition at depth 255.
Result<ExtendedKey> DeriveChild(const ExtendedKey& parent, uint32_t index);

// "m/44'/0'/0h/1" → indices. "m" alone is the empty path. Errors: invalid_argument.
Result<std::vector<uint32_t>> ParsePath(std::string_view path);
std::string FormatPath(const std::vector<uint32_t>& path);

Result<ExtendedKey> DerivePath(const ExtendedKey& root, const std::vector<uint32_t>& path);
Result<ExtendedKey> DerivePath(const ExtendedKey& root, std::string_view path);
Result<ExtendedKey> DeriveFromSeed(Curve curve, ByteView seed, std::string_view path);

// BIP-32 §"Serialization format", mainnet versions (xprv 0x0488ADE4, xpub 0x0488B21E).
// REQUIRES: a secp256k1 key (and a private key for the xprv).
SecretString SerializeXprv(const ExtendedKey& key);
std::string SerializeXpub(const ExtendedKey& key);
// Parses an xprv or xpub, rejecting with a reason every invalid key of BIP-32 test vector 5
// (version / key-type mismatch, bad prefixes, zero depth with a parent, key out of range,
// point not on the curve, bad checksum). Errors: invalid_argument.
Result<ExtendedKey> ParseExtendedKey(std::string_view text);

}  // namespace medallion::wallet
