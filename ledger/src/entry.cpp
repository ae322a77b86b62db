// Entry schemas (see docs/ledger.md) and the validator registry.
#include "medallion/ledger/entry.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <optional>
#include <set>

#include "medallion/core/encoding.h"
#include "medallion/core/jcs.h"

namespace medallion::ledger {
namespace {

using nlohmann::json;

constexpr uint64_t kMaxSafeInteger = (uint64_t{1} << 53) - 1;  // exact in a double (RFC 8785)

enum class Kind { kDid, kHash, kB64u, kEnum, kUint, kTime, kUrl };

struct Field {
  const char* name;
  Kind kind;
  bool required;
  std::vector<std::string_view> values = {};  // kEnum
  uint64_t min = 0;                           // kB64u: decoded bytes; kUint: value
  uint64_t max = 0;
  std::optional<KeyKind> key = std::nullopt;  // lookup key this field provides
};

// Pseudonyms and identifiers: 16 to 64 random bytes, base64url.
Field Pseudonym(const char* name, bool req = true) { return {name, Kind::kB64u, req, {}, 16, 64}; }
// Raw signatures (Ed25519: 64, ECDSA P-256 / secp256k1 r||s: 64), up to 128 bytes.
Field Sig(bool req = true) { return {"sig", Kind::kB64u, req, {}, 64, 128}; }
// A raw Ed25519 public key used as a pseudonymous signer (32 bytes).
Field Ed25519Key(const char* name, bool req = true) { return {name, Kind::kB64u, req, {}, 32, 32}; }
Field Time(const char* name, bool req = true) {
  return {name, Kind::kTime, req, {}, 0, kMaxSafeInteger};
}
Field HashF(const char* name, bool req = true, std::optional<KeyKind> key = std::nullopt) {
  return {name, Kind::kHash, req, {}, 0, 0, key};
}
Field Did(const char* name, bool req = true) {
  return {name, Kind::kDid, req, {}, 0, 0, KeyKind::kDid};
}
Field Enum(const char* name, std::vector<std::string_view> values, bool req = true) {
  return {name, Kind::kEnum, req, std::move(values)};
}

using CrossCheck = std::function<Status(const json&)>;

struct Schema {
  EntryType type;
  std::vector<Field> fields;
  CrossCheck cross = nullptr;
};

bool Has(const json& j, const char* k) { return j.contains(k); }
uint64_t U(const json& j, const char* k) { return j.at(k).get<uint64_t>(); }

const std::vector<Schema>& Schemas() {
  static const std::vector<Schema> kSchemas = {
      // did:mdl operations (docs/did-mdl.md). Keys are base64url multicodec public keys:
      // Ed25519 0xed01 + 32 bytes (34), X25519 0xec01 + 32 (34), secp256k1 0xe701 + 33 (35).
      {EntryType::kDidOp,
       {Did("did"),
        Enum("op", {"create", "update", "recover", "deactivate"}),
        {"seq", Kind::kUint, true, {}, 0, kMaxSafeInteger},
        HashF("prev", false),
        {"key", Kind::kB64u, true, {}, 34, 34},
        HashF("next", false),
        HashF("recovery", false),
        {"auth", Kind::kB64u, false, {}, 34, 34},
        {"assert", Kind::kB64u, false, {}, 34, 34},
        {"agree", Kind::kB64u, false, {}, 34, 34},
        {"es256k", Kind::kB64u, false, {}, 35, 35},
        {"device", Kind::kB64u, false, {}, 34, 34},
        {"service", Kind::kUrl, false},
        Sig(),
        Time("ts")},
       [](const json& j) -> Status {
         const std::string op = j.at("op");
         if (op == "create") {
           if (U(j, "seq") != 0) return Status::InvalidArgument("create must have seq 0");
           if (Has(j, "prev")) return Status::InvalidArgument("create must not have prev");
         } else if (!Has(j, "prev") || U(j, "seq") == 0) {
           return Status::InvalidArgument(op + " needs prev and seq > 0");
         }
         const bool deactivate = op == "deactivate";
         for (const char* f : {"next", "auth", "assert"}) {
           if (Has(j, f) == deactivate) {
             return Status::InvalidArgument(
                 std::string(f) + " is required except for deactivate, where it is refused");
           }
         }
         if (deactivate) {
           for (const char* f : {"agree", "es256k", "device", "service"}) {
             if (Has(j, f))
               return Status::InvalidArgument(std::string("deactivate carries no ") + f);
           }
         }
         const bool needs_recovery = op == "create" || op == "recover";
         if (Has(j, "recovery") != needs_recovery) {
           return Status::InvalidArgument(
               "recovery is required for create and recover and refused otherwise");
         }
         return Status::Ok();
       }},
      {EntryType::kAnchor,
       {HashF("hash", true, KeyKind::kHash),
        Enum("kind", {"credential", "document", "batch", "status_list", "key_event"}),
        Did("by", false), Ed25519Key("key", false), Sig(false), Time("ts")},
       [](const json& j) -> Status {
         // The author is a DID (`by`) or a pseudonymous key (`key`), never both; `sig` exactly
         // when there is an author (checked by the registered validator).
         if (Has(j, "by") && Has(j, "key"))
           return Status::InvalidArgument("an anchor has \"by\" or \"key\", not both");
         if (Has(j, "sig") != (Has(j, "by") || Has(j, "key"))) {
           return Status::InvalidArgument(
               "an anchor has \"sig\" exactly when it has an author (\"by\" or \"key\")");
         }
         return Status::Ok();
       }},
      {EntryType::kConsent,
       {HashF("receipt"), Pseudonym("subject"), Ed25519Key("controller"),
        Enum("purpose",
             {"treatment", "research", "payment", "operations", "public_health", "emergency"}),
        Enum("action", {"grant", "revoke"}), HashF("scope"), Time("expires", false), Sig(),
        Time("ts")},
       [](const json& j) -> Status {
         if (Has(j, "expires") && U(j, "expires") <= U(j, "ts")) {
           return Status::InvalidArgument("expires must be after ts");
         }
         if (j.at("action") == "revoke" && Has(j, "expires")) {
           return Status::InvalidArgument("a revocation has no expiry");
         }
         return Status::Ok();
       }},
      {EntryType::kRelationship,
       {{"rel", Kind::kB64u, true, {}, 16, 32, KeyKind::kRelationship},
        Pseudonym("a"),
        Pseudonym("b"),
        Enum("kind", {"patient_provider", "guardian", "delegate", "care_team"}),
        // open/status/close by the provider (a); accept/reject/delete by the patient (b).
        Enum("action", {"open", "status", "close", "accept", "reject", "delete"}),
        Enum("status", {"active", "suspended", "ended"}, false),
        {"loc", Kind::kB64u, false, {}, 48, 1024},  // the data location, sealed to the patient
                                                    // (open)
        HashF("data", false),                       // hash of the shared data subset (open)
        Sig(),
        Time("ts")},
       [](const json& j) -> Status {
         if (j.at("a") == j.at("b")) return Status::InvalidArgument("a and b must differ");
         const std::string action = j.at("action");
         if (action == "status" && !Has(j, "status"))
           return Status::InvalidArgument("a status entry names the status");
         if (action != "open" && (Has(j, "loc") || Has(j, "data"))) {
           return Status::InvalidArgument("loc and data belong to open");
         }
         if (action != "open" && action != "status" && Has(j, "status")) {
           return Status::InvalidArgument(
               "only the provider's open and status entries carry a status");
         }
         return Status::Ok();
       }},
      {EntryType::kStatus,
       {HashF("credential"),
        Did("issuer"),
        Enum("status", {"active", "suspended", "revoked"}),
        HashF("list", false),
        {"index", Kind::kUint, false, {}, 0, kMaxSafeInteger},
        Sig(),
        Time("ts")},
       [](const json& j) -> Status {
         if (Has(j, "list") != Has(j, "index"))
           return Status::InvalidArgument("list and index go together");
         return Status::Ok();
       }},
      {EntryType::kDispense,
       {HashF("nullifier", true, KeyKind::kNullifier),
        HashF("rx"),
        Did("pharmacy"),
        {"qty", Kind::kUint, true, {}, 1, 10000},
        Sig(),
        Time("ts")}},
  };
  return kSchemas;
}

// W3C DID Core §3.1: "did:" method-name ":" method-specific-id; no path, query or fragment.
bool IsDid(const std::string& s) {
  if (s.size() < 7 || s.size() > 256 || s.compare(0, 4, "did:") != 0) return false;
  size_t colon = s.find(':', 4);
  if (colon == std::string::npos || colon == 4) return false;
  for (size_t i = 4; i < colon; ++i) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  }
  if (colon + 1 >= s.size() || s.back() == ':') return false;
  for (size_t i = colon + 1; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_' || c == ':';
    if (c == '%') {
      ok = i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
           std::isxdigit(static_cast<unsigned char>(s[i + 2]));
    }
    if (!ok) return false;
  }
  return true;
}

// A service endpoint: https://host[:port][/path] with a conservative character set, no
// userinfo, query or fragment; plain http only for loopback hosts. At most 200 characters.
bool IsServiceUrl(const std::string& s) {
  if (s.size() > 200) return false;
  std::string rest;
  bool https = false;
  if (s.rfind("https://", 0) == 0) {
    https = true;
    rest = s.substr(8);
  } else if (s.rfind("http://", 0) == 0) {
    rest = s.substr(7);
  } else {
    return false;
  }
  const size_t slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  const std::string path = slash == std::string::npos ? "" : rest.substr(slash);
  const size_t colon = authority.rfind(':');
  const std::string host = authority.substr(0, colon);
  if (host.empty() || host.size() > 253) return false;
  for (char c : host) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-')) return false;
  }
  if (colon != std::string::npos) {
    const std::string port = authority.substr(colon + 1);
    if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit) ||
        std::stoi(port) > 65535) {
      return false;
    }
  }
  for (char c : path) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '.' || c == '-' ||
          c == '_' || c == '~')) {
      return false;
    }
  }
  if (path.find("..") != std::string::npos) return false;
  return https || host == "127.0.0.1" || host == "localhost";
}

