//! HTML pages of the front channel and the headers every one of them
//! carries: a strict Content-Security-Policy (no script unless a page names
//! one by nonce, forms only to this site and to the redirect URI the page
//! may end at), `X-Frame-Options: DENY` and `frame-ancestors 'none'`
//! against clickjacking (RFC 9700 §4.16), `nosniff`, `no-referrer` (codes
//! and state never leak in a `Referer`, RFC 9700 §4.2.4) and `no-store`.
//! Templates are askama's, HTML-escaped throughout.

use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::brand::{Brand, BRAND_CSS_PATH};
use super::i18n::Lang;
use super::Front;

/// The stylesheet, relative to the issuer.
pub const STYLESHEET_PATH: &str = "/assets/gatehouse.css";

const STYLESHEET: &str = include_str!("../../assets/gatehouse.css");

/// `GET {issuer}/assets/gatehouse.css`.
pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// `GET {issuer}/assets/brand.css`: the tenant's colours and font over the
/// built-in theme ([`Brand`]). Its URL carries a version, so it is cached.
pub(crate) async fn brand_stylesheet(f: Front) -> Response {
    let brand = Brand::of(&f.provider.settings, &f.provider.tenant.display_name);
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        brand.css().to_owned(),
    )
        .into_response()
}

/// One entry of the language switch.
#[derive(Debug, Clone)]
pub struct LangLink {
    pub tag: &'static str,
    /// The language's name in itself.
    pub name: &'static str,
    pub href: String,
    pub current: bool,
}

/// What the layout shows on every page: the tenant's brand, the language
/// and its messages, the language switch.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// The company name, the heading of every page.
    pub tenant_name: String,
    /// The issuer's path (`/t/acme`, or empty): pages link below it.
    pub base: String,
    pub lang: Lang,
    pub brand: Brand,
    /// The languages the tenant offers, when it offers more than one.
    pub languages: Vec<LangLink>,
}

impl Chrome {
    pub(crate) fn of(f: &Front) -> Self {
        Self::at(f, &f.here)
    }

    /// As [`Chrome::of`], for a page whose address is `here` (a path and
    /// query under the issuer) rather than the request's: a page rendered in
    /// answer to a POST, whose language switch must lead back to its GET.
    pub(crate) fn at(f: &Front, here: &str) -> Self {
        let base = super::session::cookie_path(&f.provider.issuer);
        let base = if base == "/" { String::new() } else { base };
        let brand = Brand::of(&f.provider.settings, &f.provider.tenant.display_name);
        let languages = if f.offered.tags.len() > 1 {
            let back = url::form_urlencoded::byte_serialize(here.as_bytes()).collect::<String>();
            f.offered
                .tags
                .iter()
                .map(|tag| LangLink {
                    tag,
                    name: super::i18n::SUPPORTED
                        .iter()
                        .find(|(t, _)| t == tag)
                        .map_or(*tag, |(_, n)| *n),
                    href: format!("{base}/language?lang={tag}&return={back}"),
                    current: *tag == f.lang.tag(),
                })
                .collect()
        } else {
            Vec::new()
        };
        Self {
            tenant_name: brand.company_name.clone(),
            base,
            lang: f.lang.clone(),
            brand,
            languages,
        }
    }

    pub fn stylesheet(&self) -> String {
        format!("{}{STYLESHEET_PATH}", self.base)
    }

    /// As [`Chrome::of`], without the language switch: a page shown once
    /// in answer to a POST (a message, recovery codes), which a GET could
    /// not show again.
    pub(crate) fn terminal(f: &Front) -> Self {
        let mut c = Self::of(f);
        c.languages.clear();
        c
    }

    /// The tenant's stylesheet, when its brand sets colours or a font.
    pub fn brand_stylesheet(&self) -> Option<String> {
        (!self.brand.css().is_empty())
            .then(|| format!("{}{BRAND_CSS_PATH}?v={}", self.base, self.brand.version()))
    }

    /// The message `key` in the page's language.
    pub fn t(&self, key: &str) -> String {
        self.lang.t(key)
    }

    /// The message `key` with one argument.
    pub fn t1(&self, key: &str, name: &str, value: &str) -> String {
        self.lang.t1(key, name, value)
    }

