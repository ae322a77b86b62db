// C2SP tlog-checkpoint parsing and tlog-cosignature/1.0 witness cosignatures.
#include "medallion/ledger/checkpoint.h"

#include <charconv>
#include <set>

#include "medallion/core/encoding.h"
#include "medallion/wallet/keys.h"
#include "text_util.h"

namespace medallion::ledger {
namespace {

constexpr uint64_t kMaxTimestamp = (uint64_t{1} << 63) - 1;

// Canonical unsigned decimal: digits only, no leading zero unless "0", <= max.
bool ParseDecimal(std::string_view s, uint64_t max, uint64_t* out) {
  if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0')) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v > max) return false;
  *out = v;
  return true;
}

}  // namespace

std::string Checkpoint::ToText() const {
  std::string out = origin + "\n" + std::to_string(size) + "\n" + Base64Encode(root) + "\n";
  for (const std::string& e : extensions) out += e + "\n";
  return out;
}

Result<Checkpoint> ParseCheckpoint(std::string_view text) {
  if (text.size() > kMaxCheckpointBytes) return Status::InvalidArgument("checkpoint: too large");
  if (!text::IsValidUtf8(text)) return Status::InvalidArgument("checkpoint: not valid UTF-8");
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 && c != '\n') {
      return Status::InvalidArgument("checkpoint: control character");
    }
  }
  if (text.empty() || text.back() != '\n')
    return Status::InvalidArgument("checkpoint: no final newline");
  std::vector<std::string_view> lines;
  for (std::string_view rest = text; !rest.empty();) {
    size_t nl = rest.find('\n');
    lines.push_back(rest.substr(0, nl));
    rest.remove_prefix(nl + 1);
  }
  if (lines.size() < 3) return Status::InvalidArgument("checkpoint: fewer than three lines");
  Checkpoint cp;
  if (lines[0].empty()) return Status::InvalidArgument("checkpoint: empty origin");
  cp.origin = std::string(lines[0]);
  if (!ParseDecimal(lines[1], kMaxTimestamp, &cp.size)) {
    return Status::InvalidArgument("checkpoint: size is not a canonical decimal");
  }
  auto root = Base64Decode(lines[2]);
  if (!root || root->size() != kHashSize) {
    return Status::InvalidArgument("checkpoint: root is not base64 of 32 bytes");
  }
  std::copy(root->begin(), root->end(), cp.root.begin());
  for (size_t i = 3; i < lines.size(); ++i) {
    if (lines[i].empty()) return Status::InvalidArgument("checkpoint: empty extension line");
    cp.extensions.emplace_back(lines[i]);
  }
  return cp;
}

std::string CosignedMessage(std::string_view checkpoint_text, uint64_t timestamp) {
  std::string m = "cosignature/v1\ntime " + std::to_string(timestamp) + "\n";
  m += checkpoint_text;
  return m;
}

Result<uint64_t> CosignatureTimestamp(const NoteSignature& signature) {
  if (signature.signature.size() < 8) return Status::InvalidArgument("cosignature: too short");
  uint64_t t = 0;
  for (int i = 0; i < 8; ++i) t = (t << 8) | signature.signature[i];
  return t;
}

// ---- CosignatureV1Verifier ----

CosignatureV1Verifier::CosignatureV1Verifier(std::string name, ByteView public_key)
    : name_(std::move(name)), public_key_(public_key.begin(), public_key.end()) {
  MDL_CHECK(IsValidNoteKeyName(name_));
  MDL_CHECK(public_key_.size() == kEd25519PublicKeyBytes);
  key_id_ = NoteKeyId(name_, kNoteAlgCosignatureV1, public_key_);
}

Result<CosignatureV1Verifier> CosignatureV1Verifier::FromVerifierKey(std::string_view vkey) {
  // The key field is base64 and may contain '+': split at the first two only.
  size_t p1 = vkey.find('+');
  size_t p2 = p1 == std::string_view::npos ? p1 : vkey.find('+', p1 + 1);
  if (p2 == std::string_view::npos) {
    return Status::InvalidArgument("witness key: want name+id+key");
  }
  std::string_view name = vkey.substr(0, p1), id_hex = vkey.substr(p1 + 1, p2 - p1 - 1);
  if (!IsValidNoteKeyName(name)) return Status::InvalidArgument("witness key: invalid name");
  auto id = HexDecode(id_hex);
  auto key = Base64Decode(vkey.substr(p2 + 1));
  if (!id || id->size() != 4) return Status::InvalidArgument("witness key: bad key ID");
  if (!key || key->size() != 1 + kEd25519PublicKeyBytes || (*key)[0] != kNoteAlgCosignatureV1) {
    return Status::InvalidArgument("witness key: not a cosignature/v1 Ed25519 key");
  }
  CosignatureV1Verifier v{std::string(name), ByteView(*key).subspan(1)};
  uint32_t want = (uint32_t{(*id)[0]} << 24) | (uint32_t{(*id)[1]} << 16) |
                  (uint32_t{(*id)[2]} << 8) | (*id)[3];
  if (v.key_id() != want) return Status::InvalidArgument("witness key: key ID does not match");
  return v;
}

