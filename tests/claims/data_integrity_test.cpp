// Data Integrity eddsa-jcs-2022: the W3C vectors byte for byte (VC DI EdDSA v1.0 §3.3 and its
// test vectors), proof sets and chains (VC Data Integrity §4.3, §4.5), and one negative test per
// reason code of VerifyProofs.
#include <catch2/catch.hpp>

#include <functional>
#include <map>
#include <memory>
#include <set>

#include <nlohmann/json.hpp>

#include "medallion/claims/data_integrity.h"
#include "medallion/core/encoding.h"
#include "medallion/core/jcs.h"
#include "medallion/did/did_key.h"
#include "medallion/wallet/keys.h"
#include "test_util.h"

using namespace medallion;
using namespace medallion::claims;
using medallion::testing::ReadFile;
using medallion::testing::VectorPath;
using nlohmann::json;

namespace {

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}
std::string Vec(const std::string& name) {
  return Trimmed(ReadFile(VectorPath("eddsa-jcs-2022/" + name)));
}
json VecJson(const std::string& name) { return json::parse(Vec(name)); }
std::string Jcs(const json& j) { return *jcs::Canonicalize(j); }

// An Ed25519 signer whose verification method is `did#multikey` (did:key unless `did` is given).
Signer EdSigner(const Bytes& seed, const std::string& did = "") {
  auto key = std::make_shared<wallet::SigningKey>(
      *wallet::MakeSigningKey(wallet::SignatureAlg::kEdDSA, seed));
  Signer s;
  s.alg = Alg::kEdDSA;
  s.public_key = key->public_key;
  std::string mb = *did::MultikeyFromPublicKey(did::KeyType::kEd25519, key->public_key);
  s.verification_method = (did.empty() ? "did:key:" + mb : did) + "#" + mb;
  s.sign = [key](ByteView m) { return wallet::Sign(*key, m); };
  return s;
}
Signer EdSigner(uint8_t fill, const std::string& did = "") {
  return EdSigner(Bytes(32, fill), did);
}

// The vector's key: privateKeyMultibase is multibase(multicodec ed25519-priv || seed).
Bytes VectorSeed() {
  auto raw = MultibaseDecode(VecJson("keyPair.json")["privateKeyMultibase"].get<std::string>());
  REQUIRE(raw);
  auto mc = MulticodecUnwrap(*raw);
  REQUIRE(mc);
  REQUIRE(mc->code == multicodec::kEd25519Priv);
  return mc->data;
}

json Credential() {
  return json::parse(R"({
    "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
    "id": "urn:uuid:0b7b1c0e-4c1f-4c5e-9f53-7a1d5c2a9e11",
    "type": ["VerifiableCredential", "PrescriptionCredential"],
    "issuer": "did:example:physician",
    "validFrom": "2026-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:patient", "medication": "RxNorm 197361", "quantity": 30}
  })");
}

// A DID method for tests: "did:test:<name>" documents built by the test, so that a key can be
// listed under some relationships and not others, or the DID deactivated.
class TestMethod final : public did::MethodResolver {
 public:
  std::string_view method() const override { return "test"; }
  did::ResolutionResult Resolve(std::string_view d, const did::ResolutionOptions&) override {
    auto it = docs_.find(std::string(d));
    if (it == docs_.end()) return did::ResolutionResult::Error(did::kNotFound, "no such test DID");
    did::ResolutionResult r;
    r.document = it->second;
    r.metadata.deactivated = deactivated_.count(std::string(d)) > 0;
    return r;
  }
  void Add(const std::string& d, const Bytes& key, std::initializer_list<did::Relationship> rels,
           did::KeyType type = did::KeyType::kEd25519) {
    did::DidDocument& doc = docs_[d];
    doc.id = d;
    REQUIRE(did::AddKey(doc, type, key, rels).ok());
  }
  void Deactivate(const std::string& d) { deactivated_.insert(d); }

 private:
  std::map<std::string, did::DidDocument> docs_;
  std::set<std::string> deactivated_;
};

std::string Reason(const Status& s) { return std::string(ReasonCode(s)); }

