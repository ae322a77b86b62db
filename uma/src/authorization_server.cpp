// The UMA 2.0 authorization server: storage, the protocol endpoints, claims gathering, owner
// API and the accounting of disclosures. See the header for the specifications followed.
#include "medallion/uma/authorization_server.h"

#include "as_internal.h"
#include "medallion/ledger/entry.h"
#include "medallion/core/secret.h"
#include "medallion/wallet/keys.h"

namespace medallion::uma {

// ---------------------------------------------------------------------------------------------

AuthorizationServer::AuthorizationServer(std::unique_ptr<Impl> impl,
                                         AuthorizationServerOptions options)
    : impl_(std::move(impl)), options_(std::move(options)) {}

AuthorizationServer::~AuthorizationServer() = default;

Result<std::unique_ptr<AuthorizationServer>> AuthorizationServer::Open(
    const std::string& path, AuthorizationServerOptions options, Env env) {
  if (options.issuer.empty() || options.issuer.back() == '/') {
    return Status::InvalidArgument("uma: the issuer is a base URL without a trailing '/'");
  }
  if (!did::IsValidDid(options.owner_did))
    return Status::InvalidArgument("uma: the owner is not a DID");
  if (options.resolver == nullptr || !options.license_status) {
    return Status::InvalidArgument("uma: a resolver and a license status check are required");
  }
  if (options.ledger != nullptr &&
      (!options.owner_signer.sign || options.pseudonym_secret == nullptr ||
       options.pseudonym_secret->size() != 32)) {
    return Status::InvalidArgument(
        "uma: ledger receipts need the owner's signer and a 32-byte pseudonym secret");
  }
  const std::string container = options.container.empty() ? options.owner_did : options.container;
  MDL_ASSIGN_OR_RETURN(std::unique_ptr<sql::Db> db,
                       sql::Db::Open(path, kWhat, {Migrations(), PgMigrations()}, container));
  const bool pg = db->backend() == sql::Backend::kPostgres;
  std::unique_ptr<AuthorizationServer> as(new AuthorizationServer(nullptr, std::move(options)));
  as->impl_ = std::make_unique<Impl>(std::move(db), as->options_, env);
  if (!pg) as->impl_->path_ = path;
  if (as->options_.sd_jwt_license_status) {
    // UMA Grant §3.3.2 by OpenID4VP: client_id "redirect_uri:" + the response endpoint
    // (OpenID4VP §5.9.3), requests in a SQLite file of their own or, on PostgreSQL, as this
    // container's rows of the same database (the same URL, so the same PgPool when one lives;
    // the tenant column and row-level security of the other stores: docs/scale-out.md).
    std::string vp_path = as->options_.oid4vp_db;
    if (vp_path.empty() && pg) {
      vp_path = path;
    } else if (vp_path.empty() && !path.empty() && path != ":memory:" &&
               path.rfind("file:", 0) != 0) {
      vp_path = path + "-oid4vp.db";
    }
    if (!vp_path.empty()) {
      oid4vc::VerifierOptions vo;
      vo.response_uri = as->options_.issuer + kClaimsResponsePath;
      vo.client_id = std::string(oid4vc::kRedirectUriPrefix) + vo.response_uri;
      vo.request_ttl_seconds = as->options_.claims_interaction_ttl;
      vo.max_clock_skew_seconds = as->options_.max_clock_skew;
      MDL_ASSIGN_OR_RETURN(as->impl_->vp_, oid4vc::Verifier::Open(vp_path, container, vo, env));
    }
  }
  return as;
}

json AuthorizationServer::Discovery() const {
  const std::string& i = options_.issuer;
  // RFC 8414 §2 + UMA Grant §2 + FedAuthz §2. Introspection takes the PAT as a bearer token
  // (FedAuthz §5), which is no method of RFC 8414's registry, so
  // introspection_endpoint_auth_methods_supported is omitted (§2: "determined by other means");
  // no UMA profile is implemented, so uma_profiles_supported (optional) is omitted too.
  json d = {
      {"issuer", i},
      {"token_endpoint", i + "/token"},
      {"registration_endpoint", i + "/register"},
      {"introspection_endpoint", i + "/introspect"},
      {"revocation_endpoint", i + "/revoke"},
      {"permission_endpoint", i + "/uma/permission"},
      {"resource_registration_endpoint", i + "/uma/resource_set"},
      {"grant_types_supported", {kUmaTicketGrant, "client_credentials"}},
      {"token_endpoint_auth_methods_supported", {"client_secret_basic", "client_secret_post"}},
      {"revocation_endpoint_auth_methods_supported", {"client_secret_basic", "client_secret_post"}},
      {"response_types_supported", json::array()},
      {"scopes_supported", {kProtectionScope}},
      {"claim_token_profiles_supported", {kClaimTokenDidAuth, kClaimTokenVp}},
      {"service_documentation", i + "/docs/uma"},
  };
  // UMA Grant §2: interactive claims gathering (§3.3.2), here by OpenID4VP.
  if (ClaimsInteractionEnabled()) d["claims_interaction_endpoint"] = i + kClaimsInteractionPath;
  return d;
}

// --- clients ---

// A client's redirect URI (RFC 6749 §3.1.2, RFC 8252 §7.3, RFC 9700 §4.1.3): https, or http to
// the loopback interface only — the authority (RFC 3986 §3.2) parsed, not matched by prefix,
// so "http://localhost.evil.example/" and "http://127.0.0.1@evil.example/" are refused: no
// userinfo, the host exactly 127.0.0.1, localhost or [::1], an optional decimal port; no
// fragment (§3.1.2) and only visible ASCII.
bool AcceptableRedirectUri(const std::string& uri) {
  if (uri.size() > 2048) return false;
  for (char c : uri) {
    if (c < 0x21 || c > 0x7e || c == '#') return false;
  }
  auto authority_of = [&](size_t from) {
    const size_t end = uri.find_first_of("/?#", from);
    return uri.substr(from, end == std::string::npos ? std::string::npos : end - from);
  };
  if (uri.rfind("https://", 0) == 0) {
    const std::string authority = authority_of(8);
    return !authority.empty() && authority.find('@') == std::string::npos;
  }
  if (uri.rfind("http://", 0) != 0) return false;
  const std::string authority = authority_of(7);
  if (authority.find('@') != std::string::npos) return false;
  std::string host = authority, port;
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == std::string::npos) return false;
    host = authority.substr(0, close + 1);
    const std::string rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return false;
      port = rest.substr(1);
      if (port.empty()) return false;
    }
  } else if (const size_t colon = authority.find(':'); colon != std::string::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty()) return false;
  }
  if (port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  return host == "127.0.0.1" || host == "localhost" || host == "[::1]";
}

