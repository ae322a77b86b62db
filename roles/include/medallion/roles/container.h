// The container role: one owner's personal container (the UMA authorization server, the FHIR
// record store it protects, the owner API) on a listener of its own or mounted under a path
// prefix of a shared server; and the host role, many containers in one process.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <mutex>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "medallion/claims/signer.h"
#include "medallion/core/env.h"
#include "medallion/core/secret.h"
#include "medallion/core/status.h"
#include "medallion/roles/options.h"
#include "medallion/roles/role.h"
#include "medallion/roles/verifier.h"
#include "medallion/wallet/keys.h"

namespace medallion::sql {
class PgPool;  // medallion/storage/db.h
}

namespace medallion::claims {
class LedgerPort;
}
namespace medallion::uma {
class AuthorizationServer;
class RecordStore;
}  // namespace medallion::uma
namespace medallion::roles {
class FhirResourceServer;
}
namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace medallion::roles {

class MountedRoutes;
class ContainerWeb;

// The owner's keys from her wallet. For a did:key owner the authentication key is the DID and
// (did:key lists it under assertionMethod too) signs the receipts; for a did:mdl owner the
// generation `key_index` authentication and assertion keys are used, named by their Multikey
// fragments. The pseudonym secret is derived from the seed and never stored.
struct OwnerKeys {
  std::shared_ptr<wallet::SigningKey> auth, assertion;
  std::string did;  // the owner's DID (the wallet's did:key unless owner_did names a did:mdl)
  std::string auth_kid, assertion_kid;
  SecretBytes seed;
  SecretBytes pseudonym_secret;
  claims::Signer Signer() const { return claims::WalletSigner(assertion, assertion_kid); }
  claims::Signer AuthSigner() const { return claims::WalletSigner(auth, auth_kid); }
};

// Opens and unlocks the owner's wallet (OpenAndUnlock, files.h) and derives her keys.
// Errors: the key store's; invalid_argument if `owner_did` is neither empty, the wallet's
// did:key nor a did:mdl.
Result<OwnerKeys> UnlockOwner(const std::string& store, const std::string& passphrase_file,
                              uint32_t account, const std::string& owner_did = "",
                              uint32_t key_index = 0);

struct ContainerOptions {
  std::string dir;  // consent.db, records.db; created 0700 (removed again if Start fails)
  std::string listen = "127.0.0.1:8090";
  std::string public_url;  // the issuer (default: the bound URL)
  std::string owner;       // the owner's DID (default: the did:key of `store`)
  std::string store, passphrase_file;
  uint32_t account = 0;
  uint32_t key_index = 0;
  VerifierOptions verifier;
  TlsFiles tls;
  bool use_ledger = false;     // anchor consent receipts and disclosure batches
  LedgerClientOptions ledger;  // used when ledger.log_key is set
  // The origin of the owner's web app (docs/web.md), "http://localhost:8090": its host is the
  // WebAuthn RP ID. Default: the served URL with a loopback address written "localhost".
  std::string web_origin;
  // Which person's app the container serves at "/": "patient" (default) or "physician" (her
  // workspace: license, patients, prescribing; docs/web.md).
  std::string app = "patient";
  size_t max_idle_readers = 0;  // the consent server's idle WAL readers (0: its default)
  // The consent server's and the record store's database: a postgresql:// URL shared by a
  // host's containers, this one's rows those of `container_id` (row-level security,
  // docs/scale-out.md §"The container host on PostgreSQL"); empty: consent.db and records.db in
  // `dir`. With `container_id` the owner's key store is that tenant's rows there too, imported
  // once byte for byte from the `store` file (which is not read again); web.sqlite stays a file.
  std::string database;
  std::string container_id;  // with `database`: the tenant (a host uses the container's name)
  // On a host's shared listener: served at the root of this host name (the Host header) rather
  // than under /c/<name>; its issuer is public_url or http(s)://<virtual_host>:<port>.
  std::string virtual_host;
};

class ContainerRole final : public Role {
 public:
  ContainerRole(ContainerOptions options, Env env);
  ~ContainerRole() override;

  // Builds the container and serves it on its own listener (options.listen). Errors: unusable
  // options (invalid_argument), the wallet's, the port's, the databases'.
  Status Start() override;

  // Builds the container and registers its routes on `server` under `prefix` ("/c/alice":
  // a slash, then letters, digits, '-', '_', '/'; no trailing slash), so that many containers
  // share one listener and one worker pool. The issuer is options.public_url if set, else
  // `base_url` + `prefix`. Requests are served by the caller's server; this role has no
  // listener (port() is 0). Errors: as Start, and invalid_argument for a bad prefix.
  // REQUIRES: called once, instead of Start; `server` outlives this role's use of it.
  Status Mount(httplib::Server& server, const std::string& prefix, const std::string& base_url);

  // As Mount, but registers nothing on a server: the caller routes each request under `prefix`
  // to ServeMounted (a host that routes by name, HostRole). REQUIRES: called once, instead of
  // Start and Mount.
  Status OpenMounted(const std::string& prefix, const std::string& base_url);
  // Serves one request of the caller's server under `prefix`. REQUIRES: OpenMounted succeeded.
  void ServeMounted(const std::string& prefix, const httplib::Request& req,
                    httplib::Response& res);

  // The container's issuer URL (after Start or Mount).
  const std::string& issuer() const { return issuer_; }
  // The owner's web app, "<origin><prefix>/" (after Start or Mount).
  std::string AppUrl() const;
  // A new one-time link that registers a passkey in the owner's browser and signs her in
  // (docs/web.md). Errors: failed_precondition before Start/Mount; the store's.
  Result<std::string> SetupLink();

 private:
  Status Prepare();                          // keys, ledger client, verifier: before any binding
  Status Open(const std::string& base_url);  // the databases and services, named by `base_url`
  Status OpenWeb(const std::string& origin, const std::string& prefix);  // the browser side

  ContainerOptions options_;
  Env env_;
  std::optional<OwnerKeys> keys_;
  std::string owner_;
  std::shared_ptr<roles::LedgerClient> ledger_client_;
  std::unique_ptr<claims::LedgerPort> ledger_port_;
  std::unique_ptr<Verifier> verifier_;
  std::string issuer_;
  std::unique_ptr<uma::AuthorizationServer> as_;
  std::unique_ptr<uma::RecordStore> records_;
  std::unique_ptr<roles::FhirResourceServer> fhir_;
  std::unique_ptr<MountedRoutes> mounted_;
  std::unique_ptr<ContainerWeb> web_;
};

// A container host: named containers, each with its own databases, keys and authorization
// server (docs/roles.md §"Container host"). Each has a port of its own, or — with `listen` —
// all share one listener and one worker pool, each under the path /c/<name>.
struct HostOptions {
  std::vector<std::pair<std::string, ContainerOptions>> containers;  // (name, options)
  std::string listen;  // HOST:PORT of the shared listener; empty: a port per container
  TlsFiles tls;        // of the shared listener
  // With a shared listener: "eager" opens every container at the start (the banner carries
  // each one's app and setup link); "lazy" opens a container on its first request, so the host
  // is ready at once whatever the number of containers. Either way at most `max_open` are open
  // (least recently used idle ones are closed; 0: from the process's open-file limit), and a
  // container that cannot open answers 503 for itself only, retried after a pause.
  bool lazy = false;
  size_t max_open = 0;
  // host.json "database": a postgresql:// URL every container's consent and record stores share
  // (each container its own rows, named by its name); empty: SQLite files per container.
  std::string database;
  // host.json "database_pool": the PostgreSQL connections every container of the host shares
  // (sql::PgPool; docs/scale-out.md §"The connection pool"), whatever the number of containers.
  size_t database_pool = 8;
};

// The options of a host configuration (host.json: {listen, open, max_open, database, database_pool, ledger: {url,
// log_key}, trust, allow_insecure_loopback, ledger_receipts, tls: {cert, key}, containers: [{name, dir, store,
// passphrase_file, owner, key_index, listen, public_url}]}); `config_path` names it in errors.
// Members of the wrong type are refused by name, never thrown. Errors: invalid_argument for a
// missing or empty container list, a container without a unique name or without a dir, a name
// that is not a path segment (letters, digits, '-', '_'; at most 64) when `listen` is shared,
// a container `listen` next to a shared one.
Result<HostOptions> ParseHostConfig(const nlohmann::json& config, const std::string& config_path);

class HostRole final : public Role {
 public:
  HostRole(HostOptions options, Env env);
  ~HostRole() override;
  // With a shared listener: containers open now, and the bound on them.
  size_t open_containers();
  size_t max_open() const { return max_open_; }
  // Starts every container; on the first failure (named "<name>: ...") the started ones stop.
  // The banner lists {name, url, owner} per container.
  Status Start() override;
  void Stop() override;

 private:
  struct Slot;  // one container of the shared listener: closed, open or failed (container.cpp)

  Status StartShared(nlohmann::json* listing);
  // The open container of `slot`, opening it (and closing the least recently used idle ones
  // beyond max_open_) if needed. Errors: why it cannot open (for a while, then retried).
  Result<std::shared_ptr<ContainerRole>> Acquire(Slot& slot);
  void Route(const httplib::Request& req, httplib::Response& res);  // /c/<name>/...
  void ServeSlot(Slot& slot, const httplib::Request& req, httplib::Response& res);
  // The base URL a container of `slot` is named by (its virtual host's, or the listener's).
  std::string BaseUrlOf(const Slot& slot) const;

  HostOptions options_;
  Env env_;
  std::vector<std::unique_ptr<ContainerRole>> containers_;  // a port each
  std::map<std::string, std::unique_ptr<Slot>> slots_;      // the shared listener's, by name
  std::map<std::string, Slot*> virtual_hosts_;              // by host name (lower case)
  std::mutex slots_mu_;
  std::list<Slot*> lru_;  // open slots, most recently used first
  size_t max_open_ = 0;
  std::shared_ptr<sql::PgPool> pool_;  // with options_.database: every container's connections
};

}  // namespace medallion::roles
