// The W3C WebAuthn Level 3 §16 test vectors (tests/vectors/webauthn/): the "none" ES256
// ceremonies verify; cross-origin and other attestation formats are refused with their reason;
// every vector's authentication ceremony (ES256 and Ed25519) verifies against the credential
// public key from its registration.
#include <catch2/catch.hpp>
#include <cbor.h>

#include <set>
#include <string>

#include "medallion/core/encoding.h"
#include "medallion/webauthn/webauthn.h"
#include "test_util.h"

using namespace medallion;
using namespace medallion::webauthn;
using medallion::testing::Hex;

namespace {

const nlohmann::json& Vectors() {
  static const nlohmann::json v =
      medallion::testing::ReadJsonVector("webauthn/webauthn-l3-test-vectors.json");
  return v;
}

const nlohmann::json& Vector(const std::string& id) {
  for (const auto& v : Vectors()["vectors"]) {
    if (v["id"] == id) return v;
  }
  throw std::runtime_error("no test vector " + id);
}

RelyingParty ExampleOrg() {
  RelyingParty rp;
  rp.rp_id = Vectors()["rp_id"];
  rp.origins = {Vectors()["origin"]};
  return rp;
}

Bytes Field(const nlohmann::json& v, const char* ceremony, const char* name) {
  return Hex(v[ceremony][name].get<std::string>());
}

RegistrationResponse Registration(const nlohmann::json& v) {
  return {Field(v, "registration", "credential_id"), Field(v, "registration", "clientDataJSON"),
          Field(v, "registration", "attestationObject")};
}

AssertionResponse Assertion(const nlohmann::json& v) {
  AssertionResponse a;
  a.raw_id = Field(v, "registration", "credential_id");
  a.client_data_json = Field(v, "authentication", "clientDataJSON");
  a.authenticator_data = Field(v, "authentication", "authenticatorData");
  a.signature = Field(v, "authentication", "signature");
  return a;
}

// The credential of a registration this module refuses (another attestation format, or
// cross-origin), read out of the attestation object independently of VerifyRegistration:
// authData from the CBOR map, then the COSE key after the credential ID (§6.5.1; the vectors
// carry no extensions).
Credential CredentialFromAttestation(const nlohmann::json& v) {
  Bytes att = Field(v, "registration", "attestationObject");
  cbor_load_result res{};
  cbor_item_t* root = cbor_load(att.data(), att.size(), &res);
  REQUIRE(root != nullptr);
  Bytes auth_data;
  for (size_t i = 0; i < cbor_map_size(root); ++i) {
    cbor_pair p = cbor_map_handle(root)[i];
    std::string key(reinterpret_cast<const char*>(cbor_string_handle(p.key)),
                    cbor_string_length(p.key));
    if (key == "authData") {
      auth_data.assign(cbor_bytestring_handle(p.value),
                       cbor_bytestring_handle(p.value) + cbor_bytestring_length(p.value));
    }
  }
  cbor_decref(&root);
  REQUIRE(auth_data.size() > 55);
  REQUIRE((auth_data[32] & 0x80) == 0);
  size_t id_len = size_t(auth_data[53]) << 8 | auth_data[54];
  Credential c;
  c.id.assign(auth_data.begin() + 55, auth_data.begin() + 55 + id_len);
  c.cose_public_key.assign(auth_data.begin() + 55 + id_len, auth_data.end());
  c.backup_eligible = (auth_data[32] & 0x08) != 0;
  auto key = ParseCoseKey(c.cose_public_key);
  if (key) c.alg = key->alg;
  return c;
}

}  // namespace

