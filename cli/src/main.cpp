// `medallion`: the one binary for every role. Subcommands register themselves here.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "cli_container.h"
#include "cli_demo.h"
#include "cli_did.h"
#include "cli_ledger.h"
#include "cli_phone.h"
#include "cli_relationship.h"
#include "cli_roles.h"
#include "cli_util.h"
#include "cli_vc.h"
#include "cli_oid4vci.h"
#include "cli_oid4vp.h"
#include "cli_wallet.h"

namespace {

// If the command line holds words no command took (`medallion bogus`, `medallion wallet bogus
// --help`), names the first on stderr and returns kExitUsage; else returns -1. CLI11 would
// otherwise answer with the parent's help (exit 0) or "A subcommand is required", without the
// word.
int ReportUnknownWords(CLI::App& app) {
  const std::vector<std::string> extra = app.remaining(/*recurse=*/true);
  if (extra.empty()) return -1;
  CLI::App* at = &app;
  std::string path = "medallion";
  for (;;) {
    const std::vector<CLI::App*> subs = at->get_subcommands();
    if (subs.empty()) break;
    at = subs.back();
    path += " " + at->get_name();
  }
  const std::string& word = extra.front();
  const bool option = !word.empty() && word[0] == '-';
  std::fprintf(stderr, "medallion: unknown %s '%s' for '%s' (see '%s --help')\n",
               option ? "option" : "command or argument", word.c_str(), path.c_str(), path.c_str());
  return medallion::cli::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  // No core dumps: a crash must not write key material to disk.
  rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);

  CLI::App app{"Medallion: self-sovereign identity and consent wallet for healthcare"};
  app.set_version_flag("--version", "medallion 0.1.0");
  app.require_subcommand(1);
  int rc = medallion::cli::kExitOk;
  medallion::cli::AddWalletCommands(app, rc);
  medallion::cli::AddLedgerCommands(app, rc);
  medallion::cli::AddDidCommands(app, rc);
  medallion::cli::AddContainerCommands(app, rc);
  medallion::cli::AddPhoneCommands(app, rc);
  medallion::cli::AddRoleCommands(app, rc);
  medallion::cli::AddRelationshipCommands(app, rc);
  medallion::cli::AddVcCommands(app, rc);
  medallion::cli::AddOid4vciCommands(app, rc);
  medallion::cli::AddOid4vpCommands(app, rc);
  medallion::cli::AddDemoCommand(app, rc);
  medallion::cli::AddUpCommand(app, rc);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    if (int unknown = ReportUnknownWords(app); unknown >= 0) return unknown;
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    if (int unknown = ReportUnknownWords(app); unknown >= 0) return unknown;
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (int unknown = ReportUnknownWords(app); unknown >= 0) return unknown;
    app.exit(e);
    return medallion::cli::kExitUsage;
  } catch (const std::exception& e) {
    // No command should throw; this is the last line of defence against an abort.
    std::fprintf(stderr, "medallion: internal error: %s\n", e.what());
    return medallion::cli::kExitFalse;
  }
  return rc;
}
