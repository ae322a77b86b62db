// The container's UMA 2.0 authorization server (Kantara "UMA 2.0 Grant for OAuth 2.0
// Authorization" and "Federated Authorization for UMA 2.0", both 2018-01-07): client
// registration (RFC 7591), protection API tokens (PATs), resource registration, permission
// tickets, the token endpoint (UMA grant with claims pushed as DID-signed tokens and verifiable
// presentations, PCTs, RPT upgrade), introspection (RFC 7662 with `permissions`), revocation
// (RFC 7009), the owner's private policies, approvals of pending requests, and the hash-chained
// accounting of disclosures with consent receipts and log batches anchored on the ledger.
//
// Every method is transport-neutral: it takes what the HTTP request carried (form fields,
// bearer token, client credentials, JSON body) and returns the protocol's answer (a Status with
// the OAuth/UMA error code as its reason, the JSON body) — server/uma_http.cpp only moves bytes.
// Tokens are random 256-bit strings; only their SHA-256 is stored. Thread-safe (one SQLite
// connection, serialized).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "medallion/claims/pharmacy.h"
#include "medallion/claims/signer.h"
#include "medallion/core/env.h"
#include "medallion/core/secret.h"
#include "medallion/core/status.h"
#include "medallion/did/resolver.h"
#include "medallion/uma/policy.h"

namespace medallion::ledger {
class ValidatorRegistry;
}

