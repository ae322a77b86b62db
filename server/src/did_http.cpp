// The DID resolution HTTP endpoint and the verifying did:mdl operation fetcher.
#include "medallion/server/did_http.h"

#include <httplib.h>

#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>

#include "medallion/core/jcs.h"
#include "medallion/server/http.h"

namespace medallion::server {

using nlohmann::json;

Result<int64_t> ParseXmlDateTime(std::string_view text) {
  std::tm tm{};
  const std::string s(text);
  const char* end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == nullptr) return Status::InvalidArgument("not an XML datetime: " + s);
  std::string rest(end);
  if (!rest.empty() && rest[0] == '.') {
    size_t i = 1;
    while (i < rest.size() && std::isdigit(static_cast<unsigned char>(rest[i]))) ++i;
    rest = rest.substr(i);
  }
  if (rest != "Z" && rest != "+00:00") return Status::InvalidArgument("datetime must be in UTC (Z): " + s);
  return static_cast<int64_t>(timegm(&tm));
}

void RegisterResolverRoutes(httplib::Server& server, const did::Resolver& resolver) {
  server.Get(R"(/1\.0/identifiers/(.+))", [&resolver](const httplib::Request& req, httplib::Response& res) {
    const std::string did = httplib::detail::decode_url(req.matches[1].str(), false);
    did::ResolutionOptions options;
    if (req.has_param("versionId")) options.version_id = req.get_param_value("versionId");
    if (req.has_param("versionTime")) {
      auto t = ParseXmlDateTime(req.get_param_value("versionTime"));
      if (!t) {
        SendJson(res, did::ResolutionResult::Error(did::kInvalidOptions, t.error().message()).ToJson(), 400);
        return;
      }
      options.version_time = *t;
    }
    if (req.has_param("ledgerPosition")) {
      auto p = QueryU64(req, "ledgerPosition");
      if (!p) {
        SendJson(res, did::ResolutionResult::Error(did::kInvalidOptions, p.error().message()).ToJson(), 400);
        return;
      }
      options.ledger_position = *p;
    }
    did::ResolutionResult r = resolver.Resolve(did, options);
    int status = 200;
    if (!r.ok()) {
      if (r.error == did::kInvalidDid || r.error == did::kInvalidOptions) status = 400;
      else if (r.error == did::kNotFound) status = 404;
      else if (r.error == did::kMethodNotSupported) status = 501;
      else if (r.error == did::kRepresentationNotSupported) status = 406;
      else status = 500;
    } else if (r.metadata.deactivated) {
      status = 410;
    }
    res.status = status;
    res.set_content(r.ToJson().dump(), "application/ld+json;profile=\"https://w3id.org/did-resolution\"");
  });
}

did::mdl::OpFetcher MakeLedgerOpFetcher(std::shared_ptr<LedgerClient> client) {
  auto mu = std::make_shared<std::mutex>();
  return [client, mu](std::string_view did, uint64_t* tree_size) -> Result<std::vector<did::mdl::OpRecord>> {
    std::lock_guard<std::mutex> lock(*mu);
    MDL_ASSIGN_OR_RETURN(ledger::Checkpoint cp, client->Refresh());
    *tree_size = cp.size;
    MDL_ASSIGN_OR_RETURN(std::vector<ProvenEntry> entries, client->Lookup({ledger::KeyKind::kDid, std::string(did)}));
    std::vector<did::mdl::OpRecord> ops;
    for (auto& e : entries) {
      auto body = jcs::ParseStrict(e.entry);
      if (body && body->is_object() && body->value("type", "") == "did.op" && body->value("did", "") == did) {
        ops.push_back({e.index, std::move(e.entry)});
      }
    }
    return ops;
  };
}

}  // namespace medallion::server
