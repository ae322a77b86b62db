// Encrypted key store: round trip, wrong passphrase, tampering, file mode, no plaintext seed.
#include <catch2/catch.hpp>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <functional>

#include "medallion/core/encoding.h"
#include "medallion/wallet/bip39.h"
#include "medallion/wallet/keystore.h"
#include "test_util.h"

using namespace medallion;
using namespace medallion::wallet;

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/medallion-ks-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

WalletSecret MakeSecret(Rng& rng) {
  WalletSecret s;
  s.entropy = rng.RandomSecret(32);
  auto m = bip39::MnemonicFromEntropy(s.entropy.Reveal());
  s.seed = std::move(*bip39::MnemonicToSeed(m->Reveal(), ""));
  return s;
}

std::string FileBytes(const std::filesystem::path& p) {
  return std::filesystem::exists(p) ? medallion::testing::ReadFile(p.string()) : std::string();
}

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

}  // namespace

TEST_CASE("Key store round trip and passphrase change", "[wallet][keystore]") {
  TempDir dir;
  FakeClock clock(1'700'000'000'000);
  SeededRng rng(42);
  Env env{&clock, &rng};
  const std::string path = (dir.path / "wallet.db").string();
  WalletSecret secret = MakeSecret(rng);
  {
    auto ks = KeyStore::Create(path, "correct horse", secret, KdfParams::ForTests(), env);
    REQUIRE(ks.has_value());
    REQUIRE((*ks)->PutPublic("did", "primary", "did:key:z6Mk...").ok());
  }
  struct stat sb;
  REQUIRE(::stat(path.c_str(), &sb) == 0);
  CHECK((sb.st_mode & 0777) == 0600);

  auto ks = KeyStore::Open(path, env);
  REQUIRE(ks.has_value());
  auto unlocked = (*ks)->Unlock("correct horse");
  REQUIRE(unlocked.has_value());
  CHECK(HexEncode(unlocked->seed.Reveal()) == HexEncode(secret.seed.Reveal()));
  CHECK(HexEncode(unlocked->entropy.Reveal()) == HexEncode(secret.entropy.Reveal()));
  CHECK(*(*ks)->GetPublic("did", "primary") == "did:key:z6Mk...");

  auto wrong = (*ks)->Unlock("Correct horse");
  REQUIRE_FALSE(wrong.has_value());
  CHECK(wrong.error().code() == StatusCode::kUnauthenticated);

  // A wrong old passphrase changes nothing.
  CHECK((*ks)->ChangePassphrase("nope", "new one", KdfParams::ForTests()).code() ==
        StatusCode::kUnauthenticated);
  CHECK((*ks)->Unlock("correct horse").has_value());
  CHECK((*ks)->ChangePassphrase("correct horse", "", KdfParams::ForTests()).code() ==
        StatusCode::kInvalidArgument);

  REQUIRE((*ks)->ChangePassphrase("correct horse", "battery staple", KdfParams::ForTests()).ok());
  CHECK_FALSE((*ks)->Unlock("correct horse").has_value());
  auto again = (*ks)->Unlock("battery staple");
  REQUIRE(again.has_value());
  CHECK(HexEncode(again->seed.Reveal()) == HexEncode(secret.seed.Reveal()));
}

TEST_CASE("Key store never holds the seed in plaintext", "[wallet][keystore]") {
  TempDir dir;
  FakeClock clock(0);
  SeededRng rng(1);
  Env env{&clock, &rng};
  const std::string path = (dir.path / "wallet.db").string();
  WalletSecret secret = MakeSecret(rng);
  {
    auto ks = KeyStore::Create(path, "pw", secret, KdfParams::ForTests(), env);
    REQUIRE(ks.has_value());
    REQUIRE((*ks)->ChangePassphrase("pw", "pw2", KdfParams::ForTests()).ok());
  }
  std::string all = FileBytes(path) + FileBytes(path + "-wal") + FileBytes(path + "-shm");
  REQUIRE(all.size() > 1000);
  for (ByteView needle : {secret.seed.Reveal(), secret.entropy.Reveal(),
                          secret.seed.Reveal().first(16), secret.entropy.Reveal().first(16)}) {
    std::string raw(needle.begin(), needle.end());
    CHECK(all.find(raw) == std::string::npos);
    std::string hex = HexEncode(needle);
    CHECK(all.find(hex) == std::string::npos);
  }
}

