// Data Integrity proofs with eddsa-jcs-2022 (VC Data Integrity EdDSA Cryptosuites v1.0 §3.3),
// proof sets and chains (VC Data Integrity 1.0 §2.1.2, §4.3, §4.5), and the dateTimeStamp parser
// shared by the claims module.
#include "medallion/claims/data_integrity.h"

#include <algorithm>
#include <utility>

#include <nlohmann/json.hpp>

#include "medallion/core/encoding.h"
#include "medallion/core/hash.h"
#include "medallion/core/jcs.h"
#include "medallion/core/json.h"

namespace medallion::claims {
namespace {

using nlohmann::json;

// A bound on the proofs of one document, so that a hostile document cannot make a verifier
// resolve and check an unbounded number of signatures.
constexpr size_t kMaxProofs = 16;
constexpr size_t kEd25519SignatureBytes = 64;

Status Fail(StatusCode code, std::string_view why, const std::string& detail) {
  return Status(code, std::string(why) + ": " + detail, std::string(why));
}

// Howard Hinnant's days_from_civil: days since 1970-01-01 of a proleptic Gregorian date.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

std::string Label(size_t index, const json& proof) {
  std::string s = "proof " + std::to_string(index);
  auto it = proof.find("id");
  if (it != proof.end() && it->is_string()) s += " (" + it->get<std::string>() + ")";
  return s;
}

// The proofs of a document as a list (VC Data Integrity §4.3 step 2, §4.5 step 1): a single
// object or an array of objects.
Result<std::vector<json>> ProofList(const json& document) {
  std::vector<json> out;
  auto it = document.find("proof");
  if (it == document.end()) return out;
  if (it->is_object()) {
    out.push_back(*it);
  } else if (it->is_array()) {
    for (const json& p : *it) {
      if (!p.is_object())
        return Status::InvalidArgument("every member of `proof` must be an object");
      out.push_back(p);
    }
  } else {
    return Status::InvalidArgument("`proof` must be an object or an array of objects");
  }
  return out;
}

// A JSON-LD @context value as a list of entries (a single value is a one-entry list).
std::vector<json> ContextList(const json& value) {
  if (value.is_array()) return std::vector<json>(value.begin(), value.end());
  return {value};
}

bool StringOrStrings(const json& v) {
  if (v.is_string()) return true;
  if (!v.is_array() || v.empty()) return false;
  return std::all_of(v.begin(), v.end(), [](const json& e) { return e.is_string(); });
}

std::vector<std::string> Strings(const json& v) {
  if (v.is_string()) return {v.get<std::string>()};
  std::vector<std::string> out;
  for (const json& e : v) out.push_back(e.get<std::string>());
  return out;
}

// The proofs named by `previous` (VC Data Integrity §4.3 steps 5-6, §4.5 steps 3.2-3.3).
Result<json> MatchingProofs(const std::vector<std::string>& previous,
                            const std::vector<json>& all) {
  json matching = json::array();
  for (const std::string& id : previous) {
    auto it = std::find_if(all.begin(), all.end(), [&](const json& p) {
      auto pid = p.find("id");
      return pid != p.end() && pid->is_string() && pid->get<std::string>() == id;
    });
    if (it == all.end())
      return Status::InvalidArgument("no proof with id '" + id + "' in the proof set");
    matching.push_back(*it);
  }
  return matching;
}

Status CheckUniqueIds(const std::vector<json>& proofs) {
  std::vector<std::string> ids;
  for (const json& p : proofs) {
    auto it = p.find("id");
    if (it == p.end()) continue;
    if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
      return Status::InvalidArgument("a proof `id` must be a non-empty string");
    }
    ids.push_back(it->get<std::string>());
  }
  std::sort(ids.begin(), ids.end());
  if (std::adjacent_find(ids.begin(), ids.end()) != ids.end()) {
    return Status::InvalidArgument("two proofs share the id '" +
                                   *std::adjacent_find(ids.begin(), ids.end()) + "'");
  }
  return Status::Ok();
}

}  // namespace

std::string_view ReasonCode(const Status& status) { return status.reason(); }

