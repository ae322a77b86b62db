// The pharmacy as an OpenID4VP 1.0 verifier (docs/openid4vc.md §"The pharmacy as a verifier"):
// a pharmacist asks for a prescription SD-JWT VC with a DCQL query, the wallet answers by
// direct_post, and the answer runs through the pharmacy's dispense pipeline
// (claims::VerifyAndDispenseSdJwt via RunDispense), every reason code included.
//
//   POST /web/v1/counter/oid4vp/requests      (pharmacist) {"controlled"?, "encrypted"?} → 201 the
//        request: by reference (openid4vp://?client_id=...&request_uri=...) and by value
//   GET  /web/v1/counter/oid4vp/requests/<id> (pharmacist) → {"status", "result"?, "error"?}
//   GET  /pharmacy/v1/oid4vp/requests/<id>    the request object (RFC 9101; OID4VP §5.9.3: a
//        JWS by the pharmacy's DID key for decentralized_identifier:, alg none for redirect_uri:)
//   POST /pharmacy/v1/oid4vp/response         the response_uri (direct_post, §8.2), public
#pragma once

#include <httplib.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "medallion/core/env.h"
#include "medallion/core/status.h"
#include "medallion/oid4vc/verifier.h"
#include "medallion/roles/pharmacy_http.h"

namespace medallion::roles {

// The extension response parameters (OID4VP §8.1 / RFC 6749 §8.2) that carry the approvals a
// controlled substance needs beside the vp_token: the prescriber's phone co-signature and the
// patient's fill authorization (compact JWS each; aud of the latter = the client_id).
inline constexpr char kCosignatureParam[] = "medallion_cosignature";
inline constexpr char kFillAuthorizationParam[] = "medallion_fill_authorization";
// The Credential Query id the pharmacy's DCQL query uses.
inline constexpr char kPrescriptionQueryId[] = "prescription";

// The DCQL query for a prescription SD-JWT VC: what the pipeline needs disclosed (the always
// visible medication, quantity, repeats, jti and license) plus, for a controlled substance,
// `sub` (claims::PharmacyReveal).
nlohmann::json PrescriptionDcqlQuery(bool controlled);

class PharmacyOid4vp {
 public:
  // `base_url`: the origin the wallet reaches the pharmacy at (its response_uri and request
  // objects live there). With `request_signer` (a key of the pharmacy's DID, named by a DID
  // URL) the client_id is "decentralized_identifier:" + that DID and the request objects are
  // signed (OID4VP §5.9.3); without, "redirect_uri:" + base_url + "/pharmacy/v1/oid4vp/
  // response", unsigned. `service` outlives this. Errors: the verifier's (its file: `db_path`).
  static Result<std::unique_ptr<PharmacyOid4vp>> Open(
      PharmacyService& service, const std::string& db_path, const std::string& base_url, Env env,
      std::optional<claims::Signer> request_signer = std::nullopt);

  // Authorizes a staff request (sends the error and returns nullopt otherwise); returns the
  // account.
  using StaffCheck =
      std::function<std::optional<std::string>(const httplib::Request&, httplib::Response&)>;
  void RegisterRoutes(httplib::Server& server, StaffCheck staff);

  const std::string& client_id() const { return verifier_->options().client_id; }
  oid4vc::Verifier& verifier() { return *verifier_; }

  // The handlers, also for tests without a server.
  // A new request (what POST /web/v1/counter/oid4vp/requests answers); `encrypted`: response
  // mode direct_post.jwt (OID4VP §8.3).
  Result<nlohmann::json> NewRequest(bool controlled, bool encrypted = false);
  // direct_post: the HTTP status and JSON body answered to the wallet.
  std::pair<int, nlohmann::json> Respond(const std::map<std::string, std::string>& form);
  // The staff's view of a request. Errors: not_found.
  Result<nlohmann::json> Outcome(const std::string& id);

 private:
  PharmacyOid4vp(PharmacyService& service, std::unique_ptr<oid4vc::Verifier> verifier, Env env)
      : service_(service), verifier_(std::move(verifier)), env_(env) {}
  PharmacyService& service_;
  std::unique_ptr<oid4vc::Verifier> verifier_;
  Env env_;
};

}  // namespace medallion::roles
