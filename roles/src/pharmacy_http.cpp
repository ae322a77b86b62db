// The pharmacy's endpoints.
#include "medallion/roles/pharmacy_http.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "medallion/core/json.h"
#include "medallion/core/metrics.h"
#include "medallion/http/http.h"

namespace medallion::roles {

void RegisterPharmacyRoutes(httplib::Server& server, PharmacyService& service) {
  PharmacyService* p = &service;
  server.Post("/pharmacy/v1/challenge", [p](const httplib::Request&, httplib::Response& res) {
    claims::Challenge c = p->challenges->Issue(p->config.domain);
    http::SendJson(res, {{"nonce", c.nonce},
                         {"domain", c.domain},
                         {"expires", c.expires},
                         {"pharmacy", p->config.pharmacy_did}});
  });
  // {"presentation", "fill_authorization"?}: a Data Integrity presentation; or {"sd_jwt",
  // "cosignature"?, "fill_authorization"?}: the SD-JWT VC form (docs/credentials.md).
  server.Post("/pharmacy/v1/dispense", [p](const httplib::Request& req, httplib::Response& res) {
    auto parsed = http::ReadJsonBody(req, res);
    if (!parsed) return;
    auto r = RunDispense(*p, *parsed, *p->challenges, /*hold=*/false);
    if (!r) return http::SendError(res, r.error());
    if (r->ok()) {
      if (p->on_dispensed) p->on_dispensed(*r);
      return http::SendJson(res, r->ToJson());
    }
    // A ledger outage is the one refusal that says "try again": 503 with Retry-After; every
    // other reason is a verdict on the presentation (422).
    const bool outage = r->reason == claims::rx_reason::kLedgerUnavailable;
    if (outage) res.set_header("Retry-After", "5");
    http::SendJson(
        res, {{"error", r->reason}, {"error_description", r->detail}, {"result", r->ToJson()}},
        outage ? 503 : 422);
  });
}

namespace {

Result<claims::DispenseResult> RunPipeline(PharmacyService& service, const nlohmann::json& body,
                                           claims::ChallengeStore& challenges, bool hold);

}  // namespace

Result<claims::DispenseResult> RunDispense(PharmacyService& service, const nlohmann::json& body,
                                           claims::ChallengeStore& challenges, bool hold) {
  auto r = RunPipeline(service, body, challenges, hold);
  // Verification outcomes by reason code (rx_reason::*; "ok" when every check passed) for
  // /metrics; a request refused before the pipeline is counted as invalid_request.
  metrics::Registry::Default().Add(
      "medallion_pharmacy_verifications_total",
      "Prescription presentations verified at the pharmacy, by outcome reason code",
      {{"reason", r ? r->reason : std::string("invalid_request")}});
  return r;
}

namespace {

Result<claims::DispenseResult> RunPipeline(PharmacyService& service, const nlohmann::json& body,
                                           claims::ChallengeStore& challenges, bool hold) {
  PharmacyService* p = &service;
  const bool sd = body.is_object() && body.contains("sd_jwt");
  if (!body.is_object() ||
      (sd ? !body["sd_jwt"].is_string()
          : !(body.contains("presentation") && body["presentation"].is_object()))) {
    return Status::InvalidArgument(
        "the body is {\"presentation\", \"fill_authorization\"?} or {\"sd_jwt\", "
        "\"cosignature\"?, \"fill_authorization\"?}");
  }
  for (const char* member : {"fill_authorization", "cosignature"}) {
    if (body.contains(member) && !body[member].is_string()) {
      return Status::InvalidArgument(std::string(member) + " must be a string (a compact JWS)");
    }
  }
  const std::string fill = body.value("fill_authorization", "");
  const int64_t now = p->env.clock->NowSeconds();
  if (sd) {
    claims::SdJwtDispenseRequest sr{body["sd_jwt"].get<std::string>(),
                                    body.value("cosignature", ""), fill};
    return claims::VerifyAndDispenseSdJwt(sr, p->config, *p->resolver, challenges, *p->ledger,
                                          p->license_status, p->env, hold);
  }
  return claims::VerifyAndDispense(
      body["presentation"], p->config, *p->resolver, challenges, *p->ledger, p->license_status,
      [&](const nlohmann::json& prescription) {
        return claims::VerifyFillAuthorization(fill, prescription, p->config.domain, *p->resolver,
                                               now);
      },
      p->env, hold);
}

}  // namespace

}  // namespace medallion::roles
