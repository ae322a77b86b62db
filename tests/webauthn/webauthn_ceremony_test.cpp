// Synthetic WebAuthn ceremonies built here (CBOR with libcbor's builders, P-256 signatures with
// OpenSSL directly, Ed25519 with wallet): each refusal reason, the §6.1.1 counter rule, and the
// bounds on CBOR, authenticator data and clientDataJSON.
#include <catch2/catch.hpp>
#include <cbor.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "medallion/core/encoding.h"
#include "medallion/core/hash.h"
#include "medallion/wallet/keys.h"
#include "medallion/webauthn/webauthn.h"
#include "test_util.h"

using namespace medallion;
using namespace medallion::webauthn;
using medallion::testing::Hex;

namespace {

// ---- CBOR through libcbor's builders ----

struct CborFree {
  void operator()(cbor_item_t* item) const { cbor_decref(&item); }
};
using Cbor = std::unique_ptr<cbor_item_t, CborFree>;

Cbor Int(int64_t v) {
  if (v >= 0) {
    if (v < 256) return Cbor(cbor_build_uint8(uint8_t(v)));
    if (v < 65536) return Cbor(cbor_build_uint16(uint16_t(v)));
    return Cbor(cbor_build_uint64(uint64_t(v)));
  }
  uint64_t n = uint64_t(-1 - v);
  if (n < 256) return Cbor(cbor_build_negint8(uint8_t(n)));
  if (n < 65536) return Cbor(cbor_build_negint16(uint16_t(n)));
  return Cbor(cbor_build_negint64(n));
}
Cbor Text(const std::string& s) { return Cbor(cbor_build_stringn(s.data(), s.size())); }
Cbor Blob(ByteView b) { return Cbor(cbor_build_bytestring(b.data(), b.size())); }

Cbor Map(std::vector<std::pair<Cbor, Cbor>> entries) {
  Cbor map(cbor_new_definite_map(entries.size()));
  for (auto& [k, v] : entries) {
    REQUIRE(cbor_map_add(map.get(), cbor_pair{k.get(), v.get()}));  // takes its own references
  }
  return map;
}

Bytes Encode(const Cbor& item) {
  unsigned char* buffer = nullptr;
  size_t buffer_size = 0;
  size_t n = cbor_serialize_alloc(item.get(), &buffer, &buffer_size);
  REQUIRE(n > 0);
  Bytes out(buffer, buffer + n);
  std::free(buffer);
  return out;
}

std::vector<std::pair<Cbor, Cbor>> Entries() { return {}; }
void Add(std::vector<std::pair<Cbor, Cbor>>& e, Cbor k, Cbor v) {
  e.emplace_back(std::move(k), std::move(v));
}

// ---- keys ----

// RFC 6979 §A.2.5's P-256 key, held by OpenSSL for signing.
const Bytes kP256D = Hex("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721");
const Bytes kP256X = Hex("60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6");
const Bytes kP256Y = Hex("7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299");
// The generator as a second, different P-256 public key.
const Bytes kGx = Hex("6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296");
const Bytes kGy = Hex("4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5");

// ECDSA P-256 / SHA-256, DER (what an authenticator returns), with d = 1 or the key above.
Bytes SignP256(const Bytes& d, ByteView message) {
  BIGNUM* priv = BN_bin2bn(d.data(), int(d.size()), nullptr);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv);
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
  EVP_PKEY* pkey = nullptr;
  REQUIRE(EVP_PKEY_fromdata_init(ctx) == 1);
  REQUIRE(EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, params) == 1);
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  REQUIRE(EVP_DigestSignInit_ex(md, nullptr, "SHA256", nullptr, nullptr, pkey, nullptr) == 1);
  size_t len = 0;
  REQUIRE(EVP_DigestSign(md, nullptr, &len, message.data(), message.size()) == 1);
  Bytes sig(len);
  REQUIRE(EVP_DigestSign(md, sig.data(), &len, message.data(), message.size()) == 1);
  sig.resize(len);
  EVP_MD_CTX_free(md);
  EVP_PKEY_free(pkey);
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  BN_free(priv);
  return sig;
}

Bytes Es256CoseKey(const Bytes& x, const Bytes& y) {
  auto e = Entries();
  Add(e, Int(1), Int(2));   // kty: EC2
  Add(e, Int(3), Int(-7));  // alg: ES256
  Add(e, Int(-1), Int(1));  // crv: P-256
  Add(e, Int(-2), Blob(x));
  Add(e, Int(-3), Blob(y));
  return Encode(Map(std::move(e)));
}

