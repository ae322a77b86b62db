// Encrypted key store: round trip, wrong passphrase, tampering, file mode, no plaintext seed.
#include <catch2/catch.hpp>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

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
  CHECK((*ks)->ChangePassphrase("nope", "new one", KdfParams::ForTests()).code() == StatusCode::kUnauthenticated);
  CHECK((*ks)->Unlock("correct horse").has_value());
  CHECK((*ks)->ChangePassphrase("correct horse", "", KdfParams::ForTests()).code() == StatusCode::kInvalidArgument);

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
  for (ByteView needle : {secret.seed.Reveal(), secret.entropy.Reveal(), secret.seed.Reveal().first(16),
                          secret.entropy.Reveal().first(16)}) {
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
      {"ciphertext bit", "UPDATE sealed_secrets SET ciphertext = CAST(zeroblob(length(ciphertext)) AS BLOB)", StatusCode::kUnauthenticated},
      {"nonce", "UPDATE sealed_secrets SET nonce = zeroblob(24)", StatusCode::kUnauthenticated},
      {"salt", "UPDATE sealed_secrets SET salt = zeroblob(16)", StatusCode::kUnauthenticated},
      {"purpose", "UPDATE sealed_secrets SET purpose = 'other'", StatusCode::kUnauthenticated},
      {"opslimit", "UPDATE sealed_secrets SET opslimit = opslimit + 1", StatusCode::kUnauthenticated},
      {"huge memlimit", "UPDATE sealed_secrets SET memlimit = 1099511627776", StatusCode::kDataLoss},
      {"truncated ciphertext", "UPDATE sealed_secrets SET ciphertext = x'00'", StatusCode::kDataLoss},
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
  CHECK(KeyStore::Create(path, "", secret, KdfParams::ForTests(), env).error().code() == StatusCode::kInvalidArgument);
  CHECK_FALSE(std::filesystem::exists(path));
  REQUIRE(KeyStore::Create(path, "pw", secret, KdfParams::ForTests(), env).has_value());
  CHECK(KeyStore::Create(path, "pw", secret, KdfParams::ForTests(), env).error().code() == StatusCode::kAlreadyExists);
  ::chmod(path.c_str(), 0644);
  CHECK(KeyStore::Open(path, env).error().code() == StatusCode::kFailedPrecondition);
  ::chmod(path.c_str(), 0600);
  CHECK(KeyStore::Open(path, env).has_value());
  CHECK(KeyStore::Open((dir.path / "missing.db").string(), env).error().code() == StatusCode::kNotFound);
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
