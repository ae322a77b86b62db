// A patient's notice to her prescriber that a pharmacy refused her prescription
// (pharmacy.h §"A refusal told to the prescriber").
#include <algorithm>

#include <nlohmann/json.hpp>

#include "medallion/claims/jose.h"
#include "medallion/claims/pharmacy.h"
#include "medallion/core/json.h"

namespace medallion::claims {
namespace {

using nlohmann::json;

constexpr int64_t kNoticeTtl = 600;
constexpr size_t kShortMax = 256;  // pharmacy, reason, jti

bool IsDigestHex(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

Status CheckFields(const RefusalNotice& n) {
  auto bad = [](const std::string& why) { return Status::InvalidArgument("refusal notice: " + why); };
  if (!IsDigestHex(n.prescription)) return bad("`prescription` must be a hex SHA-256 digest");
  if (n.pharmacy.empty() || n.pharmacy.size() > kShortMax)
    return bad("`pharmacy` must be 1 to 256 bytes");
  if (n.reason.empty() || n.reason.size() > kShortMax) return bad("`reason` must be 1 to 256 bytes");
  if (n.description.size() > kRefusalDescriptionMax)
    return bad("`description` must be at most 1000 bytes");
  if (n.refused_at <= 0) return bad("`at` must be a positive time");
  if (n.id.empty() || n.id.size() > kShortMax) return bad("`jti` must be 1 to 256 bytes");
  return Status::Ok();
}

}  // namespace

Result<std::string> SignRefusalNotice(const RefusalNotice& n, const Signer& patient, int64_t now) {
  MDL_RETURN_IF_ERROR(CheckFields(n));
  if (n.patient.empty() || n.prescriber.empty())
    return Status::InvalidArgument("refusal notice: the patient and prescriber are required");
  const json doc = {{"sub", n.patient},
                    {"prescription", n.prescription},
                    {"refusal",
                     {{"pharmacy", n.pharmacy},
                      {"reason", n.reason},
                      {"description", n.description},
                      {"at", n.refused_at}}}};
  JwtSignOptions o;
  o.issued_at = now;
  o.expires = now + kNoticeTtl;
  o.audience = n.prescriber;
  o.jwt_id = n.id;
  return SignJwt(JwtKind::kDidAuth, doc, patient, o);
}

Result<RefusalNotice> VerifyRefusalNotice(
    std::string_view token, const std::string& prescriber_did, const did::Resolver& resolver,
    const std::function<Result<std::string>(const std::string& digest_hex)>& subject_of,
    int64_t now) {
  JwtCheckOptions co;
  co.now = now;
  co.expected_audience = prescriber_did;
  VerifiedJwt info;
  MDL_ASSIGN_OR_RETURN(json payload, VerifyJwt(JwtKind::kDidAuth, token, resolver, co, &info));
  if (!info.issued_at || !info.expires)
    return Status::InvalidArgument("refusal notice: `iat` and `exp` are required");
  if (*info.expires - *info.issued_at > kRefusalNoticeMaxTtl)
    return Status::InvalidArgument("refusal notice: valid for more than an hour");
  const json& refusal = MemberOr(payload, "refusal");
  if (!refusal.is_object() || !MemberOr(refusal, "at").is_number_integer() ||
      !MemberOr(payload, "prescription").is_string() || !MemberOr(payload, "jti").is_string()) {
    return Status::InvalidArgument(
        "refusal notice: needs `prescription`, `jti` and `refusal` {pharmacy, reason, "
        "description, at}");
  }
  RefusalNotice n;
  n.patient = StringOr(payload, "sub");
  n.prescriber = prescriber_did;
  n.prescription = StringOr(payload, "prescription");
  n.pharmacy = StringOr(refusal, "pharmacy");
  n.reason = StringOr(refusal, "reason");
  n.description = StringOr(refusal, "description");
  n.refused_at = refusal["at"].get<int64_t>();
  n.id = StringOr(payload, "jti");
  MDL_RETURN_IF_ERROR(CheckFields(n));
  if (info.controller != n.patient)
    return Status::PermissionDenied("refusal notice: not signed by its subject");
  if (n.refused_at > now + co.max_clock_skew)
    return Status::InvalidArgument("refusal notice: the refusal is dated in the future");
  MDL_ASSIGN_OR_RETURN(std::string subject, subject_of(n.prescription));
  if (subject != n.patient)
    return Status::PermissionDenied("refusal notice: not from the prescription's patient");
  return n;
}

}  // namespace medallion::claims
