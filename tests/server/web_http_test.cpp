// The container's browser side over HTTP (docs/web.md), with a software authenticator written
// here from WebAuthn Level 3 (§6.1 authenticator data, §6.5 attestation object, "none"
// attestation; Ed25519 COSE keys, RFC 9053 §2.2; CBOR by hand, RFC 8949 §3): one-time setup
// links, registration and sign-in ceremonies, replayed challenges, counter regression, cookie
// flags, CSRF and same-origin rules on the owner API, another owner's session, sign-out
// (everywhere), SSE, the pairing QR code, the disclosure check, and bad input that changes
// nothing. The browser suite (tests/browser) does the same with Chromium's authenticator.
#include <catch2/catch.hpp>
#include <httplib.h>
#include <sodium.h>

#include <filesystem>
#include <thread>

#include "medallion/core/encoding.h"
#include "medallion/core/env.h"
#include "medallion/core/hash.h"
#include "medallion/did/did_key.h"
#include "medallion/http/http.h"
#include "medallion/roles/container.h"

using namespace medallion;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string OwnerDid() {
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_keypair(pk, sk);
  sodium_memzero(sk, sizeof sk);
  return "did:key:" +
         *did::MultikeyFromPublicKey(did::KeyType::kEd25519, Bytes(pk, pk + sizeof pk));
}

// --- CBOR (RFC 8949 §3), only what an attestation object needs ---
void Head(Bytes& out, uint8_t major, uint64_t n) {
  if (n < 24) {
    out.push_back(static_cast<uint8_t>(major << 5 | n));
  } else if (n < 256) {
    out.push_back(static_cast<uint8_t>(major << 5 | 24));
    out.push_back(static_cast<uint8_t>(n));
  } else {
    out.push_back(static_cast<uint8_t>(major << 5 | 25));
    out.push_back(static_cast<uint8_t>(n >> 8));
    out.push_back(static_cast<uint8_t>(n));
  }
}
void Text(Bytes& out, std::string_view s) {
  Head(out, 3, s.size());
  out.insert(out.end(), s.begin(), s.end());
}
void ByteString(Bytes& out, ByteView b) {
  Head(out, 2, b.size());
  out.insert(out.end(), b.begin(), b.end());
}
void Int(Bytes& out, int64_t v) {
  v >= 0 ? Head(out, 0, static_cast<uint64_t>(v)) : Head(out, 1, static_cast<uint64_t>(-1 - v));
}

void Append(Bytes& out, ByteView b) { out.insert(out.end(), b.begin(), b.end()); }
void Be32(Bytes& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(v >> s));
}

// A software authenticator with one Ed25519 credential (a passkey: the user handle is kept).
struct Authenticator {
  unsigned char pk[crypto_sign_PUBLICKEYBYTES]{}, sk[crypto_sign_SECRETKEYBYTES]{};
  Bytes credential_id = Bytes(16);
  Bytes user_handle;
  uint32_t counter = 0;

  Authenticator() {
    crypto_sign_keypair(pk, sk);
    randombytes_buf(credential_id.data(), credential_id.size());
  }
  ~Authenticator() { sodium_memzero(sk, sizeof sk); }

  static Bytes RpIdHash(const std::string& rp_id) {
    const Hash256 h = Sha256(AsBytes(rp_id));
    return Bytes(h.begin(), h.end());
  }
  static std::string ClientData(const std::string& type, const std::string& challenge,
                                const std::string& origin) {
    return json{
        {"type", type}, {"challenge", challenge}, {"origin", origin}, {"crossOrigin", false}}
        .dump();
  }

