// Fuzz target: Data Integrity eddsa-jcs-2022 verification of arbitrary JSON
// (claims/data_integrity.h), holder-bound presentations (claims/presentation.h) and the
// credential checks of claims/credentials.h. The input, parsed as JSON, is verified as a secured
// document (assertionMethod and authentication purposes), as a presentation, and checked as a
// credential, license and prescription. Then the parsed object (proofs removed, or with its
// proofs kept as a proof set to chain to) is signed with AddProof by a fixed did:key and verified,
// so that documents with valid proofs reach the later checks; a document AddProof accepted must
// verify.
#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "medallion/claims/credentials.h"
#include "medallion/claims/data_integrity.h"
#include "medallion/claims/presentation.h"
#include "medallion/core/json.h"
#include "medallion/did/resolver.h"

using namespace medallion;
using namespace medallion::claims;
using nlohmann::json;

namespace {

struct Fixture {
  FakeClock clock{fuzz::kNowSeconds * 1000};
  SeededRng rng{7};
  did::Resolver resolver;
  Signer signer = fuzz::TestSigner(Alg::kEdDSA, 0x41);
};

void VerifyAll(Fixture& f, const json& doc) {
  ProofCheckOptions o;
  o.now = fuzz::kNowSeconds;
  (void)VerifyProofs(doc, f.resolver, o);
  ProofCheckOptions auth;
  auth.expected_purpose = "authentication";
  auth.expected_challenge = "n-0S6_WzA2Mj";
  auth.expected_domain = "https://pharmacy.example";
  (void)VerifyProofs(doc, f.resolver, auth);
  ChallengeStore challenges(Env{&f.clock, &f.rng});
  (void)VerifyPresentation(doc, f.resolver, challenges, "https://pharmacy.example",
                           fuzz::kNowSeconds);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* f = new Fixture();  // process lifetime
  auto parsed = ParseJson(fuzz::AsView(data, size));
  if (!parsed) return 0;
  const json& doc = *parsed;
  VerifyAll(*f, doc);
  (void)CheckCredential(doc, fuzz::kNowSeconds);
  (void)CheckLicenseCredential(doc);
  (void)CheckPrescriptionCredential(doc);
  (void)AllowedFills(doc);
  (void)CredentialDigest(doc);
  (void)IssuerOf(doc);
  if (!doc.is_object()) return 0;

  ProofOptions po;
  po.created = "2026-05-28T00:00:00Z";
  json unsecured = doc;
  if (size % 2 == 0) unsecured.erase("proof");
  auto secured = AddProof(unsecured, f->signer, po);
  if (!secured) return 0;
  ProofCheckOptions o;
  o.now = fuzz::kNowSeconds;
  auto verified = VerifyProofs(*secured, f->resolver, o);
  if (!unsecured.contains("proof")) {
    if (!verified) std::fprintf(stderr, "%s\n", verified.error().ToString().c_str());
    MDL_FUZZ_CHECK(verified.has_value());
  }
  VerifyAll(*f, *secured);
  return 0;
}
