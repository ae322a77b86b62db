// `medallion ledger` and checkpoint anchoring on an EVM chain (docs/scale-out.md "Anchoring on
// an EVM chain"): the serve options, `ledger anchors`, and the anchored-checkpoint check of
// `ledger checkpoint`.
#pragma once

#include <string>

#include "medallion/core/status.h"
#include "medallion/roles/ledger_anchoring.h"
#include "medallion/roles/ledger_client.h"

namespace CLI {
class App;
}

namespace medallion::cli {

// --anchor-rpc, --anchor-contract, the key (--anchor-key, or --anchor-store,
// --anchor-passphrase-file, --anchor-account), --anchor-every-entries, --anchor-every-seconds,
// --anchor-from-block, --anchor-block-range.
void AddAnchoringOptions(CLI::App* cmd, roles::AnchoringOptions& anchor);

// `ledger anchors`: the anchors recorded in a LedgerAnchor contract.
void AddLedgerAnchors(CLI::App* parent, int& rc);
// `ledger anchor-deploy`: deploys contracts/LedgerAnchor.bin with a given writer.
void AddLedgerAnchorDeploy(CLI::App* parent, int& rc);
// `ledger anchor-address`: the address of an anchoring key (a key file or a key store's).
void AddLedgerAnchorAddress(CLI::App* parent, int& rc);

// --anchor-rpc, --anchor-contract, --anchor-writer for a client command: when set, the
// checkpoint must be consistent with every checkpoint the writer anchored.
struct AnchorCheckOptions {
  std::string rpc, contract, writer;
  chain::AnchorListOptions list;  // --anchor-from-block, --anchor-block-range
  void Add(CLI::App* cmd);
  bool enabled() const { return !rpc.empty() || !contract.empty() || !writer.empty(); }
  // Runs roles::CheckAnchoredCheckpoint for `client`; the JSON report on success.
  // Errors: invalid_argument for a partial or malformed option set; the check's.
  Result<std::string> Check(roles::LedgerClient& client) const;
};

}  // namespace medallion::cli
