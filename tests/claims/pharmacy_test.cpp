// The pharmacy pipeline end to end in process: a society's license, a physician's did:mdl
// with a paired phone, a controlled-substance prescription with a proof set, the postmark on a
// real ledger, holder-bound presentations, dispensing and every refusal with its reason.
#include <catch2/catch.hpp>
#include <sodium.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "medallion/claims/ledger_entries.h"
#include "medallion/claims/credentials.h"
#include "medallion/claims/data_integrity.h"
#include "medallion/claims/pharmacy.h"
#include "medallion/claims/jose.h"
#include "medallion/claims/presentation.h"
#include "medallion/claims/sd_jwt.h"
#include "medallion/core/encoding.h"
#include "medallion/did/did_key.h"
#include "medallion/did/did_mdl.h"
#include "medallion/ledger/log.h"
#include "medallion/ledger/store.h"
#include "medallion/oid4vc/verifier.h"
#include "pharmacy_oid4vp.h"  // roles/src

using namespace medallion;
using namespace medallion::claims;
using nlohmann::json;

namespace {

struct Key {
  Bytes pk = Bytes(32);
  Bytes sk = Bytes(64);
  explicit Key(uint8_t b) {
    Bytes seed(32, b);
    if (sodium_init() < 0) std::abort();
    crypto_sign_seed_keypair(pk.data(), sk.data(), seed.data());
  }
  std::string Multikey() const { return *did::MultikeyFromPublicKey(did::KeyType::kEd25519, pk); }
  std::string DidKey() const { return "did:key:" + Multikey(); }
  Signer SignerFor(const std::string& did) const {
    Signer s;
    s.alg = Alg::kEdDSA;
    s.verification_method = did + "#" + Multikey();
    s.public_key = pk;
    Bytes sk_copy = sk;
    s.sign = [sk_copy](ByteView m) -> Result<Bytes> {
      Bytes sig(64);
      crypto_sign_detached(sig.data(), nullptr, m.data(), m.size(), sk_copy.data());
      return sig;
    };
    return s;
  }
  did::mdl::OpSigner OpSigner() const {
    Bytes sk_copy = sk;
    return {pk, [sk_copy](ByteView m) -> Result<Bytes> {
              Bytes sig(64);
              crypto_sign_detached(sig.data(), nullptr, m.data(), m.size(), sk_copy.data());
              return sig;
            }};
  }
};

constexpr int64_t kNow = 1'790'000'000;  // 2026-09-21

json MedicationRequest(int repeats) {
  return {
      {"resourceType", "MedicationRequest"},
      {"status", "active"},
      {"intent", "order"},
      {"medicationCodeableConcept",
       {{"coding",
         {{{"system", "http://www.nlm.nih.gov/research/umls/rxnorm"}, {"code", "1049502"}}}}}},
      {"subject", {{"reference", "Patient/p1"}}},
      {"requester", {{"reference", "Practitioner/dr1"}}},
      {"authoredOn", "2026-09-21"},
      {"dosageInstruction", {{{"text", "1 tablet every 6 hours as needed"}}}},
      {"dispenseRequest",
       {{"quantity", {{"value", 20}, {"unit", "tablet"}}}, {"numberOfRepeatsAllowed", repeats}}}};
}

struct World {
  std::filesystem::path dir;
  FakeClock clock{kNow * 1000};
  SeededRng rng{7};
  Env env{&clock, &rng};
  ledger::ValidatorRegistry validators;
  std::unique_ptr<ledger::Log> log;
  did::Resolver resolver;
  Key society{1}, patient{2}, pharmacy{3}, other_pharmacy{4};
  Key u0{10}, u1{11}, r0{12}, auth{13}, assertion{14}, phone{15};
  std::string physician;
  std::set<std::string> revoked;
  bool ledger_down = false;  // the did:mdl fetcher answers unavailable, as during an outage
  SecretBytes secret = SecretBytes::CopyFrom(Bytes(32, 0x55));
  SecretBytes other_secret = SecretBytes::CopyFrom(Bytes(32, 0x66));
  ChallengeStore challenges{env};

