// The LeafStores (SQLite and PostgreSQL) and Log: durable batched appends, proofs against signed
// checkpoints, lookups, back-pressure, reopening, VerifyStorage finding edited rows, and the
// sequencer lease (standby, takeover, fencing). Each case runs once per backend (backends.h).
#include <catch2/catch.hpp>

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <set>

#include "medallion/core/encoding.h"
#include "medallion/core/hash.h"
#include "medallion/core/jcs.h"
#include "backends.h"
#include "medallion/ledger/log.h"
#include "medallion/ledger/pg_store.h"
#include "medallion/ledger/tiles.h"
#include "test_util.h"

namespace medallion::ledger {
namespace {

namespace fs = std::filesystem;
using testing::Backend;
using testing::PgBaseUrl;
using testing::TestDb;

// This run's backend (Catch2 GENERATE: the test case runs once per value); a PostgreSQL run
// without a cluster returns at once with a warning.
#define MDL_BACKEND(var)                                             \
  const Backend var = GENERATE(Backend::kSqlite, Backend::kPostgres); \
  if (var == Backend::kPostgres && !PgBaseUrl()) {                   \
    WARN(testing::kPgSkipMessage);                                   \
    return;                                                          \
  }                                                                  \
  INFO("backend: " << testing::BackendName(var))

std::string Hex32(uint64_t i) { return HexEncode(Sha256(AsBytes("entry " + std::to_string(i)))); }

std::string Anchor(uint64_t i) {
  return "{\"type\":\"anchor\",\"v\":1,\"hash\":\"" + Hex32(i) +
         "\",\"kind\":\"document\",\"ts\":" + std::to_string(1700000000 + i) + "}";
}

std::string Dispense(const std::string& nullifier) {
  return "{\"type\":\"dispense\",\"v\":1,\"nullifier\":\"" + nullifier + "\",\"rx\":\"" + Hex32(1) +
         "\",\"pharmacy\":\"did:web:pharmacy.example\",\"qty\":30,\"sig\":\"" +
         Base64UrlEncode(Bytes(64, 1)) + "\",\"ts\":1700000000}";
}

// The canonical bytes of an entry (std::string is ambiguous between the two overloads).
std::string Canon(const std::string& json) {
  return jcs::Canonicalize(std::string_view(json)).value();
}

Ed25519NoteSigner LogKey() {
  return Ed25519NoteSigner::FromSeed("ledger.example/test", Bytes(32, 0x42));
}

struct Fixture {
  explicit Fixture(Backend backend) : test_db(backend), db(test_db.db()) {}
  TestDb test_db;
  FakeClock clock{1700000000000};
  SeededRng rng{7};
  Env env{&clock, &rng};
  std::string db;