namespace medallion::uma {

// UMA Grant §3.3.1.
inline constexpr char kUmaTicketGrant[] = "urn:ietf:params:oauth:grant-type:uma-ticket";
// The claim token formats this server accepts (docs/uma.md §"Claim tokens").
inline constexpr char kClaimTokenDidAuth[] = "urn:medallion:uma:claim-token-format:did-auth-jwt";
// The SD-JWT VC type of the society's license (docs/openid4vc.md), asked for by the claims
// interaction's DCQL query, and the paths the container's response endpoint has.
inline constexpr char kLicenseVct[] = "urn:medallion:vct:MedicalLicenseCredential:1";
inline constexpr char kClaimsInteractionPath[] = "/uma/claims_interaction";
inline constexpr char kClaimsResponsePath[] = "/uma/claims_interaction/response";
inline constexpr char kClaimTokenVp[] = "urn:medallion:uma:claim-token-format:vp-jwt";
// UMA FedAuthz §1.3.1: the scope of a protection API access token.
inline constexpr char kProtectionScope[] = "uma_protection";
// The credential type a physician's license has (claims/credentials.h).
inline constexpr char kLicenseCredentialType[] = "MedicalLicenseCredential";

// A protocol answer, free of any transport's numbers. On success, `success` says what kind
// (a plain answer, a created object, or nothing to return) and `body` is the answer. On failure
// `status` is the failure: its code the generic class (invalid_argument, unauthenticated,
// permission_denied, ...) and its reason the OAuth 2.0 / UMA error code (invalid_grant,
// need_info, request_submitted, invalid_token, ...; RFC 6749 §5.2, UMA Grant §3.3.6), and `body`
// is the protocol's error object {"error", "error_description", ...} with its extra members
// (a ticket, required_claims, interval). `headers` carries e.g. WWW-Authenticate. The HTTP
// binding maps `status` through the one Status → HTTP table (server/http.h).
struct Reply {
  enum class Success : uint8_t { kOk, kCreated, kEmpty };
  Status status;  // OK, or the failure with its OAuth/UMA error code as reason()
  Success success = Success::kOk;
  nlohmann::json body = nlohmann::json::object();
  std::vector<std::pair<std::string, std::string>> headers;
  bool ok() const { return status.ok(); }
};

// Client authentication at the token, introspection and revocation endpoints (RFC 6749 §2.3.1:
// client_secret_basic or client_secret_post), as the transport extracted it.
struct ClientCredentials {
  std::string client_id;
  std::string client_secret;
  bool present() const { return !client_id.empty(); }
};

struct AuthorizationServerOptions {
  std::string issuer;     // the server's base URL (no trailing '/'): `as_uri`, and the audience of
                          // claim tokens
  std::string owner_did;  // the container's owner: signs in, approves, controls the receipts
  std::string realm = "medallion";
  std::vector<std::string> trusted_issuers;   // medical societies whose licenses count (DIDs)
  const did::Resolver* resolver = nullptr;    // REQUIRES: set; outlives the server
  claims::LicenseStatusCheck license_status;  // REQUIRES: set (OK = active)
  // Receipts on the ledger (optional): consent grants/revocations and disclosure-log batches.
  // With a ledger, `owner_signer` (the owner's assertion key) signs the consent entries and
  // `pseudonym_secret` (32 bytes) derives the per-relationship pseudonyms they name.
  claims::LedgerPort* ledger = nullptr;
  claims::Signer owner_signer;
  const SecretBytes* pseudonym_secret = nullptr;
  // Lifetimes in seconds.
  int64_t ticket_ttl = 300;
  int64_t rpt_ttl = 3600;
  int64_t pct_ttl = 30 * 86400;
  int64_t pat_ttl = 86400;
  int64_t session_ttl = 3600;
  int64_t challenge_ttl = 300;
  int64_t max_claim_token_age = 600;   // a claim token's exp - iat, and how old its iat may be
  int64_t approval_poll_interval = 5;  // `interval` of request_submitted (UMA Grant §3.3.6)
  int64_t max_clock_skew = 120;
  // WAL reader connections kept open between reads (introspection, resource authorization); a
  // host of many containers keeps fewer to bound its open files.
  size_t max_idle_readers = 8;
  // On a PostgreSQL consent database (Open's `path` a postgresql:// URL): the container whose
  // rows this server reads and writes (row-level security, docs/scale-out.md); empty: the
  // owner's DID. Not used on SQLite, where the file is the container's own.
  std::string container;
  size_t log_batch =
      64;  // disclosure-log entries per ledger anchor (AnchorDisclosures anchors what is pending)
  // Devices: how long a pairing offer lives, and wrong proofs before it is burned.
  int64_t pairing_ttl = 300;
  int64_t max_pairing_attempts = 5;
  // Called when a device is paired (add = true) or revoked: publishes or withdraws the device
  // key as a verification method of the owner's DID (a did:mdl update). Pairing fails, and
  // nothing is stored, if it fails. Unset: the device is only the container's approver.
  std::function<Status(ByteView device_public_key, bool add)> device_key_hook;
  // The owner's relationships (ids, docs/relationships.md) whose provider pseudonym is the
  // Ed25519 key of `did` (a did:key), active and accepted by her; asked during a grant only
  // when an active policy names a relationship (RequestingParty::relationships). Unset: no
  // requesting party matches a relationship subject. A failure counts as no relationship.
  // Called with the server's lock held: it must not call back into the server.
  std::function<Result<std::vector<std::string>>(const std::string& did)> relationships_of;
  // Interactive claims gathering by OpenID4VP (UMA Grant §3.3.2-§3.3.3, docs/uma.md §"Claims
  // interaction"): the physician presents her license SD-JWT VC (dc+sd-jwt, vct kLicenseVct)
  // from her wallet instead of her client pushing a claim token. On only when
  // `sd_jwt_license_status` is set (the status of a presented license, its processed payload
  // with the disclosed claims: OK = active; the SD-JWT VC carries no status claim of its own)
  // and the verifier has a database: `oid4vp_db`, or, when empty, "<path>-oid4vp.db" beside a
  // SQLite consent database, or, on PostgreSQL, the consent database itself (the same URL and
  // so the same PgPool when one lives; the requests as this container's rows, under row-level
  // security). Off only for an in-memory or "file:" SQLite database without `oid4vp_db`.
  std::function<Status(const nlohmann::json& sd_jwt_payload)> sd_jwt_license_status;
  std::string oid4vp_db;
  int64_t claims_interaction_ttl = 600;  // the presentation request and its gathering record
};

// The kinds of request the owner's phone approves (docs/mobile-bridge.md §"Approvals").
inline constexpr char kRequestConsent[] = "consent";
inline constexpr char kRequestPrescriptionCosign[] = "prescription_cosign";
inline constexpr char kRequestFill[] = "fill";
inline constexpr char kRequestRecovery[] = "recovery";
inline constexpr char kRequestBrowserSignIn[] = "browser_signin";  // "Sign in from a browser?"

// What the resource server learns when an RPT grants a request (for its release log entry).
struct Access {
  std::string requesting_party;  // DID
  std::string client_id;
  std::string token_hash;  // hex SHA-256 of the RPT (never the token)
  bool owner = false;      // the owner's own session
};

class AuthorizationServer {
 public:
  // Opens or creates the consent database at `path` (WAL, synchronous=FULL, migrations), or,
  // when `path` is a postgresql:// URL, this container's rows of a database shared by a host's
  // containers (options.container; migrations applied at start there too).
  // Errors: invalid_argument for unusable options; the database's errors.
  static Result<std::unique_ptr<AuthorizationServer>> Open(const std::string& path,
                                                           AuthorizationServerOptions options,
                                                           Env env);
  ~AuthorizationServer();
  AuthorizationServer(const AuthorizationServer&) = delete;
  AuthorizationServer& operator=(const AuthorizationServer&) = delete;

