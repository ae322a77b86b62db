// The ledger roles (docs/ledger.md): a ledger node (the append-only log with the validators
// other modules own, and witnesses asked for cosignatures) and a witness (c2sp.org/tlog-witness).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "medallion/core/env.h"
#include "medallion/core/status.h"
#include "medallion/roles/ledger_anchoring.h"
#include "medallion/roles/options.h"
#include "medallion/roles/role.h"

namespace medallion::ledger {
class Log;
class Witness;
class LeafStore;
class ValidatorRegistry;
}  // namespace medallion::ledger
namespace medallion::did {
class Resolver;
}
namespace medallion::roles {
class CosignatureCollector;
}

namespace medallion::roles {

// A 32-byte Ed25519 seed kept as hex in `path`, created (0600, never overwritten) on first use;
// *created tells which. Errors: unavailable if it cannot be written; invalid_argument if the
// file does not hold a 32-byte hex seed.
Result<SecretBytes> LoadOrCreateSeed(const std::string& path, bool* created);

struct LedgerNodeOptions {
  std::string db = "ledger.db";  // SQLite file (created if missing) or a postgresql:// URL
  std::string key_file = "ledger.key";  // the log's seed, hex (LoadOrCreateSeed)
  std::string origin = "medallion.example/ledger";
  std::string listen = "127.0.0.1:8080";
  std::vector<std::string> witnesses;  // URL=VERIFIER_KEY
  TlsFiles tls;
  // Checkpoint anchoring on an EVM chain (off while anchor.rpc is empty).
  AnchoringOptions anchor;
};

class LedgerNodeRole final : public Role {
 public:
  LedgerNodeRole(LedgerNodeOptions options, Env env);
  ~LedgerNodeRole() override;
  // Opens the log (validators for did:mdl operations, entry authors and relationships) and
  // serves it. The banner: origin, verifier_key, size, key_file_created (when it was).
  // Errors: invalid_argument for a bad origin or witness; the seed's, the store's, the port's.
  Status Start() override;

 private:
  LedgerNodeOptions options_;
  Env env_;
  std::unique_ptr<ledger::ValidatorRegistry> validators_;
  std::unique_ptr<did::Resolver> resolver_;
  std::unique_ptr<ledger::Log> log_;
  std::unique_ptr<roles::CosignatureCollector> collector_;
  // After log_: stopped and joined before the log closes.
  std::unique_ptr<CheckpointAnchorer> anchorer_;
};

struct WitnessOptions {
  std::string db = "witness.db";
  std::string key_file = "witness.key";
  std::string name = "witness.medallion.example";
  std::string listen = "127.0.0.1:8081";
  std::vector<std::string> logs;  // verifier keys of the logs to witness
  TlsFiles tls;
};

class WitnessRole final : public Role {
 public:
  WitnessRole(WitnessOptions options, Env env);
  ~WitnessRole() override;
  // Errors: invalid_argument for a bad name or log key; the seed's, the store's, the port's.
  Status Start() override;

 private:
  WitnessOptions options_;
  Env env_;
  std::unique_ptr<ledger::LeafStore> store_;
  std::unique_ptr<ledger::Witness> witness_;
};

// The resolver role (`medallion did resolver`): GET /1.0/identifiers/{did} for did:key and
// did:mdl read through a verifying ledger client.
struct ResolverOptions {
  LedgerClientOptions ledger;
  std::string listen = "127.0.0.1:8090";
};

class ResolverRole final : public Role {
 public:
  ResolverRole(ResolverOptions options, Env env);
  ~ResolverRole() override;
  // Errors: the ledger client's, the port's.
  Status Start() override;

 private:
  ResolverOptions options_;
  Env env_;
  std::unique_ptr<did::Resolver> resolver_;
};

}  // namespace medallion::roles
