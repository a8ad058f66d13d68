//! Gatehouse OpenID Connect and OAuth 2: the protocol crate. It holds the
//! tenant-scoped stores of users and clients, the per-tenant signing keys
//! and their lifecycle, and the protocol provider that the pool keeps per
//! tenant (keys and JWKS ready in memory).

pub mod authorize;
pub mod client_auth;
pub mod client_keys;
pub mod clients;
pub mod codes;
pub mod consents;
pub mod discovery;
pub mod error;
pub mod grants;
pub mod jws;
pub mod keys;
pub mod mfa;
pub mod passkeys;
pub mod pkce;
pub mod provider;
pub mod refresh;
pub mod rotation;
pub mod sessions;
pub mod tokens;
pub mod user_tokens;
pub mod users;

/// Errors of the tenant-scoped stores.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    Invalid(String),
    #[error("already exists")]
    Duplicate,
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Db(#[from] gatehouse_core::DbError),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::Database(d) if d.is_unique_violation() => Self::Duplicate,
            other => Self::Db(other.into()),
        }
    }
}
