// The container and host roles (docs/uma.md, docs/roles.md §"Container host").
#include "medallion/roles/container.h"

#include <httplib.h>

#include <sys/resource.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "medallion/claims/ledger_entries.h"
#include "medallion/claims/pharmacy.h"
#include "medallion/core/hash.h"
#include "medallion/core/json.h"
#include "medallion/core/metrics.h"
#include "medallion/did/did_key.h"
#include "medallion/did/did_web.h"
#include "medallion/http/http.h"
#include "medallion/roles/did_controller.h"
#include "medallion/roles/files.h"
#include "medallion/roles/ledger_client.h"
#include "medallion/roles/uma_http.h"
#include "medallion/storage/db.h"
#include "medallion/uma/authorization_server.h"
#include "medallion/uma/record_store.h"
#include "mounted_routes.h"
#include "owner_relationships.h"
#include "web_http.h"

namespace medallion::roles {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// The random part of this container's tenant in a shared database (see ContainerRole::Init):
// <dir>/tenant-id, made on first use (22 base64url characters, 128 bits) and never replaced.
Result<std::string> TenantId(const std::string& dir, Env env) {
  const std::string path = (fs::path(dir) / "tenant-id").string();
  auto valid = [](std::string_view id) {
    return id.size() == 22 &&
           id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
               std::string_view::npos;
  };
  if (fs::exists(path)) {
    MDL_ASSIGN_OR_RETURN(Bytes raw, ReadFileBytes(path));
    std::string id(raw.begin(), raw.end());
    while (!id.empty() && (id.back() == '\n' || id.back() == '\r')) id.pop_back();
    if (!valid(id))
      return Status::DataLoss(path + " is not a tenant id (22 base64url characters)");
    return id;
  }
  const std::string id = env.rng->RandomId(16);
  if (!valid(id)) return Status::Internal("tenant id: unexpected form");
  MDL_RETURN_IF_ERROR(WriteFileAtomic(path, id + "\n", /*public_file=*/false, /*overwrite=*/false));
  return id;
}

// The owner's key store of a container on a host with a shared database (docs/scale-out.md
// §"The container host on PostgreSQL"): the sealed records of `tenant` in the database. The
// first time (the tenant has none) they are imported byte for byte from the key store file
// `o.store`, opened with all of its file checks, once it has opened under the passphrase (so a
// wrong passphrase file imports nothing); from then on the file is not read. Only ciphertext
// and public records reach the database; the passphrase is used here only.
Result<wallet::WalletSecret> UnlockInDatabase(const ContainerOptions& o, const std::string& tenant,
                                              Env env) {
  auto ks = wallet::KeyStore::OpenInDatabase(o.database, tenant, env);
  if (!ks && ks.error().code() == StatusCode::kNotFound && !o.store.empty()) {
    auto file = wallet::KeyStore::Open(o.store, env);
    if (!file) return Status::InvalidArgument(file.error().ToString());
    MDL_ASSIGN_OR_RETURN(SecretString pass, GetPassphrase(o.passphrase_file, "MEDALLION_PASSPHRASE",
                                                          "Key store passphrase", false));
    MDL_ASSIGN_OR_RETURN(wallet::WalletSecret secret, (*file)->Unlock(pass.Reveal()));
    ks = wallet::KeyStore::ImportIntoDatabase(**file, o.database, tenant, env);
    if (ks) return secret;  // committed: the same sealed bytes are now the tenant's rows
    // Another host on the same database imported it first: use that one.
    if (ks.error().code() == StatusCode::kAlreadyExists)
      ks = wallet::KeyStore::OpenInDatabase(o.database, tenant, env);
  }
  if (!ks) {
    if (ks.error().code() == StatusCode::kNotFound) {
      return Status::InvalidArgument(ks.error().message() +
                                     "; give 'store' (the key store file) to import it once");
    }
    return ks.error();
  }
  MDL_ASSIGN_OR_RETURN(SecretString pass, GetPassphrase(o.passphrase_file, "MEDALLION_PASSPHRASE",
                                                        "Key store passphrase", false));
  return (*ks)->Unlock(pass.Reveal());
}

}  // namespace

using wallet::KeyPurpose;

