// The browser side of a container (docs/web.md).
#include "web_http.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "medallion/core/encoding.h"
#include "medallion/core/hash.h"
#include "medallion/core/json.h"
#include "medallion/http/http.h"
#include "medallion/roles/files.h"
#include "medallion/roles/ledger_client.h"
#include "medallion/roles/oid4vci_http.h"
#include "medallion/uma/authorization_server.h"
#include "medallion/uma/relationship.h"
#include "medallion/web/assets.h"
#include "medallion/web/qr.h"
#include "owner_relationships.h"
#include "web_oid4vc.h"

// The patient's app and the physician's workspace, embedded at build time from web/apps/patient
// and web/apps/physician (roles/CMakeLists.txt).
extern const medallion::web::AssetBundle medallion_patient_app;
extern const medallion::web::AssetBundle medallion_physician_app;

namespace medallion::roles {

using nlohmann::json;

namespace {

constexpr int64_t kPhoneAttemptTtl = 120;  // seconds her phone has to answer a browser sign-in

// The WebAuthn user handle of the container's owner (§14.6.1: no personal data): 16 bytes of
// SHA-256("medallion webauthn user\n" || her DID).
Bytes UserHandle(const std::string& owner_did) {
  const Hash256 h = Sha256(AsBytes("medallion webauthn user\n" + owner_did));
  return Bytes(h.begin(), h.begin() + 16);
}

// The events of an AuthorizationServer::Events answer as Server-Sent Events (HTML §9.2.5):
// "id: <seq>", "event: <type>", "data: <the event as JSON>", one block each.
std::string SseEvents(const json& answer) {
  std::string out;
  for (const json& e : answer.value("events", json::array())) {
    out += "id: " + std::to_string(e.value("seq", uint64_t{0})) +
           "\nevent: " + e.value("type", "event") + "\ndata: " + e.dump() + "\n\n";
  }
  return out;
}

}  // namespace

// The handlers, with access to the ContainerWeb they serve.
class ContainerWeb::Handlers {
 public:
  explicit Handlers(ContainerWeb& w) : w_(w) {}

  // --- sessions and cookies ---

  // The owner session standing for a live browser session (a new one when there is none or it
  // ended).
  Result<std::string> OwnerSessionFor(const web::SessionInfo& info) {
    std::lock_guard<std::mutex> lock(w_.mu_);
    auto it = w_.owner_sessions_.find(info.session_hash);
    if (it != w_.owner_sessions_.end() && w_.as_.CheckOwner(it->second.token).ok())
      return it->second.token;
    const int64_t now = w_.env_.clock->NowSeconds();
    const int64_t left = info.expires_at - now;
    MDL_ASSIGN_OR_RETURN(std::string token, w_.as_.OpenOwnerSession("browser " + info.method,
                                                                    std::max<int64_t>(left, 1)));
    // The entries of browser sessions past their end go (their owner sessions ended with them):
    // the map holds live sessions only, however many come and go while the container runs.
    std::erase_if(w_.owner_sessions_, [now](const auto& kv) { return kv.second.expires_at < now; });
    w_.owner_sessions_[info.session_hash] = {token, info.expires_at};
    return token;
  }

  // --- the cookie's bridge to the owner API and her FHIR records ---

  // Pre-routing: a request to /owner/v1/ or /fhir/ without an Authorization header but with
  // the session cookie is checked (origin, CSRF, session) and then carries the owner's session
  // as its bearer. Everything else passes unchanged.
  bool Bridge(const httplib::Request& req, httplib::Response& res) {
    const bool owner_api = req.path.rfind("/owner/v1/", 0) == 0 || req.path.rfind("/fhir/", 0) == 0;
    if (!owner_api || req.has_header("Authorization") ||
        w_.gate_->SessionId(req).empty()) {
      return false;
    }
    auto info = w_.gate_->Session(req, res);
    if (!info) return true;
    auto token = OwnerSessionFor(*info);
    if (!token) {
      http::SendError(res, token.error());
      return true;
    }
    // The Request is the server's own mutable object for this exchange; httplib hands it to
    // the pre-routing handler as const.
    const_cast<httplib::Request&>(req).headers.emplace("Authorization", "Bearer " + *token);
    return false;
  }

  // --- /web/v1 ---

  void State(const httplib::Request& req, httplib::Response& res) {
    json out = {{"signed_in", false},
                {"owner", {{"did", w_.options_.owner_did}}},
                {"rp_id", w_.gate_->rp().rp_id},
                {"origin", w_.options_.origin}};
    auto passkeys = w_.store_->ListPasskeys();
    out["passkeys"] = passkeys ? passkeys->size() : 0;
    const std::string id = w_.gate_->SessionId(req);
    if (!id.empty()) {
      if (auto info = w_.store_->Touch(id)) {
        out["signed_in"] = true;
        out["csrf"] = web::CsrfTokenFor(id);
        out["session"] = {{"method", info->method},
                          {"created_at", info->created_at},
                          {"expires_at", info->expires_at}};
        if (auto token = OwnerSessionFor(*info)) {
          uma::Reply devices = w_.as_.ListDevices(*token);
          if (devices.ok() && devices.body.is_array())
            out["devices"] = devices.body.size();
          else if (devices.ok() && devices.body.contains("devices"))
            out["devices"] = devices.body["devices"].size();
        }
      } else {
        res.set_header("Set-Cookie", w_.gate_->CookieHeader("", 0));
      }
    }
    res.set_header("Cache-Control", "no-store");
    http::SendJson(res, out);
  }

