//! Effective settings: the platform's global settings, overridden section by
//! section by the tenant's own documents in `tenant_settings`. (Floors and
//! ceilings that clamp a tenant's overrides come with the administration
//! API.) Tenant documents are read inside the tenant's row-level-security
//! context, like every tenant-owned row.

use gatehouse_core::events::{Change, Event, EventBus};
use gatehouse_core::{Db, DbError, TenantId};
use serde_json::{json, Map, Value};

use crate::tenants::TenantRecord;

/// The sections a tenant may override.
pub const SECTIONS: [&str; 7] = [
    "application",
    "branding",
    "security",
    "features",
    "oidc",
    "integrations",
    "notifications",
];

/// A merged settings document: one JSON object per section.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(transparent)]
pub struct EffectiveSettings(Map<String, Value>);

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("unknown settings section {0:?}")]
    UnknownSection(String),
    #[error("a settings section must be a JSON object")]
    NotAnObject,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for SettingsError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e.into())
    }
}

impl EffectiveSettings {
    /// Built-in platform defaults, deep-merged with the `[settings.*]`
    /// tables of the configuration file.
    pub fn platform(configured: &Map<String, Value>) -> Self {
        let mut base = json!({
            "application": { "title": "Gatehouse", "default_locale": "en", "locales": ["en", "de", "fr"] },
            "branding": { "company_name": "Gatehouse" },
            "security": { "session_ttl_secs": 86_400, "password_min_length": 12, "mfa": "optional", "signup": "disabled" },
            "features": {},
            "oidc": {
                "authorization_code_ttl_secs": 60,
                "access_token_ttl_secs": 300,
                "id_token_ttl_secs": 300,
                "refresh_token_ttl_secs": 2_592_000
            },
            "integrations": {},
            "notifications": {}
        });
        merge(&mut base, &Value::Object(configured.clone()));
        match base {
            Value::Object(m) => Self(m),
            _ => Self(Map::new()),
        }
    }

    /// These settings overridden by a tenant's section documents.
    pub fn with_overrides(&self, overrides: &[(String, Value)]) -> Self {
        let mut merged = Value::Object(self.0.clone());
        for (section, doc) in overrides {
            merge(&mut merged, &json!({ section.as_str(): doc }));
        }
        match merged {
            Value::Object(m) => Self(m),
            _ => self.clone(),
        }
    }

    pub fn section(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    pub fn get(&self, section: &str, key: &str) -> Option<&Value> {
        self.0.get(section)?.get(key)
    }
}

/// Deep merge: objects merge key by key, anything else replaces.
fn merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(existing) if existing.is_object() && v.is_object() => merge(existing, v),
                    _ => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}

/// The tenant's own section documents, read inside its context.
/// A tenant's password policy: its `security` settings, never weaker than
/// the platform's (the floor).
pub async fn password_policy(
    db: &Db,
    platform: &EffectiveSettings,
    tenant: TenantId,
) -> Result<gatehouse_core::password_policy::PasswordPolicy, DbError> {
    use gatehouse_core::password_policy::PasswordPolicy;
    let overrides = load_overrides(db, tenant).await?;
    let effective = platform.with_overrides(&overrides);
    let none = Value::Null;
    let floor = PasswordPolicy::from_settings(
        platform.section("security").unwrap_or(&none),
        &PasswordPolicy::default(),
    );
    Ok(PasswordPolicy::from_settings(
        effective.section("security").unwrap_or(&none),
        &floor,
    ))
}

pub async fn load_overrides(db: &Db, tenant: TenantId) -> Result<Vec<(String, Value)>, DbError> {
    let mut tx = db.tenant_tx(tenant).await?;
    let rows = sqlx::query!("select section, document from tenant_settings order by section")
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(rows.into_iter().map(|r| (r.section, r.document)).collect())
}

/// Replaces one section of a tenant's settings, then announces the change.
pub async fn put_section(
    db: &Db,
    bus: &EventBus,
    tenant: &TenantRecord,
    section: &str,
    document: Value,
) -> Result<(), SettingsError> {
    if !SECTIONS.contains(&section) {
        return Err(SettingsError::UnknownSection(
            section.chars().take(64).collect(),
        ));
    }
    if !document.is_object() {
        return Err(SettingsError::NotAnObject);
    }
    let mut tx = db.tenant_tx(tenant.id).await?;
    sqlx::query!(
        "insert into tenant_settings (tenant_id, section, document) values ($1, $2, $3)
         on conflict (tenant_id, section) do update set document = excluded.document, updated_at = now()",
        tenant.id.as_uuid(),
        section,
        document,
    )
    .execute(&mut *tx)
    .await?;
    // The registry table is not tenant-scoped; bumping the tenant's version
    // in the same transaction makes every node's pooled provider stale.
    sqlx::query!(
        "update tenants set updated_at = now() where id = $1",
        tenant.id.as_uuid()
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    announce(bus, tenant).await;
    Ok(())
}

/// Tells every node that `tenant`'s settings changed (after the commit).
/// A failed publish loses nothing durable: the change bumped the tenant's
/// `updated_at`, so other nodes pick it up when their registry entry
/// expires.
pub(crate) async fn announce(bus: &EventBus, tenant: &TenantRecord) {
    let event = Event::TenantChanged {
        tenant_id: tenant.id,
        slug: tenant.slug.to_string(),
        change: Change::Settings,
    };
    if let Err(e) = bus.publish(&event).await {
        tracing::warn!(error = %e, tenant = %tenant.slug, "settings committed but not announced");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_sections_override_platform_defaults_key_by_key() {
        let mut configured = Map::new();
        configured.insert("oidc".into(), json!({ "access_token_ttl_secs": 600 }));
        let platform = EffectiveSettings::platform(&configured);
        assert_eq!(
            platform.get("oidc", "access_token_ttl_secs"),
            Some(&json!(600))
        );
        assert_eq!(platform.get("oidc", "id_token_ttl_secs"), Some(&json!(300)));

        let tenant =
            platform.with_overrides(&[("branding".into(), json!({ "company_name": "Acme" }))]);
        assert_eq!(tenant.get("branding", "company_name"), Some(&json!("Acme")));
        assert_eq!(
            tenant.get("oidc", "access_token_ttl_secs"),
            Some(&json!(600))
        );
        assert_eq!(
            platform.get("branding", "company_name"),
            Some(&json!("Gatehouse"))
        );
    }
}
