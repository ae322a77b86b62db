// A wallet that controls a did:mdl: its key sets, the committed update key, the DID's state
// replayed from the verified ledger, and updates submitted and proven included. Used by the
// container (a paired phone's key published as the DID's device key) and by `medallion did`.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "medallion/core/bytes.h"
#include "medallion/core/secret.h"
#include "medallion/core/status.h"
#include "medallion/did/did_mdl.h"
#include "medallion/roles/ledger_client.h"
#include "medallion/wallet/hd_key.h"
#include "medallion/wallet/keys.h"

namespace medallion::roles {

// Update keys after recovery k start at kUpdateChainStride*(k+1); the first kScanWindow keys of
// each of kScanChains chains are searched.
inline constexpr uint32_t kUpdateChainStride =
    1000;  // update keys after recovery k start at 1000*(k+1)
inline constexpr uint32_t kScanWindow = 32;
inline constexpr uint32_t kScanChains = 9;

// A wallet unlocked for DID operations.
struct DidController {
  SecretBytes seed;
  uint32_t account = 0;

  Result<wallet::SigningKey> Key(wallet::KeyPurpose purpose, uint32_t index) const {
    return wallet::DeriveSigningKey(seed.Reveal(), wallet::SignatureAlg::kEdDSA,
                                    wallet::PurposeKeyPath(account, purpose, index));
  }
  Result<Bytes> PublicKey(wallet::KeyPurpose purpose, uint32_t index) const {
    MDL_ASSIGN_OR_RETURN(auto k,
                         wallet::DeriveFromSeed(wallet::CurveForPurpose(purpose), seed.Reveal(),
                                                wallet::PurposeKeyPath(account, purpose, index)));
    return k.public_key();
  }
  did::mdl::OpSigner Signer(std::shared_ptr<wallet::SigningKey> key) const {
    return {key->public_key, [key](ByteView m) { return wallet::Sign(*key, m); }};
  }
  // The key set of generation `index`: authentication, assertion, key agreement, ES256K.
  Result<did::mdl::KeySet> Keys(uint32_t index, const did::mdl::KeySet* keep) const {
    did::mdl::KeySet ks;
    MDL_ASSIGN_OR_RETURN(ks.authentication, PublicKey(wallet::KeyPurpose::kAuthentication, index));
    MDL_ASSIGN_OR_RETURN(ks.assertion, PublicKey(wallet::KeyPurpose::kAssertion, index));
    MDL_ASSIGN_OR_RETURN(ks.key_agreement, PublicKey(wallet::KeyPurpose::kKeyAgreement, index));
    MDL_ASSIGN_OR_RETURN(ks.es256k, PublicKey(wallet::KeyPurpose::kEs256k, index));
    if (keep != nullptr) {
      ks.device = keep->device;
      ks.service = keep->service;
    }
    return ks;
  }
  // Finds the index of the key of `purpose` whose commitment (or, with `raw`, public key)
  // matches, scanning the first keys of each update chain. Errors: not_found.
  Result<uint32_t> Find(wallet::KeyPurpose purpose,
                        const std::function<bool(const Bytes&)>& match) const {
    for (uint32_t chain = 0; chain < kScanChains; ++chain) {
      for (uint32_t i = chain * kUpdateChainStride; i < chain * kUpdateChainStride + kScanWindow;
           ++i) {
        MDL_ASSIGN_OR_RETURN(Bytes pk, PublicKey(purpose, i));
        if (match(pk)) return i;
      }
    }
    return Status::NotFound("this wallet holds no " + std::string(wallet::KeyPurposeName(purpose)) +
                            " key for that DID (wrong wallet or account?)");
  }
  // The update key `state` committed to (pre-rotation), as a signer.
  Result<did::mdl::OpSigner> CommittedUpdateSigner(const did::mdl::State& state,
                                                   uint32_t* index) const;
  // An update of `state` to `keys`, signed by the committed update key, committing to the next.
  Result<did::mdl::BuiltOp> Update(const did::mdl::State& state,
                                   const did::mdl::KeySet& keys) const;
};

// The DID's current state, replayed from proven ledger operations (the ignored ones in
// *ignored when not null). Errors: the ledger's; not_found without a valid create operation.
Result<did::mdl::State> CurrentState(roles::LedgerClient& client, const std::string& did,
                                     std::vector<did::mdl::Ignored>* ignored);

// Appends an operation and waits until a verified checkpoint includes it; returns {index,
// leaf_hash, checkpoint_size}. Errors: the ledger's; unavailable if no accepted checkpoint
// includes it yet.
Result<nlohmann::json> SubmitDidOperation(roles::LedgerClient& client,
                                          const std::string& canonical);

// Publishes (add) or withdraws a paired phone's key as the device key of `did`, a did:mdl the
// wallet with `seed` controls: an update signed by the committed update key, submitted and
// proven included. Withdrawing a key that is no longer the device key changes nothing.
// Errors: the ledger's; not_found if the wallet does not hold the committed key.
Status SetDidDeviceKey(const SecretBytes& seed, uint32_t account, roles::LedgerClient& client,
                       const std::string& did, ByteView device_key, bool add);

}  // namespace medallion::roles
