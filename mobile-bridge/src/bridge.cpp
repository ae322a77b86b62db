// The C ABI of medallion/bridge.h over the wallet, claims and the container's device protocol.
// No exception crosses the boundary: every entry point catches everything.
#include "medallion/bridge.h"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "medallion/core/json.h"

#include "medallion/claims/data_integrity.h"
#include "medallion/claims/jose.h"
#include "medallion/core/encoding.h"
#include "medallion/core/env.h"
#include "medallion/core/hash.h"
#include "medallion/core/jcs.h"
#include "medallion/core/secret.h"
#include "medallion/did/did_key.h"
#include "medallion/did/resolver.h"
#include "medallion/http/http_client.h"
#include "medallion/wallet/bip39.h"
#include "medallion/wallet/keys.h"
#include "medallion/wallet/keystore.h"

using medallion::Bytes;
using medallion::ByteView;
using medallion::Result;
using medallion::SecretBytes;
using medallion::SecretString;
using medallion::Status;
using medallion::StatusCode;
using nlohmann::json;
namespace wallet = medallion::wallet;

struct mdl_phone {
  medallion::Env env;  // clock and RNG: everything below the C ABI takes them from here
  std::unique_ptr<wallet::KeyStore> store;
  std::shared_ptr<wallet::SigningKey> device;
  std::shared_ptr<wallet::SigningKey> auth;
  std::string did;
  std::string device_multikey;
  std::string container;  // paired container URL ("" = not paired)
  std::string device_id;
  SecretString session;  // the current device session token
  std::string last_error;
};

