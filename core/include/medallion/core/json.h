// The one way Medallion reads JSON that comes from outside (HTTP bodies, tokens, credentials,
// bridge inputs, files): bounded in size and nesting before any value is built, and members
// read through accessors that return errors instead of throwing.
//
// nlohmann's DOM parser builds a value of any depth, and its serializer and comparison recurse
// once per level, so a 100,000-deep array in a request is a stack overflow waiting for the first
// dump(). ParseJson refuses such text before parsing it. Never put a dump() of an untrusted value
// into an error message: name the member instead (`Member` below does).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "medallion/core/status.h"

namespace medallion {

struct JsonLimits {
  // Largest accepted text; 1 MiB, the HTTP body limit of every role.
  size_t max_bytes = size_t{1} << 20;
  // Deepest nesting of arrays and objects; the outermost container is depth 1. Credentials,
  // FHIR resources and tokens stay far below it.
  int max_depth = 64;
};

// Nesting depth of `text` by a single pass over its brackets (strings and escapes skipped),
// stopping as soon as `limit` is exceeded: O(n) time, O(1) space, no recursion.
int JsonDepth(std::string_view text, int limit);

// Parses untrusted JSON. Errors (all invalid_argument, none quoting the input): text over
// limits.max_bytes, nesting over limits.max_depth, malformed JSON (with the byte offset).
Result<nlohmann::json> ParseJson(std::string_view text, JsonLimits limits = {});

// Same, and the value must be a JSON object; `what` names it in errors ("the body").
Result<nlohmann::json> ParseJsonObject(std::string_view text, std::string_view what,
                                       JsonLimits limits = {});

// Typed access to an object's members without exceptions. Every error is invalid_argument and
// names the member ("'fill_authorization' must be a string"); a missing required member is
// "'x' is required". `obj` that is not an object reads as having no members.
Result<std::string> RequiredString(const nlohmann::json& obj, std::string_view name);
Result<std::string> OptionalString(const nlohmann::json& obj, std::string_view name,
                                   std::string fallback = "");
Result<int64_t> RequiredInt(const nlohmann::json& obj, std::string_view name);
Result<int64_t> OptionalInt(const nlohmann::json& obj, std::string_view name, int64_t fallback);
Result<bool> OptionalBool(const nlohmann::json& obj, std::string_view name, bool fallback);
// The member itself if it is an object / array (a copy); absent → fallback (default: empty).
Result<nlohmann::json> RequiredObject(const nlohmann::json& obj, std::string_view name);
Result<nlohmann::json> OptionalObject(const nlohmann::json& obj, std::string_view name);
Result<nlohmann::json> OptionalArray(const nlohmann::json& obj, std::string_view name);
// An optional array whose elements must all be strings.
Result<std::vector<std::string>> OptionalStringArray(const nlohmann::json& obj,
                                                     std::string_view name);

// Lenient reads of outside JSON for comparisons and display, never throwing (unlike
// json::value or json::at on a wrong type): a string member, or `fallback` when `j` is not an
// object or the member is absent or not a string; a member, or null.
std::string StringOr(const nlohmann::json& j, const char* name, std::string fallback = "");
const nlohmann::json& MemberOr(const nlohmann::json& j, const char* name);

// Short, safe description of a value's JSON type ("an array") for error messages.
std::string_view JsonTypeName(const nlohmann::json& value);

// What an error message may say about an untrusted value: a string quoted and cut to 64 bytes,
// a number or boolean as itself, a container by its type only ("an array"). Never recursive.
std::string DescribeJsonValue(const nlohmann::json& value);

}  // namespace medallion
