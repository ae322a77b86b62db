// BrowserStore under a FakeClock and a SeededRng: links, challenges, passkeys, sessions, CSRF
// tokens, rate limits, what the database file holds, and reopening.
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "medallion/core/encoding.h"
#include "medallion/core/hash.h"
#include "medallion/web/sessions.h"

using namespace medallion;
using web::BrowserStore;
using web::LinkPurpose;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kStart = 1'700'000'000'000;  // ms

struct World {
  FakeClock clock{kStart};
  SeededRng rng{7};
  Env env{&clock, &rng};
  std::unique_ptr<BrowserStore> store;

  explicit World(const std::string& path = ":memory:", web::SessionOptions options = {}) {
    auto s = BrowserStore::Open(path, env, options);
    REQUIRE(s);
    store = std::move(*s);
  }
  void Advance(int64_t seconds) { clock.Advance(seconds * 1000); }
};

void CheckRefused(const Status& st, StatusCode code, const char* reason) {
  INFO(st.ToString());
  CHECK(st.code() == code);
  CHECK(st.reason() == reason);
}

web::Passkey MakePasskey(const std::string& id, const std::string& name) {
  web::Passkey p;
  p.id = id;
  p.name = name;
  p.cose_public_key = {0xa4, 0x01, 0x01, 0x03, 0x27};
  p.alg = -8;
  p.sign_count = 3;
  p.user_verified = true;
  p.backup_eligible = true;
  p.backed_up = false;
  p.aaguid = Bytes(16, 0xab);
  return p;
}

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path TempDir(const std::string& tag) {
  SystemRng rng;
  const fs::path dir =
      fs::temp_directory_path() / ("medallion-web-" + tag + "-" + HexEncode(rng.RandomBytes(6)));
  fs::create_directories(dir);
  return dir;
}

}  // namespace

TEST_CASE("one-time links: single use, lifetime, purpose", "[web][sessions][links]") {
  World w;
  auto link = w.store->CreateLink(LinkPurpose::kRegisterPasskey);
  REQUIRE(link);
  CHECK(link->size() == 43);
  auto other = w.store->CreateLink(LinkPurpose::kRegisterPasskey);
  REQUIRE(other);
  CHECK(*other != *link);

  // The other purpose does not know it, and does not spend it.
  CheckRefused(w.store->ConsumeLink(*link, LinkPurpose::kSignIn), StatusCode::kUnauthenticated,
               web::kLinkUnknown);
  CHECK(w.store->ConsumeLink(*link, LinkPurpose::kRegisterPasskey).ok());
  CheckRefused(w.store->ConsumeLink(*link, LinkPurpose::kRegisterPasskey),
               StatusCode::kUnauthenticated, web::kLinkUsed);
  CheckRefused(w.store->ConsumeLink("never-issued", LinkPurpose::kRegisterPasskey),
               StatusCode::kUnauthenticated, web::kLinkUnknown);
  CheckRefused(w.store->ConsumeLink("", LinkPurpose::kSignIn), StatusCode::kUnauthenticated,
               web::kLinkUnknown);

  // Lifetime: live until link_ttl_s, then expired.
  auto signin = w.store->CreateLink(LinkPurpose::kSignIn);
  REQUIRE(signin);
  w.Advance(w.store->options().link_ttl_s);
  CheckRefused(w.store->ConsumeLink(*signin, LinkPurpose::kSignIn), StatusCode::kUnauthenticated,
               web::kLinkExpired);
  CheckRefused(w.store->ConsumeLink(*other, LinkPurpose::kRegisterPasskey),
               StatusCode::kUnauthenticated, web::kLinkExpired);
  auto fresh = w.store->CreateLink(LinkPurpose::kSignIn);
  REQUIRE(fresh);
  w.Advance(w.store->options().link_ttl_s - 1);
  CHECK(w.store->ConsumeLink(*fresh, LinkPurpose::kSignIn).ok());
}

