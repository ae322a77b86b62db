// Signed ledger entries: signing by the author, and the node's author validators.
#include "medallion/claims/ledger_entries.h"

#include <string>

#include "medallion/core/bytes.h"
#include "medallion/core/encoding.h"
#include "medallion/core/jcs.h"

namespace medallion::claims {

using nlohmann::json;

Result<json> SignLedgerEntry(json entry, const Signer& signer) {
  entry.erase("sig");
  MDL_ASSIGN_OR_RETURN(std::string canonical, jcs::Canonicalize(entry));
  MDL_ASSIGN_OR_RETURN(Bytes sig, signer.sign(AsBytes(canonical)));
  entry["sig"] = Base64UrlEncode(sig);
  return entry;
}

Status VerifyLedgerEntrySignature(const json& body, std::string_view author_field, const did::Resolver& resolver) {
  const std::string type = body.is_object() && body.contains("type") && body["type"].is_string()
                               ? body["type"].get<std::string>()
                               : std::string("entry");
  const std::string field(author_field);
  if (!body.is_object() || !body.contains(field) || !body[field].is_string()) {
    return Status::InvalidArgument(type + ": \"" + field + "\" is required for a signed entry");
  }
  if (!body.contains("sig") || !body["sig"].is_string()) {
    return Status::InvalidArgument(type + ": \"sig\" by \"" + field + "\" is required");
  }
  auto sig = Base64UrlDecode(body["sig"].get<std::string>());
  if (!sig || sig->size() != 64) return Status::InvalidArgument(type + ": sig is a 64-byte signature");
  json unsigned_entry = body;
  unsigned_entry.erase("sig");
  MDL_ASSIGN_OR_RETURN(std::string canonical, jcs::Canonicalize(unsigned_entry));
  const std::string author = body[field].get<std::string>();
  did::ResolutionResult r = resolver.Resolve(author);
  if (!r.ok()) return Status::FailedPrecondition(type + ": the " + field + " DID does not resolve here: " + r.error);
  for (const std::string& id : r.document->assertion_method) {
    const did::VerificationMethod* vm = r.document->FindMethod(id);
    if (vm == nullptr) continue;
    if (vm->key_type != did::KeyType::kEd25519 && vm->key_type != did::KeyType::kSecp256k1) continue;
    const Alg alg = vm->key_type == did::KeyType::kSecp256k1 ? Alg::kES256K : Alg::kEdDSA;
    if (VerifySignature(alg, vm->public_key, AsBytes(canonical), *sig)) return Status::Ok();
  }
  return Status::PermissionDenied(type + ": sig is not by an assertion key of the " + field + " DID");
}

Status VerifyLedgerEntryKeySignature(const json& body, std::string_view key_field) {
  const std::string type = body.is_object() && body.contains("type") && body["type"].is_string()
                               ? body["type"].get<std::string>()
                               : std::string("entry");
  const std::string field(key_field);
  if (!body.is_object() || !body.contains(field) || !body[field].is_string()) {
    return Status::InvalidArgument(type + ": \"" + field + "\" is required for a signed entry");
  }
  if (!body.contains("sig") || !body["sig"].is_string()) {
    return Status::InvalidArgument(type + ": \"sig\" by \"" + field + "\" is required");
  }
  auto key = Base64UrlDecode(body[field].get<std::string>());
  if (!key || key->size() != 32) return Status::InvalidArgument(type + ": " + field + " is a 32-byte Ed25519 key");
  auto sig = Base64UrlDecode(body["sig"].get<std::string>());
  if (!sig || sig->size() != 64) return Status::InvalidArgument(type + ": sig is a 64-byte signature");
  json unsigned_entry = body;
  unsigned_entry.erase("sig");
  MDL_ASSIGN_OR_RETURN(std::string canonical, jcs::Canonicalize(unsigned_entry));
  if (!VerifySignature(Alg::kEdDSA, *key, AsBytes(canonical), *sig)) {
    return Status::PermissionDenied(type + ": sig is not by the " + field + " key");
  }
  return Status::Ok();
}

void RegisterAuthorValidators(ledger::ValidatorRegistry& registry, const did::Resolver& resolver) {
  registry.Register(ledger::EntryType::kAnchor, [&resolver](const ledger::Entry&, const json& body) -> Status {
    if (body.contains("by")) return VerifyLedgerEntrySignature(body, "by", resolver);
    if (body.contains("key")) return VerifyLedgerEntryKeySignature(body, "key");
    if (body.contains("sig")) return Status::InvalidArgument("anchor: \"sig\" without an author (\"by\" or \"key\")");
    return Status::Ok();  // an anonymous timestamp of a hash
  });
  registry.Register(ledger::EntryType::kConsent, [](const ledger::Entry&, const json& body) {
    return VerifyLedgerEntryKeySignature(body, "controller");
  });
  registry.Register(ledger::EntryType::kStatus, [&resolver](const ledger::Entry&, const json& body) {
    return VerifyLedgerEntrySignature(body, "issuer", resolver);
  });
  registry.Register(ledger::EntryType::kDispense, [&resolver](const ledger::Entry&, const json& body) {
    return VerifyLedgerEntrySignature(body, "pharmacy", resolver);
  });
}

}  // namespace medallion::claims
