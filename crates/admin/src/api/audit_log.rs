//! `/tenants/{slug}/audit`: a tenant's audit log, newest first.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::auth::{AuditRead, Authorized};
use super::problem::Problem;
use super::{ApiState, Page, Params};
use crate::audit::{self, Filter};

pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new().routes(routes!(list))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEvent {
    pub id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// `user`, `operator`, `client`, `system` or `anonymous`.
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub actor_name: Option<String>,
    /// E.g. `login.failed`, `client.created`, `keys.rotated`.
    pub action: String,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    pub ip: Option<String>,
    /// What changed; secrets are masked.
    pub details: serde_json::Value,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Events at or after this instant (RFC 3339).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub since: Option<OffsetDateTime>,
    /// Events before this instant (RFC 3339).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub until: Option<OffsetDateTime>,
    /// The actor's id: a user id or a client id.
    pub actor: Option<String>,
    /// An action, or a prefix ending in `.` (`login.`).
    pub action: Option<String>,
    /// 1 to 100, default 25.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// The `next` of the previous page.
    pub after: Option<String>,
}

/// The tenant's audit log, newest first, filtered.
#[utoipa::path(get, path = "/tenants/{slug}/audit", tag = "audit",
    params(("slug" = String, Path), AuditQuery),
    responses((status = 200, body = Page<AuditEvent>), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("gatehouse" = ["gatehouse:audit:read"])))]
async fn list(
    auth: Authorized<AuditRead>,
    State(state): State<ApiState>,
    Params(q): Params<AuditQuery>,
) -> Result<Json<Page<AuditEvent>>, Problem> {
    let filter = Filter {
        since: q.since,
        until: q.until,
        actor: q.actor,
        action: q.action,
        after: q.after,
        limit: Some(q.limit.unwrap_or(audit::DEFAULT_LIMIT)),
    };
    let mut tx = state.db.tenant_tx(auth.tenant()?.id).await?;
    let page = audit::list(&mut tx, &filter).await?;
    tx.commit().await?;
    Ok(Json(Page {
        items: page
            .items
            .into_iter()
            .map(|e| AuditEvent {
                id: e.id,
                at: e.at,
                actor_kind: e.actor_kind,
                actor_id: e.actor_id,
                actor_name: e.actor_name,
                action: e.action,
                target_kind: e.target_kind,
                target_id: e.target_id,
                ip: e.ip,
                details: e.details,
            })
            .collect(),
        next: page.next,
    }))
}
