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
#include "medallion/roles/files.h"
#include "medallion/wallet/keystore.h"

namespace medallion::cli {

// Exit codes of every command (README, "The medallion command").
inline constexpr int kExitOk = 0;
inline constexpr int kExitFalse =
    1;  // a negative answer: bad signature, wrong passphrase, tampered store
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
Status StatusFromHttpError(int http_status, const std::string& error,
                           const std::string& description);

// Files and secrets (medallion/roles/files.h), shared with the served roles.
using roles::GetPassphrase;
using roles::OpenAndUnlock;
using roles::ReadFileBytes;
using roles::ReadSecretFile;
using roles::WriteFileAtomic;

// A mnemonic read from a file, validated and re-encoded canonically (single spaces, NFKD).
Result<SecretString> ReadMnemonicFile(const std::string& path);

// A bearer token from its file (a session from `consent signin`, an admin token), without the
// trailing newline, carriage return or spaces.
Result<std::string> ReadToken(const std::string& path);

// JSON text that never throws: invalid UTF-8 (e.g. a file name) is replaced with U+FFFD.
// `indent` as nlohmann::json::dump (-1: compact).
std::string DumpJson(const nlohmann::json& value, int indent = -1);
// Prints DumpJson(value, 2) and a newline on stdout.
void PrintJson(const nlohmann::json& value);
// Flushes stdout. Errors: unavailable if anything written to it so far was lost (closed pipe,
// full disk), so that a command can undo what the user never saw.
Status FlushStdout();

}  // namespace medallion::cli
