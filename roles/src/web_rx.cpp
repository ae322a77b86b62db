// The patient's prescriptions in her browser (web_rx.h).
#include "web_rx.h"

#include <algorithm>

#include "medallion/claims/credentials.h"
#include "medallion/claims/sd_jwt.h"
#include "medallion/core/encoding.h"
#include "medallion/core/hash.h"
#include "medallion/core/json.h"
#include "medallion/http/http_client.h"
#include "medallion/roles/ledger_client.h"
#include "medallion/roles/patient_rx.h"
#include "medallion/uma/authorization_server.h"

namespace medallion::roles {

using nlohmann::json;

namespace {

constexpr size_t kMaxUrl = 2048;

Status Unauthorized(const uma::Reply& r) {
  return r.status.ok() ? Status::Internal("unexpected answer") : r.status;
}

}  // namespace

Result<std::string> PharmacyBaseUrl(const std::string& typed) {
  return WebBaseUrl(typed, "pharmacy");
}

Result<std::string> WebBaseUrl(const std::string& typed, const std::string& what) {
  std::string url = typed;
  url.erase(0, url.find_first_not_of(" \t\r\n"));
  while (!url.empty() && std::isspace(static_cast<unsigned char>(url.back()))) url.pop_back();
  if (url.empty() || url.size() > kMaxUrl)
    return Status::InvalidArgument(
        "'" + what + "' must be an address (an http or https URL)");
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    return Status::InvalidArgument("'" + what + "' must start with https:// or http://");
  }
  if (auto hash = url.find('#'); hash != std::string::npos) url.resize(hash);
  if (url.find_first_of(" \t\r\n\\") != std::string::npos)
    return Status::InvalidArgument("'" + what + "' holds spaces or backslashes");
  const size_t host = url.find("://") + 3;
  const size_t path = url.find('/', host);
  if (url.substr(host, path == std::string::npos ? std::string::npos : path - host).find('@') !=
      std::string::npos) {
    return Status::InvalidArgument("'" + what + "' must not carry a user name or password");
  }
  if (url.size() == host) return Status::InvalidArgument("'" + what + "' names no host");
  while (url.size() > host && url.back() == '/') url.pop_back();
  return url;
}

namespace {

// RFC 3986 §2.1 percent-decoding (a '+' stays a '+'). invalid_argument for a bad escape.
Result<std::string> PercentDecode(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    if (i + 2 >= in.size())
      return Status::InvalidArgument("a bad %-escape");
    const int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
    if (hi < 0 || lo < 0) return Status::InvalidArgument("a bad %-escape");
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

constexpr std::string_view kCounterPath = "/pharmacy/v1/requests/";
constexpr std::string_view kSchemePresent = "web+medallion:present?request=";

}  // namespace

bool HasType(const json& item, const char* type) {
  const json& types = MemberOr(item, "types");
  return types.is_array() && std::find(types.begin(), types.end(), type) != types.end();
}

json LicenseStatusJson(const claims::LicenseStatusCheck& check, const json& license) {
  if (!check || !license.is_object()) return {{"status", "unknown"}};
  Status st = check(license);
  if (st.ok()) return {{"status", "active"}};
  if (st.reason() == claims::rx_reason::kLicenseSuspended)
    return {{"status", "suspended"}, {"detail", st.message()}};
  if (st.code() == StatusCode::kFailedPrecondition)
    return {{"status", "revoked"}, {"detail", st.message()}};
  return {{"status", "unknown"}, {"detail", st.message()}};
}

Result<PharmacyTarget> ParsePharmacyTarget(const std::string& typed) {
  std::string text = typed;
  text.erase(0, text.find_first_not_of(" \t\r\n"));
  if (text.rfind(kSchemePresent, 0) == 0) {
    std::string_view rest = std::string_view(text).substr(kSchemePresent.size());
    rest = rest.substr(0, rest.find('&'));
    MDL_ASSIGN_OR_RETURN(text, PercentDecode(rest));
  }
  MDL_ASSIGN_OR_RETURN(std::string url, PharmacyBaseUrl(text));
  PharmacyTarget t;
  const size_t host = url.find("://") + 3;
  const size_t at = url.find(kCounterPath, host);
  if (at == std::string::npos) {
    t.base = url;
    return t;
  }
  const std::string id = url.substr(at + kCounterPath.size());
  if (id.empty() || id.size() > 64 || !std::all_of(id.begin(), id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
      })) {
    return Status::InvalidArgument("that pharmacy link names no request");
  }
  t.base = url.substr(0, at);
  t.request = url;
  return t;
}

