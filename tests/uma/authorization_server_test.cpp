// The UMA authorization server in process: the grant end to end, claims gathering, approvals,
// policies, the accounting of disclosures, ledger receipts, and every refusal the issue lists.
#include "medallion/claims/ledger_entries.h"
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>

#include "medallion/core/jcs.h"
#include "medallion/ledger/log.h"
#include "medallion/ledger/store.h"
#include "uma/reply_http.h"
#include "uma/uma_world.h"

using namespace medallion;
using namespace medallion::uma;
using medallion::testing::Http;
using medallion::testing::UmaKey;
using medallion::testing::UmaWorld;
using nlohmann::json;

namespace {

constexpr char kType[] = "http://hl7.org/fhir/StructureDefinition/MedicationRequest";

// A resource server with one registered resource and a requesting party's client.
struct Setup {
  UmaWorld& w;
  std::string pat, resource, client_id, client_secret, session;
  explicit Setup(UmaWorld& world, bool with_policy = true) : w(world) {
    pat = *w.as->InternalPat("fhir");
    Reply r =
        w.as->CreateResource(pat, {{"name", "Medication requests"},
                                   {"type", kType},
                                   {"resource_scopes", {"read", "search", "create", "update"}}});
    REQUIRE(Http(r) == 201);
    resource = r.body["_id"];
    Reply c = w.as->RegisterClient({{"client_name", "Dr. app"}}, "");
    REQUIRE(Http(c) == 201);
    client_id = c.body["client_id"];
    client_secret = c.body["client_secret"];
    session = w.OwnerSession();
    if (with_policy) {
      Reply p = w.as->AddPolicy(session,
                                {{"effect", "permit"},
                                 {"subjects", {{{"credential_type", "MedicalLicenseCredential"}}}},
                                 {"resource_types", {"MedicationRequest"}},
                                 {"scopes", {"read", "search"}},
                                 {"purposes", {"treatment"}},
                                 {"note", "SECRET-NOTE my GP and any licensed doctor"}});
      REQUIRE(Http(p) == 201);
    }
  }
  ClientCredentials Client() const { return {client_id, client_secret}; }
  std::string Ticket(std::vector<std::string> scopes = {"read"}) {
    Reply t =
        w.as->RequestPermission(pat, {{"resource_id", resource}, {"resource_scopes", scopes}});
    REQUIRE(Http(t) == 201);
    return t.body["ticket"];
  }
  Reply Token(std::map<std::string, std::string> form) {
    form["grant_type"] = kUmaTicketGrant;
    return w.as->Token(form, Client());
  }
  // need_info first, then the license: returns the final reply.
  Reply Grant(const UmaKey& who, const json& license,
              std::map<std::string, std::string> extra = {}) {
    std::string ticket = Ticket();
    Reply first = Token({{"ticket", ticket}});
    REQUIRE(first.body["error"] == "need_info");
    std::string next = first.body["ticket"];
    std::map<std::string, std::string> form = {{"ticket", next},
                                               {"claim_token", w.Vp(who, {license}, next)},
                                               {"claim_token_format", kClaimTokenVp}};
    for (auto& [k, v] : extra) form[k] = v;
    return Token(form);
  }
};

bool MentionsPolicy(const Reply& r) {
  const std::string s = r.body.dump();
  return s.find("SECRET-NOTE") != std::string::npos || s.find("polic") != std::string::npos;
}

}  // namespace

TEST_CASE("policies are parsed strictly", "[uma][policy]") {
  const json good = {
      {"effect", "permit"},
      {"subjects", {{{"did", "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"}}}},
      {"resource_types", {"MedicationRequest"}},
      {"purposes", {"treatment"}}};
  REQUIRE(PolicyFromJson(good));
  auto with = [&](const char* k, json v) {
    json j = good;
    if (v.is_null()) {
      j.erase(k);
    } else {
      j[k] = v;
    }
    return PolicyFromJson(j);
  };
  CHECK_FALSE(with("effect", "maybe"));
  CHECK_FALSE(with("effect", nullptr));
  CHECK_FALSE(with("subjects", json::array()));
  CHECK_FALSE(with("subjects", {{{"did", "not-a-did"}}}));
  CHECK_FALSE(
      with("subjects", {{{"did", "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"},
                         {"credential_type", "X"}}}));
  CHECK_FALSE(with("subjects", {json::object()}));
  CHECK_FALSE(with("subjects", {{{"credential_type", "X"}, {"issuers", {"nope"}}}}));
  CHECK_FALSE(with("resource_types", nullptr));
  CHECK_FALSE(with("purposes", {"marketing"}));
  CHECK_FALSE(with("purposes", nullptr));  // a permit names its purposes
  CHECK_FALSE(with("scopes", "read"));
  CHECK_FALSE(with("not_before", -5));
  CHECK_FALSE(with("owner_approval", "yes"));
  CHECK_FALSE(with("co_approvers", {"x"}));
  CHECK_FALSE(with("surprise", 1));
  CHECK_FALSE(with("note", std::string(600, 'x')));
  json window = good;
  window["not_before"] = 100;
  window["not_after"] = 50;
  CHECK_FALSE(PolicyFromJson(window));
  json deny = good;
  deny["effect"] = "deny";
  deny.erase("purposes");
  CHECK(PolicyFromJson(deny));
  deny["owner_approval"] = true;
  CHECK_FALSE(PolicyFromJson(deny));
  // Round trip.
  auto p = PolicyFromJson(good);
  CHECK(PolicyToJson(*p) == good);
}

