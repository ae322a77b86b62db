// The ledger node, witness and resolver roles.
#include "medallion/roles/ledger_node.h"

#include <fcntl.h>
#include <httplib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

#include "medallion/claims/ledger_entries.h"
#include "medallion/core/encoding.h"
#include "medallion/did/did_mdl.h"
#include "medallion/did/resolver.h"
#include "medallion/ledger/checkpoint.h"
#include "medallion/ledger/log.h"
#include "medallion/ledger/store.h"
#include "medallion/ledger/witness.h"
#include "medallion/roles/did_http.h"
#include "medallion/roles/files.h"
#include "medallion/roles/ledger_client.h"
#include "medallion/roles/ledger_http.h"
#include "medallion/uma/relationship.h"

namespace medallion::roles {
namespace {

// Creates `path` with mode 0600 holding `content`; never overwrites.
Status WriteNewSecretFile(const std::string& path, std::string_view content) {
  int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Unavailable("cannot create " + path + ": " + std::strerror(errno));
  bool ok = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) &&
            ::fsync(fd) == 0;
  ok = (::close(fd) == 0) && ok;
  if (!ok) {
    ::unlink(path.c_str());
    return Status::Unavailable("cannot write " + path);
  }
  return Status::Ok();
}

}  // namespace

Result<SecretBytes> LoadOrCreateSeed(const std::string& path, bool* created) {
  *created = false;
  if (::access(path.c_str(), F_OK) != 0) {
    SystemRng rng;
    SecretBytes seed = rng.RandomSecret(32);
    MDL_RETURN_IF_ERROR(WriteNewSecretFile(path, HexEncode(seed.Reveal()) + "\n"));
    *created = true;
    return seed;
  }
  MDL_ASSIGN_OR_RETURN(SecretString text, ReadSecretFile(path));
  auto seed = HexDecode(text.Reveal());
  if (!seed || seed->size() != 32)
    return Status::InvalidArgument(path + " must hold a 32-byte hex seed");
  SecretBytes out = SecretBytes::CopyFrom(*seed);
  SecureWipe(seed->data(), seed->size());
  return out;
}

LedgerNodeRole::LedgerNodeRole(LedgerNodeOptions options, Env env)
    : options_(std::move(options)), env_(env) {}

LedgerNodeRole::~LedgerNodeRole() { Stop(); }

Status LedgerNodeRole::Start() {
  const LedgerNodeOptions& o = options_;
  if (!ledger::IsValidNoteKeyName(o.origin))
    return Status::InvalidArgument("--origin is not a valid note key name");
  // Anchoring options and key first: a bad one leaves no file created or changed.
  std::optional<AnchoringKey> anchor_key;
  if (o.anchor.requested()) {
    MDL_RETURN_IF_ERROR(CheckAnchoringOptions(o.anchor));
    MDL_ASSIGN_OR_RETURN(anchor_key, LoadAnchoringKey(o.anchor.key, /*create_key_file=*/true));
  }
  bool created = false;
  MDL_ASSIGN_OR_RETURN(SecretBytes seed, LoadOrCreateSeed(o.key_file, &created));
  std::vector<roles::WitnessEndpoint> witnesses;
  for (const auto& w : o.witnesses) {
    const size_t eq = w.find('=');
    if (eq == std::string::npos)
      return Status::InvalidArgument("--witness must be URL=VERIFIER_KEY");
    MDL_ASSIGN_OR_RETURN(ledger::CosignatureV1Verifier key,
                         ledger::CosignatureV1Verifier::FromVerifierKey(w.substr(eq + 1)));
    witnesses.push_back({w.substr(0, eq), std::move(key)});
  }
  // SQLite for a file path, PostgreSQL for a postgresql:// URL (docs/scale-out.md §Ledger).
  MDL_ASSIGN_OR_RETURN(auto store, ledger::OpenLeafStore(o.db));
  // Semantic checks other modules own (docs/ledger.md §validators).
  validators_ = std::make_unique<ledger::ValidatorRegistry>();
  did::mdl::RegisterLedgerValidator(*validators_);
  // Authors of signed entries (anchor.by, status.issuer, dispense.pharmacy) resolve as did:key
  // or as a did:mdl read from this very log (committed entries only); the node fetches
  // nothing from the network, so a did:web author is refused (docs/ledger.md).
  resolver_ = std::make_unique<did::Resolver>();
  resolver_->Register(did::mdl::MakeMdlResolver(
      [this](std::string_view d, uint64_t* size) -> Result<std::vector<did::mdl::OpRecord>> {
        ledger::Log* committed = log_.get();
        if (committed == nullptr) return Status::Unavailable("the log is not open yet");
        *size = committed->Size();
        MDL_ASSIGN_OR_RETURN(auto indexes,
                             committed->FindByKey({ledger::KeyKind::kDid, std::string(d)}));
        std::vector<did::mdl::OpRecord> ops;
        for (uint64_t i : indexes) {
          if (i >= *size) continue;
          MDL_ASSIGN_OR_RETURN(auto entries, committed->Entries(i, i + 1));
          ops.push_back({i, entries[0].entry});
        }
        return ops;
      }));
  // Every entry type that names an author: anchor (by/key), consent, status, dispense.
  claims::RegisterAuthorValidators(*validators_, *resolver_);
  uma::RegisterRelationshipValidator(*validators_);
  ledger::LogOptions options;
  options.validators = validators_.get();
  MDL_ASSIGN_OR_RETURN(
      log_, ledger::Log::Open(std::move(store),
                              ledger::Ed25519NoteSigner::FromSeed(o.origin, seed.Reveal()), env_,
                              options));
  if (!witnesses.empty())
    collector_ = std::make_unique<roles::CosignatureCollector>(log_.get(), witnesses);
  if (anchor_key) {
    MDL_ASSIGN_OR_RETURN(
        anchorer_, CheckpointAnchorer::Start(log_.get(), o.anchor, std::move(*anchor_key), env_));
  }
  MDL_ASSIGN_OR_RETURN(std::unique_ptr<httplib::Server> made, MakeServer(o.tls));
  roles::RegisterLedgerRoutes(*made, log_.get(), nullptr, collector_.get());
  banner_ = {{"role", "ledger"},
             {"origin", log_->origin()},
             {"verifier_key", log_->VerifierKey()},
             {"size", log_->Size()},
             // "standby": another node on this database sequences; this one serves reads and
             // takes over when it dies (docs/ledger.md §Sequencer lease).
             {"sequencer", log_->IsSequencer() ? "active" : "standby"}};
  if (created) banner_["key_file_created"] = o.key_file;
  if (anchorer_) {
    banner_["anchor_address"] = chain::AddressToString(anchorer_->address());
    if (anchor_key->created) banner_["anchor_key_created"] = o.anchor.key.key_file;
    if (!o.anchor.key.store.empty())
      banner_["anchor_path"] = chain::EthereumAccountPath(o.anchor.key.account);
  }
  MDL_RETURN_IF_ERROR(Bind(std::move(made), o.listen));
  Serve();
  return Status::Ok();
}

