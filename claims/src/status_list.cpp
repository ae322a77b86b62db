// W3C Bitstring Status List v1.0: bitstrings, GZIP + multibase encoding, the issuer's lists and
// the verifier's cached status checks.
#include "medallion/claims/status_list.h"

#include <zlib.h>

#include <algorithm>
#include <bit>
#include <nlohmann/json.hpp>

#include "medallion/claims/data_integrity.h"
#include "medallion/core/encoding.h"
#include "medallion/core/jcs.h"

namespace medallion::claims {
namespace {

using nlohmann::json;
namespace rc = status_reason;

constexpr std::string_view kStateFormat = "medallion-bitstring-status-list/1";

Status Fail(StatusCode code, std::string_view why, std::string_view detail) {
  return Status(code, std::string(why) + ": " + std::string(detail), std::string(why));
}

// A string member, or "" when absent or not a string.
std::string StringMember(const json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// VC Data Model 2.0 §4.5: `type` is a string or an array of strings.
bool HasType(const json& object, std::string_view type) {
  auto it = object.find("type");
  if (it == object.end()) return false;
  if (it->is_string()) return it->get_ref<const std::string&>() == type;
  if (it->is_array()) {
    return std::any_of(it->begin(), it->end(), [&](const json& t) {
      return t.is_string() && t.get_ref<const std::string&>() == type;
    });
  }
  return false;
}

// §2.1 statusListIndex: "an arbitrary size integer greater than or equal to 0, expressed as a
// string in base 10" — canonical digits, bounded to what a list of kStatusListMaxBytes can hold.
Result<uint64_t> ParseIndex(const json& value) {
  if (!value.is_string()) return Status::InvalidArgument("statusListIndex is not a string");
  const auto& s = value.get_ref<const std::string&>();
  if (s.empty() || s.size() > 12 || (s.size() > 1 && s[0] == '0') ||
      !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return Status::InvalidArgument("statusListIndex is not a canonical base-10 integer");
  return static_cast<uint64_t>(std::stoull(s));
}

}  // namespace

std::string_view StatusPurposeName(StatusPurpose purpose) {
  return purpose == StatusPurpose::kRevocation ? "revocation" : "suspension";
}

Result<StatusPurpose> ParseStatusPurpose(std::string_view name) {
  if (name == "revocation") return StatusPurpose::kRevocation;
  if (name == "suspension") return StatusPurpose::kSuspension;
  return Status::InvalidArgument("unsupported statusPurpose \"" + std::string(name.substr(0, 32)) +
                                 "\"");
}

// ---------------------------------------------------------------------------------------------
// Bitstring.
// ---------------------------------------------------------------------------------------------

Bitstring::Bitstring(uint64_t bits) {
  MDL_CHECK(bits % 8 == 0);
  bytes_.assign(bits / 8, 0);
}

bool Bitstring::Get(uint64_t index) const {
  MDL_CHECK(index < size());
  return (bytes_[index / 8] >> (7 - index % 8)) & 1;
}

void Bitstring::Set(uint64_t index, bool value) {
  MDL_CHECK(index < size());
  const uint8_t mask = static_cast<uint8_t>(0x80u >> (index % 8));
  if (value)
    bytes_[index / 8] |= mask;
  else
    bytes_[index / 8] &= static_cast<uint8_t>(~mask);
}

uint64_t Bitstring::Count() const {
  uint64_t n = 0;
  for (uint8_t b : bytes_) n += static_cast<uint64_t>(std::popcount(b));
  return n;
}

Result<std::string> EncodeBitstring(const Bitstring& bits) {
  // windowBits 15 + 16: a gzip wrapper (RFC 1952) with zlib's default header (no name, mtime 0,
  // OS 3) — byte for byte what Node's zlib.gzipSync produces at the default level.
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return Status::Internal("deflateInit2 failed");
  const Bytes& in = bits.bytes();
  Bytes out(deflateBound(&z, static_cast<uLong>(in.size())));
  z.next_in = const_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  const size_t produced = z.total_out;
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return Status::Internal("deflate did not finish");
  out.resize(produced);
  // §3.3 step 3: multibase base64url, no padding.
  return MultibaseEncode(Multibase::kBase64Url, out);
}

Result<Bitstring> DecodeBitstring(std::string_view encoded_list, size_t max_bytes) {
  if (encoded_list.empty() || encoded_list[0] != 'u')
    return Status::InvalidArgument("encodedList is not multibase base64url ('u')");
  auto compressed = MultibaseDecode(encoded_list);
  if (!compressed) return Status::InvalidArgument("encodedList: " + compressed.error().message());
  // §3.4: GZIP only (windowBits 15 + 16; not the auto-detecting +32, which would take zlib too).
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) return Status::Internal("inflateInit2 failed");
  z.next_in = compressed->data();
  z.avail_in = static_cast<uInt>(compressed->size());
  Bytes out;
  constexpr size_t kChunk = 64 * 1024;
  int rc = Z_OK;
  for (;;) {
    // Room for one byte beyond the bound, so that "exactly max_bytes" and "more" differ.
    const size_t used = z.total_out;
    if (used > max_bytes) break;
    out.resize(std::min(used + kChunk, max_bytes + 1));
    z.next_out = out.data() + used;
    z.avail_out = static_cast<uInt>(out.size() - used);
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK)
      break;  // Z_STREAM_END, or Z_DATA_ERROR / Z_NEED_DICT / Z_MEM_ERROR / Z_BUF_ERROR
    if (z.avail_out != 0 && z.avail_in == 0) {
      rc = Z_BUF_ERROR;  // input exhausted before the end of the stream: truncated
      break;
    }
  }
  const size_t produced = z.total_out;
  const uInt trailing = z.avail_in;
  inflateEnd(&z);
  if (produced > max_bytes)
    return Status::ResourceExhausted("encodedList decompresses to more than " +
                                     std::to_string(max_bytes) + " bytes");
  if (rc != Z_STREAM_END)
    return Status::InvalidArgument("encodedList is not a complete, valid gzip stream");
  if (trailing != 0) return Status::InvalidArgument("encodedList has data after the gzip member");
  out.resize(produced);
  return Bitstring(std::move(out));
}

// ---------------------------------------------------------------------------------------------
// StatusListIssuer.
// ---------------------------------------------------------------------------------------------

namespace {

Status CheckConfig(const StatusListConfig& c) {
  if (c.revocation_list_url.empty() || c.suspension_list_url.empty())
    return Status::InvalidArgument("status list URLs must not be empty");
  if (c.revocation_list_url == c.suspension_list_url)
    return Status::InvalidArgument("the revocation and suspension lists need different URLs");
  if (c.length < kStatusListMinEntries || c.length % 8 != 0 ||
      c.length > uint64_t{kStatusListMaxBytes} * 8)
    return Status::InvalidArgument("status list length must be a multiple of 8 in [131072, 2^27]");
  return Status::Ok();
}

}  // namespace

Result<StatusListIssuer> StatusListIssuer::Create(StatusListConfig config) {
  MDL_RETURN_IF_ERROR(CheckConfig(config));
  StatusListIssuer out;
  out.assigned_ = Bitstring(config.length);
  out.revoked_ = Bitstring(config.length);
  out.suspended_ = Bitstring(config.length);
  out.config_ = std::move(config);
  return out;
}

std::string StatusListIssuer::Serialize() const {
  // Encoding cannot fail short of zlib running out of memory, which is not recoverable here.
  auto enc = [](const Bitstring& b) {
    auto e = EncodeBitstring(b);
    if (!e) Panic("status list state: " + e.error().ToString());
    return *e;
  };
  json state = {{"format", kStateFormat},
                {"revocation_list_url", config_.revocation_list_url},
                {"suspension_list_url", config_.suspension_list_url},
                {"length", config_.length},
                {"assigned_count", assigned_count_},
                {"assigned", enc(assigned_)},
                {"revoked", enc(revoked_)},
                {"suspended", enc(suspended_)}};
  return state.dump();
}

Result<StatusListIssuer> StatusListIssuer::Deserialize(std::string_view text) {
  auto parsed = jcs::ParseStrict(text);
  if (!parsed || !parsed->is_object() || StringMember(*parsed, "format") != kStateFormat)
    return Status::InvalidArgument("not a serialized status list state");
  const json& s = *parsed;
  StatusListConfig config;
  config.revocation_list_url = StringMember(s, "revocation_list_url");
  config.suspension_list_url = StringMember(s, "suspension_list_url");
  if (!s.contains("length") || !s["length"].is_number_unsigned() || !s.contains("assigned_count") ||
      !s["assigned_count"].is_number_unsigned())
    return Status::DataLoss("status list state: bad length or count");
  config.length = s["length"].get<uint64_t>();
  if (auto st = CheckConfig(config); !st.ok())
    return Status::DataLoss("status list state: " + st.message());
  StatusListIssuer out;
  out.config_ = config;
  auto dec = [&](const char* name, Bitstring* into) -> Status {
    auto b = DecodeBitstring(StringMember(s, name), config.length / 8);
    if (!b || b->size() != config.length)
      return Status::DataLoss(std::string("status list state: bad ") + name + " list");
    *into = std::move(*b);
    return Status::Ok();
  };
  MDL_RETURN_IF_ERROR(dec("assigned", &out.assigned_));
  MDL_RETURN_IF_ERROR(dec("revoked", &out.revoked_));
  MDL_RETURN_IF_ERROR(dec("suspended", &out.suspended_));
  out.assigned_count_ = out.assigned_.Count();
  if (out.assigned_count_ != s["assigned_count"].get<uint64_t>())
    return Status::DataLoss("status list state: assigned count does not match the list");
  const Bytes& a = out.assigned_.bytes();
  for (size_t i = 0; i < a.size(); ++i) {
    if ((out.revoked_.bytes()[i] | out.suspended_.bytes()[i]) & ~a[i])
      return Status::DataLoss("status list state: a status is set on an unassigned index");
  }
  return out;
}

Result<uint64_t> StatusListIssuer::Assign(Rng& rng) {
  const uint64_t free = config_.length - assigned_count_;
  if (free == 0) return Status::ResourceExhausted("every index of the status list is assigned");
  // The r-th unassigned index for r uniform in [0, free): uniform over the free indexes, with no
  // retry loop that slows down as the list fills. length <= 2^27, so free fits Uniform().
  uint64_t r = rng.Uniform(static_cast<uint32_t>(free));
  const Bytes& bytes = assigned_.bytes();
  for (size_t i = 0; i < bytes.size(); ++i) {
    const uint64_t zeros = 8 - static_cast<uint64_t>(std::popcount(bytes[i]));
    if (r >= zeros) {
      r -= zeros;
      continue;
    }
    for (uint64_t bit = 0; bit < 8; ++bit) {
      const uint64_t index = uint64_t{i} * 8 + bit;
      if (assigned_.Get(index)) continue;
      if (r-- == 0) {
        assigned_.Set(index, true);
        ++assigned_count_;
        return index;
      }
    }
  }
  Panic("status list: assigned count out of step with the bitmap");
}

Result<json> StatusListIssuer::Entry(uint64_t index, StatusPurpose purpose) const {
  if (!State(index).assigned)
    return Status::NotFound("status list index " + std::to_string(index) + " is not assigned");
  const std::string& url = UrlOf(purpose);
  // §2.1 BitstringStatusListEntry.
  return json{{"id", url + "#" + std::to_string(index)},
              {"type", "BitstringStatusListEntry"},
              {"statusPurpose", StatusPurposeName(purpose)},
              {"statusListIndex", std::to_string(index)},
              {"statusListCredential", url}};
}

Result<json> StatusListIssuer::CredentialStatus(uint64_t index) const {
  MDL_ASSIGN_OR_RETURN(json revocation, Entry(index, StatusPurpose::kRevocation));
  MDL_ASSIGN_OR_RETURN(json suspension, Entry(index, StatusPurpose::kSuspension));
  return json::array({std::move(revocation), std::move(suspension)});
}

StatusEntryState StatusListIssuer::State(uint64_t index) const {
  StatusEntryState s;
  if (index >= config_.length) return s;
  s.assigned = assigned_.Get(index);
  s.revoked = revoked_.Get(index);
  s.suspended = suspended_.Get(index);
  return s;
}

Status StatusListIssuer::Revoke(uint64_t index) {
  if (!State(index).assigned)
    return Status::NotFound("status list index " + std::to_string(index) + " is not assigned");
  revoked_.Set(index, true);
  return Status::Ok();
}

Status StatusListIssuer::Suspend(uint64_t index) {
  const StatusEntryState s = State(index);
  if (!s.assigned)
    return Status::NotFound("status list index " + std::to_string(index) + " is not assigned");
  if (s.revoked)
    return Status::FailedPrecondition("status list index " + std::to_string(index) + " is revoked");
  suspended_.Set(index, true);
  return Status::Ok();
}

Status StatusListIssuer::Reinstate(uint64_t index) {
  const StatusEntryState s = State(index);
  if (!s.assigned)
    return Status::NotFound("status list index " + std::to_string(index) + " is not assigned");
  // §2.2: revocation "is not reversible"; only a suspension is lifted.
  if (s.revoked)
    return Status::FailedPrecondition("status list index " + std::to_string(index) +
                                      " is revoked for good");
  suspended_.Set(index, false);
  return Status::Ok();
}

Result<json> StatusListIssuer::StatusListCredential(
    StatusPurpose purpose, const StatusListCredentialOptions& options) const {
  if (options.issuer.empty())
    return Status::InvalidArgument("status list credential needs an issuer");
  if (options.ttl_millis < 0) return Status::InvalidArgument("ttl must not be negative");
  const std::string& url = UrlOf(purpose);
  MDL_ASSIGN_OR_RETURN(std::string encoded, EncodeBitstring(bits(purpose)));
  json subject = {{"id", url + "#list"},
                  {"type", "BitstringStatusList"},
                  {"statusPurpose", StatusPurposeName(purpose)},
                  {"encodedList", std::move(encoded)}};
  if (options.ttl_millis > 0) subject["ttl"] = options.ttl_millis;
  json credential = {
      {"@context", json::array({"https://www.w3.org/ns/credentials/v2"})},
      {"id", url},
      {"type", json::array({"VerifiableCredential", "BitstringStatusListCredential"})},
      {"issuer", options.issuer},
      {"credentialSubject", std::move(subject)}};
  if (!options.valid_from.empty()) {
    MDL_RETURN_IF_ERROR(ParseDateTimeStamp(options.valid_from).status());
    credential["validFrom"] = options.valid_from;
  }
  if (!options.valid_until.empty()) {
    MDL_RETURN_IF_ERROR(ParseDateTimeStamp(options.valid_until).status());
    credential["validUntil"] = options.valid_until;
  }
  return credential;
}

// ---------------------------------------------------------------------------------------------
// StatusChecker.
// ---------------------------------------------------------------------------------------------

StatusChecker::StatusChecker(StatusListFetcher& fetcher, const Clock& clock,
                             StatusListProofCheck proof_check, StatusCheckerOptions options)
    : fetcher_(fetcher), clock_(clock), proof_check_(std::move(proof_check)), options_(options) {
  MDL_CHECK(proof_check_ != nullptr);
}

void StatusChecker::Invalidate(const std::string& url) {
  std::lock_guard<std::mutex> lock(mu_);
  cache_.erase(url);
}

void StatusChecker::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  cache_.clear();
}