Reply AuthorizationServer::RegisterClient(const json& metadata,
                                          std::string_view initial_access_token) {
  if (!metadata.is_object())
    return Error(StatusCode::kInvalidArgument, "invalid_client_metadata",
                 "the metadata is a JSON object");
  // RFC 7591 §2: the members we act on, each checked for type.
  std::string kind = "client";
  if (auto s = metadata.find("scope"); s != metadata.end()) {
    if (!s->is_string())
      return Error(StatusCode::kInvalidArgument, "invalid_client_metadata", "scope is a string");
    for (const std::string& sc : SplitSpaces(s->get<std::string>())) {
      if (sc == kProtectionScope) {
        kind = "resource_server";
      } else {
        return Error(StatusCode::kInvalidArgument, "invalid_client_metadata",
                     "unknown scope '" + sc + "'");
      }
    }
  }
  // RFC 7591 §3: registering a resource server for this container is the owner's act; the
  // initial access token is checked before anything else is said about the request.
  if (kind == "resource_server" && !CheckOwner(initial_access_token).ok()) {
    return InvalidToken(
        options_.realm,
        "registering a resource server needs the owner's session as initial access token");
  }
  std::string method = "client_secret_basic";
  if (auto m = metadata.find("token_endpoint_auth_method"); m != metadata.end()) {
    if (!m->is_string() || (*m != "client_secret_basic" && *m != "client_secret_post")) {
      return Error(StatusCode::kInvalidArgument, "invalid_client_metadata",
                   "token_endpoint_auth_method must be client_secret_basic or client_secret_post "
                   "(clients authenticate)");
    }
    method = m->get<std::string>();
  }
  std::vector<std::string> grants = {kind == "resource_server" ? "client_credentials"
                                                               : kUmaTicketGrant};
  if (auto g = metadata.find("grant_types"); g != metadata.end()) {
    if (!g->is_array() || g->empty())
      return Error(StatusCode::kInvalidArgument, "invalid_client_metadata",
                   "grant_types is a non-empty array");
    grants.clear();
    for (const json& v : *g) {
      if (!v.is_string())
        return Error(StatusCode::kInvalidArgument, "invalid_client_metadata",
                     "grant_types holds strings");
      const bool allowed =
          kind == "resource_server" ? v == "client_credentials" : v == kUmaTicketGrant;
      if (!allowed)
        return Error(StatusCode::kInvalidArgument, "invalid_client_metadata",
                     "grant type '" + v.get<std::string>() + "' is not available");
      grants.push_back(v);
    }
  }
  if (auto r = metadata.find("redirect_uris"); r != metadata.end()) {
    if (!r->is_array())
      return Error(StatusCode::kInvalidArgument, "invalid_redirect_uri",
                   "redirect_uris is an array");
    for (const json& u : *r) {
      if (!u.is_string() || !AcceptableRedirectUri(u.get<std::string>())) {
        return Error(StatusCode::kInvalidArgument, "invalid_redirect_uri",
                     "redirect URIs are https (or loopback http)");
      }
    }
  }
  std::string name = "unnamed client";
  if (auto n = metadata.find("client_name"); n != metadata.end()) {
    if (!n->is_string() || n->get<std::string>().size() > 256)
      return Error(StatusCode::kInvalidArgument, "invalid_client_metadata",
                   "client_name is a short string");
    name = n->get<std::string>();
  }
  json stored = {
      {"client_name", name}, {"token_endpoint_auth_method", method}, {"grant_types", grants}};
  if (metadata.contains("redirect_uris")) stored["redirect_uris"] = metadata["redirect_uris"];
  if (kind == "resource_server") stored["scope"] = kProtectionScope;

  const std::string client_id = impl_->NewId();
  std::string secret = impl_->NewToken();
  const Hash256 h = TokenHash(secret);
  const int64_t now = impl_->Now();
  Impl::Lock lock(*impl_);
  Status st = impl_->Tx([&]() -> Status {
    MDL_RETURN_IF_ERROR(impl_->clients_->Insert(client_id, h, kind, stored, now));
    return impl_->Log({{"event", "client.register"},
                       {"client_id", client_id},
                       {"kind", kind},
                       {"client_name", name}});
  });
  if (!st.ok()) return Internal(st);
  json body = stored;
  body["client_id"] = client_id;
  body["client_secret"] = secret;
  body["client_id_issued_at"] = now;
  body["client_secret_expires_at"] = 0;
  SecretString::WipeString(secret);
  return Created(std::move(body));
}

Result<std::pair<std::string, SecretString>> AuthorizationServer::RegisterResourceServer(
    const std::string& name) {
  const std::string client_id = impl_->NewId();
  SecretString secret(impl_->NewToken());
  const Hash256 h = TokenHash(secret.Reveal());
  json stored = {{"client_name", name},
                 {"token_endpoint_auth_method", "client_secret_basic"},
                 {"grant_types", {"client_credentials"}},
                 {"scope", kProtectionScope}};
  Impl::Lock lock(*impl_);
  MDL_RETURN_IF_ERROR(impl_->Tx([&]() -> Status {
    // (not MDL_RETURN_IF_ERROR: this runs inside one, whose local it would shadow)
    if (Status st = impl_->clients_->Insert(client_id, h, "resource_server", stored, impl_->Now());
        !st.ok())
      return st;
    return impl_->Log({{"event", "client.register"},
                       {"client_id", client_id},
                       {"kind", "resource_server"},
                       {"client_name", name}});
  }));
  return std::make_pair(client_id, std::move(secret));
}

Result<std::string> AuthorizationServer::InternalPat(const std::string& name) {
  Impl::Lock lock(*impl_);
  std::string client_id = impl_->clients_->InternalClient(name);
  const std::string pat = impl_->NewToken();
  MDL_RETURN_IF_ERROR(impl_->Tx([&]() -> Status {
    if (client_id.empty()) {
      client_id = impl_->NewId();
      // No usable secret: an internal client only ever gets PATs through this call.
      const Hash256 none = TokenHash(impl_->NewToken());
      json stored = {
          {"client_name", name}, {"grant_types", json::array()}, {"scope", kProtectionScope}};
      if (Status st = impl_->clients_->Insert(client_id, none, "internal", stored, impl_->Now());
          !st.ok())
        return st;
    }
    return impl_->InsertToken(pat, "pat", client_id, options_.owner_did,
                              {{"scope", kProtectionScope}}, options_.pat_ttl);
  }));
  return pat;
}

// --- token endpoint ---

