// `medallion relationship ...`: MedRec-style relationship pointers on the ledger
// (docs/relationships.md). The patient hands her pairwise pseudonym to the provider
// (`pseudonym`); the provider opens the relationship and sets its status; the patient accepts,
// rejects or deletes it, and lists (rebuilds) all of hers from her seed and the ledger.
#include "cli_relationship.h"

#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include "cli_ledger_options.h"
#include "cli_util.h"
#include "medallion/core/encoding.h"
#include "medallion/core/hash.h"
#include "medallion/roles/ledger_client.h"
#include "medallion/uma/relationship.h"
#include "medallion/wallet/keystore.h"

namespace medallion::cli {
namespace {

using nlohmann::json;

Result<SecretBytes> Seed(const std::string& store, const std::string& passphrase_file) {
  MDL_ASSIGN_OR_RETURN(wallet::WalletSecret secret, OpenAndUnlock(store, passphrase_file));
  return std::move(secret.seed);
}

struct Common {
  std::string store, passphrase_file;
  uint32_t index = 0;
  ClientOptions ledger;
  void Add(CLI::App* cmd, bool with_ledger = true) {
    cmd->add_option("--store", store, "Your wallet key store")->required();
    cmd->add_option("--passphrase-file", passphrase_file, "Key store passphrase (else $MEDALLION_PASSPHRASE or a prompt)");
    cmd->add_option("--index", index, "Your pairwise key index for this relationship (default 0)");
    if (with_ledger) ledger.Add(cmd, true, "--ledger");
  }
};

int Submit(const Common& c, const Result<json>& entry) {
  if (!entry) return ReportError(entry.error());
  auto client = c.ledger.MakeClient();
  if (!client) return ReportError(client.error());
  auto r = client->Append(*entry);
  if (!r) return ReportError(r.error());
  PrintJson({{"index", r->index}, {"rel", (*entry)["rel"]}, {"action", (*entry)["action"]}});
  return kExitOk;
}

}  // namespace

void AddRelationshipCommands(CLI::App& app, int& rc) {
  auto* rel = app.add_subcommand("relationship", "Patient-provider relationships on the ledger (docs/relationships.md)");
  rel->require_subcommand(1);
  {
    auto c = std::make_shared<Common>();
    auto* cmd = rel->add_subcommand("pseudonym", "Patient: the pairwise pseudonym to give a provider (one per relationship)");
    c->Add(cmd, false);
    cmd->callback([c, &rc] {
      auto seed = Seed(c->store, c->passphrase_file);
      if (!seed) return void(rc = ReportError(seed.error()));
      auto key = uma::DerivePairwiseKey(seed->Reveal(), c->index);
      if (!key) return void(rc = ReportError(key.error()));
      PrintJson({{"pseudonym", key->Pseudonym()}, {"rel", uma::RelationshipId(key->Pseudonym())}, {"index", c->index}});
      rc = 0;
    });
  }
  {
    auto c = std::make_shared<Common>();
    auto patient = std::make_shared<std::string>(), kind = std::make_shared<std::string>("patient_provider");
    auto location = std::make_shared<std::string>(), data = std::make_shared<std::string>();
    auto* cmd = rel->add_subcommand("open", "Provider: open a relationship with a patient's pseudonym");
    c->Add(cmd);
    cmd->add_option("--patient", *patient, "The patient's pseudonym")->required();
    cmd->add_option("--kind", *kind, "patient_provider (default), guardian, delegate, care_team");
    cmd->add_option("--location", *location, "Where the shared data lives (sealed to the patient)")->required();
    cmd->add_option("--data-file", *data, "The shared data subset (its SHA-256 goes on the ledger)")->required();
    cmd->callback([c, patient, kind, location, data, &rc] {
      auto seed = Seed(c->store, c->passphrase_file);
      if (!seed) return void(rc = ReportError(seed.error()));
      auto key = uma::DerivePairwiseKey(seed->Reveal(), c->index);
      if (!key) return void(rc = ReportError(key.error()));
      auto bytes = ReadFileBytes(*data);
      if (!bytes) return void(rc = ReportError(bytes.error()));
      rc = Submit(*c, uma::BuildOpen(*key, *patient, *kind, *location, HexEncode(Sha256(*bytes)), DefaultEnv().clock->NowSeconds()));
    });
  }
  {
    auto c = std::make_shared<Common>();
    auto patient = std::make_shared<std::string>(), kind = std::make_shared<std::string>("patient_provider");
    auto status = std::make_shared<std::string>();
    auto* cmd = rel->add_subcommand("status", "Provider: set the relationship's status (active, suspended, ended)");
    c->Add(cmd);
    cmd->add_option("--patient", *patient, "The patient's pseudonym")->required();
    cmd->add_option("--kind", *kind, "As opened");
    cmd->add_option("--status", *status, "active, suspended or ended")->required();
    cmd->callback([c, patient, kind, status, &rc] {
      auto seed = Seed(c->store, c->passphrase_file);
      if (!seed) return void(rc = ReportError(seed.error()));
      auto key = uma::DerivePairwiseKey(seed->Reveal(), c->index);
      if (!key) return void(rc = ReportError(key.error()));
      rc = Submit(*c, uma::BuildStatus(*key, *patient, *kind, *status, DefaultEnv().clock->NowSeconds()));
    });
  }
  for (const char* action : {"accept", "reject", "delete"}) {
    auto c = std::make_shared<Common>();
    auto provider = std::make_shared<std::string>(), kind = std::make_shared<std::string>("patient_provider");
    const std::string act = action;
    auto* cmd = rel->add_subcommand(action, std::string("Patient: ") + action + " a relationship");
    c->Add(cmd);
    cmd->add_option("--provider", *provider, "The provider's pseudonym")->required();
    cmd->add_option("--kind", *kind, "As opened");
    cmd->callback([c, provider, kind, act, &rc] {
      auto seed = Seed(c->store, c->passphrase_file);
      if (!seed) return void(rc = ReportError(seed.error()));
      auto key = uma::DerivePairwiseKey(seed->Reveal(), c->index);
      if (!key) return void(rc = ReportError(key.error()));
      rc = Submit(*c, uma::BuildPatientAction(*key, *provider, *kind, act, DefaultEnv().clock->NowSeconds()));
    });
  }
  {
    auto c = std::make_shared<Common>();
    auto gap = std::make_shared<uint32_t>(20);
    auto* cmd = rel->add_subcommand("list", "Patient: rebuild your relationships from your seed and the ledger");
    c->Add(cmd);
    cmd->add_option("--gap", *gap, "Stop after this many unused pseudonyms in a row (default 20)");
    cmd->callback([c, gap, &rc] {
      auto seed = Seed(c->store, c->passphrase_file);
      if (!seed) return void(rc = ReportError(seed.error()));
      auto client = c->ledger.MakeClient();
      if (!client) return void(rc = ReportError(client.error()));
      if (auto cp = client->Refresh(); !cp) return void(rc = ReportError(cp.error()));
      auto list = uma::RebuildFromSeed(seed->Reveal(), [&](const std::string& id) -> Result<std::vector<std::pair<uint64_t, std::string>>> {
        MDL_ASSIGN_OR_RETURN(auto proven, client->Lookup({ledger::KeyKind::kRelationship, id}));
        std::vector<std::pair<uint64_t, std::string>> out;
        for (auto& e : proven) out.emplace_back(e.index, e.entry);
        return out;
      }, *gap);
      if (!list) return void(rc = ReportError(list.error()));
      json out = json::array();
      for (const auto& r : *list) {
        out.push_back({{"rel", r.id}, {"provider", r.provider}, {"kind", r.kind}, {"status", r.status},
                       {"patient_decision", r.patient_decision}, {"deleted", r.deleted}, {"location", r.location},
                       {"data", r.data_hash}, {"ledger_indexes", r.indexes}, {"ignored", r.ignored}});
      }
      PrintJson(out);
      rc = 0;
    });
  }
}

}  // namespace medallion::cli
