// BrowserStore: passkeys, WebAuthn challenges, one-time links and browser sessions in SQLite
// (storage/), sign-in rate limits in memory. Secrets are kept only as hex SHA-256.
#include "medallion/web/sessions.h"

#include <algorithm>
#include <deque>
#include <map>
#include <mutex>

#include "medallion/core/encoding.h"
#include "medallion/core/hash.h"
#include "medallion/storage/sqlite.h"

namespace medallion::web {
namespace {

using sql::Stmt;

constexpr std::string_view kWhat = "browser store";
constexpr size_t kSecretBytes = 32;
constexpr size_t kMaxPasskeyName = 64;
// WebAuthn §5.1: a credential id is at most 1023 bytes (1364 base64url characters).
constexpr size_t kMaxCredentialId = 1364;
constexpr size_t kMaxCeremony = 64;
// Expired links and challenges and timed-out sessions are kept this long, so that a late use is
// told "expired" rather than "unknown", then deleted.
constexpr int64_t kKeepExpired = 24 * 60 * 60;
// The rate limiter sweeps out addresses with no attempt left in the window when it tracks more
// than this, or than twice what the last sweep left (amortized constant time per attempt).
constexpr size_t kSweepAbove = 4096;

constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE links (
  token_hash TEXT PRIMARY KEY,
  purpose INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
);
CREATE TABLE challenges (
  challenge_hash TEXT PRIMARY KEY,
  ceremony TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
);
CREATE TABLE passkeys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  cose_public_key BLOB NOT NULL,
  alg INTEGER NOT NULL,
  sign_count INTEGER NOT NULL,
  user_verified INTEGER NOT NULL,
  backup_eligible INTEGER NOT NULL,
  backed_up INTEGER NOT NULL,
  aaguid BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER NOT NULL,
  revoked_at INTEGER
);
CREATE TABLE sessions (
  session_hash TEXT PRIMARY KEY,
  method TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  ended_at INTEGER
);
CREATE INDEX sessions_by_method ON sessions(method);
)sql",
    // 2: staff accounts (a pharmacy's pharmacists, a society's clerks); "" is a container's owner.
    R"sql(
CREATE TABLE accounts (
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL,
  display_name TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  removed_at INTEGER
);
ALTER TABLE links ADD COLUMN account TEXT NOT NULL DEFAULT '';
ALTER TABLE challenges ADD COLUMN account TEXT NOT NULL DEFAULT '';
ALTER TABLE passkeys ADD COLUMN account TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN account TEXT NOT NULL DEFAULT '';
CREATE INDEX passkeys_by_account ON passkeys(account);
CREATE INDEX sessions_by_account ON sessions(account);
)sql",
};

std::string HashHex(ByteView secret) { return HexEncode(Sha256(secret)); }
std::string HashHex(std::string_view secret) { return HashHex(AsBytes(secret)); }

bool IsBase64UrlId(std::string_view id) {
  if (id.empty() || id.size() > kMaxCredentialId) return false;
  for (char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

// At most kMaxPasskeyName characters of valid UTF-8 with no control character.
Status CheckPasskeyName(std::string_view name, std::string_view what = "passkey name") {
  size_t chars = 0;
  for (size_t i = 0; i < name.size();) {
    const auto c = static_cast<unsigned char>(name[i]);
    size_t len = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      len = 1, cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1Fu;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0Fu;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07u;
    } else {
      return Status::InvalidArgument(std::string(what) + ": not UTF-8");
    }
    if (i + len > name.size()) return Status::InvalidArgument(std::string(what) + ": not UTF-8");
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(name[i + k]);
      if ((cc & 0xC0) != 0x80) return Status::InvalidArgument(std::string(what) + ": not UTF-8");
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    static constexpr uint32_t kMinOfLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinOfLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return Status::InvalidArgument(std::string(what) + ": not UTF-8");
    }
    if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0))
      return Status::InvalidArgument(std::string(what) + ": control character");
    i += len;
    ++chars;
  }
  if (chars > kMaxPasskeyName) {
    return Status::InvalidArgument(std::string(what) + ": at most " + std::to_string(kMaxPasskeyName) +
                                   " characters");
  }
  return Status::Ok();
}

