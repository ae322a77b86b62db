// C2SP signed-note parsing, Ed25519 signing and verification (through wallet/keys.h).
#include "medallion/ledger/signed_note.h"

#include <cstdio>
#include <set>

#include "medallion/core/encoding.h"
#include "medallion/core/hash.h"
#include "text_util.h"

namespace medallion::ledger {
namespace {

constexpr std::string_view kSigPrefix = "\xE2\x80\x94 ";  // U+2014 em dash, space

std::string KeyIdHex(uint32_t id) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", id);
  return buf;
}

// Strict lower-case 8-digit hex (Go writes %08x; we also accept upper case like strconv).
bool ParseKeyIdHex(std::string_view s, uint32_t* out) {
  if (s.size() != 8) return false;
  auto b = HexDecode(s);
  if (!b) return false;
  *out = (uint32_t{(*b)[0]} << 24) | (uint32_t{(*b)[1]} << 16) | (uint32_t{(*b)[2]} << 8) | (*b)[3];
  return true;
}

// Splits at the first n-1 '+' signs: the last field is base64 and may itself contain '+'.
std::vector<std::string_view> SplitPlus(std::string_view s, size_t n) {
  std::vector<std::string_view> parts;
  while (parts.size() + 1 < n) {
    size_t p = s.find('+');
    if (p == std::string_view::npos) break;
    parts.push_back(s.substr(0, p));
    s.remove_prefix(p + 1);
  }
  parts.push_back(s);
  return parts;
}

}  // namespace

uint32_t NoteKeyId(std::string_view name, uint8_t alg, ByteView public_key) {
  Bytes buf(name.begin(), name.end());
  buf.push_back(0x0A);
  buf.push_back(alg);
  buf.insert(buf.end(), public_key.begin(), public_key.end());
  Hash256 h = Sha256(buf);
  return (uint32_t{h[0]} << 24) | (uint32_t{h[1]} << 16) | (uint32_t{h[2]} << 8) | h[3];
}

bool IsValidNoteKeyName(std::string_view name) {
  if (name.empty() || name.find('+') != std::string_view::npos) return false;
  size_t i = 0;
  while (i < name.size()) {
    uint32_t cp;
    if (!text::NextCodePoint(name, &i, &cp)) return false;
    if (cp < 0x20 || cp == 0x7F || text::IsUnicodeSpace(cp)) return false;
  }
  return true;
}

std::string FormatNoteSignatureLine(std::string_view name, uint32_t key_id, ByteView signature) {
  Bytes b{static_cast<uint8_t>(key_id >> 24), static_cast<uint8_t>(key_id >> 16),
          static_cast<uint8_t>(key_id >> 8), static_cast<uint8_t>(key_id)};
  b.insert(b.end(), signature.begin(), signature.end());
  std::string line(kSigPrefix);
  line += name;
  line += ' ';
  line += Base64Encode(b);
  line += '\n';
  return line;
}

