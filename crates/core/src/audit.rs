//! The audit log's writer: one row of `audit_events` per administrative
//! change or security event, written in the tenant's own context (row-level
//! security), inside the transaction of the change it records where there
//! is one, so a change and its record commit or roll back together.
//!
//! The table is append-only for the server's database role (it may insert
//! and read, not update or delete). Readers are in the admin crate. Writers
//! mask secrets before they reach [`Entry::details`]: a record says that a
//! secret changed, never what it is.

use std::net::IpAddr;

use serde::Serialize;
use uuid::Uuid;

use crate::db::{DbError, TenantTx};

/// Who did it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    pub kind: ActorKind,
    /// A user id, a client id, an operator's user id (at `_platforms`).
    pub id: Option<String>,
    /// A readable name at the time: a username or email, a client's name.
    pub name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// Someone signed in at this tenant.
    User,
    /// A platform operator acting inside this tenant.
    Operator,
    /// An API client, by its access token.
    Client,
    /// The server itself (scheduled key rotation, the bootstrap admin).
    System,
    /// An unauthenticated request, such as a failed sign-in.
    Anonymous,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Operator => "operator",
            Self::Client => "client",
            Self::System => "system",
            Self::Anonymous => "anonymous",
        }
    }
}

impl Actor {
    pub fn user(id: Uuid, name: impl Into<Option<String>>) -> Self {
        Self {
            kind: ActorKind::User,
            id: Some(id.to_string()),
            name: name.into(),
        }
    }
    pub fn operator(id: Uuid, name: impl Into<Option<String>>) -> Self {
        Self {
            kind: ActorKind::Operator,
            id: Some(id.to_string()),
            name: name.into(),
        }
    }
    pub fn client(client_id: &str) -> Self {
        Self {
            kind: ActorKind::Client,
            id: Some(client_id.to_owned()),
            name: None,
        }
    }
    pub fn system() -> Self {
        Self {
            kind: ActorKind::System,
            id: None,
            name: None,
        }
    }
    pub fn anonymous() -> Self {
        Self {
            kind: ActorKind::Anonymous,
            id: None,
            name: None,
        }
    }
}

/// The actions the server records, one name per kind of event.
pub mod action {
    pub const LOGIN_SUCCEEDED: &str = "login.succeeded";
    pub const LOGIN_FAILED: &str = "login.failed";
    pub const MFA_FAILED: &str = "mfa.failed";
    pub const LOGOUT: &str = "logout";
    pub const PASSWORD_RESET: &str = "password.reset";
    pub const PASSWORD_CHANGED: &str = "password.changed";
    pub const EMAIL_CHANGED: &str = "email.changed";
    pub const TOTP_ENABLED: &str = "mfa.totp_enabled";
    pub const TOTP_DISABLED: &str = "mfa.totp_disabled";
    pub const PASSKEY_ADDED: &str = "passkey.added";
    pub const PASSKEY_REMOVED: &str = "passkey.removed";
    pub const CONSENT_GRANTED: &str = "consent.granted";
    pub const CONSENT_REVOKED: &str = "consent.revoked";
    pub const TOKEN_REVOKED: &str = "token.revoked";
    pub const KEYS_ROTATED: &str = "keys.rotated";
    pub const TENANT_CREATED: &str = "tenant.created";
    pub const TENANT_STATUS_CHANGED: &str = "tenant.status_changed";
    /// A platform operator or platform client acted inside the tenant.
    pub const TENANT_ENTERED: &str = "tenant.entered";
    pub const TENANT_UPDATED: &str = "tenant.updated";
    pub const DOMAIN_ADDED: &str = "domain.added";
    pub const DOMAIN_CHANGED: &str = "domain.changed";
    pub const DOMAIN_REMOVED: &str = "domain.removed";
    pub const USER_UPDATED: &str = "user.updated";
    pub const USER_DELETED: &str = "user.deleted";
    pub const ROLE_CREATED: &str = "role.created";
    pub const ROLE_DELETED: &str = "role.deleted";
    pub const SETTINGS_CHANGED: &str = "settings.changed";
    pub const USER_CREATED: &str = "user.created";
    pub const ROLE_ASSIGNED: &str = "role.assigned";
    pub const ROLE_REMOVED: &str = "role.removed";
    pub const CLIENT_CREATED: &str = "client.created";
    pub const CLIENT_DELETED: &str = "client.deleted";
    pub const CLIENT_SECRET_ROTATED: &str = "client.secret_rotated";
    pub const ADMIN_BOOTSTRAPPED: &str = "admin.bootstrapped";
    /// An administrator ended every session of a user.
    pub const SESSIONS_REVOKED: &str = "sessions.revoked";
    /// An administrator removed a user's second factors.
    pub const MFA_RESET: &str = "mfa.reset";
    pub const CLIENT_UPDATED: &str = "client.updated";
    /// The tenant was created from an export document.
    pub const TENANT_IMPORTED: &str = "tenant.imported";
    pub const TENANT_EXPORTED: &str = "tenant.exported";
}

/// One event to record.
#[derive(Debug, Clone)]
pub struct Entry {
    pub actor: Actor,
    /// One of [`action`]'s names.
    pub action: &'static str,
    /// What it was done to: a kind ("user", "client", "tenant", "keys") and an id.
    pub target: Option<(&'static str, String)>,
    /// The address the request came from, when there was a request.
    pub ip: Option<IpAddr>,
    /// What changed; secrets masked.
    pub details: serde_json::Value,
}

impl Entry {
    pub fn new(actor: Actor, action: &'static str) -> Self {
        Self {
            actor,
            action,
            target: None,
            ip: None,
            details: serde_json::Value::Object(Default::default()),
        }
    }
    pub fn target(mut self, kind: &'static str, id: impl ToString) -> Self {
        self.target = Some((kind, id.to_string()));
        self
    }
    pub fn ip(mut self, ip: Option<IpAddr>) -> Self {
        self.ip = ip;
        self
    }
    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

/// Writes `entry` to the audit log of `tx`'s tenant, in `tx`.
pub async fn record(tx: &mut TenantTx, entry: &Entry) -> Result<(), DbError> {
    let (target_kind, target_id) = match &entry.target {
        Some((kind, id)) => (Some(*kind), Some(id.as_str())),
        None => (None, None),
    };
    sqlx::query(
        "insert into audit_events (tenant_id, id, actor_kind, actor_id, actor_name, action,
                                   target_kind, target_id, ip, details)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9::text::inet, $10)",
    )
    .bind(tx.tenant().as_uuid())
    .bind(Uuid::new_v4())
    .bind(entry.actor.kind.as_str())
    .bind(entry.actor.id.as_deref())
    .bind(entry.actor.name.as_deref().map(|n| truncate(n, 255)))
    .bind(entry.action)
    .bind(target_kind)
    .bind(target_id)
    .bind(entry.ip.map(|ip| ip.to_string()))
    .bind(&entry.details)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn truncate(s: &str, max_chars: usize) -> &str {
    match s.char_indices().nth(max_chars) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cut_at_a_character_boundary() {
        assert_eq!(truncate("abc", 2), "ab");
        assert_eq!(truncate("äöü", 2), "äö");
        assert_eq!(truncate("ab", 5), "ab");
    }
}
