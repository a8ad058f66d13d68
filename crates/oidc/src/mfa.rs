//! Second factors of a tenant's users: TOTP (RFC 6238) and single-use
//! recovery codes. Storage and logic only; the pages that enrol and prompt
//! live in the web crate.
//!
//! TOTP uses the parameters every authenticator app supports: HMAC-SHA-1,
//! six digits, a 30-second time step (RFC 6238 §4, §5.2; RFC 4226 §5.3),
//! and a 160-bit random shared secret (RFC 4226 §4 R6 recommends 160 bits).
//! The algorithm itself is the `totp-rs` crate's.
//!
//! A factor goes `pending → confirmed`. [`begin_totp`] creates (or replaces)
//! a pending factor and returns the secret, the `otpauth://` key URI and a
//! QR code of that URI rendered server-side as inline SVG. [`confirm_totp`]
//! proves the user's app produces valid codes, confirms the factor and
//! returns the recovery codes, shown once. Only a confirmed factor passes
//! [`verify_totp`].
//!
//! The shared secret is sealed under the platform master key with associated
//! data naming tenant and user, so a sealed secret copied to another row or
//! tenant does not open. Every accepted code records its time step; a code
//! for that step or an earlier one is refused, so each code is accepted at
//! most once (RFC 6238 §5.2). Nothing here logs a secret or a code.
//!
//! A tenant export with second factors carries each confirmed factor's
//! secret opened ([`export_totp`]), since the importing deployment may have
//! another master key; the import seals it again under the current one for
//! the new tenant ([`import_totp`]). Recovery codes travel as their hashes
//! ([`export_recovery_codes`], [`import_recovery_codes`]).
//!
//! Attempts are not counted here: the caller must rate-limit code entry
//! (RFC 4226 §7.3), since a six-digit code with ±1 step of skew is guessed
//! with probability 3 in 10⁶ per try.

use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};
use gatehouse_core::crypto::secret_hash;
use gatehouse_core::secretbox::{Keyring, SealError, Sealed};
use gatehouse_core::{DbError, TenantId, TenantTx};
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;
use time::OffsetDateTime;
use totp_rs::{Algorithm, Builder, Secret, Totp};
use uuid::Uuid;

/// How many recovery codes a user holds after (re)generation.
pub const RECOVERY_CODE_COUNT: usize = 10;

/// RFC 4226 §4 R6: a shared secret of 160 bits is recommended.
const SECRET_BYTES: usize = 20;
/// RFC 4226 §5.3 (six digits), RFC 6238 §5.2 (X = 30 s, at most one step of
/// network delay or clock drift either way).
const DIGITS: u8 = 6;
const STEP_SECS: u64 = 30;
const SKEW_STEPS: u16 = 1;

/// Recovery code alphabet: lowercase letters and digits without the easily
/// confused `0 o 1 l i`. 31 symbols, 12 per code: 12 · log2(31) ≈ 59.4 bits.
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
const RECOVERY_GROUPS: usize = 3;
const RECOVERY_GROUP_LEN: usize = 4;
const RECOVERY_LEN: usize = RECOVERY_GROUPS * RECOVERY_GROUP_LEN;

#[derive(Debug, thiserror::Error)]
pub enum MfaError {
    #[error("the user already has a confirmed TOTP factor; remove it before enrolling again")]
    AlreadyEnrolled,
    #[error("no TOTP enrolment is pending for the user")]
    NotPending,
    #[error("the code is not valid")]
    InvalidCode,
    #[error("no such user in this tenant")]
    UnknownUser,
    #[error("invalid TOTP label: {0}")]
    Label(&'static str),
    #[error("the stored TOTP factor is unusable")]
    Stored,
    #[error("the random number generator failed")]
    Random,
    /// An exported factor or recovery code that cannot be imported.
    #[error("{0}")]
    NotPortable(&'static str),
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for MfaError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::Database(d) if d.is_foreign_key_violation() => Self::UnknownUser,
            other => Self::Db(other.into()),
        }
    }
}

/// What the enrolment page shows: the secret for manual entry, the key URI,
/// and the same URI as a QR code (an `<svg>` element to inline in the page;
/// it holds only geometry, no text from the labels).
#[derive(Clone)]
pub struct Enrolment {
    /// RFC 4648 §6 base32, unpadded, as authenticator apps expect.
    pub secret_base32: String,
    pub otpauth_uri: String,
    pub qr_svg: String,
}

