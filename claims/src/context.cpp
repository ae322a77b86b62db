// Medallion's JSON-LD context for its credential types, embedded so that verifiers never
// fetch it (it is also served by issuers at the context URL). docs/credentials.md.
#include "medallion/claims/credentials.h"

namespace medallion::claims {

const std::string& MedallionContextDocument() {
  static const std::string kDoc = R"json({
  "@context": {
    "@protected": true,
    "@version": 1.1,
    "mdl": "https://w3id.org/medallion/vocab#",
    "fhir": "http://hl7.org/fhir/",
    "MedicalLicenseCredential": "mdl:MedicalLicenseCredential",
    "PrescriptionCredential": "mdl:PrescriptionCredential",
    "MedicalLicenseEvidence": "mdl:MedicalLicenseEvidence",
    "DispenseReceipt": "mdl:DispenseReceipt",
    "licenseNumber": "mdl:licenseNumber",
    "jurisdiction": "mdl:jurisdiction",
    "licenseType": "mdl:licenseType",
    "specialty": "mdl:specialty",
    "controlledSubstanceSchedules": {"@id": "mdl:controlledSubstanceSchedules", "@container": "@set"},
    "controlledSubstanceSchedule": "mdl:controlledSubstanceSchedule",
    "prescription": {"@id": "mdl:prescription", "@type": "@json"},
    "licenseCredential": {"@id": "mdl:licenseCredential", "@type": "@json"},
    "digestMultibase": {"@id": "https://w3id.org/security#digestMultibase", "@type": "https://w3id.org/security#multibase"},
    "prescriptionDigest": "mdl:prescriptionDigest",
    "fill": "mdl:fill",
    "fillsAllowed": "mdl:fillsAllowed",
    "ledgerIndex": "mdl:ledgerIndex",
    "checkpoint": "mdl:checkpoint",
    "pharmacy": {"@id": "mdl:pharmacy", "@type": "@id"}
  }
})json";
  return kDoc;
}

}  // namespace medallion::claims
