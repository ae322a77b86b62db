// Files and secrets of the served roles and the command line: whole files read with clear
// errors, secret files into wiped memory, atomic writes, key store passphrases.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "medallion/core/bytes.h"
#include "medallion/core/secret.h"
#include "medallion/core/status.h"
#include "medallion/wallet/keystore.h"

namespace medallion::roles {

// The bytes of the regular file `path` (a directory, FIFO or device is invalid_argument).
// Errors: not_found, permission_denied, invalid_argument, unavailable (read error).
Result<Bytes> ReadFileBytes(const std::string& path);
// Reads a secret file (at most 64 KiB) into wiped memory; strips one trailing "\n" and then,
// only if one was stripped, one "\r" (so "pass\r\n" gives "pass" but "pass\r" keeps its "\r").
// Regular files and pipes (`--passphrase-file <(pass show x)`) are accepted; directories and
// devices are invalid_argument.
Result<SecretString> ReadSecretFile(const std::string& path);
// Writes `data` to `path` with mode 0600 (0644 when `public_file`) through a temporary file
// in the same directory (mkstemp, fchmod, fsync, rename), so `path` is either absent or
// complete. Without `overwrite` an existing `path` is refused (already_exists) and never
// replaced. On failure the temporary file is removed. Errors: already_exists; invalid_argument
// if the directory is missing or not writable; unavailable for I/O errors.
Status WriteFileAtomic(const std::string& path, std::string_view data, bool public_file,
                       bool overwrite);

// A key store passphrase: from `file` if given, else $`env_var`, else a no-echo prompt on the
// terminal (at most 1024 bytes; twice when `confirm`, compared in constant time).
// Errors: invalid_argument if none can be had or the two entries differ.
Result<SecretString> GetPassphrase(const std::string& file, const char* env_var,
                                   const std::string& prompt, bool confirm);

// Opens and unlocks a key store: a file that is not a usable key store is invalid_argument
// (exit 2), a wrong passphrase unauthenticated (exit 1). The passphrase comes from
// `passphrase_file`, else $MEDALLION_PASSPHRASE, else a prompt.
Result<wallet::WalletSecret> OpenAndUnlock(const std::string& store,
                                           const std::string& passphrase_file);

// The layout of the guardian shares last split from a key store (`wallet split --store`), kept
// beside the seed as a public record — never a share: {"group_threshold", "groups":
// [{"threshold", "count"}], "created" (POSIX seconds)}. Her container shows it (docs/web.md).
Status RecordGuardianShares(const std::string& store, const nlohmann::json& layout);
// That record, or null when the wallet was never split. Errors: the key store's.
Result<nlohmann::json> GuardianShares(const std::string& store);

}  // namespace medallion::roles
