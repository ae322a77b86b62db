// OpenID4VP 1.0 Verifier and Wallet side, direct_post with DCQL over SD-JWT VC (verifier.h).
#include "medallion/oid4vc/verifier.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "medallion/claims/jose.h"
#include "medallion/core/encoding.h"
#include "medallion/core/json.h"
#include "medallion/storage/db.h"
#include "medallion/storage/sqlite.h"

namespace medallion::oid4vc {

using nlohmann::json;
using sql::Stmt;

namespace {

constexpr std::string_view kWhat = "oid4vp";
constexpr size_t kMaxParam = 256;         // state, nonce, an error code
constexpr size_t kMaxVpToken = 2 << 20;   // the whole vp_token
constexpr size_t kMaxPresentations = 16;  // per Credential Query

constexpr const char* kMigrations[] = {
    // 1: the requests a response may answer: state and nonce are the verifier's own random
    // values; `answered` is set by the first response posted, whatever its outcome.
    "CREATE TABLE requests (state TEXT PRIMARY KEY, nonce TEXT NOT NULL, dcql TEXT NOT NULL, "
    "  created INTEGER NOT NULL, expires INTEGER NOT NULL, answered INTEGER NOT NULL DEFAULT 0);",
    // 2: an id for the request object by reference and the caller's lookups, and the caller's
    // outcome (JSON).
    "ALTER TABLE requests ADD COLUMN id TEXT; ALTER TABLE requests ADD COLUMN outcome TEXT; "
    "CREATE UNIQUE INDEX requests_by_id ON requests(id);",
    // 3: direct_post.jwt (§8.3): the request's ephemeral P-256 private key (PKCS#8 PEM).
    "ALTER TABLE requests ADD COLUMN enc_key TEXT;",
};

// PostgreSQL (a container host, docs/scale-out.md): v1 is the SQLite schema's latest state, each
// row carrying its container, isolated by row-level security like the container's other tables.
// The table is oid4vp_requests there: the container's consent database already has a `requests`
// table (uma's RequestStore), and the file's table keeps its name.
constexpr char kPgV1[] = R"sql(
CREATE TABLE oid4vp_requests (
  container_id TEXT NOT NULL DEFAULT current_setting('medallion.container'),
  state TEXT NOT NULL,
  nonce TEXT NOT NULL,
  dcql TEXT NOT NULL,
  created BIGINT NOT NULL,
  expires BIGINT NOT NULL,
  answered BIGINT NOT NULL DEFAULT 0,
  id TEXT,
  outcome TEXT,
  enc_key TEXT,
  PRIMARY KEY (container_id, state)
);
CREATE UNIQUE INDEX oid4vp_requests_by_id ON oid4vp_requests(container_id, id);
CREATE INDEX oid4vp_requests_by_expiry ON oid4vp_requests(container_id, expires);
)sql";

std::span<const char* const> PgMigrations() {
  static const std::string v1 = kPgV1 + sql::TenantIsolation("oid4vp_requests");
  static const char* const list[] = {v1.c_str()};
  return list;
}

Status Invalid(std::string_view detail) {
  return Status::WithReason(StatusCode::kInvalidArgument, vp_error::kInvalidRequest, detail);
}

bool HttpUrl(std::string_view u) {
  return (u.starts_with("https://") || u.starts_with("http://")) &&
         u.find_first_of("# \t\r\n") == std::string_view::npos;
}

std::string Param(const std::map<std::string, std::string>& m, const char* name) {
  auto it = m.find(name);
  return it == m.end() ? "" : it->second;
}


// --- §8.3 direct_post.jwt: JWE with ECDH-ES (RFC 7518 §4.6) and AES-GCM (§5.3) ---

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;

constexpr size_t kCoord = 32;  // P-256

Status JweError(std::string_view detail) {
  return Status::WithReason(StatusCode::kInvalidArgument, vp_error::kInvalidRequest,
                            "the encrypted response: " + std::string(detail));
}

// The public JWK of a P-256 key: {"kty":"EC","crv":"P-256","x","y"}.
Result<json> PublicJwk(EVP_PKEY* key) {
  uint8_t point[1 + 2 * kCoord];
  size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point,
                                      sizeof point, &len) != 1 ||
      len != sizeof point || point[0] != 0x04)
    return Status::Internal("P-256 public key export failed");
  return json{{"kty", "EC"},
              {"crv", "P-256"},
              {"x", Base64UrlEncode(ByteView(point + 1, kCoord))},
              {"y", Base64UrlEncode(ByteView(point + 1 + kCoord, kCoord))}};
}

// A P-256 public key from a JWK, fully validated (on the curve: SP 800-56A §5.6.2.3.3, against
// invalid-curve attacks on ECDH).
PkeyPtr PublicKeyFromJwk(const json& jwk) {
  if (!jwk.is_object() || jwk.value("kty", "") != "EC" || jwk.value("crv", "") != "P-256" ||
      !jwk["x"].is_string() || !jwk["y"].is_string() || jwk.contains("d"))
    return nullptr;
  auto x = Base64UrlDecode(jwk["x"].get<std::string>());
  auto y = Base64UrlDecode(jwk["y"].get<std::string>());
  if (!x || !y || x->size() != kCoord || y->size() != kCoord) return nullptr;
  uint8_t point[1 + 2 * kCoord];
  point[0] = 0x04;
  std::memcpy(point + 1, x->data(), kCoord);
  std::memcpy(point + 1 + kCoord, y->data(), kCoord);
  char group[] = "prime256v1";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point),
      OSSL_PARAM_construct_end()};
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params) != 1)
    return nullptr;
  PkeyPtr key(raw);
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) return nullptr;
  return key;
}

PkeyPtr NewP256Key() { return PkeyPtr(EVP_EC_gen("P-256")); }

Result<std::string> PrivateKeyPem(EVP_PKEY* key) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return Status::Internal("P-256 private key export failed");
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