template <typename T>
std::string ReasonOf(const Result<T>& r) {
  REQUIRE_FALSE(r.has_value());
  return Reason(r.error());
}

// Re-encodes a proofValue with one bit of the signature flipped: still 64 bytes of base58btc.
std::string FlipBit(const std::string& proof_value, size_t byte) {
  Bytes sig = *MultibaseDecode(proof_value);
  sig[byte] ^= 0x01;
  return MultibaseEncode(Multibase::kBase58Btc, sig);
}

const did::Resolver& KeyResolver() {
  static did::Resolver r;
  return r;
}

}  // namespace

TEST_CASE("eddsa-jcs-2022 reproduces the W3C test vectors byte for byte", "[claims][di][vectors]") {
  const Bytes seed = VectorSeed();
  Signer signer = EdSigner(seed);
  // The public key of the private key is the vector's publicKeyMultibase.
  REQUIRE(signer.verification_method ==
          VecJson("proofConfigJCS.json")["verificationMethod"].get<std::string>());
  REQUIRE(*did::MultikeyFromPublicKey(did::KeyType::kEd25519, signer.public_key) ==
          VecJson("keyPair.json")["publicKeyMultibase"].get<std::string>());

  const json unsigned_doc = *jcs::ParseStrict(Vec("unsigned.json"));
  const json proof_config = *jcs::ParseStrict(Vec("proofConfigJCS.json"));
  auto h = EddsaJcs2022HashData(proof_config, unsigned_doc);
  REQUIRE(h);
  CHECK(h->canonical_document == Vec("canonDocJCS.txt"));
  CHECK(h->canonical_proof_config == Vec("proofCanonJCS.txt"));
  CHECK(HexEncode(h->document_hash) == Vec("docHashJCS.txt"));
  CHECK(HexEncode(h->proof_config_hash) == Vec("proofHashJCS.txt"));
  CHECK(HexEncode(h->hash_data) == Vec("combinedHashJCS.txt"));

  auto sig = signer.sign(h->hash_data);
  REQUIRE(sig);
  CHECK(HexEncode(*sig) == Vec("sigHexJCS.txt"));
  CHECK(MultibaseEncode(Multibase::kBase58Btc, *sig) == Vec("sigBTC58JCS.txt"));

  // AddProof builds the same proof configuration and so the vector's signed document.
  ProofOptions opts;
  opts.created = "2023-02-24T23:36:38Z";
  auto secured = AddProof(unsigned_doc, signer, opts);
  REQUIRE(secured);
  const json expected = *jcs::ParseStrict(Vec("signedJCS.json"));
  CHECK(Jcs(*secured) == Jcs(expected));
  CHECK((*secured)["proof"]["proofValue"] == Vec("sigBTC58JCS.txt"));

  // ... and the vector's signed document verifies.
  ProofCheckOptions check;
  check.now = *ParseDateTimeStamp("2023-03-01T00:00:00Z");
  auto verified = VerifyProofs(expected, KeyResolver(), check);
  REQUIRE(verified);
  REQUIRE(verified->size() == 1);
  CHECK((*verified)[0].verification_method == signer.verification_method);
  CHECK((*verified)[0].controller == "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2");
  CHECK((*verified)[0].created == "2023-02-24T23:36:38Z");
}

TEST_CASE("AddProof and VerifyProofs round trip", "[claims][di]") {
  Signer physician = EdSigner(0x11);
  ProofOptions opts;
  opts.created = "2026-01-02T03:04:05Z";
  auto secured = AddProof(Credential(), physician, opts);
  REQUIRE(secured);
  CHECK((*secured)["proof"].is_object());
  CHECK((*secured)["proof"]["@context"] == Credential()["@context"]);
  auto v = VerifyProofs(*secured, KeyResolver(), {});
  REQUIRE(v);
  CHECK((*v)[0].proof_purpose == "assertionMethod");

  SECTION("a document without @context signs and verifies too") {
    json doc = {{"hello", "world"}};
    auto s = AddProof(doc, physician, {});
    REQUIRE(s);
    CHECK_FALSE((*s)["proof"].contains("@context"));
    CHECK(VerifyProofs(*s, KeyResolver(), {}));
  }
}

