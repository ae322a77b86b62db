// JSON Canonicalization Scheme, RFC 8785.
//
// A real serializer, not nlohmann's dump(): numbers are IEEE-754 doubles printed with the
// ES2015 Number.prototype.toString algorithm (RFC 8785 §3.2.2.3), object members are sorted
// by their UTF-16 code units (§3.2.3), strings use the minimal escaping of §3.2.2.2, and the
// parser rejects duplicate member names and lone surrogates (I-JSON, RFC 7493 §2.3, §2.5).
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "medallion/core/status.h"

namespace medallion::jcs {

// Deepest nesting of arrays and objects accepted by the parser and the serializer; a bound so
// that hostile input cannot exhaust the stack. The outermost container is depth 1.
inline constexpr int kMaxDepth = 256;

// Parses `json_text` strictly (duplicate keys, lone surrogates, invalid UTF-8, NaN/Infinity
// and trailing garbage are invalid_argument) and returns its canonical form.
Result<std::string> Canonicalize(std::string_view json_text);

// Canonical form of an in-memory value. Integers are converted to doubles (RFC 8785 §3.2.2.3);
// an integer beyond 2^53 that a double cannot represent exactly, a non-finite double or a
// string that is not valid UTF-8 is invalid_argument.
Result<std::string> Canonicalize(const nlohmann::json& value);

// Strict parse with the same rules as Canonicalize(std::string_view). Every number is read as
// an IEEE-754 double, as RFC 8785 §3.2.2.3 requires (so 9007199254740993 becomes
// 9007199254740992, as in JSON.parse). An integer literal that a double represents exactly
// stays an integer in the result; any other number is stored as its nearest double. Hence
// Canonicalize(*ParseStrict(t)) equals Canonicalize(t).
Result<nlohmann::json> ParseStrict(std::string_view json_text);

// ES2015 Number.prototype.toString of a finite double (RFC 8785 §3.2.2.3). REQUIRES: finite.
std::string FormatNumber(double value);

}  // namespace medallion::jcs
