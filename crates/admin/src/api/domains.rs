//! `/tenants/{slug}/domains`: a tenant's custom domains, managed by platform
//! operators. The primary domain is the tenant's issuer; every change
//! reaches every node within a second (announced on the event bus).

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use gatehouse_tenancy::domains::{Domain as Stored, DomainError};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{tenant_by_slug, Authorized, TenantsRead, TenantsWrite};
use super::problem::Problem;
use super::{created, no_content, ApiState, Body, Segments};

pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list, add))
        .routes(routes!(update, remove))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Domain {
    /// Lowercase ASCII; an internationalised name in punycode.
    pub host: String,
    /// The tenant's issuer is `https://{host}` (the public URL's scheme).
    pub primary: bool,
    pub verified: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<Stored> for Domain {
    fn from(d: Stored) -> Self {
        Self {
            host: d.host,
            primary: d.primary,
            verified: d.verified,
            created_at: d.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DomainList {
    /// The primary domain first.
    pub items: Vec<Domain>,
}

pub(super) fn problem(e: DomainError) -> Problem {
    match e {
        DomainError::Invalid(detail) => Problem::validation("host", detail),
        DomainError::Taken => Problem::new("conflict", e.to_string()),
        DomainError::NotFound => Problem::not_found("domain"),
        DomainError::Db(e) => Problem::internal(e),
    }
}

pub(super) fn taken(host: &str) -> Problem {
    let mut p = Problem::new("conflict", format!("{host} is already a tenant's domain"));
    p.field = Some("domain".into());
    p
}

/// A tenant's custom domains.
#[utoipa::path(get, path = "/tenants/{slug}/domains", tag = "domains",
    params(("slug" = String, Path)),
    responses((status = 200, body = DomainList), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("gatehouse" = ["gatehouse:tenants:read"])))]
async fn list(
    _: Authorized<TenantsRead>,
    State(state): State<ApiState>,
    Segments(slug): Segments<String>,
) -> Result<Json<DomainList>, Problem> {
    let tenant = tenant_by_slug(&state, &slug).await?;
    let items = state
        .tenancy
        .tenants
        .domains(&tenant)
        .await
        .map_err(problem)?
        .into_iter()
        .map(Domain::from)
        .collect();
    Ok(Json(DomainList { items }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDomain {
    /// A public host name such as `login.acme.com` (no scheme, port or
    /// path). Not this deployment's own host, its base domain or a
    /// subdomain of it, an IP address, or `localhost`.
    pub host: String,
    /// Make it the primary domain: the tenant's issuer changes to
    /// `https://{host}`, so relying parties must use the new discovery URL.
    #[serde(default)]
    pub primary: bool,
}

/// Add a custom domain to a tenant. Adding it states that the host's DNS
/// and TLS end at this deployment; it resolves to the tenant at once.
#[utoipa::path(post, path = "/tenants/{slug}/domains", tag = "domains",
    params(("slug" = String, Path)),
    request_body = NewDomain,
    responses((status = 201, body = Domain), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
              (status = 422, body = Problem)),
    security(("gatehouse" = ["gatehouse:tenants:write"])))]
async fn add(
    auth: Authorized<TenantsWrite>,
    State(state): State<ApiState>,
    Segments(slug): Segments<String>,
    Body(new): Body<NewDomain>,
) -> Result<Response, Problem> {
    let tenant = tenant_by_slug(&state, &slug).await?;
    let domain = state
        .tenancy
        .tenants
        .add_domain(
            &tenant,
            &new.host,
            new.primary,
            &state.domain_rules,
            auth.caller.actor(),
        )
        .await
        .map_err(problem)?;
    Ok(created(Domain::from(domain)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DomainChange {
    /// true: the tenant's issuer becomes `https://{host}`; false: the
    /// tenant has no primary domain (its issuer goes back to the path or
    /// subdomain form).
    pub primary: bool,
}

/// Make a domain the tenant's primary domain, or stop it being primary.
#[utoipa::path(patch, path = "/tenants/{slug}/domains/{host}", tag = "domains",
    params(("slug" = String, Path), ("host" = String, Path)),
    request_body = DomainChange,
    responses((status = 204), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("gatehouse" = ["gatehouse:tenants:write"])))]
async fn update(
    auth: Authorized<TenantsWrite>,
    State(state): State<ApiState>,
    Segments((slug, host)): Segments<(String, String)>,
    Body(change): Body<DomainChange>,
) -> Result<Response, Problem> {
    let tenant = tenant_by_slug(&state, &slug).await?;
    state
        .tenancy
        .tenants
        .set_primary_domain(&tenant, &host, change.primary, auth.caller.actor())
        .await
        .map_err(problem)?;
    Ok(no_content())
}

/// Remove a custom domain: it stops resolving to the tenant on every node.
#[utoipa::path(delete, path = "/tenants/{slug}/domains/{host}", tag = "domains",
    params(("slug" = String, Path), ("host" = String, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)),
    security(("gatehouse" = ["gatehouse:tenants:write"])))]
async fn remove(
    auth: Authorized<TenantsWrite>,
    State(state): State<ApiState>,
    Segments((slug, host)): Segments<(String, String)>,
) -> Result<Response, Problem> {
    let tenant = tenant_by_slug(&state, &slug).await?;
    state
        .tenancy
        .tenants
        .remove_domain(&tenant, &host, auth.caller.actor())
        .await
        .map_err(problem)?;
    Ok(no_content())
}
