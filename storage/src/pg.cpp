// sql::Db (medallion/storage/db.h) and the PostgreSQL side of sql::Stmt, on libpq.
#include <sqlite3.h>

#include <algorithm>
#include <strings.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>

#include "medallion/core/metrics.h"
#include "medallion/storage/db.h"
#include "medallion/storage/sqlite.h"
#include "pg_internal.h"

namespace medallion::sql {

namespace {

constexpr Oid kByteaOid = 17;  // pg_type.h: BYTEAOID

Status PgError(std::string_view what, std::string_view message) {
  std::string m(message);
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return Status::Unavailable(std::string(what) + ": postgresql: " + m);
}

}  // namespace

bool IsPostgresUrl(std::string_view where) {
  return where.rfind("postgresql://", 0) == 0 || where.rfind("postgres://", 0) == 0;
}

std::string TenantIsolation(std::string_view table) {
  const std::string t(table);
  return "ALTER TABLE " + t + " ENABLE ROW LEVEL SECURITY;\nALTER TABLE " + t +
         " FORCE ROW LEVEL SECURITY;\nCREATE POLICY container_only ON " + t +
         " USING (container_id = current_setting('medallion.container', true)) WITH CHECK "
         "(container_id = current_setting('medallion.container', true));\n";
}

std::string TranslateToPostgres(std::string_view statement, int* params) {
  std::string out;
  out.reserve(statement.size() + 32);
  std::string_view s = statement;
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n')) s.remove_prefix(1);
  bool ignore = false;
  if (s.rfind("INSERT OR IGNORE INTO ", 0) == 0) {
    ignore = true;
    out = "INSERT INTO ";
    s.remove_prefix(sizeof("INSERT OR IGNORE INTO ") - 1);
  }
  int next = 0, most = 0;
  char quote = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
      out += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      out += c;
    } else if (c == '?') {
      size_t j = i + 1;
      int n = 0;
      while (j < s.size() && s[j] >= '0' && s[j] <= '9') n = n * 10 + (s[j++] - '0');
      if (j == i + 1) n = ++next;  // a bare ?: the next number (SQLite's rule)
      next = std::max(next, n);
      most = std::max(most, n);
      out += '$';
      out += std::to_string(n);
      i = j - 1;
    } else {
      out += c;
    }
  }
  if (ignore) out += " ON CONFLICT DO NOTHING";
  *params = most;
  return out;
}

std::string PgLink::Prepared(const char* statement, int* params, std::string* error) {
  auto it = names_.find(statement);
  if (it == names_.end()) {
    int n = 0;
    const std::string text = TranslateToPostgres(statement, &n);
    std::string name = "m" + std::to_string(names_.size() + 1);
    PGresult* r = PQprepare(c_, name.c_str(), text.c_str(), 0, nullptr);
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) *error = PQresultErrorMessage(r);
    PQclear(r);
    if (!ok) return "";
    it = names_.emplace(statement, Prepared_{std::move(name), n}).first;
  }
  *params = it->second.params;
  return it->second.name;
}

Status PgLink::Exec(const char* statement, std::string_view what) {
  PGresult* r = PQexec(c_, statement);
  const ExecStatusType s = PQresultStatus(r);
  Status st = Status::Ok();
  if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) st = PgError(what, PQresultErrorMessage(r));
  PQclear(r);
  return st;
}

Status PgLink::Commit(std::string_view what) {
  PGresult* r = PQexec(c_, "COMMIT");
  Status st = Status::Ok();
  if (PQresultStatus(r) != PGRES_COMMAND_OK) {
    st = PgError(what, PQresultErrorMessage(r));
  } else if (std::string_view(PQcmdStatus(r)) != "COMMIT") {
    // A transaction in which a statement had failed: PostgreSQL answers COMMIT with the tag
    // ROLLBACK. Nothing was written, so nothing may be acknowledged.
    st = Status::Unavailable(std::string(what) +
                             ": postgresql: the transaction had failed and was rolled back");
  }
  PQclear(r);
  return st;
}

