// did:web (W3C CCG "did:web Method Specification"): DIDs that name an HTTPS location on a web
// host, for institutions (medical society, pharmacy) that publish their DID document at
// https://<host>/.well-known/did.json or https://<host>/<path>/did.json.
//
// This unit holds the pure DID <-> URL rules and a resolver over an injected DocumentFetcher;
// the HTTPS fetcher and the publishing endpoint live in the roles module
// (medallion/roles/did_web_http.h); only http/ and roles/ speak HTTP.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "medallion/core/env.h"
#include "medallion/core/status.h"
#include "medallion/did/resolver.h"

namespace medallion::did {

// DID Resolution §4 ("Resolving Algorithm": options the resolver does not support →
// FEATURE_NOT_SUPPORTED), in the camelCase spelling of the other codes in resolver.h.
// TODO(resolver owner): move next to kInvalidOptions in resolver.h.
inline constexpr std::string_view kFeatureNotSupported = "featureNotSupported";

// Largest did.json a resolver accepts (the fetcher enforces it while reading).
inline constexpr size_t kDidWebMaxDocumentBytes = 64 * 1024;

// did:web §"Read (Resolve)" steps 1–5: the HTTPS URL of the DID document.
//
//   did:web:w3c-ccg.github.io              → https://w3c-ccg.github.io/.well-known/did.json
//   did:web:w3c-ccg.github.io:user:alice   → https://w3c-ccg.github.io/user/alice/did.json
//   did:web:example.com%3A3000:user:alice  → https://example.com:3000/user/alice/did.json
//
// Only one spelling of each document URL is accepted, so that a URL has exactly one DID (DID
// Core §3.1 compares DIDs as strings; an alias would be a second identity for one document):
//  - host: a DNS name by RFC 1035/1123 (labels of a-z, 0-9 and inner "-", 1–63 characters,
//    253 in all), at least two labels unless it is "localhost" (did:web §"Method-specific
//    identifier": a fully qualified domain name). Upper-case letters are refused, not folded:
//    DNS is case-insensitive (RFC 4343) but the DID is not, and UrlToDidWeb produces lower
//    case. IP addresses are refused (the spec: "MUST NOT include IP addresses"), including the
//    forms inet_aton(3) would read as one ("127.0.0.1", "0x7f.1", "2130706433.x" with a
//    numeric last label: RFC 3696 §2 says a TLD is never all-numeric). No trailing dot.
//  - port: "%3A" then 1–65535 in decimal without leading zeros, and not 443 (RFC 3986 §6.2.3:
//    the default port is omitted). "%3A" is the only percent-encoding decoded (did:web
//    §"Read (Resolve)" step 2); upper-case hex as the spec writes it (RFC 3986 §2.1).
//  - path segments: ":"-separated, each non-empty, of A-Z a-z 0-9 "." "-" "_" only, never "."
//    or ".." (RFC 3986 §5.2.4 would remove them: traversal), no percent-encoding at all (a
//    server would decode "%2F" or "%2E%2E" into a different path). The single segment
//    ".well-known" is refused: it would alias the host's own DID.
// Errors: invalid_argument naming the rule broken.
Result<std::string> DidWebToUrl(std::string_view did);

// The inverse: the did:web DID of a document URL. Accepts "https://host[:port]" with the path
// "/.well-known/did.json", "/<segments>/did.json", "/" or none; normalizes what RFC 3986 §6.2
// allows (scheme and host case, the default port 443), so UrlToDidWeb(DidWebToUrl(d)) == d and
// DidWebToUrl(UrlToDidWeb(u)) is u normalized. Refuses http, userinfo, query, fragment,
// percent-encoding, IP hosts and every host or segment DidWebToUrl refuses.
// Errors: invalid_argument.
Result<std::string> UrlToDidWeb(std::string_view https_url);

// True for a path segment DidWebToUrl accepts (see above). Exposed for the publishing side.
bool IsValidDidWebPathSegment(std::string_view segment);

// Fetches a DID document over the network. Implementations are thread-safe.
class DocumentFetcher {
 public:
  virtual ~DocumentFetcher() = default;
  // GETs `url` and returns the body of a 200 answer whose Content-Type is a JSON media type
  // (application/json or application/<x>+json, e.g. application/did+json).
  // Errors: not_found (404 or 410: the DID does not exist or was deactivated, did:web
  // §"Deactivate (Revoke)"); invalid_argument (URL not allowed, wrong media type, body over
  // kDidWebMaxDocumentBytes, redirect elsewhere); unavailable (DNS, connection, TLS
  // verification, timeout, any other HTTP status).
  virtual Result<std::string> Fetch(const std::string& url) = 0;
};

// Longest time a fetch error is cached, and the default bound on cached DIDs.
inline constexpr int64_t kDidWebErrorCacheMillis = 5'000;
inline constexpr size_t kDidWebDefaultMaxCacheEntries = 1024;

// did:web resolution (did:web §"Read (Resolve)") with a cache.
//
// Results, as DID Resolution §4 prescribes:
//  - a DID DidWebToUrl refuses                           → invalidDid
//  - versionId, versionTime or ledger_position given     → featureNotSupported. did:web keeps
//    no history (did:web §"Update" overwrites did.json), so the current document is NOT an
//    answer to "the document as it was"; handing it back would let a rotated-away key verify
//    old signatures, or a newly added key verify backdated ones. Callers that want the current
//    document ask without version options.
//  - fetch not_found (404/410)                           → notFound
//  - a body that is not JSON, or not a DID document DidDocument::FromJson accepts, or a
//    document whose "id" is not exactly the DID resolved (did:web §"Read (Resolve)": verify
//    that the id matches), or a fetch invalid_argument   → invalidDidDocument
//  - fetch unavailable or anything else                  → internalError (DID Resolution §4:
//    "unexpected errors")
//
// Caching: a successful result is kept for `cache_ttl_millis` (by the Env clock); an error
// that came from fetching (notFound, invalidDidDocument, internalError) for at most
// kDidWebErrorCacheMillis (and never longer than cache_ttl_millis), so a failing host is not
// hammered but a fixed one is seen again within seconds. invalidDid and featureNotSupported
// are decided without the network and never cached. At most `max_cache_entries` DIDs are
// kept (expired entries are dropped first, then those expiring soonest), so resolving
// attacker-chosen DIDs cannot grow memory without bound. Concurrent misses on one DID may
// fetch twice; the later answer wins.
//
// Thread-safe. The fetch runs without the cache lock held.
class DidWebResolver final : public MethodResolver {
 public:
  // REQUIRES: fetcher != nullptr, env.clock != nullptr (and outlives the resolver),
  // cache_ttl_millis >= 0 (0 disables caching), max_cache_entries > 0.
  DidWebResolver(std::shared_ptr<DocumentFetcher> fetcher, Env env, int64_t cache_ttl_millis,
                 size_t max_cache_entries = kDidWebDefaultMaxCacheEntries);

  std::string_view method() const override { return "web"; }
  ResolutionResult Resolve(std::string_view did, const ResolutionOptions& options) override;

  // Forgets every cached result (e.g. after an institution announces a key rotation).
  void ClearCache();

 private:
  struct CacheEntry {
    ResolutionResult result;
    int64_t expires_at_millis = 0;
  };
  ResolutionResult FetchAndCheck(const std::string& did, const std::string& url);
  void Store(const std::string& did, const ResolutionResult& result, int64_t now_millis);

  std::shared_ptr<DocumentFetcher> fetcher_;
  const Clock* clock_;
  int64_t cache_ttl_millis_;
  size_t max_cache_entries_;
  std::mutex mu_;
  std::map<std::string, CacheEntry, std::less<>> cache_;  // guarded by mu_
};

}  // namespace medallion::did
