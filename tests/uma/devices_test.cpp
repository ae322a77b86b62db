// The owner's devices in process: pairing (and each refusal), device sessions, approvals from
// the phone with signed results, revocation, and the consent flow decided on the phone.
#include <catch2/catch.hpp>

#include <thread>

#include "medallion/claims/credentials.h"
#include "medallion/claims/data_integrity.h"
#include "medallion/claims/pharmacy.h"
#include "medallion/core/encoding.h"
#include "uma/reply_http.h"
#include "uma/uma_world.h"

using namespace medallion;
using namespace medallion::uma;
using medallion::testing::DeviceSig;
using medallion::testing::Http;
using medallion::testing::PairingProof;
using medallion::testing::UmaKey;
using medallion::testing::UmaWorld;
using nlohmann::json;

namespace {

constexpr char kOwnerDid[] = "did:example:owner";

struct Phone {
  UmaWorld& w;
  UmaKey key;
  std::string device_id, session;
  Phone(UmaWorld& world, uint8_t seed) : w(world), key(seed) {}
  Reply Pair(const json& offer) {
    Reply r =
        w.as->CompletePairing(PairingProof(w.issuer, offer["pairing_id"], offer["secret"], key));
    if (Http(r) == 201) device_id = r.body["device_id"];
    return r;
  }
  Reply SignIn() {
    std::string nonce = w.as->OwnerChallenge().body["nonce"];
    Reply r = w.as->DeviceSignIn({{"device_id", device_id},
                                  {"nonce", nonce},
                                  {"sig", DeviceSig(key, {{"type", "medallion-device-session/1"},
                                                          {"container", w.issuer},
                                                          {"device_id", device_id},
                                                          {"nonce", nonce}})}});
    if (r.ok()) session = r.body["access_token"];
    return r;
  }
  json Decision(const std::string& id, const std::string& hash, const std::string& decision) const {
    return {{"decision", decision},
            {"sig", DeviceSig(key, {{"type", "medallion-decision/1"},
                                    {"container", w.issuer},
                                    {"request", id},
                                    {"hash", hash},
                                    {"decision", decision}})}};
  }
};

// A world whose owner publishes paired device keys on did:example:owner (the hook).
struct DeviceWorld {
  UmaWorld w{"uma-devices"};
  std::string session;
  DeviceWorld() {
    w.device_key_hook = [this](ByteView key, bool add) -> Status {
      if (add) {
        w.example->Add(kOwnerDid, Bytes(key.begin(), key.end()));
      } else {
        w.example->Remove(kOwnerDid, key);
      }
      return Status::Ok();
    };
    w.Open();
    session = w.OwnerSession();
  }
  json Offer() {
    Reply r = w.as->CreatePairing(session);
    REQUIRE(Http(r) == 201);
    return r.body;
  }
};

}  // namespace

