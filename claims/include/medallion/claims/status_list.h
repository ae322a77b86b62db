// W3C Bitstring Status List v1.0 (Recommendation, 15 May 2025): the issuer's revocation and
// suspension lists (random index assignment, revoke / suspend / reinstate, the unsigned
// BitstringStatusListCredential and BitstringStatusListEntry objects), and the verifier's
// StatusChecker (fetch through an injected fetcher, proof check through a caller hook, TTL cache
// on the Env clock, bounded decompression).
//
// Only statusSize 1 and the purposes `revocation` and `suspension` are supported (§2.2).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "medallion/core/bytes.h"
#include "medallion/core/env.h"
#include "medallion/core/status.h"

namespace medallion::claims {

// §3.2 step 2 ("minimumNumberOfEntries") and §6.1: a list has at least 131,072 entries (16 KiB).
inline constexpr uint64_t kStatusListMinEntries = 131072;
// The largest list an issuer creates, and the default bound a verifier puts on a decompressed
// list: 16 MiB (2^27 entries). A hostile gzip stream stops here, whatever its ratio.
inline constexpr size_t kStatusListMaxBytes = size_t{16} << 20;

enum class StatusPurpose { kRevocation, kSuspension };
std::string_view StatusPurposeName(StatusPurpose purpose);  // "revocation", "suspension"
// Errors: invalid_argument for any other value (including `refresh` and `message`).
Result<StatusPurpose> ParseStatusPurpose(std::string_view name);

// A list of bits; index 0 is the left-most (most significant) bit of the first byte (§2.2
// `encodedList`, §7.1). Not thread-safe.
class Bitstring {
 public:
  Bitstring() = default;
  // All zero. REQUIRES: bits % 8 == 0.
  explicit Bitstring(uint64_t bits);
  explicit Bitstring(Bytes bytes) : bytes_(std::move(bytes)) {}

  uint64_t size() const { return uint64_t{bytes_.size()} * 8; }
  bool Get(uint64_t index) const;        // REQUIRES: index < size()
  void Set(uint64_t index, bool value);  // REQUIRES: index < size()
  uint64_t Count() const;                // bits set
  const Bytes& bytes() const { return bytes_; }
  bool operator==(const Bitstring& other) const { return bytes_ == other.bytes_; }

 private:
  Bytes bytes_;
};

// §3.3 step 3: GZIP (RFC 1952; zlib deflate, default level) then multibase base64url without
// padding ('u' prefix). Errors: internal (zlib failure).
Result<std::string> EncodeBitstring(const Bitstring& bits);
// §3.4: multibase-decodes and GZIP-decompresses an `encodedList`. Exactly one gzip member with a
// valid CRC and length, nothing after it, and at most `max_bytes` once decompressed. Errors:
// invalid_argument (not 'u' multibase base64url, not gzip, corrupt, trailing data);
// resource_exhausted (larger than max_bytes).
Result<Bitstring> DecodeBitstring(std::string_view encoded_list,
                                  size_t max_bytes = kStatusListMaxBytes);

// ---------------------------------------------------------------------------------------------
// Issuer side.
// ---------------------------------------------------------------------------------------------

struct StatusListConfig {
  // The `statusListCredential` URLs (and the `id`s of the two BitstringStatusListCredentials).
  std::string revocation_list_url;
  std::string suspension_list_url;
  // Entries per list: at least kStatusListMinEntries, a multiple of 8, at most
  // kStatusListMaxBytes * 8.
  uint64_t length = kStatusListMinEntries;
};

struct StatusListCredentialOptions {
  std::string issuer;       // the DID that will secure the credential (REQUIRED)
  std::string valid_from;   // XML dateTimeStamp; "" = omit
  std::string valid_until;  // "" = omit (§7.2: short validity periods limit replays)
  int64_t ttl_millis = 0;   // credentialSubject.ttl (§2.2, milliseconds); 0 = omit
};

// The state of one index on the issuer's lists.
struct StatusEntryState {
  bool assigned = false;
  bool revoked = false;
  bool suspended = false;
};

// An issuer's pair of lists, one per purpose, sharing one index space: a credential gets one
// index and an entry in each list. Indexes are drawn uniformly at random among the unassigned
// ones (§6 "Privacy Considerations": a sequential index would tell verifiers the issuance order
// and shrink the herd a status bit hides in) and never reused. Persistence is the caller's: store
// Serialize() after every mutation (before handing out a credential that carries a newly assigned
// index) and restore with Deserialize(). Not thread-safe; one writer at a time.
class StatusListIssuer {
 public:
  // Errors: invalid_argument for an empty or equal URL, or a length outside the bounds above.
  static Result<StatusListIssuer> Create(StatusListConfig config);

