// Fuzz target: SD-JWT VC with key binding (claims/sd_jwt.h). The raw input is verified as an
// SD-JWT(+KB) (with and without required key binding), inspected as a holder would, its
// '~'-separated parts decoded as disclosures, and read as a holder JWK. Then an SD-JWT is built
// from the input so that it passes the signatures: parts split at '~' — the issuer payload (JSON),
// disclosures (their JSON, base64url-encoded here) and, with a mode bit, a KB-JWT payload — the
// payload gets the disclosures' digests in `_sd` and the holder's `cnf.jwk`, the KB payload the
// right `sd_hash`; the issuer (did:key) and holder sign. Verification then reaches the disclosure
// processing, time, vct and key-binding checks. "$DID" in the payload stands for the issuer's DID.
#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "medallion/claims/sd_jwt.h"
#include "medallion/core/hash.h"
#include "medallion/core/json.h"
#include "medallion/did/resolver.h"

using namespace medallion;
using namespace medallion::claims;
using nlohmann::json;

namespace {

struct Fixture {
  FakeClock clock{fuzz::kNowSeconds * 1000};
  did::Resolver resolver;
  Signer issuer = fuzz::TestSigner(Alg::kEdDSA, 0x31);
  Signer issuer_k1 = fuzz::TestSigner(Alg::kES256K, 0x32);
  Signer holder = fuzz::TestSigner(Alg::kEdDSA, 0x33);
};

void VerifyAll(const Fixture& f, std::string_view token) {
  SdJwtVerifyOptions o;
  o.expected_audience = "https://pharmacy.example";
  o.expected_nonce = "n-0S6_WzA2Mj";
  (void)VerifySdJwt(token, f.resolver, o, f.clock);
  o.require_key_binding = false;
  o.expected_typ = "";
  (void)VerifySdJwt(token, f.resolver, o, f.clock);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Fixture* f = new Fixture();  // process lifetime
  const std::string_view text = fuzz::AsView(data, size);
  VerifyAll(*f, text);
  if (auto view = InspectSdJwt(text)) (void)view->disclosable.size();
  const auto parts = fuzz::Split(text, "~");
  for (const auto& p : parts) {
    if (auto d = DecodeDisclosure(p)) (void)DisclosureDigest(p);
  }
  if (auto jwk = ParseJson(text)) {
    if (auto key = HolderKeyFromJwk(*jwk)) {
      MDL_FUZZ_CHECK(PublicJwkJson(key->alg, key->public_key).has_value());
    }
  }
  if (size == 0) return 0;

  // Built and signed from the input.
  const uint8_t mode = data[0];
  const auto built = fuzz::Split(text.substr(1), "~", 32);
  const Signer& issuer = (mode & 1) ? f->issuer_k1 : f->issuer;
  const bool with_kb = (mode & 2) && built.size() >= 2;
  const size_t disclosure_end = with_kb ? built.size() - 1 : built.size();
  std::vector<std::string> disclosures;
  for (size_t i = 1; i < disclosure_end; ++i)
    disclosures.push_back(Base64UrlEncode(AsBytes(built[i])));
  std::string payload = fuzz::WithKeys(built[0], issuer);
  if (auto j = ParseJson(payload); j && j->is_object()) {
    json sd = json::array();
    for (const auto& d : disclosures) sd.push_back(DisclosureDigest(d));
    if (!(mode & 4)) (*j)["_sd"] = sd;
    if (mode & 8) (*j)["cnf"] = {{"jwk", json::parse(PublicJwkJson(f->holder.alg, f->holder.public_key).value())}};
    payload = j->dump();
  }
  const json header = {{"alg", AlgName(issuer.alg)},
                       {"kid", issuer.verification_method},
                       {"typ", (mode & 16) ? "example+sd-jwt" : std::string(kSdJwtVcTyp)}};
  std::string token = fuzz::SignCompact(issuer, header.dump(), payload) + "~";
  for (const auto& d : disclosures) token += d + "~";
  if (with_kb) {
    std::string kb_payload = built.back();
    if (auto kb = ParseJson(kb_payload); kb && kb->is_object()) {
      (*kb)["sd_hash"] = Base64UrlEncode(Sha256(AsBytes(token)));
      kb_payload = kb->dump();
    }
    const json kb_header = {{"alg", "EdDSA"}, {"typ", kKbJwtTyp}};
    token += fuzz::SignCompact(f->holder, kb_header.dump(), kb_payload);
  }
  VerifyAll(*f, token);
  return 0;
}