  std::unique_ptr<Log> Open(LogOptions options = {}) {
    auto store = OpenLeafStore(db);
    REQUIRE(store);
    auto log = Log::Open(std::move(store).value(), LogKey(), env, options);
    REQUIRE(log);
    return std::move(log).value();
  }
  // Edits the stored rows behind the store's back: `sqlite` or `pg`, by backend.
  void Edit(const std::string& sqlite, const std::string& pg);
};

void Sql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  INFO((err ? err : ""));
  sqlite3_free(err);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

void Fixture::Edit(const std::string& sqlite, const std::string& pg) {
  if (test_db.backend() == Backend::kSqlite) {
    Sql(db, sqlite);
  } else {
    REQUIRE_NOTHROW(test_db.schema()->Exec(pg));
  }
}

TEST_CASE("store: migrations, batches, nodes, keys", "[ledger][store]") {
  MDL_BACKEND(backend);
  Fixture fx(backend);
  auto store = OpenLeafStore(fx.db);
  REQUIRE(store);
  CHECK(SqliteLeafStore::SchemaVersion() == 3);
  CHECK(PgLeafStore::SchemaVersion() == 2);
  CHECK(*(*store)->Size() == 0);
  AppendBatch b;
  CompactRange range;
  for (uint64_t i = 0; i < 5; ++i) {
    Hash h = HashLeaf(AsBytes(std::to_string(i)));
    for (auto& n : range.Append(h)) {
      if (n.level > 0) b.nodes.push_back(n);
    }
    b.leaves.push_back({i, h, std::to_string(i)});
  }
  b.keys.push_back({{KeyKind::kDid, "did:web:a"}, 3});
  b.keys.push_back({{KeyKind::kDid, "did:web:a"}, 4});
  b.checkpoint = StoredCheckpoint{5, "note"};
  REQUIRE((*store)->Append(b).ok());
  CHECK(*(*store)->Size() == 5);
  // A batch that does not start at Size() writes nothing.
  CHECK((*store)->Append(b).code() == StatusCode::kFailedPrecondition);
  CHECK(*(*store)->Size() == 5);
  CHECK(*TreeRoot(**store, 5) == range.Root());
  CHECK(*(*store)->FindByKey({KeyKind::kDid, "did:web:a"}, -1, 10) == std::vector<uint64_t>{3, 4});
  CHECK(*(*store)->FindByKey({KeyKind::kDid, "did:web:a"}, 3, 10) == std::vector<uint64_t>{4});
  CHECK((*store)->FindByKey({KeyKind::kNullifier, "did:web:a"}, -1, 10)->empty());
  CHECK((*(*store)->LatestCheckpoint())->size == 5);
  CHECK((*store)->GetLeaves(2, 4)->at(1).entry == "3");
  CHECK_FALSE((*store)->GetLeaves(4, 6));

  // Witness state is compare-and-set.
  LeafStore::WitnessState w{10, range.Root()};
  CHECK((*store)->CompareAndSetWitnessState("o", std::nullopt, w).ok());
  CHECK((*store)->CompareAndSetWitnessState("o", std::nullopt, w).code() ==
        StatusCode::kFailedPrecondition);
  CHECK((*store)->CompareAndSetWitnessState("o", 10, {12, w.root}).ok());
  CHECK((*(*store)->GetWitnessState("o"))->size == 12);
  store->reset();

  // Reopening keeps everything (and applies no migration twice); a newer schema is refused.
  auto again = OpenLeafStore(fx.db);
  REQUIRE(again);
  CHECK(*(*again)->Size() == 5);
  again->reset();
  if (backend == Backend::kPostgres) {
    CHECK(fx.test_db.schema()->Query("SELECT count(*) FROM ledger_schema_migrations") == "2");
  }
  fx.Edit("PRAGMA user_version=99",
          "INSERT INTO ledger_schema_migrations(version, description) VALUES (99, 'future')");
  auto newer = OpenLeafStore(fx.db);
  REQUIRE_FALSE(newer);
  CHECK(newer.error().code() == StatusCode::kDataLoss);
  CHECK(newer.error().message().find("newer than this build") != std::string::npos);
}

TEST_CASE("log: appends, checkpoints, proofs, lookups", "[ledger][log]") {
  MDL_BACKEND(backend);
  Fixture fx(backend);
  auto log = fx.Open();
  CHECK(log->Size() == 0);
  auto verifier = log->Verifier();
  auto empty = OpenCheckpoint(log->CheckpointNote(), verifier, "ledger.example/test", nullptr);
  REQUIRE(empty);
  CHECK(empty->checkpoint.root == EmptyRoot());

  std::vector<std::future<Result<AppendResult>>> futures;
  for (uint64_t i = 0; i < 300; ++i) futures.push_back(log->Append(Anchor(i)));
  std::vector<AppendResult> results;
  for (auto& f : futures) {
    auto r = f.get();
    REQUIRE(r);
    results.push_back(*r);
  }
  for (uint64_t i = 0; i < results.size(); ++i) {
    CHECK(results[i].index == i);  // one producer: queue order is log order
    CHECK(results[i].leaf_hash == HashLeaf(AsBytes(Canon(Anchor(i)))));
  }
  REQUIRE(log->Size() == 300);
  auto cp = OpenCheckpoint(log->CheckpointNote(), verifier, "ledger.example/test", nullptr);
  REQUIRE(cp);
  CHECK(cp->checkpoint.size == 300);

  for (uint64_t i : {0, 1, 150, 255, 256, 299}) {
    auto p = log->InclusionProof(i, 300);
    REQUIRE(p);
    CHECK(VerifyInclusion(i, 300, results[i].leaf_hash, *p, cp->checkpoint.root).ok());
  }
  CHECK_FALSE(log->InclusionProof(300, 300));
  CHECK_FALSE(log->InclusionProof(0, 301));

  // A later checkpoint is consistent with this one.
  REQUIRE(log->AppendSync(Anchor(1000)));
  auto cp2 = OpenCheckpoint(log->CheckpointNote(), verifier, "ledger.example/test", nullptr);
  REQUIRE(cp2);
  auto c = log->ConsistencyProof(300, 301);
  REQUIRE(c);
  CHECK(VerifyConsistency(300, 301, *c, cp->checkpoint.root, cp2->checkpoint.root).ok());

  auto entries = log->Entries(10, 13);
  REQUIRE(entries);
  REQUIRE(entries->size() == 3);
  CHECK(entries->at(0).entry == Canon(Anchor(10)));
  CHECK_FALSE(log->Entries(0, 5000));

  // Lookup by nullifier, and a second dispense with it is refused.
  const std::string n1 = Hex32(77);
  auto d = log->AppendSync(Dispense(n1));
  REQUIRE(d);
  CHECK(*log->FindByKey({KeyKind::kNullifier, n1}) == std::vector<uint64_t>{d->index});
  CHECK(log->FindByKey({KeyKind::kDid, "did:web:pharmacy.example"})->size() == 1);
  CHECK(log->AppendSync(Dispense(n1)).error().code() == StatusCode::kAlreadyExists);
  // Bad entries never reach the queue.
  CHECK(log->AppendSync("{\"type\":\"anchor\",\"v\":1,\"note\":\"x\"}").error().code() ==
        StatusCode::kInvalidArgument);
  CHECK(log->Size() == 302);

  auto report = log->VerifyStorage();
  REQUIRE(report);
  CHECK(report->ok);
  CHECK(report->leaves == 302);
  CHECK(report->checkpoints >= 3);
}

TEST_CASE("log: concurrent producers get distinct indices", "[ledger][log]") {
  MDL_BACKEND(backend);
  Fixture fx(backend);
  auto log = fx.Open(LogOptions{.max_queue = 100000, .max_batch = 64});
  constexpr int kThreads = 4, kEach = 200;
  std::vector<std::thread> threads;
  std::vector<std::vector<uint64_t>> got(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::future<Result<AppendResult>>> fs;
      for (int i = 0; i < kEach; ++i) fs.push_back(log->Append(Anchor(t * 10000 + i)));
      for (auto& f : fs) got[t].push_back(f.get().value().index);
    });
  }
  for (auto& th : threads) th.join();
  std::set<uint64_t> all;
  for (auto& g : got) all.insert(g.begin(), g.end());
  CHECK(all.size() == kThreads * kEach);
  CHECK(*all.rbegin() == kThreads * kEach - 1);
  CHECK(log->VerifyStorage()->ok);
}

// A store whose Append waits until released: to observe acknowledgement and back-pressure.
class GatedStore final : public LeafStore {
 public:
  explicit GatedStore(std::unique_ptr<LeafStore> inner) : inner_(std::move(inner)) {}
  void Open() {
    {
      std::lock_guard<std::mutex> l(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }
  std::atomic<int> appends{0};
  Result<uint64_t> Size() override { return inner_->Size(); }
  Status Append(const AppendBatch& b) override {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return open_; });
    ++appends;
    return inner_->Append(b);
  }
  Status GetNode(uint32_t level, uint64_t index, Hash* out) override {
    return inner_->GetNode(level, index, out);
  }
  Result<std::vector<StoredLeaf>> GetLeaves(uint64_t s, uint64_t e) override {
    return inner_->GetLeaves(s, e);
  }
  Result<std::vector<uint64_t>> FindByKey(const EntryKey& k, int64_t a, size_t n) override {
    return inner_->FindByKey(k, a, n);
  }
  Result<std::optional<StoredCheckpoint>> LatestCheckpoint() override {
    return inner_->LatestCheckpoint();
  }
  Result<std::vector<StoredCheckpoint>> GetCheckpoints(uint64_t f, size_t n) override {
    return inner_->GetCheckpoints(f, n);
  }
  Status PutCheckpoint(const StoredCheckpoint& c) override { return inner_->PutCheckpoint(c); }
  Result<std::optional<WitnessState>> GetWitnessState(const std::string& o) override {
    return inner_->GetWitnessState(o);
  }
  Status CompareAndSetWitnessState(const std::string& o, std::optional<uint64_t> e,
                                   const WitnessState& s) override {
    return inner_->CompareAndSetWitnessState(o, e, s);
  }