TEST_CASE("proof sets: the phone's proof signs the document without the first proof",
          "[claims][di][sets]") {
  Signer physician = EdSigner(0x11);
  Signer phone = EdSigner(0x22);
  ProofOptions opts;
  opts.created = "2026-01-02T03:04:05Z";
  auto first = AddProof(Credential(), physician, opts);
  REQUIRE(first);
  auto both = AddProof(*first, phone, opts);
  REQUIRE(both);
  REQUIRE((*both)["proof"].is_array());
  REQUIRE((*both)["proof"].size() == 2);
  CHECK((*both)["proof"][0] == (*first)["proof"]);
  // Ed25519 is deterministic: the second proof equals the phone's proof over the unsecured
  // document.
  auto alone = AddProof(Credential(), phone, opts);
  REQUIRE(alone);
  CHECK((*both)["proof"][1] == (*alone)["proof"]);

  auto v = VerifyProofs(*both, KeyResolver(), {});
  REQUIRE(v);
  REQUIRE(v->size() == 2);
  CHECK((*v)[0].verification_method == physician.verification_method);
  CHECK((*v)[1].verification_method == phone.verification_method);

  SECTION("one bad proof fails the set") {
    json bad = *both;
    bad["proof"][1]["proofValue"] = FlipBit(bad["proof"][1]["proofValue"].get<std::string>(), 7);
    auto r = VerifyProofs(bad, KeyResolver(), {});
    CHECK(ReasonOf(r) == "signature_invalid");
    CHECK(r.error().code() == StatusCode::kUnauthenticated);
    CHECK(r.error().message().find("proof 1") != std::string::npos);
  }
  SECTION("a proof set whose first proof is of an unsupported suite fails") {
    json bad = *both;
    bad["proof"][0]["cryptosuite"] = "eddsa-rdfc-2022";
    CHECK(ReasonOf(VerifyProofs(bad, KeyResolver(), {})) == "cryptosuite_unsupported");
  }
  SECTION("a proof dropped from the set leaves the other valid") {
    json one = *both;
    one["proof"].erase(0);
    CHECK(VerifyProofs(one, KeyResolver(), {}));
  }
}

TEST_CASE("proof chains: previousProof signs the document with the proof it names",
          "[claims][di][chains]") {
  Signer physician = EdSigner(0x11);
  Signer phone = EdSigner(0x22);
  ProofOptions a;
  a.id = "urn:uuid:proof-a";
  a.created = "2026-01-02T03:04:05Z";
  auto first = AddProof(Credential(), physician, a);
  REQUIRE(first);
  ProofOptions b = a;
  b.id = "urn:uuid:proof-b";
  b.previous_proof = "urn:uuid:proof-a";
  auto chained = AddProof(*first, phone, b);
  REQUIRE(chained);
  REQUIRE((*chained)["proof"].size() == 2);
  CHECK((*chained)["proof"][1]["previousProof"] == "urn:uuid:proof-a");

  // The chained proof differs from an unchained one: it covers proof a.
  ProofOptions unchained = b;
  unchained.previous_proof.clear();
  auto set = AddProof(*first, phone, unchained);
  REQUIRE(set);
  CHECK((*set)["proof"][1]["proofValue"] != (*chained)["proof"][1]["proofValue"]);

  auto v = VerifyProofs(*chained, KeyResolver(), {});
  REQUIRE(v);
  CHECK((*v)[1].id == "urn:uuid:proof-b");

  SECTION("previousProof naming a missing proof") {
    json bad = *chained;
    bad["proof"].erase(0);
    CHECK(ReasonOf(VerifyProofs(bad, KeyResolver(), {})) == "previous_proof_missing");
  }
  SECTION("previousProof as a list of ids") {
    json list = *chained;
    list["proof"][1]["previousProof"] = json::array({"urn:uuid:proof-a"});
    // The list form is a different proof configuration: the signature no longer matches.
    CHECK(ReasonOf(VerifyProofs(list, KeyResolver(), {})) == "signature_invalid");
  }
  SECTION("the chained proof breaks when the proof it covers changes") {
    json bad = *chained;
    bad["proof"][0]["created"] = "2026-01-02T03:04:06Z";
    auto r = VerifyProofs(bad, KeyResolver(), {});
    CHECK(ReasonOf(r) == "signature_invalid");
  }
  SECTION("AddProof refuses a previousProof that is not there, and duplicate ids") {
    ProofOptions c = b;
    c.id = "urn:uuid:proof-c";
    c.previous_proof = "urn:uuid:nope";
    CHECK_FALSE(AddProof(*chained, phone, c));
    ProofOptions dup = a;
    CHECK_FALSE(AddProof(*chained, phone, dup));
  }
  SECTION("duplicate proof ids in a set are malformed") {
    json bad = *chained;
    bad["proof"][1]["id"] = "urn:uuid:proof-a";
    CHECK(ReasonOf(VerifyProofs(bad, KeyResolver(), {})) == "proof_malformed");
  }
}

