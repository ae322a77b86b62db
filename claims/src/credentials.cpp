// VC Data Model 2.0 checks, MedicalLicenseCredential and PrescriptionCredential
// (FHIR R4 MedicationRequest), and the credential digest used as the ledger postmark.
#include "medallion/claims/credentials.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <ctime>

#include "medallion/core/json.h"
#include "medallion/core/encoding.h"
#include "medallion/core/env.h"
#include "medallion/core/jcs.h"
#include "medallion/did/document.h"

namespace medallion::claims {
namespace {

using nlohmann::json;

constexpr char kRxNormSystem[] = "http://www.nlm.nih.gov/research/umls/rxnorm";

Status Malformed(const std::string& what) {
  return Status::WithReason(StatusCode::kInvalidArgument, vc_reason::kMalformed, what);
}

// XML Schema dateTime in UTC as VC DM 2.0 §4.9 uses it ("2026-01-01T00:00:00Z"); returns
// POSIX seconds or nullopt.
std::optional<int64_t> ParseDateTime(const std::string& s) {
  std::tm tm{};
  const char* end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == nullptr) return std::nullopt;
  std::string rest(end);
  if (!rest.empty() && rest[0] == '.') {
    size_t i = 1;
    while (i < rest.size() && std::isdigit(static_cast<unsigned char>(rest[i]))) ++i;
    if (i == 1) return std::nullopt;
    rest = rest.substr(i);
  }
  if (rest != "Z") return std::nullopt;
  return static_cast<int64_t>(timegm(&tm));
}

bool HasType(const json& j, const std::string& type) {
  auto it = j.find("type");
  if (it == j.end()) return false;
  if (it->is_string()) return *it == type;
  if (!it->is_array()) return false;
  return std::any_of(it->begin(), it->end(), [&](const json& t) { return t == type; });
}

bool IsNonEmptyString(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() && !it->get<std::string>().empty();
}

const json* Subject(const json& vc) {
  auto it = vc.find("credentialSubject");
  if (it == vc.end()) return nullptr;
  if (it->is_object()) return &*it;
  if (it->is_array() && it->size() == 1 && (*it)[0].is_object()) return &(*it)[0];
  return nullptr;
}

// FHIR R4 value sets (medicationrequest-status, medicationrequest-intent).
const std::vector<std::string> kStatuses = {"active",           "on-hold", "cancelled", "completed",
                                            "entered-in-error", "stopped", "draft",     "unknown"};
const std::vector<std::string> kIntents = {"proposal",       "plan",         "order",
                                           "original-order", "reflex-order", "filler-order",
                                           "instance-order", "option"};

Status Fhir(const std::string& what) {
  return Status::WithReason(StatusCode::kInvalidArgument, vc_reason::kFhir,
                            "MedicationRequest." + what);
}

// FHIR R4 Reference (§2.3.0): a literal reference, or a logical one by identifier (a
// prescription names its patient and prescriber by their DIDs: system urn:ietf:rfc:3986).
bool IsReference(const json& j) {
  if (!j.is_object()) return false;
  if (j.contains("reference") && j["reference"].is_string() &&
      !j["reference"].get<std::string>().empty())
    return true;
  auto id = j.find("identifier");
  return id != j.end() && id->is_object() && id->contains("value") && (*id)["value"].is_string() &&
         !(*id)["value"].get<std::string>().empty();
}

}  // namespace

bool IsSchedule(const std::string& s) { return s == "II" || s == "III" || s == "IV" || s == "V"; }

std::string IssuerOf(const json& vc) {
  auto it = vc.find("issuer");
  if (it == vc.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("id") && (*it)["id"].is_string())
    return (*it)["id"].get<std::string>();
  return "";
}

