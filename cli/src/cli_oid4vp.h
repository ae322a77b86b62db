// Registration of `medallion oid4vp respond|request|verify` (docs/openid4vc.md): a wallet
// answering an OpenID4VP 1.0 request, and a verifier making and checking one for scripts.
#pragma once

namespace CLI {
class App;
}

namespace medallion::cli {
// Adds `oid4vp` and its subcommands to `app`; each sets `rc` to its exit code.
void AddOid4vpCommands(CLI::App& app, int& rc);
}  // namespace medallion::cli