PkeyPtr PrivateKeyFromPem(const std::string& pem) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return nullptr;
  return PkeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

// ECDH (SEC 1 §3.3.1) then the Concat KDF of RFC 7518 §4.6.2 (NIST SP 800-56A §5.8.1) with
// SHA-256: for "ECDH-ES" (direct key agreement) AlgorithmID is the "enc" value.
Result<Bytes> DeriveCek(EVP_PKEY* mine, EVP_PKEY* peer, const std::string& enc, ByteView apu,
                        ByteView apv, size_t key_bytes) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, mine, nullptr));
  size_t zlen = 0;
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer(ctx.get(), peer) != 1 ||
      EVP_PKEY_derive(ctx.get(), nullptr, &zlen) != 1)
    return JweError("key agreement failed");
  Bytes z(zlen);
  if (EVP_PKEY_derive(ctx.get(), z.data(), &zlen) != 1) return JweError("key agreement failed");
  z.resize(zlen);
  auto be32 = [](Bytes& out, uint32_t v) {
    for (int i = 3; i >= 0; --i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
  };
  Bytes input;
  be32(input, 1);  // round 1: 256 bits of SHA-256 cover A128GCM and A256GCM keys
  input.insert(input.end(), z.begin(), z.end());
  be32(input, static_cast<uint32_t>(enc.size()));
  input.insert(input.end(), enc.begin(), enc.end());
  be32(input, static_cast<uint32_t>(apu.size()));
  input.insert(input.end(), apu.begin(), apu.end());
  be32(input, static_cast<uint32_t>(apv.size()));
  input.insert(input.end(), apv.begin(), apv.end());
  be32(input, static_cast<uint32_t>(key_bytes * 8));  // SuppPubInfo: keydatalen in bits
  uint8_t md[32];
  unsigned int mdlen = 0;
  if (EVP_Digest(input.data(), input.size(), md, &mdlen, EVP_sha256(), nullptr) != 1 ||
      mdlen != 32)
    return JweError("key derivation failed");
  std::fill(z.begin(), z.end(), 0);
  return Bytes(md, md + key_bytes);
}

const EVP_CIPHER* GcmFor(const std::string& enc) {
  if (enc == "A128GCM") return EVP_aes_128_gcm();
  if (enc == "A256GCM") return EVP_aes_256_gcm();
  return nullptr;
}

// AES-GCM (RFC 7518 §5.3): 96-bit IV, 128-bit tag, AAD = ASCII(BASE64URL(protected header)).
bool Gcm(bool encrypt, const std::string& enc, ByteView key, ByteView iv, ByteView aad,
         ByteView in, Bytes* out, Bytes* tag) {
  const EVP_CIPHER* cipher = GcmFor(enc);
  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> ctx(EVP_CIPHER_CTX_new());
  if (cipher == nullptr || !ctx || iv.size() != 12) return false;
  if (EVP_CipherInit_ex(ctx.get(), cipher, nullptr, key.data(), iv.data(), encrypt ? 1 : 0) != 1)
    return false;
  int n = 0;
  if (!aad.empty() &&
      EVP_CipherUpdate(ctx.get(), nullptr, &n, aad.data(), static_cast<int>(aad.size())) != 1)
    return false;
  out->assign(in.size() + 16, 0);
  int total = 0;
  if (!in.empty()) {
    if (EVP_CipherUpdate(ctx.get(), out->data(), &n, in.data(), static_cast<int>(in.size())) != 1)
      return false;
    total = n;
  }
  if (!encrypt) {
    if (tag->size() != 16 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, 16, tag->data()) != 1)
      return false;
  }
  if (EVP_CipherFinal_ex(ctx.get(), out->data() + total, &n) != 1) return false;
  total += n;
  out->resize(static_cast<size_t>(total));
  if (encrypt) {
    tag->assign(16, 0);
    if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, 16, tag->data()) != 1) return false;
  }
  return true;
}

// The protected header of a compact JWE, and its kid (the request id), before decryption.
Result<json> JweHeader(const std::string& jwe) {
  const size_t dot = jwe.find('.');
  if (dot == std::string::npos || std::count(jwe.begin(), jwe.end(), '.') != 4)
    return JweError("not a compact JWE (RFC 7516 §7.1)");
  auto bytes = Base64UrlDecode(std::string_view(jwe).substr(0, dot));
  if (!bytes) return JweError("the protected header is not base64url");
  auto header = ParseJsonObject(ToString(*bytes), "JWE header");
  if (!header) return JweError("the protected header is not a JSON object");
  return std::move(*header);
}

// Decrypts a compact JWE made for `key`: alg ECDH-ES, enc A128GCM/A256GCM, an epk on P-256, no
// zip, no crit (RFC 7516 §4.1.11: none understood). Returns the plaintext.
Result<std::string> DecryptJwe(const std::string& jwe, const json& header, EVP_PKEY* key) {
  if (header.value("alg", "") != "ECDH-ES")
    return JweError("alg must be ECDH-ES (the key in client_metadata.jwks)");
  const std::string enc = header.value("enc", "");
  if (GcmFor(enc) == nullptr) return JweError("enc must be A128GCM or A256GCM");
  if (header.contains("zip") || header.contains("crit"))
    return JweError("zip and crit are not supported");
  PkeyPtr epk = PublicKeyFromJwk(header.contains("epk") ? header["epk"] : json());
  if (!epk) return JweError("epk is not a valid P-256 public key");
  Bytes apu, apv;
  for (const auto& [name, out] : {std::pair<const char*, Bytes*>{"apu", &apu}, {"apv", &apv}}) {
    if (!header.contains(name)) continue;
    if (!header[name].is_string()) return JweError(std::string(name) + " must be base64url");
    auto b = Base64UrlDecode(header[name].get<std::string>());
    if (!b) return JweError(std::string(name) + " must be base64url");
    *out = std::move(*b);
  }
  std::vector<std::string_view> part;
  size_t start = 0;
  for (size_t i = 0; i <= jwe.size(); ++i) {
    if (i == jwe.size() || jwe[i] == '.') {
      part.emplace_back(std::string_view(jwe).substr(start, i - start));
      start = i + 1;
    }
  }
  if (!part[1].empty()) return JweError("ECDH-ES has no encrypted key (RFC 7518 §4.6)");
  auto iv = Base64UrlDecode(part[2]);
  auto ct = Base64UrlDecode(part[3]);
  auto tag = Base64UrlDecode(part[4]);
  if (!iv || !ct || !tag) return JweError("a part is not base64url");
  MDL_ASSIGN_OR_RETURN(Bytes cek, DeriveCek(key, epk.get(), enc, apu, apv,
                                            enc == "A128GCM" ? 16 : 32));
  Bytes plain;
  const bool ok = Gcm(false, enc, cek, *iv, AsBytes(part[0]), *ct, &plain, &*tag);
  std::fill(cek.begin(), cek.end(), 0);
  if (!ok) return JweError("decryption failed (wrong key or tampered)");
  return ToString(plain);
}
}  // namespace

