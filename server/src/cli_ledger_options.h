// Command-line options of a verifying ledger client, shared by `ledger` and `did` commands.
#pragma once

#include <string>
#include <vector>

#include "medallion/core/status.h"
#include "medallion/server/ledger_client.h"

#include <nlohmann/json_fwd.hpp>

namespace CLI {
class App;
}
namespace httplib {
class Server;
}

namespace medallion::cli {

// --url, --log-key, --witness-key (repeat), --min-witnesses, --state.
struct ClientOptions {
  std::string url = "http://127.0.0.1:8080";
  std::string log_key;
  std::vector<std::string> witness_keys;
  int min_witnesses = -1;
  std::string state_file;
  // `prefix` names the URL option ("--url" for ledger commands, "--ledger" for did commands).
  void Add(CLI::App* cmd, bool need_key, const char* url_option = "--url");
  // A client pinned to the log key, with the witness policy and the trusted checkpoint saved
  // in --state (if any). Errors: invalid_argument for bad keys; failed_precondition if the
  // saved checkpoint no longer verifies.
  Result<server::LedgerClient> MakeClient() const;
  // Saves the client's trusted checkpoint to --state (no-op without it).
  Status SaveState(const server::LedgerClient& client) const;
};

// --tls-cert / --tls-key: plain HTTP on loopback by default, TLS when exposed.
struct TlsOptions {
  std::string cert, key;
  void Add(CLI::App* cmd);
};

// Binds `server` to `listen` (HOST:PORT; port 0 picks one), prints `banner` plus the URL (one
// JSON line with `as_json`, else key: value lines) and serves until SIGINT/SIGTERM. Returns the
// exit code. Every `medallion` server role runs through here.
int Serve(httplib::Server& server, const std::string& listen, nlohmann::json banner, bool as_json);
// The two halves of Serve, for roles that must know their URL before they can be built (a
// did:web, an authorization server's issuer): Bind returns "http://HOST:PORT".
Result<std::string> Bind(httplib::Server& server, const std::string& listen);
int ServeBound(httplib::Server& server, const std::string& url, nlohmann::json banner, bool as_json);

}  // namespace medallion::cli