impl std::fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enrolment").finish_non_exhaustive()
    }
}

/// Starts TOTP enrolment: a fresh 160-bit secret (RFC 4226 §4 R6), sealed
/// and stored as the user's pending factor, replacing any pending one. A
/// confirmed factor is never replaced ([`MfaError::AlreadyEnrolled`]).
///
/// `issuer_label` (the tenant's display name) and `account` (the username
/// or email) only label the entry in the authenticator app; a `:` in them,
/// which the key URI format reserves as the separator, becomes `-`.
pub async fn begin_totp(
    tx: &mut TenantTx,
    keyring: &Keyring,
    user_id: Uuid,
    issuer_label: &str,
    account: &str,
) -> Result<Enrolment, MfaError> {
    let issuer = label(issuer_label).ok_or(MfaError::Label("the issuer is empty"))?;
    let account = label(account).ok_or(MfaError::Label("the account name is empty"))?;
    let mut secret = [0u8; SECRET_BYTES];
    SystemRandom::new()
        .fill(&mut secret)
        .map_err(|_| MfaError::Random)?;
    let totp = builder(secret.to_vec())
        .with_issuer(Some(issuer))
        .with_account_name(account)
        .build()
        .map_err(|_| MfaError::Label("not accepted in a key URI"))?;
    let otpauth_uri = totp
        .to_url()
        .map_err(|_| MfaError::Label("not accepted in a key URI"))?;
    let qr_svg = qr_svg(&otpauth_uri)?;

    let sealed = keyring.seal(&secret, &aad(tx.tenant(), user_id))?;
    let stored = sqlx::query_scalar!(
        "insert into totp_factors (tenant_id, user_id, master_key_id, sealed_secret)
         values ($1, $2, $3, $4)
         on conflict (tenant_id, user_id) do update
         set master_key_id = excluded.master_key_id, sealed_secret = excluded.sealed_secret,
             last_step = null, created_at = now(), updated_at = now()
         where totp_factors.confirmed_at is null
         returning user_id",
        tx.tenant().as_uuid(),
        user_id,
        sealed.key_id,
        sealed.blob,
    )
    .fetch_optional(&mut **tx)
    .await?;
    if stored.is_none() {
        return Err(MfaError::AlreadyEnrolled);
    }
    Ok(Enrolment {
        secret_base32: totp.secret().to_base32(),
        otpauth_uri,
        qr_svg,
    })
}

/// [`confirm_totp_at`] at the current time.
pub async fn confirm_totp(
    tx: &mut TenantTx,
    keyring: &Keyring,
    user_id: Uuid,
    code: &str,
) -> Result<Vec<String>, MfaError> {
    confirm_totp_at(tx, keyring, user_id, code, unix_now()).await
}

/// Confirms the pending factor if `code` is valid for it at `unix_time`
/// (RFC 6238 §4.2, ±1 step, §5.2), records the code's step so it cannot be
/// used again, and returns fresh recovery codes (replacing any), to be shown
/// to the user once. A wrong code changes nothing.
pub async fn confirm_totp_at(
    tx: &mut TenantTx,
    keyring: &Keyring,
    user_id: Uuid,
    code: &str,
    unix_time: u64,
) -> Result<Vec<String>, MfaError> {
    let row = sqlx::query!(
        "select master_key_id, sealed_secret from totp_factors
         where user_id = $1 and confirmed_at is null for update",
        user_id,
    )
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(MfaError::NotPending)?;
    let totp = open(
        tx.tenant(),
        keyring,
        user_id,
        row.master_key_id,
        row.sealed_secret,
    )?;
    let step = matching_step(&totp, code, unix_time).ok_or(MfaError::InvalidCode)?;
    sqlx::query!(
        "update totp_factors set confirmed_at = now(), last_step = $2, updated_at = now()
         where user_id = $1",
        user_id,
        step,
    )
    .execute(&mut **tx)
    .await?;
    regenerate_recovery_codes(tx, user_id).await
}

/// [`verify_totp_at`] at the current time.
pub async fn verify_totp(
    tx: &mut TenantTx,
    keyring: &Keyring,
    user_id: Uuid,
    code: &str,
) -> Result<bool, MfaError> {
    verify_totp_at(tx, keyring, user_id, code, unix_now()).await
}

