// Fuzz target: RFC 8785 JCS (core/jcs.h). Outside JSON text through the strict parser and the
// canonical serializer; a canonical form must be a fixed point (canonicalizing it again yields
// itself) and must agree with the canonical form of the parsed value.
#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "medallion/core/jcs.h"

using namespace medallion;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = fuzz::AsView(data, size);
  auto canonical = jcs::Canonicalize(text);
  auto parsed = jcs::ParseStrict(text);
  MDL_FUZZ_CHECK(canonical.has_value() == parsed.has_value());
  if (!canonical) return 0;
  auto again = jcs::Canonicalize(std::string_view(*canonical));
  MDL_FUZZ_CHECK(again.has_value());
  MDL_FUZZ_CHECK(*again == *canonical);
  auto from_value = jcs::Canonicalize(*parsed);
  MDL_FUZZ_CHECK(from_value.has_value());
  MDL_FUZZ_CHECK(*from_value == *canonical);
  return 0;
}
