// The process-wide libsecp256k1 context (randomized once; the library's contexts are
// read-only after creation and safe to share between threads).
#pragma once

#include <secp256k1.h>

namespace medallion::wallet {
const secp256k1_context* Secp256k1Context();
}  // namespace medallion::wallet
