// Languages (tenant acme offers English, Deutsch, Français): the switch at
// the bottom of every page -> "Deutsch" -> the same sign-in page in German
// (<html lang="de">), which stays German on the next page and for the next
// request; ui_locales=fr outranks the choice; after a wrong password the
// switch keeps the sign-in request; the switch refuses a return address off
// the site; Accept-Language decides for a new browser.

import { aborted, clearEvents, launch, setScope, submit, variants, warn } from '../lib/harness.mjs';
import { newRequest } from '../lib/oauth.mjs';
import { alertText, at, audit, eq, heading, ok, shooter, signIn } from '../lib/steps.mjs';

export const name = 'language switch';

export async function run(env) {
  const vs = variants(['desktop-light', 'phone-dark']);
  for (const v of vs) await runVariant(env, v, v.name === vs[0].name);
}

/** The language switch: [{ name, lang, hreflang, current, href }]. */
async function switchLinks(page) {
  return page.locator('nav.languages a').evaluateAll((as) =>
    as.map((a) => ({
      name: a.textContent.trim(),
      lang: a.getAttribute('lang'),
      hreflang: a.getAttribute('hreflang'),
      current: a.getAttribute('aria-current') === 'true',
      href: a.getAttribute('href'),
    })),
  );
}

async function runVariant(env, variant, first) {
  const tenant = env.tenants.acme;
  setScope(`${variant.name} language`);
  console.log(`\n== ${variant.name}: language switch`);
  const b = await launch(variant);
  const { page } = b;
  const snap = shooter(variant, 'language');
  try {
    // 1. English first (the browser asks for en-US); the switch lists the
    // three languages, each named in itself.
    const request = newRequest(tenant);
    await page.goto(request.url);
    const req = new URL(page.url()).searchParams.get('req');
    eq(await heading(page), 'Sign in', 'English login page');
    let links = await switchLinks(page);
    eq(links.map((l) => l.name).join(', '), 'English, Deutsch, Français', 'switch: the languages, each in itself');
    eq(links.map((l) => `${l.lang}/${l.hreflang}`).join(' '), 'en/en de/de fr/fr', 'switch: lang and hreflang of each link');
    eq(links.filter((l) => l.current).map((l) => l.name).join(), 'English', 'switch: the current language is marked (aria-current)');
    eq(await page.locator('nav.languages').getAttribute('aria-label'), 'Language', 'switch: the navigation is labelled');
    // Comfortable touch targets; the current language is underlined, not
    // told by colour or weight alone.
    const sizes = await page.locator('nav.languages a, main .links a').evaluateAll((as) =>
      as.map((a) => {
        const s = getComputedStyle(a);
        return {
          text: a.textContent.trim(),
          height: Math.round(a.getBoundingClientRect().height),
          current: a.getAttribute('aria-current') === 'true',
          border: `${s.borderBottomStyle} ${parseFloat(s.borderBottomWidth)}`,
        };
      }),
    );
    for (const l of sizes) ok(l.height >= 44, `switch and links under the form: "${l.text}" is ${l.height}px high (44px)`);
    for (const l of sizes.filter((x) => x.current)) eq(l.border, 'solid 2', `switch: the current language "${l.text}" has an underline border`);

    // 2. Deutsch: the same page, in German.
    let status = await submit(page, () => page.locator('nav.languages a', { hasText: 'Deutsch' }).click());
    at(page, tenant, '/login', 'after choosing Deutsch');
    eq(new URL(page.url()).searchParams.get('req'), req, 'Deutsch: back on the same sign-in request');
    await audit(b, 'login page in German', { status, expectedStatus: 200, lang: 'de', snap, name: 'login-de' });
    eq(await heading(page), 'Anmelden', 'Deutsch: the heading is German');
    links = await switchLinks(page);
    eq(links.filter((l) => l.current).map((l) => l.name).join(), 'Deutsch', 'Deutsch: marked as the current language');
    eq(await page.locator('nav.languages').getAttribute('aria-label'), 'Sprache', 'Deutsch: the switch is labelled in German');

    // 3. The next page stays German.
    status = await submit(page, () => page.locator('main .links a').first().click());
    at(page, tenant, '/password/forgot', 'the German forgot link');
    await audit(b, 'forgot page in German', { status, expectedStatus: 200, lang: 'de', snap, name: 'forgot-de' });
    ok((await heading(page)) !== 'Reset your password', `the next page is German too (${await heading(page)})`);

    // 4. A new request without ui_locales: still German (the cookie).
    await page.goto(newRequest(tenant).url);
    eq(await page.getAttribute('html', 'lang'), 'de', 'a new request keeps the chosen language');

    // 5. ui_locales=fr outranks the choice.
    const r = await page.goto(newRequest(tenant, { ui_locales: 'fr-CA fr' }).url);
    await audit(b, 'login page with ui_locales=fr', { status: r.status(), expectedStatus: 200, lang: 'fr', snap, name: 'login-fr' });
    eq(await heading(page), 'Se connecter', 'ui_locales=fr: the heading is French');

    // 6. A page that answers a POST (the login page after a wrong
    // password): the switch still returns to the same sign-in request.
    {
      await page.goto(newRequest(tenant).url);
      const pending = new URL(page.url()).searchParams.get('req');
      await signIn(page, 'nobody-in-particular', 'not-the-password');
      ok(await alertText(page), 'wrong password (in German): the error is shown');
      status = await submit(page, () => page.locator('nav.languages a', { hasText: 'English' }).click());
      eq(status, 200, 'switch after a wrong password: the page answers 200');
      at(page, tenant, '/login', 'switch after a wrong password');
      eq(new URL(page.url()).searchParams.get('req'), pending, 'switch after a wrong password: back on the same sign-in request');
      eq(await heading(page), 'Sign in', 'switch after a wrong password: the login page in English');
      clearEvents(b.events);
    }

    if (first) {
      // 7. No open redirect: a return address off the site is refused.
      const bad = await page.goto(`${tenant.issuer}/language?lang=en&return=${encodeURIComponent('//evil.example/')}`);
      eq(new URL(page.url()).host, new URL(tenant.issuer).host, 'switch: does not leave the site');
      await audit(b, 'language error page', { status: bad.status(), expectedStatus: 400, lang: 'en', keyboard: false, snap, name: 'error' });

      // 8. A new browser that prefers French gets French.
      const fr = await launch(variant, { locale: 'fr-FR' });
      try {
        await fr.page.goto(`${tenant.issuer}/account`);
        eq(await fr.page.getAttribute('html', 'lang'), 'fr', 'Accept-Language fr-FR: the page is French');
      } finally {
        await fr.close();
      }
    }
  } catch (e) {
    aborted(e);
    await snap(page, 'aborted').catch(() => warn('no screenshot of the aborted page'));
  } finally {
    await b.close();
  }
}
