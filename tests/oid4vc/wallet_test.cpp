// The wallet's side of OpenID4VCI (oid4vc/wallet.h): what a holder checks of a received SD-JWT VC
// before her container keeps it (each refusal with its reason), PKCE S256 (RFC 7636 Appendix B),
// and the bounded wait between deferred credential requests.
#include "medallion/oid4vc/wallet.h"

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "medallion/claims/sd_jwt.h"
#include "medallion/did/did_key.h"
#include "medallion/did/resolver.h"
#include "medallion/wallet/keys.h"

using namespace medallion;
using nlohmann::json;

namespace {

constexpr int64_t kNow = 1'780'000'000;
constexpr const char* kVct = "urn:example:vct:PatientCard:1";

std::shared_ptr<wallet::SigningKey> Key(uint8_t fill) {
  return std::make_shared<wallet::SigningKey>(
      *wallet::MakeSigningKey(wallet::SignatureAlg::kEdDSA, Bytes(32, fill)));
}
std::string KidOf(const std::shared_ptr<wallet::SigningKey>& k) {
  return *did::DidKeyFromPublicKey(did::KeyType::kEd25519, k->public_key) + "#" +
         *did::MultikeyFromPublicKey(did::KeyType::kEd25519, k->public_key);
}

struct Fixture {
  FakeClock clock{kNow * 1000};
  SeededRng rng{7};
  Env env{&clock, &rng};
  did::Resolver resolver;  // did:key
  std::shared_ptr<wallet::SigningKey> issuer_key = Key(1), holder_key = Key(2), other_key = Key(3);
  claims::HolderKey holder{claims::Alg::kEdDSA, holder_key->public_key};

  // An SD-JWT VC bound to `bound`, signed by `signing` under the kid of `named`.
  std::string Issue(const std::shared_ptr<wallet::SigningKey>& bound,
                    const std::shared_ptr<wallet::SigningKey>& signing,
                    const std::shared_ptr<wallet::SigningKey>& named, int64_t exp = kNow + 3600,
                    const char* vct = kVct) {
    json payload = {{"vct", vct}, {"given_name", "Alice"}, {"member_id", "M-4711"}, {"exp", exp}};
    claims::SdJwtIssueOptions o;
    o.disclosable = {"/given_name", "/member_id"};
    o.holder = claims::HolderKey{claims::Alg::kEdDSA, bound->public_key};
    return *claims::IssueSdJwt(payload, claims::WalletSigner(signing, KidOf(named)), o, env);
  }
  Result<oid4vc::ReceivedSdJwt> Check(const std::string& sd, const char* vct = kVct) {
    return oid4vc::CheckReceivedSdJwt(sd, resolver, holder, vct, clock);
  }
};

bool Refused(const Result<oid4vc::ReceivedSdJwt>& r, std::string_view reason) {
  return !r.has_value() && r.error().message().rfind(reason, 0) == 0;
}

}  // namespace

TEST_CASE("oid4vci wallet: a credential bound to the proven key and signed by its issuer is kept",
          "[oid4vc][wallet]") {
  Fixture f;
  auto r = f.Check(f.Issue(f.holder_key, f.issuer_key, f.issuer_key));
  REQUIRE(r.has_value());
  CHECK(r->issuer == *did::DidKeyFromPublicKey(did::KeyType::kEd25519, f.issuer_key->public_key));
  CHECK(r->vct == kVct);
  CHECK(r->claims["given_name"] == "Alice");  // every disclosure applied
  CHECK(r->claims["member_id"] == "M-4711");
  CHECK(f.Check(f.Issue(f.holder_key, f.issuer_key, f.issuer_key), "").has_value());  // any vct
}

TEST_CASE("oid4vci wallet: each refusal of a received credential, with its reason",
          "[oid4vc][wallet]") {
  Fixture f;
  const std::string good = f.Issue(f.holder_key, f.issuer_key, f.issuer_key);
  // Signed by another key than the one its kid (and iss) names.
  CHECK(Refused(f.Check(f.Issue(f.holder_key, f.other_key, f.issuer_key)), "signature_invalid"));
  // Bound to another key than the one the wallet proved.
  CHECK(Refused(f.Check(f.Issue(f.other_key, f.issuer_key, f.issuer_key)), "cnf_mismatch"));
  // Another type than the configuration's.
  CHECK(Refused(f.Check(good, "urn:example:vct:Other:1"), "vct_mismatch"));
  // Expired.
  CHECK(Refused(f.Check(f.Issue(f.holder_key, f.issuer_key, f.issuer_key, kNow - 3600)),
                "expired"));
  // A presentation (with a KB-JWT) is not a credential as issued.
  claims::SdJwtPresentOptions po;
  po.reveal = {"/member_id"};
  po.audience = "https://verifier.example";
  po.nonce = "n-1";
  const claims::Signer holder_signer = claims::WalletSigner(f.holder_key, KidOf(f.holder_key));
  auto presented = claims::PresentSdJwt(good, po, &holder_signer, f.env);
  REQUIRE(presented.has_value());
  CHECK(Refused(f.Check(*presented), "sd_jwt_malformed"));
  // A tampered disclosure (an unreferenced digest) and garbage.
  std::string tampered = good;
  tampered.insert(tampered.size() - 1, "~WyJzYWx0IiwibWVtYmVyX2lkIiwiTS05OTk5Il0");
  CHECK(Refused(f.Check(tampered), "disclosure_unreferenced"));
  CHECK(!f.Check("not an sd-jwt~").has_value());
  CHECK(!f.Check("").has_value());
}

TEST_CASE("oid4vci wallet: PKCE S256 (RFC 7636 Appendix B) and fresh verifiers",
          "[oid4vc][wallet]") {
  CHECK(oid4vc::PkceS256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") ==
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  SeededRng rng(9);
  const oid4vc::Pkce a = oid4vc::NewPkce(rng), b = oid4vc::NewPkce(rng);
  CHECK(a.verifier.size() == 43);  // RFC 7636 §4.1: 43..128 characters
  CHECK(a.challenge == oid4vc::PkceS256(a.verifier));
  CHECK(a.verifier != b.verifier);
}

TEST_CASE("oid4vci wallet: the wait before the next deferred credential request is bounded",
          "[oid4vc][wallet]") {
  CHECK(oid4vc::DeferredWaitSeconds(json{{"interval", 3}}, 100) == 3);
  CHECK(oid4vc::DeferredWaitSeconds(json{{"interval", 3}}, 2) == 2);  // never past the deadline
  CHECK(oid4vc::DeferredWaitSeconds(json{{"interval", 3}}, 0) == 0);
  CHECK(oid4vc::DeferredWaitSeconds(json{{"interval", 86400}}, 100000) == 300);  // at most 300
  CHECK(oid4vc::DeferredWaitSeconds(json::object(), 100) == 5);           // absent: 5
  CHECK(oid4vc::DeferredWaitSeconds(json{{"interval", -1}}, 100) == 5);   // not positive: 5
  CHECK(oid4vc::DeferredWaitSeconds(json{{"interval", "9"}}, 100) == 5);  // not a number: 5
}
