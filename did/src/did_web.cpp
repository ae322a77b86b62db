// did:web: the DID <-> URL rules and the caching resolver (W3C CCG did:web Method
// Specification, §"Method-specific identifier", §"Create (Register)", §"Read (Resolve)").
#include "medallion/did/did_web.h"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <vector>

#include "medallion/core/json.h"

namespace medallion::did {
namespace {

constexpr std::string_view kPrefix = "did:web:";
constexpr std::string_view kWellKnown = ".well-known";
constexpr std::string_view kDocumentName = "did.json";
constexpr size_t kMaxHostLength = 253;  // RFC 1035 §2.3.4 (255 octets on the wire)
constexpr size_t kMaxLabelLength = 63;

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHexDigit(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t at = s.find(sep, start);
    out.push_back(
        s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

// A label inet_aton(3) would read as a number: decimal, octal or 0x-hex.
bool IsNumericLabel(std::string_view label) {
  if (label.size() > 2 && label[0] == '0' && (label[1] == 'x' || label[1] == 'X')) {
    return std::all_of(label.begin() + 2, label.end(), IsHexDigit);
  }
  return !label.empty() && std::all_of(label.begin(), label.end(), IsDigit);
}

// RFC 1035 §2.3.1 / RFC 1123 §2.1 host names, lower case only, no IP addresses.
Status CheckHost(std::string_view host) {
  if (host.empty()) return Status::InvalidArgument("did:web: empty host");
  if (host.size() > kMaxHostLength)
    return Status::InvalidArgument("did:web: host longer than 253 characters");
  const std::vector<std::string_view> labels = Split(host, '.');
  bool all_numeric = true;
  for (std::string_view label : labels) {
    if (label.empty())
      return Status::InvalidArgument("did:web: host has an empty label (or a trailing dot)");
    if (label.size() > kMaxLabelLength)
      return Status::InvalidArgument("did:web: host label longer than 63 characters");
    for (char c : label) {
      if (c >= 'A' && c <= 'Z') {
        return Status::InvalidArgument(
            "did:web: host must be lower case (DNS names are case-insensitive, DIDs are not)");
      }
      if (!IsLowerAlnum(c) && c != '-') {
        return Status::InvalidArgument("did:web: host may contain only a-z, 0-9, '-' and '.'");
      }
    }
    if (label.front() == '-' || label.back() == '-') {
      return Status::InvalidArgument("did:web: host label starts or ends with '-'");
    }
    all_numeric = all_numeric && IsNumericLabel(label);
  }
  // RFC 3696 §2: a top-level domain is never all-numeric, so a numeric last label is an IP
  // address in disguise; all-numeric labels cover the hex and octal forms.
  if (all_numeric || std::all_of(labels.back().begin(), labels.back().end(), IsDigit)) {
    return Status::InvalidArgument(
        "did:web: IP addresses are not allowed (did:web §Method-specific identifier)");
  }
  if (labels.size() < 2 && host != "localhost") {
    return Status::InvalidArgument("did:web: host must be a fully qualified domain name");
  }
  return Status::Ok();
}

// 1..65535, decimal, no leading zero, not the default 443.
Result<int> ParsePort(std::string_view digits) {
  if (digits.empty() || digits.size() > 5 || digits[0] == '0' ||
      !std::all_of(digits.begin(), digits.end(), IsDigit)) {
    return Status::InvalidArgument(
        "did:web: port must be a decimal number 1-65535 without leading zeros");
  }
  int port = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (port < 1 || port > 65535) return Status::InvalidArgument("did:web: port out of range");
  if (port == 443)
    return Status::InvalidArgument(
        "did:web: the default port 443 must be omitted (RFC 3986 §6.2.3)");
  return port;
}

Status CheckSegments(const std::vector<std::string_view>& segments) {
  for (std::string_view s : segments) {
    if (s.empty()) return Status::InvalidArgument("did:web: empty path segment");
    if (!IsValidDidWebPathSegment(s)) {
      return Status::InvalidArgument("did:web: path segment '" + std::string(s.substr(0, 64)) +
                                     "' must be A-Z a-z 0-9 . - _ only and not '.' or '..'");
    }
  }
  if (segments.size() == 1 && segments[0] == kWellKnown) {
    return Status::InvalidArgument(
        "did:web: the path '.well-known' alone would alias the host's own DID");
  }
  return Status::Ok();
}

struct WebLocation {
  std::string host;
  int port = 0;  // 0: default
  std::vector<std::string_view> segments;
};

std::string ToUrl(const WebLocation& loc) {
  std::string url = "https://" + loc.host;
  if (loc.port != 0) url += ":" + std::to_string(loc.port);
  if (loc.segments.empty()) {
    url += "/";
    url += kWellKnown;
  }
  for (std::string_view s : loc.segments) {
    url += "/";
    url += s;
  }
  url += "/";
  url += kDocumentName;
  return url;
}

std::string ToDid(const WebLocation& loc) {
  std::string did(kPrefix);
  did += loc.host;
  if (loc.port != 0) did += "%3A" + std::to_string(loc.port);
  for (std::string_view s : loc.segments) {
    did += ":";
    did += s;
  }
  return did;
}

char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (AsciiLower(s[i]) != prefix[i]) return false;
  }
  return true;
}

// Resolution results are the same for every caller; errors carry the DID for the log.
ResolutionResult Failure(std::string_view code, const std::string& did, const std::string& why) {
  return ResolutionResult::Error(code, did + ": " + why);
}

}  // namespace

bool IsValidDidWebPathSegment(std::string_view segment) {
  if (segment.empty() || segment == "." || segment == "..") return false;
  return std::all_of(segment.begin(), segment.end(), [](char c) {
    return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z') || c == '.' || c == '-' || c == '_';
  });
}

Result<std::string> DidWebToUrl(std::string_view did) {
  if (did.substr(0, kPrefix.size()) != kPrefix) return Status::InvalidArgument("not a did:web DID");
  if (!IsValidDid(did)) return Status::InvalidArgument("did:web: not a valid DID (DID Core §3.1)");
  // did:web §"Read (Resolve)" step 1: ":" separates the host from the path segments.
  std::vector<std::string_view> parts = Split(did.substr(kPrefix.size()), ':');
  std::string_view authority = parts.front();
  WebLocation loc;
  loc.segments.assign(parts.begin() + 1, parts.end());
  // Step 2: "If the domain contains a port percent decode the colon". Nothing else is decoded.
  const size_t pct = authority.find('%');
  std::string_view host = authority.substr(0, pct);
  if (pct != std::string_view::npos) {
    std::string_view rest = authority.substr(pct);
    if (rest.substr(0, 3) != "%3A") {
      return Status::InvalidArgument(
          "did:web: the only percent-encoding allowed in the host is %3A before a port");
    }
    MDL_ASSIGN_OR_RETURN(loc.port, ParsePort(rest.substr(3)));
  }
  MDL_RETURN_IF_ERROR(CheckHost(host));
  loc.host = std::string(host);
  MDL_RETURN_IF_ERROR(CheckSegments(loc.segments));
  // Steps 3–5: https://, "/.well-known" only without a path, "/did.json".
  return ToUrl(loc);
}

Result<std::string> UrlToDidWeb(std::string_view url) {
  constexpr std::string_view kScheme = "https://";
  if (!StartsWithNoCase(url, kScheme))
    return Status::InvalidArgument("did:web: the URL must be https:// (did:web §Read step 3)");
  std::string_view rest = url.substr(kScheme.size());
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return Status::InvalidArgument("did:web: the URL must not have a query or fragment");
  }
  if (rest.find('%') != std::string_view::npos)
    return Status::InvalidArgument("did:web: percent-encoding is not allowed");
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos)
    return Status::InvalidArgument("did:web: userinfo is not allowed");
  if (!authority.empty() && authority.front() == '[')
    return Status::InvalidArgument("did:web: IP addresses are not allowed");

  WebLocation loc;
  const size_t colon = authority.find(':');
  std::string host(authority.substr(0, colon));
  std::transform(host.begin(), host.end(), host.begin(), AsciiLower);  // RFC 3986 §6.2.2.1
  if (colon != std::string_view::npos) {
    std::string_view digits = authority.substr(colon + 1);
    if (digits != "443") {  // RFC 3986 §6.2.3: the default port is dropped
      MDL_ASSIGN_OR_RETURN(loc.port, ParsePort(digits));
    }
  }
  MDL_RETURN_IF_ERROR(CheckHost(host));
  loc.host = host;

  const std::string suffix = "/" + std::string(kDocumentName);
  if (path.empty() || path == "/" || path == "/" + std::string(kWellKnown) + suffix) {
    // The host's own DID (did:web §"Create (Register)": the well-known URL).
  } else {
    if (path.size() <= suffix.size() || path.substr(path.size() - suffix.size()) != suffix) {
      return Status::InvalidArgument(
          "did:web: the URL path must be /.well-known/did.json or /<path>/did.json");
    }
    std::string_view dir = path.substr(1, path.size() - suffix.size() - 1);
    loc.segments = Split(dir, '/');
    MDL_RETURN_IF_ERROR(CheckSegments(loc.segments));
  }
  std::string did = ToDid(loc);
  if (!IsValidDid(did))
    return Status::InvalidArgument("did:web: the URL does not make a valid DID");
  return did;
}

