// The SQLite helper (storage/sqlite.h): blob binds and the statement cache.
#include <catch2/catch.hpp>

#include <array>
#include <string>
#include <vector>

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

TEST_CASE("sqlite: RowInserter inserts any number of rows, in order, in chunks",
          "[storage][sqlite]") {
  MemoryDb m;
  REQUIRE(sql::Exec(m.db, "CREATE TABLE t(i INTEGER PRIMARY KEY, s TEXT NOT NULL, b BLOB NOT NULL)",
                    "test")
              .ok());
  {
    sql::RowInserter ins(m.db, "INSERT INTO t(i, s, b) VALUES", 3, "test");
    // Every remainder shape: none, one, a chunk less one, a chunk, a chunk and one, several.
    uint64_t next = 0;
    for (size_t n : {size_t{0}, size_t{1}, size_t{63}, size_t{64}, size_t{65}, size_t{200}}) {
      std::vector<std::string> texts;
      std::vector<Bytes> blobs;
      for (size_t k = 0; k < n; ++k) {
        texts.push_back("row " + std::to_string(next + k));
        // Values the binder points at without copying: they must be read as they were.
        blobs.push_back(Bytes(k % 5, static_cast<uint8_t>(k)));
        blobs.back().push_back(0x00);
      }
      REQUIRE(ins.Insert(n, [&](size_t k, sql::RowInserter::Row& row) {
                   row.Int(static_cast<int64_t>(next + k)).Text(texts[k]).Blob(blobs[k]);
                 }).ok());
      sql::Stmt q(m.db, "SELECT i, s, b FROM t WHERE i >= ? ORDER BY i", "test");
      q.Int(1, static_cast<int64_t>(next));
      size_t k = 0;
      while (q.Step() == SQLITE_ROW) {
        REQUIRE(k < n);
        CHECK(q.ColInt(0) == static_cast<int64_t>(next + k));
        CHECK(q.Col(1) == texts[k]);
        CHECK(q.ColBlob(2) == std::string(blobs[k].begin(), blobs[k].end()));
        ++k;
      }
      CHECK(k == n);
      next += n;
    }
    sql::Stmt count(m.db, "SELECT COUNT(*) FROM t", "test");
    REQUIRE(count.Step() == SQLITE_ROW);
    CHECK(count.ColInt(0) == 393);

    // A constraint failure: unavailable with SQLite's words; inside a transaction, nothing stays.
    const Bytes one{1};  // bound without a copy: it lives until Insert returns
    const Status dup = sql::InTransaction(m.db, "test", [&] {
      return ins.Insert(70, [&](size_t k, sql::RowInserter::Row& row) {
        // Row 69 repeats a stored key: the second chunk (6 rows) fails after the first (64) ran.
        row.Int(k == 69 ? 5 : 1000 + static_cast<int64_t>(k)).Text("x").Blob(one);
      });
    });
    CHECK(dup.code() == StatusCode::kUnavailable);
    CHECK(dup.message().find("test: sqlite: UNIQUE constraint failed") == 0);
    sql::Stmt after(m.db, "SELECT COUNT(*) FROM t", "test");
    REQUIRE(after.Step() == SQLITE_ROW);
    CHECK(after.ColInt(0) == 393);

    // A binder that binds too few values is a programming error, reported, nothing inserted.
    const Status few = ins.Insert(2, [&](size_t k, sql::RowInserter::Row& row) {
      row.Int(2000 + static_cast<int64_t>(k)).Text("x");
    });
    CHECK(few.code() == StatusCode::kInternal);
    sql::Stmt still(m.db, "SELECT COUNT(*) FROM t WHERE i >= 2000", "test");
    REQUIRE(still.Step() == SQLITE_ROW);
    CHECK(still.ColInt(0) == 0);
  }
  // Its statements are finalized with it, so the connection closes cleanly (MemoryDb checks).
  CHECK(sqlite3_next_stmt(m.db, nullptr) == nullptr);
}
