// The SQLite helper (storage/sqlite.h): blob binds and the statement cache.
#include <catch2/catch.hpp>

#include <array>

#include "medallion/storage/sqlite.h"

using namespace medallion;

namespace {

// An in-memory database, closed (and required to close cleanly) at the end.
struct MemoryDb {
  sqlite3* db = nullptr;
  MemoryDb() { REQUIRE(sqlite3_open(":memory:", &db) == SQLITE_OK); }
  ~MemoryDb() { CHECK(sqlite3_close(db) == SQLITE_OK); }
};

// Statements prepared on `db` that have stepped and not been reset (a read held open).
int BusyStatements(sqlite3* db) {
  int n = 0;
  for (sqlite3_stmt* s = sqlite3_next_stmt(db, nullptr); s != nullptr;
       s = sqlite3_next_stmt(db, s)) {
    n += sqlite3_stmt_busy(s) ? 1 : 0;
  }
  return n;
}

}  // namespace

TEST_CASE("sqlite: a ByteView binds as a BLOB and reads back", "[storage][sqlite]") {
  MemoryDb m;
  REQUIRE(sql::Exec(m.db, "CREATE TABLE t(b BLOB)", "test").ok());
  const std::array<uint8_t, 4> bytes{0x00, 0xff, 0x10, 0x00};
  sql::Stmt ins(m.db, "INSERT INTO t(b) VALUES(?)", "test");
  REQUIRE(ins.Blob(1, bytes).Step() == SQLITE_DONE);
  sql::Stmt q(m.db, "SELECT typeof(b), b FROM t", "test");
  REQUIRE(q.Step() == SQLITE_ROW);
  CHECK(q.Col(0) == "blob");
  CHECK(q.ColBlob(1) == std::string("\x00\xff\x10\x00", 4));
}

TEST_CASE("sqlite: the statement cache prepares once and lends reset statements",
          "[storage][sqlite]") {
  MemoryDb m;
  {
    sql::StmtCache cache(m.db, "test");
    const char* const kSelect = "SELECT x FROM t WHERE x >= ? ORDER BY x";
    {
      // A statement that does not prepare is not cached: it fails until the table exists.
      sql::Stmt missing = cache.Get(kSelect);
      CHECK_FALSE(missing.ok());
      CHECK(missing.Step() != SQLITE_ROW);
      CHECK(missing.Error().code() == StatusCode::kUnavailable);
      CHECK(missing.Error().message().find("test: sqlite: ") == 0);
    }
    REQUIRE(sql::Exec(m.db, "CREATE TABLE t(x INTEGER); INSERT INTO t VALUES (1), (2), (3)", "test")
                .ok());
    sqlite3_stmt* first = nullptr;
    {
      sql::Stmt q = cache.Get(kSelect);
      REQUIRE(q.ok());
      REQUIRE(q.Int(1, 2).Step() == SQLITE_ROW);
      CHECK(q.ColInt(0) == 2);
      first = sqlite3_next_stmt(m.db, nullptr);
      CHECK(BusyStatements(m.db) == 1);
    }
    // Given back: reset (no read held open), bindings cleared, still prepared.
    CHECK(BusyStatements(m.db) == 0);
    CHECK(sqlite3_next_stmt(m.db, nullptr) == first);
    {
      sql::Stmt q = cache.Get(kSelect);
      REQUIRE(q.ok());
      CHECK(q.Step() == SQLITE_DONE);  // x >= NULL: the earlier bind is gone
      q.Reset();
      REQUIRE(q.Int(1, 0).Step() == SQLITE_ROW);
      CHECK(q.ColInt(0) == 1);
      CHECK(sqlite3_next_stmt(m.db, first) == nullptr);  // the same one statement
    }
  }
  // The cache finalized its statements, so the connection closes cleanly (MemoryDb checks).
  CHECK(sqlite3_next_stmt(m.db, nullptr) == nullptr);
}

TEST_CASE("sqlite: InTransaction commits, and rolls back a failed body", "[storage][sqlite]") {
  MemoryDb m;
  REQUIRE(sql::Exec(m.db, "CREATE TABLE t(x INTEGER)", "test").ok());
  auto count = [&] {
    sql::Stmt q(m.db, "SELECT COUNT(*) FROM t", "test");
    REQUIRE(q.Step() == SQLITE_ROW);
    return q.ColInt(0);
  };
  CHECK(sql::InTransaction(m.db, "test", [&] {
          return sql::Exec(m.db, "INSERT INTO t VALUES (1)", "test");
        }).ok());
  CHECK(count() == 1);
  const Status failed = sql::InTransaction(m.db, "test", [&]() -> Status {
    MDL_RETURN_IF_ERROR(sql::Exec(m.db, "INSERT INTO t VALUES (2)", "test"));
    return Status::FailedPrecondition("no");
  });
  CHECK(failed.code() == StatusCode::kFailedPrecondition);
  CHECK(count() == 1);
  CHECK(sqlite3_get_autocommit(m.db) != 0);  // no transaction left open
}