  // navigator.credentials.create() answered: the JSON the app posts.
  json Create(const json& options, const std::string& origin, uint8_t flags = 0x45) {
    user_handle = *Base64UrlDecode(options["user"]["id"].get<std::string>());
    const std::string cdj = ClientData("webauthn.create", options["challenge"], origin);
    Bytes auth = RpIdHash(options["rp"]["id"]);
    auth.push_back(flags);  // UP, UV, AT
    Be32(auth, counter);
    Append(auth, Bytes(16, 0));  // AAGUID
    auth.push_back(0);
    auth.push_back(static_cast<uint8_t>(credential_id.size()));
    Append(auth, credential_id);
    Bytes cose;  // {1: 1 (OKP), 3: -8 (EdDSA), -1: 6 (Ed25519), -2: x}
    Head(cose, 5, 4);
    Int(cose, 1), Int(cose, 1), Int(cose, 3), Int(cose, -8), Int(cose, -1), Int(cose, 6),
        Int(cose, -2);
    ByteString(cose, ByteView(pk, sizeof pk));
    Append(auth, cose);
    Bytes att;
    Head(att, 5, 3);
    Text(att, "fmt"), Text(att, "none"), Text(att, "attStmt"), Head(att, 5, 0),
        Text(att, "authData"), ByteString(att, auth);
    const std::string id = Base64UrlEncode(credential_id);
    return {{"name", "Test key"},
            {"credential",
             {{"id", id},
              {"rawId", id},
              {"type", "public-key"},
              {"response",
               {{"clientDataJSON", Base64UrlEncode(AsBytes(cdj))},
                {"attestationObject", Base64UrlEncode(att)}}}}}};
  }

  // navigator.credentials.get() answered with signature counter `count`.
  json Get(const json& options, const std::string& origin, uint32_t count) {
    const std::string cdj = ClientData("webauthn.get", options["challenge"], origin);
    Bytes auth = RpIdHash(options["rpId"]);
    auth.push_back(0x05);  // UP, UV
    Be32(auth, count);
    Bytes signed_data = auth;
    const Hash256 ch = Sha256(AsBytes(cdj));
    Append(signed_data, ByteView(ch.data(), ch.size()));
    unsigned char sig[crypto_sign_BYTES];
    crypto_sign_detached(sig, nullptr, signed_data.data(), signed_data.size(), sk);
    const std::string id = Base64UrlEncode(credential_id);
    return {{"credential",
             {{"id", id},
              {"rawId", id},
              {"type", "public-key"},
              {"response",
               {{"clientDataJSON", Base64UrlEncode(AsBytes(cdj))},
                {"authenticatorData", Base64UrlEncode(auth)},
                {"signature", Base64UrlEncode(ByteView(sig, sizeof sig))},
                {"userHandle", Base64UrlEncode(user_handle)}}}}}};
  }
};

// A browser: one origin, its cookie jar of one cookie, its CSRF token.
struct Browser {
  std::string base, origin, cookie, csrf, name;
  httplib::Client http;
  explicit Browser(const std::string& b, const std::string& o)
      : base(b), origin(o), name("mdl_session_" + o.substr(o.rfind(':') + 1)), http(b) {}

  httplib::Headers Headers(bool with_origin = true, bool with_csrf = true) const {
    httplib::Headers h;
    if (with_origin) h.emplace("Origin", origin);
    if (!cookie.empty()) h.emplace("Cookie", name + "=" + cookie);
    if (with_csrf && !csrf.empty()) h.emplace("X-CSRF-Token", csrf);
    return h;
  }
  // Takes the session cookie of a Set-Cookie answer.
  void Keep(const httplib::Result& r) {
    const std::string set = r->get_header_value("Set-Cookie");
    if (set.rfind(name + "=", 0) != 0) return;
    cookie = set.substr(name.size() + 1, set.find(';') - name.size() - 1);
    auto body = json::parse(r->body, nullptr, false);
    if (body.is_object() && body.contains("csrf")) csrf = body["csrf"];
  }
  httplib::Result Post(const std::string& path, const json& body, bool with_origin = true,
                       bool with_csrf = true) {
    return http.Post(path.c_str(), Headers(with_origin, with_csrf), body.dump(),
                     "application/json");
  }
  httplib::Result Get(const std::string& path) { return http.Get(path.c_str(), Headers()); }
};

json Body(const httplib::Result& r) { return json::parse(r->body, nullptr, false); }

struct Served {
  SystemClock clock;
  SystemRng rng;
  fs::path dir;
  std::unique_ptr<roles::ContainerRole> role;
  std::string url, origin, link_token;

