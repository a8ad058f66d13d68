//! `/tenants/{slug}/usage`: what a tenant holds and how much it is used.

use axum::extract::State;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{Authorized, ConfigRead};
use super::problem::Problem;
use super::ApiState;
use crate::usage::{self, Usage};

pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new().routes(routes!(get_usage))
}

/// A tenant's usage now: users (and monthly active users), clients, custom
/// roles, live refresh tokens, and sign-ins over the last day and 30 days
/// from its audit log.
#[utoipa::path(get, path = "/tenants/{slug}/usage", tag = "usage",
    params(("slug" = String, Path)),
    responses((status = 200, body = Usage), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("gatehouse" = ["gatehouse:config:read"])))]
async fn get_usage(
    auth: Authorized<ConfigRead>,
    State(state): State<ApiState>,
) -> Result<Json<Usage>, Problem> {
    let mut tx = state.db.tenant_tx(auth.tenant()?.id).await?;
    let usage = usage::of_tenant(&mut tx).await?;
    tx.commit().await?;
    Ok(Json(usage))
}