Bytes EdDsaCoseKey(ByteView x) {
  auto e = Entries();
  Add(e, Int(1), Int(1));   // kty: OKP
  Add(e, Int(3), Int(-8));  // alg: EdDSA
  Add(e, Int(-1), Int(6));  // crv: Ed25519
  Add(e, Int(-2), Blob(x));
  return Encode(Map(std::move(e)));
}

// ---- ceremonies ----

constexpr uint8_t kUp = 0x01, kUv = 0x04, kBe = 0x08, kBs = 0x10, kAt = 0x40, kEd = 0x80;

// authenticatorData (§6.1): rpIdHash, flags, signCount, then what `tail` holds.
Bytes AuthData(const std::string& rp_id, uint8_t flags, uint32_t count, ByteView tail = {}) {
  Hash256 h = Sha256(AsBytes(rp_id));
  Bytes out(h.begin(), h.end());
  out.push_back(flags);
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(uint8_t(count >> shift));
  out.insert(out.end(), tail.begin(), tail.end());
  return out;
}

// Attested credential data (§6.5.1): aaguid, credentialIdLength, credentialId, the COSE key.
Bytes Attested(ByteView cred_id, ByteView cose_key) {
  Bytes out(16, 0xAA);
  out.push_back(uint8_t(cred_id.size() >> 8));
  out.push_back(uint8_t(cred_id.size()));
  out.insert(out.end(), cred_id.begin(), cred_id.end());
  out.insert(out.end(), cose_key.begin(), cose_key.end());
  return out;
}

Bytes AttestationObject(const std::string& fmt, ByteView auth_data,
                        std::optional<Bytes> att_stmt_cbor = std::nullopt) {
  auto e = Entries();
  Add(e, Text("fmt"), Text(fmt));
  if (att_stmt_cbor) {
    cbor_load_result res{};
    Add(e, Text("attStmt"), Cbor(cbor_load(att_stmt_cbor->data(), att_stmt_cbor->size(), &res)));
  } else {
    Add(e, Text("attStmt"), Map({}));
  }
  Add(e, Text("authData"), Blob(auth_data));
  return Encode(Map(std::move(e)));
}

const std::string kRpId = "medallion.example";
const std::string kOrigin = "https://medallion.example";
const Bytes kChallenge = Hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
const Bytes kCredId = Hex("c1c2c3c4c5c6c7c8c9cacbcccdcecfd0");

std::string ClientDataText(const std::string& type, ByteView challenge,
                           const std::string& origin = kOrigin, const std::string& extra = "") {
  return "{\"type\":\"" + type + "\",\"challenge\":\"" + Base64UrlEncode(challenge) +
         "\",\"origin\":\"" + origin + "\",\"crossOrigin\":false" + extra + "}";
}

RelyingParty Rp() {
  RelyingParty rp;
  rp.rp_id = kRpId;
  rp.origins = {"http://localhost:8443", kOrigin};
  return rp;
}

RegistrationResponse Register(const Bytes& cose_key, uint8_t flags = kUp | kAt,
                              const std::string& fmt = "none") {
  RegistrationResponse r;
  r.raw_id = kCredId;
  r.client_data_json = ToBytes(ClientDataText("webauthn.create", kChallenge));
  r.attestation_object =
      AttestationObject(fmt, AuthData(kRpId, flags, 0, Attested(kCredId, cose_key)));
  return r;
}

// An ES256 assertion signed by `d` over the given authenticator data and client data.
AssertionResponse AssertEs256(const Bytes& auth_data, const std::string& client_data,
                              const Bytes& d = kP256D) {
  AssertionResponse a;
  a.raw_id = kCredId;
  a.client_data_json = ToBytes(client_data);
  a.authenticator_data = auth_data;
  Hash256 h = Sha256(a.client_data_json);
  a.signature = SignP256(d, Concat(auth_data, h));
  return a;
}

AssertionResponse AssertEs256(uint8_t flags, uint32_t count) {
  return AssertEs256(AuthData(kRpId, flags, count), ClientDataText("webauthn.get", kChallenge));
}

Credential RegisteredEs256() {
  auto c = VerifyRegistration(Rp(), kChallenge, Register(Es256CoseKey(kP256X, kP256Y)));
  REQUIRE(c.has_value());
  return *c;
}

std::string ReasonOf(const Result<Credential>& r) { return r ? "(ok)" : r.error().reason(); }
std::string ReasonOf(const Result<uint32_t>& r) { return r ? "(ok)" : r.error().reason(); }

}  // namespace

