// Two-step verification set up on the account page (tenant acme, policy
// optional): /account (signed out: sign in first) -> "Set up an
// authenticator app" -> a wrong code, then the app's code -> the recovery
// codes -> the account page says it is on -> "Sign out" of this browser ->
// sign in with the password, then a wrong code (the message), then the
// current code. Once: sign in with a recovery code instead.
//
// Codes come from lib/totp.mjs, as an authenticator app computes them. The
// server accepts each time step once per user, so enrolment uses the
// previous step's code and the next sign-in the current one.

import { aborted, launch, setScope, submit, variants, warn } from '../lib/harness.mjs';
import { createUser } from '../lib/cli.mjs';
import { awayFromStepEdge, totp, wrongCode } from '../lib/totp.mjs';
import { RUN, alertText, at, audit, eq, heading, newPassword, notice, ok, shooter, signIn, tagOf } from '../lib/steps.mjs';

export const name = 'TOTP on the account page';

export async function run(env) {
  const vs = variants(['desktop-light', 'phone-dark']);
  for (const v of vs) await runVariant(env, v, v.name === vs[0].name);
}

/** The key shown on an enrolment page, without spaces. */
export async function secretOf(page) {
  return (await page.locator('main .secret code').innerText()).replace(/\s+/g, '');
}

/** The recovery codes shown on the page. */
export async function recoveryCodes(page) {
  return (await page.locator('main .codes code').allInnerTexts()).map((c) => c.trim());
}

/**
 * Checks an enrolment page: a QR code as inline SVG and a base32 key, shown
 * in groups of four for reading and typing (apps ignore the spaces).
 */
export async function checkEnrolmentPage(page, what) {
  eq(await page.locator('main figure.qr svg').count(), 1, `${what}: a QR code (inline SVG)`);
  ok(/^[A-Z2-7]{16,}$/.test(await secretOf(page)), `${what}: the key for manual entry is base32`);
  const shown = (await page.locator('main p.secret code').innerText()).trim();
  ok(/^[A-Z2-7]{4}( [A-Z2-7]{4})+( [A-Z2-7]{1,3})?$/.test(shown), `${what}: the key is shown in groups of four (${shown})`);
  eq(await page.getAttribute('#code', 'autocomplete'), 'one-time-code', `${what}: the code field is autocomplete=one-time-code`);
  eq(await page.getAttribute('#code', 'inputmode'), 'numeric', `${what}: the code field asks for a numeric keyboard`);
}

