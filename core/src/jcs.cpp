// JSON Canonicalization Scheme (RFC 8785): a strict I-JSON parser and the canonical serializer.
//
// The parser is nlohmann's tokenizer driven through its SAX interface, so that duplicate member
// names and excessive nesting are caught while the document is built. The serializer is our
// own: nlohmann's dump() neither sorts by UTF-16 code units nor formats numbers the ES2015 way.
#include "medallion/core/jcs.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace medallion::jcs {
namespace {

using nlohmann::json;

constexpr size_t kNoError = std::string_view::npos;

// Decodes one UTF-8 sequence at s[*i], advancing *i. Accepts exactly the well-formed sequences
// of Unicode 15 Table 3-7 (no overlong forms, no encoded surrogates, nothing above U+10FFFF),
// which is what RFC 8785 §3.1 / RFC 7493 §2.1 require of the input.
bool DecodeUtf8(std::string_view s, size_t* i, char32_t* cp) {
  auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t b0 = byte(*i);
  if (b0 < 0x80) {
    *cp = b0;
    *i += 1;
    return true;
  }
  size_t len;
  char32_t v;
  uint8_t lo = 0x80, hi = 0xBF;  // range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    v = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    v = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;  // U+D800..U+DFFF are not scalar values
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    v = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return false;
  }
  if (s.size() - *i < len) return false;
  for (size_t k = 1; k < len; ++k) {
    const uint8_t b = byte(*i + k);
    if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return false;
    v = (v << 6) | (b & 0x3F);
  }
  *cp = v;
  *i += len;
  return true;
}

// Byte offset of the first ill-formed UTF-8 sequence in `s`, or kNoError.
size_t FindInvalidUtf8(std::string_view s) {
  size_t i = 0;
  char32_t cp;
  while (i < s.size()) {
    const size_t at = i;
    if (!DecodeUtf8(s, &i, &cp)) return at;
  }
  return kNoError;
}

// REQUIRES: `s` is valid UTF-8. Characters above U+FFFF become surrogate pairs (RFC 8785
// §3.2.3 sorts on these code units, not on code points).
std::u16string ToUtf16(std::string_view s) {
  std::u16string out;
  out.reserve(s.size());
  size_t i = 0;
  char32_t cp = 0;
  while (i < s.size()) {
    MDL_CHECK(DecodeUtf8(s, &i, &cp));
    if (cp < 0x10000) {
      out.push_back(static_cast<char16_t>(cp));
    } else {
      cp -= 0x10000;
      out.push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
    }
  }
  return out;
}

// RFC 8785 §3.2.2.2: quote, backslash and the C0 controls are escaped, the five with a short
// form using it and the rest as \u00xx in lower-case hex; everything else is copied verbatim.
void AppendString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t run = 0;  // the start of the characters copied as they are (appended in one go)
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const auto u = static_cast<uint8_t>(c);
    if (u >= 0x20 && c != '"' && c != '\\') continue;
    out->append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\b':
        *out += "\\b";
        break;
      case '\t':
        *out += "\\t";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\f':
        *out += "\\f";
        break;
      case '\r':
        *out += "\\r";
        break;
      default:
        *out += "\\u00";
        out->push_back(kHex[u >> 4]);
        out->push_back(kHex[u & 0xF]);
    }
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
}

// A short, printable rendering of untrusted text for error messages.
std::string Quote(std::string_view s) {
  constexpr size_t kMax = 64;
  std::string shown;
  if (s.size() <= kMax) {
    AppendString(s, &shown);
    return shown;
  }
  size_t cut = kMax;
  while (cut > 0 && (static_cast<uint8_t>(s[cut]) & 0xC0) == 0x80) --cut;  // whole characters
  AppendString(s.substr(0, cut), &shown);
  return shown + "...";
}

// Whether the double nearest to an integer equals it; RFC 8785 §3.2.2.3 represents every
// number as an IEEE-754 double, so only such integers survive canonicalization unchanged.
bool ExactAsDouble(int64_t v) {
  const auto d = static_cast<double>(v);
  return d >= -0x1p63 && d < 0x1p63 && static_cast<int64_t>(d) == v;
}
bool ExactAsDouble(uint64_t v) {
  const auto d = static_cast<double>(v);
  return d < 0x1p64 && static_cast<uint64_t>(d) == v;
}

