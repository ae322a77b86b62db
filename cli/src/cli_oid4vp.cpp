// `medallion oid4vp respond` (a wallet answering an OpenID for Verifiable Presentations 1.0
// Authorization Request, by value or by reference (request_uri, §5.10), with the SD-JWT VCs it
// holds, after the holder's consent) and
// `medallion oid4vp request` / `oid4vp verify` (a verifier for scripts: a request URI whose state
// is kept in a SQLite file, and the check of the form the wallet posted). The protocol logic is
// oid4vc/verifier.h, the wallet's HTTP (request object, direct_post §8.2, the consent plan) is
// roles/oid4vp_wallet.h, shared with the patient's web app; this file is the command line.
#include "cli_oid4vp.h"

#include <CLI/CLI.hpp>

#include <chrono>
#include <iostream>
#include <memory>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli_oid4vci.h"
#include "cli_util.h"
#include "medallion/core/encoding.h"
#include "medallion/core/env.h"
#include "medallion/core/json.h"
#include "medallion/did/did_web.h"
#include "medallion/did/resolver.h"
#include "medallion/http/http_client.h"
#include "medallion/oid4vc/dcql.h"
#include "medallion/oid4vc/verifier.h"
#include "medallion/roles/did_web_http.h"
#include "medallion/roles/container.h"
#include "medallion/roles/flow.h"
#include "medallion/roles/oid4vp_wallet.h"
#include "medallion/roles/uma_http.h"
#include "medallion/web/qr.h"

