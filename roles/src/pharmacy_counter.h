// The pharmacy counter (docs/web.md §"The pharmacy counter"): the pharmacy's staff in the
// browser (accounts with passkeys: pharmacists dispense, technicians prepare), "new customer"
// presentation requests shown as a QR code and a link her container opens, each incoming
// presentation verified and held with every check of the pipeline for the pharmacist to
// dispense or refuse, and the day's dispenses — what the pharmacy is entitled to keep, no patient
// identity beyond what was presented — in its own SQLite file (counter.sqlite, WAL,
// synchronous=FULL).
#pragma once

#include <httplib.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "medallion/claims/pharmacy.h"
#include "medallion/claims/presentation.h"
#include "medallion/core/env.h"
#include "medallion/core/status.h"
#include "medallion/roles/pharmacy_http.h"
#include "medallion/web/sessions.h"
#include "staff_web.h"

struct sqlite3;

namespace medallion::roles {

// Staff roles at a pharmacy.
inline constexpr char kRolePharmacist[] = "pharmacist";  // dispenses, refuses, adds staff
inline constexpr char kRoleTechnician[] = "technician";  // new customers, sees the checks

struct CounterOptions {
  std::string dir;     // web.sqlite (staff), counter.sqlite (dispenses)
  std::string origin;  // the app's origin
  bool tls = false;
  std::string name = "Pharmacy";  // shown to staff and to the patient's container
  int64_t request_ttl_s = 10 * 60;
};

class PharmacyCounter {
 public:
  // `service` outlives the counter.
  static Result<std::unique_ptr<PharmacyCounter>> Open(PharmacyService& service,
                                                       CounterOptions options, Env env);
  ~PharmacyCounter();

  // The app at "/", /web/v1/... for staff, and the patient's side of a counter request:
  // GET /pharmacy/v1/requests/<id>, POST .../presentation, POST .../outcome.
  void RegisterRoutes(httplib::Server& server);

  // Records a dispense in the day's list (also those of POST /pharmacy/v1/dispense).
  Status Record(const claims::DispenseResult& r, const std::string& staff,
                const std::string& request);

  // While no staff account has a passkey: a setup link for the first pharmacist (account
  // "pharmacist", created if missing). nullopt once someone can sign in.
  Result<std::optional<std::string>> FirstSetupLink();
  std::string AppUrl() const { return staff_->AppUrl(); }
  // A staff session with one of `roles` (WebGate::StaffSession), for the pharmacy's other
  // staff routes (pharmacy_oid4vp.h).
  std::optional<web::SessionInfo> StaffSession(const httplib::Request& req,
                                               httplib::Response& res,
                                               std::initializer_list<std::string_view> roles) {
    return staff_->gate().StaffSession(req, res, roles);
  }

 private:
  PharmacyCounter(PharmacyService& service, CounterOptions options, Env env)
      : service_(service), options_(std::move(options)), env_(env) {}
  class Handlers;
  friend class Handlers;

  struct Request {
    std::string id;
    std::string created_by;
    int64_t created_at = 0, expires_at = 0;
    std::unique_ptr<claims::ChallengeStore> challenges;  // this request's one challenge
    claims::Challenge challenge;
    // waiting → checking → held → dispensed | refused; waiting → expired.
    std::string status = "waiting";
    nlohmann::json result;  // the pipeline's answer (DispenseResult::ToJson)
    std::shared_ptr<const claims::HeldDispense> held;
    std::string presenter_hash;  // hex SHA-256 of the token the patient's container polls with
    std::string decided_by, refusal;
  };

  PharmacyService& service_;
  CounterOptions options_;
  Env env_;
  std::unique_ptr<StaffWeb> staff_;
  sqlite3* db_ = nullptr;
  std::mutex mu_;  // requests_ and db_
  std::map<std::string, Request> requests_;
};

}  // namespace medallion::roles