Result<Note> ParseNote(std::string_view msg) {
  if (msg.size() > kMaxNoteBytes) return Status::InvalidArgument("note: larger than the limit");
  if (!text::IsValidUtf8(msg)) return Status::InvalidArgument("note: not valid UTF-8");
  for (char c : msg) {
    if (static_cast<unsigned char>(c) < 0x20 && c != '\n') {
      return Status::InvalidArgument("note: control character");
    }
  }
  if (msg.empty() || msg.back() != '\n') return Status::InvalidArgument("note: no final newline");
  // The text ends at the last blank line; the signature block follows it.
  size_t split = msg.rfind("\n\n");
  if (split == std::string_view::npos) return Status::InvalidArgument("note: no signature block");
  Note note;
  note.text = std::string(msg.substr(0, split + 1));
  std::string_view sigs = msg.substr(split + 2);
  if (sigs.empty()) return Status::InvalidArgument("note: no signature lines");
  std::set<std::pair<std::string, uint32_t>> seen;
  while (!sigs.empty()) {
    size_t nl = sigs.find('\n');  // exists: msg ends with '\n'
    std::string_view line = sigs.substr(0, nl);
    sigs.remove_prefix(nl + 1);
    if (line.substr(0, kSigPrefix.size()) != kSigPrefix) {
      return Status::InvalidArgument(
          "note: signature line does not start with an em dash and space");
    }
    line.remove_prefix(kSigPrefix.size());
    size_t sp = line.find(' ');
    if (sp == std::string_view::npos)
      return Status::InvalidArgument("note: signature line without a key name");
    std::string_view name = line.substr(0, sp);
    if (!IsValidNoteKeyName(name)) return Status::InvalidArgument("note: invalid key name");
    auto raw = Base64Decode(line.substr(sp + 1));
    if (!raw) return Status::InvalidArgument("note: signature is not canonical base64");
    if (raw->size() < 5) return Status::InvalidArgument("note: signature too short");
    if (note.signatures.size() == kMaxNoteSignatures) {
      return Status::InvalidArgument("note: too many signatures");
    }
    NoteSignature s;
    s.name = std::string(name);
    s.key_id = (uint32_t{(*raw)[0]} << 24) | (uint32_t{(*raw)[1]} << 16) |
               (uint32_t{(*raw)[2]} << 8) | (*raw)[3];
    s.signature.assign(raw->begin() + 4, raw->end());
    if (!seen.emplace(s.name, s.key_id).second) {
      return Status::InvalidArgument("note: two signatures from the same key");
    }
    note.signatures.push_back(std::move(s));
  }
  return note;
}

// ---- Ed25519NoteVerifier ----

Ed25519NoteVerifier::Ed25519NoteVerifier(std::string name, ByteView public_key)
    : name_(std::move(name)), public_key_(public_key.begin(), public_key.end()) {
  MDL_CHECK(IsValidNoteKeyName(name_));
  MDL_CHECK(public_key_.size() == kEd25519PublicKeyBytes);
  key_id_ = NoteKeyId(name_, kNoteAlgEd25519, public_key_);
}

Result<Ed25519NoteVerifier> Ed25519NoteVerifier::FromVerifierKey(std::string_view vkey) {
  auto parts = SplitPlus(vkey, 3);
  if (parts.size() != 3) return Status::InvalidArgument("verifier key: want name+id+key");
  if (!IsValidNoteKeyName(parts[0])) return Status::InvalidArgument("verifier key: invalid name");
  uint32_t id;
  if (!ParseKeyIdHex(parts[1], &id)) return Status::InvalidArgument("verifier key: bad key ID");
  auto key = Base64Decode(parts[2]);
  if (!key || key->size() != 1 + kEd25519PublicKeyBytes) {
    return Status::InvalidArgument("verifier key: bad key encoding");
  }
  if ((*key)[0] != kNoteAlgEd25519)
    return Status::InvalidArgument("verifier key: not an Ed25519 key");
  Ed25519NoteVerifier v{std::string(parts[0]), ByteView(*key).subspan(1)};
  if (v.key_id() != id) return Status::InvalidArgument("verifier key: key ID does not match");
  return v;
}

bool Ed25519NoteVerifier::Verify(std::string_view text, ByteView signature) const {
  if (signature.size() != kEd25519SignatureBytes) return false;
  return wallet::Verify(wallet::SignatureAlg::kEdDSA, public_key_, AsBytes(text), signature);
}

std::string Ed25519NoteVerifier::VerifierKey() const {
  Bytes k{kNoteAlgEd25519};
  k.insert(k.end(), public_key_.begin(), public_key_.end());
  return name_ + "+" + KeyIdHex(key_id_) + "+" + Base64Encode(k);
}

// ---- Ed25519NoteSigner ----

