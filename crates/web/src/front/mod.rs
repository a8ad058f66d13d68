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
//! | `GET/POST {issuer}/consent` | the consent page and the user's answer |
//! | `GET/POST {issuer}/logout` | OpenID Connect RP-Initiated Logout 1.0 |
//! | `GET {issuer}/assets/gatehouse.css` | the pages' stylesheet |

mod authorize;
mod consent;
mod login;
mod logout;
pub mod page;
mod pending;
pub mod session;

use std::fmt::Display;
use std::sync::Arc;

use axum::response::Response;
use axum::routing::get;
use axum::Router;
use gatehouse_core::TenantId;
use gatehouse_oidc::provider::TenantProvider;

use crate::state::AppState;
use crate::tenant::CurrentTenant;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/authorize", get(authorize::get).post(authorize::post))
        .route("/login", get(login::get).post(login::post))
        .route("/consent", get(consent::get).post(consent::post))
        .route("/logout", get(logout::get).post(logout::post))
        .route(page::STYLESHEET_PATH, get(page::stylesheet))
}

/// What every front-channel handler works with: the application state and
/// the tenant's provider.
#[derive(Clone)]
pub(crate) struct Front {
    pub state: AppState,
    pub provider: Arc<TenantProvider>,
}

impl Front {
    pub fn new(state: AppState, current: CurrentTenant) -> Self {
        Self {
            state,
            provider: current.provider,
        }
    }

    pub fn tenant_id(&self) -> TenantId {
        self.provider.tenant.id
    }

    /// An absolute URL under the tenant's issuer (`path` starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.provider.issuer.trim_end_matches('/'))
    }

    /// The page shown for a failure.
    pub fn fail(&self, failure: Failure) -> Response {
        match failure {
            Failure::BadRequest { title, message } => {
                page::error(self, axum::http::StatusCode::BAD_REQUEST, title, &message)
            }
            Failure::Internal => page::error(
                self,
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "The request could not be completed. Please try again in a moment.",
            ),
        }
    }
}

/// A request the front channel cannot complete: shown to the user as an
/// HTML page, never sent to a client.
#[derive(Debug)]
pub(crate) enum Failure {
    /// 400, with a title and a message in plain words.
    BadRequest {
        title: &'static str,
        message: String,
    },
    /// 500; the detail was logged.
    Internal,
}

impl Failure {
    pub fn bad(title: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            title,
            message: message.into(),
        }
    }

    /// The pending request is gone (expired, finished, or never existed).
    pub fn expired() -> Self {
        Self::bad(
            "This sign-in request has expired",
            "Go back to the application and start again.",
        )
    }

    pub fn csrf() -> Self {
        Self::bad(
            "This form has expired",
            "The page you submitted was stale or did not come from this site. Go back, reload the page and try again.",
        )
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
