// Helpers shared by the roles' implementations (private to roles/).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "medallion/core/env.h"
#include "medallion/core/secret.h"
#include "medallion/core/status.h"
#include "medallion/wallet/keys.h"

namespace medallion::roles {

// A role's keys: the wallet's authentication and assertion keys (generation 0) and a secret
// derived from the seed for `label`.
struct RoleKeys {
  std::shared_ptr<wallet::SigningKey> auth, assertion;
  SecretBytes derived;
};

// Opens and unlocks the role's wallet (OpenAndUnlock) and derives its keys.
Result<RoleKeys> UnlockRole(const std::string& store, const std::string& passphrase_file,
                            const std::string& label);

// Creates `dir` (and its parents) and makes it 0700. Errors: invalid_argument.
Status PrepareDir(const std::string& dir);

// The admin token: read from the file, or created there (0600) on first start.
Result<std::string> AdminToken(const std::string& path, Env env);

// Whether an Authorization header is exactly "Bearer <token>" (compared in constant time; never
// for an empty token).
bool BearerIs(std::string_view authorization, std::string_view token);

}  // namespace medallion::roles
