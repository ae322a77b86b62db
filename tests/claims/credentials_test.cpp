// VC Data Model 2.0 checks, license and prescription credentials, FHIR MedicationRequest.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <array>
#include <regex>
#include <set>

#include "medallion/claims/credentials.h"
#include "medallion/claims/society.h"
#include "medallion/core/env.h"

using namespace medallion;
using namespace medallion::claims;
using nlohmann::json;

namespace {

const std::string kSociety = "did:web:board.example";
const std::string kPhysician = "did:mdl:8nEg3V7HkeMj6AN11JJ2Jk6W6F7MMp8jPwZY6bP7oECw";
const std::string kPatient = "did:mdl:5sQq8H2Mp1rV9kYyxkQ6eWj2oXy7mVZ2T8ZsNRhJf4Cd";

json MedicationRequest() {
  return json::parse(R"({
    "resourceType": "MedicationRequest",
    "status": "active",
    "intent": "order",
    "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1049502",
                                              "display": "oxycodone 5 MG Oral Tablet"}]},
    "subject": {"reference": "Patient/p1"},
    "requester": {"reference": "Practitioner/dr1"},
    "authoredOn": "2026-11-23",
    "dosageInstruction": [{"text": "1 tablet every 6 hours as needed"}],
    "dispenseRequest": {"quantity": {"value": 20, "unit": "tablet"}, "numberOfRepeatsAllowed": 1}
  })");
}

json License() {
  LicenseClaims c{kPhysician,
                  "MD-12345",
                  "US-MA",
                  "MD",
                  "Internal Medicine",
                  {"II", "III"},
                  "2026-01-01T00:00:00Z",
                  "2028-01-01T00:00:00Z"};
  json status = json::array({{{"id", "https://board.example/status/1#7"},
                              {"type", "BitstringStatusListEntry"},
                              {"statusPurpose", "revocation"},
                              {"statusListIndex", "7"},
                              {"statusListCredential", "https://board.example/status/1"}}});
  return *BuildLicenseCredential("urn:uuid:0b8c7a1e-1111-4c0a-9a44-3f3cf0a1b2c3", kSociety, c,
                                 status);
}

}  // namespace

