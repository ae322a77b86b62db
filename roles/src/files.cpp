// Files and secrets of the served roles (and the command line): whole files read with clear
// errors, secret files into wiped memory, atomic writes, key store passphrases.
#include "medallion/roles/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "medallion/core/env.h"
#include "medallion/core/json.h"

namespace medallion::roles {
namespace {

constexpr size_t kMaxSecretFile = 1u << 16;
constexpr size_t kMaxPromptedPassphrase = 1024;

// Closes a file descriptor on every return path.
struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

std::string Errno(int err) { return std::strerror(err); }

// The status for failing to open `path` for reading with `err`.
Status OpenForReadError(const std::string& path, int err) {
  const std::string why = "cannot read " + path + ": " + Errno(err);
  if (err == ENOENT || err == ENOTDIR) return Status::NotFound(why);
  if (err == EACCES || err == EPERM || err == ELOOP) return Status::PermissionDenied(why);
  return Status::Unavailable(why);
}

// Opens `path` for reading into *fd and checks what it is: a regular file or, with
// `allow_pipe`, a pipe (a directory and anything else are refused). Returns fstat's answer.
Result<struct stat> OpenReadable(const std::string& path, bool allow_pipe, FdCloser* fd) {
  fd->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd->fd < 0) return OpenForReadError(path, errno);
  struct stat sb;
  if (::fstat(fd->fd, &sb) != 0)
    return Status::Unavailable("cannot read " + path + ": " + Errno(errno));
  if (S_ISDIR(sb.st_mode))
    return Status::InvalidArgument("cannot read " + path + ": it is a directory");
  if (!S_ISREG(sb.st_mode) && !(allow_pipe && S_ISFIFO(sb.st_mode))) {
    return Status::InvalidArgument("cannot read " + path + ": not a regular file" +
                                   (allow_pipe ? " or a pipe" : ""));
  }
  return sb;
}

// Reads `fd` to its end through `buf`, handing each chunk to `sink(data, n)`, which may stop
// the reading with an error.
template <typename Buffer, typename Sink>
Status ReadToEnd(int fd, const std::string& path, Buffer& buf, Sink&& sink) {
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Unavailable("cannot read " + path + ": " + Errno(errno));
    if (n == 0) return Status::Ok();
    MDL_RETURN_IF_ERROR(sink(buf.data(), static_cast<size_t>(n)));
  }
}

}  // namespace

Result<Bytes> ReadFileBytes(const std::string& path) {
  FdCloser fd{-1};
  MDL_ASSIGN_OR_RETURN(struct stat sb, OpenReadable(path, /*allow_pipe=*/false, &fd));
  Bytes out;
  out.reserve(static_cast<size_t>(sb.st_size));
  std::array<uint8_t, 1 << 16> buf;
  MDL_RETURN_IF_ERROR(ReadToEnd(fd.fd, path, buf, [&](const uint8_t* data, size_t n) {
    out.insert(out.end(), data, data + n);
    return Status::Ok();
  }));
  return out;
}

Result<SecretString> ReadSecretFile(const std::string& path) {
  FdCloser fd{-1};
  MDL_ASSIGN_OR_RETURN(struct stat sb, OpenReadable(path, /*allow_pipe=*/true, &fd));
  if (S_ISREG(sb.st_mode) && static_cast<uint64_t>(sb.st_size) > kMaxSecretFile) {
    return Status::InvalidArgument(path + " is too large for a secret");
  }
  // Reserved up front: appending never reallocates, so no copy of the secret is freed unwiped.
  SecretString secret;
  std::string& out = secret.RevealMutable();
  out.reserve(kMaxSecretFile);
  std::array<char, 4096> buf;
  ScopedWipe wipe_buf(buf);
  MDL_RETURN_IF_ERROR(ReadToEnd(fd.fd, path, buf, [&](const char* data, size_t n) {
    if (out.size() + n > kMaxSecretFile) {
      return Status::InvalidArgument(path + " is too large for a secret");
    }
    out.append(data, n);
    return Status::Ok();
  }));
  if (!out.empty() && out.back() == '\n') {
    out.pop_back();
    if (!out.empty() && out.back() == '\r') out.pop_back();
  }
  return secret;
}

Status WriteFileAtomic(const std::string& path, std::string_view data, bool public_file,
                       bool overwrite) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "."
                          : slash == 0               ? "/"
                                                     : path.substr(0, slash);
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  if (base.empty() || base == "." || base == "..") {
    return Status::InvalidArgument("cannot write " + path + ": not a file name");
  }
  struct stat sb;
  if (!overwrite && ::lstat(path.c_str(), &sb) == 0) {
    return Status::AlreadyExists(path + " already exists; not overwriting it");
  }
  // The temporary file lives in the same directory, so that rename() is atomic.
  std::string tmp =
      path.substr(0, slash == std::string::npos ? 0 : slash + 1) + "." + base + ".tmp-XXXXXX";
  const int raw_fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (raw_fd < 0) {
    const int err = errno;
    const std::string why = "cannot write " + path + ": " + Errno(err);
    if (err == ENOENT || err == ENOTDIR || err == EACCES || err == EPERM || err == EROFS) {
      return Status::InvalidArgument(why);
    }
    return Status::Unavailable(why);
  }
  struct TempFile {
    int fd;
    const std::string& name;
    bool keep = false;
    ~TempFile() {
      if (fd >= 0) ::close(fd);
      if (!keep) ::unlink(name.c_str());
    }
  } t{raw_fd, tmp};
  const auto io_error = [&](const char* what) {
    return Status::Unavailable("cannot write " + path + " (" + what + "): " + Errno(errno));
  };
  if (::fchmod(t.fd, public_file ? 0644 : 0600) != 0) return io_error("fchmod");
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(t.fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error("write");
    off += static_cast<size_t>(n);
  }
  if (::fsync(t.fd) != 0) return io_error("fsync");
  const int fd = std::exchange(t.fd, -1);
  if (::close(fd) != 0) return io_error("close");
  if (overwrite) {
    if (::rename(tmp.c_str(), path.c_str()) != 0) return io_error("rename");
    t.keep = true;  // renamed: nothing left to remove
  } else if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) == 0) {
    t.keep = true;
  } else {
    if (errno == EEXIST) return Status::AlreadyExists(path + " already exists; not overwriting it");
    if (errno != EINVAL && errno != ENOSYS) return io_error("rename");
    // A file system without RENAME_NOREPLACE: link() refuses an existing target too, and
    // ~TempFile then removes the temporary name.
    if (::link(tmp.c_str(), path.c_str()) != 0) {
      if (errno == EEXIST)
        return Status::AlreadyExists(path + " already exists; not overwriting it");
      return io_error("link");
    }
  }
  // Make the new directory entry durable too (best effort: some file systems refuse).
  FdCloser d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (d.fd >= 0) (void)::fsync(d.fd);
  return Status::Ok();
}