Status CheckCredential(const json& vc, int64_t now, int64_t skew) {
  if (!vc.is_object()) return Malformed("a credential is a JSON object");
  auto ctx = vc.find("@context");
  if (ctx == vc.end() || !ctx->is_array() || ctx->empty() || (*ctx)[0] != kVcContextV2) {
    return Malformed("@context must start with " + std::string(kVcContextV2) + " (VC DM 2.0 §4.3)");
  }
  for (const auto& c : *ctx) {
    if (!c.is_string() || (c != kVcContextV2 && c != kMedallionContext &&
                           c != "https://w3id.org/security/data-integrity/v2")) {
      return Malformed("unknown @context " + DescribeJsonValue(c) +
                       ": verifiers here use known contexts only, offline");
    }
  }
  if (!HasType(vc, "VerifiableCredential"))
    return Malformed("type must include VerifiableCredential (§4.5)");
  const std::string issuer = IssuerOf(vc);
  if (!did::IsValidDid(issuer)) return Malformed("issuer must be a DID (§4.7)");
  if (Subject(vc) == nullptr) return Malformed("credentialSubject must be one object (§4.8)");
  std::optional<int64_t> from, until;
  if (vc.contains("validFrom")) {
    if (!vc["validFrom"].is_string() || !(from = ParseDateTime(vc["validFrom"])))
      return Malformed("validFrom must be an XML dateTime in UTC (§4.9)");
  }
  if (vc.contains("validUntil")) {
    if (!vc["validUntil"].is_string() || !(until = ParseDateTime(vc["validUntil"])))
      return Malformed("validUntil must be an XML dateTime in UTC (§4.9)");
  }
  if (from && until && *until < *from) return Malformed("validUntil is before validFrom");
  if (now > 0) {
    if (from && now + skew < *from) {
      return Status::WithReason(StatusCode::kFailedPrecondition, vc_reason::kNotYetValid,
                                "valid from " + vc["validFrom"].get<std::string>());
    }
    if (until && now - skew > *until) {
      return Status::WithReason(StatusCode::kFailedPrecondition, vc_reason::kExpired,
                                "valid until " + vc["validUntil"].get<std::string>());
    }
  }
  return Status::Ok();
}

Result<json> BuildLicenseCredential(const std::string& id, const std::string& issuer_did,
                                    const LicenseClaims& c, const json& status_entries) {
  if (!did::IsValidDid(issuer_did) || !did::IsValidDid(c.physician_did))
    return Status::InvalidArgument("issuer and physician must be DIDs");
  json subject = {{"id", c.physician_did},          {"licenseNumber", c.license_number},
                  {"jurisdiction", c.jurisdiction}, {"licenseType", c.license_type},
                  {"specialty", c.specialty},       {"controlledSubstanceSchedules", c.schedules}};
  json vc = {{"@context", {kVcContextV2, kMedallionContext}},
             {"id", id},
             {"type", {"VerifiableCredential", "MedicalLicenseCredential"}},
             {"issuer", issuer_did},
             {"validFrom", c.valid_from},
             {"credentialSubject", subject}};
  if (!c.valid_until.empty()) vc["validUntil"] = c.valid_until;
  // `name` is a term of the VC 2.0 context (schema.org/name).
  if (!c.name.empty()) vc["credentialSubject"]["name"] = c.name;
  if (!status_entries.is_null()) vc["credentialStatus"] = status_entries;
  MDL_RETURN_IF_ERROR(CheckLicenseCredential(vc));
  return vc;
}

Status CheckLicenseCredential(const json& vc) {
  MDL_RETURN_IF_ERROR(CheckCredential(vc));
  if (!HasType(vc, "MedicalLicenseCredential")) return Malformed("not a MedicalLicenseCredential");
  const json& s = *Subject(vc);
  if (!IsNonEmptyString(s, "id") || !did::IsValidDid(s["id"].get<std::string>()))
    return Malformed("license subject id must be the physician's DID");
  for (const char* f : {"licenseNumber", "jurisdiction", "licenseType"}) {
    if (!IsNonEmptyString(s, f)) return Malformed(std::string("license needs ") + f);
  }
  if (s.contains("controlledSubstanceSchedules")) {
    const json& sch = s["controlledSubstanceSchedules"];
    if (!sch.is_array()) return Malformed("controlledSubstanceSchedules must be an array");
    for (const auto& x : sch) {
      if (!x.is_string() || !IsSchedule(x.get<std::string>()))
        return Malformed("unknown controlled-substance schedule " + DescribeJsonValue(x));
    }
  }
  return Status::Ok();
}

