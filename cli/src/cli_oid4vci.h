// Registration of `medallion oid4vci offer|accept` (docs/openid4vc.md): the society's side of an
// OpenID4VCI credential offer, and a physician's wallet taking it.
#pragma once

namespace CLI {
class App;
}

namespace medallion::cli {
// Adds `oid4vci` and its subcommands to `app`; each sets `rc` to its exit code.
void AddOid4vciCommands(CLI::App& app, int& rc);
}  // namespace medallion::cli
