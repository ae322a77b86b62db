// `medallion`: the one binary for every role. Subcommands register themselves here.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "cli_container.h"
#include "cli_demo.h"
#include "cli_did.h"
#include "cli_ledger.h"
#include "cli_phone.h"
#include "cli_relationship.h"
#include "cli_roles.h"
#include "cli_util.h"
#include "cli_wallet.h"

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
  medallion::cli::AddDemoCommand(app, rc);
  medallion::cli::AddUpCommand(app, rc);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return medallion::cli::kExitUsage;
  } catch (const std::exception& e) {
    // No command should throw; this is the last line of defence against an abort.
    std::fprintf(stderr, "medallion: internal error: %s\n", e.what());
    return medallion::cli::kExitFalse;
  }
  return rc;
}
