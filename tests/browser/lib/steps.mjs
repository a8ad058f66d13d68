// Small steps the flows repeat: auditing a page (the page checks, keyboard
// use and a screenshot), signing in, reading notices.

import { checkPage, keyboardAudit, ok, eq, shot, submit } from './harness.mjs';

/**
 * A numbered screenshot series of one flow in one variant:
 * screenshots/{variant}-{flow}-{nn}-{name}.png.
 */
export function shooter(variant, flow) {
  let n = 0;
  return (page, name) => shot(page, { name: `${variant.name}-${flow}` }, ++n, name);
}

/**
 * The whole audit of the page now shown: checkPage (console, CSP,
 * requests, contrast, targets, overflow, landmarks, labels), keyboard-only
 * use of every control, and a screenshot when `snap` and `name` are given.
 */
export async function audit(b, label, { snap, name, keyboard = true, ...opts } = {}) {
  const a = await checkPage(b.page, b.events, label, opts);
  if (keyboard) await keyboardAudit(b.page, label);
  if (snap && name) await snap(b.page, name);
  return a;
}

/** Fills the login form and submits it; the status of the page shown. */
export async function signIn(page, username, password) {
  await page.fill('#username', username);
  await page.fill('#password', password);
  return submit(page, () => page.click('main form button[type=submit]'));
}

/** The path of the page now shown, relative to the issuer. */
export function pathOf(page, tenant) {
  const base = new URL(tenant.issuer).pathname;
  const p = new URL(page.url()).pathname;
  return p.startsWith(base) ? p.slice(base.length) || '/' : p;
}

/** Checks that the page now shown is `path` (relative to the issuer). */
export function at(page, tenant, path, what) {
  return eq(pathOf(page, tenant), path, `${what}: the page is ${path}`);
}

/** The text of the page's heading. */
export async function heading(page) {
  return (await page.locator('main h2').first().innerText()).trim();
}

/** The text of the role=status notice, or null. */
export async function notice(page) {
  const n = page.locator('main [role=status]');
  return (await n.count()) ? (await n.first().innerText()).trim() : null;
}

/** The text of the role=alert notice, or null. */
export async function alertText(page) {
  const n = page.locator('main [role=alert]');
  return (await n.count()) ? (await n.first().innerText()).trim() : null;
}

/** Waits until the browser is back at the client's redirect URI. */
export async function toCallback(page, tenant, action, events = null) {
  // Caught at once: a navigation that fails must not become an unhandled
  // rejection while the action is still running.
  const nav = page.waitForURL((u) => u.href.startsWith(tenant.redirectUri), { waitUntil: 'load' }).then(
    () => null,
    (e) => e,
  );
  await action();
  const failed = await nav;
  if (failed) {
    await page.waitForTimeout(150);
    const seen = events ? [...events.csp, ...events.console.map((m) => m.text)] : [];
    const csp = seen.length ? `; the browser said: ${seen.join(' | ')}` : '';
    throw new Error(`the browser did not reach the client's redirect URI (now at ${page.url()}): ${failed.message.split('\n')[0]}${csp}`);
  }
  return new URL(page.url());
}

/** A short tag of a variant for names and addresses: desktop-light -> dl. */
export function tagOf(variant) {
  return variant.name
    .split('-')
    .map((w) => w[0])
    .join('');
}

/** A random suffix, so that every run makes new accounts. */
export const RUN = Math.random().toString(36).slice(2, 8);

/** A password that passes the policy and names nobody. */
export function newPassword(tag) {
  return `Quiet-lantern-${tag}-${Math.random().toString(36).slice(2, 10)}`;
}

export { ok, eq };