Reply AuthorizationServer::Token(const std::map<std::string, std::string>& form,
                                 const ClientCredentials& credentials) {
  auto param = [&](const char* k) -> std::string {
    auto it = form.find(k);
    return it == form.end() ? "" : it->second;
  };
  // RFC 6749 §5.2: client authentication failed → 401 invalid_client.
  std::optional<ClientRow> client;
  {
    Impl::Lock lock(*impl_);
    client = impl_->Authenticate(credentials);
  }
  if (!client) {
    Reply r = Error(StatusCode::kUnauthenticated, "invalid_client", "client authentication failed");
    r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"" + options_.realm + "\"");
    return r;
  }
  const std::string grant_type = param("grant_type");
  const std::vector<std::string> grants =
      client->metadata.value("grant_types", std::vector<std::string>{});
  if (grant_type.empty())
    return Error(StatusCode::kInvalidArgument, "invalid_request", "grant_type is required");
  if (grant_type != kUmaTicketGrant && grant_type != "client_credentials") {
    return Error(StatusCode::kInvalidArgument, "unsupported_grant_type",
                 "grant_type '" + grant_type + "' is not supported");
  }
  if (!Contains(grants, grant_type))
    return Error(StatusCode::kInvalidArgument, "unauthorized_client",
                 "this client may not use " + grant_type);

  if (grant_type == "client_credentials") {
    // FedAuthz §1.3.1: the PAT, scope uma_protection, for a resource server of this owner.
    const std::vector<std::string> scopes = SplitSpaces(param("scope"));
    if (scopes.size() != 1 || scopes[0] != kProtectionScope) {
      return Error(StatusCode::kInvalidArgument, "invalid_scope",
                   "a resource server asks for scope uma_protection");
    }
    const std::string pat = impl_->NewToken();
    Impl::Lock lock(*impl_);
    Status st = impl_->Tx([&]() -> Status {
      return impl_->InsertToken(pat, "pat", credentials.client_id, options_.owner_did,
                                {{"scope", kProtectionScope}}, options_.pat_ttl);
    });
    if (!st.ok()) return Internal(st);
    return Answer({{"access_token", pat},
                   {"token_type", "Bearer"},
                   {"expires_in", options_.pat_ttl},
                   {"scope", kProtectionScope}});
  }
  return UmaGrant(form, credentials.client_id);
}

// UmaGrant: grant.cpp.

// --- protection API ---

namespace {

// FedAuthz §3.1: a resource description.
Result<json> ResourceDescription(const json& d) {
  if (!d.is_object()) return Status::InvalidArgument("a resource description is a JSON object");
  json out = json::object();
  auto scopes = d.find("resource_scopes");
  if (scopes == d.end() || !scopes->is_array() || scopes->empty() ||
      scopes->size() > kMaxScopesPerResource) {
    return Status::InvalidArgument("resource_scopes is a non-empty array of strings");
  }
  std::set<std::string> seen;
  for (const json& s : *scopes) {
    if (!s.is_string() || s.get_ref<const std::string&>().empty() ||
        s.get_ref<const std::string&>().size() > 256 ||
        s.get_ref<const std::string&>().find(' ') != std::string::npos) {
      return Status::InvalidArgument("resource_scopes holds scope strings without spaces");
    }
    seen.insert(s.get<std::string>());
  }
  out["resource_scopes"] = std::vector<std::string>(seen.begin(), seen.end());
  for (const char* k : {"description", "icon_uri", "name", "type"}) {
    auto it = d.find(k);
    if (it == d.end()) continue;
    if (!it->is_string() || it->get_ref<const std::string&>().size() > 1024) {
      return Status::InvalidArgument(std::string(k) + " is a string of at most 1024 bytes");
    }
    out[k] = *it;
  }
  return out;
}

}  // namespace

Reply AuthorizationServer::CreateResource(std::string_view pat, const json& description) {
  Impl::Lock lock(*impl_);
  const std::string rs = impl_->PatClient(pat);
  if (rs.empty()) return InvalidToken(options_.realm, "a valid PAT is required");
  auto d = ResourceDescription(description);
  if (!d) return Error(StatusCode::kInvalidArgument, "invalid_request", d.error().message());
  const std::string id = impl_->NewId();
  Status st = impl_->Tx([&]() -> Status {
    return impl_->resources_->Create(id, {rs, options_.owner_did, *d}, impl_->Now(),
                                     kMaxResourcesPerServer);
  });
  if (st.code() == StatusCode::kResourceExhausted)
    return Error(StatusCode::kInvalidArgument, "invalid_request", st.message());
  if (!st.ok()) return Internal(st);
  // FedAuthz §3.2.1: the new resource's location.
  Reply created =
      Created({{"_id", id}, {"user_access_policy_uri", options_.issuer + "/owner/v1/policies"}});
  created.headers.emplace_back("Location", options_.issuer + "/uma/resource_set/" + id);
  return created;
}

Reply AuthorizationServer::ReadResource(std::string_view pat, std::string_view id) {
  Impl::Lock lock(*impl_);
  std::string rs;
  Impl::ResourceRow r;
  if (auto refusal = impl_->OwnedResource(pat, id, &rs, &r)) return *refusal;
  json body = r.description;
  body["_id"] = std::string(id);
  return Answer(std::move(body));
}

Reply AuthorizationServer::UpdateResource(std::string_view pat, std::string_view id,
                                          const json& description) {
  Impl::Lock lock(*impl_);
  std::string rs;
  Impl::ResourceRow r;
  if (auto refusal = impl_->OwnedResource(pat, id, &rs, &r)) return *refusal;
  auto d = ResourceDescription(description);
  if (!d) return Error(StatusCode::kInvalidArgument, "invalid_request", d.error().message());
  Status st = impl_->Tx([&]() -> Status { return impl_->resources_->Update(id, rs, *d); });
  if (!st.ok()) return Internal(st);
  return Answer({{"_id", std::string(id)}});
}

Reply AuthorizationServer::DeleteResource(std::string_view pat, std::string_view id) {
  Impl::Lock lock(*impl_);
  std::string rs;
  Impl::ResourceRow r;
  if (auto refusal = impl_->OwnedResource(pat, id, &rs, &r)) return *refusal;
  Status st = impl_->Tx([&]() -> Status { return impl_->resources_->Delete(id, rs); });
  if (!st.ok()) return Internal(st);
  return Empty();
}

Reply AuthorizationServer::ListResources(std::string_view pat) {
  Impl::Lock lock(*impl_);
  const std::string rs = impl_->PatClient(pat);
  if (rs.empty()) return InvalidToken(options_.realm, "a valid PAT is required");
  json ids = json::array();
  for (std::string& id : impl_->resources_->List(rs)) ids.push_back(std::move(id));
  return Answer(std::move(ids));
}

Reply AuthorizationServer::RequestPermission(std::string_view pat, const json& body) {
  Impl::Lock lock(*impl_);
  const std::string rs = impl_->PatClient(pat);
  if (rs.empty()) return InvalidToken(options_.realm, "a valid PAT is required");
  return RequestPermissionLocked(rs, body);
}

