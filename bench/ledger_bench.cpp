// Ledger benchmarks (issue 3): durable appends per second through ledger::Log over a
// SqliteLeafStore on a real file, inclusion and consistency proof generation at 10^6 and 10^7
// leaves, and the raw SHA-256 rate on the 65-byte input of a Merkle node for comparison.
// Issue 18: the same appends over a PgLeafStore (BM_LogAppendPg, BM_LogAppendSyncThreadsPg)
// when MEDALLION_PG_URL names a PostgreSQL database (tests/pg/pg_cluster.sh start prints one);
// each run in a fresh schema "ledger_bench". Without it those report an error and are skipped.
//
// Files go under MEDALLION_BENCH_DATA_DIR (default: <build dir>/bench-data, set by CMake), never
// /tmp: the append figures must include a real fsync. The proof trees are built once and kept
// there (tree-<n>.db); delete them to rebuild. Results and commands: docs/benchmarks.md.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "medallion/core/encoding.h"
#include "medallion/core/env.h"
#include "medallion/core/hash.h"
#include "medallion/core/jcs.h"
#include "medallion/ledger/checkpoint.h"
#include "medallion/ledger/log.h"
#include "medallion/ledger/merkle.h"
#include "medallion/ledger/pg_store.h"
#include "medallion/ledger/signed_note.h"
#include "medallion/ledger/store.h"

#ifndef MEDALLION_BENCH_DATA_DIR
#define MEDALLION_BENCH_DATA_DIR "bench-data"
#endif

using namespace medallion;
using namespace medallion::ledger;
namespace fs = std::filesystem;

namespace {

fs::path DataDir() {
  const char* env = std::getenv("MEDALLION_BENCH_DATA_DIR");
  fs::path dir =
      env != nullptr && *env != '\0' ? fs::path(env) : fs::path(MEDALLION_BENCH_DATA_DIR);
  fs::create_directories(dir);
  return dir;
}

void RemoveDb(const fs::path& db) {
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db.string() + suffix);
}

template <typename T>
T Must(Result<T> r, const char* what) {
  if (!r) {
    std::fprintf(stderr, "%s: %s\n", what, r.error().message().c_str());
    std::abort();
  }
  return std::move(r).value();
}

void MustOk(const Status& st, const char* what) {
  if (!st.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, st.message().c_str());
    std::abort();
  }
}

Ed25519NoteSigner BenchKey() {
  return Ed25519NoteSigner::FromSeed("bench.medallion.example/ledger", Bytes(32, 0x42));
}

SystemClock g_clock;
SystemRng g_rng;
Env BenchEnv() { return Env{&g_clock, &g_rng}; }

// A valid `anchor` entry, distinct for each i, already in RFC 8785 canonical form (members
// sorted), ~150 bytes: the typical small entry of the ledger.
std::string AnchorEntry(uint64_t i) {
  static const std::string kPrefix =
      HexEncode(Sha256(AsBytes("medallion ledger bench"))).substr(0, 48);
  char tail[17];
  std::snprintf(tail, sizeof tail, "%016llx", static_cast<unsigned long long>(i));
  return "{\"hash\":\"" + kPrefix + tail +
         "\",\"kind\":\"document\",\"ts\":" + std::to_string(1700000000 + i % 100000000) +
         ",\"type\":\"anchor\",\"v\":1}";
}

// Entries per commit, from the database after a run: leaves / checkpoints written.
double EntriesPerCommit(const fs::path& db, uint64_t first_size) {
  sqlite3* h = nullptr;
  double out = 0;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* s = nullptr;
    const std::string sql =
        "SELECT (SELECT COUNT(*) FROM leaves), (SELECT COUNT(*) FROM checkpoints WHERE size > " +
        std::to_string(first_size) + ")";
    if (sqlite3_prepare_v2(h, sql.c_str(), -1, &s, nullptr) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW) {
      const double leaves = static_cast<double>(sqlite3_column_int64(s, 0));
      const double commits = static_cast<double>(sqlite3_column_int64(s, 1));
      if (commits > 0) out = leaves / commits;
    }
    sqlite3_finalize(s);
  }
  sqlite3_close(h);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Durable appends in process.

