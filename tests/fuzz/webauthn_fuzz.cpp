// Fuzz target: WebAuthn relying-party checks over CBOR (webauthn/webauthn.h). The first byte picks
// what the rest of the input is:
//   0  a COSE_Key (ParseCoseKey)
//   1  a registration's attestation object (CBOR: fmt, attStmt, authData with the attested
//      credential data and its COSE key), with a valid clientDataJSON
//   2  a registration's clientDataJSON, with a valid attestation object
//   3  an assertion's authenticator data, signed here by the stored credential's key (Ed25519)
//      with a valid clientDataJSON, so the flags, rpIdHash and §6.1.1 counter checks are reached
//   4  an assertion's clientDataJSON, with valid authenticator data, signed here
//   5  an assertion's signature, over valid data
// Every mode also parses the whole input as a COSE key.
#include <string>

#include "fuzz_util.h"
#include "medallion/core/hash.h"
#include "medallion/webauthn/webauthn.h"

using namespace medallion;
using namespace medallion::webauthn;

namespace {

constexpr const char* kRpId = "localhost";
constexpr const char* kOrigin = "http://localhost:8443";

void Append(Bytes& out, ByteView b) { out.insert(out.end(), b.begin(), b.end()); }
void AppendText(Bytes& out, std::string_view s) { Append(out, AsBytes(s)); }

// CBOR head for a byte string of `n` bytes (RFC 8949 §3.1, major type 2).
void ByteStringHead(Bytes& out, size_t n) {
  if (n < 24) {
    out.push_back(static_cast<uint8_t>(0x40 | n));
  } else if (n < 256) {
    out.push_back(0x58);
    out.push_back(static_cast<uint8_t>(n));
  } else {
    out.push_back(0x59);
    out.push_back(static_cast<uint8_t>(n >> 8));
    out.push_back(static_cast<uint8_t>(n));
  }
}

struct Fixture {
  RelyingParty rp{kRpId, {kOrigin}, false};
  Bytes challenge = Bytes(32, 0x5a);
  Bytes credential_id = Bytes(16, 0x77);
  wallet::SigningKey key =
      wallet::MakeSigningKey(wallet::SignatureAlg::kEdDSA, Bytes(32, 0x71)).value();
  Bytes cose_key;
  Bytes attestation_object;
  Bytes authenticator_data;  // for assertions
  Credential stored;

  std::string ClientData(std::string_view type) const {
    return std::string("{\"type\":\"") + std::string(type) + "\",\"challenge\":\"" +
           Base64UrlEncode(challenge) + "\",\"origin\":\"" + kOrigin + "\",\"crossOrigin\":false}";
  }

  Fixture() {
    // COSE_Key {1: 1 (OKP), 3: -8 (EdDSA), -1: 6 (Ed25519), -2: x}.
    cose_key = {0xa4, 0x01, 0x01, 0x03, 0x27, 0x20, 0x06, 0x21, 0x58, 0x20};
    Append(cose_key, key.public_key);
    const Hash256 rp_hash = Sha256(AsBytes(kRpId));
    Bytes auth;
    Append(auth, rp_hash);
    auth.push_back(0x41);  // UP | AT
    Append(auth, Bytes{0, 0, 0, 1});
    Append(auth, Bytes(16, 0));  // AAGUID
    auth.push_back(0);
    auth.push_back(static_cast<uint8_t>(credential_id.size()));
    Append(auth, credential_id);
    Append(auth, cose_key);
    // {"fmt": "none", "attStmt": {}, "authData": auth}
    attestation_object = {0xa3, 0x63};
    AppendText(attestation_object, "fmt");
    attestation_object.push_back(0x64);
    AppendText(attestation_object, "none");
    attestation_object.push_back(0x67);
    AppendText(attestation_object, "attStmt");
    attestation_object.push_back(0xa0);
    attestation_object.push_back(0x68);
    AppendText(attestation_object, "authData");
    ByteStringHead(attestation_object, auth.size());
    Append(attestation_object, auth);

    Append(authenticator_data, rp_hash);
    authenticator_data.push_back(0x01);  // UP
    Append(authenticator_data, Bytes{0, 0, 0, 9});

    stored.id = credential_id;
    stored.cose_public_key = cose_key;
    stored.alg = kCoseEdDsa;
    stored.sign_count = 5;
  }

  Bytes SignAssertion(ByteView auth_data, std::string_view client_data) const {
    Bytes message(auth_data.begin(), auth_data.end());
    Append(message, Sha256(AsBytes(client_data)));
    return wallet::Sign(key, message).value();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Fixture* f = new Fixture();  // process lifetime
  if (size == 0) return 0;
  const ByteView rest(data + 1, size - 1);
  const Bytes input(rest.begin(), rest.end());
  (void)ParseCoseKey(ByteView(data, size));
  switch (data[0] % 6) {
    case 0:
      if (auto k = ParseCoseKey(rest)) MDL_FUZZ_CHECK(k->x.size() == 32);
      break;
    case 1: {
      const std::string cdj = f->ClientData("webauthn.create");
      RegistrationResponse r{f->credential_id, Bytes(cdj.begin(), cdj.end()), input};
      if (auto c = VerifyRegistration(f->rp, f->challenge, r)) {
        MDL_FUZZ_CHECK(c->id == f->credential_id);
        MDL_FUZZ_CHECK(ParseCoseKey(c->cose_public_key).has_value());
      }
      break;
    }
    case 2: {
      RegistrationResponse r{f->credential_id, input, f->attestation_object};
      (void)VerifyRegistration(f->rp, f->challenge, r);
      break;
    }
    case 3: {
      const std::string cdj = f->ClientData("webauthn.get");
      AssertionResponse a{f->credential_id, Bytes(cdj.begin(), cdj.end()), input,
                          f->SignAssertion(input, cdj), {}};
      if (auto count = VerifyAssertion(f->rp, f->challenge, f->stored, {}, a)) {
        MDL_FUZZ_CHECK(*count > f->stored.sign_count);
      }
      break;
    }
    case 4: {
      const std::string cdj(reinterpret_cast<const char*>(input.data()), input.size());
      AssertionResponse a{f->credential_id, input, f->authenticator_data,
                          f->SignAssertion(f->authenticator_data, cdj), {}};
      (void)VerifyAssertion(f->rp, f->challenge, f->stored, {}, a);
      break;
    }
    case 5: {
      const std::string cdj = f->ClientData("webauthn.get");
      AssertionResponse a{f->credential_id, Bytes(cdj.begin(), cdj.end()), f->authenticator_data,
                          input, f->credential_id};
      (void)VerifyAssertion(f->rp, f->challenge, f->stored, f->credential_id, a);
      break;
    }
  }
  return 0;
}
