//! The front channel: the authorization endpoint, login and consent pages,
//! and RP-initiated logout. Everything here is seen by a browser: HTML pages
//! with strict security headers ([`page`]), a session cookie bound to the
//! tenant ([`session`]), and redirects to a client only once the client and
//! its redirect URI are known good (RFC 6749 §4.1.2.1).
//!
//! | route | what |
//! |---|---|
//! | `GET/POST {issuer}/authorize` | OpenID Connect Core §3.1.2 |
//! | `GET/POST {issuer}/login` | the login page of a pending request |
//! | `GET/POST {issuer}/login/mfa[/setup]` | the second step ([`mfa`]) |
//! | `POST {issuer}/login/passkey` | passwordless sign-in ([`passkey`]) |
//! | `GET/POST {issuer}/consent` | the consent page and the user's answer |
//! | `GET/POST {issuer}/logout` | OpenID Connect RP-Initiated Logout 1.0 |
//! | `GET {issuer}/language` | the language switch of every page |
//! | `GET/POST {issuer}/account[/…]` | the signed-in user's account page ([`account`]) |
//! | `GET/POST {issuer}/signup` | self-service sign-up ([`signup`]) |
//! | `GET/POST {issuer}/verify-email` | the email verification link |
//! | `GET/POST {issuer}/password/forgot` | asks for a reset link ([`recovery`]) |
//! | `GET/POST {issuer}/password/reset` | the reset link: a new password |
//! | `GET {issuer}/assets/gatehouse.css` | the pages' stylesheet |
//! | `GET {issuer}/assets/brand.css` | the tenant's colours and font |
//! | `GET {issuer}/assets/passkeys.js` | the WebAuthn ceremonies' script |

pub(crate) mod account;
mod authorize;
pub mod brand;
mod consent;
mod email;
pub mod i18n;
mod language;
mod login;
mod logout;
mod mfa;
pub mod page;
mod passkey;
pub(crate) mod pending;
pub(crate) mod policy;
mod recovery;
pub mod session;
mod signup;
mod throttle;

use std::fmt::Display;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use gatehouse_core::TenantId;
use gatehouse_oidc::provider::TenantProvider;

use crate::state::AppState;
use crate::tenant::CurrentTenant;
use i18n::{Lang, Offered};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/authorize", get(authorize::get).post(authorize::post))
        .route("/login", get(login::get).post(login::post))
        .route("/login/mfa", get(mfa::get).post(mfa::post))
        .route(
            "/login/mfa/setup",
            get(mfa::setup_get).post(mfa::setup_post),
        )
        .route("/login/mfa/setup/done", post(mfa::setup_done))
        .route("/consent", get(consent::get).post(consent::post))
        .route("/logout", get(logout::get).post(logout::post))
        .route("/language", get(language::get))
        .route("/account", get(account::get))
        .route("/account/profile", post(account::profile))
        .route("/account/email", post(account::email_change))
        .route(
            "/account/email/confirm",
            get(account::email_confirm_get).post(account::email_confirm_post),
        )
        .route("/account/password", post(account::password))
        .route(
            "/account/totp",
            get(account::totp_get).post(account::totp_post),
        )
        .route("/account/totp/remove", post(account::totp_remove))
        .route("/account/recovery", post(account::recovery))
        .route("/account/continue", post(account::continue_post))
        .route("/account/sessions/end", post(account::session_end))
        .route(
            "/account/sessions/end-others",
            post(account::sessions_end_others),
        )
        .route("/account/apps/revoke", post(account::app_revoke))
        .route("/account/passkeys", post(passkey::register))
        .route("/account/passkeys/new", get(passkey::new_get))
        .route("/account/passkeys/rename", post(passkey::rename))
        .route("/account/passkeys/remove", post(passkey::remove))
        .route("/login/passkey", post(passkey::sign_in))
        .route(passkey::SCRIPT_PATH, get(passkey::script))
        .route("/signup", get(signup::get).post(signup::post))
        .route(
            "/verify-email",
            get(signup::verify_get).post(signup::verify_post),
        )
        .route(
            "/password/forgot",
            get(recovery::forgot_get).post(recovery::forgot_post),
        )
        .route(
            "/password/reset",
            get(recovery::reset_get).post(recovery::reset_post),
        )
        .route(page::STYLESHEET_PATH, get(page::stylesheet))
        .route(brand::BRAND_CSS_PATH, get(page::brand_stylesheet))
}

/// What every front-channel handler works with: the application state, the
/// tenant's provider, the request's headers and path, and the language of
/// its pages. An extractor.
#[derive(Clone)]
pub(crate) struct Front {
    pub state: AppState,
    pub provider: Arc<TenantProvider>,
    pub headers: HeaderMap,
    /// The request's path and query (for the language switch to return to).
    pub here: String,
    pub offered: Offered,
    pub lang: Lang,
    /// The client's address: the peer's, or from `X-Forwarded-For` when the
    /// peer is a trusted proxy. None in-process (no socket).
    pub client_ip: Option<IpAddr>,
}