Ed25519NoteSigner Ed25519NoteSigner::FromSeed(std::string name, ByteView seed) {
  MDL_CHECK(IsValidNoteKeyName(name));
  MDL_CHECK(seed.size() == wallet::kEd25519SeedBytes);
  Ed25519NoteSigner s;
  s.name_ = std::move(name);
  auto key = wallet::MakeSigningKey(wallet::SignatureAlg::kEdDSA, seed);
  MDL_CHECK(key.has_value());  // every 32-byte seed is an Ed25519 key
  s.key_ = std::move(key).value();
  s.key_id_ = NoteKeyId(s.name_, kNoteAlgEd25519, s.key_.public_key);
  return s;
}

Ed25519NoteSigner Ed25519NoteSigner::Generate(std::string name, Rng& rng) {
  SecretBytes seed = rng.RandomSecret(wallet::kEd25519SeedBytes);
  return FromSeed(std::move(name), seed.Reveal());
}

Result<Ed25519NoteSigner> Ed25519NoteSigner::FromSignerKey(std::string_view skey) {
  auto parts = SplitPlus(skey, 5);
  if (parts.size() != 5 || parts[0] != "PRIVATE" || parts[1] != "KEY") {
    return Status::InvalidArgument("signer key: want PRIVATE+KEY+name+id+key");
  }
  if (!IsValidNoteKeyName(parts[2])) return Status::InvalidArgument("signer key: invalid name");
  uint32_t id;
  if (!ParseKeyIdHex(parts[3], &id)) return Status::InvalidArgument("signer key: bad key ID");
  auto key = Base64Decode(parts[4]);
  if (!key || key->size() != 1 + wallet::kEd25519SeedBytes || (*key)[0] != kNoteAlgEd25519) {
    if (key) SecureWipe(key->data(), key->size());
    return Status::InvalidArgument("signer key: bad key encoding");
  }
  Ed25519NoteSigner s = FromSeed(std::string(parts[2]), ByteView(*key).subspan(1));
  SecureWipe(key->data(), key->size());
  if (s.key_id() != id) return Status::InvalidArgument("signer key: key ID does not match");
  return s;
}

Bytes Ed25519NoteSigner::SignRaw(std::string_view text) const {
  auto sig = wallet::Sign(key_, AsBytes(text));
  MDL_CHECK(sig.has_value());  // an EdDSA key made by FromSeed always signs
  return std::move(sig).value();
}

std::string Ed25519NoteSigner::SignatureLine(std::string_view text) const {
  return FormatNoteSignatureLine(name_, key_id_, SignRaw(text));
}

std::string Ed25519NoteSigner::SignNote(std::string_view text) const {
  MDL_CHECK(!text.empty() && text.back() == '\n');
  std::string out(text);
  out += '\n';
  out += SignatureLine(text);
  return out;
}

SecretString Ed25519NoteSigner::SignerKey() const {
  Bytes k{kNoteAlgEd25519};
  auto seed = key_.private_key.Reveal();
  k.insert(k.end(), seed.begin(), seed.end());
  SecretString out("PRIVATE+KEY+" + name_ + "+" + KeyIdHex(key_id_) + "+" + Base64Encode(k));
  SecureWipe(k.data(), k.size());
  return out;
}

// ---- OpenNote ----

Result<VerifiedNote> OpenNote(std::string_view message,
                              std::span<const NoteVerifier* const> verifiers) {
  MDL_ASSIGN_OR_RETURN(Note note, ParseNote(message));
  VerifiedNote out;
  for (const NoteSignature& s : note.signatures) {
    const NoteVerifier* v = nullptr;
    for (const NoteVerifier* cand : verifiers) {
      if (cand->key_id() == s.key_id && cand->name() == s.name) {
        v = cand;
        break;
      }
    }
    if (v == nullptr) continue;  // unknown keys are ignored (C2SP signed-note §Signatures)
    if (!v->Verify(note.text, s.signature)) {
      return Status::Unauthenticated("note: signature by " + s.name + " does not verify");
    }
    out.signers.push_back(s.name);
  }
  if (out.signers.empty()) return Status::Unauthenticated("note: no signature from a known key");
  out.text = std::move(note.text);
  out.signatures = std::move(note.signatures);
  return out;
}

}  // namespace medallion::ledger
