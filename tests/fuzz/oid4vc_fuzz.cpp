// Fuzz target: what the oid4vc module reads from wallets and verifiers (docs/openid4vc.md).
// The first byte picks the surface, the rest is the input:
//   0  a DCQL query (OpenID4VP §6) as JSON text: parsed; a parsed query must serialize and parse
//      again to the same JSON, and is matched against a held SD-JWT VC;
//   1  an authorization request's parameters (OpenID4VP §5), one "name=value" per line: parsed
//      as a wallet does, and answered from the held credential when it parses; then again with a
//      request object (RFC 9101): the "object" line is what the request_uri answers, "@SIGNED@"
//      at its head a JWS by the DID key of "@DID@" (a did:key) over the rest (so fuzzed claims
//      get past the signature), read with a did:key resolver;
//   2  a direct_post response form (OpenID4VP §8.2), lines as in 1, to a fresh request of the
//      verifier; "@STATE@" stands for that request's state and "@VP@" for a valid vp_token of it;
//   3  a token request form (OpenID4VCI §6.1), lines as in 1; "@CODE@" stands for a fresh
//      offer's pre-authorized code and "@TX@" for its transaction code;
//   4  a credential request body (OpenID4VCI §8.2) with a fresh access token; "@NONCE@" stands
//      for a c_nonce bound to it and "@PROOF@" for a proof JWT by the holder key whose payload
//      is the text after the first newline (so fuzzed claims get past the signature).
// Invariants: a parsed DCQL query round-trips; a presentation the wallet built for a request
// verifies at the verifier that made it; a decentralized_identifier: request is accepted only
// signed by a key of its DID; nothing crashes, leaks or hangs.
#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>

#include "fuzz_util.h"
#include "medallion/core/env.h"
#include "medallion/did/resolver.h"
#include "medallion/oid4vc/dcql.h"
#include "medallion/oid4vc/issuer.h"
#include "medallion/oid4vc/verifier.h"

using namespace medallion;
using namespace medallion::oid4vc;
using nlohmann::json;

namespace {

constexpr const char* kIssuerId = "https://society.example";
constexpr const char* kResponseUri = "https://pharmacy.example/oid4vp/response";

struct Fixture {
  FakeClock clock{fuzz::kNowSeconds * 1000};
  SeededRng rng{31};
  Env env{&clock, &rng};
  claims::Signer issuer_signer = fuzz::TestSigner(claims::Alg::kEdDSA, 0x41);
  claims::Signer holder = fuzz::TestSigner(claims::Alg::kEdDSA, 0x42);
  did::Resolver resolver;
  std::unique_ptr<Issuer> issuer;
  std::unique_ptr<Verifier> verifier;
  std::string license;  // the held SD-JWT VC, bound to `holder`

  Fixture() {
    const std::filesystem::path dir = fuzz::MakeTempDir("oid4vc");
    IssuerOptions io;
    io.credential_issuer = kIssuerId;
    io.signer = issuer_signer;
    issuer = std::move(Issuer::Open((dir / "oid4vci.db").string(), io, env).value());
    VerifierOptions vo;
    vo.client_id = std::string(kRedirectUriPrefix) + kResponseUri;
    vo.response_uri = kResponseUri;
    verifier = std::move(Verifier::Open((dir / "oid4vp.db").string(), vo, env).value());
    json payload = {{"vct", "urn:medallion:vct:MedicalLicenseCredential:1"},
                    {"sub", "did:example:ada"},
                    {"given_name", "Ada"},
                    {"family_name", "Lovelace"},
                    {"license", {{"number", "L-1815"}, {"schedules", {"II", "III"}}}},
                    {"exp", fuzz::kNowSeconds + 10LL * 365 * 86400}};
    claims::SdJwtIssueOptions o;
    o.disclosable = {"/given_name", "/family_name", "/license/number", "/license/schedules"};
    o.holder = claims::HolderKey{claims::Alg::kEdDSA, holder.public_key};
    license = claims::IssueSdJwt(payload, issuer_signer, o, env).value();
  }
};

std::map<std::string, std::string> Form(std::string_view text) {
  std::map<std::string, std::string> form;
  for (const std::string& line : fuzz::Split(text, "\n", 32)) {
    const size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    form[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return form;
}

void Substitute(std::string& s, std::string_view name, const std::string& value) {
  for (size_t at = s.find(name); at != std::string::npos; at = s.find(name, at + value.size()))
    s.replace(at, name.size(), value);
}

json LicenseQuery() {
  return json::parse(R"({"credentials": [{"id": "license", "format": "dc+sd-jwt",
      "meta": {"vct_values": ["urn:medallion:vct:MedicalLicenseCredential:1"]},
      "claims": [{"path": ["family_name"]}, {"path": ["license", "number"]}]}]})");
}

void FuzzDcql(Fixture& f, std::string_view text) {
  auto q = ParseDcqlQuery(text);
  if (!q) return;
  const json again = DcqlQueryToJson(*q);
  auto q2 = ParseDcqlQuery(again);
  MDL_FUZZ_CHECK(q2.has_value());
  MDL_FUZZ_CHECK(DcqlQueryToJson(*q2) == again);
  (void)MatchDcql(*q, {f.license, "not an sd-jwt"});
}

