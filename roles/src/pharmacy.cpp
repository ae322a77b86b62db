// The pharmacy role (`medallion pharmacy serve`).
#include "medallion/roles/pharmacy.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "medallion/claims/presentation.h"
#include "medallion/did/did_key.h"
#include "medallion/roles/ledger_client.h"
#include "medallion/roles/pharmacy_http.h"
#include "role_util.h"

namespace medallion::roles {

PharmacyRole::PharmacyRole(PharmacyOptions options, Env env)
    : options_(std::move(options)), env_(env) {}

PharmacyRole::~PharmacyRole() { Stop(); }

Status PharmacyRole::Start() {
  const PharmacyOptions& o = options_;
  MDL_RETURN_IF_ERROR(PrepareDir(o.dir));
  MDL_RETURN_IF_ERROR(o.verifier.Check());
  MDL_ASSIGN_OR_RETURN(RoleKeys keys,
                       UnlockRole(o.store, o.passphrase_file, "medallion pharmacy pseudonyms"));
  pseudonym_secret_ = std::move(keys.derived);
  MDL_ASSIGN_OR_RETURN(roles::LedgerClient client, o.ledger.MakeClient());
  auto ledger_client = std::make_shared<roles::LedgerClient>(std::move(client));
  ledger_port_ = roles::MakeLedgerPort(ledger_client);
  verifier_ = std::make_unique<Verifier>(o.verifier, ledger_client);
  const std::string multikey =
      *did::MultikeyFromPublicKey(did::KeyType::kEd25519, keys.auth->public_key);
  const std::string did = "did:key:" + multikey;

  MDL_ASSIGN_OR_RETURN(std::unique_ptr<httplib::Server> made, MakeServer(o.tls));
  httplib::Server& http = *made;
  MDL_RETURN_IF_ERROR(Bind(std::move(made), o.listen));
  challenges_ = std::make_unique<claims::ChallengeStore>(env_);
  service_ = std::make_unique<roles::PharmacyService>();
  roles::PharmacyService& svc = *service_;
  svc.config.pharmacy_did = did;
  svc.config.domain = o.domain.empty() ? url() : o.domain;
  svc.config.receipt_signer = claims::WalletSigner(keys.auth, did + "#" + multikey);
  svc.config.trusted_license_issuers = o.verifier.trusted;
  svc.config.pseudonym_secret = &pseudonym_secret_;
  svc.resolver = &verifier_->resolver();
  svc.challenges = challenges_.get();
  svc.ledger = ledger_port_.get();
  svc.license_status = verifier_->LicenseStatus();
  svc.env = env_;
  roles::RegisterPharmacyRoutes(http, svc);
  banner_ = {{"role", "pharmacy"},
             {"did", did},
             {"domain", svc.config.domain},
             {"trusted", o.verifier.trusted}};
  Serve();
  return Status::Ok();
}

}  // namespace medallion::roles
