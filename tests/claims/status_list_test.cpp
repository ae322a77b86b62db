// Bitstring Status List v1.0: bit order, GZIP + multibase vectors cross-checked against Node's
// zlib, the issuer's lists (random assignment, revoke / suspend / reinstate, state round trip),
// and the verifier's StatusChecker (cache and TTL, and each failure reason).
#include "medallion/claims/status_list.h"

#include <zlib.h>

#include <catch2/catch.hpp>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "medallion/claims/data_integrity.h"
#include "medallion/core/encoding.h"
#include "medallion/did/resolver.h"
#include "test_util.h"

using namespace medallion;
using namespace medallion::claims;
using nlohmann::json;
namespace rc = medallion::claims::status_reason;

namespace {

constexpr int64_t kNowMs = 1'780'000'000'000;

// The all-zero 16 KiB list: Bitstring Status List v1.0 §A.2 "Status List Verifiable Credential"
// example encodedList. The same string is what Node prints for
//   node -e 'console.log("u"+require("zlib").gzipSync(Buffer.alloc(16384)).toString("base64url"))'
constexpr std::string_view kZeroList =
    "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA";
// Bits 0, 7, 8, 1000, 94567 and 131071 set in a 131072-bit list, produced once with Node 20
// (zlib 1.3.1) by:
//   node -e 'const z=require("zlib");const b=Buffer.alloc(16384);
//     for (const i of [0,7,8,1000,94567,131071]) b[i>>3]|=0x80>>(i&7);
//     console.log("u"+z.gzipSync(b).toString("base64url"))'
constexpr std::string_view kNodeList =
    "uH4sIAAAAAAAAA-3OwQ0AMAjEsLJ52ZwZeJ2E7AWS_i8n2QYAAAAAAAAAAAAAOKzSAwAAAABs1QAkSf4pAEAAAA";
const std::vector<uint64_t> kNodeBits = {0, 7, 8, 1000, 94567, 131071};

std::string ReasonOf(const Status& s) { return std::string(ReasonCode(s)); }

Bytes Gzip(ByteView data, int window_bits = 15 + 16) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) ==
          Z_OK);
  Bytes out(deflateBound(&z, static_cast<uLong>(data.size())));
  z.next_in = const_cast<Bytef*>(data.data());
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}
std::string U(ByteView b) { return MultibaseEncode(Multibase::kBase64Url, b); }

StatusListConfig Config() {
  StatusListConfig c;
  c.revocation_list_url = "https://society.example/status/rev/1";
  c.suspension_list_url = "https://society.example/status/sus/1";
  return c;
}

class MapFetcher final : public StatusListFetcher {
 public:
  Result<std::string> Fetch(const std::string& url) override {
    ++fetches[url];
    auto it = docs.find(url);
    if (it == docs.end()) return Status::Unavailable("404");
    return it->second;
  }
  std::map<std::string, std::string> docs;
  std::map<std::string, int> fetches;
};

}  // namespace

TEST_CASE("Bitstring: index 0 is the left-most bit", "[claims][status-list]") {
  Bitstring b(16);
  b.Set(0, true);
  b.Set(7, true);
  b.Set(9, true);
  CHECK(b.bytes() == Bytes{0x81, 0x40});
  CHECK(b.Get(0));
  CHECK_FALSE(b.Get(1));
  CHECK(b.Count() == 3);
  b.Set(0, false);
  CHECK(b.bytes() == Bytes{0x01, 0x40});
}

TEST_CASE("encodedList matches Node's zlib byte for byte",
          "[claims][status-list][vectors][interop]") {
  Bitstring zero(kStatusListMinEntries);
  CHECK(*EncodeBitstring(zero) == kZeroList);
  Bitstring bits(kStatusListMinEntries);
  for (uint64_t i : kNodeBits) bits.Set(i, true);
  CHECK(*EncodeBitstring(bits) == kNodeList);

  auto decoded = DecodeBitstring(kNodeList);
  REQUIRE(decoded.has_value());
  CHECK(decoded->size() == kStatusListMinEntries);
  CHECK(decoded->Count() == kNodeBits.size());
  for (uint64_t i : kNodeBits) CHECK(decoded->Get(i));
  CHECK(*decoded == bits);
  CHECK(*DecodeBitstring(kZeroList) == zero);
}

