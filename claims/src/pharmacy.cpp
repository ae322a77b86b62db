// The pharmacy verification pipeline and dispense records (docs/credentials.md).
#include "medallion/claims/pharmacy.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "medallion/claims/credentials.h"
#include "medallion/claims/data_integrity.h"
#include "medallion/claims/jose.h"
#include "medallion/claims/sd_jwt.h"
#include "medallion/core/json.h"
#include "medallion/core/encoding.h"
#include "medallion/core/hash.h"
#include "medallion/core/jcs.h"
#include "medallion/did/did_key.h"
#include "medallion/wallet/keys.h"

namespace medallion::claims {
namespace {

using nlohmann::json;

constexpr char kNullifierTag[] = "medallion/rx-nullifier/v1";
constexpr char kPseudonymTag[] = "medallion/pharmacy-pseudonym/v1";

// Key of the per-prescription HMACs: SHA-256(tag || the prescription's id). The id is a random
// urn:uuid known only to those who hold the prescription, in either form (the Data Integrity
// credential's `id`, the SD-JWT VC's `jti`), so both forms share one set of nullifiers.
Result<Hash256> NullifierKey(const std::string& id) {
  if (id.empty()) return Status::InvalidArgument("the prescription has no id");
  return Sha256(Concat(AsBytes(kNullifierTag), AsBytes(id)));
}
Result<Hash256> PrescriptionKey(const json& vc) {
  if (!vc.is_object() || !vc.contains("id") || !vc["id"].is_string())
    return Status::InvalidArgument("the prescription has no id");
  return NullifierKey(vc["id"].get<std::string>());
}

std::string Hex(ByteView b) { return HexEncode(b); }

const json* FindPrescription(const std::vector<json>& credentials) {
  const json* found = nullptr;
  for (const auto& vc : credentials) {
    const json& t = vc.contains("type") ? vc["type"] : json();
    const bool is_rx =
        t.is_array() && std::find(t.begin(), t.end(), "PrescriptionCredential") != t.end();
    if (is_rx) {
      if (found != nullptr) return nullptr;  // exactly one prescription per presentation
      found = &vc;
    }
  }
  return found;
}

struct Pseudonym {
  std::string did;
  SecretBytes seed;
  Bytes public_key;
};

Result<Pseudonym> PharmacyPseudonym(const SecretBytes& secret, const Hash256& rx_key) {
  Pseudonym p;
  auto mac = HmacSha256(secret.Reveal(), Concat(AsBytes(kPseudonymTag), rx_key));
  p.seed = SecretBytes::CopyFrom(mac);
  SecureWipe(mac.data(), mac.size());
  MDL_ASSIGN_OR_RETURN(wallet::SigningKey key,
                       wallet::MakeSigningKey(wallet::SignatureAlg::kEdDSA, p.seed.Reveal()));
  p.public_key = key.public_key;
  MDL_ASSIGN_OR_RETURN(p.did, did::DidKeyFromPublicKey(did::KeyType::kEd25519, p.public_key));
  return p;
}

Result<std::string> SignWithSeed(const SecretBytes& seed, const std::string& message) {
  MDL_ASSIGN_OR_RETURN(Bytes sig, wallet::SignEd25519WithSeed(seed.Reveal(), AsBytes(message)));
  return Base64UrlEncode(sig);
}

// A MedicationRequest's medication in words: the concept's text, else its first coding's
// display, else "".
std::string MedicationText(const json& rx) {
  if (!rx.is_object() || !rx.contains("medicationCodeableConcept")) return "";
  const json& m = rx["medicationCodeableConcept"];
  if (!m.is_object()) return "";
  if (m.contains("text") && m["text"].is_string()) return m["text"];
  if (m.contains("coding") && m["coding"].is_array() && !m["coding"].empty() &&
      m["coding"][0].is_object() && m["coding"][0].contains("display") &&
      m["coding"][0]["display"].is_string())
    return m["coding"][0]["display"];
  return "";
}

bool Listed(const std::vector<std::string>& ids, const std::string& id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

class InProcessLedgerPort final : public LedgerPort {
 public:
  explicit InProcessLedgerPort(ledger::Log* log) : log_(log) {}
  Result<std::vector<Record>> Find(const ledger::EntryKey& key) override {
    std::vector<Record> out;
    int64_t after = -1;
    for (;;) {
      MDL_ASSIGN_OR_RETURN(auto indices, log_->FindByKey(key, after, 100));
      for (uint64_t i : indices) {
        MDL_ASSIGN_OR_RETURN(auto leaves, log_->Entries(i, i + 1));
        out.push_back({i, leaves[0].entry});
        after = static_cast<int64_t>(i);
      }
      if (indices.size() < 100) return out;
    }
  }
  Result<ledger::AppendResult> Append(const json& entry) override {
    return log_->AppendSync(entry.dump());
  }
  std::string TrustedCheckpoint() override { return log_->CheckpointNote(); }

 private:
  ledger::Log* log_;
};

}  // namespace

json DispenseResult::ToJson() const {
  json steps_json = json::array();
  for (const auto& s : steps)
    steps_json.push_back({{"step", s.step}, {"ok", s.ok}, {"detail", s.detail}});
  json j = {{"reason", reason}, {"detail", detail}, {"steps", steps_json}};
  if (ok() && !held) {
    j["fill"] = fill;
    j["fills_allowed"] = fills_allowed;
    j["dispense_index"] = dispense_index;
    j["prescription_digest"] = prescription_digest;
    j["receipt"] = json::parse(receipt_json);
  }
  if (!disclosed.empty()) j["disclosed"] = disclosed;
  if (held) {
    j["held"] = true;
    j["fill"] = fill;
    j["fills_allowed"] = fills_allowed;
    j["prescription_digest"] = prescription_digest;
  }
  json presented = json::object();
  if (!medication.empty()) presented["medication"] = medication;
  if (quantity > 0) presented["quantity"] = quantity;
  if (!prescriber.empty()) presented["prescriber"] = prescriber;
  presented["schedule"] = schedule.empty() ? json(nullptr) : json(schedule);
  if (!holder.empty()) presented["holder"] = holder;
  j["presented"] = presented;
  return j;
}

Result<std::string> DispenseNullifier(const json& prescription_vc, uint32_t n) {
  MDL_ASSIGN_OR_RETURN(Hash256 key, PrescriptionKey(prescription_vc));
  auto mac = HmacSha256(key, AsBytes("fill:" + std::to_string(n)));
  return Hex(mac);
}

namespace {

// What the two front ends (a Data Integrity presentation, an SD-JWT VC presentation) establish
// about the presented prescription before the shared checks and the dispense.
struct RxFacts {
  std::string prescriber;
  std::string schedule;  // "" for a non-controlled drug
  const json* license = nullptr;
  std::string holder;  // the receipt's subject ("" if the patient did not disclose it)
  Hash256 rx_key{};    // NullifierKey of the prescription's id
  uint32_t fills_allowed = 0;
  json quantity;
  std::optional<uint64_t> postmark_index;
  std::function<Status()> patient_approval;  // controlled substances
  std::string medication;                    // the prescription's medication, in words
};

// What steps 1-9 established, for the dispense record and the receipt (steps 10-11).
struct Verified {
  std::string nullifier;
  uint32_t next = 0;  // 0-based fill
  json quantity;
  std::string holder;
  json license;  // for the status check again at the counter's "dispense"
};

}  // namespace

// A presentation verified and held for the pharmacist (VerifyAndDispense with hold).
struct HeldDispense {
  DispenseResult result;  // the steps so far
  Verified verified;
  Hash256 rx_key{};
};

namespace {

// One run of the pipeline: the steps passed so far and the refusal, if any.
class Pipeline {
 public:
  Pipeline(const PharmacyConfig& config, const did::Resolver& resolver, LedgerPort& ledger, Env env)
      : config_(config),
        resolver_(resolver),
        ledger_(ledger),
        now_(env.clock->NowSeconds()) {}
  DispenseResult out;
  int64_t now() const { return now_; }
  bool Step(const char* name, bool ok, std::string detail = "") {
    out.steps.push_back({name, ok, std::move(detail)});
    return ok;
  }
  DispenseResult Fail(const char* reason, const char* name, std::string detail) {
    Refuse(reason, name, std::move(detail));
    return out;
  }
  bool Refuse(const char* reason, const char* name, std::string detail) {
    Step(name, false, detail);
    out.reason = reason;
    out.detail = std::move(detail);
    return false;
  }
  bool Configured() const {
    return config_.pseudonym_secret != nullptr && config_.pseudonym_secret->size() == 32;
  }

