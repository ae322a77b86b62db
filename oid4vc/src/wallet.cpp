// The wallet's side of OpenID4VCI: checking a received SD-JWT VC, PKCE, the deferred interval.
#include "medallion/oid4vc/wallet.h"

#include <algorithm>

#include "medallion/core/encoding.h"
#include "medallion/core/hash.h"
#include "medallion/core/json.h"

namespace medallion::oid4vc {

using nlohmann::json;

Result<ReceivedSdJwt> CheckReceivedSdJwt(std::string_view sd_jwt, const did::Resolver& resolver,
                                         const claims::HolderKey& holder,
                                         std::string_view expected_vct, const Clock& clock) {
  // RFC 9901 §4: an issued SD-JWT is "<JWT>~<disclosure>~...~"; a trailing KB-JWT would make it
  // a presentation, which no issuer hands out.
  if (sd_jwt.empty() || !sd_jwt.ends_with('~'))
    return Status::InvalidArgument(std::string(claims::sd_jwt_reason::kMalformed) +
                                   ": the credential is not an SD-JWT as issued (it must end "
                                   "with '~')");
  claims::SdJwtVerifyOptions vo;
  vo.require_key_binding = false;
  vo.expected_vct = std::string(expected_vct);
  MDL_ASSIGN_OR_RETURN(claims::VerifiedSdJwt v, claims::VerifySdJwt(sd_jwt, resolver, vo, clock));
  auto payload = ParseJson(v.payload_json);
  if (!payload || !payload->is_object())
    return Status::InvalidArgument(std::string(claims::sd_jwt_reason::kMalformed) +
                                   ": the payload is not a JSON object");
  // RFC 7800 §3.2: the credential is bound to the key the wallet proved (OID4VCI Appendix F.1).
  const json& jwk = MemberOr(MemberOr(*payload, "cnf"), "jwk");
  if (!jwk.is_object())
    return Status::InvalidArgument(std::string(claims::sd_jwt_reason::kCnfMissing) +
                                   ": the credential is not bound to a key (no cnf.jwk)");
  auto bound = claims::HolderKeyFromJwk(jwk);
  if (!bound)
    return Status::InvalidArgument(std::string(claims::sd_jwt_reason::kCnfMissing) + ": " +
                                   bound.error().message());
  if (bound->alg != holder.alg || bound->public_key != holder.public_key)
    return Status::InvalidArgument(
        "cnf_mismatch: the credential is bound to another key than the one this wallet proved");
  return ReceivedSdJwt{v.issuer, v.vct, std::move(*payload)};
}

std::string PkceS256(std::string_view verifier) {
  return Base64UrlEncode(Sha256(AsBytes(verifier)));
}

Pkce NewPkce(Rng& rng) {
  Pkce p;
  p.verifier = Base64UrlEncode(rng.RandomBytes(32));  // 43 characters of [A-Za-z0-9-_]
  p.challenge = PkceS256(p.verifier);
  return p;
}

int64_t DeferredWaitSeconds(const json& answer, int64_t remaining) {
  int64_t interval = 5;
  const json& i = MemberOr(answer, "interval");
  if (i.is_number_integer() && i.get<int64_t>() > 0) interval = i.get<int64_t>();
  interval = std::clamp<int64_t>(interval, 1, 300);
  return std::max<int64_t>(0, std::min(interval, remaining));
}

}  // namespace medallion::oid4vc