TEST_CASE("pairing: the offer, the proof, and every refusal", "[uma][devices]") {
  DeviceWorld d;
  UmaWorld& w = d.w;
  json offer = d.Offer();
  CHECK(offer["uri"].get<std::string>().rfind(
            "medallion-pair://v1?url=https%3A%2F%2Fpatient.example&id=", 0) == 0);
  CHECK(Http(w.as->CreatePairing("not-a-session")) == 401);

  Phone phone(w, 30), thief(w, 31);
  // A guessed secret, and a proof by a key other than the one named, are refused and counted.
  json guessed = PairingProof(w.issuer, offer["pairing_id"], "guessed-secret", phone.key);
  CHECK(w.as->CompletePairing(guessed).body["error_description"] == "the pairing proof is wrong");
  json forged = PairingProof(w.issuer, offer["pairing_id"], offer["secret"], phone.key);
  forged["sig"] = PairingProof(w.issuer, offer["pairing_id"], offer["secret"], thief.key)["sig"];
  CHECK(w.as->CompletePairing(forged).body["error_description"] ==
        "the device signature does not verify");
  // The transcript binds the container: a proof made for another container fails.
  json elsewhere =
      PairingProof("https://other.example", offer["pairing_id"], offer["secret"], phone.key);
  CHECK(Http(w.as->CompletePairing(elsewhere)) == 400);

  REQUIRE(Http(phone.Pair(offer)) == 201);
  CHECK(w.example->Resolve(kOwnerDid, {}).document->verification_methods.size() ==
        1);  // published on the DID
  // Reused.
  Phone second(w, 32);
  CHECK(second.Pair(offer).body["error_description"] ==
        "the pairing offer was already used or burned");

  // Expired.
  json late = d.Offer();
  w.Advance(301);
  CHECK(second.Pair(late).body["error_description"] == "the pairing offer has expired");
  // Burned after five wrong proofs, even with the right secret afterwards.
  d.session = w.OwnerSession();
  json burned = d.Offer();
  for (int i = 0; i < 5; ++i)
    w.as->CompletePairing(
        PairingProof(w.issuer, burned["pairing_id"], "guess-" + std::to_string(i), second.key));
  CHECK(Http(second.Pair(burned)) == 400);
  // Malformed input.
  CHECK(Http(w.as->CompletePairing(json::array())) == 400);
  CHECK(Http(w.as->CompletePairing({{"pairing_id", "x"},
                                    {"device_key", "nope"},
                                    {"device_name", "n"},
                                    {"mac", "AA"},
                                    {"sig", "AA"}})) == 400);
  CHECK(w.as->CompletePairing({{"pairing_id", "unknown"},
                               {"device_key", second.key.Multikey()},
                               {"device_name", "n"},
                               {"mac", Base64UrlEncode(Bytes(32))},
                               {"sig", Base64UrlEncode(Bytes(64))}})
            .body["error_description"] == "unknown pairing");

  Reply devices = w.as->ListDevices(d.session);
  REQUIRE(devices.body.size() == 1);
  CHECK(devices.body[0]["device_key"] == phone.key.Multikey());
}

