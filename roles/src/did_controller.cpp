// A wallet controlling a did:mdl, and its operations on the verified ledger.
#include "medallion/roles/did_controller.h"

#include <nlohmann/json.hpp>

#include "medallion/core/encoding.h"
#include "medallion/core/env.h"
#include "medallion/roles/did_http.h"

namespace medallion::roles {
namespace {

std::shared_ptr<wallet::SigningKey> Shared(wallet::SigningKey k) {
  return std::make_shared<wallet::SigningKey>(std::move(k));
}

}  // namespace

Result<did::mdl::OpSigner> DidController::CommittedUpdateSigner(const did::mdl::State& state,
                                                                uint32_t* index) const {
  MDL_ASSIGN_OR_RETURN(*index, Find(wallet::KeyPurpose::kDidUpdate, [&](const Bytes& pk) {
    return did::mdl::KeyCommitment(pk) == state.next_commitment;
  }));
  MDL_ASSIGN_OR_RETURN(auto key, Key(wallet::KeyPurpose::kDidUpdate, *index));
  return Signer(Shared(std::move(key)));
}

Result<did::mdl::BuiltOp> DidController::Update(const did::mdl::State& state,
                                                const did::mdl::KeySet& keys) const {
  uint32_t u = 0;
  MDL_ASSIGN_OR_RETURN(did::mdl::OpSigner signer, CommittedUpdateSigner(state, &u));
  MDL_ASSIGN_OR_RETURN(Bytes next, PublicKey(wallet::KeyPurpose::kDidUpdate, u + 1));
  return did::mdl::BuildUpdate(state, keys, signer, did::mdl::KeyCommitment(next),
                               DefaultEnv().clock->NowSeconds());
}

// The DID's current state, replayed from proven ledger operations.
Result<did::mdl::State> CurrentState(roles::LedgerClient& client, const std::string& did,
                                     std::vector<did::mdl::Ignored>* ignored) {
  auto shared = std::shared_ptr<roles::LedgerClient>(&client, [](roles::LedgerClient*) {});
  uint64_t size = 0;
  MDL_ASSIGN_OR_RETURN(auto ops, roles::MakeLedgerOpFetcher(shared)(did, &size));
  did::mdl::Replay replay = did::mdl::ReplayOperations(did, ops);
  if (ignored) *ignored = replay.ignored;
  if (!replay.state) return Status::NotFound(did + " has no valid create operation on the ledger");
  return *replay.state;
}

// Appends an operation and waits until a verified checkpoint includes it.
Result<nlohmann::json> SubmitDidOperation(roles::LedgerClient& client,
                                          const std::string& canonical) {
  MDL_ASSIGN_OR_RETURN(ledger::AppendResult r, client.Append(nlohmann::json::parse(canonical)));
  MDL_ASSIGN_OR_RETURN(ledger::Checkpoint cp, client.Refresh());
  if (r.index >= cp.size)
    return Status::Unavailable(
        "the operation is not yet in a checkpoint the witness policy accepts");
  MDL_RETURN_IF_ERROR(client.VerifyIncluded(r.index, r.leaf_hash));
  return nlohmann::json{
      {"index", r.index}, {"leaf_hash", HexEncode(r.leaf_hash)}, {"checkpoint_size", cp.size}};
}

Status SetDidDeviceKey(const SecretBytes& seed, uint32_t account, roles::LedgerClient& client,
                       const std::string& did, ByteView device_key, bool add) {
  DidController c{SecretBytes::CopyFrom(seed.Reveal()), account};
  MDL_ASSIGN_OR_RETURN(did::mdl::State state, CurrentState(client, did, nullptr));
  did::mdl::KeySet keys = state.keys;
  if (add) {
    keys.device = Bytes(device_key.begin(), device_key.end());
  } else {
    // Only the key being revoked is withdrawn; a newer phone's key stays.
    if (keys.device != Bytes(device_key.begin(), device_key.end())) return Status::Ok();
    keys.device.clear();
  }
  if (keys == state.keys) return Status::Ok();
  MDL_ASSIGN_OR_RETURN(did::mdl::BuiltOp op, c.Update(state, keys));
  MDL_ASSIGN_OR_RETURN(nlohmann::json submitted, SubmitDidOperation(client, op.canonical));
  (void)submitted;
  return Status::Ok();
}

}  // namespace medallion::roles
