// RLP encoding and strict decoding (Yellow Paper, Appendix B).
#include "medallion/chain/rlp.h"

namespace medallion::chain {
namespace {

Bytes BigEndianMinimal(uint64_t v) {
  Bytes out;
  while (v > 0) {
    out.insert(out.begin(), static_cast<uint8_t>(v & 0xff));
    v >>= 8;
  }
  return out;
}

void AppendLength(Bytes& out, size_t length, uint8_t short_base, uint8_t long_base) {
  if (length <= 55) {
    out.push_back(static_cast<uint8_t>(short_base + length));
    return;
  }
  Bytes len = BigEndianMinimal(length);
  out.push_back(static_cast<uint8_t>(long_base + len.size()));
  out.insert(out.end(), len.begin(), len.end());
}

void EncodeInto(const RlpItem& item, Bytes& out) {
  if (!item.is_list) {
    if (item.bytes.size() == 1 && item.bytes[0] < 0x80) {
      out.push_back(item.bytes[0]);
      return;
    }
    AppendLength(out, item.bytes.size(), 0x80, 0xb7);
    out.insert(out.end(), item.bytes.begin(), item.bytes.end());
    return;
  }
  Bytes payload;
  for (const auto& i : item.items) EncodeInto(i, payload);
  AppendLength(out, payload.size(), 0xc0, 0xf7);
  out.insert(out.end(), payload.begin(), payload.end());
}

struct Decoder {
  ByteView data;
  size_t pos = 0;

  // The payload length of a long form with `n` length bytes.
  Result<size_t> LongLength(size_t n) {
    if (data.size() - pos < n) return Status::InvalidArgument("rlp: length runs past the input");
    if (data[pos] == 0) return Status::InvalidArgument("rlp: length with a leading zero");
    if (n > 4) return Status::InvalidArgument("rlp: length beyond 4 GiB");
    size_t len = 0;
    for (size_t i = 0; i < n; ++i) len = (len << 8) | data[pos + i];
    pos += n;
    if (len <= 55) return Status::InvalidArgument("rlp: long form for a length below 56");
    return len;
  }

  Result<RlpItem> Item(int depth_left) {
    if (pos >= data.size()) return Status::InvalidArgument("rlp: unexpected end of input");
    const uint8_t prefix = data[pos++];
    if (prefix < 0x80) return RlpItem::String({prefix});
    size_t len = 0;
    bool list = false;
    if (prefix <= 0xb7) {
      len = prefix - 0x80;
    } else if (prefix <= 0xbf) {
      MDL_ASSIGN_OR_RETURN(len, LongLength(prefix - 0xb7));
    } else if (prefix <= 0xf7) {
      list = true;
      len = prefix - 0xc0;
    } else {
      list = true;
      MDL_ASSIGN_OR_RETURN(len, LongLength(prefix - 0xf7));
    }
    if (data.size() - pos < len) return Status::InvalidArgument("rlp: item runs past the input");
    if (!list) {
      if (len == 1 && data[pos] < 0x80)
        return Status::InvalidArgument("rlp: a single byte below 0x80 must encode itself");
      RlpItem out = RlpItem::String(Bytes(data.begin() + pos, data.begin() + pos + len));
      pos += len;
      return out;
    }
    if (depth_left == 0) return Status::InvalidArgument("rlp: lists nested too deep");
    const size_t end = pos + len;
    RlpItem out = RlpItem::List({});
    Decoder inner{data.first(end), pos};
    while (inner.pos < end) {
      MDL_ASSIGN_OR_RETURN(RlpItem child, inner.Item(depth_left - 1));
      out.items.push_back(std::move(child));
    }
    pos = end;
    return out;
  }
};

}  // namespace

RlpItem RlpItem::Uint(uint64_t value) { return String(BigEndianMinimal(value)); }

RlpItem RlpItem::UintBytes(ByteView big_endian) {
  size_t i = 0;
  while (i < big_endian.size() && big_endian[i] == 0) ++i;
  return String(Bytes(big_endian.begin() + i, big_endian.end()));
}

Bytes RlpEncode(const RlpItem& item) {
  Bytes out;
  EncodeInto(item, out);
  return out;
}

Result<RlpItem> RlpDecode(ByteView data, int max_depth) {
  Decoder d{data, 0};
  MDL_ASSIGN_OR_RETURN(RlpItem item, d.Item(max_depth));
  if (d.pos != data.size()) return Status::InvalidArgument("rlp: trailing bytes after the item");
  return item;
}

Result<uint64_t> RlpToUint64(const RlpItem& item) {
  if (item.is_list) return Status::InvalidArgument("rlp: a list where a number was expected");
  if (item.bytes.size() > 8) return Status::InvalidArgument("rlp: number wider than 64 bits");
  if (!item.bytes.empty() && item.bytes[0] == 0)
    return Status::InvalidArgument("rlp: number with a leading zero byte");
  uint64_t v = 0;
  for (uint8_t b : item.bytes) v = (v << 8) | b;
  return v;
}

}  // namespace medallion::chain
