// The administration consoles in the browser.
//
// /platform at _platforms, as the bootstrap platform administrator
// (GATEHOUSE_OPERATOR_EMAIL / GATEHOUSE_OPERATOR_PASSWORD, which
// scripts/screenshots gives the server as GATEHOUSE_BOOTSTRAP_ADMIN_*):
// sign in through the console, the tenant list and its search, a tenant
// created (a bad slug first), suspended (its discovery document answers
// 403), activated, its audit log entered; deletion refused without the
// slug typed again, then done.
//
// /admin at acme, as an owner made with `gatehouse user create --role
// owner`: users (a user created, a weak password refused first; a role
// given; the user locked, unlocked, disabled), sessions (a second browser
// signed in as the owner is listed and ended), clients (one registered: its secret shown
// once), roles (a custom role), keys (rotated), the audit log filtered and
// its CSV export. Every page gets the page checks (console, CSP, contrast,
// targets, overflow, labels) and the keyboard audit, and a screenshot.

import { request } from 'node:http';

import { SHOTS, launch, setScope, submit, variants } from '../lib/harness.mjs';
import { createUser } from '../lib/cli.mjs';
import { RUN, alertText, audit, eq, newPassword, notice, ok, shooter, signIn, tagOf } from '../lib/steps.mjs';

export const name = 'administration consoles';

/** GET `url`; resolves to the status. */
function statusOf(url) {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      res.resume();
      resolve(res.statusCode);
    })
      .on('error', reject)
      .end();
  });
}

export async function run(env) {
  const email = process.env.GATEHOUSE_OPERATOR_EMAIL;
  const password = process.env.GATEHOUSE_OPERATOR_PASSWORD;
  for (const v of variants(['desktop-light', 'phone-dark'])) {
    if (email && password) await platform(env, v, email, password);
    await admin(env, v);
  }
}

async function page_(b, label, snap, shotName, status, tenantName, expectedStatus = 200) {
  return audit(b, label, { status, expectedStatus, snap, name: shotName, tenantName, console: true });
}

