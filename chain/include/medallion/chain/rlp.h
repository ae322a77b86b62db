// Recursive Length Prefix (Ethereum Yellow Paper, Appendix B): the serialisation of
// transactions. An item is a byte string or a list of items.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "medallion/core/bytes.h"
#include "medallion/core/status.h"

namespace medallion::chain {

struct RlpItem {
  bool is_list = false;
  Bytes bytes;                 // a string item's bytes
  std::vector<RlpItem> items;  // a list's items

  static RlpItem String(Bytes b) { return {false, std::move(b), {}}; }
  static RlpItem List(std::vector<RlpItem> items) { return {true, {}, std::move(items)}; }
  // A scalar as the Yellow Paper's BE(x): big-endian without leading zeros (0 is the empty
  // string).
  static RlpItem Uint(uint64_t value);
  // The same for a big-endian number of any width (leading zero bytes dropped).
  static RlpItem UintBytes(ByteView big_endian);
  bool operator==(const RlpItem&) const = default;
};

// Appendix B eq. (180)-(182). Never fails.
Bytes RlpEncode(const RlpItem& item);

// Decodes exactly one item filling all of `data`. Strict (the canonical form is the only
// form): a single byte below 0x80 must stand for itself, a long length form only for more than
// 55 bytes, no leading zero in a length, no length running past the input, no trailing bytes.
// Nesting is bounded (`max_depth` lists). Errors: invalid_argument naming the problem.
Result<RlpItem> RlpDecode(ByteView data, int max_depth = 16);

// A string item read as a scalar: at most 8 bytes, no leading zero byte (the canonical BE(x)).
// Errors: invalid_argument for a list, a leading zero, or more than 8 bytes.
Result<uint64_t> RlpToUint64(const RlpItem& item);

}  // namespace medallion::chain
