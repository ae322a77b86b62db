// `medallion container serve`: a personal container (the UMA authorization server, the FHIR
// record store it protects, the owner API) on one port. `medallion consent ...`: the owner's
// side over HTTP — sign in with the wallet's DID key, policies, pending requests, decisions,
// the accounting of disclosures and its offline verification.
#include "cli_container.h"

#include <CLI/CLI.hpp>

#include <functional>
#include <iostream>
#include <optional>

#include <nlohmann/json.hpp>

#include "cli_ledger_options.h"
#include "cli_util.h"
#include "medallion/claims/jose.h"
#include "medallion/core/encoding.h"
#include "medallion/core/env.h"
#include "medallion/core/json.h"
#include "medallion/http/http_client.h"
#include "medallion/roles/container.h"
#include "medallion/uma/authorization_server.h"

namespace medallion::cli {
namespace {

using nlohmann::json;

using roles::UnlockOwner;

// `medallion host serve --config host.json`: many containers in one process, each with its
// own databases, keys, authorization server and port (docs/roles.md §"Container host").
int RunHost(const std::string& config_path) {
  auto bytes = ReadFileBytes(config_path);
  if (!bytes) return ReportError(bytes.error());
  json cfg = ParseJson(ToString(*bytes)).value_or(json());
  auto options = roles::ParseHostConfig(cfg, config_path);
  if (!options) return ReportError(options.error());
  roles::HostRole host(std::move(*options), DefaultEnv());
  return ServeRole(host, true);
}

// --- the owner's client ---

struct OwnerClient {
  std::string url;
  std::string session_file;
  void Add(CLI::App* cmd, bool need_session = true) {
    cmd->add_option("--url", url, "The container's base URL")->required();
    auto* s = cmd->add_option("--session-file", session_file,
                              "File holding the owner's session token (from `consent signin`)");
    if (need_session) s->required();
  }
};

Result<std::pair<int, json>> Call(const std::string& url, const std::string& method,
                                  const std::string& path, const std::string& bearer,
                                  const json* body) {
  const std::string sent = method == "POST" ? (body ? body->dump() : "{}") : "";
  // An export of the disclosure log runs to many megabytes (bounded JSON below: 64 MiB).
  auto r = http::HttpCall(method, url + path, bearer, sent, "application/json", 30, "",
                          size_t{64} << 20);
  if (!r) {
    if (r.error().code() == StatusCode::kUnavailable) return r.error();
    return Status::Unavailable("cannot reach " + url + ": " + r.error().message());
  }
  if (r->body.empty()) return std::make_pair(r->status, json::object());
  auto j = ParseJson(r->body, JsonLimits{size_t{64} << 20, 64});
  if (!j)
    return Status::Unavailable("the container answered with something other than bounded JSON: " +
                               j.error().message());
  return std::make_pair(r->status, std::move(*j));
}

// Prints a reply; non-2xx replies are errors (exit 1, or 2 for a 4xx caused by our input).
int Show(const Result<std::pair<int, json>>& r, bool as_json) {
  if (!r) return ReportError(r.error());
  const auto& [status, body] = *r;
  if (status >= 300) {
    const std::string error =
        body.is_object() && body.contains("error") && body["error"].is_string()
            ? body["error"].get<std::string>()
            : "";
    const std::string description = body.is_object() && body.contains("error_description") &&
                                            body["error_description"].is_string()
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

// `container serve`.
void AddContainerServe(CLI::App* container, int& rc) {
  auto o = std::make_shared<roles::ContainerOptions>();
  auto l = std::make_shared<ClientOptions>();
  auto as_json = std::make_shared<bool>(false);
  auto* cmd = container->add_subcommand("serve", "Serve the container (docs/uma.md)");
  cmd->add_option("--dir", o->dir, "Data folder (consent.db, records.db), created 0700")
      ->required();
  cmd->add_option("--listen", o->listen, "HOST:PORT (default 127.0.0.1:8090; port 0 picks one)");
  cmd->add_option("--public-url", o->public_url,
                  "The URL clients use (the issuer; default http://HOST:PORT)");
  cmd->add_option("--owner", o->owner,
                  "The owner's DID (default: the did:key of --store's authentication key)");
  cmd->add_option("--store", o->store,
                  "The owner's wallet key store (sign consent receipts, derive pseudonyms)");
  cmd->add_option("--passphrase-file", o->passphrase_file,
                  "Key store passphrase (else $MEDALLION_PASSPHRASE or a prompt)");
  cmd->add_option("--account", o->account, "Wallet account (default 0)");
  cmd->add_option("--key-index", o->key_index,
                  "did:mdl owner: the generation of her authentication/assertion keys (default 0)");
  AddVerifierOptions(cmd, o->verifier);
  AddTlsOptions(cmd, o->tls);
  cmd->add_flag("--ledger-receipts", o->use_ledger,
                "Anchor consent receipts and disclosure batches on the ledger");
  cmd->add_option("--app", o->app,
                  "The web app at /: patient (default) or physician (her workspace)")
      ->check(CLI::IsMember({"patient", "physician"}));
  cmd->add_option("--web-origin", o->web_origin,
                  "The web app's origin (default the served URL with localhost)");
  l->Add(cmd, false, "--ledger");
  cmd->add_flag("--json", *as_json, "Print the banner as one JSON line");
  cmd->callback([o, l, as_json, &rc] {
    roles::ContainerOptions co = *o;
    co.ledger = *l;
    roles::ContainerRole role(std::move(co), DefaultEnv());
    rc = ServeRole(role, *as_json);
  });
}

// `consent signin`.
struct SigninOptions {
  OwnerClient client;
  std::string store, pass, owner;
  uint32_t account = 0, key_index = 0;
};

// Signs in to the container at `url` as the owner of `o.store` (DID-auth, docs/uma.md §"Owner
// API"): the owner session's answer {"access_token", "expires_in"}. On a refusal the error is
// printed, `*rc` holds the exit code and nullopt is returned.
std::optional<json> OwnerSignIn(const std::string& url, const SigninOptions& o, std::string* did,
                                int* rc) {
  auto keys = UnlockOwner(o.store, o.pass, o.account, o.owner, o.key_index);
  if (!keys) {
    *rc = ReportError(keys.error());
    return std::nullopt;
  }
  *did = keys->did;
  auto ch = Call(url, "POST", "/owner/v1/challenge", "", nullptr);
  if (!ch || ch->first != 200) {
    *rc = Show(ch, true);
    return std::nullopt;
  }
  claims::JwtSignOptions so;
  const int64_t now = DefaultEnv().clock->NowSeconds();
  so.issued_at = now;
  so.expires = now + 120;
  so.audience = ch->second.value("audience", "");
  so.nonce = ch->second.value("nonce", "");
  auto token =
      claims::SignJwt(claims::JwtKind::kDidAuth, {{"sub", keys->did}}, keys->AuthSigner(), so);
  if (!token) {
    *rc = ReportError(token.error());
    return std::nullopt;
  }
  json body = {{"token", *token}};
  auto s = Call(url, "POST", "/owner/v1/session", "", &body);
  if (!s || s->first != 200) {
    *rc = Show(s, true);
    return std::nullopt;
  }
  return s->second;
}

int RunSignin(const SigninOptions& o) {
  std::string did;
  int rc = 0;
  auto s = OwnerSignIn(o.client.url, o, &did, &rc);
  if (!s) return rc;
  Status st = WriteFileAtomic(o.client.session_file, (*s)["access_token"].get<std::string>() + "\n",
                              false, true);
  if (!st.ok()) return ReportError(st);
  PrintJson(
      {{"did", did}, {"session_file", o.client.session_file}, {"expires_in", (*s)["expires_in"]}});
  return 0;
}

// `container login-link`: signs in with the wallet (DID-auth) and asks the container for a
// one-time link that registers a passkey in a browser and signs it in (docs/web.md).
int RunLoginLink(const SigninOptions& o, bool as_json) {
  std::string did;
  int rc = 0;
  auto s = OwnerSignIn(o.client.url, o, &did, &rc);
  if (!s) return rc;
  auto link =
      Call(o.client.url, "POST", "/web/v1/links", (*s)["access_token"].get<std::string>(), nullptr);
  if (!link || link->first != 201) return Show(link, true);
  if (as_json) {
    PrintJson(
        {{"did", did}, {"link", link->second["link"]}, {"expires_in", link->second["expires_in"]}});
  } else {
    std::cout << link->second["link"].get<std::string>() << "\n"
              << "Open it in your browser within " << link->second["expires_in"].get<int64_t>() / 60
              << " minutes to register a passkey; it works once.\n";
  }
  return 0;
}

// The owner's key options of `login-link` and `consent signin`.
void AddSignerOptions(CLI::App* cmd, SigninOptions& o) {
  cmd->add_option("--store", o.store, "The owner's wallet key store")->required();
  cmd->add_option("--passphrase-file", o.pass,
                  "Key store passphrase (else $MEDALLION_PASSPHRASE or a prompt)");
  cmd->add_option("--account", o.account, "Wallet account (default 0)");
  cmd->add_option("--did", o.owner, "Sign in as this did:mdl (default: the wallet's did:key)");
  cmd->add_option("--key-index", o.key_index,
                  "did:mdl: the generation of the authentication key (default 0)");
}

void AddLoginLink(CLI::App* container, int& rc) {
  auto o = std::make_shared<SigninOptions>();
  auto as_json = std::make_shared<bool>(false);
  auto* cmd = container->add_subcommand("login-link",
                                        "Print a one-time, short-lived link that registers a "
                                        "passkey in your browser and signs it in");
  o->client.url = "http://127.0.0.1:8090";
  cmd->add_option("--url", o->client.url,
                  "The container's base URL (default http://127.0.0.1:8090)");
  AddSignerOptions(cmd, *o);
  cmd->add_flag("--json", *as_json, "Print {did, link, expires_in} as JSON");
  cmd->callback([o, as_json, &rc] { rc = RunLoginLink(*o, *as_json); });
}

void AddSignin(CLI::App* consent, int& rc) {
  auto o = std::make_shared<SigninOptions>();
  auto* cmd = consent->add_subcommand(
      "signin", "Sign in with the wallet's DID key; writes the session token (0600)");
  o->client.Add(cmd);
  AddSignerOptions(cmd, *o);
  cmd->callback([o, &rc] { rc = RunSignin(*o); });
}

// A consent command that is one call to the owner API: `method` on `path(positionals)`, with
// --policy as the body (`has_body`) or `fixed_body`.
struct OwnerCall {
  std::string method;
  std::function<std::string(const std::vector<std::string>&)> path;
  bool has_body = false;
  json fixed_body;
};

int RunOwnerCall(const OwnerClient& c, const OwnerCall& call, const std::vector<std::string>& args,
                 const std::string& body_text) {
  auto session = Session(c);
  if (!session) return ReportError(session.error());
  json body;
  if (call.has_body) {
    std::string text = body_text;
    if (!text.empty() && text[0] == '@') {
      auto bytes = ReadFileBytes(text.substr(1));
      if (!bytes) return ReportError(bytes.error());
      text = ToString(*bytes);
    }
    auto parsed = ParseJson(text);
    if (!parsed)
      return ReportError(
          Status::InvalidArgument("--policy is not JSON: " + parsed.error().message()));
    body = std::move(*parsed);
  }
  if (!call.fixed_body.is_null()) body = call.fixed_body;
  const bool send = call.has_body || !call.fixed_body.is_null();
  return Show(Call(c.url, call.method, call.path(args), *session, send ? &body : nullptr), true);
}

void AddOwnerCall(CLI::App* consent, int& rc, const char* name, const char* help,
                  std::string method,
                  std::function<std::string(const std::vector<std::string>&)> path,
                  std::vector<std::string> positionals, bool has_body = false,
                  json fixed_body = nullptr) {
  auto c = std::make_shared<OwnerClient>();
  auto args = std::make_shared<std::vector<std::string>>(positionals.size());
  auto body_text = std::make_shared<std::string>();
  auto call = std::make_shared<OwnerCall>(
      OwnerCall{std::move(method), std::move(path), has_body, std::move(fixed_body)});
  auto* cmd = consent->add_subcommand(name, help);
  c->Add(cmd);
  // Each positional is also an option (`--id ID`, `--id=ID`); `-- ID` passes any id safely.
  for (size_t i = 0; i < positionals.size(); ++i) {
    cmd->add_option(positionals[i] + ",--" + positionals[i], (*args)[i], "The " + positionals[i])
        ->required();
  }
  if (has_body) cmd->add_option("--policy", *body_text, "The policy as JSON, or @FILE")->required();
  cmd->callback(
      [c, args, body_text, call, &rc] { rc = RunOwnerCall(*c, *call, *args, *body_text); });
}

void AddOwnerCalls(CLI::App* consent, int& rc) {
  AddOwnerCall(consent, rc, "policies", "List the policies", "GET",
               [](auto&) { return std::string("/owner/v1/policies"); }, {});
  AddOwnerCall(
      consent, rc, "add-policy", "Add a policy (docs/uma.md §Policies)", "POST",
      [](auto&) { return std::string("/owner/v1/policies"); }, {}, true);
  AddOwnerCall(consent, rc, "revoke-policy",
               "Revoke a policy (its tokens stop working; a revoke receipt is anchored)", "DELETE",
               [](auto& a) { return "/owner/v1/policies/" + a[0]; }, {"id"});
  AddOwnerCall(consent, rc, "requests", "Requests awaiting approval", "GET",
               [](auto&) { return std::string("/owner/v1/requests?status=pending"); }, {});
  AddOwnerCall(
      consent, rc, "approve", "Approve a pending request", "POST",
      [](auto& a) { return "/owner/v1/requests/" + a[0] + "/decision"; }, {"id"}, false,
      json{{"decision", "approve"}});
  AddOwnerCall(
      consent, rc, "deny", "Deny a pending request", "POST",
      [](auto& a) { return "/owner/v1/requests/" + a[0] + "/decision"; }, {"id"}, false,
      json{{"decision", "deny"}});
  AddOwnerCall(consent, rc, "log", "The accounting of disclosures (first 1000 entries)", "GET",
               [](auto&) { return std::string("/owner/v1/disclosures?after=0&limit=1000"); }, {});
  AddOwnerCall(consent, rc, "export",
               "Export the disclosure log with its anchors (verify with `consent verify-export`)",
               "GET", [](auto&) { return std::string("/owner/v1/disclosures/export"); }, {});
  AddOwnerCall(consent, rc, "anchor", "Anchor the disclosure log's head on the ledger now", "POST",
               [](auto&) { return std::string("/owner/v1/disclosures/anchor"); }, {});
  AddOwnerCall(
      consent, rc, "pair",
      "A one-time pairing offer for a phone: its URI is the QR code (docs/mobile-bridge.md)",
      "POST", [](auto&) { return std::string("/owner/v1/pairings"); }, {});
  AddOwnerCall(consent, rc, "devices", "The paired devices", "GET",
               [](auto&) { return std::string("/owner/v1/devices"); }, {});
  AddOwnerCall(consent, rc, "revoke-device",
               "Revoke a device (lost phone): its key leaves the DID, its sessions end", "DELETE",
               [](auto& a) { return "/owner/v1/devices/" + a[0]; }, {"id"});
  AddOwnerCall(consent, rc, "receipts", "Consent receipts with their ledger indexes", "GET",
               [](auto&) { return std::string("/owner/v1/receipts"); }, {});
}

// `consent verify-export`.
int RunVerifyExport(const std::string& file) {
  auto bytes = ReadFileBytes(file);
  if (!bytes) return ReportError(bytes.error());
  // An export runs to many megabytes; its nesting is bounded like any outside JSON.
  auto parsed = ParseJson(ToString(*bytes), JsonLimits{size_t{1} << 30, 64});
  if (!parsed)
    return ReportError(Status::InvalidArgument(file + ": not JSON: " + parsed.error().message()));
  const json& j = *parsed;
  auto n = uma::VerifyDisclosureExport(j);
  if (!n) return ReportError(n.error());
  PrintJson({{"ok", true}, {"entries", *n}, {"anchors", j.value("anchors", json::array()).size()}});
  return 0;
}

void AddVerifyExport(CLI::App* consent, int& rc) {
  auto file = std::make_shared<std::string>();
  auto* cmd = consent->add_subcommand(
      "verify-export", "Check an exported disclosure log offline (hashes, chain, anchors)");
  cmd->add_option("file", *file, "The export (JSON)")->required();
  cmd->callback([file, &rc] { rc = RunVerifyExport(*file); });
}

}  // namespace

void AddContainerCommands(CLI::App& app, int& rc) {
  auto* container = app.add_subcommand(
      "container", "A personal container: UMA authorization server + FHIR records");
  container->require_subcommand(1);
  AddContainerServe(container, rc);
  AddLoginLink(container, rc);

  auto* host = app.add_subcommand(
      "host", "A container host: many personal containers in one process, each isolated");
  host->require_subcommand(1);
  {
    auto config = std::make_shared<std::string>();
    auto* cmd = host->add_subcommand(
        "serve", "Serve every container of a host configuration (docs/roles.md)");
    cmd->add_option("--config", *config,
                    "host.json: {listen, open (eager|lazy), max_open, ledger, trust, "
                    "ledger_receipts, allow_insecure_loopback, tls, containers: [...]}")
        ->required();
    cmd->callback([config, &rc] { rc = RunHost(*config); });
  }

  auto* consent = app.add_subcommand(
      "consent", "The owner's side of her container: policies, approvals, disclosures");
  consent->require_subcommand(1);
  AddSignin(consent, rc);
  AddOwnerCalls(consent, rc);
  AddVerifyExport(consent, rc);
}

}  // namespace medallion::cli
