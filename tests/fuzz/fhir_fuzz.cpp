// Fuzz target: FHIR R4 resource validation — the record store's ValidateResource
// (uma/record_store.h) for every resource type it accepts, and the prescription's
// MedicationRequest check (claims/credentials.h CheckMedicationRequest). The input is parsed as
// bounded JSON; a valid resource also goes through a RecordStore in memory (create, read, update,
// search), which must accept what ValidateResource accepted.
#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "medallion/claims/credentials.h"
#include "medallion/core/json.h"
#include "medallion/uma/record_store.h"

using namespace medallion;
using nlohmann::json;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static FakeClock* fake_clock = new FakeClock(fuzz::kNowSeconds * 1000);  // process lifetime
  static SeededRng* rng = new SeededRng(7);
  const std::string_view text = fuzz::AsView(data, size);
  (void)uma::IsSupportedResourceType(text);
  auto parsed = ParseJson(text);
  if (!parsed) return 0;
  (void)claims::CheckMedicationRequest(*parsed);
  if (!uma::ValidateResource(*parsed).ok()) return 0;
  auto store = uma::RecordStore::Open(":memory:", Env{fake_clock, rng});
  MDL_FUZZ_CHECK(store.has_value());
  json resource = *parsed;
  resource.erase("id");
  resource.erase("meta");
  if (!uma::ValidateResource(resource).ok()) return 0;
  auto created = (*store)->Create(resource);
  if (!created) return 0;
  const std::string type = StringOr(*created, "resourceType");
  const std::string id = StringOr(*created, "id");
  MDL_FUZZ_CHECK((*store)->Read(type, id).has_value());
  (void)(*store)->Update(type, id, *created, 1);
  (void)(*store)->Search(type, std::nullopt);
  (void)(*store)->Search(type, std::string("Patient/p1"));
  return 0;
}
