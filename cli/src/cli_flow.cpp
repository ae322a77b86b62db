// `medallion issuer onboard|revoke|suspend|reinstate`, `medallion physician
// signin|write|prescribe|deliver`, `medallion pharmacy present|dispense`: every step of the
// demo's prescription flow by hand, against the servers `medallion up` starts. Steps that need
// a phone stop after queuing the approval and print its id; `medallion phone approve ID` decides
// it and the next command picks up the signed result.
#include "cli_flow.h"

#include <CLI/CLI.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli_ledger_options.h"
#include "cli_util.h"
#include "medallion/roles/flow.h"
#include "medallion/claims/credentials.h"
#include "medallion/claims/pharmacy.h"
#include "medallion/claims/sd_jwt.h"
#include "medallion/core/encoding.h"
#include "medallion/core/hash.h"
#include "medallion/core/json.h"

namespace medallion::cli {
namespace flow = roles::flow;
namespace {

using flow::Answer;
using nlohmann::json;

Result<json> ReadJson(const std::string& path) {
  MDL_ASSIGN_OR_RETURN(Bytes b, ReadFileBytes(path));
  auto j = ParseJson(ToString(b), JsonLimits{size_t{64} << 20, 64});
  if (!j) return Status::InvalidArgument(path + " is not JSON: " + j.error().message());
  return std::move(*j);
}

Status WriteJson(const std::string& path, const json& j) {
  return WriteFileAtomic(path, DumpJson(j, 2) + "\n", false, true);
}

// A refusal by a server: 4xx is a negative answer about what we sent (exit 1), not unusable
// input of this command; its error code leads the message.
Status Refused(const std::string& what, const Answer& a) {
  const std::string msg =
      what + ": " + a.body.value("error", std::to_string(a.status)) +
      (a.body.contains("error_description") ? " (" + a.body.value("error_description", "") + ")"
                                            : "");
  return a.status >= 500 ? Status::Unavailable(msg) : Status::FailedPrecondition(msg);
}

// The result of a command: JSON with --json, else `text`.
int Emit(bool as_json, const json& j, const std::string& text) {
  if (as_json) {
    PrintJson(j);
  } else {
    std::cout << text << std::endl;
  }
  return kExitOk;
}

int Finish(const Result<json>& r, bool as_json,
           const std::function<std::string(const json&)>& text) {
  if (!r) return ReportError(r.error());
  return Emit(as_json, *r, text(*r));
}

// --store/--passphrase-file/--did of the person acting.
struct Who {
  std::string store, passphrase_file, did;
  void Add(CLI::App* cmd, const char* whose) {
    cmd->add_option("--store", store, std::string(whose) + " wallet key store")->required();
    cmd->add_option("--passphrase-file", passphrase_file,
                    "Key store passphrase (else $MEDALLION_PASSPHRASE or a prompt)");
    cmd->add_option("--did", did,
                    std::string(whose) + " DID (did:mdl, from `medallion did create`)")
        ->required();
  }
  Result<flow::Party> Open() const { return flow::PartyFromStore(store, passphrase_file, did); }
};

// A resolver for did:mdl (through the verifying ledger client) and did:web/did:key.
struct Resolving {
  ClientOptions ledger;
  std::shared_ptr<roles::LedgerClient> client;
  std::unique_ptr<Verifier> verifier;
  Status Open() {
    MDL_ASSIGN_OR_RETURN(roles::LedgerClient c, ledger.MakeClient());
    client = std::make_shared<roles::LedgerClient>(std::move(c));
    VerifierOptions vo;
    vo.allow_insecure_loopback = true;
    verifier = std::make_unique<Verifier>(vo, client);
    return Status::Ok();
  }
};

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// --- issuer ---

struct OnboardOptions {
  std::string url, license_number, name, out;
  Who who;
  bool as_json = false;
  int wait = 0;  // seconds to wait for a clerk's decision (issuer serve --review)
};

Result<json> RunOnboard(const OnboardOptions& o) {
  MDL_ASSIGN_OR_RETURN(flow::Party physician, o.who.Open());
  MDL_ASSIGN_OR_RETURN(Answer a, flow::Onboard(physician, o.url, o.license_number, o.name));
  if (a.status == 202 && a.body["request"].is_string()) {
    // The society's clerk decides: poll the request until then (or say where it stands).
    const std::string request = a.body["request"];
    const int64_t until = flow::Now() + o.wait;
    for (;;) {
      MDL_ASSIGN_OR_RETURN(a, flow::Call("GET", o.url + "/society/v1/onboarding/" + request));
      const std::string status = a.body.value("status", "");
      if (status == "approved" && a.body["credential"].is_object()) {
        a.body = a.body["credential"];
        a.status = 201;
        break;
      }
      if (status == "rejected") {
        return Status::WithReason(StatusCode::kPermissionDenied, "onboarding_rejected",
                                  "the society's clerk rejected the request: " +
                                      a.body.value("reason", ""));
      }
      if (flow::Now() >= until) {
        return Status::WithReason(StatusCode::kUnavailable, "onboarding_pending",
                                  "request " + request +
                                      " waits for the society's clerk (use --wait SECONDS)");
      }
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  }
  if (a.status != 201) return Refused("the society refused", a);
  MDL_RETURN_IF_ERROR(WriteJson(o.out, a.body));
  return json{{"license_id", a.body.value("id", "")},
              {"subject", physician.did},
              {"issuer", claims::IssuerOf(a.body)},
              {"file", o.out}};
}

struct StatusOptions {
  std::string url, admin_token_file, license_file, id;
  bool as_json = false;
};

Result<json> RunSetStatus(const StatusOptions& o, const std::string& action) {
  std::string id = o.id;
  if (id.empty()) {
    if (o.license_file.empty())
      return Status::InvalidArgument("--license FILE or --id ID is required");
    MDL_ASSIGN_OR_RETURN(json license, ReadJson(o.license_file));
    id = license.value("id", "");
  }
  MDL_ASSIGN_OR_RETURN(std::string token, ReadToken(o.admin_token_file));
  MDL_ASSIGN_OR_RETURN(Answer a, flow::SetLicenseStatus(o.url, token, id, action));
  if (a.status != 200) return Refused("the society refused", a);
  return a.body;
}

// --- physician ---

struct SigninOptions {
  std::string url, license, session_file, scope = "create", resource = "MedicationRequest";
  std::string license_sd_jwt;  // sign in by OpenID4VP claims gathering instead (UMA Grant §3.3.2)
  std::optional<uint32_t> relationship_index;
  int wait = 0;
  Who who;
  bool as_json = false;
};

// The party a session signs in as: the physician, or (with a relationship index) the provider
// of that relationship through its pairwise key.
Result<flow::Party> SessionParty(flow::Party physician, const json& session) {
  if (!session.contains("relationship_index")) return physician;
  if (!session["relationship_index"].is_number_unsigned())
    return Status::InvalidArgument("the session's relationship_index is not an index");
  return flow::PairwiseParty(physician, session["relationship_index"].get<uint32_t>());
}

Result<json> RunSignin(const SigninOptions& o) {
  if (o.license.empty() && !o.relationship_index && o.license_sd_jwt.empty())
    return Status::InvalidArgument(
        "--license FILE (or --license-sd-jwt FILE, or --relationship-index N) is required");
  if (!o.license_sd_jwt.empty() && (!o.license.empty() || o.relationship_index))
    return Status::InvalidArgument(
        "--license-sd-jwt goes alone (not with --license or --relationship-index)");
  MDL_ASSIGN_OR_RETURN(flow::Party me, o.who.Open());
  json session_base = json::object();
  if (o.relationship_index) session_base["relationship_index"] = *o.relationship_index;
  MDL_ASSIGN_OR_RETURN(flow::Party physician, SessionParty(std::move(me), session_base));
  json license;  // null: a relationship's pairwise key shows no license
  if (!o.license.empty()) {
    MDL_ASSIGN_OR_RETURN(license, ReadJson(o.license));
  }
  std::string license_sd_jwt;
  if (!o.license_sd_jwt.empty()) {
    MDL_ASSIGN_OR_RETURN(Bytes b, ReadFileBytes(o.license_sd_jwt));
    license_sd_jwt = Trim(ToString(b));  // as `oid4vci accept --out` writes it
  }
  flow::UmaClient uma{o.url};
  // Interactive claims gathering: a loopback claims_redirect_uri, registered with the client;
  // the command reads the redirect itself (no browser), so nothing listens there.
  if (!license_sd_jwt.empty()) uma.claims_redirect_uri = "http://127.0.0.1/medallion-cli/claims";
  MDL_RETURN_IF_ERROR(uma.Register());
  // The resource server answers an unauthenticated request with a permission ticket for the
  // scope it needs (UMA Grant §3.2): a create for "create", a search otherwise.
  const json empty = json::object();
  const std::string path = "/fhir/" + o.resource;
  MDL_ASSIGN_OR_RETURN(Answer probe, o.scope == "create"
                                         ? flow::Call("POST", o.url + path, "", &empty)
                                         : flow::Call("GET", o.url + path));
  if (probe.status != 401 || !probe.body["ticket"].is_string())
    return Refused("no permission ticket from " + o.url, probe);
  MDL_ASSIGN_OR_RETURN(Answer granted,
                       license_sd_jwt.empty()
                           ? uma.Grant(probe.body["ticket"], physician, license)
                           : uma.GrantByPresentation(probe.body["ticket"], physician,
                                                     license_sd_jwt));
  if (o.wait > 0) {
    MDL_ASSIGN_OR_RETURN(granted, uma.AwaitDecision(std::move(granted), o.wait));
  }
  if (granted.status != 200) return Refused("the patient's container refused", granted);
  json session = uma.ToJson();
  session["did"] = physician.did;
  session["license"] = license;
  session.update(session_base);
  MDL_RETURN_IF_ERROR(WriteFileAtomic(o.session_file, DumpJson(session, 2) + "\n", false, true));
  return json{{"container", o.url},
              {"session_file", o.session_file},
              {"scope", o.scope},
              {"resource", o.resource},
              {"did", physician.did}};
}

struct WriteOptions {
  std::string session_file, in, out, store, passphrase_file;
  bool as_json = false;
};

Result<json> RunWrite(const WriteOptions& o) {
  MDL_ASSIGN_OR_RETURN(json session, ReadJson(o.session_file));
  MDL_ASSIGN_OR_RETURN(flow::UmaClient uma, flow::UmaClient::FromJson(session));
  MDL_ASSIGN_OR_RETURN(json resource, ReadJson(o.in));
  if (!resource.is_object() || !resource["resourceType"].is_string())
    return Status::InvalidArgument(o.in + " is not a FHIR resource");
  const std::string path = "/fhir/" + resource["resourceType"].get<std::string>();
  // The RPT is used as is; only when the container asks again is the wallet opened.
  MDL_ASSIGN_OR_RETURN(Answer a, flow::Call("POST", uma.container + path, uma.rpt, &resource));
  if (a.status == 401 && a.body["ticket"].is_string()) {
    if (o.store.empty())
      return Status::FailedPrecondition(
          "the RPT no longer suffices: give --store to present the license again");
    const bool pairwise = session.contains("relationship_index");
    MDL_ASSIGN_OR_RETURN(
        flow::Party me,
        flow::PartyFromStore(o.store, o.passphrase_file, pairwise ? "" : session.value("did", "")));
    MDL_ASSIGN_OR_RETURN(flow::Party physician, SessionParty(std::move(me), session));
    MDL_ASSIGN_OR_RETURN(a, uma.Request("POST", path, &resource, physician, session["license"]));
    json updated = session;
    updated.update(uma.ToJson());
    MDL_RETURN_IF_ERROR(WriteFileAtomic(o.session_file, DumpJson(updated, 2) + "\n", false, true));
  }
  if (a.status != 201) return Refused("the patient's container refused", a);
  if (!o.out.empty()) MDL_RETURN_IF_ERROR(WriteJson(o.out, a.body));
  return a.body;
}

struct PrescribeOptions {
  std::string license, request, patient, schedule, container, session_file, out, id, holder;
  Who who;
  Resolving resolving;
  bool as_json = false;
};

Result<json> RunPrescribe(PrescribeOptions& o) {
  MDL_ASSIGN_OR_RETURN(flow::Party physician, o.who.Open());
  MDL_ASSIGN_OR_RETURN(json license, ReadJson(o.license));
  MDL_ASSIGN_OR_RETURN(json request, ReadJson(o.request));
  SystemRng rng;
  const std::string id = o.id.empty() ? claims::NewCredentialId(rng) : o.id;
  MDL_ASSIGN_OR_RETURN(json signed_vc, flow::SignPrescription(physician, o.patient, request,
                                                              o.schedule, license, id));
  json draft = {{"credential", signed_vc}, {"patient", o.patient}, {"container", o.container}};
  json next = json::array();
  if (!o.schedule.empty()) {
    MDL_RETURN_IF_ERROR(o.resolving.Open());
    MDL_ASSIGN_OR_RETURN(std::string device,
                         flow::DeviceMethod(o.resolving.verifier->resolver(), physician.did));
    MDL_ASSIGN_OR_RETURN(std::string session, ReadToken(o.session_file));
    MDL_ASSIGN_OR_RETURN(std::string approval,
                         flow::QueueApproval(o.container, session,
                                             flow::CosignRequest(device, signed_vc, o.patient)));
    draft["cosign_approval"] = approval;
    next.push_back("medallion phone approve --store PHONE_STORE -- " + approval);
  }
  if (!o.holder.empty()) {
    // The pharmacy copy (SD-JWT VC) bound to the patient's pseudonym; her phone co-signs it too.
    MDL_ASSIGN_OR_RETURN(std::string copy, flow::IssuePharmacyCopy(physician, signed_vc, o.holder));
    draft["sd_jwt"] = copy;
    if (!o.schedule.empty()) {
      MDL_ASSIGN_OR_RETURN(std::string device,
                           flow::DeviceMethod(o.resolving.verifier->resolver(), physician.did));
      MDL_ASSIGN_OR_RETURN(std::string session, ReadToken(o.session_file));
      const std::string medication = request["medicationCodeableConcept"].value("text", "");
      MDL_ASSIGN_OR_RETURN(std::string approval,
                           flow::QueueApproval(o.container, session,
                                               flow::SdCosignRequest(device, copy, medication)));
      draft["sd_cosign_approval"] = approval;
      next.push_back("medallion phone approve --store PHONE_STORE -- " + approval);
    }
  }
  MDL_RETURN_IF_ERROR(WriteJson(o.out, draft));
  next.push_back("medallion physician deliver --draft " + o.out + " ...");
  json out = {{"draft", o.out}, {"id", id}, {"next", next}};
  json approvals = json::array();
  for (const char* k : {"cosign_approval", "sd_cosign_approval"}) {
    if (draft.contains(k)) approvals.push_back(draft[k]);
  }
  if (!approvals.empty()) out["approvals"] = approvals;
  return out;
}

struct DeliverOptions {
  std::string draft, session_file, patient_container, out, copy_out;
  Who who;
  Resolving resolving;
  bool as_json = false;
};

Result<json> RunDeliver(DeliverOptions& o) {
  MDL_ASSIGN_OR_RETURN(flow::Party physician, o.who.Open());
  MDL_ASSIGN_OR_RETURN(json draft, ReadJson(o.draft));
  if (!draft.is_object() || !draft["credential"].is_object() || !draft["container"].is_string()) {
    return Status::InvalidArgument(o.draft + " is not a draft from `physician prescribe`");
  }
  const std::string container = draft["container"];
  MDL_ASSIGN_OR_RETURN(std::string session, ReadToken(o.session_file));
  json vc = draft["credential"];
  if (draft["cosign_approval"].is_string()) {
    MDL_ASSIGN_OR_RETURN(vc, flow::ApprovedResult(container, session, draft["cosign_approval"]));
  }
  MDL_RETURN_IF_ERROR(o.resolving.Open());
  MDL_ASSIGN_OR_RETURN(Hash256 digest, claims::CredentialDigest(vc));
  MDL_ASSIGN_OR_RETURN(uint64_t index,
                       flow::Postmark(*o.resolving.client, HexEncode(digest), physician));
  json result = {{"credential", o.out},
                 {"digest", HexEncode(digest)},
                 {"postmark_index", index},
                 {"delivered_to", o.patient_container}};
  // The pharmacy copy: postmarked too, delivered with the prescription (her container presents
  // it, disclosing only what dispensing needs) and written to --copy-out.
  json copy;
  if (draft["sd_jwt"].is_string()) {
    if (o.copy_out.empty())
      return Status::InvalidArgument("the draft has a pharmacy copy: --copy-out is required");
    copy = {{"sd_jwt", draft["sd_jwt"]}};
    if (draft["sd_cosign_approval"].is_string()) {
      MDL_ASSIGN_OR_RETURN(copy["cosignature"],
                           flow::ApprovedResult(container, session, draft["sd_cosign_approval"]));
    }
    MDL_ASSIGN_OR_RETURN(
        uint64_t copy_index,
        flow::Postmark(*o.resolving.client, claims::SdJwtDigest(draft["sd_jwt"].get<std::string>()),
                       physician));
    MDL_RETURN_IF_ERROR(WriteJson(o.copy_out, copy));
    result["copy"] = o.copy_out;
    result["copy_postmark_index"] = copy_index;
  }
  MDL_RETURN_IF_ERROR(flow::KeepAndDeliver(vc, container, session, o.patient_container, copy));
  MDL_RETURN_IF_ERROR(WriteJson(o.out, vc));
  return result;
}

// --- pharmacy ---

struct PresentOptions {
  std::string url, rx, copy, container, session_file, out;
  uint32_t pairwise_index = 0;
  Who who;
  Resolving resolving;
  bool as_json = false;
};

// The newest PrescriptionCredential in the owner's container.
Result<json> NewestPrescription(const std::string& container, const std::string& session) {
  MDL_ASSIGN_OR_RETURN(Answer a, flow::Call("GET", container + "/owner/v1/credentials", session));
  if (a.status != 200 || !a.body.is_array())
    return Refused("cannot list the credentials in " + container, a);
  for (auto it = a.body.rbegin(); it != a.body.rend(); ++it) {
    const json& vc = it->contains("credential") ? (*it)["credential"] : *it;
    const json& t = vc.contains("type") ? vc["type"] : json();
    if (t.is_array() && std::find(t.begin(), t.end(), "PrescriptionCredential") != t.end())
      return vc;
  }
  return Status::NotFound("no prescription in " + container);
}

Result<json> RunPresent(PresentOptions& o) {
  MDL_ASSIGN_OR_RETURN(flow::Party patient, o.who.Open());
  MDL_ASSIGN_OR_RETURN(std::string session, ReadToken(o.session_file));
  MDL_ASSIGN_OR_RETURN(claims::Challenge challenge, flow::PharmacyChallenge(o.url));
  json state = {{"pharmacy", o.url}, {"domain", challenge.domain}, {"container", o.container}};
  json out = {{"presentation", o.out}, {"pharmacy", o.url}};
  std::string digest_hex, medication, schedule;
  if (!o.copy.empty()) {
    // Minimal disclosure: the SD-JWT VC copy, key-bound to the challenge by her pairwise key.
    MDL_ASSIGN_OR_RETURN(json copy, ReadJson(o.copy));
    if (!copy.is_object() || !copy["sd_jwt"].is_string())
      return Status::InvalidArgument(o.copy + " is not a pharmacy copy");
    const std::string sd = copy["sd_jwt"];
    std::vector<std::string> revealed, hidden;
    MDL_ASSIGN_OR_RETURN(std::string presented,
                         roles::PresentPharmacyCopy(sd, patient.seed.Reveal(), o.pairwise_index,
                                                    challenge, DefaultEnv(), &revealed, &hidden));
    state["body"] = {{"sd_jwt", presented}};
    if (copy["cosignature"].is_string()) state["body"]["cosignature"] = copy["cosignature"];
    out["disclosed"] = revealed;
    out["hidden"] = hidden;
    MDL_ASSIGN_OR_RETURN(claims::SdJwtHolderView view, claims::InspectSdJwt(sd));
    const json payload = json::parse(view.payload_json);
    digest_hex = claims::SdJwtDigest(sd);
    schedule = payload.value("controlledSubstanceSchedule", "");
    medication = payload["prescription"]["medicationCodeableConcept"].value("text", "");
  } else {
    json rx;
    if (!o.rx.empty()) {
      MDL_ASSIGN_OR_RETURN(rx, ReadJson(o.rx));
    } else {
      MDL_ASSIGN_OR_RETURN(rx, NewestPrescription(o.container, session));
    }
    if (!rx.is_object() || !rx["credentialSubject"].is_object())
      return Status::InvalidArgument("not a prescription credential");
    MDL_ASSIGN_OR_RETURN(json vp, flow::PresentPrescription(rx, patient, challenge));
    state["body"] = {{"presentation", vp}};
    // Said plainly: this path hands the pharmacy every claim of the prescription.
    out["warning"] =
        "the full prescription (every claim, your DID included) is disclosed to the pharmacy; "
        "present the SD-JWT VC copy with --copy to disclose only what dispensing needs";
    MDL_ASSIGN_OR_RETURN(Hash256 digest, claims::CredentialDigest(rx));
    digest_hex = HexEncode(digest);
    const json& subject = rx["credentialSubject"];
    schedule = subject.value("controlledSubstanceSchedule", "");
    medication = subject["prescription"]["medicationCodeableConcept"].value("text", "");
  }
  if (!schedule.empty()) {
    MDL_RETURN_IF_ERROR(o.resolving.Open());
    MDL_ASSIGN_OR_RETURN(std::string device,
                         flow::DeviceMethod(o.resolving.verifier->resolver(), patient.did));
    MDL_ASSIGN_OR_RETURN(
        std::string approval,
        flow::QueueApproval(o.container, session,
                            flow::FillRequest(device, challenge.domain, digest_hex, medication)));
    state["fill_approval"] = approval;
    out["approval"] = approval;
    out["next"] = {"medallion phone approve --store PHONE_STORE -- " + approval,
                   "medallion pharmacy dispense --presentation " + o.out + " ..."};
  }
  MDL_RETURN_IF_ERROR(WriteJson(o.out, state));
  return out;
}

struct DispenseOptions {
  std::string presentation, session_file, out;
  bool as_json = false;
};

Result<json> RunDispense(const DispenseOptions& o) {
  MDL_ASSIGN_OR_RETURN(json state, ReadJson(o.presentation));
  if (!state.is_object() || !state["pharmacy"].is_string() || !state["body"].is_object()) {
    return Status::InvalidArgument(o.presentation +
                                   " is not a presentation from `pharmacy present`");
  }
  json body = state["body"];
  if (state["fill_approval"].is_string()) {
    if (o.session_file.empty())
      return Status::InvalidArgument(
          "a controlled substance: --session-file is needed to collect the phone's approval");
    MDL_ASSIGN_OR_RETURN(std::string session, ReadToken(o.session_file));
    MDL_ASSIGN_OR_RETURN(body["fill_authorization"],
                         flow::ApprovedResult(state["container"], session, state["fill_approval"]));
  }
  MDL_ASSIGN_OR_RETURN(Answer a, flow::Dispense(state["pharmacy"], body));
  if (a.status != 200) return Refused("the pharmacy refused", a);
  if (!o.out.empty())
    MDL_RETURN_IF_ERROR(WriteJson(o.out, a.body.value("receipt", json::object())));
  return a.body;
}

CLI::App* Json(CLI::App* cmd, bool& as_json) {
  cmd->add_flag("--json", as_json, "Print the result as JSON");
  return cmd;
}

// The society's steps: onboard a physician, revoke/suspend/reinstate a license.
void AddIssuerFlow(CLI::App* issuer, int& rc) {
  {
    auto o = std::make_shared<OnboardOptions>();
    auto* cmd =
        Json(issuer->add_subcommand(
                 "onboard",
                 "Physician: prove your DID to the society and receive your license credential"),
             o->as_json);
    cmd->add_option("--url", o->url, "The society's base URL")->required();
    o->who.Add(cmd, "The physician's");
    cmd->add_option("--license-number", o->license_number,
                    "Your license number in the society's directory")
        ->required();
    cmd->add_option("--name", o->name, "Your name as in the directory")->required();
    cmd->add_option("--out", o->out,
                    "Where to write the license credential (JSON; never overwritten)")
        ->required();
    cmd->add_option("--wait", o->wait,
                    "Seconds to wait for the society's clerk when it reviews requests (default 0)")
        ->check(CLI::Range(0, 3600));
    cmd->callback([o, &rc] {
      rc = Finish(RunOnboard(*o), o->as_json, [](const json& j) {
        return "license " + j.value("license_id", "") + " issued by " + j.value("issuer", "") +
               " to " + j.value("subject", "") + "; written to " + j.value("file", "");
      });
    });
  }
  for (const char* action : {"revoke", "suspend", "reinstate"}) {
    auto o = std::make_shared<StatusOptions>();
    auto* cmd = Json(issuer->add_subcommand(
                         action, std::string("Society: ") + action + " a license (admin token)"),
                     o->as_json);
    cmd->add_option("--url", o->url, "The society's base URL")->required();
    cmd->add_option("--admin-token-file", o->admin_token_file,
                    "The society's admin token (DIR/admin.token)")
        ->required();
    cmd->add_option("--license", o->license_file, "The license credential (JSON), or:");
    cmd->add_option("--id", o->id, "The license's id");
    const std::string act = action;
    cmd->callback([o, act, &rc] {
      rc = Finish(RunSetStatus(*o, act), o->as_json, [](const json& j) {
        return j.value("id", "") + ": " + j.value("action", "") + "d";
      });
    });
  }
}

// The physician's steps: sign in to a patient's container, write, prescribe, deliver.
void AddPhysicianSignin(CLI::App* physician, int& rc) {
  auto o = std::make_shared<SigninOptions>();
  auto* cmd =
      Json(physician->add_subcommand(
               "signin", "Sign in to a patient's container with your license (UMA grant → RPT)"),
           o->as_json);
  cmd->add_option("--url", o->url, "The patient's container")->required();
  o->who.Add(cmd, "The physician's");
  cmd->add_option("--license", o->license,
                  "Your license credential (from `issuer onboard`); required unless "
                  "--relationship-index");
  cmd->add_option("--license-sd-jwt", o->license_sd_jwt,
                  "Or: your license SD-JWT VC (from `oid4vci accept`), presented by OpenID4VP "
                  "through the container's claims interaction endpoint (UMA Grant §3.3.2) "
                  "instead of a pushed claim token; the KB-JWT is signed by your "
                  "authentication key");
  cmd->add_option("--relationship-index", o->relationship_index,
                  "Sign in as the provider of a relationship (docs/relationships.md): your "
                  "pairwise key of this index, matched by the patient's relationship policies");
  cmd->add_option("--wait", o->wait,
                  "If the patient must approve (request_submitted), wait up to this many "
                  "seconds for her decision, polling as the container asks (default 0: "
                  "return at once)")
      ->check(CLI::Range(0, 3600));
  cmd->add_option("--session-file", o->session_file,
                  "Where to keep the UMA session (client, RPT, PCT; 0600)")
      ->required();
  cmd->add_option("--scope", o->scope, "create (default), read or search")
      ->check(CLI::IsMember({"create", "read", "search"}));
  cmd->add_option("--resource", o->resource, "The FHIR resource type (default MedicationRequest)");
  cmd->callback([o, &rc] {
    rc = Finish(RunSignin(*o), o->as_json, [](const json& j) {
      return "signed in to " + j.value("container", "") + " (" + j.value("scope", "") + " " +
             j.value("resource", "") + "); session in " + j.value("session_file", "");
    });
  });
}

void AddPhysicianWrite(CLI::App* physician, int& rc) {
  auto o = std::make_shared<WriteOptions>();
  auto* cmd = Json(physician->add_subcommand("write",
                                             "Write a FHIR resource (a MedicationRequest) into "
                                             "the patient's record store with the RPT"),
                   o->as_json);
  cmd->add_option("--session-file", o->session_file, "The UMA session from `physician signin`")
      ->required();
  cmd->add_option("--in", o->in, "The resource (JSON)")->required();
  cmd->add_option("--out", o->out, "Where to write the stored resource (with its id)");
  cmd->add_option("--store", o->store,
                  "Your wallet, to present the license again if the container asks");
  cmd->add_option("--passphrase-file", o->passphrase_file,
                  "Key store passphrase (else $MEDALLION_PASSPHRASE or a prompt)");
  cmd->callback([o, &rc] {
    rc = Finish(RunWrite(*o), o->as_json, [](const json& j) {
      return j.value("resourceType", "") + "/" + j.value("id", "") + " written";
    });
  });
}

void AddPhysicianPrescribe(CLI::App* physician, int& rc) {
  auto o = std::make_shared<PrescribeOptions>();
  auto* cmd = Json(physician->add_subcommand("prescribe",
                                             "Sign a prescription credential; for a controlled "
                                             "substance queue your phone's co-signature"),
                   o->as_json);
  o->who.Add(cmd, "The physician's");
  cmd->add_option("--license", o->license, "Your license credential")->required();
  cmd->add_option("--request", o->request,
                  "The MedicationRequest as stored (from `physician write --out`)")
      ->required();
  cmd->add_option("--patient", o->patient, "The patient's DID")->required();
  cmd->add_option("--schedule", o->schedule,
                  "Controlled substance schedule (II..V); omit otherwise");
  cmd->add_option("--id", o->id, "The credential's id (default a random urn:uuid)");
  cmd->add_option(
      "--holder", o->holder,
      "The patient's pairwise pseudonym: also issue the pharmacy copy (SD-JWT VC) bound to it");
  cmd->add_option("--container", o->container, "Your own container (the co-signature queue)")
      ->required();
  cmd->add_option("--session-file", o->session_file, "Your owner session there (`consent signin`)")
      ->required();
  cmd->add_option("--out", o->out, "Where to write the draft for `physician deliver`")->required();
  o->resolving.ledger.Add(cmd, false, "--ledger");
  cmd->callback([o, &rc] {
    rc = Finish(RunPrescribe(*o), o->as_json, [](const json& j) {
      std::string t =
          "prescription " + j.value("id", "") + " signed; draft in " + j.value("draft", "");
      for (const auto& a : j.value("approvals", json::array()))
        t += "\nyour phone must co-sign: approval " + a.get<std::string>();
      for (const auto& n : j["next"]) t += "\nnext: " + n.get<std::string>();
      return t;
    });
  });
}

void AddPhysicianDeliver(CLI::App* physician, int& rc) {
  auto o = std::make_shared<DeliverOptions>();
  auto* cmd =
      Json(physician->add_subcommand("deliver",
                                     "Collect the co-signature, postmark the prescription, keep "
                                     "it and deliver it to the patient"),
           o->as_json);
  cmd->add_option("--draft", o->draft, "The draft from `physician prescribe`")->required();
  o->who.Add(cmd, "The physician's");
  cmd->add_option("--session-file", o->session_file, "Your owner session in your container")
      ->required();
  cmd->add_option("--patient-container", o->patient_container,
                  "The patient's container (its inbox)")
      ->required();
  cmd->add_option("--out", o->out, "Where to write the delivered credential")->required();
  cmd->add_option("--copy-out", o->copy_out,
                  "Where to write the pharmacy copy (SD-JWT VC and co-signature) for the patient");
  o->resolving.ledger.Add(cmd, true, "--ledger");
  cmd->callback([o, &rc] {
    rc = Finish(RunDeliver(*o), o->as_json, [](const json& j) {
      return "postmarked at ledger index " + std::to_string(j.value("postmark_index", 0)) +
             " and delivered to " + j.value("delivered_to", "") + "; written to " +
             j.value("credential", "");
    });
  });
}

void AddPhysicianFlow(CLI::App& app, int& rc) {
  auto* physician = app.add_subcommand(
      "physician",
      "A physician's steps: sign in to a patient's container, write, prescribe, deliver");
  physician->require_subcommand(1);
  AddPhysicianSignin(physician, rc);
  AddPhysicianWrite(physician, rc);
  AddPhysicianPrescribe(physician, rc);
  AddPhysicianDeliver(physician, rc);
}

// The patient's steps at a pharmacy: present, dispense.
void AddPharmacyFlow(CLI::App* pharmacy, int& rc) {
  {
    auto o = std::make_shared<PresentOptions>();
    auto* cmd = Json(pharmacy->add_subcommand("present",
                                              "Patient: present a prescription for the pharmacy's "
                                              "challenge (and queue your phone's fill approval)"),
                     o->as_json);
    cmd->add_option("--url", o->url, "The pharmacy's base URL")->required();
    o->who.Add(cmd, "The patient's");
    cmd->add_option("--container", o->container, "Your container")->required();
    cmd->add_option("--session-file", o->session_file,
                    "Your owner session there (`consent signin`)")
        ->required();
    cmd->add_option("--rx", o->rx,
                    "The prescription credential (default: the newest in your container)");
    cmd->add_option("--copy", o->copy,
                    "Present the pharmacy copy (SD-JWT VC, from `physician deliver --copy-out`): "
                    "minimal disclosure");
    cmd->add_option("--pairwise-index", o->pairwise_index,
                    "The relationship whose pairwise key the copy is bound to (default 0)");
    cmd->add_option("--out", o->out, "Where to write the presentation for `pharmacy dispense`")
        ->required();
    o->resolving.ledger.Add(cmd, false, "--ledger");
    cmd->callback([o, &rc] {
      rc = Finish(RunPresent(*o), o->as_json, [](const json& j) {
        std::string t = "presentation for " + j.value("pharmacy", "") + " written to " +
                        j.value("presentation", "");
        if (j.contains("approval"))
          t += "\nyour phone must approve the fill: approval " + j["approval"].get<std::string>();
        if (j.contains("warning")) t += "\nnote: " + j["warning"].get<std::string>();
        return t;
      });
    });
  }
  {
    auto o = std::make_shared<DispenseOptions>();
    auto* cmd = Json(pharmacy->add_subcommand("dispense",
                                              "Hand the presentation to the pharmacy: it verifies "
                                              "everything and dispenses, or refuses"),
                     o->as_json);
    cmd->add_option("--presentation", o->presentation, "The file from `pharmacy present`")
        ->required();
    cmd->add_option("--session-file", o->session_file,
                    "Your owner session (to collect the phone's fill approval)");
    cmd->add_option("--out", o->out, "Where to write the signed dispense receipt");
    cmd->callback([o, &rc] {
      rc = Finish(RunDispense(*o), o->as_json, [](const json& j) {
        return "dispensed: fill " + std::to_string(j.value("fill", 0)) + " of " +
               std::to_string(j.value("fills_allowed", 0)) + ", dispense record at ledger index " +
               std::to_string(j.value("dispense_index", 0));
      });
    });
  }
}

}  // namespace

void AddFlowCommands(CLI::App& app, CLI::App* issuer, CLI::App* pharmacy, int& rc) {
  AddIssuerFlow(issuer, rc);
  AddPhysicianFlow(app, rc);
  AddPharmacyFlow(pharmacy, rc);
}

}  // namespace medallion::cli