TEST_CASE("the phone decides: signed decisions, co-signatures, revocation", "[uma][devices]") {
  DeviceWorld d;
  UmaWorld& w = d.w;
  Phone phone(w, 40);
  REQUIRE(Http(phone.Pair(d.Offer())) == 201);
  CHECK(Http(w.as->DeviceRequests("")) == 401);
  REQUIRE(phone.SignIn().ok());
  // A session needs a live challenge and the device's key.
  Phone impostor(w, 41);
  impostor.device_id = phone.device_id;
  CHECK(Http(impostor.SignIn()) == 401);

  const std::string vm = std::string(kOwnerDid) + "#" + phone.key.Multikey();
  const json credential = {{"@context", {claims::kVcContextV2}},
                           {"type", {"VerifiableCredential"}},
                           {"issuer", kOwnerDid},
                           {"credentialSubject", {{"id", "did:example:patient"}}}};
  auto cosign = w.as->QueueApproval(
      kRequestPrescriptionCosign, {{"text", "Co-sign"}},
      {{"sign",
        {{"format", "data_integrity"}, {"verification_method", vm}, {"document", credential}}}});
  auto fill = w.as->QueueApproval(
      kRequestFill, {{"text", "Fill"}},
      {{"sign",
        {{"format", "did-auth+jwt"},
         {"verification_method", vm},
         {"claims", {{"aud", "https://pharmacy.example"}, {"prescription", "abc"}}}}}});
  auto recovery = w.as->QueueApproval(kRequestRecovery, {{"text", "Recover"}}, json::object());
  REQUIRE((cosign && fill && recovery));
  CHECK_FALSE(w.as->QueueApproval("party", json::object(), json::object()));
  // Wrong-typed members of the owner's request are refused by name, never thrown.
  auto array_summary = w.as->QueueApproval(kRequestFill, json::array({1}), json::object());
  REQUIRE_FALSE(array_summary);
  CHECK(array_summary.error().message() == "'summary' must be an object");
  auto text_sign = w.as->QueueApproval(kRequestFill, json::object(), {{"sign", "x"}});
  REQUIRE_FALSE(text_sign);
  CHECK(text_sign.error().message() == "'payload.sign' must be an object");
  CHECK_FALSE(w.as->QueueApproval(kRequestFill, json::object(), json::array()));

  Reply pending = w.as->DeviceRequests(phone.session);
  REQUIRE(pending.body.size() == 3);
  std::map<std::string, std::string> hash;
  for (const json& r : pending.body) hash[r["id"]] = r["hash"];

  // The co-signature: without the signed document, with a tampered one, or signed by another
  // key, it is refused; with the device's proof it is approved and kept.
  json no_result = phone.Decision(*cosign, hash[*cosign], "approve");
  CHECK(w.as->DeviceDecide(phone.session, *cosign, no_result).body["error_description"] ==
        "this request needs the signed result");
  claims::ProofOptions po;
  po.created = did::XmlDateTime(w.Now());
  claims::Signer device_signer = phone.key.Signer();
  device_signer.verification_method = vm;
  json signed_doc = *claims::AddProof(credential, device_signer, po);
  json tampered = signed_doc;
  tampered["credentialSubject"]["id"] = "did:example:mallory";
  json with = no_result;
  with["result"] = tampered;
  CHECK(Http(w.as->DeviceDecide(phone.session, *cosign, with)) == 400);
  claims::Signer other = impostor.key.Signer();
  other.verification_method = vm;
  with["result"] = *claims::AddProof(credential, other, po);
  CHECK(Http(w.as->DeviceDecide(phone.session, *cosign, with)) == 400);
  // A decision signed by another key, or over another hash, is refused.
  json wrong_sig = impostor.Decision(*cosign, hash[*cosign], "approve");
  wrong_sig["result"] = signed_doc;
  CHECK(Http(w.as->DeviceDecide(phone.session, *cosign, wrong_sig)) == 401);
  json wrong_hash = phone.Decision(*cosign, std::string(64, '0'), "approve");
  wrong_hash["result"] = signed_doc;
  CHECK(Http(w.as->DeviceDecide(phone.session, *cosign, wrong_hash)) == 401);
  with["result"] = signed_doc;
  Reply ok = w.as->DeviceDecide(phone.session, *cosign, with);
  INFO(ok.body.dump());
  REQUIRE(Http(ok) == 200);
  CHECK(ok.body["status"] == "approved");
  auto state = w.as->GetRequest(*cosign);
  REQUIRE(state);
  CHECK((*state)["result"] == signed_doc);
  CHECK((*state)["approvals"]["owner"]["evidence"]["method"] == "device");

  // The fill authorization: a did-auth+jwt by the device's method with the requested claims.
  json fill_decision = phone.Decision(*fill, hash[*fill], "approve");
  claims::JwtSignOptions jo;
  jo.issued_at = w.Now();
  jo.expires = w.Now() + 300;
  jo.audience = "https://pharmacy.example";
  fill_decision["result"] = *claims::SignJwt(
      claims::JwtKind::kDidAuth, {{"sub", kOwnerDid}, {"prescription", "xyz"}}, device_signer, jo);
  CHECK(w.as->DeviceDecide(phone.session, *fill, fill_decision).body["error_description"] ==
        "the token's claim prescription differs");
  fill_decision["result"] = *claims::SignJwt(
      claims::JwtKind::kDidAuth, {{"sub", kOwnerDid}, {"prescription", "abc"}}, device_signer, jo);
  CHECK(w.as->DeviceDecide(phone.session, *fill, fill_decision).body["status"] == "approved");

  // Deny needs no result.
  CHECK(w.as->DeviceDecide(phone.session, *recovery,
                           phone.Decision(*recovery, hash[*recovery], "deny"))
            .body["status"] == "denied");
  CHECK(w.as->DeviceRequests(phone.session).body.empty());

  // A lost phone: revoked by the owner, its key leaves the DID, its session ends.
  REQUIRE(Http(w.as->RevokeDevice(d.session, phone.device_id)) == 200);
  CHECK(w.example->Resolve(kOwnerDid, {}).document->verification_methods.empty());
  CHECK(Http(w.as->DeviceRequests(phone.session)) == 401);
  CHECK(Http(phone.SignIn()) == 401);
  CHECK(Http(w.as->RevokeDevice(d.session, phone.device_id)) == 404);
  // A new phone pairs and takes over.
  Phone replacement(w, 42);
  REQUIRE(Http(replacement.Pair(d.Offer())) == 201);
  REQUIRE(replacement.SignIn().ok());
}

