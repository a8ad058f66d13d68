//! A tenant's settings as administrators change them (the management API's
//! `config` operations): floors and ceilings checked, secrets sealed, every
//! version kept, every change audited.
//!
//! **Floors** (a tenant may not weaken security below the platform's own
//! settings, which are also its defaults): `security.password_min_length`
//! at least the platform's; `security.mfa` (`off` < `optional` <
//! `required`) and `security.email_verification` (`optional` < `required`)
//! at least as strict; `security.password_reject_common`
//! stays on once the platform turns it on.
//!
//! **Ceilings** (token and session lifetimes): `oidc.authorization_code_ttl_secs`,
//! `oidc.access_token_ttl_secs`, `oidc.id_token_ttl_secs`,
//! `oidc.refresh_token_ttl_secs` and `security.session_ttl_secs` at most the
//! platform's `ceilings` section (configuration `[settings.ceilings]`, over
//! [`DEFAULT_CEILINGS`]), and at least 1.
//!
//! A document that breaks a bound is refused with a [`Violation`] naming the
//! field and the bound; nothing is clamped silently.
//!
//! **Secrets.** `notifications.smtp.password` and any `client_secret` in
//! `integrations` arrive in clear and are stored sealed under the master key
//! (`password_sealed`, `client_secret_sealed`), bound to the tenant. They are
//! never returned: a read shows `password_set: true` instead. A write that
//! leaves the clear key out keeps the stored secret; `null` removes it.

use gatehouse_core::audit::{self, action, Actor, Entry};
use gatehouse_core::events::EventBus;
use gatehouse_core::secretbox::Keyring;
use gatehouse_core::{Db, DbError, TenantId};
use serde::Serialize;
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use crate::settings::{announce, EffectiveSettings, SECTIONS};
use crate::tenants::TenantRecord;

/// Built-in ceilings: (section, key, most seconds).
pub const DEFAULT_CEILINGS: [(&str, &str, u64); 5] = [
    // RFC 6749 §4.1.2: a maximum lifetime of 10 minutes is recommended.
    ("oidc", "authorization_code_ttl_secs", 600),
    ("oidc", "access_token_ttl_secs", 86_400),
    ("oidc", "id_token_ttl_secs", 86_400),
    ("oidc", "refresh_token_ttl_secs", 31_536_000),
    ("security", "session_ttl_secs", 2_592_000),
];

/// The policy keys whose values are ordered by strictness, weakest first.
const STRICTNESS: [(&str, &[&str]); 2] = [
    ("mfa", &["off", "optional", "required"]),
    ("email_verification", &["optional", "required"]),
];

/// A bound the document breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// `section.key`.
    pub field: String,
    /// What the value must be, in words.
    pub bound: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} must be {}", self.field, self.bound)
    }
}

/// The ceiling of `section.key`, if it has one.
pub fn ceiling(platform: &EffectiveSettings, section: &str, key: &str) -> Option<u64> {
    let built_in = DEFAULT_CEILINGS
        .iter()
        .find(|(s, k, _)| *s == section && *k == key)
        .map(|(_, _, v)| *v)?;
    Some(
        platform
            .get("ceilings", key)
            .and_then(Value::as_u64)
            .unwrap_or(built_in),
    )
}

