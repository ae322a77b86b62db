// `medallion issuer serve` (a medical society) and `medallion pharmacy serve` (a pharmacy):
// the two verifier/issuer roles of the prescription flow, each its own process with its own
// wallet, SQLite state and HTTP service.
#include "cli_roles.h"

#include <CLI/CLI.hpp>

#include "cli_flow.h"
#include "cli_ledger_options.h"
#include "cli_util.h"
#include "medallion/core/env.h"
#include "medallion/roles/pharmacy.h"
#include "medallion/roles/society.h"

namespace medallion::cli {
namespace {

struct IssuerOptions : roles::SocietyOptions {
  bool as_json = false;
};

struct PharmacyOptions : roles::PharmacyOptions {
  bool as_json = false;
};

}  // namespace

void AddRoleCommands(CLI::App& app, int& rc) {
  auto* issuer = app.add_subcommand(
      "issuer", "A medical society: onboarding, license credentials, status lists");
  issuer->require_subcommand(1);
  {
    auto o = std::make_shared<IssuerOptions>();
    auto l = std::make_shared<ClientOptions>();
    auto* cmd = issuer->add_subcommand(
        "serve", "Serve the society (did:web, context, status lists, onboarding)");
    cmd->add_option("--dir", o->dir, "Data folder (society.db, admin.token), created 0700")
        ->required();
    cmd->add_option("--store", o->store, "The society's wallet key store")->required();
    cmd->add_option("--passphrase-file", o->passphrase_file,
                    "Key store passphrase (else $MEDALLION_PASSPHRASE or a prompt)");
    cmd->add_option("--directory", o->directory, "Licensing directory (JSON; docs/credentials.md)")
        ->required();
    cmd->add_option("--listen", o->listen, "HOST:PORT (default 127.0.0.1:8070; port 0 picks one)");
    cmd->add_option("--public-host", o->public_host,
                    "The host name in the did:web (default localhost)");
    cmd->add_option("--admin-token-file", o->admin_token_file,
                    "Admin token (created 0600 if missing; default DIR/admin.token)");
    AddTlsOptions(cmd, o->tls);
    cmd->add_option("--status-ttl-ms", o->status_ttl_ms,
                    "How long verifiers may cache a status list (default 60000)");
    cmd->add_flag("--json", o->as_json, "Print the banner as one JSON line");
    l->Add(cmd, false, "--ledger");
    cmd->callback([o, l, &rc] {
      roles::SocietyOptions so = *o;
      so.ledger = *l;
      roles::SocietyRole society(std::move(so), DefaultEnv());
      rc = ServeRole(society, o->as_json);
    });
  }
  auto* pharmacy = app.add_subcommand(
      "pharmacy", "A pharmacy: verifies presented prescriptions and dispenses once");
  pharmacy->require_subcommand(1);
  {
    auto o = std::make_shared<PharmacyOptions>();
    auto l = std::make_shared<ClientOptions>();
    auto* cmd = pharmacy->add_subcommand("serve", "Serve the pharmacy (challenges, dispensing)");
    cmd->add_option("--dir", o->dir, "Data folder, created 0700")->required();
    cmd->add_option("--store", o->store, "The pharmacy's wallet key store")->required();
    cmd->add_option("--passphrase-file", o->passphrase_file,
                    "Key store passphrase (else $MEDALLION_PASSPHRASE or a prompt)");
    cmd->add_option("--listen", o->listen, "HOST:PORT (default 127.0.0.1:8060; port 0 picks one)");
    cmd->add_option("--domain", o->domain,
                    "The origin presentations are bound to (default the bound URL)");
    AddVerifierOptions(cmd, o->verifier);
    AddTlsOptions(cmd, o->tls);
    l->Add(cmd, true, "--ledger");
    cmd->add_flag("--json", o->as_json, "Print the banner as one JSON line");
    cmd->callback([o, l, &rc] {
      roles::PharmacyOptions po = *o;
      po.ledger = *l;
      roles::PharmacyRole role(std::move(po), DefaultEnv());
      rc = ServeRole(role, o->as_json);
    });
  }
  AddFlowCommands(app, issuer, pharmacy, rc);
}

}  // namespace medallion::cli
