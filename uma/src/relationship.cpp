// Relationship pointers on the ledger: building, validating, replaying, rebuilding from a seed.
#include "medallion/uma/relationship.h"

#include <optional>
#include <tuple>
#include <utility>

#include <nlohmann/json.hpp>

#include "medallion/core/encoding.h"
#include "medallion/did/did_key.h"
#include "medallion/core/hash.h"
#include "medallion/core/jcs.h"
#include "medallion/core/json.h"
#include "medallion/ledger/entry.h"
#include "medallion/wallet/keys.h"
#include "medallion/wallet/seal.h"

namespace medallion::uma {
namespace {

using nlohmann::json;

Result<Bytes> PseudonymKey(const std::string& pseudonym) {
  MDL_ASSIGN_OR_RETURN(Bytes key, Base64UrlDecode(pseudonym));
  if (key.size() != wallet::kEd25519PublicKeyBytes) {
    return Status::InvalidArgument("a pseudonym is a 32-byte Ed25519 key");
  }
  return key;
}

Result<json> Sign(json entry, const PairwiseKey& key) {
  MDL_ASSIGN_OR_RETURN(std::string canonical, jcs::Canonicalize(entry));
  // PairwiseKey keeps libsodium's 64-byte secret key: its first half is the Ed25519 seed.
  MDL_ASSIGN_OR_RETURN(Bytes sig, wallet::SignEd25519WithSeed(
                                      key.private_key.Reveal().first(wallet::kEd25519SeedBytes),
                                      AsBytes(canonical)));
  entry["sig"] = Base64UrlEncode(sig);
  return entry;
}

// Whose action it is: "a" (the provider) or "b" (the patient).
const char* Actor(const std::string& action) {
  return action == "accept" || action == "reject" || action == "delete" ? "b" : "a";
}

// Whether `entry` (its members already read as `signer` and `sig`) carries a valid Ed25519
// signature by the pseudonym `signer` over its canonical form without "sig".
bool SignedBy(const json& entry, const std::string& signer, const std::string& sig) {
  json body = entry;
  body.erase("sig");
  auto canonical = jcs::Canonicalize(body);
  auto sig_bytes = Base64UrlDecode(sig);
  auto key = PseudonymKey(signer);
  return canonical && sig_bytes && key && sig_bytes->size() == wallet::kSignatureBytes &&
         wallet::Verify(wallet::SignatureAlg::kEdDSA, *key, AsBytes(*canonical), *sig_bytes);
}

// The members of a relationship entry that the validator and Replay read, as strings.
struct EntryMembers {
  std::string rel, a, b, kind, action, sig;
  std::optional<std::string> status, loc, data;  // absent unless present
  // The pseudonym whose action it is (a or b).
  const std::string& Signer() const { return std::string_view(Actor(action)) == "a" ? a : b; }
};

// Reads `e`'s members without throwing. Errors (invalid_argument, naming the member): a
// required member (rel, a, b, kind, action, sig) missing, or any of them of the wrong type.
Result<EntryMembers> ReadMembers(const json& e) {
  EntryMembers m;
  for (auto [name, out] :
       {std::pair{"rel", &m.rel}, std::pair{"a", &m.a}, std::pair{"b", &m.b},
        std::pair{"kind", &m.kind}, std::pair{"action", &m.action}, std::pair{"sig", &m.sig}}) {
    MDL_ASSIGN_OR_RETURN(*out, RequiredString(e, name));
  }
  for (auto [name, out] :
       {std::pair{"status", &m.status}, std::pair{"loc", &m.loc}, std::pair{"data", &m.data}}) {
    if (!e.contains(name)) continue;
    MDL_ASSIGN_OR_RETURN(*out, RequiredString(e, name));
  }
  return m;
}

// The patient's sealed location and salt, opened with her key; {"", ""} if they do not open.
std::pair<std::string, std::string> OpenLocation(const std::string& loc,
                                                 const PairwiseKey& patient) {
  auto sealed = Base64UrlDecode(loc);
  auto key = wallet::MakeSigningKey(wallet::SignatureAlg::kEdDSA,
                                    patient.private_key.Reveal().first(wallet::kEd25519SeedBytes));
  auto plain = sealed && key && sealed->size() > wallet::kSealOverheadBytes
                   ? wallet::OpenSealedToEd25519(*key, *sealed)
                   : Result<SecretBytes>(Status::Unauthenticated("no sealed location"));
  if (!plain) return {};
  const auto bytes = plain->Reveal();
  auto opened =
      ParseJson(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                JsonLimits{1024, 2});
  if (!opened || !opened->is_object()) return {};
  return {OptionalString(*opened, "location").value_or(""),
          OptionalString(*opened, "salt").value_or("")};
}

}  // namespace

std::string PairwiseKey::Pseudonym() const { return Base64UrlEncode(public_key); }

Result<PairwiseKey> DerivePairwiseKey(ByteView seed, uint32_t index) {
  MDL_ASSIGN_OR_RETURN(wallet::SigningKey k,
                       wallet::DeriveSigningKey(
                           seed, wallet::SignatureAlg::kEdDSA,
                           wallet::PairwiseKeyPath(0, index, wallet::KeyPurpose::kAuthentication)));
  PairwiseKey out;
  out.public_key = k.public_key;
  out.private_key = std::move(k.expanded);  // libsodium's 64-byte form (MakeSigningKey fills it)
  return out;
}

Result<PairwiseSigner> DerivePairwiseSigner(ByteView seed, uint32_t index) {
  MDL_ASSIGN_OR_RETURN(wallet::SigningKey k,
                       wallet::DeriveSigningKey(
                           seed, wallet::SignatureAlg::kEdDSA,
                           wallet::PairwiseKeyPath(0, index, wallet::KeyPurpose::kAuthentication)));
  PairwiseSigner out;
  out.key = std::make_shared<wallet::SigningKey>(std::move(k));
  MDL_ASSIGN_OR_RETURN(out.did,
                       did::DidKeyFromPublicKey(did::KeyType::kEd25519, out.key->public_key));
  out.signer = claims::WalletSigner(out.key, out.did + "#" + out.did.substr(8));
  return out;
}

static bool IsLowerHex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string DataCommitment(const std::string& salt, const std::string& data_hash_hex) {
  const Hash256 h =
      Sha256(AsBytes("medallion relationship data v1\n" + salt + "\n" + data_hash_hex));
  return HexEncode(h);
}

std::string RelationshipId(const std::string& patient_pseudonym) {
  const Hash256 h = Sha256(AsBytes("medallion relationship v1\n" + patient_pseudonym));
  return Base64UrlEncode(ByteView(h.data(), 16));
}

Result<json> BuildOpen(const PairwiseKey& provider, const std::string& patient_pseudonym,
                       const std::string& kind, const std::string& location,
                       const std::string& data_hash_hex, int64_t ts) {
  MDL_ASSIGN_OR_RETURN(Bytes patient_key, PseudonymKey(patient_pseudonym));
  // The location is for the patient only: sealed to her pseudonym's X25519 form (RFC 7748 via
  // libsodium's birational map), so the ledger holds ciphertext.
  if (!wallet::Ed25519PublicKeyToX25519(patient_key))
    return Status::InvalidArgument("the patient's pseudonym is not a usable key");
  if (location.empty() || location.size() > 800)
    return Status::InvalidArgument("a location of 1 to 800 bytes");
  if (!IsLowerHex64(data_hash_hex))
    return Status::InvalidArgument("the data hash is 64 lower-case hex digits");
  // The data commitment is salted per relationship (the salt is sealed to the patient with the
  // location), so two relationships over the same data carry unrelated values. The salt is a
  // keyed hash of the relationship id under the provider's pairwise key: fresh for every
  // relationship, never guessable by the ledger's readers.
  const std::string rel = RelationshipId(patient_pseudonym);
  const Hash256 salt_full = HmacSha256(provider.private_key.Reveal(),
                                       AsBytes("medallion relationship data salt\n" + rel));
  const std::string salt = Base64UrlEncode(ByteView(salt_full.data(), 16));
  const std::string plain = json{{"location", location}, {"salt", salt}}.dump();
  MDL_ASSIGN_OR_RETURN(Bytes sealed, wallet::SealToEd25519(patient_key, AsBytes(plain)));
  json entry = {{"type", "relationship"},
                {"v", 1},
                {"rel", rel},
                {"a", provider.Pseudonym()},
                {"b", patient_pseudonym},
                {"kind", kind},
                {"action", "open"},
                {"status", "active"},
                {"loc", Base64UrlEncode(sealed)},
                {"data", DataCommitment(salt, data_hash_hex)},
                {"ts", ts}};
  return Sign(std::move(entry), provider);
}

Result<json> BuildStatus(const PairwiseKey& provider, const std::string& patient_pseudonym,
                         const std::string& kind, const std::string& status, int64_t ts) {
  json entry = {{"type", "relationship"},
                {"v", 1},
                {"rel", RelationshipId(patient_pseudonym)},
                {"a", provider.Pseudonym()},
                {"b", patient_pseudonym},
                {"kind", kind},
                {"action", "status"},
                {"status", status},
                {"ts", ts}};
  return Sign(std::move(entry), provider);
}

Result<json> BuildPatientAction(const PairwiseKey& patient, const std::string& provider_pseudonym,
                                const std::string& kind, const std::string& action, int64_t ts) {
  if (action != "accept" && action != "reject" && action != "delete") {
    return Status::InvalidArgument("the patient accepts, rejects or deletes");
  }
  json entry = {{"type", "relationship"},
                {"v", 1},
                {"rel", RelationshipId(patient.Pseudonym())},
                {"a", provider_pseudonym},
                {"b", patient.Pseudonym()},
                {"kind", kind},
                {"action", action},
                {"ts", ts}};
  return Sign(std::move(entry), patient);
}

void RegisterRelationshipValidator(ledger::ValidatorRegistry& registry) {
  registry.Register(
      ledger::EntryType::kRelationship, [](const ledger::Entry&, const json& body) -> Status {
        auto m = ReadMembers(body);
        if (!m) return Status::InvalidArgument("relationship: " + m.error().message());
        if (m->rel != RelationshipId(m->b)) {
          return Status::InvalidArgument(
              "relationship: rel is not derived from the patient's pseudonym");
        }
        if (!SignedBy(body, m->Signer(), m->sig)) {
          return Status::PermissionDenied(
              std::string("relationship: ") + m->action + " must be signed by " +
              (std::string(Actor(m->action)) == "a" ? "the provider (a)" : "the patient (b)"));
        }
        return Status::Ok();
      });
}

Result<Relationship> Replay(const std::vector<std::pair<uint64_t, std::string>>& entries,
                            const PairwiseKey* patient) {
  Relationship r;
  bool open = false;
  for (const auto& entry : entries) {
    const uint64_t index = entry.first;
    auto ignore = [&r, index](const std::string& why) {
      r.ignored.push_back("index " + std::to_string(index) + ": " + why);
    };
    // Entries come from a ledger the reader does not control: bounded as the ledger bounds them
    // (flat objects of at most kMaxEntryBytes), and every member read without throwing.
    auto e = ParseJson(entry.second, JsonLimits{ledger::kMaxEntryBytes, 4});
    if (!e || OptionalString(*e, "type").value_or("") != "relationship") {
      ignore("not a relationship entry");
      continue;
    }
    auto read = ReadMembers(*e);
    if (!read) {
      ignore("malformed: " + read.error().message());
      continue;
    }
    const EntryMembers& m = *read;
    const std::string& action = m.action;
    if (!SignedBy(*e, m.Signer(), m.sig)) {
      ignore(action + " not signed by its party");
      continue;
    }
    if (r.deleted) {
      ignore("after delete");
      continue;
    }
    if (action == "open") {
      if (open) {
        ignore("a second open");
        continue;
      }
      open = true;
      r.id = m.rel;
      r.provider = m.a;
      r.patient = m.b;
      r.kind = m.kind;
      r.status = m.status.value_or("active");
      r.data_hash = m.data.value_or("");
      if (patient != nullptr && patient->Pseudonym() == r.patient && m.loc) {
        std::tie(r.location, r.data_salt) = OpenLocation(*m.loc, *patient);
      }
      r.indexes.push_back(index);
      continue;
    }
    if (!open) {
      ignore(action + " before open");
      continue;
    }
    if (m.a != r.provider || m.b != r.patient) {
      ignore("names other parties");
      continue;
    }
    if (action == "status") {
      r.status = m.status.value_or(r.status);
    } else if (action == "close") {
      r.status = "ended";
    } else if (action == "accept" || action == "reject") {
      r.patient_decision = action == "accept" ? "accepted" : "rejected";
    } else if (action == "delete") {
      r.deleted = true;
    } else {
      ignore("an unknown action");
      continue;
    }
    r.indexes.push_back(index);
  }
  if (!open) return Status::NotFound("no open entry for this relationship");
  return r;
}

Result<std::vector<Relationship>> RebuildFromSeed(ByteView seed, const RelationshipLookup& lookup,
                                                  uint32_t gap) {
  std::vector<Relationship> out;
  uint32_t empty_run = 0;
  for (uint32_t i = 0; empty_run < gap && i < (1u << 20); ++i) {
    MDL_ASSIGN_OR_RETURN(PairwiseKey key, DerivePairwiseKey(seed, i));
    MDL_ASSIGN_OR_RETURN(auto entries, lookup(RelationshipId(key.Pseudonym())));
    if (entries.empty()) {
      ++empty_run;
      continue;
    }
    empty_run = 0;
    auto r = Replay(entries, &key);
    if (r) out.push_back(std::move(*r));
  }
  return out;
}

}  // namespace medallion::uma
