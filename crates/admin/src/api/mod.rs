//! The management API under `/api/v1`, at the root of the public URL; the
//! tenant is named in the path (`/api/v1/tenants/{slug}/…`). JSON in and
//! out, errors as RFC 9457 problem documents ([`problem`]), lists in keyset
//! pages (`limit` 25 by default, at most 100; `after` is the previous
//! page's `next`). Every operation names its scope in its handler's
//! signature ([`auth`]). The OpenAPI 3.1 document is built from the same
//! handlers and served at `/api/v1/openapi.json`.

pub mod auth;
pub mod problem;
pub mod reference;

mod audit_log;
mod clients;
mod keys;
mod roles;
mod tenants;
mod users;

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::FromRequest;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use gatehouse_core::crypto::PasswordHasher;
use gatehouse_core::kv::Kv;
use gatehouse_core::Db;
use gatehouse_oidc::provider::TenantProvider;
use gatehouse_oidc::rotation::Rotator;
use gatehouse_tenancy::settings::EffectiveSettings;
use gatehouse_tenancy::Tenancy;
use serde::Serialize;
use utoipa::openapi::security::{Flow, OAuth2, Scopes, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;

use self::problem::Problem;

/// Where the API is mounted.
pub const PREFIX: &str = "/api/v1";

/// What the API needs from the process.
#[derive(Clone)]
pub struct ApiState {
    pub db: Db,
    pub tenancy: Tenancy<TenantProvider>,
    pub kv: Kv,
    pub hasher: PasswordHasher,
    pub rotator: Rotator,
    /// The platform's settings (the floor of every tenant's policy).
    pub platform: Arc<EffectiveSettings>,
    /// Plain-http redirect URIs for any host (development only).
    pub allow_http: bool,
    /// Requests per client and minute; 0 disables the limit.
    pub rate_limit_per_minute: u64,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Gatehouse management API",
        version = "1",
        description = "Tenants, users, clients, roles, keys and the audit log of a Gatehouse deployment. \
                       Authenticate with an access token from Gatehouse's own token endpoint (client_credentials); \
                       see docs/administration.md for the scopes."
    ),
    modifiers(&Security),
    components(schemas(Problem)),
    tags(
        (name = "tenants", description = "The platform's tenants (platform tokens)"),
        (name = "users", description = "A tenant's users and their roles"),
        (name = "clients", description = "A tenant's OAuth clients"),
        (name = "roles", description = "A tenant's custom roles"),
        (name = "keys", description = "A tenant's signing keys"),
        (name = "audit", description = "A tenant's audit log"),
    )
)]
struct ApiDoc;

/// The bearer scheme, with every scope of [`auth::ALL`].
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let mut scopes: Vec<(String, String)> = auth::ALL
            .iter()
            .map(|(name, reach)| {
                let what = match reach {
                    auth::Reach::Platform => "the platform (tokens of _platforms)".to_owned(),
                    auth::Reach::Tenant { cross } => {
                        format!("one tenant (its own tokens; _platforms tokens use {cross})")
                    }
                };
                ((*name).to_owned(), what)
            })
            .collect();
        scopes.push((
            "gatehouse:cross-tenant:read".to_owned(),
            "any tenant, read (tokens of _platforms)".to_owned(),
        ));
        scopes.push((
            "gatehouse:cross-tenant:write".to_owned(),
            "any tenant, write (tokens of _platforms)".to_owned(),
        ));
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "gatehouse",
            SecurityScheme::OAuth2(OAuth2::new([Flow::ClientCredentials(
                utoipa::openapi::security::ClientCredentials::new(
                    "/t/_platforms/token",
                    Scopes::from_iter(scopes),
                ),
            )])),
        );
    }
}

/// Every operation, with its part of the OpenAPI document.
fn operations() -> (Router<ApiState>, utoipa::openapi::OpenApi) {
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(tenants::routes())
        .merge(users::routes())
        .merge(clients::routes())
        .merge(roles::routes())
        .merge(keys::routes())
        .merge(audit_log::routes())
        .split_for_parts();
    doc.servers = Some(vec![utoipa::openapi::Server::new(PREFIX)]);
    (router, doc)
}

/// The API's routes (mounted at [`PREFIX`] by the caller) and its OpenAPI
/// document at `/openapi.json`.
pub fn router(state: ApiState) -> Router {
    let (router, doc) = operations();
    let body: Arc<str> = doc.to_pretty_json().unwrap_or_default().into();
    router
        .route(
            "/openapi.json",
            get(move || {
                let body = body.clone();
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        body.to_string(),
                    )
                }
            }),
        )
        .fallback(|| async { Problem::not_found("API operation") })
        .method_not_allowed_fallback(|| async {
            Problem::invalid("this operation does not accept that method")
        })
        .with_state(state)
}

/// The OpenAPI document alone (for `gatehouse api-doc` and the docs).
pub fn openapi_json() -> String {
    operations().1.to_pretty_json().unwrap_or_default()
}

/// A JSON body; malformed JSON is a 400 problem document, not axum's text.
pub struct Body<T>(pub T);

impl<T, S> FromRequest<S> for Body<T>
where
    axum::Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Problem> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(e) => Err(Problem::invalid(e.body_text())),
        }
    }
}

/// Query parameters; a malformed query is a 400 problem document.
pub struct Params<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for Params<T>
where
    axum::extract::Query<T>: axum::extract::FromRequestParts<S, Rejection = QueryRejection>,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Problem> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Self(v)),
            Err(e) => Err(Problem::invalid(e.body_text())),
        }
    }
}

/// A page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `after` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// `limit` and `after` of a list request.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1 to 100, default 25.
    pub limit: Option<u32>,
    /// The `next` of the previous page.
    pub after: Option<String>,
}

impl PageQuery {
    pub fn limit(&self) -> Result<u32, Problem> {
        match self.limit {
            None => Ok(25),
            Some(n @ 1..=100) => Ok(n),
            Some(_) => Err(Problem::validation("limit", "limit must be 1 to 100")),
        }
    }
}

/// 201 with a body.
pub fn created<T: Serialize>(body: T) -> Response {
    (axum::http::StatusCode::CREATED, axum::Json(body)).into_response()
}

/// 204.
pub fn no_content() -> Response {
    axum::http::StatusCode::NO_CONTENT.into_response()
}
