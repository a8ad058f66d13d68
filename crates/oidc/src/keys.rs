//! Per-tenant signing keys: generation (RS256 with 2048-bit RSA, ES256 on
//! P-256, EdDSA on Ed25519), storage sealed under the master key, the
//! lifecycle `next → active → retired → removed`, and signing.
//!
//! Lifecycle (DESIGN.md "Keys and tokens"): every algorithm has one active
//! key that signs and one next key that is already published in the JWKS, so
//! relying parties have it cached before it ever signs. A rotation retires
//! the active key (it stays published until every token it signed has
//! expired), promotes the next key, and creates a new next key. Retired keys
//! past their removal time are deleted.
//!
//! Private keys are parsed once, when a tenant's provider is built, and kept
//! as aws-lc-rs key pairs: signing never parses a key again.

use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING, RSA_PKCS1_SHA256,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use gatehouse_core::secretbox::{Keyring, SealError, Sealed};
use gatehouse_core::{DbError, TenantId, TenantTx};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

/// A JWS signing algorithm we issue with (RFC 7518 §3.1, RFC 8037 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub enum Alg {
    RS256,
    ES256,
    EdDSA,
}

impl Alg {
    pub const ALL: [Alg; 3] = [Alg::RS256, Alg::ES256, Alg::EdDSA];

    pub fn as_str(&self) -> &'static str {
        match self {
            Alg::RS256 => "RS256",
            Alg::ES256 => "ES256",
            Alg::EdDSA => "EdDSA",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key generation or signing failed")]
    Crypto,
    #[error("stored key is unusable: {0}")]
    Stored(String),
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for KeyError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e.into())
    }
}

enum Pair {
    Rsa(aws_lc_rs::rsa::KeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// A parsed private key, ready to sign.
pub struct SigningKey {
    pub kid: String,
    pub alg: Alg,
    pair: Pair,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A fresh key and its PKCS#8 DER encoding.
    pub fn generate(alg: Alg) -> Result<(Self, Vec<u8>), KeyError> {
        let der = match alg {
            Alg::RS256 => aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                .and_then(|k| k.as_der().map(|d| d.as_ref().to_vec()))
                .map_err(|_| KeyError::Crypto)?,
            Alg::ES256 => EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                .and_then(|k| k.to_pkcs8v1())
                .map(|d| d.as_ref().to_vec())
                .map_err(|_| KeyError::Crypto)?,
            Alg::EdDSA => Ed25519KeyPair::generate()
                .and_then(|k| k.to_pkcs8())
                .map(|d| d.as_ref().to_vec())
                .map_err(|_| KeyError::Crypto)?,
        };
        let key = Self::from_pkcs8(String::new(), alg, &der)?;
        let kid = thumbprint(&key.public_jwk_members());
        Ok((Self { kid, ..key }, der))
    }

    pub fn from_pkcs8(kid: String, alg: Alg, der: &[u8]) -> Result<Self, KeyError> {
        let bad = |_| KeyError::Stored("private key does not parse".into());
        let pair = match alg {
            Alg::RS256 => Pair::Rsa(aws_lc_rs::rsa::KeyPair::from_pkcs8(der).map_err(bad)?),
            Alg::ES256 => Pair::Ec(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der).map_err(bad)?,
            ),
            Alg::EdDSA => Pair::Ed(Ed25519KeyPair::from_pkcs8(der).map_err(bad)?),
        };
        Ok(Self { kid, alg, pair })
    }

    /// A JWS signature over `message` (RFC 7515 §5.1): PKCS#1 v1.5 with
    /// SHA-256, ECDSA P-256 with SHA-256 in fixed r‖s form (RFC 7518 §3.4),
    /// or Ed25519 (RFC 8037 §3.1).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        match &self.pair {
            Pair::Rsa(k) => {
                let mut sig = vec![0u8; k.public_modulus_len()];
                k.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), message, &mut sig)
                    .map_err(|_| KeyError::Crypto)?;
                Ok(sig)
            }
            Pair::Ec(k) => Ok(k
                .sign(&SystemRandom::new(), message)
                .map_err(|_| KeyError::Crypto)?
                .as_ref()
                .to_vec()),
            Pair::Ed(k) => Ok(k.sign(message).as_ref().to_vec()),
        }
    }

    /// The members of the public JWK that define the key (RFC 7638 §3.2).
    fn public_jwk_members(&self) -> Vec<(&'static str, String)> {
        match &self.pair {
            Pair::Rsa(k) => {
                let public = k.public_key();
                vec![
                    (
                        "e",
                        B64.encode(public.exponent().big_endian_without_leading_zero()),
                    ),
                    ("kty", "RSA".into()),
                    (
                        "n",
                        B64.encode(public.modulus().big_endian_without_leading_zero()),
                    ),
                ]
            }
            Pair::Ec(k) => {
                // Uncompressed point: 0x04 ‖ x ‖ y.
                let point = k.public_key().as_ref();
                let (x, y) = point
                    .get(1..)
                    .unwrap_or_default()
                    .split_at(point.len().saturating_sub(1) / 2);
                vec![
                    ("crv", "P-256".into()),
                    ("kty", "EC".into()),
                    ("x", B64.encode(x)),
                    ("y", B64.encode(y)),
                ]
            }
            Pair::Ed(k) => {
                vec![
                    ("crv", "Ed25519".into()),
                    ("kty", "OKP".into()),
                    ("x", B64.encode(k.public_key().as_ref())),
                ]
            }
        }
    }

    /// The public JWK as published in the JWKS (RFC 7517 §4).
    pub fn public_jwk(&self) -> Value {
        let mut jwk = serde_json::Map::new();
        for (k, v) in self.public_jwk_members() {
            jwk.insert(k.into(), Value::String(v));
        }
        jwk.insert("kid".into(), json!(self.kid));
        jwk.insert("alg".into(), json!(self.alg.as_str()));
        jwk.insert("use".into(), json!("sig"));
        Value::Object(jwk)
    }
}

