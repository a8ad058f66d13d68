//! OAuth 2 / OpenID Connect protocol errors. Each variant is one error code
//! of the specs, with the section that defines it; the HTTP mapping lives in
//! the web crate next to the endpoints.

/// An error returned to a client as `{"error", "error_description"}` (token,
/// introspection and revocation endpoints, RFC 6749 §5.2) or as redirect
/// parameters (authorization endpoint, RFC 6749 §4.1.2.1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    /// RFC 6749 §5.2 / §4.1.2.1: malformed, missing or repeated parameter.
    #[error("invalid_request: {0}")]
    InvalidRequest(String),
    /// RFC 6749 §5.2: client authentication failed (401 + WWW-Authenticate).
    #[error("invalid_client: {0}")]
    InvalidClient(String),
    /// RFC 6749 §5.2: code, refresh token or PKCE verifier invalid, expired,
    /// revoked, or issued to another client or redirect URI.
    #[error("invalid_grant: {0}")]
    InvalidGrant(String),
    /// RFC 6749 §5.2: the client may not use this grant type.
    #[error("unauthorized_client: {0}")]
    UnauthorizedClient(String),
    /// RFC 6749 §5.2: the grant type is not supported.
    #[error("unsupported_grant_type: {0}")]
    UnsupportedGrantType(String),
    /// RFC 6749 §5.2 / §4.1.2.1: scope unknown or wider than allowed.
    #[error("invalid_scope: {0}")]
    InvalidScope(String),
    /// RFC 6749 §4.1.2.1.
    #[error("unsupported_response_type: {0}")]
    UnsupportedResponseType(String),
    /// RFC 6749 §4.1.2.1: the resource owner or server denied the request.
    #[error("access_denied: {0}")]
    AccessDenied(String),
    /// OpenID Connect Core §3.1.2.6: prompt=none and no session.
    #[error("login_required: {0}")]
    LoginRequired(String),
    /// OpenID Connect Core §3.1.2.6: prompt=none and consent is needed.
    #[error("consent_required: {0}")]
    ConsentRequired(String),
    /// RFC 7009 §2.2.1.
    #[error("unsupported_token_type: {0}")]
    UnsupportedTokenType(String),
    /// RFC 6750 §3.1: the access token is invalid, expired or revoked.
    #[error("invalid_token: {0}")]
    InvalidToken(String),
    /// RFC 6749 §5.2 server_error: logged once, shown without detail.
    #[error("server_error")]
    ServerError,
}

impl OAuthError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidClient(_) => "invalid_client",
            Self::InvalidGrant(_) => "invalid_grant",
            Self::UnauthorizedClient(_) => "unauthorized_client",
            Self::UnsupportedGrantType(_) => "unsupported_grant_type",
            Self::InvalidScope(_) => "invalid_scope",
            Self::UnsupportedResponseType(_) => "unsupported_response_type",
            Self::AccessDenied(_) => "access_denied",
            Self::LoginRequired(_) => "login_required",
            Self::ConsentRequired(_) => "consent_required",
            Self::UnsupportedTokenType(_) => "unsupported_token_type",
            Self::InvalidToken(_) => "invalid_token",
            Self::ServerError => "server_error",
        }
    }

    pub fn description(&self) -> &str {
        match self {
            Self::InvalidRequest(d)
            | Self::InvalidClient(d)
            | Self::InvalidGrant(d)
            | Self::UnauthorizedClient(d)
            | Self::UnsupportedGrantType(d)
            | Self::InvalidScope(d)
            | Self::UnsupportedResponseType(d)
            | Self::AccessDenied(d)
            | Self::LoginRequired(d)
            | Self::ConsentRequired(d)
            | Self::UnsupportedTokenType(d)
            | Self::InvalidToken(d) => d,
            Self::ServerError => "the server could not complete the request",
        }
    }

    /// Logs an internal failure once and hides it behind `server_error`.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "internal error in a protocol endpoint");
        Self::ServerError
    }
}

pub fn invalid_request(d: impl Into<String>) -> OAuthError {
    OAuthError::InvalidRequest(d.into())
}