  // The postmark of `digest_hex` by `prescriber`, looked up first (quietly) so that the
  // prescriber's keys are resolved as of the postmark: a key rotated away later still counts
  // for what it signed before. Errors: the ledger's.
  Result<std::optional<uint64_t>> FindPostmark(const std::string& digest_hex,
                                               const std::string& prescriber,
                                               int64_t* ts = nullptr) {
    MDL_ASSIGN_OR_RETURN(auto postmarks, ledger_.Find({ledger::KeyKind::kHash, digest_hex}));
    for (const auto& r : postmarks) {
      auto e = jcs::ParseStrict(r.entry);
      if (e && e->value("type", "") == "anchor" && e->value("kind", "") == "credential" &&
          e->value("by", prescriber) == prescriber) {
        if (ts != nullptr && (*e)["ts"].is_number_integer()) *ts = (*e)["ts"].get<int64_t>();
        return std::optional<uint64_t>(r.index);
      }
    }
    return std::optional<uint64_t>();
  }
  static did::ResolutionOptions AsOf(const std::optional<uint64_t>& postmark,
                                     const std::string& prescriber) {
    did::ResolutionOptions as_of;
    if (postmark && did::DidMethod(prescriber) == "mdl") as_of.ledger_position = *postmark + 1;
    return as_of;
  }

  // Issuer DID resolution (as of the postmark): not deactivated. Sets `doc`.
  bool ResolveIssuer(const std::string& prescriber, const did::ResolutionOptions& as_of,
                     did::ResolutionResult& doc) {
    doc = resolver_.Resolve(prescriber, as_of);
    if (!doc.ok() || doc.metadata.deactivated) {
      Fail(rx_reason::kIssuerUnresolved, "issuer_resolution",
           doc.ok() ? prescriber + " is deactivated" : doc.error + ": " + doc.error_message);
      return false;
    }
    return Step(
        "issuer_resolution", true,
        prescriber + (doc.metadata.version_id ? " version " + *doc.metadata.version_id : ""));
  }

