// Verifiable Credentials Data Model 2.0 checks and Medallion's two credential types:
// MedicalLicenseCredential (a medical society vouches for a physician) and
// PrescriptionCredential (a physician's FHIR R4 MedicationRequest for a patient).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "medallion/core/hash.h"
#include "medallion/core/status.h"

namespace medallion {
class Rng;
}

namespace medallion::claims {

inline constexpr char kVcContextV2[] = "https://www.w3.org/ns/credentials/v2";
// Medallion's JSON-LD context (claims/src/context.cpp; docs/credentials.md).
inline constexpr char kMedallionContext[] = "https://w3id.org/medallion/credentials/v1";
const std::string& MedallionContextDocument();

// Reason codes of CheckCredential and the credential-type checks (Status::reason()).
namespace vc_reason {
inline constexpr char kMalformed[] = "vc_malformed";
inline constexpr char kNotYetValid[] = "vc_not_yet_valid";
inline constexpr char kExpired[] = "vc_expired";
inline constexpr char kFhir[] = "fhir";
}  // namespace vc_reason

// VC Data Model 2.0 §4 basic checks of a credential: @context starts with the v2 context
// (and every other context is one we know: offline verifiers never fetch contexts), `type`
// includes VerifiableCredential, `issuer` is a URL/DID (or an object with one as `id`),
// `credentialSubject` is an object or array of objects, validFrom/validUntil are XML
// datetimes in order. With `now` (POSIX seconds, 0: skip) also the validity period, with
// `skew` seconds of tolerance. Errors: invalid_argument "vc_malformed: ...", or
// failed_precondition "vc_expired: ..." / "vc_not_yet_valid: ...".
Status CheckCredential(const nlohmann::json& vc, int64_t now = 0, int64_t skew = 300);
// The issuer DID of a credential ("" if malformed).
std::string IssuerOf(const nlohmann::json& vc);

// A fresh credential `id`: a random (version 4) UUID as a URN in RFC 9562 form (§4, §5.4;
// RFC 9562 §4 "hexadecimal ... lowercase"), "urn:uuid:xxxxxxxx-xxxx-4xxx-Yxxx-xxxxxxxxxxxx" with
// Y in 8, 9, a, b (variant 10xx), from 122 random bits of `rng`. Thread-safe if `rng` is.
std::string NewCredentialId(Rng& rng);

// Controlled-substance schedules (US CSA): "II", "III", "IV", "V" ("I" is never prescribable).
bool IsSchedule(const std::string& s);

struct LicenseClaims {
  std::string physician_did;
  std::string license_number;
  std::string jurisdiction;             // e.g. "US-MA"
  std::string license_type;             // e.g. "MD", "DO"
  std::string specialty;                // e.g. "Internal Medicine"
  std::vector<std::string> schedules;   // controlled-substance schedules the license covers
  std::string valid_from, valid_until;  // XML datetimes
  std::string name;  // the physician's name as the society's directory holds it ("": left out)
};

// An unsecured MedicalLicenseCredential (secure it with a Data Integrity proof).
// `status_entries` are BitstringStatusListEntry objects (revocation, suspension).
Result<nlohmann::json> BuildLicenseCredential(const std::string& id, const std::string& issuer_did,
                                              const LicenseClaims& claims,
                                              const nlohmann::json& status_entries);
// Checks the license-specific shape (subject fields, schedules). invalid_argument.
Status CheckLicenseCredential(const nlohmann::json& vc);

// FHIR R4 MedicationRequest (hl7.org/fhir/R4/medicationrequest.html) as Medallion's
// prescription profile requires it: resourceType, status (R4 value set), intent (R4 value
// set; "order" for a prescription), medicationCodeableConcept with an RxNorm coding, subject
// and requester references, authoredOn, at least one dosageInstruction, dispenseRequest with a
// positive quantity and numberOfRepeatsAllowed >= 0. invalid_argument naming the element.
Status CheckMedicationRequest(const nlohmann::json& request);

struct PrescriptionClaims {
  std::string patient_did;
  std::string prescriber_did;
  nlohmann::json* medication_request = nullptr;  // FHIR R4 MedicationRequest (not owned)
  std::string schedule;                          // "" for a non-controlled drug, else "II".."V"
  const nlohmann::json* license_credential =
      nullptr;  // the prescriber's secured license VC (not owned)
  std::string valid_from, valid_until;
};

// An unsecured PrescriptionCredential: subject = patient, the MedicationRequest, the
// schedule, and the license as evidence (embedded, with its SHA-256 digest over JCS).
Result<nlohmann::json> BuildPrescriptionCredential(const std::string& id,
                                                   const PrescriptionClaims& claims);
// Checks the prescription-specific shape, including the MedicationRequest and that the
// evidence digest matches the embedded license. invalid_argument.
Status CheckPrescriptionCredential(const nlohmann::json& vc);

// Number of fills a prescription allows: 1 + dispenseRequest.numberOfRepeatsAllowed.
// invalid_argument: not a prescription, or numberOfRepeatsAllowed not an integer 0..99.
Result<uint32_t> AllowedFills(const nlohmann::json& prescription_vc);

// SHA-256 over the JCS form of a (secured) credential: the "digital postmark" anchored on the
// ledger, and the key of everything that refers to the credential.
Result<Hash256> CredentialDigest(const nlohmann::json& vc);

}  // namespace medallion::claims
