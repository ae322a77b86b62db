// OpenID4VP 1.0 Verifier and Wallet side, direct_post with DCQL over SD-JWT VC (verifier.h).
#include "medallion/oid4vc/verifier.h"

#include <sqlite3.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "medallion/core/encoding.h"
#include "medallion/core/json.h"
#include "medallion/storage/sqlite.h"

namespace medallion::oid4vc {

using nlohmann::json;
using sql::Stmt;

namespace {

constexpr std::string_view kWhat = "oid4vp";
constexpr size_t kMaxParam = 256;         // state, nonce, an error code
constexpr size_t kMaxVpToken = 2 << 20;   // the whole vp_token
constexpr size_t kMaxPresentations = 16;  // per Credential Query

constexpr const char* kMigrations[] = {
    // 1: the requests a response may answer: state and nonce are the verifier's own random
    // values; `answered` is set by the first response posted, whatever its outcome.
    "CREATE TABLE requests (state TEXT PRIMARY KEY, nonce TEXT NOT NULL, dcql TEXT NOT NULL, "
    "  created INTEGER NOT NULL, expires INTEGER NOT NULL, answered INTEGER NOT NULL DEFAULT 0);",
    // 2: an id for the request object by reference and the caller's lookups, and the caller's
    // outcome (JSON).
    "ALTER TABLE requests ADD COLUMN id TEXT; ALTER TABLE requests ADD COLUMN outcome TEXT; "
    "CREATE UNIQUE INDEX requests_by_id ON requests(id);",
};

Status Invalid(std::string_view detail) {
  return Status::WithReason(StatusCode::kInvalidArgument, vp_error::kInvalidRequest, detail);
}

bool HttpUrl(std::string_view u) {
  return (u.starts_with("https://") || u.starts_with("http://")) &&
         u.find_first_of("# \t\r\n") == std::string_view::npos;
}

std::string Param(const std::map<std::string, std::string>& m, const char* name) {
  auto it = m.find(name);
  return it == m.end() ? "" : it->second;
}

}  // namespace

Verifier::Verifier(sqlite3* db, VerifierOptions options, Env env)
    : db_(db), options_(std::move(options)), env_(env) {}

Verifier::~Verifier() { sqlite3_close(db_); }

int64_t Verifier::Now() const { return env_.clock->NowMillis() / 1000; }

Result<std::unique_ptr<Verifier>> Verifier::Open(const std::string& path, VerifierOptions options,
                                                 Env env) {
  if (!HttpUrl(options.response_uri))
    return Status::InvalidArgument("the response_uri must be an absolute http(s) URL");
  const std::string& id = options.client_id;
  if (id.starts_with(kRedirectUriPrefix)) {
    // §5.9.3: with direct_post, the response_uri is the client_id without its prefix.
    if (id.substr(kRedirectUriPrefix.size()) != options.response_uri)
      return Status::InvalidArgument("a redirect_uri: client_id must name the response_uri");
  } else if (id.starts_with(kDecentralizedIdentifierPrefix)) {
    if (!id.substr(kDecentralizedIdentifierPrefix.size()).starts_with("did:"))
      return Status::InvalidArgument("a decentralized_identifier: client_id must name a DID");
  } else {
    return Status::InvalidArgument(
        "the client_id needs the redirect_uri: or decentralized_identifier: prefix");
  }
  if (options.request_ttl_seconds <= 0) return Status::InvalidArgument("request_ttl_seconds > 0");
  sqlite3* db = nullptr;
  MDL_RETURN_IF_ERROR(sql::OpenDatabase(path, kWhat, kMigrations, &db));
  return std::unique_ptr<Verifier>(new Verifier(db, std::move(options), env));
}

Result<AuthorizationRequest> Verifier::CreateRequest(const json& dcql_query,
                                                     const RequestOptions& request_options) {
  MDL_ASSIGN_OR_RETURN(DcqlQuery query, ParseDcqlQuery(dcql_query));
  const std::string dcql = DcqlQueryToJson(query).dump();
  if (request_options.nonce.size() > kMaxParam)
    return Status::InvalidArgument("the nonce is too long");
  AuthorizationRequest r;
  r.state = env_.rng->RandomId(32);
  // §5.2 / §14.1: fresh, unpredictable, one per request (the caller's is a fresh challenge).
  r.nonce = request_options.nonce.empty() ? env_.rng->RandomId(32) : request_options.nonce;
  r.id = env_.rng->RandomId(22);
  r.expires = Now() + options_.request_ttl_seconds;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Stmt s(db_,
           "INSERT INTO requests (state, nonce, dcql, created, expires, id) VALUES (?,?,?,?,?,?)",
           kWhat);
    s.Text(1, r.state).Text(2, r.nonce).Text(3, dcql).Int(4, Now()).Int(5, r.expires).Text(6, r.id);
    if (s.Step() != SQLITE_DONE) return s.Error();
    // Requests expired for longer than the clock skew are answered "unknown state" instead of
    // "expired" from now on (refused either way): dropped, so the file does not grow forever.
    Stmt d(db_, "DELETE FROM requests WHERE expires <= ?", kWhat);
    d.Int(1, Now() - options_.max_clock_skew_seconds);
    if (d.Step() != SQLITE_DONE) return d.Error();
  }
  r.params = {{"client_id", options_.client_id},
              {"response_type", std::string(kVpTokenResponseType)},
              {"response_mode", std::string(kDirectPost)},
              {"response_uri", options_.response_uri},
              {"nonce", r.nonce},
              {"state", r.state},
              {"dcql_query", dcql}};
  r.uri = std::string(kRequestScheme) + "?";
  bool first = true;
  for (const auto& [k, v] : r.params) {
    if (!first) r.uri += "&";
    first = false;
    r.uri += k + "=" + PercentEncode(v);
  }
  if (!options_.request_uri_base.empty()) {
    r.request_uri = options_.request_uri_base + r.id;
    r.uri_by_reference = std::string(kRequestScheme) +
                         "?client_id=" + PercentEncode(options_.client_id) +
                         "&request_uri=" + PercentEncode(r.request_uri);
  }
  return r;
}

