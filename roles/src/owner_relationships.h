// The owner's relationships (docs/relationships.md) as her container sees them: rebuilt from
// her seed and the ledger, each entry proven against a freshly verified checkpoint. Shared by
// the web app's relationship pages and the authorization server's relationship subjects.
// (Private to roles/.)
#pragma once

#include <string>
#include <vector>

#include "medallion/core/bytes.h"
#include "medallion/core/status.h"
#include "medallion/roles/ledger_client.h"
#include "medallion/uma/relationship.h"

namespace medallion::roles {

// Every relationship of the owner of `seed`: pseudonyms 0, 1, 2, ... looked up until 20 in a
// row are unused (uma::RebuildFromSeed). Errors: the ledger's (unavailable, a bad checkpoint).
Result<std::vector<uma::Relationship>> OwnerRelationships(ByteView seed, LedgerClient& ledger);

// The ids of those relationships whose provider pseudonym is the Ed25519 key of did:key
// `did`, active, accepted by her and not deleted: what the authorization server's relationship
// subjects match (uma::AuthorizationServerOptions::relationships_of). Any other DID has none.
Result<std::vector<std::string>> RelationshipsOfProvider(ByteView seed, LedgerClient& ledger,
                                                         const std::string& did);

}  // namespace medallion::roles
