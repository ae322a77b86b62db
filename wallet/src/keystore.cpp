// Encrypted key store: XChaCha20-Poly1305 under Argon2id, in SQLite (WAL, explicit transactions)
// or in a container's rows of a shared PostgreSQL database (docs/scale-out.md).
#include "medallion/wallet/keystore.h"

#include <fcntl.h>
#include <sodium.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <utility>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>

#include "medallion/storage/db.h"
#include "medallion/storage/sqlite.h"

namespace medallion::wallet {
namespace {

constexpr int kFormatVersion = 1;
constexpr int kSchemaVersion = 1;
constexpr char kSeedRecord[] = "wallet-seed";
constexpr char kSeedPurpose[] = "bip39-entropy+seed";
constexpr char kKdfName[] = "argon2id13";
// Upper bounds accepted when reading parameters back (a tampered file must not be able to
// demand gigabytes of memory).
constexpr uint64_t kMaxOpslimit = 16;
constexpr uint64_t kMaxMemlimit = 1ull << 30;

// Numbered schema migrations; index i moves the schema from version i to i + 1.
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE sealed_secrets (
  name TEXT PRIMARY KEY,
  purpose TEXT NOT NULL,
  format_version INTEGER NOT NULL,
  kdf TEXT NOT NULL,
  opslimit INTEGER NOT NULL,
  memlimit INTEGER NOT NULL,
  salt BLOB NOT NULL,
  nonce BLOB NOT NULL,
  ciphertext BLOB NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE public_records (
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (kind, name)
);
)sql",
};

// PostgreSQL (docs/scale-out.md §"The container host on PostgreSQL"): the same two tables, named
// for the store in the schema the container stores share, led by container_id (filled from the
// connection's medallion.container) and isolated by row-level security (sql::TenantIsolation).
// Migrations numbered by position, recorded in keystore_schema_migrations (sql::Db::Open).
constexpr char kPgV1[] = R"sql(
CREATE TABLE keystore_sealed_secrets (
  container_id TEXT NOT NULL DEFAULT current_setting('medallion.container'),
  name TEXT NOT NULL,
  purpose TEXT NOT NULL,
  format_version INTEGER NOT NULL,
  kdf TEXT NOT NULL,
  opslimit BIGINT NOT NULL,
  memlimit BIGINT NOT NULL,
  salt BYTEA NOT NULL,
  nonce BYTEA NOT NULL,
  ciphertext BYTEA NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (container_id, name));
CREATE TABLE keystore_public_records (
  container_id TEXT NOT NULL DEFAULT current_setting('medallion.container'),
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (container_id, kind, name));
)sql";

std::span<const char* const> PgMigrations() {
  static const std::string v1 = std::string(kPgV1) +
                                sql::TenantIsolation("keystore_sealed_secrets") +
                                sql::TenantIsolation("keystore_public_records");
  static const char* const list[] = {v1.c_str()};
  return list;
}

// The statements, per backend (the tables' names differ; an upsert needs its conflict target
// on PostgreSQL). Written in the common SQL sql::Stmt runs on both.
struct Queries {
  const char* read_record;
  const char* write_record;
  const char* list_names;
  const char* put_public;
  const char* get_public;
  const char* list_public;
  const char* all_records;  // every column of every sealed record, for an import
  const char* count_records;
};

constexpr Queries kSqliteQueries = {
    "SELECT purpose, format_version, kdf, opslimit, memlimit, salt, nonce, ciphertext FROM "
    "sealed_secrets WHERE name = ?",
    "INSERT OR REPLACE INTO sealed_secrets (name, purpose, format_version, kdf, opslimit, "
    "memlimit, salt, nonce, ciphertext, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
    "SELECT name FROM sealed_secrets ORDER BY name",
    "INSERT OR REPLACE INTO public_records (kind, name, value) VALUES (?,?,?)",
    "SELECT value FROM public_records WHERE kind = ? AND name = ?",
    "SELECT name, value FROM public_records WHERE kind = ? ORDER BY name",
    "SELECT name, purpose, format_version, kdf, opslimit, memlimit, salt, nonce, ciphertext, "
    "updated_at FROM sealed_secrets ORDER BY name",
    "SELECT COUNT(*) FROM sealed_secrets",
};

