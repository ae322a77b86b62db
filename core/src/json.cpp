// Bounded JSON parsing and non-throwing member access (core/json.h).
#include "medallion/core/json.h"

#include <nlohmann/json.hpp>

#include <vector>

namespace medallion {

using nlohmann::json;

int JsonDepth(std::string_view text, int limit) {
  int depth = 0;
  int deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > deepest) deepest = depth;
        if (deepest > limit) return deepest;
        break;
      case ']':
      case '}':
        // Unbalanced closers are the parser's to report; never go negative here.
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
  }
  return deepest;
}

Result<json> ParseJson(std::string_view text, JsonLimits limits) {
  if (text.size() > limits.max_bytes) {
    return Status::InvalidArgument("JSON text of " + std::to_string(text.size()) +
                                   " bytes is over the limit of " +
                                   std::to_string(limits.max_bytes));
  }
  if (JsonDepth(text, limits.max_depth) > limits.max_depth) {
    return Status::InvalidArgument("JSON nests deeper than " + std::to_string(limits.max_depth) +
                                   " levels");
  }
  json out;
  try {
    out = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    return Status::InvalidArgument("malformed JSON at byte " + std::to_string(e.byte));
  } catch (const json::out_of_range&) {
    // A number beyond the double range ("1e400") is out_of_range (406), not a parse_error.
    return Status::InvalidArgument("malformed JSON: a number is out of range");
  }
  return out;
}

Result<json> ParseJsonObject(std::string_view text, std::string_view what, JsonLimits limits) {
  auto parsed = ParseJson(text, limits);
  if (!parsed)
    return Status::InvalidArgument(std::string(what) +
                                   " is not usable JSON: " + parsed.error().message());
  if (!parsed->is_object())
    return Status::InvalidArgument(std::string(what) + " must be a JSON object");
  return std::move(*parsed);
}

std::string StringOr(const json& j, const char* name, std::string fallback) {
  if (!j.is_object()) return fallback;
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

const json& MemberOr(const json& j, const char* name) {
  static const json kAbsent;
  if (!j.is_object()) return kAbsent;
  auto it = j.find(name);
  return it == j.end() ? kAbsent : *it;
}

std::string_view JsonTypeName(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "an integer";
    case json::value_t::number_float:
      return "a number";
    case json::value_t::binary:
      return "binary";
    case json::value_t::discarded:
      return "discarded";
  }
  return "unknown";
}

std::string DescribeJsonValue(const json& value) {
  if (value.is_string()) {
    const std::string& v = value.get_ref<const std::string&>();
    if (v.size() <= 64) return json(v).dump(-1, ' ', true, json::error_handler_t::replace);
    return json(v.substr(0, 64)).dump(-1, ' ', true, json::error_handler_t::replace) + "...";
  }
  if (value.is_number() || value.is_boolean() || value.is_null()) return value.dump();
  return std::string(JsonTypeName(value));
}

namespace {

const json* Find(const json& obj, std::string_view name) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(std::string(name));
  return it == obj.end() ? nullptr : &*it;
}

Status WrongType(std::string_view name, std::string_view want, const json& got) {
  return Status::InvalidArgument("'" + std::string(name) + "' must be " + std::string(want) +
                                 ", not " + std::string(JsonTypeName(got)));
}

Status Missing(std::string_view name) {
  return Status::InvalidArgument("'" + std::string(name) + "' is required");
}

}  // namespace

Result<std::string> RequiredString(const json& obj, std::string_view name) {
  const json* v = Find(obj, name);
  if (v == nullptr) return Missing(name);
  if (!v->is_string()) return WrongType(name, "a string", *v);
  return v->get<std::string>();
}

Result<std::string> OptionalString(const json& obj, std::string_view name, std::string fallback) {
  const json* v = Find(obj, name);
  if (v == nullptr) return fallback;
  if (!v->is_string()) return WrongType(name, "a string", *v);
  return v->get<std::string>();
}

Result<int64_t> RequiredInt(const json& obj, std::string_view name) {
  const json* v = Find(obj, name);
  if (v == nullptr) return Missing(name);
  if (v->is_number_unsigned()) {
    const uint64_t u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX))
      return Status::InvalidArgument("'" + std::string(name) + "' is too large");
    return static_cast<int64_t>(u);
  }
  if (!v->is_number_integer()) return WrongType(name, "an integer", *v);
  return v->get<int64_t>();
}

Result<int64_t> OptionalInt(const json& obj, std::string_view name, int64_t fallback) {
  if (Find(obj, name) == nullptr) return fallback;
  return RequiredInt(obj, name);
}

Result<bool> OptionalBool(const json& obj, std::string_view name, bool fallback) {
  const json* v = Find(obj, name);
  if (v == nullptr) return fallback;
  if (!v->is_boolean()) return WrongType(name, "a boolean", *v);
  return v->get<bool>();
}

Result<json> RequiredObject(const json& obj, std::string_view name) {
  const json* v = Find(obj, name);
  if (v == nullptr) return Missing(name);
  if (!v->is_object()) return WrongType(name, "an object", *v);
  return *v;
}

Result<json> OptionalObject(const json& obj, std::string_view name) {
  const json* v = Find(obj, name);
  if (v == nullptr) return json::object();
  if (!v->is_object()) return WrongType(name, "an object", *v);
  return *v;
}

Result<json> OptionalArray(const json& obj, std::string_view name) {
  const json* v = Find(obj, name);
  if (v == nullptr) return json::array();
  if (!v->is_array()) return WrongType(name, "an array", *v);
  return *v;
}

Result<std::vector<std::string>> OptionalStringArray(const json& obj, std::string_view name) {
  const json* v = Find(obj, name);
  std::vector<std::string> out;
  if (v == nullptr) return out;
  if (!v->is_array()) return WrongType(name, "an array of strings", *v);
  for (const json& e : *v) {
    if (!e.is_string()) return WrongType(name, "an array of strings", *v);
    out.push_back(e.get<std::string>());
  }
  return out;
}

}  // namespace medallion
