// The browser side of a role's owner: passkeys, WebAuthn challenges, one-time sign-in links,
// browser sessions and sign-in rate limits, in one SQLite database (through storage/, WAL,
// synchronous=FULL: an acknowledged write survives kill -9).
//
// Secrets are never stored: a session id, a CSRF token's key, a link token and a challenge are
// stored as SHA-256 hashes and compared in constant time. Session ids are 32 random bytes
// (base64url, 43 characters) from the Env's RNG; the caller puts them in a cookie and forgets
// them. The clock is the Env's. Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "medallion/core/bytes.h"
#include "medallion/core/env.h"
#include "medallion/core/status.h"

namespace medallion::web {

// Reason codes of refusals (Status::reason()).
inline constexpr char kLinkUnknown[] = "link_unknown";
inline constexpr char kLinkUsed[] = "link_used";
inline constexpr char kLinkExpired[] = "link_expired";
inline constexpr char kChallengeUnknown[] = "challenge_unknown";
inline constexpr char kChallengeUsed[] = "challenge_used";
inline constexpr char kChallengeExpired[] = "challenge_expired";
inline constexpr char kSessionUnknown[] = "session_unknown";
inline constexpr char kSessionIdle[] = "session_idle";        // idle timeout passed
inline constexpr char kSessionExpired[] = "session_expired";  // absolute timeout passed
inline constexpr char kCsrfInvalid[] = "csrf_invalid";
inline constexpr char kRateLimited[] = "rate_limited";
inline constexpr char kPasskeyUnknown[] = "passkey_unknown";  // unknown or revoked
inline constexpr char kAccountUnknown[] = "account_unknown";  // unknown or removed

struct SessionOptions {
  int64_t idle_timeout_s = 30 * 60;
  int64_t absolute_timeout_s = 12 * 60 * 60;
  int64_t challenge_ttl_s = 5 * 60;
  int64_t link_ttl_s = 10 * 60;
  // Sign-in attempts (passkey assertions, link uses, phone sign-in requests) per client address
  // in a sliding window; over the limit, resource_exhausted with kRateLimited.
  int max_signin_attempts = 10;
  int64_t signin_window_s = 5 * 60;
};

// What a one-time link lets its holder do.
enum class LinkPurpose { kRegisterPasskey, kSignIn };

// A staff account of a role with several people (a pharmacy's pharmacists, a society's clerks).
// A container has one person, its owner: her passkeys, links and sessions have account "".
// `name`: 1-32 of [a-z0-9._-]; `role`: 1-32 of [a-z_]; `display_name`: at most 64 characters.
struct Account {
  std::string name;
  std::string role;
  std::string display_name;
  int64_t created_at = 0;
};

// A registered passkey (the webauthn::Credential members the relying party keeps, plus names
// and times). `id` is the base64url credential id.
struct Passkey {
  std::string id;
  std::string account;  // "" for a container's owner
  std::string name;  // the owner's label ("Laptop"), at most 64 characters
  Bytes cose_public_key;
  int64_t alg = 0;
  uint32_t sign_count = 0;
  bool user_verified = false;
  bool backup_eligible = false;
  bool backed_up = false;
  Bytes aaguid;
  int64_t created_at = 0;
  int64_t last_used_at = 0;  // 0: never
};

// A live browser session, as Touch() finds it.
struct SessionInfo {
  std::string session_hash;  // hex SHA-256 of the id: the stable handle for logs and caches
  std::string method;        // "passkey:<credential id>", "phone:<device id>" or "link"
  std::string account;       // the staff account signed in ("" for a container's owner)
  int64_t created_at = 0;
  int64_t last_seen_at = 0;
  int64_t expires_at = 0;  // the absolute timeout
};

// A session's CSRF token: base64url(HMAC-SHA256(key = the session id, "medallion csrf v1")).
// Derived, not stored: the server recomputes it from the cookie to hand it to its own page
// (GET /web/v1/state), and a page of another origin can neither read the cookie nor the state.
std::string CsrfTokenFor(std::string_view session_id);

// A session as created: the id (for the cookie) and its CSRF token (for the page).
struct NewSession {
  std::string id;
  std::string csrf_token;
  SessionInfo info;
};

class BrowserStore {
 public:
  // Opens or creates the database at `path` (":memory:" for tests).
  static Result<std::unique_ptr<BrowserStore>> Open(const std::string& path, Env& env,
                                                    SessionOptions options = {});
  ~BrowserStore();
  BrowserStore(const BrowserStore&) = delete;
  BrowserStore& operator=(const BrowserStore&) = delete;

