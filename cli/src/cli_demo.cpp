// `medallion demo`: the prescription flow of the design, every role its own process on
// loopback (ledger, medical society, the patient's and the physician's containers, two
// pharmacies) and both phones driven through `medallion phone`. The demo itself plays the
// people's apps: it holds their wallets, signs what they sign and talks HTTP to the roles. It
// narrates each step, checks everything, writes every artifact to a fresh run folder with an
// index.json, and exits 1 if any check fails. `medallion up` starts the same roles and waits.
#include "cli_demo.h"

#include <CLI/CLI.hpp>

#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli_ledger_options.h"
#include "cli_util.h"
#include "demo_procs.h"
#include "medallion/roles/flow.h"
#include "medallion/claims/ledger_entries.h"
#include "medallion/claims/credentials.h"
#include "medallion/claims/data_integrity.h"
#include "medallion/claims/jose.h"
#include "medallion/claims/presentation.h"
#include "medallion/claims/sd_jwt.h"
#include "medallion/claims/pharmacy.h"
#include "medallion/core/encoding.h"
#include "medallion/core/hash.h"
#include "medallion/core/jcs.h"
#include "medallion/did/did_key.h"
#include "medallion/did/did_mdl.h"
#include "medallion/ledger/signed_note.h"
#include "medallion/roles/did_http.h"
#include "medallion/http/http_client.h"
#include "medallion/roles/ledger_client.h"
#include "medallion/uma/authorization_server.h"
#include "medallion/uma/policy.h"
#include "medallion/uma/relationship.h"
#include "medallion/wallet/bip39.h"
#include "medallion/wallet/keys.h"
#include "medallion/wallet/keystore.h"

namespace medallion::cli {
namespace flow = roles::flow;
namespace {

using nlohmann::json;
namespace fs = std::filesystem;
using wallet::KeyPurpose;

// --- narration and artifacts ---

class Narrator {
 public:
  Narrator(std::string dir, bool quiet) : dir_(std::move(dir)), quiet_(quiet) {}
  void Step(int n, const std::string& title) {
    step_ = n;
    Say("\n== Step " + std::to_string(n) + ". " + title);
  }
  void Say(const std::string& line) {
    transcript_ += line + "\n";
    if (!quiet_) std::cout << line << std::endl;
  }
  bool Check(bool ok, const std::string& what) {
    Say(std::string(ok ? "  [ok]   " : "  [FAIL] ") + what);
    // --quiet still names every failed check (on stderr), with its step.
    if (!ok && quiet_) std::cerr << "[FAIL] step " << step_ << ": " << what << std::endl;
    if (!ok) ++failures_;
    return ok;
  }
  bool Ok(const Status& st, const std::string& what) {
    return Check(st.ok(), what + (st.ok() ? "" : " (" + st.ToString() + ")"));
  }
  // One file per object; recorded in index.json with its kind and the step that made it.
  void Artifact(const std::string& name, const std::string& kind, const std::string& content) {
    Status st = WriteFileAtomic(dir_ + "/" + name, content, true, true);
    if (!st.ok()) Check(false, "write " + name + ": " + st.ToString());
    index_.push_back({{"file", name}, {"kind", kind}, {"step", step_}});
  }
  void Json(const std::string& name, const std::string& kind, const json& j) {
    Artifact(name, kind, j.dump(2) + "\n");
  }
  int failures() const { return failures_; }
  const std::string& dir() const { return dir_; }
  json index() const { return index_; }
  const std::string& transcript() const { return transcript_; }

 private:
  std::string dir_;
  bool quiet_;
  std::string transcript_;
  json index_ = json::array();
  int failures_ = 0;
  int step_ = 0;
};

// --- people and their wallets ---

using flow::Answer;
using flow::Call;
using flow::Now;

// A party of the demo: her wallet (key store file and passphrase) and her keys.
struct Person : flow::Party {
  std::string name, store, passphrase;
  std::map<std::string, std::string> Env() const { return {{"MEDALLION_PASSPHRASE", passphrase}}; }
};

Result<Person> NewPerson(const std::string& name, const std::string& dir, Rng& rng) {
  Person p;
  p.name = name;
  p.store = dir + "/" + name + ".wallet";
  p.passphrase = Base64UrlEncode(rng.RandomBytes(18));
  MDL_ASSIGN_OR_RETURN(SecretString words, wallet::bip39::GenerateMnemonic(rng, 256));
  MDL_ASSIGN_OR_RETURN(SecretBytes entropy, wallet::bip39::MnemonicToEntropy(words.Reveal()));
  MDL_ASSIGN_OR_RETURN(SecretBytes seed, wallet::bip39::MnemonicToSeed(words.Reveal(), ""));
  MDL_ASSIGN_OR_RETURN(flow::Party keys, flow::PartyFromSeed(seed.Reveal(), ""));
  static_cast<flow::Party&>(p) = std::move(keys);
  wallet::WalletSecret secret{std::move(entropy), std::move(seed)};
  MDL_ASSIGN_OR_RETURN(auto ks,
                       wallet::KeyStore::Create(p.store, p.passphrase, secret,
                                                wallet::KdfParams::Interactive(), DefaultEnv()));
  return p;
}

// --- the roles ---

struct Roles {
  std::string exe = SelfExe();
  std::string dir;
  std::map<std::string, Process> procs;
  std::map<std::string, std::vector<std::string>> args;  // to restart each on the same port
  std::map<std::string, std::map<std::string, std::string>> envs;

  Result<json> Start(const std::string& name, std::vector<std::string> a,
                     std::map<std::string, std::string> env = {}) {
    a.insert(a.begin(), exe);
    MDL_ASSIGN_OR_RETURN(Process p, Process::Start(a, env, dir + "/logs/" + name + ".log"));
    json banner = p.banner();
    // Later restarts listen where the first start did.
    const std::string url = banner.value("url", "");
    for (size_t i = 0; i + 1 < a.size(); ++i) {
      if (a[i] == "--listen") a[i + 1] = url.substr(url.find("://") + 3);
    }
    args[name] = a;
    envs[name] = env;
    procs[name] = std::move(p);
    return banner;
  }
  Status RestartAll() {
    // Everything stops, then everything comes back from its disk state.
    for (auto& [name, p] : procs) p.Stop();
    for (const std::string name : {"ledger", "society", "patient-container", "physician-container",
                                   "pharmacy-a", "pharmacy-b"}) {
      if (!args.count(name)) continue;
      MDL_ASSIGN_OR_RETURN(Process p,
                           Process::Start(args[name], envs[name], dir + "/logs/" + name + ".log"));
      procs[name] = std::move(p);
    }
    return Status::Ok();
  }
  void StopAll() {
    for (auto& [name, p] : procs) p.Stop();
  }
  Result<std::string> Phone(const std::vector<std::string>& a, const std::string& passphrase) {
    std::vector<std::string> full = {exe, "phone"};
    full.insert(full.end(), a.begin(), a.end());
    MDL_ASSIGN_OR_RETURN(RunResult r, RunCommand(full, {{"MEDALLION_PASSPHRASE", passphrase}}));
    if (r.exit_code != 0)
      return Status::FailedPrecondition("medallion phone " + a[0] + ": " + r.err);
    return r.out;
  }
  Result<std::string> Cli(const std::vector<std::string>& a,
                          const std::map<std::string, std::string>& env) {
    std::vector<std::string> full = {exe};
    full.insert(full.end(), a.begin(), a.end());
    MDL_ASSIGN_OR_RETURN(RunResult r, RunCommand(full, env));
    if (r.exit_code != 0)
      return Status::FailedPrecondition("medallion " + a[0] + " " + a[1] + ": " + r.err);
    return r.out;
  }
};

// The society's licensing directory in the demo and in `up`: Dr. Rivera.
json SocietyDirectory() {
  return json::array({{{"license_number", "MA-MD-204812"},
                       {"name", "Dr. Elena Rivera"},
                       {"jurisdiction", "US-MA"},
                       {"license_type", "MD"},
                       {"specialty", "Internal Medicine"},
                       {"schedules", {"II", "III", "IV", "V"}},
                       {"valid_until", did::XmlDateTime(Now() + 2 * 365 * 86400)}}});
}

// The run folder with the subfolders each party and role writes to (0700).
Status MakeRunFolders(const std::string& dir, std::initializer_list<const char*> subs) {
  std::error_code ec;
  for (const char* sub : subs) {
    fs::create_directories(dir + sub, ec);
    if (ec) return Status::InvalidArgument("cannot create " + dir + sub + ": " + ec.message());
    ::chmod((dir + sub).c_str(), 0700);
  }
  return Status::Ok();
}

std::string RunFolder(const std::string& out) {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "run-%Y%m%d-%H%M%S", &tm);
  std::string dir = out + "/" + stamp;
  for (int i = 2; fs::exists(dir); ++i) dir = out + "/" + stamp + "-" + std::to_string(i);
  return dir;
}

// --- the flow ---

struct Demo {
  Narrator& n;
  Roles roles;
  SystemRng rng;
  Person society, physician, patient, pharmacy_a, pharmacy_b;
  std::string ledger_url, log_key, origin;
  std::shared_ptr<roles::LedgerClient> ledger;
  json society_banner;
  std::string society_did, society_url;
  std::string patient_box, physician_box, pharmacy_a_url, pharmacy_b_url, pharmacy_a_domain,
      pharmacy_b_domain;
  std::string patient_phone_store, physician_phone_store, patient_device, physician_device;
  std::string patient_session, physician_session;
  json license;
  bool restart = false;
  // The pharmacy copies (SD-JWT VC) of the prescriptions, by credential id, with the phone's
  // co-signature for a controlled substance.
  struct Copy {
    std::string sd_jwt, cosignature;
  };
  std::map<std::string, Copy> copies;