TEST_CASE("evaluation: deny overrides, default deny, windows, purposes, approvals, determinism",
          "[uma][policy]") {
  const std::string dr = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
  const std::string society = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp";
  auto policy = [](const std::string& id, json j) {
    auto p = PolicyFromJson(j);
    REQUIRE(p);
    p->id = id;
    return *p;
  };
  ResourceRef meds{"r1", kType, {"read", "search", "update"}};
  ResourceRef labs{"r2", "http://hl7.org/fhir/StructureDefinition/Observation", {"read"}};
  RequestingParty party{
      dr,
      {{{"VerifiableCredential", "MedicalLicenseCredential"}, society, "urn:l", "00"}},
      "treatment"};
  std::vector<Policy> ps = {
      policy("a", {{"effect", "permit"},
                   {"subjects", {{{"credential_type", "MedicalLicenseCredential"}}}},
                   {"resource_types", {"MedicationRequest"}},
                   {"scopes", {"read"}},
                   {"purposes", {"treatment"}}}),
      policy("b", {{"effect", "deny"},
                   {"subjects", {{{"did", dr}}}},
                   {"resource_ids", {"r1"}},
                   {"scopes", {"update"}}}),
      policy("c", {{"effect", "permit"},
                   {"subjects", {{{"did", dr}}}},
                   {"resource_ids", {"r1"}},
                   {"scopes", {"update"}},
                   {"purposes", {"treatment"}}}),
      policy("d", {{"effect", "permit"},
                   {"subjects", {{{"did", dr}}}},
                   {"resource_types", {"Observation"}},
                   {"purposes", {"research"}},
                   {"owner_approval", true}}),
  };
  const std::vector<std::string> trusted = {society};
  const int64_t now = 1'790'000'000;

  Decision d = Evaluate(ps, {{meds, {"read", "update"}}}, party, trusted, now);
  REQUIRE(d.outcome == Decision::Outcome::kPermit);
  REQUIRE(d.permissions.size() == 1);
  CHECK(d.permissions[0].scopes ==
        std::vector<std::string>{"read"});  // update: b's deny beats c's permit
  CHECK(d.permissions[0].policy_ids == std::vector<std::string>{"a"});
  CHECK(d.explanation.size() == 2);

  // Default deny: no policy for search.
  CHECK(Evaluate(ps, {{meds, {"search"}}}, party, trusted, now).outcome ==
        Decision::Outcome::kDeny);
  // The credential must come from a trusted issuer.
  CHECK(Evaluate(ps, {{meds, {"read"}}}, party, {"did:key:other"}, now).outcome ==
        Decision::Outcome::kDeny);
  // An unproven party matches nothing.
  CHECK(Evaluate(ps, {{meds, {"read"}}}, RequestingParty{}, trusted, now).outcome ==
        Decision::Outcome::kDeny);
  // Purpose: research is only under d, which needs the owner's approval.
  RequestingParty researcher = party;
  researcher.purpose = "research";
  CHECK(Evaluate(ps, {{meds, {"read"}}}, researcher, trusted, now).outcome ==
        Decision::Outcome::kDeny);
  Decision wait = Evaluate(ps, {{labs, {"read"}}}, researcher, trusted, now);
  CHECK(wait.outcome == Decision::Outcome::kApprovalRequired);
  CHECK(wait.approvers == std::vector<std::string>{"owner"});

  // Time window.
  ps.push_back(policy("e", {{"effect", "permit"},
                            {"subjects", {{{"did", dr}}}},
                            {"resource_ids", {"r1"}},
                            {"scopes", {"search"}},
                            {"purposes", {"treatment"}},
                            {"not_before", now + 10},
                            {"not_after", now + 20}}));
  CHECK(Evaluate(ps, {{meds, {"search"}}}, party, trusted, now).outcome ==
        Decision::Outcome::kDeny);
  CHECK(Evaluate(ps, {{meds, {"search"}}}, party, trusted, now + 10).outcome ==
        Decision::Outcome::kPermit);
  CHECK(Evaluate(ps, {{meds, {"search"}}}, party, trusted, now + 20).outcome ==
        Decision::Outcome::kDeny);

  // Multi-party: the permit with the fewest approvers is the one that waits.
  ps.push_back(policy("f", {{"effect", "permit"},
                            {"subjects", {{{"did", dr}}}},
                            {"resource_ids", {"r2"}},
                            {"scopes", {"read"}},
                            {"purposes", {"research"}},
                            {"owner_approval", true},
                            {"co_approvers", {society}}}));
  wait = Evaluate(ps, {{labs, {"read"}}}, researcher, trusted, now);
  CHECK(wait.approvers == std::vector<std::string>{"owner"});  // d (1 approver) over f (2)

  // Deterministic whatever the storage order.
  Decision reference = Evaluate(ps, {{meds, {"read", "update", "search"}}, {labs, {"read"}}}, party,
                                trusted, now + 15);
  std::mt19937 gen(5);
  for (int i = 0; i < 20; ++i) {
    std::shuffle(ps.begin(), ps.end(), gen);
    Decision again = Evaluate(ps, {{labs, {"read"}}, {meds, {"search", "update", "read"}}}, party,
                              trusted, now + 15);
    CHECK(again.outcome == reference.outcome);
    CHECK(again.explanation.size() == reference.explanation.size());
    REQUIRE(again.permissions.size() == reference.permissions.size());
    for (size_t k = 0; k < again.permissions.size(); ++k) {
      CHECK(again.permissions[k].scopes == reference.permissions[k].scopes);
      CHECK(again.permissions[k].policy_ids == reference.permissions[k].policy_ids);
    }
  }
}

TEST_CASE("a relationship as a policy subject: parsed strictly, matched by the provider's key",
          "[uma][policy][relationship]") {
  const std::string rel = "q0Yfq8Gx3Xw2m8Yf1wV6eA";  // 22 base64url characters (16 bytes)
  const json base = {{"effect", "permit"},
                     {"resource_types", {"MedicationRequest"}},
                     {"scopes", {"read"}},
                     {"purposes", {"treatment"}}};
  auto with_subject = [&](json subject) {
    json j = base;
    j["subjects"] = json::array({subject});
    return PolicyFromJson(j);
  };
  auto one = with_subject({{"relationship", rel}});
  REQUIRE(one);
  CHECK(one->subjects[0].relationship == rel);
  CHECK(PolicyToJson(*one)["subjects"] == json::array({{{"relationship", rel}}}));
  CHECK(with_subject({{"relationship", "*"}}));
  CHECK_FALSE(with_subject({{"relationship", "short"}}));
  CHECK_FALSE(with_subject({{"relationship", std::string(22, '!')}}));
  CHECK_FALSE(with_subject({{"relationship", 7}}));
  CHECK_FALSE(with_subject({{"relationship", rel},
                            {"did", "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"}}));
  CHECK_FALSE(
      with_subject({{"relationship", rel},
                    {"issuers", {"did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"}}}));

  // Evaluation: the party's relationships (filled by the server) against the rule.
  ResourceRef meds{"r1", kType, {"read"}};
  Policy p = *one;
  p.id = "p";
  Policy any = *with_subject({{"relationship", "*"}});
  any.id = "any";
  RequestingParty provider{
      "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", {}, "treatment"};
  const int64_t now = 1'790'000'000;
  CHECK(Evaluate({p}, {{meds, {"read"}}}, provider, {}, now).outcome == Decision::Outcome::kDeny);
  provider.relationships = {"other-relationship-id1"};
  CHECK(Evaluate({p}, {{meds, {"read"}}}, provider, {}, now).outcome == Decision::Outcome::kDeny);
  CHECK(Evaluate({any}, {{meds, {"read"}}}, provider, {}, now).outcome ==
        Decision::Outcome::kPermit);
  provider.relationships = {rel};
  CHECK(Evaluate({p}, {{meds, {"read"}}}, provider, {}, now).outcome == Decision::Outcome::kPermit);
  provider.did.clear();  // an unproven party matches nothing
  CHECK(Evaluate({p}, {{meds, {"read"}}}, provider, {}, now).outcome == Decision::Outcome::kDeny);
}