// The statements on `requests`, the table's name on PostgreSQL put in (see kPgV1). Each string
// lives as long as the verifier: a pooled statement keeps its text (storage/db.h).
struct Verifier::Statements {
  explicit Statements(sql::Backend backend) : pg(backend == sql::Backend::kPostgres) {}
  const bool pg;
  std::string On(std::string_view statement) const {
    std::string out(statement);
    const std::string_view from = " requests ";
    if (const size_t at = out.find(from); pg && at != std::string::npos)
      out.replace(at, from.size(), " oid4vp_requests ");
    return out;
  }
  const std::string insert = On(
      "INSERT INTO requests (state, nonce, dcql, created, expires, id, enc_key) "
      "VALUES (?,?,?,?,?,?,?)");
  const std::string drop_expired = On("DELETE FROM requests WHERE expires <= ?");
  const std::string request_object =
      On("SELECT state, nonce, dcql, expires, answered, enc_key FROM requests WHERE id = ?");
  const std::string load =
      On("SELECT nonce, dcql, expires, answered, id FROM requests WHERE state = ?");
  const std::string spend = On("UPDATE requests SET answered = 1 WHERE state = ?");
  const std::string key_of_state = On("SELECT enc_key FROM requests WHERE state = ?");
  const std::string key_of_id = On("SELECT state, enc_key FROM requests WHERE id = ?");
  const std::string outcome = On("UPDATE requests SET outcome = ? WHERE id = ?");
  const std::string lookup =
      On("SELECT state, expires, answered, outcome FROM requests WHERE id = ?");
};

Verifier::Verifier(std::unique_ptr<sql::Db> db, VerifierOptions options, Env env)
    : db_(std::move(db)),
      sql_(std::make_unique<Statements>(db_->backend())),
      options_(std::move(options)),
      env_(env) {}

Verifier::~Verifier() = default;

int64_t Verifier::Now() const { return env_.clock->NowMillis() / 1000; }

Result<std::unique_ptr<Verifier>> Verifier::Open(const std::string& path, VerifierOptions options,
                                                 Env env) {
  return Open(path, "", std::move(options), env);
}

Result<std::unique_ptr<Verifier>> Verifier::Open(const std::string& where,
                                                 const std::string& container,
                                                 VerifierOptions options, Env env) {
  if (!HttpUrl(options.response_uri))
    return Status::InvalidArgument("the response_uri must be an absolute http(s) URL");
  const std::string& id = options.client_id;
  if (id.starts_with(kRedirectUriPrefix)) {
    // §5.9.3: with direct_post, the response_uri is the client_id without its prefix.
    if (id.substr(kRedirectUriPrefix.size()) != options.response_uri)
      return Status::InvalidArgument("a redirect_uri: client_id must name the response_uri");
    if (options.request_signer)
      return Status::InvalidArgument("a redirect_uri: client's requests are unsigned (§5.9.3)");
  } else if (id.starts_with(kDecentralizedIdentifierPrefix)) {
    const std::string did_value = id.substr(kDecentralizedIdentifierPrefix.size());
    if (!did::IsValidDid(did_value))
      return Status::InvalidArgument("a decentralized_identifier: client_id must name a DID");
    // §5.9.3: its requests MUST be signed with a key of the DID, `kid` naming it.
    const claims::Signer* signer = options.request_signer ? &*options.request_signer : nullptr;
    auto kid = signer ? did::ParseDidUrl(signer->verification_method)
                      : Result<did::DidUrl>(Status::InvalidArgument("no signer"));
    if (signer == nullptr || !signer->sign || !kid || kid->did != did_value ||
        kid->fragment.empty())
      return Status::InvalidArgument(
          "a decentralized_identifier: client needs a request_signer: a key of " + did_value +
          " named by a DID URL (§5.9.3)");
  } else {
    return Status::InvalidArgument(
        "the client_id needs the redirect_uri: or decentralized_identifier: prefix");
  }
  if (options.request_ttl_seconds <= 0) return Status::InvalidArgument("request_ttl_seconds > 0");
  // SQLite: sql::OpenDatabase with kMigrations, as before; PostgreSQL: the container's rows.
  MDL_ASSIGN_OR_RETURN(std::unique_ptr<sql::Db> db,
                       sql::Db::Open(where, kWhat, {kMigrations, PgMigrations()}, container));
  return std::unique_ptr<Verifier>(new Verifier(std::move(db), std::move(options), env));
}

