// What the HTTP load programs share (bench/uma_http_load.cpp, bench/host_load.cpp): an Ed25519
// did:key party from a fixed seed and the wall clock in seconds. A benchmark: keys live in
// ordinary memory.
#pragma once

#include <sodium.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "medallion/claims/jose.h"
#include "medallion/core/bytes.h"
#include "medallion/did/did_key.h"

namespace medallion::bench {

struct Party {
  Bytes pk = Bytes(32);
  Bytes sk = Bytes(64);
  // The key pair of a 32-byte seed.
  explicit Party(ByteView seed) { crypto_sign_seed_keypair(pk.data(), sk.data(), seed.data()); }
  // The seed 32 times `b`.
  explicit Party(uint8_t b) : Party(Bytes(32, b)) {}
  // The seed BLAKE2b-256 of `label`.
  static Party FromLabel(const std::string& label) {
    Bytes seed(32);
    crypto_generichash(seed.data(), seed.size(), reinterpret_cast<const uint8_t*>(label.data()),
                       label.size(), nullptr, 0);
    return Party(ByteView(seed));
  }
  std::string Multikey() const { return *did::MultikeyFromPublicKey(did::KeyType::kEd25519, pk); }
  std::string Did() const { return "did:key:" + Multikey(); }
  claims::Signer Signer() const {
    claims::Signer s;
    s.alg = claims::Alg::kEdDSA;
    s.verification_method = Did() + "#" + Multikey();
    s.public_key = pk;
    s.sign = [key = sk](ByteView m) -> Result<Bytes> {
      Bytes sig(64);
      crypto_sign_detached(sig.data(), nullptr, m.data(), m.size(), key.data());
      return sig;
    };
    return s;
  }
};

inline int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace medallion::bench
