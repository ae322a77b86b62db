// Interactive claims gathering (UMA Grant §3.3.2-§3.3.3) by OpenID4VP 1.0: the claims
// interaction endpoint, the physician's wallet answering its request with her license SD-JWT
// VC (oid4vc wallet helpers), the new ticket redeemed for the RPT; and every refusal.
#include <catch2/catch.hpp>

#include <algorithm>

#include "medallion/oid4vc/verifier.h"
#include "uma/reply_http.h"
#include "uma/uma_world.h"

using namespace medallion;
using namespace medallion::uma;
using medallion::testing::Http;
using medallion::testing::UmaKey;
using medallion::testing::UmaWorld;
using nlohmann::json;
using Form = std::map<std::string, std::string>;

namespace {

constexpr char kType[] = "http://hl7.org/fhir/StructureDefinition/MedicationRequest";
constexpr char kRedirect[] = "https://drapp.example/claims-done";

// "a%20b" → "a b" (the tests read the redirect URIs the server builds with PercentEncode).
std::string Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

// The query parameters of a URI.
Form QueryOf(const std::string& uri) {
  Form out;
  const size_t q = uri.find('?');
  if (q == std::string::npos) return out;
  std::string_view rest(uri);
  rest.remove_prefix(q + 1);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    const size_t eq = pair.find('=');
    out[std::string(pair.substr(0, eq))] =
        eq == std::string_view::npos ? "" : Unescape(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return out;
}

struct Gathering {
  UmaWorld w{"uma-ci"};
  std::string pat, resource, client_id, client_secret;

  Gathering() {
    pat = *w.as->InternalPat("fhir");
    Reply r = w.as->CreateResource(
        pat, {{"name", "Medication requests"}, {"type", kType}, {"resource_scopes", {"read"}}});
    REQUIRE(Http(r) == 201);
    resource = r.body["_id"];
    Reply c = w.as->RegisterClient({{"client_name", "Dr. app"}, {"redirect_uris", {kRedirect}}},
                                   "");
    REQUIRE(Http(c) == 201);
    client_id = c.body["client_id"];
    client_secret = c.body["client_secret"];
    Reply p = w.as->AddPolicy(w.OwnerSession(),
                              {{"effect", "permit"},
                               {"subjects", {{{"credential_type", "MedicalLicenseCredential"}}}},
                               {"resource_types", {"MedicationRequest"}},
                               {"scopes", {"read"}},
                               {"purposes", {"treatment"}}});
    REQUIRE(Http(p) == 201);
  }

  Reply Token(Form form, const std::string& id = "", const std::string& secret = "") {
    form["grant_type"] = kUmaTicketGrant;
    return w.as->Token(form, {id.empty() ? client_id : id, id.empty() ? client_secret : secret});
  }

  // A ticket from the resource server, then the token endpoint's need_info ticket.
  std::string NeedInfoTicket() {
    Reply t = w.as->RequestPermission(pat, {{"resource_id", resource}, {"resource_scopes", {"read"}}});
    REQUIRE(Http(t) == 201);
    Reply first = Token({{"ticket", t.body["ticket"]}});
    REQUIRE(first.body["error"] == "need_info");
    return first.body["ticket"];
  }

  Reply Interact(const std::string& ticket, const std::string& redirect = kRedirect,
                 const std::string& client = "", const std::string& state = "client-state-1") {
    return w.as->ClaimsInteraction({{"client_id", client.empty() ? client_id : client},
                                    {"ticket", ticket},
                                    {"claims_redirect_uri", redirect},
                                    {"state", state},
                                    {"purpose_of_use", "treatment"}});
  }

  // The wallet's reading of the request the interaction answered with.
  oid4vc::ParsedRequest Request(const Reply& interaction) {
    REQUIRE(interaction.ok());
    Form params = QueryOf(interaction.body["redirect_to"]);
    auto parsed = oid4vc::ParseAuthorizationRequest(params);
    REQUIRE(parsed);
    return *parsed;
  }

  // The physician's wallet: her license, a KB-JWT by `key` (her own by default).
  Form Answer(const oid4vc::ParsedRequest& request, const std::string& license,
              const UmaKey* key = nullptr) {
    auto form =
        oid4vc::BuildResponse(request, {license}, (key ? *key : w.physician).Signer(), w.env);
    REQUIRE(form);
    return *form;
  }
};

}  // namespace

TEST_CASE("claims interaction: need_info redirect_user, OpenID4VP presentation, then the RPT",
          "[uma][claims_interaction]") {
  Gathering g;
  CHECK(g.w.as->Discovery()["claims_interaction_endpoint"] ==
        g.w.issuer + "/uma/claims_interaction");
  const std::string ticket = g.NeedInfoTicket();
  {
    // need_info says the user may be redirected (UMA Grant §3.3.6), beside the pushed claims.
    Reply t = g.w.as->RequestPermission(g.pat,
                                        {{"resource_id", g.resource}, {"resource_scopes", {"read"}}});
    Reply first = g.Token({{"ticket", t.body["ticket"]}});
    CHECK(first.body["redirect_user"] == true);
    CHECK(first.body["required_claims"].size() == 3);
  }
  Reply interaction = g.Interact(ticket);
  REQUIRE(interaction.ok());
  const std::string to = interaction.body["redirect_to"];
  CHECK(to.rfind("openid4vp://?", 0) == 0);
  const json params = interaction.body["authorization_request"];
  CHECK(params["response_mode"] == "direct_post");
  CHECK(params["response_type"] == "vp_token");
  CHECK(params["response_uri"] == g.w.issuer + "/uma/claims_interaction/response");
  CHECK(params["client_id"] == "redirect_uri:" + g.w.issuer + "/uma/claims_interaction/response");
  // Only what the policies and the owner's approval use: not her name, specialty or schedules.
  const json dcql = json::parse(params["dcql_query"].get<std::string>());
  const std::string asked = dcql["credentials"][0]["claims"].dump();
  CHECK(dcql["credentials"][0]["meta"]["vct_values"][0] == kLicenseVct);
  CHECK(asked.find("license_type") != std::string::npos);
  CHECK(asked.find("jurisdiction") != std::string::npos);
  CHECK(asked.find("name") == std::string::npos);
  CHECK(asked.find("specialty") == std::string::npos);
  // The ticket is spent by the interaction.
  CHECK(g.Token({{"ticket", ticket}}).body["error"] == "invalid_grant");

  const oid4vc::ParsedRequest request = g.Request(interaction);
  // The gathering record is no ticket.
  CHECK(g.Token({{"ticket", request.state}}).body["error"] == "invalid_grant");
  Reply posted = g.w.as->ClaimsPresentation(g.Answer(request, g.w.LicenseSdJwt(g.w.physician)));
  INFO(posted.body.dump());
  REQUIRE(posted.ok());
  const std::string back = posted.body["redirect_uri"];
  CHECK(back.rfind(std::string(kRedirect) + "?", 0) == 0);
  Form q = QueryOf(back);
  CHECK(q["authorization_state"] == "claims_submitted");
  CHECK(q["state"] == "client-state-1");
  REQUIRE(!q["ticket"].empty());
  // UMA Grant §3.3.3 → §3.3.1: the client redeems the new ticket.
  Reply rpt = g.Token({{"ticket", q["ticket"]}});
  REQUIRE(rpt.ok());
  CHECK(rpt.body["scope"] == "read");
  CHECK_FALSE(rpt.body.contains("pct"));  // no PCT for gathered claims
  Reply intro = g.w.as->Introspect(g.pat, rpt.body["access_token"].get<std::string>());
  CHECK(intro.body["active"] == true);
  // The ticket of claims_submitted is single use too.
  CHECK(g.Token({{"ticket", q["ticket"]}}).body["error"] == "invalid_grant");
}

TEST_CASE("claims interaction: a replayed direct_post is refused", "[uma][claims_interaction]") {
  Gathering g;
  const oid4vc::ParsedRequest request = g.Request(g.Interact(g.NeedInfoTicket()));
  const Form form = g.Answer(request, g.w.LicenseSdJwt(g.w.physician));
  Reply first = g.w.as->ClaimsPresentation(form);
  REQUIRE(first.ok());
  Reply again = g.w.as->ClaimsPresentation(form);
  CHECK_FALSE(again.ok());
  CHECK(again.body["error"] == "invalid_request");
  CHECK_FALSE(again.body.contains("redirect_uri"));
  CHECK(again.body.dump().find("claims_submitted") == std::string::npos);
}

TEST_CASE("claims interaction: a KB-JWT with the wrong nonce is refused and leaves the gathering "
          "open",
          "[uma][claims_interaction]") {
  Gathering g;
  oid4vc::ParsedRequest request = g.Request(g.Interact(g.NeedInfoTicket()));
  const std::string license = g.w.LicenseSdJwt(g.w.physician);
  oid4vc::ParsedRequest wrong = request;
  wrong.nonce = "not-the-nonce";
  Reply r = g.w.as->ClaimsPresentation(g.Answer(wrong, license));
  CHECK_FALSE(r.ok());
  CHECK(r.body["error"] == "invalid_request");
  CHECK(r.body["error_description"].get<std::string>().find("nonce") != std::string::npos);
  // Not the holder's answer to this request: the client hears nothing, nothing is spent.
  CHECK_FALSE(r.body.contains("redirect_uri"));
  Reply ok = g.w.as->ClaimsPresentation(g.Answer(request, license));
  REQUIRE(ok.ok());
  CHECK(QueryOf(ok.body["redirect_uri"])["authorization_state"] == "claims_submitted");
}

TEST_CASE("claims interaction: a garbled post or a §8.5 error post leaves the gathering open",
          "[uma][claims_interaction]") {
  Gathering g;
  const oid4vc::ParsedRequest request = g.Request(g.Interact(g.NeedInfoTicket()));
  const std::string license = g.w.LicenseSdJwt(g.w.physician);
  const Form good = g.Answer(request, license);
  // Anyone who saw the link knows the state.
  Reply garbled = g.w.as->ClaimsPresentation(
      {{"state", request.state}, {"vp_token", R"({"license":["not-an-sd-jwt~"]})"}});
  CHECK_FALSE(garbled.ok());
  CHECK(garbled.body["error"] == "invalid_request");
  CHECK_FALSE(garbled.body.contains("redirect_uri"));
  Reply not_json = g.w.as->ClaimsPresentation({{"state", request.state}, {"vp_token", "{"}});
  CHECK_FALSE(not_json.ok());
  CHECK_FALSE(not_json.body.contains("redirect_uri"));
  // A presentation with the signature of its KB-JWT broken.
  Form forged = good;
  std::string& vp = forged["vp_token"];
  const size_t tilde = vp.rfind('~');
  REQUIRE(tilde != std::string::npos);
  const size_t sig = vp.rfind('.');
  REQUIRE(sig != std::string::npos);
  REQUIRE(sig > tilde);
  vp[sig + 2] = vp[sig + 2] == 'A' ? 'B' : 'A';
  Reply bad_sig = g.w.as->ClaimsPresentation(forged);
  CHECK_FALSE(bad_sig.ok());
  CHECK_FALSE(bad_sig.body.contains("redirect_uri"));
  // OpenID4VP §8.5: "the wallet declined" — anyone can say so; noted, not terminal.
  Reply declined = g.w.as->ClaimsPresentation(
      {{"state", request.state}, {"error", "access_denied"}, {"error_description", "no"}});
  CHECK(declined.ok());
  CHECK_FALSE(declined.body.contains("redirect_uri"));
  CHECK(declined.body.dump().find("claims_submitted") == std::string::npos);
  // The physician's wallet still answers.
  Reply ok = g.w.as->ClaimsPresentation(good);
  REQUIRE(ok.ok());
  Form q = QueryOf(ok.body["redirect_uri"]);
  CHECK(q["authorization_state"] == "claims_submitted");
  CHECK(q["state"] == "client-state-1");
  REQUIRE(g.Token({{"ticket", q["ticket"]}}).ok());
  // ... once.
  CHECK_FALSE(g.w.as->ClaimsPresentation(good).ok());
}

TEST_CASE("claims interaction: an answer posted with another ticket's state is refused",
          "[uma][claims_interaction]") {
  Gathering g;
  const oid4vc::ParsedRequest a = g.Request(g.Interact(g.NeedInfoTicket(), kRedirect, "", "a"));
  const oid4vc::ParsedRequest b = g.Request(g.Interact(g.NeedInfoTicket(), kRedirect, "", "b"));
  const std::string license = g.w.LicenseSdJwt(g.w.physician);
  Form crossed = g.Answer(a, license);
  crossed["state"] = b.state;  // a's presentation (a's nonce) for b's request
  Reply r = g.w.as->ClaimsPresentation(crossed);
  CHECK_FALSE(r.ok());
  CHECK_FALSE(r.body.contains("redirect_uri"));  // b's nonce is not in it: b stays open
  // a's own answer still goes through, and b's.
  Reply ok = g.w.as->ClaimsPresentation(g.Answer(a, license));
  REQUIRE(ok.ok());
  CHECK(QueryOf(ok.body["redirect_uri"])["state"] == "a");
  Reply ok_b = g.w.as->ClaimsPresentation(g.Answer(b, license));
  REQUIRE(ok_b.ok());
  CHECK(QueryOf(ok_b.body["redirect_uri"])["state"] == "b");
}

TEST_CASE("claims interaction: an unregistered claims_redirect_uri is refused, not redirected",
          "[uma][claims_interaction]") {
  Gathering g;
  const std::string ticket = g.NeedInfoTicket();
  for (const std::string& bad : std::vector<std::string>{"https://evil.example/cb", std::string(kRedirect) + "/x",
                                std::string(kRedirect) + "?next=https://evil.example"}) {
    Reply r = g.Interact(ticket, bad);
    CHECK_FALSE(r.ok());
    CHECK(r.body["error"] == "invalid_request");
    CHECK_FALSE(r.body.contains("redirect_to"));
  }
  Reply unknown = g.Interact(ticket, kRedirect, "no-such-client");
  CHECK(unknown.body["error"] == "invalid_client");
  CHECK_FALSE(unknown.body.contains("redirect_to"));
  // A client that registered no redirect URI has none.
  Reply c = g.w.as->RegisterClient({{"client_name", "plain"}}, "");
  Reply none = g.Interact(ticket, kRedirect, c.body["client_id"]);
  CHECK(none.body["error"] == "invalid_request");
  // None of these spent the ticket.
  REQUIRE(g.Interact(ticket).ok());
}

TEST_CASE("claims interaction: another client's ticket goes back with invalid_grant",
          "[uma][claims_interaction]") {
  Gathering g;
  Reply other = g.w.as->RegisterClient({{"client_name", "other"}, {"redirect_uris", {kRedirect}}},
                                       "");
  Reply r = g.Interact(g.NeedInfoTicket(), kRedirect, other.body["client_id"]);
  REQUIRE(r.ok());  // answered by a redirect to the (registered) claims_redirect_uri
  Form q = QueryOf(r.body["redirect_to"]);
  CHECK(q["error"] == "invalid_grant");
  CHECK(q["state"] == "client-state-1");
  CHECK(g.Interact("no-such-ticket").body.contains("redirect_to"));
}

TEST_CASE("claims interaction: a presentation without the claims asked for, or failing the "
          "license checks, is refused",
          "[uma][claims_interaction]") {
  Gathering g;
  auto refused = [&](const Form& form, const std::string& reason,
                     const oid4vc::ParsedRequest& request) {
    Reply r = g.w.as->ClaimsPresentation(form);
    CHECK_FALSE(r.ok());
    CHECK(r.body["error_description"].get<std::string>().find(reason) != std::string::npos);
    CHECK(QueryOf(r.body["redirect_uri"])["error"] == "access_denied");
    // The holder answered: the gathering is over; her full answer now finds no request.
    Reply late = g.w.as->ClaimsPresentation(g.Answer(request, g.w.LicenseSdJwt(g.w.physician)));
    CHECK_FALSE(late.ok());
    CHECK_FALSE(late.body.contains("redirect_uri"));
  };
  SECTION("license_type withheld") {
    oid4vc::ParsedRequest request = g.Request(g.Interact(g.NeedInfoTicket()));
    oid4vc::ParsedRequest less = request;
    auto& claims = less.query.credentials[0].claims;
    claims.erase(std::remove_if(claims.begin(), claims.end(),
                                [](const oid4vc::ClaimsQuery& c) {
                                  return c.path == json::array({"license_type"});
                                }),
                 claims.end());
    refused(g.Answer(less, g.w.LicenseSdJwt(g.w.physician)), "license_type", request);
  }
  SECTION("an untrusted issuer: refused, but anyone can issue himself one, so not terminal") {
    oid4vc::ParsedRequest request = g.Request(g.Interact(g.NeedInfoTicket()));
    Reply r = g.w.as->ClaimsPresentation(g.Answer(
        request, g.w.LicenseSdJwt(g.w.physician, "MD-1", nullptr, &g.w.rogue_society)));
    CHECK_FALSE(r.ok());
    CHECK(r.body["error_description"].get<std::string>().find("untrusted_issuer") !=
          std::string::npos);
    CHECK_FALSE(r.body.contains("redirect_uri"));
    REQUIRE(g.w.as->ClaimsPresentation(g.Answer(request, g.w.LicenseSdJwt(g.w.physician))).ok());
  }
  SECTION("a license bound to a key that is not the DID's") {
    oid4vc::ParsedRequest request = g.Request(g.Interact(g.NeedInfoTicket()));
    refused(g.Answer(request, g.w.LicenseSdJwt(g.w.physician, "MD-12345", &g.w.stranger),
                     &g.w.stranger),
            "holder_binding", request);
  }
  SECTION("a revoked license") {
    g.w.revoked.insert("MD-12345");
    oid4vc::ParsedRequest request = g.Request(g.Interact(g.NeedInfoTicket()));
    refused(g.Answer(request, g.w.LicenseSdJwt(g.w.physician)), "license_status", request);
  }
}

TEST_CASE("claims interaction: the pushed claim token path is unchanged beside it",
          "[uma][claims_interaction]") {
  Gathering g;
  const std::string ticket = g.NeedInfoTicket();
  Reply r = g.Token({{"ticket", ticket},
                     {"claim_token", g.w.Vp(g.w.physician, {g.w.License(g.w.physician)}, ticket)},
                     {"claim_token_format", kClaimTokenVp}});
  REQUIRE(r.ok());
  CHECK(r.body.contains("pct"));
}

TEST_CASE("claims interaction is off without a license status check for SD-JWT VCs",
          "[uma][claims_interaction]") {
  UmaWorld w("uma-ci-off");
  auto o = w.Options();
  o.sd_jwt_license_status = nullptr;
  w.as.reset();
  w.records.reset();
  auto as = AuthorizationServer::Open(w.consent, o, w.env);
  REQUIRE(as);
  CHECK_FALSE((*as)->Discovery().contains("claims_interaction_endpoint"));
  CHECK((*as)->ClaimsInteraction({}).body["error"] == "not_found");
}

TEST_CASE("claims interaction: an answer in the request's last second is taken, one after it "
          "expired is refused",
          "[uma][claims_interaction]") {
  Gathering g;
  const std::string license = g.w.LicenseSdJwt(g.w.physician);
  const oid4vc::ParsedRequest late = g.Request(g.Interact(g.NeedInfoTicket()));
  const oid4vc::ParsedRequest last = g.Request(g.Interact(g.NeedInfoTicket()));
  g.w.Advance(600 - 1);  // claims_interaction_ttl
  Reply ok = g.w.as->ClaimsPresentation(g.Answer(last, license));
  REQUIRE(ok.ok());
  CHECK(QueryOf(ok.body["redirect_uri"])["authorization_state"] == "claims_submitted");
  g.w.Advance(2);
  Reply expired = g.w.as->ClaimsPresentation(g.Answer(late, license));
  CHECK_FALSE(expired.ok());
  CHECK_FALSE(expired.body.contains("redirect_uri"));
}