/// Whether `code` is valid at `unix_time` for the user's confirmed factor
/// (RFC 6238 §4.2, accepting one step of drift either way, §5.2) and was not
/// used before: a code whose time step is at or before the last accepted
/// one is refused (RFC 6238 §5.2: "the verifier MUST NOT accept the second
/// attempt of the OTP after the successful validation has been issued for
/// the first OTP"). The factor's row is locked for the rest of the
/// transaction, so two concurrent uses of one code cannot both pass.
///
/// False also when the user has no confirmed factor.
pub async fn verify_totp_at(
    tx: &mut TenantTx,
    keyring: &Keyring,
    user_id: Uuid,
    code: &str,
    unix_time: u64,
) -> Result<bool, MfaError> {
    let Some(row) = sqlx::query!(
        "select master_key_id, sealed_secret, last_step from totp_factors
         where user_id = $1 and confirmed_at is not null for update",
        user_id,
    )
    .fetch_optional(&mut **tx)
    .await?
    else {
        return Ok(false);
    };
    let totp = open(
        tx.tenant(),
        keyring,
        user_id,
        row.master_key_id,
        row.sealed_secret,
    )?;
    let Some(step) = matching_step(&totp, code, unix_time) else {
        return Ok(false);
    };
    if row.last_step.is_some_and(|last| step <= last) {
        return Ok(false);
    }
    sqlx::query!(
        "update totp_factors set last_step = $2, updated_at = now() where user_id = $1",
        user_id,
        step,
    )
    .execute(&mut **tx)
    .await?;
    Ok(true)
}

/// Whether the user has a confirmed TOTP factor.
pub async fn has_totp(tx: &mut TenantTx, user_id: Uuid) -> Result<bool, MfaError> {
    Ok(sqlx::query_scalar!(
        "select exists(select 1 from totp_factors where user_id = $1 and confirmed_at is not null)
         as \"exists!\"",
        user_id,
    )
    .fetch_one(&mut **tx)
    .await?)
}

/// Removes the user's TOTP factor, pending or confirmed, and their recovery
/// codes. Returns whether there was a factor.
pub async fn remove_totp(tx: &mut TenantTx, user_id: Uuid) -> Result<bool, MfaError> {
    sqlx::query!("delete from recovery_codes where user_id = $1", user_id)
        .execute(&mut **tx)
        .await?;
    Ok(
        sqlx::query!("delete from totp_factors where user_id = $1", user_id)
            .execute(&mut **tx)
            .await?
            .rows_affected()
            > 0,
    )
}

/// Replaces all of the user's recovery codes with [`RECOVERY_CODE_COUNT`]
/// new ones and returns them (formatted `xxxx-xxxx-xxxx`); only their hashes
/// are stored, so this is the one time they can be shown.
pub async fn regenerate_recovery_codes(
    tx: &mut TenantTx,
    user_id: Uuid,
) -> Result<Vec<String>, MfaError> {
    let rng = SystemRandom::new();
    let mut codes = BTreeSet::new();
    while codes.len() < RECOVERY_CODE_COUNT {
        codes.insert(recovery_code(&rng)?);
    }
    let codes: Vec<String> = codes.into_iter().collect();
    let tenant = tx.tenant();
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| recovery_hash(tenant, user_id, &normalise(c)))
        .collect();
    sqlx::query!("delete from recovery_codes where user_id = $1", user_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query!(
        "insert into recovery_codes (tenant_id, user_id, code_hash)
         select $1, $2, unnest($3::text[])",
        tenant.as_uuid(),
        user_id,
        &hashes,
    )
    .execute(&mut **tx)
    .await?;
    Ok(codes)
}

