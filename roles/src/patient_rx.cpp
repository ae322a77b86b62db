// The patient's side of a prescription at a pharmacy (patient_rx.h).
#include "medallion/roles/patient_rx.h"

#include <algorithm>

#include "medallion/claims/credentials.h"
#include "medallion/claims/pharmacy.h"
#include "medallion/claims/sd_jwt.h"
#include "medallion/core/json.h"
#include "medallion/http/http_client.h"
#include "medallion/roles/ledger_client.h"
#include "medallion/uma/authorization_server.h"
#include "medallion/uma/relationship.h"

namespace medallion::roles {

using nlohmann::json;

Result<claims::Challenge> FetchPharmacyChallenge(const std::string& pharmacy_url) {
  MDL_ASSIGN_OR_RETURN(http::HttpReply r,
                       http::HttpCall("POST", pharmacy_url + "/pharmacy/v1/challenge", "", "{}"));
  if (r.status != 200) {
    Status st = http::StatusFromHttpReply(r);
    return Status::Unavailable("no challenge from the pharmacy: " + std::to_string(r.status) + " " +
                               st.message());
  }
  auto body = ParseJson(r.body, JsonLimits{size_t{64} << 10, 8});
  if (!body || !body->is_object() || !(*body)["nonce"].is_string() ||
      !(*body)["domain"].is_string() || !(*body)["expires"].is_number_integer()) {
    return Status::Unavailable(
        "no challenge from the pharmacy: it answered something else than {nonce, domain, expires}");
  }
  return claims::Challenge{(*body)["nonce"], (*body)["domain"], (*body)["expires"]};
}

Result<claims::Challenge> FetchCounterChallenge(const std::string& request_url) {
  MDL_ASSIGN_OR_RETURN(http::HttpReply r, http::HttpCall("GET", request_url, "", ""));
  if (r.status != 200) {
    Status st = http::StatusFromHttpReply(r);
    return Status::WithReason(r.status == 404 || r.status == 409 ? StatusCode::kFailedPrecondition
                                                                 : StatusCode::kUnavailable,
                              r.status == 404 || r.status == 409 ? "counter_request_gone"
                                                                 : "pharmacy_unavailable",
                              "the pharmacy's request: " + st.message());
  }
  auto body = ParseJson(r.body, JsonLimits{size_t{64} << 10, 8});
  if (!body || !body->is_object() || !(*body)["nonce"].is_string() ||
      !(*body)["domain"].is_string() || !(*body)["expires"].is_number_integer()) {
    return Status::Unavailable(
        "the pharmacy's request is not {nonce, domain, expires, ...}");
  }
  return claims::Challenge{(*body)["nonce"], (*body)["domain"], (*body)["expires"]};
}

Result<std::string> DeviceMethod(const did::Resolver& resolver, const std::string& did) {
  did::ResolutionResult r = resolver.Resolve(did);
  if (!r.ok())
    return Status::Unavailable("cannot resolve " + did + ": " + r.error + " " + r.error_message);
  for (const std::string& m : r.document->authentication) {
    const auto& am = r.document->assertion_method;
    if (std::find(am.begin(), am.end(), m) != am.end()) return m;
  }
  return Status::NotFound(did + " has no paired phone (no device key)");
}

json FillRequest(const std::string& device_method, const std::string& domain,
                 const std::string& digest_hex, const std::string& medication) {
  return {{"kind", uma::kRequestFill},
          {"summary", {{"text", "Fill your prescription of " + medication + " at " + domain}}},
          {"payload",
           {{"sign",
             {{"format", "did-auth+jwt"},
              {"verification_method", device_method},
              {"claims", {{"aud", domain}, {"prescription", digest_hex}}}}}}}};
}

std::string MedicationOf(const json& vc) {
  const json& subject = MemberOr(vc, "credentialSubject");
  const json& concept_ = MemberOr(MemberOr(subject, "prescription"), "medicationCodeableConcept");
  std::string text = StringOr(concept_, "text");
  if (text.empty()) {
    const json& coding = MemberOr(concept_, "coding");
    if (coding.is_array() && !coding.empty()) text = StringOr(coding[0], "display");
  }
  return text;
}

Result<std::vector<FillState>> FillsOnLedger(const json& prescription_vc,
                                             roles::LedgerClient& ledger) {
  MDL_RETURN_IF_ERROR(claims::CheckPrescriptionCredential(prescription_vc));
  MDL_ASSIGN_OR_RETURN(uint32_t allowed, claims::AllowedFills(prescription_vc));
  std::vector<FillState> out;
  for (uint32_t n = 0; n < allowed; ++n) {
    MDL_ASSIGN_OR_RETURN(std::string nullifier, claims::DispenseNullifier(prescription_vc, n));
    MDL_ASSIGN_OR_RETURN(std::vector<roles::ProvenEntry> found,
                         ledger.Lookup({ledger::KeyKind::kNullifier, nullifier}));
    FillState f;
    f.n = n;
    f.used = !found.empty();
    if (f.used) f.ledger_index = found.front().index;
    out.push_back(f);
  }
  return out;
}

json CheckDispenseReceipt(const json& receipt_vc, const json* prescription_vc,
                          roles::LedgerClient& ledger) {
  const json& subject = MemberOr(receipt_vc, "credentialSubject");
  const json& index = MemberOr(subject, "ledgerIndex");
  const json& fill = MemberOr(subject, "fill");
  json out = {{"included", false}, {"names_her_fill", false}, {"valid", false}};
  if (!index.is_number_unsigned() || !fill.is_number_unsigned() || fill.get<uint64_t>() == 0) {
    out["detail"] = "the receipt names no ledger index or fill";
    return out;
  }
  out["index"] = index;
  auto proven = ledger.Entries(index.get<uint64_t>(), index.get<uint64_t>() + 1);
  if (!proven || proven->size() != 1) {
    out["detail"] = proven ? "not in the log at the verified checkpoint" : proven.error().message();
    return out;
  }
  out["included"] = true;
  out["tree_size"] = (*proven)[0].tree_size;
  if (prescription_vc == nullptr) {
    out["detail"] = "the prescription it names is not in your container";
    return out;
  }
  auto entry = ParseJson((*proven)[0].entry);
  auto nullifier =
      claims::DispenseNullifier(*prescription_vc, static_cast<uint32_t>(fill.get<uint64_t>() - 1));
  const bool names = entry && nullifier && StringOr(*entry, "type") == "dispense" &&
                     StringOr(*entry, "nullifier") == *nullifier;
  out["names_her_fill"] = names;
  out["valid"] = names;
  if (!names) out["detail"] = "the ledger entry is not the dispense record of this fill";
  return out;
}

Result<std::string> PresentPharmacyCopy(const std::string& sd_jwt, ByteView seed, uint32_t index,
                                        const claims::Challenge& challenge, const Env& env,
                                        std::vector<std::string>* revealed,
                                        std::vector<std::string>* hidden) {
  MDL_ASSIGN_OR_RETURN(claims::SdJwtHolderView view, claims::InspectSdJwt(sd_jwt));
  auto payload = ParseJson(view.payload_json, JsonLimits{size_t{1} << 20, 64});
  if (!payload) return Status::InvalidArgument("the pharmacy copy's payload is not JSON");
  claims::SdJwtPresentOptions o;
  o.reveal = claims::PharmacyReveal(*payload);
  o.audience = challenge.domain;
  o.nonce = challenge.nonce;
  MDL_ASSIGN_OR_RETURN(uma::PairwiseSigner holder, uma::DerivePairwiseSigner(seed, index));
  if (revealed != nullptr) *revealed = o.reveal;
  if (hidden != nullptr) {
    hidden->clear();
    for (const std::string& p : view.disclosable) {
      if (std::find(o.reveal.begin(), o.reveal.end(), p) == o.reveal.end()) hidden->push_back(p);
    }
  }
  return claims::PresentSdJwt(sd_jwt, o, &holder.signer, env);
}

Result<uint32_t> PairwiseIndexOfCopy(const std::string& sd_jwt, ByteView seed, uint32_t limit) {
  MDL_ASSIGN_OR_RETURN(claims::SdJwtHolderView view, claims::InspectSdJwt(sd_jwt));
  auto payload = ParseJson(view.payload_json, JsonLimits{size_t{1} << 20, 64});
  if (!payload) return Status::InvalidArgument("the pharmacy copy's payload is not JSON");
  const std::string x = StringOr(MemberOr(MemberOr(*payload, "cnf"), "jwk"), "x");
  if (x.empty()) return Status::InvalidArgument("the pharmacy copy is bound to no key (cnf.jwk)");
  for (uint32_t i = 0; i < limit; ++i) {
    MDL_ASSIGN_OR_RETURN(uma::PairwiseKey key, uma::DerivePairwiseKey(seed, i));
    if (key.Pseudonym() == x) return i;
  }
  return Status::NotFound("the pharmacy copy is bound to none of your first " +
                          std::to_string(limit) + " pairwise keys");
}

}  // namespace medallion::roles
