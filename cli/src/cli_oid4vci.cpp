// `medallion oid4vci offer` (the society: an OpenID4VCI 1.0 credential offer for a license its
// onboarding issued, as a URI, a transaction code and a QR code) and `medallion oid4vci accept`
// (a physician's wallet: the pre-authorized code flow against any OpenID4VCI 1.0 issuer —
// offer, metadata, token, nonce, a `jwt` key proof by her wallet key, the credential).
#include "cli_oid4vci.h"

#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli_util.h"
#include "medallion/claims/sd_jwt.h"
#include "medallion/core/encoding.h"
#include "medallion/core/json.h"
#include "medallion/http/http_client.h"
#include "medallion/oid4vc/issuer.h"
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

// An HTTP exchange whose answer is JSON; a non-2xx answer becomes the server's Status.
Result<json> Exchange(std::string_view method, const std::string& url, const std::string& bearer,
                      const std::string& body = "",
                      const std::string& content_type = "application/json") {
  MDL_ASSIGN_OR_RETURN(http::HttpReply r, http::HttpCall(method, url, bearer, body, content_type));
  if (r.status < 200 || r.status > 299) return http::StatusFromHttpReply(r);
  auto j = ParseJson(r.body);
  if (!j) return Status::Unavailable(url + " did not answer JSON");
  return std::move(*j);
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
  bool no_tx_code = false, as_json = false;
};

Result<json> RunOffer(const OfferOptions& o) {
  MDL_ASSIGN_OR_RETURN(SecretString token, ReadSecretFile(o.admin_token_file));
  std::string t(token.Reveal());
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
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
  bool as_json = false;
};

std::string B64Json(const json& j) { return Base64UrlEncode(AsBytes(j.dump())); }

Result<json> RunAccept(const AcceptOptions& o) {
  // OID4VCI §4.1: openid-credential-offer://?credential_offer=... | ?credential_offer_uri=...
  const std::string scheme(oid4vc::kOfferScheme);
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
  const json& grant =
      MemberOr(MemberOr(offer, "grants"), std::string(oid4vc::kPreAuthorizedGrant).c_str());
  if (issuer.empty() || !ids.is_array() || ids.empty() || !ids[0].is_string() ||
      !grant.is_object() || !MemberOr(grant, "pre-authorized_code").is_string())
    return Status::InvalidArgument(
        "the offer needs credential_issuer, credential_configuration_ids and a pre-authorized "
        "code grant");
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
  std::string as = issuer;
  if (MemberOr(metadata, "authorization_servers").is_array() &&
      !metadata["authorization_servers"].empty() &&
      metadata["authorization_servers"][0].is_string())
    as = metadata["authorization_servers"][0];
  MDL_ASSIGN_OR_RETURN(json as_meta,
                       WalletExchange("GET", as + "/.well-known/oauth-authorization-server", ""));
  // RFC 8414 §3.3: the authorization server's metadata names the issuer it was fetched for.
  if (as_meta.value("issuer", "") != as)
    return Status::InvalidArgument("the authorization server metadata names another issuer than " +
                                   as + " (RFC 8414 §3.3)");
  // §6.1 Token Request.
  std::string form =
      "grant_type=" + PercentEncode(oid4vc::kPreAuthorizedGrant) +
      "&pre-authorized_code=" + PercentEncode(grant["pre-authorized_code"].get<std::string>());
  if (grant.contains("tx_code")) {
    if (o.tx_code.empty())
      return Status::InvalidArgument("this offer needs the transaction code (--tx-code)");
    form += "&tx_code=" + PercentEncode(o.tx_code);
  }
  MDL_ASSIGN_OR_RETURN(json token, WalletExchange("POST", as_meta.value("token_endpoint", ""), "",
                                                  form, "application/x-www-form-urlencoded"));
  const std::string access = token.value("access_token", "");
  // §7 Nonce (sent with the token, so the nonce is this session's).
  MDL_ASSIGN_OR_RETURN(json nonce,
                       WalletExchange("POST", metadata.value("nonce_endpoint", ""), access));
  // Appendix F.1: the proof by the physician's authentication key, as a JWK.
  MDL_ASSIGN_OR_RETURN(roles::flow::Party me,
                       roles::flow::PartyFromStore(o.store, o.passphrase_file, o.did));
  MDL_ASSIGN_OR_RETURN(std::string jwk,
                       claims::PublicJwkJson(claims::Alg::kEdDSA, me.auth->public_key));
  const json header = {
      {"typ", std::string(oid4vc::kProofJwtTyp)}, {"alg", "EdDSA"}, {"jwk", json::parse(jwk)}};
  const json payload = {{"aud", issuer},
                        {"iat", DefaultEnv().clock->NowMillis() / 1000},
                        {"nonce", nonce.value("c_nonce", "")}};
  const std::string input = B64Json(header) + "." + B64Json(payload);
  MDL_ASSIGN_OR_RETURN(Bytes sig, wallet::Sign(*me.auth, AsBytes(input)));
  const std::string proof = input + "." + Base64UrlEncode(sig);
  // §8.2 Credential Request.
  json request = {{"credential_configuration_id", config}, {"proofs", {{"jwt", {proof}}}}};
  MDL_ASSIGN_OR_RETURN(
      json response,
      WalletExchange("POST", metadata.value("credential_endpoint", ""), access, request.dump()));
  const json& creds = MemberOr(response, "credentials");
  if (!creds.is_array() || creds.empty() || !MemberOr(creds[0], "credential").is_string())
    return Status::Unavailable(
        "the credential response holds no credential (deferred issuance is "
        "not supported)");
  const std::string credential = creds[0]["credential"];
  MDL_RETURN_IF_ERROR(
      WriteFileAtomic(o.out, credential + "\n", /*public_file=*/false, /*overwrite=*/false));
  return json{
      {"issuer", issuer},
      {"configuration", config},
      {"file", o.out},
      {"format",
       MemberOr(MemberOr(MemberOr(metadata, "credential_configurations_supported"), config.c_str()),
                "format")}};
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
        "Society: an OpenID4VCI credential offer for an onboarded physician's license "
        "(prints the offer URI and the transaction code to hand over separately)");
    cmd->add_option("--url", o->url, "The society's base URL")->required();
    cmd->add_option("--admin-token-file", o->admin_token_file,
                    "The society's admin token (DIR/admin.token)")
        ->required();
    cmd->add_option("--license-id", o->license_id, "The license's id (from `issuer onboard`)")
        ->required();
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
        "Wallet: take an OpenID4VCI credential offer (pre-authorized code flow) with "
        "your wallet key and write the credential");
    cmd->add_option("offer-uri", o->offer_uri, "openid-credential-offer://?...")->required();
    cmd->add_option("--tx-code", o->tx_code, "The transaction code given with the offer");
    cmd->add_option("--store", o->store, "Your wallet key store")->required();
    cmd->add_option("--passphrase-file", o->passphrase_file,
                    "Key store passphrase (else $MEDALLION_PASSPHRASE or a prompt)");
    cmd->add_option("--did", o->did, "Your DID")->required();
    cmd->add_option("--out", o->out, "Where to write the credential (never overwritten)")
        ->required();
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
                  << r->value("issuer", "") << " written to " << r->value("file", "") << "\n";
      rc = kExitOk;
    });
  }
}

}  // namespace medallion::cli
