// The pharmacy verification pipeline and dispense records (docs/credentials.md).
#include "medallion/claims/pharmacy.h"

#include <sodium.h>

#include <nlohmann/json.hpp>

#include "medallion/claims/credentials.h"
#include "medallion/claims/data_integrity.h"
#include "medallion/claims/jose.h"
#include "medallion/core/encoding.h"
#include "medallion/core/hash.h"
#include "medallion/core/jcs.h"
#include "medallion/did/did_key.h"

namespace medallion::claims {
namespace {

using nlohmann::json;

constexpr char kNullifierTag[] = "medallion/rx-nullifier/v1";
constexpr char kPseudonymTag[] = "medallion/pharmacy-pseudonym/v1";

// Key of the per-prescription HMACs: SHA-256(tag || canonical prescription bytes).
Result<Hash256> PrescriptionKey(const json& vc) {
  MDL_ASSIGN_OR_RETURN(std::string canonical, jcs::Canonicalize(vc));
  return Sha256(Concat(AsBytes(kNullifierTag), AsBytes(canonical)));
}

std::string Hex(ByteView b) { return HexEncode(b); }

const json* FindPrescription(const std::vector<json>& credentials) {
  const json* found = nullptr;
  for (const auto& vc : credentials) {
    const json& t = vc.contains("type") ? vc["type"] : json();
    const bool is_rx = t.is_array() && std::find(t.begin(), t.end(), "PrescriptionCredential") != t.end();
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

Result<Pseudonym> PharmacyPseudonym(const SecretBytes& secret, const Hash256& digest) {
  Pseudonym p;
  auto mac = HmacSha256(secret.Reveal(), Concat(AsBytes(kPseudonymTag), digest));
  p.seed = SecretBytes::CopyFrom(mac);
  SecureWipe(mac.data(), mac.size());
  p.public_key.resize(crypto_sign_PUBLICKEYBYTES);
  SecretBytes sk(crypto_sign_SECRETKEYBYTES);
  crypto_sign_seed_keypair(p.public_key.data(), sk.RevealMutable().data(), p.seed.Reveal().data());
  MDL_ASSIGN_OR_RETURN(p.did, did::DidKeyFromPublicKey(did::KeyType::kEd25519, p.public_key));
  return p;
}

Result<std::string> SignWithSeed(const SecretBytes& seed, const std::string& message) {
  Bytes pk(crypto_sign_PUBLICKEYBYTES);
  SecretBytes sk(crypto_sign_SECRETKEYBYTES);
  crypto_sign_seed_keypair(pk.data(), sk.RevealMutable().data(), seed.Reveal().data());
  Bytes sig(crypto_sign_BYTES);
  crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const uint8_t*>(message.data()), message.size(),
                       sk.Reveal().data());
  return Base64UrlEncode(sig);
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
  Result<ledger::AppendResult> Append(const json& entry) override { return log_->AppendSync(entry.dump()); }
  std::string TrustedCheckpoint() override { return log_->CheckpointNote(); }

 private:
  ledger::Log* log_;
};

}  // namespace

json DispenseResult::ToJson() const {
  json steps_json = json::array();
  for (const auto& s : steps) steps_json.push_back({{"step", s.step}, {"ok", s.ok}, {"detail", s.detail}});
  json j = {{"reason", reason}, {"detail", detail}, {"steps", steps_json}};
  if (ok()) {
    j["fill"] = fill;
    j["fills_allowed"] = fills_allowed;
    j["dispense_index"] = dispense_index;
    j["prescription_digest"] = prescription_digest;
    j["receipt"] = json::parse(receipt_json);
  }
  return j;
}

Result<std::string> DispenseNullifier(const json& prescription_vc, uint32_t n) {
  MDL_ASSIGN_OR_RETURN(Hash256 key, PrescriptionKey(prescription_vc));
  auto mac = HmacSha256(key, AsBytes("fill:" + std::to_string(n)));
  return Hex(mac);
}

DispenseResult VerifyAndDispense(const json& vp, const PharmacyConfig& config, const did::Resolver& resolver,
                                 ChallengeStore& challenges, LedgerPort& ledger, const LicenseStatusCheck& license_status,
                                 const std::function<Status(const json&)>& approval_check, Env env) {
  DispenseResult out;
  const int64_t now = env.clock->NowSeconds();
  auto step = [&](const char* name, bool ok, std::string detail = "") {
    out.steps.push_back({name, ok, detail});
    return ok;
  };
  auto fail = [&](const char* reason, const char* name, std::string detail) {
    step(name, false, detail);
    out.reason = reason;
    out.detail = std::move(detail);
    return out;
  };
  if (config.pseudonym_secret == nullptr || config.pseudonym_secret->size() != 32) {
    return fail(rx_reason::kMalformed, "configuration", "the pharmacy has no pseudonym secret");
  }

  // 1. Holder binding and challenge.
  auto presented = VerifyPresentation(vp, resolver, challenges, config.domain, now);
  if (!presented) {
    const std::string& m = presented.error().message();
    const bool challenge = m.rfind("challenge_", 0) == 0 || m.rfind("domain_mismatch", 0) == 0;
    return fail(challenge ? rx_reason::kChallenge : rx_reason::kHolderBinding, "holder_binding", m);
  }
  step("holder_binding", true, presented->holder);
  const json* rx = FindPrescription(presented->credentials);
  if (rx == nullptr) return fail(rx_reason::kNotPrescription, "prescription", "exactly one PrescriptionCredential expected");
  if (Status st = CheckPrescriptionCredential(*rx); !st.ok()) return fail(rx_reason::kNotPrescription, "prescription", st.message());
  if (Status st = CheckCredential(*rx, now, config.max_clock_skew); !st.ok()) {
    return fail(rx_reason::kPrescriptionExpired, "prescription", st.message());
  }
  const std::string prescriber = IssuerOf(*rx);
  const json& subject = (*rx)["credentialSubject"];
  const std::string schedule = subject.value("controlledSubstanceSchedule", "");
  auto digest = CredentialDigest(*rx);
  if (!digest) return fail(rx_reason::kMalformed, "prescription", digest.error().message());
  out.prescription_digest = Hex(*digest);

  // The postmark is looked up first (quietly) so that the prescriber's keys are resolved as of
  // the postmark: a key rotated away later still counts for what it signed before.
  auto postmarks = ledger.Find({ledger::KeyKind::kHash, out.prescription_digest});
  if (!postmarks) return fail(rx_reason::kLedgerUnavailable, "postmark", postmarks.error().message());
  std::optional<uint64_t> postmark_index;
  for (const auto& r : *postmarks) {
    auto e = jcs::ParseStrict(r.entry);
    if (e && e->value("type", "") == "anchor" && e->value("kind", "") == "credential" && e->value("by", prescriber) == prescriber) {
      postmark_index = r.index;
      break;
    }
  }
  did::ResolutionOptions as_of;
  if (postmark_index && did::DidMethod(prescriber) == "mdl") as_of.ledger_position = *postmark_index + 1;

  // 2. Prescription proofs (a proof set: the physician's assertion key, and for a controlled
  //    substance also her phone's key).
  ProofCheckOptions po;
  po.expected_purpose = "assertionMethod";
  po.now = now;
  po.max_clock_skew = config.max_clock_skew;
  po.resolution = as_of;
  auto proofs = VerifyProofs(*rx, resolver, po);
  if (!proofs) return fail(rx_reason::kPrescriptionProof, "prescription_proofs", proofs.error().message());
  for (const auto& p : *proofs) {
    if (p.controller != prescriber) return fail(rx_reason::kPrescriptionProof, "prescription_proofs", "a proof is not by the prescriber");
  }
  step("prescription_proofs", true, std::to_string(proofs->size()) + " proof(s) by " + prescriber);

  // 3. Issuer DID resolution (as of the postmark): not deactivated; identify the phone key.
  did::ResolutionResult issuer_doc = resolver.Resolve(prescriber, as_of);
  if (!issuer_doc.ok() || issuer_doc.metadata.deactivated) {
    return fail(rx_reason::kIssuerUnresolved, "issuer_resolution",
                issuer_doc.ok() ? prescriber + " is deactivated" : issuer_doc.error + ": " + issuer_doc.error_message);
  }
  step("issuer_resolution", true, prescriber + (issuer_doc.metadata.version_id ? " version " + *issuer_doc.metadata.version_id : ""));
  if (!schedule.empty()) {
    // The phone's device key is listed under both authentication and assertionMethod.
    bool phone = false;
    for (const auto& p : *proofs) {
      phone |= Listed(issuer_doc.document->authentication, p.verification_method) &&
               Listed(issuer_doc.document->assertion_method, p.verification_method);
    }
    if (proofs->size() < 2 || !phone) {
      return fail(rx_reason::kPhoneProofMissing, "prescription_proofs", "schedule " + schedule + " needs the prescriber's phone proof");
    }
  }

  // 4. The license credential (evidence) and its proof.
  const json& license = (*rx)["evidence"][0]["licenseCredential"];
  if (Status st = CheckLicenseCredential(license); !st.ok()) return fail(rx_reason::kLicenseProof, "license_proof", st.message());
  const std::string society = IssuerOf(license);
  if (!Listed(config.trusted_license_issuers, society)) {
    return fail(rx_reason::kLicenseIssuerUntrusted, "license_proof", society + " is not a licensing body this pharmacy trusts");
  }
  ProofCheckOptions lo;
  lo.expected_purpose = "assertionMethod";
  lo.now = now;
  lo.max_clock_skew = config.max_clock_skew;
  auto license_proofs = VerifyProofs(license, resolver, lo);
  if (!license_proofs) return fail(rx_reason::kLicenseProof, "license_proof", license_proofs.error().message());
  for (const auto& p : *license_proofs) {
    if (p.controller != society) return fail(rx_reason::kLicenseProof, "license_proof", "a license proof is not by its issuer");
  }
  if (license["credentialSubject"].value("id", "") != prescriber) {
    return fail(rx_reason::kLicenseNotPrescriber, "license_proof", "the license is not the prescriber's");
  }
  if (Status st = CheckCredential(license, now, config.max_clock_skew); !st.ok()) {
    return fail(rx_reason::kLicenseExpired, "license_proof", st.message());
  }
  step("license_proof", true, "issued by " + society);

  // 5. License status (revocation and suspension lists).
  Status status = license_status ? license_status(license) : Status::Unavailable("no status checker configured");
  if (!status.ok()) {
    const std::string& m = status.message();
    const char* reason = status.code() == StatusCode::kFailedPrecondition && m.find("suspend") != std::string::npos
                             ? rx_reason::kLicenseSuspended
                         : status.code() == StatusCode::kFailedPrecondition ? rx_reason::kLicenseRevoked
                                                                            : rx_reason::kLicenseStatusUnavailable;
    return fail(reason, "license_status", m);
  }
  step("license_status", true, "active");

  // 6. The license covers the schedule.
  if (!schedule.empty()) {
    const json& covered = license["credentialSubject"].value("controlledSubstanceSchedules", json::array());
    if (std::find(covered.begin(), covered.end(), schedule) == covered.end()) {
      return fail(rx_reason::kScheduleNotCovered, "schedule", "the license does not cover schedule " + schedule);
    }
  }
  step("schedule", true, schedule.empty() ? "not a controlled substance" : "schedule " + schedule + " covered");

  // 7. The postmark: the prescription's digest anchored on the ledger (inclusion proven).
  if (!postmark_index) return fail(rx_reason::kPostmarkMissing, "postmark", "no anchor of " + out.prescription_digest);
  step("postmark", true, "ledger index " + std::to_string(*postmark_index));

  // 8. Remaining fills from the ledger's dispense records.
  auto allowed = AllowedFills(*rx);
  if (!allowed) return fail(rx_reason::kMalformed, "fills", allowed.error().message());
  out.fills_allowed = *allowed;
  auto me = PharmacyPseudonym(*config.pseudonym_secret, *digest);
  if (!me) return fail(rx_reason::kMalformed, "fills", me.error().message());
  std::optional<uint32_t> next;
  std::string nullifier;
  for (uint32_t n = 0; n < *allowed; ++n) {
    auto nf = DispenseNullifier(*rx, n);
    if (!nf) return fail(rx_reason::kMalformed, "fills", nf.error().message());
    auto used = ledger.Find({ledger::KeyKind::kNullifier, *nf});
    if (!used) return fail(rx_reason::kLedgerUnavailable, "fills", used.error().message());
    if (used->empty()) {
      next = n;
      nullifier = *nf;
      break;
    }
    if (n == 0) {
      auto first = jcs::ParseStrict((*used)[0].entry);
      if (!first || first->value("pharmacy", "") != me->did) {
        return fail(rx_reason::kDispensedElsewhere, "fills", "this prescription is being filled at another pharmacy");
      }
    }
  }
  if (!next) return fail(rx_reason::kAlreadyDispensed, "fills", "all " + std::to_string(*allowed) + " fill(s) dispensed");
  step("fills", true, "fill " + std::to_string(*next + 1) + " of " + std::to_string(*allowed));

  // 9. Controlled substances: the patient's phone approved this fill.
  if (!schedule.empty()) {
    Status approved = approval_check ? approval_check(*rx) : Status::PermissionDenied("no approval");
    if (!approved.ok()) return fail(rx_reason::kPatientApprovalMissing, "patient_approval", approved.message());
    step("patient_approval", true, "approved on the patient's phone");
  }

  // 10. The dispense record: nullifier, an unlinkable commitment, the pharmacy's pseudonym.
  auto key = PrescriptionKey(*rx);
  auto commitment = HmacSha256(*key, AsBytes("commitment"));
  const json quantity = subject["prescription"]["dispenseRequest"]["quantity"]["value"];
  json record = {{"type", "dispense"},
                 {"v", 1},
                 {"nullifier", nullifier},
                 {"rx", Hex(commitment)},
                 {"pharmacy", me->did},
                 {"qty", quantity.is_number_integer() ? quantity.get<uint64_t>() : 1},
                 {"ts", now}};
  auto to_sign = jcs::Canonicalize(record);
  auto sig = SignWithSeed(me->seed, *to_sign);
  record["sig"] = *sig;
  auto appended = ledger.Append(record);
  if (!appended) {
    if (appended.error().code() == StatusCode::kAlreadyExists) {
      return fail(rx_reason::kAlreadyDispensed, "dispense", "another pharmacy or request used this fill first");
    }
    return fail(rx_reason::kLedgerUnavailable, "dispense", appended.error().message());
  }
  out.fill = *next + 1;
  out.dispense_index = appended->index;
  step("dispense", true, "dispense record at ledger index " + std::to_string(appended->index));

  // 11. The signed receipt.
  json receipt = {{"@context", {kVcContextV2, kMedallionContext}},
                  {"type", {"VerifiableCredential", "DispenseReceipt"}},
                  {"issuer", config.pharmacy_did},
                  {"validFrom", did::XmlDateTime(now)},
                  {"credentialSubject",
                   {{"id", presented->holder},
                    {"prescriptionDigest", out.prescription_digest},
                    {"fill", out.fill},
                    {"fillsAllowed", out.fills_allowed},
                    {"ledgerIndex", out.dispense_index},
                    {"checkpoint", ledger.TrustedCheckpoint()}}}};
  ProofOptions ro;
  ro.created = did::XmlDateTime(now);
  auto signed_receipt = AddProof(receipt, config.receipt_signer, ro);
  if (!signed_receipt) return fail(rx_reason::kMalformed, "receipt", signed_receipt.error().message());
  out.receipt_json = signed_receipt->dump();
  step("receipt", true, "signed by " + config.pharmacy_did);
  return out;
}

LicenseStatusCheck MakeLicenseStatusCheck(StatusChecker& checker) {
  return [&checker](const json& license) -> Status {
    auto cs = license.find("credentialStatus");
    if (cs == license.end()) return Status::Unavailable("the license carries no status entry");
    std::vector<json> entries;
    if (cs->is_array()) {
      entries.assign(cs->begin(), cs->end());
    } else {
      entries.push_back(*cs);
    }
    if (entries.empty()) return Status::Unavailable("the license carries no status entry");
    Status suspended = Status::Ok();
    for (const auto& entry : entries) {
      auto r = checker.Check(entry);
      if (!r) return Status::Unavailable("status list: " + r.error().message());
      if (!r->set) continue;
      if (r->purpose == StatusPurpose::kRevocation) return Status::FailedPrecondition("revoked (" + r->list_url + ")");
      suspended = Status::FailedPrecondition("suspended (" + r->list_url + ")");
    }
    return suspended;
  };
}

std::unique_ptr<LedgerPort> MakeInProcessLedgerPort(ledger::Log* log) { return std::make_unique<InProcessLedgerPort>(log); }

Status VerifyFillAuthorization(std::string_view token, const json& prescription_vc, const std::string& pharmacy_domain,
                               const did::Resolver& resolver, int64_t now) {
  if (token.empty()) return Status::PermissionDenied("no fill authorization from the patient's phone");
  JwtCheckOptions co;
  co.now = now;
  co.expected_audience = pharmacy_domain;
  VerifiedJwt info;
  auto payload = VerifyJwt(JwtKind::kDidAuth, token, resolver, co, &info);
  if (!payload) return Status::PermissionDenied("fill authorization: " + payload.error().message());
  const json& subject = prescription_vc.at("credentialSubject");
  const std::string patient = subject.is_object() ? subject.value("id", "") : "";
  if (info.controller != patient) return Status::PermissionDenied("fill authorization: not signed by the prescription's patient");
  auto doc = resolver.Resolve(patient);
  if (!doc.ok() || !Listed(doc.document->authentication, info.kid) || !Listed(doc.document->assertion_method, info.kid)) {
    return Status::PermissionDenied("fill authorization: not signed with the patient's phone (device) key");
  }
  MDL_ASSIGN_OR_RETURN(Hash256 digest, CredentialDigest(prescription_vc));
  if (payload->value("prescription", "") != HexEncode(digest)) {
    return Status::PermissionDenied("fill authorization: for another prescription");
  }
  return Status::Ok();
}

}  // namespace medallion::claims
