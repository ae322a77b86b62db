// HTTP load generator for a running `medallion ledger serve` (issue 3 benchmarks).
//
// N keep-alive connections POST /ledger/v1/entries with a single entry (--batch 1) or
// {"entries": [...]} of --batch entries, one request outstanding per connection, until --count
// entries were acknowledged or --seconds elapsed. Every 200 answer is a durable append (the
// server answers once the sequencer's transaction is committed). Loopback only: this is a
// measurement tool, not a load-testing tool for other people's servers. Driven by
// bench/run_ledger_http.sh.
//
// Two engines drive the same requests:
//   --engine epoll (default): one thread and epoll(7) over all N connections, as wrk and other
//     load generators do, so that the generator's own CPU (it shares the 2 cores with the
//     server) is a few µs per request rather than a thread switch per request;
//   --engine threads: N threads, one blocking httplib::Client each (the figures measured before
//     2026-12-07 in docs/benchmarks.md; ~3x the generator's CPU per request).
//
//   ledger_http_load --url http://127.0.0.1:PORT [--threads 8] [--batch 1] [--count 200000]
//                    [--seconds 10] [--engine epoll|threads] [--per-address 32] [--json]
//                    [--nagle]
#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string url;
  int threads = 8;
  int batch = 1;
  long long count = 200000;
  double seconds = 10;
  bool json = false;
  bool nagle = false;  // --nagle: leave Nagle's algorithm on (httplib's default), to show its cost
  bool epoll = true;   // --engine epoll (default) or threads
  int per_address = 32;  // --per-address: epoll connections per client address (127.0.0.x)
};

[[noreturn]] void Usage(const char* why) {
  std::fprintf(stderr,
               "%s\nusage: ledger_http_load --url http://127.0.0.1:PORT [--threads N] [--batch B] "
               "[--count C] [--seconds S] [--engine epoll|threads] [--per-address N] [--json] "
               "[--nagle]\n",
               why);
  std::exit(2);
}

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Usage(("missing value for " + a).c_str());
      return argv[++i];
    };
    if (a == "--url")
      o.url = value();
    else if (a == "--threads")
      o.threads = std::atoi(value().c_str());
    else if (a == "--batch")
      o.batch = std::atoi(value().c_str());
    else if (a == "--count")
      o.count = std::atoll(value().c_str());
    else if (a == "--seconds")
      o.seconds = std::atof(value().c_str());
    else if (a == "--json")
      o.json = true;
    else if (a == "--nagle")
      o.nagle = true;
    else if (a == "--per-address")
      o.per_address = std::atoi(value().c_str());
    else if (a == "--engine") {
      const std::string e = value();
      if (e != "epoll" && e != "threads") Usage("--engine is epoll or threads");
      o.epoll = e == "epoll";
    }
    else
      Usage(("unknown argument " + a).c_str());
  }
  const bool loopback = o.url.rfind("http://127.0.0.1:", 0) == 0 ||
                        o.url.rfind("http://localhost:", 0) == 0 ||
                        o.url.rfind("http://[::1]:", 0) == 0;
  if (!loopback) Usage("--url must be http://127.0.0.1:PORT (loopback only)");
  if (o.threads < 1 || o.threads > 256) Usage("--threads must be 1..256");
  if (o.per_address < 1 || o.per_address > 256) Usage("--per-address must be 1..256");
  if (o.epoll && o.url.rfind("http://127.0.0.1:", 0) != 0)
    Usage("--engine epoll needs --url http://127.0.0.1:PORT");
  if (o.batch < 1 || o.batch > 100000) Usage("--batch must be 1..100000");
  if (o.count < 1 || o.seconds <= 0 || o.seconds > 600)
    Usage("--count must be > 0 and --seconds in (0, 600]");
  return o;
}

// A valid `anchor` entry, distinct per (run, thread, i).
std::string AnchorEntry(const std::string& prefix, unsigned thread, unsigned long long i) {
  char hash[65];
  std::snprintf(hash, sizeof hash, "%s%04x%012llx", prefix.c_str(), thread & 0xffff,
                i & 0xffffffffffffULL);
  return std::string("{\"type\":\"anchor\",\"v\":1,\"hash\":\"") + hash +
         "\",\"kind\":\"document\",\"ts\":" + std::to_string(1700000000 + (i % 100000000)) + "}";
}

