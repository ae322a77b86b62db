// WebAuthn Level 3 relying-party verification: the registration (§7.1) and authentication
// (§7.2) ceremonies, authenticator data (§6.1), "none" attestation (§8.7) and COSE credential
// public keys (RFC 9052 §7, RFC 9053). Step numbers are those of the Level 3 editor's draft at
// w3c/webauthn 146d0db (the source of tests/vectors/webauthn/). CBOR (RFC 8949) is read with
// libcbor: a streaming pass checks each item's shape and bounds first, then cbor_load builds it.
#include "medallion/webauthn/webauthn.h"

#include <cbor.h>

#include <limits>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "medallion/core/encoding.h"
#include "medallion/core/hash.h"
#include "medallion/core/json.h"
#include "medallion/wallet/keys.h"

namespace medallion::webauthn {
namespace {

// CBOR bounds. A "none" attestation object nests two levels, a COSE key one; extensions a few.
constexpr size_t kMaxCborDepth = 16;  // nested containers
constexpr size_t kMaxCborItems = 4096;
// clientDataJSON is one flat object (§5.8.1); a little nesting for future members.
constexpr int kMaxClientDataDepth = 8;

// Authenticator data flags (§6.1).
constexpr uint8_t kFlagUp = 0x01;
constexpr uint8_t kFlagUv = 0x04;
constexpr uint8_t kFlagBe = 0x08;
constexpr uint8_t kFlagBs = 0x10;
constexpr uint8_t kFlagAt = 0x40;
constexpr uint8_t kFlagEd = 0x80;
// rpIdHash (32) + flags (1) + signCount (4), and attested credential data's fixed part:
// aaguid (16) + credentialIdLength (2).
constexpr size_t kAuthDataFixedBytes = 37;
constexpr size_t kAaguidBytes = 16;

// COSE_Key labels and values (RFC 9052 §7.1, RFC 9053 §7.1-7.2, IANA COSE registries).
constexpr int64_t kCoseLabelKty = 1;
constexpr int64_t kCoseLabelAlg = 3;
constexpr int64_t kCoseLabelCrv = -1;
constexpr int64_t kCoseLabelX = -2;
constexpr int64_t kCoseLabelY = -3;
constexpr int64_t kCoseLabelD = -4;
constexpr int64_t kCoseKtyOkp = 1;
constexpr int64_t kCoseKtyEc2 = 2;
constexpr int64_t kCoseCrvP256 = 1;
constexpr int64_t kCoseCrvEd25519 = 6;

Status Refuse(std::string_view reason, std::string_view detail) {
  std::string_view r = reason;
  bool unusable = r == kMalformed || r == kAttestationUnsupported || r == kAlgorithmUnsupported;
  return Status::WithReason(unusable ? StatusCode::kInvalidArgument : StatusCode::kUnauthenticated,
                            reason, detail);
}

Status Malformed(std::string_view what, std::string_view problem) {
  return Refuse(kMalformed, std::string(what) + ": " + std::string(problem));
}

// ---- CBOR: the shape check over libcbor's streaming decoder ----

// What the streaming pass knows: the items still expected by each open container (the bottom
// entry is the top-level item itself), the bytes left, and the first problem found.
struct CborScan {
  std::vector<uint64_t> open;
  size_t remaining = 0;
  size_t items = 0;
  const char* problem = nullptr;
};

CborScan* Scan(void* ctx) { return static_cast<CborScan*>(ctx); }

void Problem(void* ctx, const char* problem) {
  if (Scan(ctx)->problem == nullptr) Scan(ctx)->problem = problem;
}

// One complete item: count it against its container, closing the containers it completes.
void Complete(void* ctx) {
  CborScan* s = Scan(ctx);
  if (++s->items > kMaxCborItems) return Problem(ctx, "more CBOR items than allowed");
  while (!s->open.empty()) {
    if (--s->open.back() > 0) return;
    s->open.pop_back();
  }
}

// A definite container of `children` items (a map counts keys and values).
void Open(void* ctx, uint64_t children) {
  CborScan* s = Scan(ctx);
  if (s->open.size() > kMaxCborDepth) return Problem(ctx, "CBOR nested too deeply");
  // Every item takes at least one byte: a larger count is a lie that would make cbor_load
  // allocate for it.
  if (children > s->remaining) return Problem(ctx, "CBOR container longer than its input");
  if (children == 0) return Complete(ctx);
  s->open.push_back(children);
}

const cbor_callbacks& ScanCallbacks() {
  static const cbor_callbacks callbacks = [] {
    cbor_callbacks c = cbor_empty_callbacks;
    c.uint8 = [](void* ctx, uint8_t) { Complete(ctx); };
    c.uint16 = [](void* ctx, uint16_t) { Complete(ctx); };
    c.uint32 = [](void* ctx, uint32_t) { Complete(ctx); };
    c.uint64 = [](void* ctx, uint64_t) { Complete(ctx); };
    c.negint8 = [](void* ctx, uint8_t) { Complete(ctx); };
    c.negint16 = [](void* ctx, uint16_t) { Complete(ctx); };
    c.negint32 = [](void* ctx, uint32_t) { Complete(ctx); };
    c.negint64 = [](void* ctx, uint64_t) { Complete(ctx); };
    c.byte_string = [](void* ctx, cbor_data, size_t) { Complete(ctx); };
    c.string = [](void* ctx, cbor_data, size_t) { Complete(ctx); };
    c.boolean = [](void* ctx, bool) { Complete(ctx); };
    c.null = [](void* ctx) { Complete(ctx); };
    c.array_start = [](void* ctx, size_t n) { Open(ctx, n); };
    c.map_start = [](void* ctx, size_t n) {
      if (n > std::numeric_limits<uint64_t>::max() / 2) return Problem(ctx, "CBOR map too long");
      Open(ctx, uint64_t{2} * n);
    };
    // Nothing in an attestation object, authenticator data or COSE key needs these.
    c.byte_string_start = [](void* ctx) { Problem(ctx, "indefinite-length CBOR byte string"); };
    c.string_start = [](void* ctx) { Problem(ctx, "indefinite-length CBOR text string"); };
    c.indef_array_start = [](void* ctx) { Problem(ctx, "indefinite-length CBOR array"); };
    c.indef_map_start = [](void* ctx) { Problem(ctx, "indefinite-length CBOR map"); };
    c.indef_break = [](void* ctx) { Problem(ctx, "CBOR break outside an indefinite item"); };
    c.tag = [](void* ctx, uint64_t) { Problem(ctx, "CBOR tag"); };
    c.float2 = [](void* ctx, float) { Problem(ctx, "CBOR float"); };
    c.float4 = [](void* ctx, float) { Problem(ctx, "CBOR float"); };
    c.float8 = [](void* ctx, double) { Problem(ctx, "CBOR float"); };
    c.undefined = [](void* ctx) { Problem(ctx, "CBOR undefined"); };
    return c;
  }();
  return callbacks;
}

struct CborFree {
  void operator()(cbor_item_t* item) const { cbor_decref(&item); }
};
using CborPtr = std::unique_ptr<cbor_item_t, CborFree>;

// Decodes the one CBOR item at the start of `data` (RFC 8949 §5.3.1: well-formed; only
// definite lengths; no tags, floats or undefined; bounded depth and item count). Sets
// *consumed to its length if given; otherwise the item must be all of `data`.
Result<CborPtr> DecodeCbor(ByteView data, std::string_view what, size_t* consumed) {
  CborScan scan;
  scan.open.push_back(1);
  size_t offset = 0;
  while (!scan.open.empty()) {
    if (offset >= data.size()) return Malformed(what, "truncated CBOR");
    scan.remaining = data.size() - offset;
    cbor_decoder_result r =
        cbor_stream_decode(data.data() + offset, data.size() - offset, &ScanCallbacks(), &scan);
    if (r.status == CBOR_DECODER_NEDATA) return Malformed(what, "truncated CBOR");
    if (r.status != CBOR_DECODER_FINISHED || r.read == 0) return Malformed(what, "invalid CBOR");
    if (scan.problem != nullptr) return Malformed(what, scan.problem);
    offset += r.read;
  }
  if (consumed == nullptr && offset != data.size()) {
    return Malformed(what, "trailing bytes after the CBOR item");
  }
  cbor_load_result loaded{};
  CborPtr item(cbor_load(data.data(), offset, &loaded));
  if (!item || loaded.error.code != CBOR_ERR_NONE || loaded.read != offset) {
    return Malformed(what, "invalid CBOR");
  }
  if (consumed != nullptr) *consumed = offset;
  return item;
}

std::optional<int64_t> CborInt(const cbor_item_t* item) {
  if (!cbor_isa_uint(item) && !cbor_isa_negint(item)) return std::nullopt;
  uint64_t magnitude = cbor_get_int(item);
  if (magnitude > uint64_t(std::numeric_limits<int64_t>::max())) return std::nullopt;
  // Major type 1 encodes -1 - n (RFC 8949 §3.1).
  return cbor_isa_uint(item) ? int64_t(magnitude) : -1 - int64_t(magnitude);
}

bool IsText(const cbor_item_t* item, std::string_view text) {
  return cbor_isa_string(item) && cbor_string_is_definite(item) &&
         std::string_view(reinterpret_cast<const char*>(cbor_string_handle(item)),
                          cbor_string_length(item)) == text;
}

// The value under the first key for which `matches` holds, null if none; a key present twice
// is malformed (RFC 8949 §5.6: such a map is not valid for our purposes).
template <typename Match>
Result<cbor_item_t*> MapValue(const cbor_item_t* map, Match matches, std::string_view what) {
  cbor_pair* pairs = cbor_map_handle(map);
  cbor_item_t* found = nullptr;
  for (size_t i = 0; i < cbor_map_size(map); ++i) {
    if (!matches(pairs[i].key)) continue;
    if (found != nullptr) return Malformed(what, "duplicate map key");
    found = pairs[i].value;
  }
  return found;
}

Result<cbor_item_t*> TextKeyValue(const cbor_item_t* map, std::string_view key,
                                  std::string_view what) {
  return MapValue(
      map, [key](const cbor_item_t* k) { return IsText(k, key); }, what);
}

Result<cbor_item_t*> IntKeyValue(const cbor_item_t* map, int64_t key, std::string_view what) {
  return MapValue(
      map, [key](const cbor_item_t* k) { return CborInt(k) == std::optional<int64_t>(key); }, what);
}

ByteView CborBytes(const cbor_item_t* item) {
  return {cbor_bytestring_handle(item), cbor_bytestring_length(item)};
}

bool IsBytes(const cbor_item_t* item) {
  return cbor_isa_bytestring(item) && cbor_bytestring_is_definite(item);
}

// ---- authenticator data (§6.1) ----

struct AuthenticatorData {
  ByteView rp_id_hash;
  uint8_t flags = 0;
  uint32_t sign_count = 0;
  // Attested credential data (§6.5.1), when the AT flag is set.
  ByteView aaguid;
  ByteView credential_id;
  ByteView credential_public_key;
};

// Splits authenticator data into its fields: rpIdHash, flags, signCount (big-endian), then the
// attested credential data if AT is set and an extensions map if ED is set; nothing may follow.
Result<AuthenticatorData> ParseAuthenticatorData(ByteView data) {
  constexpr std::string_view kWhat = "authenticator data";
  if (data.size() > kMaxAuthenticatorDataBytes) return Malformed(kWhat, "too large");
  if (data.size() < kAuthDataFixedBytes) return Malformed(kWhat, "shorter than 37 bytes");
  AuthenticatorData ad;
  ad.rp_id_hash = data.subspan(0, 32);
  ad.flags = data[32];
  ad.sign_count = uint32_t(data[33]) << 24 | uint32_t(data[34]) << 16 | uint32_t(data[35]) << 8 |
                  uint32_t(data[36]);
  size_t offset = kAuthDataFixedBytes;
  if (ad.flags & kFlagAt) {
    if (data.size() - offset < kAaguidBytes + 2) {
      return Malformed(kWhat, "attested credential data truncated");
    }
    ad.aaguid = data.subspan(offset, kAaguidBytes);
    offset += kAaguidBytes;
    size_t id_len = size_t(data[offset]) << 8 | size_t(data[offset + 1]);
    offset += 2;
    // §7.1 step 22: credential IDs longer than 1023 bytes are refused.
    if (id_len > kMaxCredentialIdBytes) return Malformed(kWhat, "credential ID over 1023 bytes");
    if (data.size() - offset < id_len) return Malformed(kWhat, "credential ID truncated");
    ad.credential_id = data.subspan(offset, id_len);
    offset += id_len;
    size_t key_len = 0;
    MDL_ASSIGN_OR_RETURN(CborPtr key,
                         DecodeCbor(data.subspan(offset), "credential public key", &key_len));
    ad.credential_public_key = data.subspan(offset, key_len);
    offset += key_len;
  }
  if (ad.flags & kFlagEd) {
    size_t ext_len = 0;
    MDL_ASSIGN_OR_RETURN(CborPtr ext, DecodeCbor(data.subspan(offset), "extensions", &ext_len));
    if (!cbor_isa_map(ext.get())) return Malformed("extensions", "not a CBOR map");
    offset += ext_len;
  }
  if (offset != data.size()) return Malformed(kWhat, "trailing bytes");
  return ad;
}

// The checks §7.1 steps 14-17 and §7.2 steps 15-18 share: rpIdHash, UP, UV, and BS only with BE.
Status CheckAuthenticatorData(const RelyingParty& rp, const AuthenticatorData& ad) {
  Hash256 expected = Sha256(AsBytes(rp.rp_id));
  if (!ConstantTimeEqual(ad.rp_id_hash, expected)) {
    return Refuse(kRpIdMismatch, "rpIdHash is not SHA-256 of the RP ID");
  }
  if (!(ad.flags & kFlagUp)) return Refuse(kUserNotPresent, "the UP flag is not set");
  if (rp.require_user_verification && !(ad.flags & kFlagUv)) {
    return Refuse(kUserNotVerified, "user verification is required and the UV flag is not set");
  }
  // §6.1: BS may be set only if BE is.
  if ((ad.flags & kFlagBs) && !(ad.flags & kFlagBe)) {
    return Malformed("authenticator data", "the BS flag is set without BE");
  }
  return Status::Ok();
}

// ---- clientDataJSON (§5.8.1) ----

// §7.1 steps 5-11 / §7.2 steps 8-14: parse, then type, challenge, origin, cross-origin.
Status CheckClientData(const RelyingParty& rp, ByteView expected_challenge, ByteView json,
                       std::string_view expected_type) {
  constexpr std::string_view kWhat = "clientDataJSON";
  if (json.size() > kMaxClientDataJsonBytes) return Malformed(kWhat, "too large");
  JsonLimits limits;
  limits.max_bytes = kMaxClientDataJsonBytes;
  limits.max_depth = kMaxClientDataDepth;
  auto parsed = ParseJsonObject(
      std::string_view(reinterpret_cast<const char*>(json.data()), json.size()), kWhat, limits);
  if (!parsed) return Malformed(kWhat, parsed.error().message());
  const nlohmann::json& c = *parsed;
  auto type = RequiredString(c, "type");
  if (!type) return Malformed(kWhat, type.error().message());
  if (*type != expected_type) {
    return Refuse(kWrongType, "type is " + DescribeJsonValue(c["type"]) + ", expected \"" +
                                  std::string(expected_type) + "\"");
  }
  auto challenge = RequiredString(c, "challenge");
  if (!challenge) return Malformed(kWhat, challenge.error().message());
  // The spec compares the base64url encodings (§7.1 step 8); comparing strings avoids
  // trusting a lenient decoder, and is constant-time because challenges are secrets until used.
  std::string expected = Base64UrlEncode(expected_challenge);
  if (expected_challenge.empty() || !ConstantTimeEqual(AsBytes(*challenge), AsBytes(expected))) {
    return Refuse(kChallengeMismatch, "the challenge is not the one issued");
  }
  auto origin = RequiredString(c, "origin");
  if (!origin) return Malformed(kWhat, origin.error().message());
  bool known = false;
  for (const std::string& o : rp.origins) known = known || o == *origin;
  if (!known) {
    return Refuse(kOriginMismatch, "origin " + DescribeJsonValue(c["origin"]) + " is not accepted");
  }
  auto cross_origin = OptionalBool(c, "crossOrigin", false);
  if (!cross_origin) return Malformed(kWhat, cross_origin.error().message());
  // §7.1 steps 10-11 / §7.2 steps 13-14: this RP is never embedded in another site's frame.
  if (*cross_origin || c.contains("topOrigin")) {
    return Refuse(kOriginMismatch, "cross-origin ceremonies are not accepted");
  }
  return Status::Ok();
}

std::string Describe(int64_t v) { return std::to_string(v); }

}  // namespace

Result<CoseKey> ParseCoseKey(ByteView cose_key) {
  constexpr std::string_view kWhat = "credential public key";
  MDL_ASSIGN_OR_RETURN(CborPtr map, DecodeCbor(cose_key, kWhat, nullptr));
  if (!cbor_isa_map(map.get())) return Malformed(kWhat, "not a CBOR map");
  MDL_ASSIGN_OR_RETURN(cbor_item_t * kty_item, IntKeyValue(map.get(), kCoseLabelKty, kWhat));
  MDL_ASSIGN_OR_RETURN(cbor_item_t * alg_item, IntKeyValue(map.get(), kCoseLabelAlg, kWhat));
  MDL_ASSIGN_OR_RETURN(cbor_item_t * crv_item, IntKeyValue(map.get(), kCoseLabelCrv, kWhat));
  MDL_ASSIGN_OR_RETURN(cbor_item_t * x_item, IntKeyValue(map.get(), kCoseLabelX, kWhat));
  MDL_ASSIGN_OR_RETURN(cbor_item_t * y_item, IntKeyValue(map.get(), kCoseLabelY, kWhat));
  MDL_ASSIGN_OR_RETURN(cbor_item_t * d_item, IntKeyValue(map.get(), kCoseLabelD, kWhat));
  // §6.5.1.1: kty and alg are required; RFC 9052 allows text values, WebAuthn's are integers.
  if (kty_item == nullptr || alg_item == nullptr) return Malformed(kWhat, "kty or alg missing");
  std::optional<int64_t> kty = CborInt(kty_item);
  std::optional<int64_t> alg = CborInt(alg_item);
  if (!kty || !alg) return Refuse(kAlgorithmUnsupported, "kty or alg is not an integer");
  std::optional<int64_t> crv;
  if (crv_item != nullptr) crv = CborInt(crv_item);
  if (d_item != nullptr) return Malformed(kWhat, "carries a private key (d)");
  CoseKey key;
  key.alg = *alg;
  if (*alg == kCoseEs256) {
    // RFC 9053 §2.1 and §7.1: ES256 with an EC2 key on P-256, y given as a byte string.
    if (*kty != kCoseKtyEc2 || crv != kCoseCrvP256) {
      return Refuse(kAlgorithmUnsupported, "ES256 needs kty 2 (EC2) and crv 1 (P-256)");
    }
    if (x_item == nullptr || y_item == nullptr || !IsBytes(x_item) || !IsBytes(y_item)) {
      return Malformed(kWhat, "x and y must be byte strings");
    }
    ByteView x = CborBytes(x_item);
    ByteView y = CborBytes(y_item);
    if (x.size() != wallet::kP256CoordinateBytes || y.size() != wallet::kP256CoordinateBytes) {
      return Malformed(kWhat, "P-256 coordinates must be 32 bytes");
    }
    if (!wallet::IsValidP256PublicKey(x, y)) return Malformed(kWhat, "not a point on P-256");
    key.x.assign(x.begin(), x.end());
    key.y.assign(y.begin(), y.end());
    return key;
  }
  if (*alg == kCoseEdDsa) {
    // RFC 9053 §2.2 and §7.2: EdDSA with an OKP key on Ed25519, no y.
    if (*kty != kCoseKtyOkp || crv != kCoseCrvEd25519) {
      return Refuse(kAlgorithmUnsupported, "EdDSA needs kty 1 (OKP) and crv 6 (Ed25519)");
    }
    if (x_item == nullptr || !IsBytes(x_item) || y_item != nullptr) {
      return Malformed(kWhat, "an OKP key has a byte string x and no y");
    }
    ByteView x = CborBytes(x_item);
    if (!wallet::IsValidEd25519PublicKey(x)) return Malformed(kWhat, "not a valid Ed25519 key");
    key.x.assign(x.begin(), x.end());
    return key;
  }
  return Refuse(kAlgorithmUnsupported, "COSE algorithm " + Describe(*alg) + " is not accepted");
}

Result<Credential> VerifyRegistration(const RelyingParty& rp, ByteView expected_challenge,
                                      const RegistrationResponse& response) {
  // §7.1 steps 5-11.
  MDL_RETURN_IF_ERROR(
      CheckClientData(rp, expected_challenge, response.client_data_json, "webauthn.create"));
  // §7.1 step 13: decode the attestation object (§6.5.4) into fmt, authData and attStmt.
  constexpr std::string_view kWhat = "attestation object";
  if (response.attestation_object.size() > kMaxAttestationObjectBytes) {
    return Malformed(kWhat, "too large");
  }
  MDL_ASSIGN_OR_RETURN(CborPtr att, DecodeCbor(response.attestation_object, kWhat, nullptr));
  if (!cbor_isa_map(att.get())) return Malformed(kWhat, "not a CBOR map");
  MDL_ASSIGN_OR_RETURN(cbor_item_t * fmt, TextKeyValue(att.get(), "fmt", kWhat));
  MDL_ASSIGN_OR_RETURN(cbor_item_t * att_stmt, TextKeyValue(att.get(), "attStmt", kWhat));
  MDL_ASSIGN_OR_RETURN(cbor_item_t * auth_data_item, TextKeyValue(att.get(), "authData", kWhat));
  if (fmt == nullptr || !cbor_isa_string(fmt)) return Malformed(kWhat, "fmt must be a text string");
  if (att_stmt == nullptr || !cbor_isa_map(att_stmt)) {
    return Malformed(kWhat, "attStmt must be a map");
  }
  if (auth_data_item == nullptr || !IsBytes(auth_data_item)) {
    return Malformed(kWhat, "authData must be a byte string");
  }
  ByteView auth_data_bytes = CborBytes(auth_data_item);
  MDL_ASSIGN_OR_RETURN(AuthenticatorData ad, ParseAuthenticatorData(auth_data_bytes));
  // §7.1 steps 14-17.
  MDL_RETURN_IF_ERROR(CheckAuthenticatorData(rp, ad));
  if (!(ad.flags & kFlagAt)) {
    return Malformed("authenticator data", "no attested credential data (AT clear)");
  }
  // The authData's credential is the one the client reported (§5.1.3 fills rawId from it).
  if (!ConstantTimeEqual(ad.credential_id, response.raw_id)) {
    return Refuse(kCredentialMismatch, "rawId is not the credential ID in authData");
  }
  // §7.1 step 20: the credential public key's algorithm is one of ours.
  MDL_ASSIGN_OR_RETURN(CoseKey key, ParseCoseKey(ad.credential_public_key));
  // §7.1 step 21: only the "none" format (§8.7), whose attStmt is an empty map.
  if (!IsText(fmt, "none")) {
    std::string name(reinterpret_cast<const char*>(cbor_string_handle(fmt)),
                     std::min<size_t>(cbor_string_length(fmt), 32));
    return Refuse(kAttestationUnsupported, "attestation format " +
                                               DescribeJsonValue(nlohmann::json(name)) +
                                               " is not accepted, only \"none\"");
  }
  if (cbor_map_size(att_stmt) != 0) return Malformed(kWhat, "a \"none\" attStmt must be empty");
  // §7.1 step 23 (an ID registered to another user) and step 25 (storing) are the caller's.
  Credential credential;
  credential.id.assign(ad.credential_id.begin(), ad.credential_id.end());
  credential.cose_public_key.assign(ad.credential_public_key.begin(),
                                    ad.credential_public_key.end());
  credential.alg = key.alg;
  credential.sign_count = ad.sign_count;
  credential.user_verified = (ad.flags & kFlagUv) != 0;
  credential.backup_eligible = (ad.flags & kFlagBe) != 0;
  credential.backed_up = (ad.flags & kFlagBs) != 0;
  credential.aaguid.assign(ad.aaguid.begin(), ad.aaguid.end());
  return credential;
}

Result<uint32_t> VerifyAssertion(const RelyingParty& rp, ByteView expected_challenge,
                                 const Credential& stored, ByteView expected_user_handle,
                                 const AssertionResponse& response) {
  // §7.2 steps 5-6: the credential is the stored one, and belongs to the expected user.
  if (!ConstantTimeEqual(response.raw_id, stored.id)) {
    return Refuse(kCredentialMismatch, "rawId is not the stored credential's ID");
  }
  if (!expected_user_handle.empty() && !response.user_handle.empty() &&
      !ConstantTimeEqual(response.user_handle, expected_user_handle)) {
    return Refuse(kCredentialMismatch, "userHandle is not the expected user's");
  }
  // §7.2 steps 8-14.
  MDL_RETURN_IF_ERROR(
      CheckClientData(rp, expected_challenge, response.client_data_json, "webauthn.get"));
  MDL_ASSIGN_OR_RETURN(AuthenticatorData ad, ParseAuthenticatorData(response.authenticator_data));
  if (ad.flags & kFlagAt) {
    return Malformed("authenticator data", "attested credential data in an assertion");
  }
  // §7.2 steps 15-18.
  MDL_RETURN_IF_ERROR(CheckAuthenticatorData(rp, ad));
  // §7.2 step 19: backup eligibility is fixed when the credential is created.
  if (((ad.flags & kFlagBe) != 0) != stored.backup_eligible) {
    return Refuse(kCredentialMismatch, "the BE flag differs from the registered credential's");
  }
  // §7.2 steps 20-21: the signature over authenticatorData || SHA-256(clientDataJSON).
  MDL_ASSIGN_OR_RETURN(CoseKey key, ParseCoseKey(stored.cose_public_key));
  if (key.alg != stored.alg) {
    return Refuse(kAlgorithmUnsupported, "the stored key's algorithm is not the stored alg");
  }
  Hash256 client_data_hash = Sha256(response.client_data_json);
  Bytes signed_data = Concat(response.authenticator_data, client_data_hash);
  bool valid =
      key.alg == kCoseEs256
          ? wallet::VerifyEs256P256(key.x, key.y, signed_data, response.signature)
          : wallet::Verify(wallet::SignatureAlg::kEdDSA, key.x, signed_data, response.signature);
  if (!valid) return Refuse(kSignatureInvalid, "the assertion signature does not verify");
  // §7.2 step 22 / §6.1.1: once either count is non-zero, counts must strictly increase.
  if ((ad.sign_count != 0 || stored.sign_count != 0) && ad.sign_count <= stored.sign_count) {
    return Refuse(kCounterRegression, "signCount " + std::to_string(ad.sign_count) +
                                          " is not greater than the stored " +
                                          std::to_string(stored.sign_count));
  }
  return ad.sign_count;
}

}  // namespace medallion::webauthn