TEST_CASE("the grant asks for the provider's relationships only when a policy names one",
          "[uma][grant][relationship]") {
  UmaWorld w;
  const std::string rel = "q0Yfq8Gx3Xw2m8Yf1wV6eA";
  std::map<std::string, std::vector<std::string>> rels = {{w.provider.Did(), {rel}}};
  int calls = 0;
  bool failing = false;
  w.relationships_of = [&](const std::string& did) -> Result<std::vector<std::string>> {
    ++calls;
    if (failing) return Status::Unavailable("the ledger is down");
    auto it = rels.find(did);
    return it == rels.end() ? std::vector<std::string>{} : it->second;
  };
  w.Open();
  Setup s(w, /*with_policy=*/false);
  auto grant = [&](const UmaKey& who) {
    Reply first = s.Token({{"ticket", s.Ticket()}});
    REQUIRE(first.body["error"] == "need_info");
    const std::string next = first.body["ticket"];
    return s.Token({{"ticket", next},
                    {"claim_token", w.DidAuth(who, next)},
                    {"claim_token_format", kClaimTokenDidAuth}});
  };
  CHECK(Http(grant(w.provider)) != 200);
  CHECK(calls == 0);  // no policy names a relationship: nobody's relationships are looked up

  Reply added = w.as->AddPolicy(s.session, {{"effect", "permit"},
                                            {"subjects", {{{"relationship", rel}}}},
                                            {"resource_types", {"MedicationRequest"}},
                                            {"scopes", {"read"}},
                                            {"purposes", {"treatment"}}});
  REQUIRE(Http(added) == 201);
  Reply ok = grant(w.provider);
  INFO(ok.body.dump());
  REQUIRE(Http(ok) == 200);
  CHECK(calls == 1);
  Reply in = w.as->Introspect(s.pat, ok.body["access_token"].get<std::string>());
  CHECK(in.body["sub"] == w.provider.Did());
  CHECK(in.body["permissions"][0]["resource_scopes"] == json({"read"}));

  // Someone else signing in with her own did:key is no provider of hers.
  CHECK(Http(grant(w.stranger)) != 200);
  // The relationship ended, or was never accepted: the lookup no longer names it.
  rels.clear();
  CHECK(Http(grant(w.provider)) != 200);
  // A lookup that fails counts as no relationship.
  rels = {{w.provider.Did(), {rel}}};
  failing = true;
  CHECK(Http(grant(w.provider)) != 200);
  failing = false;
  CHECK(Http(grant(w.provider)) == 200);
}

// did:key resolution failing as a did:mdl's does while its ledger is down (internalError).
class UnavailableDidKey final : public did::MethodResolver {
 public:
  std::string_view method() const override { return "key"; }
  did::ResolutionResult Resolve(std::string_view, const did::ResolutionOptions&) override {
    return did::ResolutionResult::Error("internalError", "ledger: unavailable: the test's outage");
  }
};

TEST_CASE("a claim token that cannot be checked now is 503 with a fresh ticket, not need_info",
          "[uma][grant]") {
  UmaWorld w;
  Setup s(w);
  const json license = w.License(w.physician);
  Reply first = s.Token({{"ticket", s.Ticket()}});
  REQUIRE(first.body["error"] == "need_info");
  std::string next = first.body["ticket"];
  w.resolver.Register(std::make_shared<UnavailableDidKey>());
  Reply down = s.Token({{"ticket", next},
                        {"claim_token", w.Vp(w.physician, {license}, next)},
                        {"claim_token_format", kClaimTokenVp}});
  INFO(down.body.dump());
  CHECK(Http(down) == 503);
  CHECK(down.body["error"] == "temporarily_unavailable");
  REQUIRE(down.body["ticket"].is_string());
  // The ledger is back: the fresh ticket and the same claims get the RPT.
  w.resolver.Register(did::MakeDidKeyResolver());
  next = down.body["ticket"];
  Reply up = s.Token({{"ticket", next},
                      {"claim_token", w.Vp(w.physician, {license}, next)},
                      {"claim_token_format", kClaimTokenVp}});
  INFO(up.body.dump());
  CHECK(Http(up) == 200);
}

TEST_CASE("the UMA grant end to end: ticket, need_info, claims, RPT, introspection, revocation",
          "[uma][grant]") {
  UmaWorld w;
  Setup s(w);
  json disc = w.as->Discovery();
  CHECK(disc["issuer"] == w.issuer);
  CHECK(disc["permission_endpoint"] == w.issuer + "/uma/permission");

  const json license = w.License(w.physician);
  Reply r = s.Grant(w.physician, license);
  INFO(r.body.dump());
  REQUIRE(Http(r) == 200);
  const std::string rpt = r.body["access_token"];
  CHECK(r.body["token_type"] == "Bearer");
  REQUIRE(r.body.contains("pct"));

  // The resource server's view.
  Reply in = w.as->Introspect(s.pat, rpt);
  REQUIRE(in.body["active"] == true);
  CHECK(in.body["sub"] == w.physician.Did());
  CHECK(in.body["permissions"][0]["resource_id"] == s.resource);
  CHECK(in.body["permissions"][0]["resource_scopes"] == json({"read"}));
  Reply refusal;
  auto access = w.as->Authorize(s.pat, rpt, s.resource, "read", &refusal);
  REQUIRE(access);
  CHECK(access->requesting_party == w.physician.Did());
  // Not for a scope it was not granted: 401 with a ticket (UMA Grant §3.2).
  CHECK_FALSE(w.as->Authorize(s.pat, rpt, s.resource, "update", &refusal));
  CHECK(Http(refusal) == 401);
  REQUIRE(refusal.headers.size() == 1);
  CHECK(refusal.headers[0].second.rfind(
            "UMA realm=\"medallion\", as_uri=\"https://patient.example\", ticket=\"", 0) == 0);

  // The PCT stands in for the claims next time.
  std::string ticket = s.Ticket();
  Reply again = s.Token({{"ticket", ticket}, {"pct", r.body["pct"]}});
  CHECK(Http(again) == 200);

  // RFC 7009: revoked by its client, then useless.
  CHECK(Http(w.as->Revoke(s.Client(), rpt)) == 200);
  CHECK(w.as->Introspect(s.pat, rpt).body == json({{"active", false}}));
  CHECK_FALSE(w.as->Authorize(s.pat, rpt, s.resource, "read", &refusal));
  // Unknown tokens: 200 as well (RFC 7009 §2.2); wrong client credentials: 401.
  CHECK(Http(w.as->Revoke(s.Client(), "no-such-token")) == 200);
  CHECK(Http(w.as->Revoke({s.client_id, "wrong"}, rpt)) == 401);
}

