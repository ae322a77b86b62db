#include "owner_relationships.h"

#include <utility>

#include "medallion/core/encoding.h"
#include "medallion/did/did_key.h"

namespace medallion::roles {

Result<std::vector<uma::Relationship>> OwnerRelationships(ByteView seed, LedgerClient& ledger) {
  MDL_RETURN_IF_ERROR(ledger.Refresh().status());
  return uma::RebuildFromSeed(
      seed,
      [&ledger](const std::string& id) -> Result<std::vector<std::pair<uint64_t, std::string>>> {
        MDL_ASSIGN_OR_RETURN(auto proven, ledger.Lookup({ledger::KeyKind::kRelationship, id}));
        std::vector<std::pair<uint64_t, std::string>> out;
        for (auto& e : proven) out.emplace_back(e.index, e.entry);
        return out;
      });
}

Result<std::vector<std::string>> RelationshipsOfProvider(ByteView seed, LedgerClient& ledger,
                                                         const std::string& did) {
  std::vector<std::string> ids;
  auto key = did::ParseDidKey(did);
  if (!key || key->type != did::KeyType::kEd25519) return ids;
  const std::string pseudonym = Base64UrlEncode(key->public_key);
  MDL_ASSIGN_OR_RETURN(std::vector<uma::Relationship> all, OwnerRelationships(seed, ledger));
  for (const uma::Relationship& r : all) {
    if (r.provider == pseudonym && r.status == "active" && r.patient_decision == "accepted" &&
        !r.deleted) {
      ids.push_back(r.id);
    }
  }
  return ids;
}

}  // namespace medallion::roles
