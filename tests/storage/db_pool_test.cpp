// sql::PgPool (storage/db.h, docs/scale-out.md §"The connection pool"): many containers' Dbs over
// two PostgreSQL connections never see each other's rows; a transaction keeps its connection to
// its end; a connection back in the pool carries no container; a connection whose backend was
// terminated is dropped and replaced, not reused. The cluster of tests/ledger/backends.h,
// skipped without one.
#include <unistd.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "ledger/backends.h"
#include "medallion/storage/sqlite.h"

using namespace medallion;

namespace {

const std::string kPgV1 =
    "CREATE TABLE t (container_id TEXT NOT NULL DEFAULT current_setting('medallion.container'), "
    "k TEXT NOT NULL, n BIGINT, PRIMARY KEY (container_id, k));\n" +
    sql::TenantIsolation("t");
const char* const kPgList[] = {kPgV1.c_str()};
const sql::Schema kSchema{{}, kPgList};

// An ordinary role's URL for `schema`, its connections named `app` (application_name).
std::string AppUrl(const ledger::testing::PgSchema& schema, const std::string& base,
                   const std::string& app) {
  schema.Exec(
      "DO $$ BEGIN CREATE ROLE medallion_app LOGIN NOSUPERUSER NOBYPASSRLS; EXCEPTION WHEN "
      "duplicate_object OR unique_violation THEN NULL; END $$");
  schema.Exec("GRANT ALL ON SCHEMA " + schema.name() + " TO medallion_app");
  std::string url =
      std::regex_replace(base, std::regex("([?&])user=[^&]*"), "$1user=medallion_app");
  if (url.find("user=") == std::string::npos)
    url = ledger::testing::WithParam(url, "user=medallion_app");
  url = ledger::testing::WithParam(url, "application_name=" + app);
  return ledger::testing::WithParam(url, "options=-csearch_path%3D" + schema.name());
}

int64_t Count(sql::Db& db) {
  sql::Stmt q(db, "SELECT COUNT(*) FROM t");
  return q.Step() == SQLITE_ROW ? q.ColInt(0) : -1;
}

std::string Text(sql::Db& db, const char* query) {
  sql::Stmt q(db, query);
  return q.Step() == SQLITE_ROW ? q.Col(0) : "(none)";
}

Status Insert(sql::Db& db, const std::string& k, int64_t n) {
  sql::Stmt ins(db, "INSERT INTO t (k, n) VALUES (?, ?)");
  ins.Text(1, k).Int(2, n);
  return ins.Step() == SQLITE_DONE ? Status::Ok() : ins.Error();
}

}  // namespace