PrescriptionDesk::PrescriptionDesk(uma::AuthorizationServer& as,
                                   std::shared_ptr<roles::LedgerClient> ledger,
                                   PrescriptionDeskOptions options, Env env)
    : as_(as), ledger_(std::move(ledger)), options_(std::move(options)), env_(env) {}

Result<json> PrescriptionDesk::Credentials(const std::string& owner_session) {
  uma::Reply r = as_.ListCredentials(owner_session);
  if (!r.ok()) return Unauthorized(r);
  return r.body.is_array() ? r.body : json::array();
}

json PrescriptionDesk::LicenseNow(const json& vc) {
  const json& evidence = MemberOr(vc, "evidence");
  static const json kNone;
  const json& license =
      evidence.is_array() && !evidence.empty() ? MemberOr(evidence[0], "licenseCredential") : kNone;
  return LicenseStatusJson(options_.license_status, license);
}

Result<json> PrescriptionDesk::List(const std::string& owner_session) {
  MDL_ASSIGN_OR_RETURN(json kept, Credentials(owner_session));
  // Fills are counted against the ledger's newest verified checkpoint.
  Status fresh = ledger_ ? ledger_->Refresh().status() : Status::Ok();
  json out = json::array();
  for (const json& item : kept) {
    if (!HasType(item, "PrescriptionCredential")) continue;
    const json& vc = MemberOr(item, "credential");
    json row = {
        {"id", StringOr(item, "id")},
        {"medication", MedicationOf(vc)},
        {"controlled",
         !StringOr(MemberOr(vc, "credentialSubject"), "controlledSubstanceSchedule").empty()},
        {"license", LicenseNow(vc)},
        {"minimal_disclosure",
         options_.seed != nullptr &&
             MemberOr(MemberOr(item, "pharmacy_copy"), "sd_jwt").is_string()}};
    auto allowed = claims::AllowedFills(vc);
    if (allowed) row["fills_allowed"] = *allowed;
    if (!fresh.ok()) {
      row["fills_detail"] = "the ledger's checkpoint could not be verified: " + fresh.message();
    } else if (ledger_ && allowed) {
      auto fills = FillsOnLedger(vc, *ledger_);
      if (fills) {
        json list = json::array();
        uint32_t used = 0;
        for (const FillState& f : *fills) {
          json one = {{"n", f.n}, {"used", f.used}};
          if (f.used) one["ledger_index"] = f.ledger_index;
          used += f.used ? 1 : 0;
          list.push_back(std::move(one));
        }
        row["fills"] = std::move(list);
        row["fills_used"] = used;
      } else {
        row["fills_detail"] = fills.error().message();
      }
    }
    out.push_back(std::move(row));
  }
  return json{{"prescriptions", out},
              {"can_present", static_cast<bool>(options_.holder_signer.sign)},
              {"ledger", ledger_ != nullptr}};
}

