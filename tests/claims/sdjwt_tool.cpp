// sdjwt_interop_tool: a test-only command line over the SD-JWT VC functions of the claims module,
// driven by tests/interop/sdjwt_interop.mjs. Keys are raw 32-byte private keys in hex (an Ed25519
// seed or a secp256k1 scalar); issuers are did:key DIDs, so resolution needs no network.
//
// Each subcommand reads one JSON request on stdin and prints one JSON object on stdout:
//   key      {"alg", "private_key"}                        → {"did", "kid", "jwk"}
//   issue    {"issuer": KEY, "holder": KEY?, "payload", "disclosable": [ptr...],
//             "min_decoys"?, "max_decoys"?, "now"}         → {"sd_jwt"}
//   inspect  {"sd_jwt"}                                    → {"payload", "disclosable"}
//   present  {"sd_jwt", "holder": KEY?, "reveal": [ptr...], "aud", "nonce", "now"}
//                                                          → {"presentation"}
//   verify   {"presentation", "aud"?, "nonce"?, "now", "require_kb"?, "expected_vct"?}
//            → {"valid": true, "payload", "disclosed", "issuer", "kid", "key_bound"}
//              or {"valid": false, "reason", "error"}
// where KEY is {"alg": "EdDSA"|"ES256K", "private_key": hex}.
// Exit status: 0 done / valid, 1 refused or failed (with "reason"/"error"), 2 bad request.
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "medallion/claims/data_integrity.h"
#include "medallion/claims/sd_jwt.h"
#include "medallion/core/encoding.h"
#include "medallion/did/did_key.h"
#include "medallion/wallet/keys.h"

namespace {

using namespace medallion;
using namespace medallion::claims;
using nlohmann::json;

[[noreturn]] void Usage(const std::string& why) {
  std::cerr << "sdjwt_interop_tool: " << why
            << "\nusage: sdjwt_interop_tool key|issue|inspect|present|verify < request.json\n";
  std::exit(2);
}

[[noreturn]] void Refuse(const Status& st) {
  std::cout << json{{"valid", false},
                    {"reason", std::string(ReasonCode(st))},
                    {"error", st.ToString()}}
                   .dump()
            << "\n";
  std::exit(1);
}

Alg ParseAlgName(const json& v) {
  if (v == "EdDSA") return Alg::kEdDSA;
  if (v == "ES256K") return Alg::kES256K;
  Usage("alg must be EdDSA or ES256K");
}

// A did:key signer over a raw private key.
Signer MakeSigner(const json& key) {
  if (!key.is_object() || !key.contains("alg") || !key.contains("private_key"))
    Usage("a key is {alg, private_key}");
  const Alg alg = ParseAlgName(key["alg"]);
  auto raw = HexDecode(key["private_key"].get<std::string>());
  if (!raw) Usage("private_key is not hex");
  auto made = wallet::MakeSigningKey(
      alg == Alg::kEdDSA ? wallet::SignatureAlg::kEdDSA : wallet::SignatureAlg::kES256K, *raw);
  if (!made) Usage("bad private key: " + made.error().ToString());
  auto sk = std::make_shared<wallet::SigningKey>(std::move(*made));
  const auto type = alg == Alg::kEdDSA ? did::KeyType::kEd25519 : did::KeyType::kSecp256k1;
  Signer s;
  s.alg = alg;
  s.public_key = sk->public_key;
  s.verification_method = *did::DidKeyFromPublicKey(type, sk->public_key) + "#" +
                          *did::MultikeyFromPublicKey(type, sk->public_key);
  s.sign = [sk](ByteView m) { return wallet::Sign(*sk, m); };
  return s;
}

std::vector<std::string> Strings(const json& request, const char* name) {
  if (!request.contains(name)) return {};
  if (!request[name].is_array()) Usage(std::string(name) + " must be an array of strings");
  std::vector<std::string> out;
  for (const auto& v : request[name]) {
    if (!v.is_string()) Usage(std::string(name) + " must be an array of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

std::string Str(const json& request, const char* name) {
  auto it = request.find(name);
  return it != request.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

int Run(int argc, char** argv) {
  if (argc != 2) Usage("one subcommand expected");
  const std::string cmd = argv[1];
  const std::string input((std::istreambuf_iterator<char>(std::cin)),
                          std::istreambuf_iterator<char>());
  json request;
  try {
    request = json::parse(input);
  } catch (const json::exception& e) {
    Usage(std::string("request is not JSON: ") + e.what());
  }
  if (!request.is_object()) Usage("request must be a JSON object");
  // Time comes from the request (so both sides agree on "now"); randomness from the system.
  const int64_t now = request.value("now", int64_t{0});
  FakeClock clock(now * 1000);
  const Env env{&clock, DefaultEnv().rng};

  if (cmd == "key") {
    const Signer s = MakeSigner(request);
    std::cout << json{{"did", s.verification_method.substr(0, s.verification_method.find('#'))},
                      {"kid", s.verification_method},
                      {"jwk", json::parse(*PublicJwkJson(s.alg, s.public_key))}}
                     .dump()
              << "\n";
    return 0;
  }
  if (cmd == "issue") {
    const Signer issuer = MakeSigner(request.value("issuer", json()));
    SdJwtIssueOptions options;
    options.disclosable = Strings(request, "disclosable");
    options.min_decoys = request.value("min_decoys", 0u);
    options.max_decoys = request.value("max_decoys", 0u);
    if (request.contains("holder")) {
      const Signer holder = MakeSigner(request["holder"]);
      options.holder = HolderKey{holder.alg, holder.public_key};
    }
    auto issued = IssueSdJwt(request.value("payload", json()), issuer, options, env);
    if (!issued) Refuse(issued.error());
    std::cout << json{{"sd_jwt", *issued}}.dump() << "\n";
    return 0;
  }
  if (cmd == "inspect") {
    auto view = InspectSdJwt(Str(request, "sd_jwt"));
    if (!view) Refuse(view.error());
    std::cout << json{{"payload", json::parse(view->payload_json)},
                      {"disclosable", view->disclosable}}
                     .dump()
              << "\n";
    return 0;
  }
  if (cmd == "present") {
    SdJwtPresentOptions options;
    options.reveal = Strings(request, "reveal");
    options.audience = Str(request, "aud");
    options.nonce = Str(request, "nonce");
    std::unique_ptr<Signer> holder;
    if (request.contains("holder"))
      holder = std::make_unique<Signer>(MakeSigner(request["holder"]));
    auto presented = PresentSdJwt(Str(request, "sd_jwt"), options, holder.get(), env);
    if (!presented) Refuse(presented.error());
    std::cout << json{{"presentation", *presented}}.dump() << "\n";
    return 0;
  }
  if (cmd == "verify") {
    SdJwtVerifyOptions options;
    options.expected_audience = Str(request, "aud");
    options.expected_nonce = Str(request, "nonce");
    options.expected_vct = Str(request, "expected_vct");
    options.require_key_binding = request.value("require_kb", true);
    did::Resolver resolver;
    auto v = VerifySdJwt(Str(request, "presentation"), resolver, options, clock);
    if (!v) Refuse(v.error());
    std::cout << json{{"valid", true},
                      {"payload", json::parse(v->payload_json)},
                      {"disclosed", v->disclosed},
                      {"issuer", v->issuer},
                      {"kid", v->verification_method},
                      {"vct", v->vct},
                      {"key_bound", v->key_bound}}
                     .dump()
              << "\n";
    return 0;
  }
  Usage("unknown subcommand " + cmd);
}

int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const nlohmann::json::exception& e) {
    Usage(std::string("bad request: ") + e.what());
  }
}
