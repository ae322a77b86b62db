// Tokens (PATs, RPTs, PCTs, owner and device sessions) and the sign-in challenges that become
// sessions. Tokens are random 256-bit strings; only their SHA-256 is stored, and a lookup is by
// that hash, so no secret is ever compared byte by byte. Private to the uma module.
#pragma once

#include "medallion/storage/db.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "medallion/core/hash.h"
#include "medallion/core/status.h"

namespace medallion::uma::internal {

// Migration 1: the token and challenge tables (schema.h composes the migrations).
inline constexpr char kTokensV1[] = R"sql(
CREATE TABLE tokens (
  hash BLOB PRIMARY KEY,         -- SHA-256 of the token; the token itself is never stored
  kind TEXT NOT NULL,            -- 'pat' | 'rpt' | 'pct' | 'session'
  client_id TEXT NOT NULL,
  subject TEXT NOT NULL,
  data TEXT NOT NULL,
  issued INTEGER NOT NULL,
  expires INTEGER NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX tokens_live ON tokens(kind, revoked, expires);
)sql";
inline constexpr char kChallengesV1[] = R"sql(
CREATE TABLE challenges (
  nonce TEXT PRIMARY KEY,
  expires INTEGER NOT NULL
);
)sql";

// A stored token: what it is, whom it was issued to, about whom, and its data.
struct TokenRow {
  std::string kind;  // 'pat' | 'rpt' | 'pct' | 'session' | 'device'
  std::string client_id, subject;
  nlohmann::json data;
  int64_t issued = 0, expires = 0;
};

// Where the authorization server keeps its tokens and challenges. Not synchronized: the server
// calls it with its lock held (writes inside its transactions).
class TokenStore {
 public:
  virtual ~TokenStore() = default;
  // Keeps `token` (its hash) with its row. Errors: the database's.
  virtual Status Insert(std::string_view token, const TokenRow& row) = 0;
  // The token if it is of `kind`, not revoked and not expired at `now`; nullopt otherwise
  // (also for an empty or oversized token).
  virtual std::optional<TokenRow> Live(std::string_view token, std::string_view kind,
                                       int64_t now) = 0;
  // Any token by its hash, revoked or expired too (kind, client_id, subject); nullopt if unknown.
  virtual std::optional<TokenRow> Find(const Hash256& hash) = 0;
  // Revokes the token with hash `hash` (nothing if unknown). Errors: the database's.
  virtual Status Revoke(const Hash256& hash) = 0;
  // Revokes every RPT live at `now` whose data `matches`; the number revoked.
  virtual Result<size_t> RevokeRpts(
      int64_t now, const std::function<bool(const nlohmann::json& data)>& matches) = 0;
  // Revokes the sessions of device `device_id`.
  virtual Status RevokeDeviceSessions(std::string_view device_id) = 0;
  // Revokes every live token of `kind`; how many were live.
  virtual Result<size_t> RevokeKind(std::string_view kind, int64_t now) = 0;
  // Keeps a sign-in challenge until `expires`, after dropping those expired at `now`.
  // Errors: resource_exhausted when `max_open` are open; the database's.
  virtual Status PutChallenge(const std::string& nonce, int64_t expires, int64_t now,
                              size_t max_open) = 0;
  // Consumes a challenge live at `now` (single use): false if unknown, used or expired.
  virtual Result<bool> ConsumeChallenge(const std::string& nonce, int64_t now) = 0;
};

// The tokens and challenges tables of the consent database `db` (borrowed; outlives the store).
std::unique_ptr<TokenStore> NewSqlTokenStore(sql::Db& db);

}  // namespace medallion::uma::internal
