// The embedded test app (tests/web/testapp, compiled in by medallion_web_assets) and ServeApp
// on a loopback server: index, assets, ETags, HEAD, traversal, and the security headers on
// every response of the server.
#include <catch2/catch.hpp>
#include <httplib.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "medallion/core/encoding.h"
#include "medallion/core/hash.h"
#include "medallion/http/http.h"
#include "medallion/web/assets.h"
#include "medallion_web_assets/web_test_app.h"
#include "test_util.h"

using namespace medallion;
using nlohmann::json;

namespace {

std::string TestAppFile(const std::string& rel) {
  const std::filesystem::path dir =
      std::filesystem::path(MEDALLION_SOURCE_DIR) / "tests" / "web" / "testapp";
  return testing::ReadFile((dir / rel).string());
}

std::string ExpectedEtag(const std::string& bytes) {
  const Hash256 h = Sha256(AsBytes(bytes));
  return "\"" + HexEncode(ByteView(h.data(), 16)) + "\"";
}

// The security headers, each exactly once.
void CheckSecurityHeaders(const httplib::Headers& headers, bool tls) {
  const std::pair<const char*, const char*> expected[] = {
      {"Content-Security-Policy", web::kContentSecurityPolicy},
      {"X-Content-Type-Options", "nosniff"},
      {"Referrer-Policy", "no-referrer"},
      {"X-Frame-Options", "DENY"},
      {"Cross-Origin-Opener-Policy", "same-origin"},
  };
  for (const auto& [name, value] : expected) {
    INFO(name);
    CHECK(headers.count(name) == 1);
    auto it = headers.find(name);
    REQUIRE(it != headers.end());
    CHECK(it->second == value);
  }
  CHECK(headers.count("Permissions-Policy") == 1);
  auto pp = headers.find("Permissions-Policy");
  REQUIRE(pp != headers.end());
  CHECK(pp->second.find("camera=(self)") != std::string::npos);
  CHECK(headers.count("Strict-Transport-Security") == (tls ? 1u : 0u));
}

// A configured server with the test app and one API route, on a free loopback port.
class AppServer {
 public:
  AppServer() {
    http::ConfigureServer(server_);
    server_.Get("/api/ping", [](const httplib::Request&, httplib::Response& res) {
      http::SendJson(res, {{"pong", true}});
    });
    server_.Post("/api/refuse", [](const httplib::Request&, httplib::Response& res) {
      // (Status built directly: GCC 12 reports a false -Warray-bounds for WithReason inlined here.)
      http::SendError(
          res, Status(StatusCode::kPermissionDenied, "csrf_invalid: refused", "csrf_invalid"));
    });
    web::ServeApp(server_, web_test_app, /*tls=*/false);
    auto port = http::BindServer(server_, "127.0.0.1", 0);
    REQUIRE(port);
    port_ = *port;
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~AppServer() {
    server_.stop();
    thread_.join();
  }
  httplib::Client Client() const { return httplib::Client("127.0.0.1", port_); }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

// `by_app`: answered by ServeApp's handler (not by ConfigureServer's 404 for unknown routes).
void CheckJsonNotFound(const httplib::Result& r, bool by_app) {
  REQUIRE(r);
  CHECK(r->status == 404);
  CHECK(r->get_header_value("Content-Type") == "application/json");
  const json body = json::parse(r->body);
  CHECK(body["error"] == "not_found");
  CHECK(body["error_description"] == (by_app ? "no such file in the app" : "no such endpoint"));
  CheckSecurityHeaders(r->headers, false);
}

}  // namespace

TEST_CASE("the embedded bundle holds the test app, sorted, with types and ETags", "[web][assets]") {
  const web::AssetBundle& b = web_test_app;
  REQUIRE(b.count == 5);  // .hidden.txt is skipped
  for (size_t i = 1; i < b.count; ++i)
    CHECK(std::string_view(b.assets[i - 1].path) < std::string_view(b.assets[i].path));

  const std::pair<const char*, const char*> files[] = {
      {"index.html", "text/html; charset=utf-8"}, {"js/app.js", "text/javascript; charset=utf-8"},
      {"css/app.css", "text/css; charset=utf-8"}, {"icons/logo.svg", "image/svg+xml"},
      {"empty.txt", "text/plain; charset=utf-8"},
  };
  for (const auto& [path, type] : files) {
    INFO(path);
    const web::Asset* a = web::FindAsset(b, path);
    REQUIRE(a != nullptr);
    CHECK(std::string_view(a->path) == path);
    CHECK(std::string_view(a->media_type) == type);
    const std::string want = TestAppFile(path);
    CHECK(std::string(reinterpret_cast<const char*>(a->data), a->size) == want);
    CHECK(std::string_view(a->etag) == ExpectedEtag(want));
  }
  CHECK(web::FindAsset(b, "empty.txt")->size == 0);
  CHECK(web::FindAsset(b, ".hidden.txt") == nullptr);
  CHECK(web::FindAsset(b, "missing.js") == nullptr);
  CHECK(web::FindAsset(b, "") == nullptr);
  CHECK(web::FindAsset(b, "js") == nullptr);
  CHECK(web::FindAsset(b, "/index.html") == nullptr);
  CHECK(web::FindAsset(web::AssetBundle{nullptr, 0}, "index.html") == nullptr);
}

TEST_CASE("SetSecurityHeaders: every header once, HSTS only with TLS", "[web][assets]") {
  httplib::Response plain;
  plain.set_header("X-Frame-Options", "SAMEORIGIN");  // replaced, not duplicated
  web::SetSecurityHeaders(plain, false);
  CheckSecurityHeaders(plain.headers, false);

  httplib::Response tls;
  web::SetSecurityHeaders(tls, true);
  web::SetSecurityHeaders(tls, true);
  CheckSecurityHeaders(tls.headers, true);
  CHECK(tls.get_header_value("Strict-Transport-Security") == "max-age=31536000");
}

TEST_CASE("ServeApp serves the app with caching and the security headers", "[web][assets][http]") {
  AppServer app;
  auto http = app.Client();
  const std::string index = TestAppFile("index.html");

  SECTION("/ is index.html, no-cache, with a strong ETag") {
    auto r = http.Get("/");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body == index);
    CHECK(r->get_header_value("Content-Type") == "text/html; charset=utf-8");
    CHECK(r->get_header_value("Cache-Control") == "no-cache");
    CHECK(r->get_header_value("ETag") == ExpectedEtag(index));
    CheckSecurityHeaders(r->headers, false);
  }