PgStmt::PgStmt(PgConn* conn, const char* statement) : conn_(conn), statement_(statement) {
  {
    std::string_view head(statement);
    while (!head.empty() && (head.front() == ' ' || head.front() == '\n')) head.remove_prefix(1);
    select_ = head.size() >= 6 && strncasecmp(head.data(), "SELECT", 6) == 0;
  }
  int n = 0;
  if (conn->own() != nullptr) {
    // Dedicated: prepared now, so ok() says whether it prepares.
    ok_ = !conn->own()->Prepared(statement, &n, &error_).empty();
  } else {
    // Pooled: prepared on each link it runs on (Step reports a statement that does not).
    (void)TranslateToPostgres(statement, &n);
    ok_ = true;
  }
  values_.resize(static_cast<size_t>(n));
  formats_.assign(static_cast<size_t>(n), 0);
  null_.assign(static_cast<size_t>(n), true);
}

void PgStmt::Clear() {
  if (res_ != nullptr) PQclear(res_);
  res_ = nullptr;
  row_ = -1;
}

void PgStmt::Slot(int i) {
  const auto k = static_cast<size_t>(i);
  if (k > values_.size()) {
    values_.resize(k);
    formats_.resize(k, 0);
    null_.resize(k, true);
  }
}

namespace {

// Whether PostgreSQL (server encoding UTF8) takes `v` as text: well-formed UTF-8 (RFC 3629 §4:
// no overlong forms, no surrogates, nothing above U+10FFFF) without NUL. Anything else raises
// an error at the server, which would abort the open transaction (a group commit's).
bool PostgresText(std::string_view v) {
  const auto* p = reinterpret_cast<const unsigned char*>(v.data());
  const size_t n = v.size();
  for (size_t i = 0; i < n;) {
    const unsigned c = p[i];
    if (c == 0) return false;
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (n - i < len) return false;
    if (p[i + 1] < lo || p[i + 1] > hi) return false;
    for (size_t k = 2; k < len; ++k)
      if (p[i + k] < 0x80 || p[i + k] > 0xBF) return false;
    i += len;
  }
  return true;
}

}  // namespace

void PgStmt::Bind(int i, std::string_view v, bool binary) {
  if (i < 1) return;
  Slot(i);
  if (!binary && !PostgresText(v)) bad_text_ = true;
  values_[i - 1].assign(v.data(), v.size());
  formats_[i - 1] = binary ? 1 : 0;
  null_[i - 1] = false;
}

void PgStmt::BindNull(int i) {
  if (i < 1) return;
  Slot(i);
  null_[i - 1] = true;
}

int PgStmt::Step() {
  if (!ok() || failed_) return SQLITE_ERROR;
  if (res_ == nullptr && bad_text_) {
    // Never sent, so the open transaction stays usable. Such text is stored nowhere, so a
    // query with it finds nothing (as SQLite's lookup of the same bytes does); a write fails.
    if (select_) return SQLITE_DONE;
    error_ = "text that is not UTF-8, or holds NUL, cannot be stored";
    return SQLITE_ERROR;
  }
  if (res_ == nullptr) {
    const size_t n = values_.size();
    std::vector<const char*> values(n);
    std::vector<int> lengths(n);
    for (size_t i = 0; i < n; ++i) {
      values[i] = null_[i] ? nullptr : values_[i].data();
      lengths[i] = static_cast<int>(values_[i].size());
    }
    res_ = conn_->Run(statement_.c_str(), static_cast<int>(n), values.data(), lengths.data(),
                      formats_.data(), &error_);
    if (res_ == nullptr) {
      failed_ = true;
      return SQLITE_ERROR;
    }
    const ExecStatusType s = PQresultStatus(res_);
    if (s == PGRES_COMMAND_OK) return SQLITE_DONE;
    if (s != PGRES_TUPLES_OK) {
      error_ = PQresultErrorMessage(res_);
      return SQLITE_ERROR;
    }
    row_ = 0;
  } else if (PQresultStatus(res_) == PGRES_TUPLES_OK) {
    ++row_;
  } else {
    return PQresultStatus(res_) == PGRES_COMMAND_OK ? SQLITE_DONE : SQLITE_ERROR;
  }
  return row_ < PQntuples(res_) ? SQLITE_ROW : SQLITE_DONE;
}

void PgStmt::Reset() {
  Clear();
  failed_ = false;
  bad_text_ = false;
  null_.assign(values_.size(), true);
  formats_.assign(values_.size(), 0);
}

