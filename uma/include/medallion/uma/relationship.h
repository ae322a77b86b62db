// Relationships (MedRec's patient–provider contract and summary; docs/relationships.md): a
// pointer on the ledger between two pairwise pseudonyms — each a pairwise Ed25519 public key
// from the party's own seed — carrying the data location sealed to the patient and the hash of
// the shared data. Only the provider (a) opens it and sets its status; only the patient (b)
// accepts, rejects or deletes it. The relationship id is derived from the patient's
// pseudonym, so a patient who loses her container finds every relationship again from her
// seed and the ledger alone.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "medallion/claims/signer.h"
#include "medallion/core/bytes.h"
#include "medallion/core/secret.h"
#include "medallion/core/status.h"
#include "medallion/wallet/keys.h"

namespace medallion::ledger {
class ValidatorRegistry;
}

namespace medallion::uma {

// A party's pairwise key for relationship `index` (wallet path m/5063756'/0'/7'/index'/0').
struct PairwiseKey {
  Bytes public_key;               // Ed25519, 32 bytes
  SecretBytes private_key;        // libsodium's 64-byte secret key
  std::string Pseudonym() const;  // base64url of the public key: what the ledger shows
};
Result<PairwiseKey> DerivePairwiseKey(ByteView seed, uint32_t index);

// The same key as a signer (did-auth claim tokens, SD-JWT key binding): its did:key, the key,
// and a claims::Signer whose verification method is did:key#<multikey>.
struct PairwiseSigner {
  std::string did;
  std::shared_ptr<wallet::SigningKey> key;
  claims::Signer signer;
};
Result<PairwiseSigner> DerivePairwiseSigner(ByteView seed, uint32_t index);

// The relationship id for a patient pseudonym: base64url(SHA-256("medallion relationship v1\n"
// || pseudonym)[0..16]).
std::string RelationshipId(const std::string& patient_pseudonym);

// The `data` of an open entry: hex SHA-256("medallion relationship data v1\n" || salt || "\n" ||
// data_hash_hex), with a per-relationship salt sealed to the patient beside the location, so
// equal data in two relationships does not link them.
std::string DataCommitment(const std::string& salt, const std::string& data_hash_hex);

// Ledger entries (canonical JSON objects, signed). The provider opens with the patient's
// pseudonym (which the patient gave her) and seals `location` to it.
Result<nlohmann::json> BuildOpen(const PairwiseKey& provider, const std::string& patient_pseudonym,
                                 const std::string& kind, const std::string& location,
                                 const std::string& data_hash_hex, int64_t ts);
Result<nlohmann::json> BuildStatus(const PairwiseKey& provider,
                                   const std::string& patient_pseudonym, const std::string& kind,
                                   const std::string& status, int64_t ts);
// action: "accept", "reject" or "delete", by the patient.
Result<nlohmann::json> BuildPatientAction(const PairwiseKey& patient,
                                          const std::string& provider_pseudonym,
                                          const std::string& kind, const std::string& action,
                                          int64_t ts);

// The ledger validator: each entry's signature by the party its action belongs to.
void RegisterRelationshipValidator(ledger::ValidatorRegistry& registry);

// A relationship as its entries, in ledger order, leave it. Entries by the wrong party or out
// of order (anything before `open`, anything after `delete`, a second `open`) are ignored and
// reported, as did:mdl replay does; so are malformed ones (not JSON, not a relationship entry, a
// member missing or of the wrong type, an unknown action). Never throws.
struct Relationship {
  std::string id;
  std::string provider, patient;  // pseudonyms
  std::string kind;
  std::string status;            // the provider's: active, suspended, ended
  std::string patient_decision;  // "", accepted, rejected
  bool deleted = false;
  std::string location;           // opened, for the patient only ("" if not openable)
  std::string data_hash;          // the ledger's `data`: DataCommitment(salt, SHA-256 of the data)
  std::string data_salt;          // opened with the location, for the patient only
  std::vector<uint64_t> indexes;  // the ledger entries applied
  std::vector<std::string> ignored;
};
// `entries`: (ledger index, canonical JSON) under this relationship id. With the patient's
// key, the sealed location is opened.
Result<Relationship> Replay(const std::vector<std::pair<uint64_t, std::string>>& entries,
                            const PairwiseKey* patient);

// Rebuilds a patient's relationships from her seed: pseudonyms 0, 1, 2, ... are derived and
// looked up until `gap` consecutive indexes have nothing on the ledger (BIP-44's gap limit).
using RelationshipLookup =
    std::function<Result<std::vector<std::pair<uint64_t, std::string>>>(const std::string& rel_id)>;
Result<std::vector<Relationship>> RebuildFromSeed(ByteView seed, const RelationshipLookup& lookup,
                                                  uint32_t gap = 20);

}  // namespace medallion::uma
