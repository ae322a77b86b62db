// Ethereum JSON-RPC over HTTP through http's one client.
#include "medallion/chain/json_rpc.h"

#include <atomic>

#include <nlohmann/json.hpp>

#include "medallion/core/encoding.h"
#include "medallion/core/json.h"
#include "medallion/http/http_client.h"

namespace medallion::chain {
namespace {

using nlohmann::json;

Result<Hash32> ParseHash(const json& v, const char* what) {
  auto b = ParseData(v);
  if (!b || b->size() != 32)
    return Status::DataLoss(std::string("json-rpc: ") + what + " is not 32 bytes of DATA");
  Hash32 h;
  std::copy(b->begin(), b->end(), h.begin());
  return h;
}

Result<Address> ParseAddressData(const json& v) {
  auto b = ParseData(v);
  if (!b || b->size() != 20) return Status::DataLoss("json-rpc: address is not 20 bytes of DATA");
  Address a;
  std::copy(b->begin(), b->end(), a.begin());
  return a;
}

Result<uint64_t> Quantity(const json& obj, const char* name) {
  if (!obj.is_object() || !obj.contains(name))
    return Status::DataLoss(std::string("json-rpc: no ") + name);
  auto q = ParseQuantity(obj[name]);
  if (!q) return Status::DataLoss(std::string("json-rpc: ") + name + ": " + q.error().message());
  return *q;
}

std::atomic<uint64_t> g_request_id{1};

}  // namespace

Result<uint64_t> ParseQuantity(const json& value) {
  if (!value.is_string()) return Status::InvalidArgument("a quantity is a 0x-hex string");
  const std::string& s = value.get_ref<const std::string&>();
  if (s.size() < 3 || s[0] != '0' || s[1] != 'x')
    return Status::InvalidArgument("a quantity is 0x followed by hex digits");
  if (s.size() > 3 && s[2] == '0') return Status::InvalidArgument("a quantity has no leading zero");
  if (s.size() > 18) return Status::InvalidArgument("a quantity beyond 64 bits");
  uint64_t v = 0;
  for (size_t i = 2; i < s.size(); ++i) {
    const char c = s[i];
    int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                                             : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
    if (d < 0) return Status::InvalidArgument("a quantity has a non-hex digit");
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  return v;
}

Result<Bytes> ParseData(const json& value) {
  if (!value.is_string()) return Status::InvalidArgument("DATA is a 0x-hex string");
  const std::string& s = value.get_ref<const std::string&>();
  if (s.size() < 2 || s[0] != '0' || s[1] != 'x' || s.size() % 2 != 0)
    return Status::InvalidArgument("DATA is 0x followed by an even number of hex digits");
  std::string lower = s.substr(2);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto b = HexDecode(lower);
  if (!b) return Status::InvalidArgument("DATA is not hex");
  return std::move(*b);
}

std::string DataHex(ByteView bytes) { return "0x" + HexEncode(bytes); }

std::string QuantityHex(uint64_t value) {
  static const char* kDigits = "0123456789abcdef";
  if (value == 0) return "0x0";
  std::string out;
  while (value > 0) {
    out.insert(out.begin(), kDigits[value & 0xf]);
    value >>= 4;
  }
  return "0x" + out;
}

JsonRpcClient::JsonRpcClient(std::string url, int timeout_seconds)
    : url_(std::move(url)), timeout_seconds_(timeout_seconds) {
  // Providers put API keys in the path or query ("https://host/v3/KEY"): messages name the
  // scheme, host and port only.
  const size_t scheme = url_.find("://");
  const size_t path = url_.find_first_of("/?#", scheme == std::string::npos ? 0 : scheme + 3);
  display_ = path == std::string::npos ? url_ : url_.substr(0, path);
}

Result<json> JsonRpcClient::Call(const std::string& method, const json& params) const {
  const uint64_t id = g_request_id.fetch_add(1);
  json request = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}};
  auto reply = http::HttpCall("POST", url_, "", request.dump(), "application/json",
                              timeout_seconds_, "", size_t{32} << 20);
  if (!reply) {
    std::string detail = reply.error().message();
    for (size_t at = detail.find(url_); at != std::string::npos;
         at = detail.find(url_, at + display_.size())) {
      detail.replace(at, url_.size(), display_);
    }
    return Status::Unavailable("chain node " + display_ + ": " + detail);
  }
  if (reply->status >= 500)
    return Status::Unavailable("chain node " + display_ + " answered HTTP " +
                               std::to_string(reply->status));
  auto answer = ParseJson(reply->body, JsonLimits{size_t{32} << 20, 32});
  if (!answer || !answer->is_object())
    return Status::DataLoss(method + ": the answer is not a JSON-RPC object (HTTP " +
                            std::to_string(reply->status) + ")");
  const json& a = *answer;
  if (a.contains("error")) {
    const json& e = a["error"];
    std::string message = e.is_object() ? StringOr(e, "message", "error") : "error";
    return Status::FailedPrecondition(method + ": " + message.substr(0, 300));
  }
  if (!a.contains("result")) return Status::DataLoss(method + ": no result in the answer");
  if (!a.contains("id") || a["id"] != json(id)) return Status::DataLoss(method + ": wrong id");
  return a["result"];
}

Result<uint64_t> JsonRpcClient::ChainId() const {
  MDL_ASSIGN_OR_RETURN(json r, Call("eth_chainId", json::array()));
  return ParseQuantity(r);
}

