// The staff side of a role with several people (staff_web.h).
#include "staff_web.h"

#include <algorithm>
#include <filesystem>

#include "medallion/core/hash.h"
#include "medallion/core/json.h"
#include "medallion/http/http.h"
#include "medallion/roles/files.h"

namespace medallion::roles {

using nlohmann::json;

namespace {

constexpr char kOriginFile[] = "web.origin";

// The WebAuthn user handle of a staff account (§14.6.1: no personal data): 16 bytes of
// SHA-256("medallion webauthn staff\n" || origin || "\n" || account).
Bytes StaffHandle(const std::string& origin, const std::string& account) {
  const Hash256 h = Sha256(AsBytes("medallion webauthn staff\n" + origin + "\n" + account));
  return Bytes(h.begin(), h.begin() + 16);
}

Result<std::unique_ptr<web::BrowserStore>> OpenStaffStore(const std::string& dir, Env& env) {
  web::SessionOptions so;
  so.max_signin_attempts = 20;
  // A counter or a desk is a shared place: a shorter idle timeout than a person's own app.
  so.idle_timeout_s = 15 * 60;
  return web::BrowserStore::Open((std::filesystem::path(dir) / "web.sqlite").string(), env, so);
}

Status CheckRole(const std::string& role, const std::vector<std::string>& roles) {
  if (std::find(roles.begin(), roles.end(), role) != roles.end()) return Status::Ok();
  std::string list;
  for (const std::string& r : roles) list += (list.empty() ? "" : " or ") + r;
  return Status::InvalidArgument("a staff role here is " + list);
}

}  // namespace

json AccountJson(const web::Account& a) {
  return {{"name", a.name},
          {"role", a.role},
          {"display_name", a.display_name},
          {"created_at", a.created_at}};
}

Result<std::unique_ptr<StaffWeb>> StaffWeb::Open(StaffWebOptions options, Env env) {
  std::unique_ptr<StaffWeb> w(new StaffWeb(std::move(options), env));
  MDL_ASSIGN_OR_RETURN(w->store_, OpenStaffStore(w->options_.dir, w->env_));
  WebGateOptions go;
  go.origin = w->options_.origin;
  go.tls = w->options_.tls;
  go.cookie_prefix = "mdl_staff_";
  web::BrowserStore* store = w->store_.get();
  go.user_for = [store, origin = w->options_.origin,
                 place = w->options_.place](const std::string& account) -> Result<WebUser> {
    if (account.empty()) return Status::PermissionDenied("only staff accounts sign in here");
    MDL_ASSIGN_OR_RETURN(web::Account a, store->GetAccount(account));
    return WebUser{StaffHandle(origin, a.name), a.name + " (" + place + ")", a.display_name};
  };
  MDL_ASSIGN_OR_RETURN(w->gate_, WebGate::Make(*w->store_, std::move(go), w->env_));
  MDL_RETURN_IF_ERROR(
      WriteFileAtomic((std::filesystem::path(w->options_.dir) / kOriginFile).string(),
                      w->options_.origin + "\n", /*public_file=*/false, /*overwrite=*/true));
  return w;
}

Result<std::string> StaffWeb::AddStaff(const std::string& dir, std::string origin,
                                       const web::Account& account,
                                       const std::vector<std::string>& roles, Env env) {
  MDL_RETURN_IF_ERROR(CheckRole(account.role, roles));
  if (origin.empty()) {
    auto recorded = ReadFileBytes((std::filesystem::path(dir) / kOriginFile).string());
    if (!recorded || recorded->empty()) {
      return Status::InvalidArgument(
          "the app's address is unknown: serve the role once first, or pass --url");
    }
    origin = ToString(*recorded);
  }
  while (!origin.empty() && (origin.back() == '\n' || origin.back() == '/')) origin.pop_back();
  MDL_ASSIGN_OR_RETURN(std::unique_ptr<web::BrowserStore> store, OpenStaffStore(dir, env));
  web::Account a = account;
  if (a.display_name.empty()) a.display_name = a.name;
  MDL_RETURN_IF_ERROR(store->AddAccount(a));
  MDL_ASSIGN_OR_RETURN(std::string token,
                       store->CreateLink(web::LinkPurpose::kRegisterPasskey, a.name));
  return origin + "/#setup=" + token;
}

Result<std::string> StaffWeb::SetupLink(const std::string& account) {
  MDL_ASSIGN_OR_RETURN(std::string token,
                       store_->CreateLink(web::LinkPurpose::kRegisterPasskey, account));
  return AppUrl() + "#setup=" + token;
}

Result<std::optional<std::string>> StaffWeb::FirstSetupLink() {
  MDL_ASSIGN_OR_RETURN(std::vector<web::Passkey> passkeys, store_->ListPasskeys());
  if (!passkeys.empty()) return std::optional<std::string>();
  auto first = store_->GetAccount(options_.first_account);
  if (!first) {
    MDL_RETURN_IF_ERROR(store_->AddAccount(
        {options_.first_account, options_.manager_role, options_.first_display_name, 0}));
  } else if (first->role != options_.manager_role) {
    return std::optional<std::string>();
  }
  MDL_ASSIGN_OR_RETURN(std::string link, SetupLink(options_.first_account));
  return std::optional<std::string>(std::move(link));
}

void StaffWeb::RegisterRoutes(httplib::Server& server, std::function<json()> describe) {
  gate_->RegisterRoutes(server);
  server.Get("/web/v1/state", [this, describe](const httplib::Request& req,
                                               httplib::Response& res) {
    json out = describe();
    out["signed_in"] = false;
    out["rp_id"] = gate_->rp().rp_id;
    out["origin"] = options_.origin;
    const std::string id = gate_->SessionId(req);
    if (!id.empty()) {
      auto info = store_->Touch(id);
      auto account =
          info ? store_->GetAccount(info->account) : Result<web::Account>(info.error());
      if (account) {
        out["signed_in"] = true;
        out["csrf"] = web::CsrfTokenFor(id);
        out["account"] = AccountJson(*account);
        out["session"] = {{"created_at", info->created_at}, {"expires_at", info->expires_at}};
      } else {
        res.set_header("Set-Cookie", gate_->CookieHeader("", 0));
      }
    }
    res.set_header("Cache-Control", "no-store");
    http::SendJson(res, out);
  });
  server.Post("/web/v1/signout", [this](const httplib::Request& req, httplib::Response& res) {
    if (!gate_->Session(req, res)) return;
    if (Status st = store_->EndSession(gate_->SessionId(req)); !st.ok())
      return http::SendError(res, st);
    res.set_header("Set-Cookie", gate_->CookieHeader("", 0));
    http::SendJson(res, {{"signed_in", false}});
  });
  server.Get("/web/v1/staff", [this](const httplib::Request& req, httplib::Response& res) {
    if (!gate_->StaffSession(req, res, {options_.manager_role})) return;
    auto list = store_->ListAccounts();
    if (!list) return http::SendError(res, list.error());
    json out = json::array();
    for (const web::Account& a : *list) out.push_back(AccountJson(a));
    http::SendJson(res, {{"staff", out}, {"roles", options_.roles}});
  });
  server.Post("/web/v1/staff", [this](const httplib::Request& req, httplib::Response& res) {
    if (!gate_->StaffSession(req, res, {options_.manager_role})) return;
    auto body = http::ReadJsonBody(req, res);
    if (!body) return;
    web::Account a{StringOr(*body, "name"), StringOr(*body, "role"),
                   StringOr(*body, "display_name"), 0};
    if (a.display_name.empty()) a.display_name = a.name;
    if (Status st = CheckRole(a.role, options_.roles); !st.ok()) return http::SendError(res, st);
    if (Status st = store_->AddAccount(a); !st.ok()) return http::SendError(res, st);
    auto link = SetupLink(a.name);
    if (!link) return http::SendError(res, link.error());
    auto created = store_->GetAccount(a.name);
    if (!created) return http::SendError(res, created.error());
    res.set_header("Cache-Control", "no-store");
    http::SendJson(res,
                   {{"account", AccountJson(*created)},
                    {"setup_link", *link},
                    {"expires_in", store_->options().link_ttl_s}},
                   201);
  });
}

}  // namespace medallion::roles
