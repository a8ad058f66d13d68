// Drives Gatehouse's user-visible pages in a real headless Chromium:
// authorize -> login (a wrong password first) -> consent -> the client's
// callback, the error page of an unknown client, the sign-out confirmation
// and signed-out pages, and the error page of an unregistered
// post_logout_redirect_uri. Every page is checked for console errors, CSP
// violations, failed requests, keyboard-only use with a visible focus
// indicator, text contrast, target sizes and horizontal overflow, in four
// variants: desktop and phone (390x844), each in light and dark colour
// scheme, and desktop in forced colours (high contrast); the first variant
// also checks reflow at 320px and runs form_post with and without
// JavaScript. Screenshots go to screenshots/ next to this file.
//
// Run it through scripts/screenshots, which prepares a database and a
// server. To run it by hand against a server that is already up:
//
//   GATEHOUSE_ISSUER=http://127.0.0.1:8080/t/acme \
//   GATEHOUSE_CLIENT_ID=... GATEHOUSE_REDIRECT_URI=http://127.0.0.1:8091/callback \
//   GATEHOUSE_USERNAME=alice GATEHOUSE_PASSWORD=... node flow.mjs
//
// The redirect URI must be on 127.0.0.1: this script listens on its port
// and records what the client would receive. Exit status: 0 when every
// check passed, 1 otherwise. Warnings (advisory findings) do not fail it.

import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));

function need(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`flow.mjs: ${name} is not set (see the comment at the top of this file)`);
    process.exit(2);
  }
  return v;
}

const ISSUER = need('GATEHOUSE_ISSUER').replace(/\/+$/, '');
const CLIENT_ID = need('GATEHOUSE_CLIENT_ID');
const CLIENT_NAME = process.env.GATEHOUSE_CLIENT_NAME || 'Acme Web';
const TENANT_NAME = process.env.GATEHOUSE_TENANT_NAME || 'Acme Corp';
const REDIRECT_URI = need('GATEHOUSE_REDIRECT_URI');
const USERNAME = need('GATEHOUSE_USERNAME');
const PASSWORD = need('GATEHOUSE_PASSWORD');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = path.resolve(process.env.SCREENSHOT_DIR || path.join(here, 'screenshots'));
const ONLY = (process.env.FLOW_VARIANTS || '').split(',').filter(Boolean);

const LOOPBACK = new Set(['127.0.0.1']);
for (const u of [ISSUER, REDIRECT_URI]) {
  if (!LOOPBACK.has(new URL(u).hostname)) {
    console.error(`flow.mjs: ${u} is not on 127.0.0.1; this script only talks to loopback`);
    process.exit(2);
  }
}

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Host names resolve to nothing: only IP literals (127.0.0.1) are reachable.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
];

const VARIANTS = [
  { name: 'desktop-light', colorScheme: 'light', viewport: { width: 1280, height: 800 } },
  { name: 'desktop-dark', colorScheme: 'dark', viewport: { width: 1280, height: 800 } },
  {
    name: 'phone-light',
    colorScheme: 'light',
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 3,
    isMobile: true,
    hasTouch: true,
  },
  {
    name: 'phone-dark',
    colorScheme: 'dark',
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 3,
    isMobile: true,
    hasTouch: true,
  },
  // Windows High Contrast and similar: the system's colours replace the
  // page's; backgrounds and box-shadows disappear.
  { name: 'forced-colors', colorScheme: 'dark', forcedColors: 'active', viewport: { width: 1280, height: 800 } },
].filter((v) => ONLY.length === 0 || ONLY.includes(v.name));

// ---------------------------------------------------------------- results

const failures = [];
const warnings = [];
const faviconMisses = new Set();
let passed = 0;
let scope = '';

function ok(cond, what) {
  if (cond) {
    passed += 1;
  } else {
    failures.push(`${scope}: ${what}`);
    console.log(`  FAIL ${what}`);
  }
  return cond;
}

function warn(what) {
  warnings.push(`${scope}: ${what}`);
  console.log(`  WARN ${what}`);
}

