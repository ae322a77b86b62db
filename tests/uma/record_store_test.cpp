// The FHIR R4 record store: validation per resource type, create / read / vread / update with
// lost-update protection, search by type and patient, durability across reopening.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "medallion/uma/record_store.h"

using namespace medallion;
using namespace medallion::uma;
using nlohmann::json;

namespace {

json Allergy(const std::string& patient) {
  return {
      {"resourceType", "AllergyIntolerance"},
      {"patient", {{"reference", patient}}},
      {"code",
       {{"coding", {{{"system", "http://www.nlm.nih.gov/research/umls/rxnorm"}, {"code", "7980"}}}},
        {"text", "penicillin"}}}};
}

json Observation() {
  return {{"resourceType", "Observation"},
          {"status", "final"},
          {"code", {{"coding", {{{"system", "http://loinc.org"}, {"code", "8867-4"}}}}}},
          {"subject", {{"reference", "Patient/alice"}}},
          {"valueQuantity", {{"value", 72}, {"unit", "/min"}}}};
}

struct Dir {
  std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("medallion-records-" + std::to_string(::getpid()));
  Dir() {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~Dir() { std::filesystem::remove_all(path); }
};

}  // namespace

TEST_CASE("FHIR R4 validation of the stored resource types", "[uma][fhir]") {
  CHECK(ValidateResource(Allergy("Patient/alice")).ok());
  CHECK(ValidateResource(Observation()).ok());
  CHECK(ValidateResource(
            {{"resourceType", "Condition"}, {"subject", {{"reference", "Patient/alice"}}}})
            .ok());
  CHECK(ValidateResource(
            {{"resourceType", "DocumentReference"},
             {"status", "current"},
             {"content",
              {{{"attachment", {{"contentType", "application/pdf"}, {"url", "Binary/1"}}}}}}})
            .ok());
  CHECK(ValidateResource({{"resourceType", "MedicationRequest"},
                          {"status", "active"},
                          {"intent", "order"},
                          {"medicationReference", {{"reference", "Medication/m1"}}},
                          {"subject", {{"reference", "Patient/alice"}}}})
            .ok());
  struct Bad {
    const char* what;
    json resource;
  };
  const Bad cases[] = {
      {"not an object", json::array()},
      {"unsupported type", {{"resourceType", "Patient"}}},
      {"allergy without patient", {{"resourceType", "AllergyIntolerance"}}},
      {"patient not a Reference",
       {{"resourceType", "AllergyIntolerance"}, {"patient", "Patient/alice"}}},
      {"reference without type",
       {{"resourceType", "Condition"}, {"subject", {{"reference", "alice"}}}}},
      {"observation status outside the value set",
       {{"resourceType", "Observation"}, {"status", "done"}, {"code", {{"text", "x"}}}}},
      {"observation without code", {{"resourceType", "Observation"}, {"status", "final"}}},
      {"document without content",
       {{"resourceType", "DocumentReference"}, {"status", "current"}, {"content", json::array()}}},
      {"document content without attachment",
       {{"resourceType", "DocumentReference"},
        {"status", "current"},
        {"content", {json::object()}}}},
      {"medication both ways",
       {{"resourceType", "MedicationRequest"},
        {"status", "active"},
        {"intent", "order"},
        {"medicationReference", {{"reference", "Medication/m1"}}},
        {"medicationCodeableConcept", {{"text", "x"}}},
        {"subject", {{"reference", "Patient/a"}}}}},
      {"bad id",
       {{"resourceType", "Condition"},
        {"id", "../../etc"},
        {"subject", {{"reference", "Patient/a"}}}}},
  };
  for (const auto& b : cases) {
    INFO(b.what);
    Status st = ValidateResource(b.resource);
    CHECK(st.code() == StatusCode::kInvalidArgument);
    CHECK_THAT(st.message(), Catch::StartsWith("fhir:"));
  }
}

TEST_CASE("Record store: create, read, versions, search, durability", "[uma][records]") {
  Dir dir;
  FakeClock clock(1'790'000'000'000);
  SeededRng rng(11);
  Env env{&clock, &rng};
  const std::string path = (dir.path / "records.db").string();
  std::string allergy_id;
  {
    auto store = RecordStore::Open(path, env);
    REQUIRE(store);
    auto a = (*store)->Create(Allergy("Patient/alice"));
    REQUIRE(a);
    allergy_id = (*a)["id"];
    CHECK((*a)["meta"]["versionId"] == "1");
    REQUIRE((*store)->Create(Allergy("Patient/bob")));
    REQUIRE((*store)->Create(Observation()));
    // A client-chosen id is refused on create; an invalid resource changes nothing.
    json with_id = Allergy("Patient/alice");
    with_id["id"] = "mine";
    CHECK((*store)->Create(with_id).error().code() == StatusCode::kInvalidArgument);
    CHECK_FALSE((*store)->Create({{"resourceType", "AllergyIntolerance"}}).has_value());
    CHECK((*store)->Search("AllergyIntolerance", std::nullopt)->size() == 2);

    // Update with lost-update protection.
    json changed = *a;
    changed["criticality"] = "high";
    clock.Advance(60'000);
    auto v2 = (*store)->Update("AllergyIntolerance", allergy_id, changed, 1);
    REQUIRE(v2);
    CHECK((*v2)["meta"]["versionId"] == "2");
    CHECK((*store)->Update("AllergyIntolerance", allergy_id, changed, 1).error().code() ==
          StatusCode::kFailedPrecondition);
    CHECK((*store)->Update("AllergyIntolerance", "nope", changed).error().code() ==
          StatusCode::kInvalidArgument);
    CHECK((*store)->Update("Condition", allergy_id, changed).error().code() ==
          StatusCode::kInvalidArgument);
    // An id of the wrong type is a mismatch, not an exception.
    json numeric_id = changed;
    numeric_id["id"] = 42;
    auto wrong_type = (*store)->Update("AllergyIntolerance", allergy_id, numeric_id);
    REQUIRE_FALSE(wrong_type);
    CHECK(wrong_type.error().code() == StatusCode::kInvalidArgument);
    CHECK((*(*store)->ReadVersion("AllergyIntolerance", allergy_id, 1)).contains("criticality") ==
          false);
  }
  // Reopened: everything is there.
  auto store = RecordStore::Open(path, env);
  REQUIRE(store);
  auto current = (*store)->Read("AllergyIntolerance", allergy_id);
  REQUIRE(current);
  CHECK((*current)["criticality"] == "high");
  CHECK((*store)->Read("AllergyIntolerance", "missing").error().code() == StatusCode::kNotFound);
  auto alice = (*store)->Search("AllergyIntolerance", std::string("Patient/alice"));
  REQUIRE(alice);
  REQUIRE(alice->size() == 1);
  CHECK((*alice)[0]["id"] == allergy_id);
  CHECK((*store)->Search("Observation", std::string("Patient/alice"))->size() == 1);
  CHECK((*store)->Search("Observation", std::string("Patient/bob"))->empty());
  CHECK((*store)->Search("Patient", std::nullopt).error().code() == StatusCode::kInvalidArgument);
  CHECK((*store)->Search("Observation", std::nullopt, 0).error().code() ==
        StatusCode::kInvalidArgument);
}
