// Registration of `medallion demo` and `medallion up`.
#pragma once

namespace CLI {
class App;
}

namespace medallion::cli {
void AddDemoCommand(CLI::App& app, int& rc);
void AddUpCommand(CLI::App& app, int& rc);
}  // namespace medallion::cli
