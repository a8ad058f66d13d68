//! The second step of sign-in, and enrolment when a tenant requires one.
//!
//! **Policy** (`security.mfa`): `off` (no second step), `optional` (the
//! default: users who enrolled a factor are asked for it) or `required`
//! (users without a factor must enrol one at their next sign-in). The
//! platform's `[settings.security] mfa` is a floor a tenant cannot weaken:
//! the stricter of the two applies.
//!
//! After the right password, a user with a factor is sent to
//! `GET {issuer}/login/mfa?req=…` (a TOTP code, or one of their recovery
//! codes), a user who must enrol to `GET {issuer}/login/mfa/setup?req=…`
//! (a QR code, a confirming code, then the recovery codes once). The
//! half-done sign-in lives in the pending request, bound to the browser by
//! the `gatehouse_mfa` cookie; codes are throttled per account and address.
//! Methods (RFC 8176) end up in the session and the ID token's `amr`:
//! `pwd` + `otp` (TOTP), or `pwd` + `mfa` (a recovery code); `acr` follows.

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use gatehouse_core::audit::action;
use gatehouse_core::crypto::{random_token, secret_hash};
use gatehouse_core::throttle::{Action, Key};
use gatehouse_oidc::{mfa, users};
use gatehouse_tenancy::settings::EffectiveSettings;
use serde::Deserialize;
use subtle::ConstantTimeEq as _;
use uuid::Uuid;

use super::login::complete;
use super::page::{self, Chrome, Csp};
use super::pending::{self, HalfSignIn, Pending};
use super::session::{self, cookie, cookie_values};
use super::{internal, throttle, Failure, Front};

/// The cookie that binds a half-done sign-in to its browser.
pub const MFA_COOKIE: &str = "gatehouse_mfa";

/// A tenant's second-factor policy, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Policy {
    Off,
    Optional,
    Required,
}

impl Policy {
    fn parse(v: Option<&serde_json::Value>) -> Option<Self> {
        match v.and_then(serde_json::Value::as_str)? {
            "off" => Some(Self::Off),
            "optional" => Some(Self::Optional),
            "required" => Some(Self::Required),
            _ => None,
        }
    }

    /// The tenant's policy, never weaker than the platform's.
    pub fn of(f: &Front) -> Self {
        let platform = EffectiveSettings::platform(&f.state.config.settings);
        let floor = Self::parse(platform.get("security", "mfa")).unwrap_or(Self::Optional);
        let tenant = Self::parse(f.provider.settings.get("security", "mfa")).unwrap_or(floor);
        tenant.max(floor)
    }
}

/// What a sign-in needs after the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    Nothing,
    /// The user's factor.
    Verify,
    /// A factor must be enrolled first.
    Enrol,
}

/// Whether `user_id` must pass a second step now.
pub(crate) async fn needed(f: &Front, user_id: Uuid) -> Result<Need, Failure> {
    let policy = Policy::of(f);
    if policy == Policy::Off {
        return Ok(Need::Nothing);
    }
    // Both factors in one transaction.
    let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
    let totp = mfa::has_totp(&mut tx, user_id).await.map_err(internal)?;
    let has = totp
        || gatehouse_oidc::passkeys::count(&mut tx, user_id)
            .await
            .map_err(internal)?
            > 0;
    tx.commit().await?;
    Ok(match (has, policy) {
        (true, _) => Need::Verify,
        (false, Policy::Required) => Need::Enrol,
        (false, _) => Need::Nothing,
    })
}

/// Expires the binding cookie (a finished sign-in).
pub(crate) fn clear_cookie(f: &Front) -> Option<HeaderValue> {
    cookie(&f.provider, MFA_COOKIE, "", "Lax", Some(0))
}

/// Parks the half-done sign-in in pending request `req` and sends the
/// browser to the second step.
pub(crate) async fn begin(
    f: &Front,
    req: &str,
    user_id: Uuid,
    need: Need,
) -> Result<Response, Failure> {
    let Some(mut p) = pending::load(f, req).await? else {
        return Err(Failure::expired());
    };
    let binding = random_token();
    p.half = Some(HalfSignIn {
        user_id,
        amr: vec!["pwd".to_owned()],
        browser: secret_hash(&binding),
        enrol: need == Need::Enrol,
    });
    pending::replace(f, req, &p).await?;
    let set = cookie(&f.provider, MFA_COOKIE, &binding, "Lax", Some(600));
    let to = match need {
        Need::Enrol => format!("/login/mfa/setup?req={req}"),
        _ => format!("/login/mfa?req={req}"),
    };
    Ok(page::see_other(&f.url(&to), &[set]))
}

