// DID resolution over HTTP (DID Resolution §"HTTP(S) Binding": GET /1.0/identifiers/{did})
// and the ledger-backed operation fetcher that did:mdl resolution runs on.
#pragma once

#include <memory>

#include "medallion/did/did_mdl.h"
#include "medallion/did/resolver.h"
#include "medallion/roles/ledger_client.h"

namespace httplib {
class Server;
}

namespace medallion::roles {

// GET /1.0/identifiers/{did}[?versionId=..|versionTime=..|ledgerPosition=..] answers the DID
// Resolution result as application/ld+json;profile="https://w3id.org/did-resolution", with
// 200, or 400 invalidDid / invalidOptions, 404 notFound, 410 deactivated, 501
// methodNotSupported, 500 otherwise. `resolver` must outlive the server.
void RegisterResolverRoutes(httplib::Server& server, const did::Resolver& resolver);

// did:mdl operations from a ledger node through a verifying LedgerClient: refreshes the
// trusted checkpoint (signature, witness policy, consistency), looks the DID up with
// inclusion proofs against it, and keeps the did.op entries. Thread-safe (one client behind
// a mutex).
did::mdl::OpFetcher MakeLedgerOpFetcher(std::shared_ptr<LedgerClient> client);

// "2026-11-23T05:00:00Z" (or with fractional seconds / "+00:00") → POSIX seconds.
Result<int64_t> ParseXmlDateTime(std::string_view text);

}  // namespace medallion::roles
