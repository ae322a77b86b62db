// Entry schemas (see docs/ledger.md) and the validator registry.
#include "medallion/ledger/entry.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>

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

// One member of an entry object as the schema sees it: a string, a non-negative integer that
// a double holds exactly, or anything else (refused by every field). Both parsers produce these:
// the full one (nlohmann, strict) and the single-pass one for flat objects (ScanFlat).
struct Member {
  enum class Kind { kString, kUint, kOther };
  std::string_view key;
  Kind kind = Kind::kOther;
  std::string_view text;  // kString: the decoded string; kUint (ScanFlat only): its digits
  uint64_t num = 0;       // kUint
};

// The members of an entry object, for the cross-field rules (run after every field passed).
class Obj {
 public:
  Obj(const Member* members, size_t count) : members_(members), count_(count) {}
  const Member* Find(std::string_view k) const {
    for (size_t i = 0; i < count_; ++i) {
      if (members_[i].key == k) return &members_[i];
    }
    return nullptr;
  }
  bool Has(std::string_view k) const { return Find(k) != nullptr; }
  uint64_t U(std::string_view k) const { return Find(k)->num; }
  std::string_view S(std::string_view k) const { return Find(k)->text; }

 private:
  const Member* members_;
  size_t count_;
};

using CrossCheck = std::function<Status(const Obj&)>;

struct Schema {
  EntryType type;
  std::vector<Field> fields;
  CrossCheck cross = nullptr;
};

