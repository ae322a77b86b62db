// `medallion` command-line helpers.
#include "cli_util.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "medallion/wallet/bip39.h"

namespace medallion::cli {

int ReportError(const Status& st) {
  std::fprintf(stderr, "medallion: %s\n", st.ToString().c_str());
  switch (st.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
    case StatusCode::kAlreadyExists: return kExitUsage;
    default: return kExitFalse;
  }
}

Result<Bytes> ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path + ": " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return Bytes(s.begin(), s.end());
}

Result<SecretString> ReadSecretFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::NotFound("cannot read " + path + ": " + std::strerror(errno));
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      SecureWipe(buf, sizeof buf);
      return Status::Unavailable("cannot read " + path);
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > (1u << 16)) {
      ::close(fd);
      SecureWipe(buf, sizeof buf);
      return Status::InvalidArgument(path + " is too large for a secret");
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  SecureWipe(buf, sizeof buf);
  SecretString s(std::move(out));
  auto& r = s.RevealMutable();
  if (!r.empty() && r.back() == '\n') r.pop_back();
  if (!r.empty() && r.back() == '\r') r.pop_back();
  return s;
}

Status WriteFileAtomic(const std::string& path, std::string_view data, bool public_file) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, public_file ? 0644 : 0600);
  if (fd < 0) return Status::Unavailable("cannot write " + tmp + ": " + std::strerror(errno));
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return Status::Unavailable("cannot write " + tmp + ": " + std::strerror(errno));
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) return Status::Unavailable("cannot sync " + tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Status::Unavailable("cannot rename to " + path);
  return Status::Ok();
}

namespace {
Result<SecretString> PromptNoEcho(const std::string& prompt) {
  int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0) return Status::InvalidArgument("no terminal to ask for a passphrase");
  termios old{};
  if (::tcgetattr(fd, &old) != 0) {
    ::close(fd);
    return Status::InvalidArgument("no terminal to ask for a passphrase");
  }
  termios noecho = old;
  noecho.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  ::tcsetattr(fd, TCSAFLUSH, &noecho);
  (void)!::write(fd, prompt.data(), prompt.size());
  std::string line;
  char c;
  while (::read(fd, &c, 1) == 1 && c != '\n') line += c;
  ::tcsetattr(fd, TCSAFLUSH, &old);
  (void)!::write(fd, "\n", 1);
  ::close(fd);
  return SecretString(std::move(line));
}
}  // namespace

Result<SecretString> GetPassphrase(const std::string& file, const char* env_var, const std::string& prompt,
                                   bool confirm) {
  if (!file.empty()) return ReadSecretFile(file);
  if (env_var != nullptr) {
    if (const char* v = std::getenv(env_var); v != nullptr) return SecretString(v);
  }
  MDL_ASSIGN_OR_RETURN(SecretString first, PromptNoEcho(prompt + ": "));
  if (confirm) {
    MDL_ASSIGN_OR_RETURN(SecretString second, PromptNoEcho("Repeat " + prompt + ": "));
    if (first.Reveal() != second.Reveal()) return Status::InvalidArgument("the passphrases do not match");
  }
  return first;
}

Result<SecretString> ReadMnemonicFile(const std::string& path) {
  MDL_ASSIGN_OR_RETURN(SecretString text, ReadSecretFile(path));
  MDL_ASSIGN_OR_RETURN(SecretBytes entropy, wallet::bip39::MnemonicToEntropy(text.Reveal()));
  return wallet::bip39::MnemonicFromEntropy(entropy.Reveal());
}

void PrintJson(const nlohmann::json& value) { std::cout << value.dump(2) << std::endl; }

}  // namespace medallion::cli