constexpr Queries kPgQueries = {
    "SELECT purpose, format_version, kdf, opslimit, memlimit, salt, nonce, ciphertext FROM "
    "keystore_sealed_secrets WHERE name = ?",
    "INSERT INTO keystore_sealed_secrets (name, purpose, format_version, kdf, opslimit, "
    "memlimit, salt, nonce, ciphertext, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?) "
    "ON CONFLICT (container_id, name) DO UPDATE SET purpose = EXCLUDED.purpose, "
    "format_version = EXCLUDED.format_version, kdf = EXCLUDED.kdf, opslimit = EXCLUDED.opslimit, "
    "memlimit = EXCLUDED.memlimit, salt = EXCLUDED.salt, nonce = EXCLUDED.nonce, "
    "ciphertext = EXCLUDED.ciphertext, updated_at = EXCLUDED.updated_at",
    "SELECT name FROM keystore_sealed_secrets ORDER BY name",
    "INSERT INTO keystore_public_records (kind, name, value) VALUES (?,?,?) "
    "ON CONFLICT (container_id, kind, name) DO UPDATE SET value = EXCLUDED.value",
    "SELECT value FROM keystore_public_records WHERE kind = ? AND name = ?",
    "SELECT name, value FROM keystore_public_records WHERE kind = ? ORDER BY name",
    "SELECT name, purpose, format_version, kdf, opslimit, memlimit, salt, nonce, ciphertext, "
    "updated_at FROM keystore_sealed_secrets ORDER BY name",
    "SELECT COUNT(*) FROM keystore_sealed_secrets",
};

const Queries& QueriesFor(const sql::Db& db) {
  return db.backend() == sql::Backend::kPostgres ? kPgQueries : kSqliteQueries;
}

#ifdef SQLITE_OPEN_NOFOLLOW
constexpr int kNoFollow = SQLITE_OPEN_NOFOLLOW;  // refuse a symlink as the database file
#else
constexpr int kNoFollow = 0;  // SQLite < 3.31: the lstat() checks in Open() still refuse symlinks
#endif

// The one SQLite helper (storage/sqlite.h); its messages name the key store ("keystore: sqlite:
// ..."), as this file's own did.
using sql::Stmt;
constexpr std::string_view kWhat = "keystore";

Status Exec(sqlite3* db, const char* statement) { return sql::Exec(db, statement, kWhat); }

// Runs `body` inside BEGIN IMMEDIATE ... COMMIT; rolls back on any error.
template <typename F>
Status InTransaction(sqlite3* db, F&& body) {
  return sql::InTransaction(db, kWhat, std::forward<F>(body));
}
// The same over either backend (PostgreSQL: BEGIN ... COMMIT; sql::Db::Commit refuses a COMMIT
// the server answered with ROLLBACK, so a write is acknowledged only once it is durable).
template <typename F>
Status InTx(sql::Db& db, F&& body) {
  return sql::InTransaction(db, std::forward<F>(body));
}

// SQLite's message for the last failure on `db` (what error texts quote).
std::string ErrorText(sqlite3* db) { return sqlite3_errmsg(db); }

// The message for the last failure of `q` over `db`: as the file store always said it
// ("keystore: <SQLite's message>"), or "keystore: postgresql: ..." on PostgreSQL.
Status StmtError(sql::Db& db, const Stmt& q) {
  if (db.backend() == sql::Backend::kSqlite)
    return Status::Unavailable("keystore: " + ErrorText(db.sqlite()));
  return q.Error();
}

// A BLOB column as bytes.
Bytes ColBytes(Stmt& q, int i) {
  const std::string b = q.ColBlob(i);
  return Bytes(b.begin(), b.end());
}

Status Migrate(sqlite3* db) {
  MDL_RETURN_IF_ERROR(
      Exec(db, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)"));
  return InTransaction(db, [&]() -> Status {
    Stmt q(db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", kWhat);
    if (q.Step() != SQLITE_ROW) return Status::DataLoss("keystore: cannot read schema version");
    const int64_t current = q.ColInt(0);
    if (current > kSchemaVersion) {
      return Status::FailedPrecondition("keystore: schema version " + std::to_string(current) +
                                        " is newer than this build supports");
    }
    for (int64_t v = current; v < kSchemaVersion; ++v) {
      MDL_RETURN_IF_ERROR(Exec(db, kMigrations[v]));
      Stmt ins(db, "INSERT INTO schema_migrations (version) VALUES (?)", kWhat);
      ins.Int(1, v + 1);
      if (ins.Step() != SQLITE_DONE) return Status::Unavailable("keystore: " + ErrorText(db));
    }
    return Status::Ok();
  });
}

// Closes a connection when it goes out of scope unless release()d.
struct DbCloser {
  sqlite3* db;
  ~DbCloser() { sqlite3_close(db); }
  sqlite3* release() { return std::exchange(db, nullptr); }
};

// The status for an SQLite error `rc` (`what` describes it) met while reading `path`: a file
// SQLite cannot read as a database, or one without our tables, is not a key store (data_loss);
// anything else (busy, I/O, out of memory) is unavailable.
Status SqliteReadError(const std::string& path, int rc, const std::string& what) {
  switch (rc & 0xff) {
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
    case SQLITE_FORMAT:
    case SQLITE_ERROR:  // e.g. "no such table"
    case SQLITE_EMPTY:
      return Status::DataLoss("keystore: " + path + " is not a key store (" + what + ")");
    default:
      return Status::Unavailable("keystore: cannot read " + path + ": " + what);
  }
}

// Fails unless `path` still names the file whose lstat() was `expected` (it was not replaced
// between the checks of Open() and SQLite opening it).
Status CheckSameFile(const std::string& path, const struct stat& expected) {
  struct stat now;
  if (::lstat(path.c_str(), &now) != 0 || now.st_dev != expected.st_dev ||
      now.st_ino != expected.st_ino) {
    return Status::FailedPrecondition("keystore: " + path +
                                      " was replaced while it was being opened");
  }
  return Status::Ok();
}

// A "file:" URI for `path` with every byte outside [A-Za-z0-9/._-] percent-encoded, so that
// '?', '#', '%' and non-UTF-8 bytes in a file name cannot change its meaning (SQLite URI
// filenames, https://sqlite.org/uri.html).
std::string FileUri(const std::string& path, const char* query) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string uri = path.starts_with('/') ? "file://" : "file:";
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '/' || c == '.' || c == '_' || c == '-') {
      uri += static_cast<char>(c);
    } else {
      uri += '%';
      uri += kHex[c >> 4];
      uri += kHex[c & 15];
    }
  }
  return uri + "?" + query;
}

