// The sign-in side every role's web app shares (docs/web.md).
#include "web_gate.h"

#include <tuple>

#include "medallion/core/encoding.h"
#include "medallion/core/json.h"
#include "medallion/http/http.h"

namespace medallion::roles {

using nlohmann::json;

namespace {

constexpr size_t kMaxWebAuthnMember = 16 * 1024;

bool IsUnsafe(const std::string& method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

// A member of a WebAuthn JSON object as bytes (base64url, RFC 4648 §5, unpadded).
Result<Bytes> B64Member(const json& obj, const char* name, bool optional = false) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) {
    if (optional) return Bytes{};
    return Status::WithReason(StatusCode::kInvalidArgument, webauthn::kMalformed,
                              std::string("'") + name + "' is required");
  }
  if (!it->is_string() || it->get_ref<const std::string&>().size() > kMaxWebAuthnMember) {
    return Status::WithReason(StatusCode::kInvalidArgument, webauthn::kMalformed,
                              std::string("'") + name + "' must be a base64url string");
  }
  auto bytes = Base64UrlDecode(it->get<std::string>());
  if (!bytes) {
    return Status::WithReason(StatusCode::kInvalidArgument, webauthn::kMalformed,
                              std::string("'") + name + "' is not base64url");
  }
  return *bytes;
}

// The credential object of a body: {"credential": {"id", "rawId", "type": "public-key",
// "response": {...}}}; the response object.
Result<const json*> CredentialResponse(const json& body, Bytes* raw_id) {
  auto c = body.find("credential");
  if (c == body.end() || !c->is_object()) {
    return Status::WithReason(StatusCode::kInvalidArgument, webauthn::kMalformed,
                              "'credential' must be an object");
  }
  if (StringOr(*c, "type") != "public-key") {
    return Status::WithReason(StatusCode::kInvalidArgument, webauthn::kMalformed,
                              "credential.type must be \"public-key\"");
  }
  MDL_ASSIGN_OR_RETURN(*raw_id, B64Member(*c, "rawId"));
  auto r = c->find("response");
  if (r == c->end() || !r->is_object()) {
    return Status::WithReason(StatusCode::kInvalidArgument, webauthn::kMalformed,
                              "credential.response must be an object");
  }
  return &*r;
}

// The challenge a clientDataJSON names (so the server can find and consume it).
Result<Bytes> ChallengeOf(ByteView client_data_json) {
  auto cd = ParseJsonObject(ToString(client_data_json), "clientDataJSON",
                            {.max_bytes = kMaxWebAuthnMember, .max_depth = 8});
  if (!cd)
    return Status::WithReason(StatusCode::kInvalidArgument, webauthn::kMalformed,
                              cd.error().message());
  return B64Member(*cd, "challenge");
}

}  // namespace

std::string CookieValue(const httplib::Request& req, std::string_view name) {
  auto range = req.headers.equal_range("Cookie");
  for (auto it = range.first; it != range.second; ++it) {
    std::string_view rest = it->second;
    while (!rest.empty()) {
      size_t end = rest.find(';');
      std::string_view part = rest.substr(0, end);
      while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
      const size_t eq = part.find('=');
      if (eq != std::string_view::npos && part.substr(0, eq) == name)
        return std::string(part.substr(eq + 1));
      if (end == std::string_view::npos) break;
      rest.remove_prefix(end + 1);
    }
  }
  return "";
}

std::string ClientAddress(const httplib::Request& req) {
  return req.remote_addr.empty() ? "?" : req.remote_addr;
}

json PasskeyJson(const web::Passkey& p) {
  return {{"id", p.id},
          {"name", p.name},
          {"alg", p.alg == webauthn::kCoseEdDsa   ? "EdDSA"
                  : p.alg == webauthn::kCoseEs256 ? "ES256"
                                                  : "?"},
          {"created_at", p.created_at},
          {"last_used_at", p.last_used_at},
          {"backed_up", p.backed_up}};
}

