// Child processes for `medallion demo` and `medallion up`: every role runs as its own
// `medallion` process (this very binary), started with a banner line on stdout, stopped with
// SIGTERM; and one-shot commands (`medallion phone ...`) whose output is captured.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "medallion/core/status.h"

namespace medallion::cli {

// The path of the running `medallion` executable.
std::string SelfExe();

class Process {
 public:
  Process() = default;
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  Process(Process&& o) noexcept;
  Process& operator=(Process&& o) noexcept;

  // Starts `exe args...` with `env` added to the environment, stderr appended to `log_path`,
  // and waits up to `timeout_seconds` for its first stdout line, which must be JSON (the
  // role's banner). Errors: unavailable if it exits or stays silent.
  static Result<Process> Start(const std::vector<std::string>& args,
                               const std::map<std::string, std::string>& env,
                               const std::string& log_path, int timeout_seconds = 30);
  const nlohmann::json& banner() const { return banner_; }
  // SIGTERM, then SIGKILL after 5 s; waits for it.
  void Stop();
  bool running() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  nlohmann::json banner_;
};

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
// Runs `exe args...` to completion (at most `timeout_seconds`), capturing stdout and stderr.
Result<RunResult> RunCommand(const std::vector<std::string>& args,
                             const std::map<std::string, std::string>& env,
                             int timeout_seconds = 120);

}  // namespace medallion::cli
