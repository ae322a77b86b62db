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

namespace medallion::roles {

class Verifier;

struct SocietyOptions {
  std::string dir;  // society.db, admin.token; created 0700
  std::string store, passphrase_file;
  std::string directory;  // the licensing directory (JSON file)
  std::string listen = "127.0.0.1:8070";
  std::string public_host = "localhost";  // the host name in the did:web
  std::string admin_token_file;           // created 0600 if missing; default DIR/admin.token
  int64_t status_ttl_ms = 60'000;
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
  std::unique_ptr<Verifier> verifier_;
};

}  // namespace medallion::roles