std::string WebOriginFor(const std::string& url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return url;
  const std::string scheme = url.substr(0, scheme_end);
  std::string rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find('/'));
  std::string host = rest, port;
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    host = rest.substr(0, close + 1);
    if (close + 1 < rest.size() && rest[close + 1] == ':') port = rest.substr(close + 2);
  } else if (const size_t colon = rest.rfind(':'); colon != std::string::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  if (host == "127.0.0.1" || host == "[::1]" || host == "0.0.0.0" || host == "[::]")
    host = "localhost";
  return scheme + "://" + host + (port.empty() ? "" : ":" + port);
}

Result<std::unique_ptr<WebGate>> WebGate::Make(web::BrowserStore& store, WebGateOptions options,
                                               Env env) {
  if (!options.user_for) Panic("WebGate::Make: user_for is required");
  std::unique_ptr<WebGate> g(new WebGate(store, std::move(options), env));
  const std::string& origin = g->options_.origin;
  const size_t host_start = origin.find("://");
  if (host_start == std::string::npos)
    return Status::InvalidArgument("the web origin must be scheme://host[:port]");
  std::string host = origin.substr(host_start + 3);
  if (!host.empty() && host.front() == '[')
    return Status::InvalidArgument("a WebAuthn relying party needs a host name, not an IP address");
  host = host.substr(0, host.find(':'));
  g->rp_.rp_id = host;
  g->rp_.origins = {origin};
  // Browsers keep cookies per host, not per port: the port is in the name, so that apps on one
  // host name (medallion up: localhost:A, localhost:B) do not replace each other's.
  const size_t colon = origin.rfind(':');
  const std::string port =
      colon > host_start + 2 ? origin.substr(colon + 1) : (g->options_.tls ? "443" : "80");
  g->cookie_name_ = g->options_.cookie_prefix + port;
  return g;
}

std::string WebGate::CookieHeader(const std::string& value, int64_t max_age) const {
  const std::string path = options_.base_path.empty() ? "/" : options_.base_path + "/";
  std::string c = cookie_name_ + "=" + value + "; Path=" + path +
                  "; Max-Age=" + std::to_string(max_age) + "; HttpOnly; SameSite=Strict";
  if (options_.tls) c += "; Secure";
  return c;
}

bool WebGate::SameOrigin(const httplib::Request& req) const {
  const std::string origin = req.get_header_value("Origin");
  if (!origin.empty()) return origin == options_.origin;
  return req.get_header_value("Sec-Fetch-Site") == "same-origin";
}

bool WebGate::RequireSameOrigin(const httplib::Request& req, httplib::Response& res) const {
  if (SameOrigin(req)) return true;
  http::SendError(res,
                  Status::WithReason(StatusCode::kPermissionDenied, web::kCsrfInvalid,
                                     "sign-in requests must come from this app's own origin"));
  return false;
}

std::optional<web::SessionInfo> WebGate::Session(const httplib::Request& req,
                                                 httplib::Response& res) {
  const std::string id = SessionId(req);
  if (id.empty()) {
    http::SendError(res, Status::WithReason(StatusCode::kUnauthenticated, web::kSessionUnknown,
                                            "sign in first"));
    return std::nullopt;
  }
  if (IsUnsafe(req.method)) {
    if (!SameOrigin(req)) {
      http::SendError(res, Status::WithReason(
                               StatusCode::kPermissionDenied, web::kCsrfInvalid,
                               "a state-changing request must come from this app's own origin"));
      return std::nullopt;
    }
    Status csrf = store_.CheckCsrf(id, req.get_header_value("X-CSRF-Token"));
    if (!csrf.ok()) {
      http::SendError(res, csrf);
      return std::nullopt;
    }
  } else if (const std::string origin = req.get_header_value("Origin");
             !origin.empty() && origin != options_.origin) {
    http::SendError(res, Status::WithReason(StatusCode::kPermissionDenied, web::kCsrfInvalid,
                                            "another origin may not use this session"));
    return std::nullopt;
  }
  auto info = store_.Touch(id);
  if (!info) {
    res.set_header("Set-Cookie", CookieHeader("", 0));
    http::SendError(res, info.error());
    return std::nullopt;
  }
  return *info;
}

