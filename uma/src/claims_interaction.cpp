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
    // ... and one acceptable today (a client registered before the authority was parsed may
    // hold a look-alike loopback URI).
    if (!registered || !AcceptableRedirectUri(redirect))
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

  // The OpenID4VP request is made only once the ticket is ours (a bad or spent ticket stores
  // nothing in the verifier), after the ticket's transaction and outside the server's lock: on a
  // container host's connection pool the verifier borrows a connection of its own, which it must
  // never wait for while this container's open group holds one (docs/scale-out.md §"The
  // connection pool": a transaction never needs a second connection). So its state is drawn
  // first and the gathering record keyed by it in the ticket's transaction.
  const std::string vp_state = impl_->env_.rng->RandomId(32);
  std::optional<Reply> refused;
  Status st;
  {
    Impl::Lock lock(*impl_);
    st = impl_->Tx([&]() -> Status {
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
      const int64_t now = impl_->Now();
      // A minute longer than the verifier's request (made a moment later with the same TTL):
      // a request answered at its last second still finds its record; a record left after
      // its request expired is never used (the verifier refuses the post first).
      MDL_RETURN_IF_ERROR(impl_->tickets_->Put(vp_state, kGatheringOwner, record, now,
                                               now + options_.claims_interaction_ttl + 60));
      return impl_->Log({{"event", "claims.interaction"},
                         {"client_id", client_id},
                         {"outcome", "presentation_requested"}});
    });
  }
  if (!st.ok()) return Internal(st);
  if (refused) return *refused;
  // The verifier's expiry is the same TTL from a moment later (the record outlives it by a
  // minute, above). Should this fail, the ticket stays consumed (the client asks the resource
  // server for a new one) and the gathering record expires unanswered.
  oid4vc::RequestOptions ro;
  ro.state = vp_state;
  auto request = impl_->vp_->CreateRequest(LicenseQuery(), ro);
  if (!request) return Internal(request.error());
  json params = json::object();
  for (const auto& [k, v] : request->params) params[k] = v;
  return Answer({{"redirect_to", request->uri}, {"authorization_request", params}});
}

namespace {

// Why an unverified presented SD-JWT is not worth verifying here ("" when it is): not a
// parseable SD-JWT, not the license vct, or an `iss` that is not a trusted society.
std::string NotATrustedLicense(const std::string& presentation,
                               const std::vector<std::string>& trusted) {
  auto seen = claims::InspectSdJwt(presentation);
  if (!seen) return seen.error().message();
  auto payload = ParseJsonObject(seen->payload_json, "sd-jwt payload");
  if (!payload) return payload.error().message();
  if (StringOr(*payload, "vct") != kLicenseVct) return "credential_type: not a license SD-JWT VC";
  const std::string iss = StringOr(*payload, "iss");
  if (!Contains(trusted, iss))
    return "untrusted_issuer: " + iss.substr(0, 200) + " is not a trusted license issuer";
  return "";
}

}  // namespace

