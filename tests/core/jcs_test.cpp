// Tests of the JSON Canonicalization Scheme (RFC 8785): upstream vectors, the Appendix B number
// table, member ordering by UTF-16 code units, string escaping, and the strict parser's
// rejections.
#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "medallion/core/jcs.h"
#include "medallion/core/json.h"
#include "medallion/core/status.h"
#include "test_util.h"

namespace medallion {
namespace {

using nlohmann::json;
using namespace std::string_view_literals;  // "..."sv: a plain literal would be ambiguous
                                            // between the text and the json overloads

// Canonical form of JSON text, failing the test with the error if there is none.
std::string CanonText(std::string_view text) {
  auto r = jcs::Canonicalize(text);
  if (!r) FAIL("Canonicalize(text) failed: " << r.error().ToString());
  return *r;
}

std::string CanonValue(const json& value) {
  auto r = jcs::Canonicalize(value);
  if (!r) FAIL("Canonicalize(json) failed: " << r.error().ToString());
  return *r;
}

// Escapes non-printable bytes so that failing inputs show up legibly in the report.
std::string Printable(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const char c : s.substr(0, 120)) {
    const auto u = static_cast<uint8_t>(c);
    if (u >= 0x20 && u < 0x7f) {
      out.push_back(c);
    } else {
      out += "\\x";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xF]);
    }
  }
  if (s.size() > 120) out += "...(" + std::to_string(s.size()) + " bytes)";
  return out;
}

// Both entry points of the strict parser refuse `text` as invalid_argument, with a message.
void RequireRejected(std::string_view text) {
  INFO("input: " << Printable(text));
  auto canon = jcs::Canonicalize(text);
  REQUIRE_FALSE(canon.has_value());
  INFO("error: " << canon.error().ToString());
  CHECK(canon.error().code() == StatusCode::kInvalidArgument);
  CHECK_FALSE(canon.error().message().empty());
  auto parsed = jcs::ParseStrict(text);
  REQUIRE_FALSE(parsed.has_value());
  CHECK(parsed.error().code() == StatusCode::kInvalidArgument);
}

void RequireValueRejected(const json& value) {
  auto r = jcs::Canonicalize(value);
  REQUIRE_FALSE(r.has_value());
  INFO("error: " << r.error().ToString());
  CHECK(r.error().code() == StatusCode::kInvalidArgument);
}

std::string Nested(int depth, std::string_view open, std::string_view close,
                   std::string_view leaf) {
  std::string s;
  for (int i = 0; i < depth; ++i) s += open;
  s += leaf;
  for (int i = 0; i < depth; ++i) s += close;
  return s;
}

TEST_CASE("JCS upstream vectors canonicalize byte for byte", "[core][jcs]") {
  namespace fs = std::filesystem;
  const fs::path input_dir = testing::VectorPath("jcs/input");
  const fs::path output_dir = testing::VectorPath("jcs/output");
  std::vector<fs::path> inputs;
  for (const auto& entry : fs::directory_iterator(input_dir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".json") {
      inputs.push_back(entry.path());
    }
  }
  std::sort(inputs.begin(), inputs.end());
  // The cyberphone/json-canonicalization set: arrays, french, structures, unicode, values, weird.
  REQUIRE(inputs.size() >= 6);

  for (const fs::path& input : inputs) {
    DYNAMIC_SECTION(input.filename().string()) {
      const std::string text = testing::ReadFile(input.string());
      // The upstream output files carry no trailing newline; compare the exact bytes.
      const std::string expected = testing::ReadFile((output_dir / input.filename()).string());
      REQUIRE_FALSE(expected.empty());
      CHECK(expected.back() != '\n');
      CHECK(CanonText(text) == expected);
      // Canonical form is a fixed point, and the in-memory path agrees with the text path.
      CHECK(CanonText(expected) == expected);
      auto parsed = jcs::ParseStrict(text);
      REQUIRE(parsed.has_value());
      CHECK(CanonValue(*parsed) == expected);
    }
  }
}