Result<uint64_t> JsonRpcClient::GasPrice() const {
  MDL_ASSIGN_OR_RETURN(json r, Call("eth_gasPrice", json::array()));
  return ParseQuantity(r);
}

Result<uint64_t> JsonRpcClient::BlockNumber() const {
  MDL_ASSIGN_OR_RETURN(json r, Call("eth_blockNumber", json::array()));
  return ParseQuantity(r);
}

Result<uint64_t> JsonRpcClient::PendingNonce(const Address& account) const {
  MDL_ASSIGN_OR_RETURN(json r,
                       Call("eth_getTransactionCount", json::array({DataHex(account), "pending"})));
  return ParseQuantity(r);
}

Result<Hash32> JsonRpcClient::SendRawTransaction(ByteView raw) const {
  MDL_ASSIGN_OR_RETURN(json r, Call("eth_sendRawTransaction", json::array({DataHex(raw)})));
  return ParseHash(r, "transaction hash");
}

Result<std::optional<TxReceipt>> JsonRpcClient::Receipt(const Hash32& tx) const {
  MDL_ASSIGN_OR_RETURN(json r, Call("eth_getTransactionReceipt", json::array({DataHex(tx)})));
  if (r.is_null()) return std::optional<TxReceipt>();
  if (!r.is_object()) return Status::DataLoss("eth_getTransactionReceipt: not an object");
  TxReceipt out;
  MDL_ASSIGN_OR_RETURN(out.transaction_hash, ParseHash(MemberOr(r, "transactionHash"), "hash"));
  if (out.transaction_hash != tx) return Status::DataLoss("receipt of another transaction");
  MDL_ASSIGN_OR_RETURN(out.block_number, Quantity(r, "blockNumber"));
  MDL_ASSIGN_OR_RETURN(uint64_t status, Quantity(r, "status"));
  out.success = status == 1;
  MDL_ASSIGN_OR_RETURN(out.gas_used, Quantity(r, "gasUsed"));
  if (const json& c = MemberOr(r, "contractAddress"); !c.is_null()) {
    MDL_ASSIGN_OR_RETURN(Address a, ParseAddressData(c));
    out.contract_address = a;
  }
  return std::optional<TxReceipt>(out);
}

Result<uint64_t> JsonRpcClient::EstimateGas(const Address& from, const std::optional<Address>& to,
                                            ByteView data) const {
  json call = {{"from", DataHex(from)}, {"data", DataHex(data)}};
  if (to) call["to"] = DataHex(*to);
  MDL_ASSIGN_OR_RETURN(json r, Call("eth_estimateGas", json::array({call})));
  return ParseQuantity(r);
}

Result<Bytes> JsonRpcClient::EthCall(const Address& to, ByteView data,
                                     std::optional<uint64_t> block) const {
  json call = {{"to", DataHex(to)}, {"data", DataHex(data)}};
  const json at = block ? json(QuantityHex(*block)) : json("latest");
  MDL_ASSIGN_OR_RETURN(json r, Call("eth_call", json::array({call, at})));
  auto b = ParseData(r);
  if (!b) return Status::DataLoss("eth_call: " + b.error().message());
  return std::move(*b);
}

Result<std::vector<LogEntry>> JsonRpcClient::GetLogs(const Address& address, const Hash32& topic0,
                                                     const std::optional<Hash32>& topic1,
                                                     size_t max_logs, uint64_t from_block,
                                                     std::optional<uint64_t> to_block) const {
  json topics = json::array({DataHex(topic0)});
  if (topic1) topics.push_back(DataHex(*topic1));
  json filter = {{"address", DataHex(address)},
                 {"fromBlock", QuantityHex(from_block)},
                 {"toBlock", to_block ? json(QuantityHex(*to_block)) : json("latest")},
                 {"topics", topics}};
  MDL_ASSIGN_OR_RETURN(json r, Call("eth_getLogs", json::array({filter})));
  if (!r.is_array()) return Status::DataLoss("eth_getLogs: not an array");
  if (r.size() > max_logs) return Status::ResourceExhausted("eth_getLogs: too many logs");
  std::vector<LogEntry> out;
  for (const json& l : r) {
    if (!l.is_object()) return Status::DataLoss("eth_getLogs: a log is not an object");
    if (MemberOr(l, "removed") == json(true)) continue;  // reorganised away
    LogEntry e;
    MDL_ASSIGN_OR_RETURN(e.address, ParseAddressData(MemberOr(l, "address")));
    const json& t = MemberOr(l, "topics");
    if (!t.is_array() || t.size() > 4) return Status::DataLoss("eth_getLogs: bad topics");
    for (const json& topic : t) {
      MDL_ASSIGN_OR_RETURN(Hash32 h, ParseHash(topic, "topic"));
      e.topics.push_back(h);
    }
    auto data = ParseData(MemberOr(l, "data"));
    if (!data) return Status::DataLoss("eth_getLogs: bad data");
    e.data = std::move(*data);
    MDL_ASSIGN_OR_RETURN(e.block_number, Quantity(l, "blockNumber"));
    MDL_ASSIGN_OR_RETURN(e.log_index, Quantity(l, "logIndex"));
    MDL_ASSIGN_OR_RETURN(e.transaction_hash,
                         ParseHash(MemberOr(l, "transactionHash"), "transaction hash"));
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace medallion::chain