Result<DeskAnswer> PrescriptionDesk::Present(const std::string& owner_session, const json& body) {
  MDL_ASSIGN_OR_RETURN(std::string id, RequiredString(body, "credential"));
  MDL_ASSIGN_OR_RETURN(std::string typed, RequiredString(body, "pharmacy"));
  MDL_ASSIGN_OR_RETURN(PharmacyTarget target, ParsePharmacyTarget(typed));
  if (!options_.holder_signer.sign) {
    return Status::WithReason(
        StatusCode::kFailedPrecondition, "no_wallet",
        "presenting a prescription needs your wallet in the container (serve it with --store)");
  }
  MDL_ASSIGN_OR_RETURN(json kept, Credentials(owner_session));
  const json* rx = nullptr;
  const json* copy = nullptr;
  std::string notices;
  for (const json& item : kept) {
    if (StringOr(item, "id") == id && HasType(item, "PrescriptionCredential")) {
      rx = &MemberOr(item, "credential");
      copy = &MemberOr(item, "pharmacy_copy");
      notices = StringOr(item, "notices");
    }
  }
  if (rx == nullptr) return Status::NotFound("no prescription with that id in your container");
  MDL_ASSIGN_OR_RETURN(claims::Challenge challenge,
                       target.request.empty() ? FetchPharmacyChallenge(target.base)
                                              : FetchCounterChallenge(target.request));
  json dispense, disclosure;
  std::string digest = id;  // what her phone's fill authorization names
  if (options_.seed != nullptr && MemberOr(*copy, "sd_jwt").is_string()) {
    // Minimal disclosure: the pharmacy copy, key-bound by the pairwise key it names.
    const std::string& sd = (*copy)["sd_jwt"].get_ref<const std::string&>();
    MDL_ASSIGN_OR_RETURN(uint32_t index, PairwiseIndexOfCopy(sd, options_.seed->Reveal()));
    std::vector<std::string> revealed, hidden;
    MDL_ASSIGN_OR_RETURN(std::string presented,
                         PresentPharmacyCopy(sd, options_.seed->Reveal(), index, challenge, env_,
                                             &revealed, &hidden));
    dispense = {{"sd_jwt", std::move(presented)}};
    if (MemberOr(*copy, "cosignature").is_string())
      dispense["cosignature"] = (*copy)["cosignature"];
    digest = claims::SdJwtDigest(sd);
    disclosure = {{"form", "sd-jwt"}, {"revealed", revealed}, {"hidden", hidden}};
  } else {
    MDL_ASSIGN_OR_RETURN(
        json vp, claims::PresentCredentials({*rx}, options_.holder_did, options_.holder_signer,
                                            challenge, did::XmlDateTime(env_.clock->NowSeconds())));
    dispense = {{"presentation", std::move(vp)}};
    disclosure = {{"form", "full"}};
  }
  Attempt sending;
  sending.pharmacy = target.base;
  sending.counter = target.request;
  sending.credential_id = id;
  sending.domain = challenge.domain;
  sending.prescriber = claims::IssuerOf(*rx);
  sending.notices = notices;
  sending.body = dispense;
  sending.disclosure = disclosure;
  sending.expires_at = challenge.expires;
  if (StringOr(MemberOr(*rx, "credentialSubject"), "controlledSubstanceSchedule").empty()) {
    return Dispense(owner_session, sending, "");
  }
  // A controlled substance: her phone authorizes this fill at this pharmacy first.
  if (options_.resolver == nullptr)
    return Status::FailedPrecondition("no resolver for your DID's phone key");
  auto device = DeviceMethod(*options_.resolver, options_.holder_did);
  if (!device) {
    return Status::WithReason(
        StatusCode::kFailedPrecondition, "no_phone",
        "a controlled substance needs your paired phone's approval: pair a phone first (" +
            device.error().message() + ")");
  }
  json request = FillRequest(*device, challenge.domain, digest, MedicationOf(*rx));
  MDL_ASSIGN_OR_RETURN(std::string request_id,
                       as_.QueueApproval(request["kind"], request["summary"], request["payload"]));
  const std::string attempt = env_.rng->RandomId(32);
  const int64_t now = env_.clock->NowSeconds();
  sending.request_id = request_id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::erase_if(attempts_, [now](const auto& kv) { return kv.second.expires_at < now - 3600; });
    attempts_[HexEncode(Sha256(AsBytes(attempt)))] = sending;
  }
  return DeskAnswer{202,
                    {{"status", "awaiting_phone"},
                     {"attempt", attempt},
                     {"request_id", request_id},
                     {"expires_in", std::max<int64_t>(challenge.expires - now, 0)}}};
}

Result<DeskAnswer> PrescriptionDesk::Poll(const std::string& owner_session, const json& body) {
  MDL_ASSIGN_OR_RETURN(std::string token, RequiredString(body, "attempt"));
  const std::string key = HexEncode(Sha256(AsBytes(token)));
  Attempt a;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = attempts_.find(key);
    if (it == attempts_.end() || it->second.done)
      return Status::NotFound("no such presentation waiting for your phone");
    a = it->second;
  }
  if (!a.counter_token.empty()) return PollCounter(owner_session, key, a);
  MDL_ASSIGN_OR_RETURN(json state, as_.GetRequest(a.request_id));
  const std::string status = StringOr(state, "status");
  if (status == "denied") return DeskAnswer{200, {{"status", "denied"}}};
  if (status != "approved") {
    if (env_.clock->NowSeconds() > a.expires_at) return DeskAnswer{200, {{"status", "expired"}}};
    return DeskAnswer{200, {{"status", "pending"}}};
  }
  if (!MemberOr(state, "result").is_string())
    return Status::Internal("the phone's approval carries no signed authorization");
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = attempts_.find(key);
    if (it == attempts_.end() || it->second.done)
      return Status::NotFound("this presentation was already sent");
    it->second.done = true;
  }
  a.body["fill_authorization"] = state["result"];
  return Dispense(owner_session, a, key);
}