 private:
  std::unique_ptr<LeafStore> inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

TEST_CASE("log: acknowledged only after commit; full queue is resource_exhausted",
          "[ledger][log]") {
  MDL_BACKEND(backend);
  Fixture fx(backend);
  auto gated = std::make_unique<GatedStore>(std::move(OpenLeafStore(fx.db)).value());
  GatedStore* gate = gated.get();
  auto log =
      Log::Open(std::move(gated), LogKey(), fx.env, LogOptions{.max_queue = 4, .max_batch = 2});
  REQUIRE(log);
  auto first = (*log)->Append(Anchor(0));
  // Give the sequencer time to take the first entry; it then waits in the store while the
  // queue fills behind it. (Timing only makes the batch count below exact; the other
  // checks hold either way.)
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(first.wait_for(std::chrono::milliseconds(0)) == std::future_status::timeout);
  std::vector<std::future<Result<AppendResult>>> queued;
  for (int i = 1; i <= 4; ++i) queued.push_back((*log)->Append(Anchor(i)));
  auto overflow = (*log)->Append(Anchor(5)).get();
  REQUIRE_FALSE(overflow);
  CHECK(overflow.error().code() == StatusCode::kResourceExhausted);
  CHECK((*log)->Size() == 0);
  gate->Open();
  CHECK(first.get()->index == 0);
  for (auto& f : queued) CHECK(f.get());
  CHECK((*log)->Size() == 5);
  CHECK(gate->appends.load() <= 3);  // batches of 1, 2, 2 (max_batch = 2)
}

// Acknowledgements complete on the log's completer thread (Log::Complete): a log destroyed
// with appends in flight still answers every future — committed ones with their index, in
// order, never with a broken promise — and a reader sees the size of an acknowledged append.
// (The completer keeps up with commits, so this does not force the case where ~Log finds its
// queue non-empty; the drain is there for it.)
TEST_CASE("log: every append is answered, also when the log closes at once", "[ledger][log]") {
  MDL_BACKEND(backend);
  Fixture fx(backend);
  std::vector<std::future<Result<AppendResult>>> fs;
  {
    auto log = fx.Open(LogOptions{.max_batch = 1});
    auto first = log->AppendSync(Anchor(0));
    REQUIRE(first);
    CHECK(log->Size() >= first->index + 1);
    // One commit each, then the log closes with most of them still queued or unacknowledged.
    for (uint64_t i = 1; i <= 300; ++i) fs.push_back(log->Append(Anchor(i)));
  }  // ~Log: the sequencer stops, the completer drains its queue
  uint64_t committed = 1;
  int64_t last = 0;
  for (auto& f : fs) {
    REQUIRE(f.wait_for(std::chrono::seconds(0)) == std::future_status::ready);
    auto r = f.get();  // a broken promise would throw here
    if (!r) continue;  // closing: an append not yet taken may be refused
    CHECK(static_cast<int64_t>(r->index) > last);
    last = static_cast<int64_t>(r->index);
    ++committed;
  }
  auto reopened = fx.Open();
  CHECK(reopened->Size() >= committed);
}

// Appends `leaves` leaf hashes to `store` in batches of the sizes `batches` cycles through (what
// Log::CommitBatch writes: leaves and the nodes CompactRange completes), mirroring them in
// `memory`.
void AppendLeaves(LeafStore& store, CompactRange& range, MemoryNodeSource& memory, uint64_t leaves,
                  const std::vector<uint64_t>& batches) {
  size_t next = 0;
  for (uint64_t done = 0; done < leaves;) {
    const uint64_t n = std::min(leaves - done, batches[next++ % batches.size()]);
    AppendBatch b;
    for (uint64_t i = 0; i < n; ++i) {
      const Hash h = HashLeaf(AsBytes(std::to_string(range.size())));
      for (auto& node : range.Append(h)) {
        if (node.level > 0) b.nodes.push_back(node);
      }
      b.leaves.push_back({range.size() - 1, h, std::to_string(range.size() - 1)});
      memory.AppendLeafHash(h);
    }
    REQUIRE(store.Append(b).ok());
    done += n;
  }
}

// Every node, tile and a sample of proofs of the tree of `size` read from `store` equal the
// in-memory tree's.
void CheckStoreTree(LeafStore& store, MemoryNodeSource& memory, uint64_t size) {
  INFO("tree size " << size);
  REQUIRE(*store.Size() == size);
  for (uint32_t level = 0; (size >> level) > 0; ++level) {
    for (uint64_t i = 0; i < (size >> level); i += 1 + (size >> level) / 300) {
      Hash a, b;
      REQUIRE(store.GetNode(level, i, &a).ok());
      REQUIRE(memory.GetNode(level, i, &b).ok());
      CHECK(a == b);
    }
    // The first node not complete yet is not there.
    Hash none;
    CHECK(store.GetNode(level, size >> level, &none).code() == StatusCode::kNotFound);
  }
  for (const TileId& t : TilesOfTree(size)) {
    if (t.entries || (t.full() && t.index % 64 != 0)) continue;  // a sample, and every partial
    auto bytes = ReadTile(store, t, size);
    REQUIRE(bytes);
    REQUIRE(bytes->size() == t.width * kHashSize);
    for (uint32_t i = 0; i < t.width; i += 17) {
      Hash h;
      REQUIRE(memory.GetNode(t.level * 8, t.index * 256 + i, &h).ok());
      CHECK(std::equal(h.begin(), h.end(), bytes->begin() + i * kHashSize));
    }
  }
  for (uint64_t i = 0; i < size; i += 1 + size / 40) {
    CHECK(*InclusionProof(store, i, size) == *InclusionProof(memory, i, size));
    CHECK(*ConsistencyProof(store, i + 1, size) == *ConsistencyProof(memory, i + 1, size));
  }
  CHECK(*TreeRoot(store, size) == *TreeRoot(memory, size));
}

TEST_CASE("store: the tree as tile rows, across batches and reopening", "[ledger][store][tiles]") {
  MDL_BACKEND(backend);
  Fixture fx(backend);
  CompactRange range;
  MemoryNodeSource memory;
  // Batches that end inside a tile, exactly on a tile boundary and across several tiles;
  // 66,000 leaves fill a level-1 tile (65,536 leaves) and start the next.
  const std::vector<uint64_t> batches = {1, 255, 7, 1, 4096, 300, 2, 4096};
  uint64_t size = 0;
  for (uint64_t target : {1ull, 256ull, 1000ull, 66000ull}) {
    auto store = OpenLeafStore(fx.db);  // a fresh store: its partial tiles come from the rows
    REQUIRE(store);
    AppendLeaves(**store, range, memory, target - size, batches);
    size = target;
    CheckStoreTree(**store, memory, size);
  }
  // A batch that does not extend the stored tree writes nothing.
  auto store = OpenLeafStore(fx.db);
  REQUIRE(store);
  AppendBatch stale;
  stale.leaves.push_back({size, HashLeaf(AsBytes(std::string("x"))), "x"});
  stale.nodes.push_back({1, 5, Hash{}});  // a node the stored tree already has
  CHECK_FALSE((*store)->Append(stale).ok());
  CHECK(*(*store)->Size() == size);
  CompactRange copy = range;
  AppendLeaves(**store, copy, memory, 1, {1});
  CheckStoreTree(**store, memory, size + 1);
}

// The schema-1 layout (one row per node), as an older build wrote it.
constexpr const char* kSchema1 = R"sql(
CREATE TABLE leaves(idx INTEGER PRIMARY KEY,
  leaf_hash BLOB NOT NULL CHECK(length(leaf_hash) = 32), entry BLOB NOT NULL);
CREATE TABLE nodes(level INTEGER NOT NULL CHECK(level >= 1), idx INTEGER NOT NULL,
  hash BLOB NOT NULL CHECK(length(hash) = 32), PRIMARY KEY(level, idx)) WITHOUT ROWID;
CREATE TABLE entry_keys(kind INTEGER NOT NULL, value TEXT NOT NULL, idx INTEGER NOT NULL,
  PRIMARY KEY(kind, value, idx)) WITHOUT ROWID;
CREATE TABLE checkpoints(size INTEGER PRIMARY KEY, note TEXT NOT NULL);
CREATE TABLE witness_state(origin TEXT PRIMARY KEY, size INTEGER NOT NULL,
  root BLOB NOT NULL CHECK(length(root) = 32));
PRAGMA user_version = 1;
)sql";