bool IsLowerHex32(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string Join(const std::vector<std::string_view>& v) {
  std::string out;
  for (auto s : v) out += (out.empty() ? "" : ", ") + std::string(s);
  return out;
}

Status CheckField(const Field& f, const json& v) {
  const std::string name = f.name;
  switch (f.kind) {
    case Kind::kUint:
    case Kind::kTime: {
      if (!v.is_number_integer() ||
          (v.is_number_integer() && !v.is_number_unsigned() && v.get<int64_t>() < 0)) {
        return Status::InvalidArgument("field \"" + name + "\" must be a non-negative integer");
      }
      uint64_t x = v.get<uint64_t>();
      uint64_t max = f.max ? f.max : kMaxSafeInteger;
      if (x < f.min || x > max) {
        return Status::InvalidArgument("field \"" + name + "\" must be in [" +
                                       std::to_string(f.min) + ", " + std::to_string(max) + "]");
      }
      return Status::Ok();
    }
    default:
      break;
  }
  if (!v.is_string()) return Status::InvalidArgument("field \"" + name + "\" must be a string");
  const std::string& s = v.get_ref<const std::string&>();
  switch (f.kind) {
    case Kind::kDid:
      if (!IsDid(s))
        return Status::InvalidArgument("field \"" + name +
                                       "\" must be a DID without path, query or fragment");
      break;
    case Kind::kUrl:
      if (!IsServiceUrl(s)) {
        return Status::InvalidArgument("field \"" + name +
                                       "\" must be an https URL (http only on loopback), no query");
      }
      break;
    case Kind::kHash:
      if (!IsLowerHex32(s))
        return Status::InvalidArgument("field \"" + name + "\" must be 64 lower-case hex digits");
      break;
    case Kind::kB64u: {
      auto b = Base64UrlDecode(s);
      if (!b || b->size() < f.min || b->size() > f.max) {
        return Status::InvalidArgument("field \"" + name + "\" must be base64url (no padding) of " +
                                       std::to_string(f.min) + ".." + std::to_string(f.max) +
                                       " bytes");
      }
      break;
    }
    case Kind::kEnum:
      if (std::find(f.values.begin(), f.values.end(), s) == f.values.end()) {
        return Status::InvalidArgument("field \"" + name + "\" must be one of: " + Join(f.values));
      }
      break;
    default:
      break;
  }
  return Status::Ok();
}

Status Prefix(std::string_view type, const Status& s) {
  return Status(s.code(), "entry " + std::string(type) + ": " + s.message());
}

}  // namespace