TEST_CASE("VerifyProofs refuses with one reason code per failure", "[claims][di][negative]") {
  Signer signer = EdSigner(0x33);
  ProofOptions opts;
  opts.created = "2026-01-02T03:04:05Z";
  opts.expires = "2026-02-01T00:00:00Z";
  const json secured = *AddProof(Credential(), signer, opts);
  ProofCheckOptions check;
  check.now = *ParseDateTimeStamp("2026-01-10T00:00:00Z");
  REQUIRE(VerifyProofs(secured, KeyResolver(), check));

  SECTION("proof_missing") {
    json doc = Credential();
    CHECK(ReasonOf(VerifyProofs(doc, KeyResolver(), check)) == "proof_missing");
    doc["proof"] = json::array();
    CHECK(ReasonOf(VerifyProofs(doc, KeyResolver(), check)) == "proof_missing");
  }
  SECTION("tampered document: signature_invalid") {
    json doc = secured;
    doc["credentialSubject"]["quantity"] = 300;
    auto r = VerifyProofs(doc, KeyResolver(), check);
    CHECK(ReasonOf(r) == "signature_invalid");
    CHECK(r.error().code() == StatusCode::kUnauthenticated);
    doc = secured;
    doc["extra"] = true;
    CHECK(ReasonOf(VerifyProofs(doc, KeyResolver(), check)) == "signature_invalid");
  }
  SECTION("tampered proof options: signature_invalid") {
    json doc = secured;
    doc["proof"]["created"] = "2026-01-02T03:04:06Z";
    CHECK(ReasonOf(VerifyProofs(doc, KeyResolver(), check)) == "signature_invalid");
    doc = secured;
    doc["proof"]["nonce"] = "added";
    CHECK(ReasonOf(VerifyProofs(doc, KeyResolver(), check)) == "signature_invalid");
  }
  SECTION("tampered proof value: signature_invalid") {
    for (size_t byte : {0u, 31u, 32u, 63u}) {
      json doc = secured;
      doc["proof"]["proofValue"] = FlipBit(doc["proof"]["proofValue"].get<std::string>(), byte);
      CHECK(ReasonOf(VerifyProofs(doc, KeyResolver(), check)) == "signature_invalid");
    }
  }
  SECTION("a proof made by another key under this key's name: signature_invalid") {
    Signer forger = EdSigner(0x44);
    forger.verification_method = signer.verification_method;
    auto forged = AddProof(Credential(), forger, opts);
    REQUIRE(forged);
    CHECK(ReasonOf(VerifyProofs(*forged, KeyResolver(), check)) == "signature_invalid");
  }
  SECTION("wrong context: context_mismatch") {
    json doc = secured;
    doc["@context"] = json::array({"https://www.w3.org/ns/credentials/v2"});
    auto r = VerifyProofs(doc, KeyResolver(), check);
    CHECK(ReasonOf(r) == "context_mismatch");
    doc = secured;
    doc["@context"] = json::array(
        {"https://www.w3.org/ns/credentials/examples/v2", "https://www.w3.org/ns/credentials/v2"});
    CHECK(ReasonOf(VerifyProofs(doc, KeyResolver(), check)) == "context_mismatch");
    // A context appended after the proof's prefix passes: §3.3.2 step 4.2 hashes the document
    // with the proof's @context in its place (which contexts a verifier accepts is decided above
    // this layer, by the credential checks).
    doc = secured;
    doc["@context"].push_back("https://example.org/extra/v1");
    CHECK(VerifyProofs(doc, KeyResolver(), check));
    // A proof whose own @context was changed no longer verifies.
    doc = secured;
    doc["proof"]["@context"] = json::array({"https://www.w3.org/ns/credentials/v2"});
    CHECK(ReasonOf(VerifyProofs(doc, KeyResolver(), check)) == "signature_invalid");
  }
  SECTION("wrong purpose: purpose_mismatch") {
    ProofCheckOptions c = check;
    c.expected_purpose = "capabilityInvocation";
    auto r = VerifyProofs(secured, KeyResolver(), c);
    CHECK(ReasonOf(r) == "purpose_mismatch");
    CHECK(r.error().code() == StatusCode::kPermissionDenied);
    json doc = secured;
    doc["proof"]["proofPurpose"] = "keyAgreement";
    c.expected_purpose = "";
    CHECK(ReasonOf(VerifyProofs(doc, KeyResolver(), c)) == "purpose_mismatch");
  }
  SECTION("unknown method: method_unresolved") {
    json doc = secured;
    std::string vm = doc["proof"]["verificationMethod"];
    doc["proof"]["verificationMethod"] = vm.substr(0, vm.find('#')) + "#key-2";
    CHECK(ReasonOf(VerifyProofs(doc, KeyResolver(), check)) == "method_unresolved");
    doc["proof"]["verificationMethod"] = "did:example:123#key-1";  // no resolver for did:example
    CHECK(ReasonOf(VerifyProofs(doc, KeyResolver(), check)) == "method_unresolved");
    doc["proof"]["verificationMethod"] = "https://issuer.example/keys/1";
    CHECK(ReasonOf(VerifyProofs(doc, KeyResolver(), check)) == "method_unresolved");
  }
  SECTION("expired and not yet valid, with bounded clock skew") {
    ProofCheckOptions c = check;
    c.now = *ParseDateTimeStamp("2026-02-01T00:04:59Z");  // within 300 s of expires
    CHECK(VerifyProofs(secured, KeyResolver(), c));
    c.now = *ParseDateTimeStamp("2026-02-01T00:05:01Z");
    auto r = VerifyProofs(secured, KeyResolver(), c);
    CHECK(ReasonOf(r) == "proof_expired");
    CHECK(r.error().code() == StatusCode::kFailedPrecondition);
    c.now = *ParseDateTimeStamp("2026-01-02T02:59:00Z");  // an hour before `created`
    CHECK(ReasonOf(VerifyProofs(secured, KeyResolver(), c)) == "proof_not_yet_valid");
    c.now = *ParseDateTimeStamp("2026-01-02T03:00:00Z");  // 245 s before: within the skew
    CHECK(VerifyProofs(secured, KeyResolver(), c));
    c.max_clock_skew = 0;
    CHECK(ReasonOf(VerifyProofs(secured, KeyResolver(), c)) == "proof_not_yet_valid");
  }
  SECTION("unsupported cryptosuite or proof type") {
    for (const char* suite : {"eddsa-rdfc-2022", "ecdsa-jcs-2019", "EDDSA-JCS-2022"}) {
      json doc = secured;
      doc["proof"]["cryptosuite"] = suite;
      CHECK(ReasonOf(VerifyProofs(doc, KeyResolver(), check)) == "cryptosuite_unsupported");
    }
    json doc = secured;
    doc["proof"]["type"] = "Ed25519Signature2020";
    CHECK(ReasonOf(VerifyProofs(doc, KeyResolver(), check)) == "cryptosuite_unsupported");
  }
  SECTION("malformed proofs") {
    auto malformed = [&](const std::function<void(json&)>& edit) {
      json doc = secured;
      edit(doc);
      return ReasonOf(VerifyProofs(doc, KeyResolver(), check));
    };
    CHECK(malformed([](json& d) { d["proof"] = "z3abc"; }) == "proof_malformed");
    CHECK(malformed([](json& d) {
            d["proof"] = json::array({d["proof"], 7});
          }) == "proof_malformed");
    CHECK(malformed([](json& d) { d["proof"].erase("type"); }) == "proof_malformed");
    CHECK(malformed([](json& d) { d["proof"].erase("cryptosuite"); }) == "proof_malformed");
    CHECK(malformed([](json& d) { d["proof"].erase("verificationMethod"); }) == "proof_malformed");
    CHECK(malformed([](json& d) { d["proof"]["proofPurpose"] = 1; }) == "proof_malformed");
    CHECK(malformed([](json& d) { d["proof"].erase("proofValue"); }) == "proof_malformed");
    CHECK(malformed([](json& d) { d["proof"]["created"] = "2026-01-02 03:04:05"; }) ==
          "proof_malformed");
    CHECK(malformed([](json& d) { d["proof"]["expires"] = "2026-02-30T00:00:00Z"; }) ==
          "proof_malformed");
    CHECK(malformed([](json& d) { d["proof"]["challenge"] = 5; }) == "proof_malformed");
    CHECK(malformed([](json& d) { d["proof"]["domain"] = json::array(); }) == "proof_malformed");
    CHECK(malformed([](json& d) { d["proof"]["previousProof"] = json::object(); }) ==
          "proof_malformed");
    // proofValue: base58btc multibase of exactly 64 bytes.
    std::string pv = secured["proof"]["proofValue"];
    CHECK(malformed([&](json& d) { d["proof"]["proofValue"] = "u" + pv.substr(1); }) ==
          "proof_malformed");
    CHECK(malformed([&](json& d) { d["proof"]["proofValue"] = pv.substr(0, pv.size() - 3); }) ==
          "proof_malformed");
    CHECK(malformed([&](json& d) { d["proof"]["proofValue"] = pv + "0"; }) == "proof_malformed");
    CHECK(malformed([&](json& d) { d["proof"]["proofValue"] = ""; }) == "proof_malformed");
    json many = secured;
    many["proof"] = json::array();
    for (int i = 0; i < 17; ++i) many["proof"].push_back(secured["proof"]);
    CHECK(ReasonOf(VerifyProofs(many, KeyResolver(), check)) == "proof_malformed");
    CHECK(ReasonOf(VerifyProofs(json::array(), KeyResolver(), check)) == "proof_malformed");
  }
}

