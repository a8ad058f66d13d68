// Passkeys (tenant acme, issuer on localhost), with Chromium's virtual
// authenticator (CDP WebAuthn domain: an internal, user-verifying platform
// authenticator with resident keys that answers by itself):
//
//   /account (signed out: sign in with the password) -> "Add a passkey" ->
//   a name -> "Create passkey" (the authenticator answers) -> the account
//   page lists it -> rename it -> sign out -> authorize -> the password ->
//   the second step offers only "Use a passkey" -> consent -> the client's
//   code (amr pwd hwk user) -> sign out -> authorize -> "Sign in with a
//   passkey" on the login page -> the client's code (amr hwk user) -> sign
//   out -> authorize: the login page's autofill request (conditional
//   mediation) signs in by itself (amr hwk user) -> the account page ->
//   remove the passkey.
//
// Once (the first variant): with TOTP set up as well, the second step
// offers both; after the removal the authenticator's passkey is refused.
// The ID tokens are read by exchanging the codes at the token endpoint with
// the client secret (GATEHOUSE_CLIENT_SECRET), when it is known: acr is
// urn:gatehouse:loa:2 each time.

import { aborted, launch, setScope, submit, variants, warn } from '../lib/harness.mjs';
import { createUser } from '../lib/cli.mjs';
import { exchangeCode, jwtPayload, newRequest } from '../lib/oauth.mjs';
import { awayFromStepEdge, totp } from '../lib/totp.mjs';
import { RUN, at, audit, eq, heading, newPassword, notice, ok, shooter, signIn, tagOf, toCallback } from '../lib/steps.mjs';
import { recoveryCodes, secretOf } from './totp.mjs';

export const name = 'passkeys (virtual authenticator)';

const LOA2 = 'urn:gatehouse:loa:2';

export async function run(env) {
  if (new URL(env.tenants.acme.issuer).hostname !== 'localhost') {
    warn('skipped: the issuer is not on localhost, so the pages offer no passkeys (WebAuthn needs a domain)');
    return;
  }
  const vs = variants(['desktop-light', 'phone-dark']);
  for (const v of vs) await runVariant(env, v, v.name === vs[0].name);
}

/**
 * A virtual authenticator in `page`'s browser, as a phone's or laptop's
 * built-in one: resident keys, user verification that always succeeds,
 * presence simulated. Returns { cdp, id, autofill(enabled), credentials() }.
 */