namespace {

// The owner's keys from her wallet secret (UnlockOwner).
Result<OwnerKeys> OwnerKeysFrom(const wallet::WalletSecret& secret, uint32_t account,
                                const std::string& owner_did, uint32_t key_index) {
  const bool mdl = !owner_did.empty() && did::DidMethod(owner_did) == "mdl";
  if (!owner_did.empty() && !mdl && did::DidMethod(owner_did) != "key") {
    return Status::InvalidArgument(
        "the owner's DID is a did:key of the wallet or a did:mdl it controls");
  }
  auto derive = [&](KeyPurpose p, uint32_t index) {
    return wallet::DeriveSigningKey(secret.seed.Reveal(), wallet::SignatureAlg::kEdDSA,
                                    wallet::PurposeKeyPath(account, p, index));
  };
  OwnerKeys o;
  MDL_ASSIGN_OR_RETURN(wallet::SigningKey auth,
                       derive(KeyPurpose::kAuthentication, mdl ? key_index : 0));
  o.auth = std::make_shared<wallet::SigningKey>(std::move(auth));
  MDL_ASSIGN_OR_RETURN(std::string auth_mk,
                       did::MultikeyFromPublicKey(did::KeyType::kEd25519, o.auth->public_key));
  if (mdl) {
    MDL_ASSIGN_OR_RETURN(wallet::SigningKey assertion, derive(KeyPurpose::kAssertion, key_index));
    o.assertion = std::make_shared<wallet::SigningKey>(std::move(assertion));
    MDL_ASSIGN_OR_RETURN(std::string as_mk, did::MultikeyFromPublicKey(did::KeyType::kEd25519,
                                                                       o.assertion->public_key));
    o.did = owner_did;
    o.auth_kid = owner_did + "#" + auth_mk;
    o.assertion_kid = owner_did + "#" + as_mk;
  } else {
    o.did = "did:key:" + auth_mk;
    if (!owner_did.empty() && owner_did != o.did)
      return Status::InvalidArgument("--owner is not this wallet's did:key");
    o.assertion = o.auth;
    o.auth_kid = o.assertion_kid = o.did + "#" + auth_mk;
  }
  o.seed = SecretBytes::CopyFrom(secret.seed.Reveal());
  const Hash256 mac = HmacSha256(secret.seed.Reveal(), AsBytes("medallion consent pseudonyms v1"));
  o.pseudonym_secret = SecretBytes::CopyFrom(mac);
  return o;
}

}  // namespace

Result<OwnerKeys> UnlockOwner(const std::string& store, const std::string& passphrase_file,
                              uint32_t account, const std::string& owner_did, uint32_t key_index) {
  MDL_ASSIGN_OR_RETURN(wallet::WalletSecret secret, OpenAndUnlock(store, passphrase_file));
  return OwnerKeysFrom(secret, account, owner_did, key_index);
}

ContainerRole::ContainerRole(ContainerOptions options, Env env)
    : options_(std::move(options)), env_(env) {}

// The listener stops first; the services and stores go after it (members in reverse order).
ContainerRole::~ContainerRole() { Stop(); }

