// Web Authentication Level 3 relying-party verification: registration (§7.1) and
// authentication (§7.2) ceremonies, checked by the server itself. Attestation: "none" only
// (§8.7; any other format is refused with `attestation_unsupported`); algorithms ES256
// (COSE -7, P-256, through OpenSSL in wallet) and EdDSA (COSE -8, Ed25519). CBOR (RFC 8949)
// is parsed with libcbor; COSE keys per RFC 9052 §7 / RFC 9053 §2.
//
// Pure functions: no storage, no clock, no HTTP. The caller keeps challenges (single use,
// expiring) and stored credentials; these functions check one ceremony's data against them.
// Every refusal is a Status with a reason code (below) and a message naming what failed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "medallion/core/bytes.h"
#include "medallion/core/status.h"

namespace medallion::webauthn {

// Reason codes (Status::reason()) of refused ceremonies.
inline constexpr char kMalformed[] = "webauthn_malformed";  // unusable encoding, CBOR or JSON
inline constexpr char kWrongType[] = "webauthn_type";       // clientData.type mismatch
inline constexpr char kChallengeMismatch[] = "challenge_mismatch";
inline constexpr char kOriginMismatch[] = "origin_mismatch";
inline constexpr char kRpIdMismatch[] = "rp_id_mismatch";        // rpIdHash
inline constexpr char kUserNotPresent[] = "user_not_present";    // UP flag clear
inline constexpr char kUserNotVerified[] = "user_not_verified";  // UV required, clear
inline constexpr char kAttestationUnsupported[] = "attestation_unsupported";
inline constexpr char kAlgorithmUnsupported[] = "alg_unsupported";
inline constexpr char kSignatureInvalid[] = "signature_invalid";
inline constexpr char kCounterRegression[] = "counter_regression";    // §6.1.1
inline constexpr char kCredentialMismatch[] = "credential_mismatch";  // rawId / userHandle

// Status codes of the refusals: kMalformed, kAttestationUnsupported and kAlgorithmUnsupported
// are invalid_argument (the input cannot be used); every other reason is unauthenticated (the
// ceremony was understood and failed a check).

// Input bounds, checked before anything is parsed. Credential IDs: WebAuthn L3 §7.1 step 22.
inline constexpr size_t kMaxAttestationObjectBytes = 64 * 1024;
inline constexpr size_t kMaxAuthenticatorDataBytes = 64 * 1024;
inline constexpr size_t kMaxClientDataJsonBytes = 16 * 1024;
inline constexpr size_t kMaxCredentialIdBytes = 1023;

// COSE algorithm identifiers (IANA COSE Algorithms registry).
inline constexpr int64_t kCoseEs256 = -7;
inline constexpr int64_t kCoseEdDsa = -8;

// The relying party: its RP ID (a registrable domain such as "localhost" — never an IP
// address) and the exact origins it accepts ("http://localhost:8443").
struct RelyingParty {
  std::string rp_id;
  std::vector<std::string> origins;
  bool require_user_verification = false;
};

// A credential public key this module accepts (COSE_Key, RFC 9052 §7): EC2 (kty 2) on P-256
// (crv 1) with alg -7, or OKP (kty 1) on Ed25519 (crv 6) with alg -8 (RFC 9053 §2.1, §2.2,
// §7.1, §7.2).
struct CoseKey {
  int64_t alg = 0;  // kCoseEs256 or kCoseEdDsa
  Bytes x;          // 32 bytes
  Bytes y;          // ES256: 32 bytes; EdDSA: empty
};

// Parses `cose_key`, exactly one CBOR map (no trailing bytes), and checks it: alg, kty and crv
// one of the two pairs above (kAlgorithmUnsupported otherwise), coordinates of 32 bytes that
// are a valid P-256 point or a valid Ed25519 key, no private key member (kMalformed otherwise).
Result<CoseKey> ParseCoseKey(ByteView cose_key);

// A registered credential as the relying party stores it.
struct Credential {
  Bytes id;               // credentialId (rawId)
  Bytes cose_public_key;  // the credentialPublicKey, CBOR-encoded COSE_Key, as received
  int64_t alg = 0;        // kCoseEs256 or kCoseEdDsa
  uint32_t sign_count = 0;
  bool user_verified = false;
  bool backup_eligible = false;  // BE flag
  bool backed_up = false;        // BS flag
  Bytes aaguid;                  // 16 bytes
};

// What a registration response carries (the members of PublicKeyCredential with an
// AuthenticatorAttestationResponse), already base64url-decoded by the caller.
struct RegistrationResponse {
  Bytes raw_id;
  Bytes client_data_json;
  Bytes attestation_object;
};

// §7.1 steps 5-26 for "none" attestation: clientDataJSON (type "webauthn.create", challenge
// equal to `expected_challenge`, origin in rp.origins, no cross-origin), the attestation
// object's authData (rpIdHash = SHA-256(rp_id), UP set, UV set if required, AT set, the
// credential id equal to raw_id and at most 1023 bytes, a COSE key of an accepted algorithm
// and curve that parses as a valid point), fmt "none" with an empty attStmt. Returns the
// credential to store. Errors: invalid_argument / unauthenticated with the reason codes above.
Result<Credential> VerifyRegistration(const RelyingParty& rp, ByteView expected_challenge,
                                      const RegistrationResponse& response);

// An authentication response (AuthenticatorAssertionResponse), base64url-decoded.
struct AssertionResponse {
  Bytes raw_id;
  Bytes client_data_json;
  Bytes authenticator_data;
  Bytes signature;    // ES256: ASN.1 DER ECDSA signature; EdDSA: 64 bytes
  Bytes user_handle;  // may be empty
};

// §7.2 steps 5-24: the credential matches raw_id, clientDataJSON (type "webauthn.get",
// challenge, origin), rpIdHash, UP (and UV if required), the signature over
// authenticatorData || SHA-256(clientDataJSON) with the stored key, and the signature counter:
// if either the stored or the new count is non-zero, the new one must be greater
// (kCounterRegression otherwise). Returns the new sign count to store.
// `expected_user_handle` empty: not checked; otherwise a non-empty user_handle must equal it.
Result<uint32_t> VerifyAssertion(const RelyingParty& rp, ByteView expected_challenge,
                                 const Credential& stored, ByteView expected_user_handle,
                                 const AssertionResponse& response);

}  // namespace medallion::webauthn
