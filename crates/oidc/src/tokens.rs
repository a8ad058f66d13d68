//! Token issuance and verification.
//!
//! * ID tokens: OpenID Connect Core §2 (iss, sub, aud, exp, iat, auth_time,
//!   nonce, azp, at_hash §3.1.3.6, sid, acr, amr), signed with the client's
//!   `id_token_signed_response_alg` (RS256 by default).
//! * Access tokens: JWTs per RFC 9068 (`typ: at+jwt`, iss, sub, aud,
//!   client_id, scope, exp, iat, jti), signed with ES256: the cheapest of the
//!   tenant's algorithms, and access tokens are issued on every grant.
//! * Access tokens are self-contained, so revocation is a mark in the shared
//!   store, kept until every token it covers has expired: per token (`jti`),
//!   per grant (`grant_id`: every access token issued from one authorization
//!   code and its refresh tokens, RFC 7009 §2.1), and per browser session
//!   (`sid`, ended by logout; grants with `offline_access` outlive the
//!   session, OpenID Connect Core §11). Verification checks all three in one
//!   round trip.

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
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub auth_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sid: Option<String>,
    /// The authorization this token was issued under (one per authorization
    /// code, shared by its refresh tokens). RFC 9068 §2.2 allows further
    /// claims; this one lets a revoked grant take its access tokens with it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub grant_id: Option<Uuid>,
    /// The user's custom roles, when the `roles` scope was granted.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub roles: Option<Vec<String>>,
}

impl AccessClaims {
    /// Whether the grant includes `offline_access`: access that outlives the
    /// browser session (OpenID Connect Core §11).
    pub fn is_offline(&self) -> bool {
        self.scope.split(' ').any(|s| s == "offline_access")
    }
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
    /// The user's custom roles, when the `roles` scope was granted.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub roles: Option<Vec<String>>,
}

/// Authentication context class of one factor (a password alone).
pub const ACR_ONE_FACTOR: &str = "urn:gatehouse:loa:1";
/// Authentication context class of two independent factors.
pub const ACR_TWO_FACTORS: &str = "urn:gatehouse:loa:2";
/// The `acr` values this server issues (Discovery §3 `acr_values_supported`).
pub const ACR_VALUES: [&str; 2] = [ACR_ONE_FACTOR, ACR_TWO_FACTORS];

/// The `acr` (OpenID Connect Core §2: an absolute URI naming the
/// authentication context class) that the methods `amr` (RFC 8176) reach:
/// `mfa`, or two distinct factor kinds, is two factors; anything else one.
pub fn acr_for(amr: &[String]) -> &'static str {
    let factor = |m: &str| match m {
        "pwd" | "pin" => Some("knowledge"),
        "otp" | "hwk" | "swk" | "sms" => Some("possession"),
        "fpt" | "face" | "iris" | "user" => Some("inherence"),
        _ => None,
    };
    let mut kinds: Vec<&str> = amr.iter().filter_map(|m| factor(m)).collect();
    kinds.sort_unstable();
    kinds.dedup();
    if amr.iter().any(|m| m == "mfa") || kinds.len() >= 2 {
        ACR_TWO_FACTORS
    } else {
        ACR_ONE_FACTOR
    }
}