Result<AuthorizationRequest> Verifier::CreateRequest(const json& dcql_query,
                                                     const RequestOptions& request_options) {
  MDL_ASSIGN_OR_RETURN(DcqlQuery query, ParseDcqlQuery(dcql_query));
  const std::string dcql = DcqlQueryToJson(query).dump();
  if (request_options.state.size() > kMaxParam)
    return Status::InvalidArgument("the state is too long");
  if (request_options.nonce.size() > kMaxParam)
    return Status::InvalidArgument("the nonce is too long");
  AuthorizationRequest r;
  PkeyPtr enc_key;
  std::string enc_pem;
  json client_metadata;
  if (request_options.encrypted_response) {
    enc_key = NewP256Key();
    if (!enc_key) return Status::Internal("P-256 key generation failed");
    MDL_ASSIGN_OR_RETURN(enc_pem, PrivateKeyPem(enc_key.get()));
  }
  r.state = request_options.state.empty() ? env_.rng->RandomId(32) : request_options.state;
  // §5.2 / §14.1: fresh, unpredictable, one per request (the caller's is a fresh challenge).
  r.nonce = request_options.nonce.empty() ? env_.rng->RandomId(32) : request_options.nonce;
  r.id = env_.rng->RandomId(22);
  r.expires = Now() + options_.request_ttl_seconds;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Stmt s(*db_, sql_->insert.c_str(), kWhat);
    s.Text(1, r.state).Text(2, r.nonce).Text(3, dcql).Int(4, Now()).Int(5, r.expires).Text(6, r.id);
    if (enc_key) {
      s.Text(7, enc_pem);
    } else {
      s.Null(7);
    }
    if (s.Step() != SQLITE_DONE) return s.Error();
    // Requests expired for longer than the clock skew are answered "unknown state" instead of
    // "expired" from now on (refused either way): dropped, so the file does not grow forever.
    Stmt d(*db_, sql_->drop_expired.c_str(), kWhat);
    d.Int(1, Now() - options_.max_clock_skew_seconds);
    if (d.Step() != SQLITE_DONE) return d.Error();
  }
  if (enc_key) {
    // §5.1 client_metadata: the key to encrypt to (§8.3), kid = the request id, and the
    // content encryptions accepted.
    MDL_ASSIGN_OR_RETURN(json jwk, PublicJwk(enc_key.get()));
    jwk["kid"] = r.id;
    jwk["use"] = "enc";
    jwk["alg"] = "ECDH-ES";
    client_metadata = {{"jwks", {{"keys", {jwk}}}},
                       {"encrypted_response_enc_values_supported", {"A128GCM", "A256GCM"}}};
  }
  r.params = {{"client_id", options_.client_id},
              {"response_type", std::string(kVpTokenResponseType)},
              {"response_mode", std::string(enc_key ? kDirectPostJwt : kDirectPost)},
              {"response_uri", options_.response_uri},
              {"nonce", r.nonce},
              {"state", r.state},
              {"dcql_query", dcql}};
  if (enc_key) r.params["client_metadata"] = client_metadata.dump();
  r.uri = std::string(kRequestScheme) + "?";
  bool first = true;
  for (const auto& [k, v] : r.params) {
    if (!first) r.uri += "&";
    first = false;
    r.uri += k + "=" + PercentEncode(v);
  }
  if (options_.request_signer) {
    // RFC 9101 §5.1 by value: the signed request object in `request` beside the client_id
    // (§5.9.3: a decentralized_identifier: client's request is signed, by value too).
    MDL_ASSIGN_OR_RETURN(std::string object, RequestObject(r.id));
    r.uri = std::string(kRequestScheme) + "?client_id=" + PercentEncode(options_.client_id) +
            "&request=" + PercentEncode(object);
  }
  if (!options_.request_uri_base.empty()) {
    r.request_uri = options_.request_uri_base + r.id;
    r.uri_by_reference = std::string(kRequestScheme) +
                         "?client_id=" + PercentEncode(options_.client_id) +
                         "&request_uri=" + PercentEncode(r.request_uri);
  }
  return r;
}

Result<std::string> Verifier::RequestObject(const std::string& id) {
  if (id.empty() || id.size() > kMaxParam) return Status::NotFound("no such request");
  std::string state, nonce, dcql, enc_pem;
  int64_t expires = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Stmt q(*db_, sql_->request_object.c_str(), kWhat);
    q.Text(1, id);
    const int rc = q.Step();
    if (rc == SQLITE_DONE) return Status::NotFound("no such request");
    if (rc != SQLITE_ROW) return q.Error();
    if (q.ColInt(4) != 0 || q.ColInt(3) <= Now())
      return Status::NotFound("the request was answered or has expired");
    state = q.Col(0);
    nonce = q.Col(1);
    dcql = q.Col(2);
    expires = q.ColInt(3);
    if (!q.ColIsNull(5)) enc_pem = q.Col(5);
  }
  // RFC 9101 §4: the request's parameters as claims; OID4VP §5.9.3: unsigned for this prefix.
  json claims = {{"client_id", options_.client_id},
                 {"response_type", kVpTokenResponseType},
                 {"response_mode", kDirectPost},
                 {"response_uri", options_.response_uri},
                 {"nonce", nonce},
                 {"state", state},
                 {"dcql_query", json::parse(dcql)}};
  if (!enc_pem.empty()) {
    PkeyPtr key = PrivateKeyFromPem(enc_pem);
    if (!key) return Status::Internal("the request's encryption key is unreadable");
    MDL_ASSIGN_OR_RETURN(json jwk, PublicJwk(key.get()));
    jwk["kid"] = id;
    jwk["use"] = "enc";
    jwk["alg"] = "ECDH-ES";
    claims["response_mode"] = kDirectPostJwt;
    claims["client_metadata"] = {
        {"jwks", {{"keys", {jwk}}}},
        {"encrypted_response_enc_values_supported", {"A128GCM", "A256GCM"}}};
  }
  if (options_.request_signer) {
    // §5.9.3 decentralized_identifier: signed by a key of the DID, kid = its DID URL; RFC 9101
    // §4: iss (the DID) and aud — §5.8: "https://self-issued.me/v2", the wallet's metadata
    // being static here; typ oauth-authz-req+jwt (RFC 9101 §10.8). The nonce stays a request
    // parameter (claims::SignJwt puts it back where it was).
    claims::JwtSignOptions so;
    so.issued_at = Now();
    so.expires = expires;
    so.audience = std::string(kStaticDiscoveryAudience);
    return claims::SignJwt(claims::JwtKind::kAuthzRequest, claims, *options_.request_signer, so);
  }
  const json header = {{"alg", "none"}, {"typ", "oauth-authz-req+jwt"}};
  return Base64UrlEncode(AsBytes(header.dump())) + "." + Base64UrlEncode(AsBytes(claims.dump())) +
         ".";
}