Result<DeskAnswer> PrescriptionDesk::Dispense(const std::string& owner_session,
                                              const Attempt& target,
                                              const std::string& attempt_key) {
  const std::string url = target.counter.empty() ? target.pharmacy + "/pharmacy/v1/dispense"
                                                 : target.counter + "/presentation";
  auto reply = http::HttpCall("POST", url, "", target.body.dump());
  if (!reply)
    return Status::WithReason(StatusCode::kUnavailable, "pharmacy_unavailable",
                              reply.error().message());
  auto answer = ParseJson(reply->body, JsonLimits{size_t{4} << 20, 64});
  if (!answer || !answer->is_object()) {
    return Status::WithReason(
        StatusCode::kUnavailable, "pharmacy_unavailable",
        "the pharmacy answered " + std::to_string(reply->status) + " without a JSON object");
  }
  if (reply->status == 202 && !target.counter.empty() && MemberOr(*answer, "token").is_string()) {
    // The counter holds the checked presentation for the pharmacist: poll its outcome.
    Attempt waiting = target;
    waiting.counter_token = (*answer)["token"];
    waiting.body = json();  // sent: nothing to keep
    waiting.expires_at = env_.clock->NowSeconds() + 30 * 60;
    const std::string attempt = attempt_key.empty() ? env_.rng->RandomId(32) : "";
    {
      std::lock_guard<std::mutex> lock(mu_);
      attempts_[attempt_key.empty() ? HexEncode(Sha256(AsBytes(attempt))) : attempt_key] =
          waiting;
    }
    json out = {{"status", "awaiting_pharmacist"},
                {"result", MemberOr(*answer, "result")},
                {"disclosure", target.disclosure}};
    if (!attempt.empty()) out["attempt"] = attempt;
    return DeskAnswer{attempt.empty() ? 200 : 202, std::move(out)};
  }
  if (reply->status != 200) {
    if (!MemberOr(*answer, "result").is_object()) {
      Status st = http::StatusFromHttpReply(*reply);
      return Status::WithReason(
          StatusCode::kUnavailable, "pharmacy_unavailable",
          "the pharmacy answered " + std::to_string(reply->status) + ": " + st.message());
    }
    return Outcome(owner_session, *answer, false, target);
  }
  return Outcome(owner_session, json{{"result", *answer}}, true, target);
}

DeskAnswer PrescriptionDesk::Outcome(const std::string& owner_session, const json& answer,
                                     bool dispensed, const Attempt& attempt) {
  const json& disclosure = attempt.disclosure;
  if (!dispensed) {
    json out = {{"status", "refused"},
                {"error", StringOr(answer, "error")},
                {"error_description", StringOr(answer, "error_description")},
                {"result", MemberOr(answer, "result")},
                {"disclosure", disclosure}};
    // She may tell her prescriber why (Tell), if the prescription says where.
    const int64_t now = env_.clock->NowSeconds();
    const std::string id = env_.rng->RandomId(16);
    {
      std::lock_guard<std::mutex> lock(mu_);
      std::erase_if(refusals_, [now](const auto& kv) { return kv.second.at < now - 86400; });
      if (refusals_.size() < 256) {
        refusals_[id] = Refusal{attempt, StringOr(answer, "error", "refused"),
                                StringOr(answer, "error_description"), now};
        out["refusal"] = {{"id", id}, {"can_tell", !attempt.notices.empty()}};
      }
    }
    return DeskAnswer{200, std::move(out)};
  }
  const json& result = MemberOr(answer, "result");
  json out = {{"status", "dispensed"}, {"result", result}, {"disclosure", disclosure}};
  // Her copy of the pharmacy's signed receipt, kept with her credentials (the issuer's proof is
  // checked there).
  uma::Reply kept = as_.StoreCredential(owner_session, MemberOr(result, "receipt"));
  if (kept.ok()) {
    out["receipt_id"] = StringOr(kept.body, "id");
  } else {
    out["receipt_kept"] = false;
    out["receipt_detail"] = kept.status.message();
  }
  return DeskAnswer{200, std::move(out)};
}

