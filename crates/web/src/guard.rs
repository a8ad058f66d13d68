//! Input no handler can use: the character U+0000, which PostgreSQL can
//! store in neither `text` nor `jsonb`. A request that carries it in its
//! path, its query or an `application/x-www-form-urlencoded` body gets a
//! clear 400 here, before any handler could pass it to the database and
//! fail with a 500. The management API (`/api/v1`) answers the same input
//! with its own problem documents.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::HttpError;

/// The largest form body read (sign-in and console forms are a few KiB).
pub const FORM_LIMIT: usize = 1 << 20;

const NUL_IN_INPUT: HttpError = HttpError {
    status: StatusCode::BAD_REQUEST,
    code: "invalid_request",
    description: "The request contains the character U+0000, which no parameter may hold",
};

const FORM_TOO_LARGE: HttpError = HttpError {
    status: StatusCode::PAYLOAD_TOO_LARGE,
    code: "invalid_request",
    description: "The form is too large",
};

/// Whether `raw` (a path, a query, a form body) encodes or holds U+0000.
fn holds_nul(raw: &[u8]) -> bool {
    raw.contains(&0) || raw.windows(3).any(|w| w == b"%00")
}

pub async fn reject_nul(req: Request, next: Next) -> Response {
    if crate::tenant::is_api_path(req.uri().path()) {
        return next.run(req).await;
    }
    let uri = req.uri();
    if holds_nul(uri.path().as_bytes()) || uri.query().is_some_and(|q| holds_nul(q.as_bytes())) {
        return NUL_IN_INPUT.into_response();
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, FORM_LIMIT).await else {
        return FORM_TOO_LARGE.into_response();
    };
    if holds_nul(&bytes) {
        return NUL_IN_INPUT.into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[cfg(test)]
mod tests {
    use super::holds_nul;

    #[test]
    fn nul_is_found_raw_or_percent_encoded() {
        assert!(holds_nul(b"username=a%00b"));
        assert!(holds_nul(b"username=a\0b"));
        assert!(!holds_nul(b"username=a%2500b&x=%0A"));
    }
}