  // The state as JSON text (each bitstring GZIP-compressed, multibase base64url), for storage.
  std::string Serialize() const;
  // Errors: invalid_argument (not our format); data_loss (inconsistent: wrong lengths, statuses
  // set on unassigned indexes, a count that does not match).
  static Result<StatusListIssuer> Deserialize(std::string_view state);

  // Assigns a fresh index, uniform over the unassigned ones. Errors: resource_exhausted when
  // every index is taken.
  Result<uint64_t> Assign(Rng& rng);

  // §2.1: the BitstringStatusListEntry for `index` on the list of `purpose`:
  // {id: "<list url>#<index>", type, statusPurpose, statusListIndex: "<index>",
  // statusListCredential}. Errors: not_found for an unassigned index.
  Result<nlohmann::json> Entry(uint64_t index, StatusPurpose purpose) const;
  // Both entries, [revocation, suspension], for a credential's `credentialStatus`.
  Result<nlohmann::json> CredentialStatus(uint64_t index) const;

  // Revocation is final (§2.2: "not reversible"); suspension is reversible. Revoking or
  // suspending twice is OK. Errors: not_found (unassigned index); failed_precondition (suspend or
  // reinstate a revoked index).
  Status Revoke(uint64_t index);
  Status Suspend(uint64_t index);
  Status Reinstate(uint64_t index);
  StatusEntryState State(uint64_t index) const;

  // §2.2 / §3.1: the unsigned BitstringStatusListCredential of `purpose` (VC Data Model 2.0
  // context, id = the list URL, credentialSubject {id: "<url>#list", type BitstringStatusList,
  // statusPurpose, encodedList[, ttl]}). The caller secures it (Data Integrity) and publishes it.
  // Errors: invalid_argument (no issuer, a validity time that is not a dateTimeStamp); internal.
  Result<nlohmann::json> StatusListCredential(StatusPurpose purpose,
                                              const StatusListCredentialOptions& options) const;

  const StatusListConfig& config() const { return config_; }
  uint64_t assigned_count() const { return assigned_count_; }
  const Bitstring& bits(StatusPurpose purpose) const {
    return purpose == StatusPurpose::kRevocation ? revoked_ : suspended_;
  }

 private:
  StatusListIssuer() = default;
  const std::string& UrlOf(StatusPurpose purpose) const {
    return purpose == StatusPurpose::kRevocation ? config_.revocation_list_url
                                                 : config_.suspension_list_url;
  }