TEST_CASE("a consent request awaiting the owner is decided on the phone", "[uma][devices]") {
  DeviceWorld d;
  UmaWorld& w = d.w;
  Phone phone(w, 50);
  REQUIRE(Http(phone.Pair(d.Offer())) == 201);
  REQUIRE(phone.SignIn().ok());
  std::string pat = *w.as->InternalPat("fhir");
  Reply res = w.as->CreateResource(
      pat, {{"name", "Allergies"},
            {"type", "http://hl7.org/fhir/StructureDefinition/AllergyIntolerance"},
            {"resource_scopes", {"read"}}});
  REQUIRE(w.as->AddPolicy(d.session, {{"effect", "permit"},
                                      {"subjects", {{{"did", w.physician.Did()}}}},
                                      {"resource_types", {"AllergyIntolerance"}},
                                      {"purposes", {"treatment"}},
                                      {"owner_approval", true}})
              .ok());
  Reply client = w.as->RegisterClient({{"client_name", "dr"}}, "");
  ClientCredentials cc{client.body["client_id"], client.body["client_secret"]};
  std::string t = w.as->RequestPermission(
                          pat, {{"resource_id", res.body["_id"]}, {"resource_scopes", {"read"}}})
                      .body["ticket"];
  t = w.as->Token({{"grant_type", kUmaTicketGrant}, {"ticket", t}}, cc).body["ticket"];
  Reply submitted = w.as->Token({{"grant_type", kUmaTicketGrant},
                                 {"ticket", t},
                                 {"claim_token", w.DidAuth(w.physician, t)},
                                 {"claim_token_format", kClaimTokenDidAuth}},
                                cc);
  REQUIRE(submitted.body["error"] == "request_submitted");
  Reply pending = w.as->DeviceRequests(phone.session);
  REQUIRE(pending.body.size() == 1);
  CHECK(pending.body[0]["kind"] == "consent");
  CHECK(pending.body[0]["summary"]["requesting_party"] == w.physician.Did());
  const std::string id = pending.body[0]["id"];
  CHECK(
      w.as->DeviceDecide(phone.session, id, phone.Decision(id, pending.body[0]["hash"], "approve"))
          .body["status"] == "approved");
  Reply granted =
      w.as->Token({{"grant_type", kUmaTicketGrant}, {"ticket", submitted.body["ticket"]}}, cc);
  CHECK(Http(granted) == 200);
}

