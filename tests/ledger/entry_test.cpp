// Entry schemas: one valid example per type, canonical bytes, and a negative test per rule.
#include <catch2/catch.hpp>

#include "medallion/core/encoding.h"
#include "medallion/core/jcs.h"
#include "medallion/ledger/entry.h"
#include "test_util.h"

namespace medallion::ledger {
namespace {

using nlohmann::json;

const std::string kH1(64, 'a');
const std::string kH2(64, 'b');
const std::string kSig = Base64UrlEncode(Bytes(64, 7));
const std::string kPn1 = Base64UrlEncode(Bytes(32, 1));
const std::string kPn2 = Base64UrlEncode(Bytes(32, 2));
const std::string kDid = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
// A multicodec Ed25519 public key (0xed 0x01 + 32 bytes), base64url.
const std::string kKey = Base64UrlEncode(Concat(Bytes{0xed, 0x01}, Bytes(32, 3)));

json Valid(EntryType t) {
  switch (t) {
    case EntryType::kDidOp:
      return {{"type", "did.op"},
              {"v", 1},
              {"did", kDid},
              {"op", "create"},
              {"seq", 0},
              {"key", kKey},
              {"next", kH1},
              {"recovery", kH2},
              {"auth", kKey},
              {"assert", kKey},
              {"service", "https://container.example/alice"},
              {"sig", kSig},
              {"ts", 1700000000}};
    case EntryType::kAnchor:
      return {
          {"type", "anchor"}, {"v", 1}, {"hash", kH1}, {"kind", "document"}, {"ts", 1700000000}};
    case EntryType::kConsent:
      return {{"type", "consent"},     {"v", 1},
              {"receipt", kH1},        {"subject", kPn1},
              {"controller", kPn1},    {"purpose", "research"},
              {"action", "grant"},     {"scope", kH2},
              {"expires", 1800000000}, {"sig", kSig},
              {"ts", 1700000000}};
    case EntryType::kRelationship:
      return {{"type", "relationship"},
              {"v", 1},
              {"rel", Base64UrlEncode(Bytes(16, 9))},
              {"a", kPn1},
              {"b", kPn2},
              {"kind", "guardian"},
              {"action", "open"},
              {"sig", kSig},
              {"ts", 1700000000}};
    case EntryType::kStatus:
      return {{"type", "status"},    {"v", 1},      {"credential", kH1}, {"issuer", kDid},
              {"status", "revoked"}, {"list", kH2}, {"index", 42},       {"sig", kSig},
              {"ts", 1700000000}};
    case EntryType::kDispense:
      return {{"type", "dispense"}, {"v", 1},    {"nullifier", kH1}, {"rx", kH2},
              {"pharmacy", kDid},   {"qty", 30}, {"sig", kSig},      {"ts", 1700000000}};
  }
  return {};
}

TEST_CASE("every entry type has a valid example", "[ledger][entry]") {
  for (int i = 0; i < kEntryTypeCount; ++i) {
    auto t = static_cast<EntryType>(i);
    INFO(EntryTypeName(t));
    auto e = ParseEntry(Valid(t).dump(2));
    REQUIRE(e);
    CHECK(e->type == t);
    CHECK(*EntryTypeFromName(EntryTypeName(t)) == t);
    // Canonical: sorted keys, no white space; re-parsing gives the same bytes.
    CHECK(e->canonical.find(' ') == std::string::npos);
    CHECK(ParseEntry(e->canonical)->canonical == e->canonical);
  }
  auto d = ParseEntry(Valid(EntryType::kDispense).dump());
  REQUIRE(d);
  CHECK(d->canonical.rfind("{\"nullifier\":", 0) == 0);
  CHECK(d->keys == std::vector<EntryKey>{{KeyKind::kDid, kDid}, {KeyKind::kNullifier, kH1}});
  auto r = ParseEntry(Valid(EntryType::kRelationship).dump());
  REQUIRE(r);
  CHECK(r->keys == std::vector<EntryKey>{{KeyKind::kRelationship, Base64UrlEncode(Bytes(16, 9))}});
}

struct Bad {
  const char* what;
  EntryType type;
  std::function<void(json&)> edit;
  const char* message_part;
};

TEST_CASE("schema rules refuse bad entries with a clear error", "[ledger][entry]") {
  std::vector<Bad> cases = {
      {"unknown field", EntryType::kAnchor, [](json& j) { j["note"] = "x"; },
       "unknown field \"note\""},
      {"free text in a hash", EntryType::kAnchor,
       [](json& j) { j["hash"] = "patient has diabetes"; }, "\"hash\""},
      {"upper-case hex", EntryType::kAnchor, [](json& j) { j["hash"] = std::string(64, 'A'); },
       "\"hash\""},
      {"enum", EntryType::kAnchor, [](json& j) { j["kind"] = "diagnosis"; }, "one of"},
      {"missing field", EntryType::kAnchor, [](json& j) { j.erase("ts"); }, "missing field \"ts\""},
      {"float", EntryType::kAnchor, [](json& j) { j["ts"] = 1.5; }, "integer"},
      {"negative", EntryType::kAnchor, [](json& j) { j["ts"] = -1; }, "non-negative"},
      {"too large integer", EntryType::kAnchor, [](json& j) { j["ts"] = uint64_t{1} << 60; },
       "\"ts\""},
      {"string integer", EntryType::kAnchor, [](json& j) { j["ts"] = "1700000000"; }, "integer"},
      {"nested object", EntryType::kAnchor, [](json& j) { j["by"] = json::object(); }, "\"by\""},
      {"array", EntryType::kAnchor, [](json& j) { j["hash"] = json::array({kH1}); }, "\"hash\""},
      {"bad DID", EntryType::kAnchor, [](json& j) { j["by"] = "did:key:abc#frag"; }, "DID"},
      {"not a DID", EntryType::kAnchor, [](json& j) { j["by"] = "John Smith"; }, "DID"},
      {"version", EntryType::kAnchor, [](json& j) { j["v"] = 2; }, "\"v\""},
      {"no version", EntryType::kAnchor, [](json& j) { j.erase("v"); }, "\"v\""},
      {"unknown type", EntryType::kAnchor, [](json& j) { j["type"] = "note"; },
       "unknown entry type"},
      {"pseudonym too short", EntryType::kConsent, [](json& j) { j["subject"] = "AAAA"; },
       "\"subject\""},
      {"pseudonym with padding", EntryType::kConsent, [](json& j) { j["subject"] = kPn1 + "="; },
       "\"subject\""},
      {"expiry before ts", EntryType::kConsent, [](json& j) { j["expires"] = 1; }, "expires"},
      {"revocation with expiry", EntryType::kConsent, [](json& j) { j["action"] = "revoke"; },
       "revocation"},
      {"short signature", EntryType::kConsent,
       [](json& j) { j["sig"] = Base64UrlEncode(Bytes(10, 1)); }, "\"sig\""},
      {"create with prev", EntryType::kDidOp, [](json& j) { j["prev"] = kH2; }, "prev"},
      {"update without prev", EntryType::kDidOp,
       [](json& j) {
         j["op"] = "update";
         j["seq"] = 1;
       },
       "prev"},
      {"deactivate with keys", EntryType::kDidOp,
       [](json& j) {
         j["op"] = "deactivate";
         j["seq"] = 3;
         j["prev"] = kH2;
         j.erase("recovery");
       },
       "next"},
      {"create without key", EntryType::kDidOp, [](json& j) { j.erase("key"); }, "\"key\""},
      {"create without recovery", EntryType::kDidOp, [](json& j) { j.erase("recovery"); },
       "recovery"},
      {"update with recovery", EntryType::kDidOp,
       [](json& j) {
         j["op"] = "update";
         j["seq"] = 1;
         j["prev"] = kH2;
       },
       "recovery"},
      {"short key", EntryType::kDidOp, [](json& j) { j["auth"] = Base64UrlEncode(Bytes(33, 1)); },
       "\"auth\""},
      {"service with query", EntryType::kDidOp,
       [](json& j) { j["service"] = "https://a.example/x?y=1"; }, "service"},
      {"plain http service", EntryType::kDidOp,
       [](json& j) { j["service"] = "http://a.example/x"; }, "service"},
      {"service with userinfo", EntryType::kDidOp,
       [](json& j) { j["service"] = "https://u@a.example/"; }, "service"},
      {"service path traversal", EntryType::kDidOp,
       [](json& j) { j["service"] = "https://a.example/../x"; }, "service"},
      {"same parties", EntryType::kRelationship, [](json& j) { j["b"] = kPn1; }, "differ"},
      {"list without index", EntryType::kStatus, [](json& j) { j.erase("index"); }, "together"},
      {"zero quantity", EntryType::kDispense, [](json& j) { j["qty"] = 0; }, "\"qty\""},
      {"drug name", EntryType::kDispense, [](json& j) { j["drug"] = "oxycodone"; },
       "unknown field"},
  };
  for (const Bad& b : cases) {
    INFO(b.what);
    json j = Valid(b.type);
    b.edit(j);
    auto r = ParseEntry(j.dump());
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == StatusCode::kInvalidArgument);
    INFO(r.error().message());
    CHECK(r.error().message().find(b.message_part) != std::string::npos);
  }
}

// ParseEntry reads the common case in one pass (flat objects of unescaped ASCII strings and
// integers) and everything else with the full strict parser. Whatever path a text takes, the
// outcome must be the full parser's: the same entry, or the same error.
Result<Entry> FullParse(std::string_view text) {
  if (text.size() > kMaxEntryBytes) return ParseEntry(text);  // the size check comes first
  auto parsed = jcs::ParseStrict(text);
  if (!parsed)
    return Status::InvalidArgument("entry: not strict JSON: " + parsed.error().message());
  return EntryFromJson(*parsed);
}

void CheckSameAsFullParse(const std::string& text) {
  INFO(text);
  auto fast = ParseEntry(text);
  auto full = FullParse(text);
  REQUIRE(fast.has_value() == full.has_value());
  if (fast) {
    CHECK(fast->type == full->type);
    CHECK(fast->canonical == full->canonical);
    CHECK(fast->keys == full->keys);
  } else {
    CHECK(fast.error().code() == full.error().code());
    CHECK(fast.error().message() == full.error().message());
  }
}

// `j`'s members in reverse order (dump() sorts them), with `space` around every token.
std::string Reversed(const json& j, const std::string& space) {
  std::string out = "{" + space;
  bool first = true;
  for (auto it = j.rbegin(); it != j.rend(); ++it) {
    if (!first) out += space + "," + space;
    first = false;
    out += json(it.key()).dump() + space + ":" + space + it.value().dump();
  }
  return out + space + "}" + space;
}

TEST_CASE("the one-pass entry reader agrees with the full parser", "[ledger][entry]") {
  std::vector<std::string> texts;
  for (int i = 0; i < kEntryTypeCount; ++i) {
    const json j = Valid(static_cast<EntryType>(i));
    texts.push_back(j.dump());
    texts.push_back(j.dump(2));
    texts.push_back(Reversed(j, ""));
    texts.push_back(Reversed(j, " \t\r\n"));
  }
  // Values and spellings the one-pass reader leaves to the full parser, or must refuse as it does.
  const std::vector<std::pair<std::string, std::string>> edits = {
      {"1700000000", "1700000000.0"}, {"1700000000", "17e8"},     {"1700000000", "-1"},
      {"1700000000", "01700000000"},  {"1700000000", "9007199254740991"},
      {"1700000000", "9007199254740992"}, {"1700000000", "123456789012345678901"},
      {"1700000000", "true"},         {"1700000000", "null"},     {"1700000000", "\"1\""},
      {"\"type\"", "\"t\\u0079pe\""}, {"\"anchor\"", "\"anch\\u006fr\""},
      {"\"document\"", "\"docum\u00e9nt\""}, {"\"document\"", "\"doc\tument\""},
      {"\"document\"", "[\"document\"]"},    {"\"document\"", "{}"},
      {"\"v\":1", "\"v\":1,\"v\":1"},        {"\"v\":1", "\"v\":2"},
      {"\"v\":1", "\"v\":1.0"},               {"{", "{\"\":1,"},
      {"}", "}}"},                                {"}", "} x"},
      {"}", ""},                                  {"{", "\xef\xbb\xbf{"},
      {"{", "[{"},                                {":", " : "},
  };
  const std::string anchor = Valid(EntryType::kAnchor).dump();
  for (const auto& [from, to] : edits) {
    std::string t = anchor;
    const size_t at = t.find(from);
    REQUIRE(at != std::string::npos);
    t.replace(at, from.size(), to);
    texts.push_back(t);
  }
  texts.push_back("{}");
  texts.push_back("{ }");
  texts.push_back("");
  texts.push_back("  ");
  std::string many = "{";
  for (int i = 0; i < 30; ++i) many += "\"f" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  texts.push_back(many + "\"type\":\"anchor\",\"v\":1}");
  // Every byte of a valid entry, in turn, replaced by characters that matter to a JSON reader.
  for (const std::string& base : {anchor, Valid(EntryType::kDidOp).dump()}) {
    for (size_t i = 0; i < base.size(); ++i) {
      for (char c : std::string("\"\\{}[],:0 9a.-e\x01\x7f\x80")) {
        std::string t = base;
        t[i] = c;
        texts.push_back(t);
      }
      texts.push_back(base.substr(0, i));
    }
  }
  for (const std::string& t : texts) CheckSameAsFullParse(t);
}

TEST_CASE("entry text limits", "[ledger][entry]") {
  CHECK_FALSE(ParseEntry(std::string(kMaxEntryBytes + 1, ' ')));
  CHECK_FALSE(ParseEntry("[]"));
  CHECK_FALSE(ParseEntry("{\"type\":\"anchor\""));
  CHECK_FALSE(ParseEntry("not json"));
  std::string dup = Valid(EntryType::kAnchor).dump();
  dup.insert(1, "\"ts\":1,");
  CHECK_FALSE(ParseEntry(dup));
  std::string padded = Valid(EntryType::kAnchor).dump();
  padded.insert(1, std::string(kMaxEntryBytes, ' '));
  auto r = ParseEntry(padded);
  REQUIRE_FALSE(r);
  CHECK(r.error().message().find("limit 4096") != std::string::npos);
}

TEST_CASE("validator registry", "[ledger][entry]") {
  auto consent = *ParseEntry(Valid(EntryType::kConsent).dump());
  auto anchor = *ParseEntry(Valid(EntryType::kAnchor).dump());
  ValidatorRegistry open;
  CHECK(open.Validate(consent).ok());
  ValidatorRegistry strict(true);
  CHECK(strict.Validate(consent).code() == StatusCode::kFailedPrecondition);
  int calls = 0;
  strict.Register(EntryType::kConsent, [&](const Entry& e, const json& body) {
    ++calls;
    CHECK(e.type == EntryType::kConsent);
    if (body.at("purpose") != "treatment") return Status::PermissionDenied("purpose not allowed");
    return Status::Ok();
  });
  CHECK(strict.Validate(consent).code() == StatusCode::kPermissionDenied);
  CHECK(calls == 1);
  CHECK(strict.Validate(anchor).code() == StatusCode::kFailedPrecondition);
  strict.Register(EntryType::kAnchor, [](const Entry&, const json&) { return Status::Ok(); });
  CHECK(strict.Validate(anchor).ok());

  // only_with_members: run (and parse) only for an entry that may carry one of the members.
  int author_checks = 0;
  strict.Register(
      EntryType::kAnchor,
      [&](const Entry&, const json& body) {
        ++author_checks;
        return body.contains("by") ? Status::PermissionDenied("not by a known author")
                                   : Status::Ok();
      },
      {"by", "sig"});
  CHECK(strict.Validate(anchor).ok());
  CHECK(author_checks == 0);  // no "by": nor "sig": in its text
  // Validate reads the type and the canonical text only: entries made by hand.
  Entry authored{EntryType::kAnchor, R"({"by":"did:web:x.example","hash":"00","sig":"AA"})", {}};
  CHECK(strict.Validate(authored).code() == StatusCode::kPermissionDenied);
  CHECK(author_checks == 1);
  Entry signed_only{EntryType::kAnchor, R"({"hash":"00","sig":"AA"})", {}};
  CHECK(strict.Validate(signed_only).ok());
  CHECK(author_checks == 2);
  // A value holding the text "by": is escaped in JSON text, so it looks like no member.
  Entry lookalike{EntryType::kAnchor, R"({"hash":"00","kind":"x\"by\":"})", {}};
  CHECK(strict.Validate(lookalike).ok());
  CHECK(author_checks == 2);
  Entry member_in_value{EntryType::kAnchor, R"({"hash":"00","kind":"\"by\":1"})", {}};
  CHECK(strict.Validate(member_in_value).ok());
  CHECK(author_checks == 2);
  // Registrations already running are not disturbed by a later Register (copied on write).
  CHECK(strict.Validate(consent).code() == StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace medallion::ledger
