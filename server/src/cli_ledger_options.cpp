// Verifying ledger-client options for the command line.
#include "cli_ledger_options.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>

#include "cli_util.h"
#include "medallion/ledger/checkpoint.h"
#include "medallion/ledger/signed_note.h"

namespace medallion::cli {

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
