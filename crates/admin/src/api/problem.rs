//! Errors of the management API as RFC 9457 problem documents
//! (`application/problem+json`), from one table: every code has one
//! status and one title, and its `type` is `/api/v1/problems/{code}`
//! (RFC 9457 §3.1.1: a URI reference, resolved against the request URL).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::StoreError;

/// Every problem the API answers with: code, HTTP status, title.
pub const PROBLEMS: &[(&str, u16, &str)] = &[
    ("unauthorized", 401, "A valid access token is required"),
    (
        "insufficient_scope",
        403,
        "The access token lacks the required scope",
    ),
    (
        "foreign_tenant",
        403,
        "The access token belongs to another tenant",
    ),
    (
        "tenant_unavailable",
        403,
        "The tenant is suspended or inactive",
    ),
    ("not_found", 404, "Not found"),
    ("invalid_request", 400, "The request is malformed"),
    ("validation_failed", 422, "The request breaks a rule"),
    ("conflict", 409, "The resource already exists or changed"),
    ("rate_limited", 429, "Too many requests from this client"),
    (
        "method_not_allowed",
        405,
        "The path does not accept this method",
    ),
    (
        "unavailable",
        503,
        "A dependency is unavailable; retry later",
    ),
];

/// Where the problem types live; `type` is this followed by the code.
pub const TYPE_PREFIX: &str = "/api/v1/problems/";

fn type_uri<S: serde::Serializer>(code: &&'static str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{TYPE_PREFIX}{code}"))
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// `/api/v1/problems/{code}`.
    #[serde(rename = "type", serialize_with = "type_uri")]
    #[schema(value_type = String)]
    pub kind: &'static str,
    pub title: &'static str,
    pub status: u16,
    /// What went wrong with this request, in English.
    #[schema(value_type = String)]
    pub detail: Box<str>,
    /// The code of `type`, for clients that match on a string.
    pub code: &'static str,
    /// The scope that was missing (`insufficient_scope`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub scope: Option<Box<str>>,
    /// The field that broke a rule (`validation_failed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub field: Option<Box<str>>,
    /// Seconds to wait (`rate_limited`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u32>,
}

impl Problem {
    /// The problem `code` of [`PROBLEMS`] (an unknown code is a bug and
    /// answers 500).
    pub fn new(code: &'static str, detail: impl Into<String>) -> Self {
        let (status, title) = PROBLEMS
            .iter()
            .find(|(c, _, _)| *c == code)
            .map_or((500, "Internal error"), |(_, s, t)| (*s, *t));
        Self {
            kind: code,
            title,
            status,
            detail: detail.into().into_boxed_str(),
            code,
            scope: None,
            field: None,
            retry_after: None,
        }
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new("unauthorized", detail)
    }

    pub fn insufficient_scope(scope: &str) -> Self {
        let mut p = Self::new(
            "insufficient_scope",
            format!("this operation needs the scope {scope}"),
        );
        p.scope = Some(scope.into());
        p
    }

    pub fn not_found(what: &str) -> Self {
        Self::new("not_found", format!("no such {what}"))
    }

    pub fn invalid(detail: impl Into<String>) -> Self {
        Self::new("invalid_request", detail)
    }

    pub fn validation(field: &str, detail: impl Into<String>) -> Self {
        let mut p = Self::new("validation_failed", detail);
        p.field = Some(field.into());
        p
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "internal error in the management API");
        Self::new("unavailable", "the server could not complete the request")
    }
}

impl From<StoreError> for Problem {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid(msg) => Self::new("validation_failed", msg),
            StoreError::Duplicate => Self::new("conflict", "it already exists"),
            StoreError::NotFound => Self::new("not_found", "not found"),
            StoreError::Db(e) => Self::internal(e),
        }
    }
}

impl From<gatehouse_core::kv::KvError> for Problem {
    fn from(e: gatehouse_core::kv::KvError) -> Self {
        Self::internal(e)
    }
}

impl From<gatehouse_core::DbError> for Problem {
    fn from(e: gatehouse_core::DbError) -> Self {
        Self::internal(e)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(&self)).into_response();
        let h = response.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if self.status == 401 {
            // RFC 6750 §3: a missing or bad token gets a challenge.
            h.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Bearer realm="gatehouse", error="invalid_token""#),
            );
        }
        if self.code == "insufficient_scope" {
            if let Some(v) = self.scope.as_deref().and_then(|s| {
                HeaderValue::from_str(&format!(
                    r#"Bearer error="insufficient_scope", scope="{s}""#
                ))
                .ok()
            }) {
                h.insert(header::WWW_AUTHENTICATE, v);
            }
        }
        if let Some(secs) = self.retry_after {
            h.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_listed_once_with_a_client_or_server_error_status() {
        let mut codes: Vec<&str> = PROBLEMS.iter().map(|(c, _, _)| *c).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), PROBLEMS.len());
        assert!(PROBLEMS.iter().all(|(_, s, _)| (400..600).contains(s)));
        let p = Problem::insufficient_scope("gatehouse:users:read");
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(
            (json["status"].as_u64(), json["type"].as_str()),
            (Some(403), Some("/api/v1/problems/insufficient_scope"))
        );
        assert_eq!(json["scope"], "gatehouse:users:read");
    }
}
