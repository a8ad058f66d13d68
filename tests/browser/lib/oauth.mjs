// The client's side of the flows: authorization requests (code flow with
// PKCE), a listener on the redirect URI that records what the client
// would receive, and the code exchange at the token endpoint (with the
// client secret) that shows what the ID token says.

import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';

export function b64url(buf) {
  return buf.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * A new authorization request of `tenant`'s client ({ issuer, clientId,
 * redirectUri }); `extra` adds or replaces parameters. Returns { params,
 * url, verifier } (the PKCE code verifier, for the code exchange).
 */
export function newRequest(tenant, extra = {}) {
  const verifier = b64url(randomBytes(32));
  const params = {
    response_type: 'code',
    client_id: tenant.clientId,
    redirect_uri: tenant.redirectUri,
    scope: 'openid profile email',
    state: b64url(randomBytes(16)),
    nonce: b64url(randomBytes(16)),
    code_challenge: b64url(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
    ...extra,
  };
  if (params.code_challenge.length !== 43) throw new Error('code_challenge is not 43 characters');
  return { params, url: `${tenant.issuer}/authorize?${new URLSearchParams(params)}`, verifier };
}

/**
 * A POST of a form to `url` on loopback; resolves to { status, json }.
 * node:http with IPv4 only: the server listens on 127.0.0.1, and
 * `localhost` may resolve to ::1 first.
 */
function postForm(url, form, headers = {}) {
  const body = new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        family: 4,
        timeout: 10000,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
          accept: 'application/json',
          ...headers,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => {
          let json = null;
          try {
            json = JSON.parse(text);
          } catch {
            // not JSON: json stays null
          }
          resolve({ status: res.statusCode, json });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`POST ${url}: no answer within 10 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Exchanges `code` (of the request whose PKCE verifier is `verifier`) at
 * the tenant's token endpoint, as the client (client_secret_basic).
 * Resolves to { status, json }.
 */
export function exchangeCode(tenant, code, verifier) {
  if (!tenant.clientSecret) throw new Error(`no client secret for ${tenant.slug} (GATEHOUSE_CLIENT_SECRET)`);
  const enc = (s) => encodeURIComponent(s);
  const basic = Buffer.from(`${enc(tenant.clientId)}:${enc(tenant.clientSecret)}`).toString('base64');
  return postForm(
    `${tenant.issuer}/token`,
    { grant_type: 'authorization_code', code, redirect_uri: tenant.redirectUri, code_verifier: verifier },
    { authorization: `Basic ${basic}` },
  );
}

/** The payload of a JWT, decoded (not verified: the browser checks read claims only). */
export function jwtPayload(jwt) {
  const part = String(jwt || '').split('.')[1];
  if (!part) return null;
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
}

/** Listens on the redirect URI's port and records every request it gets. */
export function startCallbackListener(redirectUri) {
  const u = new URL(redirectUri);
  const hits = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      // The browser's own favicon request is not something a client got.
      if (!req.url.startsWith('/favicon.ico')) hits.push({ method: req.method, url: req.url, body });
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
      });
      res.end('<!doctype html><html lang="en"><title>Callback</title><p>Callback received.</p>');
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(u.port || 80), u.hostname, () => resolve({ server, hits }));
  });
}