namespace {

constexpr uint32_t kAccount = 0;

// The one place the bridge reaches for the process's clock and RNG: the C ABI is the edge
// (core/env.h: only main() and its like call DefaultEnv); every function below takes an Env.
medallion::Env EdgeEnv() { return medallion::DefaultEnv(); }

// The container's "reason" for a refused pairing (uma/src/devices.cpp; docs/mobile-bridge.md):
// the same strings on both sides of the wire, restored by StatusFromHttpReply.
constexpr std::string_view kPairingExpired = "pairing_expired";
constexpr std::string_view kPairingUsed = "pairing_used";

mdl_status Code(const Status& st) {
  switch (st.code()) {
    case StatusCode::kOk:
      return MDL_OK;
    case StatusCode::kInvalidArgument:
      return MDL_ERR_INVALID_ARGUMENT;
    case StatusCode::kNotFound:
      return MDL_ERR_NOT_FOUND;
    case StatusCode::kAlreadyExists:
      return MDL_ERR_ALREADY_EXISTS;
    case StatusCode::kPermissionDenied:
      return MDL_ERR_PERMISSION_DENIED;
    case StatusCode::kUnauthenticated:
      return MDL_ERR_UNAUTHENTICATED;
    case StatusCode::kFailedPrecondition:
      return MDL_ERR_FAILED_PRECONDITION;
    case StatusCode::kResourceExhausted:
      return MDL_ERR_RESOURCE_EXHAUSTED;
    case StatusCode::kDataLoss:
      return MDL_ERR_DATA_LOSS;
    case StatusCode::kUnavailable:
      return MDL_ERR_UNAVAILABLE;
    default:
      return MDL_ERR_INTERNAL;
  }
}

// Copies `s` into malloc'd memory the caller frees with mdl_string_free.
char* Dup(std::string_view s) {
  char* out = static_cast<char*>(std::malloc(s.size() + 1));
  if (out == nullptr) return nullptr;
  std::memcpy(out, s.data(), s.size());
  out[s.size()] = '\0';
  return out;
}

// Runs `body`, records a failure on `phone` (if any), never lets an exception escape.
template <typename F>
mdl_status Guard(mdl_phone* phone, F&& body) {
  try {
    Status st = body();
    if (phone != nullptr) phone->last_error = st.ok() ? "" : st.ToString();
    return Code(st);
  } catch (const std::bad_alloc&) {
    if (phone != nullptr) phone->last_error = "out of memory";
    return MDL_ERR_RESOURCE_EXHAUSTED;
  } catch (...) {
    if (phone != nullptr) phone->last_error = "internal error";
    return MDL_ERR_INTERNAL;
  }
}

Result<wallet::KdfParams> Kdf(mdl_kdf kdf) {
  switch (kdf) {
    case MDL_KDF_MODERATE:
      return wallet::KdfParams::Moderate();
    case MDL_KDF_INTERACTIVE:
      return wallet::KdfParams::Interactive();
    case MDL_KDF_TEST: {
      const char* allow = std::getenv("MEDALLION_ALLOW_TEST_KDF");
      if (allow == nullptr || std::string_view(allow) != "1") {
        return Status::InvalidArgument(
            "MDL_KDF_TEST needs MEDALLION_ALLOW_TEST_KDF=1 (tests only)");
      }
      return wallet::KdfParams::ForTests();
    }
    default:
      return Status::InvalidArgument("unknown kdf");
  }
}

// The phone's keys from the unlocked seed: the device key at its own random index (so a
// restored wallet on a new phone has a new device key), the authentication key for the did:key.
Status LoadKeys(mdl_phone& p, const SecretBytes& seed) {
  MDL_ASSIGN_OR_RETURN(std::string index_text, p.store->GetPublic("device", "index"));
  const uint32_t index = static_cast<uint32_t>(std::stoul(index_text));
  MDL_ASSIGN_OR_RETURN(wallet::SigningKey device,
                       wallet::DeriveSigningKey(
                           seed.Reveal(), wallet::SignatureAlg::kEdDSA,
                           wallet::PurposeKeyPath(kAccount, wallet::KeyPurpose::kDevice, index)));
  MDL_ASSIGN_OR_RETURN(
      wallet::SigningKey auth,
      wallet::DeriveSigningKey(
          seed.Reveal(), wallet::SignatureAlg::kEdDSA,
          wallet::PurposeKeyPath(kAccount, wallet::KeyPurpose::kAuthentication, 0)));
  p.device = std::make_shared<wallet::SigningKey>(std::move(device));
  p.auth = std::make_shared<wallet::SigningKey>(std::move(auth));
  MDL_ASSIGN_OR_RETURN(p.device_multikey,
                       medallion::did::MultikeyFromPublicKey(medallion::did::KeyType::kEd25519,
                                                             p.device->public_key));
  MDL_ASSIGN_OR_RETURN(p.did, medallion::did::DidKeyFromPublicKey(medallion::did::KeyType::kEd25519,
                                                                  p.auth->public_key));
  if (auto c = p.store->GetPublic("pairing", "container"); c) p.container = *c;
  if (auto d = p.store->GetPublic("pairing", "device_id"); d) p.device_id = *d;
  return Status::Ok();
}

Status CreateStore(const char* path, const uint8_t* pass, size_t pass_len, mdl_kdf kdf,
                   const SecretString& mnemonic, medallion::Env env, mdl_phone** out) {
  MDL_ASSIGN_OR_RETURN(wallet::KdfParams params, Kdf(kdf));
  MDL_ASSIGN_OR_RETURN(SecretBytes entropy, wallet::bip39::MnemonicToEntropy(mnemonic.Reveal()));
  MDL_ASSIGN_OR_RETURN(SecretBytes seed, wallet::bip39::MnemonicToSeed(mnemonic.Reveal(), ""));
  wallet::WalletSecret secret{std::move(entropy), std::move(seed)};
  const std::string_view passphrase(reinterpret_cast<const char*>(pass), pass_len);
  auto p = std::make_unique<mdl_phone>();
  p->env = env;
  MDL_ASSIGN_OR_RETURN(p->store, wallet::KeyStore::Create(path, passphrase, secret, params, env));
  // A fresh device index for every install: hardened indexes are 31-bit.
  uint8_t random[4];
  env.rng->Fill(random);
  const uint32_t index = ((uint32_t{random[0]} << 24) | (uint32_t{random[1]} << 16) |
                          (uint32_t{random[2]} << 8) | random[3]) &
                         0x7fffffffu;
  MDL_RETURN_IF_ERROR(p->store->PutPublic("device", "index", std::to_string(index)));
  MDL_RETURN_IF_ERROR(LoadKeys(*p, secret.seed));
  *out = p.release();
  return Status::Ok();
}

bool ValidBytes(const void* p, size_t n) { return p != nullptr || n == 0; }

std::string QueryParam(const std::string& query, const std::string& key) {
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string::npos) amp = query.size();
    const std::string pair = query.substr(pos, amp - pos);
    pos = amp + 1;
    const size_t eq = pair.find('=');
    if (eq != std::string::npos && pair.substr(0, eq) == key) {
      std::string v = pair.substr(eq + 1), out;
      for (size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '%') {
          if (i + 2 >= v.size()) return "";
          auto hex = medallion::HexDecode(v.substr(i + 1, 2));
          if (!hex || hex->size() != 1) return "";
          out += static_cast<char>((*hex)[0]);
          i += 2;
        } else {
          out += v[i] == '+' ? ' ' : v[i];
        }
      }
      return out;
    }
  }
  return "";
}