/// The client's address (see `trusted_proxies` in the configuration): the
/// right-most `X-Forwarded-For` entry that is not a trusted proxy, when the
/// peer is one; otherwise the peer.
fn client_ip(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    proxies: &[ipnet::IpNet],
) -> Option<IpAddr> {
    let trusted = |ip: &IpAddr| proxies.iter().any(|n| n.contains(ip));
    let peer = peer?;
    if !trusted(&peer) {
        return Some(peer);
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    Some(
        forwarded
            .into_iter()
            .rev()
            .find(|ip| !trusted(ip))
            .unwrap_or(peer),
    )
}

impl FromRequestParts<AppState> for Front {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(current) = parts.extensions.get::<CurrentTenant>().cloned() else {
            tracing::error!("a front-channel route without a tenant");
            return Err(StatusCode::INTERNAL_SERVER_ERROR.into_response());
        };
        let here = parts
            .extensions
            .get::<OriginalUri>()
            .map(|u| u.0.clone())
            .unwrap_or_else(|| parts.uri.clone());
        let here = here
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".to_owned());
        let offered = Offered::of(&current.provider.settings);
        let lang = offered.choose(None, &parts.headers);
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(Self {
            state: state.clone(),
            provider: current.provider,
            headers: parts.headers.clone(),
            here,
            offered,
            lang,
            client_ip: client_ip(peer, &parts.headers, &state.proxies),
        })
    }
}

impl Front {
    pub fn tenant_id(&self) -> TenantId {
        self.provider.tenant.id
    }

    /// The enabled client `client_id`, from the provider's cache (loaded
    /// on first use, as client authentication reads it; every change to a
    /// client rebuilds the provider), so that the pages of a sign-in need
    /// no database round trip for it.
    pub(crate) async fn client(
        &self,
        client_id: &str,
    ) -> Result<Option<Arc<gatehouse_oidc::clients::ClientRecord>>, Failure> {
        self.provider
            .client(&self.state.db, client_id)
            .await
            .map_err(internal)
    }

    /// Records a security event in the tenant's audit log, in `tx` (so it
    /// commits with the change it records): done by `user`, or by an
    /// anonymous request, from this request's address.
    pub(crate) async fn audit(
        &self,
        tx: &mut gatehouse_core::TenantTx,
        user: Option<uuid::Uuid>,
        action: &'static str,
        details: serde_json::Value,
    ) -> Result<(), Failure> {
        use gatehouse_core::audit::{record, Actor, Entry};
        let mut entry = match user {
            Some(id) => Entry::new(Actor::user(id, None), action).target("user", id),
            None => Entry::new(Actor::anonymous(), action),
        };
        entry = entry.ip(self.client_ip).details(details);
        record(tx, &entry).await?;
        Ok(())
    }

    /// An absolute URL under the tenant's issuer (`path` starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.provider.issuer.trim_end_matches('/'))
    }

    /// Chooses the language again, now that the authorization request and
    /// its `ui_locales` are known.
    pub fn with_ui_locales(&mut self, ui_locales: Option<&str>) {
        self.lang = self.offered.choose(ui_locales, &self.headers);
    }

    /// The page shown for a failure.
    pub fn fail(&self, failure: Failure) -> Response {
        match failure {
            Failure::BadRequest {
                title,
                message,
                detail,
            } => page::error(
                self,
                StatusCode::BAD_REQUEST,
                &self.lang.t(title),
                &self.lang.t(message),
                detail.as_deref(),
            ),
            Failure::Internal => page::error(
                self,
                StatusCode::INTERNAL_SERVER_ERROR,
                &self.lang.t("error-internal-title"),
                &self.lang.t("error-internal-message"),
                None,
            ),
        }
    }
}

/// A request the front channel cannot complete: shown to the user as an
/// HTML page, never sent to a client.
#[derive(Debug)]
pub(crate) enum Failure {
    /// 400: a title and a message (message keys of the catalogue), and
    /// perhaps a technical detail, shown as it is.
    BadRequest {
        title: &'static str,
        message: &'static str,
        detail: Option<String>,
    },
    /// 500; the detail was logged.
    Internal,
}

impl Failure {
    pub fn bad(title: &'static str, message: &'static str) -> Self {
        Self::BadRequest {
            title,
            message,
            detail: None,
        }
    }

    pub fn bad_detail(
        title: &'static str,
        message: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self::BadRequest {
            title,
            message,
            detail: Some(detail.into()),
        }
    }

    /// The pending request is gone (expired, finished, or never existed).
    pub fn expired() -> Self {
        Self::bad("error-expired-title", "error-expired-message")
    }

    pub fn csrf() -> Self {
        Self::bad("error-csrf-title", "error-csrf-message")
    }
}

/// Logs an internal failure once and hides its detail.
pub(crate) fn internal(e: impl Display) -> Failure {
    tracing::error!(error = %e, "front channel failure");
    Failure::Internal
}

impl From<gatehouse_core::DbError> for Failure {
    fn from(e: gatehouse_core::DbError) -> Self {
        internal(e)
    }
}

impl From<gatehouse_oidc::StoreError> for Failure {
    fn from(e: gatehouse_oidc::StoreError) -> Self {
        internal(e)
    }
}

impl From<gatehouse_core::kv::KvError> for Failure {
    fn from(e: gatehouse_core::kv::KvError) -> Self {
        internal(e)
    }
}

impl From<gatehouse_oidc::error::OAuthError> for Failure {
    fn from(e: gatehouse_oidc::error::OAuthError) -> Self {
        internal(e)
    }
}

impl From<askama::Error> for Failure {
    fn from(e: askama::Error) -> Self {
        internal(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_is_the_peer_unless_the_peer_is_a_trusted_proxy() {
        let proxies: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.7, 10.1.2.3".parse().unwrap(),
        );
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert_eq!(
            client_ip(ip("192.0.2.1"), &h, &proxies),
            ip("192.0.2.1"),
            "untrusted peer"
        );
        assert_eq!(
            client_ip(ip("10.0.0.5"), &h, &proxies),
            ip("198.51.100.7"),
            "right-most untrusted"
        );
        assert_eq!(
            client_ip(ip("10.0.0.5"), &HeaderMap::new(), &proxies),
            ip("10.0.0.5")
        );
        assert_eq!(client_ip(None, &h, &proxies), None);
    }
}
