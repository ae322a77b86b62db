// W3C Data Integrity proofs with the eddsa-jcs-2022 cryptosuite (VC Data Integrity EdDSA
// Cryptosuites v1.0 §3.3), including proof sets and proof chains (VC Data Integrity 1.0 §2.1.2,
// §4.3 "Add Proof Set/Chain", §4.5 "Verify Proof Sets and Chains").
//
// Failures of verification carry a reason code (Status::reason(), also the prefix of the
// message: "signature_invalid: proof 1 ..."); ReasonCode() returns it. The codes are listed in
// `reason` below and are stable: the pharmacy pipeline and the CLI report them as they are.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "medallion/claims/signer.h"
#include "medallion/core/status.h"
#include "medallion/did/resolver.h"

namespace medallion::claims {

// The cryptosuite identifier of eddsa-jcs-2022 §3.3 and the proof type of VC Data Integrity §3.1.
inline constexpr std::string_view kEddsaJcs2022 = "eddsa-jcs-2022";
inline constexpr std::string_view kDataIntegrityProof = "DataIntegrityProof";

// The largest bound a caller may set on clock skew (seconds); a larger one is misuse.
inline constexpr int64_t kMaxClockSkewSeconds = 900;

// Reason codes of proof and token verification failures (Status::reason()).
namespace reason {
inline constexpr std::string_view kProofMissing = "proof_missing";
inline constexpr std::string_view kProofMalformed = "proof_malformed";
inline constexpr std::string_view kCryptosuiteUnsupported = "cryptosuite_unsupported";
inline constexpr std::string_view kPurposeMismatch = "purpose_mismatch";
inline constexpr std::string_view kChallengeMismatch = "challenge_mismatch";
inline constexpr std::string_view kDomainMismatch = "domain_mismatch";
inline constexpr std::string_view kProofExpired = "proof_expired";
inline constexpr std::string_view kProofNotYetValid = "proof_not_yet_valid";
inline constexpr std::string_view kMethodUnresolved = "method_unresolved";
inline constexpr std::string_view kSignatureInvalid = "signature_invalid";
// The proof's @context is not a prefix of the document's (eddsa-jcs-2022 §3.3.2 step 4.1).
inline constexpr std::string_view kContextMismatch = "context_mismatch";
// A `previousProof` names no proof of the set (VC Data Integrity §4.5 steps 3.2-3.3).
inline constexpr std::string_view kPreviousProofMissing = "previous_proof_missing";
}  // namespace reason

// The reason code of a failure: status.reason(), "" for OK or a failure without one. Never
// parsed from the message text.
std::string_view ReasonCode(const Status& status);

// XML Schema 1.1 dateTimeStamp ("2023-02-24T23:36:38Z", "2023-02-24T23:36:38.5+01:00"): the
// form of `created`/`expires` (VC Data Integrity §2.1) and of `validFrom`/`validUntil` (VC Data
// Model 2.0 §4.9). Returns POSIX seconds (fractions truncated toward the past). A time zone is
// required. Errors: invalid_argument.
Result<int64_t> ParseDateTimeStamp(std::string_view text);

struct ProofOptions {
  std::string proof_purpose = "assertionMethod";  // or "authentication" for presentations
  std::string created;                            // XML datetime; "" = omit
  std::string expires;                            // "" = omit
  std::string challenge;                          // presentations: the verifier's nonce
  std::string domain;                             // presentations: the verifier's origin
  std::string id;                                 // optional proof id (for proof chains)
  std::string previous_proof;                     // optional: id of the proof this one chains to
};

// eddsa-jcs-2022 §3.3.1 "Create Proof" run through VC Data Integrity §4.3 "Add Proof
// Set/Chain": returns a copy of `document` (a JSON object) with the new proof. Without existing
// proofs `proof` is the new proof object; otherwise `proof` becomes an array with the new proof
// appended. The new proof signs the document without its existing proofs or, with
// `previous_proof`, the document whose `proof` is [the proof named by previous_proof].
// Errors: invalid_argument for a document that is not an object, an existing `proof` that is not
// an object or an array of objects, a signer that is not EdDSA, bad option values (a `created`
// or `expires` that is not a dateTimeStamp, an authentication proof without a challenge, a
// duplicate proof id, a previous_proof naming no proof, numbers JCS cannot represent); the
// signer's error.
Result<nlohmann::json> AddProof(const nlohmann::json& document, const Signer& signer,
                                const ProofOptions& options);

struct ProofCheckOptions {
  std::string expected_purpose = "assertionMethod";
  // Required (non-empty) when expected_purpose is "authentication": replay protection.
  std::string expected_challenge;  // "" = none expected
  std::string expected_domain;     // "" = none expected
  int64_t now = 0;                 // POSIX seconds for `created`/`expires` checks (0: skip)
  int64_t max_clock_skew = 300;    // REQUIRES: 0 <= max_clock_skew <= kMaxClockSkewSeconds
  // Resolve verification methods as of this point (did:mdl ledger position), if set.
  did::ResolutionOptions resolution;
};

struct VerifiedProof {
  std::string id;  // the proof's `id`, "" if it has none
  std::string verification_method;
  std::string controller;  // the DID the method belongs to
  std::string proof_purpose;
  std::string created;
};

// eddsa-jcs-2022 §3.3.2 "Verify Proof" over every proof of a proof set (VC Data Integrity §4.5;
// every proof must verify, not just one): each proof must be a DataIntegrityProof with the
// eddsa-jcs-2022 cryptosuite, have the expected purpose (and challenge/domain), be within its
// validity, name a verification method the resolver finds under that purpose for its DID, and
// verify. Returns the verified proofs in document order. Errors carry a reason prefix (see
// `reason`): invalid_argument for proof_missing, proof_malformed, cryptosuite_unsupported,
// context_mismatch, previous_proof_missing; permission_denied for purpose_mismatch,
// challenge_mismatch, domain_mismatch; failed_precondition for proof_expired,
// proof_not_yet_valid; the resolver's code for method_unresolved; unauthenticated for
// signature_invalid. Thread-safe if the resolver is.
Result<std::vector<VerifiedProof>> VerifyProofs(const nlohmann::json& secured_document,
                                                const did::Resolver& resolver,
                                                const ProofCheckOptions& options);

// The intermediate values of eddsa-jcs-2022 §3.3.3-§3.3.5 for one proof configuration (without
// proofValue) over an unsecured document: what the W3C test vectors publish. For tests and
// diagnostics; AddProof and VerifyProofs compute the same values.
struct JcsHashData {
  std::string canonical_proof_config;  // §3.3.5 step 5
  std::string canonical_document;      // §3.3.3 step 2
  Bytes proof_config_hash;             // §3.3.4 step 1
  Bytes document_hash;                 // §3.3.4 step 2
  Bytes hash_data;                     // §3.3.4 step 3: proof_config_hash || document_hash
};
// Errors: invalid_argument (not objects, or numbers JCS cannot represent).
Result<JcsHashData> EddsaJcs2022HashData(const nlohmann::json& proof_config,
                                         const nlohmann::json& unsecured_document);

}  // namespace medallion::claims
