// Status and Result<T>: the error model of every Medallion module.
//
// Codes come from a short canonical list. Result<T> uses std::expected's member names
// (has_value, value, error, operator*, operator->) so that a later switch to C++23
// std::expected is mechanical. A signature that does not verify is `false`, not an error.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace medallion {

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kPermissionDenied,
  kUnauthenticated,
  kFailedPrecondition,
  kResourceExhausted,
  kDataLoss,
  kInternal,
  kUnavailable,
};

// Stable snake_case name of a code ("invalid_argument"), used in JSON errors and logs.
std::string_view StatusCodeName(StatusCode code);

// A Status may also carry a reason: a stable snake_case code that refines `code` for callers
// that act on the failure ("license_expired", "invalid_grant", "challenge_used"). Code that
// decides by reason reads reason(), never the message text. By convention a reasoned message
// reads "<reason>: <detail>" (WithReason builds it so), and the reason lists of each module
// (claims::reason, rx_reason, uma::oauth_error, ...) are its vocabulary.
class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  Status(StatusCode code, std::string message, std::string reason)
      : code_(code), message_(std::move(message)), reason_(std::move(reason)) {}

  // A failure with `reason` and the message "<reason>: <detail>" (just the reason if detail is
  // empty). REQUIRES: code is not kOk; reason is not empty.
  static Status WithReason(StatusCode code, std::string_view reason, std::string_view detail) {
    std::string message(reason);
    if (!detail.empty()) message.append(": ").append(detail);
    return Status(code, std::move(message), std::string(reason));
  }

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status PermissionDenied(std::string m) {
    return {StatusCode::kPermissionDenied, std::move(m)};
  }
  static Status Unauthenticated(std::string m) {
    return {StatusCode::kUnauthenticated, std::move(m)};
  }
  static Status FailedPrecondition(std::string m) {
    return {StatusCode::kFailedPrecondition, std::move(m)};
  }
  static Status ResourceExhausted(std::string m) {
    return {StatusCode::kResourceExhausted, std::move(m)};
  }
  static Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // The machine-readable reason, "" when none was given (see above).
  const std::string& reason() const { return reason_; }
  // The message without its "<reason>: " prefix (the whole message when there is none).
  std::string_view detail() const {
    std::string_view m(message_);
    if (!reason_.empty() && m.size() >= reason_.size() && m.substr(0, reason_.size()) == reason_) {
      m.remove_prefix(reason_.size());
      if (m.substr(0, 2) == ": ") m.remove_prefix(2);
    }
    return m;
  }
  // "invalid_argument: bad checksum"
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string reason_;
};

// Aborts with a message: for programmer misuse only, never for bad input.
[[noreturn]] void Panic(std::string_view what);

#define MDL_CHECK(cond)                                                      \
  do {                                                                       \
    if (!(cond)) ::medallion::Panic("check failed: " #cond " at " __FILE__); \
  } while (0)

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::in_place_index<1>, std::move(status)) {  // NOLINT
    if (std::get<1>(v_).ok()) Panic("Result constructed from an OK Status");
  }

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & {
    if (!has_value()) Panic("Result::value() on error: " + error().ToString());
    return std::get<0>(v_);
  }
  const T& value() const& {
    if (!has_value()) Panic("Result::value() on error: " + error().ToString());
    return std::get<0>(v_);
  }
  T&& value() && {
    if (!has_value()) Panic("Result::value() on error: " + error().ToString());
    return std::move(std::get<0>(v_));
  }
  // std::expected::value_or: the value, or `fallback` on error.
  template <typename U>
  T value_or(U&& fallback) const& {
    return has_value() ? std::get<0>(v_) : static_cast<T>(std::forward<U>(fallback));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Status& error() const {
    if (has_value()) Panic("Result::error() on value");
    return std::get<1>(v_);
  }
  // The Status of this result: OK when it holds a value.
  Status status() const { return has_value() ? Status() : std::get<1>(v_); }

 private:
  std::variant<T, Status> v_;
};

// Early-return helpers.
#define MDL_RETURN_IF_ERROR(expr)         \
  do {                                    \
    ::medallion::Status mdl_st_ = (expr); \
    if (!mdl_st_.ok()) return mdl_st_;    \
  } while (0)

#define MDL_CONCAT_INNER(a, b) a##b
#define MDL_CONCAT(a, b) MDL_CONCAT_INNER(a, b)
#define MDL_ASSIGN_OR_RETURN(lhs, expr) \
  MDL_ASSIGN_OR_RETURN_I(MDL_CONCAT(mdl_r_, __LINE__), lhs, expr)
// `tmp` is an identifier and `lhs` may be a declaration ("auto x"): neither can be
// parenthesized.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define MDL_ASSIGN_OR_RETURN_I(tmp, lhs, expr) \
  auto tmp = (expr);                           \
  if (!tmp.has_value()) return tmp.error();    \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)

}  // namespace medallion
