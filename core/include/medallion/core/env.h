// Env: the clock and randomness every module receives as constructor arguments.
//
// Production uses SystemClock and SystemRng; tests use FakeClock and SeededRng so that
// expiry, tickets and nonces are reproducible. Nothing in Medallion reads a global clock
// or RNG.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

#include "medallion/core/bytes.h"
#include "medallion/core/secret.h"

namespace medallion {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch. Thread-safe.
  virtual int64_t NowMillis() const = 0;
  int64_t NowSeconds() const { return NowMillis() / 1000; }
};

class SystemClock final : public Clock {
 public:
  int64_t NowMillis() const override;
};

// A clock that moves only when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_millis) : now_(start_millis) {}
  int64_t NowMillis() const override { return now_.load(); }
  void Set(int64_t millis) { now_.store(millis); }
  void Advance(int64_t millis) { now_.fetch_add(millis); }

 private:
  std::atomic<int64_t> now_;
};

class Rng {
 public:
  virtual ~Rng() = default;
  // Fills `out` with random bytes. Thread-safe.
  virtual void Fill(std::span<uint8_t> out) = 0;
  Bytes RandomBytes(size_t n) {
    Bytes b(n);
    Fill(b);
    return b;
  }
  // An identifier of `n` random bytes in base64url (no padding) that never begins with '-', so
  // that no command line reads it as an option: a draw that would is drawn again (uniform over
  // the remaining ids). Used for every id a person or a script may pass as an argument.
  std::string RandomId(size_t n);
  SecretBytes RandomSecret(size_t n) {
    SecretBytes s(n);
    Fill(s.RevealMutable());
    return s;
  }
  // Uniform in [0, upper_bound) without modulo bias. REQUIRES: upper_bound > 0.
  uint32_t Uniform(uint32_t upper_bound);
};

// The operating system's CSPRNG (libsodium randombytes_buf).
class SystemRng final : public Rng {
 public:
  void Fill(std::span<uint8_t> out) override;
};

// Deterministic ChaCha20 keystream from a 32-byte seed: for tests and reproducible demos only.
class SeededRng final : public Rng {
 public:
  explicit SeededRng(uint64_t seed);
  explicit SeededRng(ByteView seed32);
  void Fill(std::span<uint8_t> out) override;

 private:
  std::mutex mu_;
  uint8_t key_[32];
  uint64_t counter_ = 0;
};

struct Env {
  const Clock* clock;
  Rng* rng;
};

// The process-wide production Env (SystemClock + SystemRng). Only main() should call this;
// everything below it takes an Env.
Env DefaultEnv();

}  // namespace medallion