Result<std::string> Verifier::RequestObject(const std::string& id) {
  if (id.empty() || id.size() > kMaxParam) return Status::NotFound("no such request");
  if (!options_.client_id.starts_with(kRedirectUriPrefix))
    return Status::FailedPrecondition(
        "signed request objects (a decentralized_identifier: client) are not built");
  std::string state, nonce, dcql;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Stmt q(db_, "SELECT state, nonce, dcql, expires, answered FROM requests WHERE id = ?", kWhat);
    q.Text(1, id);
    const int rc = q.Step();
    if (rc == SQLITE_DONE) return Status::NotFound("no such request");
    if (rc != SQLITE_ROW) return q.Error();
    if (q.ColInt(4) != 0 || q.ColInt(3) <= Now())
      return Status::NotFound("the request was answered or has expired");
    state = q.Col(0);
    nonce = q.Col(1);
    dcql = q.Col(2);
  }
  // RFC 9101 §4: the request's parameters as claims; OID4VP §5.9.3: unsigned for this prefix.
  json claims = {{"client_id", options_.client_id},
                 {"response_type", kVpTokenResponseType},
                 {"response_mode", kDirectPost},
                 {"response_uri", options_.response_uri},
                 {"nonce", nonce},
                 {"state", state},
                 {"dcql_query", json::parse(dcql)}};
  const json header = {{"alg", "none"}, {"typ", "oauth-authz-req+jwt"}};
  return Base64UrlEncode(AsBytes(header.dump())) + "." + Base64UrlEncode(AsBytes(claims.dump())) +
         ".";
}