  StatusListConfig config_;
  Bitstring assigned_;
  Bitstring revoked_;
  Bitstring suspended_;
  uint64_t assigned_count_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Verifier side.
// ---------------------------------------------------------------------------------------------

// The reason codes of StatusChecker failures (§3.5 "Processing Errors", and VC Data Model 2.0
// RANGE_ERROR / MALFORMED_VALUE_ERROR), as the Status message prefix "<reason>: <detail>".
namespace status_reason {
inline constexpr std::string_view kRetrievalError = "status_retrieval_error";
inline constexpr std::string_view kVerificationError = "status_verification_error";
inline constexpr std::string_view kListLengthError = "status_list_length_error";
inline constexpr std::string_view kRangeError = "range_error";
inline constexpr std::string_view kMalformedValue = "malformed_value_error";
}  // namespace status_reason

// Retrieves status list credentials (an HTTP client in the server, a map in tests).
class StatusListFetcher {
 public:
  virtual ~StatusListFetcher() = default;
  // Returns the document at `url` (JSON text of the secured BitstringStatusListCredential).
  // Any error means the list could not be retrieved. Must be thread-safe.
  virtual Result<std::string> Fetch(const std::string& url) = 0;
};

// Verifies every proof of a fetched status list credential and that its issuer is trusted for
// the list (§3.2 step 4; the caller runs Data Integrity). Returns OK or the reason it is not.
using StatusListProofCheck = std::function<Status(const nlohmann::json& status_list_credential)>;

struct StatusCheckerOptions {
  // How long a fetched list is used: its own credentialSubject.ttl capped at max_ttl_millis, or
  // default_ttl_millis without one, and never past its validUntil (§6.3 "Verifier Caching").
  int64_t default_ttl_millis = 5 * 60 * 1000;
  int64_t max_ttl_millis = 24 * 60 * 60 * 1000;
  uint64_t min_entries = kStatusListMinEntries;
  size_t max_decompressed_bytes = kStatusListMaxBytes;
  // Bound on the fetched document (a 16 MiB list of random bits is ~22 MiB of base64url).
  size_t max_document_bytes = size_t{32} << 20;
  // Bound on the cache: beyond it, the list closest to expiry is dropped.
  size_t max_cached_lists = 64;
};

struct EntryStatus {
  StatusPurpose purpose = StatusPurpose::kRevocation;
  uint64_t index = 0;
  bool set = false;  // the status bit: true = revoked / suspended (§3.2 step 13: valid = !set)
  std::string list_url;
  bool from_cache = false;
};

// §3.2 "Validate Algorithm" for single BitstringStatusListEntry objects, with a cache of decoded
// lists keyed by URL. Thread-safe (a mutex around the cache; fetches run outside it).
class StatusChecker {
 public:
  // `fetcher` and `clock` must outlive the checker. REQUIRES: proof_check is set.
  StatusChecker(StatusListFetcher& fetcher, const Clock& clock, StatusListProofCheck proof_check,
                StatusCheckerOptions options = {});

  // Validates `entry` (a BitstringStatusListEntry), fetching and checking its list unless a
  // fresh copy is cached, and returns the entry's status bit. Failures, by reason:
  //  malformed_value_error (invalid_argument): the entry is not a well-formed
  //    BitstringStatusListEntry with purpose revocation/suspension and statusSize 1;
  //  status_retrieval_error (unavailable): the fetcher failed, or the document is too large;
  //  status_verification_error (unauthenticated / failed_precondition / invalid_argument): the
  //  proof
  //    check failed, the document is not a BitstringStatusListCredential for this URL, purpose
  //    or validity period, or its encodedList does not decode (bad base64url or gzip, or larger
  //    than max_decompressed_bytes);
  //  status_list_length_error (failed_precondition): fewer than min_entries entries;
  //  range_error (invalid_argument): the index is beyond the list (§3.2 step 10).
  Result<EntryStatus> Check(const nlohmann::json& entry);

  // Drops the cached copy of one list (after a push notification, say) or of all lists.
  void Invalidate(const std::string& url);
  void Clear();

 private:
  struct CachedList {
    Bitstring bits;
    std::vector<std::string> purposes;
    int64_t expires_at_millis = 0;
  };
  Result<CachedList> FetchList(const std::string& url);

  StatusListFetcher& fetcher_;
  const Clock& clock_;
  StatusListProofCheck proof_check_;
  StatusCheckerOptions options_;
  std::mutex mu_;
  std::map<std::string, CachedList> cache_;
};

}  // namespace medallion::claims
