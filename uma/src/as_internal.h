// The authorization server's private parts shared by its source files: storage schema,
// reply helpers, token hashing, and the Impl (database, claims gathering, tickets, the
// disclosure log). Private to the uma module.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <sstream>

#include "medallion/claims/credentials.h"
#include "medallion/claims/data_integrity.h"
#include "medallion/claims/jose.h"
#include "medallion/core/encoding.h"
#include "medallion/core/hash.h"
#include "medallion/core/jcs.h"
#include "medallion/core/json.h"
#include "medallion/core/metrics.h"
#include "medallion/oid4vc/verifier.h"
#include "medallion/uma/authorization_server.h"
#include "medallion/storage/sqlite.h"
#include "schema.h"

namespace medallion::uma {

using nlohmann::json;
using sql::Stmt;

namespace internal {

inline constexpr std::string_view kWhat = "consent";
inline constexpr size_t kMaxTokenBytes = 512;  // our own opaque tokens are 43 characters
inline constexpr size_t kMaxClaimTokenBytes = 256 * 1024;
inline constexpr size_t kMaxPermissionsPerTicket = 64;
inline constexpr size_t kMaxScopesPerResource = 64;
inline constexpr size_t kMaxResourcesPerServer = 100000;
inline constexpr size_t kMaxPendingRequests = 1000;
inline constexpr size_t kMaxOpenChallenges = 10000;
inline constexpr const char* kClaimDid = "urn:medallion:uma:claim:did";
inline constexpr const char* kClaimPurpose = "urn:medallion:uma:claim:purpose_of_use";

// --- replies ---

// A successful answer: plain, a created object, or nothing to return.
inline Reply Answer(json body) {
  Reply r;
  r.body = std::move(body);
  return r;
}
inline Reply Created(json body) {
  Reply r = Answer(std::move(body));
  r.success = Reply::Success::kCreated;
  return r;
}
inline Reply Empty() {
  Reply r;
  r.success = Reply::Success::kEmpty;
  return r;
}

// A refusal: `code` is the generic class, `error` the OAuth 2.0 / UMA error code (the status's
// reason and the body's "error"), `extra` further members of the error object.
inline Reply Error(StatusCode code, std::string error, std::string description,
                   json extra = json::object()) {
  Reply r;
  r.status = Status::WithReason(code, error, description);
  r.body = {{"error", std::move(error)}, {"error_description", std::move(description)}};
  for (auto& [k, v] : extra.items()) r.body[k] = v;
  return r;
}

// RFC 6750 §3.1: a missing or unusable bearer token at a protected endpoint.
inline Reply InvalidToken(const std::string& realm, const std::string& description) {
  Reply r = Error(StatusCode::kUnauthenticated, "invalid_token", description);
  r.headers.emplace_back("WWW-Authenticate",
                         "Bearer realm=\"" + realm + "\", error=\"invalid_token\"");
  return r;
}

inline Reply Internal(const Status& st) {
  return Error(StatusCode::kInternal, "server_error", st.message());
}

inline std::string HexHash(std::string_view text) { return HexEncode(Sha256(AsBytes(text))); }

inline Hash256 TokenHash(std::string_view token) { return Sha256(AsBytes(token)); }

inline bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

inline std::vector<std::string> SplitSpaces(std::string_view s) {
  std::vector<std::string> out;
  std::istringstream in{std::string(s)};
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

inline json PartyToJson(const RequestingParty& p, const json& credentials_full) {
  json creds = json::array();
  for (const VerifiedCredential& c : p.credentials) {
    json facts = json::object();
    for (const auto& [k, v] : c.facts) facts[k] = v;
    creds.push_back({{"types", c.types},
                     {"issuer", c.issuer},
                     {"id", c.id},
                     {"digest", c.digest},
                     {"facts", facts}});
  }
  return {
      {"did", p.did}, {"purpose", p.purpose}, {"credentials", creds}, {"vcs", credentials_full}};
}

inline RequestingParty PartyFromJson(const json& j) {
  RequestingParty p;
  p.did = j.value("did", "");
  p.purpose = j.value("purpose", "");
  for (const json& c : j.value("credentials", json::array())) {
    VerifiedCredential v{c.at("types").get<std::vector<std::string>>(),
                         c.at("issuer"),
                         c.at("id"),
                         c.at("digest"),
                         {}};
    const json& facts = MemberOr(c, "facts");
    if (facts.is_object()) {
      for (const auto& [k, value] : facts.items()) {
        if (value.is_string()) v.facts.emplace_back(k, value.get<std::string>());
      }
    }
    p.credentials.push_back(std::move(v));
  }
  return p;
}

inline json PermissionsToJson(const std::vector<GrantedPermission>& perms) {
  json out = json::array();
  for (const auto& g : perms) {
    out.push_back({{"resource_id", g.resource_id},
                   {"resource_scopes", g.scopes},
                   {"policies", g.policy_ids}});
  }
  return out;
}

inline std::vector<GrantedPermission> PermissionsFromJson(const json& j) {
  std::vector<GrantedPermission> out;
  for (const json& p : j) {
    out.push_back({p.at("resource_id"), p.at("resource_scopes").get<std::vector<std::string>>(),
                   p.value("policies", std::vector<std::string>{})});
  }
  return out;
}

}  // namespace internal

using namespace internal;

class AuthorizationServer::Impl {
 public:
  Impl(std::unique_ptr<sql::Db> db, const AuthorizationServerOptions& o, Env env)
      : db_(std::move(db)),
        o_(o),
        env_(env),
        clients_(NewSqlClientStore(*db_)),
        tickets_(NewSqlTicketStore(*db_)),
        tokens_(NewSqlTokenStore(*db_)),
        resources_(NewSqlResourceStore(*db_)),
        log_(NewSqlDisclosureLog(*db_)),
        policies_(NewSqlPolicyStore(*db_)),
        credentials_(NewSqlCredentialStore(*db_)),
        requests_(NewSqlRequestStore(*db_)),
        devices_(NewSqlDeviceStore(*db_)) {}
  ~Impl() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (batch_open_) (void)CommitGroup();
    }
    // The stores' prepared statements go before their connection.
    clients_.reset(), tickets_.reset(), tokens_.reset(), resources_.reset(), log_.reset();
    policies_.reset(), credentials_.reset(), requests_.reset(), devices_.reset();
    readers_.clear();
    db_.reset();
  }

