// The ledger node's anchoring thread and the client's anchored-checkpoint check.
#include "medallion/roles/ledger_anchoring.h"

#include <algorithm>
#include <map>

#include "medallion/chain/json_rpc.h"
#include "medallion/core/encoding.h"
#include "medallion/core/hash.h"
#include "medallion/core/metrics.h"
#include "medallion/ledger/log.h"
#include "medallion/roles/files.h"
#include "medallion/roles/ledger_client.h"
#include "medallion/roles/ledger_node.h"
#include "medallion/wallet/hd_key.h"

namespace medallion::roles {
namespace {

constexpr const char* kSubmissions = "medallion_anchor_submissions_total";
constexpr const char* kSubmissionsHelp =
    "Checkpoint anchoring attempts on the EVM chain, by outcome (ok or the error code)";

void CountOutcome(const Status& st) {
  metrics::Registry::Default().Add(
      kSubmissions, kSubmissionsHelp,
      {{"outcome", st.ok() ? "ok" : std::string(StatusCodeName(st.code()))}});
}

}  // namespace

chain::Hash32 AnchorOriginHash(std::string_view origin) { return Sha256(AsBytes(origin)); }

Result<AnchoringKey> LoadAnchoringKey(const AnchoringKeyOptions& options, bool create_key_file) {
  const bool from_file = !options.key_file.empty(), from_store = !options.store.empty();
  const std::string& p = options.option_prefix;
  if (from_file == from_store)
    return Status::InvalidArgument("the anchoring key: give exactly one of a key file (" + p +
                                   "key) and a wallet key store (" + p + "store)");
  if (!from_store && (!options.passphrase_file.empty() || options.account_given))
    return Status::InvalidArgument(p + "passphrase-file and " + p + "account need " + p + "store");
  AnchoringKey out;
  std::string source;
  if (from_file) {
    source = options.key_file;
    if (create_key_file) {
      MDL_ASSIGN_OR_RETURN(out.key, LoadOrCreateSeed(options.key_file, &out.created));
    } else {
      MDL_ASSIGN_OR_RETURN(SecretString text, ReadSecretFile(options.key_file));
      auto bytes = HexDecode(text.Reveal());
      const bool good = bytes && bytes->size() == 32;
      if (bytes) {
        if (good) out.key = SecretBytes::CopyFrom(*bytes);
        SecureWipe(bytes->data(), bytes->size());
      }
      if (!good) return Status::InvalidArgument(options.key_file + " must hold a 32-byte hex key");
    }
  } else {
    source = options.store + " (" + chain::EthereumAccountPath(options.account) + ")";
    if (options.account >= wallet::kHardened)
      return Status::InvalidArgument(p + "account must be below 2^31");
    MDL_ASSIGN_OR_RETURN(wallet::WalletSecret secret,
                         OpenAndUnlock(options.store, options.passphrase_file));
    MDL_ASSIGN_OR_RETURN(out.key,
                         chain::EthereumKeyFromSeed(secret.seed.Reveal(), options.account));
  }
  auto address = chain::AddressFromPrivateKey(out.key);
  if (!address) return Status::InvalidArgument(source + " is not a usable secp256k1 key");
  out.address = *address;
  return out;
}

Status CheckAnchoringOptions(const AnchoringOptions& options) {
  if (options.rpc.empty()) return Status::InvalidArgument("anchoring needs --anchor-rpc");
  if (options.every_entries == 0 && options.every_seconds == 0)
    return Status::InvalidArgument(
        "anchoring needs --anchor-every-entries or --anchor-every-seconds");
  if (options.contract.empty())
    return Status::InvalidArgument("anchoring needs --anchor-contract");
  auto contract = chain::ParseAddress(options.contract);
  if (!contract)
    return Status::InvalidArgument("--anchor-contract: " + contract.error().message());
  if (options.list.block_range == 0)
    return Status::InvalidArgument("--anchor-block-range must be at least 1");
  return Status::Ok();
}

Result<std::unique_ptr<CheckpointAnchorer>> CheckpointAnchorer::Start(
    ledger::Log* log, const AnchoringOptions& options, AnchoringKey key, Env env) {
  MDL_RETURN_IF_ERROR(CheckAnchoringOptions(options));
  auto contract = chain::ParseAddress(options.contract);
  std::unique_ptr<CheckpointAnchorer> a(new CheckpointAnchorer(
      log, chain::AnchorContract(chain::JsonRpcClient(options.rpc), *contract), std::move(key.key),
      key.address, options, env));
  a->thread_ = std::thread([p = a.get()] { p->Run(); });
  return a;
}

CheckpointAnchorer::CheckpointAnchorer(ledger::Log* log, chain::AnchorContract contract,
                                       SecretBytes key, chain::Address address,
                                       AnchoringOptions options, Env env)
    : log_(log),
      contract_(std::move(contract)),
      key_(std::move(key)),
      address_(address),
      options_(std::move(options)),
      env_(env),
      origin_hash_(AnchorOriginHash(log->origin())) {
  last_time_ = env_.clock->NowSeconds();
  metrics::Registry::Default().GaugeFunction(
      "medallion_anchor_last_size", "Tree size of the newest checkpoint anchored on the chain", {},
      [this] { return static_cast<double>(last_size_.load()); });
}

CheckpointAnchorer::~CheckpointAnchorer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  metrics::Registry::Default().Remove("medallion_anchor_last_size", {});
}

