//! The language of end-user pages and emails: message catalogues in Fluent
//! (`crates/web/locales/{lang}/*.ftl`, compiled into the binary), and the
//! choice of language per request.
//!
//! The language is the first of these that the tenant offers
//! (`application.locales`, within [`SUPPORTED`]):
//!
//! 1. `ui_locales` of the authorization request (OpenID Connect Core
//!    §3.1.2.1), for the pages of that request; a click on the page's
//!    language switch replaces it;
//! 2. the `gatehouse_lang` cookie, set by the language switch;
//! 3. `Accept-Language` (RFC 9110 §12.5.4), by quality;
//! 4. the tenant's `application.default_locale`.
//!
//! A tag matches an offered language exactly or by its primary subtag
//! (`de-CH` chooses `de`).

use std::borrow::Cow;
use std::collections::HashMap;

use axum::http::{header, HeaderMap};
use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader as _};
use gatehouse_tenancy::settings::EffectiveSettings;

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // No Unicode isolation marks around arguments: pages are HTML with
        // `lang` set, and the marks would end up inside emails and titles.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// Every language with a catalogue, each named in itself (for the switch).
pub const SUPPORTED: [(&str, &str); 3] = [("en", "English"), ("de", "Deutsch"), ("fr", "Français")];

/// The cookie of the language switch.
pub const LANG_COOKIE: &str = "gatehouse_lang";

/// The languages a tenant offers, in its order, and its default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offered {
    pub tags: Vec<&'static str>,
    pub default: &'static str,
}

impl Offered {
    /// From `application.locales` and `application.default_locale`
    /// ([`gatehouse_oidc::discovery::offered_locales`], which discovery
    /// advertises as `ui_locales_supported`).
    pub fn of(settings: &EffectiveSettings) -> Self {
        let (tags, default) = gatehouse_oidc::discovery::offered_locales(settings);
        Self { tags, default }
    }

    /// The offered language a BCP 47 tag asks for, if any.
    pub fn matching(&self, tag: &str) -> Option<&'static str> {
        let tag = tag.trim();
        let primary = tag.split(['-', '_']).next().unwrap_or(tag);
        self.tags
            .iter()
            .copied()
            .find(|t| t.eq_ignore_ascii_case(tag) || t.eq_ignore_ascii_case(primary))
    }

    /// Chooses the language of a request (see the module's documentation).
    pub fn choose(&self, ui_locales: Option<&str>, headers: &HeaderMap) -> Lang {
        let from_ui = ui_locales
            .into_iter()
            .flat_map(str::split_whitespace)
            .find_map(|t| self.matching(t));
        let from_cookie = || {
            super::session::cookie_values(headers, LANG_COOKIE)
                .into_iter()
                .find_map(|v| self.matching(v))
        };
        let from_header = || {
            headers
                .get_all(header::ACCEPT_LANGUAGE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(accept_language::parse)
                .find_map(|t| self.matching(&t))
        };
        let tag = from_ui
            .or_else(from_cookie)
            .or_else(from_header)
            .unwrap_or(self.default);
        Lang::new(tag)
    }
}

/// A chosen language: looks messages up in its catalogue (English where a
/// message is missing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lang {
    tag: &'static str,
    id: LanguageIdentifier,
}

impl Lang {
    pub fn new(tag: &'static str) -> Self {
        let id = tag
            .parse()
            .unwrap_or_else(|_| LanguageIdentifier::default());
        Self { tag, id }
    }

