// OpenID4VCI 1.0 issuer endpoints over HTTP (oid4vci_http.h, docs/openid4vc.md).
#include "medallion/roles/oid4vci_http.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>

#include "medallion/claims/pharmacy.h"
#include "medallion/core/bytes.h"
#include "medallion/core/json.h"
#include "medallion/http/http.h"
#include "medallion/http/rate_limit.h"
#include "medallion/roles/did_http.h"
#include "medallion/roles/uma_http.h"
#include "role_util.h"

namespace medallion::roles {

using nlohmann::json;

namespace {

void NoStore(httplib::Response& res) {
  res.set_header("Cache-Control", "no-store");
  res.set_header("Pragma", "no-cache");
}

// RFC 6750 §3: a protected endpoint asked without a bearer token.
void SendTokenRequired(httplib::Response& res) {
  NoStore(res);
  res.set_header("WWW-Authenticate", "Bearer");
  http::SendError(res, 401, "invalid_token", "a bearer access token is required");
}

// RFC 6750 §2.1: "Authorization: Bearer <token>" ("" when absent or another scheme).
std::string BearerToken(const httplib::Request& req) {
  const std::string h = req.get_header_value("Authorization");
  if (h.size() > 7 && (h.rfind("Bearer ", 0) == 0 || h.rfind("bearer ", 0) == 0))
    return h.substr(7);
  return "";
}

void SendProtocolError(httplib::Response& res, const Status& st) {
  NoStore(res);
  if (st.reason() == oid4vc::error::kInvalidToken) {
    // RFC 6750 §3: a refused token is named in WWW-Authenticate.
    res.set_header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
  }
  if (st.reason().empty()) return http::SendError(res, st);
  http::SendOAuthError(res, st, json::object());
}

bool IsForm(const httplib::Request& req) {
  std::string ct = req.get_header_value("Content-Type");
  std::transform(ct.begin(), ct.end(), ct.begin(), [](unsigned char c) { return std::tolower(c); });
  return ct.rfind("application/x-www-form-urlencoded", 0) == 0;
}

}  // namespace

void RegisterOid4vciRoutes(httplib::Server& server, oid4vc::Issuer& issuer) {
  oid4vc::Issuer* is = &issuer;
  // Per-address limits (docs/limits.md): an unbound c_nonce is open to anyone and written to
  // the issuer's database; refused token requests (wrong codes) are guesses.
  auto nonces = std::make_shared<http::RateLimiter>(60, std::chrono::seconds(600));
  auto token_failures = std::make_shared<http::RateLimiter>(20, std::chrono::seconds(600));
  auto metadata = [](std::string body) {
    return [body](const httplib::Request&, httplib::Response& res) {
      res.set_header("Access-Control-Allow-Origin", "*");
      res.set_header("Cache-Control", "no-cache");
      res.set_content(body, "application/json");
    };
  };
  server.Get("/.well-known/openid-credential-issuer", metadata(is->CredentialIssuerMetadata()));
  server.Get("/.well-known/oauth-authorization-server",
             metadata(is->AuthorizationServerMetadata()));
  server.Get(R"(/oid4vci/offers/([A-Za-z0-9_-]{1,64}))",
             [is](const httplib::Request& req, httplib::Response& res) {
               auto offer = is->OfferObject(req.matches[1].str());
               NoStore(res);
               if (!offer) return http::SendError(res, 404, "not_found", "no such offer");
               res.set_content(*offer, "application/json");
             });
  // §5.1 Authorization Endpoint (RFC 6749 §4.1.1, RFC 7636): the physician is authenticated
  // by the offer's single-use issuer_state (docs/openid4vc.md); errors are answered here as
  // JSON, not redirected (redirect_uris are not registered: RFC 6749 §4.1.2.1, §10.15).
  server.Get("/oid4vci/authorize", [is, token_failures](const httplib::Request& req,
                                                        httplib::Response& res) {
    NoStore(res);
    if (Status limited = token_failures->Check(req.remote_addr, "refused authorization requests");
        !limited.ok())
      return http::SendOAuthError(res, limited, json::object());
    std::map<std::string, std::string> query;
    for (const auto& [name, value] : req.params) {
      // RFC 6749 §3.1: parameters MUST NOT be included more than once.
      if (!query.emplace(name, value).second)
        return http::SendError(res, 400, "invalid_request", name + " is repeated");
    }
    auto location = is->Authorize(query);
    if (!location) {
      token_failures->Record(req.remote_addr);
      return SendProtocolError(res, location.error());
    }
    res.status = 302;
    res.set_header("Location", *location);
  });
  server.Post(
      "/oid4vci/token", [is, token_failures](const httplib::Request& req, httplib::Response& res) {
        NoStore(res);
        if (Status limited = token_failures->Check(req.remote_addr, "refused token requests");
            !limited.ok())
          return http::SendOAuthError(res, limited, json::object());
        if (!IsForm(req))
          return http::SendError(res, 400, "invalid_request",
                                 "the token endpoint takes application/x-www-form-urlencoded");
        auto form = ParseForm(req.body);
        if (!form) return http::SendError(res, 400, "invalid_request", form.error().message());
        auto token = is->Token(*form);
        if (!token) {
          token_failures->Record(req.remote_addr);
          return SendProtocolError(res, token.error());
        }
        res.set_content(*token, "application/json");
      });
  server.Post("/oid4vci/nonce", [is, nonces](const httplib::Request& req, httplib::Response& res) {
    const std::string bearer = BearerToken(req);
    if (bearer.empty()) {
      if (Status limited = nonces->Count(req.remote_addr, "unbound nonces"); !limited.ok()) {
        NoStore(res);
        return http::SendOAuthError(res, limited, json::object());
      }
    }
    auto nonce = is->Nonce(bearer);
    if (!nonce) return SendProtocolError(res, nonce.error());
    NoStore(res);  // §7.2: the response MUST NOT be cached
    res.set_content(*nonce, "application/json");
  });
  server.Post("/oid4vci/credential", [is](const httplib::Request& req, httplib::Response& res) {
    const std::string token = BearerToken(req);
    if (token.empty()) return SendTokenRequired(res);
    auto credential = is->Credential(token, req.body);
    if (!credential) return SendProtocolError(res, credential.error());
    NoStore(res);
    // §8.3: a deferred answer (transaction_id + interval) is 202 Accepted.
    if (json::parse(*credential).contains("transaction_id")) res.status = 202;
    res.set_content(*credential, "application/json");
  });
  server.Post(
      "/oid4vci/deferred_credential", [is](const httplib::Request& req, httplib::Response& res) {
        const std::string token = BearerToken(req);
        if (token.empty()) return SendTokenRequired(res);
        auto credential = is->DeferredCredential(token, req.body);
        if (!credential) return SendProtocolError(res, credential.error());
        NoStore(res);
        // §9.2: still pending is 202 with the transaction_id and interval again.
        if (!json::parse(*credential).contains("credentials")) res.status = 202;
        res.set_content(*credential, "application/json");
      });
}

Result<std::string> SocietyLicenseClaims(claims::Society& society, const std::string& license_id) {
  MDL_ASSIGN_OR_RETURN(json licenses, society.Licenses());
  const json* license = nullptr;
  for (const json& l : licenses)
    if (l.value("id", "") == license_id) license = &l;
  if (license == nullptr) return Status::NotFound("no such license");
  if (license->value("status", "") != "active" || license->value("superseded", false))
    return Status::FailedPrecondition("the license is " +
                                      (license->value("superseded", false)
                                           ? std::string("superseded")
                                           : license->value("status", "")) +
                                      ": no offer");
  MDL_ASSIGN_OR_RETURN(json directory, society.Directory());
  const std::string number = license->value("license_number", "");
  for (const json& e : directory) {
    if (e.value("license_number", "") != number) continue;
    json claims = {{"sub", license->value("did", "")},
                   {"license_number", number},
                   {"name", e.value("name", "")},
                   {"jurisdiction", e.value("jurisdiction", "")},
                   {"license_type", e.value("license_type", "")},
                   {"specialty", e.value("specialty", "")},
                   {"schedules", MemberOr(e, "schedules")}};
    auto until = ParseXmlDateTime(e.value("valid_until", ""));
    if (until) claims["exp"] = *until;
    // Its status: the W3C license's Bitstring Status List entries (suspension, revocation),
    // carried under the SD-JWT VC "status" claim (SD-JWT VC §3.2.2.2) as a status mechanism of
    // its own, "bitstring_status_list" (the Token Status List's "status_list" is another
    // mechanism of that claim; docs/openid4vc.md). Always visible: a verifier needs it.
    auto vc = society.LicenseCredential(license_id);
    if (!vc) return vc.error();
    if (const json& entries = MemberOr(*vc, "credentialStatus"); !entries.is_null())
      claims["status"] = {{std::string(claims::kBitstringStatusMechanism), entries}};
    return claims.dump();
  }
  return Status::FailedPrecondition("the license's number is no longer in the directory");
}

void RegisterSocietyOid4vciRoutes(httplib::Server& server, claims::Society& society,
                                  oid4vc::Issuer& issuer, std::string admin_token) {
  RegisterOid4vciRoutes(server, issuer);
  claims::Society* s = &society;
  oid4vc::Issuer* is = &issuer;
  // Deferred offers (§9) are for onboarding requests awaiting the clerk: pending until she
  // decides; approved, the license's claims; rejected (or the license no longer active), a
  // final refusal.
  issuer.SetDeferredSource(
      [s](const std::string& request_id) -> Result<std::optional<std::string>> {
        MDL_ASSIGN_OR_RETURN(json request, s->OnboardingRequest(request_id));
        const std::string status = request.value("status", "");
        if (status == "pending") return std::optional<std::string>();
        if (status != "approved" || !MemberOr(request, "credential").is_object())
          return Status::PermissionDenied("the onboarding request was " + status);
        MDL_ASSIGN_OR_RETURN(std::string claims,
                             SocietyLicenseClaims(*s, request["credential"].value("id", "")));
        return std::optional<std::string>(std::move(claims));
      });
  server.Post("/society/v1/oid4vci/offers", [s, is, admin_token](const httplib::Request& req,
                                                                 httplib::Response& res) {
    if (!BearerIs(req.get_header_value("Authorization"), admin_token))
      return http::SendError(res, 401, "invalid_token", "the society's admin token is required");
    auto parsed = http::ReadJsonBody(req, res);
    if (!parsed) return;
    const json& body = *parsed;
    if (!body.is_object() ||
        MemberOr(body, "license_id").is_string() == MemberOr(body, "request_id").is_string() ||
        (body.contains("tx_code") && !body["tx_code"].is_boolean()) ||
        (body.contains("format") && !body["format"].is_string()) ||
        (body.contains("grant") && !body["grant"].is_string()))
      return http::SendError(res, 400, "invalid_request",
                             "the body is {\"license_id\" | \"request_id\", \"tx_code\"?: "
                             "boolean, \"format\"?: string, \"grant\"?: string}");
    const std::string format = body.value("format", "dc+sd-jwt");
    if (format != "dc+sd-jwt" && format != "ldp_vc")
      return http::SendError(res, 400, "invalid_request", "format is dc+sd-jwt or ldp_vc");
    const std::string grant = body.value("grant", "pre-authorized_code");
    if (grant != "pre-authorized_code" && grant != "authorization_code")
      return http::SendError(res, 400, "invalid_request",
                             "grant is pre-authorized_code or authorization_code");
    if (body.contains("request_id")) {
      // Deferred issuance (OpenID4VCI §9): an onboarding request the clerk has not decided.
      const std::string request_id = body["request_id"];
      if (!s->options().review)
        return http::SendError(res, 412, "failed_precondition",
                               "deferred offers exist only in review mode");
      if (format != "dc+sd-jwt")
        return http::SendError(res, 400, "invalid_request", "a deferred offer is dc+sd-jwt");
      auto request = s->OnboardingRequest(request_id);
      if (!request) return http::SendError(res, request.error());
      if ((*request).value("status", "") != "pending")
        return http::SendError(res, 412, "failed_precondition",
                               "the request is decided: offer its license by license_id");
      oid4vc::OfferRequest r;
      r.deferred = true;
      r.disclosable = {"/name", "/jurisdiction", "/license_type", "/specialty", "/schedules"};
      r.tx_code = body.value("tx_code", true);
      r.label = request_id;
      r.authorization_code = grant == "authorization_code";
      auto offer = is->CreateOffer(r);
      if (!offer) return http::SendError(res, offer.error());
      NoStore(res);
      return http::SendJson(res,
                            {{"request_id", request_id},
                             {"format", format},
                             {"deferred", true},
                             {"offer_uri", offer->uri},
                             {"offer_uri_by_reference", offer->uri_by_reference},
                             {"tx_code", offer->tx_code},
                             {"grant", grant},
                             {"expires", offer->expires},
                             {"credential_offer", json::parse(offer->offer_json)}},
                            201);
    }
    const std::string license_id = body["license_id"];
    auto claims = SocietyLicenseClaims(*s, license_id);
    if (!claims) return http::SendError(res, claims.error());
    oid4vc::OfferRequest r;
    if (format == "ldp_vc") {
      // The license as signed at onboarding, for a key of the DID it names.
      auto vc = s->LicenseCredential(license_id);
      if (!vc) return http::SendError(res, vc.error());
      r.configuration_id = std::string(oid4vc::kLicenseLdpConfiguration);
      r.claims_json = vc->dump();
      r.holder_did = json::parse(*claims).value("sub", "");
    } else {
      r.claims_json = *claims;
      // Everything but the subject, the license number and the validity can stay undisclosed.
      r.disclosable = {"/name", "/jurisdiction", "/license_type", "/specialty", "/schedules"};
    }
    r.tx_code = body.value("tx_code", true);
    r.label = license_id;
    r.authorization_code = grant == "authorization_code";
    auto offer = is->CreateOffer(r);
    if (!offer) return http::SendError(res, offer.error());
    NoStore(res);
    http::SendJson(res,
                   {{"license_id", license_id},
                    {"format", format},
                    {"offer_uri", offer->uri},
                    {"offer_uri_by_reference", offer->uri_by_reference},
                    {"tx_code", offer->tx_code},
                    {"grant", grant},
                    {"expires", offer->expires},
                    {"credential_offer", json::parse(offer->offer_json)}},
                   201);
  });
}

}  // namespace medallion::roles
