// Env: fake clock and seeded RNG are deterministic; Uniform is in range.
#include <catch2/catch.hpp>

#include "medallion/core/encoding.h"
#include "medallion/core/env.h"

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
