// Registration of the `medallion ledger` subcommands.
#pragma once

namespace CLI {
class App;
}

namespace medallion::cli {
void AddLedgerCommands(CLI::App& app, int& rc);
}  // namespace medallion::cli