// Builds a json value from nlohmann's SAX events while enforcing the I-JSON rules nlohmann
// does not: unique member names (RFC 7493 §2.3, RFC 8785 §3.1) and a nesting bound. The
// tokenizer itself rejects lone surrogate escapes (RFC 7493 §2.1, RFC 8785 §3.1), ill-formed
// UTF-8, NaN/Infinity literals, and (in strict mode) input after the value.
class StrictSaxBuilder {
 public:
  json& root() { return root_; }
  const std::string& error() const { return error_; }

  bool null() { return AddValue(nullptr); }
  bool boolean(bool v) { return AddValue(v); }
  // Integer literals are read as the nearest double (RFC 8785 §3.2.2.3, as JSON.parse does);
  // conversion of an exact integer rounds to nearest-even, the same result as strtod on the
  // literal. Integers a double holds exactly stay integers for the caller's convenience.
  bool number_integer(json::number_integer_t v) {
    return ExactAsDouble(v) ? AddValue(v) : AddValue(static_cast<double>(v));
  }
  bool number_unsigned(json::number_unsigned_t v) {
    return ExactAsDouble(v) ? AddValue(v) : AddValue(static_cast<double>(v));
  }
  bool number_float(json::number_float_t v, const std::string& /*literal*/) {
    // The tokenizer already rejects literals that overflow to infinity (its error 406).
    return AddValue(v);
  }
  bool string(std::string& v) { return AddValue(std::move(v)); }
  bool binary(json::binary_t& /*v*/) {
    error_ = "binary values are not JSON";
    return false;
  }
  bool start_object(size_t /*elements*/) { return OpenContainer(json::value_t::object); }
  bool key(std::string& name) {
    json& object = *stack_.back();
    if (object.contains(name)) {
      error_ = "duplicate member name " + Quote(name) + " (RFC 7493 §2.3)";
      return false;
    }
    member_ = &object[std::move(name)];
    return true;
  }
  bool end_object() {
    stack_.pop_back();
    return true;
  }
  bool start_array(size_t /*elements*/) { return OpenContainer(json::value_t::array); }
  bool end_array() {
    stack_.pop_back();
    return true;
  }
  bool parse_error(size_t /*position*/, const std::string& /*last_token*/,
                   const json::exception& e) {
    error_ = e.what();
    return false;
  }

 private:
  // Same placement rules as nlohmann's own DOM builder: the root, the next array element or
  // the member named by the preceding key().
  template <typename V>
  json* Place(V&& v) {
    if (stack_.empty()) {
      root_ = json(std::forward<V>(v));
      return &root_;
    }
    json& parent = *stack_.back();
    if (parent.is_array()) {
      parent.emplace_back(std::forward<V>(v));
      return &parent.back();
    }
    *member_ = json(std::forward<V>(v));
    return member_;
  }
  template <typename V>
  bool AddValue(V&& v) {
    Place(std::forward<V>(v));
    return true;
  }
  bool OpenContainer(json::value_t type) {
    if (stack_.size() >= static_cast<size_t>(kMaxDepth)) {
      error_ = "nesting deeper than " + std::to_string(kMaxDepth) + " levels";
      return false;
    }
    stack_.push_back(Place(type));
    return true;
  }

  json root_;
  // Open containers, innermost last. Pointers stay valid: an array only grows while it is the
  // innermost open container, and std::map nodes never move.
  std::vector<json*> stack_;
  json* member_ = nullptr;
  std::string error_;
};

Status SerializeValue(const json& v, int depth, std::string* out);

Status SerializeNumber(double d, std::string* out) {
  // RFC 8785 §3.2.2.3: NaN and Infinity MUST cause an error.
  if (!std::isfinite(d)) {
    return Status::InvalidArgument("jcs: NaN and Infinity are not JSON numbers");
  }
  *out += FormatNumber(d);
  return Status::Ok();
}

Status SerializeString(const std::string& s, std::string* out) {
  if (const size_t at = FindInvalidUtf8(s); at != kNoError) {
    return Status::InvalidArgument("jcs: string is not valid UTF-8 at byte " + std::to_string(at));
  }
  AppendString(s, out);
  return Status::Ok();
}

