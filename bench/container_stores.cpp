// Containers per host on SQLite and on PostgreSQL (issue 18, docs/benchmarks.md §Issue 18): opens
// N containers' stores — each one's authorization server (consent) and record store — in one
// process, as a container host does, and reports the time to open them all, a first write in
// each (an internal PAT: one group commit), the process's RSS before and after, and on
// PostgreSQL the memory of the server's processes (the sum of their PSS) and the connections the
// process holds: with --pool N (default 8) the containers share N connections (sql::PgPool, as
// a host with host.json "database_pool" does); --pool 0 gives each store a connection of its own
// (two per container, as before the pool).
//
//   container_stores --containers N [--pg-admin URL] [--pool N] [--threads T] [--data-dir DIR]
//
// --threads T: the first writes from T threads at once (default 1).
//
// Without --pg-admin: SQLite files under --data-dir (a real disk: WAL, synchronous=FULL). With
// it: a fresh schema of that database, reached as the role medallion_bench (neither superuser
// nor BYPASSRLS, created if missing), one schema shared by the N containers (row-level
// security). Prints one JSON line.
#include <libpq-fe.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "medallion/core/env.h"
#include "medallion/did/did_key.h"
#include "medallion/did/resolver.h"
#include "medallion/storage/db.h"
#include "medallion/uma/authorization_server.h"
#include "medallion/uma/record_store.h"

#ifndef MEDALLION_BENCH_DATA_DIR
#define MEDALLION_BENCH_DATA_DIR "/var/tmp"
#endif

namespace {

using namespace medallion;
namespace fs = std::filesystem;

// A /proc/<pid>/status or smaps_rollup field in kB (0 if absent).
long ProcKb(const std::string& file, const std::string& field) {
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(field, 0) == 0) return std::strtol(line.c_str() + field.size(), nullptr, 10);
  }
  return 0;
}

std::string Admin(const std::string& url, const std::string& sql);

// The PSS, in kB, of the processes of the cluster `admin` reaches: its postmaster and the
// processes pg_stat_activity lists (backends and auxiliary processes), not other clusters'.
long PostgresPssKb(const std::string& admin) {
  const std::string pids = Admin(admin, "SELECT string_agg(pid::text, ',') FROM pg_stat_activity");
  long total = 0;
  std::string parent;
  size_t from = 0;
  while (from < pids.size()) {
    size_t comma = pids.find(',', from);
    if (comma == std::string::npos) comma = pids.size();
    const std::string pid = pids.substr(from, comma - from);
    from = comma + 1;
    total += ProcKb("/proc/" + pid + "/smaps_rollup", "Pss:");
    if (parent.empty()) parent = std::to_string(ProcKb("/proc/" + pid + "/status", "PPid:"));
  }
  if (!parent.empty()) total += ProcKb("/proc/" + parent + "/smaps_rollup", "Pss:");
  return total;
}

