//! `POST {issuer}/introspect` (RFC 7662) and `POST {issuer}/revoke`
//! (RFC 7009). Both require client authentication. Introspection answers
//! `{"active": false}` for anything that is not a live token of this tenant
//! (expired, revoked, malformed, or another tenant's); revocation answers
//! 200 whether or not the token was known (RFC 7009 §2.2).

use axum::extract::{Extension, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use gatehouse_core::audit::{self, action, Actor, Entry};
use gatehouse_oidc::discovery::paths;
use gatehouse_oidc::error::OAuthError;
use gatehouse_oidc::{refresh, tokens};
use serde_json::{json, Value};

use super::form::{oauth_error_response, Form};
use super::token::authenticate;
use crate::state::AppState;
use crate::tenant::CurrentTenant;

/// The claims of a valid access token; None for anything that is not one.
/// A store failure is an error, not an inactive token: answering "inactive"
/// or "revoked" while the revocation list cannot be read would be a lie.
async fn verified(
    state: &AppState,
    p: &gatehouse_oidc::provider::TenantProvider,
    token: &str,
) -> Result<Option<tokens::AccessClaims>, OAuthError> {
    match tokens::verify_access_token(&state.kv, &state.db, p, token).await {
        Ok(c) => Ok(Some(c)),
        Err(OAuthError::ServerError) => Err(OAuthError::ServerError),
        Err(_) => Ok(None),
    }
}

fn no_store(mut r: Response) -> Response {
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// RFC 7662 §2.1: `token` required, `token_type_hint` optional (a hint
/// only: both kinds are tried).
pub async fn introspect(
    State(state): State<AppState>,
    Extension(current): Extension<CurrentTenant>,
    headers: HeaderMap,
    form: Form,
) -> Response {
    let result = async {
        let client = authenticate(&state, &current, &headers, &form, paths::INTROSPECT).await?;
        // RFC 7662 §2.1: the caller must be authorized to introspect; a
        // public client proves nothing about itself.
        if client.public {
            return Err(OAuthError::InvalidClient("public clients may not introspect tokens".into()));
        }
        let token = form.get("token").ok_or_else(|| OAuthError::InvalidRequest("token is required".into()))?;
        let p = &current.provider;
        if let Some(c) = verified(&state, p, token).await? {
            return Ok(json!({
                "active": true, "scope": c.scope, "client_id": c.client_id, "sub": c.sub,
                "exp": c.exp, "iat": c.iat, "iss": c.iss, "aud": c.aud, "jti": c.jti, "token_type": "Bearer",
            }));
        }
        let mut tx = state.db.tenant_tx(p.tenant.id).await.map_err(OAuthError::internal)?;
        let found = refresh::find(&mut tx, token).await?;
        tx.commit().await.map_err(OAuthError::internal)?;
        Ok(match found {
            // A refresh token is only ever shown to the client it was issued to.
            Some(f) if f.is_active() && f.grant.client_id == client.client_id => json!({
                "active": true, "scope": f.grant.scope, "client_id": f.grant.client_id,
                "sub": f.grant.user_id.to_string(), "exp": f.expires_at.unix_timestamp(),
                "iss": p.issuer, "token_type": "refresh_token",
            }),
            _ => json!({ "active": false }),
        })
    }
    .await;
    match result {
        Ok(body) => no_store(axum::Json::<Value>(body).into_response()),
        Err(e) => oauth_error_response(&e),
    }
}

/// RFC 7009 §2.1: a refresh token revokes its whole family and every access
/// token issued under the same grant; an access token is remembered as
/// revoked until it expires. Only the client the token was issued to may revoke it.
pub async fn revoke(
    State(state): State<AppState>,
    Extension(current): Extension<CurrentTenant>,
    headers: HeaderMap,
    form: Form,
) -> Response {
    let result = async {
        let client = authenticate(&state, &current, &headers, &form, paths::REVOKE).await?;
        let token = form
            .get("token")
            .ok_or_else(|| OAuthError::InvalidRequest("token is required".into()))?;
        let p = &current.provider;
        let audit = |token_type: &str, subject: String| {
            Entry::new(Actor::client(&client.client_id), action::TOKEN_REVOKED)
                .target("subject", subject)
                .details(json!({ "token_type": token_type }))
        };
        if let Some(c) = verified(&state, p, token).await? {
            if c.client_id == client.client_id {
                tokens::revoke_access_token(&state.kv, p, &c).await?;
                let mut tx = state
                    .db
                    .tenant_tx(p.tenant.id)
                    .await
                    .map_err(OAuthError::internal)?;
                audit::record(&mut tx, &audit("access_token", c.sub))
                    .await
                    .map_err(OAuthError::internal)?;
                tx.commit().await.map_err(OAuthError::internal)?;
            }
            return Ok(());
        }
        let mut tx = state
            .db
            .tenant_tx(p.tenant.id)
            .await
            .map_err(OAuthError::internal)?;
        if let Some(f) = refresh::find(&mut tx, token).await? {
            if f.grant.client_id == client.client_id {
                refresh::revoke_family(&mut tx, f.grant.family_id).await?;
                audit::record(
                    &mut tx,
                    &audit("refresh_token", f.grant.user_id.to_string()),
                )
                .await
                .map_err(OAuthError::internal)?;
                tx.commit().await.map_err(OAuthError::internal)?;
                // §2.1: the access tokens of the same grant go too.
                return tokens::revoke_grant(&state.kv, p, f.grant.family_id).await;
            }
        }
        tx.commit().await.map_err(OAuthError::internal)?;
        Ok::<_, OAuthError>(())
    }
    .await;
    match result {
        Ok(()) => no_store(StatusCode::OK.into_response()),
        Err(e) => oauth_error_response(&e),
    }
}