/// Spends one recovery code: true if `code` is one of the user's unused
/// codes, which is then used up. Case, spaces and dashes do not matter.
/// The code is found by its hash, so no stored value is compared with the
/// presented one; concurrent uses of one code serialise on its row and only
/// one succeeds.
///
/// A hash is bound to the tenant that issued the code: this one, or for
/// codes brought by a tenant import, the row's `hash_tenant_id`. The
/// presented code is hashed for each tenant the user's codes are bound to.
pub async fn use_recovery_code(
    tx: &mut TenantTx,
    user_id: Uuid,
    code: &str,
) -> Result<bool, MfaError> {
    let code = normalise(code);
    if code.len() != RECOVERY_LEN || !code.bytes().all(|b| RECOVERY_ALPHABET.contains(&b)) {
        return Ok(false);
    }
    let issuers = sqlx::query_scalar!(
        "select distinct coalesce(hash_tenant_id, tenant_id) as \"issuer!\" from recovery_codes
         where user_id = $1 and used_at is null",
        user_id,
    )
    .fetch_all(&mut **tx)
    .await?;
    if issuers.is_empty() {
        return Ok(false);
    }
    let hashes: Vec<String> = issuers
        .iter()
        .map(|issuer| recovery_hash(TenantId::from_uuid(*issuer), user_id, &code))
        .collect();
    Ok(sqlx::query!(
        "update recovery_codes set used_at = now(), updated_at = now()
         where user_id = $1 and used_at is null
           and (coalesce(hash_tenant_id, tenant_id), code_hash)
               in (select * from unnest($2::uuid[], $3::text[]))",
        user_id,
        &issuers,
        &hashes,
    )
    .execute(&mut **tx)
    .await?
    .rows_affected()
        > 0)
}

/// How many unused recovery codes the user has left.
pub async fn remaining_recovery_codes(tx: &mut TenantTx, user_id: Uuid) -> Result<i64, MfaError> {
    Ok(sqlx::query_scalar!(
        "select count(*) as \"n!\" from recovery_codes where user_id = $1 and used_at is null",
        user_id,
    )
    .fetch_one(&mut **tx)
    .await?)
}

/// Re-seals every TOTP secret of the tenant that is sealed under a master
/// key other than the current one (after a master-key rotation), so the
/// previous master key can be retired. Returns how many were re-sealed.
pub async fn reseal(tx: &mut TenantTx, keyring: &Keyring) -> Result<u64, MfaError> {
    let Some(current) = keyring.current_id().map(str::to_owned) else {
        return Err(MfaError::Seal(SealError::NoKey));
    };
    let rows = sqlx::query!(
        "select user_id, master_key_id, sealed_secret from totp_factors
         where master_key_id <> $1 for update",
        current,
    )
    .fetch_all(&mut **tx)
    .await?;
    let mut n = 0;
    for row in rows {
        let aad = aad(tx.tenant(), row.user_id);
        let old = Sealed {
            key_id: row.master_key_id,
            blob: row.sealed_secret,
        };
        let sealed = keyring.seal(&keyring.open(&old, &aad)?, &aad)?;
        sqlx::query!(
            "update totp_factors set master_key_id = $2, sealed_secret = $3, updated_at = now()
             where user_id = $1",
            row.user_id,
            sealed.key_id,
            sealed.blob,
        )
        .execute(&mut **tx)
        .await?;
        n += 1;
    }
    Ok(n)
}

/// A TOTP shared secret in the clear, RFC 4648 §6 base32 without padding,
/// as an authenticator app holds it. Only a tenant export with second
/// factors carries one. Its `Debug` output hides it, and two are compared
/// in constant time.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TotpSecret(String);

impl TotpSecret {
    pub fn new(base32: String) -> Self {
        Self(base32)
    }

    /// The secret's bytes: 160 bits, canonical unpadded base32. Upper or
    /// lower case, spaces and trailing `=` are accepted, as authenticator
    /// apps and people write it.
    fn bytes(&self) -> Result<Vec<u8>, MfaError> {
        const REFUSED: MfaError =
            MfaError::NotPortable("the TOTP secret must be 160 bits in base32 (RFC 4648 §6)");
        let canonical: String = self
            .0
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .trim_end_matches('=')
            .to_ascii_uppercase();
        let secret = Secret::try_from_base32(&canonical).map_err(|_| REFUSED)?;
        // Only the canonical spelling of exactly 160 bits: no stray bits in
        // the last character, nothing longer or shorter.
        if secret.as_bytes().len() != SECRET_BYTES
            || !bool::from(secret.to_base32().as_bytes().ct_eq(canonical.as_bytes()))
        {
            return Err(REFUSED);
        }
        Ok(secret.as_bytes().to_vec())
    }
}

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(..)")
    }
}