TEST_CASE("security: tickets, tokens, claims and containers", "[uma][security]") {
  UmaWorld w;
  Setup s(w);
  const json license = w.License(w.physician);
  Reply refusal;

  SECTION("a ticket is single use") {
    std::string t = s.Ticket();
    CHECK(s.Token({{"ticket", t}}).body["error"] == "need_info");
    Reply again = s.Token({{"ticket", t}});
    CHECK(Http(again) == 400);
    CHECK(again.body["error"] == "invalid_grant");
  }
  SECTION("an expired ticket and an expired RPT") {
    std::string t = s.Ticket();
    w.Advance(301);
    CHECK(s.Token({{"ticket", t}}).body["error"] == "invalid_grant");
    Reply r = s.Grant(w.physician, license);
    REQUIRE(Http(r) == 200);
    w.Advance(3601);
    CHECK(w.as->Introspect(s.pat, r.body["access_token"].get<std::string>()).body["active"] ==
          false);
    CHECK_FALSE(w.as->Authorize(s.pat, r.body["access_token"].get<std::string>(), s.resource,
                                "read", &refusal));
  }
  SECTION("no ticket for another resource server's resource") {
    std::string other_pat = *w.as->InternalPat("other-rs");
    Reply t = w.as->RequestPermission(other_pat,
                                      {{"resource_id", s.resource}, {"resource_scopes", {"read"}}});
    CHECK(Http(t) == 400);
    CHECK(t.body["error"] == "invalid_resource_id");
    CHECK(Http(w.as->ReadResource(other_pat, s.resource)) == 404);
    CHECK(Http(w.as->DeleteResource(other_pat, s.resource)) == 404);
    CHECK(Http(w.as->UpdateResource(other_pat, s.resource, {{"resource_scopes", {"read"}}})) ==
          404);
    CHECK(w.as->ListResources(other_pat).body.empty());
    // FedAuthz §3.2: the owning server updates, lists and deletes; descriptions are checked.
    CHECK(Http(w.as->UpdateResource(
              s.pat, s.resource, {{"name", "Renamed"}, {"resource_scopes", {"read", "search"}}})) ==
          200);
    CHECK(w.as->ReadResource(s.pat, s.resource).body["name"] == "Renamed");
    CHECK(Http(w.as->UpdateResource(s.pat, s.resource, {{"name", "no scopes"}})) == 400);
    CHECK(Http(w.as->CreateResource(s.pat, {{"resource_scopes", {"has space"}}})) == 400);
    CHECK(w.as->ListResources(s.pat).body == json::array({s.resource}));
    Reply extra = w.as->CreateResource(s.pat, {{"resource_scopes", {"read"}}});
    REQUIRE(Http(extra) == 201);
    CHECK(Http(w.as->DeleteResource(s.pat, extra.body["_id"].get<std::string>())) == 204);
    CHECK(Http(w.as->ReadResource(s.pat, extra.body["_id"].get<std::string>())) == 404);
    // Unregistered scope, bad PAT.
    CHECK(w.as->RequestPermission(s.pat,
                                  {{"resource_id", s.resource}, {"resource_scopes", {"delete"}}})
              .body["error"] == "invalid_scope");
    CHECK(Http(w.as->RequestPermission(
              "forged", {{"resource_id", s.resource}, {"resource_scopes", {"read"}}})) == 401);
  }
  SECTION("a rotated ticket stays with its client") {
    std::string t = s.Ticket();
    std::string next = s.Token({{"ticket", t}}).body["ticket"];
    Reply other = w.as->RegisterClient({{"client_name", "thief"}}, "");
    Reply stolen = w.as->Token({{"grant_type", kUmaTicketGrant}, {"ticket", next}},
                               {other.body["client_id"], other.body["client_secret"]});
    CHECK(stolen.body["error"] == "invalid_grant");
  }
  SECTION(
      "claim tokens for another audience, another ticket, expired, forged, revoked, untrusted") {
    auto attempt = [&](const std::function<std::string(const std::string&)>& make,
                       const char* format = kClaimTokenVp) {
      std::string next = s.Token({{"ticket", s.Ticket()}}).body["ticket"];
      return s.Token(
          {{"ticket", next}, {"claim_token", make(next)}, {"claim_token_format", format}});
    };
    auto refused = [&](const Reply& r, const std::string& reason) {
      INFO(r.body.dump());
      CHECK(Http(r) == 403);
      CHECK(r.body["error"] == "need_info");
      CHECK(r.body["error_description"].get<std::string>().find(reason) != std::string::npos);
      CHECK_FALSE(r.body.contains("access_token"));
    };
    refused(attempt([&](const std::string& t) {
              return w.Vp(w.physician, {license}, t, "treatment", nullptr, "https://other.example");
            }),
            "audience_mismatch");
    std::string older = s.Ticket();
    refused(attempt([&](const std::string&) { return w.Vp(w.physician, {license}, older); }),
            "nonce_mismatch");
    refused(
        attempt(
            [&](const std::string& t) { return w.DidAuth(w.physician, t, "treatment", "", 3600); },
            kClaimTokenDidAuth),
        "claim_token_too_old");
    refused(attempt([&](const std::string& t) {
              return w.Vp(w.physician, {license}, t, "treatment", &w.stranger);
            }),
            "signature_invalid");
    w.revoked.insert("urn:uuid:license-1");
    refused(attempt([&](const std::string& t) { return w.Vp(w.physician, {license}, t); }),
            "license_status");
    w.revoked.clear();
    const json rogue = w.License(w.physician, "urn:uuid:rogue", &w.rogue_society);
    refused(attempt([&](const std::string& t) { return w.Vp(w.physician, {rogue}, t); }),
            "untrusted_issuer");
    const json someone_elses = w.License(w.stranger, "urn:uuid:l-2");
    refused(attempt([&](const std::string& t) { return w.Vp(w.physician, {someone_elses}, t); }),
            "holder_binding");
    json tampered = license;
    tampered["credentialSubject"]["specialty"] = "Surgery";
    refused(attempt([&](const std::string& t) { return w.Vp(w.physician, {tampered}, t); }),
            "signature_invalid");
    refused(attempt([&](const std::string&) { return std::string("eyJhbGciOiJub25lIn0.e30."); }),
            "");
    Reply unknown = attempt([&](const std::string& t) { return w.Vp(w.physician, {license}, t); },
                            "urn:x:unknown");
    CHECK(unknown.body["error"] == "need_info");
  }
  SECTION("an RPT upgrade cannot escalate scopes") {
    Reply r = s.Grant(w.physician, license);
    REQUIRE(Http(r) == 200);
    const std::string old_rpt = r.body["access_token"];
    // "update" is registered on the resource but no policy permits it: the upgraded token
    // carries "read" only, and the superseded one stops working.
    Reply up = s.Token({{"ticket", s.Ticket({"read"})},
                        {"pct", r.body["pct"]},
                        {"rpt", old_rpt},
                        {"scope", "update"}});
    INFO(up.body.dump());
    REQUIRE(Http(up) == 200);
    CHECK(up.body["upgraded"] == true);
    Reply in = w.as->Introspect(s.pat, up.body["access_token"].get<std::string>());
    REQUIRE(in.body["permissions"].size() == 1);
    CHECK(in.body["permissions"][0]["resource_scopes"] == json({"read"}));
    CHECK(w.as->Introspect(s.pat, old_rpt).body["active"] == false);
    // Asking only for what is not permitted is denied outright.
    CHECK(s.Token({{"ticket", s.Ticket({"update"})}, {"pct", r.body["pct"]}}).body["error"] ==
          "request_denied");
    // A scope no ticket resource has is invalid_scope (UMA Grant §3.3.6).
    Reply bad = s.Token({{"ticket", s.Ticket()}, {"pct", r.body["pct"]}, {"scope", "delete"}});
    CHECK(bad.body["error"] == "invalid_scope");
    // Someone else's RPT cannot be upgraded, nor their PCT used.
    Reply other = w.as->RegisterClient({{"client_name", "other"}}, "");
    ClientCredentials oc{other.body["client_id"], other.body["client_secret"]};
    CHECK(Http(w.as->Token({{"grant_type", kUmaTicketGrant},
                            {"ticket", s.Ticket()},
                            {"rpt", up.body["access_token"]}},
                           oc)) != 200);
    CHECK(w.as->Token(
                  {{"grant_type", kUmaTicketGrant}, {"ticket", s.Ticket()}, {"pct", r.body["pct"]}},
                  oc)
              .body["error"] == "invalid_grant");
  }
  SECTION("policy contents never appear in errors") {
    // A stranger with a DID but no license: need_info (uniform), then request_denied.
    std::string t = s.Ticket();
    Reply r1 = s.Token({{"ticket", t}});
    std::string t2 = r1.body["ticket"];
    Reply r2 = s.Token({{"ticket", t2},
                        {"claim_token", w.DidAuth(w.stranger, t2)},
                        {"claim_token_format", kClaimTokenDidAuth}});
    CHECK(r2.body["error"] == "need_info");
    std::string t3 = r2.body["ticket"];
    Reply r3 = s.Token({{"ticket", t3},
                        {"claim_token", w.DidAuth(w.stranger, t3)},
                        {"claim_token_format", kClaimTokenDidAuth}});
    CHECK(r3.body["error"] == "request_denied");
    for (const Reply* r : {&r1, &r2, &r3}) {
      CHECK_FALSE(MentionsPolicy(*r));
      for (auto& [k, v] : r->body.items()) {
        CHECK((k == "error" || k == "error_description" || k == "ticket" ||
               k == "required_claims" || k == "interval" || k == "redirect_user"));
      }
    }
    // The owner API refuses without a session, and says nothing else.
    Reply list = w.as->ListPolicies("");
    CHECK(Http(list) == 401);
    CHECK(list.body.dump().find("SECRET") == std::string::npos);
    CHECK(Http(w.as->ListPolicies("forged-session")) == 401);
    CHECK(Http(w.as->ReadDisclosures(s.pat, 0, 10)) == 401);  // a PAT is not the owner's session
  }
  SECTION("one container's tokens are useless at another") {
    Reply r = s.Grant(w.physician, license);
    REQUIRE(Http(r) == 200);
    UmaWorld other("uma-other");
    Setup s2(other);
    CHECK(other.as->Introspect(s2.pat, r.body["access_token"].get<std::string>()).body["active"] ==
          false);
    CHECK_FALSE(other.as->Authorize(s2.pat, r.body["access_token"].get<std::string>(), s2.resource,
                                    "read", &refusal));
    CHECK(Http(other.as->Introspect(s.pat, "x")) == 401);   // the first container's PAT
    CHECK(Http(other.as->ListPolicies(s.session)) == 401);  // its owner session
    CHECK(other.as->Token({{"grant_type", kUmaTicketGrant}, {"ticket", s.Ticket()}}, s2.Client())
              .body["error"] == "invalid_grant");  // its tickets
    CHECK(Http(other.as->Token({{"grant_type", kUmaTicketGrant}, {"ticket", s2.Ticket()}},
                               s.Client())) == 401);  // its clients
  }
  SECTION("owner sign-in: single-use challenge, only the owner") {
    Reply ch = w.as->OwnerChallenge();
    const std::string token = w.DidAuth(w.patient, ch.body["nonce"], "");
    CHECK(Http(w.as->OwnerSignIn(token)) == 200);
    CHECK(Http(w.as->OwnerSignIn(token)) == 401);  // replay
    Reply ch2 = w.as->OwnerChallenge();
    CHECK(Http(w.as->OwnerSignIn(w.DidAuth(w.physician, ch2.body["nonce"], ""))) == 403);
    CHECK(Http(w.as->OwnerSignIn(w.DidAuth(w.patient, "never-issued", ""))) == 401);
    Reply ch3 = w.as->OwnerChallenge();
    w.Advance(301);
    CHECK(Http(w.as->OwnerSignIn(w.DidAuth(w.patient, ch3.body["nonce"], ""))) == 401);
  }
  SECTION("registering a resource server takes the owner's session") {
    CHECK(Http(w.as->RegisterClient({{"scope", "uma_protection"}}, "")) == 401);
    Reply rs = w.as->RegisterClient({{"scope", "uma_protection"}}, s.session);
    REQUIRE(Http(rs) == 201);
    Reply pat = w.as->Token({{"grant_type", "client_credentials"}, {"scope", "uma_protection"}},
                            {rs.body["client_id"], rs.body["client_secret"]});
    CHECK(Http(pat) == 200);
    // A requesting party's client gets no PAT.
    CHECK(
        w.as->Token({{"grant_type", "client_credentials"}, {"scope", "uma_protection"}}, s.Client())
            .body["error"] == "unauthorized_client");
    CHECK(Http(w.as->RegisterClient({{"token_endpoint_auth_method", "none"}}, "")) == 400);
    CHECK(Http(w.as->RegisterClient({{"grant_types", {"password"}}}, "")) == 400);
    CHECK(w.as->RegisterClient({{"redirect_uris", {"http://evil.example/cb"}}}, "").body["error"] ==
          "invalid_redirect_uri");
    // The loopback exception parses the authority (RFC 3986 §3.2), it does not match a prefix.
    for (const char* bad :
         {"http://localhost.evil.example/cb", "http://127.0.0.1@evil.example/cb",
          "http://127.0.0.1.evil.example/cb", "http://localhost:80@evil.example/cb",
          "http://[::1].evil.example/cb", "http://localhost:/cb", "http://localhost:8x/cb",
          "https://user@evil.example/cb", "https:///cb", "ftp://localhost/cb",
          "https://app.example/cb#frag", "https://app.example/c b", "https://app.example/\x01"}) {
      INFO(bad);
      CHECK(w.as->RegisterClient({{"redirect_uris", {bad}}}, "").body["error"] ==
            "invalid_redirect_uri");
    }
    for (const char* good : {"http://127.0.0.1:8123/cb", "http://localhost/cb?x=1",
                             "http://[::1]:9/cb", "https://app.example/cb"}) {
      INFO(good);
      CHECK(Http(w.as->RegisterClient({{"redirect_uris", {good}}}, "")) == 201);
    }
  }
}

