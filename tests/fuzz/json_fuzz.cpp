// Fuzz target: bounded parsing of outside JSON and the non-throwing member accessors
// (core/json.h), which every HTTP body, token and bridge answer goes through. JsonDepth must
// agree with the parser's depth bound, and no accessor may throw.
#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "medallion/core/json.h"

using namespace medallion;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = fuzz::AsView(data, size);
  JsonLimits limits;
  limits.max_bytes = 64 * 1024;
  limits.max_depth = 16;
  (void)JsonDepth(text, limits.max_depth);
  auto parsed = ParseJson(text, limits);
  (void)ParseJsonObject(text, "the body", limits);
  if (!parsed) return 0;
  MDL_FUZZ_CHECK(JsonDepth(text, limits.max_depth) <= limits.max_depth);
  const nlohmann::json& j = *parsed;
  (void)DescribeJsonValue(j);
  (void)JsonTypeName(j);
  for (const char* name : {"a", "id", "type", "", "sig"}) {
    (void)RequiredString(j, name);
    (void)OptionalString(j, name, "x");
    (void)RequiredInt(j, name);
    (void)OptionalInt(j, name, 7);
    (void)OptionalBool(j, name, true);
    (void)RequiredObject(j, name);
    (void)OptionalObject(j, name);
    (void)OptionalArray(j, name);
    (void)OptionalStringArray(j, name);
    (void)StringOr(j, name, "y");
    (void)DescribeJsonValue(MemberOr(j, name));
  }
  if (j.is_object()) {
    for (const auto& item : j.items()) {
      (void)DescribeJsonValue(item.value());
      (void)RequiredString(j, item.key());
      (void)OptionalInt(j, item.key(), 0);
    }
  }
  // The parsed value serializes without throwing (depth-bounded) and reparses to itself.
  const std::string dumped = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  auto reparsed = ParseJson(dumped, limits);
  MDL_FUZZ_CHECK(reparsed.has_value());
  return 0;
}
