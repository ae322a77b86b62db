// `medallion container ...` (serve a personal container) and `medallion consent ...` (the
// owner's client for it).
#pragma once

namespace CLI {
class App;
}

namespace medallion::cli {

void AddContainerCommands(CLI::App& app, int& rc);

}  // namespace medallion::cli
