// fork/exec of `medallion` child processes for the demo and `medallion up`.
#include "demo_procs.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

namespace medallion::cli {
namespace {

extern "C" char** environ;

// argv/envp as C arrays; the strings live in the vectors.
struct Exec {
  std::vector<std::string> args, envs;
  std::vector<char*> argv, envp;
  Exec(const std::vector<std::string>& a, const std::map<std::string, std::string>& env) : args(a) {
    for (char** e = environ; *e != nullptr; ++e) {
      std::string kv = *e;
      const std::string key = kv.substr(0, kv.find('='));
      if (!env.count(key)) envs.push_back(kv);
    }
    for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
    for (auto& s : args) argv.push_back(s.data());
    argv.push_back(nullptr);
    for (auto& s : envs) envp.push_back(s.data());
    envp.push_back(nullptr);
  }
};

std::string ReadAvailable(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// In the child, right after fork: it dies with its parent (PR_SET_PDEATHSIG), also if the
// parent died before the prctl took effect (the parent-pid check), so that a `demo` killed by
// SIGTERM or an `up` killed by SIGKILL leaves no servers behind.
void DieWithParent(pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent) _exit(127);
}

// Forks and runs `ex` in the child with stdout on `stdout_fd`, stderr on `stderr_fd`, stdin
// from /dev/null, dying with this process. The child's pid, or -1 if fork failed.
pid_t Spawn(const Exec& ex, int stdout_fd, int stderr_fd) {
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid != 0) return pid;
  DieWithParent(parent);
  dup2(stdout_fd, STDOUT_FILENO);
  dup2(stderr_fd, STDERR_FILENO);
  const int devnull = open("/dev/null", O_RDONLY);
  if (devnull >= 0) dup2(devnull, STDIN_FILENO);
  execve(ex.argv[0], ex.argv.data(), ex.envp.data());
  _exit(127);
}

}  // namespace

std::string SelfExe() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "medallion";
  buf[n] = '\0';
  return buf;
}

Process::~Process() { Stop(); }
Process::Process(Process&& o) noexcept
    : pid_(o.pid_), out_fd_(o.out_fd_), banner_(std::move(o.banner_)) {
  o.pid_ = -1;
  o.out_fd_ = -1;
}
Process& Process::operator=(Process&& o) noexcept {
  if (this != &o) {
    Stop();
    pid_ = o.pid_;
    out_fd_ = o.out_fd_;
    banner_ = std::move(o.banner_);
    o.pid_ = -1;
    o.out_fd_ = -1;
  }
  return *this;
}

Result<Process> Process::Start(const std::vector<std::string>& args,
                               const std::map<std::string, std::string>& env,
                               const std::string& log_path, int timeout_seconds) {
  Exec ex(args, env);
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0)
    return Status::Unavailable("pipe: " + std::string(std::strerror(errno)));
  const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log < 0) {
    close(out[0]);
    close(out[1]);
    return Status::Unavailable("cannot open " + log_path);
  }
  const pid_t pid = Spawn(ex, out[1], log);
  if (pid < 0) {
    for (int fd : {out[0], out[1], log}) close(fd);
    return Status::Unavailable("fork failed");
  }
  close(out[1]);
  close(log);
  Process p;
  p.pid_ = pid;
  p.out_fd_ = out[0];
  // The banner: one line of JSON.
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  while (line.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0)
      return Status::Unavailable(
          args.size() > 1 ? args[1] + " " + (args.size() > 2 ? args[2] : "") + ": no banner"
                          : "no banner");
    pollfd pfd{p.out_fd_, POLLIN, 0};
    if (poll(&pfd, 1, static_cast<int>(left)) <= 0) continue;
    char buf[4096];
    ssize_t n = read(p.out_fd_, buf, sizeof buf);
    if (n <= 0)
      return Status::Unavailable("the process exited before its banner (see " + log_path + ")");
    line.append(buf, static_cast<size_t>(n));
  }
  p.banner_ = nlohmann::json::parse(line.substr(0, line.find('\n')), nullptr, false);
  if (p.banner_.is_discarded()) return Status::Unavailable("the banner is not JSON: " + line);
  return p;
}

void Process::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  int status = 0;
  for (int i = 0; i < 500; ++i) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  if (out_fd_ >= 0) close(out_fd_);
  out_fd_ = -1;
}

Result<RunResult> RunCommand(const std::vector<std::string>& args,
                             const std::map<std::string, std::string>& env, int timeout_seconds) {
  Exec ex(args, env);
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0)
    return Status::Unavailable("pipe failed");
  const pid_t pid = Spawn(ex, out[1], err[1]);
  if (pid < 0) {
    for (int fd : {out[0], out[1], err[0], err[1]}) close(fd);
    return Status::Unavailable("fork failed");
  }
  close(out[1]);
  close(err[1]);
  fcntl(out[0], F_SETFL, O_NONBLOCK);
  fcntl(err[0], F_SETFL, O_NONBLOCK);
  RunResult r;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  int status = 0;
  for (;;) {
    pollfd pfds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    poll(pfds, 2, 50);
    r.out += ReadAvailable(out[0]);
    r.err += ReadAvailable(err[0]);
    if (waitpid(pid, &status, WNOHANG) == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      close(out[0]);
      close(err[0]);
      return Status::Unavailable("timed out: " + args[1]);
    }
  }
  r.out += ReadAvailable(out[0]);
  r.err += ReadAvailable(err[0]);
  close(out[0]);
  close(err[0]);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  return r;
}

}  // namespace medallion::cli
