#include "observe.h"

#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>

#include "medallion/core/bytes.h"
#include "medallion/core/env.h"
#include "medallion/core/metrics.h"

namespace medallion::http {
namespace {

struct RequestContext {
  bool active = false;
  bool unmatched = false;
  std::chrono::steady_clock::time_point start;
  std::string id;
};

thread_local RequestContext t_request;

bool LogEnabled() {
  static const bool enabled = [] {
    const char* v = std::getenv("MEDALLION_LOG");
    return v == nullptr || std::string_view(v) != "off";
  }();
  return enabled;
}

std::string NewRequestId() {
  // Request ids are operational, not protocol: the operating system's CSPRNG directly (core's
  // SystemRng), as the connection guard uses the steady clock directly.
  // Drawn 32 ids at a time per thread: one getrandom(2) per 32 requests rather than per request
  // (an id is an operational label, not a secret).
  static SystemRng rng;
  thread_local uint8_t pool[256];
  thread_local size_t used = sizeof pool;
  if (used == sizeof pool) {
    rng.Fill(pool);
    used = 0;
  }
  uint8_t raw[8];
  std::memcpy(raw, pool + used, sizeof raw);
  used += sizeof raw;
  static const char kHex[] = "0123456789abcdef";
  std::string id(16, '0');
  for (size_t i = 0; i < sizeof raw; ++i) {
    id[2 * i] = kHex[raw[i] >> 4];
    id[2 * i + 1] = kHex[raw[i] & 15];
  }
  return id;
}

// UTC with milliseconds, RFC 3339: the operator's clock for log lines, not protocol time. The
// date and time of day are formatted once per second and thread.
std::string NowRfc3339() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  thread_local std::time_t cached_secs = -1;
  thread_local char cached[24];
  thread_local size_t cached_len = 0;
  if (secs != cached_secs) {
    std::tm tm{};
    gmtime_r(&secs, &tm);
    cached_len = std::strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
    cached_secs = secs;
  }
  char buf[40];
  std::memcpy(buf, cached, cached_len);
  std::snprintf(buf + cached_len, sizeof buf - cached_len, ".%03dZ", static_cast<int>(ms.count()));
  return buf;
}

// Text (whole lines) to stderr in one write(2), so that lines of concurrent requests never
// interleave.
void WriteText(const std::string& text) {
  size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = ::write(STDERR_FILENO, text.data() + off, text.size() - off);
    if (n <= 0) return;  // a closed or full stderr must not stop the server
    off += static_cast<size_t>(n);
  }
}

// One JSON line to stderr (WriteText).
void WriteLine(const nlohmann::ordered_json& line) {
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text += '\n';
  WriteText(text);
}

bool IsLoopback(const std::string& addr) {
  return addr.rfind("127.", 0) == 0 || addr == "::1" || addr.rfind("::ffff:127.", 0) == 0;
}

bool MetricsAllowed(const httplib::Request& req) {
  const char* token = std::getenv("MEDALLION_METRICS_TOKEN");
  if (token != nullptr && *token != '\0') {
    const std::string expected = std::string("Bearer ") + token;
    const std::string given = req.get_header_value("Authorization");
    return ConstantTimeEqual(
        ByteView(reinterpret_cast<const uint8_t*>(given.data()), given.size()),
        ByteView(reinterpret_cast<const uint8_t*>(expected.data()), expected.size()));
  }
  return IsLoopback(req.remote_addr);
}

// A FHIR resource type or similar fixed word of an API in CamelCase ("MedicationRequest"):
// letters only, upper case first, at most 24 bytes.
bool IsTypeName(std::string_view seg) {
  if (seg.empty() || seg.size() > 24 || seg[0] < 'A' || seg[0] > 'Z') return false;
  return std::all_of(seg.begin(), seg.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); });
}

bool KeepSegment(std::string_view seg) {
  if (IsTypeName(seg)) return true;
  if (seg.empty() || seg.size() > 24) return seg.empty();
  if (!((seg[0] >= 'a' && seg[0] <= 'z') || seg[0] == '.')) return false;
  int digits = 0;
  for (char c : seg) {
    const bool lower = c >= 'a' && c <= 'z';
    const bool digit = c >= '0' && c <= '9';
    if (!lower && !digit && c != '.' && c != '-' && c != '_') return false;
    if (digit) ++digits;
  }
  return digits < 4;
}

// Open descriptors, and of them those on SQLite database files (not their -wal/-shm/-journal).
std::pair<double, double> CountOpenFiles() {
  double fds = 0, databases = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    ++fds;
    std::error_code link_ec;
    const std::string target = std::filesystem::read_symlink(entry.path(), link_ec).string();
    if (link_ec) continue;
    auto ends = [&](std::string_view suffix) {
      return target.size() >= suffix.size() &&
             target.compare(target.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    if (ends(".sqlite") || ends(".db") || ends(".sqlite3")) ++databases;
  }
  return {fds, databases};
}

double ResidentBytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long size = 0, resident = 0;
  const int n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  return n == 2 ? static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) : 0;
}

}  // namespace