std::optional<web::SessionInfo> WebGate::StaffSession(
    const httplib::Request& req, httplib::Response& res,
    std::initializer_list<std::string_view> roles) {
  auto info = Session(req, res);
  if (!info) return std::nullopt;
  auto account = store_.GetAccount(info->account);
  if (!account) {
    http::SendError(res, Status::WithReason(StatusCode::kUnauthenticated, web::kSessionUnknown,
                                            "this session belongs to no staff account"));
    return std::nullopt;
  }
  for (std::string_view role : roles) {
    if (account->role == role) return info;
  }
  std::string wanted;
  for (std::string_view role : roles) wanted += (wanted.empty() ? "" : " or ") + std::string(role);
  http::SendError(res, Status::WithReason(StatusCode::kPermissionDenied, "insufficient_role",
                                          "this needs the role " + wanted + "; you are " +
                                              account->role));
  return std::nullopt;
}

void WebGate::SignIn(httplib::Response& res, const std::string& method, const std::string& account,
                     int status, json extra) {
  auto s = store_.CreateSession(method, account);
  if (!s) return http::SendError(res, s.error());
  res.set_header("Set-Cookie", CookieHeader(s->id, store_.options().absolute_timeout_s));
  extra["signed_in"] = true;
  extra["csrf"] = s->csrf_token;
  http::SendJson(res, extra, status);
}

json WebGate::CreationOptions(const Bytes& challenge, const WebUser& user,
                              const std::string& account) {
  json exclude = json::array();
  if (auto list = store_.ListPasskeys(account)) {
    for (const web::Passkey& p : *list) exclude.push_back({{"type", "public-key"}, {"id", p.id}});
  }
  return {{"challenge", Base64UrlEncode(challenge)},
          {"rp", {{"id", rp_.rp_id}, {"name", "Medallion"}}},
          {"user",
           {{"id", Base64UrlEncode(user.handle)},
            {"name", user.name},
            {"displayName", user.display_name}}},
          {"pubKeyCredParams",
           {{{"type", "public-key"}, {"alg", webauthn::kCoseEdDsa}},
            {{"type", "public-key"}, {"alg", webauthn::kCoseEs256}}}},
          {"timeout", store_.options().challenge_ttl_s * 1000},
          {"attestation", "none"},
          {"authenticatorSelection",
           {{"residentKey", "required"},
            {"requireResidentKey", true},
            {"userVerification", "preferred"}}},
          {"excludeCredentials", exclude}};
}

void WebGate::RegisterOptions(const httplib::Request& req, httplib::Response& res) {
  if (!RequireSameOrigin(req, res)) return;
  auto body = http::ReadJsonBody(req, res);
  if (!body) return;
  std::string ceremony, account;
  if (body->contains("link")) {
    const std::string link = StringOr(*body, "link");
    if (Status rl = store_.CountSignInAttempt(ClientAddress(req)); !rl.ok())
      return http::SendError(res, rl);
    auto for_account = store_.ConsumeLinkFor(link, web::LinkPurpose::kRegisterPasskey);
    if (!for_account) return http::SendError(res, for_account.error());
    account = *for_account;
    ceremony = "register-link";
  } else {
    auto info = Session(req, res);
    if (!info) return;
    account = info->account;
    ceremony = "register-session";
  }
  auto user = options_.user_for(account);
  if (!user) return http::SendError(res, user.error());
  auto challenge = store_.NewChallenge(ceremony, account);
  if (!challenge) return http::SendError(res, challenge.error());
  res.set_header("Cache-Control", "no-store");
  http::SendJson(res, CreationOptions(*challenge, *user, account));
}