Status CheckMedicationRequest(const json& r) {
  if (!r.is_object())
    return Status::WithReason(StatusCode::kInvalidArgument, vc_reason::kFhir,
                              "a MedicationRequest is a JSON object");
  if (StringOr(r, "resourceType") != "MedicationRequest")
    return Fhir("resourceType must be MedicationRequest");
  // Required elements (R4 cardinality 1..1): status, intent, medication[x], subject.
  if (!r.contains("status") || !r["status"].is_string() ||
      std::find(kStatuses.begin(), kStatuses.end(), r["status"].get<std::string>()) ==
          kStatuses.end()) {
    return Fhir("status is required and must be in the medicationrequest-status value set");
  }
  if (!r.contains("intent") || !r["intent"].is_string() ||
      std::find(kIntents.begin(), kIntents.end(), r["intent"].get<std::string>()) ==
          kIntents.end()) {
    return Fhir("intent is required and must be in the medicationrequest-intent value set");
  }
  if (r.contains("medicationReference"))
    return Fhir("medicationReference: Medallion prescriptions carry medicationCodeableConcept");
  auto med = r.find("medicationCodeableConcept");
  if (med == r.end() || !med->is_object() || !med->contains("coding") ||
      !(*med)["coding"].is_array()) {
    return Fhir("medicationCodeableConcept with a coding is required");
  }
  bool rxnorm = false;
  for (const auto& c : (*med)["coding"]) {
    if (c.is_object() && StringOr(c, "system") == kRxNormSystem && IsNonEmptyString(c, "code")) {
      const std::string code = c["code"];
      rxnorm = std::all_of(code.begin(), code.end(), ::isdigit);
    }
  }
  if (!rxnorm)
    return Fhir("medicationCodeableConcept.coding needs an RxNorm code (" +
                std::string(kRxNormSystem) + ")");
  if (!r.contains("subject") || !IsReference(r["subject"]))
    return Fhir("subject (a Reference) is required");
  // Medallion's prescription profile on top of R4.
  if (r["intent"] != "order") return Fhir("intent of a prescription is \"order\"");
  if (!r.contains("requester") || !IsReference(r["requester"]))
    return Fhir("requester (a Reference) is required for a prescription");
  if (!r.contains("authoredOn") || !r["authoredOn"].is_string())
    return Fhir("authoredOn is required for a prescription");
  auto dosage = r.find("dosageInstruction");
  if (dosage == r.end() || !dosage->is_array() || dosage->empty() || !(*dosage)[0].is_object()) {
    return Fhir("dosageInstruction is required for a prescription");
  }
  auto dr = r.find("dispenseRequest");
  if (dr == r.end() || !dr->is_object())
    return Fhir("dispenseRequest is required for a prescription");
  auto q = dr->find("quantity");
  if (q == dr->end() || !q->is_object() || !q->contains("value") || !(*q)["value"].is_number() ||
      (*q)["value"].get<double>() <= 0) {
    return Fhir("dispenseRequest.quantity.value must be positive");
  }
  if (dr->contains("numberOfRepeatsAllowed")) {
    const json& n = (*dr)["numberOfRepeatsAllowed"];
    if (!n.is_number_integer() || n.get<int64_t>() < 0 || n.get<int64_t>() > 99) {
      return Fhir("dispenseRequest.numberOfRepeatsAllowed must be an integer 0..99");
    }
  }
  return Status::Ok();
}

Result<Hash256> CredentialDigest(const json& vc) {
  MDL_ASSIGN_OR_RETURN(std::string canonical, jcs::Canonicalize(vc));
  return Sha256(AsBytes(canonical));
}