  void SignInPhone(const httplib::Request& req, httplib::Response& res) {
    if (!w_.gate_->RequireSameOrigin(req, res)) return;
    if (Status rl = w_.store_->CountSignInAttempt(ClientAddress(req)); !rl.ok())
      return http::SendError(res, rl);
    std::string agent = req.get_header_value("User-Agent").substr(0, 120);
    json summary = {{"text", "Sign in to your container from a browser?"},
                    {"browser", agent},
                    {"address", ClientAddress(req)}};
    auto id = w_.as_.QueueApproval(uma::kRequestBrowserSignIn, summary, json::object());
    if (!id) return http::SendError(res, id.error());
    const std::string attempt = w_.env_.rng->RandomId(32);
    {
      std::lock_guard<std::mutex> lock(w_.mu_);
      const int64_t now = w_.env_.clock->NowSeconds();
      std::erase_if(w_.phone_attempts_,
                    [now](const auto& kv) { return kv.second.expires_at < now - 3600; });
      w_.phone_attempts_[HexEncode(Sha256(AsBytes(attempt)))] = {*id, now + kPhoneAttemptTtl,
                                                                 false};
    }
    http::SendJson(
        res, {{"attempt", attempt}, {"request_id", *id}, {"expires_in", kPhoneAttemptTtl}}, 202);
  }

  void SignInPhonePoll(const httplib::Request& req, httplib::Response& res) {
    if (!w_.gate_->RequireSameOrigin(req, res)) return;
    auto body = http::ReadJsonBody(req, res);
    if (!body) return;
    const std::string key = HexEncode(Sha256(AsBytes(StringOr(*body, "attempt"))));
    PhoneAttempt attempt;
    {
      std::lock_guard<std::mutex> lock(w_.mu_);
      auto it = w_.phone_attempts_.find(key);
      if (it == w_.phone_attempts_.end() || it->second.done) {
        return http::SendError(res,
                               Status::WithReason(StatusCode::kUnauthenticated, web::kLinkUnknown,
                                                  "no such sign-in attempt"));
      }
      attempt = it->second;
    }
    auto state = w_.as_.GetRequest(attempt.request_id);
    if (!state) return http::SendError(res, state.error());
    const std::string status = StringOr(*state, "status");
    if (status == "approved") {
      {
        std::lock_guard<std::mutex> lock(w_.mu_);
        auto it = w_.phone_attempts_.find(key);
        if (it == w_.phone_attempts_.end() || it->second.done) {
          return http::SendError(res,
                                 Status::WithReason(StatusCode::kUnauthenticated, web::kLinkUsed,
                                                    "this sign-in attempt was used"));
        }
        it->second.done = true;
      }
      return w_.gate_->SignIn(res, "phone", "");
    }
    if (status == "denied") return http::SendJson(res, {{"status", "denied"}});
    if (w_.env_.clock->NowSeconds() > attempt.expires_at)
      return http::SendJson(res, {{"status", "expired"}});
    http::SendJson(res, {{"status", "pending"}});
  }

  void SignOut(const httplib::Request& req, httplib::Response& res, bool everywhere) {
    auto info = w_.gate_->Session(req, res);
    if (!info) return;
    if (everywhere) {
      auto ended = w_.store_->EndAllSessions();
      if (!ended) return http::SendError(res, ended.error());
      if (Status st = w_.as_.EndOwnerSessions(); !st.ok()) return http::SendError(res, st);
      std::lock_guard<std::mutex> lock(w_.mu_);
      w_.owner_sessions_.clear();
    } else {
      if (Status st = w_.store_->EndSession(w_.gate_->SessionId(req)); !st.ok())
        return http::SendError(res, st);
      std::string token;
      {
        std::lock_guard<std::mutex> lock(w_.mu_);
        auto it = w_.owner_sessions_.find(info->session_hash);
        if (it != w_.owner_sessions_.end()) {
          token = it->second.token;
          w_.owner_sessions_.erase(it);
        }
      }
      if (!token.empty()) (void)w_.as_.EndOwnerSession(token);
    }
    res.set_header("Set-Cookie", w_.gate_->CookieHeader("", 0));
    http::SendJson(res, {{"signed_in", false}});
  }