  const AuthorizationServerOptions& options() const { return options_; }

  // UMA Grant §2 / FedAuthz §2: the /.well-known/uma2-configuration document (RFC 8414
  // metadata plus uma_profiles_supported, claims formats, permission_endpoint,
  // resource_registration_endpoint), paths relative to `issuer`.
  nlohmann::json Discovery() const;

  // --- Clients (RFC 7591 §3.1-3.2) ---
  // Registers a client from its metadata. A resource server (metadata `scope` containing
  // uma_protection) needs the owner's session as the initial access token (RFC 7591 §3);
  // requesting parties' clients register openly. token_endpoint_auth_method must be
  // client_secret_basic (default) or client_secret_post; grant_types are checked against what
  // the client may use. Created with client_id, client_secret (shown once), the metadata;
  // invalid_client_metadata / invalid_redirect_uri (invalid_argument); invalid_token
  // (unauthenticated) for a bad initial token.
  Reply RegisterClient(const nlohmann::json& metadata, std::string_view initial_access_token);
  // In-process registration of a resource server the container itself runs (no HTTP).
  Result<std::pair<std::string, SecretString>> RegisterResourceServer(const std::string& name);
  // A PAT for the container's own resource server called `name` (created on first use, the
  // same client across restarts so its registered resources stay its own). In-process only:
  // this is the trusted path the co-located FHIR server takes instead of client credentials.
  Result<std::string> InternalPat(const std::string& name);

  // --- Token endpoint (RFC 6749 §3.2) ---
  // grant_type=client_credentials with scope uma_protection: a PAT for a resource-server
  // client (RFC 6749 §4.4, FedAuthz §1.3.1). grant_type=urn:ietf:params:oauth:grant-type:
  // uma-ticket: UMA Grant §3.3.1-§3.3.6 (ticket, claim_token + claim_token_format, pct, rpt,
  // scope). `form` holds each parameter once (the transport refuses repeats).
  Reply Token(const std::map<std::string, std::string>& form, const ClientCredentials& client);

  // --- Protection API (FedAuthz §3-§5), each with the PAT as bearer token ---
  Reply CreateResource(std::string_view pat, const nlohmann::json& description);
  Reply ReadResource(std::string_view pat, std::string_view id);
  Reply UpdateResource(std::string_view pat, std::string_view id,
                       const nlohmann::json& description);
  Reply DeleteResource(std::string_view pat, std::string_view id);
  Reply ListResources(std::string_view pat);
  // FedAuthz §4: a permission ticket for one permission object or an array of them; every
  // resource must be registered by this PAT's resource server, every scope registered on it.
  Reply RequestPermission(std::string_view pat, const nlohmann::json& body);
  // FedAuthz §5 / RFC 7662 §2: introspection of an RPT by the resource server (PAT).
  // Permissions are limited to the caller's resources; anything else is {"active": false}.
  Reply Introspect(std::string_view pat, std::string_view token);
  // RFC 7009 §2: the client that holds a token (RPT or PCT) revokes it; OK also for unknown
  // tokens (§2.2).
  Reply Revoke(const ClientCredentials& client, std::string_view token);