TEST_CASE("encodedList decoding refuses malformed and oversized input", "[claims][status-list]") {
  const Bytes plain(16384, 0);
  const Bytes gz = Gzip(plain);
  REQUIRE(DecodeBitstring(U(gz)).has_value());
  auto code = [](std::string_view text, size_t max = kStatusListMaxBytes) {
    auto r = DecodeBitstring(text, max);
    return r.has_value() ? StatusCode::kOk : r.error().code();
  };
  CHECK(code(MultibaseEncode(Multibase::kBase58Btc, gz)) == StatusCode::kInvalidArgument);  // 'z'
  CHECK(code(std::string("u") + "!!!!") == StatusCode::kInvalidArgument);
  CHECK(code("") == StatusCode::kInvalidArgument);
  CHECK(code(Base64UrlEncode(gz)) == StatusCode::kInvalidArgument);  // no multibase prefix
  CHECK(code(U(Gzip(plain, 15))) == StatusCode::kInvalidArgument);   // zlib, not gzip
  CHECK(code(U(Gzip(plain, -15))) == StatusCode::kInvalidArgument);  // raw deflate
  CHECK(code(U(AsBytes("not gzip at all"))) == StatusCode::kInvalidArgument);
  Bytes truncated(gz.begin(), gz.end() - 6);
  CHECK(code(U(truncated)) == StatusCode::kInvalidArgument);
  Bytes bad_crc = gz;
  bad_crc[bad_crc.size() - 8] ^= 1;
  CHECK(code(U(bad_crc)) == StatusCode::kInvalidArgument);
  Bytes trailing = gz;
  trailing.push_back(0);
  CHECK(code(U(trailing)) == StatusCode::kInvalidArgument);
  CHECK(code(U(Concat(gz, gz))) == StatusCode::kInvalidArgument);  // two members
  // A decompression bomb: 17 MiB of zeros in about 17 KB; bounded, not inflated in full.
  const Bytes bomb = Gzip(Bytes(size_t{17} << 20, 0));
  CHECK(bomb.size() < 40000);
  CHECK(code(U(bomb)) == StatusCode::kResourceExhausted);
  CHECK(code(U(gz), 16384) == StatusCode::kOk);
  CHECK(code(U(gz), 16383) == StatusCode::kResourceExhausted);
}

TEST_CASE("StatusListIssuer: configuration", "[claims][status-list]") {
  CHECK(StatusListIssuer::Create(Config()).has_value());
  auto c = Config();
  c.length = kStatusListMinEntries - 8;
  CHECK_FALSE(StatusListIssuer::Create(c).has_value());
  c = Config();
  c.length = kStatusListMinEntries + 3;
  CHECK_FALSE(StatusListIssuer::Create(c).has_value());
  c = Config();
  c.length = uint64_t{kStatusListMaxBytes} * 8 + 8;
  CHECK_FALSE(StatusListIssuer::Create(c).has_value());
  c = Config();
  c.suspension_list_url = c.revocation_list_url;
  CHECK_FALSE(StatusListIssuer::Create(c).has_value());
  c = Config();
  c.revocation_list_url.clear();
  CHECK_FALSE(StatusListIssuer::Create(c).has_value());
  c = Config();
  c.length = kStatusListMinEntries * 2;
  CHECK(StatusListIssuer::Create(c)->bits(StatusPurpose::kRevocation).size() ==
        kStatusListMinEntries * 2);
}