std::string PgStmt::Col(int i) const {
  if (res_ == nullptr || row_ < 0 || row_ >= PQntuples(res_) || i >= PQnfields(res_)) return "";
  const char* v = PQgetvalue(res_, row_, i);
  if (PQftype(res_, i) == kByteaOid) {
    size_t len = 0;
    unsigned char* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(v), &len);
    if (raw == nullptr) return "";
    std::string out(reinterpret_cast<const char*>(raw), len);
    PQfreemem(raw);
    return out;
  }
  return std::string(v, static_cast<size_t>(PQgetlength(res_, row_, i)));
}

int64_t PgStmt::ColInt(int i) const {
  if (res_ == nullptr || row_ < 0 || row_ >= PQntuples(res_) || i >= PQnfields(res_)) return 0;
  return std::strtoll(PQgetvalue(res_, row_, i), nullptr, 10);
}

bool PgStmt::ColIsNull(int i) const {
  if (res_ == nullptr || row_ < 0 || row_ >= PQntuples(res_) || i >= PQnfields(res_)) return true;
  return PQgetisnull(res_, row_, i) == 1;
}

// --- Db ---

Db::Db(std::string_view what) : what_(what) {}

Db::~Db() {
  // close_v2: a statement still alive is finalized later rather than leaking the connection.
  if (sqlite_ != nullptr) sqlite3_close_v2(sqlite_);
}

std::unique_ptr<Db> Db::AdoptSqlite(sqlite3* db, std::string_view what) {
  std::unique_ptr<Db> d(new Db(what));
  d->sqlite_ = db;
  return d;
}

namespace {

// The migrations of `schema` not yet applied to the connection's schema, in one transaction
// under an advisory lock keyed by the store and the schema.
Status MigratePostgres(PgLink& c, std::string_view what, std::span<const char* const> list) {
  const std::string table = std::string(what) + "_schema_migrations";
  const std::string lock =
      "SELECT pg_advisory_xact_lock(hashtext('" + table + "'), hashtext(current_schema()))";
  const std::string create =
      "CREATE TABLE IF NOT EXISTS " + table + " (version BIGINT PRIMARY KEY)";
  MDL_RETURN_IF_ERROR(c.Exec("BEGIN", what));
  auto body = [&]() -> Status {
    MDL_RETURN_IF_ERROR(c.Exec(lock.c_str(), what));
    MDL_RETURN_IF_ERROR(c.Exec(create.c_str(), what));
    const std::string q = "SELECT COALESCE(MAX(version), 0) FROM " + table;
    PGresult* r = PQexec(c.raw(), q.c_str());
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
      PQclear(r);
      return Status::DataLoss(std::string(what) + ": cannot read the schema version");
    }
    const int64_t have = std::strtoll(PQgetvalue(r, 0, 0), nullptr, 10);
    PQclear(r);
    const auto want = static_cast<int64_t>(list.size());
    if (have > want)
      return Status::FailedPrecondition(std::string(what) +
                                        ": database schema is newer than this build");
    for (int64_t v = have; v < want; ++v) {
      MDL_RETURN_IF_ERROR(c.Exec(list[static_cast<size_t>(v)], what));
      const std::string ins =
          "INSERT INTO " + table + " (version) VALUES (" + std::to_string(v + 1) + ")";
      MDL_RETURN_IF_ERROR(c.Exec(ins.c_str(), what));
    }
    return Status::Ok();
  };
  Status st = body();
  if (st.ok()) st = c.Exec("COMMIT", what);
  if (!st.ok()) (void)c.Exec("ROLLBACK", what);
  return st;
}

// The first column of the first row of a one-parameter query; nullopt with *st on failure.
std::optional<std::string> QueryOne(PgLink& c, const char* q, const char* param,
                                    std::string_view what, Status* st) {
  PGresult* r = PQexecParams(c.raw(), q, param ? 1 : 0, nullptr, &param, nullptr, nullptr, 0);
  std::optional<std::string> out;
  if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
    out = PQgetvalue(r, 0, 0);
  } else {
    *st = PgError(what, PQresultErrorMessage(r));
  }
  PQclear(r);
  return out;
}