// Writes a schema-1 database of `size` anchor entries with its node rows and signed checkpoints.
void WriteSchema1Log(const std::string& path, uint64_t size, MemoryNodeSource& memory) {
  Sql(path, kSchema1);
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_stmt* leaf = nullptr;
  sqlite3_stmt* node = nullptr;
  sqlite3_stmt* cp = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "INSERT INTO leaves VALUES(?, ?, ?)", -1, &leaf, nullptr) ==
          SQLITE_OK);
  REQUIRE(sqlite3_prepare_v2(db, "INSERT INTO nodes VALUES(?, ?, ?)", -1, &node, nullptr) ==
          SQLITE_OK);
  REQUIRE(sqlite3_prepare_v2(db, "INSERT INTO checkpoints VALUES(?, ?)", -1, &cp, nullptr) ==
          SQLITE_OK);
  const Ed25519NoteSigner signer = LogKey();
  CompactRange range;
  auto checkpoint = [&] {
    const std::string note =
        signer.SignNote(Checkpoint{signer.name(), range.size(), range.Root(), {}}.ToText());
    sqlite3_bind_int64(cp, 1, static_cast<int64_t>(range.size()));
    sqlite3_bind_text(cp, 2, note.c_str(), static_cast<int>(note.size()), SQLITE_TRANSIENT);
    REQUIRE(sqlite3_step(cp) == SQLITE_DONE);
    sqlite3_reset(cp);
  };
  checkpoint();
  for (uint64_t i = 0; i < size; ++i) {
    const std::string e = Canon(Anchor(i));
    const Hash h = HashLeaf(AsBytes(e));
    memory.AppendLeafHash(h);
    for (const auto& n : range.Append(h)) {
      if (n.level == 0) continue;
      sqlite3_bind_int(node, 1, static_cast<int>(n.level));
      sqlite3_bind_int64(node, 2, static_cast<int64_t>(n.index));
      sqlite3_bind_blob(node, 3, n.hash.data(), 32, SQLITE_TRANSIENT);
      REQUIRE(sqlite3_step(node) == SQLITE_DONE);
      sqlite3_reset(node);
    }
    sqlite3_bind_int64(leaf, 1, static_cast<int64_t>(i));
    sqlite3_bind_blob(leaf, 2, h.data(), 32, SQLITE_TRANSIENT);
    sqlite3_bind_blob(leaf, 3, e.data(), static_cast<int>(e.size()), SQLITE_TRANSIENT);
    REQUIRE(sqlite3_step(leaf) == SQLITE_DONE);
    sqlite3_reset(leaf);
    if ((i + 1) % 1000 == 0 || i + 1 == size) checkpoint();
  }
  sqlite3_finalize(leaf);
  sqlite3_finalize(node);
  sqlite3_finalize(cp);
  REQUIRE(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
}