  // The resource server's check in one call (what a co-located resource server does instead
  // of an introspection round trip): whether `bearer` (an RPT, or the owner's session) grants
  // `scope` on `resource_id`. On refusal the reply is UMA Grant §3.2's "unauthorized"
  // (unauthenticated) with a fresh permission ticket in WWW-Authenticate (or insufficient_scope,
  // permission_denied, if no ticket can be issued).
  Result<Access> Authorize(std::string_view pat, std::string_view bearer,
                           const std::string& resource_id, const std::string& scope,
                           Reply* refusal);
  // Records a release in the accounting of disclosures (resource server → AS): what was
  // returned to whom. `what` names the records (e.g. "MedicationRequest/abc").
  Status RecordRelease(const Access& access, const std::string& resource_id,
                       const std::string& scope, const std::vector<std::string>& what);

  // --- The owner (docs/uma.md §"Owner API") ---
  // A sign-in challenge: {"nonce", "audience", "expires"}.
  Reply OwnerChallenge();
  // Exchanges a did-auth+jwt of the owner's DID (aud = issuer, nonce = an unused challenge) for
  // a session token: {"access_token", "token_type": "Bearer", "expires_in"}.
  Reply OwnerSignIn(std::string_view did_auth_jwt);
  // OK if `session` is a live owner session; unauthenticated otherwise.
  Status CheckOwner(std::string_view session);
  // An owner session for a sign-in the container checked itself — a passkey assertion or her
  // phone's approval, in the browser (roles/src/web_http.cpp) — logged as "owner.signin" with
  // `method`. `ttl_seconds` in (0, session_ttl]; 0 means session_ttl.
  Result<std::string> OpenOwnerSession(std::string_view method, int64_t ttl_seconds = 0);
  // Ends one owner session (sign out); OK if it was not live.
  Status EndOwnerSession(std::string_view session);
  // Ends every owner session, CLI and browser alike (sign out everywhere). Device sessions of
  // paired phones stay.
  Status EndOwnerSessions();

  Reply AddPolicy(std::string_view session, const nlohmann::json& policy);
  Reply ListPolicies(std::string_view session);
  Reply GetPolicy(std::string_view session, std::string_view id);
  // Revokes a policy: its RPTs (and PCT-backed grants) stop working; a revoke receipt is
  // anchored when a ledger is configured.
  Reply DeletePolicy(std::string_view session, std::string_view id);
  Reply ListRequests(std::string_view session, std::string_view status_filter);
  // The owner's decision on a pending request ("approve" / "deny").
  Reply DecideAsOwner(std::string_view session, std::string_view request_id,
                      std::string_view decision);
  // A decision signed by an approver (the owner's phone, a co-approving provider): a
  // did-auth+jwt with aud = issuer, nonce = the request's hash, and the claims
  // {"request": id, "decision": "approve"|"deny"}. The signed token is kept as the receipt.
  Reply DecideSigned(std::string_view request_id, std::string_view decision_token);
  // The accounting of disclosures: entries after `after_seq`, at most `limit`, and the chain
  // head; `export` form is the whole log with the ledger anchors, verifiable offline.
  Reply ReadDisclosures(std::string_view session, uint64_t after_seq, size_t limit);
  Reply ExportDisclosures(std::string_view session);
  // Anchors the log's head on the ledger if entries are pending since the last anchor.
  Reply AnchorDisclosures(std::string_view session);
  // The consent receipts (grants and revocations) with their ledger indexes.
  Reply ListReceipts(std::string_view session);

