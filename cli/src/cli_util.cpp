// `medallion` command-line helpers.
#include "cli_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <utility>

#include "medallion/wallet/bip39.h"

namespace medallion::cli {

int ExitCodeFor(const Status& st, ErrorSource source) {
  switch (st.code()) {
    case StatusCode::kOk:
      return kExitOk;
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
    case StatusCode::kAlreadyExists:
    case StatusCode::kPermissionDenied:
      return kExitUsage;
    case StatusCode::kDataLoss:
    case StatusCode::kFailedPrecondition:
      return source == ErrorSource::kOpeningStore ? kExitUsage : kExitFalse;
    default:
      return kExitFalse;
  }
}

int ReportError(const Status& st, ErrorSource source) {
  std::fprintf(stderr, "medallion: %s\n", st.ToString().c_str());
  return ExitCodeFor(st, source);
}

Status StatusFromHttpError(int http_status, const std::string& error,
                           const std::string& description) {
  StatusCode code = StatusCode::kInvalidArgument;
  if (http_status == 401)
    code = StatusCode::kUnauthenticated;
  else if (http_status == 403)
    code = StatusCode::kPermissionDenied;
  else if (http_status == 404)
    code = StatusCode::kNotFound;
  else if (http_status == 409)
    code = StatusCode::kAlreadyExists;
  else if (http_status == 412)
    code = StatusCode::kFailedPrecondition;
  else if (http_status >= 500)
    code = StatusCode::kUnavailable;
  // The server's own error name is kept when it says more than the code ("invalid_grant"), and
  // never repeated ("not_found: not_found: ...").
  std::string message = description.empty() ? error : description;
  if (!error.empty() && error != StatusCodeName(code) && !description.empty())
    message = error + ": " + description;
  return Status(code, message);
}

Result<SecretString> ReadMnemonicFile(const std::string& path) {
  MDL_ASSIGN_OR_RETURN(SecretString text, ReadSecretFile(path));
  MDL_ASSIGN_OR_RETURN(SecretBytes entropy, wallet::bip39::MnemonicToEntropy(text.Reveal()));
  return wallet::bip39::MnemonicFromEntropy(entropy.Reveal());
}

Result<std::string> ReadToken(const std::string& path) {
  MDL_ASSIGN_OR_RETURN(SecretString t, ReadSecretFile(path));
  std::string s(t.Reveal());
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string DumpJson(const nlohmann::json& value, int indent) {
  return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

void PrintJson(const nlohmann::json& value) { std::cout << DumpJson(value, 2) << '\n'; }

Status FlushStdout() {
  std::cout.flush();
  if (!std::cout || std::fflush(stdout) != 0 || std::ferror(stdout) != 0) {
    return Status::Unavailable("cannot write to standard output");
  }
  return Status::Ok();
}

}  // namespace medallion::cli
