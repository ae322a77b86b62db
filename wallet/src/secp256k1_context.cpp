// A single randomized libsecp256k1 context for signing and verification.
#include "secp256k1_context.h"

#include <sodium.h>

#include "medallion/core/status.h"

namespace medallion::wallet {

const secp256k1_context* Secp256k1Context() {
  static const secp256k1_context* ctx = [] {
    secp256k1_context* c = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (c == nullptr) Panic("secp256k1_context_create failed");
    unsigned char seed[32];
    if (sodium_init() < 0) Panic("sodium_init failed");
    randombytes_buf(seed, sizeof seed);
    // Side-channel blinding (secp256k1.h: secp256k1_context_randomize).
    if (secp256k1_context_randomize(c, seed) != 1) Panic("secp256k1_context_randomize failed");
    sodium_memzero(seed, sizeof seed);
    return c;
  }();
  return ctx;
}

}  // namespace medallion::wallet
