// Small UTF-8 helpers shared by the note, checkpoint and entry parsers (private).
#pragma once

#include <cstdint>
#include <string_view>

namespace medallion::ledger::text {

// Decodes the code point at s[*pos] and advances *pos. False on invalid UTF-8 (overlong,
// surrogates, beyond U+10FFFF, truncated).
bool NextCodePoint(std::string_view s, size_t* pos, uint32_t* cp);
bool IsValidUtf8(std::string_view s);
// Go's unicode.IsSpace: ASCII white space, U+0085, U+00A0 and category Zs, U+2028, U+2029.
bool IsUnicodeSpace(uint32_t cp);

}  // namespace medallion::ledger::text
