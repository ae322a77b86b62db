// PgLeafStore: the ledger's storage on PostgreSQL through libpq. Every statement is prepared
// once per connection and takes its data as parameters (binary format: int8/int4 big-endian,
// bytea and text as bytes, arrays in the array_send format); a batch is four or five statements
// over unnest() of arrays inside one transaction, acknowledged after COMMIT returned.
#include "medallion/ledger/pg_store.h"

#include "tile_rows.h"

#include <libpq-fe.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <limits>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "medallion/core/metrics.h"

#include "tile_rows.h"

namespace medallion::ledger {
namespace {

// Migration N brings the schema from version N-1 to N. Append only; never edit a shipped one.
// The tables are those of SqliteLeafStore, in PostgreSQL's types (bytea for hashes and entry
// bytes), and the sequencer lease's epoch.
struct Migration {
  const char* description;
  const char* sql;
};
const Migration kMigrations[] = {
    {"leaves, nodes, key index, checkpoints, witness state, sequencer lease", R"sql(
CREATE TABLE leaves(
  idx bigint PRIMARY KEY CHECK(idx >= 0),
  leaf_hash bytea NOT NULL CHECK(length(leaf_hash) = 32),
  entry bytea NOT NULL);
CREATE TABLE nodes(
  level integer NOT NULL CHECK(level >= 1),
  idx bigint NOT NULL CHECK(idx >= 0),
  hash bytea NOT NULL CHECK(length(hash) = 32),
  PRIMARY KEY(level, idx));
CREATE TABLE entry_keys(
  kind integer NOT NULL,
  value text NOT NULL,
  idx bigint NOT NULL,
  PRIMARY KEY(kind, value, idx));
CREATE TABLE checkpoints(
  size bigint PRIMARY KEY CHECK(size >= 0),
  note text NOT NULL);
CREATE TABLE witness_state(
  origin text PRIMARY KEY,
  size bigint NOT NULL,
  root bytea NOT NULL CHECK(length(root) = 32));
CREATE TABLE sequencer_lease(
  id integer PRIMARY KEY CHECK(id = 1),
  epoch bigint NOT NULL,
  holder text NOT NULL,
  acquired_at timestamptz);
INSERT INTO sequencer_lease(id, epoch, holder) VALUES (1, 0, '');
)sql"},
    // Issue 18: SqliteLeafStore's migration 2 (tile_rows.h), in SQL: a tile row's hashes are
    // its nodes ordered by level then index, which string_agg(... ORDER BY) gives directly.
    {"the tree as tiles (one row per tile), converted from the node rows", R"sql(
CREATE TABLE tiles(
  level integer NOT NULL CHECK(level >= 0 AND level < 8),
  idx bigint NOT NULL CHECK(idx >= 0),
  width integer NOT NULL CHECK(width BETWEEN 1 AND 256),
  hashes bytea NOT NULL,
  PRIMARY KEY(level, idx));
INSERT INTO tiles(level, idx, width, hashes)
SELECT level / 8, idx >> (8 - level % 8), count(*) FILTER (WHERE level % 8 = 0),
       string_agg(hash, ''::bytea ORDER BY level, idx)
FROM (SELECT 0 AS level, idx, leaf_hash AS hash FROM leaves
      UNION ALL SELECT level, idx, hash FROM nodes) AS n
GROUP BY level / 8, idx >> (8 - level % 8);
DO $$
BEGIN
  -- A node row missing leaves a row shorter than its width says: refuse to convert.
  IF EXISTS (SELECT 1 FROM tiles WHERE length(hashes) <> 32 * (width + (width >> 1) +
             (width >> 2) + (width >> 3) + (width >> 4) + (width >> 5) + (width >> 6) +
             (width >> 7))) THEN
    RAISE EXCEPTION 'ledger migration 2: a node row is missing';
  END IF;
END $$;
-- A partial tile stores its base hashes only (tile_rows.h).
UPDATE tiles SET hashes = substring(hashes from 1 for 32 * width) WHERE width < 256;
DROP TABLE nodes;
)sql"},
};
constexpr int kSchemaVersion = sizeof(kMigrations) / sizeof(kMigrations[0]);

// Advisory lock keys (two int4): a constant class per purpose, and hashtext(current_schema())
// so that two schemas of one database (tests; two logs) do not share a lease.
constexpr int32_t kLeaseLockClass = 0x4D444C31;      // "MDL1"
constexpr int32_t kMigrationLockClass = 0x4D444C32;  // "MDL2"

// Type OIDs (src/include/catalog/pg_type.dat): fixed in every PostgreSQL release.
constexpr Oid kInt4 = 23, kInt8 = 20, kBytea = 17, kText = 25;
constexpr Oid kInt4Array = 1007, kInt8Array = 1016, kByteaArray = 1001, kTextArray = 1009;

void PutBe32(std::string& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<char>((v >> s) & 0xff));
}
void PutBe64(std::string& out, uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) out.push_back(static_cast<char>((v >> s) & 0xff));
}
std::string Be64(int64_t v) {
  std::string s;
  PutBe64(s, static_cast<uint64_t>(v));
  return s;
}
std::string Be32(int32_t v) {
  std::string s;
  PutBe32(s, static_cast<uint32_t>(v));
  return s;
}

