// `medallion relationship ...`.
#pragma once

namespace CLI {
class App;
}

namespace medallion::cli {

void AddRelationshipCommands(CLI::App& app, int& rc);

}  // namespace medallion::cli