  explicit Demo(Narrator& narrator) : n(narrator) { roles.dir = n.dir(); }

  std::vector<std::string> LedgerArgs() const {
    return {"--ledger", ledger_url, "--log-key", log_key};
  }

  Result<std::string> Pair(const std::string& box, const std::string& session,
                           const std::string& phone_store, const std::string& passphrase,
                           const std::string& who) {
    MDL_ASSIGN_OR_RETURN(Answer offer, Call("POST", box + "/owner/v1/pairings", session));
    if (offer.status != 201) return Status::Unavailable("no pairing offer: " + offer.body.dump());
    n.Say("  " + who + "'s container shows a pairing QR code: " +
          offer.body["uri"].get<std::string>().substr(0, 48) + "...");
    MDL_ASSIGN_OR_RETURN(std::string init,
                         roles.Phone({"init", "--store", phone_store, "--kdf", "interactive",
                                      "--mnemonic-out", phone_store + ".words"},
                                     passphrase));
    MDL_ASSIGN_OR_RETURN(std::string paired,
                         roles.Phone({"pair", "--store", phone_store, "--uri", offer.body["uri"],
                                      "--name", who + "'s phone"},
                                     passphrase));
    (void)paired;
    return json::parse(init)["device_key"].get<std::string>();
  }

  // Queues an approval on `box` for the owner's phone, approves it with `medallion phone`, and
  // returns the signed result.
  Result<json> PhoneApproves(const std::string& box, const std::string& session,
                             const json& request, const std::string& phone_store,
                             const std::string& passphrase) {
    MDL_ASSIGN_OR_RETURN(std::string id, flow::QueueApproval(box, session, request));
    MDL_ASSIGN_OR_RETURN(std::string pending,
                         roles.Phone({"pending", "--store", phone_store}, passphrase));
    for (const json& item : json::parse(pending)) {
      if (item["id"] == id) n.Say("    phone shows: \"" + item.value("text", "") + "\"");
    }
    // "--" first: an id may begin with "-".
    MDL_ASSIGN_OR_RETURN(std::string decided,
                         roles.Phone({"approve", "--store", phone_store, "--", id}, passphrase));
    (void)decided;
    return flow::ApprovedResult(box, session, id);
  }

  Result<json> WritePrescription(const std::string& rx_id, const json& request,
                                 const std::string& schedule) {
    MDL_ASSIGN_OR_RETURN(json signed_vc, flow::SignPrescription(physician, patient.did, request,
                                                                schedule, license, rx_id));
    n.Check(true, "signed by Dr. Rivera's assertion key (" +
                      physician.Kid(physician.assertion).substr(0, 40) + "...)");
    if (!schedule.empty()) {
      auto cosigned = PhoneApproves(
          physician_box, physician_session,
          flow::CosignRequest(physician.did + "#" + physician_device, signed_vc, patient.did),
          physician_phone_store, physician.passphrase);
      n.Check(cosigned.has_value(),
              "her phone co-signed (controlled substance, schedule " + schedule + ")");
      MDL_RETURN_IF_ERROR(cosigned.status());
      signed_vc = *cosigned;
    }
    // The postmark: the credential's hash on the ledger, signed by the physician.
    MDL_ASSIGN_OR_RETURN(Hash256 digest, claims::CredentialDigest(signed_vc));
    MDL_ASSIGN_OR_RETURN(uint64_t index, flow::Postmark(*ledger, HexEncode(digest), physician));
    n.Check(true, "postmarked on the ledger at index " + std::to_string(index) + " (hash " +
                      HexEncode(digest).substr(0, 16) + "...)");
    Status delivered =
        flow::KeepAndDeliver(signed_vc, physician_box, physician_session, patient_box);
    n.Ok(delivered,
         "kept in Dr. Rivera's container and delivered to the patient's (inbox: subject and issuer "
         "proof checked)");
    // The pharmacy copy: an SD-JWT VC bound to Alice's pairwise pseudonym for Dr. Rivera, from
    // which she discloses only what a pharmacy needs.
    MDL_ASSIGN_OR_RETURN(std::string pseudonym, flow::HolderPseudonym(patient.seed.Reveal(), 0));
    MDL_ASSIGN_OR_RETURN(std::string sd, flow::IssuePharmacyCopy(physician, signed_vc, pseudonym));
    Copy copy{sd, ""};
    if (!schedule.empty()) {
      auto cosigned = PhoneApproves(
          physician_box, physician_session,
          flow::SdCosignRequest(physician.did + "#" + physician_device, sd,
                                request["medicationCodeableConcept"].value("text", "")),
          physician_phone_store, physician.passphrase);
      n.Check(cosigned.has_value() && cosigned->is_string(),
              "her phone co-signed the pharmacy copy (SD-JWT VC) as well");
      MDL_RETURN_IF_ERROR(cosigned.status());
      copy.cosignature = cosigned->get<std::string>();
    }
    MDL_ASSIGN_OR_RETURN(uint64_t sd_index,
                         flow::Postmark(*ledger, claims::SdJwtDigest(sd), physician));
    n.Check(true,
            "its pharmacy copy (SD-JWT VC, bound to Alice's pairwise key) postmarked at index " +
                std::to_string(sd_index));
    copies[signed_vc["id"].get<std::string>()] = copy;
    return signed_vc;
  }