impl PartialEq for TotpSecret {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for TotpSecret {}

/// A confirmed TOTP factor as a tenant export carries it: the secret opened
/// (the importing deployment seals it under its own master key), when it
/// was confirmed, and the time step of the last accepted code, so that a
/// code used before the export is still refused after the import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortableTotp {
    pub user_id: Uuid,
    pub secret: TotpSecret,
    pub confirmed_at: OffsetDateTime,
    pub last_step: i64,
}

/// A recovery code as a tenant export carries it: its hash as stored, when
/// it was used, and the tenant its hash is bound to (the one that issued
/// it; an import keeps it, since the code cannot be hashed again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortableRecoveryCode {
    pub user_id: Uuid,
    pub code_hash: String,
    pub used_at: Option<OffsetDateTime>,
    pub hash_tenant_id: Uuid,
}

/// Every confirmed TOTP factor of the tenant, by user, with its secret
/// opened (under whichever configured master key sealed it). Pending
/// enrolments are left out. The result holds secrets in the clear: it is
/// for a tenant export with second factors only.
pub async fn export_totp(
    tx: &mut TenantTx,
    keyring: &Keyring,
) -> Result<Vec<PortableTotp>, MfaError> {
    let rows = sqlx::query!(
        "select user_id, master_key_id, sealed_secret, confirmed_at as \"confirmed_at!\",
                last_step as \"last_step!\"
         from totp_factors where confirmed_at is not null order by user_id",
    )
    .fetch_all(&mut **tx)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let sealed = Sealed {
            key_id: row.master_key_id,
            blob: row.sealed_secret,
        };
        let secret = keyring.open(&sealed, &aad(tx.tenant(), row.user_id))?;
        if secret.len() != SECRET_BYTES {
            return Err(MfaError::Stored);
        }
        out.push(PortableTotp {
            user_id: row.user_id,
            secret: TotpSecret(Secret::from(secret).to_base32()),
            confirmed_at: row.confirmed_at,
            last_step: row.last_step,
        });
    }
    Ok(out)
}

/// Checks an exported factor without storing it: a 160-bit base32 secret
/// and a time step that is not negative.
pub fn check_totp(totp: &PortableTotp) -> Result<(), MfaError> {
    totp.secret.bytes()?;
    if totp.last_step < 0 {
        return Err(MfaError::NotPortable(
            "the last accepted time step cannot be negative",
        ));
    }
    Ok(())
}