TEST_CASE("Key store detects tampering and changes nothing", "[wallet][keystore]") {
  TempDir dir;
  FakeClock clock(0);
  SeededRng rng(2);
  Env env{&clock, &rng};
  const std::string path = (dir.path / "wallet.db").string();
  WalletSecret secret = MakeSecret(rng);
  REQUIRE(KeyStore::Create(path, "pw", secret, KdfParams::ForTests(), env).has_value());

  struct Tamper {
    const char* what;
    const char* sql;
    StatusCode expect;
  };
  const Tamper cases[] = {
      {"ciphertext bit",
       "UPDATE sealed_secrets SET ciphertext = CAST(zeroblob(length(ciphertext)) AS BLOB)",
       StatusCode::kUnauthenticated},
      {"nonce", "UPDATE sealed_secrets SET nonce = zeroblob(24)", StatusCode::kUnauthenticated},
      {"salt", "UPDATE sealed_secrets SET salt = zeroblob(16)", StatusCode::kUnauthenticated},
      {"purpose", "UPDATE sealed_secrets SET purpose = 'other'", StatusCode::kUnauthenticated},
      {"opslimit", "UPDATE sealed_secrets SET opslimit = opslimit + 1",
       StatusCode::kUnauthenticated},
      {"huge memlimit", "UPDATE sealed_secrets SET memlimit = 1099511627776",
       StatusCode::kDataLoss},
      {"truncated ciphertext", "UPDATE sealed_secrets SET ciphertext = x'00'",
       StatusCode::kDataLoss},
      {"record renamed", "UPDATE sealed_secrets SET name = 'x'", StatusCode::kDataLoss},
  };
  for (const auto& t : cases) {
    INFO(t.what);
    const std::string copy = (dir.path / "copy.db").string();
    std::filesystem::remove(copy);
    std::filesystem::copy_file(path, copy);
    Sql(copy, t.sql);
    ::chmod(copy.c_str(), 0600);
    auto ks = KeyStore::Open(copy, env);
    REQUIRE(ks.has_value());
    auto r = (*ks)->Unlock("pw");
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == t.expect);
    // A failed passphrase change on a tampered store leaves it as it was.
    CHECK_FALSE((*ks)->ChangePassphrase("pw", "new", KdfParams::ForTests()).ok());
  }
  // The original still opens.
  CHECK((*KeyStore::Open(path, env))->Unlock("pw").has_value());
}

TEST_CASE("Key store refuses unsafe files and bad arguments", "[wallet][keystore]") {
  TempDir dir;
  FakeClock clock(0);
  SeededRng rng(3);
  Env env{&clock, &rng};
  const std::string path = (dir.path / "wallet.db").string();
  WalletSecret secret = MakeSecret(rng);
  CHECK(KeyStore::Create(path, "", secret, KdfParams::ForTests(), env).error().code() ==
        StatusCode::kInvalidArgument);
  CHECK_FALSE(std::filesystem::exists(path));
  REQUIRE(KeyStore::Create(path, "pw", secret, KdfParams::ForTests(), env).has_value());
  CHECK(KeyStore::Create(path, "pw", secret, KdfParams::ForTests(), env).error().code() ==
        StatusCode::kAlreadyExists);
  ::chmod(path.c_str(), 0644);
  CHECK(KeyStore::Open(path, env).error().code() == StatusCode::kFailedPrecondition);
  ::chmod(path.c_str(), 0600);
  CHECK(KeyStore::Open(path, env).has_value());
  CHECK(KeyStore::Open((dir.path / "missing.db").string(), env).error().code() ==
        StatusCode::kNotFound);
  const std::string junk = (dir.path / "junk.db").string();
  {
    std::FILE* f = std::fopen(junk.c_str(), "w");
    std::fputs("this is not a database at all, just some text padding it out", f);
    std::fclose(f);
  }
  ::chmod(junk.c_str(), 0600);
  auto r = KeyStore::Open(junk, env);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == StatusCode::kDataLoss);
}

namespace {

// The bytes of `path` and whether any SQLite side file exists beside it.
struct FileState {
  std::string bytes;
  bool side_files = false;
  bool operator==(const FileState&) const = default;
};
FileState StateOf(const std::string& path) {
  FileState s{FileBytes(path), false};
  for (const char* suffix : {"-wal", "-shm", "-journal"})
    s.side_files |= std::filesystem::exists(path + suffix);
  return s;
}

// A non-key-store SQLite database with one table; `wal` leaves it in WAL mode.
void MakeForeignDb(const std::string& path, bool wal) {
  Sql(path, std::string(wal ? "PRAGMA journal_mode=WAL;" : "") +
                "CREATE TABLE notes (x); INSERT INTO notes VALUES ('hello');");
  ::chmod(path.c_str(), 0600);
}

// The hex of every sealed record's ciphertext (to see whether a failed change wrote anything).
std::string Ciphertexts(const std::string& path) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  REQUIRE(sqlite3_prepare_v2(
              db, "SELECT name, hex(salt), hex(ciphertext) FROM sealed_secrets ORDER BY name", -1,
              &q, nullptr) == SQLITE_OK);
  std::string out;
  while (sqlite3_step(q) == SQLITE_ROW) {
    for (int i = 0; i < 3; ++i)
      out += std::string(reinterpret_cast<const char*>(sqlite3_column_text(q, i))) + " ";
    out += "\n";
  }
  sqlite3_finalize(q);
  sqlite3_close(db);
  return out;
}

}  // namespace

