// The connection guard: bounds what one client can hold of a server's worker pool.
//
// cpp-httplib (0.11, a compiled Debian library) gives each accepted connection a worker until
// the connection ends, and its read timeout restarts with every line received, so a client that
// sends a header line every few seconds holds a worker for ever, and 70 such clients hold all of
// them. The library offers no per-connection hook, so the guard watches from outside:
//
//   * every kScanInterval it lists the process's sockets (/proc/self/fd) that were accepted by a
//     registered listener (local address = the listener's, a peer address);
//   * each server reports progress through its pre-routing handler (the request line and headers
//     are in) and its logger (the response is written), keyed by the connection's addresses;
//   * a connection waiting for a request — from accept or from its previous response — gets
//     `request_timeout` to deliver the request line and headers; a request gets
//     `exchange_timeout` from then until its response is written (body, handler and response;
//     the longest long poll is 30 s);
//   * a client address may hold `max_per_address` connections and a listener `max_total`; the
//     newest connections beyond either are closed at once.
//
// Closing means shutdown(2): the worker's blocked read or write fails, and the worker closes
// the socket and moves on. Before it shuts a socket down the guard re-reads both of its
// addresses, so a descriptor reused for another connection in the meantime is left alone.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "medallion/http/http.h"

namespace medallion::http {

class ConnectionGuard {
 public:
  // The process-wide guard (its thread starts with the first Watch).
  static ConnectionGuard& Instance();

  // Watch the connections accepted by the listening socket `listen_fd` (bound to `port`).
  // A listener that is closed is forgotten at the next scan.
  void Watch(int listen_fd, int port, ConnectionLimits limits);

  // Progress reports from a server's handlers (addresses as httplib reports them).
  void RequestReceived(int local_port, const std::string& remote_addr, int remote_port);
  void ResponseWritten(int local_port, const std::string& remote_addr, int remote_port);

  // The connection's request was refused before its body was read: the connection is shut
  // down at the first scan after its response is written (≤ kScanInterval), so that the worker
  // does not wait for the next request on a stream whose next bytes are the unread body.
  void CloseAfterResponse(int local_port, const std::string& remote_addr, int remote_port);

  // Connections shut down so far (for tests and logs).
  size_t closed_count() const;

  class Impl;

 private:
  ConnectionGuard();
  Impl* impl_;
};

}  // namespace medallion::http