  // The patient presents `rx` at a pharmacy, with her phone's fill authorization when the drug
  // is controlled. Returns the pharmacy's answer. Every presentation to a pharmacy — the refill
  // and the refused attempt elsewhere too — is the SD-JWT VC copy: no pharmacy ever receives the
  // full prescription (the Data Integrity form shares its nullifiers: claims_tests).
  Result<Answer> Present(const json& prescription, const std::string& pharmacy_url,
                         const std::string& label) {
    MDL_ASSIGN_OR_RETURN(claims::Challenge challenge, flow::PharmacyChallenge(pharmacy_url));
    json body;
    std::string digest_hex;
    {
      // Minimal disclosure: the SD-JWT VC with only what the pharmacy needs, key-bound to its
      // challenge.
      const Copy& copy = copies.at(prescription["id"].get<std::string>());
      std::vector<std::string> revealed, hidden;
      MDL_ASSIGN_OR_RETURN(std::string presented,
                           roles::PresentPharmacyCopy(copy.sd_jwt, patient.seed.Reveal(), 0,
                                                      challenge, DefaultEnv(), &revealed, &hidden));
      n.Artifact("presentation-" + label + ".sd-jwt", "presentation", presented + "\n");
      MDL_ASSIGN_OR_RETURN(claims::SdJwtHolderView view, claims::InspectSdJwt(copy.sd_jwt));
      json visible = json::array();
      const json payload =
          json::parse(view.payload_json);  // a named value: items() of a temporary dangles
      for (auto& [k, v] : payload.items()) {
        if (k == "prescription") {
          for (auto& [fk, fv] : v.items()) {
            if (std::find(hidden.begin(), hidden.end(), "/prescription/" + fk) == hidden.end())
              visible.push_back("/prescription/" + fk);
          }
        } else if (std::find(hidden.begin(), hidden.end(), "/" + k) == hidden.end()) {
          visible.push_back("/" + k);
        }
      }
      n.Json("disclosed-" + label + ".json", "disclosure",
             {{"format", "dc+sd-jwt"},
              {"pharmacy_receives", visible},
              {"revealed_disclosures", revealed},
              {"hidden", hidden}});
      body = {{"sd_jwt", presented}};
      if (!copy.cosignature.empty()) body["cosignature"] = copy.cosignature;
      digest_hex = claims::SdJwtDigest(copy.sd_jwt);
    }
    const json& subject = prescription["credentialSubject"];
    if (!subject.value("controlledSubstanceSchedule", "").empty()) {
      const json request =
          flow::FillRequest(patient.did + "#" + patient_device, challenge.domain, digest_hex,
                            subject["prescription"]["medicationCodeableConcept"].value("text", ""));
      MDL_ASSIGN_OR_RETURN(json approval, PhoneApproves(patient_box, patient_session, request,
                                                        patient_phone_store, patient.passphrase));
      body["fill_authorization"] = approval;
      n.Artifact("fill-authorization-" + label + ".jwt", "fill-authorization",
                 approval.get<std::string>() + "\n");
    }
    return flow::Dispense(pharmacy_url, body);
  }

  // Writes the inclusion proof of ledger entry `index` against the checkpoint in
  // `checkpoint_file` (which the caller wrote from the same trusted state) as `name`.
  Status ProofArtifact(const std::string& name, uint64_t index,
                       const std::string& checkpoint_file) {
    auto entries = ledger->Entries(index, index + 1);
    if (!n.Ok(entries.status(), "inclusion proof of ledger index " + std::to_string(index)))
      return Status::Ok();
    json proof = json::array();
    const roles::ProvenEntry& e = (*entries)[0];
    for (const auto& h : e.inclusion_proof) proof.push_back(HexEncode(h));
    n.Json(name, "inclusion-proof",
           {{"index", index},
            {"tree_size", e.tree_size},
            {"entry", json::parse(e.entry)},
            {"leaf_hash", HexEncode(e.leaf_hash)},
            {"inclusion_proof", proof},
            {"checkpoint", checkpoint_file}});
    return Status::Ok();
  }

  // Carried from one step to the next: the physician's UMA client, request and RPT at Alice's
  // container (step 3), the prescription (step 4) and the pharmacy's answer to its first fill (step
  // 6).
  std::optional<flow::UmaClient> uma_client;  // the physician's UMA client at Alice's container
  json med_request;                           // the MedicationRequest she is allowed to write
  std::string rpt;
  json rx;
  Answer fill1;

  Status Run() {
    for (Status (Demo::*step)() : {&Demo::Step1, &Demo::Step2, &Demo::Step3, &Demo::Step4,
                                   &Demo::Step5, &Demo::Step6, &Demo::Step7, &Demo::Step8}) {
      MDL_RETURN_IF_ERROR((this->*step)());
    }
    return Status::Ok();
  }

  // Step 1: The parties, their identities and the ledger.
  Status Step1() {
    // ---------------------------------------------------------------------------------------
    n.Step(1, "The parties, their identities and the ledger");
    MDL_ASSIGN_OR_RETURN(society, NewPerson("society", n.dir() + "/society", rng));
    MDL_ASSIGN_OR_RETURN(physician, NewPerson("physician", n.dir() + "/physician", rng));
    MDL_ASSIGN_OR_RETURN(patient, NewPerson("patient", n.dir() + "/patient", rng));
    MDL_ASSIGN_OR_RETURN(pharmacy_a, NewPerson("pharmacy-a", n.dir() + "/pharmacy-a", rng));
    MDL_ASSIGN_OR_RETURN(pharmacy_b, NewPerson("pharmacy-b", n.dir() + "/pharmacy-b", rng));
    n.Check(true,
            "five wallets (BIP-39 seeds in encrypted key stores): society, Dr. Rivera, Alice, two "
            "pharmacies");
    MDL_ASSIGN_OR_RETURN(
        json lb, roles.Start("ledger", {"ledger", "serve", "--db", n.dir() + "/ledger/ledger.db",
                                        "--key-file", n.dir() + "/ledger/ledger.key", "--origin",
                                        "demo.medallion.health/ledger", "--listen", "127.0.0.1:0",
                                        "--json"}));
    ledger_url = lb["url"];
    log_key = lb["verifier_key"];
    origin = lb["origin"];
    n.Say("  ledger node (its own process) at " + ledger_url);
    ClientOptions lo;
    lo.url = ledger_url;
    lo.log_key = log_key;
    MDL_ASSIGN_OR_RETURN(roles::LedgerClient client, lo.MakeClient());
    ledger = std::make_shared<roles::LedgerClient>(std::move(client));
    for (Person* p : {&physician, &patient}) {
      MDL_ASSIGN_OR_RETURN(std::string out,
                           roles.Cli({"did", "create", "--store", p->store, "--ledger", ledger_url,
                                      "--log-key", log_key},
                                     p->Env()));
      p->did = out.substr(0, out.find_last_not_of(" \n") + 1);
      n.Check(p->did.rfind("did:mdl:", 0) == 0,
              p->name + "'s lifelong did:mdl on the ledger: " + p->did);
      n.Artifact(p->name + "-did.txt", "did", p->did + "\n");
    }
    json directory = SocietyDirectory();
    MDL_RETURN_IF_ERROR(
        WriteFileAtomic(n.dir() + "/society/directory.json", directory.dump(2), true, true));
    MDL_ASSIGN_OR_RETURN(
        society_banner,
        roles.Start(
            "society",
            {"issuer", "serve", "--dir", n.dir() + "/society/data", "--store", society.store,
             "--directory", n.dir() + "/society/directory.json", "--listen", "127.0.0.1:0",
             "--status-ttl-ms", "1000", "--json", "--ledger", ledger_url, "--log-key", log_key},
            society.Env()));
    society_did = society_banner["did"];
    society_url = society_banner["url"];
    n.Check(society_did.rfind("did:web:localhost", 0) == 0,
            "the Massachusetts medical society publishes " + society_did);
    MDL_ASSIGN_OR_RETURN(Answer did_doc, Call("GET", society_url + "/.well-known/did.json"));
    n.Json("society-did.json", "did-document", did_doc.body);
    return Status::Ok();
  }

  // Step 2: Dr. Rivera proves her identity to the society and receives her license.
  Status Step2() {
    // ---------------------------------------------------------------------------------------
    n.Step(2, "Dr. Rivera proves her identity to the society and receives her license");
    MDL_ASSIGN_OR_RETURN(Answer lic,
                         flow::Onboard(physician, society_url, "MA-MD-204812", "Dr. Elena Rivera"));
    n.Check(lic.status == 201,
            "the society matched her DID proof and its directory entry and issued a "
            "MedicalLicenseCredential");
    license = lic.body;
    n.Json("license.json", "credential", license);
    MDL_ASSIGN_OR_RETURN(Answer replay,
                         flow::Onboard(physician, society_url, "MA-MD-000000", "Dr. Elena Rivera"));
    n.Check(replay.status >= 400,
            "an unknown license number gets nothing (" + replay.body.value("error", "") + ")");
    return Status::Ok();
  }

