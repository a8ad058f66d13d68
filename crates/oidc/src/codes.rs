//! Authorization codes (RFC 6749 §4.1.2, RFC 9700 §4.2): 256-bit random,
//! single use, short-lived, kept in the shared store under the tenant and
//! the code's hash, and taken with GETDEL so two nodes can never both redeem
//! one. Each code has a marker beside it naming what its redemption issues
//! (the refresh family, decided when the code is); a replay finds the code
//! gone and the marker there, and revokes those tokens (RFC 6749 §4.1.2: "If an
//! authorization code is used more than once … SHOULD revoke … all tokens
//! previously issued based on that authorization code").

use std::time::Duration;

use gatehouse_core::crypto::{random_token, secret_hash};
use gatehouse_core::kv::Kv;
use gatehouse_core::TenantId;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::OAuthError;
use crate::provider::TenantProvider;
use crate::tokens;

/// Everything the token endpoint needs to honour a code.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CodeGrant {
    pub client_id: String,
    pub redirect_uri: String,
    pub user_id: Uuid,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub auth_time: i64,
    pub sid: String,
    pub acr: Option<String>,
    pub amr: Vec<String>,
    /// The refresh-token family issued from this code, decided up front so
    /// a replay can revoke it.
    pub family_id: Uuid,
}

/// What was issued from a redeemed code (the replay marker).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Redeemed {
    /// The grant: its refresh family and the `grant_id` of its access tokens.
    pub family_id: Uuid,
}

fn code_key(code: &str) -> String {
    format!("code:{}", secret_hash(code))
}

fn used_key(code: &str) -> String {
    format!("code-used:{}", secret_hash(code))
}

/// How long a code's replay marker stays: as long as the access token
/// issued from it lives, and at least ten minutes.
pub fn replay_window(p: &TenantProvider) -> Duration {
    Duration::from_secs(
        u64::try_from(tokens::ttl(p, "access_token_ttl_secs", 300))
            .unwrap_or(300)
            .max(600),
    )
}

/// Stores a grant and returns its code. The marker a replay looks for is
/// written with it, in the same round trip, naming the refresh family the
/// code will be redeemed for (decided up front): redeeming then costs one
/// round trip to the store, the GETDEL. `keep` is how long the marker
/// stays, at least as long as what a redemption issues could be abused. A
/// code that fails to redeem, or expires unused, leaves a marker naming a
/// family with no tokens: revoking it on a later replay does nothing.
pub async fn issue(
    kv: &Kv,
    tenant: TenantId,
    grant: &CodeGrant,
    ttl: Duration,
    keep: Duration,
) -> Result<String, OAuthError> {
    let code = random_token();
    let value = serde_json::to_vec(grant).map_err(OAuthError::internal)?;
    let marker = serde_json::to_vec(&Redeemed {
        family_id: grant.family_id,
    })
    .map_err(OAuthError::internal)?;
    kv.set_many(
        tenant,
        &[
            (&code_key(&code), &value, ttl),
            (&used_key(&code), &marker, keep.max(ttl)),
        ],
    )
    .await
    .map_err(OAuthError::internal)?;
    Ok(code)
}

/// The outcome of presenting a code.
#[derive(Debug)]
pub enum Presented {
    /// First use: the grant.
    Fresh(Box<CodeGrant>),
    /// Already redeemed: what was issued from it, to revoke.
    Replayed(Option<Redeemed>),
}

/// Takes the code (once). Unknown and expired codes are `Replayed(None)`.
pub async fn take(kv: &Kv, tenant: TenantId, code: &str) -> Result<Presented, OAuthError> {
    if let Some(raw) = kv
        .take(tenant, &code_key(code))
        .await
        .map_err(OAuthError::internal)?
    {
        let grant = serde_json::from_slice(&raw).map_err(OAuthError::internal)?;
        return Ok(Presented::Fresh(Box::new(grant)));
    }
    let used = kv
        .get(tenant, &used_key(code))
        .await
        .map_err(OAuthError::internal)?;
    Ok(Presented::Replayed(
        used.and_then(|raw| serde_json::from_slice(&raw).ok()),
    ))
}