std::string_view EntryTypeName(EntryType type) {
  switch (type) {
    case EntryType::kDidOp:
      return "did.op";
    case EntryType::kAnchor:
      return "anchor";
    case EntryType::kConsent:
      return "consent";
    case EntryType::kRelationship:
      return "relationship";
    case EntryType::kStatus:
      return "status";
    case EntryType::kDispense:
      return "dispense";
  }
  Panic("bad EntryType");
}

Result<EntryType> EntryTypeFromName(std::string_view name) {
  for (int i = 0; i < kEntryTypeCount; ++i) {
    if (EntryTypeName(static_cast<EntryType>(i)) == name) return static_cast<EntryType>(i);
  }
  return Status::InvalidArgument("unknown entry type \"" + std::string(name) + "\"");
}

std::string_view KeyKindName(KeyKind kind) {
  switch (kind) {
    case KeyKind::kDid:
      return "did";
    case KeyKind::kNullifier:
      return "nullifier";
    case KeyKind::kRelationship:
      return "relationship";
    case KeyKind::kHash:
      return "hash";
  }
  Panic("bad KeyKind");
}

Result<KeyKind> KeyKindFromName(std::string_view name) {
  for (int i = 0; i < kKeyKindCount; ++i) {
    if (KeyKindName(static_cast<KeyKind>(i)) == name) return static_cast<KeyKind>(i);
  }
  return Status::InvalidArgument("unknown key kind \"" + std::string(name) + "\"");
}

