// The anchoring contract (contracts/LedgerAnchor.sol) seen from C++: submit an anchor of
// (origin hash, tree size, root hash) in an EIP-155 transaction and list the anchors recorded
// on the chain with their block, transaction and sender. Ledger-agnostic: what an anchor means
// for a log is checked in roles/ (ledger_anchoring.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "medallion/chain/eth_tx.h"
#include "medallion/chain/json_rpc.h"
#include "medallion/core/secret.h"
#include "medallion/core/status.h"

namespace medallion::chain {

// The contract's interface (Solidity ABI signatures).
inline constexpr const char* kAnchorFunction = "anchor(bytes32,uint64,bytes32)";
inline constexpr const char* kAnchorCountFunction = "anchorCount()";
inline constexpr const char* kAnchorAtFunction = "anchorAt(uint256)";
inline constexpr const char* kWriterFunction = "writer()";
inline constexpr const char* kAnchoredEvent = "Anchored(bytes32,uint64,bytes32,address,uint256)";

struct AnchorRecord {
  Hash32 origin_hash{};
  uint64_t size = 0;
  Hash32 root{};
  Address sender{};
  uint64_t index = 0;  // position in the contract's list
  uint64_t block_number = 0;
  Hash32 transaction_hash{};
};

struct SubmittedAnchor {
  Hash32 transaction_hash{};
  uint64_t block_number = 0;
  uint64_t nonce = 0;
};

// Where AnchorContract::List reads the Anchored events: from `from_block` (the contract's
// deployment block is enough) to the chain's head, `block_range` blocks per eth_getLogs call
// (public providers refuse wider queries: 10,000 blocks is accepted by the common ones).
struct AnchorListOptions {
  uint64_t from_block = 0;
  uint64_t block_range = 10000;  // > 0
};

class AnchorContract {
 public:
  AnchorContract(JsonRpcClient rpc, Address contract);

  // The one address the contract lets anchor (eth_call writer()).
  Result<Address> Writer() const;
  // Anchors recorded (eth_call anchorCount()).
  Result<uint64_t> Count() const;

  // Every anchor recorded from block `options.from_block` on, oldest first, read from the
  // Anchored events (eth_getLogs, paged by `options.block_range` blocks up to the head read
  // once with eth_blockNumber), only those of `origin_hash` if given. The logs are
  // cross-checked against the contract's state at that head: each event's index is unique and
  // below anchorCount(); without `origin_hash` the indices are exactly the newest ones (all of
  // them from block 0); the event of the newest index agrees with anchorAt(). At most 100,000
  // logs and 100,000 queries. Errors: invalid_argument for a zero block_range; the node's
  // (unavailable, ...); resource_exhausted beyond 100,000 logs or queries; data_loss for logs
  // that do not decode or disagree with the state.
  Result<std::vector<AnchorRecord>> List(const std::optional<Hash32>& origin_hash,
                                         const AnchorListOptions& options = {}) const;

  // Sends anchor(origin_hash, size, root) from the key's address: chain id from eth_chainId,
  // nonce from eth_getTransactionCount(pending), gas price from eth_gasPrice, gas from
  // eth_estimateGas plus a quarter; then waits for the receipt, polling every 200 ms up to
  // `wait`. Errors: failed_precondition if the node refuses it (a revert such as NotWriter in
  // estimateGas, a nonce too low) or the receipt's status is 0; deadline: unavailable "no
  // receipt yet" (the transaction may still be mined: the next attempt's nonce tells).
  Result<SubmittedAnchor> Submit(const SecretBytes& private_key, const Hash32& origin_hash,
                                 uint64_t size, const Hash32& root,
                                 std::chrono::milliseconds wait = std::chrono::seconds(60)) const;

  const JsonRpcClient& rpc() const { return rpc_; }
  const Address& address() const { return contract_; }

 private:
  JsonRpcClient rpc_;
  Address contract_;
};

// Signs and sends a transaction calling `to` (or creating a contract when `to` is empty) with
// `data` from the key's address, and waits for its receipt as Submit does. Used by Submit and
// by tools that deploy the contract. Errors: as Submit.
Result<TxReceipt> SendAndWait(const JsonRpcClient& rpc, const SecretBytes& private_key,
                              const std::optional<Address>& to, ByteView data,
                              std::chrono::milliseconds wait, uint64_t* nonce_used = nullptr);

// Deploys the contract: `creation_code` (contracts/LedgerAnchor.bin) with the constructor's
// argument, the writer's address, appended as one ABI word; sent from the key's address and
// waited for as SendAndWait does. The new contract's address, checked to answer writer() ==
// `writer`. Errors: as SendAndWait; data_loss if the receipt names no contract or the contract
// answers another writer.
Result<Address> DeployAnchorContract(const JsonRpcClient& rpc, const SecretBytes& private_key,
                                     ByteView creation_code, const Address& writer,
                                     std::chrono::milliseconds wait = std::chrono::seconds(60));

}  // namespace medallion::chain
