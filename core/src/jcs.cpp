// JSON Canonicalization Scheme (RFC 8785). PLACEHOLDER: being written.
#include "medallion/core/jcs.h"

#include <nlohmann/json.hpp>

namespace medallion::jcs {
Result<std::string> Canonicalize(std::string_view) { return Status::Internal("jcs: not implemented yet"); }
Result<std::string> Canonicalize(const nlohmann::json&) { return Status::Internal("jcs: not implemented yet"); }
Result<nlohmann::json> ParseStrict(std::string_view) { return Status::Internal("jcs: not implemented yet"); }
std::string FormatNumber(double) { return ""; }
}  // namespace medallion::jcs
