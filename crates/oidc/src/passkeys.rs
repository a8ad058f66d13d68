//! Passkeys: WebAuthn public key credentials of a tenant's users, as a
//! second factor and for passwordless sign-in. Ceremonies, storage and the
//! account page's list, rename and remove; the pages and routes live in the
//! web crate, the browser side in `assets/passkeys.js`. The WebAuthn
//! verification itself is the `webauthn-rs` crate's (Web Authentication
//! Level 3, §7.1 registration, §7.2 assertion).
//!
//! # One relying party per tenant
//!
//! [`Rp::for_issuer`] derives the relying party from the tenant's issuer:
//! the RP ID is the issuer's host (§4 "RP ID": a valid domain, never an IP
//! address) and the only accepted origin is the issuer's origin, scheme,
//! host and port (§13.4.9: the RP checks `clientDataJSON.origin` against
//! the origins it expects; no subdomains, no other ports). By tenant mode:
//!
//! - subdomain: `https://acme.id.example.com` → RP ID `acme.id.example.com`;
//! - custom domain: `https://login.acme.com` → RP ID `login.acme.com`;
//! - path: `https://id.example.com/t/acme` → RP ID `id.example.com`, shared
//!   by every path tenant of the deployment.
//!
//! The RP ID is part of what the authenticator signs (`rpIdHash`, §6.1), so
//! with distinct RP IDs a credential of tenant A is refused at tenant B
//! cryptographically. In path mode it is not: a browser may offer tenant
//! A's passkey at tenant B and its signature is valid there. What refuses
//! it is that every credential is looked up only inside the tenant's
//! row-level-security transaction ([`TenantTx`]), where another tenant's
//! credential does not exist; the functions here never look a credential up
//! any other way. Changing a tenant's issuer host changes its RP ID and
//! strands its passkeys (authenticators bind credentials to the RP ID). For
//! the same reason a tenant export carries passkeys as stored
//! ([`export_all`], [`import`]), and they work after an import only where
//! the tenant keeps its host.
//!
//! Plain `http` is accepted only for `localhost` and `*.localhost`, the
//! hosts browsers treat as secure contexts (W3C Secure Contexts §3.1);
//! WebAuthn is available to secure contexts only (§5.1).
//!
//! # Ceremonies
//!
//! A `start_*` function returns a ceremony id and the options for the
//! browser (`navigator.credentials.create/get`, §5.1.3, §5.1.4) as JSON.
//! The ceremony's state (challenge, expected user, allowed credentials)
//! stays on the server, in [`Kv`] under the tenant's prefix and the hash of
//! the id, for [`CEREMONY_TTL`]; the matching `finish_*` takes it
//! (GETDEL), so each ceremony is verified at most once, whatever its
//! outcome, and a replayed response finds nothing.
//!
//! User verification is required at registration and sign-in (§5.8.6,
//! `required`), so a passkey is itself multi-factor (possession and PIN or
//! biometric). Registration asks for a discoverable credential
//! (`residentKey: "preferred"`, §5.4.6) so the passkey also works without a
//! username. The user handle (§14.6.1: no personal data) is the user's
//! random id. The signature counter is checked and stored (§6.1.1, §7.2:
//! a nonzero counter that does not grow refuses the assertion, a sign of a
//! cloned authenticator), as are the backup flags (§6.1.3).
//!
//! Nothing here logs a challenge, a credential, a signature or a ceremony
//! id; refusals are logged at debug level with the reason only.

use std::time::Duration;

use gatehouse_core::crypto::{random_token, secret_hash};
use gatehouse_core::kv::{Kv, KvError};
use gatehouse_core::{DbError, TenantId, TenantTx};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use url::{Host, Url};
use uuid::Uuid;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, DiscoverableKey, Passkey, PasskeyAuthentication,
    PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential, Webauthn,
    WebauthnBuilder,
};

/// How long a ceremony may take, from its options to the browser's answer;
/// also the timeout given to the browser (§5.4 `timeout`; webauthn-rs'
/// default, after the spec's recommendation).
pub const CEREMONY_TTL: Duration = Duration::from_secs(300);

/// The longest passkey name, in characters.
pub const NAME_MAX_CHARS: usize = 64;

/// §7.1: a credential ID longer than 1023 bytes is refused.
const CREDENTIAL_ID_MAX_BYTES: usize = 1023;

