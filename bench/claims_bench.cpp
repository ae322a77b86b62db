// Credential benchmarks (issue 12): issue and verify per second for each securing format of the
// claims module — Data Integrity eddsa-jcs-2022, VC-JOSE vc+jwt (EdDSA), SD-JWT VC (EdDSA, two
// selectively disclosable claims, no key binding) — next to the raw libsodium Ed25519 sign and
// verify each of them is built on. bench/claims_bench.mjs measures the same with the npm
// implementations; bench/run_claims.sh runs both and prints the ratios (docs/benchmarks.md).
//
// Verification resolves the issuer's did:key through did::Resolver on every call (no cache),
// as a verifier seeing the credential for the first time does; the npm side does the same.
#include <benchmark/benchmark.h>
#include <sodium.h>

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

#include "medallion/claims/credentials.h"
#include "medallion/claims/data_integrity.h"
#include "medallion/claims/jose.h"
#include "medallion/claims/sd_jwt.h"
#include "medallion/claims/signer.h"
#include "medallion/core/env.h"
#include "medallion/did/did_key.h"
#include "medallion/did/resolver.h"
#include "medallion/wallet/keys.h"

using namespace medallion;
using nlohmann::json;

namespace {

// The message size of a Data Integrity eddsa-jcs-2022 signature: two SHA-256 hashes.
constexpr size_t kRawMessageBytes = 64;

struct Fixture {
  claims::Signer signer;
  std::string did;
  json credential;  // unsigned
  did::Resolver resolver;
  FakeClock clock{1'780'000'000'000};
  SeededRng rng{42};
  Env env{&clock, &rng};

  Fixture() {
    Bytes seed(32, 7);
    auto key = *wallet::MakeSigningKey(wallet::SignatureAlg::kEdDSA, seed);
    const std::string multikey =
        *did::MultikeyFromPublicKey(did::KeyType::kEd25519, key.public_key);
    did = "did:key:" + multikey;
    signer = claims::WalletSigner(std::make_shared<const wallet::SigningKey>(std::move(key)),
                                  did + "#" + multikey);
    credential = {{"@context", json::array({claims::kVcContextV2})},
                  {"id", "urn:uuid:2c3f5a1e-8d0b-4c7e-9a3f-6b1d2e4f5a6b"},
                  {"type", json::array({"VerifiableCredential"})},
                  {"issuer", did},
                  {"validFrom", "2026-01-01T00:00:00Z"},
                  {"credentialSubject",
                   {{"id", "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"},
                    {"name", "Alice Example"},
                    {"degree", {{"type", "BachelorDegree"}, {"name", "Bachelor of Science"}}}}}};
  }
};

Fixture& F() {
  static Fixture f;
  return f;
}

void BM_RawEd25519Sign(benchmark::State& state) {
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES],
      sig[crypto_sign_BYTES];
  crypto_sign_keypair(pk, sk);
  const Bytes msg(kRawMessageBytes, 0x42);
  for (auto _ : state) {
    crypto_sign_detached(sig, nullptr, msg.data(), msg.size(), sk);
    benchmark::DoNotOptimize(sig);
  }
}
BENCHMARK(BM_RawEd25519Sign);

void BM_RawEd25519Verify(benchmark::State& state) {
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES],
      sig[crypto_sign_BYTES];
  crypto_sign_keypair(pk, sk);
  const Bytes msg(kRawMessageBytes, 0x42);
  crypto_sign_detached(sig, nullptr, msg.data(), msg.size(), sk);
  for (auto _ : state) {
    int r = crypto_sign_verify_detached(sig, msg.data(), msg.size(), pk);
    if (r != 0) state.SkipWithError("raw verify failed");
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_RawEd25519Verify);

