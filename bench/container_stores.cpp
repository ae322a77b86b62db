// Containers per host on SQLite and on PostgreSQL (issue 18, docs/benchmarks.md §Issue 18): opens
// N containers' stores — each one's authorization server (consent) and record store — in one
// process, as a container host does, and reports the time to open them all, a first write in
// each (an internal PAT: one group commit), the process's RSS before and after, and on
// PostgreSQL the memory of the server's processes (the sum of their PSS: one backend per
// container connection, two per container here).
//
//   container_stores --containers N [--pg-admin URL] [--data-dir DIR]
//
// Without --pg-admin: SQLite files under --data-dir (a real disk: WAL, synchronous=FULL). With
// it: a fresh schema of that database, reached as the role medallion_bench (neither superuser
// nor BYPASSRLS, created if missing), one schema shared by the N containers (row-level
// security). Prints one JSON line.
#include <libpq-fe.h>
#include <sodium.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "medallion/core/env.h"
#include "medallion/did/did_key.h"
#include "medallion/did/resolver.h"
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

// The PSS of every process of user `uid` named postgres, in kB.
long PostgresPssKb() {
  long total = 0;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string pid = e.path().filename();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream comm(e.path() / "comm");
    std::string name;
    if (!std::getline(comm, name) || name != "postgres") continue;
    total += ProcKb((e.path() / "smaps_rollup").string(), "Pss:");
  }
  return total;
}

void Admin(const std::string& url, const std::string& sql) {
  PGconn* c = PQconnectdb(url.c_str());
  PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);
  PGresult* r = PQexec(c, sql.c_str());
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  if (!ok) std::fprintf(stderr, "container_stores: %s: %s", sql.c_str(), PQerrorMessage(c));
  PQclear(r);
  PQfinish(c);
  if (!ok) std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  int n = 100;
  std::string pg_admin, data_dir = std::string(MEDALLION_BENCH_DATA_DIR) + "/container_stores";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--containers") n = std::atoi(argv[i + 1]);
    if (a == "--pg-admin") pg_admin = argv[i + 1];
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

  SystemClock clock;
  SystemRng rng;
  Env env{&clock, &rng};
  did::Resolver resolver;
  const long rss_before = ProcKb("/proc/self/status", "VmRSS:");
  const long pg_before = pg_admin.empty() ? 0 : PostgresPssKb();
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
  for (auto& c : containers) {
    if (!c.as->InternalPat("fhir")) return 1;
  }
  const auto t2 = std::chrono::steady_clock::now();
  const long rss_after = ProcKb("/proc/self/status", "VmRSS:");
  const long pg_after = pg_admin.empty() ? 0 : PostgresPssKb();
  auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
  nlohmann::json out = {
      {"backend", where.empty() ? "sqlite" : "postgresql"},
      {"containers", n},
      {"open_ms", ms(t1 - t0)},
      {"open_ms_per_container", ms(t1 - t0) / n},
      {"first_write_ms_per_container", ms(t2 - t1) / n},
      {"process_rss_kb_before", rss_before},
      {"process_rss_kb_after", rss_after},
      {"process_kb_per_container", static_cast<double>(rss_after - rss_before) / n},
  };
  if (!pg_admin.empty()) {
    out["postgres_pss_kb_before"] = pg_before;
    out["postgres_pss_kb_after"] = pg_after;
    out["postgres_kb_per_container"] = static_cast<double>(pg_after - pg_before) / n;
  }
  std::printf("%s\n", out.dump().c_str());
  containers.clear();
  if (!pg_admin.empty()) {
    Admin(pg_admin, "DROP SCHEMA " + schema + " CASCADE");
  } else {
    fs::remove_all(data_dir);
  }
  return 0;
}