  // Server-Sent Events (HTML Living Standard §9.2): the owner's notifications, resumed after
  // Last-Event-ID. One response lasts at most ~45 s (under the connection guard's exchange
  // limit); the browser reconnects by itself after `retry`.
  void Events(const httplib::Request& req, httplib::Response& res) {
    auto info = w_.gate_->Session(req, res);
    if (!info) return;
    auto token = OwnerSessionFor(*info);
    if (!token) return http::SendError(res, token.error());
    uint64_t after = 0;
    const std::string last = req.has_header("Last-Event-ID") ? req.get_header_value("Last-Event-ID")
                                                             : req.get_param_value("after");
    if (!last.empty() && last.size() < 20 && std::all_of(last.begin(), last.end(), ::isdigit))
      after = std::stoull(last);
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Accel-Buffering", "no");
    auto deadline = std::make_shared<std::chrono::steady_clock::time_point>(
        std::chrono::steady_clock::now() + std::chrono::seconds(45));
    auto cursor = std::make_shared<uint64_t>(after);
    auto started = std::make_shared<bool>(false);
    uma::AuthorizationServer* as = &w_.as_;
    const std::string owner = *token;
    res.set_chunked_content_provider("text/event-stream", [as, owner, deadline, cursor, started](
                                                              size_t, httplib::DataSink& sink) {
      if (!*started) {
        *started = true;
        const std::string hello = "retry: 1000\n: medallion events\n\n";
        return sink.write(hello.data(), hello.size());
      }
      const auto now = std::chrono::steady_clock::now();
      if (now >= *deadline) {
        sink.done();
        return true;
      }
      const int wait = static_cast<int>(std::min<int64_t>(
          10, std::chrono::duration_cast<std::chrono::seconds>(*deadline - now).count()));
      uma::Reply r = as->Events(owner, *cursor, std::max(wait, 0));
      if (!r.ok()) {
        const std::string bye = "event: signed_out\ndata: {}\n\n";
        sink.write(bye.data(), bye.size());
        sink.done();
        return true;
      }
      std::string out = SseEvents(r.body);
      *cursor = r.body.value("next", *cursor);
      if (out.empty()) out = ": keep-alive\n\n";
      return sink.write(out.data(), out.size());
    });
  }

  void Pairing(const httplib::Request& req, httplib::Response& res) {
    auto info = w_.gate_->Session(req, res);
    if (!info) return;
    auto token = OwnerSessionFor(*info);
    if (!token) return http::SendError(res, token.error());
    uma::Reply offer = w_.as_.CreatePairing(*token);
    if (!offer.ok()) return http::SendJson(res, offer.body, http::HttpStatusFor(offer.status));
    const std::string uri = StringOr(offer.body, "uri");
    auto svg = web::QrSvg(uri, "QR code to pair your phone");
    if (!svg) return http::SendError(res, svg.error());
    res.set_header("Cache-Control", "no-store");
    http::SendJson(
        res, {{"uri", uri}, {"expires", offer.body.value("expires", json())}, {"qr_svg", *svg}},
        201);
  }

  // The accounting of disclosures checked for her: the hash chain of the export, each anchor's
  // chain head, and — with a ledger — each anchor's entry proven in the log (RFC 9162
  // §2.1.3.2 inclusion, against a verified checkpoint) and naming that head.
  void VerifyDisclosures(const httplib::Request& req, httplib::Response& res) {
    auto info = w_.gate_->Session(req, res);
    if (!info) return;
    auto token = OwnerSessionFor(*info);
    if (!token) return http::SendError(res, token.error());
    uma::Reply exported = w_.as_.ExportDisclosures(*token);
    if (!exported.ok())
      return http::SendJson(res, exported.body, http::HttpStatusFor(exported.status));
    auto entries = uma::VerifyDisclosureExport(exported.body);
    if (!entries) {
      return http::SendJson(
          res,
          {{"valid", false}, {"reason", "chain_broken"}, {"detail", entries.error().message()}});
    }
    json anchors = json::array();
    bool all_included = true;
    for (const json& a : exported.body.value("anchors", json::array())) {
      json row = {{"seq", a.value("seq", 0)},
                  {"ledger_index", a.value("ledger_index", json())},
                  {"hash", a.value("hash", "")}};
      if (w_.ledger_ && a.contains("ledger_index") && a["ledger_index"].is_number_unsigned()) {
        const uint64_t index = a["ledger_index"];
        Status ok = w_.ledger_->Refresh().status();
        std::string why;
        bool included = false;
        if (ok.ok()) {
          auto proven = w_.ledger_->Entries(index, index + 1);
          if (proven && proven->size() == 1) {
            included = (*proven)[0].entry.find(a.value("hash", "-")) != std::string::npos;
            if (!included) why = "the ledger entry names another chain head";
          } else {
            why = proven ? "not in the log yet" : proven.error().message();
          }
        } else {
          why = ok.message();
        }
        row["included"] = included;
        if (!why.empty()) row["detail"] = why;
        all_included = all_included && included;
      } else {
        row["included"] = nullptr;  // no ledger configured: the chain alone was checked
      }
      anchors.push_back(std::move(row));
    }
    json out = {{"valid", all_included},
                {"entries", *entries},
                {"anchors", anchors},
                {"ledger", w_.ledger_ != nullptr}};
    if (!all_included) out["reason"] = "anchor_not_proven";
    http::SendJson(res, out);
  }

