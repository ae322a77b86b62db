// did:mdl operations, validation, replay and resolution (docs/did-mdl.md).
#include <list>
#include <map>
#include <mutex>
#include "medallion/did/did_mdl.h"

#include <nlohmann/json.hpp>
#include <set>

#include "medallion/core/encoding.h"
#include "medallion/core/jcs.h"
#include "medallion/core/json.h"
#include "medallion/ledger/entry.h"
#include "medallion/wallet/keys.h"

namespace medallion::did::mdl {
namespace {

using nlohmann::json;

constexpr std::string_view kPrefix = "did:mdl:";

std::string Hex(const Hash256& h) { return HexEncode(h); }

std::string KeyField(uint64_t codec, ByteView key) {
  return Base64UrlEncode(MulticodecWrap(codec, key));
}

// Decodes a base64url multicodec key field and checks its codec and key.
Result<Bytes> DecodeKey(const json& op, const char* field, uint64_t codec) {
  auto raw = Base64UrlDecode(op.at(field).get<std::string>());
  if (!raw) return Status::InvalidArgument(std::string("did:mdl: ") + field + " is not base64url");
  auto mc = MulticodecUnwrap(*raw);
  if (!mc || mc->code != codec)
    return Status::InvalidArgument(std::string("did:mdl: ") + field + " has the wrong key type");
  KeyType type = codec == multicodec::kEd25519Pub  ? KeyType::kEd25519
                 : codec == multicodec::kX25519Pub ? KeyType::kX25519
                                                   : KeyType::kSecp256k1;
  auto check = MultikeyFromPublicKey(type, mc->data);
  if (!check)
    return Status::InvalidArgument(std::string("did:mdl: ") + field + ": " +
                                   check.error().message());
  return mc->data;
}

// The bytes an operation's signature covers: JCS of the operation without "sig" (and, for
// create, without "did", which is derived from the signed operation).
Result<std::string> SigningInput(json op) {
  op.erase("sig");
  if (op.value("op", "") == "create") op.erase("did");
  return jcs::Canonicalize(op);
}

Result<std::string> DeriveDid(json create_op) {
  create_op.erase("did");
  MDL_ASSIGN_OR_RETURN(std::string canonical, jcs::Canonicalize(create_op));
  Hash256 h = Sha256(AsBytes(canonical));
  return std::string(kPrefix) + Base58Encode(h);
}

void PutKeys(json& op, const KeySet& k) {
  op["auth"] = KeyField(multicodec::kEd25519Pub, k.authentication);
  op["assert"] = KeyField(multicodec::kEd25519Pub, k.assertion);
  if (!k.key_agreement.empty()) op["agree"] = KeyField(multicodec::kX25519Pub, k.key_agreement);
  if (!k.es256k.empty()) op["es256k"] = KeyField(multicodec::kSecp256k1Pub, k.es256k);
  if (!k.device.empty()) op["device"] = KeyField(multicodec::kEd25519Pub, k.device);
  if (!k.service.empty()) op["service"] = k.service;
}

Result<KeySet> KeysOf(const json& op) {
  KeySet k;
  MDL_ASSIGN_OR_RETURN(k.authentication, DecodeKey(op, "auth", multicodec::kEd25519Pub));
  MDL_ASSIGN_OR_RETURN(k.assertion, DecodeKey(op, "assert", multicodec::kEd25519Pub));
  if (op.contains("agree")) {
    MDL_ASSIGN_OR_RETURN(k.key_agreement, DecodeKey(op, "agree", multicodec::kX25519Pub));
  }
  if (op.contains("es256k")) {
    MDL_ASSIGN_OR_RETURN(k.es256k, DecodeKey(op, "es256k", multicodec::kSecp256k1Pub));
  }
  if (op.contains("device")) {
    MDL_ASSIGN_OR_RETURN(k.device, DecodeKey(op, "device", multicodec::kEd25519Pub));
  }
  k.service = op.value("service", "");
  return k;
}

Status CheckKeySet(const KeySet& k) {
  if (k.authentication.size() != 32 || k.assertion.size() != 32) {
    return Status::InvalidArgument(
        "did:mdl: authentication and assertion keys are 32-byte Ed25519 keys");
  }
  return Status::Ok();
}

Result<Hash256> HashField(const json& op, const char* field) {
  auto b = HexDecode(op.at(field).get<std::string>());
  if (!b || b->size() != 32) return Status::InvalidArgument(std::string("did:mdl: bad ") + field);
  Hash256 h;
  std::copy(b->begin(), b->end(), h.begin());
  return h;
}

Result<BuiltOp> Finish(json op, const OpSigner& signer) {
  MDL_ASSIGN_OR_RETURN(std::string input, SigningInput(op));
  MDL_ASSIGN_OR_RETURN(Bytes sig, signer.sign(AsBytes(input)));
  if (sig.size() != wallet::kSignatureBytes)
    return Status::Internal("did:mdl: signer returned a malformed signature");
  op["sig"] = Base64UrlEncode(sig);
  if (op["op"] == "create") {
    MDL_ASSIGN_OR_RETURN(std::string did, DeriveDid(op));
    op["did"] = did;
  }
  MDL_RETURN_IF_ERROR(CheckOperation(op));
  MDL_ASSIGN_OR_RETURN(std::string canonical, jcs::Canonicalize(op));
  return BuiltOp{op["did"].get<std::string>(), std::move(canonical)};
}

json Base(std::string_view op_name, const State* current, const OpSigner& signer, int64_t ts) {
  json op = {{"type", "did.op"},
             {"v", 1},
             {"op", std::string(op_name)},
             {"key", KeyField(multicodec::kEd25519Pub, signer.public_key)},
             {"ts", ts}};
  if (current != nullptr) {
    op["did"] = current->did;
    op["seq"] = current->seq + 1;
    op["prev"] = Hex(current->last_op_hash);
  } else {
    op["seq"] = 0;
  }
  return op;
}

}  // namespace

Hash256 KeyCommitment(ByteView ed25519_public_key) {
  return Sha256(MulticodecWrap(multicodec::kEd25519Pub, ed25519_public_key));
}

Result<BuiltOp> BuildCreate(const KeySet& keys, const OpSigner& update,
                            const Hash256& next_update_commitment,
                            const Hash256& recovery_commitment, int64_t ts) {
  MDL_RETURN_IF_ERROR(CheckKeySet(keys));
  if (next_update_commitment == KeyCommitment(update.public_key)) {
    return Status::InvalidArgument(
        "did:mdl: the next update key must differ from the one revealed now");
  }
  json op = Base("create", nullptr, update, ts);
  op["next"] = Hex(next_update_commitment);
  op["recovery"] = Hex(recovery_commitment);
  PutKeys(op, keys);
  op["did"] = "did:mdl:pending";  // replaced by the derived DID in Finish
  return Finish(std::move(op), update);
}

Result<BuiltOp> BuildUpdate(const State& current, const KeySet& keys, const OpSigner& update,
                            const Hash256& next_update_commitment, int64_t ts) {
  MDL_RETURN_IF_ERROR(CheckKeySet(keys));
  if (current.deactivated)
    return Status::FailedPrecondition("did:mdl: " + current.did + " is deactivated");
  if (KeyCommitment(update.public_key) != current.next_commitment) {
    return Status::InvalidArgument("did:mdl: this is not the committed update key");
  }
  if (next_update_commitment == current.next_commitment) {
    return Status::InvalidArgument(
        "did:mdl: the next update key must differ from the one revealed now");
  }
  json op = Base("update", &current, update, ts);
  op["next"] = Hex(next_update_commitment);
  PutKeys(op, keys);
  return Finish(std::move(op), update);
}

Result<BuiltOp> BuildRecover(const State& current, const KeySet& keys, const OpSigner& recovery,
                             const Hash256& next_update_commitment,
                             const Hash256& new_recovery_commitment, int64_t ts) {
  MDL_RETURN_IF_ERROR(CheckKeySet(keys));
  if (current.deactivated)
    return Status::FailedPrecondition("did:mdl: " + current.did + " is deactivated");
  if (KeyCommitment(recovery.public_key) != current.recovery_commitment) {
    return Status::InvalidArgument("did:mdl: this is not the committed recovery key");
  }
  if (new_recovery_commitment == current.recovery_commitment) {
    return Status::InvalidArgument(
        "did:mdl: the new recovery key must differ from the one revealed now");
  }
  json op = Base("recover", &current, recovery, ts);
  op["next"] = Hex(next_update_commitment);
  op["recovery"] = Hex(new_recovery_commitment);
  PutKeys(op, keys);
  return Finish(std::move(op), recovery);
}

Result<BuiltOp> BuildDeactivate(const State& current, const OpSigner& key, int64_t ts) {
  if (current.deactivated)
    return Status::FailedPrecondition("did:mdl: " + current.did + " is already deactivated");
  const Hash256 c = KeyCommitment(key.public_key);
  if (c != current.next_commitment && c != current.recovery_commitment) {
    return Status::InvalidArgument(
        "did:mdl: deactivation needs the committed update key or the recovery key");
  }
  return Finish(Base("deactivate", &current, key, ts), key);
}

Status CheckOperation(const json& op) {
  auto entry = ledger::EntryFromJson(op);
  if (!entry) return entry.error();
  if (op.at("type") != "did.op") return Status::InvalidArgument("did:mdl: not a did.op entry");
  const std::string did = op.at("did").get<std::string>();
  if (did.rfind(kPrefix, 0) != 0) return Status::InvalidArgument("did:mdl: not a did:mdl DID");
  MDL_ASSIGN_OR_RETURN(Bytes key, DecodeKey(op, "key", multicodec::kEd25519Pub));
  if (op.at("op") != "deactivate") {
    auto keys = KeysOf(op);
    if (!keys) return keys.error();
  }
  MDL_ASSIGN_OR_RETURN(std::string input, SigningInput(op));
  auto sig = Base64UrlDecode(op.at("sig").get<std::string>());
  if (!sig || sig->size() != wallet::kSignatureBytes ||
      !wallet::Verify(wallet::SignatureAlg::kEdDSA, key, AsBytes(input), *sig)) {
    return Status::Unauthenticated(
        "did:mdl: the operation's signature does not verify under its key");
  }
  if (op.at("op") == "create") {
    MDL_ASSIGN_OR_RETURN(std::string derived, DeriveDid(op));
    if (derived != did)
      return Status::InvalidArgument("did:mdl: the DID is not derived from its create operation");
  }
  return Status::Ok();
}

Replay ReplayOperations(std::string_view did, const std::vector<OpRecord>& ops,
                        const ReplayOptions& options) {
  Replay out;
  std::set<std::string> seen;
  std::set<Hash256> revealed;  // commitments of keys revealed so far
  for (const OpRecord& rec : ops) {
    if (options.ledger_position && rec.index >= *options.ledger_position) break;
    auto ignore = [&](std::string reason) {
      out.ignored.push_back({rec.index, std::move(reason)});
    };
    if (!seen.insert(rec.canonical).second) {
      ignore("replayed");
      continue;
    }
    auto parsed = jcs::ParseStrict(rec.canonical);
    // Outside input (a ledger's entries): json::value() would throw on a "did" that is not a
    // string; StringOr never throws.
    if (!parsed || !parsed->is_object() || StringOr(*parsed, "did") != did) {
      ignore("malformed");
      continue;
    }
    const json& op = *parsed;
    Status check = CheckOperation(op);
    if (!check.ok()) {
      ignore(check.code() == StatusCode::kUnauthenticated ? "bad_signature"
             : StringOr(op, "op") == "create"             ? "invalid_create"
                                                          : "malformed");
      continue;
    }
    const std::string kind = op.at("op");
    const uint64_t seq = op.at("seq").get<uint64_t>();
    const int64_t ts = op.at("ts").get<int64_t>();
    const Hash256 key_commitment = KeyCommitment(*DecodeKey(op, "key", multicodec::kEd25519Pub));
    if (kind == "create") {
      if (out.state) {
        ignore("duplicate_create");
        continue;
      }
      if (options.version_time && ts > *options.version_time) break;
      State created;
      created.did = std::string(did);
      created.next_commitment = *HashField(op, "next");
      created.recovery_commitment = *HashField(op, "recovery");
      if (created.next_commitment == key_commitment) {
        ignore("key_revealed_twice");
        continue;
      }
      created.keys = *KeysOf(op);
      created.created = created.updated = ts;
      created.create_index = created.last_index = rec.index;
      created.last_op_hash = Sha256(AsBytes(rec.canonical));
      out.state = std::move(created);
      revealed.insert(key_commitment);
      out.applied.push_back(rec.index);
      continue;
    }
    if (!out.state) {
      ignore("no_create");
      continue;
    }
    State& st = *out.state;
    if (st.deactivated) {
      ignore("after_deactivation");
      continue;
    }
    if (seq != st.seq + 1 || op.at("prev").get<std::string>() != Hex(st.last_op_hash)) {
      ignore("sequence_conflict");
      continue;
    }
    if (ts < st.updated) {
      ignore("time_regression");
      continue;
    }
    if (kind == "recover") {
      if (key_commitment != st.recovery_commitment) {
        ignore("wrong_recovery_key");
        continue;
      }
    } else if (kind == "update") {
      if (key_commitment != st.next_commitment) {
        ignore(revealed.count(key_commitment) ? "key_revealed_twice" : "wrong_update_key");
        continue;
      }
    } else {  // deactivate
      if (key_commitment != st.next_commitment && key_commitment != st.recovery_commitment) {
        ignore("wrong_update_key");
        continue;
      }
    }
    if (kind != "deactivate") {
      const Hash256 next = *HashField(op, "next");
      if (next == key_commitment || revealed.count(next)) {
        ignore("key_revealed_twice");
        continue;
      }
    }
    // A valid operation. Stop here if it lies beyond the requested version.
    const bool beyond = (options.version_id && st.seq >= *options.version_id) ||
                        (options.version_time && ts > *options.version_time);
    if (beyond) {
      out.next_version_id = seq;
      break;
    }
    revealed.insert(key_commitment);
    st.seq = seq;
    st.updated = ts;
    st.last_index = rec.index;
    st.last_op_hash = Sha256(AsBytes(rec.canonical));
    if (kind == "deactivate") {
      st.deactivated = true;
      st.keys = KeySet{};
    } else {
      st.keys = *KeysOf(op);
      st.next_commitment = *HashField(op, "next");
      if (kind == "recover") st.recovery_commitment = *HashField(op, "recovery");
    }
    out.applied.push_back(rec.index);
  }
  if (out.state && options.version_id && out.state->seq != *options.version_id) out.state.reset();
  return out;
}

DidDocument ToDocument(const State& state) {
  DidDocument doc;
  doc.id = state.did;
  if (state.deactivated) return doc;
  const KeySet& k = state.keys;
  (void)AddKey(doc, KeyType::kEd25519, k.authentication,
               {Relationship::kAuthentication, Relationship::kCapabilityInvocation});
  (void)AddKey(doc, KeyType::kEd25519, k.assertion, {Relationship::kAssertionMethod});
  if (!k.key_agreement.empty())
    (void)AddKey(doc, KeyType::kX25519, k.key_agreement, {Relationship::kKeyAgreement});
  if (!k.es256k.empty())
    (void)AddKey(doc, KeyType::kSecp256k1, k.es256k, {Relationship::kAssertionMethod});
  if (!k.device.empty()) {
    (void)AddKey(doc, KeyType::kEd25519, k.device,
                 {Relationship::kAuthentication, Relationship::kAssertionMethod});
  }
  if (!k.service.empty()) {
    doc.services.push_back({state.did + "#container", "MedallionContainer", k.service});
    std::string base = k.service;
    if (!base.empty() && base.back() == '/') base.pop_back();
    doc.services.push_back({state.did + "#uma", "UMAAuthorizationServer", base + "/uma"});
  }
  return doc;
}

void RegisterLedgerValidator(ledger::ValidatorRegistry& registry) {
  registry.Register(
      ledger::EntryType::kDidOp,
      [](const ledger::Entry&, const json& body) -> Status { return CheckOperation(body); });
}

namespace {

class MdlResolver final : public MethodResolver {
 public:
  MdlResolver(OpFetcher fetcher, size_t cache_capacity)
      : fetcher_(std::move(fetcher)), capacity_(cache_capacity) {}
  std::string_view method() const override { return "mdl"; }