/// The half-done sign-in of `req`, if this browser began it.
async fn half_of(f: &mut Front, req: &str) -> Result<(Pending, HalfSignIn), Failure> {
    let Some(p) = pending::load(f, req).await? else {
        return Err(Failure::expired());
    };
    f.with_ui_locales(p.ui_locales());
    let Some(half) = p.half.clone() else {
        return Err(Failure::expired());
    };
    let ours = cookie_values(&f.headers, MFA_COOKIE)
        .into_iter()
        .any(|v| bool::from(secret_hash(v).as_bytes().ct_eq(half.browser.as_bytes())));
    if !ours {
        return Err(Failure::expired());
    }
    Ok((p, half))
}

#[derive(Debug, Deserialize, Default)]
pub struct MfaQuery {
    #[serde(default)]
    req: String,
    /// `recovery` for the recovery-code form.
    #[serde(default)]
    method: String,
}

#[derive(Debug, Deserialize)]
pub struct MfaForm {
    #[serde(default)]
    req: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    ceremony: String,
    #[serde(default)]
    credential: String,
}

#[derive(askama::Template)]
#[template(path = "mfa.html", config = "src/front/askama.toml")]
struct MfaPage<'a> {
    chrome: Chrome,
    req: &'a str,
    csrf: &'a str,
    recovery: bool,
    /// The user has an authenticator app.
    totp: bool,
    passkey: Option<&'a super::passkey::Offer>,
    error: Option<String>,
}

/// The CSP of a second-step page: its forms end at the client's redirect
/// URI when the sign-in completes (Chrome applies `form-action` to the
/// redirects after a form POST).
async fn csp_of(f: &Front, req: &str) -> Result<Csp, Failure> {
    Ok(pending::load(f, req)
        .await?
        .and_then(|p| p.request)
        .map(|r| Csp::redirecting_to(&r.redirect_uri))
        .unwrap_or_default())
}

async fn mfa_page(
    f: &Front,
    req: &str,
    user_id: Uuid,
    recovery: bool,
    error: Option<String>,
) -> Result<Response, Failure> {
    let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
    let totp = mfa::has_totp(&mut tx, user_id).await.map_err(internal)?;
    tx.commit().await?;
    let offer = if recovery {
        None
    } else {
        super::passkey::second_step_offer(f, user_id).await?
    };
    let (csrf, set_csrf) = session::csrf_token(f, &f.headers);
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let base = csp_of(f, req).await?;
    let csp = match &offer {
        Some(o) => o.csp(base),
        None => base,
    };
    let method = if recovery { "&method=recovery" } else { "" };
    let here = format!("{}/login/mfa?req={req}{method}", Chrome::of(f).base);
    let page = MfaPage {
        chrome: Chrome::at(f, &here),
        req,
        csrf: &csrf,
        recovery: recovery || (!totp && offer.is_none()),
        totp,
        passkey: offer.as_ref(),
        error,
    };
    Ok(page::render(status, &page, &csp, &[set_csrf]))
}

/// `GET {issuer}/login/mfa?req=…[&method=recovery]`.
pub async fn get(mut f: Front, query: Result<Query<MfaQuery>, QueryRejection>) -> Response {
    let Query(q) = query.unwrap_or_default();
    let result = match half_of(&mut f, &q.req).await {
        Ok((_, half)) if !half.enrol => {
            mfa_page(&f, &q.req, half.user_id, q.method == "recovery", None).await
        }
        Ok(_) => Ok(page::see_other(
            &f.url(&format!("/login/mfa/setup?req={}", q.req)),
            &[],
        )),
        Err(e) => Err(e),
    };
    result.unwrap_or_else(|e| f.fail(e))
}

/// `POST {issuer}/login/mfa`: a TOTP code or a recovery code.
pub async fn post(mut f: Front, form: Result<Form<MfaForm>, FormRejection>) -> Response {
    let Ok(Form(form)) = form else {
        return f.fail(Failure::csrf());
    };
    verify(&mut f, form).await.unwrap_or_else(|e| f.fail(e))
}

