// did:web over HTTPS end to end: a throwaway CA and server certificates made at test time
// (OpenSSL 3), an httplib::SSLServer on 127.0.0.1 publishing a did.json, and
// HttpsDocumentFetcher + DidWebResolver resolving did:web:localhost%3A<port> against it; then
// every way the fetch must fail (untrusted CA, wrong name, plain HTTP, oversized body, foreign
// redirect, wrong media type, a document for another DID).
#include "medallion/roles/did_web_http.h"

#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sodium.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "medallion/core/env.h"
#include "medallion/did/did_web.h"
#include "medallion/did/resolver.h"
#include "medallion/http/http.h"

using namespace medallion;
using namespace medallion::did;
using medallion::roles::DidWebDocumentPath;
using medallion::roles::HttpsDocumentFetcher;
using medallion::roles::HttpsFetcherOptions;
using medallion::roles::RegisterDidWebDocument;

namespace {

using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;

PkeyPtr NewKey() {
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), EVP_PKEY_free);
  REQUIRE(key != nullptr);
  return key;
}

void AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  REQUIRE(ext != nullptr);
  REQUIRE(X509_add_ext(cert, ext, -1) == 1);
  X509_EXTENSION_free(ext);
}

// A CA certificate when issuer is null (self-signed), else a TLS server certificate with the
// given subjectAltName (null: none, only the Common Name).
X509Ptr MakeCertificate(EVP_PKEY* key, const char* common_name, X509* issuer, EVP_PKEY* issuer_key,
                        const char* san) {
  static std::atomic<long> serial{1000};
  X509Ptr cert(X509_new(), X509_free);
  REQUIRE(cert != nullptr);
  X509* c = cert.get();
  REQUIRE(X509_set_version(c, 2) == 1);
  REQUIRE(ASN1_INTEGER_set(X509_get_serialNumber(c), serial++) == 1);
  REQUIRE(X509_gmtime_adj(X509_getm_notBefore(c), -3600) != nullptr);
  REQUIRE(X509_gmtime_adj(X509_getm_notAfter(c), 24 * 3600) != nullptr);
  REQUIRE(X509_set_pubkey(c, key) == 1);
  X509_NAME* name = X509_get_subject_name(c);
  REQUIRE(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                     reinterpret_cast<const unsigned char*>(common_name), -1, -1,
                                     0) == 1);
  X509* signer = issuer != nullptr ? issuer : c;
  REQUIRE(X509_set_issuer_name(c, X509_get_subject_name(signer)) == 1);
  if (issuer == nullptr) {
    AddExtension(c, signer, NID_basic_constraints, "critical,CA:TRUE");
    AddExtension(c, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    AddExtension(c, signer, NID_basic_constraints, "critical,CA:FALSE");
    AddExtension(c, signer, NID_key_usage, "critical,digitalSignature");
    AddExtension(c, signer, NID_ext_key_usage, "serverAuth");
    if (san != nullptr) AddExtension(c, signer, NID_subject_alt_name, san);
  }
  AddExtension(c, signer, NID_subject_key_identifier, "hash");
  AddExtension(c, signer, NID_authority_key_identifier, "keyid:always");
  REQUIRE(X509_sign(c, issuer_key != nullptr ? issuer_key : key, EVP_sha256()) > 0);
  return cert;
}

void WritePem(const std::filesystem::path& path, X509* cert) {
  BIO* bio = BIO_new_file(path.c_str(), "w");
  REQUIRE(bio != nullptr);
  const int ok = PEM_write_bio_X509(bio, cert);
  BIO_free(bio);
  REQUIRE(ok == 1);
}

// Two CAs, and server keys and certificates issued by the first one.
struct Pki {
  std::filesystem::path dir;
  PkeyPtr ca_key = NewKey(), other_ca_key = NewKey(), server_key = NewKey();
  X509Ptr ca{nullptr, X509_free}, other_ca{nullptr, X509_free};
  X509Ptr localhost_cert{nullptr, X509_free};   // SAN localhost, 127.0.0.1, ::1
  X509Ptr other_name_cert{nullptr, X509_free};  // CN=localhost but SAN other.example
  X509Ptr cn_only_cert{nullptr, X509_free};     // CN=localhost, no SAN
  X509Ptr untrusted_cert{nullptr, X509_free};   // SAN localhost, from the other CA
  std::string ca_file, other_ca_file;

