// Per-client rate limits for authentication endpoints (client registration, client
// authentication at the token endpoint): a sliding window of event times per key (the client's
// address). Over the limit the answer is 429 rate_limited with Retry-After (RFC 6585 §4), and
// nothing of the request is processed.
//
// Memory is bounded: keys whose window has passed are swept whenever the map has doubled, and
// at most `max_keys` keys are tracked (beyond that, a new key is refused as if over its limit:
// a flood from many addresses cannot grow the map without bound). Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "medallion/core/status.h"

namespace medallion::http {

class RateLimiter {
 public:
  RateLimiter(size_t max_events, std::chrono::seconds window, size_t max_keys = 100'000);

  // Records one event for `key`; resource_exhausted with reason "rate_limited" (and nothing
  // recorded) when `key` already had max_events in the window. `what` names the events in the
  // message ("client registrations").
  Status Count(std::string_view key, std::string_view what);
  // The same check without recording (for events counted only when they fail).
  Status Check(std::string_view key, std::string_view what);
  void Record(std::string_view key);

 private:
  using Clock = std::chrono::steady_clock;
  Status CheckLocked(std::string_view key, std::string_view what, Clock::time_point now);
  void SweepLocked(Clock::time_point now);

  const size_t max_events_;
  const std::chrono::seconds window_;
  const size_t max_keys_;
  std::mutex mu_;
  std::map<std::string, std::deque<Clock::time_point>, std::less<>> events_;
  size_t sweep_above_ = 1024;
};

}  // namespace medallion::http
