// QR codes as SVG, rendered server-side with libqrencode (ISO/IEC 18004), for pairing offers
// and request links shown by the web apps.
#pragma once

#include <string>
#include <string_view>

#include "medallion/core/status.h"

namespace medallion::web {

// An SVG image (one <path> of dark modules on a light background, a 4-module quiet zone,
// role="img" and an <title> of `title`, XML-escaped) encoding `text` in byte mode with error
// correction level M. Errors: invalid_argument if `text` is empty or too long for a QR code
// (above 2,331 bytes at level M).
Result<std::string> QrSvg(std::string_view text, std::string_view title);

}  // namespace medallion::web