// A staff account's name (1-32 of [a-z0-9._-]) or role (1-32 of [a-z_]).
bool IsAccountName(std::string_view name) {
  if (name.empty() || name.size() > 32) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  });
}
bool IsRoleName(std::string_view role) {
  if (role.empty() || role.size() > 32) return false;
  return std::all_of(role.begin(), role.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
}

Status AccountUnknown(std::string_view name) {
  return Status::WithReason(StatusCode::kNotFound, kAccountUnknown,
                            "no account " + std::string(name.substr(0, 32)));
}

Status PasskeyUnknown(std::string_view id) {
  return Status::WithReason(StatusCode::kNotFound, kPasskeyUnknown,
                            "no live passkey " + std::string(id.substr(0, 64)));
}

// The passkeys columns, in the order ReadPasskey reads them.
constexpr char kPasskeyColumns[] =
    "id, name, cose_public_key, alg, sign_count, user_verified, backup_eligible, backed_up, "
    "aaguid, created_at, "
    "last_used_at, account";

Passkey ReadPasskey(Stmt& q) {
  Passkey p;
  p.id = q.Col(0);
  p.name = q.Col(1);
  p.cose_public_key = ToBytes(q.ColBlob(2));
  p.alg = q.ColInt(3);
  p.sign_count = static_cast<uint32_t>(q.ColInt(4));
  p.user_verified = q.ColInt(5) != 0;
  p.backup_eligible = q.ColInt(6) != 0;
  p.backed_up = q.ColInt(7) != 0;
  p.aaguid = ToBytes(q.ColBlob(8));
  p.created_at = q.ColInt(9);
  p.last_used_at = q.ColInt(10);
  p.account = q.Col(11);
  return p;
}

constexpr char kSessionColumns[] =
    "session_hash, method, created_at, last_seen_at, expires_at, account";

SessionInfo ReadSession(Stmt& q) {
  SessionInfo s;
  s.session_hash = q.Col(0);
  s.method = q.Col(1);
  s.created_at = q.ColInt(2);
  s.last_seen_at = q.ColInt(3);
  s.expires_at = q.ColInt(4);
  s.account = q.Col(5);
  return s;
}

}  // namespace

std::string CsrfTokenFor(std::string_view session_id) {
  static constexpr std::string_view kLabel = "medallion csrf v1";
  return Base64UrlEncode(HmacSha256(AsBytes(session_id), AsBytes(kLabel)));
}

struct BrowserStore::Impl {
  Impl(sqlite3* database, Env e, SessionOptions o) : db(database), env(e), options(o) {}
  ~Impl() { sqlite3_close(db); }

  int64_t Now() const { return env.clock->NowSeconds(); }

  // SQL condition (on the sessions table) of a live session at time ?1.
  std::string LiveCondition() const {
    return "ended_at IS NULL AND expires_at > ?1 AND last_seen_at + " +
           std::to_string(options.idle_timeout_s) + " > ?1";
  }

  // OK if `account` is "" (the owner) or a live staff account.
  Status CheckAccountLive(std::string_view account) {
    if (account.empty()) return Status::Ok();
    Stmt q(db, "SELECT 1 FROM accounts WHERE name = ? AND removed_at IS NULL", kWhat);
    const int rc = q.Text(1, account).Step();
    if (rc == SQLITE_ROW) return Status::Ok();
    if (rc != SQLITE_DONE) return q.Error();
    return AccountUnknown(account);
  }