// A new connection to `url` for a store: connected, notices dropped, and its role checked.
// Row-level security binds neither a superuser nor a BYPASSRLS role: refuse rather than run with
// every container's rows in reach.
Result<std::unique_ptr<PgLink>> Connect(const std::string& url, std::string_view what) {
  auto link = std::make_unique<PgLink>(PQconnectdb(url.c_str()));
  PGconn* raw = link->raw();
  if (PQstatus(raw) != CONNECTION_OK)
    return PgError(what, std::string("cannot connect: ") + PQerrorMessage(raw));
  PQsetNoticeProcessor(
      raw, [](void*, const char*) {}, nullptr);
  Status st = Status::Ok();
  auto bypass = QueryOne(
      *link, "SELECT (rolsuper OR rolbypassrls)::text FROM pg_roles WHERE rolname = current_user",
      nullptr, what, &st);
  if (!bypass) return st;
  if (*bypass != "false")
    return Status::InvalidArgument(
        std::string(what) +
        ": the PostgreSQL role is a superuser or BYPASSRLS, which row-level security does not "
        "bind; connect as an ordinary role");
  return link;
}

// The statement's first word, for the transaction control a pooled PgConn takes over.
enum class Control { kNone, kBegin, kCommit, kRollback };
Control ControlOf(const char* statement) {
  std::string_view s(statement);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == ';')) s.remove_suffix(1);
  auto is = [&](std::string_view w) {
    return s.size() == w.size() && strncasecmp(s.data(), w.data(), w.size()) == 0;
  };
  if (is("BEGIN") || is("BEGIN IMMEDIATE") || is("BEGIN TRANSACTION") || is("START TRANSACTION"))
    return Control::kBegin;
  if (is("COMMIT") || is("END")) return Control::kCommit;
  if (is("ROLLBACK")) return Control::kRollback;  // not ROLLBACK TO <savepoint>
  return Control::kNone;
}

std::mutex& RegistryMu() {
  static std::mutex mu;
  return mu;
}
std::map<std::string, std::weak_ptr<PgPool>>& Registry() {
  static auto* pools = new std::map<std::string, std::weak_ptr<PgPool>>();
  return *pools;
}

}  // namespace

// --- PgPool ---

Result<std::shared_ptr<PgPool>> PgPool::Open(const std::string& url, size_t size) {
  if (!IsPostgresUrl(url)) return Status::InvalidArgument("pool: not a postgresql:// URL");
  std::shared_ptr<PgPool> pool(new PgPool(url, std::max<size_t>(size, 1)));
  MDL_ASSIGN_OR_RETURN(std::unique_ptr<PgLink> first, Connect(url, "pool"));
  pool->open_ = 1;
  pool->made_ = 1;
  pool->idle_.push_back(std::move(first));
  std::lock_guard<std::mutex> lock(RegistryMu());
  Registry()[url] = pool;
  return pool;
}

PgPool::PgPool(std::string url, size_t size) : url_(std::move(url)), size_(size) {}

PgPool::~PgPool() {
  std::lock_guard<std::mutex> lock(RegistryMu());
  auto it = Registry().find(url_);
  if (it != Registry().end() && it->second.expired()) Registry().erase(it);
}

std::shared_ptr<PgPool> PgPool::For(const std::string& url) {
  std::lock_guard<std::mutex> lock(RegistryMu());
  auto it = Registry().find(url);
  return it == Registry().end() ? nullptr : it->second.lock();
}

PgPool::Stats PgPool::stats() {
  std::lock_guard<std::mutex> lock(mu_);
  return {open_, idle_.size(), made_, dropped_};
}

Result<std::unique_ptr<PgLink>> PgPool::Take(std::string_view what) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (idle_.empty() && open_ >= size_) {
      if (given_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
          open_ >= size_) {
        metrics::Registry::Default().Add("medallion_pg_pool_timeouts_total",
                                         "Waits for a pooled PostgreSQL connection that gave up",
                                         {}, 1);
        return Status::Unavailable(std::string(what) +
                                   ": postgresql: every pooled connection is in use (30 s)");
      }
    }
    if (!idle_.empty()) {
      std::unique_ptr<PgLink> link = std::move(idle_.back());
      idle_.pop_back();
      return link;
    }
    ++open_;  // a new one, made outside the lock
  }
  auto link = Connect(url_, what);
  std::lock_guard<std::mutex> lock(mu_);
  if (!link) {
    --open_;
    given_.notify_one();
    return link.status();
  }
  ++made_;
  return link;
}

