#!/usr/bin/env python3
"""Writes the seed corpora of the libFuzzer targets (tests/fuzz/corpus/<target>/).

Run from anywhere: python3 tests/fuzz/make_seeds.py. The files are committed; this script is how
they were made (from tests/vectors and hand-written valid artifacts), so they can be made again
when a format changes. It needs Python 3 with the `cryptography` package (Ed25519 signatures for
the notes and WebAuthn objects). Each seed is named by what it is.
"""
import base64
import gzip
import hashlib
import json
import os
import shutil
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.path.join(HERE, "..", "vectors")
CORPUS = os.path.join(HERE, "corpus")

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def ed_key(fill: int):
    return Ed25519PrivateKey.from_private_bytes(bytes([fill]) * 32)


def ed_pub(fill: int) -> bytes:
    return ed_key(fill).public_key().public_bytes_raw()


def did_key(fill: int) -> str:
    return "did:key:z" + b58(b"\xed\x01" + ed_pub(fill))


def canon(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def write(target: str, name: str, data) -> None:
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(*parts) -> bytes:
    with open(os.path.join(VECTORS, *parts), "rb") as f:
        return f.read()


H1 = "11" * 32
H2 = "22" * 32
SIG = b64u(bytes([7]) * 64)
PN1 = b64u(bytes([1]) * 32)
PN2 = b64u(bytes([2]) * 32)
KEY = b64u(b"\xed\x01" + bytes([3]) * 32)
DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"

ENTRIES = {
    "did_op": {"type": "did.op", "v": 1, "did": DID, "op": "create", "seq": 0, "key": KEY,
               "next": H1, "recovery": H2, "auth": KEY, "assert": KEY,
               "service": "https://container.example/alice", "sig": SIG, "ts": 1700000000},
    "anchor": {"type": "anchor", "v": 1, "hash": H1, "kind": "document", "ts": 1700000000},
    "consent": {"type": "consent", "v": 1, "receipt": H1, "subject": PN1, "controller": PN1,
                "purpose": "research", "action": "grant", "scope": H2, "expires": 1800000000,
                "sig": SIG, "ts": 1700000000},
    "relationship": {"type": "relationship", "v": 1, "rel": b64u(bytes([9]) * 16), "a": PN1,
                     "b": PN2, "kind": "guardian", "action": "open", "sig": SIG,
                     "ts": 1700000000},
    "status": {"type": "status", "v": 1, "credential": H1, "issuer": DID, "status": "revoked",
               "list": H2, "index": 42, "sig": SIG, "ts": 1700000000},
    "dispense": {"type": "dispense", "v": 1, "nullifier": H1, "rx": H2, "pharmacy": DID,
                 "qty": 30, "sig": SIG, "ts": 1700000000},
}

CREDENTIAL = {
    "@context": ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/medallion/credentials/v1"],
    "type": ["VerifiableCredential", "MedicalLicenseCredential"],
    "id": "urn:uuid:8a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d",
    "issuer": "$DID",
    "validFrom": "2026-01-01T00:00:00Z",
    "validUntil": "2030-01-01T00:00:00Z",
    "credentialSubject": {"id": did_key(0x33), "licenseNumber": "MD-1", "name": "Ada Lovelace",
                          "jurisdiction": "CA", "licenseType": "MD", "specialty": "cardiology",
                          "schedules": ["II"]},
}

MED_REQUEST = {
    "resourceType": "MedicationRequest", "status": "active", "intent": "order",
    "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                              "code": "197361", "display": "amlodipine 5 MG"}]},
    "subject": {"reference": "Patient/alice"},
    "requester": {"reference": "Practitioner/ada"},
    "authoredOn": "2026-05-01",
    "dosageInstruction": [{"text": "1 tablet daily"}],
    "dispenseRequest": {"numberOfRepeatsAllowed": 2, "quantity": {"value": 30, "unit": "tablet"}},
}


def core_seeds():
    for name in sorted(os.listdir(os.path.join(VECTORS, "jcs", "input"))):
        data = read("jcs", "input", name)
        write("jcs", name, data)
        write("json", name, data)
    write("jcs", "numbers.json", "[0,-0,1e21,1e-7,9007199254740993,0.1,-1.5e300,123456789012345680000]")
    write("jcs", "escapes.json", '{"\\u20ac":"\\u0000\\u001f\\"\\\\/","b":[true,false,null],"a":{}}')
    write("json", "deep.json", "[" * 16 + "]" * 16)
    write("json", "members.json", '{"a":"x","id":7,"type":["t"],"":{},"sig":null}')
    for name, value in [("hex", "00ff10Ab"), ("base58", "1113yQ"), ("base58check", "1PMycacnJaSqwwJqjawXBErnLsZ7RkXUAs"),
                        ("base64url", b64u(b"\xfb\xff\x00hello")), ("base64", "+/8AaGVsbG8="),
                        ("multibase_z", "z" + b58(b"\xed\x01" + ed_pub(1))),
                        ("multibase_u", "u" + b64u(b"\xed\x01" + ed_pub(1)))]:
        write("encoding", name, value)
    write("encoding", "varint", bytes([0xed, 0x01]) + ed_pub(1))
    write("encoding", "varint_long", bytes([0x80, 0x80, 0x80, 0x80, 0x01]))


def ledger_seeds():
    for name, entry in ENTRIES.items():
        write("ledger_entry", name + ".json", canon(entry))
    note_text = read("c2sp", "signed-note.json")
    vector = json.loads(note_text)
    write("note", "c2sp_vector", vector["text"] + "\n" + vector["signature_line"] + "\n")
    # A checkpoint of the fuzz log signed by its key (origin ledger.example/fuzz, seed 0x42).
    origin = "ledger.example/fuzz"
    body = origin + "\n5\n" + base64.b64encode(hashlib.sha256(b"root").digest()).decode() + "\n"
    key = ed_key(0x42)
    pub = key.public_key().public_bytes_raw()
    key_id = hashlib.sha256(origin.encode() + b"\n\x01" + pub).digest()[:4]
    sig = key.sign(body.encode())
    note = body + "\n\u2014 " + origin + " " + base64.b64encode(key_id + sig).decode() + "\n"
    write("note", "checkpoint_signed", note)
    write("note", "checkpoint_body", body)
    write("note", "checkpoint_extension", body + "extension line\n")
    write("note", "verifier_key", origin + "+" + key_id.hex() + "+" + base64.b64encode(b"\x01" + pub).decode())
    write("witness", "add_checkpoint", "old 0\n\n" + note)
    proof = base64.b64encode(hashlib.sha256(b"p").digest()).decode()
    write("witness", "add_checkpoint_proof", "old 3\n" + proof + "\n" + proof + "\n\n" + note)
    write("witness", "checkpoint_body", body)


def claims_seeds():
    vc = canon(CREDENTIAL)
    # jws: first byte = mode (kind % 3, bit 2 ES256K, bit 3 header before the first newline).
    write("jws", "vc_eddsa", b"\x00" + vc.encode())
    write("jws", "vc_es256k", b"\x04" + vc.encode())
    vp = canon({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
                "holder": "$DID", "aud": "https://pharmacy.example", "nonce": "n-0S6_WzA2Mj"})
    write("jws", "vp", b"\x01" + vp.encode())
    auth = canon({"sub": "$DID", "aud": "https://pharmacy.example", "nonce": "n-0S6_WzA2Mj",
                  "iat": 1780000000, "exp": 1780000300})
    write("jws", "did_auth", b"\x02" + auth.encode())
    header = canon({"alg": "EdDSA", "kid": "$VM", "typ": "vc+jwt", "cty": "vc", "crit": ["b64"]})
    write("jws", "vc_header", b"\x08" + header.encode() + b"\n" + vc.encode())
    write("jws", "raw_not_jws", "eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.")
    # sd_jwt: byte 0 = mode (bit 0 ES256K issuer, bit 1 KB-JWT last, bit 2 no _sd, bit 3 cnf,
    # bit 4 other typ); then payload ~ disclosure JSON ... ~ KB payload.
    payload = canon({"vct": "https://medallion.example/vct/MedicalLicense", "iss": "$DID",
                     "iat": 1780000000, "exp": 1790000000, "license": {"number": "MD-1"}})
    disclosures = ['["c2FsdDE","given_name","Ada"]', '["c2FsdDI","family_name","Lovelace"]',
                   '["c2FsdDM","DE"]']
    kb = canon({"aud": "https://pharmacy.example", "nonce": "n-0S6_WzA2Mj", "iat": 1780000000})
    write("sd_jwt", "kb", b"\x0a" + "~".join([payload] + disclosures + [kb]).encode())
    write("sd_jwt", "no_kb", b"\x08" + "~".join([payload] + disclosures).encode())
    write("sd_jwt", "es256k", b"\x0b" + "~".join([payload, disclosures[0], kb]).encode())
    pairs = json.loads(read("sd-jwt", "disclosures.json"))["pairs"]
    write("sd_jwt", "rfc_disclosures", "eyJhbGciOiJFZERTQSJ9.e30.c2ln~" + "~".join(p["disclosure"] for p in pairs) + "~")
    write("sd_jwt", "jwk", canon({"kty": "OKP", "crv": "Ed25519", "x": b64u(ed_pub(0x33))}))
    # data_integrity: the W3C vectors and credentials.
    write("data_integrity", "signed_jcs.json", read("eddsa-jcs-2022", "signedJCS.json"))
    write("data_integrity", "unsigned.json", read("eddsa-jcs-2022", "unsigned.json"))
    write("data_integrity", "credential.json", canon(CREDENTIAL))
    write("data_integrity", "presentation.json", canon(
        {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
         "holder": did_key(0x33), "verifiableCredential": [CREDENTIAL],
         "proof": {"type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022",
                   "proofPurpose": "authentication", "challenge": "n-0S6_WzA2Mj",
                   "domain": "https://pharmacy.example", "created": "2026-05-28T00:00:00Z",
                   "verificationMethod": did_key(0x33) + "#" + did_key(0x33)[8:],
                   "proofValue": "z" + b58(bytes(64))}}))
    prescription = {"@context": CREDENTIAL["@context"],
                    "type": ["VerifiableCredential", "PrescriptionCredential"],
                    "issuer": did_key(0x11), "validFrom": "2026-05-01T00:00:00Z",
                    "credentialSubject": {"id": did_key(0x33), "prescription": MED_REQUEST}}
    write("data_integrity", "prescription.json", canon(prescription))
    # status_list: gzip streams (raw bytes and as encodedList) and a credential.
    zeros = gzip.compress(bytes(16384), mtime=0)
    write("status_list", "gzip_16k_zeros", zeros)
    write("status_list", "encoded_16k", "u" + b64u(zeros))
    write("status_list", "gzip_some_bits", gzip.compress(bytes([0x80]) + bytes(16383), mtime=0))
    write("status_list", "credential.json", canon(
        {"@context": ["https://www.w3.org/ns/credentials/v2"], "id": "https://society.example/status/1",
         "type": ["VerifiableCredential", "BitstringStatusListCredential"], "issuer": DID,
         "validFrom": "2026-01-01T00:00:00Z",
         "credentialSubject": {"id": "https://society.example/status/1#list", "type": "BitstringStatusList",
                               "statusPurpose": "revocation", "encodedList": "u" + b64u(zeros)}}))


def did_seeds():
    keys = json.loads(read("didkey", "ed25519-x25519.json"))
    for i, (did, v) in enumerate(list(keys.items())[:3]):
        write("did", f"did_key_{i}", did)
        if "didDocument" in v:
            write("did", f"did_key_doc_{i}.json", canon(v["didDocument"]))
    secp = json.loads(read("didkey", "secp256k1.json"))
    write("did", "did_key_secp256k1", list(secp.keys())[0])
    write("did", "did_url", did_key(1) + "/path?versionId=1#" + did_key(1)[8:])
    write("did", "did_web", "did:web:example.com%3A8443:users:alice")
    write("did", "did_mdl", "did:mdl:" + b58(hashlib.sha256(b"x").digest()))
    doc = {"@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
           "id": "did:web:example.com",
           "verificationMethod": [{"id": "did:web:example.com#k1", "type": "Multikey",
                                   "controller": "did:web:example.com",
                                   "publicKeyMultibase": "z" + b58(b"\xed\x01" + ed_pub(1))}],
           "authentication": ["did:web:example.com#k1"], "assertionMethod": ["#k1"],
           "service": [{"id": "#c", "type": "MedallionContainer", "serviceEndpoint": "https://c.example"}]}
    write("did", "document.json", canon(doc))
    write("did", "op_update", canon(dict(ENTRIES["did_op"], op="update", seq=1)) + "\n" +
          canon(dict(ENTRIES["did_op"], op="deactivate", seq=2)))


def wallet_seeds():
    vectors = json.loads(read("bip39", "trezor-vectors.json"))
    english = vectors["english"] if isinstance(vectors, dict) else vectors
    for i, v in enumerate(english[:6]):
        write("bip39", f"trezor_{i}", v[1])
    write("bip39", "japanese_spaces", "あいこくしん　あいこくしん　あいこくしん")
    slip = json.loads(read("slip39", "trezor-vectors.json"))
    n = 0
    for v in slip:
        if v[2] and n < 8:  # valid vectors (a master secret)
            write("slip39", f"trezor_{n}", "\n".join(v[1]))
            n += 1


def fhir_seeds():
    write("fhir", "medication_request.json", canon(MED_REQUEST))
    write("fhir", "allergy.json", canon({"resourceType": "AllergyIntolerance", "patient": {"reference": "Patient/alice"},
                                          "code": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "7980"}],
                                                   "text": "penicillin"}}))
    write("fhir", "observation.json", canon({"resourceType": "Observation", "status": "final",
                                              "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
                                              "subject": {"reference": "Patient/alice"},
                                              "valueQuantity": {"value": 72, "unit": "/min"}}))
    write("fhir", "condition.json", canon({"resourceType": "Condition", "subject": {"reference": "Patient/alice"}}))
    write("fhir", "document_reference.json", canon({"resourceType": "DocumentReference", "status": "current",
                                                     "content": [{"attachment": {"contentType": "application/pdf", "url": "Binary/1"}}]}))