TEST_CASE("JCS numbers follow RFC 8785 Appendix B", "[core][jcs][numbers]") {
  // IEEE-754 bit pattern → ES2015 Number.prototype.toString, RFC 8785 Appendix B.
  const auto [bits, expected] = GENERATE(table<uint64_t, std::string>({
      {0x0000000000000000, "0"},
      {0x8000000000000000, "0"},
      {0x0000000000000001, "5e-324"},
      {0x8000000000000001, "-5e-324"},
      {0x7fefffffffffffff, "1.7976931348623157e+308"},
      {0xffefffffffffffff, "-1.7976931348623157e+308"},
      {0x4340000000000000, "9007199254740992"},
      {0xc340000000000000, "-9007199254740992"},
      {0x4430000000000000, "295147905179352830000"},
      {0x44b52d02c7e14af5, "9.999999999999997e+22"},
      {0x44b52d02c7e14af6, "1e+23"},
      {0x44b52d02c7e14af7, "1.0000000000000001e+23"},
      {0x444b1ae4d6e2ef4e, "999999999999999700000"},
      {0x444b1ae4d6e2ef4f, "999999999999999900000"},
      {0x444b1ae4d6e2ef50, "1e+21"},
      {0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"},
      {0x3eb0c6f7a0b5ed8d, "0.000001"},
      {0x41b3de4355555553, "333333333.3333332"},
      {0x41b3de4355555554, "333333333.33333325"},
      {0x41b3de4355555555, "333333333.3333333"},
      {0x41b3de4355555556, "333333333.3333334"},
      {0x41b3de4355555557, "333333333.33333343"},
      {0xbecbf647612f3696, "-0.0000033333333333333333"},
      {0x43143ff3c1cb0959, "1424953923781206.2"},  // round to even
  }));
  const double d = std::bit_cast<double>(bits);
  CAPTURE(bits, expected);
  CHECK(jcs::FormatNumber(d) == expected);
  CHECK(CanonValue(json(d)) == expected);
  // Reading the expected text back gives the same number again.
  CHECK(CanonText(expected) == expected);
}

TEST_CASE("JCS number formatting boundaries of the ES2015 algorithm", "[core][jcs][numbers]") {
  const auto [d, expected] = GENERATE(table<double, std::string>({
      {1.0, "1"},
      {-1.0, "-1"},
      {0.5, "0.5"},
      {0.1, "0.1"},
      {-0.25, "-0.25"},
      {4.5, "4.5"},
      {2e-3, "0.002"},
      {123.456, "123.456"},
      {1e20, "100000000000000000000"},  // n = 21: still integer form
      {1e21, "1e+21"},                  // n = 22: exponent form
      {1.5e21, "1.5e+21"},
      {123e18, "123000000000000000000"},
      {1e-6, "0.000001"},  // n = -5: still decimal form
      {1.5e-6, "0.0000015"},
      {1e-7, "1e-7"},  // n = -6: exponent form
      {1.25e-7, "1.25e-7"},
      {1e30, "1e+30"},
      {1e-27, "1e-27"},
      {333333333.33333329, "333333333.3333333"},
      {4294967296.0, "4294967296"},
      {1.7976931348623157e308, "1.7976931348623157e+308"},
      {2.2250738585072014e-308, "2.2250738585072014e-308"},  // smallest normal
  }));
  CAPTURE(d, expected);
  CHECK(jcs::FormatNumber(d) == expected);
  CHECK(CanonValue(json(d)) == expected);
}

TEST_CASE("JCS rejects NaN and Infinity", "[core][jcs][numbers]") {
  SECTION("as in-memory doubles") {
    RequireValueRejected(json(std::numeric_limits<double>::quiet_NaN()));
    RequireValueRejected(json(std::bit_cast<double>(uint64_t{0x7fffffffffffffff})));
    RequireValueRejected(json(std::numeric_limits<double>::infinity()));
    RequireValueRejected(json(-std::numeric_limits<double>::infinity()));
    RequireValueRejected(json{{"a", 1}, {"b", {1, std::numeric_limits<double>::infinity()}}});
  }
  SECTION("as text") {
    const std::string_view text =
        GENERATE("NaN"sv, "-NaN"sv, "Infinity"sv, "-Infinity"sv, "[1,NaN]"sv, "{\"a\":Infinity}"sv,
                 "1e400"sv, "-1e400"sv, "[1e309]"sv);
    RequireRejected(text);
  }
}

TEST_CASE("JCS integers in memory must be exact doubles", "[core][jcs][numbers]") {
  constexpr uint64_t k2p53 = uint64_t{1} << 53;
  SECTION("exactly representable integers are accepted") {
    CHECK(CanonValue(json(k2p53)) == "9007199254740992");
    CHECK(CanonValue(json(-static_cast<int64_t>(k2p53))) == "-9007199254740992");
    CHECK(CanonValue(json(int64_t{0})) == "0");
    CHECK(CanonValue(json(int64_t{-7})) == "-7");
    // Exact, but printed with the shortest digits that identify the double, as JavaScript does.
    CHECK(CanonValue(json(uint64_t{1} << 60)) == "1152921504606847000");
    CHECK(CanonValue(json(std::numeric_limits<int64_t>::min())) == "-9223372036854776000");
    CHECK(CanonValue(json(uint64_t{1} << 63)) == "9223372036854776000");
    // The largest double below 2^64.
    CHECK(CanonValue(json(uint64_t{0xFFFFFFFFFFFFF800})) == "18446744073709550000");
    CHECK(CanonValue(json(uint64_t{1000000000000000000})) == "1000000000000000000");
  }
  SECTION("integers a double cannot hold are invalid_argument") {
    RequireValueRejected(json(std::numeric_limits<uint64_t>::max()));
    RequireValueRejected(json(k2p53 + 1));
    RequireValueRejected(json(-static_cast<int64_t>(k2p53) - 1));
    RequireValueRejected(json(std::numeric_limits<int64_t>::max()));
    RequireValueRejected(json{{"nested", {1, 2, std::numeric_limits<uint64_t>::max()}}});
  }
}

TEST_CASE("JCS text numbers are read as IEEE-754 doubles", "[core][jcs][numbers]") {
  // RFC 8785 §3.2.2.3: like JSON.parse, an integer literal becomes the nearest double.
  CHECK(CanonText("9007199254740993"sv) == "9007199254740992");
  CHECK(CanonText("18446744073709551615"sv) == "18446744073709552000");
  CHECK(CanonText("18446744073709551616"sv) == "18446744073709552000");
  CHECK(CanonText("-0"sv) == "0");
  CHECK(CanonText("-0.0"sv) == "0");
  CHECK(CanonText("[1E30, 4.50, 2e-3, 0.000000000000000000000000001, 1e+2]"sv) ==
        "[1e+30,4.5,0.002,1e-27,100]");
  CHECK(CanonText("0.1e1"sv) == "1");

  // ParseStrict keeps exact integers as integers and stores the rest as doubles, so the value
  // path and the text path agree.
  auto exact = jcs::ParseStrict("[42, -42, 9007199254740992, 9007199254740993, 1.5]"sv);
  REQUIRE(exact.has_value());
  CHECK((*exact)[0].is_number_integer());
  CHECK((*exact)[0].get<int64_t>() == 42);
  CHECK((*exact)[1].get<int64_t>() == -42);
  CHECK((*exact)[2].is_number_integer());
  CHECK((*exact)[3].is_number_float());
  CHECK((*exact)[3].get<double>() == 9007199254740992.0);
  CHECK((*exact)[4].is_number_float());
  CHECK(CanonValue(*exact) == "[42,-42,9007199254740992,9007199254740992,1.5]");
}

TEST_CASE("JCS sorts members by UTF-16 code units", "[core][jcs][sorting]") {
  // U+1F602 is the surrogate pair D83D DE02 in UTF-16, so it sorts below U+E000..U+FFFF; in
  // UTF-8 byte order (nlohmann's std::map) it would come last.
  const std::string kEuro = "\u20ac";         // U+20AC
  const std::string kSmiley = "\U0001F602";   // D83D DE02
  const std::string kDalet = "\ufb33";        // U+FB33
  const std::string kFffd = "\ufffd";         // U+FFFD
  const std::string kE000 = "\ue000";         // U+E000, the first code unit above surrogates
  const std::string kLinearB = "\U00010000";  // D800 DC00
  const std::string kMax = "\U0010FFFF";      // DBFF DFFF

  SECTION("in-memory object") {
    json obj = json::object();
    for (const std::string& k : {kFffd, kDalet, kSmiley, kEuro, kE000, kLinearB, kMax}) {
      obj[k] = k.size();
    }
    const std::string expected = "{\"" + kEuro + "\":3,\"" + kLinearB + "\":4,\"" + kSmiley +
                                 "\":4,\"" + kMax + "\":4,\"" + kE000 + "\":3,\"" + kDalet +
                                 "\":3,\"" + kFffd + "\":3}";
    CHECK(CanonValue(obj) == expected);
  }
  SECTION("text with escapes") {
    CHECK(CanonText(R"({"\ufffd":1,"\ud83d\ude02":2,"\uffff":3,"\ud800\udc00":4})"sv) ==
          "{\"" + kLinearB + "\":4,\"" + kSmiley + "\":2,\"" + kFffd + "\":1,\"\uffff\":3}");
  }
  SECTION("ASCII, prefixes and case") {
    CHECK(CanonText(R"({"b":1,"a":2,"aa":3,"A":4,"":5,"10":6,"1":7,"a\u0000":8})"sv) ==
          "{\"\":5,\"1\":7,\"10\":6,\"A\":4,\"a\":2,\"a\\u0000\":8,\"aa\":3,\"b\":1}");
  }
  SECTION("RFC 8785 §3.2.3 example") {
    const std::string_view text = R"({"\u20ac":"Euro Sign","\r":"Carriage Return",)"
                                  R"("\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One",)"
                                  R"("\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control",)"
                                  R"("\u00f6":"Latin Small Letter O With Diaeresis"})"sv;
    const std::string canon = CanonText(text);
    std::vector<size_t> positions;
    for (const std::string& key :
         {std::string("\\r"), std::string("1"), std::string("\u0080"), std::string("\u00f6"),
          std::string("\u20ac"), std::string("\U0001F600"), std::string("\ufb33")}) {
      positions.push_back(canon.find("\"" + key + "\":"));
      CHECK(positions.back() != std::string::npos);
    }
    CHECK(std::is_sorted(positions.begin(), positions.end()));
  }
  SECTION("nested objects are sorted too") {
    CHECK(CanonText(R"({"z":{"y":[{"b":1,"a":2}],"x":null},"a":[]})"sv) ==
          R"({"a":[],"z":{"x":null,"y":[{"a":2,"b":1}]}})");
  }
}

TEST_CASE("JCS string escaping is minimal", "[core][jcs][strings]") {
  SECTION("every C0 control character") {
    std::string all;
    for (int c = 0; c < 0x20; ++c) all.push_back(static_cast<char>(c));
    CHECK(CanonValue(json(all)) ==
          "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r"
          "\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019"
          "\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\"");
  }
  SECTION("quote and backslash; everything else literal") {
    CHECK(CanonValue(json("a\"b\\c")) == R"("a\"b\\c")");
    CHECK(CanonValue(json("</script>")) == R"("</script>")");
    CHECK(CanonValue(json("\x7f")) == "\"\x7f\"");                  // DEL is not escaped
    CHECK(CanonValue(json("\u2028\u2029")) == "\"\u2028\u2029\"");  // nor are JS separators
    CHECK(CanonValue(json("\U0001F602")) == "\"\U0001F602\"");
  }
  SECTION("escapes in the input are normalized") {
    CHECK(CanonText(R"("\u0041\/\u00e9\u000F\u001F\u007f\"")"sv) ==
          "\"A/\u00e9\\u000f\\u001f\x7f\\\"\"");
    CHECK(CanonText(R"("\ud83d\ude02")"sv) == "\"\U0001F602\"");
    CHECK(CanonText(R"("\u0000")"sv) == R"("\u0000")");
  }
  SECTION("embedded NUL survives") {
    CHECK(CanonValue(json(std::string("a\0b", 3))) == R"("a\u0000b")");
  }
}

TEST_CASE("JCS serializes every value kind without whitespace", "[core][jcs]") {
  CHECK(CanonText(" \t\r\n{ \"a\" : [ true , false , null ] }\n"sv) ==
        R"({"a":[true,false,null]})");
  CHECK(CanonText("null"sv) == "null");
  CHECK(CanonText("\"top\""sv) == "\"top\"");
  CHECK(CanonText("56"sv) == "56");
  CHECK(CanonText("[]"sv) == "[]");
  CHECK(CanonText("{}"sv) == "{}");
  CHECK(CanonText("[[],{},[{}]]"sv) == "[[],{},[{}]]");
  CHECK(CanonValue(json()) == "null");
  CHECK(CanonValue(json::array()) == "[]");
  CHECK(CanonValue(json::object()) == "{}");
  CHECK(CanonValue(json{{"k", {1, 2.5, "s", nullptr, true}}}) == R"({"k":[1,2.5,"s",null,true]})");
}

TEST_CASE("JCS strict parser rejects malformed input", "[core][jcs][negative]") {
  SECTION("duplicate member names") {
    const std::string_view text =
        GENERATE(R"({"a":1,"a":2})"sv, R"({"a":1,"b":2,"a":1})"sv, R"({"x":{"b":1,"b":2}})"sv,
                 R"([0,{"x":[{"k":null,"k":null}]}])"sv, R"({"a":1,"\u0061":2})"sv,
                 R"({"\ud83d\ude02":1,"😂":2})"sv, R"({"":1,"":2})"sv);
    RequireRejected(text);
    CHECK_THAT(jcs::Canonicalize(text).error().message(), Catch::Contains("duplicate"));
  }
  SECTION("same name in different objects is fine") {
    CHECK(CanonText(R"({"b":{"a":2},"a":{"a":{"a":1}}})"sv) ==
          R"({"a":{"a":{"a":1}},"b":{"a":2}})");
  }
  SECTION("lone surrogate escapes") {
    const std::string_view text =
        GENERATE(R"("\ud800")"sv, R"("\udbff")"sv, R"("\udc00")"sv, R"("\udfff")"sv,
                 R"("\ud800\u0041")"sv, R"("\ud800x")"sv, R"("\udc00\ud800")"sv,
                 R"("\ud800\ud800")"sv, R"({"\ud83d":1})"sv, R"(["ok","\ude02"])"sv);
    RequireRejected(text);
  }
  SECTION("invalid UTF-8") {
    const std::string_view text =
        GENERATE("\"\xff\""sv, "\"\xfe\""sv, "\"\x80\""sv,  // not a lead byte
                 "\"\xc0\xaf\""sv, "\"\xe0\x80\xaf\""sv,    // overlong
                 "\"\xed\xa0\x80\""sv,                      // encoded surrogate U+D800
                 "\"\xf4\x90\x80\x80\""sv,                  // above U+10FFFF
                 "\"\xe2\x82\""sv, "\"\xc3\""sv,            // truncated sequence
                 "{\"\xc3\x28\":1}"sv,                      // bad continuation, in a name
                 "[1,\xa0]"sv,                              // outside any string
                 "\xef\xbb\xbf{}"sv);                       // byte order mark (RFC 8259 §8.1)
    RequireRejected(text);
  }
  SECTION("trailing garbage") {
    const std::string_view text = GENERATE(
        "{} x"sv, "[1]]"sv, "1 2"sv, "{}{}"sv, "null,"sv, "\"a\"\"b\""sv, "[] // comment"sv,
        // nlohmann's tokenizer takes a NUL byte for the end of input.
        "{}\0"sv, "[1]\0garbage"sv, "{\"a\":1}\0{\"a\":2}"sv, "\0"sv, "[\"a\0\"]"sv);
    RequireRejected(text);
  }
  SECTION("truncated input") {
    const std::string_view text =
        GENERATE(""sv, "   "sv, "{"sv, "["sv, "[1,"sv, "{\"a\""sv, "{\"a\":"sv, "{\"a\":1"sv,
                 "\"abc"sv, "tru"sv, "nul"sv, "-"sv, "1e"sv, "1."sv, "\"\\u12"sv, "\"\\"sv);
    RequireRejected(text);
  }
  SECTION("not JSON") {
    const std::string_view text = GENERATE(
        "'a'"sv, "{a:1}"sv, "[1,]"sv, "{\"a\":1,}"sv, "01"sv, "+1"sv, ".5"sv, "0x10"sv, "True"sv,
        "undefined"sv, "/* c */ {}"sv, "\"a\tb\""sv, "\"\\x41\""sv, "[1 2]"sv, "{\"a\" 1}"sv);
    RequireRejected(text);
  }
}

TEST_CASE("JCS bounds nesting depth", "[core][jcs][negative]") {
  SECTION("text at the limit is accepted, one deeper is not") {
    const std::string at_limit = Nested(jcs::kMaxDepth, "[", "]", "1");
    CHECK(CanonText(at_limit) == at_limit);
    RequireRejected(Nested(jcs::kMaxDepth + 1, "[", "]", "1"));
    const std::string objects = Nested(jcs::kMaxDepth, "{\"a\":", "}", "1");
    CHECK(CanonText(objects) == objects);
    RequireRejected(Nested(jcs::kMaxDepth + 1, "{\"a\":", "}", "1"));
    RequireRejected(Nested(jcs::kMaxDepth / 2 + 1, "[{\"a\":", "}]", "1"));
  }
  SECTION("hostile depth fails cleanly instead of overflowing the stack") {
    RequireRejected(std::string(1000000, '['));
    RequireRejected(Nested(200000, "[", "]", ""));
    RequireRejected(Nested(200000, "{\"a\":", "}", "null"));
  }
  SECTION("in-memory values are bounded the same way") {
    json v = 1;
    for (int i = 0; i < jcs::kMaxDepth; ++i) v = json::array({std::move(v)});
    CHECK(CanonValue(v) == Nested(jcs::kMaxDepth, "[", "]", "1"));
    v = json::array({std::move(v)});
    RequireValueRejected(v);
  }
}

TEST_CASE("JCS rejects in-memory values with no canonical form", "[core][jcs][negative]") {
  SECTION("invalid UTF-8 in a string value or a member name") {
    RequireValueRejected(json("\xff"));
    RequireValueRejected(json("\xed\xa0\x80"));  // CESU-style surrogate
    RequireValueRejected(json::array({"ok", "\xc3"}));
    json obj = json::object();
    obj["\xc0\x80"] = 1;
    RequireValueRejected(obj);
  }
  SECTION("binary values") { RequireValueRejected(json::binary({1, 2, 3})); }
}

// Found by fuzz:json and fuzz:sd_jwt (tests/fuzz/corpus/{json,sd_jwt}/crash-number-out-of-range):
// nlohmann refuses a number beyond the double range with out_of_range, not parse_error, and
// ParseJson let it escape — an exception out of core for "1e400" in any HTTP body or token.
TEST_CASE("ParseJson refuses numbers beyond the double range without throwing", "[core][json]") {
  for (std::string_view text : {"1e400"sv, "[-1e99999]"sv, "{\"a\": 11e1111111}"sv,
                                "{\n  \"numbers\": [3333333331e308.33331664, 1Efalse30,"sv}) {
    INFO(text);
    Result<json> r = json();
    REQUIRE_NOTHROW(r = ParseJson(text));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == StatusCode::kInvalidArgument);
    CHECK_NOTHROW((void)ParseJsonObject(text, "the body"));
  }
  CHECK(ParseJson("1e308").value() == json(1e308));
}

}  // namespace
}  // namespace medallion
