// The owner's devices: pairing offers, device sessions, the approval queue as the phone sees
// it, and the verification of the phone's signed decisions (docs/mobile-bridge.md).
#include "as_internal.h"
#include "medallion/did/did_key.h"

namespace medallion::uma {
namespace {

constexpr const char* kPairingType = "medallion-pairing/1";
constexpr const char* kSessionType = "medallion-device-session/1";
constexpr const char* kDecisionType = "medallion-decision/1";
constexpr size_t kMaxDevices = 16;

Result<Bytes> DecodeSig(const json& body, const char* member, size_t size) {
  auto it = body.find(member);
  if (it == body.end() || !it->is_string())
    return Status::InvalidArgument(std::string(member) + " is required");
  MDL_ASSIGN_OR_RETURN(Bytes b, Base64UrlDecode(it->get<std::string>()));
  if (b.size() != size)
    return Status::InvalidArgument(std::string(member) + " has the wrong length");
  return b;
}

bool VerifyEd25519(ByteView key, std::string_view message, ByteView sig) {
  return claims::VerifySignature(claims::Alg::kEdDSA, key, AsBytes(message), sig);
}

// A queued request's {"sign": {"format", "verification_method", "document" | "claims"}}: each
// member of the type the phone's answer is checked against, so the check never meets a surprise.
Status CheckSignRequest(const json& sign) {
  if (!sign.is_object()) return Status::InvalidArgument("'payload.sign' must be an object");
  const std::string format = StringOr(sign, "format");
  if (format != "data_integrity" && format != "did-auth+jwt") {
    return Status::InvalidArgument(
        "payload.sign needs format data_integrity or did-auth+jwt and a verification_method");
  }
  if (!sign.contains("verification_method")) {
    return Status::InvalidArgument(
        "payload.sign needs format data_integrity or did-auth+jwt and a verification_method");
  }
  if (!sign["verification_method"].is_string()) {
    return Status::InvalidArgument("'payload.sign.verification_method' must be a string");
  }
  if (format == "data_integrity" && !MemberOr(sign, "document").is_object()) {
    return Status::InvalidArgument(
        "'payload.sign.document' must be an object (the document to sign)");
  }
  if (sign.contains("claims") && !sign["claims"].is_object()) {
    return Status::InvalidArgument("'payload.sign.claims' must be an object");
  }
  return Status::Ok();
}

// The phone's answer to a request that asked for a data-integrity signature: the document put
// before the owner, unchanged but for its proofs, with a proof by `vm` that verifies at `now`.
Result<json> CheckSignedDocument(const json& sign, const json& doc, const std::string& vm,
                                 const did::Resolver& resolver, int64_t now) {
  if (!doc.is_object())
    return Status::InvalidArgument("'result' must be an object (the signed document)");
  json unsigned_doc = doc;
  unsigned_doc.erase("proof");
  json original_unsigned = MemberOr(sign, "document");
  original_unsigned.erase("proof");
  if (unsigned_doc != original_unsigned)
    return Status::InvalidArgument("the signed document is not the one to sign");
  claims::ProofCheckOptions po;
  po.now = now;
  auto proofs = claims::VerifyProofs(doc, resolver, po);
  if (!proofs)
    return Status::InvalidArgument("the signed document does not verify: " +
                                   proofs.error().message());
  if (std::none_of(proofs->begin(), proofs->end(),
                   [&](const auto& p) { return p.verification_method == vm; })) {
    return Status::InvalidArgument("no proof by the device's verification method");
  }
  return doc;
}

// The phone's answer to a request that asked for a did-auth token: a compact JWS by `vm` that
// verifies at `now` and carries every claim the request named, with the same values.
Result<json> CheckSignedToken(const json& sign, const json& token, const std::string& vm,
                              const did::Resolver& resolver, int64_t now) {
  if (!token.is_string()) return Status::InvalidArgument("the result is a compact JWS");
  claims::JwtCheckOptions co;
  co.now = now;
  claims::VerifiedJwt info;
  auto payload =
      claims::VerifyJwt(claims::JwtKind::kDidAuth, token.get<std::string>(), resolver, co, &info);
  if (!payload)
    return Status::InvalidArgument("the signed token does not verify: " +
                                   payload.error().message());
  if (info.kid != vm)
    return Status::InvalidArgument("the token is not signed by the device's verification method");
  const json wanted = MemberOr(sign, "claims");  // a named value: items() of a temporary dangles
  for (auto& [k, v] : wanted.items()) {
    if (!payload->contains(k) || (*payload)[k] != v)
      return Status::InvalidArgument("the token's claim " + k + " differs");
  }
  return token;
}

// The signed result a device sends with its approval of a request that asks for a signature
// (payload.sign, checked by CheckSignRequest when queued): the verification method to sign with
// must be `device_key`, and the result must verify as CheckSignedDocument or CheckSignedToken
// says. Returns the result to store; InvalidArgument names what is wrong, Internal an unknown
// format in the stored request.
Result<json> CheckSignedResult(const json& sign, const json& body, ByteView device_key,
                               const did::Resolver& resolver, int64_t now) {
  const std::string vm = StringOr(sign, "verification_method");
  if (!body.contains("result"))
    return Status::InvalidArgument("this request needs the signed result");
  auto method = resolver.DereferenceMethod(vm, std::nullopt);
  if (!method || !ConstantTimeEqual(method->public_key, device_key))
    return Status::InvalidArgument("the verification method to sign with is not this device's key");
  const std::string format = StringOr(sign, "format");
  if (format == "data_integrity")
    return CheckSignedDocument(sign, body["result"], vm, resolver, now);
  if (format == "did-auth+jwt") return CheckSignedToken(sign, body["result"], vm, resolver, now);
  return Status::Internal("unknown signature format in the request");
}

}  // namespace

Reply AuthorizationServer::CreatePairing(std::string_view session, int64_t ttl_seconds) {
  Impl::Lock lock(*impl_);
  if (!impl_->LiveToken(session, "session"))
    return InvalidToken(options_.realm, "the owner's session is required (sign in)");
  if (ttl_seconds < 0 || ttl_seconds > options_.pairing_ttl) {
    return Error(StatusCode::kInvalidArgument, "invalid_request",
                 "ttl is between 1 and " + std::to_string(options_.pairing_ttl) + " seconds");
  }
  const std::string id = impl_->NewId();
  std::string secret = impl_->NewToken();
  const Hash256 h = TokenHash(secret);
  const int64_t expires = impl_->Now() + (ttl_seconds > 0 ? ttl_seconds : options_.pairing_ttl);
  Status st = impl_->Tx([&]() -> Status {
    MDL_RETURN_IF_ERROR(impl_->devices_->PutPairing(id, h, expires, impl_->Now()));
    return impl_->Log(
        {{"event", "device.pairing_offer"}, {"pairing_id", id}, {"expires", expires}});
  });
  if (!st.ok()) return Internal(st);
  // The QR code's content: everything the phone needs, once.
  const std::string uri = "medallion-pair://v1?url=" + PercentEncode(options_.issuer) +
                          "&id=" + id + "&secret=" + secret + "&expires=" + std::to_string(expires);
  Reply r = Created({{"pairing_id", id}, {"secret", secret}, {"expires", expires}, {"uri", uri}});
  SecretString::WipeString(secret);
  return r;
}

Reply AuthorizationServer::CompletePairing(const json& body) {
  if (!body.is_object())
    return Error(StatusCode::kInvalidArgument, "invalid_request", "the body is a JSON object");
  for (const char* k : {"pairing_id", "device_key", "device_name"}) {
    if (!body.contains(k) || !body[k].is_string() ||
        body[k].get_ref<const std::string&>().empty() ||
        body[k].get_ref<const std::string&>().size() > 256) {
      return Error(StatusCode::kInvalidArgument, "invalid_request",
                   std::string(k) + " is a non-empty string");
    }
  }
  const std::string pairing_id = body["pairing_id"], device_key = body["device_key"],
                    name = body["device_name"];
  auto key = did::ParseMultikey(device_key);
  if (!key || key->type != did::KeyType::kEd25519)
    return Error(StatusCode::kInvalidArgument, "invalid_request",
                 "device_key is an Ed25519 Multikey");
  auto mac = DecodeSig(body, "mac", 32);
  auto sig = DecodeSig(body, "sig", 64);
  if (!mac || !sig)
    return Error(StatusCode::kInvalidArgument, "invalid_request",
                 !mac ? mac.error().message() : sig.error().message());
  const json transcript = {{"type", kPairingType},
                           {"container", options_.issuer},
                           {"pairing_id", pairing_id},
                           {"device_key", device_key},
                           {"device_name", name}};
  const std::string t = *jcs::Canonicalize(transcript);

  Impl::Lock lock(*impl_);
  Reply reply;
  bool hook_added = false;
  Status st = impl_->Tx([&]() -> Status {
    auto pairing = impl_->devices_->FindPairing(pairing_id);
    if (!pairing && pairing.error().code() != StatusCode::kNotFound) return pairing.error();
    if (!pairing) {
      reply = Error(StatusCode::kInvalidArgument, "invalid_grant", "unknown pairing",
                    {{"reason", "pairing_unknown"}});
      return Status::Ok();
    }
    const Hash256& secret_hash = pairing->secret_hash;
    const int64_t expires = pairing->expires, attempts = pairing->attempts;
    if (pairing->used || attempts >= options_.max_pairing_attempts) {
      reply = Error(StatusCode::kInvalidArgument, "invalid_grant",
                    "the pairing offer was already used or burned", {{"reason", "pairing_used"}});
      return Status::Ok();
    }
    if (expires <= impl_->Now()) {
      reply = Error(StatusCode::kInvalidArgument, "invalid_grant", "the pairing offer has expired",
                    {{"reason", "pairing_expired"}});
      return Status::Ok();
    }
    // The container keeps only H = SHA-256(secret); the phone, which read the secret from the
    // QR code, computes H too and keys the MAC with it. Knowing the secret (or, within the
    // offer's few minutes, reading this database) is what pairing takes.
    const Hash256 expected = HmacSha256(secret_hash, AsBytes(t));
    const bool mac_ok = ConstantTimeEqual(expected, *mac);
    const bool sig_ok = VerifyEd25519(key->public_key, t, *sig);
    if (!mac_ok || !sig_ok) {
      MDL_RETURN_IF_ERROR(impl_->devices_->BurnAttempt(pairing_id));
      MDL_RETURN_IF_ERROR(
          impl_->Log({{"event", "device.pairing_refused"},
                      {"pairing_id", pairing_id},
                      {"reason", !mac_ok ? "wrong secret" : "bad device signature"}}));
      reply =
          Error(StatusCode::kInvalidArgument, "invalid_grant",
                !mac_ok ? "the pairing proof is wrong" : "the device signature does not verify");
      return Status::Ok();
    }
    MDL_ASSIGN_OR_RETURN(size_t devices, impl_->devices_->CountActive());
    if (devices >= kMaxDevices) {
      reply = Error(StatusCode::kResourceExhausted, "too_many_devices", "revoke a device first");
      return Status::Ok();
    }
    MDL_ASSIGN_OR_RETURN(bool consumed, impl_->devices_->ConsumePairing(pairing_id));
    if (!consumed) {
      reply = Error(StatusCode::kInvalidArgument, "invalid_grant",
                    "the pairing offer was already used", {{"reason", "pairing_used"}});
      return Status::Ok();
    }
    // The DID first: if the device cannot be published, the pairing does not happen.
    if (options_.device_key_hook) {
      Status published = options_.device_key_hook(key->public_key, true);
      if (!published.ok())
        return Status::Unavailable("the device key could not be added to the owner's DID: " +
                                   published.message());
      hook_added = true;
    }
    const std::string device_id = impl_->NewId();
    MDL_RETURN_IF_ERROR(impl_->devices_->AddDevice(device_id, key->public_key, name, impl_->Now()));
    MDL_RETURN_IF_ERROR(impl_->Log({{"event", "device.paired"},
                                    {"device_id", device_id},
                                    {"device_key", device_key},
                                    {"device_name", name},
                                    {"pairing_id", pairing_id}}));
    reply = Created(
        {{"device_id", device_id}, {"owner", options_.owner_did}, {"container", options_.issuer}});
    return Status::Ok();
  });
  if (!st.ok()) {
    if (hook_added) (void)options_.device_key_hook(key->public_key, false);
    return st.code() == StatusCode::kUnavailable
               ? Error(StatusCode::kUnavailable, "temporarily_unavailable", st.message())
               : Internal(st);
  }
  return reply;
}

Reply AuthorizationServer::ListDevices(std::string_view session) {
  Impl::Lock lock(*impl_);
  if (!impl_->LiveToken(session, "session"))
    return InvalidToken(options_.realm, "the owner's session is required (sign in)");
  json out = json::array();
  auto devices = impl_->devices_->ListDevices();
  if (!devices) return Internal(devices.error());
  for (const DeviceRow& row : *devices) {
    json d = {{"id", row.id},
              {"device_key", *did::MultikeyFromPublicKey(did::KeyType::kEd25519, row.public_key)},
              {"name", row.name},
              {"created", row.created}};
    d["revoked"] = row.revoked != 0 ? json(row.revoked) : json(nullptr);
    out.push_back(std::move(d));
  }
  return Answer(std::move(out));
}

Reply AuthorizationServer::RevokeDevice(std::string_view session, std::string_view device_id) {
  Impl::Lock lock(*impl_);
  if (!impl_->LiveToken(session, "session"))
    return InvalidToken(options_.realm, "the owner's session is required (sign in)");
  auto pk = impl_->devices_->ActiveKey(device_id);
  if (!pk) return Error(StatusCode::kNotFound, "not_found", "no such device in use");
  // The key leaves the DID first: a lost phone must stop being trusted by everyone, not just
  // by this container.
  if (options_.device_key_hook) {
    Status withdrawn = options_.device_key_hook(*pk, false);
    if (!withdrawn.ok())
      return Error(StatusCode::kUnavailable, "temporarily_unavailable",
                   "the device key could not be removed from the DID: " + withdrawn.message());
  }
  Status st = impl_->Tx([&]() -> Status {
    MDL_RETURN_IF_ERROR(impl_->devices_->Revoke(device_id, impl_->Now()));
    MDL_RETURN_IF_ERROR(impl_->tokens_->RevokeDeviceSessions(device_id));
    return impl_->Log({{"event", "device.revoked"}, {"device_id", std::string(device_id)}});
  });
  if (!st.ok()) return Internal(st);
  return Answer({{"id", std::string(device_id)}, {"revoked", true}});
}

Reply AuthorizationServer::DeviceSignIn(const json& body) {
  if (!body.is_object() || !body.contains("device_id") || !body["device_id"].is_string() ||
      !body.contains("nonce") || !body["nonce"].is_string()) {
    return Error(StatusCode::kInvalidArgument, "invalid_request",
                 "the body is {\"device_id\", \"nonce\", \"sig\"}");
  }
  auto sig = DecodeSig(body, "sig", 64);
  if (!sig) return Error(StatusCode::kInvalidArgument, "invalid_request", sig.error().message());
  const std::string device_id = body["device_id"], nonce = body["nonce"];
  const std::string statement = *jcs::Canonicalize(json{{"type", kSessionType},
                                                        {"container", options_.issuer},
                                                        {"device_id", device_id},
                                                        {"nonce", nonce}});
  Impl::Lock lock(*impl_);
  auto pk = impl_->devices_->ActiveKey(device_id);
  if (!pk) return Error(StatusCode::kUnauthenticated, "invalid_grant", "unknown or revoked device");
  if (!VerifyEd25519(*pk, statement, *sig))
    return Error(StatusCode::kUnauthenticated, "invalid_grant",
                 "the device signature does not verify");
  const std::string session = impl_->NewToken();
  Reply reply;
  Status st = impl_->OpenChallengedSession(nonce, session, "device", "device", device_id,
                                           options_.session_ttl, json(), &reply);
  if (!st.ok()) return Internal(st);
  return reply;
}

Reply AuthorizationServer::DeviceRequests(std::string_view device_session) {
  Impl::Lock lock(*impl_);
  if (!impl_->LiveToken(device_session, "device"))
    return InvalidToken(options_.realm, "a device session is required");
  json out = json::array();
  auto pending = impl_->requests_->List(/*pending_only=*/true);
  if (!pending) return Internal(pending.error());
  for (RequestRow& row : *pending) {
    json& data = row.data;
    const auto approvers = data["summary"].value("approvers", std::vector<std::string>{});
    if (!Contains(approvers, kOwnerApprover) || data["approvals"].contains(kOwnerApprover))
      continue;
    json item = {{"id", row.id},
                 {"kind", row.kind},
                 {"hash", row.hash},
                 {"summary", data["summary"]},
                 {"created", row.created}};
    if (data.contains("payload")) item["payload"] = data["payload"];
    out.push_back(std::move(item));
  }
  return Answer(std::move(out));
}

Reply AuthorizationServer::DeviceDecide(std::string_view device_session,
                                        std::string_view request_id, const json& body) {
  if (!body.is_object() || !body.contains("decision") || !body["decision"].is_string()) {
    return Error(StatusCode::kInvalidArgument, "invalid_request",
                 "the body is {\"decision\", \"sig\", \"result\"?}");
  }
  const std::string decision = body["decision"];
  if (decision != "approve" && decision != "deny")
    return Error(StatusCode::kInvalidArgument, "invalid_request", "decision is approve or deny");
  auto sig = DecodeSig(body, "sig", 64);
  if (!sig) return Error(StatusCode::kInvalidArgument, "invalid_request", sig.error().message());

  std::string device_id, hash, kind;
  Bytes pk;
  json data;
  {
    Impl::Lock lock(*impl_);
    auto session = impl_->LiveToken(device_session, "device");
    if (!session) return InvalidToken(options_.realm, "a device session is required");
    device_id = session->subject;
    auto key = impl_->devices_->ActiveKey(device_id);
    if (!key) return InvalidToken(options_.realm, "the device was revoked");
    pk = std::move(*key);
    auto row = impl_->requests_->Get(request_id);
    if (!row) return Error(StatusCode::kNotFound, "not_found", "no such request");
    hash = row->hash;
    data = std::move(row->data);
    kind = row->kind;
  }
  // The signed decision names the container, the request and its content hash.
  const std::string statement = *jcs::Canonicalize(json{{"type", kDecisionType},
                                                        {"container", options_.issuer},
                                                        {"request", std::string(request_id)},
                                                        {"hash", hash},
                                                        {"decision", decision}});
  if (!VerifyEd25519(pk, statement, *sig)) {
    return Error(StatusCode::kUnauthenticated, "invalid_grant",
                 "the decision signature does not verify with this device's key");
  }
  // A request that asks for a signature is approved only with a valid one, by this device.
  json result;
  if (decision == "approve" && data.contains("payload") && data["payload"].contains("sign")) {
    auto checked =
        CheckSignedResult(data["payload"]["sign"], body, pk, *options_.resolver, impl_->Now());
    if (!checked) {
      if (checked.error().code() == StatusCode::kInternal) return Internal(checked.error());
      return Error(StatusCode::kInvalidArgument, "invalid_request", checked.error().message());
    }
    result = std::move(*checked);
  }

  Impl::Lock lock(*impl_);
  Reply reply;
  Status st = impl_->Tx([&]() -> Status {
    reply = impl_->RecordDecision(std::string(request_id), {kOwnerApprover}, decision,
                                  {{"method", "device"},
                                   {"device_id", device_id},
                                   {"statement", statement},
                                   {"sig", Base64UrlEncode(*sig)}});
    if (reply.ok() && !result.is_null()) {
      MDL_ASSIGN_OR_RETURN(RequestRow decided, impl_->requests_->Get(request_id));
      decided.data["result"] = result;
      MDL_RETURN_IF_ERROR(impl_->requests_->PutData(request_id, decided.data));
    }
    return Status::Ok();
  });
  if (!st.ok()) return Internal(st);
  (void)MaybeAnchorLocked(false);
  return reply;
}

Result<std::string> AuthorizationServer::QueueApproval(const std::string& kind, const json& summary,
                                                       const json& payload) {
  if (kind != kRequestPrescriptionCosign && kind != kRequestFill && kind != kRequestRecovery &&
      kind != kRequestConsent && kind != kRequestBrowserSignIn) {
    return Status::InvalidArgument("unknown request kind '" + kind + "'");
  }
  if (!summary.is_object() && !summary.is_null())
    return Status::InvalidArgument("'summary' must be an object");
  if (!payload.is_object()) return Status::InvalidArgument("'payload' must be an object");
  if (payload.contains("sign")) MDL_RETURN_IF_ERROR(CheckSignRequest(payload["sign"]));
  Impl::Lock lock(*impl_);
  const std::string id = impl_->NewId();
  json s = summary;
  s["id"] = id;
  s["kind"] = kind;
  s["approvers"] = {kOwnerApprover};
  s["created"] = impl_->Now();
  if (payload.contains("sign"))
    s["sign"] = payload["sign"];  // what is signed is part of what is approved
  MDL_ASSIGN_OR_RETURN(std::string canonical, jcs::Canonicalize(s));
  const std::string hash = HexHash(canonical);
  MDL_RETURN_IF_ERROR(impl_->Tx([&]() -> Status {
    Status inserted = impl_->requests_->Insert(
        id, kind, hash, json({{"summary", s}, {"approvals", json::object()}, {"payload", payload}}),
        impl_->Now());
    if (!inserted.ok()) return inserted;
    return impl_->Log(
        {{"event", "approval.queued"}, {"request", id}, {"kind", kind}, {"request_hash", hash}});
  }));
  return id;
}

Result<json> AuthorizationServer::GetRequest(std::string_view request_id) {
  Impl::Lock lock(*impl_);
  auto row = impl_->requests_->Get(request_id);
  if (!row) return row.error();
  json& data = row->data;
  json out = {{"id", std::string(request_id)}, {"hash", row->hash},
              {"status", row->status},         {"kind", row->kind},
              {"summary", data["summary"]},    {"approvals", data["approvals"]}};
  if (data.contains("result")) out["result"] = data["result"];
  return out;
}

}  // namespace medallion::uma