  // The consent database: SQLite (the default) or the host's PostgreSQL, this container's rows.
  std::unique_ptr<sql::Db> db_;
  const AuthorizationServerOptions& o_;
  Env env_;
  std::unique_ptr<ClientStore> clients_;
  std::unique_ptr<TicketStore> tickets_;
  std::unique_ptr<TokenStore> tokens_;
  std::unique_ptr<ResourceStore> resources_;
  std::unique_ptr<DisclosureLog> log_;
  std::unique_ptr<PolicyStore> policies_;
  std::unique_ptr<CredentialStore> credentials_;
  std::unique_ptr<RequestStore> requests_;
  std::unique_ptr<DeviceStore> devices_;
  // The OpenID4VP verifier of interactive claims gathering (null: that path is off); its own
  // connection (a SQLite file, or this container's rows on PostgreSQL) and lock
  // (oid4vc/verifier.h).
  std::unique_ptr<oid4vc::Verifier> vp_;
  std::mutex mu_;  // serializes read-modify-write sequences (and the one connection)
  // Wakes the owner's long-polling event readers when the log grows (notifications): after the
  // group that grew it is committed, so they never see an entry that could still be lost.
  std::condition_variable log_grew_;

  // --- group commit (docs/uma.md §"Group commit") ---
  //
  // Every write runs in Tx() with mu_ held, as before, but inside a SAVEPOINT of the *group*: one
  // open BEGIN IMMEDIATE transaction that the writes of concurrent requests join. A write is
  // acknowledged (Tx returns) only after the group's COMMIT — one fsync for the whole group. The
  // first writer to wait leads: it lets the requests queued on mu_ add their writes (bounded by
  // kMaxGroupWrites and kGroupWindow), then commits and wakes the others; each then answers with
  // the group's outcome. Writes run one after another on one connection, so every read-modify-
  // write (the disclosure log's hash chain included) sees exactly the writes before it; a write
  // that fails rolls back to its savepoint and changes nothing. A request that only read under
  // mu_ may have seen the open group's writes, so Lock waits for that group too before it lets
  // the answer go: nothing is answered from a state that could still be lost. Hot reads
  // (introspection, resource authorization) use WAL reader connections (TakeReader) and see only
  // committed state, without mu_.

