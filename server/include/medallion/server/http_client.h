// A small HTTP(S) client for Medallion's own protocols (the phone bridge talking to its
// container), so that callers outside this module never include httplib.h.
#pragma once

#include <string>
#include <string_view>

#include "medallion/core/status.h"

namespace medallion::server {

struct HttpReply {
  int status = 0;
  std::string body;
};

// One request: `method` GET, POST or DELETE; `url` http://host[:port]/path or https://...
// (certificates checked against the system store, or `ca_file`). `bearer` adds
// "Authorization: Bearer". Bodies are bounded to 4 MiB. Errors: invalid_argument for a URL we
// cannot use; unavailable when the server cannot be reached or the answer is cut short.
// Thread-safe (each call has its own connection).
Result<HttpReply> HttpCall(std::string_view method, const std::string& url, const std::string& bearer,
                           const std::string& body = "", const std::string& content_type = "application/json",
                           int timeout_seconds = 15, const std::string& ca_file = "");

}  // namespace medallion::server
