// The connection guard (connection_guard.h): a scanner thread over the process's accepted
// sockets, fed with progress marks by each server's pre-routing handler and logger.
#include "connection_guard.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>
#include <vector>

namespace medallion::http {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kScanInterval{200};

struct Key {
  int local_port = 0;
  std::string peer;
  int peer_port = 0;
  bool operator<(const Key& o) const {
    return std::tie(local_port, peer, peer_port) < std::tie(o.local_port, o.peer, o.peer_port);
  }
  bool operator==(const Key& o) const {
    return local_port == o.local_port && peer == o.peer && peer_port == o.peer_port;
  }
};

struct Conn {
  int fd = -1;              // -1 until a scan has found it
  bool exchanging = false;  // between RequestReceived and ResponseWritten
  Clock::time_point since;  // start of the current wait (request) or exchange
  Clock::time_point first_seen;
  uint64_t generation = 0;  // the last scan that found it
  bool closed = false;
  bool close_after = false;  // shut down once its response is written (CloseAfterResponse)
};

struct Listener {
  int fd = -1;
  ConnectionLimits limits;
};

// "127.0.0.1" / "::1" and the port of a socket address, as httplib formats them.
bool Describe(const sockaddr_storage& sa, socklen_t len, std::string* host, int* port) {
  char buf[NI_MAXHOST];
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&sa), len, buf, sizeof buf, nullptr, 0,
                  NI_NUMERICHOST) != 0) {
    return false;
  }
  *host = buf;
  if (sa.ss_family == AF_INET) {
    *port = ntohs(reinterpret_cast<const sockaddr_in*>(&sa)->sin_port);
  } else if (sa.ss_family == AF_INET6) {
    *port = ntohs(reinterpret_cast<const sockaddr_in6*>(&sa)->sin6_port);
  } else {
    return false;
  }
  return true;
}

// The key of a connected TCP socket (local port, peer address and port), or false.
bool KeyOf(int fd, Key* key) {
  sockaddr_storage local{}, peer{};
  socklen_t llen = sizeof local, plen = sizeof peer;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &llen) != 0) return false;
  if (local.ss_family != AF_INET && local.ss_family != AF_INET6) return false;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &plen) != 0) return false;
  std::string ignored;
  return Describe(local, llen, &ignored, &key->local_port) &&
         Describe(peer, plen, &key->peer, &key->peer_port);
}

bool IsListening(int fd, int port) {
  int accepting = 0;
  socklen_t len = sizeof accepting;
  if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) != 0 || !accepting) return false;
  sockaddr_storage local{};
  socklen_t llen = sizeof local;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &llen) != 0) return false;
  std::string host;
  int bound = 0;
  return Describe(local, llen, &host, &bound) && bound == port;
}

}  // namespace

class ConnectionGuard::Impl {
 public:
  void Watch(int listen_fd, int port, ConnectionLimits limits) {
    std::lock_guard<std::mutex> lock(mu_);
    listeners_[port] = Listener{listen_fd, limits};
    if (!started_) {
      started_ = true;
      std::thread([this] { Run(); }).detach();
    }
  }

  void Mark(int local_port, const std::string& addr, int port, bool exchanging) {
    std::lock_guard<std::mutex> lock(mu_);
    if (listeners_.count(local_port) == 0) return;
    const auto now = Clock::now();
    auto [it, inserted] = conns_.try_emplace(Key{local_port, addr, port});
    if (inserted) {
      it->second.first_seen = now;
      it->second.generation = generation_;
    }
    it->second.exchanging = exchanging;
    it->second.since = now;
  }

  void CloseAfter(int local_port, const std::string& addr, int port) {
    std::lock_guard<std::mutex> lock(mu_);
    if (listeners_.count(local_port) == 0) return;
    auto it = conns_.find(Key{local_port, addr, port});
    if (it != conns_.end()) it->second.close_after = true;
  }

  size_t closed() const { return closed_.load(); }

 private:
  void Run() {
    for (;;) {
      std::this_thread::sleep_for(kScanInterval);
      Scan();
    }
  }

