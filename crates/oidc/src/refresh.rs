//! Refresh tokens (RFC 6749 §6, RFC 9700 §4.14.2): opaque 256-bit values,
//! stored as SHA-256 hashes, rotated on every use. Every token issued from
//! one authorization shares a family; presenting a token that was already
//! rotated is treated as theft and revokes the whole family.

use gatehouse_core::crypto::{random_token, secret_hash};
use gatehouse_core::TenantTx;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::OAuthError;

/// The authorization a refresh token carries forward.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshGrant {
    pub family_id: Uuid,
    pub client_id: String,
    pub user_id: Uuid,
    pub scope: String,
    pub sid: Option<String>,
    pub auth_time: OffsetDateTime,
    pub acr: Option<String>,
    pub amr: Vec<String>,
}

/// A stored token as found by its value.
#[derive(Debug, Clone)]
pub struct Found {
    pub id: Uuid,
    pub grant: RefreshGrant,
    pub expires_at: OffsetDateTime,
    pub used: bool,
    pub revoked: bool,
}

impl Found {
    pub fn is_active(&self) -> bool {
        !self.used && !self.revoked && self.expires_at > OffsetDateTime::now_utc()
    }
}

/// Looks a token up (locking its row for the rest of the transaction).
pub async fn find(tx: &mut TenantTx, token: &str) -> Result<Option<Found>, OAuthError> {
    let row = sqlx::query!(
        "select id, family_id, client_id, user_id, scope, sid, auth_time, acr, amr, expires_at,
                used_at is not null as \"used!\", revoked_at is not null as \"revoked!\"
         from refresh_tokens where token_hash = $1 for update",
        secret_hash(token),
    )
    .fetch_optional(&mut **tx)
    .await
    .map_err(OAuthError::internal)?;
    Ok(row.map(|r| Found {
        id: r.id,
        grant: RefreshGrant {
            family_id: r.family_id,
            client_id: r.client_id,
            user_id: r.user_id,
            scope: r.scope,
            sid: r.sid,
            auth_time: r.auth_time,
            acr: r.acr,
            amr: r.amr,
        },
        expires_at: r.expires_at,
        used: r.used,
        revoked: r.revoked,
    }))
}

/// Issues the first refresh token of `grant`'s family, if its user exists
/// and is not disabled (checked in the same statement); None otherwise.
pub async fn issue(
    tx: &mut TenantTx,
    grant: &RefreshGrant,
    ttl_secs: i64,
) -> Result<Option<String>, OAuthError> {
    let token = random_token();
    let inserted = sqlx::query!(
        "insert into refresh_tokens (tenant_id, id, family_id, token_hash, client_id, user_id, scope, sid,
                                     auth_time, acr, amr, expires_at)
         select $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now() + make_interval(secs => $12::bigint)
         where exists (select 1 from users u where u.id = $6 and not u.disabled and u.locked_at is null)",
        tx.tenant().as_uuid(),
        Uuid::new_v4(),
        grant.family_id,
        secret_hash(&token),
        grant.client_id,
        grant.user_id,
        grant.scope,
        grant.sid,
        grant.auth_time,
        grant.acr,
        &grant.amr,
        ttl_secs,
    )
    .execute(&mut **tx)
    .await
    .map_err(OAuthError::internal)?
    .rows_affected();
    Ok((inserted == 1).then_some(token))
}

/// A presented refresh token, as [`redeem`] found and handled it.
#[derive(Debug, Clone)]
pub struct Redeemed {
    pub found: Found,
    /// The next token of the family, issued because the presented one was
    /// live and belonged to the client; None otherwise.
    pub next: Option<String>,
    /// The token's user exists and is not disabled.
    pub user_active: bool,
}

