// chain against a hostile or failing JSON-RPC node: an in-process httplib server answering
// eth_* calls from a table the test controls. Every answer that disagrees with itself or with
// the contract's state is data_loss; refusals are failed_precondition; a node that is down is
// unavailable.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "medallion/chain/abi.h"
#include "medallion/chain/anchor.h"
#include "medallion/chain/json_rpc.h"
#include "medallion/core/encoding.h"

using namespace medallion;
using namespace medallion::chain;
using nlohmann::json;

namespace {

// answers[method](params) -> the "result"; a method without an entry answers a JSON-RPC error.
using Handler = std::function<json(const json& params)>;

class FakeNode {
 public:
  FakeNode() {
    server_.Post("/", [this](const httplib::Request& req, httplib::Response& res) {
      if (!raw_body_.empty()) {
        res.status = raw_status_;
        res.set_content(raw_body_, "application/json");
        return;
      }
      json r = json::parse(req.body);
      const std::string method = r["method"];
      json out = {{"jsonrpc", "2.0"}, {"id", r["id"]}};
      auto it = answers.find(method);
      if (it == answers.end()) {
        out["error"] = {{"code", -32000}, {"message", "no " + method + " here"}};
      } else {
        out["result"] = it->second(r["params"]);
      }
      res.set_content(out.dump(), "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() before the accept loop runs would be lost; wait for it.
    for (int i = 0; i < 2000 && !server_.is_running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeNode() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void AnswerRaw(int status, std::string body) {
    raw_status_ = status;
    raw_body_ = std::move(body);
  }

  std::map<std::string, Handler> answers;

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  int raw_status_ = 200;
  std::string raw_body_;
};

std::string WordHex(const AbiWord& w) { return HexEncode(w); }

Hash32 Filled(uint8_t b) {
  Hash32 h;
  h.fill(b);
  return h;
}

Address Addr(uint8_t b) {
  Address a;
  a.fill(b);
  return a;
}

struct FakeAnchor {
  Hash32 origin;
  uint64_t size;
  Hash32 root;
  Address sender;
  uint64_t index;
};

json LogJson(const Address& contract, const FakeAnchor& a) {
  return {{"address", DataHex(contract)},
          {"topics", json::array({DataHex(EventTopic(kAnchoredEvent)), DataHex(a.origin),
                                  DataHex(AbiUint(a.size)), DataHex(AbiAddress(a.sender))})},
          {"data", "0x" + WordHex(a.root) + WordHex(AbiUint(a.index))},
          {"blockNumber", QuantityHex(10 + a.index)},
          {"logIndex", "0x0"},
          {"transactionHash", DataHex(Filled(static_cast<uint8_t>(0x70 + a.index)))},
          {"removed", false}};
}

// A contract whose state is `state` and whose logs are `logs` (possibly disagreeing).
void ServeContract(FakeNode& node, const Address& contract, std::vector<FakeAnchor> state,
                   std::vector<FakeAnchor> logs) {
  node.answers["eth_call"] = [state](const json& params) -> json {
    auto data = ParseData(params[0]["data"]).value();
    const std::string sel = HexEncode(ByteView(data).first(4));
    if (sel == HexEncode(FunctionSelector(kAnchorCountFunction)))
      return "0x" + WordHex(AbiUint(state.size()));
    if (sel == HexEncode(FunctionSelector(kWriterFunction)))
      return "0x" + WordHex(AbiAddress(Addr(0xaa)));
    if (sel == HexEncode(FunctionSelector(kAnchorAtFunction))) {
      AbiWord w;
      std::copy(data.begin() + 4, data.end(), w.begin());
      const FakeAnchor& a = state.at(AbiWordToUint64(w).value());
      return "0x" + WordHex(a.origin) + WordHex(AbiUint(a.size)) + WordHex(a.root) +
             WordHex(AbiAddress(a.sender)) + WordHex(AbiUint(10 + a.index));
    }
    return "0x";
  };
  node.answers["eth_blockNumber"] = [](const json&) -> json { return QuantityHex(100); };
  node.answers["eth_getLogs"] = [contract, logs](const json&) -> json {
    json out = json::array();
    for (const auto& a : logs) out.push_back(LogJson(contract, a));
    return out;
  };
}

// eth_getLogs honouring fromBlock/toBlock, refusing ranges wider than `cap` blocks as public
// providers do, and recording each range asked for.
void ServeRangedLogs(FakeNode& node, const Address& contract, std::vector<FakeAnchor> logs,
                     uint64_t cap, std::vector<std::pair<uint64_t, uint64_t>>* asked) {
  node.answers["eth_getLogs"] = [=](const json& params) -> json {
    const uint64_t from = ParseQuantity(params[0]["fromBlock"]).value();
    const uint64_t to = ParseQuantity(params[0]["toBlock"]).value();
    asked->emplace_back(from, to);
    if (to - from + 1 > cap) throw std::runtime_error("range too wide");
    json out = json::array();
    const json& topics = params[0]["topics"];
    for (const auto& a : logs) {
      const uint64_t block = 10 + a.index;
      if (topics.size() > 1 && topics[1] != DataHex(a.origin)) continue;
      if (block >= from && block <= to) out.push_back(LogJson(contract, a));
    }
    return out;
  };
}

}  // namespace

TEST_CASE("AnchorContract::List decodes logs and checks them against the state",
          "[chain][anchor]") {
  FakeNode node;
  const Address contract = Addr(0xcc);
  const FakeAnchor a0{Filled(1), 3, Filled(0x33), Addr(0xaa), 0};
  const FakeAnchor a1{Filled(1), 6, Filled(0x66), Addr(0xaa), 1};
  AnchorContract c(JsonRpcClient(node.url()), contract);

  SECTION("consistent") {
    ServeContract(node, contract, {a0, a1}, {a1, a0});
    auto list = c.List(std::nullopt);
    REQUIRE(list.has_value());
    REQUIRE(list->size() == 2);
    CHECK((*list)[0].size == 3);  // sorted by index
    CHECK((*list)[1].root == Filled(0x66));
    CHECK((*list)[1].sender == Addr(0xaa));
    CHECK((*list)[1].block_number == 11);
    CHECK(c.Writer().value() == Addr(0xaa));
  }
  SECTION("a log hidden") {
    ServeContract(node, contract, {a0, a1}, {a0});
    CHECK(c.List(std::nullopt).error().code() == StatusCode::kDataLoss);
  }
  SECTION("a log invented beyond the count") {
    FakeAnchor extra = a1;
    extra.index = 2;
    ServeContract(node, contract, {a0, a1}, {a0, a1, extra});
    CHECK(c.List(std::nullopt).error().code() == StatusCode::kDataLoss);
  }
  SECTION("an index twice") {
    FakeAnchor twin = a1;
    twin.index = 0;
    ServeContract(node, contract, {a0, a1}, {a0, twin});
    CHECK(c.List(std::nullopt).error().code() == StatusCode::kDataLoss);
  }
  SECTION("the newest log disagrees with anchorAt") {
    FakeAnchor lie = a1;
    lie.root = Filled(0x99);
    ServeContract(node, contract, {a0, a1}, {a0, lie});
    CHECK(c.List(std::nullopt).error().code() == StatusCode::kDataLoss);
  }
  SECTION("a malformed log") {
    ServeContract(node, contract, {a0}, {});
    node.answers["eth_getLogs"] = [&](const json&) -> json {
      json l = LogJson(contract, a0);
      l["topics"].erase(3);
      return json::array({l});
    };
    CHECK(c.List(std::nullopt).error().code() == StatusCode::kDataLoss);
    node.answers["eth_getLogs"] = [&](const json&) -> json {
      json l = LogJson(contract, a0);
      l["data"] = "0x1234";
      return json::array({l});
    };
    CHECK(c.List(std::nullopt).error().code() == StatusCode::kDataLoss);
    node.answers["eth_getLogs"] = [&](const json&) -> json { return json::object(); };
    CHECK(c.List(std::nullopt).error().code() == StatusCode::kDataLoss);
  }
}

TEST_CASE("AnchorContract::List pages eth_getLogs from a block on", "[chain][anchor]") {
  FakeNode node;
  const Address contract = Addr(0xcc);
  // Blocks 10, 11, 12; the head is 100.
  const FakeAnchor a0{Filled(1), 3, Filled(0x33), Addr(0xaa), 0};
  const FakeAnchor a1{Filled(1), 6, Filled(0x66), Addr(0xaa), 1};
  const FakeAnchor a2{Filled(2), 9, Filled(0x99), Addr(0xaa), 2};
  AnchorContract c(JsonRpcClient(node.url()), contract);
  ServeContract(node, contract, {a0, a1, a2}, {});
  std::vector<std::pair<uint64_t, uint64_t>> asked;

  SECTION("bounded ranges up to the head") {
    ServeRangedLogs(node, contract, {a0, a1, a2}, 7, &asked);
    auto list = c.List(std::nullopt, {0, 7});
    REQUIRE(list.has_value());
    CHECK(list->size() == 3);
    REQUIRE(asked.size() == 15);  // 0-6, 7-13, ..., 98-100
    CHECK(asked[0] == std::pair<uint64_t, uint64_t>{0, 6});
    CHECK(asked[1] == std::pair<uint64_t, uint64_t>{7, 13});
    CHECK(asked.back() == std::pair<uint64_t, uint64_t>{98, 100});
    // The provider's cap exceeded: its error, nothing half-listed.
    asked.clear();
    CHECK(c.List(std::nullopt, {0, 8}).error().code() == StatusCode::kUnavailable);
    CHECK(c.List(std::nullopt, {0, 0}).error().code() == StatusCode::kInvalidArgument);
    // A head that would take more than 100,000 queries is refused before the first.
    node.answers["eth_blockNumber"] = [](const json&) -> json { return QuantityHex(1u << 30); };
    asked.clear();
    CHECK(c.List(std::nullopt, {0, 10000}).error().code() == StatusCode::kResourceExhausted);
    CHECK(asked.empty());
  }
  SECTION("from a later block: the newest anchors, checked to be a suffix") {
    ServeRangedLogs(node, contract, {a0, a1, a2}, 10000, &asked);
    auto list = c.List(std::nullopt, {11, 10000});
    REQUIRE(list.has_value());
    REQUIRE(list->size() == 2);
    CHECK((*list)[0].index == 1);
    CHECK(asked == std::vector<std::pair<uint64_t, uint64_t>>{{11, 100}});
    auto of_origin = c.List(Filled(1), {11, 10000});
    REQUIRE(of_origin.has_value());
    CHECK(of_origin->size() == 1);
    CHECK(c.List(std::nullopt, {101, 10000}).value().empty());  // beyond the head
  }
  SECTION("a node hiding the newest anchor from a later block") {
    ServeRangedLogs(node, contract, {a0, a1}, 10000, &asked);
    CHECK(c.List(std::nullopt, {11, 10000}).error().code() == StatusCode::kDataLoss);
  }
  SECTION("a node hiding one in the middle from a later block") {
    ServeRangedLogs(node, contract, {a0, a2}, 10000, &asked);
    CHECK(c.List(std::nullopt, {10, 10000}).error().code() == StatusCode::kDataLoss);
  }
  SECTION("a log from outside the range asked for") {
    node.answers["eth_getLogs"] = [&](const json&) -> json {
      return json::array({LogJson(contract, a0), LogJson(contract, a1), LogJson(contract, a2)});
    };
    CHECK(c.List(std::nullopt, {0, 11}).error().code() == StatusCode::kDataLoss);
  }
}

TEST_CASE("SendAndWait signs for the node's chain and nonce and checks its answers",
          "[chain][anchor]") {
  FakeNode node;
  SecretBytes key = SecretBytes::CopyFrom(Bytes(32, 0x46));
  const Address from = AddressFromPrivateKey(key).value();
  std::optional<DecodedTx> sent;
  json receipt_status = "0x1";
  bool lie_about_hash = false;
  node.answers["eth_chainId"] = [](const json&) -> json { return "0x539"; };
  node.answers["eth_getTransactionCount"] = [&](const json& p) -> json {
    CHECK(p[0] == DataHex(from));
    CHECK(p[1] == "pending");
    return "0x7";
  };
  node.answers["eth_gasPrice"] = [](const json&) -> json { return "0x77359400"; };
  node.answers["eth_estimateGas"] = [](const json&) -> json { return "0x186a0"; };
  node.answers["eth_sendRawTransaction"] = [&](const json& p) -> json {
    auto raw = ParseData(p[0]).value();
    auto d = DecodeLegacyTx(raw);
    REQUIRE(d.has_value());
    sent = *d;
    return DataHex(lie_about_hash ? Filled(0x01) : d->hash);
  };
  node.answers["eth_getTransactionReceipt"] = [&](const json& p) -> json {
    return {{"transactionHash", p[0]},
            {"blockNumber", "0x2a"},
            {"status", receipt_status},
            {"gasUsed", "0x1d4c0"},
            {"contractAddress", nullptr}};
  };
  const JsonRpcClient rpc(node.url());
  const Address to = Addr(0xcc);

  auto ok = SendAndWait(rpc, key, to, Bytes{1, 2, 3}, std::chrono::seconds(5));
  REQUIRE(ok.has_value());
  CHECK(ok->block_number == 42);
  REQUIRE(sent.has_value());
  CHECK(sent->sender == from);
  CHECK(sent->tx.chain_id == 1337);
  CHECK(sent->tx.nonce == 7);
  CHECK(sent->tx.gas_price == 2000000000);
  CHECK(sent->tx.gas_limit == 125000);  // estimate + a quarter
  CHECK(sent->tx.to == to);
  CHECK(sent->tx.data == Bytes{1, 2, 3});

  receipt_status = "0x0";
  auto reverted = SendAndWait(rpc, key, to, Bytes{1}, std::chrono::seconds(5));
  REQUIRE_FALSE(reverted.has_value());
  CHECK(reverted.error().code() == StatusCode::kFailedPrecondition);

  receipt_status = "0x1";
  lie_about_hash = true;
  CHECK(SendAndWait(rpc, key, to, Bytes{1}, std::chrono::seconds(5)).error().code() ==
        StatusCode::kDataLoss);
  lie_about_hash = false;

  node.answers["eth_getTransactionReceipt"] = [](const json&) -> json { return nullptr; };
  auto pending = SendAndWait(rpc, key, to, Bytes{1}, std::chrono::milliseconds(300));
  CHECK(pending.error().code() == StatusCode::kUnavailable);

  node.answers.erase("eth_estimateGas");  // the node refuses (as for a revert)
  auto refused = SendAndWait(rpc, key, to, Bytes{1}, std::chrono::seconds(5));
  CHECK(refused.error().code() == StatusCode::kFailedPrecondition);
  CHECK(refused.error().message().find("no eth_estimateGas here") != std::string::npos);
}

TEST_CASE("JsonRpcClient: broken answers and unreachable nodes", "[chain][jsonrpc]") {
  FakeNode node;
  const JsonRpcClient rpc(node.url());
  node.answers["eth_chainId"] = [](const json&) -> json { return "0x01"; };  // leading zero
  CHECK_FALSE(rpc.ChainId().has_value());
  node.answers["eth_chainId"] = [](const json&) -> json { return 1; };
  CHECK_FALSE(rpc.ChainId().has_value());
  node.AnswerRaw(200, "not json");
  CHECK(rpc.ChainId().error().code() == StatusCode::kDataLoss);
  node.AnswerRaw(200, std::string(100000, '[') + std::string(100000, ']'));
  CHECK(rpc.ChainId().error().code() == StatusCode::kDataLoss);
  node.AnswerRaw(200, R"({"jsonrpc":"2.0","id":999999,"result":"0x1"})");
  CHECK(rpc.ChainId().error().code() == StatusCode::kDataLoss);  // another call's answer
  node.AnswerRaw(502, "bad gateway");
  CHECK(rpc.ChainId().error().code() == StatusCode::kUnavailable);
  const JsonRpcClient down("http://127.0.0.1:1/v3/SECRET-API-KEY", 2);
  auto unreachable = down.ChainId();
  CHECK(unreachable.error().code() == StatusCode::kUnavailable);
  CHECK(unreachable.error().message().find("SECRET") == std::string::npos);
  CHECK(unreachable.error().message().find("127.0.0.1:1") != std::string::npos);
  const JsonRpcClient plain("http://127.0.0.1:1", 2);  // no path: named as given
  CHECK(plain.ChainId().error().message().find("http://127.0.0.1:1") != std::string::npos);
}