void PgPool::Give(std::unique_ptr<PgLink> link) {
  if (!link->broken() && PQtransactionStatus(link->raw()) != PQTRANS_IDLE) {
    // A transaction left open (its Db went away mid-transaction): end it, so that nothing of it
    // reaches the next borrower.
    (void)link->Exec("ROLLBACK", "pool");
  }
  const bool usable = !link->broken() && PQtransactionStatus(link->raw()) == PQTRANS_IDLE;
  std::lock_guard<std::mutex> lock(mu_);
  if (usable) {
    idle_.push_back(std::move(link));
  } else {
    link.reset();
    --open_;
    ++dropped_;
  }
  given_.notify_one();
}

Result<std::string> PgPool::QueryIdle(const char* query) {
  MDL_ASSIGN_OR_RETURN(std::unique_ptr<PgLink> link, Take("pool"));
  PGresult* r = PQexec(link->raw(), query);
  Result<std::string> out = std::string();
  if (PQresultStatus(r) == PGRES_TUPLES_OK) {
    if (PQntuples(r) > 0 && PQnfields(r) > 0) out = std::string(PQgetvalue(r, 0, 0));
  } else if (PQresultStatus(r) != PGRES_COMMAND_OK) {
    out = PgError("pool", PQresultErrorMessage(r));
  }
  PQclear(r);
  Give(std::move(link));
  return out;
}

bool PgPool::Migrated(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  return migrated_.count(key) != 0;
}

void PgPool::MarkMigrated(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  migrated_.insert(key);
}

// --- PgConn ---

PgConn::~PgConn() {
  if (held_) pool_->Give(std::move(held_));  // rolled back there
}

Result<std::unique_ptr<PgLink>> PgConn::Take(std::string_view what) {
  Status last = Status::Ok();
  for (size_t attempt = 0; attempt <= pool_->size(); ++attempt) {
    MDL_ASSIGN_OR_RETURN(std::unique_ptr<PgLink> link, pool_->Take(what));
    if (begin_.empty()) {
      char* lit = PQescapeLiteral(link->raw(), container_.data(), container_.size());
      if (lit == nullptr) {
        pool_->Give(std::move(link));
        return Status::InvalidArgument(std::string(what) + ": the container name is not text");
      }
      begin_ = std::string("BEGIN; SELECT set_config('medallion.container', ") + lit + ", true)";
      PQfreemem(lit);
    }
    last = link->Exec(begin_.c_str(), what);
    if (last.ok()) return link;
    const bool lost = link->broken();
    pool_->Give(std::move(link));
    if (!lost) return last;
    // Lost while idle (the server restarted, or the backend was terminated): nothing was done
    // on it, so try another (or a new one).
  }
  return last;
}

void PgConn::Give(std::unique_ptr<PgLink> link) { pool_->Give(std::move(link)); }

Status PgConn::Exec(const char* statement, std::string_view what) {
  if (own_) return own_->Exec(statement, what);
  switch (ControlOf(statement)) {
    case Control::kBegin:
      if (held_) return held_->Exec("BEGIN", what);  // as PostgreSQL: a warning, no change
      {
        MDL_ASSIGN_OR_RETURN(held_, Take(what));
      }
      return Status::Ok();
    case Control::kCommit:
      return Commit(what);
    case Control::kRollback: {
      if (!held_) return Status::Ok();  // no transaction (it ended at a failed COMMIT)
      Status st = held_->Exec("ROLLBACK", what);
      Give(std::move(held_));
      return st;
    }
    case Control::kNone:
      break;
  }
  if (held_) return held_->Exec(statement, what);
  MDL_ASSIGN_OR_RETURN(std::unique_ptr<PgLink> link, Take(what));
  Status st = link->Exec(statement, what);
  Status end = st.ok() ? link->Commit(what) : link->Exec("ROLLBACK", what);
  Give(std::move(link));
  return st.ok() ? end : st;
}

