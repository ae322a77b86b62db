// chain: Keccak-256, RLP (ethereum/tests vectors), EIP-155 transactions (the EIP's example and
// the ethereum/tests EIP-155 transactions), EIP-55 addresses, the Solidity ABI, JSON-RPC
// quantities.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "medallion/chain/abi.h"
#include "medallion/chain/eth_tx.h"
#include "medallion/chain/json_rpc.h"
#include "medallion/chain/keccak.h"
#include "medallion/chain/rlp.h"
#include "medallion/core/encoding.h"
#include "medallion/wallet/bip39.h"
#include "medallion/wallet/keys.h"

using namespace medallion;
using namespace medallion::chain;
using nlohmann::json;

namespace {

json ReadVectors(const std::string& name) {
  std::ifstream in(std::string(MEDALLION_VECTORS_DIR) + "/ethereum/" + name);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

Bytes Hex(std::string_view s) {
  if (s.substr(0, 2) == "0x") s.remove_prefix(2);
  std::string lower(s);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto b = HexDecode(lower);
  REQUIRE(b.has_value());
  return *b;
}

// A decimal string as big-endian bytes.
Bytes DecimalToBigEndian(std::string_view dec) {
  Bytes out;  // big-endian, grown as needed
  for (char c : dec) {
    int carry = c - '0';
    for (auto it = out.rbegin(); it != out.rend(); ++it) {
      int v = *it * 10 + carry;
      *it = static_cast<uint8_t>(v & 0xff);
      carry = v >> 8;
    }
    while (carry > 0) {
      out.insert(out.begin(), static_cast<uint8_t>(carry & 0xff));
      carry >>= 8;
    }
  }
  return out;
}

RlpItem FromVector(const json& in) {
  if (in.is_array()) {
    std::vector<RlpItem> items;
    for (const auto& i : in) items.push_back(FromVector(i));
    return RlpItem::List(std::move(items));
  }
  if (in.is_number_unsigned()) return RlpItem::Uint(in.get<uint64_t>());
  const std::string s = in.get<std::string>();
  if (!s.empty() && s[0] == '#') return RlpItem::UintBytes(DecimalToBigEndian(s.substr(1)));
  return RlpItem::String(ToBytes(s));
}

std::string H(ByteView b) { return HexEncode(b); }

}  // namespace

TEST_CASE("Keccak-256 (original padding), not SHA3-256", "[chain][keccak]") {
  CHECK(H(Keccak256({})) == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
  CHECK(H(Keccak256(AsBytes("abc"))) ==
        "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
  CHECK(H(Keccak256(AsBytes("The quick brown fox jumps over the lazy dog"))) ==
        "4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15");
  // Lengths around the 136-byte rate are checked against ethers in interop:anchoring.
  Bytes a(136, 0x61), b(137, 0x61);
  CHECK(Keccak256(a) != Keccak256(b));
}

TEST_CASE("RLP: ethereum/tests rlptest.json encodes and decodes back", "[chain][rlp][vectors]") {
  const json v = ReadVectors("rlptest.json");
  REQUIRE(v.size() == 28);
  for (const auto& [name, t] : v.items()) {
    INFO(name);
    const Bytes want = Hex(t["out"].get<std::string>());
    CHECK(H(RlpEncode(FromVector(t["in"]))) == H(want));
    auto decoded = RlpDecode(want, 64);
    REQUIRE(decoded.has_value());
    CHECK(H(RlpEncode(*decoded)) == H(want));
  }
}

TEST_CASE("RLP: ethereum/tests invalidRLPTest.json is refused", "[chain][rlp][vectors]") {
  const json v = ReadVectors("invalidRLPTest.json");
  REQUIRE(v.size() == 26);
  for (const auto& [name, t] : v.items()) {
    INFO(name);
    auto decoded = RlpDecode(Hex(t["out"].get<std::string>()));
    CHECK_FALSE(decoded.has_value());
  }
}

TEST_CASE("RLP: numbers are canonical; depth is bounded", "[chain][rlp]") {
  CHECK(H(RlpEncode(RlpItem::Uint(0))) == "80");
  CHECK(H(RlpEncode(RlpItem::Uint(1024))) == "820400");
  auto n = RlpDecode(Hex("820400"));
  REQUIRE(n.has_value());
  CHECK(RlpToUint64(*n).value() == 1024);
  CHECK_FALSE(RlpToUint64(RlpItem::String(Hex("0004"))).has_value());
  CHECK_FALSE(RlpToUint64(RlpItem::String(Bytes(9, 1))).has_value());
  Bytes deep(40, 0xc0);
  for (size_t i = 0; i < deep.size(); ++i) deep[i] = static_cast<uint8_t>(0xc0 + deep.size() - 1 - i);
  CHECK_FALSE(RlpDecode(deep, 16).has_value());
}

TEST_CASE("EIP-155: the EIP's example transaction", "[chain][eip155][vectors]") {
  // EIP-155 "Example": nonce 9, gasPrice 20 gwei, gas 21000, to 0x3535..., value 10^18, data
  // empty, chainId 1, private key 0x4646...46.
  LegacyTx tx;
  tx.nonce = 9;
  tx.gas_price = 20000000000;
  tx.gas_limit = 21000;
  Address to;
  to.fill(0x35);
  tx.to = to;
  tx.value = Hex("0de0b6b3a7640000");
  tx.chain_id = 1;
  CHECK(H(Eip155SigningHash(tx)) ==
        "daf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53");
  SecretBytes key = SecretBytes::CopyFrom(Bytes(32, 0x46));
  auto signed_tx = SignLegacyTx(tx, key);
  REQUIRE(signed_tx.has_value());
  CHECK(signed_tx->v == 37);
  CHECK(H(signed_tx->r) == "28ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276");
  CHECK(H(signed_tx->s) == "67cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83");
  CHECK(H(signed_tx->raw) ==
        "f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a0"
        "28ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304"
        "b3800ccf555c9f3dc64214b297fb1966a3b6d83");
  auto decoded = DecodeLegacyTx(signed_tx->raw);
  REQUIRE(decoded.has_value());
  CHECK(decoded->sender == AddressFromPrivateKey(key).value());
  CHECK(decoded->tx.chain_id == 1);
  CHECK(decoded->hash == signed_tx->hash);
  CHECK(AddressToString(decoded->sender) == "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F");
}

TEST_CASE("EIP-155: ethereum/tests transactions decode to their sender and hash",
          "[chain][eip155][vectors]") {
  const json v = ReadVectors("eip155_transactions.json")["tests"];
  REQUIRE(v.size() == 17);
  for (const auto& [name, t] : v.items()) {
    INFO(name);
    auto d = DecodeLegacyTx(Hex(t["txbytes"].get<std::string>()));
    if (t["hash"].is_null()) {
      // Refused by a chain of id 1 (their v names another chain, or none).
      CHECK((!d.has_value() || d->tx.chain_id != 1));
      continue;
    }
    REQUIRE(d.has_value());
    // EIP-155 v for chain 1, or a pre-EIP-155 v of 27/28 (still valid everywhere).
    CHECK((d->tx.chain_id == 1 || (d->tx.chain_id == 0 && (d->v == 27 || d->v == 28))));
    CHECK("0x" + H(d->hash) == t["hash"].get<std::string>());
    CHECK("0x" + H(d->sender) == t["sender"].get<std::string>());
  }
}

TEST_CASE("Legacy transactions: malformed and malleable ones are refused", "[chain][eip155]") {
  SecretBytes key = SecretBytes::CopyFrom(Bytes(32, 0x46));
  LegacyTx tx;
  tx.gas_limit = 21000;
  tx.chain_id = 1337;
  tx.data = ToBytes("anchor");
  auto s = SignLegacyTx(tx, key);
  REQUIRE(s.has_value());
  CHECK(DecodeLegacyTx(s->raw).has_value());
  Bytes truncated(s->raw.begin(), s->raw.end() - 1);
  CHECK_FALSE(DecodeLegacyTx(truncated).has_value());
  Bytes typed = s->raw;
  typed.insert(typed.begin(), 0x02);
  CHECK_FALSE(DecodeLegacyTx(typed).has_value());
  // s -> n - s (the malleable twin, EIP-2) with the recovery id flipped.
  static const Bytes kN = Hex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
  Hash32 high{};
  int borrow = 0;
  for (int i = 31; i >= 0; --i) {
    int d = kN[i] - s->s[i] - borrow;
    borrow = d < 0;
    high[i] = static_cast<uint8_t>(d + (borrow ? 256 : 0));
  }
  auto item = RlpDecode(s->raw).value();
  item.items[6] = RlpItem::Uint(s->v ^ 1);
  item.items[8] = RlpItem::UintBytes(high);
  CHECK_FALSE(DecodeLegacyTx(RlpEncode(item)).has_value());
  // A tampered field recovers another sender.
  item = RlpDecode(s->raw).value();
  item.items[0] = RlpItem::Uint(1);
  auto other = DecodeLegacyTx(RlpEncode(item));
  CHECK((!other.has_value() || other->sender != AddressFromPrivateKey(key).value()));
}

TEST_CASE("Recoverable secp256k1 signatures recover the signer", "[chain][wallet]") {
  SecretBytes key = SecretBytes::CopyFrom(Hex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"));
  const Hash32 digest = Keccak256(AsBytes("message"));
  auto sig = wallet::SignSecp256k1Recoverable(key.Reveal(), digest);
  REQUIRE(sig.has_value());
  auto pub = wallet::RecoverSecp256k1PublicKey(digest, *sig);
  REQUIRE(pub.has_value());
  CHECK(*pub == wallet::Secp256k1UncompressedPublicKey(key.Reveal()).value());
  // web3.js's documented account for this key.
  CHECK(AddressToString(AddressFromPrivateKey(key).value()) ==
        "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23");
  CHECK_FALSE(wallet::SignSecp256k1Recoverable(Bytes(32, 0), digest).has_value());
  CHECK_FALSE(wallet::SignSecp256k1Recoverable(key.Reveal(), Bytes(31, 1)).has_value());
}

TEST_CASE("BIP-44 Ethereum accounts: m/44'/60'/N'/0/0 of a BIP-39 seed", "[chain][bip44]") {
  // Hardhat's and ganache's well-known development mnemonic: account 0 (BIP-32 over secp256k1
  // at BIP-44 coin type 60, SLIP-44) is the documented 0xf39F...2266 with its documented key.
  auto seed = wallet::bip39::MnemonicToSeed(
      "test test test test test test test test test test test junk", "");
  REQUIRE(seed.has_value());
  CHECK(EthereumAccountPath(0) == "m/44'/60'/0'/0/0");
  CHECK(EthereumAccountPath(7) == "m/44'/60'/7'/0/0");
  auto key = EthereumKeyFromSeed(seed->Reveal(), 0);
  REQUIRE(key.has_value());
  CHECK(HexEncode(key->Reveal()) ==
        "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
  CHECK(AddressToString(AddressFromPrivateKey(*key).value()) ==
        "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
  auto other = EthereumKeyFromSeed(seed->Reveal(), 1);
  REQUIRE(other.has_value());
  CHECK(HexEncode(other->Reveal()) != HexEncode(key->Reveal()));
  CHECK(EthereumKeyFromSeed(seed->Reveal(), 0x80000000u).error().code() ==
        StatusCode::kInvalidArgument);
  CHECK(EthereumKeyFromSeed(Bytes(8, 1), 0).error().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("EIP-55 addresses", "[chain][eip55]") {
  // The EIP's examples.
  for (const char* a : {"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
                        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
                        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
                        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb"}) {
    auto parsed = ParseAddress(a);
    REQUIRE(parsed.has_value());
    CHECK(AddressToString(*parsed) == a);
  }
  CHECK(ParseAddress("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed").has_value());
  CHECK_FALSE(ParseAddress("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD").has_value());  // bad checksum
  CHECK_FALSE(ParseAddress("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed").has_value());
  CHECK_FALSE(ParseAddress("0x5aaeb6053f3e94c9b9a09f33669435e7ef1bea").has_value());
  CHECK_FALSE(ParseAddress("0xzaaeb6053f3e94c9b9a09f33669435e7ef1beaed").has_value());
}

TEST_CASE("Solidity ABI: selectors, words, decoding", "[chain][abi]") {
  // The ABI specification's examples and the ERC-20 transfer selector.
  CHECK(H(FunctionSelector("baz(uint32,bool)")) == "cdcd77c0");
  CHECK(H(FunctionSelector("transfer(address,uint256)")) == "a9059cbb");
  CHECK(H(EventTopic("Transfer(address,address,uint256)")) ==
        "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef");
  const Bytes call = AbiCall("anchor(bytes32,uint64,bytes32)", {AbiWord{}, AbiUint(7), AbiWord{}});
  REQUIRE(call.size() == 4 + 96);
  CHECK(call[4 + 63] == 7);
  CHECK(AbiWordToUint64(AbiUint(0xdeadbeef)).value() == 0xdeadbeef);
  AbiWord wide = AbiUint(1);
  wide[0] = 1;
  CHECK_FALSE(AbiWordToUint64(wide).has_value());
  Address a;
  a.fill(0xab);
  CHECK(AbiWordToAddress(AbiAddress(a)).value() == a);
  CHECK_FALSE(AbiWordToAddress(wide).has_value());
  CHECK_FALSE(AbiWords(Bytes(63), 2).has_value());
  CHECK(AbiWords(Bytes(64), 2).has_value());
}

TEST_CASE("JSON-RPC quantities and data", "[chain][jsonrpc]") {
  CHECK(ParseQuantity(json("0x0")).value() == 0);
  CHECK(ParseQuantity(json("0x41")).value() == 65);
  CHECK(ParseQuantity(json("0xffffffffffffffff")).value() == UINT64_MAX);
  CHECK_FALSE(ParseQuantity(json("0x")).has_value());
  CHECK_FALSE(ParseQuantity(json("0x0400")).has_value());  // leading zero
  CHECK_FALSE(ParseQuantity(json("ff")).has_value());
  CHECK_FALSE(ParseQuantity(json("0x10000000000000000")).has_value());
  CHECK_FALSE(ParseQuantity(json(65)).has_value());
  CHECK(QuantityHex(0) == "0x0");
  CHECK(QuantityHex(1024) == "0x400");
  CHECK(ParseData(json("0x")).value().empty());
  CHECK(ParseData(json("0x0041")).value() == Bytes{0x00, 0x41});
  CHECK_FALSE(ParseData(json("0x004")).has_value());
  CHECK_FALSE(ParseData(json("0xzz")).has_value());
  CHECK(DataHex(Bytes{0x00, 0x41}) == "0x0041");
}
