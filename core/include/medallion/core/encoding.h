// Text encodings of bytes: hex, base58btc, base64 / base64url, multibase, unsigned varints
// and multicodec prefixes. Every decoder is strict and returns invalid_argument on any
// non-canonical input.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "medallion/core/bytes.h"
#include "medallion/core/status.h"

namespace medallion {

// Lower-case hex. Decode accepts upper and lower case, rejects odd length and non-hex.
std::string HexEncode(ByteView data);
Result<Bytes> HexDecode(std::string_view text);

// Bitcoin base58 alphabet; leading zero bytes map to leading '1's.
std::string Base58Encode(ByteView data);
Result<Bytes> Base58Decode(std::string_view text);
// Base58Check: payload || first 4 bytes of SHA-256d(payload).
std::string Base58CheckEncode(ByteView payload);
Result<Bytes> Base58CheckDecode(std::string_view text);

// RFC 4648 §5 base64url without padding. Decode rejects '=', characters outside the
// alphabet, a length of 1 mod 4, and non-zero trailing bits (non-canonical encodings).
std::string Base64UrlEncode(ByteView data);

// RFC 3986 §2.1 percent-encoding of everything but the unreserved characters (§2.3): safe for
// a query value or an application/x-www-form-urlencoded value.
std::string PercentEncode(std::string_view text);
Result<Bytes> Base64UrlDecode(std::string_view text);
// RFC 4648 §4 base64 with padding (C2SP signed notes, RFC 6962 test data). Strict: padding
// required, trailing bits zero.
std::string Base64Encode(ByteView data);
Result<Bytes> Base64Decode(std::string_view text);

// Multibase (draft-multiformats-multibase): 'z' = base58btc, 'u' = base64url (no padding).
enum class Multibase : char { kBase58Btc = 'z', kBase64Url = 'u' };
std::string MultibaseEncode(Multibase base, ByteView data);
Result<Bytes> MultibaseDecode(std::string_view text);

// Unsigned LEB128 varint as used by multiformats (at most 9 bytes, minimal encoding only).
Bytes VarintEncode(uint64_t value);
// Decodes a varint at the start of `data`; on success stores the number of bytes read.
Result<uint64_t> VarintDecode(ByteView data, size_t* consumed);

// Multicodec codes (multiformats table) used for keys.
namespace multicodec {
inline constexpr uint64_t kEd25519Pub = 0xed;
inline constexpr uint64_t kX25519Pub = 0xec;
inline constexpr uint64_t kSecp256k1Pub = 0xe7;
inline constexpr uint64_t kEd25519Priv = 0x1300;
inline constexpr uint64_t kSecp256k1Priv = 0x1301;
}  // namespace multicodec

// varint(code) || key.
Bytes MulticodecWrap(uint64_t code, ByteView key);
struct MulticodecValue {
  uint64_t code = 0;
  Bytes data;
};
Result<MulticodecValue> MulticodecUnwrap(ByteView data);

}  // namespace medallion