void RegisterProcessMetrics() {
  static std::once_flag once;
  std::call_once(once, [] {
    auto& r = metrics::Registry::Default();
    r.GaugeFunction("process_resident_memory_bytes", "Resident memory size in bytes", {},
                    ResidentBytes);
    r.GaugeFunction("process_open_fds", "Number of open file descriptors", {},
                    [] { return CountOpenFiles().first; });
    r.GaugeFunction("medallion_open_databases", "Open SQLite database files", {},
                    [] { return CountOpenFiles().second; });
  });
}

std::string RouteTemplate(std::string_view path) {
  std::string out;
  size_t index = 0;
  bool hosted = false;
  if (path.empty() || path[0] != '/') return ":id";
  size_t pos = 1;
  while (pos <= path.size()) {
    const size_t slash = path.find('/', pos);
    const size_t end = slash == std::string_view::npos ? path.size() : slash;
    const std::string_view seg = path.substr(pos, end - pos);
    out += '/';
    if (index == 0 && seg == "c") hosted = true;
    if (index == 1 && hosted) {
      out += ":name";
    } else {
      out += KeepSegment(seg) ? std::string(seg) : std::string(":id");
    }
    ++index;
    if (slash == std::string_view::npos || index > 16) break;
    pos = slash + 1;
  }
  return out;
}

bool BeginRequest(const httplib::Request& req, httplib::Response& res) {
  if (t_request.active) return false;  // a replay inside another request's handler
  t_request.active = true;
  t_request.unmatched = false;
  t_request.start = std::chrono::steady_clock::now();
  t_request.id = NewRequestId();
  res.set_header("X-Request-Id", t_request.id);
  if (req.path != "/metrics" || (req.method != "GET" && req.method != "HEAD")) return false;
  if (!MetricsAllowed(req)) {
    res.status = 403;
    res.set_content(R"({"error":"access_denied","error_description":"metrics are served to loopback clients or with the metrics token"})",
                    "application/json");
    return true;
  }
  res.status = 200;
  res.set_content(metrics::Registry::Default().Render(), "text/plain; version=0.0.4; charset=utf-8");
  return true;
}

void MarkUnmatched() { t_request.unmatched = true; }

std::string CurrentRequestId() { return t_request.active ? t_request.id : std::string("-"); }

void EndRequest(const httplib::Request& req, const httplib::Response& res) {
  // A request that never reached routing (malformed, over the body limit) has no context yet.
  const bool had_context = t_request.active;
  const auto now = std::chrono::steady_clock::now();
  const double seconds =
      had_context ? std::chrono::duration<double>(now - t_request.start).count() : 0.0;
  const std::string id = had_context ? t_request.id : NewRequestId();
  const std::string route =
      !had_context ? "(unrouted)" : t_request.unmatched ? "(unmatched)" : RouteTemplate(req.path);
  t_request.active = false;
  // Methods outside the standard set are recorded as OTHER: the label set stays bounded.
  static const char* const kMethods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
  std::string method = "OTHER";
  for (const char* m : kMethods) {
    if (req.method == m) method = m;
  }
  const std::string status = std::to_string(res.status);
  auto& registry = metrics::Registry::Default();
  registry.Add("medallion_http_requests_total", "HTTP requests answered, by route template, method and status",
               {{"route", route}, {"method", method}, {"status", status}});
  registry.Observe("medallion_http_request_duration_seconds",
                   "Time from the request's headers to its response, by route template and method",
                   {{"route", route}, {"method", method}}, seconds, metrics::LatencyBuckets());
  if (!LogEnabled()) return;
  // The access line, formatted by hand (a JSON tree and its dump cost more than the rest of
  // this function): every value is ASCII with nothing to escape — the clock, a hex id, a method
  // from kMethods, a number — and so is a route template of [A-Za-z0-9._-] segments and ":id" or
  // ":name" (RouteTemplate, KeepSegment); a route that is anything else is escaped by the JSON
  // library.
  const bool plain = std::all_of(route.begin(), route.end(), [](char c) {
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
  });
  const double latency_ms = std::round(seconds * 1e6) / 1e3;
  std::string line;
  line.reserve(160 + route.size());
  line += "{\"time\":\"";
  line += NowRfc3339();
  line += res.status >= 500 ? "\",\"level\":\"error\",\"request_id\":\""
                            : "\",\"level\":\"info\",\"request_id\":\"";
  line += id;
  line += "\",\"method\":\"";
  line += method;
  line += "\",\"route\":";
  if (plain) {
    line += '"';
    line += route;
    line += '"';
  } else {
    line += nlohmann::json(route).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  char tail[64];
  std::snprintf(tail, sizeof tail, ",\"status\":%d,\"latency_ms\":%.3f}\n", res.status,
                latency_ms);
  line += tail;
  WriteText(line);
}

void LogInternalError(std::string_view what) {
  metrics::Registry::Default().Add("medallion_http_internal_errors_total",
                                   "Exceptions in handlers answered with 500", {});
  if (!LogEnabled()) return;
  WriteLine({{"time", NowRfc3339()},
             {"level", "error"},
             {"request_id", CurrentRequestId()},
             {"event", "internal_error"},
             {"detail", std::string(what.substr(0, 200))}});
}

}  // namespace medallion::http
