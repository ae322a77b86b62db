// The pharmacy counter (pharmacy_counter.h, docs/web.md).
#include "pharmacy_counter.h"

#include <sqlite3.h>

#include <algorithm>
#include <ctime>
#include <filesystem>

#include "medallion/core/encoding.h"
#include "medallion/core/hash.h"
#include "medallion/core/json.h"
#include "medallion/http/http.h"
#include "medallion/roles/files.h"
#include "medallion/roles/pharmacy.h"
#include "medallion/storage/sqlite.h"
#include "medallion/web/assets.h"
#include "medallion/web/qr.h"

// The pharmacy's app, embedded at build time from web/apps/pharmacy (roles/CMakeLists.txt).
extern const medallion::web::AssetBundle medallion_pharmacy_app;

namespace medallion::roles {

using nlohmann::json;

namespace {

constexpr std::string_view kWhat = "pharmacy counter";
constexpr size_t kMaxRefusal = 200;
constexpr int64_t kKeepDecided = 24 * 60 * 60;  // decided requests stay visible this long

constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE dispenses (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  day TEXT NOT NULL,
  staff TEXT NOT NULL,
  request TEXT NOT NULL,
  medication TEXT NOT NULL,
  quantity INTEGER NOT NULL,
  fill INTEGER NOT NULL,
  fills_allowed INTEGER NOT NULL,
  schedule TEXT NOT NULL,
  prescriber TEXT NOT NULL,
  holder TEXT NOT NULL,
  prescription_digest TEXT NOT NULL,
  ledger_index INTEGER NOT NULL,
  receipt TEXT NOT NULL
);
CREATE INDEX dispenses_by_day ON dispenses(day);
)sql",
};

// The UTC calendar day of `seconds`: "YYYY-MM-DD".
std::string UtcDay(int64_t seconds) {
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

bool IsDay(const std::string& d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (d[i] < '0' || d[i] > '9') return false;
  }
  return true;
}

}  // namespace

Result<std::string> AddPharmacyStaff(const std::string& dir, std::string origin,
                                     const std::string& name, const std::string& role,
                                     const std::string& display_name, Env env) {
  return StaffWeb::AddStaff(dir, std::move(origin), {name, role, display_name, 0},
                            {kRolePharmacist, kRoleTechnician}, env);
}

class PharmacyCounter::Handlers {
 public:
  explicit Handlers(PharmacyCounter& c) : c_(c) {}

  // Drops what is long decided and marks what expired unanswered. Holds mu_.
  void Sweep(int64_t now) {
    std::erase_if(c_.requests_,
                  [now](const auto& kv) { return kv.second.created_at + kKeepDecided < now; });
    for (auto& [id, r] : c_.requests_) {
      if (r.status == "waiting" && now >= r.expires_at) r.status = "expired";
    }
  }

  json RequestJson(const Request& r, bool for_staff) const {
    json out = {{"id", r.id}, {"status", r.status}, {"expires", r.expires_at}};
    if (for_staff) {
      out["created_by"] = r.created_by;
      out["created_at"] = r.created_at;
      if (!r.decided_by.empty()) out["decided_by"] = r.decided_by;
    }
    if (!r.result.is_null()) out["result"] = r.result;
    if (!r.refusal.empty()) out["refusal"] = r.refusal;
    return out;
  }

  // --- the patient's side (her container) ---

  void Describe(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(c_.mu_);
    Sweep(c_.env_.clock->NowSeconds());
    auto it = c_.requests_.find(req.matches[1].str());
    if (it == c_.requests_.end() || it->second.status == "expired") {
      return http::SendError(res, 404, "not_found",
                             "no such presentation request (or it expired): ask the pharmacy "
                             "for a new one");
    }
    const Request& r = it->second;
    if (r.status != "waiting") {
      return http::SendError(res, Status::WithReason(StatusCode::kFailedPrecondition,
                                                     "already_presented",
                                                     "a prescription was already presented "
                                                     "for this request"));
    }
    res.set_header("Cache-Control", "no-store");
    http::SendJson(res, {{"request", r.id},
                         {"pharmacy", c_.service_.config.pharmacy_did},
                         {"name", c_.options_.name},
                         {"nonce", r.challenge.nonce},
                         {"domain", r.challenge.domain},
                         {"expires", r.challenge.expires},
                         {"presentation_endpoint", c_.options_.origin + "/pharmacy/v1/requests/" +
                                                       r.id + "/presentation"}});
  }

