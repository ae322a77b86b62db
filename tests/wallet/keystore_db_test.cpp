// The key store on both backends: the tests tagged [backends] run on files in wallet_tests:* and
// on a shared PostgreSQL database in wallet_tests_pg:* (MEDALLION_KEYSTORE_BACKEND=postgresql,
// the ctest fixture pg's cluster; skipped with its message where there is none or
// MEDALLION_NO_POSTGRES=1). On PostgreSQL each key store is a container's tenant
// (docs/scale-out.md §"The container host on PostgreSQL"); the last cases show that one tenant's
// connection never reads or writes another's key records, even with SQL written by hand.
#include <catch2/catch.hpp>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <optional>
#include <regex>

#include "ledger/backends.h"
#include "medallion/core/encoding.h"
#include "medallion/storage/sqlite.h"
#include "medallion/wallet/bip39.h"
#include "medallion/wallet/keystore.h"

using namespace medallion;
using namespace medallion::wallet;

namespace {

bool KeyStoreOnPostgres() {
  const char* b = std::getenv("MEDALLION_KEYSTORE_BACKEND");
  return b != nullptr && std::string_view(b) == "postgresql";
}

WalletSecret MakeSecret(Rng& rng) {
  WalletSecret s;
  s.entropy = rng.RandomSecret(32);
  auto m = bip39::MnemonicFromEntropy(s.entropy.Reveal());
  s.seed = std::move(*bip39::MnemonicToSeed(m->Reveal(), ""));
  return s;
}

// A fresh PostgreSQL schema and the URL that opens it as an ordinary role (sql::Db refuses a
// superuser or BYPASSRLS role: row-level security would not bind it). The schema's admin URL
// (the cluster's superuser) sees every tenant's rows, as an operator would.
class PgStoreSchema {
 public:
  explicit PgStoreSchema(const std::string& base) : schema_(base) {
    schema_.Exec(
        "DO $$ BEGIN CREATE ROLE medallion_app LOGIN NOSUPERUSER NOBYPASSRLS; EXCEPTION WHEN "
        "duplicate_object OR unique_violation THEN NULL; END $$");
    schema_.Exec("GRANT ALL ON SCHEMA " + schema_.name() + " TO medallion_app");
    const std::string as_app =
        std::regex_replace(base, std::regex("([?&])user=[^&]*"), "$1user=medallion_app");
    url_ = ledger::testing::WithParam(
        as_app.find("user=") == std::string::npos
            ? ledger::testing::WithParam(as_app, "user=medallion_app")
            : as_app,
        "options=-csearch_path%3D" + schema_.name());
  }
  const std::string& url() const { return url_; }
  const ledger::testing::PgSchema& admin() const { return schema_; }

 private:
  ledger::testing::PgSchema schema_;
  std::string url_;
};

// Where the test's key stores live: files in a temporary directory, or tenants of one
// PostgreSQL schema. `name` is the file's stem or the tenant.
class Stores {
 public:
  Stores() {
    char tmpl[] = "/tmp/medallion-ksdb-XXXXXX";
    dir_ = mkdtemp(tmpl);
    if (KeyStoreOnPostgres()) {
      if (auto base = ledger::testing::PgBaseUrl()) {
        pg_.emplace(*base);
      } else {
        static std::once_flag once;
        std::call_once(once, [] {
          std::fprintf(stderr, "%s; this run used files\n", ledger::testing::kPgSkipMessage);
        });
      }
    }
  }
  ~Stores() { std::filesystem::remove_all(dir_); }

  bool pg() const { return pg_.has_value(); }
  const PgStoreSchema& schema() const { return *pg_; }
  std::string File(const std::string& name) const { return (dir_ / (name + ".db")).string(); }

