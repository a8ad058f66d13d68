//! Browser sessions and CSRF protection of the front channel.
//!
//! **Sessions.** The cookie `gatehouse_session` holds a 256-bit random value;
//! the session record lives in the shared store under the tenant's prefix at
//! `session:{sha256 hex of the cookie value}` (so the store never holds a
//! usable cookie), as JSON [`Session`]. The cookie is `HttpOnly`,
//! `SameSite=Lax`, `Secure` when the issuer is https, and its `Path` is the
//! issuer's path (`/t/{slug}` in path mode): a browser does not send one
//! tenant's cookie to another tenant's pages, and a cookie presented to
//! another tenant anyway finds no record under that tenant's prefix
//! (DESIGN.md "Sessions are bound to their tenant"). The record also names
//! its tenant, checked on every read. A login always starts a new session
//! under a new cookie value and deletes the previous record (session
//! fixation, RFC 9700 §4.7 / OWASP).
//!
//! **CSRF.** Double-submit cookie: `gatehouse_csrf` (random, `HttpOnly`,
//! `SameSite=Strict`, the same `Path`) must equal the hidden `csrf` field of
//! every form, compared in constant time.

use std::time::Duration;

use axum::http::{header, HeaderMap, HeaderValue};
use gatehouse_core::crypto::random_token;
use gatehouse_core::kv::KvError;
use gatehouse_oidc::provider::TenantProvider;
use gatehouse_oidc::sessions::{self as store, index_key};
pub use gatehouse_oidc::sessions::{session_key, Session};
use gatehouse_oidc::tokens;
use subtle::ConstantTimeEq as _;
use uuid::Uuid;

use super::Front;

pub const SESSION_COOKIE: &str = "gatehouse_session";
pub const CSRF_COOKIE: &str = "gatehouse_csrf";

/// The default session lifetime when the settings name none (seconds).
pub const DEFAULT_SESSION_TTL_SECS: u64 = 86_400;

/// Every value of cookie `name` in the request. A browser may send several
/// (one per matching path: the `default` tenant's cookie at `/` reaches
/// `/t/{slug}` pages too); longer paths come first.
pub fn cookie_values<'a>(headers: &'a HeaderMap, name: &str) -> Vec<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(k, _)| k.trim() == name)
        .map(|(_, v)| v.trim().trim_matches('"'))
        .filter(|v| !v.is_empty())
        .collect()
}

/// The path cookies are scoped to: the issuer's path, or `/`.
pub fn cookie_path(issuer: &str) -> String {
    let path = url::Url::parse(issuer)
        .map(|u| u.path().trim_end_matches('/').to_owned())
        .unwrap_or_default();
    if path.is_empty() {
        "/".to_owned()
    } else {
        path
    }
}

pub(crate) fn cookie(
    p: &TenantProvider,
    name: &str,
    value: &str,
    same_site: &str,
    max_age: Option<u64>,
) -> Option<HeaderValue> {
    let mut c = format!(
        "{name}={value}; Path={}; HttpOnly; SameSite={same_site}",
        cookie_path(&p.issuer)
    );
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if p.issuer.starts_with("https://") {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).ok()
}

/// The tenant's session lifetime (`security.session_ttl_secs`).
pub fn session_ttl(p: &TenantProvider) -> u64 {
    p.settings
        .get("security", "session_ttl_secs")
        .and_then(serde_json::Value::as_u64)
        .filter(|s| *s > 0)
        .unwrap_or(DEFAULT_SESSION_TTL_SECS)
}

/// The request's session at this tenant, if any.
pub(crate) async fn current(f: &Front, headers: &HeaderMap) -> Result<Option<Session>, KvError> {
    let tenant = f.tenant_id();
    for value in cookie_values(headers, SESSION_COOKIE) {
        let Some(raw) = f.state.kv.get(tenant, &session_key(value)).await? else {
            continue;
        };
        match serde_json::from_slice::<Session>(&raw) {
            Ok(s) if s.tenant == tenant => return Ok(Some(s)),
            _ => continue,
        }
    }
    Ok(None)
}