namespace {
// A prescription for the owner by `by` (a did:key physician), signed, and its pharmacy copy.
struct RxWithCopy {
  json rx;
  std::string copy;
};
RxWithCopy PrescriptionWithCopy(UmaWorld& w, const UmaKey& by, const std::string& patient_did,
                                const std::string& id) {
  json license = w.License(by);
  json request = {
      {"resourceType", "MedicationRequest"},
      {"status", "active"},
      {"intent", "order"},
      {"medicationCodeableConcept",
       {{"coding",
         {{{"system", "http://www.nlm.nih.gov/research/umls/rxnorm"}, {"code", "1049502"}}}}}},
      {"subject", {{"reference", "Patient/p1"}}},
      {"requester", {{"reference", "Practitioner/dr1"}}},
      {"authoredOn", "2026-09-21"},
      {"dosageInstruction", {{{"text", "1 tablet every 6 hours as needed"}}}},
      {"dispenseRequest",
       {{"quantity", {{"value", 20}, {"unit", "tablet"}}}, {"numberOfRepeatsAllowed", 1}}}};
  claims::PrescriptionClaims c{
      patient_did,           by.Did(), &request, "", &license, "2026-09-20T00:00:00Z",
      "2027-03-20T00:00:00Z"};
  auto vc = claims::BuildPrescriptionCredential(id, c);
  REQUIRE(vc);
  claims::ProofOptions o;
  o.created = did::XmlDateTime(w.Now() - 60);
  json rx = *claims::AddProof(*vc, by.Signer(), o);
  auto copy = claims::IssuePrescriptionSdJwt(rx, by.Signer(), Base64UrlEncode(w.provider.pk),
                                             w.Now() + 86400, w.env);
  REQUIRE(copy);
  return {rx, *copy};
}
}  // namespace

TEST_CASE("a prescription delivered with its pharmacy copy keeps the copy; a wrong copy is refused",
          "[uma][inbox][pharmacy-copy]") {
  UmaWorld w;
  const std::string session = w.OwnerSession();
  RxWithCopy a = PrescriptionWithCopy(w, w.physician, w.patient.Did(), "urn:uuid:rx-a");
  RxWithCopy b = PrescriptionWithCopy(w, w.physician, w.patient.Did(), "urn:uuid:rx-b");
  RxWithCopy theirs = PrescriptionWithCopy(w, w.physician, w.stranger.Did(), "urn:uuid:rx-a");
  RxWithCopy forged = PrescriptionWithCopy(w, w.stranger, w.patient.Did(), "urn:uuid:rx-a");
  auto deliver = [&](const json& rx, json copy) {
    return w.as->DeliverCredential({{"credential", rx}, {"pharmacy_copy", std::move(copy)}});
  };
  auto count = [&]() { return w.as->ListCredentials(session).body.size(); };
  // Refused, and nothing kept: another prescription's copy (jti), a copy about someone else, a
  // copy by another issuer, a tampered copy, wrong shapes and unknown members.
  CHECK(deliver(a.rx, {{"sd_jwt", b.copy}}).body["error_description"] ==
        "pharmacy_copy: not the copy of this prescription (jti)");
  CHECK(deliver(a.rx, {{"sd_jwt", theirs.copy}}).body["error_description"] ==
        "pharmacy_copy: its subject is not this container's owner");
  CHECK(deliver(a.rx, {{"sd_jwt", forged.copy}}).body["error_description"] ==
        "pharmacy_copy: issued by someone other than the prescription's issuer");
  std::string tampered = a.copy;
  tampered[tampered.find('.') + 5] ^= 1;
  CHECK(Http(deliver(a.rx, {{"sd_jwt", tampered}})) == 400);
  CHECK(Http(deliver(a.rx, {{"sd_jwt", 7}})) == 400);
  CHECK(Http(deliver(a.rx, "text")) == 400);
  CHECK(Http(deliver(a.rx, {{"sd_jwt", a.copy}, {"surprise", 1}})) == 400);
  CHECK(Http(deliver(a.rx, {{"sd_jwt", a.copy}, {"cosignature", 5}})) == 400);
  CHECK(Http(w.as->DeliverCredential(
            {{"credential", a.rx}, {"pharmacy_copy", {{"sd_jwt", a.copy}}}, {"extra", 1}})) == 400);
  CHECK(Http(deliver(w.License(w.patient, "urn:uuid:lic"), {{"sd_jwt", a.copy}})) == 400);
  CHECK(count() == 0);

  // The right copy is kept with its prescription and listed with it.
  Reply ok = deliver(a.rx, {{"sd_jwt", a.copy}, {"cosignature", "x.y.z"}});
  INFO(ok.body.dump());
  REQUIRE(Http(ok) == 201);
  Reply list = w.as->ListCredentials(session);
  REQUIRE(list.body.size() == 1);
  CHECK(list.body[0]["pharmacy_copy"] == json({{"sd_jwt", a.copy}, {"cosignature", "x.y.z"}}));
  // A prescription delivered alone first takes its copy when it comes; a kept copy stays.
  auto kept = [&](const std::string& sess, const std::string& rx_id) {
    for (const json& item : w.as->ListCredentials(sess).body) {
      if (item["credential"]["id"] == rx_id) return item;
    }
    return json();
  };
  REQUIRE(Http(w.as->DeliverCredential(b.rx)) == 201);
  CHECK_FALSE(kept(session, "urn:uuid:rx-b").contains("pharmacy_copy"));
  REQUIRE(Http(deliver(b.rx, {{"sd_jwt", b.copy}})) == 201);
  CHECK(kept(session, "urn:uuid:rx-b")["pharmacy_copy"]["sd_jwt"] == b.copy);
  REQUIRE(Http(deliver(a.rx, {{"sd_jwt", a.copy}})) == 201);
  CHECK(kept(session, "urn:uuid:rx-a")["pharmacy_copy"]["cosignature"] == "x.y.z");
  // After a restart, the copies are still there (the column survives the reopen).
  w.Open();
  const std::string again = w.OwnerSession();
  CHECK(kept(again, "urn:uuid:rx-a")["pharmacy_copy"]["sd_jwt"] == a.copy);
}

