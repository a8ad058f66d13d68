//! Tenant export and import: one JSON document with the tenant's settings,
//! custom roles and clients, and optionally its users with their password
//! hashes and roles, and on top of that, only when asked for separately,
//! their second factors. It backs a tenant up, moves it to another
//! deployment, or keeps it as configuration in git (`gatehouse tenant
//! export|import`, and the management API).
//!
//! Second factors: each confirmed authenticator-app (TOTP) factor with its
//! secret in the clear (base32, as the app holds it), since the importing
//! deployment may have another master key; the import seals it under its
//! own. Recovery codes as their hashes, each with the id of the tenant its
//! hash is bound to. Passkeys as stored; they work only where the tenant
//! keeps its host (the WebAuthn RP ID). Such a document is as sensitive as
//! the factors themselves.
//!
//! What does not travel, and is named in the document's `omitted`: secrets
//! sealed under this deployment's master key for this tenant (the SMTP
//! password, upstream client secrets), second factors unless asked for,
//! pending authenticator-app enrolments, sessions, tokens, consents,
//! signing keys (the new tenant makes its own) and the audit log. Users
//! keep their ids, so `sub` claims stay the same, and clients keep their
//! ids and secret hashes, so they keep working.

use std::collections::{BTreeMap, BTreeSet};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use gatehouse_core::audit::{self, action, Actor, Entry};
use gatehouse_core::events::EventBus;
use gatehouse_core::secretbox::{Keyring, SealError};
use gatehouse_core::Db;
use gatehouse_oidc::clients::{self, PortableClient};
use gatehouse_oidc::mfa::{self, MfaError, PortableRecoveryCode, PortableTotp, TotpSecret};
use gatehouse_oidc::passkeys::{self, PasskeyError, PortablePasskey};
use gatehouse_oidc::users::{self, PortableUser};
use gatehouse_tenancy::sections::{self, SectionError, Writer};
use gatehouse_tenancy::settings::EffectiveSettings;
use gatehouse_tenancy::{TenantError, TenantRecord, Tenants};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

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
    /// `password_hash` and `roles`; exported with second factors also
    /// `totp` (the secret in the clear), `recovery_codes` and `passkeys`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub users: Option<Vec<UserPart>>,
    /// What this document does not carry: signing keys, sessions, tokens,
    /// consents, the audit log, second factors unless exported with them,
    /// and sealed settings secrets by name. Written by export, ignored by
    /// import.
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
    /// Exported with second factors: the confirmed authenticator-app factor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp: Option<TotpPart>,
    /// Exported with second factors: the recovery codes, used or not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recovery_codes: Vec<RecoveryCodePart>,
    /// Exported with second factors: the passkeys.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub passkeys: Vec<PasskeyPart>,
}

/// A confirmed authenticator-app (TOTP) factor. `Debug` hides the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TotpPart {
    /// The shared secret in the clear: RFC 4648 base32, unpadded, as the
    /// authenticator app holds it (160 bits).
    pub secret: TotpSecret,
    /// RFC 3339.
    #[serde(with = "time::serde::rfc3339")]
    pub confirmed_at: OffsetDateTime,
    /// The RFC 6238 time step of the last accepted code: a code of that
    /// step or an earlier one stays refused after an import.
    pub last_step: i64,
}

/// A recovery code, as its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoveryCodePart {
    /// SHA-256 of the code bound to `hash_tenant_id` and the user: 64
    /// lower-case hex digits.
    pub hash: String,
    /// RFC 3339; null while unused.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub used_at: Option<OffsetDateTime>,
    /// The tenant the hash is bound to: the one that issued the code.
    pub hash_tenant_id: Uuid,
}

/// A passkey (WebAuthn credential) as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasskeyPart {
    pub id: Uuid,
    /// The credential ID, base64url without padding.
    pub credential_id: String,
    /// webauthn-rs' `Passkey` (public key, signature counter, flags).
    pub passkey: Value,
    pub name: String,
    /// RFC 3339.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// RFC 3339.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
}