// A one-dimensional array without NULLs in the binary format of array_send
// (src/backend/utils/adt/arrayfuncs.c): ndim, has-null flag, element type, dimension, lower
// bound, then each element as its length and bytes.
class ArrayParam {
 public:
  explicit ArrayParam(Oid element) : element_(element) {}
  void Add(std::string_view element_bytes) {
    PutBe32(body_, static_cast<uint32_t>(element_bytes.size()));
    body_.append(element_bytes);
    ++count_;
  }
  std::string Encode() const {
    std::string out;
    PutBe32(out, 1);
    PutBe32(out, 0);
    PutBe32(out, element_);
    PutBe32(out, count_);
    PutBe32(out, 1);
    return out + body_;
  }
  uint32_t size() const { return count_; }

 private:
  Oid element_;
  uint32_t count_ = 0;
  std::string body_;
};

// Parameters of one statement, all in binary format with explicit types.
struct Params {
  std::vector<std::string> values;
  std::vector<Oid> types;
  Params& Int8(int64_t v) { return Add(kInt8, Be64(v)); }
  Params& Int4(int32_t v) { return Add(kInt4, Be32(v)); }
  Params& Bytea(std::string_view b) { return Add(kBytea, std::string(b)); }
  Params& Bytea(const Hash& h) {
    return Add(kBytea, std::string(reinterpret_cast<const char*>(h.data()), h.size()));
  }
  Params& Text(std::string_view t) { return Add(kText, std::string(t)); }
  Params& Array(Oid array_type, const ArrayParam& a) { return Add(array_type, a.Encode()); }
  Params& Add(Oid type, std::string v) {
    types.push_back(type);
    values.push_back(std::move(v));
    return *this;
  }
};

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

// Replaces every occurrence of `secret` in `text` by "***".
void Scrub(std::string& text, const std::string& secret) {
  if (secret.empty()) return;
  for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at))
    text.replace(at, secret.size(), "***");
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexDigit(s[i + 1]) >= 0 && HexDigit(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexDigit(s[i + 1]) * 16 + HexDigit(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// The passwords written in a URL (userinfo and "password=" parameters), as written and
// percent-decoded: what error messages must never show.
std::vector<std::string> UrlSecrets(std::string_view url) {
  std::vector<std::string> out;
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return out;
  std::string_view rest = url.substr(scheme + 3);
  const size_t at = rest.substr(0, rest.find_first_of("/?")).rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    const size_t colon = userinfo.find(':');
    if (colon != std::string_view::npos) out.emplace_back(userinfo.substr(colon + 1));
  }
  const size_t query = url.find('?');
  if (query != std::string_view::npos) {
    std::string_view q = url.substr(query + 1);
    while (!q.empty()) {
      const size_t amp = q.find('&');
      std::string_view pair = q.substr(0, amp);
      if (pair.rfind("password=", 0) == 0) out.emplace_back(pair.substr(9));
      if (amp == std::string_view::npos) break;
      q.remove_prefix(amp + 1);
    }
  }
  const size_t n = out.size();
  for (size_t i = 0; i < n; ++i) out.push_back(PercentDecode(out[i]));
  std::erase_if(out, [](const std::string& s) { return s.empty(); });
  // Longest first, so that a decoded form containing the raw one is scrubbed whole.
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.size() > b.size(); });
  return out;
}

// One libpq connection with the names of the statements prepared on it.
class Connection {
 public:
  Connection(std::string url, std::vector<std::string> secrets)
      : url_(std::move(url)), secrets_(std::move(secrets)) {}
  ~Connection() { Close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool ok() const { return pg_ != nullptr && PQstatus(pg_) == CONNECTION_OK; }

  // Connects if not connected (or the connection went bad). *fresh tells whether it did.
  Status Ensure(bool* fresh = nullptr) {
    if (fresh) *fresh = false;
    if (ok()) return Status::Ok();
    Close();
    pg_ = PQconnectdb(url_.c_str());
    if (pg_ == nullptr) return Status::Unavailable("postgresql: cannot connect: out of memory");
    if (PQstatus(pg_) != CONNECTION_OK) {
      Status st = Status::Unavailable("postgresql: cannot connect to " + RedactDbUrl(url_) + ": " +
                                      LastError());
      Close();
      return st;
    }
    // Durability is the contract (an acknowledged append is committed and flushed): never rely
    // on the server's or the role's default. Bytes of text columns are UTF-8 as sent.
    std::vector<const char*> settings = {"SET synchronous_commit TO on",
                                         "SET client_encoding TO 'UTF8'"};
    // A URL may name the connections itself (tests find their backends by it).
    if (url_.find("application_name=") == std::string::npos)
      settings.push_back("SET application_name TO 'medallion-ledger'");
    for (const char* setting : settings) {
      PgResult r(PQexec(pg_, setting));
      if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
        Status st = Error(setting, r.get());
        Close();
        return st;
      }
    }
    // Server notices (e.g. "relation already exists, skipping") are not errors: libpq would
    // print them on stderr.
    PQsetNoticeProcessor(pg_, [](void*, const char*) {}, nullptr);
    if (fresh) *fresh = true;
    return Status::Ok();
  }

  void Close() {
    if (pg_ != nullptr) PQfinish(pg_);
    pg_ = nullptr;
    prepared_.clear();
  }

  // Runs the statement `sql` (prepared once under the name `name`) with `params`; results in
  // binary. On failure: unavailable "postgresql: <op>: <server message>".
  Result<PgResult> Run(const char* name, const char* sql, const Params& params, const char* op) {
    if (!ok()) return Status::Unavailable(std::string("postgresql: ") + op + ": not connected");
    if (!prepared_.contains(name)) {
      PgResult p(PQprepare(pg_, name, sql, static_cast<int>(params.types.size()),
                           params.types.data()));
      if (PQresultStatus(p.get()) != PGRES_COMMAND_OK) return Error(op, p.get());
      prepared_.insert(name);
    }
    std::vector<const char*> values;
    std::vector<int> lengths, formats;
    for (const std::string& v : params.values) {
      values.push_back(v.data());
      lengths.push_back(static_cast<int>(v.size()));
      formats.push_back(1);
    }
    PgResult r(PQexecPrepared(pg_, name, static_cast<int>(values.size()), values.data(),
                              lengths.data(), formats.data(), 1));
    const ExecStatusType s = PQresultStatus(r.get());
    if (s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK) return Error(op, r.get());
    return r;
  }

