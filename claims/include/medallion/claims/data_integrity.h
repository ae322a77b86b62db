// W3C Data Integrity proofs with the eddsa-jcs-2022 cryptosuite (VC Data Integrity EdDSA
// Cryptosuites v1.0 §3.3), including proof sets (VC Data Integrity §2.1.2).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "medallion/claims/signer.h"
#include "medallion/core/status.h"
#include "medallion/did/resolver.h"

namespace medallion::claims {

struct ProofOptions {
  std::string proof_purpose = "assertionMethod";  // or "authentication" for presentations
  std::string created;                            // XML datetime; "" = omit
  std::string expires;                            // "" = omit
  std::string challenge;                          // presentations: the verifier's nonce
  std::string domain;                             // presentations: the verifier's origin
  std::string id;                                 // optional proof id (for proof chains)
  std::string previous_proof;                     // optional: id of the proof this one chains to
};

// eddsa-jcs-2022 §3.3.1 "Create Proof": adds a proof (or appends to an existing proof set) to
// `document` (a JSON object, not modified on error). Errors: invalid_argument for a document
// that is not an object or a signer that is not EdDSA; the signer's error.
Result<nlohmann::json> AddProof(const nlohmann::json& document, const Signer& signer, const ProofOptions& options);

struct ProofCheckOptions {
  std::string expected_purpose = "assertionMethod";
  std::string expected_challenge;  // "" = none expected
  std::string expected_domain;
  int64_t now = 0;  // POSIX seconds for `created`/`expires` checks (0: skip)
  int64_t max_clock_skew = 300;
  // Resolve verification methods as of this point (did:mdl ledger position), if set.
  did::ResolutionOptions resolution;
};

struct VerifiedProof {
  std::string verification_method;
  std::string controller;  // the DID the method belongs to
  std::string created;
};

// eddsa-jcs-2022 §3.3.2 "Verify Proof" over every proof of a proof set: each proof must use
// eddsa-jcs-2022, have the expected purpose (and challenge/domain), be within its validity,
// name a verification method the resolver finds under that purpose for its DID, and verify.
// Returns the verified proofs in order. Errors carry a reason in the message prefix:
// "proof_missing", "proof_malformed", "cryptosuite_unsupported", "purpose_mismatch",
// "challenge_mismatch", "domain_mismatch", "proof_expired", "proof_not_yet_valid",
// "method_unresolved", "signature_invalid".
Result<std::vector<VerifiedProof>> VerifyProofs(const nlohmann::json& secured_document, const did::Resolver& resolver,
                                                const ProofCheckOptions& options);

}  // namespace medallion::claims