  // Takes mu_ (counted, so a group's leader knows who is queued) and, on release, waits until
  // every write this holder could have seen is durable.
  class Lock {
   public:
    explicit Lock(Impl& im) : im_(im) {
      im_.arriving_.fetch_add(1, std::memory_order_relaxed);
      im_.mu_.lock();
      im_.arriving_.fetch_sub(1, std::memory_order_relaxed);
      ++im_.acquired_;
    }
    ~Lock() {
      if (im_.batch_open_ && im_.batch_writes_ > 0) (void)im_.AwaitGroup(im_.batch_seq_);
      im_.mu_.unlock();
    }
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;

   private:
    Impl& im_;
  };

  static constexpr size_t kMaxGroupWrites = 256;
  static constexpr std::chrono::microseconds kGroupWindow{250};

  std::atomic<int> arriving_{0};  // threads waiting for mu_
  uint64_t acquired_ = 0;         // times mu_ was taken through Lock (guarded by mu_)
  std::condition_variable_any group_done_;   // a group was committed (or failed)
  std::condition_variable_any group_grew_;   // a request joined the open group (wakes the leader)
  bool batch_open_ = false;
  bool leading_ = false;       // a leader is collecting or committing the open group
  bool in_write_ = false;      // a Tx body is running (Tx does not nest)
  uint64_t batch_seq_ = 0;     // the open (or last) group
  uint64_t done_seq_ = 0;      // groups up to this one are committed or failed
  size_t batch_writes_ = 0;    // writes in the open group
  std::deque<std::pair<uint64_t, Status>> failed_groups_;  // the last few failed groups

  // The outcome of group `seq` (done).
  Status GroupOutcome(uint64_t seq) const {
    for (const auto& [s, st] : failed_groups_) {
      if (s == seq) return st;
    }
    return Status::Ok();
  }

  // Commits the open group. REQUIRES: mu_ held, batch_open_.
  Status CommitGroup() {
    Status st = batch_writes_ > 0 ? db_->Commit() : Status::Ok();
    if (batch_writes_ > 0) {
      metrics::Registry::Default().Observe("medallion_consent_group_writes",
                                           "Writes per consent-server group commit", {},
                                           static_cast<double>(batch_writes_),
                                           metrics::SizeBuckets());
    }
    if (batch_writes_ == 0 || !st.ok()) (void)db_->Exec("ROLLBACK");
    batch_open_ = false;
    batch_writes_ = 0;
    done_seq_ = batch_seq_;
    if (!st.ok()) {
      failed_groups_.emplace_back(batch_seq_, st);
      if (failed_groups_.size() > 64) failed_groups_.pop_front();
    }
    group_done_.notify_all();
    log_grew_.notify_all();
    return st;
  }