Status ContainerRole::Prepare() {
  const ContainerOptions& o = options_;
  std::error_code ec;
  fs::create_directories(o.dir, ec);
  if (ec) return Status::InvalidArgument("cannot create " + o.dir + ": " + ec.message());
  fs::permissions(o.dir, fs::perms::owner_all, ec);
  if (!o.database.empty() && !o.container_id.empty() &&
      (!o.store.empty() || !o.passphrase_file.empty())) {
    // On a host's shared database the key store is the container's rows there, as its consent
    // and record stores are (the same tenant as in Open()).
    MDL_ASSIGN_OR_RETURN(std::string id, TenantId(o.dir, env_));
    MDL_ASSIGN_OR_RETURN(wallet::WalletSecret secret,
                         UnlockInDatabase(o, o.container_id + "." + id, env_));
    MDL_ASSIGN_OR_RETURN(OwnerKeys k, OwnerKeysFrom(secret, o.account, o.owner, o.key_index));
    keys_ = std::move(k);
  } else if (!o.store.empty()) {
    MDL_ASSIGN_OR_RETURN(OwnerKeys k,
                         UnlockOwner(o.store, o.passphrase_file, o.account, o.owner, o.key_index));
    keys_ = std::move(k);
  }
  owner_ = !o.owner.empty() ? o.owner : keys_ ? keys_->did : "";
  if (owner_.empty())
    return Status::InvalidArgument("--owner DID or --store (the owner's wallet) is required");
  MDL_RETURN_IF_ERROR(o.verifier.Check());
  if (!o.ledger.log_key.empty()) {
    MDL_ASSIGN_OR_RETURN(roles::LedgerClient client, o.ledger.MakeClient());
    ledger_client_ = std::make_shared<roles::LedgerClient>(std::move(client));
    if (o.use_ledger) ledger_port_ = roles::MakeLedgerPort(ledger_client_);
  } else if (o.use_ledger) {
    return Status::InvalidArgument("--ledger-receipts needs --ledger and --log-key");
  }
  verifier_ = std::make_unique<Verifier>(o.verifier, ledger_client_);
  if (ledger_port_ && !keys_) {
    return Status::InvalidArgument(
        "consent receipts on the ledger need the owner's wallet (--store)");
  }
  return Status::Ok();
}

std::string ContainerRole::AppUrl() const { return web_ ? web_->AppUrl() : ""; }

Result<std::string> ContainerRole::SetupLink() {
  if (!web_) return Status::FailedPrecondition("the container is not started");
  return web_->SetupLink();
}

Status ContainerRole::Open(const std::string& base_url) {
  const ContainerOptions& o = options_;
  uma::AuthorizationServerOptions ao;
  ao.owner_did = owner_;
  ao.trusted_issuers = o.verifier.trusted;
  ao.resolver = &verifier_->resolver();
  ao.license_status = verifier_->LicenseStatus();
  // The physician may sign in with her license SD-JWT VC by OpenID4VP (UMA Grant §3.3.2 claims
  // interaction, docs/uma.md): its status is that of the W3C license it was issued from.
  ao.sd_jwt_license_status = [check = ao.license_status](const nlohmann::json& payload) {
    return claims::SdJwtLicenseStatus(check, payload);
  };
  if (ledger_port_) {
    ao.ledger = ledger_port_.get();
    ao.owner_signer = keys_->Signer();
    ao.pseudonym_secret = &keys_->pseudonym_secret;
  }
  // A did:mdl owner's paired phone becomes the device key of her DID (docs/mobile-bridge.md).
  if (keys_ && ledger_client_ && did::DidMethod(owner_) == "mdl") {
    const OwnerKeys* k = &*keys_;
    std::shared_ptr<roles::LedgerClient> lc = ledger_client_;
    const uint32_t account = o.account;
    const std::string owner = owner_;
    ao.device_key_hook = [k, lc, account, owner](ByteView key, bool add) {
      return SetDidDeviceKey(k->seed, account, *lc, owner, key, add);
    };
  }
  // Relationship subjects in her policies (docs/relationships.md): the providers' pairwise keys.
  if (keys_ && ledger_client_) {
    auto cache = std::make_shared<ProviderRelationshipCache>(&keys_->seed, ledger_client_, env_);
    ao.relationships_of = [cache](const std::string& did) { return cache->RelationshipsOf(did); };
  }
  if (o.max_idle_readers > 0) ao.max_idle_readers = o.max_idle_readers;
  ao.issuer = !o.public_url.empty() ? o.public_url : base_url;
  while (!ao.issuer.empty() && ao.issuer.back() == '/') ao.issuer.pop_back();
  issuer_ = ao.issuer;
  std::string tenant = !o.container_id.empty() ? o.container_id : owner_;
  if (!o.database.empty()) {
    // Row-level security keys a shared database's rows by tenant. A name can be used again
    // after its container was removed (or by another host on the same database), so the tenant
    // is the name plus a random id kept in the container's own directory: a new directory is a
    // new tenant and sees none of the rows an earlier owner of the name left behind.
    MDL_ASSIGN_OR_RETURN(std::string id, TenantId(o.dir, env_));
    tenant += "." + id;
  }
  ao.container = tenant;
  const std::string consent_db =
      o.database.empty() ? (fs::path(o.dir) / "consent.db").string() : o.database;
  const std::string records_db =
      o.database.empty() ? (fs::path(o.dir) / "records.db").string() : o.database;
  MDL_ASSIGN_OR_RETURN(as_, uma::AuthorizationServer::Open(consent_db, ao, env_));
  MDL_ASSIGN_OR_RETURN(records_, uma::RecordStore::Open(records_db, env_, tenant));
  MDL_ASSIGN_OR_RETURN(fhir_, roles::FhirResourceServer::Create(*as_, *records_));
  banner_ = {{"role", "container"},
             {"owner", owner_},
             {"issuer", ao.issuer},
             {"fhir", ao.issuer + "/fhir"},
             {"trusted_issuers", o.verifier.trusted},
             {"ledger_receipts", ledger_port_ != nullptr}};
  return Status::Ok();
}

