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

namespace {
// The ids in `all` whose provider pseudonym is `pseudonym`, active, accepted by her and not
// deleted.
std::vector<std::string> ProvidedBy(const std::vector<uma::Relationship>& all,
                                    const std::string& pseudonym) {
  std::vector<std::string> ids;
  for (const uma::Relationship& r : all) {
    if (r.provider == pseudonym && r.status == "active" && r.patient_decision == "accepted" &&
        !r.deleted) {
      ids.push_back(r.id);
    }
  }
  return ids;
}
}  // namespace

Result<std::vector<std::string>> ProviderRelationshipCache::RelationshipsOf(
    const std::string& did) {
  auto key = did::ParseDidKey(did);
  if (!key || key->type != did::KeyType::kEd25519) return std::vector<std::string>{};
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = env_.clock->NowSeconds();
  if (!fetched_at_ || now - *fetched_at_ >= ttl_ || now < *fetched_at_) {
    MDL_ASSIGN_OR_RETURN(view_, OwnerRelationships(seed_->Reveal(), *ledger_));
    fetched_at_ = now;
  }
  return ProvidedBy(view_, Base64UrlEncode(key->public_key));
}

}  // namespace medallion::roles