/// Starts a new session for `user_id` after a sign-in: deletes any
/// session the request presented, stores the new one, and returns it with
/// its `Set-Cookie`.
pub(crate) async fn start(
    f: &Front,
    headers: &HeaderMap,
    user_id: Uuid,
    epoch: i32,
    amr: Vec<String>,
) -> Result<(Session, Option<HeaderValue>), KvError> {
    let tenant = f.tenant_id();
    for value in cookie_values(headers, SESSION_COOKIE) {
        f.state.kv.del(tenant, &session_key(value)).await?;
    }
    let user_agent: String = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(256)
        .collect();
    let session = Session {
        tenant,
        user_id,
        auth_time: tokens::now(),
        sid: random_token(),
        amr,
        epoch,
        user_agent,
    };
    let ttl = Duration::from_secs(session_ttl(&f.provider));
    let value = store::store(&f.state.kv, &session, ttl).await?;
    let set = cookie(
        &f.provider,
        SESSION_COOKIE,
        &value,
        "Lax",
        Some(ttl.as_secs()),
    );
    Ok((session, set))
}

/// A session of the account page's list, with whether it is the one of the
/// request.
#[derive(Debug, Clone)]
pub(crate) struct Listed {
    pub session: Session,
    pub current: bool,
}

/// The user's live sessions at this tenant, newest first.
pub(crate) async fn list(
    f: &Front,
    user_id: Uuid,
    current_sid: &str,
) -> Result<Vec<Listed>, KvError> {
    Ok(store::list(&f.state.kv, f.tenant_id(), user_id)
        .await?
        .into_iter()
        .map(|session| Listed {
            current: session.sid == current_sid,
            session,
        })
        .collect())
}

/// Ends the user's session `sid` (from the account page); returns it when
/// there was one.
pub(crate) async fn end_one(
    f: &Front,
    user_id: Uuid,
    sid: &str,
) -> Result<Option<Session>, KvError> {
    store::end_one(&f.state.kv, f.tenant_id(), user_id, sid).await
}

/// Ends every session the request presented at this tenant; returns the
/// `Set-Cookie` that expires the cookie.
pub(crate) async fn end(f: &Front, headers: &HeaderMap) -> Result<Option<HeaderValue>, KvError> {
    let tenant = f.tenant_id();
    for value in cookie_values(headers, SESSION_COOKIE) {
        let key = session_key(value);
        if let Some(s) = f
            .state
            .kv
            .take(tenant, &key)
            .await?
            .and_then(|raw| serde_json::from_slice::<Session>(&raw).ok())
        {
            f.state
                .kv
                .set_remove(tenant, &index_key(s.user_id), &key)
                .await?;
        }
    }
    Ok(cookie(&f.provider, SESSION_COOKIE, "", "Lax", Some(0)))
}

/// A CSRF token for a form: the request's `gatehouse_csrf` cookie when it
/// has a well-formed one, otherwise a new one with its `Set-Cookie`.
pub(crate) fn csrf_token(f: &Front, headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    let existing = cookie_values(headers, CSRF_COOKIE)
        .into_iter()
        .find(|v| well_formed(v));
    match existing {
        Some(v) => (v.to_owned(), None),
        None => {
            let token = random_token();
            let set = cookie(&f.provider, CSRF_COOKIE, &token, "Strict", None);
            (token, set)
        }
    }
}

/// Whether the form's `csrf` field equals a `gatehouse_csrf` cookie of the
/// request (constant time).
pub fn csrf_ok(headers: &HeaderMap, field: &str) -> bool {
    well_formed(field)
        && cookie_values(headers, CSRF_COOKIE)
            .into_iter()
            .fold(false, |ok, v| {
                ok | bool::from(v.as_bytes().ct_eq(field.as_bytes()))
            })
}

/// A value [`random_token`] could have made (43 base64url characters).
pub fn well_formed(v: &str) -> bool {
    v.len() == 43
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_of_a_cookie_is_found() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; gatehouse_session=x; b=2"),
        );
        h.append(
            header::COOKIE,
            HeaderValue::from_static("gatehouse_session=\"y\""),
        );
        assert_eq!(cookie_values(&h, SESSION_COOKIE), ["x", "y"]);
        assert!(cookie_values(&h, CSRF_COOKIE).is_empty());
    }

    #[test]
    fn cookies_are_scoped_to_the_issuer_path() {
        assert_eq!(cookie_path("https://id.example.com/t/acme"), "/t/acme");
        assert_eq!(cookie_path("https://id.example.com/t/acme/"), "/t/acme");
        assert_eq!(cookie_path("https://login.acme.com"), "/");
    }

    #[test]
    fn csrf_needs_an_equal_well_formed_cookie() {
        let token = random_token();
        let mut h = HeaderMap::new();
        assert!(!csrf_ok(&h, &token));
        h.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("{CSRF_COOKIE}={token}")).unwrap(),
        );
        assert!(csrf_ok(&h, &token));
        assert!(!csrf_ok(&h, &random_token()));
        assert!(!csrf_ok(&h, ""));
    }
}
