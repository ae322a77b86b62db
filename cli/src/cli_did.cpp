// `medallion did ...`: create and manage a did:mdl from a wallet, resolve any DID, and run a
// resolver over HTTP.
#include "cli_did.h"

#include <signal.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli_ledger_options.h"
#include "cli_util.h"
#include "medallion/roles/ledger_node.h"
#include "medallion/roles/did_controller.h"
#include "medallion/core/encoding.h"
#include "medallion/did/did_key.h"
#include "medallion/did/did_mdl.h"
#include "medallion/did/resolver.h"
#include "medallion/roles/did_http.h"
#include "medallion/http/http.h"
#include "medallion/wallet/hd_key.h"
#include "medallion/wallet/keys.h"
#include "medallion/wallet/keystore.h"

namespace medallion::cli {
namespace {

using nlohmann::json;
using wallet::KeyPurpose;

using Controller = roles::DidController;
using roles::CurrentState;
using roles::kScanChains;
using roles::kUpdateChainStride;

Result<json> Submit(roles::LedgerClient& client, const std::string& canonical) {
  return roles::SubmitDidOperation(client, canonical);
}

std::shared_ptr<wallet::SigningKey> Shared(wallet::SigningKey k) {
  return std::make_shared<wallet::SigningKey>(std::move(k));
}

Result<Controller> Unlock(const std::string& store, const std::string& passphrase_file,
                          uint32_t account) {
  // A store that cannot be opened is unusable input (exit 2), as for the wallet commands.
  MDL_ASSIGN_OR_RETURN(wallet::WalletSecret secret, OpenAndUnlock(store, passphrase_file));
  return Controller{std::move(secret.seed), account};
}

struct WalletOptions {
  std::string store;
  std::string passphrase_file;
  uint32_t account = 0;
  void Add(CLI::App* cmd) {
    cmd->add_option("--store", store, "The controller's wallet key store")->required();
    cmd->add_option("--passphrase-file", passphrase_file,
                    "Key store passphrase (else $MEDALLION_PASSPHRASE or a prompt)");
    cmd->add_option("--account", account, "Wallet account (default 0)");
  }
};

// The options every DID-changing command shares: wallet, verifying ledger client, --did, --json.
struct UpdateOptions {
  WalletOptions wallet;
  ClientOptions ledger;
  std::string did;
  bool as_json = false;
};

std::shared_ptr<UpdateOptions> AddUpdateOptions(CLI::App* cmd, bool did_required) {
  auto o = std::make_shared<UpdateOptions>();
  o->wallet.Add(cmd);
  o->ledger.Add(cmd, true, "--ledger");
  auto* d = cmd->add_option(
      "--did", o->did, did_required ? "The DID" : "The DID (default: the one saved in the store)");
  if (did_required) d->required();
  cmd->add_flag("--json", o->as_json, "JSON output");
  return o;
}

// The shared body of update-style commands: unlock, replay, build, submit, print.
using Builder = std::function<Result<did::mdl::BuiltOp>(const Controller&, const did::mdl::State&)>;
int RunUpdate(const WalletOptions& w, const ClientOptions& l, const std::string& did, bool as_json,
              const Builder& build) {
  auto ctl = Unlock(w.store, w.passphrase_file, w.account);
  if (!ctl) return ReportError(ctl.error());
  std::string target = did;
  if (target.empty()) {
    auto ks = wallet::KeyStore::Open(w.store, DefaultEnv());
    auto saved = ks ? (*ks)->GetPublic("did", "mdl") : Result<std::string>(ks.error());
    if (!saved)
      return ReportError(
          Status::InvalidArgument("give --did (no did:mdl saved in " + w.store + ")"));
    target = *saved;
  }
  auto client = l.MakeClient();
  if (!client) return ReportError(client.error());
  auto state = CurrentState(*client, target, nullptr);
  if (!state) return ReportError(state.error());
  auto op = build(*ctl, *state);
  if (!op) return ReportError(op.error());
  auto result = Submit(*client, op->canonical);
  if (!result) return ReportError(result.error());
  Status st = l.SaveState(*client);
  if (!st.ok()) return ReportError(st);
  (*result)["did"] = target;
  (*result)["operation"] = json::parse(op->canonical);
  if (as_json) {
    PrintJson(*result);
  } else {
    std::cout << (*result)["operation"]["op"].get<std::string>() << " of " << target
              << " recorded at ledger index " << (*result)["index"] << "\n";
  }
  return kExitOk;
}

// `did create`.
struct DidCreateOptions {
  WalletOptions wallet;
  ClientOptions ledger;
  std::string service;
  bool as_json = false;
};

int RunDidCreate(const DidCreateOptions& o) {
  auto ctl = Unlock(o.wallet.store, o.wallet.passphrase_file, o.wallet.account);
  if (!ctl) return ReportError(ctl.error());
  auto keys = ctl->Keys(0, nullptr);
  if (!keys) return ReportError(keys.error());
  keys->service = o.service;
  auto u0 = ctl->Key(KeyPurpose::kDidUpdate, 0);
  auto u1 = ctl->PublicKey(KeyPurpose::kDidUpdate, 1);
  auto r0 = ctl->PublicKey(KeyPurpose::kRecoveryCommitment, 0);
  if (!u0 || !u1 || !r0) return ReportError(Status::Internal("key derivation failed"));
  auto op = did::mdl::BuildCreate(*keys, ctl->Signer(Shared(std::move(*u0))),
                                  did::mdl::KeyCommitment(*u1), did::mdl::KeyCommitment(*r0),
                                  DefaultEnv().clock->NowSeconds());
  if (!op) return ReportError(op.error());
  auto client = o.ledger.MakeClient();
  if (!client) return ReportError(client.error());
  auto result = Submit(*client, op->canonical);
  if (!result) return ReportError(result.error());
  (void)o.ledger.SaveState(*client);
  auto ks = wallet::KeyStore::Open(o.wallet.store, DefaultEnv());
  if (ks) (void)(*ks)->PutPublic("did", "mdl", op->did);
  (*result)["did"] = op->did;
  (*result)["operation"] = json::parse(op->canonical);
  if (o.as_json) {
    PrintJson(*result);
  } else {
    std::cout << op->did << "\n";
  }
  return kExitOk;
}

void AddDidCreate(CLI::App* parent, int& rc) {
  auto* cmd = parent->add_subcommand("create",
                                     "Create a did:mdl from a wallet and anchor it on the ledger");
  auto o = std::make_shared<DidCreateOptions>();
  o->wallet.Add(cmd);
  o->ledger.Add(cmd, true, "--ledger");
  cmd->add_option("--service", o->service,
                  "The owner's container base URL (https; http only on loopback)");
  cmd->add_flag("--json", o->as_json, "JSON output");
  cmd->callback([o, &rc] { rc = RunDidCreate(*o); });
}

// `did resolve`.
struct DidResolveOptions {
  ClientOptions ledger;
  std::string did, version_id, version_time;
  uint64_t ledger_position = 0;
  bool document_only = false;
};

int RunDidResolve(const DidResolveOptions& o) {
  did::Resolver resolver;
  if (did::DidMethod(o.did) == "mdl") {
    if (o.ledger.log_key.empty())
      return ReportError(Status::InvalidArgument("did:mdl needs --ledger and --log-key"));
    auto client = o.ledger.MakeClient();
    if (!client) return ReportError(client.error());
    resolver.Register(did::mdl::MakeMdlResolver(
        roles::MakeLedgerOpFetcher(std::make_shared<roles::LedgerClient>(std::move(*client)))));
  }
  did::ResolutionOptions options;
  if (!o.version_id.empty()) options.version_id = o.version_id;
  if (!o.version_time.empty()) {
    auto t = roles::ParseXmlDateTime(o.version_time);
    if (!t) return ReportError(t.error());
    options.version_time = *t;
  }
  if (o.ledger_position > 0) options.ledger_position = o.ledger_position;
  did::ResolutionResult r = resolver.Resolve(o.did, options);
  json j = r.ToJson();
  PrintJson(o.document_only ? j["didDocument"] : j);
  if (r.ok()) return kExitOk;
  return r.error == did::kInvalidDid || r.error == did::kInvalidOptions ? kExitUsage : kExitFalse;
}

void AddDidResolve(CLI::App* parent, int& rc) {
  auto* cmd = parent->add_subcommand(
      "resolve", "Resolve a DID to its W3C DID Resolution result (exit 1 if it does not resolve)");
  auto o = std::make_shared<DidResolveOptions>();
  cmd->add_option("did", o->did, "The DID")->required();
  o->ledger.Add(cmd, false, "--ledger");
  cmd->add_option("--version-id", o->version_id,
                  "A past version (did:mdl: the operation sequence number)");
  cmd->add_option("--version-time", o->version_time,
                  "The version in force at this time (2026-01-31T12:00:00Z)");
  cmd->add_option("--ledger-position", o->ledger_position,
                  "did:mdl: as of this ledger index (a postmark)");
  cmd->add_flag("--document", o->document_only, "Print only the DID document");
  cmd->callback([o, &rc] { rc = RunDidResolve(*o); });
}

// RunUpdate with the options of `o`.
int RunUpdate(const UpdateOptions& o, const Builder& build) {
  return RunUpdate(o.wallet, o.ledger, o.did, o.as_json, build);
}

// `did rotate`.
Result<did::mdl::BuiltOp> BuildRotate(const Controller& c, const did::mdl::State& s) {
  MDL_ASSIGN_OR_RETURN(uint32_t gen, c.Find(KeyPurpose::kAssertion, [&](const Bytes& pk) {
    return pk == s.keys.assertion;
  }));
  MDL_ASSIGN_OR_RETURN(did::mdl::KeySet keys, c.Keys(gen + 1, &s.keys));
  return c.Update(s, keys);
}

void AddDidRotate(CLI::App* parent, int& rc) {
  auto* cmd = parent->add_subcommand(
      "rotate", "Rotate the signing keys of a did:mdl (and the update key, pre-rotated)");
  auto o = AddUpdateOptions(cmd, false);
  cmd->callback([o, &rc] { rc = RunUpdate(*o, BuildRotate); });
}

// `did add-key` (`is_key`) and `did add-service`: updates that keep the signing keys.
Result<did::mdl::BuiltOp> BuildAddition(bool is_key, const std::string& value, const Controller& c,
                                        const did::mdl::State& s) {
  did::mdl::KeySet keys = s.keys;
  if (is_key) {
    Bytes pk;
    if (!value.empty() && value[0] == 'z') {
      MDL_ASSIGN_OR_RETURN(did::DidKey k, did::ParseMultikey(value));
      if (k.type != did::KeyType::kEd25519)
        return Status::InvalidArgument("a device key is an Ed25519 key");
      pk = k.public_key;
    } else {
      MDL_ASSIGN_OR_RETURN(pk, HexDecode(value));
    }
    if (pk.size() != 32) return Status::InvalidArgument("a device key is 32 bytes");
    keys.device = pk;
  } else {
    keys.service = value;
  }
  return c.Update(s, keys);
}

void AddDidAddition(CLI::App* parent, const char* name, int& rc) {
  const bool is_key = std::string(name) == "add-key";
  auto* cmd = parent->add_subcommand(
      name, is_key ? "Add (or replace) the device key of a did:mdl: a paired phone's Ed25519 key"
                   : "Set the container service endpoint of a did:mdl");
  auto o = AddUpdateOptions(cmd, false);
  auto value = std::make_shared<std::string>();
  if (is_key) {
    cmd->add_option("--public-key", *value, "The device key: Multikey (z6Mk...) or 32-byte hex")
        ->required();
  } else {
    cmd->add_option("--url", *value, "The container base URL")->required();
  }
  cmd->callback([o, value, is_key, &rc] {
    rc = RunUpdate(*o, [&](const Controller& c, const did::mdl::State& s) {
      return BuildAddition(is_key, *value, c, s);
    });
  });
}

// `did recover`.
Result<did::mdl::BuiltOp> BuildRecovery(const Controller& c, const did::mdl::State& s) {
  MDL_ASSIGN_OR_RETURN(uint32_t r, c.Find(KeyPurpose::kRecoveryCommitment, [&](const Bytes& pk) {
    return did::mdl::KeyCommitment(pk) == s.recovery_commitment;
  }));
  // Fresh signing keys and a fresh update chain that no thief can have seen.
  const uint32_t base = (r + 1) * kUpdateChainStride;
  if (r + 1 >= kScanChains)
    return Status::ResourceExhausted("too many recoveries for this wallet account");
  MDL_ASSIGN_OR_RETURN(did::mdl::KeySet keys, c.Keys(base, &s.keys));
  MDL_ASSIGN_OR_RETURN(auto key, c.Key(KeyPurpose::kRecoveryCommitment, r));
  MDL_ASSIGN_OR_RETURN(Bytes next, c.PublicKey(KeyPurpose::kDidUpdate, base));
  MDL_ASSIGN_OR_RETURN(Bytes next_recovery, c.PublicKey(KeyPurpose::kRecoveryCommitment, r + 1));
  return did::mdl::BuildRecover(
      s, keys, c.Signer(Shared(std::move(key))), did::mdl::KeyCommitment(next),
      did::mdl::KeyCommitment(next_recovery), DefaultEnv().clock->NowSeconds());
}

int RunDidRecover(const UpdateOptions& o) {
  const int code = RunUpdate(o, BuildRecovery);
  if (code == kExitOk) {
    auto ks = wallet::KeyStore::Open(o.wallet.store, DefaultEnv());
    if (ks) (void)(*ks)->PutPublic("did", "mdl", o.did);
  }
  return code;
}

void AddDidRecover(CLI::App* parent, int& rc) {
  auto* cmd = parent->add_subcommand(
      "recover",
      "Take a did:mdl back with its recovery key (e.g. a wallet restored from SLIP-39 shares)");
  auto o = AddUpdateOptions(cmd, true);
  cmd->callback([o, &rc] { rc = RunDidRecover(*o); });
}

// `did deactivate`.
Result<did::mdl::BuiltOp> BuildDeactivation(const Controller& c, const did::mdl::State& s) {
  uint32_t u = 0;
  MDL_ASSIGN_OR_RETURN(did::mdl::OpSigner signer, c.CommittedUpdateSigner(s, &u));
  return did::mdl::BuildDeactivate(s, signer, DefaultEnv().clock->NowSeconds());
}

void AddDidDeactivate(CLI::App* parent, int& rc) {
  auto* cmd = parent->add_subcommand("deactivate", "Deactivate a did:mdl for good");
  auto o = AddUpdateOptions(cmd, false);
  cmd->callback([o, &rc] { rc = RunUpdate(*o, BuildDeactivation); });
}

// `did resolver` (HTTP).
void AddDidResolver(CLI::App* parent, int& rc) {
  auto* cmd = parent->add_subcommand(
      "resolver", "Serve GET /1.0/identifiers/{did} (did:key, did:mdl via a verified ledger)");
  auto l = std::make_shared<ClientOptions>();
  auto listen = std::make_shared<std::string>("127.0.0.1:8090");
  l->Add(cmd, true, "--ledger");
  cmd->add_option("--listen", *listen, "HOST:PORT (port 0 picks a free one)");
  cmd->callback([l, listen, &rc] {
    roles::ResolverOptions o;
    o.ledger = *l;
    o.listen = *listen;
    roles::ResolverRole resolver(std::move(o), DefaultEnv());
    rc = ServeRole(resolver, true);
  });
}

}  // namespace

void AddDidCommands(CLI::App& app, int& rc) {
  CLI::App* d = app.add_subcommand(
      "did", "Decentralized identifiers: did:mdl on the ledger, did:key, did:web");
  d->require_subcommand(1);
  AddDidCreate(d, rc);
  AddDidResolve(d, rc);
  AddDidRotate(d, rc);
  for (const char* name : {"add-key", "add-service"}) AddDidAddition(d, name, rc);
  AddDidRecover(d, rc);
  AddDidDeactivate(d, rc);
  AddDidResolver(d, rc);
}

}  // namespace medallion::cli
