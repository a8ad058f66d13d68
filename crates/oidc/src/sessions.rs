//! Browser sessions as stored: one record per session in the shared store
//! under the tenant's prefix at `session:{sha256 hex of the cookie value}`
//! (the store never holds a usable cookie), and per user an index set
//! `user-sessions:{user id}` naming the records, so the account page, the
//! /admin console and the management API can list and end a user's
//! sessions; per tenant the sorted set `sessions` names every record,
//! scored by its expiry (unix milliseconds), for the tenant-wide list.
//! Index entries whose record is gone (ended, expired) are pruned as lists
//! meet them, and every sign-in drops the tenant index's expired entries,
//! so it never outgrows the live sessions and those ended since. The cookie
//! itself is the web crate's business.
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

/// The store key of the tenant's index of sessions (a sorted set of
/// session keys by expiry).
pub const TENANT_INDEX: &str = "sessions";

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
    // The tenant's index drops what expired, so it never outgrows the
    // tenant's live sessions (and those ended since).
    let now = time::OffsetDateTime::now_utc();
    kv.sorted_add(
        session.tenant,
        TENANT_INDEX,
        &key,
        unix_ms(now + ttl),
        unix_ms(now),
        ttl,
    )
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

/// Milliseconds since the epoch: the scores of the tenant's index.
fn unix_ms(t: time::OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// A session of the tenant-wide list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub session: Session,
    /// When the record expires (unix seconds).
    pub expires_at: i64,
}

/// Where a page of the tenant's sessions ends: `{expiry ms}-{key hash}`,
/// passed back to continue after it.
pub type Cursor = (i64, String);

/// Parses a cursor [`list_tenant`] returned; None when it is not one.
pub fn parse_cursor(s: &str) -> Option<Cursor> {
    let (score, hash) = s.split_once('-')?;
    let score: i64 = score.parse().ok()?;
    (hash.len() == 64
        && hash
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
    .then(|| (score, format!("session:{hash}")))
}

fn cursor_text((score, member): &Cursor) -> String {
    format!("{score}-{}", member.trim_start_matches("session:"))
}

/// One page of the tenant's live sessions, latest expiry (so newest)
/// first: up to `limit`, after `after`, and the cursor of the next page
/// when there may be one. Entries whose record is gone are removed from
/// the index on the way. Sessions of an earlier epoch are listed too: the
/// caller compares [`Session::epoch`] with the user's.
pub async fn list_tenant(
    kv: &Kv,
    tenant: TenantId,
    after: Option<Cursor>,
    limit: usize,
) -> Result<(Vec<Listed>, Option<String>), KvError> {
    let now_ms = unix_ms(time::OffsetDateTime::now_utc());
    let mut before = after;
    let mut out: Vec<(Listed, Cursor)> = Vec::new();
    let mut stale = Vec::new();
    while out.len() <= limit {
        let want = limit + 1 - out.len();
        let batch = kv
            .sorted_page(
                tenant,
                TENANT_INDEX,
                now_ms,
                before.as_ref().map(|(s, m)| (*s, m.as_str())),
                want,
            )
            .await?;
        let exhausted = batch.len() < want;
        let names: Vec<String> = batch.iter().map(|(m, _)| m.clone()).collect();
        let values = kv.get_many(tenant, &names).await?;
        for ((member, score), raw) in batch.into_iter().zip(values) {
            let session = raw.and_then(|r| serde_json::from_slice::<Session>(&r).ok());
            match session.filter(|s| s.tenant == tenant) {
                Some(session) => out.push((
                    Listed {
                        session,
                        expires_at: score / 1000,
                    },
                    (score, member.clone()),
                )),
                None => stale.push(member.clone()),
            }
            before = Some((score, member));
        }
        if exhausted {
            break;
        }
    }
    kv.sorted_remove(tenant, TENANT_INDEX, &stale).await?;
    let next = if out.len() > limit {
        out.truncate(limit);
        out.last().map(|(_, c)| cursor_text(c))
    } else {
        None
    };
    Ok((out.into_iter().map(|(l, _)| l).collect(), next))
}

/// [`list_tenant`] less the sessions that no longer sign anyone in (of a
/// user deleted since, or of an earlier session epoch), each with its
/// user's username: what the consoles and the management API show.
pub async fn list_tenant_live(
    db: &Db,
    kv: &Kv,
    tenant: TenantId,
    after: Option<Cursor>,
    limit: usize,
) -> Result<(Vec<(Listed, String)>, Option<String>), OAuthError> {
    let (listed, next) = list_tenant(kv, tenant, after, limit)
        .await
        .map_err(OAuthError::internal)?;
    let mut ids: Vec<Uuid> = listed.iter().map(|l| l.session.user_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut tx = db.tenant_tx(tenant).await.map_err(OAuthError::internal)?;
    let users = crate::users::epochs(&mut tx, &ids)
        .await
        .map_err(OAuthError::internal)?;
    tx.commit().await.map_err(OAuthError::internal)?;
    let live = listed
        .into_iter()
        .filter_map(|l| {
            let (_, username, _) = users
                .iter()
                .find(|(id, _, epoch)| *id == l.session.user_id && *epoch == l.session.epoch)?;
            Some((l, username.clone()))
        })
        .collect();
    Ok((live, next))
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
