// C2SP signed-note (c2sp.org/signed-note@v1.0.0) with Ed25519 keys.
//
// A note is UTF-8 text ending in a newline, a blank line, and signature lines
// "— <name> base64(key ID || signature)". Key IDs are the first four bytes of
// SHA-256(name || 0x0A || signature type || public key). Verifier keys are written
// "<name>+<hex key ID>+base64(type || public key)", signer keys
// "PRIVATE+KEY+<name>+<hex key ID>+base64(type || 32-byte seed)" (Go sumdb/note).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "medallion/core/bytes.h"
#include "medallion/core/env.h"
#include "medallion/core/secret.h"
#include "medallion/core/status.h"
#include "medallion/wallet/keys.h"

namespace medallion::ledger {

// Signature type identifier bytes (C2SP signed-note §Signature types).
inline constexpr uint8_t kNoteAlgEd25519 = 0x01;
inline constexpr uint8_t kNoteAlgCosignatureV1 = 0x04;  // c2sp.org/tlog-cosignature
inline constexpr size_t kEd25519PublicKeyBytes = 32;
inline constexpr size_t kEd25519SignatureBytes = 64;
// Limits on untrusted notes: the spec requires accepting at least 16 signatures.
inline constexpr size_t kMaxNoteBytes = 64 * 1024;
inline constexpr size_t kMaxNoteSignatures = 100;

// First four bytes, big-endian, of SHA-256(name || 0x0A || alg || public_key).
uint32_t NoteKeyId(std::string_view name, uint8_t alg, ByteView public_key);
// Non-empty, valid UTF-8, no Unicode spaces, no '+', no control characters.
bool IsValidNoteKeyName(std::string_view name);

struct NoteSignature {
  std::string name;
  uint32_t key_id = 0;
  Bytes signature;  // the bytes after the key ID
};

struct Note {
  std::string text;  // includes the final newline, not the blank line
  std::vector<NoteSignature> signatures;
};

// Splits a signed note into text and signature lines without verifying anything.
// invalid_argument for a malformed note: not UTF-8, control characters, no final newline,
// no blank line, a malformed signature line, too large or too many signatures.
Result<Note> ParseNote(std::string_view message);
// "— <name> base64(key_id || signature)\n".
std::string FormatNoteSignatureLine(std::string_view name, uint32_t key_id, ByteView signature);

// A public key that can check one kind of note signature.
class NoteVerifier {
 public:
  virtual ~NoteVerifier() = default;
  virtual const std::string& name() const = 0;
  virtual uint32_t key_id() const = 0;
  // True iff `signature` (without the key ID) is valid over `text`. Thread-safe.
  virtual bool Verify(std::string_view text, ByteView signature) const = 0;
};

// An Ed25519 note key (signature type 0x01).
class Ed25519NoteVerifier final : public NoteVerifier {
 public:
  // REQUIRES: IsValidNoteKeyName(name), public_key is 32 bytes.
  Ed25519NoteVerifier(std::string name, ByteView public_key);
  // Parses "<name>+<hex id>+base64(0x01 || key)"; invalid_argument if malformed, of another
  // type, or if the key ID does not match the name and key.
  static Result<Ed25519NoteVerifier> FromVerifierKey(std::string_view vkey);

  const std::string& name() const override { return name_; }
  uint32_t key_id() const override { return key_id_; }
  bool Verify(std::string_view text, ByteView signature) const override;
  const Bytes& public_key() const { return public_key_; }
  std::string VerifierKey() const;

 private:
  std::string name_;
  Bytes public_key_;
  uint32_t key_id_;
};

// An Ed25519 note signing key. Not copyable (the seed is a SecretBytes).
class Ed25519NoteSigner {
 public:
  // A new key from `rng`. REQUIRES: IsValidNoteKeyName(name).
  static Ed25519NoteSigner Generate(std::string name, Rng& rng);
  // From a 32-byte seed. REQUIRES: IsValidNoteKeyName(name), seed is 32 bytes.
  static Ed25519NoteSigner FromSeed(std::string name, ByteView seed);
  // Parses "PRIVATE+KEY+<name>+<hex id>+base64(0x01 || seed)"; invalid_argument if malformed
  // or if the key ID does not match.
  static Result<Ed25519NoteSigner> FromSignerKey(std::string_view skey);

  const std::string& name() const { return name_; }
  uint32_t key_id() const { return key_id_; }
  const Bytes& public_key() const { return key_.public_key; }
  Ed25519NoteVerifier Verifier() const { return {name_, key_.public_key}; }
  // The raw Ed25519 signature over `text`.
  Bytes SignRaw(std::string_view text) const;
  // The signature line for `text`: "— name base64(id || sig)\n".
  std::string SignatureLine(std::string_view text) const;
  // text + "\n" + signature line. REQUIRES: text ends with '\n'.
  std::string SignNote(std::string_view text) const;
  SecretString SignerKey() const;

 private:
  Ed25519NoteSigner() = default;
  std::string name_;
  wallet::SigningKey key_;  // EdDSA: the seed, its public key and expanded key
  uint32_t key_id_ = 0;
};

struct VerifiedNote {
  std::string text;
  // The names of the known keys whose signatures verified, in note order.
  std::vector<std::string> signers;
  // Every signature line, verified or not (for carrying cosignatures along).
  std::vector<NoteSignature> signatures;
};

// C2SP signed-note §Signatures: parses `message`, ignores signatures from unknown keys
// (name and key ID must both match), verifies every signature from a known key. A known key
// signing twice or a known key's signature that fails is unauthenticated (the whole note is
// rejected); so is a note with no verified signature. Malformed notes are invalid_argument.
Result<VerifiedNote> OpenNote(std::string_view message,
                              std::span<const NoteVerifier* const> verifiers);

}  // namespace medallion::ledger