Status CheckpointAnchorer::Step() {
  // A standby node (docs/ledger.md §Sequencer lease) leaves anchoring to the active one, and
  // reads the chain afresh once it takes over.
  if (!log_->IsSequencer()) {
    synced_ = false;
    return Status::Ok();
  }
  if (!synced_) {
    MDL_ASSIGN_OR_RETURN(chain::Address writer, contract_.Writer());
    if (writer != address_)
      return Status::PermissionDenied("the contract's writer is " + chain::AddressToString(writer) +
                                      ", not this key's " + chain::AddressToString(address_));
    MDL_ASSIGN_OR_RETURN(auto anchors, contract_.List(origin_hash_, options_.list));
    uint64_t newest = 0;
    for (const auto& a : anchors)
      if (a.sender == address_) newest = std::max(newest, a.size);
    last_size_ = newest;
    synced_ = true;
  }
  const ledger::Checkpoint cp = log_->LatestCheckpoint();
  const uint64_t last = last_size_.load();
  if (cp.size <= last) return Status::Ok();
  const int64_t now = env_.clock->NowSeconds();
  const bool by_entries = options_.every_entries > 0 && cp.size - last >= options_.every_entries;
  const bool by_time = options_.every_seconds > 0 &&
                       now - last_time_ >= static_cast<int64_t>(options_.every_seconds);
  if (!by_entries && !by_time) return Status::Ok();
  chain::Hash32 root;
  std::copy(cp.root.begin(), cp.root.end(), root.begin());
  auto sent = contract_.Submit(key_, origin_hash_, cp.size, root);
  CountOutcome(sent.has_value() ? Status::Ok() : sent.error());
  if (!sent) return sent.error();
  last_size_ = cp.size;
  last_time_ = now;
  metrics::Registry::Default().Set("medallion_anchor_last_block",
                                   "Block of the newest anchoring transaction", {},
                                   static_cast<double>(sent->block_number));
  return Status::Ok();
}

void CheckpointAnchorer::Run() {
  std::chrono::milliseconds pause(250);
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (cv_.wait_for(lock, pause, [this] { return stop_; })) return;
    }
    Status st = Step();
    if (st.ok()) {
      pause = std::chrono::milliseconds(250);
      continue;
    }
    if (!synced_) CountOutcome(st);  // a failed Submit counted itself
    // The chain is down or refuses: try again later, never stopping the ledger.
    pause = std::min<std::chrono::milliseconds>(
        std::max<std::chrono::milliseconds>(pause * 2, std::chrono::seconds(1)),
        std::chrono::seconds(60));
  }
}

Result<AnchorCheckReport> CheckAnchoredCheckpoint(LedgerClient& client,
                                                  const chain::AnchorContract& contract,
                                                  const chain::Address& writer,
                                                  const chain::AnchorListOptions& list) {
  MDL_ASSIGN_OR_RETURN(chain::Address actual_writer, contract.Writer());
  if (actual_writer != writer)
    return Status::WithReason(StatusCode::kFailedPrecondition, "anchor_writer",
                              "the contract's writer is " + chain::AddressToString(actual_writer) +
                                  ", not " + chain::AddressToString(writer));
  // The anchors first, then the checkpoint: an anchor sent in between is of a size the log
  // already had, so an honest log is never behind what was read. (The first Refresh only
  // learns the origin.)
  AnchorCheckReport report;
  MDL_ASSIGN_OR_RETURN(ledger::Checkpoint before, client.Refresh());
  MDL_ASSIGN_OR_RETURN(auto all, contract.List(AnchorOriginHash(before.origin), list));
  MDL_ASSIGN_OR_RETURN(report.checkpoint, client.Refresh());
  std::map<uint64_t, const chain::AnchorRecord*> by_size;
  for (const auto& a : all) {
    if (a.sender != writer) {
      ++report.ignored;
      continue;
    }
    auto [it, fresh] = by_size.emplace(a.size, &a);
    if (!fresh && it->second->root != a.root)
      return Status::WithReason(
          StatusCode::kFailedPrecondition, "split_view",
          "the ledger anchored two roots for size " + std::to_string(a.size) + " (transactions " +
              chain::DataHex(it->second->transaction_hash) + " and " +
              chain::DataHex(a.transaction_hash) + ")");
    report.anchors.push_back(a);
  }
  if (report.anchors.empty())
    return Status::WithReason(StatusCode::kFailedPrecondition, "not_anchored",
                              "no anchor of " + report.checkpoint.origin + " by " +
                                  chain::AddressToString(writer));
  for (const auto& [size, a] : by_size) {
    ledger::Hash root;
    std::copy(a->root.begin(), a->root.end(), root.begin());
    Status st = client.VerifyConsistentWithTrusted(size, root);
    if (st.ok()) continue;
    if (st.reason() == "beyond_trusted")
      return Status::WithReason(StatusCode::kFailedPrecondition, "behind_anchor",
                                "the log offers size " + std::to_string(report.checkpoint.size) +
                                    " but anchored size " + std::to_string(size) + " in " +
                                    chain::DataHex(a->transaction_hash));
    if (st.reason() == "split_view")
      return Status::WithReason(StatusCode::kFailedPrecondition, "split_view",
                                "the anchor of size " + std::to_string(size) + " (transaction " +
                                    chain::DataHex(a->transaction_hash) +
                                    ") is not consistent with the log's checkpoint of size " +
                                    std::to_string(report.checkpoint.size));
    return st;
  }
  return report;
}

}  // namespace medallion::roles