  // One pass: find the accepted sockets, drop what has gone, close what is over a limit.
  void Scan() {
    std::vector<std::pair<int, Key>> found;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto it = listeners_.begin(); it != listeners_.end();) {
        it = IsListening(it->second.fd, it->first) ? std::next(it) : listeners_.erase(it);
      }
      if (listeners_.empty()) return;
    }
    if (DIR* d = opendir("/proc/self/fd")) {
      const int self = dirfd(d);
      while (dirent* e = readdir(d)) {
        char* end = nullptr;
        const long fd = std::strtol(e->d_name, &end, 10);
        if (end == e->d_name || *end != '\0' || fd == self) continue;
        struct stat st;
        if (fstat(static_cast<int>(fd), &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
        Key key;
        if (KeyOf(static_cast<int>(fd), &key))
          found.emplace_back(static_cast<int>(fd), std::move(key));
      }
      closedir(d);
    }
    std::vector<std::pair<int, Key>> to_close;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++generation_;
      const auto now = Clock::now();
      for (auto& [fd, key] : found) {
        auto l = listeners_.find(key.local_port);
        if (l == listeners_.end() || l->second.fd == fd) continue;
        auto [it, inserted] = conns_.try_emplace(key);
        if (inserted || it->second.fd != fd) {
          if (inserted) {
            it->second.since = now;
            it->second.first_seen = now;
          }
          it->second.fd = fd;
        }
        it->second.generation = generation_;
      }
      // Forget connections that have gone (a mark may precede the first scan by one round).
      for (auto it = conns_.begin(); it != conns_.end();) {
        it = generation_ - it->second.generation > 1 ? conns_.erase(it) : std::next(it);
      }
      Enforce(now, &to_close);
    }
    for (const auto& [fd, key] : to_close) {
      Key now_key;
      // The descriptor may have been closed and reused since the scan: only the same
      // connection is shut down.
      if (KeyOf(fd, &now_key) && now_key == key) {
        ::shutdown(fd, SHUT_RDWR);
        closed_.fetch_add(1);
      }
    }
  }

  // REQUIRES: mu_ held.
  void Enforce(Clock::time_point now, std::vector<std::pair<int, Key>>* to_close) {
    std::map<std::pair<int, std::string>, std::vector<std::pair<Clock::time_point, const Key*>>>
        by_address;
    std::map<int, std::vector<std::pair<Clock::time_point, const Key*>>> by_listener;
    auto close = [&](const Key& key, Conn& c) {
      if (c.closed || c.fd < 0) return;
      c.closed = true;
      to_close->emplace_back(c.fd, key);
    };
    for (auto& [key, c] : conns_) {
      if (c.fd < 0 || c.closed || c.generation != generation_) continue;
      const ConnectionLimits& limits = listeners_[key.local_port].limits;
      const auto allowed = c.exchanging ? limits.exchange_timeout : limits.request_timeout;
      if ((c.close_after && !c.exchanging) || now - c.since > allowed) {
        close(key, c);
        continue;
      }
      by_address[{key.local_port, key.peer}].emplace_back(c.first_seen, &key);
      by_listener[key.local_port].emplace_back(c.first_seen, &key);
    }
    auto shed = [&](std::vector<std::pair<Clock::time_point, const Key*>>& list,
                    const ConnectionLimits& limits, size_t keep) {
      if (list.size() <= keep) return;
      // The oldest keep their place; of the newest, those open for shed_after go (a younger one
      // may be a burst queued for a worker; a later scan sees it again if it stays).
      std::sort(list.begin(), list.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      for (size_t i = keep; i < list.size(); ++i) {
        Conn& c = conns_[*list[i].second];
        if (now - c.first_seen >= limits.shed_after) close(*list[i].second, c);
      }
    };
    for (auto& [addr, list] : by_address) {
      const ConnectionLimits& limits = listeners_[addr.first].limits;
      shed(list, limits, limits.max_per_address);
    }
    for (auto& [port, list] : by_listener) {
      list.erase(std::remove_if(list.begin(), list.end(),
                                [&](const auto& e) { return conns_[*e.second].closed; }),
                 list.end());
      const ConnectionLimits& limits = listeners_[port].limits;
      shed(list, limits, limits.max_total);
    }
  }

  std::mutex mu_;
  bool started_ = false;
  std::map<int, Listener> listeners_;  // by port
  std::map<Key, Conn> conns_;
  uint64_t generation_ = 0;
  std::atomic<size_t> closed_{0};
};

ConnectionGuard::ConnectionGuard() : impl_(new Impl) {}

ConnectionGuard& ConnectionGuard::Instance() {
  // Never destroyed: the scanner thread runs until the process exits.
  static ConnectionGuard* guard = new ConnectionGuard;
  return *guard;
}

void ConnectionGuard::Watch(int listen_fd, int port, ConnectionLimits limits) {
  impl_->Watch(listen_fd, port, limits);
}

void ConnectionGuard::RequestReceived(int local_port, const std::string& remote_addr,
                                      int remote_port) {
  impl_->Mark(local_port, remote_addr, remote_port, true);
}

void ConnectionGuard::ResponseWritten(int local_port, const std::string& remote_addr,
                                      int remote_port) {
  impl_->Mark(local_port, remote_addr, remote_port, false);
}

void ConnectionGuard::CloseAfterResponse(int local_port, const std::string& remote_addr,
                                         int remote_port) {
  impl_->CloseAfter(local_port, remote_addr, remote_port);
}

size_t ConnectionGuard::closed_count() const { return impl_->closed(); }

}  // namespace medallion::http