Status ContainerRole::OpenWeb(const std::string& origin, const std::string& prefix) {
  ContainerWebOptions wo;
  wo.origin = !options_.web_origin.empty() ? options_.web_origin : WebOriginFor(origin);
  while (!wo.origin.empty() && wo.origin.back() == '/') wo.origin.pop_back();
  wo.base_path = prefix;
  wo.tls = !options_.tls.cert.empty();
  wo.owner_did = owner_;
  wo.display_name = "Medallion container" + (prefix.empty() ? std::string() : " " + prefix);
  if (keys_) {
    wo.seed = &keys_->seed;
    wo.prescriptions.holder_signer = keys_->AuthSigner();
    wo.prescriptions.seed = &keys_->seed;
  }
  wo.prescriptions.holder_did = owner_;
  wo.prescriptions.resolver = &verifier_->resolver();
  wo.prescriptions.license_status = verifier_->LicenseStatus();
  wo.store = options_.store;
  wo.allow_insecure_loopback = options_.verifier.allow_insecure_loopback;
  if (options_.app != "patient" && options_.app != "physician")
    return Status::InvalidArgument("the app is patient or physician");
  wo.physician = options_.app == "physician";
  MDL_ASSIGN_OR_RETURN(web_, ContainerWeb::Open(options_.dir, *as_, ledger_client_, wo, env_));
  MDL_ASSIGN_OR_RETURN(std::string link, web_->SetupLink());
  banner_["app"] = web_->AppUrl();
  banner_["app_kind"] = options_.app;
  banner_["setup_link"] = link;
  return Status::Ok();
}

Status ContainerRole::Start() {
  // A container that fails to start leaves nothing behind: a dir it created is removed again.
  std::error_code ec;
  const bool existed = fs::exists(options_.dir, ec);
  Status st = [&]() -> Status {
    MDL_RETURN_IF_ERROR(Prepare());
    MDL_ASSIGN_OR_RETURN(std::unique_ptr<httplib::Server> http, MakeServer(options_.tls));
    httplib::Server& server = *http;
    // The issuer must be known before the authorization server opens: bind first.
    MDL_RETURN_IF_ERROR(Bind(std::move(http), options_.listen));
    MDL_RETURN_IF_ERROR(Open(url()));
    MDL_RETURN_IF_ERROR(OpenWeb(url(), ""));
    web_->RegisterRoutes(server);
    roles::RegisterUmaRoutes(server, *as_);
    fhir_->RegisterRoutes(server);
    return Status::Ok();
  }();
  if (!st.ok()) {
    if (!existed) fs::remove_all(options_.dir, ec);
    return st;
  }
  Serve();
  return Status::Ok();
}

Status ContainerRole::Mount(httplib::Server& server, const std::string& prefix,
                            const std::string& base_url) {
  MDL_RETURN_IF_ERROR(OpenMounted(prefix, base_url));
  mounted_->MountOn(server, prefix);
  return Status::Ok();
}