void WebGate::Register(const httplib::Request& req, httplib::Response& res) {
  if (!RequireSameOrigin(req, res)) return;
  auto body = http::ReadJsonBody(req, res);
  if (!body) return;
  webauthn::RegistrationResponse r;
  auto response = CredentialResponse(*body, &r.raw_id);
  if (!response) return http::SendError(res, response.error());
  auto cdj = B64Member(**response, "clientDataJSON");
  auto att = B64Member(**response, "attestationObject");
  if (!cdj) return http::SendError(res, cdj.error());
  if (!att) return http::SendError(res, att.error());
  r.client_data_json = *cdj;
  r.attestation_object = *att;
  std::string name = StringOr(*body, "name");
  if (name.size() > 64)
    return http::SendError(res,
                           Status::InvalidArgument("a passkey's name has at most 64 characters"));
  if (name.empty()) name = "Passkey";
  auto challenge = ChallengeOf(r.client_data_json);
  if (!challenge) return http::SendError(res, challenge.error());
  // The ceremony began with a setup link (the browser is signed in after it) or in a session
  // (another passkey for a signed-in person, who must still be signed in as the same account).
  bool via_link = true;
  auto account = store_.ConsumeChallengeFor(*challenge, "register-link");
  if (!account && account.error().reason() == web::kChallengeUnknown) {
    via_link = false;
    auto info = Session(req, res);
    if (!info) return;
    account = store_.ConsumeChallengeFor(*challenge, "register-session");
    if (account && *account != info->account) {
      return http::SendError(
          res, Status::WithReason(StatusCode::kUnauthenticated, web::kChallengeUnknown,
                                  "this ceremony began in another session"));
    }
  }
  if (!account) return http::SendError(res, account.error());
  auto cred = webauthn::VerifyRegistration(rp_, *challenge, r);
  if (!cred) return http::SendError(res, cred.error());
  web::Passkey p;
  p.id = Base64UrlEncode(cred->id);
  p.account = *account;
  p.name = name;
  p.cose_public_key = cred->cose_public_key;
  p.alg = cred->alg;
  p.sign_count = cred->sign_count;
  p.user_verified = cred->user_verified;
  p.backup_eligible = cred->backup_eligible;
  p.backed_up = cred->backed_up;
  p.aaguid = cred->aaguid;
  p.created_at = env_.clock->NowSeconds();
  if (Status st = store_.AddPasskey(p); !st.ok()) return http::SendError(res, st);
  json out = {{"passkey", PasskeyJson(p)}};
  if (via_link) return SignIn(res, "passkey:" + p.id, p.account, 201, out);
  http::SendJson(res, out, 201);
}

void WebGate::SignInOptions(const httplib::Request& req, httplib::Response& res) {
  if (!RequireSameOrigin(req, res)) return;
  if (Status rl = store_.CountSignInAttempt(ClientAddress(req)); !rl.ok())
    return http::SendError(res, rl);
  auto challenge = store_.NewChallenge("signin");
  if (!challenge) return http::SendError(res, challenge.error());
  res.set_header("Cache-Control", "no-store");
  http::SendJson(res, {{"challenge", Base64UrlEncode(*challenge)},
                       {"rpId", rp_.rp_id},
                       {"timeout", store_.options().challenge_ttl_s * 1000},
                       {"userVerification", "preferred"},
                       {"allowCredentials", json::array()}});
}

