// Command-line options shared by the commands that serve a role or talk to the ledger, and the
// one loop that serves a role until SIGINT/SIGTERM.
#pragma once

#include <string>
#include <vector>

#include "medallion/core/status.h"
#include "medallion/roles/ledger_client.h"
#include "medallion/roles/options.h"
#include "medallion/roles/role.h"
#include "medallion/roles/verifier.h"

namespace CLI {
class App;
}

namespace medallion::cli {

using roles::Verifier;
using roles::VerifierOptions;
using TlsOptions = roles::TlsFiles;

// --url, --log-key, --witness-key (repeat), --min-witnesses, --state.
struct ClientOptions : roles::LedgerClientOptions {
  // `url_option` names the URL option ("--url" for ledger commands, "--ledger" for did commands).
  void Add(CLI::App* cmd, bool need_key, const char* url_option = "--url");
};

// --tls-cert / --tls-key: plain HTTP on loopback by default, TLS when exposed.
void AddTlsOptions(CLI::App* cmd, roles::TlsFiles& tls);
// --trust (repeat), --allow-insecure-loopback, --ca-file.
void AddVerifierOptions(CLI::App* cmd, roles::VerifierOptions& verifier);

// Starts `role`, prints its banner plus its URL (one JSON line with `as_json`, else key: value
// lines), serves until SIGINT or SIGTERM and stops it. Returns the exit code (a role that does
// not start is reported as ReportError does). Every `medallion` server role runs through here.
int ServeRole(roles::Role& role, bool as_json);

}  // namespace medallion::cli