TEST_CASE("authentication proofs carry the verifier's challenge and domain", "[claims][di][auth]") {
  Signer holder = EdSigner(0x55);
  json vp = {
      {"@context", {"https://www.w3.org/ns/credentials/v2"}},
      {"type", {"VerifiablePresentation"}},
      {"holder", holder.verification_method.substr(0, holder.verification_method.find('#'))}};
  ProofOptions opts;
  opts.proof_purpose = "authentication";
  opts.challenge = "n-0S6_WzA2Mj";
  opts.domain = "https://pharmacy.example";
  opts.created = "2026-01-02T03:04:05Z";
  auto secured = AddProof(vp, holder, opts);
  REQUIRE(secured);
  ProofCheckOptions check;
  check.expected_purpose = "authentication";
  check.expected_challenge = "n-0S6_WzA2Mj";
  check.expected_domain = "https://pharmacy.example";
  REQUIRE(VerifyProofs(*secured, KeyResolver(), check));

  SECTION("wrong challenge") {
    ProofCheckOptions c = check;
    c.expected_challenge = "another";
    CHECK(ReasonOf(VerifyProofs(*secured, KeyResolver(), c)) == "challenge_mismatch");
    json doc = *secured;
    doc["proof"].erase("challenge");
    CHECK(ReasonOf(VerifyProofs(doc, KeyResolver(), check)) == "challenge_mismatch");
  }
  SECTION("no expected challenge for an authentication proof") {
    ProofCheckOptions c = check;
    c.expected_challenge.clear();
    CHECK(ReasonOf(VerifyProofs(*secured, KeyResolver(), c)) == "challenge_mismatch");
  }
  SECTION("wrong domain") {
    ProofCheckOptions c = check;
    c.expected_domain = "https://other.example";
    CHECK(ReasonOf(VerifyProofs(*secured, KeyResolver(), c)) == "domain_mismatch");
    json doc = *secured;
    doc["proof"].erase("domain");
    CHECK(ReasonOf(VerifyProofs(doc, KeyResolver(), check)) == "domain_mismatch");
  }
  SECTION("domain may be a list (VC Data Integrity §2.1)") {
    // A list is a different proof configuration, so it has to be signed as a list; only the
    // domain check is exercised here.
    json doc = *secured;
    doc["proof"]["domain"] = json::array({"https://a.example", "https://pharmacy.example"});
    CHECK(ReasonOf(VerifyProofs(doc, KeyResolver(), check)) == "signature_invalid");
    doc["proof"]["domain"] = json::array({"https://a.example"});
    CHECK(ReasonOf(VerifyProofs(doc, KeyResolver(), check)) == "domain_mismatch");
  }
  SECTION("an assertion proof is not an authentication") {
    auto assertion = AddProof(vp, holder, {});
    REQUIRE(assertion);
    CHECK(ReasonOf(VerifyProofs(*assertion, KeyResolver(), check)) == "purpose_mismatch");
  }
  SECTION("AddProof refuses an authentication proof without a challenge") {
    ProofOptions o = opts;
    o.challenge.clear();
    CHECK_FALSE(AddProof(vp, holder, o));
  }
}

