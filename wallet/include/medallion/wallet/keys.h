// Purpose-scoped and pairwise keys on Medallion's documented derivation paths
// (docs/wallet.md), and signing / verification for Ed25519 (EdDSA) and secp256k1 (ES256K);
// verification only for P-256 (ES256, WebAuthn credentials).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "medallion/core/bytes.h"
#include "medallion/core/secret.h"
#include "medallion/core/status.h"
#include "medallion/wallet/hd_key.h"

namespace medallion::wallet {

// SLIP-10/BIP-32 purpose level of every Medallion path: 0x4D444C = "MDL" (5063756').
inline constexpr uint32_t kMedallionPurpose = 0x4D444C;

// What a key is for. The numeric value is the role level of the derivation path.
enum class KeyPurpose : uint32_t {
  kAuthentication = 0,      // Ed25519: DID authentication, sign-in challenges
  kAssertion = 1,           // Ed25519: credential and prescription signing (assertionMethod)
  kKeyAgreement = 2,        // X25519 (SLIP-10 curve25519): keyAgreement, sealed data locations
  kDidUpdate = 3,           // Ed25519: did:mdl update operations (pre-rotation chain)
  kRecoveryCommitment = 4,  // Ed25519: did:mdl recovery key, committed in the create operation
  kEs256k = 5,              // secp256k1 (BIP-32): ES256K JOSE signatures
  kDevice = 6,  // Ed25519: a paired phone's device key (derived on the phone's own seed)
};
std::string_view KeyPurposeName(KeyPurpose purpose);
Result<KeyPurpose> ParseKeyPurpose(std::string_view name);
Curve CurveForPurpose(KeyPurpose purpose);

// The path of a purpose key: m/5063756'/account'/purpose'/index' (all hardened; secp256k1
// keys too, so no xpub can derive a sibling).
std::string PurposeKeyPath(uint32_t account, KeyPurpose purpose, uint32_t index);
// The pairwise key of relationship number `relationship` (0, 1, 2, ... in creation order,
// so that a restored wallet rediscovers them with a gap limit, like BIP-44 accounts):
// m/5063756'/account'/7'/relationship'/purpose'. REQUIRES: relationship < 2^31.
std::string PairwiseKeyPath(uint32_t account, uint32_t relationship, KeyPurpose purpose);
inline constexpr uint32_t kPairwiseRole = 7;

enum class SignatureAlg { kEdDSA, kES256K };
std::string_view SignatureAlgName(SignatureAlg alg);  // "EdDSA", "ES256K" (JOSE names)
Result<SignatureAlg> ParseSignatureAlg(std::string_view name);

// A key pair for signing. Move-only.
struct SigningKey {
  SignatureAlg alg = SignatureAlg::kEdDSA;
  SecretBytes private_key;  // Ed25519: the 32-byte seed; secp256k1: the 32-byte scalar
  Bytes public_key;         // Ed25519: 32 bytes; secp256k1: 33-byte compressed point
  // Ed25519 only: libsodium's 64-byte expanded secret key, computed once so that signing
  // costs one signature, not a key expansion too (empty until MakeSigningKey fills it).
  SecretBytes expanded;
};

// A signing key from its raw private key (and the public key computed from it).
// Errors: invalid_argument for a key of the wrong length or out of range.
Result<SigningKey> MakeSigningKey(SignatureAlg alg, ByteView private_key);

// Derives the key at `path` from a BIP-39 seed: Ed25519 by SLIP-10, ES256K by BIP-32.
Result<SigningKey> DeriveSigningKey(ByteView seed, SignatureAlg alg, std::string_view path);
// The signing key of an extended key (Ed25519 or secp256k1 with a private part).
Result<SigningKey> SigningKeyFromExtended(const ExtendedKey& key);

// EdDSA: Ed25519 (RFC 8032 §5.1.6) over the message, 64 bytes.
// ES256K: ECDSA over SHA-256(message) with RFC 6979 nonces, 64-byte r||s (RFC 7518 §3.4
// layout; RFC 8812 §3.2), always low-S.
Result<Bytes> Sign(const SigningKey& key, ByteView message);

// True only for a valid signature. ES256K accepts high-S signatures by normalizing them
// first (many signers do not produce low-S). A malformed key or signature is `false`.
bool Verify(SignatureAlg alg, ByteView public_key, ByteView message, ByteView signature);

// Public key of a secp256k1 key in compressed form, from compressed or uncompressed input.
Result<Bytes> CompressSecp256k1PublicKey(ByteView public_key);
// The same key uncompressed (SEC 1 v2 §2.3.3: 0x04 || x || y, 65 bytes), from compressed or
// uncompressed input. Errors: invalid_argument for anything that is not a point on the curve.
Result<Bytes> DecompressSecp256k1PublicKey(ByteView public_key);

// Recoverable ECDSA over secp256k1 on a 32-byte digest the caller computed (Ethereum signs
// Keccak-256 digests: Yellow Paper Appendix F, EIP-155), in wallet/src/recoverable.cpp. The
// recovery id (0..3) names which of the candidate public keys signed (SEC 1 v2 §4.1.6).
struct RecoverableSignature {
  std::array<uint8_t, 32> r{};
  std::array<uint8_t, 32> s{};
  int recovery_id = 0;
};
// Signs `digest` (32 bytes) with the 32-byte scalar `private_key`: RFC 6979 nonces, always low-S
// (s <= n/2, as EIP-2 requires of transactions). Errors: invalid_argument for a digest that is
// not 32 bytes or a key out of range. Thread-safe.
Result<RecoverableSignature> SignSecp256k1Recoverable(ByteView private_key, ByteView digest);
// The uncompressed public key (65 bytes, 0x04 || x || y) that made `signature` over `digest`.
// Errors: invalid_argument for a digest that is not 32 bytes, a recovery id outside 0..3, r or
// s out of range, high-S, or no key recovering. Thread-safe.
Result<Bytes> RecoverSecp256k1PublicKey(ByteView digest, const RecoverableSignature& signature);
// The uncompressed public key (65 bytes) of a 32-byte secp256k1 scalar. Errors: invalid_argument
// for a key of the wrong length or out of range.
Result<Bytes> Secp256k1UncompressedPublicKey(ByteView private_key);

// Sizes of RFC 8032 Ed25519 keys and of the signatures of both algorithms (64 bytes).
inline constexpr size_t kEd25519PublicKeyBytes = 32;
inline constexpr size_t kEd25519SeedBytes = 32;
inline constexpr size_t kSignatureBytes = 64;

// True iff `public_key` is 32 bytes encoding a canonical Ed25519 point of the main subgroup
// that is not of small order (what a signature check can rely on). Thread-safe.
bool IsValidEd25519PublicKey(ByteView public_key);

// True iff `public_key` is a compressed (33 bytes) or uncompressed (65 bytes) SEC 1 encoding of a
// secp256k1 point. Thread-safe.
bool IsValidSecp256k1PublicKey(ByteView public_key);

// ES256 (RFC 7518 §3.4 / RFC 9053 §2.1, COSE alg -7): ECDSA over NIST P-256 with SHA-256,
// through OpenSSL 3 (wallet/src/p256.cpp). Coordinates are 32-byte big-endian integers.
inline constexpr size_t kP256CoordinateBytes = 32;

// True iff (x32, y32) are 32 bytes each and name a point of P-256 (SEC 1 v2 §3.2.2.1: both
// coordinates below the field prime, on the curve, not the point at infinity; the cofactor
// is 1, so any such point is in the group). Thread-safe.
bool IsValidP256PublicKey(ByteView x32, ByteView y32);

// True only for a valid ECDSA P-256 / SHA-256 signature over `message` (hashed here) by the
// key (x32, y32). `der_signature` is an ASN.1 DER ECDSA-Sig-Value (SEC 1 v2 §C.8, the
// WebAuthn §6.5.5 encoding): BER variants, trailing bytes and r or s outside [1, n-1] are
// refused. High-S signatures are accepted (ES256 has no low-S rule and authenticators
// produce both). An invalid key is `false`. Thread-safe.
bool VerifyEs256P256(ByteView x32, ByteView y32, ByteView message, ByteView der_signature);

// Ed25519 over `message` with a key given by its 32-byte seed (RFC 8032 §5.1.5-6), for callers
// that hold a seed rather than a SigningKey. Errors: invalid_argument for a seed that is not
// 32 bytes.
Result<Bytes> SignEd25519WithSeed(ByteView seed, ByteView message);

}  // namespace medallion::wallet