async function platform(env, variant, email, password) {
  const acme = env.tenants.acme;
  const base = `${new URL(acme.issuer).origin}/t/_platforms`;
  setScope(`${variant.name} platform`);
  console.log(`\n== ${variant.name}: /platform`);
  const b = await launch(variant);
  const { page } = b;
  const snap = shooter(variant, 'platform');
  const slug = `made-${tagOf(variant)}-${RUN}`;
  try {
    await page.goto(`${base}/platform`);
    ok(new URL(page.url()).pathname.endsWith('/login'), 'platform: no session leads to the sign-in page');
    await signIn(page, email, password);
    ok(new URL(page.url()).pathname.endsWith('/platform/tenants'), `platform: the sign-in comes back to the console (${page.url()})`);
    await page_(b, 'platform: tenants', snap, 'tenants', 200, 'Platform');
    ok((await page.locator('table.data').innerText()).includes('acme'), 'platform: acme is listed');

    await page.fill('#q', 'acm');
    await submit(page, () => page.getByRole('button', { name: 'Search' }).click());
    ok((await page.locator('table.data tbody tr').count()) >= 1, 'platform: the search finds acme');
    ok(!(await page.locator('table.data').innerText()).includes('globex'), 'platform: the search leaves globex out');

    await page.fill('#slug', 'Bad Slug');
    await page.fill('#tenant-name', 'Made Here');
    // The browser's own pattern check would stop this; the server must too.
    await page.locator('#slug').evaluate((el) => el.removeAttribute('pattern'));
    let status = await submit(page, () => page.getByRole('button', { name: 'Create tenant' }).click());
    eq(status, 422, 'platform: a bad slug is refused');
    ok((await alertText(page) || '').length > 0, 'platform: the refusal says why');
    await page_(b, 'platform: refused creation', snap, 'create-refused', status, 'Platform', 422);

    await page.fill('#slug', slug);
    await page.fill('#tenant-name', 'Made Here');
    status = await submit(page, () => page.getByRole('button', { name: 'Create tenant' }).click());
    eq(status, 200, 'platform: created');
    eq(await notice(page), 'The tenant was created.', 'platform: the notice');
    await page_(b, 'platform: tenant', snap, 'tenant', status, 'Platform');

    const discovery = `${new URL(acme.issuer).origin}/t/${slug}/.well-known/openid-configuration`;
    eq(await statusOf(discovery), 200, 'platform: the new tenant serves its discovery document');
    ok((await page.locator('section[aria-labelledby=usage]').innerText()).includes('Users'), 'platform: the tenant page shows its usage');

    // A custom domain: a bad one refused with the form kept, a good one
    // made primary becomes the issuer.
    await page.fill('#host', 'localhost');
    status = await submit(page, () => page.getByRole('button', { name: 'Add domain' }).click());
    eq(status, 422, 'platform: a reserved host is refused');
    eq(await page.inputValue('#host'), 'localhost', 'platform: the domain form keeps what was typed');
    await page_(b, 'platform: refused domain', snap, 'domain-refused', status, 'Platform', 422);
    const host = `login.${slug}.example`;
    await page.fill('#host', host);
    await page.locator('input[name=primary]').check();
    status = await submit(page, () => page.getByRole('button', { name: 'Add domain' }).click());
    eq(status, 200, 'platform: the domain was added');
    ok((await page.locator('section[aria-labelledby=domains] .rows').innerText()).includes(host), 'platform: the domain is listed');
    await page_(b, 'platform: tenant with a domain', snap, 'tenant-domain', status, 'Platform');
    // Every node learns of the change through the event bus, this one too.
    const wanted = `${new URL(acme.issuer).protocol}//${host}`;
    let issuer = '';
    for (let i = 0; i < 50 && issuer !== wanted; i++) {
      issuer = (await (await fetch(discovery)).json()).issuer;
      if (issuer !== wanted) await new Promise((r) => setTimeout(r, 20));
    }
    eq(issuer, wanted, 'platform: the primary domain is the issuer');
    await submit(page, () => page.getByRole('button', { name: `Remove ${host}` }).click());
    ok((await notice(page) || '').startsWith('The domain was removed'), 'platform: the domain was removed');
    await submit(page, () => page.getByRole('button', { name: 'Suspend' }).click());
    ok((await notice(page) || '').startsWith('The tenant is suspended'), 'platform: suspended');
    eq(await statusOf(discovery), 403, 'platform: a suspended tenant answers 403');
    await submit(page, () => page.getByRole('button', { name: 'Activate' }).click());
    eq(await statusOf(discovery), 200, 'platform: active again');

    status = await submit(page, () => page.getByRole('link', { name: 'Settings' }).click());
    await page_(b, 'platform: tenant settings', snap, 'tenant-settings', status, 'Platform');
    await page.fill('#doc-security', '{"password_min_length": 4}');
    status = await submit(page, () => page.getByRole('button', { name: 'Save security' }).click());
    eq(status, 422, 'platform: a section below the floor is refused');
    eq(await page.inputValue('#doc-security'), '{"password_min_length": 4}', 'platform: the section keeps what was typed');
    ok((await alertText(page) || '').includes('security.password_min_length'), 'platform: the refusal names the field');
    await page_(b, 'platform: refused settings', snap, 'tenant-settings-refused', status, 'Platform', 422);
    await page.fill('#doc-branding', '{"company_name": "Made Here Inc."}');
    status = await submit(page, () => page.getByRole('button', { name: 'Save branding' }).click());
    ok((await notice(page) || '').startsWith('The section was saved'), 'platform: the branding section was saved');
    await page.goto(`${base}/platform/tenants/${slug}`);

    status = await submit(page, () => page.getByRole('link', { name: 'Audit log' }).click());
    await page_(b, 'platform: tenant audit log', snap, 'tenant-audit', status, 'Platform');
    const log = await page.locator('table.data').innerText();
    ok(log.includes('tenant.status_changed') && log.includes('tenant.created'), 'platform: the tenant\'s log has its creation and status changes');

    await page.goBack();
    await page.fill('#confirm', 'not-the-slug');
    status = await submit(page, () => page.getByRole('button', { name: 'Delete tenant' }).click());
    eq(status, 422, 'platform: deletion needs the slug typed again');
    eq(await statusOf(discovery), 200, 'platform: nothing was deleted');
    await page.fill('#confirm', slug);
    await submit(page, () => page.getByRole('button', { name: 'Delete tenant' }).click());
    ok((await notice(page) || '').startsWith('The tenant was deleted'), 'platform: deleted');
    eq(await statusOf(discovery), 404, 'platform: the deleted tenant is gone');
  } finally {
    await b.close();
  }
}