  // Waits until group `seq` is committed, leading it if nobody does. REQUIRES: mu_ held (it is
  // released while waiting and held again on return).
  Status AwaitGroup(uint64_t seq) {
    while (done_seq_ < seq) {
      if (leading_) {
        group_grew_.notify_one();  // the leader may be waiting for this request to join
        group_done_.wait(mu_);
        continue;
      }
      leading_ = true;
      // Wait for the requests queued on the lock right now (not for later ones: they make the
      // next group while this one commits), at most kGroupWindow.
      const uint64_t let_in = acquired_ + static_cast<uint64_t>(arriving_.load());
      const auto deadline = std::chrono::steady_clock::now() + kGroupWindow;
      while (acquired_ < let_in && batch_writes_ < kMaxGroupWrites &&
             std::chrono::steady_clock::now() < deadline) {
        group_grew_.wait_until(mu_, deadline);
      }
      (void)CommitGroup();
      leading_ = false;
    }
    return GroupOutcome(seq);
  }

  // Runs `body` as one write of the open group (opening one if needed) and returns once the
  // group is committed: OK if both the body and the commit succeeded. A body that fails changes
  // nothing. REQUIRES: mu_ held (through Lock), not inside another Tx body.
  template <typename F>
  Status Tx(F&& body) {
    if (in_write_) return Status::Internal("consent: nested transaction");
    if (!batch_open_) {
      MDL_RETURN_IF_ERROR(db_->Begin());
      batch_open_ = true;
      ++batch_seq_;
    }
    if (Status st = db_->Exec("SAVEPOINT w"); !st.ok()) {
      if (batch_writes_ == 0 && !leading_) (void)CommitGroup();  // nothing to keep: close it
      return st;
    }
    in_write_ = true;
    Status st = body();
    in_write_ = false;
    if (st.ok()) st = db_->Exec("RELEASE w");
    if (!st.ok()) {
      (void)db_->Exec("ROLLBACK TO w");
      (void)db_->Exec("RELEASE w");
      if (batch_writes_ == 0 && !leading_) (void)CommitGroup();  // nothing to keep: close it
      return st;
    }
    ++batch_writes_;
    return AwaitGroup(batch_seq_);
  }

  // --- WAL readers ---

  // A read-only connection with the stores the hot read paths use; it sees committed state only.
  struct Reader {
    std::unique_ptr<sql::Db> db;
    std::unique_ptr<TokenStore> tokens;
    std::unique_ptr<ResourceStore> resources;
    ~Reader() { tokens.reset(), resources.reset(); }
  };
  struct ReaderReturn {
    Impl* im;
    void operator()(Reader* r) const { im->ReturnReader(r); }
  };
  using ReaderPtr = std::unique_ptr<Reader, ReaderReturn>;

  // The SQLite database ("", ":memory:" or PostgreSQL: no readers, reads take mu_; a PostgreSQL
  // reader pool would need a connection per reader per container, docs/scale-out.md).
  std::string path_;
  std::mutex readers_mu_;
  std::vector<std::unique_ptr<Reader>> readers_;  // idle ones (at most o_.max_idle_readers)