Status Verifier::LoadForResponse(const std::string& state, bool spend, std::string* nonce,
                                 std::string* dcql, std::string* id) {
  if (state.empty() || state.size() > kMaxParam) return Invalid("the response has no valid state");
  Status refused;
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = Now();
  MDL_RETURN_IF_ERROR(sql::InTransaction(db_, kWhat, [&]() -> Status {
    Stmt q(db_, "SELECT nonce, dcql, expires, answered, id FROM requests WHERE state = ?", kWhat);
    q.Text(1, state);
    const int rc = q.Step();
    if (rc == SQLITE_DONE) {
      refused = Invalid("unknown state: no such request");
      return Status::Ok();
    }
    if (rc != SQLITE_ROW) return q.Error();
    if (q.ColInt(3) != 0) {
      refused = Invalid("the request was already answered");
      return Status::Ok();
    }
    if (q.ColInt(2) <= now) refused = Invalid("the request has expired");
    *nonce = q.Col(0);
    *dcql = q.Col(1);
    *id = q.Col(4);
    if (!spend) return Status::Ok();
    Stmt u(db_, "UPDATE requests SET answered = 1 WHERE state = ?", kWhat);
    u.Text(1, state);
    if (u.Step() != SQLITE_DONE) return u.Error();
    return Status::Ok();
  }));
  return refused;
}

Status Verifier::Spend(const std::string& state) {
  std::string nonce, dcql, id;
  return LoadForResponse(state, /*spend=*/true, &nonce, &dcql, &id);
}

