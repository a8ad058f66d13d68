//! `/tenants/{slug}/sessions`: every live browser session of a tenant,
//! paged; `/tenants/{slug}/users/{id}/sessions`: a user's, listed and
//! ended. Ending a session also revokes the tokens it issued, as
//! RP-initiated logout does (refresh tokens granted `offline_access` stay:
//! OpenID Connect Core §11 means them to outlive the session); ending all of
//! them moves the user's session epoch on, so no node accepts an older
//! session, and revokes every refresh token of the user.

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use gatehouse_core::audit::{self, action, Entry};
use gatehouse_oidc::sessions::{self, Session as Stored};
use gatehouse_oidc::{refresh, users};
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::auth::{provider, Authorized, SessionsWrite, UsersRead};
use super::problem::Problem;
use super::{no_content, ApiState, Page, PageQuery, Params, Segments};

pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list_tenant))
        .routes(routes!(list, end_all))
        .routes(routes!(end_one))
}

/// A browser session of a user.
#[derive(Debug, Serialize, ToSchema)]
pub struct Session {
    /// The session id, as the `sid` claim of the ID tokens issued in it.
    pub sid: String,
    /// When the user signed in.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// How (RFC 8176 values: `pwd`, `otp`, `hwk`, `mfa`, …).
    pub amr: Vec<String>,
    /// The browser's User-Agent at sign-in (at most 256 characters).
    pub user_agent: String,
}

impl Session {
    fn of(s: Stored) -> Self {
        Self {
            started_at: OffsetDateTime::from_unix_timestamp(s.auth_time)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
            sid: s.sid,
            amr: s.amr,
            user_agent: s.user_agent,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionList {
    /// Newest first.
    pub items: Vec<Session>,
}

/// A browser session in the tenant-wide list.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantSession {
    /// The session id, as the `sid` claim of the ID tokens issued in it.
    pub sid: String,
    /// Whose session it is.
    pub user_id: Uuid,
    pub username: String,
    /// When the user signed in.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// When the session ends unless ended before (the tenant's
    /// `security.session_ttl_secs` after it began).
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// How (RFC 8176 values).
    pub amr: Vec<String>,
    /// The browser's User-Agent at sign-in (at most 256 characters).
    pub user_agent: String,
}

/// Every live browser session of the tenant, latest first (by expiry,
/// which follows sign-in). Keyset-paged; a page may hold fewer than
/// `limit` sessions when some ended while it was read. End one with
/// `DELETE /tenants/{slug}/users/{user_id}/sessions/{sid}`.
#[utoipa::path(get, path = "/tenants/{slug}/sessions", tag = "sessions",
    params(("slug" = String, Path), PageQuery),
    responses((status = 200, body = Page<TenantSession>), (status = 422, body = Problem),
              (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)),
    security(("gatehouse" = ["gatehouse:users:read"])))]
async fn list_tenant(
    auth: Authorized<UsersRead>,
    State(state): State<ApiState>,
    Params(page): Params<PageQuery>,
) -> Result<Json<Page<TenantSession>>, Problem> {
    let tenant = auth.tenant()?;
    let limit = page.limit()?;
    let after = match page.after.as_deref() {
        None => None,
        Some(a) => Some(sessions::parse_cursor(a).ok_or_else(|| {
            Problem::validation("after", "the page cursor is not one this server issued")
        })?),
    };
    let (live, next) =
        sessions::list_tenant_live(&state.db, &state.kv, tenant.id, after, limit as usize)
            .await
            .map_err(Problem::internal)?;
    let at = |t| OffsetDateTime::from_unix_timestamp(t).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let items = live
        .into_iter()
        .map(|(l, username)| TenantSession {
            started_at: at(l.session.auth_time),
            expires_at: at(l.expires_at),
            username,
            user_id: l.session.user_id,
            sid: l.session.sid,
            amr: l.session.amr,
            user_agent: l.session.user_agent,
        })
        .collect();
    Ok(Json(Page { items, next }))
}

type UserPath = (String, Uuid);

