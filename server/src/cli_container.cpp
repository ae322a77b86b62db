// `medallion container serve`: a personal container (the UMA authorization server, the FHIR
// record store it protects, the owner API) on one port. `medallion consent ...`: the owner's
// side over HTTP — sign in with the wallet's DID key, policies, pending requests, decisions,
// the accounting of disclosures and its offline verification.
#include "cli_container.h"

#include <CLI/CLI.hpp>
#include <httplib.h>

#include <signal.h>

#include <atomic>
#include <filesystem>
#include <set>
#include <thread>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli_did.h"
#include "cli_ledger_options.h"
#include "cli_util.h"
#include "cli_verifier.h"
#include "medallion/claims/credentials.h"
#include "medallion/claims/data_integrity.h"
#include "medallion/claims/jose.h"
#include "medallion/claims/status_list.h"
#include "medallion/core/encoding.h"
#include "medallion/core/hash.h"
#include "medallion/core/json.h"
#include "medallion/did/did_key.h"
#include "medallion/did/did_mdl.h"
#include "medallion/did/did_web.h"
#include "medallion/server/did_http.h"
#include "medallion/server/did_web_http.h"
#include "medallion/http/http.h"
#include "medallion/server/ledger_client.h"
#include "medallion/server/uma_http.h"
#include "medallion/wallet/keys.h"
#include "medallion/wallet/keystore.h"