Status SerializeObject(const json& v, int depth, std::string* out) {
  struct Member {
    std::u16string sort_key;
    const std::string* name;
    const json* value;
  };
  std::vector<Member> members;
  members.reserve(v.size());
  for (auto it = v.cbegin(); it != v.cend(); ++it) {
    const std::string& name = it.key();  // a reference into the object's map
    if (const size_t at = FindInvalidUtf8(name); at != kNoError) {
      return Status::InvalidArgument("jcs: member name is not valid UTF-8 at byte " +
                                     std::to_string(at));
    }
    members.push_back({ToUtf16(name), &name, &it.value()});
  }
  // RFC 8785 §3.2.3: sort by the names' UTF-16 code units, compared as unsigned integers
  // (char16_t is unsigned, so u16string's ordering is exactly that). nlohmann keeps members in
  // UTF-8 byte order, which differs for names with characters in U+E000..U+FFFF vs U+10000+.
  std::sort(members.begin(), members.end(),
            [](const Member& a, const Member& b) { return a.sort_key < b.sort_key; });
  out->push_back('{');
  bool first = true;
  for (const Member& m : members) {
    if (!first) out->push_back(',');
    first = false;
    AppendString(*m.name, out);
    out->push_back(':');
    MDL_RETURN_IF_ERROR(SerializeValue(*m.value, depth + 1, out));
  }
  out->push_back('}');
  return Status::Ok();
}

// `depth` counts the containers enclosing `v`.
Status SerializeValue(const json& v, int depth, std::string* out) {
  switch (v.type()) {
    case json::value_t::null:
      *out += "null";
      return Status::Ok();
    case json::value_t::boolean:
      *out += v.get<bool>() ? "true" : "false";
      return Status::Ok();
    case json::value_t::number_integer: {
      const auto i = v.get<json::number_integer_t>();
      if (!ExactAsDouble(i)) {
        return Status::InvalidArgument("jcs: integer " + std::to_string(i) +
                                       " is not exactly representable as an IEEE-754 double "
                                       "(RFC 8785 §3.2.2.3); send it as a string");
      }
      return SerializeNumber(static_cast<double>(i), out);
    }
    case json::value_t::number_unsigned: {
      const auto u = v.get<json::number_unsigned_t>();
      if (!ExactAsDouble(u)) {
        return Status::InvalidArgument("jcs: integer " + std::to_string(u) +
                                       " is not exactly representable as an IEEE-754 double "
                                       "(RFC 8785 §3.2.2.3); send it as a string");
      }
      return SerializeNumber(static_cast<double>(u), out);
    }
    case json::value_t::number_float:
      return SerializeNumber(v.get<double>(), out);
    case json::value_t::string:
      return SerializeString(v.get_ref<const std::string&>(), out);
    case json::value_t::array:
    case json::value_t::object:
      if (depth + 1 > kMaxDepth) {
        return Status::InvalidArgument("jcs: nesting deeper than " + std::to_string(kMaxDepth) +
                                       " levels");
      }
      if (v.is_object()) return SerializeObject(v, depth, out);
      out->push_back('[');
      for (auto it = v.cbegin(); it != v.cend(); ++it) {
        if (it != v.cbegin()) out->push_back(',');
        MDL_RETURN_IF_ERROR(SerializeValue(*it, depth + 1, out));
      }
      out->push_back(']');
      return Status::Ok();
    case json::value_t::binary:
      return Status::InvalidArgument("jcs: binary values have no JSON form");
    case json::value_t::discarded:
      return Status::InvalidArgument("jcs: discarded value");
  }
  return Status::InvalidArgument("jcs: unknown value type");
}

}  // namespace

