// OpenID4VCI 1.0 Credential Issuer: Pre-Authorized and Authorization Code Flows, deferred issuance
// (issuer.h, docs/openid4vc.md).
#include "medallion/oid4vc/issuer.h"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "medallion/claims/credentials.h"
#include "medallion/claims/pharmacy.h"
#include "medallion/claims/sd_jwt.h"
#include "medallion/core/encoding.h"
#include "medallion/core/hash.h"
#include "medallion/core/json.h"
#include "medallion/did/did_key.h"
#include "medallion/storage/sqlite.h"
#include "medallion/wallet/keys.h"

namespace medallion::oid4vc {

using nlohmann::json;
using sql::Stmt;

namespace {

constexpr std::string_view kWhat = "oid4vci";
// tokens.used: fresh; claimed by a credential request whose role is making the credential
// (outside the lock); spent. Only fresh tokens are accepted anywhere.
constexpr int kTokenFresh = 0;
constexpr int kTokenSpent = 1;
constexpr int kTokenInProgress = 2;

// The unused c_nonces one access token may hold at once (Issuer::Nonce drops the oldest).
constexpr int kMaxNoncesPerToken = 16;

constexpr const char* kMigrations[] = {
    // 1: offers (the pre-authorized code and the transaction code, digests only), access
    // tokens (bound to their offer) and c_nonces (bound to a token or to none).
    "CREATE TABLE offers (id TEXT PRIMARY KEY, code_digest BLOB NOT NULL UNIQUE, "
    "  tx_digest BLOB, configuration TEXT NOT NULL, claims TEXT NOT NULL, "
    "  disclosable TEXT NOT NULL, label TEXT NOT NULL, offer TEXT NOT NULL, "
    "  created INTEGER NOT NULL, expires INTEGER NOT NULL, redeemed INTEGER NOT NULL DEFAULT 0, "
    "  tx_failures INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE tokens (digest BLOB PRIMARY KEY, offer TEXT NOT NULL REFERENCES offers(id), "
    "  expires INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE nonces (digest BLOB PRIMARY KEY, token BLOB, expires INTEGER NOT NULL, "
    "  used INTEGER NOT NULL DEFAULT 0);",
    // 2: the DID an ldp_vc offer's key proof must belong to ('' for dc+sd-jwt).
    "ALTER TABLE offers ADD COLUMN holder_did TEXT NOT NULL DEFAULT '';",
    // 3: deferred issuance (§9): offers whose claims come later, and the transaction ids given
    // for them (digests), each bound to the access token (digest) and the proven key (a JWK).
    "ALTER TABLE offers ADD COLUMN deferred INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE transactions (digest BLOB PRIMARY KEY, token BLOB NOT NULL, "
    "  offer TEXT NOT NULL REFERENCES offers(id), holder_jwk TEXT NOT NULL, "
    "  expires INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0);",
    // 4: the Authorization Code Flow: an offer's issuer_state (digest; NULL for pre-authorized
    // offers) and the authorization codes (digests), bound to client, redirect and challenge.
    "ALTER TABLE offers ADD COLUMN state_digest BLOB;"
    "CREATE UNIQUE INDEX offers_by_state ON offers(state_digest);"
    "CREATE TABLE auth_codes (digest BLOB PRIMARY KEY, offer TEXT NOT NULL REFERENCES offers(id), "
    "  client_id TEXT NOT NULL, redirect_uri TEXT NOT NULL, challenge TEXT NOT NULL, "
    "  expires INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0);",
};

// RFC 7636 §4.1: code_verifier = 43*128 unreserved characters.
bool IsCodeVerifier(std::string_view v) {
  if (v.size() < 43 || v.size() > 128) return false;
  for (char c : v)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
          c == '~'))
      return false;
  return true;
}

// RFC 6749 §3.1.2: an absolute URI (a scheme, then ':'), no fragment; wallets use https or
// their own scheme. No spaces or control characters.
bool IsRedirectUri(std::string_view uri) {
  if (uri.size() > 2048 || uri.find('#') != std::string_view::npos) return false;
  const size_t colon = uri.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == uri.size()) return false;
  if (!std::isalpha(static_cast<unsigned char>(uri[0]))) return false;
  for (size_t i = 0; i < colon; ++i)
    if (!(std::isalnum(static_cast<unsigned char>(uri[i])) || uri[i] == '+' || uri[i] == '-' ||
          uri[i] == '.'))
      return false;
  for (char c : uri)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;
  return true;
}

Status Err(StatusCode code, std::string_view reason, std::string_view detail) {
  return Status::WithReason(code, reason, detail);
}
Status Bad(std::string_view reason, std::string_view detail) {
  return Err(StatusCode::kInvalidArgument, reason, detail);
}