Result<int64_t> ParseDateTimeStamp(std::string_view t) {
  auto bad = [&] {
    return Status::InvalidArgument("'" + std::string(t) + "' is not an XML Schema dateTimeStamp");
  };
  size_t i = 0;
  auto digits = [&](size_t n, int* out) {
    if (t.size() - i < n) return false;
    int v = 0;
    for (size_t k = 0; k < n; ++k) {
      char c = t[i + k];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    *out = v;
    i += n;
    return true;
  };
  auto literal = [&](char c) {
    if (i >= t.size() || t[i] != c) return false;
    ++i;
    return true;
  };
  // XSD 1.1 §3.3.7 lexical space, restricted to four-digit years (0000-9999).
  int year, month, day, hour, minute, second;
  if (!digits(4, &year) || !literal('-') || !digits(2, &month) || !literal('-') ||
      !digits(2, &day) || !literal('T') || !digits(2, &hour) || !literal(':') ||
      !digits(2, &minute) || !literal(':') || !digits(2, &second)) {
    return bad();
  }
  bool fraction_nonzero = false;
  if (i < t.size() && t[i] == '.') {
    ++i;
    size_t start = i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
      if (t[i] != '0') fraction_nonzero = true;
      ++i;
    }
    if (i == start) return bad();
  }
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1) return bad();
  if (day > kDays[month - 1] + (month == 2 && IsLeap(year) ? 1 : 0)) return bad();
  if (minute > 59 || second > 59) return bad();
  // 24:00:00 is the first instant of the next day (XSD 1.1 §3.3.7.2).
  if (hour > 24 || (hour == 24 && (minute != 0 || second != 0 || fraction_nonzero))) return bad();
  // dateTimeStamp: the time zone is required (XSD 1.1 §3.4.28).
  int64_t offset = 0;
  if (literal('Z')) {
  } else if (i < t.size() && (t[i] == '+' || t[i] == '-')) {
    int sign = t[i] == '+' ? 1 : -1;
    ++i;
    int oh, om;
    if (!digits(2, &oh) || !literal(':') || !digits(2, &om)) return bad();
    if (om > 59 || oh > 14 || (oh == 14 && om != 0)) return bad();
    offset = sign * (oh * 3600 + om * 60);
  } else {
    return bad();
  }
  if (i != t.size()) return bad();
  return DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
         hour * 3600 + minute * 60 + second - offset;
}

Result<JcsHashData> EddsaJcs2022HashData(const json& proof_config, const json& unsecured_document) {
  if (!proof_config.is_object() || !unsecured_document.is_object()) {
    return Status::InvalidArgument("the proof configuration and the document must be JSON objects");
  }
  JcsHashData h;
  // §3.3.5 step 5 and §3.3.3 step 2: RFC 8785 for both.
  MDL_ASSIGN_OR_RETURN(h.canonical_proof_config, jcs::Canonicalize(proof_config));
  MDL_ASSIGN_OR_RETURN(h.canonical_document, jcs::Canonicalize(unsecured_document));
  // §3.3.4: hashData = SHA-256(canonicalProofConfig) || SHA-256(transformedDocument).
  Hash256 ph = Sha256(AsBytes(h.canonical_proof_config));
  Hash256 dh = Sha256(AsBytes(h.canonical_document));
  h.proof_config_hash.assign(ph.begin(), ph.end());
  h.document_hash.assign(dh.begin(), dh.end());
  h.hash_data = Concat(h.proof_config_hash, h.document_hash);
  return h;
}

