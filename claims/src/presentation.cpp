// Holder-bound verifiable presentations with single-use challenges.
#include "medallion/claims/presentation.h"

#include <nlohmann/json.hpp>

#include "medallion/claims/credentials.h"
#include "medallion/core/json.h"
#include "medallion/core/encoding.h"

namespace medallion::claims {

using nlohmann::json;

ChallengeStore::ChallengeStore(Env env, int64_t ttl_seconds, size_t max_outstanding)
    : env_(env), ttl_(ttl_seconds), max_(max_outstanding) {}

Challenge ChallengeStore::Issue(const std::string& domain) {
  Challenge c{Base64UrlEncode(env_.rng->RandomBytes(16)), domain, env_.clock->NowSeconds() + ttl_};
  std::lock_guard<std::mutex> lock(mu_);
  if (open_.size() >= max_) {
    const int64_t now = env_.clock->NowSeconds();
    for (auto it = open_.begin(); it != open_.end();) {
      it = it->second.challenge.expires < now ? open_.erase(it) : std::next(it);
    }
    while (open_.size() >= max_) {
      auto oldest = open_.begin();
      for (auto it = open_.begin(); it != open_.end(); ++it) {
        if (it->second.seq < oldest->second.seq) oldest = it;
      }
      open_.erase(oldest);
    }
  }
  open_[c.nonce] = Open{c, next_seq_++};
  return c;
}

Status ChallengeStore::Consume(const std::string& nonce, const std::string& domain) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = open_.find(nonce);
  if (it == open_.end()) {
    return Status::WithReason(StatusCode::kPermissionDenied, presentation_reason::kChallengeUnknown,
                              "not issued here, or already used");
  }
  Challenge c = it->second.challenge;
  open_.erase(it);  // single use, whatever happens next
  if (c.expires < env_.clock->NowSeconds()) {
    return Status::WithReason(StatusCode::kPermissionDenied, presentation_reason::kChallengeExpired,
                              "");
  }
  if (c.domain != domain) {
    return Status::WithReason(StatusCode::kPermissionDenied, presentation_reason::kDomainMismatch,
                              "challenge issued for " + c.domain);
  }
  return Status::Ok();
}

Result<json> PresentCredentials(const std::vector<json>& credentials, const std::string& holder,
                                const Signer& holder_key, const Challenge& challenge,
                                const std::string& created) {
  json vp = {{"@context", {kVcContextV2, kMedallionContext}},
             {"type", {"VerifiablePresentation"}},
             {"holder", holder},
             {"verifiableCredential", credentials}};
  ProofOptions o;
  o.proof_purpose = "authentication";
  o.challenge = challenge.nonce;
  o.domain = challenge.domain;
  o.created = created;
  return AddProof(vp, holder_key, o);
}

Result<VerifiedPresentation> VerifyPresentation(const json& vp, const did::Resolver& resolver,
                                                ChallengeStore& challenges,
                                                const std::string& domain, int64_t now) {
  auto fail = [](const std::string& m) {
    return Status::WithReason(StatusCode::kPermissionDenied, presentation_reason::kHolderBinding,
                              m);
  };
  if (!vp.is_object() || !vp.contains("type") || !vp.contains("holder") ||
      !vp["holder"].is_string() || !vp.contains("verifiableCredential") ||
      !vp["verifiableCredential"].is_array()) {
    return fail("not a VerifiablePresentation with a holder and credentials");
  }
  // The challenge first: a presentation whose challenge is unknown or used is refused before
  // any expensive work, and a valid one is burnt even if the rest fails (no second try).
  auto proof = vp.find("proof");
  if (proof == vp.end() || !proof->is_object() || !proof->contains("challenge") ||
      !(*proof)["challenge"].is_string()) {
    return fail("the presentation needs exactly one authentication proof with a challenge");
  }
  MDL_RETURN_IF_ERROR(challenges.Consume((*proof)["challenge"].get<std::string>(), domain));
  ProofCheckOptions o;
  o.expected_purpose = "authentication";
  o.expected_challenge = (*proof)["challenge"].get<std::string>();
  o.expected_domain = domain;
  o.now = now;
  auto verified = VerifyProofs(vp, resolver, o);
  if (!verified) return fail(verified.error().message());
  const std::string holder = vp["holder"].get<std::string>();
  if (verified->size() != 1 || (*verified)[0].controller != holder)
    return fail("the proof is not by the holder");
  VerifiedPresentation out;
  out.holder = holder;
  for (const auto& vc : vp["verifiableCredential"]) {
    if (!vc.is_object() || !vc.contains("credentialSubject") ||
        !vc["credentialSubject"].is_object() || StringOr(vc["credentialSubject"], "id") != holder) {
      return fail("a presented credential is not about the holder");
    }
    out.credentials.push_back(vc);
  }
  return out;
}

}  // namespace medallion::claims
