// The LeafStores (SQLite and PostgreSQL) and Log: durable batched appends, proofs against signed
// checkpoints, lookups, back-pressure, reopening, VerifyStorage finding edited rows, and the
// sequencer lease (standby, takeover, fencing). Each case runs once per backend (backends.h).
#include <catch2/catch.hpp>

#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <set>

#include "medallion/core/encoding.h"
#include "medallion/core/hash.h"
#include "medallion/core/jcs.h"
#include "backends.h"
#include "medallion/ledger/log.h"
#include "medallion/ledger/pg_store.h"
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
  CHECK(SqliteLeafStore::SchemaVersion() == 1);
  CHECK(PgLeafStore::SchemaVersion() == 1);
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
    CHECK(fx.test_db.schema()->Query("SELECT count(*) FROM ledger_schema_migrations") == "1");
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
  SECTION("edited checkpoint") {
    const std::string edit =
        "UPDATE checkpoints SET note = replace(note, 'ledger.example/test', 'ledger.example/tesT') "
        "WHERE size = 14";
    fx.Edit(edit, edit);
    auto log = fx.Open();
    auto r = log->VerifyStorage();
    REQUIRE(r);
    CHECK_FALSE(r->ok);
    CHECK(r->first_bad_index == 14);
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
  CHECK(schema.Query("SELECT count(*) FROM ledger_schema_migrations") == "1");
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
  batch.leaves[0].index = 1;
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