/// Checks `doc`, a tenant's `section`, against the platform's floors and
/// ceilings.
pub fn check(platform: &EffectiveSettings, section: &str, doc: &Value) -> Result<(), Violation> {
    let field = |key: &str| format!("{section}.{key}");
    let Some(doc) = doc.as_object() else {
        return Ok(());
    };
    for (key, value) in doc {
        if let Some(most) = ceiling(platform, section, key) {
            match value.as_u64() {
                Some(n) if (1..=most).contains(&n) => {}
                _ => {
                    return Err(Violation {
                        field: field(key),
                        bound: format!(
                            "a whole number of seconds from 1 to {most} (the platform's ceiling)"
                        ),
                    })
                }
            }
        }
    }
    if section != "security" {
        return Ok(());
    }
    if let Some(v) = doc.get("password_min_length") {
        let floor = platform
            .get("security", "password_min_length")
            .and_then(Value::as_u64)
            .unwrap_or(8);
        match v.as_u64() {
            Some(n) if (floor..=1024).contains(&n) => {}
            _ => {
                return Err(Violation {
                    field: field("password_min_length"),
                    bound: format!("a whole number from {floor} (the platform's floor) to 1024"),
                })
            }
        }
    }
    for (key, levels) in STRICTNESS {
        let Some(v) = doc.get(key) else { continue };
        let floor = platform
            .get("security", key)
            .and_then(Value::as_str)
            .and_then(|f| levels.iter().position(|l| *l == f))
            .unwrap_or(0);
        let allowed = &levels[floor..];
        match v.as_str().and_then(|s| levels.iter().position(|l| *l == s)) {
            Some(level) if level >= floor => {}
            _ => {
                return Err(Violation {
                    field: field(key),
                    bound: if floor > 0 {
                        format!("{} (the platform's floor)", allowed.join(" or "))
                    } else {
                        levels.join(" or ")
                    },
                })
            }
        }
    }
    if let Some(v) = doc.get("password_reject_common") {
        let floor = platform
            .get("security", "password_reject_common")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        match v.as_bool() {
            Some(b) if b || !floor => {}
            _ => {
                return Err(Violation {
                    field: field("password_reject_common"),
                    bound: if floor {
                        "true (the platform's floor)".into()
                    } else {
                        "true or false".into()
                    },
                })
            }
        }
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum SectionError {
    #[error("unknown settings section {0:?}")]
    UnknownSection(String),
    #[error("a settings section must be a JSON object")]
    NotAnObject,
    #[error("{0}")]
    Bound(Violation),
    /// A field the client may not write, or a malformed one.
    #[error("{field}: {message}")]
    Field { field: String, message: String },
    #[error("no version {0} of this section")]
    NoVersion(i32),
    #[error("secrets cannot be sealed: {0}")]
    Seal(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for SectionError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e.into())
    }
}

/// Where secrets sit: (section, the object's key path, the clear key, the
/// sealed key).
const SECRETS: [(&str, &[&str], &str, &str); 2] = [
    ("notifications", &["smtp"], "password", "password_sealed"),
    (
        "integrations",
        &["*"],
        "client_secret",
        "client_secret_sealed",
    ),
];

/// The largest integer a JSON number is exact for everywhere (2^53 - 1).
const MAX_SAFE: u64 = (1 << 53) - 1;

/// The path of the first number of `v` beyond ±[`MAX_SAFE`] (RFC 7493
/// §2.2, I-JSON). PostgreSQL keeps such a number exactly, as a long
/// decimal that reads back as out of range: one stored in a section would
/// make the tenant's settings unreadable.
pub fn unsafe_number(v: &Value, at: &str) -> Option<String> {
    match v {
        Value::Number(n) => {
            let ok = n.as_u64().is_some_and(|x| x <= MAX_SAFE)
                || n.as_i64().is_some_and(|x| x.unsigned_abs() <= MAX_SAFE)
                || n.as_f64().is_some_and(|x| x.abs() <= MAX_SAFE as f64);
            (!ok).then(|| at.to_owned())
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, x)| unsafe_number(x, &format!("{at}[{i}]"))),
        Value::Object(map) => map
            .iter()
            .find_map(|(k, x)| unsafe_number(x, &format!("{at}.{k}"))),
        _ => None,
    }
}

/// The objects of `doc` at `path` (`*`: every member).
fn objects_at<'a>(doc: &'a mut Value, path: &[&str]) -> Vec<(String, &'a mut Map<String, Value>)> {
    let Some(first) = path.first() else {
        return doc
            .as_object_mut()
            .map(|o| vec![(String::new(), o)])
            .unwrap_or_default();
    };
    let Some(obj) = doc.as_object_mut() else {
        return Vec::new();
    };
    obj.iter_mut()
        .filter(|(k, _)| *first == "*" || k.as_str() == *first)
        .flat_map(|(k, v)| {
            let name = k.clone();
            objects_at(v, &path[1..])
                .into_iter()
                .map(move |(rest, o)| (format!("{name}{rest}"), o))
        })
        .collect()
}

