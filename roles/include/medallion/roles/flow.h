// The steps of the prescription flow as the people's apps perform them, over HTTP against the
// role servers (docs/roles.md "The prescription flow by hand"): onboarding at the society and
// its status changes, the owner's sign-in, the physician's UMA client, signing, co-signing
// (through the owner's phone approval queue), postmarking and delivering a prescription, and
// presenting it at a pharmacy. `medallion demo` and the `issuer|physician|pharmacy` commands
// (cli_flow.cpp) are both built on these functions, so the demo does nothing a script cannot;
// the physician's workspace (her container's web app) runs them too.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "medallion/claims/presentation.h"
#include "medallion/claims/signer.h"
#include "medallion/core/secret.h"
#include "medallion/core/status.h"
#include "medallion/did/resolver.h"
#include "medallion/roles/ledger_client.h"
#include "medallion/roles/patient_rx.h"
#include "medallion/wallet/keys.h"

namespace medallion::roles::flow {

using nlohmann::json;

int64_t Now();

// A person's wallet keys: the authentication and assertion keys of account 0, generation 0,
// and her DID (did:mdl for patients and physicians).
struct Party {
  std::string did;
  SecretBytes seed;
  std::shared_ptr<wallet::SigningKey> auth, assertion;
  std::string Kid(const std::shared_ptr<wallet::SigningKey>& key) const;
  claims::Signer Signer(const std::shared_ptr<wallet::SigningKey>& key) const;
};
Result<Party> PartyFromSeed(ByteView seed, const std::string& did);
// The party as the provider of one relationship (docs/relationships.md): the pairwise key of
// `index` (m/5063756'/0'/7'/index'/0') signs, and its did:key is the DID.
Result<Party> PairwiseParty(const Party& p, uint32_t index);
// Opens the key store (passphrase from the file, else $MEDALLION_PASSPHRASE, else a prompt).
Result<Party> PartyFromStore(const std::string& store, const std::string& passphrase_file,
                             const std::string& did);

// An HTTP answer whose body is JSON (an empty body is {}).
struct Answer {
  int status = 0;
  json body;
};
Result<Answer> Call(const std::string& method, const std::string& url,
                    const std::string& bearer = "", const json* body = nullptr);

// A did-auth+jwt by the party's authentication key for `audience` and `nonce`.
Result<std::string> DidAuth(const Party& p, const std::string& audience, const std::string& nonce,
                            const json& extra = json::object());
// Signs in to a container as its owner; the session token.
Result<std::string> OwnerSignIn(const Party& owner, const std::string& container);

// --- the society ---

// The society's DID, from its did:web document.
Result<std::string> SocietyDid(const std::string& society_url);
// Onboarding: a did-auth proof for the society's challenge, the license number and name. The
// society's answer (201 with the license credential, or the refusal).
Result<Answer> Onboard(const Party& physician, const std::string& society_url,
                       const std::string& license_number, const std::string& name);
// revoke | suspend | reinstate, with the society's admin token.
Result<Answer> SetLicenseStatus(const std::string& society_url, const std::string& admin_token,
                                const std::string& license_id, const std::string& action);

// --- the physician's UMA client (UMA 2.0 Grant §3) ---

struct UmaClient {
  std::string container, client_id, client_secret, pct, rpt;
  // A claims_redirect_uri registered with the client (RFC 7591 redirect_uris) for interactive
  // claims gathering (UMA Grant §3.3.2); "" registers none.
  std::string claims_redirect_uri;
  Status Register();
  // POST /token with the ticket (and a claim token, else the PCT).
  Result<Answer> Token(const std::string& ticket, const std::string& claim_token = "");
  // The whole grant for a ticket: need_info → the license presentation (a presentation without
  // a credential when `license` is null) → RPT (kept in `rpt`), or the refusal.
  Result<Answer> Grant(const std::string& ticket, const Party& physician, const json& license);
  // The grant by interactive claims gathering (UMA Grant §3.3.2-§3.3.3) with OpenID4VP instead
  // of a pushed claim token, for a need_info that says redirect_user: the claims interaction
  // endpoint (from the container's discovery) with the ticket, claims_redirect_uri (must be set
  // and registered) and a fresh state; its 302 to the OpenID4VP request, answered by the
  // physician's wallet (oid4vc::BuildResponse: `license_sd_jwt`, her license SD-JWT VC, with a
  // KB-JWT by her authentication key — the key the credential is bound to) posted to the
  // request's response_uri; the response's redirect_uri (state checked,
  // authorization_state=claims_submitted) gives the new ticket, redeemed at the token endpoint
  // (RPT kept in `rpt`). Any other answer on the way is returned as it is (a refusal).
  Result<Answer> GrantByPresentation(const std::string& ticket, const Party& physician,
                                     const std::string& license_sd_jwt);
  // UMA Grant §3.3.6: while `a` is request_submitted, polls the token endpoint with its newest
  // ticket at the interval it names (1..60 s, default 5) until the owner decides or
  // `max_seconds` would pass; the last answer (200 keeps the RPT and PCT).
  Result<Answer> AwaitDecision(Answer a, int max_seconds);
  // A request with the RPT; a 401 with a ticket is granted (with the license) and retried once.
  Result<Answer> Request(const std::string& method, const std::string& path, const json* body,
                         const Party& physician, const json& license);
  json ToJson() const;
  static Result<UmaClient> FromJson(const json& j);
};

// --- the prescription ---

json MedicationRequest(const std::string& rxnorm, const std::string& text, int repeats,
                       const std::string& patient_ref);

// The PrescriptionCredential (eddsa-jcs-2022 by the physician's assertion key), not yet
// co-signed. `schedule` is "" for a non-controlled drug.
Result<json> SignPrescription(const Party& physician, const std::string& patient_did,
                              const json& request, const std::string& schedule, const json& license,
                              const std::string& id);
// DeviceMethod, FillRequest and the pharmacy's challenge: roles/patient_rx.h (shared with the
// container's web app).
using roles::DeviceMethod;
using roles::FillRequest;
// The approval request that asks the physician's phone to co-sign `signed_vc`.
json CosignRequest(const std::string& device_method, const json& signed_vc,
                   const std::string& patient_did);
// Queues an approval at the owner's container; its id.
Result<std::string> QueueApproval(const std::string& container, const std::string& session,
                                  const json& request);
// The approval's state; unavailable unless it was approved with its signed result.
Result<json> ApprovedResult(const std::string& container, const std::string& session,
                            const std::string& id);
// The postmark: the hex digest on the ledger (anchor, kind credential, by the physician and
// signed by her assertion key, docs/ledger.md). Its ledger index.
Result<uint64_t> Postmark(roles::LedgerClient& ledger, const std::string& digest_hex,
                          const Party& by);
// Keeps the credential in the physician's container and delivers it to the patient's inbox,
// with its pharmacy copy ({"sd_jwt", "cosignature"?}) when there is one.
Status KeepAndDeliver(const json& vc, const std::string& physician_box,
                      const std::string& physician_session, const std::string& patient_box,
                      const json& pharmacy_copy = json());

// --- minimal disclosure: the pharmacy copy (SD-JWT VC, docs/credentials.md) ---
// The patient's pairwise pseudonym for relationship `index` (what she gives a physician), and
// the key that signs her key-binding JWTs for it.
Result<std::string> HolderPseudonym(ByteView seed, uint32_t index);
// The pharmacy copy of a signed prescription, bound to the patient's pseudonym, by the
// physician's assertion key.
Result<std::string> IssuePharmacyCopy(const Party& physician, const json& rx,
                                      const std::string& holder_pseudonym);
// The approval request that asks the physician's phone to co-sign the pharmacy copy (a
// did-auth+jwt over its digest, claims::kCosignAudience).
json SdCosignRequest(const std::string& device_method, const std::string& sd_jwt,
                     const std::string& medication);

// --- at the pharmacy ---

inline Result<claims::Challenge> PharmacyChallenge(const std::string& pharmacy_url) {
  return roles::FetchPharmacyChallenge(pharmacy_url);
}
// A holder-bound presentation (Data Integrity) of the prescription for the challenge.
Result<json> PresentPrescription(const json& rx, const Party& patient,
                                 const claims::Challenge& challenge);
// POST /pharmacy/v1/dispense.
Result<Answer> Dispense(const std::string& pharmacy_url, const json& body);

}  // namespace medallion::roles::flow