def webauthn_seeds():
    pub = ed_pub(0x71)
    cose = bytes([0xa4, 0x01, 0x01, 0x03, 0x27, 0x20, 0x06, 0x21, 0x58, 0x20]) + pub
    rp_hash = hashlib.sha256(b"localhost").digest()
    cred_id = bytes([0x77]) * 16
    auth = rp_hash + bytes([0x41]) + bytes([0, 0, 0, 1]) + bytes(16) + bytes([0, 16]) + cred_id + cose
    att = (bytes([0xa3, 0x63]) + b"fmt" + bytes([0x64]) + b"none" + bytes([0x67]) + b"attStmt" +
           bytes([0xa0, 0x68]) + b"authData" + bytes([0x58, len(auth)]) + auth)
    challenge = b64u(bytes([0x5a]) * 32)
    write("webauthn", "cose_key", b"\x00" + cose)
    write("webauthn", "attestation_object", b"\x01" + att)
    write("webauthn", "client_data_create", b"\x02" + canon(
        {"type": "webauthn.create", "challenge": challenge, "origin": "http://localhost:8443"}).encode())
    write("webauthn", "authenticator_data", b"\x03" + rp_hash + bytes([0x05, 0, 0, 0, 9]))
    write("webauthn", "client_data_get", b"\x04" + canon(
        {"type": "webauthn.get", "challenge": challenge, "origin": "http://localhost:8443", "crossOrigin": False}).encode())
    write("webauthn", "signature", b"\x05" + bytes(64))
    vectors = json.loads(read("webauthn", "webauthn-l3-test-vectors.json"))
    n = 0
    for v in (vectors.values() if isinstance(vectors, dict) else vectors):
        if not isinstance(v, dict):
            continue
        for k in ("attestationObject", "credentialPublicKey"):
            if k in v and n < 6:
                try:
                    data = bytes.fromhex(v[k])
                except (TypeError, ValueError):
                    continue
                write("webauthn", f"vector_{n}", (b"\x01" if k == "attestationObject" else b"\x00") + data)
                n += 1