/// A user's live browser sessions, newest first. A user has few; the list
/// is not paged.
#[utoipa::path(get, path = "/tenants/{slug}/users/{id}/sessions", tag = "sessions",
    params(("slug" = String, Path), ("id" = Uuid, Path)),
    responses((status = 200, body = SessionList), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("gatehouse" = ["gatehouse:users:read"])))]
async fn list(
    auth: Authorized<UsersRead>,
    State(state): State<ApiState>,
    Segments((_, id)): Segments<UserPath>,
) -> Result<Json<SessionList>, Problem> {
    let tenant = auth.tenant()?;
    let mut tx = state.db.tenant_tx(tenant.id).await?;
    let user = users::claims(&mut tx, id)
        .await?
        .ok_or_else(|| Problem::not_found("user"))?;
    tx.commit().await?;
    let items = sessions::list(&state.kv, tenant.id, id)
        .await
        .map_err(Problem::internal)?
        .into_iter()
        // Sessions of an earlier epoch were ended; their records expire.
        .filter(|s| s.epoch == user.session_epoch)
        .map(Session::of)
        .collect();
    Ok(Json(SessionList { items }))
}

/// End one session of a user and revoke the tokens issued in it.
#[utoipa::path(delete, path = "/tenants/{slug}/users/{id}/sessions/{sid}", tag = "sessions",
    params(("slug" = String, Path), ("id" = Uuid, Path), ("sid" = String, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)),
    security(("gatehouse" = ["gatehouse:sessions:write"])))]
async fn end_one(
    auth: Authorized<SessionsWrite>,
    State(state): State<ApiState>,
    Segments((_, id, sid)): Segments<(String, Uuid, String)>,
) -> Result<Response, Problem> {
    let tenant = auth.tenant()?.clone();
    let ended = sessions::end_one(&state.kv, tenant.id, id, &sid)
        .await
        .map_err(Problem::internal)?
        .ok_or_else(|| Problem::not_found("session"))?;
    let provider = provider(&state, tenant.clone()).await?;
    sessions::end_tokens(&state.db, &state.kv, &provider, &ended.sid)
        .await
        .map_err(Problem::internal)?;
    let mut tx = state.db.tenant_tx(tenant.id).await?;
    audit::record(
        &mut tx,
        &Entry::new(auth.caller.actor(), action::SESSIONS_REVOKED)
            .target("user", id)
            .details(serde_json::json!({ "sid": ended.sid })),
    )
    .await?;
    tx.commit().await?;
    Ok(no_content())
}

/// End every session of a user and revoke all their refresh tokens
/// (`offline_access` grants included) and the access tokens of their
/// sessions.
#[utoipa::path(delete, path = "/tenants/{slug}/users/{id}/sessions", tag = "sessions",
    params(("slug" = String, Path), ("id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)),
    security(("gatehouse" = ["gatehouse:sessions:write"])))]
async fn end_all(
    auth: Authorized<SessionsWrite>,
    State(state): State<ApiState>,
    Segments((_, id)): Segments<UserPath>,
) -> Result<Response, Problem> {
    let tenant = auth.tenant()?.clone();
    let live = sessions::list(&state.kv, tenant.id, id)
        .await
        .map_err(Problem::internal)?
        .len();
    // The epoch first: from its commit on, no node accepts the sessions,
    // whatever happens to the records after.
    let mut tx = state.db.tenant_tx(tenant.id).await?;
    if users::get(&mut tx, id).await?.is_none() {
        return Err(Problem::not_found("user"));
    }
    users::end_sessions(&mut tx, id).await?;
    let revoked = refresh::revoke_user(&mut tx, id)
        .await
        .map_err(Problem::internal)?;
    audit::record(
        &mut tx,
        &Entry::new(auth.caller.actor(), action::SESSIONS_REVOKED)
            .target("user", id)
            .details(serde_json::json!({ "sessions": live, "refresh_tokens": revoked })),
    )
    .await?;
    tx.commit().await?;
    let provider = provider(&state, tenant).await?;
    sessions::end_all(&state.kv, &provider, id)
        .await
        .map_err(Problem::internal)?;
    Ok(no_content())
}
