// Keccak-256 written to FIPS 202 (§3.2 step mappings θ ρ π χ ι, §3.3 Keccak-p[1600, 24]) with
// the original Keccak submission's padding (multi-rate pad10*1, first byte 0x01).
#include "medallion/chain/keccak.h"

#include <cstring>

namespace medallion::chain {
namespace {

constexpr uint64_t kRoundConstants[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL};

// ρ offsets and π positions in the order the lanes are visited (lane 1, then π of it, ...).
constexpr int kRho[24] = {1,  3,  6,  10, 15, 21, 28, 36, 45, 55, 2,  14,
                          27, 41, 56, 8,  25, 43, 62, 18, 39, 61, 20, 44};
constexpr int kPi[24] = {10, 7,  11, 17, 18, 3, 5,  16, 8,  21, 24, 4,
                         15, 23, 19, 13, 12, 2, 20, 14, 22, 9,  6,  1};

inline uint64_t Rotl(uint64_t x, int n) { return (x << n) | (x >> (64 - n)); }

// Keccak-f[1600]: 24 rounds over 25 lanes, lane (x, y) at index x + 5y.
void KeccakF1600(uint64_t a[25]) {
  for (int round = 0; round < 24; ++round) {
    uint64_t c[5];
    for (int x = 0; x < 5; ++x) c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
    for (int x = 0; x < 5; ++x) {
      const uint64_t d = c[(x + 4) % 5] ^ Rotl(c[(x + 1) % 5], 1);
      for (int y = 0; y < 25; y += 5) a[y + x] ^= d;
    }
    uint64_t current = a[1];
    for (int i = 0; i < 24; ++i) {
      const int j = kPi[i];
      const uint64_t next = a[j];
      a[j] = Rotl(current, kRho[i]);
      current = next;
    }
    for (int y = 0; y < 25; y += 5) {
      uint64_t row[5];
      for (int x = 0; x < 5; ++x) row[x] = a[y + x];
      for (int x = 0; x < 5; ++x) a[y + x] = row[x] ^ (~row[(x + 1) % 5] & row[(x + 2) % 5]);
    }
    a[0] ^= kRoundConstants[round];
  }
}

uint64_t LoadLe64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

Hash32 Keccak256(ByteView data) {
  constexpr size_t kRate = 136;  // (1600 - 2 * 256) / 8
  uint64_t state[25] = {};
  size_t offset = 0;
  while (data.size() - offset >= kRate) {
    for (size_t i = 0; i < kRate / 8; ++i) state[i] ^= LoadLe64(data.data() + offset + 8 * i);
    KeccakF1600(state);
    offset += kRate;
  }
  uint8_t block[kRate] = {};
  const size_t rest = data.size() - offset;
  if (rest > 0) std::memcpy(block, data.data() + offset, rest);
  block[rest] ^= 0x01;       // Keccak padding (SHA-3 would use 0x06)
  block[kRate - 1] ^= 0x80;  // the final 1 of pad10*1
  for (size_t i = 0; i < kRate / 8; ++i) state[i] ^= LoadLe64(block + 8 * i);
  KeccakF1600(state);
  Hash32 out;
  for (size_t i = 0; i < 32; ++i) out[i] = static_cast<uint8_t>(state[i / 8] >> (8 * (i % 8)));
  return out;
}

}  // namespace medallion::chain
