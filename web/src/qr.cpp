// QR codes as SVG through libqrencode: byte mode, level M, a 4-module quiet zone, the dark
// modules as one path of horizontal runs.
#include "medallion/web/qr.h"

#include <qrencode.h>

#include <cerrno>
#include <memory>

namespace medallion::web {
namespace {

constexpr int kQuietZone = 4;
// ISO/IEC 18004 Table 7: version 40, level M, byte mode.
constexpr size_t kMaxBytesLevelM = 2331;

struct QrFree {
  void operator()(QRcode* code) const { QRcode_free(code); }
};

void AppendXmlEscaped(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // XML 1.0 forbids most control characters even escaped: a title is text, so drop them.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') break;
        out += c;
    }
  }
}

}  // namespace

Result<std::string> QrSvg(std::string_view text, std::string_view title) {
  if (text.empty()) return Status::InvalidArgument("qr: nothing to encode");
  if (text.size() > kMaxBytesLevelM) {
    return Status::InvalidArgument("qr: " + std::to_string(text.size()) +
                                   " bytes is too long for a QR code (at most " +
                                   std::to_string(kMaxBytesLevelM) + ")");
  }
  errno = 0;
  std::unique_ptr<QRcode, QrFree> code(
      QRcode_encodeData(static_cast<int>(text.size()),
                        reinterpret_cast<const unsigned char*>(text.data()), 0, QR_ECLEVEL_M));
  if (!code) {
    if (errno == ERANGE) return Status::InvalidArgument("qr: the text is too long for a QR code");
    return Status::Internal("qr: libqrencode failed");
  }
  const int width = code->width;
  const int size = width + 2 * kQuietZone;
  const std::string dim = std::to_string(size);

  std::string svg;
  svg.reserve(static_cast<size_t>(width) * static_cast<size_t>(width) * 4 + 512);
  svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + dim + " " + dim +
         "\" role=\"img\" aria-label=\"";
  AppendXmlEscaped(svg, title);
  svg += "\" shape-rendering=\"crispEdges\"><title>";
  AppendXmlEscaped(svg, title);
  svg += "</title><rect width=\"" + dim + "\" height=\"" + dim +
         "\" fill=\"#fff\"/><path fill=\"#000\" d=\"";
  // Each run of dark modules in a row is one rectangle: M x y h n v1 h-n z.
  for (int y = 0; y < width; ++y) {
    const unsigned char* row = code->data + static_cast<size_t>(y) * static_cast<size_t>(width);
    int x = 0;
    while (x < width) {
      if ((row[x] & 1) == 0) {
        ++x;
        continue;
      }
      const int start = x;
      while (x < width && (row[x] & 1) != 0) ++x;
      const int run = x - start;
      svg += "M" + std::to_string(start + kQuietZone) + " " + std::to_string(y + kQuietZone) + "h" +
             std::to_string(run) + "v1h-" + std::to_string(run) + "z";
    }
  }
  svg += "\"/></svg>";
  return svg;
}

}  // namespace medallion::web
