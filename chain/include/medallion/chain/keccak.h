// Keccak-256 as Ethereum uses it: the Keccak[r=1088, c=512] sponge with the original Keccak
// padding (pad10*1 starting with 0x01), not FIPS 202 SHA3-256 (whose domain bits make it start
// with 0x06). The permutation is Keccak-f[1600] of FIPS 202 §3.
#pragma once

#include <array>
#include <cstdint>

#include "medallion/core/bytes.h"

namespace medallion::chain {

inline constexpr size_t kKeccak256Bytes = 32;
using Hash32 = std::array<uint8_t, 32>;

// keccak256(data). Thread-safe; not constant time in the length only.
Hash32 Keccak256(ByteView data);

}  // namespace medallion::chain
