// Shared HTTP conventions: error bodies, the Status → HTTP table, server defaults.
#include "medallion/http/http.h"

#include "connection_guard.h"
#include "medallion/core/json.h"
#include "observe.h"

#include <httplib.h>

#include <sys/socket.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>
#include <nlohmann/json.hpp>

namespace medallion::http {

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
      return 409;
    case StatusCode::kFailedPrecondition:
      return 412;
    case StatusCode::kResourceExhausted:
      return 503;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kDataLoss:
      return 500;
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

namespace {

// Protocol reasons whose HTTP status is not the one of their Status code.
struct ReasonStatus {
  std::string_view reason;
  int http;
};
constexpr ReasonStatus kReasonHttpStatus[] = {
    {"too_many_devices", 409},  // resource_exhausted, but the owner must revoke a device first
    {"no_ledger", 409},         // failed_precondition, of the container's configuration
    {"rate_limited", 429},      // resource_exhausted for one client (RFC 6585 §4)
};

}  // namespace

int HttpStatusFor(const Status& status) {
  if (!status.reason().empty()) {
    for (const auto& r : kReasonHttpStatus) {
      if (r.reason == status.reason()) return r.http;
    }
  }
  return HttpStatusFor(status.code());
}

void SendJson(httplib::Response& res, const nlohmann::json& body, int http_status) {
  res.status = http_status;
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json");
}

void SendError(httplib::Response& res, int http_status, std::string_view error,
               std::string_view description) {
  SendJson(res, {{"error", std::string(error)}, {"error_description", std::string(description)}},
           http_status);
}

void SendError(httplib::Response& res, const Status& status) {
  const int http = HttpStatusFor(status);
  if (http == 503) res.set_header("Retry-After", "1");
  if (http == 429) res.set_header("Retry-After", "60");
  nlohmann::json body = {{"error", std::string(StatusCodeName(status.code()))},
                         {"error_description", status.message()}};
  if (!status.reason().empty()) body["reason"] = status.reason();
  SendJson(res, body, http);
}

void SendOAuthError(httplib::Response& res, const Status& status, const nlohmann::json& extra) {
  const int http = HttpStatusFor(status);
  if (http == 503) res.set_header("Retry-After", "1");
  if (http == 429) res.set_header("Retry-After", "60");
  nlohmann::json body = extra.is_object() ? extra : nlohmann::json::object();
  body["error"] =
      status.reason().empty() ? std::string(StatusCodeName(status.code())) : status.reason();
  body["error_description"] = std::string(status.detail());
  SendJson(res, body, http);
}

Result<std::unique_ptr<httplib::Server>> MakeHttpServer(const std::string& tls_cert_file,
                                                        const std::string& tls_key_file) {
  if (tls_cert_file.empty() != tls_key_file.empty()) {
    return Status::InvalidArgument("TLS needs both a certificate and a key");
  }
  std::unique_ptr<httplib::Server> server;
  if (tls_cert_file.empty()) {
    server = std::make_unique<httplib::Server>();
  } else {
    auto tls = std::make_unique<httplib::SSLServer>(tls_cert_file.c_str(), tls_key_file.c_str());
    if (!tls->is_valid())
      return Status::InvalidArgument("cannot use the TLS certificate or key (" + tls_cert_file +
                                     ")");
    server = std::move(tls);
  }
  ConfigureServer(*server);
  return server;
}

namespace {

// httplib's listening socket (a protected member), reached through a derived class's member
// pointer: the only way to raise the listen backlog the compiled library fixes at 5.
struct ListenSocketOf : httplib::Server {
  static int Get(httplib::Server& s) {
    return static_cast<int>((s.*(&ListenSocketOf::svr_sock_)).load());
  }
};

}  // namespace

Result<int> BindServer(httplib::Server& server, const std::string& host, int port,
                       ConnectionLimits limits) {
  errno = 0;
  int bound = port;
  if (port == 0) {
    bound = server.bind_to_any_port(host);
  } else if (!server.bind_to_port(host, port)) {
    bound = -1;
  }
  const int err = errno;
  if (bound <= 0) {
    if (err == EADDRINUSE) {
      return Status::InvalidArgument("cannot listen on " + host + ":" + std::to_string(port) +
                                     ": the port is already in use");
    }
    return Status::InvalidArgument(
        "cannot listen on " + host + ":" + std::to_string(port) +
        (err != 0 ? std::string(": ") + std::strerror(err) : std::string()));
  }
  const int fd = ListenSocketOf::Get(server);
  // Linux takes a second listen() on a listening socket as a new backlog (capped by somaxconn).
  if (fd >= 0) ::listen(fd, kListenBacklog);
  ConnectionGuard::Instance().Watch(fd, bound, limits);
  return bound;
}

namespace {

// Per-server body limits (LimitBody), by path prefix.
struct BodyLimits {
  std::mutex mu;
  std::map<const httplib::Server*, std::vector<std::pair<std::string, size_t>>> by_server;
};
BodyLimits& TheBodyLimits() {
  static BodyLimits* limits = new BodyLimits();
  return *limits;
}

size_t BodyLimitFor(const httplib::Server* server, const std::string& path) {
  BodyLimits& all = TheBodyLimits();
  std::lock_guard<std::mutex> lock(all.mu);
  auto it = all.by_server.find(server);
  size_t best_len = 0, limit = kMaxRequestBody;
  if (it == all.by_server.end()) return limit;
  for (const auto& [prefix, max] : it->second) {
    if (path.compare(0, prefix.size(), prefix) == 0 && prefix.size() >= best_len) {
      best_len = prefix.size();
      limit = max;
    }
  }
  return limit;
}

// The request's Content-Length against its route's limit, before httplib reads the body.
// True when it answered (400 or 413).
bool RefuseBody(const httplib::Server* server, const httplib::Request& req,
                httplib::Response& res) {
  if (!req.has_header("Content-Length")) return false;
  const std::string v = req.get_header_value("Content-Length");
  uint64_t length = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), length);
  if (v.empty() || v.size() > 19 || ec != std::errc() || p != v.data() + v.size()) {
    res.set_header("Connection", "close");
    SendError(res, 400, "invalid_request", "Content-Length is not a decimal number of bytes");
    return true;
  }
  // Over the 1 MiB of every route, httplib answers 413 itself and reads the body away, so that
  // a client still sending it gets the answer and not a reset; over a route's own smaller
  // limit, the connection is refused here and closed.
  const size_t limit = BodyLimitFor(server, req.path);
  if (length > limit && limit < kMaxRequestBody) {
    res.set_header("Connection", "close");
    SendError(res, 413, "request_too_large",
              "request body over " + std::to_string(limit) + " bytes for this endpoint");
    return true;
  }
  return false;
}

}  // namespace

