// Registration of the `medallion did` subcommands.
#pragma once

namespace CLI {
class App;
}

#include <string>

#include "medallion/core/bytes.h"
#include "medallion/core/secret.h"
#include "medallion/core/status.h"

namespace medallion::server {
class LedgerClient;
}

namespace medallion::cli {
void AddDidCommands(CLI::App& app, int& rc);

// Publishes (add) or withdraws a paired phone's key as the device key of `did`, a did:mdl the
// wallet with `seed` controls: an update signed by the committed update key, submitted and
// proven included. Withdrawing a key that is no longer the device key changes nothing.
// Errors: the ledger's; not_found if the wallet does not hold the committed key.
Status SetDidDeviceKey(const SecretBytes& seed, uint32_t account, server::LedgerClient& client, const std::string& did,
                       ByteView device_key, bool add);
}  // namespace medallion::cli