void FuzzRequest(Fixture& f, std::string_view text) {
  std::map<std::string, std::string> form = Form(text);
  auto parsed = ParseAuthorizationRequest(form);
  if (parsed) (void)BuildResponse(*parsed, {f.license}, f.holder, f.env);

  const std::string& vm = f.issuer_signer.verification_method;
  const std::string did = vm.substr(0, vm.find('#'));
  for (auto& [name, value] : form) Substitute(value, "@DID@", did);
  std::string object = form.count("object") ? form["object"] : "";
  form.erase("object");
  if (object.starts_with("@SIGNED@")) {
    const json header = {{"alg", "EdDSA"}, {"kid", vm}, {"typ", "oauth-authz-req+jwt"}};
    object = fuzz::SignCompact(f.issuer_signer, header.dump(), object.substr(8));
  }
  auto by_object = ParseAuthorizationRequest(
      form, [&](const std::string&, const std::string&) -> Result<std::string> { return object; },
      &f.resolver, fuzz::kNowSeconds);
  if (!by_object) return;
  if (by_object->client_id.starts_with(kDecentralizedIdentifierPrefix)) {
    MDL_FUZZ_CHECK(by_object->client_id == std::string(kDecentralizedIdentifierPrefix) + did);
    MDL_FUZZ_CHECK(by_object->verifier_did == did);
    MDL_FUZZ_CHECK(by_object->request_kid.starts_with(did + "#"));
  }
  (void)BuildResponse(*by_object, {f.license}, f.holder, f.env);
}

void FuzzResponse(Fixture& f, std::string_view text) {
  auto request = f.verifier->CreateRequest(LicenseQuery());
  MDL_FUZZ_CHECK(request.has_value());
  auto parsed = ParseAuthorizationRequest(request->params);
  MDL_FUZZ_CHECK(parsed.has_value());
  auto valid = BuildResponse(*parsed, {f.license}, f.holder, f.env);
  MDL_FUZZ_CHECK(valid.has_value());
  std::map<std::string, std::string> form = Form(text);
  for (auto& [name, value] : form) {
    Substitute(value, "@STATE@", request->state);
    Substitute(value, "@VP@", (*valid)["vp_token"]);
  }
  (void)f.verifier->VerifyResponse(form, f.resolver);
  if (form.empty()) {
    // The wallet's own answer to a fresh request verifies.
    auto fresh = f.verifier->CreateRequest(LicenseQuery());
    MDL_FUZZ_CHECK(fresh.has_value());
    auto p = ParseAuthorizationRequest(fresh->params);
    MDL_FUZZ_CHECK(p.has_value());
    auto answer = BuildResponse(*p, {f.license}, f.holder, f.env);
    MDL_FUZZ_CHECK(answer.has_value());
    MDL_FUZZ_CHECK(f.verifier->VerifyResponse(*answer, f.resolver).has_value());
  }
}

Offer NewOffer(Fixture& f) {
  OfferRequest r;
  r.claims_json = json{{"sub", "did:example:physician"},
                       {"license_number", "MA-MD-1"},
                       {"name", "Dr. Rivera"},
                       {"schedules", {"II", "III"}}}
                      .dump();
  r.disclosable = {"/name", "/schedules"};
  auto o = f.issuer->CreateOffer(r);
  MDL_FUZZ_CHECK(o.has_value());
  return *o;
}

std::string CodeOf(const Offer& o) {
  return json::parse(
      o.offer_json)["grants"][std::string(kPreAuthorizedGrant)]["pre-authorized_code"];
}

void FuzzToken(Fixture& f, std::string_view text) {
  const Offer offer = NewOffer(f);
  std::map<std::string, std::string> form = Form(text);
  for (auto& [name, value] : form) {
    Substitute(value, "@CODE@", CodeOf(offer));
    Substitute(value, "@TX@", offer.tx_code);
  }
  (void)f.issuer->Token(form);
}

void FuzzCredential(Fixture& f, std::string_view text) {
  const Offer offer = NewOffer(f);
  auto token = f.issuer->Token({{"grant_type", std::string(kPreAuthorizedGrant)},
                                {"pre-authorized_code", CodeOf(offer)},
                                {"tx_code", offer.tx_code}});
  MDL_FUZZ_CHECK(token.has_value());
  const std::string access = json::parse(*token)["access_token"];
  auto nonce = f.issuer->Nonce(access);
  MDL_FUZZ_CHECK(nonce.has_value());
  const std::string c_nonce = json::parse(*nonce)["c_nonce"];
  const size_t nl = text.find('\n');
  std::string body(text.substr(0, nl));
  std::string proof_payload(nl == std::string_view::npos ? "" : text.substr(nl + 1));
  Substitute(proof_payload, "@NONCE@", c_nonce);
  const json header = {{"typ", std::string(kProofJwtTyp)},
                       {"alg", "EdDSA"},
                       {"kid", f.holder.verification_method}};
  Substitute(body, "@NONCE@", c_nonce);
  Substitute(body, "@PROOF@", fuzz::SignCompact(f.holder, header.dump(), proof_payload));
  (void)f.issuer->Credential(access, body);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* f = new Fixture();  // process lifetime
  if (size == 0 || size > 16384) return 0;
  const std::string_view rest = fuzz::AsView(data + 1, size - 1);
  switch (data[0] % 5) {
    case 0:
      FuzzDcql(*f, rest);
      break;
    case 1:
      FuzzRequest(*f, rest);
      break;
    case 2:
      FuzzResponse(*f, rest);
      break;
    case 3:
      FuzzToken(*f, rest);
      break;
    default:
      FuzzCredential(*f, rest);
      break;
  }
  // Time moves on a little, so expiries and the issuer's clean-up are reached too.
  f->clock.Advance(1000);
  return 0;
}