Status ContainerRole::OpenMounted(const std::string& prefix, const std::string& base_url) {
  if (!prefix.empty()) MDL_RETURN_IF_ERROR(MountedRoutes::CheckPrefix(prefix));
  std::error_code ec;
  const bool existed = fs::exists(options_.dir, ec);
  Status st = [&]() -> Status {
    MDL_RETURN_IF_ERROR(Prepare());
    std::string base = base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    MDL_RETURN_IF_ERROR(Open(base + prefix));
    MDL_RETURN_IF_ERROR(OpenWeb(base, prefix));
    mounted_ = std::make_unique<MountedRoutes>();
    web_->RegisterRoutes(*mounted_);
    roles::RegisterUmaRoutes(*mounted_, *as_);
    fhir_->RegisterRoutes(*mounted_);
    return Status::Ok();
  }();
  if (!st.ok() && !existed) fs::remove_all(options_.dir, ec);
  return st;
}

void ContainerRole::ServeMounted(const std::string& prefix, const httplib::Request& req,
                                 httplib::Response& res) {
  mounted_->Serve(prefix, req, res);
}

Result<HostOptions> ParseHostConfig(const json& cfg, const std::string& config_path) {
  if (!cfg.is_object() || !cfg.contains("containers") || !cfg["containers"].is_array() ||
      cfg["containers"].empty()) {
    return Status::InvalidArgument(config_path + ": {\"containers\": [...]} is required");
  }
  // Every member read through core/json.h: a wrong type is a refusal naming the member.
  auto named = [&](const Status& st) {
    return Status(st.code(), config_path + ": " + st.message());
  };
  LedgerClientOptions l;
  HostOptions host;
  TlsFiles tls;
  std::vector<std::string> trusted;
  bool insecure = false, receipts = false;
  {
    auto ledger = OptionalObject(cfg, "ledger");
    if (!ledger) return named(ledger.error());
    auto url = OptionalString(*ledger, "url", l.url);
    auto key = OptionalString(*ledger, "log_key", "");
    auto tls_json = OptionalObject(cfg, "tls");
    auto listen = OptionalString(cfg, "listen", "");
    auto trust = OptionalStringArray(cfg, "trust");
    auto loopback = OptionalBool(cfg, "allow_insecure_loopback", false);
    auto anchor = OptionalBool(cfg, "ledger_receipts", false);
    auto open = OptionalString(cfg, "open", "eager");
    auto max_open = OptionalInt(cfg, "max_open", 0);
    auto database = OptionalString(cfg, "database", "");
    auto database_pool = OptionalInt(cfg, "database_pool", 8);
    for (const Status& st : {url.status(), key.status(), tls_json.status(), listen.status(),
                             trust.status(), loopback.status(), anchor.status(), open.status(),
                             max_open.status(), database.status(), database_pool.status()}) {
      if (!st.ok()) return named(st);
    }
    if (!database->empty() && database->rfind("postgresql://", 0) != 0 &&
        database->rfind("postgres://", 0) != 0)
      return named(Status::InvalidArgument("'database' is a postgresql:// URL"));
    host.database = *database;
    if (*database_pool < 1 || *database_pool > 10'000)
      return named(Status::InvalidArgument("'database_pool' is 1 to 10000 connections"));
    host.database_pool = static_cast<size_t>(*database_pool);
    if (*open != "eager" && *open != "lazy")
      return named(Status::InvalidArgument("'open' is \"eager\" or \"lazy\""));
    if (*max_open < 0 || *max_open > 1'000'000)
      return named(Status::InvalidArgument("'max_open' is out of range"));
    host.lazy = *open == "lazy";
    host.max_open = static_cast<size_t>(*max_open);
    auto cert = OptionalString(*tls_json, "cert", "");
    auto tls_key = OptionalString(*tls_json, "key", "");
    if (!cert) return named(cert.error());
    if (!tls_key) return named(tls_key.error());
    l.url = *url;
    l.log_key = *key;
    tls = {*cert, *tls_key};
    host.listen = *listen;
    host.tls = tls;
    trusted = *trust;
    insecure = *loopback;
    receipts = *anchor;
  }
  std::set<std::string> names, hosts;
  for (const json& e : cfg["containers"]) {
    if (!e.is_object() || !e.contains("name") || !e["name"].is_string() ||
        !names.insert(e["name"].get<std::string>()).second) {
      return Status::InvalidArgument("each container has a unique name");
    }
    const std::string name = e["name"];
    auto in = [&](const Status& st) {
      return Status(st.code(), "container " + name + ": " + st.message());
    };
    ContainerOptions o;
    auto dir = OptionalString(e, "dir", "");
    auto store = OptionalString(e, "store", "");
    auto pass = OptionalString(e, "passphrase_file", "");
    auto owner = OptionalString(e, "owner", "");
    auto key_index = OptionalInt(e, "key_index", 0);
    auto listen = OptionalString(e, "listen", "");
    auto public_url = OptionalString(e, "public_url", "");
    auto virtual_host = OptionalString(e, "host", "");
    for (const Status& st : {dir.status(), store.status(), pass.status(), owner.status(),
                             key_index.status(), listen.status(), public_url.status(),
                             virtual_host.status()}) {
      if (!st.ok()) return in(st);
    }
    if (*key_index < 0 || *key_index > 0x7fffffff)
      return in(Status::InvalidArgument("'key_index' is out of range"));
    if (!host.listen.empty()) {
      if (!listen->empty())
        return in(Status::InvalidArgument(
            "'listen' goes with a port per container; this host shares its 'listen'"));
      if (name.empty() || name.size() > 64 ||
          name.find_first_not_of(
              "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") !=
              std::string::npos) {
        return in(Status::InvalidArgument(
            "the name is its path (/c/NAME): letters, digits, '-', '_', at most 64"));
      }
    }
    o.dir = *dir;
    o.database = host.database;
    o.container_id = name;
    o.store = *store;
    o.passphrase_file = *pass;
    o.owner = *owner;
    o.key_index = static_cast<uint32_t>(*key_index);
    o.listen = listen->empty() ? "127.0.0.1:0" : *listen;
    o.public_url = *public_url;
    if (!virtual_host->empty()) {
      static const std::regex kHostName(
          "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*");
      if (host.listen.empty())
        return in(Status::InvalidArgument("'host' goes with the host's shared 'listen'"));
      if (virtual_host->size() > 253 || !std::regex_match(*virtual_host, kHostName))
        return in(Status::InvalidArgument("'host' is a DNS name in lower case"));
      if (!hosts.insert(*virtual_host).second)
        return in(Status::InvalidArgument("'host' is another container's too"));
      o.virtual_host = *virtual_host;
    }
    o.verifier.trusted = trusted;
    o.verifier.allow_insecure_loopback = insecure;
    o.use_ledger = receipts;
    o.tls = tls;
    o.ledger = l;
    if (o.dir.empty()) return Status::InvalidArgument("container " + name + ": dir is required");
    host.containers.emplace_back(name, std::move(o));
  }
  return host;
}

HostRole::HostRole(HostOptions options, Env env) : options_(std::move(options)), env_(env) {}

HostRole::~HostRole() { Stop(); }

// One container of the shared listener. Its state is guarded by slots_mu_.
struct HostRole::Slot {
  std::string name, prefix;
  ContainerOptions options;
  std::shared_ptr<ContainerRole> open;  // held by each request it serves, too
  bool opening = false;
  Status failed;                        // why it would not open (while retry_at is ahead)
  std::chrono::steady_clock::time_point retry_at;
  std::list<Slot*>::iterator lru;
  std::condition_variable opened;       // an opening finished (for requests that came meanwhile)
};

namespace {

// The open-file budget per open container: its three databases in WAL (file, -wal, -shm each)
// and one reader connection, with room to spare.
constexpr size_t kFilesPerContainer = 16;
constexpr auto kRetryAfterFailure = std::chrono::seconds(30);

size_t DefaultMaxOpen() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur == RLIM_INFINITY) return 1024;
  const size_t files = static_cast<size_t>(r.rlim_cur);
  return std::clamp<size_t>(files > 512 ? (files - 512) / kFilesPerContainer : 8, 8, 16384);
}

}  // namespace

