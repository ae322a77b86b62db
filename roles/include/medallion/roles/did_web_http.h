// did:web over HTTP: the HTTPS DocumentFetcher a DidWebResolver uses, and the endpoint with
// which an institution publishes its did.json (did:web §"Create (Register)", §"Read (Resolve)").
//
// Only the server module includes httplib.h; this header forward-declares what it needs.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "medallion/core/status.h"
#include "medallion/did/did_web.h"
#include "medallion/did/document.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace medallion::roles {

struct HttpsFetcherOptions {
  // PEM file of the CAs to trust; empty: the system store (OpenSSL's default verify paths,
  // /etc/ssl/certs on Debian).
  std::string ca_file;
  // Development only: URLs whose host is 127.0.0.1, localhost or [::1] are fetched over plain
  // HTTP (an https:// URL included, so that did:web:localhost%3A8080 resolves against a local
  // server without TLS). Never affects any other host.
  bool allow_insecure_loopback = false;
  size_t max_body_bytes = did::kDidWebMaxDocumentBytes;
  int connect_timeout_seconds = 5;
  int read_timeout_seconds = 10;   // per read
  int total_timeout_seconds = 20;  // whole fetch, redirects included (checked as data arrives)
  int max_redirects = 3;           // same origin only
};

// Fetches did.json documents (did:web §"Read (Resolve)" step 6) with:
//  - TLS 1.2 or later (did:web §"In-transit Security"), ECDHE with AEAD ciphers only for
//    TLS 1.2; the certificate chain verified against `ca_file` or the system store, and the
//    host name checked by OpenSSL (X509_check_host) against the subjectAltName dNSNames only:
//    never the subject Common Name (RFC 6125 §6.4.4 already forbids it once a dNSName is
//    present; httplib's own check would fall back to it), no partial wildcards ("f*.com").
//    An IP host is checked against an iPAddress SAN;
//  - a body cap (`max_body_bytes`, counted after any Content-Encoding is undone, so a
//    compressed bomb stops at the cap), connect / read / total timeouts;
//  - redirects followed only within the same scheme, host and port;
//  - http:// only with allow_insecure_loopback and a loopback host.
// Fetch's errors are those of did::DocumentFetcher: not_found (404, 410), invalid_argument
// (URL or scheme refused, redirect to another origin, non-JSON media type, body too large),
// unavailable (DNS, connection, TLS or certificate failure, timeout, other statuses).
// Thread-safe: each Fetch uses its own connection.
//
// Note on server-side request forgery: resolving an attacker-chosen did:web makes this process
// connect to an attacker-chosen host name, which may resolve to an internal address. Only an
// HTTPS server with a certificate for that name from a trusted CA gets a request through, and
// only a GET of a .../did.json path, but a deployment that resolves DIDs from untrusted input
// inside a private network should also filter destinations at the network layer.
class HttpsDocumentFetcher final : public did::DocumentFetcher {
 public:
  explicit HttpsDocumentFetcher(HttpsFetcherOptions options = {});
  Result<std::string> Fetch(const std::string& url) override;

 private:
  HttpsFetcherOptions options_;
};

// The path where a did:web document is served (did:web §"Create (Register)"): "" or "/" →
// "/.well-known/did.json"; "user/alice" (or "/user/alice/") → "/user/alice/did.json". Segments
// follow did::IsValidDidWebPathSegment. Errors: invalid_argument.
Result<std::string> DidWebDocumentPath(std::string_view path);

// Serves GET <DidWebDocumentPath(path)> with the JSON of current_document() (called on every
// request, so an updated document is served at once; did:web §"Update") as
// application/did+json, with "Access-Control-Allow-Origin: *" (the document is public and
// browser wallets resolve it). If the document's id does not map to this very path (its
// DidWebToUrl path differs), the request gets a JSON 500 instead: every resolver would refuse
// the document, and an operator should see why. The host part of the id is not checked (the
// server cannot know the name it is reached by behind a proxy).
// REQUIRES: DidWebDocumentPath(path) succeeds (validate configuration with it first);
// current_document is thread-safe.
void RegisterDidWebDocument(httplib::Server& server,
                            std::function<did::DidDocument()> current_document, std::string path);

}  // namespace medallion::roles
