// Issuer publications: the JSON-LD context and status list credentials.
#include "medallion/server/issuer_http.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "medallion/claims/credentials.h"
#include "medallion/core/status.h"
#include "medallion/server/http.h"

namespace medallion::server {

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

}  // namespace medallion::server