Result<Entry> ParseEntry(std::string_view json_text) {
  if (json_text.size() > kMaxEntryBytes) {
    return Status::InvalidArgument("entry: " + std::to_string(json_text.size()) + " bytes, limit " +
                                   std::to_string(kMaxEntryBytes));
  }
  auto parsed = jcs::ParseStrict(json_text);
  if (!parsed)
    return Status::InvalidArgument("entry: not strict JSON: " + parsed.error().message());
  return EntryFromJson(*parsed);
}

Result<Entry> EntryFromJson(const json& j) {
  if (!j.is_object()) return Status::InvalidArgument("entry: must be a JSON object");
  auto t = j.find("type");
  if (t == j.end() || !t->is_string()) return Status::InvalidArgument("entry: missing \"type\"");
  const std::string type_name = t->get<std::string>();
  auto type = EntryTypeFromName(type_name);
  if (!type) return Status::InvalidArgument("entry: " + type.error().message());
  auto v = j.find("v");
  if (v == j.end() || !v->is_number_integer() || v->get<int64_t>() != kEntryVersion) {
    return Status::InvalidArgument("entry " + type_name + ": \"v\" must be 1");
  }
  const Schema* schema = nullptr;
  for (const Schema& s : Schemas()) {
    if (s.type == *type) schema = &s;
  }
  MDL_CHECK(schema != nullptr);

  Entry e;
  e.type = *type;
  std::set<EntryKey> keys;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "type" || it.key() == "v") continue;
    const Field* f = nullptr;
    for (const Field& cand : schema->fields) {
      if (it.key() == cand.name) f = &cand;
    }
    if (f == nullptr) {
      return Status::InvalidArgument("entry " + type_name + ": unknown field \"" + it.key() +
                                     "\" (free text and extra fields are refused)");
    }
    Status st = CheckField(*f, it.value());
    if (!st.ok()) return Prefix(type_name, st);
    if (f->key) keys.insert({*f->key, it.value().get<std::string>()});
  }
  for (const Field& f : schema->fields) {
    if (f.required && !j.contains(f.name)) {
      return Status::InvalidArgument("entry " + type_name + ": missing field \"" + f.name + "\"");
    }
  }
  if (schema->cross) {
    Status st = schema->cross(j);
    if (!st.ok()) return Prefix(type_name, st);
  }
  MDL_ASSIGN_OR_RETURN(e.canonical, jcs::Canonicalize(j));
  if (e.canonical.size() > kMaxEntryBytes) {
    return Status::InvalidArgument("entry " + type_name + ": canonical form is " +
                                   std::to_string(e.canonical.size()) + " bytes, limit " +
                                   std::to_string(kMaxEntryBytes));
  }
  e.keys.assign(keys.begin(), keys.end());
  return e;
}

void ValidatorRegistry::Register(EntryType type, Validator validator) {
  std::lock_guard<std::mutex> lock(mu_);
  validators_[type].push_back(std::move(validator));
}

Status ValidatorRegistry::Validate(const Entry& entry) const {
  std::vector<Validator> vs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = validators_.find(entry.type);
    if (it != validators_.end()) vs = it->second;
  }
  if (vs.empty()) {
    if (require_all_) {
      return Status::FailedPrecondition("entry " + std::string(EntryTypeName(entry.type)) +
                                        ": no validator registered");
    }
    return Status::Ok();
  }
  auto body = jcs::ParseStrict(entry.canonical);
  if (!body)
    return Status::Internal("entry: canonical form does not parse: " + body.error().message());
  for (const Validator& v : vs) {
    MDL_RETURN_IF_ERROR(v(entry, *body));
  }
  return Status::Ok();
}

}  // namespace medallion::ledger