  // Deletes what is long dead: links, challenges and sessions past kKeepExpired.
  Status CollectGarbage(int64_t now) {
    Stmt links(db, "DELETE FROM links WHERE expires_at < ?", kWhat);
    if (links.Int(1, now - kKeepExpired).Step() != SQLITE_DONE) return links.Error();
    Stmt challenges(db, "DELETE FROM challenges WHERE expires_at < ?", kWhat);
    if (challenges.Int(1, now - kKeepExpired).Step() != SQLITE_DONE) return challenges.Error();
    Stmt sessions(db, "DELETE FROM sessions WHERE expires_at < ?", kWhat);
    if (sessions.Int(1, now - kKeepExpired).Step() != SQLITE_DONE) return sessions.Error();
    return Status::Ok();
  }

  std::mutex mu;
  sqlite3* db;
  Env env;
  SessionOptions options;
  // Sign-in attempts per client address (times in seconds), in memory: a restart forgets them,
  // which only gives an attacker one fresh window per restart of the server.
  std::map<std::string, std::deque<int64_t>, std::less<>> attempts;
  size_t sweep_above = kSweepAbove;
};

BrowserStore::BrowserStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BrowserStore::~BrowserStore() = default;

Result<std::unique_ptr<BrowserStore>> BrowserStore::Open(const std::string& path, Env& env,
                                                         SessionOptions options) {
  if (env.clock == nullptr || env.rng == nullptr)
    Panic("BrowserStore::Open: the Env needs a clock and an RNG");
  if (options.idle_timeout_s <= 0 || options.absolute_timeout_s <= 0 ||
      options.challenge_ttl_s <= 0 || options.link_ttl_s <= 0 || options.max_signin_attempts <= 0 ||
      options.signin_window_s <= 0) {
    return Status::InvalidArgument(
        "browser store: timeouts, lifetimes and limits must be positive");
  }
  sqlite3* db = nullptr;
  MDL_RETURN_IF_ERROR(sql::OpenDatabase(path, kWhat, kMigrations, &db));
  return std::unique_ptr<BrowserStore>(new BrowserStore(std::make_unique<Impl>(db, env, options)));
}

const SessionOptions& BrowserStore::options() const { return impl_->options; }

// --- One-time links ---