Status HostRole::Start() {
  json listing = json::array();
  if (!options_.database.empty() && !pool_) {
    // One pool for every container: their stores, opened by this URL, borrow from it
    // (sql::Db::Open), so the host holds database_pool connections, not two per container.
    auto pool = sql::PgPool::Open(options_.database, options_.database_pool);
    if (!pool) return Status(pool.error().code(), "database: " + pool.error().message());
    pool_ = std::move(*pool);
  }
  if (!options_.listen.empty()) {
    MDL_RETURN_IF_ERROR(StartShared(&listing));
    banner_ = {{"role", "host"}, {"containers", listing}};
    return Status::Ok();
  }
  for (auto& [name, o] : options_.containers) {
    auto c = std::make_unique<ContainerRole>(o, env_);
    if (Status st = c->Start(); !st.ok()) {
      Stop();
      containers_.clear();
      return Status(st.code(), name + ": " + st.message());
    }
    listing.push_back({{"name", name},
                       {"url", c->url()},
                       {"owner", c->banner()["owner"]},
                       {"app", c->banner().value("app", "")},
                       {"setup_link", c->banner().value("setup_link", "")}});
    containers_.push_back(std::move(c));
  }
  banner_ = {{"role", "host"}, {"containers", listing}};
  return Status::Ok();
}

