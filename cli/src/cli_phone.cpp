// `medallion phone`: a command-line phone built only on the mobile bridge's C ABI
// (medallion/bridge.h) — what an iOS or Android app does, from a terminal: create or restore
// the phone's wallet, pair with a container, list what awaits a decision, approve or deny, or
// watch for requests and decide each at a prompt. Nothing here touches the wallet, claims or
// HTTP code directly.
#include "cli_phone.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cctype>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <exception>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <thread>

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

// "<status name>: <the bridge's reason>" for a failed call on `phone` (or just the name).
std::string Describe(mdl_status st, const mdl_phone* phone) {
  const std::string name = mdl_status_name(st);
  std::string out = name;
  if (phone != nullptr && *mdl_phone_last_error(phone) != '\0') {
    // The bridge's message may begin with the same code: say it once.
    std::string detail = mdl_phone_last_error(phone);
    if (detail.rfind(name + ": ", 0) == 0) detail.erase(0, name.size() + 2);
    out += ": " + detail;
  }
  return out;
}

// Exit codes as everywhere: 2 for unusable input, 1 for a refusal or failure.
int Fail(mdl_status st, const std::string& what, const mdl_phone* phone) {
  std::cerr << "medallion: phone " << what << ": " << Describe(st, phone) << "\n";
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

// `phone watch`: what a phone app's notification screen does, at a terminal prompt.
struct PhoneWatchOptions : StoreOptions {
  double interval = 2.0;
  bool once = false;
};

using nlohmann::json;

// The bridge parses the container's answers with limits of its own (4 MiB, depth 64) and adds
// a sentence per request; the cap here keeps anything else from being parsed at all.
constexpr size_t kMaxBridgeJsonBytes = size_t{16} << 20;
// Longest text shown from one member of a request.
constexpr size_t kMaxShownBytes = 600;

// JSON the bridge returned, or a discarded value if it is not JSON (never throws).
json ParseBridgeJson(const std::string& text) {
  if (text.size() > kMaxBridgeJsonBytes) return json(json::value_t::discarded);
  try {
    return json::parse(text, nullptr, /*allow_exceptions=*/false);
  } catch (const std::exception&) {  // bad_alloc
    return json(json::value_t::discarded);
  }
}

// Text from the container made safe for a terminal: C0 and C1 control characters and DEL (a
// terminal may act on them as escape sequences) become '?', and long text is cut at a character
// boundary. The bridge's output is valid UTF-8 (it came through nlohmann::json::dump).
std::string Printable(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (out.size() >= kMaxShownBytes && (c & 0xC0) != 0x80) {
      out += "...";
      break;
    }
    if (c < 0x20 || c == 0x7F) {
      out += '?';
    } else if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(s[i + 1]) <= 0x9F) {
      out += '?';
      ++i;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// A string member, or "" when `obj` is not an object or the member is absent or not a string.
std::string StringMember(const json& obj, const char* name) {
  if (!obj.is_object()) return "";
  auto it = obj.find(name);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

// A member, or null.
const json& Member(const json& obj, const char* name) {
  static const json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(name);
  return it != obj.end() ? *it : kNull;
}

// A time as the container sends it (Unix seconds, or already text) for display; "" if neither.
std::string ShowTime(const json& v) {
  if (v.is_string()) return Printable(v.get<std::string>());
  if (!v.is_number_integer()) return "";
  const auto t = static_cast<std::time_t>(v.get<int64_t>());
  std::tm tm{};
  char buf[40];
  if (gmtime_r(&t, &tm) == nullptr ||
      std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
    return "";
  return buf;
}

// Prints one request: its sentence, kind, id, expiry (the request's or its summary's
// "expires", when the container states one) and what approving also signs. Never the payload's
// document nor the hash: the sentence is what the person decides on.
void ShowRequest(const json& item) {
  const json& summary = Member(item, "summary");
  std::string expires = ShowTime(Member(item, "expires"));
  if (expires.empty()) expires = ShowTime(Member(summary, "expires"));
  std::string text = StringMember(item, "text");
  if (text.empty()) text = "A request awaits your decision.";
  std::cout << "\n--- A request awaits your decision ---\n"
            << Printable(text) << "\n"
            << "  kind:    " << Printable(StringMember(item, "kind")) << "\n"
            << "  id:      " << Printable(StringMember(item, "id")) << "\n"
            << "  expires: " << (expires.empty() ? "no expiry stated" : expires) << "\n";
  if (std::string created = ShowTime(Member(item, "created")); !created.empty())
    std::cout << "  created: " << created << "\n";
  const json& sign = Member(Member(item, "payload"), "sign");
  if (sign.is_object()) {
    std::cout << "  approving also signs: " << Printable(StringMember(sign, "format")) << " by "
              << Printable(StringMember(sign, "verification_method")) << "\n";
  }
}

enum class Answer { kApprove, kDeny, kEndOfInput };

// Asks until the answer is y/yes or n/no (any case, blanks ignored). Answers piped in are echoed
// (made printable), so that the transcript reads as it would at a terminal.
Answer Ask() {
  const bool echo = ::isatty(STDIN_FILENO) == 0;
  std::string line;
  for (;;) {
    std::cout << "Approve? [y/n] " << std::flush;
    if (!std::getline(std::cin, line)) {
      std::cout << "\n";
      return Answer::kEndOfInput;
    }
    if (echo) std::cout << Printable(line) << "\n";
    std::string word;
    for (char c : line) {
      if (!std::isspace(static_cast<unsigned char>(c)))
        word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (word == "y" || word == "yes") return Answer::kApprove;
    if (word == "n" || word == "no") return Answer::kDeny;
    std::cout << "Please answer y (approve) or n (deny).\n";
  }
}

// Sends the decision and prints the outcome; a refusal (an expired or already decided request)
// is printed, not fatal. Returns false when the container could not be reached, so that the
// request, still pending, is offered again at the next poll.
bool DecideAndReport(mdl_phone* p, const std::string& id, bool approve) {
  BridgeString out;
  const mdl_status st = mdl_phone_decide(p, id.c_str(), approve ? 1 : 0, &out.s);
  if (st != MDL_OK) {
    std::cout << "Not " << (approve ? "approved" : "denied") << ": " << Describe(st, p) << "\n"
              << std::flush;
    return st != MDL_ERR_UNAVAILABLE;
  }
  std::cout << (approve ? "Approved." : "Denied.");
  // With other approvers still to decide, the request stays pending: say so.
  const std::string status = StringMember(ParseBridgeJson(out.str()), "status");
  if (!status.empty() && status != (approve ? "approved" : "denied"))
    std::cout << " The request is now " << Printable(status) << ".";
  std::cout << "\n" << std::flush;
  return true;
}

// Shows and asks about each request in `items` whose id is not in `shown` (then added to it);
// ids no longer pending leave `shown`. Returns false at the end of input.
bool HandleNew(mdl_phone* p, const json& items, std::set<std::string>* shown) {
  std::set<std::string> pending;
  for (const json& item : items) pending.insert(StringMember(item, "id"));
  std::erase_if(*shown, [&](const std::string& id) { return pending.count(id) == 0; });
  for (const json& item : items) {
    const std::string id = StringMember(item, "id");
    if (id.empty() || !shown->insert(id).second) continue;
    ShowRequest(item);
    const Answer a = Ask();
    if (a == Answer::kEndOfInput) return false;
    if (!DecideAndReport(p, id, a == Answer::kApprove)) shown->erase(id);
  }
  return true;
}

int RunPhoneWatch(const PhoneWatchOptions& o) {
  Phone p;
  if (int rc = Open(o, &p); rc != 0) return rc;
  if (!o.once)
    std::cerr << "Watching for requests every " << o.interval << " s (Ctrl-C to stop).\n";
  std::set<std::string> shown;
  bool unreachable = false;  // reported once until the container answers again
  for (;;) {
    BridgeString text;
    const mdl_status st = mdl_phone_pending(p.get(), &text.s);
    if (st == MDL_ERR_UNAVAILABLE && !o.once) {
      if (!unreachable)
        std::cerr << "medallion: phone watch: " << Describe(st, p.get()) << " (trying again)\n";
      unreachable = true;
    } else if (st != MDL_OK) {
      return Fail(st, "watch", p.get());
    } else {
      unreachable = false;
      const json items = ParseBridgeJson(text.str());
      if (!items.is_array()) {
        std::cerr << "medallion: phone watch: internal: the bridge's pending list is not a list\n";
        return 1;
      }
      if (!HandleNew(p.get(), items, &shown)) return 0;
      if (o.once) {
        if (items.empty()) std::cout << "Nothing awaits your decision.\n";
        return 0;
      }
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(o.interval));
  }
}

void AddPhoneWatch(CLI::App* parent, int& rc) {
  auto o = std::make_shared<PhoneWatchOptions>();
  auto* cmd = parent->add_subcommand(
      "watch", "Watch for requests and decide each at a prompt (y/n on stdin; EOF stops)");
  o->Add(cmd);
  cmd->add_option("--interval", o->interval, "Seconds between polls (0.2 to 60; default 2)")
      ->check(CLI::Range(0.2, 60.0));
  cmd->add_flag("--once", o->once, "Decide what is pending now, then exit");
  cmd->callback([o, &rc] { rc = RunPhoneWatch(*o); });
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
  AddPhoneWatch(phone, rc);
}

}  // namespace medallion::cli
