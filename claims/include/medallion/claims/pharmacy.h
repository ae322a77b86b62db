// The pharmacy's verification pipeline (docs/credentials.md §"Pharmacy verification"):
// holder binding → prescription proofs → issuer DID resolution → license proof → license
// status → schedule covered → postmark inclusion → remaining fills → dispense record →
// signed receipt. One function, a structured result, a reason code for every failure.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "medallion/claims/presentation.h"
#include "medallion/claims/signer.h"
#include "medallion/claims/status_list.h"
#include "medallion/core/env.h"
#include "medallion/core/secret.h"
#include "medallion/did/resolver.h"
#include "medallion/ledger/entry.h"
#include "medallion/ledger/log.h"

namespace medallion::claims {

// Reason codes (stable strings; "ok" on success).
namespace rx_reason {
inline constexpr char kOk[] = "ok";
inline constexpr char kMalformed[] = "presentation_malformed";
inline constexpr char kHolderBinding[] = "holder_binding_failed";
inline constexpr char kChallenge[] = "challenge_refused";
inline constexpr char kNotPrescription[] = "not_a_prescription";
inline constexpr char kPrescriptionExpired[] = "prescription_expired";
inline constexpr char kPrescriptionProof[] = "prescription_proof_invalid";
inline constexpr char kPhoneProofMissing[] = "controlled_substance_phone_proof_missing";
inline constexpr char kIssuerUnresolved[] = "issuer_unresolved";
inline constexpr char kLicenseProof[] = "license_proof_invalid";
inline constexpr char kLicenseIssuerUntrusted[] = "license_issuer_untrusted";
inline constexpr char kLicenseNotPrescriber[] = "license_not_for_prescriber";
inline constexpr char kLicenseMalformed[] = "license_malformed";  // not a MedicalLicenseCredential
inline constexpr char kLicenseNotYetValid[] = "license_not_yet_valid";
inline constexpr char kLicenseExpired[] = "license_expired";
inline constexpr char kLicenseRevoked[] = "license_revoked";
inline constexpr char kLicenseSuspended[] = "license_suspended";
inline constexpr char kLicenseStatusUnavailable[] = "license_status_unavailable";
inline constexpr char kScheduleNotCovered[] = "schedule_not_covered";
inline constexpr char kPostmarkMissing[] = "postmark_missing";
inline constexpr char kPostmarkInvalid[] = "postmark_invalid";
inline constexpr char kAlreadyDispensed[] = "already_dispensed";
inline constexpr char kDispensedElsewhere[] = "dispensed_elsewhere";
inline constexpr char kLedgerUnavailable[] = "ledger_unavailable";
inline constexpr char kPatientApprovalMissing[] = "controlled_substance_patient_approval_missing";
}  // namespace rx_reason

// What the pipeline needs from the ledger. Implementations verify everything they return
// against a checkpoint that satisfies their witness policy (roles::LedgerClient does).
class LedgerPort {
 public:
  virtual ~LedgerPort() = default;
  struct Record {
    uint64_t index = 0;
    std::string entry;  // canonical JSON, inclusion proven
  };
  // Entries indexed under `key`, in ledger order, each proven included.
  virtual Result<std::vector<Record>> Find(const ledger::EntryKey& key) = 0;
  // Appends an entry; returns its index once durable (already_exists for a used nullifier).
  virtual Result<ledger::AppendResult> Append(const nlohmann::json& entry) = 0;
  // The checkpoint note the proofs were checked against (for the receipt).
  virtual std::string TrustedCheckpoint() = 0;
};

// License status: OK if active; failed_precondition with reason rx_reason::kLicenseRevoked or
// kLicenseSuspended (a failed_precondition without a reason counts as revoked); unavailable if
// it cannot be determined (the status list could not be fetched or verified).
using LicenseStatusCheck = std::function<Status(const nlohmann::json& license_vc)>;

// License status through Bitstring Status Lists: every entry of the license's
// credentialStatus is checked with `checker` (which fetches, verifies and caches the lists).
// A set revocation bit is failed_precondition "revoked (<list url>)" with reason
// license_revoked, a set suspension bit "suspended (...)" with reason license_suspended; a
// license without a status entry, or a list that cannot be fetched or verified, is unavailable
// (reason license_status_unavailable). `checker` must outlive the returned function.
LicenseStatusCheck MakeLicenseStatusCheck(StatusChecker& checker);

// A license as an SD-JWT VC (the society's OpenID4VCI dc+sd-jwt credential) carries the W3C
// license's Bitstring Status List entries in its "status" claim (SD-JWT VC §3.2.2.2) under this
// mechanism's name: {"status": {"bitstring_status_list": <credentialStatus>}}.
inline constexpr char kBitstringStatusMechanism[] = "bitstring_status_list";
// The status of such a license, its processed payload given: `check` (MakeLicenseStatusCheck)
// on those entries; a payload without them is unavailable (license_status_unavailable), as a
// W3C license without credentialStatus is.
Status SdJwtLicenseStatus(const LicenseStatusCheck& check, const nlohmann::json& sd_jwt_payload);

struct PharmacyConfig {
  std::string pharmacy_did;
  std::string domain;                                // the verifier's origin for challenges
  Signer receipt_signer;                             // the pharmacy's assertion key
  std::vector<std::string> trusted_license_issuers;  // medical societies (DIDs)
  const SecretBytes* pseudonym_secret =
      nullptr;  // 32 bytes: derives the pharmacy's per-prescription pseudonyms
  int64_t max_clock_skew = 300;
};

struct HeldDispense;

struct StepResult {
  std::string step;
  bool ok = false;
  std::string detail;
};

struct DispenseResult {
  std::string reason = rx_reason::kOk;  // rx_reason::*
  std::string detail;
  std::vector<StepResult> steps;
  uint32_t fill = 0;  // 1-based fill number dispensed
  uint32_t fills_allowed = 0;
  uint64_t dispense_index = 0;      // ledger index of the dispense record
  std::string prescription_digest;  // hex
  std::string receipt_json;         // the signed receipt (a DispenseReceipt credential), JSON text
  std::vector<std::string>
      disclosed;  // SD-JWT VC: JSON Pointers of the claims the patient revealed
  // What the presentation showed (for the counter's screen): the medication in words, the
  // quantity, the prescriber's DID, the schedule ("" if none) and the holder ("" if not
  // disclosed).
  std::string medication, prescriber, schedule, holder;
  int64_t quantity = 0;
  // Set when verified with `hold`: every check passed and nothing was written; `fill` is the
  // fill a CommitHeldDispense would dispense.
  std::shared_ptr<const HeldDispense> held;
  bool ok() const { return reason == rx_reason::kOk; }
  nlohmann::json ToJson() const;
};

// Nullifier of fill `n` (0-based) of a prescription: HMAC-SHA-256 keyed with a key derived
// from the prescription's canonical bytes, so only holders of the prescription can compute it
// and the ledger learns nothing about patient, drug or pharmacy (hex).
Result<std::string> DispenseNullifier(const nlohmann::json& prescription_vc, uint32_t n);

// Runs the whole pipeline on a presentation and, if everything holds, dispenses the next fill:
// appends the dispense record and returns the signed receipt. `approval_check`, if set, is
// called for controlled substances to confirm the patient's phone approved this fill (returns
// OK or permission_denied). Nothing is written unless every check passed. With `hold`, nothing
// is written at all: the checks' result comes back with `held` set, for a pharmacist to
// dispense (CommitHeldDispense) or not.
DispenseResult VerifyAndDispense(
    const nlohmann::json& presentation, const PharmacyConfig& config, const did::Resolver& resolver,
    ChallengeStore& challenges, LedgerPort& ledger, const LicenseStatusCheck& license_status,
    const std::function<Status(const nlohmann::json& prescription)>& approval_check, Env env,
    bool hold = false);

// Dispenses a held presentation: the license's status is checked again (it may have changed
// since), then the dispense record (a fill used meanwhile, here or elsewhere, is
// already_dispensed: the ledger refuses a used nullifier) and the signed receipt. The result's
// steps are the held ones plus these.
DispenseResult CommitHeldDispense(const HeldDispense& held, const PharmacyConfig& config,
                                  const did::Resolver& resolver, LedgerPort& ledger,
                                  const LicenseStatusCheck& license_status, Env env);

// The patient's phone approval of a controlled-substance fill (docs/mobile-bridge.md): a
// did-auth+jwt whose signer is the prescription's subject (the patient) and whose key is her
// DID's device key — a method listed under both authentication and assertionMethod — with
// aud = the pharmacy's domain and the claim "prescription" = the hex digest of the
// prescription credential (CredentialDigest). OK, or permission_denied naming what failed.
Status VerifyFillAuthorization(std::string_view token, const nlohmann::json& prescription_vc,
                               const std::string& pharmacy_domain, const did::Resolver& resolver,
                               int64_t now);

// --- A refusal told to the prescriber (docs/web.md §"A refusal reaches the prescriber") ---

// The patient's word to her prescriber that a pharmacy refused her prescription: a
// did-auth+jwt signed by her authentication key, sub = iss = her DID, aud = the prescriber's
// DID, iat, exp (at most kRefusalNoticeMaxTtl after iat), jti, "prescription" = the hex
// CredentialDigest of the PrescriptionCredential, "refusal" = {"pharmacy", "reason",
// "description", "at"}. It is her report of what the pharmacy answered (pharmacies do not sign
// refusals), and it tells the prescriber nothing a pharmacy saw that she did not.
struct RefusalNotice {
  std::string patient;       // sub: the prescription's subject
  std::string prescriber;    // aud
  std::string prescription;  // hex CredentialDigest
  std::string pharmacy;      // the pharmacy's domain (its challenge's), as she presented to it
  std::string reason;        // the pharmacy's reason code ("already_dispensed", ...)
  std::string description;   // its words, at most kRefusalDescriptionMax bytes
  int64_t refused_at = 0;    // POSIX seconds
  std::string id;            // jti
};
inline constexpr int64_t kRefusalNoticeMaxTtl = 3600;
inline constexpr size_t kRefusalDescriptionMax = 1000;

// Signs `notice` (its `id` and `patient` must be set; `patient` is the signer's DID) valid from
// `now` for 10 minutes. Errors: invalid_argument for a field missing or too long; the signer's.
Result<std::string> SignRefusalNotice(const RefusalNotice& notice, const Signer& patient,
                                      int64_t now);

// Checks a notice addressed to `prescriber_did`: the JWS (VerifyJwt, authentication key of its
// `sub`), aud, iat/exp present with exp - iat <= kRefusalNoticeMaxTtl, the fields' shapes and
// sizes, and that its signer is the subject of the prescription it names — `subject_of` maps
// a prescription digest to its subject's DID (not_found: not one of the prescriber's). Errors:
// invalid_argument (malformed), permission_denied (audience, signer, not the prescription's
// patient), not_found (no such prescription), failed_precondition (expired), the resolver's.
Result<RefusalNotice> VerifyRefusalNotice(
    std::string_view token, const std::string& prescriber_did, const did::Resolver& resolver,
    const std::function<Result<std::string>(const std::string& digest_hex)>& subject_of,
    int64_t now);

// --- Minimal disclosure: the prescription as an SD-JWT VC (docs/credentials.md) ---

// `vct` of the pharmacy copy of a prescription, and the `aud` of the prescriber's phone
// co-signature over it.
inline constexpr char kPrescriptionVct[] =
    "https://w3id.org/medallion/credentials/v1/PrescriptionCredential";
inline constexpr char kCosignAudience[] = "medallion:prescription-cosign";

// The pharmacy copy of a PrescriptionCredential (Data Integrity form, checked), signed by the
// prescriber's assertion key as an SD-JWT VC bound to the patient's `holder_pseudonym` (her
// pairwise key for this physician, base64url Ed25519, as in relationships): `iss`, `jti` (the
// credential's id: the nullifier input), `exp` = `valid_until`, `prescription` (FHIR),
// `controlledSubstanceSchedule`, `license` (the secured license credential) always disclosed;
// `sub` (the patient's DID) and the MedicationRequest's subject, requester, authoredOn,
// dosageInstruction, id, meta, note, reasonCode, identifier and encounter selectively
// disclosable, with decoys. Errors: invalid_argument; the signer's.
Result<std::string> IssuePrescriptionSdJwt(const nlohmann::json& prescription_vc,
                                           const Signer& prescriber,
                                           const std::string& holder_pseudonym, int64_t valid_until,
                                           const Env& env);
// What a patient reveals at a pharmacy, as JSON Pointers into the holder's view: "/sub" for a
// controlled substance (her phone's fill approval is checked against her DID), else nothing.
std::vector<std::string> PharmacyReveal(const nlohmann::json& holder_payload);
// The SD-JWT's digest: hex SHA-256 of its issuer-signed JWT (the text before the first "~").
// The postmark, and the subject of the phone co-signature and of the fill authorization.
std::string SdJwtDigest(std::string_view sd_jwt);

struct SdJwtDispenseRequest {
  std::string presentation;        // SD-JWT+KB, the KB-JWT for the pharmacy's challenge and domain
  std::string cosignature;         // controlled: did-auth+jwt by the prescriber's device key
  std::string fill_authorization;  // controlled: did-auth+jwt by the patient's device key
};
// The pipeline for an SD-JWT VC presentation: the challenge (the KB-JWT's nonce, consumed
// once), the postmark of SdJwtDigest, VerifySdJwt (issuer signature as of the postmark, the
// disclosures, KB-JWT with aud = the domain, nonce, sd_hash, freshness), the prescription's
// disclosed shape, the issuer's DID, for a controlled substance the co-signature (aud
// kCosignAudience, `prescription` = the digest, by a key under both authentication and
// assertionMethod, valid at the postmark's time), then the same checks and dispense as
// VerifyAndDispense. `disclosed` lists what the patient revealed.
DispenseResult VerifyAndDispenseSdJwt(const SdJwtDispenseRequest& request,
                                      const PharmacyConfig& config, const did::Resolver& resolver,
                                      ChallengeStore& challenges, LedgerPort& ledger,
                                      const LicenseStatusCheck& license_status, Env env,
                                      bool hold = false);
// VerifyFillAuthorization for a patient DID and a prescription digest (hex) given directly.
Status VerifyFillAuthorizationFor(std::string_view token, const std::string& patient_did,
                                  const std::string& digest_hex, const std::string& pharmacy_domain,
                                  const did::Resolver& resolver, int64_t now);

// A LedgerPort over an in-process Log (the ledger node itself, tests): entries are read from
// the log's committed state; appends wait for durability.
std::unique_ptr<LedgerPort> MakeInProcessLedgerPort(ledger::Log* log);

}  // namespace medallion::claims
