// The UMA grant at the token endpoint (UMA Grant §3.3.1-§3.3.6) in short steps over one
// chain's state: the ticket, the claims (a PCT, a pushed claim token), the permissions asked
// for, the assessment against the owner's policies, approvals, and the tokens issued.
#include <set>

#include "as_internal.h"

namespace medallion::uma {

// One request to the token endpoint with grant_type uma-ticket. Each step either moves the
// chain on (true) or settles the answer (false, `reply_` and the log entry's outcome set); a
// non-OK status is a storage failure. REQUIRES for Decide: the server's lock, a transaction.
class GrantFlow {
 public:
  GrantFlow(AuthorizationServer::Impl& im, const AuthorizationServerOptions& o,
            const std::map<std::string, std::string>& form, const std::string& client_id)
      : im_(im), o_(o), form_(form), client_id_(client_id) {
    ticket_ = Param("ticket");
    claim_token_ = Param("claim_token");
    claim_token_format_ = Param("claim_token_format");
    pct_ = Param("pct");
    rpt_ = Param("rpt");
    log_entry_ = {{"event", "decision"}, {"client_id", client_id}};
  }

  // UMA Grant §3.3.1: the parameters' presence; the refusal, if any.
  std::optional<Reply> CheckParameters() const {
    if (ticket_.empty())
      return Error(StatusCode::kInvalidArgument, "invalid_request", "ticket is required");
    if (!claim_token_.empty() && claim_token_format_.empty()) {
      return Error(StatusCode::kInvalidArgument, "invalid_request",
                   "claim_token_format is required with claim_token");
    }
    if (claim_token_.empty() && !claim_token_format_.empty()) {
      return Error(StatusCode::kInvalidArgument, "invalid_request",
                   "claim_token_format without claim_token");
    }
    return std::nullopt;
  }

  // What costs time — signatures, DID resolution, status lists — is checked before the lock,
  // so one slow society server does not stall every other request to this container.
  void VerifyClaimsUnlocked() {
    if (!claim_token_.empty())
      verified_ = im_.VerifyClaimToken(claim_token_format_, claim_token_, ticket_);
    if (pct_.empty()) return;
    std::optional<TokenRow> row;
    {
      Impl::Lock lock(im_);
      row = im_.LiveToken(pct_, "pct");
    }
    if (row && row->client_id == client_id_) pct_claims_ = im_.ClaimsFromPct(row->data);
  }

  // The decision, with the lock held inside a transaction.
  Status Decide() {
    for (auto step :
         {&GrantFlow::TakeTicket, &GrantFlow::AddPctClaims, &GrantFlow::AddPushedClaims,
          &GrantFlow::GatherPermissions, &GrantFlow::Assess, &GrantFlow::AwaitApproval}) {
      MDL_ASSIGN_OR_RETURN(bool go_on, (this->*step)());
      if (!go_on) return Status::Ok();
    }
    return IssueTokens();
  }

  const Reply& reply() const { return reply_; }
  const json& log_entry() const { return log_entry_; }

 private:
  using Impl = AuthorizationServer::Impl;

  std::string Param(const char* k) const {
    auto it = form_.find(k);
    return it == form_.end() ? "" : it->second;
  }

  // Settles the answer as a refusal, logged with its outcome (and reason, if any).
  bool Refuse(Reply r, const char* outcome, const std::string& reason = "") {
    reply_ = std::move(r);
    log_entry_["outcome"] = outcome;
    if (!reason.empty()) log_entry_["reason"] = reason;
    return false;
  }
  bool InvalidGrant(const std::string& description, const std::string& reason) {
    return Refuse(Error(StatusCode::kInvalidArgument, "invalid_grant", description),
                  "invalid_grant", reason);
  }
  bool Denied() {
    return Refuse(Error(StatusCode::kPermissionDenied, "request_denied", "the request was denied"),
                  "request_denied");
  }

  // A new ticket carrying the chain's state (need_info, request_submitted).
  Result<std::string> Rotate() {
    state_["party"] = PartyToJson(claims_.party, claims_.vcs);
    return im_.IssueTicket(rs_client_, state_);
  }

  // UMA Grant §3.3.6: need_info with a new ticket and the claims that may help.
  Result<bool> NeedInfo(const std::string& why) {
    MDL_ASSIGN_OR_RETURN(std::string next, Rotate());
    json extra = {{"ticket", next}, {"required_claims", im_.RequiredClaims()}};
    // §3.3.6: the requesting party may also be redirected to the claims interaction endpoint
    // (§3.3.2), where her wallet presents the license by OpenID4VP.
    if (im_.vp_) extra["redirect_user"] = true;
    return Refuse(Error(StatusCode::kPermissionDenied, "need_info", why, extra), "need_info", why);
  }

