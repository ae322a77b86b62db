// `medallion vc issue | verify | present | status`: the claims module's three securing formats
// (Data Integrity eddsa-jcs-2022, VC-JOSE vc+jwt / vp+jwt, SD-JWT VC with key binding) and
// Bitstring Status List checks from the command line. No cryptography here: every proof, token
// and status list goes through medallion::claims.
#include "cli_vc.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli_ledger_options.h"
#include "cli_util.h"
#include "medallion/claims/credentials.h"
#include "medallion/claims/data_integrity.h"
#include "medallion/claims/jose.h"
#include "medallion/claims/presentation.h"
#include "medallion/claims/sd_jwt.h"
#include "medallion/claims/signer.h"
#include "medallion/claims/status_list.h"
#include "medallion/core/encoding.h"
#include "medallion/core/jcs.h"
#include "medallion/did/did_key.h"
#include "medallion/roles/did_web_http.h"
#include "medallion/wallet/bip39.h"
#include "medallion/wallet/keys.h"

namespace medallion::cli {
namespace {

using nlohmann::json;

constexpr std::string_view kEnvelopedJwtPrefix = "data:application/vc+jwt,";

// ---------------------------------------------------------------------------------------------
// Keys.

// Where a signing command gets its key: a purpose key of a key store, or a path of a mnemonic.
struct KeySource {
  std::string store, purpose, mnemonic_file, path, alg = "EdDSA", passphrase_file,
                                                   verification_method;

  void Add(CLI::App* cmd, const std::string& default_purpose) {
    purpose = default_purpose;
    cmd->add_option("--store", store, "Key store file (see `wallet init`)");
    cmd->add_option("--purpose", purpose,
                    "With --store: the purpose key to sign with (default " + default_purpose +
                        "; es256k signs ES256K, jwt and sd-jwt only)");
    cmd->add_option("--mnemonic-file", mnemonic_file,
                    "Or: a file holding a BIP-39 mnemonic (with --path)");
    cmd->add_option("--path", path, "With --mnemonic-file: the derivation path of the key");
    cmd->add_option("--alg", alg, "With --mnemonic-file: EdDSA (default) or ES256K");
    cmd->add_option(
        "--passphrase-file", passphrase_file,
        "With --store: the key store passphrase (else $MEDALLION_PASSPHRASE or a prompt). "
        "With --mnemonic-file: the BIP-39 passphrase");
    cmd->add_option(
        "--verification-method", verification_method,
        "The DID URL the key is published under (default: the key's did:key, did:key:z...#z...)");
  }

  // Checks the combination of options before anything is read. invalid_argument.
  Status Validate() const {
    if (store.empty() == mnemonic_file.empty())
      return Status::InvalidArgument("give exactly one of --store and --mnemonic-file");
    if (!mnemonic_file.empty() && path.empty())
      return Status::InvalidArgument("--mnemonic-file needs --path");
    if (!store.empty() && !path.empty())
      return Status::InvalidArgument(
          "--path goes with --mnemonic-file; use --purpose with --store");
    if (!verification_method.empty() && (verification_method.rfind("did:", 0) != 0 ||
                                         verification_method.find('#') == std::string::npos)) {
      return Status::InvalidArgument(
          "--verification-method must be an absolute DID URL (did:...#fragment)");
    }
    return Status::Ok();
  }

