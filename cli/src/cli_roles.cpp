// `medallion issuer serve` (a medical society) and `medallion pharmacy serve` (a pharmacy):
// the two verifier/issuer roles of the prescription flow, each its own process with its own
// wallet, SQLite state and HTTP service.
#include "cli_roles.h"

#include <CLI/CLI.hpp>

#include <iostream>

#include <nlohmann/json.hpp>

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

using AddStaffFn = Result<std::string> (*)(const std::string&, std::string, const std::string&,
                                           const std::string&, const std::string&, Env);

// `pharmacy add-staff` and `issuer add-clerk`: an account and its one-time setup link.
void AddStaffCommand(CLI::App* parent, const char* name, const char* default_role,
                     std::vector<std::string> roles, const char* role_help, AddStaffFn add,
                     int& rc) {
  struct StaffOptions {
    std::string dir, name, role, display_name, url;
    bool as_json = false;
  };
  auto o = std::make_shared<StaffOptions>();
  o->role = default_role;
  auto* cmd = parent->add_subcommand(
      name, "Add a staff account to the web app and print its one-time setup link");
  cmd->add_option("--dir", o->dir, "The role's data folder")->required();
  cmd->add_option("--name", o->name, "Account name (a-z, 0-9, . _ -)")->required();
  cmd->add_option("--role", o->role, role_help)->check(CLI::IsMember(roles));
  cmd->add_option("--display-name", o->display_name, "Full name shown in the app");
  cmd->add_option("--url", o->url, "The app's origin (default: as the role's last start recorded)");
  cmd->add_flag("--json", o->as_json, "Print {\"account\", \"role\", \"setup_link\"}");
  cmd->callback([o, add, &rc] {
    auto link = add(o->dir, o->url, o->name, o->role, o->display_name, DefaultEnv());
    if (!link) {
      rc = ReportError(link.error());
      return;
    }
    if (o->as_json) {
      std::cout << nlohmann::json{{"account", o->name}, {"role", o->role}, {"setup_link", *link}}
                       .dump()
                << "\n";
    } else {
      std::cout << "account: " << o->name << " (" << o->role << ")\nsetup_link: " << *link
                << "\n(open it on the person's device within 10 minutes to create a passkey)\n";
    }
    rc = 0;
  });
}

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
    cmd->add_flag("--review", o->review,
                  "Onboarding requests wait for a clerk's decision at the desk");
    cmd->add_option("--name", o->name, "The society's name, shown at its desk");
    cmd->add_option("--web-origin", o->web_origin,
                    "The desk app's origin (default the bound URL with localhost)");
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
    cmd->add_option("--name", o->name, "The pharmacy's name, shown at the counter and to patients");
    cmd->add_option("--web-origin", o->web_origin,
                    "The counter app's origin (default the bound URL with localhost)");
    cmd->add_flag("--oid4vp-redirect-uri", o->oid4vp_redirect_uri,
                  "OpenID4VP requests as client_id redirect_uri:<response_uri>, unsigned "
                  "(default: decentralized_identifier:<the pharmacy's DID>, signed)");
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
  AddStaffCommand(pharmacy, "add-staff", "technician", {"pharmacist", "technician"},
                  "pharmacist (dispenses) or technician (default)", roles::AddPharmacyStaff, rc);
  AddStaffCommand(issuer, "add-clerk", "clerk", {"clerk", "auditor"},
                  "clerk (default: acts) or auditor (reads)", roles::AddSocietyClerk, rc);
  AddFlowCommands(app, issuer, pharmacy, rc);
}

}  // namespace medallion::cli
