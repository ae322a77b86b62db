// Signed ledger entries (docs/ledger.md §"Signature and permission rules"): how an author signs
// an entry that names her, and the node-side validators that check those signatures.
//
// An entry's `sig` is the author's signature over the RFC 8785 canonical form of the entry
// without `sig`, by one of the assertion keys of the DID the entry names in its author field
// (`anchor.by`, `status.issuer`, `dispense.pharmacy`), or by the pseudonymous key it carries
// (`anchor.key`, `consent.controller`). EdDSA keys sign the
// bytes; ES256K keys sign their SHA-256 (claims/signer.h).
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "medallion/claims/signer.h"
#include "medallion/core/status.h"
#include "medallion/did/resolver.h"
#include "medallion/ledger/entry.h"

namespace medallion::claims {

// `entry` with "sig" set to `signer`'s base64url signature over its canonical form without
// "sig". Errors: invalid_argument if the entry cannot be canonicalized; the signer's errors.
Result<nlohmann::json> SignLedgerEntry(nlohmann::json entry, const Signer& signer);

// OK if `body["sig"]` is a signature over `body` without "sig" by an assertion key of the DID in
// `body[author_field]`, resolved with `resolver` (as of the log's committed state).
// invalid_argument: sig missing or malformed; failed_precondition: the author does not resolve;
// permission_denied: no assertion key of the author made the signature.
Status VerifyLedgerEntrySignature(const nlohmann::json& body, std::string_view author_field,
                                  const did::Resolver& resolver);

// OK if `body["sig"]` is an Ed25519 signature over `body` without "sig" by the raw public key in
// `body[key_field]` (base64url, 32 bytes): a pseudonymous author that names nobody, who proves
// the key is hers by deriving it (docs/uma.md §Receipts). Errors as above, without resolution.
Status VerifyLedgerEntryKeySignature(const nlohmann::json& body, std::string_view key_field);

// Registers the node-side validators of every entry type that names an author, so that a
// forged, missing or foreign signature is refused before the entry is queued:
//   anchor    `by` (a DID) or `key` (a pseudonymous Ed25519 key) present → `sig` by it;
//             `sig` without an author refused; neither: an anonymous timestamp
//   consent   `sig` by `controller`, a per-receipt pseudonymous Ed25519 key (never a DID)
//   status    `sig` by `issuer`
//   dispense  `sig` by `pharmacy`
// `resolver` must outlive the registry. did.op and relationship have validators of their own
// (did::mdl::RegisterLedgerValidator, uma::RegisterRelationshipValidator).
void RegisterAuthorValidators(ledger::ValidatorRegistry& registry, const did::Resolver& resolver);

}  // namespace medallion::claims