TEST_CASE("a prescription may name where its prescriber takes notices; a bad address is refused",
          "[uma][inbox][notices]") {
  UmaWorld w;
  const std::string session = w.OwnerSession();
  RxWithCopy a = PrescriptionWithCopy(w, w.physician, w.patient.Did(), "urn:uuid:rx-a");
  auto deliver = [&](const json& rx, json notices) {
    return w.as->DeliverCredential({{"credential", rx}, {"notices", std::move(notices)}});
  };
  for (const json& bad : {json(7), json("ftp://dr.example/rx/v1/notices"), json("https://"),
                          json("https://user@dr.example/n"), json("https://dr.example/n#x"),
                          json("https://dr.example/a b"), json("https://dr.example/" +
                                                                std::string(600, 'a'))}) {
    INFO(bad.dump());
    CHECK(Http(deliver(a.rx, bad)) == 400);
  }
  // Only a prescription names a notices address.
  CHECK(Http(deliver(w.License(w.patient, "urn:uuid:lic"), "https://dr.example/rx/v1/notices")) ==
        400);
  CHECK(w.as->ListCredentials(session).body.empty());
  REQUIRE(Http(deliver(a.rx, "https://dr.example/rx/v1/notices")) == 201);
  // Delivered again with its copy: the address stays, the copy is added.
  REQUIRE(Http(w.as->DeliverCredential({{"credential", a.rx},
                                        {"pharmacy_copy", {{"sd_jwt", a.copy}}},
                                        {"notices", "https://other.example/n"}})) == 201);
  w.Open();
  Reply list = w.as->ListCredentials(w.OwnerSession());
  REQUIRE(list.body.size() == 1);
  CHECK(list.body[0]["notices"] == "https://dr.example/rx/v1/notices");
  CHECK(list.body[0]["pharmacy_copy"]["sd_jwt"] == a.copy);
}

