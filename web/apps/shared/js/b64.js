// base64url (RFC 4648 §5, no padding) ↔ ArrayBuffer, for the WebAuthn JSON the server speaks.

export function toBuffer(b64url) {
  const b64 = String(b64url).replace(/-/g, '+').replace(/_/g, '/');
  const padded = b64 + '='.repeat((4 - (b64.length % 4)) % 4);
  const bin = atob(padded);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i += 1) out[i] = bin.charCodeAt(i);
  return out.buffer;
}

export function fromBuffer(buf) {
  if (buf === null || buf === undefined) return null;
  const bytes = buf instanceof ArrayBuffer ? new Uint8Array(buf) : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  let bin = '';
  for (let i = 0; i < bytes.length; i += 1) bin += String.fromCharCode(bytes[i]);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

// UTF-8 text → standard base64 (for data: URLs).
export function textToBase64(text) {
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  for (let i = 0; i < bytes.length; i += 1) bin += String.fromCharCode(bytes[i]);
  return btoa(bin);
}

// PublicKeyCredentialCreationOptions from the server's JSON.
export function creationOptions(json) {
  const o = structuredClone(json);
  o.challenge = toBuffer(o.challenge);
  o.user = { ...o.user, id: toBuffer(o.user.id) };
  o.excludeCredentials = (o.excludeCredentials || []).map((c) => ({ ...c, id: toBuffer(c.id) }));
  return o;
}

// PublicKeyCredentialRequestOptions from the server's JSON.
export function requestOptions(json) {
  const o = structuredClone(json);
  o.challenge = toBuffer(o.challenge);
  o.allowCredentials = (o.allowCredentials || []).map((c) => ({ ...c, id: toBuffer(c.id) }));
  return o;
}

// The JSON the server takes for a new credential (attestation).
export function attestationJson(cred) {
  return {
    id: cred.id,
    rawId: fromBuffer(cred.rawId),
    type: cred.type,
    response: {
      clientDataJSON: fromBuffer(cred.response.clientDataJSON),
      attestationObject: fromBuffer(cred.response.attestationObject),
    },
  };
}

// The JSON the server takes for an assertion.
export function assertionJson(cred) {
  return {
    id: cred.id,
    rawId: fromBuffer(cred.rawId),
    type: cred.type,
    response: {
      clientDataJSON: fromBuffer(cred.response.clientDataJSON),
      authenticatorData: fromBuffer(cred.response.authenticatorData),
      signature: fromBuffer(cred.response.signature),
      userHandle: fromBuffer(cred.response.userHandle),
    },
  };
}
