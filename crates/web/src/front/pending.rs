//! Pending authorization requests: a validated request waiting for the user
//! to log in or consent, kept in the shared store under the tenant's prefix
//! at `authreq:{id}` (random 256-bit id, JSON, ten minutes). The pages carry
//! only the id; the parameters cannot be changed between steps.

use std::time::Duration;

use gatehouse_core::crypto::random_token;
use gatehouse_core::kv::KvError;
use gatehouse_oidc::authorize::ValidatedRequest;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::session::well_formed;
use super::Front;

/// How long a user has to log in and consent.
pub const PENDING_TTL: Duration = Duration::from_secs(600);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending {
    /// The authorization request; None for a sign-in to the account page.
    pub request: Option<ValidatedRequest>,
    /// Set when the request waits for consent: the session (`sid`) that was
    /// shown the consent page, the only one that may answer it.
    pub sid: Option<String>,
    /// A sign-in whose password was right, waiting for a second factor.
    #[serde(default)]
    pub half: Option<HalfSignIn>,
    /// Where a sign-in without an authorization request lands, below the
    /// issuer: one of [`RETURN_PATHS`]; None is the account page.
    #[serde(default)]
    pub return_to: Option<String>,
}

/// The pages a sign-in may return to (never an arbitrary URL: an open
/// redirect, RFC 9700 §4.11).
pub const RETURN_PATHS: [&str; 3] = ["/account", "/admin", "/platform"];

/// The first factor of a sign-in, done.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct HalfSignIn {
    pub user_id: Uuid,
    /// Methods used so far (RFC 8176).
    pub amr: Vec<String>,
    /// SHA-256 of the `gatehouse_mfa` cookie of the browser that began it:
    /// only that browser may finish it.
    pub browser: String,
    /// The user must enrol a second factor first (policy `required`).
    pub enrol: bool,
}

impl Pending {
    /// An authorization request waiting for sign-in.
    pub fn authorize(request: ValidatedRequest) -> Self {
        Self {
            request: Some(request),
            sid: None,
            half: None,
            return_to: None,
        }
    }

    /// A sign-in to the account page.
    pub fn account() -> Self {
        Self {
            request: None,
            sid: None,
            half: None,
            return_to: None,
        }
    }

    /// A sign-in to one of the administration consoles (`/admin`,
    /// `/platform`); anything else lands on the account page.
    pub fn console(path: &str) -> Self {
        Self {
            return_to: RETURN_PATHS.contains(&path).then(|| path.to_owned()),
            ..Self::account()
        }
    }

    /// Where a sign-in without an authorization request lands.
    pub fn landing(&self) -> &str {
        self.return_to
            .as_deref()
            .filter(|p| RETURN_PATHS.contains(p))
            .unwrap_or("/account")
    }

    /// The languages the request asks for.
    pub fn ui_locales(&self) -> Option<&str> {
        self.request.as_ref().and_then(|r| r.ui_locales.as_deref())
    }
}

fn key(id: &str) -> String {
    format!("authreq:{id}")
}

/// Stores a pending request; returns its id.
pub(crate) async fn park(f: &Front, pending: &Pending) -> Result<String, KvError> {
    let id = random_token();
    let body = serde_json::to_vec(pending).unwrap_or_default();
    f.state
        .kv
        .set(f.tenant_id(), &key(&id), &body, PENDING_TTL)
        .await?;
    Ok(id)
}

/// The pending request `id`, left in place.
pub(crate) async fn load(f: &Front, id: &str) -> Result<Option<Pending>, KvError> {
    if !well_formed(id) {
        return Ok(None);
    }
    let raw = f.state.kv.get(f.tenant_id(), &key(id)).await?;
    Ok(raw.and_then(|r| serde_json::from_slice(&r).ok()))
}

/// The pending request `id`, removed (once).
pub(crate) async fn take(f: &Front, id: &str) -> Result<Option<Pending>, KvError> {
    if !well_formed(id) {
        return Ok(None);
    }
    let raw = f.state.kv.take(f.tenant_id(), &key(id)).await?;
    Ok(raw.and_then(|r| serde_json::from_slice(&r).ok()))
}

/// Stores `pending` again under its id `id` (for another ten minutes).
pub(crate) async fn replace(f: &Front, id: &str, pending: &Pending) -> Result<(), KvError> {
    if !well_formed(id) {
        return Ok(());
    }
    let body = serde_json::to_vec(pending).unwrap_or_default();
    f.state
        .kv
        .set(f.tenant_id(), &key(id), &body, PENDING_TTL)
        .await
}

/// The id of pending request `req` if it still waits (empty otherwise),
/// after choosing the page's language by it: the sign-up and recovery pages
/// a sign-in request leads to speak its `ui_locales` and continue it.
pub(crate) async fn adopt(f: &mut Front, req: &str) -> Result<String, super::Failure> {
    if req.is_empty() {
        return Ok(String::new());
    }
    Ok(match load(f, req).await? {
        Some(p) => {
            f.with_ui_locales(p.ui_locales());
            req.to_owned()
        }
        None => String::new(),
    })
}