TEST_CASE("Key store Open leaves a file that is not a key store exactly as it was",
          "[wallet][keystore]") {
  TempDir dir;
  FakeClock clock(0);
  SeededRng rng(4);
  Env env{&clock, &rng};
  struct Case {
    const char* what;
    std::function<void(const std::string&)> make;
  };
  const Case cases[] = {
      {"an SQLite database (rollback journal)",
       [](const std::string& p) { MakeForeignDb(p, false); }},
      {"an SQLite database in WAL mode", [](const std::string& p) { MakeForeignDb(p, true); }},
      {"an SQLite database with only a sealed_secrets table",
       [](const std::string& p) {
         Sql(p, "CREATE TABLE sealed_secrets (name TEXT)");
         ::chmod(p.c_str(), 0600);
       }},
      {"an empty file",
       [](const std::string& p) {
         std::FILE* f = std::fopen(p.c_str(), "w");
         std::fclose(f);
         ::chmod(p.c_str(), 0600);
       }},
      {"random bytes",
       [&rng](const std::string& p) {
         std::FILE* f = std::fopen(p.c_str(), "w");
         Bytes b = rng.RandomBytes(8192);
         std::fwrite(b.data(), 1, b.size(), f);
         std::fclose(f);
         ::chmod(p.c_str(), 0600);
       }},
  };
  int i = 0;
  for (const auto& c : cases) {
    INFO(c.what);
    const std::string path = (dir.path / ("foreign-" + std::to_string(i++) + ".db")).string();
    c.make(path);
    const FileState before = StateOf(path);
    REQUIRE_FALSE(before.side_files);
    auto ks = KeyStore::Open(path, env);
    REQUIRE_FALSE(ks.has_value());
    CHECK(ks.error().code() == StatusCode::kDataLoss);
    CHECK_THAT(ks.error().message(), Catch::Contains("not a key store"));
    CHECK(StateOf(path) == before);  // byte-identical, and no -wal, -shm or -journal created
  }
}