size_t CountOf(const std::string& haystack, const char* needle) {
  size_t n = 0, pos = 0;
  const size_t len = std::strlen(needle);
  while ((pos = haystack.find(needle, pos)) != std::string::npos) {
    ++n;
    pos += len;
  }
  return n;
}

struct ThreadResult {
  long long entries = 0;
  long long requests = 0;
  long long failures = 0;
  std::string first_failure;
  std::vector<double> latency_ms;
};

std::string RequestBody(const Options& o, const std::string& prefix, unsigned t,
                        unsigned long long& i) {
  if (o.batch == 1) return AnchorEntry(prefix, t, i++);
  std::string body = "{\"entries\":[";
  for (int k = 0; k < o.batch; ++k) {
    if (k) body += ',';
    body += AnchorEntry(prefix, t, i++);
  }
  body += "]}";
  return body;
}

// Acknowledged entries of a 200 answer, without a JSON parse (the client shares the CPU).
long long Acknowledged(const Options& o, const std::string& body) {
  return o.batch == 1 ? 1 : static_cast<long long>(CountOf(body, "\"leaf_hash\""));
}

// --engine threads: one blocking httplib::Client per thread.
std::vector<ThreadResult> RunThreads(const Options& o, const std::string& prefix,
                                     Clock::time_point deadline) {
  std::atomic<long long> claimed{0};
  std::atomic<bool> stop{false};
  std::vector<ThreadResult> results(o.threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < o.threads; ++t) {
    pool.emplace_back([&, t] {
      ThreadResult& r = results[t];
      httplib::Client client(o.url);
      client.set_keep_alive(true);
      // Without TCP_NODELAY, httplib's separate header and body writes meet Nagle's algorithm
      // and the peer's delayed ACK: ~40 ms per request on loopback.
      client.set_tcp_nodelay(!o.nagle);
      client.set_connection_timeout(5, 0);
      client.set_read_timeout(60, 0);
      client.set_write_timeout(60, 0);
      unsigned long long i = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        // Claim the next `batch` entries of the global count.
        if (claimed.fetch_add(o.batch) >= o.count || Clock::now() >= deadline) break;
        const std::string body = RequestBody(o, prefix, t, i);
        const auto s = Clock::now();
        auto res = client.Post("/ledger/v1/entries", body, "application/json");
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - s).count();
        ++r.requests;
        if (!res || res->status != 200) {
          ++r.failures;
          if (r.first_failure.empty()) {
            r.first_failure = res ? std::to_string(res->status) + " " + res->body.substr(0, 200)
                                  : "transport error " + httplib::to_string(res.error());
          }
          if (!res) stop = true;  // the server is gone: stop everyone
          continue;
        }
        const long long acked = Acknowledged(o, res->body);
        if (acked != o.batch) {
          ++r.failures;
          if (r.first_failure.empty())
            r.first_failure = "batch partly refused: " + res->body.substr(0, 200);
        }
        r.entries += acked;
        r.latency_ms.push_back(ms);
      }
    });
  }
  for (auto& th : pool) th.join();
  return results;
}

// --engine epoll: one thread, every connection non-blocking under one epoll instance, each with
// one request outstanding (HTTP/1.1 keep-alive, no pipelining). A response is read by its
// Content-Length (the server never chunks these answers); "Connection: close" reconnects.
struct Conn {
  int fd = -1;
  unsigned index = 0;          // the connection's number, for distinct entries
  unsigned long long i = 0;    // entries made on this connection
  std::string out;             // the request being written
  size_t written = 0;
  std::string in;              // the response being read
  Clock::time_point sent;
  bool busy = false;
};

// Connection `index` comes from 127.0.0.(1 + index / per_address): the server's connection guard
// lets one client address hold at most 48 connections (http.h ConnectionLimits), and this load
// stands for many clients, as a ledger node's appends come from many physicians and pharmacies.
int Connect(const sockaddr_in& addr, bool nagle, unsigned index, int per_address) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in from{};
  from.sin_family = AF_INET;
  from.sin_addr.s_addr = htonl(0x7f000001u + index / static_cast<unsigned>(per_address));
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&from), sizeof from) != 0) {
    ::close(fd);
    return -1;
  }
  if (!nagle) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 &&
      errno != EINPROGRESS) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// The length of a complete response at the front of `in` (headers and body), 0 while
