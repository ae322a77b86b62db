// System and deterministic clocks and RNGs.
#include "medallion/core/env.h"

#include <sodium.h>

#include <chrono>
#include <cstring>

#include "medallion/core/encoding.h"
#include "medallion/core/hash.h"
#include "medallion/core/status.h"

namespace medallion {

int64_t SystemClock::NowMillis() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

uint32_t Rng::Uniform(uint32_t upper_bound) {
  MDL_CHECK(upper_bound > 0);
  // Rejection sampling: discard values in the final partial range.
  const uint32_t limit = UINT32_MAX - (UINT32_MAX % upper_bound);
  for (;;) {
    uint8_t buf[4];
    Fill(buf);
    uint32_t v =
        (uint32_t{buf[0]} << 24) | (uint32_t{buf[1]} << 16) | (uint32_t{buf[2]} << 8) | buf[3];
    if (v < limit) return v % upper_bound;
  }
}

void SystemRng::Fill(std::span<uint8_t> out) {
  if (sodium_init() < 0) Panic("sodium_init failed");
  randombytes_buf(out.data(), out.size());
}

SeededRng::SeededRng(uint64_t seed) {
  uint8_t s[8];
  for (int i = 0; i < 8; ++i) s[i] = static_cast<uint8_t>(seed >> (8 * i));
  Hash256 k = Sha256(ByteView(s, 8));
  std::memcpy(key_, k.data(), 32);
}

SeededRng::SeededRng(ByteView seed32) {
  MDL_CHECK(seed32.size() == 32);
  std::memcpy(key_, seed32.data(), 32);
}

void SeededRng::Fill(std::span<uint8_t> out) {
  std::lock_guard<std::mutex> lock(mu_);
  // ChaCha20 (IETF) keystream with the block counter continuing across calls; each call
  // uses a fresh nonce derived from the call counter so output never repeats.
  uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = {0};
  for (int i = 0; i < 8; ++i) nonce[i] = static_cast<uint8_t>(counter_ >> (8 * i));
  ++counter_;
  // An empty span may have a null data(): memset(nullptr, 0, 0) is undefined behaviour.
  if (out.empty()) return;
  std::memset(out.data(), 0, out.size());
  crypto_stream_chacha20_ietf_xor(out.data(), out.data(), out.size(), nonce, key_);
}

Env DefaultEnv() {
  static SystemClock clock;
  static SystemRng rng;
  return Env{&clock, &rng};
}

std::string Rng::RandomId(size_t n) {
  for (;;) {
    std::string id = Base64UrlEncode(RandomBytes(n));
    if (!id.empty() && id[0] != '-') return id;
  }
}

}  // namespace medallion