async fn verify(f: &mut Front, form: MfaForm) -> Result<Response, Failure> {
    let (_, half) = half_of(f, &form.req).await?;
    let f = &*f;
    if !session::csrf_ok(&f.headers, &form.csrf) || half.enrol {
        return Err(Failure::csrf());
    }
    let recovery = form.method == "recovery";
    let keys = [
        Key::account(&half.user_id.to_string()),
        throttle::client_key(f),
    ];
    if let Some(wait) = throttle::check(f, Action::Mfa, &keys).await? {
        return Ok(wait);
    }
    if form.method == "passkey" {
        let verified = super::passkey::verify(f, &form.ceremony, &form.credential).await?;
        let Some(a) = verified.filter(|a| a.user_id == half.user_id) else {
            tracing::info!(user = %half.user_id, "second factor failed");
            throttle::failed(f, Action::Mfa, &keys).await?;
            let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
            let details = serde_json::json!({ "method": "passkey" });
            f.audit(&mut tx, Some(half.user_id), action::MFA_FAILED, details)
                .await?;
            tx.commit().await?;
            let e = Some(f.lang.t("passkey-register-failed"));
            return mfa_page(f, &form.req, half.user_id, false, e).await;
        };
        throttle::succeeded(f, Action::Mfa, &keys[0]).await?;
        let mut amr = half.amr.clone();
        amr.extend(super::passkey::amr_of(a.user_verified));
        return complete(f, &form.req, half.user_id, amr).await;
    }
    let code = form.code.trim();
    let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
    let ok = if code.is_empty() || code.len() > 64 {
        false
    } else if recovery {
        mfa::use_recovery_code(&mut tx, half.user_id, code)
            .await
            .map_err(internal)?
    } else {
        mfa::verify_totp(&mut tx, &f.state.keyring, half.user_id, code)
            .await
            .map_err(internal)?
    };
    if !ok {
        let details =
            serde_json::json!({ "method": if recovery { "recovery_code" } else { "otp" } });
        f.audit(&mut tx, Some(half.user_id), action::MFA_FAILED, details)
            .await?;
    }
    tx.commit().await?;
    if !ok {
        tracing::info!(user = %half.user_id, "second factor failed");
        throttle::failed(f, Action::Mfa, &keys).await?;
        let key = if recovery {
            "mfa-recovery-invalid"
        } else {
            "mfa-invalid"
        };
        return mfa_page(f, &form.req, half.user_id, recovery, Some(f.lang.t(key))).await;
    }
    throttle::succeeded(f, Action::Mfa, &keys[0]).await?;
    let mut amr = half.amr.clone();
    amr.push(if recovery { "mfa" } else { "otp" }.to_owned());
    complete(f, &form.req, half.user_id, amr).await
}

#[derive(askama::Template)]
#[template(path = "mfa_setup.html", config = "src/front/askama.toml")]
pub(crate) struct SetupPage<'a> {
    pub chrome: Chrome,
    /// Where the form posts (sign-in enrolment or the account page).
    pub action: &'a str,
    pub req: &'a str,
    pub csrf: &'a str,
    pub qr_svg: &'a str,
    pub secret: &'a str,
    pub error: Option<String>,
    /// The sign-in asks for it (policy `required`), not the user.
    pub required: bool,
}

#[derive(askama::Template)]
#[template(path = "recovery_codes.html", config = "src/front/askama.toml")]
pub(crate) struct RecoveryCodesPage<'a> {
    pub chrome: Chrome,
    pub action: &'a str,
    pub req: &'a str,
    pub csrf: &'a str,
    pub codes: Vec<String>,
}

/// Begins (or begins again) a TOTP enrolment for `user_id` and renders its
/// page.
pub(crate) async fn setup_page(
    f: &Front,
    user_id: Uuid,
    action: &str,
    req: &str,
    error: Option<String>,
    required: bool,
) -> Result<Response, Failure> {
    let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
    let account = users::claims(&mut tx, user_id)
        .await?
        .map(|u| u.username)
        .unwrap_or_default();
    let company = Chrome::of(f).tenant_name;
    let enrolment = mfa::begin_totp(&mut tx, &f.state.keyring, user_id, &company, &account)
        .await
        .map_err(internal)?;
    tx.commit().await?;
    let (csrf, set_csrf) = session::csrf_token(f, &f.headers);
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let base = Chrome::of(f).base;
    let here = if req.is_empty() {
        format!("{base}/account/totp")
    } else {
        format!("{base}/login/mfa/setup?req={req}")
    };
    let page = SetupPage {
        chrome: Chrome::at(f, &here),
        action,
        req,
        csrf: &csrf,
        qr_svg: &enrolment.qr_svg,
        secret: &grouped(&enrolment.secret_base32),
        error,
        required,
    };
    Ok(page::render(status, &page, &Csp::default(), &[set_csrf]))
}