  Result<std::unique_ptr<KeyStore>> Create(const std::string& name, std::string_view passphrase,
                                           const WalletSecret& s, Env env) const {
    if (pg_) return KeyStore::CreateInDatabase(pg_->url(), name, passphrase, s, Tests(), env);
    return KeyStore::Create(File(name), passphrase, s, Tests(), env);
  }
  Result<std::unique_ptr<KeyStore>> Open(const std::string& name, Env env) const {
    if (pg_) return KeyStore::OpenInDatabase(pg_->url(), name, env);
    return KeyStore::Open(File(name), env);
  }
  // Runs test-written SQL on `name`'s sealed records (the file, or as the admin on the tenant's
  // rows); `sqlite` and `pg` say the same in each dialect.
  void Tamper(const std::string& name, const std::string& sqlite, const std::string& pg) const {
    if (pg_) {
      pg_->admin().Exec(std::regex_replace(pg, std::regex("\\$T"), "'" + name + "'"));
      return;
    }
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(File(name).c_str(), &db) == SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sqlite.c_str(), nullptr, nullptr, &err);
    INFO((err ? err : ""));
    sqlite3_free(err);
    sqlite3_close(db);
    REQUIRE(rc == SQLITE_OK);
  }
  // Every stored byte of `name`'s sealed records, hex (to compare before and after).
  std::string Ciphertexts(const std::string& name) const {
    if (pg_) {
      return pg_->admin().Query(
          "SELECT string_agg(name || ':' || encode(salt || nonce || ciphertext, 'hex'), ',' "
          "ORDER BY name) FROM keystore_sealed_secrets WHERE container_id = '" +
          name + "'");
    }
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open_v2(File(name).c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) ==
            SQLITE_OK);
    std::string out;
    {
      sql::Stmt q(raw,
                  "SELECT name || ':' || hex(salt || nonce || ciphertext) FROM sealed_secrets "
                  "ORDER BY name");
      while (q.Step() == SQLITE_ROW) out += (out.empty() ? "" : ",") + q.Col(0);
    }
    sqlite3_close(raw);
    return out;
  }

  static KdfParams Tests() { return KdfParams::ForTests(); }

 private:
  std::filesystem::path dir_;
  std::optional<PgStoreSchema> pg_;
};

}  // namespace

TEST_CASE("Key store round trip, public records and passphrase change on either backend",
          "[wallet][keystore][backends]") {
  Stores stores;
  FakeClock clock(1'700'000'000'000);
  SeededRng rng(42);
  Env env{&clock, &rng};
  WalletSecret secret = MakeSecret(rng);
  {
    auto ks = stores.Create("alice", "correct horse", secret, env);
    REQUIRE(ks.has_value());
    CHECK((*ks)->in_database() == stores.pg());
    REQUIRE((*ks)->PutPublic("did", "primary", "did:key:z6Mk...").ok());
    REQUIRE((*ks)->PutPublic("did", "primary", "did:key:z6Mk-second").ok());  // replaces
    REQUIRE((*ks)->PutPublic("did", "other", "x").ok());
  }
  auto ks = stores.Open("alice", env);
  REQUIRE(ks.has_value());
  auto unlocked = (*ks)->Unlock("correct horse");
  REQUIRE(unlocked.has_value());
  CHECK(HexEncode(unlocked->seed.Reveal()) == HexEncode(secret.seed.Reveal()));
  CHECK(HexEncode(unlocked->entropy.Reveal()) == HexEncode(secret.entropy.Reveal()));
  CHECK(*(*ks)->GetPublic("did", "primary") == "did:key:z6Mk-second");
  CHECK((*ks)->GetPublic("did", "none").error().code() == StatusCode::kNotFound);
  auto listed = (*ks)->ListPublic("did");
  REQUIRE(listed.has_value());
  REQUIRE(listed->size() == 2);
  CHECK((*listed)[0].first == "other");
  CHECK((*ks)->SeedKdfParams()->opslimit == KdfParams::ForTests().opslimit);
  CHECK((*ks)->Unlock("Correct horse").error().code() == StatusCode::kUnauthenticated);

  CHECK((*ks)->ChangePassphrase("nope", "new one", KdfParams::ForTests()).code() ==
        StatusCode::kUnauthenticated);
  CHECK((*ks)->Unlock("correct horse").has_value());
  const std::string before = stores.Ciphertexts("alice");
  REQUIRE((*ks)->ChangePassphrase("correct horse", "battery staple", KdfParams::ForTests()).ok());
  CHECK(stores.Ciphertexts("alice") != before);
  CHECK_FALSE((*ks)->Unlock("correct horse").has_value());
  // A second connection sees the committed change.
  auto again = (*stores.Open("alice", env))->Unlock("battery staple");
  REQUIRE(again.has_value());
  CHECK(HexEncode(again->seed.Reveal()) == HexEncode(secret.seed.Reveal()));

  // Creating over an existing store is refused and changes nothing.
  CHECK(stores.Create("alice", "pw", MakeSecret(rng), env).error().code() ==
        StatusCode::kAlreadyExists);
  CHECK((*stores.Open("alice", env))->Unlock("battery staple").has_value());
  CHECK(stores.Create("bob", "", secret, env).error().code() == StatusCode::kInvalidArgument);
  CHECK(stores.Open("nobody", env).error().code() == StatusCode::kNotFound);
}

