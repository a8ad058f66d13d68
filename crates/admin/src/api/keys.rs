//! `/tenants/{slug}/keys`: a tenant's signing keys (never the private
//! parts) and rotation.

use axum::extract::State;
use axum::Json;
use gatehouse_oidc::keys::{self, KeyInfo};
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{Authorized, ConfigRead, KeysWrite};
use super::problem::Problem;
use super::ApiState;

pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(rotate))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Key {
    /// The RFC 7638 thumbprint.
    pub kid: String,
    /// `RS256`, `ES256` or `EdDSA`.
    pub alg: String,
    /// `next` (published, not signing yet), `active`, `retired` (published
    /// until its tokens expire) or `removed`.
    pub state: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub activated_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub retired_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub remove_after: Option<OffsetDateTime>,
}

impl From<KeyInfo> for Key {
    fn from(k: KeyInfo) -> Self {
        Self {
            kid: k.kid,
            alg: k.alg,
            state: serde_json::to_value(k.state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            created_at: k.created_at,
            activated_at: k.activated_at,
            retired_at: k.retired_at,
            remove_after: k.remove_after,
        }
    }
}

async fn keys_of(state: &ApiState, tenant: gatehouse_core::TenantId) -> Result<Vec<Key>, Problem> {
    let mut tx = state.db.tenant_tx(tenant).await?;
    let list = keys::list(&mut tx).await.map_err(Problem::internal)?;
    tx.commit().await?;
    Ok(list.into_iter().map(Key::from).collect())
}

/// The tenant's keys, by algorithm: active, next, then older.
#[utoipa::path(get, path = "/tenants/{slug}/keys", tag = "keys",
    params(("slug" = String, Path)),
    responses((status = 200, body = Vec<Key>), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)),
    security(("gatehouse" = ["gatehouse:config:read"])))]
async fn list(
    auth: Authorized<ConfigRead>,
    State(state): State<ApiState>,
) -> Result<Json<Vec<Key>>, Problem> {
    Ok(Json(keys_of(&state, auth.tenant()?.id).await?))
}

/// Rotate now: the next keys sign, the active ones retire (published
/// until their tokens expire), new next keys are published. Every node
/// serves the new key set within a second.
#[utoipa::path(post, path = "/tenants/{slug}/keys/rotate", tag = "keys",
    params(("slug" = String, Path)),
    responses((status = 200, body = Vec<Key>), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)),
    security(("gatehouse" = ["gatehouse:keys:write"])))]
async fn rotate(
    auth: Authorized<KeysWrite>,
    State(state): State<ApiState>,
) -> Result<Json<Vec<Key>>, Problem> {
    let tenant = auth.tenant()?;
    state
        .rotator
        .rotate_by(tenant, auth.caller.actor())
        .await
        .map_err(Problem::internal)?;
    Ok(Json(keys_of(&state, tenant.id).await?))
}
