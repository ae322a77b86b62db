// Interactive claims gathering (UMA Grant §3.3.2-§3.3.3) by OpenID for Verifiable Presentations
// 1.0: the claims interaction endpoint answers with an OpenID4VP Authorization Request (DCQL for
// the license SD-JWT VC, direct_post, oid4vc/verifier.h); the response endpoint verifies the
// presentation, runs the license checks of the pushed-claim path on it (trusted issuer, license
// status, holder binding to the DID) and sends the requesting party back to the client with a
// new ticket carrying the gathered claims (authorization_state=claims_submitted).
//
// The chain's state between the two requests is a "gathering record" in the ticket table,
// keyed by the OpenID4VP request's state: single use and expiring like a ticket, and neither
// redeemable nor spendable at the token endpoint (tickets.h kGatheringOwner).
#include "as_internal.h"
#include "medallion/claims/sd_jwt.h"
#include "medallion/did/document.h"

namespace medallion::uma {

namespace {

constexpr size_t kMaxParam = 2048;  // client_id, ticket, state, a redirect URI

std::string Param(const std::map<std::string, std::string>& m, const char* k) {
  auto it = m.find(k);
  return it == m.end() ? "" : it->second;
}

// UMA Grant §3.3.3: the claims redirect URI with `params` added to its query.
std::string RedirectTo(const std::string& uri, const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out = uri;
  char sep = uri.find('?') == std::string::npos ? '?' : '&';
  for (const auto& [k, v] : params) {
    if (v.empty()) continue;
    out += sep;
    out += k + "=" + PercentEncode(v);
    sep = '&';
  }
  return out;
}

// The DCQL query of the claims interaction (OpenID4VP §6): one license SD-JWT VC with the
// claims a policy and the owner's approval use — its subject DID and license number (always
// disclosed in the society's credential) and the license type and jurisdiction; not the
// name, specialty or schedules.
json LicenseQuery() {
  return {{"credentials",
           {{{"id", "license"},
             {"format", oid4vc::kSdJwtVcFormat},
             {"meta", {{"vct_values", {kLicenseVct}}}},
             {"claims",
              {{{"path", {"sub"}}},
               {{"path", {"license_number"}}},
               {{"path", {"license_type"}}},
               {{"path", {"jurisdiction"}}}}}}}}};
}

}  // namespace

// The claims a verified license SD-JWT VC proves: the same checks as a license in a pushed
// claim token (Impl::CheckCredentialClaim): its issuer is trusted, its status is active, and
// it is bound to the DID it names (the KB-JWT's key — cnf — is an authentication key of the
// `sub` DID, as a VP's signer must be a key of its holder). Errors: permission_denied
// (untrusted_issuer, license_status, holder_binding), unavailable (the DID did not resolve).

Result<AuthorizationServer::Impl::Claims> AuthorizationServer::Impl::LicenseClaims(
    const claims::VerifiedSdJwt& v) {
  const AuthorizationServerOptions& o = o_;
  auto payload = ParseJsonObject(v.payload_json, "sd-jwt payload");
  if (!payload) return payload.error();
  if (v.vct != kLicenseVct)
    return Status::PermissionDenied("credential_type: not a license SD-JWT VC");
  if (!v.key_bound)
    return Status::PermissionDenied("holder_binding: the presentation has no key binding");
  if (!Contains(o.trusted_issuers, v.issuer))
    return Status::PermissionDenied("untrusted_issuer: " + v.issuer +
                                    " is not a trusted license issuer");
  const std::string sub = StringOr(*payload, "sub");
  if (!did::IsValidDid(sub))
    return Status::PermissionDenied("holder_binding: the license names no DID (sub)");
  const json& cnf = MemberOr(*payload, "cnf");
  auto holder = claims::HolderKeyFromJwk(MemberOr(cnf, "jwk"));
  if (!holder) return Status::PermissionDenied("holder_binding: the license has no cnf.jwk");
  const did::ResolutionResult resolved = o.resolver->Resolve(sub);
  if (!resolved.ok() || !resolved.document) {
    const std::string why = "holder_binding: " + sub + " did not resolve: " + resolved.error;
    if (resolved.error == did::kNotFound || resolved.error == did::kInvalidDid)
      return Status::PermissionDenied(why);
    return Status::Unavailable(why);
  }
  if (resolved.metadata.deactivated)
    return Status::PermissionDenied("holder_binding: " + sub + " is deactivated");
  bool bound = false;
  for (const std::string& id : resolved.document->authentication) {
    const did::VerificationMethod* m =
        resolved.document->FindMethodFor(id, did::Relationship::kAuthentication);
    if (m != nullptr && m->public_key == holder->public_key) bound = true;
  }
  if (!bound)
    return Status::PermissionDenied(
        "holder_binding: the license's key (cnf) is not an authentication key of " + sub);
  Status st = o.sd_jwt_license_status(*payload);
  if (!st.ok()) return Status(st.code(), "license_status: " + st.message());

  Claims out;
  out.party.did = sub;
  VerifiedCredential c;
  c.types = {"VerifiableCredential", kLicenseCredentialType};
  c.issuer = v.issuer;
  MDL_ASSIGN_OR_RETURN(std::string canonical, jcs::Canonicalize(*payload));
  c.digest = HexHash(canonical);
  // The facts the owner is shown, named as a W3C license's (CheckCredentialClaim).
  for (const auto& [from, to] : std::vector<std::pair<const char*, const char*>>{
           {"name", "name"},
           {"license_number", "licenseNumber"},
           {"license_type", "licenseType"},
           {"specialty", "specialty"},
           {"jurisdiction", "jurisdiction"}}) {
    const std::string value = StringOr(*payload, from);
    if (!value.empty()) c.facts.emplace_back(to, value.substr(0, 200));
  }
  c.facts.emplace_back("status", "active");
  out.party.credentials.push_back(std::move(c));
  // Kept beside the party (Merge pairs them); never re-checked as a W3C credential behind a PCT
  // (no PCT is issued for gathered claims), and dropped if it were.
  out.vcs.push_back({{"format", oid4vc::kSdJwtVcFormat}, {"payload", *payload}});
  return out;
}

bool AuthorizationServer::ClaimsInteractionEnabled() const { return impl_->vp_ != nullptr; }

Reply AuthorizationServer::ClaimsInteraction(const std::map<std::string, std::string>& query) {
  if (!ClaimsInteractionEnabled())
    return Error(StatusCode::kNotFound, "not_found", "claims interaction is not offered here");
  const std::string client_id = Param(query, "client_id");
  const std::string ticket = Param(query, "ticket");
  const std::string redirect = Param(query, "claims_redirect_uri");
  const std::string state = Param(query, "state");
  const std::string purpose = Param(query, "purpose_of_use");
  for (const std::string* p : {&client_id, &ticket, &redirect, &state, &purpose}) {
    if (p->size() > kMaxParam)
      return Error(StatusCode::kInvalidArgument, "invalid_request", "a parameter is too long");
  }
  if (client_id.empty() || ticket.empty() || redirect.empty())
    return Error(StatusCode::kInvalidArgument, "invalid_request",
                 "client_id, ticket and claims_redirect_uri are required (UMA Grant §3.3.2)");
  // The redirect URI must be one the client registered (RFC 7591 redirect_uris), compared
  // exactly; until it is, nothing is redirected (RFC 6749 §4.1.2.1, §10.15: no open redirector).
  {
    Impl::Lock lock(*impl_);
    auto client = impl_->clients_->Find(client_id);
    if (!client || client->kind != "client")
      return Error(StatusCode::kInvalidArgument, "invalid_client", "unknown client");
    const json& uris = MemberOr(client->metadata, "redirect_uris");
    bool registered = false;
    if (uris.is_array()) {
      for (const json& u : uris) registered = registered || (u.is_string() && u == redirect);
    }
    if (!registered)
      return Error(StatusCode::kInvalidArgument, "invalid_request",
                   "claims_redirect_uri is not a redirect URI this client registered");
  }
  auto back_with_error = [&](const std::string& error, const std::string& description) {
    Reply r = Error(StatusCode::kInvalidArgument, error, description);
    r.status = Status::Ok();  // answered by a redirect to the client
    r.body["redirect_to"] = RedirectTo(
        redirect, {{"error", error}, {"error_description", description}, {"state", state}});
    return r;
  };
  if (!purpose.empty() && !IsPurposeOfUse(purpose))
    return back_with_error("invalid_request", "purpose_of_use is not a known purpose of use");

  auto request = impl_->vp_->CreateRequest(LicenseQuery());
  if (!request) return Internal(request.error());

  Impl::Lock lock(*impl_);
  std::optional<Reply> refused;
  Status st = impl_->Tx([&]() -> Status {
    auto consumed = impl_->ConsumeTicket(ticket);
    if (!consumed) {
      if (consumed.error().code() != StatusCode::kNotFound &&
          consumed.error().code() != StatusCode::kFailedPrecondition)
        return consumed.error();
      refused = back_with_error("invalid_grant", consumed.error().message());
      return impl_->Log({{"event", "claims.interaction"},
                         {"client_id", client_id},
                         {"outcome", "invalid_grant"},
                         {"reason", consumed.error().message()}});
    }
    json chain = consumed->second;
    if (chain.contains("gathering") ||
        (chain.contains("client") && chain["client"] != client_id)) {
      refused = back_with_error("invalid_grant", "the ticket was issued to another client");
      return impl_->Log({{"event", "claims.interaction"},
                         {"client_id", client_id},
                         {"outcome", "invalid_grant"},
                         {"reason", "ticket of another client"}});
    }
    chain["client"] = client_id;
    json record = {{"gathering",
                    {{"client", client_id},
                     {"claims_redirect_uri", redirect},
                     {"state", state},
                     {"purpose", purpose}}},
                   {"chain", chain},
                   {"resource_server", consumed->first}};
    MDL_RETURN_IF_ERROR(impl_->tickets_->Put(request->state, kGatheringOwner, record,
                                             impl_->Now(), request->expires));
    return impl_->Log({{"event", "claims.interaction"},
                       {"client_id", client_id},
                       {"outcome", "presentation_requested"}});
  });
  if (!st.ok()) return Internal(st);
  if (refused) return *refused;
  json params = json::object();
  for (const auto& [k, v] : request->params) params[k] = v;
  return Answer({{"redirect_to", request->uri}, {"authorization_request", params}});
}

Reply AuthorizationServer::ClaimsPresentation(const std::map<std::string, std::string>& form) {
  if (!ClaimsInteractionEnabled())
    return Error(StatusCode::kNotFound, "not_found", "claims interaction is not offered here");
  // OpenID4VP §8.2: the Verifier's checks (state known, unexpired and unanswered — spent by this
  // post whatever its outcome — then each SD-JWT+KB, the nonce and aud, the DCQL query); the
  // slow parts (DID resolution) run without the server's lock.
  auto verified = impl_->vp_->VerifyResponse(form, *options_.resolver);
  std::optional<Impl::Claims> gathered;
  Status refusal;
  if (verified) {
    auto it = verified->credentials.find("license");
    if (it == verified->credentials.end() || it->second.size() != 1) {
      refusal = Status::PermissionDenied("the response presents no license");
    } else {
      // The purpose comes with the gathering record; it is set below.
      auto c = impl_->LicenseClaims(it->second.front());
      if (c) {
        gathered = std::move(*c);
      } else {
        refusal = c.error();
      }
    }
  } else {
    refusal = verified.error();
  }
  const std::string vp_state = Param(form, "state");

  Impl::Lock lock(*impl_);
  Reply reply;
  Status st = impl_->Tx([&]() -> Status {
    if (vp_state.empty() || vp_state.size() > kMaxParam) {
      reply = Error(StatusCode::kInvalidArgument, "invalid_request", refusal.message());
      return impl_->Log({{"event", "claims.presentation"},
                         {"outcome", "invalid_request"},
                         {"reason", refusal.message()}});
    }
    auto record = impl_->tickets_->Consume(vp_state, impl_->Now(), /*gathering=*/true);
    if (!record || !record->second.contains("gathering")) {
      // Replayed (the record is spent), expired, or no gathering of ours.
      const std::string why =
          refusal.ok() ? (record ? std::string("not a claims interaction")
                                 : record.error().message())
                       : refusal.message();
      reply = Error(StatusCode::kInvalidArgument, "invalid_request", why);
      return impl_->Log({{"event", "claims.presentation"},
                         {"outcome", "invalid_request"},
                         {"reason", why}});
    }
    const json& g = record->second["gathering"];
    const std::string client_id = g.value("client", "");
    const std::string redirect = g.value("claims_redirect_uri", "");
    const std::string state = g.value("state", "");
    json chain = record->second["chain"];
    json entry = {{"event", "claims.presentation"}, {"client_id", client_id}};
    if (!refusal.ok()) {
      // OpenID4VP §8.5 to the wallet; UMA Grant §3.3.3 back to the client with the error (no
      // ticket: the chain ends here, the client starts again).
      reply = Error(StatusCode::kInvalidArgument, "invalid_request", refusal.message());
      reply.body["redirect_uri"] = RedirectTo(
          redirect, {{"error", "access_denied"},
                     {"error_description", "the presentation was refused"},
                     {"state", state}});
      entry["outcome"] = "refused";
      entry["reason"] = refusal.message();
      return impl_->Log(entry);
    }
    gathered->party.purpose = g.value("purpose", "");
    Impl::Claims have;
    if (chain.contains("party")) {
      have.party = PartyFromJson(chain["party"]);
      have.vcs = chain["party"].value("vcs", json::array());
    }
    if (Status m = impl_->Merge(have, std::move(*gathered)); !m.ok()) {
      reply = Error(StatusCode::kInvalidArgument, "invalid_request", m.message());
      reply.body["redirect_uri"] = RedirectTo(
          redirect, {{"error", "access_denied"},
                     {"error_description", "the presentation was refused"},
                     {"state", state}});
      entry["outcome"] = "refused";
      entry["reason"] = m.message();
      return impl_->Log(entry);
    }
    chain["party"] = PartyToJson(have.party, have.vcs);
    chain["client"] = client_id;
    MDL_ASSIGN_OR_RETURN(std::string next,
                         impl_->IssueTicket(record->second.value("resource_server", ""), chain));
    // OpenID4VP §8.2: the redirect_uri the wallet sends the user agent to; UMA Grant §3.3.3:
    // claims_redirect_uri with authorization_state=claims_submitted, the new ticket, the state.
    reply = Answer({{"redirect_uri", RedirectTo(redirect, {{"authorization_state", "claims_submitted"},
                                                           {"ticket", next},
                                                           {"state", state}})}});
    entry["outcome"] = "claims_submitted";
    entry["requesting_party"] = have.party.did;
    return impl_->Log(entry);
  });
  if (!st.ok()) return Internal(st);
  return reply;
}

}  // namespace medallion::uma