  // An idle reader, or a new one; nullptr when this database has no separate readers.
  ReaderPtr TakeReader() {
    {
      std::lock_guard<std::mutex> lock(readers_mu_);
      if (!readers_.empty()) {
        Reader* r = readers_.back().release();
        readers_.pop_back();
        return ReaderPtr(r, ReaderReturn{this});
      }
    }
    if (path_.empty() || path_ == ":memory:" || path_.rfind("file:", 0) == 0)
      return ReaderPtr(nullptr, ReaderReturn{this});
    auto r = std::make_unique<Reader>();
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path_.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                                   nullptr);
    r->db = sql::Db::AdoptSqlite(raw, kWhat);
    if (rc != SQLITE_OK) return ReaderPtr(nullptr, ReaderReturn{this});
    sqlite3_busy_timeout(raw, 5000);
    r->tokens = NewSqlTokenStore(*r->db);
    r->resources = NewSqlResourceStore(*r->db);
    return ReaderPtr(r.release(), ReaderReturn{this});
  }

  void ReturnReader(Reader* r) {
    std::unique_ptr<Reader> owned(r);
    if (r == nullptr) return;
    std::lock_guard<std::mutex> lock(readers_mu_);
    if (readers_.size() < o_.max_idle_readers) readers_.push_back(std::move(owned));
  }

  int64_t Now() const { return env_.clock->NowSeconds(); }
  std::string NewToken() { return Base64UrlEncode(env_.rng->RandomBytes(32)); }
  std::string NewId() { return env_.rng->RandomId(16); }

  // --- tokens ---

  using TokenRow = internal::TokenRow;

  Status InsertToken(const std::string& token, const std::string& kind,
                     const std::string& client_id, const std::string& subject, const json& data,
                     int64_t ttl) {
    return tokens_->Insert(token, {kind, client_id, subject, data, Now(), Now() + ttl});
  }

  // A live token (not expired, not revoked) of `kind`; nullopt otherwise.
  std::optional<TokenRow> LiveToken(std::string_view token, std::string_view kind) {
    return tokens_->Live(token, kind, Now());
  }

  Status RevokeTokenHash(const Hash256& h) { return tokens_->Revoke(h); }

  // --- clients ---

  using ClientRow = internal::ClientRow;

  std::optional<ClientRow> Authenticate(const ClientCredentials& c) {
    if (!c.present()) return std::nullopt;
    return clients_->Authenticate(c.client_id, c.client_secret);
  }

  // The resource server a PAT speaks for ("" if the PAT is not live).
  std::string PatClient(std::string_view pat) {
    auto row = LiveToken(pat, "pat");
    return row ? row->client_id : "";
  }

  // --- resources ---

  using ResourceRow = internal::ResourceRow;

  std::optional<ResourceRow> Resource(std::string_view id) { return resources_->Get(id); }

  // Resource `id` for the resource server holding `pat` (FedAuthz §3.2): that server's client id
  // in *rs and the row in *row; or the refusal to send — invalid_token without a live PAT,
  // not_found for an unknown id and for another server's resource alike.
  std::optional<Reply> OwnedResource(std::string_view pat, std::string_view id, std::string* rs,
                                     ResourceRow* row) {
    *rs = PatClient(pat);
    if (rs->empty()) return InvalidToken(o_.realm, "a valid PAT is required");
    auto r = Resource(id);
    if (!r || r->client_id != *rs)
      return Error(StatusCode::kNotFound, "not_found", "no such resource");
    *row = std::move(*r);
    return std::nullopt;
  }

  // --- the accounting of disclosures ---

  // Appends a hash-chained entry (disclosure_log.h); the event readers wake when it commits.
  Status Log(json entry) { return log_->Append(std::move(entry), Now()); }

  // --- policies ---

  std::vector<Policy> ActivePolicies() { return policies_->Active(); }

  // --- claims gathering (docs/uma.md §"Claim tokens") ---

  struct Claims {
    RequestingParty party;
    json vcs = json::array();  // the verified credentials, kept for re-checks behind a PCT
  };

  Status CheckCredentialClaim(const json& vc, const std::string& holder, int64_t now,
                              VerifiedCredential* out) {
    if (!vc.is_object())
      return Status::InvalidArgument("credential_malformed: a credential is a JSON object");
    MDL_RETURN_IF_ERROR(claims::CheckCredential(vc, now, o_.max_clock_skew));
    claims::ProofCheckOptions po;
    po.now = now;
    po.max_clock_skew = o_.max_clock_skew;
    MDL_ASSIGN_OR_RETURN(auto proofs, claims::VerifyProofs(vc, *o_.resolver, po));
    const std::string issuer = claims::IssuerOf(vc);
    if (proofs.empty() || std::none_of(proofs.begin(), proofs.end(),
                                       [&](const auto& p) { return p.controller == issuer; })) {
      return Status::PermissionDenied("issuer_proof_missing: no proof by the issuer " + issuer);
    }
    // VC Data Model 2.0 §4.5: the presentation's holder must be the subject.
    const json& subject = MemberOr(vc, "credentialSubject");
    if (!subject.is_object() || StringOr(subject, "id") != holder) {
      return Status::PermissionDenied(
          "holder_binding: the credential's subject is not the presentation's holder");
    }
    out->types.clear();
    const json& types = MemberOr(vc, "type");
    if (types.is_array()) {
      for (const json& t : types) {
        if (t.is_string()) out->types.push_back(t);
      }
    } else if (types.is_string()) {
      out->types.push_back(types);
    }
    if (Contains(out->types, kLicenseCredentialType)) {
      MDL_RETURN_IF_ERROR(claims::CheckLicenseCredential(vc));
      if (!Contains(o_.trusted_issuers, issuer)) {
        return Status::PermissionDenied("untrusted_issuer: " + issuer +
                                        " is not a trusted license issuer");
      }
      Status st = o_.license_status(vc);
      if (!st.ok()) return Status(st.code(), "license_status: " + st.message());
      out->facts.clear();
      for (const char* f : {"name", "licenseNumber", "licenseType", "specialty", "jurisdiction"}) {
        const std::string v = StringOr(subject, f);
        if (!v.empty()) out->facts.emplace_back(f, v.substr(0, 200));
      }
      out->facts.emplace_back("status", "active");
    }
    out->issuer = issuer;
    if (vc.contains("id") && !vc["id"].is_string())
      return Status::InvalidArgument("credential_malformed: 'id' must be a string");
    out->id = StringOr(vc, "id");
    MDL_ASSIGN_OR_RETURN(Hash256 digest, claims::CredentialDigest(vc));
    out->digest = HexEncode(digest);
    return Status::Ok();
  }

  // Verifies a pushed claim token bound to `ticket` (its nonce) and this server (aud).
  Result<Claims> VerifyClaimToken(std::string_view format, std::string_view token,
                                  const std::string& ticket) {
    if (token.size() > kMaxClaimTokenBytes)
      return Status::InvalidArgument("claim_token_malformed: too large");
    const int64_t now = Now();
    claims::JwtCheckOptions co;
    co.now = now;
    co.max_clock_skew = o_.max_clock_skew;
    co.expected_audience = o_.issuer;
    co.expected_nonce = ticket;
    claims::VerifiedJwt info;
    Claims out;
    const bool vp = format == kClaimTokenVp;
    if (!vp && format != kClaimTokenDidAuth) {
      return Status::InvalidArgument("unsupported_claim_token_format: " + std::string(format));
    }
    MDL_ASSIGN_OR_RETURN(json payload, claims::VerifyJwt(vp ? claims::JwtKind::kPresentation
                                                            : claims::JwtKind::kDidAuth,
                                                         token, *o_.resolver, co, &info));
    // The token is single-use through its nonce (the ticket is consumed); a short life bounds
    // what a stolen one is worth before then.
    if (!info.issued_at || !info.expires)
      return Status::InvalidArgument("claim_token_malformed: iat and exp are required");
    if (*info.expires - *info.issued_at > o_.max_claim_token_age ||
        now - *info.issued_at > o_.max_claim_token_age) {
      return Status::FailedPrecondition("claim_token_too_old: a claim token lives at most " +
                                        std::to_string(o_.max_claim_token_age) + " s");
    }
    out.party.did = info.controller;
    if (auto it = payload.find("purpose_of_use"); it != payload.end()) {
      if (!it->is_string() || !IsPurposeOfUse(it->get<std::string>())) {
        return Status::InvalidArgument(
            "purpose_invalid: purpose_of_use is not a known purpose of use");
      }
      out.party.purpose = it->get<std::string>();
    }
    if (vp) {
      json vcs = json::array();
      if (auto it = payload.find("verifiableCredential"); it != payload.end()) {
        vcs = it->is_array() ? *it : json::array({*it});
      }
      if (vcs.size() > 16)
        return Status::InvalidArgument("claim_token_malformed: too many credentials");
      for (const json& vc : vcs) {
        VerifiedCredential c;
        MDL_RETURN_IF_ERROR(CheckCredentialClaim(vc, out.party.did, now, &c));
        out.party.credentials.push_back(std::move(c));
        out.vcs.push_back(vc);
      }
    }
    return out;
  }

  // The claims a license SD-JWT VC presented by OpenID4VP proves (claims_interaction.cpp): the
  // checks of a pushed license (trusted issuer, status, bound to the DID it names).
  Result<Claims> LicenseClaims(const claims::VerifiedSdJwt& v);

  // Merges newly proven claims into what the ticket chain already knows. The DID cannot
  // change within one chain.
  Status Merge(Claims& have, Claims&& add) {
    if (!have.party.did.empty() && have.party.did != add.party.did) {
      return Status::PermissionDenied(
          "subject_mismatch: the claim token proves a different DID than earlier claims");
    }
    have.party.did = add.party.did;
    if (!add.party.purpose.empty()) have.party.purpose = add.party.purpose;
    for (size_t i = 0; i < add.party.credentials.size(); ++i) {
      const auto& c = add.party.credentials[i];
      const bool dup =
          std::any_of(have.party.credentials.begin(), have.party.credentials.end(),
                      [&](const VerifiedCredential& x) { return x.digest == c.digest; });
      if (dup) continue;
      have.party.credentials.push_back(c);
      have.vcs.push_back(add.vcs[i]);
    }
    return Status::Ok();
  }

  // A PCT's claims, with every credential checked again (a license revoked since is dropped).
  Claims ClaimsFromPct(const json& data) {
    Claims c;
    c.party.did = data.at("did");
    c.party.purpose = data.value("purpose", "");
    for (const json& vc : data.value("vcs", json::array())) {
      VerifiedCredential v;
      if (CheckCredentialClaim(vc, c.party.did, Now(), &v).ok()) {
        c.party.credentials.push_back(std::move(v));
        c.vcs.push_back(vc);
      }
    }
    return c;
  }

  json RequiredClaims() const {
    json formats = {kClaimTokenDidAuth, kClaimTokenVp};
    return json::array({
        {{"name", "did"},
         {"friendly_name", "Proof of control of the requesting party's DID"},
         {"claim_type", kClaimDid},
         {"claim_token_format", formats}},
        {{"name", "license"},
         {"friendly_name", "A medical license credential"},
         {"claim_type", kLicenseCredentialType},
         {"claim_token_format", {kClaimTokenVp}},
         {"issuer", o_.trusted_issuers}},
        {{"name", "purpose_of_use"},
         {"friendly_name", "The purpose of use"},
         {"claim_type", kClaimPurpose},
         {"claim_token_format", formats}},
    });
  }

  // Consumes a live owner/device sign-in challenge (single use). False if unknown, used or
  // expired. Runs inside a transaction.
  Result<bool> ConsumeChallenge(const std::string& nonce) {
    return tokens_->ConsumeChallenge(nonce, Now());
  }

  // Sign-in by challenge (the owner's DID, a paired device): in one transaction consumes the
  // single-use `nonce` and, if it was live, stores the bearer `session` (kind, client, subject,
  // ttl) and writes `log` (unless null). *reply is the bearer answer, or invalid_grant when the
  // challenge is unknown, used or expired. Call with mu_ held.
  Status OpenChallengedSession(const std::string& nonce, const std::string& session,
                               const std::string& kind, const std::string& client_id,
                               const std::string& subject, int64_t ttl, const json& log,
                               Reply* reply) {
    return Tx([&]() -> Status {
      MDL_ASSIGN_OR_RETURN(bool live, ConsumeChallenge(nonce));
      if (!live) {
        *reply = Error(StatusCode::kUnauthenticated, "invalid_grant",
                       "the challenge is unknown, used or expired");
        return Status::Ok();
      }
      MDL_RETURN_IF_ERROR(InsertToken(session, kind, client_id, subject, json::object(), ttl));
      if (!log.is_null()) MDL_RETURN_IF_ERROR(Log(log));
      *reply = Answer({{"access_token", session}, {"token_type", "Bearer"}, {"expires_in", ttl}});
      return Status::Ok();
    });
  }

  // --- tickets ---

  // Issues a ticket for `rs_client`; `data` carries the requested permissions and, for rotated
  // tickets, the claims gathered so far and the client the chain belongs to.
  Result<std::string> IssueTicket(const std::string& rs_client, const json& data) {
    std::string ticket = NewToken();
    MDL_RETURN_IF_ERROR(tickets_->Put(ticket, rs_client, data, Now(), Now() + o_.ticket_ttl));
    return ticket;
  }

  // Consumes a ticket (single use). not_found: unknown or used; failed_precondition: expired.
  Result<std::pair<std::string, json>> ConsumeTicket(std::string_view ticket) {
    return tickets_->Consume(ticket, Now());
  }

  // --- requests awaiting approval ---

  json RequestSummary(const std::string& id, const RequestingParty& party,
                      const std::string& client_id, const std::vector<GrantedPermission>& perms,
                      const std::vector<std::string>& approvers, int64_t created) {
    json resources = json::array();
    for (const auto& g : perms) {
      auto r = Resource(g.resource_id);
      resources.push_back({{"resource_id", g.resource_id},
                           {"name", r ? r->description.value("name", "") : ""},
                           {"type", r ? r->description.value("type", "") : ""},
                           {"resource_scopes", g.scopes}});
    }
    return {{"id", id},
            {"kind", kRequestConsent},
            {"requesting_party", party.did},
            {"client_id", client_id},
            {"purpose", party.purpose},
            {"permissions", resources},
            {"approvers", approvers},
            {"credentials", PartyToJson(party, json::array())["credentials"]},
            {"created", created}};
  }

  // The approver names a DID resolves to for this container ("owner" for the owner's DID).
  std::vector<std::string> ApproverNames(const std::string& did) const {
    std::vector<std::string> names = {did};
    if (did == o_.owner_did) names.emplace_back(kOwnerApprover);
    return names;
  }

  // Records one approver's decision; settles the request when every approver approved or
  // anyone denied. Runs inside a transaction.
  Reply RecordDecision(const std::string& request_id, const std::vector<std::string>& as,
                       const std::string& decision, const json& evidence) {
    auto row = requests_->Get(request_id);
    if (!row) {
      if (row.error().code() == StatusCode::kNotFound)
        return Error(StatusCode::kNotFound, "not_found", "no such request");
      return Internal(row.error());
    }
    const std::string hash = row->hash;
    json& data = row->data;
    if (row->status != "pending")
      return Error(StatusCode::kAlreadyExists, "already_decided",
                   "the request was already " + row->status);
    const std::vector<std::string> approvers = data["summary"]["approvers"];
    std::string who;
    for (const std::string& a : as) {
      if (Contains(approvers, a)) who = a;
    }
    if (who.empty())
      return Error(StatusCode::kPermissionDenied, "not_an_approver",
                   "this party is not an approver of the request");
    if (data["approvals"].contains(who))
      return Error(StatusCode::kAlreadyExists, "already_decided",
                   "this approver has already decided");
    data["approvals"][who] = {{"decision", decision}, {"at", Now()}, {"evidence", evidence}};
    std::string status = "pending";
    if (decision == "deny") {
      status = "denied";
    } else if (std::all_of(approvers.begin(), approvers.end(),
                           [&](const std::string& a) { return data["approvals"].contains(a); })) {
      status = "approved";
    }
    Status st = requests_->Decide(request_id, data, status, status == "pending" ? 0 : Now());
    if (!st.ok()) return Internal(st);
    Status logged = Log({{"event", "approval"},
                         {"request", request_id},
                         {"request_hash", hash},
                         {"approver", who},
                         {"decision", decision},
                         {"status", status}});
    if (!logged.ok()) return Internal(logged);
    return Answer({{"id", request_id}, {"status", status}, {"approver", who}});
  }
};

// A redirect URI a client may register and be sent back to (authorization_server.cpp).
bool AcceptableRedirectUri(const std::string& uri);

}  // namespace medallion::uma
