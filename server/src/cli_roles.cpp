// `medallion issuer serve` (a medical society) and `medallion pharmacy serve` (a pharmacy):
// the two verifier/issuer roles of the prescription flow, each its own process with its own
// wallet, SQLite state and HTTP service.
#include "cli_roles.h"

#include <CLI/CLI.hpp>
#include <httplib.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cli_flow.h"
#include "cli_ledger_options.h"
#include "cli_util.h"
#include "cli_verifier.h"
#include "medallion/claims/society.h"
#include "medallion/core/encoding.h"
#include "medallion/core/hash.h"
#include "medallion/core/json.h"
#include "medallion/did/did_key.h"
#include "medallion/did/did_web.h"
#include "medallion/server/did_web_http.h"
#include "medallion/http/http.h"
#include "medallion/server/issuer_http.h"
#include "medallion/server/ledger_client.h"
#include "medallion/server/pharmacy_http.h"
#include "medallion/wallet/keys.h"
#include "medallion/wallet/keystore.h"

namespace medallion::cli {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;
using wallet::KeyPurpose;

// A role's keys: the wallet's authentication and assertion keys (generation 0) and a secret
// derived from the seed for `label`.
struct RoleKeys {
  std::shared_ptr<wallet::SigningKey> auth, assertion;
  SecretBytes derived;
};

Result<RoleKeys> UnlockRole(const std::string& store, const std::string& passphrase_file, const std::string& label) {
  MDL_ASSIGN_OR_RETURN(wallet::WalletSecret secret, OpenAndUnlock(store, passphrase_file));
  RoleKeys k;
  MDL_ASSIGN_OR_RETURN(wallet::SigningKey auth, wallet::DeriveSigningKey(secret.seed.Reveal(), wallet::SignatureAlg::kEdDSA,
                                                                         wallet::PurposeKeyPath(0, KeyPurpose::kAuthentication, 0)));
  MDL_ASSIGN_OR_RETURN(wallet::SigningKey assertion, wallet::DeriveSigningKey(secret.seed.Reveal(), wallet::SignatureAlg::kEdDSA,
                                                                              wallet::PurposeKeyPath(0, KeyPurpose::kAssertion, 0)));
  k.auth = std::make_shared<wallet::SigningKey>(std::move(auth));
  k.assertion = std::make_shared<wallet::SigningKey>(std::move(assertion));
  k.derived = SecretBytes::CopyFrom(HmacSha256(secret.seed.Reveal(), AsBytes(label)));
  return k;
}

Status PrepareDir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::InvalidArgument("cannot create " + dir + ": " + ec.message());
  fs::permissions(dir, fs::perms::owner_all, ec);
  return Status::Ok();
}

// The admin token: read from the file, or created there (0600) on first start.
Result<std::string> AdminToken(const std::string& path) {
  if (fs::exists(path)) {
    MDL_ASSIGN_OR_RETURN(SecretString t, ReadSecretFile(path));
    return t.Reveal();
  }
  SystemRng rng;
  const std::string token = Base64UrlEncode(rng.RandomBytes(32));
  MDL_RETURN_IF_ERROR(WriteFileAtomic(path, token + "\n", false, false));
  return token;
}

struct IssuerOptions {
  std::string dir, store, passphrase_file, directory, listen = "127.0.0.1:8070", public_host = "localhost", admin_token_file;
  int64_t status_ttl_ms = 60'000;
  TlsOptions tls;
  bool as_json = false;
};