TEST_CASE("StatusListIssuer: random assignment without reuse", "[claims][status-list]") {
  auto issuer = *StatusListIssuer::Create(Config());
  SeededRng rng(11);
  std::set<uint64_t> seen;
  uint64_t max_index = 0;
  for (int i = 0; i < 2000; ++i) {
    auto index = issuer.Assign(rng);
    REQUIRE(index.has_value());
    CHECK(*index < kStatusListMinEntries);
    CHECK(seen.insert(*index).second);
    max_index = std::max(max_index, *index);
  }
  CHECK(issuer.assigned_count() == 2000);
  // Spread over the list, not handed out in order.
  CHECK(max_index > kStatusListMinEntries / 2);
  CHECK(*seen.begin() < kStatusListMinEntries / 100);
  // Reproducible with the same seed (tests and demos).
  auto again = *StatusListIssuer::Create(Config());
  SeededRng rng2(11);
  std::set<uint64_t> seen2;
  for (int i = 0; i < 2000; ++i) seen2.insert(*again.Assign(rng2));
  CHECK(seen == seen2);
}

TEST_CASE("StatusListIssuer: the last free index, then exhaustion", "[claims][status-list]") {
  // A state with every index but 4242 assigned.
  Bitstring assigned(kStatusListMinEntries);
  for (uint64_t i = 0; i < kStatusListMinEntries; ++i) assigned.Set(i, i != 4242);
  json state = json::parse(StatusListIssuer::Create(Config())->Serialize());
  state["assigned"] = *EncodeBitstring(assigned);
  state["assigned_count"] = kStatusListMinEntries - 1;
  auto issuer = StatusListIssuer::Deserialize(state.dump());
  REQUIRE(issuer.has_value());
  SeededRng rng(3);
  CHECK(*issuer->Assign(rng) == 4242);
  auto full = issuer->Assign(rng);
  REQUIRE_FALSE(full.has_value());
  CHECK(full.error().code() == StatusCode::kResourceExhausted);
}

