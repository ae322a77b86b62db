// The wallet's side of OpenID4VCI 1.0 (docs/openid4vc.md §"Command line"): what a holder checks
// of a credential an issuer handed it before she keeps it, PKCE for the Authorization Code Flow,
// and how long to wait before asking the deferred endpoint again. No HTTP here: the command line
// (`medallion oid4vci accept`) makes the calls.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "medallion/claims/sd_jwt.h"
#include "medallion/core/env.h"
#include "medallion/core/status.h"
#include "medallion/did/resolver.h"

namespace medallion::oid4vc {

// A received SD-JWT VC, verified: its issuer, `vct` and the processed payload (every
// disclosure applied).
struct ReceivedSdJwt {
  std::string issuer;
  std::string vct;
  nlohmann::json claims;
};

// OID4VCI §8.3 (the Credential Response) with SD-JWT VC: a wallet keeps a credential only if
// it is an SD-JWT as issued (ends with '~', no KB-JWT), its issuer signature verifies with the
// key its `kid` names (a DID URL of the DID in `iss`, resolved through `resolver`), every
// disclosure is referenced, it is not expired, its `vct` is `expected_vct` (unless empty) and its
// `cnf.jwk` is `holder` — the key the wallet proved possession of (RFC 7800 §3.2).
// Errors: invalid_argument "<reason>: ..." with the claims::sd_jwt_reason codes, and
// "cnf_mismatch" for a credential bound to another key.
Result<ReceivedSdJwt> CheckReceivedSdJwt(std::string_view sd_jwt, const did::Resolver& resolver,
                                         const claims::HolderKey& holder,
                                         std::string_view expected_vct, const Clock& clock);

// RFC 7636 §4.1–4.2: a code_verifier of 32 random bytes (43 base64url characters) and its S256
// code_challenge = base64url(SHA-256(ASCII(code_verifier))).
struct Pkce {
  std::string verifier;
  std::string challenge;
};
Pkce NewPkce(Rng& rng);
std::string PkceS256(std::string_view verifier);

// OID4VCI §8.3 / §9.2: the seconds to wait before the next Deferred Credential Request, from the
// answer's `interval` (REQUIRED there; 5 when absent or not a positive integer), at least 1 and
// at most 300, and never past `remaining` seconds (0 when nothing remains).
int64_t DeferredWaitSeconds(const nlohmann::json& answer, int64_t remaining);

}  // namespace medallion::oid4vc
