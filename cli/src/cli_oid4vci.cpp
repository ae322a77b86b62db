// `medallion oid4vci offer` (the society: an OpenID4VCI 1.0 credential offer for a license its
// onboarding issued, as a URI, a transaction code and a QR code) and `medallion oid4vci accept`
// (a physician's wallet: the pre-authorized code flow against any OpenID4VCI 1.0 issuer —
// offer, metadata, token, nonce, a `jwt` key proof by her wallet key, the credential).
#include "cli_oid4vci.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli_util.h"
#include "medallion/claims/sd_jwt.h"
#include "medallion/core/encoding.h"
#include "medallion/core/json.h"
#include "medallion/http/http_client.h"
#include "medallion/did/did_web.h"
#include "medallion/did/resolver.h"
#include "medallion/oid4vc/issuer.h"
#include "medallion/oid4vc/dcql.h"
#include "medallion/oid4vc/wallet.h"
#include "medallion/roles/container.h"
#include "medallion/roles/did_web_http.h"
#include "medallion/roles/uma_http.h"
#include "medallion/roles/flow.h"
#include "medallion/wallet/keys.h"
#include "medallion/web/qr.h"

namespace medallion::cli {

// The wallet sends pre-authorized codes, transaction codes and bearer tokens: only over https,
// or plain http to this machine's loopback (tests, and an issuer reached through a local proxy).
// OID4VCI §13.1 (TLS for every endpoint) and RFC 6749 §1.6.
Status CheckWalletTransport(const std::string& url) {
  if (url.starts_with("https://")) return Status::Ok();
  for (const char* local : {"http://127.0.0.1:", "http://127.0.0.1/", "http://localhost:",
                            "http://localhost/", "http://[::1]:", "http://[::1]/"}) {
    if (url.starts_with(local)) return Status::Ok();
  }
  return Status::InvalidArgument("refusing to send codes or tokens to '" + url +
                                 "': https is required (plain http only on loopback)");
}

Result<nlohmann::json> Exchange(std::string_view method, const std::string& url,
                                const std::string& bearer, const std::string& body,
                                const std::string& content_type) {
  MDL_ASSIGN_OR_RETURN(http::HttpReply r, http::HttpCall(method, url, bearer, body, content_type));
  if (r.status < 200 || r.status > 299) return http::StatusFromHttpReply(r);
  auto j = ParseJson(r.body);
  if (!j) return Status::Unavailable(url + " did not answer JSON");
  return std::move(*j);
}

namespace {

using nlohmann::json;

// RFC 3986 §2.1 percent-decoding of a query value ('+' is a space, as in forms).
Result<std::string> PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%') {
      auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
      };
      if (i + 2 >= s.size()) return Status::InvalidArgument("bad %-escape");
      const int h = hex(s[i + 1]), l = hex(s[i + 2]);
      if (h < 0 || l < 0) return Status::InvalidArgument("bad %-escape");
      out.push_back(static_cast<char>(h * 16 + l));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// Exchange for the wallet's side: the transport check first.
Result<json> WalletExchange(std::string_view method, const std::string& url,
                            const std::string& bearer, const std::string& body = "",
                            const std::string& content_type = "application/json") {
  MDL_RETURN_IF_ERROR(CheckWalletTransport(url));
  return Exchange(method, url, bearer, body, content_type);
}

// --- offer ------------------------------------------------------------------------------------

struct OfferOptions {
  std::string url, admin_token_file, license_id, qr_svg;
  // The physician's container: a prescription she signed and delivered (and its pharmacy copy),
  // offered through her owner session (docs/openid4vc.md).
  std::string prescription, copy, session_file;
  bool no_tx_code = false, as_json = false;
};

Result<json> RunOffer(const OfferOptions& o) {
  if (!o.prescription.empty()) {
    // POST /owner/v1/oid4vci/offers on her container (roles/physician_desk.h OfferDelivered).
    if (o.session_file.empty() || !o.admin_token_file.empty() || !o.license_id.empty() ||
        o.no_tx_code)
      return Status::InvalidArgument(
          "--prescription takes --session-file (her owner session), not --admin-token-file, "
          "--license-id or --no-tx-code (a prescription's offer always has a transaction code)");
    MDL_ASSIGN_OR_RETURN(std::string session, ReadToken(o.session_file));
    auto read_json = [](const std::string& path) -> Result<json> {
      MDL_ASSIGN_OR_RETURN(Bytes b, ReadFileBytes(path));
      auto j = ParseJsonObject(ToString(b), path);
      if (!j) return j.status();
      return std::move(*j);
    };
    MDL_ASSIGN_OR_RETURN(json vc, read_json(o.prescription));
    json body = {{"prescription", vc}};
    if (!o.copy.empty()) {
      // The file `physician deliver --copy-out` wrote: {"sd_jwt", "cosignature"?, ...}.
      MDL_ASSIGN_OR_RETURN(json copy, read_json(o.copy));
      body["pharmacy_copy"] = {{"sd_jwt", copy.value("sd_jwt", "")},
                               {"cosignature", MemberOr(copy, "cosignature")}};
    }
    MDL_ASSIGN_OR_RETURN(json offer,
                         Exchange("POST", o.url + "/owner/v1/oid4vci/offers", session, body.dump()));
    if (!o.qr_svg.empty()) {
      MDL_ASSIGN_OR_RETURN(std::string svg, web::QrSvg(offer.value("offer_uri_by_reference", ""),
                                                       "OpenID4VCI credential offer"));
      MDL_RETURN_IF_ERROR(
          WriteFileAtomic(o.qr_svg, svg, /*public_file=*/true, /*overwrite=*/false));
      offer["qr_svg"] = o.qr_svg;
    }
    return offer;
  }
  if (o.admin_token_file.empty() || o.license_id.empty())
    return Status::InvalidArgument("a license's offer takes --admin-token-file and --license-id");
  MDL_ASSIGN_OR_RETURN(std::string t, ReadToken(o.admin_token_file));
  json body = {{"license_id", o.license_id}, {"tx_code", !o.no_tx_code}};
  MDL_ASSIGN_OR_RETURN(json offer,
                       Exchange("POST", o.url + "/society/v1/oid4vci/offers", t, body.dump()));
  if (!o.qr_svg.empty()) {
    MDL_ASSIGN_OR_RETURN(std::string svg, web::QrSvg(offer.value("offer_uri_by_reference", ""),
                                                     "OpenID4VCI credential offer"));
    MDL_RETURN_IF_ERROR(WriteFileAtomic(o.qr_svg, svg, /*public_file=*/true, /*overwrite=*/false));
    offer["qr_svg"] = o.qr_svg;
  }
  return offer;
}

// --- accept -----------------------------------------------------------------------------------

struct AcceptOptions {
  std::string offer_uri, tx_code, out;
  std::string store, passphrase_file, did;
  // --container: the patient's (or physician's) container — the credential is verified and kept
  // in its credential store through the owner API; the holder key is the owner's authentication
  // key from her wallet's seed.
  std::string container, session_file;
  uint32_t account = 0, key_index = 0;
  int64_t wait_seconds = 120;  // deferred issuance (§9): how long to keep asking
  std::string redirect_uri = "http://127.0.0.1/oid4vci/callback";
  std::string client_id = "medallion-wallet";
  std::string ca_file;
  bool allow_insecure_loopback = false;
  bool as_json = false;
};

std::string B64Json(const json& j) { return Base64UrlEncode(AsBytes(j.dump())); }

// The holder: the key that proves possession and that the credential is bound to.
struct Holder {
  std::shared_ptr<wallet::SigningKey> key;
  std::string did;
};

Result<Holder> OpenHolder(const AcceptOptions& o) {
  if (!o.container.empty()) {
    // The container's owner key, derived from her wallet's HD seed (roles/container.h).
    MDL_ASSIGN_OR_RETURN(roles::OwnerKeys keys, roles::UnlockOwner(o.store, o.passphrase_file,
                                                                   o.account, o.did, o.key_index));
    return Holder{keys.auth, keys.did};
  }
  if (o.did.empty()) return Status::InvalidArgument("--did is required without --container");
  MDL_ASSIGN_OR_RETURN(roles::flow::Party me,
                       roles::flow::PartyFromStore(o.store, o.passphrase_file, o.did));
  return Holder{me.auth, me.did};
}

// RFC 6749 §4.1 with RFC 7636 (S256) and OID4VCI §5.1: the authorization request for the
// offer's `issuer_state`, sent by the wallet itself; the issuer's answer is a 302 to our loopback
// `redirect_uri` (nothing listens there: the Location is read, not followed — the Authorization
// Endpoint must authenticate the holder without a page, as the society's does by the
// issuer_state). Returns the token request's form.
Result<std::string> AuthorizationCodeForm(const AcceptOptions& o, const json& grant,
                                          const json& as_meta, const std::string& as,
                                          const std::string& config, const json& metadata) {
  const std::string endpoint = as_meta.value("authorization_endpoint", "");
  if (endpoint.empty())
    return Status::InvalidArgument("the authorization server names no authorization_endpoint");
  MDL_RETURN_IF_ERROR(CheckWalletTransport(endpoint));
  // RFC 8414 §2: S256 must be offered when the server lists its methods (plain is never sent).
  const json& methods = MemberOr(as_meta, "code_challenge_methods_supported");
  if (methods.is_array() && std::find(methods.begin(), methods.end(), "S256") == methods.end())
    return Status::InvalidArgument("the authorization server does not support PKCE S256");
  if (Status st = CheckWalletTransport(o.redirect_uri); !st.ok() || o.redirect_uri.find('#') != std::string::npos)
    return Status::InvalidArgument("--redirect-uri must be a loopback http(s) URL without a fragment");
  Rng& rng = *DefaultEnv().rng;
  const oid4vc::Pkce pkce = oid4vc::NewPkce(rng);
  const std::string state = rng.RandomId(16);
  const json details = json::array(
      {{{"type", "openid_credential"}, {"credential_configuration_id", config}}});
  std::string url = endpoint + (endpoint.find('?') == std::string::npos ? "?" : "&");
  url += "response_type=code&client_id=" + PercentEncode(o.client_id) +
         "&redirect_uri=" + PercentEncode(o.redirect_uri) +
         "&code_challenge=" + pkce.challenge + "&code_challenge_method=S256&state=" + state +
         "&authorization_details=" + PercentEncode(details.dump());
  if (MemberOr(grant, "issuer_state").is_string())
    url += "&issuer_state=" + PercentEncode(grant["issuer_state"].get<std::string>());
  (void)metadata;
  MDL_ASSIGN_OR_RETURN(http::HttpReply r, http::HttpCall("GET", url, "", "", "application/json",
                                                         15, o.ca_file));
  if (r.status != 302 && r.status != 303) {
    if (r.status >= 400) return http::StatusFromHttpReply(r);
    return Status::Unavailable("the authorization endpoint answered " + std::to_string(r.status) +
                               ", not a redirect (a sign-in page this wallet cannot show?)");
  }
  // RFC 6749 §4.1.2: the redirect is to our redirect_uri, with code and our state; RFC 9207:
  // `iss`, when present, is the authorization server we asked.
  const std::string& loc = r.location;
  if (!loc.starts_with(o.redirect_uri) ||
      (loc.size() > o.redirect_uri.size() && loc[o.redirect_uri.size()] != '?'))
    return Status::InvalidArgument("the authorization server redirected elsewhere than our "
                                   "redirect_uri: " + loc.substr(0, 200));
  const size_t q = loc.find('?');
  std::string_view query = q == std::string::npos ? std::string_view() : std::string_view(loc).substr(q + 1);
  if (const size_t hash = query.find('#'); hash != std::string_view::npos) query = query.substr(0, hash);
  MDL_ASSIGN_OR_RETURN(auto params, roles::ParseForm(query));
  if (params.count("error"))
    return Status::PermissionDenied(params["error"] + ": " + params["error_description"]);
  if (params["state"] != state)
    return Status::InvalidArgument("the authorization response carries another state (RFC 6749 §10.12)");
  if (params.count("iss") && params["iss"] != as)
    return Status::InvalidArgument("the authorization response names another issuer (RFC 9207 §2.4)");
  if (params["code"].empty()) return Status::InvalidArgument("the authorization response has no code");
  // RFC 6749 §4.1.3, RFC 7636 §4.5.
  return "grant_type=authorization_code&code=" + PercentEncode(params["code"]) +
         "&redirect_uri=" + PercentEncode(o.redirect_uri) + "&code_verifier=" + pkce.verifier +
         "&client_id=" + PercentEncode(o.client_id);
}

Result<json> RunAccept(const AcceptOptions& o) {
  if (o.container.empty() == o.out.empty())
    return Status::InvalidArgument("give exactly one of --out FILE and --container URL");
  if (!o.container.empty()) {
    if (o.session_file.empty())
      return Status::InvalidArgument("--container needs --session-file (from `consent signin`)");
    MDL_RETURN_IF_ERROR(CheckWalletTransport(o.container));
  }
  // OID4VCI §4.1: openid-credential-offer://?credential_offer=... | ?credential_offer_uri=...
  const size_t q = o.offer_uri.find('?');
  if (q == std::string::npos) return Status::InvalidArgument("the offer URI has no query");
  json offer;
  for (std::string_view rest = std::string_view(o.offer_uri).substr(q + 1); !rest.empty();) {
    const size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    MDL_ASSIGN_OR_RETURN(std::string value, PercentDecode(pair.substr(eq + 1)));
    if (pair.substr(0, eq) == "credential_offer") {
      auto j = ParseJsonObject(value, "credential_offer");
      if (!j) return j.status();
      offer = std::move(*j);
    } else if (pair.substr(0, eq) == "credential_offer_uri") {
      MDL_ASSIGN_OR_RETURN(offer, WalletExchange("GET", value, ""));  // §4.1.3
    }
  }
  if (!offer.is_object()) return Status::InvalidArgument("the URI holds no credential offer");
  const std::string issuer = offer.value("credential_issuer", "");
  const json& ids = MemberOr(offer, "credential_configuration_ids");
  const json& grants = MemberOr(offer, "grants");
  const json& pre = MemberOr(grants, std::string(oid4vc::kPreAuthorizedGrant).c_str());
  const json& code_grant = MemberOr(grants, "authorization_code");
  const bool pre_authorized = pre.is_object() && MemberOr(pre, "pre-authorized_code").is_string();
  if (issuer.empty() || !ids.is_array() || ids.empty() || !ids[0].is_string() ||
      (!pre_authorized && !code_grant.is_object()))
    return Status::InvalidArgument(
        "the offer needs credential_issuer, credential_configuration_ids and a pre-authorized "
        "code or authorization_code grant");
  const std::string config = ids[0];
  // §12.2.2 and RFC 8414 §3 (the issuer as its own AS unless it names one).
  MDL_ASSIGN_OR_RETURN(json metadata,
                       WalletExchange("GET", issuer + "/.well-known/openid-credential-issuer", ""));
  // §12.2.2: the metadata's credential_issuer MUST be the issuer the offer named.
  if (metadata.value("credential_issuer", "") != issuer)
    return Status::InvalidArgument(
        "the issuer metadata names another credential_issuer than the "
        "offer (" +
        issuer + "): refused (OID4VCI §12.2.2)");
  const json& configuration =
      MemberOr(MemberOr(metadata, "credential_configurations_supported"), config.c_str());
  const std::string format = MemberOr(configuration, "format").is_string()
                                 ? configuration["format"].get<std::string>()
                                 : std::string();
  if (!o.container.empty() && format != oid4vc::kSdJwtVcFormat)
    return Status::InvalidArgument("the container takes dc+sd-jwt credentials only; '" + config +
                                   "' is " + (format.empty() ? "unknown" : format));
  std::string as = issuer;
  const json& servers = MemberOr(metadata, "authorization_servers");
  if (servers.is_array() && !servers.empty() && servers[0].is_string()) {
    as = servers[0];
    // §4.1.1: the grant may name which one.
    const json& g = pre_authorized ? pre : code_grant;
    if (MemberOr(g, "authorization_server").is_string()) as = g["authorization_server"];
  }
  MDL_ASSIGN_OR_RETURN(json as_meta,
                       WalletExchange("GET", as + "/.well-known/oauth-authorization-server", ""));
  // RFC 8414 §3.3: the authorization server's metadata names the issuer it was fetched for.
  if (as_meta.value("issuer", "") != as)
    return Status::InvalidArgument("the authorization server metadata names another issuer than " +
                                   as + " (RFC 8414 §3.3)");
  // The holder's key, before any code is spent.
  MDL_ASSIGN_OR_RETURN(Holder holder, OpenHolder(o));
  // §6.1 Token Request: the pre-authorized code, else the authorization code flow (§3.4).
  std::string form;
  if (pre_authorized) {
    form = "grant_type=" + PercentEncode(oid4vc::kPreAuthorizedGrant) +
           "&pre-authorized_code=" + PercentEncode(pre["pre-authorized_code"].get<std::string>());
    if (pre.contains("tx_code")) {
      if (o.tx_code.empty())
        return Status::InvalidArgument("this offer needs the transaction code (--tx-code)");
      form += "&tx_code=" + PercentEncode(o.tx_code);
    }
  } else {
    MDL_ASSIGN_OR_RETURN(form, AuthorizationCodeForm(o, code_grant, as_meta, as, config, metadata));
  }
  MDL_ASSIGN_OR_RETURN(json token, WalletExchange("POST", as_meta.value("token_endpoint", ""), "",
                                                  form, "application/x-www-form-urlencoded"));
  const std::string access = token.value("access_token", "");
  // §7 Nonce (sent with the token, so the nonce is this session's).
  MDL_ASSIGN_OR_RETURN(json nonce,
                       WalletExchange("POST", metadata.value("nonce_endpoint", ""), access));
  // Appendix F.1: the proof by the holder's key, as a JWK.
  MDL_ASSIGN_OR_RETURN(std::string jwk,
                       claims::PublicJwkJson(claims::Alg::kEdDSA, holder.key->public_key));
  const json header = {
      {"typ", std::string(oid4vc::kProofJwtTyp)}, {"alg", "EdDSA"}, {"jwk", json::parse(jwk)}};
  json payload = {{"aud", issuer},
                  {"iat", DefaultEnv().clock->NowMillis() / 1000},
                  {"nonce", nonce.value("c_nonce", "")}};
  if (!pre_authorized) payload["iss"] = o.client_id;  // F.1: the client_id, when not anonymous
  const std::string input = B64Json(header) + "." + B64Json(payload);
  MDL_ASSIGN_OR_RETURN(Bytes sig, wallet::Sign(*holder.key, AsBytes(input)));
  const std::string proof = input + "." + Base64UrlEncode(sig);
  // §8.2 Credential Request.
  json request = {{"credential_configuration_id", config}, {"proofs", {{"jwt", {proof}}}}};
  MDL_ASSIGN_OR_RETURN(
      json response,
      WalletExchange("POST", metadata.value("credential_endpoint", ""), access, request.dump()));
  // §8.3 / §9: a transaction_id (202) means deferred issuance — ask the deferred endpoint after
  // `interval` seconds, for at most --wait seconds in all.
  int polls = 0;
  if (MemberOr(response, "transaction_id").is_string() && !response.contains("credentials")) {
    const std::string deferred = metadata.value("deferred_credential_endpoint", "");
    if (deferred.empty())
      return Status::Unavailable("deferred issuance, but the issuer names no "
                                 "deferred_credential_endpoint");
    const int64_t deadline = DefaultEnv().clock->NowSeconds() + std::max<int64_t>(0, o.wait_seconds);
    for (;;) {
      const std::string transaction = response["transaction_id"];
      const int64_t wait =
          oid4vc::DeferredWaitSeconds(response, deadline - DefaultEnv().clock->NowSeconds());
      if (wait <= 0 && polls > 0)
        return Status::Unavailable(
            "the credential is still pending after " + std::to_string(o.wait_seconds) +
            " s (transaction_id " + transaction + "; try a longer --wait)");
      std::this_thread::sleep_for(std::chrono::seconds(wait));
      ++polls;
      // §9.1 Deferred Credential Request.
      MDL_ASSIGN_OR_RETURN(response, WalletExchange("POST", deferred, access,
                                                    json{{"transaction_id", transaction}}.dump()));
      if (!MemberOr(response, "transaction_id").is_string() || response.contains("credentials"))
        break;
      if (DefaultEnv().clock->NowSeconds() >= deadline)
        return Status::Unavailable("the credential is still pending after " +
                                        std::to_string(o.wait_seconds) + " s (transaction_id " +
                                        transaction + ")");
    }
  }
  const json& creds = MemberOr(response, "credentials");
  if (!creds.is_array() || creds.empty() || !MemberOr(creds[0], "credential").is_string())
    return Status::Unavailable("the credential response holds no credential");
  const std::string credential = creds[0]["credential"];
  json out = {{"issuer", issuer},
              {"configuration", config},
              {"format", format.empty() ? json() : json(format)},
              {"holder", holder.did}};
  if (polls > 0) out["deferred_polls"] = polls;
  if (o.out.empty()) {
    // The container: verify before keeping (issuer signature through the DID `iss` names, cnf =
    // the key just proven, vct of the configuration), then file it through the owner API.
    roles::HttpsFetcherOptions fo;
    fo.ca_file = o.ca_file;
    fo.allow_insecure_loopback = o.allow_insecure_loopback;
    did::Resolver resolver;  // did:key, and did:web over HTTPS
    resolver.Register(std::make_shared<did::DidWebResolver>(
        std::make_shared<roles::HttpsDocumentFetcher>(fo), DefaultEnv(), 60'000));
    claims::HolderKey hk{claims::Alg::kEdDSA, holder.key->public_key};
    const std::string vct = MemberOr(configuration, "vct").is_string()
                                ? configuration["vct"].get<std::string>()
                                : std::string();
    MDL_ASSIGN_OR_RETURN(oid4vc::ReceivedSdJwt received,
                         oid4vc::CheckReceivedSdJwt(credential, resolver, hk, vct,
                                                    *DefaultEnv().clock));
    MDL_ASSIGN_OR_RETURN(std::string bearer, ReadToken(o.session_file));
    MDL_ASSIGN_OR_RETURN(
        json kept, Exchange("POST", o.container + "/owner/v1/credentials", bearer,
                            json{{"format", std::string(oid4vc::kSdJwtVcFormat)},
                                 {"credential", credential}}
                                .dump()));
    out["container"] = o.container;
    out["id"] = kept.value("id", "");
    out["vct"] = received.vct;
    out["credential_issuer_signer"] = received.issuer;
    return out;
  }
  MDL_RETURN_IF_ERROR(
      WriteFileAtomic(o.out, credential + "\n", /*public_file=*/false, /*overwrite=*/false));
  out["file"] = o.out;
  return out;
}

}  // namespace

void AddOid4vciCommands(CLI::App& app, int& rc) {
  CLI::App* top = app.add_subcommand(
      "oid4vci", "OpenID4VCI 1.0: credential offers (society) and taking one (wallet)");
  top->require_subcommand(1);
  {
    auto o = std::make_shared<OfferOptions>();
    auto* cmd = top->add_subcommand(
        "offer",
        "Society: an OpenID4VCI credential offer for an onboarded physician's license; "
        "physician (--prescription): one for a prescription she delivered, from her container "
        "(prints the offer URI and the transaction code to hand over separately)");
    cmd->add_option("--url", o->url, "The society's base URL (or the physician's container)")
        ->required();
    cmd->add_option("--admin-token-file", o->admin_token_file,
                    "The society's admin token (DIR/admin.token)");
    cmd->add_option("--license-id", o->license_id, "The license's id (from `issuer onboard`)");
    cmd->add_option("--prescription", o->prescription,
                    "Physician: the delivered PrescriptionCredential (`physician deliver --out`)");
    cmd->add_option("--copy", o->copy,
                    "Physician: its pharmacy copy (`physician deliver --copy-out`): the patient's "
                    "container proving her pseudonym gets that copy and its co-signature");
    cmd->add_option("--session-file", o->session_file,
                    "Physician: her owner session in her container (`consent signin`)");
    cmd->add_flag("--no-tx-code", o->no_tx_code, "Offer without a transaction code");
    cmd->add_option("--qr-svg", o->qr_svg,
                    "Also write the offer (by reference) as a QR code (SVG; never overwritten)");
    cmd->add_flag("--json", o->as_json, "Print the result as JSON");
    cmd->callback([o, &rc] {
      auto r = RunOffer(*o);
      if (!r) {
        rc = ReportError(r.error());
        return;
      }
      if (o->as_json) {
        PrintJson(*r);
      } else {
        std::cout << r->value("offer_uri", "") << "\n";
        if (!r->value("tx_code", "").empty())
          std::cout << "transaction code: " << r->value("tx_code", "") << "\n";
      }
      rc = kExitOk;
    });
  }
  {
    auto o = std::make_shared<AcceptOptions>();
    auto* cmd = top->add_subcommand(
        "accept",
        "Wallet: take an OpenID4VCI credential offer (pre-authorized or authorization code "
        "flow, deferred issuance) with your wallet key; write the credential or keep it in your "
        "container");
    cmd->add_option("offer-uri", o->offer_uri, "openid-credential-offer://?...")->required();
    cmd->add_option("--tx-code", o->tx_code, "The transaction code given with the offer");
    cmd->add_option("--store", o->store, "Your wallet key store")->required();
    cmd->add_option("--passphrase-file", o->passphrase_file,
                    "Key store passphrase (else $MEDALLION_PASSPHRASE or a prompt)");
    cmd->add_option("--did", o->did,
                    "Your DID (with --container: a did:mdl owner; default the wallet's did:key)");
    cmd->add_option("--out", o->out, "Where to write the credential (never overwritten)");
    cmd->add_option("--container", o->container,
                    "Keep it in your container instead (its base URL): verified, bound to your "
                    "owner key, filed through the owner API");
    cmd->add_option("--session-file", o->session_file,
                    "With --container: the owner's session token (from `consent signin`)");
    cmd->add_option("--account", o->account, "With --container: wallet account (default 0)");
    cmd->add_option("--key-index", o->key_index,
                    "With --container and a did:mdl: the authentication key's generation");
    cmd->add_option("--wait", o->wait_seconds,
                    "Deferred issuance: ask again for at most this many seconds (default 120)");
    cmd->add_option("--redirect-uri", o->redirect_uri,
                    "Authorization code flow: the loopback redirect_uri whose redirect the "
                    "wallet reads (default http://127.0.0.1/oid4vci/callback)");
    cmd->add_option("--client-id", o->client_id,
                    "Authorization code flow: the client_id (default medallion-wallet)");
    cmd->add_option("--ca-file", o->ca_file, "CAs to trust for https (PEM; else the system's)");
    cmd->add_flag("--allow-insecure-loopback", o->allow_insecure_loopback,
                  "Resolve an issuer's did:web on 127.0.0.1/localhost over plain http (tests)");
    cmd->add_flag("--json", o->as_json, "Print the result as JSON");
    cmd->callback([o, &rc] {
      auto r = RunAccept(*o);
      if (!r) {
        rc = ReportError(r.error());
        return;
      }
      if (o->as_json)
        PrintJson(*r);
      else
        std::cout << "credential " << r->value("configuration", "") << " from "
                  << r->value("issuer", "") << (r->contains("container")
                                                    ? " kept in " + r->value("container", "")
                                                    : " written to " + r->value("file", ""))
                  << "\n";
      rc = kExitOk;
    });
  }
}

}  // namespace medallion::cli
