// Env: fake clock and seeded RNG are deterministic; Uniform is in range. Secret containers:
// SecretString moves leave nothing behind, ScopedWipe wipes on every exit path.
#include <catch2/catch.hpp>

#include "medallion/core/encoding.h"
#include "medallion/core/env.h"
#include "medallion/core/secret.h"

#include <algorithm>
#include <array>
#include <set>
#include <string>
#include <vector>

using namespace medallion;

TEST_CASE("FakeClock moves only when told", "[core][env]") {
  FakeClock clock(1000);
  CHECK(clock.NowMillis() == 1000);
  clock.Advance(2500);
  CHECK(clock.NowSeconds() == 3);
  clock.Set(0);
  CHECK(clock.NowMillis() == 0);
  SystemClock sys;
  CHECK(sys.NowSeconds() > 1'700'000'000);
}

TEST_CASE("SeededRng is reproducible and never repeats a block", "[core][env]") {
  SeededRng a(99), b(99), c(100);
  Bytes x = a.RandomBytes(64), y = b.RandomBytes(64), z = c.RandomBytes(64);
  CHECK(x == y);
  CHECK(x != z);
  CHECK(a.RandomBytes(64) != x);
  for (int i = 0; i < 1000; ++i) {
    uint32_t v = a.Uniform(7);
    REQUIRE(v < 7);
  }
  SystemRng sys;
  CHECK(sys.RandomBytes(32) != sys.RandomBytes(32));
}

// Issue 12: about 1 base64url id in 64 began with '-', and a command line read it as an option.
TEST_CASE("RandomId never begins with '-' and stays base64url of n bytes", "[core][env]") {
  SeededRng rng(7);
  std::set<std::string> seen;
  size_t first_underscore = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string id = rng.RandomId(16);
    REQUIRE(id.size() == 22);  // 16 bytes, unpadded
    REQUIRE(id[0] != '-');
    REQUIRE(
        id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
        std::string::npos);
    auto bytes = Base64UrlDecode(id);
    REQUIRE(bytes);
    CHECK(bytes->size() == 16);
    seen.insert(id);
    if (id[0] == '_') ++first_underscore;
  }
  CHECK(seen.size() == 20000);
  // The other 63 first characters keep their share (1/63 each, ~317 of 20,000 for '_').
  CHECK(first_underscore > 200);
  CHECK(first_underscore < 450);
}

TEST_CASE("SecretString moves and wipes", "[core][secret]") {
  // Short (in-object, SSO) and long (heap) strings take different paths through a move.
  for (const std::string& text : {std::string("short"), std::string(200, 'x')}) {
    INFO(text.size());
    std::string source = text;
    SecretString a(std::move(source));
    CHECK(source.empty());
    CHECK(a.Reveal() == text);
    SecretString b(std::move(a));
    CHECK(a.empty());
    CHECK(b.Reveal() == text);
    SecretString c;
    c = std::move(b);
    CHECK(b.empty());
    CHECK(c.Reveal() == text);
  }
  std::string s = "passphrase";
  s.reserve(100);
  const size_t capacity = s.capacity();
  SecretString::WipeString(s);
  CHECK(s.empty());
  CHECK(s.capacity() == capacity);  // wiped in place, not reallocated
  s.resize(capacity);
  CHECK(std::all_of(s.begin(), s.end(), [](char ch) { return ch == '\0'; }));
}

TEST_CASE("ScopedWipe wipes on every exit path", "[core][secret]") {
  std::array<uint8_t, 8> a;
  std::vector<uint32_t> v(4, 0xffffffffu);
  auto fill_and_leave = [&](bool early) {
    ScopedWipe wipe_a(a);
    ScopedWipe wipe_v(v);
    a.fill(0xaa);
    if (early) return 1;
    return 2;
  };
  CHECK(fill_and_leave(true) == 1);
  CHECK(std::all_of(a.begin(), a.end(), [](uint8_t b) { return b == 0; }));
  CHECK(std::all_of(v.begin(), v.end(), [](uint32_t w) { return w == 0; }));
  v.assign(4, 0xffffffffu);
  CHECK(fill_and_leave(false) == 2);
  CHECK(std::all_of(a.begin(), a.end(), [](uint8_t b) { return b == 0; }));
  CHECK(std::all_of(v.begin(), v.end(), [](uint32_t w) { return w == 0; }));
}
