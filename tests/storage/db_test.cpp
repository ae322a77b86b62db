// sql::Db (storage/db.h): the same statements on SQLite and PostgreSQL — placeholders (bare and
// numbered, a '?' inside a literal left alone), INSERT OR IGNORE, affected rows, bytes, NULLs,
// migrations applied once — and, on PostgreSQL, the container fixed per connection and the roles
// refused, on a connection of its own and through a connection pool (sql::PgPool). PostgreSQL
// runs use the cluster of tests/ledger/backends.h, skipped without one.
#include <catch2/catch.hpp>

#include <regex>
#include <string>

#include "ledger/backends.h"
#include "medallion/storage/sqlite.h"

using namespace medallion;
using ledger::testing::Backend;

namespace {

constexpr const char* kSqliteV1[] = {
    "CREATE TABLE t (k TEXT PRIMARY KEY, b BLOB, n INTEGER, note TEXT)"};
const std::string kPgV1 =
    "CREATE TABLE t (container_id TEXT NOT NULL DEFAULT current_setting('medallion.container'), "
    "k TEXT NOT NULL, b BYTEA, n BIGINT, note TEXT, PRIMARY KEY (container_id, k));\n" +
    sql::TenantIsolation("t");
const char* const kPgList[] = {kPgV1.c_str()};

// An ordinary role's URL for `schema` (sql::Db refuses a superuser).
std::string AppUrl(const ledger::testing::PgSchema& schema, const std::string& base) {
  schema.Exec(
      "DO $$ BEGIN CREATE ROLE medallion_app LOGIN NOSUPERUSER NOBYPASSRLS; EXCEPTION WHEN "
      "duplicate_object OR unique_violation THEN NULL; END $$");
  schema.Exec("GRANT ALL ON SCHEMA " + schema.name() + " TO medallion_app");
  std::string url =
      std::regex_replace(base, std::regex("([?&])user=[^&]*"), "$1user=medallion_app");
  if (url.find("user=") == std::string::npos)
    url = ledger::testing::WithParam(url, "user=medallion_app");
  return ledger::testing::WithParam(url, "options=-csearch_path%3D" + schema.name());
}

}  // namespace

