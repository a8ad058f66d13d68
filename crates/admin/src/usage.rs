//! A tenant's usage: what it holds and how much it signs people in, read
//! from its own tables under row-level security (one statement; the audit
//! log's `(tenant_id, action, at)` index serves the counts of sign-ins).

use gatehouse_core::audit::action;
use gatehouse_core::TenantTx;
use gatehouse_oidc::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// A tenant's usage at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Usage {
    /// Users, disabled ones included.
    pub users: i64,
    pub disabled_users: i64,
    /// Users who signed in during the last 30 days (monthly active users).
    pub active_users_30d: i64,
    pub clients: i64,
    pub custom_roles: i64,
    /// Refresh tokens that can still be redeemed: the live grants.
    pub live_refresh_tokens: i64,
    /// Completed sign-ins (`login.succeeded` in the audit log).
    pub sign_ins_24h: i64,
    pub sign_ins_30d: i64,
    /// Refused sign-ins (`login.failed`) during the last 24 hours.
    pub failed_sign_ins_24h: i64,
}

/// The usage of the transaction's tenant.
pub async fn of_tenant(tx: &mut TenantTx) -> Result<Usage, StoreError> {
    let r = sqlx::query!(
        r#"select
             (select count(*) from users) as "users!",
             (select count(*) from users where disabled) as "disabled_users!",
             (select count(distinct actor_id) from audit_events
               where action = $1 and at > now() - interval '30 days') as "active_users_30d!",
             (select count(*) from clients) as "clients!",
             (select count(*) from roles) as "custom_roles!",
             (select count(*) from refresh_tokens
               where used_at is null and revoked_at is null and expires_at > now())
               as "live_refresh_tokens!",
             (select count(*) from audit_events
               where action = $1 and at > now() - interval '1 day') as "sign_ins_24h!",
             (select count(*) from audit_events
               where action = $1 and at > now() - interval '30 days') as "sign_ins_30d!",
             (select count(*) from audit_events
               where action = $2 and at > now() - interval '1 day') as "failed_sign_ins_24h!""#,
        action::LOGIN_SUCCEEDED,
        action::LOGIN_FAILED,
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok(Usage {
        users: r.users,
        disabled_users: r.disabled_users,
        active_users_30d: r.active_users_30d,
        clients: r.clients,
        custom_roles: r.custom_roles,
        live_refresh_tokens: r.live_refresh_tokens,
        sign_ins_24h: r.sign_ins_24h,
        sign_ins_30d: r.sign_ins_30d,
        failed_sign_ins_24h: r.failed_sign_ins_24h,
    })
}