  // The signer, named by --verification-method or the key's did:key. Errors as the key store's
  // and the mnemonic's; invalid_argument for a key that cannot sign.
  Result<claims::Signer> Load() const {
    MDL_RETURN_IF_ERROR(Validate());
    SecretBytes seed;
    wallet::SignatureAlg sig_alg = wallet::SignatureAlg::kEdDSA;
    std::string key_path = path;
    if (!store.empty()) {
      MDL_ASSIGN_OR_RETURN(wallet::KeyPurpose p, wallet::ParseKeyPurpose(purpose));
      const wallet::Curve curve = wallet::CurveForPurpose(p);
      if (curve == wallet::Curve::kCurve25519) {
        return Status::InvalidArgument("--purpose " + purpose +
                                       " is an X25519 key-agreement key; it cannot sign");
      }
      sig_alg = curve == wallet::Curve::kEd25519 ? wallet::SignatureAlg::kEdDSA
                                                 : wallet::SignatureAlg::kES256K;
      key_path = wallet::PurposeKeyPath(0, p, 0);
      MDL_ASSIGN_OR_RETURN(wallet::WalletSecret secret, OpenAndUnlock(store, passphrase_file));
      seed = std::move(secret.seed);
    } else {
      MDL_ASSIGN_OR_RETURN(sig_alg, wallet::ParseSignatureAlg(alg));
      MDL_ASSIGN_OR_RETURN(SecretString mnemonic, ReadMnemonicFile(mnemonic_file));
      SecretString pass;
      if (!passphrase_file.empty()) {
        MDL_ASSIGN_OR_RETURN(pass, ReadSecretFile(passphrase_file));
      }
      MDL_ASSIGN_OR_RETURN(seed, wallet::bip39::MnemonicToSeed(mnemonic.Reveal(), pass.Reveal()));
    }
    MDL_ASSIGN_OR_RETURN(wallet::SigningKey key,
                         wallet::DeriveSigningKey(seed.Reveal(), sig_alg, key_path));
    std::string vm = verification_method;
    if (vm.empty()) {
      const did::KeyType type = sig_alg == wallet::SignatureAlg::kEdDSA ? did::KeyType::kEd25519
                                                                        : did::KeyType::kSecp256k1;
      MDL_ASSIGN_OR_RETURN(std::string multikey, did::MultikeyFromPublicKey(type, key.public_key));
      vm = "did:key:" + multikey + "#" + multikey;
    }
    return claims::WalletSigner(std::make_shared<const wallet::SigningKey>(std::move(key)), vm);
  }
};

std::string DidOf(const std::string& did_url) { return did_url.substr(0, did_url.find('#')); }

int64_t Now() { return DefaultEnv().clock->NowSeconds(); }

// ---------------------------------------------------------------------------------------------
// Input.

// What a file holds: a JSON document (Data Integrity) or a compact token (JWT, SD-JWT).
enum class Format { kDataIntegrity, kJwt, kSdJwt };
const char* FormatName(Format f) {
  switch (f) {
    case Format::kDataIntegrity:
      return "di";
    case Format::kJwt:
      return "jwt";
    case Format::kSdJwt:
      return "sd-jwt";
  }
  return "?";
}

struct Input {
  Format format = Format::kDataIntegrity;
  bool presentation = false;
  json document;      // kDataIntegrity: the document; kJwt: the (unverified) payload
  std::string token;  // kJwt / kSdJwt: the compact serialization
};

bool HasType(const json& doc, std::string_view type) {
  auto t = doc.find("type");
  if (t == doc.end()) return false;
  if (t->is_string()) return t->get<std::string>() == type;
  if (!t->is_array()) return false;
  return std::any_of(t->begin(), t->end(),
                     [&](const json& v) { return v.is_string() && v.get<std::string>() == type; });
}

bool IsBase64UrlText(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

// The decoded JSON object of one base64url segment of a compact JWS. invalid_argument.
Result<json> DecodeJwsPart(std::string_view part) {
  MDL_ASSIGN_OR_RETURN(Bytes raw, Base64UrlDecode(part));
  MDL_ASSIGN_OR_RETURN(json j, jcs::ParseStrict(std::string_view(
                                   reinterpret_cast<const char*>(raw.data()), raw.size())));
  if (!j.is_object()) return Status::InvalidArgument("a JWS part is not a JSON object");
  return j;
}

// Reads and classifies `path`. Errors (all exit 2): the file's, and invalid_argument for
// anything that is neither a credential / presentation document nor a compact JWT / SD-JWT.
Result<Input> ReadInput(const std::string& path) {
  MDL_ASSIGN_OR_RETURN(Bytes raw, ReadFileBytes(path));
  std::string text(raw.begin(), raw.end());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ' ||
                           text.back() == '\t')) {
    text.pop_back();
  }
  size_t start = text.find_first_not_of(" \t\r\n");
  if (start == std::string::npos) return Status::InvalidArgument(path + " is empty");
  text.erase(0, start);
  Input in;
  if (text[0] == '{') {
    auto doc = jcs::ParseStrict(text);
    if (!doc) return Status::InvalidArgument(path + " is not valid JSON: " + doc.error().message());
    if (!doc->is_object() || !doc->contains("@context")) {
      return Status::InvalidArgument(
          path + " is not a verifiable credential or presentation (no @context)");
    }
    in.presentation = HasType(*doc, "VerifiablePresentation");
    if (!in.presentation && !HasType(*doc, "VerifiableCredential")) {
      return Status::InvalidArgument(path +
                                     " is not a verifiable credential or presentation (type)");
    }
    in.document = std::move(*doc);
    return in;
  }
  if (text.size() > claims::kMaxSdJwtBytes)
    return Status::InvalidArgument(path + " is too large for a token");
  if (text.find('~') != std::string::npos) {
    // SD-JWT: "<jws>~<disclosure>~...~[<kb-jwt>]".
    const std::string jws = text.substr(0, text.find('~'));
    if (std::count(jws.begin(), jws.end(), '.') != 2)
      return Status::InvalidArgument(path + " is not an SD-JWT");
    auto header = DecodeJwsPart(jws.substr(0, jws.find('.')));
    if (!header)
      return Status::InvalidArgument(path + " is not an SD-JWT: " + header.error().message());
    in.format = Format::kSdJwt;
    in.token = text;
    in.presentation = text.back() != '~';  // a trailing KB-JWT
    return in;
  }
  if (std::count(text.begin(), text.end(), '.') == 2) {
    const size_t a = text.find('.'), b = text.find('.', a + 1);
    if (!IsBase64UrlText(text.substr(0, a)) || !IsBase64UrlText(text.substr(a + 1, b - a - 1))) {
      return Status::InvalidArgument(path + " is not a compact JWT");
    }
    auto header = DecodeJwsPart(text.substr(0, a));
    auto payload = DecodeJwsPart(text.substr(a + 1, b - a - 1));
    if (!header || !payload)
      return Status::InvalidArgument(path + " is not a JWT with JSON header and payload");
    in.format = Format::kJwt;
    in.token = text;
    in.presentation = header->value("typ", "") == claims::kVpJwtType ||
                      HasType(*payload, "VerifiablePresentation");
    in.document = std::move(*payload);
    return in;
  }
  return Status::InvalidArgument(path + " is neither a credential (JSON), a JWT nor an SD-JWT");
}

// Writes `text` (plus a newline) to --out (0644, never overwritten) or stdout.
Status Emit(const std::string& out, const std::string& text) {
  if (!out.empty())
    return WriteFileAtomic(out, text + "\n", /*public_file=*/true, /*overwrite=*/false);
  std::cout << text << "\n";
  return FlushStdout();
}

// ---------------------------------------------------------------------------------------------
// Verification.

// The outcome of verifying one thing: `reason` is "ok" or a reason code of the claims module.
struct Outcome {
  bool valid = true;
  std::string reason = "ok";
  std::string detail;
  json info = json::object();
  static Outcome Fail(const Status& st, std::string fallback) {
    Outcome o;
    o.valid = false;
    std::string_view code = claims::ReasonCode(st);
    o.reason = code.empty() ? std::move(fallback) : std::string(code);
    o.detail = st.message();
    return o;
  }
  static Outcome Fail(std::string reason, std::string detail) {
    Outcome o;
    o.valid = false;
    o.reason = std::move(reason);
    o.detail = std::move(detail);
    return o;
  }
};

struct VerifyContext {
  did::Resolver* resolver = nullptr;
  std::string challenge, domain;
  int64_t max_clock_skew = 300;
};

Outcome VerifyJwtCredential(const std::string& token, const VerifyContext& ctx);

// A Data Integrity credential: VC Data Model checks, then every proof, at least one by the issuer.
Outcome VerifyDiCredential(const json& vc, const VerifyContext& ctx) {
  if (Status st = claims::CheckCredential(vc, Now(), ctx.max_clock_skew); !st.ok()) {
    return Outcome::Fail(st, "vc_malformed");
  }
  claims::ProofCheckOptions po;
  po.now = Now();
  po.max_clock_skew = ctx.max_clock_skew;
  auto proofs = claims::VerifyProofs(vc, *ctx.resolver, po);
  if (!proofs) return Outcome::Fail(proofs.error(), "proof_invalid");
  const std::string issuer = claims::IssuerOf(vc);
  json methods = json::array();
  bool by_issuer = false;
  for (const auto& p : *proofs) {
    methods.push_back(p.verification_method);
    by_issuer = by_issuer || p.controller == issuer;
  }
  if (!by_issuer)
    return Outcome::Fail("proof_not_by_issuer", "no proof is by the issuer " + issuer);
  Outcome o;
  o.info = {{"issuer", issuer}, {"verification_methods", methods}};
  if (vc.contains("credentialSubject") && vc["credentialSubject"].is_object() &&
      vc["credentialSubject"].contains("id")) {
    o.info["subject"] = vc["credentialSubject"]["id"];
  }
  return o;
}

// The credentials of a presentation, each verified: embedded Data Integrity credentials and
// EnvelopedVerifiableCredential data: URLs of vc+jwt tokens.
Outcome VerifyPresentedCredentials(const json& vp, const VerifyContext& ctx) {
  auto creds = vp.find("verifiableCredential");
  if (creds == vp.end()) return {};
  json list = creds->is_array() ? *creds : json::array({*creds});
  json results = json::array();
  for (size_t i = 0; i < list.size(); ++i) {
    const json& c = list[i];
    Outcome r;
    if (c.is_object() && HasType(c, "EnvelopedVerifiableCredential") &&
        c.value("id", "").rfind(kEnvelopedJwtPrefix, 0) == 0) {
      r = VerifyJwtCredential(c["id"].get<std::string>().substr(kEnvelopedJwtPrefix.size()), ctx);
    } else if (c.is_object()) {
      r = VerifyDiCredential(c, ctx);
    } else {
      r = Outcome::Fail("presentation_malformed",
                        "credential " + std::to_string(i) + " is not an object");
    }
    if (!r.valid) {
      r.detail = "credential " + std::to_string(i) + ": " + r.detail;
      return r;
    }
    results.push_back(r.info);
  }
  Outcome o;
  o.info["credentials"] = results;
  return o;
}

Outcome VerifyDiPresentation(const json& vp, const VerifyContext& ctx) {
  claims::ProofCheckOptions po;
  po.expected_purpose = "authentication";
  po.expected_challenge = ctx.challenge;
  po.expected_domain = ctx.domain;
  po.now = Now();
  po.max_clock_skew = ctx.max_clock_skew;
  auto proofs = claims::VerifyProofs(vp, *ctx.resolver, po);
  if (!proofs) return Outcome::Fail(proofs.error(), "proof_invalid");
  std::string holder;
  if (vp.contains("holder") && vp["holder"].is_string()) holder = vp["holder"].get<std::string>();
  if (vp.contains("holder") && vp["holder"].is_object()) holder = vp["holder"].value("id", "");
  const bool by_holder =
      std::any_of(proofs->begin(), proofs->end(),
                  [&](const claims::VerifiedProof& p) { return p.controller == holder; });
  if (holder.empty() || !by_holder)
    return Outcome::Fail("holder_binding_failed", "no proof is by the holder '" + holder + "'");
  Outcome o = VerifyPresentedCredentials(vp, ctx);
  if (!o.valid) return o;
  o.info["holder"] = holder;
  return o;
}

Outcome VerifyJwtCredential(const std::string& token, const VerifyContext& ctx) {
  claims::JwtCheckOptions jo;
  jo.now = Now();
  jo.max_clock_skew = ctx.max_clock_skew;
  claims::VerifiedJwt info;
  auto payload = claims::VerifyJwt(claims::JwtKind::kCredential, token, *ctx.resolver, jo, &info);
  if (!payload) return Outcome::Fail(payload.error(), "jwt_invalid");
  Outcome o;
  o.info = {{"issuer", info.controller}, {"verification_methods", json::array({info.kid})}};
  if (payload->contains("credentialSubject") && (*payload)["credentialSubject"].is_object() &&
      (*payload)["credentialSubject"].contains("id")) {
    o.info["subject"] = (*payload)["credentialSubject"]["id"];
  }
  return o;
}

Outcome VerifyJwtPresentation(const std::string& token, const VerifyContext& ctx) {
  claims::JwtCheckOptions jo;
  jo.now = Now();
  jo.max_clock_skew = ctx.max_clock_skew;
  jo.expected_audience = ctx.domain;
  jo.expected_nonce = ctx.challenge;
  claims::VerifiedJwt info;
  auto payload = claims::VerifyJwt(claims::JwtKind::kPresentation, token, *ctx.resolver, jo, &info);
  if (!payload) return Outcome::Fail(payload.error(), "jwt_invalid");
  Outcome o = VerifyPresentedCredentials(*payload, ctx);
  if (!o.valid) return o;
  o.info["holder"] = info.controller;
  return o;
}

Outcome VerifySdJwtToken(const std::string& token, bool key_bound, const VerifyContext& ctx) {
  claims::SdJwtVerifyOptions so;
  so.require_key_binding = key_bound || !ctx.challenge.empty();
  so.expected_audience = ctx.domain;
  so.expected_nonce = ctx.challenge;
  so.max_clock_skew_seconds = ctx.max_clock_skew;
  auto v = claims::VerifySdJwt(token, *ctx.resolver, so, *DefaultEnv().clock);
  if (!v) return Outcome::Fail(v.error(), "sd_jwt_invalid");
  Outcome o;
  o.info = {{"issuer", v->issuer},
            {"verification_methods", json::array({v->verification_method})},
            {"vct", v->vct},
            {"disclosed", v->disclosed},
            {"key_bound", v->key_bound}};
  auto claims_json = jcs::ParseStrict(v->payload_json);
  if (claims_json) o.info["claims"] = std::move(*claims_json);
  return o;
}

// --ledger/--log-key: a did:mdl resolver through a verifying ledger client, if asked for.
Result<std::shared_ptr<roles::LedgerClient>> MaybeLedger(const ClientOptions& l) {
  if (l.log_key.empty()) return std::shared_ptr<roles::LedgerClient>();
  MDL_ASSIGN_OR_RETURN(roles::LedgerClient client, l.MakeClient());
  return std::make_shared<roles::LedgerClient>(std::move(client));
}

// Status lists over HTTPS (plain HTTP on loopback only with --allow-insecure-loopback).
class StatusFetcher final : public claims::StatusListFetcher {
 public:
  explicit StatusFetcher(roles::HttpsFetcherOptions o) : fetcher_(std::move(o)) {}
  Result<std::string> Fetch(const std::string& url) override { return fetcher_.Fetch(url); }

