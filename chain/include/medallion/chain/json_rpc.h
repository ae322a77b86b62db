// A client of the standard Ethereum JSON-RPC API (ethereum.org "JSON-RPC API"; the execution
// API specification) over HTTP: the few methods anchoring needs. Every answer is outside input:
// bounded, type-checked, quantities parsed as canonical 0x-hex.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "medallion/chain/eth_tx.h"
#include "medallion/chain/keccak.h"
#include "medallion/core/bytes.h"
#include "medallion/core/status.h"

namespace medallion::chain {

struct TxReceipt {
  Hash32 transaction_hash{};
  uint64_t block_number = 0;
  bool success = false;  // status 0x1
  uint64_t gas_used = 0;
  std::optional<Address> contract_address;  // set for a contract creation
};

struct LogEntry {
  Address address{};
  std::vector<Hash32> topics;
  Bytes data;
  uint64_t block_number = 0;
  Hash32 transaction_hash{};
  uint64_t log_index = 0;
};

// Parses a QUANTITY ("0x0", "0x1a": no leading zeros) into 64 bits. Errors: invalid_argument.
Result<uint64_t> ParseQuantity(const nlohmann::json& value);
// Parses DATA ("0x" + even number of hex digits). Errors: invalid_argument.
Result<Bytes> ParseData(const nlohmann::json& value);
// "0x" + hex of `bytes`; "0x" + minimal hex of `value`.
std::string DataHex(ByteView bytes);
std::string QuantityHex(uint64_t value);

// Thread-safe (each call is its own HTTP request).
class JsonRpcClient {
 public:
  // `url` like "http://127.0.0.1:8545" (a provider's path with an API key is never shown in
  // errors). `timeout_seconds` bounds each request.
  explicit JsonRpcClient(std::string url, int timeout_seconds = 15);

  // One JSON-RPC 2.0 call; the "result" member. Errors: unavailable when the node cannot be
  // reached or answers HTTP 5xx; failed_precondition with the node's error message for a
  // JSON-RPC error object (a revert, a nonce too low, ...); data_loss for an answer that is not
  // JSON-RPC.
  Result<nlohmann::json> Call(const std::string& method, const nlohmann::json& params) const;

  Result<uint64_t> ChainId() const;                                  // eth_chainId
  Result<uint64_t> GasPrice() const;                                 // eth_gasPrice
  Result<uint64_t> BlockNumber() const;                              // eth_blockNumber
  Result<uint64_t> PendingNonce(const Address& account) const;       // eth_getTransactionCount
  Result<Hash32> SendRawTransaction(ByteView raw) const;             // eth_sendRawTransaction
  Result<std::optional<TxReceipt>> Receipt(const Hash32& tx) const;  // eth_getTransactionReceipt
  // eth_estimateGas of a call from `from` (a revert is failed_precondition).
  Result<uint64_t> EstimateGas(const Address& from, const std::optional<Address>& to,
                               ByteView data) const;
  // eth_call against block `block`, or the latest block if none.
  Result<Bytes> EthCall(const Address& to, ByteView data,
                        std::optional<uint64_t> block = std::nullopt) const;
  // eth_getLogs of `address` in blocks [from_block, to_block] (to_block: latest if none),
  // topic 0 = `topic0` and topic 1 = `topic1` if given. Logs marked `removed` are skipped. At
  // most `max_logs` (resource_exhausted beyond). Providers cap the range one call may cover:
  // AnchorContract::List pages.
  Result<std::vector<LogEntry>> GetLogs(const Address& address, const Hash32& topic0,
                                        const std::optional<Hash32>& topic1,
                                        size_t max_logs = 100000, uint64_t from_block = 0,
                                        std::optional<uint64_t> to_block = std::nullopt) const;

  const std::string& url() const { return url_; }

 private:
  std::string url_;
  std::string display_;  // scheme://host:port, for messages (no path: it may hold an API key)
  int timeout_seconds_;
};

}  // namespace medallion::chain
