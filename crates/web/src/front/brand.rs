//! A tenant's brand on its end-user pages, from the settings sections
//! `branding` and `application` (platform defaults merged with the
//! tenant's own):
//!
//! | key (`branding.`) | use |
//! |---|---|
//! | `company_name` | the heading of every page and the sender of emails |
//! | `logo_url`, `logo_dark_url` | the logo, light and dark scheme |
//! | `favicon_url`, `favicon_dark_url` | the favicon, light and dark |
//! | `primary_color`, `primary_color_dark` | buttons and links (`#rgb` or `#rrggbb`) |
//! | `accent_color`, `accent_color_dark` | the focus ring |
//! | `font_family` | a CSS font stack |
//!
//! `application.title` names the pages in the browser's title bar.
//!
//! Colours and fonts reach the pages through a per-tenant stylesheet
//! (`{issuer}/assets/brand.css?v={hash}`), never inline, so the pages keep a
//! Content-Security-Policy without `unsafe-inline`. Values that do not
//! validate are ignored (the built-in theme applies), so a bad setting can
//! neither break a page nor inject CSS. Text on a branded button is black
//! or white, whichever contrasts more with the colour (at least 4.58:1, so
//! WCAG 2.2 AA holds for any colour); a link takes the brand colour only
//! where that colour reaches 4.5:1 against the card.

use sha2::{Digest as _, Sha256};

use gatehouse_tenancy::settings::EffectiveSettings;

/// The built-in `branding.company_name`.
const DEFAULT_COMPANY_NAME: &str = "Gatehouse";

/// The path of the brand stylesheet, relative to the issuer.
pub const BRAND_CSS_PATH: &str = "/assets/brand.css";

/// The card backgrounds of the built-in theme (light, dark): links must
/// contrast with them.
const CARD_LIGHT: Rgb = Rgb(0xff, 0xff, 0xff);
const CARD_DARK: Rgb = Rgb(0x11, 0x18, 0x27);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(u8, u8, u8);

impl Rgb {
    /// `#rgb` or `#rrggbb`.
    pub fn parse(s: &str) -> Option<Self> {
        let hex = s.trim().strip_prefix('#')?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let v = |s: &str| u8::from_str_radix(s, 16).ok();
        match hex.len() {
            3 => {
                let d = |i: usize| v(&hex[i..=i]).map(|x| x * 17);
                Some(Self(d(0)?, d(1)?, d(2)?))
            }
            6 => Some(Self(v(&hex[0..2])?, v(&hex[2..4])?, v(&hex[4..6])?)),
            _ => None,
        }
    }

    fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }

    /// WCAG 2.2 relative luminance.
    fn luminance(self) -> f64 {
        let c = |x: u8| {
            let s = f64::from(x) / 255.0;
            if s <= 0.04045 {
                s / 12.92
            } else {
                ((s + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * c(self.0) + 0.7152 * c(self.1) + 0.0722 * c(self.2)
    }

    /// WCAG 2.2 contrast ratio.
    pub fn contrast(self, other: Self) -> f64 {
        let (a, b) = (self.luminance(), other.luminance());
        let (hi, lo) = if a > b { (a, b) } else { (b, a) };
        (hi + 0.05) / (lo + 0.05)
    }

    /// Black or white, whichever contrasts more with this colour.
    fn text_on(self) -> Self {
        let (black, white) = (Self(0, 0, 0), Self(255, 255, 255));
        if self.contrast(black) >= self.contrast(white) {
            black
        } else {
            white
        }
    }

    /// Mixed with `other` by `t` (0..=1).
    fn mix(self, other: Self, t: f64) -> Self {
        let m = |a: u8, b: u8| {
            let v = f64::from(a) + (f64::from(b) - f64::from(a)) * t;
            // In 0..=255 by construction.
            v.round().clamp(0.0, 255.0) as u8
        };
        Self(m(self.0, other.0), m(self.1, other.1), m(self.2, other.2))
    }
}

/// A CSS font stack of family names only: letters, digits, spaces, commas,
/// hyphens and quotes, at most 200 characters.
pub(crate) fn font_stack(s: &str) -> Option<String> {
    let s = s.trim();
    let ok = !s.is_empty()
        && s.len() <= 200
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | ',' | '-' | '"' | '\''));
    ok.then(|| s.to_owned())
}

/// An image for a page: an absolute https URL, or a `data:image/…` URI of
/// at most 64 KiB.
pub(crate) fn image_url(s: &str) -> Option<String> {
    let s = s.trim();
    if s.len() > 65_536 {
        return None;
    }
    if let Some(rest) = s.strip_prefix("data:image/") {
        let kind = rest.split([';', ',']).next().unwrap_or_default();
        let ok = matches!(kind, "png" | "jpeg" | "gif" | "webp" | "svg+xml" | "x-icon");
        return ok.then(|| s.to_owned());
    }
    let url = url::Url::parse(s).ok()?;
    (url.scheme() == "https" && url.host().is_some()).then(|| url.into())
}

/// One colour scheme's brand colours.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Palette {
    primary: Option<Rgb>,
    accent: Option<Rgb>,
}

