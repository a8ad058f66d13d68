//! Brute-force throttling of the front channel's forms (sign-in, sign-up,
//! password reset): counters per account and per client address in the
//! shared store ([`gatehouse_core::throttle`]), so every node sees every
//! attempt. A throttled attempt gets a 429 page with `Retry-After` (RFC
//! 6585 §4, RFC 9110 §10.2.3) and is not evaluated at all: a locked
//! account's password is not even checked.

use std::net::{IpAddr, Ipv4Addr};

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use gatehouse_core::throttle::{Action, Key};

use super::page::{self, Chrome, Csp, MessagePage};
use super::{Failure, Front};

/// The client-address key of a request (unspecified when the address is
/// unknown, as in-process).
pub(crate) fn client_key(f: &Front) -> Key {
    Key::ip(f.client_ip.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)))
}

/// `Some(429 page)` when the attempt must wait.
pub(crate) async fn check(
    f: &Front,
    action: Action,
    keys: &[Key],
) -> Result<Option<Response>, Failure> {
    let verdict = f.state.throttle.check(f.tenant_id(), action, keys).await?;
    let Some(secs) = verdict.retry_after_secs() else {
        return Ok(None);
    };
    tracing::info!(
        action = action.as_str(),
        retry_after = secs,
        "attempt throttled"
    );
    let secs_text = secs.to_string();
    let title = f.lang.t("throttled-title");
    let text = f.lang.t1("throttled-message", "seconds", &secs_text);
    let page = MessagePage {
        chrome: Chrome::terminal(f),
        title: &title,
        text: &text,
        link: None,
    };
    let mut response = page::render(StatusCode::TOO_MANY_REQUESTS, &page, &Csp::default(), &[]);
    if let Ok(v) = HeaderValue::from_str(&secs_text) {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    Ok(Some(response))
}

/// Counts a failed attempt for every key.
pub(crate) async fn failed(f: &Front, action: Action, keys: &[Key]) -> Result<(), Failure> {
    f.state.throttle.failed(f.tenant_id(), action, keys).await?;
    Ok(())
}

/// Clears the account's counters after a success.
pub(crate) async fn succeeded(f: &Front, action: Action, account: &Key) -> Result<(), Failure> {
    f.state
        .throttle
        .succeeded(f.tenant_id(), action, std::slice::from_ref(account))
        .await?;
    Ok(())
}