void LimitBody(httplib::Server& server, std::string path_prefix, size_t max_bytes) {
  BodyLimits& all = TheBodyLimits();
  std::lock_guard<std::mutex> lock(all.mu);
  all.by_server[&server].emplace_back(std::move(path_prefix), std::min(max_bytes, kMaxRequestBody));
}

void SetPreRoutingHandler(
    httplib::Server& server,
    std::function<bool(const httplib::Request&, httplib::Response&)> handler) {
  server.set_pre_routing_handler([server = &server, handler = std::move(handler)](
                                     const httplib::Request& req, httplib::Response& res) {
    ConnectionGuard::Instance().RequestReceived(req.local_port, req.remote_addr, req.remote_port);
    // Request id and start time (observe.h); GET /metrics is answered here, before any role's
    // routes and prefixes; then the body's declared length, before the body is read.
    if (BeginRequest(req, res)) return httplib::Server::HandlerResponse::Handled;
    if (RefuseBody(server, req, res)) {
      ConnectionGuard::Instance().CloseAfterResponse(req.local_port, req.remote_addr,
                                                     req.remote_port);
      return httplib::Server::HandlerResponse::Handled;
    }
    if (handler && handler(req, res)) return httplib::Server::HandlerResponse::Handled;
    return httplib::Server::HandlerResponse::Unhandled;
  });
}