// Runs `sql` as the administrator; the first column of its first row ("" if none).
std::string Admin(const std::string& url, const std::string& sql) {
  PGconn* c = PQconnectdb(url.c_str());
  PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);
  PGresult* r = PQexec(c, sql.c_str());
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
  if (!ok) std::fprintf(stderr, "container_stores: %s: %s", sql.c_str(), PQerrorMessage(c));
  std::string out = ok && PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
  PQclear(r);
  PQfinish(c);
  if (!ok) std::exit(1);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int n = 100, pool_size = 8, threads = 1;
  std::string pg_admin, data_dir = std::string(MEDALLION_BENCH_DATA_DIR) + "/container_stores";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--containers") n = std::atoi(argv[i + 1]);
    if (a == "--pg-admin") pg_admin = argv[i + 1];
    if (a == "--pool") pool_size = std::atoi(argv[i + 1]);
    if (a == "--threads") threads = std::max(1, std::atoi(argv[i + 1]));
    if (a == "--data-dir") data_dir = argv[i + 1];
  }
  std::string where;  // the PostgreSQL URL, or "" for SQLite files
  std::string schema;
  if (!pg_admin.empty()) {
    schema = "bench_" + std::to_string(::getpid());
    Admin(pg_admin,
          "DO $$ BEGIN CREATE ROLE medallion_bench LOGIN NOSUPERUSER NOBYPASSRLS; EXCEPTION WHEN "
          "duplicate_object OR unique_violation THEN NULL; END $$");
    Admin(pg_admin, "CREATE SCHEMA " + schema + " AUTHORIZATION medallion_bench");
    where = std::regex_replace(pg_admin, std::regex("([?&])user=[^&]*"), "$1user=medallion_bench");
    where += (where.find('?') == std::string::npos ? "?" : "&");
    where += "options=-csearch_path%3D" + schema;
  } else {
    fs::remove_all(data_dir);
    fs::create_directories(data_dir);
  }

  // The pool, registered for `where`: the stores opened by that URL borrow from it.
  std::shared_ptr<sql::PgPool> pool;
  if (!where.empty() && pool_size > 0) {
    auto made = sql::PgPool::Open(where, static_cast<size_t>(pool_size));
    if (!made) {
      std::fprintf(stderr, "container_stores: pool: %s\n", made.error().ToString().c_str());
      return 1;
    }
    pool = *made;
  }
  SystemClock clock;
  SystemRng rng;
  Env env{&clock, &rng};
  did::Resolver resolver;
  const long rss_before = ProcKb("/proc/self/status", "VmRSS:");
  const long pg_before = pg_admin.empty() ? 0 : PostgresPssKb(pg_admin);
  struct Container {
    std::unique_ptr<uma::AuthorizationServer> as;
    std::unique_ptr<uma::RecordStore> records;
  };
  std::vector<Container> containers(static_cast<size_t>(n));
  std::vector<uma::AuthorizationServerOptions> options(static_cast<size_t>(n));
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    Bytes seed(32, 0), pk(32), sk(64);
    seed[0] = static_cast<uint8_t>(i), seed[1] = static_cast<uint8_t>(i >> 8);
    crypto_sign_seed_keypair(pk.data(), sk.data(), seed.data());
    uma::AuthorizationServerOptions& o = options[static_cast<size_t>(i)];
    o.issuer = "https://host.example/c/c" + std::to_string(i);
    o.owner_did = *did::DidKeyFromPublicKey(did::KeyType::kEd25519, pk);
    o.container = "c" + std::to_string(i);
    o.resolver = &resolver;
    o.license_status = [](const nlohmann::json&) { return Status::Ok(); };
    o.max_idle_readers = 1;
    const fs::path dir = fs::path(data_dir) / ("c" + std::to_string(i));
    if (where.empty()) fs::create_directories(dir);
    auto as = uma::AuthorizationServer::Open(
        where.empty() ? (dir / "consent.db").string() : where, o, env);
    auto rs = uma::RecordStore::Open(where.empty() ? (dir / "records.db").string() : where, env,
                                     o.container);
    if (!as || !rs) {
      std::fprintf(stderr, "container_stores: container %d: %s\n", i,
                   (!as ? as.error() : rs.error()).ToString().c_str());
      return 1;
    }
    containers[static_cast<size_t>(i)] = {std::move(*as), std::move(*rs)};
  }
  const auto t1 = std::chrono::steady_clock::now();
  {
    // The first writes, from `threads` threads at once (each its share of the containers), as a
    // host's workers would: over a pool, at most min(threads, pool) connections in use.
    std::atomic<bool> failed{false};
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        for (size_t i = static_cast<size_t>(t); i < containers.size();
             i += static_cast<size_t>(threads)) {
          if (!containers[i].as->InternalPat("fhir")) failed = true;
        }
      });
    }
    for (auto& w : workers) w.join();
    if (failed) {
      std::fprintf(stderr, "container_stores: a first write failed\n");
      return 1;
    }
  }
  const auto t2 = std::chrono::steady_clock::now();
  const long rss_after = ProcKb("/proc/self/status", "VmRSS:");
  long fds = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd")) ++fds;
  const long pg_after = pg_admin.empty() ? 0 : PostgresPssKb(pg_admin);
  const std::string connections =
      pg_admin.empty() ? ""
                       : Admin(pg_admin,
                               "SELECT COUNT(*) FROM pg_stat_activity WHERE usename = "
                               "'medallion_bench' AND backend_type = 'client backend'");
  auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
  nlohmann::json out = {
      {"backend", where.empty() ? "sqlite" : "postgresql"},
      {"containers", n},
      {"open_ms", ms(t1 - t0)},
      {"open_ms_per_container", ms(t1 - t0) / n},
      {"first_write_ms_per_container", ms(t2 - t1) / n},
      {"threads", threads},
      {"process_rss_kb_before", rss_before},
      {"process_rss_kb_after", rss_after},
      {"process_kb_per_container", static_cast<double>(rss_after - rss_before) / n},
      {"process_open_files", fds},
  };
  if (!pg_admin.empty()) {
    out["postgres_pss_kb_before"] = pg_before;
    out["postgres_pss_kb_after"] = pg_after;
    out["postgres_kb_per_container"] = static_cast<double>(pg_after - pg_before) / n;
    out["postgres_connections"] = std::atoll(connections.c_str());
    out["pool"] = pool_size;
    if (pool) out["pool_connections_made"] = pool->stats().made;
  }
  std::printf("%s\n", out.dump().c_str());
  containers.clear();
  pool.reset();
  if (!pg_admin.empty()) {
    Admin(pg_admin, "DROP SCHEMA " + schema + " CASCADE");
  } else {
    fs::remove_all(data_dir);
  }
  return 0;
}