  SECTION("/app/<path> serves each asset, cacheable for an hour") {
    auto r = http.Get("/app/js/app.js");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body == TestAppFile("js/app.js"));
    CHECK(r->get_header_value("Content-Type") == "text/javascript; charset=utf-8");
    CHECK(r->get_header_value("Cache-Control") == "max-age=3600");
    CheckSecurityHeaders(r->headers, false);

    auto svg = http.Get("/app/icons/logo.svg");
    REQUIRE(svg);
    CHECK(svg->status == 200);
    CHECK(svg->get_header_value("Content-Type") == "image/svg+xml");

    auto empty = http.Get("/app/empty.txt");
    REQUIRE(empty);
    CHECK(empty->status == 200);
    CHECK(empty->body.empty());

    auto html = http.Get("/app/index.html");
    REQUIRE(html);
    CHECK(html->get_header_value("Cache-Control") == "no-cache");
  }

  SECTION("If-None-Match with the ETag is 304 with the headers") {
    const std::string etag = ExpectedEtag(index);
    for (const std::string& inm : {etag, "\"other\", " + etag, "W/" + etag, std::string("*")}) {
      INFO(inm);
      auto r = http.Get("/", {{"If-None-Match", inm}});
      REQUIRE(r);
      CHECK(r->status == 304);
      CHECK(r->body.empty());
      CHECK(r->get_header_value("ETag") == etag);
      CheckSecurityHeaders(r->headers, false);
    }
    auto stale = http.Get("/", {{"If-None-Match", "\"0123\""}});
    REQUIRE(stale);
    CHECK(stale->status == 200);
    CHECK(stale->body == index);

    const std::string css_etag = ExpectedEtag(TestAppFile("css/app.css"));
    auto css = http.Get("/app/css/app.css", {{"If-None-Match", css_etag}});
    REQUIRE(css);
    CHECK(css->status == 304);
    CHECK(css->get_header_value("Cache-Control") == "max-age=3600");
  }

  SECTION("HEAD answers the headers without the body") {
    auto r = http.Head("/");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body.empty());
    CHECK(r->get_header_value("Content-Length") == std::to_string(index.size()));
    CHECK(r->get_header_value("ETag") == ExpectedEtag(index));
    CheckSecurityHeaders(r->headers, false);

    auto js = http.Head("/app/js/app.js");
    REQUIRE(js);
    CHECK(js->status == 200);
    CHECK(js->body.empty());
    CHECK(js->get_header_value("Content-Type") == "text/javascript; charset=utf-8");
  }

  SECTION("paths that would leave the bundle are JSON 404s with the headers") {
    for (const char* path :
         {"/app/../x", "/app/%2e%2e/x", "/app/%2E%2E/%2E%2E/etc/passwd", "/app/js/../index.html",
          "/app/./index.html", "/app//index.html", "/app/js//app.js", "/app/%2findex.html",
          "/app/js%5capp.js", "/app/index.html%00", "/app/", "/app/missing.js", "/app/.hidden.txt",
          "/app/js"}) {
      INFO(path);
      CheckJsonNotFound(http.Get(path), true);
    }
  }

  SECTION("API answers and errors of the same server carry the headers") {
    auto ping = http.Get("/api/ping");
    REQUIRE(ping);
    CHECK(ping->status == 200);
    CHECK(json::parse(ping->body)["pong"] == true);
    CheckSecurityHeaders(ping->headers, false);

    auto refused = http.Post("/api/refuse", "{}", "application/json");
    REQUIRE(refused);
    CHECK(refused->status == 403);
    CHECK(json::parse(refused->body)["reason"] == "csrf_invalid");
    CheckSecurityHeaders(refused->headers, false);

    // ConfigureServer's error handler answers these; the post-routing handler still runs.
    CheckJsonNotFound(http.Get("/no/such/route"), false);
    auto wrong_method = http.Delete("/api/ping");
    REQUIRE(wrong_method);
    CHECK(wrong_method->status >= 400);
    CheckSecurityHeaders(wrong_method->headers, false);
    auto too_large =
        http.Post("/api/refuse", std::string(http::kMaxRequestBody + 1, 'x'), "application/json");
    if (too_large) {  // httplib may close the connection before the client has sent it all
      CHECK(too_large->status == 413);
      CheckSecurityHeaders(too_large->headers, false);
    }
  }
}