Result<DeskAnswer> PrescriptionDesk::PollCounter(const std::string& owner_session,
                                                 const std::string& key, const Attempt& a) {
  auto reply = http::HttpCall("POST", a.counter + "/outcome", "",
                              json{{"token", a.counter_token}}.dump());
  if (!reply)
    return Status::WithReason(StatusCode::kUnavailable, "pharmacy_unavailable",
                              reply.error().message());
  auto answer = ParseJson(reply->body, JsonLimits{size_t{4} << 20, 64});
  if (reply->status != 200 || !answer || !answer->is_object()) {
    Status st = http::StatusFromHttpReply(*reply);
    return Status::WithReason(StatusCode::kUnavailable, "pharmacy_unavailable",
                              "the pharmacy's counter answered " + std::to_string(reply->status) +
                                  ": " + st.message());
  }
  const std::string status = StringOr(*answer, "status");
  if (status != "dispensed" && status != "refused") {
    return DeskAnswer{200,
                      {{"status", "awaiting_pharmacist"},
                       {"result", MemberOr(*answer, "result")},
                       {"disclosure", a.disclosure}}};
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = attempts_.find(key);
    if (it == attempts_.end() || it->second.done)
      return Status::NotFound("this presentation's outcome was already taken");
    it->second.done = true;
  }
  return Outcome(owner_session, *answer, status == "dispensed", a);
}

Result<DeskAnswer> PrescriptionDesk::Tell(const std::string& owner_session, const json& body) {
  MDL_ASSIGN_OR_RETURN(std::string id, RequiredString(body, "refusal"));
  MDL_RETURN_IF_ERROR(Credentials(owner_session).status());  // her session, checked
  if (!options_.holder_signer.sign) {
    return Status::WithReason(StatusCode::kFailedPrecondition, "no_wallet",
                              "telling your physician needs your wallet in the container");
  }
  Refusal r;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = refusals_.find(id);
    if (it == refusals_.end())
      return Status::NotFound("no such refusal (or you told your physician already)");
    r = it->second;
  }
  if (r.attempt.notices.empty()) {
    return Status::WithReason(StatusCode::kFailedPrecondition, "no_notices_address",
                              "this prescription does not say where its physician takes notices");
  }
  claims::RefusalNotice n;
  n.patient = options_.holder_did;
  n.prescriber = r.attempt.prescriber;
  n.prescription = r.attempt.credential_id;
  n.pharmacy = r.attempt.domain.empty() ? r.attempt.pharmacy : r.attempt.domain;
  n.reason = r.reason;
  n.description = r.description.substr(0, claims::kRefusalDescriptionMax);
  n.refused_at = r.at;
  n.id = env_.rng->RandomId(16);
  const int64_t now = env_.clock->NowSeconds();
  MDL_ASSIGN_OR_RETURN(std::string token,
                       claims::SignRefusalNotice(n, options_.holder_signer, now));
  auto reply = http::HttpCall("POST", r.attempt.notices, "", json{{"notice", token}}.dump());
  if (!reply)
    return Status::WithReason(StatusCode::kUnavailable, "prescriber_unavailable",
                              reply.error().message());
  if (reply->status != 202) {
    Status st = http::StatusFromHttpReply(*reply);
    return Status::WithReason(StatusCode::kUnavailable, "prescriber_unavailable",
                              "your physician's workspace answered " +
                                  std::to_string(reply->status) + ": " + st.message());
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    refusals_.erase(id);
  }
  return DeskAnswer{200, {{"told", true}, {"prescriber", n.prescriber}}};
}

Result<json> PrescriptionDesk::VerifyDispenseReceipts(const std::string& owner_session) {
  MDL_ASSIGN_OR_RETURN(json kept, Credentials(owner_session));
  json out = json::array();
  if (!ledger_) return out;
  std::map<std::string, const json*> prescriptions;
  for (const json& item : kept) {
    if (!HasType(item, "PrescriptionCredential")) continue;
    prescriptions[StringOr(item, "id")] = &MemberOr(item, "credential");
    // A fill of its pharmacy copy: the receipt names the SD-JWT's digest (same nullifiers).
    const json& sd = MemberOr(MemberOr(item, "pharmacy_copy"), "sd_jwt");
    if (sd.is_string())
      prescriptions[claims::SdJwtDigest(sd.get<std::string>())] = &MemberOr(item, "credential");
  }
  for (const json& item : kept) {
    if (!HasType(item, "DispenseReceipt")) continue;
    const json& vc = MemberOr(item, "credential");
    auto rx = prescriptions.find(StringOr(MemberOr(vc, "credentialSubject"), "prescriptionDigest"));
    json row = CheckDispenseReceipt(vc, rx == prescriptions.end() ? nullptr : rx->second, *ledger_);
    row["id"] = StringOr(item, "id");
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace medallion::roles
