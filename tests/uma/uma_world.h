// A consent world for the uma tests, the HTTP tests and the interop fixture: a medical
// society, a physician with a license, a stranger, a patient who owns a container (the UMA
// authorization server + FHIR record store in a temporary folder), a fake clock and a seeded
// RNG, and builders for the claim tokens a requesting party's client pushes.
//
// The consent database is SQLite, or, when MEDALLION_UMA_BACKEND=postgresql (ctest registers the
// suites a second time so, as uma_tests_pg:*), a schema of its own in the test cluster of
// tests/ledger/backends.h, reached as an ordinary role that row-level security binds.
#pragma once

#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "medallion/claims/credentials.h"
#include "medallion/claims/data_integrity.h"
#include "medallion/claims/jose.h"
#include "medallion/claims/sd_jwt.h"
#include "medallion/core/encoding.h"
#include "medallion/core/hash.h"
#include "medallion/core/jcs.h"
#include "medallion/did/did_key.h"
#include "medallion/uma/authorization_server.h"
#include "medallion/uma/record_store.h"

#ifdef MEDALLION_BINARY_DIR  // the Catch suites (not the interop fixture): PostgreSQL runs too
#include <regex>

#include "ledger/backends.h"
#include "medallion/storage/db.h"
#define MEDALLION_UMA_PG 1
#endif

namespace medallion::testing {

#ifdef MEDALLION_UMA_PG
// True when this run keeps the consent database on PostgreSQL.
inline bool UmaOnPostgres() {
  const char* b = std::getenv("MEDALLION_UMA_BACKEND");
  return b != nullptr && std::string_view(b) == "postgresql";
}

// The role the PostgreSQL runs connect as: neither superuser nor BYPASSRLS (sql::Db refuses
// those), created once per cluster.
inline constexpr const char* kUmaPgRole = "medallion_app";

// A fresh schema the test role owns, and the URL that opens it as that role.
class UmaPgSchema {
 public:
  explicit UmaPgSchema(const std::string& base) : schema_(base) {
    schema_.Exec(std::string("DO $$ BEGIN CREATE ROLE ") + kUmaPgRole +
                 " LOGIN NOSUPERUSER NOBYPASSRLS; EXCEPTION WHEN duplicate_object OR "
                 "unique_violation THEN NULL; END $$");
    schema_.Exec("GRANT ALL ON SCHEMA " + schema_.name() + " TO " + kUmaPgRole);
    const std::string as_app = std::regex_replace(base, std::regex("([?&])user=[^&]*"),
                                                  std::string("$1user=") + kUmaPgRole);
    url_ = ledger::testing::WithParam(
        as_app.find("user=") == std::string::npos
            ? ledger::testing::WithParam(as_app, std::string("user=") + kUmaPgRole)
            : as_app,
        "options=-csearch_path%3D" + schema_.name());
    if (const char* n = std::getenv("MEDALLION_UMA_PG_POOL"); n != nullptr) {
      auto pool = sql::PgPool::Open(url_, static_cast<size_t>(std::atoi(n)));
      if (!pool) throw std::runtime_error("pool: " + pool.error().ToString());
      pool_ = *pool;
    }
  }
  const std::string& url() const { return url_; }
  const ledger::testing::PgSchema& schema() const { return schema_; }

