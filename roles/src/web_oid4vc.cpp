// The patient's container as an OpenID4VP wallet in her web app (web_oid4vc.h).
#include "web_oid4vc.h"

#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include <nlohmann/json.hpp>

#include "medallion/core/json.h"
#include "medallion/http/http.h"
#include "medallion/oid4vc/dcql.h"
#include "medallion/roles/oid4vp_wallet.h"
#include "medallion/uma/authorization_server.h"

namespace medallion::roles {

using nlohmann::json;

namespace {

constexpr int64_t kPlanTtl = 300;    // seconds she has to decide
constexpr size_t kMaxPending = 32;   // plans kept at once (the oldest go first)

// A request she has seen the plan of, waiting for her decision.
struct Pending {
  oid4vc::ParsedRequest request;
  std::vector<std::string> held;
  bool can_answer = false;
  int64_t expires_at = 0;
};

class WalletWeb {
 public:
  explicit WalletWeb(WalletWebOptions o) : o_(std::move(o)) {}

  void Plan(const httplib::Request& req, httplib::Response& res) {
    auto token = o_.owner_token(req, res);
    if (!token) return;
    auto body = http::ReadJsonBody(req, res);
    if (!body) return;
    const json& link = MemberOr(*body, "request");
    if (!link.is_string())
      return http::SendError(res, 400, "invalid_request", "'request' must be an openid4vp:// link");
    std::string uri = link.get<std::string>();
    while (!uri.empty() && (uri.back() == ' ' || uri.back() == '\n' || uri.back() == '\r'))
      uri.pop_back();
    while (!uri.empty() && (uri.front() == ' ' || uri.front() == '\n')) uri.erase(0, 1);
    // §5: the request's parameters, checked; the response_uri only over TLS (loopback only
    // with --allow-insecure-loopback). A decentralized_identifier: verifier's signed request
    // object (§5.9.3) is verified here through the container's DID resolver.
    Result<oid4vc::ParsedRequest> request =
        ReadOid4vpRequest(uri, o_.resolver, o_.env.clock, o_.allow_insecure_loopback);
    if (!request) return http::SendError(res, request.error());
    uma::Reply kept = o_.as->ListCredentials(*token);
    if (!kept.ok()) return http::SendError(res, kept.status);
    Pending p;
    std::vector<std::string> labels;
    p.held = KeptSdJwtVcs(kept.body, &labels);
    p.request = std::move(*request);
    json out = {{"client_id", p.request.client_id},
                {"response_uri", p.request.response_uri},
                {"verifier_did", p.request.verifier_did},  // "" unless signed by its DID
                {"expires_in", kPlanTtl},
                {"can_sign", static_cast<bool>(o_.holder.sign)},
                {"held", p.held.size()}};
    // §6.4.2: which kept credential answers which Credential Query, revealing what; a query
    // nothing she holds meets leaves her only the refusal.
    Result<std::vector<oid4vc::DcqlSelection>> selections =
        oid4vc::MatchDcql(p.request.query, p.held);
    if (selections) {
      p.can_answer = true;
      out["disclosures"] = Oid4vpDisclosurePlan(labels, p.held, *selections, true);
    } else {
      out["disclosures"] = json::array();
      out["unmet"] = selections.error().message();
    }
    // What was asked, per Credential Query (shown even when nothing answers it).
    json asked = json::array();
    for (const oid4vc::CredentialQuery& q : p.request.query.credentials) {
      json paths = json::array();
      for (const oid4vc::ClaimsQuery& c : q.claims) paths.push_back(c.path);
      asked.push_back({{"query_id", q.id}, {"vct_values", q.vct_values}, {"claims", paths}});
    }
    out["asked"] = std::move(asked);
    out["can_answer"] = p.can_answer;
    const std::string id = o_.env.rng->RandomId(32);
    {
      std::lock_guard<std::mutex> lock(mu_);
      const int64_t now = o_.env.clock->NowSeconds();
      std::erase_if(pending_, [now](const auto& kv) { return kv.second.expires_at < now; });
      while (pending_.size() >= kMaxPending) {
        auto oldest = pending_.begin();
        for (auto it = pending_.begin(); it != pending_.end(); ++it)
          if (it->second.expires_at < oldest->second.expires_at) oldest = it;
        pending_.erase(oldest);
      }
      p.expires_at = now + kPlanTtl;
      pending_[id] = std::move(p);
    }
    out["id"] = id;
    res.set_header("Cache-Control", "no-store");
    http::SendJson(res, out);
  }

  void Decide(const httplib::Request& req, httplib::Response& res, bool approve) {
    auto token = o_.owner_token(req, res);
    if (!token) return;
    const std::string id = req.matches[1].str();
    if (approve && !o_.holder.sign)
      return http::SendError(res, 409, "wallet_locked",
                             "this container runs without your wallet: it cannot sign a "
                             "presentation");
    Pending p;
    {
      // Single use: the plan is taken before anything is sent, whatever the outcome.
      std::lock_guard<std::mutex> lock(mu_);
      auto it = pending_.find(id);
      if (it == pending_.end() || it->second.expires_at < o_.env.clock->NowSeconds())
        return http::SendError(res, 404, "not_found",
                               "no such request waiting for your decision (answered or expired)");
      p = std::move(it->second);
      pending_.erase(it);
    }
    if (approve && !p.can_answer)
      return http::SendError(res, Status::WithReason(StatusCode::kFailedPrecondition,
                                                     oid4vc::vp_error::kAccessDenied,
                                                     "nothing you keep answers this request"));
    Result<json> sent = approve
                            ? PostOid4vpResponse(p.request, p.held, o_.holder, o_.env,
                                                 o_.allow_insecure_loopback)
                            : PostOid4vpDecline(p.request, "the holder declined the request",
                                                o_.allow_insecure_loopback);
    if (!sent) return http::SendError(res, sent.error());
    json out = std::move(*sent);
    out["client_id"] = p.request.client_id;
    out["response_uri"] = p.request.response_uri;
    res.set_header("Cache-Control", "no-store");
    http::SendJson(res, out);
  }

 private:
  WalletWebOptions o_;
  std::mutex mu_;
  std::map<std::string, Pending> pending_;
};

}  // namespace

void RegisterWalletWebRoutes(httplib::Server& server, WalletWebOptions options) {
  auto w = std::make_shared<WalletWeb>(std::move(options));
  server.Post("/web/v1/oid4vp/plan",
              [w](const httplib::Request& req, httplib::Response& res) { w->Plan(req, res); });
  server.Post(R"(/web/v1/oid4vp/([A-Za-z0-9_-]{1,64})/approve)",
              [w](const httplib::Request& req, httplib::Response& res) {
                w->Decide(req, res, true);
              });
  server.Post(R"(/web/v1/oid4vp/([A-Za-z0-9_-]{1,64})/decline)",
              [w](const httplib::Request& req, httplib::Response& res) {
                w->Decide(req, res, false);
              });
}

}  // namespace medallion::roles