Reply AuthorizationServer::RequestPermissionLocked(const std::string& rs, const json& body) {
  // FedAuthz §4.1: one permission object or an array of them.
  json list = body.is_array() ? body : json::array({body});
  if (list.empty() || list.size() > kMaxPermissionsPerTicket) {
    return Error(StatusCode::kInvalidArgument, "invalid_request", "one to 64 permission requests");
  }
  json permissions = json::array();
  for (const json& p : list) {
    if (!p.is_object() || !p.contains("resource_id") || !p["resource_id"].is_string()) {
      return Error(StatusCode::kInvalidArgument, "invalid_resource_id",
                   "each permission names a resource_id");
    }
    const std::string id = p["resource_id"];
    auto r = impl_->Resource(id);
    // The resource must be this resource server's, for this owner (FedAuthz §4.3).
    if (!r || r->client_id != rs || r->owner != options_.owner_did) {
      return Error(StatusCode::kInvalidArgument, "invalid_resource_id",
                   "resource '" + id + "' is not registered by this resource server");
    }
    const std::vector<std::string> registered =
        r->description.value("resource_scopes", std::vector<std::string>{});
    auto scopes = p.find("resource_scopes");
    // FedAuthz §4.1: "zero or more" scope identifiers.
    if (scopes == p.end() || !scopes->is_array()) {
      return Error(StatusCode::kInvalidArgument, "invalid_scope",
                   "resource_scopes is an array (of zero or more scopes)");
    }
    std::set<std::string> want;
    for (const json& s : *scopes) {
      if (!s.is_string() || !Contains(registered, s.get<std::string>())) {
        return Error(StatusCode::kInvalidArgument, "invalid_scope",
                     "a requested scope is not registered on resource '" + id + "'");
      }
      want.insert(s.get<std::string>());
    }
    permissions.push_back(
        {{"resource_id", id},
         {"resource_scopes", std::vector<std::string>(want.begin(), want.end())}});
  }
  Result<std::string> ticket = Status::Internal("unset");
  Status st = impl_->Tx([&]() -> Status {
    ticket = impl_->IssueTicket(rs, {{"permissions", permissions}});
    return ticket.status();
  });
  if (!st.ok()) return Internal(st);
  return Created({{"ticket", *ticket}});
}

// A read of committed state: through a WAL reader connection without mu_, or (a database with
// no separate readers) the stores under the lock.
class AuthorizationServer::ReadView {
 public:
  explicit ReadView(Impl& im) : reader_(im.TakeReader()) {
    if (reader_) {
      tokens_ = reader_->tokens.get();
      resources_ = reader_->resources.get();
    } else {
      lock_.emplace(im);
      tokens_ = im.tokens_.get();
      resources_ = im.resources_.get();
    }
  }
  TokenStore& tokens() { return *tokens_; }
  ResourceStore& resources() { return *resources_; }

 private:
  Impl::ReaderPtr reader_;
  std::optional<Impl::Lock> lock_;
  TokenStore* tokens_;
  ResourceStore* resources_;
};

Reply AuthorizationServer::Introspect(std::string_view pat, std::string_view token) {
  ReadView view(*impl_);
  const int64_t now = impl_->Now();
  auto pat_row = view.tokens().Live(pat, "pat", now);
  if (!pat_row) return InvalidToken(options_.realm, "a valid PAT is required");
  const std::string rs = pat_row->client_id;
  if (token.empty())
    return Error(StatusCode::kInvalidArgument, "invalid_request", "token is required");
  // RFC 7662 §2.2: anything not active for this caller is just {"active": false}.
  auto row = view.tokens().Live(token, "rpt", now);
  if (!row) return Answer({{"active", false}});
  json perms = json::array();
  for (const GrantedPermission& g : PermissionsFromJson(row->data.at("permissions"))) {
    auto r = view.resources().Get(g.resource_id);
    if (!r || r->client_id != rs) continue;
    // FedAuthz §5.1.1: resource_id, resource_scopes, exp.
    perms.push_back(
        {{"resource_id", g.resource_id}, {"resource_scopes", g.scopes}, {"exp", row->expires}});
  }
  if (perms.empty()) return Answer({{"active", false}});
  return Answer({{"active", true},
                 {"exp", row->expires},
                 {"iat", row->issued},
                 {"client_id", row->client_id},
                 {"sub", row->subject},
                 {"iss", options_.issuer},
                 {"token_type", "Bearer"},
                 {"permissions", perms}});
}

Reply AuthorizationServer::Revoke(const ClientCredentials& credentials, std::string_view token) {
  Impl::Lock lock(*impl_);
  if (!impl_->Authenticate(credentials)) {
    Reply r = Error(StatusCode::kUnauthenticated, "invalid_client", "client authentication failed");
    r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"" + options_.realm + "\"");
    return r;
  }
  if (token.empty())
    return Error(StatusCode::kInvalidArgument, "invalid_request", "token is required");
  if (token.size() > kMaxTokenBytes) return Answer(json::object());
  const Hash256 h = TokenHash(token);
  const std::optional<TokenRow> row = impl_->tokens_->Find(h);
  // RFC 7009 §2.2: an unknown (or already invalid) token is answered 200 like a revoked one.
  if (!row) return Answer(json::object());
  const std::string kind = row->kind, owner_client = row->client_id, subject = row->subject;
  // RFC 7009 §2.1: only the client the token was issued to may revoke it.
  if (owner_client != credentials.client_id || (kind != "rpt" && kind != "pct" && kind != "pat")) {
    return Error(StatusCode::kInvalidArgument, "unauthorized_client",
                 "the token was not issued to this client");
  }
  Status st = impl_->Tx([&]() -> Status {
    MDL_RETURN_IF_ERROR(impl_->RevokeTokenHash(h));
    return impl_->Log({{"event", "token.revoke"},
                       {"kind", kind},
                       {"client_id", owner_client},
                       {"requesting_party", subject},
                       {"token_hash", HexEncode(h)}});
  });
  if (!st.ok()) return Internal(st);
  return Answer(json::object());
}

Result<Access> AuthorizationServer::Authorize(std::string_view pat, std::string_view bearer,
                                              const std::string& resource_id,
                                              const std::string& scope, Reply* refusal) {
  std::string rs;
  {
    ReadView view(*impl_);
    const int64_t now = impl_->Now();
    auto pat_row = view.tokens().Live(pat, "pat", now);
    if (!pat_row) return Status::Unauthenticated("the resource server's PAT is not valid");
    rs = pat_row->client_id;
    if (!bearer.empty()) {
      if (auto session = view.tokens().Live(bearer, "session", now)) {
        return Access{options_.owner_did, "owner", HexEncode(TokenHash(bearer)), true};
      }
      if (auto row = view.tokens().Live(bearer, "rpt", now)) {
        for (const GrantedPermission& g : PermissionsFromJson(row->data.at("permissions"))) {
          if (g.resource_id == resource_id && Contains(g.scopes, scope)) {
            return Access{row->subject, row->client_id, HexEncode(TokenHash(bearer)), false};
          }
        }
      }
    }
  }
  Impl::Lock lock(*impl_);
  // UMA Grant §3.2: no token, or one without this permission → a permission ticket.
  Reply ticket =
      RequestPermissionLocked(rs, {{"resource_id", resource_id}, {"resource_scopes", {scope}}});
  if (!ticket.ok()) {
    *refusal = Error(StatusCode::kPermissionDenied, "insufficient_scope",
                     "no permission ticket can be issued for this resource");
    return Status::PermissionDenied("no ticket");
  }
  Reply r = Error(StatusCode::kUnauthenticated, "unauthorized",
                  "an RPT with the permission is required; ask the authorization server",
                  {{"ticket", ticket.body["ticket"]}, {"as_uri", options_.issuer}});
  // UMA Grant §3.2 (example): WWW-Authenticate: UMA realm, as_uri, ticket.
  r.headers.emplace_back("WWW-Authenticate", "UMA realm=\"" + options_.realm + "\", as_uri=\"" +
                                                 options_.issuer + "\", ticket=\"" +
                                                 ticket.body["ticket"].get<std::string>() + "\"");
  *refusal = std::move(r);
  return Status::PermissionDenied("no permission");
}