  void Present(const httplib::Request& req, httplib::Response& res) {
    auto body = http::ReadJsonBody(req, res);
    if (!body) return;
    const std::string id = req.matches[1].str();
    claims::ChallengeStore* challenges = nullptr;
    {
      std::lock_guard lock(c_.mu_);
      Sweep(c_.env_.clock->NowSeconds());
      auto it = c_.requests_.find(id);
      if (it == c_.requests_.end() || it->second.status == "expired")
        return http::SendError(res, 404, "not_found", "no such presentation request");
      if (it->second.status != "waiting") {
        return http::SendError(res, Status::WithReason(StatusCode::kFailedPrecondition,
                                                       "already_presented",
                                                       "a prescription was already presented "
                                                       "for this request"));
      }
      it->second.status = "checking";
      challenges = it->second.challenges.get();  // stays while the request does (not swept)
    }
    auto r = RunDispense(c_.service_, *body, *challenges, /*hold=*/true);
    std::lock_guard lock(c_.mu_);
    auto it = c_.requests_.find(id);
    if (it == c_.requests_.end()) return http::SendError(res, 404, "not_found", "request gone");
    Request& request = it->second;
    if (!r) {
      request.status = "waiting";  // a body of the wrong shape changes nothing
      return http::SendError(res, r.error());
    }
    request.result = r->ToJson();
    if (!r->ok()) {
      request.status = "refused";
      request.refusal = r->reason;
      return http::SendJson(res,
                            {{"error", r->reason},
                             {"error_description", r->detail},
                             {"result", request.result}},
                            422);
    }
    request.status = "held";
    request.held = r->held;
    const std::string token = c_.env_.rng->RandomId(32);
    request.presenter_hash = HexEncode(Sha256(AsBytes(token)));
    http::SendJson(res,
                   {{"status", "awaiting_pharmacist"}, {"token", token}, {"result", request.result}},
                   202);
  }

  void Outcome(const httplib::Request& req, httplib::Response& res) {
    auto body = http::ReadJsonBody(req, res);
    if (!body) return;
    const std::string token = StringOr(*body, "token");
    std::lock_guard lock(c_.mu_);
    auto it = c_.requests_.find(req.matches[1].str());
    const std::string hash = HexEncode(Sha256(AsBytes(token)));
    if (it == c_.requests_.end() || it->second.presenter_hash.empty() || token.empty() ||
        !ConstantTimeEqual(AsBytes(hash), AsBytes(it->second.presenter_hash))) {
      return http::SendError(res, 404, "not_found", "no such presentation");
    }
    const Request& r = it->second;
    json out = {{"status", r.status == "held" || r.status == "dispensing" ? "awaiting_pharmacist"
                                                                          : r.status},
                {"result", r.result}};
    if (r.status == "refused") {
      out["error"] = r.refusal;
      out["error_description"] = StringOr(r.result, "detail");
    }
    res.set_header("Cache-Control", "no-store");
    http::SendJson(res, out);
  }

  void NewRequest(const httplib::Request& req, httplib::Response& res) {
    auto info = c_.staff_->gate().StaffSession(req, res, {kRolePharmacist, kRoleTechnician});
    if (!info) return;
    const int64_t now = c_.env_.clock->NowSeconds();
    Request r;
    r.id = c_.env_.rng->RandomId(22);
    r.created_by = info->account;
    r.created_at = now;
    r.expires_at = now + c_.options_.request_ttl_s;
    r.challenges =
        std::make_unique<claims::ChallengeStore>(c_.env_, c_.options_.request_ttl_s, 1);
    r.challenge = r.challenges->Issue(c_.service_.config.domain);
    const std::string link = c_.options_.origin + "/pharmacy/v1/requests/" + r.id;
    // The QR code: a web+medallion: URI that her container's app registered to open
    // (navigator.registerProtocolHandler), carrying the request's link.
    const std::string uri = "web+medallion:present?request=" + PercentEncode(link);
    auto svg = web::QrSvg(uri, "QR code for the patient's container: present a prescription");
    if (!svg) return http::SendError(res, svg.error());
    json out = {{"id", r.id},          {"link", link},
                {"uri", uri},          {"qr_svg", *svg},
                {"expires", r.expires_at}, {"expires_in", c_.options_.request_ttl_s}};
    {
      std::lock_guard lock(c_.mu_);
      Sweep(now);
      c_.requests_.emplace(r.id, std::move(r));
    }
    res.set_header("Cache-Control", "no-store");
    http::SendJson(res, out, 201);
  }

  void ListRequests(const httplib::Request& req, httplib::Response& res) {
    if (!c_.staff_->gate().StaffSession(req, res, {kRolePharmacist, kRoleTechnician})) return;
    std::lock_guard lock(c_.mu_);
    Sweep(c_.env_.clock->NowSeconds());
    std::vector<const Request*> list;
    for (const auto& [id, r] : c_.requests_) list.push_back(&r);
    std::sort(list.begin(), list.end(),
              [](const Request* a, const Request* b) { return a->created_at > b->created_at; });
    json out = json::array();
    for (const Request* r : list) out.push_back(RequestJson(*r, true));
    res.set_header("Cache-Control", "no-store");
    http::SendJson(res, {{"requests", out}});
  }

