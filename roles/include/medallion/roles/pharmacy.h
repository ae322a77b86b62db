// The pharmacy role (`medallion pharmacy serve`): verifies presented prescriptions and
// dispenses each once, with receipts on the ledger (docs/roles.md).
#pragma once

#include <memory>
#include <string>

#include "medallion/core/env.h"
#include "medallion/core/secret.h"
#include "medallion/core/status.h"
#include "medallion/roles/options.h"
#include "medallion/roles/role.h"
#include "medallion/roles/verifier.h"

namespace medallion::claims {
class ChallengeStore;
class LedgerPort;
}  // namespace medallion::claims
namespace medallion::roles {
struct PharmacyService;
}

namespace medallion::roles {

struct PharmacyOptions {
  std::string dir;  // created 0700
  std::string store, passphrase_file;
  std::string listen = "127.0.0.1:8060";
  std::string domain;  // the origin presentations are bound to (default: the bound URL)
  VerifierOptions verifier;
  TlsFiles tls;
  LedgerClientOptions ledger;  // required (log_key)
};

class PharmacyRole final : public Role {
 public:
  PharmacyRole(PharmacyOptions options, Env env);
  ~PharmacyRole() override;
  // Errors: invalid_argument for unusable options, the wallet's, the ledger client's, the port's.
  Status Start() override;

 private:
  PharmacyOptions options_;
  Env env_;
  SecretBytes pseudonym_secret_;
  std::unique_ptr<claims::LedgerPort> ledger_port_;
  std::unique_ptr<Verifier> verifier_;
  std::unique_ptr<claims::ChallengeStore> challenges_;
  std::unique_ptr<roles::PharmacyService> service_;
};

}  // namespace medallion::roles