TEST_CASE("the inbox keeps only credentials for the owner; notifications wait for news",
          "[uma][inbox]") {
  UmaWorld w;
  const std::string session = w.OwnerSession();
  const json mine = w.License(w.patient, "urn:uuid:for-patient");
  const json theirs = w.License(w.physician, "urn:uuid:for-physician");
  json tampered = mine;
  tampered["credentialSubject"]["specialty"] = "Forged";
  CHECK(w.as->DeliverCredential(theirs).body["error_description"] ==
        "the credential's subject is not this container's owner");
  CHECK(Http(w.as->DeliverCredential(tampered)) == 400);
  CHECK(Http(w.as->DeliverCredential(json::array())) == 400);
  json numeric_subject = mine;
  numeric_subject["credentialSubject"]["id"] = 5;
  CHECK(Http(w.as->DeliverCredential(numeric_subject)) == 400);
  Reply first = w.as->Events(session, 0, 0);
  const uint64_t next = first.body["next"];
  REQUIRE(Http(w.as->DeliverCredential(mine)) == 201);
  CHECK(Http(w.as->DeliverCredential(mine)) == 201);  // idempotent
  Reply list = w.as->ListCredentials(session);
  REQUIRE(list.body.size() == 1);
  CHECK(list.body[0]["source"] == "inbox");
  CHECK(Http(w.as->ListCredentials("x")) == 401);
  // The owner keeps a credential about someone else (one she holds or issued) too.
  CHECK(Http(w.as->StoreCredential(session, theirs)) == 201);
  CHECK(Http(w.as->StoreCredential("x", theirs)) == 401);

  Reply events = w.as->Events(session, next, 0);
  REQUIRE(events.body["events"].size() == 1);
  CHECK(events.body["events"][0]["type"] == "new_credential");
  // Long polling: a delivery from another thread wakes the reader.
  const uint64_t after = events.body["next"];
  std::thread later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    (void)w.as->DeliverCredential(w.License(w.patient, "urn:uuid:later"));
  });
  Reply woke = w.as->Events(session, after, 10);
  later.join();
  CHECK(woke.body["events"].size() == 1);
  CHECK(Http(w.as->Events("x", 0, 0)) == 401);
}

TEST_CASE("wrong types in device bodies and queued requests are refused, never thrown",
          "[uma][devices][wrong-type]") {
  DeviceWorld d;
  UmaWorld& w = d.w;
  Phone phone(w, 50);
  REQUIRE(Http(phone.Pair(d.Offer())) == 201);
  REQUIRE(phone.SignIn().ok());

  // The phone's bodies: each member of the wrong type is a 400 invalid_request.
  const json offer = d.Offer();
  json pairing = PairingProof(w.issuer, offer["pairing_id"], offer["secret"], phone.key);
  const json bad_values[] = {json(7), json::array(), json::object(), json(nullptr), json(true)};
  for (const char* member : {"pairing_id", "device_key", "device_name", "mac", "sig"}) {
    for (const json& v : bad_values) {
      json body = pairing;
      body[member] = v;
      Reply r = w.as->CompletePairing(body);
      INFO(member << " = " << v.dump());
      CHECK(Http(r) == 400);
      CHECK(r.status.reason() == "invalid_request");
    }
  }
  for (const char* member : {"device_id", "nonce", "sig"}) {
    for (const json& v : bad_values) {
      json body = {
          {"device_id", phone.device_id}, {"nonce", "n"}, {"sig", Base64UrlEncode(Bytes(64))}};
      body[member] = v;
      INFO(member << " = " << v.dump());
      CHECK(w.as->DeviceSignIn(body).status.reason() == "invalid_request");
    }
  }

  // Queued requests: a summary, payload or sign request of the wrong type is refused when it is
  // queued (invalid_argument naming the member), so the phone's decision never meets it.
  const std::string vm = std::string(kOwnerDid) + "#" + phone.key.Multikey();
  CHECK(w.as->QueueApproval(kRequestFill, "text", json::object()).error().message() ==
        "'summary' must be an object");
  CHECK(w.as->QueueApproval(kRequestFill, json::object(), json::array()).error().message() ==
        "'payload' must be an object");
  const json bad_signs[] = {
      json("sign"),
      {{"format", 7}, {"verification_method", vm}},
      {{"format", "did-auth+jwt"}, {"verification_method", 7}},
      {{"format", "did-auth+jwt"}, {"verification_method", vm}, {"claims", "aud"}},
      {{"format", "data_integrity"}, {"verification_method", vm}},
      {{"format", "data_integrity"}, {"verification_method", vm}, {"document", "doc"}},
  };
  for (const json& sign : bad_signs) {
    auto id = w.as->QueueApproval(kRequestFill, json::object(), {{"sign", sign}});
    INFO(sign.dump());
    REQUIRE_FALSE(id);
    CHECK(id.error().code() == StatusCode::kInvalidArgument);
  }

  // The decision's members of the wrong type.
  auto fill = w.as->QueueApproval(kRequestFill, {{"text", "Fill"}},
                                  {{"sign",
                                    {{"format", "did-auth+jwt"},
                                     {"verification_method", vm},
                                     {"claims", {{"aud", "https://pharmacy.example"}}}}}});
  REQUIRE(fill);
  const std::string hash = w.as->GetRequest(*fill)->at("hash");
  for (const json& v : bad_values) {
    json decision = phone.Decision(*fill, hash, "approve");
    decision["decision"] = v;
    CHECK(w.as->DeviceDecide(phone.session, *fill, decision).status.reason() == "invalid_request");
    decision = phone.Decision(*fill, hash, "approve");
    decision["sig"] = v;
    CHECK(w.as->DeviceDecide(phone.session, *fill, decision).status.reason() == "invalid_request");
    decision = phone.Decision(*fill, hash, "approve");
    decision["result"] = v;
    CHECK(w.as->DeviceDecide(phone.session, *fill, decision).status.reason() == "invalid_request");
  }
  CHECK(w.as->GetRequest(*fill)->at("status") == "pending");
}

