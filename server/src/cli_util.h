// Shared helpers of the `medallion` command line: secrets from files, env or a no-echo
// prompt; JSON output; exit codes.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "medallion/core/bytes.h"
#include "medallion/core/secret.h"
#include "medallion/core/status.h"

namespace medallion::cli {

// Exit codes of every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFalse = 1;  // a negative answer: bad signature, wrong passphrase, failed check
inline constexpr int kExitUsage = 2;  // bad arguments or unreadable / invalid input

// Prints "medallion: <message>" on stderr and returns the exit code for `st`:
// invalid_argument / not_found / already_exists → kExitUsage, anything else → kExitFalse.
int ReportError(const Status& st);

Result<Bytes> ReadFileBytes(const std::string& path);
// Reads a secret file; strips one trailing "\n" (or "\r\n").
Result<SecretString> ReadSecretFile(const std::string& path);
// Writes `data` to `path` with mode 0600 (0644 when `public_file`), replacing it atomically.
Status WriteFileAtomic(const std::string& path, std::string_view data, bool public_file);

// A key store passphrase: from `file` if given, else $MEDALLION_PASSPHRASE, else a no-echo
// prompt on the terminal (twice when `confirm`). Errors: invalid_argument if none can be had.
Result<SecretString> GetPassphrase(const std::string& file, const char* env_var, const std::string& prompt,
                                   bool confirm);

// A mnemonic read from a file, validated and re-encoded canonically (single spaces, NFKD).
Result<SecretString> ReadMnemonicFile(const std::string& path);

void PrintJson(const nlohmann::json& value);

}  // namespace medallion::cli