WitnessRole::WitnessRole(WitnessOptions options, Env env)
    : options_(std::move(options)), env_(env) {}

WitnessRole::~WitnessRole() { Stop(); }

Status WitnessRole::Start() {
  const WitnessOptions& o = options_;
  if (!ledger::IsValidNoteKeyName(o.name))
    return Status::InvalidArgument("--name is not a valid note key name");
  bool created = false;
  MDL_ASSIGN_OR_RETURN(SecretBytes seed, LoadOrCreateSeed(o.key_file, &created));
  std::vector<ledger::Witness::KnownLog> logs;
  for (const auto& k : o.logs) {
    MDL_ASSIGN_OR_RETURN(ledger::Ed25519NoteVerifier v,
                         ledger::Ed25519NoteVerifier::FromVerifierKey(k));
    std::string name = v.name();
    logs.push_back({std::move(name), std::move(v)});
  }
  MDL_ASSIGN_OR_RETURN(store_, ledger::OpenLeafStore(o.db));
  auto signer = ledger::CosignatureV1Signer::FromSeed(o.name, seed.Reveal());
  const std::string vkey = signer.Verifier().VerifierKey();
  witness_ =
      std::make_unique<ledger::Witness>(store_.get(), std::move(signer), env_, std::move(logs));
  MDL_ASSIGN_OR_RETURN(std::unique_ptr<httplib::Server> made, MakeServer(o.tls));
  roles::RegisterLedgerRoutes(*made, nullptr, witness_.get(), nullptr);
  banner_ = {{"role", "witness"}, {"name", o.name}, {"verifier_key", vkey}};
  MDL_RETURN_IF_ERROR(Bind(std::move(made), o.listen));
  Serve();
  return Status::Ok();
}

ResolverRole::ResolverRole(ResolverOptions options, Env env)
    : options_(std::move(options)), env_(env) {}

ResolverRole::~ResolverRole() { Stop(); }

Status ResolverRole::Start() {
  MDL_ASSIGN_OR_RETURN(roles::LedgerClient client, options_.ledger.MakeClient());
  resolver_ = std::make_unique<did::Resolver>();
  resolver_->Register(did::mdl::MakeMdlResolver(
      roles::MakeLedgerOpFetcher(std::make_shared<roles::LedgerClient>(std::move(client)))));
  MDL_ASSIGN_OR_RETURN(std::unique_ptr<httplib::Server> made, MakeServer(TlsFiles{}));
  roles::RegisterResolverRoutes(*made, *resolver_);
  banner_ = {{"role", "resolver"}};
  MDL_RETURN_IF_ERROR(Bind(std::move(made), options_.listen));
  Serve();
  return Status::Ok();
}

}  // namespace medallion::roles