// What every verification below pays besides the signature: dereferencing the issuer's did:key
// verification method under assertionMethod (parse, point checks, the DID document).
void BM_DidKeyDereference(benchmark::State& state) {
  Fixture& f = F();
  for (auto _ : state) {
    auto r = f.resolver.DereferenceMethod(f.signer.verification_method,
                                          did::Relationship::kAssertionMethod);
    if (!r) state.SkipWithError("DereferenceMethod failed");
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_DidKeyDereference);

// The same without the resolver's cache of did:key documents (a DID seen for the first time).
void BM_DidKeyDereferenceUncached(benchmark::State& state) {
  Fixture& f = F();
  did::Resolver uncached;
  uncached.Register(did::MakeDidKeyResolver(0));
  for (auto _ : state) {
    auto r = uncached.DereferenceMethod(f.signer.verification_method,
                                        did::Relationship::kAssertionMethod);
    if (!r) state.SkipWithError("DereferenceMethod failed");
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_DidKeyDereferenceUncached);

void BM_DiIssue(benchmark::State& state) {
  Fixture& f = F();
  claims::ProofOptions po;
  po.created = "2026-06-01T00:00:00Z";
  for (auto _ : state) {
    auto r = claims::AddProof(f.credential, f.signer, po);
    if (!r) state.SkipWithError("AddProof failed");
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_DiIssue);

void BM_DiVerify(benchmark::State& state) {
  Fixture& f = F();
  claims::ProofOptions po;
  po.created = "2026-06-01T00:00:00Z";
  const json secured = *claims::AddProof(f.credential, f.signer, po);
  claims::ProofCheckOptions co;
  for (auto _ : state) {
    auto r = claims::VerifyProofs(secured, f.resolver, co);
    if (!r) state.SkipWithError("VerifyProofs failed");
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_DiVerify);

void BM_JwtIssue(benchmark::State& state) {
  Fixture& f = F();
  claims::JwtSignOptions jo;
  jo.issued_at = 1'780'000'000;
  for (auto _ : state) {
    auto r = claims::SignJwt(claims::JwtKind::kCredential, f.credential, f.signer, jo);
    if (!r) state.SkipWithError("SignJwt failed");
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_JwtIssue);

void BM_JwtVerify(benchmark::State& state) {
  Fixture& f = F();
  claims::JwtSignOptions jo;
  jo.issued_at = 1'780'000'000;
  const std::string token =
      *claims::SignJwt(claims::JwtKind::kCredential, f.credential, f.signer, jo);
  claims::JwtCheckOptions co;
  co.now = 1'780'000'100;
  for (auto _ : state) {
    auto r = claims::VerifyJwt(claims::JwtKind::kCredential, token, f.resolver, co);
    if (!r) state.SkipWithError("VerifyJwt failed");
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_JwtVerify);

json SdPayload() {
  json p = F().credential;
  p.erase("issuer");
  p["vct"] = "https://example.org/degree";
  return p;
}

claims::SdJwtIssueOptions SdOptions() {
  claims::SdJwtIssueOptions so;
  so.disclosable = {"/credentialSubject/name", "/credentialSubject/degree"};
  return so;
}

void BM_SdJwtIssue(benchmark::State& state) {
  Fixture& f = F();
  const json payload = SdPayload();
  const claims::SdJwtIssueOptions so = SdOptions();
  for (auto _ : state) {
    auto r = claims::IssueSdJwt(payload, f.signer, so, f.env);
    if (!r) state.SkipWithError("IssueSdJwt failed");
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_SdJwtIssue);

void BM_SdJwtVerify(benchmark::State& state) {
  Fixture& f = F();
  const std::string token = *claims::IssueSdJwt(SdPayload(), f.signer, SdOptions(), f.env);
  claims::SdJwtVerifyOptions vo;
  vo.require_key_binding = false;
  for (auto _ : state) {
    auto r = claims::VerifySdJwt(token, f.resolver, vo, f.clock);
    if (!r) state.SkipWithError("VerifySdJwt failed");
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_SdJwtVerify);

}  // namespace

int main(int argc, char** argv) {
  if (sodium_init() < 0) return 1;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