TEST_CASE("sqlite store: migration 2 turns a node-row database into tile rows",
          "[ledger][store][tiles][migration]") {
  TestDb test_db(Backend::kSqlite);
  const std::string path = test_db.db();
  FakeClock clock{1700000000000};
  SeededRng rng{7};
  Env env{&clock, &rng};
  MemoryNodeSource memory;
  constexpr uint64_t kSize = 66000;  // full level-0 tiles, a partial one, a full level-1 tile
  WriteSchema1Log(path, kSize, memory);

  SECTION("converted; the log opens, verifies, proves and appends") {
    {
      auto store = SqliteLeafStore::Open(path);
      REQUIRE(store);
      CheckStoreTree(**store, memory, kSize);
    }
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    REQUIRE(sqlite3_prepare_v2(db,
                               "SELECT (SELECT user_version FROM pragma_user_version), "
                               "(SELECT count(*) FROM tiles), "
                               "(SELECT count(*) FROM sqlite_master WHERE name = 'nodes')",
                               -1, &s, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(s) == SQLITE_ROW);
    CHECK(sqlite3_column_int(s, 0) == SqliteLeafStore::SchemaVersion());  // 2, then 3
    // Level 0: 257 full tiles and one of 208; level 1: one full and one of 1; level 2: one of 1.
    CHECK(sqlite3_column_int(s, 1) == 258 + 2 + 1);
    CHECK(sqlite3_column_int(s, 2) == 0);  // the node rows are gone
    sqlite3_finalize(s);
    sqlite3_close(db);

    auto store = OpenLeafStore(path);
    REQUIRE(store);
    auto log = Log::Open(std::move(store).value(), LogKey(), env);
    REQUIRE(log);
    CHECK((*log)->Size() == kSize);
    auto r = (*log)->AppendSync(Anchor(kSize));
    REQUIRE(r);
    memory.AppendLeafHash(r->leaf_hash);
    CHECK((*log)->LatestCheckpoint().root == *TreeRoot(memory, kSize + 1));
    auto report = (*log)->VerifyStorage();
    REQUIRE(report);
    CHECK(report->ok);
    CHECK(report->leaves == kSize + 1);
  }
  SECTION("an edited node inside a full tile row is found by verify") {
    REQUIRE(SqliteLeafStore::Open(path));  // converted
    // Node (1, 3) is the fourth hash of rise 1 in the full tile (0, 0): after its 256 leaves.
    Sql(path,
        "UPDATE tiles SET hashes = substr(hashes, 1, 256 * 32 + 3 * 32) || zeroblob(32) || "
        "substr(hashes, 256 * 32 + 4 * 32 + 1) WHERE level = 0 AND idx = 0");
    auto store = OpenLeafStore(path);
    REQUIRE(store);
    auto log = Log::Open(std::move(store).value(), LogKey(), env);
    REQUIRE(log);
    auto r = (*log)->VerifyStorage();
    REQUIRE(r);
    CHECK_FALSE(r->ok);
    CHECK(r->first_bad_index == 6);
    INFO(r->problem);
    CHECK(r->problem.find("node (1, 3)") != std::string::npos);
  }
  SECTION("a node row missing: data_loss, nothing converted") {
    Sql(path, "DELETE FROM nodes WHERE level = 3 AND idx = 77");
    auto store = SqliteLeafStore::Open(path);
    REQUIRE_FALSE(store);
    INFO(store.error().message());
    CHECK(store.error().message().find("node (3, 77) is missing") != std::string::npos);
    Sql(path, "SELECT count(*) FROM nodes");  // still schema 1
  }
}

// The SQLite store's key tail (sqlite_store.cpp kKeyMergeRows = 65,536; kDirectKeys = 256): keys
// are found while they wait in the tail, when a large commit wrote them to the index directly,
// after the tail is merged into the index, after reopening, and by another connection that
// appended nothing itself.
TEST_CASE("sqlite store: keys in the tail, merged into the index, and reopened",
          "[ledger][store][keys]") {
  TestDb test_db(Backend::kSqlite);
  const std::string path = test_db.db();
  auto store = SqliteLeafStore::Open(path);
  REQUIRE(store);
  auto reader = SqliteLeafStore::Open(path);  // a second connection, as `ledger lookup` is
  REQUIRE(reader);
  CompactRange range;
  uint64_t size = 0;
  // Appends `n` leaves; leaf i carries the key ("did:web:k<i % 1000>") and, for i % 7 == 0,
  // also the nullifier "n<i>".
  auto append = [&](uint64_t n) {
    AppendBatch b;
    for (uint64_t i = size; i < size + n; ++i) {
      Hash h = HashLeaf(AsBytes(std::to_string(i)));
      for (auto& node : range.Append(h)) {
        if (node.level > 0) b.nodes.push_back(node);
      }
      b.leaves.push_back({i, h, std::to_string(i)});
      b.keys.push_back({{KeyKind::kDid, "did:web:k" + std::to_string(i % 1000)}, i});
      if (i % 7 == 0) b.keys.push_back({{KeyKind::kNullifier, "n" + std::to_string(i)}, i});
    }
    size += n;
    b.checkpoint = StoredCheckpoint{size, "note"};
    REQUIRE((*store)->Append(b).ok());
  };
  auto tail_rows = [&] {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, "SELECT count(*) FROM entry_keys_tail", -1, &s, nullptr) ==
            SQLITE_OK);
    REQUIRE(sqlite3_step(s) == SQLITE_ROW);
    const int n = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
  };
  // Every index of did:web:k<k> below `size`, ascending.
  auto expected = [&](uint64_t k, int64_t after, size_t limit) {
    std::vector<uint64_t> v;
    for (uint64_t i = k; i < size && v.size() < limit; i += 1000) {
      if (static_cast<int64_t>(i) > after) v.push_back(i);
    }
    return v;
  };
  auto check = [&](LeafStore& s) {
    for (uint64_t k : {0u, 1u, 499u, 999u}) {
      const EntryKey key{KeyKind::kDid, "did:web:k" + std::to_string(k)};
      CHECK(*s.FindByKey(key, -1, 1000) == expected(k, -1, 1000));
      CHECK(*s.FindByKey(key, 20000, 5) == expected(k, 20000, 5));
      CHECK(*s.FindByKey(key, -1, 3) == expected(k, -1, 3));
    }
    CHECK(*s.FindByKey({KeyKind::kNullifier, "n7"}, -1, 10) == std::vector<uint64_t>{7});
    CHECK(*s.FindByKey({KeyKind::kNullifier, "n" + std::to_string((size - 1) / 7 * 7)}, -1,
                       10) == std::vector<uint64_t>{(size - 1) / 7 * 7});
    CHECK(s.FindByKey({KeyKind::kNullifier, "n8"}, -1, 10)->empty());
    CHECK(s.FindByKey({KeyKind::kDid, "did:web:k1000"}, -1, 10)->empty());
  };

  // Keys of leaves [from, to): one DID each, and a nullifier for every seventh.
  auto keys_of = [](uint64_t from, uint64_t to) {
    uint64_t n = to - from;
    for (uint64_t i = from; i < to; ++i) n += i % 7 == 0 ? 1 : 0;
    return static_cast<int>(n);
  };
  append(50);  // 58 keys: below kDirectKeys (64), so the tail
  CHECK(tail_rows() == keys_of(0, 50));
  check(**store);
  check(**reader);
  append(1000);  // 1,143 keys: straight into the index
  CHECK(tail_rows() == keys_of(0, 50));
  check(**store);
  check(**reader);
  // Small commits until the tail reaches 65,536 rows and merges, then a few more.
  int in_tail = keys_of(0, 50);
  bool merged = false;
  while (!merged || in_tail < 1000) {
    const int more = keys_of(size, size + 50);
    append(50);
    if (in_tail + more >= 65536) {
      in_tail = 0;
      merged = true;
    } else {
      in_tail += more;
    }
  }
  CHECK(tail_rows() == in_tail);
  check(**store);
  check(**reader);  // it read an older tail before: it notices the merge and the new tail
  store->reset();
  reader->reset();
  auto reopened = SqliteLeafStore::Open(path);
  REQUIRE(reopened);
  check(**reopened);
}