function eq(actual, expected, what) {
  return ok(actual === expected, `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

// ---------------------------------------------------------------- the client's callback

/** Listens on the redirect URI's port and records every request it gets. */
function startCallbackListener() {
  const u = new URL(REDIRECT_URI);
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

// ---------------------------------------------------------------- OAuth helpers

function b64url(buf) {
  return buf.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function newRequest(extra = {}) {
  const verifier = b64url(randomBytes(32));
  const params = {
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    scope: 'openid profile email',
    state: b64url(randomBytes(16)),
    nonce: b64url(randomBytes(16)),
    code_challenge: b64url(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
    ...extra,
  };
  if (params.code_challenge.length !== 43) throw new Error('code_challenge is not 43 characters');
  return { params, url: `${ISSUER}/authorize?${new URLSearchParams(params)}` };
}

// ---------------------------------------------------------------- in-page probes

/**
 * Runs in the page: WCAG contrast of the text of the elements matching each
 * selector, against the first opaque background behind them; non-text
 * contrast of input and secondary-button borders; target sizes; overflow;
 * landmarks and labels.
 */
function pageAudit() {
  const parse = (c) => {
    const m = c.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const lum = ({ r, g, b }) => {
    const f = (v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const ratio = (a, b) => {
    const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  };
  const bgOf = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0.5) return c;
    }
    return parse(getComputedStyle(document.documentElement).backgroundColor) || { r: 255, g: 255, b: 255, a: 1 };
  };
  const describe = (el) =>
    el.tagName.toLowerCase() +
    (el.id ? `#${el.id}` : '') +
    (el.className && typeof el.className === 'string' ? `.${el.className.trim().split(/\s+/).join('.')}` : '') +
    (el.name ? `[name=${el.name}]` : '') +
    (el.value && el.tagName === 'BUTTON' ? `[value=${el.value}]` : '');

  const text = [];
  const sel = 'h1, h2, p, label, strong, li span, button, input[type=text], input[type=password], a';
  for (const el of document.querySelectorAll(sel)) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    const s = getComputedStyle(el);
    const fg = parse(s.color);
    const bg = bgOf(el);
    const size = parseFloat(s.fontSize);
    const bold = Number(s.fontWeight) >= 700;
    const large = size >= 24 || (bold && size >= 18.66);
    text.push({
      el: describe(el),
      text: (el.value || el.textContent || '').trim().slice(0, 40),
      ratio: Math.round(ratio(fg, bg) * 100) / 100,
      need: large ? 3 : 4.5,
      fontSize: size,
    });
  }

  const borders = [];
  for (const el of document.querySelectorAll('input[type=text], input[type=password], .button:not(.button-primary)')) {
    const s = getComputedStyle(el);
    const border = parse(s.borderTopColor);
    const outside = bgOf(el.parentElement);
    const inside = bgOf(el);
    // A boundary is perceivable if either the border or the fill stands out.
    const best = Math.max(ratio(border, outside), ratio(inside, outside));
    borders.push({ el: describe(el), ratio: Math.round(best * 100) / 100 });
  }

  const targets = [];
  for (const el of document.querySelectorAll('button, input:not([type=hidden]), a[href]')) {
    const r = el.getBoundingClientRect();
    targets.push({ el: describe(el), width: Math.round(r.width), height: Math.round(r.height) });
  }

  const inputs = [...document.querySelectorAll('input:not([type=hidden])')].map((el) => ({
    el: describe(el),
    labels: el.labels ? el.labels.length : 0,
    invalid: el.getAttribute('aria-invalid'),
    describedby: el.getAttribute('aria-describedby'),
  }));

  const de = document.documentElement;
  return {
    title: document.title,
    lang: de.lang,
    h1: [...document.querySelectorAll('h1')].map((h) => h.textContent.trim()),
    h2: [...document.querySelectorAll('h2')].map((h) => h.textContent.replace(/\s+/g, ' ').trim()),
    main: document.querySelectorAll('main').length,
    mainLabel: (() => {
      const m = document.querySelector('main');
      const id = m && m.getAttribute('aria-labelledby');
      return id ? (document.getElementById(id) || { textContent: null }).textContent : null;
    })(),
    overflowX: de.scrollWidth - de.clientWidth,
    stylesheetsLoaded: [...document.styleSheets].every((s) => {
      try {
        return s.cssRules.length > 0;
      } catch {
        return false;
      }
    }),
    bodyBg: getComputedStyle(document.body).backgroundColor,
    text,
    borders,
    targets,
    inputs,
  };
}