TEST_CASE("An ES256 ceremony registers and authenticates", "[webauthn][es256]") {
  Credential c = RegisteredEs256();
  CHECK(c.id == kCredId);
  CHECK(c.alg == kCoseEs256);
  CHECK(c.aaguid == Bytes(16, 0xAA));
  CHECK_FALSE(c.user_verified);
  CHECK_FALSE(c.backup_eligible);
  auto n = VerifyAssertion(Rp(), kChallenge, c, {}, AssertEs256(kUp, 0));
  REQUIRE(n.has_value());
  CHECK(*n == 0);
  // Another accepted origin of the same RP.
  auto other = AssertEs256(AuthData(kRpId, kUp, 0),
                           ClientDataText("webauthn.get", kChallenge, "http://localhost:8443"));
  CHECK(VerifyAssertion(Rp(), kChallenge, c, {}, other).has_value());
}

TEST_CASE("An Ed25519 ceremony registers and authenticates through wallet", "[webauthn][eddsa]") {
  auto key = wallet::MakeSigningKey(wallet::SignatureAlg::kEdDSA, Bytes(32, 0x42));
  REQUIRE(key.has_value());
  auto c = VerifyRegistration(Rp(), kChallenge,
                              Register(EdDsaCoseKey(key->public_key), kUp | kUv | kBe | kBs | kAt));
  REQUIRE(c.has_value());
  CHECK(c->alg == kCoseEdDsa);
  CHECK(c->user_verified);
  CHECK(c->backup_eligible);
  CHECK(c->backed_up);
  AssertionResponse a;
  a.raw_id = kCredId;
  a.client_data_json = ToBytes(ClientDataText("webauthn.get", kChallenge));
  a.authenticator_data = AuthData(kRpId, kUp | kUv | kBe, 7);
  a.user_handle = ToBytes("user-1");
  a.signature = *wallet::Sign(*key, Concat(a.authenticator_data, Sha256(a.client_data_json)));
  RelyingParty rp = Rp();
  rp.require_user_verification = true;
  auto n = VerifyAssertion(rp, kChallenge, *c, AsBytes("user-1"), a);
  REQUIRE(n.has_value());
  CHECK(*n == 7);

  SECTION("signed by another Ed25519 key") {
    auto other = wallet::MakeSigningKey(wallet::SignatureAlg::kEdDSA, Bytes(32, 0x43));
    a.signature = *wallet::Sign(*other, Concat(a.authenticator_data, Sha256(a.client_data_json)));
    CHECK(ReasonOf(VerifyAssertion(rp, kChallenge, *c, {}, a)) == kSignatureInvalid);
  }
  SECTION("an Ed25519 key of small order is refused at registration") {
    Bytes identity(32, 0);
    identity[0] = 1;  // the neutral element
    auto r = VerifyRegistration(Rp(), kChallenge, Register(EdDsaCoseKey(identity)));
    CHECK(ReasonOf(r) == kMalformed);
  }
}

TEST_CASE("The signature counter follows §6.1.1", "[webauthn][counter]") {
  Credential c = RegisteredEs256();
  auto run = [&](uint32_t stored, uint32_t received) {
    Credential s = c;
    s.sign_count = stored;
    return VerifyAssertion(Rp(), kChallenge, s, {}, AssertEs256(kUp, received));
  };
  CHECK(*run(0, 0) == 0);  // an authenticator without a counter
  CHECK(*run(0, 7) == 7);
  CHECK(*run(5, 6) == 6);
  auto same = run(5, 5);
  REQUIRE_FALSE(same.has_value());
  CHECK(same.error().reason() == kCounterRegression);
  CHECK(same.error().code() == StatusCode::kUnauthenticated);
  CHECK(ReasonOf(run(5, 3)) == kCounterRegression);
  CHECK(ReasonOf(run(5, 0)) == kCounterRegression);  // a counter that vanished
  CHECK(*run(0xFFFFFFFE, 0xFFFFFFFF) == 0xFFFFFFFF);
}