TEST_CASE("WebAuthn challenges: single use, lifetime, ceremony", "[web][sessions][challenges]") {
  World w;
  auto c = w.store->NewChallenge("register");
  REQUIRE(c);
  CHECK(c->size() == 32);
  auto d = w.store->NewChallenge("signin");
  REQUIRE(d);
  CHECK(*c != *d);

  CheckRefused(w.store->ConsumeChallenge(*c, "signin"), StatusCode::kUnauthenticated,
               web::kChallengeUnknown);
  CHECK(w.store->ConsumeChallenge(*c, "register").ok());
  CheckRefused(w.store->ConsumeChallenge(*c, "register"), StatusCode::kUnauthenticated,
               web::kChallengeUsed);
  Bytes forged = *d;
  forged[0] ^= 1;
  CheckRefused(w.store->ConsumeChallenge(forged, "signin"), StatusCode::kUnauthenticated,
               web::kChallengeUnknown);
  CheckRefused(w.store->ConsumeChallenge(Bytes{}, "signin"), StatusCode::kUnauthenticated,
               web::kChallengeUnknown);

  w.Advance(w.store->options().challenge_ttl_s);
  CheckRefused(w.store->ConsumeChallenge(*d, "signin"), StatusCode::kUnauthenticated,
               web::kChallengeExpired);

  auto e = w.store->NewChallenge("signin");
  REQUIRE(e);
  w.Advance(w.store->options().challenge_ttl_s - 1);
  CHECK(w.store->ConsumeChallenge(*e, "signin").ok());

  CHECK(w.store->NewChallenge("").error().code() == StatusCode::kInvalidArgument);
  CHECK(w.store->NewChallenge(std::string(65, 'x')).error().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("passkeys: add, list, get, duplicate, rename, use, revoke", "[web][sessions][passkeys]") {
  World w;
  REQUIRE(w.store->AddPasskey(MakePasskey("cred-A", "Laptop")).ok());
  w.Advance(10);
  REQUIRE(w.store->AddPasskey(MakePasskey("cred_B", "Phone")).ok());

  auto list = w.store->ListPasskeys();
  REQUIRE(list);
  REQUIRE(list->size() == 2);
  CHECK((*list)[0].id == "cred-A");  // oldest first
  CHECK((*list)[1].id == "cred_B");
  CHECK((*list)[0].created_at == kStart / 1000);
  CHECK((*list)[1].created_at == kStart / 1000 + 10);

  auto a = w.store->GetPasskey("cred-A");
  REQUIRE(a);
  const web::Passkey want = MakePasskey("cred-A", "Laptop");
  CHECK(a->name == "Laptop");
  CHECK(a->cose_public_key == want.cose_public_key);
  CHECK(a->alg == -8);
  CHECK(a->sign_count == 3);
  CHECK(a->user_verified);
  CHECK(a->backup_eligible);
  CHECK_FALSE(a->backed_up);
  CHECK(a->aaguid == want.aaguid);
  CHECK(a->last_used_at == 0);

  CHECK(w.store->AddPasskey(MakePasskey("cred-A", "Again")).code() == StatusCode::kAlreadyExists);
  auto missing = w.store->GetPasskey("nope");
  REQUIRE_FALSE(missing);
  CheckRefused(missing.error(), StatusCode::kNotFound, web::kPasskeyUnknown);

  // Input checks.
  CHECK(w.store->AddPasskey(MakePasskey("", "x")).code() == StatusCode::kInvalidArgument);
  CHECK(w.store->AddPasskey(MakePasskey("not base64url!", "x")).code() ==
        StatusCode::kInvalidArgument);
  CHECK(w.store->AddPasskey(MakePasskey("cred-C", std::string(65, 'n'))).code() ==
        StatusCode::kInvalidArgument);
  CHECK(w.store->AddPasskey(MakePasskey("cred-C", "bad\nname")).code() ==
        StatusCode::kInvalidArgument);
  CHECK(w.store->AddPasskey(MakePasskey("cred-C", "\xff\xfe")).code() ==
        StatusCode::kInvalidArgument);
  std::string sixty_four_accents;
  for (int i = 0; i < 64; ++i) sixty_four_accents += "\xc3\xa9";  // é: 64 characters, 128 bytes
  CHECK(w.store->AddPasskey(MakePasskey("cred-C", sixty_four_accents)).ok());
  web::Passkey no_key = MakePasskey("cred-D", "x");
  no_key.cose_public_key.clear();
  CHECK(w.store->AddPasskey(no_key).code() == StatusCode::kInvalidArgument);

  // Rename.
  CHECK(w.store->RenamePasskey("cred_B", "Work phone").ok());
  CHECK(w.store->GetPasskey("cred_B")->name == "Work phone");
  CheckRefused(w.store->RenamePasskey("nope", "x"), StatusCode::kNotFound, web::kPasskeyUnknown);
  CHECK(w.store->RenamePasskey("cred_B", std::string(65, 'n')).code() ==
        StatusCode::kInvalidArgument);

  // RecordUse.
  w.Advance(100);
  CHECK(w.store->RecordUse("cred-A", 42).ok());
  auto used = w.store->GetPasskey("cred-A");
  REQUIRE(used);
  CHECK(used->sign_count == 42);
  CHECK(used->last_used_at == kStart / 1000 + 110);
  CheckRefused(w.store->RecordUse("nope", 1), StatusCode::kNotFound, web::kPasskeyUnknown);

  // Revoke: the sessions it opened end, the others stay.
  auto by_a = w.store->CreateSession("passkey:cred-A");
  auto by_a2 = w.store->CreateSession("passkey:cred-A");
  auto by_b = w.store->CreateSession("passkey:cred_B");
  auto by_link = w.store->CreateSession("link");
  REQUIRE(by_a);
  REQUIRE(by_a2);
  REQUIRE(by_b);
  REQUIRE(by_link);
  CHECK(w.store->RevokePasskey("cred-A").ok());
  CheckRefused(w.store->Touch(by_a->id).status(), StatusCode::kUnauthenticated,
               web::kSessionUnknown);
  CheckRefused(w.store->Touch(by_a2->id).status(), StatusCode::kUnauthenticated,
               web::kSessionUnknown);
  CHECK(w.store->Touch(by_b->id));
  CHECK(w.store->Touch(by_link->id));
  CheckRefused(w.store->GetPasskey("cred-A").error(), StatusCode::kNotFound, web::kPasskeyUnknown);
  CheckRefused(w.store->RevokePasskey("cred-A"), StatusCode::kNotFound, web::kPasskeyUnknown);
  CheckRefused(w.store->RecordUse("cred-A", 50), StatusCode::kNotFound, web::kPasskeyUnknown);
  CheckRefused(w.store->RenamePasskey("cred-A", "x"), StatusCode::kNotFound, web::kPasskeyUnknown);
  // A revoked credential id cannot come back.
  CHECK(w.store->AddPasskey(MakePasskey("cred-A", "Laptop")).code() == StatusCode::kAlreadyExists);
  auto after = w.store->ListPasskeys();
  REQUIRE(after);
  REQUIRE(after->size() == 2);
  CHECK((*after)[0].id == "cred_B");
  CHECK((*after)[1].id == "cred-C");
}

TEST_CASE("sessions: idle and absolute timeouts, sliding idle, sign-out", "[web][sessions]") {
  web::SessionOptions o;
  o.idle_timeout_s = 100;
  o.absolute_timeout_s = 1000;
  World w(":memory:", o);

  auto s = w.store->CreateSession("link");
  REQUIRE(s);
  CHECK(s->id.size() == 43);
  CHECK(s->csrf_token == web::CsrfTokenFor(s->id));
  CHECK(s->info.session_hash == HexEncode(Sha256(AsBytes(s->id))));
  CHECK(s->info.method == "link");
  CHECK(s->info.created_at == kStart / 1000);
  CHECK(s->info.expires_at == kStart / 1000 + 1000);

  SECTION("sliding idle timeout up to the absolute one") {
    for (int i = 0; i < 9; ++i) {
      w.Advance(99);
      auto t = w.store->Touch(s->id);
      REQUIRE(t);
      CHECK(t->last_seen_at == w.clock.NowSeconds());
      CHECK(t->method == "link");
      CHECK(t->session_hash == s->info.session_hash);
    }
    w.Advance(1000 - 9 * 99);  // exactly the absolute timeout
    CheckRefused(w.store->Touch(s->id).status(), StatusCode::kUnauthenticated,
                 web::kSessionExpired);
  }
  SECTION("idle timeout") {
    w.Advance(99);
    REQUIRE(w.store->Touch(s->id));
    w.Advance(100);
    CheckRefused(w.store->Touch(s->id).status(), StatusCode::kUnauthenticated, web::kSessionIdle);
    CheckRefused(w.store->Touch(s->id).status(), StatusCode::kUnauthenticated, web::kSessionIdle);
    auto live = w.store->ListSessions();
    REQUIRE(live);
    CHECK(live->empty());
  }
  SECTION("unknown sessions") {
    CheckRefused(w.store->Touch("nope").status(), StatusCode::kUnauthenticated,
                 web::kSessionUnknown);
    CheckRefused(w.store->Touch("").status(), StatusCode::kUnauthenticated, web::kSessionUnknown);
    CheckRefused(w.store->Touch(s->info.session_hash).status(), StatusCode::kUnauthenticated,
                 web::kSessionUnknown);
  }
  SECTION("EndSession and EndAllSessions") {
    w.Advance(1);
    auto t = w.store->CreateSession("passkey:abc");
    w.Advance(1);
    auto u = w.store->CreateSession("phone:dev1");
    REQUIRE(t);
    REQUIRE(u);
    auto listed = w.store->ListSessions();
    REQUIRE(listed);
    REQUIRE(listed->size() == 3);
    CHECK((*listed)[0].session_hash == u->info.session_hash);  // newest first
    CHECK((*listed)[2].session_hash == s->info.session_hash);

    CHECK(w.store->EndSession(s->id).ok());
    CHECK(w.store->EndSession(s->id).ok());  // already ended: still OK
    CHECK(w.store->EndSession("never-was").ok());
    CheckRefused(w.store->Touch(s->id).status(), StatusCode::kUnauthenticated,
                 web::kSessionUnknown);
    CHECK(w.store->Touch(t->id));

    auto ended = w.store->EndAllSessions();
    REQUIRE(ended);
    CHECK(*ended == 2);
    CheckRefused(w.store->Touch(t->id).status(), StatusCode::kUnauthenticated,
                 web::kSessionUnknown);
    CheckRefused(w.store->Touch(u->id).status(), StatusCode::kUnauthenticated,
                 web::kSessionUnknown);
    CHECK(w.store->ListSessions()->empty());
    CHECK(*w.store->EndAllSessions() == 0);
  }
  SECTION("EndAllSessions counts only live sessions") {
    w.Advance(100);  // s is idle now
    auto t = w.store->CreateSession("link");
    REQUIRE(t);
    CHECK(*w.store->EndAllSessions() == 1);
  }
}

TEST_CASE("CSRF tokens: derived from the session id, compared exactly", "[web][sessions][csrf]") {
  World w;
  auto a = w.store->CreateSession("link");
  auto b = w.store->CreateSession("link");
  REQUIRE(a);
  REQUIRE(b);
  // base64url(HMAC-SHA256(key = the session id, "medallion csrf v1")).
  CHECK(a->csrf_token == Base64UrlEncode(HmacSha256(AsBytes(a->id), AsBytes("medallion csrf v1"))));
  CHECK(a->csrf_token.size() == 43);
  CHECK(w.store->CheckCsrf(a->id, a->csrf_token).ok());
  CHECK(w.store->CheckCsrf(b->id, b->csrf_token).ok());
  CheckRefused(w.store->CheckCsrf(a->id, b->csrf_token), StatusCode::kPermissionDenied,
               web::kCsrfInvalid);
  CheckRefused(w.store->CheckCsrf(a->id, ""), StatusCode::kPermissionDenied, web::kCsrfInvalid);
  std::string wrong = a->csrf_token;
  wrong.back() = wrong.back() == 'A' ? 'B' : 'A';
  CheckRefused(w.store->CheckCsrf(a->id, wrong), StatusCode::kPermissionDenied, web::kCsrfInvalid);
  CheckRefused(w.store->CheckCsrf(a->id, a->csrf_token + "x"), StatusCode::kPermissionDenied,
               web::kCsrfInvalid);
  CheckRefused(w.store->CheckCsrf(a->id, a->id), StatusCode::kPermissionDenied, web::kCsrfInvalid);
}

TEST_CASE("sign-in rate limit: a sliding window per address", "[web][sessions][ratelimit]") {
  World w;  // 10 attempts per 300 s
  for (int i = 0; i < 10; ++i) {
    INFO(i);
    CHECK(w.store->CountSignInAttempt("203.0.113.7").ok());
    w.Advance(10);  // attempts at t = 0, 10, ..., 90
  }
  CheckRefused(w.store->CountSignInAttempt("203.0.113.7"), StatusCode::kResourceExhausted,
               web::kRateLimited);
  // Another address has its own window.
  CHECK(w.store->CountSignInAttempt("198.51.100.1").ok());
  // Refused attempts are not counted: at t = 300 the first attempt (t = 0) has left the window.
  w.Advance(300 - 100);
  CHECK(w.store->CountSignInAttempt("203.0.113.7").ok());
  CheckRefused(w.store->CountSignInAttempt("203.0.113.7"), StatusCode::kResourceExhausted,
               web::kRateLimited);
  w.Advance(10);  // t = 310: the attempt at t = 10 has left
  CHECK(w.store->CountSignInAttempt("203.0.113.7").ok());
  CheckRefused(w.store->CountSignInAttempt("203.0.113.7"), StatusCode::kResourceExhausted,
               web::kRateLimited);
  w.Advance(1000);
  for (int i = 0; i < 10; ++i) CHECK(w.store->CountSignInAttempt("203.0.113.7").ok());
  CheckRefused(w.store->CountSignInAttempt("203.0.113.7"), StatusCode::kResourceExhausted,
               web::kRateLimited);

  // Many addresses: stale ones are swept, live ones kept.
  for (int i = 0; i < 5000; ++i)
    CHECK(w.store->CountSignInAttempt("10.0." + std::to_string(i)).ok());
  w.Advance(301);
  for (int i = 0; i < 5000; ++i)
    REQUIRE(w.store->CountSignInAttempt("10.1." + std::to_string(i)).ok());
  for (int i = 0; i < 9; ++i) CHECK(w.store->CountSignInAttempt("10.1.0").ok());
  CheckRefused(w.store->CountSignInAttempt("10.1.0"), StatusCode::kResourceExhausted,
               web::kRateLimited);
}

TEST_CASE("the database holds no session id, CSRF token, link token or challenge",
          "[web][sessions][privacy]") {
  const fs::path dir = TempDir("secrets");
  const fs::path db = dir / "web.sqlite";
  std::vector<std::string> secrets;
  std::vector<std::string> hashes;
  {
    World w(db.string());
    for (int i = 0; i < 3; ++i) {
      auto s = w.store->CreateSession("link");
      REQUIRE(s);
      secrets.push_back(s->id);
      secrets.push_back(ToString(*Base64UrlDecode(s->id)));
      secrets.push_back(s->csrf_token);
      hashes.push_back(s->info.session_hash);
      REQUIRE(w.store->Touch(s->id));
      auto l = w.store->CreateLink(i == 0 ? LinkPurpose::kSignIn : LinkPurpose::kRegisterPasskey);
      REQUIRE(l);
      secrets.push_back(*l);
      secrets.push_back(ToString(*Base64UrlDecode(*l)));
      auto c = w.store->NewChallenge("signin");
      REQUIRE(c);
      secrets.push_back(ToString(*c));
      secrets.push_back(Base64UrlEncode(*c));
      secrets.push_back(HexEncode(*c));
    }
    REQUIRE(w.store->ConsumeLink(secrets[3], LinkPurpose::kSignIn).ok());
    REQUIRE(w.store->AddPasskey(MakePasskey("visible-credential-id", "Laptop")).ok());
    // Checked while open too (the WAL holds the recent writes).
    std::string bytes;
    for (const auto& e : fs::directory_iterator(dir)) bytes += ReadAll(e.path());
    for (const auto& s : secrets) CHECK(bytes.find(s) == std::string::npos);
    CHECK(bytes.find("visible-credential-id") != std::string::npos);  // the grep sees the data
  }
  std::string bytes;
  for (const auto& e : fs::directory_iterator(dir)) bytes += ReadAll(e.path());
  for (const auto& s : secrets) CHECK(bytes.find(s) == std::string::npos);
  for (const auto& h : hashes) CHECK(bytes.find(h) != std::string::npos);
  CHECK(bytes.find("visible-credential-id") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("reopening keeps passkeys and sessions", "[web][sessions]") {
  const fs::path dir = TempDir("reopen");
  const std::string db = (dir / "web.sqlite").string();
  std::string session_id, link;
  {
    World w(db);
    REQUIRE(w.store->AddPasskey(MakePasskey("cred-A", "Laptop")).ok());
    auto s = w.store->CreateSession("passkey:cred-A");
    REQUIRE(s);
    session_id = s->id;
    auto l = w.store->CreateLink(LinkPurpose::kSignIn);
    REQUIRE(l);
    link = *l;
  }
  {
    World w(db);
    auto list = w.store->ListPasskeys();
    REQUIRE(list);
    REQUIRE(list->size() == 1);
    CHECK((*list)[0].name == "Laptop");
    auto t = w.store->Touch(session_id);
    REQUIRE(t);
    CHECK(t->method == "passkey:cred-A");
    CHECK(w.store->ConsumeLink(link, LinkPurpose::kSignIn).ok());
    REQUIRE(w.store->RevokePasskey("cred-A").ok());
  }
  {
    World w(db);
    CHECK(w.store->ListPasskeys()->empty());
    CheckRefused(w.store->Touch(session_id).status(), StatusCode::kUnauthenticated,
                 web::kSessionUnknown);
    CheckRefused(w.store->ConsumeLink(link, LinkPurpose::kSignIn), StatusCode::kUnauthenticated,
                 web::kLinkUsed);
  }
  fs::remove_all(dir);
}

TEST_CASE("BrowserStore::Open refuses non-positive options and unusable paths", "[web][sessions]") {
  FakeClock clock(kStart);
  SeededRng rng(1);
  Env env{&clock, &rng};
  web::SessionOptions o;
  o.idle_timeout_s = 0;
  CHECK(BrowserStore::Open(":memory:", env, o).error().code() == StatusCode::kInvalidArgument);
  CHECK(BrowserStore::Open("/nonexistent-dir/x/web.sqlite", env).error().code() ==
        StatusCode::kUnavailable);
}

TEST_CASE("BrowserStore is safe to use from several threads", "[web][sessions][threads]") {
  World w;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        auto s = w.store->CreateSession("link");
        if (!s || !w.store->Touch(s->id)) ++failures;
        auto c = w.store->NewChallenge("signin");
        if (!c || !w.store->ConsumeChallenge(*c, "signin").ok()) ++failures;
        if (!w.store->CountSignInAttempt("addr" + std::to_string(t * 1000 + i)).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == 0);
  CHECK(w.store->ListSessions()->size() == 200);
}

TEST_CASE("staff accounts: roles, links, passkeys and sessions bound to an account",
          "[web][sessions][accounts]") {
  World w;
  // Names and roles are checked; a name is never reused.
  CHECK(w.store->AddAccount({"Not Valid!", "pharmacist", "X", 0}).code() ==
        StatusCode::kInvalidArgument);
  CHECK(w.store->AddAccount({"sam", "Pharmacist", "Sam", 0}).code() ==
        StatusCode::kInvalidArgument);
  CHECK(w.store->AddAccount({"sam", "technician", std::string(65, 'x'), 0}).code() ==
        StatusCode::kInvalidArgument);
  REQUIRE(w.store->AddAccount({"sam", "technician", "Sam Okafor", 0}).ok());
  CHECK(w.store->AddAccount({"sam", "pharmacist", "Sam again", 0}).code() ==
        StatusCode::kAlreadyExists);
  auto sam = w.store->GetAccount("sam");
  REQUIRE(sam);
  CHECK(sam->role == "technician");
  CHECK(sam->display_name == "Sam Okafor");
  CheckRefused(w.store->GetAccount("nobody").status(), StatusCode::kNotFound,
               web::kAccountUnknown);

  // A link names its account; so does the registration challenge begun with it.
  CHECK(w.store->CreateLink(LinkPurpose::kRegisterPasskey, "nobody").status().code() ==
        StatusCode::kNotFound);
  auto link = w.store->CreateLink(LinkPurpose::kRegisterPasskey, "sam");
  REQUIRE(link);
  auto account = w.store->ConsumeLinkFor(*link, LinkPurpose::kRegisterPasskey);
  REQUIRE(account);
  CHECK(*account == "sam");
  auto challenge = w.store->NewChallenge("register-link", "sam");
  REQUIRE(challenge);
  auto for_account = w.store->ConsumeChallengeFor(*challenge, "register-link");
  REQUIRE(for_account);
  CHECK(*for_account == "sam");

  web::Passkey p = MakePasskey("cred-sam", "Counter PC");
  p.account = "sam";
  REQUIRE(w.store->AddPasskey(p).ok());
  web::Passkey owner = MakePasskey("cred-owner", "Owner");
  REQUIRE(w.store->AddPasskey(owner).ok());
  CHECK(w.store->ListPasskeys("sam")->size() == 1);
  CHECK(w.store->ListPasskeys("")->size() == 1);
  CHECK(w.store->GetPasskey("cred-sam")->account == "sam");

  auto session = w.store->CreateSession("passkey:cred-sam", "sam");
  REQUIRE(session);
  CHECK(w.store->Touch(session->id)->account == "sam");
  CHECK(w.store->CreateSession("passkey:x", "nobody").status().code() == StatusCode::kNotFound);

  // Removing the account ends its sessions, revokes its passkeys, and its unused links die.
  auto spare = w.store->CreateLink(LinkPurpose::kRegisterPasskey, "sam");
  REQUIRE(spare);
  REQUIRE(w.store->RemoveAccount("sam").ok());
  CheckRefused(w.store->Touch(session->id).status(), StatusCode::kUnauthenticated,
               web::kSessionUnknown);
  CheckRefused(w.store->GetPasskey("cred-sam").status(), StatusCode::kNotFound,
               web::kPasskeyUnknown);
  CHECK(w.store->ConsumeLink(*spare, LinkPurpose::kRegisterPasskey).reason() == web::kLinkUsed);
  CHECK(w.store->ListAccounts()->empty());
  CHECK(w.store->AddAccount({"sam", "technician", "Sam", 0}).code() ==
        StatusCode::kAlreadyExists);
  // The owner's passkey is untouched.
  CHECK(static_cast<bool>(w.store->GetPasskey("cred-owner")));
}