int RunIssuer(const IssuerOptions& o, const ClientOptions& l) {
  if (Status st = PrepareDir(o.dir); !st.ok()) return ReportError(st);
  auto keys = UnlockRole(o.store, o.passphrase_file, "medallion society");
  if (!keys) return ReportError(keys.error());
  auto dir_bytes = ReadFileBytes(o.directory);
  if (!dir_bytes) return ReportError(dir_bytes.error());
  auto dir_json = ParseJson(ToString(*dir_bytes), JsonLimits{size_t{64} << 20, 64});
  if (!dir_json) return ReportError(Status::InvalidArgument(o.directory + " is not JSON: " + dir_json.error().message()));
  auto directory = claims::ParseDirectory(*dir_json);
  if (!directory) return ReportError(directory.error());
  auto token = AdminToken(o.admin_token_file.empty() ? (fs::path(o.dir) / "admin.token").string() : o.admin_token_file);
  if (!token) return ReportError(token.error());

  auto made = server::MakeHttpServer(o.tls.cert, o.tls.key);
  if (!made) return ReportError(made.error());
  httplib::Server& http = **made;
  auto bound = Bind(http, o.listen);
  if (!bound) return ReportError(bound.error());
  // did:web of the bound origin (did:web names a host, not an IP: "localhost" on loopback).
  const std::string port = bound->substr(bound->rfind(':') + 1);
  const std::string origin = "https://" + o.public_host + ":" + port;
  auto did = did::UrlToDidWeb(origin);
  if (!did) return ReportError(did.error());
  did::DidDocument doc;
  doc.id = *did;
  (void)did::AddKey(doc, did::KeyType::kEd25519, keys->assertion->public_key, {did::Relationship::kAssertionMethod});
  (void)did::AddKey(doc, did::KeyType::kEd25519, keys->auth->public_key, {did::Relationship::kAuthentication});
  const std::string kid = *did + "#" + *did::MultikeyFromPublicKey(did::KeyType::kEd25519, keys->assertion->public_key);

  claims::SocietyOptions so;
  so.did = *did;
  so.signer = claims::WalletSigner(keys->assertion, kid);
  so.base_url = origin;
  so.directory = *directory;
  so.status_ttl_millis = o.status_ttl_ms;
  auto society = claims::Society::Open((fs::path(o.dir) / "society.db").string(), so, DefaultEnv());
  if (!society) return ReportError(society.error());
  // Physicians prove control of their DID: did:key, did:web, and did:mdl when a ledger is given.
  std::shared_ptr<server::LedgerClient> ledger_client;
  if (!l.log_key.empty()) {
    auto client = l.MakeClient();
    if (!client) return ReportError(client.error());
    ledger_client = std::make_shared<server::LedgerClient>(std::move(*client));
  }
  VerifierOptions vo;
  vo.allow_insecure_loopback = true;
  Verifier verifier(vo, ledger_client);
  server::RegisterDidWebDocument(http, [doc] { return doc; }, "");
  server::RegisterSocietyRoutes(http, **society, verifier.resolver(), *token);
  return ServeBound(http, *bound,
                    {{"role", "issuer"}, {"did", *did}, {"origin", origin}, {"licenses_in_directory", directory->size()}},
                    o.as_json);
}

struct PharmacyOptions {
  std::string dir, store, passphrase_file, listen = "127.0.0.1:8060", domain;
  VerifierOptions verifier;
  TlsOptions tls;
  bool as_json = false;
};

int RunPharmacy(const PharmacyOptions& o, const ClientOptions& l) {
  if (Status st = PrepareDir(o.dir); !st.ok()) return ReportError(st);
  if (Status st = o.verifier.Check(); !st.ok()) return ReportError(st);
  auto keys = UnlockRole(o.store, o.passphrase_file, "medallion pharmacy pseudonyms");
  if (!keys) return ReportError(keys.error());
  auto client = l.MakeClient();
  if (!client) return ReportError(client.error());
  auto ledger_client = std::make_shared<server::LedgerClient>(std::move(*client));
  auto ledger_port = server::MakeLedgerPort(ledger_client);
  Verifier verifier(o.verifier, ledger_client);
  const std::string multikey = *did::MultikeyFromPublicKey(did::KeyType::kEd25519, keys->auth->public_key);
  const std::string did = "did:key:" + multikey;

  auto made = server::MakeHttpServer(o.tls.cert, o.tls.key);
  if (!made) return ReportError(made.error());
  httplib::Server& http = **made;
  auto bound = Bind(http, o.listen);
  if (!bound) return ReportError(bound.error());
  claims::ChallengeStore challenges(DefaultEnv());
  server::PharmacyService svc;
  svc.config.pharmacy_did = did;
  svc.config.domain = o.domain.empty() ? *bound : o.domain;
  svc.config.receipt_signer = claims::WalletSigner(keys->auth, did + "#" + multikey);
  svc.config.trusted_license_issuers = o.verifier.trusted;
  svc.config.pseudonym_secret = &keys->derived;
  svc.resolver = &verifier.resolver();
  svc.challenges = &challenges;
  svc.ledger = ledger_port.get();
  svc.license_status = verifier.LicenseStatus();
  svc.env = DefaultEnv();
  server::RegisterPharmacyRoutes(http, svc);
  return ServeBound(http, *bound, {{"role", "pharmacy"}, {"did", did}, {"domain", svc.config.domain}, {"trusted", o.verifier.trusted}},
                    o.as_json);
}

}  // namespace