TEST_CASE("clientDataJSON checks: type, challenge, origin, cross-origin, encoding",
          "[webauthn][clientdata]") {
  Bytes cose = Es256CoseKey(kP256X, kP256Y);
  auto reg_with = [&](const std::string& client_data) {
    RegistrationResponse r = Register(cose);
    r.client_data_json = ToBytes(client_data);
    return VerifyRegistration(Rp(), kChallenge, r);
  };
  CHECK(ReasonOf(reg_with(ClientDataText("webauthn.get", kChallenge))) == kWrongType);
  CHECK(ReasonOf(reg_with(ClientDataText("webauthn.create", Bytes(32, 7)))) == kChallengeMismatch);
  // A prefix of the challenge, and its padded base64 form, are not the challenge.
  CHECK(ReasonOf(reg_with(ClientDataText("webauthn.create", ByteView(kChallenge).first(31)))) ==
        kChallengeMismatch);
  CHECK(ReasonOf(reg_with(ClientDataText("webauthn.create", kChallenge, "https://evil.example"))) ==
        kOriginMismatch);
  CHECK(ReasonOf(reg_with(ClientDataText("webauthn.create", kChallenge,
                                         "https://medallion.example.evil"))) == kOriginMismatch);
  std::string cross = ClientDataText("webauthn.create", kChallenge);
  cross.replace(cross.find("\"crossOrigin\":false"), 19, "\"crossOrigin\":true");
  CHECK(ReasonOf(reg_with(cross)) == kOriginMismatch);
  CHECK(ReasonOf(reg_with(ClientDataText("webauthn.create", kChallenge, kOrigin,
                                         ",\"topOrigin\":\"https://other.example\""))) ==
        kOriginMismatch);
  std::string wrong_kind = cross;
  wrong_kind.replace(wrong_kind.find("true"), 4, "\"yes\"");
  CHECK(ReasonOf(reg_with(wrong_kind)) == kMalformed);
  CHECK(ReasonOf(reg_with("not json")) == kMalformed);
  CHECK(ReasonOf(reg_with("[1,2]")) == kMalformed);
  CHECK(ReasonOf(reg_with("{\"type\":\"webauthn.create\"}")) == kMalformed);
  CHECK(ReasonOf(reg_with(std::string(100, '[') + std::string(100, ']'))) == kMalformed);
  CHECK(ReasonOf(reg_with("{\"type\":\"webauthn.create\",\"x\":\"" +
                          std::string(kMaxClientDataJsonBytes, 'a') + "\"}")) == kMalformed);
  CHECK(ReasonOf(reg_with("{\"type\":\"webauthn.create\",\"challenge\":\"\xff\xfe\"}")) ==
        kMalformed);  // not UTF-8
  // Extra members are allowed (§5.8.1.1: future versions may add them).
  CHECK(reg_with(ClientDataText("webauthn.create", kChallenge, kOrigin,
                                ",\"other_keys_can_be_added_here\":\"x\""))
            .has_value());
  // No challenge issued: nothing matches.
  RegistrationResponse r = Register(cose);
  CHECK(ReasonOf(VerifyRegistration(Rp(), {}, r)) == kChallengeMismatch);
}

TEST_CASE("Authenticator data checks: RP ID, UP, UV, BE/BS, AT", "[webauthn][authdata]") {
  Bytes cose = Es256CoseKey(kP256X, kP256Y);
  CHECK(ReasonOf(VerifyRegistration(Rp(), kChallenge, Register(cose, kAt))) == kUserNotPresent);
  RelyingParty uv = Rp();
  uv.require_user_verification = true;
  auto reg = VerifyRegistration(uv, kChallenge, Register(cose));
  REQUIRE_FALSE(reg.has_value());
  CHECK(reg.error().reason() == kUserNotVerified);
  CHECK(reg.error().code() == StatusCode::kUnauthenticated);
  CHECK(VerifyRegistration(uv, kChallenge, Register(cose, kUp | kUv | kAt)).has_value());
  CHECK(ReasonOf(VerifyRegistration(Rp(), kChallenge, Register(cose, kUp | kBs | kAt))) ==
        kMalformed);
  CHECK(ReasonOf(VerifyRegistration(Rp(), kChallenge, Register(cose, kUp))) == kMalformed);
  RelyingParty other = Rp();
  other.rp_id = "example.org";
  CHECK(ReasonOf(VerifyRegistration(other, kChallenge, Register(cose))) == kRpIdMismatch);

  Credential c = RegisteredEs256();
  CHECK(ReasonOf(VerifyAssertion(Rp(), kChallenge, c, {}, AssertEs256(0, 1))) == kUserNotPresent);
  CHECK(ReasonOf(VerifyAssertion(uv, kChallenge, c, {}, AssertEs256(kUp, 1))) == kUserNotVerified);
  CHECK(ReasonOf(VerifyAssertion(Rp(), kChallenge, c, {}, AssertEs256(kUp | kBs, 1))) ==
        kMalformed);
  // BE is fixed at registration (§7.2 step 19).
  CHECK(ReasonOf(VerifyAssertion(Rp(), kChallenge, c, {}, AssertEs256(kUp | kBe, 1))) ==
        kCredentialMismatch);
  // Attested credential data has no place in an assertion.
  auto with_at = AssertEs256(AuthData(kRpId, kUp | kAt, 1, Attested(kCredId, cose)),
                             ClientDataText("webauthn.get", kChallenge));
  CHECK(ReasonOf(VerifyAssertion(Rp(), kChallenge, c, {}, with_at)) == kMalformed);
  auto wrong_rp =
      AssertEs256(AuthData("example.org", kUp, 1), ClientDataText("webauthn.get", kChallenge));
  CHECK(ReasonOf(VerifyAssertion(Rp(), kChallenge, c, {}, wrong_rp)) == kRpIdMismatch);
  auto wrong_type =
      AssertEs256(AuthData(kRpId, kUp, 1), ClientDataText("webauthn.create", kChallenge));
  CHECK(ReasonOf(VerifyAssertion(Rp(), kChallenge, c, {}, wrong_type)) == kWrongType);
}

