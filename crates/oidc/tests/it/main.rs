//! Integration tests of gatehouse-oidc's stores against the real Postgres,
//! as the server's confined role. One test binary for the crate.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod clients;
mod consents;
mod keys;
mod mfa;
mod passkeys;
mod user_tokens;
mod users;