  // §3: the result is deterministic for a given checkpoint, and as of a ledger position (only
  // operations at indices below it count) it depends on nothing the ledger can still append once
  // a verified checkpoint covers that position: such a result is final and kept (a bounded LRU,
  // keyed by DID and position; the verifiers' "as of the postmark" resolutions). Everything else
  // — the current state, versionId, versionTime — goes to the ledger every time.
  ResolutionResult Resolve(std::string_view did, const ResolutionOptions& options) override {
    const bool final_form =
        options.ledger_position && !options.version_id && !options.version_time && capacity_ > 0;
    if (final_form) {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = final_.find({std::string(did), *options.ledger_position});
      if (it != final_.end()) {
        order_.splice(order_.begin(), order_, it->second.second);
        return it->second.first;
      }
    }
    uint64_t tree_size = 0;
    ResolutionResult r = ResolveFromLedger(did, options, &tree_size);
    if (final_form && r.ok() && tree_size >= *options.ledger_position) {
      std::lock_guard<std::mutex> lock(mu_);
      Key key{std::string(did), *options.ledger_position};
      if (final_.find(key) == final_.end()) {
        order_.push_front(key);
        final_.emplace(key, std::make_pair(r, order_.begin()));
        if (final_.size() > capacity_) {
          final_.erase(order_.back());
          order_.pop_back();
        }
      }
    }
    return r;
  }

