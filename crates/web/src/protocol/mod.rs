//! The back channel: discovery, token, userinfo, introspection and
//! revocation. Handlers extract and check the HTTP input, call the protocol
//! crate, and map its typed results and errors to responses.

mod form;
mod introspect;
mod token;
mod userinfo;

use axum::extract::Extension;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use gatehouse_oidc::discovery::paths;

use crate::state::AppState;
use crate::tenant::CurrentTenant;

pub use form::{oauth_error_response, Form};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(paths::DISCOVERY, get(discovery))
        .route(paths::TOKEN, post(token::token))
        .route(
            paths::USERINFO,
            get(userinfo::userinfo).post(userinfo::userinfo_post),
        )
        .route(paths::INTROSPECT, post(introspect::introspect))
        .route(paths::REVOKE, post(introspect::revoke))
}

/// `GET {issuer}/.well-known/openid-configuration` (OpenID Connect
/// Discovery §4): the document rendered when the provider was built.
async fn discovery(Extension(current): Extension<CurrentTenant>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        axum::body::Bytes::copy_from_slice(&current.provider.discovery_body),
    )
        .into_response()
}