  // UMA Grant §3.3.6: an invalid, expired or used ticket is invalid_grant (the ticket is
  // consumed either way: single use).
  Result<bool> TakeTicket() {
    auto consumed = im_.ConsumeTicket(ticket_);
    if (!consumed) return InvalidGrant(consumed.error().message(), consumed.error().message());
    rs_client_ = consumed->first;
    state_ = consumed->second;
    // A claims interaction's gathering record (claims_interaction.cpp) is no ticket.
    if (state_.contains("gathering") || !state_.contains("permissions"))
      return InvalidGrant("unknown ticket", "not a ticket");
    // A rotated ticket belongs to the client it was rotated for.
    if (state_.contains("client") && state_["client"] != client_id_) {
      return InvalidGrant("the ticket was issued to another client", "ticket of another client");
    }
    state_["client"] = client_id_;
    if (state_.contains("party")) {
      claims_.party = PartyFromJson(state_["party"]);
      claims_.vcs = state_["party"].value("vcs", json::array());
    }
    return true;
  }

  // UMA Grant §3.3.1 "pct": the claims of an earlier grant to this client.
  Result<bool> AddPctClaims() {
    if (pct_.empty()) return true;
    // Still live now that the lock is held (it may have been revoked meanwhile).
    auto row = im_.LiveToken(pct_, "pct");
    if (!row || row->client_id != client_id_ || !pct_claims_) {
      return InvalidGrant("the pct is not valid for this client", "bad pct");
    }
    if (Status m = im_.Merge(claims_, std::move(*pct_claims_)); !m.ok())
      return InvalidGrant(m.message(), m.message());
    return true;
  }

  // The pushed claim token (verified before the lock); a DID must be proven by now.
  Result<bool> AddPushedClaims() {
    if (verified_) {
      if (!*verified_) {
        log_entry_["claim_token_refused"] = verified_->error().message();
        if (verified_->error().code() == StatusCode::kUnavailable) {
          // The token could not be checked (its issuer's DID did not resolve: the ledger is
          // down), which says nothing against it: 503 with a fresh ticket to try again with,
          // not a need_info that tells the client its claims were wrong.
          MDL_ASSIGN_OR_RETURN(std::string next, Rotate());
          return Refuse(Error(StatusCode::kUnavailable, "temporarily_unavailable",
                              "the claim token cannot be checked now: " +
                                  verified_->error().message(),
                              {{"ticket", next}}),
                        "temporarily_unavailable", verified_->error().message());
        }
        return NeedInfo("the claim token was refused: " + verified_->error().message());
      }
      if (Status m = im_.Merge(claims_, std::move(**verified_)); !m.ok())
        return NeedInfo(m.message());
      pushed_ = true;
    }
    if (claims_.party.did.empty())
      return NeedInfo("the requesting party must prove control of a DID");
    log_entry_["requesting_party"] = claims_.party.did;
    log_entry_["purpose"] = claims_.party.purpose;
    return true;
  }

  // Adds `scopes` on a registered resource to what is asked for (a resource with no scope is
  // asked for only if `even_empty`: an upgraded RPT's resources are).
  void Want(const std::string& id, const ResourceRow& res, const std::vector<std::string>& scopes,
            bool even_empty) {
    refs_[id] = {id, res.description.value("type", ""),
                 res.description.value("resource_scopes", std::vector<std::string>{})};
    if (even_empty || !scopes.empty()) wanted_[id].insert(scopes.begin(), scopes.end());
  }

  // The permissions asked for: the ticket's, the `scope` parameter's (UMA Grant §3.3.4: each
  // must be a scope registered on a resource of the ticket, else invalid_scope), and an
  // upgraded RPT's.
  Result<bool> GatherPermissions() {
    for (const GrantedPermission& p : PermissionsFromJson(state_.at("permissions"))) {
      auto res = im_.Resource(p.resource_id);
      if (res)
        Want(p.resource_id, *res, p.scopes, false);  // absent: deleted since the ticket was issued
    }
    for (const std::string& s : SplitSpaces(Param("scope"))) {
      bool known = false;
      for (auto& [id, ref] : refs_) {
        if (Contains(ref.scopes, s)) {
          wanted_[id].insert(s);
          known = true;
        }
      }
      if (!known) {
        return Refuse(Error(StatusCode::kInvalidArgument, "invalid_scope",
                            "scope '" + s + "' is not registered on the requested resources"),
                      "invalid_scope");
      }
    }
    if (!rpt_.empty()) {
      old_rpt_ = im_.LiveToken(rpt_, "rpt");
      if (!old_rpt_ || old_rpt_->client_id != client_id_ ||
          old_rpt_->subject != claims_.party.did) {
        return InvalidGrant("the rpt to upgrade is not valid for this client and requesting party",
                            "bad rpt");
      }
      // Its permissions are asked for again, not carried blindly: policies may have changed.
      for (const GrantedPermission& g : PermissionsFromJson(old_rpt_->data.at("permissions"))) {
        if (auto res = im_.Resource(g.resource_id)) Want(g.resource_id, *res, g.scopes, true);
      }
    }
    json asked = json::array();
    for (auto& [id, scopes] : wanted_) {
      requested_.push_back({refs_[id], {scopes.begin(), scopes.end()}});
      asked.push_back({{"resource_id", id}, {"resource_scopes", requested_.back().scopes}});
    }
    log_entry_["requested"] = asked;
    return true;
  }

