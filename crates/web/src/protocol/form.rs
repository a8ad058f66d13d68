//! Form bodies of the back-channel endpoints, read strictly: the content
//! type must be `application/x-www-form-urlencoded` (RFC 6749 §3.2) and no
//! parameter may appear twice ("Request and response parameters MUST NOT be
//! included more than once", RFC 6749 §3.1, §3.2). And the JSON error
//! responses of RFC 6749 §5.2.

use std::collections::HashMap;

use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use gatehouse_oidc::error::OAuthError;
use serde_json::json;

/// The parameters of a form body, each at most once.
#[derive(Debug, Default)]
pub struct Form(pub HashMap<String, String>);

impl Form {
    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str).filter(|v| !v.is_empty())
    }
}

const MAX_BODY: usize = 64 * 1024;

impl<S: Send + Sync> FromRequest<S> for Form {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let form_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                v.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        if !form_type {
            return Err(oauth_error_response(&OAuthError::InvalidRequest(
                "the body must be application/x-www-form-urlencoded".into(),
            )));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| {
                oauth_error_response(&OAuthError::InvalidRequest("unreadable body".into()))
            })?;
        if bytes.len() > MAX_BODY {
            return Err(oauth_error_response(&OAuthError::InvalidRequest(
                "body too large".into(),
            )));
        }
        let mut map = HashMap::new();
        for (k, v) in url::form_urlencoded::parse(&bytes) {
            if map.insert(k.clone().into_owned(), v.into_owned()).is_some() {
                return Err(oauth_error_response(&OAuthError::InvalidRequest(format!(
                    "parameter {} repeated",
                    k.chars().take(40).collect::<String>()
                ))));
            }
        }
        Ok(Form(map))
    }
}

/// RFC 6749 §5.2: JSON body; 400, except invalid_client (401 with
/// WWW-Authenticate) and server_error (500); never cached.
pub fn oauth_error_response(e: &OAuthError) -> Response {
    let status = match e {
        OAuthError::InvalidClient(_) | OAuthError::InvalidToken(_) => StatusCode::UNAUTHORIZED,
        OAuthError::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    let body = json!({ "error": e.code(), "error_description": e.description() });
    let mut response = (status, axum::Json(body)).into_response();
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    if matches!(e, OAuthError::InvalidClient(_)) {
        h.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"gatehouse\""),
        );
    }
    response
}