TEST_CASE("Authenticator data framing: truncation, trailing bytes, extensions, ID length",
          "[webauthn][authdata]") {
  Bytes cose = Es256CoseKey(kP256X, kP256Y);
  auto reg_auth_data = [&](const Bytes& auth_data) {
    RegistrationResponse r = Register(cose);
    r.attestation_object = AttestationObject("none", auth_data);
    return VerifyRegistration(Rp(), kChallenge, r);
  };
  Bytes full = AuthData(kRpId, kUp | kAt, 0, Attested(kCredId, cose));
  REQUIRE(reg_auth_data(full).has_value());
  for (size_t cut :
       {size_t{0}, size_t{36}, size_t{37}, size_t{40}, size_t{54}, size_t{60}, full.size() - 1}) {
    INFO("cut at " << cut);
    CHECK(ReasonOf(reg_auth_data(Bytes(full.begin(), full.begin() + cut))) == kMalformed);
  }
  CHECK(ReasonOf(reg_auth_data(Concat(full, Bytes{0x00}))) == kMalformed);
  // Extensions (ED): a CBOR map after the key is skipped; anything else is malformed.
  auto ext = Entries();
  Add(ext, Text("credProtect"), Int(2));
  Add(ext, Text("nested"), Map({}));
  Bytes ext_map = Encode(Map(std::move(ext)));
  Bytes with_ext = AuthData(kRpId, kUp | kAt | kEd, 0, Concat(Attested(kCredId, cose), ext_map));
  CHECK(reg_auth_data(with_ext).has_value());
  CHECK(ReasonOf(reg_auth_data(Concat(with_ext, Bytes{0xa0}))) == kMalformed);
  Bytes ext_array =
      AuthData(kRpId, kUp | kAt | kEd, 0, Concat(Attested(kCredId, cose), Bytes{0x80}));
  CHECK(ReasonOf(reg_auth_data(ext_array)) == kMalformed);
  Bytes ext_missing = AuthData(kRpId, kUp | kAt | kEd, 0, Attested(kCredId, cose));
  CHECK(ReasonOf(reg_auth_data(ext_missing)) == kMalformed);
  // Credential ID length: 1023 is the most (§7.1 step 22); the ID must be rawId.
  Bytes long_id(1023, 0x5A);
  RegistrationResponse r = Register(cose);
  r.raw_id = long_id;
  r.attestation_object =
      AttestationObject("none", AuthData(kRpId, kUp | kAt, 0, Attested(long_id, cose)));
  CHECK(VerifyRegistration(Rp(), kChallenge, r).has_value());
  Bytes too_long(1024, 0x5A);
  r.raw_id = too_long;
  r.attestation_object =
      AttestationObject("none", AuthData(kRpId, kUp | kAt, 0, Attested(too_long, cose)));
  CHECK(ReasonOf(VerifyRegistration(Rp(), kChallenge, r)) == kMalformed);
  r = Register(cose);
  r.raw_id = Bytes(16, 0x01);
  CHECK(ReasonOf(VerifyRegistration(Rp(), kChallenge, r)) == kCredentialMismatch);
  // Assertion authenticator data: 37 bytes exactly, nothing after.
  Credential c = RegisteredEs256();
  auto a = AssertEs256(Concat(AuthData(kRpId, kUp, 1), Bytes{0x00}),
                       ClientDataText("webauthn.get", kChallenge));
  CHECK(ReasonOf(VerifyAssertion(Rp(), kChallenge, c, {}, a)) == kMalformed);
  a = AssertEs256(kUp, 1);
  a.authenticator_data.pop_back();
  CHECK(ReasonOf(VerifyAssertion(Rp(), kChallenge, c, {}, a)) == kMalformed);
  a = AssertEs256(kUp, 1);
  a.authenticator_data.resize(kMaxAuthenticatorDataBytes + 1);
  CHECK(ReasonOf(VerifyAssertion(Rp(), kChallenge, c, {}, a)) == kMalformed);
}

