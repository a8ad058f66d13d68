//! `/tenants/{slug}/users`: a tenant's users and their role assignments.

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use gatehouse_core::audit::{self, action, Entry};
use gatehouse_core::ids::PLATFORMS_SLUG;
use gatehouse_oidc::users::{self, NewUser, User as StoredUser};
use gatehouse_tenancy::TenantRecord;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::auth::{Authorized, UsersRead, UsersWrite};
use super::problem::Problem;
use super::{created, no_content, ApiState, Body, Page, PageQuery, Params, Segments};
use crate::roles;

pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, update, delete))
        .routes(routes!(assign_role, remove_role))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    pub disabled: bool,
    /// Locked by an administrator: cannot sign in or redeem refresh tokens
    /// until unlocked.
    pub locked: bool,
    /// When it was locked.
    #[serde(
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub locked_at: Option<OffsetDateTime>,
    /// Built-in and custom roles (in a list: omitted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl User {
    fn of(u: StoredUser, roles: Option<Vec<String>>) -> Self {
        Self {
            id: u.id,
            username: u.username,
            email: u.email,
            email_verified: u.email_verified,
            name: u.name,
            disabled: u.disabled,
            locked: u.locked_at.is_some(),
            locked_at: u.locked_at,
            roles,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

type UserPath = (String, Uuid);

/// A tenant's users by username, a page at a time.
#[utoipa::path(get, path = "/tenants/{slug}/users", tag = "users",
    params(("slug" = String, Path), PageQuery),
    responses((status = 200, body = Page<User>), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("gatehouse" = ["gatehouse:users:read"])))]
async fn list(
    auth: Authorized<UsersRead>,
    State(state): State<ApiState>,
    Params(page): Params<PageQuery>,
) -> Result<Json<Page<User>>, Problem> {
    let limit = page.limit()?;
    let mut tx = state.db.tenant_tx(auth.tenant()?.id).await?;
    let mut rows = users::list(&mut tx, page.after.as_deref(), i64::from(limit) + 1).await?;
    tx.commit().await?;
    let next = (rows.len() > limit as usize).then(|| rows[limit as usize - 1].username.clone());
    rows.truncate(limit as usize);
    Ok(Json(Page {
        items: rows.into_iter().map(|u| User::of(u, None)).collect(),
        next,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    pub username: String,
    pub email: Option<String>,
    pub name: Option<String>,
    /// Checked against the tenant's password policy; never returned.
    /// Without one, the user signs in with a passkey or a reset link.
    pub password: Option<String>,
    /// Whether the address is known to be theirs (default false).
    #[serde(default)]
    pub email_verified: bool,
}

/// Create a user.
#[utoipa::path(post, path = "/tenants/{slug}/users", tag = "users",
    params(("slug" = String, Path)),
    request_body = NewUserBody,
    responses((status = 201, body = User), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
              (status = 422, body = Problem)),
    security(("gatehouse" = ["gatehouse:users:write"])))]
async fn create(
    auth: Authorized<UsersWrite>,
    State(state): State<ApiState>,
    Body(new): Body<NewUserBody>,
) -> Result<Response, Problem> {
    let tenant = auth.tenant()?;
    let password_hash = match &new.password {
        Some(password) => {
            let policy =
                gatehouse_tenancy::settings::password_policy(&state.db, &state.platform, tenant.id)
                    .await?;
            let mut context = vec![new.username.as_str()];
            context.extend(new.email.as_deref());
            if let Err(violations) = policy.check(password, &context) {
                let list: Vec<String> = violations.iter().map(ToString::to_string).collect();
                return Err(Problem::validation(
                    "password",
                    format!("the password is {}", list.join("; ")),
                ));
            }
            Some(
                state
                    .hasher
                    .hash(password.clone())
                    .await
                    .map_err(Problem::internal)?,
            )
        }
        None => None,
    };
    let mut tx = state.db.tenant_tx(tenant.id).await?;
    let user = users::create(
        &mut tx,
        NewUser {
            username: new.username,
            email: new.email,
            name: new.name,
            password_hash,
        },
    )
    .await?;
    if new.email_verified {
        if let Some(email) = &user.email {
            users::mark_email_verified(&mut tx, user.id, email).await?;
        }
    }
    audit::record(
        &mut tx,
        &Entry::new(auth.caller.actor(), action::USER_CREATED)
            .target("user", user.id)
            .details(serde_json::json!({ "username": user.username, "email": user.email })),
    )
    .await?;
    let user = users::get(&mut tx, user.id)
        .await?
        .ok_or_else(|| Problem::not_found("user"))?;
    tx.commit().await?;
    Ok(created(User::of(user, Some(Vec::new()))))
}

/// One user, with their roles.
#[utoipa::path(get, path = "/tenants/{slug}/users/{id}", tag = "users",
    params(("slug" = String, Path), ("id" = Uuid, Path)),
    responses((status = 200, body = User), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)),
    security(("gatehouse" = ["gatehouse:users:read"])))]
