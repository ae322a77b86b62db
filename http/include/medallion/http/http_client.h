// A small HTTP(S) client for Medallion's own protocols (the phone bridge talking to its
// container), so that callers outside this module never include httplib.h.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "medallion/core/status.h"

namespace medallion::http {

struct HttpReply {
  int status = 0;
  std::string body;
  std::string location;  // the Location header (a 3xx is not followed: the caller decides)
};

// One request: `method` GET, POST or DELETE; `url` http://host[:port]/path or https://...
// (certificates checked against the system store, or `ca_file`). `bearer` adds
// "Authorization: Bearer". Answers are bounded to `max_body` bytes (4 MiB by default).
// Errors: invalid_argument for a URL we cannot use; unavailable when the server cannot be
// reached, the answer is cut short or larger than `max_body`.
// Thread-safe (each call has its own connection).
Result<HttpReply> HttpCall(std::string_view method, const std::string& url,
                           const std::string& bearer, const std::string& body = "",
                           const std::string& content_type = "application/json",
                           int timeout_seconds = 15, const std::string& ca_file = "",
                           size_t max_body = size_t{4} << 20);

// The Status of a reply that is not 2xx, as the server meant it: the code from the HTTP
// status (400 invalid_argument, 401 unauthenticated, 403 permission_denied, 404 not_found, 409
// already_exists, 412 failed_precondition, 5xx unavailable), the reason from the body's
// "reason" member — or its "error" member when that is a protocol error ("invalid_grant") and
// not a code name — and the message from "error_description". A body that is not a bounded
// JSON object still gives the code. REQUIRES: reply.status is not 2xx.
Status StatusFromHttpReply(const HttpReply& reply);

}  // namespace medallion::http