DidWebResolver::DidWebResolver(std::shared_ptr<DocumentFetcher> fetcher, Env env,
                               int64_t cache_ttl_millis, size_t max_cache_entries)
    : fetcher_(std::move(fetcher)),
      clock_(env.clock),
      cache_ttl_millis_(cache_ttl_millis),
      max_cache_entries_(max_cache_entries) {
  MDL_CHECK(fetcher_ != nullptr);
  MDL_CHECK(clock_ != nullptr);
  MDL_CHECK(cache_ttl_millis_ >= 0);
  MDL_CHECK(max_cache_entries_ > 0);
}

void DidWebResolver::ClearCache() {
  std::lock_guard<std::mutex> lock(mu_);
  cache_.clear();
}

ResolutionResult DidWebResolver::Resolve(std::string_view did_view,
                                         const ResolutionOptions& options) {
  const std::string did(did_view);
  auto url = DidWebToUrl(did);
  if (!url) return ResolutionResult::Error(kInvalidDid, url.error().message());
  if (options.version_id || options.version_time || options.ledger_position) {
    return Failure(kFeatureNotSupported, did,
                   "did:web keeps no document history; versionId, versionTime and ledger positions "
                   "are not supported");
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(did);
    if (it != cache_.end()) {
      if (clock_->NowMillis() < it->second.expires_at_millis) return it->second.result;
      cache_.erase(it);
    }
  }
  ResolutionResult result = FetchAndCheck(did, *url);
  Store(did, result, clock_->NowMillis());
  return result;
}