Result<json> AddProof(const json& document, const Signer& signer, const ProofOptions& options) {
  if (!document.is_object())
    return Status::InvalidArgument("a secured document must be a JSON object");
  if (signer.alg != Alg::kEdDSA)
    return Status::InvalidArgument("eddsa-jcs-2022 needs an Ed25519 (EdDSA) signer");
  MDL_CHECK(static_cast<bool>(signer.sign));
  if (signer.verification_method.empty())
    return Status::InvalidArgument("the signer has no verification method");
  if (options.proof_purpose.empty()) return Status::InvalidArgument("a proof needs a proofPurpose");
  if (options.proof_purpose == "authentication" && options.challenge.empty()) {
    return Status::InvalidArgument("an authentication proof must carry the verifier's challenge");
  }
  // eddsa-jcs-2022 §3.3.5 step 3: created (and expires) must be dateTimeStamps.
  if (!options.created.empty()) MDL_RETURN_IF_ERROR(ParseDateTimeStamp(options.created).status());
  if (!options.expires.empty()) MDL_RETURN_IF_ERROR(ParseDateTimeStamp(options.expires).status());

  // VC Data Integrity §4.3 "Add Proof Set/Chain".
  MDL_ASSIGN_OR_RETURN(std::vector<json> all_proofs, ProofList(document));  // steps 1-2
  MDL_RETURN_IF_ERROR(CheckUniqueIds(all_proofs));
  if (!options.id.empty()) {
    for (const json& p : all_proofs) {
      if (p.value("id", json()) == options.id) {
        return Status::InvalidArgument("the document already has a proof with id '" + options.id +
                                       "'");
      }
    }
  }
  json input = document;  // step 3
  input.erase("proof");
  json output = input;
  if (!options.previous_proof.empty()) {  // steps 4-7
    MDL_ASSIGN_OR_RETURN(json matching, MatchingProofs({options.previous_proof}, all_proofs));
    input["proof"] = std::move(matching);
  }
  // Without previousProof `input` has no `proof` at all: an empty matchingProofs list is not
  // written as "proof": [] (which no deployed implementation signs), so that a second
  // independent proof signs exactly what the first one signed.

  // eddsa-jcs-2022 §3.3.1: proof = the proof options; @context copied from the document
  // (step 2); proofConfig = §3.3.5 over the same values; transformation, hashing, signing.
  json proof = json::object();
  proof["type"] = kDataIntegrityProof;
  proof["cryptosuite"] = kEddsaJcs2022;
  if (!options.id.empty()) proof["id"] = options.id;
  if (!options.created.empty()) proof["created"] = options.created;
  if (!options.expires.empty()) proof["expires"] = options.expires;
  proof["verificationMethod"] = signer.verification_method;
  proof["proofPurpose"] = options.proof_purpose;
  if (!options.challenge.empty()) proof["challenge"] = options.challenge;
  if (!options.domain.empty()) proof["domain"] = options.domain;
  if (!options.previous_proof.empty()) proof["previousProof"] = options.previous_proof;
  if (input.contains("@context")) proof["@context"] = input["@context"];

  MDL_ASSIGN_OR_RETURN(JcsHashData h, EddsaJcs2022HashData(proof, input));
  MDL_ASSIGN_OR_RETURN(Bytes signature, signer.sign(h.hash_data));  // §3.3.6
  if (signature.size() != kEd25519SignatureBytes)
    return Status::Internal("the signer returned a malformed signature");
  proof["proofValue"] = MultibaseEncode(Multibase::kBase58Btc, signature);  // §3.3.1 step 6

  if (all_proofs.empty()) {
    output["proof"] = std::move(proof);
  } else {  // steps 8-9
    json set = json::array();
    for (json& p : all_proofs) set.push_back(std::move(p));
    set.push_back(std::move(proof));
    output["proof"] = std::move(set);
  }
  return output;
}