namespace medallion::cli {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;
using wallet::KeyPurpose;

// The owner's keys from her wallet. For a did:key owner the authentication key is the DID and
// (did:key lists it under assertionMethod too) signs the receipts; for a did:mdl owner the
// generation `key_index` authentication and assertion keys are used, named by their Multikey
// fragments. The pseudonym secret is derived from the seed and never stored.
struct OwnerKeys {
  std::shared_ptr<wallet::SigningKey> auth, assertion;
  std::string did;       // the owner's DID (the wallet's did:key unless --owner names a did:mdl)
  std::string auth_kid, assertion_kid;
  SecretBytes seed;
  SecretBytes pseudonym_secret;
  claims::Signer Signer() const { return claims::WalletSigner(assertion, assertion_kid); }
  claims::Signer AuthSigner() const { return claims::WalletSigner(auth, auth_kid); }
};

Result<OwnerKeys> UnlockOwner(const std::string& store, const std::string& passphrase_file, uint32_t account,
                              const std::string& owner_did = "", uint32_t key_index = 0) {
  MDL_ASSIGN_OR_RETURN(wallet::WalletSecret secret, OpenAndUnlock(store, passphrase_file));
  const bool mdl = !owner_did.empty() && did::DidMethod(owner_did) == "mdl";
  if (!owner_did.empty() && !mdl && did::DidMethod(owner_did) != "key") {
    return Status::InvalidArgument("the owner's DID is a did:key of the wallet or a did:mdl it controls");
  }
  auto derive = [&](KeyPurpose p, uint32_t index) {
    return wallet::DeriveSigningKey(secret.seed.Reveal(), wallet::SignatureAlg::kEdDSA, wallet::PurposeKeyPath(account, p, index));
  };
  OwnerKeys o;
  MDL_ASSIGN_OR_RETURN(wallet::SigningKey auth, derive(KeyPurpose::kAuthentication, mdl ? key_index : 0));
  o.auth = std::make_shared<wallet::SigningKey>(std::move(auth));
  MDL_ASSIGN_OR_RETURN(std::string auth_mk, did::MultikeyFromPublicKey(did::KeyType::kEd25519, o.auth->public_key));
  if (mdl) {
    MDL_ASSIGN_OR_RETURN(wallet::SigningKey assertion, derive(KeyPurpose::kAssertion, key_index));
    o.assertion = std::make_shared<wallet::SigningKey>(std::move(assertion));
    MDL_ASSIGN_OR_RETURN(std::string as_mk, did::MultikeyFromPublicKey(did::KeyType::kEd25519, o.assertion->public_key));
    o.did = owner_did;
    o.auth_kid = owner_did + "#" + auth_mk;
    o.assertion_kid = owner_did + "#" + as_mk;
  } else {
    o.did = "did:key:" + auth_mk;
    if (!owner_did.empty() && owner_did != o.did) return Status::InvalidArgument("--owner is not this wallet's did:key");
    o.assertion = o.auth;
    o.auth_kid = o.assertion_kid = o.did + "#" + auth_mk;
  }
  o.seed = SecretBytes::CopyFrom(secret.seed.Reveal());
  const Hash256 mac = HmacSha256(secret.seed.Reveal(), AsBytes("medallion consent pseudonyms v1"));
  o.pseudonym_secret = SecretBytes::CopyFrom(mac);
  return o;
}

struct ServeOptions {
  std::string dir;
  std::string listen = "127.0.0.1:8090";
  std::string public_url;
  std::string owner;
  std::string store, passphrase_file;
  uint32_t account = 0;
  uint32_t key_index = 0;
  VerifierOptions verifier;
  TlsOptions tls;
  bool use_ledger = false;
};

// One personal container: its keys, ledger access, verifier, HTTP server, authorization
// server, record store and FHIR server. Members are destroyed in reverse order: the FHIR server
// and the stores go before the HTTP server, which has stopped by then.
struct Container {
  std::optional<OwnerKeys> keys;
  std::shared_ptr<server::LedgerClient> ledger_client;
  std::unique_ptr<claims::LedgerPort> ledger_port;
  std::unique_ptr<Verifier> verifier;
  std::unique_ptr<httplib::Server> http;
  std::string url;
  std::unique_ptr<uma::AuthorizationServer> as;
  std::unique_ptr<uma::RecordStore> records;
  std::unique_ptr<server::FhirResourceServer> fhir;
  json banner;
};

Result<std::unique_ptr<Container>> BuildContainerIn(const ServeOptions& o, const ClientOptions& l);

// A container that fails to start leaves nothing behind: a --dir it created is removed again.
Result<std::unique_ptr<Container>> BuildContainer(const ServeOptions& o, const ClientOptions& l) {
  std::error_code ec;
  const bool existed = fs::exists(o.dir, ec);
  auto c = BuildContainerIn(o, l);
  if (!c && !existed) fs::remove_all(o.dir, ec);
  return c;
}

Result<std::unique_ptr<Container>> BuildContainerIn(const ServeOptions& o, const ClientOptions& l) {
  std::error_code ec;
  fs::create_directories(o.dir, ec);
  if (ec) return Status::InvalidArgument("cannot create " + o.dir + ": " + ec.message());
  fs::permissions(o.dir, fs::perms::owner_all, ec);
  auto c = std::make_unique<Container>();
  if (!o.store.empty()) {
    MDL_ASSIGN_OR_RETURN(OwnerKeys k, UnlockOwner(o.store, o.passphrase_file, o.account, o.owner, o.key_index));
    c->keys = std::move(k);
  }
  const std::string owner = !o.owner.empty() ? o.owner : c->keys ? c->keys->did : "";
  if (owner.empty()) return Status::InvalidArgument("--owner DID or --store (the owner's wallet) is required");
  MDL_RETURN_IF_ERROR(o.verifier.Check());
  if (!l.log_key.empty()) {
    MDL_ASSIGN_OR_RETURN(server::LedgerClient client, l.MakeClient());
    c->ledger_client = std::make_shared<server::LedgerClient>(std::move(client));
    if (o.use_ledger) c->ledger_port = server::MakeLedgerPort(c->ledger_client);
  } else if (o.use_ledger) {
    return Status::InvalidArgument("--ledger-receipts needs --ledger and --log-key");
  }
  c->verifier = std::make_unique<Verifier>(o.verifier, c->ledger_client);

  uma::AuthorizationServerOptions ao;
  ao.owner_did = owner;
  ao.trusted_issuers = o.verifier.trusted;
  ao.resolver = &c->verifier->resolver();
  ao.license_status = c->verifier->LicenseStatus();
  if (c->ledger_port) {
    if (!c->keys) return Status::InvalidArgument("consent receipts on the ledger need the owner's wallet (--store)");
    ao.ledger = c->ledger_port.get();
    ao.owner_signer = c->keys->Signer();
    ao.pseudonym_secret = &c->keys->pseudonym_secret;
  }
  // A did:mdl owner's paired phone becomes the device key of her DID (docs/mobile-bridge.md).
  if (c->keys && c->ledger_client && did::DidMethod(owner) == "mdl") {
    const OwnerKeys* k = &*c->keys;
    std::shared_ptr<server::LedgerClient> lc = c->ledger_client;
    const uint32_t account = o.account;
    ao.device_key_hook = [k, lc, account, owner](ByteView key, bool add) {
      return SetDidDeviceKey(k->seed, account, *lc, owner, key, add);
    };
  }
  MDL_ASSIGN_OR_RETURN(c->http, server::MakeHttpServer(o.tls.cert, o.tls.key));
  // The issuer must be known before the server opens: bind first.
  MDL_ASSIGN_OR_RETURN(c->url, Bind(*c->http, o.listen));
  ao.issuer = !o.public_url.empty() ? o.public_url : c->url;
  while (!ao.issuer.empty() && ao.issuer.back() == '/') ao.issuer.pop_back();
  MDL_ASSIGN_OR_RETURN(c->as, uma::AuthorizationServer::Open((fs::path(o.dir) / "consent.db").string(), ao, DefaultEnv()));
  MDL_ASSIGN_OR_RETURN(c->records, uma::RecordStore::Open((fs::path(o.dir) / "records.db").string(), DefaultEnv()));
  MDL_ASSIGN_OR_RETURN(c->fhir, server::FhirResourceServer::Create(*c->as, *c->records));
  server::RegisterUmaRoutes(*c->http, *c->as);
  c->fhir->RegisterRoutes(*c->http);
  c->banner = {{"role", "container"}, {"owner", owner}, {"issuer", ao.issuer}, {"fhir", ao.issuer + "/fhir"},
               {"trusted_issuers", o.verifier.trusted}, {"ledger_receipts", c->ledger_port != nullptr}};
  return c;
}

int RunServe(const ServeOptions& o, const ClientOptions& l, bool as_json) {
  auto c = BuildContainer(o, l);
  if (!c) return ReportError(c.error());
  return ServeBound(*(*c)->http, (*c)->url, (*c)->banner, as_json);
}

std::atomic<bool> g_host_stop{false};
void OnHostSignal(int) { g_host_stop = true; }

// `medallion host serve --config host.json`: many containers in one process, each with its
// own databases, keys, authorization server and port (docs/roles.md §"Container host").
int RunHost(const std::string& config_path) {
  auto bytes = ReadFileBytes(config_path);
  if (!bytes) return ReportError(bytes.error());
  json cfg = ParseJson(ToString(*bytes)).value_or(json());
  if (!cfg.is_object() || !cfg.contains("containers") || !cfg["containers"].is_array() || cfg["containers"].empty()) {
    return ReportError(Status::InvalidArgument(config_path + ": {\"containers\": [...]} is required"));
  }
  ClientOptions l;
  if (cfg.contains("ledger")) {
    l.url = cfg["ledger"].value("url", l.url);
    l.log_key = cfg["ledger"].value("log_key", "");
  }
  std::vector<std::unique_ptr<Container>> containers;
  json listing = json::array();
  std::set<std::string> names;
  for (const json& e : cfg["containers"]) {
    if (!e.is_object() || !e.contains("name") || !e["name"].is_string() || !names.insert(e["name"].get<std::string>()).second) {
      return ReportError(Status::InvalidArgument("each container has a unique name"));
    }
    ServeOptions o;
    o.dir = e.value("dir", "");
    o.store = e.value("store", "");
    o.passphrase_file = e.value("passphrase_file", "");
    o.owner = e.value("owner", "");
    o.key_index = e.value("key_index", 0u);
    o.listen = e.value("listen", "127.0.0.1:0");
    o.public_url = e.value("public_url", "");
    o.verifier.trusted = cfg.value("trust", std::vector<std::string>{});
    o.verifier.allow_insecure_loopback = cfg.value("allow_insecure_loopback", false);
    o.use_ledger = cfg.value("ledger_receipts", false);
    if (cfg.contains("tls")) {
      o.tls.cert = cfg["tls"].value("cert", "");
      o.tls.key = cfg["tls"].value("key", "");
    }
    if (o.dir.empty()) return ReportError(Status::InvalidArgument("container " + e["name"].get<std::string>() + ": dir is required"));
    auto c = BuildContainer(o, l);
    if (!c) return ReportError(Status(c.error().code(), e["name"].get<std::string>() + ": " + c.error().message()));
    listing.push_back({{"name", e["name"]}, {"url", (*c)->url}, {"owner", (*c)->banner["owner"]}});
    containers.push_back(std::move(*c));
  }
  std::cout << json{{"role", "host"}, {"containers", listing}}.dump() << std::endl;
  std::vector<std::thread> threads;
  for (auto& c : containers) threads.emplace_back([s = c->http.get()] { s->listen_after_bind(); });
  struct sigaction sa {};
  sa.sa_handler = OnHostSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  while (!g_host_stop) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  for (auto& c : containers) c->http->stop();
  for (auto& t : threads) t.join();
  return kExitOk;
}

// --- the owner's client ---

struct OwnerClient {
  std::string url;
  std::string session_file;
  void Add(CLI::App* cmd, bool need_session = true) {
    cmd->add_option("--url", url, "The container's base URL")->required();
    auto* s = cmd->add_option("--session-file", session_file, "File holding the owner's session token (from `consent signin`)");
    if (need_session) s->required();
  }
};

Result<std::pair<int, json>> Call(const std::string& url, const std::string& method, const std::string& path,
                                  const std::string& bearer, const json* body) {
  httplib::Client c(url);
  c.set_connection_timeout(5);
  c.set_read_timeout(30);
  httplib::Headers h;
  if (!bearer.empty()) h.emplace("Authorization", "Bearer " + bearer);
  httplib::Result r = method == "GET"      ? c.Get(path.c_str(), h)
                      : method == "DELETE" ? c.Delete(path.c_str(), h)
                                           : c.Post(path.c_str(), h, body ? body->dump() : "{}", "application/json");
  if (!r) return Status::Unavailable("cannot reach " + url + ": " + httplib::to_string(r.error()));
  if (r->body.empty()) return std::make_pair(r->status, json::object());
  auto j = ParseJson(r->body, JsonLimits{size_t{64} << 20, 64});
  if (!j) return Status::Unavailable("the container answered with something other than bounded JSON: " + j.error().message());
  return std::make_pair(r->status, std::move(*j));
}

// Prints a reply; non-2xx replies are errors (exit 1, or 2 for a 4xx caused by our input).
int Show(const Result<std::pair<int, json>>& r, bool as_json) {
  if (!r) return ReportError(r.error());
  const auto& [status, body] = *r;
  if (status >= 300) {
    const std::string error = body.is_object() && body.contains("error") && body["error"].is_string() ? body["error"].get<std::string>() : "";
    const std::string description = body.is_object() && body.contains("error_description") && body["error_description"].is_string()
                                        ? body["error_description"].get<std::string>()
                                        : "";
    return ReportError(StatusFromHttpError(status, error, description));
  }
  (void)as_json;
  PrintJson(body);
  return 0;
}

Result<std::string> Session(const OwnerClient& c) {
  MDL_ASSIGN_OR_RETURN(SecretString s, ReadSecretFile(c.session_file));
  std::string t = s.Reveal();
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  return t;
}

}  // namespace