impl Palette {
    /// The custom properties that override the built-in theme.
    fn css(&self, card: Rgb, towards: Rgb) -> String {
        let mut out = String::new();
        if let Some(p) = self.primary {
            out.push_str(&format!(
                "--accent: {}; --accent-hover: {}; --accent-text: {}; ",
                p.hex(),
                p.mix(towards, 0.15).hex(),
                p.text_on().hex()
            ));
            if p.contrast(card) >= 4.5 {
                out.push_str(&format!("--link: {}; ", p.hex()));
            }
        }
        // A focus ring needs 3:1 against the card (WCAG 2.2 §1.4.11).
        if let Some(a) = self.accent.filter(|a| a.contrast(card) >= 3.0) {
            out.push_str(&format!("--focus: {}; ", a.hex()));
        }
        out
    }
}

/// The brand of one tenant's pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Brand {
    pub company_name: String,
    pub title: String,
    pub logo: Option<String>,
    pub logo_dark: Option<String>,
    pub favicon: Option<String>,
    pub favicon_dark: Option<String>,
    css: String,
    primary: Option<Rgb>,
    font: Option<String>,
}

/// The built-in theme's primary colour and font, for emails.
const DEFAULT_PRIMARY: Rgb = Rgb(0x1d, 0x4e, 0xd8);
const DEFAULT_FONT: &str = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif";