TEST_CASE("approvals: request_submitted, the owner's decision, co-approvers, denial",
          "[uma][approval]") {
  UmaWorld w;
  Setup s(w, /*with_policy=*/false);
  Reply p = w.as->AddPolicy(s.session, {{"effect", "permit"},
                                        {"subjects", {{{"did", w.physician.Did()}}}},
                                        {"resource_ids", {s.resource}},
                                        {"scopes", {"read"}},
                                        {"purposes", {"treatment"}},
                                        {"owner_approval", true},
                                        {"co_approvers", {w.provider.Did()}}});
  REQUIRE(Http(p) == 201);
  auto submit = [&]() {
    std::string t = s.Token({{"ticket", s.Ticket()}}).body["ticket"];
    Reply r = s.Token({{"ticket", t},
                       {"claim_token", w.DidAuth(w.physician, t)},
                       {"claim_token_format", kClaimTokenDidAuth}});
    REQUIRE(r.body["error"] == "request_submitted");
    CHECK(r.body["interval"] == 5);
    return r;
  };
  Reply r = submit();
  Reply pending = w.as->ListRequests(s.session, "pending");
  REQUIRE(pending.body.size() == 1);
  const std::string id = pending.body[0]["id"], hash = pending.body[0]["hash"];
  CHECK(pending.body[0]["summary"]["requesting_party"] == w.physician.Did());
  CHECK(pending.body[0]["summary"]["approvers"] == json({w.provider.Did(), "owner"}));
  // Polling before the decision: request_submitted again, with a new ticket.
  Reply poll = s.Token({{"ticket", r.body["ticket"]}});
  CHECK(poll.body["error"] == "request_submitted");

  // The owner approves; the provider still has to.
  CHECK(w.as->DecideAsOwner(s.session, id, "approve").body["status"] == "pending");
  CHECK(Http(w.as->DecideAsOwner(s.session, id, "approve")) == 409);  // once
  poll = s.Token({{"ticket", poll.body["ticket"]}});
  CHECK(poll.body["error"] == "request_submitted");
  // The provider's signed decision must name this request and its hash, and come from an approver.
  auto decision = [&](const UmaKey& who, const std::string& nonce, const std::string& req,
                      const std::string& what) {
    return w.DidAuth(who, nonce, "", "", 300, {{"request", req}, {"decision", what}});
  };
  CHECK(Http(w.as->DecideSigned(id, decision(w.provider, "wrong-hash", id, "approve"))) == 401);
  CHECK(Http(w.as->DecideSigned(id, decision(w.stranger, hash, id, "approve"))) == 403);
  CHECK(Http(w.as->DecideSigned(id, decision(w.provider, hash, "other", "approve"))) == 400);
  Reply ok = w.as->DecideSigned(id, decision(w.provider, hash, id, "approve"));
  REQUIRE(Http(ok) == 200);
  CHECK(ok.body["status"] == "approved");
  Reply granted = s.Token({{"ticket", poll.body["ticket"]}});
  INFO(granted.body.dump());
  REQUIRE(Http(granted) == 200);

  // A second request, denied by the owner.
  Reply r2 = submit();
  std::string id2;
  for (const json& q : w.as->ListRequests(s.session, "pending").body) id2 = q["id"];
  REQUIRE(!id2.empty());
  CHECK(w.as->DecideAsOwner(s.session, id2, "deny").body["status"] == "denied");
  CHECK(s.Token({{"ticket", r2.body["ticket"]}}).body["error"] == "request_denied");
  CHECK(Http(w.as->DecideAsOwner(s.session, id2, "maybe")) == 400);
}