Status AuthorizationServer::RecordRelease(const Access& access, const std::string& resource_id,
                                          const std::string& scope,
                                          const std::vector<std::string>& what) {
  Impl::Lock lock(*impl_);
  MDL_RETURN_IF_ERROR(impl_->Tx([&]() {
    return impl_->Log({{"event", "release"},
                       {"requesting_party", access.requesting_party},
                       {"client_id", access.client_id},
                       {"owner", access.owner},
                       {"resource_id", resource_id},
                       {"scope", scope},
                       {"records", what},
                       {"rpt_hash", access.token_hash}});
  }));
  return MaybeAnchorLocked(false);
}

// --- the owner ---

Reply AuthorizationServer::OwnerChallenge() {
  Impl::Lock lock(*impl_);
  const std::string nonce = impl_->NewToken();
  const int64_t expires = impl_->Now() + options_.challenge_ttl;
  Status st = impl_->Tx([&]() -> Status {
    return impl_->tokens_->PutChallenge(nonce, expires, impl_->Now(), kMaxOpenChallenges);
  });
  if (st.code() == StatusCode::kResourceExhausted)
    return Error(StatusCode::kUnavailable, "temporarily_unavailable", st.message());
  if (!st.ok()) return Internal(st);
  return Answer({{"nonce", nonce},
                 {"audience", options_.issuer},
                 {"expires", expires},
                 {"did", options_.owner_did}});
}

namespace {

// The claims of a did-auth+jwt addressed to `audience`, with iat/exp required and bounded.
Result<json> VerifyDidAuth(std::string_view token, const AuthorizationServerOptions& o, int64_t now,
                           const std::string& nonce, claims::VerifiedJwt* info) {
  if (token.empty() || token.size() > kMaxClaimTokenBytes)
    return Status::InvalidArgument("jwt_malformed: missing or too large");
  claims::JwtCheckOptions co;
  co.now = now;
  co.max_clock_skew = o.max_clock_skew;
  co.expected_audience = o.issuer;
  co.expected_nonce = nonce;
  MDL_ASSIGN_OR_RETURN(json payload,
                       claims::VerifyJwt(claims::JwtKind::kDidAuth, token, *o.resolver, co, info));
  if (!info->issued_at || !info->expires ||
      *info->expires - *info->issued_at > o.max_claim_token_age ||
      now - *info->issued_at > o.max_claim_token_age) {
    return Status::FailedPrecondition("claim_token_too_old: iat and exp are required, at most " +
                                      std::to_string(o.max_claim_token_age) + " s apart");
  }
  return payload;
}

}  // namespace

Reply AuthorizationServer::OwnerSignIn(std::string_view did_auth_jwt) {
  claims::VerifiedJwt info;
  auto payload = VerifyDidAuth(did_auth_jwt, options_, impl_->Now(), "", &info);
  Impl::Lock lock(*impl_);
  if (!payload)
    return Error(StatusCode::kUnauthenticated, "invalid_grant",
                 "the sign-in token was refused: " + payload.error().message());
  if (info.controller != options_.owner_did) {
    (void)impl_->Tx([&]() {
      return impl_->Log(
          {{"event", "owner.signin"}, {"did", info.controller}, {"outcome", "refused"}});
    });
    return Error(StatusCode::kPermissionDenied, "access_denied",
                 "only the container's owner signs in here");
  }
  const std::string nonce = StringOr(*payload, "nonce");
  const std::string session = impl_->NewToken();
  Reply reply;
  Status st = impl_->OpenChallengedSession(nonce, session, "session", "owner", options_.owner_did,
                                           options_.session_ttl,
                                           {{"event", "owner.signin"},
                                            {"did", info.controller},
                                            {"outcome", "session"},
                                            {"session_hash", HexEncode(TokenHash(session))}},
                                           &reply);
  if (!st.ok()) return Internal(st);
  return reply;
}

Result<std::string> AuthorizationServer::OpenOwnerSession(std::string_view method,
                                                          int64_t ttl_seconds) {
  if (ttl_seconds <= 0 || ttl_seconds > options_.session_ttl) ttl_seconds = options_.session_ttl;
  const std::string session = impl_->NewToken();
  Impl::Lock lock(*impl_);
  Status st = impl_->Tx([&]() -> Status {
    MDL_RETURN_IF_ERROR(impl_->InsertToken(session, "session", "owner", options_.owner_did,
                                           json::object(), ttl_seconds));
    return impl_->Log({{"event", "owner.signin"},
                       {"did", options_.owner_did},
                       {"outcome", "session"},
                       {"method", std::string(method)},
                       {"session_hash", HexEncode(TokenHash(session))}});
  });
  if (!st.ok()) return st;
  return session;
}

Status AuthorizationServer::EndOwnerSession(std::string_view session) {
  Impl::Lock lock(*impl_);
  if (!impl_->LiveToken(session, "session")) return Status::Ok();
  return impl_->Tx([&]() -> Status {
    MDL_RETURN_IF_ERROR(impl_->RevokeTokenHash(TokenHash(session)));
    return impl_->Log(
        {{"event", "owner.signout"}, {"session_hash", HexEncode(TokenHash(session))}});
  });
}

Status AuthorizationServer::EndOwnerSessions() {
  Impl::Lock lock(*impl_);
  return impl_->Tx([&]() -> Status {
    MDL_ASSIGN_OR_RETURN(size_t ended, impl_->tokens_->RevokeKind("session", impl_->Now()));
    return impl_->Log({{"event", "owner.signout"}, {"everywhere", true}, {"sessions", ended}});
  });
}

Status AuthorizationServer::CheckOwner(std::string_view session) {
  // Callers hold no lock (the HTTP handlers, the web app's cookie bridge): a WAL reader of its
  // own, as every hot read. Reading the shared connection's prepared statement unlocked let two
  // concurrent checks interleave their bind/step/reset — a live session judged dead (the web
  // app then opened a new owner session on a refused request), or one token's row answering
  // for another's. Code that holds the lock uses impl_->LiveToken itself.
  ReadView view(*impl_);
  if (!view.tokens().Live(session, "session", impl_->Now()))
    return Status::Unauthenticated("the owner's session is required");
  return Status::Ok();
}