 private:
  ledger::testing::PgSchema schema_;
  std::string url_;
  // MEDALLION_UMA_PG_POOL=N (the run uma_tests_pgpool:*): a sql::PgPool of N connections for
  // url_, so every store the world opens by it borrows from the pool (docs/scale-out.md
  // §"The connection pool"). Declared last: closed before the schema is dropped.
  std::shared_ptr<sql::PgPool> pool_;
};
#endif

struct UmaKey {
  Bytes pk = Bytes(32);
  Bytes sk = Bytes(64);
  explicit UmaKey(uint8_t b) {
    Bytes seed(32, b);
    if (sodium_init() < 0) std::abort();
    crypto_sign_seed_keypair(pk.data(), sk.data(), seed.data());
  }
  std::string Multikey() const { return *did::MultikeyFromPublicKey(did::KeyType::kEd25519, pk); }
  std::string Did() const { return "did:key:" + Multikey(); }
  std::string Kid() const { return Did() + "#" + Multikey(); }
  claims::Signer Signer() const {
    claims::Signer s;
    s.alg = claims::Alg::kEdDSA;
    s.verification_method = Kid();
    s.public_key = pk;
    Bytes sk_copy = sk;
    s.sign = [sk_copy](ByteView m) -> Result<Bytes> {
      Bytes sig(64);
      crypto_sign_detached(sig.data(), nullptr, m.data(), m.size(), sk_copy.data());
      return sig;
    };
    return s;
  }
  // The private key as an RFC 8037 OKP JWK.
  nlohmann::json PrivateJwk() const {
    return {{"kty", "OKP"},
            {"crv", "Ed25519"},
            {"x", Base64UrlEncode(pk)},
            {"d", Base64UrlEncode(ByteView(sk.data(), 32))}};
  }
};

inline constexpr int64_t kUmaNow = 1'790'000'000;  // 2026-09-21

// did:example:<name> documents whose Ed25519 keys a test sets (e.g. an owner's paired
// devices, published as the device-key hook would on a did:mdl).
class ExampleDids final : public did::MethodResolver {
 public:
  std::string_view method() const override { return "example"; }
  void Add(const std::string& did, const Bytes& key) {
    std::lock_guard<std::mutex> lock(mu_);
    keys_[did].push_back(key);
  }
  void Remove(const std::string& did, ByteView key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& v = keys_[did];
    v.erase(std::remove_if(v.begin(), v.end(),
                           [&](const Bytes& k) {
                             return std::equal(k.begin(), k.end(), key.begin(), key.end());
                           }),
            v.end());
  }
  did::ResolutionResult Resolve(std::string_view d, const did::ResolutionOptions&) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = keys_.find(std::string(d));
    if (it == keys_.end()) return did::ResolutionResult::Error("notFound", "no such did:example");
    did::DidDocument doc;
    doc.id = std::string(d);
    for (const Bytes& k : it->second) {
      (void)did::AddKey(doc, did::KeyType::kEd25519, k,
                        {did::Relationship::kAuthentication, did::Relationship::kAssertionMethod});
    }
    did::ResolutionResult r;
    r.document = std::move(doc);
    return r;
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::vector<Bytes>> keys_;
};

// The phone's half of pairing (docs/mobile-bridge.md), as the bridge computes it.
inline nlohmann::json PairingProof(const std::string& container, const std::string& pairing_id,
                                   const std::string& secret, const UmaKey& device,
                                   const std::string& name = "test phone") {
  const std::string multikey = device.Multikey();
  const std::string t = *jcs::Canonicalize(nlohmann::json{{"type", "medallion-pairing/1"},
                                                          {"container", container},
                                                          {"pairing_id", pairing_id},
                                                          {"device_key", multikey},
                                                          {"device_name", name}});
  const Hash256 key = Sha256(AsBytes(secret));
  const Hash256 mac = HmacSha256(key, AsBytes(t));
  return {{"pairing_id", pairing_id},
          {"device_key", multikey},
          {"device_name", name},
          {"mac", Base64UrlEncode(mac)},
          {"sig", Base64UrlEncode(*device.Signer().sign(AsBytes(t)))}};
}

// A device's signature over a JCS statement.
inline std::string DeviceSig(const UmaKey& device, const nlohmann::json& statement) {
  return Base64UrlEncode(*device.Signer().sign(AsBytes(*jcs::Canonicalize(statement))));
}

inline uint64_t NextSeed() {
  static std::atomic<uint64_t> seed{11};
  return seed++;
}

struct UmaWorld {
  std::filesystem::path dir;
  FakeClock clock{kUmaNow * 1000};
  SeededRng rng{NextSeed()};  // each world its own stream: two containers never share tokens
  Env env{&clock, &rng};
  did::Resolver resolver;
  UmaKey society{1}, physician{2}, stranger{3}, patient{4}, provider{5}, rogue_society{6};
  std::set<std::string> revoked;  // license ids the society has revoked
  std::unique_ptr<uma::AuthorizationServer> as;
  std::unique_ptr<uma::RecordStore> records;
  std::string issuer = "https://patient.example";
  claims::LedgerPort* ledger = nullptr;
  SecretBytes pseudonym_secret = SecretBytes::CopyFrom(Bytes(32, 0x42));
  std::shared_ptr<ExampleDids> example = std::make_shared<ExampleDids>();
  std::function<Status(ByteView, bool)> device_key_hook;  // set before Open() to publish devices
  int64_t pairing_ttl = 300;
  // Set before Open(): the owner's relationships a did:key is the provider of.
  std::function<Result<std::vector<std::string>>(const std::string&)> relationships_of;

