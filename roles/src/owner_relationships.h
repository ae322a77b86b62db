// The owner's relationships (docs/relationships.md) as her container sees them: rebuilt from
// her seed and the ledger, each entry proven against a freshly verified checkpoint. Shared by
// the web app's relationship pages and the authorization server's relationship subjects.
// (Private to roles/.)
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "medallion/core/bytes.h"
#include "medallion/core/env.h"
#include "medallion/core/secret.h"
#include "medallion/core/status.h"
#include "medallion/roles/ledger_client.h"
#include "medallion/uma/relationship.h"

namespace medallion::roles {

// Every relationship of the owner of `seed`: pseudonyms 0, 1, 2, ... looked up until 20 in a
// row are unused (uma::RebuildFromSeed). Errors: the ledger's (unavailable, a bad checkpoint).
Result<std::vector<uma::Relationship>> OwnerRelationships(ByteView seed, LedgerClient& ledger);

// The ids of the owner's relationships whose provider pseudonym is the Ed25519 key of did:key
// `did`, active, accepted by her and not deleted: what the authorization server's relationship
// subjects match (uma::AuthorizationServerOptions::relationships_of); any other DID has none.
// Answered from a view refreshed at most every `ttl_seconds`: the
// authorization server asks during grants, with its lock held, and a flood of requests must
// not become a flood of ledger lookups. A relationship ended, rejected or deleted stops
// matching within `ttl_seconds`. Thread-safe. `seed` and `ledger` outlive it.
class ProviderRelationshipCache {
 public:
  ProviderRelationshipCache(const SecretBytes* seed, std::shared_ptr<LedgerClient> ledger, Env env,
                            int64_t ttl_seconds = 15)
      : seed_(seed), ledger_(std::move(ledger)), env_(env), ttl_(ttl_seconds) {}
  Result<std::vector<std::string>> RelationshipsOf(const std::string& did);

 private:
  const SecretBytes* seed_;
  std::shared_ptr<LedgerClient> ledger_;
  Env env_;
  int64_t ttl_;
  std::mutex mu_;
  std::optional<int64_t> fetched_at_;  // when view_ was read; none yet
  std::vector<uma::Relationship> view_;
};

}  // namespace medallion::roles