std::unique_ptr<Log> FreshLog(const fs::path& db) {
  RemoveDb(db);
  auto store = Must(SqliteLeafStore::Open(db.string()), "open store");
  return Must(Log::Open(std::move(store), BenchKey(), BenchEnv()), "open log");
}

// One iteration: `batch` appends submitted from one thread (each parsed, schema-checked and
// queued by Log::Append), then wait until all are durable. The sequencer groups whatever is
// queued when it wakes into one transaction and one fsync, so a batch of n becomes one or a
// few commits (reported as entries_per_commit).
void BM_LogAppend(benchmark::State& state) {
  const size_t batch = static_cast<size_t>(state.range(0));
  const fs::path db = DataDir() / ("append-" + std::to_string(batch) + ".db");
  uint64_t n = 0;
  {
    auto log = FreshLog(db);
    std::vector<std::future<Result<AppendResult>>> futures;
    futures.reserve(batch);
    for (auto _ : state) {
      futures.clear();
      // Building the ~150-byte entry string (~0.2 us) is inside the timing, as for a client.
      for (size_t i = 0; i < batch; ++i) futures.push_back(log->Append(AnchorEntry(n + i)));
      for (auto& f : futures) {
        auto r = f.get();
        if (!r) {
          state.SkipWithError(r.error().message().c_str());
          break;
        }
      }
      n += batch;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(n));
  state.counters["entries_per_commit"] = EntriesPerCommit(db, 0);
  RemoveDb(db);
}
BENCHMARK(BM_LogAppend)
    ->Arg(1)
    ->Arg(64)
    ->Arg(1024)
    ->Arg(4096)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// `threads` callers each doing synchronous single appends (AppendSync), as an HTTP server's
// worker threads do for single-entry requests: the sequencer's group commit is what batches.
// One iteration: every thread appends 32 entries, one at a time.
void BM_LogAppendSyncThreads(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  constexpr int kPerThread = 32;
  const fs::path db = DataDir() / ("append-sync-" + std::to_string(threads) + ".db");
  std::atomic<uint64_t> next{0};
  {
    auto log = FreshLog(db);
    for (auto _ : state) {
      std::vector<std::thread> pool;
      std::atomic<bool> failed{false};
      for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&] {
          for (int i = 0; i < kPerThread; ++i) {
            if (!log->AppendSync(AnchorEntry(next.fetch_add(1)))) failed = true;
          }
        });
      }
      for (auto& th : pool) th.join();
      if (failed) state.SkipWithError("append failed");
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(next.load()));
  state.counters["entries_per_commit"] = EntriesPerCommit(db, 0);
  RemoveDb(db);
}
BENCHMARK(BM_LogAppendSyncThreads)->Arg(8)->Arg(64)->UseRealTime()->Unit(benchmark::kMillisecond);

// ---------------------------------------------------------------------------------------------
// The same on PostgreSQL (issue 18).

// A fresh schema "ledger_bench" in $MEDALLION_PG_URL's database and a URL selecting it; "" when
// the variable is unset.
std::string FreshPgSchema() {
  const char* base = std::getenv("MEDALLION_PG_URL");
  if (base == nullptr || *base == '\0') return "";
  PGconn* c = PQconnectdb(base);
  PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);
  PGresult* r = PQexec(c, "DROP SCHEMA IF EXISTS ledger_bench CASCADE; CREATE SCHEMA ledger_bench");
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  if (!ok) std::fprintf(stderr, "postgresql: %s", PQerrorMessage(c));
  PQclear(r);
  PQfinish(c);
  if (!ok) std::abort();
  const std::string url(base);
  return url + (url.find('?') == std::string::npos ? "?" : "&") +
         "options=-csearch_path%3Dledger_bench";
}