TEST_CASE("ServeApp with TLS adds Strict-Transport-Security to every response",
          "[web][assets][http]") {
  // The header does not depend on the transport: a plain server told tls=true shows it.
  httplib::Server s;
  http::ConfigureServer(s);
  web::ServeApp(s, web_test_app, /*tls=*/true);
  auto port = http::BindServer(s, "127.0.0.1", 0);
  REQUIRE(port);
  std::thread t([&] { s.listen_after_bind(); });
  while (!s.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  httplib::Client http("127.0.0.1", *port);
  auto index = http.Get("/");
  auto missing = http.Get("/nothing");
  s.stop();
  t.join();
  REQUIRE(index);
  CHECK(index->status == 200);
  CheckSecurityHeaders(index->headers, true);
  REQUIRE(missing);
  CHECK(missing->status == 404);
  CheckSecurityHeaders(missing->headers, true);
}

TEST_CASE("ServeApp with a bundle without index.html answers / with a JSON 404",
          "[web][assets][http]") {
  static const unsigned char kJs[] = {'1'};
  static const web::Asset kOnly[] = {{"a.js", "text/javascript; charset=utf-8", kJs, 1, "\"00\""}};
  httplib::Server s;
  http::ConfigureServer(s);
  web::ServeApp(s, web::AssetBundle{kOnly, 1}, false);
  auto port = http::BindServer(s, "127.0.0.1", 0);
  REQUIRE(port);
  std::thread t([&] { s.listen_after_bind(); });
  while (!s.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  httplib::Client http("127.0.0.1", *port);
  auto root = http.Get("/");
  auto js = http.Get("/app/a.js");
  s.stop();
  t.join();
  CheckJsonNotFound(root, true);
  REQUIRE(js);
  CHECK(js->body == "1");
}

TEST_CASE("ServeAppAt serves the app under a path prefix", "[web][assets][http]") {
  httplib::Server s;
  http::ConfigureServer(s);
  for (const char* bad :
       {"c", "/", "/c/", "/c//x", "/c/../x", "/c/./x", "/c/a b", "/c/%2e", "/c\\x"}) {
    INFO(bad);
    CHECK(web::ServeAppAt(s, bad, web_test_app, false).code() == StatusCode::kInvalidArgument);
  }
  REQUIRE(web::ServeAppAt(s, "/c/alice", web_test_app, false).ok());
  REQUIRE(web::ServeAppAt(s, "/c/bob.x", web_test_app, false).ok());
  auto port = http::BindServer(s, "127.0.0.1", 0);
  REQUIRE(port);
  std::thread t([&] { s.listen_after_bind(); });
  while (!s.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  httplib::Client http("127.0.0.1", *port);
  auto index = http.Get("/c/alice/");
  auto js = http.Get("/c/bob.x/app/js/app.js");
  auto bare = http.Get("/c/alice");
  auto head_bare = http.Head("/c/bob.x");
  auto root = http.Get("/");
  auto root_app = http.Get("/app/js/app.js");
  auto dot_is_literal = http.Get("/c/bobXx/");
  auto traversal = http.Get("/c/alice/app/%2e%2e/%2e%2e/x");
  s.stop();
  t.join();

  REQUIRE(index);
  CHECK(index->status == 200);
  CHECK(index->body == TestAppFile("index.html"));
  CheckSecurityHeaders(index->headers, false);
  REQUIRE(js);
  CHECK(js->status == 200);
  CHECK(js->body == TestAppFile("js/app.js"));
  REQUIRE(bare);
  CHECK(bare->status == 308);
  CHECK(bare->get_header_value("Location") == "/c/alice/");
  CheckSecurityHeaders(bare->headers, false);
  REQUIRE(head_bare);
  CHECK(head_bare->status == 308);
  CHECK(head_bare->get_header_value("Location") == "/c/bob.x/");
  CheckJsonNotFound(root, false);
  CheckJsonNotFound(root_app, false);
  CheckJsonNotFound(dot_is_literal, false);
  CheckJsonNotFound(traversal, true);
}