/// Token lifetimes from the tenant's effective settings (seconds).
/// Never above the platform's ceiling (`gatehouse_tenancy::sections`): a
/// value stored before the ceiling was lowered is capped here.
pub fn ttl(provider: &TenantProvider, key: &str, default: u64) -> i64 {
    let v = provider
        .settings
        .get("oidc", key)
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(default);
    let v = match gatehouse_tenancy::sections::ceiling(&provider.settings, "oidc", key) {
        Some(most) => v.min(most),
        None => v,
    };
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
    pub grant_id: Option<Uuid>,
    /// The `roles` claim, when the `roles` scope was granted.
    pub roles: Option<&'a [String]>,
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
        grant_id: g.grant_id,
        roles: g.roles.map(<[String]>::to_vec),
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

fn revoked_grant_key(grant_id: Uuid) -> String {
    format!("revoked-grant:{grant_id}")
}

fn revoked_session_key(sid: &str) -> String {
    format!("revoked-sid:{sid}")
}

async fn mark(kv: &Kv, p: &TenantProvider, name: &str, secs: i64) -> Result<(), OAuthError> {
    kv.set(
        p.tenant.id,
        name,
        b"1",
        std::time::Duration::from_secs(secs.max(1).unsigned_abs()),
    )
    .await
    .map_err(OAuthError::internal)
}

/// Remembers a revoked access token until it would have expired anyway.
pub async fn revoke_access_token(
    kv: &Kv,
    p: &TenantProvider,
    claims: &AccessClaims,
) -> Result<(), OAuthError> {
    mark(kv, p, &revoked_key(&claims.jti), claims.exp - now()).await
}

/// Revokes every access token issued under grant `grant_id` (RFC 7009 §2.1:
/// revoking a refresh token should invalidate the access tokens of the same
/// grant). The mark lasts as long as the longest-lived of them could.
pub async fn revoke_grant(kv: &Kv, p: &TenantProvider, grant_id: Uuid) -> Result<(), OAuthError> {
    let ttl = ttl(p, "access_token_ttl_secs", 300);
    mark(kv, p, &revoked_grant_key(grant_id), ttl).await
}

/// Revokes the access tokens of browser session `sid` (logout), except
/// those of grants with `offline_access`.
pub async fn revoke_session(kv: &Kv, p: &TenantProvider, sid: &str) -> Result<(), OAuthError> {
    let ttl = ttl(p, "access_token_ttl_secs", 300);
    mark(kv, p, &revoked_session_key(sid), ttl).await
}

/// Whether a verified token was revoked: by itself, by its grant, or by the
/// end of its session.
async fn is_revoked(kv: &Kv, p: &TenantProvider, c: &AccessClaims) -> Result<bool, OAuthError> {
    let mut names = vec![revoked_key(&c.jti)];
    if let Some(g) = c.grant_id {
        names.push(revoked_grant_key(g));
    }
    if let Some(sid) = c.sid.as_deref().filter(|_| !c.is_offline()) {
        names.push(revoked_session_key(sid));
    }
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    kv.any_exists(p.tenant.id, &names)
        .await
        .map_err(OAuthError::internal)
}

/// Verifies an access token of this tenant: signature by a key this tenant
/// published (pinned to that key's algorithm), `typ` at+jwt (RFC 9068 §4),
/// issuer, expiry, not revoked, and issued to a client that still exists
/// and is enabled (the provider's client cache: no database round trip
/// once the client is cached). A token of another tenant fails here: its
/// kid is not among this tenant's keys, and its issuer differs.
pub async fn verify_access_token(
    kv: &Kv,
    db: &gatehouse_core::Db,
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
    if is_revoked(kv, p, &claims).await? {
        return Err(invalid());
    }
    // A deleted or disabled client's tokens stop with it.
    if p.client(db, &claims.client_id)
        .await
        .map_err(OAuthError::internal)?
        .is_none()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn amr(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn acr_counts_distinct_factor_kinds() {
        assert_eq!(acr_for(&amr(&["pwd"])), ACR_ONE_FACTOR);
        assert_eq!(acr_for(&amr(&[])), ACR_ONE_FACTOR);
        assert_eq!(acr_for(&amr(&["pwd", "pin"])), ACR_ONE_FACTOR, "one kind");
        assert_eq!(acr_for(&amr(&["pwd", "otp"])), ACR_TWO_FACTORS);
        assert_eq!(acr_for(&amr(&["hwk", "user"])), ACR_TWO_FACTORS);
        assert_eq!(acr_for(&amr(&["pwd", "mfa"])), ACR_TWO_FACTORS);
    }

    #[test]
    fn offline_is_a_whole_scope_word() {
        let mut c = AccessClaims {
            iss: "i".into(),
            sub: "s".into(),
            aud: "i".into(),
            client_id: "c".into(),
            scope: "openid offline_access".into(),
            exp: 0,
            iat: 0,
            jti: "j".into(),
            auth_time: None,
            sid: None,
            grant_id: None,
            roles: None,
        };
        assert!(c.is_offline());
        c.scope = "openid offline_accessx".into();
        assert!(!c.is_offline());
    }
}
