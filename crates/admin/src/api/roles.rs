//! `/tenants/{slug}/roles`: a tenant's custom roles, which applications
//! receive in tokens. Built-in roles are listed, never created or deleted.

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use gatehouse_core::audit::{self, action, Entry};
use gatehouse_core::ids::PLATFORMS_SLUG;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{Authorized, UsersRead, UsersWrite};
use super::problem::Problem;
use super::{created, no_content, ApiState, Body, Segments};
use crate::roles;

pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(delete))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Role {
    pub name: String,
    pub description: String,
    /// Built-in administrative role (not in tokens' `roles` claim).
    pub builtin: bool,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub created_at: Option<OffsetDateTime>,
}

/// The tenant's roles: built-in first, then custom by name.
#[utoipa::path(get, path = "/tenants/{slug}/roles", tag = "roles",
    params(("slug" = String, Path)),
    responses((status = 200, body = Vec<Role>), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)),
    security(("gatehouse" = ["gatehouse:users:read"])))]
async fn list(
    auth: Authorized<UsersRead>,
    State(state): State<ApiState>,
) -> Result<Json<Vec<Role>>, Problem> {
    let tenant = auth.tenant()?;
    let builtin: &[&str] = if tenant.slug.as_str() == PLATFORMS_SLUG {
        &roles::PLATFORM_ROLES
    } else {
        &roles::TENANT_ROLES
    };
    let mut out: Vec<Role> = builtin
        .iter()
        .map(|name| Role {
            name: (*name).to_owned(),
            description: String::new(),
            builtin: true,
            created_at: None,
        })
        .collect();
    let mut tx = state.db.tenant_tx(tenant.id).await?;
    out.extend(roles::list(&mut tx).await?.into_iter().map(|r| Role {
        name: r.name,
        description: r.description,
        builtin: false,
        created_at: Some(r.created_at),
    }));
    tx.commit().await?;
    Ok(Json(out))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRole {
    /// A lower-case letter, then up to 63 of a-z, 0-9, `_ . : -`.
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// Define a custom role.
#[utoipa::path(post, path = "/tenants/{slug}/roles", tag = "roles",
    params(("slug" = String, Path)),
    request_body = NewRole,
    responses((status = 201, body = Role), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
              (status = 422, body = Problem)),
    security(("gatehouse" = ["gatehouse:users:write"])))]
async fn create(
    auth: Authorized<UsersWrite>,
    State(state): State<ApiState>,
    Body(new): Body<NewRole>,
) -> Result<Response, Problem> {
    if roles::is_builtin(&new.name) {
        return Err(Problem::new(
            "conflict",
            format!("{:?} is a built-in role", new.name),
        ));
    }
    let mut tx = state.db.tenant_tx(auth.tenant()?.id).await?;
    let role = roles::create(&mut tx, &new.name, &new.description).await?;
    audit::record(
        &mut tx,
        &Entry::new(auth.caller.actor(), action::ROLE_CREATED).target("role", &role.name),
    )
    .await?;
    tx.commit().await?;
    Ok(created(Role {
        name: role.name,
        description: role.description,
        builtin: false,
        created_at: Some(role.created_at),
    }))
}

/// Delete a custom role and every assignment of it.
#[utoipa::path(delete, path = "/tenants/{slug}/roles/{name}", tag = "roles",
    params(("slug" = String, Path), ("name" = String, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("gatehouse" = ["gatehouse:users:write"])))]
async fn delete(
    auth: Authorized<UsersWrite>,
    State(state): State<ApiState>,
    Segments((_, name)): Segments<(String, String)>,
) -> Result<Response, Problem> {
    if roles::is_builtin(&name) {
        return Err(Problem::new("conflict", "built-in roles cannot be deleted"));
    }
    let mut tx = state.db.tenant_tx(auth.tenant()?.id).await?;
    roles::delete(&mut tx, &name).await?;
    audit::record(
        &mut tx,
        &Entry::new(auth.caller.actor(), action::ROLE_DELETED).target("role", &name),
    )
    .await?;
    tx.commit().await?;
    Ok(no_content())
}