TEST_CASE("License credential shape", "[claims][credentials]") {
  json vc = License();
  CHECK(CheckLicenseCredential(vc).ok());
  CHECK(IssuerOf(vc) == kSociety);
  CHECK(CheckCredential(vc, 1'800'000'000).ok());
  CHECK(CheckCredential(vc, 1'700'000'000).code() ==
        StatusCode::kFailedPrecondition);  // not yet valid
  CHECK(CheckCredential(vc, 1'900'000'000).code() == StatusCode::kFailedPrecondition);  // expired

  struct Bad {
    const char* what;
    std::function<void(json&)> edit;
  };
  const Bad cases[] = {
      {"v1 context", [](json& j) { j["@context"][0] = "https://www.w3.org/2018/credentials/v1"; }},
      {"unknown context", [](json& j) { j["@context"].push_back("https://evil.example/ctx"); }},
      {"no VC type", [](json& j) { j["type"] = {"MedicalLicenseCredential"}; }},
      {"issuer not a DID", [](json& j) { j["issuer"] = "board"; }},
      {"two subjects",
       [](json& j) {
         j["credentialSubject"] = {j["credentialSubject"], j["credentialSubject"]};
       }},
      {"bad date", [](json& j) { j["validFrom"] = "yesterday"; }},
      {"local time", [](json& j) { j["validFrom"] = "2026-01-01T00:00:00+02:00"; }},
      {"until before from", [](json& j) { j["validUntil"] = "2025-01-01T00:00:00Z"; }},
      {"schedule I",
       [](json& j) { j["credentialSubject"]["controlledSubstanceSchedules"] = {"I"}; }},
      {"no license number", [](json& j) { j["credentialSubject"].erase("licenseNumber"); }},
      {"subject not a DID", [](json& j) { j["credentialSubject"]["id"] = "Dr. House"; }},
  };
  for (const auto& b : cases) {
    INFO(b.what);
    json j = vc;
    b.edit(j);
    CHECK(CheckLicenseCredential(j).code() == StatusCode::kInvalidArgument);
  }
}

TEST_CASE("FHIR R4 MedicationRequest: required elements and the prescription profile",
          "[claims][fhir]") {
  CHECK(CheckMedicationRequest(MedicationRequest()).ok());
  struct Bad {
    const char* what;
    std::function<void(json&)> edit;
  };
  const Bad cases[] = {
      {"resourceType", [](json& j) { j["resourceType"] = "Observation"; }},
      // fuzz:fhir (tests/fuzz/corpus/fhir/crash-resource-type-not-a-string): a resourceType that
      // is an object threw type_error out of CheckMedicationRequest.
      {"resourceType not a string", [](json& j) { j["resourceType"] = {{"unit", "/min"}}; }},
      {"no status", [](json& j) { j.erase("status"); }},
      {"status outside the value set", [](json& j) { j["status"] = "pending"; }},
      {"no intent", [](json& j) { j.erase("intent"); }},
      {"intent plan", [](json& j) { j["intent"] = "plan"; }},
      {"no medication", [](json& j) { j.erase("medicationCodeableConcept"); }},
      {"medication by reference",
       [](json& j) {
         j["medicationReference"] = {{"reference", "Medication/1"}};
       }},
      {"no RxNorm",
       [](json& j) {
         j["medicationCodeableConcept"]["coding"][0]["system"] = "http://snomed.info/sct";
       }},
      // Found by reading the json::value() call sites after fuzz:did's find: a coding whose
      // system is not a string threw type_error out of CheckMedicationRequest.
      {"RxNorm system not a string",
       [](json& j) { j["medicationCodeableConcept"]["coding"][0]["system"] = 1; }},
      {"non-numeric RxNorm",
       [](json& j) { j["medicationCodeableConcept"]["coding"][0]["code"] = "oxy"; }},
      {"no subject", [](json& j) { j.erase("subject"); }},
      {"subject not a reference", [](json& j) { j["subject"] = "Patient/p1"; }},
      {"no requester", [](json& j) { j.erase("requester"); }},
      {"no authoredOn", [](json& j) { j.erase("authoredOn"); }},
      {"no dosage", [](json& j) { j["dosageInstruction"] = json::array(); }},
      {"no quantity", [](json& j) { j["dispenseRequest"].erase("quantity"); }},
      {"zero quantity", [](json& j) { j["dispenseRequest"]["quantity"]["value"] = 0; }},
      {"negative repeats", [](json& j) { j["dispenseRequest"]["numberOfRepeatsAllowed"] = -1; }},
      {"not an object", [](json& j) { j = json::array(); }},
  };
  for (const auto& b : cases) {
    INFO(b.what);
    json j = MedicationRequest();
    b.edit(j);
    Status st = CheckMedicationRequest(j);
    CHECK(st.code() == StatusCode::kInvalidArgument);
    CHECK_THAT(st.message(), Catch::StartsWith("fhir:"));
  }
}

TEST_CASE("Prescription credential: subject, schedule, license evidence", "[claims][credentials]") {
  json license = License();
  json request = MedicationRequest();
  PrescriptionClaims c{kPatient,
                       kPhysician,
                       &request,
                       "II",
                       &license,
                       "2026-11-23T00:00:00Z",
                       "2027-05-23T00:00:00Z"};
  auto vc = BuildPrescriptionCredential("urn:uuid:6f1e2b3a-2222-4d0b-8b55-4a4d01b2c3d4", c);
  REQUIRE(vc);
  CHECK(CheckPrescriptionCredential(*vc).ok());
  CHECK(*AllowedFills(*vc) == 2);
  {
    // fuzz:data_integrity (UBSan): a repeat count that is not an integer 0..99 is refused,
    // never converted (4.4e27 into uint64_t was undefined behaviour; -1 and 2^32 wrapped).
    json odd = *vc;
    json& n = odd["credentialSubject"]["prescription"]["dispenseRequest"]["numberOfRepeatsAllowed"];
    for (const json& bad : {json(4.444444444444444e27), json(-1), json(4294967296LL), json(1.5),
                            json("3"), json(100)}) {
      n = bad;
      CHECK_FALSE(AllowedFills(odd).has_value());
    }
    n = 99;
    CHECK(*AllowedFills(odd) == 100);
    odd["credentialSubject"]["prescription"]["dispenseRequest"] = "not an object";
    CHECK(*AllowedFills(odd) == 1);
  }
  CHECK((*vc)["credentialSubject"]["controlledSubstanceSchedule"] == "II");
  auto d1 = CredentialDigest(*vc);
  REQUIRE(d1);
  // The digest is over JCS: member order does not matter, content does.
  json reordered = json::parse(vc->dump());
  CHECK(*CredentialDigest(reordered) == *d1);

  SECTION("the evidence digest binds the embedded license") {
    (*vc)["evidence"][0]["licenseCredential"]["credentialSubject"]["controlledSubstanceSchedules"] =
        {"II", "III", "IV"};
    CHECK(CheckPrescriptionCredential(*vc).code() == StatusCode::kInvalidArgument);
  }
  SECTION("bad schedule") {
    c.schedule = "VI";
    CHECK_FALSE(BuildPrescriptionCredential("urn:uuid:x", c).has_value());
  }
  SECTION("bad FHIR inside") {
    (*vc)["credentialSubject"]["prescription"]["intent"] = "proposal";
    CHECK_THAT(CheckPrescriptionCredential(*vc).message(), Catch::StartsWith("fhir:"));
  }
}

TEST_CASE("The Medallion JSON-LD context parses and defines the credential terms",
          "[claims][context]") {
  json ctx = json::parse(MedallionContextDocument());
  const json& terms = ctx["@context"];
  for (const char* t :
       {"MedicalLicenseCredential", "PrescriptionCredential", "licenseNumber", "jurisdiction",
        "controlledSubstanceSchedules", "prescription", "licenseCredential"}) {
    INFO(t);
    CHECK(terms.contains(t));
  }
  CHECK(terms["@protected"] == true);
}

TEST_CASE("Credential ids are RFC 9562 version 4 UUID URNs", "[claims][credentials][uuid]") {
  // RFC 9562 §4: 8-4-4-4-12 hex digits (§4 recommends lowercase output); §4.1 variant 10xx;
  // §5.4 version 4 with the other 122 bits random.
  const std::regex form(
      "^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  SeededRng seeded(9562);
  SystemRng system;
  for (Rng* rng : {static_cast<Rng*>(&seeded), static_cast<Rng*>(&system)}) {
    std::set<std::string> seen;
    std::set<char> variants;
    std::array<int, 16> nibble_counts{};  // of the first random hex digit: all values must occur
    for (int i = 0; i < 5000; ++i) {
      const std::string id = NewCredentialId(*rng);
      INFO(id);
      REQUIRE(id.size() == 45);
      REQUIRE(std::regex_match(id, form));
      REQUIRE(id[9 + 14] == '4');  // version nibble
      variants.insert(id[9 + 19]);
      ++nibble_counts[std::stoi(id.substr(9, 1), nullptr, 16)];
      REQUIRE(seen.insert(id).second);
    }
    CHECK(variants == std::set<char>{'8', '9', 'a', 'b'});
    for (int c : nibble_counts) CHECK(c > 0);
  }
}

TEST_CASE("A directory file: CSV (RFC 4180) and JSON, every bad line listed",
          "[claims][society][directory]") {
  using medallion::claims::ParseDirectoryFile;
  const std::string header =
      "license_number,name,jurisdiction,license_type,specialty,schedules,valid_until\n";
  auto good = ParseDirectoryFile(header +
                                     "MA-MD-1,\"Rivera, Elena \"\"Ellie\"\"\",US-MA,MD,Internal "
                                     "Medicine,II III;IV,2028-01-01T00:00:00Z\r\n"
                                     "MA-MD-2,Amir Haddad,US-MA,MD,\"Pediatrics\nand family\",,"
                                     "2028-01-01T00:00:00Z\n",
                                 "csv");
  REQUIRE(good.errors.empty());
  REQUIRE(good.entries.size() == 2);
  CHECK(good.entries[0].name == "Rivera, Elena \"Ellie\"");
  CHECK(good.entries[0].schedules == std::vector<std::string>{"II", "III", "IV"});
  CHECK(good.entries[1].specialty == "Pediatrics\nand family");
  CHECK(good.entries[1].schedules.empty());

  // Each problem with its line (a quoted newline moves the next record's line), nothing kept.
  auto bad = ParseDirectoryFile(header +
                                    "MA-MD-1,A,US-MA,MD,\"x\ny\",II,not-a-date\n"
                                    "MA-MD-2,B,US-MA,MD,S,VI,2028-01-01T00:00:00Z\n"
                                    "short,row\n"
                                    "MA-MD-3,C,US-MA,MD,S,,2028-01-01T00:00:00Z\n"
                                    "MA-MD-3,D,US-MA,MD,S,,2028-01-01T00:00:00Z\n",
                                "csv");
  CHECK(bad.entries.empty());
  REQUIRE(bad.errors.size() == 4);
  CHECK(bad.errors[0].first == 2);
  CHECK(bad.errors[0].second.find("valid_until") != std::string::npos);
  CHECK(bad.errors[1].first == 4);
  CHECK(bad.errors[1].second.find("schedules") != std::string::npos);
  CHECK(bad.errors[2].first == 5);
  CHECK(bad.errors[3].first == 7);
  CHECK(bad.errors[3].second.find("also on line 6") != std::string::npos);
  CHECK(ParseDirectoryFile("name,license_number\nx,y\n", "csv").errors.size() == 5);
  CHECK(ParseDirectoryFile(header + "\"unclosed,x\n", "csv").errors.size() == 1);
  // A number beyond the double range is an error line, not an exception (the bug ParseJson had,
  // found by fuzz:json).
  medallion::claims::DirectoryImport huge;
  REQUIRE_NOTHROW(huge = ParseDirectoryFile("[{\"license_number\": 1e400}]", "json"));
  CHECK(huge.errors.size() == 1);
  CHECK(huge.entries.empty());

  auto json_good = ParseDirectoryFile(
      "[\n  {\"license_number\": \"A\", \"name\": \"N\", \"jurisdiction\": \"J\", "
      "\"license_type\": \"MD\", \"specialty\": \"S\", \"valid_until\": "
      "\"2028-01-01T00:00:00Z\"},\n  {\"license_number\": \"B\"}\n]",
      "json");
  REQUIRE(json_good.errors.size() == 1);
  CHECK(json_good.errors[0].first == 3);  // the entry on line 3 lacks its members
  auto truncated = ParseDirectoryFile("[\n  {\"license_number\": \"X\"},\n  ", "json");
  REQUIRE(truncated.errors.size() == 1);
  CHECK(truncated.errors[0].first == 3);
  CHECK(ParseDirectoryFile("{}", "json").errors.size() == 1);
  CHECK(ParseDirectoryFile("a,b", "xml").errors.size() == 1);
  // A clerk's upload 200,000 arrays deep is refused before a value is built (destroying or
  // dumping such a value recurses once per level).
  auto deep = ParseDirectoryFile(std::string(200000, '[') + std::string(200000, ']'), "json");
  REQUIRE(deep.errors.size() == 1);
  CHECK(deep.errors[0].second.find("deeper") != std::string::npos);
  CHECK(deep.entries.empty());
}