TEST_CASE("pg store: migration 2 turns a node-row schema into tile rows",
          "[ledger][pg][store][tiles][migration]") {
  if (!PgBaseUrl()) {
    WARN(testing::kPgSkipMessage);
    return;
  }
  TestDb test_db(Backend::kPostgres);
  const testing::PgSchema& schema = *test_db.schema();
  // Schema 1 as an older build created it, with 700 leaves: two full level-0 tiles and one of
  // 188, a level-1 tile of 2 (and no level-2 tile).
  schema.Exec(R"sql(
CREATE TABLE ledger_schema_migrations(version integer PRIMARY KEY, description text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now());
INSERT INTO ledger_schema_migrations(version, description) VALUES (1, 'schema 1');
CREATE TABLE leaves(idx bigint PRIMARY KEY CHECK(idx >= 0),
  leaf_hash bytea NOT NULL CHECK(length(leaf_hash) = 32), entry bytea NOT NULL);
CREATE TABLE nodes(level integer NOT NULL CHECK(level >= 1), idx bigint NOT NULL CHECK(idx >= 0),
  hash bytea NOT NULL CHECK(length(hash) = 32), PRIMARY KEY(level, idx));
CREATE TABLE entry_keys(kind integer NOT NULL, value text NOT NULL, idx bigint NOT NULL,
  PRIMARY KEY(kind, value, idx));
CREATE TABLE checkpoints(size bigint PRIMARY KEY CHECK(size >= 0), note text NOT NULL);
CREATE TABLE witness_state(origin text PRIMARY KEY, size bigint NOT NULL,
  root bytea NOT NULL CHECK(length(root) = 32));
CREATE TABLE sequencer_lease(id integer PRIMARY KEY CHECK(id = 1), epoch bigint NOT NULL,
  holder text NOT NULL, acquired_at timestamptz);
INSERT INTO sequencer_lease(id, epoch, holder) VALUES (1, 0, '');
)sql");
  constexpr uint64_t kSize = 700;
  MemoryNodeSource memory;
  CompactRange range;
  std::string leaves = "INSERT INTO leaves VALUES ";
  std::string nodes = "INSERT INTO nodes VALUES ";
  for (uint64_t i = 0; i < kSize; ++i) {
    const std::string e = std::to_string(i);
    const Hash h = HashLeaf(AsBytes(e));
    memory.AppendLeafHash(h);
    leaves += (i ? ", (" : "(") + std::to_string(i) + ", decode('" + HexEncode(h) +
              "', 'hex'), convert_to('" + e + "', 'UTF8'))";
    for (const auto& n : range.Append(h)) {
      if (n.level == 0) continue;
      nodes += (nodes.back() == ')' ? ", (" : "(") + std::to_string(n.level) + ", " +
               std::to_string(n.index) + ", decode('" + HexEncode(n.hash) + "', 'hex'))";
    }
  }
  schema.Exec(leaves);
  schema.Exec(nodes);
  SECTION("converted") {
    auto store = PgLeafStore::Open(test_db.db());
    REQUIRE(store);
    CheckStoreTree(**store, memory, kSize);
    CHECK(schema.Query("SELECT count(*) FROM tiles") == "4");
    CHECK(schema.Query("SELECT count(*) FROM pg_tables WHERE tablename = 'nodes' AND "
                       "schemaname = current_schema()") == "0");
    CHECK(schema.Query("SELECT max(version) FROM ledger_schema_migrations") == "2");
    // And it appends on from the converted partial tiles.
    CompactRange copy = range;
    AppendLeaves(**store, copy, memory, 600, {37});
    CheckStoreTree(**store, memory, kSize + 600);
  }
  SECTION("a node row missing: refused, nothing converted") {
    schema.Exec("DELETE FROM nodes WHERE level = 3 AND idx = 7");
    auto store = PgLeafStore::Open(test_db.db());
    REQUIRE_FALSE(store);
    INFO(store.error().message());
    CHECK(store.error().message().find("a node row is missing") != std::string::npos);
    CHECK(schema.Query("SELECT max(version) FROM ledger_schema_migrations") == "1");
  }
}

