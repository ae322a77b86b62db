// Typed ledger entries: canonical JSON (RFC 8785) with a strict schema per type.
//
// The schema is the guarantee that no health data reaches the log: every field is a hash,
// a DID, a pseudonym, a base64url value of bounded size, an enum, an integer or a
// timestamp; unknown fields, nested values, floats and anything over 4 KiB are refused.
// The schemas are documented in docs/ledger.md. Signature and permission rules belong to
// other modules, which register validators here so the ledger does not depend on them.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "medallion/core/status.h"

namespace medallion::ledger {

inline constexpr size_t kMaxEntryBytes = 4096;
inline constexpr int kEntryVersion = 1;

enum class EntryType : int { kDidOp = 0, kAnchor, kConsent, kRelationship, kStatus, kDispense };
inline constexpr int kEntryTypeCount = 6;

// "did.op", "anchor", "consent", "relationship", "status", "dispense".
std::string_view EntryTypeName(EntryType type);
Result<EntryType> EntryTypeFromName(std::string_view name);

// What an entry can be looked up by.
enum class KeyKind : int { kDid = 0, kNullifier = 1, kRelationship = 2, kHash = 3 };
inline constexpr int kKeyKindCount = 4;
std::string_view KeyKindName(KeyKind kind);  // "did", "nullifier", "relationship", "hash"
Result<KeyKind> KeyKindFromName(std::string_view name);

struct EntryKey {
  KeyKind kind;
  std::string value;
  bool operator==(const EntryKey&) const = default;
  auto operator<=>(const EntryKey&) const = default;
};

// An entry that passed its schema. `canonical` is the JCS form: the bytes hashed into the
// leaf (RFC 9162 §2.1.1) and stored.
struct Entry {
  EntryType type = EntryType::kAnchor;
  std::string canonical;
  std::vector<EntryKey> keys;  // DIDs, nullifier, relationship id found in the entry
};

// Parses and checks an entry. invalid_argument, with the type and field in the message, if:
// the text is over kMaxEntryBytes, not strict JSON (duplicate keys, bad UTF-8...), not an
// object, has no known "type", "v" is not 1, a field is unknown, missing, of the wrong kind
// or out of range, or a cross-field rule of the type fails.
Result<Entry> ParseEntry(std::string_view json_text);
Result<Entry> EntryFromJson(const nlohmann::json& value);

// Signature and permission checks per entry type, registered by other modules (did, consent,
// pharmacy...). Each validator sees the schema-checked entry and its parsed body and returns
// OK or its own error (typically permission_denied / unauthenticated). Thread-safe.
class ValidatorRegistry {
 public:
  using Validator = std::function<Status(const Entry& entry, const nlohmann::json& body)>;

  // With `require_all`, a type without any registered validator is refused
  // (failed_precondition); otherwise the schema alone admits it.
  explicit ValidatorRegistry(bool require_all = false) : require_all_(require_all) {}
  // Adds a validator for `type`; all validators of a type must pass, in registration order.
  // With `only_with_members`, the validator runs only for an entry that may have one of those
  // top-level members (its canonical text holds "<name>":), and passes otherwise: an anchor
  // without an author needs no parse to be admitted.
  void Register(EntryType type, Validator validator,
                std::vector<std::string> only_with_members = {});
  // Runs the validators of entry.type (the body is parsed once, if one of them runs).
  Status Validate(const Entry& entry) const;

 private:
  struct Registration {
    Validator validator;
    std::vector<std::string> needles;  // "\"<member>\":" of only_with_members
  };
  bool require_all_;
  mutable std::mutex mu_;
  // Copied on Register, so that Validate holds the lock only to take a reference.
  std::map<EntryType, std::shared_ptr<const std::vector<Registration>>> validators_;
};

}  // namespace medallion::ledger
