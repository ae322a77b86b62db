// The ledger suites' storage backends: every store and log test runs on SQLite and, when a
// PostgreSQL cluster is there, on PostgreSQL in a schema of its own (docs/ledger.md §Storage).
//
// The cluster: $MEDALLION_PG_URL (scripts/test.sh starts one and exports it), else the one the
// ctest fixture `pg:start` started (tests/pg/pg_cluster.sh, its URL in <build>/pg-cluster/url).
// MEDALLION_NO_POSTGRES=1, or no cluster at all, skips the PostgreSQL runs with a warning.
#pragma once

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace medallion::ledger::testing {

enum class Backend { kSqlite, kPostgres };

inline const char* BackendName(Backend b) { return b == Backend::kSqlite ? "sqlite" : "postgresql"; }

// The test cluster's URL, or nullopt (PostgreSQL runs skip).
inline std::optional<std::string> PgBaseUrl() {
  const char* off = std::getenv("MEDALLION_NO_POSTGRES");
  if (off != nullptr && std::string_view(off) == "1") return std::nullopt;
  std::string url;
  if (const char* env = std::getenv("MEDALLION_PG_URL"); env != nullptr) url.assign(env);
  if (url.empty()) {
    // (Appended, not std::string(...) + "...": GCC 12 reports a false -Warray-bounds there.)
    std::string path = MEDALLION_BINARY_DIR;
    path += "/pg-cluster/url";
    std::ifstream in(path);
    if (!in || !std::getline(in, url)) url.clear();
  }
  if (url.empty()) return std::nullopt;
  return url;
}

inline const char* kPgSkipMessage =
    "PostgreSQL run skipped: no cluster (set MEDALLION_PG_URL, or run through ctest, whose "
    "fixture pg:start starts one; MEDALLION_NO_POSTGRES=1 turns them off)";

// `url` with a libpq connection parameter added (URL query syntax).
inline std::string WithParam(const std::string& url, const std::string& param) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + param;
}

// A fresh schema of the test database, dropped with everything in it by the destructor.
class PgSchema {
 public:
  explicit PgSchema(const std::string& base) : base_(base) {
    static std::atomic<int> counter{0};
    name_ = "t" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    Admin("DROP SCHEMA IF EXISTS " + name_ + " CASCADE; CREATE SCHEMA " + name_);
    url_ = WithParam(base_, "options=-csearch_path%3D" + name_);
  }
  ~PgSchema() {
    try {
      Admin("DROP SCHEMA IF EXISTS " + name_ + " CASCADE");
    } catch (...) {
    }
  }
  PgSchema(const PgSchema&) = delete;
  PgSchema& operator=(const PgSchema&) = delete;

  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }

  // Runs `sql` (test-written statements, no outside data) in the schema; throws on failure.
  void Exec(const std::string& sql) const { Run(url_, sql); }
  // The first column of the first row of `sql`, as text ("" if no row).
  std::string Query(const std::string& sql) const { return Run(url_, sql); }

 private:
  void Admin(const std::string& sql) const { Run(base_, sql); }
  static std::string Run(const std::string& url, const std::string& sql) {
    PGconn* c = PQconnectdb(url.c_str());
    if (PQstatus(c) != CONNECTION_OK) {
      std::string m = PQerrorMessage(c);
      PQfinish(c);
      throw std::runtime_error("test database: " + m);
    }
    PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);
    PGresult* r = PQexec(c, sql.c_str());
    const ExecStatusType s = PQresultStatus(r);
    std::string out;
    if (s == PGRES_TUPLES_OK && PQntuples(r) > 0) out = PQgetvalue(r, 0, 0);
    std::string m = PQresultErrorMessage(r);
    PQclear(r);
    PQfinish(c);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
      throw std::runtime_error("test database: " + sql + ": " + m);
    return out;
  }

  std::string base_, name_, url_;
};

// A database for one test: a SQLite file in a temporary directory, or a PostgreSQL schema.
class TestDb {
 public:
  // REQUIRES: for kPostgres, PgBaseUrl() is set.
  explicit TestDb(Backend backend) : backend_(backend) {
    if (backend == Backend::kPostgres) {
      schema_.emplace(*PgBaseUrl());
      db_ = schema_->url();
    } else {
      static std::atomic<int> counter{0};
      dir_ = std::filesystem::temp_directory_path() /
             ("medallion-ledger-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
      std::filesystem::remove_all(dir_);
      std::filesystem::create_directories(dir_);
      db_ = (dir_ / "ledger.db").string();
    }
  }
  ~TestDb() {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  TestDb(const TestDb&) = delete;
  TestDb& operator=(const TestDb&) = delete;

  Backend backend() const { return backend_; }
  // What OpenLeafStore takes: the file path or the URL.
  const std::string& db() const { return db_; }
  const PgSchema* schema() const { return schema_ ? &*schema_ : nullptr; }

 private:
  Backend backend_;
  std::filesystem::path dir_;
  std::optional<PgSchema> schema_;
  std::string db_;
};

}  // namespace medallion::ledger::testing