TEST_CASE("sql::PgPool shares two connections among many containers' Dbs", "[storage][db][pool]") {
  if (!ledger::testing::PgBaseUrl()) {
    WARN(ledger::testing::kPgSkipMessage);
    return;
  }
  const std::string base = *ledger::testing::PgBaseUrl();
  ledger::testing::PgSchema schema(base);
  const std::string app = "pooltest" + std::to_string(::getpid());
  const std::string url = AppUrl(schema, base, app);
  auto made = sql::PgPool::Open(url, 2);
  REQUIRE(made);
  std::shared_ptr<sql::PgPool> pool = *made;
  CHECK(sql::PgPool::For(url) == pool);

  // Twenty containers, each opened by URL (as a host's stores are): they borrow from the pool.
  constexpr int kContainers = 20;
  std::vector<std::unique_ptr<sql::Db>> dbs;
  for (int i = 0; i < kContainers; ++i) {
    auto db = sql::Db::Open(url, "pooltest", kSchema, "c" + std::to_string(i));
    REQUIRE(db);
    dbs.push_back(std::move(*db));
  }
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < kContainers; ++i) {
      for (int k = 0; k <= i % 4; ++k) {
        REQUIRE(Insert(*dbs[i], "r" + std::to_string(round) + "." + std::to_string(k), i).ok());
      }
    }
  }
  CHECK(pool->stats().open <= 2);
  for (int i = 0; i < kContainers; ++i) {
    INFO("container " << i);
    CHECK(Count(*dbs[i]) == 3 * (i % 4 + 1));
    sql::Stmt q(*dbs[i], "SELECT COUNT(*) FROM t WHERE n <> ?");
    q.Int(1, i);
    REQUIRE(q.Step() == SQLITE_ROW);
    CHECK(q.ColInt(0) == 0);  // none of another container's rows
    CHECK(Text(*dbs[i], "SELECT current_setting('medallion.container', true)") ==
          "c" + std::to_string(i));
  }
  // Rows written as the container they belong to, whoever's connection it was before.
  CHECK(schema.Query("SELECT COUNT(DISTINCT container_id) FROM t") == std::to_string(kContainers));
  CHECK(schema.Query("SELECT COUNT(*) FROM t WHERE container_id <> 'c' || n") == "0");

  SECTION("a connection back in the pool carries no container") {
    // The statement just run set c19 for its own transaction only (SET LOCAL): the connection,
    // as the next borrower gets it, has none, and row-level security shows it nothing.
    (void)Count(*dbs[19]);
    for (int i = 0; i < 4; ++i) {
      auto setting = pool->QueryIdle("SELECT current_setting('medallion.container', true)");
      REQUIRE(setting);
      CHECK(*setting == "");
      auto rows = pool->QueryIdle("SELECT COUNT(*) FROM t");
      REQUIRE(rows);
      CHECK(*rows == "0");
    }
    // Nor does one given back by a Db that went away inside its transaction.
    REQUIRE(dbs[3]->Begin().ok());
    REQUIRE(Insert(*dbs[3], "gone", 3).ok());
    dbs[3].reset();
    auto setting = pool->QueryIdle("SELECT current_setting('medallion.container', true)");
    REQUIRE(setting);
    CHECK(*setting == "");
    CHECK(schema.Query("SELECT COUNT(*) FROM t WHERE k = 'gone'") == "0");
  }

  SECTION("a transaction keeps its connection until COMMIT or ROLLBACK") {
    sql::Db& a = *dbs[1];
    REQUIRE(a.Begin().ok());
    const std::string pid = Text(a, "SELECT pg_backend_pid()::text");
    REQUIRE(Insert(a, "tx", 1).ok());
    // Meanwhile other containers run on the other connection, and do not see the open write.
    for (int i = 2; i < 8; ++i) {
      CHECK(Text(*dbs[i], "SELECT pg_backend_pid()::text") != pid);
      CHECK(Count(*dbs[i]) == 3 * (i % 4 + 1));
    }
    CHECK(Text(a, "SELECT pg_backend_pid()::text") == pid);
    CHECK(Count(a) == 3 * 2 + 1);  // its own uncommitted row
    REQUIRE(a.Commit().ok());
    CHECK(Count(a) == 3 * 2 + 1);
    // ROLLBACK ends it too (and ROLLBACK TO a savepoint does not).
    REQUIRE(a.Begin().ok());
    REQUIRE(a.Exec("SAVEPOINT w").ok());
    REQUIRE(Insert(a, "tx2", 1).ok());
    REQUIRE(a.Exec("ROLLBACK TO w").ok());
    CHECK(Text(a, "SELECT pg_backend_pid()::text") == Text(a, "SELECT pg_backend_pid()::text"));
    REQUIRE(Insert(a, "tx3", 1).ok());
    REQUIRE(a.Exec("ROLLBACK").ok());
    CHECK(Count(a) == 3 * 2 + 1);
    CHECK(pool->stats().open <= 2);
    // Both connections held by open transactions; the next container's statement gets the one
    // the first COMMIT gives back.
    REQUIRE(a.Begin().ok());
    REQUIRE(dbs[2]->Begin().ok());
    CHECK(pool->stats().idle == 0);
    REQUIRE(a.Commit().ok());
    CHECK(Count(*dbs[5]) == 3 * 2);
    REQUIRE(dbs[2]->Commit().ok());
  }

  SECTION("a failed transaction is an error at COMMIT; odd text is never sent") {
    sql::Db& a = *dbs[2];
    REQUIRE(a.Begin().ok());
    REQUIRE(Insert(a, "fine", 2).ok());
    CHECK_FALSE(Insert(a, "r0.0", 2).ok());  // a duplicate key: the transaction has failed
    CHECK_FALSE(a.Commit().ok());
    CHECK(Count(a) == 9);
    // A statement outside a transaction that fails changes nothing, and the next one runs.
    CHECK_FALSE(Insert(a, "r0.0", 2).ok());
    REQUIRE(Insert(a, "after", 2).ok());
    CHECK(Count(a) == 10);
    REQUIRE(a.Begin().ok());
    REQUIRE(Insert(a, "kept", 2).ok());
    CHECK_FALSE(Insert(a, std::string("\xff"), 2).ok());
    CHECK_FALSE(Insert(a, std::string("a\0b", 3), 2).ok());
    REQUIRE(a.Commit().ok());
    CHECK(Count(a) == 11);
  }

  SECTION("a connection whose backend was terminated is replaced, not reused") {
    const auto before = pool->stats();
    const std::string mine = "FROM pg_stat_activity WHERE application_name = '" + app + "'";
    // Terminates the pool's backends and waits until they are gone.
    auto terminate = [&] {
      const std::string pids = schema.Query("SELECT string_agg(pid::text, ',') " + mine);
      REQUIRE_FALSE(pids.empty());
      schema.Exec("SELECT pg_terminate_backend(pid) " + mine);
      for (int i = 0; i < 1000; ++i) {
        if (schema.Query("SELECT COUNT(*) FROM pg_stat_activity WHERE pid IN (" + pids + ")") ==
            "0")
          break;
        ::usleep(10'000);
      }
      return "," + pids + ",";
    };
    const std::string old = terminate();
    // The terminated connections lie idle in the pool: the next statements find them lost at
    // BEGIN, drop them, and run on new ones.
    for (int i = 0; i < kContainers; ++i) CHECK(Count(*dbs[i]) == 3 * (i % 4 + 1));
    const auto after = pool->stats();
    CHECK(after.dropped >= before.dropped + 1);
    CHECK(after.made >= before.made + 1);
    CHECK(after.open <= 2);
    const std::string pid = Text(*dbs[0], "SELECT pg_backend_pid()::text");
    CHECK(old.find("," + pid + ",") == std::string::npos);

    // Lost inside a transaction: that transaction fails (its COMMIT is an error), the link is
    // dropped, and the next transaction runs on a new one.
    sql::Db& a = *dbs[4];
    REQUIRE(a.Begin().ok());
    REQUIRE(Insert(a, "lost", 4).ok());
    (void)terminate();
    CHECK_FALSE(Insert(a, "lost2", 4).ok());
    CHECK_FALSE(a.Commit().ok());
    REQUIRE(Insert(a, "later", 4).ok());
    CHECK(Count(a) == 3 + 1);
    CHECK(pool->stats().open <= 2);
  }
}