TEST_CASE("the owner keeps an SD-JWT VC her wallet took over OpenID4VCI, verified, and lists it",
          "[uma][inbox][sd_jwt]") {
  UmaWorld w;
  const std::string session = w.OwnerSession();
  const std::string sd = w.LicenseSdJwt(w.patient);
  const json body = {{"format", "dc+sd-jwt"}, {"credential", sd}};
  CHECK(Http(w.as->StoreCredential("x", body)) == 401);
  Reply kept = w.as->StoreCredential(session, body);
  REQUIRE(Http(kept) == 201);
  CHECK(Http(w.as->StoreCredential(session, body)) == 201);  // idempotent: one row
  Reply list = w.as->ListCredentials(session);
  REQUIRE(list.body.size() == 1);
  CHECK(list.body[0]["id"] == kept.body["id"]);
  CHECK(list.body[0]["format"] == "dc+sd-jwt");
  CHECK(list.body[0]["credential"] == sd);  // as issued, every disclosure
  CHECK(list.body[0]["issuer"] == w.society.Did());
  CHECK(list.body[0]["types"] == json::array({uma::kLicenseVct}));
  CHECK(list.body[0]["source"] == "owner");
  // Refused, nothing kept: a forged signature, a presentation (KB-JWT), an unknown member, a
  // credential that is not a string, garbage.
  std::string forged = sd;
  const size_t sig = forged.find('.', forged.find('.') + 1) + 1;
  forged[sig] = forged[sig] == 'A' ? 'B' : 'A';
  Reply r = w.as->StoreCredential(session, {{"format", "dc+sd-jwt"}, {"credential", forged}});
  CHECK(Http(r) == 400);
  CHECK(r.body["error"] == "invalid_credential");
  r = w.as->StoreCredential(session, {{"format", "dc+sd-jwt"}, {"credential", sd + "x.y.z"}});
  CHECK(Http(r) == 400);
  CHECK(r.body["error"] == "invalid_credential");
  CHECK(Http(w.as->StoreCredential(
            session, {{"format", "dc+sd-jwt"}, {"credential", sd}, {"extra", 1}})) == 400);
  CHECK(Http(w.as->StoreCredential(session, {{"format", "dc+sd-jwt"}, {"credential", 5}})) ==
        400);
  CHECK(Http(w.as->StoreCredential(session, {{"format", "dc+sd-jwt"}, {"credential", "a~"}})) ==
        400);
  CHECK(w.as->ListCredentials(session).body.size() == 1);
}
