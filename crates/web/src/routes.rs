//! Route assembly. Tenant routes see the path with any `/t/{slug}` prefix
//! already stripped and find their tenant in [`CurrentTenant`].

use axum::extract::Extension;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::error::HttpError;
use crate::ops;
use crate::state::AppState;
use crate::tenant::CurrentTenant;

pub fn router(state: AppState) -> Router {
    let api = gatehouse_admin::api::router(state.api_state());
    Router::new()
        .nest_service(gatehouse_admin::api::PREFIX, api)
        .route("/_ops/healthz", get(ops::healthz))
        .route("/_ops/readyz", get(ops::readyz))
        .route("/_ops/metrics", get(ops::metrics))
        .route("/tenant", get(tenant_info))
        .route(JWKS_PATH, get(jwks))
        .merge(crate::front::routes())
        .merge(crate::console::routes())
        .merge(crate::protocol::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

/// Where a tenant's JWKS is served, relative to its issuer.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// `GET {issuer}/.well-known/jwks.json`: the tenant's published keys (next,
/// active, and retired until their tokens expire), pre-rendered in the
/// provider. Cacheable for five minutes: a key is published a whole
/// rotation period before it signs.
async fn jwks(Extension(current): Extension<CurrentTenant>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        axum::body::Bytes::copy_from_slice(&current.provider.jwks_body),
    )
        .into_response()
}

async fn not_found() -> Response {
    HttpError::NOT_FOUND.into_response()
}

async fn method_not_allowed() -> Response {
    HttpError::METHOD_NOT_ALLOWED.into_response()
}

#[derive(Serialize)]
struct TenantInfo<'a> {
    slug: &'a str,
    display_name: &'a str,
    issuer: &'a str,
}

/// `GET {issuer}/tenant`: the tenant's public identity, what a relying party
/// or an operator needs to confirm which tenant a URL reaches.
async fn tenant_info(Extension(current): Extension<CurrentTenant>) -> Response {
    let p = &current.provider;
    Json(TenantInfo {
        slug: p.tenant.slug.as_str(),
        display_name: &p.tenant.display_name,
        issuer: &p.issuer,
    })
    .into_response()
}
