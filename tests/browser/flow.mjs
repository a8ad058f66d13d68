// Drives Gatehouse's user-visible pages in a real headless Chromium and
// checks every page it meets for console errors, CSP violations, failed
// requests, keyboard-only use with a visible focus indicator, text
// contrast, target sizes and horizontal overflow (lib/harness.mjs).
// Screenshots go to screenshots/ next to this file.
//
// The flows (flows/*.mjs), in order:
//
//   basic         authorize -> login (a wrong password first) -> consent ->
//                 the client's callback; Deny; form_post with and without
//                 JavaScript; sign-out; error pages. In five variants:
//                 desktop and phone (390x844), light and dark, and desktop
//                 in forced colours; reflow at 320px once.
//   signup        sign-up -> the verification mail -> Confirm -> sign in
//   reset         "Forgot your password?" -> the reset mail -> a new
//                 password: the old one fails, the new one works
//   totp          TOTP set up on the account page -> sign out -> sign in
//                 with password and code (a wrong code first)
//   mfa-required  a tenant that requires a second step: enrolment at sign-in
//   account       the account page: sessions (sign out another browser),
//                 profile, removing an application's access
//   language      the language switch, ui_locales, Accept-Language
//   branding      the login pages of two differently branded tenants, light
//                 and dark: screenshots/login-{tenant}-{light|dark}.png
//   passkey       a passkey added on the account page with Chromium's
//                 virtual authenticator (CDP WebAuthn domain), renamed, used
//                 as the second step after the password and alone
//                 (passwordless), then removed; the ID tokens' amr and acr
//   console       /platform (as the bootstrap platform administrator) and
//                 /admin (as an owner): see flows/console.mjs
//
// The flows after `basic` run in desktop-light and phone-dark (branding in
// desktop light and dark).
//
// The issuer is on localhost (WebAuthn needs a domain in a secure context,
// and http://localhost is one), so every login page offers "Sign in with a
// passkey"; the browser maps localhost to 127.0.0.1 (lib/harness.mjs).
//
// Run it through scripts/screenshots, which prepares a database, the
// tenants of fixtures.mjs, a server and this script's environment. By hand,
// against a server that is already up and set up the same way:
//
//   GATEHOUSE_ISSUER=http://localhost:8080/t/acme GATEHOUSE_CLIENT_ID=... \
//   GATEHOUSE_CLIENT_SECRET=... \
//   GATEHOUSE_GLOBEX_ISSUER=http://localhost:8080/t/globex GATEHOUSE_GLOBEX_CLIENT_ID=... \
//   GATEHOUSE_REDIRECT_URI=http://127.0.0.1:8091/callback \
//   GATEHOUSE_USERNAME=alice GATEHOUSE_PASSWORD=... \
//   GATEHOUSE_SMTP_PORT=2525 GATEHOUSE_CLI=.../gatehouse node flow.mjs
//
// (the server sending mail to smtp+plain://127.0.0.1:2525, and the
// gatehouse binary able to reach its database, for `user create`; the
// client secret, to exchange codes and read the ID tokens, is optional).
// FLOWS=signup,reset runs only those flows; FLOW_VARIANTS narrows the
// variants. The issuers must be on localhost or 127.0.0.1 (the passkey flow
// needs localhost), the redirect URI on 127.0.0.1: this script listens on
// its port and records what the client would receive. Exit status: 0 when
// every check passed, 1 otherwise. Warnings (advisory findings) do not fail
// it.

import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';

import { TENANTS } from './fixtures.mjs';
import { LOOPBACK, SHOTS, aborted, pageDefaults, results, setScope, warn } from './lib/harness.mjs';
import { startMailSink } from './lib/mail.mjs';
import { startCallbackListener } from './lib/oauth.mjs';

import * as basic from './flows/basic.mjs';
import * as signup from './flows/signup.mjs';
import * as reset from './flows/reset.mjs';
import * as totp from './flows/totp.mjs';
import * as mfaRequired from './flows/mfa-required.mjs';
import * as account from './flows/account.mjs';
import * as language from './flows/language.mjs';
import * as branding from './flows/branding.mjs';
import * as passkey from './flows/passkey.mjs';
import * as consoles from './flows/console.mjs';

const FLOWS = {
  basic,
  signup,
  reset,
  totp,
  'mfa-required': mfaRequired,
  account,
  language,
  branding,
  passkey,
  console: consoles,
};

// Flows that need mail (the SMTP sink) or new users (the CLI).
const NEEDS = {
  signup: ['mail'],
  reset: ['mail', 'cli'],
  totp: ['cli'],
  'mfa-required': ['cli'],
  account: ['cli'],
  passkey: ['cli'],
  console: ['cli'],
};

function need(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`flow.mjs: ${name} is not set (see the comment at the top of this file)`);
    process.exit(2);
  }
  return v;
}

const REDIRECT_URI = need('GATEHOUSE_REDIRECT_URI');