TEST_CASE("Attestation objects: malformed, huge, deep, indefinite and odd CBOR is refused",
          "[webauthn][cbor]") {
  Bytes cose = Es256CoseKey(kP256X, kP256Y);
  auto reg_att = [&](const Bytes& attestation_object) {
    RegistrationResponse r = Register(cose);
    r.attestation_object = attestation_object;
    auto result = VerifyRegistration(Rp(), kChallenge, r);
    if (!result) CHECK(result.error().code() == StatusCode::kInvalidArgument);
    return result;
  };
  Bytes good = Register(cose).attestation_object;
  REQUIRE(reg_att(good).has_value());
  CHECK(ReasonOf(reg_att({})) == kMalformed);
  CHECK(ReasonOf(reg_att(Bytes(good.begin(), good.end() - 1))) == kMalformed);
  CHECK(ReasonOf(reg_att(Concat(good, Bytes{0x00}))) == kMalformed);
  CHECK(ReasonOf(reg_att(Hex("f6"))) == kMalformed);  // null, not a map
  // Deep: 10,000 nested arrays; and just over the depth limit.
  Bytes deep(10000, 0x81);
  deep.push_back(0x00);
  CHECK(ReasonOf(reg_att(deep)) == kMalformed);
  Bytes deep17(17, 0x81);
  deep17.push_back(0x00);
  CHECK(ReasonOf(reg_att(deep17)) == kMalformed);
  // Huge: declared lengths far beyond the input (no allocation for them), and a big input.
  CHECK(ReasonOf(reg_att(Hex("9bffffffffffffffff00"))) == kMalformed);  // array of 2^64-1
  CHECK(ReasonOf(reg_att(Hex("bb7fffffffffffffff00"))) == kMalformed);  // map of 2^63-1
  CHECK(ReasonOf(reg_att(Hex("9a0010000000"))) == kMalformed);          // array of 2^20
  CHECK(ReasonOf(reg_att(Hex("5bffffffffffffffff00"))) == kMalformed);  // bytes of 2^64-1
  Bytes big = Hex("5a00010000");  // a 64 KiB byte string: over the 64 KiB bound in total
  big.resize(big.size() + 65536, 0x00);
  CHECK(ReasonOf(reg_att(big)) == kMalformed);
  // Many small items: the item bound.
  Bytes many = Hex("9a00002000");  // array of 8192 zeros
  many.resize(many.size() + 8192, 0x00);
  CHECK(ReasonOf(reg_att(many)) == kMalformed);
  // Indefinite lengths, tags, floats, undefined, reserved additional info, a stray break.
  CHECK(ReasonOf(reg_att(Hex("bf63666d74646e6f6e65ff"))) == kMalformed);
  CHECK(ReasonOf(reg_att(Hex("9f00ff"))) == kMalformed);
  CHECK(ReasonOf(reg_att(Hex("5f4100ff"))) == kMalformed);
  CHECK(ReasonOf(reg_att(Hex("c0a0"))) == kMalformed);
  CHECK(ReasonOf(reg_att(Hex("fa3f800000"))) == kMalformed);
  CHECK(ReasonOf(reg_att(Hex("f7"))) == kMalformed);
  CHECK(ReasonOf(reg_att(Hex("1c"))) == kMalformed);
  CHECK(ReasonOf(reg_att(Hex("ff"))) == kMalformed);
  // Members: missing, wrongly typed, duplicated.
  auto e = Entries();
  Add(e, Text("fmt"), Text("none"));
  Add(e, Text("attStmt"), Map({}));
  CHECK(ReasonOf(reg_att(Encode(Map(std::move(e))))) == kMalformed);
  e = Entries();
  Add(e, Text("fmt"), Int(1));
  Add(e, Text("attStmt"), Map({}));
  Add(e, Text("authData"), Blob(AuthData(kRpId, kUp | kAt, 0, Attested(kCredId, cose))));
  CHECK(ReasonOf(reg_att(Encode(Map(std::move(e))))) == kMalformed);
  e = Entries();
  Add(e, Text("fmt"), Text("none"));
  Add(e, Text("fmt"), Text("none"));
  Add(e, Text("attStmt"), Map({}));
  Add(e, Text("authData"), Blob(AuthData(kRpId, kUp | kAt, 0, Attested(kCredId, cose))));
  CHECK(ReasonOf(reg_att(Encode(Map(std::move(e))))) == kMalformed);
}

