// What every browser check shares: the tally of results, the browser
// variants, launching Chromium, watching a page for errors, the page audit
// (console, CSP, contrast, target sizes, overflow, landmarks, labels),
// keyboard checks and screenshots. The flows in ../flows/ use it; flow.mjs
// runs them.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const SHOTS = path.resolve(process.env.SCREENSHOT_DIR || path.join(here, '..', 'screenshots'));
const ONLY = (process.env.FLOW_VARIANTS || '').split(',').filter(Boolean);

// The server is reached at localhost (WebAuthn needs a domain and a secure
// context, and http://localhost is one); the client's callback listens on
// 127.0.0.1. Both are loopback, and nothing else is allowed.
export const LOOPBACK = new Set(['127.0.0.1', 'localhost']);

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Host names resolve to nothing but localhost, which is 127.0.0.1 (never
  // ::1: the server listens on 127.0.0.1 only): only loopback is reachable.
  '--host-resolver-rules=MAP localhost 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
];

const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true };
const DESKTOP = { viewport: { width: 1280, height: 800 } };

export const ALL_VARIANTS = [
  { name: 'desktop-light', colorScheme: 'light', ...DESKTOP },
  { name: 'desktop-dark', colorScheme: 'dark', ...DESKTOP },
  { name: 'phone-light', colorScheme: 'light', ...PHONE },
  { name: 'phone-dark', colorScheme: 'dark', ...PHONE },
  // Windows High Contrast and similar: the system's colours replace the
  // page's; backgrounds and box-shadows disappear.
  { name: 'forced-colors', colorScheme: 'dark', forcedColors: 'active', ...DESKTOP },
];

/** The variants named (all of them unless FLOW_VARIANTS narrows them). */
export function variants(names = ALL_VARIANTS.map((v) => v.name)) {
  return ALL_VARIANTS.filter((v) => names.includes(v.name) && (ONLY.length === 0 || ONLY.includes(v.name)));
}

/** The variant called `name`, whatever FLOW_VARIANTS says. */
export function variant(name) {
  const v = ALL_VARIANTS.find((x) => x.name === name);
  if (!v) throw new Error(`no variant ${name}`);
  return v;
}

// ---------------------------------------------------------------- results

export const results = { failures: [], warnings: [], passed: 0, scope: '', faviconMisses: new Set(), warnGroups: new Map() };

export function setScope(s) {
  results.scope = s;
}

export function ok(cond, what) {
  if (cond) {
    results.passed += 1;
  } else {
    results.failures.push(`${results.scope}: ${what}`);
    console.log(`  FAIL ${what}`);
  }
  return cond;
}

/**
 * An advisory finding. Findings with the same `group` (the finding without
 * the page's label) are printed once and summed up once at the end.
 */
export function warn(what, group = what) {
  results.warnings.push(`${results.scope}: ${what}`);
  const g = results.warnGroups.get(group);
  if (g) {
    g.where.add(results.scope);
    g.count += 1;
    return;
  }
  results.warnGroups.set(group, { count: 1, where: new Set([results.scope]) });
  console.log(`  WARN ${what}`);
}