void AddContainerCommands(CLI::App& app, int& rc) {
  auto* container = app.add_subcommand("container", "A personal container: UMA authorization server + FHIR records");
  container->require_subcommand(1);
  {
    auto o = std::make_shared<ServeOptions>();
    auto l = std::make_shared<ClientOptions>();
    auto as_json = std::make_shared<bool>(false);
    auto* cmd = container->add_subcommand("serve", "Serve the container (docs/uma.md)");
    cmd->add_option("--dir", o->dir, "Data folder (consent.db, records.db), created 0700")->required();
    cmd->add_option("--listen", o->listen, "HOST:PORT (default 127.0.0.1:8090; port 0 picks one)");
    cmd->add_option("--public-url", o->public_url, "The URL clients use (the issuer; default http://HOST:PORT)");
    cmd->add_option("--owner", o->owner, "The owner's DID (default: the did:key of --store's authentication key)");
    cmd->add_option("--store", o->store, "The owner's wallet key store (sign consent receipts, derive pseudonyms)");
    cmd->add_option("--passphrase-file", o->passphrase_file, "Key store passphrase (else $MEDALLION_PASSPHRASE or a prompt)");
    cmd->add_option("--account", o->account, "Wallet account (default 0)");
    cmd->add_option("--key-index", o->key_index, "did:mdl owner: the generation of her authentication/assertion keys (default 0)");
    o->verifier.Add(cmd);
    o->tls.Add(cmd);
    cmd->add_flag("--ledger-receipts", o->use_ledger, "Anchor consent receipts and disclosure batches on the ledger");
    l->Add(cmd, false, "--ledger");
    cmd->add_flag("--json", *as_json, "Print the banner as one JSON line");
    cmd->callback([o, l, as_json, &rc] { rc = RunServe(*o, *l, *as_json); });
  }

  auto* host = app.add_subcommand("host", "A container host: many personal containers in one process, each isolated");
  host->require_subcommand(1);
  {
    auto config = std::make_shared<std::string>();
    auto* cmd = host->add_subcommand("serve", "Serve every container of a host configuration (docs/roles.md)");
    cmd->add_option("--config", *config, "host.json: {ledger, trust, ledger_receipts, allow_insecure_loopback, tls, containers: [...]}")
        ->required();
    cmd->callback([config, &rc] { rc = RunHost(*config); });
  }

  auto* consent = app.add_subcommand("consent", "The owner's side of her container: policies, approvals, disclosures");
  consent->require_subcommand(1);
  {
    auto c = std::make_shared<OwnerClient>();
    auto store = std::make_shared<std::string>(), pass = std::make_shared<std::string>();
    auto account = std::make_shared<uint32_t>(0), key_index = std::make_shared<uint32_t>(0);
    auto owner = std::make_shared<std::string>();
    auto* cmd = consent->add_subcommand("signin", "Sign in with the wallet's DID key; writes the session token (0600)");
    c->Add(cmd);
    cmd->add_option("--store", *store, "The owner's wallet key store")->required();
    cmd->add_option("--passphrase-file", *pass, "Key store passphrase (else $MEDALLION_PASSPHRASE or a prompt)");
    cmd->add_option("--account", *account, "Wallet account (default 0)");
    cmd->add_option("--did", *owner, "Sign in as this did:mdl (default: the wallet's did:key)");
    cmd->add_option("--key-index", *key_index, "did:mdl: the generation of the authentication key (default 0)");
    cmd->callback([c, store, pass, account, owner, key_index, &rc] {
      auto keys = UnlockOwner(*store, *pass, *account, *owner, *key_index);
      if (!keys) return void(rc = ReportError(keys.error()));
      auto ch = Call(c->url, "POST", "/owner/v1/challenge", "", nullptr);
      if (!ch || ch->first != 200) return void(rc = Show(ch, true));
      claims::JwtSignOptions so;
      const int64_t now = DefaultEnv().clock->NowSeconds();
      so.issued_at = now;
      so.expires = now + 120;
      so.audience = ch->second.value("audience", "");
      so.nonce = ch->second.value("nonce", "");
      auto token = claims::SignJwt(claims::JwtKind::kDidAuth, {{"sub", keys->did}}, keys->AuthSigner(), so);
      if (!token) return void(rc = ReportError(token.error()));
      json body = {{"token", *token}};
      auto s = Call(c->url, "POST", "/owner/v1/session", "", &body);
      if (!s || s->first != 200) return void(rc = Show(s, true));
      Status st = WriteFileAtomic(c->session_file, s->second["access_token"].get<std::string>() + "\n", false, true);
      if (!st.ok()) return void(rc = ReportError(st));
      PrintJson({{"did", keys->did}, {"session_file", c->session_file}, {"expires_in", s->second["expires_in"]}});
      rc = 0;
    });
  }
  auto simple = [&](const char* name, const char* help, std::string method, std::function<std::string(const std::vector<std::string>&)> path,
                    std::vector<std::string> positionals, bool has_body = false, json fixed_body = nullptr) {
    auto c = std::make_shared<OwnerClient>();
    auto args = std::make_shared<std::vector<std::string>>(positionals.size());
    auto body_text = std::make_shared<std::string>();
    auto* cmd = consent->add_subcommand(name, help);
    c->Add(cmd);
    // Each positional is also an option (`--id ID`, `--id=ID`); `-- ID` passes any id safely.
    for (size_t i = 0; i < positionals.size(); ++i) {
      cmd->add_option(positionals[i] + ",--" + positionals[i], (*args)[i], "The " + positionals[i])->required();
    }
    if (has_body) cmd->add_option("--policy", *body_text, "The policy as JSON, or @FILE")->required();
    cmd->callback([c, args, body_text, method, path, has_body, fixed_body, &rc] {
      auto session = Session(*c);
      if (!session) return void(rc = ReportError(session.error()));
      json body;
      if (has_body) {
        std::string text = *body_text;
        if (!text.empty() && text[0] == '@') {
          auto bytes = ReadFileBytes(text.substr(1));
          if (!bytes) return void(rc = ReportError(bytes.error()));
          text = ToString(*bytes);
        }
        auto parsed = ParseJson(text);
        if (!parsed) return void(rc = ReportError(Status::InvalidArgument("--policy is not JSON: " + parsed.error().message())));
        body = std::move(*parsed);
      }
      if (!fixed_body.is_null()) body = fixed_body;
      const bool send = has_body || !fixed_body.is_null();
      rc = Show(Call(c->url, method, path(*args), *session, send ? &body : nullptr), true);
    });
    return cmd;
  };
  simple("policies", "List the policies", "GET", [](auto&) { return std::string("/owner/v1/policies"); }, {});
  simple("add-policy", "Add a policy (docs/uma.md §Policies)", "POST", [](auto&) { return std::string("/owner/v1/policies"); }, {},
         true);
  simple("revoke-policy", "Revoke a policy (its tokens stop working; a revoke receipt is anchored)", "DELETE",
         [](auto& a) { return "/owner/v1/policies/" + a[0]; }, {"id"});
  simple("requests", "Requests awaiting approval", "GET", [](auto&) { return std::string("/owner/v1/requests?status=pending"); }, {});
  simple("approve", "Approve a pending request", "POST", [](auto& a) { return "/owner/v1/requests/" + a[0] + "/decision"; },
         {"id"}, false, json{{"decision", "approve"}});
  simple("deny", "Deny a pending request", "POST", [](auto& a) { return "/owner/v1/requests/" + a[0] + "/decision"; }, {"id"},
         false, json{{"decision", "deny"}});
  simple("log", "The accounting of disclosures (first 1000 entries)", "GET",
         [](auto&) { return std::string("/owner/v1/disclosures?after=0&limit=1000"); }, {});
  simple("export", "Export the disclosure log with its anchors (verify with `consent verify-export`)", "GET",
         [](auto&) { return std::string("/owner/v1/disclosures/export"); }, {});
  simple("anchor", "Anchor the disclosure log's head on the ledger now", "POST",
         [](auto&) { return std::string("/owner/v1/disclosures/anchor"); }, {});
  simple("pair", "A one-time pairing offer for a phone: its URI is the QR code (docs/mobile-bridge.md)", "POST",
         [](auto&) { return std::string("/owner/v1/pairings"); }, {});
  simple("devices", "The paired devices", "GET", [](auto&) { return std::string("/owner/v1/devices"); }, {});
  simple("revoke-device", "Revoke a device (lost phone): its key leaves the DID, its sessions end", "DELETE",
         [](auto& a) { return "/owner/v1/devices/" + a[0]; }, {"id"});
  simple("receipts", "Consent receipts with their ledger indexes", "GET", [](auto&) { return std::string("/owner/v1/receipts"); }, {});
  {
    auto file = std::make_shared<std::string>();
    auto* cmd = consent->add_subcommand("verify-export", "Check an exported disclosure log offline (hashes, chain, anchors)");
    cmd->add_option("file", *file, "The export (JSON)")->required();
    cmd->callback([file, &rc] {
      auto bytes = ReadFileBytes(*file);
      if (!bytes) return void(rc = ReportError(bytes.error()));
      // An export runs to many megabytes; its nesting is bounded like any outside JSON.
      auto parsed = ParseJson(ToString(*bytes), JsonLimits{size_t{1} << 30, 64});
      if (!parsed) return void(rc = ReportError(Status::InvalidArgument(*file + ": not JSON: " + parsed.error().message())));
      const json& j = *parsed;
      auto n = uma::VerifyDisclosureExport(j);
      if (!n) return void(rc = ReportError(n.error()));
      PrintJson({{"ok", true}, {"entries", *n}, {"anchors", j.value("anchors", json::array()).size()}});
      rc = 0;
    });
  }
}

}  // namespace medallion::cli
