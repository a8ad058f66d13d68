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
pub mod usage;

pub use gatehouse_oidc::StoreError;

/// Clears the counters of failed attempts that lock `user`'s account for a
/// while (by username, email and id, as the sign-in, reset and second-step
/// forms count them): part of an administrator's unlock.
pub async fn unlock_counters(
    kv: &gatehouse_core::kv::Kv,
    tenant: gatehouse_core::TenantId,
    user: &gatehouse_oidc::users::User,
) -> Result<(), gatehouse_core::kv::KvError> {
    let id = user.id.to_string();
    let mut names = vec![user.username.as_str(), id.as_str()];
    if let Some(email) = &user.email {
        names.push(email);
    }
    gatehouse_core::throttle::Throttle::new(kv.clone())
        .clear_accounts(tenant, &names)
        .await
}