  const SessionOptions& options() const;

  // --- One-time links (container login-link, setup links printed by serve/up) ---
  // A new single-use token (32 random bytes, base64url) for `purpose`, live for link_ttl_s.
  // With `account`, the link is that staff account's (it must exist).
  Result<std::string> CreateLink(LinkPurpose purpose, std::string_view account = "");
  // Consumes a link: OK once, within its lifetime, for its purpose. Errors: unauthenticated with
  // kLinkUnknown (never issued, or issued for the other purpose), kLinkUsed, kLinkExpired.
  Status ConsumeLink(std::string_view token, LinkPurpose purpose);
  // ConsumeLink, answering the account the link was made for ("" for the owner). A link of an
  // account removed since is kLinkUnknown.
  Result<std::string> ConsumeLinkFor(std::string_view token, LinkPurpose purpose);

  // --- WebAuthn challenges (§13.4.3: at least 16 random bytes, single use, expiring) ---
  // 32 random bytes for a ceremony ("register" or "signin"), live for challenge_ttl_s.
  // With `account`: a registration for that staff account.
  Result<Bytes> NewChallenge(std::string_view ceremony, std::string_view account = "");
  // Consumes a challenge of `ceremony`. Errors: unauthenticated with kChallengeUnknown,
  // kChallengeUsed, kChallengeExpired. A challenge is consumed even if the ceremony then fails.
  Status ConsumeChallenge(ByteView challenge, std::string_view ceremony);
  // ConsumeChallenge, answering the account it was issued for.
  Result<std::string> ConsumeChallengeFor(ByteView challenge, std::string_view ceremony);

  // --- Staff accounts ---
  // Errors: invalid_argument (name, role, display name), already_exists (also for a name that
  // was removed: names are never reused, so old log lines stay unambiguous).
  Status AddAccount(const Account& account);
  // Live accounts, oldest first.
  Result<std::vector<Account>> ListAccounts();
  // Errors: not_found with kAccountUnknown (unknown or removed).
  Result<Account> GetAccount(std::string_view name);
  // Removes an account: its passkeys are revoked, its sessions and unused links end.
  Status RemoveAccount(std::string_view name);

  // --- Passkeys (several per owner; each can be revoked) ---
  // Errors: already_exists if the credential id is registered (or was, and was revoked).
  Status AddPasskey(const Passkey& passkey);
  // Live passkeys, oldest first: all of them, or one account's.
  Result<std::vector<Passkey>> ListPasskeys();
  Result<std::vector<Passkey>> ListPasskeys(std::string_view account);
  // Errors: not_found with kPasskeyUnknown if unknown or revoked.
  Result<Passkey> GetPasskey(std::string_view id);
  // Stores the new signature counter and the time of use.
  Status RecordUse(std::string_view id, uint32_t sign_count);
  // Revokes a passkey and ends the sessions it opened. Errors: not_found.
  Status RevokePasskey(std::string_view id);
  Status RenamePasskey(std::string_view id, std::string_view name);

  // --- Browser sessions ---
  // A new session signed in by `method` (for staff `account`, which must be live).
  Result<NewSession> CreateSession(std::string_view method, std::string_view account = "");
  // The live session with this id: checks the idle and absolute timeouts and records the use
  // (sliding the idle timeout). Errors: unauthenticated with kSessionUnknown (also for ended
  // sessions), kSessionIdle, kSessionExpired.
  Result<SessionInfo> Touch(std::string_view session_id);
  // OK if `csrf_token` equals CsrfTokenFor(session_id) (constant-time comparison).
  // Errors: permission_denied with kCsrfInvalid.
  Status CheckCsrf(std::string_view session_id, std::string_view csrf_token);
  // Ends one session (sign out). OK if already ended.
  Status EndSession(std::string_view session_id);
  // Ends every session (sign out everywhere). Returns how many were live.
  Result<int> EndAllSessions();
  // Live sessions, newest first (for "where you are signed in").
  Result<std::vector<SessionInfo>> ListSessions();

  // --- Rate limits ---
  // Counts one sign-in attempt from `address`. Errors: resource_exhausted with kRateLimited
  // when the address already made max_signin_attempts in the window (the attempt is not
  // counted then).
  Status CountSignInAttempt(std::string_view address);

 private:
  struct Impl;
  explicit BrowserStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace medallion::web