  Pki() {
    dir = std::filesystem::temp_directory_path() /
          ("medallion-didweb-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::create_directories(dir);
    ca = MakeCertificate(ca_key.get(), "Medallion Test CA", nullptr, nullptr, nullptr);
    other_ca = MakeCertificate(other_ca_key.get(), "Some Other CA", nullptr, nullptr, nullptr);
    localhost_cert = MakeCertificate(server_key.get(), "localhost", ca.get(), ca_key.get(),
                                     "DNS:localhost,IP:127.0.0.1,IP:::1");
    other_name_cert =
        MakeCertificate(server_key.get(), "localhost", ca.get(), ca_key.get(), "DNS:other.example");
    cn_only_cert = MakeCertificate(server_key.get(), "localhost", ca.get(), ca_key.get(), nullptr);
    untrusted_cert = MakeCertificate(server_key.get(), "localhost", other_ca.get(),
                                     other_ca_key.get(), "DNS:localhost,IP:127.0.0.1");
    ca_file = (dir / "ca.pem").string();
    other_ca_file = (dir / "other-ca.pem").string();
    WritePem(ca_file, ca.get());
    WritePem(other_ca_file, other_ca.get());
  }
  ~Pki() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  Pki(const Pki&) = delete;
  Pki& operator=(const Pki&) = delete;

 private:
  static inline std::atomic<int> counter_{0};
};

// The document an endpoint publishes; settable after the port is known.
class DocumentBox {
 public:
  void Set(DidDocument doc) {
    std::lock_guard<std::mutex> lock(mu_);
    doc_ = std::move(doc);
  }
  DidDocument Get() {
    std::lock_guard<std::mutex> lock(mu_);
    return doc_;
  }
  std::function<DidDocument()> Source() {
    return [this] { return Get(); };
  }