 private:
  using Key = std::pair<std::string, uint64_t>;

  ResolutionResult ResolveFromLedger(std::string_view did, const ResolutionOptions& options,
                                     uint64_t* tree_size_out) {
    const std::string_view id = did.substr(kPrefix.size());
    auto raw = Base58Decode(id);
    if (!raw || raw->size() != 32)
      return ResolutionResult::Error(kInvalidDid, "a did:mdl identifier is base58btc of 32 bytes");
    ReplayOptions ro;
    if (options.version_id) {
      uint64_t v = 0;
      try {
        size_t pos = 0;
        v = std::stoull(*options.version_id, &pos);
        if (pos != options.version_id->size()) throw std::invalid_argument("trailing");
      } catch (...) {
        return ResolutionResult::Error(kInvalidOptions,
                                       "versionId of a did:mdl is a decimal sequence number");
      }
      ro.version_id = v;
    }
    ro.version_time = options.version_time;
    ro.ledger_position = options.ledger_position;
    uint64_t& tree_size = *tree_size_out;
    auto ops = fetcher_(did, &tree_size);
    if (!ops) {
      if (ops.error().code() == StatusCode::kNotFound)
        return ResolutionResult::Error(kNotFound, ops.error().message());
      return ResolutionResult::Error(kInternalError, "ledger: " + ops.error().ToString());
    }
    Replay replay = ReplayOperations(did, *ops, ro);
    json ignored = json::array();
    for (const auto& i : replay.ignored)
      ignored.push_back({{"index", i.index}, {"reason", i.reason}});
    if (!replay.state) {
      ResolutionResult r = ResolutionResult::Error(
          kNotFound, ops->empty() ? "no operations on the ledger"
                                  : "no valid create operation (in the requested version)");
      r.metadata.extra_json =
          json{{"ledger", {{"treeSize", tree_size}, {"ignoredOperations", ignored}}}}.dump();
      return r;
    }
    const State& st = *replay.state;
    ResolutionResult r;
    r.document = ToDocument(st);
    r.metadata.created = XmlDateTime(st.created);
    if (st.seq > 0) r.metadata.updated = XmlDateTime(st.updated);
    r.metadata.deactivated = st.deactivated;
    r.metadata.version_id = std::to_string(st.seq);
    if (replay.next_version_id)
      r.metadata.next_version_id = std::to_string(*replay.next_version_id);
    r.metadata.extra_json = json{{"ledger",
                                  {{"treeSize", tree_size},
                                   {"operations", replay.applied},
                                   {"ignoredOperations", ignored},
                                   {"updateCommitment", Hex(st.next_commitment)},
                                   {"recoveryCommitment", Hex(st.recovery_commitment)},
                                   {"lastOperation", Hex(st.last_op_hash)}}}}
                                .dump();
    return r;
  }

  OpFetcher fetcher_;
  const size_t capacity_;
  std::mutex mu_;
  std::list<Key> order_;  // most recently used first
  std::map<Key, std::pair<ResolutionResult, std::list<Key>::iterator>> final_;
};

}  // namespace

std::shared_ptr<MethodResolver> MakeMdlResolver(OpFetcher fetcher, size_t cache_capacity) {
  return std::make_shared<MdlResolver>(std::move(fetcher), cache_capacity);
}

}  // namespace medallion::did::mdl