  // Her consent receipts checked for her: each ledger index a receipt names holds an entry
  // proven included (RFC 9162 §2.1.3.2, against a verified checkpoint) that carries the
  // receipt's hash, signed (the node checked it: claims::RegisterAuthorValidators) by the
  // pseudonymous key her signer_proof binds to her DID.
  void VerifyReceipts(const httplib::Request& req, httplib::Response& res) {
    auto info = w_.gate_->Session(req, res);
    if (!info) return;
    auto token = OwnerSessionFor(*info);
    if (!token) return http::SendError(res, token.error());
    uma::Reply receipts = w_.as_.ListReceipts(*token);
    if (!receipts.ok())
      return http::SendJson(res, receipts.body, http::HttpStatusFor(receipts.status));
    if (!w_.ledger_) return http::SendJson(res, {{"ledger", false}, {"receipts", json::array()}});
    if (auto cp = w_.ledger_->Refresh(); !cp) {
      return http::SendJson(res, {{"ledger", true},
                                  {"valid", false},
                                  {"reason", "checkpoint_unverified"},
                                  {"detail", cp.error().message()}});
    }
    json out = json::array();
    bool all = true;
    for (const json& r : receipts.body.is_array() ? receipts.body : json::array()) {
      // A revocation's ledger entry names the grant it ends (docs/uma.md §Receipts).
      const std::string hash = StringOr(r, "hash"), signer = StringOr(r, "signer");
      const std::string named = StringOr(r, "action") == "revoke"
                                    ? StringOr(r.value("receipt", json::object()), "grant")
                                    : hash;
      json row = {{"hash", hash}, {"entries", json::array()}};
      bool ok = true;
      for (const json& i : r.value("ledger_indexes", json::array())) {
        if (!i.is_number_unsigned()) continue;
        const uint64_t index = i.get<uint64_t>();
        auto proven = w_.ledger_->Entries(index, index + 1);
        json e = {{"index", index}};
        if (!proven || proven->size() != 1) {
          e["included"] = false;
          e["detail"] =
              proven ? "not in the log at the verified checkpoint" : proven.error().message();
          ok = false;
        } else {
          const std::string& entry = (*proven)[0].entry;
          const bool names_hash =
              !named.empty() && entry.find("\"receipt\":\"" + named + "\"") != std::string::npos;
          const bool by_signer = signer.empty() || entry.find(signer) != std::string::npos;
          e["included"] = true;
          e["tree_size"] = (*proven)[0].tree_size;
          e["names_receipt"] = names_hash;
          e["by_her_pseudonymous_key"] = by_signer;
          ok = ok && names_hash && by_signer;
        }
        row["entries"].push_back(std::move(e));
      }
      row["valid"] = ok;
      all = all && ok;
      out.push_back(std::move(row));
    }
    auto dispensed = w_.desk_.VerifyDispenseReceipts(*token);
    if (!dispensed) return http::SendError(res, dispensed.error());
    for (const json& d : *dispensed) all = all && d.value("valid", false);
    http::SendJson(
        res,
        {{"ledger", true}, {"valid", all}, {"receipts", out}, {"dispense_receipts", *dispensed}});
  }

  // --- prescriptions at a pharmacy (web_rx.h) ---

  // The owner session of the request's browser session (CSRF checked for unsafe methods);
  // nullopt when an error was sent.
  std::optional<std::string> OwnerToken(const httplib::Request& req, httplib::Response& res) {
    auto info = w_.gate_->Session(req, res);
    if (!info) return std::nullopt;
    auto token = OwnerSessionFor(*info);
    if (!token) {
      http::SendError(res, token.error());
      return std::nullopt;
    }
    return *token;
  }

  // /web/v1/physician/...: the workspace's calls, each in the owner's session.
  template <typename F>
  void Physician(const httplib::Request& req, httplib::Response& res, F call) {
    if (!w_.physician_)
      return http::SendError(res, 404, "not_found", "this container serves no physician's app");
    auto token = OwnerToken(req, res);
    if (!token) return;
    json body = json::object();
    if (req.method == "POST") {
      auto parsed = http::ReadJsonBody(req, res);
      if (!parsed) return;
      body = std::move(*parsed);
    }
    Result<DeskAnswer> answer = call(*w_.physician_, *token, body);
    if (!answer) return http::SendError(res, answer.error());
    res.set_header("Cache-Control", "no-store");
    http::SendJson(res, answer->body, answer->http);
  }

  void ReceiveNotice(const httplib::Request& req, httplib::Response& res) {
    if (!w_.physician_)
      return http::SendError(res, 404, "not_found", "this container serves no physician's app");
    auto body = http::ReadJsonBody(req, res);
    if (!body) return;
    Result<DeskAnswer> answer = w_.physician_->ReceiveNotice(*body);
    if (!answer) return http::SendError(res, answer.error());
    http::SendJson(res, answer->body, answer->http);
  }

