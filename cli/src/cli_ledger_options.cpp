// Options shared by serving and ledger commands; the serve loop.
#include "cli_ledger_options.h"

#include <signal.h>

#include <chrono>
#include <csignal>
#include <thread>

#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli_util.h"

namespace medallion::cli {

namespace {

// Set by SIGINT/SIGTERM while a role is served (the handler may run on any thread).
volatile std::sig_atomic_t g_stop_requested = 0;

void OnStopSignal(int) { g_stop_requested = 1; }

}  // namespace

int ServeRole(roles::Role& role, bool as_json) {
  // Until the role has started, the signals keep their default action (a passphrase prompt
  // is interrupted as before).
  if (Status st = role.Start(); !st.ok()) return ReportError(st);
  g_stop_requested = 0;
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  nlohmann::json banner = role.banner();
  if (!role.url().empty()) banner["url"] = role.url();
  if (as_json) {
    std::cout << banner.dump() << std::endl;
  } else {
    for (auto& [k, v] : banner.items())
      std::cout << k << ": " << (v.is_string() ? v.get<std::string>() : v.dump()) << "\n";
    std::cout << std::flush;
  }
  while (g_stop_requested == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  role.Stop();
  return kExitOk;
}

void AddTlsOptions(CLI::App* cmd, roles::TlsFiles& tls) {
  cmd->add_option("--tls-cert", tls.cert,
                  "PEM certificate chain: serve HTTPS (for a role exposed beyond loopback)");
  cmd->add_option("--tls-key", tls.key, "PEM private key of --tls-cert");
}

void AddVerifierOptions(CLI::App* cmd, roles::VerifierOptions& verifier) {
  cmd->add_option("--trust", verifier.trusted,
                  "A medical society whose licenses count (DID; repeat)");
  cmd->add_flag(
      "--allow-insecure-loopback", verifier.allow_insecure_loopback,
      "Development: fetch did:web documents and status lists on localhost over plain HTTP");
  cmd->add_option("--ca-file", verifier.ca_file,
                  "PEM CAs for did:web and status lists (default: the system store)");
}

void ClientOptions::Add(CLI::App* cmd, bool need_key, const char* url_option) {
  cmd->add_option(url_option, url, "Ledger node base URL (default http://127.0.0.1:8080)");
  auto* k =
      cmd->add_option("--log-key", log_key,
                      "The log's verifier key (printed by `ledger serve`, GET /ledger/v1/key)");
  if (need_key) k->required();
  cmd->add_option("--witness-key", witness_keys, "A witness's verifier key (repeat)");
  cmd->add_option("--min-witnesses", min_witnesses,
                  "Cosignatures required (default: all --witness-key)");
  cmd->add_option("--state", state_file,
                  "File keeping the last trusted checkpoint (refuses rollback across runs)");
}

}  // namespace medallion::cli