 private:
  roles::HttpsDocumentFetcher fetcher_;
};

// The credentialStatus of a credential in any of the three formats (not verified here).
Result<json> CredentialStatusOf(const Input& in) {
  json doc = in.document;
  if (in.format == Format::kSdJwt) {
    MDL_ASSIGN_OR_RETURN(claims::SdJwtHolderView view, claims::InspectSdJwt(in.token));
    MDL_ASSIGN_OR_RETURN(doc, jcs::ParseStrict(view.payload_json));
  }
  if (in.presentation)
    return Status::InvalidArgument("vc status takes a credential, not a presentation");
  auto s = doc.find("credentialStatus");
  if (s == doc.end()) return Status::InvalidArgument("the credential has no credentialStatus");
  json entries = s->is_array() ? *s : json::array({*s});
  if (entries.empty()) return Status::InvalidArgument("the credential's credentialStatus is empty");
  return entries;
}

std::string IssuerOfInput(const Input& in) {
  if (in.format == Format::kSdJwt) {
    auto view = claims::InspectSdJwt(in.token);
    if (!view) return "";
    auto payload = jcs::ParseStrict(view->payload_json);
    return payload && payload->is_object() ? payload->value("iss", "") : "";
  }
  return claims::IssuerOf(in.document);
}

// Reads a key store / mnemonic error for the exit code: opening a file that is no key store is
// exit 2 (OpenAndUnlock reports it as invalid_argument already).
int Fail(const Status& st) { return ReportError(st); }

// `vc issue`.
struct VcIssueOptions {
  KeySource key;
  std::string format, in, out, vct, holder;
  std::vector<std::string> sd;
  int64_t valid_seconds = 0;
};

int RunVcIssue(const VcIssueOptions& o) {
  if (Status st = o.key.Validate(); !st.ok()) return Fail(st);
  const bool sd_jwt = o.format == "sd-jwt";
  if (!sd_jwt && (!o.sd.empty() || !o.vct.empty() || !o.holder.empty())) {
    return Fail(Status::InvalidArgument("--sd, --vct and --holder go with --format sd-jwt"));
  }
  auto raw = ReadFileBytes(o.in);
  if (!raw) return Fail(raw.error());
  auto doc =
      jcs::ParseStrict(std::string_view(reinterpret_cast<const char*>(raw->data()), raw->size()));
  if (!doc)
    return Fail(Status::InvalidArgument(o.in + " is not valid JSON: " + doc.error().message()));
  if (!doc->is_object()) return Fail(Status::InvalidArgument(o.in + " is not a JSON object"));
  std::optional<claims::HolderKey> holder;
  if (!o.holder.empty()) {
    auto dk = did::ParseDidKey(DidOf(o.holder));
    if (!dk || dk->type == did::KeyType::kX25519) {
      return Fail(Status::InvalidArgument("--holder must be an Ed25519 or secp256k1 did:key"));
    }
    holder = claims::HolderKey{
        dk->type == did::KeyType::kEd25519 ? claims::Alg::kEdDSA : claims::Alg::kES256K,
        dk->public_key};
  }
  auto signer = o.key.Load();
  if (!signer) return Fail(signer.error());
  const std::string did = DidOf(signer->verification_method);
  const int64_t now = Now();
  std::string text;
  if (!sd_jwt) {
    // The issuer is the key's DID unless the document names it (then they must agree).
    if (!doc->contains("issuer")) (*doc)["issuer"] = did;
    if (claims::IssuerOf(*doc) != did) {
      return Fail(Status::InvalidArgument("the credential's issuer '" + claims::IssuerOf(*doc) +
                                          "' is not the key's DID '" + did +
                                          "' (give --verification-method)"));
    }
    if (Status st = claims::CheckCredential(*doc); !st.ok()) return Fail(st);
  }
  if (o.format == "di") {
    claims::ProofOptions po;
    po.created = did::XmlDateTime(now);
    auto secured = claims::AddProof(*doc, *signer, po);
    if (!secured) return Fail(secured.error());
    text = DumpJson(*secured, 2);
  } else if (o.format == "jwt") {
    claims::JwtSignOptions jo;
    jo.issued_at = now;
    if (o.valid_seconds > 0) jo.expires = now + o.valid_seconds;
    auto token = claims::SignJwt(claims::JwtKind::kCredential, *doc, *signer, jo);
    if (!token) return Fail(token.error());
    text = *token;
  } else {
    if (!o.vct.empty()) (*doc)["vct"] = o.vct;
    if (!doc->contains("vct")) {
      return Fail(
          Status::InvalidArgument("an SD-JWT VC needs a `vct`: give --vct or put one in " + o.in));
    }
    if (o.valid_seconds > 0) (*doc)["exp"] = now + o.valid_seconds;
    claims::SdJwtIssueOptions so;
    for (const std::string& p : o.sd)
      so.disclosable.push_back(p.empty() || p[0] != '/' ? "/" + p : p);
    so.holder = holder;
    auto token = claims::IssueSdJwt(*doc, *signer, so, DefaultEnv());
    if (!token) return Fail(token.error());
    text = *token;
  }
  if (Status st = Emit(o.out, text); !st.ok()) return Fail(st);
  return kExitOk;
}

void AddVcIssue(CLI::App* parent, int& rc) {
  auto* cmd = parent->add_subcommand(
      "issue", "Secure an unsigned credential: di (eddsa-jcs-2022), jwt (vc+jwt) or sd-jwt");
  auto o = std::make_shared<VcIssueOptions>();
  cmd->add_option("--format", o->format, "di, jwt or sd-jwt")
      ->required()
      ->check(CLI::IsMember({"di", "jwt", "sd-jwt"}));
  cmd->add_option(
         "--in", o->in,
         "The unsigned credential (JSON; for sd-jwt the SD-JWT VC payload, or a credential)")
      ->required();
  cmd->add_option("--out", o->out,
                  "Write the secured credential here (never overwritten) instead of stdout");
  o->key.Add(cmd, "assertion");
  cmd->add_option("--sd", o->sd,
                  "sd-jwt: a selectively disclosable claim, a JSON Pointer "
                  "(/credentialSubject/name) or a top-level "
                  "name (repeat)");
  cmd->add_option("--vct", o->vct, "sd-jwt: the credential type `vct` when the payload has none");
  cmd->add_option("--holder", o->holder,
                  "sd-jwt: the holder's did:key, bound as cnf.jwk (needed for `vc present`)");
  cmd->add_option("--expires-in", o->valid_seconds,
                  "jwt / sd-jwt: `exp` this many seconds from now (default: none)");
  cmd->callback([o, &rc] { rc = RunVcIssue(*o); });
}

// `vc verify`.
struct VcVerifyOptions {
  std::string in, challenge, domain;
  VerifierOptions verifier;
  ClientOptions ledger;
  int64_t skew = 300;
};

int RunVcVerify(const VcVerifyOptions& o) {
  if (Status st = o.verifier.Check(); !st.ok()) return Fail(st);
  auto in = ReadInput(o.in);
  if (!in) return Fail(in.error());
  if (o.challenge.empty() != o.domain.empty()) {
    return Fail(Status::InvalidArgument("give --challenge and --domain together"));
  }
  if (in->presentation && o.challenge.empty()) {
    return Fail(
        Status::InvalidArgument("a presentation is verified against --challenge and --domain"));
  }
  auto ledger = MaybeLedger(o.ledger);
  if (!ledger) return Fail(ledger.error());
  Verifier verifier(o.verifier, *ledger);
  VerifyContext ctx{&verifier.resolver(), o.challenge, o.domain, o.skew};
  Outcome r;
  if (in->format == Format::kDataIntegrity) {
    r = in->presentation ? VerifyDiPresentation(in->document, ctx)
                         : VerifyDiCredential(in->document, ctx);
  } else if (in->format == Format::kJwt) {
    r = in->presentation ? VerifyJwtPresentation(in->token, ctx)
                         : VerifyJwtCredential(in->token, ctx);
  } else {
    r = VerifySdJwtToken(in->token, in->presentation, ctx);
  }
  if (r.valid && !o.verifier.trusted.empty()) {
    // --trust: every credential's issuer must be one of them.
    std::vector<std::string> issuers;
    if (r.info.contains("issuer")) issuers.push_back(r.info["issuer"].get<std::string>());
    if (r.info.contains("credentials")) {
      for (const json& c : r.info["credentials"]) issuers.push_back(c.value("issuer", ""));
    }
    const auto& t = o.verifier.trusted;
    for (const std::string& issuer : issuers) {
      if (std::find(t.begin(), t.end(), issuer) == t.end()) {
        Outcome u = Outcome::Fail("issuer_untrusted",
                                  "the issuer '" + issuer + "' is not given with --trust");
        u.info = r.info;
        r = std::move(u);
        break;
      }
    }
  }
  json out = {{"valid", r.valid},
              {"reason", r.reason},
              {"format", FormatName(in->format)},
              {"kind", in->presentation ? "presentation" : "credential"}};
  if (!r.detail.empty()) out["detail"] = r.detail;
  for (auto& [k, v] : r.info.items()) out[k] = v;
  PrintJson(out);
  return r.valid ? kExitOk : kExitFalse;
}

void AddVcVerify(CLI::App* parent, int& rc) {
  auto* cmd = parent->add_subcommand("verify",
                                     "Verify a credential or presentation in any format; exit 0 "
                                     "only if valid (1 invalid, 2 bad input)");
  auto o = std::make_shared<VcVerifyOptions>();
  cmd->add_option(
         "--in", o->in,
         "The credential or presentation: JSON (Data Integrity), a vc+jwt / vp+jwt, an SD-JWT")
      ->required();
  cmd->add_option("--challenge", o->challenge,
                  "Presentations: the challenge (nonce) the holder must have signed");
  cmd->add_option("--domain", o->domain, "Presentations: the verifier's domain (audience)");
  cmd->add_option("--max-clock-skew", o->skew,
                  "Seconds of tolerance on validity times (0..900, default 300)")
      ->check(CLI::Range(int64_t{0}, claims::kMaxClockSkewSeconds));
  AddVerifierOptions(cmd, o->verifier);
  o->ledger.Add(cmd, /*need_key=*/false, "--ledger");
  cmd->footer(
      "Issuers are resolved offline for did:key, over HTTPS for did:web "
      "(--allow-insecure-loopback, --ca-file) and "
      "through a verifying ledger client for did:mdl (--ledger URL --log-key KEY). With --trust, "
      "every credential's "
      "issuer must be one of the DIDs given (else reason issuer_untrusted). Output: JSON with "
      "valid, reason "
      "(\"ok\" or a reason code), format, kind, issuer.");
  cmd->callback([o, &rc] { rc = RunVcVerify(*o); });
}

// `vc present`.
struct VcPresentOptions {
  KeySource key;
  std::vector<std::string> in;
  std::vector<std::string> reveal;
  std::string challenge, domain, out;
};

int RunVcPresent(const VcPresentOptions& o) {
  if (Status st = o.key.Validate(); !st.ok()) return Fail(st);
  if (o.challenge.empty() || o.domain.empty()) {
    return Fail(Status::InvalidArgument("--challenge and --domain must not be empty"));
  }
  std::vector<Input> inputs;
  for (const std::string& path : o.in) {
    auto in = ReadInput(path);
    if (!in) return Fail(in.error());
    if (in->presentation) return Fail(Status::InvalidArgument(path + " is already a presentation"));
    if (!inputs.empty() && in->format != inputs[0].format) {
      return Fail(Status::InvalidArgument("every --in must be of one format"));
    }
    inputs.push_back(std::move(*in));
  }
  const Format format = inputs[0].format;
  if (format == Format::kSdJwt && inputs.size() != 1) {
    return Fail(Status::InvalidArgument("an SD-JWT presentation carries one SD-JWT"));
  }
  if (format != Format::kSdJwt && !o.reveal.empty()) {
    return Fail(Status::InvalidArgument("--reveal goes with an SD-JWT"));
  }
  auto signer = o.key.Load();
  if (!signer) return Fail(signer.error());
  const std::string holder = DidOf(signer->verification_method);
  const int64_t now = Now();
  std::string text;
  if (format == Format::kDataIntegrity) {
    std::vector<json> creds;
    for (const Input& in : inputs) creds.push_back(in.document);
    auto vp = claims::PresentCredentials(
        creds, holder, *signer, claims::Challenge{o.challenge, o.domain, 0}, did::XmlDateTime(now));
    if (!vp) return Fail(vp.error());
    text = DumpJson(*vp, 2);
  } else if (format == Format::kJwt) {
    // VC-JOSE-COSE §3.1.2: credentials in a vp+jwt are EnvelopedVerifiableCredentials.
    json creds = json::array();
    for (const Input& in : inputs) {
      creds.push_back({{"@context", json::array({claims::kVcContextV2})},
                       {"id", std::string(kEnvelopedJwtPrefix) + in.token},
                       {"type", "EnvelopedVerifiableCredential"}});
    }
    json vp = {{"@context", json::array({claims::kVcContextV2})},
               {"type", json::array({"VerifiablePresentation"})},
               {"holder", holder},
               {"verifiableCredential", creds}};
    claims::JwtSignOptions jo;
    jo.issued_at = now;
    jo.audience = o.domain;
    jo.nonce = o.challenge;
    auto token = claims::SignJwt(claims::JwtKind::kPresentation, vp, *signer, jo);
    if (!token) return Fail(token.error());
    text = *token;
  } else {
    claims::SdJwtPresentOptions so;
    so.audience = o.domain;
    so.nonce = o.challenge;
    if (o.reveal.empty()) {
      auto view = claims::InspectSdJwt(inputs[0].token);
      if (!view) return Fail(view.error());
      so.reveal = view->disclosable;
    } else {
      for (const std::string& p : o.reveal)
        so.reveal.push_back(p.empty() || p[0] != '/' ? "/" + p : p);
    }
    auto token = claims::PresentSdJwt(inputs[0].token, so, &*signer, DefaultEnv());
    if (!token) return Fail(token.error());
    text = *token;
  }
  if (Status st = Emit(o.out, text); !st.ok()) return Fail(st);
  return kExitOk;
}

void AddVcPresent(CLI::App* parent, int& rc) {
  auto* cmd = parent->add_subcommand(
      "present",
      "Make a holder-bound presentation of credentials for a verifier's challenge and domain");
  auto o = std::make_shared<VcPresentOptions>();
  cmd->add_option("--in", o->in,
                  "A credential to present (repeat for Data Integrity and vc+jwt; one SD-JWT); all "
                  "of one format")
      ->required();
  cmd->add_option("--challenge", o->challenge, "The verifier's challenge (nonce)")->required();
  cmd->add_option("--domain", o->domain, "The verifier's domain (audience)")->required();
  cmd->add_option("--reveal", o->reveal,
                  "sd-jwt: a disclosable claim to reveal, JSON Pointer or top-level name (repeat; "
                  "default: all)");
  cmd->add_option("--out", o->out,
                  "Write the presentation here (never overwritten) instead of stdout");
  o->key.Add(cmd, "authentication");
  cmd->callback([o, &rc] { rc = RunVcPresent(*o); });
}

// `vc status`.
struct VcStatusOptions {
  std::string in;
  VerifierOptions verifier;
  ClientOptions ledger;
};

int RunVcStatus(const VcStatusOptions& o) {
  if (Status st = o.verifier.Check(); !st.ok()) return Fail(st);
  auto in = ReadInput(o.in);
  if (!in) return Fail(in.error());
  auto entries = CredentialStatusOf(*in);
  if (!entries) return Fail(entries.error());
  // Whose lists count: --trust, else the credential's own issuer.
  VerifierOptions vo = o.verifier;
  if (vo.trusted.empty()) {
    const std::string issuer = IssuerOfInput(*in);
    if (issuer.empty()) return Fail(Status::InvalidArgument("the credential names no issuer"));
    vo.trusted.push_back(issuer);
  }
  auto ledger = MaybeLedger(o.ledger);
  if (!ledger) return Fail(ledger.error());
  Verifier verifier(vo, *ledger);
  roles::HttpsFetcherOptions fo;
  fo.allow_insecure_loopback = vo.allow_insecure_loopback;
  fo.ca_file = vo.ca_file;
  fo.max_body_bytes = size_t{32} << 20;
  StatusFetcher fetcher(fo);
  const std::vector<std::string> trusted = vo.trusted;
  did::Resolver& resolver = verifier.resolver();
  claims::StatusChecker checker(fetcher, *DefaultEnv().clock, [&](const json& list) -> Status {
    const std::string issuer = claims::IssuerOf(list);
    if (std::find(trusted.begin(), trusted.end(), issuer) == trusted.end()) {
      return Status::PermissionDenied("the status list's issuer '" + issuer + "' is not trusted");
    }
    claims::ProofCheckOptions po;
    po.now = Now();
    MDL_ASSIGN_OR_RETURN(std::vector<claims::VerifiedProof> proofs,
                         claims::VerifyProofs(list, resolver, po));
    for (const auto& p : proofs) {
      if (p.controller == issuer) return Status::Ok();
    }
    return Status::PermissionDenied("no proof by the status list's issuer");
  });
  json results = json::array();
  bool valid = true;
  std::string reason = "ok";
  std::string detail;
  for (const json& entry : *entries) {
    auto s = checker.Check(entry);
    if (!s) {
      if (s.error().code() == StatusCode::kInvalidArgument &&
          claims::ReasonCode(s.error()) == claims::status_reason::kMalformedValue) {
        return Fail(s.error());
      }
      valid = false;
      if (reason == "ok") {
        reason = std::string(claims::ReasonCode(s.error()));
        if (reason.empty()) reason = "status_unavailable";
        detail = s.error().message();
      }
      results.push_back({{"entry", entry}, {"error", s.error().message()}});
      continue;
    }
    const std::string purpose(claims::StatusPurposeName(s->purpose));
    results.push_back(
        {{"purpose", purpose}, {"index", s->index}, {"set", s->set}, {"list", s->list_url}});
    if (s->set) {
      valid = false;
      if (reason == "ok" || reason == "suspended")
        reason = s->purpose == claims::StatusPurpose::kRevocation ? "revoked" : "suspended";
    }
  }
  json out = {{"valid", valid},
              {"reason", reason},
              {"format", FormatName(in->format)},
              {"entries", results}};
  if (!detail.empty()) out["detail"] = detail;
  PrintJson(out);
  return valid ? kExitOk : kExitFalse;
}

void AddVcStatus(CLI::App* parent, int& rc) {
  auto* cmd = parent->add_subcommand("status",
                                     "Check a credential's Bitstring Status List entries; exit 0 "
                                     "only if none is set (1 revoked, suspended "
                                     "or unknown; 2 bad input)");
  auto o = std::make_shared<VcStatusOptions>();
  cmd->add_option("--in", o->in, "The credential (any format) whose credentialStatus is checked")
      ->required();
  AddVerifierOptions(cmd, o->verifier);
  o->ledger.Add(cmd, /*need_key=*/false, "--ledger");
  cmd->callback([o, &rc] { rc = RunVcStatus(*o); });
}

}  // namespace

void AddVcCommands(CLI::App& app, int& rc) {
  CLI::App* vc = app.add_subcommand("vc",
                                    "Verifiable credentials: issue, verify, present and "
                                    "status-check (Data Integrity, vc+jwt, SD-JWT VC)");
  vc->require_subcommand(1);

  AddVcIssue(vc, rc);
  AddVcVerify(vc, rc);
  AddVcPresent(vc, rc);
  AddVcStatus(vc, rc);
}

}  // namespace medallion::cli
