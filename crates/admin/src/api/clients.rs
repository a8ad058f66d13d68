//! `/tenants/{slug}/clients`: a tenant's OAuth clients. A secret is shown
//! once, when it is made (create, rotate); only its hash is stored.

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use gatehouse_core::audit::{self, action, Entry};
use gatehouse_core::events::Change;
use gatehouse_oidc::clients::{self, Client as StoredClient, NewClient};
use gatehouse_tenancy::TenantRecord;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{Authorized, ClientsRead, ClientsWrite};
use super::problem::Problem;
use super::{created, no_content, ApiState, Body, Page, PageQuery, Params, Segments};

pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, update, delete))
        .routes(routes!(rotate_secret))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Client {
    pub client_id: String,
    pub name: String,
    pub public: bool,
    /// First-party clients skip the consent page.
    pub first_party: bool,
    /// `client_secret_basic`, `client_secret_post`, `private_key_jwt` or `none`.
    pub auth_method: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    /// Scopes it may request with client_credentials.
    pub scopes: Vec<String>,
    pub id_token_signed_response_alg: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// A disabled client authenticates nowhere and its access tokens stop
    /// verifying; enabling it restores it as it was.
    pub disabled: bool,
    /// Only in the answer that made it (create); never again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

impl Client {
    fn of(c: StoredClient, secret: Option<String>) -> Self {
        Self {
            client_id: c.client_id,
            name: c.name,
            public: c.public,
            first_party: c.first_party,
            auth_method: c.auth_method,
            redirect_uris: c.redirect_uris,
            post_logout_redirect_uris: c.post_logout_redirect_uris,
            grant_types: c.grant_types,
            scopes: c.scopes,
            id_token_signed_response_alg: c.id_token_signed_response_alg,
            jwks: c.jwks,
            jwks_uri: c.jwks_uri,
            created_at: c.created_at,
            disabled: c.disabled,
            client_secret: secret,
        }
    }
}

/// Tells every node to drop its cached copy of the tenant's clients.
async fn announce(state: &ApiState, tenant: &TenantRecord) {
    state
        .tenancy
        .tenants
        .announce(tenant, Change::Clients)
        .await;
}

/// A tenant's clients by client_id, a page at a time.
#[utoipa::path(get, path = "/tenants/{slug}/clients", tag = "clients",
    params(("slug" = String, Path), PageQuery),
    responses((status = 200, body = Page<Client>), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("gatehouse" = ["gatehouse:clients:read"])))]
async fn list(
    auth: Authorized<ClientsRead>,
    State(state): State<ApiState>,
    Params(page): Params<PageQuery>,
) -> Result<Json<Page<Client>>, Problem> {
    let limit = page.limit()?;
    let mut tx = state.db.tenant_tx(auth.tenant()?.id).await?;
    let mut rows =
        clients::list_after(&mut tx, page.after.as_deref(), i64::from(limit) + 1).await?;
    tx.commit().await?;
    let next = (rows.len() > limit as usize).then(|| rows[limit as usize - 1].client_id.clone());
    rows.truncate(limit as usize);
    Ok(Json(Page {
        items: rows.into_iter().map(|c| Client::of(c, None)).collect(),
        next,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClientBody {
    pub name: String,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// A public client has no secret and must use PKCE.
    #[serde(default)]
    pub public: bool,
    #[serde(default)]
    pub first_party: bool,
    /// Default: `client_secret_basic` (confidential) or `none` (public).
    pub auth_method: Option<String>,
    /// Default: `authorization_code` and `refresh_token`.
    #[serde(default)]
    pub grant_types: Vec<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// For `private_key_jwt`: the client's JWK Set…
    pub jwks: Option<serde_json::Value>,
    /// …or where it publishes it (https).
    pub jwks_uri: Option<String>,
    /// `RS256` (default), `ES256` or `EdDSA`.
    pub id_token_signed_response_alg: Option<String>,
}

/// Register a client. A confidential client's secret is in this answer
/// and never again.
#[utoipa::path(post, path = "/tenants/{slug}/clients", tag = "clients",
    params(("slug" = String, Path)),
    request_body = NewClientBody,
    responses((status = 201, body = Client), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("gatehouse" = ["gatehouse:clients:write"])))]
async fn create(
    auth: Authorized<ClientsWrite>,
    State(state): State<ApiState>,
    Body(new): Body<NewClientBody>,
) -> Result<Response, Problem> {
    let mut tx = state.db.tenant_tx(auth.tenant()?.id).await?;
    let (mut client, secret) = clients::create(
        &mut tx,
        NewClient {
            name: new.name,
            redirect_uris: new.redirect_uris,
            post_logout_redirect_uris: new.post_logout_redirect_uris,
            public: new.public,
            first_party: new.first_party,
            allow_http: state.allow_http,
            auth_method: new.auth_method,
            grant_types: new.grant_types,
            scopes: new.scopes,
            jwks: new.jwks,
            jwks_uri: new.jwks_uri,
        },
    )
    .await?;
    if let Some(alg) = &new.id_token_signed_response_alg {
        clients::set_id_token_alg(&mut tx, &client.client_id, alg).await?;
        client.id_token_signed_response_alg = alg.clone();
    }
    audit::record(
        &mut tx,
        &Entry::new(auth.caller.actor(), action::CLIENT_CREATED)
            .target("client", &client.client_id)
            .details(serde_json::json!({
                "name": client.name,
                "redirect_uris": client.redirect_uris,
                "grant_types": client.grant_types,
                "scopes": client.scopes,
            })),
    )
    .await?;
    tx.commit().await?;
    Ok(created(Client::of(client, secret)))
}

/// One client (never its secret).
#[utoipa::path(get, path = "/tenants/{slug}/clients/{client_id}", tag = "clients",
    params(("slug" = String, Path), ("client_id" = String, Path)),
    responses((status = 200, body = Client), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)),
    security(("gatehouse" = ["gatehouse:clients:read"])))]
