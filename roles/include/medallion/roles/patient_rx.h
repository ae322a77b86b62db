// The patient's side of a prescription at a pharmacy, shared by the command line (`medallion
// pharmacy present|dispense`) and her container's web app (docs/web.md §Prescriptions): the
// pharmacy's challenge, the phone approval a controlled substance needs, how many fills the
// ledger shows used, and the check of a pharmacy's dispense receipt against the ledger.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "medallion/claims/presentation.h"
#include "medallion/core/bytes.h"
#include "medallion/core/env.h"
#include "medallion/core/status.h"
#include "medallion/did/resolver.h"

namespace medallion::roles {
class LedgerClient;
}

namespace medallion::roles {

// The pharmacy's challenge (POST <pharmacy_url>/pharmacy/v1/challenge). unavailable when the
// pharmacy cannot be reached or answers something else than {"nonce", "domain", "expires"}.
Result<claims::Challenge> FetchPharmacyChallenge(const std::string& pharmacy_url);
// A pharmacy counter's presentation request (GET <request_url>: {"nonce", "domain",
// "expires", ...}): its challenge. unavailable when it cannot be had; failed_precondition when
// the request was already answered or expired.
Result<claims::Challenge> FetchCounterChallenge(const std::string& request_url);

// The phone's verification method of `did`: the first method listed under both
// authentication and assertionMethod (docs/mobile-bridge.md). not_found without a paired phone;
// unavailable if the DID cannot be resolved.
Result<std::string> DeviceMethod(const did::Resolver& resolver, const std::string& did);

// The owner-approval request (uma::kRequestFill) that asks her phone to authorize one fill of
// the prescription with digest `digest_hex` at the pharmacy `domain`: {"kind", "summary",
// "payload": {"sign": did-auth+jwt by `device_method`, aud = domain, "prescription"}}.
nlohmann::json FillRequest(const std::string& device_method, const std::string& domain,
                           const std::string& digest_hex, const std::string& medication);

// The pharmacy copy of a prescription (an SD-JWT VC bound to one of the patient's pairwise
// keys, claims::IssuePrescriptionSdJwt) presented for a pharmacy's challenge: only what
// dispensing needs is revealed (claims::PharmacyReveal), and a KB-JWT (aud = the challenge's
// domain, nonce = its nonce) is signed by her pairwise key of `index`. `revealed` and `hidden`
// (JSON Pointers into the holder's view) are filled when given. Errors: invalid_argument for a
// malformed copy; failed_precondition when the key of `index` is not the copy's cnf.
Result<std::string> PresentPharmacyCopy(const std::string& sd_jwt, ByteView seed, uint32_t index,
                                        const claims::Challenge& challenge, const Env& env,
                                        std::vector<std::string>* revealed = nullptr,
                                        std::vector<std::string>* hidden = nullptr);

// The index of the patient's pairwise key (m/5063756'/0'/7'/index'/0') that the copy is bound
// to (its cnf.jwk), searched among the first `limit`. not_found if none of them is.
Result<uint32_t> PairwiseIndexOfCopy(const std::string& sd_jwt, ByteView seed,
                                     uint32_t limit = 1000);

// The medication's name in a PrescriptionCredential ("" when it has none).
std::string MedicationOf(const nlohmann::json& prescription_vc);

// One fill of a prescription as the ledger shows it.
struct FillState {
  uint32_t n = 0;             // 0-based
  bool used = false;          // a dispense record carries this fill's nullifier
  uint64_t ledger_index = 0;  // that record's index (when used)
};

// Each allowed fill of `prescription_vc` and whether the ledger holds a dispense record with
// its nullifier (claims::DispenseNullifier), every record proven included against the client's
// verified checkpoint. invalid_argument for a malformed prescription; the ledger's errors.
Result<std::vector<FillState>> FillsOnLedger(const nlohmann::json& prescription_vc,
                                             roles::LedgerClient& ledger);

// A dispense receipt checked against the ledger for its holder: the entry at the receipt's
// ledgerIndex is proven included (RFC 9162 §2.1.3.2) against a verified checkpoint, is a
// dispense record, and carries the nullifier of the receipt's fill of `prescription_vc` (the
// prescription whose digest the receipt names). {"index", "included", "tree_size"?,
// "names_her_fill", "valid", "detail"?}.
nlohmann::json CheckDispenseReceipt(const nlohmann::json& receipt_vc,
                                    const nlohmann::json* prescription_vc,
                                    roles::LedgerClient& ledger);

}  // namespace medallion::roles
