// The DID resolution HTTP endpoint and the verifying did:mdl operation fetcher.
#include "medallion/roles/did_http.h"

#include <httplib.h>

#include <cctype>

#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>

#include "medallion/core/jcs.h"
#include "medallion/http/http.h"

namespace medallion::roles {

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
  if (rest != "Z" && rest != "+00:00")
    return Status::InvalidArgument("datetime must be in UTC (Z): " + s);
  return static_cast<int64_t>(timegm(&tm));
}

// What the client's Accept asks for (W3C DID Resolution, HTTP(S) binding): the resolution
// result, the DID document alone, or something this resolver cannot produce.
enum class Wanted { kResult, kDocument, kUnsupported };

Wanted FromAccept(const std::string& accept) {
  if (accept.empty()) return Wanted::kResult;
  size_t start = 0;
  while (start <= accept.size()) {
    size_t comma = accept.find(',', start);
    if (comma == std::string::npos) comma = accept.size();
    std::string range = accept.substr(start, comma - start);
    start = comma + 1;
    std::string lower;
    for (char c : range)
      if (c != ' ' && c != '\t')
        lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower.find(";q=0") != std::string::npos && lower.find(";q=0.") == std::string::npos)
      continue;  // q=0: not acceptable
    const std::string type = lower.substr(0, lower.find(';'));
    if (type == "application/did+json" || type == "application/did+ld+json" ||
        type == "application/did")
      return Wanted::kDocument;
    if (type == "*/*" || type == "application/*" || type == "application/json" ||
        type == "application/did-resolution" ||
        (type == "application/ld+json" && (lower.find("profile") == std::string::npos ||
                                           lower.find("did-resolution") != std::string::npos))) {
      return Wanted::kResult;
    }
    if (comma == accept.size()) break;
  }
  return Wanted::kUnsupported;
}

// The resolution result as sent: a failed resolution also carries the top-level "error" and
// "error_description" every Medallion error has (next to didResolutionMetadata.error).
static json ResultJson(const did::ResolutionResult& r) {
  json j = r.ToJson();
  if (!r.ok()) {
    j["error"] = r.error;
    j["error_description"] = r.error_message.empty() ? r.error : r.error_message;
  }
  return j;
}

void RegisterResolverRoutes(httplib::Server& server, const did::Resolver& resolver) {
  server.Get(R"(/1\.0/identifiers/(.+))", [&resolver](const httplib::Request& req,
                                                      httplib::Response& res) {
    const Wanted wanted = FromAccept(req.get_header_value("Accept"));
    if (wanted == Wanted::kUnsupported) {
      res.status = 406;
      res.set_content(
          ResultJson(did::ResolutionResult::Error(
                         did::kRepresentationNotSupported,
                         "Accept names no representation this resolver produces "
                         "(application/did+json, or the resolution result)"))
              .dump(),
          "application/ld+json;profile=\"https://w3id.org/did-resolution\"");
      return;
    }
    const std::string did = httplib::detail::decode_url(req.matches[1].str(), false);
    did::ResolutionOptions options;
    if (req.has_param("versionId")) options.version_id = req.get_param_value("versionId");
    if (req.has_param("versionTime")) {
      auto t = ParseXmlDateTime(req.get_param_value("versionTime"));
      if (!t) {
        http::SendJson(
            res, ResultJson(did::ResolutionResult::Error(did::kInvalidOptions, t.error().message())),
            400);
        return;
      }
      options.version_time = *t;
    }
    if (req.has_param("ledgerPosition")) {
      auto p = http::QueryU64(req, "ledgerPosition");
      if (!p) {
        http::SendJson(
            res, ResultJson(did::ResolutionResult::Error(did::kInvalidOptions, p.error().message())),
            400);
        return;
      }
      options.ledger_position = *p;
    }
    did::ResolutionResult r = resolver.Resolve(did, options);
    int status = 200;
    if (!r.ok()) {
      if (r.error == did::kInvalidDid || r.error == did::kInvalidOptions)
        status = 400;
      else if (r.error == did::kNotFound)
        status = 404;
      else if (r.error == did::kMethodNotSupported)
        status = 501;
      else if (r.error == did::kRepresentationNotSupported)
        status = 406;
      else
        status = 500;
    } else if (r.metadata.deactivated) {
      status = 410;
    }
    res.status = status;
    if (wanted == Wanted::kDocument && r.ok()) {
      // The DID document alone, as application/did+json (DID Core §6.2).
      res.set_content(r.ToJson()["didDocument"].dump(), "application/did+json");
      return;
    }
    res.set_content(ResultJson(r).dump(),
                    "application/ld+json;profile=\"https://w3id.org/did-resolution\"");
  });
}

did::mdl::OpFetcher MakeLedgerOpFetcher(std::shared_ptr<LedgerClient> client) {
  auto mu = std::make_shared<std::mutex>();
  return [client, mu](std::string_view did,
                      uint64_t* tree_size) -> Result<std::vector<did::mdl::OpRecord>> {
    std::lock_guard<std::mutex> lock(*mu);
    MDL_ASSIGN_OR_RETURN(ledger::Checkpoint cp, client->Refresh());
    *tree_size = cp.size;
    MDL_ASSIGN_OR_RETURN(std::vector<ProvenEntry> entries,
                         client->Lookup({ledger::KeyKind::kDid, std::string(did)}));
    std::vector<did::mdl::OpRecord> ops;
    for (auto& e : entries) {
      auto body = jcs::ParseStrict(e.entry);
      if (body && body->is_object() && body->value("type", "") == "did.op" &&
          body->value("did", "") == did) {
        ops.push_back({e.index, std::move(e.entry)});
      }
    }
    return ops;
  };
}

}  // namespace medallion::roles