async fn get_one(
    auth: Authorized<UsersRead>,
    State(state): State<ApiState>,
    Segments((_, id)): Segments<UserPath>,
) -> Result<Json<User>, Problem> {
    let mut tx = state.db.tenant_tx(auth.tenant()?.id).await?;
    let user = users::get(&mut tx, id)
        .await?
        .ok_or_else(|| Problem::not_found("user"))?;
    let roles = roles::of_user(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(User::of(user, Some(roles))))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChange {
    /// A disabled user cannot sign in, and is signed out everywhere.
    pub disabled: Option<bool>,
    /// Lock (true): signed out everywhere, and no sign-in or refresh until
    /// unlocked. Unlock (false) also clears the counters of failed sign-ins
    /// that lock an account for a while on their own.
    pub locked: Option<bool>,
    /// The display name; an empty string removes it.
    pub name: Option<String>,
    /// The email address; an empty string removes it. A new address is
    /// unverified unless `email_verified` is given.
    pub email: Option<String>,
    pub email_verified: Option<bool>,
}

/// Change a user: disable or enable, lock or unlock, edit the name and
/// email address.
#[utoipa::path(patch, path = "/tenants/{slug}/users/{id}", tag = "users",
    params(("slug" = String, Path), ("id" = Uuid, Path)),
    request_body = UserChange,
    responses((status = 200, body = User), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("gatehouse" = ["gatehouse:users:write"])))]
async fn update(
    auth: Authorized<UsersWrite>,
    State(state): State<ApiState>,
    Segments((_, id)): Segments<UserPath>,
    Body(change): Body<UserChange>,
) -> Result<Json<User>, Problem> {
    let mut tx = state.db.tenant_tx(auth.tenant()?.id).await?;
    let before = users::get(&mut tx, id)
        .await?
        .ok_or_else(|| Problem::not_found("user"))?;
    if let Some(disabled) = change.disabled {
        users::set_disabled(&mut tx, id, disabled).await?;
        audit::record(
            &mut tx,
            &Entry::new(auth.caller.actor(), action::USER_UPDATED)
                .target("user", id)
                .details(serde_json::json!({
                    "disabled": { "before": before.disabled, "after": disabled }
                })),
        )
        .await?;
    }
    if change.name.is_some() || change.email.is_some() || change.email_verified.is_some() {
        let blank = |v: &Option<String>, before: Option<String>| match v {
            Some(s) if s.trim().is_empty() => None,
            Some(s) => Some(s.trim().to_owned()),
            None => before,
        };
        let name = blank(&change.name, before.name.clone());
        let email = blank(&change.email, before.email.clone());
        let same_address = email.as_deref().map(str::to_lowercase)
            == before.email.as_deref().map(str::to_lowercase);
        let verified = change
            .email_verified
            .unwrap_or(same_address && before.email_verified);
        users::set_contact(&mut tx, id, name.as_deref(), email.as_deref(), verified).await?;
        audit::record(
            &mut tx,
            &Entry::new(auth.caller.actor(), action::USER_UPDATED)
                .target("user", id)
                .details(serde_json::json!({
                    "name": { "before": before.name, "after": name },
                    "email": { "before": before.email, "after": email },
                    "email_verified": { "before": before.email_verified, "after": verified && email.is_some() },
                })),
        )
        .await?;
    }
    if let Some(locked) = change.locked {
        users::set_locked(&mut tx, id, locked).await?;
        audit::record(
            &mut tx,
            &Entry::new(auth.caller.actor(), action::USER_UPDATED)
                .target("user", id)
                .details(serde_json::json!({
                    "locked": { "before": before.locked_at.is_some(), "after": locked }
                })),
        )
        .await?;
    }
    let user = users::get(&mut tx, id)
        .await?
        .ok_or_else(|| Problem::not_found("user"))?;
    let roles = roles::of_user(&mut tx, id).await?;
    tx.commit().await?;
    // Disabled or locked: signed out everywhere, as in /admin (the epoch
    // moved on in the transaction; the sessions' access tokens go now).
    if change.disabled == Some(true) || change.locked == Some(true) {
        let provider = super::auth::provider(&state, auth.tenant()?.clone()).await?;
        gatehouse_oidc::sessions::end_all(&state.kv, &provider, id)
            .await
            .map_err(Problem::internal)?;
    }
    if change.locked == Some(false) {
        crate::unlock_counters(&state.kv, auth.tenant()?.id, &user).await?;
    }
    Ok(Json(User::of(user, Some(roles))))
}

