// The LedgerAnchor contract: anchor transactions and the anchors recorded.
#include "medallion/chain/anchor.h"

#include <algorithm>
#include <set>
#include <thread>

#include "medallion/chain/abi.h"

namespace medallion::chain {

namespace {

// The answer of anchorCount(): one ABI word holding a uint64.
Result<uint64_t> DecodeAnchorCount(const Bytes& out) {
  auto words = AbiWords(out, 1);
  if (!words) return Status::DataLoss("anchorCount(): " + words.error().message());
  auto n = AbiWordToUint64((*words)[0]);
  if (!n) return Status::DataLoss("anchorCount(): " + n.error().message());
  return *n;
}

}  // namespace

AnchorContract::AnchorContract(JsonRpcClient rpc, Address contract)
    : rpc_(std::move(rpc)), contract_(contract) {}

Result<Address> AnchorContract::Writer() const {
  MDL_ASSIGN_OR_RETURN(Bytes out, rpc_.EthCall(contract_, AbiCall(kWriterFunction, {})));
  auto words = AbiWords(out, 1);
  if (!words) return Status::DataLoss("writer(): " + words.error().message());
  auto a = AbiWordToAddress((*words)[0]);
  if (!a) return Status::DataLoss("writer(): " + a.error().message());
  return *a;
}

Result<uint64_t> AnchorContract::Count() const {
  MDL_ASSIGN_OR_RETURN(Bytes out, rpc_.EthCall(contract_, AbiCall(kAnchorCountFunction, {})));
  return DecodeAnchorCount(out);
}

Result<std::vector<AnchorRecord>> AnchorContract::List(const std::optional<Hash32>& origin_hash,
                                                       const AnchorListOptions& options) const {
  constexpr size_t kMaxLogs = 100000;
  if (options.block_range == 0) return Status::InvalidArgument("a block range of 0 blocks");
  // One head for the state and every page, so an anchor mined meanwhile is in neither.
  MDL_ASSIGN_OR_RETURN(uint64_t head, rpc_.BlockNumber());
  MDL_ASSIGN_OR_RETURN(Bytes count_out,
                       rpc_.EthCall(contract_, AbiCall(kAnchorCountFunction, {}), head));
  MDL_ASSIGN_OR_RETURN(const uint64_t count, DecodeAnchorCount(count_out));
  // A bound on the calls, so a node naming an absurd head cannot keep us asking forever.
  constexpr uint64_t kMaxPages = 100000;
  if (head >= options.from_block && (head - options.from_block) / options.block_range >= kMaxPages)
    return Status::ResourceExhausted(
        "reading blocks " + std::to_string(options.from_block) + ".." + std::to_string(head) +
        " takes more than 100,000 eth_getLogs queries: start from the contract's deployment "
        "block or widen the block range");
  std::vector<LogEntry> logs;
  for (uint64_t from = options.from_block; from <= head;) {
    const uint64_t to =
        head - from < options.block_range - 1 ? head : from + options.block_range - 1;
    MDL_ASSIGN_OR_RETURN(std::vector<LogEntry> page,
                         rpc_.GetLogs(contract_, EventTopic(kAnchoredEvent), origin_hash,
                                      kMaxLogs - logs.size(), from, to));
    for (LogEntry& l : page) {
      if (l.block_number < from || l.block_number > to)
        return Status::DataLoss("an Anchored log outside the block range asked for");
      logs.push_back(std::move(l));
    }
    if (to == head) break;
    from = to + 1;
  }
  std::vector<AnchorRecord> out;
  std::set<uint64_t> seen;
  for (const LogEntry& l : logs) {
    // Anchored(bytes32 indexed originHash, uint64 indexed size, bytes32 root,
    //          address indexed sender, uint256 index): topics 1-3, data = root || index.
    if (l.address != contract_ || l.topics.size() != 4)
      return Status::DataLoss("an Anchored log of the wrong shape");
    AnchorRecord a;
    a.origin_hash = l.topics[1];
    auto size = AbiWordToUint64(l.topics[2]);
    auto sender = AbiWordToAddress(l.topics[3]);
    auto words = AbiWords(l.data, 2);
    if (!size || !sender || !words) return Status::DataLoss("an Anchored log does not decode");
    a.size = *size;
    a.sender = *sender;
    a.root = (*words)[0];
    auto index = AbiWordToUint64((*words)[1]);
    if (!index || *index >= count || !seen.insert(*index).second)
      return Status::DataLoss("an Anchored log's index disagrees with the contract's state");
    a.index = *index;
    a.block_number = l.block_number;
    a.transaction_hash = l.transaction_hash;
    out.push_back(a);
  }
  if (!origin_hash && options.from_block == 0 && out.size() != count)
    return Status::DataLoss("the chain node returned " + std::to_string(out.size()) +
                            " Anchored logs for " + std::to_string(count) + " anchors");
  std::sort(out.begin(), out.end(),
            [](const AnchorRecord& x, const AnchorRecord& y) { return x.index < y.index; });
  // From a later block, the anchors are the newest ones: indices count-k .. count-1.
  if (!origin_hash && !out.empty() &&
      (out.back().index != count - 1 || out.front().index != count - out.size()))
    return Status::DataLoss("the chain node returned Anchored logs " +
                            std::to_string(out.front().index) + ".." +
                            std::to_string(out.back().index) + " of " + std::to_string(count) +
                            " anchors: some are missing");
  if (!out.empty()) {
    // The newest log against the state itself (a node hiding or inventing logs shows here).
    const AnchorRecord& last = out.back();
    MDL_ASSIGN_OR_RETURN(
        Bytes state,
        rpc_.EthCall(contract_, AbiCall(kAnchorAtFunction, {AbiUint(last.index)}), head));
    auto w = AbiWords(state, 5);
    if (!w) return Status::DataLoss("anchorAt(): " + w.error().message());
    auto size = AbiWordToUint64((*w)[1]);
    auto sender = AbiWordToAddress((*w)[3]);
    if ((*w)[0] != last.origin_hash || !size || *size != last.size || (*w)[2] != last.root ||
        !sender || *sender != last.sender)
      return Status::DataLoss("an Anchored log disagrees with anchorAt()");
  }
  return out;
}

Result<TxReceipt> SendAndWait(const JsonRpcClient& rpc, const SecretBytes& private_key,
                              const std::optional<Address>& to, ByteView data,
                              std::chrono::milliseconds wait, uint64_t* nonce_used) {
  MDL_ASSIGN_OR_RETURN(Address from, AddressFromPrivateKey(private_key));
  LegacyTx tx;
  MDL_ASSIGN_OR_RETURN(tx.chain_id, rpc.ChainId());
  MDL_ASSIGN_OR_RETURN(tx.nonce, rpc.PendingNonce(from));
  MDL_ASSIGN_OR_RETURN(tx.gas_price, rpc.GasPrice());
  MDL_ASSIGN_OR_RETURN(uint64_t gas, rpc.EstimateGas(from, to, data));
  tx.gas_limit = gas + gas / 4;
  tx.to = to;
  tx.data = Bytes(data.begin(), data.end());
  if (nonce_used != nullptr) *nonce_used = tx.nonce;
  MDL_ASSIGN_OR_RETURN(SignedTx signed_tx, SignLegacyTx(tx, private_key));
  MDL_ASSIGN_OR_RETURN(Hash32 hash, rpc.SendRawTransaction(signed_tx.raw));
  if (hash != signed_tx.hash)
    return Status::DataLoss("the chain node named another hash for our transaction");
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (true) {
    MDL_ASSIGN_OR_RETURN(std::optional<TxReceipt> receipt, rpc.Receipt(hash));
    if (receipt) {
      if (!receipt->success)
        return Status::FailedPrecondition("transaction " + DataHex(hash) + " reverted");
      return *receipt;
    }
    if (std::chrono::steady_clock::now() >= deadline)
      return Status::Unavailable("no receipt yet for transaction " + DataHex(hash));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

Result<SubmittedAnchor> AnchorContract::Submit(const SecretBytes& private_key,
                                               const Hash32& origin_hash, uint64_t size,
                                               const Hash32& root,
                                               std::chrono::milliseconds wait) const {
  const Bytes data = AbiCall(kAnchorFunction, {origin_hash, AbiUint(size), root});
  SubmittedAnchor out;
  MDL_ASSIGN_OR_RETURN(TxReceipt receipt,
                       SendAndWait(rpc_, private_key, contract_, data, wait, &out.nonce));
  out.transaction_hash = receipt.transaction_hash;
  out.block_number = receipt.block_number;
  return out;
}

Result<Address> DeployAnchorContract(const JsonRpcClient& rpc, const SecretBytes& private_key,
                                     ByteView creation_code, const Address& writer,
                                     std::chrono::milliseconds wait) {
  Bytes data(creation_code.begin(), creation_code.end());
  const AbiWord arg = AbiAddress(writer);
  data.insert(data.end(), arg.begin(), arg.end());
  MDL_ASSIGN_OR_RETURN(TxReceipt receipt,
                       SendAndWait(rpc, private_key, std::nullopt, data, wait));
  if (!receipt.contract_address)
    return Status::DataLoss("the deployment's receipt names no contract address");
  AnchorContract contract(rpc, *receipt.contract_address);
  MDL_ASSIGN_OR_RETURN(Address actual, contract.Writer());
  if (actual != writer) return Status::DataLoss("the deployed contract answers another writer");
  return *receipt.contract_address;
}

}  // namespace medallion::chain
