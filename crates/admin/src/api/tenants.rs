//! `/tenants`: the platform's tenants. Platform tokens only.

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use gatehouse_tenancy::{TenantError, TenantRecord, TenantStatus};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{tenant_by_slug, Authorized, TenantsDelete, TenantsRead, TenantsWrite};
use super::problem::Problem;
use super::{created, no_content, ApiState, Body, Page, PageQuery, Params, Segments};

pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, update, delete))
        .routes(routes!(set_status))
        .routes(routes!(export))
        .routes(routes!(import))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Tenant {
    pub slug: String,
    pub display_name: String,
    /// `active`, `suspended` or `inactive`.
    pub status: String,
    /// `_platforms` and `default`: cannot be deleted or suspended.
    pub builtin: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<&TenantRecord> for Tenant {
    fn from(t: &TenantRecord) -> Self {
        Self {
            slug: t.slug.to_string(),
            display_name: t.display_name.clone(),
            status: t.status.as_str().to_owned(),
            builtin: t.builtin,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

fn problem(e: TenantError) -> Problem {
    match e {
        TenantError::Slug(e) => Problem::validation("slug", e.to_string()),
        TenantError::DisplayName => Problem::validation("display_name", e.to_string()),
        TenantError::Duplicate => Problem::new("conflict", e.to_string()),
        TenantError::NotFound => Problem::not_found("tenant"),
        TenantError::Reserved(_) => Problem::validation("slug", e.to_string()),
        TenantError::Db(e) => Problem::internal(e),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only slugs starting with this.
    pub q: Option<String>,
    /// 1 to 100, default 25.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// The `next` of the previous page.
    pub after: Option<String>,
}

/// List tenants by slug, a page at a time.
#[utoipa::path(get, path = "/tenants", tag = "tenants",
    params(ListQuery),
    responses(
        (status = 200, body = Page<Tenant>),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem),
    ),
    security(("gatehouse" = ["gatehouse:tenants:read"])))]
async fn list(
    _: Authorized<TenantsRead>,
    State(state): State<ApiState>,
    Params(query): Params<ListQuery>,
) -> Result<Json<Page<Tenant>>, Problem> {
    let limit = PageQuery {
        limit: query.limit,
        after: None,
    }
    .limit()?;
    let rows = state
        .tenancy
        .tenants
        .search(
            query.q.as_deref().filter(|q| !q.is_empty()),
            query.after.as_deref(),
            i64::from(limit) + 1,
        )
        .await
        .map_err(problem)?;
    Ok(Json(page(&rows, limit as usize)))
}

fn page(rows: &[TenantRecord], limit: usize) -> Page<Tenant> {
    let next = (rows.len() > limit).then(|| rows[limit - 1].slug.to_string());
    Page {
        items: rows.iter().take(limit).map(Tenant::from).collect(),
        next,
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTenant {
    /// 2 to 63 characters: lower-case letters, digits, hyphens.
    pub slug: String,
    pub display_name: String,
    /// A custom domain for the tenant, made its primary domain (its issuer
    /// becomes `https://{domain}`). Checked before the tenant is created.
    pub domain: Option<String>,
}

/// Create a tenant (with its signing keys on first use).
#[utoipa::path(post, path = "/tenants", tag = "tenants",
    request_body = NewTenant,
    responses(
        (status = 201, body = Tenant),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem),
    ),
    security(("gatehouse" = ["gatehouse:tenants:write"])))]
async fn create(
    auth: Authorized<TenantsWrite>,
    State(state): State<ApiState>,
    Body(new): Body<NewTenant>,
) -> Result<Response, Problem> {
    let tenants = &state.tenancy.tenants;
    // The domain is checked first, so a bad one creates nothing.
    let domain = match &new.domain {
        Some(raw) => {
            let host = state
                .domain_rules
                .check(raw)
                .map_err(super::domains::problem)?;
            if tenants
                .domain_holder(&host)
                .await
                .map_err(super::domains::problem)?
                .is_some()
            {
                return Err(super::domains::taken(&host));
            }
            Some(host)
        }
        None => None,
    };
    let t = tenants
        .create_by(&new.slug, &new.display_name, auth.caller.actor())
        .await
        .map_err(problem)?;
    if let Some(host) = domain {
        tenants
            .add_domain(&t, &host, true, &state.domain_rules, auth.caller.actor())
            .await
            .map_err(super::domains::problem)?;
    }
    Ok(created(Tenant::from(&t)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantChange {
    /// 1 to 200 characters.
    pub display_name: String,
}

/// Rename a tenant (its display name; the slug never changes).
#[utoipa::path(patch, path = "/tenants/{slug}", tag = "tenants",
    params(("slug" = String, Path)),
    request_body = TenantChange,
    responses((status = 200, body = Tenant), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("gatehouse" = ["gatehouse:tenants:write"])))]
async fn update(
    auth: Authorized<TenantsWrite>,
    State(state): State<ApiState>,
    Segments(slug): Segments<String>,
    Body(change): Body<TenantChange>,
) -> Result<Json<Tenant>, Problem> {
    let t = state
        .tenancy
        .tenants
        .rename_by(&slug, &change.display_name, auth.caller.actor())
        .await
        .map_err(problem)?;
    Ok(Json(Tenant::from(&t)))
}

/// One tenant.
#[utoipa::path(get, path = "/tenants/{slug}", tag = "tenants",
    params(("slug" = String, Path)),
    responses((status = 200, body = Tenant), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("gatehouse" = ["gatehouse:tenants:read"])))]
