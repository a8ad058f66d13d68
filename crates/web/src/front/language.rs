//! The language switch of every page: `GET {issuer}/language?lang={tag}&return={path}`
//! sets the `gatehouse_lang` cookie (a year, the issuer's path) and sends
//! the browser back to `return`, a path under the issuer (never another
//! site: no open redirect). When `return` is the page of a pending
//! authorization request (`req=`), that request's `ui_locales` becomes the
//! chosen language too, since it would otherwise outrank the cookie.

use axum::extract::rejection::QueryRejection;
use axum::extract::Query;
use axum::response::Response;
use serde::Deserialize;

use super::i18n::LANG_COOKIE;
use super::page;
use super::pending;
use super::session::{cookie, cookie_path};
use super::{Failure, Front};

/// How long the choice is remembered.
const LANG_COOKIE_SECS: u64 = 365 * 86_400;

#[derive(Debug, Deserialize)]
pub struct LanguageQuery {
    #[serde(default)]
    lang: String,
    #[serde(default, rename = "return")]
    back: String,
}

/// Whether `path` is a path of this tenant's pages (below the issuer's path).
fn is_own_path(base: &str, path: &str) -> bool {
    let plain = path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.chars().any(char::is_control);
    let below = base == "/"
        || path
            .strip_prefix(base)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?']));
    plain && below
}

/// `GET {issuer}/language`.
pub async fn get(f: Front, query: Result<Query<LanguageQuery>, QueryRejection>) -> Response {
    let failed = || Failure::bad("error-language-title", "error-language-message");
    let Ok(Query(q)) = query else {
        return f.fail(failed());
    };
    let Some(tag) = f
        .offered
        .matching(&q.lang)
        .filter(|t| t.eq_ignore_ascii_case(q.lang.trim()))
    else {
        return f.fail(failed());
    };
    if !is_own_path(&cookie_path(&f.provider.issuer), &q.back) {
        return f.fail(failed());
    }
    let req = url::Url::parse("http://x")
        .and_then(|u| u.join(&q.back))
        .ok()
        .and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == "req")
                .map(|(_, v)| v.into_owned())
        });
    if let Some(req) = req {
        match pending::load(&f, &req).await {
            Ok(Some(mut p)) if p.request.is_some() => {
                if let Some(r) = &mut p.request {
                    r.ui_locales = Some(tag.to_owned());
                }
                if let Err(e) = pending::replace(&f, &req, &p).await {
                    tracing::warn!(error = %e, "the pending request keeps its language");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "the pending request keeps its language"),
        }
    }
    let set = cookie(&f.provider, LANG_COOKIE, tag, "Lax", Some(LANG_COOKIE_SECS));
    // Absolute, on the issuer's origin (the path was checked above).
    match url::Url::parse(&f.provider.issuer).and_then(|u| u.join(&q.back)) {
        Ok(to) => page::see_other(to.as_str(), &[set]),
        Err(_) => f.fail(failed()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_below_the_issuer_are_returned_to() {
        assert!(is_own_path("/t/acme", "/t/acme/login?req=abc"));
        assert!(is_own_path("/t/acme", "/t/acme"));
        assert!(is_own_path("/", "/login?req=x"));
        assert!(!is_own_path("/t/acme", "/t/acmex/login"));
        assert!(!is_own_path("/t/acme", "/t/other/login"));
        assert!(!is_own_path("/", "//evil.example/x"));
        assert!(!is_own_path("/", "https://evil.example/"));
        assert!(!is_own_path("/", "/\\evil.example"));
        assert!(!is_own_path("/t/acme", ""));
    }
}