  explicit Served(const std::string& name) {
    dir =
        fs::temp_directory_path() / ("medallion-web-" + name + "-" + HexEncode(rng.RandomBytes(6)));
    roles::ContainerOptions o;
    o.dir = dir.string();
    o.owner = OwnerDid();
    o.listen = "127.0.0.1:0";
    role = std::make_unique<roles::ContainerRole>(o, Env{&clock, &rng});
    REQUIRE(role->Start().ok());
    url = role->url();
    const std::string link = role->banner()["setup_link"];
    const std::string app = role->banner()["app"];
    origin = app.substr(0, app.size() - 1);
    link_token = link.substr(link.find("#setup=") + 7);
  }
  ~Served() {
    role->Stop();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

}  // namespace

TEST_CASE("web: the banner names the app on localhost and a one-time setup link", "[server][web]") {
  Served c("banner");
  const std::string port = c.url.substr(c.url.rfind(':') + 1);
  CHECK(c.role->banner()["app"] == "http://localhost:" + port + "/");
  CHECK(c.role->banner()["setup_link"].get<std::string>().rfind(
            "http://localhost:" + port + "/#setup=", 0) == 0);
  CHECK(c.link_token.size() >= 40);
}

TEST_CASE("web: passkey registration, sign-in, replay, counter regression, CSRF, sign-out",
          "[server][web]") {
  Served c("flow");
  Browser b(c.url, c.origin);
  Authenticator key;

  // Security headers on API answers and errors alike.
  auto state = b.Get("/web/v1/state");
  REQUIRE(state);
  CHECK(state->status == 200);
  CHECK(state->get_header_value("Content-Security-Policy").find("default-src 'self'") !=
        std::string::npos);
  CHECK(state->get_header_value("X-Content-Type-Options") == "nosniff");
  CHECK(state->get_header_value("Referrer-Policy") == "no-referrer");
  CHECK(Body(state)["signed_in"] == false);
  auto missing = b.Get("/web/v1/nothing");
  REQUIRE(missing);
  CHECK(missing->status == 404);
  CHECK(!missing->get_header_value("Content-Security-Policy").empty());

  // The link's ceremony must come from the app's origin.
  auto foreign =
      b.Post("/web/v1/passkeys/register/options", {{"link", c.link_token}}, /*with_origin=*/false);
  REQUIRE(foreign);
  CHECK(foreign->status == 403);
  CHECK(Body(foreign)["reason"] == "csrf_invalid");

  auto options = b.Post("/web/v1/passkeys/register/options", {{"link", c.link_token}});
  REQUIRE(options);
  REQUIRE(options->status == 200);
  const json creation = Body(options);
  CHECK(creation["rp"]["id"] == "localhost");
  CHECK(creation["attestation"] == "none");

  SECTION("a link works once") {
    auto again = b.Post("/web/v1/passkeys/register/options", {{"link", c.link_token}});
    REQUIRE(again);
    CHECK(again->status == 401);
    CHECK(Body(again)["reason"] == "link_used");
  }

  SECTION("malformed registrations change nothing") {
    json bad = key.Create(creation, c.origin);
    bad["credential"]["response"]["attestationObject"] = "!!!";
    auto r1 = b.Post("/web/v1/passkeys/register", bad);
    REQUIRE(r1);
    CHECK(r1->status == 400);
    CHECK(Body(r1)["error"].is_string());
    CHECK(Body(r1)["error_description"].is_string());
    auto r2 = b.http.Post("/web/v1/passkeys/register", b.Headers(), "not json", "text/plain");
    REQUIRE(r2);
    CHECK(r2->status == 415);
    auto r3 = b.http.Post("/web/v1/passkeys/register", b.Headers(), std::string(2 << 20, 'x'),
                          "application/json");
    REQUIRE(r3);
    CHECK(r3->status == 413);
    auto r4 = b.Post("/web/v1/passkeys/register", json{{"credential", "x"}});
    REQUIRE(r4);
    CHECK(r4->status == 400);
    CHECK(Body(b.Get("/web/v1/state"))["passkeys"] == 0);
  }

  SECTION("a wrong origin in the client data is refused") {
    auto r = b.Post("/web/v1/passkeys/register", key.Create(creation, "http://evil.example"));
    REQUIRE(r);
    CHECK(r->status == 401);
    CHECK(Body(r)["reason"] == "origin_mismatch");
    CHECK(Body(b.Get("/web/v1/state"))["passkeys"] == 0);
  }

  SECTION("the whole flow") {
    const json registration = key.Create(creation, c.origin);
    auto reg = b.Post("/web/v1/passkeys/register", registration);
    REQUIRE(reg);
    REQUIRE(reg->status == 201);
    const std::string set_cookie = reg->get_header_value("Set-Cookie");
    CHECK(set_cookie.find("HttpOnly") != std::string::npos);
    CHECK(set_cookie.find("SameSite=Strict") != std::string::npos);
    CHECK(set_cookie.find("Secure") == std::string::npos);  // plain HTTP on loopback
    CHECK(set_cookie.find("Path=/") != std::string::npos);
    b.Keep(reg);
    REQUIRE(!b.cookie.empty());
    REQUIRE(!b.csrf.empty());

    // The same registration again: its challenge was used.
    auto replay = b.Post("/web/v1/passkeys/register", registration);
    REQUIRE(replay);
    CHECK(replay->status == 401);
    CHECK(Body(replay)["reason"] == "challenge_used");

    // The cookie stands for the owner on the owner API.
    auto policies = b.Get("/owner/v1/policies");
    REQUIRE(policies);
    CHECK(policies->status == 200);
    const size_t before = Body(policies).size();
    const json policy = {{"effect", "permit"},
                         {"subjects", {{{"did", "did:example:doctor"}}}},
                         {"resource_types", {"Observation"}},
                         {"scopes", {"read"}},
                         {"purposes", {"treatment"}}};
    auto no_csrf = b.Post("/owner/v1/policies", policy, true, /*with_csrf=*/false);
    REQUIRE(no_csrf);
    CHECK(no_csrf->status == 403);
    CHECK(Body(no_csrf)["reason"] == "csrf_invalid");
    auto other_origin = b.http.Post("/owner/v1/policies",
                                    httplib::Headers{{"Origin", "http://evil.example"},
                                                     {"Cookie", b.name + "=" + b.cookie},
                                                     {"X-CSRF-Token", b.csrf}},
                                    policy.dump(), "application/json");
    REQUIRE(other_origin);
    CHECK(other_origin->status == 403);
    CHECK(Body(b.Get("/owner/v1/policies")).size() == before);
    auto created = b.Post("/owner/v1/policies", policy);
    REQUIRE(created);
    CHECK(created->status == 201);
    CHECK(Body(b.Get("/owner/v1/policies")).size() == before + 1);

    // Her own FHIR records with the cookie.
    auto records = b.Get("/fhir/Observation");
    REQUIRE(records);
    CHECK(records->status == 200);

    // Prescriptions at a pharmacy and her recovery (web_rx.h): bad input is a clear 4xx JSON
    // error and changes nothing.
    {
      const size_t kept = Body(b.Get("/owner/v1/credentials")).size();
      auto list = b.Get("/web/v1/prescriptions");
      REQUIRE(list);
      CHECK(list->status == 200);
      CHECK(Body(list)["prescriptions"].empty());
      CHECK(Body(list)["can_present"] == false);  // no wallet in this container
      auto refused = [&](const json& body, int status, const std::string& words) {
        auto r = b.Post("/web/v1/prescriptions/present", body);
        REQUIRE(r);
        CHECK(r->status == status);
        const json e = Body(r);
        CHECK(e["error"].is_string());
        CHECK(e["error_description"].get<std::string>().find(words) != std::string::npos);
      };
      refused(json::object(), 400, "'credential'");
      refused({{"credential", 7}, {"pharmacy", "http://localhost:1"}}, 400, "'credential'");
      refused({{"credential", "x"}}, 400, "'pharmacy'");
      refused({{"credential", "x"}, {"pharmacy", "ftp://pharmacy.example"}}, 400, "https://");
      refused({{"credential", "x"}, {"pharmacy", "http://eve:secret@pharmacy.example/"}}, 400,
              "user name");
      refused({{"credential", "x"}, {"pharmacy", "https://"}}, 400, "no host");
      refused({{"credential", "x"}, {"pharmacy", "http://localhost:1"}}, 412, "wallet");
      auto unsigned_post =
          b.Post("/web/v1/prescriptions/present",
                 {{"credential", "x"}, {"pharmacy", "http://localhost:1"}}, true, false);
      REQUIRE(unsigned_post);
      CHECK(unsigned_post->status == 403);
      auto text =
          b.http.Post("/web/v1/prescriptions/present", b.Headers(), "not json", "application/json");
      REQUIRE(text);
      CHECK(text->status == 400);
      CHECK(Body(text)["error"] == "invalid_request");
      auto form = b.http.Post("/web/v1/prescriptions/present", b.Headers(), "credential=x",
                              "application/x-www-form-urlencoded");
      REQUIRE(form);
      CHECK(form->status >= 400);
      CHECK(form->status < 500);
      auto big = b.http.Post("/web/v1/prescriptions/present", b.Headers(),
                             std::string(2 << 20, '['), "application/json");
      REQUIRE(big);
      CHECK(big->status >= 400);
      CHECK(big->status < 500);
      auto poll = b.Post("/web/v1/prescriptions/present/poll", {{"attempt", "nobody's"}});
      REQUIRE(poll);
      CHECK(poll->status == 404);
      CHECK(Body(b.Get("/owner/v1/credentials")).size() == kept);
      auto recovery = b.Get("/web/v1/recovery");
      REQUIRE(recovery);
      CHECK(recovery->status == 200);
      CHECK(Body(recovery)["wallet"] == false);
      CHECK(Body(recovery)["guardian_shares"].is_null());
      httplib::Client anonymous(c.url);
      for (const char* path : {"/web/v1/prescriptions", "/web/v1/recovery"}) {
        auto r = anonymous.Get(path);
        REQUIRE(r);
        CHECK(r->status == 401);
      }
    }

    // The cookie never stands for anyone at the UMA endpoints of third parties.
    auto token = b.http.Post("/token", b.Headers(), "grant_type=client_credentials",
                             "application/x-www-form-urlencoded");
    REQUIRE(token);
    CHECK(token->status != 200);

    // Live notifications as Server-Sent Events.
    {
      std::string first;
      httplib::Client sse(c.url);
      sse.set_read_timeout(5, 0);
      auto r = sse.Get("/web/v1/events", b.Headers(), [&](const char* data, size_t n) {
        first.append(data, n);
        return first.find("\n\n") == std::string::npos;  // stop after the first event block
      });
      CHECK(first.find("retry:") != std::string::npos);
    }

    // A pairing offer and its QR code.
    auto pairing = b.Post("/web/v1/pairing", json::object());
    REQUIRE(pairing);
    CHECK(pairing->status == 201);
    CHECK(Body(pairing)["qr_svg"].get<std::string>().find("<svg") != std::string::npos);
    CHECK(Body(pairing)["uri"].get<std::string>().size() > 10);

    // The accounting of disclosures, checked.
    auto verified = b.Post("/web/v1/disclosures/verify", json::object());
    REQUIRE(verified);
    CHECK(verified->status == 200);
    CHECK(Body(verified)["valid"] == true);

    // Sign out, then sign in with the passkey.
    auto out = b.Post("/web/v1/signout", json::object());
    REQUIRE(out);
    CHECK(out->status == 200);
    CHECK(b.Get("/owner/v1/policies")->status == 401);
    b.cookie.clear();
    b.csrf.clear();

    auto sign_options = b.Post("/web/v1/signin/options", json::object());
    REQUIRE(sign_options);
    REQUIRE(sign_options->status == 200);
    const json assertion = key.Get(Body(sign_options), c.origin, 7);
    auto signin = b.Post("/web/v1/signin", assertion);
    REQUIRE(signin);
    REQUIRE(signin->status == 200);
    b.Keep(signin);
    CHECK(b.Get("/owner/v1/policies")->status == 200);

    // A replayed assertion: its challenge was used.
    auto replayed = b.Post("/web/v1/signin", assertion);
    REQUIRE(replayed);
    CHECK(replayed->status == 401);
    CHECK(Body(replayed)["reason"] == "challenge_used");

    // A cloned authenticator: the counter went back (§6.1.1).
    auto o2 = b.Post("/web/v1/signin/options", json::object());
    auto regress = b.Post("/web/v1/signin", key.Get(Body(o2), c.origin, 7));
    REQUIRE(regress);
    CHECK(regress->status == 401);
    CHECK(Body(regress)["reason"] == "counter_regression");

    // Another owner's session is nobody here.
    Served other("other");
    Browser ob(other.url, other.origin);
    Authenticator other_key;
    auto oo = ob.Post("/web/v1/passkeys/register/options", {{"link", other.link_token}});
    auto oreg = ob.Post("/web/v1/passkeys/register", other_key.Create(Body(oo), other.origin));
    REQUIRE(oreg);
    REQUIRE(oreg->status == 201);
    ob.Keep(oreg);
    // Two containers on one host name keep separate cookies (browsers ignore the port).
    CHECK(ob.name != b.name);
    CHECK(oreg->get_header_value("Set-Cookie").rfind(ob.name + "=", 0) == 0);
    Browser stranger(c.url, c.origin);
    stranger.cookie = ob.cookie;  // under this container's cookie name: a stolen value
    stranger.csrf = ob.csrf;
    auto cross = stranger.Get("/owner/v1/policies");
    REQUIRE(cross);
    CHECK(cross->status == 401);
    CHECK(stranger.Get("/fhir/Observation")->status == 401);
    // Her passkey is not registered here either.
    auto o3 = b.Post("/web/v1/signin/options", json::object());
    auto foreign_key = b.Post("/web/v1/signin", other_key.Get(Body(o3), c.origin, 1));
    REQUIRE(foreign_key);
    CHECK(foreign_key->status == 401);
    CHECK(Body(foreign_key)["reason"] == "passkey_unknown");

    // Sign out everywhere: this session and every other owner session end.
    Browser second(c.url, c.origin);
    auto o4 = second.Post("/web/v1/signin/options", json::object());
    auto s2 = second.Post("/web/v1/signin", key.Get(Body(o4), c.origin, 9));
    REQUIRE(s2);
    REQUIRE(s2->status == 200);
    second.Keep(s2);
    auto all = b.Post("/web/v1/signout-all", json::object());
    REQUIRE(all);
    CHECK(all->status == 200);
    CHECK(second.Get("/owner/v1/policies")->status == 401);
    CHECK(b.Get("/owner/v1/policies")->status == 401);

    // The passkey list and revocation.
    Browser third(c.url, c.origin);
    auto o5 = third.Post("/web/v1/signin/options", json::object());
    auto s3 = third.Post("/web/v1/signin", key.Get(Body(o5), c.origin, 10));
    REQUIRE(s3->status == 200);
    third.Keep(s3);
    auto list = third.Get("/web/v1/passkeys");
    REQUIRE(list);
    REQUIRE(Body(list)["passkeys"].size() == 1);
    const std::string id = Body(list)["passkeys"][0]["id"];
    auto no_csrf_delete =
        third.http.Delete(("/web/v1/passkeys/" + id).c_str(), third.Headers(true, false));
    REQUIRE(no_csrf_delete);
    CHECK(no_csrf_delete->status == 403);
    auto del = third.http.Delete(("/web/v1/passkeys/" + id).c_str(), third.Headers());
    REQUIRE(del);
    CHECK(del->status == 204);
    CHECK(third.Get("/owner/v1/policies")->status == 401);  // the sessions it opened ended
    auto o6 = third.Post("/web/v1/signin/options", json::object());
    auto revoked = third.Post("/web/v1/signin", key.Get(Body(o6), c.origin, 11));
    REQUIRE(revoked);
    CHECK(revoked->status == 401);
  }
}

TEST_CASE("web: sign-in attempts are rate-limited per client address", "[server][web]") {
  Served c("rate");
  Browser b(c.url, c.origin);
  int ok = 0, limited = 0;
  for (int i = 0; i < 25; ++i) {
    auto r = b.Post("/web/v1/signin/options", json::object());
    REQUIRE(r);
    if (r->status == 200) ++ok;
    if (r->status == 429 && Body(r)["reason"] == "rate_limited") ++limited;
  }
  CHECK(ok == 20);
  CHECK(limited == 5);
  // The phone's way in counts too.
  auto phone = b.Post("/web/v1/signin/phone", json::object());
  REQUIRE(phone);
  CHECK(phone->status == 429);
}

TEST_CASE("web: links from the owner's bearer session; phone sign-in attempts", "[server][web]") {
  Served c("links");
  httplib::Client http(c.url);
  // Without the owner's session: no link.
  auto none = http.Post("/web/v1/links", "", "application/json");
  REQUIRE(none);
  CHECK(none->status == 401);
  auto fake = http.Post("/web/v1/links", httplib::Headers{{"Authorization", "Bearer nope"}}, "",
                        "application/json");
  REQUIRE(fake);
  CHECK(fake->status == 401);

  // A phone sign-in attempt is pending until her phone decides; a wrong attempt is nobody's.
  Browser b(c.url, c.origin);
  auto start = b.Post("/web/v1/signin/phone", json::object());
  REQUIRE(start);
  REQUIRE(start->status == 202);
  auto poll = b.Post("/web/v1/signin/phone/poll", {{"attempt", Body(start)["attempt"]}});
  REQUIRE(poll);
  CHECK(Body(poll)["status"] == "pending");
  auto wrong = b.Post("/web/v1/signin/phone/poll", {{"attempt", "x"}});
  REQUIRE(wrong);
  CHECK(wrong->status == 401);
}
