//! Integration tests of gatehouse-admin against the real Postgres, as the
//! server's confined role. One test binary for the crate.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod audit;
mod bootstrap;
mod reference;
mod roles;
