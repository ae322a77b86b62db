// The pharmacy role (`medallion pharmacy serve`).
#include "medallion/roles/pharmacy.h"

#include <httplib.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "medallion/claims/presentation.h"
#include "medallion/did/did_key.h"
#include "medallion/http/http.h"
#include "medallion/roles/ledger_client.h"
#include "medallion/roles/pharmacy_http.h"
#include "pharmacy_counter.h"
#include "pharmacy_oid4vp.h"
#include "role_util.h"

namespace medallion::roles {

namespace fs = std::filesystem;

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
  CounterOptions co;
  co.dir = o.dir;
  co.origin = o.web_origin.empty() ? WebOriginFor(url()) : o.web_origin;
  co.tls = !o.tls.cert.empty();
  co.name = o.name;
  MDL_ASSIGN_OR_RETURN(counter_, PharmacyCounter::Open(svc, co, env_));
  PharmacyCounter* counter = counter_.get();
  svc.on_dispensed = [counter](const claims::DispenseResult& r) {
    (void)counter->Record(r, "", "");  // the API's own dispenses: no staff, no counter request
  };
  counter_->RegisterRoutes(http);
  roles::RegisterPharmacyRoutes(http, svc);
  // OpenID4VP (docs/openid4vc.md): its response_uri and request objects at the pharmacy's
  // domain when that is a URL, else at the served URL; requests by pharmacists only (the
  // response dispenses at once, like the counter's dispense).
  const std::string base = svc.config.domain.starts_with("http://") ||
                                   svc.config.domain.starts_with("https://")
                               ? svc.config.domain
                               : url();
  // OID4VP §5.9.3: client_id decentralized_identifier:<its DID>, request objects signed by its
  // key (the receipts' key, an authentication method of its did:key); redirect_uri: on request.
  std::optional<claims::Signer> request_signer;
  if (!o.oid4vp_redirect_uri) request_signer = svc.config.receipt_signer;
  MDL_ASSIGN_OR_RETURN(oid4vp_, PharmacyOid4vp::Open(svc, o.dir + "/oid4vp.db", base, env_,
                                                     std::move(request_signer)));
  // A pharmacist's session, or the pharmacy's automation token (DIR/admin.token, 0600, made at
  // first start) as a Bearer token for scripts: `medallion oid4vp request|outcome --pharmacy`.
  // A bearer token is no ambient credential, so it needs no Origin or CSRF check.
  MDL_ASSIGN_OR_RETURN(std::string admin_token,
                       AdminToken((fs::path(o.dir) / "admin.token").string(), env_));
  oid4vp_->RegisterRoutes(
      http, [counter, admin_token](const httplib::Request& req,
                                   httplib::Response& res) -> std::optional<std::string> {
        const std::string h = req.get_header_value("Authorization");
        if (h.rfind("Bearer ", 0) == 0) {
          if (BearerIs(h, admin_token)) return std::string("admin-token");
          http::SendError(res, 401, "invalid_token", "the pharmacy's admin token does not match");
          return std::nullopt;
        }
        auto info = counter->StaffSession(req, res, {kRolePharmacist});
        if (!info) return std::nullopt;
        return info->account;
      });
  banner_ = {{"role", "pharmacy"},
             {"did", did},
             {"domain", svc.config.domain},
             {"name", o.name},
             {"trusted", o.verifier.trusted},
             {"app", counter_->AppUrl()},
             {"oid4vp",
              {{"client_id", oid4vp_->client_id()},
               {"admin_token_file", (fs::path(o.dir) / "admin.token").string()}}}};
  // No one can sign in yet: a setup link for the first pharmacist (who adds the others).
  MDL_ASSIGN_OR_RETURN(std::optional<std::string> link, counter_->FirstSetupLink());
  if (link) banner_["setup_link"] = *link;
  Serve();
  return Status::Ok();
}

}  // namespace medallion::roles
