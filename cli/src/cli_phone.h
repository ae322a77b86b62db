// `medallion phone ...`: the command-line phone on the mobile bridge's C ABI.
#pragma once

namespace CLI {
class App;
}

namespace medallion::cli {

void AddPhoneCommands(CLI::App& app, int& rc);

}  // namespace medallion::cli
