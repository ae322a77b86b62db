// Encodings: hex, base58(check), base64(url) strictness, multibase, varints, multicodec.
#include <catch2/catch.hpp>

#include "medallion/core/encoding.h"
#include "medallion/core/env.h"
#include "medallion/core/status.h"
#include "test_util.h"

using namespace medallion;
using medallion::testing::Hex;

TEST_CASE("hex", "[core][encoding]") {
  CHECK(HexEncode(Bytes{0x00, 0xab, 0xff}) == "00abff");
  CHECK(*HexDecode("00ABff") == Bytes{0x00, 0xab, 0xff});
  CHECK(HexDecode("")->empty());
  CHECK_FALSE(HexDecode("abc").has_value());
  CHECK_FALSE(HexDecode("zz").has_value());
  CHECK_FALSE(HexDecode("0x00").has_value());
}

TEST_CASE("base58btc", "[core][encoding]") {
  // draft-msporny-base58 §5 examples.
  CHECK(Base58Encode(AsBytes("Hello World!")) == "2NEpo7TZRRrLZSi2U");
  CHECK(Base58Encode(AsBytes("The quick brown fox jumps over the lazy dog.")) ==
        "USm3fpXnKG5EUBx2ndxBDMPVciP5hGey2Jh4NDv6gmeo1LkMeiKrLJUUBk6Z");
  CHECK(Base58Encode(Hex("0000287fb4cd")) == "11233QC4");
  CHECK(*Base58Decode("11233QC4") == Hex("0000287fb4cd"));
  CHECK(Base58Encode({}) == "");
  CHECK_FALSE(Base58Decode("0OIl").has_value());
  CHECK_FALSE(Base58Decode("abc+").has_value());
  auto check = Base58CheckEncode(Hex("00010203"));
  CHECK(*Base58CheckDecode(check) == Hex("00010203"));
  std::string bad = check;
  bad.back() = bad.back() == 'a' ? 'b' : 'a';
  CHECK_FALSE(Base58CheckDecode(bad).has_value());
}

TEST_CASE("base58btc: the limb encoder equals the digit-by-digit definition", "[core][encoding]") {
  // The reference: the number in base 58 one digit at a time, a '1' per leading zero byte.
  auto reference = [](ByteView data) {
    static constexpr char kAlphabet[] =
        "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    std::vector<int> digits;  // least significant first
    size_t zeros = 0;
    while (zeros < data.size() && data[zeros] == 0) ++zeros;
    for (size_t i = zeros; i < data.size(); ++i) {
      int carry = data[i];
      for (int& d : digits) {
        carry += d * 256;
        d = carry % 58;
        carry /= 58;
      }
      for (; carry > 0; carry /= 58) digits.push_back(carry % 58);
    }
    std::string out(zeros, '1');
    for (auto it = digits.rbegin(); it != digits.rend(); ++it) out += kAlphabet[*it];
    return out;
  };
  SeededRng rng(58);
  for (size_t n = 0; n <= 100; ++n) {
    for (int zeros = 0; zeros <= 3; ++zeros) {
      Bytes b = rng.RandomBytes(n);
      for (size_t z = 0; z < static_cast<size_t>(zeros) && z < b.size(); ++z) b[z] = 0;
      INFO(HexEncode(b));
      CHECK(Base58Encode(b) == reference(b));
      CHECK(*Base58Decode(Base58Encode(b)) == b);
    }
  }
  CHECK(Base58Encode(Bytes(64, 0xff)) == reference(Bytes(64, 0xff)));
}

TEST_CASE("base58check round-trips extended-key-sized payloads", "[core][encoding]") {
  // 78-byte BIP-32 payloads (and leading zero bytes) through the wiping code paths.
  SeededRng rng(7);
  for (size_t zeros : {0u, 1u, 5u}) {
    Bytes payload(zeros, 0);
    Bytes rest = rng.RandomBytes(78 - zeros);
    payload.insert(payload.end(), rest.begin(), rest.end());
    const std::string text = Base58CheckEncode(payload);
    CHECK(text.substr(0, zeros) == std::string(zeros, '1'));
    auto back = Base58CheckDecode(text);
    REQUIRE(back.has_value());
    CHECK(*back == payload);
    CHECK(*Base58Decode(Base58Encode(payload)) == payload);
  }
}