bool CosignatureV1Verifier::Verify(std::string_view text, ByteView signature) const {
  if (signature.size() != 8 + kEd25519SignatureBytes) return false;
  uint64_t t = 0;
  for (int i = 0; i < 8; ++i) t = (t << 8) | signature[i];
  if (t > kMaxTimestamp) return false;
  std::string msg = CosignedMessage(text, t);
  return wallet::Verify(wallet::SignatureAlg::kEdDSA, public_key_, AsBytes(msg),
                        signature.subspan(8));
}

std::string CosignatureV1Verifier::VerifierKey() const {
  Bytes k{kNoteAlgCosignatureV1};
  k.insert(k.end(), public_key_.begin(), public_key_.end());
  uint8_t id[4] = {static_cast<uint8_t>(key_id_ >> 24), static_cast<uint8_t>(key_id_ >> 16),
                   static_cast<uint8_t>(key_id_ >> 8), static_cast<uint8_t>(key_id_)};
  return name_ + "+" + HexEncode(ByteView(id, 4)) + "+" + Base64Encode(k);
}

// ---- CosignatureV1Signer ----

CosignatureV1Signer::CosignatureV1Signer(Ed25519NoteSigner inner)
    : inner_(std::move(inner)),
      key_id_(NoteKeyId(inner_.name(), kNoteAlgCosignatureV1, inner_.public_key())) {}

CosignatureV1Signer CosignatureV1Signer::FromSeed(std::string name, ByteView seed) {
  return CosignatureV1Signer(Ed25519NoteSigner::FromSeed(std::move(name), seed));
}

CosignatureV1Signer CosignatureV1Signer::Generate(std::string name, Rng& rng) {
  return CosignatureV1Signer(Ed25519NoteSigner::Generate(std::move(name), rng));
}

std::string CosignatureV1Signer::SignatureLine(std::string_view checkpoint_text,
                                               uint64_t timestamp) const {
  MDL_CHECK(timestamp <= kMaxTimestamp);
  Bytes payload(8);
  for (int i = 0; i < 8; ++i) payload[i] = static_cast<uint8_t>(timestamp >> (56 - 8 * i));
  Bytes sig = inner_.SignRaw(CosignedMessage(checkpoint_text, timestamp));
  payload.insert(payload.end(), sig.begin(), sig.end());
  return FormatNoteSignatureLine(inner_.name(), key_id_, payload);
}

// ---- Policy ----

Status WitnessPolicy::Check(const VerifiedNote& note) const {
  std::set<std::pair<std::string, uint32_t>> counted;
  for (const CosignatureV1Verifier& w : witnesses) {
    if (counted.count({w.name(), w.key_id()})) continue;
    for (const NoteSignature& s : note.signatures) {
      if (s.name != w.name() || s.key_id != w.key_id()) continue;
      if (!w.Verify(note.text, s.signature)) {
        return Status::Unauthenticated("witness " + w.name() + ": cosignature does not verify");
      }
      counted.insert({w.name(), w.key_id()});
    }
  }
  if (counted.size() < threshold) {
    return Status::Unauthenticated("witness policy: " + std::to_string(counted.size()) + " of " +
                                   std::to_string(threshold) + " required cosignatures");
  }
  return Status::Ok();
}

Result<VerifiedCheckpoint> OpenCheckpoint(std::string_view note, const Ed25519NoteVerifier& log_key,
                                          std::string_view origin, const WitnessPolicy* policy) {
  const NoteVerifier* keys[] = {&log_key};
  MDL_ASSIGN_OR_RETURN(VerifiedNote vn, OpenNote(note, keys));
  MDL_ASSIGN_OR_RETURN(Checkpoint cp, ParseCheckpoint(vn.text));
  if (cp.origin != origin) {
    return Status::FailedPrecondition("checkpoint: origin \"" + cp.origin + "\" is not \"" +
                                      std::string(origin) + "\"");
  }
  VerifiedCheckpoint out;
  if (policy != nullptr) {
    MDL_RETURN_IF_ERROR(policy->Check(vn));
    for (const auto& w : policy->witnesses) {
      for (const auto& s : vn.signatures) {
        if (s.name == w.name() && s.key_id == w.key_id()) out.witnesses.push_back(w.name());
      }
    }
  }
  out.checkpoint = std::move(cp);
  out.note = std::string(note);
  return out;
}

}  // namespace medallion::ledger
