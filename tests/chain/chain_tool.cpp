// chain_tool: the chain module's codecs from the command line, for interop:anchoring (the
// independent implementations are ethers and ganache from npm).
//   chain_tool keccak HEX                 -> hex of keccak256
//   chain_tool decode-tx HEX              -> JSON of the signed legacy transaction and its sender
//   chain_tool sign-tx KEY_HEX JSON       -> JSON {raw, hash, from}; JSON has nonce, gasPrice,
//                                            gas, to (or null), value (hex), data (hex), chainId
//   chain_tool address KEY_HEX            -> the EIP-55 address of a private key
// Exit 0 on success, 1 when the input is refused (the error on stderr).
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "medallion/chain/eth_tx.h"
#include "medallion/chain/json_rpc.h"
#include "medallion/chain/keccak.h"
#include "medallion/core/encoding.h"

using namespace medallion;
using namespace medallion::chain;
using nlohmann::json;

namespace {

Result<Bytes> Hex(std::string s) {
  if (s.rfind("0x", 0) == 0) s = s.substr(2);
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return HexDecode(s);
}

int Fail(const Status& st) {
  std::cerr << st.ToString() << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: chain_tool keccak|decode-tx|sign-tx|address ...\n";
    return 2;
  }
  const std::string cmd = argv[1];
  if (cmd == "keccak") {
    auto b = Hex(argv[2]);
    if (!b) return Fail(b.error());
    std::cout << HexEncode(Keccak256(*b)) << "\n";
    return 0;
  }
  if (cmd == "address") {
    auto b = Hex(argv[2]);
    if (!b) return Fail(b.error());
    auto a = AddressFromPrivateKey(SecretBytes::CopyFrom(*b));
    if (!a) return Fail(a.error());
    std::cout << AddressToString(*a) << "\n";
    return 0;
  }
  if (cmd == "decode-tx") {
    auto b = Hex(argv[2]);
    if (!b) return Fail(b.error());
    auto d = DecodeLegacyTx(*b);
    if (!d) return Fail(d.error());
    json out = {{"nonce", d->tx.nonce},
                {"gasPrice", std::to_string(d->tx.gas_price)},
                {"gas", d->tx.gas_limit},
                {"to", d->tx.to ? json(AddressToString(*d->tx.to)) : json(nullptr)},
                {"value", DataHex(d->tx.value)},
                {"data", DataHex(d->tx.data)},
                {"chainId", d->tx.chain_id},
                {"v", d->v},
                {"r", DataHex(d->r)},
                {"s", DataHex(d->s)},
                {"from", AddressToString(d->sender)},
                {"hash", DataHex(d->hash)}};
    std::cout << out.dump() << "\n";
    return 0;
  }
  if (cmd == "sign-tx" && argc >= 4) {
    auto key = Hex(argv[2]);
    if (!key) return Fail(key.error());
    SecretBytes secret = SecretBytes::CopyFrom(*key);
    json in = json::parse(argv[3]);
    LegacyTx tx;
    tx.nonce = in.at("nonce").get<uint64_t>();
    tx.gas_price = in.at("gasPrice").get<uint64_t>();
    tx.gas_limit = in.at("gas").get<uint64_t>();
    if (!in.at("to").is_null()) {
      auto to = ParseAddress(in.at("to").get<std::string>());
      if (!to) return Fail(to.error());
      tx.to = *to;
    }
    auto value = Hex(in.at("value").get<std::string>());
    auto data = Hex(in.at("data").get<std::string>());
    if (!value || !data) return Fail(Status::InvalidArgument("value and data are hex"));
    tx.value = *value;
    tx.data = *data;
    tx.chain_id = in.at("chainId").get<uint64_t>();
    auto s = SignLegacyTx(tx, secret);
    if (!s) return Fail(s.error());
    auto from = AddressFromPrivateKey(secret);
    std::cout << json{{"raw", DataHex(s->raw)},
                      {"hash", DataHex(s->hash)},
                      {"from", AddressToString(*from)}}
                     .dump()
              << "\n";
    return 0;
  }
  std::cerr << "unknown command\n";
  return 2;
}
