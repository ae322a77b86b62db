#!/usr/bin/env node
// A benchmark peer for the UMA / OAuth authorization server: panva's oidc-provider 9.13.3 (npm,
// https://github.com/panva/node-oidc-provider; Koa 3, jose 6), serving the OAuth 2.0
// client_credentials grant and RFC 7662 token introspection over plain HTTP on 127.0.0.1.
//
//   node bench/oidc_provider.mjs [--port N]       (package from tests/interop/node_modules)
//
// Configuration:
//   - issuer http://127.0.0.1:<port>; --port 0 (the default) takes an ephemeral port. The
//     provider's Koa callback is served by a stock node:http server (Node's defaults: keep-alive
//     on, keepAliveTimeout 5 s), no `proxy` (nothing in front of it).
//   - the default in-memory adapter (oidc-provider's two-generation LRU of ~1000-2000 entries: a
//     token neither used nor introspected while ~1000-2000 newer ones are stored is forgotten
//     and then introspects as {"active":false}; a load run that issues tokens before it
//     introspects should introspect a token it fetched just before, not the one printed here).
//   - one static client: client_id "bench", a random 64-hex-digit client_secret,
//     token_endpoint_auth_method client_secret_basic, grant_types [client_credentials],
//     redirect_uris [], response_types [], scope "read"; provider scopes ["read"].
//   - features: clientCredentials and introspection enabled; devInteractions disabled (no
//     effect on these endpoints; production deployments turn it off); everything else is
//     oidc-provider's default, notably resourceIndicators (enabled, but no `resource` parameter
//     is sent, so the client_credentials access token is opaque: a 43-character random value
//     stored in the adapter), ttl.ClientCredentials 600 s, introspection.allowedPolicy, and the
//     development signing keys (unused by opaque tokens and introspection's JSON responses).
//   - silenced: the library's "oidc-provider NOTICE/WARNING" console lines (unsupported runtime
//     on Node 20, in-memory adapter, dev keys, default helper functions called); an internal
//     server_error is still reported as one line on stderr. No tuning beyond that.
//
// After listening it obtains one token itself (POST token_endpoint, HTTP Basic
// "bench:<secret>", grant_type=client_credentials&scope=read), checks that introspecting it
// (POST introspection_endpoint, HTTP Basic, token=...) returns "active": true, and prints one
// JSON line on stdout:
//   {"url","token_endpoint","introspection_endpoint","client_id","client_secret","token","version"}
// with the endpoint paths taken from /.well-known/openid-configuration. Then it serves until
// SIGTERM or SIGINT, and exits 0.
import crypto from 'node:crypto';
import http from 'node:http';

import { load, packageJson } from './interop_packages.mjs';

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : process.argv[i + 1];
}
const PORT = Number(option('--port', '0'));
if (!Number.isInteger(PORT) || PORT < 0 || PORT > 65535) {
  process.stderr.write('usage: node bench/oidc_provider.mjs [--port N]\n');
  process.exit(2);
}

// Drop oidc-provider's own console notices (it prints them with console.info / console.warn,
// some at import time, so this goes in before the import below).
for (const level of ['info', 'warn']) {
  const original = console[level].bind(console);
  console[level] = (...args) => {
    if (typeof args[0] === 'string' && args[0].includes('oidc-provider ')) return;
    original(...args);
  };
}

const VERSION = packageJson('oidc-provider').version;
const { Provider } = await load('oidc-provider');

const CLIENT_ID = 'bench';
const CLIENT_SECRET = crypto.randomBytes(32).toString('hex');

// Listen first: the issuer has to carry the port the kernel picked.
const server = http.createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(PORT, '127.0.0.1', resolve);
});
const URL_BASE = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(URL_BASE, {
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: 'read',
  }],
  scopes: ['read'],
  features: {
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    devInteractions: { enabled: false },
  },
});
provider.on('server_error', (_ctx, err) => {
  process.stderr.write(`oidc_provider.mjs: server_error: ${err?.stack ?? err}\n`);
});
server.on('request', provider.callback());

function fail(message) {
  process.stderr.write(`oidc_provider.mjs: ${message}\n`);
  server.close();
  process.exit(1);
}

const basic = `Basic ${Buffer.from(`${encodeURIComponent(CLIENT_ID)}:${encodeURIComponent(CLIENT_SECRET)}`).toString('base64')}`;
async function post(endpoint, body) {
  const res = await fetch(URL_BASE + endpoint, {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(body).toString(),
  });
  const text = await res.text();
  if (res.status !== 200) fail(`POST ${endpoint}: HTTP ${res.status} ${text}`);
  return JSON.parse(text);
}

const discoveryRes = await fetch(`${URL_BASE}/.well-known/openid-configuration`);
if (discoveryRes.status !== 200) fail(`discovery: HTTP ${discoveryRes.status}`);
const discovery = await discoveryRes.json();
const endpointPath = (name) => {
  if (typeof discovery[name] !== 'string') fail(`discovery has no ${name}`);
  const u = new URL(discovery[name]);
  if (u.origin !== URL_BASE) fail(`${name} ${discovery[name]} is not under ${URL_BASE}`);
  return u.pathname;
};
const TOKEN_ENDPOINT = endpointPath('token_endpoint');
const INTROSPECTION_ENDPOINT = endpointPath('introspection_endpoint');

const issued = await post(TOKEN_ENDPOINT, { grant_type: 'client_credentials', scope: 'read' });
if (typeof issued.access_token !== 'string') fail(`token response without access_token: ${JSON.stringify(issued)}`);
const introspected = await post(INTROSPECTION_ENDPOINT, { token: issued.access_token });
if (introspected.active !== true) fail(`introspection of the fresh token: ${JSON.stringify(introspected)}`);

process.stdout.write(`${JSON.stringify({
  url: URL_BASE,
  token_endpoint: TOKEN_ENDPOINT,
  introspection_endpoint: INTROSPECTION_ENDPOINT,
  client_id: CLIENT_ID,
  client_secret: CLIENT_SECRET,
  token: issued.access_token,
  version: VERSION,
})}\n`);

function stop() {
  server.close();
  server.closeAllConnections();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
