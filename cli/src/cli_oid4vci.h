// Registration of `medallion oid4vci offer|accept` (docs/openid4vc.md): the society's side of an
// OpenID4VCI credential offer, and a physician's wallet taking it.
#pragma once

#include <string>

#include "medallion/core/status.h"

namespace CLI {
class App;
}

namespace medallion::cli {
// Adds `oid4vci` and its subcommands to `app`; each sets `rc` to its exit code.
void AddOid4vciCommands(CLI::App& app, int& rc);

// A wallet sends codes, tokens and presentations only over https, or plain http to this
// machine's loopback (OID4VCI §13.1, OpenID4VP §14.1: TLS). Errors: invalid_argument.
Status CheckWalletTransport(const std::string& url);
}  // namespace medallion::cli
