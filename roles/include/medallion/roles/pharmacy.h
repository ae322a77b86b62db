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
class PharmacyCounter;
class PharmacyOid4vp;
}

namespace medallion::roles {

struct PharmacyOptions {
  std::string dir;  // created 0700
  std::string store, passphrase_file;
  std::string listen = "127.0.0.1:8060";
  std::string domain;  // the origin presentations are bound to (default: the bound URL)
  std::string name = "Pharmacy";  // shown at the counter and to patients' containers
  std::string web_origin;  // the counter app's origin (default: the bound URL, as "localhost")
  // OpenID4VP requests (docs/openid4vc.md): client_id "decentralized_identifier:" + the
  // pharmacy's DID with request objects signed by its key (OID4VP §5.9.3), or, with this set,
  // "redirect_uri:" + its response_uri with unsigned ones (for wallets that cannot resolve it).
  bool oid4vp_redirect_uri = false;
  VerifierOptions verifier;
  TlsFiles tls;
  LedgerClientOptions ledger;  // required (log_key)
};

// Adds a staff account (`role` "pharmacist" or "technician") to the pharmacy whose data folder
// is `dir`, while it runs or not, and returns the account's one-time setup link
// "<origin>/#setup=<token>" (10 minutes). `origin` "" is the counter's origin as its last start
// recorded it (DIR/web.origin). Errors: invalid_argument (name, role, no origin),
// already_exists.
Result<std::string> AddPharmacyStaff(const std::string& dir, std::string origin,
                                     const std::string& name, const std::string& role,
                                     const std::string& display_name, Env env);

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
  std::unique_ptr<PharmacyCounter> counter_;
  std::unique_ptr<PharmacyOid4vp> oid4vp_;  // the OpenID4VP verifier (pharmacy_oid4vp.h)
};

}  // namespace medallion::roles