    /// The message `key` with two arguments.
    pub fn t2(&self, key: &str, n1: &str, v1: &str, n2: &str, v2: &str) -> String {
        self.lang.t_args(key, &[(n1, v1), (n2, v2)])
    }
}

/// The Content-Security-Policy of one page.
#[derive(Debug, Clone, Default)]
pub struct Csp {
    /// Origins (besides 'self') that forms of the page may submit to or be
    /// redirected to after submitting: Chrome applies `form-action` to the
    /// redirects that follow a form POST.
    pub form_action: Vec<String>,
    /// The nonce of the page's one inline script, if it has one.
    pub script_nonce: Option<String>,
}

impl Csp {
    /// A policy whose forms may end at `uri` (a client's redirect URI).
    pub fn redirecting_to(uri: &str) -> Self {
        Self {
            form_action: csp_source(uri).into_iter().collect(),
            script_nonce: None,
        }
    }

    pub fn header(&self) -> String {
        let mut form_action = String::from("'self'");
        for s in &self.form_action {
            form_action.push(' ');
            form_action.push_str(s);
        }
        let mut csp = format!(
            "default-src 'none'; style-src 'self'; img-src 'self' data: https:; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
        );
        if let Some(n) = &self.script_nonce {
            csp.push_str(&format!("; script-src 'nonce-{n}'"));
        }
        csp
    }
}

/// The CSP source expression that allows `uri`: its origin for http(s),
/// its scheme for the private-use schemes of native apps (RFC 8252 §7.1).
pub fn csp_source(uri: &str) -> Option<String> {
    let url = url::Url::parse(uri).ok()?;
    match url.scheme() {
        "http" | "https" => {
            let origin = url.origin();
            origin.is_tuple().then(|| origin.ascii_serialization())
        }
        s => Some(format!("{s}:")),
    }
}

/// The headers of every HTML page and redirect of the front channel.
fn secure(response: &mut Response, csp: Option<&Csp>) {
    let h = response.headers_mut();
    if let Some(csp) = csp {
        if let Ok(v) = HeaderValue::from_str(&csp.header()) {
            h.insert(header::CONTENT_SECURITY_POLICY, v);
        }
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

fn add_cookies(response: &mut Response, cookies: &[Option<HeaderValue>]) {
    for c in cookies.iter().flatten() {
        response.headers_mut().append(header::SET_COOKIE, c.clone());
    }
}

/// `response` with `cookies` set as well.
pub fn with_cookies(mut response: Response, cookies: &[Option<HeaderValue>]) -> Response {
    add_cookies(&mut response, cookies);
    response
}

/// An HTML page.
pub fn html(
    status: StatusCode,
    body: String,
    csp: &Csp,
    cookies: &[Option<HeaderValue>],
) -> Response {
    let mut response = (status, body).into_response();
    secure(&mut response, Some(csp));
    add_cookies(&mut response, cookies);
    response
}

/// Renders a template into a page; a template that fails to render is
/// logged and answered with a plain 500 page.
pub fn render(
    status: StatusCode,
    template: &impl Template,
    csp: &Csp,
    cookies: &[Option<HeaderValue>],
) -> Response {
    match template.render() {
        Ok(body) => html(status, body, csp, cookies),
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            html(
                StatusCode::INTERNAL_SERVER_ERROR,
                "<!doctype html><title>Error</title><p>Something went wrong.</p>".to_owned(),
                &Csp::default(),
                &[],
            )
        }
    }
}

/// `303 See Other` to `location`.
pub fn see_other(location: &str, cookies: &[Option<HeaderValue>]) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    match HeaderValue::from_str(location) {
        Ok(v) => {
            response.headers_mut().insert(header::LOCATION, v);
        }
        Err(_) => {
            tracing::error!("a redirect location is not a valid header value");
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        }
    }
    secure(&mut response, None);
    add_cookies(&mut response, cookies);
    response
}

#[derive(Template)]
#[template(path = "error.html", config = "src/front/askama.toml")]
pub struct ErrorPage<'a> {
    pub chrome: Chrome,
    pub title: &'a str,
    pub message: &'a str,
    pub detail: Option<&'a str>,
}

