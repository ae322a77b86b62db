// did:web over HTTP: the verifying HTTPS fetcher and the did.json publishing endpoint.
#include "medallion/roles/did_web_http.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>

#include "medallion/http/http.h"

namespace medallion::roles {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

// TLS 1.2 suites allowed by did:web §"In-transit Security" (ECDHE, AEAD); TLS 1.3 suites are
// all AEAD with ephemeral keys and stay at OpenSSL's defaults.
constexpr const char* kTls12Ciphers = "ECDHE+AESGCM:ECDHE+CHACHA20";
constexpr const char* kAccept =
    "application/did+json, application/did+ld+json;q=0.9, application/json;q=0.8";

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
std::string ToLower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), Lower);
  return out;
}

struct ParsedUrl {
  std::string scheme;  // "http" or "https"
  std::string host;    // lower case; an IPv6 literal without its brackets
  int port = 0;
  std::string target;  // path and query, starting with "/"
  bool ip_literal = false;
};

bool IsIpAddress(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

bool IsLoopbackHost(const ParsedUrl& u) {
  return u.host == "127.0.0.1" || u.host == "localhost" || u.host == "::1";
}

// An absolute http(s) URL. Refuses userinfo, fragments and anything outside printable ASCII
// (httplib writes the target into the request line).
Result<ParsedUrl> ParseUrl(std::string_view url) {
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      return Status::InvalidArgument("URL contains a control, space or non-ASCII character");
    }
  }
  const size_t sep = url.find("://");
  if (sep == std::string_view::npos) return Status::InvalidArgument("not an absolute URL");
  ParsedUrl u;
  u.scheme = ToLower(url.substr(0, sep));
  if (u.scheme != "https" && u.scheme != "http")
    return Status::InvalidArgument("URL scheme must be https");
  std::string_view rest = url.substr(sep + 3);
  const size_t end_of_authority = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end_of_authority);
  std::string_view target = end_of_authority == std::string_view::npos
                                ? std::string_view()
                                : rest.substr(end_of_authority);
  if (target.find('#') != std::string_view::npos)
    return Status::InvalidArgument("URL must not have a fragment");
  u.target = target.empty() || target[0] != '/' ? "/" + std::string(target) : std::string(target);
  if (authority.find('@') != std::string_view::npos)
    return Status::InvalidArgument("URL must not have userinfo");
  std::string_view port_text;
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos)
      return Status::InvalidArgument("unterminated IPv6 literal in URL");
    u.host = ToLower(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return Status::InvalidArgument("malformed URL authority");
      port_text = after.substr(1);
    }
    unsigned char buf[16];
    if (inet_pton(AF_INET6, u.host.c_str(), buf) != 1)
      return Status::InvalidArgument("malformed IPv6 literal in URL");
  } else {
    const size_t colon = authority.find(':');
    u.host = ToLower(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
    for (char c : u.host) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-')) {
        return Status::InvalidArgument("URL host may contain only letters, digits, '.' and '-'");
      }
    }
  }
  if (u.host.empty()) return Status::InvalidArgument("URL has no host");
  u.ip_literal = IsIpAddress(u.host);
  u.port = u.scheme == "https" ? 443 : 80;
  if (!port_text.empty() || authority.back() == ':') {
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), u.port);
    if (port_text.empty() || ec != std::errc() || p != port_text.data() + port_text.size() ||
        u.port < 1 || u.port > 65535) {
      return Status::InvalidArgument("malformed port in URL");
    }
  }
  return u;
}

bool SameOrigin(const ParsedUrl& a, const ParsedUrl& b) {
  return a.scheme == b.scheme && a.host == b.host && a.port == b.port;
}

// A redirect target: an absolute URL of the same origin, or an absolute path.
Result<ParsedUrl> FollowRedirect(const ParsedUrl& from, const std::string& location) {
  if (location.empty()) return Status::Unavailable("redirect without a Location");
  if (location[0] == '/' && (location.size() == 1 || location[1] != '/')) {
    std::string origin =
        from.scheme + "://" +
        (from.host.find(':') != std::string::npos ? "[" + from.host + "]" : from.host) + ":" +
        std::to_string(from.port);
    return ParseUrl(origin + location);
  }
  auto to = ParseUrl(location);
  if (!to || !SameOrigin(from, *to)) {
    return Status::InvalidArgument("redirect to another origin refused: " +
                                   location.substr(0, 200));
  }
  return to;
}