  void ListPrescriptions(const httplib::Request& req, httplib::Response& res) {
    auto token = OwnerToken(req, res);
    if (!token) return;
    auto list = w_.desk_.List(*token);
    if (!list) return http::SendError(res, list.error());
    http::SendJson(res, *list);
  }

  void Present(const httplib::Request& req, httplib::Response& res, bool poll) {
    auto token = OwnerToken(req, res);
    if (!token) return;
    auto body = http::ReadJsonBody(req, res);
    if (!body) return;
    auto answer = poll ? w_.desk_.Poll(*token, *body) : w_.desk_.Present(*token, *body);
    if (!answer) return http::SendError(res, answer.error());
    http::SendJson(res, answer->body, answer->http);
  }

  void Tell(const httplib::Request& req, httplib::Response& res) {
    auto token = OwnerToken(req, res);
    if (!token) return;
    auto body = http::ReadJsonBody(req, res);
    if (!body) return;
    auto answer = w_.desk_.Tell(*token, *body);
    if (!answer) return http::SendError(res, answer.error());
    http::SendJson(res, answer->body, answer->http);
  }

  // Her recovery: the layout of her guardian shares (never a share) from her wallet's public
  // records, and her paired phones' count.
  // Her container's address for a physician to connect to, as text and as a QR code.
  void Address(const httplib::Request& req, httplib::Response& res) {
    if (!w_.gate_->Session(req, res)) return;
    const std::string url = w_.options_.origin + w_.options_.base_path;
    auto svg = web::QrSvg(url, "QR code of your container's address");
    if (!svg) return http::SendError(res, svg.error());
    res.set_header("Cache-Control", "no-store");
    http::SendJson(res, {{"url", url}, {"qr_svg", *svg}});
  }

  void Recovery(const httplib::Request& req, httplib::Response& res) {
    auto token = OwnerToken(req, res);
    if (!token) return;
    json out = {{"wallet", !w_.options_.store.empty()},
                {"guardian_shares", nullptr},
                {"owner", w_.options_.owner_did}};
    if (!w_.options_.store.empty()) {
      auto layout = GuardianShares(w_.options_.store);
      if (!layout) return http::SendError(res, layout.error());
      out["guardian_shares"] = *layout;
    }
    http::SendJson(res, out);
  }

  // --- relationships on the ledger (docs/relationships.md), from her seed ---

  // nullopt (an error sent) without the seed or the ledger.
  bool CanRelate(httplib::Response& res) {
    if (w_.options_.seed != nullptr && w_.ledger_) return true;
    http::SendError(
        res,
        Status::FailedPrecondition(
            "relationships need the owner's wallet (--store) and a ledger (--ledger, --log-key)"));
    return false;
  }

  Result<std::vector<uma::Relationship>> Relationships() {
    return OwnerRelationships(w_.options_.seed->Reveal(), *w_.ledger_);
  }

  void ListRelationships(const httplib::Request& req, httplib::Response& res) {
    if (!w_.gate_->Session(req, res) || !CanRelate(res)) return;
    auto list = Relationships();
    if (!list) return http::SendError(res, list.error());
    json out = json::array();
    for (const uma::Relationship& r : *list) {
      out.push_back({{"rel", r.id},
                     {"provider", r.provider},
                     {"pseudonym", r.patient},
                     {"kind", r.kind},
                     {"status", r.status},
                     {"patient_decision", r.patient_decision},
                     {"deleted", r.deleted},
                     {"location", r.location},
                     {"ledger_indexes", r.indexes}});
    }
    http::SendJson(res, {{"relationships", out}});
  }

  // A fresh pseudonym to give a provider: the first index with nothing on the ledger.
  void NewPseudonym(const httplib::Request& req, httplib::Response& res) {
    if (!w_.gate_->Session(req, res) || !CanRelate(res)) return;
    auto list = Relationships();
    if (!list) return http::SendError(res, list.error());
    for (uint32_t i = 0; i < 10'000; ++i) {
      auto key = uma::DerivePairwiseKey(w_.options_.seed->Reveal(), i);
      if (!key) return http::SendError(res, key.error());
      const std::string p = key->Pseudonym();
      if (std::none_of(list->begin(), list->end(),
                       [&](const uma::Relationship& r) { return r.patient == p; })) {
        return http::SendJson(res, {{"pseudonym", p}, {"index", i}}, 201);
      }
    }
    http::SendError(res, Status::ResourceExhausted("no unused pseudonym"));
  }

