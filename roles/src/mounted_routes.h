// Routes served under a path prefix of another server: a role registers its routes on a
// MountedRoutes (an httplib::Server that is never bound) exactly as on a listener of its own,
// and the shared server hands each request under the prefix to it, in the shared server's
// worker, with the prefix taken off the path.
//
// cpp-httplib (0.11) has no sub-router; its protected process_request() serves one request
// from any Stream, so the request is replayed from memory (headers and the body the shared
// server already read) and the answer is taken from the response the inner server logs. An
// answer that streams (a content provider: Server-Sent Events) cannot be replayed; its route is
// registered on the shared server itself (GetStreamed).
#pragma once

#include <httplib.h>

#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "medallion/core/status.h"

namespace medallion::roles {

class MountedRoutes : public httplib::Server {
 public:
  // With Medallion's server defaults (ConfigureServer: JSON errors, body limit, exception
  // handler); the logger is this class's own.
  MountedRoutes();

  // Registers `handler` on `server` for `pattern` with GET, POST, PUT, PATCH, DELETE and OPTIONS.
  static void RouteEveryMethod(httplib::Server& server, const std::string& pattern,
                               const Handler& handler);

  // OK if `prefix` can be mounted: "/" then letters, digits, '-', '_' and inner '/'.
  // Errors: invalid_argument.
  static Status CheckPrefix(const std::string& prefix);

  // Registers on `outer`, for GET, POST, PUT, PATCH, DELETE and OPTIONS, the paths `prefix` and
  // `prefix`/..., answered by this server's routes. REQUIRES: CheckPrefix(prefix) is OK; this
  // object outlives `outer`'s serving.
  void MountOn(httplib::Server& outer, const std::string& prefix);

  // Registers GET `pattern` to be answered on the shared server itself under the prefix, ahead
  // of the replayed routes: for an answer that streams (a content provider, e.g. Server-Sent
  // Events), which a replay from memory cannot carry. The handler sees the shared server's
  // request: its path has the prefix, its `matches` are those of prefix + pattern, and this
  // server's pre-routing handler does not run for it. Call before MountOn.
  void GetStreamed(const std::string& pattern, Handler handler);

  // Serves one request of another server under `prefix`, as the routes MountOn registers would:
  // a GET whose rest of the path matches a streamed pattern goes to that handler, anything else
  // is replayed. For a host that routes by name itself (one route for every container).
  void Serve(const std::string& prefix, const httplib::Request& req, httplib::Response& res);

 private:
  struct Streamed {
    std::string pattern;
    std::regex compiled;  // for Serve, compiled once
    Handler handler;
  };
  std::vector<Streamed> streamed_;

  void Dispatch(const std::string& prefix, const httplib::Request& req, httplib::Response& res);
};

}  // namespace medallion::roles