// Checks, without writing anything, that `path` is a key store: an SQLite file (header read
// here, so no SQLite code runs on other files) with both of our tables and a schema no newer
// than this build. Without a -wal file the database is read with immutable=1, which creates no
// -wal or -shm either (a plain read-only connection would leave both beside a WAL-mode file).
// No -wal means no open WAL connection, hence no checkpoint writing the file while we read it
// without locks; with a -wal its pages matter, so a normal read-only connection reads them.
Status CheckIsKeyStore(const std::string& path, const struct stat& checked) {
  {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
    if (fd < 0)
      return Status::Unavailable("keystore: cannot read " + path + ": " + std::strerror(errno));
    char header[16] = {};
    ssize_t n;
    do {
      n = ::pread(fd, header, sizeof header, 0);
    } while (n < 0 && errno == EINTR);
    const int err = errno;
    ::close(fd);
    if (n < 0)
      return Status::Unavailable("keystore: cannot read " + path + ": " + std::strerror(err));
    if (n == 0)
      return Status::DataLoss("keystore: " + path + " is not a key store (an empty file)");
    if (n != static_cast<ssize_t>(sizeof header) ||
        std::memcmp(header, "SQLite format 3", 16) != 0) {
      return Status::DataLoss("keystore: " + path + " is not a key store (not an SQLite database)");
    }
  }
  struct stat wal;
  const bool has_wal = ::lstat((path + "-wal").c_str(), &wal) == 0;
  sqlite3* raw = nullptr;
  constexpr int kReadOnly = SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX | kNoFollow;
  const int rc = has_wal ? sqlite3_open_v2(path.c_str(), &raw, kReadOnly, nullptr)
                         : sqlite3_open_v2(FileUri(path, "immutable=1").c_str(), &raw,
                                           kReadOnly | SQLITE_OPEN_URI, nullptr);
  DbCloser db{raw};
  if (rc != SQLITE_OK)
    return SqliteReadError(path, rc, raw ? sqlite3_errmsg(raw) : "out of memory");
  MDL_RETURN_IF_ERROR(CheckSameFile(path, checked));
  sqlite3_busy_timeout(db.db, 5000);
  {
    Stmt q(db.db,
           "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('sealed_secrets', "
           "'schema_migrations')",
           kWhat);
    if (q.Step() != SQLITE_ROW)
      return SqliteReadError(path, sqlite3_errcode(db.db), sqlite3_errmsg(db.db));
    if (q.ColInt(0) != 2)
      return Status::DataLoss("keystore: " + path + " is not a key store (no key store tables)");
  }
  Stmt v(db.db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", kWhat);
  if (v.Step() != SQLITE_ROW)
    return SqliteReadError(path, sqlite3_errcode(db.db), sqlite3_errmsg(db.db));
  if (v.ColInt(0) > kSchemaVersion) {
    return Status::FailedPrecondition("keystore: " + path + " has schema version " +
                                      std::to_string(v.ColInt(0)) +
                                      ", newer than this build supports");
  }
  return Status::Ok();
}

// Opens `path` (which must exist) read-write and sets the pragmas every connection uses.
// `checked`, if given, is the lstat() the caller vetted: the file opened must be that one.
Result<sqlite3*> OpenDb(const std::string& path, const struct stat* checked) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | kNoFollow, nullptr);
  DbCloser db{raw};
  if (rc != SQLITE_OK) {
    return Status::Unavailable("keystore: cannot open " + path + ": " +
                               (raw ? sqlite3_errmsg(raw) : "out of memory"));
  }
  if (checked != nullptr) MDL_RETURN_IF_ERROR(CheckSameFile(path, *checked));
  sqlite3_busy_timeout(db.db, 5000);
  // WAL with FULL sync: an acknowledged write survives power loss and kill -9. secure_delete:
  // a re-sealed record overwrites the old ciphertext instead of leaving it in a free page.
  Status st = Exec(db.db,
                   "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; "
                   "PRAGMA secure_delete=ON;");
  if (!st.ok())
    return Status::DataLoss("keystore: " + path + " is not a key store (" + st.message() + ")");
  return db.release();
}