// incomplete, -1 if it cannot be read; `status` and `close` are set once complete.
long ResponseLength(const std::string& in, int& status, bool& close, std::string& body) {
  const size_t end = in.find("\r\n\r\n");
  if (end == std::string::npos) return in.size() > 65536 ? -1 : 0;
  if (in.compare(0, 9, "HTTP/1.1 ") != 0 || in.size() < 12) return -1;
  status = std::atoi(in.c_str() + 9);
  long length = -1;
  close = false;
  size_t pos = in.find("\r\n") + 2;
  while (pos < end) {
    const size_t eol = in.find("\r\n", pos);
    std::string line = in.substr(pos, eol - pos);
    for (char& c : line) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (line.rfind("content-length:", 0) == 0) length = std::atol(line.c_str() + 15);
    if (line.rfind("connection:", 0) == 0 && line.find("close") != std::string::npos)
      close = true;
    if (line.rfind("transfer-encoding:", 0) == 0) return -1;
    pos = eol + 2;
  }
  if (length < 0) return -1;
  const size_t total = end + 4 + static_cast<size_t>(length);
  if (in.size() < total) return 0;
  body.assign(in, end + 4, static_cast<size_t>(length));
  return static_cast<long>(total);
}

ThreadResult RunEpoll(const Options& o, const std::string& prefix, Clock::time_point deadline) {
  ThreadResult r;
  const std::string hostport = o.url.substr(std::strlen("http://"));
  const size_t colon = hostport.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::atoi(hostport.c_str() + colon + 1)));
  if (::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr) != 1) Usage("inet_pton");
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) Usage("epoll_create1 failed");
  std::vector<Conn> conns(o.threads);
  long long claimed = 0;
  bool stop = false;
  auto fail = [&](const std::string& why) {
    ++r.failures;
    if (r.first_failure.empty()) r.first_failure = why;
  };
  auto open = [&](Conn& c) {
    c.fd = Connect(addr, o.nagle, c.index, o.per_address);
    if (c.fd < 0) return false;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
    ev.data.u32 = c.index;
    return ::epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev) == 0;
  };
  // Writes what is left of the request; false if the connection failed.
  auto flush = [&](Conn& c) {
    while (c.written < c.out.size()) {
      const ssize_t n = ::send(c.fd, c.out.data() + c.written, c.out.size() - c.written,
                               MSG_NOSIGNAL);
      if (n > 0) {
        c.written += static_cast<size_t>(n);
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        return true;
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        return false;
      }
    }
    return true;
  };
  auto next = [&](Conn& c) {
    if (stop || claimed >= o.count || Clock::now() >= deadline) {
      c.busy = false;
      return true;
    }
    claimed += o.batch;
    const std::string body = RequestBody(o, prefix, c.index, c.i);
    c.out = "POST /ledger/v1/entries HTTP/1.1\r\nHost: " + hostport +
            "\r\nContent-Type: application/json\r\nContent-Length: " +
            std::to_string(body.size()) + "\r\n\r\n" + body;
    c.written = 0;
    c.in.clear();
    c.busy = true;
    c.sent = Clock::now();
    ++r.requests;
    return flush(c);
  };
  for (int t = 0; t < o.threads; ++t) {
    conns[t].index = static_cast<unsigned>(t);
    if (!open(conns[t])) Usage("cannot connect");
    if (!next(conns[t])) Usage("cannot send");
  }
  std::vector<epoll_event> events(o.threads);
  std::string body;
  char buf[65536];
  for (;;) {
    bool any = false;
    for (const Conn& c : conns) any = any || c.busy;
    if (!any) break;
    const int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), 1000);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) Usage("epoll_wait failed");
    if (n == 0 && Clock::now() > deadline + std::chrono::seconds(60)) {
      fail("timeout: no answer within 60 s after the deadline");
      break;
    }
    for (int e = 0; e < n; ++e) {
      Conn& c = conns[events[e].data.u32];
      if (!c.busy) continue;
      bool broken = false;
      if ((events[e].events & EPOLLOUT) && !flush(c)) broken = true;
      while (!broken) {
        const ssize_t got = ::recv(c.fd, buf, sizeof buf, 0);
        if (got > 0) {
          c.in.append(buf, static_cast<size_t>(got));
          continue;
        }
        if (got < 0 && errno == EINTR) continue;
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        broken = true;  // 0: the server closed; < 0: an error
      }
      int status = 0;
      bool close = false;
      const long len = c.in.empty() ? 0 : ResponseLength(c.in, status, close, body);
      if (len < 0 || (len == 0 && broken)) {
        fail(len < 0 ? "unreadable response" : "transport error: connection closed or failed");
        stop = true;  // as the threads engine: a failed connection stops the run
        c.busy = false;
        continue;
      }
      if (len == 0) continue;
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - c.sent).count();
      if (status != 200) {
        fail(std::to_string(status) + " " + body.substr(0, 200));
      } else {
        const long long acked = Acknowledged(o, body);
        if (acked != o.batch) fail("batch partly refused: " + body.substr(0, 200));
        r.entries += acked;
        r.latency_ms.push_back(ms);
      }
      if (close || broken) {
        ::close(c.fd);
        if (!open(c)) {
          fail("cannot reconnect");
          c.busy = false;
          continue;
        }
      }
      if (!next(c)) {
        fail("transport error: send failed");
        stop = true;
        c.busy = false;
      }
    }
  }
  for (Conn& c : conns)
    if (c.fd >= 0) ::close(c.fd);
  ::close(ep);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = Parse(argc, argv);

  // A random 48-hex-digit prefix per run, so repeated runs append new entries.
  std::random_device rd;
  char prefix[49];
  std::snprintf(prefix, sizeof prefix, "%08x%08x%08x%08x%08x%08x", rd(), rd(), rd(), rd(), rd(),
                rd());
  const auto t0 = Clock::now();
  const auto deadline =
      t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  std::vector<ThreadResult> results;
  if (o.epoll)
    results.push_back(RunEpoll(o, prefix, deadline));
  else
    results = RunThreads(o, prefix, deadline);
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();

  ThreadResult all;
  for (auto& r : results) {
    all.entries += r.entries;
    all.requests += r.requests;
    all.failures += r.failures;
    if (all.first_failure.empty()) all.first_failure = r.first_failure;
    all.latency_ms.insert(all.latency_ms.end(), r.latency_ms.begin(), r.latency_ms.end());
  }
  std::sort(all.latency_ms.begin(), all.latency_ms.end());
  auto pct = [&](double p) {
    if (all.latency_ms.empty()) return 0.0;
    return all.latency_ms[std::min(all.latency_ms.size() - 1,
                                   static_cast<size_t>(p * all.latency_ms.size()))];
  };
  const double eps = all.entries / elapsed, rps = all.requests / elapsed;
  if (o.json) {
    std::printf(
        "{\"engine\":\"%s\",\"threads\":%d,\"batch\":%d,\"entries\":%lld,\"requests\":%lld,\"failures\":%lld,"
        "\"seconds\":%.3f,"
        "\"appends_per_s\":%.0f,\"requests_per_s\":%.0f,\"p50_ms\":%.3f,\"p99_ms\":%.3f}\n",
        o.epoll ? "epoll" : "threads", o.threads, o.batch, all.entries, all.requests, all.failures,
        elapsed, eps, rps, pct(0.5),
        pct(0.99));
  } else {
    std::printf("threads %d  batch %d  entries %lld  requests %lld  failures %lld  %.2f s\n",
                o.threads, o.batch, all.entries, all.requests, all.failures, elapsed);
    std::printf("durable appends/s %.0f  requests/s %.0f  latency p50 %.3f ms  p99 %.3f ms\n", eps,
                rps, pct(0.5), pct(0.99));
  }
  if (all.failures > 0) std::fprintf(stderr, "first failure: %s\n", all.first_failure.c_str());
  return all.failures > 0 ? 1 : 0;
}