bool IsRedirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// application/json or application/<anything>+json, parameters ignored.
bool IsJsonMediaType(std::string_view value) {
  std::string v = ToLower(value.substr(0, value.find(';')));
  const auto not_space = [](char c) { return c != ' ' && c != '\t'; };
  v.erase(v.begin(), std::find_if(v.begin(), v.end(), not_space));
  v.erase(std::find_if(v.rbegin(), v.rend(), not_space).base(), v.end());
  constexpr std::string_view kApplication = "application/";
  constexpr std::string_view kJsonSuffix = "+json";
  if (v == "application/json") return true;
  return v.size() > kApplication.size() + kJsonSuffix.size() &&
         v.compare(0, kApplication.size(), kApplication) == 0 &&
         v.compare(v.size() - kJsonSuffix.size(), kJsonSuffix.size(), kJsonSuffix) == 0;
}

struct Hop {
  bool redirect = false;
  ParsedUrl next;
  std::string body;
};

// The path of an https URL DidWebToUrl produced.
std::string PathOf(const std::string& url) {
  const size_t authority = url.find("://");
  const size_t slash = url.find('/', authority == std::string::npos ? 0 : authority + 3);
  return slash == std::string::npos ? "/" : url.substr(slash);
}

std::string RegexEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::string_view(".^$|()[]{}*+?\\").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

HttpsDocumentFetcher::HttpsDocumentFetcher(HttpsFetcherOptions options)
    : options_(std::move(options)) {
  MDL_CHECK(options_.max_body_bytes > 0);
  MDL_CHECK(options_.max_redirects >= 0);
}

namespace {

Result<Hop> FetchOnce(const HttpsFetcherOptions& options, const ParsedUrl& u, SteadyTime deadline) {
  const bool loopback = IsLoopbackHost(u);
  if (u.scheme == "http" && !(options.allow_insecure_loopback && loopback)) {
    return Status::InvalidArgument(
        "plain http is refused (allowed only for loopback hosts in development mode)");
  }
  const bool plain = u.scheme == "http" || (options.allow_insecure_loopback && loopback);
  if (std::chrono::steady_clock::now() >= deadline) return Status::Unavailable("fetch timed out");

  std::unique_ptr<httplib::ClientImpl> client;
  httplib::SSLClient* tls = nullptr;
  if (plain) {
    client = std::make_unique<httplib::ClientImpl>(u.host, u.port);
  } else {
    auto ssl = std::make_unique<httplib::SSLClient>(u.host, u.port);
    SSL_CTX* ctx = ssl->ssl_context();
    if (ctx == nullptr) return Status::Internal("cannot create a TLS context");
    X509_VERIFY_PARAM* param = SSL_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_hostflags(
        param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
    const int host_ok = u.ip_literal
                            ? X509_VERIFY_PARAM_set1_ip_asc(param, u.host.c_str())
                            : X509_VERIFY_PARAM_set1_host(param, u.host.c_str(), u.host.size());
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1 || host_ok != 1) {
      return Status::Internal("cannot configure TLS");
    }
    ssl->enable_server_certificate_verification(true);
    if (!options.ca_file.empty()) ssl->set_ca_cert_path(options.ca_file);
    tls = ssl.get();
    client = std::move(ssl);
  }
  client->set_connection_timeout(options.connect_timeout_seconds, 0);
  client->set_read_timeout(options.read_timeout_seconds, 0);
  client->set_write_timeout(options.read_timeout_seconds, 0);
  client->set_follow_location(false);
  client->set_keep_alive(false);

  enum class Stop { kNone, kTooLarge, kWrongType, kTimeout } stop = Stop::kNone;
  int status = 0;
  std::string location, body, content_type;
  auto on_response = [&](const httplib::Response& r) {
    status = r.status;
    if (IsRedirect(status)) {
      location = r.get_header_value("Location");
      return false;
    }
    if (status != 200) return false;
    content_type = r.get_header_value("Content-Type");
    if (!IsJsonMediaType(content_type)) {
      stop = Stop::kWrongType;
      return false;
    }
    if (r.has_header("Content-Length")) {
      const std::string len = r.get_header_value("Content-Length");
      uint64_t n = 0;
      auto [p, ec] = std::from_chars(len.data(), len.data() + len.size(), n);
      if (ec != std::errc() || p != len.data() + len.size() || n > options.max_body_bytes) {
        stop = Stop::kTooLarge;
        return false;
      }
    }
    return true;
  };
  auto on_data = [&](const char* data, size_t n) {
    if (std::chrono::steady_clock::now() >= deadline) {
      stop = Stop::kTimeout;
      return false;
    }
    if (body.size() + n > options.max_body_bytes) {
      stop = Stop::kTooLarge;
      return false;
    }
    body.append(data, n);
    return true;
  };
  httplib::Headers headers = {{"Accept", kAccept}};
  httplib::Result res = client->Get(u.target, headers, on_response, on_data);

  const std::string where = u.scheme + "://" + u.host + ":" + std::to_string(u.port) + u.target;
  switch (stop) {
    case Stop::kTooLarge:
      return Status::InvalidArgument(where + ": body larger than " +
                                     std::to_string(options.max_body_bytes) + " bytes");
    case Stop::kWrongType:
      return Status::InvalidArgument(where + ": Content-Type '" + content_type.substr(0, 100) +
                                     "' is not JSON");
    case Stop::kTimeout:
      return Status::Unavailable(where + ": fetch timed out");
    case Stop::kNone:
      break;
  }
  if (status == 0) {
    std::string why = httplib::to_string(res.error());
    if (res.error() == httplib::Error::SSLServerVerification && tls != nullptr) {
      why = "TLS certificate verification failed: " +
            std::string(X509_verify_cert_error_string(tls->get_openssl_verify_result()));
    }
    return Status::Unavailable(where + ": " + why);
  }
  Hop hop;
  if (IsRedirect(status)) {
    MDL_ASSIGN_OR_RETURN(hop.next, FollowRedirect(u, location));
    hop.redirect = true;
    return hop;
  }
  if (status == 404 || status == 410)
    return Status::NotFound(where + ": HTTP " + std::to_string(status));
  if (status != 200) return Status::Unavailable(where + ": HTTP " + std::to_string(status));
  if (!res) return Status::Unavailable(where + ": " + httplib::to_string(res.error()));
  hop.body = std::move(body);
  return hop;
}

}  // namespace

