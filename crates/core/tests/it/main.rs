//! Integration tests of gatehouse-core against the real Postgres and Redis,
//! connected as the server's own confined role. One test binary for the crate.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod events;
mod kv;
mod mail;
mod rls;
mod throttle;
