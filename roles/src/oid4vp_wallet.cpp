// The wallet's side of OpenID4VP over HTTP (oid4vp_wallet.h).
#include "medallion/roles/oid4vp_wallet.h"

#include "medallion/core/encoding.h"
#include "medallion/core/json.h"
#include "medallion/http/http_client.h"
#include "medallion/roles/uma_http.h"

namespace medallion::roles {

using nlohmann::json;

namespace {

// The issuer-signed payload of an SD-JWT (its first part); {} when it cannot be read (MatchDcql
// has already parsed every credential it selected).
json IssuerPayload(const std::string& sd_jwt) {
  const size_t dot1 = sd_jwt.find('.');
  const size_t dot2 = dot1 == std::string::npos ? dot1 : sd_jwt.find('.', dot1 + 1);
  if (dot2 == std::string::npos) return json::object();
  auto bytes = Base64UrlDecode(std::string_view(sd_jwt).substr(dot1 + 1, dot2 - dot1 - 1));
  if (!bytes) return json::object();
  auto j = ParseJson(std::string(bytes->begin(), bytes->end()));
  return j && j->is_object() ? std::move(*j) : json::object();
}

// The disclosed claims' values (the processed payload at each revealed pointer): every
// disclosure of the credential applied, then read at the pointers.
json RevealedValues(const std::string& sd_jwt, const std::vector<std::string>& reveal) {
  json payload = IssuerPayload(sd_jwt);
  // Disclosures: the parts after the first '~', each base64url of [salt, name, value] (an object
  // member) or [salt, value] (an array element; not named here).
  json by_name = json::object();
  size_t pos = sd_jwt.find('~');
  while (pos != std::string::npos && pos + 1 < sd_jwt.size()) {
    const size_t next = sd_jwt.find('~', pos + 1);
    const std::string part =
        sd_jwt.substr(pos + 1, (next == std::string::npos ? sd_jwt.size() : next) - pos - 1);
    pos = next;
    auto bytes = Base64UrlDecode(part);
    if (!bytes) continue;
    auto d = ParseJson(std::string(bytes->begin(), bytes->end()));
    if (d && d->is_array() && d->size() == 3 && (*d)[1].is_string())
      by_name[(*d)[1].get<std::string>()] = (*d)[2];
  }
  json out = json::object();
  for (const std::string& p : reveal) {
    // Top-level members (the common case of a flat credential); a deeper pointer is shown
    // without its value.
    const std::string name = p.size() > 1 ? p.substr(1) : "";
    if (name.find('/') != std::string::npos) continue;
    if (by_name.contains(name))
      out[p] = by_name[name];
    else if (payload.contains(name))
      out[p] = payload[name];
  }
  return out;
}

json AnswerJson(const http::HttpReply& reply) {
  auto answer = ParseJson(reply.body, JsonLimits{size_t{1} << 20, 32});
  return answer ? std::move(*answer) : json(reply.body.substr(0, 2048));
}

}  // namespace

Result<std::map<std::string, std::string>> Oid4vpRequestParams(std::string_view uri) {
  if (uri.size() > kMaxOid4vpRequestBytes)
    return Status::InvalidArgument("the request link is longer than 96 KiB");
  const size_t q = uri.find('?');
  if (q == std::string_view::npos)
    return Status::InvalidArgument("the request URI has no query (expected openid4vp://?...)");
  std::string_view query = uri.substr(q + 1);
  if (const size_t hash = query.find('#'); hash != std::string_view::npos)
    query = query.substr(0, hash);
  return ParseForm(query);
}

Status CheckPresentationTransport(const std::string& url, bool loopback_http) {
  bool ok = url.starts_with("https://");
  for (const char* local : {"http://127.0.0.1:", "http://127.0.0.1/", "http://localhost:",
                            "http://localhost/", "http://[::1]:", "http://[::1]/"}) {
    ok = ok || (loopback_http && url.starts_with(local));
  }
  if (ok) return Status::Ok();
  return Status::InvalidArgument(
      "refusing to send a presentation to '" + url.substr(0, 200) + "': https is required" +
      (loopback_http ? " (plain http only on loopback)"
                     : " (plain http to loopback only with --allow-insecure-loopback)"));
}

Result<std::string> FetchRequestObject(const std::string& uri, const std::string& method) {
  // Fetched only over TLS (or from loopback), small and quick: a request object is a few KiB.
  MDL_RETURN_IF_ERROR(CheckPresentationTransport(uri));
  // §5.10: "post" sends wallet_metadata and wallet_nonce, both OPTIONAL; we send neither.
  MDL_ASSIGN_OR_RETURN(
      http::HttpReply reply,
      http::HttpCall(method == "post" ? "POST" : "GET", uri, "", "",
                     method == "post" ? "application/x-www-form-urlencoded" : "application/json",
                     kRequestObjectTimeoutSeconds, "", kMaxRequestObjectBytes));
  if (reply.status != 200)
    return Status::Unavailable("the request_uri answered HTTP " + std::to_string(reply.status));
  return reply.body;
}

Result<oid4vc::ParsedRequest> ReadOid4vpRequest(std::string_view uri,
                                                const did::Resolver* resolver,
                                                const Clock* clock, bool loopback_http) {
  MDL_ASSIGN_OR_RETURN(auto params, Oid4vpRequestParams(uri));
  did::Resolver did_key;  // did:key only, when the caller has no resolver
  SystemClock system;
  // By value, or by reference (§5.10, RFC 9101 §5): the request object fetched from request_uri;
  // signed for a decentralized_identifier: client (§5.9.3), verified through the resolver.
  MDL_ASSIGN_OR_RETURN(
      oid4vc::ParsedRequest request,
      oid4vc::ParseAuthorizationRequest(params,
                                        [loopback_http](const std::string& at,
                                                        const std::string& method)
                                            -> Result<std::string> {
                                          MDL_RETURN_IF_ERROR(
                                              CheckPresentationTransport(at, loopback_http));
                                          return FetchRequestObject(at, method);
                                        },
                                        resolver != nullptr ? resolver : &did_key,
                                        (clock != nullptr ? clock : &system)->NowSeconds()));
  MDL_RETURN_IF_ERROR(CheckPresentationTransport(request.response_uri, loopback_http));
  return request;
}

std::vector<std::string> KeptSdJwtVcs(const json& rows, std::vector<std::string>* labels) {
  std::vector<std::string> held;
  if (!rows.is_array()) return held;
  for (const json& row : rows) {
    if (!row.is_object() || StringOr(row, "format") != oid4vc::kSdJwtVcFormat ||
        !MemberOr(row, "credential").is_string())
      continue;
    held.push_back(row["credential"].get<std::string>());
    labels->push_back("container:" + StringOr(row, "id"));
  }
  return held;
}

json Oid4vpDisclosurePlan(const std::vector<std::string>& labels,
                          const std::vector<std::string>& held,
                          const std::vector<oid4vc::DcqlSelection>& selections, bool values) {
  json plan = json::array();
  for (const oid4vc::DcqlSelection& s : selections) {
    const json payload = IssuerPayload(held[s.credential]);
    json always = json::array();
    for (const auto& [k, v] : payload.items())
      if (k != "_sd" && k != "_sd_alg") always.push_back(k);
    plan.push_back({{"query_id", s.query_id},
                    {"credential_file", labels[s.credential]},
                    {"vct", payload.value("vct", "")},
                    {"issuer", payload.value("iss", "")},
                    {"disclosed_claims", s.reveal},
                    {"always_visible", always}});
    if (values) plan.back()["disclosed_values"] = RevealedValues(held[s.credential], s.reveal);
  }
  return plan;
}

Result<json> PostOid4vpResponse(const oid4vc::ParsedRequest& request,
                                const std::vector<std::string>& held,
                                const claims::Signer& holder, const Env& env,
                                bool loopback_http) {
  MDL_RETURN_IF_ERROR(CheckPresentationTransport(request.response_uri, loopback_http));
  MDL_ASSIGN_OR_RETURN(auto form, oid4vc::BuildResponse(request, held, holder, env));
  std::string body;
  for (const auto& [k, v] : form) {
    if (!body.empty()) body += '&';
    body += PercentEncode(k) + "=" + PercentEncode(v);
  }
  // §8.2: the response is posted form-encoded to the response_uri.
  MDL_ASSIGN_OR_RETURN(http::HttpReply reply,
                       http::HttpCall("POST", request.response_uri, "", body,
                                      "application/x-www-form-urlencoded", 15, "", size_t{1} << 20));
  if (reply.status < 200 || reply.status > 299) return http::StatusFromHttpReply(reply);
  json out = {{"sent", true}, {"status", reply.status}, {"verifier_answer", AnswerJson(reply)}};
  // §8.2: the verifier may answer a redirect_uri the wallet sends the user to.
  if (out["verifier_answer"].is_object()) {
    const std::string redirect = StringOr(out["verifier_answer"], "redirect_uri");
    if (CheckPresentationTransport(redirect, loopback_http).ok())
      out["redirect_uri"] = redirect;
  }
  return out;
}

Result<json> PostOid4vpDecline(const oid4vc::ParsedRequest& request, const std::string& why,
                               bool loopback_http) {
  MDL_RETURN_IF_ERROR(CheckPresentationTransport(request.response_uri, loopback_http));
  std::string body = "error=access_denied&error_description=" + PercentEncode(why);
  if (!request.state.empty()) body += "&state=" + PercentEncode(request.state);
  MDL_ASSIGN_OR_RETURN(http::HttpReply reply,
                       http::HttpCall("POST", request.response_uri, "", body,
                                      "application/x-www-form-urlencoded", 15, "", size_t{1} << 20));
  return json{{"client_id", request.client_id},
              {"response_uri", request.response_uri},
              {"sent", true},
              {"declined", true},
              {"status", reply.status},
              {"verifier_answer", AnswerJson(reply)}};
}

}  // namespace medallion::roles