TEST_CASE("revoking a policy stops its tokens; the disclosure log is a verifiable chain",
          "[uma][log]") {
  UmaWorld w;
  Setup s(w);
  const json license = w.License(w.physician);
  Reply r = s.Grant(w.physician, license);
  REQUIRE(Http(r) == 200);
  const std::string rpt = r.body["access_token"];
  Reply refusal;
  auto access = w.as->Authorize(s.pat, rpt, s.resource, "read", &refusal);
  REQUIRE(access);
  REQUIRE(w.as->RecordRelease(*access, s.resource, "read", {"MedicationRequest/abc"}).ok());

  Reply policies = w.as->ListPolicies(s.session);
  REQUIRE(policies.body.size() == 1);
  Reply del = w.as->DeletePolicy(s.session, policies.body[0]["id"].get<std::string>());
  REQUIRE(Http(del) == 200);
  CHECK(del.body["tokens_revoked"] == 1);
  CHECK_FALSE(w.as->Authorize(s.pat, rpt, s.resource, "read", &refusal));
  CHECK(Http(w.as->GetPolicy(s.session, policies.body[0]["id"].get<std::string>())) == 404);

  Reply log = w.as->ReadDisclosures(s.session, 0, 1000);
  std::set<std::string> events;
  for (const json& e : log.body["entries"]) events.insert(e["event"]);
  for (const char* e :
       {"client.register", "owner.signin", "policy.add", "decision", "release", "policy.revoke"}) {
    INFO(e);
    CHECK(events.count(e) == 1);
  }
  bool release_found = false;
  for (const json& e : log.body["entries"]) {
    if (e["event"] == "release") {
      release_found = e["requesting_party"] == w.physician.Did() &&
                      e["records"] == json({"MedicationRequest/abc"});
    }
    // No bearer token is ever logged, only hashes.
    CHECK(e.dump().find(rpt) == std::string::npos);
  }
  CHECK(release_found);

  Reply exported = w.as->ExportDisclosures(s.session);
  auto n = VerifyDisclosureExport(exported.body);
  REQUIRE(n);
  CHECK(*n == log.body["entries"].size());
  json edited = exported.body;
  edited["entries"][2]["entry"]["event"] = "nothing";
  auto bad = VerifyDisclosureExport(edited);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message().find("entry 3") != std::string::npos);
  json dropped = exported.body;
  dropped["entries"].erase(dropped["entries"].begin() + 1);
  CHECK_FALSE(VerifyDisclosureExport(dropped));
  // An export is outside input: members of the wrong type are a refusal, never an exception.
  json wrong_seq = exported.body;
  wrong_seq["entries"][0]["entry"]["seq"] = "1";
  CHECK_FALSE(VerifyDisclosureExport(wrong_seq));
  json wrong_prev = exported.body;
  wrong_prev["entries"][1]["entry"]["prev"] = 7;
  CHECK_FALSE(VerifyDisclosureExport(wrong_prev));
  json wrong_hash = exported.body;
  wrong_hash["entries"][0]["hash"] = 7;
  CHECK_FALSE(VerifyDisclosureExport(wrong_hash));
  json wrong_format = exported.body;
  wrong_format["format"] = 1;
  CHECK_FALSE(VerifyDisclosureExport(wrong_format));
  json wrong_anchors = exported.body;
  wrong_anchors["anchors"] = json::array({"x", 5, json{{"seq", "1"}, {"hash", 2}}});
  CHECK_FALSE(VerifyDisclosureExport(wrong_anchors));
  json anchors_object = exported.body;
  anchors_object["anchors"] = json{{"seq", 1}};
  CHECK_FALSE(VerifyDisclosureExport(anchors_object));

  // Everything survives a restart.
  w.Open();
  std::string session = w.OwnerSession();
  CHECK(w.as->ReadDisclosures(session, 0, 1000).body["entries"].size() ==
        log.body["entries"].size() + 1);
}