fn seal(
    keyring: &Keyring,
    tenant: TenantId,
    section: &str,
    at: &str,
    clear: &str,
) -> Result<Value, SectionError> {
    if section == "notifications" {
        return gatehouse_core::mail::seal_password(keyring, tenant, clear)
            .map_err(|e| SectionError::Seal(e.to_string()));
    }
    let aad = format!("gatehouse/settings-secret/{tenant}/{section}/{at}");
    let sealed = keyring
        .seal(clear.as_bytes(), aad.as_bytes())
        .map_err(|e| SectionError::Seal(e.to_string()))?;
    Ok(json!({
        "key_id": sealed.key_id,
        "blob": base64_encode(&sealed.blob),
    }))
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// Turns the clear secrets of `doc` into sealed ones; a secret left out
/// keeps its sealed value from `before`; `null` removes it. A sealed key
/// sent by the client is refused.
fn seal_secrets(
    keyring: &Keyring,
    tenant: TenantId,
    section: &str,
    doc: &mut Value,
    before: Option<&Value>,
) -> Result<(), SectionError> {
    for (s, path, clear_key, sealed_key) in SECRETS {
        if s != section {
            continue;
        }
        let mut previous = before.cloned().unwrap_or(Value::Null);
        let kept: Vec<(String, Value)> = objects_at(&mut previous, path)
            .into_iter()
            .filter_map(|(at, o)| o.get(sealed_key).cloned().map(|v| (at, v)))
            .collect();
        for (at, obj) in objects_at(doc, path) {
            // The marker a read shows in the secret's place (`password_set`)
            // comes back when a client writes what it read: not stored.
            obj.remove(&format!("{clear_key}_set"));
            let field = format!("{section}.{at}.{sealed_key}");
            if obj.contains_key(sealed_key) {
                return Err(SectionError::Field {
                    field,
                    message: format!("is written by the server; send {clear_key} in clear"),
                });
            }
            match obj.remove(clear_key) {
                Some(Value::String(clear)) if !clear.is_empty() => {
                    let sealed = seal(keyring, tenant, section, &at, &clear)?;
                    obj.insert(sealed_key.to_owned(), sealed);
                }
                Some(Value::Null) => {}
                Some(_) => {
                    return Err(SectionError::Field {
                        field: format!("{section}.{at}.{clear_key}"),
                        message: "must be a non-empty string or null".into(),
                    })
                }
                None => {
                    if let Some((_, v)) = kept.iter().find(|(k, _)| *k == at) {
                        obj.insert(sealed_key.to_owned(), v.clone());
                    }
                }
            }
        }
    }
    Ok(())
}

/// `doc` as it may be shown: every sealed secret replaced by
/// `{clear_key}_set: true`.
pub fn masked(section: &str, doc: &Value) -> Value {
    let mut out = doc.clone();
    for (s, path, clear_key, sealed_key) in SECRETS {
        if s != section {
            continue;
        }
        for (_, obj) in objects_at(&mut out, path) {
            if obj.remove(sealed_key).is_some() {
                obj.insert(format!("{clear_key}_set"), Value::Bool(true));
            }
        }
    }
    out
}

/// One stored version of a section (masked).
#[derive(Debug, Clone, Serialize)]
pub struct Version {
    pub version: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub actor_name: Option<String>,
    pub restored_from: Option<i32>,
    pub document: Value,
}

/// What a change needs besides the document.
pub struct Writer<'a> {
    pub db: &'a Db,
    pub bus: &'a EventBus,
    pub keyring: &'a Keyring,
    pub platform: &'a EffectiveSettings,
    pub actor: Actor,
}

/// The tenant's own section documents, masked.
pub async fn overrides(db: &Db, tenant: TenantId) -> Result<Map<String, Value>, SectionError> {
    let rows = crate::settings::load_overrides(db, tenant).await?;
    Ok(rows
        .into_iter()
        .map(|(s, d)| {
            let m = masked(&s, &d);
            (s, m)
        })
        .collect())
}

