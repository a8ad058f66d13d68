//! Error responses of the HTTP layer outside the protocol endpoints. One
//! JSON shape, `{"error", "error_description"}` as in OAuth (RFC 6749 §5.2),
//! so clients parse one format. Internal detail never reaches the client.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, Serialize)]
struct Body {
    error: &'static str,
    error_description: &'static str,
}

/// An HTTP error with a stable code and a fixed, safe description.
#[derive(Debug, Clone, Copy)]
pub struct HttpError {
    pub status: StatusCode,
    pub code: &'static str,
    pub description: &'static str,
}

impl HttpError {
    /// The one "not found" answer: unknown tenant and unknown path alike,
    /// so a miss never tells which it was.
    pub const NOT_FOUND: Self = Self {
        status: StatusCode::NOT_FOUND,
        code: "not_found",
        description: "Not found",
    };
    pub const INVALID_SLUG: Self = Self {
        status: StatusCode::BAD_REQUEST,
        code: "invalid_request",
        description: "Invalid tenant slug",
    };
    pub const INVALID_HOST: Self = Self {
        status: StatusCode::BAD_REQUEST,
        code: "invalid_request",
        description: "Invalid Host header",
    };
    pub const UNRESOLVED: Self = Self {
        status: StatusCode::BAD_REQUEST,
        code: "invalid_request",
        description: "The request does not name a tenant",
    };
    pub const SUSPENDED: Self = Self {
        status: StatusCode::FORBIDDEN,
        code: "tenant_unavailable",
        description: "This tenant is suspended",
    };
    pub const INACTIVE: Self = Self {
        status: StatusCode::FORBIDDEN,
        code: "tenant_unavailable",
        description: "This tenant is inactive",
    };
    pub const METHOD_NOT_ALLOWED: Self = Self {
        status: StatusCode::METHOD_NOT_ALLOWED,
        code: "invalid_request",
        description: "Method not allowed",
    };
    pub const UNAVAILABLE: Self = Self {
        status: StatusCode::SERVICE_UNAVAILABLE,
        code: "temporarily_unavailable",
        description: "The service is temporarily unavailable",
    };
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&Body {
            error: self.code,
            error_description: self.description,
        })
        .unwrap_or_default();
        let mut response = (self.status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}
