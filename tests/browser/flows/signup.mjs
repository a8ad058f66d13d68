// Sign-up with email verification (tenant acme, security.signup = open):
// the login page's "Create an account" link -> the form (a password the
// policy refuses first) -> "Check your email" -> the mail's link -> Confirm
// -> "Continue to sign in" -> sign in with the new account -> consent ->
// the client's code; the account page shows the address as confirmed. Once:
// a used link is refused, and signing up again with the same address gets
// the same page and an "you already have an account" mail.

import { aborted, launch, namedShot, setScope, submit, variants, warn } from '../lib/harness.mjs';
import { htmlLinks, linksIn } from '../lib/mail.mjs';
import { newRequest } from '../lib/oauth.mjs';
import { RUN, alertText, at, audit, eq, heading, newPassword, ok, shooter, signIn, toCallback, tagOf } from '../lib/steps.mjs';

export const name = 'sign-up with email verification';

export async function run(env) {
  const vs = variants(['desktop-light', 'phone-dark']);
  for (const v of vs) await runVariant(env, v, v.name === vs[0].name);
}

async function runVariant(env, variant, first) {
  const tenant = env.tenants.acme;
  setScope(`${variant.name} signup`);
  console.log(`\n== ${variant.name}: sign-up with email verification`);
  const b = await launch(variant);
  const { page } = b;
  const snap = shooter(variant, 'signup');
  const person = 'Sam Newcomer';
  const email = `sam.${tagOf(variant)}.${RUN}@example.com`;
  const password = newPassword('signup');
  try {
    // 1. The login page offers sign-up.
    const request = newRequest(tenant);
    await page.goto(request.url);
    const create = page.locator('main .links a', { hasText: 'Create an account' });
    eq(await create.count(), 1, 'login: links to sign-up (security.signup = open)');
    let status = await submit(page, () => create.click());
    at(page, tenant, '/signup', 'sign-up link');
    const req = new URL(page.url()).searchParams.get('req');
    ok(req, 'sign-up: the URL keeps the sign-in request (req)');
    await audit(b, 'sign-up page', { status, expectedStatus: 200, snap, name: 'form' });
    eq(await heading(page), 'Create your account', 'sign-up: heading');

    // 2. A password with the person's name in it: the policy says no.
    await page.fill('#name', person);
    await page.fill('#email', email);
    await page.fill('#password', `${person} forever and ever`);
    status = await submit(page, () => page.click('main form button[type=submit]'));
    eq(status, 422, 'sign-up refused: 422');
    ok((await alertText(page) || '').includes('Do not use your name or email address'), `sign-up refused: says why (${await alertText(page)})`);
    eq(await page.inputValue('#email'), email, 'sign-up refused: the address is kept');
    eq(await page.inputValue('#name'), person, 'sign-up refused: the name is kept');
    eq(await page.inputValue('#password'), '', 'sign-up refused: the password is not echoed back');
    eq(await page.getAttribute('#email', 'aria-describedby'), 'signup-error', 'sign-up refused: the address field is described by the message');
    eq(await page.getAttribute('#password', 'aria-invalid'), 'true', 'sign-up refused: the password field is marked invalid');
    ok(((await page.getAttribute('#password', 'aria-describedby')) || '').split(/\s+/).includes('signup-error'),
      'sign-up refused: the password field is described by the message');
    eq(await page.evaluate(() => document.activeElement && document.activeElement.id), 'password', 'sign-up refused: the password field has focus');
    await audit(b, 'sign-up page with error', { status, snap, name: 'error' });

    // 3. A good password: "Check your email".
    await page.fill('#password', password);
    const since = Date.now();
    status = await submit(page, () => page.click('main form button[type=submit]'));
    await audit(b, 'check-your-email page', { status, expectedStatus: 200, snap, name: 'check-email' });
    eq(await heading(page), 'Check your email', 'sign-up sent: heading');
    ok((await page.locator('main .lead').innerText()).includes(email), 'sign-up sent: names the address');

    // 4. The mail and its link.
    const mail = await env.mail.waitFor(email, { subject: /Confirm your email address/, since });
    ok(mail.from.includes('no-reply@gatehouse.test'), `verification mail: From is GATEHOUSE_MAIL_FROM (${mail.from})`);
    ok(mail.subject.includes(tenant.title), `verification mail: the subject names the tenant (${mail.subject})`);
    const links = linksIn(mail, `${tenant.issuer}/verify-email?token=`);
    eq(links.length, 1, 'verification mail: one verification link in the text part');
    const link = links[0] || '';
    eq(link && new URL(link).searchParams.get('req'), req, 'verification mail: the link continues the sign-in request (req)');
    ok(link && htmlLinks(mail).includes(link), 'verification mail: the HTML part has the same link');
    // The link spelled out under the button wears the brand colour (acme's
    // primary reads on white).
    const brand = tenant.settings.branding.primary_color;
    const spelled = [...mail.html.matchAll(/<a href="[^"]*" style="([^"]*)">([^<]*)<\/a>/g)].filter((m) => m[2].includes('/verify-email?token='));
    eq(spelled.length, 1, 'verification mail: the link is also spelled out');
    ok(spelled[0] && new RegExp(`(^|;)\\s*color:\\s*${brand}\\b`, 'i').test(spelled[0][1]),
      `verification mail: the spelled-out link is in the brand colour ${brand} (${spelled[0] && spelled[0][1]})`);
    if (first) {
      // The mail as a mail program shows it (its HTML part).
      const mp = await b.context.newPage();
      await mp.setViewportSize({ width: 700, height: 600 });
      await mp.setContent(mail.html, { waitUntil: 'load' });
      await namedShot(mp, `mail-verify-${tenant.slug}-${variant.colorScheme}`);
      await mp.close();
    }

    // 5. The link shows a Confirm button (opening it uses nothing up).
    let r = await page.goto(link);
    await audit(b, 'verify-email page', { status: r.status(), expectedStatus: 200, snap, name: 'verify' });
    eq(await heading(page), 'Confirm your email address', 'verify: heading');
    ok((await page.locator('main .lead').innerText()).includes(email), 'verify: names the address');
    status = await submit(page, () => page.getByRole('button', { name: 'Confirm' }).click());
    await audit(b, 'email-confirmed page', { status, expectedStatus: 200, snap, name: 'verified' });
    eq(await heading(page), 'Email address confirmed', 'verified: heading');
    const cont = page.getByRole('link', { name: 'Continue to sign in' });
    eq(await cont.count(), 1, 'verified: offers "Continue to sign in" (the request still waits)');

    // 6. Once: a used link cannot be used again.
    if (first) {
      const b2 = await launch(variant);
      try {
        r = await b2.page.goto(link);
        await audit(b2, 'used verification link', { status: r.status(), expectedStatus: 400, keyboard: false, snap, name: 'link-used' });
        eq(await heading(b2.page), 'This link cannot be used', 'used link: heading');
      } finally {
        await b2.close();
      }
    }

    // 7. Continue: sign in with the new account, consent, the code.
    status = await submit(page, () => cont.click());
    at(page, tenant, '/login', 'continue to sign in');
    eq(await page.locator('main .lead').count(), 1, 'continue to sign in: the login page of the same request');
    status = await signIn(page, email, password);
    at(page, tenant, '/consent', 'new account signs in');
    await audit(b, 'consent page (new account)', { status, expectedStatus: 200, keyboard: false });
    const u = await toCallback(page, tenant, () => page.getByRole('button', { name: 'Allow' }).click(), b.events);
    ok(u.searchParams.get('code'), 'new account: the client gets a code');
    eq(u.searchParams.get('state'), request.params.state, 'new account: for the request that began at the login page');

    // 8. The account page: the address is confirmed.
    r = await page.goto(`${tenant.issuer}/account`);
    at(page, tenant, '/account', 'account page of the new account');
    const badge = page.locator('section[aria-labelledby=email-title] .badge');
    eq((await badge.innerText()).trim(), 'confirmed', 'account page: the address is confirmed');
    eq(await page.inputValue('#name'), person, 'account page: the name given at sign-up');

    // 9. Once: signing up again with the same address looks the same, and
    // the mail tells the owner instead.
    if (first) {
      await page.goto(`${tenant.issuer}/signup`);
      await page.fill('#email', email.toUpperCase());
      await page.fill('#password', newPassword('again'));
      const since2 = Date.now();
      status = await submit(page, () => page.click('main form button[type=submit]'));
      eq(status, 200, 'sign-up with a taken address: 200');
      eq(await heading(page), 'Check your email', 'sign-up with a taken address: the same page');
      const m2 = await env.mail.waitFor(email, { subject: /Your account at/, since: since2 });
      ok(linksIn(m2, `${tenant.issuer}/password/forgot?login=`).length === 1, 'account-exists mail: links to the password reset');
    }
  } catch (e) {
    aborted(e);
    await snap(page, 'aborted').catch(() => warn('no screenshot of the aborted page'));
  } finally {
    await b.close();
  }
}