async fn get_one(
    auth: Authorized<ClientsRead>,
    State(state): State<ApiState>,
    Segments((_, client_id)): Segments<(String, String)>,
) -> Result<Json<Client>, Problem> {
    let mut tx = state.db.tenant_tx(auth.tenant()?.id).await?;
    let client = clients::get(&mut tx, &client_id)
        .await?
        .ok_or_else(|| Problem::not_found("client"))?;
    tx.commit().await?;
    Ok(Json(Client::of(client, None)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientChange {
    /// Disable (true) or enable (false) the client.
    pub disabled: Option<bool>,
    /// Replaces the redirect URIs (checked as at registration; at least one
    /// for a client of the authorization code grant).
    pub redirect_uris: Option<Vec<String>>,
    /// Replaces the post-logout redirect URIs.
    pub post_logout_redirect_uris: Option<Vec<String>>,
}

/// Change a client: disable or enable it, replace its redirect URIs. Every
/// node drops its cached copy at once.
#[utoipa::path(patch, path = "/tenants/{slug}/clients/{client_id}", tag = "clients",
    params(("slug" = String, Path), ("client_id" = String, Path)),
    request_body = ClientChange,
    responses((status = 200, body = Client), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("gatehouse" = ["gatehouse:clients:write"])))]
async fn update(
    auth: Authorized<ClientsWrite>,
    State(state): State<ApiState>,
    Segments((_, client_id)): Segments<(String, String)>,
    Body(change): Body<ClientChange>,
) -> Result<Json<Client>, Problem> {
    let tenant = auth.tenant()?;
    let mut tx = state.db.tenant_tx(tenant.id).await?;
    let before = clients::get(&mut tx, &client_id)
        .await?
        .ok_or_else(|| Problem::not_found("client"))?;
    let mut details = serde_json::Map::new();
    if change.redirect_uris.is_some() || change.post_logout_redirect_uris.is_some() {
        let redirect = change
            .redirect_uris
            .clone()
            .unwrap_or_else(|| before.redirect_uris.clone());
        let post_logout = change
            .post_logout_redirect_uris
            .clone()
            .unwrap_or_else(|| before.post_logout_redirect_uris.clone());
        clients::set_redirect_uris(
            &mut tx,
            &client_id,
            &redirect,
            &post_logout,
            state.allow_http,
        )
        .await?;
        details.insert(
            "redirect_uris".into(),
            serde_json::json!({ "before": before.redirect_uris, "after": redirect }),
        );
        details.insert(
            "post_logout_redirect_uris".into(),
            serde_json::json!({ "before": before.post_logout_redirect_uris, "after": post_logout }),
        );
    }
    if let Some(disabled) = change.disabled {
        clients::set_disabled(&mut tx, &client_id, disabled).await?;
        details.insert(
            "disabled".into(),
            serde_json::json!({ "before": before.disabled, "after": disabled }),
        );
    }
    if !details.is_empty() {
        audit::record(
            &mut tx,
            &Entry::new(auth.caller.actor(), action::CLIENT_UPDATED)
                .target("client", &client_id)
                .details(serde_json::Value::Object(details)),
        )
        .await?;
    }
    let client = clients::get(&mut tx, &client_id)
        .await?
        .ok_or_else(|| Problem::not_found("client"))?;
    tx.commit().await?;
    announce(&state, tenant).await;
    Ok(Json(Client::of(client, None)))
}

/// Delete a client: its tokens stop authenticating it at once.
#[utoipa::path(delete, path = "/tenants/{slug}/clients/{client_id}", tag = "clients",
    params(("slug" = String, Path), ("client_id" = String, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)),
    security(("gatehouse" = ["gatehouse:clients:write"])))]
async fn delete(
    auth: Authorized<ClientsWrite>,
    State(state): State<ApiState>,
    Segments((_, client_id)): Segments<(String, String)>,
) -> Result<Response, Problem> {
    let tenant = auth.tenant()?;
    let mut tx = state.db.tenant_tx(tenant.id).await?;
    clients::delete(&mut tx, &client_id).await?;
    audit::record(
        &mut tx,
        &Entry::new(auth.caller.actor(), action::CLIENT_DELETED).target("client", &client_id),
    )
    .await?;
    tx.commit().await?;
    announce(&state, tenant).await;
    Ok(no_content())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NewSecret {
    pub client_id: String,
    /// Shown once; the previous secret stops working now.
    pub client_secret: String,
}

/// Replace a confidential client's secret.
#[utoipa::path(post, path = "/tenants/{slug}/clients/{client_id}/secret", tag = "clients",
    params(("slug" = String, Path), ("client_id" = String, Path)),
    responses((status = 200, body = NewSecret), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)),
    security(("gatehouse" = ["gatehouse:clients:write"])))]
async fn rotate_secret(
    auth: Authorized<ClientsWrite>,
    State(state): State<ApiState>,
    Segments((_, client_id)): Segments<(String, String)>,
) -> Result<Json<NewSecret>, Problem> {
    let tenant = auth.tenant()?;
    let mut tx = state.db.tenant_tx(tenant.id).await?;
    let secret = clients::rotate_secret(&mut tx, &client_id).await?;
    audit::record(
        &mut tx,
        &Entry::new(auth.caller.actor(), action::CLIENT_SECRET_ROTATED)
            .target("client", &client_id),
    )
    .await?;
    tx.commit().await?;
    announce(&state, tenant).await;
    Ok(Json(NewSecret {
        client_id,
        client_secret: secret,
    }))
}