  // One statement of a pipeline.
  struct Step {
    const char* name;
    const char* sql;
    Params params;
    const char* op;
  };

  // Runs `steps` in one round trip (libpq pipeline mode, PostgreSQL 15 manual §34.5): *out gets
  // the results read (binary), in order, and the first failure is returned (the server skips
  // the statements after it). A pipeline that cannot be sent or read leaves the connection
  // closed (its transaction ends with it).
  Status RunPipeline(const std::vector<Step>& steps, std::vector<PgResult>* out) {
    out->clear();
    if (!ok()) return Status::Unavailable("postgresql: pipeline: not connected");
    for (const Step& st : steps) {
      if (prepared_.contains(st.name)) continue;
      PgResult p(PQprepare(pg_, st.name, st.sql, static_cast<int>(st.params.types.size()),
                           st.params.types.data()));
      if (PQresultStatus(p.get()) != PGRES_COMMAND_OK) return Error(st.op, p.get());
      prepared_.insert(st.name);
    }
    auto broken = [&](const char* op) {
      Status st = Error(op, nullptr);
      Close();
      return st;
    };
    if (PQenterPipelineMode(pg_) != 1) return broken("pipeline");
    for (const Step& st : steps) {
      std::vector<const char*> values;
      std::vector<int> lengths, formats;
      for (const std::string& v : st.params.values) {
        values.push_back(v.data());
        lengths.push_back(static_cast<int>(v.size()));
        formats.push_back(1);
      }
      if (PQsendQueryPrepared(pg_, st.name, static_cast<int>(values.size()), values.data(),
                              lengths.data(), formats.data(), 1) != 1) {
        return broken(st.op);
      }
    }
    if (PQpipelineSync(pg_) != 1) return broken("pipeline sync");
    Status first;
    for (const Step& st : steps) {
      PgResult r(PQgetResult(pg_));
      if (!r) return broken(st.op);
      const ExecStatusType t = PQresultStatus(r.get());
      if (t != PGRES_TUPLES_OK && t != PGRES_COMMAND_OK && first.ok()) {
        first = t == PGRES_PIPELINE_ABORTED
                    ? Status::Unavailable(std::string("postgresql: ") + st.op + ": aborted")
                    : Error(st.op, r.get());
      }
      out->push_back(std::move(r));
      // Each statement's results end with a null result.
      while (PGresult* extra = PQgetResult(pg_)) PQclear(extra);
    }
    PgResult sync(PQgetResult(pg_));
    if (!sync || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC) return broken("pipeline sync");
    if (PQexitPipelineMode(pg_) != 1) return broken("pipeline end");
    return first;
  }

  // A statement without parameters or results (BEGIN, COMMIT, DDL).
  Status Exec(const char* sql, const char* op) {
    if (!ok()) return Status::Unavailable(std::string("postgresql: ") + op + ": not connected");
    PgResult r(PQexec(pg_, sql));
    const ExecStatusType s = PQresultStatus(r.get());
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) return Error(op, r.get());
    return Status::Ok();
  }

  // COMMIT, refusing the answer PostgreSQL gives for a transaction that had already failed:
  // PGRES_COMMAND_OK with the command tag ROLLBACK (nothing was committed).
  Status ExecCommit() {
    if (!ok()) return Status::Unavailable("postgresql: commit: not connected");
    PgResult r(PQexec(pg_, "COMMIT"));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) return Error("commit", r.get());
    if (std::string_view(PQcmdStatus(r.get())) != "COMMIT")
      return Status::Unavailable(
          "postgresql: commit: the transaction had failed and was rolled back, nothing written");
    return Status::Ok();
  }

  // The SQLSTATE of the last failed statement's result, if any.
  static std::string SqlState(const PGresult* r) {
    const char* code = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    return code ? code : "";
  }

 private:
  std::string LastError() const {
    std::string m = pg_ ? PQerrorMessage(pg_) : "no connection";
    while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
    for (const std::string& s : secrets_) Scrub(m, s);
    return m;
  }
  Status Error(const char* op, const PGresult* r) {
    std::string m = r ? PQresultErrorMessage(r) : "";
    if (m.empty()) m = LastError();
    while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
    for (const std::string& s : secrets_) Scrub(m, s);
    return Status::Unavailable(std::string("postgresql: ") + op + ": " + m);
  }

  std::string url_;
  std::vector<std::string> secrets_;
  PGconn* pg_ = nullptr;
  std::set<std::string> prepared_;
};

int64_t GetInt(const PGresult* r, int row, int col) {
  const char* v = PQgetvalue(r, row, col);
  const int len = PQgetlength(r, row, col);
  uint64_t out = 0;
  for (int i = 0; i < len; ++i) out = (out << 8) | static_cast<unsigned char>(v[i]);
  if (len == 4) return static_cast<int32_t>(static_cast<uint32_t>(out));
  return static_cast<int64_t>(out);
}

std::string GetBytes(const PGresult* r, int row, int col) {
  return std::string(PQgetvalue(r, row, col), static_cast<size_t>(PQgetlength(r, row, col)));
}

