// did:mdl — Medallion's ledger-anchored DID method (specification: docs/did-mdl.md).
//
// The identifier is derived from the hash of the signed create operation; every operation is
// a `did.op` ledger entry signed by the update key committed in the previous operation
// (pre-rotation), or by the recovery key committed at creation or last recovery. Resolution
// replays the operations found on the ledger, in ledger order, with inclusion proofs against a
// witnessed checkpoint (the fetcher's job), ignoring invalid, conflicting or replayed
// operations deterministically and reporting them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "medallion/core/bytes.h"
#include "medallion/core/hash.h"
#include "medallion/core/status.h"
#include "medallion/did/document.h"
#include "medallion/did/resolver.h"

namespace medallion::ledger {
class ValidatorRegistry;
}

namespace medallion::did::mdl {

// The keys and service a did:mdl document publishes (docs/did-mdl.md §"DID document").
struct KeySet {
  Bytes authentication;  // Ed25519, 32 bytes (required)
  Bytes assertion;       // Ed25519, 32 bytes (required)
  Bytes key_agreement;   // X25519, 32 bytes (optional)
  Bytes es256k;          // secp256k1 compressed, 33 bytes (optional)
  Bytes device;          // Ed25519 phone key, 32 bytes (optional)
  std::string service;   // the owner's container base URL (optional)
  bool operator==(const KeySet&) const = default;
};

// SHA-256 of a multicodec-wrapped Ed25519 public key: what an operation commits to for the
// next update key or the recovery key (pre-rotation).
Hash256 KeyCommitment(ByteView ed25519_public_key);

// Signs the given bytes with an Ed25519 key whose public key is `public_key`.
struct OpSigner {
  Bytes public_key;
  std::function<Result<Bytes>(ByteView message)> sign;
};

// The state after replaying operations.
struct State {
  std::string did;
  uint64_t seq = 0;
  Hash256 last_op_hash{};     // SHA-256 of the last applied operation's canonical bytes
  Hash256 next_commitment{};  // commitment to the next update key
  Hash256 recovery_commitment{};
  KeySet keys;
  bool deactivated = false;
  int64_t created = 0;  // ts of create
  int64_t updated = 0;  // ts of the last applied operation
  uint64_t create_index = 0;
  uint64_t last_index = 0;  // ledger index of the last applied operation
};

// Operation builders (controller side). Each returns the canonical JSON of a `did.op`
// ledger entry. `ts` is POSIX seconds.
struct BuiltOp {
  std::string did;
  std::string canonical;
};
// create: signed by `update` (U0), commits to `next_update_commitment` (H(U1)) and
// `recovery_commitment`. The DID is "did:mdl:" + base58btc(SHA-256(canonical op without "did")).
Result<BuiltOp> BuildCreate(const KeySet& keys, const OpSigner& update,
                            const Hash256& next_update_commitment,
                            const Hash256& recovery_commitment, int64_t ts);
// update (also key rotation and add-key / add-service): signed by the update key committed in
// `current`, commits to the next one.
Result<BuiltOp> BuildUpdate(const State& current, const KeySet& keys, const OpSigner& update,
                            const Hash256& next_update_commitment, int64_t ts);
// recover: signed by the recovery key committed in `current`; replaces keys, the update
// commitment and the recovery commitment.
Result<BuiltOp> BuildRecover(const State& current, const KeySet& keys, const OpSigner& recovery,
                             const Hash256& next_update_commitment,
                             const Hash256& new_recovery_commitment, int64_t ts);
// deactivate: signed by the committed update key or the recovery key. Final.
Result<BuiltOp> BuildDeactivate(const State& current, const OpSigner& key, int64_t ts);

// Checks what can be checked of one operation alone: schema, key encodings, the signature by
// its `key`, and for create that the DID is derived from the operation. For the ledger's
// did.op validator and for replay. Errors: invalid_argument / unauthenticated.
Status CheckOperation(const nlohmann::json& op);

// One operation as found on the ledger.
struct OpRecord {
  uint64_t index = 0;  // ledger index
  std::string canonical;
};

struct Ignored {
  uint64_t index = 0;
  std::string reason;  // replayed, malformed, bad_signature, invalid_create, duplicate_create,
                       // sequence_conflict, wrong_update_key, wrong_recovery_key,
                       // key_revealed_twice, time_regression, after_deactivation, no_create
};

struct ReplayOptions {
  std::optional<uint64_t> version_id;       // stop after the operation with this seq
  std::optional<int64_t> version_time;      // only operations with ts <= this
  std::optional<uint64_t> ledger_position;  // only operations at ledger index < this
};

struct Replay {
  std::optional<State> state;  // nullopt: no valid create (within the options)
  std::vector<Ignored> ignored;
  std::vector<uint64_t> applied;            // ledger indices of the applied operations
  std::optional<uint64_t> next_version_id;  // the seq after the selected version, if any
};

// Replays `ops` (ledger order) for `did` (docs/did-mdl.md §"Read").
Replay ReplayOperations(std::string_view did, const std::vector<OpRecord>& ops,
                        const ReplayOptions& options = {});

// The DID document of a state (docs/did-mdl.md §"DID document").
DidDocument ToDocument(const State& state);

// Registers the stateless did.op validator (CheckOperation) with a ledger.
void RegisterLedgerValidator(ledger::ValidatorRegistry& registry);

// Where resolution gets the operations of a DID: every did.op entry that carries it, in
// ledger order, each already proven (inclusion against a checkpoint the fetcher trusts under
// its witness policy). Returns the checkpoint size the proofs are against via *tree_size.
using OpFetcher =
    std::function<Result<std::vector<OpRecord>>(std::string_view did, uint64_t* tree_size)>;

// Resolutions as of a ledger position that the fetched checkpoint covers are final (§3) and kept
// in a bounded LRU of `cache_capacity` results (0: none); others always ask the fetcher.
inline constexpr size_t kMdlFinalCacheCapacity = 4096;
std::shared_ptr<MethodResolver> MakeMdlResolver(OpFetcher fetcher,
                                                size_t cache_capacity = kMdlFinalCacheCapacity);

}  // namespace medallion::did::mdl