Result<PendingResponse> Verifier::ReadResponse(const std::map<std::string, std::string>& form) {
  PendingResponse out;
  out.state = Param(form, "state");
  std::string dcql;
  MDL_RETURN_IF_ERROR(LoadForResponse(out.state, /*spend=*/false, &out.nonce, &dcql, &out.id));
  out.form = form;
  if (form.count("error")) {  // §8.5
    const std::string code = Param(form, "error");
    const bool token = !code.empty() && code.size() <= kMaxParam &&
                       std::all_of(code.begin(), code.end(),
                                   [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
    if (!token) return Invalid("a malformed error response");
    out.error = code;
    out.error_description = Param(form, "error_description").substr(0, kMaxParam);
    return out;
  }
  const std::string vp = Param(form, "vp_token");
  if (vp.empty() || vp.size() > kMaxVpToken) return Invalid("the response has no vp_token");
  auto token = ParseJsonObject(vp, "vp_token");
  if (!token) return Invalid("vp_token is not a JSON object (§8.1)");
  MDL_ASSIGN_OR_RETURN(out.query, ParseDcqlQuery(std::string_view(dcql)));
  std::vector<std::string> present;
  for (const auto& [qid, list] : token->items()) {
    const CredentialQuery* cq = out.query.Find(qid);
    if (cq == nullptr) return Invalid("vp_token answers \"" + qid + "\", not a Credential Query");
    if (!list.is_array() || list.empty() || list.size() > kMaxPresentations)
      return Invalid("vp_token \"" + qid + "\" must be a non-empty array of presentations");
    if (!cq->multiple && list.size() != 1)
      return Invalid("vp_token \"" + qid + "\" has several presentations; multiple is false");
    for (const json& p : list) {
      if (!p.is_string()) return Invalid("vp_token \"" + qid + "\": a presentation is a string");
      out.presentations[qid].push_back(p.get<std::string>());
    }
    present.push_back(qid);
  }
  auto required = out.query.RequiredIds(&present);
  if (!required)
    return Invalid("vp_token does not meet the credential_sets: " + required.error().message());
  for (const std::string& qid : *required) {
    if (std::find(present.begin(), present.end(), qid) == present.end())
      return Invalid("vp_token does not answer credential query \"" + qid + "\"");
  }
  return out;
}

Status Verifier::RecordOutcome(const std::string& id, const json& outcome) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt u(db_, "UPDATE requests SET outcome = ? WHERE id = ?", kWhat);
  u.Text(1, outcome.dump()).Text(2, id);
  if (u.Step() != SQLITE_DONE) return u.Error();
  return Status::Ok();
}

Result<RequestRecord> Verifier::Lookup(const std::string& id) {
  if (id.empty() || id.size() > kMaxParam) return Status::NotFound("no such request");
  std::lock_guard<std::mutex> lock(mu_);
  Stmt q(db_, "SELECT state, expires, answered, outcome FROM requests WHERE id = ?", kWhat);
  q.Text(1, id);
  const int rc = q.Step();
  if (rc == SQLITE_DONE) return Status::NotFound("no such request");
  if (rc != SQLITE_ROW) return q.Error();
  RequestRecord r;
  r.id = id;
  r.state = q.Col(0);
  r.expires = q.ColInt(1);
  r.answered = q.ColInt(2) != 0;
  if (!q.ColIsNull(3)) {
    auto o = ParseJsonObject(q.Col(3), "outcome");
    if (o) r.outcome = std::move(*o);
  }
  return r;
}

Result<VerifiedPresentation> Verifier::VerifyResponse(
    const std::map<std::string, std::string>& form, const did::Resolver& resolver) {
  const std::string state = Param(form, "state");
  // Spend the request first: a second post for this state is refused, whatever the first was.
  std::string nonce, dcql, request_id;
  MDL_RETURN_IF_ERROR(LoadForResponse(state, /*spend=*/true, &nonce, &dcql, &request_id));

  // §8.5: the wallet's error response, posted to the response_uri.
  if (form.count("error")) {
    const std::string code = Param(form, "error");
    const bool token = !code.empty() && code.size() <= kMaxParam &&
                       std::all_of(code.begin(), code.end(),
                                   [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
    if (!token) return Invalid("a malformed error response");
    std::string description = Param(form, "error_description").substr(0, kMaxParam);
    return Status::WithReason(StatusCode::kPermissionDenied, code,
                              description.empty() ? "the wallet refused" : description);
  }

  const std::string vp = Param(form, "vp_token");
  if (vp.empty() || vp.size() > kMaxVpToken) return Invalid("the response has no vp_token");
  auto token = ParseJsonObject(vp, "vp_token");
  if (!token) return Invalid("vp_token is not a JSON object (§8.1)");
  MDL_ASSIGN_OR_RETURN(DcqlQuery query, ParseDcqlQuery(std::string_view(dcql)));

  VerifiedPresentation out;
  out.state = state;
  std::vector<std::string> present;
  for (const auto& [id, list] : token->items()) {
    const CredentialQuery* cq = query.Find(id);
    if (cq == nullptr) return Invalid("vp_token answers \"" + id + "\", not a Credential Query");
    if (!list.is_array() || list.empty() || list.size() > kMaxPresentations)
      return Invalid("vp_token \"" + id + "\" must be a non-empty array of presentations");
    if (!cq->multiple && list.size() != 1)
      return Invalid("vp_token \"" + id + "\" has several presentations; multiple is false");
    for (const json& p : list) {
      if (!p.is_string()) return Invalid("vp_token \"" + id + "\": a presentation is a string");
      // Appendix B.3.6: the KB-JWT binds the presentation to this request: nonce and aud
      // (the client_id, prefix included).
      claims::SdJwtVerifyOptions o;
      o.require_key_binding = cq->require_cryptographic_holder_binding;
      o.expected_audience = options_.client_id;
      o.expected_nonce = nonce;
      o.kb_max_age_seconds = options_.kb_max_age_seconds;
      o.max_clock_skew_seconds = options_.max_clock_skew_seconds;
      auto verified =
          claims::VerifySdJwt(p.get_ref<const std::string&>(), resolver, o, *env_.clock);
      if (!verified)
        return Status::WithReason(
            verified.error().code(), vp_error::kInvalidRequest,
            verified.error().message() + " (credential query \"" + id + "\")");
      auto payload = ParseJsonObject(verified->payload_json, "sd-jwt payload");
      if (!payload) return payload.error();
      // §6.4 / §8.6: what was disclosed must satisfy the query: an undisclosed claim is absent.
      auto selected = SelectClaims(*cq, *payload);
      if (!selected)
        return Status::WithReason(
            StatusCode::kPermissionDenied, vp_error::kInvalidRequest,
            "credential query \"" + id +
                "\" is not satisfied by the disclosed claims: " + selected.error().message());
      out.credentials[id].push_back(std::move(*verified));
    }
    present.push_back(id);
  }
  auto required = query.RequiredIds(&present);
  if (!required)
    return Invalid("vp_token does not meet the credential_sets: " + required.error().message());
  for (const std::string& id : *required) {
    if (std::find(present.begin(), present.end(), id) == present.end())
      return Invalid("vp_token does not answer credential query \"" + id + "\"");
  }
  return out;
}

Result<ParsedRequest> ParseAuthorizationRequest(const std::map<std::string, std::string>& params) {
  if (params.count("request") || params.count("request_uri"))
    return Invalid("request objects (request, request_uri) are not supported yet");
  if (Param(params, "response_type") != kVpTokenResponseType)
    return Invalid("response_type must be vp_token (§5.6)");
  if (Param(params, "response_mode") != kDirectPost)
    return Invalid("response_mode must be direct_post (§8.2)");
  ParsedRequest r;
  r.response_uri = Param(params, "response_uri");
  if (!HttpUrl(r.response_uri)) return Invalid("response_uri must be an http(s) URL (§8.2)");
  if (params.count("redirect_uri"))
    return Invalid("redirect_uri must not be present with direct_post (§8.2)");
  r.client_id = Param(params, "client_id");
  if (r.client_id.starts_with(kRedirectUriPrefix)) {
    if (r.client_id.substr(kRedirectUriPrefix.size()) != r.response_uri)
      return Invalid("a redirect_uri: client_id must equal the response_uri (§5.9.3)");
  } else if (r.client_id.starts_with(kDecentralizedIdentifierPrefix)) {
    return Status::WithReason(StatusCode::kInvalidArgument, vp_error::kInvalidClient,
                              "a decentralized_identifier: client_id needs a signed request "
                              "object (§5.9.3), not supported yet");
  } else {
    return Status::WithReason(StatusCode::kInvalidArgument, vp_error::kInvalidClient,
                              "unsupported client identifier prefix");
  }
  r.nonce = Param(params, "nonce");
  if (r.nonce.empty() || r.nonce.size() > kMaxParam) return Invalid("nonce is required (§5.2)");
  r.state = Param(params, "state");
  if (r.state.size() > kMaxParam) return Invalid("state is too long");
  if (!params.count("dcql_query")) return Invalid("dcql_query is required (§5.1)");
  MDL_ASSIGN_OR_RETURN(r.query, ParseDcqlQuery(std::string_view(Param(params, "dcql_query"))));
  return r;
}

Result<ParsedRequest> ParseAuthorizationRequest(const std::map<std::string, std::string>& params,
                                                const RequestObjectFetcher& fetch) {
  if (!params.count("request_uri")) return ParseAuthorizationRequest(params);
  if (params.count("request"))
    return Invalid("request and request_uri must not both be present (RFC 9101 §5)");
  const std::string uri = Param(params, "request_uri");
  if (!HttpUrl(uri) || uri.size() > 2048) return Invalid("request_uri must be an http(s) URL");
  // §5.10: request_uri_method "get" (the default) or "post"; any other value is an error.
  std::string method = params.count("request_uri_method") ? Param(params, "request_uri_method")
                                                          : std::string("get");
  if (method != "get" && method != "post")
    return Status::WithReason(StatusCode::kInvalidArgument, vp_error::kInvalidRequestUriMethod,
                              "request_uri_method must be get or post (§5.10)");
  const std::string outer_client = Param(params, "client_id");
  if (outer_client.empty()) return Invalid("client_id is required with request_uri (§5.10)");
  if (!outer_client.starts_with(kRedirectUriPrefix))
    return Status::WithReason(StatusCode::kInvalidArgument, vp_error::kInvalidClient,
                              "only redirect_uri: clients are supported by reference (their "
                              "request objects are unsigned, §5.9.3); signed ones are not built");
  if (!fetch) return Invalid("request_uri given but the wallet cannot fetch it");
  auto body = fetch(uri, method);
  if (!body) return Invalid("the request object could not be fetched: " + body.error().message());
  // An Unsecured JWT (RFC 7519 §6): header.payload. with an empty signature.
  const std::string& jwt = *body;
  const size_t d1 = jwt.find('.');
  const size_t d2 = d1 == std::string::npos ? d1 : jwt.find('.', d1 + 1);
  if (jwt.size() > kMaxVpToken || d2 == std::string::npos || d2 + 1 != jwt.size())
    return Invalid("the request object is not an unsigned JWT (alg none, §5.9.3)");
  auto header_bytes = Base64UrlDecode(std::string_view(jwt).substr(0, d1));
  auto payload_bytes = Base64UrlDecode(std::string_view(jwt).substr(d1 + 1, d2 - d1 - 1));
  if (!header_bytes || !payload_bytes) return Invalid("the request object is not base64url");
  auto header = ParseJsonObject(ToString(*header_bytes), "request object header");
  auto claims = ParseJsonObject(ToString(*payload_bytes), "request object");
  if (!header || !claims) return Invalid("the request object is not a JWT of JSON objects");
  if (header->value("alg", "") != "none")
    return Invalid("a redirect_uri: client's request object must be unsigned (alg none, §5.9.3)");
  if (header->contains("typ") && (*header)["typ"] != "oauth-authz-req+jwt")
    return Invalid("the request object's typ must be oauth-authz-req+jwt (RFC 9101 §10.8)");
  std::map<std::string, std::string> inner;
  for (const auto& [k, v] : claims->items()) {
    if (v.is_string()) {
      inner[k] = v.get<std::string>();
    } else if (k == "dcql_query" && v.is_object()) {
      inner[k] = v.dump();
    } else if (k == "iss" || k == "aud" || k == "iat" || k == "exp" || k == "nbf" || k == "jti") {
      continue;  // JWT claims, not request parameters
    } else {
      return Invalid("request object member \"" + k + "\" has an unexpected type");
    }
  }
  // RFC 9101 §5 / OID4VP §5.10: the client_id outside must be the request object's.
  if (Param(inner, "client_id") != outer_client)
    return Invalid("the request object's client_id is not the request's");
  return ParseAuthorizationRequest(inner);
}

Result<std::map<std::string, std::string>> BuildResponse(const ParsedRequest& request,
                                                         const std::vector<std::string>& held,
                                                         const claims::Signer& holder,
                                                         const Env& env) {
  MDL_ASSIGN_OR_RETURN(std::vector<DcqlSelection> selections, MatchDcql(request.query, held));
  json vp = json::object();
  for (const DcqlSelection& s : selections) {
    claims::SdJwtPresentOptions o;
    o.reveal = s.reveal;
    o.audience = request.client_id;
    o.nonce = request.nonce;
    MDL_ASSIGN_OR_RETURN(std::string p, claims::PresentSdJwt(held[s.credential], o, &holder, env));
    vp[s.query_id].push_back(std::move(p));
  }
  std::map<std::string, std::string> form{{"vp_token", vp.dump()}};
  if (!request.state.empty()) form["state"] = request.state;
  return form;
}

}  // namespace medallion::oid4vc
