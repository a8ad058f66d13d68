// Two tenants in their own brands (see ../fixtures.mjs): the login page of
// each, in the light and the dark colour scheme, audited like every page
// and saved as screenshots/login-{tenant}-{light|dark}.png. Checks that the
// brand reaches the page: the brand stylesheet, the primary button's
// colour, the logo (its dark variant where there is one, else a light plate
// behind it in the dark scheme), the focus ring in the accent colour (only
// when it has 3:1 against the card), the favicon, the font stack, the
// company name in the title, and the tenant's languages.

import { aborted, launch, namedShot, setScope, variant, warn } from '../lib/harness.mjs';
import { newRequest } from '../lib/oauth.mjs';
import { audit, eq, ok } from '../lib/steps.mjs';

export const name = 'branded login pages';

const hex = (rgb) => {
  const m = rgb.match(/\d+/g);
  return m ? `#${m.slice(0, 3).map((x) => Number(x).toString(16).padStart(2, '0')).join('')}` : rgb;
};

/** WCAG contrast of two #rrggbb colours. */
function contrast(a, b) {
  const lum = (h) => {
    const [r, g, bl] = [1, 3, 5].map((i) => {
      const v = parseInt(h.slice(i, i + 2), 16) / 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

export async function run(env) {
  for (const tenant of Object.values(env.tenants)) {
    for (const scheme of ['light', 'dark']) await shoot(env, tenant, scheme);
  }
}

async function shoot(env, tenant, scheme) {
  const v = variant(`desktop-${scheme}`);
  const brand = (tenant.settings && tenant.settings.branding) || {};
  setScope(`${tenant.slug} ${scheme}`);
  console.log(`\n== ${tenant.slug}: the branded login page, ${scheme}`);
  const b = await launch(v);
  const { page } = b;
  try {
    const r = await page.goto(newRequest(tenant).url);
    const a = await audit(b, `${tenant.slug} login page (${scheme})`, { status: r.status(), expectedStatus: 200, tenantName: tenant.title });
    await namedShot(page, `login-${tenant.slug}-${scheme}`);

    const seen = await page.evaluate(() => {
      const button = document.querySelector('main .button-primary');
      const logo = document.querySelector('h1 img.logo');
      return {
        sheets: [...document.querySelectorAll('link[rel=stylesheet]')].map((l) => new URL(l.href).pathname),
        button: button && getComputedStyle(button).backgroundColor,
        buttonText: button && getComputedStyle(button).color,
        logo: logo && {
          src: logo.currentSrc,
          alt: logo.alt,
          width: logo.getBoundingClientRect().width,
          height: logo.getBoundingClientRect().height,
          background: getComputedStyle(logo).backgroundColor,
        },
        card: getComputedStyle(document.querySelector('main')).backgroundColor,
        focus: (() => {
          const u = document.querySelector('#username');
          u.focus();
          const c = getComputedStyle(u).outlineColor;
          u.blur();
          return c;
        })(),
        icons: [...document.querySelectorAll('link[rel=icon]')].map((l) => l.getAttribute('href')),
        font: getComputedStyle(document.body).fontFamily,
        languages: [...document.querySelectorAll('nav.languages a')].map((x) => x.getAttribute('lang')),
      };
    });
    const primary = scheme === 'dark' ? brand.primary_color_dark : brand.primary_color;
    if (primary) {
      ok(seen.sheets.some((p) => p.endsWith('/assets/brand.css')), `${tenant.slug}: the brand stylesheet is linked`);
      eq(hex(seen.button || ''), primary, `${tenant.slug} ${scheme}: the primary button wears the brand colour`);
    }
    if (brand.logo_url) {
      const want = scheme === 'dark' && brand.logo_dark_url ? brand.logo_dark_url : brand.logo_url;
      ok(seen.logo && seen.logo.src === want, `${tenant.slug} ${scheme}: the ${want === brand.logo_dark_url ? 'dark' : 'light'} logo is shown`);
      eq(seen.logo && seen.logo.alt, tenant.title, `${tenant.slug}: the logo's alt is the company name`);
      ok(seen.logo && seen.logo.height >= 24 && seen.logo.height <= 48, `${tenant.slug}: the logo is 24 to 48px high (${seen.logo && seen.logo.height})`);
      // A light logo in the dark scheme stands on a light plate.
      const plate = scheme === 'dark' && !brand.logo_dark_url;
      const bg = seen.logo ? seen.logo.background : '';
      const opaque = !/^rgba\(.*,\s*0\)$|transparent/.test(bg);
      if (plate) {
        eq(hex(bg), '#ffffff', `${tenant.slug} ${scheme}: the light-only logo stands on a white plate`);
      } else {
        ok(!opaque, `${tenant.slug} ${scheme}: no plate behind the logo (${bg})`);
      }
    }
    const accent = scheme === 'dark' ? brand.accent_color_dark : brand.accent_color;
    if (accent) {
      const card = hex(seen.card);
      if (contrast(accent, card) >= 3) {
        eq(hex(seen.focus), accent.toLowerCase(), `${tenant.slug} ${scheme}: the focus ring wears the accent colour`);
      } else {
        ok(hex(seen.focus) !== accent.toLowerCase() && contrast(hex(seen.focus), card) >= 3,
          `${tenant.slug} ${scheme}: the accent ${accent} (${contrast(accent, card).toFixed(2)}:1 on the card ${card}) is ignored; the focus ring is ${hex(seen.focus)}`);
      }
    }
    if (brand.favicon_url) eq(seen.icons[0], brand.favicon_url, `${tenant.slug}: the favicon is the brand's`);
    if (brand.font_family) eq(seen.font.replace(/'/g, '"'), brand.font_family, `${tenant.slug}: the brand's font stack`);
    const offered = (tenant.settings && tenant.settings.application && tenant.settings.application.locales) || ['en', 'de', 'fr'];
    eq(seen.languages.join(' '), offered.join(' '), `${tenant.slug}: the language switch lists the tenant's languages`);
    ok(a.title.startsWith('Sign in · '), `${tenant.slug}: the title (${a.title})`);
  } catch (e) {
    aborted(e);
    await namedShot(page, `login-${tenant.slug}-${scheme}-aborted`).catch(() => warn('no screenshot'));
  } finally {
    await b.close();
  }
}