// A JSON answer from the container; maps HTTP errors to statuses with the server's reason.
// The container's answers are outside input: a member of the wrong type is an error naming it
// (unavailable: the container, not the caller, is at fault), never an exception.
template <typename T>
Result<T> FromContainer(Result<T> r) {
  if (r) return r;
  return Status::Unavailable("the container's answer is not usable: " + r.error().message());
}

Result<json> Container(mdl_phone& p, const char* method, const std::string& path,
                       const std::string& bearer, const json* body) {
  MDL_ASSIGN_OR_RETURN(
      medallion::http::HttpReply r,
      medallion::http::HttpCall(method, p.container + path, bearer, body ? body->dump() : ""));
  // The container's answer is outside input too: bounded in size and depth (core/json.h).
  json j = json::object();
  if (!r.body.empty()) {
    auto parsed = medallion::ParseJson(r.body, medallion::JsonLimits{4u << 20, 64});
    if (!parsed)
      return Status::Unavailable("the container's answer is not usable JSON: " +
                                 parsed.error().message());
    j = std::move(*parsed);
  }
  if (r.status >= 200 && r.status < 300) return j;
  const std::string error = medallion::OptionalString(j, "error", "error").value_or("error");
  const std::string description = medallion::OptionalString(j, "error_description").value_or("");
  const std::string why = error + ": " + description;
  // The reason as the server's clients read it (its "reason", or a protocol error such as
  // invalid_grant); the code from the bridge's own table (409 is a precondition for the phone).
  const std::string reason = medallion::http::StatusFromHttpReply(r).reason();
  switch (r.status) {
    case 400:
      return Status(StatusCode::kInvalidArgument, why, reason);
    case 401:
      return Status(StatusCode::kUnauthenticated, why, reason);
    case 403:
      return Status(StatusCode::kPermissionDenied, why, reason);
    case 404:
      return Status(StatusCode::kNotFound, why, reason);
    case 409:
      return Status(StatusCode::kFailedPrecondition, why, reason);
    default:
      return Status(StatusCode::kUnavailable, why, reason);
  }
}

std::string SignB64(const mdl_phone& p, std::string_view message) {
  auto sig = wallet::Sign(*p.device, medallion::AsBytes(message));
  return sig ? medallion::Base64UrlEncode(*sig) : "";
}