namespace {

Result<SecretString> PromptNoEcho(const std::string& prompt) {
  FdCloser fd{::open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)};
  if (fd.fd < 0) return Status::InvalidArgument("no terminal to ask for a passphrase");
  termios old{};
  if (::tcgetattr(fd.fd, &old) != 0)
    return Status::InvalidArgument("no terminal to ask for a passphrase");
  termios noecho = old;
  noecho.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  // tcsetattr succeeds if any one change took effect: read the settings back.
  termios now{};
  if (::tcsetattr(fd.fd, TCSAFLUSH, &noecho) != 0 || ::tcgetattr(fd.fd, &now) != 0 ||
      (now.c_lflag & ECHO) != 0) {
    (void)::tcsetattr(fd.fd, TCSAFLUSH, &old);
    return Status::InvalidArgument("cannot turn off echo on the terminal to ask for a passphrase");
  }
  (void)!::write(fd.fd, prompt.data(), prompt.size());
  SecretString secret;
  std::string& line = secret.RevealMutable();
  line.reserve(kMaxPromptedPassphrase);  // never reallocated: no unwiped copy
  bool too_long = false, read_error = false;
  char c = 0;
  for (;;) {
    const ssize_t n = ::read(fd.fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) read_error = true;
    if (n <= 0 || c == '\n') break;
    if (line.size() < kMaxPromptedPassphrase) {
      line.push_back(c);
    } else {
      too_long = true;  // keep reading to the end of the line, so the rest does not reach the shell
    }
  }
  SecureWipe(&c, sizeof c);
  const bool restored = ::tcsetattr(fd.fd, TCSAFLUSH, &old) == 0;
  (void)!::write(fd.fd, "\n", 1);
  if (!restored) return Status::Unavailable("cannot turn echo back on; run `stty echo`");
  if (read_error) return Status::Unavailable("cannot read the passphrase from the terminal");
  if (too_long) {
    return Status::InvalidArgument("the passphrase is longer than " +
                                   std::to_string(kMaxPromptedPassphrase) + " bytes");
  }
  return secret;
}

}  // namespace

Result<SecretString> GetPassphrase(const std::string& file, const char* env_var,
                                   const std::string& prompt, bool confirm) {
  if (!file.empty()) return ReadSecretFile(file);
  if (env_var != nullptr) {
    if (const char* v = std::getenv(env_var); v != nullptr) return SecretString(std::string(v));
  }
  MDL_ASSIGN_OR_RETURN(SecretString first, PromptNoEcho(prompt + ": "));
  if (confirm) {
    MDL_ASSIGN_OR_RETURN(SecretString second, PromptNoEcho("Repeat " + prompt + ": "));
    if (!ConstantTimeEqual(AsBytes(first.Reveal()), AsBytes(second.Reveal()))) {
      return Status::InvalidArgument("the passphrases do not match");
    }
  }
  return first;
}

Result<wallet::WalletSecret> OpenAndUnlock(const std::string& store,
                                           const std::string& passphrase_file) {
  auto ks = wallet::KeyStore::Open(store, DefaultEnv());
  if (!ks) return Status::InvalidArgument(ks.error().ToString());
  MDL_ASSIGN_OR_RETURN(SecretString pass, GetPassphrase(passphrase_file, "MEDALLION_PASSPHRASE",
                                                        "Key store passphrase", false));
  return (*ks)->Unlock(pass.Reveal());
}

Status RecordGuardianShares(const std::string& store, const nlohmann::json& layout) {
  MDL_ASSIGN_OR_RETURN(auto ks, wallet::KeyStore::Open(store, DefaultEnv()));
  return ks->PutPublic("recovery", "guardian_shares", layout.dump());
}

Result<nlohmann::json> GuardianShares(const std::string& store) {
  MDL_ASSIGN_OR_RETURN(auto ks, wallet::KeyStore::Open(store, DefaultEnv()));
  auto text = ks->GetPublic("recovery", "guardian_shares");
  if (!text) {
    if (text.error().code() == StatusCode::kNotFound) return nlohmann::json();
    return text.error();
  }
  auto layout = ParseJson(*text, JsonLimits{size_t{64} << 10, 8});
  if (!layout) return Status::DataLoss("the guardian-share record of " + store + " is not JSON");
  return *layout;
}

}  // namespace medallion::roles