/// Replaces the tenant's `section` with `doc`: checked against the bounds,
/// secrets sealed, a new version stored, audited with the masked document
/// before and after, announced. Returns the stored document, masked, and
/// its version.
pub async fn update(
    w: &Writer<'_>,
    tenant: &TenantRecord,
    section: &str,
    mut doc: Value,
) -> Result<(Value, i32), SectionError> {
    validate(w.platform, section, &doc)?;
    let mut tx = w.db.tenant_tx(tenant.id).await?;
    let before = current(&mut tx, section).await?;
    seal_secrets(w.keyring, tenant.id, section, &mut doc, before.as_ref())?;
    let version = write(&mut tx, tenant, section, &doc, &w.actor, None).await?;
    audit_change(
        &mut tx,
        &w.actor,
        section,
        before.as_ref(),
        &doc,
        version,
        None,
    )
    .await?;
    tx.commit().await?;
    announce(w.bus, tenant).await;
    Ok((masked(section, &doc), version))
}

/// The checks of [`update`], without writing: a known section, a JSON
/// object, numbers within the exact range, the platform's bounds kept.
pub fn validate(
    platform: &EffectiveSettings,
    section: &str,
    doc: &Value,
) -> Result<(), SectionError> {
    if !SECTIONS.contains(&section) {
        return Err(SectionError::UnknownSection(
            section.chars().take(64).collect(),
        ));
    }
    if !doc.is_object() {
        return Err(SectionError::NotAnObject);
    }
    if let Some(field) = unsafe_number(doc, section) {
        return Err(SectionError::Field {
            field,
            message: format!("must be a number from -{MAX_SAFE} to {MAX_SAFE} (RFC 7493 §2.2)"),
        });
    }
    check(platform, section, doc).map_err(SectionError::Bound)
}

/// `doc` without its sealed secrets, which open only under this
/// deployment's master key and for this tenant, and the fields left out
/// (`notifications.smtp.password`): a tenant export.
pub fn portable(section: &str, doc: &Value) -> (Value, Vec<String>) {
    let mut out = doc.clone();
    let mut omitted = Vec::new();
    for (s, path, clear_key, sealed_key) in SECRETS {
        if s != section {
            continue;
        }
        for (at, obj) in objects_at(&mut out, path) {
            if obj.remove(sealed_key).is_some() {
                omitted.push(format!("{section}.{at}.{clear_key}"));
            }
        }
    }
    (out, omitted)
}