  // Step 3: Dr. Rivera signs in to Alice's container with her DID and license.
  Status Step3() {
    // ---------------------------------------------------------------------------------------
    n.Step(3, "Dr. Rivera signs in to Alice's container with her DID and license");
    std::vector<std::string> box_common = {"--listen",
                                           "127.0.0.1:0",
                                           "--json",
                                           "--ledger-receipts",
                                           "--trust",
                                           society_did,
                                           "--allow-insecure-loopback"};
    for (auto& s : LedgerArgs()) box_common.push_back(s);
    {
      std::vector<std::string> a = {
          "container", "serve",       "--dir",   n.dir() + "/patient/container",
          "--store",   patient.store, "--owner", patient.did};
      a.insert(a.end(), box_common.begin(), box_common.end());
      MDL_ASSIGN_OR_RETURN(json b, roles.Start("patient-container", a, patient.Env()));
      patient_box = b["url"];
    }
    {
      std::vector<std::string> a = {
          "container", "serve",         "--dir",   n.dir() + "/physician/container",
          "--store",   physician.store, "--owner", physician.did};
      a.insert(a.end(), box_common.begin(), box_common.end());
      MDL_ASSIGN_OR_RETURN(json b, roles.Start("physician-container", a, physician.Env()));
      physician_box = b["url"];
    }
    n.Say("  Alice's container " + patient_box + ", Dr. Rivera's container " + physician_box +
          " (each its own process)");
    MDL_ASSIGN_OR_RETURN(patient_session, flow::OwnerSignIn(patient, patient_box));
    MDL_ASSIGN_OR_RETURN(physician_session, flow::OwnerSignIn(physician, physician_box));
    n.Check(true, "each signs in to her own container with a DID-auth challenge");
    MDL_ASSIGN_OR_RETURN(physician_device,
                         Pair(physician_box, physician_session, n.dir() + "/physician/phone.wallet",
                              physician.passphrase, "Dr. Rivera"));
    MDL_ASSIGN_OR_RETURN(patient_device,
                         Pair(patient_box, patient_session, n.dir() + "/patient/phone.wallet",
                              patient.passphrase, "Alice"));
    physician_phone_store = n.dir() + "/physician/phone.wallet";
    patient_phone_store = n.dir() + "/patient/phone.wallet";
    n.Check(true,
            "both phones paired: their keys are now device keys of the two did:mdl documents");
    json policy = {
        {"effect", "permit"},
        {"subjects",
         {{{"credential_type", "MedicalLicenseCredential"}, {"issuers", {society_did}}}}},
        {"resource_types", {"MedicationRequest"}},
        {"scopes", {"read", "search", "create"}},
        {"purposes", {"treatment"}},
        {"note", "licensed physicians of the Massachusetts society, for my treatment"}};
    MDL_ASSIGN_OR_RETURN(
        Answer pol, Call("POST", patient_box + "/owner/v1/policies", patient_session, &policy));
    n.Check(pol.status == 201,
            "Alice's private policy: licensed physicians may read and write her medication "
            "requests, for treatment");
    n.Json("consent-receipt.json", "consent-receipt", pol.body["receipt"]);

    uma_client = flow::UmaClient{patient_box};
    MDL_RETURN_IF_ERROR(uma_client->Register());
    med_request =
        flow::MedicationRequest("1049621", "oxycodone 5 mg oral tablet", 1, "Patient/alice");
    MDL_ASSIGN_OR_RETURN(Answer first,
                         Call("POST", patient_box + "/fhir/MedicationRequest", "", &med_request));
    n.Check(first.status == 401 && first.body.contains("ticket"),
            "without a token her container answers 401 with a UMA permission ticket");
    MDL_ASSIGN_OR_RETURN(Answer granted,
                         uma_client->Grant(first.body["ticket"], physician, license));
    n.Check(granted.status == 200,
            "need_info, then her license presentation: the container checked the license with the "
            "society's status list and Alice's policy → RPT");
    if (granted.status != 200) return Status::FailedPrecondition("no RPT: " + granted.body.dump());
    rpt = granted.body["access_token"];
    return Status::Ok();
  }

  // Step 4: Dr. Rivera writes the prescription, signs it (her phone co-signs), stores and postmarks
  // it.
  Status Step4() {
    // ---------------------------------------------------------------------------------------
    n.Step(4,
           "Dr. Rivera writes the prescription, signs it (her phone co-signs), stores and "
           "postmarks it");
    MDL_ASSIGN_OR_RETURN(Answer created,
                         Call("POST", patient_box + "/fhir/MedicationRequest", rpt, &med_request));
    n.Check(created.status == 201, "MedicationRequest/" + created.body.value("id", "?") +
                                       " written to Alice's FHIR record store with the RPT");
    n.Json("medication-request.json", "fhir", created.body);
    MDL_ASSIGN_OR_RETURN(rx, WritePrescription(claims::NewCredentialId(rng), created.body, "II"));
    n.Json("prescription.json", "credential", rx);
    n.Artifact("prescription.sd-jwt", "credential",
               copies[rx["id"].get<std::string>()].sd_jwt + "\n");
    n.Artifact("prescription-cosignature.jwt", "co-signature",
               copies[rx["id"].get<std::string>()].cosignature + "\n");
    {
      // The relationship (MedRec): Alice gives Dr. Rivera a pairwise pseudonym; she opens the
      // relationship on the ledger with the data location sealed to Alice; Alice accepts.
      MDL_ASSIGN_OR_RETURN(uma::PairwiseKey alice_pw,
                           uma::DerivePairwiseKey(patient.seed.Reveal(), 0));
      MDL_ASSIGN_OR_RETURN(uma::PairwiseKey dr_pw,
                           uma::DerivePairwiseKey(physician.seed.Reveal(), 0));
      MDL_ASSIGN_OR_RETURN(std::string shared, jcs::Canonicalize(created.body));
      MDL_ASSIGN_OR_RETURN(
          json open,
          uma::BuildOpen(dr_pw, alice_pw.Pseudonym(), "patient_provider",
                         patient_box + "/fhir/MedicationRequest/" + created.body.value("id", ""),
                         HexEncode(Sha256(AsBytes(shared))), Now()));
      MDL_ASSIGN_OR_RETURN(ledger::AppendResult opened, ledger->Append(open));
      MDL_ASSIGN_OR_RETURN(json accept,
                           uma::BuildPatientAction(alice_pw, dr_pw.Pseudonym(), "patient_provider",
                                                   "accept", Now()));
      MDL_ASSIGN_OR_RETURN(ledger::AppendResult accepted, ledger->Append(accept));
      n.Check(true, "relationship opened by Dr. Rivera (index " + std::to_string(opened.index) +
                        ", location sealed to Alice) and accepted by Alice (index " +
                        std::to_string(accepted.index) + "), between pairwise pseudonyms only");
      n.Json("relationship-open.json", "ledger-entry", open);
    }

    if (restart) {
      n.Say("\n  -- every process is stopped and started again (state on disk only) --");
      MDL_RETURN_IF_ERROR(roles.RestartAll());
      MDL_ASSIGN_OR_RETURN(Answer creds,
                           Call("GET", patient_box + "/owner/v1/credentials", patient_session));
      n.Check(creds.status == 200 && creds.body.size() == 1,
              "after the restart: Alice's session, her container and the prescription are all "
              "still there");
    }
    return Status::Ok();
  }