#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    #[error("passkeys cannot be used at this issuer: {0}")]
    Config(&'static str),
    #[error("a passkey name is 1 to 64 characters, without control characters")]
    Name,
    #[error("the passkey ceremony is unknown, expired, already used or not this user's")]
    Ceremony,
    #[error("the browser's answer is not a WebAuthn credential")]
    Malformed,
    /// The credential was not accepted: a bad signature, origin, RP ID or
    /// challenge, missing user verification, a credential that does not
    /// exist in this tenant or is not the expected user's. Deliberately one
    /// variant, so the caller cannot tell them apart.
    #[error("the passkey was not accepted")]
    Rejected,
    #[error("this passkey is already registered")]
    AlreadyRegistered,
    #[error("the user has no passkeys")]
    NoPasskeys,
    #[error("no such user in this tenant")]
    UnknownUser,
    #[error("a stored passkey is unusable")]
    Stored,
    #[error("the WebAuthn options could not be built")]
    Options,
    /// An exported passkey that cannot be imported.
    #[error("{0}")]
    NotPortable(&'static str),
    #[error(transparent)]
    Kv(#[from] KvError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for PasskeyError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::Database(d) if d.is_unique_violation() => Self::AlreadyRegistered,
            sqlx::Error::Database(d) if d.is_foreign_key_violation() => Self::UnknownUser,
            other => Self::Db(other.into()),
        }
    }
}

/// A refusal, logged with its reason (never the material) and returned as
/// the one indistinguishable [`PasskeyError::Rejected`].
fn rejected(reason: &dyn std::fmt::Display) -> PasskeyError {
    tracing::debug!(%reason, "passkey refused");
    PasskeyError::Rejected
}

/// A tenant's WebAuthn relying party: its RP ID and the one origin it
/// accepts. Cheap to build; one per tenant (per issuer).
#[derive(Clone)]
pub struct Rp {
    webauthn: Webauthn,
    id: String,
    origin: Url,
}

impl std::fmt::Debug for Rp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rp")
            .field("id", &self.id)
            .field("origin", &self.origin.as_str())
            .finish_non_exhaustive()
    }
}

impl Rp {
    /// The relying party of the tenant whose issuer is `issuer`: RP ID =
    /// the issuer's host without port, origin = its scheme, host and port
    /// (see the module documentation for the tenant modes). `rp_name` is
    /// what authenticators may show (the tenant's display name); blank
    /// means the RP ID.
    ///
    /// Refused: an IP address as host (§4 "RP ID" is a valid domain;
    /// browsers refuse an IP), and `http` anywhere but `localhost` and
    /// `*.localhost` (§5.1: secure contexts only).
    pub fn for_issuer(issuer: &str, rp_name: &str) -> Result<Self, PasskeyError> {
        let url =
            Url::parse(issuer).map_err(|_| PasskeyError::Config("the issuer is not a URL"))?;
        let id = match url.host() {
            Some(Host::Domain(d)) if !d.is_empty() && !d.ends_with('.') => d.to_owned(),
            Some(Host::Domain(_)) | None => {
                return Err(PasskeyError::Config("the issuer has no usable host"))
            }
            Some(Host::Ipv4(_) | Host::Ipv6(_)) => {
                return Err(PasskeyError::Config(
                    "an IP address cannot be a WebAuthn RP ID; use a domain name",
                ))
            }
        };
        match url.scheme() {
            "https" => {}
            "http" if is_localhost(&id) => {}
            _ => {
                return Err(PasskeyError::Config(
                    "WebAuthn needs an https issuer (plain http only on localhost)",
                ))
            }
        }
        let origin = Url::parse(&url.origin().ascii_serialization())
            .map_err(|_| PasskeyError::Config("the issuer has no origin"))?;
        let rp_name = match rp_name.trim() {
            "" => id.as_str(),
            name => name,
        };
        let webauthn = WebauthnBuilder::new(&id, &origin)
            .map_err(|_| PasskeyError::Config("the RP ID is not the origin's domain"))?
            .rp_name(rp_name)
            .timeout(CEREMONY_TTL)
            .build()
            .map_err(|_| PasskeyError::Config("the relying party could not be built"))?;
        Ok(Self {
            webauthn,
            id,
            origin,
        })
    }

