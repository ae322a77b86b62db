// `medallion ledger anchors`, the anchoring options of `ledger serve` and the anchored check.
#include "cli_anchor.h"

#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli_util.h"
#include "medallion/chain/anchor.h"
#include "medallion/core/encoding.h"

namespace medallion::cli {
namespace {

using nlohmann::json;

json AnchorJson(const chain::AnchorRecord& a, const std::optional<chain::Address>& writer) {
  json j = {{"index", a.index},
            {"origin_hash", HexEncode(a.origin_hash)},
            {"size", a.size},
            {"root", HexEncode(a.root)},
            {"sender", chain::AddressToString(a.sender)},
            {"block", a.block_number},
            {"tx", chain::DataHex(a.transaction_hash)}};
  if (writer) j["by_writer"] = a.sender == *writer;
  return j;
}

struct LedgerAnchorsOptions {
  std::string rpc = "http://127.0.0.1:8545", contract, origin, writer;
  chain::AnchorListOptions list;
  bool json = false;
};

// --from-block and --block-range (with `prefix`: --anchor-from-block, ...).
void AddListOptions(CLI::App* cmd, chain::AnchorListOptions& list, const std::string& prefix) {
  cmd->add_option(prefix + "from-block", list.from_block,
                  "Read anchors from this block on (the contract's deployment block; default 0)");
  cmd->add_option(prefix + "block-range", list.block_range,
                  "Blocks per eth_getLogs query (default 10000; public providers cap it)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40));
}

// The anchoring key's source (roles::AnchoringKeyOptions) as options named `prefix` + key,
// store, passphrase-file, account.
void AddKeyOptions(CLI::App* cmd, roles::AnchoringKeyOptions& key, const std::string& prefix,
                   const std::string& key_help) {
  key.option_prefix = prefix;
  cmd->add_option(prefix + "key", key.key_file, key_help);
  cmd->add_option(prefix + "store", key.store,
                  "Or a wallet key store: the secp256k1 key at m/44'/60'/ACCOUNT'/0/0 (BIP-44, "
                  "the Ethereum account any wallet derives from the same mnemonic)");
  cmd->add_option(prefix + "passphrase-file", key.passphrase_file,
                  "The key store's passphrase (else $MEDALLION_PASSPHRASE or a prompt)");
  cmd->add_option_function<uint32_t>(
      prefix + "account",
      [&key](const uint32_t& n) {
        key.account = n;
        key.account_given = true;
      },
      "The Ethereum account number N in m/44'/60'/N'/0/0 (default 0; needs a key store)");
}

int RunLedgerAnchors(const LedgerAnchorsOptions& o) {
  auto contract_address = chain::ParseAddress(o.contract);
  if (!contract_address)
    return ReportError(Status::InvalidArgument("--contract: " + contract_address.error().message()));
  std::optional<chain::Address> writer;
  if (!o.writer.empty()) {
    auto w = chain::ParseAddress(o.writer);
    if (!w) return ReportError(Status::InvalidArgument("--writer: " + w.error().message()));
    writer = *w;
  }
  chain::AnchorContract contract(chain::JsonRpcClient(o.rpc), *contract_address);
  auto contract_writer = contract.Writer();
  if (!contract_writer) return ReportError(contract_writer.error());
  std::optional<chain::Hash32> origin_hash;
  if (!o.origin.empty()) origin_hash = roles::AnchorOriginHash(o.origin);
  auto anchors = contract.List(origin_hash, o.list);
  if (!anchors) return ReportError(anchors.error());
  if (o.json) {
    json list = json::array();
    for (const auto& a : *anchors) list.push_back(AnchorJson(a, writer));
    json out = {{"contract", chain::AddressToString(*contract_address)},
                {"writer", chain::AddressToString(*contract_writer)},
                {"anchors", list}};
    if (origin_hash) out["origin_hash"] = HexEncode(*origin_hash);
    PrintJson(out);
  } else {
    std::cout << "contract " << chain::AddressToString(*contract_address) << " (writer "
              << chain::AddressToString(*contract_writer) << "): " << anchors->size()
              << " anchor(s)\n";
    for (const auto& a : *anchors) {
      std::cout << "#" << a.index << " size " << a.size << " root " << HexEncode(a.root)
                << " block " << a.block_number << " tx " << chain::DataHex(a.transaction_hash)
                << " from " << chain::AddressToString(a.sender)
                << (writer && a.sender != *writer ? " (not the writer)" : "") << "\n";
    }
  }
  if (writer && contract_writer.value() != *writer)
    return ReportError(Status::WithReason(StatusCode::kFailedPrecondition, "anchor_writer",
                                          "the contract's writer is not --writer"));
  return kExitOk;
}

struct LedgerAnchorDeployOptions {
  std::string rpc = "http://127.0.0.1:8545", bytecode = "contracts/LedgerAnchor.bin", writer;
  roles::AnchoringKeyOptions key;
  bool json = false;
};

int RunLedgerAnchorDeploy(const LedgerAnchorDeployOptions& o) {
  auto writer = chain::ParseAddress(o.writer);
  if (!writer) return ReportError(Status::InvalidArgument("--writer: " + writer.error().message()));
  auto code_file = ReadFileBytes(o.bytecode);
  if (!code_file) return ReportError(code_file.error());
  std::string hex = ToString(*code_file);
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r')) hex.pop_back();
  if (hex.rfind("0x", 0) == 0) hex = hex.substr(2);
  auto code = HexDecode(hex);
  if (!code || code->empty())
    return ReportError(Status::InvalidArgument(o.bytecode + " does not hold hex bytecode"));
  auto key = roles::LoadAnchoringKey(o.key, /*create_key_file=*/false);
  if (!key) return ReportError(key.error());
  chain::JsonRpcClient rpc(o.rpc);
  auto address = chain::DeployAnchorContract(rpc, key->key, *code, *writer);
  if (!address) return ReportError(address.error());
  if (o.json) {
    PrintJson({{"contract", chain::AddressToString(*address)},
               {"writer", chain::AddressToString(*writer)}});
  } else {
    std::cout << "contract: " << chain::AddressToString(*address) << "\n";
  }
  return kExitOk;
}

}  // namespace

void AddLedgerAnchorDeploy(CLI::App* parent, int& rc) {
  auto* cmd = parent->add_subcommand(
      "anchor-deploy", "Deploy the LedgerAnchor contract with the ledger's address as its writer");
  auto o = std::make_shared<LedgerAnchorDeployOptions>();
  cmd->add_option("--rpc", o->rpc, "The chain's JSON-RPC URL (default http://127.0.0.1:8545)");
  AddKeyOptions(cmd, o->key, "--",
                "A funded secp256k1 key (64 hex digits) paying for the deployment");
  cmd->add_option("--writer", o->writer,
                  "The ledger's anchoring address (its banner's anchor_address)")
      ->required();
  cmd->add_option("--bytecode", o->bytecode,
                  "The creation code, hex (default contracts/LedgerAnchor.bin)");
  cmd->add_flag("--json", o->json, "JSON output");
  cmd->callback([o, &rc] { rc = RunLedgerAnchorDeploy(*o); });
}

void AddAnchoringOptions(CLI::App* cmd, roles::AnchoringOptions& anchor) {
  cmd->add_option("--anchor-rpc", anchor.rpc,
                  "Anchor checkpoints on an EVM chain: its JSON-RPC URL (docs/scale-out.md)");
  cmd->add_option("--anchor-contract", anchor.contract,
                  "The LedgerAnchor contract's address (contracts/LedgerAnchor.sol)");
  AddKeyOptions(cmd, anchor.key, "--anchor-",
                "The anchoring secp256k1 key, 64 hex digits (created 0600 if missing); its "
                "address must be the contract's writer");
  cmd->add_option("--anchor-every-entries", anchor.every_entries,
                  "Anchor the latest checkpoint once the log grew by N entries");
  cmd->add_option("--anchor-every-seconds", anchor.every_seconds,
                  "Anchor a grown log T seconds after the last anchor");
  AddListOptions(cmd, anchor.list, "--anchor-");
}

void AddLedgerAnchorAddress(CLI::App* parent, int& rc) {
  auto* cmd = parent->add_subcommand(
      "anchor-address", "Print the address of an anchoring key (to fund it, or as --writer)");
  struct Options {
    roles::AnchoringKeyOptions key;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  AddKeyOptions(cmd, o->key, "--anchor-", "The anchoring key file, 64 hex digits");
  cmd->add_flag("--json", o->json, "JSON output");
  cmd->callback([o, &rc] {
    auto key = roles::LoadAnchoringKey(o->key, /*create_key_file=*/false);
    if (!key) {
      rc = ReportError(key.error());
      return;
    }
    const std::string address = chain::AddressToString(key->address);
    if (o->json) {
      json out = {{"address", address}};
      if (!o->key.store.empty()) out["path"] = chain::EthereumAccountPath(o->key.account);
      PrintJson(out);
    } else {
      std::cout << address << "\n";
    }
    rc = kExitOk;
  });
}

void AddLedgerAnchors(CLI::App* parent, int& rc) {
  auto* cmd = parent->add_subcommand(
      "anchors", "List the checkpoints anchored in a LedgerAnchor contract on an EVM chain");
  auto o = std::make_shared<LedgerAnchorsOptions>();
  cmd->add_option("--rpc", o->rpc, "The chain's JSON-RPC URL (default http://127.0.0.1:8545)");
  cmd->add_option("--contract", o->contract, "The LedgerAnchor contract's address")->required();
  cmd->add_option("--origin", o->origin, "Only the anchors of this log origin");
  cmd->add_option("--writer", o->writer,
                  "The ledger's anchoring address: mark anchors by others, fail if the contract's "
                  "writer differs");
  AddListOptions(cmd, o->list, "--");
  cmd->add_flag("--json", o->json, "JSON output");
  cmd->callback([o, &rc] { rc = RunLedgerAnchors(*o); });
}

void AnchorCheckOptions::Add(CLI::App* cmd) {
  cmd->add_option("--anchor-rpc", rpc,
                  "Require consistency with the checkpoints anchored on this EVM chain "
                  "(JSON-RPC URL)");
  cmd->add_option("--anchor-contract", contract, "The LedgerAnchor contract's address");
  cmd->add_option("--anchor-writer", writer, "The ledger's anchoring address (0x...)");
  AddListOptions(cmd, list, "--anchor-");
}

Result<std::string> AnchorCheckOptions::Check(roles::LedgerClient& client) const {
  if (rpc.empty() || contract.empty() || writer.empty())
    return Status::InvalidArgument(
        "--anchor-rpc, --anchor-contract and --anchor-writer go together");
  auto contract_address = chain::ParseAddress(contract);
  if (!contract_address)
    return Status::InvalidArgument("--anchor-contract: " + contract_address.error().message());
  auto writer_address = chain::ParseAddress(writer);
  if (!writer_address)
    return Status::InvalidArgument("--anchor-writer: " + writer_address.error().message());
  chain::AnchorContract c(chain::JsonRpcClient(rpc), *contract_address);
  MDL_ASSIGN_OR_RETURN(roles::AnchorCheckReport report,
                       roles::CheckAnchoredCheckpoint(client, c, *writer_address, list));
  json anchors = json::array();
  for (const auto& a : report.anchors) anchors.push_back(AnchorJson(a, *writer_address));
  return json{{"anchors_checked", report.anchors.size()},
              {"anchors_ignored", report.ignored},
              {"latest_anchor", anchors.back()}}
      .dump();
}

}  // namespace medallion::cli
