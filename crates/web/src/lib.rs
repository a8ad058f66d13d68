//! The `gatehouse` binary's library: the CLI, the axum application assembly,
//! its middleware (tenant resolution, request ids, tracing), the operations
//! endpoints and the server loop.

pub mod cli;
pub mod commands;
pub mod console;
pub mod error;
pub mod front;
pub mod guard;
pub mod ops;
pub mod protocol;
pub mod routes;
pub mod server;
pub mod state;
pub mod telemetry;
pub mod tenant;

pub use state::AppState;
