//! Integration tests of gatehouse-tenancy against the real Postgres, as the
//! server's confined role. One test binary for the crate.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod pool;
mod registry;
mod settings;
mod support;
mod tenants;
