// HTTP load generator for a running `medallion ledger serve` (issue 3 benchmarks).
//
// N threads, one keep-alive httplib::Client each, POST /ledger/v1/entries with a single entry
// (--batch 1) or {"entries": [...]} of --batch entries, until --count entries were acknowledged
// or --seconds elapsed. Every 200 answer is a durable append (the server answers once the
// sequencer's transaction is committed). Loopback only: this is a measurement tool, not a
// load-testing tool for other people's servers. Driven by bench/run_ledger_http.sh.
//
//   ledger_http_load --url http://127.0.0.1:PORT [--threads 8] [--batch 1] [--count 200000]
//                    [--seconds 10] [--json] [--nagle]
#include <httplib.h>

#include <algorithm>
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
};

[[noreturn]] void Usage(const char* why) {
  std::fprintf(stderr,
               "%s\nusage: ledger_http_load --url http://127.0.0.1:PORT [--threads N] [--batch B] "
               "[--count C] [--seconds S] [--json] [--nagle]\n",
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
    else
      Usage(("unknown argument " + a).c_str());
  }
  const bool loopback = o.url.rfind("http://127.0.0.1:", 0) == 0 ||
                        o.url.rfind("http://localhost:", 0) == 0 ||
                        o.url.rfind("http://[::1]:", 0) == 0;
  if (!loopback) Usage("--url must be http://127.0.0.1:PORT (loopback only)");
  if (o.threads < 1 || o.threads > 256) Usage("--threads must be 1..256");
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

}  // namespace

int main(int argc, char** argv) {
  const Options o = Parse(argc, argv);

  // A random 48-hex-digit prefix per run, so repeated runs append new entries.
  std::random_device rd;
  char prefix[49];
  std::snprintf(prefix, sizeof prefix, "%08x%08x%08x%08x%08x%08x", rd(), rd(), rd(), rd(), rd(),
                rd());

  std::atomic<long long> claimed{0};
  std::atomic<bool> stop{false};
  std::vector<ThreadResult> results(o.threads);
  std::vector<std::thread> pool;
  const auto t0 = Clock::now();
  const auto deadline =
      t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));

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
      std::string body;
      while (!stop.load(std::memory_order_relaxed)) {
        // Claim the next `batch` entries of the global count.
        if (claimed.fetch_add(o.batch) >= o.count || Clock::now() >= deadline) break;
        body.clear();
        if (o.batch == 1) {
          body = AnchorEntry(prefix, t, i++);
        } else {
          body = "{\"entries\":[";
          for (int k = 0; k < o.batch; ++k) {
            if (k) body += ',';
            body += AnchorEntry(prefix, t, i++);
          }
          body += "]}";
        }
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
        // Count acknowledged entries without a JSON parse (the client shares the CPU).
        const long long acked =
            o.batch == 1 ? 1 : static_cast<long long>(CountOf(res->body, "\"leaf_hash\""));
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
        "{\"threads\":%d,\"batch\":%d,\"entries\":%lld,\"requests\":%lld,\"failures\":%lld,"
        "\"seconds\":%.3f,"
        "\"appends_per_s\":%.0f,\"requests_per_s\":%.0f,\"p50_ms\":%.3f,\"p99_ms\":%.3f}\n",
        o.threads, o.batch, all.entries, all.requests, all.failures, elapsed, eps, rps, pct(0.5),
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
