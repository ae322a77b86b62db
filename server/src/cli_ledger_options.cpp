// Verifying ledger-client options for the command line.
#include "cli_ledger_options.h"

#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <iostream>
#include <nlohmann/json.hpp>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>

#include "cli_util.h"
#include "medallion/http/http.h"
#include "medallion/ledger/checkpoint.h"
#include "medallion/ledger/signed_note.h"

namespace medallion::cli {
namespace {
std::atomic<httplib::Server*> g_server{nullptr};

void OnSignal(int) {
  if (httplib::Server* s = g_server.load()) s->stop();
}
}  // namespace

Result<std::string> Bind(httplib::Server& server, const std::string& listen) {
  MDL_ASSIGN_OR_RETURN(server::ListenAddress addr, server::ParseListenAddress(listen));
  MDL_ASSIGN_OR_RETURN(int port, server::BindServer(server, addr.host, addr.port));
  const bool tls = dynamic_cast<httplib::SSLServer*>(&server) != nullptr;
  return std::string(tls ? "https://" : "http://") + addr.host + ":" + std::to_string(port);
}

int ServeBound(httplib::Server& server, const std::string& url, nlohmann::json banner, bool as_json) {
  banner["url"] = url;
  if (as_json) {
    std::cout << banner.dump() << std::endl;
  } else {
    for (auto& [k, v] : banner.items()) std::cout << k << ": " << (v.is_string() ? v.get<std::string>() : v.dump()) << "\n";
    std::cout << std::flush;
  }
  g_server = &server;
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  server.listen_after_bind();
  g_server = nullptr;
  return kExitOk;
}

int Serve(httplib::Server& server, const std::string& listen, nlohmann::json banner, bool as_json) {
  auto url = Bind(server, listen);
  if (!url) return ReportError(url.error());
  return ServeBound(server, *url, std::move(banner), as_json);
}

void TlsOptions::Add(CLI::App* cmd) {
  cmd->add_option("--tls-cert", cert, "PEM certificate chain: serve HTTPS (for a role exposed beyond loopback)");
  cmd->add_option("--tls-key", key, "PEM private key of --tls-cert");
}

void ClientOptions::Add(CLI::App* cmd, bool need_key, const char* url_option) {
  cmd->add_option(url_option, url, "Ledger node base URL (default http://127.0.0.1:8080)");
  auto* k = cmd->add_option("--log-key", log_key, "The log's verifier key (printed by `ledger serve`, GET /ledger/v1/key)");
  if (need_key) k->required();
  cmd->add_option("--witness-key", witness_keys, "A witness's verifier key (repeat)");
  cmd->add_option("--min-witnesses", min_witnesses, "Cosignatures required (default: all --witness-key)");
  cmd->add_option("--state", state_file, "File keeping the last trusted checkpoint (refuses rollback across runs)");
}

Result<server::LedgerClient> ClientOptions::MakeClient() const {
  MDL_ASSIGN_OR_RETURN(ledger::Ed25519NoteVerifier key, ledger::Ed25519NoteVerifier::FromVerifierKey(log_key));
  ledger::WitnessPolicy policy;
  for (const auto& w : witness_keys) {
    MDL_ASSIGN_OR_RETURN(ledger::CosignatureV1Verifier v, ledger::CosignatureV1Verifier::FromVerifierKey(w));
    policy.witnesses.push_back(std::move(v));
  }
  policy.threshold = min_witnesses < 0 ? policy.witnesses.size() : static_cast<size_t>(min_witnesses);
  if (policy.threshold > policy.witnesses.size()) {
    return Status::InvalidArgument("--min-witnesses exceeds the number of --witness-key");
  }
  std::string trusted;
  if (!state_file.empty() && ::access(state_file.c_str(), F_OK) == 0) {
    MDL_ASSIGN_OR_RETURN(Bytes b, ReadFileBytes(state_file));
    trusted = ToString(b);
  }
  const std::string origin = key.name();
  ledger::LogVerifier verifier(std::move(key), origin, std::move(policy), trusted);
  if (!trusted.empty() && !verifier.trusted()) {
    return Status::FailedPrecondition("the saved checkpoint in " + state_file + " no longer verifies");
  }
  return server::LedgerClient(url, std::move(verifier));
}

Status ClientOptions::SaveState(const server::LedgerClient& client) const {
  if (state_file.empty()) return Status::Ok();
  const std::string tmp = state_file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << client.verifier().trusted_note();
    if (!out) return Status::Unavailable("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), state_file.c_str()) != 0) return Status::Unavailable("cannot write " + state_file);
  return Status::Ok();
}

}  // namespace medallion::cli