  // Steps 4-11, the same for both forms: license proof and status, schedule, postmark, fills,
  // the patient's approval (Check), the dispense record and the receipt (Dispense). With
  // `hold`, stops before the dispense record and keeps what it needs in out.held.
  DispenseResult Finish(const RxFacts& f, const LicenseStatusCheck& license_status, bool hold) {
    out.medication = f.medication;
    out.prescriber = f.prescriber;
    out.schedule = f.schedule;
    out.holder = f.holder;
    out.quantity = f.quantity.is_number_integer() ? f.quantity.get<int64_t>() : 0;
    Verified v;
    if (!Check(f, license_status, v)) return out;
    if (hold) {
      out.fill = v.next + 1;
      auto held = std::make_shared<HeldDispense>();
      held->result = out;
      held->verified = std::move(v);
      held->rx_key = f.rx_key;
      out.held = std::move(held);
      return out;
    }
    return Dispense(f.rx_key, v);
  }

  // The license's status again (it may have changed while the pharmacist looked), then steps
  // 10-11.
  DispenseResult Commit(const HeldDispense& held, const LicenseStatusCheck& license_status) {
    out = held.result;
    out.held.reset();
    if (!LicenseActive(held.verified.license, license_status)) return out;
    return Dispense(held.rx_key, held.verified);
  }

  // Step 5: the license's status (revocation and suspension lists). False (refused) unless
  // active.
  bool LicenseActive(const json& license, const LicenseStatusCheck& license_status) {
    Status status = license_status ? license_status(license)
                                   : Status::Unavailable("no status checker configured");
    if (!status.ok()) {
      // A failed_precondition without a reason is a revocation (LicenseStatusCheck's contract).
      const char* reason =
          status.reason() == rx_reason::kLicenseSuspended    ? rx_reason::kLicenseSuspended
          : status.code() == StatusCode::kFailedPrecondition ? rx_reason::kLicenseRevoked
                                                             : rx_reason::kLicenseStatusUnavailable;
      return Refuse(reason, "license_status", status.message());
    }
    return true;
  }

  // Steps 4-9. False (with out set) on a refusal.
  bool Check(const RxFacts& f, const LicenseStatusCheck& license_status, Verified& v) {
    // 4. The license credential (evidence) and its proof.
    const json& license = *f.license;
    if (Status st = CheckLicenseCredential(license); !st.ok())
      return Refuse(rx_reason::kLicenseMalformed, "license_proof", st.message());
    const std::string society = IssuerOf(license);
    if (!Listed(config_.trusted_license_issuers, society)) {
      return Refuse(rx_reason::kLicenseIssuerUntrusted, "license_proof",
                  society + " is not a licensing body this pharmacy trusts");
    }
    ProofCheckOptions lo;
    lo.expected_purpose = "assertionMethod";
    lo.now = now_;
    lo.max_clock_skew = config_.max_clock_skew;
    auto license_proofs = VerifyProofs(license, resolver_, lo);
    if (!license_proofs)
      return Refuse(rx_reason::kLicenseProof, "license_proof", license_proofs.error().message());
    for (const auto& p : *license_proofs) {
      if (p.controller != society)
        return Refuse(rx_reason::kLicenseProof, "license_proof",
                    "a license proof is not by its issuer");
    }
    if (StringOr(license["credentialSubject"], "id") != f.prescriber) {
      return Refuse(rx_reason::kLicenseNotPrescriber, "license_proof",
                  "the license is not the prescriber's");
    }
    if (Status st = CheckCredential(license, now_, config_.max_clock_skew); !st.ok()) {
      const char* reason = st.reason() == vc_reason::kExpired       ? rx_reason::kLicenseExpired
                           : st.reason() == vc_reason::kNotYetValid ? rx_reason::kLicenseNotYetValid
                                                                    : rx_reason::kLicenseMalformed;
      return Refuse(reason, "license_proof", st.message());
    }
    Step("license_proof", true, "issued by " + society);

    // 5. License status (revocation and suspension lists).
    if (!LicenseActive(license, license_status)) return false;
    Step("license_status", true, "active");

    // 6. The license covers the schedule.
    if (!f.schedule.empty()) {
      const json& covered =
          license["credentialSubject"].value("controlledSubstanceSchedules", json::array());
      if (std::find(covered.begin(), covered.end(), f.schedule) == covered.end()) {
        return Refuse(rx_reason::kScheduleNotCovered, "schedule",
                    "the license does not cover schedule " + f.schedule);
      }
    }
    Step("schedule", true,
         f.schedule.empty() ? "not a controlled substance" : "schedule " + f.schedule + " covered");

    // 7. The postmark: the prescription's digest anchored on the ledger (inclusion proven).
    if (!f.postmark_index)
      return Refuse(rx_reason::kPostmarkMissing, "postmark",
                  "no anchor of " + out.prescription_digest);
    Step("postmark", true, "ledger index " + std::to_string(*f.postmark_index));

    // 8. Remaining fills from the ledger's dispense records.
    out.fills_allowed = f.fills_allowed;
    auto me = PharmacyPseudonym(*config_.pseudonym_secret, f.rx_key);
    if (!me) return Refuse(rx_reason::kMalformed, "fills", me.error().message());
    std::optional<uint32_t> next;
    std::string nullifier;
    for (uint32_t n = 0; n < f.fills_allowed; ++n) {
      const std::string nf = Hex(HmacSha256(f.rx_key, AsBytes("fill:" + std::to_string(n))));
      auto used = ledger_.Find({ledger::KeyKind::kNullifier, nf});
      if (!used) return Refuse(rx_reason::kLedgerUnavailable, "fills", used.error().message());
      if (used->empty()) {
        next = n;
        nullifier = nf;
        break;
      }
      if (n == 0) {
        auto first = jcs::ParseStrict((*used)[0].entry);
        if (!first || first->value("pharmacy", "") != me->did) {
          return Refuse(rx_reason::kDispensedElsewhere, "fills",
                      "this prescription is being filled at another pharmacy");
        }
      }
    }
    if (!next)
      return Refuse(rx_reason::kAlreadyDispensed, "fills",
                  "all " + std::to_string(f.fills_allowed) + " fill(s) dispensed");
    Step("fills", true,
         "fill " + std::to_string(*next + 1) + " of " + std::to_string(f.fills_allowed));

    // 9. Controlled substances: the patient's phone approved this fill.
    if (!f.schedule.empty()) {
      Status approved =
          f.patient_approval ? f.patient_approval() : Status::PermissionDenied("no approval");
      if (!approved.ok())
        return Refuse(rx_reason::kPatientApprovalMissing, "patient_approval", approved.message());
      Step("patient_approval", true, "approved on the patient's phone");
    }

    v.nullifier = nullifier;
    v.next = *next;
    v.quantity = f.quantity;
    v.holder = f.holder;
    v.license = license;
    return true;
  }