  explicit UmaWorld(const std::string& tag = "uma", claims::LedgerPort* ledger_port = nullptr)
      : ledger(ledger_port) {
    static std::atomic<int> counter{0};
    dir = std::filesystem::temp_directory_path() /
          ("medallion-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    resolver.Register(example);
    consent = (dir / "consent.db").string();
#ifdef MEDALLION_UMA_PG
    if (UmaOnPostgres()) {
      if (auto base = ledger::testing::PgBaseUrl()) {
        pg.emplace(*base);
        consent = pg->url();
      } else {
        static std::once_flag once;
        std::call_once(once, [] {
          std::fprintf(stderr, "%s; this run used SQLite\n", ledger::testing::kPgSkipMessage);
        });
      }
    }
#endif
    Open();
  }
  ~UmaWorld() {
    as.reset();
    records.reset();
    std::filesystem::remove_all(dir);
  }

  // Where the consent database is: the SQLite file, or the PostgreSQL URL.
  std::string consent;
#ifdef MEDALLION_UMA_PG
  std::optional<UmaPgSchema> pg;
#endif

  uma::AuthorizationServerOptions Options() {
    uma::AuthorizationServerOptions o;
    o.issuer = issuer;
    o.owner_did = patient.Did();
    o.trusted_issuers = {society.Did()};
    o.resolver = &resolver;
    o.license_status = [this](const nlohmann::json& vc) -> Status {
      if (revoked.count(vc.value("id", ""))) return Status::FailedPrecondition("revoked");
      return Status::Ok();
    };
    // Interactive claims gathering by OpenID4VP (claims_interaction.cpp): the SD-JWT license's
    // status by its number; the verifier's requests where the server puts them by default (a
    // file beside the SQLite consent database, or the container's rows of the PostgreSQL one).
    o.sd_jwt_license_status = [this](const nlohmann::json& payload) -> Status {
      if (revoked.count(payload.value("license_number", ""))) return Status::FailedPrecondition("revoked");
      return Status::Ok();
    };
    o.device_key_hook = device_key_hook;
    o.pairing_ttl = pairing_ttl;
    o.relationships_of = relationships_of;
    if (ledger != nullptr) {
      o.ledger = ledger;
      o.owner_signer = patient.Signer();
      o.pseudonym_secret = &pseudonym_secret;
    }
    return o;
  }

  void Open() {
    as.reset();
    records.reset();
    auto a = uma::AuthorizationServer::Open(consent, Options(), env);
    if (!a) throw std::runtime_error(a.error().ToString());
    as = std::move(*a);
    const bool on_pg = consent.rfind("postgresql://", 0) == 0;
    auto r = uma::RecordStore::Open(on_pg ? consent : (dir / "records.db").string(), env,
                                    patient.Did());
    if (!r) throw std::runtime_error(r.error().ToString());
    records = std::move(*r);
  }

  int64_t Now() const { return env.clock->NowSeconds(); }
  void Advance(int64_t seconds) { clock.Advance(seconds * 1000); }

  // A Data-Integrity-secured license for `holder` from `issuer_key`.
  nlohmann::json License(const UmaKey& holder, const std::string& id = "urn:uuid:license-1",
                         const UmaKey* issuer_key = nullptr) {
    const UmaKey& by = issuer_key ? *issuer_key : society;
    claims::LicenseClaims c{holder.Did(),
                            "MD-12345",
                            "US-MA",
                            "MD",
                            "Internal Medicine",
                            {"II", "III"},
                            "2026-01-01T00:00:00Z",
                            "2028-01-01T00:00:00Z"};
    auto vc = claims::BuildLicenseCredential(id, by.Did(), c, nullptr);
    if (!vc) throw std::runtime_error(vc.error().ToString());
    claims::ProofOptions o;
    o.created = did::XmlDateTime(kUmaNow - 3600);
    return *claims::AddProof(*vc, by.Signer(), o);
  }

  // The society's license as an SD-JWT VC (dc+sd-jwt, as its OpenID4VCI issuer makes it:
  // docs/openid4vc.md), bound (cnf) to `key` (normally the holder's own), naming `holder`.
  std::string LicenseSdJwt(const UmaKey& holder, const std::string& number = "MD-12345",
                           const UmaKey* key = nullptr, const UmaKey* issuer_key = nullptr) {
    const UmaKey& by = issuer_key ? *issuer_key : society;
    nlohmann::json payload = {{"vct", uma::kLicenseVct},
                              {"sub", holder.Did()},
                              {"license_number", number},
                              {"name", "Dr. Ada Physician"},
                              {"jurisdiction", "US-MA"},
                              {"license_type", "MD"},
                              {"specialty", "Internal Medicine"},
                              {"schedules", {"II", "III"}},
                              {"exp", Now() + 365 * 86400}};
    claims::SdJwtIssueOptions o;
    o.disclosable = {"/name", "/jurisdiction", "/license_type", "/specialty", "/schedules"};
    o.min_decoys = 1;
    o.max_decoys = 2;
    o.holder = claims::HolderKey{claims::Alg::kEdDSA, (key ? *key : holder).pk};
    auto sd = claims::IssueSdJwt(payload, by.Signer(), o, env);
    if (!sd) throw std::runtime_error(sd.error().ToString());
    return *sd;
  }

  // A did-auth+jwt claim token (docs/uma.md §"Claim tokens").
  std::string DidAuth(const UmaKey& who, const std::string& nonce,
                      const std::string& purpose = "treatment", const std::string& audience = "",
                      int64_t lifetime = 300, nlohmann::json extra = nlohmann::json::object()) {
    nlohmann::json doc = {{"sub", who.Did()}};
    if (!purpose.empty()) doc["purpose_of_use"] = purpose;
    for (auto& [k, v] : extra.items()) doc[k] = v;
    claims::JwtSignOptions o;
    o.issued_at = Now();
    o.expires = Now() + lifetime;
    o.audience = audience.empty() ? issuer : audience;
    o.nonce = nonce;
    o.jwt_id = Base64UrlEncode(rng.RandomBytes(12));
    return *claims::SignJwt(claims::JwtKind::kDidAuth, doc, who.Signer(), o);
  }

  // A vp+jwt presenting `credentials` as `holder`, signed by `signer` (normally the holder).
  std::string Vp(const UmaKey& holder, const std::vector<nlohmann::json>& credentials,
                 const std::string& nonce, const std::string& purpose = "treatment",
                 const UmaKey* signer = nullptr, const std::string& audience = "") {
    nlohmann::json vp = {{"@context", {claims::kVcContextV2}},
                         {"type", {"VerifiablePresentation"}},
                         {"holder", holder.Did()},
                         {"verifiableCredential", credentials}};
    if (!purpose.empty()) vp["purpose_of_use"] = purpose;
    claims::JwtSignOptions o;
    o.issued_at = Now();
    o.expires = Now() + 300;
    o.audience = audience.empty() ? issuer : audience;
    o.nonce = nonce;
    claims::Signer s = (signer ? *signer : holder).Signer();
    if (signer != nullptr)
      s.verification_method = holder.Kid();  // a forgery: the holder's kid, another key
    return *claims::SignJwt(claims::JwtKind::kPresentation, vp, s, o);
  }

  // The owner's session.
  std::string OwnerSession() {
    uma::Reply ch = as->OwnerChallenge();
    uma::Reply s = as->OwnerSignIn(DidAuth(patient, ch.body["nonce"], ""));
    if (!s.ok()) throw std::runtime_error(s.body.dump());
    return s.body["access_token"];
  }
};

}  // namespace medallion::testing