// RFC 7518 §3.4: the 64-byte R || S of an ES256 JWS as the DER ECDSA-Sig-Value the wallet's
// P-256 check takes.
Bytes RawToDer(ByteView raw) {
  auto integer = [](ByteView v) {
    size_t i = 0;
    while (i + 1 < v.size() && v[i] == 0) ++i;
    Bytes out{0x02};
    const bool pad = (v[i] & 0x80) != 0;
    out.push_back(static_cast<uint8_t>(v.size() - i + (pad ? 1 : 0)));
    if (pad) out.push_back(0);
    out.insert(out.end(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
    return out;
  };
  Bytes r = integer(raw.subspan(0, 32)), s = integer(raw.subspan(32, 32));
  Bytes der{0x30, static_cast<uint8_t>(r.size() + s.size())};
  der.insert(der.end(), r.begin(), r.end());
  der.insert(der.end(), s.begin(), s.end());
  return der;
}

// A JOSE algorithm of a key proof (metadata proof_signing_alg_values_supported).
enum class ProofAlg { kEdDSA, kES256 };

struct PublicKey {
  ProofAlg alg;
  Bytes x, y;       // Ed25519: x = the 32-byte key; P-256: the coordinates
  std::string did;  // the DID of a `kid` ("" for a `jwk`)
};

// A public JWK (RFC 7517) of an Ed25519 (RFC 8037 §2) or P-256 (RFC 7518 §6.2.1) key. Private
// members are refused.
Result<PublicKey> KeyFromJwk(const json& jwk) {
  if (!jwk.is_object()) return Bad(error::kInvalidProof, "jwk is not an object");
  if (jwk.contains("d")) return Bad(error::kInvalidProof, "jwk carries a private key");
  const std::string kty = jwk.value("kty", ""), crv = jwk.value("crv", "");
  auto coord = [&](const char* name) -> Result<Bytes> {
    if (!jwk.contains(name) || !jwk[name].is_string())
      return Bad(error::kInvalidProof, std::string("jwk has no ") + name);
    auto b = Base64UrlDecode(jwk[name].get<std::string>());
    if (!b || b->size() != 32)
      return Bad(error::kInvalidProof, std::string("jwk ") + name + " is not 32 bytes");
    return *b;
  };
  if (kty == "OKP" && crv == "Ed25519") {
    MDL_ASSIGN_OR_RETURN(Bytes x, coord("x"));
    if (!wallet::IsValidEd25519PublicKey(x))
      return Bad(error::kInvalidProof, "jwk is not a valid Ed25519 key");
    return PublicKey{ProofAlg::kEdDSA, std::move(x), {}, ""};
  }
  if (kty == "EC" && crv == "P-256") {
    MDL_ASSIGN_OR_RETURN(Bytes x, coord("x"));
    MDL_ASSIGN_OR_RETURN(Bytes y, coord("y"));
    if (!wallet::IsValidP256PublicKey(x, y))
      return Bad(error::kInvalidProof, "jwk is not a P-256 point");
    return PublicKey{ProofAlg::kES256, std::move(x), std::move(y), ""};
  }
  return Bad(error::kInvalidProof, "jwk: only OKP Ed25519 and EC P-256 keys are supported");
}

json PublicJwk(const PublicKey& k) {
  if (k.alg == ProofAlg::kEdDSA)
    return {{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", Base64UrlEncode(k.x)}};
  return {
      {"kty", "EC"}, {"crv", "P-256"}, {"x", Base64UrlEncode(k.x)}, {"y", Base64UrlEncode(k.y)}};
}

// Appendix F.1 `kid`: a DID URL naming the key: did:key (Ed25519; the fragment, if any, is the
// multibase key itself) or did:jwk (the fragment, if any, is "0").
Result<PublicKey> KeyFromKid(std::string_view kid) {
  const size_t hash = kid.find('#');
  const std::string_view did = kid.substr(0, hash);
  const std::string_view fragment = hash == std::string_view::npos ? "" : kid.substr(hash + 1);
  if (did.starts_with("did:key:")) {
    auto k = did::ParseDidKey(did);
    if (!k) return Bad(error::kInvalidProof, "kid: " + k.error().message());
    if (k->type != did::KeyType::kEd25519)
      return Bad(error::kInvalidProof, "kid: only Ed25519 did:key keys are supported");
    if (!fragment.empty() && fragment != k->multibase)
      return Bad(error::kInvalidProof, "kid: the fragment does not name the did:key's key");
    return PublicKey{ProofAlg::kEdDSA, k->public_key, {}, std::string(did)};
  }
  if (did.starts_with("did:jwk:")) {
    if (!fragment.empty() && fragment != "0")
      return Bad(error::kInvalidProof, "kid: a did:jwk key is #0");
    auto bytes = Base64UrlDecode(did.substr(8));
    if (!bytes) return Bad(error::kInvalidProof, "kid: did:jwk is not base64url");
    auto jwk = ParseJsonObject(ToString(*bytes), "did:jwk");
    if (!jwk) return Bad(error::kInvalidProof, "kid: did:jwk is not a JSON object");
    MDL_ASSIGN_OR_RETURN(PublicKey key, KeyFromJwk(*jwk));
    key.did = std::string(did);
    return key;
  }
  return Bad(error::kInvalidProof, "kid: only did:key and did:jwk key ids are supported");
}

std::string Digits(Rng& rng, int n) {
  std::string out;
  while (static_cast<int>(out.size()) < n) {
    Bytes b = rng.RandomBytes(16);
    for (uint8_t c : b) {
      if (c < 250 && static_cast<int>(out.size()) < n)
        out.push_back(static_cast<char>('0' + c % 10));
    }
  }
  return out;
}

}  // namespace

CredentialConfiguration PrescriptionConfiguration(
    std::function<Result<IssuedCredential>(const IssueRequest&)> issue,
    std::function<Status(const IssueRequest&)> precheck) {
  auto claim = [](json path, const char* label) {
    return json{{"path", std::move(path)},
                {"display", json::array({{{"name", label}, {"locale", "en"}}})}};
  };
  json metadata = {
      {"format", "dc+sd-jwt"},
      {"vct", claims::kPrescriptionVct},
      {"cryptographic_binding_methods_supported", json::array({"jwk", "did:key"})},
      {"credential_signing_alg_values_supported", json::array({"EdDSA"})},
      {"credential_metadata",
       {{"display", json::array({{{"name", "Prescription"}, {"locale", "en"}}})},
        {"claims",
         json::array({claim({"prescription", "medicationCodeableConcept"}, "Medication"),
                      claim({"prescription", "dispenseRequest"}, "Quantity and refills"),
                      claim({"prescription", "dosageInstruction"}, "Instructions"),
                      claim({"controlledSubstanceSchedule"}, "Controlled-substance schedule"),
                      claim({"sub"}, "Patient"), claim({"license"}, "Prescriber's license")})}}}};
  CredentialConfiguration c;
  c.id = std::string(kPrescriptionSdJwtConfiguration);
  c.metadata_json = metadata.dump();
  c.scope = "PrescriptionCredential";
  c.proof_algs = {"EdDSA"};
  c.issue = std::move(issue);
  c.precheck = std::move(precheck);
  return c;
}

struct Issuer::HolderKey {
  PublicKey key;
};

Issuer::Issuer(sqlite3* db, IssuerOptions options, Env env)
    : db_(db), options_(std::move(options)), env_(env) {
  issuer_did_ =
      options_.signer.verification_method.substr(0, options_.signer.verification_method.find('#'));
}

Issuer::~Issuer() { sqlite3_close(db_); }

Result<std::unique_ptr<Issuer>> Issuer::Open(const std::string& path, IssuerOptions options,
                                             Env env) {
  const std::string& id = options.credential_issuer;
  if (!(id.starts_with("https://") || id.starts_with("http://")) ||
      id.find_first_of("?#") != std::string::npos || id.ends_with("/"))
    return Status::InvalidArgument(
        "the credential issuer identifier must be an http(s) URL without query, fragment or a "
        "trailing slash");
  if (!options.signer.verification_method.starts_with("did:") ||
      options.signer.verification_method.find('#') == std::string::npos)
    return Status::InvalidArgument("the issuer's signer must be named by a DID URL");
  if (options.tx_code_length < 4 || options.tx_code_length > 12 || options.max_tx_code_attempts < 1)
    return Status::InvalidArgument("tx_code_length is 4..12 and max_tx_code_attempts >= 1");
  sqlite3* db = nullptr;
  MDL_RETURN_IF_ERROR(sql::OpenDatabase(path, kWhat, kMigrations, &db));
  return std::unique_ptr<Issuer>(new Issuer(db, std::move(options), env));
}

Bytes Issuer::Digest(std::string_view secret) const {
  Hash256 h = Sha256(AsBytes(secret));
  return Bytes(h.begin(), h.end());
}

int64_t Issuer::Now() const { return env_.clock->NowMillis() / 1000; }

std::string Issuer::Endpoint(std::string_view name) const {
  return options_.credential_issuer + "/oid4vci/" + std::string(name);
}

std::string Issuer::CredentialIssuerMetadata() const {
  // §12.2.4; the configuration's members: §12.2.4 (format, scope, binding methods, signing
  // algorithms, proof types, credential_metadata) and Appendix A.3.2 (dc+sd-jwt: vct).
  json display = json::array({{{"name", "Medical license"}, {"locale", "en"}}});
  auto claim = [](const char* name, const char* label) {
    return json{{"path", json::array({name})},
                {"display", json::array({{{"name", label}, {"locale", "en"}}})}};
  };
  json license = {
      {"format", "dc+sd-jwt"},
      {"scope", "MedicalLicenseCredential"},
      {"vct", std::string(kLicenseVct)},
      {"cryptographic_binding_methods_supported", json::array({"jwk", "did:key", "did:jwk"})},
      {"credential_signing_alg_values_supported",
       json::array({std::string(claims::AlgName(options_.signer.alg))})},
      {"proof_types_supported",
       {{"jwt", {{"proof_signing_alg_values_supported", json::array({"ES256", "EdDSA"})}}}}},
      {"credential_metadata",
       {{"display", display},
        {"claims",
         json::array({claim("name", "Name"), claim("license_number", "License number"),
                      claim("jurisdiction", "Jurisdiction"), claim("license_type", "License type"),
                      claim("specialty", "Specialty"),
                      claim("schedules", "Controlled-substance schedules")})}}}};
  // Appendix A.1.2 (ldp_vc): credential_definition with @context and type.
  json ldp = {
      {"format", "ldp_vc"},
      {"scope", "MedicalLicenseCredential_ldp_vc"},
      {"credential_definition",
       {{"@context", json::array({claims::kVcContextV2, claims::kMedallionContext})},
        {"type", json::array({"VerifiableCredential", "MedicalLicenseCredential"})}}},
      {"cryptographic_binding_methods_supported", json::array({"did:key", "did:jwk"})},
      {"credential_signing_alg_values_supported", json::array({"eddsa-jcs-2022"})},
      {"proof_types_supported",
       {{"jwt", {{"proof_signing_alg_values_supported", json::array({"ES256", "EdDSA"})}}}}},
      {"credential_metadata", {{"display", display}}}};
  json m = {{"credential_issuer", options_.credential_issuer},
            {"credential_endpoint", Endpoint("credential")},
            {"nonce_endpoint", Endpoint("nonce")},
            {"display", json::array({{{"name", options_.display_name}, {"locale", "en"}}})}};
  if (options_.configurations.empty()) {
    m["deferred_credential_endpoint"] = Endpoint("deferred_credential");
    m["credential_configurations_supported"] = {{std::string(kLicenseSdJwtConfiguration), license},
                                                {std::string(kLicenseLdpConfiguration), ldp}};
    return m.dump();
  }
  // The role's configurations: its object, with the scope and the proof types this pipeline
  // checks (§12.2.4 proof_types_supported).
  json configurations = json::object();
  for (const CredentialConfiguration& c : options_.configurations) {
    json object = json::parse(c.metadata_json, nullptr, false);
    if (!object.is_object()) object = json::object();
    object["scope"] = c.scope;
    object["proof_types_supported"] = {
        {"jwt", {{"proof_signing_alg_values_supported", c.proof_algs}}}};
    configurations[c.id] = std::move(object);
  }
  m["credential_configurations_supported"] = std::move(configurations);
  return m.dump();
}

std::string Issuer::AuthorizationServerMetadata() const {
  json m = {{"issuer", options_.credential_issuer},
            {"token_endpoint", Endpoint("token")},
            {"authorization_endpoint", Endpoint("authorize")},
            {"grant_types_supported",
             json::array({std::string(kPreAuthorizedGrant), "authorization_code"})},
            {"response_types_supported", json::array({"code"})},
            {"code_challenge_methods_supported", json::array({"S256"})},
            {"authorization_details_types_supported", json::array({"openid_credential"})},
            {"authorization_response_iss_parameter_supported", true},
            {"token_endpoint_auth_methods_supported", json::array({"none"})},
            {"pre-authorized_grant_anonymous_access_supported", true}};
  return m.dump();
}

const CredentialConfiguration* Issuer::RoleConfiguration(std::string_view id) const {
  for (const CredentialConfiguration& c : options_.configurations)
    if (c.id == id) return &c;
  return nullptr;
}

bool Issuer::KnownConfiguration(std::string_view id) const {
  if (options_.configurations.empty())
    return id == kLicenseSdJwtConfiguration || id == kLicenseLdpConfiguration;
  return RoleConfiguration(id) != nullptr;
}

Result<Offer> Issuer::CreateOffer(const OfferRequest& request) {
  if (!KnownConfiguration(request.configuration_id))
    return Status::InvalidArgument("unknown credential configuration");
  if (request.configuration_id == kLicenseLdpConfiguration &&
      !request.holder_did.starts_with("did:"))
    return Status::InvalidArgument("an ldp_vc offer names the holder's DID");
  if (request.deferred && (request.configuration_id != kLicenseSdJwtConfiguration ||
                           !deferred_source_ || request.label.empty()))
    return Status::InvalidArgument(
        "a deferred offer is a dc+sd-jwt one with a label, on an issuer with a deferred source");
  auto claims = ParseJsonObject(request.deferred ? "{}" : request.claims_json, "the claims");
  if (!claims) return claims.status();
  Offer o;
  o.id = env_.rng->RandomId(16);
  const std::string code = env_.rng->RandomId(32);
  const bool tx = request.tx_code && !request.authorization_code;
  if (tx) o.tx_code = Digits(*env_.rng, options_.tx_code_length);
  const int64_t now = Now();
  o.expires = now + options_.offer_ttl_seconds;
  json grants;
  if (request.authorization_code) {
    // §4.1.1: the authorization_code grant's issuer_state, here a single-use secret: whoever
    // holds the offer may authorize once (docs/openid4vc.md). The pre-authorized code below is
    // never handed out (the column wants one).
    o.issuer_state = env_.rng->RandomId(32);
    grants["authorization_code"] = {{"issuer_state", o.issuer_state}};
  } else {
    json grant = {{"pre-authorized_code", code}};
    if (tx)
      grant["tx_code"] = {{"input_mode", "numeric"},
                          {"length", options_.tx_code_length},
                          {"description", options_.tx_code_description}};
    grants[std::string(kPreAuthorizedGrant)] = grant;
  }
  json offer = {{"credential_issuer", options_.credential_issuer},
                {"credential_configuration_ids", json::array({request.configuration_id})},
                {"grants", grants}};
  o.offer_json = offer.dump();
  o.uri = std::string(kOfferScheme) + "?credential_offer=" + PercentEncode(o.offer_json);
  o.uri_by_reference = std::string(kOfferScheme) +
                       "?credential_offer_uri=" + PercentEncode(Endpoint("offers/" + o.id));
  const json disclosable = request.disclosable;
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "INSERT INTO offers (id, code_digest, tx_digest, configuration, claims, disclosable, "
         "label, offer, created, expires, holder_did, deferred, state_digest) "
         "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
         kWhat);
  s.Text(1, o.id).Blob(2, Digest(code));
  // The transaction code is kept as SHA-256(code ":" tx_code): not guessable from the table.
  if (tx)
    s.Blob(3, Digest(code + ":" + o.tx_code));
  else
    s.Null(3);
  s.Text(4, request.configuration_id)
      .Text(5, claims->dump())
      .Text(6, disclosable.dump())
      .Text(7, request.label)
      .Text(8, o.offer_json)
      .Int(9, now)
      .Int(10, o.expires)
      .Text(11, request.holder_did)
      .Int(12, request.deferred ? 1 : 0);
  if (request.authorization_code)
    s.Blob(13, Digest(o.issuer_state));
  else
    s.Null(13);
  if (s.Step() != SQLITE_DONE) return s.Error();
  // Expired tokens, and expired offers no live token needs, are of no use: dropped as new
  // offers come, so the file does not grow with every offer ever made.
  const int64_t stale = now - options_.max_clock_skew_seconds;
  Stmt t(db_, "DELETE FROM tokens WHERE expires <= ?", kWhat);
  t.Int(1, stale);
  if (t.Step() != SQLITE_DONE) return t.Error();
  Stmt c(db_, "DELETE FROM auth_codes WHERE expires <= ?", kWhat);
  c.Int(1, stale);
  if (c.Step() != SQLITE_DONE) return c.Error();
  Stmt x(db_, "DELETE FROM transactions WHERE expires <= ? OR used = 1", kWhat);
  x.Int(1, stale);
  if (x.Step() != SQLITE_DONE) return x.Error();
  Stmt d(db_,
         "DELETE FROM offers WHERE expires <= ? AND id NOT IN (SELECT offer FROM tokens) AND "
         "id NOT IN (SELECT offer FROM transactions) AND id NOT IN (SELECT offer FROM auth_codes)",
         kWhat);
  d.Int(1, stale);
  if (d.Step() != SQLITE_DONE) return d.Error();
  return o;
}

Result<std::string> Issuer::OfferObject(const std::string& id) {
  std::lock_guard lock(mu_);
  Stmt q(db_, "SELECT offer FROM offers WHERE id = ? AND redeemed = 0 AND expires > ?", kWhat);
  q.Text(1, id).Int(2, Now());
  const int rc = q.Step();
  if (rc == SQLITE_ROW) return q.Col(0);
  if (rc != SQLITE_DONE) return q.Error();
  return Status::NotFound("no such offer");
}

Result<std::string> Issuer::Token(const std::map<std::string, std::string>& form) {
  auto param = [&](const char* name) -> std::optional<std::string> {
    auto it = form.find(name);
    if (it == form.end() || it->second.empty()) return std::nullopt;
    return it->second;
  };
  auto grant_type = param("grant_type");
  if (!grant_type) return Bad(error::kInvalidRequest, "grant_type is missing");
  if (*grant_type == "authorization_code") return AuthorizationCodeToken(form);
  if (*grant_type != kPreAuthorizedGrant)
    return Bad(error::kUnsupportedGrantType,
               "the grants are the pre-authorized code and authorization_code (OpenID4VCI §6.1)");
  auto code = param("pre-authorized_code");
  if (!code) return Bad(error::kInvalidRequest, "pre-authorized_code is missing");
  auto tx_code = param("tx_code");
  const int64_t now = Now();
  std::lock_guard lock(mu_);
  std::string offer_id, token;
  Status refused = Status::Ok();
  Status st = sql::InTransaction(db_, kWhat, [&]() -> Status {
    Stmt q(db_,
           "SELECT id, tx_digest, expires, redeemed, tx_failures FROM offers WHERE code_digest = ? "
           "AND state_digest IS NULL",
           kWhat);
    q.Blob(1, Digest(*code));
    const int rc = q.Step();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return q.Error();
    // An unknown, expired or redeemed code get the same answer (§6.3 invalid_grant).
    if (rc == SQLITE_DONE || q.ColInt(3) != 0 || q.ColInt(2) <= now) {
      refused = Bad(error::kInvalidGrant, "the pre-authorized code is invalid, expired or used");
      return Status::Ok();
    }
    offer_id = q.Col(0);
    if (!q.ColIsNull(1)) {
      const std::string want = q.ColBlob(1);
      if (!tx_code) {
        refused = Bad(error::kInvalidRequest, "this offer requires a tx_code (§6.1)");
        return Status::Ok();
      }
      const Bytes got = Digest(*code + ":" + *tx_code);
      if (!ConstantTimeEqual(got, AsBytes(want))) {
        // A wrong transaction code counts; too many burn the offer (brute force of a short
        // code: OID4VCI security considerations, "Pre-Authorized Code Flow").
        const int64_t failures = q.ColInt(4) + 1;
        Stmt u(db_, "UPDATE offers SET tx_failures = ?, redeemed = ? WHERE id = ?", kWhat);
        u.Int(1, failures)
            .Int(2, failures >= options_.max_tx_code_attempts ? 1 : 0)
            .Text(3, offer_id);
        if (u.Step() != SQLITE_DONE) return u.Error();
        refused = Bad(error::kInvalidGrant, failures >= options_.max_tx_code_attempts
                                                ? "wrong tx_code; the offer is withdrawn"
                                                : "wrong tx_code");
        return Status::Ok();
      }
    }
    Stmt u(db_, "UPDATE offers SET redeemed = 1 WHERE id = ?", kWhat);
    u.Text(1, offer_id);
    if (u.Step() != SQLITE_DONE) return u.Error();
    MDL_ASSIGN_OR_RETURN(token, NewAccessToken(offer_id, now));
    return Status::Ok();
  });
  MDL_RETURN_IF_ERROR(st);
  MDL_RETURN_IF_ERROR(refused);
  return TokenResponse(token);
}

Result<std::string> Issuer::NewAccessToken(const std::string& offer_id, int64_t now) {
  std::string token = env_.rng->RandomId(32);
  Stmt t(db_, "INSERT INTO tokens (digest, offer, expires) VALUES (?,?,?)", kWhat);
  t.Blob(1, Digest(token)).Text(2, offer_id).Int(3, now + options_.token_ttl_seconds);
  if (t.Step() != SQLITE_DONE) return t.Error();
  return token;
}

std::string Issuer::TokenResponse(const std::string& token) const {
  return json{
      {"access_token", token}, {"token_type", "Bearer"}, {"expires_in", options_.token_ttl_seconds}}
      .dump();
}

Result<std::string> Issuer::Authorize(const std::map<std::string, std::string>& query) {
  auto param = [&](const char* name) -> std::string {
    auto it = query.find(name);
    return it == query.end() ? std::string() : it->second;
  };
  // RFC 6749 §4.1.1 / §4.1.2.1.
  if (param("response_type") != "code")
    return Bad(error::kUnsupportedResponseType, "response_type must be code");
  const std::string client_id = param("client_id"), redirect_uri = param("redirect_uri");
  if (client_id.empty() || client_id.size() > 255)
    return Bad(error::kInvalidRequest, "client_id is missing");
  if (!IsRedirectUri(redirect_uri))
    return Bad(error::kInvalidRequest,
               "redirect_uri is missing or not an absolute URI without a fragment");
  // RFC 7636 §4.3, §4.4.1: PKCE is required here, and only S256 (never plain).
  const std::string challenge = param("code_challenge");
  if (param("code_challenge_method") != "S256")
    return Bad(error::kInvalidRequest, "code_challenge_method must be S256 (RFC 7636 §4.3)");
  auto decoded = Base64UrlDecode(challenge);
  if (challenge.size() != 43 || !decoded || decoded->size() != 32)
    return Bad(error::kInvalidRequest, "code_challenge must be BASE64URL(SHA-256(verifier))");
  const std::string issuer_state = param("issuer_state");
  if (issuer_state.empty())
    return Bad(error::kInvalidRequest,
               "issuer_state is missing: authorization starts from a credential offer (§5.1.3)");
  const std::string details = param("authorization_details"), scope = param("scope");
  if (details.empty() && scope.empty())
    return Bad(error::kInvalidRequest, "authorization_details or scope is required (§5.1)");
  const int64_t now = Now();
  std::lock_guard lock(mu_);
  std::string offer_id, code;
  Status refused = Status::Ok();
  Status st = sql::InTransaction(db_, kWhat, [&]() -> Status {
    Stmt q(db_,
           "SELECT id, configuration FROM offers WHERE state_digest = ? AND redeemed = 0 AND "
           "expires > ?",
           kWhat);
    q.Blob(1, Digest(issuer_state)).Int(2, now);
    const int rc = q.Step();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return q.Error();
    if (rc == SQLITE_DONE) {
      refused = Bad(error::kAccessDenied, "the issuer_state is unknown, expired or used");
      return Status::Ok();
    }
    offer_id = q.Col(0);
    const std::string configuration = q.Col(1);
    // §5.1.1 authorization_details (RFC 9396): openid_credential entries for the offer's
    // configuration only; §5.1.2 scope: the configuration's scope must be among them.
    if (!details.empty()) {
      auto parsed = json::parse(details, nullptr, false);
      bool ok = parsed.is_array() && !parsed.empty();
      if (ok)
        for (const json& d : parsed)
          ok = ok && d.is_object() && d.value("type", "") == "openid_credential" &&
               MemberOr(d, "credential_configuration_id").is_string() &&
               d["credential_configuration_id"].get<std::string>() == configuration;
      if (!ok) {
        refused = Bad(error::kInvalidAuthorizationDetails,
                      "authorization_details must be openid_credential entries for the offered "
                      "credential_configuration_id");
        return Status::Ok();
      }
    }
    if (!scope.empty()) {
      const CredentialConfiguration* role = RoleConfiguration(configuration);
      const std::string want = role != nullptr ? role->scope
                               : configuration == kLicenseLdpConfiguration
                                   ? "MedicalLicenseCredential_ldp_vc"
                                   : "MedicalLicenseCredential";
      bool found = false;
      for (size_t i = 0; i <= scope.size();) {
        size_t j = scope.find(' ', i);
        if (j == std::string::npos) j = scope.size();
        found = found || scope.substr(i, j - i) == want;
        i = j + 1;
      }
      if (!found) {
        refused = Bad(error::kInvalidScope, "scope does not name the offered credential");
        return Status::Ok();
      }
    }
    // The issuer_state is spent: one authorization per offer.
    Stmt u(db_, "UPDATE offers SET redeemed = 1 WHERE id = ? AND redeemed = 0", kWhat);
    u.Text(1, offer_id);
    if (u.Step() != SQLITE_DONE) return u.Error();
    code = env_.rng->RandomId(32);
    Stmt c(db_,
           "INSERT INTO auth_codes (digest, offer, client_id, redirect_uri, challenge, expires) "
           "VALUES (?,?,?,?,?,?)",
           kWhat);
    c.Blob(1, Digest(code))
        .Text(2, offer_id)
        .Text(3, client_id)
        .Text(4, redirect_uri)
        .Text(5, challenge)
        .Int(6, now + options_.auth_code_ttl_seconds);
    if (c.Step() != SQLITE_DONE) return c.Error();
    return Status::Ok();
  });
  MDL_RETURN_IF_ERROR(st);
  MDL_RETURN_IF_ERROR(refused);
  // RFC 6749 §4.1.2 (code, state) and RFC 9207 (iss).
  std::string location = redirect_uri + (redirect_uri.find('?') == std::string::npos ? "?" : "&");
  location += "code=" + PercentEncode(code);
  const std::string state = param("state");
  if (!state.empty()) location += "&state=" + PercentEncode(state);
  location += "&iss=" + PercentEncode(options_.credential_issuer);
  return location;
}

// RFC 6749 §4.1.3 with RFC 7636 §4.5/§4.6. REQUIRES mu_ not held.
Result<std::string> Issuer::AuthorizationCodeToken(const std::map<std::string, std::string>& form) {
  auto param = [&](const char* name) -> std::string {
    auto it = form.find(name);
    return it == form.end() ? std::string() : it->second;
  };
  const std::string code = param("code"), verifier = param("code_verifier"),
                    redirect_uri = param("redirect_uri"), client_id = param("client_id");
  if (code.empty()) return Bad(error::kInvalidRequest, "code is missing");
  if (verifier.empty()) return Bad(error::kInvalidRequest, "code_verifier is missing (PKCE)");
  if (redirect_uri.empty()) return Bad(error::kInvalidRequest, "redirect_uri is missing");
  const int64_t now = Now();
  std::lock_guard lock(mu_);
  std::string token;
  Status refused = Status::Ok();
  Status st = sql::InTransaction(db_, kWhat, [&]() -> Status {
    Stmt q(db_,
           "SELECT offer, client_id, redirect_uri, challenge, expires, used FROM auth_codes "
           "WHERE digest = ?",
           kWhat);
    q.Blob(1, Digest(code));
    const int rc = q.Step();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return q.Error();
    if (rc == SQLITE_DONE) {
      refused = Bad(error::kInvalidGrant, "the authorization code is unknown");
      return Status::Ok();
    }
    // Read the row before writing to the table (a pending SELECT's row is not kept).
    const std::string offer_id = q.Col(0), code_client = q.Col(1), code_redirect = q.Col(2),
                      challenge = q.Col(3);
    const int64_t expires = q.ColInt(4), used = q.ColInt(5);
    if (used != 0) {
      // RFC 6749 §4.1.2: a code used twice — revoke what it gave.
      Stmt r(db_, "UPDATE tokens SET used = 1 WHERE offer = ?", kWhat);
      r.Text(1, offer_id);
      if (r.Step() != SQLITE_DONE) return r.Error();
      refused = Bad(error::kInvalidGrant, "the authorization code was used already");
      return Status::Ok();
    }
    // Every attempt spends the code: a wrong verifier or redirect means it is not the client's.
    Stmt u(db_, "UPDATE auth_codes SET used = 1 WHERE digest = ?", kWhat);
    u.Blob(1, Digest(code));
    if (u.Step() != SQLITE_DONE) return u.Error();
    if (expires <= now) {
      refused = Bad(error::kInvalidGrant, "the authorization code has expired");
      return Status::Ok();
    }
    if (redirect_uri != code_redirect) {
      refused = Bad(error::kInvalidGrant, "redirect_uri is not the authorization request's");
      return Status::Ok();
    }
    if (!client_id.empty() && client_id != code_client) {
      refused = Bad(error::kInvalidGrant, "the code was issued to another client_id");
      return Status::Ok();
    }
    // RFC 7636 §4.6: BASE64URL(SHA256(ASCII(code_verifier))) == code_challenge.
    const Hash256 h = Sha256(AsBytes(verifier));
    const std::string computed = Base64UrlEncode(ByteView(h.data(), h.size()));
    if (!IsCodeVerifier(verifier) || !ConstantTimeEqual(AsBytes(computed), AsBytes(challenge))) {
      refused = Bad(error::kInvalidGrant, "code_verifier does not match the code_challenge");
      return Status::Ok();
    }
    MDL_ASSIGN_OR_RETURN(token, NewAccessToken(offer_id, now));
    return Status::Ok();
  });
  MDL_RETURN_IF_ERROR(st);
  MDL_RETURN_IF_ERROR(refused);
  return TokenResponse(token);
}

Result<std::string> Issuer::Nonce(std::string_view access_token) {
  const int64_t now = Now();
  std::lock_guard lock(mu_);
  std::optional<Bytes> bound;
  if (!access_token.empty()) {
    Stmt q(db_, "SELECT 1 FROM tokens WHERE digest = ? AND expires > ? AND used = 0", kWhat);
    q.Blob(1, Digest(access_token)).Int(2, now);
    const int rc = q.Step();
    if (rc == SQLITE_DONE)
      return Err(StatusCode::kUnauthenticated, error::kInvalidToken,
                 "the access token is invalid or expired");
    if (rc != SQLITE_ROW) return q.Error();
    bound = Digest(access_token);
  }
  const std::string nonce = env_.rng->RandomId(32);
  Stmt s(db_, "INSERT INTO nonces (digest, token, expires) VALUES (?,?,?)", kWhat);
  s.Blob(1, Digest(nonce));
  if (bound)
    s.Blob(2, *bound);
  else
    s.Null(2);
  s.Int(3, now + options_.nonce_ttl_seconds);
  if (s.Step() != SQLITE_DONE) return s.Error();
  if (bound) {
    // A live token may ask again and again: only its newest kMaxNoncesPerToken unused nonces
    // stay valid, so one token cannot fill the database (older ones answer invalid_nonce).
    Stmt cap(db_,
             "DELETE FROM nonces WHERE token = ?1 AND used = 0 AND rowid NOT IN "
             "(SELECT rowid FROM nonces WHERE token = ?1 AND used = 0 ORDER BY rowid DESC "
             "LIMIT ?2)",
             kWhat);
    cap.Blob(1, *bound).Int(2, kMaxNoncesPerToken);
    if (cap.Step() != SQLITE_DONE) return cap.Error();
  }
  // Expired nonces are of no use to anyone: drop them as new ones come.
  Stmt d(db_, "DELETE FROM nonces WHERE expires <= ?", kWhat);
  d.Int(1, now - options_.max_clock_skew_seconds);
  (void)d.Step();
  return json{{"c_nonce", nonce}}.dump();
}

// Appendix F.1 (the `jwt` proof type) and §8.2.1.1 (its verification): REQUIRES mu_ held.
Result<Issuer::HolderKey> Issuer::VerifyProof(std::string_view jwt, const std::string& token_digest,
                                              const std::string& required_did,
                                              const std::vector<std::string>& algs) {
  if (jwt.size() > 16 * 1024) return Bad(error::kInvalidProof, "the proof is too long");
  const size_t a = jwt.find('.');
  const size_t b = a == std::string_view::npos ? a : jwt.find('.', a + 1);
  if (b == std::string_view::npos || jwt.find('.', b + 1) != std::string_view::npos)
    return Bad(error::kInvalidProof, "the proof is not a compact JWS");
  auto header_bytes = Base64UrlDecode(jwt.substr(0, a));
  auto payload_bytes = Base64UrlDecode(jwt.substr(a + 1, b - a - 1));
  auto signature = Base64UrlDecode(jwt.substr(b + 1));
  if (!header_bytes || !payload_bytes || !signature)
    return Bad(error::kInvalidProof, "the proof is not base64url");
  auto header = ParseJsonObject(ToString(*header_bytes), "the proof header");
  auto payload = ParseJsonObject(ToString(*payload_bytes), "the proof payload");
  if (!header || !payload) return Bad(error::kInvalidProof, "the proof is not JSON");
  // F.1: typ "openid4vci-proof+jwt" (what keeps other JWTs from passing as key proofs).
  if (header->value("typ", "") != kProofJwtTyp)
    return Bad(error::kInvalidProof, "typ is not openid4vci-proof+jwt");
  const std::string alg = header->value("alg", "");
  if ((alg != "EdDSA" && alg != "ES256") || std::find(algs.begin(), algs.end(), alg) == algs.end())
    return Bad(error::kInvalidProof, "alg is not one of proof_signing_alg_values_supported");
  if (header->contains("crit")) return Bad(error::kInvalidProof, "crit is not supported");
  // F.1: the key is one of kid, jwk, x5c; never two of them.
  int named = 0;
  for (const char* m : {"kid", "jwk", "x5c", "trust_chain", "key_attestation"})
    named += header->contains(m) ? 1 : 0;
  if (named != 1)
    return Bad(error::kInvalidProof, "the header must name the key once (kid or jwk)");
  Result<PublicKey> key =
      Bad(error::kInvalidProof, "x5c, trust_chain and key_attestation are not supported");
  if (header->contains("jwk")) {
    key = KeyFromJwk((*header)["jwk"]);
  } else if (header->contains("kid")) {
    if (!(*header)["kid"].is_string()) return Bad(error::kInvalidProof, "kid is not a string");
    key = KeyFromKid((*header)["kid"].get<std::string>());
  }
  if (!key) return key.status();
  // ldp_vc: the credential names its holder's DID; the proof is by a key of that DID.
  if (!required_did.empty() && key->did != required_did)
    return Bad(error::kInvalidProof, "the proof's kid is not a key of the credential's holder DID");
  if ((alg == "EdDSA") != (key->alg == ProofAlg::kEdDSA))
    return Bad(error::kInvalidProof, "alg does not fit the key");
  const ByteView signing_input = AsBytes(jwt.substr(0, b));
  bool valid = false;
  if (key->alg == ProofAlg::kEdDSA) {
    valid = signature->size() == 64 &&
            wallet::Verify(wallet::SignatureAlg::kEdDSA, key->x, signing_input, *signature);
  } else {
    valid = signature->size() == 64 &&
            wallet::VerifyEs256P256(key->x, key->y, signing_input, RawToDer(*signature));
  }
  if (!valid) return Bad(error::kInvalidProof, "the proof's signature does not verify");
  // F.1: aud is the Credential Issuer Identifier.
  const json& aud = MemberOr(*payload, "aud");
  const bool aud_ok = (aud.is_string() && aud.get<std::string>() == options_.credential_issuer) ||
                      (aud.is_array() && aud.size() == 1 && aud[0].is_string() &&
                       aud[0].get<std::string>() == options_.credential_issuer);
  if (!aud_ok) return Bad(error::kInvalidProof, "aud is not this credential issuer");
  // F.1: iat is required; the issuer decides how old a proof may be.
  const json& iat = MemberOr(*payload, "iat");
  if (!iat.is_number_integer()) return Bad(error::kInvalidProof, "iat is missing");
  const int64_t now = Now(), skew = options_.max_clock_skew_seconds;
  if (iat.get<int64_t>() > now + skew) return Bad(error::kInvalidProof, "iat is in the future");
  if (iat.get<int64_t>() < now - options_.proof_max_age_seconds - skew)
    return Bad(error::kInvalidProof, "the proof is too old");
  const json& exp = MemberOr(*payload, "exp");
  if (!exp.is_null() && (!exp.is_number_integer() || exp.get<int64_t>() <= now - skew))
    return Bad(error::kInvalidProof, "the proof has expired");
  // F.1 / §8.3.1.2: a nonce endpoint exists, so the proof carries a c_nonce this issuer gave
  // out, unused, unexpired, and — if it was given to a session — given to this one.
  const json& nonce = MemberOr(*payload, "nonce");
  if (!nonce.is_string()) return Bad(error::kInvalidNonce, "the proof has no c_nonce");
  Stmt u(db_,
         "UPDATE nonces SET used = 1 WHERE digest = ? AND used = 0 AND expires > ? AND "
         "(token IS NULL OR token = ?)",
         kWhat);
  u.Blob(1, Digest(nonce.get<std::string>())).Int(2, now).Blob(3, AsBytes(token_digest));
  if (u.Step() != SQLITE_DONE) return u.Error();
  if (sqlite3_changes(db_) != 1)
    return Bad(error::kInvalidNonce,
               "the c_nonce is unknown, used, expired or was given to another session");
  return HolderKey{std::move(*key)};
}

Result<std::string> Issuer::Credential(std::string_view access_token,
                                       std::string_view request_json) {
  const int64_t now = Now();
  std::unique_lock lock(mu_);
  const Bytes token_digest = Digest(access_token);
  std::string offer_id;
  {
    Stmt q(db_, "SELECT offer FROM tokens WHERE digest = ? AND expires > ? AND used = 0", kWhat);
    q.Blob(1, token_digest).Int(2, now);
    const int rc = q.Step();
    if (rc == SQLITE_DONE || access_token.empty())
      return Err(StatusCode::kUnauthenticated, error::kInvalidToken,
                 "the access token is invalid, expired or used");
    if (rc != SQLITE_ROW) return q.Error();
    offer_id = q.Col(0);
  }
  auto request = ParseJsonObject(request_json, "the credential request");
  if (!request) return Bad(error::kInvalidCredentialRequest, "the body is not a JSON object");
  if (request->contains("credential_identifier"))
    return Bad(error::kUnknownCredentialIdentifier,
               "this issuer gives no credential identifiers (use credential_configuration_id)");
  if (request->contains("credential_response_encryption"))
    return Bad("invalid_encryption_parameters", "credential response encryption is not supported");
  const json& config = MemberOr(*request, "credential_configuration_id");
  if (!config.is_string())
    return Bad(error::kInvalidCredentialRequest, "credential_configuration_id is missing");
  if (!KnownConfiguration(config.get<std::string>()))
    return Bad(error::kUnknownCredentialConfiguration, "unknown credential configuration");
  std::string claims_text, disclosable_text, configuration, holder_did, label;
  bool deferred = false;
  {
    Stmt q(db_,
           "SELECT configuration, claims, disclosable, holder_did, deferred, label FROM offers "
           "WHERE id = ?",
           kWhat);
    q.Text(1, offer_id);
    if (q.Step() != SQLITE_ROW) return q.Error();
    configuration = q.Col(0);
    claims_text = q.Col(1);
    disclosable_text = q.Col(2);
    holder_did = q.Col(3);
    deferred = q.ColInt(4) != 0;
    label = q.Col(5);
  }
  const CredentialConfiguration* role = RoleConfiguration(configuration);
  static const std::vector<std::string> kBuiltInAlgs = {"ES256", "EdDSA"};
  const bool ldp = configuration == kLicenseLdpConfiguration;
  if (config.get<std::string>() != configuration)
    return Bad(error::kInvalidCredentialRequest, "the access token is for another configuration");
  // §8.2: `proofs` holds one proof type; batch issuance is not offered (no batch_credential_
  // issuance in the metadata), so exactly one jwt proof.
  const json& proofs = MemberOr(*request, "proofs");
  if (request->contains("proof"))
    return Bad(error::kInvalidCredentialRequest, "`proof` is not OpenID4VCI 1.0; send `proofs`");
  if (!proofs.is_object() || proofs.size() != 1 || !proofs.contains("jwt"))
    return Bad(error::kInvalidProof, "proofs must be {\"jwt\": [<one key proof>]}");
  const json& jwts = proofs["jwt"];
  if (!jwts.is_array() || jwts.size() != 1 || !jwts[0].is_string())
    return Bad(error::kInvalidProof, "proofs.jwt must hold exactly one JWT");
  MDL_ASSIGN_OR_RETURN(HolderKey holder,
                       VerifyProof(jwts[0].get<std::string>(), ToString(token_digest),
                                   ldp ? holder_did : std::string(),
                                   role != nullptr ? role->proof_algs : kBuiltInAlgs));
  const std::string holder_jwk = PublicJwk(holder.key).dump();
  if (role != nullptr && role->precheck) {
    // The role's deterministic refusal (e.g. a controlled substance proven with a key other
    // than the patient's pseudonym) comes before the token is touched: the wallet may retry
    // on this token with another key. The c_nonce stays spent — a verified proof used it
    // (§7, §8.3.1.2); a fresh one comes from the Nonce Endpoint (§7.1). Run without the lock;
    // the claim below re-checks the token.
    IssueRequest ir{configuration, label, claims_text, holder_jwk, now};
    auto precheck = role->precheck;
    lock.unlock();
    if (Status s = precheck(ir); !s.ok()) return s;
    lock.lock();
  }
  // One credential per access token. A role's credential is made outside the lock, so the
  // token is claimed first (used = 2, in progress: as spent as used = 1 to every reader, so
  // two concurrent requests cannot both issue) and settled once the role answers.
  Stmt spend(db_, "UPDATE tokens SET used = ? WHERE digest = ? AND used = 0", kWhat);
  spend.Int(1, role != nullptr ? kTokenInProgress : kTokenSpent).Blob(2, token_digest);
  if (spend.Step() != SQLITE_DONE) return spend.Error();
  if (sqlite3_changes(db_) != 1)
    return Err(StatusCode::kUnauthenticated, error::kInvalidToken, "the access token is used");
  if (deferred) {
    // §8.3: not ready yet — a transaction_id for the deferred endpoint (§9), single-use, bound
    // to this access token and to the key just proven.
    const std::string transaction_id = env_.rng->RandomId(32);
    Stmt t(db_,
           "INSERT INTO transactions (digest, token, offer, holder_jwk, expires) "
           "VALUES (?,?,?,?,?)",
           kWhat);
    t.Blob(1, Digest(transaction_id))
        .Blob(2, token_digest)
        .Text(3, offer_id)
        .Text(4, holder_jwk)
        .Int(5, now + options_.transaction_ttl_seconds);
    if (t.Step() != SQLITE_DONE) return t.Error();
    return json{{"transaction_id", transaction_id},
                {"interval", options_.deferred_interval_seconds}}
        .dump();
  }
  if (role != nullptr) {
    // The role makes the credential for the proven key, outside the lock (it may sign, or
    // write to a ledger); the claimed token lets this run once at a time per token.
    IssueRequest ir{configuration, label, claims_text, holder_jwk, now};
    auto issue = role->issue;
    lock.unlock();
    Result<IssuedCredential> issued =
        issue ? issue(ir) : Result<IssuedCredential>(
                                Status::FailedPrecondition("the configuration issues nothing"));
    // Settle the claim: a transient failure (kUnavailable: the ledger down for the postmark)
    // gives the token back for a retry; a credential or any other answer spends it. A failed
    // write leaves it in progress, i.e. spent (the safe side; so does a crash meanwhile).
    {
      std::lock_guard relock(mu_);
      const bool give_back = !issued && issued.status().code() == StatusCode::kUnavailable;
      Stmt settle(db_, "UPDATE tokens SET used = ? WHERE digest = ? AND used = ?", kWhat);
      settle.Int(1, give_back ? kTokenFresh : kTokenSpent)
          .Blob(2, token_digest)
          .Int(3, kTokenInProgress);
      (void)settle.Step();
    }
    if (!issued) return issued.status();
    json credential = json::parse(issued->credential, nullptr, false);
    if (credential.is_discarded())
      return Status::Internal("the role's credential is not JSON");
    json response = issued->extra_json.empty() ? json::object()
                                               : json::parse(issued->extra_json, nullptr, false);
    if (!response.is_object()) return Status::Internal("the role's extra members are not an object");
    response["credentials"] = json::array({{{"credential", std::move(credential)}}});
    return response.dump();
  }
  // ldp_vc: the license as the society signed it at onboarding (its subject is the holder DID
  // the proof was just checked against).
  if (ldp)
    return json{{"credentials", json::array({{{"credential", json::parse(claims_text)}}})}}.dump();
  auto sd_jwt = SdJwtCredential(claims_text, disclosable_text, holder, now);
  if (!sd_jwt && sd_jwt.status().code() == StatusCode::kUnavailable) {
    // A transient signing failure: the token is given back (still under the lock).
    Stmt back(db_, "UPDATE tokens SET used = 0 WHERE digest = ? AND used = 1", kWhat);
    back.Blob(1, token_digest);
    (void)back.Step();
  }
  return sd_jwt;
}

// The SD-JWT VC of `claims_text` bound to the holder's key (touches no state but the signer).
Result<std::string> Issuer::SdJwtCredential(const std::string& claims_text,
                                            const std::string& disclosable_text,
                                            const HolderKey& holder, int64_t now) {
  const PublicKey& key = holder.key;
  json payload = json::parse(claims_text);
  payload["vct"] = std::string(kLicenseVct);
  payload["iss"] = issuer_did_;
  payload["iat"] = now;
  claims::SdJwtIssueOptions so;
  so.disclosable = json::parse(disclosable_text).get<std::vector<std::string>>();
  so.min_decoys = 1;
  so.max_decoys = 3;
  if (key.alg == ProofAlg::kEdDSA) {
    so.holder = claims::HolderKey{claims::Alg::kEdDSA, key.x};
  } else {
    payload["cnf"] = {{"jwk", PublicJwk(key)}};  // RFC 7800 §3.2
  }
  auto sd_jwt = claims::IssueSdJwt(payload, options_.signer, so, env_);
  if (!sd_jwt) return sd_jwt.status();
  return json{{"credentials", json::array({{{"credential", *sd_jwt}}})}}.dump();
}

void Issuer::SetDeferredSource(DeferredSource source) {
  std::lock_guard lock(mu_);
  deferred_source_ = std::move(source);
}

Result<std::string> Issuer::DeferredCredential(std::string_view access_token,
                                               std::string_view request_json) {
  if (access_token.empty())
    return Err(StatusCode::kUnauthenticated, error::kInvalidToken, "an access token is required");
  auto request = ParseJsonObject(request_json, "the deferred credential request");
  if (!request) return Bad(error::kInvalidCredentialRequest, "the body is not a JSON object");
  const json& id = MemberOr(*request, "transaction_id");
  if (!id.is_string() || id.get<std::string>().empty())
    return Bad(error::kInvalidCredentialRequest, "transaction_id is missing (§9.1)");
  const std::string transaction_id = id.get<std::string>();
  const Bytes digest = Digest(transaction_id);
  const Bytes token_digest = Digest(access_token);
  const Status unknown = Bad(error::kInvalidTransactionId,
                             "the transaction_id is unknown, used, expired or another session's");
  std::string offer_id, label, disclosable_text, holder_jwk;
  DeferredSource source;
  {
    std::lock_guard lock(mu_);
    // Unknown, used, expired and another token's ids get the same answer (§9.3).
    Stmt q(db_,
           "SELECT t.offer, o.label, o.disclosable, t.holder_jwk FROM transactions t JOIN offers o "
           "ON o.id = t.offer WHERE t.digest = ? AND t.token = ? AND t.used = 0 AND t.expires > ?",
           kWhat);
    q.Blob(1, digest).Blob(2, token_digest).Int(3, Now());
    const int rc = q.Step();
    if (rc == SQLITE_DONE) return unknown;
    if (rc != SQLITE_ROW) return q.Error();
    offer_id = q.Col(0);
    label = q.Col(1);
    disclosable_text = q.Col(2);
    holder_jwk = q.Col(3);
    source = deferred_source_;
  }
  if (!source) return Status::FailedPrecondition("this issuer has no deferred source");
  // Asked outside mu_: the source (the society's clerk desk) has its own lock.
  auto ready = source(label);
  std::lock_guard lock(mu_);
  auto spend = [&]() -> Status {
    Stmt u(db_, "UPDATE transactions SET used = 1 WHERE digest = ? AND token = ? AND used = 0",
           kWhat);
    u.Blob(1, digest).Blob(2, token_digest);
    if (u.Step() != SQLITE_DONE) return u.Error();
    if (sqlite3_changes(db_) != 1) return unknown;  // a concurrent request took it
    return Status::Ok();
  };
  if (!ready) {
    MDL_RETURN_IF_ERROR(spend());
    return Err(StatusCode::kPermissionDenied, error::kCredentialRequestDenied,
               "the credential will not be issued: " + ready.error().message());
  }
  if (!ready->has_value())  // §9.2: still pending — the same id, and the interval again
    return json{{"transaction_id", transaction_id},
                {"interval", options_.deferred_interval_seconds}}
        .dump();
  auto claims = ParseJsonObject(**ready, "the deferred claims");
  if (!claims) return claims.status();
  auto key = KeyFromJwk(json::parse(holder_jwk));
  if (!key) return key.status();
  MDL_RETURN_IF_ERROR(spend());
  return SdJwtCredential(claims->dump(), disclosable_text, HolderKey{std::move(*key)}, Now());
}

}  // namespace medallion::oid4vc