void ConfigureServer(httplib::Server& server) {
  RegisterProcessMetrics();
  server.set_payload_max_length(kMaxRequestBody);
  // httplib's default socket options add SO_REUSEPORT, with which a second server on a taken
  // port starts and the kernel splits the connections between the two. SO_REUSEADDR alone
  // allows a quick restart (TIME_WAIT) and still refuses a second listener.
  server.set_socket_options([](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  // Progress marks for the connection guard (connection_guard.h): the request's line and
  // headers are in; the response is written.
  SetPreRoutingHandler(server, nullptr);
  // ... and the request's metrics and log line (observe.h).
  server.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    ConnectionGuard::Instance().ResponseWritten(req.local_port, req.remote_addr, req.remote_port);
    EndRequest(req, res);
  });
  // Small JSON answers must not wait ~40 ms for the peer's delayed ACK (Nagle): measured in
  // docs/benchmarks.md, 177 → 8,400 single appends/s.
  server.set_tcp_nodelay(true);
  // Each keep-alive connection holds a worker; httplib's default pool (8 on this machine)
  // caps concurrent requests. Threads are cheap next to the latency they hide: a ledger node's
  // single appends wait for a group commit, and 96 clients fill a commit where 64 could not
  // (docs/benchmarks.md §Issue 18, 2026-12-07: 64 workers served ~21,000 appends/s at most).
  server.new_task_queue = [] { return new httplib::ThreadPool(128); };
  server.set_read_timeout(10, 0);
  server.set_write_timeout(10, 0);
  server.set_keep_alive_max_count(1000);
  server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    // Only fill in a body for errors no handler answered.
    if (!res.body.empty()) return;
    if (res.status == 404 || res.status == 405) MarkUnmatched();
    switch (res.status) {
      case 404:
        SendError(res, 404, "not_found", "no such endpoint");
        break;
      case 405:
        SendError(res, 405, "method_not_allowed", "method not allowed on this endpoint");
        break;
      case 413:
        SendError(res, 413, "request_too_large",
                  "request body too large (1 MiB; 8 KiB for a form body)");
        break;
      case 414:
        SendError(res, 414, "uri_too_long", "request target over 8,192 bytes");
        break;
      case 400:
        SendError(res, 400, "invalid_request", "malformed HTTP request");
        break;
      default:
        SendError(res, res.status, "error", "request failed");
        break;
    }
  });
  server.set_exception_handler([](const httplib::Request&, httplib::Response& res,
                                  std::exception_ptr ep) {
    // Handlers read requests through core/json.h's accessors and return Status; an exception
    // here is a bug. A JSON type or range error can only come from reading the request, so it
    // is the client's 400 (never a 500 an unauthenticated caller can provoke). Never leak text.
    res.body.clear();
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const nlohmann::json::type_error&) {
      return SendError(res, 400, "invalid_request", "a member of the request has the wrong type");
    } catch (const nlohmann::json::out_of_range&) {
      return SendError(res, 400, "invalid_request",
                       "a member of the request is missing or out of range");
    } catch (const std::exception& e) {
      LogInternalError(e.what());
    } catch (...) {
      LogInternalError("an exception that is not a std::exception");
    }
    // A fault of ours: logged with the request id above, which the body gives so that the
    // caller can quote it; nothing of the fault itself.
    SendJson(res,
             {{"error", "internal"},
              {"error_description", "internal error (request " + CurrentRequestId() + ")"},
              {"request_id", CurrentRequestId()}},
             500);
  });
}

bool IsJsonMediaType(const httplib::Request& req) {
  std::string ct = req.get_header_value("Content-Type");
  const size_t semi = ct.find(';');
  if (semi != std::string::npos) ct.resize(semi);
  while (!ct.empty() && (ct.back() == ' ' || ct.back() == '\t')) ct.pop_back();
  for (char& c : ct) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ct == "application/json") return true;
  return ct.rfind("application/", 0) == 0 && ct.size() > 17 &&
         ct.compare(ct.size() - 5, 5, "+json") == 0;
}

std::optional<nlohmann::json> ReadJsonBody(const httplib::Request& req, httplib::Response& res,
                                           std::string_view error) {
  if (!IsJsonMediaType(req)) {
    SendError(res, 415, "unsupported_media_type", "the body must be application/json");
    return std::nullopt;
  }
  auto body = ParseJson(req.body, JsonLimits{kMaxRequestBody, 64});
  if (!body) {
    SendError(res, 400, error, "the body is not usable JSON: " + body.error().message());
    return std::nullopt;
  }
  return std::move(*body);
}

Result<ListenAddress> ParseListenAddress(std::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos)
    return Status::InvalidArgument("listen address must be HOST:PORT");
  ListenAddress out;
  out.host = std::string(text.substr(0, colon));
  if (out.host.empty()) out.host = "127.0.0.1";
  std::string_view port = text.substr(colon + 1);
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), out.port);
  if (ec != std::errc() || p != port.data() + port.size() || out.port < 0 || out.port > 65535) {
    return Status::InvalidArgument("bad port in listen address '" + std::string(text) + "'");
  }
  return out;
}

Result<uint64_t> QueryU64(const httplib::Request& req, const char* name) {
  if (!req.has_param(name))
    return Status::InvalidArgument(std::string("missing query parameter '") + name + "'");
  const std::string v = req.get_param_value(name);
  uint64_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size() || (v.size() > 1 && v[0] == '0')) {
    return Status::InvalidArgument(std::string("query parameter '") + name +
                                   "' must be an unsigned integer");
  }
  return out;
}

}  // namespace medallion::http
