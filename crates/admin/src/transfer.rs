//! Tenant export and import: one JSON document with the tenant's settings,
//! custom roles and clients, and optionally its users with their password
//! hashes and roles. It backs a tenant up, moves it to another deployment,
//! or keeps it as configuration in git (`gatehouse tenant export|import`,
//! and the management API).
//!
//! What does not travel, and is named in the document's `omitted`: secrets
//! sealed under this deployment's master key for this tenant (the SMTP
//! password, upstream client secrets, users' authenticator-app secrets and
//! recovery codes), passkeys (bound to the issuer's domain), sessions,
//! tokens, consents, signing keys (the new tenant makes its own) and the
//! audit log. Users keep their ids, so `sub` claims stay the same, and
//! clients keep their ids and secret hashes, so they keep working.

use std::collections::BTreeMap;

use gatehouse_core::audit::{self, action, Actor, Entry};
use gatehouse_core::events::EventBus;
use gatehouse_core::secretbox::Keyring;
use gatehouse_core::Db;
use gatehouse_oidc::clients::{self, PortableClient};
use gatehouse_oidc::users::{self, PortableUser};
use gatehouse_tenancy::sections::{self, SectionError, Writer};
use gatehouse_tenancy::settings::EffectiveSettings;
use gatehouse_tenancy::{TenantError, TenantRecord, Tenants};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::roles;
use crate::StoreError;