/// RFC 7638 JWK thumbprint: SHA-256 over the required members in
/// lexicographic order, base64url. Used as the kid.
fn thumbprint(members: &[(&'static str, String)]) -> String {
    let body: Vec<String> = members
        .iter()
        .map(|(k, v)| format!("\"{k}\":\"{v}\""))
        .collect();
    B64.encode(Sha256::digest(format!("{{{}}}", body.join(","))))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    Next,
    Active,
    Retired,
}

impl KeyState {
    fn parse(s: &str) -> Self {
        match s {
            "next" => Self::Next,
            "active" => Self::Active,
            _ => Self::Retired,
        }
    }
}

/// A key as listed (no private material).
#[derive(Debug, Clone, Serialize)]
pub struct KeyInfo {
    pub kid: String,
    pub alg: String,
    pub state: KeyState,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub activated_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub retired_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub remove_after: Option<OffsetDateTime>,
}

/// What a provider needs: the active key per algorithm (parsed), the JWKS
/// of every published key, and a verifying key per published kid.
#[derive(Default)]
pub struct TenantKeys {
    pub active: Vec<Arc<SigningKey>>,
    pub jwks: Value,
    verifying:
        std::collections::HashMap<String, (jsonwebtoken::Algorithm, jsonwebtoken::DecodingKey)>,
}

impl std::fmt::Debug for TenantKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantKeys")
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

impl TenantKeys {
    pub fn signing(&self, alg: Alg) -> Option<&Arc<SigningKey>> {
        self.active.iter().find(|k| k.alg == alg)
    }

    /// The verifying key and its algorithm for a kid this tenant published.
    /// Verification is pinned to that algorithm, never the token's claim.
    pub fn verifying(
        &self,
        kid: &str,
    ) -> Option<&(jsonwebtoken::Algorithm, jsonwebtoken::DecodingKey)> {
        self.verifying.get(kid)
    }
}

fn jwt_alg(alg: &str) -> Option<jsonwebtoken::Algorithm> {
    match alg {
        "RS256" => Some(jsonwebtoken::Algorithm::RS256),
        "ES256" => Some(jsonwebtoken::Algorithm::ES256),
        "EdDSA" => Some(jsonwebtoken::Algorithm::EdDSA),
        _ => None,
    }
}

fn aad(tenant: TenantId, kid: &str) -> Vec<u8> {
    format!("gatehouse/signing-key/{tenant}/{kid}").into_bytes()
}

/// Serialises key changes of one tenant across nodes and processes.
async fn lock(tx: &mut TenantTx) -> Result<(), KeyError> {
    sqlx::query!(
        "select pg_advisory_xact_lock(hashtextextended('signing_keys/' || $1::text, 0))",
        tx.tenant().to_string()
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert(
    tx: &mut TenantTx,
    keyring: &Keyring,
    alg: Alg,
    state: KeyState,
) -> Result<String, KeyError> {
    let (key, der) = tokio::task::spawn_blocking(move || SigningKey::generate(alg))
        .await
        .map_err(|_| KeyError::Crypto)??;
    let sealed = keyring.seal(&der, &aad(tx.tenant(), &key.kid))?;
    let state = match state {
        KeyState::Next => "next",
        KeyState::Active => "active",
        KeyState::Retired => "retired",
    };
    sqlx::query!(
        "insert into signing_keys (tenant_id, kid, alg, state, public_jwk, master_key_id, sealed_private_key, activated_at)
         values ($1, $2, $3, $4, $5, $6, $7, case when $4 = 'active' then now() end)",
        tx.tenant().as_uuid(),
        key.kid,
        alg.as_str(),
        state,
        key.public_jwk(),
        sealed.key_id,
        sealed.blob,
    )
    .execute(&mut **tx)
    .await?;
    Ok(key.kid)
}

/// Gives a tenant an active and a next key for every algorithm it lacks
/// (new tenants, and tenants that existed before keys did). Returns whether
/// anything was created.
pub async fn ensure(tx: &mut TenantTx, keyring: &Keyring) -> Result<bool, KeyError> {
    lock(tx).await?;
    let present =
        sqlx::query!("select alg, state from signing_keys where state in ('active', 'next')")
            .fetch_all(&mut **tx)
            .await?;
    let mut created = false;
    for alg in Alg::ALL {
        for state in [KeyState::Active, KeyState::Next] {
            let wanted = match state {
                KeyState::Active => "active",
                _ => "next",
            };
            if !present
                .iter()
                .any(|r| r.alg == alg.as_str() && r.state == wanted)
            {
                insert(tx, keyring, alg, state).await?;
                created = true;
            }
        }
    }
    Ok(created)
}

/// Rotates every algorithm: active → retired (kept published for
/// `retired_for`, the longest lifetime of a token it signed), next → active,
/// and a new next key. Deletes retired keys past their removal time. A
/// tenant without keys gets its first ones instead: that is its rotation.
pub async fn rotate(
    tx: &mut TenantTx,
    keyring: &Keyring,
    retired_for: Duration,
) -> Result<(), KeyError> {
    if ensure(tx, keyring).await? {
        return Ok(());
    }
    let secs = i64::try_from(retired_for.as_secs()).unwrap_or(i64::MAX);
    sqlx::query!(
        "update signing_keys set state = 'retired', retired_at = now(), updated_at = now(),
                remove_after = now() + make_interval(secs => $1::bigint)
         where state = 'active'",
        secs,
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query!("update signing_keys set state = 'active', activated_at = now(), updated_at = now() where state = 'next'")
        .execute(&mut **tx)
        .await?;
    for alg in Alg::ALL {
        insert(tx, keyring, alg, KeyState::Next).await?;
    }
    remove_expired(tx).await?;
    Ok(())
}

/// Re-seals every private key of the tenant that is sealed under a master
/// key other than the current one (after a master-key rotation), so the
/// previous master key can be retired. Returns how many were re-sealed.
pub async fn reseal(tx: &mut TenantTx, keyring: &Keyring) -> Result<u64, KeyError> {
    let Some(current) = keyring.current_id().map(str::to_owned) else {
        return Err(KeyError::Seal(gatehouse_core::secretbox::SealError::NoKey));
    };
    lock(tx).await?;
    let rows = sqlx::query!(
        "select kid, master_key_id, sealed_private_key from signing_keys where master_key_id <> $1",
        current,
    )
    .fetch_all(&mut **tx)
    .await?;
    let mut n = 0;
    for row in rows {
        let aad = aad(tx.tenant(), &row.kid);
        let old = Sealed {
            key_id: row.master_key_id,
            blob: row.sealed_private_key,
        };
        let sealed = keyring.seal(&keyring.open(&old, &aad)?, &aad)?;
        sqlx::query!(
            "update signing_keys set master_key_id = $2, sealed_private_key = $3, updated_at = now()
             where kid = $1",
            row.kid,
            sealed.key_id,
            sealed.blob,
        )
        .execute(&mut **tx)
        .await?;
        n += 1;
    }
    Ok(n)
}

/// Deletes retired keys whose every token has expired.
pub async fn remove_expired(tx: &mut TenantTx) -> Result<u64, KeyError> {
    Ok(
        sqlx::query!("delete from signing_keys where state = 'retired' and remove_after < now()")
            .execute(&mut **tx)
            .await?
            .rows_affected(),
    )
}

pub async fn list(tx: &mut TenantTx) -> Result<Vec<KeyInfo>, KeyError> {
    let rows = sqlx::query!(
        "select kid, alg, state, created_at, activated_at, retired_at, remove_after from signing_keys
         order by alg, case state when 'active' then 0 when 'next' then 1 else 2 end, created_at desc"
    )
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| KeyInfo {
            kid: r.kid,
            alg: r.alg,
            state: KeyState::parse(&r.state),
            created_at: r.created_at,
            activated_at: r.activated_at,
            retired_at: r.retired_at,
            remove_after: r.remove_after,
        })
        .collect())
}

/// Loads what a provider holds: parsed active keys and the JWKS of every
/// published key (next, active, and retired not yet past removal).
pub async fn load(tx: &mut TenantTx, keyring: &Keyring) -> Result<TenantKeys, KeyError> {
    let rows = sqlx::query!(
        "select kid, alg, state, public_jwk, master_key_id, sealed_private_key from signing_keys
         where state <> 'retired' or remove_after >= now()
         order by alg, case state when 'active' then 0 when 'next' then 1 else 2 end, created_at desc"
    )
    .fetch_all(&mut **tx)
    .await?;
    let mut keys = TenantKeys::default();
    let mut published = Vec::new();
    for row in rows {
        if row.state == "active" {
            let alg = Alg::parse(&row.alg)
                .ok_or_else(|| KeyError::Stored(format!("unknown alg {}", row.alg)))?;
            let sealed = Sealed {
                key_id: row.master_key_id,
                blob: row.sealed_private_key,
            };
            let der = keyring.open(&sealed, &aad(tx.tenant(), &row.kid))?;
            keys.active.push(Arc::new(SigningKey::from_pkcs8(
                row.kid.clone(),
                alg,
                &der,
            )?));
        }
        if let (Some(alg), Ok(jwk)) = (
            jwt_alg(&row.alg),
            serde_json::from_value::<jsonwebtoken::jwk::Jwk>(row.public_jwk.clone()),
        ) {
            if let Ok(key) = jsonwebtoken::DecodingKey::from_jwk(&jwk) {
                keys.verifying.insert(row.kid.clone(), (alg, key));
            }
        }
        published.push(row.public_jwk);
    }
    keys.jwks = json!({ "keys": published });
    Ok(keys)
}