  // UMA Grant §3.3.4: the assessment against the owner's policies.
  Result<bool> Assess() {
    const std::vector<Policy> policies = im_.ActivePolicies();
    AddRelationships(policies);
    decision_ = Evaluate(policies, requested_, claims_.party, o_.trusted_issuers, im_.Now());
    log_entry_["explanation"] = decision_.explanation;
    if (decision_.outcome != Decision::Outcome::kDeny) return true;
    if (claims_.party.credentials.empty() && !state_.value("asked_credentials", false)) {
      // The same answer for everyone who has shown no credential yet, whatever the policies
      // say: the client learns nothing about them, and a license holder gets to show hers.
      state_["asked_credentials"] = true;
      return NeedInfo("no permission on the claims so far; a credential may be required");
    }
    return Denied();
  }

  // The owner's relationships the party is the provider of, when a policy can use them.
  void AddRelationships(const std::vector<Policy>& policies) {
    claims_.party.relationships.clear();
    if (!o_.relationships_of || claims_.party.did.rfind("did:key:", 0) != 0) return;
    const bool named = std::any_of(policies.begin(), policies.end(), [](const Policy& p) {
      return std::any_of(p.subjects.begin(), p.subjects.end(),
                         [](const SubjectRule& r) { return !r.relationship.empty(); });
    });
    if (!named) return;
    auto rels = o_.relationships_of(claims_.party.did);
    if (!rels) {
      log_entry_["relationships_unavailable"] = rels.error().message();
      return;
    }
    claims_.party.relationships = std::move(*rels);
    if (!claims_.party.relationships.empty())
      log_entry_["relationships"] = claims_.party.relationships;
  }

  // Only what was put before the approvers can be granted by their approval.
  void KeepApproved(const json& approved) {
    std::vector<GrantedPermission> kept;
    for (GrantedPermission g : decision_.permissions) {
      std::vector<std::string> ok;
      for (const json& a : approved) {
        if (a["resource_id"] != g.resource_id) continue;
        for (const std::string& s : g.scopes) {
          if (Contains(a["resource_scopes"].get<std::vector<std::string>>(), s)) ok.push_back(s);
        }
      }
      if (!ok.empty()) {
        g.scopes = ok;
        kept.push_back(g);
      }
    }
    decision_.permissions = kept;
    decision_.outcome = kept.empty() ? Decision::Outcome::kDeny : Decision::Outcome::kPermit;
  }

  // The state of the chain's request for approval, if it has one ("" and "pending" if not).
  std::string RequestStatus(std::string& request_id) {
    if (request_id.empty()) return "pending";
    auto row = im_.requests_->Get(request_id);
    if (!row) {
      request_id.clear();
      return "pending";
    }
    if (row->status == "approved") KeepApproved(row->data["summary"]["permissions"]);
    return row->status;
  }

  // Puts a new request before its approvers; false (and the answer) when too many wait.
  Result<bool> SubmitRequest(std::string& request_id) {
    MDL_ASSIGN_OR_RETURN(size_t pending, im_.requests_->CountPending());
    if (pending >= kMaxPendingRequests) {
      reply_ = Error(StatusCode::kUnavailable, "temporarily_unavailable",
                     "too many requests are awaiting the owner's decision");
      return false;
    }
    request_id = im_.NewId();
    json summary = im_.RequestSummary(request_id, claims_.party, client_id_, decision_.permissions,
                                      decision_.approvers, im_.Now());
    MDL_ASSIGN_OR_RETURN(std::string canonical, jcs::Canonicalize(summary));
    MDL_RETURN_IF_ERROR(im_.requests_->Insert(
        request_id, kRequestConsent, HexHash(canonical),
        json({{"summary", summary}, {"approvals", json::object()}}), im_.Now()));
    state_["request"] = request_id;
    return true;
  }