namespace {

// One proof of a set: VC Data Integrity §4.4 steps 3-8 and eddsa-jcs-2022 §3.3.2.
Result<VerifiedProof> VerifyOne(size_t index, const json& proof,
                                const std::vector<json>& all_proofs, const json& base_document,
                                const did::Resolver& resolver, const ProofCheckOptions& options) {
  const std::string who = Label(index, proof);
  auto malformed = [&](const std::string& what) {
    return Fail(StatusCode::kInvalidArgument, reason::kProofMalformed, who + ": " + what);
  };
  auto str = [&](const char* key) -> const std::string* {
    auto it = proof.find(key);
    return it != proof.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
  };

  // §4.4 step 3 and §2.1: the required members and their types.
  const std::string* type = str("type");
  if (type == nullptr) return malformed("`type` is missing or not a string");
  if (*type != kDataIntegrityProof) {
    return Fail(StatusCode::kInvalidArgument, reason::kCryptosuiteUnsupported,
                who + ": proof type '" + *type + "'");
  }
  const std::string* suite = str("cryptosuite");
  if (suite == nullptr) return malformed("`cryptosuite` is missing or not a string");
  if (*suite != kEddsaJcs2022) {
    return Fail(StatusCode::kInvalidArgument, reason::kCryptosuiteUnsupported,
                who + ": cryptosuite '" + *suite + "'");
  }
  const std::string* method = str("verificationMethod");
  if (method == nullptr) return malformed("`verificationMethod` is missing or not a string");
  const std::string* purpose = str("proofPurpose");
  if (purpose == nullptr || purpose->empty())
    return malformed("`proofPurpose` is missing or not a string");
  const std::string* proof_value = str("proofValue");
  if (proof_value == nullptr) return malformed("`proofValue` is missing or not a string");
  for (const char* key : {"created", "expires", "challenge", "nonce", "id"}) {
    if (proof.contains(key) && !proof[key].is_string())
      return malformed(std::string("`") + key + "` is not a string");
  }
  if (proof.contains("domain") && !StringOrStrings(proof["domain"]))
    return malformed("`domain` is not a string");
  if (proof.contains("previousProof") && !StringOrStrings(proof["previousProof"])) {
    return malformed("`previousProof` is not a string or a list of strings");
  }
  int64_t created = 0, expires = 0;
  if (const std::string* c = str("created")) {
    auto t = ParseDateTimeStamp(*c);
    if (!t) return malformed("`created` " + t.error().message());
    created = *t;
  }
  if (const std::string* e = str("expires")) {
    auto t = ParseDateTimeStamp(*e);
    if (!t) return malformed("`expires` " + t.error().message());
    expires = *t;
  }
  // §3.3.2 step 3: a multibase base58btc value; Ed25519 signatures are 64 bytes.
  if (proof_value->empty() || (*proof_value)[0] != 'z')
    return malformed("`proofValue` is not multibase base58btc");
  auto signature = MultibaseDecode(*proof_value);
  if (!signature || signature->size() != kEd25519SignatureBytes) {
    return malformed("`proofValue` does not decode to a 64-byte Ed25519 signature");
  }

  // §4.4 steps 4-6: purpose, domain, challenge.
  if (!options.expected_purpose.empty() && *purpose != options.expected_purpose) {
    return Fail(StatusCode::kPermissionDenied, reason::kPurposeMismatch,
                who + ": purpose '" + *purpose + "', expected '" + options.expected_purpose + "'");
  }
  if (!options.expected_domain.empty()) {
    bool ok = false;
    if (proof.contains("domain")) {
      for (const std::string& d : Strings(proof["domain"])) ok = ok || d == options.expected_domain;
    }
    if (!ok)
      return Fail(StatusCode::kPermissionDenied, reason::kDomainMismatch,
                  who + ": not for this domain");
  }
  if (!options.expected_challenge.empty()) {
    const std::string* challenge = str("challenge");
    if (challenge == nullptr || *challenge != options.expected_challenge) {
      return Fail(StatusCode::kPermissionDenied, reason::kChallengeMismatch,
                  who + ": not the expected challenge");
    }
  }

  // §2.1 created/expires against the verifier's clock, with bounded skew.
  if (options.now != 0) {
    if (proof.contains("created") && created > options.now + options.max_clock_skew) {
      return Fail(StatusCode::kFailedPrecondition, reason::kProofNotYetValid,
                  who + ": created in the future");
    }
    if (proof.contains("expires") && options.now - options.max_clock_skew > expires) {
      return Fail(StatusCode::kFailedPrecondition, reason::kProofExpired,
                  who + ": expired " + *str("expires"));
    }
  }

  // §4.5 steps 3.1-3.4: the document as this proof signed it.
  json unsecured = base_document;
  if (proof.contains("previousProof")) {
    auto matching = MatchingProofs(Strings(proof["previousProof"]), all_proofs);
    if (!matching) {
      return Fail(StatusCode::kInvalidArgument, reason::kPreviousProofMissing,
                  who + ": " + matching.error().message());
    }
    unsecured["proof"] = std::move(*matching);
  }

  // eddsa-jcs-2022 §3.3.2 step 2: proofOptions = the proof without proofValue.
  json proof_options = proof;
  proof_options.erase("proofValue");
  // §3.3.2 step 4: the proof's @context must be a prefix of the document's, and replaces it.
  if (proof_options.contains("@context")) {
    std::vector<json> proof_ctx = ContextList(proof_options["@context"]);
    std::vector<json> doc_ctx = base_document.contains("@context")
                                    ? ContextList(base_document["@context"])
                                    : std::vector<json>{};
    if (proof_ctx.size() > doc_ctx.size() ||
        !std::equal(proof_ctx.begin(), proof_ctx.end(), doc_ctx.begin())) {
      return Fail(StatusCode::kInvalidArgument, reason::kContextMismatch,
                  who + ": the document's @context does not start with the proof's");
    }
    unsecured["@context"] = proof_options["@context"];
  }

  // The verification method, under the proof's purpose (DID Core §5.3; Controlled Identifiers
  // §3.3 "Retrieve Verification Method").
  auto relationship = did::ParseRelationship(*purpose);
  if (!relationship || *relationship == did::Relationship::kKeyAgreement) {
    return Fail(StatusCode::kPermissionDenied, reason::kPurposeMismatch,
                who + ": '" + *purpose + "' is not a proof purpose");
  }
  auto vm = resolver.DereferenceMethod(*method, *relationship, options.resolution);
  if (!vm)
    return Fail(vm.error().code(), reason::kMethodUnresolved, who + ": " + vm.error().message());
  if (vm->key_type != did::KeyType::kEd25519) {
    return Fail(StatusCode::kInvalidArgument, reason::kMethodUnresolved,
                who + ": " + *method + " is not an Ed25519 key");
  }

  // §3.3.2 steps 5-7: transformation, hashing, Ed25519 verification (§3.3.7).
  auto h = EddsaJcs2022HashData(proof_options, unsecured);
  if (!h) return malformed(h.error().message());
  if (!VerifySignature(Alg::kEdDSA, vm->public_key, h->hash_data, *signature)) {
    return Fail(StatusCode::kUnauthenticated, reason::kSignatureInvalid,
                who + ": the signature does not verify");
  }
  VerifiedProof out;
  out.id = StringOr(proof, "id");
  out.verification_method = *method;
  out.controller = vm->controller;
  out.proof_purpose = *purpose;
  out.created = StringOr(proof, "created");
  return out;
}

}  // namespace

