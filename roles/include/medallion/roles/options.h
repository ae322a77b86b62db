// Options every served role shares: a verifying ledger client and the TLS files of a listener.
#pragma once

#include <string>
#include <vector>

#include "medallion/core/status.h"
#include "medallion/roles/ledger_client.h"

namespace medallion::roles {

// A verifying ledger client: the node's URL, the log's verifier key, the witnesses' keys and
// how many must cosign, and a file keeping the last trusted checkpoint.
struct LedgerClientOptions {
  std::string url = "http://127.0.0.1:8080";
  std::string log_key;
  std::vector<std::string> witness_keys;
  int min_witnesses = -1;  // -1: all witness_keys
  std::string state_file;

  // A client pinned to the log key, with the witness policy and the trusted checkpoint saved
  // in state_file (if any). Errors: invalid_argument for bad keys; failed_precondition if the
  // saved checkpoint no longer verifies.
  Result<roles::LedgerClient> MakeClient() const;
  // Saves the client's trusted checkpoint to state_file (no-op without it). Errors: unavailable.
  Status SaveState(const roles::LedgerClient& client) const;
};

// Plain HTTP (both empty, for loopback) or TLS with this PEM certificate chain and key.
struct TlsFiles {
  std::string cert, key;
};

}  // namespace medallion::roles