/** Runs in the page: how the focused element shows its focus. */
function focusProbe() {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const parse = (c) => {
    const m = c.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const lum = ({ r, g, b }) => {
    const f = (v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const ratio = (a, b) => {
    const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  };
  const bgOf = (e) => {
    for (; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0.5) return c;
    }
    return { r: 255, g: 255, b: 255, a: 1 };
  };
  const s = getComputedStyle(el);
  const outlineWidth = parseFloat(s.outlineWidth) || 0;
  const outline = s.outlineStyle !== 'none' && outlineWidth > 0;
  const shadow = s.boxShadow && s.boxShadow !== 'none';
  const oc = parse(s.outlineColor);
  return {
    tag: el.tagName.toLowerCase(),
    id: el.id,
    name: el.getAttribute('name'),
    type: el.getAttribute('type'),
    value: el.getAttribute('value'),
    text: el.textContent.trim(),
    focusVisible: el.matches(':focus-visible'),
    outline: outline ? `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor} offset ${s.outlineOffset}` : null,
    boxShadow: shadow ? s.boxShadow : null,
    outlineContrast: outline && oc ? Math.round(ratio(oc, bgOf(el.parentElement)) * 100) / 100 : null,
    outlineWidth,
  };
}

// ---------------------------------------------------------------- per-page checks

/** Watches a page for console errors, page errors, CSP violations, failed requests. */
function watch(page) {
  const events = { console: [], pageErrors: [], csp: [], failed: [], badResponses: [], offLoopback: [] };
  page.on('console', (msg) => {
    if (msg.text().startsWith('[csp] ')) {
      events.csp.push(msg.text().slice(6));
      return;
    }
    // Chromium asks for /favicon.ico at the origin's root when a page names
    // no icon; that failure is counted once per variant (see faviconMisses).
    if (/\/favicon\.ico$/.test(msg.location().url || '')) {
      faviconMisses.add(`${scope}: ${msg.text()}`);
      return;
    }
    if (msg.type() === 'error' || msg.type() === 'warning') {
      events.console.push({ type: msg.type(), text: msg.text(), url: msg.location().url });
    }
  });
  page.on('pageerror', (e) => events.pageErrors.push(String(e)));
  page.on('requestfailed', (r) => {
    const f = r.failure();
    // A navigation replaced by another one is not a failure of the page.
    if (f && f.errorText === 'net::ERR_ABORTED' && r.isNavigationRequest()) return;
    events.failed.push(`${r.method()} ${r.url()}: ${f && f.errorText}`);
  });
  page.on('request', (r) => {
    const u = new URL(r.url());
    if ((u.protocol === 'http:' || u.protocol === 'https:') && !LOOPBACK.has(u.hostname)) {
      events.offLoopback.push(r.url());
    }
  });
  page.on('response', (r) => {
    if (r.status() >= 400 && !r.request().isNavigationRequest() && !/\/favicon\.ico$/.test(r.url())) {
      events.badResponses.push(`${r.status()} ${r.url()}`);
    }
  });
  return events;
}

/** Checks the page now shown and clears the events gathered so far. */
async function checkPage(page, events, label, { status, expectedStatus } = {}) {
  if (expectedStatus !== undefined) eq(status, expectedStatus, `${label}: HTTP status`);
  // Give late violation reports (they are queued as tasks) a moment.
  await page.waitForTimeout(150);
  const csp = [...events.csp];
  const consoleErrors = events.console.filter((m) => {
    // The document of an error page is itself a 4xx response; Chromium logs
    // that as "Failed to load resource" for the document's own URL.
    if (expectedStatus >= 400 && /Failed to load resource: the server responded with a status of 4\d\d/.test(m.text) && m.url === page.url()) {
      return false;
    }
    return true;
  });
  ok(consoleErrors.length === 0, `${label}: no console errors or warnings (${JSON.stringify(consoleErrors)})`);
  ok(events.pageErrors.length === 0, `${label}: no script errors (${JSON.stringify(events.pageErrors)})`);
  ok(csp.length === 0, `${label}: no CSP violations (${JSON.stringify(csp)})`);
  ok(events.failed.length === 0, `${label}: no failed requests (${JSON.stringify(events.failed)})`);
  ok(events.badResponses.length === 0, `${label}: no 4xx/5xx subresources (${JSON.stringify(events.badResponses)})`);
  ok(events.offLoopback.length === 0, `${label}: only loopback requests (${JSON.stringify(events.offLoopback)})`);
  for (const k of Object.keys(events)) events[k].length = 0;

  const a = await page.evaluate(pageAudit);
  eq(a.lang, 'en', `${label}: <html lang>`);
  ok(a.title.endsWith(`· ${TENANT_NAME}`), `${label}: title names the tenant (${a.title})`);
  eq(a.main, 1, `${label}: one <main> landmark`);
  ok(a.mainLabel && a.mainLabel.trim().length > 0, `${label}: <main> is labelled by the page heading`);
  eq(a.h1.length, 1, `${label}: one <h1>`);
  eq(a.h2.length, 1, `${label}: one <h2>`);
  ok(a.stylesheetsLoaded, `${label}: the stylesheet loaded and applied`);
  ok(a.overflowX <= 0, `${label}: no horizontal scrolling (overflow ${a.overflowX}px)`);
  for (const t of a.text) {
    ok(t.ratio >= t.need, `${label}: text contrast of ${t.el} "${t.text}" is ${t.ratio}:1 (needs ${t.need}:1)`);
  }
  for (const b of a.borders) {
    if (b.ratio < 3) {
      warn(`${label}: boundary of ${b.el} has ${b.ratio}:1 against its surroundings (WCAG 1.4.11 asks 3:1 for the visual boundary of a control)`);
    }
  }
  for (const t of a.targets) {
    ok(t.width >= 24 && t.height >= 24, `${label}: target size of ${t.el} is ${t.width}x${t.height} (WCAG 2.5.8 needs 24x24)`);
    if (t.height < 44) warn(`${label}: ${t.el} is ${t.height}px high (44px is the comfortable touch size)`);
  }
  for (const i of a.inputs) ok(i.labels === 1, `${label}: ${i.el} has exactly one <label>`);
  return a;
}

/**
 * Moves the sequential focus navigation starting point to the top of the
 * document (as a click on the page background does), then presses Tab
 * `count` times; returns what had focus after each press.
 */
async function tabThrough(page, count) {
  await page.evaluate(() => {
    if (document.activeElement) document.activeElement.blur();
  });
  await page.mouse.click(1, 1);
  const seen = [];
  for (let i = 0; i < count; i += 1) {
    await page.keyboard.press('Tab');
    seen.push(await page.evaluate(focusProbe));
  }
  return seen;
}

function checkFocusStyle(label, f) {
  const what = f ? `${f.tag}${f.id ? '#' + f.id : ''}${f.value ? '[' + f.value + ']' : ''}` : 'nothing';
  ok(f && f.focusVisible, `${label}: ${what} matches :focus-visible after Tab`);
  ok(f && (f.outline || f.boxShadow), `${label}: ${what} has a visible focus style (outline ${f && f.outline}, box-shadow ${f && f.boxShadow})`);
  if (f && f.outline) {
    ok(f.outlineWidth >= 2, `${label}: focus outline of ${what} is at least 2px (${f.outlineWidth}px)`);
    ok(f.outlineContrast >= 3, `${label}: focus outline of ${what} has ${f.outlineContrast}:1 against the card (needs 3:1)`);
  }
}

/**
 * WCAG 1.4.10 (reflow): at 320 CSS pixels wide (1280 at 400% zoom) the page
 * must not scroll sideways. Shoots the narrow layout, then restores the
 * viewport.
 */
async function checkReflow(page, variant, n, name) {
  const before = page.viewportSize();
  await page.setViewportSize({ width: 320, height: 640 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  ok(overflow <= 0, `${name}: no horizontal scrolling at 320px wide (overflow ${overflow}px)`);
  await shot(page, variant, n, `${name}-320px`);
  await page.setViewportSize(before);
}

async function shot(page, variant, n, name) {
  const file = path.join(SHOTS, `${variant.name}-${String(n).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

// ---------------------------------------------------------------- the flow of one variant

async function runVariant(variant, callback) {
  scope = variant.name;
  console.log(`\n== ${variant.name} (${variant.colorScheme}, ${variant.viewport.width}x${variant.viewport.height})`);
  const profile = mkdtempSync(path.join(tmpdir(), 'gatehouse-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: true,
    colorScheme: variant.colorScheme,
    forcedColors: variant.forcedColors || 'none',
    reducedMotion: 'reduce',
    viewport: variant.viewport,
    deviceScaleFactor: variant.deviceScaleFactor || 1,
    isMobile: variant.isMobile || false,
    hasTouch: variant.hasTouch || false,
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  let n = 0;
  try {
    context.setDefaultTimeout(15000);
    context.setDefaultNavigationTimeout(15000);
    // Reports `securitypolicyviolation` events through the console, which is
    // watched even across navigations (init scripts are not subject to the
    // page's CSP). Chromium's own "Refused to ..." messages are errors too.
    await context.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        console.error(
          `[csp] ${JSON.stringify({ directive: e.violatedDirective, blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber })}`,
        );
      });
    });
    const page = context.pages()[0] || (await context.newPage());
    const events = watch(page);

    // 1. The error page of an unknown client: never a redirect.
    {
      const { url } = newRequest({ client_id: 'no-such-client' });
      const before = callback.hits.length;
      const r = await page.goto(url);
      eq(new URL(page.url()).pathname, new URL(`${ISSUER}/authorize`).pathname, 'unknown client: stays on /authorize (no redirect)');
      await checkPage(page, events, 'unknown-client error page', { status: r.status(), expectedStatus: 400 });
      eq(await page.locator('h2').innerText(), 'This request cannot be completed', 'unknown client: heading');
      ok((await page.getByRole('alert').innerText()).length > 10, 'unknown client: the message is a role=alert notice');
      eq(callback.hits.length, before, 'unknown client: the client received nothing');
      await shot(page, variant, ++n, 'error-unknown-client');
    }

    // 2. authorize -> the login page.
    const request = newRequest({ prompt: 'consent' });
    {
      const r = await page.goto(request.url);
      const u = new URL(page.url());
      eq(u.pathname, new URL(`${ISSUER}/login`).pathname, 'authorize: lands on the login page');
      ok(u.searchParams.get('req'), 'authorize: the login URL carries req');
      await checkPage(page, events, 'login page', { status: r.status(), expectedStatus: 200 });
      eq(await page.locator('h2').innerText(), 'Sign in', 'login: heading');
      ok((await page.locator('.lead').innerText()).includes(CLIENT_NAME), 'login: names the client');
      const autofocus = await page.evaluate(() => document.activeElement && document.activeElement.id);
      eq(autofocus, 'username', 'login: the username field has focus on load');
      await shot(page, variant, ++n, 'login');

      // Keyboard only: Tab from the document start reaches username,
      // password and the submit button, each with a visible focus style.
      const seen = await tabThrough(page, 3);
      eq(seen.map((f) => f && (f.id || f.text)).join(' > '), 'username > password > Sign in', 'login: Tab order');
      for (const f of seen) checkFocusStyle('login', f);
      if (variant.name === VARIANTS[0].name) await checkReflow(page, variant, ++n, 'login');
      await tabThrough(page, 1);
      await shot(page, variant, ++n, 'login-focus-username');
      await tabThrough(page, 3);
      await shot(page, variant, ++n, 'login-focus-submit');
    }

    // 3. A wrong password, typed and submitted with the keyboard only.
    {
      await tabThrough(page, 1);
      await page.keyboard.type(USERNAME);
      await page.keyboard.press('Tab');
      await page.keyboard.type('not-the-password');
      const nav = page.waitForResponse((r) => r.request().isNavigationRequest() && r.request().method() === 'POST');
      await page.keyboard.press('Enter');
      const r = await nav;
      await page.waitForLoadState('load');
      await checkPage(page, events, 'login page with error', { status: r.status() });
      ok([200, 400, 401].includes(r.status()), `login error: status ${r.status()} is 200, 400 or 401`);
      const alert = page.getByRole('alert');
      eq((await alert.innerText()).trim(), 'Invalid username or password.', 'login error: message');
      eq(await page.inputValue('#username'), USERNAME, 'login error: the username is kept');
      eq(await page.inputValue('#password'), '', 'login error: the password is not echoed back');
      for (const id of ['username', 'password']) {
        eq(await page.getAttribute(`#${id}`, 'aria-invalid'), 'true', `login error: #${id} aria-invalid`);
        eq(await page.getAttribute(`#${id}`, 'aria-describedby'), 'login-error', `login error: #${id} is described by the message`);
      }
      const focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
      if (focused !== 'password') {
        warn(`login error: focus is on "${focused || 'body'}" after a failed login; the password (the field to retype) would save a step`);
      }
      await shot(page, variant, ++n, 'login-wrong-password');
    }

    // 4. The right password (keyboard only) -> the consent page.
    {
      await page.focus('#password');
      await page.keyboard.type(PASSWORD);
      const nav = page.waitForResponse((r) => r.request().isNavigationRequest() && r.request().method() === 'POST');
      await page.keyboard.press('Enter');
      const r = await nav;
      await page.waitForLoadState('load');
      await checkPage(page, events, 'consent page', { status: r.status(), expectedStatus: 200 });
      const consentPath = new URL(page.url()).pathname;
      if (consentPath.endsWith('/login')) {
        warn(`consent: the consent page is the response to the login POST (URL ${consentPath}); reloading it re-posts the password form`);
      }
      ok((await page.locator('h2').innerText()).includes(CLIENT_NAME), 'consent: the heading names the client');
      ok((await page.locator('.lead').innerText()).includes(USERNAME), 'consent: says who is signed in');
      const scopes = await page.locator('.scopes li').count();
      eq(scopes, 3, 'consent: one line per scope (openid, profile, email)');
      await shot(page, variant, ++n, 'consent');
      if (variant.name === VARIANTS[0].name) await checkReflow(page, variant, ++n, 'consent');
      const seen = await tabThrough(page, 2);
      eq(seen.map((f) => f && f.text).join(' > '), 'Deny > Allow', 'consent: Tab order');
      for (const f of seen) checkFocusStyle('consent', f);
      // Focus is on Allow now: the screenshot shows its focus ring.
      await shot(page, variant, ++n, 'consent-focus-allow');
    }

    // 5. Approve with the keyboard -> the client's callback.
    {
      const before = callback.hits.length;
      const nav = page.waitForURL((u) => u.href.startsWith(REDIRECT_URI), { waitUntil: 'load' });
      await page.keyboard.press('Enter');
      await nav;
      const u = new URL(page.url());
      ok(u.searchParams.get('code') && u.searchParams.get('code').length >= 16, 'callback: has a code');
      eq(u.searchParams.get('state'), request.params.state, 'callback: state is returned unchanged');
      eq(u.searchParams.get('iss'), ISSUER, 'callback: iss is the issuer');
      ok(!u.searchParams.get('error'), `callback: no error (${u.searchParams.get('error')})`);
      eq(callback.hits.length, before + 1, 'callback: the client received one request');
      const hit = callback.hits[callback.hits.length - 1];
      ok(hit && hit.method === 'GET' && hit.url.includes('code='), 'callback: the client received the code by GET');
      // The consent page's CSP must allow the form's redirect to the client.
      ok(events.csp.length === 0, `consent -> callback: no CSP violation on the way (${JSON.stringify(events.csp)})`);
      const consoleErrors = events.console.filter((m) => m.type === 'error');
      ok(consoleErrors.length === 0, `consent -> callback: no console errors (${JSON.stringify(consoleErrors)})`);
      for (const k of Object.keys(events)) events[k].length = 0;
    }

    // 6. Deny, once: the client gets error=access_denied with state and iss.
    if (variant.name === VARIANTS[0].name) {
      const deny = newRequest({ prompt: 'consent' });
      await page.goto(deny.url);
      ok(new URL(page.url()).pathname.endsWith('/authorize') && (await page.locator('.scopes').count()) === 1,
        'deny: a signed-in user goes straight to the consent page');
      await checkPage(page, events, 'consent page (signed in)');
      const nav = page.waitForURL((u) => u.href.startsWith(REDIRECT_URI), { waitUntil: 'load' });
      await page.getByRole('button', { name: 'Deny' }).click();
      await nav;
      const u = new URL(page.url());
      eq(u.searchParams.get('error'), 'access_denied', 'deny: error=access_denied');
      eq(u.searchParams.get('state'), deny.params.state, 'deny: state');
      eq(u.searchParams.get('iss'), ISSUER, 'deny: iss');
      ok(!u.searchParams.get('code'), 'deny: no code');
      for (const k of Object.keys(events)) events[k].length = 0;

      // form_post (consent remembered): the page's nonce script submits
      // the form to the client by itself.
      const fp = newRequest({ response_mode: 'form_post' });
      const before = callback.hits.length;
      const nav2 = page.waitForURL((u2) => u2.href.startsWith(REDIRECT_URI), { waitUntil: 'load' });
      await page.goto(fp.url);
      await nav2;
      const hit = callback.hits[callback.hits.length - 1];
      ok(callback.hits.length === before + 1 && hit.method === 'POST', 'form_post: the client received a POST');
      const body = new URLSearchParams(hit ? hit.body : '');
      ok(body.get('code'), 'form_post: has a code');
      eq(body.get('state'), fp.params.state, 'form_post: state');
      eq(body.get('iss'), ISSUER, 'form_post: iss');
      const fpErrors = events.console.filter((m) => m.type === 'error');
      ok(fpErrors.length === 0 && events.csp.length === 0, `form_post: no console errors or CSP violations (${JSON.stringify(fpErrors)})`);
      for (const k of Object.keys(events)) events[k].length = 0;
    }

    // 7. Sign out without an id_token_hint: a confirmation page, then the
    // signed-out page.
    {
      const r = await page.goto(`${ISSUER}/logout`);
      await checkPage(page, events, 'logout confirmation page', { status: r.status(), expectedStatus: 200 });
      eq(await page.locator('h2').innerText(), 'Sign out?', 'logout: asks for confirmation');
      const seen = await tabThrough(page, 1);
      eq(seen[0] && seen[0].text, 'Sign out', 'logout: Tab reaches the Sign out button');
      checkFocusStyle('logout', seen[0]);
      await shot(page, variant, ++n, 'logout-confirm');
      const nav = page.waitForResponse((x) => x.request().isNavigationRequest() && x.request().method() === 'POST');
      await page.keyboard.press('Enter');
      const r2 = await nav;
      await page.waitForLoadState('load');
      await checkPage(page, events, 'signed-out page', { status: r2.status(), expectedStatus: 200 });
      eq(await page.locator('h2').innerText(), 'You are signed out', 'logout: signed-out page');
      await shot(page, variant, ++n, 'logged-out');

      // Signed out for real: authorize asks for the password again.
      await page.goto(newRequest().url);
      ok(new URL(page.url()).pathname.endsWith('/login'), 'after logout: authorize shows the login page again');
      for (const k of Object.keys(events)) events[k].length = 0;
    }

    // 8. A post_logout_redirect_uri that is not registered: an error page.
    {
      const bad = new URL(REDIRECT_URI);
      bad.pathname = '/not-registered';
      const q = new URLSearchParams({ client_id: CLIENT_ID, post_logout_redirect_uri: bad.href, state: 'xyz' });
      const before = callback.hits.length;
      const r = await page.goto(`${ISSUER}/logout?${q}`);
      eq(new URL(page.url()).pathname, new URL(`${ISSUER}/logout`).pathname, 'bad post_logout_redirect_uri: no redirect');
      await checkPage(page, events, 'logout error page', { status: r.status(), expectedStatus: 400 });
      eq(await page.locator('h2').innerText(), 'This sign-out request cannot be completed', 'logout error: heading');
      ok((await page.getByRole('alert').innerText()).includes('not registered'), 'logout error: explains the address is not registered');
      eq(callback.hits.length, before, 'logout error: the unregistered address received nothing');
      await shot(page, variant, ++n, 'error-logout-redirect');
    }

    // 9. The form_post page as someone without JavaScript sees it (once).
    if (variant.name === VARIANTS[0].name) {
      await noScriptFormPost(variant, callback, ++n);
    }
  } catch (e) {
    failures.push(`${scope}: aborted: ${e && e.message ? e.message.split('\n')[0] : e}`);
    console.log(`  FAIL aborted: ${e && e.stack ? e.stack : e}`);
    try {
      const page = context.pages()[0];
      if (page) await shot(page, variant, 99, 'aborted');
    } catch {
      // nothing more to show
    }
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

/** The whole flow with JavaScript off, ending on the form_post page. */
async function noScriptFormPost(variant, callback, n) {
  const profile = mkdtempSync(path.join(tmpdir(), 'gatehouse-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: true,
    colorScheme: variant.colorScheme,
    viewport: variant.viewport,
    javaScriptEnabled: false,
  });
  try {
    const page = context.pages()[0] || (await context.newPage());
    const events = watch(page);
    const fp = newRequest({ response_mode: 'form_post', prompt: 'consent' });
    await page.goto(fp.url);
    await page.fill('#username', USERNAME);
    await page.fill('#password', PASSWORD);
    await Promise.all([
      page.waitForResponse((r) => r.request().isNavigationRequest() && r.request().method() === 'POST'),
      page.click('button[type=submit]'),
    ]);
    await page.waitForLoadState('load');
    await Promise.all([
      page.waitForResponse((r) => r.request().isNavigationRequest() && r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Allow' }).click(),
    ]);
    await page.waitForLoadState('load');
    eq(await page.locator('h2').innerText(), 'Returning to the application', 'no-JS form_post: the manual page');
    ok(events.console.filter((m) => m.type === 'error' && !/script/i.test(m.text)).length === 0,
      `no-JS form_post: no console errors (${JSON.stringify(events.console)})`);
    await shot(page, { name: `${variant.name}-nojs` }, n, 'form-post');
    const before = callback.hits.length;
    await Promise.all([page.waitForURL((u) => u.href.startsWith(REDIRECT_URI)), page.getByRole('button', { name: 'Continue' }).click()]);
    const hit = callback.hits[callback.hits.length - 1];
    ok(callback.hits.length === before + 1 && hit.method === 'POST', 'no-JS form_post: Continue posts to the client');
    eq(new URLSearchParams(hit ? hit.body : '').get('state'), fp.params.state, 'no-JS form_post: state');
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- main

async function main() {
  mkdirSync(SHOTS, { recursive: true });
  for (const f of readdirSync(SHOTS)) if (f.endsWith('.png')) rmSync(path.join(SHOTS, f));
  const callback = await startCallbackListener();
  try {
    for (const v of VARIANTS) await runVariant(v, callback);
  } finally {
    callback.server.close();
  }
  const shots = readdirSync(SHOTS).filter((f) => f.endsWith('.png')).sort();
  console.log(`\n${shots.length} screenshots in ${path.relative(process.cwd(), SHOTS) || '.'}/`);
  for (const s of shots) console.log(`  ${s}`);
  for (const f of faviconMisses) {
    failures.push(`${f} (the pages name no icon, so Chromium asks the origin's /favicon.ico)`);
  }
  if (warnings.length) {
    console.log(`\n${warnings.length} warning(s):`);
    for (const w of new Set(warnings)) console.log(`  - ${w}`);
  }
  console.log(`\n${passed} check(s) passed, ${failures.length} failed`);
  for (const f of failures) console.log(`  - ${f}`);
  process.exitCode = failures.length ? 1 : 0;
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
