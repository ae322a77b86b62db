// Registration of `medallion demo`.
#pragma once

namespace CLI {
class App;
}

namespace medallion::cli {
void AddDemoCommand(CLI::App& app, int& rc);
}  // namespace medallion::cli