  void ShowRequest(const httplib::Request& req, httplib::Response& res) {
    if (!c_.staff_->gate().StaffSession(req, res, {kRolePharmacist, kRoleTechnician})) return;
    std::lock_guard lock(c_.mu_);
    Sweep(c_.env_.clock->NowSeconds());
    auto it = c_.requests_.find(req.matches[1].str());
    if (it == c_.requests_.end()) return http::SendError(res, 404, "not_found", "no such request");
    res.set_header("Cache-Control", "no-store");
    http::SendJson(res, RequestJson(it->second, true));
  }

  void Dispense(const httplib::Request& req, httplib::Response& res) {
    auto info = c_.staff_->gate().StaffSession(req, res, {kRolePharmacist});
    if (!info) return;
    const std::string id = req.matches[1].str();
    std::shared_ptr<const claims::HeldDispense> held;
    {
      std::lock_guard lock(c_.mu_);
      auto it = c_.requests_.find(id);
      if (it == c_.requests_.end())
        return http::SendError(res, 404, "not_found", "no such request");
      if (it->second.status != "held" || !it->second.held) {
        return http::SendError(res, Status::WithReason(
                                        StatusCode::kFailedPrecondition, "not_held",
                                        "nothing verified waits to be dispensed here (status " +
                                            it->second.status + ")"));
      }
      it->second.status = "dispensing";
      held = it->second.held;
    }
    claims::DispenseResult r =
        claims::CommitHeldDispense(*held, c_.service_.config, *c_.service_.resolver,
                                   *c_.service_.ledger, c_.service_.license_status, c_.env_);
    Status recorded = r.ok() ? c_.Record(r, info->account, id) : Status::Ok();
    std::lock_guard lock(c_.mu_);
    auto it = c_.requests_.find(id);
    if (it == c_.requests_.end()) return http::SendError(res, 404, "not_found", "request gone");
    Request& request = it->second;
    request.held.reset();
    request.result = r.ToJson();
    request.decided_by = info->account;
    if (r.ok()) {
      request.status = "dispensed";
    } else {
      request.status = "refused";
      request.refusal = r.reason;
    }
    json out = RequestJson(request, true);
    if (!recorded.ok()) out["record_detail"] = recorded.message();
    http::SendJson(res, out, r.ok() ? 200 : 422);
  }

  void Refuse(const httplib::Request& req, httplib::Response& res) {
    auto info = c_.staff_->gate().StaffSession(req, res, {kRolePharmacist});
    if (!info) return;
    auto body = http::ReadJsonBody(req, res);
    if (!body) return;
    std::string why = StringOr(*body, "reason");
    why.erase(0, why.find_first_not_of(" \t\r\n"));
    if (why.empty() || why.size() > kMaxRefusal ||
        std::any_of(why.begin(), why.end(), [](char ch) {
          return static_cast<unsigned char>(ch) < 0x20;
        })) {
      return http::SendError(res, 400, "invalid_request",
                             "a refusal needs a reason: 1 to 200 characters on one line");
    }
    std::lock_guard lock(c_.mu_);
    auto it = c_.requests_.find(req.matches[1].str());
    if (it == c_.requests_.end()) return http::SendError(res, 404, "not_found", "no such request");
    Request& request = it->second;
    if (request.status != "held") {
      return http::SendError(res, Status::WithReason(StatusCode::kFailedPrecondition, "not_held",
                                                     "only a verified presentation waiting for "
                                                     "the pharmacist can be refused (status " +
                                                         request.status + ")"));
    }
    request.held.reset();
    request.status = "refused";
    request.refusal = "refused_by_pharmacist";
    request.decided_by = info->account;
    request.result["reason"] = "refused_by_pharmacist";
    request.result["detail"] = why;
    http::SendJson(res, RequestJson(request, true));
  }

  void Dispenses(const httplib::Request& req, httplib::Response& res) {
    if (!c_.staff_->gate().StaffSession(req, res, {kRolePharmacist, kRoleTechnician})) return;
    std::string day = req.get_param_value("day");
    if (day.empty()) day = UtcDay(c_.env_.clock->NowSeconds());
    if (!IsDay(day))
      return http::SendError(res, 400, "invalid_request", "day is YYYY-MM-DD (UTC)");
    std::lock_guard lock(c_.mu_);
    sql::Stmt q(c_.db_,
                "SELECT at, staff, request, medication, quantity, fill, fills_allowed, schedule, "
                "prescriber, holder, prescription_digest, ledger_index FROM dispenses WHERE day = "
                "? ORDER BY at DESC, id DESC",
                kWhat);
    q.Text(1, day);
    json out = json::array();
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) {
      json row = {{"at", q.ColInt(0)},
                  {"staff", q.Col(1)},
                  {"request", q.Col(2)},
                  {"medication", q.Col(3)},
                  {"quantity", q.ColInt(4)},
                  {"fill", q.ColInt(5)},
                  {"fills_allowed", q.ColInt(6)},
                  {"schedule", q.Col(7).empty() ? json(nullptr) : json(q.Col(7))},
                  {"prescriber", q.Col(8)},
                  {"prescription_digest", q.Col(10)},
                  {"ledger_index", q.ColInt(11)}};
      if (!q.Col(9).empty()) row["holder"] = q.Col(9);
      out.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) return http::SendError(res, q.Error());
    res.set_header("Cache-Control", "no-store");
    http::SendJson(res, {{"day", day}, {"dispenses", out}});
  }

 private:
  PharmacyCounter& c_;
};

