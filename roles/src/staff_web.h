// The staff side of a role with several people (the pharmacy counter, the society's desk):
// staff accounts with roles and passkeys (web::BrowserStore in DIR/web.sqlite), their sign-in
// (WebGate, cookie "mdl_staff_<port>"), GET /web/v1/state, POST /web/v1/signout, and the staff
// list and one-time setup links a manager hands out (GET/POST /web/v1/staff).
#pragma once

#include <httplib.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "medallion/core/env.h"
#include "medallion/core/status.h"
#include "medallion/web/sessions.h"
#include "web_gate.h"

namespace medallion::roles {

struct StaffWebOptions {
  std::string dir;     // web.sqlite, web.origin
  std::string origin;  // the app's origin
  bool tls = false;
  std::string place;                // "Riverside Pharmacy": shown by authenticators
  std::vector<std::string> roles;   // the roles an account may have
  std::string manager_role;         // who adds staff (and the first account's role)
  std::string first_account;        // the account of the first setup link ("pharmacist")
  std::string first_display_name;   // its display name ("Pharmacist")
};

class StaffWeb {
 public:
  static Result<std::unique_ptr<StaffWeb>> Open(StaffWebOptions options, Env env);

  // Adds an account to the staff store in `dir` (while the server runs or not: SQLite WAL)
  // and returns its setup link "<origin>/#setup=<token>"; `origin` "" is the one the app's
  // last start recorded (DIR/web.origin). Errors: invalid_argument, already_exists.
  static Result<std::string> AddStaff(const std::string& dir, std::string origin,
                                      const web::Account& account,
                                      const std::vector<std::string>& roles, Env env);

  // The gate's routes, /web/v1/state (with `describe()`'s members: who this place is),
  // /web/v1/signout and /web/v1/staff.
  void RegisterRoutes(httplib::Server& server, std::function<nlohmann::json()> describe);

  WebGate& gate() { return *gate_; }
  web::BrowserStore& store() { return *store_; }
  // A one-time setup link for an account: "<origin>/#setup=<token>".
  Result<std::string> SetupLink(const std::string& account);
  // While no account has a passkey: a setup link for the first account (created if missing).
  Result<std::optional<std::string>> FirstSetupLink();
  std::string AppUrl() const { return options_.origin + "/"; }

 private:
  StaffWeb(StaffWebOptions options, Env env) : options_(std::move(options)), env_(env) {}
  StaffWebOptions options_;
  Env env_;
  std::unique_ptr<web::BrowserStore> store_;
  std::unique_ptr<WebGate> gate_;
};

nlohmann::json AccountJson(const web::Account& a);

}  // namespace medallion::roles