async function virtualAuthenticator(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  // (For Page.addScriptToEvaluateOnNewDocument, which needs it.)
  await cdp.send('Page.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  let noAutofill = null;
  return {
    cdp,
    id: authenticatorId,
    /**
     * Whether the pages may ask for passkeys in the autofill (conditional
     * mediation). The virtual authenticator answers such a request at once,
     * as if the user had picked the suggestion; a user who types the
     * password, or clicks "Sign in with a passkey", has not. Off, the pages
     * see a browser without conditional mediation (from the next page on).
     */
    async autofill(enabled) {
      if (enabled && noAutofill) {
        await cdp.send('Page.removeScriptToEvaluateOnNewDocument', { identifier: noAutofill });
        noAutofill = null;
      } else if (!enabled && !noAutofill) {
        ({ identifier: noAutofill } = await cdp.send('Page.addScriptToEvaluateOnNewDocument', {
          source: 'if (window.PublicKeyCredential) PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);',
        }));
      }
    },
    async credentials() {
      return (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
    },
  };
}

/**
 * The claims of the ID token the client gets for the code of `u` (the
 * callback URL) of `request`, or null when the secret is unknown.
 */
async function idTokenOf(tenant, request, u, what) {
  if (!tenant.clientSecret) return null;
  const { status, json } = await exchangeCode(tenant, u.searchParams.get('code'), request.verifier);
  eq(status, 200, `${what}: the token endpoint exchanges the code`);
  const claims = jwtPayload(json && json.id_token);
  ok(claims, `${what}: an ID token`);
  if (!claims) return null;
  eq(claims.iss, tenant.issuer, `${what}: ID token iss`);
  eq(claims.aud === tenant.clientId || (Array.isArray(claims.aud) && claims.aud.includes(tenant.clientId)), true, `${what}: ID token aud is the client`);
  eq(claims.nonce, request.params.nonce, `${what}: ID token nonce`);
  return claims;
}

function checkAmr(claims, amr, what) {
  if (!claims) return;
  eq(JSON.stringify(claims.amr), JSON.stringify(amr), `${what}: amr`);
  eq(claims.acr, LOA2, `${what}: acr`);
}

/** Signs out of this browser (the RP-initiated logout's confirmation page). */
async function signOut(page, tenant) {
  await page.goto(`${tenant.issuer}/logout`);
  await submit(page, () => page.getByRole('button', { name: 'Sign out' }).click());
  eq(await heading(page), 'You are signed out', 'signed out');
}

async function runVariant(env, variant, first) {
  const tenant = env.tenants.acme;
  setScope(`${variant.name} passkey`);
  console.log(`\n== ${variant.name}: passkeys`);
  if (!tenant.clientSecret) warn('GATEHOUSE_CLIENT_SECRET is not set: the ID tokens (amr, acr) are not checked');
  const username = `pia.${tagOf(variant)}.${RUN}`;
  const password = newPassword('passkey');
  await createUser(tenant.slug, { username, email: `${username}@example.com`, password });
  const b = await launch(variant);
  const { page } = b;
  const snap = shooter(variant, 'passkey');
  const section = page.locator('section[aria-labelledby=passkeys-title]');
  const rows = section.locator('.rows li');
  try {
    const authenticator = await virtualAuthenticator(page);
    // Until step 6: no autofill (see autofill()).
    await authenticator.autofill(false);

    // 1. The account page, after the password; no passkey yet.
    let r = await page.goto(`${tenant.issuer}/account`);
    at(page, tenant, '/login', 'account page signed out');
    eq(await page.getAttribute('#username', 'autocomplete'), 'username webauthn', 'login: the username field offers passkeys (autofill)');
    eq(await page.locator('main form[data-webauthn=conditional] button[data-webauthn=authenticate]').innerText(), 'Sign in with a passkey',
      'login: a "Sign in with a passkey" button');
    let status = await signIn(page, username, password);
    at(page, tenant, '/account', 'signed in for the account page');
    eq(await section.locator('h3').innerText(), 'Passkeys', 'account: a Passkeys section');
    eq(await rows.count(), 0, 'account: no passkey yet');
    ok((await section.innerText()).includes('instead of a password'), 'account: says what a passkey is for');
    await audit(b, 'account page (no passkey)', { status, expectedStatus: 200, snap, name: 'account' });

    // 2. Add a passkey: the page, a name, "Create passkey".
    status = await submit(page, () => section.getByRole('link', { name: 'Add a passkey' }).click());
    at(page, tenant, '/account/passkeys/new', 'the "Add a passkey" link');
    await audit(b, 'add-a-passkey page', { status, expectedStatus: 200, snap, name: 'new' });
    eq(await heading(page), 'Add a passkey', 'add: heading');
    eq(await page.getAttribute('#name', 'placeholder'), 'Passkey', 'add: the name field suggests "Passkey"');
    eq(await page.locator('main [data-webauthn-unsupported]').isVisible(), false, 'add: no "this browser cannot" notice (WebAuthn is there)');
    eq(await page.locator('main [data-webauthn-error]').isVisible(), false, 'add: no error shown yet');
    await page.fill('#name', 'Work laptop');
    status = await submit(page, () => page.getByRole('button', { name: 'Create passkey' }).click());
    at(page, tenant, '/account', 'the passkey created');
    eq(await notice(page), 'The passkey was added.', 'added: the notice');
    const creds = await authenticator.credentials();
    eq(creds.length, 1, 'added: the authenticator holds one credential');
    ok(creds[0] && creds[0].isResidentCredential, 'added: a discoverable (resident) credential');
    eq(creds[0] && creds[0].rpId, 'localhost', 'added: for the RP ID localhost (the issuer host)');
    eq(await rows.count(), 1, 'added: the account page lists one passkey');
    eq((await rows.first().locator('.row-title').innerText()).trim(), 'Work laptop', 'added: under its name');
    const detail = (await rows.first().locator('.row-detail').innerText()).trim();
    ok(/^Added \d{4}-\d\d-\d\d \d\d:\d\d UTC$/.test(detail), `added: when, readable (${detail})`);
    const described = await rows.first().evaluate((li) => {
      const button = li.querySelector('button.button-danger');
      const target = button && document.getElementById(button.getAttribute('aria-describedby') || '');
      return { inRow: !!target && li.contains(target), value: target ? target.value || target.textContent : null };
    });
    ok(described.inRow && described.value === 'Work laptop', `added: Remove is described by its passkey's name (${JSON.stringify(described)})`);
    // The rename field should show the whole name it holds.
    const field = await rows.first().locator('input[name=name]').evaluate((input) => {
      const s = getComputedStyle(input);
      const ctx = document.createElement('canvas').getContext('2d');
      ctx.font = `${s.fontStyle} ${s.fontWeight} ${s.fontSize} ${s.fontFamily}`;
      const inner = input.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
      return { inner: Math.round(inner), text: Math.round(ctx.measureText(input.value).width) };
    });
    if (field.text > field.inner) {
      const g = `the rename field of a passkey is ${field.inner}px wide inside and cuts its name ("Work laptop" needs ${field.text}px)`;
      warn(`account page with a passkey: ${g}`, g);
    }
    await audit(b, 'account page (one passkey)', { status, expectedStatus: 200, snap, name: 'account-passkey' });

    // 3. Rename it.
    await rows.first().locator('input[name=name]').fill('Laptop, renamed');
    status = await submit(page, () => rows.first().getByRole('button', { name: 'Rename' }).click());
    eq(await notice(page), 'The passkey was renamed.', 'renamed: the notice');
    eq((await rows.first().locator('.row-title').innerText()).trim(), 'Laptop, renamed', 'renamed: the new name is listed');
    eq(await rows.first().locator('input[name=name]').inputValue(), 'Laptop, renamed', 'renamed: the field holds the new name');

    // 4. Sign out; the password, then the passkey as the second step.
    await signOut(page, tenant);
    const second = newRequest(tenant);
    await page.goto(second.url);
    status = await signIn(page, username, password);
    at(page, tenant, '/login/mfa', 'password of a user with a passkey: the second step');
    eq(await heading(page), 'Two-step verification', 'second step: heading');
    eq((await page.locator('main .lead').innerText()).trim(), 'Confirm it is you with your passkey.', 'second step: asks for the passkey');
    eq(await page.locator('#code').count(), 0, 'second step (passkey only): no code field');
    const use = page.locator('main button[data-webauthn=authenticate]');
    eq(await use.count(), 1, 'second step (passkey only): one passkey button');
    eq((await use.innerText()).trim(), 'Use a passkey', 'second step: "Use a passkey"');
    ok(/\bbutton-primary\b/.test((await use.getAttribute('class')) || ''), 'second step (passkey only): it is the primary button');
    eq(await page.locator('main .links a').count(), 0, 'second step (passkey only): no recovery-code link');
    await audit(b, 'second step: passkey only', { status, expectedStatus: 200, snap, name: 'mfa' });
    status = await submit(page, () => use.click());
    at(page, tenant, '/consent', 'the passkey accepted: consent');
    let u = await toCallback(page, tenant, () => page.getByRole('button', { name: 'Allow' }).click(), b.events);
    ok(u.searchParams.get('code'), 'password and passkey: the client gets a code');
    eq(u.searchParams.get('state'), second.params.state, 'password and passkey: state');
    const twoStep = await idTokenOf(tenant, second, u, 'password and passkey');
    checkAmr(twoStep, ['pwd', 'hwk', 'user'], 'password and passkey');

    // 5. Passwordless: the login page's "Sign in with a passkey".
    await signOut(page, tenant);
    const alone = newRequest(tenant);
    r = await page.goto(alone.url);
    at(page, tenant, '/login', 'a new request after signing out');
    if (first) await snap(page, 'login');
    u = await toCallback(page, tenant, () => page.getByRole('button', { name: 'Sign in with a passkey' }).click(), b.events);
    ok(u.searchParams.get('code'), 'passwordless: the client gets a code (consent remembered)');
    eq(u.searchParams.get('state'), alone.params.state, 'passwordless: state');
    const passwordless = await idTokenOf(tenant, alone, u, 'passwordless');
    checkAmr(passwordless, ['hwk', 'user'], 'passwordless');
    if (twoStep && passwordless) eq(passwordless.sub, twoStep.sub, 'passwordless: the same user (sub)');

    // 6. The passkey picked from the username field's autofill: the login
    // page's conditional request, which the authenticator answers at once.
    await signOut(page, tenant);
    const autofill = newRequest(tenant);
    await authenticator.autofill(true);
    u = await toCallback(page, tenant, () => page.goto(autofill.url, { waitUntil: 'commit' }), b.events);
    await authenticator.autofill(false);
    ok(u.searchParams.get('code'), 'autofill (conditional mediation): the client gets a code');
    eq(u.searchParams.get('state'), autofill.params.state, 'autofill: state');
    checkAmr(await idTokenOf(tenant, autofill, u, 'autofill'), ['hwk', 'user'], 'autofill');
    const used = await authenticator.credentials();
    ok(used[0] && used[0].signCount >= 3, `the authenticator signed each sign-in (${used[0] && used[0].signCount})`);

    // 7. Once: with TOTP too, the second step offers both.
    if (first) await bothFactors(b, tenant, username, password, snap);

    // 8. Remove the passkey (the sign-in is minutes old).
    r = await page.goto(`${tenant.issuer}/account`);
    at(page, tenant, '/account', 'the account page, signed in with the passkey');
    const mine = page.locator('section[aria-labelledby=sessions-title] .rows li').first();
    ok((await mine.innerText()).includes('this browser'), 'sessions: this browser is listed first');
    ok((await mine.innerText()).includes('with two steps'), `sessions: a passkey sign-in counts as two steps (${(await mine.innerText()).replace(/\s+/g, ' ')})`);
    eq((await rows.first().locator('.row-detail').innerText()).includes('last used'), true, 'account: the passkey shows when it was last used');
    status = await submit(page, () => rows.first().getByRole('button', { name: 'Remove' }).click());
    at(page, tenant, '/account', 'after removing the passkey');
    eq(await notice(page), 'The passkey was removed.', 'removed: the notice');
    eq(await rows.count(), 0, 'removed: no passkey listed');
    await audit(b, 'account page (passkey removed)', { status, expectedStatus: 200, keyboard: false, snap, name: 'removed' });

    // 9. Once: the authenticator still has the key, the server no longer.
    if (first) {
      await signOut(page, tenant);
      r = await page.goto(newRequest(tenant).url);
      status = await submit(page, () => page.getByRole('button', { name: 'Sign in with a passkey' }).click());
      eq(await heading(page), 'The passkey did not work', 'a removed passkey: refused');
      await audit(b, 'passkey refused page', { status, expectedStatus: 400, keyboard: false, snap, name: 'refused' });
      if ((await page.locator('main a[href]').count()) === 0) {
        warn('passkey refused page: says "Go back and try again, or sign in with your password" but has no link back to the sign-in (a dead end without the back button)');
      }
    }
  } catch (e) {
    aborted(e);
    await snap(page, 'aborted').catch(() => warn('no screenshot of the aborted page'));
  } finally {
    await b.close();
  }
}

/**
 * TOTP set up on the account page of a user who has a passkey; the next
 * sign-in with the password offers both the passkey and the code.
 */
async function bothFactors(b, tenant, username, password, snap) {
  const { page } = b;
  await page.goto(`${tenant.issuer}/account`);
  at(page, tenant, '/account', 'account page (for TOTP)');
  await submit(page, () => page.getByRole('link', { name: 'Set up an authenticator app' }).click());
  const secret = await secretOf(page);
  await awayFromStepEdge();
  await page.fill('#code', totp(secret, -1));
  await submit(page, () => page.locator('main form button[type=submit]').click());
  ok((await recoveryCodes(page)).length >= 8, 'TOTP with a passkey: recovery codes shown');
  await submit(page, () => page.getByRole('button', { name: 'I have saved them, continue' }).click());
  await signOut(page, tenant);
  const request = newRequest(tenant);
  await page.goto(request.url);
  const status = await signIn(page, username, password);
  at(page, tenant, '/login/mfa', 'password of a user with a passkey and TOTP');
  const use = page.locator('main button[data-webauthn=authenticate]');
  eq(await use.count(), 1, 'second step (both): a passkey button');
  eq(await page.locator('#code').count(), 1, 'second step (both): a code field');
  ok(!/\bbutton-primary\b/.test((await use.getAttribute('class')) || ''), 'second step (both): the passkey button is the secondary one');
  eq(await page.evaluate(() => document.activeElement && document.activeElement.id), 'code', 'second step (both): the code field has focus');
  eq(await page.locator('main .links a', { hasText: 'Use a recovery code instead' }).count(), 1, 'second step (both): the recovery-code link');
  await audit(b, 'second step: passkey or code', { status, expectedStatus: 200, snap, name: 'mfa-both' });
  // The code, this time (the passkey button has been used above).
  await page.fill('#code', totp(secret, 0));
  const u = await toCallback(page, tenant, () => page.getByRole('button', { name: 'Verify' }).click(), b.events);
  ok(u.searchParams.get('code'), 'password and code (passkey offered too): the client gets a code');
  const claims = await idTokenOf(tenant, request, u, 'password and code');
  checkAmr(claims, ['pwd', 'otp'], 'password and code');
}
