//! `POST {issuer}/token` (RFC 6749 §3.2): authenticate the client, run the
//! grant, answer JSON with `Cache-Control: no-store` (§5.1).

use axum::extract::{Extension, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use gatehouse_oidc::client_auth::{self, AssertionCheck, Presented};
use gatehouse_oidc::discovery::paths;
use gatehouse_oidc::error::OAuthError;
use gatehouse_oidc::grants::{self, Ctx, TokenParams};

use super::form::{oauth_error_response, Form};
use crate::state::AppState;
use crate::tenant::CurrentTenant;

/// Authenticates the client of a back-channel request inside its tenant.
/// `endpoint` is the path called, an audience a client assertion may name.
pub async fn authenticate(
    state: &AppState,
    current: &CurrentTenant,
    headers: &HeaderMap,
    form: &Form,
    endpoint: &str,
) -> Result<gatehouse_oidc::clients::Client, OAuthError> {
    let authorization = match headers.get(header::AUTHORIZATION) {
        Some(v) => Some(
            v.to_str()
                .map_err(|_| OAuthError::InvalidClient("client authentication failed".into()))?,
        ),
        None => None,
    };
    let presented = Presented::from_request(
        authorization,
        form.get("client_id"),
        form.get("client_secret"),
        (
            form.get("client_assertion_type"),
            form.get("client_assertion"),
        ),
    )?;
    let issuer = &current.provider.issuer;
    let check = AssertionCheck {
        tenant: current.provider.tenant.id,
        audiences: vec![
            issuer.clone(),
            format!("{issuer}{endpoint}"),
            format!("{issuer}{}", paths::TOKEN),
        ],
        kv: &state.kv,
        client_keys: &state.client_keys,
    };
    let found = match presented.client_id() {
        Some(id) => current
            .provider
            .client(&state.db, &id)
            .await
            .map_err(OAuthError::internal)?,
        None => None,
    };
    client_auth::authenticate(found.as_deref(), &presented, &check).await
}

pub async fn token(
    State(state): State<AppState>,
    Extension(current): Extension<CurrentTenant>,
    headers: HeaderMap,
    form: Form,
) -> Response {
    let result = async {
        let client = authenticate(&state, &current, &headers, &form, paths::TOKEN).await?;
        let params = TokenParams {
            grant_type: form.get("grant_type").map(str::to_owned),
            code: form.get("code").map(str::to_owned),
            redirect_uri: form.get("redirect_uri").map(str::to_owned),
            code_verifier: form.get("code_verifier").map(str::to_owned),
            refresh_token: form.get("refresh_token").map(str::to_owned),
            scope: form.get("scope").map(str::to_owned),
        };
        let ctx = Ctx {
            provider: &current.provider,
            db: &state.db,
            kv: &state.kv,
        };
        grants::exchange(ctx, &client, &params).await
    }
    .await;
    match result {
        Ok(body) => {
            let mut response = axum::Json(body).into_response();
            let h = response.headers_mut();
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            response
        }
        Err(e) => oauth_error_response(&e),
    }
}