Result<std::vector<VerifiedProof>> VerifyProofs(const json& secured_document,
                                                const did::Resolver& resolver,
                                                const ProofCheckOptions& options) {
  MDL_CHECK(options.max_clock_skew >= 0 && options.max_clock_skew <= kMaxClockSkewSeconds);
  if (!secured_document.is_object()) {
    return Fail(StatusCode::kInvalidArgument, reason::kProofMalformed,
                "a secured document must be a JSON object");
  }
  if (options.expected_purpose == "authentication" && options.expected_challenge.empty()) {
    return Fail(StatusCode::kInvalidArgument, reason::kChallengeMismatch,
                "an authentication proof is only checked against the verifier's challenge");
  }
  auto it = secured_document.find("proof");
  if (it == secured_document.end() || it->is_null() || (it->is_array() && it->empty())) {
    return Fail(StatusCode::kInvalidArgument, reason::kProofMissing, "the document has no proof");
  }
  auto proofs = ProofList(secured_document);
  if (!proofs)
    return Fail(StatusCode::kInvalidArgument, reason::kProofMalformed, proofs.error().message());
  if (proofs->size() > kMaxProofs) {
    return Fail(StatusCode::kInvalidArgument, reason::kProofMalformed, "more than 16 proofs");
  }
  Status ids = CheckUniqueIds(*proofs);
  if (!ids.ok()) return Fail(StatusCode::kInvalidArgument, reason::kProofMalformed, ids.message());

  json base = secured_document;  // §4.5 step 3.4: the document without its proofs
  base.erase("proof");
  std::vector<VerifiedProof> verified;
  for (size_t i = 0; i < proofs->size(); ++i) {
    MDL_ASSIGN_OR_RETURN(VerifiedProof v,
                         VerifyOne(i, (*proofs)[i], *proofs, base, resolver, options));
    verified.push_back(std::move(v));
  }
  return verified;
}

}  // namespace medallion::claims