Result<std::unique_ptr<PharmacyCounter>> PharmacyCounter::Open(PharmacyService& service,
                                                               CounterOptions options, Env env) {
  std::unique_ptr<PharmacyCounter> c(new PharmacyCounter(service, std::move(options), env));
  StaffWebOptions so;
  so.dir = c->options_.dir;
  so.origin = c->options_.origin;
  so.tls = c->options_.tls;
  so.place = c->options_.name;
  so.roles = {kRolePharmacist, kRoleTechnician};
  so.manager_role = kRolePharmacist;
  so.first_account = "pharmacist";
  so.first_display_name = "Pharmacist";
  MDL_ASSIGN_OR_RETURN(c->staff_, StaffWeb::Open(std::move(so), c->env_));
  MDL_RETURN_IF_ERROR(
      sql::OpenDatabase((std::filesystem::path(c->options_.dir) / "counter.sqlite").string(),
                        kWhat, kMigrations, &c->db_));
  return c;
}

PharmacyCounter::~PharmacyCounter() {
  if (db_ != nullptr) sqlite3_close(db_);
}

Result<std::optional<std::string>> PharmacyCounter::FirstSetupLink() {
  return staff_->FirstSetupLink();
}

Status PharmacyCounter::Record(const claims::DispenseResult& r, const std::string& staff,
                               const std::string& request) {
  const int64_t now = env_.clock->NowSeconds();
  std::lock_guard lock(mu_);
  return sql::InTransaction(db_, kWhat, [&]() -> Status {
    sql::Stmt ins(db_,
                  "INSERT INTO dispenses (at, day, staff, request, medication, quantity, fill, "
                  "fills_allowed, schedule, prescriber, holder, prescription_digest, "
                  "ledger_index, receipt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  kWhat);
    ins.Int(1, now)
        .Text(2, UtcDay(now))
        .Text(3, staff)
        .Text(4, request)
        .Text(5, r.medication)
        .Int(6, r.quantity)
        .Int(7, r.fill)
        .Int(8, r.fills_allowed)
        .Text(9, r.schedule)
        .Text(10, r.prescriber)
        .Text(11, r.holder)
        .Text(12, r.prescription_digest)
        .Int(13, static_cast<int64_t>(r.dispense_index))
        .Text(14, r.receipt_json);
    if (ins.Step() != SQLITE_DONE) return ins.Error();
    return Status::Ok();
  });
}

void PharmacyCounter::RegisterRoutes(httplib::Server& server) {
  auto h = std::make_shared<Handlers>(*this);
  web::ServeApp(server, medallion_pharmacy_app, options_.tls);
  staff_->RegisterRoutes(server, [this] {
    return json{{"pharmacy",
                 {{"did", service_.config.pharmacy_did},
                  {"name", options_.name},
                  {"domain", service_.config.domain}}}};
  });
  using Req = const httplib::Request&;
  using Res = httplib::Response&;
  constexpr char kId[] = "([A-Za-z0-9_-]{1,64})";
  const std::string requests = "/pharmacy/v1/requests/" + std::string(kId);
  server.Get(requests, [h](Req req, Res res) { h->Describe(req, res); });
  server.Post(requests + "/presentation", [h](Req req, Res res) { h->Present(req, res); });
  server.Post(requests + "/outcome", [h](Req req, Res res) { h->Outcome(req, res); });
  server.Post("/web/v1/counter/requests", [h](Req req, Res res) { h->NewRequest(req, res); });
  server.Get("/web/v1/counter/requests", [h](Req req, Res res) { h->ListRequests(req, res); });
  const std::string mine = "/web/v1/counter/requests/" + std::string(kId);
  server.Get(mine, [h](Req req, Res res) { h->ShowRequest(req, res); });
  server.Post(mine + "/dispense", [h](Req req, Res res) { h->Dispense(req, res); });
  server.Post(mine + "/refuse", [h](Req req, Res res) { h->Refuse(req, res); });
  server.Get("/web/v1/dispenses", [h](Req req, Res res) { h->Dispenses(req, res); });
}

}  // namespace medallion::roles