  // Steps 10-11.
  DispenseResult Dispense(const Hash256& rx_key, const Verified& v) {
    const std::string& nullifier = v.nullifier;
    auto me = PharmacyPseudonym(*config_.pseudonym_secret, rx_key);
    if (!me) return Fail(rx_reason::kMalformed, "dispense", me.error().message());
    // 10. The dispense record: nullifier, an unlinkable commitment, the pharmacy's pseudonym.
    auto commitment = HmacSha256(rx_key, AsBytes("commitment"));
    json record = {{"type", "dispense"},
                   {"v", 1},
                   {"nullifier", nullifier},
                   {"rx", Hex(commitment)},
                   {"pharmacy", me->did},
                   {"qty", v.quantity.is_number_integer() ? v.quantity.get<uint64_t>() : 1},
                   {"ts", now_}};
    auto to_sign = jcs::Canonicalize(record);
    auto sig = SignWithSeed(me->seed, *to_sign);
    record["sig"] = *sig;
    auto appended = ledger_.Append(record);
    if (!appended) {
      if (appended.error().code() == StatusCode::kAlreadyExists) {
        return Fail(rx_reason::kAlreadyDispensed, "dispense",
                    "another pharmacy or request used this fill first");
      }
      return Fail(rx_reason::kLedgerUnavailable, "dispense", appended.error().message());
    }
    out.fill = v.next + 1;
    out.dispense_index = appended->index;
    // The receipt must name a checkpoint that includes the record, so that it proves its own
    // record: wait (bounded) until the ledger's checkpoint covers it and it is proven there.
    bool proven = false;
    for (int attempt = 0; attempt < 100 && !proven; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      auto found = ledger_.Find({ledger::KeyKind::kNullifier, nullifier});
      proven = found.has_value() &&
               std::any_of(found->begin(), found->end(),
                           [&](const LedgerPort::Record& r) { return r.index == appended->index; });
    }
    if (!proven)
      return Fail(rx_reason::kLedgerUnavailable, "dispense",
                  "the dispense record is not covered by a checkpoint yet");
    Step("dispense", true,
         "dispense record at ledger index " + std::to_string(appended->index) +
             ", proven in the checkpoint");

    // 11. The signed receipt.
    json subject = {{"prescriptionDigest", out.prescription_digest},
                    {"fill", out.fill},
                    {"fillsAllowed", out.fills_allowed},
                    {"ledgerIndex", out.dispense_index},
                    {"checkpoint", ledger_.TrustedCheckpoint()}};
    if (!v.holder.empty()) subject["id"] = v.holder;
    json receipt = {{"@context", {kVcContextV2, kMedallionContext}},
                    {"type", {"VerifiableCredential", "DispenseReceipt"}},
                    {"issuer", config_.pharmacy_did},
                    {"validFrom", did::XmlDateTime(now_)},
                    {"credentialSubject", subject}};
    ProofOptions ro;
    ro.created = did::XmlDateTime(now_);
    auto signed_receipt = AddProof(receipt, config_.receipt_signer, ro);
    if (!signed_receipt)
      return Fail(rx_reason::kMalformed, "receipt", signed_receipt.error().message());
    out.receipt_json = signed_receipt->dump();
    Step("receipt", true, "signed by " + config_.pharmacy_did);
    return out;
  }