bool ToHash(const std::string& b, Hash* out) {
  if (b.size() != kHashSize) return false;
  std::memcpy(out->data(), b.data(), kHashSize);
  return true;
}

[[maybe_unused]] bool IsOk(const Status& s) { return s.ok(); }
template <typename T>
bool IsOk(const Result<T>& r) {
  return r.has_value();
}

int64_t ClampLimit(size_t limit) {
  return static_cast<int64_t>(
      std::min<uint64_t>(limit, static_cast<uint64_t>(std::numeric_limits<int64_t>::max())));
}

}  // namespace

bool IsPostgresUrl(std::string_view db) {
  auto starts = [&](std::string_view p) {
    if (db.size() < p.size()) return false;
    for (size_t i = 0; i < p.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(db[i])) != p[i]) return false;
    }
    return true;
  };
  return starts("postgresql://") || starts("postgres://");
}

std::string RedactDbUrl(std::string_view db) {
  std::string out(db);
  if (!IsPostgresUrl(db)) return out;
  for (const std::string& s : UrlSecrets(db)) Scrub(out, s);
  return out;
}

struct PgLeafStore::Impl {
  Impl(const std::string& url)
      : read(url, UrlSecrets(url)), write(url, UrlSecrets(url)) {}

  // Reads: one connection; a read that fails because the connection broke is retried once on
  // a new one (reads are idempotent).
  std::mutex read_mu;
  Connection read;
  // Writes and the lease: the session advisory lock lives on this connection, so it ends with it.
  std::mutex write_mu;
  Connection write;
  // The partial tiles as of partials->size (tile_rows.h), under write_mu; reloaded when a batch
  // does not start at that size or a batch failed.
  std::optional<tile_rows::Partials> partials;
  // Tile rows read lately (full ones never change; a partial one is re-read when too narrow).
  std::mutex rows_mu;
  tile_rows::RowCache rows{1024};
  bool lease_wanted = false;  // TryAcquireSequencerLease was called: Append is fenced
  bool lease_held = false;
  int64_t epoch = 0;

  template <typename F>
  auto Read(F&& body) -> decltype(body(read)) {
    std::lock_guard<std::mutex> lock(read_mu);
    for (int attempt = 0;; ++attempt) {
      if (Status st = read.Ensure(); !st.ok()) return st;
      auto out = body(read);
      if (IsOk(out) || read.ok() || attempt > 0) return out;
    }
  }

  // The row of tile (level, index) with at least `min_width` base hashes: cached, else read.
  Result<std::shared_ptr<const tile_rows::Row>> Row(uint32_t level, uint64_t index,
                                                    uint32_t min_width) {
    {
      std::lock_guard<std::mutex> lock(rows_mu);
      auto row = rows.Get(level, index);
      if (row && row->width >= min_width) return row;
    }
    MDL_ASSIGN_OR_RETURN(tile_rows::Row read_row,
                         Read([&](Connection& c) { return ReadRow(c, level, index); }));
    auto row = std::make_shared<const tile_rows::Row>(std::move(read_row));
    std::lock_guard<std::mutex> lock(rows_mu);
    rows.Put(row);
    return row;
  }
  static Result<tile_rows::Row> ReadRow(Connection& c, uint32_t level, uint64_t index) {
    MDL_ASSIGN_OR_RETURN(
        PgResult r,
        c.Run("get_tile", "SELECT width, hashes FROM tiles WHERE level = $1 AND idx = $2",
              Params().Int4(static_cast<int32_t>(level)).Int8(static_cast<int64_t>(index)),
              "get tile"));
    if (PQntuples(r.get()) == 0) {
      return Status::NotFound("tile (" + std::to_string(level) + ", " + std::to_string(index) +
                              ")");
    }
    tile_rows::Row row{level, index, static_cast<uint32_t>(GetInt(r.get(), 0, 0)), {}};
    const std::string hashes = GetBytes(r.get(), 0, 1);
    MDL_RETURN_IF_ERROR(tile_rows::CheckRow(level, index, row.width, hashes.size()));
    row.hashes.assign(hashes.begin(), hashes.end());
    tile_rows::Expand(row);
    return row;
  }

  // The writer's connection, (re)opened; a new connection does not hold the lease.
  Status EnsureWriter() {
    bool fresh = false;
    MDL_RETURN_IF_ERROR(write.Ensure(&fresh));
    if (fresh) lease_held = false;
    return Status::Ok();
  }

  // BEGIN; body; COMMIT, or ROLLBACK on error. REQUIRES: write_mu held.
  template <typename F>
  Status Transaction(F&& body) {
    MDL_RETURN_IF_ERROR(write.Exec("BEGIN", "begin"));
    Status st = body();
    if (!st.ok()) {
      if (write.ok()) (void)write.Exec("ROLLBACK", "rollback");
      return st;
    }
    return Commit();
  }

  // COMMIT on the writer. An append is acknowledged once this returns: with synchronous_commit
  // on, COMMIT returns after the commit record is flushed to the WAL on disk.
  Status Commit() {
    const auto t0 = std::chrono::steady_clock::now();
    Status committed = write.ExecCommit();
    metrics::Registry::Default().Observe(
        "medallion_postgres_commit_seconds",
        "COMMIT latency on PostgreSQL (synchronous_commit on: the server's WAL flush)",
        {{"store", "ledger"}},
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
        metrics::LatencyBuckets());
    return committed;
  }
};

PgLeafStore::PgLeafStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