Result<json> BuildPrescriptionCredential(const std::string& id, const PrescriptionClaims& c) {
  if (c.medication_request == nullptr || c.license_credential == nullptr) {
    return Status::InvalidArgument(
        "a prescription needs the MedicationRequest and the prescriber's license");
  }
  MDL_RETURN_IF_ERROR(CheckMedicationRequest(*c.medication_request));
  if (!c.schedule.empty() && !IsSchedule(c.schedule))
    return Status::InvalidArgument("unknown schedule " + c.schedule);
  MDL_ASSIGN_OR_RETURN(Hash256 license_digest, CredentialDigest(*c.license_credential));
  json subject = {{"id", c.patient_did}, {"prescription", *c.medication_request}};
  if (!c.schedule.empty()) subject["controlledSubstanceSchedule"] = c.schedule;
  json vc = {{"@context", {kVcContextV2, kMedallionContext}},
             {"id", id},
             {"type", {"VerifiableCredential", "PrescriptionCredential"}},
             {"issuer", c.prescriber_did},
             {"validFrom", c.valid_from},
             {"credentialSubject", subject},
             {"evidence",
              {{{"type", {"MedicalLicenseEvidence"}},
                {"licenseCredential", *c.license_credential},
                {"digestMultibase",
                 MultibaseEncode(Multibase::kBase64Url,
                                 MulticodecWrap(0x12, Concat(Bytes{0x20}, license_digest)))}}}}};
  if (!c.valid_until.empty()) vc["validUntil"] = c.valid_until;
  MDL_RETURN_IF_ERROR(CheckPrescriptionCredential(vc));
  return vc;
}

Status CheckPrescriptionCredential(const json& vc) {
  MDL_RETURN_IF_ERROR(CheckCredential(vc));
  if (!HasType(vc, "PrescriptionCredential")) return Malformed("not a PrescriptionCredential");
  const json& s = *Subject(vc);
  if (!IsNonEmptyString(s, "id") || !did::IsValidDid(s["id"].get<std::string>()))
    return Malformed("prescription subject id must be the patient's DID");
  if (!s.contains("prescription")) return Malformed("prescription needs a MedicationRequest");
  MDL_RETURN_IF_ERROR(CheckMedicationRequest(s["prescription"]));
  if (s.contains("controlledSubstanceSchedule") &&
      (!s["controlledSubstanceSchedule"].is_string() ||
       !IsSchedule(s["controlledSubstanceSchedule"].get<std::string>()))) {
    return Malformed("controlledSubstanceSchedule must be II, III, IV or V");
  }
  auto ev = vc.find("evidence");
  if (ev == vc.end() || !ev->is_array() || ev->size() != 1 || !(*ev)[0].is_object() ||
      !(*ev)[0].contains("licenseCredential")) {
    return Malformed("evidence must embed the prescriber's license credential");
  }
  const json& e = (*ev)[0];
  MDL_ASSIGN_OR_RETURN(Hash256 digest, CredentialDigest(e["licenseCredential"]));
  const std::string expect =
      MultibaseEncode(Multibase::kBase64Url, MulticodecWrap(0x12, Concat(Bytes{0x20}, digest)));
  if (StringOr(e, "digestMultibase") != expect)
    return Malformed("evidence digest does not match the embedded license");
  return Status::Ok();
}

Result<uint32_t> AllowedFills(const json& vc) {
  const json* s = Subject(vc);
  if (s == nullptr || !s->contains("prescription"))
    return Status::InvalidArgument("not a prescription");
  const json& r = (*s)["prescription"];
  uint32_t repeats = 0;
  if (r.is_object() && r.contains("dispenseRequest") && r["dispenseRequest"].is_object() &&
      r["dispenseRequest"].contains("numberOfRepeatsAllowed")) {
    // The range CheckMedicationRequest allows (0..99); anything else (a fraction, a negative
    // or huge number, another type) is refused, never converted.
    const json& n = r["dispenseRequest"]["numberOfRepeatsAllowed"];
    if (!n.is_number_integer() || n.get<int64_t>() < 0 || n.get<int64_t>() > 99)
      return Status::InvalidArgument(
          "dispenseRequest.numberOfRepeatsAllowed must be an integer 0..99");
    repeats = static_cast<uint32_t>(n.get<int64_t>());
  }
  return 1 + repeats;
}

std::string NewCredentialId(Rng& rng) {
  Bytes b = rng.RandomBytes(16);
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);  // version 4 (RFC 9562 §5.4)
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);  // variant 10 (RFC 9562 §4.1)
  const std::string hex = HexEncode(b);               // lowercase
  return "urn:uuid:" + hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

}  // namespace medallion::claims
