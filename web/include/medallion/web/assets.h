// A role's web app, compiled into the binary: the asset bundle (generated at build time from a
// folder by the CMake function medallion_web_assets, web/cmake/embed_assets.cmake), serving it
// at "/" from the role's own origin, and the security headers every response carries.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "medallion/core/status.h"

namespace httplib {
class Server;
struct Response;
struct Request;
}  // namespace httplib

namespace medallion::web {

// One embedded file: its path under the app ("index.html", "js/app.js", "icons/logo.svg"),
// its media type (by extension: html, css, js/mjs, svg, png, ico, json, webmanifest, woff2,
// txt), its bytes, and a strong ETag (quoted hex SHA-256 prefix, computed at build time).
struct Asset {
  const char* path;
  const char* media_type;
  const unsigned char* data;
  size_t size;
  const char* etag;
};

// A generated bundle: `count` assets sorted by path.
struct AssetBundle {
  const Asset* assets;
  size_t count;
};

// The asset at `path` (no leading '/'), or nullptr.
const Asset* FindAsset(const AssetBundle& bundle, std::string_view path);

// The Content-Security-Policy of every page: default-src 'self'; script-src 'self';
// style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none';
// base-uri 'none'; form-action 'self'; frame-ancestors 'none'.
extern const char kContentSecurityPolicy[];

// Sets the headers every response of a role carries: Content-Security-Policy (above),
// X-Content-Type-Options: nosniff, Referrer-Policy: no-referrer, X-Frame-Options: DENY,
// Cross-Origin-Opener-Policy: same-origin, Permissions-Policy (camera=(self) only, for QR
// scanning), and Strict-Transport-Security (max-age=31536000) when `tls`.
void SetSecurityHeaders(httplib::Response& res, bool tls);

// Serves `bundle` on `server`: GET/HEAD "/" is index.html, "/app/<path>" each asset, with
// ETag / If-None-Match (304), Cache-Control (no-cache for HTML, max-age=3600 otherwise), and
// every response of the server — API answers and errors too — gets SetSecurityHeaders (as
// the post-routing handler). An unknown /app/ path is a JSON 404. Paths that would leave the
// bundle ("..", "//", NUL, backslash) are 404.
void ServeApp(httplib::Server& server, const AssetBundle& bundle, bool tls);

// ServeApp under a path prefix of a shared server (a container mounted at "/c/<name>" on a
// host): "<prefix>/" is index.html, "<prefix>/app/<path>" each asset, and "<prefix>" redirects
// (308) to "<prefix>/", so that the page's relative URLs ("app/js/app.js") resolve under the
// prefix. The post-routing handler is the server's (one per server: the same `tls` for every
// call). `prefix` is "" (ServeApp) or '/'-separated segments of [A-Za-z0-9._~-], each after a
// '/', with no trailing '/', no "." or ".." segment. Errors: invalid_argument for another prefix.
Status ServeAppAt(httplib::Server& server, std::string_view prefix, const AssetBundle& bundle,
                  bool tls);

}  // namespace medallion::web
