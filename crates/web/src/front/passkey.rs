//! Passkeys on the pages: passwordless sign-in from the login page, a
//! passkey as the second step, and adding, renaming and removing passkeys on
//! the account page ([`gatehouse_oidc::passkeys`] holds the ceremonies and
//! the storage).
//!
//! The WebAuthn Relying Party is the tenant: its RP ID is the issuer's host
//! and its origin the issuer's origin, so a subdomain or custom-domain
//! tenant has an RP of its own; path-mode tenants share their host's RP ID,
//! and a credential is only ever looked up inside its tenant. Browsers allow
//! WebAuthn only on a domain (not an IP address) served over https, or on
//! `localhost`; elsewhere the passkey parts of the pages are left out.
//!
//! A ceremony's options are embedded in the page as JSON (with `<`, `>`
//! and `&` escaped, so a user's name cannot close the script element);
//! `assets/passkeys.js` (the pages' only script besides form_post's, loaded
//! with the page's CSP nonce) runs the ceremony and posts the result with a
//! plain form.

use axum::extract::rejection::FormRejection;
use axum::extract::Form;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use gatehouse_core::audit::action;
use gatehouse_core::throttle::Action;
use gatehouse_oidc::passkeys::{self, PasskeyError, Rp};
use gatehouse_oidc::users;
use serde::Deserialize;
use uuid::Uuid;

use super::login::complete;
use super::page::{self, Chrome, Csp};
use super::pending;
use super::session;
use super::{internal, throttle, Failure, Front};

/// The script, relative to the issuer.
pub const SCRIPT_PATH: &str = "/assets/passkeys.js";

const SCRIPT: &str = include_str!("../../assets/passkeys.js");

/// `GET {issuer}/assets/passkeys.js`.
pub async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        SCRIPT,
    )
        .into_response()
}

/// The tenant's Relying Party, when its issuer can have one.
pub(crate) fn rp(f: &Front) -> Option<Rp> {
    let name = Chrome::of(f).tenant_name;
    match Rp::for_issuer(&f.provider.issuer, &name) {
        Ok(rp) => Some(rp),
        Err(e) => {
            tracing::debug!(error = %e, "no WebAuthn relying party for this issuer");
            None
        }
    }
}