ResolutionResult DidWebResolver::FetchAndCheck(const std::string& did, const std::string& url) {
  auto body = fetcher_->Fetch(url);
  if (!body) {
    const Status& st = body.error();
    switch (st.code()) {
      case StatusCode::kNotFound:
        return Failure(kNotFound, did, "no DID document at " + url);
      case StatusCode::kInvalidArgument:
        return Failure(kInvalidDidDocument, did, url + ": " + st.message());
      default:
        return Failure(kInternalError, did, url + ": " + st.ToString());
    }
  }
  if (body->size() > kDidWebMaxDocumentBytes) {
    return Failure(kInvalidDidDocument, did, url + ": document larger than 64 KiB");
  }
  // Bounded parse (core/json.h): a hostile host's deeply nested document is refused without
  // recursion.
  auto j = ParseJson(*body);
  if (!j) return Failure(kInvalidDidDocument, did, url + ": not JSON: " + j.error().message());
  auto doc = DidDocument::FromJson(*j);
  if (!doc) return Failure(kInvalidDidDocument, did, url + ": " + doc.error().message());
  // did:web §"Read (Resolve)": the id of the document must be the DID being resolved, else
  // any host could publish a document for another (or a path could speak for its host).
  if (doc->id != did) {
    return Failure(kInvalidDidDocument, did,
                   url + ": document id '" + doc->id.substr(0, 256) + "' is not the DID resolved");
  }
  ResolutionResult r;
  r.document = std::move(*doc);
  return r;
}

void DidWebResolver::Store(const std::string& did, const ResolutionResult& result,
                           int64_t now_millis) {
  const int64_t ttl =
      result.ok() ? cache_ttl_millis_ : std::min(cache_ttl_millis_, kDidWebErrorCacheMillis);
  if (ttl <= 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (cache_.size() >= max_cache_entries_ && cache_.find(did) == cache_.end()) {
    std::erase_if(cache_,
                  [&](const auto& kv) { return kv.second.expires_at_millis <= now_millis; });
    while (cache_.size() >= max_cache_entries_) {
      auto soonest =
          std::min_element(cache_.begin(), cache_.end(), [](const auto& a, const auto& b) {
            return a.second.expires_at_millis < b.second.expires_at_millis;
          });
      cache_.erase(soonest);
    }
  }
  cache_[did] = CacheEntry{result, now_millis + ttl};
}

}  // namespace medallion::did