void AddRoleCommands(CLI::App& app, int& rc) {
  auto* issuer = app.add_subcommand("issuer", "A medical society: onboarding, license credentials, status lists");
  issuer->require_subcommand(1);
  {
    auto o = std::make_shared<IssuerOptions>();
    auto l = std::make_shared<ClientOptions>();
    auto* cmd = issuer->add_subcommand("serve", "Serve the society (did:web, context, status lists, onboarding)");
    cmd->add_option("--dir", o->dir, "Data folder (society.db, admin.token), created 0700")->required();
    cmd->add_option("--store", o->store, "The society's wallet key store")->required();
    cmd->add_option("--passphrase-file", o->passphrase_file, "Key store passphrase (else $MEDALLION_PASSPHRASE or a prompt)");
    cmd->add_option("--directory", o->directory, "Licensing directory (JSON; docs/credentials.md)")->required();
    cmd->add_option("--listen", o->listen, "HOST:PORT (default 127.0.0.1:8070; port 0 picks one)");
    cmd->add_option("--public-host", o->public_host, "The host name in the did:web (default localhost)");
    cmd->add_option("--admin-token-file", o->admin_token_file, "Admin token (created 0600 if missing; default DIR/admin.token)");
    o->tls.Add(cmd);
    cmd->add_option("--status-ttl-ms", o->status_ttl_ms, "How long verifiers may cache a status list (default 60000)");
    cmd->add_flag("--json", o->as_json, "Print the banner as one JSON line");
    l->Add(cmd, false, "--ledger");
    cmd->callback([o, l, &rc] { rc = RunIssuer(*o, *l); });
  }
  auto* pharmacy = app.add_subcommand("pharmacy", "A pharmacy: verifies presented prescriptions and dispenses once");
  pharmacy->require_subcommand(1);
  {
    auto o = std::make_shared<PharmacyOptions>();
    auto l = std::make_shared<ClientOptions>();
    auto* cmd = pharmacy->add_subcommand("serve", "Serve the pharmacy (challenges, dispensing)");
    cmd->add_option("--dir", o->dir, "Data folder, created 0700")->required();
    cmd->add_option("--store", o->store, "The pharmacy's wallet key store")->required();
    cmd->add_option("--passphrase-file", o->passphrase_file, "Key store passphrase (else $MEDALLION_PASSPHRASE or a prompt)");
    cmd->add_option("--listen", o->listen, "HOST:PORT (default 127.0.0.1:8060; port 0 picks one)");
    cmd->add_option("--domain", o->domain, "The origin presentations are bound to (default the bound URL)");
    o->verifier.Add(cmd);
    o->tls.Add(cmd);
    l->Add(cmd, true, "--ledger");
    cmd->add_flag("--json", o->as_json, "Print the banner as one JSON line");
    cmd->callback([o, l, &rc] { rc = RunPharmacy(*o, *l); });
  }
  AddFlowCommands(app, issuer, pharmacy, rc);
}

}  // namespace medallion::cli