Status Verifier::LoadForResponse(const std::string& state, bool spend, std::string* nonce,
                                 std::string* dcql, std::string* id) {
  if (state.empty() || state.size() > kMaxParam) return Invalid("the response has no valid state");
  Status refused;
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = Now();
  MDL_RETURN_IF_ERROR(sql::InTransaction(*db_, [&]() -> Status {
    Stmt q(*db_, sql_->load.c_str(), kWhat);
    q.Text(1, state);
    const int rc = q.Step();
    if (rc == SQLITE_DONE) {
      refused = Invalid("unknown state: no such request");
      return Status::Ok();
    }
    if (rc != SQLITE_ROW) return q.Error();
    if (q.ColInt(3) != 0) {
      refused = Invalid("the request was already answered");
      return Status::Ok();
    }
    if (q.ColInt(2) <= now) refused = Invalid("the request has expired");
    *nonce = q.Col(0);
    *dcql = q.Col(1);
    *id = q.Col(4);
    if (!spend) return Status::Ok();
    Stmt u(*db_, sql_->spend.c_str(), kWhat);
    u.Text(1, state);
    if (u.Step() != SQLITE_DONE) return u.Error();
    return Status::Ok();
  }));
  return refused;
}

Result<std::map<std::string, std::string>> Verifier::OpenForm(
    const std::map<std::string, std::string>& form) {
  auto it = form.find("response");
  if (it == form.end()) {
    const std::string state = Param(form, "state");
    std::lock_guard<std::mutex> lock(mu_);
    Stmt q(*db_, sql_->key_of_state.c_str(), kWhat);
    q.Text(1, state);
    if (q.Step() == SQLITE_ROW && !q.ColIsNull(0) && !form.count("error"))
      return Invalid("this request asked for an encrypted response (direct_post.jwt, §8.3)");
    return form;
  }
  if (form.size() != 1) return Invalid("a direct_post.jwt form has only `response` (§8.3)");
  const std::string& jwe = it->second;
  if (jwe.size() > kMaxVpToken) return JweError("too large");
  MDL_ASSIGN_OR_RETURN(json header, JweHeader(jwe));
  const std::string kid = header.value("kid", "");
  std::string state, pem;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Stmt q(*db_, sql_->key_of_id.c_str(), kWhat);
    q.Text(1, kid);
    if (kid.empty() || kid.size() > kMaxParam || q.Step() != SQLITE_ROW || q.ColIsNull(1))
      return Invalid("unknown state: the encrypted response names no request of ours (kid)");
    state = q.Col(0);
    pem = q.Col(1);
  }
  PkeyPtr key = PrivateKeyFromPem(pem);
  if (!key) return Status::Internal("the request's encryption key is unreadable");
  MDL_ASSIGN_OR_RETURN(std::string plain, DecryptJwe(jwe, header, key.get()));
  auto payload = ParseJsonObject(plain, "the decrypted response");
  if (!payload) return JweError("the plaintext is not a JSON object");
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : payload->items()) {
    if (v.is_string()) {
      out[k] = v.get<std::string>();
    } else if (v.is_object() || v.is_array()) {
      out[k] = v.dump();
    } else {
      return JweError("member \"" + k + "\" has an unexpected type");
    }
  }
  // The state travels inside the JWE (§8.3); it must be the request the key belongs to.
  if (Param(out, "state") != state)
    return Invalid("the encrypted response's state is not its request's");
  return out;
}

Status Verifier::Spend(const std::string& state) {
  std::string nonce, dcql, id;
  return LoadForResponse(state, /*spend=*/true, &nonce, &dcql, &id);
}