    /// The BCP 47 tag, for `<html lang>` and `Content-Language`.
    pub fn tag(&self) -> &'static str {
        self.tag
    }

    /// The message `key`.
    pub fn t(&self, key: &str) -> String {
        LOCALES.lookup(&self.id, key)
    }

    /// The message `key` with arguments.
    pub fn t_args(&self, key: &str, args: &[(&str, &str)]) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue<'_>> = args
            .iter()
            .map(|(k, v)| (Cow::Owned((*k).to_owned()), FluentValue::from(*v)))
            .collect();
        LOCALES.lookup_with_args(&self.id, key, &args)
    }

    /// The message `key` with one argument.
    pub fn t1(&self, key: &str, name: &str, value: &str) -> String {
        self.t_args(key, &[(name, value)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use serde_json::{json, Map};

    fn offered(locales: serde_json::Value, default: &str) -> Offered {
        let platform = EffectiveSettings::platform(&Map::new());
        let s = platform.with_overrides(&[(
            "application".into(),
            json!({ "locales": locales, "default_locale": default }),
        )]);
        Offered::of(&s)
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn ui_locales_then_cookie_then_accept_language_then_default() {
        let o = offered(json!(["en", "de", "fr"]), "de");
        let all = headers(&[
            ("cookie", "gatehouse_lang=fr"),
            ("accept-language", "en-GB;q=0.9, fr;q=0.5"),
        ]);
        assert_eq!(o.choose(Some("it de-CH"), &all).tag(), "de");
        assert_eq!(o.choose(None, &all).tag(), "fr");
        let no_cookie = headers(&[("accept-language", "it;q=0.1, en-GB;q=0.9")]);
        assert_eq!(o.choose(Some("it"), &no_cookie).tag(), "en", "by quality");
        assert_eq!(o.choose(None, &HeaderMap::new()).tag(), "de");
        let unknown = headers(&[("cookie", "gatehouse_lang=xx"), ("accept-language", "ja")]);
        assert_eq!(o.choose(None, &unknown).tag(), "de");
    }

    #[test]
    fn only_offered_languages_are_chosen() {
        let o = offered(json!(["fr", "xx", "fr"]), "en");
        assert_eq!(
            o.tags,
            ["en", "fr"],
            "the default is offered, unknown tags dropped"
        );
        assert_eq!(o.choose(Some("de"), &HeaderMap::new()).tag(), "en");
        let platform = Offered::of(&EffectiveSettings::platform(&Map::new()));
        assert_eq!(platform.tags, ["en", "de", "fr"]);
        assert_eq!(
            offered(json!([]), "xx").tags,
            ["en"],
            "nothing usable: English"
        );
    }

    fn keys(ftl: &str) -> Vec<&str> {
        ftl.lines()
            .filter(|l| !l.starts_with([' ', '#', '\t']) && l.contains(" ="))
            .filter_map(|l| l.split(" =").next())
            .collect()
    }

    #[test]
    fn every_message_of_english_exists_in_every_language() {
        let en = keys(include_str!("../../locales/en/main.ftl"));
        assert!(en.len() > 20);
        for (tag, other) in [
            ("de", include_str!("../../locales/de/main.ftl")),
            ("fr", include_str!("../../locales/fr/main.ftl")),
        ] {
            let other = keys(other);
            for key in &en {
                assert!(other.contains(key), "{tag} lacks {key}");
            }
            for key in &other {
                assert!(en.contains(key), "{tag} has {key}, which English lacks");
            }
        }
        // Every message formats in every language (arguments given).
        for (tag, _) in SUPPORTED {
            let lang = Lang::new(tag);
            for key in &en {
                let text = lang.t_args(
                    key,
                    &[
                        ("client", "C"),
                        ("user", "U"),
                        ("tenant", "T"),
                        ("detail", "D"),
                        ("min", "12"),
                        ("max", "128"),
                        ("seconds", "30"),
                        ("email", "a@b.example"),
                        ("login", "L"),
                        ("company", "Co"),
                        ("count", "10"),
                        ("time", "2026-12-02T10:00:00Z"),
                    ],
                );
                assert!(
                    !text.is_empty() && !text.contains(key),
                    "{tag} {key}: {text}"
                );
            }
        }
    }

    #[test]
    fn the_catalogues_are_the_languages_discovery_advertises() {
        let tags: Vec<&str> = SUPPORTED.iter().map(|(t, _)| *t).collect();
        assert_eq!(tags, gatehouse_oidc::discovery::UI_LOCALES);
    }

    #[test]
    fn arguments_are_inserted_without_isolation_marks() {
        let l = Lang::new("en");
        assert_eq!(
            l.t1("login-continue-to", "client", "Photo <Prints>"),
            "to continue to Photo <Prints>"
        );
        assert_eq!(Lang::new("de").t("login-submit"), "Anmelden");
    }
}
