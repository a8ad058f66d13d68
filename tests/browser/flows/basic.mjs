// The sign-in pages of one client, in every variant: authorize -> login (a
// wrong password first) -> consent -> the client's callback, the error
// page of an unknown client, Deny, form_post with and without JavaScript,
// the sign-out confirmation and signed-out pages, and the error page of an
// unregistered post_logout_redirect_uri. The first variant also checks
// reflow at 320px.

import {
  checkFocusStyle,
  checkPage,
  checkReflow,
  clearEvents,
  eq,
  launch,
  ok,
  setScope,
  shot,
  submit,
  tabThrough,
  variants,
  warn,
  aborted,
} from '../lib/harness.mjs';
import { newRequest } from '../lib/oauth.mjs';

export const name = 'sign-in, consent and sign-out';

export async function run(env) {
  const vs = variants();
  for (const v of vs) await runVariant(env, v, v.name === vs[0].name);
}

async function runVariant(env, variant, first) {
  const { acme: tenant } = env.tenants;
  const { callback } = env;
  const { username: USERNAME, password: PASSWORD } = env.alice;
  const REDIRECT_URI = tenant.redirectUri;
  setScope(variant.name);
  console.log(`\n== ${variant.name} (${variant.colorScheme}, ${variant.viewport.width}x${variant.viewport.height})`);
  const b = await launch(variant);
  const { page, events } = b;
  let n = 0;
  try {
    // 1. The error page of an unknown client: never a redirect.
    {
      const { url } = newRequest(tenant, { client_id: 'no-such-client' });
      const before = callback.hits.length;
      const r = await page.goto(url);
      eq(new URL(page.url()).pathname, new URL(`${tenant.issuer}/authorize`).pathname, 'unknown client: stays on /authorize (no redirect)');
      await checkPage(page, events, 'unknown-client error page', { status: r.status(), expectedStatus: 400 });
      eq(await page.locator('h2').innerText(), 'This request cannot be completed', 'unknown client: heading');
      ok((await page.getByRole('alert').innerText()).length > 10, 'unknown client: the message is a role=alert notice');
      eq(callback.hits.length, before, 'unknown client: the client received nothing');
      await shot(page, variant, ++n, 'error-unknown-client');
    }

    // 2. authorize -> the login page.
    const request = newRequest(tenant, { prompt: 'consent' });
    {
      const r = await page.goto(request.url);
      const u = new URL(page.url());
      eq(u.pathname, new URL(`${tenant.issuer}/login`).pathname, 'authorize: lands on the login page');
      ok(u.searchParams.get('req'), 'authorize: the login URL carries req');
      await checkPage(page, events, 'login page', { status: r.status(), expectedStatus: 200 });
      eq(await page.locator('h2').innerText(), 'Sign in', 'login: heading');
      ok((await page.locator('.lead').innerText()).includes(tenant.clientName), 'login: names the client');
      const autofocus = await page.evaluate(() => document.activeElement && document.activeElement.id);
      eq(autofocus, 'username', 'login: the username field has focus on load');
      // The issuer is on localhost, where browsers allow WebAuthn: the page
      // offers passkeys, with a button and in the username's autofill.
      const passkey = page.locator('main form[data-webauthn=conditional] button[data-webauthn=authenticate]');
      eq(await passkey.count(), 1, 'login: a passkey sign-in form');
      eq(((await passkey.innerText()) || '').trim(), 'Sign in with a passkey', 'login: the passkey button');
      eq(await page.getAttribute('#username', 'autocomplete'), 'username webauthn', 'login: the username field offers passkeys in the autofill');
      eq(await page.locator('main p.or').innerText(), 'or', 'login: "or" between the password and the passkey');
      await shot(page, variant, ++n, 'login');

      // Keyboard only: Tab from the document start reaches username,
      // password, the submit button and the passkey button, each with a
      // visible focus style.
      const seen = await tabThrough(page, 4);
      eq(seen.map((f) => f && (f.id || f.text)).join(' > '), 'username > password > Sign in > Sign in with a passkey', 'login: Tab order');
      for (const f of seen) checkFocusStyle('login', f);
      if (first) await checkReflow(page, variant, ++n, 'login');
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
      const status = await submit(page, () => page.keyboard.press('Enter'));
      await checkPage(page, events, 'login page with error', { status });
      ok([200, 400, 401].includes(status), `login error: status ${status} is 200, 400 or 401`);
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

    // 4. The right password (keyboard only) -> 303 -> the consent page
    // (Post/Redirect/Get: reloading it never re-posts the password).
    {
      await page.focus('#password');
      await page.keyboard.type(PASSWORD);
      const status = await submit(page, () => page.keyboard.press('Enter'));
      await checkPage(page, events, 'consent page', { status, expectedStatus: 200 });
      const consentUrl = new URL(page.url());
      eq(consentUrl.pathname, new URL(`${tenant.issuer}/consent`).pathname, 'consent: the login POST redirects to GET /consent');
      ok(consentUrl.searchParams.get('req'), 'consent: the consent URL carries req');
      ok((await page.locator('h2').innerText()).includes(tenant.clientName), 'consent: the heading names the client');
      ok((await page.locator('.lead').innerText()).includes(USERNAME), 'consent: says who is signed in');
      const scopes = await page.locator('.scopes li').count();
      eq(scopes, 3, 'consent: one line per scope (openid, profile, email)');
      await shot(page, variant, ++n, 'consent');
      if (first) {
        // Reloading shows the same page (and re-posts nothing).
        const again = await page.reload();
        eq(again.status(), 200, 'consent: a reload shows the page again');
        eq(again.request().method(), 'GET', 'consent: a reload is a GET');
        await checkPage(page, events, 'consent page (reloaded)');
        await checkReflow(page, variant, ++n, 'consent');
      }
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
      eq(u.searchParams.get('iss'), tenant.issuer, 'callback: iss is the issuer');
      ok(!u.searchParams.get('error'), `callback: no error (${u.searchParams.get('error')})`);
      eq(callback.hits.length, before + 1, 'callback: the client received one request');
      const hit = callback.hits[callback.hits.length - 1];
      ok(hit && hit.method === 'GET' && hit.url.includes('code='), 'callback: the client received the code by GET');
      // The consent page's CSP must allow the form's redirect to the client.
      ok(events.csp.length === 0, `consent -> callback: no CSP violation on the way (${JSON.stringify(events.csp)})`);
      const consoleErrors = events.console.filter((m) => m.type === 'error');
      ok(consoleErrors.length === 0, `consent -> callback: no console errors (${JSON.stringify(consoleErrors)})`);
      clearEvents(events);
    }

    // 6. Deny, once: the client gets error=access_denied with state and iss.
    if (first) {
      const deny = newRequest(tenant, { prompt: 'consent' });
      await page.goto(deny.url);
      ok(new URL(page.url()).pathname.endsWith('/consent') && (await page.locator('.scopes').count()) === 1,
        'deny: a signed-in user goes straight to the consent page');
      await checkPage(page, events, 'consent page (signed in)');
      const nav = page.waitForURL((u) => u.href.startsWith(REDIRECT_URI), { waitUntil: 'load' });
      await page.getByRole('button', { name: 'Deny' }).click();
      await nav;
      const u = new URL(page.url());
      eq(u.searchParams.get('error'), 'access_denied', 'deny: error=access_denied');
      eq(u.searchParams.get('state'), deny.params.state, 'deny: state');
      eq(u.searchParams.get('iss'), tenant.issuer, 'deny: iss');
      ok(!u.searchParams.get('code'), 'deny: no code');
      clearEvents(events);

      // form_post (consent remembered): the page's nonce script submits
      // the form to the client by itself.
      const fp = newRequest(tenant, { response_mode: 'form_post' });
      const before = callback.hits.length;
      const nav2 = page.waitForURL((u2) => u2.href.startsWith(REDIRECT_URI), { waitUntil: 'load' });
      await page.goto(fp.url);
      await nav2;
      const hit = callback.hits[callback.hits.length - 1];
      ok(callback.hits.length === before + 1 && hit.method === 'POST', 'form_post: the client received a POST');
      const body = new URLSearchParams(hit ? hit.body : '');
      ok(body.get('code'), 'form_post: has a code');
      eq(body.get('state'), fp.params.state, 'form_post: state');
      eq(body.get('iss'), tenant.issuer, 'form_post: iss');
      const fpErrors = events.console.filter((m) => m.type === 'error');
      ok(fpErrors.length === 0 && events.csp.length === 0, `form_post: no console errors or CSP violations (${JSON.stringify(fpErrors)})`);
      clearEvents(events);
    }

    // 7. Sign out without an id_token_hint: a confirmation page, then the
    // signed-out page.
    {
      const r = await page.goto(`${tenant.issuer}/logout`);
      await checkPage(page, events, 'logout confirmation page', { status: r.status(), expectedStatus: 200 });
      eq(await page.locator('h2').innerText(), 'Sign out?', 'logout: asks for confirmation');
      const seen = await tabThrough(page, 1);
      eq(seen[0] && seen[0].text, 'Sign out', 'logout: Tab reaches the Sign out button');
      checkFocusStyle('logout', seen[0]);
      await shot(page, variant, ++n, 'logout-confirm');
      const status = await submit(page, () => page.keyboard.press('Enter'));
      await checkPage(page, events, 'signed-out page', { status, expectedStatus: 200 });
      eq(await page.locator('h2').innerText(), 'You are signed out', 'logout: signed-out page');
      await shot(page, variant, ++n, 'logged-out');

      // Signed out for real: authorize asks for the password again.
      await page.goto(newRequest(tenant).url);
      ok(new URL(page.url()).pathname.endsWith('/login'), 'after logout: authorize shows the login page again');
      clearEvents(events);
    }

    // 8. A post_logout_redirect_uri that is not registered: an error page.
    {
      const bad = new URL(REDIRECT_URI);
      bad.pathname = '/not-registered';
      const q = new URLSearchParams({ client_id: tenant.clientId, post_logout_redirect_uri: bad.href, state: 'xyz' });
      const before = callback.hits.length;
      const r = await page.goto(`${tenant.issuer}/logout?${q}`);
      eq(new URL(page.url()).pathname, new URL(`${tenant.issuer}/logout`).pathname, 'bad post_logout_redirect_uri: no redirect');
      await checkPage(page, events, 'logout error page', { status: r.status(), expectedStatus: 400 });
      eq(await page.locator('h2').innerText(), 'This sign-out request cannot be completed', 'logout error: heading');
      ok((await page.getByRole('alert').innerText()).includes('not registered'), 'logout error: explains the address is not registered');
      eq(callback.hits.length, before, 'logout error: the unregistered address received nothing');
      await shot(page, variant, ++n, 'error-logout-redirect');
    }

    // 9. The form_post page as someone without JavaScript sees it (once).
    if (first) {
      await noScriptFormPost(env, variant, ++n);
    }
  } catch (e) {
    aborted(e);
    try {
      await shot(page, variant, 99, 'aborted');
    } catch {
      // nothing more to show
    }
  } finally {
    await b.close();
  }
}

/** The whole flow with JavaScript off, ending on the form_post page. */
async function noScriptFormPost(env, variant, n) {
  const { acme: tenant } = env.tenants;
  const { callback } = env;
  const b = await launch(variant, { javaScriptEnabled: false });
  try {
    const { page, events } = b;
    const fp = newRequest(tenant, { response_mode: 'form_post', prompt: 'consent' });
    await page.goto(fp.url);
    // Without JavaScript a passkey cannot be used (the ceremony is the
    // script's), so the button should not be offered (or say why not).
    if (await page.locator('main button[data-webauthn]').isVisible()) {
      warn('login without JavaScript: "Sign in with a passkey" is shown; it cannot work without the script (it leads to "The passkey did not work", 400)');
    }

    await page.fill('#username', env.alice.username);
    await page.fill('#password', env.alice.password);
    await submit(page, () => page.click('button[type=submit]'));
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
    await Promise.all([page.waitForURL((u) => u.href.startsWith(tenant.redirectUri)), page.getByRole('button', { name: 'Continue' }).click()]);
    const hit = callback.hits[callback.hits.length - 1];
    ok(callback.hits.length === before + 1 && hit.method === 'POST', 'no-JS form_post: Continue posts to the client');
    eq(new URLSearchParams(hit ? hit.body : '').get('state'), fp.params.state, 'no-JS form_post: state');
  } finally {
    await b.close();
  }
}
