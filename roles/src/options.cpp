// The verifying ledger client of a role, from its options.
#include "medallion/roles/options.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "medallion/ledger/checkpoint.h"
#include "medallion/ledger/signed_note.h"
#include "medallion/roles/files.h"

namespace medallion::roles {

Result<roles::LedgerClient> LedgerClientOptions::MakeClient() const {
  MDL_ASSIGN_OR_RETURN(ledger::Ed25519NoteVerifier key,
                       ledger::Ed25519NoteVerifier::FromVerifierKey(log_key));
  ledger::WitnessPolicy policy;
  for (const auto& w : witness_keys) {
    MDL_ASSIGN_OR_RETURN(ledger::CosignatureV1Verifier v,
                         ledger::CosignatureV1Verifier::FromVerifierKey(w));
    policy.witnesses.push_back(std::move(v));
  }
  policy.threshold =
      min_witnesses < 0 ? policy.witnesses.size() : static_cast<size_t>(min_witnesses);
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
    return Status::FailedPrecondition("the saved checkpoint in " + state_file +
                                      " no longer verifies");
  }
  return roles::LedgerClient(url, std::move(verifier));
}

Status LedgerClientOptions::SaveState(const roles::LedgerClient& client) const {
  if (state_file.empty()) return Status::Ok();
  const std::string tmp = state_file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << client.verifier().trusted_note();
    if (!out) return Status::Unavailable("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), state_file.c_str()) != 0)
    return Status::Unavailable("cannot write " + state_file);
  return Status::Ok();
}

}  // namespace medallion::roles