TEST_CASE("Attestation formats: only none, with an empty attStmt", "[webauthn][attestation]") {
  Bytes cose = Es256CoseKey(kP256X, kP256Y);
  auto packed = VerifyRegistration(Rp(), kChallenge, Register(cose, kUp | kAt, "packed"));
  REQUIRE_FALSE(packed.has_value());
  CHECK(packed.error().reason() == kAttestationUnsupported);
  CHECK(packed.error().code() == StatusCode::kInvalidArgument);
  CHECK(ReasonOf(VerifyRegistration(Rp(), kChallenge, Register(cose, kUp | kAt, "None"))) ==
        kAttestationUnsupported);
  // A format name that is not UTF-8 is invalid CBOR (RFC 8949 §3.1: text strings are UTF-8;
  // libcbor checks it); a long one is cut in the message.
  auto odd = VerifyRegistration(Rp(), kChallenge, Register(cose, kUp | kAt, "\xff\xfe\x01"));
  REQUIRE_FALSE(odd.has_value());
  CHECK(odd.error().reason() == kMalformed);
  auto long_fmt =
      VerifyRegistration(Rp(), kChallenge, Register(cose, kUp | kAt, std::string(500, 'p')));
  REQUIRE_FALSE(long_fmt.has_value());
  CHECK(long_fmt.error().reason() == kAttestationUnsupported);
  CHECK(long_fmt.error().message().size() < 200);
  auto stmt = Entries();
  Add(stmt, Text("alg"), Int(-7));
  RegistrationResponse r = Register(cose);
  r.attestation_object = AttestationObject(
      "none", AuthData(kRpId, kUp | kAt, 0, Attested(kCredId, cose)), Encode(Map(std::move(stmt))));
  CHECK(ReasonOf(VerifyRegistration(Rp(), kChallenge, r)) == kMalformed);
}

TEST_CASE("COSE keys: algorithms, curves and points", "[webauthn][cose]") {
  auto reg_key = [&](const Bytes& cose) {
    return ReasonOf(VerifyRegistration(Rp(), kChallenge, Register(cose)));
  };
  auto key = [](std::vector<std::pair<int64_t, Cbor>> members) {
    auto e = Entries();
    for (auto& [label, value] : members) Add(e, Int(label), std::move(value));
    return Encode(Map(std::move(e)));
  };
  // RS256 (alg -257, kty 3 RSA, RFC 8230): not accepted.
  Bytes n(256, 0xC5);
  std::vector<std::pair<int64_t, Cbor>> rsa;
  rsa.emplace_back(1, Int(3));
  rsa.emplace_back(3, Int(-257));
  rsa.emplace_back(-1, Blob(n));
  rsa.emplace_back(-2, Blob(Hex("010001")));
  auto rs256 = VerifyRegistration(Rp(), kChallenge, Register(key(std::move(rsa))));
  REQUIRE_FALSE(rs256.has_value());
  CHECK(rs256.error().reason() == kAlgorithmUnsupported);
  CHECK(rs256.error().code() == StatusCode::kInvalidArgument);
  auto ec2 = [&](int64_t kty, int64_t alg, int64_t crv, Bytes x, Bytes y) {
    std::vector<std::pair<int64_t, Cbor>> m;
    m.emplace_back(1, Int(kty));
    m.emplace_back(3, Int(alg));
    m.emplace_back(-1, Int(crv));
    m.emplace_back(-2, Blob(x));
    m.emplace_back(-3, Blob(y));
    return key(std::move(m));
  };
  CHECK(reg_key(ec2(2, -7, 2, kP256X, kP256Y)) == kAlgorithmUnsupported);   // P-384 curve
  CHECK(reg_key(ec2(2, -35, 2, kP256X, kP256Y)) == kAlgorithmUnsupported);  // ES384
  CHECK(reg_key(ec2(1, -7, 1, kP256X, kP256Y)) == kAlgorithmUnsupported);   // OKP for ES256
  CHECK(reg_key(ec2(2, -8, 6, kP256X, kP256Y)) == kAlgorithmUnsupported);   // EC2 for EdDSA
  // Not a point on P-256, the point (0, 0), a coordinate of 31 bytes.
  Bytes bad_y = kP256Y;
  bad_y[31] ^= 1;
  CHECK(reg_key(ec2(2, -7, 1, kP256X, bad_y)) == kMalformed);
  CHECK(reg_key(ec2(2, -7, 1, Bytes(32, 0), Bytes(32, 0))) == kMalformed);
  CHECK(reg_key(ec2(2, -7, 1, Bytes(kP256X.begin() + 1, kP256X.end()), kP256Y)) == kMalformed);
  CHECK(reg_key(ec2(2, -7, 1, kGx, kGy)) == "(ok)");
  // alg missing; a private key included; a compressed point (y as a bool); a label twice.
  std::vector<std::pair<int64_t, Cbor>> m;
  m.emplace_back(1, Int(2));
  m.emplace_back(-1, Int(1));
  m.emplace_back(-2, Blob(kP256X));
  m.emplace_back(-3, Blob(kP256Y));
  CHECK(reg_key(key(std::move(m))) == kMalformed);
  m.clear();
  m.emplace_back(1, Int(2));
  m.emplace_back(3, Int(-7));
  m.emplace_back(-1, Int(1));
  m.emplace_back(-2, Blob(kP256X));
  m.emplace_back(-3, Blob(kP256Y));
  m.emplace_back(-4, Blob(kP256D));
  CHECK(reg_key(key(std::move(m))) == kMalformed);
  m.clear();
  m.emplace_back(1, Int(2));
  m.emplace_back(3, Int(-7));
  m.emplace_back(-1, Int(1));
  m.emplace_back(-2, Blob(kP256X));
  m.emplace_back(-3, Cbor(cbor_build_bool(true)));
  CHECK(reg_key(key(std::move(m))) == kMalformed);
  m.clear();
  m.emplace_back(1, Int(2));
  m.emplace_back(3, Int(-7));
  m.emplace_back(3, Int(-7));
  m.emplace_back(-1, Int(1));
  m.emplace_back(-2, Blob(kP256X));
  m.emplace_back(-3, Blob(kP256Y));
  CHECK(reg_key(key(std::move(m))) == kMalformed);
  // ParseCoseKey directly: trailing bytes after the map, not a map.
  CHECK(ParseCoseKey(Concat(Es256CoseKey(kP256X, kP256Y), Bytes{0x00})).error().reason() ==
        kMalformed);
  CHECK(ParseCoseKey(Hex("80")).error().reason() == kMalformed);
  auto parsed = ParseCoseKey(Es256CoseKey(kP256X, kP256Y));
  REQUIRE(parsed.has_value());
  CHECK(parsed->x == kP256X);
  CHECK(parsed->y == kP256Y);
}