/// Stores an exported factor (checked as by [`check_totp`]) as the user's
/// confirmed factor: the secret sealed under the current master key for
/// this tenant and user, `confirmed_at` and the last accepted time step as
/// exported.
pub async fn import_totp(
    tx: &mut TenantTx,
    keyring: &Keyring,
    totp: &PortableTotp,
) -> Result<(), MfaError> {
    check_totp(totp)?;
    let sealed = keyring.seal(&totp.secret.bytes()?, &aad(tx.tenant(), totp.user_id))?;
    sqlx::query!(
        "insert into totp_factors (tenant_id, user_id, master_key_id, sealed_secret, confirmed_at,
                                   last_step)
         values ($1, $2, $3, $4, $5, $6)",
        tx.tenant().as_uuid(),
        totp.user_id,
        sealed.key_id,
        sealed.blob,
        totp.confirmed_at,
        totp.last_step,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Whether `hash` has the shape of a stored recovery-code hash: SHA-256 as
/// 64 lower-case hex digits.
pub fn valid_recovery_hash(hash: &str) -> bool {
    hash.len() == 64 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Every recovery code of the tenant, used or not, by user.
pub async fn export_recovery_codes(
    tx: &mut TenantTx,
) -> Result<Vec<PortableRecoveryCode>, MfaError> {
    Ok(sqlx::query_as!(
        PortableRecoveryCode,
        "select user_id, code_hash, used_at,
                coalesce(hash_tenant_id, tenant_id) as \"hash_tenant_id!\"
         from recovery_codes order by user_id, code_hash",
    )
    .fetch_all(&mut **tx)
    .await?)
}

/// Stores exported recovery codes (hashes of the shape
/// [`valid_recovery_hash`] checks) as they were, used or not, each still
/// bound to the tenant that issued it.
pub async fn import_recovery_codes(
    tx: &mut TenantTx,
    codes: &[PortableRecoveryCode],
) -> Result<(), MfaError> {
    let tenant = tx.tenant().as_uuid();
    for code in codes {
        if !valid_recovery_hash(&code.code_hash) {
            return Err(MfaError::NotPortable(
                "a recovery code hash must be 64 lower-case hex digits",
            ));
        }
        sqlx::query!(
            "insert into recovery_codes (tenant_id, user_id, code_hash, used_at, hash_tenant_id)
             values ($1, $2, $3, $4, $5)",
            tenant,
            code.user_id,
            code.code_hash,
            code.used_at,
            (code.hash_tenant_id != tenant).then_some(code.hash_tenant_id),
        )
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// The TOTP parameters (RFC 6238 §4, §5.2): SHA-1, 6 digits, 30 s, ±1 step.
fn builder(secret: Vec<u8>) -> Builder {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS)
        .with_step_duration(STEP_SECS)
        .with_skew(SKEW_STEPS)
        .with_secret(secret)
}

/// Opens a stored secret; the associated data must name this tenant and user.
fn open(
    tenant: TenantId,
    keyring: &Keyring,
    user_id: Uuid,
    key_id: String,
    blob: Vec<u8>,
) -> Result<Totp, MfaError> {
    let secret = keyring.open(&Sealed { key_id, blob }, &aad(tenant, user_id))?;
    if secret.len() != SECRET_BYTES {
        return Err(MfaError::Stored);
    }
    builder(secret).build().map_err(|_| MfaError::Stored)
}

/// The time step `T` (RFC 6238 §4.2) for which `code` is valid at
/// `unix_time`, within the allowed drift. Spaces inside the code, as some
/// apps display it (`123 456`), are ignored. The comparison of codes is
/// totp-rs's, in constant time.
fn matching_step(totp: &Totp, code: &str, unix_time: u64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    totp.check(&code, unix_time)
        .and_then(|step| i64::try_from(step).ok())
}

fn aad(tenant: TenantId, user_id: Uuid) -> Vec<u8> {
    format!("gatehouse/totp-secret/{tenant}/{user_id}").into_bytes()
}

/// A label for the key URI: trimmed, `:` (the issuer separator) replaced.
fn label(s: &str) -> Option<String> {
    let s = s.trim().replace(':', "-");
    (!s.is_empty()).then_some(s)
}

/// The key URI as an SVG element, medium error correction, with the quiet
/// zone the QR specification asks for. The XML declaration is dropped so
/// the element can be inlined in an HTML page.
fn qr_svg(uri: &str) -> Result<String, MfaError> {
    let code = QrCode::with_error_correction_level(uri.as_bytes(), EcLevel::M)
        .map_err(|_| MfaError::Label("too long for a QR code"))?;
    let svg = code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    Ok(match svg.find("<svg").and_then(|i| svg.get(i..)) {
        Some(element) => element.to_owned(),
        None => svg,
    })
}

/// A new recovery code, `xxxx-xxxx-xxxx`, from [`RECOVERY_ALPHABET`],
/// sampled without bias (bytes at or above the largest multiple of the
/// alphabet's size are rejected).
fn recovery_code(rng: &SystemRandom) -> Result<String, MfaError> {
    let n = RECOVERY_ALPHABET.len();
    let limit = 256 - 256 % n;
    let mut chars = Vec::with_capacity(RECOVERY_LEN);
    let mut buf = [0u8; 32];
    while chars.len() < RECOVERY_LEN {
        rng.fill(&mut buf).map_err(|_| MfaError::Random)?;
        for b in buf.iter().map(|b| usize::from(*b)).filter(|b| *b < limit) {
            if chars.len() == RECOVERY_LEN {
                break;
            }
            chars.push(char::from(RECOVERY_ALPHABET[b % n]));
        }
    }
    Ok(chars
        .chunks(RECOVERY_GROUP_LEN)
        .map(|g| g.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-"))
}

/// Lowercase, without whitespace or dashes (including the typographic ones
/// that copying from a document may bring).
fn normalise(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '\u{2010}'..='\u{2015}' | '\u{2212}'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// SHA-256 of the normalised code bound to tenant and user, so equal codes
/// of different users hash differently and a hash is useless in another row.
fn recovery_hash(tenant: TenantId, user_id: Uuid, normalised: &str) -> String {
    secret_hash(&format!(
        "gatehouse/recovery-code/{tenant}/{user_id}/{normalised}"
    ))
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_three_groups_of_four_from_the_alphabet() {
        let rng = SystemRandom::new();
        for _ in 0..100 {
            let code = recovery_code(&rng).unwrap();
            assert_eq!(code.len(), 14);
            let groups: Vec<&str> = code.split('-').collect();
            assert_eq!(groups.len(), 3);
            assert!(groups.iter().all(|g| g.len() == 4));
            assert!(normalise(&code)
                .bytes()
                .all(|b| RECOVERY_ALPHABET.contains(&b)));
        }
        // At least 50 bits of entropy per code.
        let bits = RECOVERY_LEN as f64 * (RECOVERY_ALPHABET.len() as f64).log2();
        assert!(bits >= 50.0, "{bits}");
        assert!(!RECOVERY_ALPHABET
            .iter()
            .any(|c| b"01ilo".contains(c) || c.is_ascii_uppercase()));
    }

    #[test]
    fn normalisation_ignores_case_spaces_and_dashes() {
        assert_eq!(normalise(" AbCd-efgh – JKMN\t"), "abcdefghjkmn");
        assert_eq!(normalise("abcd efgh jkmn"), "abcdefghjkmn");
    }

    #[test]
    fn labels_cannot_contain_the_key_uri_separator() {
        assert_eq!(label(" Acme: Corp ").as_deref(), Some("Acme- Corp"));
        assert_eq!(label("  "), None);
    }

    #[test]
    fn the_qr_code_is_an_inline_svg_element() {
        let svg = qr_svg("otpauth://totp/Acme:alice?secret=JBSWY3DPEHPK3PXP&issuer=Acme").unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.ends_with("</svg>"));
        assert!(!svg.contains("alice"));
    }

    #[test]
    fn exported_secrets_are_160_bits_of_base32_and_never_shown() {
        let bytes = b"12345678901234567890".to_vec();
        let canonical = Secret::from(bytes.clone()).to_base32();
        assert_eq!(canonical.len(), 32);
        for spelling in [
            canonical.clone(),
            canonical.to_lowercase(),
            format!(" {} {} ", &canonical[..16], &canonical[16..]),
        ] {
            assert_eq!(TotpSecret::new(spelling).bytes().unwrap(), bytes);
        }
        for bad in [
            "",
            "not base32!",
            &canonical[..31],
            &canonical[..30],
            &format!("{canonical}A"),
            &format!("{}0", &canonical[..31]),
            &format!("{canonical}AAAAAAAA"),
        ] {
            assert!(
                matches!(
                    TotpSecret::new(bad.to_owned()).bytes(),
                    Err(MfaError::NotPortable(_))
                ),
                "{bad:?}"
            );
        }
        let secret = TotpSecret::new(canonical.clone());
        assert!(!format!("{secret:?}").contains(&canonical));
        let totp = PortableTotp {
            user_id: Uuid::nil(),
            secret,
            confirmed_at: OffsetDateTime::UNIX_EPOCH,
            last_step: 1,
        };
        assert!(!format!("{totp:?}").contains(&canonical));
        assert!(check_totp(&totp).is_ok());
        assert!(check_totp(&PortableTotp {
            last_step: -1,
            ..totp
        })
        .is_err());
    }

    #[test]
    fn recovery_hashes_have_the_stored_shape() {
        let h = recovery_hash(TenantId::new_random(), Uuid::new_v4(), "abcdefghjkmn");
        assert!(valid_recovery_hash(&h));
        assert!(!valid_recovery_hash(&h.to_uppercase()));
        assert!(!valid_recovery_hash(&h[1..]));
        assert!(!valid_recovery_hash("not-a-hash"));
    }

    #[test]
    fn codes_follow_the_rfc_6238_sha1_test_vectors() {
        // RFC 6238 Appendix B, SHA-1 seed, truncated to 6 digits.
        let totp = builder(b"12345678901234567890".to_vec()).build().unwrap();
        assert_eq!(matching_step(&totp, "287082", 59), Some(1));
        assert_eq!(
            matching_step(&totp, "081804", 1_111_111_109),
            Some(37_037_036)
        );
        assert_eq!(
            matching_step(&totp, "081 804", 1_111_111_109),
            Some(37_037_036)
        );
        // One step of drift either way, not two.
        assert_eq!(
            matching_step(&totp, "081804", 1_111_111_109 + 30),
            Some(37_037_036)
        );
        assert_eq!(matching_step(&totp, "081804", 1_111_111_109 + 60), None);
    }
}