// Refuses a store file that is missing, a symlink (O_NOFOLLOW semantics), not a regular file,
// owned by another user, or readable or writable by group or others. Stores its lstat().
Status CheckStoreFile(const std::string& path, struct stat* sb) {
  if (::lstat(path.c_str(), sb) != 0) {
    if (errno == ENOENT || errno == ENOTDIR)
      return Status::NotFound("keystore: " + path + " does not exist");
    return Status::Unavailable("keystore: cannot stat " + path + ": " + std::strerror(errno));
  }
  if (S_ISLNK(sb->st_mode)) {
    return Status::FailedPrecondition("keystore: " + path +
                                      " is a symbolic link; give the key store file itself");
  }
  if (!S_ISREG(sb->st_mode))
    return Status::FailedPrecondition("keystore: " + path + " is not a regular file");
  if (sb->st_uid != ::geteuid()) {
    return Status::FailedPrecondition(
        "keystore: " + path + " is owned by uid " + std::to_string(sb->st_uid) +
        ", not by the user running this (uid " + std::to_string(::geteuid()) + ")");
  }
  if ((sb->st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(sb->st_mode & 07777));
    return Status::FailedPrecondition(
        "keystore: " + path + " has mode " + mode +
        "; it must not be readable or writable by group or others (chmod 600)");
  }
  return Status::Ok();
}

// Associated data: format version, record name and purpose, KDF name and parameters.
std::string AssociatedData(std::string_view name, std::string_view purpose, const KdfParams& p) {
  return "medallion.keystore.v" + std::to_string(kFormatVersion) + "\n" + std::string(name) + "\n" +
         std::string(purpose) + "\n" + kKdfName + "\n" + std::to_string(p.opslimit) + "\n" +
         std::to_string(p.memlimit);
}

Result<SecretBytes> DeriveKey(std::string_view passphrase, ByteView salt, const KdfParams& p) {
  SecretBytes key(crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
  if (crypto_pwhash(key.RevealMutable().data(), key.size(), passphrase.data(), passphrase.size(),
                    salt.data(), p.opslimit, static_cast<size_t>(p.memlimit),
                    crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status::ResourceExhausted("keystore: Argon2id ran out of memory");
  }
  return key;
}

bool ParamsInBounds(const KdfParams& p) {
  return p.opslimit >= crypto_pwhash_OPSLIMIT_MIN && p.opslimit <= kMaxOpslimit &&
         p.memlimit >= crypto_pwhash_MEMLIMIT_MIN && p.memlimit <= kMaxMemlimit;
}

struct SealedRecord {
  std::string purpose;
  KdfParams params;
  Bytes salt, nonce, ciphertext;
};

Result<SealedRecord> Seal(Env env, std::string_view name, std::string_view purpose,
                          ByteView plaintext, std::string_view passphrase,
                          const KdfParams& params) {
  SealedRecord r{std::string(purpose),
                 params,
                 env.rng->RandomBytes(crypto_pwhash_SALTBYTES),
                 env.rng->RandomBytes(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES),
                 {}};
  MDL_ASSIGN_OR_RETURN(SecretBytes key, DeriveKey(passphrase, r.salt, params));
  const std::string ad = AssociatedData(name, purpose, params);
  r.ciphertext.resize(plaintext.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES);
  unsigned long long clen = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(r.ciphertext.data(), &clen, plaintext.data(),
                                             plaintext.size(),
                                             reinterpret_cast<const uint8_t*>(ad.data()), ad.size(),
                                             nullptr, r.nonce.data(), key.Reveal().data());
  r.ciphertext.resize(clen);
  return r;
}

Result<SecretBytes> OpenRecord(std::string_view name, const SealedRecord& r,
                               std::string_view passphrase) {
  if (!ParamsInBounds(r.params) || r.salt.size() != crypto_pwhash_SALTBYTES ||
      r.nonce.size() != crypto_aead_xchacha20poly1305_ietf_NPUBBYTES ||
      r.ciphertext.size() < crypto_aead_xchacha20poly1305_ietf_ABYTES) {
    return Status::DataLoss("keystore: record '" + std::string(name) + "' is malformed");
  }
  MDL_ASSIGN_OR_RETURN(SecretBytes key, DeriveKey(passphrase, r.salt, r.params));
  const std::string ad = AssociatedData(name, r.purpose, r.params);
  SecretBytes plain(r.ciphertext.size() - crypto_aead_xchacha20poly1305_ietf_ABYTES);
  unsigned long long plen = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          plain.RevealMutable().data(), &plen, nullptr, r.ciphertext.data(), r.ciphertext.size(),
          reinterpret_cast<const uint8_t*>(ad.data()), ad.size(), r.nonce.data(),
          key.Reveal().data()) != 0) {
    return Status::Unauthenticated("keystore: wrong passphrase or tampered key store");
  }
  return plain;
}

