// The account page's actions (tenant acme): an application is let in
// (consent), a second browser (another user agent) signs in; the first one
// sees both sessions and signs the other one out, which then has to sign in
// again; the profile is saved and kept; the application's access is
// removed, after which the application has to ask for consent again.

import { aborted, launch, setScope, submit, variants, warn } from '../lib/harness.mjs';
import { createUser } from '../lib/cli.mjs';
import { newRequest } from '../lib/oauth.mjs';
import { RUN, at, audit, eq, newPassword, notice, ok, shooter, signIn, toCallback, tagOf } from '../lib/steps.mjs';

export const name = 'account page actions';

const OTHER_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:131.0) Gecko/20100101 Firefox/131.0';

export async function run(env) {
  const vs = variants(['desktop-light', 'phone-dark']);
  for (const v of vs) await runVariant(env, v);
}

async function runVariant(env, variant) {
  const tenant = env.tenants.acme;
  setScope(`${variant.name} account`);
  console.log(`\n== ${variant.name}: account page actions`);
  const username = `ada.${tagOf(variant)}.${RUN}`;
  const password = newPassword('account');
  await createUser(tenant.slug, { username, email: `${username}@example.com`, password });
  const b = await launch(variant);
  const { page } = b;
  const snap = shooter(variant, 'account');
  let other = null;
  const sessionRows = page.locator('section[aria-labelledby=sessions-title] .rows li');
  const appRows = page.locator('section[aria-labelledby=apps-title] .rows li');
  try {
    // 1. Let the application in.
    await page.goto(newRequest(tenant).url);
    await signIn(page, username, password);
    at(page, tenant, '/consent', 'first sign-in');
    let u = await toCallback(page, tenant, () => page.getByRole('button', { name: 'Allow' }).click(), b.events);
    ok(u.searchParams.get('code'), 'the application got a code');

    // 2. A second browser signs in on the account page.
    other = await launch(variant, { userAgent: OTHER_UA });
    await other.page.goto(`${tenant.issuer}/account`);
    await signIn(other.page, username, password);
    at(other.page, tenant, '/account', 'second browser signed in');

    // 3. The first browser sees both sessions and the application.
    let r = await page.goto(`${tenant.issuer}/account`);
    await audit(b, 'account page (two sessions, one application)', { status: r.status(), expectedStatus: 200, snap, name: 'two-sessions' });
    eq(await sessionRows.count(), 2, 'sessions: two sessions listed');
    const mine = sessionRows.filter({ hasText: 'this browser' });
    const theirs = sessionRows.filter({ hasNotText: 'this browser' });
    eq(await mine.count(), 1, 'sessions: one is marked as this browser');
    ok((await theirs.innerText()).includes('Firefox, Windows'), `sessions: the other one is named by its browser (${(await theirs.innerText()).replace(/\s+/g, ' ')})`);
    eq(await appRows.count(), 1, 'applications: one application with access');
    ok((await appRows.first().innerText()).includes(tenant.clientName), 'applications: names the client');
    ok((await sessionRows.first().innerText()).includes('this browser'), 'sessions: this browser is listed first');
    for (const d of await sessionRows.locator('.row-detail').allInnerTexts()) {
      ok(/^Signed in \d{4}-\d\d-\d\d \d\d:\d\d UTC\b/.test(d.trim()), `sessions: the time reads like 2026-12-02 15:30 UTC (${d.trim()})`);
    }
    // Each row's button is described by the row's title: "Sign out" /
    // "Remove access" alone do not say of what.
    const described = await page.locator('section[aria-labelledby=sessions-title] .rows li, section[aria-labelledby=apps-title] .rows li').evaluateAll((lis) =>
      lis.map((li) => {
        const button = li.querySelector('button');
        const id = button && button.getAttribute('aria-describedby');
        const target = id && document.getElementById(id);
        const title = li.querySelector('.row-title');
        return { button: button && button.textContent.trim(), inRow: !!target && li.contains(target), isTitle: target === title, title: title && title.textContent.replace(/\s+/g, ' ').trim() };
      }),
    );
    for (const d of described) ok(d.inRow && d.isTitle, `account: "${d.button}" is described by its row's title "${d.title}" (${JSON.stringify(d)})`);

    // 4. Sign the other browser out.
    let status = await submit(page, () => theirs.getByRole('button', { name: 'Sign out' }).click());
    at(page, tenant, '/account', 'after signing out the other session');
    eq(await notice(page), 'The session has been signed out.', 'sessions: the notice');
    eq(await sessionRows.count(), 1, 'sessions: one session left');
    ok((await sessionRows.first().innerText()).includes('this browser'), 'sessions: the one left is this browser');
    await audit(b, 'account page (session signed out)', { status, expectedStatus: 200, keyboard: false, snap, name: 'session-ended' });
    await other.page.goto(`${tenant.issuer}/account`);
    at(other.page, tenant, '/login', 'the signed-out browser must sign in again');

    // 5. The profile.
    await page.fill('#name', 'Ada Lovelace');
    await page.fill('#given_name', 'Ada');
    await page.fill('#family_name', 'Lovelace');
    status = await submit(page, () => page.locator('section[aria-labelledby=profile-title]').getByRole('button', { name: 'Save' }).click());
    eq(await notice(page), 'Your profile is saved.', 'profile: the notice');
    await page.reload();
    eq(await page.inputValue('#name'), 'Ada Lovelace', 'profile: the name is kept');
    eq(await page.inputValue('#given_name'), 'Ada', 'profile: the given name is kept');
    eq(await page.inputValue('#family_name'), 'Lovelace', 'profile: the family name is kept');

    // 6. Remove the application's access.
    status = await submit(page, () => appRows.first().getByRole('button', { name: 'Remove access' }).click());
    eq(await notice(page), 'The application no longer has access.', 'applications: the notice');
    eq(await appRows.count(), 0, 'applications: none left');
    ok((await page.locator('section[aria-labelledby=apps-title]').innerText()).includes('No application has access to your account.'),
      'applications: says none has access');
    await audit(b, 'account page (access removed)', { status, expectedStatus: 200, snap, name: 'access-removed' });

    // 7. The application has to ask again.
    r = await page.goto(newRequest(tenant).url);
    at(page, tenant, '/consent', 'after removing access: the consent page again');
  } catch (e) {
    aborted(e);
    await snap(page, 'aborted').catch(() => warn('no screenshot of the aborted page'));
  } finally {
    await b.close();
    if (other) await other.close();
  }
}