  // Step 5: Alice presents the prescription to a pharmacy of her choice.
  Status Step5() {
    // ---------------------------------------------------------------------------------------
    n.Step(5, "Alice presents the prescription to a pharmacy of her choice");
    for (auto [person, name, url, domain] :
         {std::tuple{&pharmacy_a, "pharmacy-a", &pharmacy_a_url, &pharmacy_a_domain},
          std::tuple{&pharmacy_b, "pharmacy-b", &pharmacy_b_url, &pharmacy_b_domain}}) {
      std::vector<std::string> a = {
          "pharmacy", "serve",       "--dir",     n.dir() + "/" + name + "/data",
          "--store",  person->store, "--listen",  "127.0.0.1:0",
          "--json",   "--trust",     society_did, "--allow-insecure-loopback"};
      for (auto& s : LedgerArgs()) a.push_back(s);
      MDL_ASSIGN_OR_RETURN(json b, roles.Start(name, a, person->Env()));
      *url = b["url"];
      *domain = b["domain"];
      person->did = b["did"];
    }
    n.Say("  pharmacies: Main St " + pharmacy_a_url + ", Elm St " + pharmacy_b_url);
    MDL_ASSIGN_OR_RETURN(fill1, Present(rx, pharmacy_a_url, "fill-1"));
    n.Check(fill1.status == 200,
            "SD-JWT VC presentation (key binding to the pharmacy's challenge, only what a pharmacy "
            "needs disclosed) + her phone's fill authorization");
    return Status::Ok();
  }

  // Step 6: The pharmacy verifies everything, dispenses and records the fill.
  Status Step6() {
    // ---------------------------------------------------------------------------------------
    n.Step(6, "The pharmacy verifies everything, dispenses and records the fill");
    if (fill1.status == 200) {
      for (const json& s : fill1.body.value("steps", json::array()))
        n.Say("    " + s.value("step", "") + ": " + s.value("detail", ""));
      n.Check(fill1.body.value("disclosed", json::array()) == json::array({"/sub"}),
              "the pharmacy received the medication, quantity, repeats, prescriber, license and "
              "nullifier input, and of the hidden claims only "
              "Alice's DID (for her phone's approval): " +
                  fill1.body.value("disclosed", json::array()).dump());
      const json receipt = fill1.body.value("receipt", json::object());
      n.Json("dispense-receipt-1.json", "receipt", receipt);
      MDL_ASSIGN_OR_RETURN(Answer kept, Call("POST", patient_box + "/owner/v1/credentials",
                                             patient_session, &receipt));
      n.Check(kept.status == 201,
              "Alice keeps the pharmacy's signed dispense receipt in her container" +
                  (kept.status == 201 ? std::string() : " (" + kept.body.dump() + ")"));
    }
    MDL_ASSIGN_OR_RETURN(Answer fill2, Present(rx, pharmacy_a_url, "fill-2"));
    n.Check(fill2.status == 200,
            "the one refill is dispensed (fill 2 of 2), again from the minimal SD-JWT VC copy");
    MDL_ASSIGN_OR_RETURN(Answer fill3, Present(rx, pharmacy_a_url, "fill-3"));
    n.Check(fill3.status == 422 && fill3.body.value("error", "") == "already_dispensed",
            "a third fill is refused: " + fill3.body.value("error", "?"));
    MDL_ASSIGN_OR_RETURN(Answer elsewhere, Present(rx, pharmacy_b_url, "elsewhere"));
    n.Check(elsewhere.status == 422 && elsewhere.body.value("error", "") == "dispensed_elsewhere",
            "the same prescription at another pharmacy is refused: " +
                elsewhere.body.value("error", "?"));
    n.Json("refusal-third-fill.json", "refusal", fill3.body);
    n.Json("refusal-other-pharmacy.json", "refusal", elsewhere.body);

    // A request outside Alice's policy: her conditions.
    MDL_ASSIGN_OR_RETURN(Answer cond,
                         Call("GET", patient_box + "/fhir/Condition?patient=alice", rpt));
    if (cond.status == 401 && cond.body.contains("ticket")) {
      MDL_ASSIGN_OR_RETURN(Answer denied,
                           uma_client->Grant(cond.body["ticket"], physician, license));
      n.Check(denied.status == 403 && denied.body.value("error", "") == "request_denied",
              "Dr. Rivera asks for Alice's conditions: outside her policy → " +
                  denied.body.value("error", "?") + " (the policy itself stays private)");
      n.Json("refusal-outside-policy.json", "refusal", denied.body);
    } else {
      n.Check(false, "a request outside the policy gets a ticket first");
    }
    return Status::Ok();
  }

  // Step 7: The society revokes Dr. Rivera's license; her new prescription is refused.
  Status Step7() {
    // ---------------------------------------------------------------------------------------
    n.Step(7, "The society revokes Dr. Rivera's license; her new prescription is refused");
    MDL_ASSIGN_OR_RETURN(SecretString admin, ReadSecretFile(n.dir() + "/society/data/admin.token"));
    std::string admin_token = admin.Reveal();
    while (!admin_token.empty() && admin_token.back() == '\n') admin_token.pop_back();
    MDL_ASSIGN_OR_RETURN(Answer rev,
                         flow::SetLicenseStatus(society_url, admin_token,
                                                license["id"].get<std::string>(), "revoke"));
    n.Check(rev.status == 200, "revoked on the society's status list");
    MDL_ASSIGN_OR_RETURN(Answer list, Call("GET", society_url + "/status/revocation"));
    n.Json("status-list-revocation.json", "status-list", list.body);
    std::this_thread::sleep_for(
        std::chrono::milliseconds(1500));  // the lists' ttl in this demo: 1 s
    const json request2 =
        flow::MedicationRequest("308182", "amoxicillin 500 mg oral capsule", 0, "Patient/alice");
    MDL_ASSIGN_OR_RETURN(json rx2, WritePrescription(claims::NewCredentialId(rng), request2, ""));
    n.Json("prescription-after-revocation.json", "credential", rx2);
    MDL_ASSIGN_OR_RETURN(Answer refused, Present(rx2, pharmacy_a_url, "after-revocation"));
    n.Check(refused.status == 422 && refused.body.value("error", "") == "license_revoked",
            "the pharmacy refuses it: " + refused.body.value("error", "?"));
    n.Json("refusal-revoked-license.json", "refusal", refused.body);
    return Status::Ok();
  }

  // Step 8: Dispute: each side proves from its receipts and the ledger what was signed, when.
  Status Step8() {
    // ---------------------------------------------------------------------------------------
    n.Step(8, "Dispute: each side proves from its receipts and the ledger what was signed, when");
    for (Status (Demo::*part)() : {&Demo::ProvePostmark, &Demo::ProveDispense, &Demo::ProveConsent,
                                   &Demo::ProveDidOperations, &Demo::RebuildAndResolve}) {
      MDL_RETURN_IF_ERROR((this->*part)());
    }
    return Status::Ok();
  }

  // The prescription's postmark, proven against a signed checkpoint.
  Status ProvePostmark() {
    MDL_ASSIGN_OR_RETURN(Hash256 digest, claims::CredentialDigest(rx));
    MDL_RETURN_IF_ERROR(ledger->Refresh().status());
    MDL_ASSIGN_OR_RETURN(auto postmarks,
                         ledger->Lookup({ledger::KeyKind::kHash, HexEncode(digest)}));
    n.Check(postmarks.size() == 1,
            "Dr. Rivera: the prescription's postmark is at ledger index " +
                (postmarks.empty() ? std::string("?") : std::to_string(postmarks[0].index)) +
                ", inclusion proven against a signed checkpoint");
    n.Artifact("postmark-checkpoint.txt", "checkpoint", ledger->verifier().trusted_note());
    if (!postmarks.empty()) {
      MDL_RETURN_IF_ERROR(
          ProofArtifact("postmark-proof.json", postmarks[0].index, "postmark-checkpoint.txt"));
    }
    return Status::Ok();
  }

