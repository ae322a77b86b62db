// The pharmacy's endpoints.
#include "medallion/server/pharmacy_http.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "medallion/server/http.h"

namespace medallion::server {

void RegisterPharmacyRoutes(httplib::Server& server, PharmacyService& service) {
  PharmacyService* p = &service;
  server.Post("/pharmacy/v1/challenge", [p](const httplib::Request&, httplib::Response& res) {
    claims::Challenge c = p->challenges->Issue(p->config.domain);
    SendJson(res, {{"nonce", c.nonce}, {"domain", c.domain}, {"expires", c.expires}, {"pharmacy", p->config.pharmacy_did}});
  });
  server.Post("/pharmacy/v1/dispense", [p](const httplib::Request& req, httplib::Response& res) {
    nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
    if (!body.is_object() || !body["presentation"].is_object()) {
      return SendError(res, 400, "invalid_request", "the body is {\"presentation\", \"fill_authorization\"?}");
    }
    const std::string fill = body.value("fill_authorization", "");
    const int64_t now = p->env.clock->NowSeconds();
    claims::DispenseResult r = claims::VerifyAndDispense(
        body["presentation"], p->config, *p->resolver, *p->challenges, *p->ledger, p->license_status,
        [&](const nlohmann::json& prescription) {
          return claims::VerifyFillAuthorization(fill, prescription, p->config.domain, *p->resolver, now);
        },
        p->env);
    if (r.ok()) return SendJson(res, r.ToJson());
    SendJson(res, {{"error", r.reason}, {"error_description", r.detail}, {"result", r.ToJson()}}, 422);
  });
}

}  // namespace medallion::server