/// What an export carries besides settings, custom roles and clients.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Include {
    /// The users, with their password hashes and roles.
    pub users: bool,
    /// With `users`: their second factors, authenticator-app secrets in the
    /// clear.
    pub mfa: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Tenant(#[from] TenantError),
    #[error(transparent)]
    Settings(#[from] SectionError),
    /// A secret could not be opened or sealed under the master keys.
    #[error(transparent)]
    Seal(#[from] SealError),
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

impl From<MfaError> for TransferError {
    fn from(e: MfaError) -> Self {
        match e {
            MfaError::Db(e) => e.into(),
            MfaError::Seal(e) => Self::Seal(e),
            other => Self::Invalid(other.to_string()),
        }
    }
}

impl From<PasskeyError> for TransferError {
    fn from(e: PasskeyError) -> Self {
        match e {
            PasskeyError::Db(e) => e.into(),
            PasskeyError::AlreadyRegistered => {
                Self::Invalid("the document holds the same passkey twice".into())
            }
            other => Self::Invalid(other.to_string()),
        }
    }
}

/// Things a document never carries.
const ALWAYS_OMITTED: [&str; 4] = [
    "signing keys (the importing deployment makes its own)",
    "sessions, tokens and consents",
    "the audit log",
    "status (an imported tenant starts active)",
];

/// The document of `tenant`, with what `include` asks for. Second factors
/// need the keyring that opens the authenticator-app secrets.
pub async fn export(
    db: &Db,
    keyring: &Keyring,
    tenant: &TenantRecord,
    include: Include,
    actor: Actor,
) -> Result<TenantDocument, TransferError> {
    if include.mfa && !include.users {
        return Err(TransferError::Invalid(
            "second factors travel with their users: export them with users".into(),
        ));
    }
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
    let user_list = if include.users {
        let mut factors = if include.mfa {
            omitted.push("pending authenticator-app enrolments".into());
            Some(Factors::load(&mut tx, keyring).await?)
        } else {
            omitted.push(
                "users' second factors: authenticator-app secrets, recovery codes and passkeys \
                 (export with mfa to include them)"
                    .into(),
            );
            None
        };
        let mut out = Vec::new();
        for user in users::export_all(&mut tx).await? {
            let held = roles::of_user(&mut tx, user.id).await?;
            let mut part = UserPart {
                user,
                roles: held,
                totp: None,
                recovery_codes: Vec::new(),
                passkeys: Vec::new(),
            };
            if let Some(f) = &mut factors {
                f.attach(&mut part);
            }
            out.push(part);
        }
        Some(out)
    } else {
        omitted.push("users (export with users to include them)".into());
        None
    };
    // Who took a copy, and whether it holds password hashes and secrets.
    audit::record(
        &mut tx,
        &Entry::new(actor, action::TENANT_EXPORTED)
            .target("tenant", tenant.slug.as_str())
            .details(serde_json::json!({ "users": include.users, "mfa": include.mfa })),
    )
    .await?;
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

/// The tenant's second factors, by user.
#[derive(Default)]
struct Factors {
    totp: BTreeMap<Uuid, PortableTotp>,
    recovery_codes: BTreeMap<Uuid, Vec<PortableRecoveryCode>>,
    passkeys: BTreeMap<Uuid, Vec<PortablePasskey>>,
}

impl Factors {
    async fn load(
        tx: &mut gatehouse_core::TenantTx,
        keyring: &Keyring,
    ) -> Result<Self, TransferError> {
        let mut f = Self::default();
        for t in mfa::export_totp(tx, keyring).await? {
            f.totp.insert(t.user_id, t);
        }
        for c in mfa::export_recovery_codes(tx).await? {
            f.recovery_codes.entry(c.user_id).or_default().push(c);
        }
        for p in passkeys::export_all(tx).await? {
            f.passkeys.entry(p.user_id).or_default().push(p);
        }
        Ok(f)
    }

    /// Moves the user's factors into their part of the document.
    fn attach(&mut self, part: &mut UserPart) {
        let id = part.user.id;
        part.totp = self.totp.remove(&id).map(|t| TotpPart {
            secret: t.secret,
            confirmed_at: t.confirmed_at,
            last_step: t.last_step,
        });
        part.recovery_codes = self
            .recovery_codes
            .remove(&id)
            .unwrap_or_default()
            .into_iter()
            .map(|c| RecoveryCodePart {
                hash: c.code_hash,
                used_at: c.used_at,
                hash_tenant_id: c.hash_tenant_id,
            })
            .collect();
        part.passkeys = self
            .passkeys
            .remove(&id)
            .unwrap_or_default()
            .into_iter()
            .map(|p| PasskeyPart {
                id: p.id,
                credential_id: URL_SAFE_NO_PAD.encode(&p.credential_id),
                passkey: p.passkey,
                name: p.name,
                created_at: p.created_at,
                last_used_at: p.last_used_at,
            })
            .collect();
    }

    /// The second factors of the document's users, checked: every TOTP
    /// secret (160 bits of base32), recovery-code hash (64 lower-case hex
    /// digits, none twice for a user) and passkey (webauthn-rs' `Passkey`
    /// with its own credential ID, no credential ID or passkey id twice in
    /// the document). Errors name the user.
    fn from_document(users: &[UserPart]) -> Result<Self, TransferError> {
        let mut f = Self::default();
        let mut credential_ids = BTreeSet::new();
        let mut passkey_ids = BTreeSet::new();
        for u in users {
            let id = u.user.id;
            let who = |what: &str, e: &dyn std::fmt::Display| {
                TransferError::Invalid(format!("user {:?}: {what}: {e}", u.user.username))
            };
            if let Some(t) = &u.totp {
                let totp = PortableTotp {
                    user_id: id,
                    secret: t.secret.clone(),
                    confirmed_at: t.confirmed_at,
                    last_step: t.last_step,
                };
                mfa::check_totp(&totp).map_err(|e| who("totp", &e))?;
                f.totp.insert(id, totp);
            }
            let mut hashes = BTreeSet::new();
            for c in &u.recovery_codes {
                if !mfa::valid_recovery_hash(&c.hash) {
                    return Err(who(
                        "recovery_codes",
                        &"a hash must be 64 lower-case hex digits",
                    ));
                }
                if !hashes.insert(c.hash.as_str()) {
                    return Err(who("recovery_codes", &"the same code twice"));
                }
                f.recovery_codes
                    .entry(id)
                    .or_default()
                    .push(PortableRecoveryCode {
                        user_id: id,
                        code_hash: c.hash.clone(),
                        used_at: c.used_at,
                        hash_tenant_id: c.hash_tenant_id,
                    });
            }
            for p in &u.passkeys {
                let credential_id = URL_SAFE_NO_PAD.decode(&p.credential_id).map_err(|_| {
                    who(
                        "passkeys",
                        &"credential_id must be base64url without padding",
                    )
                })?;
                let passkey = PortablePasskey {
                    id: p.id,
                    user_id: id,
                    credential_id,
                    passkey: p.passkey.clone(),
                    name: p.name.clone(),
                    created_at: p.created_at,
                    last_used_at: p.last_used_at,
                };
                passkeys::check_portable(&passkey).map_err(|e| who("passkeys", &e))?;
                if !credential_ids.insert(passkey.credential_id.clone()) {
                    return Err(who(
                        "passkeys",
                        &"a credential ID the document already holds",
                    ));
                }
                if !passkey_ids.insert(p.id) {
                    return Err(who("passkeys", &"an id the document already holds"));
                }
                f.passkeys.entry(id).or_default().push(passkey);
            }
        }
        Ok(f)
    }

    fn counts(&self) -> (usize, usize, usize) {
        (
            self.totp.len(),
            self.recovery_codes.values().map(Vec::len).sum(),
            self.passkeys.values().map(Vec::len).sum(),
        )
    }
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
    let factors = Factors::from_document(doc.users.as_deref().unwrap_or_default())?;
    if !factors.totp.is_empty() && !im.keyring.has_current() {
        // The secrets are sealed under the current master key.
        return Err(SealError::NoKey.into());
    }
    let slug = slug.unwrap_or(&doc.tenant.slug);
    let tenant = im
        .tenants
        .create_by(slug, &doc.tenant.display_name, im.actor.clone())
        .await?;
    match fill(im, &tenant, doc, &factors).await {
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
    factors: &Factors,
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
        let id = u.user.id;
        if let Some(t) = factors.totp.get(&id) {
            mfa::import_totp(&mut tx, im.keyring, t).await?;
        }
        if let Some(codes) = factors.recovery_codes.get(&id) {
            mfa::import_recovery_codes(&mut tx, codes).await?;
        }
        for p in factors.passkeys.get(&id).into_iter().flatten() {
            passkeys::import(&mut tx, p).await?;
        }
    }
    let (totp_factors, recovery_codes, passkey_count) = factors.counts();
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
                "totp_factors": totp_factors,
                "recovery_codes": recovery_codes,
                "passkeys": passkey_count,
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