Result<StatusChecker::CachedList> StatusChecker::FetchList(const std::string& url) {
  using rc::kVerificationError;
  // §3.2 step 4: dereference the URL...
  auto text = fetcher_.Fetch(url);
  if (!text)
    return Fail(StatusCode::kUnavailable, rc::kRetrievalError, url + ": " + text.error().message());
  if (text->size() > options_.max_document_bytes)
    return Fail(StatusCode::kUnavailable, rc::kRetrievalError,
                url + ": document larger than the bound");
  auto parsed = jcs::ParseStrict(*text);
  if (!parsed || !parsed->is_object())
    return Fail(StatusCode::kInvalidArgument, kVerificationError, url + ": not a JSON object");
  const json& doc = *parsed;
  // ... and ensure that all proofs verify.
  if (Status st = proof_check_(doc); !st.ok())
    return Fail(StatusCode::kUnauthenticated, kVerificationError,
                url + ": proof check failed: " + st.message());

  // §2.2: the shape of a BitstringStatusListCredential.
  if (!HasType(doc, "BitstringStatusListCredential"))
    return Fail(StatusCode::kInvalidArgument, kVerificationError,
                url + ": not a BitstringStatusListCredential");
  if (doc.contains("id") && StringMember(doc, "id") != url)
    return Fail(StatusCode::kInvalidArgument, kVerificationError,
                url + ": the credential id names another list");
  const int64_t now_ms = clock_.NowMillis();
  int64_t expires_ms = now_ms + options_.default_ttl_millis;
  // §7.2 "Validity Periods".
  if (doc.contains("validFrom")) {
    auto t = ParseDateTimeStamp(StringMember(doc, "validFrom"));
    if (!t) return Fail(StatusCode::kInvalidArgument, kVerificationError, url + ": bad validFrom");
    if (now_ms / 1000 < *t)
      return Fail(StatusCode::kFailedPrecondition, kVerificationError,
                  url + ": list is not valid yet");
  }
  int64_t valid_until_ms = INT64_MAX;
  if (doc.contains("validUntil")) {
    auto t = ParseDateTimeStamp(StringMember(doc, "validUntil"));
    if (!t) return Fail(StatusCode::kInvalidArgument, kVerificationError, url + ": bad validUntil");
    if (now_ms / 1000 >= *t)
      return Fail(StatusCode::kFailedPrecondition, kVerificationError, url + ": list has expired");
    valid_until_ms = *t * 1000;
  }
  auto subject_it = doc.find("credentialSubject");
  if (subject_it == doc.end() || !subject_it->is_object())
    return Fail(StatusCode::kInvalidArgument, kVerificationError,
                url + ": credentialSubject is not an object");
  const json& subject = *subject_it;
  if (!HasType(subject, "BitstringStatusList"))
    return Fail(StatusCode::kInvalidArgument, kVerificationError,
                url + ": credentialSubject is not a BitstringStatusList");
  CachedList list;
  // §2.2: statusPurpose is "one or more strings".
  if (auto p = subject.find("statusPurpose"); p != subject.end() && p->is_string()) {
    list.purposes.push_back(p->get<std::string>());
  } else if (p != subject.end() && p->is_array() && !p->empty() &&
             std::all_of(p->begin(), p->end(), [](const json& v) { return v.is_string(); })) {
    list.purposes = p->get<std::vector<std::string>>();
  } else {
    return Fail(StatusCode::kInvalidArgument, kVerificationError,
                url + ": statusPurpose is not one or more strings");
  }
  auto encoded = subject.find("encodedList");
  if (encoded == subject.end() || !encoded->is_string())
    return Fail(StatusCode::kInvalidArgument, kVerificationError, url + ": no encodedList");
  // §3.2 step 8 / §3.4, bounded.
  auto bits =
      DecodeBitstring(encoded->get_ref<const std::string&>(), options_.max_decompressed_bytes);
  if (!bits)
    return Fail(bits.error().code(), kVerificationError, url + ": " + bits.error().message());
  // §3.2 step 9 (statusSize is 1).
  if (bits->size() < options_.min_entries)
    return Fail(StatusCode::kFailedPrecondition, rc::kListLengthError,
                url + ": " + std::to_string(bits->size()) + " entries, fewer than " +
                    std::to_string(options_.min_entries));
  if (auto ttl = subject.find("ttl"); ttl != subject.end()) {
    if (!ttl->is_number() || ttl->get<double>() < 0)
      return Fail(StatusCode::kInvalidArgument, kVerificationError,
                  url + ": ttl is not a non-negative number");
    const double capped =
        std::min(ttl->get<double>(), static_cast<double>(options_.max_ttl_millis));
    expires_ms = now_ms + static_cast<int64_t>(capped);
  }
  list.expires_at_millis = std::min(expires_ms, valid_until_ms);
  list.bits = std::move(*bits);
  return list;
}