/// Makes version `version` of `section` current again (as a new version),
/// if it still meets today's bounds.
pub async fn restore(
    w: &Writer<'_>,
    tenant: &TenantRecord,
    section: &str,
    version: i32,
) -> Result<(Value, i32), SectionError> {
    if !SECTIONS.contains(&section) {
        return Err(SectionError::UnknownSection(
            section.chars().take(64).collect(),
        ));
    }
    let mut tx = w.db.tenant_tx(tenant.id).await?;
    let old = sqlx::query_scalar!(
        "select document from tenant_settings_versions where section = $1 and version = $2",
        section,
        version,
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(SectionError::NoVersion(version))?;
    check(w.platform, section, &old).map_err(SectionError::Bound)?;
    let before = current(&mut tx, section).await?;
    let new_version = write(&mut tx, tenant, section, &old, &w.actor, Some(version)).await?;
    audit_change(
        &mut tx,
        &w.actor,
        section,
        before.as_ref(),
        &old,
        new_version,
        Some(version),
    )
    .await?;
    tx.commit().await?;
    announce(w.bus, tenant).await;
    Ok((masked(section, &old), new_version))
}

/// The versions of `section`, newest first (at most 100), masked.
pub async fn versions(
    db: &Db,
    tenant: TenantId,
    section: &str,
) -> Result<Vec<Version>, SectionError> {
    if !SECTIONS.contains(&section) {
        return Err(SectionError::UnknownSection(
            section.chars().take(64).collect(),
        ));
    }
    let mut tx = db.tenant_tx(tenant).await?;
    let rows = sqlx::query!(
        "select version, at, actor_kind, actor_id, actor_name, restored_from, document
         from tenant_settings_versions where section = $1 order by version desc limit 100",
        section,
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows
        .into_iter()
        .map(|r| Version {
            version: r.version,
            at: r.at,
            actor_kind: r.actor_kind,
            actor_id: r.actor_id,
            actor_name: r.actor_name,
            restored_from: r.restored_from,
            document: masked(section, &r.document),
        })
        .collect())
}

/// The stored document of `section`, locked for this transaction.
async fn current(
    tx: &mut gatehouse_core::TenantTx,
    section: &str,
) -> Result<Option<Value>, SectionError> {
    Ok(sqlx::query_scalar!(
        "select document from tenant_settings where section = $1 for update",
        section
    )
    .fetch_optional(&mut **tx)
    .await?)
}

/// Stores `doc` as the section and as its next version.
async fn write(
    tx: &mut gatehouse_core::TenantTx,
    tenant: &TenantRecord,
    section: &str,
    doc: &Value,
    actor: &Actor,
    restored_from: Option<i32>,
) -> Result<i32, SectionError> {
    sqlx::query!(
        "insert into tenant_settings (tenant_id, section, document) values ($1, $2, $3)
         on conflict (tenant_id, section) do update set document = excluded.document, updated_at = now()",
        tenant.id.as_uuid(),
        section,
        doc,
    )
    .execute(&mut **tx)
    .await?;
    // The row lock taken by `current` (or the insert just made) serialises
    // writers of this section, so max + 1 cannot collide.
    let version = sqlx::query_scalar!(
        "insert into tenant_settings_versions
             (tenant_id, section, version, document, actor_kind, actor_id, actor_name, restored_from)
         select $1, $2, coalesce(max(version), 0) + 1, $3, $4, $5, $6, $7
         from tenant_settings_versions where section = $2
         returning version",
        tenant.id.as_uuid(),
        section,
        doc,
        actor.kind.as_str(),
        actor.id.as_deref(),
        actor.name.as_deref(),
        restored_from,
    )
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query!(
        "update tenants set updated_at = now() where id = $1",
        tenant.id.as_uuid()
    )
    .execute(&mut **tx)
    .await?;
    Ok(version)
}

async fn audit_change(
    tx: &mut gatehouse_core::TenantTx,
    actor: &Actor,
    section: &str,
    before: Option<&Value>,
    after: &Value,
    version: i32,
    restored_from: Option<i32>,
) -> Result<(), SectionError> {
    audit::record(
        tx,
        &Entry::new(actor.clone(), action::SETTINGS_CHANGED)
            .target("settings", section)
            .details(json!({
                "section": section,
                "version": version,
                "restored_from": restored_from,
                "before": before.map(|b| masked(section, b)),
                "after": masked(section, after),
            })),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn platform() -> EffectiveSettings {
        let mut configured = Map::new();
        configured.insert(
            "security".into(),
            json!({ "password_min_length": 10, "mfa": "required", "password_reject_common": true }),
        );
        configured.insert("ceilings".into(), json!({ "access_token_ttl_secs": 3600 }));
        EffectiveSettings::platform(&configured)
    }

    #[test]
    fn floors_and_ceilings_name_the_field_and_the_bound() {
        let p = platform();
        let bad = [
            (
                "security",
                json!({ "password_min_length": 8 }),
                "security.password_min_length",
                "from 10",
            ),
            (
                "security",
                json!({ "mfa": "optional" }),
                "security.mfa",
                "required (the platform's floor)",
            ),
            (
                "security",
                json!({ "mfa": "sometimes" }),
                "security.mfa",
                "required",
            ),
            (
                "security",
                json!({ "password_reject_common": false }),
                "security.password_reject_common",
                "true",
            ),
            (
                "security",
                json!({ "email_verification": "never" }),
                "security.email_verification",
                "optional or required",
            ),
            (
                "oidc",
                json!({ "access_token_ttl_secs": 7200 }),
                "oidc.access_token_ttl_secs",
                "1 to 3600",
            ),
            (
                "oidc",
                json!({ "access_token_ttl_secs": 0 }),
                "oidc.access_token_ttl_secs",
                "1 to 3600",
            ),
            (
                "oidc",
                json!({ "authorization_code_ttl_secs": 601 }),
                "oidc.authorization_code_ttl_secs",
                "1 to 600",
            ),
            (
                "oidc",
                json!({ "refresh_token_ttl_secs": "long" }),
                "oidc.refresh_token_ttl_secs",
                "whole number",
            ),
            (
                "security",
                json!({ "session_ttl_secs": 99_999_999 }),
                "security.session_ttl_secs",
                "2592000",
            ),
        ];
        for (section, doc, field, bound) in bad {
            let v = check(&p, section, &doc).unwrap_err();
            assert_eq!(v.field, field, "{doc}");
            assert!(v.bound.contains(bound), "{doc}: {}", v.bound);
        }
        for (section, doc) in [
            (
                "security",
                json!({ "password_min_length": 16, "mfa": "required", "email_verification": "required" }),
            ),
            (
                "oidc",
                json!({ "access_token_ttl_secs": 3600, "id_token_ttl_secs": 600 }),
            ),
            ("branding", json!({ "company_name": "Acme" })),
        ] {
            assert_eq!(check(&p, section, &doc), Ok(()), "{doc}");
        }
    }

    #[test]
    fn numbers_beyond_the_exact_range_are_named() {
        let doc = json!({ "a": 1, "b": [0.5, { "c": 1.7976931348623157e308 }] });
        assert_eq!(
            unsafe_number(&doc, "branding").as_deref(),
            Some("branding.b[1].c")
        );
        assert_eq!(
            unsafe_number(
                &json!({ "x": -9_007_199_254_740_991_i64, "y": 1e-300 }),
                "s"
            ),
            None
        );
        assert_eq!(
            unsafe_number(&json!({ "x": 9_007_199_254_740_992_u64 }), "s").as_deref(),
            Some("s.x")
        );
    }

    #[test]
    fn secrets_are_sealed_kept_when_left_out_and_never_shown() {
        let key = gatehouse_core::config::MasterKey::parse(
            "test",
            gatehouse_core::testing::TEST_MASTER_KEY,
        );
        let keyring = Keyring::new(key.ok(), vec![]);
        let tenant = TenantId::new_random();
        let mut doc = json!({ "smtp": { "host": "smtp.acme.example", "from": "a@acme.example", "username": "u", "password": "hunter2" } });
        seal_secrets(&keyring, tenant, "notifications", &mut doc, None).unwrap();
        let smtp = &doc["smtp"];
        assert!(smtp.get("password").is_none());
        assert!(smtp["password_sealed"]["blob"].is_string());
        assert!(!doc.to_string().contains("hunter2"));
        // The mail module opens it for this tenant.
        let opened = gatehouse_core::mail::SmtpSettings::from_notifications(&doc, &keyring, tenant)
            .unwrap()
            .unwrap();
        assert!(format!("{opened:?}").contains("smtp.acme.example"));
        assert_eq!(
            masked("notifications", &doc)["smtp"],
            json!({ "host": "smtp.acme.example", "from": "a@acme.example", "username": "u", "password_set": true })
        );
        // Left out: kept. null: removed. Sent sealed: refused.
        let mut again =
            json!({ "smtp": { "host": "smtp2.acme.example", "from": "a@acme.example" } });
        seal_secrets(&keyring, tenant, "notifications", &mut again, Some(&doc)).unwrap();
        assert_eq!(
            again["smtp"]["password_sealed"],
            doc["smtp"]["password_sealed"]
        );
        let mut removed =
            json!({ "smtp": { "host": "h", "from": "a@b.example", "password": null } });
        seal_secrets(&keyring, tenant, "notifications", &mut removed, Some(&doc)).unwrap();
        assert!(removed["smtp"].get("password_sealed").is_none());
        let mut forged =
            json!({ "smtp": { "host": "h", "from": "a@b.example", "password_sealed": {} } });
        assert!(matches!(
            seal_secrets(&keyring, tenant, "notifications", &mut forged, None),
            Err(SectionError::Field { .. })
        ));
        // Upstream client secrets in integrations, each under its own name.
        let mut up = json!({ "google": { "client_id": "g", "client_secret": "s3cret" }, "github": { "client_id": "h" } });
        seal_secrets(&keyring, tenant, "integrations", &mut up, None).unwrap();
        assert!(up["google"]["client_secret_sealed"].is_object());
        assert!(up["github"].get("client_secret_sealed").is_none());
        assert_eq!(
            masked("integrations", &up)["google"]["client_secret_set"],
            true
        );
    }
}
