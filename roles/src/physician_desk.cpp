// The physician's workspace (physician_desk.h).
#include "physician_desk.h"

#include <algorithm>

#include "medallion/claims/credentials.h"
#include "medallion/claims/sd_jwt.h"
#include "medallion/core/encoding.h"
#include "medallion/core/hash.h"
#include "medallion/core/json.h"
#include "medallion/roles/ledger_client.h"
#include "medallion/roles/patient_rx.h"
#include "medallion/uma/authorization_server.h"
#include "medallion/uma/relationship.h"

namespace medallion::roles {

using nlohmann::json;

namespace {

constexpr size_t kMaxInstructions = 500;
constexpr int64_t kMaxQuantity = 1000;
constexpr char kRxNorm[] = "http://www.nlm.nih.gov/research/umls/rxnorm";

Status Refusal(const char* reason, const std::string& message) {
  return Status::WithReason(StatusCode::kInvalidArgument, reason, message);
}

json Step(const char* name, bool ok, const std::string& detail) {
  return {{"step", name}, {"ok", ok}, {"detail", detail}};
}

// The pairwise key index of her relationship with the patient of `pseudonym`: 31 bits of its
// hash, so that each patient gets a key of her own, the same after a restart.
uint32_t RelationshipIndex(const std::string& pseudonym) {
  const Hash256 h = Sha256(AsBytes("medallion provider index\n" + pseudonym));
  return ((uint32_t{h[0]} << 24) | (uint32_t{h[1]} << 16) | (uint32_t{h[2]} << 8) | h[3]) &
         0x7fffffffu;
}

}  // namespace

PhysicianDesk::PhysicianDesk(uma::AuthorizationServer& as, std::shared_ptr<LedgerClient> ledger,
                             PhysicianDeskOptions options,
                             std::unique_ptr<PrescriberNotices> notices, Env env)
    : as_(as),
      ledger_(std::move(ledger)),
      options_(std::move(options)),
      notices_(std::move(notices)),
      env_(env) {
  medications_ = json::parse(options_.medications_json, nullptr, false);
  if (!medications_.is_object()) medications_ = json{{"medications", json::array()}};
}

Result<flow::Party> PhysicianDesk::Me() const {
  if (options_.seed == nullptr) {
    return Status::WithReason(StatusCode::kFailedPrecondition, "no_wallet",
                              "this container does not hold your wallet (serve it with --store)");
  }
  return flow::PartyFromSeed(options_.seed->Reveal(), options_.did);
}

// Her newest MedicalLicenseCredential kept in her container, or null.
Result<json> PhysicianDesk::License(const std::string& owner) {
  uma::Reply r = as_.ListCredentials(owner);
  if (!r.ok()) return r.status;
  json newest;
  for (const json& item : r.body.is_array() ? r.body : json::array()) {
    if (HasType(item, "MedicalLicenseCredential")) newest = MemberOr(item, "credential");
  }
  return newest;
}

Result<DeskAnswer> PhysicianDesk::State(const std::string& owner) {
  MDL_ASSIGN_OR_RETURN(json license, License(owner));
  json out = {{"did", options_.did},
              {"can_sign", options_.seed != nullptr},
              {"ledger", ledger_ != nullptr},
              {"license", nullptr}};
  if (license.is_object()) {
    const json& s = MemberOr(license, "credentialSubject");
    const json status = LicenseStatusJson(options_.license_status, license);
    out["license"] = {{"credential", license},
                      {"issuer", claims::IssuerOf(license)},
                      {"name", StringOr(s, "name")},
                      {"license_number", StringOr(s, "licenseNumber")},
                      {"license_type", StringOr(s, "licenseType")},
                      {"specialty", StringOr(s, "specialty")},
                      {"jurisdiction", StringOr(s, "jurisdiction")},
                      {"schedules", MemberOr(s, "controlledSubstanceSchedules")},
                      {"valid_until", StringOr(license, "validUntil")},
                      {"status", status}};
  }
  {
    std::lock_guard lock(mu_);
    if (!onboarding_request_.empty())
      out["onboarding"] = {{"society", onboarding_society_}, {"request", onboarding_request_}};
  }
  out["phone"] = options_.resolver != nullptr &&
                 static_cast<bool>(DeviceMethod(*options_.resolver, options_.did));
  return DeskAnswer{200, out};
}

Result<DeskAnswer> PhysicianDesk::Onboard(const std::string& owner, const json& body) {
  MDL_ASSIGN_OR_RETURN(std::string typed, RequiredString(body, "society"));
  MDL_ASSIGN_OR_RETURN(std::string number, RequiredString(body, "license_number"));
  MDL_ASSIGN_OR_RETURN(std::string name, RequiredString(body, "name"));
  MDL_ASSIGN_OR_RETURN(std::string society, WebBaseUrl(typed, "society"));
  MDL_ASSIGN_OR_RETURN(flow::Party me, Me());
  MDL_ASSIGN_OR_RETURN(flow::Answer a, flow::Onboard(me, society, number, name));
  if (a.status == 202 && a.body["request"].is_string()) {
    std::lock_guard lock(mu_);
    onboarding_society_ = society;
    onboarding_request_ = a.body["request"];
    return DeskAnswer{202, {{"status", "pending"}, {"request", onboarding_request_}}};
  }
  if (a.status != 201) {
    return DeskAnswer{200,
                      {{"status", "refused"},
                       {"error", StringOr(a.body, "error")},
                       {"error_description", StringOr(a.body, "error_description")}}};
  }
  uma::Reply kept = as_.StoreCredential(owner, a.body);
  if (!kept.ok()) return kept.status;
  return DeskAnswer{201, {{"status", "issued"}}};
}

Result<DeskAnswer> PhysicianDesk::OnboardPoll(const std::string& owner) {
  std::string society, request;
  {
    std::lock_guard lock(mu_);
    society = onboarding_society_;
    request = onboarding_request_;
  }
  if (request.empty()) return Status::NotFound("no onboarding request waits");
  MDL_ASSIGN_OR_RETURN(flow::Answer a,
                       flow::Call("GET", society + "/society/v1/onboarding/" + request));
  const std::string status = StringOr(a.body, "status");
  if (status == "approved" && a.body["credential"].is_object()) {
    uma::Reply kept = as_.StoreCredential(owner, a.body["credential"]);
    if (!kept.ok()) return kept.status;
  }
  if (status == "approved" || status == "rejected") {
    std::lock_guard lock(mu_);
    onboarding_request_.clear();
  }
  json out = {{"status", status.empty() ? "unknown" : status}};
  if (a.body["reason"].is_string()) out["reason"] = a.body["reason"];
  return DeskAnswer{200, out};
}

// --- patients ---

json PhysicianDesk::PatientJson(const Patient& p) const {
  json out = {{"id", p.id},         {"url", p.url},       {"did", p.did},
              {"status", p.status}, {"scopes", p.scopes}, {"connected_at", p.connected_at}};
  if (p.expires > 0) out["expires"] = p.expires;
  if (!p.detail.empty()) out["detail"] = p.detail;
  return out;
}

// Where a grant stands after the token endpoint's answer (UMA Grant §3.3).
void PhysicianDesk::Absorb(Patient& p, const flow::Answer& a) {
  if (a.status == 200 && a.body["access_token"].is_string()) {
    p.status = "granted";
    p.ticket.clear();
    p.detail.clear();
    // What the RPT allows, as the patient's container says (RFC 7662 through the grant's
    // answer: the token's permissions when it lists them).
    json scopes = json::array();
    for (const json& perm : MemberOr(a.body, "permissions").is_array() ? a.body["permissions"]
                                                                       : json::array()) {
      for (const json& sc : MemberOr(perm, "resource_scopes")) scopes.push_back(sc);
    }
    if (scopes.empty() && a.body["scope"].is_string()) {
      std::string all = a.body["scope"], one;
      for (char c : all + " ") {
        if (c == ' ') {
          if (!one.empty()) scopes.push_back(one);
          one.clear();
        } else {
          one += c;
        }
      }
    }
    p.scopes = scopes;
    // The container's answer: a lifetime beyond a year (or negative) is not believed, and
    // never added as is (a huge one would overflow).
    if (a.body["expires_in"].is_number_integer() && a.body["expires_in"].get<int64_t>() >= 0 &&
        a.body["expires_in"].get<int64_t>() <= 366 * 86400)
      p.expires = env_.clock->NowSeconds() + a.body["expires_in"].get<int64_t>();
    return;
  }
  const std::string error = StringOr(a.body, "error");
  p.detail = StringOr(a.body, "error_description");
  if (error == "request_submitted") {
    p.status = "request_submitted";
    p.ticket = StringOr(a.body, "ticket");
  } else if (error == "need_info") {
    p.status = "need_info";
    p.ticket = StringOr(a.body, "ticket");
  } else if (error == "request_denied") {
    p.status = "denied";
    p.ticket.clear();
  } else {
    p.status = "error";
    p.detail = error + (p.detail.empty() ? "" : ": " + p.detail);
  }
}

Result<DeskAnswer> PhysicianDesk::Patients() {
  std::lock_guard lock(mu_);
  json out = json::array();
  for (const auto& [id, p] : patients_) out.push_back(PatientJson(p));
  return DeskAnswer{200, {{"patients", out}}};
}

Result<DeskAnswer> PhysicianDesk::Connect(const std::string& owner, const json& body) {
  MDL_ASSIGN_OR_RETURN(std::string typed, RequiredString(body, "url"));
  MDL_ASSIGN_OR_RETURN(std::string url, WebBaseUrl(typed, "url"));
  MDL_ASSIGN_OR_RETURN(flow::Party me, Me());
  MDL_ASSIGN_OR_RETURN(json license, License(owner));
  if (!license.is_object()) {
    return Status::WithReason(StatusCode::kFailedPrecondition, "no_license",
                              "get your license first: a patient's container asks for it");
  }
  // Who the container belongs to (its public state names its owner's DID).
  MDL_ASSIGN_OR_RETURN(flow::Answer who, flow::Call("GET", url + "/web/v1/state"));
  const std::string did = StringOr(MemberOr(who.body, "owner"), "did");
  if (who.status != 200 || did.empty()) {
    return Status::WithReason(StatusCode::kUnavailable, "container_unavailable",
                              "no patient's container answers at " + url);
  }
  Patient p;
  p.id = HexEncode(Sha256(AsBytes(url))).substr(0, 16);
  p.url = url;
  p.did = did;
  p.connected_at = env_.clock->NowSeconds();
  p.uma.container = url;
  MDL_RETURN_IF_ERROR(p.uma.Register());
  // The resource server answers an unauthenticated read with a permission ticket (UMA Grant
  // §3.2); the grant presents her DID and license (need_info → the claim token).
  MDL_ASSIGN_OR_RETURN(flow::Answer probe, flow::Call("GET", url + "/fhir/MedicationRequest"));
  if (probe.status != 401 || !probe.body["ticket"].is_string()) {
    return Status::WithReason(StatusCode::kUnavailable, "container_unavailable",
                              "no permission ticket from " + url);
  }
  MDL_ASSIGN_OR_RETURN(flow::Answer granted, p.uma.Grant(probe.body["ticket"], me, license));
  Absorb(p, granted);
  std::lock_guard lock(mu_);
  patients_[p.id] = p;
  return DeskAnswer{201, PatientJson(p)};
}

Result<DeskAnswer> PhysicianDesk::PollPatient(const std::string& owner, const std::string& id) {
  (void)owner;
  std::lock_guard lock(mu_);
  auto it = patients_.find(id);
  if (it == patients_.end()) return Status::NotFound("no such patient");
  Patient& p = it->second;
  if (p.status == "request_submitted" && !p.ticket.empty()) {
    // UMA Grant §3.3.6: ask again with the newest ticket (the page polls at the interval).
    MDL_ASSIGN_OR_RETURN(flow::Answer a, p.uma.Token(p.ticket));
    if (a.status == 200) {
      if (a.body["pct"].is_string()) p.uma.pct = a.body["pct"];
      if (a.body["access_token"].is_string()) p.uma.rpt = a.body["access_token"];
    }
    Absorb(p, a);
  }
  return DeskAnswer{200, PatientJson(p)};
}

Result<DeskAnswer> PhysicianDesk::Records(const std::string& owner, const std::string& id,
                                          const std::string& type) {
  static const char* kTypes[] = {"MedicationRequest", "Observation", "Condition",
                                 "AllergyIntolerance", "Immunization"};
  if (std::find(std::begin(kTypes), std::end(kTypes), type) == std::end(kTypes))
    return Status::InvalidArgument("type is one of MedicationRequest, Observation, ...");
  (void)owner;  // the read rides on the RPT her container holds for this patient
  std::lock_guard lock(mu_);
  auto it = patients_.find(id);
  if (it == patients_.end()) return Status::NotFound("no such patient");
  Patient& p = it->second;
  if (p.status != "granted") {
    return Status::WithReason(StatusCode::kPermissionDenied, "not_granted",
                              "the patient has not granted access (status " + p.status + ")");
  }
  MDL_ASSIGN_OR_RETURN(flow::Answer a, flow::Call("GET", p.url + "/fhir/" + type, p.uma.rpt));
  if (a.status == 401 || a.status == 403) {
    return DeskAnswer{200,
                      {{"allowed", false},
                       {"detail", "the grant does not cover reading " + type + " records"}}};
  }
  if (a.status != 200) return Status::Unavailable("the patient's container answered " +
                                                   std::to_string(a.status));
  return DeskAnswer{200, {{"allowed", true}, {"bundle", a.body}}};
}

Result<DeskAnswer> PhysicianDesk::WriteRecord(const std::string& owner, const std::string& id,
                                              const json& body) {
  MDL_ASSIGN_OR_RETURN(std::string job_id, RequiredString(body, "prescription"));
  MDL_ASSIGN_OR_RETURN(flow::Party me, Me());
  MDL_ASSIGN_OR_RETURN(json license, License(owner));
  std::lock_guard lock(mu_);
  auto it = patients_.find(id);
  auto job = jobs_.find(job_id);
  if (it == patients_.end() || job == jobs_.end() || job->second.patient_id != id)
    return Status::NotFound("no such patient or prescription");
  Patient& p = it->second;
  Job& j = job->second;
  if (j.status != "delivered")
    return Status::FailedPrecondition("only a delivered prescription goes into her record");
  // A write her container submitted for her approval: ask again with its newest ticket (UMA
  // Grant §3.3.6) before writing.
  if (!j.write_ticket.empty()) {
    MDL_ASSIGN_OR_RETURN(flow::Answer a, p.uma.Token(j.write_ticket));
    if (a.status == 200) {
      if (a.body["pct"].is_string()) p.uma.pct = a.body["pct"];
      if (a.body["access_token"].is_string()) p.uma.rpt = a.body["access_token"];
      j.write_ticket.clear();
    } else {
      Patient probe = p;
      Absorb(probe, a);
      j.write_ticket = probe.ticket;
      return DeskAnswer{200, {{"status", probe.status}, {"detail", probe.detail}}};
    }
  }
  const json resource = j.request;
  MDL_ASSIGN_OR_RETURN(flow::Answer a, p.uma.Request("POST", "/fhir/MedicationRequest", &resource,
                                                     me, license));
  if (a.status == 201 || a.status == 200)
    return DeskAnswer{201, {{"status", "written"}, {"resource", a.body}}};
  // Not (yet) allowed: where the grant for writing stands, without touching the read grant.
  Patient probe = p;
  Absorb(probe, a);
  if (probe.status == "request_submitted") j.write_ticket = probe.ticket;
  if (probe.status == "granted") {
    probe.status = "error";
    probe.detail = "her container answered " + std::to_string(a.status);
  }
  return DeskAnswer{200, {{"status", probe.status}, {"detail", probe.detail}}};
}

// --- prescribing ---

Result<json> PhysicianDesk::Medication(const std::string& rxcui) const {
  for (const json& m : MemberOr(medications_, "medications")) {
    if (StringOr(m, "rxcui") == rxcui) return m;
  }
  return Refusal("unknown_medication", "no medication with RxNorm code " + rxcui.substr(0, 16) +
                                           " in the list");
}

json PhysicianDesk::JobJson(const Job& j) const {
  return {{"id", j.id},         {"status", j.status},         {"steps", j.steps},
          {"patient", j.patient_id}, {"medication", j.medication}, {"created", j.created}};
}

Result<DeskAnswer> PhysicianDesk::Prescribe(const std::string& owner, const json& body) {
  MDL_ASSIGN_OR_RETURN(std::string patient_id, RequiredString(body, "patient"));
  MDL_ASSIGN_OR_RETURN(std::string rxcui, RequiredString(body, "rxcui"));
  MDL_ASSIGN_OR_RETURN(std::string instructions, RequiredString(body, "instructions"));
  MDL_ASSIGN_OR_RETURN(json med, Medication(rxcui));
  const json& quantity = MemberOr(body, "quantity");
  const json& refills = MemberOr(body, "refills");
  if (!quantity.is_number_integer() || quantity.get<int64_t>() < 1 ||
      quantity.get<int64_t>() > kMaxQuantity) {
    return Refusal("quantity_invalid", "the quantity is a whole number from 1 to 1000");
  }
  const int64_t max_refills = MemberOr(med, "max_refills").is_number_integer()
                                  ? med["max_refills"].get<int64_t>()
                                  : 0;
  if (!refills.is_number_integer() || refills.get<int64_t>() < 0 ||
      refills.get<int64_t>() > max_refills) {
    return Refusal("refills_over_limit", "refills for " + StringOr(med, "display") +
                                             " are a whole number from 0 to " +
                                             std::to_string(max_refills));
  }
  if (instructions.size() > kMaxInstructions)
    return Refusal("instructions_too_long", "instructions have at most 500 characters");
  const json& substitution = MemberOr(body, "substitution");
  if (!substitution.is_null() && !substitution.is_boolean())
    return Refusal("substitution_invalid", "substitution is true or false");
  const std::string pseudonym = StringOr(body, "pseudonym");
  if (!pseudonym.empty() && (pseudonym.size() != 43 || !Base64UrlDecode(pseudonym)))
    return Refusal("pseudonym_invalid", "a patient's pseudonym is 43 base64url characters");
  MDL_ASSIGN_OR_RETURN(json license, License(owner));
  if (!license.is_object())
    return Status::WithReason(StatusCode::kFailedPrecondition, "no_license",
                              "get your license first");
  const std::string schedule = MemberOr(med, "schedule").is_string() ? med["schedule"] : "";
  if (!schedule.empty()) {
    const json& covered =
        MemberOr(MemberOr(license, "credentialSubject"), "controlledSubstanceSchedules");
    if (!covered.is_array() || std::find(covered.begin(), covered.end(), schedule) == covered.end())
      return Refusal("schedule_not_covered",
                     "your license does not cover schedule " + schedule + " substances");
  }
  Job job;
  {
    std::lock_guard lock(mu_);
    auto p = patients_.find(patient_id);
    if (p == patients_.end())
      return Status::NotFound("connect to the patient's container first");
    job.patient_did = p->second.did;
    job.patient_url = p->second.url;
  }
  MDL_ASSIGN_OR_RETURN(flow::Party me, Me());
  job.id = env_.rng->RandomId(22);
  job.patient_id = patient_id;
  job.pseudonym = pseudonym;
  job.medication = StringOr(med, "display");
  job.created = env_.clock->NowSeconds();
  job.request = {
      {"resourceType", "MedicationRequest"},
      {"status", "active"},
      {"intent", "order"},
      {"medicationCodeableConcept",
       {{"coding", {{{"system", kRxNorm}, {"code", rxcui}, {"display", job.medication}}}},
        {"text", job.medication}}},
      {"subject",
       {{"identifier", {{"system", "urn:ietf:rfc:3986"}, {"value", job.patient_did}}}}},
      {"requester", {{"identifier", {{"system", "urn:ietf:rfc:3986"}, {"value", options_.did}}}}},
      {"authoredOn", did::XmlDateTime(job.created).substr(0, 10)},
      {"dosageInstruction", {{{"text", instructions}}}},
      {"dispenseRequest",
       {{"quantity", {{"value", quantity}, {"unit", StringOr(med, "unit")}}},
        {"numberOfRepeatsAllowed", refills}}},
      {"substitution", {{"allowedBoolean", substitution.is_boolean() && substitution.get<bool>()}}}};
  auto signed_vc = flow::SignPrescription(me, job.patient_did, job.request, schedule, license,
                                          claims::NewCredentialId(*env_.rng));
  if (!signed_vc) return Refusal("prescription_invalid", signed_vc.error().message());
  job.vc = *signed_vc;
  job.steps.push_back(Step("sign", true, "signed with your assertion key"));
  if (!pseudonym.empty()) {
    auto copy = flow::IssuePharmacyCopy(me, job.vc, pseudonym);
    if (!copy) return Refusal("prescription_invalid", copy.error().message());
    job.sd_jwt = *copy;
  }
  if (!schedule.empty()) {
    // A controlled substance: her phone co-signs it (and its pharmacy copy).
    auto device = options_.resolver ? DeviceMethod(*options_.resolver, options_.did)
                                    : Result<std::string>(Status::NotFound("no resolver"));
    if (!device) {
      return Status::WithReason(StatusCode::kFailedPrecondition, "no_phone",
                                "a controlled substance needs your phone's co-signature: pair a "
                                "phone first (" + device.error().message() + ")");
    }
    json cosign = flow::CosignRequest(*device, job.vc, job.patient_did);
    MDL_ASSIGN_OR_RETURN(job.cosign_approval,
                         as_.QueueApproval(cosign["kind"], cosign["summary"], cosign["payload"]));
    if (!job.sd_jwt.empty()) {
      json sd = flow::SdCosignRequest(*device, job.sd_jwt, job.medication);
      MDL_ASSIGN_OR_RETURN(job.sd_cosign_approval,
                           as_.QueueApproval(sd["kind"], sd["summary"], sd["payload"]));
    }
    job.status = "awaiting_cosign";
    job.steps.push_back(Step("cosign", false, "waiting for your phone"));
  }
  std::lock_guard lock(mu_);
  Job& kept = jobs_[job.id] = std::move(job);
  if (kept.status == "awaiting_cosign") return DeskAnswer{202, JobJson(kept)};
  return Continue(owner, kept);
}

Result<DeskAnswer> PhysicianDesk::PollPrescription(const std::string& owner,
                                                   const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return Status::NotFound("no such prescription in progress");
  Job& job = it->second;
  if (job.status != "awaiting_cosign") return DeskAnswer{200, JobJson(job)};
  for (const std::string* approval : {&job.cosign_approval, &job.sd_cosign_approval}) {
    if (approval->empty()) continue;
    MDL_ASSIGN_OR_RETURN(json state, as_.GetRequest(*approval));
    const std::string status = StringOr(state, "status");
    if (status == "denied" || status == "expired") {
      job.status = "failed";
      job.steps.back() = Step("cosign", false, "your phone said no: nothing was sent");
      return DeskAnswer{200, JobJson(job)};
    }
    if (status != "approved") return DeskAnswer{200, JobJson(job)};
  }
  MDL_ASSIGN_OR_RETURN(json state, as_.GetRequest(job.cosign_approval));
  if (!MemberOr(state, "result").is_object())
    return Status::Internal("the phone's co-signature carries no signed prescription");
  job.vc = state["result"];
  job.steps.back() = Step("cosign", true, "co-signed on your phone");
  job.status = "signing";
  return Continue(owner, job);
}

// Postmark, keep, deliver, relationship: each step recorded, the first failure ends the job.
Result<DeskAnswer> PhysicianDesk::Continue(const std::string& owner, Job& job) {
  auto fail = [&](const char* step, const std::string& why) {
    job.steps.push_back(Step(step, false, why));
    job.status = "failed";
    return DeskAnswer{200, JobJson(job)};
  };
  MDL_ASSIGN_OR_RETURN(flow::Party me, Me());
  if (!ledger_) return fail("postmark", "this container has no ledger (--ledger)");
  auto digest = claims::CredentialDigest(job.vc);
  if (!digest) return fail("postmark", digest.error().message());
  auto index = flow::Postmark(*ledger_, HexEncode(*digest), me);
  if (!index) return fail("postmark", index.error().message());
  job.steps.push_back(Step("postmark", true, "ledger index " + std::to_string(*index)));
  json copy;
  if (!job.sd_jwt.empty()) {
    copy = {{"sd_jwt", job.sd_jwt}};
    if (!job.sd_cosign_approval.empty()) {
      MDL_ASSIGN_OR_RETURN(json state, as_.GetRequest(job.sd_cosign_approval));
      copy["cosignature"] = MemberOr(state, "result");
      job.sd_cosignature = copy["cosignature"];
    }
    auto copy_index = flow::Postmark(*ledger_, claims::SdJwtDigest(job.sd_jwt), me);
    if (!copy_index) return fail("postmark", copy_index.error().message());
  }
  uma::Reply kept = as_.StoreCredential(owner, job.vc);
  if (!kept.ok()) return fail("store", kept.status.message());
  job.steps.push_back(Step("store", true, "kept in your container"));
  json delivery = {{"credential", job.vc}};
  if (!copy.is_null()) delivery["pharmacy_copy"] = copy;
  if (notices_ && !options_.notices_url.empty()) {
    // Whose word about it she takes: its patient's (ReceiveNotice).
    Status st = notices_->Issued(HexEncode(*digest), job.patient_did, env_.clock->NowSeconds());
    if (!st.ok()) return fail("store", st.message());
    delivery["notices"] = options_.notices_url;
  }
  auto delivered = flow::Call("POST", job.patient_url + "/inbox/v1/credentials", "",
                              delivery.size() == 1 ? &job.vc : &delivery);
  if (!delivered || delivered->status != 201) {
    return fail("deliver", delivered ? "the patient's inbox answered " +
                                           std::to_string(delivered->status)
                                     : delivered.error().message());
  }
  job.steps.push_back(Step("deliver", true, "in the patient's inbox"));
  if (!job.pseudonym.empty()) {
    auto key = uma::DerivePairwiseKey(options_.seed->Reveal(), RelationshipIndex(job.pseudonym));
    if (!key) return fail("relationship", key.error().message());
    const std::string data_hash = HexEncode(*digest);
    auto entry = uma::BuildOpen(*key, job.pseudonym, "patient_provider", job.patient_url,
                                data_hash, env_.clock->NowSeconds());
    if (!entry) return fail("relationship", entry.error().message());
    auto appended = ledger_->Append(*entry);
    if (!appended) return fail("relationship", appended.error().message());
    job.steps.push_back(Step("relationship", true,
                             "opened on the ledger at index " + std::to_string(appended->index)));
  }
  job.status = "delivered";
  return DeskAnswer{201, JobJson(job)};
}

Result<DeskAnswer> PhysicianDesk::Prescriptions(const std::string& owner) {
  uma::Reply r = as_.ListCredentials(owner);
  if (!r.ok()) return r.status;
  Status fresh = ledger_ ? ledger_->Refresh().status() : Status::Unavailable("no ledger");
  // What her patients told her of refusals (physician_notices.h).
  Result<std::map<std::string, json>> refusals =
      notices_ ? notices_->Refusals() : std::map<std::string, json>{};
  json out = json::array();
  for (const json& item : r.body.is_array() ? r.body : json::array()) {
    if (!HasType(item, "PrescriptionCredential")) continue;
    const json& vc = MemberOr(item, "credential");
    if (claims::IssuerOf(vc) != options_.did) continue;
    const json& subject = MemberOr(vc, "credentialSubject");
    json row = {{"id", StringOr(item, "id")},
                {"medication", MedicationOf(vc)},
                {"patient", StringOr(subject, "id")},
                {"schedule", StringOr(subject, "controlledSubstanceSchedule")},
                {"issued", StringOr(vc, "validFrom")},
                {"delivered", true}};
    if (auto allowed = claims::AllowedFills(vc)) row["fills_allowed"] = *allowed;
    if (!fresh.ok()) {
      row["ledger_detail"] = fresh.message();
    } else {
      if (auto fills = FillsOnLedger(vc, *ledger_)) {
        uint32_t used = 0;
        for (const FillState& f : *fills) used += f.used ? 1 : 0;
        row["fills_used"] = used;
      }
      if (auto digest = claims::CredentialDigest(vc)) {
        auto found = ledger_->Lookup({ledger::KeyKind::kHash, HexEncode(*digest)});
        if (found && !found->empty()) {
          row["postmark"] = {{"index", found->front().index},
                             {"tree_size", found->front().tree_size},
                             {"proven", true}};
        } else {
          row["postmark"] = {{"proven", false},
                             {"detail", found ? "not on the ledger" : found.error().message()}};
        }
      }
    }
    if (refusals) {
      auto told = refusals->find(row["id"].get<std::string>());
      if (told != refusals->end()) row["refusals"] = told->second;
    }
    out.push_back(std::move(row));
  }
  std::reverse(out.begin(), out.end());
  // Whether "Send to a wallet" can work here (OfferPrescription; serve with --store).
  json answer = {{"prescriptions", out}, {"wallet_offers", oid4vci_ != nullptr}};
  if (!refusals) answer["refusals_detail"] = refusals.error().message();
  return DeskAnswer{200, std::move(answer)};
}

Result<DeskAnswer> PhysicianDesk::ReceiveNotice(const json& body) {
  if (!notices_ || options_.resolver == nullptr)
    return Status::NotFound("this workspace takes no notices");
  const json& token = MemberOr(body, "notice");
  if (!body.is_object() || body.size() != 1 || !token.is_string() ||
      token.get_ref<const std::string&>().size() > 16 * 1024) {
    return Status::InvalidArgument("the body is {\"notice\": <did-auth+jwt of at most 16 KiB>}");
  }
  const int64_t now = env_.clock->NowSeconds();
  MDL_ASSIGN_OR_RETURN(
      claims::RefusalNotice notice,
      claims::VerifyRefusalNotice(
          token.get_ref<const std::string&>(), options_.did, *options_.resolver,
          [this](const std::string& digest) { return notices_->SubjectOf(digest); }, now));
  MDL_ASSIGN_OR_RETURN(bool added, notices_->Keep(notice, now));
  return DeskAnswer{202, {{"received", true}, {"new", added}}};
}

// --- OpenID4VCI: her prescriptions to the patient's wallet (docs/openid4vc.md) ---

Status PhysicianDesk::EnableOid4vci(const std::string& db_path,
                                    const std::string& credential_issuer) {
  MDL_ASSIGN_OR_RETURN(flow::Party me, Me());
  oid4vc::IssuerOptions io;
  io.credential_issuer = credential_issuer;
  io.display_name = "Prescriber " + options_.did;
  io.tx_code_description = "The code your physician gave you with this prescription";
  io.signer = me.Signer(me.assertion);
  io.configurations.push_back(oid4vc::PrescriptionConfiguration(
      [this](const oid4vc::IssueRequest& r) { return IssueToWallet(r); }, &CheckWalletKey));
  MDL_ASSIGN_OR_RETURN(oid4vci_, oid4vc::Issuer::Open(db_path, std::move(io), env_));
  return Status::Ok();
}

Result<DeskAnswer> PhysicianDesk::OfferPrescription(const std::string& owner,
                                                    const std::string& id) {
  // The id is the prescribing job's (Prescribe's answer) or, as "My prescriptions" lists them,
  // the id her container keeps the prescription under; the pharmacy copy made at prescribing
  // (bound to the patient's pseudonym) goes with it while this workspace still holds it.
  json vc;
  {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(id);
    if (it != jobs_.end()) {
      if (it->second.status != "delivered")
        return Status::FailedPrecondition("only a signed and delivered prescription is offered");
      vc = it->second.vc;
    }
  }
  if (vc.is_null()) {
    uma::Reply r = as_.ListCredentials(owner);
    if (!r.ok()) return r.status;
    for (const json& item : r.body.is_array() ? r.body : json::array())
      if (StringOr(item, "id") == id && HasType(item, "PrescriptionCredential"))
        vc = MemberOr(item, "credential");
    if (vc.is_null()) return Status::NotFound("no such prescription");
  }
  json body = {{"prescription", vc}};
  {
    std::lock_guard lock(mu_);
    for (const auto& [job_id, j] : jobs_)
      if (j.status == "delivered" && !j.sd_jwt.empty() && j.vc == vc)
        body["pharmacy_copy"] = {{"sd_jwt", j.sd_jwt}, {"cosignature", j.sd_cosignature}};
  }
  return OfferDelivered(owner, body);
}

Result<DeskAnswer> PhysicianDesk::OfferDelivered(const std::string& owner, const json& body) {
  (void)owner;  // her session: she offers what she signed
  if (!oid4vci_)
    return Status::WithReason(StatusCode::kFailedPrecondition, "no_issuer",
                              "this workspace issues nothing over OpenID4VCI (it needs your "
                              "wallet: serve it with --store)");
  const json& vc = MemberOr(body, "prescription");
  const json& copy = MemberOr(body, "pharmacy_copy");
  if (!body.is_object() || !vc.is_object() || !(copy.is_null() || copy.is_object()))
    return Status::InvalidArgument(
        "the body is {\"prescription\": <PrescriptionCredential>, \"pharmacy_copy\"?: "
        "{\"sd_jwt\", \"cosignature\"?}}");
  const json& types = MemberOr(vc, "type");
  if (!types.is_array() ||
      std::find(types.begin(), types.end(), "PrescriptionCredential") == types.end())
    return Status::InvalidArgument("not a PrescriptionCredential");
  if (claims::IssuerOf(vc) != options_.did || !MemberOr(vc, "id").is_string())
    return Status::InvalidArgument("only a prescription you signed (with its id) is offered");
  const bool controlled =
      !StringOr(MemberOr(vc, "credentialSubject"), "controlledSubstanceSchedule").empty();
  json content = {{"vc", vc},
                  {"sd_jwt", ""},
                  {"pseudonym", ""},
                  {"cosignature", nullptr},
                  {"valid_until", env_.clock->NowSeconds() + 180 * 86400}};
  if (copy.is_object()) {
    // The pharmacy copy made at prescribing: hers, of this prescription; its cnf names the
    // patient's pairwise key (the holder pseudonym).
    const std::string sd_jwt = StringOr(copy, "sd_jwt");
    auto view = claims::InspectSdJwt(sd_jwt);
    if (!view) return Status::InvalidArgument("pharmacy_copy.sd_jwt: " + view.error().message());
    const json payload = json::parse(view->payload_json, nullptr, false);
    const json& cnf = MemberOr(MemberOr(payload, "cnf"), "jwk");
    if (StringOr(payload, "iss") != options_.did || MemberOr(payload, "jti") != vc["id"] ||
        StringOr(cnf, "kty") != "OKP" || StringOr(cnf, "x").empty())
      return Status::InvalidArgument(
          "pharmacy_copy is not this prescription's copy, signed by you and bound to a key");
    if (controlled && !MemberOr(copy, "cosignature").is_string())
      return Status::InvalidArgument("a controlled substance's copy comes with its co-signature");
    content["sd_jwt"] = sd_jwt;
    content["pseudonym"] = StringOr(cnf, "x");
    content["cosignature"] = MemberOr(copy, "cosignature");
    if (MemberOr(payload, "exp").is_number_integer()) content["valid_until"] = payload["exp"];
  } else if (controlled) {
    return Status::FailedPrecondition(
        "a controlled substance is offered with its co-signed pharmacy copy: prescribe it "
        "with the patient's pseudonym");
  }
  oid4vc::OfferRequest r;
  r.configuration_id = std::string(oid4vc::kPrescriptionSdJwtConfiguration);
  // Everything the credential endpoint needs, kept with the offer (the issuer's SQLite file),
  // so an offer outlives this workspace's memory of the prescription.
  r.claims_json = content.dump();
  r.tx_code = true;  // §4.1.1: told to the patient by another channel (spoken, printed)
  r.label = vc["id"].get<std::string>();
  MDL_ASSIGN_OR_RETURN(oid4vc::Offer offer, oid4vci_->CreateOffer(r));
  return DeskAnswer{201,
                    {{"prescription", r.label},
                     {"offer_uri", offer.uri},
                     {"offer_uri_by_reference", offer.uri_by_reference},
                     {"tx_code", offer.tx_code},
                     {"expires", offer.expires},
                     {"credential_offer", json::parse(offer.offer_json)}}};
}

// The wallet proved an Ed25519 key (the configuration takes EdDSA proofs only). Her own
// container proves her pairwise key for this physician — the pseudonym the copy made at
// prescribing is bound to — and gets that very copy: postmarked already and, for a controlled
// substance, with the phone's co-signature beside it (kPrescriberCosignatureMember). Any other
// key gets a new copy bound to it (cnf), postmarked now; a controlled substance's copy needs
// the phone's co-signature of its own, so another key is refused for one — by CheckWalletKey,
// before the access token is spent, so her container may still take the offer on that token.
Status PhysicianDesk::CheckWalletKey(const oid4vc::IssueRequest& r) {
  const json content = json::parse(r.claims_json, nullptr, false);
  const json jwk = json::parse(r.holder_jwk, nullptr, false);
  const std::string x = StringOr(jwk, "x");
  if (!content.is_object() || StringOr(jwk, "kty") != "OKP" || x.empty())
    return Status::Internal("the offer's content or the proven key is not what was stored");
  if (!StringOr(content, "sd_jwt").empty() && x == StringOr(content, "pseudonym"))
    return Status::Ok();
  const json& vc = MemberOr(content, "vc");
  if (!StringOr(MemberOr(vc, "credentialSubject"), "controlledSubstanceSchedule").empty())
    return Status::WithReason(StatusCode::kPermissionDenied, oid4vc::error::kCredentialRequestDenied,
                              "a controlled substance's copy is co-signed by the prescriber's "
                              "phone for the patient's pseudonym: prove that key");
  return Status::Ok();
}

Result<oid4vc::IssuedCredential> PhysicianDesk::IssueToWallet(const oid4vc::IssueRequest& r) {
  MDL_RETURN_IF_ERROR(CheckWalletKey(r));  // the issuer ran it already; kept for any caller
  const json content = json::parse(r.claims_json, nullptr, false);
  const std::string x = StringOr(json::parse(r.holder_jwk, nullptr, false), "x");
  const std::string sd_jwt = StringOr(content, "sd_jwt");
  if (!sd_jwt.empty() && x == StringOr(content, "pseudonym")) {
    json extra = json::object();
    if (MemberOr(content, "cosignature").is_string())
      extra[std::string(oid4vc::kPrescriberCosignatureMember)] = content["cosignature"];
    return oid4vc::IssuedCredential{json(sd_jwt).dump(), extra.dump()};
  }
  const json& vc = MemberOr(content, "vc");
  MDL_ASSIGN_OR_RETURN(flow::Party me, Me());
  const json& until = MemberOr(content, "valid_until");
  MDL_ASSIGN_OR_RETURN(std::string copy,
                       claims::IssuePrescriptionSdJwt(vc, me.Signer(me.assertion), x,
                                                      until.is_number_integer()
                                                          ? until.get<int64_t>()
                                                          : r.now + 180 * 86400,
                                                      env_));
  // The pharmacy finds the copy's postmark (SdJwtDigest) by its prescriber before it trusts it.
  std::lock_guard lock(mu_);  // the ledger client, as Continue uses it
  if (!ledger_)
    return Status::WithReason(StatusCode::kUnavailable, oid4vc::error::kCredentialRequestDenied,
                              "this workspace has no ledger to postmark the copy on");
  auto index = flow::Postmark(*ledger_, claims::SdJwtDigest(copy), me);
  if (!index)
    return Status::WithReason(StatusCode::kUnavailable, oid4vc::error::kCredentialRequestDenied,
                              "the copy could not be postmarked: " + index.error().message());
  return oid4vc::IssuedCredential{json(copy).dump(), ""};
}

}  // namespace medallion::roles