Result<EntryStatus> StatusChecker::Check(const json& entry) {
  using rc::kMalformedValue;
  // §2.1: the entry itself.
  if (!entry.is_object() || !HasType(entry, "BitstringStatusListEntry"))
    return Fail(StatusCode::kInvalidArgument, kMalformedValue, "not a BitstringStatusListEntry");
  EntryStatus out;
  auto purpose = ParseStatusPurpose(StringMember(entry, "statusPurpose"));
  if (!purpose)
    return Fail(StatusCode::kInvalidArgument, kMalformedValue, purpose.error().message());
  out.purpose = *purpose;
  auto index = ParseIndex(entry.contains("statusListIndex") ? entry["statusListIndex"] : json());
  if (!index) return Fail(StatusCode::kInvalidArgument, kMalformedValue, index.error().message());
  out.index = *index;
  out.list_url = StringMember(entry, "statusListCredential");
  if (out.list_url.empty())
    return Fail(StatusCode::kInvalidArgument, kMalformedValue, "no statusListCredential URL");
  if (auto size = entry.find("statusSize");
      size != entry.end() && !(size->is_number_integer() && *size == 1))
    return Fail(StatusCode::kInvalidArgument, kMalformedValue, "only statusSize 1 is supported");

  auto evaluate = [&](const CachedList& list) -> Result<EntryStatus> {
    // §3.2 step 5: the entry's purpose must be one of the list's.
    const std::string want(StatusPurposeName(out.purpose));
    if (std::find(list.purposes.begin(), list.purposes.end(), want) == list.purposes.end())
      return Fail(StatusCode::kInvalidArgument, rc::kVerificationError,
                  out.list_url + ": list is not a " + want + " list");
    // §3.2 step 10.
    if (out.index >= list.bits.size())
      return Fail(StatusCode::kInvalidArgument, rc::kRangeError,
                  "statusListIndex " + std::to_string(out.index) + " is beyond the list of " +
                      std::to_string(list.bits.size()));
    out.set = list.bits.Get(out.index);
    return out;
  };

  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(out.list_url);
    if (it != cache_.end()) {
      if (clock_.NowMillis() < it->second.expires_at_millis) {
        out.from_cache = true;
        return evaluate(it->second);
      }
      cache_.erase(it);
    }
  }
  // Fetch without the lock: a slow issuer must not stall checks against other lists. Two
  // concurrent misses fetch twice; the later copy wins.
  MDL_ASSIGN_OR_RETURN(CachedList list, FetchList(out.list_url));
  std::lock_guard<std::mutex> lock(mu_);
  if (cache_.size() >= options_.max_cached_lists && !cache_.count(out.list_url)) {
    auto soonest = std::min_element(cache_.begin(), cache_.end(), [](const auto& a, const auto& b) {
      return a.second.expires_at_millis < b.second.expires_at_millis;
    });
    if (soonest != cache_.end()) cache_.erase(soonest);
  }
  auto& slot = cache_[out.list_url];
  slot = std::move(list);
  return evaluate(slot);
}

}  // namespace medallion::claims