async function runVariant(env, variant, first) {
  const tenant = env.tenants.acme;
  setScope(`${variant.name} totp`);
  console.log(`\n== ${variant.name}: TOTP set up on the account page`);
  const username = `tom.${tagOf(variant)}.${RUN}`;
  const password = newPassword('totp');
  await createUser(tenant.slug, { username, email: `${username}@example.com`, password });
  const b = await launch(variant);
  const { page } = b;
  const snap = shooter(variant, 'totp');
  const mfaSection = page.locator('section[aria-labelledby=mfa-title]');
  const sessions = page.locator('section[aria-labelledby=sessions-title] .rows li');
  try {
    // 1. The account page without a session: sign in first.
    let r = await page.goto(`${tenant.issuer}/account`);
    at(page, tenant, '/login', 'account page signed out');
    await audit(b, 'login page (for the account page)', { status: r.status(), expectedStatus: 200, snap, name: 'login' });
    eq(await page.locator('main .lead').count(), 0, 'login for the account page: names no application');
    let status = await signIn(page, username, password);
    at(page, tenant, '/account', 'signed in for the account page');
    await audit(b, 'account page', { status, expectedStatus: 200, snap, name: 'account' });
    eq(await heading(page), 'Your account', 'account: heading');
    ok((await page.locator('main .lead').innerText()).includes(username), 'account: says who is signed in');

    // 2. Enrolment: a wrong code, then the app's code.
    status = await submit(page, () => mfaSection.getByRole('link', { name: 'Set up an authenticator app' }).click());
    at(page, tenant, '/account/totp', 'set up link');
    await audit(b, 'TOTP enrolment page', { status, expectedStatus: 200, snap, name: 'enrol' });
    await checkEnrolmentPage(page, 'enrolment');
    let secret = await secretOf(page);
    await page.fill('#code', wrongCode(secret));
    status = await submit(page, () => page.click('main form button[type=submit]'));
    eq(status, 422, 'enrolment with a wrong code: 422');
    eq(await alertText(page), 'That code is not right. Enter the newest code from your app.', 'enrolment with a wrong code: the message');
    eq(await page.getAttribute('#code', 'aria-invalid'), 'true', 'enrolment with a wrong code: the field is marked invalid');
    await audit(b, 'TOTP enrolment page with error', { status, snap, name: 'enrol-wrong' });
    // The page begins a new enrolment: read the key again.
    secret = await secretOf(page);
    await awayFromStepEdge();
    await page.fill('#code', totp(secret, -1));
    status = await submit(page, () => page.click('main form button[type=submit]'));
    await audit(b, 'recovery codes page', { status, expectedStatus: 200, snap, name: 'recovery-codes' });
    eq(await heading(page), 'Save your recovery codes', 'enrolled: the recovery codes are shown');
    const codes = await recoveryCodes(page);
    ok(codes.length >= 8 && new Set(codes).size === codes.length, `enrolled: at least 8 distinct recovery codes (${codes.length})`);

    // 3. Back to the account page: two-step verification is on.
    status = await submit(page, () => page.getByRole('button', { name: 'I have saved them, continue' }).click());
    at(page, tenant, '/account', 'after the recovery codes');
    eq(await notice(page), 'Your recovery codes are saved.', 'account: the notice after enrolment');
    ok((await mfaSection.innerText()).includes('Sign-in asks for a code from your authenticator app.'), 'account: two-step verification is on');
    ok((await mfaSection.innerText()).includes(`Recovery codes left: ${codes.length}`), 'account: counts the recovery codes');
    await audit(b, 'account page with TOTP on', { status, expectedStatus: 200, snap, name: 'account-totp-on' });

    // 4. Sign out of this browser from the sessions list.
    eq(await sessions.count(), 1, 'sessions: one session');
    status = await submit(page, () => sessions.first().getByRole('button', { name: 'Sign out' }).click());
    at(page, tenant, '/login', 'signed out from the sessions list: the account page asks to sign in');

    // 5. Sign in: the password, then a wrong code, then the app's code.
    status = await signIn(page, username, password);
    at(page, tenant, '/login/mfa', 'password accepted: the second step');
    eq(await page.evaluate(() => document.activeElement && document.activeElement.id), 'code', 'second step: the code field has focus');
    await audit(b, 'second-step page', { status, expectedStatus: 200, snap, name: 'mfa' });
    eq(await heading(page), 'Two-step verification', 'second step: heading');
    await page.fill('#code', wrongCode(secret));
    status = await submit(page, () => page.click('main form button[type=submit]'));
    eq(status, 422, 'a wrong code: 422');
    eq(await alertText(page), 'That code is not right. Enter the newest code from your app.', 'a wrong code: the message');
    eq(await page.getAttribute('#code', 'aria-invalid'), 'true', 'a wrong code: the field is marked invalid');
    eq(await page.getAttribute('#code', 'aria-describedby'), 'mfa-error', 'a wrong code: the field is described by the message');
    await audit(b, 'second-step page with error', { status, snap, name: 'mfa-wrong' });
    await page.fill('#code', totp(secret, 0));
    status = await submit(page, () => page.click('main form button[type=submit]'));
    at(page, tenant, '/account', 'the right code');
    ok((await sessions.first().innerText()).includes('with two steps'), 'sessions: this session used two steps');

    // 6. Once: a recovery code instead of the app.
    if (first) {
      await submit(page, () => sessions.first().getByRole('button', { name: 'Sign out' }).click());
      await signIn(page, username, password);
      status = await submit(page, () => page.getByRole('link', { name: 'Use a recovery code instead' }).click());
      await audit(b, 'recovery-code page', { status, expectedStatus: 200, snap, name: 'mfa-recovery' });
      eq(await page.locator('label[for=code]').innerText(), 'Recovery code', 'recovery: the field asks for a recovery code');
      await page.fill('#code', codes[0]);
      status = await submit(page, () => page.click('main form button[type=submit]'));
      at(page, tenant, '/account', 'a recovery code signs in');
      ok((await mfaSection.innerText()).includes(`Recovery codes left: ${codes.length - 1}`), 'account: one recovery code fewer');
    }
  } catch (e) {
    aborted(e);
    await snap(page, 'aborted').catch(() => warn('no screenshot of the aborted page'));
  } finally {
    await b.close();
  }
}
