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
    cmd->add_option("--passphrase-file", passphrase_file,
                    "Key store passphrase (else $MEDALLION_PASSPHRASE or a prompt)");
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

// The pairwise key of `c`: its wallet's seed at index c.index.
Result<uma::PairwiseKey> PairwiseKeyOf(const Common& c) {
  MDL_ASSIGN_OR_RETURN(SecretBytes seed, Seed(c.store, c.passphrase_file));
  return uma::DerivePairwiseKey(seed.Reveal(), c.index);
}

// `relationship pseudonym`.
int RunRelationshipPseudonym(const Common& c) {
  auto key = PairwiseKeyOf(c);
  if (!key) return ReportError(key.error());
  PrintJson({{"pseudonym", key->Pseudonym()},
             {"rel", uma::RelationshipId(key->Pseudonym())},
             {"index", c.index}});
  return kExitOk;
}

void AddRelationshipPseudonym(CLI::App* parent, int& rc) {
  auto c = std::make_shared<Common>();
  auto* cmd = parent->add_subcommand(
      "pseudonym", "Patient: the pairwise pseudonym to give a provider (one per relationship)");
  c->Add(cmd, false);
  cmd->callback([c, &rc] { rc = RunRelationshipPseudonym(*c); });
}

// `relationship open`.
struct RelationshipOpenOptions : Common {
  std::string patient, kind = "patient_provider", location, data_file;
};

int RunRelationshipOpen(const RelationshipOpenOptions& o) {
  auto key = PairwiseKeyOf(o);
  if (!key) return ReportError(key.error());
  auto bytes = ReadFileBytes(o.data_file);
  if (!bytes) return ReportError(bytes.error());
  return Submit(o, uma::BuildOpen(*key, o.patient, o.kind, o.location, HexEncode(Sha256(*bytes)),
                                  DefaultEnv().clock->NowSeconds()));
}

void AddRelationshipOpen(CLI::App* parent, int& rc) {
  auto o = std::make_shared<RelationshipOpenOptions>();
  auto* cmd =
      parent->add_subcommand("open", "Provider: open a relationship with a patient's pseudonym");
  o->Add(cmd);
  cmd->add_option("--patient", o->patient, "The patient's pseudonym")->required();
  cmd->add_option("--kind", o->kind, "patient_provider (default), guardian, delegate, care_team");
  cmd->add_option("--location", o->location, "Where the shared data lives (sealed to the patient)")
      ->required();
  cmd->add_option("--data-file", o->data_file,
                  "The shared data subset (its SHA-256 goes on the ledger)")
      ->required();
  cmd->callback([o, &rc] { rc = RunRelationshipOpen(*o); });
}

// `relationship status`.
struct RelationshipStatusOptions : Common {
  std::string patient, kind = "patient_provider", status;
};

int RunRelationshipStatus(const RelationshipStatusOptions& o) {
  auto key = PairwiseKeyOf(o);
  if (!key) return ReportError(key.error());
  return Submit(
      o, uma::BuildStatus(*key, o.patient, o.kind, o.status, DefaultEnv().clock->NowSeconds()));
}

void AddRelationshipStatus(CLI::App* parent, int& rc) {
  auto o = std::make_shared<RelationshipStatusOptions>();
  auto* cmd = parent->add_subcommand(
      "status", "Provider: set the relationship's status (active, suspended, ended)");
  o->Add(cmd);
  cmd->add_option("--patient", o->patient, "The patient's pseudonym")->required();
  cmd->add_option("--kind", o->kind, "As opened");
  cmd->add_option("--status", o->status, "active, suspended or ended")->required();
  cmd->callback([o, &rc] { rc = RunRelationshipStatus(*o); });
}

// `relationship accept`, `reject` and `delete`.
struct RelationshipActionOptions : Common {
  std::string action;  // accept, reject or delete
  std::string provider, kind = "patient_provider";
};

int RunRelationshipAction(const RelationshipActionOptions& o) {
  auto key = PairwiseKeyOf(o);
  if (!key) return ReportError(key.error());
  return Submit(o, uma::BuildPatientAction(*key, o.provider, o.kind, o.action,
                                           DefaultEnv().clock->NowSeconds()));
}

void AddRelationshipAction(CLI::App* parent, const std::string& action, int& rc) {
  auto o = std::make_shared<RelationshipActionOptions>();
  o->action = action;
  auto* cmd = parent->add_subcommand(action, "Patient: " + action + " a relationship");
  o->Add(cmd);
  cmd->add_option("--provider", o->provider, "The provider's pseudonym")->required();
  cmd->add_option("--kind", o->kind, "As opened");
  cmd->callback([o, &rc] { rc = RunRelationshipAction(*o); });
}

// `relationship list`.
struct RelationshipListOptions : Common {
  uint32_t gap = 20;
};

int RunRelationshipList(const RelationshipListOptions& o) {
  auto seed = Seed(o.store, o.passphrase_file);
  if (!seed) return ReportError(seed.error());
  auto client = o.ledger.MakeClient();
  if (!client) return ReportError(client.error());
  if (auto cp = client->Refresh(); !cp) return ReportError(cp.error());
  auto list = uma::RebuildFromSeed(
      seed->Reveal(),
      [&](const std::string& id) -> Result<std::vector<std::pair<uint64_t, std::string>>> {
        MDL_ASSIGN_OR_RETURN(auto proven, client->Lookup({ledger::KeyKind::kRelationship, id}));
        std::vector<std::pair<uint64_t, std::string>> out;
        for (auto& e : proven) out.emplace_back(e.index, e.entry);
        return out;
      },
      o.gap);
  if (!list) return ReportError(list.error());
  json out = json::array();
  for (const auto& r : *list) {
    out.push_back({{"rel", r.id},
                   {"provider", r.provider},
                   {"kind", r.kind},
                   {"status", r.status},
                   {"patient_decision", r.patient_decision},
                   {"deleted", r.deleted},
                   {"location", r.location},
                   {"data", r.data_hash},
                   {"ledger_indexes", r.indexes},
                   {"ignored", r.ignored}});
  }
  PrintJson(out);
  return kExitOk;
}

void AddRelationshipList(CLI::App* parent, int& rc) {
  auto o = std::make_shared<RelationshipListOptions>();
  auto* cmd = parent->add_subcommand(
      "list", "Patient: rebuild your relationships from your seed and the ledger");
  o->Add(cmd);
  cmd->add_option("--gap", o->gap, "Stop after this many unused pseudonyms in a row (default 20)");
  cmd->callback([o, &rc] { rc = RunRelationshipList(*o); });
}

}  // namespace

void AddRelationshipCommands(CLI::App& app, int& rc) {
  auto* rel = app.add_subcommand(
      "relationship", "Patient-provider relationships on the ledger (docs/relationships.md)");
  rel->require_subcommand(1);
  AddRelationshipPseudonym(rel, rc);
  AddRelationshipOpen(rel, rc);
  AddRelationshipStatus(rel, rc);
  for (const char* action : {"accept", "reject", "delete"}) AddRelationshipAction(rel, action, rc);
  AddRelationshipList(rel, rc);
}

}  // namespace medallion::cli
