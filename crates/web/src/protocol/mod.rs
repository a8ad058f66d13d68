//! The back channel: discovery, token, userinfo, introspection, revocation.

use axum::Router;

use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
}
