// The owner's credential store (inbox and her own) and her notification feed.
#include "as_internal.h"
#include "medallion/claims/pharmacy.h"
#include "medallion/claims/sd_jwt.h"

namespace medallion::uma {
namespace {

// Which log events are notifications, and their public names.
std::string NotificationType(const json& e) {
  const std::string ev = e.value("event", "");
  if (ev == "approval.queued") return "request_awaiting_approval";
  if (ev == "decision" && e.value("outcome", "") == "request_submitted")
    return "request_awaiting_approval";
  if (ev == "release") return "new_disclosure";
  if (ev == "credential.received") {
    const std::string types = e.value("types", json::array()).dump();
    return types.find("PrescriptionCredential") != std::string::npos ? "new_prescription"
                                                                     : "new_credential";
  }
  if (ev.rfind("relationship.", 0) == 0) return "relationship";
  if (ev == "device.paired") return "new_device";
  return "";
}

}  // namespace

namespace {
constexpr size_t kMaxCopyBytes = 64 * 1024;
constexpr size_t kMaxCosignatureBytes = 8 * 1024;
constexpr size_t kMaxNoticesUrl = 512;

// An absolute http(s) URL with a host, no user info, no fragment, printable ASCII only.
bool IsNoticesUrl(const std::string& url) {
  if (url.size() > kMaxNoticesUrl) return false;
  size_t rest = 0;
  if (url.rfind("https://", 0) == 0) rest = 8;
  else if (url.rfind("http://", 0) == 0) rest = 7;
  else return false;
  const size_t host_end = url.find('/', rest);
  const std::string authority = url.substr(rest, host_end == std::string::npos ? std::string::npos
                                                                                : host_end - rest);
  if (authority.empty() || authority.find('@') != std::string::npos) return false;
  return std::all_of(url.begin(), url.end(),
                     [](char c) { return c > 0x20 && c < 0x7f && c != '#'; });
}
}  // namespace

Reply AuthorizationServer::DeliverCredential(const json& body) {
  // A prescription with its pharmacy copy and/or where its prescriber takes notices:
  // {"credential", "pharmacy_copy"?, "notices"?}.
  if (body.is_object() && (body.contains("pharmacy_copy") || body.contains("notices"))) {
    for (const auto& [key, value] : body.items()) {
      if (key != "credential" && key != "pharmacy_copy" && key != "notices") {
        return Error(StatusCode::kInvalidArgument, "invalid_request",
                     "unknown member '" + key.substr(0, 64) + "' beside a delivered credential");
      }
    }
    std::string notices;
    if (body.contains("notices")) {
      const json& n = body["notices"];
      if (!n.is_string() || !IsNoticesUrl(n.get_ref<const std::string&>())) {
        return Error(StatusCode::kInvalidArgument, "invalid_request",
                     "'notices' must be an http(s) URL of at most 512 bytes");
      }
      const json& types = MemberOr(MemberOr(body, "credential"), "type");
      if (!types.is_array() ||
          std::find(types.begin(), types.end(), "PrescriptionCredential") == types.end()) {
        return Error(StatusCode::kInvalidArgument, "invalid_request",
                     "only a PrescriptionCredential comes with a notices address");
      }
      notices = n.get<std::string>();
    }
    return StoreCredentialFrom("inbox", MemberOr(body, "credential"),
                               MemberOr(body, "pharmacy_copy"), notices);
  }
  return StoreCredentialFrom("inbox", body, json(), "");
}

Status AuthorizationServer::CheckPharmacyCopy(const json& prescription, const json& copy) {
  auto bad = [](const std::string& why) {
    return Status::InvalidArgument("pharmacy_copy: " + why);
  };
  if (!copy.is_object()) return bad("must be {\"sd_jwt\", \"cosignature\"?}");
  for (const auto& [key, value] : copy.items()) {
    if (key != "sd_jwt" && key != "cosignature")
      return bad("unknown member '" + key.substr(0, 64) + "'");
  }
  const json& sd = MemberOr(copy, "sd_jwt");
  if (!sd.is_string() || sd.get_ref<const std::string&>().empty() ||
      sd.get_ref<const std::string&>().size() > kMaxCopyBytes) {
    return bad("'sd_jwt' must be an SD-JWT VC of at most 64 KiB");
  }
  if (copy.contains("cosignature") &&
      (!copy["cosignature"].is_string() ||
       copy["cosignature"].get_ref<const std::string&>().size() > kMaxCosignatureBytes)) {
    return bad("'cosignature' must be a did-auth+jwt");
  }
  const json& types = MemberOr(prescription, "type");
  if (!types.is_array() ||
      std::find(types.begin(), types.end(), "PrescriptionCredential") == types.end()) {
    return bad("only a PrescriptionCredential has a pharmacy copy");
  }
  claims::SdJwtVerifyOptions vo;
  vo.require_key_binding = false;  // bound at each presentation, by her pairwise key
  vo.expected_vct = claims::kPrescriptionVct;
  vo.max_clock_skew_seconds = options_.max_clock_skew;
  auto verified = claims::VerifySdJwt(sd.get_ref<const std::string&>(), *options_.resolver, vo,
                                      *impl_->env_.clock);
  if (!verified) return bad(verified.error().message());
  auto payload = ParseJson(verified->payload_json, JsonLimits{kMaxCopyBytes, 64});
  if (!payload || !payload->is_object()) return bad("its payload is not a JSON object");
  if (verified->issuer != claims::IssuerOf(prescription))
    return bad("issued by someone other than the prescription's issuer");
  if (StringOr(*payload, "jti") != StringOr(prescription, "id"))
    return bad("not the copy of this prescription (jti)");
  if (StringOr(*payload, "sub") != options_.owner_did)
    return bad("its subject is not this container's owner");
  return Status::Ok();
}

Reply AuthorizationServer::StoreCredential(std::string_view session, const json& credential) {
  {
    Impl::Lock lock(*impl_);
    if (!impl_->LiveToken(session, "session"))
      return InvalidToken(options_.realm, "the owner's session is required (sign in)");
  }
  // An SD-JWT VC her wallet took over OpenID4VCI (`medallion oid4vci accept --container`):
  // {"format": "dc+sd-jwt", "credential": "<issuer-signed JWT>~<disclosures>~"}.
  if (credential.is_object() && StringOr(credential, "format") == claims::kSdJwtVcTyp)
    return StoreSdJwtVc(credential);
  return StoreCredentialFrom("owner", credential, json(), "");
}

// Kept as the JSON string of the SD-JWT (every disclosure, so that she can present any subset),
// under the hex SHA-256 of that string, with `iss` as its issuer and `vct` as its type — after
// the issuer's signature and the disclosures verify (RFC 9901 §7.1; no key binding: she binds it
// at each presentation).
Reply AuthorizationServer::StoreSdJwtVc(const json& body) {
  for (const auto& [key, value] : body.items()) {
    if (key != "format" && key != "credential")
      return Error(StatusCode::kInvalidArgument, "invalid_request",
                   "unknown member '" + key.substr(0, 64) + "' beside an SD-JWT VC");
  }
  const json& sd = MemberOr(body, "credential");
  if (!sd.is_string() || sd.get_ref<const std::string&>().empty() ||
      sd.get_ref<const std::string&>().size() > kMaxCopyBytes)
    return Error(StatusCode::kInvalidArgument, "invalid_request",
                 "'credential' must be an SD-JWT VC of at most 64 KiB");
  const std::string& text = sd.get_ref<const std::string&>();
  if (!text.ends_with("~"))  // an SD-JWT as issued, not a presentation with a KB-JWT
    return Error(StatusCode::kInvalidArgument, "invalid_credential",
                 "an issued SD-JWT VC ends with '~' (no key binding JWT)");
  claims::SdJwtVerifyOptions vo;
  vo.require_key_binding = false;
  vo.max_clock_skew_seconds = options_.max_clock_skew;
  auto verified = claims::VerifySdJwt(text, *options_.resolver, vo, *impl_->env_.clock);
  if (!verified)
    return Error(StatusCode::kInvalidArgument, "invalid_credential", verified.error().message());
  const std::string id = HexEncode(Sha256(AsBytes(text)));
  const json types = json::array({verified->vct});
  const int64_t now = impl_->Now();
  Impl::Lock lock(*impl_);
  Status st = impl_->Tx([&]() -> Status {
    MDL_ASSIGN_OR_RETURN(bool added, impl_->credentials_->Add({id, json(text), verified->issuer,
                                                               types, "owner", now, json(), ""}));
    if (!added) return Status::Ok();
    return impl_->Log({{"event", "credential.stored"},
                       {"credential", id},
                       {"issuer", verified->issuer},
                       {"types", types}});
  });
  if (!st.ok()) return Internal(st);
  return Created({{"id", id}});
}

Reply AuthorizationServer::StoreCredentialFrom(const std::string& source, const json& credential,
                                               const json& pharmacy_copy,
                                               const std::string& notices) {
  if (!credential.is_object())
    return Error(StatusCode::kInvalidArgument, "invalid_request", "a credential is a JSON object");
  const int64_t now = impl_->Now();
  if (Status st = claims::CheckCredential(credential, 0); !st.ok())
    return Error(StatusCode::kInvalidArgument, "invalid_credential", st.message());
  // The inbox takes only what is addressed to the owner.
  const json& subject = MemberOr(credential, "credentialSubject");
  if (source == "inbox" &&
      (!subject.is_object() || StringOr(subject, "id") != options_.owner_did)) {
    return Error(StatusCode::kInvalidArgument, "invalid_credential",
                 "the credential's subject is not this container's owner");
  }
  claims::ProofCheckOptions po;
  po.now = now;
  po.max_clock_skew = options_.max_clock_skew;
  auto proofs = claims::VerifyProofs(credential, *options_.resolver, po);
  if (!proofs)
    return Error(StatusCode::kInvalidArgument, "invalid_credential", proofs.error().message());
  const std::string issuer = claims::IssuerOf(credential);
  if (std::none_of(proofs->begin(), proofs->end(),
                   [&](const auto& p) { return p.controller == issuer; })) {
    return Error(StatusCode::kInvalidArgument, "invalid_credential", "no proof by the issuer");
  }
  if (!pharmacy_copy.is_null()) {
    if (Status st = CheckPharmacyCopy(credential, pharmacy_copy); !st.ok())
      return Error(StatusCode::kInvalidArgument, "invalid_credential", st.message());
  }
  auto digest = claims::CredentialDigest(credential);
  if (!digest)
    return Error(StatusCode::kInvalidArgument, "invalid_credential", digest.error().message());
  const std::string id = HexEncode(*digest);
  const json& type =
      MemberOr(credential, "type");  // CheckCredential: present, a string or an array
  json types = type.is_array() ? type : json::array({type});
  Impl::Lock lock(*impl_);
  Status st = impl_->Tx([&]() -> Status {
    MDL_ASSIGN_OR_RETURN(bool added, impl_->credentials_->Add({id, credential, issuer, types,
                                                               source, now, pharmacy_copy,
                                                               notices}));
    if (!added) return Status::Ok();  // already kept
    return impl_->Log({{"event", source == "inbox" ? "credential.received" : "credential.stored"},
                       {"credential", id},
                       {"issuer", issuer},
                       {"types", types}});
  });
  if (!st.ok()) return Internal(st);
  return Created({{"id", id}});
}

Reply AuthorizationServer::ListCredentials(std::string_view session) {
  Impl::Lock lock(*impl_);
  if (!impl_->LiveToken(session, "session"))
    return InvalidToken(options_.realm, "the owner's session is required (sign in)");
  auto kept = impl_->credentials_->List();
  if (!kept) return Internal(kept.error());
  json out = json::array();
  for (CredentialRow& c : *kept) {
    out.push_back({{"id", c.id},
                   {"credential", std::move(c.vc)},
                   {"issuer", c.issuer},
                   {"types", std::move(c.types)},
                   {"source", c.source},
                   {"received", c.received}});
    if (out.back()["credential"].is_string()) out.back()["format"] = std::string(claims::kSdJwtVcTyp);
    if (!c.pharmacy_copy.is_null()) out.back()["pharmacy_copy"] = std::move(c.pharmacy_copy);
    if (!c.notices.empty()) out.back()["notices"] = std::move(c.notices);
  }
  return Answer(std::move(out));
}

Reply AuthorizationServer::Events(std::string_view session, uint64_t after_seq, int wait_seconds) {
  std::unique_lock<std::mutex> lock(impl_->mu_);
  if (!impl_->LiveToken(session, "session"))
    return InvalidToken(options_.realm, "the owner's session is required (sign in)");
  wait_seconds = std::clamp(wait_seconds, 0, 30);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait_seconds);
  for (;;) {
    // Only committed entries are announced (the open group's may still be lost).
    if (impl_->batch_open_ && impl_->batch_writes_ > 0) (void)impl_->AwaitGroup(impl_->batch_seq_);
    json events = json::array();
    uint64_t next = after_seq;
    auto read = impl_->log_->Read(static_cast<int64_t>(after_seq), 500);
    if (!read) return Internal(read.error());
    for (LogEntry& e : *read) {
      next = static_cast<uint64_t>(e.seq);
      const std::string type = NotificationType(e.entry);
      if (type.empty()) continue;
      json detail = std::move(e.entry);
      for (const char* k : {"prev", "seq"}) detail.erase(k);
      events.push_back({{"seq", next}, {"type", type}, {"detail", detail}});
    }
    if (!events.empty() || std::chrono::steady_clock::now() >= deadline) {
      return Answer({{"events", events}, {"next", next}});
    }
    after_seq = next;
    impl_->log_grew_.wait_until(lock, deadline);
  }
}

}  // namespace medallion::uma
