// HTTP conventions shared by every Medallion role: the one Status → HTTP table, JSON errors
// ({"error", "error_description"}), request size limits and the server lifecycle.
//
// Only the server module includes httplib.h; this header forward-declares what it needs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "medallion/core/status.h"

namespace httplib {
class Server;
struct Response;
struct Request;
}  // namespace httplib

namespace medallion::server {

// The one table mapping a Status code to an HTTP status.
int HttpStatusFor(StatusCode code);

// Writes {"error": <code name>, "error_description": <message>} with the mapped status.
void SendError(httplib::Response& res, const Status& status);
void SendError(httplib::Response& res, int http_status, std::string_view error, std::string_view description);
void SendJson(httplib::Response& res, const nlohmann::json& body, int http_status = 200);

// Largest request body any Medallion endpoint accepts (1 MiB); larger bodies get 413.
inline constexpr size_t kMaxRequestBody = 1 << 20;

// Applies Medallion's defaults to a server: body limit, JSON 404/405/413/500 handlers,
// no exception escaping a handler, short timeouts, a small thread pool.
void ConfigureServer(httplib::Server& server);

// A plain server, or — with a certificate chain and key (PEM files) — a TLS one, for a role
// exposed beyond loopback. Errors: invalid_argument if the files do not make a usable context.
Result<std::unique_ptr<httplib::Server>> MakeHttpServer(const std::string& tls_cert_file, const std::string& tls_key_file);

// "127.0.0.1:8080" or ":8080" → host and port. Errors: invalid_argument.
struct ListenAddress {
  std::string host;
  int port = 0;
};
Result<ListenAddress> ParseListenAddress(std::string_view text);

// A query parameter as an unsigned integer. Errors: invalid_argument naming the parameter.
Result<uint64_t> QueryU64(const httplib::Request& req, const char* name);

}  // namespace medallion::server
