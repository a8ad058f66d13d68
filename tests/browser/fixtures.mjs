// The tenants of the browser checks, their clients and their settings, in
// one place: scripts/screenshots creates them from this file before the
// server starts, and the flows check the pages against it.
//
//   node fixtures.mjs tenants   # one line per tenant: slug TAB name TAB client name
//   node fixtures.mjs sql       # SQL that writes the settings (run as the schema owner)
//
// acme: teal, a logo with a dark variant, a favicon, open sign-up, the
// three languages. globex: purple, a serif font stack, a light logo only
// (on a light plate in the dark scheme), a dark-scheme accent too faint for
// a focus ring (ignored), a company name that differs from the display
// name, English and French only, and a second step required at every
// sign-in.

import { fileURLToPath } from 'node:url';

const svg = (s) => `data:image/svg+xml;base64,${Buffer.from(s.replace(/\n\s*/g, ' ').trim()).toString('base64')}`;

const acmeMark = (tile, glyph, word) => `
  <svg xmlns="http://www.w3.org/2000/svg" width="168" height="40" viewBox="0 0 168 40">
    <rect x="2" y="4" width="32" height="32" rx="8" fill="${tile}"/>
    <path d="M11 29 L18 11 L25 29 M13.5 23 H22.5" fill="none" stroke="${glyph}" stroke-width="3.2"
      stroke-linecap="round" stroke-linejoin="round"/>
    <text x="44" y="28.5" font-family="DejaVu Sans, Verdana, Arial, sans-serif" font-size="21"
      font-weight="700" letter-spacing="2" fill="${word}">ACME</text>
  </svg>`;

const globexMark = `
  <svg xmlns="http://www.w3.org/2000/svg" width="176" height="40" viewBox="0 0 176 40">
    <circle cx="20" cy="20" r="15" fill="none" stroke="#6d28d9" stroke-width="3"/>
    <ellipse cx="20" cy="20" rx="6.5" ry="15" fill="none" stroke="#6d28d9" stroke-width="2.4"/>
    <path d="M5 20 H35 M8 12 H32 M8 28 H32" stroke="#6d28d9" stroke-width="2"/>
    <text x="44" y="28" font-family="DejaVu Serif, Georgia, serif" font-size="23" font-style="italic"
      font-weight="700" fill="#4c1d95">Globex</text>
  </svg>`;

const acmeIcon = `
  <svg xmlns="http://www.w3.org/2000/svg" width="32" height="32" viewBox="0 0 32 32">
    <rect width="32" height="32" rx="8" fill="#0f766e"/>
    <path d="M9 25 L16 7 L23 25 M11.5 19 H20.5" fill="none" stroke="#ffffff" stroke-width="3.2"
      stroke-linecap="round" stroke-linejoin="round"/>
  </svg>`;

export const TENANTS = {
  acme: {
    slug: 'acme',
    name: 'Acme Corp',
    // The name page titles end with (no company_name: the display name).
    title: 'Acme Corp',
    clientName: 'Acme Web',
    settings: {
      branding: {
        logo_url: svg(acmeMark('#0f766e', '#ffffff', '#134e4a')),
        logo_dark_url: svg(acmeMark('#5eead4', '#042f2e', '#ccfbf1')),
        favicon_url: svg(acmeIcon),
        primary_color: '#0f766e',
        primary_color_dark: '#5eead4',
        accent_color: '#b45309',
        accent_color_dark: '#fbbf24',
      },
      security: { signup: 'open' },
    },
  },
  globex: {
    slug: 'globex',
    name: 'Globex Corporation',
    title: 'Globex',
    clientName: 'Globex Portal',
    settings: {
      branding: {
        company_name: 'Globex',
        logo_url: svg(globexMark),
        primary_color: '#6d28d9',
        primary_color_dark: '#c4b5fd',
        accent_color: '#db2777',
        // 1.6:1 on the dark card: below the 3:1 a focus ring needs, so the
        // built-in focus colour stays (docs/branding.md).
        accent_color_dark: '#4c1d95',
        font_family: 'Georgia, "DejaVu Serif", "Times New Roman", serif',
      },
      application: { locales: ['en', 'fr'], default_locale: 'en' },
      security: { mfa: 'required' },
    },
  },
};

function sql() {
  const out = ['begin;'];
  for (const t of Object.values(TENANTS)) {
    const id = `(select id from tenants where slug = '${t.slug}')`;
    // tenant_settings has row-level security, forced even for its owner.
    out.push(`select set_config('app.tenant_id', ${id}::text, true);`);
    for (const [section, doc] of Object.entries(t.settings)) {
      const json = JSON.stringify(doc);
      if (json.includes('$fixture$')) throw new Error('the settings must not contain $fixture$');
      out.push(
        `insert into tenant_settings (tenant_id, section, document) values (${id}, '${section}', $fixture$${json}$fixture$::jsonb)` +
          ' on conflict (tenant_id, section) do update set document = excluded.document, updated_at = now();',
      );
    }
  }
  out.push('commit;');
  return out.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const what = process.argv[2];
  if (what === 'tenants') {
    for (const t of Object.values(TENANTS)) console.log([t.slug, t.name, t.clientName].join('\t'));
  } else if (what === 'sql') {
    console.log(sql());
  } else {
    console.error('usage: node fixtures.mjs tenants|sql');
    process.exit(2);
  }
}
