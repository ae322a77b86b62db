// The prescription flow's steps as the people's apps perform them (flow.h).
#include "medallion/roles/flow.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "medallion/roles/files.h"
#include "medallion/claims/credentials.h"
#include "medallion/claims/data_integrity.h"
#include "medallion/claims/jose.h"
#include "medallion/claims/ledger_entries.h"
#include "medallion/claims/pharmacy.h"
#include "medallion/claims/sd_jwt.h"
#include "medallion/core/encoding.h"
#include "medallion/core/env.h"
#include "medallion/core/json.h"
#include "medallion/did/did_key.h"
#include "medallion/http/http_client.h"
#include "medallion/oid4vc/verifier.h"
#include "medallion/roles/uma_http.h"
#include "medallion/uma/authorization_server.h"
#include "medallion/uma/relationship.h"
#include "medallion/wallet/hd_key.h"

namespace medallion::roles::flow {

using wallet::KeyPurpose;

int64_t Now() { return DefaultEnv().clock->NowSeconds(); }

std::string Party::Kid(const std::shared_ptr<wallet::SigningKey>& key) const {
  return did + "#" + *did::MultikeyFromPublicKey(did::KeyType::kEd25519, key->public_key);
}
claims::Signer Party::Signer(const std::shared_ptr<wallet::SigningKey>& key) const {
  return claims::WalletSigner(key, Kid(key));
}

Result<Party> PartyFromSeed(ByteView seed, const std::string& did) {
  Party p;
  p.did = did;
  p.seed = SecretBytes::CopyFrom(seed);
  auto derive = [&](KeyPurpose purpose) {
    return wallet::DeriveSigningKey(seed, wallet::SignatureAlg::kEdDSA,
                                    wallet::PurposeKeyPath(0, purpose, 0));
  };
  MDL_ASSIGN_OR_RETURN(wallet::SigningKey a, derive(KeyPurpose::kAuthentication));
  MDL_ASSIGN_OR_RETURN(wallet::SigningKey s, derive(KeyPurpose::kAssertion));
  p.auth = std::make_shared<wallet::SigningKey>(std::move(a));
  p.assertion = std::make_shared<wallet::SigningKey>(std::move(s));
  if (p.did.empty()) {
    MDL_ASSIGN_OR_RETURN(p.did,
                         did::DidKeyFromPublicKey(did::KeyType::kEd25519, p.auth->public_key));
  }
  return p;
}

Result<Party> PairwiseParty(const Party& p, uint32_t index) {
  MDL_ASSIGN_OR_RETURN(uma::PairwiseSigner pairwise,
                       uma::DerivePairwiseSigner(p.seed.Reveal(), index));
  Party out;
  out.did = pairwise.did;
  out.seed = SecretBytes::CopyFrom(p.seed.Reveal());
  out.auth = out.assertion = pairwise.key;
  return out;
}

Result<Party> PartyFromStore(const std::string& store, const std::string& passphrase_file,
                             const std::string& did) {
  MDL_ASSIGN_OR_RETURN(wallet::WalletSecret secret, OpenAndUnlock(store, passphrase_file));
  return PartyFromSeed(secret.seed.Reveal(), did);
}

namespace {

Result<Answer> Parse(const std::string& url, const http::HttpReply& r) {
  if (r.body.empty()) return Answer{r.status, json::object()};
  // Bounded like every parse of outside JSON (core/json.h): a hostile server's 100,000-deep
  // answer is refused, not recursed into.
  auto j = ParseJson(r.body, JsonLimits{size_t{64} << 20, 64});
  if (!j)
    return Status::Unavailable(
        url + " answered with something other than bounded JSON: " + j.error().message());
  return Answer{r.status, std::move(*j)};
}

Result<Answer> PostForm(const std::string& url, const std::string& form) {
  MDL_ASSIGN_OR_RETURN(http::HttpReply r,
                       http::HttpCall("POST", url, "", form, "application/x-www-form-urlencoded"));
  return Parse(url, r);
}

// "error: description" of a refusal, for messages.
std::string Why(const Answer& a) {
  return std::to_string(a.status) + " " + a.body.value("error", "") +
         (a.body.contains("error_description") ? ": " + a.body.value("error_description", "") : "");
}

}  // namespace

Result<Answer> Call(const std::string& method, const std::string& url, const std::string& bearer,
                    const json* body) {
  MDL_ASSIGN_OR_RETURN(http::HttpReply r,
                       http::HttpCall(method, url, bearer, body ? body->dump() : ""));
  return Parse(url, r);
}

Result<std::string> DidAuth(const Party& p, const std::string& audience, const std::string& nonce,
                            const json& extra) {
  json doc = {{"sub", p.did}};
  for (auto& [k, v] : extra.items()) doc[k] = v;
  claims::JwtSignOptions o;
  o.issued_at = Now();
  o.expires = Now() + 120;
  o.audience = audience;
  o.nonce = nonce;
  return claims::SignJwt(claims::JwtKind::kDidAuth, doc, p.Signer(p.auth), o);
}

Result<std::string> OwnerSignIn(const Party& owner, const std::string& container) {
  MDL_ASSIGN_OR_RETURN(Answer ch, Call("POST", container + "/owner/v1/challenge"));
  if (ch.status != 200) return Status::Unavailable("no sign-in challenge: " + Why(ch));
  MDL_ASSIGN_OR_RETURN(std::string token,
                       DidAuth(owner, ch.body.value("audience", ""), ch.body.value("nonce", "")));
  json body = {{"token", token}};
  MDL_ASSIGN_OR_RETURN(Answer s, Call("POST", container + "/owner/v1/session", "", &body));
  if (s.status != 200 || !s.body["access_token"].is_string())
    return Status::PermissionDenied("sign-in refused: " + Why(s));
  return s.body["access_token"].get<std::string>();
}

// --- the society ---

Result<std::string> SocietyDid(const std::string& society_url) {
  MDL_ASSIGN_OR_RETURN(Answer doc, Call("GET", society_url + "/.well-known/did.json"));
  if (doc.status != 200 || !doc.body["id"].is_string())
    return Status::Unavailable(society_url + " publishes no did:web document");
  return doc.body["id"].get<std::string>();
}

Result<Answer> Onboard(const Party& physician, const std::string& society_url,
                       const std::string& license_number, const std::string& name) {
  MDL_ASSIGN_OR_RETURN(std::string society_did, SocietyDid(society_url));
  MDL_ASSIGN_OR_RETURN(Answer ch, Call("POST", society_url + "/society/v1/challenge"));
  if (ch.status != 200 || !ch.body["nonce"].is_string())
    return Status::Unavailable("no onboarding challenge: " + Why(ch));
  MDL_ASSIGN_OR_RETURN(std::string proof, DidAuth(physician, society_did, ch.body["nonce"]));
  json onboard = {{"proof", proof}, {"license_number", license_number}, {"name", name}};
  return Call("POST", society_url + "/society/v1/licenses", "", &onboard);
}

Result<Answer> SetLicenseStatus(const std::string& society_url, const std::string& admin_token,
                                const std::string& license_id, const std::string& action) {
  json body = {{"action", action}};
  return Call("POST", society_url + "/society/v1/licenses/" + license_id + "/status", admin_token,
              &body);
}

// --- UMA ---

Status UmaClient::Register() {
  json meta = {{"client_name", "Dr. app"},
               {"grant_types", {uma::kUmaTicketGrant}},
               {"token_endpoint_auth_method", "client_secret_post"}};
  if (!claims_redirect_uri.empty()) meta["redirect_uris"] = json::array({claims_redirect_uri});
  MDL_ASSIGN_OR_RETURN(Answer r, Call("POST", container + "/register", "", &meta));
  if (r.status != 201) return Status::Unavailable("client registration refused: " + Why(r));
  client_id = r.body.value("client_id", "");
  client_secret = r.body.value("client_secret", "");
  return Status::Ok();
}

Result<Answer> UmaClient::Token(const std::string& ticket, const std::string& claim_token) {
  std::string form = "grant_type=" + PercentEncode(uma::kUmaTicketGrant) +
                     "&ticket=" + PercentEncode(ticket) + "&client_id=" + PercentEncode(client_id) +
                     "&client_secret=" + PercentEncode(client_secret);
  if (!claim_token.empty())
    form +=
        "&claim_token=" + claim_token + "&claim_token_format=" + PercentEncode(uma::kClaimTokenVp);
  if (claim_token.empty() && !pct.empty()) form += "&pct=" + PercentEncode(pct);
  return PostForm(container + "/token", form);
}

Result<Answer> UmaClient::Grant(const std::string& ticket, const Party& physician,
                                const json& license) {
  MDL_ASSIGN_OR_RETURN(Answer first, Token(ticket));
  if (first.status != 200 && first.body.value("error", "") == "need_info" &&
      first.body["ticket"].is_string()) {
    const std::string next = first.body["ticket"];
    json vp = {{"@context", {claims::kVcContextV2}},
               {"type", {"VerifiablePresentation"}},
               {"holder", physician.did},
               {"purpose_of_use", "treatment"}};
    if (!license.is_null()) vp["verifiableCredential"] = json::array({license});
    claims::JwtSignOptions o;
    o.issued_at = Now();
    o.expires = Now() + 300;
    o.audience = container;
    o.nonce = next;
    MDL_ASSIGN_OR_RETURN(std::string token, claims::SignJwt(claims::JwtKind::kPresentation, vp,
                                                            physician.Signer(physician.auth), o));
    MDL_ASSIGN_OR_RETURN(first, Token(next, token));
  }
  if (first.status == 200) {
    if (first.body["pct"].is_string()) pct = first.body["pct"];
    if (first.body["access_token"].is_string()) rpt = first.body["access_token"];
  }
  return first;
}

namespace {

// The query parameters of a URI (form-decoded); repeated ones refused.
Result<std::map<std::string, std::string>> QueryOf(const std::string& uri) {
  const size_t q = uri.find('?');
  if (q == std::string::npos) return std::map<std::string, std::string>{};
  std::string query = uri.substr(q + 1);
  if (const size_t hash = query.find('#'); hash != std::string::npos) query.resize(hash);
  return ParseForm(query);
}

}  // namespace

Result<Answer> UmaClient::GrantByPresentation(const std::string& ticket, const Party& physician,
                                              const std::string& license_sd_jwt) {
  if (claims_redirect_uri.empty())
    return Status::FailedPrecondition("interactive claims gathering needs a claims_redirect_uri");
  MDL_ASSIGN_OR_RETURN(Answer first, Token(ticket));
  if (first.status == 200 || first.body.value("error", "") != "need_info" ||
      !first.body["ticket"].is_string() || first.body.value("redirect_user", false) != true)
    return first;
  MDL_ASSIGN_OR_RETURN(Answer meta, Call("GET", container + "/.well-known/uma2-configuration"));
  const std::string endpoint = meta.body.value("claims_interaction_endpoint", "");
  if (meta.status != 200 || endpoint.empty())
    return Status::FailedPrecondition(container + " has no claims_interaction_endpoint");
  // UMA Grant §3.3.2: the user agent goes to the endpoint; here the client follows for her.
  Env env = DefaultEnv();
  const std::string state = env.rng->RandomId(24);
  const std::string url = endpoint + "?client_id=" + PercentEncode(client_id) +
                          "&ticket=" + PercentEncode(first.body["ticket"].get<std::string>()) +
                          "&claims_redirect_uri=" + PercentEncode(claims_redirect_uri) +
                          "&state=" + PercentEncode(state) + "&purpose_of_use=treatment";
  MDL_ASSIGN_OR_RETURN(http::HttpReply to_wallet, http::HttpCall("GET", url, ""));
  if (to_wallet.status != 302 || !to_wallet.location.starts_with(oid4vc::kRequestScheme)) {
    if (to_wallet.status == 302) {  // §3.3.3: an error sent back to the claims_redirect_uri
      MDL_ASSIGN_OR_RETURN(auto back, QueryOf(to_wallet.location));
      return Answer{400, json(back)};
    }
    return Parse(url, to_wallet);
  }
  std::map<std::string, std::string> params;
  MDL_ASSIGN_OR_RETURN(Answer carried, Parse(url, to_wallet));
  if (carried.body["authorization_request"].is_object()) {
    for (const auto& [k, v] : carried.body["authorization_request"].items()) {
      if (!v.is_string()) return Status::Unavailable("a malformed authorization request");
      params[k] = v.get<std::string>();
    }
  } else {
    MDL_ASSIGN_OR_RETURN(params, QueryOf(to_wallet.location));
  }
  // The physician's wallet (OpenID4VP §5, §8.2): her license, only the claims asked for, a
  // KB-JWT by her authentication key for the request's nonce and client_id.
  MDL_ASSIGN_OR_RETURN(oid4vc::ParsedRequest request, oid4vc::ParseAuthorizationRequest(params));
  MDL_ASSIGN_OR_RETURN(auto form, oid4vc::BuildResponse(request, {license_sd_jwt},
                                                        physician.Signer(physician.auth), env));
  std::string body;
  for (const auto& [k, v] : form) body += (body.empty() ? "" : "&") + k + "=" + PercentEncode(v);
  MDL_ASSIGN_OR_RETURN(Answer posted, PostForm(request.response_uri, body));
  if (posted.status != 200 || !posted.body["redirect_uri"].is_string()) return posted;
  // UMA Grant §3.3.3: back at the claims_redirect_uri with the new ticket.
  const std::string back = posted.body["redirect_uri"];
  if (!back.starts_with(claims_redirect_uri))
    return Status::PermissionDenied("the container redirected elsewhere than claims_redirect_uri");
  MDL_ASSIGN_OR_RETURN(auto returned, QueryOf(back));
  if (returned["state"] != state)
    return Status::PermissionDenied("the claims redirect carries another state");
  if (returned["authorization_state"] != "claims_submitted" || returned["ticket"].empty())
    return Answer{400, json(returned)};
  MDL_ASSIGN_OR_RETURN(Answer granted, Token(returned["ticket"]));
  if (granted.status == 200) {
    if (granted.body["pct"].is_string()) pct = granted.body["pct"];
    if (granted.body["access_token"].is_string()) rpt = granted.body["access_token"];
  }
  return granted;
}

Result<Answer> UmaClient::AwaitDecision(Answer a, int max_seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(max_seconds);
  while (a.status != 200 && a.body.value("error", "") == "request_submitted" &&
         a.body["ticket"].is_string()) {
    int64_t interval =
        a.body["interval"].is_number_integer() ? a.body["interval"].get<int64_t>() : 5;
    interval = std::clamp<int64_t>(interval, 1, 60);
    if (std::chrono::steady_clock::now() + std::chrono::seconds(interval) > deadline) break;
    std::this_thread::sleep_for(std::chrono::seconds(interval));
    const std::string ticket = a.body["ticket"];
    MDL_ASSIGN_OR_RETURN(a, Token(ticket));
  }
  if (a.status == 200) {
    if (a.body["pct"].is_string()) pct = a.body["pct"];
    if (a.body["access_token"].is_string()) rpt = a.body["access_token"];
  }
  return a;
}

Result<Answer> UmaClient::Request(const std::string& method, const std::string& path,
                                  const json* body, const Party& physician, const json& license) {
  MDL_ASSIGN_OR_RETURN(Answer a, Call(method, container + path, rpt, body));
  if (a.status != 401 || !a.body["ticket"].is_string()) return a;
  MDL_ASSIGN_OR_RETURN(Answer granted, Grant(a.body["ticket"], physician, license));
  if (granted.status != 200) return granted;
  return Call(method, container + path, rpt, body);
}

json UmaClient::ToJson() const {
  json j = {{"container", container},
            {"client_id", client_id},
            {"client_secret", client_secret},
            {"pct", pct},
            {"rpt", rpt}};
  if (!claims_redirect_uri.empty()) j["claims_redirect_uri"] = claims_redirect_uri;
  return j;
}

Result<UmaClient> UmaClient::FromJson(const json& j) {
  UmaClient c;
  for (auto [field, name] : {std::pair{&c.container, "container"},
                             {&c.client_id, "client_id"},
                             {&c.client_secret, "client_secret"},
                             {&c.pct, "pct"},
                             {&c.rpt, "rpt"}}) {
    if (!j.is_object() || !j.contains(name) || !j[name].is_string())
      return Status::InvalidArgument(std::string("the UMA session has no ") + name);
    *field = j[name].get<std::string>();
  }
  c.claims_redirect_uri = StringOr(j, "claims_redirect_uri");
  return c;
}

// --- the prescription ---

json MedicationRequest(const std::string& rxnorm, const std::string& text, int repeats,
                       const std::string& patient_ref) {
  return {
      {"resourceType", "MedicationRequest"},
      {"status", "active"},
      {"intent", "order"},
      {"medicationCodeableConcept",
       {{"coding",
         {{{"system", "http://www.nlm.nih.gov/research/umls/rxnorm"},
           {"code", rxnorm},
           {"display", text}}}},
        {"text", text}}},
      {"subject", {{"reference", patient_ref}}},
      {"requester", {{"reference", "Practitioner/dr-rivera"}}},
      {"authoredOn", did::XmlDateTime(Now()).substr(0, 10)},
      {"dosageInstruction", {{{"text", "1 tablet every 6 hours as needed for pain"}}}},
      {"dispenseRequest",
       {{"quantity", {{"value", 20}, {"unit", "tablet"}}}, {"numberOfRepeatsAllowed", repeats}}}};
}

Result<json> SignPrescription(const Party& physician, const std::string& patient_did,
                              const json& request, const std::string& schedule, const json& license,
                              const std::string& id) {
  json fhir = request;
  claims::PrescriptionClaims c{patient_did,
                               physician.did,
                               &fhir,
                               schedule,
                               &license,
                               did::XmlDateTime(Now() - 60),
                               did::XmlDateTime(Now() + 180 * 86400)};
  MDL_ASSIGN_OR_RETURN(json unsigned_vc, claims::BuildPrescriptionCredential(id, c));
  claims::ProofOptions po;
  po.created = did::XmlDateTime(Now() - 30);
  return claims::AddProof(unsigned_vc, physician.Signer(physician.assertion), po);
}

json CosignRequest(const std::string& device_method, const json& signed_vc,
                   const std::string& patient_did) {
  const json& subject = signed_vc["credentialSubject"];
  const std::string text =
      subject["prescription"]["medicationCodeableConcept"].value("text", "a medication");
  return {{"kind", uma::kRequestPrescriptionCosign},
          {"summary",
           {{"text", "Co-sign the prescription of " + text + " (schedule " +
                         subject.value("controlledSubstanceSchedule", "") + ") for " +
                         patient_did.substr(0, 24) + "..."}}},
          {"payload",
           {{"sign",
             {{"format", "data_integrity"},
              {"verification_method", device_method},
              {"document", signed_vc}}}}}};
}

Result<std::string> QueueApproval(const std::string& container, const std::string& session,
                                  const json& request) {
  MDL_ASSIGN_OR_RETURN(Answer q,
                       Call("POST", container + "/owner/v1/approvals", session, &request));
  if (q.status != 201 || !q.body["id"].is_string())
    return Status::Unavailable("the approval was not queued: " + Why(q));
  return q.body["id"].get<std::string>();
}

Result<json> ApprovedResult(const std::string& container, const std::string& session,
                            const std::string& id) {
  MDL_ASSIGN_OR_RETURN(Answer state, Call("GET", container + "/owner/v1/approvals/" + id, session));
  if (state.status != 200)
    return Status::Unavailable("cannot read approval " + id + ": " + Why(state));
  if (state.body.value("status", "") != "approved" || !state.body.contains("result")) {
    return Status::FailedPrecondition("approval " + id + " is " + state.body.value("status", "?") +
                                      " (approve it on the phone first)");
  }
  return state.body["result"];
}

Result<uint64_t> Postmark(roles::LedgerClient& ledger, const std::string& digest_hex,
                          const Party& by) {
  json anchor = {{"type", "anchor"},     {"v", 1},       {"hash", digest_hex},
                 {"kind", "credential"}, {"by", by.did}, {"ts", Now()}};
  MDL_ASSIGN_OR_RETURN(anchor, claims::SignLedgerEntry(std::move(anchor), by.Signer(by.assertion)));
  MDL_ASSIGN_OR_RETURN(ledger::AppendResult appended, ledger.Append(anchor));
  return appended.index;
}

Status KeepAndDeliver(const json& vc, const std::string& physician_box,
                      const std::string& physician_session, const std::string& patient_box,
                      const json& pharmacy_copy) {
  MDL_ASSIGN_OR_RETURN(
      Answer kept, Call("POST", physician_box + "/owner/v1/credentials", physician_session, &vc));
  if (kept.status != 201)
    return Status::Unavailable("not kept in the physician's container: " + Why(kept));
  const json with_copy = {{"credential", vc}, {"pharmacy_copy", pharmacy_copy}};
  MDL_ASSIGN_OR_RETURN(Answer delivered, Call("POST", patient_box + "/inbox/v1/credentials", "",
                                              pharmacy_copy.is_null() ? &vc : &with_copy));
  if (delivered.status != 201)
    return Status::Unavailable("not delivered to the patient's inbox: " + Why(delivered));
  return Status::Ok();
}

// --- the pharmacy copy ---

Result<std::string> HolderPseudonym(ByteView seed, uint32_t index) {
  MDL_ASSIGN_OR_RETURN(uma::PairwiseKey key, uma::DerivePairwiseKey(seed, index));
  return key.Pseudonym();
}

Result<std::string> IssuePharmacyCopy(const Party& physician, const json& rx,
                                      const std::string& holder_pseudonym) {
  return claims::IssuePrescriptionSdJwt(rx, physician.Signer(physician.assertion), holder_pseudonym,
                                        Now() + 180 * 86400, DefaultEnv());
}

json SdCosignRequest(const std::string& device_method, const std::string& sd_jwt,
                     const std::string& medication) {
  return {
      {"kind", uma::kRequestPrescriptionCosign},
      {"summary", {{"text", "Co-sign the pharmacy copy of the prescription of " + medication}}},
      {"payload",
       {{"sign",
         {{"format", "did-auth+jwt"},
          {"verification_method", device_method},
          {"claims",
           {{"aud", claims::kCosignAudience}, {"prescription", claims::SdJwtDigest(sd_jwt)}}}}}}}};
}

// --- at the pharmacy ---

Result<json> PresentPrescription(const json& rx, const Party& patient,
                                 const claims::Challenge& challenge) {
  return claims::PresentCredentials({rx}, patient.did, patient.Signer(patient.auth), challenge,
                                    did::XmlDateTime(Now()));
}

Result<Answer> Dispense(const std::string& pharmacy_url, const json& body) {
  return Call("POST", pharmacy_url + "/pharmacy/v1/dispense", "", &body);
}

}  // namespace medallion::roles::flow