namespace medallion::cli {
namespace {

using nlohmann::json;

// --- respond ----------------------------------------------------------------------------------

struct RespondOptions {
  std::string request_uri;
  std::vector<std::string> credentials;
  std::string store, passphrase_file, did;
  // --container: answer from the SD-JWT VCs kept in the owner's container (`oid4vci accept
  // --container`), read through the owner API; the KB-JWT by her owner key.
  std::string container, session_file;
  uint32_t account = 0, key_index = 0;
  bool yes = false, decline = false, as_json = false;
};

// The SD-JWT VCs kept in the container (GET /owner/v1/credentials: the rows with format
// dc+sd-jwt), with a label per credential ("container:<id>") for the consent plan.
Result<std::vector<std::string>> ContainerSdJwts(const RespondOptions& o,
                                                 std::vector<std::string>* labels) {
  MDL_RETURN_IF_ERROR(CheckWalletTransport(o.container));
  MDL_ASSIGN_OR_RETURN(std::string bearer, ReadToken(o.session_file));
  MDL_ASSIGN_OR_RETURN(http::HttpReply r,
                       http::HttpCall("GET", o.container + "/owner/v1/credentials", bearer, "",
                                      "application/json", 15, "", size_t{64} << 20));
  if (r.status != 200) return http::StatusFromHttpReply(r);
  auto list = ParseJson(r.body, JsonLimits{size_t{64} << 20, 64});
  if (!list || !list->is_array())
    return Status::Unavailable("the container did not answer a list of credentials");
  return roles::KeptSdJwtVcs(*list, labels);
}

Result<json> RunRespond(const RespondOptions& o) {
  // Presentations go only over TLS (or to loopback): checked before anything is shown or built.
  // A decentralized_identifier: verifier's signed request object (§5.9.3): its DID resolved
  // here (did:key, and did:web over HTTPS).
  did::Resolver resolver;
  resolver.Register(std::make_shared<did::DidWebResolver>(
      std::make_shared<roles::HttpsDocumentFetcher>(roles::HttpsFetcherOptions{}), DefaultEnv(),
      60'000));
  MDL_ASSIGN_OR_RETURN(oid4vc::ParsedRequest request,
                       roles::ReadOid4vpRequest(o.request_uri, &resolver));
  if (o.container.empty() == o.credentials.empty())
    return Status::InvalidArgument("give --credential FILE... or --container URL (not both)");
  if (!o.container.empty() && o.session_file.empty())
    return Status::InvalidArgument("--container needs --session-file (from `consent signin`)");
  if (o.container.empty() && o.did.empty())
    return Status::InvalidArgument("--did is required with --credential");
  // §8.5: she declines (consent withheld, or nothing to show): only the refusal is sent.
  if (o.decline) return roles::PostOid4vpDecline(request, "the holder declined the request");
  std::vector<std::string> held, labels;
  if (!o.container.empty()) {
    MDL_ASSIGN_OR_RETURN(held, ContainerSdJwts(o, &labels));
  } else {
    for (const std::string& file : o.credentials) {
      MDL_ASSIGN_OR_RETURN(Bytes bytes, ReadFileBytes(file));
      std::string text(bytes.begin(), bytes.end());
      while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
        text.pop_back();
      held.push_back(std::move(text));
      labels.push_back(file);
    }
  }
  // §6.4.2: which credential answers which Credential Query, revealing what. access_denied (the
  // query cannot be satisfied) stops here: nothing is disclosed, nothing is sent (--decline
  // tells the verifier so).
  MDL_ASSIGN_OR_RETURN(std::vector<oid4vc::DcqlSelection> selections,
                       oid4vc::MatchDcql(request.query, held));
  json out = {{"client_id", request.client_id},
              {"response_uri", request.response_uri},
              {"verifier_did", request.verifier_did},  // "" unless signed by its DID (§5.9.3)
              {"disclosures", roles::Oid4vpDisclosurePlan(labels, held, selections)},
              {"sent", false}};
  if (!o.yes) return out;
  claims::Signer holder;
  if (!o.container.empty()) {
    // The container's owner key (from her wallet's seed): the key `oid4vci accept --container`
    // proved and the credentials are bound to.
    MDL_ASSIGN_OR_RETURN(roles::OwnerKeys keys, roles::UnlockOwner(o.store, o.passphrase_file,
                                                                   o.account, o.did, o.key_index));
    holder = keys.AuthSigner();
  } else {
    MDL_ASSIGN_OR_RETURN(roles::flow::Party me,
                         roles::flow::PartyFromStore(o.store, o.passphrase_file, o.did));
    holder = me.Signer(me.auth);
  }
  // §8.2: only what the query asks, the KB-JWT for the nonce and client_id, posted form-encoded.
  MDL_ASSIGN_OR_RETURN(json sent, roles::PostOid4vpResponse(request, held, holder, DefaultEnv()));
  out.update(sent);
  return out;
}

void PrintPlanText(const json& r) {
  std::cerr << "The verifier " << r.value("client_id", "") << " asks for:\n";
  if (!r.value("verifier_did", "").empty())
    std::cerr << "  (its request is signed by a key of " << r.value("verifier_did", "")
              << ", checked: OpenID4VP §5.9.3)\n";
  for (const json& d : r["disclosures"]) {
    std::cerr << "  " << d.value("query_id", "") << ": " << d.value("vct", "") << " from "
              << d.value("issuer", "") << " (" << d.value("credential_file", "") << ")\n";
    std::cerr << "    disclosed:";
    for (const json& c : d["disclosed_claims"]) std::cerr << " " << c.get<std::string>();
    if (d["disclosed_claims"].empty()) std::cerr << " (no selectively disclosable claim)";
    std::cerr << "\n    always visible:";
    for (const json& c : d["always_visible"]) std::cerr << " " << c.get<std::string>();
    std::cerr << "\n";
  }
}

// --- request ----------------------------------------------------------------------------------

struct RequestOptions {
  std::string response_uri, dcql_file, db;
  bool license_query = false, as_json = false;
  // A pharmacy's request instead (docs/openid4vc.md "The pharmacy as an OpenID4VP verifier"):
  // its URL and automation token; controlled / encrypted as the counter's buttons.
  std::string pharmacy, admin_token_file, qr_svg;
  bool controlled = false, encrypted = false;
};

std::string TrimSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// POST /web/v1/counter/oid4vp/requests with the pharmacy's automation token: the DCQL query for
// the prescription (and the phone's fill authorization when controlled) is the pharmacy's.
Result<json> RunPharmacyRequest(const RequestOptions& o) {
  if (o.admin_token_file.empty())
    return Status::InvalidArgument("--pharmacy takes --admin-token-file (DIR/admin.token)");
  if (!o.response_uri.empty() || !o.db.empty() || !o.dcql_file.empty() || o.license_query)
    return Status::InvalidArgument(
        "--pharmacy makes the pharmacy's request: no --response-uri, --db, --dcql or "
        "--license-query");
  // The token only over https (or plain http to loopback), as the wallet's codes.
  MDL_RETURN_IF_ERROR(CheckWalletTransport(o.pharmacy));
  MDL_ASSIGN_OR_RETURN(std::string bearer, ReadToken(o.admin_token_file));
  json body = {{"controlled", o.controlled}, {"encrypted", o.encrypted}};
  MDL_ASSIGN_OR_RETURN(json r, Exchange("POST",
                                            TrimSlash(o.pharmacy) + "/web/v1/counter/oid4vp/requests",
                                            bearer, body.dump()));
  if (!o.qr_svg.empty()) {
    MDL_ASSIGN_OR_RETURN(std::string svg,
                         web::QrSvg(r.value("uri", ""), "OpenID4VP presentation request"));
    MDL_RETURN_IF_ERROR(WriteFileAtomic(o.qr_svg, svg, /*public_file=*/true, /*overwrite=*/false));
    r["qr_svg"] = o.qr_svg;
  }
  return r;
}

// --- outcome (a pharmacy's request) -----------------------------------------------------------

struct OutcomeOptions {
  std::string pharmacy, admin_token_file, id;
  int wait_seconds = 0;
  bool as_json = false;
};

// GET /web/v1/counter/oid4vp/requests/<id>: waiting, checking, dispensed (with the receipt),
// refused (a reason code), expired; with --wait, polled once a second while waiting or checking.
Result<json> RunOutcome(const OutcomeOptions& o) {
  if (o.wait_seconds < 0 || o.wait_seconds > 3600)
    return Status::InvalidArgument("--wait is 0..3600 seconds");
  MDL_RETURN_IF_ERROR(CheckWalletTransport(o.pharmacy));
  MDL_ASSIGN_OR_RETURN(std::string bearer, ReadToken(o.admin_token_file));
  const std::string url =
      TrimSlash(o.pharmacy) + "/web/v1/counter/oid4vp/requests/" + PercentEncode(o.id);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(o.wait_seconds);
  for (;;) {
    MDL_ASSIGN_OR_RETURN(json r, Exchange("GET", url, bearer));
    const std::string status = r.value("status", "");
    if ((status != "waiting" && status != "checking") ||
        std::chrono::steady_clock::now() >= until)
      return r;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

// The license a society issues over OpenID4VCI (docs/openid4vc.md): the holder's name and the
// license number.
json LicenseQuery() {
  return {{"credentials",
           {{{"id", "license"},
             {"format", std::string(oid4vc::kSdJwtVcFormat)},
             {"meta", {{"vct_values", {"urn:medallion:vct:MedicalLicenseCredential:1"}}}},
             {"claims", {{{"path", {"name"}}}, {{"path", {"license_number"}}}}}}}}};
}

Result<json> RunRequest(const RequestOptions& o) {
  if (!o.pharmacy.empty()) return RunPharmacyRequest(o);
  if (!o.admin_token_file.empty() || !o.qr_svg.empty() || o.controlled || o.encrypted)
    return Status::InvalidArgument(
        "--admin-token-file, --qr-svg, --controlled and --encrypted go with --pharmacy");
  if (o.response_uri.empty() || o.db.empty())
    return Status::InvalidArgument("a request of your own takes --response-uri and --db");
  if (o.license_query == !o.dcql_file.empty())
    return Status::InvalidArgument("give exactly one of --dcql FILE and --license-query");
  json query;
  if (o.license_query) {
    query = LicenseQuery();
  } else {
    MDL_ASSIGN_OR_RETURN(Bytes bytes, ReadFileBytes(o.dcql_file));
    auto j = ParseJsonObject(std::string(bytes.begin(), bytes.end()), "dcql_query");
    if (!j) return j.status();
    query = std::move(*j);
  }
  oid4vc::VerifierOptions vo;
  vo.client_id = std::string(oid4vc::kRedirectUriPrefix) + o.response_uri;
  vo.response_uri = o.response_uri;
  MDL_ASSIGN_OR_RETURN(auto verifier, oid4vc::Verifier::Open(o.db, std::move(vo), DefaultEnv()));
  MDL_ASSIGN_OR_RETURN(oid4vc::AuthorizationRequest r, verifier->CreateRequest(query));
  return json{{"request_uri", r.uri},
              {"state", r.state},
              {"nonce", r.nonce},
              {"expires", r.expires},
              {"params", r.params}};
}

// --- verify -----------------------------------------------------------------------------------

struct VerifyOptions {
  std::string response_uri, db, form_file, ca_file;
  bool allow_insecure_loopback = false, as_json = false;
};

// The form a script saved from the POST to its response_uri, checked by the request kept in --db
// (Verifier::VerifyResponse: state, single use, each SD-JWT+KB — issuer signature through
// did:key or did:web, KB-JWT nonce and aud — and the DCQL query).
Result<json> RunVerify(const VerifyOptions& o) {
  MDL_ASSIGN_OR_RETURN(Bytes bytes, ReadFileBytes(o.form_file));
  std::string body(bytes.begin(), bytes.end());
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
  MDL_ASSIGN_OR_RETURN(auto form, roles::ParseForm(body));
  oid4vc::VerifierOptions vo;
  vo.client_id = std::string(oid4vc::kRedirectUriPrefix) + o.response_uri;
  vo.response_uri = o.response_uri;
  MDL_ASSIGN_OR_RETURN(auto verifier, oid4vc::Verifier::Open(o.db, std::move(vo), DefaultEnv()));
  roles::HttpsFetcherOptions fo;
  fo.ca_file = o.ca_file;
  fo.allow_insecure_loopback = o.allow_insecure_loopback;
  did::Resolver resolver;  // did:key, and did:web over HTTPS
  resolver.Register(std::make_shared<did::DidWebResolver>(
      std::make_shared<roles::HttpsDocumentFetcher>(fo), DefaultEnv(), 60'000));
  MDL_ASSIGN_OR_RETURN(oid4vc::VerifiedPresentation vp, verifier->VerifyResponse(form, resolver));
  json credentials = json::object();
  for (const auto& [id, list] : vp.credentials) {
    for (const claims::VerifiedSdJwt& c : list) {
      auto payload = ParseJson(c.payload_json);
      credentials[id].push_back({{"issuer", c.issuer},
                                 {"vct", c.vct},
                                 {"key_bound", c.key_bound},
                                 {"disclosed", c.disclosed},
                                 {"claims", payload ? std::move(*payload) : json::object()}});
    }
  }
  return json{{"state", vp.state}, {"verified", true}, {"credentials", credentials}};
}

}  // namespace

void AddOid4vpCommands(CLI::App& app, int& rc) {
  CLI::App* top = app.add_subcommand(
      "oid4vp", "OpenID4VP 1.0: answer a presentation request (wallet) or make one (verifier)");
  top->require_subcommand(1);
  {
    auto o = std::make_shared<RespondOptions>();
    auto* cmd = top->add_subcommand(
        "respond",
        "Wallet: answer an openid4vp:// request with your SD-JWT VCs (shows what would be "
        "disclosed; sends only with --yes)");
    cmd->add_option("request-uri", o->request_uri,
                    "openid4vp://?... (the request by value, or client_id + request_uri)")
        ->required();
    cmd->add_option("--credential", o->credentials, "An SD-JWT VC you hold (repeatable)");
    cmd->add_option("--container", o->container,
                    "Answer from the SD-JWT VCs kept in your container instead (its base URL)");
    cmd->add_option("--session-file", o->session_file,
                    "With --container: the owner's session token (from `consent signin`)");
    cmd->add_option("--store", o->store, "Your wallet key store")->required();
    cmd->add_option("--passphrase-file", o->passphrase_file,
                    "Key store passphrase (else $MEDALLION_PASSPHRASE or a prompt)");
    cmd->add_option("--did", o->did,
                    "Your DID (with --container: a did:mdl owner; default the wallet's did:key)");
    cmd->add_option("--account", o->account, "With --container: wallet account (default 0)");
    cmd->add_option("--key-index", o->key_index,
                    "With --container and a did:mdl: the authentication key's generation");
    cmd->add_flag("--yes", o->yes,
                  "Consent: build the presentation and post it to the verifier (without it, "
                  "nothing is sent)");
    cmd->add_flag("--decline", o->decline,
                  "Refuse: post only the OpenID4VP error response access_denied (§8.5)");
    cmd->add_flag("--json", o->as_json, "Print the result as JSON");
    cmd->callback([o, &rc] {
      auto r = RunRespond(*o);
      if (!r) {
        rc = ReportError(r.error());
        return;
      }
      if (o->as_json) {
        PrintJson(*r);
      } else if (r->value("declined", false)) {
        std::cout << "declined: access_denied sent to " << r->value("response_uri", "")
                  << "; the verifier answered " << (*r)["status"].get<int>() << "\n";
      } else {
        PrintPlanText(*r);
        if (!(*r)["sent"].get<bool>())
          std::cout << "not sent: run again with --yes to disclose this to "
                    << r->value("response_uri", "") << "\n";
        else
          std::cout << "sent to " << r->value("response_uri", "") << "; the verifier answered "
                    << (*r)["status"].get<int>() << " " << DumpJson((*r)["verifier_answer"])
                    << "\n";
      }
      rc = kExitOk;
    });
  }
  {
    auto o = std::make_shared<RequestOptions>();
    auto* cmd = top->add_subcommand(
        "request",
        "Verifier: a new presentation request (prints the openid4vp:// URI; the request is kept "
        "in --db)");
    cmd->add_option("--response-uri", o->response_uri,
                    "Where the wallet posts its answer (direct_post; client_id is "
                    "redirect_uri:<this>)");
    cmd->add_option("--dcql", o->dcql_file, "The DCQL query (a JSON file)");
    cmd->add_flag("--license-query", o->license_query,
                  "Ask for a medical license's name and license number");
    cmd->add_option("--db", o->db, "The verifier's request file (SQLite)");
    cmd->add_option("--pharmacy", o->pharmacy,
                    "Instead: a pharmacy's request for a prescription (its URL; the pharmacy "
                    "verifies and dispenses)");
    cmd->add_option("--admin-token-file", o->admin_token_file,
                    "With --pharmacy: its automation token (DIR/admin.token)");
    cmd->add_flag("--controlled", o->controlled,
                  "With --pharmacy: a controlled substance (asks sub and the phone's fill "
                  "authorization)");
    cmd->add_flag("--encrypted", o->encrypted,
                  "With --pharmacy: the answer encrypted (direct_post.jwt)");
    cmd->add_option("--qr-svg", o->qr_svg, "With --pharmacy: also write the link as a QR code");
    cmd->add_flag("--json", o->as_json, "Print the result as JSON");
    cmd->callback([o, &rc] {
      auto r = RunRequest(*o);
      if (!r) {
        rc = ReportError(r.error());
        return;
      }
      if (o->as_json)
        PrintJson(*r);
      else if (!o->pharmacy.empty())
        std::cout << r->value("uri", "") << "\nrequest " << r->value("id", "")
                  << " (medallion oid4vp outcome --pharmacy ... --id " << r->value("id", "")
                  << ")\n";
      else
        std::cout << r->value("request_uri", "") << "\n";
      rc = kExitOk;
    });
  }
  {
    auto o = std::make_shared<OutcomeOptions>();
    auto* cmd = top->add_subcommand(
        "outcome", "Pharmacy: what became of a presentation request (waiting, dispensed, refused)");
    cmd->add_option("--pharmacy", o->pharmacy, "The pharmacy's URL")->required();
    cmd->add_option("--admin-token-file", o->admin_token_file,
                    "Its automation token (DIR/admin.token)")
        ->required();
    cmd->add_option("--id", o->id, "The request's id (from `oid4vp request --pharmacy`)")
        ->required();
    cmd->add_option("--wait", o->wait_seconds,
                    "Poll until it is no longer waiting, at most this many seconds");
    cmd->add_flag("--json", o->as_json, "Print the result as JSON");
    cmd->callback([o, &rc] {
      auto r = RunOutcome(*o);
      if (!r) {
        rc = ReportError(r.error());
        return;
      }
      if (o->as_json) {
        PrintJson(*r);
      } else {
        std::cout << r->value("status", "");
        if (r->contains("error"))
          std::cout << ": " << StringOr(*r, "error") << " " << StringOr(*r, "error_description");
        std::cout << "\n";
      }
      rc = kExitOk;
    });
  }
  {
    auto o = std::make_shared<VerifyOptions>();
    auto* cmd = top->add_subcommand(
        "verify",
        "Verifier: check a wallet's direct_post answer (the form body, saved to a file) against "
        "the request kept in --db");
    cmd->add_option("--response-uri", o->response_uri, "The response URI the request named")
        ->required();
    cmd->add_option("--db", o->db, "The verifier's request file (from `oid4vp request`)")
        ->required();
    cmd->add_option("--form", o->form_file,
                    "The posted application/x-www-form-urlencoded body (vp_token, state)")
        ->required();
    cmd->add_option("--ca-file", o->ca_file, "CAs to trust for did:web (PEM; else the system's)");
    cmd->add_flag("--allow-insecure-loopback", o->allow_insecure_loopback,
                  "Development: resolve did:web of 127.0.0.1/localhost over plain HTTP");
    cmd->add_flag("--json", o->as_json, "Print the result as JSON");
    cmd->callback([o, &rc] {
      auto r = RunVerify(*o);
      if (!r) {
        rc = ReportError(r.error());
        return;
      }
      if (o->as_json) {
        PrintJson(*r);
      } else {
        std::cout << "verified (state " << r->value("state", "") << ")\n";
        for (const auto& [id, list] : (*r)["credentials"].items())
          for (const json& c : list)
            std::cout << "  " << id << ": " << c.value("vct", "") << " from "
                      << c.value("issuer", "") << " " << DumpJson(c["claims"]) << "\n";
      }
      rc = kExitOk;
    });
  }
}

}  // namespace medallion::cli
