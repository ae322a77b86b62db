// SD-JWT issuance, holder processing, presentation with key binding, and verification
// (RFC 9901; SD-JWT VC, draft-ietf-oauth-sd-jwt-vc).
#include "medallion/claims/sd_jwt.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "medallion/core/encoding.h"
#include "medallion/core/hash.h"
#include "medallion/core/jcs.h"
#include "medallion/did/document.h"
#include "medallion/wallet/keys.h"

namespace medallion::claims {
namespace {

using nlohmann::json;
namespace rc = sd_jwt_reason;

// RFC 9901 §4.1.1: the only hash algorithm we issue or accept (IANA "Named Information Hash
// Algorithm" name).
constexpr std::string_view kSdAlg = "sha-256";
// RFC 9901 §9.3: salts of at least 128 bits.
constexpr size_t kSaltBytes = 16;
// Nesting bound across recursive disclosures (each disclosure value is itself bounded by the
// strict parser's jcs::kMaxDepth).
constexpr int kMaxProcessingDepth = 2 * jcs::kMaxDepth;

Status Fail(StatusCode code, std::string_view why, std::string_view detail) {
  return Status(code, std::string(why) + ": " + std::string(detail), std::string(why));
}
Status Invalid(std::string_view why, std::string_view detail) {
  return Fail(StatusCode::kInvalidArgument, why, detail);
}
Status Malformed(std::string_view detail) { return Invalid(rc::kMalformed, detail); }

// JSON text of a value; nlohmann throws on strings that are not valid UTF-8.
Result<std::string> Dump(const json& value) {
  try {
    return value.dump();
  } catch (const json::exception& e) {
    return Malformed(std::string("value is not serializable as JSON: ") + e.what());
  }
}

// Base64url segment → strict JSON (I-JSON: no duplicate member names, RFC 7493 §2.3).
Result<json> DecodeJsonSegment(std::string_view segment, std::string_view why,
                               std::string_view what) {
  auto bytes = Base64UrlDecode(segment);
  if (!bytes) return Invalid(why, std::string(what) + " is not base64url");
  auto parsed = jcs::ParseStrict(ToString(*bytes));
  if (!parsed)
    return Invalid(why, std::string(what) + " is not strict JSON: " + parsed.error().message());
  return std::move(parsed).value();
}

// ---------------------------------------------------------------------------------------------
// Minimal JWS Compact Serialization (RFC 7515 §3.1, §7.1) for the issuer-signed JWT and the
// KB-JWT.
// TODO(jose.h): switch to claims/jose.h once it offers generic compact-JWS sign / parse / verify
// (today it exposes only the vc+jwt / vp+jwt functions SignJwt and VerifyJwt). Everything
// JWS-specific in this file is in this namespace, so the switch replaces `jws::Parse`, `jws::Sign`
// and `jws::Verify` only.
// ---------------------------------------------------------------------------------------------
namespace jws {

// RFC 8725 §3.1: an explicit allow-list; "none" and every other name are refused.
Result<Alg> AlgFromHeader(const json& header) {
  auto it = header.find("alg");
  if (it == header.end() || !it->is_string())
    return Invalid(rc::kAlgUnsupported, "header has no string alg");
  const auto& name = it->get_ref<const std::string&>();
  if (name == "EdDSA") return Alg::kEdDSA;
  if (name == "ES256K") return Alg::kES256K;
  return Invalid(rc::kAlgUnsupported, "alg \"" + name.substr(0, 32) + "\" is not allowed");
}

struct Parsed {
  json header;
  json payload;
  std::string signing_input;  // ASCII(BASE64URL(header) || '.' || BASE64URL(payload))
  Bytes signature;
  Alg alg = Alg::kEdDSA;
};

// Parses (does not verify) a compact JWS whose payload is a JSON object. `why` is the reason code
// for syntax errors (sd_jwt_malformed or kb_malformed).
Result<Parsed> Parse(std::string_view compact, std::string_view why) {
  const size_t d1 = compact.find('.');
  const size_t d2 = d1 == std::string_view::npos ? d1 : compact.find('.', d1 + 1);
  if (d2 == std::string_view::npos || compact.find('.', d2 + 1) != std::string_view::npos)
    return Invalid(why, "a compact JWS has exactly three parts");
  const std::string_view h = compact.substr(0, d1), p = compact.substr(d1 + 1, d2 - d1 - 1),
                         s = compact.substr(d2 + 1);
  if (h.empty() || p.empty() || s.empty()) return Invalid(why, "empty JWS part");
  Parsed out;
  MDL_ASSIGN_OR_RETURN(out.header, DecodeJsonSegment(h, why, "JWS header"));
  if (!out.header.is_object()) return Invalid(why, "JWS header is not an object");
  // RFC 7515 §4.1.11: we implement no extension, so any `crit` makes the JWS invalid.
  if (out.header.contains("crit")) return Invalid(why, "JWS header has crit");
  MDL_ASSIGN_OR_RETURN(out.alg, AlgFromHeader(out.header));
  MDL_ASSIGN_OR_RETURN(out.payload, DecodeJsonSegment(p, why, "JWS payload"));
  if (!out.payload.is_object()) return Invalid(why, "JWS payload is not an object");
  auto sig = Base64UrlDecode(s);
  // EdDSA (RFC 8037 §3.1) and ES256K (RFC 8812 §3.2, r||s) signatures are both 64 bytes.
  if (!sig || sig->size() != 64) return Invalid(why, "JWS signature is not 64 base64url bytes");
  out.signature = std::move(*sig);
  out.signing_input = std::string(compact.substr(0, d2));
  return out;
}

Result<std::string> Sign(const json& header, const json& payload, const Signer& signer) {
  MDL_ASSIGN_OR_RETURN(std::string header_text, Dump(header));
  MDL_ASSIGN_OR_RETURN(std::string payload_text, Dump(payload));
  std::string input =
      Base64UrlEncode(AsBytes(header_text)) + "." + Base64UrlEncode(AsBytes(payload_text));
  if (!signer.sign) Panic("claims::Signer without a sign callback");
  MDL_ASSIGN_OR_RETURN(Bytes signature, signer.sign(AsBytes(input)));
  if (signature.size() != 64)
    return Status::Internal("signer returned a signature of " + std::to_string(signature.size()) +
                            " bytes");
  return input + "." + Base64UrlEncode(signature);
}

bool Verify(const Parsed& jws, ByteView public_key) {
  return VerifySignature(jws.alg, public_key, AsBytes(jws.signing_input), jws.signature);
}

}  // namespace jws

// ---------------------------------------------------------------------------------------------
// Keys and JWKs (RFC 7517; OKP: RFC 8037 §2; EC secp256k1: RFC 8812 §3.1).
// ---------------------------------------------------------------------------------------------

Result<json> PublicJwk(Alg alg, ByteView public_key) {
  if (alg == Alg::kEdDSA) {
    if (public_key.size() != 32)
      return Status::InvalidArgument("Ed25519 public key must be 32 bytes");
    return json{{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", Base64UrlEncode(public_key)}};
  }
  auto full = public_key.size() == 33 ? wallet::DecompressSecp256k1PublicKey(public_key)
                                      : Result<Bytes>(Status::InvalidArgument("not 33 bytes"));
  if (!full)
    return Status::InvalidArgument("secp256k1 public key must be a 33-byte compressed point");
  return json{{"kty", "EC"},
              {"crv", "secp256k1"},
              {"x", Base64UrlEncode(ByteView(*full).subspan(1, 32))},
              {"y", Base64UrlEncode(ByteView(*full).subspan(33, 32))}};
}

std::optional<Alg> AlgForKeyType(did::KeyType type) {
  if (type == did::KeyType::kEd25519) return Alg::kEdDSA;
  if (type == did::KeyType::kSecp256k1) return Alg::kES256K;
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// JSON Pointers (RFC 6901).
// ---------------------------------------------------------------------------------------------

std::string Child(const std::string& pointer, std::string_view token) {
  return pointer + "/" + EscapeJsonPointerToken(token);
}
std::string Child(const std::string& pointer, size_t index) {
  return pointer + "/" + std::to_string(index);
}

// RFC 6901 §3/§4: "" is the root; otherwise '/'-separated tokens with ~0 and ~1 escapes.
Result<std::vector<std::string>> SplitPointer(std::string_view pointer) {
  std::vector<std::string> tokens;
  if (pointer.empty()) return tokens;
  if (pointer[0] != '/')
    return Status::InvalidArgument("JSON Pointer must start with '/': " + std::string(pointer));
  std::string current;
  for (size_t i = 1; i <= pointer.size(); ++i) {
    if (i == pointer.size() || pointer[i] == '/') {
      tokens.push_back(std::move(current));
      current.clear();
      continue;
    }
    if (pointer[i] == '~') {
      if (i + 1 < pointer.size() && (pointer[i + 1] == '0' || pointer[i + 1] == '1')) {
        current += pointer[i + 1] == '0' ? '~' : '/';
        ++i;
        continue;
      }
      return Status::InvalidArgument("JSON Pointer has a bad '~' escape: " + std::string(pointer));
    }
    current += pointer[i];
  }
  return tokens;
}

std::string JoinPointer(const std::vector<std::string>& tokens) {
  std::string out;
  for (const auto& t : tokens) out = Child(out, t);
  return out;
}

// True when `pointer` is `ancestor` or lies below it.
bool IsAtOrBelow(std::string_view pointer, std::string_view ancestor) {
  return pointer == ancestor ||
         (pointer.size() > ancestor.size() && pointer.substr(0, ancestor.size()) == ancestor &&
          pointer[ancestor.size()] == '/');
}

// Whether `tokens` name a value in `root` (array indices in RFC 6901 canonical form).
bool PointerExists(const json& root, const std::vector<std::string>& tokens) {
  const json* node = &root;
  for (const auto& t : tokens) {
    if (node->is_object()) {
      auto it = node->find(t);
      if (it == node->end()) return false;
      node = &*it;
    } else if (node->is_array()) {
      if (t.empty() || t.size() > 9 || (t.size() > 1 && t[0] == '0') ||
          !std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return false;
      const size_t i = std::stoul(t);
      if (i >= node->size()) return false;
      node = &(*node)[i];
    } else {
      return false;
    }
  }
  return true;
}

// SD-JWT VC §3.2.2.2 ("Registered JWT Claims"): claims that MUST NOT be selectively disclosed.
// We apply it to every SD-JWT: a verifier must not take expiry, issuer or holder key from a
// value the holder can withhold.
bool IsNonDisclosable(std::string_view name) {
  return name == "iss" || name == "nbf" || name == "exp" || name == "cnf" || name == "vct" ||
         name == "vct#integrity" || name == "status";
}

// ---------------------------------------------------------------------------------------------
// Disclosures and digests (RFC 9901 §4.2).
// ---------------------------------------------------------------------------------------------

Result<json> DecodeDisclosureArray(std::string_view encoded) {
  MDL_ASSIGN_OR_RETURN(json arr,
                       DecodeJsonSegment(encoded, rc::kDisclosureMalformed, "disclosure"));
  if (!arr.is_array() || (arr.size() != 2 && arr.size() != 3))
    return Invalid(rc::kDisclosureMalformed, "disclosure is not a JSON array of 2 or 3 elements");
  if (!arr[0].is_string())
    return Invalid(rc::kDisclosureMalformed, "disclosure salt is not a string");
  if (arr.size() == 3 && !arr[1].is_string())
    return Invalid(rc::kDisclosureMalformed, "disclosure claim name is not a string");
  return arr;
}

std::string Digest(std::string_view encoded) { return Base64UrlEncode(Sha256(AsBytes(encoded))); }

// ---------------------------------------------------------------------------------------------
// Splitting "<JWT>~<D1>~...~<Dn>~[<KB-JWT>]" (RFC 9901 §4).
// ---------------------------------------------------------------------------------------------

struct Parts {
  std::string_view jwt;
  std::vector<std::string_view> disclosures;
  std::string_view kb_jwt;     // empty when there is no KB-JWT
  std::string_view presented;  // everything up to and including the last '~' (the sd_hash input)
};

Result<Parts> Split(std::string_view text) {
  if (text.size() > kMaxSdJwtBytes)
    return Malformed("SD-JWT larger than " + std::to_string(kMaxSdJwtBytes) + " bytes");
  const size_t last = text.rfind('~');
  if (last == std::string_view::npos) return Malformed("no '~' separator: not an SD-JWT");
  Parts out;
  out.presented = text.substr(0, last + 1);
  out.kb_jwt = text.substr(last + 1);
  std::string_view rest = text.substr(0, last);
  size_t start = 0;
  bool first = true;
  while (true) {
    const size_t tilde = rest.find('~', start);
    std::string_view part = rest.substr(
        start, tilde == std::string_view::npos ? std::string_view::npos : tilde - start);
    if (part.empty())
      return Malformed(first ? "empty issuer-signed JWT" : "empty disclosure (\"~~\")");
    if (first)
      out.jwt = part;
    else
      out.disclosures.push_back(part);
    if (out.disclosures.size() > kMaxDisclosures)
      return Malformed("more than " + std::to_string(kMaxDisclosures) + " disclosures");
    first = false;
    if (tilde == std::string_view::npos) break;
    start = tilde + 1;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Processing (RFC 9901 §7.1 step 3-4; the same walk serves the holder, §7.2, and the verifier).
// ---------------------------------------------------------------------------------------------

struct Record {
  std::string encoded;
  std::string digest;
  std::optional<std::string> name;
  json value;
  bool used = false;
  std::string pointer;  // where the claim sits in the processed payload
};

class Processor {
 public:
  // RFC 9901 §7.1 (step 3): decodes every disclosure and computes its digest. Two identical
  // disclosures have the same digest, and are refused as duplicates.
  Status Load(const std::vector<std::string_view>& encoded) {
    for (std::string_view e : encoded) {
      MDL_ASSIGN_OR_RETURN(json arr, DecodeDisclosureArray(e));
      Record r;
      r.encoded = std::string(e);
      r.digest = Digest(e);
      if (arr.size() == 3) {
        r.name = arr[1].get<std::string>();
        r.value = std::move(arr[2]);
      } else {
        r.value = std::move(arr[1]);
      }
      if (!by_digest_.emplace(r.digest, records_.size()).second)
        return Invalid(rc::kDisclosureDuplicate, "disclosure " + r.digest + " appears twice");
      records_.push_back(std::move(r));
    }
    return Status::Ok();
  }

  // Processes a copy of the issuer-signed payload in place (§7.1 steps 3-4).
  Status Run(json& payload) {
    if (!payload.is_object()) return Malformed("payload is not an object");
    // §4.1.1: `_sd_alg` (top level only); absent means sha-256.
    if (auto it = payload.find("_sd_alg"); it != payload.end()) {
      if (!it->is_string() || it->get_ref<const std::string&>() != kSdAlg)
        return Invalid(rc::kSdAlgUnsupported, "_sd_alg must be \"sha-256\"");
      payload.erase(it);
    }
    MDL_RETURN_IF_ERROR(Walk(payload, "", 0));
    // §7.1 (step 3): every disclosure must be referenced (directly or via another disclosure).
    for (const auto& r : records_) {
      if (!r.used)
        return Invalid(rc::kDisclosureUnreferenced,
                       "disclosure " + r.digest + " is not referenced by any digest");
    }
    return Status::Ok();
  }

  const std::vector<Record>& records() const { return records_; }

 private:
  // Claims a digest: §7.1 (step 3) — a digest may appear only once in the payload, including
  // inside disclosed values. Returns the matching disclosure, or nullptr (a decoy, or withheld).
  Result<Record*> Claim(const json& digest) {
    if (!digest.is_string()) return Malformed("a digest is not a string");
    const auto& d = digest.get_ref<const std::string&>();
    if (!seen_.insert(d).second)
      return Invalid(rc::kDigestDuplicate, "digest " + d + " appears more than once");
    auto it = by_digest_.find(d);
    if (it == by_digest_.end()) return static_cast<Record*>(nullptr);
    return &records_[it->second];
  }

  Status Walk(json& node, const std::string& pointer, int depth) {
    if (depth > kMaxProcessingDepth) return Malformed("nesting too deep");
    if (node.is_object()) return WalkObject(node, pointer, depth);
    if (node.is_array()) return WalkArray(node, pointer, depth);
    return Status::Ok();
  }

  // §7.1 (step 3): object properties from `_sd`.
  Status WalkObject(json& node, const std::string& pointer, int depth) {
    if (auto it = node.find("_sd"); it != node.end()) {
      if (!it->is_array()) return Malformed("_sd is not an array");
      json digests = std::move(*it);
      node.erase("_sd");
      for (const json& d : digests) {
        MDL_ASSIGN_OR_RETURN(Record * r, Claim(d));
        if (r == nullptr) continue;
        if (!r->name)
          return Invalid(rc::kDisclosureMalformed,
                         "an array-element disclosure is referenced from _sd");
        const std::string& name = *r->name;
        // §7.1 (step 3): the names `_sd` and `...` cannot be disclosed. `_sd_alg` at the
        // top level would masquerade as the hash-algorithm claim, so it is refused too.
        if (name == "_sd" || name == "..." || (depth == 0 && name == "_sd_alg"))
          return Invalid(rc::kClaimNameReserved,
                         "disclosure uses the reserved claim name \"" + name + "\"");
        // §7.1 (step 3): a disclosed name must not already exist at this level.
        if (node.contains(name))
          return Invalid(rc::kClaimNameCollision, "claim \"" + name.substr(0, 64) +
                                                      "\" is disclosed twice or also in clear");
        r->used = true;
        r->pointer = Child(pointer, name);
        node[name] = r->value;
      }
    }
    for (auto& [key, child] : node.items()) {
      MDL_RETURN_IF_ERROR(Walk(child, Child(pointer, key), depth + 1));
    }
    return Status::Ok();
  }

  // §7.1 (step 3): array elements {"...": digest}.
  Status WalkArray(json& node, const std::string& pointer, int depth) {
    json out = json::array();
    for (json& element : node) {
      if (element.is_object() && element.size() == 1 && element.contains("...")) {
        MDL_ASSIGN_OR_RETURN(Record * r, Claim(element["..."]));
        if (r == nullptr) continue;  // decoy or withheld: the element is removed
        if (r->name)
          return Invalid(rc::kDisclosureMalformed,
                         "an object-property disclosure is referenced from an array");
        r->used = true;
        r->pointer = Child(pointer, out.size());
        out.push_back(r->value);
      } else {
        out.push_back(std::move(element));
      }
      MDL_RETURN_IF_ERROR(Walk(out.back(), Child(pointer, out.size() - 1), depth + 1));
    }
    node = std::move(out);
    return Status::Ok();
  }

  std::vector<Record> records_;
  std::map<std::string, size_t> by_digest_;
  std::set<std::string> seen_;
};

// A parsed SD-JWT with its disclosures applied (no signature checked).
struct Processed {
  Parts parts;
  jws::Parsed jwt;
  json payload;  // processed
  Processor processor;
};

Result<Processed> ParseAndProcess(std::string_view text) {
  Processed out;
  MDL_ASSIGN_OR_RETURN(out.parts, Split(text));
  MDL_ASSIGN_OR_RETURN(out.jwt, jws::Parse(out.parts.jwt, rc::kMalformed));
  MDL_RETURN_IF_ERROR(out.processor.Load(out.parts.disclosures));
  out.payload = out.jwt.payload;
  MDL_RETURN_IF_ERROR(out.processor.Run(out.payload));
  // SD-JWT VC §3.2.2.2: these claims must come from the signed payload itself.
  for (const auto& r : out.processor.records()) {
    if (r.name && r.pointer == Child("", *r.name) && IsNonDisclosable(*r.name))
      return Invalid(rc::kClaimNotDisclosable,
                     "claim \"" + *r.name + "\" must not be selectively disclosed");
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Issuance (RFC 9901 §4.1-§4.2).
// ---------------------------------------------------------------------------------------------

// RFC 9901 §4.1 (`_sd`, `_sd_alg`) and §4.2.4.2 (`...`): names an issuer cannot use as claims.
Status CheckNoReservedNames(const json& node, int depth) {
  if (depth > jcs::kMaxDepth) return Status::InvalidArgument("payload nests too deep");
  if (node.is_object()) {
    for (const auto& [key, child] : node.items()) {
      if (key == "_sd" || key == "..." || (depth == 0 && key == "_sd_alg"))
        return Status::InvalidArgument("payload uses the reserved claim name \"" + key + "\"");
      MDL_RETURN_IF_ERROR(CheckNoReservedNames(child, depth + 1));
    }
  } else if (node.is_array()) {
    for (const auto& child : node) MDL_RETURN_IF_ERROR(CheckNoReservedNames(child, depth + 1));
  }
  return Status::Ok();
}

class Packer {
 public:
  Packer(const std::set<std::string>& disclosable, const SdJwtIssueOptions& options, Rng& rng)
      : disclosable_(disclosable), options_(options), rng_(rng) {}

  Result<json> Pack(const json& value, const std::string& pointer) {
    if (value.is_object()) {
      json out = json::object();
      json digests = json::array();
      for (const auto& [key, child] : value.items()) {
        const std::string p = Child(pointer, key);
        MDL_ASSIGN_OR_RETURN(json packed, Pack(child, p));
        if (disclosable_.count(p)) {
          // §4.2.1: [salt, claim name, claim value]; §4.2.6: a value may hold further digests.
          MDL_ASSIGN_OR_RETURN(std::string digest,
                               Disclose(json::array({Salt(), key, std::move(packed)})));
          used_.insert(p);
          digests.push_back(std::move(digest));
        } else {
          out[key] = std::move(packed);
        }
      }
      if (!digests.empty()) {
        for (uint32_t n = DecoyCount(); n > 0; --n) digests.push_back(DecoyDigest());
        // §4.2.4.1: hide the original order of the claims.
        std::vector<std::string> sorted = digests.get<std::vector<std::string>>();
        std::sort(sorted.begin(), sorted.end());
        out["_sd"] = sorted;
      }
      return out;
    }
    if (value.is_array()) {
      json out = json::array();
      bool any = false;
      for (size_t i = 0; i < value.size(); ++i) {
        const std::string p = Child(pointer, i);
        MDL_ASSIGN_OR_RETURN(json packed, Pack(value[i], p));
        if (disclosable_.count(p)) {
          // §4.2.2: [salt, array element]; §4.2.4.2: replaced by {"...": digest} in place.
          MDL_ASSIGN_OR_RETURN(std::string digest,
                               Disclose(json::array({Salt(), std::move(packed)})));
          used_.insert(p);
          out.push_back(json{{"...", std::move(digest)}});
          any = true;
        } else {
          out.push_back(std::move(packed));
        }
      }
      if (any) {
        for (uint32_t n = DecoyCount(); n > 0; --n) {
          const auto pos =
              static_cast<std::ptrdiff_t>(rng_.Uniform(static_cast<uint32_t>(out.size() + 1)));
          out.insert(out.begin() + pos, json{{"...", DecoyDigest()}});
        }
      }
      return out;
    }
    return value;
  }

  const std::set<std::string>& used() const { return used_; }
  const std::vector<std::string>& disclosures() const { return disclosures_; }

 private:
  std::string Salt() { return Base64UrlEncode(rng_.RandomBytes(kSaltBytes)); }

  Result<std::string> Disclose(const json& array) {
    MDL_ASSIGN_OR_RETURN(std::string text, Dump(array));
    std::string encoded = Base64UrlEncode(AsBytes(text));
    std::string digest = Digest(encoded);
    disclosures_.push_back(std::move(encoded));
    return digest;
  }

  uint32_t DecoyCount() {
    const uint32_t span = options_.max_decoys - options_.min_decoys;
    return options_.min_decoys + (span == 0 ? 0 : rng_.Uniform(span + 1));
  }
  // §4.2.5: the digest of a random value, indistinguishable from a real one.
  std::string DecoyDigest() { return Base64UrlEncode(Sha256(rng_.RandomBytes(kSaltBytes))); }

  const std::set<std::string>& disclosable_;
  const SdJwtIssueOptions& options_;
  Rng& rng_;
  std::set<std::string> used_;
  std::vector<std::string> disclosures_;
};

// NumericDate (RFC 7519 §2) claim, if present.
Result<std::optional<int64_t>> NumericDate(const json& payload, const char* name,
                                           std::string_view why) {
  auto it = payload.find(name);
  if (it == payload.end()) return std::optional<int64_t>();
  if (!it->is_number()) return Invalid(why, std::string(name) + " is not a NumericDate");
  const double v = it->get<double>();
  if (!(v > -1e15 && v < 1e15)) return Invalid(why, std::string(name) + " is out of range");
  return std::optional<int64_t>(static_cast<int64_t>(std::floor(v)));
}

// The holder key in the signed payload's cnf (RFC 7800 §3.2: "jwk" only).
Result<HolderKey> CnfKey(const json& payload) {
  auto cnf = payload.find("cnf");
  if (cnf == payload.end()) return Invalid(rc::kCnfMissing, "payload has no cnf");
  if (!cnf->is_object() || !cnf->contains("jwk")) return Invalid(rc::kCnfMissing, "cnf has no jwk");
  auto key = HolderKeyFromJwk((*cnf)["jwk"]);
  if (!key) return Invalid(rc::kCnfMissing, "cnf.jwk: " + key.error().message());
  return key;
}

bool AudienceMatches(const json& aud, const std::string& expected) {
  if (aud.is_string()) return aud.get_ref<const std::string&>() == expected;
  if (aud.is_array()) {
    return std::any_of(aud.begin(), aud.end(), [&](const json& a) {
      return a.is_string() && a.get_ref<const std::string&>() == expected;
    });
  }
  return false;
}

}  // namespace

std::string EscapeJsonPointerToken(std::string_view token) {
  std::string out;
  for (char c : token) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

Result<Disclosure> DecodeDisclosure(std::string_view encoded) {
  MDL_ASSIGN_OR_RETURN(json arr, DecodeDisclosureArray(encoded));
  Disclosure d;
  d.salt = arr[0].get<std::string>();
  if (arr.size() == 3) d.name = arr[1].get<std::string>();
  MDL_ASSIGN_OR_RETURN(d.value_json, Dump(arr.back()));
  return d;
}

std::string DisclosureDigest(std::string_view encoded) { return Digest(encoded); }

Result<std::string> PublicJwkJson(Alg alg, ByteView public_key) {
  MDL_ASSIGN_OR_RETURN(json jwk, PublicJwk(alg, public_key));
  return jwk.dump();
}

Result<HolderKey> HolderKeyFromJwk(const json& jwk) {
  if (!jwk.is_object()) return Status::InvalidArgument("JWK is not an object");
  // RFC 7517 §4 / RFC 7518 §6.2.2, §6.3.2; RFC 8037 §2: a public key carries no private member.
  for (const char* secret : {"d", "p", "q", "dp", "dq", "qi", "k"}) {
    if (jwk.contains(secret))
      return Status::InvalidArgument(std::string("JWK carries the private member \"") + secret +
                                     "\"");
  }
  auto str = [&](const char* name) -> std::string {
    auto it = jwk.find(name);
    return it != jwk.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  const std::string kty = str("kty"), crv = str("crv");
  auto coordinate = [&](const char* name) -> Result<Bytes> {
    auto b = Base64UrlDecode(str(name));
    if (!b || b->size() != 32)
      return Status::InvalidArgument(std::string("JWK member ") + name +
                                     " is not 32 base64url bytes");
    return std::move(*b);
  };
  HolderKey key;
  if (kty == "OKP" && crv == "Ed25519") {
    key.alg = Alg::kEdDSA;
    MDL_ASSIGN_OR_RETURN(key.public_key, coordinate("x"));
    return key;
  }
  if (kty == "EC" && crv == "secp256k1") {
    MDL_ASSIGN_OR_RETURN(Bytes x, coordinate("x"));
    MDL_ASSIGN_OR_RETURN(Bytes y, coordinate("y"));
    Bytes uncompressed{0x04};
    uncompressed.insert(uncompressed.end(), x.begin(), x.end());
    uncompressed.insert(uncompressed.end(), y.begin(), y.end());
    auto compressed = wallet::CompressSecp256k1PublicKey(uncompressed);
    if (!compressed) return Status::InvalidArgument("JWK is not a secp256k1 point");
    key.alg = Alg::kES256K;
    key.public_key = std::move(*compressed);
    return key;
  }
  return Status::InvalidArgument("JWK is not OKP/Ed25519 or EC/secp256k1");
}

Result<std::string> IssueSdJwt(const json& payload, const Signer& issuer,
                               const SdJwtIssueOptions& options, const Env& env) {
  if (!payload.is_object()) return Status::InvalidArgument("SD-JWT payload must be a JSON object");
  if (options.min_decoys > options.max_decoys || options.max_decoys > 1000)
    return Status::InvalidArgument("decoys: need min_decoys <= max_decoys <= 1000");
  MDL_RETURN_IF_ERROR(CheckNoReservedNames(payload, 0));
  auto kid = did::ParseDidUrl(issuer.verification_method);
  if (!kid || kid->fragment.empty())
    return Status::InvalidArgument("issuer verification method is not a DID URL with a fragment: " +
                                   issuer.verification_method);

  json claims = payload;
  // SD-JWT VC §3.2.2.2: iss identifies the issuer; here it is the DID of the signing key.
  if (auto it = claims.find("iss"); it == claims.end()) {
    claims["iss"] = kid->did;
  } else if (!it->is_string() || it->get_ref<const std::string&>() != kid->did) {
    return Status::InvalidArgument("payload iss is not the DID of the issuer key (" + kid->did +
                                   ")");
  }
  if (!claims.contains("iat")) claims["iat"] = env.clock->NowSeconds();
  if (options.holder) {
    if (claims.contains("cnf"))
      return Status::InvalidArgument("payload already has cnf and a holder key was given");
    MDL_ASSIGN_OR_RETURN(json jwk, PublicJwk(options.holder->alg, options.holder->public_key));
    claims["cnf"] = json{{"jwk", std::move(jwk)}};
  }
  if (options.typ == kSdJwtVcTyp) {
    // SD-JWT VC §3.2.2.1: vct is REQUIRED.
    auto vct = claims.find("vct");
    if (vct == claims.end() || !vct->is_string() || vct->get_ref<const std::string&>().empty())
      return Status::InvalidArgument("an SD-JWT VC payload needs a string vct");
  }

  std::set<std::string> disclosable;
  for (const auto& p : options.disclosable) {
    MDL_ASSIGN_OR_RETURN(auto tokens, SplitPointer(p));
    if (tokens.empty())
      return Status::InvalidArgument("the payload root cannot be selectively disclosable");
    if (tokens.size() == 1 && IsNonDisclosable(tokens[0]))
      return Status::InvalidArgument("claim \"" + tokens[0] +
                                     "\" must not be selectively disclosable (SD-JWT VC §3.2.2.2)");
    disclosable.insert(JoinPointer(tokens));
  }

  Packer packer(disclosable, options, *env.rng);
  MDL_ASSIGN_OR_RETURN(json packed, packer.Pack(claims, ""));
  for (const auto& p : disclosable) {
    if (!packer.used().count(p))
      return Status::InvalidArgument("disclosable pointer names no claim: " + p);
  }
  if (!disclosable.empty()) packed["_sd_alg"] = kSdAlg;

  // SD-JWT VC §3.2.1: typ dc+sd-jwt; kid names the verification method of the iss DID.
  const json header = {
      {"alg", AlgName(issuer.alg)}, {"typ", options.typ}, {"kid", issuer.verification_method}};
  MDL_ASSIGN_OR_RETURN(std::string jwt, jws::Sign(header, packed, issuer));
  // RFC 9901 §4: "<Issuer-signed JWT>~<Disclosure 1>~...~<Disclosure N>~".
  std::string out = jwt + "~";
  for (const auto& d : packer.disclosures()) out += d + "~";
  return out;
}

Result<SdJwtHolderView> InspectSdJwt(std::string_view sd_jwt) {
  MDL_ASSIGN_OR_RETURN(Processed p, ParseAndProcess(sd_jwt));
  SdJwtHolderView view;
  view.payload_json = p.payload.dump();
  for (const auto& r : p.processor.records()) view.disclosable.push_back(r.pointer);
  std::sort(view.disclosable.begin(), view.disclosable.end());
  return view;
}

Result<std::string> PresentSdJwt(std::string_view issued, const SdJwtPresentOptions& options,
                                 const Signer* holder, const Env& env) {
  MDL_ASSIGN_OR_RETURN(Processed p, ParseAndProcess(issued));
  if (!p.parts.kb_jwt.empty())
    return Status::InvalidArgument("the SD-JWT already carries a Key Binding JWT");

  // RFC 9901 §7.2: reveal the chosen disclosures and every disclosure above them.
  std::vector<bool> chosen(p.processor.records().size(), false);
  for (const auto& pointer : options.reveal) {
    MDL_ASSIGN_OR_RETURN(auto tokens, SplitPointer(pointer));
    if (!PointerExists(p.payload, tokens))
      return Status::InvalidArgument("reveal pointer names no claim: " + pointer);
    const std::string canonical = JoinPointer(tokens);
    for (size_t i = 0; i < chosen.size(); ++i) {
      if (IsAtOrBelow(canonical, p.processor.records()[i].pointer)) chosen[i] = true;
    }
  }
  std::string presented = std::string(p.parts.jwt) + "~";
  for (size_t i = 0; i < chosen.size(); ++i) {
    if (chosen[i]) presented += p.processor.records()[i].encoded + "~";
  }
  if (holder == nullptr) return presented;

  if (options.audience.empty() || options.nonce.empty())
    return Status::InvalidArgument("key binding needs the verifier's audience and nonce");
  auto cnf = CnfKey(p.jwt.payload);
  if (!cnf) return Status::FailedPrecondition("cannot bind: " + cnf.error().message());
  if (cnf->alg != holder->alg || cnf->public_key != holder->public_key)
    return Status::FailedPrecondition("the holder key is not the cnf.jwk of this SD-JWT");
  // RFC 9901 §4.3: header typ kb+jwt; payload iat, aud, nonce, sd_hash (§4.3.1).
  const json header = {{"alg", AlgName(holder->alg)}, {"typ", kKbJwtTyp}};
  const json payload = {{"iat", env.clock->NowSeconds()},
                        {"aud", options.audience},
                        {"nonce", options.nonce},
                        {"sd_hash", Digest(presented)}};
  MDL_ASSIGN_OR_RETURN(std::string kb, jws::Sign(header, payload, *holder));
  return presented + kb;
}

Result<VerifiedSdJwt> VerifySdJwt(std::string_view presentation, const did::Resolver& resolver,
                                  const SdJwtVerifyOptions& options, const Clock& clock) {
  if (options.require_key_binding &&
      (options.expected_nonce.empty() || options.expected_audience.empty()))
    return Status::InvalidArgument("options: key binding requires an expected nonce and audience");
  const int64_t now = clock.NowSeconds();
  const int64_t skew = options.max_clock_skew_seconds;

  // §7.1 steps 1-2: separate the parts, and validate the issuer-signed JWT.
  MDL_ASSIGN_OR_RETURN(Parts parts, Split(presentation));
  MDL_ASSIGN_OR_RETURN(jws::Parsed jwt, jws::Parse(parts.jwt, rc::kMalformed));
  const json& header = jwt.header;
  const json& signed_payload = jwt.payload;
  if (!options.expected_typ.empty()) {
    auto typ = header.find("typ");
    if (typ == header.end() || !typ->is_string() ||
        typ->get_ref<const std::string&>() != options.expected_typ)
      return Invalid(rc::kTypInvalid, "header typ is not \"" + options.expected_typ + "\"");
  }
  auto iss_it = signed_payload.find("iss");
  if (iss_it == signed_payload.end() || !iss_it->is_string())
    return Malformed("payload has no string iss");
  const std::string iss = iss_it->get<std::string>();
  auto kid_it = header.find("kid");
  if (kid_it == header.end() || !kid_it->is_string()) return Malformed("header has no string kid");
  std::string kid = kid_it->get<std::string>();
  if (!kid.empty() && kid[0] == '#') kid = iss + kid;
  auto kid_url = did::ParseDidUrl(kid);
  if (!kid_url || kid_url->fragment.empty())
    return Invalid(rc::kIssuerUnresolved, "kid is not a DID URL with a fragment");
  if (kid_url->did != iss)
    return Fail(StatusCode::kUnauthenticated, rc::kIssuerMismatch,
                "kid " + kid + " is not a key of iss " + iss);
  auto method =
      resolver.DereferenceMethod(kid, did::Relationship::kAssertionMethod, options.resolution);
  if (!method) return Fail(method.error().code(), rc::kIssuerUnresolved, method.error().message());
  const auto method_alg = AlgForKeyType(method->key_type);
  if (!method_alg || *method_alg != jwt.alg)
    return Fail(StatusCode::kUnauthenticated, rc::kAlgMismatch,
                "alg does not match the key type of " + kid);
  if (!jws::Verify(jwt, method->public_key))
    return Fail(StatusCode::kUnauthenticated, rc::kSignatureInvalid,
                "issuer signature does not verify");

  // §7.1 steps 3-4: disclosures (after the signature, so that no work is spent on forgeries).
  Processor processor;
  MDL_RETURN_IF_ERROR(processor.Load(parts.disclosures));
  json payload = signed_payload;
  MDL_RETURN_IF_ERROR(processor.Run(payload));
  for (const auto& r : processor.records()) {
    if (r.name && r.pointer == Child("", *r.name) && IsNonDisclosable(*r.name))
      return Invalid(rc::kClaimNotDisclosable,
                     "claim \"" + *r.name + "\" must not be selectively disclosed");
  }

  // §7.1 (step 5) / RFC 7519 §4.1.4-§4.1.6: validity, from the signed payload.
  MDL_ASSIGN_OR_RETURN(auto exp, NumericDate(signed_payload, "exp", rc::kMalformed));
  MDL_ASSIGN_OR_RETURN(auto nbf, NumericDate(signed_payload, "nbf", rc::kMalformed));
  MDL_ASSIGN_OR_RETURN(auto iat, NumericDate(signed_payload, "iat", rc::kMalformed));
  if (exp && now >= *exp + skew)
    return Fail(StatusCode::kFailedPrecondition, rc::kExpired,
                "exp " + std::to_string(*exp) + " has passed");
  if (nbf && now + skew < *nbf)
    return Fail(StatusCode::kFailedPrecondition, rc::kNotYetValid,
                "nbf " + std::to_string(*nbf) + " is ahead");
  if (iat && now + skew < *iat)
    return Fail(StatusCode::kFailedPrecondition, rc::kNotYetValid,
                "iat " + std::to_string(*iat) + " is ahead");

  VerifiedSdJwt out;
  auto header_typ = header.find("typ");
  const bool vc = header_typ != header.end() && header_typ->is_string() &&
                  header_typ->get_ref<const std::string&>() == kSdJwtVcTyp;
  if (auto vct = signed_payload.find("vct"); vct != signed_payload.end()) {
    if (!vct->is_string()) return Malformed("vct is not a string");
    out.vct = vct->get<std::string>();
  } else if (vc) {
    return Malformed("an SD-JWT VC needs vct (SD-JWT VC §3.2.2.1)");
  }
  if (!options.expected_vct.empty() && out.vct != options.expected_vct)
    return Invalid(rc::kVctMismatch, "vct is \"" + out.vct.substr(0, 128) + "\"");

  // §7.3: the Key Binding JWT.
  if (parts.kb_jwt.empty()) {
    if (options.require_key_binding)
      return Fail(StatusCode::kUnauthenticated, rc::kKbMissing, "no Key Binding JWT");
  } else {
    MDL_ASSIGN_OR_RETURN(jws::Parsed kb, jws::Parse(parts.kb_jwt, rc::kKbMalformed));
    auto typ = kb.header.find("typ");
    if (typ == kb.header.end() || !typ->is_string() ||
        typ->get_ref<const std::string&>() != kKbJwtTyp)
      return Invalid(rc::kKbMalformed, "KB-JWT typ is not kb+jwt");
    const json& claims = kb.payload;
    for (const char* name : {"aud", "nonce", "sd_hash"}) {
      if (!claims.contains(name))
        return Invalid(rc::kKbMalformed, std::string("KB-JWT has no ") + name);
    }
    if (!claims["nonce"].is_string() || !claims["sd_hash"].is_string())
      return Invalid(rc::kKbMalformed, "KB-JWT nonce and sd_hash must be strings");
    MDL_ASSIGN_OR_RETURN(auto kb_iat, NumericDate(claims, "iat", rc::kKbMalformed));
    if (!kb_iat) return Invalid(rc::kKbMalformed, "KB-JWT has no iat");
    MDL_ASSIGN_OR_RETURN(HolderKey holder, CnfKey(signed_payload));
    if (holder.alg != kb.alg)
      return Fail(StatusCode::kUnauthenticated, rc::kAlgMismatch,
                  "KB-JWT alg does not match cnf.jwk");
    if (!jws::Verify(kb, holder.public_key))
      return Fail(StatusCode::kUnauthenticated, rc::kKbSignatureInvalid,
                  "KB-JWT signature does not verify with cnf.jwk");
    // §4.3.1: sd_hash over the SD-JWT as presented (issuer JWT and disclosures, final '~').
    if (claims["sd_hash"].get_ref<const std::string&>() != Digest(parts.presented))
      return Fail(StatusCode::kUnauthenticated, rc::kSdHashMismatch,
                  "sd_hash does not match the presented SD-JWT");
    if (!options.expected_nonce.empty() &&
        claims["nonce"].get_ref<const std::string&>() != options.expected_nonce)
      return Fail(StatusCode::kPermissionDenied, rc::kNonceMismatch,
                  "KB-JWT nonce is not the expected one");
    if (!options.expected_audience.empty() &&
        !AudienceMatches(claims["aud"], options.expected_audience))
      return Fail(StatusCode::kPermissionDenied, rc::kAudienceMismatch,
                  "KB-JWT aud is not this verifier");
    // §7.3: iat within an acceptable window.
    if (*kb_iat < now - options.kb_max_age_seconds - skew)
      return Fail(StatusCode::kFailedPrecondition, rc::kKbStale,
                  "KB-JWT iat " + std::to_string(*kb_iat) + " is too old");
    if (*kb_iat > now + skew)
      return Fail(StatusCode::kFailedPrecondition, rc::kKbInFuture,
                  "KB-JWT iat " + std::to_string(*kb_iat) + " is ahead");
    out.key_bound = true;
  }

  out.payload_json = payload.dump();
  out.issuer = iss;
  out.verification_method = method->id;
  for (const auto& r : processor.records()) out.disclosed.push_back(r.pointer);
  std::sort(out.disclosed.begin(), out.disclosed.end());
  return out;
}

}  // namespace medallion::claims
