// Issuer publications: the JSON-LD context and status list credentials.
#include "medallion/roles/issuer_http.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "medallion/claims/credentials.h"
#include "medallion/core/bytes.h"
#include "medallion/core/status.h"
#include "medallion/http/http.h"
#include "role_util.h"

namespace medallion::roles {

void RegisterCredentialContext(httplib::Server& server) {
  server.Get("/credentials/v1", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Access-Control-Allow-Origin", "*");
    res.set_header("Cache-Control", "public, max-age=86400");
    res.set_content(claims::MedallionContextDocument(), "application/ld+json");
  });
}

void RegisterStatusListCredential(httplib::Server& server, const std::string& path,
                                  std::function<nlohmann::json()> current) {
  MDL_CHECK(!path.empty() && path[0] == '/');
  server.Get(path, [current](const httplib::Request&, httplib::Response& res) {
    res.set_header("Access-Control-Allow-Origin", "*");
    res.set_header("Cache-Control", "no-cache");
    res.set_content(current().dump(), "application/vc+ld+json");
  });
}

void RegisterSocietyRoutes(httplib::Server& server, claims::Society& society,
                           const did::Resolver& resolver, std::string admin_token) {
  claims::Society* s = &society;
  const did::Resolver* r = &resolver;
  auto admin = [admin_token](const httplib::Request& req) {
    return BearerIs(req.get_header_value("Authorization"), admin_token);
  };
  server.Post("/society/v1/challenge", [s](const httplib::Request&, httplib::Response& res) {
    auto c = s->Challenge();
    if (!c) return http::SendError(res, c.error());
    http::SendJson(res, *c);
  });
  server.Post("/society/v1/licenses", [s, r](const httplib::Request& req, httplib::Response& res) {
    auto parsed = http::ReadJsonBody(req, res);
    if (!parsed) return;
    nlohmann::json& body = *parsed;
    if (!body.is_object() || !body["proof"].is_string() || !body["license_number"].is_string() ||
        !body["name"].is_string()) {
      return http::SendError(res, 400, "invalid_request",
                             "the body is {\"proof\", \"license_number\", \"name\"}");
    }
    auto vc =
        s->Onboard(body["proof"].get<std::string>(), body["license_number"], body["name"], *r);
    if (!vc) return http::SendError(res, vc.error());
    // With review: {"request", "status": "pending"}: a clerk decides; poll the request.
    http::SendJson(res, *vc, vc->contains("request") ? 202 : 201);
  });
  // The physician polls her onboarding request: {"request", "status", "reason"?,
  // "credential"? (once approved)}. The id is a random UUID only she and the clerks know.
  server.Get(R"(/society/v1/onboarding/([A-Za-z0-9-]{1,64}))",
             [s](const httplib::Request& req, httplib::Response& res) {
               auto request = s->OnboardingRequest(req.matches[1].str());
               if (!request) return http::SendError(res, request.error());
               res.set_header("Cache-Control", "no-store");
               http::SendJson(res, *request);
             });
  server.Get("/society/v1/licenses", [s, admin](const httplib::Request& req,
                                                httplib::Response& res) {
    if (!admin(req))
      return http::SendError(res, 401, "invalid_token", "the society's admin token is required");
    auto l = s->Licenses();
    if (!l) return http::SendError(res, l.error());
    http::SendJson(res, *l);
  });
  server.Post(R"(/society/v1/licenses/([A-Za-z0-9:._-]{1,128})/status)",
              [s, admin](const httplib::Request& req, httplib::Response& res) {
                if (!admin(req))
                  return http::SendError(res, 401, "invalid_token",
                                         "the society's admin token is required");
                auto parsed = http::ReadJsonBody(req, res);
                if (!parsed) return;
                nlohmann::json& body = *parsed;
                if (!body.is_object() || !body["action"].is_string())
                  return http::SendError(res, 400, "invalid_request", "the body is {\"action\"}");
                Status st = s->SetStatus(req.matches[1].str(), body["action"]);
                if (!st.ok()) return http::SendError(res, st);
                http::SendJson(res, {{"id", req.matches[1].str()}, {"action", body["action"]}});
              });
  for (auto purpose : {claims::StatusPurpose::kRevocation, claims::StatusPurpose::kSuspension}) {
    RegisterStatusListCredential(
        server, "/status/" + std::string(claims::StatusPurposeName(purpose)), [s, purpose]() {
          auto list = s->StatusListCredential(purpose);
          return list ? *list
                      : nlohmann::json{{"error", "server_error"},
                                       {"error_description", list.error().message()}};
        });
  }
  RegisterCredentialContext(server);
}

}  // namespace medallion::roles
