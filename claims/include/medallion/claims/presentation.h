// Verifiable presentations bound to their holder (VC Data Model 2.0 §4.13, VC Data Integrity
// §2.1 "challenge"/"domain"): the verifier hands out a single-use challenge, the holder signs
// the presentation with an authentication proof over that challenge and the verifier's domain,
// and the verifier accepts it once.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "medallion/claims/data_integrity.h"
#include "medallion/claims/signer.h"
#include "medallion/core/env.h"
#include "medallion/did/resolver.h"

namespace medallion::claims {

// Reason codes of ChallengeStore::Consume and VerifyPresentation (Status::reason(), also the
// message prefix).
namespace presentation_reason {
inline constexpr char kChallengeUnknown[] = "challenge_unknown";
inline constexpr char kChallengeExpired[] = "challenge_expired";
inline constexpr char kDomainMismatch[] = "domain_mismatch";
inline constexpr char kHolderBinding[] = "holder_binding";
}  // namespace presentation_reason

struct Challenge {
  std::string nonce;    // 128 random bits, base64url
  std::string domain;   // the verifier's origin
  int64_t expires = 0;  // POSIX seconds
};

// Single-use challenges with an expiry, bounded in number. Thread-safe.
class ChallengeStore {
 public:
  ChallengeStore(Env env, int64_t ttl_seconds = 300, size_t max_outstanding = 10000);
  // A fresh challenge for `domain`. When the store is full, expired challenges are dropped
  // first, then the oldest.
  Challenge Issue(const std::string& domain);
  // Consumes a challenge. Errors (permission_denied, with a presentation_reason):
  // "challenge_unknown" (never issued, or already used: replay), "challenge_expired",
  // "domain_mismatch".
  Status Consume(const std::string& nonce, const std::string& domain);

 private:
  Env env_;
  int64_t ttl_;
  size_t max_;
  std::mutex mu_;
  struct Open {
    Challenge challenge;
    uint64_t seq;  // issue order, to evict the oldest
  };
  std::map<std::string, Open, std::less<>> open_;
  uint64_t next_seq_ = 0;
};

// Builds a VerifiablePresentation of `credentials` for `holder` and signs it with the
// holder's authentication key (eddsa-jcs-2022, proofPurpose authentication, the challenge and
// domain). `created` is an XML datetime.
Result<nlohmann::json> PresentCredentials(const std::vector<nlohmann::json>& credentials,
                                          const std::string& holder, const Signer& holder_key,
                                          const Challenge& challenge, const std::string& created);

struct VerifiedPresentation {
  std::string holder;
  std::vector<nlohmann::json> credentials;
};

// Checks the holder binding: the presentation's authentication proof verifies with a key of
// `holder` (resolved through `resolver`), carries a challenge this verifier issued for
// `domain` (consumed: a second use is refused), and every credential's subject is the holder.
// Errors carry reason codes: "holder_binding: ..." (proof or subject problems) or the
// challenge reasons above.
Result<VerifiedPresentation> VerifyPresentation(const nlohmann::json& presentation,
                                                const did::Resolver& resolver,
                                                ChallengeStore& challenges,
                                                const std::string& domain, int64_t now);

}  // namespace medallion::claims
