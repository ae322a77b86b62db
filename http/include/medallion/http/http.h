// HTTP conventions shared by every Medallion role: the one Status → HTTP table, JSON errors
// ({"error", "error_description"}), request size limits and the server lifecycle.
//
// Only http/, web/ and roles/ include httplib.h (tests/arch/boundaries.sh checks it); this
// header forward-declares what it needs. Namespace medallion::http.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "medallion/core/status.h"

namespace httplib {
class Server;
struct Response;
struct Request;
}  // namespace httplib

namespace medallion::http {

// The one table mapping a Status code to an HTTP status.
int HttpStatusFor(StatusCode code);
// The HTTP status of a failure: by its code (above), except for the few protocol reasons whose
// specification prescribes another status for that code (the table in http.cpp).
int HttpStatusFor(const Status& status);

// Writes {"error": <code name>, "error_description": <message>} with the mapped status, and
// "reason": <status.reason()> when the status has one (clients restore it: StatusFromHttpReply
// in http_client.h).
void SendError(httplib::Response& res, const Status& status);
// An OAuth 2.0 / UMA error (RFC 6749 §5.2, UMA Grant §3.3.6): {"error": <reason>,
// "error_description": <detail>} plus the members of `extra` (a JSON object: ticket,
// required_claims, interval, ...), with HttpStatusFor(status). REQUIRES: !status.ok(); a status
// without a reason sends its code name as the error.
void SendOAuthError(httplib::Response& res, const Status& status, const nlohmann::json& extra);
void SendError(httplib::Response& res, int http_status, std::string_view error,
               std::string_view description);
void SendJson(httplib::Response& res, const nlohmann::json& body, int http_status = 200);

// Largest request body any Medallion endpoint accepts (1 MiB); larger bodies get 413.
inline constexpr size_t kMaxRequestBody = 1 << 20;

// A smaller body limit for the routes of `server` whose path starts with `path_prefix` (the
// longest matching prefix wins; methods with a body only). Checked from Content-Length before
// the body is read, as is the header itself: a Content-Length that is not a plain decimal
// number gets 400, one over the route's limit 413 — at once, with Connection: close, never
// after waiting for a body that will not come. REQUIRES: ConfigureServer(server) was called.
void LimitBody(httplib::Server& server, std::string path_prefix, size_t max_bytes);

// True if the request's Content-Type is application/json or application/<anything>+json
// (parameters such as charset allowed).
bool IsJsonMediaType(const httplib::Request& req);

// The body of a JSON request, read through core/json.h (ParseJson: size and nesting bounded,
// never thrown): a wrong Content-Type gets 415 unsupported_media_type, an unusable body 400
// with `error` ("invalid_request" by default). nullopt when an error was sent.
std::optional<nlohmann::json> ReadJsonBody(const httplib::Request& req, httplib::Response& res,
                                           std::string_view error = "invalid_request");

// Applies Medallion's defaults to a server: body limit, JSON 404/405/413/500 handlers,
// no exception escaping a handler, short timeouts, a small thread pool.
void ConfigureServer(httplib::Server& server);

// Installs `handler` as the server's pre-routing step, after the connection guard's progress
// mark that ConfigureServer installs (httplib keeps one pre-routing handler; this keeps both).
// `handler` returns true when it answered the request itself (routing stops). REQUIRES:
// ConfigureServer(server) was called.
void SetPreRoutingHandler(httplib::Server& server,
                          std::function<bool(const httplib::Request&, httplib::Response&)> handler);

// The listen backlog of every Medallion server (httplib's own is 5, which drops bursts of new
// connections).
inline constexpr int kListenBacklog = 1024;

// What one client may hold of a server (enforced by the connection guard, http/src/
// connection_guard.h): time to deliver a request's line and headers, from accept or from the
// previous response; time from then until the response is written (body, handler, response;
// the longest long poll is 30 s); connections per client address and per listener. Over a
// count limit, the newest connections open for at least `shed_after` are closed: a burst of
// short requests queued for a worker is served, a client that holds connections open is not.
struct ConnectionLimits {
  std::chrono::milliseconds request_timeout{10'000};
  std::chrono::milliseconds exchange_timeout{60'000};
  size_t max_per_address = 48;  // below the 128 workers: one address never holds them all
  size_t max_total = 512;
  std::chrono::milliseconds shed_after{2'000};
};

// Binds a configured server to host:port (0: any free port) and returns the port: without
// SO_REUSEPORT (ConfigureServer), with a listen backlog of kListenBacklog, and watched by the
// connection guard with `limits` (per-request time, connections per client address and in
// total; connection_guard.h). Errors: invalid_argument naming the address, "the port is already
// in use" when it is.
Result<int> BindServer(httplib::Server& server, const std::string& host, int port,
                       ConnectionLimits limits = {});

// A plain server, or — with a certificate chain and key (PEM files) — a TLS one, for a role
// exposed beyond loopback. Errors: invalid_argument if the files do not make a usable context.
Result<std::unique_ptr<httplib::Server>> MakeHttpServer(const std::string& tls_cert_file,
                                                        const std::string& tls_key_file);

// "127.0.0.1:8080" or ":8080" → host and port. Errors: invalid_argument.
struct ListenAddress {
  std::string host;
  int port = 0;
};
Result<ListenAddress> ParseListenAddress(std::string_view text);

// A query parameter as an unsigned integer. Errors: invalid_argument naming the parameter.
Result<uint64_t> QueryU64(const httplib::Request& req, const char* name);

}  // namespace medallion::http