  // --- The owner's devices: pairing and approvals on the phone (docs/mobile-bridge.md) ---
  // A one-time pairing offer: {"pairing_id", "secret", "expires", "uri"}; the URI is what the
  // container shows as a QR code. `ttl_seconds` in (0, pairing_ttl] shortens its life (0: the
  // default pairing_ttl).
  Reply CreatePairing(std::string_view session, int64_t ttl_seconds = 0);
  // The phone's half: {"pairing_id", "device_key" (Multikey), "device_name", "mac", "sig"},
  // where mac = HMAC-SHA-256(secret, T) and sig = Ed25519(device key, T) over the transcript
  // T = JCS({"type": "medallion-pairing/1", "container", "pairing_id", "device_key",
  // "device_name"}). Unknown, used, expired or burned offers and wrong proofs are refused; a
  // wrong proof counts against the offer. Created {"device_id", "owner", "container"}.
  Reply CompletePairing(const nlohmann::json& body);
  Reply ListDevices(std::string_view session);
  // Revokes a device: its sessions end, its key leaves the owner's DID (through the hook).
  Reply RevokeDevice(std::string_view session, std::string_view device_id);
  // A device session: {"device_id", "nonce" (from OwnerChallenge), "sig"} with sig over
  // JCS({"type": "medallion-device-session/1", "container", "device_id", "nonce"}).
  Reply DeviceSignIn(const nlohmann::json& body);
  // Pending requests the owner must decide, with their summaries, hashes and what to sign.
  Reply DeviceRequests(std::string_view device_session);
  // The phone's decision: {"decision", "sig", "result"?}, sig over JCS({"type":
  // "medallion-decision/1", "container", "request", "hash", "decision"}); for a request whose
  // payload asks for a signature, `result` is the signed document (a Data Integrity proof by
  // the device's verification method, or a did-auth+jwt) and is verified before it is kept.
  Reply DeviceDecide(std::string_view device_session, std::string_view request_id,
                     const nlohmann::json& body);
  // Queues a request for the owner's approval (another part of the container: a prescription
  // to co-sign, a fill to authorize, a recovery). `summary` is shown to the owner; `payload`
  // may carry {"sign": {"format": "data_integrity" | "did-auth+jwt", "verification_method",
  // "document" | "claims"}}. Returns the request id.
  Result<std::string> QueueApproval(const std::string& kind, const nlohmann::json& summary,
                                    const nlohmann::json& payload);
  // A request's state: {"id", "kind", "status", "hash", "summary", "approvals", "result"?}.
  Result<nlohmann::json> GetRequest(std::string_view request_id);

  // --- Credentials and notifications ---
  // The container's inbox (anyone may deliver): a credential whose subject is the owner and
  // that carries a valid proof by its issuer is kept (a prescription written for her, a
  // dispense receipt). Created {"id" (its digest)}; invalid_credential otherwise. A
  // prescription may come with its pharmacy copy as {"credential", "pharmacy_copy": {"sd_jwt",
  // "cosignature"?}}: the SD-JWT VC must verify (its issuer's signature and disclosures), be
  // that prescription's (same iss and jti) and name the owner as its subject; it is kept with
  // the prescription, so that she presents only what dispensing needs. A prescription may also
  // name where its prescriber takes notices about it ("notices": an http(s) URL, kept with it):
  // her container sends a refusal there only when she asks (roles/web_rx.h).
  Reply DeliverCredential(const nlohmann::json& credential);
  // The owner keeps any credential she holds or issued (after the same proof check), or an
  // SD-JWT VC as {"format": "dc+sd-jwt", "credential": "<SD-JWT>"} (the issuer's signature and
  // the disclosures verified; listed with "format": "dc+sd-jwt" and the string as "credential").
  Reply StoreCredential(std::string_view session, const nlohmann::json& credential);
  Reply ListCredentials(std::string_view session);
  // The owner's notifications: log events after `after_seq` that she wants to hear about — a
  // request awaiting approval, a new disclosure, a new credential (prescription), a new
  // device — as {"events": [{"seq", "type", "detail"}], "next"}. Waits up to `wait_seconds`
  // (≤ 30) for one to happen (long polling).
  Reply Events(std::string_view session, uint64_t after_seq, int wait_seconds);