TEST_CASE("Assertions: credential, user handle and signature", "[webauthn][assertion]") {
  Credential c = RegisteredEs256();
  const Bytes user = ToBytes("user-7");
  auto a = AssertEs256(kUp, 1);
  a.user_handle = user;
  CHECK(VerifyAssertion(Rp(), kChallenge, c, user, a).has_value());
  CHECK(VerifyAssertion(Rp(), kChallenge, c, {}, a).has_value());  // not checked
  a.user_handle.clear();
  CHECK(VerifyAssertion(Rp(), kChallenge, c, user, a).has_value());  // absent: allowed
  a.user_handle = ToBytes("user-8");
  CHECK(ReasonOf(VerifyAssertion(Rp(), kChallenge, c, user, a)) == kCredentialMismatch);
  a = AssertEs256(kUp, 1);
  a.raw_id = Bytes(16, 0x01);
  CHECK(ReasonOf(VerifyAssertion(Rp(), kChallenge, c, {}, a)) == kCredentialMismatch);
  // Signed by another P-256 key (d = 1: the generator's key).
  Bytes one(32, 0);
  one[31] = 1;
  a = AssertEs256(AuthData(kRpId, kUp, 1), ClientDataText("webauthn.get", kChallenge), one);
  auto other_key = VerifyAssertion(Rp(), kChallenge, c, {}, a);
  REQUIRE_FALSE(other_key.has_value());
  CHECK(other_key.error().reason() == kSignatureInvalid);
  CHECK(other_key.error().code() == StatusCode::kUnauthenticated);
  // ...which verifies under the generator's stored key.
  Credential g = c;
  g.cose_public_key = Es256CoseKey(kGx, kGy);
  CHECK(VerifyAssertion(Rp(), kChallenge, g, {}, a).has_value());
  // clientDataJSON changed after signing; a raw r||s signature; an empty one.
  a = AssertEs256(kUp, 1);
  a.client_data_json = ToBytes(ClientDataText("webauthn.get", kChallenge, kOrigin, ",\"x\":1"));
  CHECK(ReasonOf(VerifyAssertion(Rp(), kChallenge, c, {}, a)) == kSignatureInvalid);
  a = AssertEs256(kUp, 1);
  a.signature = Bytes(64, 0x11);
  CHECK(ReasonOf(VerifyAssertion(Rp(), kChallenge, c, {}, a)) == kSignatureInvalid);
  a.signature.clear();
  CHECK(ReasonOf(VerifyAssertion(Rp(), kChallenge, c, {}, a)) == kSignatureInvalid);
  // A stored credential whose alg does not match its key.
  Credential mixed = c;
  mixed.alg = kCoseEdDsa;
  CHECK(ReasonOf(VerifyAssertion(Rp(), kChallenge, mixed, {}, AssertEs256(kUp, 1))) ==
        kAlgorithmUnsupported);
}