TEST_CASE("sql::PgPool under threads: eight containers' writers over two connections",
          "[storage][db][pool]") {
  if (!ledger::testing::PgBaseUrl()) {
    WARN(ledger::testing::kPgSkipMessage);
    return;
  }
  ledger::testing::PgSchema schema(*ledger::testing::PgBaseUrl());
  const std::string url =
      AppUrl(schema, *ledger::testing::PgBaseUrl(), "pooltest_threads" + std::to_string(::getpid()));
  auto pool = sql::PgPool::Open(url, 2);
  REQUIRE(pool);
  constexpr int kThreads = 8, kWrites = 40;
  std::vector<std::unique_ptr<sql::Db>> dbs;
  for (int i = 0; i < kThreads; ++i) {
    auto db = sql::Db::Open(*pool, "pooltest", kSchema, "w" + std::to_string(i));
    REQUIRE(db);
    dbs.push_back(std::move(*db));
  }
  // Each thread its own container: every other write in an explicit transaction of two rows
  // (holding a connection across statements), the others alone. Waiting for a connection is
  // the pool's; no write may fail and none may land in another container.
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      sql::Db& db = *dbs[static_cast<size_t>(t)];
      for (int w = 0; w < kWrites; ++w) {
        const std::string k = std::to_string(w);
        if (w % 2 == 0) {
          Status st = sql::InTransaction(db, [&]() -> Status {
            MDL_RETURN_IF_ERROR(Insert(db, k, t));
            return Insert(db, k + "b", t);
          });
          if (!st.ok()) ++failures;
        } else if (!Insert(db, k, t).ok()) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == 0);
  CHECK((*pool)->stats().open <= 2);
  for (int t = 0; t < kThreads; ++t) CHECK(Count(*dbs[static_cast<size_t>(t)]) == kWrites * 3 / 2);
  CHECK(schema.Query("SELECT COUNT(*) FROM t WHERE container_id <> 'w' || n") == "0");
}

TEST_CASE("sql::PgPool refuses what a Db refuses", "[storage][db][pool]") {
  if (!ledger::testing::PgBaseUrl()) {
    WARN(ledger::testing::kPgSkipMessage);
    return;
  }
  // A superuser: row-level security would not bind it.
  auto super = sql::PgPool::Open(*ledger::testing::PgBaseUrl(), 2);
  REQUIRE_FALSE(super);
  CHECK(super.error().code() == StatusCode::kInvalidArgument);
  auto not_pg = sql::PgPool::Open("/tmp/x.db", 2);
  CHECK_FALSE(not_pg);
  ledger::testing::PgSchema schema(*ledger::testing::PgBaseUrl());
  const std::string url = AppUrl(schema, *ledger::testing::PgBaseUrl(), "pooltest_refuse");
  auto pool = sql::PgPool::Open(url, 1);
  REQUIRE(pool);
  auto none = sql::Db::Open(*pool, "pooltest", kSchema, "");
  REQUIRE_FALSE(none);
  CHECK(none.error().code() == StatusCode::kInvalidArgument);
}
