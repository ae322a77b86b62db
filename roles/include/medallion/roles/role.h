// A served role: its modules assembled behind one HTTP listener, started and stopped as an
// object (no global state, no signal handling: the caller decides when to stop).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "medallion/core/status.h"
#include "medallion/roles/options.h"

namespace httplib {
class Server;
}

namespace medallion::roles {

class Role {
 public:
  Role() = default;
  Role(const Role&) = delete;
  Role& operator=(const Role&) = delete;
  // REQUIRES: a derived role calls Stop() in its own destructor, before its members go.
  virtual ~Role();

  // Builds the role (opens its databases, unlocks its keys), binds its listener and serves on a
  // thread of its own. Errors: the role's (invalid_argument for unusable options, ...); a port
  // already in use is invalid_argument "the port is already in use". REQUIRES: called once.
  virtual Status Start() = 0;
  // Stops serving and waits for the listener's thread; the role's state stays open. Idempotent;
  // safe before Start().
  virtual void Stop();

  // After a successful Start(): the bound port and the base URL ("http://HOST:PORT").
  int port() const { return port_; }
  const std::string& url() const { return url_; }
  // What the role announces once started (its role name, keys, origin, ...; no URL).
  const nlohmann::json& banner() const { return banner_; }

 protected:
  // Tests and fuzz targets (tests/fuzz/roles_http_fuzz.cpp) reach a started role's listener
  // through this to serve raw requests in process (httplib's own parsing, no socket).
  friend struct RoleTestAccess;

  // A configured server (http.h ConfigureServer): TLS with both files, plain HTTP with neither.
  static Result<std::unique_ptr<httplib::Server>> MakeServer(const TlsFiles& tls);
  // Binds `server` to `listen` (HOST:PORT; port 0 picks one) and keeps it as the role's
  // listener; sets port() and url(). Errors: as BindServer (http.h).
  Status Bind(std::unique_ptr<httplib::Server> server, const std::string& listen);
  // Starts serving the bound listener on the role's thread. REQUIRES: Bind succeeded.
  void Serve();
  // The bound listener, for registering routes between Bind and Serve. REQUIRES: Bind succeeded.
  httplib::Server& listener() { return *http_; }

  nlohmann::json banner_;

 private:
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  std::atomic<bool> listen_ended_{false};
  int port_ = 0;
  std::string url_;
};

}  // namespace medallion::roles
