// The society's desk (society_desk.h).
#include "society_desk.h"

#include <nlohmann/json.hpp>

#include "medallion/claims/society.h"
#include "medallion/core/json.h"
#include "medallion/http/http.h"
#include "medallion/roles/society.h"
#include "medallion/web/assets.h"

// The society's app, embedded at build time from web/apps/society (roles/CMakeLists.txt).
extern const medallion::web::AssetBundle medallion_society_app;

namespace medallion::roles {

using nlohmann::json;

namespace {
constexpr size_t kMaxImport = size_t{4} << 20;
}  // namespace

Result<std::string> AddSocietyClerk(const std::string& dir, std::string origin,
                                    const std::string& name, const std::string& role,
                                    const std::string& display_name, Env env) {
  return StaffWeb::AddStaff(dir, std::move(origin), {name, role, display_name, 0},
                            {kRoleClerk, kRoleAuditor}, env);
}

Result<std::unique_ptr<SocietyDesk>> SocietyDesk::Open(claims::Society& society,
                                                       DeskOptions options, Env env) {
  std::unique_ptr<SocietyDesk> d(new SocietyDesk(society, std::move(options), env));
  StaffWebOptions so;
  so.dir = d->options_.dir;
  so.origin = d->options_.origin;
  so.tls = d->options_.tls;
  so.place = d->options_.name;
  so.roles = {kRoleClerk, kRoleAuditor};
  so.manager_role = kRoleClerk;
  so.first_account = "clerk";
  so.first_display_name = "Clerk";
  MDL_ASSIGN_OR_RETURN(d->staff_, StaffWeb::Open(std::move(so), d->env_));
  return d;
}

void SocietyDesk::RegisterRoutes(httplib::Server& server) {
  using Req = const httplib::Request&;
  using Res = httplib::Response&;
  web::ServeApp(server, medallion_society_app, options_.tls);
  claims::Society* s = &society_;
  StaffWeb* staff = staff_.get();
  staff_->RegisterRoutes(server, [this] {
    return json{{"society",
                 {{"did", society_.options().did},
                  {"name", options_.name},
                  {"review", society_.options().review}}}};
  });
  auto reader = [staff](Req req, Res res) {
    return staff->gate().StaffSession(req, res, {kRoleClerk, kRoleAuditor}).has_value();
  };
  auto clerk = [staff](Req req, Res res) -> std::optional<web::SessionInfo> {
    return staff->gate().StaffSession(req, res, {kRoleClerk});
  };
  auto answer = [](Res res, const Result<json>& r, int status = 200) {
    if (!r) return http::SendError(res, r.error());
    res.set_header("Cache-Control", "no-store");
    http::SendJson(res, *r, status);
  };
  server.Get("/web/v1/desk/directory", [s, reader, answer](Req req, Res res) {
    if (!reader(req, res)) return;
    auto d = s->Directory();
    answer(res, d ? Result<json>(json{{"directory", *d}}) : Result<json>(d.error()));
  });
  server.Post("/web/v1/desk/directory/import", [s, clerk, answer](Req req, Res res) {
    auto who = clerk(req, res);
    if (!who) return;
    auto body = http::ReadJsonBody(req, res);
    if (!body) return;
    const std::string format = StringOr(*body, "format");
    const json& content = MemberOr(*body, "content");
    if ((format != "csv" && format != "json") || !content.is_string() ||
        content.get_ref<const std::string&>().size() > kMaxImport) {
      return http::SendError(res, 400, "invalid_request",
                             "the body is {\"format\": \"csv\"|\"json\", \"content\": the file's "
                             "text (at most 4 MiB)}");
    }
    claims::DirectoryImport parsed =
        claims::ParseDirectoryFile(content.get_ref<const std::string&>(), format);
    if (!parsed.errors.empty()) {
      json errors = json::array();
      for (const auto& [line, message] : parsed.errors)
        errors.push_back({{"line", line}, {"message", message}});
      return http::SendJson(res,
                            {{"error", "invalid_request"},
                             {"error_description",
                              std::to_string(parsed.errors.size()) +
                                  " problem(s) in the file; nothing was imported"},
                             {"reason", "directory_invalid"},
                             {"errors", errors}},
                            400);
    }
    if (parsed.entries.empty())
      return http::SendError(res, 400, "invalid_request", "the file holds no entry");
    answer(res, s->ImportDirectory(parsed.entries, "import by " + who->account));
  });
  server.Get("/web/v1/desk/onboarding", [s, reader, answer](Req req, Res res) {
    if (!reader(req, res)) return;
    auto list = s->OnboardingRequests();
    answer(res, list ? Result<json>(json{{"requests", *list}}) : Result<json>(list.error()));
  });
  server.Post(R"(/web/v1/desk/onboarding/([A-Za-z0-9-]{1,64}))",
              [s, clerk, answer](Req req, Res res) {
                auto who = clerk(req, res);
                if (!who) return;
                auto body = http::ReadJsonBody(req, res);
                if (!body) return;
                const std::string action = StringOr(*body, "action");
                if (action != "approve" && action != "reject")
                  return http::SendError(res, 400, "invalid_request",
                                         "action is approve or reject");
                answer(res, s->DecideOnboarding(req.matches[1].str(), action == "approve",
                                                StringOr(*body, "reason"), who->account));
              });
  server.Get("/web/v1/desk/licenses", [s, reader, answer](Req req, Res res) {
    if (!reader(req, res)) return;
    auto list = s->Licenses();
    answer(res, list ? Result<json>(json{{"licenses", *list}}) : Result<json>(list.error()));
  });
  server.Post(
      R"(/web/v1/desk/licenses/([A-Za-z0-9:._-]{1,128})/status)",
      [s, clerk, answer](Req req, Res res) {
        auto who = clerk(req, res);
        if (!who) return;
        auto body = http::ReadJsonBody(req, res);
        if (!body) return;
        const std::string id = req.matches[1].str();
        auto list = s->Licenses();
        if (!list) return http::SendError(res, list.error());
        const json* license = nullptr;
        for (const json& l : *list) {
          if (StringOr(l, "id") == id) license = &l;
        }
        if (license == nullptr) return http::SendError(res, 404, "not_found", "no such license");
        // The confirmation: the page sends the license number the clerk confirmed.
        if (StringOr(*body, "confirm") != StringOr(*license, "license_number")) {
          return http::SendError(
              res, Status::WithReason(StatusCode::kFailedPrecondition, "not_confirmed",
                                      "confirm the change with the license's number"));
        }
        const std::string action = StringOr(*body, "action");
        Status st = s->SetStatus(id, action, StringOr(*body, "reason"), who->account);
        if (!st.ok()) return http::SendError(res, st);
        answer(res, json{{"id", id}, {"action", action}});
      });
  server.Get("/web/v1/desk/status-lists", [s, reader, answer](Req req, Res res) {
    if (!reader(req, res)) return;
    answer(res, s->StatusListState());
  });
}

}  // namespace medallion::roles
