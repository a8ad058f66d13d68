//! Browser sessions as stored: one record per session in the shared store
//! under the tenant's prefix at `session:{sha256 hex of the cookie value}`
//! (the store never holds a usable cookie), and per user an index set
//! `user-sessions:{user id}` naming the records, so the account page, the
//! /admin console and the management API can list and end a user's
//! sessions. The cookie itself is the web crate's business.
//!
//! Ending a session here deletes its record; the caller also revokes what
//! was issued from it ([`end_tokens`]).

use gatehouse_core::crypto::{random_token, secret_hash};
use gatehouse_core::kv::{Kv, KvError};
use gatehouse_core::{Db, TenantId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::OAuthError;
use crate::provider::TenantProvider;
use crate::{refresh, tokens};

/// A logged-in browser, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The tenant that issued the session; a record read under any other
    /// tenant is ignored.
    pub tenant: TenantId,
    pub user_id: Uuid,
    /// When the user authenticated (unix seconds): `auth_time` of ID tokens.
    pub auth_time: i64,
    /// The session id of ID tokens (`sid`, OpenID Connect Front-Channel and
    /// Back-Channel Logout), random and distinct from the cookie value.
    pub sid: String,
    /// Authentication methods (RFC 8176).
    pub amr: Vec<String>,
    /// The user's session epoch when the session began; ending the user's
    /// sessions moves the epoch on, and this session with it.
    #[serde(default)]
    pub epoch: i32,
    /// The browser's `User-Agent` when the session began (at most 256
    /// characters), for the lists of sessions.
    #[serde(default)]
    pub user_agent: String,
}

/// The store key of the index of a user's sessions.
pub fn index_key(user_id: Uuid) -> String {
    format!("user-sessions:{user_id}")
}

/// The store key of the session whose cookie value is `cookie`.
pub fn session_key(cookie: &str) -> String {
    format!("session:{}", secret_hash(cookie))
}

/// Stores `session` for `ttl` under a new random cookie value, and names it
/// in its user's index; returns the cookie value (the only copy: the store
/// keeps its hash).
pub async fn store(
    kv: &Kv,
    session: &Session,
    ttl: std::time::Duration,
) -> Result<String, KvError> {
    let value = random_token();
    let body = serde_json::to_vec(session).unwrap_or_default();
    let key = session_key(&value);
    kv.set(session.tenant, &key, &body, ttl).await?;
    // The index of the user's sessions lives as long as the newest one.
    kv.set_add(session.tenant, &index_key(session.user_id), &key, ttl)
        .await?;
    Ok(value)
}

/// The user's sessions at `tenant` whose records are still in the store,
/// newest first; index entries of expired records are pruned on the way.
/// Sessions of an earlier epoch are listed too: the caller compares
/// [`Session::epoch`] with the user's (they no longer sign anyone in).
pub async fn list(kv: &Kv, tenant: TenantId, user_id: Uuid) -> Result<Vec<Session>, KvError> {
    let index = index_key(user_id);
    let mut out = Vec::new();
    for key in kv.set_members(tenant, &index).await? {
        let found = kv.get(tenant, &key).await?;
        match found.and_then(|raw| serde_json::from_slice::<Session>(&raw).ok()) {
            Some(s) if s.tenant == tenant && s.user_id == user_id => out.push(s),
            _ => kv.set_remove(tenant, &index, &key).await?,
        }
    }
    out.sort_by_key(|s| std::cmp::Reverse(s.auth_time));
    Ok(out)
}

/// Deletes the user's session `sid` from the store; returns it when there
/// was one.
pub async fn end_one(
    kv: &Kv,
    tenant: TenantId,
    user_id: Uuid,
    sid: &str,
) -> Result<Option<Session>, KvError> {
    let index = index_key(user_id);
    for key in kv.set_members(tenant, &index).await? {
        let found = kv.get(tenant, &key).await?;
        let session = found.and_then(|raw| serde_json::from_slice::<Session>(&raw).ok());
        if let Some(s) = session.filter(|s| s.user_id == user_id && s.sid == sid) {
            kv.del(tenant, &key).await?;
            kv.set_remove(tenant, &index, &key).await?;
            return Ok(Some(s));
        }
    }
    Ok(None)
}

/// Signs the user out everywhere, in the store: revokes the access tokens
/// of each of their sessions and deletes the session records; returns how
/// many sessions there were. Callers first move the user's session epoch
/// on ([`crate::users::end_sessions`], or disabling or locking the user),
/// which ends the sessions on every node even if a record outlives this (a
/// write racing the deletion), and revoke refresh tokens as they mean to.
pub async fn end_all(
    kv: &Kv,
    provider: &TenantProvider,
    user_id: Uuid,
) -> Result<usize, OAuthError> {
    let tenant = provider.tenant.id;
    let live = list(kv, tenant, user_id)
        .await
        .map_err(OAuthError::internal)?;
    for s in &live {
        tokens::revoke_session(kv, provider, &s.sid).await?;
    }
    let index = index_key(user_id);
    let keys = kv
        .set_members(tenant, &index)
        .await
        .map_err(OAuthError::internal)?;
    for key in &keys {
        kv.del(tenant, key).await.map_err(OAuthError::internal)?;
    }
    kv.del(tenant, &index).await.map_err(OAuthError::internal)?;
    Ok(live.len())
}

/// Revokes what session `sid` issued: its refresh tokens (except grants
/// with `offline_access`, which outlive the session by design) and its
/// access tokens, as RP-initiated logout does.
pub async fn end_tokens(
    db: &Db,
    kv: &Kv,
    provider: &TenantProvider,
    sid: &str,
) -> Result<(), OAuthError> {
    let mut tx = db
        .tenant_tx(provider.tenant.id)
        .await
        .map_err(OAuthError::internal)?;
    refresh::revoke_session(&mut tx, sid).await?;
    tx.commit().await.map_err(OAuthError::internal)?;
    tokens::revoke_session(kv, provider, sid).await
}