TEST_CASE("sql::Db runs the same statements on SQLite and PostgreSQL", "[storage][db]") {
  // SQLite; PostgreSQL on a connection of its own; PostgreSQL through a sql::PgPool of two
  // connections (registered for the URL, so Db::Open(where) borrows from it).
  const int mode = GENERATE(0, 1, 2);
  const Backend backend = mode == 0 ? Backend::kSqlite : Backend::kPostgres;
  INFO(ledger::testing::BackendName(backend) << (mode == 2 ? " (pool)" : ""));
  std::optional<ledger::testing::TestDb> place;
  std::string where;
  if (backend == Backend::kPostgres) {
    if (!ledger::testing::PgBaseUrl()) {
      WARN(ledger::testing::kPgSkipMessage);
      return;
    }
    place.emplace(backend);
    where = AppUrl(*place->schema(), *ledger::testing::PgBaseUrl());
  } else {
    place.emplace(backend);
    where = place->db();
  }
  std::shared_ptr<sql::PgPool> pool;
  if (mode == 2) {
    auto made = sql::PgPool::Open(where, 2);
    REQUIRE(made);
    pool = *made;
  }
  const sql::Schema schema{kSqliteV1, kPgList};
  auto opened = sql::Db::Open(where, "dbtest", schema, "c1");
  INFO(where);
  INFO((opened ? std::string() : opened.error().ToString()));
  REQUIRE(opened);
  sql::Db& db = **opened;
  CHECK((db.backend() == sql::Backend::kPostgres) == (backend == Backend::kPostgres));

  const std::string bytes("\x00\x01\xff\x00z", 5);
  {
    sql::Stmt ins(db, "INSERT INTO t (k, b, n, note) VALUES (?, ?, ?, '?')");
    REQUIRE(ins.ok());
    ins.Text(1, "a").Blob(2, bytes.data(), bytes.size()).Int(3, -5);
    REQUIRE(ins.Step() == SQLITE_DONE);
    CHECK(db.Changes() == 1);
  }
  {  // The statements go before their connection (StmtCache: REQUIRES destroyed before the Db).
    sql::StmtCache cache(db, "dbtest");
    {
      // Numbered placeholders out of order, and one used twice.
      sql::Stmt ins(cache, "INSERT INTO t (k, n, note) VALUES (?2, ?1, ?2)");
      ins.Int(1, 7).Text(2, "b");
      REQUIRE(ins.Step() == SQLITE_DONE);
    }
    {
      sql::Stmt dup(cache, "INSERT OR IGNORE INTO t (k, n) VALUES (?, ?)");
      dup.Text(1, "a").Int(2, 99);
      REQUIRE(dup.Step() == SQLITE_DONE);
      CHECK(db.Changes() == 0);
    }
    {
      sql::Stmt q(cache, "SELECT k, b, n, note FROM t ORDER BY k");
      REQUIRE(q.Step() == SQLITE_ROW);
      CHECK(q.Col(0) == "a");
      CHECK(q.ColBlob(1) == bytes);
      CHECK(q.ColInt(2) == -5);
      CHECK(q.Col(3) == "?");
      REQUIRE(q.Step() == SQLITE_ROW);
      CHECK(q.Col(0) == "b");
      CHECK(q.ColIsNull(1));
      CHECK(q.ColInt(2) == 7);
      CHECK(q.Col(3) == "b");
      CHECK(q.Step() == SQLITE_DONE);
    }
    {
      // The cached statement again, bound anew (the first run's result dropped).
      sql::Stmt q(cache, "SELECT k, b, n, note FROM t ORDER BY k");
      REQUIRE(q.Step() == SQLITE_ROW);
      CHECK(q.Col(0) == "a");
    }
    // A transaction that fails changes nothing; affected rows of an UPDATE.
    Status st = sql::InTransaction(db, [&]() -> Status {
      sql::Stmt up(db, "UPDATE t SET n = n + 1");
      if (up.Step() != SQLITE_DONE) return up.Error();
      CHECK(db.Changes() == 2);
      return Status::Internal("abandon");
    });
    CHECK(st.code() == StatusCode::kInternal);
    {
      sql::Stmt q(db, "SELECT SUM(n) FROM t");
      REQUIRE(q.Step() == SQLITE_ROW);
      CHECK(q.ColInt(0) == 2);
    }
    // A statement that does not prepare reports it, with the backend's message.
    sql::Stmt bad(db, "SELECT nope FROM t");
    CHECK(bad.Step() != SQLITE_ROW);
    CHECK(bad.Error().code() == StatusCode::kUnavailable);

    // Text that is not UTF-8 (or holds NUL): a lookup finds nothing on both backends, and on
    // PostgreSQL the open transaction stays usable (the statement is never sent: the server's
    // error would abort the transaction, a group commit's writes with it).
    REQUIRE(db.Begin().ok());
    {
      sql::Stmt ins(db, "INSERT INTO t (k, n) VALUES ('c', 1)");
      REQUIRE(ins.Step() == SQLITE_DONE);
    }
    for (const std::string& odd : {std::string("\xff"), std::string("a\0b", 3),
                                   std::string("\xed\xa0\x80"), std::string("\xc0\xaf")}) {
      sql::Stmt q(db, "SELECT n FROM t WHERE k = ?");
      q.Text(1, odd);
      CHECK(q.Step() == SQLITE_DONE);
    }
    REQUIRE(db.Commit().ok());
    {
      sql::Stmt q(db, "SELECT n FROM t WHERE k = 'c'");
      CHECK(q.Step() == SQLITE_ROW);
    }
    if (backend == Backend::kPostgres) {
      // A statement that failed inside a transaction: PostgreSQL answers COMMIT with ROLLBACK,
      // and Commit must say so rather than acknowledge writes that are gone.
      REQUIRE(db.Begin().ok());
      {
        sql::Stmt ins(db, "INSERT INTO t (k, n) VALUES ('d', 1)");
        REQUIRE(ins.Step() == SQLITE_DONE);
        sql::Stmt dup(db, "INSERT INTO t (k, n) VALUES ('a', 1)");
        CHECK(dup.Step() != SQLITE_DONE);
      }
      CHECK_FALSE(db.Commit().ok());
      sql::Stmt q(db, "SELECT n FROM t WHERE k = 'd'");
      CHECK(q.Step() == SQLITE_DONE);
    }
  }

  // Reopening applies no migration twice; on PostgreSQL another container sees none of c1's rows.
  opened->reset();
  auto again = sql::Db::Open(where, "dbtest", schema, "c2");
  REQUIRE(again);
  sql::Stmt count(**again, "SELECT COUNT(*) FROM t");
  REQUIRE(count.Step() == SQLITE_ROW);
  CHECK(count.ColInt(0) == (backend == Backend::kPostgres ? 0 : 3));
  if (backend == Backend::kPostgres) {
    // A superuser is refused: row-level security would not bind it.
    auto super = sql::Db::Open(place->db(), "dbtest", schema, "c1");
    REQUIRE_FALSE(super);
    CHECK(super.error().code() == StatusCode::kInvalidArgument);
  }
}