TEST_CASE("base64url is strict", "[core][encoding]") {
  // RFC 4648 §10 test vectors, unpadded.
  const std::pair<const char*, const char*> cases[] = {
      {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
  for (auto [plain, enc] : cases) {
    CHECK(Base64UrlEncode(AsBytes(plain)) == enc);
    CHECK(ToString(*Base64UrlDecode(enc)) == plain);
  }
  CHECK(Base64UrlEncode(Hex("fbff")) == "-_8");
  CHECK_FALSE(Base64UrlDecode("Zg==").has_value());    // padding
  CHECK_FALSE(Base64UrlDecode("Zh").has_value());      // non-zero trailing bits
  CHECK_FALSE(Base64UrlDecode("Z").has_value());       // impossible length
  CHECK_FALSE(Base64UrlDecode("+/8").has_value());     // standard alphabet
  CHECK_FALSE(Base64UrlDecode("Zm9v\n").has_value());  // whitespace
}

TEST_CASE("base64 (padded) is strict", "[core][encoding]") {
  CHECK(Base64Encode(AsBytes("fo")) == "Zm8=");
  CHECK(ToString(*Base64Decode("Zm8=")) == "fo");
  CHECK(ToString(*Base64Decode("Zm9vYmFy")) == "foobar");
  CHECK_FALSE(Base64Decode("Zm8").has_value());
  CHECK_FALSE(Base64Decode("Zm9=").has_value());
  CHECK_FALSE(Base64Decode("Z===").has_value());
  CHECK_FALSE(Base64Decode("-_8=").has_value());
}

TEST_CASE("multibase and multicodec", "[core][encoding]") {
  const Bytes key = Hex("2e6fcce36701dc791488e0d0b1745cc1e33a4c1c9fcc41c63bd343dbbe0970e6");
  const Bytes wrapped = MulticodecWrap(multicodec::kEd25519Pub, key);
  CHECK(HexEncode(ByteView(wrapped).first(2)) == "ed01");
  const std::string mb = MultibaseEncode(Multibase::kBase58Btc, wrapped);
  CHECK(mb == "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK");
  auto back = MultibaseDecode(mb);
  REQUIRE(back.has_value());
  auto mc = MulticodecUnwrap(*back);
  REQUIRE(mc.has_value());
  CHECK(mc->code == multicodec::kEd25519Pub);
  CHECK(mc->data == key);
  CHECK(*MultibaseDecode("u" + Base64UrlEncode(key)) == key);
  CHECK_FALSE(MultibaseDecode("").has_value());
  CHECK_FALSE(MultibaseDecode("f00").has_value());
  CHECK_FALSE(MultibaseDecode("z0").has_value());
}

TEST_CASE("varints are minimal and bounded", "[core][encoding]") {
  CHECK(VarintEncode(0) == Bytes{0x00});
  CHECK(VarintEncode(0x7f) == Bytes{0x7f});
  CHECK(VarintEncode(0x80) == Bytes{0x80, 0x01});
  CHECK(VarintEncode(0x1300) == Bytes{0x80, 0x26});
  for (uint64_t v : {0ull, 1ull, 127ull, 128ull, 300ull, 0xedull, 0x1301ull, (1ull << 63) - 1}) {
    Bytes e = VarintEncode(v);
    size_t n = 0;
    auto d = VarintDecode(e, &n);
    REQUIRE(d.has_value());
    CHECK(*d == v);
    CHECK(n == e.size());
  }
  size_t n = 0;
  CHECK_FALSE(VarintDecode(Bytes{0x80}, &n).has_value());        // truncated
  CHECK_FALSE(VarintDecode(Bytes{0x80, 0x00}, &n).has_value());  // not minimal
  CHECK_FALSE(VarintDecode(Bytes(10, 0xff), &n).has_value());    // too long
  CHECK_FALSE(VarintDecode(Bytes{}, &n).has_value());
}

TEST_CASE("Status and Result", "[core][status]") {
  Result<int> ok = 5;
  CHECK(ok.has_value());
  CHECK(*ok == 5);
  Result<int> err = Status::NotFound("nope");
  CHECK_FALSE(err.has_value());
  CHECK(err.error().code() == StatusCode::kNotFound);
  CHECK(err.error().ToString() == "not_found: nope");
  CHECK(StatusCodeName(StatusCode::kResourceExhausted) == "resource_exhausted");
}