  // The dispense receipt is the pharmacy's, and its record is on the ledger.
  Status ProveDispense() {
    if (fill1.status != 200) return Status::Ok();  // step 6 reported it
    json receipt = fill1.body.value("receipt", json::object());
    did::Resolver resolver;
    claims::ProofCheckOptions po;
    po.now = Now();
    auto proofs = claims::VerifyProofs(receipt, resolver, po);
    n.Check(proofs.has_value(), "Alice: the dispense receipt is signed by Main St Pharmacy (" +
                                    pharmacy_a.did.substr(0, 28) + "...)" +
                                    (proofs ? "" : ": " + proofs.error().ToString()));
    const uint64_t idx = fill1.body.value("dispense_index", uint64_t{0});
    MDL_ASSIGN_OR_RETURN(auto record, ledger->Entries(idx, idx + 1));
    n.Check(record.size() == 1 && json::parse(record[0].entry)["type"] == "dispense",
            "the dispense record at index " + std::to_string(idx) +
                " is proven on the ledger (it names neither Alice nor the drug)");
    MDL_RETURN_IF_ERROR(ProofArtifact("dispense-proof-1.json", idx, "proofs-checkpoint.txt"));
    // The receipt's own checkpoint includes the record it names.
    // (A C2SP checkpoint: origin, then the tree size, on the second line.)
    const std::string note = receipt["credentialSubject"].value("checkpoint", "");
    const size_t line2 = note.find('\n');
    const uint64_t cp_size =
        line2 == std::string::npos ? 0 : std::strtoull(note.c_str() + line2 + 1, nullptr, 10);
    n.Check(cp_size > idx, "the receipt's checkpoint (size " + std::to_string(cp_size) +
                               ") includes its record (index " + std::to_string(idx) + ")");
    return Status::Ok();
  }

  // Her consent receipts, her accounting of disclosures and her notifications.
  Status ProveConsent() {
    MDL_ASSIGN_OR_RETURN(Answer receipts,
                         Call("GET", patient_box + "/owner/v1/receipts", patient_session));
    bool consent_proven = receipts.status == 200 && !receipts.body.empty();
    int receipt_proofs = 0;
    for (const json& r : receipts.body) {
      for (const json& i : r["ledger_indexes"]) {
        auto e = ledger->Entries(i.get<uint64_t>(), i.get<uint64_t>() + 1);
        consent_proven =
            consent_proven && e.has_value() && json::parse((*e)[0].entry)["receipt"] == r["hash"];
        MDL_RETURN_IF_ERROR(
            ProofArtifact("consent-receipt-proof-" + std::to_string(++receipt_proofs) + ".json",
                          i.get<uint64_t>(), "proofs-checkpoint.txt"));
      }
    }
    n.Check(consent_proven, "Alice: her consent receipt is on the ledger, signed by her DID");
    MDL_ASSIGN_OR_RETURN(
        Answer anchor, Call("POST", patient_box + "/owner/v1/disclosures/anchor", patient_session));
    MDL_ASSIGN_OR_RETURN(
        Answer log, Call("GET", patient_box + "/owner/v1/disclosures/export", patient_session));
    auto verified = uma::VerifyDisclosureExport(log.body);
    n.Check(anchor.status == 200 && verified.has_value(),
            "her accounting of disclosures (" + std::to_string(verified ? *verified : 0) +
                " hash-chained entries) verifies and its head is anchored at ledger index " +
                std::to_string(anchor.body.value("ledger_index", 0)));
    n.Json("disclosure-log.json", "disclosure-log", log.body);
    MDL_ASSIGN_OR_RETURN(Answer events,
                         Call("GET", patient_box + "/owner/v1/events?after=0", patient_session));
    n.Check(!events.body.value("events", json::array()).empty(),
            "her notifications: " + std::to_string(events.body["events"].size()) +
                " (requests awaiting approval, disclosures, new prescriptions)");
    n.Json("notifications.json", "notifications", events.body);
    return Status::Ok();
  }

  // The DID operations of both, each with its inclusion proof.
  Status ProveDidOperations() {
    // Her DID operations, and Dr. Rivera's, each with its inclusion proof.
    for (const Person* p : {&physician, &patient}) {
      MDL_ASSIGN_OR_RETURN(auto ops, ledger->Lookup({ledger::KeyKind::kDid, p->did}));
      for (size_t i = 0; i < ops.size(); ++i) {
        MDL_RETURN_IF_ERROR(
            ProofArtifact(p->name + "-did-op-proof-" + std::to_string(i + 1) + ".json",
                          ops[i].index, "proofs-checkpoint.txt"));
      }
      n.Check(!ops.empty(), p->name + "'s " + std::to_string(ops.size()) +
                                " DID operation(s) proven on the ledger");
    }
    n.Artifact("proofs-checkpoint.txt", "checkpoint", ledger->verifier().trusted_note());
    return Status::Ok();
  }