Result<std::string> HttpsDocumentFetcher::Fetch(const std::string& url) {
  const SteadyTime deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(options_.total_timeout_seconds);
  MDL_ASSIGN_OR_RETURN(ParsedUrl target, ParseUrl(url));
  for (int redirects = 0;; ++redirects) {
    MDL_ASSIGN_OR_RETURN(Hop hop, FetchOnce(options_, target, deadline));
    if (!hop.redirect) return std::move(hop.body);
    if (redirects >= options_.max_redirects)
      return Status::Unavailable(url + ": too many redirects");
    target = std::move(hop.next);
  }
}

Result<std::string> DidWebDocumentPath(std::string_view path) {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (path.empty()) return std::string("/.well-known/did.json");
  std::string out;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t slash = std::min(path.find('/', start), path.size());
    std::string_view segment = path.substr(start, slash - start);
    if (!did::IsValidDidWebPathSegment(segment)) {
      return Status::InvalidArgument(
          "did:web path segment '" + std::string(segment.substr(0, 64)) +
          "' must be non-empty, A-Z a-z 0-9 . - _ only, and not '.' or '..'");
    }
    out += "/";
    out += segment;
    start = slash + 1;
  }
  if (out == "/.well-known")
    return Status::InvalidArgument("the did:web path '.well-known' is the host's own DID");
  return out + "/did.json";
}

void RegisterDidWebDocument(httplib::Server& server,
                            std::function<did::DidDocument()> current_document, std::string path) {
  auto route = DidWebDocumentPath(path);
  if (!route) Panic("RegisterDidWebDocument: " + route.error().message());
  MDL_CHECK(current_document != nullptr);
  server.Get(RegexEscape(*route), [route = *route, current_document = std::move(current_document)](
                                      const httplib::Request&, httplib::Response& res) {
    const did::DidDocument doc = current_document();
    auto url = did::DidWebToUrl(doc.id);
    if (!url || PathOf(*url) != route) {
      return http::SendError(
          res, Status::Internal("the published DID document's id '" + doc.id.substr(0, 256) +
                                "' is not a did:web served at " + route));
    }
    res.set_header("Access-Control-Allow-Origin", "*");
    res.set_content(doc.ToJson().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                    "application/did+json");
  });
}

}  // namespace medallion::roles