Status PgConn::Commit(std::string_view what) {
  if (own_) return own_->Commit(what);
  if (!held_) return Status::Ok();  // as PostgreSQL: COMMIT outside a transaction does nothing
  Status st = held_->Commit(what);
  Give(std::move(held_));  // the transaction is over either way (a lost link is dropped)
  return st;
}

PGresult* PgConn::Run(const char* statement, int n, const char* const* values, const int* lengths,
                      const int* formats, std::string* error) {
  auto exec = [&](PgLink& link) -> PGresult* {
    int params = 0;
    const std::string name = link.Prepared(statement, &params, error);
    if (name.empty()) return nullptr;
    PGresult* r = PQexecPrepared(link.raw(), name.c_str(), n, values, lengths, formats, 0);
    if (PQresultStatus(r) == PGRES_COMMAND_OK) changes = std::strtoll(PQcmdTuples(r), nullptr, 10);
    return r;
  };
  if (own_) return exec(*own_);
  if (held_) return exec(*held_);
  auto link = Take("store");
  if (!link) {
    *error = link.error().message();
    return nullptr;
  }
  PGresult* r = exec(**link);
  const ExecStatusType s = r == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(r);
  if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) {
    Status st = (*link)->Commit("store");
    if (!st.ok()) {
      PQclear(r);
      r = nullptr;
      *error = st.message();
    }
  } else {
    (void)(*link)->Exec("ROLLBACK", "store");
  }
  Give(std::move(*link));
  return r;
}

// --- Db ---

Result<std::unique_ptr<Db>> Db::Open(const std::string& where, std::string_view what,
                                     const Schema& schema, const std::string& container) {
  if (IsPostgresUrl(where)) {
    if (std::shared_ptr<PgPool> pool = PgPool::For(where))
      return Open(std::move(pool), what, schema, container);
  }
  std::unique_ptr<Db> d(new Db(what));
  if (!IsPostgresUrl(where)) {
    MDL_RETURN_IF_ERROR(OpenDatabase(where, what, schema.sqlite, &d->sqlite_));
    return d;
  }
  if (container.empty())
    return Status::InvalidArgument(std::string(what) +
                                   ": a PostgreSQL store needs the container it belongs to");
  MDL_ASSIGN_OR_RETURN(std::unique_ptr<PgLink> link, Connect(where, what));
  d->pg_ = std::make_unique<PgConn>(std::move(link));
  PgLink& c = *d->pg_->own();
  Status st = Status::Ok();
  if (!QueryOne(c, "SELECT set_config('medallion.container', $1, false)", container.c_str(), what,
                &st))
    return st;
  MDL_RETURN_IF_ERROR(MigratePostgres(c, what, schema.postgres));
  return d;
}

Result<std::unique_ptr<Db>> Db::Open(std::shared_ptr<PgPool> pool, std::string_view what,
                                     const Schema& schema, const std::string& container) {
  if (container.empty())
    return Status::InvalidArgument(std::string(what) +
                                   ": a PostgreSQL store needs the container it belongs to");
  const std::string key = std::string(what) + "#" + std::to_string(schema.postgres.size());
  if (!pool->Migrated(key)) {
    MDL_ASSIGN_OR_RETURN(std::unique_ptr<PgLink> link, pool->Take(what));
    Status st = MigratePostgres(*link, what, schema.postgres);
    pool->Give(std::move(link));
    MDL_RETURN_IF_ERROR(st);
    pool->MarkMigrated(key);
  }
  std::unique_ptr<Db> d(new Db(what));
  d->pg_ = std::make_unique<PgConn>(std::move(pool), container);
  return d;
}

Status Db::Exec(const char* statement) {
  return pg_ ? pg_->Exec(statement, what_) : sql::Exec(sqlite_, statement, what_);
}

Status Db::Begin() { return Exec(pg_ ? "BEGIN" : "BEGIN IMMEDIATE"); }

Status Db::Commit() {
  if (!pg_) return sql::Commit(sqlite_, what_);
  metrics::ScopedTimer timer("medallion_pg_commit_seconds",
                             "PostgreSQL COMMIT latency of the container stores, by store",
                             {{"store", std::string(what_)}});
  return pg_->Commit(what_);
}

int64_t Db::Changes() const { return pg_ ? pg_->changes : sqlite3_changes(sqlite_); }

}  // namespace medallion::sql