Result<SealedRecord> ReadRecord(sql::Db& db, std::string_view name) {
  Stmt q(db, QueriesFor(db).read_record, kWhat);
  q.Text(1, name);
  const int rc = q.Step();
  if (rc == SQLITE_DONE)
    return Status::DataLoss("keystore: record '" + std::string(name) + "' is missing");
  if (rc != SQLITE_ROW) {
    if (db.backend() == sql::Backend::kPostgres) return q.Error();
    const std::string what =
        "keystore: cannot read record '" + std::string(name) + "': " + ErrorText(db.sqlite());
    const int code = sqlite3_errcode(db.sqlite()) & 0xff;
    return code == SQLITE_CORRUPT || code == SQLITE_NOTADB ? Status::DataLoss(what)
                                                           : Status::Unavailable(what);
  }
  if (q.ColInt(1) != kFormatVersion || q.Col(2) != kKdfName) {
    return Status::DataLoss("keystore: record '" + std::string(name) + "' has an unknown format");
  }
  if (q.ColInt(3) < 0 || q.ColInt(4) < 0)
    return Status::DataLoss("keystore: record parameters out of bounds");
  SealedRecord r{q.Col(0),
                 KdfParams{static_cast<uint64_t>(q.ColInt(3)), static_cast<uint64_t>(q.ColInt(4))},
                 ColBytes(q, 5), ColBytes(q, 6), ColBytes(q, 7)};
  return r;
}

Status WriteRecord(sql::Db& db, Env env, std::string_view name, const SealedRecord& r) {
  Stmt q(db, QueriesFor(db).write_record, kWhat);
  if (!q.ok()) return StmtError(db, q);
  q.Text(1, name);
  q.Text(2, r.purpose);
  q.Int(3, kFormatVersion);
  q.Text(4, kKdfName);
  q.Int(5, static_cast<int64_t>(r.params.opslimit));
  q.Int(6, static_cast<int64_t>(r.params.memlimit));
  q.Blob(7, r.salt.data(), r.salt.size());
  q.Blob(8, r.nonce.data(), r.nonce.size());
  q.Blob(9, r.ciphertext.data(), r.ciphertext.size());
  q.Int(10, env.clock->NowSeconds());
  if (q.Step() != SQLITE_DONE) return StmtError(db, q);
  return Status::Ok();
}

// The number of sealed records in the store (a tenant without any has no key store).
Result<int64_t> CountRecords(sql::Db& db) {
  Stmt q(db, QueriesFor(db).count_records, kWhat);
  if (q.Step() != SQLITE_ROW) return StmtError(db, q);
  return q.ColInt(0);
}

// Opens the shared database at `url` for `tenant` (migrating it first).
Result<std::unique_ptr<sql::Db>> OpenTenantDb(const std::string& url, const std::string& tenant) {
  if (!sql::IsPostgresUrl(url))
    return Status::InvalidArgument("keystore: a key store in a database needs a postgresql:// URL");
  if (tenant.empty()) return Status::InvalidArgument("keystore: the tenant must not be empty");
  if (sodium_init() < 0) return Status::Internal("sodium_init failed");
  return sql::Db::Open(url, kWhat, sql::Schema{{}, PgMigrations()}, tenant);
}


// Plaintext layout of the seed record: len(entropy) || entropy || seed.
SecretBytes EncodeSecret(const WalletSecret& s) {
  SecretBytes out(1 + s.entropy.size() + s.seed.size());
  auto o = out.RevealMutable();
  o[0] = static_cast<uint8_t>(s.entropy.size());
  std::memcpy(o.data() + 1, s.entropy.Reveal().data(), s.entropy.size());
  std::memcpy(o.data() + 1 + s.entropy.size(), s.seed.Reveal().data(), s.seed.size());
  return out;
}

Result<WalletSecret> DecodeSecret(ByteView p) {
  if (p.empty() || p.size() != 1u + p[0] + 64u)
    return Status::DataLoss("keystore: seed record has a bad layout");
  WalletSecret s;
  s.entropy = SecretBytes::CopyFrom(p.subspan(1, p[0]));
  s.seed = SecretBytes::CopyFrom(p.subspan(1 + p[0]));
  return s;
}

}  // namespace