def bridge_seeds():
    # byte 0: the queue answer's status (index into 200x4, 400, 401, 403, 404, 409, 500), bit 6
    # pairs first, bit 7 approves; then queue \x1e decision \x1e pairing answers.
    item = {"id": "r1", "hash": "h1", "kind": "consent",
            "summary": {"requesting_party": "Dr Ada", "purpose": "treatment",
                        "permissions": [{"name": "Observation", "resource_scopes": ["read", "search"]}],
                        "credentials": [{"types": ["VerifiableCredential", "MedicalLicenseCredential"], "issuer": "Society"}]},
            "payload": None}
    sign_di = {"id": "r1", "hash": "h2", "kind": "prescription_cosign", "summary": {"text": "Co-sign?"},
               "payload": {"sign": {"format": "data_integrity", "verification_method": did_key(5) + "#" + did_key(5)[8:],
                                    "document": {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"]}}}}
    sign_jwt = {"id": "r1", "hash": "h3", "kind": "browser_signin", "summary": None,
                "payload": {"sign": {"format": "did-auth+jwt", "verification_method": did_key(5) + "#" + did_key(5)[8:],
                                     "claims": {"aud": "https://patient.example", "nonce": "n1", "jti": "j1", "x": 1}}}}
    write("bridge", "consent_deny", b"\x00" + canon([item]).encode() + b"\x1e" + b'{"status":"denied"}')
    write("bridge", "cosign_approve", b"\x80" + canon([sign_di]).encode() + b"\x1e" + b'{"status":"approved"}')
    write("bridge", "jwt_approve", b"\x81" + canon([sign_jwt]).encode() + b"\x1e" + b'{"status":"approved"}')
    write("bridge", "pair", b"\x40[]\x1e{}\x1e" + canon({"device_id": "d2", "container": "x"}).encode())
    write("bridge", "error_401", b"\x05" + canon({"error": "invalid_token", "error_description": "expired", "reason": "session_expired"}).encode())
    write("bridge", "error_409", b"\x08" + canon({"error": "failed_precondition", "reason": "pairing_used"}).encode())


def http(method, path, body=None, headers=()):
    head = f"{method} {path} HTTP/1.1\nHost: localhost\n" + "".join(h + "\n" for h in headers)
    if body is not None:
        head += "Content-Type: application/json\n"
    return head + "\n" + (body or "")


def roles_seeds():
    # byte 0: 0 ledger, 1 resolver, 2 container, 3 society, 4 pharmacy (5, 6: below).
    seeds = {
        "ledger_append": (0, http("POST", "/ledger/v1/entries", canon(ENTRIES["anchor"]))),
        "ledger_checkpoint": (0, http("GET", "/ledger/v1/checkpoint")),
        "ledger_leaves": (0, http("GET", "/ledger/v1/leaves?start=0&end=1")),
        "ledger_lookup": (0, http("GET", "/ledger/v1/lookup?kind=did&value=" + DID)),
        "ledger_proof": (0, http("GET", "/ledger/v1/proof/inclusion?index=0&size=1")),
        "ledger_consistency": (0, http("GET", "/ledger/v1/proof/consistency?old=0&new=1")),
        "witness_add": (0, "POST /add-checkpoint HTTP/1.1\nHost: w\nContent-Type: text/plain\n\nold 0\n\nledger.example/fuzz\n1\nAAAA\n"),
        "resolve_did_key": (1, http("GET", "/1.0/identifiers/" + did_key(1))),
        "resolve_version": (1, http("GET", "/1.0/identifiers/" + did_key(1) + "?versionTime=2026-01-01T00:00:00Z", headers=["Accept: application/did+json"])),
        "context": (1, http("GET", "/credentials/v1")),
        "uma_config": (2, http("GET", "/.well-known/uma2-configuration")),
        "uma_register": (2, http("POST", "/register", canon({"client_name": "Clinic", "grant_types": ["client_credentials"]}))),
        "uma_token": (2, "POST /token HTTP/1.1\nHost: x\nContent-Type: application/x-www-form-urlencoded\n\ngrant_type=client_credentials&client_id=a&client_secret=b"),
        "uma_grant": (2, "POST /token HTTP/1.1\nHost: x\nContent-Type: application/x-www-form-urlencoded\n\ngrant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Auma-ticket&ticket=t1&claim_token=e30&claim_token_format=did-auth%2Bjwt"),
        "owner_challenge": (2, http("POST", "/owner/v1/challenge", "{}")),
        "fhir_read": (2, http("GET", "/fhir/Observation/1", headers=["Authorization: Bearer abc"])),
        "fhir_search": (2, http("GET", "/fhir/Observation?patient=Patient/alice")),
        "device_challenge": (2, http("POST", "/device/v1/challenge", "{}")),
        "society_challenge": (3, http("POST", "/society/v1/challenge", "{}")),
        "society_license": (3, http("POST", "/society/v1/licenses", canon({"proof": "e30.e30.e30", "license_number": "MD-1", "name": "Ada Lovelace"}))),
        "society_admin": (3, http("GET", "/society/v1/licenses", headers=["Authorization: Bearer admin-token"])),
        "society_status": (3, http("POST", "/society/v1/licenses/abc/status", canon({"action": "revoke"}), headers=["Authorization: Bearer admin-token"])),
        "status_list": (3, http("GET", "/status/revocation")),
        "pharmacy_challenge": (4, http("POST", "/pharmacy/v1/challenge", "{}")),
        "pharmacy_dispense": (4, http("POST", "/pharmacy/v1/dispense", canon({"presentation": {"type": ["VerifiablePresentation"]}}))),
        "pharmacy_sd_jwt": (4, http("POST", "/pharmacy/v1/dispense", canon({"sd_jwt": "e30.e30.e30~", "fill_authorization": "x"}))),
    }
    # The web apps, signed in: the harness puts the live session's id and CSRF token in place of
    # @SID@ and @CSRF@ (roles_http_fuzz.cpp). 3 the society's desk (clerk), 4 the pharmacy's
    # counter (pharmacist), 5 the patient's app under /c/alice and the physician's workspace under
    # /c/doc, 6 a container host (ann, ben, cat under /c/; dan by virtual host).
    def signed(port, unsafe=False):
        h = [f"Cookie: mdl_session_{port}=@SID@"]
        if unsafe:
            h += [f"Origin: http://localhost:{port}", "X-CSRF-Token: @CSRF@"]
        return h

    def staff(port, unsafe=False):  # the staff apps' cookie is mdl_staff_<port>
        return [h.replace("mdl_session_", "mdl_staff_") for h in signed(port, unsafe)]

    desk, counter, app = staff(8070), staff(8060), signed(8090)
    desk_post, counter_post, app_post = staff(8070, True), staff(8060, True), signed(8090, True)
    seeds.update({
        "desk_app": (3, http("GET", "/")),
        "desk_asset": (3, http("GET", "/app/js/main.js", headers=["If-None-Match: \"x\""])),
        "desk_state": (3, http("GET", "/web/v1/state", headers=desk)),
        "desk_signin_options": (3, http("POST", "/web/v1/signin/options", "{}", headers=["Origin: http://localhost:8070"])),
        "desk_register_options": (3, http("POST", "/web/v1/passkeys/register/options", canon({"link": "AAAA"}), headers=["Origin: http://localhost:8070"])),
        "desk_passkeys": (3, http("GET", "/web/v1/passkeys", headers=desk)),
        "desk_staff": (3, http("POST", "/web/v1/staff", canon({"name": "aud1", "role": "auditor", "display_name": "Aud"}), headers=desk_post)),
        "desk_directory": (3, http("GET", "/web/v1/desk/directory", headers=desk)),
        "desk_import_csv": (3, http("POST", "/web/v1/desk/directory/import", canon({"format": "csv", "content": "license_number,name,jurisdiction,degree,specialty,schedules,expires\nMD-2,Grace Hopper,CA,MD,oncology,II,2031-01-01T00:00:00Z\n"}), headers=desk_post)),
        "desk_onboarding": (3, http("GET", "/web/v1/desk/onboarding", headers=desk)),
        "desk_decide": (3, http("POST", "/web/v1/desk/onboarding/req-1", canon({"action": "approve", "reason": "checked"}), headers=desk_post)),
        "desk_licenses": (3, http("GET", "/web/v1/desk/licenses", headers=desk)),
        "desk_license_status": (3, http("POST", "/web/v1/desk/licenses/lic-1/status", canon({"action": "suspend", "reason": "audit", "confirm": "MD-1"}), headers=desk_post)),
        "desk_status_lists": (3, http("GET", "/web/v1/desk/status-lists", headers=desk)),
        "desk_signout": (3, http("POST", "/web/v1/signout", "{}", headers=desk_post)),
        "counter_state": (4, http("GET", "/web/v1/state", headers=counter)),
        "counter_new_request": (4, http("POST", "/web/v1/counter/requests", "{}", headers=counter_post)),
        "counter_requests": (4, http("GET", "/web/v1/counter/requests", headers=counter)),
        "counter_request": (4, http("GET", "/web/v1/counter/requests/abc", headers=counter)),
        "counter_dispense": (4, http("POST", "/web/v1/counter/requests/abc/dispense", "{}", headers=counter_post)),
        "counter_refuse": (4, http("POST", "/web/v1/counter/requests/abc/refuse", canon({"reason": "wrong patient"}), headers=counter_post)),
        "counter_dispenses": (4, http("GET", "/web/v1/dispenses?day=2026-06-01", headers=counter)),
        "counter_describe": (4, http("GET", "/pharmacy/v1/requests/abc?token=t")),
        "counter_present": (4, http("POST", "/pharmacy/v1/requests/abc/presentation", canon({"token": "t", "sd_jwt": "e30.e30.e30~", "fill_authorization": "x"}))),
        "counter_outcome": (4, http("POST", "/pharmacy/v1/requests/abc/outcome", canon({"token": "t"}))),
        "app_root": (5, http("GET", "/c/alice/")),
        "app_asset": (5, http("GET", "/c/alice/app/js/page-home.js")),
        "app_css": (5, http("GET", "/c/alice/app/css/app.css", headers=["Accept-Encoding: gzip"])),
        "app_state": (5, http("GET", "/c/alice/web/v1/state", headers=app)),
        "app_events": (5, http("GET", "/c/alice/web/v1/events", headers=app + ["Last-Event-ID: 3"])),
        "app_pairing": (5, http("POST", "/c/alice/web/v1/pairing", "{}", headers=app_post)),
        "app_receipt_verify": (5, http("POST", "/c/alice/web/v1/receipts/verify", canon({"receipt": "e30.e30.e30"}), headers=app_post)),
        "app_disclosures": (5, http("POST", "/c/alice/web/v1/disclosures/verify", "{}", headers=app_post)),
        "app_relationships": (5, http("GET", "/c/alice/web/v1/relationships", headers=app)),
        "app_relationship_decision": (5, http("POST", "/c/alice/web/v1/relationships/decision", canon({"id": "r1", "action": "approve"}), headers=app_post)),
        "app_prescriptions": (5, http("GET", "/c/alice/web/v1/prescriptions", headers=app)),
        "app_present": (5, http("POST", "/c/alice/web/v1/prescriptions/present", canon({"id": "rx1", "pharmacy": "https://pharmacy.example"}), headers=app_post)),
        "app_tell": (5, http("POST", "/c/alice/web/v1/prescriptions/tell", canon({"id": "rx1", "token": "t"}), headers=app_post)),
        "app_recovery": (5, http("GET", "/c/alice/web/v1/recovery", headers=app)),
        "app_links": (5, http("POST", "/c/alice/web/v1/links", "{}", headers=app_post)),
        "app_owner_policies": (5, http("GET", "/c/alice/owner/v1/policies", headers=app)),
        "app_signout_all": (5, http("POST", "/c/alice/web/v1/signout-all", "{}", headers=app_post)),
        "doc_state": (5, http("GET", "/c/doc/web/v1/physician/state", headers=app)),
        "doc_onboard": (5, http("POST", "/c/doc/web/v1/physician/onboard", canon({"name": "Ada Lovelace", "license_number": "MD-1"}), headers=app_post)),
        "doc_patients": (5, http("GET", "/c/doc/web/v1/physician/patients", headers=app)),
        "doc_records": (5, http("GET", "/c/doc/web/v1/physician/patients/0123456789abcdef/records", headers=app)),
        "doc_prescribe": (5, http("POST", "/c/doc/web/v1/physician/prescriptions", canon({"patient": "0123456789abcdef", "medications": [{"rxcui": "197361", "display": "Amlodipine 5 MG", "quantity": 30, "unit": "tablet", "refills": 1}]}), headers=app_post)),
        "doc_notices": (5, http("POST", "/c/doc/rx/v1/notices", canon({"notice": "e30.e30.e30"}))),
        "host_config": (6, http("GET", "/c/ann/.well-known/uma2-configuration")),
        "host_other": (6, http("POST", "/c/ben/owner/v1/challenge", "{}")),
        "host_third": (6, http("GET", "/c/cat/fhir/Observation/1", headers=["Authorization: Bearer abc"])),
        "host_unknown": (6, http("GET", "/c/zed/web/v1/state")),
        "host_virtual": (6, "GET /.well-known/uma2-configuration HTTP/1.1\nHost: dan.example:8080\n\n"),
        "host_app": (6, http("GET", "/c/ann/")),
    })
    for name, (role, request) in seeds.items():
        write("roles_http", name, bytes([role]) + request.encode())


def chain_seeds():
    # byte 0: 0 RLP / signed legacy transactions, 1 JSON values, 2 ABI words, 3 JSON-RPC answers
    # (split at 0x1E, one per request in turn).
    eth = os.path.join(VECTORS, "ethereum")
    with open(os.path.join(eth, "rlptest.json")) as f:
        rlp = json.load(f)
    for name in ("emptystring", "shortstring", "longstring", "emptylist", "multilist", "listsoflists2", "bigint"):
        if name in rlp:
            write("chain", "rlp_" + name, b"\x00" + bytes.fromhex(rlp[name]["out"][2:]))
    with open(os.path.join(eth, "eip155_transactions.json")) as f:
        txs = json.load(f)["tests"]
    for name in list(txs)[:3]:
        write("chain", "tx_" + name, b"\x00" + bytes.fromhex(txs[name]["txbytes"][2:]))
    write("chain", "quantity", b"\x01" + b'"0x1b4"')
    write("chain", "data", b"\x01" + b'"0xdeadBEEF"')
    write("chain", "address", b"\x01" + b'"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"')
    word = bytes(24) + (1234).to_bytes(8, "big")
    write("chain", "abi_words", b"\x02" + word + bytes(12) + bytes(range(1, 21)))

    def rpc(result):
        return json.dumps({"jsonrpc": "2.0", "id": 1, "result": result}, separators=(",", ":")).encode()

    def word_hex(v):
        return "0x" + v.to_bytes(32, "big").hex()

    writer = "0x" + "00" * 12 + "11" * 20
    topic0 = "0x" + "ab" * 32
    log = {"address": "0x" + "11" * 20, "topics": [topic0, "0x" + "22" * 32, word_hex(3), "0x" + "00" * 12 + "44" * 20],
           "data": "0x" + "55" * 32 + (0).to_bytes(32, "big").hex(), "blockNumber": "0x5",
           "transactionHash": "0x" + "66" * 32, "logIndex": "0x0", "removed": False}
    # In the order the harness asks: writer(), anchorCount(), then List: eth_blockNumber,
    # anchorCount() at that block, eth_getLogs (one page), anchorAt(newest).
    write("chain", "node_anchors", b"\x03" + b"\x1e".join([
        rpc(writer), rpc(word_hex(1)), rpc("0x10"), rpc(word_hex(1)), rpc([log]), rpc("0x" + "22" * 32 + word_hex(3)[2:] + "55" * 32 + "00" * 12 + "44" * 20 + word_hex(5)[2:])]))
    receipt = {"transactionHash": "0x" + "33" * 32, "blockNumber": "0x7", "status": "0x1", "gasUsed": "0x5208", "contractAddress": None}
    write("chain", "node_receipt", b"\x03" + rpc(receipt))
    write("chain", "node_error", b"\x03" + json.dumps({"jsonrpc": "2.0", "id": 1, "error": {"code": 3, "message": "execution reverted", "data": "0x"}}).encode())


def oid4vc_seeds():
    # tests/fuzz/oid4vc_fuzz.cpp: the first byte picks the surface (0 DCQL, 1 request, 2 response,
    # 3 token request, 4 credential request); the placeholders are the harness's.
    dcql = {"credentials": [{"id": "license", "format": "dc+sd-jwt",
                             "meta": {"vct_values": ["urn:medallion:vct:MedicalLicenseCredential:1"]},
                             "claims": [{"id": "fam", "path": ["family_name"]},
                                        {"id": "num", "path": ["license", "number"]},
                                        {"id": "sch", "path": ["license", "schedules", None], "values": ["II"]}],
                             "claim_sets": [["fam", "num"], ["sch"]]}],
            "credential_sets": [{"options": [["license"]], "required": True}]}
    write("oid4vc", "dcql_license", b"\x00" + json.dumps(dcql).encode())
    write("oid4vc", "dcql_whole_object", b"\x00" + json.dumps(
        {"credentials": [{"id": "l", "format": "dc+sd-jwt", "multiple": True,
                          "meta": {"vct_values": ["urn:medallion:vct:MedicalLicenseCredential:1"]},
                          "claims": [{"path": ["license"]}]}]}).encode())
    request = "\n".join([
        "client_id=redirect_uri:https://pharmacy.example/oid4vp/response",
        "response_type=vp_token", "response_mode=direct_post",
        "response_uri=https://pharmacy.example/oid4vp/response",
        "nonce=n-0S6_WzA2Mj", "state=s-1", "dcql_query=" + json.dumps(dcql)])
    write("oid4vc", "request", b"\x01" + request.encode())
    signed = {"client_id": "decentralized_identifier:@DID@", "response_type": "vp_token",
              "response_mode": "direct_post", "response_uri": "https://pharmacy.example/oid4vp/response",
              "nonce": "n-0S6_WzA2Mj", "state": "s-1", "aud": "https://self-issued.me/v2",
              "iat": 1780000000, "exp": 1780000600, "dcql_query": dcql}
    write("oid4vc", "request_signed", b"\x01" + "\n".join([
        "client_id=decentralized_identifier:@DID@",
        "request_uri=https://pharmacy.example/oid4vp/requests/r1",
        "object=@SIGNED@" + json.dumps(signed)]).encode())
    write("oid4vc", "response_valid", b"\x02" + b"state=@STATE@\nvp_token=@VP@")
    write("oid4vc", "response_error", b"\x02" + b"state=@STATE@\nerror=access_denied")
    write("oid4vc", "response_self_check", b"\x02")
    write("oid4vc", "token", b"\x03" + b"grant_type=urn:ietf:params:oauth:grant-type:pre-authorized_code\n"
          b"pre-authorized_code=@CODE@\ntx_code=@TX@")
    write("oid4vc", "credential", b"\x04" + json.dumps(
        {"credential_configuration_id": "MedicalLicenseCredential_dc+sd-jwt",
         "proofs": {"jwt": ["@PROOF@"]}}).encode() + b"\n" + json.dumps(
        {"aud": "https://society.example", "iat": 1780000000, "nonce": "@NONCE@"}).encode())


def main():
    if os.path.isdir(CORPUS) and "--clean" in sys.argv:
        shutil.rmtree(CORPUS)
    core_seeds()
    ledger_seeds()
    claims_seeds()
    did_seeds()
    wallet_seeds()
    fhir_seeds()
    webauthn_seeds()
    bridge_seeds()
    roles_seeds()
    chain_seeds()
    oid4vc_seeds()


if __name__ == "__main__":
    main()