  // Her decision on a relationship: {"rel", "action": accept | reject | delete}, signed with
  // the pairwise key of that relationship and appended to the ledger.
  void DecideRelationship(const httplib::Request& req, httplib::Response& res) {
    if (!w_.gate_->Session(req, res) || !CanRelate(res)) return;
    auto body = http::ReadJsonBody(req, res);
    if (!body) return;
    const std::string rel = StringOr(*body, "rel"), action = StringOr(*body, "action");
    if (action != "accept" && action != "reject" && action != "delete") {
      return http::SendError(res,
                             Status::InvalidArgument("'action' must be accept, reject or delete"));
    }
    auto list = Relationships();
    if (!list) return http::SendError(res, list.error());
    auto it = std::find_if(list->begin(), list->end(),
                           [&](const uma::Relationship& r) { return r.id == rel; });
    if (it == list->end())
      return http::SendError(
          res, Status::NotFound("no relationship '" + rel.substr(0, 64) + "' of yours"));
    for (uint32_t i = 0; i < 10'000; ++i) {
      auto key = uma::DerivePairwiseKey(w_.options_.seed->Reveal(), i);
      if (!key) return http::SendError(res, key.error());
      if (key->Pseudonym() != it->patient) continue;
      auto entry = uma::BuildPatientAction(*key, it->provider, it->kind, action,
                                           w_.env_.clock->NowSeconds());
      if (!entry) return http::SendError(res, entry.error());
      auto appended = w_.ledger_->Append(*entry);
      if (!appended) return http::SendError(res, appended.error());
      return http::SendJson(res,
                            {{"rel", rel}, {"action", action}, {"ledger_index", appended->index}});
    }
    http::SendError(res,
                    Status::NotFound("the relationship's pseudonym is not one of this seed's"));
  }

  // POST /web/v1/links with the owner's bearer session (from a DID-auth sign-in: medallion
  // container login-link): a one-time setup link.
  void Link(const httplib::Request& req, httplib::Response& res) {
    std::string bearer = req.get_header_value("Authorization");
    if (bearer.size() < 7 ||
        !std::equal(bearer.begin(), bearer.begin() + 7, "Bearer ", [](char x, char y) {
          return std::tolower(static_cast<unsigned char>(x)) ==
                 std::tolower(static_cast<unsigned char>(y));
        })) {
      return http::SendError(
          res, Status::Unauthenticated(
                   "the owner's session is required (medallion container login-link)"));
    }
    if (!w_.as_.CheckOwner(bearer.substr(7)).ok()) {
      return http::SendError(
          res, Status::Unauthenticated(
                   "the owner's session is required (medallion container login-link)"));
    }
    auto link = w_.SetupLink();
    if (!link) return http::SendError(res, link.error());
    res.set_header("Cache-Control", "no-store");
    http::SendJson(res, {{"link", *link}, {"expires_in", w_.store_->options().link_ttl_s}}, 201);
  }