TEST_CASE("log: reopen keeps the tree; VerifyStorage finds edited rows", "[ledger][log][verify]") {
  MDL_BACKEND(backend);
  Fixture fx(backend);
  std::string note;
  {
    auto log = fx.Open(LogOptions{.max_batch = 7});
    std::vector<std::future<Result<AppendResult>>> fs;
    for (uint64_t i = 0; i < 40; ++i) fs.push_back(log->Append(Anchor(i)));
    for (auto& f : fs) REQUIRE(f.get());
    note = log->CheckpointNote();
  }
  {
    auto log = fx.Open();
    CHECK(log->Size() == 40);
    CHECK(log->CheckpointNote() == note);
    REQUIRE(log->AppendSync(Anchor(40)));
    CHECK(log->VerifyStorage()->ok);
  }
  SECTION("edited entry") {
    fx.Edit("UPDATE leaves SET entry = replace(entry, 'document', 'batch') WHERE idx = 17",
            "UPDATE leaves SET entry = convert_to(replace(convert_from(entry, 'UTF8'), 'document', "
            "'batch'), 'UTF8') WHERE idx = 17");
    auto log = fx.Open();
    auto r = log->VerifyStorage();
    REQUIRE(r);
    CHECK_FALSE(r->ok);
    CHECK(r->first_bad_index == 17);
  }
  SECTION("edited entry and leaf hash together") {
    std::string e = Canon(Anchor(999));
    const std::string h = HexEncode(HashLeaf(AsBytes(e)));
    fx.Edit("UPDATE leaves SET entry = '" + e + "', leaf_hash = x'" + h + "' WHERE idx = 21",
            "UPDATE leaves SET entry = convert_to('" + e + "', 'UTF8'), leaf_hash = decode('" + h +
                "', 'hex') WHERE idx = 21");
    auto log = fx.Open();
    auto r = log->VerifyStorage();
    REQUIRE(r);
    CHECK_FALSE(r->ok);
    CHECK(r->first_bad_index == 20);  // node (1, 10) covers leaves 20 and 21
    INFO(r->problem);
    CHECK(r->problem.find("[20, 22)") != std::string::npos);
  }
  SECTION("edited leaf hash in a tile row") {
    // Leaf 5's hash in the partial tile (0, 0) (bytes 160..191 of its 41 stored hashes); the
    // nodes above it are recomputed from the row when it is read, so the stored tree no longer
    // matches its checkpoint: the log refuses to open, and `ledger verify` locates the damage.
    fx.Edit(
        "UPDATE tiles SET hashes = substr(hashes, 1, 160) || zeroblob(32) || "
        "substr(hashes, 193) WHERE level = 0 AND idx = 0",
        "UPDATE tiles SET hashes = overlay(hashes placing decode(repeat('00', 32), 'hex') "
        "from 161 for 32) WHERE level = 0 AND idx = 0");
    {
      auto store = OpenLeafStore(fx.db);
      REQUIRE(store);
      auto refused = Log::Open(std::move(store).value(), LogKey(), fx.env);
      REQUIRE_FALSE(refused);
      CHECK(refused.error().code() == StatusCode::kDataLoss);
    }
    auto log = fx.Open(LogOptions{.open_damaged_for_verify = true});
    auto r = log->VerifyStorage();
    REQUIRE(r);
    CHECK_FALSE(r->ok);
    CHECK(r->first_bad_index == 4);  // node (1, 2) over leaves 4 and 5 is the first to differ
    INFO(r->problem);
    CHECK(r->problem.find("[4, 6)") != std::string::npos);
    // What is served is what is stored: the edited tile, not a recomputation.
    auto tile = log->Tile({false, 0, 0, 41});
    REQUIRE(tile);
    CHECK(std::all_of(tile->begin() + 160, tile->begin() + 192, [](uint8_t b) { return b == 0; }));
  }
  SECTION("a tile row of the wrong length is refused") {
    fx.Edit("UPDATE tiles SET hashes = substr(hashes, 2) WHERE level = 0 AND idx = 0",
            "UPDATE tiles SET hashes = substring(hashes from 2) WHERE level = 0 AND idx = 0");
    auto store = OpenLeafStore(fx.db);
    REQUIRE(store);
    auto log = Log::Open(std::move(store).value(), LogKey(), fx.env);
    REQUIRE_FALSE(log);
    CHECK(log.error().code() == StatusCode::kDataLoss);
  }
  SECTION("edited checkpoint") {
    // The first stored checkpoint past size 7: which sizes were committed depends on how the
    // sequencer grouped the appends (at most 7 per batch, so one lies in 8..14).
    uint64_t size = 0;
    {
      auto store = OpenLeafStore(fx.db);
      REQUIRE(store);
      auto cps = (*store)->GetCheckpoints(8, 40);
      REQUIRE(cps);
      REQUIRE_FALSE(cps->empty());
      size = cps->front().size;
      REQUIRE(size <= 14);
    }
    const std::string edit =
        "UPDATE checkpoints SET note = replace(note, 'ledger.example/test', 'ledger.example/tesT') "
        "WHERE size = " + std::to_string(size);
    fx.Edit(edit, edit);
    auto log = fx.Open();
    auto r = log->VerifyStorage();
    REQUIRE(r);
    CHECK_FALSE(r->ok);
    CHECK(r->first_bad_index == size);
  }
  SECTION("deleted last leaf is refused at open") {
    fx.Edit("DELETE FROM leaves WHERE idx = 40", "DELETE FROM leaves WHERE idx = 40");
    auto store = OpenLeafStore(fx.db);
    REQUIRE(store);
    auto log = Log::Open(std::move(store).value(), LogKey(), fx.env);
    REQUIRE_FALSE(log);
    CHECK(log.error().code() == StatusCode::kDataLoss);
  }
  SECTION("another key cannot open the log") {
    auto store = OpenLeafStore(fx.db);
    auto log = Log::Open(std::move(store).value(),
                         Ed25519NoteSigner::FromSeed("ledger.example/test", Bytes(32, 1)), fx.env);
    CHECK_FALSE(log);
  }
}