#define MDL_OWNER_ONLY(session)                                                       \
  Impl::Lock lock(*impl_);                                       \
  if (!impl_->LiveToken(session, "session")) {                                        \
    return InvalidToken(options_.realm, "the owner's session is required (sign in)"); \
  }

namespace {

json AnchorJson(const LogAnchor& a) {
  return {{"seq", a.seq}, {"hash", a.hash}, {"ledger_index", a.ledger_index}, {"ts", a.ts}};
}

std::string ScopeHash(const Policy& p) {
  json scope = {
      {"resource_ids", p.resource_ids}, {"resource_types", p.resource_types}, {"scopes", p.scopes}};
  return HexHash(*jcs::Canonicalize(scope));
}

// A pseudonymous Ed25519 signer for one ledger record: its seed is HMAC(pseudonym secret,
// label), so the owner (who holds the secret, derived from her seed) can re-derive it and prove
// the key hers, while the key itself names nobody and links nothing across records.
Result<wallet::SigningKey> PseudonymousKey(const SecretBytes& secret, const std::string& label) {
  Hash256 seed = HmacSha256(secret.Reveal(), AsBytes("medallion ledger signer\n" + label));
  ScopedWipe wipe(seed);
  return wallet::MakeSigningKey(wallet::SignatureAlg::kEdDSA, ByteView(seed.data(), seed.size()));
}

Result<json> SignPseudonymously(json entry, const char* key_field, const SecretBytes& secret,
                                const std::string& label) {
  MDL_ASSIGN_OR_RETURN(wallet::SigningKey key, PseudonymousKey(secret, label));
  entry[key_field] = Base64UrlEncode(key.public_key);
  entry.erase("sig");
  MDL_ASSIGN_OR_RETURN(std::string canonical, jcs::Canonicalize(entry));
  MDL_ASSIGN_OR_RETURN(Bytes sig, wallet::Sign(key, AsBytes(canonical)));
  entry["sig"] = Base64UrlEncode(sig);
  return entry;
}

}  // namespace

std::string ConsentSignerLabel(std::string_view grant_receipt_hash) {
  return "consent " + std::string(grant_receipt_hash);
}
std::string SignerBindingMessage(std::string_view signer, std::string_view receipt_hash) {
  return "medallion ledger signer binding\nsigner " + std::string(signer) + "\nreceipt " +
         std::string(receipt_hash) + "\n";
}
std::string DisclosureAnchorLabel(int64_t seq) {
  return "disclosure anchor " + std::to_string(seq);
}

Result<std::string> PseudonymousPublicKey(const SecretBytes& secret, const std::string& label) {
  MDL_ASSIGN_OR_RETURN(wallet::SigningKey key, PseudonymousKey(secret, label));
  return Base64UrlEncode(key.public_key);
}

// Consent receipts (docs/uma.md §"Receipts"): the receipt document is kept here; its hash goes
// to the ledger in a signed `consent` entry per purpose of use.
// The entries are signed by a per-receipt pseudonymous key (the grant's receipt hash labels it, so
// a revocation is signed by the same key as its grant); the owner's DID appears only in the
// receipt document she keeps.
Result<json> AuthorizationServer::AnchorConsent(const Policy& p, const std::string& action,
                                                const std::string& receipt_hash) {
  json indexes = json::array();
  if (options_.ledger == nullptr || p.effect != Policy::Effect::kPermit) return indexes;
  MDL_ASSIGN_OR_RETURN(std::string subjects, jcs::Canonicalize(PolicyToJson(p)["subjects"]));
  const Hash256 mac = HmacSha256(options_.pseudonym_secret->Reveal(),
                                 AsBytes("medallion consent subject\n" + subjects));
  const std::string pseudonym = Base64UrlEncode(ByteView(mac.data(), 16));
  const int64_t now = impl_->Now();
  for (const std::string& purpose : p.purposes) {
    json entry = {
        {"type", "consent"},  {"v", 1},           {"receipt", receipt_hash}, {"subject", pseudonym},
        {"purpose", purpose}, {"action", action}, {"scope", ScopeHash(p)},   {"ts", now}};
    if (action == "grant" && p.not_after > now) entry["expires"] = p.not_after;
    MDL_ASSIGN_OR_RETURN(
        entry, SignPseudonymously(std::move(entry), "controller", *options_.pseudonym_secret,
                                  ConsentSignerLabel(receipt_hash)));
    MDL_ASSIGN_OR_RETURN(ledger::AppendResult appended, options_.ledger->Append(entry));
    indexes.push_back(appended.index);
  }
  return indexes;
}

Reply AuthorizationServer::AddPolicy(std::string_view session, const json& body) {
  MDL_OWNER_ONLY(session);
  auto policy = PolicyFromJson(body);
  if (!policy)
    return Error(StatusCode::kInvalidArgument, "invalid_request", policy.error().message());
  policy->id = impl_->NewId();
  const json stored = PolicyToJson(*policy);
  const int64_t now = impl_->Now();
  json receipt = {{"type", "ConsentReceipt"},
                  {"v", 1},
                  {"action", "grant"},
                  {"controller", options_.owner_did},
                  {"container", options_.issuer},
                  {"policy", stored},
                  {"issued", now}};
  const std::string receipt_hash = HexHash(*jcs::Canonicalize(receipt));
  // The ledger first: if it refuses, nothing is stored and the owner is told.
  auto indexes = AnchorConsent(*policy, "grant", receipt_hash);
  if (!indexes)
    return Error(StatusCode::kUnavailable, "temporarily_unavailable",
                 "the consent receipt could not be anchored: " + indexes.error().message());
  Status st = impl_->Tx([&]() -> Status {
    MDL_RETURN_IF_ERROR(impl_->policies_->Add(*policy, stored, now));
    MDL_RETURN_IF_ERROR(
        impl_->policies_->AddReceipt({policy->id, "grant", receipt, receipt_hash, *indexes, now}));
    return impl_->Log({{"event", "policy.add"},
                       {"policy", stored},
                       {"receipt", receipt_hash},
                       {"ledger", *indexes}});
  });
  if (!st.ok()) return Internal(st);
  json out = stored;
  out["receipt"] = {{"hash", receipt_hash}, {"ledger_indexes", *indexes}};
  return Created(std::move(out));
}

Reply AuthorizationServer::ListPolicies(std::string_view session) {
  MDL_OWNER_ONLY(session);
  json out = json::array();
  for (const Policy& p : impl_->ActivePolicies()) out.push_back(PolicyToJson(p));
  return Answer(std::move(out));
}

Reply AuthorizationServer::GetPolicy(std::string_view session, std::string_view id) {
  MDL_OWNER_ONLY(session);
  for (const Policy& p : impl_->ActivePolicies()) {
    if (p.id == id) return Answer(PolicyToJson(p));
  }
  return Error(StatusCode::kNotFound, "not_found", "no such policy");
}

