// Fuzz target: the strict byte encodings of core/encoding.h — hex, base58btc, Base58Check,
// base64url, base64, multibase, varints and multicodec prefixes. Every decoder is canonical, so a
// decoded value must encode back to the exact input (hex: in lower case); and encoding arbitrary
// bytes must decode back to them.
#include <cctype>

#include "fuzz_util.h"
#include "medallion/core/encoding.h"

using namespace medallion;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;  // base58 is quadratic; long inputs only slow the run down
  const std::string_view text = fuzz::AsView(data, size);
  const ByteView bytes(data, size);

  if (auto d = HexDecode(text)) {
    std::string lower(text);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    MDL_FUZZ_CHECK(HexEncode(*d) == lower);
  }
  if (auto d = Base58Decode(text)) MDL_FUZZ_CHECK(Base58Encode(*d) == text);
  if (auto d = Base58CheckDecode(text)) MDL_FUZZ_CHECK(Base58CheckEncode(*d) == text);
  if (auto d = Base64UrlDecode(text)) MDL_FUZZ_CHECK(Base64UrlEncode(*d) == text);
  if (auto d = Base64Decode(text)) MDL_FUZZ_CHECK(Base64Encode(*d) == text);
  if (auto d = MultibaseDecode(text)) {
    MDL_FUZZ_CHECK(!text.empty());
    MDL_FUZZ_CHECK(MultibaseEncode(static_cast<Multibase>(text[0]), *d) == text);
  }
  size_t consumed = 0;
  if (auto v = VarintDecode(bytes, &consumed)) {
    MDL_FUZZ_CHECK(consumed >= 1 && consumed <= size);
    const Bytes again = VarintEncode(*v);
    MDL_FUZZ_CHECK(Bytes(bytes.begin(), bytes.begin() + consumed) == again);
  }
  if (auto m = MulticodecUnwrap(bytes)) {
    MDL_FUZZ_CHECK(MulticodecWrap(m->code, m->data) == Bytes(bytes.begin(), bytes.end()));
  }
  (void)PercentEncode(text);

  // Encoders: every byte string round-trips.
  const Bytes original(bytes.begin(), bytes.end());
  MDL_FUZZ_CHECK(HexDecode(HexEncode(bytes)).value() == original);
  MDL_FUZZ_CHECK(Base58Decode(Base58Encode(bytes)).value() == original);
  MDL_FUZZ_CHECK(Base58CheckDecode(Base58CheckEncode(bytes)).value() == original);
  MDL_FUZZ_CHECK(Base64UrlDecode(Base64UrlEncode(bytes)).value() == original);
  MDL_FUZZ_CHECK(Base64Decode(Base64Encode(bytes)).value() == original);
  MDL_FUZZ_CHECK(MultibaseDecode(MultibaseEncode(Multibase::kBase58Btc, bytes)).value() == original);
  MDL_FUZZ_CHECK(MultibaseDecode(MultibaseEncode(Multibase::kBase64Url, bytes)).value() == original);
  return 0;
}