  // Policies that need approvals: the chain's request is decided, or submitted now.
  Result<bool> AwaitApproval() {
    if (decision_.outcome != Decision::Outcome::kApprovalRequired) return true;
    std::string request_id = state_.value("request", "");
    const std::string status = RequestStatus(request_id);
    if (status == "denied" || decision_.outcome == Decision::Outcome::kDeny) {
      Denied();
      log_entry_["request"] = request_id;
      return false;
    }
    if (decision_.outcome != Decision::Outcome::kApprovalRequired) return true;
    if (request_id.empty()) {
      MDL_ASSIGN_OR_RETURN(bool submitted, SubmitRequest(request_id));
      if (!submitted) return false;
    }
    MDL_ASSIGN_OR_RETURN(std::string next, Rotate());
    // UMA Grant §3.3.6: request_submitted with a new ticket and the polling interval.
    Refuse(Error(StatusCode::kPermissionDenied, "request_submitted",
                 "the request awaits the approval of its approvers",
                 {{"ticket", next}, {"interval", o_.approval_poll_interval}}),
           "request_submitted");
    log_entry_["request"] = request_id;
    return false;
  }

  // UMA Grant §3.3.5: the RPT (and a PCT when claims were pushed).
  Status IssueTokens() {
    const std::string new_rpt = im_.NewToken();
    json data = {{"permissions", PermissionsToJson(decision_.permissions)},
                 {"purpose", claims_.party.purpose}};
    MDL_RETURN_IF_ERROR(
        im_.InsertToken(new_rpt, "rpt", client_id_, claims_.party.did, data, o_.rpt_ttl));
    json body = {{"access_token", new_rpt}, {"token_type", "Bearer"}, {"expires_in", o_.rpt_ttl}};
    // RFC 6749 §5.1: the scopes the token carries (the union over its permissions), so that the
    // client can tell the requesting party what was granted.
    std::set<std::string> scopes;
    for (const auto& g : decision_.permissions) scopes.insert(g.scopes.begin(), g.scopes.end());
    std::string scope;
    for (const std::string& sc : scopes) scope += (scope.empty() ? "" : " ") + sc;
    if (!scope.empty()) body["scope"] = scope;
    if (old_rpt_) {
      // The old token's permissions were asked for again and are in the new one (as far as the
      // policies still allow): it is superseded.
      MDL_RETURN_IF_ERROR(im_.RevokeTokenHash(TokenHash(rpt_)));
      body["upgraded"] = true;
    }
    if (pushed_) {
      const std::string new_pct = im_.NewToken();
      json pct_data = PartyToJson(claims_.party, claims_.vcs);
      MDL_RETURN_IF_ERROR(
          im_.InsertToken(new_pct, "pct", client_id_, claims_.party.did, pct_data, o_.pct_ttl));
      body["pct"] = new_pct;
    }
    reply_ = Answer(std::move(body));
    log_entry_["outcome"] = "granted";
    log_entry_["granted"] = PermissionsToJson(decision_.permissions);
    log_entry_["rpt_hash"] = HexEncode(TokenHash(new_rpt));
    return Status::Ok();
  }

  Impl& im_;
  const AuthorizationServerOptions& o_;
  const std::map<std::string, std::string>& form_;
  const std::string client_id_;
  std::string ticket_, claim_token_, claim_token_format_, pct_, rpt_;
  std::optional<Result<Impl::Claims>> verified_;
  std::optional<Impl::Claims> pct_claims_;
  std::string rs_client_;
  json state_;  // the chain's state, carried by rotated tickets
  Impl::Claims claims_;
  bool pushed_ = false;
  std::map<std::string, std::set<std::string>> wanted_;
  std::map<std::string, ResourceRef> refs_;
  std::vector<RequestedPermission> requested_;
  std::optional<TokenRow> old_rpt_;
  Decision decision_;
  Reply reply_;
  json log_entry_;
};

Reply AuthorizationServer::UmaGrant(const std::map<std::string, std::string>& form,
                                    const std::string& client_id) {
  // Outcomes by UMA error code (granted, need_info, request_submitted, request_denied,
  // invalid_grant, ...) for /metrics: codes only, never who asked or for what.
  auto count = [](const Reply& reply) {
    const std::string outcome = reply.ok()                         ? std::string("granted")
                                : reply.status.reason().empty()    ? std::string("error")
                                                                   : reply.status.reason();
    metrics::Registry::Default().Add("medallion_uma_grants_total",
                                     "UMA grant requests at the token endpoint, by outcome",
                                     {{"outcome", outcome}});
    return reply;
  };
  GrantFlow flow(*impl_, options_, form, client_id);
  if (auto refused = flow.CheckParameters()) return count(*refused);
  flow.VerifyClaimsUnlocked();
  Impl::Lock lock(*impl_);
  // The decision and its log entry are one write: both are kept or neither (a refusal's ticket
  // consumption included), and the answer goes only once they are committed.
  Status st = impl_->Tx([&]() -> Status {
    MDL_RETURN_IF_ERROR(flow.Decide());
    return impl_->Log(flow.log_entry());
  });
  if (!st.ok()) return count(Internal(st));
  (void)MaybeAnchorLocked(false);
  return count(flow.reply());
}

}  // namespace medallion::uma