bool Has(const Obj& j, const char* k) { return j.Has(k); }
uint64_t U(const Obj& j, const char* k) { return j.U(k); }

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
       [](const Obj& j) -> Status {
         const std::string op(j.S("op"));
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
       [](const Obj& j) -> Status {
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
       [](const Obj& j) -> Status {
         if (Has(j, "expires") && U(j, "expires") <= U(j, "ts")) {
           return Status::InvalidArgument("expires must be after ts");
         }
         if (j.S("action") == "revoke" && Has(j, "expires")) {
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
       [](const Obj& j) -> Status {
         if (j.S("a") == j.S("b")) return Status::InvalidArgument("a and b must differ");
         const std::string_view action = j.S("action");
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
       [](const Obj& j) -> Status {
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
bool IsDid(std::string_view s) {
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
bool IsServiceUrl(std::string_view url) {
  if (url.size() > 200) return false;
  const std::string s(url);
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

bool IsLowerHex32(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string Join(const std::vector<std::string_view>& v) {
  std::string out;
  for (auto s : v) out += (out.empty() ? "" : ", ") + std::string(s);
  return out;
}

Status CheckField(const Field& f, const Member& v) {
  auto bad = [&f](std::string_view what) {
    return Status::InvalidArgument("field \"" + std::string(f.name) + "\" " + std::string(what));
  };
  switch (f.kind) {
    case Kind::kUint:
    case Kind::kTime: {
      if (v.kind != Member::Kind::kUint) return bad("must be a non-negative integer");
      const uint64_t max = f.max ? f.max : kMaxSafeInteger;
      if (v.num < f.min || v.num > max) {
        return bad("must be in [" + std::to_string(f.min) + ", " + std::to_string(max) + "]");
      }
      return Status::Ok();
    }
    default:
      break;
  }
  if (v.kind != Member::Kind::kString) return bad("must be a string");
  const std::string_view s = v.text;
  switch (f.kind) {
    case Kind::kDid:
      if (!IsDid(s)) return bad("must be a DID without path, query or fragment");
      break;
    case Kind::kUrl:
      if (!IsServiceUrl(s)) return bad("must be an https URL (http only on loopback), no query");
      break;
    case Kind::kHash:
      if (!IsLowerHex32(s)) return bad("must be 64 lower-case hex digits");
      break;
    case Kind::kB64u: {
      auto b = Base64UrlDecode(s);
      if (!b || b->size() < f.min || b->size() > f.max) {
        return bad("must be base64url (no padding) of " + std::to_string(f.min) + ".." +
                   std::to_string(f.max) + " bytes");
      }
      break;
    }
    case Kind::kEnum:
      if (std::find(f.values.begin(), f.values.end(), s) == f.values.end()) {
        return bad("must be one of: " + Join(f.values));
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

// The schema check both parsers share: `members` (in the order their errors are reported)
// against the schema of their "type". Fills type and keys of `out` (not its canonical form).
// invalid_argument as ParseEntry documents.
Status CheckMembers(const Member* members, size_t count, Entry* out, std::string* type_name) {
  const Obj j(members, count);
  const Member* t = j.Find("type");
  if (t == nullptr || t->kind != Member::Kind::kString)
    return Status::InvalidArgument("entry: missing \"type\"");
  *type_name = std::string(t->text);
  auto type = EntryTypeFromName(t->text);
  if (!type) return Status::InvalidArgument("entry: " + type.error().message());
  const Member* v = j.Find("v");
  if (v == nullptr || v->kind != Member::Kind::kUint || v->num != kEntryVersion) {
    return Status::InvalidArgument("entry " + *type_name + ": \"v\" must be 1");
  }
  const Schema* schema = nullptr;
  for (const Schema& s : Schemas()) {
    if (s.type == *type) schema = &s;
  }
  MDL_CHECK(schema != nullptr);
  out->type = *type;
  out->keys.clear();
  for (size_t i = 0; i < count; ++i) {
    const Member& m = members[i];
    if (m.key == "type" || m.key == "v") continue;
    const Field* f = nullptr;
    for (const Field& cand : schema->fields) {
      if (m.key == cand.name) f = &cand;
    }
    if (f == nullptr) {
      return Status::InvalidArgument("entry " + *type_name + ": unknown field \"" +
                                     std::string(m.key) +
                                     "\" (free text and extra fields are refused)");
    }
    Status st = CheckField(*f, m);
    if (!st.ok()) return Prefix(*type_name, st);
    if (f->key) out->keys.push_back({*f->key, std::string(m.text)});
  }
  for (const Field& f : schema->fields) {
    if (f.required && !j.Has(f.name)) {
      return Status::InvalidArgument("entry " + *type_name + ": missing field \"" + f.name + "\"");
    }
  }
  if (schema->cross) {
    Status st = schema->cross(j);
    if (!st.ok()) return Prefix(*type_name, st);
  }
  std::sort(out->keys.begin(), out->keys.end());
  out->keys.erase(std::unique(out->keys.begin(), out->keys.end()), out->keys.end());
  return Status::Ok();
}

// At most this many members in an entry ScanFlat reads (the largest schema has 17 with "type"
// and "v"); a longer object goes to the full parser.
constexpr size_t kMaxFlatMembers = 24;

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The single-pass reader of the common case (RFC 8259 §2, §4, §6, §7): one object whose member
// names and string values are printable ASCII without escapes, and whose other values are
// integer literals without sign, fraction or exponent up to 2^53 - 1 (RFC 8785 §3.2.2.3: a
// double holds them exactly, so their canonical form is their digits), no name twice (RFC 7493
// §2.3). Returns the number of members, or 0 for anything else — including every malformed
// text — which the full parser then reads and, if it must, refuses with its own message.
size_t ScanFlat(std::string_view text, Member* members) {
  const char* p = text.data();
  const char* const end = p + text.size();
  auto skip_space = [&] {
    while (p < end && IsJsonSpace(*p)) ++p;
  };
  // A string's content, p at its opening quote; false for an escape, a control or non-ASCII byte.
  auto scan_string = [&](std::string_view* out) {
    const char* start = ++p;
    while (p < end) {
      const auto c = static_cast<unsigned char>(*p);
      if (c == '"') {
        *out = std::string_view(start, static_cast<size_t>(p - start));
        ++p;
        return true;
      }
      if (c == '\\' || c < 0x20 || c >= 0x7f) return false;
      ++p;
    }
    return false;
  };
  skip_space();
  if (p == end || *p != '{') return 0;
  ++p;
  skip_space();
  if (p < end && *p == '}') return 0;  // {} has no "type": the full parser words the error
  size_t count = 0;
  while (true) {
    if (count == kMaxFlatMembers || p == end || *p != '"') return 0;
    Member& m = members[count];
    if (!scan_string(&m.key)) return 0;
    for (size_t i = 0; i < count; ++i) {
      if (members[i].key == m.key) return 0;
    }
    skip_space();
    if (p == end || *p != ':') return 0;
    ++p;
    skip_space();
    if (p == end) return 0;
    if (*p == '"') {
      m.kind = Member::Kind::kString;
      if (!scan_string(&m.text)) return 0;
    } else if (*p >= '0' && *p <= '9') {
      const char* start = p;
      uint64_t n = 0;
      while (p < end && *p >= '0' && *p <= '9' && p - start < 17) n = n * 10 + (*p++ - '0');
      const size_t digits = static_cast<size_t>(p - start);
      if ((digits > 1 && *start == '0') || n > kMaxSafeInteger) return 0;
      m.kind = Member::Kind::kUint;
      m.num = n;
      m.text = std::string_view(start, digits);
    } else {
      return 0;
    }
    ++count;
    skip_space();
    if (p == end) return 0;
    if (*p == ',') {
      ++p;
      skip_space();
      continue;
    }
    if (*p != '}') return 0;  // also '.', 'e' or a digit after 17: the full parser decides
    ++p;
    skip_space();
    return p == end ? count : 0;
  }
}

// The RFC 8785 form of members ScanFlat read: sorted by name (printable ASCII, so byte order
// is UTF-16 code unit order, §3.2.3), strings as they are (nothing to escape, §3.2.2.2),
// integers as their digits.
std::string CanonicalFlat(Member* members, size_t count) {
  std::sort(members, members + count,
            [](const Member& a, const Member& b) { return a.key < b.key; });
  size_t bytes = 2;
  for (size_t i = 0; i < count; ++i) bytes += members[i].key.size() + members[i].text.size() + 6;
  std::string out;
  out.reserve(bytes);
  out.push_back('{');
  for (size_t i = 0; i < count; ++i) {
    if (i > 0) out.push_back(',');
    out.push_back('"');
    out.append(members[i].key);
    out.append("\":", 2);
    const bool quoted = members[i].kind == Member::Kind::kString;
    if (quoted) out.push_back('"');
    out.append(members[i].text);
    if (quoted) out.push_back('"');
  }
  out.push_back('}');
  return out;
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
  // The common case in one pass, without a JSON tree; anything it does not read, and every
  // entry that fails its schema, goes through the full parser, so that what is accepted and
  // every error message are the full parser's (ledger_tests compares the two).
  std::array<Member, kMaxFlatMembers> members;
  if (const size_t count = ScanFlat(json_text, members.data()); count > 0) {
    Entry e;
    std::string type_name;
    if (CheckMembers(members.data(), count, &e, &type_name).ok()) {
      e.canonical = CanonicalFlat(members.data(), count);
      return e;  // no longer than json_text, so within kMaxEntryBytes
    }
  }
  auto parsed = jcs::ParseStrict(json_text);
  if (!parsed)
    return Status::InvalidArgument("entry: not strict JSON: " + parsed.error().message());
  return EntryFromJson(*parsed);
}

Result<Entry> EntryFromJson(const json& j) {
  if (!j.is_object()) return Status::InvalidArgument("entry: must be a JSON object");
  std::vector<Member> members;
  members.reserve(j.size());
  for (auto it = j.begin(); it != j.end(); ++it) {
    Member m;
    m.key = it.key();
    const json& v = it.value();
    if (v.is_string()) {
      m.kind = Member::Kind::kString;
      m.text = v.get_ref<const std::string&>();
    } else if (v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0)) {
      m.kind = Member::Kind::kUint;
      m.num = v.get<uint64_t>();
    }
    members.push_back(m);
  }
  Entry e;
  std::string type_name;
  MDL_RETURN_IF_ERROR(CheckMembers(members.data(), members.size(), &e, &type_name));
  MDL_ASSIGN_OR_RETURN(e.canonical, jcs::Canonicalize(j));
  if (e.canonical.size() > kMaxEntryBytes) {
    return Status::InvalidArgument("entry " + type_name + ": canonical form is " +
                                   std::to_string(e.canonical.size()) + " bytes, limit " +
                                   std::to_string(kMaxEntryBytes));
  }
  return e;
}

void ValidatorRegistry::Register(EntryType type, Validator validator,
                                 std::vector<std::string> only_with_members) {
  Registration r{std::move(validator), {}};
  for (const std::string& m : only_with_members) r.needles.push_back("\"" + m + "\":");
  std::lock_guard<std::mutex> lock(mu_);
  auto next = std::make_shared<std::vector<Registration>>();
  if (auto it = validators_.find(type); it != validators_.end()) *next = *it->second;
  next->push_back(std::move(r));
  validators_[type] = std::move(next);
}

Status ValidatorRegistry::Validate(const Entry& entry) const {
  std::shared_ptr<const std::vector<Registration>> vs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = validators_.find(entry.type);
    if (it != validators_.end()) vs = it->second;
  }
  if (!vs || vs->empty()) {
    if (require_all_) {
      return Status::FailedPrecondition("entry " + std::string(EntryTypeName(entry.type)) +
                                        ": no validator registered");
    }
    return Status::Ok();
  }
  std::optional<nlohmann::json> body;
  for (const Registration& r : *vs) {
    // In JCS text a member name is written "<name>": and a string value cannot hold that
    // sequence unescaped, so its absence proves the member absent (its presence may be a
    // false alarm, which only costs the parse).
    if (!r.needles.empty() &&
        std::none_of(r.needles.begin(), r.needles.end(), [&](const std::string& n) {
          return entry.canonical.find(n) != std::string::npos;
        })) {
      continue;
    }
    if (!body) {
      auto parsed = jcs::ParseStrict(entry.canonical);
      if (!parsed)
        return Status::Internal("entry: canonical form does not parse: " +
                                parsed.error().message());
      body = std::move(*parsed);
    }
    MDL_RETURN_IF_ERROR(r.validator(entry, *body));
  }
  return Status::Ok();
}

}  // namespace medallion::ledger
