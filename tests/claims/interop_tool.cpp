// claims_interop_tool: a test-only command line over the claims module for the npm interop suite
// (tests/interop/claims_interop.mjs). Keys are raw private keys in hex; their verification
// methods are did:key Multikeys, so the resolver needs no network.
//
//   key <EdDSA|ES256K> <private-key-hex>
//   di-sign <ed25519-seed-hex> <doc.json|-> [--purpose P] [--created T] [--expires T]
//           [--challenge C] [--domain D] [--id ID] [--previous-proof ID]
//   di-verify <doc.json|-> [--purpose P] [--challenge C] [--domain D] [--now SECONDS]
//   jwt-sign <EdDSA|ES256K> <private-key-hex> <payload.json|-> [--vp] [--iat N] [--nbf N]
//            [--exp N] [--aud A] [--nonce N] [--jti J] [--cty]
//   jwt-verify <jwt|-> [--vp] [--now SECONDS] [--aud A] [--nonce N]
//
// Prints one JSON object on stdout. Exit status: 0 signed / verified, 1 refused (with
// {"verified": false, "reason": ..., "error": ...}) or failed, 2 usage.
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "medallion/claims/data_integrity.h"
#include "medallion/claims/jose.h"
#include "medallion/core/encoding.h"
#include "medallion/core/jcs.h"
#include "medallion/did/did_key.h"
#include "medallion/wallet/keys.h"

namespace {

using namespace medallion;
using namespace medallion::claims;
using nlohmann::json;

[[noreturn]] void Usage(const std::string& why) {
  std::cerr << "claims_interop_tool: " << why << "\n"
            << "usage: key|di-sign|di-verify|jwt-sign|jwt-verify ... (see interop_tool.cpp)\n";
  std::exit(2);
}

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> flags;  // --name value; boolean flags map to "1"
};

Args Parse(int argc, char** argv, int first, std::initializer_list<const char*> booleans) {
  Args a;
  for (int i = first; i < argc; ++i) {
    std::string s = argv[i];
    if (s.size() > 2 && s.rfind("--", 0) == 0) {
      bool is_bool = false;
      for (const char* b : booleans) is_bool = is_bool || s == b;
      if (is_bool) {
        a.flags[s] = "1";
      } else {
        if (i + 1 >= argc) Usage(s + " needs a value");
        a.flags[s] = argv[++i];
      }
    } else {
      a.positional.push_back(s);
    }
  }
  return a;
}

std::string Flag(const Args& a, const std::string& name, const std::string& fallback = "") {
  auto it = a.flags.find(name);
  return it == a.flags.end() ? fallback : it->second;
}
int64_t IntFlag(const Args& a, const std::string& name, int64_t fallback) {
  std::string v = Flag(a, name);
  if (v.empty()) return fallback;
  try {
    return std::stoll(v);
  } catch (...) {
    Usage(name + " needs an integer");
  }
}

std::string ReadInput(const std::string& path) {
  if (path == "-") return std::string(std::istreambuf_iterator<char>(std::cin), {});
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) Usage("cannot open " + path);
  std::string out;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  std::fclose(f);
  return out;
}

int Print(const json& j, int code) {
  std::cout << j.dump() << "\n";
  return code;
}

int Refused(const Status& s) {
  return Print({{"verified", false},
                {"reason", std::string(ReasonCode(s))},
                {"code", std::string(StatusCodeName(s.code()))},
                {"error", s.message()}},
               1);
}

// A signer for a raw private key, named by its did:key (kept alive by the callback).
Result<Signer> MakeSigner(std::string_view alg_name, std::string_view private_hex) {
  MDL_ASSIGN_OR_RETURN(wallet::SignatureAlg alg, wallet::ParseSignatureAlg(alg_name));
  MDL_ASSIGN_OR_RETURN(Bytes raw, HexDecode(private_hex));
  MDL_ASSIGN_OR_RETURN(wallet::SigningKey k, wallet::MakeSigningKey(alg, raw));
  auto key = std::make_shared<wallet::SigningKey>(std::move(k));
  const did::KeyType type =
      alg == wallet::SignatureAlg::kEdDSA ? did::KeyType::kEd25519 : did::KeyType::kSecp256k1;
  MDL_ASSIGN_OR_RETURN(std::string mb, did::MultikeyFromPublicKey(type, key->public_key));
  Signer s;
  s.alg = alg == wallet::SignatureAlg::kEdDSA ? Alg::kEdDSA : Alg::kES256K;
  s.public_key = key->public_key;
  s.verification_method = "did:key:" + mb + "#" + mb;
  s.sign = [key](ByteView m) { return wallet::Sign(*key, m); };
  return s;
}

Result<json> ReadJson(const std::string& path) { return jcs::ParseStrict(ReadInput(path)); }

int Fail(const Status& s) { return Print({{"error", s.ToString()}}, 1); }