/// `value` as JSON safe inside a `<script>` element.
pub(crate) fn script_json(value: &serde_json::Value) -> String {
    serde_json::to_string(value)
        .unwrap_or_default()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// A passkey ceremony a page offers: its id and its options for the script.
pub struct Offer {
    pub ceremony: String,
    pub options: String,
    pub nonce: String,
}

impl Offer {
    fn new(ceremony: String, options: &serde_json::Value) -> Self {
        Self {
            ceremony,
            options: script_json(options),
            nonce: gatehouse_core::crypto::random_token(),
        }
    }

    /// The page's CSP with the script's nonce.
    pub fn csp(&self, mut csp: Csp) -> Csp {
        csp.script_nonce = Some(self.nonce.clone());
        csp
    }
}

/// A passwordless sign-in offer for the login page (None where the tenant
/// has no RP).
pub(crate) async fn sign_in_offer(f: &Front) -> Result<Option<Offer>, Failure> {
    let Some(rp) = rp(f) else { return Ok(None) };
    let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
    let started = passkeys::start_authentication(&mut tx, &f.state.kv, &rp, None).await;
    tx.commit().await?;
    match started {
        Ok((ceremony, options)) => Ok(Some(Offer::new(ceremony, &options))),
        Err(e) => {
            tracing::warn!(error = %e, "passkey sign-in unavailable");
            Ok(None)
        }
    }
}

/// A second-step offer for a user with passkeys (None without any).
pub(crate) async fn second_step_offer(f: &Front, user_id: Uuid) -> Result<Option<Offer>, Failure> {
    let Some(rp) = rp(f) else { return Ok(None) };
    let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
    let started = passkeys::start_authentication(&mut tx, &f.state.kv, &rp, Some(user_id)).await;
    tx.commit().await?;
    match started {
        Ok((ceremony, options)) => Ok(Some(Offer::new(ceremony, &options))),
        Err(PasskeyError::NoPasskeys) => Ok(None),
        Err(e) => Err(internal(e)),
    }
}

/// The methods (RFC 8176) of a passkey assertion: a hardware-secured key,
/// and with user verification (biometrics or a PIN) a second factor.
pub(crate) fn amr_of(user_verified: bool) -> Vec<String> {
    if user_verified {
        vec!["hwk".to_owned(), "user".to_owned()]
    } else {
        vec!["hwk".to_owned()]
    }
}

/// Verifies a passkey assertion: the user and whether they were verified;
/// None when it fails (for any reason the caller need not tell).
pub(crate) async fn verify(
    f: &Front,
    ceremony: &str,
    credential: &str,
) -> Result<Option<passkeys::Authenticated>, Failure> {
    let Some(rp) = rp(f) else { return Ok(None) };
    let Ok(credential) = serde_json::from_str::<serde_json::Value>(credential) else {
        return Ok(None);
    };
    let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
    match passkeys::finish_authentication(&mut tx, &f.state.kv, &rp, ceremony, &credential).await {
        Ok(a) => {
            tx.commit().await?;
            Ok(Some(a))
        }
        Err(PasskeyError::Kv(e)) => Err(internal(e)),
        Err(PasskeyError::Db(e)) => Err(internal(e)),
        Err(e) => {
            tracing::info!(error = %e, "passkey assertion refused");
            Ok(None)
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    req: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    ceremony: String,
    #[serde(default)]
    credential: String,
}

/// `POST {issuer}/login/passkey`: passwordless sign-in. A passkey with user
/// verification is two factors at once; the sign-in completes.
pub async fn sign_in(mut f: Front, form: Result<Form<SignInForm>, FormRejection>) -> Response {
    let Ok(Form(form)) = form else {
        return f.fail(Failure::csrf());
    };
    async {
        let Some(p) = pending::load(&f, &form.req).await? else {
            return Err(Failure::expired());
        };
        f.with_ui_locales(p.ui_locales());
        let f = &f;
        if !session::csrf_ok(&f.headers, &form.csrf) {
            return Err(Failure::csrf());
        }
        let keys = [throttle::client_key(f)];
        if let Some(wait) = throttle::check(f, Action::Login, &keys).await? {
            return Ok(wait);
        }
        let Some(a) = verify(f, &form.ceremony, &form.credential).await? else {
            throttle::failed(f, Action::Login, &keys).await?;
            let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
            let details = serde_json::json!({ "method": "passkey" });
            f.audit(&mut tx, None, action::LOGIN_FAILED, details)
                .await?;
            tx.commit().await?;
            return Err(Failure::bad(
                "passkey-failed-title",
                "passkey-failed-message",
            ));
        };
        let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
        let user = users::claims(&mut tx, a.user_id).await?;
        tx.commit().await?;
        if !user.is_some_and(|u| u.active()) {
            return Err(Failure::bad(
                "passkey-failed-title",
                "passkey-failed-message",
            ));
        }
        let amr = amr_of(a.user_verified);
        if amr.len() < 2 && super::mfa::needed(f, a.user_id).await? != super::mfa::Need::Nothing {
            // A passkey without user verification is one factor only.
            return Err(Failure::bad(
                "passkey-failed-title",
                "passkey-failed-message",
            ));
        }
        complete(f, &form.req, a.user_id, amr).await
    }
    .await
    .unwrap_or_else(|e| f.fail(e))
}

#[derive(askama::Template)]
#[template(path = "passkey_new.html", config = "src/front/askama.toml")]
struct NewPasskeyPage<'a> {
    chrome: Chrome,
    csrf: &'a str,
    offer: &'a Offer,
    name: &'a str,
    error: Option<String>,
}

async fn new_page(
    f: &Front,
    user: &users::UserClaims,
    name: &str,
    error: Option<String>,
) -> Result<Response, Failure> {
    let Some(rp) = rp(f) else {
        return Err(Failure::bad(
            "passkey-unavailable-title",
            "passkey-unavailable-message",
        ));
    };
    let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
    let display = user.name.clone().unwrap_or_else(|| user.username.clone());
    let (ceremony, options) =
        passkeys::start_registration(&mut tx, &f.state.kv, &rp, user.id, &user.username, &display)
            .await
            .map_err(internal)?;
    tx.commit().await?;
    let offer = Offer::new(ceremony, &options);
    let (csrf, set_csrf) = session::csrf_token(f, &f.headers);
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = NewPasskeyPage {
        chrome: Chrome::of(f),
        csrf: &csrf,
        offer: &offer,
        name,
        error,
    };
    Ok(page::render(
        status,
        &page,
        &offer.csp(Csp::default()),
        &[set_csrf],
    ))
}

/// `GET {issuer}/account/passkeys/new`.
pub async fn new_get(f: Front) -> Response {
    async {
        let Some((_, user)) = super::account::signed_in(&f).await? else {
            return super::account::to_sign_in(&f).await;
        };
        new_page(&f, &user, "", None).await
    }
    .await
    .unwrap_or_else(|e| f.fail(e))
}

#[derive(Debug, Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    ceremony: String,
    #[serde(default)]
    credential: String,
    #[serde(default)]
    name: String,
}

/// `POST {issuer}/account/passkeys`: the new credential.
pub async fn register(f: Front, form: Result<Form<RegisterForm>, FormRejection>) -> Response {
    let Ok(Form(form)) = form else {
        return f.fail(Failure::csrf());
    };
    async {
        let (_, user) = match super::account::authorised(&f, &form.csrf).await? {
            Ok(found) => found,
            Err(answer) => return Ok(answer),
        };
        let Some(rp) = rp(&f) else {
            return Err(Failure::bad(
                "passkey-unavailable-title",
                "passkey-unavailable-message",
            ));
        };
        let name = if form.name.trim().is_empty() {
            f.lang.t("passkey-default-name")
        } else {
            form.name.trim().to_owned()
        };
        let Ok(credential) = serde_json::from_str::<serde_json::Value>(&form.credential) else {
            return new_page(&f, &user, &name, Some(f.lang.t("passkey-register-failed"))).await;
        };
        let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
        let result = passkeys::finish_registration(
            &mut tx,
            &f.state.kv,
            &rp,
            user.id,
            &form.ceremony,
            &credential,
            &name,
        )
        .await;
        match result {
            Ok(_) => {
                let details = serde_json::json!({ "name": name });
                f.audit(&mut tx, Some(user.id), action::PASSKEY_ADDED, details)
                    .await?;
                tx.commit().await?;
                tracing::info!(user = %user.id, "passkey added");
                Ok(page::see_other(&f.url("/account?done=passkey-added"), &[]))
            }
            Err(PasskeyError::Name) => {
                new_page(&f, &user, &name, Some(f.lang.t("passkey-name-invalid"))).await
            }
            Err(PasskeyError::Kv(e)) => Err(internal(e)),
            Err(PasskeyError::Db(e)) => Err(internal(e)),
            Err(e) => {
                tracing::info!(error = %e, "passkey registration refused");
                new_page(&f, &user, &name, Some(f.lang.t("passkey-register-failed"))).await
            }
        }
    }
    .await
    .unwrap_or_else(|e| f.fail(e))
}

#[derive(Debug, Deserialize)]
pub struct ManageForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
}