async fn get_one(
    _: Authorized<TenantsRead>,
    State(state): State<ApiState>,
    Segments(slug): Segments<String>,
) -> Result<Json<Tenant>, Problem> {
    let t = tenant_by_slug(&state, &slug).await?;
    Ok(Json(Tenant::from(t.as_ref())))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    /// `active`, `suspended` (every endpoint answers 403 on every node) or
    /// `inactive` (archived: stopped, data and slug kept).
    pub status: TenantStatusName,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TenantStatusName {
    Active,
    Suspended,
    Inactive,
}

/// Suspend, archive (`inactive`) or activate a tenant.
#[utoipa::path(put, path = "/tenants/{slug}/status", tag = "tenants",
    params(("slug" = String, Path)),
    request_body = StatusChange,
    responses((status = 200, body = Tenant), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("gatehouse" = ["gatehouse:tenants:write"])))]
async fn set_status(
    auth: Authorized<TenantsWrite>,
    State(state): State<ApiState>,
    Segments(slug): Segments<String>,
    Body(change): Body<StatusChange>,
) -> Result<Json<Tenant>, Problem> {
    let status = match change.status {
        TenantStatusName::Active => TenantStatus::Active,
        TenantStatusName::Suspended => TenantStatus::Suspended,
        TenantStatusName::Inactive => TenantStatus::Inactive,
    };
    let t = state
        .tenancy
        .tenants
        .set_status_by(&slug, status, auth.caller.actor())
        .await
        .map_err(problem)?;
    Ok(Json(Tenant::from(&t)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// The tenant's slug again: deleting cannot be undone.
    pub confirm: Option<String>,
}

/// Delete a tenant and everything it owns. Irreversible; `confirm` must
/// repeat the slug.
#[utoipa::path(delete, path = "/tenants/{slug}", tag = "tenants",
    params(("slug" = String, Path), DeleteQuery),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("gatehouse" = ["gatehouse:tenants:delete"])))]