/// The refresh grant's rotation (RFC 6749 §6, RFC 9700 §4.14.2) in one
/// statement: finds the presented token and locks it; if it is live (not
/// used, revoked or expired) and was issued to `client_id`, marks it used
/// and inserts the next token of its family; and reports whether its user
/// is active. The caller rolls the transaction back when it refuses the
/// request after all (a widened scope, a disabled user), which undoes the
/// rotation.
pub async fn redeem(
    tx: &mut TenantTx,
    token: &str,
    client_id: &str,
    ttl_secs: i64,
) -> Result<Option<Redeemed>, OAuthError> {
    let next = random_token();
    let row = sqlx::query!(
        "with old as (
             select id, family_id, client_id, user_id, scope, sid, auth_time, acr, amr, expires_at,
                    used_at is not null as used, revoked_at is not null as revoked
             from refresh_tokens where token_hash = $1 for update
         ), live as (
             select * from old
             where not used and not revoked and expires_at > now() and client_id = $2
         ), used as (
             update refresh_tokens r set used_at = now(), updated_at = now()
             from live where r.id = live.id
         ), next as (
             insert into refresh_tokens (tenant_id, id, family_id, token_hash, client_id, user_id, scope,
                                         sid, auth_time, acr, amr, expires_at)
             select $3, $4, family_id, $5, client_id, user_id, scope, sid, auth_time, acr, amr,
                    now() + make_interval(secs => $6::bigint)
             from live
             returning id
         )
         select old.id as \"id!\", old.family_id as \"family_id!\", old.client_id as \"client_id!\",
                old.user_id as \"user_id!\", old.scope as \"scope!\", old.sid, old.auth_time as \"auth_time!\",
                old.acr, old.amr as \"amr!\", old.expires_at as \"expires_at!\",
                old.used as \"used!\", old.revoked as \"revoked!\",
                exists (select 1 from next) as \"rotated!\",
                coalesce((select not u.disabled and u.locked_at is null from users u where u.id = old.user_id), false)
                    as \"user_active!\"
         from old",
        secret_hash(token),
        client_id,
        tx.tenant().as_uuid(),
        Uuid::new_v4(),
        secret_hash(&next),
        ttl_secs,
    )
    .fetch_optional(&mut **tx)
    .await
    .map_err(OAuthError::internal)?;
    Ok(row.map(|r| Redeemed {
        found: Found {
            id: r.id,
            grant: RefreshGrant {
                family_id: r.family_id,
                client_id: r.client_id,
                user_id: r.user_id,
                scope: r.scope,
                sid: r.sid,
                auth_time: r.auth_time,
                acr: r.acr,
                amr: r.amr,
            },
            expires_at: r.expires_at,
            used: r.used,
            revoked: r.revoked,
        },
        next: r.rotated.then_some(next),
        user_active: r.user_active,
    }))
}

/// Revokes every token of a family; returns how many were still live.
pub async fn revoke_family(tx: &mut TenantTx, family_id: Uuid) -> Result<u64, OAuthError> {
    Ok(sqlx::query!(
        "update refresh_tokens set revoked_at = now(), updated_at = now()
         where family_id = $1 and revoked_at is null",
        family_id,
    )
    .execute(&mut **tx)
    .await
    .map_err(OAuthError::internal)?
    .rows_affected())
}

/// Revokes the tokens of a browser session (logout), except those granted
/// `offline_access`, which are meant to work while the user is away
/// (OpenID Connect Core §11). Returns how many were still live.
pub async fn revoke_session(tx: &mut TenantTx, sid: &str) -> Result<u64, OAuthError> {
    Ok(sqlx::query!(
        "update refresh_tokens set revoked_at = now(), updated_at = now()
         where sid = $1 and revoked_at is null
           and not ('offline_access' = any(string_to_array(scope, ' ')))",
        sid,
    )
    .execute(&mut **tx)
    .await
    .map_err(OAuthError::internal)?
    .rows_affected())
}

/// Revokes every refresh token of a user (password reset or change).
pub async fn revoke_user(tx: &mut TenantTx, user_id: Uuid) -> Result<u64, OAuthError> {
    Ok(sqlx::query!(
        "update refresh_tokens set revoked_at = now(), updated_at = now()
         where user_id = $1 and revoked_at is null",
        user_id,
    )
    .execute(&mut **tx)
    .await
    .map_err(OAuthError::internal)?
    .rows_affected())
}

/// Revokes the user's refresh tokens issued to one client (the user took
/// back the application's access); returns the families revoked, whose
/// access tokens should be revoked too.
pub async fn revoke_user_client(
    tx: &mut TenantTx,
    user_id: Uuid,
    client_id: &str,
) -> Result<Vec<Uuid>, OAuthError> {
    sqlx::query_scalar!(
        "update refresh_tokens set revoked_at = now(), updated_at = now()
         where user_id = $1 and client_id = $2 and revoked_at is null
         returning family_id",
        user_id,
        client_id,
    )
    .fetch_all(&mut **tx)
    .await
    .map_err(OAuthError::internal)
}
