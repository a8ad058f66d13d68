//! Gatehouse OpenID Connect and OAuth 2: the protocol crate. So far it holds
//! the tenant-scoped stores of users and clients; the endpoints (discovery,
//! authorize, token, userinfo, introspection, revocation, logout) and the key
//! lifecycle build on them.

pub mod clients;
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