// Waits up to 10 s for `cond`.
template <typename F>
bool Eventually(F cond) {
  for (int i = 0; i < 1000; ++i) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

TEST_CASE("log: sequencer lease: a hot standby serves reads and takes over",
          "[ledger][log][lease][pg]") {
  if (!PgBaseUrl()) {
    WARN(testing::kPgSkipMessage);
    return;
  }
  Fixture fx(Backend::kPostgres);
  LogOptions fast;
  fast.lease_poll = std::chrono::milliseconds(20);
  auto active = fx.Open(fast);
  CHECK(active->IsSequencer());
  for (uint64_t i = 0; i < 10; ++i) REQUIRE(active->AppendSync(Anchor(i)));
  auto standby = fx.Open(fast);
  CHECK_FALSE(standby->IsSequencer());
  CHECK(standby->Size() == 10);
  CHECK(standby->CheckpointNote() == active->CheckpointNote());
  auto refused = standby->AppendSync(Anchor(100));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == StatusCode::kUnavailable);
  CHECK(refused.error().reason() == "standby");

  // The standby follows what the active node commits, proofs included.
  auto r10 = active->AppendSync(Anchor(10));
  REQUIRE(r10);
  CHECK(Eventually([&] { return standby->Size() == 11; }));
  const Checkpoint seen = standby->LatestCheckpoint();
  CHECK(seen.size == 11);
  auto proof = standby->InclusionProof(10, 11);
  REQUIRE(proof);
  CHECK(VerifyInclusion(10, 11, r10->leaf_hash, *proof, seen.root).ok());
  CHECK(standby->Entries(10, 11)->at(0).entry == Canon(Anchor(10)));

  // The active node goes away (its connection, and the session lock, with it).
  active.reset();
  CHECK(Eventually([&] { return standby->IsSequencer(); }));
  auto r11 = standby->AppendSync(Anchor(11));
  REQUIRE(r11);
  CHECK(r11->index == 11);
  const Checkpoint after = standby->LatestCheckpoint();
  auto consistency = standby->ConsistencyProof(11, 12);
  REQUIRE(consistency);
  CHECK(VerifyConsistency(11, 12, *consistency, seen.root, after.root).ok());
  CHECK(standby->VerifyStorage()->ok);
}

TEST_CASE("pg store: lease fencing, lost connections, migrations once", "[ledger][pg][lease]") {
  if (!PgBaseUrl()) {
    WARN(testing::kPgSkipMessage);
    return;
  }
  Fixture fx(Backend::kPostgres);
  const testing::PgSchema& schema = *fx.test_db.schema();
  const std::string app = "fence_" + schema.name();
  auto first = PgLeafStore::Open(testing::WithParam(fx.db, "application_name=" + app));
  REQUIRE(first);
  auto second = PgLeafStore::Open(fx.db);
  REQUIRE(second);
  PgLeafStore& s1 = **first;
  PgLeafStore& s2 = **second;
  CHECK(schema.Query("SELECT count(*) FROM ledger_schema_migrations") == "2");
  REQUIRE(*s1.TryAcquireSequencerLease());
  CHECK(s1.LeaseEpoch() == 1);
  CHECK_FALSE(*s2.TryAcquireSequencerLease());
  CHECK(s2.LeaseEpoch() == 0);

  AppendBatch batch;
  batch.leaves.push_back({0, HashLeaf(AsBytes(std::string("0"))), "0"});
  batch.checkpoint = StoredCheckpoint{1, "note"};

  // Fencing: a later holder bumps the epoch; the next batch of the earlier one writes nothing.
  schema.Exec("UPDATE sequencer_lease SET epoch = epoch + 1");
  Status fenced = s1.Append(batch);
  CHECK(fenced.code() == StatusCode::kFailedPrecondition);
  CHECK(fenced.reason() == "lease_lost");
  CHECK_FALSE(s1.HoldsSequencerLease());
  CHECK(*s1.Size() == 0);
  // Still its session's lock: it may take the lease again (a new epoch) and write.
  REQUIRE(*s1.TryAcquireSequencerLease());
  CHECK(s1.LeaseEpoch() == 3);
  REQUIRE(s1.Append(batch).ok());
  CHECK(*s2.Size() == 1);

  // Its connections die (server restart, network): the lock goes with them, the other store
  // takes the lease, and the first refuses to append until it takes the lease again. Reads
  // reconnect.
  schema.Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '" +
              app + "'");
  CHECK(Eventually([&] {
    auto got = s2.TryAcquireSequencerLease();
    return got && *got;
  }));
  CHECK(s2.LeaseEpoch() == 4);
  CHECK(*s1.Size() == 1);
  batch.leaves[0].index = 1;  // the same entry again, and the node it completes
  batch.nodes = {{1, 0, HashChildren(batch.leaves[0].leaf_hash, batch.leaves[0].leaf_hash)}};
  batch.checkpoint = StoredCheckpoint{2, "note"};
  Status lost = s1.Append(batch);
  CHECK(lost.code() == StatusCode::kUnavailable);
  CHECK(lost.reason() == "lease_lost");
  CHECK_FALSE(*s1.TryAcquireSequencerLease());
  REQUIRE(s2.Append(batch).ok());
  CHECK(*s1.Size() == 2);
}

TEST_CASE("pg store: URLs, and no password in errors", "[ledger][pg]") {
  CHECK(IsPostgresUrl("postgresql://h/db"));
  CHECK(IsPostgresUrl("POSTGRES://h/db"));
  CHECK_FALSE(IsPostgresUrl("ledger.db"));
  CHECK_FALSE(IsPostgresUrl("/var/lib/postgresql/ledger.db"));
  CHECK(RedactDbUrl("postgresql://alice:s3cr%40t@db.example:5432/ledger") ==
        "postgresql://alice:***@db.example:5432/ledger");
  CHECK(RedactDbUrl("postgresql:///ledger?host=/run/pg&password=hunter2&user=a") ==
        "postgresql:///ledger?host=/run/pg&password=***&user=a");
  CHECK(RedactDbUrl("ledger.db") == "ledger.db");
  // Nothing listens on port 1: unavailable, naming the server but not the password.
  auto refused = OpenLeafStore("postgresql://alice:s3cr3tpw@127.0.0.1:1/ledger?connect_timeout=2");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == StatusCode::kUnavailable);
  INFO(refused.error().message());
  CHECK(refused.error().message().find("s3cr3tpw") == std::string::npos);
  CHECK(refused.error().message().find("127.0.0.1") != std::string::npos);
  auto bad = OpenLeafStore("postgresql://alice:s3cr3tpw@127.0.0.1:1/ledger?nonsense=1");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message().find("s3cr3tpw") == std::string::npos);
}

}  // namespace
}  // namespace medallion::ledger
