// The HTTP status a uma::Reply goes out with, for the uma tests that state the wire's numbers:
// the conversion of server/uma_http.cpp (Send), through the same Status → HTTP table. The one
// place the uma tests include the HTTP module's header.
#pragma once

#include "medallion/http/http.h"
#include "medallion/uma/authorization_server.h"

namespace medallion::testing {

inline int Http(const uma::Reply& reply) {
  if (!reply.ok()) return http::HttpStatusFor(reply.status);
  switch (reply.success) {
    case uma::Reply::Success::kCreated:
      return 201;
    case uma::Reply::Success::kEmpty:
      return 204;
    case uma::Reply::Success::kOk:
      break;
  }
  return 200;
}

}  // namespace medallion::testing
