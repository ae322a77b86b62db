// The sign-in side every role's web app shares (docs/web.md): the session cookie, the
// same-origin and CSRF rules, and the passkey ceremonies (WebAuthn Level 3 §7.1 registration and
// §7.2 authentication, verified by webauthn/) over a web::BrowserStore. A container has one
// person (account ""); a pharmacy or a society has staff accounts, each with a role, whose
// passkeys, links and sessions name the account.
#pragma once

#include <httplib.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "medallion/core/bytes.h"
#include "medallion/core/env.h"
#include "medallion/core/status.h"
#include "medallion/web/sessions.h"
#include "medallion/webauthn/webauthn.h"

namespace medallion::roles {

// The value of cookie `name` in the request's Cookie headers ("" if absent).
std::string CookieValue(const httplib::Request& req, std::string_view name);
// A request's client address (rate limits).
std::string ClientAddress(const httplib::Request& req);
// A passkey as the apps list it: {"id","name","alg","created_at","last_used_at","backed_up"}.
nlohmann::json PasskeyJson(const web::Passkey& p);
// The web origin for a served URL: the same scheme and port, with 127.0.0.1 / ::1 / 0.0.0.0
// written as "localhost" (WebAuthn needs a domain as its RP ID: Chromium refuses an IP
// address). "http://127.0.0.1:8090/c/a" → "http://localhost:8090".
std::string WebOriginFor(const std::string& url);

// The WebAuthn user entity of an account (§5.4.3; the handle carries no personal data).
struct WebUser {
  Bytes handle;
  std::string name, display_name;
};

struct WebGateOptions {
  std::string origin;     // "http://localhost:8090"
  std::string base_path;  // "" or "/c/alice"
  bool tls = false;
  std::string cookie_prefix = "mdl_session_";  // + the origin's port
  // The user entity of an account; an error refuses the ceremony (a container knows only "").
  std::function<Result<WebUser>(const std::string& account)> user_for;
};

class WebGate {
 public:
  // The store outlives the gate. Errors: invalid_argument for an origin without a host name.
  static Result<std::unique_ptr<WebGate>> Make(web::BrowserStore& store, WebGateOptions options,
                                               Env env);

  web::BrowserStore& store() { return store_; }
  const WebGateOptions& options() const { return options_; }
  const webauthn::RelyingParty& rp() const { return rp_; }
  const std::string& cookie_name() const { return cookie_name_; }

  // The cookie's Set-Cookie value (an empty value with max_age 0 clears it).
  std::string CookieHeader(const std::string& value, int64_t max_age) const;
  std::string SessionId(const httplib::Request& req) const {
    return CookieValue(req, cookie_name_);
  }
  // Same origin: the Origin header names this app's origin, or (without Origin) the fetch
  // metadata says same-origin.
  bool SameOrigin(const httplib::Request& req) const;
  // Sign-in steps (no session yet) must come from the app's own origin too (login CSRF). Sends
  // the error; false then.
  bool RequireSameOrigin(const httplib::Request& req, httplib::Response& res) const;
  // The browser session of a request, with the CSRF rule for unsafe methods (same origin and
  // X-CSRF-Token). nullopt when an error was sent (and a dead cookie cleared).
  std::optional<web::SessionInfo> Session(const httplib::Request& req, httplib::Response& res);
  // Session() for a staff account whose role is one of `roles`: 403 insufficient_role
  // otherwise.
  std::optional<web::SessionInfo> StaffSession(const httplib::Request& req, httplib::Response& res,
                                               std::initializer_list<std::string_view> roles);
  // Signs the browser in: a new session for `account`, its cookie, and {"signed_in", "csrf"}
  // (+ `extra`).
  void SignIn(httplib::Response& res, const std::string& method, const std::string& account,
              int status = 200, nlohmann::json extra = nlohmann::json::object());

  // POST {"link"} or a signed-in session → PublicKeyCredentialCreationOptions.
  void RegisterOptions(const httplib::Request& req, httplib::Response& res);
  // POST {"name","credential"} → 201 {"passkey"}; signs in when the ceremony began with a link.
  void Register(const httplib::Request& req, httplib::Response& res);
  // POST {} → PublicKeyCredentialRequestOptions (discoverable passkeys). Rate-limited.
  void SignInOptions(const httplib::Request& req, httplib::Response& res);
  // POST {"credential"} → {"signed_in","csrf"} + Set-Cookie.
  void SignInPasskey(const httplib::Request& req, httplib::Response& res);
  // GET: the session's account's live passkeys.
  void ListPasskeys(const httplib::Request& req, httplib::Response& res);
  // DELETE /web/v1/passkeys/<id> (matches[1]): one of the session's account's passkeys.
  void RevokePasskey(const httplib::Request& req, httplib::Response& res);

  // Registers the routes above under /web/v1 (passkeys/register/options, passkeys/register,
  // passkeys, passkeys/<id>, signin/options, signin).
  void RegisterRoutes(httplib::Server& server);

 private:
  WebGate(web::BrowserStore& store, WebGateOptions options, Env env)
      : store_(store), options_(std::move(options)), env_(env) {}
  nlohmann::json CreationOptions(const Bytes& challenge, const WebUser& user,
                                 const std::string& account);

  web::BrowserStore& store_;
  WebGateOptions options_;
  Env env_;
  webauthn::RelyingParty rp_;
  std::string cookie_name_;
};

}  // namespace medallion::roles
