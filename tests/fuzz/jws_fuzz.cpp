// Fuzz target: compact JWS / JWT verification (claims/jose.h): VC-JOSE credentials (vc+jwt),
// presentations (vp+jwt) and DID authentication tokens (did-auth+jwt). The raw input is verified
// as each kind; then, so that inputs get past the signature, the input is signed by a fixed
// did:key (EdDSA or ES256K) — as the payload under a well-formed header, or with a fuzzed header
// (the part before the first newline) — and verified, reaching the header, claim, time, issuer
// and credential checks. "$DID" and "$VM" in the signed parts stand for the signer's DID and
// verification method.
#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "medallion/claims/jose.h"
#include "medallion/did/resolver.h"

using namespace medallion;
using namespace medallion::claims;

namespace {

struct Fixture {
  did::Resolver resolver;
  Signer ed = fuzz::TestSigner(Alg::kEdDSA, 0x11);
  Signer k1 = fuzz::TestSigner(Alg::kES256K, 0x12);
};

constexpr JwtKind kKinds[] = {JwtKind::kCredential, JwtKind::kPresentation, JwtKind::kDidAuth};
constexpr std::string_view kTyps[] = {kVcJwtType, kVpJwtType, kDidAuthJwtType};

void VerifyAll(const Fixture& f, std::string_view jws, JwtKind only, bool all) {
  JwtCheckOptions o;
  o.now = fuzz::kNowSeconds;
  for (JwtKind kind : kKinds) {
    if (!all && kind != only) continue;
    VerifiedJwt info;
    (void)VerifyJwt(kind, jws, f.resolver, o, &info);
    JwtCheckOptions strict = o;
    strict.expected_audience = "https://pharmacy.example";
    strict.expected_nonce = "n-0S6_WzA2Mj";
    (void)VerifyJwt(kind, jws, f.resolver, strict, nullptr);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Fixture* f = new Fixture();  // process lifetime
  const std::string_view text = fuzz::AsView(data, size);
  VerifyAll(*f, text, JwtKind::kCredential, true);
  if (size == 0) return 0;

  const uint8_t mode = data[0];
  const std::string_view rest = text.substr(1);
  const size_t k = mode % 3;
  const Signer& signer = (mode & 0x04) ? f->k1 : f->ed;
  std::string header;
  std::string_view payload = rest;
  if (mode & 0x08) {
    const size_t nl = rest.find('\n');
    header = std::string(rest.substr(0, nl));
    payload = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  } else {
    header = nlohmann::json{{"alg", AlgName(signer.alg)},
                            {"kid", signer.verification_method},
                            {"typ", kTyps[k]}}
                 .dump();
  }
  VerifyAll(*f, fuzz::SignCompact(signer, fuzz::WithKeys(header, signer), fuzz::WithKeys(payload, signer)),
            kKinds[k], false);
  return 0;
}