/// The document's `format`.
pub const FORMAT: &str = "gatehouse.tenant/1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantDocument {
    /// `gatehouse.tenant/1`.
    pub format: String,
    /// RFC 3339.
    pub exported_at: String,
    pub tenant: TenantPart,
    /// The tenant's own settings sections (over the platform's), secrets
    /// left out.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub settings: Map<String, Value>,
    #[serde(default)]
    pub roles: Vec<RolePart>,
    /// Each client's registration, `client_id` and `secret_hash`.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub clients: Vec<PortableClient>,
    /// Present when exported with users: each user's id, claims, `disabled`,
    /// `password_hash` and `roles`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub users: Option<Vec<UserPart>>,
    /// What this document does not carry: signing keys, sessions, tokens,
    /// consents, the audit log, second factors, and sealed settings
    /// secrets by name. Written by export, ignored by import.
    #[serde(default)]
    pub omitted: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantPart {
    pub slug: String,
    pub display_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolePart {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserPart {
    #[serde(flatten)]
    pub user: PortableUser,
    /// Built-in and custom roles.
    #[serde(default)]
    pub roles: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Tenant(#[from] TenantError),
    #[error(transparent)]
    Settings(#[from] SectionError),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for TransferError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid(m) => Self::Invalid(m),
            StoreError::Duplicate => {
                Self::Invalid("the document names the same user, client or role twice".into())
            }
            other => Self::Store(other),
        }
    }
}

impl From<gatehouse_core::DbError> for TransferError {
    fn from(e: gatehouse_core::DbError) -> Self {
        Self::Store(StoreError::Db(e))
    }
}

/// Things a document never carries.
const ALWAYS_OMITTED: [&str; 5] = [
    "signing keys (the importing deployment makes its own)",
    "sessions, tokens and consents",
    "the audit log",
    "users' second factors: authenticator-app secrets, recovery codes and passkeys",
    "status (an imported tenant starts active)",
];

/// The document of `tenant`; with `with_users`, its users too.
pub async fn export(
    db: &Db,
    tenant: &TenantRecord,
    with_users: bool,
) -> Result<TenantDocument, TransferError> {
    let mut omitted: Vec<String> = ALWAYS_OMITTED.iter().map(|s| (*s).to_owned()).collect();
    let mut settings = Map::new();
    for (section, doc) in gatehouse_tenancy::settings::load_overrides(db, tenant.id).await? {
        let (doc, left_out) = sections::portable(&section, &doc);
        omitted.extend(
            left_out
                .into_iter()
                .map(|f| format!("{f} (sealed for this deployment)")),
        );
        settings.insert(section, doc);
    }
    let mut tx = db.tenant_tx(tenant.id).await?;
    let custom = roles::list(&mut tx).await?;
    let client_list = clients::export_all(&mut tx).await?;
    let user_list = if with_users {
        let mut out = Vec::new();
        for user in users::export_all(&mut tx).await? {
            let held = roles::of_user(&mut tx, user.id).await?;
            out.push(UserPart { user, roles: held });
        }
        Some(out)
    } else {
        omitted.push("users (export with users to include them)".into());
        None
    };
    tx.commit().await?;
    Ok(TenantDocument {
        format: FORMAT.into(),
        exported_at: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        tenant: TenantPart {
            slug: tenant.slug.to_string(),
            display_name: tenant.display_name.clone(),
        },
        settings,
        roles: custom
            .into_iter()
            .map(|r| RolePart {
                name: r.name,
                description: r.description,
            })
            .collect(),
        clients: client_list,
        users: user_list,
        omitted,
    })
}

/// What an import needs besides the document.
pub struct Importer<'a> {
    pub db: &'a Db,
    pub bus: &'a EventBus,
    pub keyring: &'a Keyring,
    pub platform: &'a EffectiveSettings,
    pub tenants: &'a Tenants,
    pub actor: Actor,
    /// Plain-http redirect URIs for any host (development).
    pub allow_http: bool,
}

/// Creates a tenant from `doc` (under `slug` when given, else the
/// document's). Everything is checked before anything is written; should a
/// write still fail, the new tenant is deleted again, so an import either
/// happens whole or not at all.
pub async fn import(
    im: &Importer<'_>,
    doc: &TenantDocument,
    slug: Option<&str>,
) -> Result<TenantRecord, TransferError> {
    if doc.format != FORMAT {
        return Err(TransferError::Invalid(format!(
            "format {:?} is not {FORMAT:?}",
            doc.format
        )));
    }
    for (section, body) in &doc.settings {
        sections::validate(im.platform, section, body)?;
    }
    let mut seen = BTreeMap::new();
    for r in &doc.roles {
        if !roles::valid_name(&r.name) || roles::is_builtin(&r.name) {
            return Err(TransferError::Invalid(format!(
                "{:?} cannot be a custom role",
                r.name
            )));
        }
        if seen.insert(r.name.as_str(), ()).is_some() {
            return Err(TransferError::Invalid(format!("role {:?} twice", r.name)));
        }
    }
    let slug = slug.unwrap_or(&doc.tenant.slug);
    let tenant = im
        .tenants
        .create_by(slug, &doc.tenant.display_name, im.actor.clone())
        .await?;
    match fill(im, &tenant, doc).await {
        Ok(()) => Ok(tenant),
        Err(e) => {
            if let Err(undo) = im.tenants.delete(tenant.slug.as_str()).await {
                tracing::error!(tenant = %tenant.slug, error = %undo, "a failed import left its tenant behind");
            }
            Err(e)
        }
    }
}

async fn fill(
    im: &Importer<'_>,
    tenant: &TenantRecord,
    doc: &TenantDocument,
) -> Result<(), TransferError> {
    let platforms = tenant.slug.as_str() == gatehouse_core::ids::PLATFORMS_SLUG;
    let mut tx = im.db.tenant_tx(tenant.id).await?;
    for r in &doc.roles {
        roles::create(&mut tx, &r.name, &r.description).await?;
    }
    for c in &doc.clients {
        clients::import(&mut tx, c, im.allow_http).await?;
    }
    let users = doc.users.as_deref().unwrap_or_default();
    for u in users {
        users::import(&mut tx, &u.user).await?;
        for role in &u.roles {
            roles::assign(&mut tx, platforms, u.user.id, role).await?;
        }
    }
    audit::record(
        &mut tx,
        &Entry::new(im.actor.clone(), action::TENANT_IMPORTED)
            .target("tenant", tenant.slug.as_str())
            .details(serde_json::json!({
                "from": doc.tenant.slug,
                "exported_at": doc.exported_at,
                "roles": doc.roles.len(),
                "clients": doc.clients.len(),
                "users": users.len(),
                "settings": doc.settings.keys().collect::<Vec<_>>(),
            })),
    )
    .await?;
    tx.commit().await?;
    let writer = Writer {
        db: im.db,
        bus: im.bus,
        keyring: im.keyring,
        platform: im.platform,
        actor: im.actor.clone(),
    };
    for (section, body) in &doc.settings {
        sections::update(&writer, tenant, section, body.clone()).await?;
    }
    Ok(())
}
