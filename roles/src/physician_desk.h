// The physician's workspace (docs/web.md §"The physician's workspace"): her own container,
// served with the physician's app, running the prescription flow for her (roles/flow.h): her
// license (onboarding at a society, its live status), her patients (the UMA grant as a client
// with her DID and license, and where each stands), a patient's record as far as the grant
// allows, prescribing from a coded medication list (FHIR R4 MedicationRequest +
// PrescriptionCredential, her phone's co-signature for a controlled substance, the postmark,
// kept, delivered to the patient's inbox, the relationship opened), and her prescriptions with
// their fills on the ledger and the postmark proven.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "medallion/claims/pharmacy.h"
#include "medallion/core/env.h"
#include "medallion/core/secret.h"
#include "medallion/core/status.h"
#include "medallion/did/resolver.h"
#include "medallion/oid4vc/issuer.h"
#include "medallion/roles/flow.h"
#include "physician_notices.h"
#include "web_rx.h"

namespace medallion::uma {
class AuthorizationServer;
}
namespace medallion::roles {
class LedgerClient;
}

namespace medallion::roles {

struct PhysicianDeskOptions {
  std::string did;                      // hers
  const SecretBytes* seed = nullptr;    // her wallet's seed (borrowed); null: nothing to sign
  const did::Resolver* resolver = nullptr;    // her DID's phone key
  claims::LicenseStatusCheck license_status;  // her license now
  std::string medications_json;               // the coded list (web/apps/physician/data)
  // Where her patients' containers tell her of a refusal ("<origin><base>/rx/v1/notices"),
  // given with each prescription she delivers; "" gives none.
  std::string notices_url;
};

class PhysicianDesk {
 public:
  // `notices` (may be null: no refusal reaches her) keeps what she delivered and the refusals.
  PhysicianDesk(uma::AuthorizationServer& as, std::shared_ptr<LedgerClient> ledger,
                PhysicianDeskOptions options, std::unique_ptr<PrescriberNotices> notices,
                Env env);

  // GET state: {"did", "license": null | {...}, "onboarding"?, "phone", "can_sign", "ledger"}.
  Result<DeskAnswer> State(const std::string& owner);
  // POST onboard {"society", "license_number", "name"}; poll {}.
  Result<DeskAnswer> Onboard(const std::string& owner, const nlohmann::json& body);
  Result<DeskAnswer> OnboardPoll(const std::string& owner);
  // Patients: {"patients": [...]}; connect {"url"}; poll one; her records of a type.
  Result<DeskAnswer> Patients();
  Result<DeskAnswer> Connect(const std::string& owner, const nlohmann::json& body);
  Result<DeskAnswer> PollPatient(const std::string& owner, const std::string& id);
  Result<DeskAnswer> Records(const std::string& owner, const std::string& id,
                             const std::string& type);
  // Writes a prescription's MedicationRequest into the patient's record (UMA create).
  Result<DeskAnswer> WriteRecord(const std::string& owner, const std::string& id,
                                 const nlohmann::json& body);
  // Prescribe {"patient", "rxcui", "instructions", "quantity", "refills", "substitution",
  // "pseudonym"?}; poll a prescription in progress; her prescriptions.
  Result<DeskAnswer> Prescribe(const std::string& owner, const nlohmann::json& body);
  Result<DeskAnswer> PollPrescription(const std::string& owner, const std::string& id);
  Result<DeskAnswer> Prescriptions(const std::string& owner);
  // POST /rx/v1/notices {"notice": <did-auth+jwt>}, from a patient's container, no session:
  // the notice (claims::VerifyRefusalNotice) must be addressed to her and signed by the
  // patient of a prescription this workspace delivered. 202 {"received": true, "new"}.
  Result<DeskAnswer> ReceiveNotice(const nlohmann::json& body);