TEST_CASE("verification methods are resolved under the proof purpose", "[claims][di][resolver]") {
  auto method = std::make_shared<TestMethod>();
  did::Resolver resolver;
  resolver.Register(method);
  Signer auth_only = EdSigner(0x66, "did:test:alice");
  Signer assertion = EdSigner(0x67, "did:test:alice");
  method->Add("did:test:alice", auth_only.public_key, {did::Relationship::kAuthentication});
  method->Add("did:test:alice", assertion.public_key, {did::Relationship::kAssertionMethod});

  auto good = AddProof(Credential(), assertion, {});
  REQUIRE(good);
  auto v = VerifyProofs(*good, resolver, {});
  REQUIRE(v);
  CHECK((*v)[0].controller == "did:test:alice");

  // The authentication key is Alice's, but not for assertions.
  auto bad = AddProof(Credential(), auth_only, {});
  REQUIRE(bad);
  auto r = VerifyProofs(*bad, resolver, {});
  CHECK(ReasonOf(r) == "method_unresolved");
  CHECK(r.error().code() == StatusCode::kNotFound);

  SECTION("unknown DID") {
    Signer bob = EdSigner(0x68, "did:test:bob");
    auto doc = AddProof(Credential(), bob, {});
    REQUIRE(doc);
    CHECK(ReasonOf(VerifyProofs(*doc, resolver, {})) == "method_unresolved");
  }
  SECTION("deactivated DID") {
    method->Deactivate("did:test:alice");
    auto d = VerifyProofs(*good, resolver, {});
    CHECK(ReasonOf(d) == "method_unresolved");
    CHECK(d.error().code() == StatusCode::kFailedPrecondition);
  }
  SECTION("a secp256k1 method cannot carry an eddsa-jcs-2022 proof") {
    auto k1 = wallet::MakeSigningKey(wallet::SignatureAlg::kES256K, Bytes(32, 0x01));
    REQUIRE(k1);
    method->Add("did:test:carol", k1->public_key, {did::Relationship::kAssertionMethod},
                did::KeyType::kSecp256k1);
    json doc = *good;
    doc["proof"]["verificationMethod"] =
        "did:test:carol#" + *did::MultikeyFromPublicKey(did::KeyType::kSecp256k1, k1->public_key);
    CHECK(ReasonOf(VerifyProofs(doc, resolver, {})) == "method_unresolved");
  }
}

