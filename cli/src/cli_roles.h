// `medallion issuer serve` and `medallion pharmacy serve`.
#pragma once

namespace CLI {
class App;
}

namespace medallion::cli {

void AddRoleCommands(CLI::App& app, int& rc);

}  // namespace medallion::cli