Result<std::string> BrowserStore::CreateLink(LinkPurpose purpose, std::string_view account) {
  std::lock_guard lock(impl_->mu);
  const std::string token = Base64UrlEncode(impl_->env.rng->RandomBytes(kSecretBytes));
  const int64_t now = impl_->Now();
  const Status st = sql::InTransaction(impl_->db, kWhat, [&]() -> Status {
    MDL_RETURN_IF_ERROR(impl_->CollectGarbage(now));
    MDL_RETURN_IF_ERROR(impl_->CheckAccountLive(account));
    Stmt ins(impl_->db,
             "INSERT INTO links (token_hash, purpose, expires_at, account) VALUES (?, ?, ?, ?)",
             kWhat);
    ins.Text(1, HashHex(token))
        .Int(2, static_cast<int64_t>(purpose))
        .Int(3, now + impl_->options.link_ttl_s)
        .Text(4, account);
    if (ins.Step() != SQLITE_DONE) return ins.Error();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return token;
}

Status BrowserStore::ConsumeLink(std::string_view token, LinkPurpose purpose) {
  auto account = ConsumeLinkFor(token, purpose);
  return account ? Status::Ok() : account.error();
}

Result<std::string> BrowserStore::ConsumeLinkFor(std::string_view token, LinkPurpose purpose) {
  std::lock_guard lock(impl_->mu);
  const int64_t now = impl_->Now();
  const std::string hash = HashHex(token);
  std::string account;
  const Status st = sql::InTransaction(impl_->db, kWhat, [&]() -> Status {
    Stmt q(impl_->db,
           "SELECT purpose, expires_at, used_at, account FROM links WHERE token_hash = ?", kWhat);
    const int rc = q.Text(1, hash).Step();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return q.Error();
    // A link of the other purpose is, for this one, a link never issued (and stays usable).
    if (rc == SQLITE_DONE || q.ColInt(0) != static_cast<int64_t>(purpose)) {
      return Status::WithReason(StatusCode::kUnauthenticated, kLinkUnknown, "no such link");
    }
    if (!q.ColIsNull(2))
      return Status::WithReason(StatusCode::kUnauthenticated, kLinkUsed, "the link was used");
    if (now >= q.ColInt(1))
      return Status::WithReason(StatusCode::kUnauthenticated, kLinkExpired, "the link expired");
    account = q.Col(3);
    if (!impl_->CheckAccountLive(account).ok())
      return Status::WithReason(StatusCode::kUnauthenticated, kLinkUnknown, "no such link");
    Stmt use(impl_->db, "UPDATE links SET used_at = ? WHERE token_hash = ?", kWhat);
    if (use.Int(1, now).Text(2, hash).Step() != SQLITE_DONE) return use.Error();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return account;
}

// --- WebAuthn challenges ---

Result<Bytes> BrowserStore::NewChallenge(std::string_view ceremony, std::string_view account) {
  if (ceremony.empty() || ceremony.size() > kMaxCeremony) {
    return Status::InvalidArgument("challenge: a ceremony name of 1 to 64 bytes is required");
  }
  std::lock_guard lock(impl_->mu);
  Bytes challenge = impl_->env.rng->RandomBytes(kSecretBytes);
  const int64_t now = impl_->Now();
  const Status st = sql::InTransaction(impl_->db, kWhat, [&]() -> Status {
    MDL_RETURN_IF_ERROR(impl_->CollectGarbage(now));
    Stmt ins(impl_->db,
             "INSERT INTO challenges (challenge_hash, ceremony, expires_at, account) VALUES (?, ?, "
             "?, ?)",
             kWhat);
    ins.Text(1, HashHex(challenge))
        .Text(2, ceremony)
        .Int(3, now + impl_->options.challenge_ttl_s)
        .Text(4, account);
    if (ins.Step() != SQLITE_DONE) return ins.Error();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return challenge;
}

Status BrowserStore::ConsumeChallenge(ByteView challenge, std::string_view ceremony) {
  auto account = ConsumeChallengeFor(challenge, ceremony);
  return account ? Status::Ok() : account.error();
}

Result<std::string> BrowserStore::ConsumeChallengeFor(ByteView challenge,
                                                      std::string_view ceremony) {
  std::lock_guard lock(impl_->mu);
  const int64_t now = impl_->Now();
  const std::string hash = HashHex(challenge);
  std::string account;
  const Status st = sql::InTransaction(impl_->db, kWhat, [&]() -> Status {
    Stmt q(impl_->db,
           "SELECT ceremony, expires_at, used_at, account FROM challenges WHERE challenge_hash = ?",
           kWhat);
    const int rc = q.Text(1, hash).Step();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return q.Error();
    if (rc == SQLITE_DONE || q.Col(0) != ceremony) {
      return Status::WithReason(StatusCode::kUnauthenticated, kChallengeUnknown,
                                "no such challenge");
    }
    if (!q.ColIsNull(2)) {
      return Status::WithReason(StatusCode::kUnauthenticated, kChallengeUsed,
                                "the challenge was used");
    }
    if (now >= q.ColInt(1)) {
      return Status::WithReason(StatusCode::kUnauthenticated, kChallengeExpired,
                                "the challenge expired");
    }
    account = q.Col(3);
    Stmt use(impl_->db, "UPDATE challenges SET used_at = ? WHERE challenge_hash = ?", kWhat);
    if (use.Int(1, now).Text(2, hash).Step() != SQLITE_DONE) return use.Error();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return account;
}

// --- Passkeys ---

Status BrowserStore::AddPasskey(const Passkey& passkey) {
  if (!IsBase64UrlId(passkey.id))
    return Status::InvalidArgument("passkey: the id must be base64url, 1 to 1364 characters");
  MDL_RETURN_IF_ERROR(CheckPasskeyName(passkey.name));
  if (passkey.cose_public_key.empty()) return Status::InvalidArgument("passkey: no public key");
  std::lock_guard lock(impl_->mu);
  const int64_t now = impl_->Now();
  return sql::InTransaction(impl_->db, kWhat, [&]() -> Status {
    Stmt q(impl_->db, "SELECT 1 FROM passkeys WHERE id = ?", kWhat);
    const int rc = q.Text(1, passkey.id).Step();
    if (rc == SQLITE_ROW)
      return Status::AlreadyExists("passkey " + passkey.id.substr(0, 64) +
                                   " is already registered");
    if (rc != SQLITE_DONE) return q.Error();
    MDL_RETURN_IF_ERROR(impl_->CheckAccountLive(passkey.account));
    Stmt ins(impl_->db,
             "INSERT INTO passkeys (id, name, cose_public_key, alg, sign_count, user_verified, "
             "backup_eligible, backed_up, aaguid, created_at, last_used_at, account) VALUES (?, ?, "
             "?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
             kWhat);
    ins.Text(1, passkey.id)
        .Text(2, passkey.name)
        .Blob(3, passkey.cose_public_key.data(), passkey.cose_public_key.size())
        .Int(4, passkey.alg)
        .Int(5, passkey.sign_count)
        .Int(6, passkey.user_verified ? 1 : 0)
        .Int(7, passkey.backup_eligible ? 1 : 0)
        .Int(8, passkey.backed_up ? 1 : 0)
        .Blob(9, passkey.aaguid.data(), passkey.aaguid.size())
        .Int(10, passkey.created_at != 0 ? passkey.created_at : now)
        .Int(11, passkey.last_used_at)
        .Text(12, passkey.account);
    if (ins.Step() != SQLITE_DONE) return ins.Error();
    return Status::Ok();
  });
}

Result<std::vector<Passkey>> BrowserStore::ListPasskeys() {
  std::lock_guard lock(impl_->mu);
  Stmt q(impl_->db,
         (std::string("SELECT ") + kPasskeyColumns +
          " FROM passkeys WHERE revoked_at IS NULL ORDER BY created_at, rowid")
             .c_str(),
         kWhat);
  std::vector<Passkey> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) out.push_back(ReadPasskey(q));
  if (rc != SQLITE_DONE) return q.Error();
  return out;
}

Result<std::vector<Passkey>> BrowserStore::ListPasskeys(std::string_view account) {
  std::lock_guard lock(impl_->mu);
  Stmt q(impl_->db,
         (std::string("SELECT ") + kPasskeyColumns +
          " FROM passkeys WHERE revoked_at IS NULL AND account = ? ORDER BY created_at, rowid")
             .c_str(),
         kWhat);
  q.Text(1, account);
  std::vector<Passkey> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) out.push_back(ReadPasskey(q));
  if (rc != SQLITE_DONE) return q.Error();
  return out;
}

Result<Passkey> BrowserStore::GetPasskey(std::string_view id) {
  std::lock_guard lock(impl_->mu);
  Stmt q(impl_->db,
         (std::string("SELECT ") + kPasskeyColumns +
          " FROM passkeys WHERE id = ? AND revoked_at IS NULL")
             .c_str(),
         kWhat);
  const int rc = q.Text(1, id).Step();
  if (rc == SQLITE_ROW) return ReadPasskey(q);
  if (rc != SQLITE_DONE) return q.Error();
  return PasskeyUnknown(id);
}

Status BrowserStore::RecordUse(std::string_view id, uint32_t sign_count) {
  std::lock_guard lock(impl_->mu);
  const int64_t now = impl_->Now();
  return sql::InTransaction(impl_->db, kWhat, [&]() -> Status {
    Stmt up(
        impl_->db,
        "UPDATE passkeys SET sign_count = ?, last_used_at = ? WHERE id = ? AND revoked_at IS NULL",
        kWhat);
    if (up.Int(1, sign_count).Int(2, now).Text(3, id).Step() != SQLITE_DONE) return up.Error();
    if (sqlite3_changes(impl_->db) == 0) return PasskeyUnknown(id);
    return Status::Ok();
  });
}

Status BrowserStore::RevokePasskey(std::string_view id) {
  std::lock_guard lock(impl_->mu);
  const int64_t now = impl_->Now();
  return sql::InTransaction(impl_->db, kWhat, [&]() -> Status {
    Stmt up(impl_->db, "UPDATE passkeys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            kWhat);
    if (up.Int(1, now).Text(2, id).Step() != SQLITE_DONE) return up.Error();
    if (sqlite3_changes(impl_->db) == 0) return PasskeyUnknown(id);
    Stmt end(impl_->db, "UPDATE sessions SET ended_at = ? WHERE method = ? AND ended_at IS NULL",
             kWhat);
    if (end.Int(1, now).Text(2, "passkey:" + std::string(id)).Step() != SQLITE_DONE)
      return end.Error();
    return Status::Ok();
  });
}

Status BrowserStore::RenamePasskey(std::string_view id, std::string_view name) {
  MDL_RETURN_IF_ERROR(CheckPasskeyName(name));
  std::lock_guard lock(impl_->mu);
  return sql::InTransaction(impl_->db, kWhat, [&]() -> Status {
    Stmt up(impl_->db, "UPDATE passkeys SET name = ? WHERE id = ? AND revoked_at IS NULL", kWhat);
    if (up.Text(1, name).Text(2, id).Step() != SQLITE_DONE) return up.Error();
    if (sqlite3_changes(impl_->db) == 0) return PasskeyUnknown(id);
    return Status::Ok();
  });
}

// --- Staff accounts ---

Status BrowserStore::AddAccount(const Account& account) {
  if (!IsAccountName(account.name))
    return Status::InvalidArgument("account: a name is 1 to 32 of a-z, 0-9, '.', '_', '-'");
  if (!IsRoleName(account.role))
    return Status::InvalidArgument("account: a role is 1 to 32 of a-z and '_'");
  MDL_RETURN_IF_ERROR(CheckPasskeyName(account.display_name, "account display name"));
  std::lock_guard lock(impl_->mu);
  const int64_t now = impl_->Now();
  return sql::InTransaction(impl_->db, kWhat, [&]() -> Status {
    Stmt q(impl_->db, "SELECT 1 FROM accounts WHERE name = ?", kWhat);
    const int rc = q.Text(1, account.name).Step();
    if (rc == SQLITE_ROW)
      return Status::AlreadyExists("account " + account.name + " exists (or existed)");
    if (rc != SQLITE_DONE) return q.Error();
    Stmt ins(impl_->db,
             "INSERT INTO accounts (name, role, display_name, created_at) VALUES (?, ?, ?, ?)",
             kWhat);
    ins.Text(1, account.name)
        .Text(2, account.role)
        .Text(3, account.display_name.empty() ? account.name : account.display_name)
        .Int(4, account.created_at != 0 ? account.created_at : now);
    if (ins.Step() != SQLITE_DONE) return ins.Error();
    return Status::Ok();
  });
}

Result<std::vector<Account>> BrowserStore::ListAccounts() {
  std::lock_guard lock(impl_->mu);
  Stmt q(impl_->db,
         "SELECT name, role, display_name, created_at FROM accounts WHERE removed_at IS NULL "
         "ORDER BY created_at, rowid",
         kWhat);
  std::vector<Account> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW)
    out.push_back({q.Col(0), q.Col(1), q.Col(2), q.ColInt(3)});
  if (rc != SQLITE_DONE) return q.Error();
  return out;
}

Result<Account> BrowserStore::GetAccount(std::string_view name) {
  std::lock_guard lock(impl_->mu);
  Stmt q(impl_->db,
         "SELECT name, role, display_name, created_at FROM accounts WHERE name = ? AND removed_at "
         "IS NULL",
         kWhat);
  const int rc = q.Text(1, name).Step();
  if (rc == SQLITE_ROW) return Account{q.Col(0), q.Col(1), q.Col(2), q.ColInt(3)};
  if (rc != SQLITE_DONE) return q.Error();
  return AccountUnknown(name);
}

Status BrowserStore::RemoveAccount(std::string_view name) {
  std::lock_guard lock(impl_->mu);
  const int64_t now = impl_->Now();
  return sql::InTransaction(impl_->db, kWhat, [&]() -> Status {
    Stmt up(impl_->db, "UPDATE accounts SET removed_at = ? WHERE name = ? AND removed_at IS NULL",
            kWhat);
    if (up.Int(1, now).Text(2, name).Step() != SQLITE_DONE) return up.Error();
    if (sqlite3_changes(impl_->db) == 0) return AccountUnknown(name);
    for (const char* sql :
         {"UPDATE passkeys SET revoked_at = ?1 WHERE account = ?2 AND revoked_at IS NULL",
          "UPDATE sessions SET ended_at = ?1 WHERE account = ?2 AND ended_at IS NULL",
          "UPDATE links SET used_at = ?1 WHERE account = ?2 AND used_at IS NULL"}) {
      Stmt end(impl_->db, sql, kWhat);
      if (end.Int(1, now).Text(2, name).Step() != SQLITE_DONE) return end.Error();
    }
    return Status::Ok();
  });
}

// --- Browser sessions ---

Result<NewSession> BrowserStore::CreateSession(std::string_view method,
                                               std::string_view account) {
  if (method.empty() || method.size() > 2048)
    return Status::InvalidArgument("session: a sign-in method is required");
  std::lock_guard lock(impl_->mu);
  NewSession out;
  out.id = Base64UrlEncode(impl_->env.rng->RandomBytes(kSecretBytes));
  out.csrf_token = CsrfTokenFor(out.id);
  const int64_t now = impl_->Now();
  out.info.session_hash = HashHex(out.id);
  out.info.method = std::string(method);
  out.info.created_at = now;
  out.info.last_seen_at = now;
  out.info.expires_at = now + impl_->options.absolute_timeout_s;
  out.info.account = std::string(account);
  const Status st = sql::InTransaction(impl_->db, kWhat, [&]() -> Status {
    MDL_RETURN_IF_ERROR(impl_->CollectGarbage(now));
    MDL_RETURN_IF_ERROR(impl_->CheckAccountLive(account));
    Stmt ins(impl_->db,
             "INSERT INTO sessions (session_hash, method, created_at, last_seen_at, expires_at, "
             "account) VALUES (?, ?, ?, ?, ?, ?)",
             kWhat);
    ins.Text(1, out.info.session_hash)
        .Text(2, method)
        .Int(3, now)
        .Int(4, now)
        .Int(5, out.info.expires_at)
        .Text(6, account);
    if (ins.Step() != SQLITE_DONE) return ins.Error();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<SessionInfo> BrowserStore::Touch(std::string_view session_id) {
  std::lock_guard lock(impl_->mu);
  const int64_t now = impl_->Now();
  const std::string hash = HashHex(session_id);
  SessionInfo info;
  const Status st = sql::InTransaction(impl_->db, kWhat, [&]() -> Status {
    Stmt q(impl_->db,
           (std::string("SELECT ") + kSessionColumns +
            ", ended_at FROM sessions WHERE session_hash = ?")
               .c_str(),
           kWhat);
    const int rc = q.Text(1, hash).Step();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return q.Error();
    if (rc == SQLITE_DONE || !q.ColIsNull(6)) {
      return Status::WithReason(StatusCode::kUnauthenticated, kSessionUnknown, "no such session");
    }
    info = ReadSession(q);
    if (now >= info.expires_at) {
      return Status::WithReason(StatusCode::kUnauthenticated, kSessionExpired,
                                "the session reached its time limit");
    }
    if (now >= info.last_seen_at + impl_->options.idle_timeout_s) {
      return Status::WithReason(StatusCode::kUnauthenticated, kSessionIdle,
                                "the session was idle too long");
    }
    info.last_seen_at = now;
    Stmt up(impl_->db, "UPDATE sessions SET last_seen_at = ? WHERE session_hash = ?", kWhat);
    if (up.Int(1, now).Text(2, hash).Step() != SQLITE_DONE) return up.Error();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return info;
}

Status BrowserStore::CheckCsrf(std::string_view session_id, std::string_view csrf_token) {
  const std::string expected = CsrfTokenFor(session_id);
  if (csrf_token.empty() || !ConstantTimeEqual(AsBytes(expected), AsBytes(csrf_token))) {
    return Status::WithReason(StatusCode::kPermissionDenied, kCsrfInvalid,
                              "missing or wrong CSRF token");
  }
  return Status::Ok();
}

Status BrowserStore::EndSession(std::string_view session_id) {
  std::lock_guard lock(impl_->mu);
  const int64_t now = impl_->Now();
  return sql::InTransaction(impl_->db, kWhat, [&]() -> Status {
    Stmt up(impl_->db,
            "UPDATE sessions SET ended_at = ? WHERE session_hash = ? AND ended_at IS NULL", kWhat);
    if (up.Int(1, now).Text(2, HashHex(session_id)).Step() != SQLITE_DONE) return up.Error();
    return Status::Ok();
  });
}

Result<int> BrowserStore::EndAllSessions() {
  std::lock_guard lock(impl_->mu);
  const int64_t now = impl_->Now();
  int live = 0;
  const Status st = sql::InTransaction(impl_->db, kWhat, [&]() -> Status {
    Stmt count(impl_->db, ("SELECT COUNT(*) FROM sessions WHERE " + impl_->LiveCondition()).c_str(),
               kWhat);
    if (count.Int(1, now).Step() != SQLITE_ROW) return count.Error();
    live = static_cast<int>(count.ColInt(0));
    Stmt up(impl_->db, "UPDATE sessions SET ended_at = ? WHERE ended_at IS NULL", kWhat);
    if (up.Int(1, now).Step() != SQLITE_DONE) return up.Error();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return live;
}

Result<std::vector<SessionInfo>> BrowserStore::ListSessions() {
  std::lock_guard lock(impl_->mu);
  const int64_t now = impl_->Now();
  Stmt q(impl_->db,
         (std::string("SELECT ") + kSessionColumns + " FROM sessions WHERE " +
          impl_->LiveCondition() + " ORDER BY created_at DESC, rowid DESC")
             .c_str(),
         kWhat);
  q.Int(1, now);
  std::vector<SessionInfo> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) out.push_back(ReadSession(q));
  if (rc != SQLITE_DONE) return q.Error();
  return out;
}

// --- Rate limits ---

Status BrowserStore::CountSignInAttempt(std::string_view address) {
  std::lock_guard lock(impl_->mu);
  const int64_t now = impl_->Now();
  const int64_t window_start = now - impl_->options.signin_window_s;
  auto& attempts = impl_->attempts;
  if (attempts.size() > impl_->sweep_above) {
    for (auto it = attempts.begin(); it != attempts.end();) {
      if (it->second.empty() || it->second.back() <= window_start) {
        it = attempts.erase(it);
      } else {
        ++it;
      }
    }
    impl_->sweep_above = std::max(kSweepAbove, 2 * attempts.size());
  }
  auto it = attempts.find(address);
  if (it == attempts.end())
    it = attempts.emplace(std::string(address), std::deque<int64_t>()).first;
  std::deque<int64_t>& times = it->second;
  while (!times.empty() && times.front() <= window_start) times.pop_front();
  if (times.size() >= static_cast<size_t>(impl_->options.max_signin_attempts)) {
    const int64_t retry = times.front() + impl_->options.signin_window_s - now;
    return Status::WithReason(
        StatusCode::kResourceExhausted, kRateLimited,
        "too many sign-in attempts; try again in " + std::to_string(retry) + " s");
  }
  times.push_back(now);
  return Status::Ok();
}

}  // namespace medallion::web
