// Registration of the `medallion wallet` subcommands.
#pragma once

namespace CLI {
class App;
}

namespace medallion::cli {
// Adds `wallet` and its subcommands to `app`; each sets `rc` to its exit code.
void AddWalletCommands(CLI::App& app, int& rc);
}  // namespace medallion::cli