Result<PendingResponse> Verifier::ReadResponse(const std::map<std::string, std::string>& posted) {
  MDL_ASSIGN_OR_RETURN(const auto form, OpenForm(posted));
  PendingResponse out;
  out.state = Param(form, "state");
  std::string dcql;
  MDL_RETURN_IF_ERROR(LoadForResponse(out.state, /*spend=*/false, &out.nonce, &dcql, &out.id));
  out.form = form;
  if (form.count("error")) {  // §8.5
    const std::string code = Param(form, "error");
    const bool token = !code.empty() && code.size() <= kMaxParam &&
                       std::all_of(code.begin(), code.end(),
                                   [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
    if (!token) return Invalid("a malformed error response");
    out.error = code;
    out.error_description = Param(form, "error_description").substr(0, kMaxParam);
    return out;
  }
  const std::string vp = Param(form, "vp_token");
  if (vp.empty() || vp.size() > kMaxVpToken) return Invalid("the response has no vp_token");
  auto token = ParseJsonObject(vp, "vp_token");
  if (!token) return Invalid("vp_token is not a JSON object (§8.1)");
  MDL_ASSIGN_OR_RETURN(out.query, ParseDcqlQuery(std::string_view(dcql)));
  std::vector<std::string> present;
  for (const auto& [qid, list] : token->items()) {
    const CredentialQuery* cq = out.query.Find(qid);
    if (cq == nullptr) return Invalid("vp_token answers \"" + qid + "\", not a Credential Query");
    if (!list.is_array() || list.empty() || list.size() > kMaxPresentations)
      return Invalid("vp_token \"" + qid + "\" must be a non-empty array of presentations");
    if (!cq->multiple && list.size() != 1)
      return Invalid("vp_token \"" + qid + "\" has several presentations; multiple is false");
    for (const json& p : list) {
      if (!p.is_string()) return Invalid("vp_token \"" + qid + "\": a presentation is a string");
      out.presentations[qid].push_back(p.get<std::string>());
    }
    present.push_back(qid);
  }
  auto required = out.query.RequiredIds(&present);
  if (!required)
    return Invalid("vp_token does not meet the credential_sets: " + required.error().message());
  for (const std::string& qid : *required) {
    if (std::find(present.begin(), present.end(), qid) == present.end())
      return Invalid("vp_token does not answer credential query \"" + qid + "\"");
  }
  return out;
}

Status Verifier::RecordOutcome(const std::string& id, const json& outcome) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt u(*db_, sql_->outcome.c_str(), kWhat);
  u.Text(1, outcome.dump()).Text(2, id);
  if (u.Step() != SQLITE_DONE) return u.Error();
  return Status::Ok();
}

Result<RequestRecord> Verifier::Lookup(const std::string& id) {
  if (id.empty() || id.size() > kMaxParam) return Status::NotFound("no such request");
  std::lock_guard<std::mutex> lock(mu_);
  Stmt q(*db_, sql_->lookup.c_str(), kWhat);
  q.Text(1, id);
  const int rc = q.Step();
  if (rc == SQLITE_DONE) return Status::NotFound("no such request");
  if (rc != SQLITE_ROW) return q.Error();
  RequestRecord r;
  r.id = id;
  r.state = q.Col(0);
  r.expires = q.ColInt(1);
  r.answered = q.ColInt(2) != 0;
  if (!q.ColIsNull(3)) {
    auto o = ParseJsonObject(q.Col(3), "outcome");
    if (o) r.outcome = std::move(*o);
  }
  return r;
}

Result<VerifiedPresentation> Verifier::VerifyResponse(
    const std::map<std::string, std::string>& posted, const did::Resolver& resolver) {
  MDL_ASSIGN_OR_RETURN(const auto form, OpenForm(posted));
  const std::string state = Param(form, "state");
  // Spend the request first: a second post for this state is refused, whatever the first was.
  std::string nonce, dcql, request_id;
  MDL_RETURN_IF_ERROR(LoadForResponse(state, /*spend=*/true, &nonce, &dcql, &request_id));

  // §8.5: the wallet's error response, posted to the response_uri.
  if (form.count("error")) {
    const std::string code = Param(form, "error");
    const bool token = !code.empty() && code.size() <= kMaxParam &&
                       std::all_of(code.begin(), code.end(),
                                   [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
    if (!token) return Invalid("a malformed error response");
    std::string description = Param(form, "error_description").substr(0, kMaxParam);
    return Status::WithReason(StatusCode::kPermissionDenied, code,
                              description.empty() ? "the wallet refused" : description);
  }

  const std::string vp = Param(form, "vp_token");
  if (vp.empty() || vp.size() > kMaxVpToken) return Invalid("the response has no vp_token");
  auto token = ParseJsonObject(vp, "vp_token");
  if (!token) return Invalid("vp_token is not a JSON object (§8.1)");
  MDL_ASSIGN_OR_RETURN(DcqlQuery query, ParseDcqlQuery(std::string_view(dcql)));

  VerifiedPresentation out;
  out.state = state;
  std::vector<std::string> present;
  for (const auto& [id, list] : token->items()) {
    const CredentialQuery* cq = query.Find(id);
    if (cq == nullptr) return Invalid("vp_token answers \"" + id + "\", not a Credential Query");
    if (!list.is_array() || list.empty() || list.size() > kMaxPresentations)
      return Invalid("vp_token \"" + id + "\" must be a non-empty array of presentations");
    if (!cq->multiple && list.size() != 1)
      return Invalid("vp_token \"" + id + "\" has several presentations; multiple is false");
    for (const json& p : list) {
      if (!p.is_string()) return Invalid("vp_token \"" + id + "\": a presentation is a string");
      // Appendix B.3.6: the KB-JWT binds the presentation to this request: nonce and aud
      // (the client_id, prefix included).
      claims::SdJwtVerifyOptions o;
      o.require_key_binding = cq->require_cryptographic_holder_binding;
      o.expected_audience = options_.client_id;
      o.expected_nonce = nonce;
      o.kb_max_age_seconds = options_.kb_max_age_seconds;
      o.max_clock_skew_seconds = options_.max_clock_skew_seconds;
      auto verified =
          claims::VerifySdJwt(p.get_ref<const std::string&>(), resolver, o, *env_.clock);
      if (!verified)
        return Status::WithReason(
            verified.error().code(), vp_error::kInvalidRequest,
            verified.error().message() + " (credential query \"" + id + "\")");
      auto payload = ParseJsonObject(verified->payload_json, "sd-jwt payload");
      if (!payload) return payload.error();
      // §6.4 / §8.6: what was disclosed must satisfy the query: an undisclosed claim is absent.
      auto selected = SelectClaims(*cq, *payload);
      if (!selected)
        return Status::WithReason(
            StatusCode::kPermissionDenied, vp_error::kInvalidRequest,
            "credential query \"" + id +
                "\" is not satisfied by the disclosed claims: " + selected.error().message());
      out.credentials[id].push_back(std::move(*verified));
    }
    present.push_back(id);
  }
  auto required = query.RequiredIds(&present);
  if (!required)
    return Invalid("vp_token does not meet the credential_sets: " + required.error().message());
  for (const std::string& id : *required) {
    if (std::find(present.begin(), present.end(), id) == present.end())
      return Invalid("vp_token does not answer credential query \"" + id + "\"");
  }
  return out;
}

namespace {

// §5, §5.9.3, §8.2: the request's parameters; `signed_did` is the DID whose key signed the
// request object they came from ("" when they were not signed).
Result<ParsedRequest> CheckRequestParams(const std::map<std::string, std::string>& params,
                                         const std::string& signed_did) {
  if (params.count("request") || params.count("request_uri"))
    return Invalid("a request object (request, request_uri) needs the wallet's fetcher");
  if (Param(params, "response_type") != kVpTokenResponseType)
    return Invalid("response_type must be vp_token (§5.6)");
  if (Param(params, "response_mode") != kDirectPost)
    return Invalid("response_mode must be direct_post (§8.2)");
  ParsedRequest r;
  r.response_uri = Param(params, "response_uri");
  if (!HttpUrl(r.response_uri)) return Invalid("response_uri must be an http(s) URL (§8.2)");
  if (params.count("redirect_uri"))
    return Invalid("redirect_uri must not be present with direct_post (§8.2)");
  r.client_id = Param(params, "client_id");
  if (r.client_id.starts_with(kRedirectUriPrefix)) {
    if (r.client_id.substr(kRedirectUriPrefix.size()) != r.response_uri)
      return Invalid("a redirect_uri: client_id must equal the response_uri (§5.9.3)");
  } else if (r.client_id.starts_with(kDecentralizedIdentifierPrefix)) {
    if (signed_did.empty() ||
        r.client_id.substr(kDecentralizedIdentifierPrefix.size()) != signed_did)
      return Invalid("a decentralized_identifier: client's request must be a request object "
                     "signed with a key of its DID (§5.9.3)");
    r.verifier_did = signed_did;
  } else {
    return Status::WithReason(StatusCode::kInvalidArgument, vp_error::kInvalidClient,
                              "unsupported client identifier prefix");
  }
  r.nonce = Param(params, "nonce");
  if (r.nonce.empty() || r.nonce.size() > kMaxParam) return Invalid("nonce is required (§5.2)");
  r.state = Param(params, "state");
  if (r.state.size() > kMaxParam) return Invalid("state is too long");
  if (!params.count("dcql_query")) return Invalid("dcql_query is required (§5.1)");
  MDL_ASSIGN_OR_RETURN(r.query, ParseDcqlQuery(std::string_view(Param(params, "dcql_query"))));
  return r;
}

}  // namespace

Result<ParsedRequest> ParseAuthorizationRequest(const std::map<std::string, std::string>& params) {
  return CheckRequestParams(params, "");
}

Result<ParsedRequest> ParseAuthorizationRequest(const std::map<std::string, std::string>& params,
                                                const RequestObjectFetcher& fetch,
                                                const did::Resolver* resolver, int64_t now,
                                                int64_t max_clock_skew) {
  const bool by_reference = params.count("request_uri") != 0;
  const bool by_value = params.count("request") != 0;
  if (!by_reference && !by_value) return CheckRequestParams(params, "");
  if (by_reference && by_value)
    return Invalid("request and request_uri must not both be present (RFC 9101 §5)");
  const std::string outer_client = Param(params, "client_id");
  if (outer_client.empty())
    return Invalid("client_id is required with a request object (RFC 9101 §5, §5.10)");
  const bool did_client = outer_client.starts_with(kDecentralizedIdentifierPrefix);
  if (!did_client && !outer_client.starts_with(kRedirectUriPrefix))
    return Status::WithReason(StatusCode::kInvalidArgument, vp_error::kInvalidClient,
                              "request objects are read for redirect_uri: (unsigned) and "
                              "decentralized_identifier: (signed) clients only (§5.9.3)");
  std::string jwt;
  if (by_reference) {
    const std::string uri = Param(params, "request_uri");
    if (!HttpUrl(uri) || uri.size() > 2048) return Invalid("request_uri must be an http(s) URL");
    // §5.10: request_uri_method "get" (the default) or "post"; any other value is an error.
    std::string method = params.count("request_uri_method") ? Param(params, "request_uri_method")
                                                            : std::string("get");
    if (method != "get" && method != "post")
      return Status::WithReason(StatusCode::kInvalidArgument, vp_error::kInvalidRequestUriMethod,
                                "request_uri_method must be get or post (§5.10)");
    if (!fetch) return Invalid("request_uri given but the wallet cannot fetch it");
    auto body = fetch(uri, method);
    if (!body)
      return Invalid("the request object could not be fetched: " + body.error().message());
    jwt = std::move(*body);
  } else {
    jwt = Param(params, "request");
  }
  const size_t d1 = jwt.find('.');
  const size_t d2 = d1 == std::string::npos ? d1 : jwt.find('.', d1 + 1);
  if (jwt.size() > kMaxVpToken || d2 == std::string::npos ||
      jwt.find('.', d2 + 1) != std::string::npos)
    return Invalid(did_client ? "the request object is not a compact JWS (RFC 7515 §7.1)"
                              : "the request object is not an unsigned JWT (alg none, §5.9.3)");
  const bool is_signed = d2 + 1 != jwt.size();
  std::optional<json> claims;
  std::string signed_did, kid;
  if (!did_client) {
    // An Unsecured JWT (RFC 7519 §6): header.payload. with an empty signature.
    if (is_signed)
      return Invalid("the request object is not an unsigned JWT: a redirect_uri: client's "
                     "request must not be signed (alg none, §5.9.3)");
    auto header_bytes = Base64UrlDecode(std::string_view(jwt).substr(0, d1));
    auto payload_bytes = Base64UrlDecode(std::string_view(jwt).substr(d1 + 1, d2 - d1 - 1));
    if (!header_bytes || !payload_bytes) return Invalid("the request object is not base64url");
    auto header = ParseJsonObject(ToString(*header_bytes), "request object header");
    auto body = ParseJsonObject(ToString(*payload_bytes), "request object");
    if (!header || !body) return Invalid("the request object is not a JWT of JSON objects");
    if (header->value("alg", "") != "none")
      return Invalid("a redirect_uri: client's request object must be unsigned (alg none, "
                     "§5.9.3)");
    if (header->contains("typ") && (*header)["typ"] != claims::kAuthzRequestJwtType)
      return Invalid("the request object's typ must be oauth-authz-req+jwt (RFC 9101 §10.8)");
    claims = std::move(*body);
  } else {
    // §5.9.3 decentralized_identifier: "The request MUST be signed with a private key
    // associated with the DID", the key named by kid and found in the DID document.
    const std::string did_value = outer_client.substr(kDecentralizedIdentifierPrefix.size());
    if (!is_signed)
      return Invalid("a decentralized_identifier: client's request object must be signed "
                     "(§5.9.3); this one is not");
    if (!did::IsValidDid(did_value))
      return Invalid("the decentralized_identifier: client_id does not name a DID");
    if (resolver == nullptr || now <= 0)
      return Invalid("this wallet cannot verify a signed request object (no DID resolver)");
    // RFC 9101 §6.2 / RFC 7515 §5.2 through claims::VerifyJwt: alg allow-list, typ
    // oauth-authz-req+jwt, no crit, kid a DID URL resolved to an authentication method, the
    // signature, iat/exp.
    claims::JwtCheckOptions co;
    co.now = now;
    co.max_clock_skew = std::clamp<int64_t>(max_clock_skew, 0, claims::kMaxClockSkewSeconds);
    claims::VerifiedJwt info;
    auto verified = claims::VerifyJwt(claims::JwtKind::kAuthzRequest, jwt, *resolver, co, &info);
    if (!verified)
      return Invalid("the request object's signature: " + verified.error().message());
    const size_t hash = info.kid.find('#');
    if (info.kid.substr(0, hash) != did_value)
      return Invalid("the request object is signed by a key of " + info.kid.substr(0, hash) +
                     ", not of the client's DID " + did_value + " (§5.9.3)");
    // §5.8: without wallet metadata of ours, the audience is the static one.
    if (verified->contains("aud") && (*verified)["aud"] != kStaticDiscoveryAudience)
      return Invalid("the request object's aud is not https://self-issued.me/v2 (§5.8)");
    signed_did = did_value;
    kid = info.kid;
    claims = std::move(*verified);
  }
  std::map<std::string, std::string> inner;
  for (const auto& [k, v] : claims->items()) {
    if (k == "iss" || k == "aud" || k == "iat" || k == "exp" || k == "nbf" || k == "jti") {
      continue;  // JWT claims, not request parameters
    } else if (v.is_string()) {
      inner[k] = v.get<std::string>();
    } else if ((k == "dcql_query" || k == "client_metadata") && v.is_object()) {
      inner[k] = v.dump();
    } else {
      return Invalid("request object member \"" + k + "\" has an unexpected type");
    }
  }
  // RFC 9101 §5 / OID4VP §5.10: the client_id outside must be the request object's.
  if (Param(inner, "client_id") != outer_client)
    return Invalid("the request object's client_id is not the request's");
  MDL_ASSIGN_OR_RETURN(ParsedRequest r, CheckRequestParams(inner, signed_did));
  r.request_kid = kid;
  return r;
}

Result<std::string> EncryptResponse(const json& payload, const json& jwk, const std::string& enc) {
  PkeyPtr peer = PublicKeyFromJwk(jwk);
  if (!peer) return Status::InvalidArgument("the verifier's key is not an EC P-256 public JWK");
  if (GcmFor(enc) == nullptr) return Status::InvalidArgument("enc must be A128GCM or A256GCM");
  PkeyPtr eph = NewP256Key();
  if (!eph) return Status::Internal("P-256 key generation failed");
  MDL_ASSIGN_OR_RETURN(json epk, PublicJwk(eph.get()));
  json header = {{"alg", "ECDH-ES"}, {"enc", enc}, {"epk", epk}};
  if (jwk.contains("kid") && jwk["kid"].is_string()) header["kid"] = jwk["kid"];
  const std::string protected_b64 = Base64UrlEncode(AsBytes(header.dump()));
  MDL_ASSIGN_OR_RETURN(Bytes cek, DeriveCek(eph.get(), peer.get(), enc, {}, {},
                                            enc == "A128GCM" ? 16 : 32));
  // A random 96-bit IV (RFC 7518 §5.3); the ephemeral key, hence the CEK, is new each time.
  Bytes iv(12);
  if (RAND_bytes(iv.data(), static_cast<int>(iv.size())) != 1)
    return Status::Internal("random IV failed");
  Bytes ct, tag;
  const std::string plain = payload.dump();
  if (!Gcm(true, enc, cek, iv, AsBytes(protected_b64), AsBytes(plain), &ct, &tag))
    return Status::Internal("encryption failed");
  return protected_b64 + ".." + Base64UrlEncode(iv) + "." + Base64UrlEncode(ct) + "." +
         Base64UrlEncode(tag);
}

Result<std::map<std::string, std::string>> BuildResponse(const ParsedRequest& request,
                                                         const std::vector<std::string>& held,
                                                         const claims::Signer& holder,
                                                         const Env& env) {
  MDL_ASSIGN_OR_RETURN(std::vector<DcqlSelection> selections, MatchDcql(request.query, held));
  json vp = json::object();
  for (const DcqlSelection& s : selections) {
    claims::SdJwtPresentOptions o;
    o.reveal = s.reveal;
    o.audience = request.client_id;
    o.nonce = request.nonce;
    MDL_ASSIGN_OR_RETURN(std::string p, claims::PresentSdJwt(held[s.credential], o, &holder, env));
    vp[s.query_id].push_back(std::move(p));
  }
  std::map<std::string, std::string> form{{"vp_token", vp.dump()}};
  if (!request.state.empty()) form["state"] = request.state;
  return form;
}

}  // namespace medallion::oid4vc