Reply AuthorizationServer::ClaimsPresentation(const std::map<std::string, std::string>& form) {
  if (!ClaimsInteractionEnabled())
    return Error(StatusCode::kNotFound, "not_found", "claims interaction is not offered here");
  // Whoever sees the openid4vp:// link or QR code learns the request's state and nonce and can
  // post to the response_uri, so a post ends the gathering (spends the OpenID4VP request and
  // consumes the gathering record, the client hearing access_denied) only when its answer
  // could only come from a holder of a license of a trusted issuer:
  //   - not terminal (400 to the poster, nothing spent, the physician's wallet may still answer):
  //     an unknown/expired/answered state or a malformed form (ReadResponse); the wallet's §8.5
  //     error response (noted with the request, answered 200, as the pharmacy does: anyone can
  //     post it); a presentation whose issuer signature or KB-JWT (signature by cnf, nonce, aud,
  //     freshness) does not verify; a credential that is not a license SD-JWT VC of a trusted
  //     issuer (anyone can issue himself one under his own DID); a DID that did not resolve now.
  //   - terminal (refused, access_denied to the client, UMA Grant §3.3.3): a verified,
  //     key-bound license of a trusted issuer that fails the rest — claims the query asks for
  //     withheld (§6.4), the license's status, its key not of its DID, another DID than the
  //     chain's. Only its holder can post that, so the holder answered.
  //   - success: claims_submitted with a new ticket.
  auto pending = impl_->vp_->ReadResponse(form);
  std::string open_error, open_description;  // non-terminal: answered here, nothing spent
  StatusCode open_code = StatusCode::kInvalidArgument;
  std::optional<Impl::Claims> gathered;
  Status refusal;  // terminal when not ok
  if (!pending) {
    if (pending.error().reason().empty()) return Internal(pending.error());
    open_error = pending.error().reason();
    open_description = pending.error().message();
  } else if (!pending->error.empty()) {
    // §8.5: the wallet declined (or someone says it did). Kept with the request; not terminal.
    (void)impl_->vp_->RecordOutcome(pending->id,
                                    {{"status", "declined"},
                                     {"error", pending->error},
                                     {"error_description", pending->error_description}});
  } else {
    auto it = pending->presentations.find("license");
    const oid4vc::CredentialQuery* cq = pending->query.Find("license");
    if (it == pending->presentations.end() || it->second.size() != 1 || cq == nullptr) {
      open_error = oid4vc::vp_error::kInvalidRequest;
      open_description = "the response presents no license";
    } else if (std::string why = NotATrustedLicense(it->second.front(), options_.trusted_issuers);
               !why.empty()) {
      // Read without verification first: a credential that does not even claim to be a
      // license of a trusted society is refused before any DID is resolved or signature
      // checked (anyone holding the link may post, again and again, a did:web of his choice).
      open_error = oid4vc::vp_error::kInvalidRequest;
      open_description = why;
    } else {
      // Appendix B.3.6: the issuer's signature, the KB-JWT's (by cnf) with this request's
      // nonce and aud = our client_id — the slow parts (DID resolution) without the lock.
      const oid4vc::VerifierOptions& vo = impl_->vp_->options();
      claims::SdJwtVerifyOptions o;
      o.require_key_binding = true;
      o.expected_audience = vo.client_id;
      o.expected_nonce = pending->nonce;
      o.kb_max_age_seconds = vo.kb_max_age_seconds;
      o.max_clock_skew_seconds = vo.max_clock_skew_seconds;
      auto v = claims::VerifySdJwt(it->second.front(), *options_.resolver, o,
                                   *impl_->env_.clock);
      if (!v) {
        open_error = oid4vc::vp_error::kInvalidRequest;
        open_description = v.error().message();
      } else if (v->vct != kLicenseVct || !v->key_bound ||
                 !Contains(options_.trusted_issuers, v->issuer)) {
        open_error = oid4vc::vp_error::kInvalidRequest;
        open_description = v->vct != kLicenseVct ? "credential_type: not a license SD-JWT VC"
                           : !v->key_bound       ? "holder_binding: no key binding"
                                                 : "untrusted_issuer: " + v->issuer +
                                                       " is not a trusted license issuer";
      } else {
        // §6.4 / §8.6: what was disclosed must satisfy the query.
        auto payload = ParseJsonObject(v->payload_json, "sd-jwt payload");
        auto selected = payload ? oid4vc::SelectClaims(*cq, *payload)
                                : Result<std::vector<std::string>>(payload.error());
        if (!selected) {
          refusal = Status::PermissionDenied(
              "credential query \"license\" is not satisfied by the disclosed claims: " +
              selected.error().message());
        } else if (auto c = impl_->LicenseClaims(*v); c) {
          gathered = std::move(*c);  // the purpose comes with the gathering record, below
        } else if (c.error().code() == StatusCode::kUnavailable) {
          open_error = "temporarily_unavailable";
          open_description = c.error().message();
          open_code = StatusCode::kUnavailable;  // 503: the wallet may post again
        } else {
          refusal = c.error();
        }
      }
    }
  }
  if (pending && open_error.empty() && pending->error.empty()) {
    // Terminal from here on: the request is answered once (a concurrent post loses here).
    if (Status spent = impl_->vp_->Spend(pending->state); !spent.ok()) {
      if (spent.reason().empty()) return Internal(spent);
      open_error = spent.reason();
      open_description = spent.message();
    } else {
      (void)impl_->vp_->RecordOutcome(pending->id,
                                      {{"status", refusal.ok() ? "answered" : "refused"},
                                       {"error_description", refusal.message()}});
    }
  }
  if (!open_error.empty() || (pending && !pending->error.empty())) {
    // Not terminal: anyone holding the link can post, as often as he likes, so nothing is
    // written for it — not even the owner's log (a §8.5 decline is kept, the latest only, with
    // the request by RecordOutcome above).
    if (open_error.empty()) return Answer(json::object());  // §8.2: 200; the request stays open
    return Error(open_code, open_error, open_description);
  }
  const std::string vp_state = pending->state;  // decrypted, for direct_post.jwt

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
      reply.body["redirect_uri"] =
          RedirectTo(redirect, {{"error", "access_denied"},
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
      reply.body["redirect_uri"] =
          RedirectTo(redirect, {{"error", "access_denied"},
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
    reply =
        Answer({{"redirect_uri", RedirectTo(redirect, {{"authorization_state", "claims_submitted"},
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