async function admin(env, variant) {
  const tenant = env.tenants.acme;
  setScope(`${variant.name} admin`);
  console.log(`\n== ${variant.name}: /admin`);
  const owner = `owner.${tagOf(variant)}.${RUN}`;
  const password = newPassword('owner');
  const slug = new URL(tenant.issuer).pathname.split('/').pop();
  await createUser(slug, { username: owner, password, roles: ['owner'] });
  const b = await launch(variant);
  const { page } = b;
  const snap = shooter(variant, 'admin');
  const staff = `staff.${tagOf(variant)}.${RUN}`;
  try {
    await page.goto(`${tenant.issuer}/admin`);
    await signIn(page, owner, password);
    ok(new URL(page.url()).pathname.endsWith('/admin/users'), `admin: the sign-in comes back to the console (${page.url()})`);
    await page_(b, 'admin: users', snap, 'users', 200);

    await page.fill('#username', staff);
    await page.fill('#email', `${staff}@example.com`);
    await page.fill('#password', 'short');
    let status = await submit(page, () => page.getByRole('button', { name: 'Create user' }).click());
    eq(status, 422, 'admin: a weak password is refused');
    eq(await page.inputValue('#username'), staff, 'admin: the form keeps what was typed');
    ok((await alertText(page) || '').length > 0, 'admin: the refusal says why');
    await page_(b, 'admin: refused user', snap, 'user-refused', status, undefined, 422);
    await page.fill('#password', newPassword('staff'));
    status = await submit(page, () => page.getByRole('button', { name: 'Create user' }).click());
    eq(status, 200, 'admin: the user was created');
    eq(await notice(page), 'The user was created.', 'admin: the notice');
    await page_(b, 'admin: user', snap, 'user', status);
    await page.selectOption('#role', 'readonly');
    await submit(page, () => page.getByRole('button', { name: 'Give role' }).click());
    ok((await page.locator('section[aria-labelledby=roles] .rows').innerText()).includes('readonly'), 'admin: the role was given');
    ok((await page.locator('section[aria-labelledby=sessions]').innerText()).includes('No browser is signed in'), 'admin: a new user has no sessions');
    await submit(page, () => page.getByRole('button', { name: 'Lock' }).click());
    ok((await notice(page) || '').startsWith('The user was locked'), 'admin: locked');
    ok((await page.locator('dl.facts').innerText()).includes('locked'), 'admin: the status says locked');
    await page_(b, 'admin: locked user', snap, 'user-locked', 200);
    await submit(page, () => page.getByRole('button', { name: 'Unlock' }).click());
    ok((await notice(page) || '').startsWith('The user was unlocked'), 'admin: unlocked');
    await submit(page, () => page.getByRole('button', { name: 'Disable', exact: true }).click());
    ok((await notice(page) || '').startsWith('The user was disabled'), 'admin: disabled');

    // Sessions: a second browser signs in as the owner; this one ends it.
    const other = await launch(variant);
    try {
      await other.page.goto(`${tenant.issuer}/admin`);
      await signIn(other.page, owner, password);
      status = await submit(page, () => page.getByRole('link', { name: 'Sessions' }).click());
      const listed = await page.locator('table.data tbody').innerText();
      ok(listed.split(owner).length - 1 >= 2, 'admin: the tenant\'s sessions list both of the owner\'s browsers');
      await page_(b, 'admin: sessions', snap, 'sessions', status);
      // Newest first: the first row is the other browser's.
      status = await submit(page, () => page.locator('table.data tbody tr').first().getByRole('button', { name: /^End/ }).click());
      eq(await notice(page), 'The session was ended and the tokens issued in it revoked.', 'admin: a session was ended');
      ok(new URL(page.url()).pathname.endsWith('/admin/sessions'), 'admin: this browser is still signed in');
      await other.page.goto(`${tenant.issuer}/admin`);
      ok((await other.page.locator('input[name=password]').count()) === 1, 'admin: the ended browser must sign in again');
    } finally {
      await other.close();
    }

    status = await submit(page, () => page.getByRole('link', { name: 'Clients' }).click());
    await page_(b, 'admin: clients', snap, 'clients', status);
    await page.fill('#name', `Shop ${RUN}`);
    await page.fill('#redirect_uris', 'https://shop.example/callback');
    status = await submit(page, () => page.getByRole('button', { name: 'Register client' }).click());
    eq(status, 201, 'admin: the client was registered');
    const secret = (await page.locator('#client-secret').innerText()).trim();
    ok(/^[A-Za-z0-9_-]{43}$/.test(secret), 'admin: the secret is shown once (43 characters)');
    await page_(b, 'admin: client secret', snap, 'client-secret', 200);
    status = await submit(page, () => page.getByRole('link', { name: 'Done' }).click());
    await page_(b, 'admin: client', snap, 'client', status);
    await submit(page, () => page.getByRole('button', { name: 'Disable client' }).click());
    ok((await notice(page) || '').startsWith('The client was disabled'), 'admin: the client was disabled');
    await page_(b, 'admin: disabled client', snap, 'client-disabled', 200);
    await submit(page, () => page.getByRole('button', { name: 'Enable client' }).click());
    ok((await notice(page) || '').startsWith('The client was enabled'), 'admin: the client was enabled');
    ok(!(await page.content()).includes(secret), 'admin: the client page does not show the secret again');

    status = await submit(page, () => page.getByRole('link', { name: 'Roles' }).click());
    await page.fill('#role-name', `editor-${tagOf(variant)}-${RUN}`);
    status = await submit(page, () => page.getByRole('button', { name: 'Create role' }).click());
    eq(await notice(page), 'The role was created.', 'admin: a custom role');
    await page_(b, 'admin: roles', snap, 'roles', status);

    status = await submit(page, () => page.getByRole('link', { name: 'Keys' }).click());
    await page_(b, 'admin: keys', snap, 'keys', status);
    await submit(page, () => page.getByRole('button', { name: 'Rotate keys' }).click());
    ok((await notice(page) || '').startsWith('The keys were rotated'), 'admin: keys rotated');

    status = await submit(page, () => page.getByRole('link', { name: 'Settings' }).click());
    await page_(b, 'admin: settings', snap, 'settings', status);
    const original = { company: await page.inputValue('#company_name'), primary: await page.inputValue('#primary_color') };
    await page.fill('#company_name', 'Acme Console');
    await page.fill('#primary_color', '#0f766e');
    status = await submit(page, () => page.getByRole('button', { name: 'Save brand' }).click());
    ok((await notice(page) || '').startsWith('The brand was saved'), 'admin: the brand was saved');
    await page.fill('#password_min_length', '4');
    status = await submit(page, () => page.getByRole('button', { name: 'Save security policy' }).click());
    eq(status, 422, 'admin: a password length below the platform floor is refused');
    ok((await alertText(page) || '').includes('security.password_min_length'), 'admin: the refusal names the field and the bound');
    await page_(b, 'admin: settings refused', snap, 'settings-refused', status, undefined, 422);
    const preview = await b.context.newPage();
    const r = await preview.goto(`${tenant.issuer}/admin/settings/preview`);
    eq(r.status(), 200, 'admin: the preview of the sign-in page');
    ok((await preview.title()).endsWith('· Acme Console'), `admin: the preview names the new company (${await preview.title()})`);
    await preview.screenshot({ path: `${SHOTS}/${variant.name}-admin-preview.png`, fullPage: true });
    await preview.close();
    // Back to the tenant's brand, for what follows.
    await page.fill('#company_name', original.company);
    await page.fill('#primary_color', original.primary);
    await submit(page, () => page.getByRole('button', { name: 'Save brand' }).click());
    ok((await page.locator('section[aria-labelledby=brand] .rows').innerText()).includes('current'), 'admin: the brand\'s versions are listed');
    await page_(b, 'admin: settings with versions', snap, 'settings-versions', 200);

    status = await submit(page, () => page.getByRole('link', { name: 'Audit log' }).click());
    await page.fill('#action', 'user.');
    status = await submit(page, () => page.getByRole('button', { name: 'Filter' }).click());
    await page_(b, 'admin: audit log', snap, 'audit', status);
    const rows = await page.locator('table.data tbody').innerText();
    ok(rows.includes('user.created') && rows.includes('user.updated'), 'admin: the log has the user changes');
    ok(!rows.includes('keys.rotated'), 'admin: the filter leaves other actions out');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Export CSV' }).click(),
    ]);
    const file = await download.path();
    const csv = (await import('node:fs')).readFileSync(file, 'utf8');
    ok(csv.startsWith('at,actor_kind,actor_id'), 'admin: the CSV has its header');
    ok(csv.includes('user.created'), 'admin: the CSV has the filtered events');
  } finally {
    await b.close();
  }
}