  // Recovery from the seed, the DID documents as they stand, the final checkpoint.
  Status RebuildAndResolve() {
    // Alice's container is gone: her relationships come back from her seed and the ledger.
    MDL_RETURN_IF_ERROR(ledger->Refresh().status());
    auto rebuilt = uma::RebuildFromSeed(
        patient.seed.Reveal(),
        [&](const std::string& id) -> Result<std::vector<std::pair<uint64_t, std::string>>> {
          MDL_ASSIGN_OR_RETURN(auto proven, ledger->Lookup({ledger::KeyKind::kRelationship, id}));
          std::vector<std::pair<uint64_t, std::string>> out;
          for (auto& e : proven) out.emplace_back(e.index, e.entry);
          return out;
        });
    n.Check(rebuilt.has_value() && rebuilt->size() == 1 &&
                (*rebuilt)[0].patient_decision == "accepted" &&
                (*rebuilt)[0].location.find(patient_box) == 0,
            "Alice rebuilds her relationships from her seed and the ledger alone: 1 found, "
            "accepted, its location opened");
    if (rebuilt && !rebuilt->empty()) {
      n.Json("relationships-rebuilt.json", "relationships",
             {{"rel", (*rebuilt)[0].id},
              {"status", (*rebuilt)[0].status},
              {"patient_decision", (*rebuilt)[0].patient_decision},
              {"location", (*rebuilt)[0].location},
              {"ledger_indexes", (*rebuilt)[0].indexes}});
    }
    // The two did:mdl documents as they stand now (with the phones' device keys), resolved
    // through the verifying ledger client.
    for (const Person* p : {&physician, &patient}) {
      MDL_ASSIGN_OR_RETURN(
          std::string doc,
          roles.Cli({"did", "resolve", p->did, "--ledger", ledger_url, "--log-key", log_key}, {}));
      n.Json(p->name + "-did-resolution.json", "did-resolution", json::parse(doc));
    }
    MDL_ASSIGN_OR_RETURN(ledger::Checkpoint cp, ledger->Refresh());
    n.Artifact("checkpoint.txt", "checkpoint", ledger->verifier().trusted_note());
    n.Check(true, "final checkpoint: " + std::to_string(cp.size) + " entries");
    return Status::Ok();
  }
};

int RunDemo(const std::string& out, bool quiet, bool restart) {
  const std::string dir = RunFolder(out);
  if (Status st = MakeRunFolders(dir, {"", "/logs", "/ledger", "/society", "/physician", "/patient",
                                       "/pharmacy-a", "/pharmacy-b"});
      !st.ok()) {
    return ReportError(st);
  }
  Narrator n(dir, quiet);
  n.Say("Medallion demo: a prescription from a physician's DID to a pharmacy's dispense record.");
  n.Say("Run folder: " + dir);
  const auto started = std::chrono::steady_clock::now();
  Demo demo(n);
  demo.restart = restart;
  Status st = demo.Run();
  if (!st.ok()) n.Check(false, "the flow stopped: " + st.ToString());
  demo.roles.StopAll();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  json index = {{"run", dir},
                {"files", n.index()},
                {"ledger",
                 {{"url", demo.ledger_url},
                  {"verifier_key", demo.log_key},
                  {"origin", demo.origin},
                  {"checkpoint", "checkpoint.txt"}}},
                {"parties",
                 {{"society", demo.society_did},
                  {"physician", demo.physician.did},
                  {"patient", demo.patient.did},
                  {"pharmacy_a", demo.pharmacy_a.did},
                  {"pharmacy_b", demo.pharmacy_b.did}}},
                {"checks_failed", n.failures()},
                {"seconds", seconds}};
  (void)WriteFileAtomic(dir + "/index.json", index.dump(2) + "\n", true, true);
  n.Say(std::string("\n") +
        (n.failures() == 0 ? "All checks passed"
                           : std::to_string(n.failures()) + " check(s) FAILED") +
        " in " + std::to_string(static_cast<int>(seconds)) + " s. Artifacts: " + dir +
        "/index.json");
  if (quiet && n.failures() > 0)
    std::cerr << n.failures() << " check(s) FAILED; the transcript: " << dir << "/transcript.txt"
              << std::endl;
  (void)WriteFileAtomic(dir + "/transcript.txt", n.transcript(), true, true);
  return n.failures() == 0 ? kExitOk : kExitFalse;
}

// The commands that walk `medallion up` through the whole prescription flow by hand, one
// block per role (docs/roles.md "The flow by hand"). `table` is up.json.
std::string TryBlock(const std::string& dir, const json& table, const Person& patient,
                     const Person& physician) {
  auto url = [&](const std::string& role) {
    for (const json& r : table) {
      if (r["role"] == role) return r["url"].get<std::string>();
    }
    return std::string();
  };
  const std::string L = url("ledger"), K = table[0]["log_key"], S = url("society (issuer)"),
                    PB = url("patient's container"), DB = url("physician's container"),
                    PH = url("pharmacy");
  const std::string dr = " --store " + physician.store + " --passphrase-file " + dir +
                         "/physician/passphrase.txt --did " + physician.did;
  const std::string alice = " --store " + patient.store + " --passphrase-file " + dir +
                            "/patient/passphrase.txt --did " + patient.did;
  const std::string led = " --ledger " + L + " --log-key " + K;
  auto field = [&](const std::string& role, const char* key) {
    for (const json& r : table) {
      if (r["role"] == role) return r.value(key, std::string());
    }
    return std::string();
  };
  std::string t = "\nThe people, each in her own browser (docs/web.md has the walkthrough). Each "
                  "sign-in link works\nonce, for 10 minutes, and registers that browser's "
                  "passkey:\n";
  const std::pair<const char*, const char*> people[] = {
      {"Alice, the patient", "patient's container"},
      {"Dr. Rivera, the physician", "physician's container"},
      {"the pharmacist", "pharmacy"},
      {"the society's clerk", "society (issuer)"}};
  for (const auto& [who, role] : people) {
    t += "\n  " + std::string(who) + "\n      app:          " + field(role, "app") +
         "\n      sign-in link: " + field(role, "sign_in_link") + "\n";
  }
  t += "\n  New links: medallion container login-link --url " + PB + alice +
       "\n             medallion container login-link --url " + DB + dr +
       "\n             medallion pharmacy add-staff --dir " + dir +
       "/pharmacy/data --name NAME --role pharmacist|technician\n" +
       "             medallion issuer add-clerk --dir " + dir + "/society/data --name NAME\n";
  t += "\nThe phones (a terminal each): pair with the URI under the QR code (Alice's app: Devices;"
       "\nDr. Rivera's workspace: My license, or `medallion consent pair` as below), then approve by "
       "hand:\n";
  t += "  medallion phone init --store alice-phone.db --kdf interactive --mnemonic-out "
       "alice-phone.words\n";
  t += "  medallion phone pair --store alice-phone.db --uri URI && medallion phone watch --store "
       "alice-phone.db\n";
  t += "  medallion phone init --store dr-phone.db --kdf interactive --mnemonic-out "
       "dr-phone.words\n";
  t += "  medallion consent signin --url " + DB + dr +
       " --session-file dr.session && medallion consent pair --url " + DB +
       " --session-file dr.session\n";
  t += "  medallion phone pair --store dr-phone.db --uri URI && medallion phone watch --store "
       "dr-phone.db\n";
  t += "\nTry (in an empty folder; every step of `medallion demo` by hand):\n";
  t += "\n  # the patient: sign in, pair a phone, allow licensed physicians to write medication "
       "requests\n";
  t += "  medallion consent signin --url " + PB + alice + " --session-file alice.session\n";
  t += "  medallion consent pair --url " + PB +
       " --session-file alice.session    # its \"uri\" is the QR code\n";
  t += "  medallion phone init --store alice-phone.db --kdf interactive --mnemonic-out "
       "alice-phone.words\n";
  t += "  medallion phone pair --store alice-phone.db --uri URI\n";
  t += "  medallion consent add-policy --url " + PB +
       " --session-file alice.session --policy "
       "'{\"effect\":\"permit\",\"subjects\":[{\"credential_type\":\"MedicalLicenseCredential\","
       "\"issuers\":[\"" +
       table[1]["did"].get<std::string>() +
       "\"]}],\"resource_types\":[\"MedicationRequest\"],\"scopes\":[\"read\",\"search\","
       "\"create\"],\"purposes\":[\"treatment\"]}'\n";
  t += "\n  # the physician: license, her own container and phone, sign in to Alice's container, "
       "write, prescribe, deliver\n";
  t += "  medallion issuer onboard --url " + S + dr +
       " --license-number MA-MD-204812 --name 'Dr. Elena Rivera' --out license.json\n";
  t += "  medallion consent signin --url " + DB + dr + " --session-file dr.session\n";
  t += "  medallion consent pair --url " + DB + " --session-file dr.session\n";
  t += "  medallion phone init --store dr-phone.db --kdf interactive --mnemonic-out dr-phone.words "
       "&& medallion phone pair --store dr-phone.db --uri URI\n";
  t += "  medallion physician signin --url " + PB + dr +
       " --license license.json --session-file dr-uma.json\n";
  t += "  medallion physician write --session-file dr-uma.json --in medication-request.json --out "
       "stored.json\n";
  t += "  medallion relationship pseudonym --store " + patient.store + " --passphrase-file " + dir +
       "/patient/passphrase.txt    # Alice's pseudonym for Dr. Rivera: PSEUDONYM\n";
  t += "  medallion physician prescribe" + dr +
       " --license license.json --request stored.json --patient " + patient.did +
       " --schedule II --holder PSEUDONYM --container " + DB +
       " --session-file dr.session --out draft.json" + led + "\n";
  t += "  medallion phone approve --store dr-phone.db -- ID     # each co-signature id printed\n";
  t += "  medallion physician deliver --draft draft.json" + dr +
       " --session-file dr.session --patient-container " + PB +
       " --out rx.json --copy-out rx.copy.json" + led + "\n";
  t += "\n  # the patient at the pharmacy\n";
  t += "  medallion pharmacy present --url " + PH + alice + " --container " + PB +
       " --session-file alice.session --copy rx.copy.json --out presentation.json" + led +
       "    # without --copy: the full credential\n";
  t += "  medallion phone approve --store alice-phone.db -- ID  # the fill\n";
  t += "  medallion pharmacy dispense --presentation presentation.json --session-file "
       "alice.session --out receipt.json\n";
  t += "\n  # the society\n";
  t += "  medallion issuer revoke --url " + S + " --admin-token-file " + dir +
       "/society/data/admin.token --license license.json\n";
  t += "  medallion issuer suspend|reinstate --url " + S + " --admin-token-file " + dir +
       "/society/data/admin.token --license license.json\n";
  return t;
}

std::atomic<bool> g_up_stop{false};
void OnUpSignal(int) { g_up_stop = true; }

// `medallion up`: the same roles as the demo, started and left running for interactive use.
// `up`'s roles, started and described (each person's app and sign-in link, the Try block).
Status StartUp(Demo& d, const std::string& dir) {
  MDL_ASSIGN_OR_RETURN(d.society, NewPerson("society", dir + "/society", d.rng));
  MDL_ASSIGN_OR_RETURN(d.physician, NewPerson("physician", dir + "/physician", d.rng));
  MDL_ASSIGN_OR_RETURN(d.patient, NewPerson("patient", dir + "/patient", d.rng));
  MDL_ASSIGN_OR_RETURN(d.pharmacy_a, NewPerson("pharmacy", dir + "/pharmacy", d.rng));
  for (Person* p : {&d.society, &d.physician, &d.patient, &d.pharmacy_a}) {
    MDL_RETURN_IF_ERROR(
        WriteFileAtomic(fs::path(p->store).parent_path().string() + "/passphrase.txt",
                        p->passphrase + "\n", false, true));
  }
  MDL_ASSIGN_OR_RETURN(
      json lb, d.roles.Start("ledger", {"ledger", "serve", "--db", dir + "/ledger/ledger.db",
                                        "--key-file", dir + "/ledger/ledger.key", "--origin",
                                        "local.medallion.health/ledger", "--listen",
                                        "127.0.0.1:0", "--json"}));
  d.ledger_url = lb["url"];
  d.log_key = lb["verifier_key"];
  for (Person* p : {&d.physician, &d.patient}) {
    MDL_ASSIGN_OR_RETURN(std::string o,
                         d.roles.Cli({"did", "create", "--store", p->store, "--ledger",
                                      d.ledger_url, "--log-key", d.log_key},
                                     p->Env()));
    p->did = o.substr(0, o.find_last_not_of(" \n") + 1);
  }
  json directory = SocietyDirectory();
  MDL_RETURN_IF_ERROR(
      WriteFileAtomic(dir + "/society/directory.json", directory.dump(2), true, true));
  MDL_ASSIGN_OR_RETURN(
      json sb, d.roles.Start("society",
                             {"issuer", "serve", "--dir", dir + "/society/data", "--store",
                              d.society.store, "--directory", dir + "/society/directory.json",
                              "--listen", "127.0.0.1:0", "--json", "--status-ttl-ms", "1000",
                              "--ledger", d.ledger_url, "--log-key", d.log_key},
                             d.society.Env()));
  const std::string society_did = sb["did"];
  std::vector<std::string> common = {"--listen",
                                     "127.0.0.1:0",
                                     "--json",
                                     "--ledger-receipts",
                                     "--trust",
                                     society_did,
                                     "--allow-insecure-loopback",
                                     "--ledger",
                                     d.ledger_url,
                                     "--log-key",
                                     d.log_key};
  json table = json::array();
  table.push_back({{"role", "ledger"}, {"url", d.ledger_url}, {"log_key", d.log_key}});
  table.push_back({{"role", "society (issuer)"},
                   {"url", sb["url"]},
                   {"did", society_did},
                   {"admin_token", dir + "/society/data/admin.token"},
                   {"app", sb.value("app", "")},
                   {"sign_in_link", sb.value("setup_link", "")}});
  for (Person* p : {&d.patient, &d.physician}) {
    std::vector<std::string> a = {
        "container", "serve",  "--dir",   dir + "/" + p->name + "/container",
        "--store",   p->store, "--owner", p->did, "--app", p->name};
    a.insert(a.end(), common.begin(), common.end());
    MDL_ASSIGN_OR_RETURN(json b, d.roles.Start(p->name + "-container", a, p->Env()));
    // Her app in a browser (docs/web.md): the URL, and a one-time link that registers a
    // passkey and signs her in (`medallion container login-link` makes another).
    table.push_back(
        {{"role", p->name + "'s container"},
         {"url", b["url"]},
         {"owner", p->did},
         {"wallet", p->store},
         {"passphrase_file", fs::path(p->store).parent_path().string() + "/passphrase.txt"},
         {"app", b.value("app", "")},
         {"sign_in_link", b.value("setup_link", "")}});
  }
  std::vector<std::string> a = {"pharmacy",  "serve",
                                "--dir",     dir + "/pharmacy/data",
                                "--store",   d.pharmacy_a.store,
                                "--listen",  "127.0.0.1:0",
                                "--json",    "--trust",
                                society_did, "--allow-insecure-loopback",
                                "--ledger",  d.ledger_url,
                                "--log-key", d.log_key};
  a.insert(a.end(), {"--name", "Riverside Pharmacy"});
  MDL_ASSIGN_OR_RETURN(json pb, d.roles.Start("pharmacy", a, d.pharmacy_a.Env()));
  table.push_back({{"role", "pharmacy"},
                   {"url", pb["url"]},
                   {"did", pb["did"]},
                   {"app", pb.value("app", "")},
                   {"sign_in_link", pb.value("setup_link", "")}});
  MDL_RETURN_IF_ERROR(WriteFileAtomic(dir + "/up.json", table.dump(2) + "\n", true, true));
  const json example =
      flow::MedicationRequest("1049621", "oxycodone 5 mg oral tablet", 1, "Patient/alice");
  MDL_RETURN_IF_ERROR(
      WriteFileAtomic(dir + "/medication-request.json", example.dump(2) + "\n", true, true));
  std::cout << "Medallion is up (" << dir << "). Every role is its own process; logs in " << dir
            << "/logs.\n\n";
  for (const json& r : table) {
    std::cout << "  " << r["role"].get<std::string>() << "\n";
    for (auto& [k, v] : r.items()) {
      if (k != "role")
        std::cout << "      " << k << ": " << (v.is_string() ? v.get<std::string>() : v.dump())
                  << "\n";
    }
  }
  std::cout << TryBlock(dir, table, d.patient, d.physician) << "\nCtrl-C stops everything.\n"
            << std::flush;
  return Status::Ok();
}

int RunUp(const std::string& out) {
  const std::string dir = RunFolder(out);
  if (Status st = MakeRunFolders(
          dir, {"", "/logs", "/ledger", "/society", "/physician", "/patient", "/pharmacy"});
      !st.ok()) {
    return ReportError(st);
  }
  Narrator n(dir, true);
  Demo d(n);
  Status st = StartUp(d, dir);
  if (!st.ok()) {
    d.roles.StopAll();
    return ReportError(st);
  }
  struct sigaction sa {};
  sa.sa_handler = OnUpSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  while (!g_up_stop) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  d.roles.StopAll();
  std::cout << "stopped\n";
  return kExitOk;
}

}  // namespace