int CmdKey(const Args& a) {
  if (a.positional.size() != 2) Usage("key <EdDSA|ES256K> <private-key-hex>");
  auto s = MakeSigner(a.positional[0], a.positional[1]);
  if (!s) return Fail(s.error());
  const std::string& vm = s->verification_method;
  return Print({{"did", vm.substr(0, vm.find('#'))},
                {"verificationMethod", vm},
                {"publicKeyMultibase", vm.substr(vm.find('#') + 1)},
                {"publicKeyHex", HexEncode(s->public_key)}},
               0);
}

int CmdDiSign(const Args& a) {
  if (a.positional.size() != 2) Usage("di-sign <ed25519-seed-hex> <doc.json|->");
  auto signer = MakeSigner("EdDSA", a.positional[0]);
  if (!signer) return Fail(signer.error());
  auto doc = ReadJson(a.positional[1]);
  if (!doc) return Fail(doc.error());
  ProofOptions o;
  o.proof_purpose = Flag(a, "--purpose", "assertionMethod");
  o.created = Flag(a, "--created");
  o.expires = Flag(a, "--expires");
  o.challenge = Flag(a, "--challenge");
  o.domain = Flag(a, "--domain");
  o.id = Flag(a, "--id");
  o.previous_proof = Flag(a, "--previous-proof");
  auto secured = AddProof(*doc, *signer, o);
  if (!secured) return Fail(secured.error());
  return Print(*secured, 0);
}

int CmdDiVerify(const Args& a) {
  if (a.positional.size() != 1) Usage("di-verify <doc.json|->");
  auto doc = ReadJson(a.positional[0]);
  if (!doc) return Refused(Status::InvalidArgument("proof_malformed: " + doc.error().message()));
  ProofCheckOptions o;
  o.expected_purpose = Flag(a, "--purpose", "assertionMethod");
  o.expected_challenge = Flag(a, "--challenge");
  o.expected_domain = Flag(a, "--domain");
  o.now = IntFlag(a, "--now", static_cast<int64_t>(std::time(nullptr)));
  did::Resolver resolver;  // did:key only
  auto v = VerifyProofs(*doc, resolver, o);
  if (!v) return Refused(v.error());
  json proofs = json::array();
  for (const VerifiedProof& p : *v) {
    proofs.push_back({{"id", p.id},
                      {"verificationMethod", p.verification_method},
                      {"controller", p.controller},
                      {"proofPurpose", p.proof_purpose},
                      {"created", p.created}});
  }
  return Print({{"verified", true}, {"proofs", proofs}}, 0);
}

int CmdJwtSign(const Args& a) {
  if (a.positional.size() != 3) Usage("jwt-sign <EdDSA|ES256K> <private-key-hex> <payload.json|->");
  auto signer = MakeSigner(a.positional[0], a.positional[1]);
  if (!signer) return Fail(signer.error());
  auto doc = ReadJson(a.positional[2]);
  if (!doc) return Fail(doc.error());
  JwtSignOptions o;
  o.issued_at = IntFlag(a, "--iat", 0);
  o.not_before = IntFlag(a, "--nbf", 0);
  o.expires = IntFlag(a, "--exp", 0);
  o.audience = Flag(a, "--aud");
  o.nonce = Flag(a, "--nonce");
  o.jwt_id = Flag(a, "--jti");
  o.content_type = !Flag(a, "--cty").empty();
  const JwtKind kind = Flag(a, "--vp").empty() ? JwtKind::kCredential : JwtKind::kPresentation;
  auto jwt = SignJwt(kind, *doc, *signer, o);
  if (!jwt) return Fail(jwt.error());
  return Print({{"jwt", *jwt}, {"kid", signer->verification_method}}, 0);
}

int CmdJwtVerify(const Args& a) {
  if (a.positional.size() != 1) Usage("jwt-verify <jwt|->");
  std::string token = a.positional[0] == "-" ? ReadInput("-") : a.positional[0];
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  JwtCheckOptions o;
  o.now = IntFlag(a, "--now", static_cast<int64_t>(std::time(nullptr)));
  o.expected_audience = Flag(a, "--aud");
  o.expected_nonce = Flag(a, "--nonce");
  const JwtKind kind = Flag(a, "--vp").empty() ? JwtKind::kCredential : JwtKind::kPresentation;
  did::Resolver resolver;
  VerifiedJwt info;
  auto payload = VerifyJwt(kind, token, resolver, o, &info);
  if (!payload) return Refused(payload.error());
  return Print({{"verified", true},
                {"alg", std::string(AlgName(info.alg))},
                {"kid", info.kid},
                {"controller", info.controller},
                {"payload", *payload}},
               0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) Usage("no command");
  const std::string cmd = argv[1];
  if (cmd == "key") return CmdKey(Parse(argc, argv, 2, {}));
  if (cmd == "di-sign") return CmdDiSign(Parse(argc, argv, 2, {}));
  if (cmd == "di-verify") return CmdDiVerify(Parse(argc, argv, 2, {}));
  if (cmd == "jwt-sign") return CmdJwtSign(Parse(argc, argv, 2, {"--vp", "--cty"}));
  if (cmd == "jwt-verify") return CmdJwtVerify(Parse(argc, argv, 2, {"--vp"}));
  Usage("unknown command " + cmd);
}