TEST_CASE("StatusListIssuer: revoke, suspend, reinstate, entries and the list credential",
          "[claims][status-list]") {
  auto issuer = *StatusListIssuer::Create(Config());
  SeededRng rng(5);
  const uint64_t a = *issuer.Assign(rng), b = *issuer.Assign(rng), c = *issuer.Assign(rng);
  uint64_t unassigned = 0;
  while (issuer.State(unassigned).assigned) ++unassigned;

  CHECK(issuer.Revoke(unassigned).code() == StatusCode::kNotFound);
  CHECK(issuer.Suspend(unassigned).code() == StatusCode::kNotFound);
  CHECK(issuer.Reinstate(unassigned).code() == StatusCode::kNotFound);
  CHECK(issuer.Revoke(kStatusListMinEntries + 5).code() == StatusCode::kNotFound);
  CHECK(issuer.Entry(unassigned, StatusPurpose::kRevocation).error().code() ==
        StatusCode::kNotFound);

  CHECK(issuer.Revoke(a).ok());
  CHECK(issuer.Revoke(a).ok());  // idempotent
  CHECK(issuer.Suspend(a).code() == StatusCode::kFailedPrecondition);
  CHECK(issuer.Reinstate(a).code() == StatusCode::kFailedPrecondition);  // revocation is final
  CHECK(issuer.Suspend(b).ok());
  CHECK(issuer.State(b).suspended);
  CHECK(issuer.Reinstate(b).ok());
  CHECK_FALSE(issuer.State(b).suspended);
  CHECK(issuer.Suspend(c).ok());
  CHECK(issuer.State(a).revoked);
  CHECK_FALSE(issuer.State(a).suspended);

  // §2.1 entries.
  json entries = *issuer.CredentialStatus(c);
  REQUIRE(entries.size() == 2);
  CHECK(entries[0] == json{{"id", Config().revocation_list_url + "#" + std::to_string(c)},
                           {"type", "BitstringStatusListEntry"},
                           {"statusPurpose", "revocation"},
                           {"statusListIndex", std::to_string(c)},
                           {"statusListCredential", Config().revocation_list_url}});
  CHECK(entries[1]["statusPurpose"] == "suspension");
  CHECK(entries[1]["statusListCredential"] == Config().suspension_list_url);

  // §2.2 credential.
  StatusListCredentialOptions o;
  o.issuer = "did:web:society.example";
  o.valid_from = "2026-05-28T00:00:00Z";
  o.valid_until = "2026-05-29T00:00:00Z";
  o.ttl_millis = 300000;
  json cred = *issuer.StatusListCredential(StatusPurpose::kRevocation, o);
  CHECK(cred["@context"] == json::array({"https://www.w3.org/ns/credentials/v2"}));
  CHECK(cred["id"] == Config().revocation_list_url);
  CHECK(cred["type"] == json::array({"VerifiableCredential", "BitstringStatusListCredential"}));
  CHECK(cred["issuer"] == o.issuer);
  CHECK(cred["validFrom"] == o.valid_from);
  CHECK(cred["validUntil"] == o.valid_until);
  CHECK(cred["credentialSubject"]["id"] == Config().revocation_list_url + "#list");
  CHECK(cred["credentialSubject"]["type"] == "BitstringStatusList");
  CHECK(cred["credentialSubject"]["statusPurpose"] == "revocation");
  CHECK(cred["credentialSubject"]["ttl"] == 300000);
  CHECK_FALSE(cred.contains("proof"));
  auto rev = DecodeBitstring(cred["credentialSubject"]["encodedList"].get<std::string>());
  REQUIRE(rev.has_value());
  CHECK(rev->Count() == 1);
  CHECK(rev->Get(a));
  json sus_cred = *issuer.StatusListCredential(
      StatusPurpose::kSuspension,
      StatusListCredentialOptions{"did:web:society.example", "", "", 0});
  CHECK_FALSE(sus_cred.contains("validFrom"));
  CHECK_FALSE(sus_cred["credentialSubject"].contains("ttl"));
  auto sus = DecodeBitstring(sus_cred["credentialSubject"]["encodedList"].get<std::string>());
  CHECK(sus->Count() == 1);
  CHECK(sus->Get(c));
  CHECK_FALSE(issuer.StatusListCredential(StatusPurpose::kRevocation, StatusListCredentialOptions{})
                  .has_value());
  o.valid_until = "tomorrow";
  CHECK_FALSE(issuer.StatusListCredential(StatusPurpose::kRevocation, o).has_value());
}

TEST_CASE("StatusListIssuer: state round trip and corrupt states", "[claims][status-list]") {
  auto issuer = *StatusListIssuer::Create(Config());
  SeededRng rng(9);
  std::vector<uint64_t> indexes;
  for (int i = 0; i < 50; ++i) indexes.push_back(*issuer.Assign(rng));
  REQUIRE(issuer.Revoke(indexes[3]).ok());
  REQUIRE(issuer.Suspend(indexes[4]).ok());
  const std::string state = issuer.Serialize();
  CHECK(state.size() < 4096);  // compressed, not 3 x 16 KiB
  auto back = StatusListIssuer::Deserialize(state);
  REQUIRE(back.has_value());
  CHECK(back->Serialize() == state);
  CHECK(back->assigned_count() == 50);
  CHECK(back->State(indexes[3]).revoked);
  CHECK(back->State(indexes[4]).suspended);
  CHECK(back->config().revocation_list_url == Config().revocation_list_url);
  // New assignments after a restore still avoid the old indexes.
  std::set<uint64_t> old(indexes.begin(), indexes.end());
  for (int i = 0; i < 200; ++i) CHECK_FALSE(old.count(*back->Assign(rng)));

  auto code = [](const std::string& s) {
    auto r = StatusListIssuer::Deserialize(s);
    return r.has_value() ? StatusCode::kOk : r.error().code();
  };
  CHECK(code("") == StatusCode::kInvalidArgument);
  CHECK(code("{}") == StatusCode::kInvalidArgument);
  json j = json::parse(state);
  j["assigned_count"] = 49;
  CHECK(code(j.dump()) == StatusCode::kDataLoss);
  j = json::parse(state);
  Bitstring revoked(kStatusListMinEntries);
  uint64_t free_index = 0;
  while (issuer.State(free_index).assigned) ++free_index;
  revoked.Set(free_index, true);
  j["revoked"] = *EncodeBitstring(revoked);
  CHECK(code(j.dump()) == StatusCode::kDataLoss);
  j = json::parse(state);
  j["suspended"] = std::string(kNodeList).substr(0, 30);
  CHECK(code(j.dump()) == StatusCode::kDataLoss);
  j = json::parse(state);
  j["length"] = kStatusListMinEntries * 2;  // lists of the wrong length
  CHECK(code(j.dump()) == StatusCode::kDataLoss);
}