/// The error page: shown to the user, never a redirect.
pub(crate) fn error(
    f: &Front,
    status: StatusCode,
    title: &str,
    message: &str,
    detail: Option<&str>,
) -> Response {
    let page = ErrorPage {
        chrome: Chrome::of(f),
        title,
        message,
        detail,
    };
    render(status, &page, &Csp::default(), &[])
}

#[derive(Template)]
#[template(path = "login.html", config = "src/front/askama.toml")]
pub struct LoginPage<'a> {
    pub chrome: Chrome,
    pub req: &'a str,
    pub csrf: &'a str,
    pub username: &'a str,
    pub client_name: Option<&'a str>,
    pub error: Option<&'a str>,
    /// The sign-up link is shown (the tenant lets people sign up).
    pub signup: bool,
    /// Passwordless sign-in with a passkey, where the tenant can have one.
    pub passkey: Option<&'a super::passkey::Offer>,
}

/// One requested scope, in plain words.
#[derive(Debug, Clone)]
pub struct ScopeText {
    pub title: String,
    pub detail: String,
}

/// What a scope lets the application do (OpenID Connect Core §5.4, §11),
/// in `lang`.
pub fn scope_text(lang: &Lang, scope: &str) -> Option<ScopeText> {
    gatehouse_oidc::authorize::SUPPORTED_SCOPES
        .contains(&scope)
        .then(|| ScopeText {
            title: lang.t(&format!("scope-{scope}-title")),
            detail: lang.t(&format!("scope-{scope}-detail")),
        })
}

#[derive(Template)]
#[template(path = "consent.html", config = "src/front/askama.toml")]
pub struct ConsentPage<'a> {
    pub chrome: Chrome,
    pub req: &'a str,
    pub csrf: &'a str,
    pub client_name: &'a str,
    pub username: &'a str,
    pub scopes: Vec<ScopeText>,
}

#[derive(Template)]
#[template(path = "form_post.html", config = "src/front/askama.toml")]
pub struct FormPostPage<'a> {
    pub chrome: Chrome,
    pub action: &'a str,
    pub fields: Vec<(&'a str, &'a str)>,
    pub nonce: &'a str,
}

#[derive(Template)]
#[template(path = "logout.html", config = "src/front/askama.toml")]
pub struct LogoutPage<'a> {
    pub chrome: Chrome,
    pub csrf: &'a str,
    pub fields: Vec<(&'a str, &'a str)>,
}

/// A page with a title, a paragraph and perhaps one link (label, href).
#[derive(Template)]
#[template(path = "message.html", config = "src/front/askama.toml")]
pub struct MessagePage<'a> {
    pub chrome: Chrome,
    pub title: &'a str,
    pub text: &'a str,
    pub link: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "logged_out.html", config = "src/front/askama.toml")]
pub struct LoggedOutPage {
    pub chrome: Chrome,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csp_allows_forms_to_the_redirect_origin_only() {
        assert_eq!(
            Csp::redirecting_to("https://rp.example:8443/cb?x=1").header(),
            "default-src 'none'; style-src 'self'; img-src 'self' data: https:; form-action 'self' https://rp.example:8443; frame-ancestors 'none'; base-uri 'none'"
        );
        assert_eq!(
            csp_source("com.example.app:/cb").as_deref(),
            Some("com.example.app:")
        );
        assert_eq!(csp_source("not a url"), None);
        let with_script = Csp {
            script_nonce: Some("abc".into()),
            ..Csp::default()
        };
        assert!(with_script.header().ends_with("; script-src 'nonce-abc'"));
    }

    #[test]
    fn every_known_scope_has_words_in_every_language() {
        for (tag, _) in super::super::i18n::SUPPORTED {
            let lang = Lang::new(tag);
            for s in gatehouse_oidc::authorize::SUPPORTED_SCOPES {
                let text = scope_text(&lang, s).unwrap();
                assert!(!text.title.starts_with("scope-"), "{tag} {s}");
                assert!(!text.detail.starts_with("scope-"), "{tag} {s}");
            }
        }
        assert!(scope_text(&Lang::new("en"), "unknown").is_none());
    }
}
