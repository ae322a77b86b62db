// Routes served under a path prefix of another server.
#include "mounted_routes.h"

#include <cstring>
#include <regex>

#include "medallion/http/http.h"

namespace medallion::roles {
namespace {

// One request replayed from memory; what the inner server writes is dropped (the response is
// taken from its logger).
class MemoryStream final : public httplib::Stream {
 public:
  MemoryStream(std::string request, const httplib::Request& outer)
      : in_(std::move(request)), outer_(outer) {}
  bool is_readable() const override { return true; }
  bool is_writable() const override { return true; }
  ssize_t read(char* ptr, size_t size) override {
    const size_t n = std::min(size, in_.size() - pos_);
    std::memcpy(ptr, in_.data() + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char*, size_t size) override { return static_cast<ssize_t>(size); }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = outer_.remote_addr;
    port = outer_.remote_port;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = outer_.local_addr;
    port = outer_.local_port;
  }
  socket_t socket() const override { return INVALID_SOCKET; }

 private:
  std::string in_;
  size_t pos_ = 0;
  const httplib::Request& outer_;
};

// The response of the request this thread is dispatching (set around process_request).
thread_local httplib::Response* t_answer = nullptr;

// Headers of the outer request that must not be replayed: the body is sent whole, the
// answer is not compressed twice, and httplib sets the address headers itself.
bool Replayed(const std::string& name) {
  static const char* const kSkip[] = {"Content-Length", "Transfer-Encoding", "Accept-Encoding",
                                      "Connection",     "REMOTE_ADDR",       "REMOTE_PORT",
                                      "LOCAL_ADDR",     "LOCAL_PORT"};
  for (const char* s : kSkip) {
    if (strcasecmp(name.c_str(), s) == 0) return false;
  }
  return true;
}

// Headers of the inner answer the outer server writes itself.
bool Copied(const std::string& name) {
  return strcasecmp(name.c_str(), "Content-Length") != 0 &&
         strcasecmp(name.c_str(), "Connection") != 0 && strcasecmp(name.c_str(), "Keep-Alive") != 0;
}

}  // namespace

MountedRoutes::MountedRoutes() {
  http::ConfigureServer(*this);
  set_logger([](const httplib::Request&, const httplib::Response& res) {
    if (t_answer != nullptr) *t_answer = res;
  });
}

Status MountedRoutes::CheckPrefix(const std::string& prefix) {
  static const std::regex kPrefix("(/[A-Za-z0-9_-]+)+");
  if (!std::regex_match(prefix, kPrefix)) {
    return Status::InvalidArgument(
        "a mount prefix is /NAME[/NAME...] (letters, digits, '-', '_'): '" + prefix + "'");
  }
  return Status::Ok();
}

void MountedRoutes::GetStreamed(const std::string& pattern, Handler handler) {
  streamed_.push_back({pattern, std::regex(pattern), std::move(handler)});
}

void MountedRoutes::MountOn(httplib::Server& outer, const std::string& prefix) {
  // httplib tries a method's routes in the order they were registered.
  for (const Streamed& s : streamed_) outer.Get(prefix + s.pattern, s.handler);
  const std::string pattern = prefix + "(/.*)?";
  auto handler = [this, prefix](const httplib::Request& req, httplib::Response& res) {
    Dispatch(prefix, req, res);
  };
  RouteEveryMethod(outer, pattern, handler);
}

void MountedRoutes::RouteEveryMethod(httplib::Server& server, const std::string& pattern,
                                     const Handler& handler) {
  server.Get(pattern, handler);
  server.Post(pattern, handler);
  server.Put(pattern, handler);
  server.Patch(pattern, handler);
  server.Delete(pattern, handler);
  server.Options(pattern, handler);
}

void MountedRoutes::Serve(const std::string& prefix, const httplib::Request& req,
                          httplib::Response& res) {
  if (req.method == "GET" && req.path.compare(0, prefix.size(), prefix) == 0) {
    const std::string rest = req.path.substr(prefix.size());
    for (const Streamed& s : streamed_) {
      if (std::regex_match(rest, s.compiled)) {
        s.handler(req, res);
        return;
      }
    }
  }
  Dispatch(prefix, req, res);
}

void MountedRoutes::Dispatch(const std::string& prefix, const httplib::Request& req,
                             httplib::Response& res) {
  // The raw target without the prefix (the path was matched decoded; the prefix has no
  // characters that percent-encoding would change, so the raw target starts with it too).
  std::string target =
      req.target.compare(0, prefix.size(), prefix) == 0 ? req.target.substr(prefix.size()) : "";
  if (target.empty() || target[0] == '?') {
    // The bare prefix of a page: 308 to "<prefix>/", so that the page's relative URLs resolve
    // under the prefix (RFC 9110 §15.4.9).
    if (req.method == "GET" || req.method == "HEAD") {
      res.status = 308;
      res.set_header("Location", prefix + "/" + target);
      return;
    }
    target = "/" + target;
  }
  if (target[0] != '/') {
    http::SendError(res, 404, "not_found", "no such endpoint");
    return;
  }
  std::string raw = req.method + " " + target + " HTTP/1.1\r\n";
  for (const auto& [name, value] : req.headers) {
    if (Replayed(name)) raw += name + ": " + value + "\r\n";
  }
  raw += "Content-Length: " + std::to_string(req.body.size()) + "\r\n\r\n";
  raw += req.body;
  MemoryStream stream(std::move(raw), req);
  httplib::Response answer;
  t_answer = &answer;
  bool closed = false;
  process_request(stream, true, closed, nullptr);
  t_answer = nullptr;
  if (answer.status < 0) {
    http::SendError(res, 500, "internal", "the mounted request was not answered");
    return;
  }
  res.status = answer.status;
  for (const auto& [name, value] : answer.headers) {
    if (!Copied(name)) continue;
    // A path-absolute Location (RFC 9110 §10.2.2) names a path of the container: under the mount
    // it lives below the prefix.
    const bool relative_location = strcasecmp(name.c_str(), "Location") == 0 && !value.empty() &&
                                   value[0] == '/' && (value.size() < 2 || value[1] != '/');
    res.headers.emplace(name, relative_location ? prefix + value : value);
  }
  res.body = std::move(answer.body);
}

}  // namespace medallion::roles
