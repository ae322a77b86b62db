// Registration of the `medallion vc` subcommands: issue, verify, present and status-check
// verifiable credentials in the three securing formats of the claims module (Data Integrity
// eddsa-jcs-2022, VC-JOSE vc+jwt, SD-JWT VC).
#pragma once

namespace CLI {
class App;
}

namespace medallion::cli {
// Adds `vc` and its subcommands to `app`; each sets `rc` to its exit code (0 valid / done,
// 1 a negative answer, 2 unusable input).
void AddVcCommands(CLI::App& app, int& rc);
}  // namespace medallion::cli
