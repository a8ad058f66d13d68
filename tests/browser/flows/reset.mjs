// Password reset by email (tenant acme): the login page's "Forgot your
// password?" -> the form -> "If an account exists…" -> the mail's link ->
// the new-password form (two different passwords first) -> "Password
// changed" -> "Continue to sign in": the old password fails, the new one
// works. Once: a second browser signed in before the reset is signed out by
// it, and the used link is refused.

import { aborted, launch, setScope, submit, variants, warn } from '../lib/harness.mjs';
import { createUser } from '../lib/cli.mjs';
import { linksIn } from '../lib/mail.mjs';
import { newRequest } from '../lib/oauth.mjs';
import { RUN, alertText, at, audit, eq, heading, newPassword, ok, shooter, signIn, tagOf } from '../lib/steps.mjs';

export const name = 'password reset by email';

export async function run(env) {
  const vs = variants(['desktop-light', 'phone-dark']);
  for (const v of vs) await runVariant(env, v, v.name === vs[0].name);
}

async function runVariant(env, variant, first) {
  const tenant = env.tenants.acme;
  setScope(`${variant.name} reset`);
  console.log(`\n== ${variant.name}: password reset by email`);
  const username = `rita.${tagOf(variant)}.${RUN}`;
  const email = `${username}@example.com`;
  const oldPassword = newPassword('old');
  const newPw = newPassword('new');
  await createUser(tenant.slug, { username, email, name: 'Rita Reset', password: oldPassword });
  const b = await launch(variant);
  const { page } = b;
  const snap = shooter(variant, 'reset');
  let other = null;
  try {
    // Once: another browser, signed in before the reset.
    if (first) {
      other = await launch(variant);
      await other.page.goto(`${tenant.issuer}/account`);
      await signIn(other.page, username, oldPassword);
      at(other.page, tenant, '/account', 'second browser signed in before the reset');
    }

    // 1. The login page's link to the reset form.
    const request = newRequest(tenant);
    await page.goto(request.url);
    const forgot = page.locator('main .links a', { hasText: 'Forgot your password?' });
    eq(await forgot.count(), 1, 'login: links to the password reset');
    let status = await submit(page, () => forgot.click());
    at(page, tenant, '/password/forgot', 'forgot link');
    await audit(b, 'forgot-password page', { status, expectedStatus: 200, snap, name: 'forgot' });
    eq(await heading(page), 'Reset your password', 'forgot: heading');

    // 2. Ask for a link.
    await page.fill('#login', username);
    const since = Date.now();
    status = await submit(page, () => page.click('main form button[type=submit]'));
    await audit(b, 'reset-link-sent page', { status, expectedStatus: 200, snap, name: 'sent' });
    eq(await heading(page), 'Check your email', 'forgot sent: heading');
    ok((await page.locator('main .lead').innerText()).startsWith(`If an account exists for ${username}`), 'forgot sent: does not tell whether the account exists');

    // 3. The mail and its link.
    const mail = await env.mail.waitFor(email, { subject: /Reset your password/, since });
    ok(mail.subject.includes(tenant.title), `reset mail: the subject names the tenant (${mail.subject})`);
    const links = linksIn(mail, `${tenant.issuer}/password/reset?token=`);
    eq(links.length, 1, 'reset mail: one reset link');
    const link = links[0] || '';

    // 4. The new-password form; two different passwords first.
    let r = await page.goto(link);
    await audit(b, 'new-password page', { status: r.status(), expectedStatus: 200, snap, name: 'form' });
    eq(await heading(page), 'Choose a new password', 'reset: heading');
    await page.fill('#password', newPw);
    await page.fill('#confirm', `${newPw}x`);
    status = await submit(page, () => page.click('main form button[type=submit]'));
    eq(status, 422, 'reset with different passwords: 422');
    eq(await alertText(page), 'The two passwords differ.', 'reset with different passwords: the message');
    await audit(b, 'new-password page with error', { status, snap, name: 'mismatch' });

    // 5. The same password twice: changed.
    await page.fill('#password', newPw);
    await page.fill('#confirm', newPw);
    status = await submit(page, () => page.click('main form button[type=submit]'));
    await audit(b, 'password-changed page', { status, expectedStatus: 200, snap, name: 'changed' });
    eq(await heading(page), 'Password changed', 'reset done: heading');
    const cont = page.getByRole('link', { name: 'Continue to sign in' });
    eq(await cont.count(), 1, 'reset done: offers "Continue to sign in"');

    // 6. Once: the other browser is signed out; the link is used up.
    if (first) {
      await other.page.goto(`${tenant.issuer}/account`);
      at(other.page, tenant, '/login', 'the reset signed out the other browser');
      r = await other.page.goto(link);
      await audit(other, 'used reset link', { status: r.status(), expectedStatus: 400, keyboard: false, snap, name: 'link-used' });
      eq(await heading(other.page), 'This link cannot be used', 'used reset link: heading');
    }

    // 7. Sign in: the old password fails, the new one works.
    await submit(page, () => cont.click());
    at(page, tenant, '/login', 'continue to sign in');
    status = await signIn(page, username, oldPassword);
    eq(await alertText(page), 'Invalid username or password.', 'the old password no longer works');
    status = await signIn(page, username, newPw);
    at(page, tenant, '/consent', 'the new password works');
    eq(status, 200, 'the new password: the consent page');
  } catch (e) {
    aborted(e);
    await snap(page, 'aborted').catch(() => warn('no screenshot of the aborted page'));
  } finally {
    await b.close();
    if (other) await other.close();
  }
}
