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
mod config;
mod domains;
mod keys;
mod roles;
mod sessions;
mod tenants;
mod usage;
mod users;

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
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
    pub bus: gatehouse_core::events::EventBus,
    /// Seals secrets inside settings.
    pub keyring: gatehouse_core::secretbox::Keyring,
    pub hasher: PasswordHasher,
    pub rotator: Rotator,
    /// The platform's settings (the floor of every tenant's policy).
    pub platform: Arc<EffectiveSettings>,
    /// Plain-http redirect URIs for any host (development only).
    pub allow_http: bool,
    /// Requests per client and minute; 0 disables the limit.
    pub rate_limit_per_minute: u64,
    /// The hosts no tenant may take as a custom domain.
    pub domain_rules: gatehouse_tenancy::domains::DomainRules,
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
        (name = "domains", description = "A tenant's custom domains (platform tokens)"),
        (name = "users", description = "A tenant's users and their roles"),
        (name = "sessions", description = "A user's browser sessions"),
        (name = "usage", description = "What a tenant holds and how much it is used"),
        (name = "clients", description = "A tenant's OAuth clients"),
        (name = "roles", description = "A tenant's custom roles"),
        (name = "keys", description = "A tenant's signing keys"),
        (name = "config", description = "A tenant's settings, with the platform's floors and ceilings"),
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
        .merge(sessions::routes())
        .merge(usage::routes())
        .merge(clients::routes())
        .merge(roles::routes())
        .merge(keys::routes())
        .merge(config::routes())
        .merge(domains::routes())
        .merge(audit_log::routes())
        .split_for_parts();
    doc.servers = Some(vec![utoipa::openapi::Server::new(PREFIX)]);
    document_problems(&mut doc);
    (router, doc)
}

/// What the handlers' annotations leave implicit: problem documents are
/// `application/problem+json` (RFC 9457 §3), and every operation can
/// answer 400 (a malformed query or body), 429 (the per-client rate limit,
/// with `Retry-After`) and 503 (the database or Redis failed; nothing was
/// changed).
fn document_problems(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{Content, Ref, RefOr, Response};
    const JSON: &str = "application/json";
    const PROBLEM_JSON: &str = "application/problem+json";
    let problem = || Content::new(Some(Ref::from_schema_name("Problem")));
    let is_problem = |c: &Content| matches!(&c.schema, Some(RefOr::Ref(r)) if r.ref_location.ends_with("/Problem"));
    for item in doc.paths.paths.values_mut() {
        let ops = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in ops.into_iter().flatten() {
            for response in op.responses.responses.values_mut() {
                if let RefOr::T(r) = response {
                    if r.content.get(JSON).is_some_and(is_problem) {
                        r.content.shift_remove(JSON);
                        r.content.insert(PROBLEM_JSON.to_owned(), problem());
                    }
                }
            }
            let mut limited = Response::new("Too many requests from this client (`rate_limited`)");
            limited.content.insert(PROBLEM_JSON.to_owned(), problem());
            let mut retry = utoipa::openapi::Header::new(
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::Integer)
                    .build(),
            );
            retry.description = Some("Seconds until the client's window ends".to_owned());
            limited.headers.insert("Retry-After".to_owned(), retry);
            let mut unavailable =
                Response::new("The database or Redis failed; nothing was changed (`unavailable`)");
            unavailable
                .content
                .insert(PROBLEM_JSON.to_owned(), problem());
            let mut malformed =
                Response::new("The request is malformed: its query or body (`invalid_request`)");
            malformed.content.insert(PROBLEM_JSON.to_owned(), problem());
            // A body or a query can break a rule the schema does not state
            // (U+0000, which PostgreSQL cannot store, among them).
            let takes_input = op.request_body.is_some()
                || op.parameters.as_ref().is_some_and(|ps| {
                    ps.iter()
                        .any(|p| p.parameter_in == utoipa::openapi::path::ParameterIn::Query)
                });
            if takes_input {
                let mut broken = Response::new("The request breaks a rule (`validation_failed`)");
                broken.content.insert(PROBLEM_JSON.to_owned(), problem());
                op.responses
                    .responses
                    .entry("422".to_owned())
                    .or_insert(RefOr::T(broken));
            }
            for (status, r) in [("400", malformed), ("429", limited), ("503", unavailable)] {
                op.responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert(RefOr::T(r));
            }
        }
    }
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
            Problem::new(
                "method_not_allowed",
                "this path does not accept that method",
            )
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
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Problem> {
        let value = match axum::Json::<serde_json::Value>::from_request(req, state).await {
            Ok(axum::Json(v)) => v,
            Err(e) => return Err(Problem::invalid(e.body_text())),
        };
        // PostgreSQL stores no U+0000 in text or jsonb: refused here (422,
        // well-formed JSON that breaks a rule), not failing in the database.
        if has_nul(&value) {
            return Err(Problem::new(
                "validation_failed",
                "the body contains the character U+0000, which no field may hold",
            ));
        }
        // Well-formed JSON of the wrong shape (a missing field, a number for
        // a string): content the operation cannot process, 422 (RFC 9110
        // §15.5.21); malformed JSON stays 400.
        serde_json::from_value(value).map(Self).map_err(|e| {
            Problem::new(
                "validation_failed",
                format!("the body does not fit the operation: {e}"),
            )
        })
    }
}

/// Whether a path or query holds a percent-encoded U+0000.
fn encodes_nul(s: &str) -> bool {
    s.contains("%00")
}

/// Whether any key or string of `v` contains U+0000.
fn has_nul(v: &serde_json::Value) -> bool {
    use serde_json::Value;
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// Path parameters; a segment that cannot name anything (a malformed id, a
/// number out of range) is a 404 problem document: there is no such
/// resource.
pub struct Segments<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for Segments<T>
where
    axum::extract::Path<T>:
        axum::extract::FromRequestParts<S, Rejection = axum::extract::rejection::PathRejection>,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Problem> {
        // A percent-encoded U+0000 names nothing PostgreSQL can store.
        if encodes_nul(parts.uri.path()) {
            return Err(Problem::not_found("resource at this path"));
        }
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Self(v)),
            Err(_) => Err(Problem::not_found("resource at this path")),
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
        if parts.uri.query().is_some_and(encodes_nul) {
            return Err(Problem::new(
                "validation_failed",
                "the query contains the character U+0000, which no parameter may hold",
            ));
        }
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
    #[param(minimum = 1, maximum = 100)]
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