// Entries per commit on PostgreSQL: leaves / checkpoints after the empty one.
double PgEntriesPerCommit(const std::string& url) {
  PGconn* c = PQconnectdb(url.c_str());
  PGresult* r = PQexec(
      c, "SELECT (SELECT count(*) FROM leaves), (SELECT count(*) FROM checkpoints WHERE size > 0)");
  double out = 0;
  if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
    const double commits = std::atof(PQgetvalue(r, 0, 1));
    if (commits > 0) out = std::atof(PQgetvalue(r, 0, 0)) / commits;
  }
  PQclear(r);
  PQfinish(c);
  return out;
}

std::unique_ptr<Log> FreshPgLog(const std::string& url) {
  auto store = Must(PgLeafStore::Open(url), "open postgresql store");
  return Must(Log::Open(std::move(store), BenchKey(), BenchEnv()), "open log");
}

// BM_LogAppend on PostgreSQL: `batch` appends queued from one thread, then all awaited.
void BM_LogAppendPg(benchmark::State& state) {
  const std::string url = FreshPgSchema();
  if (url.empty()) {
    state.SkipWithError("MEDALLION_PG_URL is not set");
    for (auto _ : state) {
    }
    return;
  }
  const size_t batch = static_cast<size_t>(state.range(0));
  uint64_t n = 0;
  {
    auto log = FreshPgLog(url);
    std::vector<std::future<Result<AppendResult>>> futures;
    futures.reserve(batch);
    for (auto _ : state) {
      futures.clear();
      for (size_t i = 0; i < batch; ++i) futures.push_back(log->Append(AnchorEntry(n + i)));
      for (auto& f : futures) {
        auto r = f.get();
        if (!r) {
          state.SkipWithError(r.error().message().c_str());
          break;
        }
      }
      n += batch;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(n));
  state.counters["entries_per_commit"] = PgEntriesPerCommit(url);
}
BENCHMARK(BM_LogAppendPg)->Arg(1)->Arg(64)->Arg(1024)->UseRealTime()->Unit(benchmark::kMicrosecond);

// BM_LogAppendSyncThreads on PostgreSQL.
void BM_LogAppendSyncThreadsPg(benchmark::State& state) {
  const std::string url = FreshPgSchema();
  if (url.empty()) {
    state.SkipWithError("MEDALLION_PG_URL is not set");
    for (auto _ : state) {
    }
    return;
  }
  const int threads = static_cast<int>(state.range(0));
  constexpr int kPerThread = 32;
  std::atomic<uint64_t> next{0};
  {
    auto log = FreshPgLog(url);
    for (auto _ : state) {
      std::vector<std::thread> pool;
      std::atomic<bool> failed{false};
      for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&] {
          for (int i = 0; i < kPerThread; ++i) {
            if (!log->AppendSync(AnchorEntry(next.fetch_add(1)))) failed = true;
          }
        });
      }
      for (auto& th : pool) th.join();
      if (failed) state.SkipWithError("append failed");
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(next.load()));
  state.counters["entries_per_commit"] = PgEntriesPerCommit(url);
}
BENCHMARK(BM_LogAppendSyncThreadsPg)
    ->Arg(8)
    ->Arg(64)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// ---------------------------------------------------------------------------------------------
// Proof generation over a large stored tree.

