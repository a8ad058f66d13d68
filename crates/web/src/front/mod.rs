//! The front channel: the authorization endpoint, login and consent pages,
//! and RP-initiated logout.

use axum::Router;

use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
}
