//! Gatehouse administration: roles, the audit log's queries and the
//! bootstrap administrator of `_platforms`; the management API under
//! `/api/v1`, the `/platform` pages and the per-tenant `/admin` pages build
//! on these. It sits between the protocol crate and the binary
//! (`web → admin → oidc → tenancy → core`).

pub mod api;
pub mod audit;
pub mod bootstrap;
pub mod roles;
pub mod transfer;

pub use gatehouse_oidc::StoreError;
