// The patient's prescriptions in her browser (docs/web.md §Prescriptions): each
// PrescriptionCredential in her container with its fills used on the ledger and the
// prescriber's license status now; presenting one to a pharmacy from her container (the
// pharmacy's challenge, a presentation signed by her authentication key, her phone's approval
// of a controlled-substance fill, the dispense) with the pharmacy's answer step by step; the
// pharmacy's dispense receipt kept in her container and proven against the ledger.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "medallion/claims/pharmacy.h"
#include "medallion/claims/signer.h"
#include "medallion/core/env.h"
#include "medallion/core/secret.h"
#include "medallion/core/status.h"
#include "medallion/did/resolver.h"

namespace medallion::uma {
class AuthorizationServer;
}
namespace medallion::roles {
class LedgerClient;
}

namespace medallion::roles {

struct PrescriptionDeskOptions {
  std::string holder_did;        // the owner's DID: the presentations' holder
  claims::Signer holder_signer;  // her authentication key; no `sign` function without her wallet
  const did::Resolver* resolver = nullptr;    // her DID's phone key (controlled substances)
  claims::LicenseStatusCheck license_status;  // the prescriber's license now; unset: "unknown"
  // Her seed (borrowed): a prescription kept with its pharmacy copy is presented as that SD-JWT
  // VC, key-bound by her pairwise key, disclosing only what dispensing needs. Null: the full
  // prescription is presented.
  const SecretBytes* seed = nullptr;
};

// An answer for the page: the HTTP status (200, 201 or 202) and the JSON body.
struct DeskAnswer {
  int http = 200;
  nlohmann::json body;
};

class PrescriptionDesk {
 public:
  // `as` and `ledger` (which may be null) outlive the desk.
  PrescriptionDesk(uma::AuthorizationServer& as, std::shared_ptr<roles::LedgerClient> ledger,
                   PrescriptionDeskOptions options, Env env);

  // {"prescriptions": [{"id", "medication", "controlled", "fills_allowed", "fills_used"?,
  // "fills": [{"n", "used", "ledger_index"?}]?, "license": {"status", "detail"?}}],
  // "can_present", "ledger"}. `owner_session` is the owner's session token.
  Result<nlohmann::json> List(const std::string& owner_session);

  // {"credential": <id>, "pharmacy": <base URL>}: the presentation goes to the pharmacy now
  // (200 with the outcome below), or — a controlled substance — her phone is asked first (202
  // {"status": "awaiting_phone", "attempt", "request_id", "expires_in"}). The outcome:
  // {"status": "dispensed", "result", "receipt_id"?} or {"status": "refused", "error",
  // "error_description", "result"}, `result` being the pharmacy's answer with its steps.
  // Errors: invalid_argument (body), not_found (no such prescription), failed_precondition
  // (no wallet, no paired phone), unavailable (the pharmacy cannot be reached).
  Result<DeskAnswer> Present(const std::string& owner_session, const nlohmann::json& body);

  // {"attempt"}: {"status": "pending" | "denied" | "expired"}, or — her phone approved — the
  // dispense's outcome as for Present. An attempt is used once.
  Result<DeskAnswer> Poll(const std::string& owner_session, const nlohmann::json& body);

  // {"refusal"}: tells the prescriber why a pharmacy refused (a refusal the outcome named, once):
  // a claims::RefusalNotice signed by her authentication key, sent to the address her
  // prescriber gave with the prescription. 200 {"told": true, "prescriber"}. Errors: not_found
  // (no such refusal, or told already), failed_precondition (the prescription names no address;
  // no wallet), unavailable (the prescriber's container did not take it: its answer).
  Result<DeskAnswer> Tell(const std::string& owner_session, const nlohmann::json& body);

  // Her dispense receipts, each checked against the ledger (CheckDispenseReceipt):
  // [{"id", "valid", ...}]. An empty array without a ledger.
  Result<nlohmann::json> VerifyDispenseReceipts(const std::string& owner_session);

 private:
  // A presentation in progress: waiting for her phone (request_id), then — at a pharmacy's
  // counter — for the pharmacist (counter_token).
  struct Attempt {
    std::string request_id, pharmacy, credential_id;
    std::string domain;      // the pharmacy's, from its challenge
    std::string prescriber;  // the prescription's issuer
    std::string notices;     // where the prescriber takes notices ("" none)
    std::string counter;        // the counter request's URL ("" for a pharmacy's plain API)
    std::string counter_token;  // set once the counter holds the presentation
    nlohmann::json body;
    nlohmann::json disclosure;
    int64_t expires_at = 0;
    bool done = false;
  };
  Result<nlohmann::json> Credentials(const std::string& owner_session);
  // Sends the presentation (to the counter request, or the pharmacy's dispense endpoint).
  // `attempt_key` "" makes a new attempt when the counter holds it for the pharmacist.
  Result<DeskAnswer> Dispense(const std::string& owner_session, const Attempt& target,
                              const std::string& attempt_key);
  // The pharmacy's final answer (dispensed: her receipt kept; refused) for the page.
  DeskAnswer Outcome(const std::string& owner_session, const nlohmann::json& answer, bool dispensed,
                     const Attempt& attempt);
  Result<DeskAnswer> PollCounter(const std::string& owner_session, const std::string& key,
                                 const Attempt& a);
  nlohmann::json LicenseNow(const nlohmann::json& prescription_vc);

  uma::AuthorizationServer& as_;
  std::shared_ptr<roles::LedgerClient> ledger_;
  PrescriptionDeskOptions options_;
  Env env_;
  std::mutex mu_;
  std::map<std::string, Attempt> attempts_;  // by hex SHA-256 of the attempt token
  // Refusals she may tell her prescriber of, by id (in memory: after a restart the page no
  // longer offers it), kept a day.
  struct Refusal {
    Attempt attempt;
    std::string reason, description;
    int64_t at = 0;
  };
  std::map<std::string, Refusal> refusals_;
};

// A pharmacy's base URL from what the patient typed or scanned: http(s) only, no user info,
// the fragment and a trailing '/' dropped. invalid_argument otherwise.
Result<std::string> PharmacyBaseUrl(const std::string& typed);
// Whether an item of the owner's credential list (ListCredentials) has `type` in its "types".
bool HasType(const nlohmann::json& item, const char* type);
// A license's status now, for a page: {"status": "active"|"suspended"|"revoked"|"unknown",
// "detail"?} ("unknown" without a checker or a license).
nlohmann::json LicenseStatusJson(const claims::LicenseStatusCheck& check,
                                 const nlohmann::json& license);
// The same check for any role's address; errors name it as `what` ("url", "society").
Result<std::string> WebBaseUrl(const std::string& typed, const std::string& what);

// Where to present, from what the patient typed, scanned or opened: a pharmacy's address
// (its challenge endpoint), or a counter's presentation request — its link
// "<pharmacy>/pharmacy/v1/requests/<id>", or the QR code's "web+medallion:present?request=<the
// link, percent-encoded>".
struct PharmacyTarget {
  std::string base;     // the pharmacy's base URL
  std::string request;  // the counter request's URL, or ""
};
Result<PharmacyTarget> ParsePharmacyTarget(const std::string& typed);

}  // namespace medallion::roles