  // OpenID4VCI (docs/openid4vc.md "The physician's container as an issuer"): her container
  // issues her prescriptions' pharmacy copies to the patient's wallet — her container or any
  // conformant one. Opens the issuer's state at `db_path` (SQLite) with the Credential Issuer
  // Identifier `credential_issuer` (the container's origin and base path) and the
  // PrescriptionCredential configuration; the credentials are signed with her assertion key.
  // Errors: failed_precondition (no wallet: nothing to sign with), the issuer's.
  Status EnableOid4vci(const std::string& db_path, const std::string& credential_issuer);
  oid4vc::Issuer* oid4vci() { return oid4vci_.get(); }
  // POST prescriptions/<id>/offer: a Credential Offer (pre-authorized code + tx_code) for a
  // delivered prescription → 201 {"prescription", "offer_uri", "offer_uri_by_reference",
  // "tx_code" (to tell the patient by another channel), "expires", "credential_offer"}.
  // Errors: not_found, failed_precondition (not delivered; a controlled substance without its
  // pharmacy copy; no issuer).
  Result<DeskAnswer> OfferPrescription(const std::string& owner, const std::string& id);
  // The same for a prescription she signed and delivered, given whole (the command line's
  // `medallion oid4vci offer --prescription`, through POST /owner/v1/oid4vci/offers):
  // {"prescription": <PrescriptionCredential>, "pharmacy_copy"?: {"sd_jwt", "cosignature"?}}.
  // The copy, when given, must be hers, of this prescription, bound to a key (the patient's
  // pseudonym). Errors: invalid_argument, failed_precondition.
  Result<DeskAnswer> OfferDelivered(const std::string& owner, const nlohmann::json& body);

 private:
  struct Patient {
    std::string id, url, did, name;
    flow::UmaClient uma;
    std::string status = "connecting";  // need_info | request_submitted | granted | denied | error
    std::string ticket, detail;
    nlohmann::json scopes = nlohmann::json::array();
    int64_t expires = 0, connected_at = 0;
  };
  struct Job {
    std::string id, patient_id, patient_did, patient_url, pseudonym, medication;
    nlohmann::json vc, steps = nlohmann::json::array(), request;
    std::string cosign_approval, sd_jwt, sd_cosign_approval;
    nlohmann::json sd_cosignature;  // the phone's co-signature of sd_jwt (controlled), once made
    std::string write_ticket;  // writing it into her record waits for her approval
    std::string status = "signing";  // awaiting_cosign | delivered | failed
    int64_t created = 0;
  };
  Result<flow::Party> Me() const;
  Result<nlohmann::json> License(const std::string& owner);
  nlohmann::json PatientJson(const Patient& p) const;
  void Absorb(Patient& p, const flow::Answer& a);
  Result<nlohmann::json> Medication(const std::string& rxcui) const;
  Result<DeskAnswer> Continue(const std::string& owner, Job& job);
  nlohmann::json JobJson(const Job& j) const;
  // The credential endpoint's call (oid4vc::CredentialConfiguration::issue) for a proven key.
  Result<oid4vc::IssuedCredential> IssueToWallet(const oid4vc::IssueRequest& request);
  // Its deterministic refusals (CredentialConfiguration::precheck), checked before the access
  // token is spent: a controlled substance for a key other than the pseudonym.
  static Status CheckWalletKey(const oid4vc::IssueRequest& request);

  uma::AuthorizationServer& as_;
  std::shared_ptr<LedgerClient> ledger_;
  PhysicianDeskOptions options_;
  std::unique_ptr<PrescriberNotices> notices_;
  Env env_;
  nlohmann::json medications_;
  std::mutex mu_;
  std::map<std::string, Patient> patients_;
  std::map<std::string, Job> jobs_;
  std::string onboarding_society_, onboarding_request_;
  std::unique_ptr<oid4vc::Issuer> oid4vci_;  // EnableOid4vci; calls IssueToWallet
};

}  // namespace medallion::roles