TEST_CASE("WebAuthn L3 §16.2: ES256 credential with none attestation", "[webauthn][vectors]") {
  const auto& v = Vector("sctn-test-vectors-none-es256");
  RelyingParty rp = ExampleOrg();
  auto cred = VerifyRegistration(rp, Field(v, "registration", "challenge"), Registration(v));
  REQUIRE(cred.has_value());
  CHECK(cred->id == Field(v, "registration", "credential_id"));
  CHECK(cred->aaguid == Field(v, "registration", "aaguid"));
  CHECK(cred->alg == kCoseEs256);
  CHECK(cred->sign_count == 0);
  auto key = ParseCoseKey(cred->cose_public_key);
  REQUIRE(key.has_value());
  CHECK(key->x.size() == 32);
  CHECK(key->y.size() == 32);

  const Bytes challenge = Field(v, "authentication", "challenge");
  auto count = VerifyAssertion(rp, challenge, *cred, {}, Assertion(v));
  REQUIRE(count.has_value());
  CHECK(*count == 0);

  SECTION("the registration's challenge does not authenticate") {
    auto r = VerifyAssertion(rp, Field(v, "registration", "challenge"), *cred, {}, Assertion(v));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().reason() == kChallengeMismatch);
    CHECK(r.error().code() == StatusCode::kUnauthenticated);
  }
  SECTION("another RP ID or origin") {
    RelyingParty other = rp;
    other.rp_id = "example.com";
    other.origins = {"https://example.org"};
    CHECK(VerifyAssertion(other, challenge, *cred, {}, Assertion(v)).error().reason() ==
          kRpIdMismatch);
    other = rp;
    other.origins = {"https://example.org:443", "http://example.org"};
    CHECK(VerifyAssertion(other, challenge, *cred, {}, Assertion(v)).error().reason() ==
          kOriginMismatch);
  }
  SECTION("the vector does not verify the user") {
    rp.require_user_verification = true;
    CHECK(VerifyAssertion(rp, challenge, *cred, {}, Assertion(v)).error().reason() ==
          kUserNotVerified);
  }
  SECTION("a tampered signature or clientDataJSON") {
    AssertionResponse a = Assertion(v);
    a.signature[10] ^= 1;
    CHECK(VerifyAssertion(rp, challenge, *cred, {}, a).error().reason() == kSignatureInvalid);
    a = Assertion(v);
    a.authenticator_data[36] = 1;  // signCount 1: signed over, so the signature breaks
    CHECK(VerifyAssertion(rp, challenge, *cred, {}, a).error().reason() == kSignatureInvalid);
  }
  SECTION("a stored counter above the vector's 0") {
    Credential stored = *cred;
    stored.sign_count = 1;
    CHECK(VerifyAssertion(rp, challenge, stored, {}, Assertion(v)).error().reason() ==
          kCounterRegression);
  }
}

TEST_CASE("WebAuthn L3 §16: a 1023-byte credential ID registers and authenticates",
          "[webauthn][vectors]") {
  const auto& v = Vector("sctn-test-vectors-none-es256-long-credential-id");
  RelyingParty rp = ExampleOrg();
  auto cred = VerifyRegistration(rp, Field(v, "registration", "challenge"), Registration(v));
  REQUIRE(cred.has_value());
  CHECK(cred->id.size() == kMaxCredentialIdBytes);
  auto count =
      VerifyAssertion(rp, Field(v, "authentication", "challenge"), *cred, {}, Assertion(v));
  REQUIRE(count.has_value());
  CHECK(*count == 0);
}

TEST_CASE("WebAuthn L3 §16: crossOrigin and topOrigin ceremonies are refused",
          "[webauthn][vectors]") {
  RelyingParty rp = ExampleOrg();
  for (const char* id :
       {"sctn-test-vectors-none-es256-crossOrigin", "sctn-test-vectors-none-es256-topOrigin"}) {
    INFO(id);
    const auto& v = Vector(id);
    auto reg = VerifyRegistration(rp, Field(v, "registration", "challenge"), Registration(v));
    REQUIRE_FALSE(reg.has_value());
    CHECK(reg.error().reason() == kOriginMismatch);
    Credential cred = CredentialFromAttestation(v);
    auto r = VerifyAssertion(rp, Field(v, "authentication", "challenge"), cred, {}, Assertion(v));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().reason() == kOriginMismatch);
  }
}