Reply AuthorizationServer::DeletePolicy(std::string_view session, std::string_view id) {
  MDL_OWNER_ONLY(session);
  std::optional<Policy> policy;
  for (Policy& p : impl_->ActivePolicies()) {
    if (p.id == id) policy = std::move(p);
  }
  if (!policy) return Error(StatusCode::kNotFound, "not_found", "no such policy");
  const std::string grant_hash = impl_->policies_->GrantReceiptHash(id);
  const int64_t now = impl_->Now();
  json receipt = {{"type", "ConsentReceipt"},     {"v", 1},
                  {"action", "revoke"},           {"controller", options_.owner_did},
                  {"container", options_.issuer}, {"policy_id", std::string(id)},
                  {"grant", grant_hash},          {"issued", now}};
  const std::string receipt_hash = HexHash(*jcs::Canonicalize(receipt));
  // The ledger's revoke names the grant's receipt (docs/ledger.md: a revoke matches a grant).
  auto indexes = AnchorConsent(*policy, "revoke", grant_hash);
  if (!indexes)
    return Error(StatusCode::kUnavailable, "temporarily_unavailable",
                 "the revocation could not be anchored: " + indexes.error().message());
  size_t revoked_tokens = 0;
  Status st = impl_->Tx([&]() -> Status {
    MDL_RETURN_IF_ERROR(impl_->policies_->Revoke(id, now));
    MDL_RETURN_IF_ERROR(impl_->policies_->AddReceipt(
        {std::string(id), "revoke", receipt, receipt_hash, *indexes, now}));
    // Every live RPT that any of this policy's grants went into stops working now.
    auto granted_by_policy = [&](const json& data) {
      for (const GrantedPermission& g : PermissionsFromJson(MemberOr(data, "permissions"))) {
        if (Contains(g.policy_ids, id)) return true;
      }
      return false;
    };
    MDL_ASSIGN_OR_RETURN(revoked_tokens, impl_->tokens_->RevokeRpts(now, granted_by_policy));
    return impl_->Log({{"event", "policy.revoke"},
                       {"policy_id", std::string(id)},
                       {"receipt", receipt_hash},
                       {"ledger", *indexes},
                       {"tokens_revoked", revoked_tokens}});
  });
  if (!st.ok()) return Internal(st);
  return Answer({{"id", std::string(id)},
                 {"revoked", true},
                 {"tokens_revoked", revoked_tokens},
                 {"receipt", {{"hash", receipt_hash}, {"ledger_indexes", *indexes}}}});
}

Reply AuthorizationServer::ListRequests(std::string_view session, std::string_view status_filter) {
  MDL_OWNER_ONLY(session);
  if (!status_filter.empty() && status_filter != "pending" && status_filter != "approved" &&
      status_filter != "denied") {
    return Error(StatusCode::kInvalidArgument, "invalid_request",
                 "status is pending, approved or denied");
  }
  json out = json::array();
  auto rows = impl_->requests_->List(/*pending_only=*/false);
  if (!rows) return Internal(rows.error());
  for (RequestRow& row : *rows) {
    if (!status_filter.empty() && row.status != status_filter) continue;
    json& data = row.data;
    json approvals = json::object();
    for (auto& [who, a] : data["approvals"].items())
      approvals[who] = {{"decision", a["decision"]}, {"at", a["at"]}};
    out.push_back({{"id", row.id},
                   {"hash", row.hash},
                   {"status", row.status},
                   {"summary", data["summary"]},
                   {"approvals", approvals},
                   {"created", row.created}});
  }
  return Answer(std::move(out));
}

Reply AuthorizationServer::DecideAsOwner(std::string_view session, std::string_view request_id,
                                         std::string_view decision) {
  MDL_OWNER_ONLY(session);
  if (decision != "approve" && decision != "deny")
    return Error(StatusCode::kInvalidArgument, "invalid_request", "decision is approve or deny");
  Reply reply;
  Status st = impl_->Tx([&]() -> Status {
    reply = impl_->RecordDecision(
        std::string(request_id), {kOwnerApprover}, std::string(decision),
        {{"method", "owner_session"}, {"session_hash", HexEncode(TokenHash(session))}});
    return Status::Ok();
  });
  if (!st.ok()) return Internal(st);
  (void)MaybeAnchorLocked(false);
  return reply;
}

Reply AuthorizationServer::DecideSigned(std::string_view request_id,
                                        std::string_view decision_token) {
  Impl::Lock lock(*impl_);
  std::string hash;
  {
    auto row = impl_->requests_->Get(request_id);
    if (!row) return Error(StatusCode::kNotFound, "not_found", "no such request");
    hash = row->hash;
  }
  claims::VerifiedJwt info;
  // The decision is bound to this request's content by its hash (the nonce).
  auto payload = VerifyDidAuth(decision_token, options_, impl_->Now(), hash, &info);
  if (!payload)
    return Error(StatusCode::kUnauthenticated, "invalid_token",
                 "the signed decision was refused: " + payload.error().message());
  const std::string decision = StringOr(*payload, "decision");
  if (StringOr(*payload, "request") != request_id ||
      (decision != "approve" && decision != "deny")) {
    return Error(StatusCode::kInvalidArgument, "invalid_request",
                 "the token names another request or no decision");
  }
  Reply reply;
  Status st = impl_->Tx([&]() -> Status {
    reply = impl_->RecordDecision(
        std::string(request_id), impl_->ApproverNames(info.controller), decision,
        {{"method", "signed"}, {"kid", info.kid}, {"token", std::string(decision_token)}});
    return Status::Ok();
  });
  if (!st.ok()) return Internal(st);
  (void)MaybeAnchorLocked(false);
  return reply;
}

Reply AuthorizationServer::ReadDisclosures(std::string_view session, uint64_t after_seq,
                                           size_t limit) {
  MDL_OWNER_ONLY(session);
  limit = std::clamp<size_t>(limit, 1, 1000);
  auto read = impl_->log_->Read(static_cast<int64_t>(after_seq), limit);
  if (!read) return Internal(read.error());
  json entries = json::array();
  for (LogEntry& e : *read) {
    e.entry["hash"] = e.hash;
    entries.push_back(std::move(e.entry));
  }
  const LogEntry h = impl_->log_->Head();
  return Answer({{"entries", entries}, {"head", {{"seq", h.seq}, {"hash", h.hash}}}});
}