TEST_CASE("Key store on either backend never holds the seed in plaintext",
          "[wallet][keystore][backends]") {
  Stores stores;
  FakeClock clock(0);
  SeededRng rng(1);
  Env env{&clock, &rng};
  WalletSecret secret = MakeSecret(rng);
  {
    auto ks = stores.Create("alice", "pw", secret, env);
    REQUIRE(ks.has_value());
    REQUIRE((*ks)->ChangePassphrase("pw", "pw2", KdfParams::ForTests()).ok());
  }
  // The stored columns of the records, as hex (the file's raw bytes: keystore_test.cpp).
  std::string all;
  if (stores.pg()) {
    all = stores.schema().admin().Query(
        "SELECT string_agg(encode(convert_to(name || purpose || kdf, 'UTF8') || salt || nonce "
        "|| ciphertext, 'hex'), '') FROM keystore_sealed_secrets");
  } else {
    all = stores.Ciphertexts("alice");
  }
  REQUIRE(all.size() > 200);
  for (ByteView needle : {secret.seed.Reveal(), secret.entropy.Reveal(),
                          secret.seed.Reveal().first(16), secret.entropy.Reveal().first(16)}) {
    std::string hex = HexEncode(needle);
    for (auto& c : hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string lower = all;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    CHECK(lower.find(hex) == std::string::npos);
  }
}

TEST_CASE("Key store on either backend detects tampering and a failed change alters nothing",
          "[wallet][keystore][backends]") {
  Stores stores;
  FakeClock clock(0);
  SeededRng rng(2);
  Env env{&clock, &rng};
  struct Tamper {
    const char* what;
    const char* sqlite;
    const char* pg;
    StatusCode expect;
  };
  const Tamper cases[] = {
      {"ciphertext", "UPDATE sealed_secrets SET ciphertext = zeroblob(length(ciphertext))",
       "UPDATE keystore_sealed_secrets SET ciphertext = decode(repeat('00', "
       "length(ciphertext)), 'hex') WHERE container_id = $T",
       StatusCode::kUnauthenticated},
      {"nonce", "UPDATE sealed_secrets SET nonce = zeroblob(24)",
       "UPDATE keystore_sealed_secrets SET nonce = decode(repeat('00', 24), 'hex') WHERE "
       "container_id = $T",
       StatusCode::kUnauthenticated},
      {"purpose", "UPDATE sealed_secrets SET purpose = 'other'",
       "UPDATE keystore_sealed_secrets SET purpose = 'other' WHERE container_id = $T",
       StatusCode::kUnauthenticated},
      {"opslimit", "UPDATE sealed_secrets SET opslimit = opslimit + 1",
       "UPDATE keystore_sealed_secrets SET opslimit = opslimit + 1 WHERE container_id = $T",
       StatusCode::kUnauthenticated},
      {"huge memlimit", "UPDATE sealed_secrets SET memlimit = 1099511627776",
       "UPDATE keystore_sealed_secrets SET memlimit = 1099511627776 WHERE container_id = $T",
       StatusCode::kDataLoss},
      {"truncated ciphertext", "UPDATE sealed_secrets SET ciphertext = x'00'",
       "UPDATE keystore_sealed_secrets SET ciphertext = '\\x00'::bytea WHERE container_id = $T",
       StatusCode::kDataLoss},
      {"record renamed", "UPDATE sealed_secrets SET name = 'x'",
       "UPDATE keystore_sealed_secrets SET name = 'x' WHERE container_id = $T",
       StatusCode::kDataLoss},
      {"a second record that does not open",
       "INSERT INTO sealed_secrets SELECT 'zzz-extra', purpose, format_version, kdf, opslimit, "
       "memlimit, salt, nonce, ciphertext, updated_at FROM sealed_secrets",
       "INSERT INTO keystore_sealed_secrets SELECT container_id, 'zzz-extra', purpose, "
       "format_version, kdf, opslimit, memlimit, salt, nonce, ciphertext, updated_at FROM "
       "keystore_sealed_secrets WHERE container_id = $T",
       StatusCode::kOk},
  };
  int n = 0;
  for (const auto& t : cases) {
    INFO(t.what);
    const std::string name = "store" + std::to_string(n++);
    WalletSecret secret = MakeSecret(rng);
    REQUIRE(stores.Create(name, "pw", secret, env).has_value());
    stores.Tamper(name, t.sqlite, t.pg);
    auto ks = stores.Open(name, env);
    REQUIRE(ks.has_value());
    auto r = (*ks)->Unlock("pw");
    if (t.expect == StatusCode::kOk) {
      CHECK(r.has_value());
    } else {
      REQUIRE_FALSE(r.has_value());
      CHECK(r.error().code() == t.expect);
    }
    const std::string before = stores.Ciphertexts(name);
    CHECK_FALSE((*ks)->ChangePassphrase("pw", "new", KdfParams::ForTests()).ok());
    CHECK(stores.Ciphertexts(name) == before);
    CHECK_FALSE((*ks)->Unlock("new").has_value());
  }
}

TEST_CASE("Key store imported into a database byte for byte",
          "[wallet][keystore][backends][postgresql]") {
  Stores stores;
  if (!stores.pg()) {
    SUCCEED("a PostgreSQL test: the wallet_tests_pg registration runs it");
    return;
  }
  FakeClock clock(0);
  SeededRng rng(7);
  Env env{&clock, &rng};
  WalletSecret secret = MakeSecret(rng);
  const std::string file = stores.File("alice");
  {
    auto ks = KeyStore::Create(file, "pw", secret, KdfParams::ForTests(), env);
    REQUIRE(ks.has_value());
    REQUIRE((*ks)->PutPublic("recovery", "guardian_shares", "{\"threshold\":2}").ok());
  }
  auto from = KeyStore::Open(file, env);
  REQUIRE(from.has_value());
  auto in = KeyStore::ImportIntoDatabase(**from, stores.schema().url(), "alice.x", env);
  REQUIRE(in.has_value());
  CHECK((*in)->in_database());
  // The same sealed bytes: nothing was decrypted or re-sealed on the way.
  const std::string db_hex = stores.schema().admin().Query(
      "SELECT upper(encode(salt || nonce || ciphertext, 'hex')) FROM keystore_sealed_secrets "
      "WHERE container_id = 'alice.x'");
  std::string file_hex;
  {
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open_v2(file.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    sql::Stmt q(raw, "SELECT hex(salt || nonce || ciphertext) FROM sealed_secrets");
    REQUIRE(q.Step() == SQLITE_ROW);
    file_hex = q.Col(0);
    q.Reset();
    sqlite3_close_v2(raw);
  }
  CHECK(db_hex == file_hex);
  auto opened = KeyStore::OpenInDatabase(stores.schema().url(), "alice.x", env);
  REQUIRE(opened.has_value());
  auto s = (*opened)->Unlock("pw");
  REQUIRE(s.has_value());
  CHECK(HexEncode(s->seed.Reveal()) == HexEncode(secret.seed.Reveal()));
  CHECK(*(*opened)->GetPublic("recovery", "guardian_shares") == "{\"threshold\":2}");
  // Once only; a URL that is not PostgreSQL is refused.
  CHECK(KeyStore::ImportIntoDatabase(**from, stores.schema().url(), "alice.x", env)
            .error()
            .code() == StatusCode::kAlreadyExists);
  CHECK(KeyStore::OpenInDatabase(file, "alice.x", env).error().code() ==
        StatusCode::kInvalidArgument);
}

TEST_CASE("One tenant's connection never reads or writes another's key records",
          "[wallet][keystore][backends][postgresql][isolation]") {
  Stores stores;
  if (!stores.pg()) {
    SUCCEED("a PostgreSQL test: the wallet_tests_pg registration runs it");
    return;
  }
  FakeClock clock(0);
  SeededRng rng(8);
  Env env{&clock, &rng};
  WalletSecret a_secret = MakeSecret(rng);
  REQUIRE(stores.Create("alice.A", "pw-a", a_secret, env).has_value());
  REQUIRE((*stores.Open("alice.A", env))->PutPublic("did", "mdl", "did:mdl:alice").ok());
  // Bob's tenant has no key store, whatever Alice's holds; then one of his own, same names.
  CHECK(stores.Open("bob.B", env).error().code() == StatusCode::kNotFound);
  REQUIRE(stores.Create("bob.B", "pw-b", MakeSecret(rng), env).has_value());
  CHECK((*stores.Open("bob.B", env))->Unlock("pw-a").error().code() ==
        StatusCode::kUnauthenticated);
  CHECK((*stores.Open("bob.B", env))->GetPublic("did", "mdl").error().code() ==
        StatusCode::kNotFound);
  const std::string alice_before = stores.Ciphertexts("alice.A");

  // Hand-written SQL over Bob's connection (fixed to his tenant as the host fixes it).
  auto bob = sql::Db::Open(stores.schema().url(), "isolation", {}, "bob.B");
  REQUIRE(bob.has_value());
  auto count = [&](const char* statement) {
    sql::Stmt q(**bob, statement);
    REQUIRE(q.Step() == SQLITE_ROW);
    return q.ColInt(0);
  };
  auto run = [&](const char* statement) -> int64_t {
    sql::Stmt s(**bob, statement);
    if (s.Step() != SQLITE_DONE) return -1;
    return (*bob)->Changes();
  };
  CHECK(count("SELECT COUNT(*) FROM keystore_sealed_secrets") == 1);
  CHECK(count("SELECT COUNT(*) FROM keystore_sealed_secrets WHERE container_id <> 'bob.B'") == 0);
  CHECK(count("SELECT COUNT(*) FROM keystore_public_records") == 0);
  CHECK(run("UPDATE keystore_sealed_secrets SET ciphertext = '\\x00'::bytea WHERE container_id "
            "= 'alice.A'") == 0);
  CHECK(run("DELETE FROM keystore_sealed_secrets WHERE container_id = 'alice.A'") == 0);
  CHECK(run("DELETE FROM keystore_public_records WHERE container_id = 'alice.A'") == 0);
  // Writing a row into Alice's tenant fails the policy's WITH CHECK.
  CHECK(run("INSERT INTO keystore_public_records (container_id, kind, name, value) VALUES "
            "('alice.A', 'did', 'mdl', 'did:mdl:mallory')") == -1);
  CHECK(run("UPDATE keystore_sealed_secrets SET container_id = 'alice.A'") == -1);
  // A connection that names no tenant sees nothing.
  CHECK(stores.Open("", env).error().code() == StatusCode::kInvalidArgument);

  CHECK(stores.Ciphertexts("alice.A") == alice_before);
  auto a = (*stores.Open("alice.A", env))->Unlock("pw-a");
  REQUIRE(a.has_value());
  CHECK(HexEncode(a->seed.Reveal()) == HexEncode(a_secret.seed.Reveal()));
  CHECK(*(*stores.Open("alice.A", env))->GetPublic("did", "mdl") == "did:mdl:alice");
}