TEST_CASE("Key store Open refuses symlinks, non-regular files and a newer schema",
          "[wallet][keystore]") {
  TempDir dir;
  FakeClock clock(0);
  SeededRng rng(5);
  Env env{&clock, &rng};
  const std::string path = (dir.path / "wallet.db").string();
  WalletSecret secret = MakeSecret(rng);
  REQUIRE(KeyStore::Create(path, "pw", secret, KdfParams::ForTests(), env).has_value());

  const std::string link = (dir.path / "link.db").string();
  REQUIRE(::symlink(path.c_str(), link.c_str()) == 0);
  auto via_link = KeyStore::Open(link, env);
  REQUIRE_FALSE(via_link.has_value());
  CHECK(via_link.error().code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(via_link.error().message(), Catch::Contains("symbolic link"));
  // Create refuses to follow one too, even a dangling one.
  const std::string dangling = (dir.path / "dangling.db").string();
  REQUIRE(::symlink((dir.path / "nowhere.db").c_str(), dangling.c_str()) == 0);
  CHECK(KeyStore::Create(dangling, "pw", secret, KdfParams::ForTests(), env).error().code() ==
        StatusCode::kAlreadyExists);
  CHECK_FALSE(std::filesystem::exists(dir.path / "nowhere.db"));

  const std::string subdir = (dir.path / "dir.db").string();
  REQUIRE(::mkdir(subdir.c_str(), 0700) == 0);
  CHECK(KeyStore::Open(subdir, env).error().code() == StatusCode::kFailedPrecondition);

  for (mode_t mode : {0640, 0604, 0620, 0602}) {
    INFO("mode " << std::oct << mode);
    ::chmod(path.c_str(), mode);
    CHECK(KeyStore::Open(path, env).error().code() == StatusCode::kFailedPrecondition);
  }
  ::chmod(path.c_str(), 0600);

  const std::string future = (dir.path / "future.db").string();
  std::filesystem::copy_file(path, future);
  Sql(future, "INSERT INTO schema_migrations (version) VALUES (99)");
  ::chmod(future.c_str(), 0600);
  const FileState before = StateOf(future);
  auto f = KeyStore::Open(future, env);
  REQUIRE_FALSE(f.has_value());
  CHECK(f.error().code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(f.error().message(), Catch::Contains("newer"));
  CHECK(StateOf(future) == before);

  // While another connection holds the store open (its -wal exists), Open still works.
  auto first = KeyStore::Open(path, env);
  REQUIRE(first.has_value());
  REQUIRE((*first)->PutPublic("did", "x", "y").ok());
  auto second = KeyStore::Open(path, env);
  REQUIRE(second.has_value());
  CHECK(*(*second)->GetPublic("did", "x") == "y");
  CHECK((*second)->Unlock("pw").has_value());
}

TEST_CASE("Key store ChangePassphrase is all or nothing", "[wallet][keystore]") {
  TempDir dir;
  FakeClock clock(0);
  SeededRng rng(6);
  Env env{&clock, &rng};
  const std::string path = (dir.path / "wallet.db").string();
  WalletSecret secret = MakeSecret(rng);
  REQUIRE(KeyStore::Create(path, "pw", secret, KdfParams::ForTests(), env).has_value());

  // Argument errors come before anything is read.
  {
    auto ks = KeyStore::Open(path, env);
    REQUIRE(ks.has_value());
    CHECK((*ks)->ChangePassphrase("pw", "", KdfParams::ForTests()).code() ==
          StatusCode::kInvalidArgument);
    CHECK((*ks)->ChangePassphrase("pw", "new", KdfParams{1, 1}).code() ==
          StatusCode::kInvalidArgument);
    CHECK((*ks)->ChangePassphrase("pw", "new", KdfParams{100, 1ull << 40}).code() ==
          StatusCode::kInvalidArgument);
    CHECK((*ks)->ChangePassphrase("wrong", "new", KdfParams::ForTests()).code() ==
          StatusCode::kUnauthenticated);
  }
  const std::string sealed = Ciphertexts(path);

  struct Broken {
    const char* what;
    const char* sql;
    StatusCode expect;
  };
  const Broken cases[] = {
      // The seed record gone, another one left: nothing to vouch for the passphrase.
      {"seed record renamed", "UPDATE sealed_secrets SET name = 'other'", StatusCode::kDataLoss},
      {"no records at all", "DELETE FROM sealed_secrets", StatusCode::kDataLoss},
      // A second record that does not open: the seed (which does) must not be re-sealed alone.
      {"a second record that does not open",
       "INSERT INTO sealed_secrets SELECT 'aaa-extra', purpose, format_version, kdf, opslimit, "
       "memlimit, salt, nonce, "
       "ciphertext, updated_at FROM sealed_secrets WHERE name = 'wallet-seed'",
       StatusCode::kUnauthenticated},
      {"a second record after the seed that does not open",
       "INSERT INTO sealed_secrets SELECT 'zzz-extra', purpose, format_version, kdf, opslimit, "
       "memlimit, salt, nonce, "
       "ciphertext, updated_at FROM sealed_secrets WHERE name = 'wallet-seed'",
       StatusCode::kUnauthenticated},
      {"seed record purpose relabelled", "UPDATE sealed_secrets SET purpose = 'other'",
       StatusCode::kUnauthenticated},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    const std::string copy = (dir.path / "copy.db").string();
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(copy + suffix);
    std::filesystem::copy_file(path, copy);
    Sql(copy, c.sql);
    ::chmod(copy.c_str(), 0600);
    const std::string before = Ciphertexts(copy);
    {
      auto ks = KeyStore::Open(copy, env);
      REQUIRE(ks.has_value());
      CHECK((*ks)->ChangePassphrase("pw", "new", KdfParams::ForTests()).code() == c.expect);
      CHECK_FALSE((*ks)->Unlock("new").has_value());
    }
    CHECK(Ciphertexts(copy) == before);
  }
  CHECK(Ciphertexts(path) == sealed);

  // The old ciphertext is gone from every file as soon as the change returns, while the store
  // is still open (WAL checkpointed and truncated, secure_delete on the replaced cell).
  auto ks = KeyStore::Open(path, env);
  REQUIRE(ks.has_value());
  Bytes old_ct;
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    sqlite3_stmt* q = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, "SELECT ciphertext FROM sealed_secrets", -1, &q, nullptr) ==
            SQLITE_OK);
    REQUIRE(sqlite3_step(q) == SQLITE_ROW);
    auto p = static_cast<const uint8_t*>(sqlite3_column_blob(q, 0));
    old_ct.assign(p, p + sqlite3_column_bytes(q, 0));
    sqlite3_finalize(q);
    sqlite3_close(db);
  }
  REQUIRE((*ks)->ChangePassphrase("pw", "new", KdfParams::ForTests()).ok());
  const std::string all = FileBytes(path) + FileBytes(path + "-wal") + FileBytes(path + "-shm");
  CHECK(all.find(std::string(old_ct.begin(), old_ct.begin() + 32)) == std::string::npos);
  CHECK((*ks)->Unlock("new").has_value());
  CHECK_FALSE((*ks)->Unlock("pw").has_value());
}