  // --- Interactive claims gathering: UMA Grant §3.3.2-§3.3.3 by OpenID4VP 1.0 ---
  // True when the claims interaction endpoint is on (AuthorizationServerOptions).
  bool ClaimsInteractionEnabled() const;
  // GET claims_interaction_endpoint (UMA Grant §3.3.2): client_id, ticket, claims_redirect_uri,
  // state, and (Medallion) purpose_of_use. client_id must be a registered client and
  // claims_redirect_uri one of its registered redirect_uris, else the refusal is answered as
  // JSON and never redirected (no open redirector). Then the ticket is consumed (single use;
  // a need_info ticket belongs to the client it was rotated for) and the answer is an
  // OpenID4VP Authorization Request (§5, DCQL for the license, direct_post to the response
  // endpoint): {"redirect_to": "openid4vp://?...", "authorization_request": {params}}. A bad
  // ticket after a good redirect URI: OK with {"redirect_to": claims_redirect_uri?error=...}.
  Reply ClaimsInteraction(const std::map<std::string, std::string>& query);
  // POST response endpoint (OpenID4VP §8.2 direct_post): the Verifier's checks, then the
  // license checks (trusted issuer, license status, the cnf key a key of the sub DID), then the
  // gathered claims are kept in a new ticket of the chain. 200 {"redirect_uri":
  // claims_redirect_uri?authorization_state=claims_submitted&ticket=...&state=...} (UMA Grant
  // §3.3.3). Anyone who saw the request link can post here, so a post ends the gathering only
  // when a verified, key-bound license of a trusted issuer answers: its refusal (claims
  // withheld, license status, key not of its DID) is 400 invalid_request with "redirect_uri"
  // carrying access_denied back to the client. Anything else leaves the request open and
  // spends nothing: a malformed or unverifiable post, another issuer's credential (400), a DID
  // that did not resolve (503), the wallet's §8.5 error (200 {}, noted with the request).
  Reply ClaimsPresentation(const std::map<std::string, std::string>& form);

  // Anchors pending disclosure entries once `log_batch` have accumulated (called after
  // writes; also usable from a timer). Errors only if the ledger refuses.
  Status MaybeAnchor(bool force);

 private:
  class Impl;
  friend class GrantFlow;  // the UMA grant's steps (grant.cpp)
  class ReadView;          // committed state for the hot read paths (authorization_server.cpp)
  AuthorizationServer(std::unique_ptr<Impl> impl, AuthorizationServerOptions options);
  // The UMA grant (takes the lock after the claim checks); the others run with it held.
  Reply UmaGrant(const std::map<std::string, std::string>& form, const std::string& client_id);
  Reply RequestPermissionLocked(const std::string& resource_server, const nlohmann::json& body);
  Status MaybeAnchorLocked(bool force);
  Reply StoreSdJwtVc(const nlohmann::json& body);  // {"format": "dc+sd-jwt", "credential"}
  Reply StoreCredentialFrom(const std::string& source, const nlohmann::json& credential,
                            const nlohmann::json& pharmacy_copy, const std::string& notices);
  Status CheckPharmacyCopy(const nlohmann::json& prescription, const nlohmann::json& copy);
  Result<nlohmann::json> AnchorConsent(const Policy& policy, const std::string& action,
                                       const std::string& receipt_hash);
  std::unique_ptr<Impl> impl_;
  AuthorizationServerOptions options_;
};

// Checks an exported disclosure log (ExportDisclosures' body) offline: every entry's hash,
// the chain, and that each anchor's hash is the chain head at its sequence number. Returns the
// number of entries. Errors: data_loss naming the first bad entry.
Result<uint64_t> VerifyDisclosureExport(const nlohmann::json& exported);

// The pseudonymous signers of the container's ledger records (docs/uma.md §Receipts): each is
// an Ed25519 key whose seed is HMAC(pseudonym secret, label); the owner re-derives it to prove a
// record hers. Labels: a consent grant and its revocation share the grant receipt's hash; each
// disclosure-log anchor has its own sequence number. The node checks the signatures with
// claims::RegisterAuthorValidators.
std::string ConsentSignerLabel(std::string_view grant_receipt_hash);
std::string DisclosureAnchorLabel(int64_t seq);
// What the owner signs with her DID's assertion key to bind a pseudonymous signer to herself
// (ListReceipts' "signer_proof"): "medallion ledger signer binding\nsigner <key>\nreceipt
// <hash>\n".
std::string SignerBindingMessage(std::string_view signer, std::string_view receipt_hash);
Result<std::string> PseudonymousPublicKey(const SecretBytes& secret, const std::string& label);

}  // namespace medallion::uma