void WebGate::SignInPasskey(const httplib::Request& req, httplib::Response& res) {
  if (!RequireSameOrigin(req, res)) return;
  auto body = http::ReadJsonBody(req, res);
  if (!body) return;
  // (Counted at the options: every assertion needs a fresh challenge.)
  webauthn::AssertionResponse a;
  auto response = CredentialResponse(*body, &a.raw_id);
  if (!response) return http::SendError(res, response.error());
  for (auto [name, out, optional] : {std::tuple{"clientDataJSON", &a.client_data_json, false},
                                     std::tuple{"authenticatorData", &a.authenticator_data, false},
                                     std::tuple{"signature", &a.signature, false},
                                     std::tuple{"userHandle", &a.user_handle, true}}) {
    auto v = B64Member(**response, name, optional);
    if (!v) return http::SendError(res, v.error());
    *out = std::move(*v);
  }
  auto challenge = ChallengeOf(a.client_data_json);
  if (!challenge) return http::SendError(res, challenge.error());
  if (Status st = store_.ConsumeChallenge(*challenge, "signin"); !st.ok())
    return http::SendError(res, st);
  const std::string id = Base64UrlEncode(a.raw_id);
  auto passkey = store_.GetPasskey(id);
  if (!passkey) {
    return http::SendError(
        res, Status::WithReason(StatusCode::kUnauthenticated, web::kPasskeyUnknown,
                                "this passkey is not registered here (or was revoked)"));
  }
  auto user = options_.user_for(passkey->account);
  if (!user) return http::SendError(res, user.error());
  webauthn::Credential stored;
  stored.id = a.raw_id;
  stored.cose_public_key = passkey->cose_public_key;
  stored.alg = passkey->alg;
  stored.sign_count = passkey->sign_count;
  auto count = webauthn::VerifyAssertion(rp_, *challenge, stored, user->handle, a);
  if (!count) return http::SendError(res, count.error());
  if (Status st = store_.RecordUse(id, *count); !st.ok()) return http::SendError(res, st);
  SignIn(res, "passkey:" + id, passkey->account);
}

void WebGate::ListPasskeys(const httplib::Request& req, httplib::Response& res) {
  auto info = Session(req, res);
  if (!info) return;
  auto list = store_.ListPasskeys(info->account);
  if (!list) return http::SendError(res, list.error());
  json out = json::array();
  for (const web::Passkey& p : *list) out.push_back(PasskeyJson(p));
  http::SendJson(res, {{"passkeys", out}});
}

void WebGate::RevokePasskey(const httplib::Request& req, httplib::Response& res) {
  auto info = Session(req, res);
  if (!info) return;
  const std::string id = req.matches[1].str();
  auto passkey = store_.GetPasskey(id);
  // Another account's passkey is, for this session, a passkey that does not exist.
  if (!passkey || passkey->account != info->account) {
    return http::SendError(res, Status::WithReason(StatusCode::kNotFound, web::kPasskeyUnknown,
                                                   "no live passkey " + id.substr(0, 64)));
  }
  if (Status st = store_.RevokePasskey(id); !st.ok()) return http::SendError(res, st);
  res.status = 204;
}

void WebGate::RegisterRoutes(httplib::Server& server) {
  server.Post("/web/v1/passkeys/register/options",
              [this](const httplib::Request& req, httplib::Response& res) {
                RegisterOptions(req, res);
              });
  server.Post("/web/v1/passkeys/register",
              [this](const httplib::Request& req, httplib::Response& res) { Register(req, res); });
  server.Get("/web/v1/passkeys", [this](const httplib::Request& req, httplib::Response& res) {
    ListPasskeys(req, res);
  });
  server.Delete(
      R"(/web/v1/passkeys/([A-Za-z0-9_-]{1,1400}))",
      [this](const httplib::Request& req, httplib::Response& res) { RevokePasskey(req, res); });
  server.Post("/web/v1/signin/options",
              [this](const httplib::Request& req, httplib::Response& res) {
                SignInOptions(req, res);
              });
  server.Post("/web/v1/signin", [this](const httplib::Request& req, httplib::Response& res) {
    SignInPasskey(req, res);
  });
}

}  // namespace medallion::roles