void AddUpCommand(CLI::App& app, int& rc) {
  auto* cmd = app.add_subcommand(
      "up",
      "Start a local deployment (ledger, society, two containers, a pharmacy) and keep it running");
  auto out = std::make_shared<std::string>("medallion-up");
  cmd->add_option(
      "--out", *out,
      "Folder for the roles' state (a new DIR/run-... each time; default ./medallion-up)");
  cmd->callback([out, &rc] { rc = RunUp(*out); });
}

void AddDemoCommand(CLI::App& app, int& rc) {
  auto* cmd = app.add_subcommand(
      "demo",
      "Run the prescription flow with every role in its own process (exit 1 if any check fails)");
  auto out = std::make_shared<std::string>("medallion-demo");
  auto quiet = std::make_shared<bool>(false);
  auto restart = std::make_shared<bool>(false);
  cmd->add_option(
      "--out", *out,
      "Folder for the artifacts (default ./medallion-demo). Each run writes to a new subfolder "
      "DIR/run-YYYYMMDD-HHMMSS (UTC), so nothing already in DIR is deleted or overwritten");
  cmd->add_flag("--quiet", *quiet, "Print nothing but errors");
  cmd->add_flag("--restart", *restart,
                "Stop and restart every process after step 4 (state must survive)");
  cmd->callback([out, quiet, restart, &rc] { rc = RunDemo(*out, *quiet, *restart); });
}

}  // namespace medallion::cli