/// Delete a user and everything of theirs.
#[utoipa::path(delete, path = "/tenants/{slug}/users/{id}", tag = "users",
    params(("slug" = String, Path), ("id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("gatehouse" = ["gatehouse:users:write"])))]
async fn delete(
    auth: Authorized<UsersWrite>,
    State(state): State<ApiState>,
    Segments((_, id)): Segments<UserPath>,
) -> Result<Response, Problem> {
    let tenant = auth.tenant()?;
    let mut tx = state.db.tenant_tx(tenant.id).await?;
    let user = users::get(&mut tx, id)
        .await?
        .ok_or_else(|| Problem::not_found("user"))?;
    // The last owner (or platform administrator) cannot be deleted away.
    for role in [roles::OWNER, roles::PLATFORM_ADMIN] {
        if roles::holders(&mut tx, role).await? == [id] {
            return Err(Problem::validation(
                "id",
                format!("this user is the last {role}; give the role to someone else first"),
            ));
        }
    }
    users::delete(&mut tx, id).await?;
    audit::record(
        &mut tx,
        &Entry::new(auth.caller.actor(), action::USER_DELETED)
            .target("user", id)
            .details(serde_json::json!({ "username": user.username })),
    )
    .await?;
    tx.commit().await?;
    Ok(no_content())
}

fn is_platforms(t: &TenantRecord) -> bool {
    t.slug.as_str() == PLATFORMS_SLUG
}

/// Give a user a role: a built-in role of the tenant (`owner`, `admin`,
/// `member`, `readonly`; at `_platforms`, `platform_admin` and
/// `platform_viewer`) or one of its custom roles.
#[utoipa::path(put, path = "/tenants/{slug}/users/{id}/roles/{role}", tag = "users",
    params(("slug" = String, Path), ("id" = Uuid, Path), ("role" = String, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("gatehouse" = ["gatehouse:users:write"])))]
async fn assign_role(
    auth: Authorized<UsersWrite>,
    State(state): State<ApiState>,
    Segments((_, id, role)): Segments<(String, Uuid, String)>,
) -> Result<Response, Problem> {
    let tenant = auth.tenant()?;
    let mut tx = state.db.tenant_tx(tenant.id).await?;
    if users::get(&mut tx, id).await?.is_none() {
        return Err(Problem::not_found("user"));
    }
    if roles::assign(&mut tx, is_platforms(tenant), id, &role).await? {
        audit::record(
            &mut tx,
            &Entry::new(auth.caller.actor(), action::ROLE_ASSIGNED)
                .target("user", id)
                .details(serde_json::json!({ "role": role })),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(no_content())
}

/// Take a role from a user. The last owner keeps theirs.
#[utoipa::path(delete, path = "/tenants/{slug}/users/{id}/roles/{role}", tag = "users",
    params(("slug" = String, Path), ("id" = Uuid, Path), ("role" = String, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("gatehouse" = ["gatehouse:users:write"])))]
async fn remove_role(
    auth: Authorized<UsersWrite>,
    State(state): State<ApiState>,
    Segments((_, id, role)): Segments<(String, Uuid, String)>,
) -> Result<Response, Problem> {
    let mut tx = state.db.tenant_tx(auth.tenant()?.id).await?;
    roles::remove(&mut tx, id, &role).await?;
    audit::record(
        &mut tx,
        &Entry::new(auth.caller.actor(), action::ROLE_REMOVED)
            .target("user", id)
            .details(serde_json::json!({ "role": role })),
    )
    .await?;
    tx.commit().await?;
    Ok(no_content())
}
