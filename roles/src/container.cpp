// The container and host roles (docs/uma.md, docs/roles.md §"Container host").
#include "medallion/roles/container.h"

#include <httplib.h>

#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "medallion/claims/ledger_entries.h"
#include "medallion/core/hash.h"
#include "medallion/core/json.h"
#include "medallion/did/did_key.h"
#include "medallion/did/did_web.h"
#include "medallion/roles/did_controller.h"
#include "medallion/roles/files.h"
#include "medallion/roles/ledger_client.h"
#include "medallion/roles/uma_http.h"
#include "medallion/uma/authorization_server.h"
#include "medallion/uma/record_store.h"
#include "mounted_routes.h"
#include "owner_relationships.h"
#include "web_http.h"

namespace medallion::roles {

using nlohmann::json;
namespace fs = std::filesystem;
using wallet::KeyPurpose;

Result<OwnerKeys> UnlockOwner(const std::string& store, const std::string& passphrase_file,
                              uint32_t account, const std::string& owner_did, uint32_t key_index) {
  MDL_ASSIGN_OR_RETURN(wallet::WalletSecret secret, OpenAndUnlock(store, passphrase_file));
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
  if (!o.store.empty()) {
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
  ao.issuer = !o.public_url.empty() ? o.public_url : base_url;
  while (!ao.issuer.empty() && ao.issuer.back() == '/') ao.issuer.pop_back();
  issuer_ = ao.issuer;
  MDL_ASSIGN_OR_RETURN(
      as_, uma::AuthorizationServer::Open((fs::path(o.dir) / "consent.db").string(), ao, env_));
  MDL_ASSIGN_OR_RETURN(records_,
                       uma::RecordStore::Open((fs::path(o.dir) / "records.db").string(), env_));
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
  MDL_RETURN_IF_ERROR(MountedRoutes::CheckPrefix(prefix));
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
    mounted_->MountOn(server, prefix);
    return Status::Ok();
  }();
  if (!st.ok() && !existed) fs::remove_all(options_.dir, ec);
  return st;
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
    for (const Status& st : {url.status(), key.status(), tls_json.status(), listen.status(),
                             trust.status(), loopback.status(), anchor.status()}) {
      if (!st.ok()) return named(st);
    }
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
  std::set<std::string> names;
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
    for (const Status& st : {dir.status(), store.status(), pass.status(), owner.status(),
                             key_index.status(), listen.status(), public_url.status()}) {
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
    o.store = *store;
    o.passphrase_file = *pass;
    o.owner = *owner;
    o.key_index = static_cast<uint32_t>(*key_index);
    o.listen = listen->empty() ? "127.0.0.1:0" : *listen;
    o.public_url = *public_url;
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

Status HostRole::Start() {
  json listing = json::array();
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

// One listener and one worker pool for every container, each mounted under /c/<name>
// (ContainerRole::Mount): a host of many containers no longer costs a port and a thread pool
// each.
Status HostRole::StartShared(json* listing) {
  MDL_ASSIGN_OR_RETURN(std::unique_ptr<httplib::Server> server, MakeServer(options_.tls));
  MDL_RETURN_IF_ERROR(Bind(std::move(server), options_.listen));
  for (auto& [name, o] : options_.containers) {
    auto c = std::make_unique<ContainerRole>(o, env_);
    if (Status st = c->Mount(listener(), "/c/" + name, url()); !st.ok()) {
      containers_.clear();
      return Status(st.code(), name + ": " + st.message());
    }
    listing->push_back({{"name", name},
                        {"url", c->issuer()},
                        {"owner", c->banner()["owner"]},
                        {"app", c->banner().value("app", "")},
                        {"setup_link", c->banner().value("setup_link", "")}});
    containers_.push_back(std::move(c));
  }
  Serve();
  return Status::Ok();
}

void HostRole::Stop() {
  Role::Stop();  // the shared listener, if any
  for (auto& c : containers_) c->Stop();
}

}  // namespace medallion::roles