// One listener and one worker pool for every container, each under /c/<name>: one route for
// all of them, the container found by name (not a route per container), opened on first use
// ("lazy") or at the start ("eager"), at most max_open_ open at once. A container that cannot
// open answers 503 for itself; the others are not affected.
Status HostRole::StartShared(json* listing) {
  MDL_ASSIGN_OR_RETURN(std::unique_ptr<httplib::Server> server, MakeServer(options_.tls));
  MDL_RETURN_IF_ERROR(Bind(std::move(server), options_.listen));
  max_open_ = options_.max_open > 0 ? options_.max_open : DefaultMaxOpen();
  for (auto& [name, o] : options_.containers) {
    auto slot = std::make_unique<Slot>();
    slot->name = name;
    slot->prefix = o.virtual_host.empty() ? "/c/" + name : "";
    slot->options = o;
    slot->options.max_idle_readers = 1;  // open files are the host's budget
    if (!o.virtual_host.empty()) virtual_hosts_.emplace(o.virtual_host, slot.get());
    slots_.emplace(name, std::move(slot));
  }
  if (!virtual_hosts_.empty()) {
    // By host name first (the Host header, without its port): such a container has no /c/ path.
    http::SetPreRoutingHandler(listener(), [this](const httplib::Request& req,
                                                  httplib::Response& res) {
      std::string h = req.get_header_value("Host");
      if (const size_t colon = h.rfind(':'); colon != std::string::npos && h.find(']') == h.npos)
        h.resize(colon);
      std::transform(h.begin(), h.end(), h.begin(), [](unsigned char c) {
        return static_cast<char>(std::tolower(c));
      });
      auto it = virtual_hosts_.find(h);
      if (it == virtual_hosts_.end()) return false;
      ServeSlot(*it->second, req, res);
      return true;
    });
  }
  const auto route = [this](const httplib::Request& req, httplib::Response& res) {
    Route(req, res);
  };
  MountedRoutes::RouteEveryMethod(listener(), "/c/[A-Za-z0-9_-]{1,64}(/.*)?", route);
  for (auto& [name, o] : options_.containers) {
    Slot& slot = *slots_.at(name);
    json item = {{"name", name}};
    if (!options_.lazy) {
      auto c = Acquire(slot);
      if (!c) {
        item["error"] = c.error().message();
        std::fprintf(stderr, "host: container %s: %s\n", name.c_str(),
                     c.error().ToString().c_str());
      } else {
        item["url"] = (*c)->issuer();
        item["owner"] = (*c)->banner()["owner"];
        item["app"] = (*c)->banner().value("app", "");
        item["setup_link"] = (*c)->banner().value("setup_link", "");
      }
    }
    if (!item.contains("url")) {
      item["url"] = !o.public_url.empty() ? o.public_url : BaseUrlOf(slot) + slot.prefix;
      if (!o.owner.empty()) item["owner"] = o.owner;
    }
    listing->push_back(std::move(item));
  }
  Serve();
  return Status::Ok();
}

