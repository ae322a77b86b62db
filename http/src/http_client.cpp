// HttpCall over cpp-httplib.
#include "medallion/http/http_client.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "medallion/core/json.h"

namespace medallion::http {

Result<HttpReply> HttpCall(std::string_view method, const std::string& url,
                           const std::string& bearer, const std::string& body,
                           const std::string& content_type, int timeout_seconds,
                           const std::string& ca_file, size_t max_body) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos)
    return Status::InvalidArgument("not an absolute URL: " + url);
  const std::string scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https")
    return Status::InvalidArgument("only http and https URLs: " + url);
  const size_t path_start = url.find('/', scheme_end + 3);
  const std::string origin = url.substr(0, path_start);
  const std::string path = path_start == std::string::npos ? "/" : url.substr(path_start);
  if (origin.size() <= scheme_end + 3) return Status::InvalidArgument("no host in " + url);

  httplib::Client client(origin);
  client.set_connection_timeout(timeout_seconds);
  client.set_read_timeout(timeout_seconds);
  client.set_write_timeout(timeout_seconds);
  if (scheme == "https") {
    client.enable_server_certificate_verification(true);
    if (!ca_file.empty()) client.set_ca_cert_path(ca_file.c_str());
  }
  httplib::Headers headers;
  if (!bearer.empty()) headers.emplace("Authorization", "Bearer " + bearer);
  const std::string limit = max_body % (1 << 20) == 0 ? std::to_string(max_body >> 20) + " MiB"
                                                      : std::to_string(max_body) + " bytes";
  std::string received;
  bool too_large = false;
  auto receiver = [&](const char* data, size_t n) {
    if (received.size() + n > max_body) {
      too_large = true;
      return false;
    }
    received.append(data, n);
    return true;
  };
  auto call = [&]() -> httplib::Result {
    if (method == "GET") return client.Get(path.c_str(), headers, receiver);
    if (method == "DELETE") return client.Delete(path.c_str(), headers, body, content_type.c_str());
    return client.Post(path.c_str(), headers, body, content_type.c_str());
  };
  if (method != "GET" && method != "DELETE" && method != "POST")
    return Status::InvalidArgument("unsupported method");
  httplib::Result r = call();
  if (r && method != "GET") received = r->body;
  if (too_large)
    return Status::Unavailable("the answer from " + origin + " is larger than " + limit);
  if (!r)
    return Status::Unavailable("cannot reach " + origin + ": " + httplib::to_string(r.error()));
  if (received.size() > max_body)
    return Status::Unavailable("the answer from " + origin + " is larger than " + limit);
  return HttpReply{r->status, std::move(received), r->get_header_value("Location")};
}

Status StatusFromHttpReply(const HttpReply& reply) {
  StatusCode code = StatusCode::kInvalidArgument;
  if (reply.status == 401)
    code = StatusCode::kUnauthenticated;
  else if (reply.status == 403)
    code = StatusCode::kPermissionDenied;
  else if (reply.status == 404)
    code = StatusCode::kNotFound;
  else if (reply.status == 409)
    code = StatusCode::kAlreadyExists;
  else if (reply.status == 412)
    code = StatusCode::kFailedPrecondition;
  else if (reply.status >= 500 || reply.status < 400)
    code = StatusCode::kUnavailable;
  std::string error, description, reason;
  auto body = ParseJson(reply.body, JsonLimits{4u << 20, 64});
  if (body && body->is_object()) {
    error = OptionalString(*body, "error").value_or("");
    description = OptionalString(*body, "error_description").value_or("");
    reason = OptionalString(*body, "reason").value_or("");
  }
  const bool code_name = !error.empty() && [&] {
    for (int c = 0; c <= static_cast<int>(StatusCode::kUnavailable); ++c) {
      if (StatusCodeName(static_cast<StatusCode>(c)) == error) return true;
    }
    return false;
  }();
  if (reason.empty() && !code_name) reason = error;
  if (description.empty())
    description = error.empty() ? "HTTP " + std::to_string(reply.status) : error;
  if (reason.empty()) return Status(code, description);
  // A reasoned message reads "<reason>: <detail>" (core/status.h); SendError's descriptions
  // already do.
  if (description.rfind(reason, 0) == 0) return Status(code, description, reason);
  return Status::WithReason(code, reason, description);
}

}  // namespace medallion::http
