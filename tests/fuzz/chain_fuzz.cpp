// Fuzz target: what the EVM anchoring (chain/) reads from outside — RLP, signed legacy
// transactions, JSON-RPC quantities and data, ABI words, and whole JSON-RPC answers of an
// Ethereum node. The first byte picks the mode:
//   0  RlpDecode (strict: a decoded item must encode back to the exact input, Yellow Paper
//      App. B) and DecodeLegacyTx (EIP-155; a decoded transaction's hash is keccak256 of it)
//   1  the input as JSON (the bounded parser): ParseQuantity (a quantity prints back as
//      itself, in lower case), ParseData, and ParseAddress of a string (EIP-55)
//   2  AbiWords over the input, each word as uint64 and as address (zero padding enforced)
//   3  a fake JSON-RPC node on loopback whose answers are the input (split at 0x1E, used in
//      turn): AnchorContract::Writer/Count/List, and Receipt, ChainId, GasPrice through the
//      client (eth_call, eth_getLogs, eth_getTransactionReceipt, ...)
#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "medallion/chain/abi.h"
#include "medallion/chain/anchor.h"
#include "medallion/chain/eth_tx.h"
#include "medallion/chain/json_rpc.h"
#include "medallion/chain/keccak.h"
#include "medallion/chain/rlp.h"
#include "medallion/core/json.h"

using namespace medallion;
using namespace medallion::chain;

namespace {

// Answers every POST with the next of the input's answers (the JSON-RPC body as is).
struct FakeNode {
  std::mutex mu;
  std::vector<std::string> answers;
  size_t next = 0;
  httplib::Server server;
  std::thread thread;
  int port = 0;

  FakeNode() {
    server.Post(".*", [this](const httplib::Request&, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu);
      const std::string body = answers.empty() ? "" : answers[next++ % answers.size()];
      res.set_content(body, "application/json");
    });
    port = server.bind_to_any_port("127.0.0.1");
    MDL_FUZZ_CHECK(port > 0);
    thread = std::thread([this] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeNode() {
    server.stop();
    thread.join();
  }
  void Set(std::string_view input) {
    std::lock_guard<std::mutex> lock(mu);
    answers.clear();
    next = 0;
    size_t start = 0;
    while (answers.size() < 8) {
      const size_t sep = input.find('\x1e', start);
      answers.emplace_back(input.substr(start, sep == std::string_view::npos ? sep : sep - start));
      if (sep == std::string_view::npos) break;
      start = sep + 1;
    }
  }
};

FakeNode* node = nullptr;

void Cleanup() {
  delete node;
  node = nullptr;
}

void Rlp(ByteView raw) {
  if (auto item = RlpDecode(raw)) {
    const Bytes again = RlpEncode(*item);
    MDL_FUZZ_CHECK(again.size() == raw.size() && std::equal(again.begin(), again.end(), raw.begin()));
  }
  if (auto tx = DecodeLegacyTx(raw)) MDL_FUZZ_CHECK(tx->hash == Keccak256(raw));
}

void JsonValues(std::string_view text) {
  auto value = ParseJson(text);
  if (!value) return;
  if (auto q = ParseQuantity(*value)) {
    std::string lower = value->get<std::string>();
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    MDL_FUZZ_CHECK(QuantityHex(*q) == lower);
  }
  if (auto d = ParseData(*value)) {
    std::string lower = value->get<std::string>();
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    MDL_FUZZ_CHECK(DataHex(*d) == lower);
  }
  if (value->is_string()) (void)ParseAddress(value->get<std::string>());
}

void Abi(ByteView data) {
  auto words = AbiWords(data, data.size() / 32);
  if (!words) return;
  for (const AbiWord& w : *words) {
    if (auto v = AbiWordToUint64(w)) MDL_FUZZ_CHECK(AbiUint(*v) == w);
    if (auto a = AbiWordToAddress(w)) MDL_FUZZ_CHECK(AbiAddress(*a) == w);
  }
}

void Node(std::string_view input) {
  if (node == nullptr) {
    node = new FakeNode();
    std::atexit(Cleanup);
  }
  node->Set(input);
  JsonRpcClient rpc("http://127.0.0.1:" + std::to_string(node->port), 5);
  Address contract{};
  contract.fill(0x11);
  AnchorContract anchors(rpc, contract);
  (void)anchors.Writer();
  (void)anchors.Count();
  (void)anchors.List(std::nullopt);
  Hash32 origin{};
  origin.fill(0x22);
  (void)anchors.List(origin);
  Hash32 tx{};
  tx.fill(0x33);
  (void)rpc.Receipt(tx);
  (void)rpc.ChainId();
  (void)rpc.GasPrice();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > 16 * 1024) return 0;
  const ByteView rest(data + 1, size - 1);
  const std::string_view text = fuzz::AsView(data + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      Rlp(rest);
      break;
    case 1:
      JsonValues(text);
      break;
    case 2:
      Abi(rest);
      break;
    case 3:
      Node(text);
      break;
  }
  return 0;
}