    /// The RP ID (a domain).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The one origin accepted in `clientDataJSON` (§13.4.9).
    pub fn origin(&self) -> &Url {
        &self.origin
    }
}

/// Hosts that browsers treat as secure contexts over plain http.
fn is_localhost(host: &str) -> bool {
    host == "localhost" || host.ends_with(".localhost")
}

/// A passkey as the account page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyInfo {
    pub id: Uuid,
    pub name: String,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
}

/// A verified sign-in with a passkey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    pub user_id: Uuid,
    pub passkey_id: Uuid,
    /// Whether the authenticator verified the user (PIN, biometric). Always
    /// true today, since verification is required; kept so the caller can
    /// decide the `amr` and the second-factor question from the result.
    pub user_verified: bool,
}

/// What the server keeps between a ceremony's start and finish.
#[derive(Serialize, Deserialize)]
struct Ceremony {
    /// The relying party it was started for; finishing needs the same one.
    rp_id: String,
    origin: String,
    step: Step,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Step {
    Register {
        user_id: Uuid,
        state: PasskeyRegistration,
    },
    /// A known user: only their credentials are allowed.
    Authenticate {
        user_id: Uuid,
        state: PasskeyAuthentication,
    },
    /// No user yet: the credential and its user handle say who it is.
    Discover { state: DiscoverableAuthentication },
}

fn ceremony_key(ceremony_id: &str) -> String {
    format!("webauthn:{}", secret_hash(ceremony_id))
}

async fn put_ceremony(
    kv: &Kv,
    tenant: TenantId,
    rp: &Rp,
    step: Step,
) -> Result<String, PasskeyError> {
    let ceremony = Ceremony {
        rp_id: rp.id.clone(),
        origin: rp.origin.as_str().to_owned(),
        step,
    };
    let value = serde_json::to_vec(&ceremony).map_err(|_| PasskeyError::Options)?;
    let id = random_token();
    kv.set(tenant, &ceremony_key(&id), &value, CEREMONY_TTL)
        .await?;
    Ok(id)
}

/// Takes (once) the tenant's ceremony `ceremony_id`, started for `rp`.
async fn take_ceremony(
    kv: &Kv,
    tenant: TenantId,
    rp: &Rp,
    ceremony_id: &str,
) -> Result<Step, PasskeyError> {
    let raw = kv
        .take(tenant, &ceremony_key(ceremony_id))
        .await?
        .ok_or(PasskeyError::Ceremony)?;
    let ceremony: Ceremony = serde_json::from_slice(&raw).map_err(|_| PasskeyError::Ceremony)?;
    if ceremony.rp_id != rp.id || ceremony.origin != rp.origin.as_str() {
        return Err(PasskeyError::Ceremony);
    }
    Ok(ceremony.step)
}

/// Starts registering a passkey for `user_id`. Returns the ceremony id and
/// the `CreationChallengeResponse` (`{"publicKey": …}`) for the browser.
/// The user's existing credentials are excluded (§5.4
/// `excludeCredentials`), user verification is required, and a
/// discoverable credential is preferred. `user_name` (username or email)
/// and `display_name` only label the passkey in the authenticator.
pub async fn start_registration(
    tx: &mut TenantTx,
    kv: &Kv,
    rp: &Rp,
    user_id: Uuid,
    user_name: &str,
    display_name: &str,
) -> Result<(String, serde_json::Value), PasskeyError> {
    let exists = sqlx::query_scalar!(
        "select exists(select 1 from users where id = $1) as \"exists!\"",
        user_id,
    )
    .fetch_one(&mut **tx)
    .await?;
    if !exists {
        return Err(PasskeyError::UnknownUser);
    }
    let existing = sqlx::query_scalar!(
        "select credential_id from passkeys where user_id = $1",
        user_id,
    )
    .fetch_all(&mut **tx)
    .await?;
    let exclude = existing.into_iter().map(Into::into).collect();
    let display_name = match display_name.trim() {
        "" => user_name,
        name => name,
    };
    let (options, state) = rp
        .webauthn
        .start_passkey_registration(user_id, user_name, display_name, Some(exclude))
        .map_err(|_| PasskeyError::Options)?;
    let mut options = serde_json::to_value(&options).map_err(|_| PasskeyError::Options)?;
    prefer_resident_key(&mut options)?;
    let id = put_ceremony(kv, tx.tenant(), rp, Step::Register { user_id, state }).await?;
    Ok((id, options))
}

/// webauthn-rs asks for `residentKey: "discouraged"` for passkeys; ask for
/// `"preferred"` (§5.4.6) so the passkey can sign in without a username.
/// `requireResidentKey` stays false, as §5.4.4 wants for anything but
/// `"required"`. Registration does not depend on the answer: both kinds of
/// credential verify the same way.
fn prefer_resident_key(options: &mut serde_json::Value) -> Result<(), PasskeyError> {
    let selection = options
        .pointer_mut("/publicKey/authenticatorSelection")
        .and_then(serde_json::Value::as_object_mut)
        .ok_or(PasskeyError::Options)?;
    selection.insert("residentKey".into(), "preferred".into());
    selection.insert("requireResidentKey".into(), false.into());
    Ok(())
}

/// Finishes a registration: `credential` is the browser's
/// `RegisterPublicKeyCredential` as JSON, `name` the user's label for the
/// passkey (trimmed; 1 to [`NAME_MAX_CHARS`] characters). The ceremony must
/// be a registration started for this `user_id` at this relying party; it
/// is used up whatever the outcome, except that an invalid name is refused
/// before the ceremony is touched (the user can fix it and resubmit).
///
/// Verification (§7.1) is webauthn-rs's: challenge, origin, RP ID hash,
/// user presence and verification, algorithm. A credential ID already
/// registered in this tenant is refused ([`PasskeyError::AlreadyRegistered`],
/// §7.1: "verify that the credentialId is not yet registered").
pub async fn finish_registration(
    tx: &mut TenantTx,
    kv: &Kv,
    rp: &Rp,
    user_id: Uuid,
    ceremony_id: &str,
    credential: &serde_json::Value,
    name: &str,
) -> Result<PasskeyInfo, PasskeyError> {
    let name = valid_name(name)?;
    let Step::Register {
        user_id: owner,
        state,
    } = take_ceremony(kv, tx.tenant(), rp, ceremony_id).await?
    else {
        return Err(PasskeyError::Ceremony);
    };
    if owner != user_id {
        return Err(PasskeyError::Ceremony);
    }
    let response = RegisterPublicKeyCredential::deserialize(credential)
        .map_err(|_| PasskeyError::Malformed)?;
    let passkey = rp
        .webauthn
        .finish_passkey_registration(&response, &state)
        .map_err(|e| rejected(&e))?;
    let credential_id: &[u8] = passkey.cred_id().as_ref();
    if credential_id.is_empty() || credential_id.len() > CREDENTIAL_ID_MAX_BYTES {
        return Err(rejected(&"credential id length"));
    }
    let stored = serde_json::to_value(&passkey).map_err(|_| PasskeyError::Stored)?;
    let row = sqlx::query!(
        "insert into passkeys (tenant_id, id, user_id, credential_id, passkey, name)
         values ($1, $2, $3, $4, $5, $6)
         returning id, name, created_at, last_used_at",
        tx.tenant().as_uuid(),
        Uuid::new_v4(),
        user_id,
        credential_id,
        stored,
        name,
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok(PasskeyInfo {
        id: row.id,
        name: row.name,
        created_at: row.created_at,
        last_used_at: row.last_used_at,
    })
}

/// Starts a sign-in. With `Some(user)`: only that user's passkeys are
/// allowed (`allowCredentials`), for a second factor or a user who gave a
/// username ([`PasskeyError::NoPasskeys`] if they have none). With `None`:
/// a discoverable-credential ceremony (passwordless: empty
/// `allowCredentials`, §5.5; client-side discoverable credentials,
/// §6.2.2), whose answer names its user.
///
/// Returns the ceremony id and the `RequestChallengeResponse`
/// (`{"publicKey": …}`) for the browser. The options ask for no mediation:
/// the page's script asks for conditional mediation (autofill) itself
/// where the page wants it.
pub async fn start_authentication(
    tx: &mut TenantTx,
    kv: &Kv,
    rp: &Rp,
    user: Option<Uuid>,
) -> Result<(String, serde_json::Value), PasskeyError> {
    let (options, step) = match user {
        Some(user_id) => {
            let stored = sqlx::query_scalar!(
                "select passkey from passkeys where user_id = $1 order by created_at, id",
                user_id,
            )
            .fetch_all(&mut **tx)
            .await?;
            if stored.is_empty() {
                return Err(PasskeyError::NoPasskeys);
            }
            let passkeys = stored
                .into_iter()
                .map(serde_json::from_value)
                .collect::<Result<Vec<Passkey>, _>>()
                .map_err(|_| PasskeyError::Stored)?;
            let (options, state) = rp
                .webauthn
                .start_passkey_authentication(&passkeys)
                .map_err(|_| PasskeyError::Options)?;
            (options, Step::Authenticate { user_id, state })
        }
        None => {
            let (mut options, state) = rp
                .webauthn
                .start_discoverable_authentication()
                .map_err(|_| PasskeyError::Options)?;
            options.mediation = None;
            (options, Step::Discover { state })
        }
    };
    let options = serde_json::to_value(&options).map_err(|_| PasskeyError::Options)?;
    let id = put_ceremony(kv, tx.tenant(), rp, step).await?;
    Ok((id, options))
}

/// Finishes a sign-in: `credential` is the browser's `PublicKeyCredential`
/// (an assertion) as JSON. The ceremony is used up whatever the outcome.
///
/// The credential is looked up by its id in this tenant only, and must be
/// the expected user's (known-user ceremony) or the one its user handle
/// names (discoverable ceremony). §7.2, identifying the user: without a
/// user known beforehand the user handle must be present and map to the
/// credential's owner; when present in a known-user ceremony it must map
/// to that user too. Then webauthn-rs verifies it (§7.2: challenge,
/// origin, RP ID hash, user presence and verification, signature,
/// signature counter). The stored passkey's counter and backup flags are
/// updated and its `last_used_at` set.
///
/// A discoverable sign-in is verified against the stored row as it is
/// now; a known-user sign-in against the user's credentials as webauthn-rs
/// kept them in the ceremony's state when it started (so its counter check
/// compares with the counter of that moment). Either way the stored
/// counter only ever grows.
///
/// A credential that is not found, not the user's, or fails verification
/// is the same [`PasskeyError::Rejected`].
pub async fn finish_authentication(
    tx: &mut TenantTx,
    kv: &Kv,
    rp: &Rp,
    ceremony_id: &str,
    credential: &serde_json::Value,
) -> Result<Authenticated, PasskeyError> {
    let step = take_ceremony(kv, tx.tenant(), rp, ceremony_id).await?;
    if matches!(step, Step::Register { .. }) {
        return Err(PasskeyError::Ceremony);
    }
    let response =
        PublicKeyCredential::deserialize(credential).map_err(|_| PasskeyError::Malformed)?;
    // Locked: concurrent sign-ins with one credential update it one after
    // the other.
    let Some(row) = sqlx::query!(
        "select id, user_id, passkey from passkeys where credential_id = $1 for update",
        response.get_credential_id(),
    )
    .fetch_optional(&mut **tx)
    .await?
    else {
        return Err(rejected(&"credential not registered in this tenant"));
    };
    let handle = response.get_user_unique_id();
    if handle.is_some_and(|h| h != row.user_id.as_bytes()) {
        return Err(rejected(&"the user handle names another user"));
    }
    let mut passkey: Passkey =
        serde_json::from_value(row.passkey).map_err(|_| PasskeyError::Stored)?;
    let verified = match step {
        Step::Authenticate { user_id, state } => {
            if user_id != row.user_id {
                return Err(rejected(&"the credential is another user's"));
            }
            rp.webauthn.finish_passkey_authentication(&response, &state)
        }
        Step::Discover { state } => {
            if handle.is_none() {
                return Err(rejected(&"no user handle in a discoverable sign-in"));
            }
            let key = DiscoverableKey::from(&passkey);
            rp.webauthn
                .finish_discoverable_authentication(&response, state, &[key])
        }
        Step::Register { .. } => return Err(PasskeyError::Ceremony),
    };
    let result = verified.map_err(|e| rejected(&e))?;
    let changed = passkey.update_credential(&result).unwrap_or(false);
    let updated = if changed {
        Some(serde_json::to_value(&passkey).map_err(|_| PasskeyError::Stored)?)
    } else {
        None
    };
    sqlx::query!(
        "update passkeys set passkey = coalesce($2, passkey), last_used_at = now(),
                updated_at = now()
         where id = $1",
        row.id,
        updated,
    )
    .execute(&mut **tx)
    .await?;
    Ok(Authenticated {
        user_id: row.user_id,
        passkey_id: row.id,
        user_verified: result.user_verified(),
    })
}

/// The user's passkeys, oldest first.
pub async fn list(tx: &mut TenantTx, user_id: Uuid) -> Result<Vec<PasskeyInfo>, PasskeyError> {
    Ok(sqlx::query_as!(
        PasskeyInfo,
        "select id, name, created_at, last_used_at from passkeys
         where user_id = $1 order by created_at, id",
        user_id,
    )
    .fetch_all(&mut **tx)
    .await?)
}

/// Renames one of the user's passkeys (trimmed; 1 to [`NAME_MAX_CHARS`]
/// characters). False when the user has no such passkey.
pub async fn rename(
    tx: &mut TenantTx,
    user_id: Uuid,
    id: Uuid,
    name: &str,
) -> Result<bool, PasskeyError> {
    let name = valid_name(name)?;
    Ok(sqlx::query!(
        "update passkeys set name = $3, updated_at = now() where user_id = $1 and id = $2",
        user_id,
        id,
        name,
    )
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1)
}

/// Removes one of the user's passkeys. False when the user has no such
/// passkey. (Whether the user may remove their last way to sign in is the
/// caller's decision: see [`count`].)
pub async fn remove(tx: &mut TenantTx, user_id: Uuid, id: Uuid) -> Result<bool, PasskeyError> {
    Ok(sqlx::query!(
        "delete from passkeys where user_id = $1 and id = $2",
        user_id,
        id,
    )
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1)
}

/// How many passkeys the user has.
pub async fn count(tx: &mut TenantTx, user_id: Uuid) -> Result<i64, PasskeyError> {
    Ok(sqlx::query_scalar!(
        "select count(*) as \"n!\" from passkeys where user_id = $1",
        user_id,
    )
    .fetch_one(&mut **tx)
    .await?)
}

/// A passkey as a tenant export carries it: the row as stored. It holds no
/// secret, but it only works where the tenant keeps its RP ID (its issuer's
/// host): authenticators bind the credential to it.
#[derive(Debug, Clone, PartialEq)]
pub struct PortablePasskey {
    pub id: Uuid,
    pub user_id: Uuid,
    /// The raw credential ID.
    pub credential_id: Vec<u8>,
    /// webauthn-rs' `Passkey`, as it serialises it.
    pub passkey: serde_json::Value,
    pub name: String,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
}

/// Every passkey of the tenant, by user, oldest first.
pub async fn export_all(tx: &mut TenantTx) -> Result<Vec<PortablePasskey>, PasskeyError> {
    Ok(sqlx::query_as!(
        PortablePasskey,
        "select id, user_id, credential_id, passkey, name, created_at, last_used_at
         from passkeys order by user_id, created_at, id",
    )
    .fetch_all(&mut **tx)
    .await?)
}

/// Checks an exported passkey without storing it: its name (as at
/// registration), a credential ID of 1 to 1023 bytes (§7.1), a `passkey`
/// that webauthn-rs reads as its `Passkey`, and whose credential ID is
/// `credential_id` (the row is found by the one and verified with the
/// other).
pub fn check_portable(p: &PortablePasskey) -> Result<(), PasskeyError> {
    valid_name(&p.name)?;
    if p.credential_id.is_empty() || p.credential_id.len() > CREDENTIAL_ID_MAX_BYTES {
        return Err(PasskeyError::NotPortable(
            "a credential ID is 1 to 1023 bytes",
        ));
    }
    let passkey: Passkey = serde_json::from_value(p.passkey.clone())
        .map_err(|_| PasskeyError::NotPortable("the passkey is not a webauthn-rs Passkey"))?;
    let own: &[u8] = passkey.cred_id().as_ref();
    if own != p.credential_id.as_slice() {
        return Err(PasskeyError::NotPortable(
            "credential_id is not the passkey's own credential ID",
        ));
    }
    Ok(())
}

/// Stores an exported passkey (checked as by [`check_portable`]) under its
/// own id, with its dates. A credential ID already registered in this
/// tenant is refused ([`PasskeyError::AlreadyRegistered`]).
pub async fn import(tx: &mut TenantTx, p: &PortablePasskey) -> Result<(), PasskeyError> {
    check_portable(p)?;
    sqlx::query!(
        "insert into passkeys (tenant_id, id, user_id, credential_id, passkey, name, created_at,
                               last_used_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
        tx.tenant().as_uuid(),
        p.id,
        p.user_id,
        p.credential_id,
        p.passkey,
        p.name.trim(),
        p.created_at,
        p.last_used_at,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A passkey name: trimmed, 1 to [`NAME_MAX_CHARS`] characters, no control
/// characters (it is shown in lists and audit entries).
fn valid_name(name: &str) -> Result<&str, PasskeyError> {
    let name = name.trim();
    let chars = name.chars().count();
    if chars == 0 || chars > NAME_MAX_CHARS || name.chars().any(char::is_control) {
        return Err(PasskeyError::Name);
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rp_id_is_the_issuer_host_and_the_origin_its_origin() {
        for (issuer, id, origin) in [
            (
                "https://acme.id.example.com",
                "acme.id.example.com",
                "https://acme.id.example.com/",
            ),
            (
                "https://login.acme.com/",
                "login.acme.com",
                "https://login.acme.com/",
            ),
            (
                "https://id.example.com/t/acme",
                "id.example.com",
                "https://id.example.com/",
            ),
            (
                "https://id.example.com:8443/t/acme",
                "id.example.com",
                "https://id.example.com:8443/",
            ),
            (
                "https://ID.Example.COM:443/t/x",
                "id.example.com",
                "https://id.example.com/",
            ),
            (
                "http://localhost:8080/t/a",
                "localhost",
                "http://localhost:8080/",
            ),
            (
                "http://acme.localhost:3000",
                "acme.localhost",
                "http://acme.localhost:3000/",
            ),
        ] {
            let rp = Rp::for_issuer(issuer, "Acme").unwrap();
            assert_eq!(rp.id(), id, "{issuer}");
            assert_eq!(rp.origin().as_str(), origin, "{issuer}");
        }
        // Path tenants share the RP ID.
        let a = Rp::for_issuer("https://id.example.com/t/a", "A").unwrap();
        let b = Rp::for_issuer("https://id.example.com/t/b", "B").unwrap();
        assert_eq!((a.id(), a.origin()), (b.id(), b.origin()));
    }

    #[test]
    fn plain_http_is_only_for_localhost_and_ip_addresses_are_refused() {
        for issuer in [
            "http://id.example.com",
            "http://localhost.example.com",
            "https://127.0.0.1:8443",
            "http://127.0.0.1:8080",
            "http://[::1]:8080",
            "ftp://id.example.com",
            "not a url",
            "https://id.example.com./t/a",
        ] {
            assert!(
                matches!(Rp::for_issuer(issuer, "x"), Err(PasskeyError::Config(_))),
                "{issuer}"
            );
        }
    }

    #[test]
    fn names_are_trimmed_bounded_and_printable() {
        assert_eq!(valid_name("  YubiKey 5 ").unwrap(), "YubiKey 5");
        assert_eq!(valid_name(&"é".repeat(64)).unwrap(), "é".repeat(64));
        for bad in ["", "   ", "a\nb", "tab\there"] {
            assert!(
                matches!(valid_name(bad), Err(PasskeyError::Name)),
                "{bad:?}"
            );
        }
        assert!(matches!(
            valid_name(&"x".repeat(65)),
            Err(PasskeyError::Name)
        ));
    }

    #[test]
    fn registration_options_prefer_a_discoverable_credential_and_require_uv() {
        let rp = Rp::for_issuer("https://acme.id.example", "Acme").unwrap();
        let (options, _) = rp
            .webauthn
            .start_passkey_registration(Uuid::new_v4(), "alice", "Alice", None)
            .unwrap();
        let mut options = serde_json::to_value(&options).unwrap();
        prefer_resident_key(&mut options).unwrap();
        let selection = &options["publicKey"]["authenticatorSelection"];
        assert_eq!(selection["residentKey"], "preferred");
        assert_eq!(selection["requireResidentKey"], false);
        assert_eq!(selection["userVerification"], "required");
        assert_eq!(options["publicKey"]["rp"]["id"], "acme.id.example");
        assert_eq!(options["publicKey"]["rp"]["name"], "Acme");
        assert_eq!(options["publicKey"]["timeout"], 300_000);
    }
}