TEST_CASE(
    "WebAuthn L3 §16: attestation formats other than none are refused, their ES256 and "
    "Ed25519 assertions verify",
    "[webauthn][vectors]") {
  RelyingParty rp = ExampleOrg();
  struct Case {
    const char* id;
    const char*
        registration_reason;  // credential algorithm first (§7.1 step 20), then fmt (step 21)
    int64_t alg;              // 0: a credential algorithm we do not accept
  };
  const Case cases[] = {
      {"sctn-test-vectors-packed-self-es256", kAttestationUnsupported, kCoseEs256},
      {"sctn-test-vectors-packed-es256", kAttestationUnsupported, kCoseEs256},
      {"sctn-test-vectors-packed-eddsa", kAttestationUnsupported, kCoseEdDsa},
      {"sctn-test-vectors-tpm-es256", kAttestationUnsupported, kCoseEs256},
      {"sctn-test-vectors-android-key-es256", kAttestationUnsupported, kCoseEs256},
      {"sctn-test-vectors-apple-es256", kAttestationUnsupported, kCoseEs256},
      {"sctn-test-vectors-fido-u2f-es256", kAttestationUnsupported, kCoseEs256},
      {"sctn-test-vectors-packed-es384", kAlgorithmUnsupported, 0},
      {"sctn-test-vectors-packed-es512", kAlgorithmUnsupported, 0},
      {"sctn-test-vectors-packed-rs256", kAlgorithmUnsupported, 0},
      {"sctn-test-vectors-packed-ed448", kAlgorithmUnsupported, 0},
  };
  for (const Case& c : cases) {
    INFO(c.id);
    const auto& v = Vector(c.id);
    auto reg = VerifyRegistration(rp, Field(v, "registration", "challenge"), Registration(v));
    REQUIRE_FALSE(reg.has_value());
    CHECK(reg.error().reason() == c.registration_reason);
    CHECK(reg.error().code() == StatusCode::kInvalidArgument);
    Credential cred = CredentialFromAttestation(v);
    if (c.alg == 0) {
      auto key = ParseCoseKey(cred.cose_public_key);
      REQUIRE_FALSE(key.has_value());
      CHECK(key.error().reason() == kAlgorithmUnsupported);
      continue;
    }
    REQUIRE(cred.alg == c.alg);
    auto count =
        VerifyAssertion(rp, Field(v, "authentication", "challenge"), cred, {}, Assertion(v));
    REQUIRE(count.has_value());
    CHECK(*count == 0);
    AssertionResponse tampered = Assertion(v);
    tampered.signature.back() ^= 0x01;
    CHECK(VerifyAssertion(rp, Field(v, "authentication", "challenge"), cred, {}, tampered)
              .error()
              .reason() == kSignatureInvalid);
  }
}

TEST_CASE("Every one-byte change or truncation of the §16.2 ceremony is refused or harmless",
          "[webauthn][vectors][mutation]") {
  // Robustness over the official bytes: no crash, no exception, and every refusal carries one of
  // the module's reasons. A change to the signed data never verifies.
  const auto& v = Vector("sctn-test-vectors-none-es256");
  RelyingParty rp = ExampleOrg();
  const Bytes reg_challenge = Field(v, "registration", "challenge");
  const Bytes auth_challenge = Field(v, "authentication", "challenge");
  const std::set<std::string> reasons = {kMalformed,
                                         kWrongType,
                                         kChallengeMismatch,
                                         kOriginMismatch,
                                         kRpIdMismatch,
                                         kUserNotPresent,
                                         kUserNotVerified,
                                         kAttestationUnsupported,
                                         kAlgorithmUnsupported,
                                         kSignatureInvalid,
                                         kCounterRegression,
                                         kCredentialMismatch};
  auto cred = VerifyRegistration(rp, reg_challenge, Registration(v));
  REQUIRE(cred.has_value());
  size_t refused = 0;
  for (uint8_t delta : {uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xff}}) {
    const Bytes att = Field(v, "registration", "attestationObject");
    for (size_t i = 0; i < att.size(); ++i) {
      RegistrationResponse r = Registration(v);
      r.attestation_object[i] ^= delta;
      auto result = VerifyRegistration(rp, reg_challenge, r);
      if (!result) {
        ++refused;
        CHECK(reasons.count(result.error().reason()) == 1);
      }
    }
    const Bytes auth_data = Field(v, "authentication", "authenticatorData");
    for (size_t i = 0; i < auth_data.size(); ++i) {
      AssertionResponse a = Assertion(v);
      a.authenticator_data[i] ^= delta;
      auto result = VerifyAssertion(rp, auth_challenge, *cred, {}, a);
      REQUIRE_FALSE(result.has_value());
      CHECK(reasons.count(result.error().reason()) == 1);
    }
    const Bytes sig = Field(v, "authentication", "signature");
    for (size_t i = 0; i < sig.size(); ++i) {
      AssertionResponse a = Assertion(v);
      a.signature[i] ^= delta;
      auto result = VerifyAssertion(rp, auth_challenge, *cred, {}, a);
      REQUIRE_FALSE(result.has_value());
      CHECK(result.error().reason() == kSignatureInvalid);
    }
  }
  CHECK(refused > 0);
  // Every proper prefix of the attestation object and of the assertion's authenticator data.
  const Bytes att = Field(v, "registration", "attestationObject");
  for (size_t n = 0; n < att.size(); ++n) {
    RegistrationResponse r = Registration(v);
    r.attestation_object.resize(n);
    CHECK(VerifyRegistration(rp, reg_challenge, r).error().reason() == kMalformed);
  }
  const Bytes auth_data = Field(v, "authentication", "authenticatorData");
  for (size_t n = 0; n < auth_data.size(); ++n) {
    AssertionResponse a = Assertion(v);
    a.authenticator_data.resize(n);
    CHECK(VerifyAssertion(rp, auth_challenge, *cred, {}, a).error().reason() == kMalformed);
  }
}
