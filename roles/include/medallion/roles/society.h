// The society role (`medallion issuer serve`): a medical society's did:web, JSON-LD context,
// status lists and physician onboarding (docs/credentials.md).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "medallion/core/env.h"
#include "medallion/core/status.h"
#include "medallion/roles/options.h"
#include "medallion/roles/role.h"

namespace medallion::claims {
class Society;
}
namespace medallion::oid4vc {
class Issuer;
}

namespace medallion::roles {

class Verifier;
class SocietyDesk;

// Adds a clerk (`role` "clerk" or "auditor") to the society whose data folder is `dir` and
// returns the one-time setup link "<origin>/#setup=<token>" (as AddPharmacyStaff).
Result<std::string> AddSocietyClerk(const std::string& dir, std::string origin,
                                    const std::string& name, const std::string& role,
                                    const std::string& display_name, Env env);

struct SocietyOptions {
  std::string dir;  // society.db, admin.token; created 0700
  std::string store, passphrase_file;
  std::string directory;  // the licensing directory (JSON file)
  std::string listen = "127.0.0.1:8070";
  std::string public_host = "localhost";  // the host name in the did:web
  std::string admin_token_file;           // created 0600 if missing; default DIR/admin.token
  int64_t status_ttl_ms = 60'000;
  bool review = false;  // onboarding requests wait for a clerk (the desk) instead of issuing
  std::string name = "Medical society";  // shown at the desk
  std::string web_origin;  // the desk's origin (default: the bound URL, as "localhost")
  TlsFiles tls;
  LedgerClientOptions ledger;  // physicians' did:mdl, when ledger.log_key is set
};

class SocietyRole final : public Role {
 public:
  SocietyRole(SocietyOptions options, Env env);
  ~SocietyRole() override;
  // Opens the society, binds (its did:web names the bound port) and serves. Errors: the
  // wallet's, the directory's (invalid_argument if not JSON), the port's, the database's.
  Status Start() override;

 private:
  SocietyOptions options_;
  Env env_;
  std::unique_ptr<claims::Society> society_;
  std::unique_ptr<oid4vc::Issuer> oid4vci_;  // OpenID4VCI (docs/openid4vc.md), DIR/oid4vci.db
  std::unique_ptr<Verifier> verifier_;
  std::unique_ptr<SocietyDesk> desk_;
};

}  // namespace medallion::roles
