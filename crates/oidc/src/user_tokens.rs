//! Single-use links sent by email: email verification and address change
//! (valid 24 hours) and password reset (valid 1 hour). The token is 256 random bits; only its
//! SHA-256 hash is stored, in the tenant's `user_tokens` rows, so a link
//! found in the database opens nothing. Redeeming is atomic: the first
//! redemption marks the row used, any later one finds nothing. Issuing a
//! new link of a purpose retires the user's earlier unused ones.

use std::time::Duration;

use gatehouse_core::crypto::{random_token, secret_hash};
use gatehouse_core::TenantTx;
use uuid::Uuid;

use crate::StoreError;

/// What a link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
    /// Proves a new address before it replaces the user's email.
    ChangeEmail,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
            Self::ChangeEmail => "change_email",
        }
    }

    /// How long a link stays valid.
    pub fn lifetime(self) -> Duration {
        match self {
            Self::VerifyEmail | Self::ChangeEmail => Duration::from_secs(24 * 3600),
            Self::ResetPassword => Duration::from_secs(3600),
        }
    }
}

/// Issues a link token for `user_id` (and, for verification, the address it
/// proves); the user's earlier unused tokens of the purpose stop working.
pub async fn issue(
    tx: &mut TenantTx,
    user_id: Uuid,
    purpose: Purpose,
    email: Option<&str>,
) -> Result<String, StoreError> {
    sqlx::query!(
        "update user_tokens set used_at = now(), updated_at = now()
         where user_id = $1 and purpose = $2 and used_at is null",
        user_id,
        purpose.as_str(),
    )
    .execute(&mut **tx)
    .await?;
    let token = random_token();
    let secs = i64::try_from(purpose.lifetime().as_secs()).unwrap_or(3600);
    sqlx::query!(
        "insert into user_tokens (tenant_id, id, user_id, purpose, token_hash, email, expires_at)
         values ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7::bigint))",
        tx.tenant().as_uuid(),
        Uuid::new_v4(),
        user_id,
        purpose.as_str(),
        secret_hash(&token),
        email,
        secs,
    )
    .execute(&mut **tx)
    .await?;
    Ok(token)
}

/// What a redeemed link names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redeemed {
    pub user_id: Uuid,
    pub email: Option<String>,
}

/// Whether `token` is a live link of `purpose` (not used, not expired),
/// without using it: the reset form is shown before the new password is
/// chosen.
pub async fn peek(
    tx: &mut TenantTx,
    purpose: Purpose,
    token: &str,
) -> Result<Option<Redeemed>, StoreError> {
    Ok(sqlx::query!(
        "select user_id, email from user_tokens
         where token_hash = $1 and purpose = $2 and used_at is null and expires_at > now()",
        secret_hash(token),
        purpose.as_str(),
    )
    .fetch_optional(&mut **tx)
    .await?
    .map(|r| Redeemed {
        user_id: r.user_id,
        email: r.email,
    }))
}

/// Uses a live link of `purpose`, once.
pub async fn redeem(
    tx: &mut TenantTx,
    purpose: Purpose,
    token: &str,
) -> Result<Option<Redeemed>, StoreError> {
    Ok(sqlx::query!(
        "update user_tokens set used_at = now(), updated_at = now()
         where token_hash = $1 and purpose = $2 and used_at is null and expires_at > now()
         returning user_id, email",
        secret_hash(token),
        purpose.as_str(),
    )
    .fetch_optional(&mut **tx)
    .await?
    .map(|r| Redeemed {
        user_id: r.user_id,
        email: r.email,
    }))
}
