// The listener of a served role.
#include "medallion/roles/role.h"

#include <httplib.h>

#include <chrono>

#include "medallion/http/http.h"

namespace medallion::roles {

Role::~Role() { Stop(); }

void Role::Stop() {
  if (!thread_.joinable()) return;
  // httplib's stop() does nothing before the listener runs: wait until it does (or has ended).
  while (!http_->is_running() && !listen_ended_)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  http_->stop();
  thread_.join();
}

Result<std::unique_ptr<httplib::Server>> Role::MakeServer(const TlsFiles& tls) {
  return http::MakeHttpServer(tls.cert, tls.key);
}

Status Role::Bind(std::unique_ptr<httplib::Server> server, const std::string& listen) {
  MDL_ASSIGN_OR_RETURN(http::ListenAddress addr, http::ParseListenAddress(listen));
  MDL_ASSIGN_OR_RETURN(int port, http::BindServer(*server, addr.host, addr.port));
  const bool tls = dynamic_cast<httplib::SSLServer*>(server.get()) != nullptr;
  port_ = port;
  url_ = std::string(tls ? "https://" : "http://") + addr.host + ":" + std::to_string(port);
  http_ = std::move(server);
  return Status::Ok();
}

void Role::Serve() {
  httplib::Server* s = http_.get();
  thread_ = std::thread([this, s] {
    s->listen_after_bind();
    listen_ended_ = true;
  });
}

}  // namespace medallion::roles
