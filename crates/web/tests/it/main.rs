//! Integration tests of the gatehouse binary and its HTTP application,
//! against the real Postgres and Redis, as the server's confined role. One
//! test binary for the crate.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod account;
mod accounts;
mod api;
mod browser;
mod cli;
mod console;
mod e2e;
mod front;
mod http;
mod nodes;
mod passkey;
mod protocol;
mod support;