 private:
  std::mutex mu_;
  DidDocument doc_;
};

// An httplib server on 127.0.0.1:<any port>, configured the Medallion way. Register routes on
// http() before Start(); stopped and joined on destruction.
class TestServer {
 public:
  explicit TestServer(std::unique_ptr<httplib::Server> server) : server_(std::move(server)) {
    REQUIRE(server_->is_valid());
    medallion::http::ConfigureServer(*server_);
    port_ = server_->bind_to_any_port("127.0.0.1");
    REQUIRE(port_ > 0);
  }
  ~TestServer() {
    server_->stop();
    if (thread_.joinable()) thread_.join();
  }
  httplib::Server& http() { return *server_; }
  int port() const { return port_; }
  void Start() {
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    for (int i = 0; i < 5000 && !server_->is_running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    REQUIRE(server_->is_running());
  }

 private:
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
  std::thread thread_;
};

std::unique_ptr<httplib::Server> Tls(X509* cert, EVP_PKEY* key) {
  return std::make_unique<httplib::SSLServer>(cert, key);
}

DidDocument MakeDocument(const std::string& did, uint8_t seed_byte = 7) {
  REQUIRE(sodium_init() >= 0);
  uint8_t seed[crypto_sign_SEEDBYTES];
  std::fill(std::begin(seed), std::end(seed), seed_byte);
  uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_seed_keypair(pk, sk, seed);
  DidDocument doc;
  doc.id = did;
  REQUIRE(AddKey(doc, KeyType::kEd25519, ByteView(pk, sizeof pk),
                 {Relationship::kAuthentication, Relationship::kAssertionMethod})
              .ok());
  return doc;
}

std::string Origin(const char* scheme, const char* host, int port) {
  return std::string(scheme) + "://" + host + ":" + std::to_string(port);
}

std::string LocalDid(int port) { return "did:web:localhost%3A" + std::to_string(port); }

HttpsDocumentFetcher TrustingFetcher(const Pki& pki) {
  HttpsFetcherOptions o;
  o.ca_file = pki.ca_file;
  return HttpsDocumentFetcher(o);
}

StatusCode CodeOf(const Result<std::string>& r) {
  return r.has_value() ? StatusCode::kOk : r.error().code();
}

}  // namespace

TEST_CASE("did:web over HTTPS: did:web:localhost%3A<port> resolves end to end", "[http][didweb]") {
  Pki pki;
  DocumentBox root, branch;  // before the server: its handlers read them
  TestServer server(Tls(pki.localhost_cert.get(), pki.server_key.get()));
  const std::string did = LocalDid(server.port());
  const std::string branch_did = did + ":org:pharmacy";
  root.Set(MakeDocument(did, 1));
  branch.Set(MakeDocument(branch_did, 2));
  RegisterDidWebDocument(server.http(), root.Source(), "");
  RegisterDidWebDocument(server.http(), branch.Source(), "org/pharmacy");
  server.Start();

  HttpsFetcherOptions options;
  options.ca_file = pki.ca_file;
  auto fetcher = std::make_shared<HttpsDocumentFetcher>(options);
  FakeClock clock(1'800'000'000'000);
  auto web = std::make_shared<DidWebResolver>(fetcher, Env{&clock, nullptr}, 60'000);
  Resolver resolver;
  resolver.Register(web);

  SECTION("the host's DID at /.well-known/did.json") {
    ResolutionResult r = resolver.Resolve(did);
    INFO(r.error << ": " << r.error_message);
    REQUIRE(r.ok());
    CHECK(r.document->ToJson() == root.Get().ToJson());
    const VerificationMethod key = root.Get().verification_methods.at(0);
    auto vm = resolver.DereferenceMethod(key.id, Relationship::kAuthentication);
    REQUIRE(vm.has_value());
    CHECK(vm->public_key == key.public_key);
  }
  SECTION("a DID with a path at /<path>/did.json") {
    ResolutionResult r = resolver.Resolve(branch_did);
    INFO(r.error << ": " << r.error_message);
    REQUIRE(r.ok());
    CHECK(r.document->ToJson() == branch.Get().ToJson());
  }
  SECTION("an update is published at once and seen after the cache TTL") {
    REQUIRE(resolver.Resolve(did).ok());
    root.Set(MakeDocument(did, 3));
    CHECK(resolver.Resolve(did).document->ToJson() != root.Get().ToJson());
    clock.Advance(60'000);
    ResolutionResult r = resolver.Resolve(did);
    REQUIRE(r.ok());
    CHECK(r.document->ToJson() == root.Get().ToJson());
  }
  SECTION("the endpoint's answer: application/did+json, public, the document") {
    httplib::SSLClient client("localhost", server.port());
    client.set_ca_cert_path(pki.ca_file);
    client.enable_server_certificate_verification(true);
    auto res = client.Get("/.well-known/did.json");
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(res->get_header_value("Content-Type") == "application/did+json");
    CHECK(res->get_header_value("Access-Control-Allow-Origin") == "*");
    CHECK(nlohmann::json::parse(res->body) == root.Get().ToJson());
    CHECK(client.Get("/org/did.json")->status == 404);
  }
  SECTION("an IP host is checked against the iPAddress SAN") {
    auto body =
        fetcher->Fetch(Origin("https", "127.0.0.1", server.port()) + "/.well-known/did.json");
    INFO((body ? std::string() : body.error().ToString()));
    REQUIRE(body.has_value());
    CHECK(nlohmann::json::parse(*body) == root.Get().ToJson());
  }
  SECTION("a missing document is notFound") {
    CHECK(resolver.Resolve(did + ":nobody").error == kNotFound);
  }
}

TEST_CASE("did:web over HTTPS: certificate verification", "[http][didweb][tls]") {
  Pki pki;
  const std::string path = "/.well-known/did.json";

  SECTION("a certificate from an untrusted CA is refused, also by the system store") {
    DocumentBox box;
    TestServer server(Tls(pki.untrusted_cert.get(), pki.server_key.get()));
    box.Set(MakeDocument(LocalDid(server.port())));
    RegisterDidWebDocument(server.http(), box.Source(), "");
    server.Start();
    auto got = TrustingFetcher(pki).Fetch(Origin("https", "localhost", server.port()) + path);
    REQUIRE(CodeOf(got) == StatusCode::kUnavailable);
    CHECK(got.error().message().find("certificate") != std::string::npos);
    CHECK(CodeOf(HttpsDocumentFetcher().Fetch(Origin("https", "localhost", server.port()) +
                                              path)) == StatusCode::kUnavailable);
    // Trusting only the other CA does not help a certificate from the first one, either.
    HttpsFetcherOptions other;
    other.ca_file = pki.other_ca_file;
    TestServer good(Tls(pki.localhost_cert.get(), pki.server_key.get()));
    RegisterDidWebDocument(good.http(), box.Source(), "");
    good.Start();
    CHECK(CodeOf(HttpsDocumentFetcher(other).Fetch(Origin("https", "localhost", good.port()) +
                                                   path)) == StatusCode::kUnavailable);
    // Through the resolver: internalError, never a document.
    FakeClock clock(0);
    DidWebResolver web(std::make_shared<HttpsDocumentFetcher>(other), Env{&clock, nullptr}, 60'000);
    ResolutionResult r = web.Resolve(LocalDid(good.port()), {});
    CHECK(r.error == kInternalError);
    CHECK_FALSE(r.document.has_value());
  }
  SECTION("a certificate for another name is refused, even with CN=localhost") {
    DocumentBox box;
    TestServer server(Tls(pki.other_name_cert.get(), pki.server_key.get()));
    box.Set(MakeDocument(LocalDid(server.port())));
    RegisterDidWebDocument(server.http(), box.Source(), "");
    server.Start();
    auto got = TrustingFetcher(pki).Fetch(Origin("https", "localhost", server.port()) + path);
    REQUIRE(CodeOf(got) == StatusCode::kUnavailable);
    CHECK(got.error().message().find("certificate") != std::string::npos);
    CHECK(CodeOf(TrustingFetcher(pki).Fetch(Origin("https", "127.0.0.1", server.port()) + path)) ==
          StatusCode::kUnavailable);
  }
  SECTION("the subject Common Name alone never names the host") {
    DocumentBox box;
    TestServer server(Tls(pki.cn_only_cert.get(), pki.server_key.get()));
    box.Set(MakeDocument(LocalDid(server.port())));
    RegisterDidWebDocument(server.http(), box.Source(), "");
    server.Start();
    CHECK(CodeOf(TrustingFetcher(pki).Fetch(Origin("https", "localhost", server.port()) + path)) ==
          StatusCode::kUnavailable);
  }
}

TEST_CASE("did:web over HTTP: plain HTTP only with the loopback flag", "[http][didweb]") {
  DocumentBox box;
  TestServer server(std::make_unique<httplib::Server>());
  const std::string did = LocalDid(server.port());
  box.Set(MakeDocument(did));
  RegisterDidWebDocument(server.http(), box.Source(), "");
  server.Start();
  const std::string path = "/.well-known/did.json";

  HttpsDocumentFetcher strict;
  CHECK(CodeOf(strict.Fetch(Origin("http", "127.0.0.1", server.port()) + path)) ==
        StatusCode::kInvalidArgument);
  CHECK(CodeOf(strict.Fetch(Origin("http", "localhost", server.port()) + path)) ==
        StatusCode::kInvalidArgument);
  // The resolver's https URL against a plain server: the TLS handshake fails.
  CHECK(CodeOf(strict.Fetch(Origin("https", "localhost", server.port()) + path)) ==
        StatusCode::kUnavailable);

  HttpsFetcherOptions dev;
  dev.allow_insecure_loopback = true;
  auto insecure = std::make_shared<HttpsDocumentFetcher>(dev);
  CHECK(CodeOf(insecure->Fetch(Origin("http", "127.0.0.1", server.port()) + path)) ==
        StatusCode::kOk);
  CHECK(CodeOf(insecure->Fetch(Origin("http", "localhost", server.port()) + path)) ==
        StatusCode::kOk);
  CHECK(CodeOf(insecure->Fetch(Origin("https", "localhost", server.port()) + path)) ==
        StatusCode::kOk);
  // The flag never extends to other hosts (refused before any connection).
  CHECK(CodeOf(insecure->Fetch("http://example.com/.well-known/did.json")) ==
        StatusCode::kInvalidArgument);
  CHECK(CodeOf(insecure->Fetch("http://10.0.0.1:" + std::to_string(server.port()) + path)) ==
        StatusCode::kInvalidArgument);
  CHECK(CodeOf(insecure->Fetch("http://127.0.0.2:" + std::to_string(server.port()) + path)) ==
        StatusCode::kInvalidArgument);

  FakeClock clock(0);
  DidWebResolver web(insecure, Env{&clock, nullptr}, 60'000);
  ResolutionResult r = web.Resolve(did, {});
  INFO(r.error << ": " << r.error_message);
  REQUIRE(r.ok());
  CHECK(r.document->id == did);
}

TEST_CASE("did:web over HTTPS: what a server may not answer", "[http][didweb]") {
  Pki pki;
  DocumentBox root, impostor;
  TestServer server(Tls(pki.localhost_cert.get(), pki.server_key.get()));
  const std::string did = LocalDid(server.port());
  root.Set(MakeDocument(did));
  impostor.Set(MakeDocument("did:web:other.example"));
  RegisterDidWebDocument(server.http(), root.Source(), "");
  RegisterDidWebDocument(server.http(), impostor.Source(),
                         "impostor");  // id's path does not match: 500
  auto& http = server.http();
  const std::string padding(2 * kDidWebMaxDocumentBytes, ' ');
  http.Get("/big/did.json", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content("{\"id\":\"" + did + "\"}" + padding, "application/did+json");
  });
  http.Get("/exact/did.json", [&](const httplib::Request&, httplib::Response& res) {
    std::string body = "{}";
    body += std::string(kDidWebMaxDocumentBytes - body.size(), ' ');
    res.set_content(body, "application/json");
  });
  http.Get("/chunked/did.json", [](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("application/did+json",
                                     [](size_t offset, httplib::DataSink& sink) {
                                       if (offset >= 4 * kDidWebMaxDocumentBytes) {
                                         sink.done();
                                         return true;
                                       }
                                       const std::string chunk(1024, ' ');
                                       return sink.write(chunk.data(), chunk.size());
                                     });
  });
  http.Get("/html/did.json", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(root.Get().ToJson().dump(), "text/html");
  });
  http.Get("/plain/did.json", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(root.Get().ToJson().dump(), "text/plain; charset=utf-8");
  });
  http.Get("/ld/did.json", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(root.Get().ToJson().dump(), "Application/DID+LD+JSON; charset=utf-8");
  });
  http.Get("/gone/did.json",
           [](const httplib::Request&, httplib::Response& res) { res.status = 410; });
  http.Get("/error/did.json",
           [](const httplib::Request&, httplib::Response& res) { res.status = 500; });
  http.Get("/moved/did.json", [](const httplib::Request&, httplib::Response& res) {
    res.set_redirect("/.well-known/did.json", 301);
  });
  http.Get("/moved-absolute/did.json", [&](const httplib::Request&, httplib::Response& res) {
    res.set_redirect("https://localhost:" + std::to_string(server.port()) + "/.well-known/did.json",
                     302);
  });
  http.Get("/elsewhere/did.json", [](const httplib::Request&, httplib::Response& res) {
    res.set_redirect("https://other.example/.well-known/did.json", 302);
  });
  http.Get("/other-port/did.json", [](const httplib::Request&, httplib::Response& res) {
    res.set_redirect("https://localhost:1/.well-known/did.json", 307);
  });
  http.Get("/downgrade/did.json", [&](const httplib::Request&, httplib::Response& res) {
    res.set_redirect("http://localhost:" + std::to_string(server.port()) + "/.well-known/did.json",
                     302);
  });
  http.Get("/loop/did.json", [](const httplib::Request&, httplib::Response& res) {
    res.set_redirect("/loop/did.json", 302);
  });
  server.Start();

  auto fetcher = std::make_shared<HttpsDocumentFetcher>(TrustingFetcher(pki));
  const std::string origin = Origin("https", "localhost", server.port());
  auto fetch = [&](const std::string& path) { return fetcher->Fetch(origin + path); };

  SECTION("bodies over the cap, with a Content-Length or chunked") {
    CHECK(CodeOf(fetch("/big/did.json")) == StatusCode::kInvalidArgument);
    CHECK(CodeOf(fetch("/chunked/did.json")) == StatusCode::kInvalidArgument);
    auto exact = fetch("/exact/did.json");
    REQUIRE(exact.has_value());
    CHECK(exact->size() == kDidWebMaxDocumentBytes);
    FakeClock clock(0);
    DidWebResolver web(fetcher, Env{&clock, nullptr}, 60'000);
    CHECK(web.Resolve(did + ":big", {}).error == kInvalidDidDocument);
    CHECK(web.Resolve(did + ":chunked", {}).error == kInvalidDidDocument);
  }
  SECTION("media types") {
    CHECK(CodeOf(fetch("/html/did.json")) == StatusCode::kInvalidArgument);
    CHECK(CodeOf(fetch("/plain/did.json")) == StatusCode::kInvalidArgument);
    CHECK(CodeOf(fetch("/ld/did.json")) == StatusCode::kOk);
    CHECK(CodeOf(fetch("/.well-known/did.json")) == StatusCode::kOk);
  }
  SECTION("statuses") {
    CHECK(CodeOf(fetch("/nothing/did.json")) == StatusCode::kNotFound);
    CHECK(CodeOf(fetch("/gone/did.json")) == StatusCode::kNotFound);
    CHECK(CodeOf(fetch("/error/did.json")) == StatusCode::kUnavailable);
  }
  SECTION("redirects: same origin followed, anything else refused") {
    CHECK(CodeOf(fetch("/moved/did.json")) == StatusCode::kOk);
    CHECK(CodeOf(fetch("/moved-absolute/did.json")) == StatusCode::kOk);
    CHECK(CodeOf(fetch("/elsewhere/did.json")) == StatusCode::kInvalidArgument);
    CHECK(CodeOf(fetch("/other-port/did.json")) == StatusCode::kInvalidArgument);
    CHECK(CodeOf(fetch("/downgrade/did.json")) == StatusCode::kInvalidArgument);
    CHECK(CodeOf(fetch("/loop/did.json")) == StatusCode::kUnavailable);
  }
  SECTION("a document for another DID is refused by the resolver") {
    // The same path serving did:web:other.example (the endpoint checks only the path).
    root.Set(MakeDocument("did:web:other.example"));
    FakeClock clock(0);
    DidWebResolver web(fetcher, Env{&clock, nullptr}, 60'000);
    ResolutionResult r = web.Resolve(did, {});
    CHECK(r.error == kInvalidDidDocument);
    CHECK_FALSE(r.document.has_value());
    // A publisher whose document id does not map to the path it serves gets a JSON 500.
    auto got = fetch("/impostor/did.json");
    CHECK(CodeOf(got) == StatusCode::kUnavailable);
    CHECK(web.Resolve(did + ":impostor", {}).error == kInternalError);
  }
  SECTION("URLs refused before connecting") {
    for (const std::string& bad : std::vector<std::string>{
             "ftp://localhost/.well-known/did.json", "https://user@localhost/.well-known/did.json",
             origin + "/.well-known/did.json#x", origin + "/a b/did.json", "localhost/did.json",
             "https:///did.json", "https://localhost:0/did.json",
             "https://localhost:99999/did.json", "https://local_host/did.json",
             "https://[::1/did.json", origin + "/\r\nX: y"}) {
      INFO(bad);
      CHECK(CodeOf(fetcher->Fetch(bad)) == StatusCode::kInvalidArgument);
    }
  }
}

TEST_CASE("did:web publishing paths", "[http][didweb]") {
  CHECK(*DidWebDocumentPath("") == "/.well-known/did.json");
  CHECK(*DidWebDocumentPath("/") == "/.well-known/did.json");
  CHECK(*DidWebDocumentPath("user/alice") == "/user/alice/did.json");
  CHECK(*DidWebDocumentPath("/user/alice/") == "/user/alice/did.json");
  CHECK(*DidWebDocumentPath(".well-known/x") == "/.well-known/x/did.json");
  for (const char* bad : {"user//alice", "..", "user/../admin", "./x", "a b", "a%2Fb", "a:b",
                          ".well-known", "/.well-known/"}) {
    INFO(bad);
    CHECK_FALSE(DidWebDocumentPath(bad).has_value());
  }
}