std::string FormatNumber(double value) {
  MDL_CHECK(std::isfinite(value));
  // ES2015 Number.prototype.toString (ECMA-262 6th ed. §7.1.12.1), as RFC 8785 §3.2.2.3
  // prescribes. Both zeros print as "0".
  if (value == 0) return "0";
  std::string out;
  if (value < 0) {
    out.push_back('-');
    value = -value;
  }
  // Shortest digits that round-trip, ties to the closest (C++17 [charconv.to.chars]): the
  // same s and k as step 5 of the ES algorithm. Form: "d[.ddd]e(+|-)xx".
  char buf[32];
  const auto [end, ec] =
      std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::scientific);
  MDL_CHECK(ec == std::errc());
  const std::string_view sci(buf, static_cast<size_t>(end - buf));
  const size_t e_pos = sci.find('e');
  MDL_CHECK(e_pos != std::string_view::npos && e_pos + 2 < sci.size());
  std::string digits(1, sci[0]);
  if (e_pos > 1) digits.append(sci.substr(2, e_pos - 2));
  int exp10 = 0;
  const std::string_view exp_text = sci.substr(e_pos + 2);
  std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exp10);
  if (sci[e_pos + 1] == '-') exp10 = -exp10;

  // value = digits × 10^(n − k), with k digits, in the notation of the ES algorithm.
  const int k = static_cast<int>(digits.size());
  const int n = exp10 + 1;
  if (k <= n && n <= 21) {  // integer: digits then n − k zeros
    out += digits;
    out.append(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {  // decimal point inside the digits
    out.append(digits, 0, static_cast<size_t>(n));
    out.push_back('.');
    out.append(digits, static_cast<size_t>(n));
  } else if (-6 < n && n <= 0) {  // "0.", −n zeros, digits
    out += "0.";
    out.append(static_cast<size_t>(-n), '0');
    out += digits;
  } else {  // exponent form: "1e+21", "1.5e-7"
    out.push_back(digits[0]);
    if (k > 1) {
      out.push_back('.');
      out.append(digits, 1);
    }
    const int e = n - 1;
    out.push_back('e');
    out.push_back(e < 0 ? '-' : '+');
    out += std::to_string(e < 0 ? -e : e);
  }
  return out;
}

Result<nlohmann::json> ParseStrict(std::string_view json_text) {
  // Checked up front for a precise message; nlohmann's tokenizer would also refuse ill-formed
  // UTF-8 inside strings, and any non-ASCII byte outside them. RFC 8785 §3.1, RFC 7493 §2.1.
  if (const size_t at = FindInvalidUtf8(json_text); at != kNoError) {
    return Status::InvalidArgument("jcs: input is not valid UTF-8 at byte " + std::to_string(at));
  }
  // nlohmann's tokenizer treats a NUL byte as the end of input, which would let anything follow
  // a complete value. JSON text has no raw NUL anywhere: outside strings only the four
  // whitespace characters may appear (RFC 8259 §2), inside them controls are escaped (§7).
  if (const size_t at = json_text.find('\0'); at != std::string_view::npos) {
    return Status::InvalidArgument("jcs: NUL byte at byte " + std::to_string(at) +
                                   " (RFC 8259 §2, §7)");
  }
  // nlohmann skips a leading byte order mark; JSON.parse does not, and RFC 8259 §8.1 forbids
  // sending one, so a strict parser refuses it.
  if (json_text.substr(0, 3) == "\xEF\xBB\xBF") {
    return Status::InvalidArgument("jcs: input starts with a byte order mark (RFC 8259 §8.1)");
  }
  try {
    StrictSaxBuilder builder;
    const bool ok = json::sax_parse(json_text.data(), json_text.data() + json_text.size(), &builder,
                                    json::input_format_t::json, /*strict=*/true,
                                    /*ignore_comments=*/false);
    if (!ok) return Status::InvalidArgument("jcs: " + builder.error());
    return std::move(builder.root());
  } catch (const json::exception& e) {
    return Status::InvalidArgument(std::string("jcs: ") + e.what());
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("jcs: out of memory while parsing");
  }
}

Result<std::string> Canonicalize(const nlohmann::json& value) {
  try {
    std::string out;
    MDL_RETURN_IF_ERROR(SerializeValue(value, 0, &out));
    return out;
  } catch (const json::exception& e) {
    return Status::Internal(std::string("jcs: ") + e.what());
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("jcs: out of memory while serializing");
  }
}

Result<std::string> Canonicalize(std::string_view json_text) {
  MDL_ASSIGN_OR_RETURN(const nlohmann::json value, ParseStrict(json_text));
  return Canonicalize(value);
}

}  // namespace medallion::jcs