Reply AuthorizationServer::ExportDisclosures(std::string_view session) {
  MDL_OWNER_ONLY(session);
  auto read = impl_->log_->Read(0, std::nullopt);
  if (!read) return Internal(read.error());
  json entries = json::array();
  for (LogEntry& e : *read) entries.push_back({{"entry", std::move(e.entry)}, {"hash", e.hash}});
  json anchors = json::array();
  for (const LogAnchor& a : impl_->log_->Anchors()) {
    json anchor = AnchorJson(a);
    // As for consent receipts: the anchor's pseudonymous key and the owner's signature binding
    // it to this chain head, so that she can prove the ledger's anchor hers without the ledger
    // naming her (docs/uma.md §"Accounting of disclosures").
    if (options_.pseudonym_secret != nullptr && options_.owner_signer.sign) {
      auto signer = PseudonymousPublicKey(*options_.pseudonym_secret, DisclosureAnchorLabel(a.seq));
      if (!signer) return Internal(signer.error());
      const std::string message = SignerBindingMessage(*signer, a.hash);
      auto proof = options_.owner_signer.sign(AsBytes(message));
      if (!proof) return Internal(proof.error());
      anchor["signer"] = *signer;
      anchor["signer_proof"] = {{"verification_method", options_.owner_signer.verification_method},
                                {"message", message},
                                {"signature", Base64UrlEncode(*proof)}};
    }
    anchors.push_back(std::move(anchor));
  }
  return Answer({{"format", "medallion-disclosure-log/1"},
                 {"owner", options_.owner_did},
                 {"container", options_.issuer},
                 {"entries", entries},
                 {"anchors", anchors}});
}

Reply AuthorizationServer::AnchorDisclosures(std::string_view session) {
  MDL_OWNER_ONLY(session);
  if (options_.ledger == nullptr)
    return Error(StatusCode::kFailedPrecondition, "no_ledger",
                 "this container has no ledger configured");
  Status st = MaybeAnchorLocked(true);
  if (!st.ok()) return Error(StatusCode::kUnavailable, "temporarily_unavailable", st.message());
  const std::optional<LogAnchor> last = impl_->log_->LastAnchor();
  if (!last) return Answer({{"anchored", false}});
  return Answer(AnchorJson(*last));
}

Reply AuthorizationServer::ListReceipts(std::string_view session) {
  MDL_OWNER_ONLY(session);
  json out = json::array();
  auto receipts = impl_->policies_->Receipts();
  if (!receipts) return Internal(receipts.error());
  for (const ReceiptRow& r : *receipts) {
    json item = {{"policy_id", r.policy_id}, {"action", r.action},         {"receipt", r.receipt},
                 {"hash", r.hash},           {"ledger_indexes", r.ledger}, {"created", r.created}};
    // The pseudonymous key that signed the ledger entries, and the owner's signature binding it
    // to her DID: what she shows to prove the entries hers (docs/uma.md §Receipts).
    if (options_.pseudonym_secret != nullptr && options_.owner_signer.sign) {
      const std::string grant = r.action == "revoke" ? StringOr(r.receipt, "grant") : r.hash;
      auto signer = PseudonymousPublicKey(*options_.pseudonym_secret, ConsentSignerLabel(grant));
      if (!signer) return Internal(signer.error());
      auto proof = options_.owner_signer.sign(AsBytes(SignerBindingMessage(*signer, grant)));
      if (!proof) return Internal(proof.error());
      item["signer"] = *signer;
      item["signer_proof"] = {{"verification_method", options_.owner_signer.verification_method},
                              {"message", SignerBindingMessage(*signer, grant)},
                              {"signature", Base64UrlEncode(*proof)}};
    }
    out.push_back(std::move(item));
  }
  return Answer(std::move(out));
}

#undef MDL_OWNER_ONLY

Status AuthorizationServer::MaybeAnchor(bool force) {
  Impl::Lock lock(*impl_);
  return MaybeAnchorLocked(force);
}

// REQUIRES: impl_->mu_ held.
Status AuthorizationServer::MaybeAnchorLocked(bool force) {
  if (options_.ledger == nullptr) return Status::Ok();
  const std::optional<LogAnchor> last_anchor = impl_->log_->LastAnchor();
  const int64_t last = last_anchor ? last_anchor->seq : 0;
  const LogEntry head = impl_->log_->Head();
  if (head.seq == 0) return Status::Ok();
  const int64_t seq = head.seq;
  const std::string hash = head.hash;
  const int64_t pending = seq - last;
  if (pending <= 0 || (!force && static_cast<size_t>(pending) < options_.log_batch))
    return Status::Ok();
  // The chain head commits to every entry before it: one anchor covers the batch.
  // Signed by a pseudonymous key of this anchor alone (docs/uma.md §"Accounting of disclosures").
  json entry = {
      {"type", "anchor"}, {"v", 1}, {"hash", hash}, {"kind", "batch"}, {"ts", impl_->Now()}};
  MDL_ASSIGN_OR_RETURN(entry,
                       SignPseudonymously(std::move(entry), "key", *options_.pseudonym_secret,
                                          DisclosureAnchorLabel(seq)));
  MDL_ASSIGN_OR_RETURN(ledger::AppendResult appended, options_.ledger->Append(entry));
  return impl_->Tx([&]() {
    return impl_->log_->AddAnchor({seq, hash, static_cast<int64_t>(appended.index), impl_->Now()});
  });
}

Result<uint64_t> VerifyDisclosureExport(const json& exported) {
  if (!exported.is_object() || StringOr(exported, "format") != "medallion-disclosure-log/1" ||
      !exported.contains("entries") || !exported["entries"].is_array()) {
    return Status::InvalidArgument("not a medallion-disclosure-log/1 export");
  }
  std::string prev(64, '0');
  std::map<uint64_t, std::string> heads;
  uint64_t n = 0;
  for (const json& item : exported["entries"]) {
    ++n;
    if (!item.is_object() || !item.contains("entry") || !item["entry"].is_object() ||
        !item.contains("hash") || !item["hash"].is_string()) {
      return Status::DataLoss("entry " + std::to_string(n) + ": malformed");
    }
    const json& e = item["entry"];
    const auto seq = e.find("seq");
    if (seq == e.end() || !seq->is_number_integer() || seq->get<int64_t>() < 0 ||
        seq->get<uint64_t>() != n) {
      return Status::DataLoss("entry " + std::to_string(n) + ": sequence gap");
    }
    if (StringOr(e, "prev") != prev)
      return Status::DataLoss("entry " + std::to_string(n) + ": does not chain to its predecessor");
    auto canonical = jcs::Canonicalize(e);
    if (!canonical || HexHash(*canonical) != item["hash"]) {
      return Status::DataLoss("entry " + std::to_string(n) + ": hash mismatch (edited)");
    }
    prev = item["hash"];
    heads[n] = prev;
  }
  const auto anchors = exported.find("anchors");
  if (anchors != exported.end() && !anchors->is_array())
    return Status::DataLoss("anchors: not a list");
  for (const json& a : anchors != exported.end() ? *anchors : json::array()) {
    const auto at = a.is_object() ? a.find("seq") : a.end();
    const uint64_t seq = at != a.end() && at->is_number_integer() && at->get<int64_t>() >= 0
                             ? at->get<uint64_t>()
                             : 0;
    auto it = heads.find(seq);
    if (it == heads.end() || it->second != StringOr(a, "hash")) {
      return Status::DataLoss("anchor at " + std::to_string(seq) + ": not the chain head there");
    }
  }
  return n;
}

}  // namespace medallion::uma
