// Fuzz target: the ledger's typed entries (ledger/entry.h): ParseEntry's schema check, then the
// validators a ledger node runs before accepting an entry — did:mdl's did.op check
// (did/did_mdl.h) and the author signature validators for anchor, consent, status and dispense
// (claims/ledger_entries.h) with a did:key resolver. A parsed entry's canonical text must parse
// again to the same entry.
#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "medallion/claims/ledger_entries.h"
#include "medallion/core/jcs.h"
#include "medallion/core/json.h"
#include "medallion/did/did_mdl.h"
#include "medallion/did/resolver.h"
#include "medallion/ledger/entry.h"

using namespace medallion;

namespace {

struct Validators {
  did::Resolver resolver;
  claims::Signer author = fuzz::TestSigner(claims::Alg::kEdDSA, 0x21);
  ledger::ValidatorRegistry registry{false};
  Validators() {
    did::mdl::RegisterLedgerValidator(registry);
    claims::RegisterAuthorValidators(registry, resolver);
  }
};

// Schema check, re-parse of the canonical form, validators.
void Check(const Validators* v, std::string_view text) {
  auto entry = ledger::ParseEntry(text);
  if (!entry) return;
  (void)ledger::EntryTypeName(entry->type);
  for (const auto& key : entry->keys) (void)ledger::KeyKindName(key.kind);
  auto again = ledger::ParseEntry(entry->canonical);
  MDL_FUZZ_CHECK(again.has_value());
  MDL_FUZZ_CHECK(again->canonical == entry->canonical);
  MDL_FUZZ_CHECK(again->type == entry->type);
  MDL_FUZZ_CHECK(again->keys == entry->keys);
  (void)v->registry.Validate(*entry);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Validators* v = new Validators();  // process lifetime (LSan: reachable)
  const std::string_view text = fuzz::AsView(data, size);
  Check(v, text);
  // The same object signed by the fixed author (named in the field its type's validator reads),
  // so that entries with a valid signature reach the validators' later checks.
  auto j = ParseJsonObject(text, "the entry");
  if (!j) return 0;
  const std::string type = StringOr(*j, "type");
  const char* field = type == "dispense" ? "pharmacy" : type == "status" ? "issuer" : "by";
  if (!j->contains(field) || (*j)[field].is_string()) (*j)[field] = fuzz::DidOf(v->author);
  j->erase("sig");
  auto signed_entry = claims::SignLedgerEntry(*j, v->author);
  if (!signed_entry) return 0;
  auto canonical = jcs::Canonicalize(*signed_entry);
  if (canonical) Check(v, *canonical);
  return 0;
}