TEST_CASE("AddProof refuses bad input", "[claims][di][negative]") {
  Signer signer = EdSigner(0x11);
  CHECK_FALSE(AddProof(json::array(), signer, {}));
  CHECK_FALSE(AddProof(json("text"), signer, {}));
  Signer es = signer;
  es.alg = Alg::kES256K;
  CHECK_FALSE(AddProof(Credential(), es, {}));
  ProofOptions bad_date;
  bad_date.created = "yesterday";
  CHECK_FALSE(AddProof(Credential(), signer, bad_date));
  ProofOptions bad_expires;
  bad_expires.expires = "2026-01-01T00:00:00";  // no time zone
  CHECK_FALSE(AddProof(Credential(), signer, bad_expires));
  json doc = Credential();
  doc["proof"] = 3;
  CHECK_FALSE(AddProof(doc, signer, {}));
  doc = Credential();
  doc["big"] = 9007199254740993ULL;  // not representable by JCS
  CHECK_FALSE(AddProof(doc, signer, {}));
  Signer failing = signer;
  failing.sign = [](ByteView) -> Result<Bytes> { return Status::Unavailable("phone offline"); };
  auto r = AddProof(Credential(), failing, {});
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == StatusCode::kUnavailable);
}

TEST_CASE("ParseDateTimeStamp follows XML Schema dateTimeStamp", "[claims][datetime]") {
  CHECK(*ParseDateTimeStamp("1970-01-01T00:00:00Z") == 0);
  CHECK(*ParseDateTimeStamp("2023-02-24T23:36:38Z") == 1677281798);
  CHECK(*ParseDateTimeStamp("2023-02-24T23:36:38.999Z") == 1677281798);
  CHECK(*ParseDateTimeStamp("2023-02-25T00:36:38+01:00") == 1677281798);
  CHECK(*ParseDateTimeStamp("2023-02-24T18:36:38-05:00") == 1677281798);
  CHECK(*ParseDateTimeStamp("2000-02-29T00:00:00Z") == 951782400);
  CHECK(*ParseDateTimeStamp("2023-02-24T24:00:00Z") == *ParseDateTimeStamp("2023-02-25T00:00:00Z"));
  CHECK(*ParseDateTimeStamp("1969-12-31T23:59:59Z") == -1);
  for (const char* bad : {"",
                          "2023-02-24",
                          "2023-02-24T23:36:38",
                          "2023-02-24t23:36:38Z",
                          "2023-02-24T23:36:38z",
                          "2023-2-24T23:36:38Z",
                          "2023-02-24T23:36Z",
                          "2023-02-29T00:00:00Z",
                          "1900-02-29T00:00:00Z",
                          "2023-13-01T00:00:00Z",
                          "2023-00-01T00:00:00Z",
                          "2023-04-31T00:00:00Z",
                          "2023-02-24T24:00:01Z",
                          "2023-02-24T23:60:00Z",
                          "2023-02-24T23:00:60Z",
                          "2023-02-24T23:36:38.Z",
                          "2023-02-24T23:36:38+1:00",
                          "2023-02-24T23:36:38+15:00",
                          "2023-02-24T23:36:38+14:30",
                          "2023-02-24T23:36:38Z ",
                          " 2023-02-24T23:36:38Z",
                          "+2023-02-24T23:36:38Z",
                          "20230-02-24T23:36:38Z"}) {
    INFO(bad);
    CHECK_FALSE(ParseDateTimeStamp(bad));
  }
}

TEST_CASE("ReasonCode is the Status's reason, never read from the message", "[claims][di]") {
  CHECK(ReasonCode(Status::Ok()).empty());
  CHECK(ReasonCode(Status::WithReason(StatusCode::kInvalidArgument, "proof_malformed", "x")) ==
        "proof_malformed");
  CHECK(ReasonCode(Status::InvalidArgument("proof_malformed: x")).empty());
  CHECK(ReasonCode(Status::InvalidArgument("no colon")).empty());
}

TEST_CASE("every verification failure carries its reason as Status::reason()", "[claims][di]") {
  json doc = {{"@context", {"https://www.w3.org/ns/credentials/v2"}},
              {"type", {"VerifiableCredential"}}};
  ProofCheckOptions o;
  auto r = VerifyProofs(doc, KeyResolver(), o);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().reason() == reason::kProofMissing);
  CHECK(r.error().message().rfind(std::string(reason::kProofMissing) + ": ", 0) == 0);
}