  World() {
    dir = std::filesystem::temp_directory_path() / ("medallion-rx-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    did::mdl::RegisterLedgerValidator(validators);
    ledger::LogOptions o;
    o.validators = &validators;
    auto store = ledger::SqliteLeafStore::Open((dir / "ledger.db").string());
    log = std::move(*ledger::Log::Open(
        std::move(*store), ledger::Ed25519NoteSigner::FromSeed("ledger.test", Bytes(32, 9)), env,
        o));
    // The physician's did:mdl with her phone's key, on the ledger.
    did::mdl::KeySet keys;
    keys.authentication = auth.pk;
    keys.assertion = assertion.pk;
    keys.device = phone.pk;
    auto create = did::mdl::BuildCreate(keys, u0.OpSigner(), did::mdl::KeyCommitment(u1.pk),
                                        did::mdl::KeyCommitment(r0.pk), kNow - 86400);
    REQUIRE(create);
    physician = create->did;
    REQUIRE(log->AppendSync(create->canonical));
    resolver.Register(did::mdl::MakeMdlResolver(
        [this](std::string_view d, uint64_t* size) -> Result<std::vector<did::mdl::OpRecord>> {
          if (ledger_down) return Status::Unavailable("ledger: unavailable: the test's outage");
          *size = log->Size();
          MDL_ASSIGN_OR_RETURN(auto idx, log->FindByKey({ledger::KeyKind::kDid, std::string(d)}));
          std::vector<did::mdl::OpRecord> ops;
          for (uint64_t i : idx) ops.push_back({i, (*log->Entries(i, i + 1))[0].entry});
          return ops;
        }));
  }
  ~World() {
    log.reset();
    std::filesystem::remove_all(dir);
  }

  // The license the next Prescription() embeds: valid 2026-2028 unless these say otherwise.
  std::string license_valid_from = "2026-01-01T00:00:00Z",
              license_valid_until = "2028-01-01T00:00:00Z";
  bool license_malformed = false;  // signed without its licenseNumber

  json License(std::vector<std::string> schedules = {"II", "III"}) {
    LicenseClaims c{
        physician,          "MD-12345",         "US-MA", "MD", "Internal Medicine", schedules,
        license_valid_from, license_valid_until};
    auto vc = BuildLicenseCredential("urn:uuid:license-1", society.DidKey(), c, nullptr);
    INFO((vc ? "" : vc.error().ToString()));
    REQUIRE(vc);
    if (license_malformed) (*vc)["credentialSubject"].erase("licenseNumber");
    ProofOptions o;
    o.created = did::XmlDateTime(kNow - 3600);
    return *AddProof(*vc, society.SignerFor(society.DidKey()), o);
  }

  // A prescription signed by the physician (and her phone for a controlled substance),
  // postmarked on the ledger.
  json Prescription(const std::string& schedule, bool phone_proof = true, bool postmark = true,
                    int repeats = 1, const std::string& id = "urn:uuid:rx-1") {
    json license = License();
    json request = MedicationRequest(repeats);
    PrescriptionClaims c{
        patient.DidKey(),      physician, &request, schedule, &license, "2026-09-20T00:00:00Z",
        "2027-03-20T00:00:00Z"};
    auto vc = BuildPrescriptionCredential(id, c);
    REQUIRE(vc);
    ProofOptions o;
    o.created = did::XmlDateTime(kNow - 60);
    json signed_vc = *AddProof(*vc, assertion.SignerFor(physician), o);
    if (phone_proof) signed_vc = *AddProof(signed_vc, phone.SignerFor(physician), o);
    if (postmark) {
      json anchor = {{"type", "anchor"},
                     {"v", 1},
                     {"hash", HexEncode(*CredentialDigest(signed_vc))},
                     {"kind", "credential"},
                     {"by", physician},
                     {"ts", kNow - 30}};
      anchor = *SignLedgerEntry(anchor, assertion.SignerFor(physician));  // the schema: `by` signs
      REQUIRE(log->AppendSync(anchor.dump()));
    }
    return signed_vc;
  }

  PharmacyConfig Config(const Key& k, const SecretBytes& s) {
    PharmacyConfig c;
    c.pharmacy_did = k.DidKey();
    c.domain = "https://pharmacy.example";
    c.receipt_signer = k.SignerFor(k.DidKey());
    c.trusted_license_issuers = {society.DidKey()};
    c.pseudonym_secret = &s;
    return c;
  }

  json Present(const json& rx, const std::string& domain = "https://pharmacy.example") {
    Challenge ch = challenges.Issue(domain);
    auto vp = PresentCredentials({rx}, patient.DidKey(), patient.SignerFor(patient.DidKey()), ch,
                                 did::XmlDateTime(kNow));
    REQUIRE(vp);
    return *vp;
  }

  LicenseStatusCheck StatusCheck() {
    return [this](const json& license) -> Status {
      if (revoked.count(license.value("id", ""))) return Status::FailedPrecondition("revoked");
      return Status::Ok();
    };
  }

  DispenseResult Fill(const json& vp, const PharmacyConfig& config, bool approved = true,
                      bool hold = false) {
    auto port = MakeInProcessLedgerPort(log.get());
    return VerifyAndDispense(
        vp, config, resolver, challenges, *port, StatusCheck(),
        [approved](const json&) {
          return approved ? Status::Ok() : Status::PermissionDenied("the patient declined");
        },
        env, hold);
  }

  DispenseResult Commit(const DispenseResult& held, const PharmacyConfig& config) {
    auto port = MakeInProcessLedgerPort(log.get());
    return CommitHeldDispense(*held.held, config, resolver, *port, StatusCheck(), env);
  }
};

}  // namespace

TEST_CASE("Pharmacy: a controlled-substance prescription is filled once per allowed fill",
          "[claims][pharmacy]") {
  World w;
  json rx = w.Prescription("II");
  PharmacyConfig config = w.Config(w.pharmacy, w.secret);

  DispenseResult first = w.Fill(w.Present(rx), config);
  INFO(first.ToJson().dump(2));
  REQUIRE(first.ok());
  CHECK(first.fill == 1);
  CHECK(first.fills_allowed == 2);
  json receipt = json::parse(first.receipt_json);
  CHECK(receipt["credentialSubject"]["ledgerIndex"] == first.dispense_index);
  // The receipt verifies as the pharmacy's credential.
  CHECK(VerifyProofs(receipt, w.resolver, {}).has_value());
  // The dispense record on the ledger says nothing of patient, drug or pharmacy DID.
  std::string record = (*w.log->Entries(first.dispense_index, first.dispense_index + 1))[0].entry;
  CHECK(record.find(w.patient.DidKey()) == std::string::npos);
  CHECK(record.find(w.pharmacy.DidKey()) == std::string::npos);
  CHECK(record.find("1049502") == std::string::npos);
  CHECK(record.find(first.prescription_digest) == std::string::npos);

  DispenseResult second = w.Fill(w.Present(rx), config);
  REQUIRE(second.ok());
  CHECK(second.fill == 2);
  DispenseResult third = w.Fill(w.Present(rx), config);
  CHECK(third.reason == rx_reason::kAlreadyDispensed);

  // The same prescription at another pharmacy is refused with its own code.
  DispenseResult elsewhere = w.Fill(w.Present(rx), w.Config(w.other_pharmacy, w.other_secret));
  CHECK(elsewhere.reason == rx_reason::kDispensedElsewhere);
}

TEST_CASE("Pharmacy: a ledger outage during verification is ledger_unavailable, not a refusal",
          "[claims][pharmacy]") {
  World w;
  json rx = w.Prescription("II");
  PharmacyConfig config = w.Config(w.pharmacy, w.secret);
  const uint64_t size = w.log->Size();
  w.ledger_down = true;
  DispenseResult r = w.Fill(w.Present(rx), config);
  INFO(r.ToJson().dump(2));
  CHECK(r.reason == std::string(rx_reason::kLedgerUnavailable));
  CHECK(w.log->Size() == size);
  // Once the ledger answers again, the same prescription is filled.
  w.ledger_down = false;
  DispenseResult again = w.Fill(w.Present(rx), config);
  INFO(again.ToJson().dump(2));
  CHECK(again.ok());
}

TEST_CASE("Pharmacy: each refusal has its reason and writes nothing", "[claims][pharmacy]") {
  World w;
  PharmacyConfig config = w.Config(w.pharmacy, w.secret);
  auto refused = [&](const json& vp, const char* reason, bool approved = true) {
    const uint64_t before = w.log->Size();
    DispenseResult r = w.Fill(vp, config, approved);
    INFO(r.ToJson().dump(2));
    CHECK(r.reason == std::string(reason));
    CHECK(w.log->Size() == before);
  };
  SECTION("replayed presentation") {
    json vp = w.Present(w.Prescription(""));
    REQUIRE(w.Fill(vp, config).ok());
    refused(vp, rx_reason::kChallenge);
  }
  SECTION("presentation for another verifier") {
    refused(w.Present(w.Prescription(""), "https://evil.example"), rx_reason::kChallenge);
  }
  SECTION("tampered presentation") {
    json vp = w.Present(w.Prescription(""));
    vp["holder"] = w.pharmacy.DidKey();
    refused(vp, rx_reason::kHolderBinding);
  }
  SECTION("tampered prescription") {
    json rx = w.Prescription("");
    rx["credentialSubject"]["prescription"]["dispenseRequest"]["quantity"]["value"] = 200;
    refused(w.Present(rx), rx_reason::kPrescriptionProof);
  }
  SECTION("controlled substance without the phone's proof") {
    refused(w.Present(w.Prescription("II", false)), rx_reason::kPhoneProofMissing);
  }
  SECTION("controlled substance without the patient's approval") {
    refused(w.Present(w.Prescription("II")), rx_reason::kPatientApprovalMissing, false);
  }
  SECTION("revoked license") {
    w.revoked.insert("urn:uuid:license-1");
    refused(w.Present(w.Prescription("")), rx_reason::kLicenseRevoked);
  }
  SECTION("schedule not covered") {
    refused(w.Present(w.Prescription("IV")), rx_reason::kScheduleNotCovered);
  }
  SECTION("no postmark") {
    refused(w.Present(w.Prescription("", true, false)), rx_reason::kPostmarkMissing);
  }
  SECTION("untrusted licensing body") {
    config.trusted_license_issuers = {"did:web:other-board.example"};
    refused(w.Present(w.Prescription("")), rx_reason::kLicenseIssuerUntrusted);
  }
  SECTION("expired prescription") {
    w.clock.Set((kNow + 365LL * 86400) * 1000);
    refused(w.Present(w.Prescription("")), rx_reason::kPrescriptionExpired);
  }
  // Three different license failures, three different codes (none is license_expired but the
  // expired one).
  SECTION("expired license") {
    w.license_valid_until = "2026-06-01T00:00:00Z";
    refused(w.Present(w.Prescription("")), rx_reason::kLicenseExpired);
  }
  SECTION("license not yet valid") {
    w.license_valid_from = "2027-01-01T00:00:00Z";
    refused(w.Present(w.Prescription("")), rx_reason::kLicenseNotYetValid);
  }
  SECTION("malformed license") {
    w.license_malformed = true;
    refused(w.Present(w.Prescription("")), rx_reason::kLicenseMalformed);
  }
}

// A holder can sign whatever credentials she likes into her presentation: a subject id that is
// not a string used to throw type_error (json::value) instead of failing the holder binding.
TEST_CASE("A presented credential whose subject id is not a string fails the holder binding",
          "[claims][presentation]") {
  World w;
  json vc = {{"type", {"VerifiableCredential"}}, {"credentialSubject", {{"id", 1}}}};
  Challenge ch = w.challenges.Issue("https://pharmacy.example");
  auto vp = PresentCredentials({vc}, w.patient.DidKey(), w.patient.SignerFor(w.patient.DidKey()),
                               ch, did::XmlDateTime(kNow));
  REQUIRE(vp);
  Result<VerifiedPresentation> r = Status::Internal("unset");
  REQUIRE_NOTHROW(r = VerifyPresentation(*vp, w.resolver, w.challenges, "https://pharmacy.example",
                                         kNow));
  REQUIRE_FALSE(r.has_value());
  CHECK_THAT(r.error().message(), Catch::StartsWith("holder_binding"));
}

TEST_CASE("Challenges are single use and expire", "[claims][presentation]") {
  FakeClock clock(1'000'000);
  SeededRng rng(1);
  ChallengeStore store(Env{&clock, &rng}, 60, 3);
  Challenge a = store.Issue("https://a.example");
  CHECK(store.Consume(a.nonce, "https://a.example").ok());
  CHECK_THAT(store.Consume(a.nonce, "https://a.example").message(),
             Catch::StartsWith("challenge_unknown"));
  Challenge b = store.Issue("https://a.example");
  CHECK_THAT(store.Consume(b.nonce, "https://b.example").message(),
             Catch::StartsWith("domain_mismatch"));
  Challenge c = store.Issue("https://a.example");
  clock.Advance(61'000);
  CHECK_THAT(store.Consume(c.nonce, "https://a.example").message(),
             Catch::StartsWith("challenge_expired"));
  // Bounded: issuing more than the limit drops the oldest.
  Challenge d1 = store.Issue("x"), d2 = store.Issue("x"), d3 = store.Issue("x"),
            d4 = store.Issue("x");
  CHECK_FALSE(store.Consume(d1.nonce, "x").ok());
  CHECK(store.Consume(d4.nonce, "x").ok());
}

namespace {

// Serves the society's status list credentials (secured with Data Integrity) from memory.
struct ListServer final : StatusListFetcher {
  std::map<std::string, std::string> documents;
  bool down = false;
  Result<std::string> Fetch(const std::string& url) override {
    if (down) return Status::Unavailable("connection refused");
    auto it = documents.find(url);
    if (it == documents.end()) return Status::NotFound(url);
    return it->second;
  }
};

}  // namespace

TEST_CASE("Pharmacy: license status through signed Bitstring Status Lists",
          "[claims][pharmacy][status-list]") {
  World w;
  StatusListConfig cfg{"https://board.example/status/revocation",
                       "https://board.example/status/suspension"};
  auto issuer = StatusListIssuer::Create(cfg);
  REQUIRE(issuer);
  auto index = issuer->Assign(w.rng);
  REQUIRE(index);
  ListServer lists;
  auto publish = [&] {
    for (auto purpose : {StatusPurpose::kRevocation, StatusPurpose::kSuspension}) {
      StatusListCredentialOptions o;
      o.issuer = w.society.DidKey();
      o.valid_from = did::XmlDateTime(kNow - 60);
      auto vc = issuer->StatusListCredential(purpose, o);
      REQUIRE(vc);
      ProofOptions po;
      po.created = did::XmlDateTime(kNow - 60);
      auto secured = AddProof(*vc, w.society.SignerFor(w.society.DidKey()), po);
      REQUIRE(secured);
      lists.documents[purpose == StatusPurpose::kRevocation ? cfg.revocation_list_url
                                                            : cfg.suspension_list_url] =
          secured->dump();
    }
  };
  publish();
  // The status list credential must be signed by the licensing body itself.
  StatusChecker checker(lists, w.clock, [&](const json& list) -> Status {
    auto proofs = VerifyProofs(list, w.resolver, {});
    if (!proofs) return proofs.error();
    for (const auto& p : *proofs) {
      if (p.controller != w.society.DidKey())
        return Status::Unauthenticated("not signed by the licensing body");
    }
    return Status::Ok();
  });
  LicenseStatusCheck status = MakeLicenseStatusCheck(checker);

  // A license carrying its status entries, and a prescription embedding it.
  json entries = *issuer->CredentialStatus(*index);
  LicenseClaims c{w.physician,
                  "MD-777",
                  "US-MA",
                  "MD",
                  "Family Medicine",
                  {"II"},
                  "2026-01-01T00:00:00Z",
                  "2028-01-01T00:00:00Z"};
  auto license = BuildLicenseCredential("urn:uuid:license-2", w.society.DidKey(), c, entries);
  REQUIRE(license);
  ProofOptions o;
  o.created = did::XmlDateTime(kNow - 3600);
  json signed_license = *AddProof(*license, w.society.SignerFor(w.society.DidKey()), o);
  CHECK(status(signed_license).ok());

  SECTION("revoked") {
    REQUIRE(issuer->Revoke(*index).ok());
    publish();
    checker.Clear();
    Status st = status(signed_license);
    CHECK(st.code() == StatusCode::kFailedPrecondition);
    CHECK_THAT(st.message(), Catch::StartsWith("revoked"));
  }
  SECTION("suspended, then reinstated") {
    REQUIRE(issuer->Suspend(*index).ok());
    publish();
    checker.Clear();
    CHECK_THAT(status(signed_license).message(), Catch::StartsWith("suspended"));
    REQUIRE(issuer->Reinstate(*index).ok());
    publish();
    checker.Clear();
    CHECK(status(signed_license).ok());
  }
  SECTION("lists unreachable: unavailable, never 'active'") {
    lists.down = true;
    checker.Clear();
    CHECK(status(signed_license).code() == StatusCode::kUnavailable);
  }
  SECTION("a list signed by someone else is refused") {
    StatusListCredentialOptions so;
    so.issuer = w.pharmacy.DidKey();
    auto forged = issuer->StatusListCredential(StatusPurpose::kRevocation, so);
    ProofOptions po;
    lists.documents[cfg.revocation_list_url] =
        AddProof(*forged, w.pharmacy.SignerFor(w.pharmacy.DidKey()), po)->dump();
    checker.Clear();
    CHECK(status(signed_license).code() == StatusCode::kUnavailable);
  }
  SECTION("through the pipeline: the suspended license gets its own reason") {
    REQUIRE(issuer->Suspend(*index).ok());
    publish();
    checker.Clear();
    // A prescription whose evidence is this license.
    json request = MedicationRequest(0);
    PrescriptionClaims pc{w.patient.DidKey(),     w.physician, &request, "", &signed_license,
                          "2026-09-20T00:00:00Z", ""};
    json rx = *BuildPrescriptionCredential("urn:uuid:rx-status", pc);
    ProofOptions ro;
    ro.created = did::XmlDateTime(kNow - 60);
    rx = *AddProof(rx, w.assertion.SignerFor(w.physician), ro);
    json anchor = {{"type", "anchor"},
                   {"v", 1},
                   {"hash", HexEncode(*CredentialDigest(rx))},
                   {"kind", "credential"},
                   {"by", w.physician},
                   {"ts", kNow - 30}};
    anchor = *SignLedgerEntry(anchor, w.assertion.SignerFor(w.physician));
    REQUIRE(w.log->AppendSync(anchor.dump()));
    auto port = MakeInProcessLedgerPort(w.log.get());
    PharmacyConfig config = w.Config(w.pharmacy, w.secret);
    DispenseResult r = VerifyAndDispense(w.Present(rx), config, w.resolver, w.challenges, *port,
                                         status, nullptr, w.env);
    CHECK(r.reason == std::string(rx_reason::kLicenseSuspended));
  }
}

namespace {

// The SD-JWT VC form (docs/credentials.md "Minimal disclosure at the pharmacy"): the pharmacy
// copy of a prescription bound to the patient's pairwise key, the phone's co-signature, the
// postmark of its digest, and presentations with a KB-JWT for a challenge.
struct SdWorld : World {
  Key holder{20};
  std::string Pseudonym() const { return Base64UrlEncode(holder.pk); }

  std::string Copy(const json& rx, bool postmark = true) {
    auto sd = IssuePrescriptionSdJwt(rx, assertion.SignerFor(physician), Pseudonym(),
                                     kNow + 30 * 86400, env);
    INFO((sd ? "" : sd.error().ToString()));
    REQUIRE(sd);
    if (postmark) {
      json anchor = {{"type", "anchor"},     {"v", 1},          {"hash", SdJwtDigest(*sd)},
                     {"kind", "credential"}, {"by", physician}, {"ts", kNow - 30}};
      anchor = *SignLedgerEntry(anchor, assertion.SignerFor(physician));
      REQUIRE(log->AppendSync(anchor.dump()));
    }
    return *sd;
  }
  // A did-auth+jwt by `key` of `did` with aud and the "prescription" digest claim.
  std::string DidAuth(const Key& key, const std::string& did, const std::string& aud,
                      const std::string& digest) {
    JwtSignOptions o;
    o.issued_at = kNow - 20;
    o.expires = kNow + 580;
    o.audience = aud;
    auto t = SignJwt(JwtKind::kDidAuth, json{{"sub", did}, {"prescription", digest}},
                     key.SignerFor(did), o);
    REQUIRE(t);
    return *t;
  }
  std::string Cosign(const std::string& sd, const Key& key) {
    return DidAuth(key, physician, kCosignAudience, SdJwtDigest(sd));
  }

  std::string PresentCopy(const std::string& sd, std::vector<std::string> reveal,
                          const std::string& domain = "https://pharmacy.example",
                          bool key_binding = true) {
    Challenge ch = challenges.Issue(domain);
    SdJwtPresentOptions o;
    o.reveal = std::move(reveal);
    o.audience = domain;
    o.nonce = ch.nonce;
    const Signer s = holder.SignerFor(holder.DidKey());
    auto p = PresentSdJwt(sd, o, key_binding ? &s : nullptr, env);
    INFO((p ? "" : p.error().ToString()));
    REQUIRE(p);
    return *p;
  }

  DispenseResult FillSd(const SdJwtDispenseRequest& r, const PharmacyConfig& config) {
    auto port = MakeInProcessLedgerPort(log.get());
    return VerifyAndDispenseSdJwt(
        r, config, resolver, challenges, *port,
        [this](const json& license) -> Status {
          if (revoked.count(license.value("id", ""))) return Status::FailedPrecondition("revoked");
          return Status::Ok();
        },
        env);
  }
  // The whole request for a controlled substance: copy presented with /sub, co-signature, the
  // patient's fill authorization.
  SdJwtDispenseRequest Request(const std::string& sd,
                               const std::string& domain = "https://pharmacy.example") {
    return {PresentCopy(sd, {"/sub"}, domain), Cosign(sd, phone),
            DidAuth(patient, patient.DidKey(), domain, SdJwtDigest(sd))};
  }
};

}  // namespace

TEST_CASE("Pharmacy: the SD-JWT VC copy discloses only what dispensing needs",
          "[claims][pharmacy][sd-jwt]") {
  SdWorld w;
  json rx = w.Prescription("II");
  const std::string sd = w.Copy(rx);
  PharmacyConfig config = w.Config(w.pharmacy, w.secret);

  // What the holder can hide: the patient's DID and everything of the MedicationRequest a
  // pharmacy does not need.
  auto view = InspectSdJwt(sd);
  REQUIRE(view);
  for (const char* p : {"/sub", "/prescription/subject", "/prescription/requester",
                        "/prescription/authoredOn", "/prescription/dosageInstruction"}) {
    CHECK(std::find(view->disclosable.begin(), view->disclosable.end(), p) !=
          view->disclosable.end());
  }
  CHECK(PharmacyReveal(json::parse(view->payload_json)) == std::vector<std::string>{"/sub"});

  SdJwtDispenseRequest first = w.Request(sd);
  // Nothing hidden travels: no disclosure of the dosage, the FHIR subject or the requester.
  CHECK(first.presentation.find("1 tablet every 6 hours") == std::string::npos);
  for (size_t a = first.presentation.find('~'), b;
       a != std::string::npos && (b = first.presentation.find('~', a + 1)) != std::string::npos;
       a = b) {
    auto d = DecodeDisclosure(first.presentation.substr(a + 1, b - a - 1));
    REQUIRE(d);
    CHECK(d->name.value_or("") == "sub");
  }
  DispenseResult r1 = w.FillSd(first, config);
  INFO(r1.ToJson().dump(2));
  REQUIRE(r1.ok());
  CHECK(r1.fill == 1);
  CHECK(r1.fills_allowed == 2);
  CHECK(r1.disclosed == std::vector<std::string>{"/sub"});
  CHECK(r1.prescription_digest == SdJwtDigest(sd));
  // The receipt's checkpoint includes the record it names.
  json receipt = json::parse(r1.receipt_json);
  const std::string note = receipt["credentialSubject"]["checkpoint"];
  CHECK(std::stoull(note.substr(note.find('\n') + 1)) > r1.dispense_index);
  CHECK(receipt["credentialSubject"]["id"] == w.patient.DidKey());

  // Both forms share one set of nullifiers: the refill from the full credential is fill 2,
  // and the copy cannot be filled a third time, nor elsewhere.
  DispenseResult r2 = w.Fill(w.Present(rx), config);
  REQUIRE(r2.ok());
  CHECK(r2.fill == 2);
  CHECK(w.FillSd(w.Request(sd), config).reason == rx_reason::kAlreadyDispensed);
  CHECK(w.FillSd(w.Request(sd), w.Config(w.other_pharmacy, w.other_secret)).reason ==
        rx_reason::kDispensedElsewhere);
}

TEST_CASE("Pharmacy: SD-JWT VC refusals, each with its reason, nothing written",
          "[claims][pharmacy][sd-jwt]") {
  SdWorld w;
  PharmacyConfig config = w.Config(w.pharmacy, w.secret);
  auto refused = [&](const SdJwtDispenseRequest& r, const char* reason) {
    const uint64_t before = w.log->Size();
    DispenseResult d = w.FillSd(r, config);
    INFO(d.ToJson().dump(2));
    CHECK(d.reason == std::string(reason));
    CHECK(w.log->Size() == before);
  };
  SECTION("replayed presentation") {
    const std::string sd = w.Copy(w.Prescription(""));
    SdJwtDispenseRequest r{w.PresentCopy(sd, {}), "", ""};
    REQUIRE(w.FillSd(r, config).ok());
    refused(r, rx_reason::kChallenge);
  }
  SECTION("a challenge of another verifier") {
    const std::string sd = w.Copy(w.Prescription(""));
    refused({w.PresentCopy(sd, {}, "https://evil.example"), "", ""}, rx_reason::kChallenge);
  }
  SECTION("no key binding") {
    const std::string sd = w.Copy(w.Prescription(""));
    refused({w.PresentCopy(sd, {}, "https://pharmacy.example", false), "", ""},
            rx_reason::kHolderBinding);
  }
  SECTION("tampered issuer-signed JWT") {
    std::string sd = w.Copy(w.Prescription(""));
    std::string p = w.PresentCopy(sd, {});
    const size_t sig = p.find('.', p.find('.') + 1) + 5;  // in the issuer's signature
    p[sig] = p[sig] == 'A' ? 'B' : 'A';
    refused({p, "", ""}, rx_reason::kPrescriptionProof);
  }
  SECTION("controlled substance without the phone's co-signature") {
    const std::string sd = w.Copy(w.Prescription("II"));
    SdJwtDispenseRequest r = w.Request(sd);
    r.cosignature.clear();
    refused(r, rx_reason::kPhoneProofMissing);
  }
  SECTION("co-signed by the assertion key instead of the phone") {
    const std::string sd = w.Copy(w.Prescription("II"));
    SdJwtDispenseRequest r = w.Request(sd);
    r.cosignature = w.Cosign(sd, w.assertion);
    refused(r, rx_reason::kPhoneProofMissing);
  }
  SECTION("a co-signature of another prescription") {
    const std::string sd = w.Copy(w.Prescription("II"));
    const std::string other = w.Copy(w.Prescription("II", true, true, 1, "urn:uuid:rx-2"));
    SdJwtDispenseRequest r = w.Request(sd);
    r.cosignature = w.Cosign(other, w.phone);
    refused(r, rx_reason::kPhoneProofMissing);
  }
  SECTION("controlled substance, the patient's DID withheld") {
    const std::string sd = w.Copy(w.Prescription("II"));
    SdJwtDispenseRequest r = w.Request(sd);
    r.presentation = w.PresentCopy(sd, {});
    refused(r, rx_reason::kPatientApprovalMissing);
  }
  SECTION("controlled substance without the patient's approval") {
    const std::string sd = w.Copy(w.Prescription("II"));
    SdJwtDispenseRequest r = w.Request(sd);
    r.fill_authorization.clear();
    refused(r, rx_reason::kPatientApprovalMissing);
  }
  SECTION("no postmark of the copy") {
    const std::string sd = w.Copy(w.Prescription(""), false);
    refused({w.PresentCopy(sd, {}), "", ""}, rx_reason::kPostmarkMissing);
  }
  SECTION("revoked license") {
    w.revoked.insert("urn:uuid:license-1");
    const std::string sd = w.Copy(w.Prescription(""));
    refused({w.PresentCopy(sd, {}), "", ""}, rx_reason::kLicenseRevoked);
  }
  SECTION("untrusted licensing body") {
    config.trusted_license_issuers = {"did:web:other-board.example"};
    const std::string sd = w.Copy(w.Prescription(""));
    refused({w.PresentCopy(sd, {}), "", ""}, rx_reason::kLicenseIssuerUntrusted);
  }
}

TEST_CASE("Pharmacy: a held presentation is checked, writes nothing, and is dispensed later",
          "[claims][pharmacy][hold]") {
  World w;
  json rx = w.Prescription("II");
  PharmacyConfig config = w.Config(w.pharmacy, w.secret);
  const uint64_t size_before = w.log->Size();
  DispenseResult held = w.Fill(w.Present(rx), config, true, /*hold=*/true);
  INFO(held.ToJson().dump(2));
  REQUIRE(held.ok());
  REQUIRE(held.held);
  CHECK(held.fill == 1);
  CHECK(held.receipt_json.empty());
  CHECK(held.quantity > 0);
  CHECK(held.schedule == "II");
  CHECK(held.holder == w.patient.DidKey());
  CHECK(held.ToJson()["held"] == true);
  CHECK(w.log->Size() == size_before);  // nothing written while the pharmacist looks

  DispenseResult done = w.Commit(held, config);
  INFO(done.ToJson().dump(2));
  REQUIRE(done.ok());
  CHECK(done.fill == 1);
  CHECK(!done.receipt_json.empty());
  CHECK(done.steps.back().step == "receipt");

  // Two held presentations of the same fill: the second commit finds the fill used.
  DispenseResult a = w.Fill(w.Present(rx), config, true, true);
  DispenseResult b = w.Fill(w.Present(rx), config, true, true);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a.fill == 2);
  CHECK(b.fill == 2);
  CHECK(w.Commit(a, config).ok());
  CHECK(w.Commit(b, config).reason == rx_reason::kAlreadyDispensed);

  // The license revoked between the check and the pharmacist's "dispense": refused then.
  json rx2 = w.Prescription("II", true, true, 1, "urn:uuid:rx-2");
  DispenseResult c = w.Fill(w.Present(rx2), config, true, true);
  REQUIRE(c.ok());
  w.revoked.insert(rx2["evidence"][0]["licenseCredential"].value("id", ""));
  const uint64_t size = w.log->Size();
  CHECK(w.Commit(c, config).reason == rx_reason::kLicenseRevoked);
  CHECK(w.log->Size() == size);
}

TEST_CASE("Pharmacy: a refusal notice reaches only the prescriber, from the prescription's patient",
          "[claims][pharmacy]") {
  World w;
  json rx = w.Prescription("");
  const std::string digest = HexEncode(*CredentialDigest(rx));
  auto subject_of = [&](const std::string& d) -> Result<std::string> {
    if (d == digest) return w.patient.DidKey();
    return Status::NotFound("not one of yours");
  };
  RefusalNotice n;
  n.patient = w.patient.DidKey();
  n.prescriber = w.physician;
  n.prescription = digest;
  n.pharmacy = "https://pharmacy.example";
  n.reason = "already_dispensed";
  n.description = "Every fill of this prescription has been dispensed";
  n.refused_at = kNow - 5;
  n.id = "notice-1";
  const Signer patient = w.patient.SignerFor(w.patient.DidKey());

  auto token = SignRefusalNotice(n, patient, kNow);
  REQUIRE(token);
  auto ok = VerifyRefusalNotice(*token, w.physician, w.resolver, subject_of, kNow + 10);
  INFO((ok ? "" : ok.error().ToString()));
  REQUIRE(ok);
  CHECK(ok->patient == n.patient);
  CHECK(ok->prescription == digest);
  CHECK(ok->reason == "already_dispensed");
  CHECK(ok->description == n.description);
  CHECK(ok->refused_at == n.refused_at);
  CHECK(ok->id == "notice-1");

  SECTION("addressed to another prescriber") {
    auto r = VerifyRefusalNotice(*token, w.society.DidKey(), w.resolver, subject_of, kNow);
    CHECK(r.error().code() == StatusCode::kPermissionDenied);
  }
  SECTION("expired") {
    auto r = VerifyRefusalNotice(*token, w.physician, w.resolver, subject_of, kNow + 3600);
    CHECK(r.error().code() == StatusCode::kFailedPrecondition);
  }
  SECTION("signed by someone who is not the prescription's patient") {
    RefusalNotice other = n;
    other.patient = w.pharmacy.DidKey();
    auto forged = SignRefusalNotice(other, w.pharmacy.SignerFor(w.pharmacy.DidKey()), kNow);
    REQUIRE(forged);
    auto r = VerifyRefusalNotice(*forged, w.physician, w.resolver, subject_of, kNow);
    CHECK(r.error().code() == StatusCode::kPermissionDenied);
  }
  SECTION("a sub that is not the signer") {
    RefusalNotice other = n;
    other.patient = w.patient.DidKey();
    auto forged = SignRefusalNotice(other, w.pharmacy.SignerFor(w.pharmacy.DidKey()), kNow);
    CHECK(!forged);  // SignJwt: the key must belong to `sub`
  }
  SECTION("a prescription that is not the prescriber's") {
    RefusalNotice other = n;
    other.prescription = std::string(64, 'a');
    auto t = SignRefusalNotice(other, patient, kNow);
    REQUIRE(t);
    auto r = VerifyRefusalNotice(*t, w.physician, w.resolver, subject_of, kNow);
    CHECK(r.error().code() == StatusCode::kNotFound);
  }
  SECTION("tampered") {
    std::string t = *token;
    const size_t dot = t.find('.');
    t[dot + 5] = t[dot + 5] == 'A' ? 'B' : 'A';
    CHECK(!VerifyRefusalNotice(t, w.physician, w.resolver, subject_of, kNow));
  }
  SECTION("malformed fields are refused when signing") {
    RefusalNotice bad = n;
    bad.description = std::string(kRefusalDescriptionMax + 1, 'x');
    CHECK(SignRefusalNotice(bad, patient, kNow).error().code() == StatusCode::kInvalidArgument);
    bad = n;
    bad.prescription = "not-a-digest";
    CHECK(SignRefusalNotice(bad, patient, kNow).error().code() == StatusCode::kInvalidArgument);
  }
}

// The pharmacy as an OpenID4VP verifier (roles/src/pharmacy_oid4vp.h): a request by reference,
// the wallet's answer by direct_post, the pipeline with its reason codes behind it. Both client
// identifier prefixes (OID4VP §5.9.3): redirect_uri: (unsigned request objects) and
// decentralized_identifier:<the pharmacy's did:key> (request objects signed by its key, verified
// by the wallet through its resolver), what `pharmacy serve` uses.
TEST_CASE("Pharmacy: OpenID4VP direct_post runs the dispense pipeline, each refusal named",
          "[claims][pharmacy][oid4vp]") {
  const bool did_client = GENERATE(false, true);
  SdWorld w;
  roles::PharmacyService svc;
  svc.config = w.Config(w.pharmacy, w.secret);
  svc.resolver = &w.resolver;
  svc.challenges = &w.challenges;
  auto port = MakeInProcessLedgerPort(w.log.get());
  svc.ledger = port.get();
  svc.license_status = [](const json&) { return Status::Ok(); };
  svc.env = w.env;
  int dispensed = 0;
  svc.on_dispensed = [&](const DispenseResult&) { ++dispensed; };
  std::optional<Signer> request_signer;
  if (did_client) request_signer = w.pharmacy.SignerFor(w.pharmacy.DidKey());
  auto opened = roles::PharmacyOid4vp::Open(svc, (w.dir / "oid4vp.db").string(),
                                            "https://pharmacy.example/", w.env, request_signer);
  REQUIRE(opened);
  roles::PharmacyOid4vp& ph = **opened;
  const std::string client =
      did_client ? "decentralized_identifier:" + w.pharmacy.DidKey()
                 : "redirect_uri:https://pharmacy.example/pharmacy/v1/oid4vp/response";
  CHECK(ph.client_id() == client);
  const Signer holder = w.holder.SignerFor(w.holder.DidKey());

  // The wallet's side: the request fetched by reference (the request object: alg none, or a JWS
  // by the pharmacy's key checked against its DID document).
  auto wallet_reads = [&](const json& made) {
    const std::string uri = made["uri"];
    CHECK(uri.starts_with("openid4vp://?client_id="));
    std::map<std::string, std::string> outer = {{"client_id", made["client_id"]},
                                                {"request_uri", made["request_uri"]}};
    std::string object;
    auto parsed = oid4vc::ParseAuthorizationRequest(
        outer,
        [&](const std::string& u, const std::string&) -> Result<std::string> {
          const std::string prefix = "https://pharmacy.example/pharmacy/v1/oid4vp/requests/";
          if (!u.starts_with(prefix)) return Status::NotFound("404");
          auto o = ph.verifier().RequestObject(u.substr(prefix.size()));
          if (o) object = *o;
          return o;
        },
        &w.resolver, w.env.clock->NowSeconds());
    INFO((parsed ? "" : parsed.error().ToString()));
    REQUIRE(parsed);
    const json header = json::parse(ToString(*Base64UrlDecode(object.substr(0, object.find('.')))));
    CHECK(header["typ"] == "oauth-authz-req+jwt");
    if (did_client) {
      CHECK(header["alg"] == "EdDSA");
      CHECK(header["kid"] == w.pharmacy.DidKey() + "#" + w.pharmacy.Multikey());
      CHECK(parsed->verifier_did == w.pharmacy.DidKey());
      // A signed request object is not what a redirect_uri: client sends; the wallet refuses it.
      std::map<std::string, std::string> as_redirect = outer;
      as_redirect["client_id"] = "redirect_uri:https://pharmacy.example/pharmacy/v1/oid4vp/response";
      auto refused = oid4vc::ParseAuthorizationRequest(
          as_redirect, [&](const std::string&, const std::string&) -> Result<std::string> {
            return object;
          });
      CHECK_FALSE(refused);
    } else {
      CHECK(header["alg"] == "none");
      CHECK(parsed->verifier_did.empty());
    }
    return *parsed;
  };
  auto answer = [&](const oid4vc::ParsedRequest& req, const std::string& sd) {
    auto form = oid4vc::BuildResponse(req, {sd}, holder, w.env);
    INFO((form ? "" : form.error().ToString()));
    REQUIRE(form);
    (*form)[roles::kCosignatureParam] = w.Cosign(sd, w.phone);
    // Her phone approves this fill for this verifier: aud = the client_id.
    (*form)[roles::kFillAuthorizationParam] =
        w.DidAuth(w.patient, w.patient.DidKey(), client, SdJwtDigest(sd));
    return *form;
  };
  auto status_of = [&](const json& made) {
    auto o = ph.Outcome(made["id"]);
    REQUIRE(o);
    return *o;
  };
  const std::string sd = w.Copy(w.Prescription("II"));

  SECTION("dispensed, then the same response replayed") {
    auto made = ph.NewRequest(/*controlled=*/true);
    REQUIRE(made);
    CHECK((*made)["request"]["dcql_query"]["credentials"][0]["meta"]["vct_values"][0] ==
          kPrescriptionVct);
    CHECK((*made)["request"]["nonce"].get<std::string>().size() > 20);
    oid4vc::ParsedRequest req = wallet_reads(*made);
    CHECK(req.client_id == client);
    CHECK(status_of(*made)["status"] == "waiting");
    auto form = answer(req, sd);
    auto [code, body] = ph.Respond(form);
    INFO(body.dump() << status_of(*made).dump());
    CHECK(code == 200);
    CHECK(dispensed == 1);
    json st = status_of(*made);
    CHECK(st["status"] == "dispensed");
    CHECK(st["result"]["fill"] == 1);
    CHECK(st["result"]["disclosed"] == json::array({"/sub"}));
    // Only /sub was disclosed: no dosage, no FHIR subject travelled.
    CHECK(form["vp_token"].find("1 tablet every 6 hours") == std::string::npos);
    auto [again, why] = ph.Respond(form);
    CHECK(again == 400);
    CHECK(why["error"] == "invalid_request");
    CHECK_THAT(why["error_description"].get<std::string>(), Catch::Contains("already answered"));
    CHECK(dispensed == 1);
  }
  SECTION("direct_post.jwt: the answer encrypted to the request's key, the approvals inside") {
    auto made = ph.NewRequest(/*controlled=*/true, /*encrypted=*/true);
    REQUIRE(made);
    CHECK((*made)["request"]["response_mode"] == "direct_post.jwt");
    const json jwk = (*made)["request"]["client_metadata"]["jwks"]["keys"][0];
    // Our wallet code reads direct_post only; the answer is built and then encrypted (§8.3).
    oid4vc::ParsedRequest req;
    req.client_id = client;
    req.response_uri = (*made)["request"]["response_uri"];
    req.nonce = (*made)["request"]["nonce"];
    req.state = (*made)["request"]["state"];
    req.query = *oid4vc::ParseDcqlQuery((*made)["request"]["dcql_query"]);
    auto form = answer(req, sd);
    json payload = json::object();
    for (const auto& [k, v] : form) payload[k] = k == "vp_token" ? json::parse(v) : json(v);
    auto [plain, why] = ph.Respond(form);
    CHECK(plain == 400);  // the plain form is refused for an encrypted request
    CHECK_THAT(why["error_description"].get<std::string>(), Catch::Contains("encrypted"));
    auto jwe = oid4vc::EncryptResponse(payload, jwk, "A128GCM");
    REQUIRE(jwe);
    auto [code, body] = ph.Respond({{"response", *jwe}});
    INFO(body.dump());
    CHECK(code == 200);
    CHECK(status_of(*made)["status"] == "dispensed");
    CHECK(dispensed == 1);
  }
  SECTION("refused before anything is spent: wrong nonce, another state, sub withheld, another "
          "aud") {
    auto made = ph.NewRequest(true);
    REQUIRE(made);
    oid4vc::ParsedRequest req = wallet_reads(*made);
    oid4vc::ParsedRequest wrong = req;
    wrong.nonce = "not-this-requests-nonce";
    auto [c1, b1] = ph.Respond(answer(wrong, sd));
    CHECK(c1 == 400);
    CHECK_THAT(b1["error_description"].get<std::string>(), Catch::StartsWith("nonce_mismatch"));
    auto other = ph.NewRequest(true);
    REQUIRE(other);
    auto form = answer(req, sd);
    form["state"] = (*other)["request"]["state"];  // this answer under another request's state
    auto [c2, b2] = ph.Respond(form);
    CHECK(c2 == 400);
    CHECK_THAT(b2["error_description"].get<std::string>(), Catch::StartsWith("nonce_mismatch"));
    // `sub` asked (controlled) but not disclosed: the query is not satisfied.
    SdJwtPresentOptions hide;
    hide.audience = client;
    hide.nonce = req.nonce;
    auto hidden = PresentSdJwt(sd, hide, &holder, w.env);
    REQUIRE(hidden);
    auto undisclosed = answer(req, sd);
    undisclosed["vp_token"] = json{{"prescription", {*hidden}}}.dump();
    auto [c6, b6] = ph.Respond(undisclosed);
    CHECK(c6 == 400);
    CHECK_THAT(b6["error_description"].get<std::string>(), Catch::Contains("not satisfied"));
    wrong = req;
    wrong.client_id = "redirect_uri:https://other-verifier.example/cb";
    auto [c3, b3] = ph.Respond(answer(wrong, sd));
    CHECK(c3 == 400);
    CHECK_THAT(b3["error_description"].get<std::string>(), Catch::StartsWith("aud_mismatch"));
    auto [c4, b4] = ph.Respond({{"state", req.state}, {"vp_token", "[]"}});
    CHECK(c4 == 400);
    CHECK(b4["error"] == "invalid_request");
    // The wallet's §8.5 error is noted; the request stays open.
    auto [c5, b5] = ph.Respond({{"state", req.state}, {"error", "access_denied"}});
    CHECK(c5 == 200);
    json st = status_of(*made);
    CHECK(st["status"] == "waiting");
    CHECK(st["declined"]["error"] == "access_denied");
    CHECK(dispensed == 0);
    // Nothing was spent: the real answer still dispenses, and the other request is open too.
    auto [ok, body] = ph.Respond(answer(req, sd));
    INFO(body.dump());
    CHECK(ok == 200);
    CHECK(status_of(*made)["status"] == "dispensed");
    CHECK(status_of(*other)["status"] == "waiting");
  }
  SECTION("the pipeline's reasons: sub not asked for a controlled substance, no co-signature") {
    auto made = ph.NewRequest(/*controlled=*/false);  // the query does not ask for sub
    REQUIRE(made);
    const oid4vc::ParsedRequest read = wallet_reads(*made);
    auto [code, body] = ph.Respond(answer(read, sd));
    CHECK(code == 400);
    CHECK(body["error"] == "invalid_request");
    CHECK_THAT(body["error_description"].get<std::string>(),
               Catch::StartsWith(rx_reason::kPatientApprovalMissing));
    json st = status_of(*made);
    CHECK(st["status"] == "refused");
    CHECK(st["error"] == rx_reason::kPatientApprovalMissing);
    // The state is spent once the pipeline ran; the request object is gone.
    auto [again, why] = ph.Respond(answer(read, sd));
    CHECK(again == 400);
    CHECK_THAT(why["error_description"].get<std::string>(), Catch::Contains("already answered"));
    CHECK(ph.verifier().RequestObject((*made)["id"]).error().code() == StatusCode::kNotFound);

    made = ph.NewRequest(true);
    REQUIRE(made);
    auto form = answer(wallet_reads(*made), sd);
    form.erase(roles::kCosignatureParam);
    auto [c2, b2] = ph.Respond(form);
    CHECK(c2 == 400);
    CHECK(status_of(*made)["error"] == rx_reason::kPhoneProofMissing);
    CHECK(dispensed == 0);
  }
}
