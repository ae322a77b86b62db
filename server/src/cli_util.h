// Shared helpers of the `medallion` command line: secrets from files, env or a no-echo
// prompt; files written atomically; JSON output; exit codes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "medallion/core/bytes.h"
#include "medallion/core/secret.h"
#include "medallion/core/status.h"
#include "medallion/wallet/keystore.h"

namespace medallion::cli {

// Exit codes of every command (README, "The medallion command").
inline constexpr int kExitOk = 0;
inline constexpr int kExitFalse = 1;  // a negative answer: bad signature, wrong passphrase, tampered store
inline constexpr int kExitUsage = 2;  // bad arguments or unusable input

// Where an error came from. The key store reports a file that is not a key store as
// data_loss and an unsafe one as failed_precondition; while *opening* a store these mean
// unusable input (exit 2), while unlocking one data_loss means a tampered record (exit 1).
enum class ErrorSource { kCommand, kOpeningStore };

// The exit code for a failed `st`: kExitUsage for invalid_argument, not_found, already_exists
// and permission_denied, and also for data_loss and failed_precondition from kOpeningStore;
// kExitFalse for everything else (unauthenticated, data_loss of a record, I/O failures).
int ExitCodeFor(const Status& st, ErrorSource source = ErrorSource::kCommand);
// Prints "medallion: <status>" on stderr and returns ExitCodeFor(st, source).
int ReportError(const Status& st, ErrorSource source = ErrorSource::kCommand);
// The Status for a server's JSON error answer: the HTTP status picks the code (404 not_found,
// 409 already_exists, 401, 403, 412, 5xx unavailable, other 4xx invalid_argument); the message
// is the description, prefixed with the server's error name only when that differs from the
// code's own name.
Status StatusFromHttpError(int http_status, const std::string& error, const std::string& description);

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
Status WriteFileAtomic(const std::string& path, std::string_view data, bool public_file, bool overwrite);

// A key store passphrase: from `file` if given, else $`env_var`, else a no-echo prompt on the
// terminal (at most 1024 bytes; twice when `confirm`, compared in constant time).
// Errors: invalid_argument if none can be had or the two entries differ.
// Opens and unlocks a key store: a file that is not a usable key store is invalid_argument
// (exit 2), a wrong passphrase unauthenticated (exit 1). The passphrase comes from
// `passphrase_file`, else $MEDALLION_PASSPHRASE, else a prompt.
Result<wallet::WalletSecret> OpenAndUnlock(const std::string& store, const std::string& passphrase_file);

Result<SecretString> GetPassphrase(const std::string& file, const char* env_var, const std::string& prompt,
                                   bool confirm);

// A mnemonic read from a file, validated and re-encoded canonically (single spaces, NFKD).
Result<SecretString> ReadMnemonicFile(const std::string& path);

// JSON text that never throws: invalid UTF-8 (e.g. a file name) is replaced with U+FFFD.
// `indent` as nlohmann::json::dump (-1: compact).
std::string DumpJson(const nlohmann::json& value, int indent = -1);
// Prints DumpJson(value, 2) and a newline on stdout.
void PrintJson(const nlohmann::json& value);
// Flushes stdout. Errors: unavailable if anything written to it so far was lost (closed pipe,
// full disk), so that a command can undo what the user never saw.
Status FlushStdout();

}  // namespace medallion::cli
