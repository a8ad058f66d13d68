//! Token issuance and verification.
//!
//! * ID tokens: OpenID Connect Core §2 (iss, sub, aud, exp, iat, auth_time,
//!   nonce, azp, at_hash §3.1.3.6, sid, acr, amr), signed with the client's
//!   `id_token_signed_response_alg` (RS256 by default).
//! * Access tokens: JWTs per RFC 9068 (`typ: at+jwt`, iss, sub, aud,
//!   client_id, scope, exp, iat, jti), signed with ES256: the cheapest of the
//!   tenant's algorithms, and access tokens are issued on every grant.
//! * Revoked access tokens are remembered by jti until they expire.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use gatehouse_core::kv::Kv;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use crate::error::OAuthError;
use crate::jws;
use crate::keys::Alg;
use crate::provider::TenantProvider;

/// The algorithm of access tokens.
pub const ACCESS_TOKEN_ALG: Alg = Alg::ES256;

/// RFC 9068 §2.2.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub client_id: String,
    pub scope: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

/// OpenID Connect Core §2.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct IdClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    pub azp: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub amr: Vec<String>,
}

/// Token lifetimes from the tenant's effective settings (seconds).
pub fn ttl(provider: &TenantProvider, key: &str, default: u64) -> i64 {
    let v = provider
        .settings
        .get("oidc", key)
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(default);
    i64::try_from(v).unwrap_or(i64::MAX)
}

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// What an access token is issued for.
#[derive(Debug, Clone)]
pub struct AccessGrant<'a> {
    pub subject: &'a str,
    pub client_id: &'a str,
    pub scope: &'a str,
    pub auth_time: Option<i64>,
    pub sid: Option<&'a str>,
}

/// Signs an RFC 9068 access token; returns it with its claims.
pub fn issue_access_token(
    p: &TenantProvider,
    g: &AccessGrant<'_>,
) -> Result<(String, AccessClaims), OAuthError> {
    let iat = now();
    let claims = AccessClaims {
        iss: p.issuer.clone(),
        sub: g.subject.to_owned(),
        aud: p.issuer.clone(),
        client_id: g.client_id.to_owned(),
        scope: g.scope.to_owned(),
        exp: iat + ttl(p, "access_token_ttl_secs", 300),
        iat,
        jti: Uuid::new_v4().to_string(),
        auth_time: g.auth_time,
        sid: g.sid.map(str::to_owned),
    };
    let key = p
        .keys
        .signing(ACCESS_TOKEN_ALG)
        .ok_or_else(|| OAuthError::internal("no active ES256 key"))?;
    let token = jws::sign(key, Some("at+jwt"), &claims).map_err(OAuthError::internal)?;
    Ok((token, claims))
}

/// at_hash (OpenID Connect Core §3.1.3.6): the left half of the hash of the
/// access token's ASCII octets, with the hash of the ID token's algorithm
/// (SHA-256 for RS256 and ES256; Ed25519 signs with SHA-512 internally, and
/// OpenID Connect for EdDSA uses SHA-512 as well, per the OpenID Foundation's
/// guidance that matches the curve's hash).
pub fn at_hash(access_token: &str, alg: Alg) -> String {
    match alg {
        Alg::EdDSA => {
            let h = <sha2::Sha512 as sha2::Digest>::digest(access_token.as_bytes());
            B64.encode(&h[..32])
        }
        _ => {
            let h = Sha256::digest(access_token.as_bytes());
            B64.encode(&h[..16])
        }
    }
}

pub fn sign_id_token(
    p: &TenantProvider,
    alg: Alg,
    claims: &IdClaims,
) -> Result<String, OAuthError> {
    let key = p
        .keys
        .signing(alg)
        .ok_or_else(|| OAuthError::internal("no active key for the client's alg"))?;
    jws::sign(key, None, claims).map_err(OAuthError::internal)
}

fn revoked_key(jti: &str) -> String {
    format!("revoked-at:{jti}")
}

/// Remembers a revoked access token until it would have expired anyway.
pub async fn revoke_access_token(
    kv: &Kv,
    p: &TenantProvider,
    claims: &AccessClaims,
) -> Result<(), OAuthError> {
    let remaining = (claims.exp - now()).max(1);
    kv.set(
        p.tenant.id,
        &revoked_key(&claims.jti),
        b"1",
        std::time::Duration::from_secs(remaining.unsigned_abs()),
    )
    .await
    .map_err(OAuthError::internal)
}

/// Verifies an access token of this tenant: signature by a key this tenant
/// published (pinned to that key's algorithm), `typ` at+jwt (RFC 9068 §4),
/// issuer, expiry, and not revoked. A token of another tenant fails here:
/// its kid is not among this tenant's keys, and its issuer differs.
pub async fn verify_access_token(
    kv: &Kv,
    p: &TenantProvider,
    token: &str,
) -> Result<AccessClaims, OAuthError> {
    let invalid =
        || OAuthError::InvalidToken("the access token is invalid, expired or revoked".into());
    let header = jsonwebtoken::decode_header(token).map_err(|_| invalid())?;
    if !header
        .typ
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case("at+jwt"))
    {
        return Err(invalid());
    }
    let kid = header.kid.ok_or_else(invalid)?;
    let (alg, key) = p.keys.verifying(&kid).ok_or_else(invalid)?;
    let mut validation = jsonwebtoken::Validation::new(*alg);
    validation.set_issuer(&[&p.issuer]);
    validation.set_audience(&[&p.issuer]);
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let claims = jsonwebtoken::decode::<AccessClaims>(token, key, &validation)
        .map_err(|_| invalid())?
        .claims;
    if kv
        .get(p.tenant.id, &revoked_key(&claims.jti))
        .await
        .map_err(OAuthError::internal)?
        .is_some()
    {
        return Err(invalid());
    }
    Ok(claims)
}

/// Verifies an ID token this tenant issued, for `id_token_hint`: signature
/// and issuer are checked; expiry is not (OpenID Connect RP-Initiated
/// Logout §2 allows an expired hint). Returns its claims.
pub fn verify_id_token_hint(p: &TenantProvider, token: &str) -> Option<IdClaims> {
    let header = jsonwebtoken::decode_header(token).ok()?;
    let (alg, key) = p.keys.verifying(header.kid.as_deref()?)?;
    let mut validation = jsonwebtoken::Validation::new(*alg);
    validation.set_issuer(&[&p.issuer]);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["iss", "sub", "aud"]);
    jsonwebtoken::decode::<IdClaims>(token, key, &validation)
        .ok()
        .map(|d| d.claims)
}