 private:
  const PharmacyConfig& config_;
  const did::Resolver& resolver_;
  LedgerPort& ledger_;
  int64_t now_;
};

}  // namespace

DispenseResult VerifyAndDispense(const json& vp, const PharmacyConfig& config,
                                 const did::Resolver& resolver, ChallengeStore& challenges,
                                 LedgerPort& ledger, const LicenseStatusCheck& license_status,
                                 const std::function<Status(const json&)>& approval_check, Env env,
                                 bool hold) {
  Pipeline p(config, resolver, ledger, env);
  const int64_t now = p.now();
  if (!p.Configured())
    return p.Fail(rx_reason::kMalformed, "configuration", "the pharmacy has no pseudonym secret");

  // 1. Holder binding and challenge.
  auto presented = VerifyPresentation(vp, resolver, challenges, config.domain, now);
  if (!presented) {
    const std::string& why = presented.error().reason();
    const bool challenge = why == presentation_reason::kChallengeUnknown ||
                           why == presentation_reason::kChallengeExpired ||
                           why == presentation_reason::kDomainMismatch;
    // A DID that could not be resolved because the ledger is unreachable is the ledger's
    // outage, not a failed binding: the answer must say "try again", not "refused".
    if (presented.error().code() == StatusCode::kUnavailable)
      return p.Fail(rx_reason::kLedgerUnavailable, "holder_binding", presented.error().message());
    return p.Fail(challenge ? rx_reason::kChallenge : rx_reason::kHolderBinding, "holder_binding",
                  presented.error().message());
  }
  p.Step("holder_binding", true, presented->holder);
  const json* rx = FindPrescription(presented->credentials);
  if (rx == nullptr)
    return p.Fail(rx_reason::kNotPrescription, "prescription",
                  "exactly one PrescriptionCredential expected");
  if (Status st = CheckPrescriptionCredential(*rx); !st.ok())
    return p.Fail(rx_reason::kNotPrescription, "prescription", st.message());
  if (Status st = CheckCredential(*rx, now, config.max_clock_skew); !st.ok()) {
    return p.Fail(rx_reason::kPrescriptionExpired, "prescription", st.message());
  }
  RxFacts f;
  f.prescriber = IssuerOf(*rx);
  const json& subject = (*rx)["credentialSubject"];
  f.schedule = subject.value("controlledSubstanceSchedule", "");
  auto digest = CredentialDigest(*rx);
  if (!digest) return p.Fail(rx_reason::kMalformed, "prescription", digest.error().message());
  p.out.prescription_digest = Hex(*digest);
  auto postmark = p.FindPostmark(p.out.prescription_digest, f.prescriber);
  if (!postmark)
    return p.Fail(rx_reason::kLedgerUnavailable, "postmark", postmark.error().message());
  f.postmark_index = *postmark;
  const did::ResolutionOptions as_of = Pipeline::AsOf(f.postmark_index, f.prescriber);

  // 2. Prescription proofs (a proof set: the physician's assertion key, and for a controlled
  //    substance also her phone's key).
  ProofCheckOptions po;
  po.expected_purpose = "assertionMethod";
  po.now = now;
  po.max_clock_skew = config.max_clock_skew;
  po.resolution = as_of;
  auto proofs = VerifyProofs(*rx, resolver, po);
  if (!proofs) {
    // The prescriber's DID unresolvable because the ledger is down: an outage, not a refusal.
    return p.Fail(proofs.error().code() == StatusCode::kUnavailable ? rx_reason::kLedgerUnavailable
                                                                   : rx_reason::kPrescriptionProof,
                  "prescription_proofs", proofs.error().message());
  }
  for (const auto& pr : *proofs) {
    if (pr.controller != f.prescriber)
      return p.Fail(rx_reason::kPrescriptionProof, "prescription_proofs",
                    "a proof is not by the prescriber");
  }
  p.Step("prescription_proofs", true,
         std::to_string(proofs->size()) + " proof(s) by " + f.prescriber);

  // 3. Issuer DID resolution; a controlled substance needs the phone's proof: the device key is
  //    listed under both authentication and assertionMethod.
  did::ResolutionResult issuer_doc;
  if (!p.ResolveIssuer(f.prescriber, as_of, issuer_doc)) return p.out;
  if (!f.schedule.empty()) {
    bool phone = false;
    for (const auto& pr : *proofs) {
      phone |= Listed(issuer_doc.document->authentication, pr.verification_method) &&
               Listed(issuer_doc.document->assertion_method, pr.verification_method);
    }
    if (proofs->size() < 2 || !phone) {
      return p.Fail(rx_reason::kPhoneProofMissing, "prescription_proofs",
                    "schedule " + f.schedule + " needs the prescriber's phone proof");
    }
  }
  auto allowed = AllowedFills(*rx);
  if (!allowed) return p.Fail(rx_reason::kMalformed, "fills", allowed.error().message());
  auto key = PrescriptionKey(*rx);
  if (!key) return p.Fail(rx_reason::kMalformed, "fills", key.error().message());
  f.rx_key = *key;
  f.fills_allowed = *allowed;
  f.license = &(*rx)["evidence"][0]["licenseCredential"];
  f.holder = presented->holder;
  f.quantity = subject["prescription"]["dispenseRequest"]["quantity"]["value"];
  f.patient_approval = [&] {
    return approval_check ? approval_check(*rx) : Status::PermissionDenied("no approval");
  };
  f.medication = MedicationText(subject["prescription"]);
  return p.Finish(f, license_status, hold);
}

// --- the SD-JWT VC form ---

namespace {

// Members of the MedicationRequest a pharmacy does not need to dispense.
constexpr const char* kHiddenFhir[] = {"subject",    "requester", "authoredOn", "dosageInstruction",
                                       "id",         "meta",      "note",       "reasonCode",
                                       "identifier", "encounter"};

// The payload of a compact JWS, parsed but not verified.
Result<json> UnverifiedPayload(std::string_view jws) {
  const size_t d1 = jws.find('.');
  const size_t d2 = d1 == std::string_view::npos ? d1 : jws.find('.', d1 + 1);
  if (d2 == std::string_view::npos) return Status::InvalidArgument("not a compact JWS");
  MDL_ASSIGN_OR_RETURN(Bytes payload, Base64UrlDecode(jws.substr(d1 + 1, d2 - d1 - 1)));
  MDL_ASSIGN_OR_RETURN(json j, jcs::ParseStrict(ToString(payload)));
  if (!j.is_object()) return Status::InvalidArgument("the JWS payload is not an object");
  return j;
}

// A phone's approval: a did-auth+jwt for `audience` by a device key of `did` (a method under
// both authentication and assertionMethod, resolved with `as_of`) whose claim "prescription" is
// `digest_hex`, valid at `at`. OK, or permission_denied prefixed with `what`.
Status VerifyDeviceApproval(std::string_view token, const char* what, const std::string& did,
                            const std::string& digest_hex, const std::string& audience,
                            const did::Resolver& resolver, const did::ResolutionOptions& as_of,
                            int64_t at) {
  const std::string prefix = std::string(what) + ": ";
  if (token.empty()) return Status::PermissionDenied(prefix + "missing");
  JwtCheckOptions co;
  co.now = at;
  co.expected_audience = audience;
  co.resolution = as_of;
  VerifiedJwt info;
  auto payload = VerifyJwt(JwtKind::kDidAuth, token, resolver, co, &info);
  if (!payload) return Status::PermissionDenied(prefix + payload.error().message());
  if (info.controller != did) return Status::PermissionDenied(prefix + "not signed by " + did);
  auto doc = resolver.Resolve(did, as_of);
  if (!doc.ok() || !Listed(doc.document->authentication, info.kid) ||
      !Listed(doc.document->assertion_method, info.kid)) {
    return Status::PermissionDenied(prefix + "not signed with the phone's (device) key");
  }
  if (payload->value("prescription", "") != digest_hex)
    return Status::PermissionDenied(prefix + "for another prescription");
  return Status::Ok();
}

}  // namespace

Result<std::string> IssuePrescriptionSdJwt(const json& vc, const Signer& prescriber,
                                           const std::string& holder_pseudonym, int64_t valid_until,
                                           const Env& env) {
  MDL_RETURN_IF_ERROR(CheckPrescriptionCredential(vc));
  if (!vc.contains("id") || !vc["id"].is_string())
    return Status::InvalidArgument("the prescription has no id");
  MDL_ASSIGN_OR_RETURN(Bytes holder, Base64UrlDecode(holder_pseudonym));
  if (holder.size() != 32)
    return Status::InvalidArgument("the holder pseudonym is not an Ed25519 public key");
  const json& subject = vc["credentialSubject"];
  json payload = {{"vct", kPrescriptionVct},
                  {"iss", IssuerOf(vc)},
                  {"jti", vc["id"]},
                  {"exp", valid_until},
                  {"sub", subject.value("id", "")},
                  {"prescription", subject["prescription"]},
                  {"license", vc["evidence"][0]["licenseCredential"]}};
  const std::string schedule = subject.value("controlledSubstanceSchedule", "");
  if (!schedule.empty()) payload["controlledSubstanceSchedule"] = schedule;
  SdJwtIssueOptions o;
  o.disclosable = {"/sub"};
  for (const char* member : kHiddenFhir) {
    if (payload["prescription"].contains(member))
      o.disclosable.push_back(std::string("/prescription/") + member);
  }
  o.min_decoys = 1;
  o.max_decoys = 3;
  o.holder = HolderKey{Alg::kEdDSA, holder};
  return IssueSdJwt(payload, prescriber, o, env);
}

std::vector<std::string> PharmacyReveal(const json& holder_payload) {
  if (holder_payload.is_object() && holder_payload.contains("controlledSubstanceSchedule"))
    return {"/sub"};
  return {};
}

std::string SdJwtDigest(std::string_view sd_jwt) {
  const std::string_view issuer_jwt = sd_jwt.substr(0, sd_jwt.find('~'));
  return Hex(Sha256(AsBytes(issuer_jwt)));
}

DispenseResult VerifyAndDispenseSdJwt(const SdJwtDispenseRequest& request,
                                      const PharmacyConfig& config, const did::Resolver& resolver,
                                      ChallengeStore& challenges, LedgerPort& ledger,
                                      const LicenseStatusCheck& license_status, Env env,
                                      bool hold) {
  Pipeline p(config, resolver, ledger, env);
  const int64_t now = p.now();
  if (!p.Configured())
    return p.Fail(rx_reason::kMalformed, "configuration", "the pharmacy has no pseudonym secret");
  const std::string& pres = request.presentation;
  if (pres.empty() || pres.size() > kMaxSdJwtBytes || pres.back() == '~' ||
      pres.find('~') == std::string::npos) {
    return p.Fail(rx_reason::kHolderBinding, "holder_binding",
                  "an SD-JWT with a key binding JWT is required");
  }
  // 1. The challenge: the KB-JWT's nonce, consumed once (before anything else is checked).
  auto kb = UnverifiedPayload(std::string_view(pres).substr(pres.rfind('~') + 1));
  if (!kb || !(*kb)["nonce"].is_string())
    return p.Fail(rx_reason::kHolderBinding, "holder_binding", "the key binding JWT has no nonce");
  const std::string nonce = (*kb)["nonce"];
  if (Status st = challenges.Consume(nonce, config.domain); !st.ok())
    return p.Fail(rx_reason::kChallenge, "holder_binding", st.message());
  auto issued = UnverifiedPayload(std::string_view(pres).substr(0, pres.find('~')));
  if (!issued || !(*issued)["iss"].is_string())
    return p.Fail(rx_reason::kMalformed, "prescription", "the SD-JWT has no issuer");
  RxFacts f;
  f.prescriber = (*issued)["iss"];
  p.out.prescription_digest = SdJwtDigest(pres);
  int64_t postmark_ts = 0;
  auto postmark = p.FindPostmark(p.out.prescription_digest, f.prescriber, &postmark_ts);
  if (!postmark)
    return p.Fail(rx_reason::kLedgerUnavailable, "postmark", postmark.error().message());
  f.postmark_index = *postmark;
  const did::ResolutionOptions as_of = Pipeline::AsOf(f.postmark_index, f.prescriber);

  // 2. The SD-JWT: issuer signature (as of the postmark), disclosures, key binding.
  SdJwtVerifyOptions vo;
  vo.expected_vct = kPrescriptionVct;
  vo.expected_audience = config.domain;
  vo.expected_nonce = nonce;
  vo.resolution = as_of;
  auto verified = VerifySdJwt(pres, resolver, vo, *env.clock);
  if (!verified) {
    const std::string code(ReasonCode(verified.error()));
    const char* reason =
        code.rfind("kb_", 0) == 0 || code == sd_jwt_reason::kNonceMismatch ||
                code == sd_jwt_reason::kAudienceMismatch ||
                code == sd_jwt_reason::kSdHashMismatch || code == sd_jwt_reason::kCnfMissing
            ? rx_reason::kHolderBinding
        : code == sd_jwt_reason::kExpired || code == sd_jwt_reason::kNotYetValid
            ? rx_reason::kPrescriptionExpired
        : code == sd_jwt_reason::kSignatureInvalid || code == sd_jwt_reason::kIssuerUnresolved ||
                code == sd_jwt_reason::kIssuerMismatch || code == sd_jwt_reason::kAlgMismatch
            ? rx_reason::kPrescriptionProof
            : rx_reason::kMalformed;
    // The issuer's DID unresolvable because the ledger is down: an outage, not a refusal.
    if (verified.error().code() == StatusCode::kUnavailable)
      return p.Fail(rx_reason::kLedgerUnavailable, "holder_binding", verified.error().message());
    return p.Fail(reason, "holder_binding", verified.error().message());
  }
  p.out.disclosed = verified->disclosed;
  p.Step("holder_binding", true,
         "SD-JWT VC bound to the presenter's key; " + std::to_string(verified->disclosed.size()) +
             " claim(s) disclosed");
  auto payload = jcs::ParseStrict(verified->payload_json);
  if (!payload || verified->issuer != f.prescriber)
    return p.Fail(rx_reason::kMalformed, "prescription", "the SD-JWT payload");
  // The disclosed prescription: what a pharmacy needs to dispense.
  const json& rx = (*payload)["prescription"];
  const json* quantity = rx.is_object() && rx["dispenseRequest"].is_object() &&
                                 rx["dispenseRequest"]["quantity"].is_object()
                             ? &rx["dispenseRequest"]["quantity"]["value"]
                             : nullptr;
  const json* repeats = rx.is_object() && rx["dispenseRequest"].is_object()
                            ? &rx["dispenseRequest"]["numberOfRepeatsAllowed"]
                            : nullptr;
  if (!rx.is_object() || rx.value("resourceType", "") != "MedicationRequest" ||
      !rx["medicationCodeableConcept"].is_object() || quantity == nullptr ||
      !quantity->is_number_integer() || quantity->get<int64_t>() <= 0 || repeats == nullptr ||
      !repeats->is_number_integer() || repeats->get<int64_t>() < 0 ||
      repeats->get<int64_t>() > 99 || !(*payload)["jti"].is_string() ||
      !(*payload)["license"].is_object()) {
    return p.Fail(rx_reason::kNotPrescription, "prescription",
                  "medication, quantity, repeats, jti and license must be disclosed");
  }
  f.schedule = payload->value("controlledSubstanceSchedule", "");
  p.Step("prescription_proofs", true,
         "signed by " + f.prescriber + " (" + verified->verification_method + ")");

  // 3. Issuer DID; a controlled substance needs the prescriber's phone co-signature.
  did::ResolutionResult issuer_doc;
  if (!p.ResolveIssuer(f.prescriber, as_of, issuer_doc)) return p.out;
  if (!f.schedule.empty()) {
    Status cosigned =
        VerifyDeviceApproval(request.cosignature, "the prescriber's phone co-signature",
                             f.prescriber, p.out.prescription_digest, kCosignAudience, resolver,
                             as_of, postmark_ts > 0 ? postmark_ts : now);
    if (!cosigned.ok())
      return p.Fail(rx_reason::kPhoneProofMissing, "prescription_proofs", cosigned.message());
  }
  auto key = NullifierKey((*payload)["jti"].get<std::string>());
  if (!key) return p.Fail(rx_reason::kMalformed, "fills", key.error().message());
  f.rx_key = *key;
  f.fills_allowed = 1 + static_cast<uint32_t>(repeats->get<int64_t>());
  f.quantity = *quantity;
  f.license = &(*payload)["license"];
  f.holder = payload->value("sub", "");
  const std::string digest = p.out.prescription_digest;
  f.patient_approval = [&] {
    if (f.holder.empty())
      return Status::PermissionDenied(
          "the patient's DID was not disclosed: her phone's approval cannot be checked");
    return VerifyFillAuthorizationFor(request.fill_authorization, f.holder, digest, config.domain,
                                      resolver, now);
  };
  f.medication = MedicationText(rx);
  return p.Finish(f, license_status, hold);
}

DispenseResult CommitHeldDispense(const HeldDispense& held, const PharmacyConfig& config,
                                  const did::Resolver& resolver, LedgerPort& ledger,
                                  const LicenseStatusCheck& license_status, Env env) {
  Pipeline p(config, resolver, ledger, env);
  if (!p.Configured())
    return p.Fail(rx_reason::kMalformed, "configuration", "the pharmacy has no pseudonym secret");
  return p.Commit(held, license_status);
}

LicenseStatusCheck MakeLicenseStatusCheck(StatusChecker& checker) {
  return [&checker](const json& license) -> Status {
    auto cs = license.find("credentialStatus");
    auto unavailable = [](std::string m) {
      return Status(StatusCode::kUnavailable, std::move(m), rx_reason::kLicenseStatusUnavailable);
    };
    if (cs == license.end()) return unavailable("the license carries no status entry");
    std::vector<json> entries;
    if (cs->is_array()) {
      entries.assign(cs->begin(), cs->end());
    } else {
      entries.push_back(*cs);
    }
    if (entries.empty()) return unavailable("the license carries no status entry");
    Status suspended = Status::Ok();
    for (const auto& entry : entries) {
      auto r = checker.Check(entry);
      if (!r) return unavailable("status list: " + r.error().message());
      if (!r->set) continue;
      if (r->purpose == StatusPurpose::kRevocation) {
        return Status(StatusCode::kFailedPrecondition, "revoked (" + r->list_url + ")",
                      rx_reason::kLicenseRevoked);
      }
      suspended = Status(StatusCode::kFailedPrecondition, "suspended (" + r->list_url + ")",
                         rx_reason::kLicenseSuspended);
    }
    return suspended;
  };
}

Status SdJwtLicenseStatus(const LicenseStatusCheck& check, const json& sd_jwt_payload) {
  const json* entries = nullptr;
  if (sd_jwt_payload.is_object()) {
    auto status = sd_jwt_payload.find("status");
    if (status != sd_jwt_payload.end() && status->is_object()) {
      auto it = status->find(kBitstringStatusMechanism);
      if (it != status->end() && (it->is_object() || it->is_array())) entries = &*it;
    }
  }
  if (entries == nullptr)
    return Status(StatusCode::kUnavailable,
                  std::string("the license carries no status entry (status.") +
                      kBitstringStatusMechanism + ")",
                  rx_reason::kLicenseStatusUnavailable);
  return check(json{{"credentialStatus", *entries}});
}

std::unique_ptr<LedgerPort> MakeInProcessLedgerPort(ledger::Log* log) {
  return std::make_unique<InProcessLedgerPort>(log);
}

Status VerifyFillAuthorization(std::string_view token, const json& prescription_vc,
                               const std::string& pharmacy_domain, const did::Resolver& resolver,
                               int64_t now) {
  const json& subject = prescription_vc.at("credentialSubject");
  const std::string patient = StringOr(subject, "id");
  MDL_ASSIGN_OR_RETURN(Hash256 digest, CredentialDigest(prescription_vc));
  return VerifyFillAuthorizationFor(token, patient, HexEncode(digest), pharmacy_domain, resolver,
                                    now);
}

Status VerifyFillAuthorizationFor(std::string_view token, const std::string& patient,
                                  const std::string& digest_hex, const std::string& pharmacy_domain,
                                  const did::Resolver& resolver, int64_t now) {
  return VerifyDeviceApproval(token, "fill authorization by the patient's phone", patient,
                              digest_hex, pharmacy_domain, resolver, {}, now);
}

}  // namespace medallion::claims
