// Signed ledger entries: signing by the author, and the node's author validators.
#include "medallion/claims/ledger_entries.h"

#include <string>

#include "medallion/core/bytes.h"
#include "medallion/core/encoding.h"
#include "medallion/core/jcs.h"
#include "medallion/core/json.h"

namespace medallion::claims {

using nlohmann::json;

Result<json> SignLedgerEntry(json entry, const Signer& signer) {
  entry.erase("sig");
  MDL_ASSIGN_OR_RETURN(std::string canonical, jcs::Canonicalize(entry));
  MDL_ASSIGN_OR_RETURN(Bytes sig, signer.sign(AsBytes(canonical)));
  entry["sig"] = Base64UrlEncode(sig);
  return entry;
}

namespace {

// What both kinds of author check need: the entry's type (for messages), its author field's
// text, its 64-byte signature and the canonical bytes it signs.
struct SignedParts {
  std::string type;
  std::string author;
  Bytes sig;
  std::string canonical;
};

Result<SignedParts> ReadSignedParts(const json& body, std::string_view author_field) {
  SignedParts out;
  out.type = OptionalString(body, "type", "entry").value_or("entry");
  const std::string field(author_field);
  auto author = RequiredString(body, field);
  if (!author)
    return Status::InvalidArgument(out.type + ": \"" + field + "\" is required for a signed entry");
  out.author = *author;
  auto sig_text = RequiredString(body, "sig");
  if (!sig_text)
    return Status::InvalidArgument(out.type + ": \"sig\" by \"" + field + "\" is required");
  auto sig = Base64UrlDecode(*sig_text);
  if (!sig || sig->size() != 64)
    return Status::InvalidArgument(out.type + ": sig is a 64-byte signature");
  out.sig = std::move(*sig);
  json unsigned_entry = body;
  unsigned_entry.erase("sig");
  MDL_ASSIGN_OR_RETURN(out.canonical, jcs::Canonicalize(unsigned_entry));
  return out;
}

}  // namespace

Status VerifyLedgerEntrySignature(const json& body, std::string_view author_field,
                                  const did::Resolver& resolver) {
  MDL_ASSIGN_OR_RETURN(SignedParts p, ReadSignedParts(body, author_field));
  const std::string field(author_field);
  did::ResolutionResult r = resolver.Resolve(p.author);
  if (!r.ok())
    return Status::FailedPrecondition(p.type + ": the " + field +
                                      " DID does not resolve here: " + r.error);
  for (const std::string& id : r.document->assertion_method) {
    const did::VerificationMethod* vm = r.document->FindMethod(id);
    if (vm == nullptr) continue;
    if (vm->key_type != did::KeyType::kEd25519 && vm->key_type != did::KeyType::kSecp256k1)
      continue;
    const Alg alg = vm->key_type == did::KeyType::kSecp256k1 ? Alg::kES256K : Alg::kEdDSA;
    if (VerifySignature(alg, vm->public_key, AsBytes(p.canonical), p.sig)) return Status::Ok();
  }
  return Status::PermissionDenied(p.type + ": sig is not by an assertion key of the " + field +
                                  " DID");
}

Status VerifyLedgerEntryKeySignature(const json& body, std::string_view key_field) {
  MDL_ASSIGN_OR_RETURN(SignedParts p, ReadSignedParts(body, key_field));
  const std::string field(key_field);
  auto key = Base64UrlDecode(p.author);
  if (!key || key->size() != 32)
    return Status::InvalidArgument(p.type + ": " + field + " is a 32-byte Ed25519 key");
  if (!VerifySignature(Alg::kEdDSA, *key, AsBytes(p.canonical), p.sig)) {
    return Status::PermissionDenied(p.type + ": sig is not by the " + field + " key");
  }
  return Status::Ok();
}

void RegisterAuthorValidators(ledger::ValidatorRegistry& registry, const did::Resolver& resolver) {
  registry.Register(
      ledger::EntryType::kAnchor, [&resolver](const ledger::Entry&, const json& body) -> Status {
        if (body.contains("by")) return VerifyLedgerEntrySignature(body, "by", resolver);
        if (body.contains("key")) return VerifyLedgerEntryKeySignature(body, "key");
        if (body.contains("sig"))
          return Status::InvalidArgument("anchor: \"sig\" without an author (\"by\" or \"key\")");
        return Status::Ok();  // an anonymous timestamp of a hash
      },
      // Only an anchor with one of these members is checked (parsed) at all.
      {"by", "key", "sig"});
  registry.Register(ledger::EntryType::kConsent, [](const ledger::Entry&, const json& body) {
    return VerifyLedgerEntryKeySignature(body, "controller");
  });
  registry.Register(ledger::EntryType::kStatus,
                    [&resolver](const ledger::Entry&, const json& body) {
                      return VerifyLedgerEntrySignature(body, "issuer", resolver);
                    });
  registry.Register(ledger::EntryType::kDispense,
                    [&resolver](const ledger::Entry&, const json& body) {
                      return VerifyLedgerEntrySignature(body, "pharmacy", resolver);
                    });
}

}  // namespace medallion::claims