/// `POST {issuer}/account/passkeys/rename`.
pub async fn rename(f: Front, form: Result<Form<ManageForm>, FormRejection>) -> Response {
    let Ok(Form(form)) = form else {
        return f.fail(Failure::csrf());
    };
    async {
        let (_, user) = match super::account::authorised(&f, &form.csrf).await? {
            Ok(found) => found,
            Err(answer) => return Ok(answer),
        };
        let Ok(id) = form.id.parse::<Uuid>() else {
            return Ok(page::see_other(&f.url("/account"), &[]));
        };
        let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
        match passkeys::rename(&mut tx, user.id, id, &form.name).await {
            Ok(_) => {}
            Err(PasskeyError::Name) => {
                return Ok(page::see_other(
                    &f.url("/account?done=passkey-name-invalid"),
                    &[],
                ))
            }
            Err(e) => return Err(internal(e)),
        }
        tx.commit().await?;
        Ok(page::see_other(
            &f.url("/account?done=passkey-renamed"),
            &[],
        ))
    }
    .await
    .unwrap_or_else(|e| f.fail(e))
}

/// `POST {issuer}/account/passkeys/remove` (a recent sign-in).
pub async fn remove(f: Front, form: Result<Form<ManageForm>, FormRejection>) -> Response {
    let Ok(Form(form)) = form else {
        return f.fail(Failure::csrf());
    };
    async {
        let (s, user) = match super::account::authorised(&f, &form.csrf).await? {
            Ok(found) => found,
            Err(answer) => return Ok(answer),
        };
        if !super::account::recent(&s) {
            return super::account::to_sign_in(&f).await;
        }
        let Ok(id) = form.id.parse::<Uuid>() else {
            return Ok(page::see_other(&f.url("/account"), &[]));
        };
        let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
        passkeys::remove(&mut tx, user.id, id)
            .await
            .map_err(internal)?;
        let details = serde_json::json!({ "passkey": id });
        f.audit(&mut tx, Some(user.id), action::PASSKEY_REMOVED, details)
            .await?;
        tx.commit().await?;
        tracing::info!(user = %user.id, "passkey removed");
        Ok(page::see_other(
            &f.url("/account?done=passkey-removed"),
            &[],
        ))
    }
    .await
    .unwrap_or_else(|e| f.fail(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_cannot_close_the_script_element() {
        let v = serde_json::json!({ "user": { "name": "</script><script>alert(1)</script>&" } });
        let s = script_json(&v);
        assert!(!s.contains('<') && !s.contains('>') && !s.contains('&'));
        let back: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back, v);
    }
}
