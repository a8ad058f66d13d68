//! Gatehouse core: identifiers and validated newtypes, process configuration,
//! crypto helpers, tenant-scoped database access, and the node event bus.
//! Everything above this crate depends on it; it depends on nothing of ours.

pub mod audit;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod db;
pub mod events;
pub mod ids;
pub mod kv;
pub mod mail;
pub mod password_policy;
pub mod secretbox;
#[cfg(feature = "testing")]
pub mod testing;
pub mod throttle;

pub use db::{Db, DbError, TenantTx};
pub use ids::{Slug, SlugError, TenantId};
