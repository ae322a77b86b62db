// Registration of the `medallion did` subcommands.
#pragma once

namespace CLI {
class App;
}

namespace medallion::cli {
void AddDidCommands(CLI::App& app, int& rc);
}  // namespace medallion::cli