// Builds tree-<size>.db with `size` anchor leaves by writing straight to the store (what
// Log::CommitBatch would write: leaves, the complete nodes from CompactRange, and a signed
// checkpoint for the final size), in transactions of 65536 leaves. Going through the Log
// would re-parse every entry and sign 2,400 checkpoints for nothing but setup time.
// Reused when it already holds `size` leaves and opens as a Log.
std::unique_ptr<Log> OpenTree(uint64_t size) {
  const fs::path db = DataDir() / ("tree-" + std::to_string(size) + ".db");
  if (fs::exists(db)) {
    auto store = Must(SqliteLeafStore::Open(db.string()), "open tree");
    auto stored = Must(store->Size(), "tree size");
    if (stored == size) {
      auto log = Log::Open(std::move(store), BenchKey(), BenchEnv());
      if (log) return std::move(log).value();
    }
    std::fprintf(stderr, "%s is stale; rebuilding\n", db.c_str());
  }
  RemoveDb(db);
  // The generated entries must be what the Log would store.
  for (uint64_t i : {0ull, 1ull, 123456789ull}) {
    if (Must(jcs::Canonicalize(std::string_view(AnchorEntry(i))), "canonicalize") !=
            AnchorEntry(i) ||
        !ParseEntry(AnchorEntry(i))) {
      std::fprintf(stderr, "bench entry is not a canonical anchor\n");
      std::abort();
    }
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::fprintf(stderr, "building %s (%llu leaves) ...\n", db.c_str(),
               static_cast<unsigned long long>(size));
  auto store = Must(SqliteLeafStore::Open(db.string()), "create tree");
  constexpr uint64_t kChunk = 65536;
  CompactRange range;
  const Ed25519NoteSigner signer = BenchKey();
  MustOk(store->PutCheckpoint(
             {0, signer.SignNote(Checkpoint{signer.name(), 0, EmptyRoot(), {}}.ToText())}),
         "empty checkpoint");
  for (uint64_t start = 0; start < size; start += kChunk) {
    const uint64_t end = std::min(size, start + kChunk);
    AppendBatch batch;
    batch.leaves.reserve(end - start);
    batch.nodes.reserve(end - start);
    for (uint64_t i = start; i < end; ++i) {
      std::string entry = AnchorEntry(i);
      const Hash leaf = HashLeaf(AsBytes(entry));
      for (const auto& node : range.Append(leaf)) {
        if (node.level > 0) batch.nodes.push_back(node);
      }
      batch.leaves.push_back(StoredLeaf{i, leaf, std::move(entry)});
    }
    if (end == size) {
      batch.checkpoint = StoredCheckpoint{
          size, signer.SignNote(Checkpoint{signer.name(), size, range.Root(), {}}.ToText())};
    }
    MustOk(store->Append(batch), "append chunk");
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "built %s in %.1f s (%.0f leaves/s), %.0f MB\n", db.c_str(), secs,
               size / secs, static_cast<double>(fs::file_size(db)) / 1e6);
  return Must(Log::Open(std::move(store), BenchKey(), BenchEnv()), "open built tree");
}

// Reads the whole file once so that it is in the OS page cache: the proof figures are
// warm-cache figures. (This VM reclaims idle page cache within a minute or so; cold, a 10^7
// proof also waits for ~20 random disk reads.)
void WarmPageCache(const fs::path& file) {
  std::FILE* f = std::fopen(file.c_str(), "rb");
  if (f == nullptr) return;
  std::vector<char> buf(1 << 20);
  while (std::fread(buf.data(), 1, buf.size(), f) == buf.size()) {
  }
  std::fclose(f);
}

// One Log per tree size for the whole run (opening a 10^7 tree is cheap; building it is not).
Log& Tree(uint64_t size) {
  static std::map<uint64_t, std::unique_ptr<Log>> trees;
  auto& slot = trees[size];
  if (!slot) slot = OpenTree(size);
  return *slot;
}

// Tree(size), its file read into the page cache once per benchmark.
Log& WarmTree(uint64_t size, const char* benchmark) {
  static std::set<std::pair<uint64_t, std::string>> warmed;
  Log& log = Tree(size);
  if (warmed.insert({size, benchmark}).second)
    WarmPageCache(DataDir() / ("tree-" + std::to_string(size) + ".db"));
  return log;
}

// Inclusion proof for a random leaf against the full tree: ~log2(n) node reads from SQLite,
// the file in the OS page cache (WarmTree).
void BM_InclusionProof(benchmark::State& state) {
  const uint64_t size = static_cast<uint64_t>(state.range(0));
  Log& log = WarmTree(size, "inclusion");
  std::mt19937_64 prng(1);
  size_t hashes = 0;
  for (auto _ : state) {
    auto proof = log.InclusionProof(prng() % size, size);
    if (!proof) {
      state.SkipWithError(proof.error().message().c_str());
      break;
    }
    hashes += proof->size();
    benchmark::DoNotOptimize(proof);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["hashes_per_proof"] =
      state.iterations() ? static_cast<double>(hashes) / state.iterations() : 0;
}
BENCHMARK(BM_InclusionProof)
    ->Arg(1000000)
    ->Arg(10000000)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// Consistency proof from a random earlier size to the full tree.
void BM_ConsistencyProof(benchmark::State& state) {
  const uint64_t size = static_cast<uint64_t>(state.range(0));
  Log& log = WarmTree(size, "consistency");
  std::mt19937_64 prng(2);
  size_t hashes = 0;
  for (auto _ : state) {
    auto proof = log.ConsistencyProof(1 + prng() % (size - 1), size);
    if (!proof) {
      state.SkipWithError(proof.error().message().c_str());
      break;
    }
    hashes += proof->size();
    benchmark::DoNotOptimize(proof);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["hashes_per_proof"] =
      state.iterations() ? static_cast<double>(hashes) / state.iterations() : 0;
}
BENCHMARK(BM_ConsistencyProof)
    ->Arg(1000000)
    ->Arg(10000000)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// ---------------------------------------------------------------------------------------------
// Hashing, for comparison.

// RFC 9162 node hash: SHA-256(0x01 || left || right), 65 bytes in.
void BM_HashChildren(benchmark::State& state) {
  Hash a = Sha256(AsBytes("a")), b = Sha256(AsBytes("b"));
  for (auto _ : state) {
    a = HashChildren(a, b);
    benchmark::DoNotOptimize(a);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * 65);
}
BENCHMARK(BM_HashChildren);

// medallion::Sha256 of 65 bytes (core's wrapper: EVP_Digest with EVP_sha256(), which in OpenSSL 3
// looks the implementation up on every call), without building the input.
void BM_Sha256_65(benchmark::State& state) {
  const Bytes in(65, 0x01);
  for (auto _ : state) benchmark::DoNotOptimize(Sha256(in));
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * 65);
}
BENCHMARK(BM_Sha256_65);

// The raw SHA-256 rate: OpenSSL with the SHA-256 implementation fetched once and one reused
// context (no per-call EVP lookup), then libsodium's portable SHA-256.
void BM_Sha256_65_OpenSslRaw(benchmark::State& state) {
  EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const Bytes in(65, 0x01);
  Hash out;
  for (auto _ : state) {
    unsigned int len = 0;
    EVP_DigestInit_ex2(ctx, md, nullptr);
    EVP_DigestUpdate(ctx, in.data(), in.size());
    EVP_DigestFinal_ex(ctx, out.data(), &len);
    benchmark::DoNotOptimize(out);
  }
  EVP_MD_CTX_free(ctx);
  EVP_MD_free(md);
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * 65);
}
BENCHMARK(BM_Sha256_65_OpenSslRaw);

void BM_Sha256_65_Sodium(benchmark::State& state) {
  const Bytes in(65, 0x01);
  Hash out;
  for (auto _ : state) {
    crypto_hash_sha256(out.data(), in.data(), in.size());
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * 65);
}
BENCHMARK(BM_Sha256_65_Sodium);

// A leaf hash of a typical ~150-byte canonical entry.
void BM_HashLeafEntry(benchmark::State& state) {
  const std::string entry = AnchorEntry(42);
  for (auto _ : state) benchmark::DoNotOptimize(HashLeaf(AsBytes(entry)));
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(entry.size() + 1));
}
BENCHMARK(BM_HashLeafEntry);

}  // namespace

BENCHMARK_MAIN();