Result<std::shared_ptr<ContainerRole>> HostRole::Acquire(Slot& slot) {
  std::vector<std::shared_ptr<ContainerRole>> closing;  // closed after the lock is let go
  std::unique_lock<std::mutex> lock(slots_mu_);
  slot.opened.wait(lock, [&] { return !slot.opening; });
  if (slot.open) {
    lru_.splice(lru_.begin(), lru_, slot.lru);
    return slot.open;
  }
  if (!slot.failed.ok() && std::chrono::steady_clock::now() < slot.retry_at) return slot.failed;
  slot.opening = true;
  lock.unlock();
  auto c = std::make_shared<ContainerRole>(slot.options, env_);
  Status st = c->OpenMounted(slot.prefix, BaseUrlOf(slot));
  lock.lock();
  slot.opening = false;
  slot.opened.notify_all();
  if (!st.ok()) {
    metrics::Registry::Default().Add("medallion_host_open_failures_total",
                                     "Hosted containers that could not be opened", {});
    slot.failed = st;
    slot.retry_at = std::chrono::steady_clock::now() + kRetryAfterFailure;
    lock.unlock();
    c.reset();
    return st;
  }
  slot.failed = Status::Ok();
  slot.open = c;
  lru_.push_front(&slot);
  slot.lru = lru_.begin();
  // Close the least recently used containers nobody is using (no request, no event stream)
  // while more than max_open_ are open; a busy one stays open until it is idle.
  for (auto it = lru_.end(); lru_.size() > max_open_ && it != lru_.begin();) {
    --it;
    Slot* s = *it;
    if (s == &slot || s->open.use_count() > 1) continue;
    closing.push_back(std::move(s->open));
    it = lru_.erase(it);
  }
  metrics::Registry::Default().Set("medallion_host_open_containers",
                                   "Hosted containers whose databases are open", {},
                                   static_cast<double>(lru_.size()));
  lock.unlock();
  closing.clear();
  return c;
}

std::string HostRole::BaseUrlOf(const Slot& slot) const {
  if (slot.options.virtual_host.empty()) return url();
  const std::string& u = url();  // scheme://address:port
  const size_t scheme_end = u.find("://");
  return u.substr(0, scheme_end + 3) + slot.options.virtual_host + ":" + std::to_string(port());
}

void HostRole::Route(const httplib::Request& req, httplib::Response& res) {
  // "/c/<name>" or "/c/<name>/...": the route's pattern allows nothing else.
  const size_t end = req.path.find('/', 3);
  const std::string name = req.path.substr(3, end == std::string::npos ? end : end - 3);
  auto it = slots_.find(name);  // slots_ is not changed after the start
  if (it == slots_.end() || it->second->prefix.empty()) {  // a virtual host's has no /c/ path
    http::SendError(res, 404, "not_found", "no such container");
    return;
  }
  ServeSlot(*it->second, req, res);
}

void HostRole::ServeSlot(Slot& slot, const httplib::Request& req, httplib::Response& res) {
  const std::string& name = slot.name;
  auto c = Acquire(slot);
  if (!c) {
    std::fprintf(stderr, "host: container %s: %s\n", name.c_str(), c.error().ToString().c_str());
    res.set_header("Retry-After", std::to_string(kRetryAfterFailure.count()));
    http::SendError(res, 503, "temporarily_unavailable",
                    "this container cannot be opened now; its operator has been told");
    return;
  }
  (*c)->ServeMounted(slot.prefix, req, res);
  // An event stream outlives this handler: it keeps its container open (and out of the LRU's
  // reach) for as long as it runs.
  if (res.content_provider_) {
    res.content_provider_ = [provider = std::move(res.content_provider_), keep = *c](
                                size_t offset, size_t length, httplib::DataSink& sink) {
      return provider(offset, length, sink);
    };
  }
}

size_t HostRole::open_containers() {
  std::lock_guard<std::mutex> lock(slots_mu_);
  return lru_.size();
}

void HostRole::Stop() {
  Role::Stop();  // the shared listener, if any
  for (auto& c : containers_) c->Stop();
  std::vector<std::shared_ptr<ContainerRole>> closing;
  {
    std::lock_guard<std::mutex> lock(slots_mu_);
    for (Slot* s : lru_) closing.push_back(std::move(s->open));
    lru_.clear();
  }
}

}  // namespace medallion::roles