 private:
  ContainerWeb& w_;
};

ContainerWeb::ContainerWeb(uma::AuthorizationServer& as,
                           std::shared_ptr<roles::LedgerClient> ledger, ContainerWebOptions options,
                           Env env)
    : as_(as),
      ledger_(std::move(ledger)),
      options_(std::move(options)),
      env_(env),
      desk_(as, ledger_, options_.prescriptions, env) {}

ContainerWeb::~ContainerWeb() = default;

Result<std::unique_ptr<ContainerWeb>> ContainerWeb::Open(
    const std::string& dir, uma::AuthorizationServer& as,
    std::shared_ptr<roles::LedgerClient> ledger, ContainerWebOptions options, Env env) {
  std::unique_ptr<ContainerWeb> w(new ContainerWeb(as, std::move(ledger), std::move(options), env));
  web::SessionOptions so;
  so.max_signin_attempts =
      20;  // per client address in 5 minutes: ceremonies begun, links, phone requests
  MDL_ASSIGN_OR_RETURN(
      w->store_,
      web::BrowserStore::Open((std::filesystem::path(dir) / "web.sqlite").string(), w->env_, so));
  WebGateOptions go;
  go.origin = w->options_.origin;
  go.base_path = w->options_.base_path;
  go.tls = w->options_.tls;
  // One person: the owner (account ""), named as the authenticator shows her container.
  go.user_for = [owner = w->options_.owner_did,
                 name = w->options_.display_name](const std::string& account) -> Result<WebUser> {
    if (!account.empty()) return Status::PermissionDenied("a container has no staff accounts");
    return WebUser{UserHandle(owner), name, name};
  };
  MDL_ASSIGN_OR_RETURN(w->gate_, WebGate::Make(*w->store_, std::move(go), w->env_));
  if (w->options_.physician) {
    PhysicianDeskOptions po;
    po.did = w->options_.owner_did;
    po.seed = w->options_.seed;
    po.resolver = w->options_.prescriptions.resolver;
    po.license_status = w->options_.prescriptions.license_status;
    if (const web::Asset* list = web::FindAsset(medallion_physician_app, "data/medications.json"))
      po.medications_json.assign(reinterpret_cast<const char*>(list->data), list->size);
    po.notices_url = w->options_.origin + w->options_.base_path + "/rx/v1/notices";
    MDL_ASSIGN_OR_RETURN(
        std::unique_ptr<PrescriberNotices> notices,
        PrescriberNotices::Open((std::filesystem::path(dir) / "physician.sqlite").string()));
    w->physician_ = std::make_unique<PhysicianDesk>(w->as_, w->ledger_, std::move(po),
                                                    std::move(notices), w->env_);
    // Her prescriptions over OpenID4VCI (docs/openid4vc.md): only with her wallet to sign.
    if (w->options_.seed != nullptr) {
      MDL_RETURN_IF_ERROR(w->physician_->EnableOid4vci(
          (std::filesystem::path(dir) / "oid4vci.db").string(),
          w->options_.origin + w->options_.base_path));
    }
  }
  return w;
}

Result<std::string> ContainerWeb::SetupLink() {
  MDL_ASSIGN_OR_RETURN(std::string token, store_->CreateLink(web::LinkPurpose::kRegisterPasskey));
  return AppUrl() + "#setup=" + token;
}

void ContainerWeb::RegisterPhysicianRoutes(httplib::Server& server,
                                           const std::shared_ptr<Handlers>& h) {
  using Req = const httplib::Request&;
  using Res = httplib::Response&;
  using D = PhysicianDesk;
  using J = const json&;
  auto route = [h](auto call) {
    return [h, call](Req req, Res res) { h->Physician(req, res, call); };
  };
  server.Get("/web/v1/physician/state",
             route([](D& d, const std::string& o, J) { return d.State(o); }));
  server.Post("/web/v1/physician/onboard",
              route([](D& d, const std::string& o, J b) { return d.Onboard(o, b); }));
  server.Post("/web/v1/physician/onboard/poll",
              route([](D& d, const std::string& o, J) { return d.OnboardPoll(o); }));
  server.Get("/web/v1/physician/patients",
             route([](D& d, const std::string&, J) { return d.Patients(); }));
  server.Post("/web/v1/physician/patients",
              route([](D& d, const std::string& o, J b) { return d.Connect(o, b); }));
  server.Post(R"(/web/v1/physician/patients/([0-9a-f]{16})/poll)", [h](Req req, Res res) {
    const std::string id = req.matches[1].str();
    h->Physician(req, res,
                 [id](D& d, const std::string& o, J) { return d.PollPatient(o, id); });
  });
  server.Get(R"(/web/v1/physician/patients/([0-9a-f]{16})/records)", [h](Req req, Res res) {
    const std::string id = req.matches[1].str(), type = req.get_param_value("type");
    h->Physician(req, res,
                 [id, type](D& d, const std::string& o, J) { return d.Records(o, id, type); });
  });
  server.Post(R"(/web/v1/physician/patients/([0-9a-f]{16})/records)", [h](Req req, Res res) {
    const std::string id = req.matches[1].str();
    h->Physician(req, res,
                 [id](D& d, const std::string& o, J b) { return d.WriteRecord(o, id, b); });
  });
  // A patient's container tells her of a refusal: no session, the signed notice is the proof.
  server.Post("/rx/v1/notices", [h](Req req, Res res) { h->ReceiveNotice(req, res); });
  server.Get("/web/v1/physician/prescriptions",
             route([](D& d, const std::string& o, J) { return d.Prescriptions(o); }));
  server.Post("/web/v1/physician/prescriptions",
              route([](D& d, const std::string& o, J b) { return d.Prescribe(o, b); }));
  // A Credential Offer of a delivered prescription for the patient's wallet (OpenID4VCI), and
  // the wallet-facing issuer endpoints (oid4vci_http.h).
  server.Post(R"(/web/v1/physician/prescriptions/([A-Za-z0-9_-]{1,64})/offer)",
              [h](Req req, Res res) {
                const std::string id = req.matches[1].str();
                h->Physician(req, res, [id](D& d, const std::string& o, J) -> Result<DeskAnswer> {
                  MDL_ASSIGN_OR_RETURN(DeskAnswer a, d.OfferPrescription(o, id));
                  // Her page shows the offer by reference as a QR code for the patient's
                  // wallet to scan (OpenID4VCI §4.1.3), rendered here as the pairing QR is.
                  MDL_ASSIGN_OR_RETURN(
                      a.body["qr_svg"],
                      web::QrSvg(StringOr(a.body, "offer_uri_by_reference"),
                                 "QR code of the prescription's credential offer"));
                  return a;
                });
              });
  if (physician_ && physician_->oid4vci() != nullptr) {
    RegisterOid4vciRoutes(server, *physician_->oid4vci());
    // The same offer for the command line (`medallion oid4vci offer --prescription`): the
    // owner API's bearer session (a browser's cookie is bridged to it, Bridge above).
    server.Post("/owner/v1/oid4vci/offers", [this](Req req, Res res) {
      const std::string bearer = req.get_header_value("Authorization");
      if (bearer.rfind("Bearer ", 0) != 0 || !as_.CheckOwner(bearer.substr(7)).ok())
        return http::SendError(res, Status::Unauthenticated("the owner's session is required"));
      auto body = http::ReadJsonBody(req, res);
      if (!body) return;
      Result<DeskAnswer> answer = physician_->OfferDelivered(bearer.substr(7), *body);
      if (!answer) return http::SendError(res, answer.error());
      res.set_header("Cache-Control", "no-store");
      http::SendJson(res, answer->body, answer->http);
    });
  }
  server.Post(R"(/web/v1/physician/prescriptions/([A-Za-z0-9_-]{1,64})/poll)",
              [h](Req req, Res res) {
                const std::string id = req.matches[1].str();
                h->Physician(req, res, [id](D& d, const std::string& o, J) {
                  return d.PollPrescription(o, id);
                });
              });
}

void ContainerWeb::RegisterRoutes(httplib::Server& server) { Register(server, nullptr); }

void ContainerWeb::RegisterRoutes(MountedRoutes& mounted) { Register(mounted, &mounted); }

void ContainerWeb::Register(httplib::Server& server, MountedRoutes* mounted) {
  auto h = std::make_shared<Handlers>(*this);
  web::ServeApp(server, options_.physician ? medallion_physician_app : medallion_patient_app,
                options_.tls);
  RegisterPhysicianRoutes(server, h);
  http::SetPreRoutingHandler(server, [h](const httplib::Request& req, httplib::Response& res) {
    return h->Bridge(req, res);
  });
  server.Get("/web/v1/state",
             [h](const httplib::Request& req, httplib::Response& res) { h->State(req, res); });
  gate_->RegisterRoutes(server);
  server.Post("/web/v1/signin/phone", [h](const httplib::Request& req, httplib::Response& res) {
    h->SignInPhone(req, res);
  });
  server.Post(
      "/web/v1/signin/phone/poll",
      [h](const httplib::Request& req, httplib::Response& res) { h->SignInPhonePoll(req, res); });
  server.Post("/web/v1/signout", [h](const httplib::Request& req, httplib::Response& res) {
    h->SignOut(req, res, false);
  });
  server.Post("/web/v1/signout-all", [h](const httplib::Request& req, httplib::Response& res) {
    h->SignOut(req, res, true);
  });
  // The event stream is a content provider: mounted, it is served by the shared server itself.
  auto events = [h](const httplib::Request& req, httplib::Response& res) { h->Events(req, res); };
  if (mounted != nullptr) {
    // The shared server runs none of this server's handlers around it: the app's security
    // headers are set here.
    mounted->GetStreamed("/web/v1/events", [events, tls = options_.tls](const httplib::Request& req,
                                                                        httplib::Response& res) {
      web::SetSecurityHeaders(res, tls);
      events(req, res);
    });
  } else {
    server.Get("/web/v1/events", events);
  }
  server.Post("/web/v1/pairing",
              [h](const httplib::Request& req, httplib::Response& res) { h->Pairing(req, res); });
  server.Post(
      "/web/v1/disclosures/verify",
      [h](const httplib::Request& req, httplib::Response& res) { h->VerifyDisclosures(req, res); });
  server.Post("/web/v1/receipts/verify", [h](const httplib::Request& req, httplib::Response& res) {
    h->VerifyReceipts(req, res);
  });
  server.Get("/web/v1/relationships", [h](const httplib::Request& req, httplib::Response& res) {
    h->ListRelationships(req, res);
  });
  server.Post(
      "/web/v1/relationships/pseudonym",
      [h](const httplib::Request& req, httplib::Response& res) { h->NewPseudonym(req, res); });
  server.Post("/web/v1/relationships/decision",
              [h](const httplib::Request& req, httplib::Response& res) {
                h->DecideRelationship(req, res);
              });
  server.Get("/web/v1/prescriptions", [h](const httplib::Request& req, httplib::Response& res) {
    h->ListPrescriptions(req, res);
  });
  server.Post(
      "/web/v1/prescriptions/present",
      [h](const httplib::Request& req, httplib::Response& res) { h->Present(req, res, false); });
  server.Post(
      "/web/v1/prescriptions/present/poll",
      [h](const httplib::Request& req, httplib::Response& res) { h->Present(req, res, true); });
  server.Post("/web/v1/prescriptions/tell",
              [h](const httplib::Request& req, httplib::Response& res) { h->Tell(req, res); });
  server.Get("/web/v1/recovery",
             [h](const httplib::Request& req, httplib::Response& res) { h->Recovery(req, res); });
  server.Get("/web/v1/address",
             [h](const httplib::Request& req, httplib::Response& res) { h->Address(req, res); });
  server.Post("/web/v1/links",
              [h](const httplib::Request& req, httplib::Response& res) { h->Link(req, res); });
  // Her container as an OpenID4VP wallet (web_oid4vc.h).
  WalletWebOptions wallet;
  wallet.as = &as_;
  wallet.holder = options_.prescriptions.holder_signer;
  wallet.owner_token = [h](const httplib::Request& req, httplib::Response& res) {
    return h->OwnerToken(req, res);
  };
  wallet.env = env_;
  wallet.resolver = options_.prescriptions.resolver;
  wallet.allow_insecure_loopback = options_.allow_insecure_loopback;
  RegisterWalletWebRoutes(server, std::move(wallet));
}

}  // namespace medallion::roles
