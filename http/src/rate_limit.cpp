#include "medallion/http/rate_limit.h"

#include <algorithm>

namespace medallion::http {

RateLimiter::RateLimiter(size_t max_events, std::chrono::seconds window, size_t max_keys)
    : max_events_(max_events), window_(window), max_keys_(max_keys) {}

void RateLimiter::SweepLocked(Clock::time_point now) {
  for (auto it = events_.begin(); it != events_.end();) {
    if (it->second.empty() || it->second.back() + window_ <= now) {
      it = events_.erase(it);
    } else {
      ++it;
    }
  }
  sweep_above_ = std::max<size_t>(1024, 2 * events_.size());
}

Status RateLimiter::CheckLocked(std::string_view key, std::string_view what,
                                Clock::time_point now) {
  if (events_.size() > sweep_above_) SweepLocked(now);
  auto it = events_.find(key);
  if (it == events_.end()) {
    if (events_.size() >= max_keys_) {
      return Status::WithReason(StatusCode::kResourceExhausted, "rate_limited",
                                "too many " + std::string(what) + " from too many clients; try again later");
    }
    return Status::Ok();
  }
  auto& times = it->second;
  while (!times.empty() && times.front() + window_ <= now) times.pop_front();
  if (times.size() >= max_events_) {
    const auto retry =
        std::chrono::duration_cast<std::chrono::seconds>(times.front() + window_ - now).count() + 1;
    return Status::WithReason(StatusCode::kResourceExhausted, "rate_limited",
                              "too many " + std::string(what) + " from this client; try again in " +
                                  std::to_string(retry) + " s");
  }
  return Status::Ok();
}

Status RateLimiter::Check(std::string_view key, std::string_view what) {
  std::lock_guard<std::mutex> lock(mu_);
  return CheckLocked(key, what, Clock::now());
}

void RateLimiter::Record(std::string_view key) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = Clock::now();
  auto it = events_.find(key);
  if (it == events_.end()) {
    if (events_.size() >= max_keys_) return;
    it = events_.emplace(std::string(key), std::deque<Clock::time_point>()).first;
  }
  it->second.push_back(now);
  while (it->second.size() > max_events_) it->second.pop_front();
}

Status RateLimiter::Count(std::string_view key, std::string_view what) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = Clock::now();
  MDL_RETURN_IF_ERROR(CheckLocked(key, what, now));
  auto it = events_.find(key);
  if (it == events_.end()) it = events_.emplace(std::string(key), std::deque<Clock::time_point>()).first;
  it->second.push_back(now);
  return Status::Ok();
}

}  // namespace medallion::http