impl Brand {
    pub fn of(settings: &EffectiveSettings, tenant_name: &str) -> Self {
        let s = |section: &str, key: &str| {
            settings
                .get(section, key)
                .and_then(serde_json::Value::as_str)
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let colour = |key: &str| s("branding", key).and_then(Rgb::parse);
        let light = Palette {
            primary: colour("primary_color"),
            accent: colour("accent_color"),
        };
        let dark = Palette {
            primary: colour("primary_color_dark"),
            accent: colour("accent_color_dark"),
        };
        let mut css = String::new();
        let light_vars = light.css(CARD_LIGHT, Rgb(0, 0, 0));
        let font = s("branding", "font_family").and_then(font_stack);
        if !light_vars.is_empty() || font.is_some() {
            css.push_str(":root { ");
            css.push_str(&light_vars);
            if let Some(f) = &font {
                css.push_str(&format!("--font: {f}; "));
            }
            css.push_str("}\n");
        }
        let dark_vars = dark.css(CARD_DARK, Rgb(255, 255, 255));
        if !dark_vars.is_empty() {
            css.push_str(&format!(
                "@media (prefers-color-scheme: dark) {{ :root {{ {dark_vars}}} }}\n"
            ));
        }
        // The configured company name; while it is the built-in default, a
        // tenant is shown by its own display name.
        let company_name = s("branding", "company_name")
            .filter(|n| *n != DEFAULT_COMPANY_NAME)
            .unwrap_or(tenant_name)
            .to_owned();
        Self {
            company_name,
            title: s("application", "title").unwrap_or("Gatehouse").to_owned(),
            logo: s("branding", "logo_url").and_then(image_url),
            logo_dark: s("branding", "logo_dark_url").and_then(image_url),
            favicon: s("branding", "favicon_url").and_then(image_url),
            favicon_dark: s("branding", "favicon_dark_url").and_then(image_url),
            css,
            primary: light.primary,
            font,
        }
    }

    /// An email's button colours (inline styles: emails have no stylesheet).
    pub fn email_button(&self) -> (String, String) {
        let p = self.primary.unwrap_or(DEFAULT_PRIMARY);
        (p.hex(), p.text_on().hex())
    }

    /// An email's link colour: the brand colour when it reads on white.
    pub fn email_link(&self) -> String {
        self.primary
            .filter(|p| p.contrast(CARD_LIGHT) >= 4.5)
            .unwrap_or(DEFAULT_PRIMARY)
            .hex()
    }

    /// An email's font stack.
    pub fn email_font(&self) -> &str {
        self.font.as_deref().unwrap_or(DEFAULT_FONT)
    }

    /// The tenant's stylesheet (custom properties over the built-in theme).
    pub fn css(&self) -> &str {
        &self.css
    }

    /// A short hash of the stylesheet, for its URL: a changed brand is a
    /// new URL, so the stylesheet can be cached for long.
    pub fn version(&self) -> String {
        let h = Sha256::digest(self.css.as_bytes());
        h.iter().take(6).map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Map};

    fn brand(branding: serde_json::Value) -> Brand {
        let s = EffectiveSettings::platform(&Map::new())
            .with_overrides(&[("branding".into(), branding)]);
        Brand::of(&s, "Acme Corp")
    }

    #[test]
    fn colours_become_custom_properties_with_readable_text() {
        let b = brand(json!({
            "company_name": "Acme", "primary_color": "#FFD700", "accent_color": "#0a0",
            "primary_color_dark": "#7c3aed", "font_family": "Inter, \"Helvetica Neue\", sans-serif"
        }));
        assert_eq!(b.company_name, "Acme");
        let css = b.css();
        assert!(css.contains("--accent: #ffd700;"), "{css}");
        assert!(
            css.contains("--accent-text: #000000;"),
            "gold needs black text: {css}"
        );
        assert!(
            !css.contains("--link: #ffd700"),
            "gold on white is unreadable as a link"
        );
        assert!(css.contains("--focus: #00aa00;"), "3.1:1 on white");
        let faint = brand(json!({ "accent_color": "#ffee00" }));
        assert!(
            !faint.css().contains("--focus"),
            "1.2:1 on white: too faint"
        );
        assert!(css.contains("--font: Inter, \"Helvetica Neue\", sans-serif;"));
        assert!(css.contains("@media (prefers-color-scheme: dark) { :root { --accent: #7c3aed;"));
    }

    #[test]
    fn invalid_values_are_ignored_not_injected() {
        let b = brand(json!({
            "primary_color": "red; } body { display:none", "accent_color": "#12345",
            "font_family": "x; } * { color: red", "logo_url": "javascript:alert(1)",
            "favicon_url": "http://plain.example/icon.png", "logo_dark_url": "data:text/html,<b>"
        }));
        assert_eq!(b.css(), "");
        assert_eq!((b.logo, b.favicon, b.logo_dark), (None, None, None));
        assert_eq!(
            b.company_name, "Acme Corp",
            "unset: the tenant's display name"
        );
        let ok = brand(
            json!({ "logo_url": "https://cdn.acme.example/logo.svg", "favicon_url": "data:image/png;base64,AAAA" }),
        );
        assert_eq!(
            ok.logo.as_deref(),
            Some("https://cdn.acme.example/logo.svg")
        );
        assert!(ok.favicon.is_some());
    }

    #[test]
    fn button_text_always_reaches_aa_contrast() {
        for hex in [
            "#000", "#777", "#767676", "#ffffff", "#1d4ed8", "#ffd700", "#e11d48",
        ] {
            let c = Rgb::parse(hex).unwrap();
            assert!(c.contrast(c.text_on()) >= 4.5, "{hex}");
        }
        assert!((Rgb(0, 0, 0).contrast(Rgb(255, 255, 255)) - 21.0).abs() < 0.01);
    }

    #[test]
    fn the_version_follows_the_stylesheet() {
        let a = brand(json!({ "primary_color": "#123456" }));
        let b = brand(json!({ "primary_color": "#654321" }));
        assert_ne!(a.version(), b.version());
        assert_eq!(a.version().len(), 12);
    }
}