Status EnsureSession(mdl_phone& p, bool fresh) {
  if (p.container.empty()) return Status::FailedPrecondition("not paired with a container");
  if (!fresh && !p.session.Reveal().empty()) return Status::Ok();
  MDL_ASSIGN_OR_RETURN(json ch, Container(p, "POST", "/device/v1/challenge", "", nullptr));
  MDL_ASSIGN_OR_RETURN(const std::string nonce,
                       FromContainer(medallion::RequiredString(ch, "nonce")));
  MDL_ASSIGN_OR_RETURN(std::string statement,
                       medallion::jcs::Canonicalize(json{{"type", "medallion-device-session/1"},
                                                         {"container", p.container},
                                                         {"device_id", p.device_id},
                                                         {"nonce", nonce}}));
  json body = {{"device_id", p.device_id}, {"nonce", nonce}, {"sig", SignB64(p, statement)}};
  MDL_ASSIGN_OR_RETURN(json s, Container(p, "POST", "/device/v1/session", "", &body));
  MDL_ASSIGN_OR_RETURN(std::string token,
                       FromContainer(medallion::RequiredString(s, "access_token")));
  p.session = SecretString(std::move(token));
  return Status::Ok();
}

// A device-authenticated call, with one retry on a fresh session if the old one lapsed.
Result<json> DeviceCall(mdl_phone& p, const char* method, const std::string& path,
                        const json* body) {
  MDL_RETURN_IF_ERROR(EnsureSession(p, false));
  auto r = Container(p, method, path, p.session.Reveal(), body);
  if (!r && r.error().code() == StatusCode::kUnauthenticated) {
    MDL_RETURN_IF_ERROR(EnsureSession(p, true));
    r = Container(p, method, path, p.session.Reveal(), body);
  }
  return r;
}

// A member for display: the string, or `fallback` when absent or not a string.
std::string Text(const json& obj, const char* name, const std::string& fallback) {
  if (!obj.is_object()) return fallback;
  auto it = obj.find(name);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : fallback;
}

// A member for display: the array, or an empty one.
const json& List(const json& obj, const char* name) {
  static const json kEmpty = json::array();
  if (!obj.is_object()) return kEmpty;
  auto it = obj.find(name);
  return it != obj.end() && it->is_array() ? *it : kEmpty;
}

std::string Join(const json& list) {
  std::string out;
  if (!list.is_array()) return out;
  for (size_t i = 0; i < list.size(); ++i) {
    if (i > 0) out += i + 1 == list.size() ? " and " : ", ";
    out += list[i].is_string() ? list[i].get<std::string>() : medallion::DescribeJsonValue(list[i]);
  }
  return out;
}

// The sentence the phone shows for a request (a summary the container sent malformed reads as
// "?"s, never as an error).
std::string HumanText(const json& item) {
  static const json kNone = json::object();
  auto it = item.find("summary");
  const json& s = it != item.end() && it->is_object() ? *it : kNone;
  if (s.contains("text") && s["text"].is_string()) return s["text"];
  const std::string kind = Text(item, "kind", "");
  if (kind == "consent") {
    std::string what;
    for (const json& p : List(s, "permissions")) {
      if (!what.empty()) what += "; ";
      what += Join(List(p, "resource_scopes")) + " " + Text(p, "name", Text(p, "resource_id", "?"));
    }
    std::string who = Text(s, "requesting_party", "someone");
    for (const json& c : List(s, "credentials")) {
      bool license = false;
      for (const json& t : List(c, "types")) license = license || t == "MedicalLicenseCredential";
      if (license) who += " (licensed physician, by " + Text(c, "issuer", "?") + ")";
    }
    return who + " asks to " + what + " for " + Text(s, "purpose", "an unstated purpose") + ".";
  }
  return "A " + kind + " request awaits your decision.";
}

// An item of the container's approval queue (docs/mobile-bridge.md §"Approvals"): an object with
// string id, hash and kind, and an object (or null) payload and summary.
Status CheckQueueItem(const json& item) {
  if (!item.is_object())
    return Status::Unavailable("the container's queue holds something other than requests");
  for (const char* name : {"id", "hash", "kind"}) {
    MDL_RETURN_IF_ERROR(FromContainer(medallion::RequiredString(item, name)).status());
  }
  for (const char* name : {"payload", "summary"}) {
    auto it = item.find(name);
    if (it != item.end() && !it->is_null() && !it->is_object()) {
      return Status::Unavailable(std::string("the container's answer is not usable: '") + name +
                                 "' must be an object");
    }
  }
  return Status::Ok();
}

