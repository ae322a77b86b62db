// Wallet benchmarks: HD derivations per second and EdDSA / ES256K sign and verify, each next
// to the raw libsodium / libsecp256k1 call it wraps, plus the raw SHA-256 rate.
#include <benchmark/benchmark.h>
#include <secp256k1.h>
#include <sodium.h>

#include "medallion/core/encoding.h"
#include "medallion/core/hash.h"
#include "medallion/wallet/bip39.h"
#include "medallion/wallet/hd_key.h"
#include "medallion/wallet/keys.h"

using namespace medallion;
using namespace medallion::wallet;

namespace {

Bytes Seed() { return *HexDecode(std::string(128, 'a')); }
const Bytes kMessage(256, 0x42);

void BM_Bip32HardenedChild(benchmark::State& state) {
  auto master = *MasterKeyFromSeed(Curve::kSecp256k1, Seed());
  uint32_t i = 0;
  for (auto _ : state)
    benchmark::DoNotOptimize(DeriveChild(master, kHardened | (i++ & 0x7fffffff)));
}
BENCHMARK(BM_Bip32HardenedChild);

void BM_Bip32PublicChild(benchmark::State& state) {
  auto pub = MasterKeyFromSeed(Curve::kSecp256k1, Seed())->Neutered();
  uint32_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(DeriveChild(pub, i++ & 0x7fffffff));
}
BENCHMARK(BM_Bip32PublicChild);

void BM_Slip10Ed25519Child(benchmark::State& state) {
  auto master = *MasterKeyFromSeed(Curve::kEd25519, Seed());
  uint32_t i = 0;
  for (auto _ : state)
    benchmark::DoNotOptimize(DeriveChild(master, kHardened | (i++ & 0x7fffffff)));
}
BENCHMARK(BM_Slip10Ed25519Child);

// A whole purpose key from the seed: master + 4 hardened levels.
void BM_PurposeKeyFromSeed(benchmark::State& state) {
  const Bytes seed = Seed();
  const std::string path = PurposeKeyPath(0, KeyPurpose::kAssertion, 0);
  for (auto _ : state) benchmark::DoNotOptimize(DeriveSigningKey(seed, SignatureAlg::kEdDSA, path));
}
BENCHMARK(BM_PurposeKeyFromSeed);

void BM_Bip39Seed(benchmark::State& state) {
  const std::string m =
      "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
      "about";
  for (auto _ : state) benchmark::DoNotOptimize(bip39::MnemonicToSeed(m, "TREZOR"));
}
BENCHMARK(BM_Bip39Seed)->Unit(benchmark::kMillisecond);

SigningKey Key(SignatureAlg alg) {
  return *DeriveSigningKey(
      Seed(), alg,
      PurposeKeyPath(0, alg == SignatureAlg::kEdDSA ? KeyPurpose::kAssertion : KeyPurpose::kEs256k,
                     0));
}

void BM_EdDSASign(benchmark::State& state) {
  SigningKey k = Key(SignatureAlg::kEdDSA);
  for (auto _ : state) benchmark::DoNotOptimize(Sign(k, kMessage));
}
BENCHMARK(BM_EdDSASign);

void BM_EdDSAVerify(benchmark::State& state) {
  SigningKey k = Key(SignatureAlg::kEdDSA);
  Bytes sig = *Sign(k, kMessage);
  for (auto _ : state)
    benchmark::DoNotOptimize(Verify(SignatureAlg::kEdDSA, k.public_key, kMessage, sig));
}
BENCHMARK(BM_EdDSAVerify);

void BM_RawSodiumSign(benchmark::State& state) {
  unsigned char pk[32], sk[64], sig[64];
  SigningKey k = Key(SignatureAlg::kEdDSA);
  crypto_sign_seed_keypair(pk, sk, k.private_key.Reveal().data());
  for (auto _ : state) {
    crypto_sign_detached(sig, nullptr, kMessage.data(), kMessage.size(), sk);
    benchmark::DoNotOptimize(sig);
  }
}
BENCHMARK(BM_RawSodiumSign);

void BM_RawSodiumVerify(benchmark::State& state) {
  unsigned char pk[32], sk[64], sig[64];
  SigningKey k = Key(SignatureAlg::kEdDSA);
  crypto_sign_seed_keypair(pk, sk, k.private_key.Reveal().data());
  crypto_sign_detached(sig, nullptr, kMessage.data(), kMessage.size(), sk);
  for (auto _ : state)
    benchmark::DoNotOptimize(
        crypto_sign_verify_detached(sig, kMessage.data(), kMessage.size(), pk));
}
BENCHMARK(BM_RawSodiumVerify);

void BM_ES256KSign(benchmark::State& state) {
  SigningKey k = Key(SignatureAlg::kES256K);
  for (auto _ : state) benchmark::DoNotOptimize(Sign(k, kMessage));
}
BENCHMARK(BM_ES256KSign);

void BM_ES256KVerify(benchmark::State& state) {
  SigningKey k = Key(SignatureAlg::kES256K);
  Bytes sig = *Sign(k, kMessage);
  for (auto _ : state)
    benchmark::DoNotOptimize(Verify(SignatureAlg::kES256K, k.public_key, kMessage, sig));
}
BENCHMARK(BM_ES256KVerify);

// The raw libsecp256k1 calls on a precomputed SHA-256 digest and parsed key/signature.
void BM_RawSecp256k1Sign(benchmark::State& state) {
  secp256k1_context* ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
  SigningKey k = Key(SignatureAlg::kES256K);
  Hash256 digest = Sha256(kMessage);
  secp256k1_ecdsa_signature sig;
  for (auto _ : state) {
    secp256k1_ecdsa_sign(ctx, &sig, digest.data(), k.private_key.Reveal().data(), nullptr, nullptr);
    benchmark::DoNotOptimize(sig);
  }
  secp256k1_context_destroy(ctx);
}
BENCHMARK(BM_RawSecp256k1Sign);

void BM_RawSecp256k1Verify(benchmark::State& state) {
  secp256k1_context* ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
  SigningKey k = Key(SignatureAlg::kES256K);
  Hash256 digest = Sha256(kMessage);
  secp256k1_ecdsa_signature sig;
  secp256k1_ecdsa_sign(ctx, &sig, digest.data(), k.private_key.Reveal().data(), nullptr, nullptr);
  secp256k1_pubkey pk;
  if (secp256k1_ec_pubkey_parse(ctx, &pk, k.public_key.data(), k.public_key.size()) != 1)
    state.SkipWithError("parse");
  for (auto _ : state)
    benchmark::DoNotOptimize(secp256k1_ecdsa_verify(ctx, &sig, digest.data(), &pk));
  secp256k1_context_destroy(ctx);
}
BENCHMARK(BM_RawSecp256k1Verify);

// One SecretBytes allocation: sodium_malloc maps guard pages and mlocks; derivations make several.
void BM_SecretBytesAlloc(benchmark::State& state) {
  for (auto _ : state) {
    SecretBytes s(32);
    benchmark::DoNotOptimize(s.Reveal().data());
  }
}
BENCHMARK(BM_SecretBytesAlloc);

void BM_Sha256(benchmark::State& state) {
  Bytes data(static_cast<size_t>(state.range(0)), 0x5a);
  for (auto _ : state) benchmark::DoNotOptimize(Sha256(data));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Sha256)->Arg(64)->Arg(4096);

}  // namespace

BENCHMARK_MAIN();
