// `medallion phone`: a command-line phone built only on the mobile bridge's C ABI
// (medallion/bridge.h) — what an iOS or Android app does, from a terminal: create or restore
// the phone's wallet, pair with a container, list what awaits a decision, approve or deny.
// Nothing here touches the wallet, claims or HTTP code directly.
#include "cli_phone.h"

#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>
#include <string>

#include "cli_util.h"
#include "medallion/bridge.h"

namespace medallion::cli {
namespace {

// A string the bridge returned, freed (and wiped) by mdl_string_free.
struct BridgeString {
  char* s = nullptr;
  ~BridgeString() { mdl_string_free(s); }
  std::string str() const { return s ? s : ""; }
};

struct PhoneDeleter {
  void operator()(mdl_phone* p) const { mdl_phone_destroy(p); }
};
using Phone = std::unique_ptr<mdl_phone, PhoneDeleter>;

// Exit codes as everywhere: 2 for unusable input, 1 for a refusal or failure.
int Fail(mdl_status st, const std::string& what, const mdl_phone* phone) {
  const std::string name = mdl_status_name(st);
  std::cerr << "medallion: phone " << what << ": " << name;
  if (phone != nullptr && *mdl_phone_last_error(phone) != '\0') {
    // The bridge's message may begin with the same code: say it once.
    std::string detail = mdl_phone_last_error(phone);
    if (detail.rfind(name + ": ", 0) == 0) detail.erase(0, name.size() + 2);
    std::cerr << ": " << detail;
  }
  std::cerr << "\n";
  return st == MDL_ERR_INVALID_ARGUMENT || st == MDL_ERR_NOT_FOUND || st == MDL_ERR_ALREADY_EXISTS
             ? 2
             : 1;
}

struct StoreOptions {
  std::string store, passphrase_file;
  void Add(CLI::App* cmd) {
    cmd->add_option("--store", store, "The phone's key store")->required();
    cmd->add_option("--passphrase-file", passphrase_file,
                    "Its passphrase (else $MEDALLION_PASSPHRASE or a prompt)");
  }
};

int Open(const StoreOptions& o, Phone* out) {
  auto pass = GetPassphrase(o.passphrase_file, "MEDALLION_PASSPHRASE", "Phone passphrase", false);
  if (!pass) return ReportError(pass.error());
  mdl_phone* p = nullptr;
  mdl_status st =
      mdl_phone_open(o.store.c_str(), reinterpret_cast<const uint8_t*>(pass->Reveal().data()),
                     pass->Reveal().size(), &p);
  if (st != MDL_OK) {
    // Name the store, and what a refusal means: the passphrase (or a tampered store).
    std::string what = "open " + o.store;
    if (st == MDL_ERR_UNAUTHENTICATED) {
      what += " (the passphrase " +
              std::string(o.passphrase_file.empty() ? "given" : "in " + o.passphrase_file) +
              " does not open it, or the store was tampered with)";
    }
    return Fail(st, what, nullptr);
  }
  out->reset(p);
  return 0;
}

mdl_kdf KdfFor(const std::string& name) {
  if (name == "test") return MDL_KDF_TEST;
  if (name == "interactive") return MDL_KDF_INTERACTIVE;
  return MDL_KDF_MODERATE;
}

int Show(mdl_phone* p) {
  BridgeString did, key, pairing;
  if (mdl_status st = mdl_phone_did(p, &did.s); st != MDL_OK) return Fail(st, "did", p);
  if (mdl_status st = mdl_phone_device_key(p, &key.s); st != MDL_OK)
    return Fail(st, "device key", p);
  std::cout << "{\"did\":\"" << did.str() << "\",\"device_key\":\"" << key.str() << "\"";
  if (mdl_phone_pairing(p, &pairing.s) == MDL_OK) std::cout << ",\"pairing\":" << pairing.str();
  std::cout << "}\n";
  return 0;
}

// `phone init`.
struct PhoneInitOptions : StoreOptions {
  std::string kdf = "moderate", mnemonic_out;
};

int RunPhoneInit(const PhoneInitOptions& o) {
  auto pass =
      GetPassphrase(o.passphrase_file, "MEDALLION_PASSPHRASE", "New phone passphrase", true);
  if (!pass) return ReportError(pass.error());
  mdl_phone* raw = nullptr;
  BridgeString words;
  mdl_status st =
      mdl_phone_create(o.store.c_str(), reinterpret_cast<const uint8_t*>(pass->Reveal().data()),
                       pass->Reveal().size(), KdfFor(o.kdf), &raw, &words.s);
  if (st != MDL_OK) return Fail(st, "init", nullptr);
  Phone p(raw);
  if (!o.mnemonic_out.empty()) {
    Status w = WriteFileAtomic(o.mnemonic_out, words.str() + "\n", false, false);
    if (!w.ok()) return ReportError(w);
  } else {
    std::cerr << "mnemonic (write it down, it is shown once): " << words.str() << "\n";
  }
  return Show(p.get());
}

void AddPhoneInit(CLI::App* parent, int& rc) {
  auto o = std::make_shared<PhoneInitOptions>();
  auto* cmd = parent->add_subcommand("init", "Create the phone's wallet and device key");
  o->Add(cmd);
  cmd->add_option("--kdf", o->kdf,
                  "moderate (default), interactive, or test (MEDALLION_ALLOW_TEST_KDF=1)");
  cmd->add_option("--mnemonic-out", o->mnemonic_out,
                  "Write the mnemonic to this file (0600) instead of stdout");
  cmd->callback([o, &rc] { rc = RunPhoneInit(*o); });
}

// `phone restore`.
struct PhoneRestoreOptions : StoreOptions {
  std::string kdf = "moderate", mnemonic_file;
};

int RunPhoneRestore(const PhoneRestoreOptions& o) {
  auto words = ReadMnemonicFile(o.mnemonic_file);
  if (!words) return ReportError(words.error());
  auto pass =
      GetPassphrase(o.passphrase_file, "MEDALLION_PASSPHRASE", "New phone passphrase", true);
  if (!pass) return ReportError(pass.error());
  mdl_phone* raw = nullptr;
  mdl_status st = mdl_phone_restore(
      o.store.c_str(), reinterpret_cast<const uint8_t*>(pass->Reveal().data()),
      pass->Reveal().size(), KdfFor(o.kdf), words->Reveal().data(), words->Reveal().size(), &raw);
  if (st != MDL_OK) return Fail(st, "restore", nullptr);
  Phone p(raw);
  return Show(p.get());
}

void AddPhoneRestore(CLI::App* parent, int& rc) {
  auto o = std::make_shared<PhoneRestoreOptions>();
  auto* cmd = parent->add_subcommand(
      "restore", "Restore the phone's wallet from a mnemonic (a new device key)");
  o->Add(cmd);
  cmd->add_option("--kdf", o->kdf, "moderate (default), interactive, or test");
  cmd->add_option("--mnemonic-file", o->mnemonic_file, "The mnemonic")->required();
  cmd->callback([o, &rc] { rc = RunPhoneRestore(*o); });
}

// `phone show`.
int RunPhoneShow(const StoreOptions& o) {
  Phone p;
  if (int rc = Open(o, &p); rc != 0) return rc;
  return Show(p.get());
}

void AddPhoneShow(CLI::App* parent, int& rc) {
  auto o = std::make_shared<StoreOptions>();
  auto* cmd = parent->add_subcommand("show", "The phone's DID, device key and pairing");
  o->Add(cmd);
  cmd->callback([o, &rc] { rc = RunPhoneShow(*o); });
}

// `phone pair`.
struct PhonePairOptions : StoreOptions {
  std::string uri, name = "medallion phone";
};

int RunPhonePair(const PhonePairOptions& o) {
  Phone p;
  if (int rc = Open(o, &p); rc != 0) return rc;
  BridgeString out;
  mdl_status st = mdl_phone_pair(p.get(), o.uri.c_str(), o.name.c_str(), &out.s);
  if (st != MDL_OK) return Fail(st, "pair", p.get());
  std::cout << out.str() << "\n";
  return 0;
}

void AddPhonePair(CLI::App* parent, int& rc) {
  auto o = std::make_shared<PhonePairOptions>();
  auto* cmd =
      parent->add_subcommand("pair", "Pair with a container from its pairing URI (the QR code)");
  o->Add(cmd);
  cmd->add_option("--uri", o->uri, "medallion-pair://v1?...")->required();
  cmd->add_option("--name", o->name, "This device's name as the owner will see it");
  cmd->callback([o, &rc] { rc = RunPhonePair(*o); });
}

// `phone pending`.
int RunPhonePending(const StoreOptions& o) {
  Phone p;
  if (int rc = Open(o, &p); rc != 0) return rc;
  BridgeString out;
  mdl_status st = mdl_phone_pending(p.get(), &out.s);
  if (st != MDL_OK) return Fail(st, "pending", p.get());
  std::cout << out.str() << "\n";
  return 0;
}

void AddPhonePending(CLI::App* parent, int& rc) {
  auto o = std::make_shared<StoreOptions>();
  auto* cmd = parent->add_subcommand(
      "pending", "Requests awaiting a decision (JSON, each with a human \"text\")");
  o->Add(cmd);
  cmd->callback([o, &rc] { rc = RunPhonePending(*o); });
}

// `phone approve` and `phone deny`.
struct PhoneDecideOptions : StoreOptions {
  std::string id;
  bool approve = false;
};

int RunPhoneDecide(const PhoneDecideOptions& o) {
  Phone p;
  if (int rc = Open(o, &p); rc != 0) return rc;
  BridgeString out;
  mdl_status st = mdl_phone_decide(p.get(), o.id.c_str(), o.approve ? 1 : 0, &out.s);
  if (st != MDL_OK) return Fail(st, o.approve ? "approve" : "deny", p.get());
  std::cout << out.str() << "\n";
  return 0;
}

void AddPhoneDecide(CLI::App* parent, bool approve, int& rc) {
  auto o = std::make_shared<PhoneDecideOptions>();
  o->approve = approve;
  auto* cmd = parent->add_subcommand(
      approve ? "approve" : "deny",
      approve ? "Approve a request (signing what it asks for)" : "Deny a request");
  o->Add(cmd);
  // Positional or --id; an id is never drawn with a leading '-', and `-- ID` or `--id=ID`
  // pass any id safely.
  cmd->add_option("id,--id", o->id, "The request id (from `phone pending`)")->required();
  cmd->callback([o, &rc] { rc = RunPhoneDecide(*o); });
}

}  // namespace

void AddPhoneCommands(CLI::App& app, int& rc) {
  auto* phone = app.add_subcommand(
      "phone", "A command-line phone on the mobile bridge's C ABI (docs/mobile-bridge.md)");
  phone->require_subcommand(1);
  AddPhoneInit(phone, rc);
  AddPhoneRestore(phone, rc);
  AddPhoneShow(phone, rc);
  AddPhonePair(phone, rc);
  AddPhonePending(phone, rc);
  AddPhoneDecide(phone, /*approve=*/true, rc);
  AddPhoneDecide(phone, /*approve=*/false, rc);
}

}  // namespace medallion::cli