/// A key in groups of four for reading and typing (apps ignore spaces).
fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Confirms a pending enrolment with `code`: the recovery codes, or None
/// when the code is wrong.
pub(crate) async fn confirm(
    f: &Front,
    user_id: Uuid,
    code: &str,
) -> Result<Option<Vec<String>>, Failure> {
    let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
    let result = mfa::confirm_totp(&mut tx, &f.state.keyring, user_id, code.trim()).await;
    match result {
        Ok(codes) => {
            f.audit(
                &mut tx,
                Some(user_id),
                action::TOTP_ENABLED,
                serde_json::json!({}),
            )
            .await?;
            tx.commit().await?;
            tracing::info!(user = %user_id, "TOTP enrolled");
            Ok(Some(codes))
        }
        Err(mfa::MfaError::InvalidCode | mfa::MfaError::NotPending) => Ok(None),
        Err(e) => Err(internal(e)),
    }
}

#[derive(Debug, Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    req: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

/// `GET {issuer}/login/mfa/setup?req=…`: enrolment demanded by the policy.
pub async fn setup_get(mut f: Front, query: Result<Query<MfaQuery>, QueryRejection>) -> Response {
    let Query(q) = query.unwrap_or_default();
    async {
        let (_, half) = half_of(&mut f, &q.req).await?;
        if !half.enrol {
            return Err(Failure::expired());
        }
        let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
        let enrolled = mfa::has_totp(&mut tx, half.user_id)
            .await
            .map_err(internal)?;
        tx.commit().await?;
        if enrolled {
            // Back here after the codes were shown (they are not shown
            // twice): only the way on remains.
            return codes_shown(&f, &q.req, Vec::new()).await;
        }
        let action = format!("{}/login/mfa/setup", Chrome::of(&f).base);
        setup_page(&f, half.user_id, &action, &q.req, None, true).await
    }
    .await
    .unwrap_or_else(|e| f.fail(e))
}

/// `POST {issuer}/login/mfa/setup`: the confirming code.
pub async fn setup_post(mut f: Front, form: Result<Form<SetupForm>, FormRejection>) -> Response {
    let Ok(Form(form)) = form else {
        return f.fail(Failure::csrf());
    };
    async {
        let (_, half) = half_of(&mut f, &form.req).await?;
        let f = &f;
        if !session::csrf_ok(&f.headers, &form.csrf) || !half.enrol {
            return Err(Failure::csrf());
        }
        let keys = [
            Key::account(&half.user_id.to_string()),
            throttle::client_key(f),
        ];
        if let Some(wait) = throttle::check(f, Action::Mfa, &keys).await? {
            return Ok(wait);
        }
        let action = format!("{}/login/mfa/setup", Chrome::of(f).base);
        let Some(codes) = confirm(f, half.user_id, &form.code).await? else {
            throttle::failed(f, Action::Mfa, &keys).await?;
            return setup_page(
                f,
                half.user_id,
                &action,
                &form.req,
                Some(f.lang.t("mfa-invalid")),
                true,
            )
            .await;
        };
        throttle::succeeded(f, Action::Mfa, &keys[0]).await?;
        codes_shown(f, &form.req, codes).await
    }
    .await
    .unwrap_or_else(|e| f.fail(e))
}

/// The recovery codes of an enrolment at sign-in (shown once; no language
/// switch, which would lose them), or, when `codes` is empty, only the way
/// on.
async fn codes_shown(f: &Front, req: &str, codes: Vec<String>) -> Result<Response, Failure> {
    let (csrf, set_csrf) = session::csrf_token(f, &f.headers);
    let page = RecoveryCodesPage {
        chrome: Chrome::terminal(f),
        action: &format!("{}/login/mfa/setup/done", Chrome::of(f).base),
        req,
        csrf: &csrf,
        codes,
    };
    Ok(page::render(
        StatusCode::OK,
        &page,
        &csp_of(f, req).await?,
        &[set_csrf],
    ))
}

#[derive(Debug, Deserialize)]
pub struct DoneForm {
    #[serde(default)]
    req: String,
    #[serde(default)]
    csrf: String,
}

/// `POST {issuer}/login/mfa/setup/done`: the recovery codes were seen; the
/// sign-in completes with both factors.
pub async fn setup_done(mut f: Front, form: Result<Form<DoneForm>, FormRejection>) -> Response {
    let Ok(Form(form)) = form else {
        return f.fail(Failure::csrf());
    };
    async {
        let (_, half) = half_of(&mut f, &form.req).await?;
        let f = &f;
        if !session::csrf_ok(&f.headers, &form.csrf) || !half.enrol {
            return Err(Failure::csrf());
        }
        let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
        let enrolled = mfa::has_totp(&mut tx, half.user_id)
            .await
            .map_err(internal)?;
        tx.commit().await?;
        if !enrolled {
            return Err(Failure::expired());
        }
        let mut amr = half.amr.clone();
        amr.push("otp".to_owned());
        complete(f, &form.req, half.user_id, amr).await
    }
    .await
    .unwrap_or_else(|e| f.fail(e))
}
