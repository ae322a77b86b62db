// The pharmacy as an OpenID4VP 1.0 verifier (pharmacy_oid4vp.h).
#include "pharmacy_oid4vp.h"

#include <nlohmann/json.hpp>

#include "medallion/claims/pharmacy.h"
#include "medallion/claims/sd_jwt.h"
#include "medallion/core/encoding.h"
#include "medallion/core/json.h"
#include "medallion/http/http.h"
#include "medallion/roles/uma_http.h"

namespace medallion::roles {

using nlohmann::json;

namespace {

constexpr char kResponsePath[] = "/pharmacy/v1/oid4vp/response";
constexpr char kRequestObjectPath[] = "/pharmacy/v1/oid4vp/requests/";
// The challenge store keeps a challenge 300 s: a request lives as long as its nonce.
constexpr int64_t kRequestTtlSeconds = 300;

// The claims of an unverified compact JWT (the KB-JWT, to see which request it names before
// anything is spent; the pipeline verifies it).
std::optional<json> UnverifiedClaims(std::string_view jwt) {
  const size_t d1 = jwt.find('.');
  const size_t d2 = d1 == std::string_view::npos ? d1 : jwt.find('.', d1 + 1);
  if (d2 == std::string_view::npos) return std::nullopt;
  auto bytes = Base64UrlDecode(jwt.substr(d1 + 1, d2 - d1 - 1));
  if (!bytes) return std::nullopt;
  auto j = ParseJsonObject(ToString(*bytes), "kb-jwt");
  if (!j) return std::nullopt;
  return std::move(*j);
}

json Error(std::string_view code, std::string_view description) {
  return {{"error", code}, {"error_description", description}};
}

}  // namespace

json PrescriptionDcqlQuery(bool controlled) {
  // §6.3 claims paths into the SD-JWT VC's payload (Appendix B.3.5): only what the pipeline
  // reads. The prescription's other members (subject, requester, dosage, ...) are not asked.
  json claims = json::array({
      {{"path", {"prescription", "resourceType"}}},
      {{"path", {"prescription", "medicationCodeableConcept"}}},
      {{"path", {"prescription", "dispenseRequest"}}},
      {{"path", {"jti"}}},
      {{"path", {"license"}}},
  });
  if (controlled) claims.push_back({{"path", {"sub"}}});  // her phone's approval names her DID
  return {{"credentials",
           {{{"id", kPrescriptionQueryId},
             {"format", "dc+sd-jwt"},
             {"meta", {{"vct_values", {claims::kPrescriptionVct}}}},
             {"claims", claims}}}}};
}

Result<std::unique_ptr<PharmacyOid4vp>> PharmacyOid4vp::Open(PharmacyService& service,
                                                             const std::string& db_path,
                                                             const std::string& base_url,
                                                             Env env,
                                                             std::optional<claims::Signer> signer) {
  std::string base = base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  oid4vc::VerifierOptions o;
  o.response_uri = base + kResponsePath;
  if (signer) {
    // §5.9.3 decentralized_identifier: the DID of the signing key; its request objects signed.
    const std::string& vm = signer->verification_method;
    o.client_id = std::string(oid4vc::kDecentralizedIdentifierPrefix) + vm.substr(0, vm.find('#'));
    o.request_signer = std::move(signer);
  } else {
    o.client_id = std::string(oid4vc::kRedirectUriPrefix) + o.response_uri;  // §5.9.3
  }
  o.request_uri_base = base + kRequestObjectPath;
  o.request_ttl_seconds = kRequestTtlSeconds;
  MDL_ASSIGN_OR_RETURN(std::unique_ptr<oid4vc::Verifier> v,
                       oid4vc::Verifier::Open(db_path, std::move(o), env));
  return std::unique_ptr<PharmacyOid4vp>(new PharmacyOid4vp(service, std::move(v), env));
}

Result<json> PharmacyOid4vp::NewRequest(bool controlled, bool encrypted) {
  // The nonce is a challenge of the pharmacy's own store, for the client_id: the pipeline
  // consumes it once as the KB-JWT's nonce and checks aud against the same client_id.
  claims::Challenge challenge = service_.challenges->Issue(client_id());
  oid4vc::RequestOptions ro;
  ro.nonce = challenge.nonce;
  ro.encrypted_response = encrypted;
  MDL_ASSIGN_OR_RETURN(oid4vc::AuthorizationRequest r,
                       verifier_->CreateRequest(PrescriptionDcqlQuery(controlled), ro));
  json params = json::object();
  for (const auto& [k, v] : r.params)
    params[k] = k == "dcql_query" || k == "client_metadata" ? json::parse(v) : json(v);
  const int64_t now = env_.clock->NowSeconds();
  return json{{"id", r.id},
              {"uri", r.uri_by_reference},
              {"uri_by_value", r.uri},
              {"request_uri", r.request_uri},
              {"request", params},
              {"client_id", client_id()},
              {"controlled", controlled},
              {"expires", r.expires},
              {"expires_in", r.expires - now}};
}

std::pair<int, json> PharmacyOid4vp::Respond(const std::map<std::string, std::string>& form) {
  auto pending = verifier_->ReadResponse(form);
  if (!pending) {
    // A refusal carries its §8.5 code; anything else (the database) is the server's fault.
    if (pending.error().reason().empty())
      return {500, Error("server_error", pending.error().message())};
    return {400, Error(pending.error().reason(), pending.error().message())};
  }
  if (!pending->error.empty()) {
    // §8.5: the wallet declined. Noted for the staff; the request stays open (whoever saw the
    // QR code could post this, so it must not end the request).
    (void)verifier_->RecordOutcome(
        pending->id, {{"status", "declined"},
                      {"error", pending->error},
                      {"error_description", pending->error_description}});
    return {200, json::object()};
  }
  const std::string& presentation = pending->presentations.at(kPrescriptionQueryId).front();
  // Before anything is spent: the KB-JWT must name this request (its nonce, our client_id),
  // so a misdirected or stale presentation leaves the request and every challenge alone.
  const size_t tilde = presentation.rfind('~');
  std::optional<json> kb = tilde == std::string::npos
                               ? std::nullopt
                               : UnverifiedClaims(std::string_view(presentation).substr(tilde + 1));
  if (!kb)
    return {400, Error(oid4vc::vp_error::kInvalidRequest,
                       "holder_binding: the presentation has no key binding JWT (Appendix B.3.6)")};
  if ((*kb)["nonce"] != pending->nonce)
    return {400, Error(oid4vc::vp_error::kInvalidRequest,
                       "nonce_mismatch: the key binding JWT's nonce is not this request's")};
  if ((*kb)["aud"] != client_id())
    return {400, Error(oid4vc::vp_error::kInvalidRequest,
                       "aud_mismatch: the key binding JWT's aud is not this verifier's client_id")};
  // §6.4 / §8.6: what was disclosed must satisfy the query (e.g. `sub` asked for a controlled
  // substance). Read without verifying, so that a refusal spends nothing; the pipeline then
  // verifies this same presentation, so the view checked here is the one it accepts.
  auto view = claims::InspectSdJwt(presentation);
  if (!view)
    return {400, Error(oid4vc::vp_error::kInvalidRequest, "malformed: " + view.error().message())};
  auto payload = ParseJsonObject(view->payload_json, "sd-jwt payload");
  const oid4vc::CredentialQuery* cq = pending->query.Find(kPrescriptionQueryId);
  if (!payload || cq == nullptr)
    return {400, Error(oid4vc::vp_error::kInvalidRequest, "malformed: the SD-JWT payload")};
  if (auto selected = oid4vc::SelectClaims(*cq, *payload); !selected)
    return {400, Error(oid4vc::vp_error::kInvalidRequest,
                       "credential query \"prescription\" is not satisfied by the disclosed "
                       "claims: " + selected.error().message())};
  // The request is answered from here on, whatever the pipeline says.
  if (Status spent = verifier_->Spend(pending->state); !spent.ok()) {
    if (spent.reason().empty()) return {500, Error("server_error", spent.message())};
    return {400, Error(spent.reason(), spent.message())};
  }

  json body = {{"sd_jwt", presentation}};
  for (const auto& [param, member] : {std::pair{kCosignatureParam, "cosignature"},
                                      std::pair{kFillAuthorizationParam, "fill_authorization"}}) {
    auto it = pending->form.find(param);  // decrypted, for direct_post.jwt
    if (it != pending->form.end()) body[member] = it->second;
  }
  // The pipeline, unchanged, with this verifier's audience: the KB-JWT's aud (Appendix B.3.6:
  // the client_id) and the challenge's domain are the client_id.
  PharmacyService service = service_;
  service.config.domain = client_id();
  auto r = RunDispense(service, body, *service_.challenges, /*hold=*/false);
  if (!r) {
    (void)verifier_->RecordOutcome(pending->id, {{"status", "refused"},
                                                 {"error", "invalid_request"},
                                                 {"error_description", r.error().message()}});
    return {400, Error(oid4vc::vp_error::kInvalidRequest, r.error().message())};
  }
  if (r->ok()) {
    if (service_.on_dispensed) service_.on_dispensed(*r);
    (void)verifier_->RecordOutcome(pending->id, {{"status", "dispensed"}, {"result", r->ToJson()}});
    return {200, json::object()};  // §8.2: 200; no redirect_uri (cross-device)
  }
  (void)verifier_->RecordOutcome(pending->id, {{"status", "refused"},
                                               {"error", r->reason},
                                               {"error_description", r->detail},
                                               {"result", r->ToJson()}});
  if (r->reason == claims::rx_reason::kLedgerUnavailable)
    return {503, Error("temporarily_unavailable", r->reason + ": " + r->detail)};
  return {400, Error(oid4vc::vp_error::kInvalidRequest, r->reason + ": " + r->detail)};
}

Result<json> PharmacyOid4vp::Outcome(const std::string& id) {
  MDL_ASSIGN_OR_RETURN(oid4vc::RequestRecord rec, verifier_->Lookup(id));
  json out = {{"id", id}, {"expires", rec.expires}};
  if (rec.outcome && rec.outcome->value("status", "") != "declined") {
    out.update(*rec.outcome);
  } else if (rec.answered) {
    out["status"] = "checking";
  } else if (rec.expires <= env_.clock->NowSeconds()) {
    out["status"] = "expired";
  } else {
    out["status"] = "waiting";
    if (rec.outcome) out["declined"] = *rec.outcome;  // the wallet's §8.5 error, if one came
  }
  return out;
}

void PharmacyOid4vp::RegisterRoutes(httplib::Server& server, StaffCheck staff) {
  PharmacyOid4vp* self = this;
  server.Post("/web/v1/counter/oid4vp/requests",
              [self, staff](const httplib::Request& req, httplib::Response& res) {
                if (!staff(req, res)) return;
                bool flags[2] = {false, false};  // controlled, encrypted
                if (!req.body.empty()) {
                  auto body = http::ReadJsonBody(req, res);
                  if (!body) return;
                  const char* names[2] = {"controlled", "encrypted"};
                  for (int i = 0; i < 2; ++i) {
                    if (!body->contains(names[i])) continue;
                    if (!(*body)[names[i]].is_boolean())
                      return http::SendError(res, 400, "invalid_request",
                                             std::string(names[i]) + " must be a boolean");
                    flags[i] = (*body)[names[i]].get<bool>();
                  }
                }
                auto r = self->NewRequest(flags[0], flags[1]);
                if (!r) return http::SendError(res, r.error());
                res.set_header("Cache-Control", "no-store");
                http::SendJson(res, *r, 201);
              });
  server.Get(R"(/web/v1/counter/oid4vp/requests/([A-Za-z0-9_-]{1,64}))",
             [self, staff](const httplib::Request& req, httplib::Response& res) {
               if (!staff(req, res)) return;
               auto r = self->Outcome(req.matches[1].str());
               if (!r) return http::SendError(res, 404, "not_found", "no such request");
               res.set_header("Cache-Control", "no-store");
               http::SendJson(res, *r);
             });
  // RFC 9101 §5.2: the wallet GETs the request object (request_uri_method is not offered, so
  // only GET, §5.10).
  server.Get(R"(/pharmacy/v1/oid4vp/requests/([A-Za-z0-9_-]{1,64}))",
             [self](const httplib::Request& req, httplib::Response& res) {
               auto r = self->verifier().RequestObject(req.matches[1].str());
               if (!r) return http::SendError(res, 404, "not_found", "no such request");
               res.set_header("Cache-Control", "no-store");
               res.set_content(*r, "application/oauth-authz-req+jwt");
             });
  // §8.2: the Response Endpoint. Public: the state and the nonce protect it.
  server.Post(kResponsePath, [self](const httplib::Request& req, httplib::Response& res) {
    std::string ct = req.get_header_value("Content-Type");
    std::transform(ct.begin(), ct.end(), ct.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (ct.rfind("application/x-www-form-urlencoded", 0) != 0)
      return http::SendError(res, 400, "invalid_request",
                             "the response is application/x-www-form-urlencoded (§8.2)");
    auto form = ParseForm(req.body);
    if (!form) return http::SendError(res, 400, "invalid_request", form.error().message());
    auto [status, body] = self->Respond(*form);
    res.set_header("Cache-Control", "no-store");
    http::SendJson(res, body, status);
  });
}

}  // namespace medallion::roles