KdfParams KdfParams::Moderate() {
  return {crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE};
}
KdfParams KdfParams::Interactive() {
  return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}
KdfParams KdfParams::ForTests() { return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN}; }

Result<std::unique_ptr<KeyStore>> KeyStore::Create(const std::string& path,
                                                   std::string_view passphrase,
                                                   const WalletSecret& secret, KdfParams params,
                                                   Env env) {
  if (passphrase.empty())
    return Status::InvalidArgument("keystore: the passphrase must not be empty");
  if (!ParamsInBounds(params))
    return Status::InvalidArgument("keystore: KDF parameters out of bounds");
  if (secret.seed.size() != 64 || secret.entropy.size() > 64) {
    return Status::InvalidArgument("keystore: a wallet secret is a 64-byte seed and its entropy");
  }
  if (sodium_init() < 0) return Status::Internal("sodium_init failed");
  // Create the file ourselves so that it is 0600 from its first byte; SQLite gives the
  // -wal and -shm files the same mode. O_EXCL also refuses an existing symlink.
  int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    const int err = errno;
    const std::string why = "keystore: cannot create " + path + ": " + std::strerror(err);
    if (err == EEXIST) return Status::AlreadyExists("keystore: " + path + " already exists");
    if (err == ENOENT || err == ENOTDIR) return Status::NotFound(why);
    if (err == EACCES || err == EPERM || err == EROFS) return Status::PermissionDenied(why);
    return Status::Unavailable(why);
  }
  struct stat created;
  const bool stat_ok = ::fstat(fd, &created) == 0;
  ::close(fd);
  auto cleanup = [&] {
    ::unlink(path.c_str());
    ::unlink((path + "-wal").c_str());
    ::unlink((path + "-shm").c_str());
  };
  if (!stat_ok) {
    cleanup();
    return Status::Unavailable("keystore: cannot stat " + path);
  }
  auto raw = OpenDb(path, &created);
  if (!raw) {
    cleanup();
    return raw.error();
  }
  std::unique_ptr<KeyStore> store(new KeyStore(path, sql::Db::AdoptSqlite(*raw, kWhat), env));
  sql::Db& db = *store->db_;
  Status st = Migrate(db.sqlite());
  if (st.ok()) {
    SecretBytes plain = EncodeSecret(secret);
    auto sealed = Seal(env, kSeedRecord, kSeedPurpose, plain.Reveal(), passphrase, params);
    st = sealed ? InTx(db, [&] { return WriteRecord(db, env, kSeedRecord, *sealed); })
                : sealed.error();
  }
  if (!st.ok()) {
    store.reset();
    cleanup();
    return st;
  }
  return store;
}

Result<std::unique_ptr<KeyStore>> KeyStore::Open(const std::string& path, Env env) {
  struct stat sb;
  MDL_RETURN_IF_ERROR(CheckStoreFile(path, &sb));
  if (sodium_init() < 0) return Status::Internal("sodium_init failed");
  // Read-only first: a file that is not a key store (or one from a newer build) is refused
  // before anything could write to it (no WAL switch, no schema_migrations table).
  MDL_RETURN_IF_ERROR(CheckIsKeyStore(path, sb));
  MDL_ASSIGN_OR_RETURN(sqlite3 * db, OpenDb(path, &sb));
  std::unique_ptr<KeyStore> store(new KeyStore(path, sql::Db::AdoptSqlite(db, kWhat), env));
  MDL_RETURN_IF_ERROR(Migrate(db));
  return store;
}

Result<std::unique_ptr<KeyStore>> KeyStore::CreateInDatabase(const std::string& url,
                                                             const std::string& tenant,
                                                             std::string_view passphrase,
                                                             const WalletSecret& secret,
                                                             KdfParams params, Env env) {
  if (passphrase.empty())
    return Status::InvalidArgument("keystore: the passphrase must not be empty");
  if (!ParamsInBounds(params))
    return Status::InvalidArgument("keystore: KDF parameters out of bounds");
  if (secret.seed.size() != 64 || secret.entropy.size() > 64) {
    return Status::InvalidArgument("keystore: a wallet secret is a 64-byte seed and its entropy");
  }
  MDL_ASSIGN_OR_RETURN(std::unique_ptr<sql::Db> db, OpenTenantDb(url, tenant));
  std::unique_ptr<KeyStore> store(
      new KeyStore("postgresql (" + tenant + ")", std::move(db), env));
  sql::Db& d = *store->db_;
  SecretBytes plain = EncodeSecret(secret);
  MDL_ASSIGN_OR_RETURN(SealedRecord sealed,
                       Seal(env, kSeedRecord, kSeedPurpose, plain.Reveal(), passphrase, params));
  MDL_RETURN_IF_ERROR(InTx(d, [&]() -> Status {
    MDL_ASSIGN_OR_RETURN(int64_t n, CountRecords(d));
    if (n != 0) return Status::AlreadyExists("keystore: " + tenant + " already has a key store");
    return WriteRecord(d, env, kSeedRecord, sealed);
  }));
  return store;
}