PgLeafStore::~PgLeafStore() {
  // Give the lease back before closing: the server releases a closed session's locks only once
  // its backend has noticed and exited, and a node restarted at once would start as a standby.
  std::lock_guard<std::mutex> lock(impl_->write_mu);
  if (impl_->lease_held && impl_->write.ok()) {
    // (All of the session's: a lease taken again after a fencing is held twice.)
    (void)impl_->write.Run("lease_unlock_all", "SELECT pg_advisory_unlock_all()", Params(),
                           "lease unlock");
  }
}

int PgLeafStore::SchemaVersion() { return kSchemaVersion; }

Result<std::unique_ptr<PgLeafStore>> PgLeafStore::Open(const std::string& url) {
  if (!IsPostgresUrl(url))
    return Status::InvalidArgument("not a postgresql:// URL: " + RedactDbUrl(url));
  auto impl = std::make_unique<Impl>(url);
  MDL_RETURN_IF_ERROR(impl->write.Ensure());
  Connection& c = impl->write;
  // Migrations: one transaction under a transaction-scoped advisory lock, so that two nodes
  // starting together on a fresh database do not both create the tables.
  int version = 0;
  Status st = impl->Transaction([&]() -> Status {
    MDL_RETURN_IF_ERROR(
        c.Run("mig_lock", "SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))",
              Params().Int4(kMigrationLockClass), "migration lock")
            .status());
    MDL_RETURN_IF_ERROR(c.Exec(R"sql(
CREATE TABLE IF NOT EXISTS ledger_schema_migrations(
  version integer PRIMARY KEY,
  description text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()))sql",
                               "create ledger_schema_migrations"));
    MDL_ASSIGN_OR_RETURN(PgResult r,
                         c.Run("mig_version",
                               "SELECT COALESCE(MAX(version), 0)::int8 FROM ledger_schema_migrations",
                               Params(), "schema version"));
    version = static_cast<int>(GetInt(r.get(), 0, 0));
    if (version > kSchemaVersion) {
      return Status::DataLoss("ledger database schema " + std::to_string(version) +
                              " is newer than this build (" + std::to_string(kSchemaVersion) +
                              ")");
    }
    for (int v = version; v < kSchemaVersion; ++v) {
      Status m = c.Exec(kMigrations[v].sql, "migration");
      if (!m.ok())
        return Status::Unavailable("migration " + std::to_string(v + 1) + ": " + m.message());
      MDL_RETURN_IF_ERROR(c.Run("mig_record",
                                "INSERT INTO ledger_schema_migrations(version, description) "
                                "VALUES($1, $2)",
                                Params().Int4(v + 1).Text(kMigrations[v].description),
                                "record migration")
                              .status());
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  MDL_RETURN_IF_ERROR(impl->read.Ensure());
  return std::unique_ptr<PgLeafStore>(new PgLeafStore(std::move(impl)));
}

namespace {

Result<uint64_t> SizeOn(Connection& c) {
  MDL_ASSIGN_OR_RETURN(PgResult r, c.Run("size", "SELECT COALESCE(MAX(idx) + 1, 0)::int8 FROM leaves",
                                         Params(), "size"));
  return static_cast<uint64_t>(GetInt(r.get(), 0, 0));
}

}  // namespace

Result<uint64_t> PgLeafStore::Size() {
  return impl_->Read([&](Connection& c) { return SizeOn(c); });
}

Status PgLeafStore::Append(const AppendBatch& batch) {
  std::lock_guard<std::mutex> lock(impl_->write_mu);
  Impl& m = *impl_;
  MDL_RETURN_IF_ERROR(m.EnsureWriter());
  if (m.lease_wanted && !m.lease_held) {
    return Status::WithReason(StatusCode::kUnavailable, "lease_lost",
                              "the sequencer lease was lost with the database connection");
  }
  Connection& c = m.write;
  // The whole batch is one pipeline (one round trip) ending before COMMIT: BEGIN; the lease
  // row FOR SHARE; the size; one INSERT ... unnest() per table. The checks are made on the
  // answers, then COMMIT (a second round trip) or ROLLBACK.
  std::vector<Connection::Step> steps;
  steps.push_back({"begin", "BEGIN", Params(), "begin"});
  // Fencing: a holder that took the lease after ours bumped the epoch; FOR SHARE makes its bump
  // wait for this transaction, so a batch is either before its takeover or refused.
  const bool fenced = m.lease_wanted;
  if (fenced) {
    steps.push_back({"lease_check", "SELECT epoch FROM sequencer_lease WHERE id = 1 FOR SHARE",
                     Params(), "lease check"});
  }
  const size_t size_step = steps.size();
  steps.push_back(
      {"size", "SELECT COALESCE(MAX(idx) + 1, 0)::int8 FROM leaves", Params(), "size"});
  if (!batch.leaves.empty()) {
    ArrayParam idx(kInt8), hash(kBytea), entry(kBytea);
    for (const StoredLeaf& l : batch.leaves) {
      idx.Add(Be64(static_cast<int64_t>(l.index)));
      hash.Add(std::string_view(reinterpret_cast<const char*>(l.leaf_hash.data()), kHashSize));
      entry.Add(l.entry);
    }
    steps.push_back({"ins_leaves",
                     "INSERT INTO leaves(idx, leaf_hash, entry) "
                     "SELECT * FROM unnest($1::int8[], $2::bytea[], $3::bytea[])",
                     Params()
                         .Array(kInt8Array, idx)
                         .Array(kByteaArray, hash)
                         .Array(kByteaArray, entry),
                     "insert leaves"});
  }
  // The tiles the batch fills or grows, from the partial tiles kept since the last batch.
  if (!batch.leaves.empty() && (!m.partials || m.partials->size != batch.leaves[0].index)) {
    m.partials.reset();
    MDL_ASSIGN_OR_RETURN(
        tile_rows::Partials loaded,
        tile_rows::LoadPartials(batch.leaves[0].index, [&](uint32_t level, uint64_t index) {
          return m.Read([&](Connection& rc) { return Impl::ReadRow(rc, level, index); });
        }));
    m.partials = std::move(loaded);
  }
  std::optional<tile_rows::Partials> next;
  std::vector<tile_rows::Row> tiles;
  if (!batch.leaves.empty()) {
    next = *m.partials;
    MDL_ASSIGN_OR_RETURN(tiles, tile_rows::AddBatch(*next, batch));
  }
  if (!tiles.empty()) {
    ArrayParam level(kInt4), tidx(kInt8), width(kInt4), hashes(kBytea);
    for (const tile_rows::Row& t : tiles) {
      level.Add(Be32(static_cast<int32_t>(t.level)));
      tidx.Add(Be64(static_cast<int64_t>(t.index)));
      width.Add(Be32(static_cast<int32_t>(t.width)));
      hashes.Add(std::string_view(reinterpret_cast<const char*>(t.hashes.data()), t.hashes.size()));
    }
    steps.push_back({"put_tiles",
                     "INSERT INTO tiles(level, idx, width, hashes) "
                     "SELECT * FROM unnest($1::int4[], $2::int8[], $3::int4[], $4::bytea[]) "
                     "ON CONFLICT (level, idx) DO UPDATE "
                     "SET width = excluded.width, hashes = excluded.hashes",
                     Params()
                         .Array(kInt4Array, level)
                         .Array(kInt8Array, tidx)
                         .Array(kInt4Array, width)
                         .Array(kByteaArray, hashes),
                     "put tiles"});
  }
  if (!batch.keys.empty()) {
    ArrayParam kind(kInt4), value(kText), kidx(kInt8);
    for (const auto& [k, i] : batch.keys) {
      kind.Add(Be32(static_cast<int32_t>(k.kind)));
      value.Add(k.value);
      kidx.Add(Be64(static_cast<int64_t>(i)));
    }
    steps.push_back({"ins_keys",
                     "INSERT INTO entry_keys(kind, value, idx) "
                     "SELECT * FROM unnest($1::int4[], $2::text[], $3::int8[]) "
                     "ON CONFLICT DO NOTHING",
                     Params()
                         .Array(kInt4Array, kind)
                         .Array(kTextArray, value)
                         .Array(kInt8Array, kidx),
                     "insert keys"});
  }
  if (batch.checkpoint) {
    steps.push_back({"put_cp",
                     "INSERT INTO checkpoints(size, note) VALUES($1, $2) "
                     "ON CONFLICT (size) DO UPDATE SET note = excluded.note",
                     Params()
                         .Int8(static_cast<int64_t>(batch.checkpoint->size))
                         .Text(batch.checkpoint->note),
                     "insert checkpoint"});
  }

  Status st = [&]() -> Status {
    std::vector<PgResult> results;
    Status sent = c.RunPipeline(steps, &results);
    // The answers in order of precedence: the lease, the size (a batch that does not start at
    // Size() fails on the leaves' primary key before its size is looked at), the rest.
    auto answered = [&](size_t i) {
      return i < results.size() && PQresultStatus(results[i].get()) == PGRES_TUPLES_OK &&
             PQntuples(results[i].get()) == 1;
    };
    if (fenced && answered(1)) {
      const int64_t epoch = GetInt(results[1].get(), 0, 0);
      if (epoch != m.epoch) {
        m.lease_held = false;
        return Status::WithReason(StatusCode::kFailedPrecondition, "lease_lost",
                                  "another sequencer took the lease (epoch " +
                                      std::to_string(epoch) + ", ours " +
                                      std::to_string(m.epoch) + ")");
      }
    }
    if (answered(size_step)) {
      const uint64_t size = static_cast<uint64_t>(GetInt(results[size_step].get(), 0, 0));
      // The leaves were inserted before this answer was read: a wrong index rolls them back.
      for (size_t i = 0; i < batch.leaves.size(); ++i) {
        if (batch.leaves[i].index != size + i) {
          return Status::FailedPrecondition("append: leaf index " +
                                            std::to_string(batch.leaves[i].index) +
                                            ", expected " + std::to_string(size + i));
        }
      }
    }
    if (!sent.ok()) return sent;
    if (fenced && !answered(1)) return Status::DataLoss("sequencer_lease has no row");
    return m.Commit();
  }();
  if (st.ok()) {
    if (next) m.partials = std::move(next);
    std::lock_guard<std::mutex> rows_lock(m.rows_mu);
    for (const tile_rows::Row& t : tiles) m.rows.Erase(t.level, t.index);
  } else {
    m.partials.reset();  // a COMMIT whose answer was lost may have been applied: reread
  }
  if (!st.ok() && c.ok()) (void)c.Exec("ROLLBACK", "rollback");
  // A broken connection took the session lock with it: whatever happens next, this store no
  // longer sequences until it takes the lease again.
  if (!st.ok() && !c.ok() && m.lease_wanted) {
    m.lease_held = false;
    return Status::WithReason(StatusCode::kUnavailable, "lease_lost", st.message());
  }
  return st;
}

Status PgLeafStore::GetNode(uint32_t level, uint64_t index, Hash* out) {
  const tile_rows::NodePlace place = tile_rows::PlaceOf(level, index);
  if (place.tile_level >= 64 / tile_rows::kHeight) {
    return Status::NotFound("node (" + std::to_string(level) + ", " + std::to_string(index) + ")");
  }
  const uint64_t min_width = (place.pos + 1) << place.rise;
  MDL_ASSIGN_OR_RETURN(
      auto row,
      impl_->Row(place.tile_level, place.tile_index,
                 static_cast<uint32_t>(std::min<uint64_t>(min_width, tile_rows::kWidth))));
  if (!tile_rows::NodeFromRow(place, row->width, row->hashes.data(), out)) {
    return Status::NotFound("node (" + std::to_string(level) + ", " + std::to_string(index) + ")");
  }
  return Status::Ok();
}

Result<Bytes> PgLeafStore::GetTile(uint32_t level, uint64_t index, uint32_t width) {
  MDL_ASSIGN_OR_RETURN(auto row, impl_->Row(level, index, width));
  if (row->width < width) {
    return Status::NotFound("tile (" + std::to_string(level) + ", " + std::to_string(index) +
                            ") is " + std::to_string(row->width) + " wide");
  }
  return Bytes(row->hashes.begin(),
               row->hashes.begin() + static_cast<ptrdiff_t>(width) * kHashSize);
}

Result<std::vector<StoredLeaf>> PgLeafStore::GetLeaves(uint64_t start, uint64_t end) {
  return impl_->Read([&](Connection& c) -> Result<std::vector<StoredLeaf>> {
    MDL_ASSIGN_OR_RETURN(uint64_t size, SizeOn(c));
    if (start > end || end > size) {
      return Status::InvalidArgument("leaves: range [" + std::to_string(start) + ", " +
                                     std::to_string(end) + ") outside the log of size " +
                                     std::to_string(size));
    }
    MDL_ASSIGN_OR_RETURN(
        PgResult r,
        c.Run("get_leaves",
              "SELECT idx, leaf_hash, entry FROM leaves WHERE idx >= $1 AND idx < $2 ORDER BY idx",
              Params().Int8(static_cast<int64_t>(start)).Int8(static_cast<int64_t>(end)),
              "get leaves"));
    const int rows = PQntuples(r.get());
    std::vector<StoredLeaf> out;
    out.reserve(static_cast<size_t>(rows));
    for (int i = 0; i < rows; ++i) {
      StoredLeaf l;
      l.index = static_cast<uint64_t>(GetInt(r.get(), i, 0));
      if (!ToHash(GetBytes(r.get(), i, 1), &l.leaf_hash))
        return Status::DataLoss("leaf hash is not 32 bytes at " + std::to_string(l.index));
      l.entry = GetBytes(r.get(), i, 2);
      out.push_back(std::move(l));
    }
    if (out.size() != end - start) {
      return Status::DataLoss("leaves: rows missing in [" + std::to_string(start) + ", " +
                              std::to_string(end) + ")");
    }
    return out;
  });
}

Result<std::vector<uint64_t>> PgLeafStore::FindByKey(const EntryKey& key, int64_t after,
                                                     size_t limit) {
  return impl_->Read([&](Connection& c) -> Result<std::vector<uint64_t>> {
    MDL_ASSIGN_OR_RETURN(PgResult r,
                         c.Run("find_key",
                               "SELECT idx FROM entry_keys WHERE kind = $1 AND value = $2 AND "
                               "idx > $3 ORDER BY idx LIMIT $4",
                               Params()
                                   .Int4(static_cast<int32_t>(key.kind))
                                   .Text(key.value)
                                   .Int8(after)
                                   .Int8(ClampLimit(limit)),
                               "find by key"));
    std::vector<uint64_t> out;
    for (int i = 0; i < PQntuples(r.get()); ++i)
      out.push_back(static_cast<uint64_t>(GetInt(r.get(), i, 0)));
    return out;
  });
}

Result<std::optional<StoredCheckpoint>> PgLeafStore::LatestCheckpoint() {
  return impl_->Read([&](Connection& c) -> Result<std::optional<StoredCheckpoint>> {
    MDL_ASSIGN_OR_RETURN(
        PgResult r, c.Run("latest_cp", "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1",
                          Params(), "latest checkpoint"));
    if (PQntuples(r.get()) == 0) return std::optional<StoredCheckpoint>();
    return std::optional<StoredCheckpoint>(StoredCheckpoint{
        static_cast<uint64_t>(GetInt(r.get(), 0, 0)), GetBytes(r.get(), 0, 1)});
  });
}

Result<std::vector<StoredCheckpoint>> PgLeafStore::GetCheckpoints(uint64_t from_size,
                                                                  size_t limit) {
  return impl_->Read([&](Connection& c) -> Result<std::vector<StoredCheckpoint>> {
    MDL_ASSIGN_OR_RETURN(
        PgResult r,
        c.Run("get_cps", "SELECT size, note FROM checkpoints WHERE size >= $1 ORDER BY size LIMIT $2",
              Params().Int8(static_cast<int64_t>(from_size)).Int8(ClampLimit(limit)),
              "checkpoints"));
    std::vector<StoredCheckpoint> out;
    for (int i = 0; i < PQntuples(r.get()); ++i)
      out.push_back({static_cast<uint64_t>(GetInt(r.get(), i, 0)), GetBytes(r.get(), i, 1)});
    return out;
  });
}

Status PgLeafStore::PutCheckpoint(const StoredCheckpoint& checkpoint) {
  std::lock_guard<std::mutex> lock(impl_->write_mu);
  MDL_RETURN_IF_ERROR(impl_->EnsureWriter());
  return impl_->write
      .Run("put_cp",
           "INSERT INTO checkpoints(size, note) VALUES($1, $2) "
           "ON CONFLICT (size) DO UPDATE SET note = excluded.note",
           Params().Int8(static_cast<int64_t>(checkpoint.size)).Text(checkpoint.note),
           "put checkpoint")
      .status();
}

Result<std::optional<LeafStore::WitnessState>> PgLeafStore::GetWitnessState(
    const std::string& origin) {
  return impl_->Read([&](Connection& c) -> Result<std::optional<WitnessState>> {
    MDL_ASSIGN_OR_RETURN(PgResult r,
                         c.Run("get_witness", "SELECT size, root FROM witness_state WHERE origin = $1",
                               Params().Text(origin), "witness state"));
    if (PQntuples(r.get()) == 0) return std::optional<WitnessState>();
    WitnessState w;
    w.size = static_cast<uint64_t>(GetInt(r.get(), 0, 0));
    if (!ToHash(GetBytes(r.get(), 0, 1), &w.root))
      return Status::DataLoss("witness root is not 32 bytes");
    return std::optional<WitnessState>(w);
  });
}

Status PgLeafStore::CompareAndSetWitnessState(const std::string& origin,
                                              std::optional<uint64_t> expected_size,
                                              const WitnessState& state) {
  std::lock_guard<std::mutex> lock(impl_->write_mu);
  MDL_RETURN_IF_ERROR(impl_->EnsureWriter());
  Connection& c = impl_->write;
  return impl_->Transaction([&]() -> Status {
    // The first state of an origin: the insert conflicts if another witness process wrote it
    // meanwhile (ON CONFLICT DO NOTHING, zero rows); later ones: FOR UPDATE serializes them.
    if (!expected_size) {
      MDL_ASSIGN_OR_RETURN(PgResult r, c.Run("witness_insert",
                                             "INSERT INTO witness_state(origin, size, root) "
                                             "VALUES($1, $2, $3) ON CONFLICT DO NOTHING",
                                             Params()
                                                 .Text(origin)
                                                 .Int8(static_cast<int64_t>(state.size))
                                                 .Bytea(state.root),
                                             "put witness state"));
      if (std::string(PQcmdTuples(r.get())) != "1")
        return Status::FailedPrecondition("witness state for " + origin + " changed");
      return Status::Ok();
    }
    MDL_ASSIGN_OR_RETURN(PgResult r,
                         c.Run("witness_lock",
                               "SELECT size FROM witness_state WHERE origin = $1 FOR UPDATE",
                               Params().Text(origin), "witness state"));
    if (PQntuples(r.get()) != 1 ||
        static_cast<uint64_t>(GetInt(r.get(), 0, 0)) != *expected_size) {
      return Status::FailedPrecondition("witness state for " + origin + " changed");
    }
    return c.Run("witness_update", "UPDATE witness_state SET size = $2, root = $3 WHERE origin = $1",
                 Params().Text(origin).Int8(static_cast<int64_t>(state.size)).Bytea(state.root),
                 "put witness state")
        .status();
  });
}

Result<bool> PgLeafStore::TryAcquireSequencerLease() {
  std::lock_guard<std::mutex> lock(impl_->write_mu);
  Impl& m = *impl_;
  m.lease_wanted = true;
  MDL_RETURN_IF_ERROR(m.EnsureWriter());
  if (m.lease_held) return true;
  Connection& c = m.write;
  MDL_ASSIGN_OR_RETURN(PgResult r, c.Run("lease_try",
                                         "SELECT pg_try_advisory_lock($1, hashtext(current_schema()))",
                                         Params().Int4(kLeaseLockClass), "lease"));
  // A boolean in binary is one byte.
  if (PQntuples(r.get()) != 1 || PQgetlength(r.get(), 0, 0) != 1 ||
      PQgetvalue(r.get(), 0, 0)[0] == 0) {
    return false;
  }
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  const std::string holder = std::string(host) + ":" + std::to_string(::getpid());
  auto bumped = c.Run("lease_epoch",
                      "UPDATE sequencer_lease SET epoch = epoch + 1, holder = $1, "
                      "acquired_at = now() WHERE id = 1 RETURNING epoch",
                      Params().Text(holder), "lease epoch");
  if (!bumped || PQntuples(bumped->get()) != 1) {
    // Without a recorded epoch the lease is useless: give the lock back.
    if (c.ok()) {
      (void)c.Run("lease_unlock", "SELECT pg_advisory_unlock($1, hashtext(current_schema()))",
                  Params().Int4(kLeaseLockClass), "lease unlock");
    }
    if (!bumped) return bumped.error();
    return Status::DataLoss("sequencer_lease has no row");
  }
  m.epoch = GetInt(bumped->get(), 0, 0);
  m.lease_held = true;
  return true;
}

bool PgLeafStore::HoldsSequencerLease() {
  std::lock_guard<std::mutex> lock(impl_->write_mu);
  return impl_->lease_held && impl_->write.ok();
}

int64_t PgLeafStore::LeaseEpoch() {
  std::lock_guard<std::mutex> lock(impl_->write_mu);
  return impl_->lease_held ? impl_->epoch : 0;
}

Result<std::unique_ptr<LeafStore>> OpenLeafStore(const std::string& db) {
  if (IsPostgresUrl(db)) {
    MDL_ASSIGN_OR_RETURN(auto pg, PgLeafStore::Open(db));
    return std::unique_ptr<LeafStore>(std::move(pg));
  }
  MDL_ASSIGN_OR_RETURN(auto sqlite, SqliteLeafStore::Open(db));
  return std::unique_ptr<LeafStore>(std::move(sqlite));
}

}  // namespace medallion::ledger