async fn delete(
    _: Authorized<TenantsDelete>,
    State(state): State<ApiState>,
    Segments(slug): Segments<String>,
    Params(query): Params<DeleteQuery>,
) -> Result<Response, Problem> {
    if query.confirm.as_deref() != Some(slug.as_str()) {
        return Err(Problem::validation(
            "confirm",
            "deleting a tenant cannot be undone: repeat its slug in ?confirm=",
        ));
    }
    let t = state.tenancy.tenants.delete(&slug).await.map_err(problem)?;
    // The rows went by cascade; the tenant's Redis entries (sessions,
    // codes, counters) go now. They all expire, so a failure here is
    // logged, not returned: the deletion itself has happened.
    if let Err(e) = state.kv.purge_tenant(t.id).await {
        tracing::warn!(tenant = %t.slug, error = %e, "deleted tenant's Redis entries not purged; they expire");
    }
    Ok(no_content())
}

fn transfer_problem(e: crate::transfer::TransferError) -> Problem {
    use crate::transfer::TransferError;
    match e {
        TransferError::Invalid(m) => Problem::new("validation_failed", m),
        TransferError::Tenant(e) => problem(e),
        TransferError::Settings(e) => Problem::new("validation_failed", e.to_string()),
        TransferError::Seal(e) => {
            tracing::error!(error = %e, "tenant export or import: master key");
            Problem::new("unavailable", e.to_string())
        }
        TransferError::Store(e) => Problem::internal(e),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// Include the users, with their password hashes and roles.
    #[serde(default)]
    pub users: bool,
    /// With `users=true`: also their second factors: authenticator-app
    /// secrets in the clear, recovery-code hashes and passkeys. The
    /// document is then as sensitive as the factors themselves.
    #[serde(default)]
    pub mfa: bool,
}

/// The tenant as one JSON document (`format` `gatehouse.tenant/1`):
/// settings (secrets left out), custom roles, clients with their secret
/// hashes, with `users=true` its users with their password hashes and
/// roles, and with `mfa=true` as well their second factors (TOTP secrets
/// in the clear). It needs the write scope: it carries credentials.
#[utoipa::path(get, path = "/tenants/{slug}/export", tag = "tenants",
    params(("slug" = String, Path), ExportQuery),
    responses((status = 200, body = crate::transfer::TenantDocument),
              (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 422, body = Problem)),
    security(("gatehouse" = ["gatehouse:tenants:write"])))]
async fn export(
    auth: Authorized<TenantsWrite>,
    State(state): State<ApiState>,
    Segments(slug): Segments<String>,
    Params(query): Params<ExportQuery>,
) -> Result<Json<crate::transfer::TenantDocument>, Problem> {
    if query.mfa && !query.users {
        return Err(Problem::validation(
            "mfa",
            "second factors travel with their users: mfa=true needs users=true",
        ));
    }
    let t = tenant_by_slug(&state, &slug).await?;
    let include = crate::transfer::Include {
        users: query.users,
        mfa: query.mfa,
    };
    let doc = crate::transfer::export(&state.db, &state.keyring, &t, include, auth.caller.actor())
        .await
        .map_err(transfer_problem)?;
    Ok(Json(doc))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Create the tenant under this slug instead of the document's.
    pub slug: Option<String>,
}

/// Create a tenant from an export document. Everything is checked first;
/// the import happens whole or not at all.
#[utoipa::path(post, path = "/tenants/import", tag = "tenants",
    params(ImportQuery),
    request_body = crate::transfer::TenantDocument,
    responses((status = 201, body = Tenant), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("gatehouse" = ["gatehouse:tenants:write"])))]
async fn import(
    auth: Authorized<TenantsWrite>,
    State(state): State<ApiState>,
    Params(query): Params<ImportQuery>,
    Body(doc): Body<crate::transfer::TenantDocument>,
) -> Result<Response, Problem> {
    let importer = crate::transfer::Importer {
        db: &state.db,
        bus: &state.bus,
        keyring: &state.keyring,
        platform: &state.platform,
        tenants: &state.tenancy.tenants,
        actor: auth.caller.actor(),
        allow_http: state.allow_http,
    };
    let t = crate::transfer::import(&importer, &doc, query.slug.as_deref())
        .await
        .map_err(transfer_problem)?;
    Ok(created(Tenant::from(&t)))
}