Result<std::unique_ptr<KeyStore>> KeyStore::OpenInDatabase(const std::string& url,
                                                           const std::string& tenant, Env env) {
  MDL_ASSIGN_OR_RETURN(std::unique_ptr<sql::Db> db, OpenTenantDb(url, tenant));
  std::unique_ptr<KeyStore> store(
      new KeyStore("postgresql (" + tenant + ")", std::move(db), env));
  MDL_ASSIGN_OR_RETURN(int64_t n, CountRecords(*store->db_));
  if (n == 0) return Status::NotFound("keystore: " + tenant + " has no key store in the database");
  return store;
}

Result<std::unique_ptr<KeyStore>> KeyStore::ImportIntoDatabase(const KeyStore& from,
                                                               const std::string& url,
                                                               const std::string& tenant,
                                                               Env env) {
  MDL_ASSIGN_OR_RETURN(std::unique_ptr<sql::Db> db, OpenTenantDb(url, tenant));
  std::unique_ptr<KeyStore> store(
      new KeyStore("postgresql (" + tenant + ")", std::move(db), env));
  sql::Db& src = *from.db_;
  sql::Db& dst = *store->db_;
  MDL_RETURN_IF_ERROR(InTx(dst, [&]() -> Status {
    MDL_ASSIGN_OR_RETURN(int64_t n, CountRecords(dst));
    if (n != 0) return Status::AlreadyExists("keystore: " + tenant + " already has a key store");
    bool seed = false;
    {
      // Byte for byte: the ciphertext stays sealed under the owner's passphrase, its associated
      // data (format, name, purpose, KDF parameters) travels with it unchanged.
      Stmt q(src, QueriesFor(src).all_records, kWhat);
      Stmt ins(dst,
               "INSERT INTO keystore_sealed_secrets (name, purpose, format_version, kdf, "
               "opslimit, memlimit, salt, nonce, ciphertext, updated_at) VALUES "
               "(?,?,?,?,?,?,?,?,?,?)",
               kWhat);
      int rc;
      while ((rc = q.Step()) == SQLITE_ROW) {
        seed = seed || q.Col(0) == kSeedRecord;
        ins.Reset();
        ins.Text(1, q.Col(0)).Text(2, q.Col(1)).Int(3, q.ColInt(2)).Text(4, q.Col(3));
        ins.Int(5, q.ColInt(4)).Int(6, q.ColInt(5));
        const std::string salt = q.ColBlob(6), nonce = q.ColBlob(7), ct = q.ColBlob(8);
        ins.Blob(7, salt.data(), salt.size()).Blob(8, nonce.data(), nonce.size());
        ins.Blob(9, ct.data(), ct.size()).Int(10, q.ColInt(9));
        if (ins.Step() != SQLITE_DONE) return StmtError(dst, ins);
      }
      if (rc != SQLITE_DONE) return StmtError(src, q);
    }
    if (!seed) {
      return Status::DataLoss("keystore: " + from.path() + " has no record '" +
                              std::string(kSeedRecord) + "'");
    }
    Stmt q(src,
           src.backend() == sql::Backend::kPostgres
               ? "SELECT kind, name, value FROM keystore_public_records ORDER BY kind, name"
               : "SELECT kind, name, value FROM public_records ORDER BY kind, name",
           kWhat);
    Stmt ins(dst, kPgQueries.put_public, kWhat);
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) {
      ins.Reset();
      ins.Text(1, q.Col(0)).Text(2, q.Col(1)).Text(3, q.Col(2));
      if (ins.Step() != SQLITE_DONE) return StmtError(dst, ins);
    }
    if (rc != SQLITE_DONE) return StmtError(src, q);
    return Status::Ok();
  }));
  return store;
}

KeyStore::KeyStore(std::string path, std::unique_ptr<sql::Db> db, Env env)
    : path_(std::move(path)), db_(std::move(db)), env_(env) {}

KeyStore::~KeyStore() = default;

bool KeyStore::in_database() const { return db_->backend() == sql::Backend::kPostgres; }

Result<WalletSecret> KeyStore::Unlock(std::string_view passphrase) const {
  MDL_ASSIGN_OR_RETURN(SealedRecord r, ReadRecord(*db_, kSeedRecord));
  if (r.purpose != kSeedPurpose)
    return Status::Unauthenticated("keystore: wrong passphrase or tampered key store");
  MDL_ASSIGN_OR_RETURN(SecretBytes plain, OpenRecord(kSeedRecord, r, passphrase));
  return DecodeSecret(plain.Reveal());
}

