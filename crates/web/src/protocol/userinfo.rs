//! `GET|POST {issuer}/userinfo` (OpenID Connect Core §5.3): the claims of
//! the access token's user, by the scopes it carries (§5.4). The token comes
//! in the Authorization header (RFC 6750 §2.1) or, on POST, in the form body
//! (§2.2), never both (§2). Errors per RFC 6750 §3.

use axum::extract::{Extension, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use gatehouse_oidc::error::OAuthError;
use gatehouse_oidc::{tokens, users};
use uuid::Uuid;

use crate::state::AppState;
use crate::tenant::CurrentTenant;

enum Failure {
    /// No token presented: 401 with a bare challenge (RFC 6750 §3.1).
    Missing,
    Invalid(&'static str),
    Request(&'static str),
    InsufficientScope,
    Server,
}

fn respond(f: Failure) -> Response {
    let (status, challenge) = match f {
        Failure::Missing => (
            StatusCode::UNAUTHORIZED,
            "Bearer realm=\"gatehouse\"".to_owned(),
        ),
        Failure::Invalid(d) => (
            StatusCode::UNAUTHORIZED,
            format!(
                "Bearer realm=\"gatehouse\", error=\"invalid_token\", error_description=\"{d}\""
            ),
        ),
        Failure::Request(d) => (
            StatusCode::BAD_REQUEST,
            format!(
                "Bearer realm=\"gatehouse\", error=\"invalid_request\", error_description=\"{d}\""
            ),
        ),
        Failure::InsufficientScope => (
            StatusCode::FORBIDDEN,
            "Bearer realm=\"gatehouse\", error=\"insufficient_scope\", scope=\"openid\"".to_owned(),
        ),
        Failure::Server => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let mut response = status.into_response();
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn bearer(headers: &HeaderMap) -> Result<Option<String>, Failure> {
    let Some(v) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let v = v
        .to_str()
        .map_err(|_| Failure::Request("malformed Authorization header"))?;
    match v.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim().to_owned()))
        }
        _ => Err(Failure::Request(
            "the Authorization header must be a Bearer token",
        )),
    }
}

pub async fn userinfo(
    State(state): State<AppState>,
    Extension(current): Extension<CurrentTenant>,
    headers: HeaderMap,
) -> Response {
    match bearer(&headers) {
        Ok(Some(token)) => answer(&state, &current, &token).await,
        Ok(None) => respond(Failure::Missing),
        Err(f) => respond(f),
    }
}

pub async fn userinfo_post(
    State(state): State<AppState>,
    Extension(current): Extension<CurrentTenant>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let header_token = match bearer(&headers) {
        Ok(t) => t,
        Err(f) => return respond(f),
    };
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let body_token = if is_form {
        let mut found = None;
        for (k, v) in url::form_urlencoded::parse(&body) {
            if k == "access_token" {
                if found.is_some() {
                    return respond(Failure::Request("access_token repeated"));
                }
                found = Some(v.into_owned());
            }
        }
        found
    } else {
        None
    };
    match (header_token, body_token) {
        (Some(_), Some(_)) => respond(Failure::Request("use exactly one way to present the token")),
        (Some(t), None) | (None, Some(t)) => answer(&state, &current, &t).await,
        (None, None) => respond(Failure::Missing),
    }
}

async fn answer(state: &AppState, current: &CurrentTenant, token: &str) -> Response {
    let p = &current.provider;
    let claims = match tokens::verify_access_token(&state.kv, &state.db, p, token).await {
        Ok(c) => c,
        Err(OAuthError::ServerError) => return respond(Failure::Server),
        Err(_) => {
            return respond(Failure::Invalid(
                "the access token is invalid, expired or revoked",
            ))
        }
    };
    let scopes: Vec<&str> = claims.scope.split(' ').collect();
    if !scopes.contains(&"openid") {
        return respond(Failure::InsufficientScope);
    }
    // A client_credentials token has the client, not a user, as subject.
    let user_id = Uuid::parse_str(&claims.sub)
        .ok()
        .filter(|_| claims.sub != claims.client_id);
    let Some(user_id) = user_id else {
        return respond(Failure::Invalid("the access token has no user"));
    };
    let user = async {
        let mut tx = state
            .db
            .tenant_tx(p.tenant.id)
            .await
            .map_err(OAuthError::internal)?;
        let user = users::claims(&mut tx, user_id)
            .await
            .map_err(OAuthError::internal)?;
        let roles = if scopes.contains(&"roles") && user.is_some() {
            Some(
                users::custom_roles(&mut tx, user_id)
                    .await
                    .map_err(OAuthError::internal)?,
            )
        } else {
            None
        };
        tx.commit().await.map_err(OAuthError::internal)?;
        Ok::<_, OAuthError>(user.map(|u| (u, roles)))
    }
    .await;
    match user {
        Ok(Some((u, roles))) if u.active() => {
            let mut claims = users::released(&u, &scopes);
            if let Some(roles) = roles {
                claims.insert("roles".into(), serde_json::json!(roles));
            }
            let mut response = axum::Json(claims).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Ok(_) => respond(Failure::Invalid("the user is no longer active")),
        Err(_) => respond(Failure::Server),
    }
}