// The approval queue, every item checked.
Result<json> Queue(mdl_phone& p) {
  MDL_ASSIGN_OR_RETURN(json items, DeviceCall(p, "GET", "/device/v1/requests", nullptr));
  if (!items.is_array()) return Status::Unavailable("the container's queue is not a list");
  for (const json& item : items) MDL_RETURN_IF_ERROR(CheckQueueItem(item));
  return items;
}

}  // namespace

extern "C" {

uint32_t mdl_abi_version(void) { return MDL_BRIDGE_ABI_VERSION; }

const char* mdl_status_name(mdl_status status) {
  switch (status) {
    case MDL_OK:
      return "ok";
    case MDL_ERR_INVALID_ARGUMENT:
      return "invalid_argument";
    case MDL_ERR_NOT_FOUND:
      return "not_found";
    case MDL_ERR_ALREADY_EXISTS:
      return "already_exists";
    case MDL_ERR_PERMISSION_DENIED:
      return "permission_denied";
    case MDL_ERR_UNAUTHENTICATED:
      return "unauthenticated";
    case MDL_ERR_FAILED_PRECONDITION:
      return "failed_precondition";
    case MDL_ERR_RESOURCE_EXHAUSTED:
      return "resource_exhausted";
    case MDL_ERR_DATA_LOSS:
      return "data_loss";
    case MDL_ERR_UNAVAILABLE:
      return "unavailable";
    case MDL_ERR_INTERNAL:
      return "internal";
    default:
      return "unknown";
  }
}

void mdl_string_free(char* s) {
  if (s == nullptr) return;
  medallion::SecureWipe(s, std::strlen(s));
  std::free(s);
}

mdl_status mdl_phone_create(const char* store_path, const uint8_t* passphrase,
                            size_t passphrase_len, mdl_kdf kdf, mdl_phone** out_phone,
                            char** out_mnemonic) {
  if (out_phone != nullptr) *out_phone = nullptr;
  if (out_mnemonic != nullptr) *out_mnemonic = nullptr;
  return Guard(nullptr, [&]() -> Status {
    if (store_path == nullptr || out_phone == nullptr || out_mnemonic == nullptr ||
        !ValidBytes(passphrase, passphrase_len)) {
      return Status::InvalidArgument("NULL argument");
    }
    const medallion::Env env = EdgeEnv();
    MDL_ASSIGN_OR_RETURN(SecretString mnemonic, wallet::bip39::GenerateMnemonic(*env.rng, 256));
    mdl_phone* phone = nullptr;
    MDL_RETURN_IF_ERROR(
        CreateStore(store_path, passphrase, passphrase_len, kdf, mnemonic, env, &phone));
    char* m = Dup(mnemonic.Reveal());
    if (m == nullptr) {
      mdl_phone_destroy(phone);
      return Status::ResourceExhausted("out of memory");
    }
    *out_phone = phone;
    *out_mnemonic = m;
    return Status::Ok();
  });
}

mdl_status mdl_phone_restore(const char* store_path, const uint8_t* passphrase,
                             size_t passphrase_len, mdl_kdf kdf, const char* mnemonic,
                             size_t mnemonic_len, mdl_phone** out_phone) {
  if (out_phone != nullptr) *out_phone = nullptr;
  return Guard(nullptr, [&]() -> Status {
    if (store_path == nullptr || out_phone == nullptr || mnemonic == nullptr ||
        !ValidBytes(passphrase, passphrase_len)) {
      return Status::InvalidArgument("NULL argument");
    }
    SecretString words(std::string(mnemonic, mnemonic_len));
    MDL_RETURN_IF_ERROR(wallet::bip39::ValidateMnemonic(words.Reveal()));
    return CreateStore(store_path, passphrase, passphrase_len, kdf, words, EdgeEnv(), out_phone);
  });
}

mdl_status mdl_phone_open(const char* store_path, const uint8_t* passphrase, size_t passphrase_len,
                          mdl_phone** out_phone) {
  if (out_phone != nullptr) *out_phone = nullptr;
  return Guard(nullptr, [&]() -> Status {
    if (store_path == nullptr || out_phone == nullptr || !ValidBytes(passphrase, passphrase_len)) {
      return Status::InvalidArgument("NULL argument");
    }
    auto p = std::make_unique<mdl_phone>();
    p->env = EdgeEnv();
    MDL_ASSIGN_OR_RETURN(p->store, wallet::KeyStore::Open(store_path, p->env));
    MDL_ASSIGN_OR_RETURN(wallet::WalletSecret secret,
                         p->store->Unlock(std::string_view(
                             reinterpret_cast<const char*>(passphrase), passphrase_len)));
    MDL_RETURN_IF_ERROR(LoadKeys(*p, secret.seed));
    *out_phone = p.release();
    return Status::Ok();
  });
}

void mdl_phone_destroy(mdl_phone* phone) {
  try {
    delete phone;  // SigningKey and SecretString wipe themselves
  } catch (...) {
  }
}

const char* mdl_phone_last_error(const mdl_phone* phone) {
  return phone == nullptr ? "" : phone->last_error.c_str();
}

mdl_status mdl_phone_device_key(mdl_phone* phone, char** out_multikey) {
  if (out_multikey != nullptr) *out_multikey = nullptr;
  return Guard(phone, [&]() -> Status {
    if (phone == nullptr || out_multikey == nullptr)
      return Status::InvalidArgument("NULL argument");
    *out_multikey = Dup(phone->device_multikey);
    return *out_multikey ? Status::Ok() : Status::ResourceExhausted("out of memory");
  });
}

mdl_status mdl_phone_did(mdl_phone* phone, char** out_did) {
  if (out_did != nullptr) *out_did = nullptr;
  return Guard(phone, [&]() -> Status {
    if (phone == nullptr || out_did == nullptr) return Status::InvalidArgument("NULL argument");
    *out_did = Dup(phone->did);
    return *out_did ? Status::Ok() : Status::ResourceExhausted("out of memory");
  });
}

mdl_status mdl_phone_sign(mdl_phone* phone, const uint8_t* message, size_t message_len,
                          uint8_t* out_signature, size_t out_signature_len) {
  return Guard(phone, [&]() -> Status {
    if (phone == nullptr || out_signature == nullptr || !ValidBytes(message, message_len)) {
      return Status::InvalidArgument("NULL argument");
    }
    if (out_signature_len < 64) return Status::InvalidArgument("out_signature needs 64 bytes");
    MDL_ASSIGN_OR_RETURN(Bytes sig, wallet::Sign(*phone->device, ByteView(message, message_len)));
    std::memcpy(out_signature, sig.data(), 64);
    return Status::Ok();
  });
}

mdl_status mdl_phone_pair(mdl_phone* phone, const char* pairing_uri, const char* device_name,
                          char** out_json) {
  if (out_json != nullptr) *out_json = nullptr;
  return Guard(phone, [&]() -> Status {
    if (phone == nullptr || pairing_uri == nullptr || device_name == nullptr ||
        out_json == nullptr) {
      return Status::InvalidArgument("NULL argument");
    }
    const std::string uri = pairing_uri;
    const std::string prefix = "medallion-pair://v1?";
    if (uri.rfind(prefix, 0) != 0) return Status::InvalidArgument("not a medallion pairing URI");
    const std::string query = uri.substr(prefix.size());
    const std::string url = QueryParam(query, "url"), id = QueryParam(query, "id");
    SecretString secret(QueryParam(query, "secret"));
    const std::string expires = QueryParam(query, "expires");
    if (url.empty() || id.empty() || secret.Reveal().empty() || expires.empty()) {
      return Status::InvalidArgument("the pairing URI lacks url, id, secret or expires");
    }
    if (std::strlen(device_name) == 0 || std::strlen(device_name) > 256)
      return Status::InvalidArgument("device name");
    int64_t exp = 0;
    try {
      exp = std::stoll(expires);
    } catch (...) {
      return Status::InvalidArgument("expires is not a number");
    }
    if (exp <= phone->env.clock->NowSeconds())
      return Status::FailedPrecondition("the pairing offer has expired");
    // The transcript binds the container, the offer and the new device key (docs/mobile-bridge.md).
    MDL_ASSIGN_OR_RETURN(std::string t,
                         medallion::jcs::Canonicalize(json{{"type", "medallion-pairing/1"},
                                                           {"container", url},
                                                           {"pairing_id", id},
                                                           {"device_key", phone->device_multikey},
                                                           {"device_name", device_name}}));
    const medallion::Hash256 key = medallion::Sha256(medallion::AsBytes(secret.Reveal()));
    const medallion::Hash256 mac = medallion::HmacSha256(key, medallion::AsBytes(t));
    json body = {{"pairing_id", id},
                 {"device_key", phone->device_multikey},
                 {"device_name", device_name},
                 {"mac", medallion::Base64UrlEncode(mac)},
                 {"sig", SignB64(*phone, t)}};
    const std::string previous = phone->container;
    phone->container = url;
    auto r = Container(*phone, "POST", "/pairing/v1/complete", "", &body);
    if (!r) {
      phone->container = previous;
      if (r.error().code() == StatusCode::kInvalidArgument) {
        // The container's typed reasons (docs/mobile-bridge.md "Pairing refusals"): a spent or
        // expired offer is a precondition, anything else a failed proof.
        const std::string& why = r.error().reason();
        const StatusCode code = why == kPairingExpired || why == kPairingUsed
                                    ? StatusCode::kFailedPrecondition
                                    : StatusCode::kUnauthenticated;
        return Status(code, r.error().message(), why);
      }
      return r.error();
    }
    auto device_id = FromContainer(medallion::RequiredString(*r, "device_id"));
    if (!device_id) {
      phone->container = previous;
      return device_id.error();
    }
    phone->device_id = *device_id;
    phone->session = SecretString();
    MDL_RETURN_IF_ERROR(phone->store->PutPublic("pairing", "container", url));
    MDL_RETURN_IF_ERROR(phone->store->PutPublic("pairing", "device_id", phone->device_id));
    *out_json = Dup(r->dump());
    return *out_json ? Status::Ok() : Status::ResourceExhausted("out of memory");
  });
}

mdl_status mdl_phone_pairing(mdl_phone* phone, char** out_json) {
  if (out_json != nullptr) *out_json = nullptr;
  return Guard(phone, [&]() -> Status {
    if (phone == nullptr || out_json == nullptr) return Status::InvalidArgument("NULL argument");
    if (phone->container.empty()) return Status::FailedPrecondition("not paired with a container");
    *out_json = Dup(json{{"container", phone->container}, {"device_id", phone->device_id}}.dump());
    return *out_json ? Status::Ok() : Status::ResourceExhausted("out of memory");
  });
}

mdl_status mdl_phone_pending(mdl_phone* phone, char** out_json) {
  if (out_json != nullptr) *out_json = nullptr;
  return Guard(phone, [&]() -> Status {
    if (phone == nullptr || out_json == nullptr) return Status::InvalidArgument("NULL argument");
    MDL_ASSIGN_OR_RETURN(json items, Queue(*phone));
    for (json& item : items) {
      item["text"] = HumanText(item);
      // bridge.h promises a payload on every item: a consent request carries none of its own.
      if (!item.contains("payload") || item["payload"].is_null()) item["payload"] = json::object();
    }
    *out_json = Dup(items.dump());
    return *out_json ? Status::Ok() : Status::ResourceExhausted("out of memory");
  });
}

mdl_status mdl_phone_decide(mdl_phone* phone, const char* request_id, int32_t approve,
                            char** out_json) {
  if (out_json != nullptr) *out_json = nullptr;
  return Guard(phone, [&]() -> Status {
    if (phone == nullptr || request_id == nullptr || out_json == nullptr)
      return Status::InvalidArgument("NULL argument");
    MDL_ASSIGN_OR_RETURN(json items, Queue(*phone));
    const json* item = nullptr;
    for (const json& i : items) {
      if (i["id"] == request_id) item = &i;
    }
    if (item == nullptr) return Status::NotFound("no pending request with that id");
    const std::string decision = approve ? "approve" : "deny";
    MDL_ASSIGN_OR_RETURN(std::string statement,
                         medallion::jcs::Canonicalize(json{{"type", "medallion-decision/1"},
                                                           {"container", phone->container},
                                                           {"request", request_id},
                                                           {"hash", (*item)["hash"]},
                                                           {"decision", decision}}));
    json body = {{"decision", decision}, {"sig", SignB64(*phone, statement)}};
    MDL_ASSIGN_OR_RETURN(const json payload,
                         FromContainer(medallion::OptionalObject(*item, "payload")));
    if (approve && payload.contains("sign")) {
      MDL_ASSIGN_OR_RETURN(const json sign,
                           FromContainer(medallion::RequiredObject(payload, "sign")));
      MDL_ASSIGN_OR_RETURN(const std::string vm_id,
                           FromContainer(medallion::RequiredString(sign, "verification_method")));
      MDL_ASSIGN_OR_RETURN(const std::string format,
                           FromContainer(medallion::RequiredString(sign, "format")));
      medallion::claims::Signer signer = medallion::claims::WalletSigner(phone->device, vm_id);
      const int64_t now = phone->env.clock->NowSeconds();
      if (format == "data_integrity") {
        MDL_ASSIGN_OR_RETURN(const json document,
                             FromContainer(medallion::RequiredObject(sign, "document")));
        medallion::claims::ProofOptions po;
        po.created = medallion::did::XmlDateTime(now);
        MDL_ASSIGN_OR_RETURN(json signed_doc, medallion::claims::AddProof(document, signer, po));
        body["result"] = signed_doc;
      } else if (format == "did-auth+jwt") {
        auto vm = medallion::did::ParseDidUrl(signer.verification_method);
        if (!vm)
          return Status::InvalidArgument("the verification method to sign with is not a DID URL");
        json doc = {{"sub", vm->did}};
        medallion::claims::JwtSignOptions jo;
        jo.issued_at = now;
        jo.expires = now + 600;
        MDL_ASSIGN_OR_RETURN(const json wanted,
                             FromContainer(medallion::OptionalObject(sign, "claims")));
        for (auto& [k, v] : wanted.items()) {
          if (k == "aud" && v.is_string()) {
            jo.audience = v;
          } else if (k == "nonce" && v.is_string()) {
            jo.nonce = v;
          } else if (k == "jti" && v.is_string()) {
            jo.jwt_id = v;
          } else if (k != "sub" && k != "iss" && k != "iat" && k != "exp") {
            doc[k] = v;
          }
        }
        MDL_ASSIGN_OR_RETURN(
            std::string token,
            medallion::claims::SignJwt(medallion::claims::JwtKind::kDidAuth, doc, signer, jo));
        body["result"] = token;
      } else {
        return Status::InvalidArgument("the request asks for an unknown kind of signature");
      }
    }
    MDL_ASSIGN_OR_RETURN(
        json answer,
        DeviceCall(*phone, "POST", std::string("/device/v1/requests/") + request_id + "/decision",
                   &body));
    if (!answer.is_object()) {
      return Status::Unavailable("the container's answer to the decision is " +
                                 std::string(medallion::JsonTypeName(answer)) + ", not an object");
    }
    *out_json = Dup(answer.dump());
    return *out_json ? Status::Ok() : Status::ResourceExhausted("out of memory");
  });
}

}  // extern "C"
