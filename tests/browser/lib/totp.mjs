// RFC 6238 time-based one-time passwords (HMAC-SHA1, 6 digits, 30 s steps),
// as an authenticator app computes them from the key shown at enrolment.

import { createHmac } from 'node:crypto';

/** Decodes RFC 4648 base32 (spaces, hyphens and padding are ignored). */
export function base32Decode(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = s.toUpperCase().replace(/[\s=-]/g, '');
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of clean) {
    const i = alphabet.indexOf(ch);
    if (i < 0) throw new Error(`not base32: ${JSON.stringify(ch)}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The HOTP value (RFC 4226) of `counter` under `key`. */
export function hotp(key, counter, digits = 6) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', key).update(msg).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const bin = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(bin % 10 ** digits).padStart(digits, '0');
}

/** The time step of `unixMillis`. */
export function step(unixMillis = Date.now(), period = 30) {
  return Math.floor(unixMillis / 1000 / period);
}

/**
 * Waits, when the current 30 s step ends within `margin` ms, until the next
 * one begins: a code of the previous step (offset -1) must still be one
 * step old when the server checks it, not two.
 */
export async function awayFromStepEdge(margin = 5000, period = 30) {
  const left = period * 1000 - (Date.now() % (period * 1000));
  if (left < margin) await new Promise((r) => setTimeout(r, left + 250));
}

/** The code of the base32 `secret` for the step `offset` steps from now. */
export function totp(secret, offset = 0, now = Date.now()) {
  return hotp(base32Decode(secret), step(now) + offset);
}

/** A six-digit code that is none of the codes of the steps near now. */
export function wrongCode(secret, now = Date.now()) {
  const near = new Set([-3, -2, -1, 0, 1, 2, 3].map((o) => totp(secret, o, now)));
  for (let n = 13579; ; n += 111111) {
    const c = String(n % 1000000).padStart(6, '0');
    if (!near.has(c)) return c;
  }
}
