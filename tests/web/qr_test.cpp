// QrSvg: the SVG's dark modules are libqrencode's matrix (byte mode, level M), shifted by the
// quiet zone; the title is escaped; empty and oversized texts are refused.
#include <catch2/catch.hpp>
#include <qrencode.h>

#include <regex>
#include <set>
#include <string>
#include <utility>

#include "medallion/web/qr.h"

using namespace medallion;

namespace {

// The dark modules drawn by QrSvg's path ("M<x> <y>h<n>v1h-<n>z" runs), and the viewBox side.
std::set<std::pair<int, int>> DarkModules(const std::string& svg, int* side) {
  std::smatch m;
  REQUIRE(std::regex_search(svg, m, std::regex(R"re(viewBox="0 0 (\d+) (\d+)")re")));
  CHECK(m[1] == m[2]);
  *side = std::stoi(m[1]);
  const std::string open = "<path fill=\"#000\" d=\"";
  const size_t begin = svg.find(open);
  REQUIRE(begin != std::string::npos);
  const size_t end = svg.find('"', begin + open.size());
  REQUIRE(end != std::string::npos);
  const std::string d = svg.substr(begin + open.size(), end - begin - open.size());
  // A hand parser: std::regex recurses per character and overflows the stack on long paths.
  std::set<std::pair<int, int>> dark;
  size_t pos = 0;
  auto number = [&](char before) {
    REQUIRE(pos < d.size());
    REQUIRE(d[pos] == before);
    ++pos;
    size_t used = 0;
    const int v = std::stoi(d.substr(pos, 8), &used);
    pos += used;
    return v;
  };
  while (pos < d.size()) {
    const int x = number('M'), y = number(' '), n = number('h');
    REQUIRE(d.compare(pos, 4, "v1h-") == 0);
    pos += 2;
    CHECK(-number('h') == n);  // "h-<n>": the number read after 'h' is -n
    REQUIRE(d.compare(pos, 1, "z") == 0);
    ++pos;
    CHECK(n > 0);
    for (int i = 0; i < n; ++i) CHECK(dark.emplace(x + i, y).second);
  }
  return dark;
}

std::set<std::pair<int, int>> Reference(const std::string& text, int* width) {
  QRcode* code =
      QRcode_encodeData(static_cast<int>(text.size()),
                        reinterpret_cast<const unsigned char*>(text.data()), 0, QR_ECLEVEL_M);
  REQUIRE(code != nullptr);
  *width = code->width;
  std::set<std::pair<int, int>> dark;
  for (int y = 0; y < code->width; ++y) {
    for (int x = 0; x < code->width; ++x) {
      if (code->data[y * code->width + x] & 1) dark.emplace(x + 4, y + 4);
    }
  }
  QRcode_free(code);
  return dark;
}

}  // namespace

TEST_CASE("QrSvg draws libqrencode's modules with a quiet zone", "[web][qr]") {
  const std::string text =
      GENERATE(std::string("mdl-pair:https://127.0.0.1:8443/c/alice?offer=Zm9vYmFy#k=abc"),
               std::string("A"), std::string(1000, 'x'), std::string("bytes\0with\xffNUL", 15));
  auto svg = web::QrSvg(text, "Pairing code");
  REQUIRE(svg);
  int side = 0, width = 0;
  const auto drawn = DarkModules(*svg, &side);
  const auto want = Reference(text, &width);
  CHECK(side == width + 8);
  CHECK(drawn == want);
  CHECK(svg->rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);
  CHECK(svg->find("role=\"img\"") != std::string::npos);
  CHECK(svg->find("aria-label=\"Pairing code\"") != std::string::npos);
  CHECK(svg->find("<title>Pairing code</title>") != std::string::npos);
  CHECK(svg->find("shape-rendering=\"crispEdges\"") != std::string::npos);
  CHECK(svg->find("<rect width=\"" + std::to_string(side) + "\" height=\"" + std::to_string(side) +
                  "\" fill=\"#fff\"/>") != std::string::npos);
  // One path, no sizes in pixels: the page sizes the image.
  CHECK(svg->find("<path") == svg->rfind("<path"));
  CHECK(svg->find("px") == std::string::npos);
  CHECK(svg->substr(svg->size() - 6) == "</svg>");
}

TEST_CASE("QrSvg escapes the title", "[web][qr]") {
  auto svg = web::QrSvg("hello", "Tom & Jerry's <\"code\">\x01");
  REQUIRE(svg);
  const std::string escaped = "Tom &amp; Jerry&apos;s &lt;&quot;code&quot;&gt;";
  CHECK(svg->find("<title>" + escaped + "</title>") != std::string::npos);
  CHECK(svg->find("aria-label=\"" + escaped + "\"") != std::string::npos);
  CHECK(svg->find('\x01') == std::string::npos);
  CHECK(svg->find("<\"code\">") == std::string::npos);
}

TEST_CASE("QrSvg refuses empty and oversized texts", "[web][qr]") {
  auto empty = web::QrSvg("", "t");
  REQUIRE_FALSE(empty);
  CHECK(empty.error().code() == StatusCode::kInvalidArgument);

  auto largest = web::QrSvg(std::string(2331, 'z'), "t");  // version 40-M holds 2,331 bytes
  REQUIRE(largest);
  int side = 0;
  (void)DarkModules(*largest, &side);
  CHECK(side == 177 + 8);

  auto too_long = web::QrSvg(std::string(2332, 'z'), "t");
  REQUIRE_FALSE(too_long);
  CHECK(too_long.error().code() == StatusCode::kInvalidArgument);
  auto far_too_long = web::QrSvg(std::string(100000, 'z'), "t");
  REQUIRE_FALSE(far_too_long);
  CHECK(far_too_long.error().code() == StatusCode::kInvalidArgument);
}