export function eq(actual, expected, what) {
  return ok(actual === expected, `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

/** Records an exception that ended a flow early as a failure. */
export function aborted(e) {
  results.failures.push(`${results.scope}: aborted: ${e && e.message ? e.message.split('\n')[0] : e}`);
  console.log(`  FAIL aborted: ${e && e.stack ? e.stack : e}`);
}

// ---------------------------------------------------------------- the browser

/**
 * A fresh browser profile in `variant`, with CSP violations reported to the
 * console. Returns { context, page, events, close }. Extra options go to
 * launchPersistentContext (userAgent, locale, javaScriptEnabled, ...).
 */
export async function launch(variant, extra = {}) {
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
    ...extra,
  });
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
  return {
    context,
    page,
    events,
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------- in-page probes

/**
 * Runs in the page: WCAG contrast of the text of the elements matching each
 * selector, against the first opaque background behind them; non-text
 * contrast of input and secondary-button borders; target sizes; overflow;
 * landmarks and labels. Elements that are not rendered (the `hidden`
 * username field of password forms) are left out.
 */
export function pageAudit() {
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
  const shown = (el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden';
  };
  const describe = (el) =>
    el.tagName.toLowerCase() +
    (el.id ? `#${el.id}` : '') +
    (el.className && typeof el.className === 'string' && el.className.trim() ? `.${el.className.trim().split(/\s+/).join('.')}` : '') +
    (el.name ? `[name=${el.name}]` : '') +
    (el.value && el.tagName === 'BUTTON' ? `[value=${el.value}]` : '');

  const text = [];
  const sel =
    'h1, h2, h3, p, label, td, th, dt, dd, caption, strong, li span, li code, p code, button, select, input[type=text], input[type=password], input[type=email], a, .badge';
  for (const el of document.querySelectorAll(sel)) {
    if (!shown(el)) continue;
    const content = el.tagName === 'SELECT' ? el.options[el.selectedIndex]?.text || '' : (el.value || el.textContent || '').trim();
    // No text (an h1 that holds the logo): nothing to read.
    if (el.tagName !== 'INPUT' && !content.trim()) continue;
    const s = getComputedStyle(el);
    const fg = parse(s.color);
    const bg = bgOf(el);
    const size = parseFloat(s.fontSize);
    const bold = Number(s.fontWeight) >= 700;
    const large = size >= 24 || (bold && size >= 18.66);
    text.push({
      el: describe(el),
      text: content.trim().slice(0, 40),
      ratio: Math.round(ratio(fg, bg) * 100) / 100,
      need: large ? 3 : 4.5,
      fontSize: size,
    });
  }

  const borders = [];
  for (const el of document.querySelectorAll(
    'input[type=text], input[type=password], input[type=email], select, .button:not(.button-primary)',
  )) {
    if (!shown(el)) continue;
    const s = getComputedStyle(el);
    const border = parse(s.borderTopColor);
    const outside = bgOf(el.parentElement);
    const inside = bgOf(el);
    // A boundary is perceivable if either the border or the fill stands out.
    const best = Math.max(ratio(border, outside), ratio(inside, outside));
    borders.push({ el: describe(el), ratio: Math.round(best * 100) / 100 });
  }

  const targets = [];
  for (const el of document.querySelectorAll('button, input:not([type=hidden]), select, a[href]')) {
    if (!shown(el)) continue;
    const r = el.getBoundingClientRect();
    // WCAG 2.5.8 exempts a link inside a sentence (its size is the text's).
    const inline =
      el.tagName === 'A' &&
      getComputedStyle(el).display === 'inline' &&
      el.parentElement &&
      el.parentElement.textContent.trim().length > el.textContent.trim().length;
    const label = (el.textContent || el.value || '').trim().replace(/\s+/g, ' ').slice(0, 30);
    targets.push({ el: `${describe(el)}${label ? ` "${label}"` : ''}`, width: Math.round(r.width), height: Math.round(r.height), inline });
  }

  const inputs = [...document.querySelectorAll('input:not([type=hidden]), select, textarea')].filter(shown).map((el) => ({
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
    brokenImages: [...document.images].filter((i) => !i.complete || i.naturalWidth === 0).map((i) => i.currentSrc.slice(0, 60)),
    bodyBg: getComputedStyle(document.body).backgroundColor,
    text,
    borders,
    targets,
    inputs,
  };
}

/** Runs in the page: how the focused element shows its focus. */
export function focusProbe() {
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
  const r = el.getBoundingClientRect();
  return {
    tag: el.tagName.toLowerCase(),
    id: el.id,
    name: el.getAttribute('name'),
    type: el.getAttribute('type'),
    value: el.getAttribute('value'),
    text: el.textContent.trim(),
    key: el.dataset ? el.dataset.kbAudit || null : null,
    focusVisible: el.matches(':focus-visible'),
    outline: outline ? `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor} offset ${s.outlineOffset}` : null,
    boxShadow: shadow ? s.boxShadow : null,
    outlineContrast: outline && oc ? Math.round(ratio(oc, bgOf(el.parentElement)) * 100) / 100 : null,
    outlineWidth,
    inViewport: r.bottom > 0 && r.top < window.innerHeight && r.right > 0 && r.left < window.innerWidth,
  };
}

// ---------------------------------------------------------------- per-page checks

/** Watches a page for console errors, page errors, CSP violations, failed requests. */
export function watch(page) {
  const events = { console: [], pageErrors: [], csp: [], failed: [], badResponses: [], offLoopback: [] };
  page.on('console', (msg) => {
    if (msg.text().startsWith('[csp] ')) {
      events.csp.push(msg.text().slice(6));
      return;
    }
    // Chromium asks for /favicon.ico at the origin's root when a page names
    // no icon; that failure is counted once per variant (see faviconMisses).
    if (/\/favicon\.ico$/.test(msg.location().url || '')) {
      results.faviconMisses.add(`${results.scope}: ${msg.text()}`);
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

export function clearEvents(events) {
  for (const k of Object.keys(events)) events[k].length = 0;
}

/** The tenant name page titles end with, unless a check says otherwise. */
export const pageDefaults = { tenantName: 'Acme Corp', lang: 'en' };

/**
 * Checks the page now shown and clears the events gathered so far.
 * Options: status and expectedStatus (of the response that showed it),
 * tenantName (the end of the title), lang (of <html>).
 */
export async function checkPage(page, events, label, { status, expectedStatus, tenantName, lang, console: consolePage = false } = {}) {
  tenantName = tenantName || pageDefaults.tenantName;
  lang = lang || pageDefaults.lang;
  if (expectedStatus !== undefined) eq(status, expectedStatus, `${label}: HTTP status`);
  // Give late violation reports (they are queued as tasks) a moment.
  await page.waitForTimeout(150);
  const csp = [...events.csp];
  const consoleErrors = events.console.filter((m) => {
    // The document of an error page is itself a 4xx response; Chromium logs
    // that as "Failed to load resource" for the document's own URL.
    if (
      (expectedStatus >= 400 || status >= 400) &&
      /Failed to load resource: the server responded with a status of 4\d\d/.test(m.text) &&
      m.url === page.url()
    ) {
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
  clearEvents(events);

  const a = await page.evaluate(pageAudit);
  eq(a.lang, lang, `${label}: <html lang>`);
  ok(a.title.endsWith(`· ${tenantName}`), `${label}: title names the tenant "${tenantName}" (${a.title})`);
  eq(a.main, 1, `${label}: one <main> landmark`);
  ok(a.mainLabel && a.mainLabel.trim().length > 0, `${label}: <main> is labelled by the page heading`);
  eq(a.h1.length, 1, `${label}: one <h1>`);
  // Sign-in pages: the tenant's name (h1) over one card (h2). Console
  // pages: the page's title (h1) over sections (h2 each).
  if (!consolePage) eq(a.h2.length, 1, `${label}: one <h2>`);
  ok(a.stylesheetsLoaded, `${label}: the stylesheet loaded and applied`);
  ok(a.brokenImages.length === 0, `${label}: every image loaded (${JSON.stringify(a.brokenImages)})`);
  ok(a.overflowX <= 0, `${label}: no horizontal scrolling (overflow ${a.overflowX}px)`);
  for (const t of a.text) {
    ok(t.ratio >= t.need, `${label}: text contrast of ${t.el} "${t.text}" is ${t.ratio}:1 (needs ${t.need}:1)`);
  }
  for (const b of a.borders) {
    if (b.ratio < 3) {
      const g = `boundary of ${b.el} has ${b.ratio}:1 against its surroundings (WCAG 1.4.11 asks 3:1 for the visual boundary of a control)`;
      warn(`${label}: ${g}`, g);
    }
  }
  for (const t of a.targets) {
    if (t.inline) {
      const g = `inline link ${t.el} is ${t.width}x${t.height} (exempt from WCAG 2.5.8 as part of a sentence)`;
      if (t.height < 24) warn(`${label}: ${g}`, g);
      continue;
    }
    ok(t.width >= 24 && t.height >= 24, `${label}: target size of ${t.el} is ${t.width}x${t.height} (WCAG 2.5.8 needs 24x24)`);
    const g = `${t.el} is ${t.height}px high (44px is the comfortable touch size)`;
    if (t.height < 44) warn(`${label}: ${g}`, g);
  }
  for (const i of a.inputs) ok(i.labels === 1, `${label}: ${i.el} has exactly one <label>`);
  return a;
}

/**
 * Moves the sequential focus navigation starting point to the top of the
 * document (as a click on the page background does), then presses Tab
 * `count` times; returns what had focus after each press.
 */
export async function tabThrough(page, count) {
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

export function checkFocusStyle(label, f) {
  const what = f ? `${f.tag}${f.id ? '#' + f.id : ''}${f.value ? '[' + f.value + ']' : ''}${f.tag === 'a' ? ' "' + f.text + '"' : ''}` : 'nothing';
  ok(f && f.focusVisible, `${label}: ${what} matches :focus-visible after Tab`);
  ok(f && (f.outline || f.boxShadow), `${label}: ${what} has a visible focus style (outline ${f && f.outline}, box-shadow ${f && f.boxShadow})`);
  if (f && f.outline) {
    ok(f.outlineWidth >= 2, `${label}: focus outline of ${what} is at least 2px (${f.outlineWidth}px)`);
    ok(f.outlineContrast >= 3, `${label}: focus outline of ${what} has ${f.outlineContrast}:1 against the card (needs 3:1)`);
  }
}

/**
 * Keyboard-only use of the whole page: Tab from the top reaches every
 * visible control (links, buttons, fields) once, in document order, each
 * with a visible focus indicator and scrolled into view.
 */
export async function keyboardAudit(page, label) {
  const expected = await page.evaluate(() => {
    const all = [...document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]')].filter((el) => {
      if (el.disabled || el.hidden || el.type === 'hidden') return false;
      if (el.getAttribute('tabindex') !== null && Number(el.getAttribute('tabindex')) < 0) return false;
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden';
    });
    return all.map((el, i) => {
      el.dataset.kbAudit = String(i);
      const name = el.tagName.toLowerCase() + (el.id ? `#${el.id}` : '');
      return `${name} "${(el.textContent || el.value || el.name || '').trim().replace(/\s+/g, ' ').slice(0, 30)}"`;
    });
  });
  const seen = await tabThrough(page, expected.length);
  const got = seen.map((f) => (f && f.key !== null ? expected[Number(f.key)] : f ? `${f.tag} (not expected)` : 'nothing'));
  eq(got.join(' > '), expected.join(' > '), `${label}: Tab reaches every control in document order`);
  for (const f of seen) {
    checkFocusStyle(label, f);
    if (f) ok(f.inViewport, `${label}: ${f.tag}${f.id ? '#' + f.id : ''} "${f.text.slice(0, 30)}" is scrolled into view when focused`);
  }
  await page.evaluate(() => {
    for (const el of document.querySelectorAll('[data-kb-audit]')) delete el.dataset.kbAudit;
    if (document.activeElement) document.activeElement.blur();
  });
}

/**
 * WCAG 1.4.10 (reflow): at 320 CSS pixels wide (1280 at 400% zoom) the page
 * must not scroll sideways. Shoots the narrow layout, then restores the
 * viewport.
 */
export async function checkReflow(page, variant, n, name) {
  const before = page.viewportSize();
  await page.setViewportSize({ width: 320, height: 640 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  ok(overflow <= 0, `${name}: no horizontal scrolling at 320px wide (overflow ${overflow}px)`);
  await shot(page, variant, n, `${name}-320px`);
  await page.setViewportSize(before);
}

/** A full-page screenshot: screenshots/{variant}-{nn}-{name}.png. */
export async function shot(page, variant, n, name) {
  const file = path.join(SHOTS, `${variant.name}-${String(n).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** A screenshot under a fixed name: screenshots/{name}.png. */
export async function namedShot(page, name, { fullPage = true } = {}) {
  const file = path.join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  return file;
}

/**
 * Submits a form by `action()` (a click or a key press) and waits for the
 * page that answers it, following redirects. Returns the status of the
 * last response of the navigation (the page shown).
 */
export async function submit(page, action) {
  const nav = page.waitForNavigation({ waitUntil: 'load' });
  await action();
  const r = await nav;
  return r ? r.status() : null;
}