TEST_CASE("consent receipts and disclosure batches are anchored on the ledger", "[uma][ledger]") {
  // A real ledger with the consent validator.
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("medallion-uma-ledger-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  FakeClock clock{testing::kUmaNow * 1000};
  SeededRng rng{3};
  Env env{&clock, &rng};
  did::Resolver resolver;
  ledger::ValidatorRegistry validators;
  claims::RegisterAuthorValidators(validators, resolver);
  ledger::LogOptions lo;
  lo.validators = &validators;
  auto store = ledger::SqliteLeafStore::Open((dir / "ledger.db").string());
  REQUIRE(store);
  auto log = ledger::Log::Open(
      std::move(*store), ledger::Ed25519NoteSigner::FromSeed("ledger.test", Bytes(32, 9)), env, lo);
  REQUIRE(log);
  auto port = claims::MakeInProcessLedgerPort(log->get());
  {
    UmaWorld w("uma-ledger", port.get());
    Setup s(w);
    REQUIRE((*log)->Size() == 1);  // the grant's consent receipt (one purpose)
    Reply receipts = w.as->ListReceipts(s.session);
    REQUIRE(receipts.body.size() == 1);
    auto entry = json::parse((*(*log)->Entries(0, 1))[0].entry);
    CHECK(entry["type"] == "consent");
    CHECK(entry["action"] == "grant");
    // The controller is a per-receipt pseudonymous key, never her DID; the receipt list binds it
    // to her DID with a signature by her assertion key.
    CHECK(entry["controller"] == receipts.body[0]["signer"]);
    CHECK(entry.dump().find(w.patient.Did()) == std::string::npos);
    CHECK(entry.dump().find("did:") == std::string::npos);
    {
      const json& proof = receipts.body[0]["signer_proof"];
      auto proof_sig = Base64UrlDecode(proof["signature"].get<std::string>());
      REQUIRE(proof_sig);
      CHECK(proof["message"] == SignerBindingMessage(entry["controller"].get<std::string>(),
                                                     entry["receipt"].get<std::string>()));
      CHECK(claims::VerifySignature(claims::Alg::kEdDSA, w.patient.Signer().public_key,
                                    AsBytes(proof["message"].get<std::string>()), *proof_sig));
    }
    CHECK(entry["receipt"] == receipts.body[0]["hash"]);
    CHECK(entry["purpose"] == "treatment");
    // The pseudonym is not the DID, and the receipt hash is the hash of the receipt kept here.
    CHECK(entry["subject"].get<std::string>().find("did:") == std::string::npos);
    CHECK(entry.dump().find(w.physician.Did()) == std::string::npos);

    // A consent entry signed by someone else is refused by the validator.
    json forged = entry;
    forged.erase("sig");
    forged["ts"] = testing::kUmaNow + 1;
    auto canonical = jcs::Canonicalize(forged);
    forged["sig"] = Base64UrlEncode(*w.stranger.Signer().sign(AsBytes(*canonical)));
    CHECK_FALSE(port->Append(forged));

    // Disclosure batches: anchoring on demand writes the chain head.
    Reply a = w.as->AnchorDisclosures(s.session);
    REQUIRE(Http(a) == 200);
    auto anchor = json::parse(
        (*(*log)->Entries(a.body["ledger_index"], a.body["ledger_index"].get<uint64_t>() + 1))[0]
            .entry);
    CHECK(anchor["type"] == "anchor");
    CHECK(anchor["kind"] == "batch");
    CHECK(anchor["hash"] == a.body["hash"]);
    // Signed by its own pseudonymous key, which names nobody.
    CHECK(anchor.contains("key"));
    CHECK(anchor.contains("sig"));
    CHECK_FALSE(anchor.contains("by"));
    // A forged anchor (another key's signature) is refused by the node's validator.
    {
      json forged_anchor = anchor;
      forged_anchor["ts"] = testing::kUmaNow + 5;
      forged_anchor["sig"] = Base64UrlEncode(Bytes(64, 1));
      CHECK_FALSE(port->Append(forged_anchor));
    }
    Reply exported = w.as->ExportDisclosures(s.session);
    CHECK(VerifyDisclosureExport(exported.body));
    REQUIRE(exported.body["anchors"].size() == 1);
    {
      // The export binds the anchor's pseudonymous key to her DID: the key is the one on the
      // ledger, and her signature over the binding message verifies.
      const json& exported_anchor = exported.body["anchors"][0];
      CHECK(exported_anchor["signer"] == anchor["key"]);
      const json& proof = exported_anchor["signer_proof"];
      CHECK(proof["message"] == SignerBindingMessage(anchor["key"].get<std::string>(),
                                                     anchor["hash"].get<std::string>()));
      auto proof_sig = Base64UrlDecode(proof["signature"].get<std::string>());
      REQUIRE(proof_sig);
      CHECK(claims::VerifySignature(claims::Alg::kEdDSA, w.patient.Signer().public_key,
                                    AsBytes(proof["message"].get<std::string>()), *proof_sig));
      CHECK_FALSE(claims::VerifySignature(claims::Alg::kEdDSA, w.stranger.Signer().public_key,
                                          AsBytes(proof["message"].get<std::string>()),
                                          *proof_sig));
    }

    // Revoking the policy anchors a revoke naming the grant's receipt.
    Reply policies = w.as->ListPolicies(s.session);
    REQUIRE(Http(w.as->DeletePolicy(s.session, policies.body[0]["id"].get<std::string>())) == 200);
    const uint64_t last = (*log)->Size() - 1;
    auto revoke = json::parse((*(*log)->Entries(last, last + 1))[0].entry);
    CHECK(revoke["action"] == "revoke");
    CHECK(revoke["receipt"] == entry["receipt"]);
    CHECK(revoke["controller"] == entry["controller"]);  // the grant's key revokes it
  }
  log->reset();
  std::filesystem::remove_all(dir);
}

// Issue 12's conformance findings: FedAuthz §3.2.1 Location, §4.1 zero or more scopes, and a
// discovery document with no value outside RFC 8414's registries.
TEST_CASE(
    "resource registration has a Location; a ticket may ask for zero scopes; discovery is "
    "registry-clean",
    "[uma]") {
  UmaWorld w("uma-conformance");
  Setup s(w);
  Reply r = w.as->CreateResource(
      s.pat, {{"name", "Allergies"}, {"type", kType}, {"resource_scopes", {"read"}}});
  REQUIRE(Http(r) == 201);
  bool has_location = false;
  for (const auto& [k, v] : r.headers) {
    if (k == "Location")
      has_location =
          v == w.as->options().issuer + "/uma/resource_set/" + r.body["_id"].get<std::string>();
  }
  CHECK(has_location);
  Reply t = w.as->RequestPermission(
      s.pat, {{"resource_id", s.resource}, {"resource_scopes", json::array()}});
  CHECK(Http(t) == 201);
  CHECK(t.body.contains("ticket"));
  Reply bad =
      w.as->RequestPermission(s.pat, {{"resource_id", s.resource}, {"resource_scopes", "read"}});
  CHECK(Http(bad) == 400);
  const json d = w.as->Discovery();
  CHECK_FALSE(d.contains("introspection_endpoint_auth_methods_supported"));
  CHECK_FALSE(d.contains("uma_profiles_supported"));
  CHECK(d.dump().find("\"bearer\"") == std::string::npos);
}

// Request bodies are outside input: a member of the wrong type is a 400 with the protocol's
// error code, never an exception.
TEST_CASE("wrong types in request bodies are refused, never thrown", "[uma][wrong-type]") {
  UmaWorld w("uma-wrong-types");
  Setup s(w);
  const json bad_values[] = {json(7),       json(-1.5), json::array(), json::object(),
                             json(nullptr), json(true), json("x y")};
  auto refused = [](const Reply& r, const char* error) {
    INFO(r.body.dump());
    CHECK(Http(r) == 400);
    CHECK(r.status.code() == StatusCode::kInvalidArgument);
    CHECK(r.status.reason() == error);
    CHECK(r.body["error"] == error);
  };
  for (const json& v : bad_values) {
    INFO(v.dump());
    for (const char* member :
         {"scope", "token_endpoint_auth_method", "grant_types", "client_name"}) {
      if (v == json("x y") && std::string(member) == "client_name") continue;  // a valid name
      INFO(member);
      refused(w.as->RegisterClient({{member, v}}, s.session), "invalid_client_metadata");
    }
    refused(w.as->RegisterClient({{"redirect_uris", {v}}}, ""), "invalid_redirect_uri");
    for (const char* member : {"resource_scopes", "name", "type", "description", "icon_uri"}) {
      if (v == json("x y") && std::string(member) != "resource_scopes") continue;
      json d = {{"resource_scopes", {"read"}}};
      d[member] = v;
      INFO(member);
      refused(w.as->CreateResource(s.pat, d), "invalid_request");
      refused(w.as->UpdateResource(s.pat, s.resource, d), "invalid_request");
    }
    refused(w.as->RequestPermission(s.pat, {{"resource_id", v}, {"resource_scopes", {"read"}}}),
            "invalid_resource_id");
    refused(w.as->RequestPermission(s.pat, {{"resource_id", s.resource}, {"resource_scopes", {v}}}),
            "invalid_scope");
    for (const char* member :
         {"effect", "subjects", "resource_types", "scopes", "purposes", "owner_approval"}) {
      json policy = {{"effect", "permit"},
                     {"subjects", {{{"credential_type", "MedicalLicenseCredential"}}}},
                     {"resource_types", {"MedicationRequest"}},
                     {"purposes", {"treatment"}}};
      policy[member] = v;
      const std::string m = member;
      if ((m == "scopes" && v == json::array()) || (m == "owner_approval" && v.is_boolean()))
        continue;  // valid
      INFO(member);
      refused(w.as->AddPolicy(s.session, policy), "invalid_request");
    }
    json credential = {{"@context", {claims::kVcContextV2}},
                       {"type", {"VerifiableCredential"}},
                       {"issuer", w.society.Did()},
                       {"credentialSubject", {{"id", w.patient.Did()}}}};
    for (const char* member : {"type", "credentialSubject", "issuer", "@context"}) {
      json c = credential;
      c[member] = v;
      INFO(member);
      refused(w.as->DeliverCredential(c), "invalid_credential");
    }
  }
}
