// A tenant that requires a second step (globex, security.mfa = required):
// a user without one enrols during sign-in (the password -> the enrolment
// page -> a wrong code once -> the app's code -> the recovery codes ->
// consent -> the client's code). After signing out, the next sign-in asks
// for the app's code. The recovery codes page of the enrolment has no
// language switch (switching would lose the codes, which are shown once);
// once, the set-up URL is opened again after the codes were shown: it
// offers only Continue, which finishes the sign-in.

import { aborted, launch, setScope, submit, variants, warn } from '../lib/harness.mjs';
import { createUser } from '../lib/cli.mjs';
import { newRequest } from '../lib/oauth.mjs';
import { awayFromStepEdge, totp, wrongCode } from '../lib/totp.mjs';
import { RUN, alertText, at, audit, eq, heading, newPassword, ok, shooter, signIn, toCallback, tagOf } from '../lib/steps.mjs';
import { checkEnrolmentPage, recoveryCodes, secretOf } from './totp.mjs';

export const name = 'second step required at sign-in';

export async function run(env) {
  if (!env.tenants.globex) {
    warn('skipped: GATEHOUSE_GLOBEX_ISSUER and GATEHOUSE_GLOBEX_CLIENT_ID are not set');
    return;
  }
  const vs = variants(['desktop-light', 'phone-dark']);
  for (const v of vs) await runVariant(env, v, v.name === vs[0].name);
}

async function runVariant(env, variant, first) {
  const tenant = env.tenants.globex;
  const opts = { tenantName: tenant.title };
  setScope(`${variant.name} mfa-required`);
  console.log(`\n== ${variant.name}: second step required (${tenant.slug})`);
  const username = `mia.${tagOf(variant)}.${RUN}`;
  const password = newPassword('mfa');
  await createUser(tenant.slug, { username, email: `${username}@example.com`, password });
  const b = await launch(variant);
  const { page } = b;
  const snap = shooter(variant, 'mfa-required');
  try {
    // 1. The password -> enrolment.
    const request = newRequest(tenant);
    await page.goto(request.url);
    let status = await signIn(page, username, password);
    at(page, tenant, '/login/mfa/setup', 'the password of a user without a second step');
    const setupUrl = page.url();
    ok(new URL(setupUrl).searchParams.get('req'), 'required enrolment: the set-up URL carries req');
    await audit(b, 'required enrolment page', { ...opts, status, expectedStatus: 200, snap, name: 'enrol' });
    eq(await heading(page), 'Set up two-step verification', 'required enrolment: heading');
    ok((await page.locator('main').innerText()).includes(`${tenant.title} asks for a second step at every sign-in.`),
      'required enrolment: says the tenant requires it');
    await checkEnrolmentPage(page, 'required enrolment');

    // 2. Once: a wrong code.
    if (first) {
      await page.fill('#code', wrongCode(await secretOf(page)));
      status = await submit(page, () => page.click('main form button[type=submit]'));
      eq(status, 422, 'required enrolment, wrong code: 422');
      eq(await alertText(page), 'That code is not right. Enter the newest code from your app.', 'required enrolment, wrong code: the message');
      await audit(b, 'required enrolment page with error', { ...opts, status, snap, name: 'enrol-wrong' });
    }

    // 3. The app's code -> the recovery codes -> consent -> the code.
    const secret = await secretOf(page);
    await awayFromStepEdge();
    await page.fill('#code', totp(secret, -1));
    status = await submit(page, () => page.click('main form button[type=submit]'));
    await audit(b, 'recovery codes page (sign-in)', { ...opts, status, expectedStatus: 200, snap, name: 'recovery-codes' });
    ok((await recoveryCodes(page)).length >= 8, 'required enrolment: recovery codes are shown');
    eq(await page.locator('nav.languages').count(), 0, 'recovery codes page (sign-in): no language switch (it would lose the codes)');

    // Once: the set-up address again (a reload, the back button): the codes
    // are not shown twice; only the way on remains.
    if (first) {
      const again = await page.goto(setupUrl);
      eq(new URL(page.url()).pathname, new URL(setupUrl).pathname, 'set-up URL after the codes: no redirect');
      await audit(b, 'set-up URL after the codes were shown', { ...opts, status: again.status(), expectedStatus: 200, snap, name: 'codes-shown' });
      eq(await heading(page), 'Set up two-step verification', 'set-up URL after the codes: heading');
      ok((await page.locator('main .lead').innerText()).includes('were shown when two-step verification was turned on'),
        'set-up URL after the codes: says they were shown already');
      eq(await page.locator('main .codes').count(), 0, 'set-up URL after the codes: the codes are not shown again');
      eq(await page.locator('#code').count(), 0, 'set-up URL after the codes: no new enrolment');
      eq((await page.locator('main button, main a[href]').allInnerTexts()).map((t) => t.trim()).join(' | '), 'I have saved them, continue',
        'set-up URL after the codes: only Continue');
      eq(await page.locator('nav.languages').count(), 0, 'set-up URL after the codes: no language switch');
    }
    status = await submit(page, () => page.getByRole('button', { name: 'I have saved them, continue' }).click());
    at(page, tenant, '/consent', 'after the recovery codes: the sign-in goes on');
    await audit(b, 'consent page (globex)', { ...opts, status, expectedStatus: 200, keyboard: false, snap, name: 'consent' });
    let u = await toCallback(page, tenant, () => page.getByRole('button', { name: 'Allow' }).click(), b.events);
    ok(u.searchParams.get('code'), 'enrolled at sign-in: the client gets a code');
    eq(u.searchParams.get('state'), request.params.state, 'enrolled at sign-in: state');

    // 4. Sign out; the next sign-in asks for the app's code.
    await page.goto(`${tenant.issuer}/logout`);
    await submit(page, () => page.getByRole('button', { name: 'Sign out' }).click());
    const again = newRequest(tenant);
    await page.goto(again.url);
    status = await signIn(page, username, password);
    at(page, tenant, '/login/mfa', 'the next sign-in');
    await audit(b, 'second-step page (globex)', { ...opts, status, expectedStatus: 200, keyboard: false, snap, name: 'mfa' });
    await page.fill('#code', totp(secret, 0));
    u = await toCallback(page, tenant, () => page.click('main form button[type=submit]'), b.events);
    ok(u.searchParams.get('code'), 'password and code: the client gets a code (consent remembered)');
    eq(u.searchParams.get('state'), again.params.state, 'password and code: state');
  } catch (e) {
    aborted(e);
    await snap(page, 'aborted').catch(() => warn('no screenshot of the aborted page'));
  } finally {
    await b.close();
  }
}