TEST_CASE("StatusChecker: status bits, cache and TTL", "[claims][status-list][checker]") {
  FakeClock clock(kNowMs);
  MapFetcher fetcher;
  int proof_checks = 0;
  StatusChecker checker(fetcher, clock, [&](const json&) {
    ++proof_checks;
    return Status::Ok();
  });
  auto issuer = *StatusListIssuer::Create(Config());
  SeededRng rng(1);
  const uint64_t revoked = *issuer.Assign(rng), fine = *issuer.Assign(rng),
                 suspended = *issuer.Assign(rng);
  REQUIRE(issuer.Revoke(revoked).ok());
  REQUIRE(issuer.Suspend(suspended).ok());
  auto publish = [&](StatusListCredentialOptions o) {
    fetcher.docs[Config().revocation_list_url] =
        issuer.StatusListCredential(StatusPurpose::kRevocation, o)->dump();
    fetcher.docs[Config().suspension_list_url] =
        issuer.StatusListCredential(StatusPurpose::kSuspension, o)->dump();
  };
  StatusListCredentialOptions o;
  o.issuer = "did:web:society.example";
  publish(o);
  const std::string rev_url = Config().revocation_list_url;

  auto r = checker.Check(*issuer.Entry(revoked, StatusPurpose::kRevocation));
  REQUIRE(r.has_value());
  CHECK(r->set);
  CHECK(r->purpose == StatusPurpose::kRevocation);
  CHECK(r->index == revoked);
  CHECK(r->list_url == rev_url);
  CHECK_FALSE(r->from_cache);
  r = checker.Check(*issuer.Entry(fine, StatusPurpose::kRevocation));
  REQUIRE(r.has_value());
  CHECK_FALSE(r->set);
  CHECK(r->from_cache);
  CHECK(fetcher.fetches[rev_url] == 1);
  CHECK(proof_checks == 1);
  CHECK(checker.Check(*issuer.Entry(suspended, StatusPurpose::kSuspension))->set);
  CHECK_FALSE(checker.Check(*issuer.Entry(suspended, StatusPurpose::kRevocation))->set);

  // A status change is seen once the cached copy expires (default TTL 5 minutes).
  REQUIRE(issuer.Revoke(fine).ok());
  publish(o);
  CHECK_FALSE(checker.Check(*issuer.Entry(fine, StatusPurpose::kRevocation))->set);
  clock.Advance(5 * 60 * 1000);
  CHECK(checker.Check(*issuer.Entry(fine, StatusPurpose::kRevocation))->set);
  CHECK(fetcher.fetches[rev_url] == 2);

  // The list's own ttl (milliseconds) wins, capped by max_ttl.
  o.ttl_millis = 10'000;
  publish(o);
  checker.Clear();
  REQUIRE(checker.Check(*issuer.Entry(fine, StatusPurpose::kRevocation)).has_value());
  clock.Advance(9'999);
  CHECK(checker.Check(*issuer.Entry(fine, StatusPurpose::kRevocation))->from_cache);
  clock.Advance(1);
  CHECK_FALSE(checker.Check(*issuer.Entry(fine, StatusPurpose::kRevocation))->from_cache);
  o.ttl_millis = int64_t{365} * 24 * 3600 * 1000;
  publish(o);
  checker.Invalidate(rev_url);
  REQUIRE(checker.Check(*issuer.Entry(fine, StatusPurpose::kRevocation)).has_value());
  clock.Advance(24 * 3600 * 1000 - 1);
  CHECK(checker.Check(*issuer.Entry(fine, StatusPurpose::kRevocation))->from_cache);
  clock.Advance(1);
  CHECK_FALSE(checker.Check(*issuer.Entry(fine, StatusPurpose::kRevocation))->from_cache);

  // validUntil bounds the cache too.
  o.ttl_millis = 0;
  o.valid_until = did::XmlDateTime(clock.NowSeconds() + 60);
  publish(o);
  checker.Clear();
  REQUIRE(checker.Check(*issuer.Entry(fine, StatusPurpose::kRevocation)).has_value());
  clock.Advance(60'000);
  auto expired = checker.Check(*issuer.Entry(fine, StatusPurpose::kRevocation));
  REQUIRE_FALSE(expired.has_value());
  CHECK(ReasonOf(expired.error()) == rc::kVerificationError);
}

TEST_CASE("StatusChecker: each failure reason", "[claims][status-list][checker]") {
  FakeClock clock(kNowMs);
  MapFetcher fetcher;
  bool proofs_ok = true;
  StatusCheckerOptions options;
  StatusChecker checker(
      fetcher, clock,
      [&](const json&) { return proofs_ok ? Status::Ok() : Status::Unauthenticated("bad proof"); },
      options);
  auto issuer = *StatusListIssuer::Create(Config());
  SeededRng rng(2);
  const uint64_t index = *issuer.Assign(rng);
  const std::string url = Config().revocation_list_url;
  const json good = *issuer.StatusListCredential(
      StatusPurpose::kRevocation, StatusListCredentialOptions{"did:web:s.example", "", "", 0});
  const json entry = *issuer.Entry(index, StatusPurpose::kRevocation);
  auto with = [&](const json& doc, const json& e) {
    fetcher.docs[url] = doc.dump();
    checker.Clear();
    return checker.Check(e);
  };
  auto expect = [&](const json& doc, const json& e, std::string_view reason) {
    auto r = with(doc, e);
    REQUIRE_FALSE(r.has_value());
    CHECK(ReasonOf(r.error()) == reason);
    return r.error().code();
  };
  REQUIRE(with(good, entry).has_value());

  SECTION("malformed entries") {
    for (auto mutate : std::vector<std::function<void(json&)>>{
             [](json& e) { e["type"] = "StatusList2021Entry"; },
             [](json& e) { e["statusPurpose"] = "message"; },
             [](json& e) { e["statusPurpose"] = "refresh"; },
             [](json& e) { e.erase("statusPurpose"); },
             [](json& e) { e["statusListIndex"] = 5; },
             [](json& e) { e["statusListIndex"] = "05"; },
             [](json& e) { e["statusListIndex"] = "-1"; },
             [](json& e) { e["statusListIndex"] = "1e3"; },
             [](json& e) { e["statusListIndex"] = "99999999999999999999"; },
             [](json& e) { e.erase("statusListIndex"); },
             [](json& e) { e.erase("statusListCredential"); },
             [](json& e) { e["statusSize"] = 2; },
             [](json& e) { e = json::array(); },
         }) {
      json e = entry;
      mutate(e);
      INFO(e.dump());
      CHECK(expect(good, e, rc::kMalformedValue) == StatusCode::kInvalidArgument);
    }
    json e = entry;
    e["statusSize"] = 1;
    CHECK(with(good, e).has_value());
  }
  SECTION("retrieval") {
    json e = entry;
    e["statusListCredential"] = "https://society.example/status/missing";
    auto r = checker.Check(e);
    REQUIRE_FALSE(r.has_value());
    CHECK(ReasonOf(r.error()) == rc::kRetrievalError);
    CHECK(r.error().code() == StatusCode::kUnavailable);
  }
  SECTION("verification") {
    proofs_ok = false;
    CHECK(expect(good, entry, rc::kVerificationError) == StatusCode::kUnauthenticated);
    proofs_ok = true;
    json d = good;
    d["type"] = json::array({"VerifiableCredential"});
    expect(d, entry, rc::kVerificationError);
    d = good;
    d["id"] = "https://society.example/status/rev/2";
    expect(d, entry, rc::kVerificationError);
    d = good;
    d["credentialSubject"]["type"] = "StatusList2021";
    expect(d, entry, rc::kVerificationError);
    d = good;
    d["credentialSubject"]["statusPurpose"] = "suspension";
    expect(d, entry, rc::kVerificationError);
    d["credentialSubject"]["statusPurpose"] = json::array({"suspension", "revocation"});
    CHECK(with(d, entry).has_value());
    d["credentialSubject"]["statusPurpose"] = json::array();
    expect(d, entry, rc::kVerificationError);
    d = good;
    d["credentialSubject"].erase("encodedList");
    expect(d, entry, rc::kVerificationError);
    d = good;
    d["credentialSubject"]["encodedList"] = "u" + Base64UrlEncode(Gzip(Bytes(16384, 0), 15));
    expect(d, entry, rc::kVerificationError);
    d = good;
    d["credentialSubject"]["ttl"] = -1;
    expect(d, entry, rc::kVerificationError);
    d = good;
    d["validFrom"] = did::XmlDateTime(kNowMs / 1000 + 3600);
    expect(d, entry, rc::kVerificationError);
    d = good;
    d["validUntil"] = did::XmlDateTime(kNowMs / 1000 - 1);
    expect(d, entry, rc::kVerificationError);
    d = good;
    d["validUntil"] = "yesterday";
    expect(d, entry, rc::kVerificationError);
    fetcher.docs[url] = "not json";
    checker.Clear();
    auto r = checker.Check(entry);
    REQUIRE_FALSE(r.has_value());
    CHECK(ReasonOf(r.error()) == rc::kVerificationError);
  }
  SECTION("decompressed size is bounded") {
    StatusCheckerOptions small;
    small.max_decompressed_bytes = 8192;
    StatusChecker tight(
        fetcher, clock, [](const json&) { return Status::Ok(); }, small);
    fetcher.docs[url] = good.dump();
    auto r = tight.Check(entry);
    REQUIRE_FALSE(r.has_value());
    CHECK(ReasonOf(r.error()) == rc::kVerificationError);
    CHECK(r.error().code() == StatusCode::kResourceExhausted);
    json d = good;
    d["credentialSubject"]["encodedList"] = U(Gzip(Bytes(size_t{17} << 20, 0)));
    CHECK(expect(d, entry, rc::kVerificationError) == StatusCode::kResourceExhausted);
    StatusCheckerOptions doc_bound;
    doc_bound.max_document_bytes = 100;
    StatusChecker tiny(
        fetcher, clock, [](const json&) { return Status::Ok(); }, doc_bound);
    fetcher.docs[url] = good.dump();
    CHECK(ReasonOf(tiny.Check(entry).error()) == rc::kRetrievalError);
  }
  SECTION("list too short") {
    json d = good;
    d["credentialSubject"]["encodedList"] = *EncodeBitstring(Bitstring(kStatusListMinEntries - 8));
    CHECK(expect(d, entry, rc::kListLengthError) == StatusCode::kFailedPrecondition);
    d["credentialSubject"]["encodedList"] = U(Gzip(Bytes()));
    expect(d, entry, rc::kListLengthError);
  }
  SECTION("index beyond the list") {
    json e = entry;
    e["statusListIndex"] = std::to_string(kStatusListMinEntries);
    CHECK(expect(good, e, rc::kRangeError) == StatusCode::kInvalidArgument);
    e["statusListIndex"] = std::to_string(kStatusListMinEntries - 1);
    CHECK(with(good, e).has_value());
  }
}
