// The society's desk (docs/web.md §"The society's desk"): clerks in the browser (accounts with
// passkeys: clerks act, auditors look), the directory of licensed physicians (imported from CSV
// or JSON, every bad line listed), onboarding requests waiting for a decision (issuer serve
// --review), issued licenses with their status and the reasons of each change, revoke /
// suspend / reinstate with a confirmation and a reason, and the status lists' state.
#pragma once

#include <httplib.h>

#include <memory>
#include <optional>
#include <string>

#include "medallion/core/env.h"
#include "medallion/core/status.h"
#include "staff_web.h"

namespace medallion::claims {
class Society;
}

namespace medallion::roles {

inline constexpr char kRoleClerk[] = "clerk";      // imports, decides, revokes, adds clerks
inline constexpr char kRoleAuditor[] = "auditor";  // reads everything, changes nothing

struct DeskOptions {
  std::string dir;
  std::string origin;
  bool tls = false;
  std::string name = "Medical society";
};

class SocietyDesk {
 public:
  // `society` outlives the desk.
  static Result<std::unique_ptr<SocietyDesk>> Open(claims::Society& society, DeskOptions options,
                                                   Env env);
  void RegisterRoutes(httplib::Server& server);
  Result<std::optional<std::string>> FirstSetupLink() { return staff_->FirstSetupLink(); }
  std::string AppUrl() const { return staff_->AppUrl(); }

 private:
  SocietyDesk(claims::Society& society, DeskOptions options, Env env)
      : society_(society), options_(std::move(options)), env_(env) {}
  claims::Society& society_;
  DeskOptions options_;
  Env env_;
  std::unique_ptr<StaffWeb> staff_;
};

}  // namespace medallion::roles