function tenant(fixture, issuer, clientId, overrides = {}) {
  return {
    ...fixture,
    issuer: issuer.replace(/\/+$/, ''),
    clientId,
    redirectUri: REDIRECT_URI,
    ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v)),
  };
}

const tenants = {
  acme: tenant(TENANTS.acme, need('GATEHOUSE_ISSUER'), need('GATEHOUSE_CLIENT_ID'), {
    clientName: process.env.GATEHOUSE_CLIENT_NAME,
    title: process.env.GATEHOUSE_TENANT_NAME,
    clientSecret: process.env.GATEHOUSE_CLIENT_SECRET,
  }),
};
if (process.env.GATEHOUSE_GLOBEX_ISSUER && process.env.GATEHOUSE_GLOBEX_CLIENT_ID) {
  tenants.globex = tenant(TENANTS.globex, process.env.GATEHOUSE_GLOBEX_ISSUER, process.env.GATEHOUSE_GLOBEX_CLIENT_ID);
}
pageDefaults.tenantName = tenants.acme.title;

for (const u of [REDIRECT_URI, ...Object.values(tenants).map((t) => t.issuer)]) {
  if (!LOOPBACK.has(new URL(u).hostname)) {
    console.error(`flow.mjs: ${u} is not on localhost or 127.0.0.1; this script only talks to loopback`);
    process.exit(2);
  }
}
if (new URL(REDIRECT_URI).hostname !== '127.0.0.1') {
  console.error(`flow.mjs: the redirect URI ${REDIRECT_URI} must be on 127.0.0.1 (this script listens there)`);
  process.exit(2);
}

const ONLY_FLOWS = (process.env.FLOWS || '').split(',').filter(Boolean);
for (const f of ONLY_FLOWS) {
  if (!FLOWS[f]) {
    console.error(`flow.mjs: FLOWS names an unknown flow "${f}" (known: ${Object.keys(FLOWS).join(', ')})`);
    process.exit(2);
  }
}

async function main() {
  mkdirSync(SHOTS, { recursive: true });
  for (const f of readdirSync(SHOTS)) if (f.endsWith('.png')) rmSync(path.join(SHOTS, f));
  rmSync(path.join(SHOTS, 'mail'), { recursive: true, force: true });
  const env = {
    tenants,
    alice: { username: need('GATEHOUSE_USERNAME'), password: need('GATEHOUSE_PASSWORD') },
    callback: await startCallbackListener(REDIRECT_URI),
    mail: null,
  };
  const smtpPort = Number(process.env.GATEHOUSE_SMTP_PORT || 0);
  if (smtpPort) env.mail = await startMailSink(smtpPort, { saveDir: path.join(SHOTS, 'mail') });
  const started = Date.now();
  try {
    for (const [name, flow] of Object.entries(FLOWS)) {
      if (ONLY_FLOWS.length && !ONLY_FLOWS.includes(name)) continue;
      const missing = (NEEDS[name] || []).filter((n) => (n === 'mail' ? !env.mail : !process.env.GATEHOUSE_CLI));
      if (missing.length) {
        setScope(name);
        warn(`skipped (needs ${missing.map((m) => (m === 'mail' ? 'GATEHOUSE_SMTP_PORT' : 'GATEHOUSE_CLI')).join(' and ')})`);
        continue;
      }
      const t0 = Date.now();
      console.log(`\n======== ${name}: ${flow.name}`);
      try {
        await flow.run(env);
      } catch (e) {
        setScope(name);
        aborted(e);
      }
      console.log(`-------- ${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
  } finally {
    env.callback.server.close();
    if (env.mail) await env.mail.close();
  }
  const shots = readdirSync(SHOTS).filter((f) => f.endsWith('.png')).sort();
  console.log(`\n${shots.length} screenshots in ${path.relative(process.cwd(), SHOTS) || '.'}/`);
  for (const s of shots) console.log(`  ${s}`);
  for (const f of results.faviconMisses) {
    results.failures.push(`${f} (the pages name no icon, so Chromium asks the origin's /favicon.ico)`);
  }
  if (results.warnGroups.size) {
    console.log(`\n${results.warnGroups.size} distinct warning(s) (advisory; ${results.warnings.length} in all):`);
    for (const [w, g] of results.warnGroups) {
      const where = [...g.where];
      console.log(`  - ${w} [${g.count}x; ${where.slice(0, 4).join(', ')}${where.length > 4 ? ', ...' : ''}]`);
    }
  }
  console.log(`\nbrowser checks took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`\n${results.passed} passed, ${results.failures.length} failed`);
  for (const f of results.failures) console.log(`  - ${f}`);
  process.exitCode = results.failures.length ? 1 : 0;
}

// A stray rejection (a waiter left behind by a failed step) is a failure
// of the run, not a crash that loses the summary.
process.on('unhandledRejection', (e) => {
  results.failures.push(`unhandled rejection: ${e && e.message ? e.message.split('\n')[0] : e}`);
  console.log(`  FAIL unhandled rejection: ${e && e.stack ? e.stack : e}`);
});

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