Status KeyStore::ChangePassphrase(std::string_view old_passphrase, std::string_view new_passphrase,
                                  KdfParams params) {
  if (new_passphrase.empty())
    return Status::InvalidArgument("keystore: the new passphrase must not be empty");
  if (!ParamsInBounds(params))
    return Status::InvalidArgument("keystore: KDF parameters out of bounds");
  sql::Db& db = *db_;
  Status st = InTx(db, [&]() -> Status {
    std::vector<std::string> names;
    {
      Stmt q(db, QueriesFor(db).list_names, kWhat);
      int rc;
      while ((rc = q.Step()) == SQLITE_ROW) names.push_back(q.Col(0));
      if (rc != SQLITE_DONE) {
        if (db.backend() == sql::Backend::kPostgres) return q.Error();
        return Status::Unavailable("keystore: cannot list records: " + ErrorText(db.sqlite()));
      }
    }
    // The seed record first: it must exist and open under the old passphrase before any other
    // record is touched (a store without it is not one we can vouch for).
    auto seed = std::find(names.begin(), names.end(), kSeedRecord);
    if (seed == names.end())
      return Status::DataLoss("keystore: record '" + std::string(kSeedRecord) + "' is missing");
    std::rotate(names.begin(), seed, seed + 1);
    // Open every record before sealing any, so that a failure anywhere changes nothing even
    // before the transaction rolls back.
    struct Opened {
      std::string name, purpose;
      SecretBytes plain;
    };
    std::vector<Opened> opened;
    for (const auto& name : names) {
      MDL_ASSIGN_OR_RETURN(SealedRecord r, ReadRecord(db, name));
      if (name == kSeedRecord && r.purpose != kSeedPurpose) {
        return Status::Unauthenticated("keystore: wrong passphrase or tampered key store");
      }
      MDL_ASSIGN_OR_RETURN(SecretBytes plain, OpenRecord(name, r, old_passphrase));
      if (name == kSeedRecord) MDL_RETURN_IF_ERROR(DecodeSecret(plain.Reveal()).status());
      opened.push_back({name, r.purpose, std::move(plain)});
    }
    for (const auto& o : opened) {
      MDL_ASSIGN_OR_RETURN(SealedRecord fresh,
                           Seal(env_, o.name, o.purpose, o.plain.Reveal(), new_passphrase, params));
      MDL_RETURN_IF_ERROR(WriteRecord(db, env_, o.name, fresh));
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  // Committed. Move the new records into the database file and empty the WAL, so the frames
  // holding the old ciphertext do not linger in it (secure_delete already zeroed the old cells
  // in the database pages). Best effort: if another connection is reading, the checkpoint
  // cannot finish now and happens when the last connection closes; the change stands.
  // PostgreSQL: the old row versions are dead tuples until VACUUM reclaims them (docs/scale-out.md).
  if (db.backend() == sql::Backend::kSqlite)
    (void)Exec(db.sqlite(), "PRAGMA wal_checkpoint(TRUNCATE)");
  return Status::Ok();
}

Status KeyStore::PutPublic(std::string_view kind, std::string_view name, std::string_view value) {
  sql::Db& db = *db_;
  return InTx(db, [&]() -> Status {
    Stmt q(db, QueriesFor(db).put_public, kWhat);
    q.Text(1, kind);
    q.Text(2, name);
    q.Text(3, value);
    if (q.Step() != SQLITE_DONE) return StmtError(db, q);
    return Status::Ok();
  });
}

Result<std::string> KeyStore::GetPublic(std::string_view kind, std::string_view name) const {
  Stmt q(*db_, QueriesFor(*db_).get_public, kWhat);
  q.Text(1, kind);
  q.Text(2, name);
  const int rc = q.Step();
  if (rc == SQLITE_DONE)
    return Status::NotFound("keystore: no " + std::string(kind) + " '" + std::string(name) + "'");
  if (rc != SQLITE_ROW) return StmtError(*db_, q);
  return q.Col(0);
}

Result<std::vector<std::pair<std::string, std::string>>> KeyStore::ListPublic(
    std::string_view kind) const {
  Stmt q(*db_, QueriesFor(*db_).list_public, kWhat);
  q.Text(1, kind);
  std::vector<std::pair<std::string, std::string>> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) out.emplace_back(q.Col(0), q.Col(1));
  if (rc != SQLITE_DONE) return StmtError(*db_, q);
  return out;
}

Result<KdfParams> KeyStore::SeedKdfParams() const {
  MDL_ASSIGN_OR_RETURN(SealedRecord r, ReadRecord(*db_, kSeedRecord));
  return r.params;
}

}  // namespace medallion::wallet
