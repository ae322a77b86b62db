// Registration of `medallion oid4vci offer|accept` (docs/openid4vc.md): the society's side of an
// OpenID4VCI credential offer, and a physician's wallet taking it.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

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

// An HTTP exchange whose answer is JSON (bearer "" for none); a non-2xx answer becomes the
// server's Status.
Result<nlohmann::json> Exchange(std::string_view method, const std::string& url,
                                const std::string& bearer, const std::string& body = "",
                                const std::string& content_type = "application/json");
}  // namespace medallion::cli
