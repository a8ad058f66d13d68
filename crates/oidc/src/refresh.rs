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

/// What [`rotate`] did with a presented refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Marked used; the next token of its family was issued.
    Rotated,
    /// Issued to another client; nothing changed.
    WrongClient,
    /// Already rotated: a copy came back, so its whole family was revoked.
    Replayed,
    /// Revoked or expired.
    Inactive,
    /// The requested scope exceeds the grant's; nothing changed.
    InvalidScope,
    /// The user was deleted, disabled or locked; nothing changed.
    InactiveUser,
}

/// A presented refresh token, as [`rotate`] found and handled it.
#[derive(Debug, Clone)]
pub struct Rotation {
    pub outcome: Outcome,
    /// The grant the token carries (its `client_id` is the presenting
    /// client's; for [`Outcome::WrongClient`] the rest is not to be used).
    pub grant: RefreshGrant,
    /// The next token of the family, when rotated.
    pub next: Option<String>,
    /// The user's custom roles, when rotated and the scope to issue holds
    /// `roles`.
    pub roles: Option<Vec<String>>,
}

/// The refresh grant's rotation (RFC 6749 §6, RFC 9700 §4.14.2) in one
/// round trip: the SQL function `refresh_rotate` finds the presented token
/// and locks it, checks its client, replay (revoking the family), expiry,
/// the requested scope (RFC 6749 §6: it may narrow, never widen) and the
/// user, and rotates it, as one transaction of its own. None when no such
/// token exists at this tenant.
pub async fn rotate(
    db: &gatehouse_core::Db,
    tenant: gatehouse_core::TenantId,
    token: &str,
    client_id: &str,
    requested: Option<&[String]>,
    ttl_secs: i64,
) -> Result<Option<Rotation>, OAuthError> {
    let next = random_token();
    let mut call = db.tenant_call().await.map_err(OAuthError::internal)?;
    let row = sqlx::query!(
        r#"select status as "status!", family_id as "family_id!", user_id as "user_id!",
                  scope as "scope!", sid, auth_time as "auth_time!", acr, amr as "amr!", roles
           from refresh_rotate($1, $2, $3, $4, $5, $6, $7)"#,
        tenant.as_uuid(),
        secret_hash(token),
        client_id,
        requested as Option<&[String]>,
        Uuid::new_v4(),
        secret_hash(&next),
        ttl_secs,
    )
    .fetch_optional(call.conn())
    .await
    .map_err(OAuthError::internal)?;
    call.finish();
    let Some(r) = row else {
        return Ok(None);
    };
    let outcome = match r.status.as_str() {
        "rotated" => Outcome::Rotated,
        "wrong_client" => Outcome::WrongClient,
        "replayed" => Outcome::Replayed,
        "inactive" => Outcome::Inactive,
        "invalid_scope" => Outcome::InvalidScope,
        "inactive_user" => Outcome::InactiveUser,
        other => {
            return Err(OAuthError::internal(format!(
                "refresh_rotate answered {other:?}"
            )))
        }
    };
    Ok(Some(Rotation {
        outcome,
        grant: RefreshGrant {
            family_id: r.family_id,
            client_id: client_id.to_owned(),
            user_id: r.user_id,
            scope: r.scope,
            sid: r.sid,
            auth_time: r.auth_time,
            acr: r.acr,
            amr: r.amr,
        },
        next: (outcome == Outcome::Rotated).then_some(next),
        roles: r.roles,
    }))
}

/// What [`for_user`] found and did.
#[derive(Debug, Clone)]
pub struct UserGrant {
    /// The user exists and is neither disabled nor locked.
    pub active: bool,
    /// The first refresh token of the grant's family, when asked for and
    /// the user is active.
    pub token: Option<String>,
    /// The user's custom roles, when asked for and the user is active.
    pub roles: Option<Vec<String>>,
}

/// The authorization_code grant's database work in one round trip (the SQL
/// function `grant_for_user`): whether `user_id` is still active and, if so,
/// the first refresh token of `first`'s family (when given) and the user's
/// custom roles (with `with_roles`).
pub async fn for_user(
    db: &gatehouse_core::Db,
    tenant: gatehouse_core::TenantId,
    user_id: Uuid,
    with_roles: bool,
    first: Option<(&RefreshGrant, i64)>,
) -> Result<UserGrant, OAuthError> {
    let token = first.map(|_| random_token());
    let hash = token.as_deref().map(secret_hash);
    let grant = first.map(|(g, _)| g);
    let mut call = db.tenant_call().await.map_err(OAuthError::internal)?;
    let r = sqlx::query!(
        r#"select active as "active!", roles
           from grant_for_user($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"#,
        tenant.as_uuid(),
        user_id,
        with_roles,
        Uuid::new_v4(),
        hash,
        grant.map(|g| g.family_id),
        grant.map(|g| g.client_id.as_str()),
        grant.map(|g| g.scope.as_str()),
        grant.and_then(|g| g.sid.as_deref()),
        grant.map(|g| g.auth_time),
        grant.and_then(|g| g.acr.as_deref()),
        grant.map(|g| g.amr.as_slice()),
        first.map(|(_, ttl)| ttl),
    )
    .fetch_one(call.conn())
    .await
    .map_err(OAuthError::internal)?;
    call.finish();
    Ok(UserGrant {
        active: r.active,
        token: token.filter(|_| r.active),
        roles: r.roles,
    })
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
