//! The account page of the signed-in user (`{issuer}/account`): profile,
//! email address (changed only once the new address is proved by a link),
//! password, two-step verification and recovery codes, active sessions,
//! and the applications the user has let in.
//!
//! Every change is a CSRF-protected form POST answered by a redirect back
//! to the page with a notice (`?done=…`). Without a session the page starts
//! a sign-in that returns here. Removing a second factor and showing new
//! recovery codes need a recent sign-in ([`RECENT_SECS`]); older sessions
//! are sent to sign in again first.
//!
//! Changing the password ends every other session of the user (the session
//! epoch moves on; this browser gets a new session) and revokes their
//! refresh tokens. Ending a session or taking back an application's access
//! revokes the tokens issued in it or to it.

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query};
use axum::http::StatusCode;
use axum::response::Response;
use gatehouse_core::audit::action;
use gatehouse_core::throttle::{Action, Key};
use gatehouse_oidc::user_tokens::{self, Purpose};
use gatehouse_oidc::users::{self, Profile, UserClaims};
use gatehouse_oidc::{consents, mfa, refresh, sessions, tokens};
use serde::Deserialize;

use super::email::{self, Kind};
use super::mfa::{confirm, setup_page, RecoveryCodesPage};
use super::page::{self, Chrome, Csp};
use super::pending::{self, Pending};
use super::session::{self, Session};
use super::signup::{link_invalid, message, plausible_email};
use super::{internal, policy, throttle, Failure, Front};

/// How recent a sign-in must be for the most sensitive changes (seconds).
pub const RECENT_SECS: i64 = 600;

/// The notices the page shows after a change (`?done=`), each a message key.
const NOTICES: [&str; 14] = [
    "account-done-passkey-added",
    "account-done-passkey-renamed",
    "account-done-passkey-removed",
    "account-done-passkey-name-invalid",
    "account-done-profile",
    "account-done-email-sent",
    "account-done-email-changed",
    "account-done-password",
    "account-done-totp-on",
    "account-done-totp-off",
    "account-done-session-ended",
    "account-done-others-ended",
    "account-done-app-revoked",
    "account-done-recovery",
];

/// The signed-in user of the request and their claims, if any.
pub(crate) async fn signed_in(f: &Front) -> Result<Option<(Session, UserClaims)>, Failure> {
    let Some(s) = session::current(f, &f.headers).await? else {
        return Ok(None);
    };
    let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
    let user = users::claims(&mut tx, s.user_id).await?;
    tx.commit().await?;
    Ok(user
        .filter(|u| u.active() && u.session_epoch == s.epoch)
        .map(|u| (s, u)))
}

/// Starts a sign-in that returns to the account page.
pub(crate) async fn to_sign_in(f: &Front) -> Result<Response, Failure> {
    let id = pending::park(f, &Pending::account()).await?;
    Ok(page::see_other(&f.url(&format!("/login?req={id}")), &[]))
}

/// The account page again, with notice `done`.
fn back(f: &Front, done: &str) -> Response {
    page::see_other(&f.url(&format!("/account?done={done}")), &[])
}

/// A short, readable name of a browser from its `User-Agent`.
fn device(user_agent: &str) -> String {
    let ua = user_agent;
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Chromium/", "Chromium"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
    ]
    .iter()
    .find(|(k, _)| ua.contains(k))
    .map(|(_, n)| *n);
    let os = [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(k, _)| ua.contains(k))
    .map(|(_, n)| *n);
    match (browser, os) {
        (Some(b), Some(o)) => format!("{b}, {o}"),
        (Some(b), None) => b.to_owned(),
        (None, Some(o)) => o.to_owned(),
        (None, None) => String::new(),
    }
}

/// A time as `2026-12-02 15:30 UTC`: readable in every language.
fn when(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map(stamp)
        .unwrap_or_default()
}

fn stamp(t: time::OffsetDateTime) -> String {
    const FORMAT: &[time::format_description::BorrowedFormatItem<'_>] =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    t.to_offset(time::UtcOffset::UTC)
        .format(FORMAT)
        .unwrap_or_default()
}

/// One session in the list.
pub struct SessionRow {
    pub sid: String,
    pub device: String,
    pub started: String,
    pub current: bool,
    pub second_factor: bool,
}

/// One application in the list.
pub struct AppRow {
    pub client_id: String,
    pub name: String,
    pub scopes: Vec<String>,
}

#[derive(askama::Template)]
#[template(path = "account.html", config = "src/front/askama.toml")]
struct AccountPage<'a> {
    chrome: Chrome,
    csrf: &'a str,
    notice: Option<String>,
    error: Option<String>,
    user: &'a UserClaims,
    locales: Vec<(&'static str, &'static str, bool)>,
    totp: bool,
    recovery_left: i64,
    sessions: Vec<SessionRow>,
    apps: Vec<AppRow>,
    passkeys: Vec<PasskeyRow>,
    /// The tenant can have passkeys (its issuer is a domain WebAuthn allows).
    passkeys_possible: bool,
    min_length: usize,
    max_length: usize,
}

/// One passkey in the list.
pub struct PasskeyRow {
    pub id: String,
    pub name: String,
    pub created: String,
    pub last_used: String,
}

#[derive(Debug, Deserialize, Default)]
pub struct AccountQuery {
    #[serde(default)]
    done: String,
}

/// `GET {issuer}/account`.
pub async fn get(f: Front, query: Result<Query<AccountQuery>, QueryRejection>) -> Response {
    let Query(q) = query.unwrap_or_default();
    async {
        let Some((s, user)) = signed_in(&f).await? else {
            return to_sign_in(&f).await;
        };
        let notice = NOTICES
            .iter()
            .find(|k| k.strip_prefix("account-done-") == Some(q.done.as_str()))
            .map(|k| f.lang.t(k));
        render(&f, &s, &user, notice, None, StatusCode::OK).await
    }
    .await
    .unwrap_or_else(|e| f.fail(e))
}

async fn render(
    f: &Front,
    s: &Session,
    user: &UserClaims,
    notice: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, Failure> {
    let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
    let totp = mfa::has_totp(&mut tx, user.id).await.map_err(internal)?;
    let recovery_left = mfa::remaining_recovery_codes(&mut tx, user.id)
        .await
        .map_err(internal)?;
    let granted = consents::list(&mut tx, user.id).await?;
    let keys = gatehouse_oidc::passkeys::list(&mut tx, user.id)
        .await
        .map_err(internal)?;
    tx.commit().await?;
    let passkeys = keys
        .into_iter()
        .map(|k| PasskeyRow {
            id: k.id.to_string(),
            name: k.name,
            created: stamp(k.created_at),
            last_used: k.last_used_at.map(stamp).unwrap_or_default(),
        })
        .collect();
    let mut listed = session::list(f, user.id, &s.sid).await?;
    // This browser first, then the others, newest first.
    listed.sort_by_key(|l| !l.current);
    let sessions = listed
        .into_iter()
        .map(|l| SessionRow {
            device: device(&l.session.user_agent),
            started: when(l.session.auth_time),
            second_factor: l.session.amr.len() > 1,
            sid: l.session.sid,
            current: l.current,
        })
        .collect();
    let apps = granted
        .into_iter()
        .map(|g| AppRow {
            client_id: g.client_id,
            name: g.client_name,
            scopes: g
                .scopes
                .iter()
                .filter_map(|sc| page::scope_text(&f.lang, sc).map(|t| t.title))
                .collect(),
        })
        .collect();
    let current_locale = user.locale.as_deref().unwrap_or_default();
    let locales = f
        .offered
        .tags
        .iter()
        .map(|t| {
            let name = super::i18n::SUPPORTED
                .iter()
                .find(|(tag, _)| tag == t)
                .map_or(*t, |(_, n)| *n);
            (*t, name, *t == current_locale)
        })
        .collect();
    let (csrf, set_csrf) = session::csrf_token(f, &f.headers);
    let policy = policy::of(f);
    let page = AccountPage {
        chrome: Chrome::at(f, &format!("{}/account", Chrome::of(f).base)),
        csrf: &csrf,
        notice,
        error,
        user,
        locales,
        totp,
        recovery_left,
        sessions,
        apps,
        passkeys,
        passkeys_possible: super::passkey::rp(f).is_some(),
        min_length: policy.min_length,
        max_length: policy.max_length,
    };
    Ok(page::render(status, &page, &Csp::default(), &[set_csrf]))
}

/// The signed-in user of a form POST, its CSRF token checked; or the
/// answer that replaces the action (sign in first).
pub(crate) async fn authorised(
    f: &Front,
    csrf: &str,
) -> Result<Result<(Session, UserClaims), Response>, Failure> {
    if !session::csrf_ok(&f.headers, csrf) {
        return Err(Failure::csrf());
    }
    match signed_in(f).await? {
        Some(found) => Ok(Ok(found)),
        None => Ok(Err(to_sign_in(f).await?)),
    }
}

/// Whether the session's sign-in is recent enough for a sensitive change.
pub(crate) fn recent(s: &Session) -> bool {
    tokens::now() - s.auth_time <= RECENT_SECS
}

#[derive(Debug, Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    given_name: String,
    #[serde(default)]
    family_name: String,
    #[serde(default)]
    locale: String,
}

fn opt(v: &str) -> Option<String> {
    Some(v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// `POST {issuer}/account/profile`.
pub async fn profile(f: Front, form: Result<Form<ProfileForm>, FormRejection>) -> Response {
    let Ok(Form(form)) = form else {
        return f.fail(Failure::csrf());
    };
    async {
        let (s, user) = match authorised(&f, &form.csrf).await? {
            Ok(found) => found,
            Err(answer) => return Ok(answer),
        };
        let locale = f.offered.matching(&form.locale).map(str::to_owned);
        let p = Profile {
            name: opt(&form.name),
            given_name: opt(&form.given_name),
            family_name: opt(&form.family_name),
            locale: locale.or(user.locale.clone()),
        };
        let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
        match users::update_profile(&mut tx, user.id, &p).await {
            Ok(()) => {}
            Err(gatehouse_oidc::StoreError::Invalid(_)) => {
                let e = f.lang.t("account-profile-invalid");
                return render(
                    &f,
                    &s,
                    &user,
                    None,
                    Some(e),
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await;
            }
            Err(e) => return Err(e.into()),
        }
        tx.commit().await?;
        Ok(back(&f, "profile"))
    }
    .await
    .unwrap_or_else(|e| f.fail(e))
}

#[derive(Debug, Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
}

/// `POST {issuer}/account/email`: sends a link to the new address; the
/// address changes when it is opened.
pub async fn email_change(f: Front, form: Result<Form<EmailForm>, FormRejection>) -> Response {
    let Ok(Form(form)) = form else {
        return f.fail(Failure::csrf());
    };
    async {
        let (s, user) = match authorised(&f, &form.csrf).await? {
            Ok(found) => found,
            Err(answer) => return Ok(answer),
        };
        let new = form.email.trim();
        if !plausible_email(new) {
            let e = f.lang.t("signup-email-invalid");
            return render(
                &f,
                &s,
                &user,
                None,
                Some(e),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
        let keys = [Key::account(&user.id.to_string()), throttle::client_key(&f)];
        if let Some(wait) = throttle::check(&f, Action::Reset, &keys).await? {
            return Ok(wait);
        }
        throttle::failed(&f, Action::Reset, &keys).await?;
        let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
        let token = user_tokens::issue(&mut tx, user.id, Purpose::ChangeEmail, Some(new)).await?;
        tx.commit().await?;
        let url = f.url(&format!("/account/email/confirm?token={token}"));
        email::send(&f, Kind::VerifyEmail, new, &url);
        Ok(back(&f, "email-sent"))
    }
    .await
    .unwrap_or_else(|e| f.fail(e))
}

#[derive(Debug, Deserialize, Default)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Debug, Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    token: String,
}

#[derive(askama::Template)]
#[template(path = "verify.html", config = "src/front/askama.toml")]
struct ConfirmEmailPage<'a> {
    chrome: Chrome,
    action: &'a str,
    token: &'a str,
    req: &'a str,
    csrf: &'a str,
    email: &'a str,
}

/// `GET {issuer}/account/email/confirm?token=…`: the confirmation button
/// (the GET uses nothing up).
pub async fn email_confirm_get(
    f: Front,
    query: Result<Query<TokenQuery>, QueryRejection>,
) -> Response {
    let Query(q) = query.unwrap_or_default();
    async {
        let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
        let found = user_tokens::peek(&mut tx, Purpose::ChangeEmail, &q.token).await?;
        tx.commit().await?;
        let Some(address) = found.and_then(|r| r.email) else {
            return Err(link_invalid());
        };
        let (csrf, set_csrf) = session::csrf_token(&f, &f.headers);
        let page = ConfirmEmailPage {
            chrome: Chrome::of(&f),
            action: &f.url("/account/email/confirm"),
            token: &q.token,
            req: "",
            csrf: &csrf,
            email: &address,
        };
        Ok(page::render(
            StatusCode::OK,
            &page,
            &Csp::default(),
            &[set_csrf],
        ))
    }
    .await
    .unwrap_or_else(|e| f.fail(e))
}

/// `POST {issuer}/account/email/confirm`: the new address is proved.
pub async fn email_confirm_post(
    f: Front,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return f.fail(Failure::csrf());
    };
    async {
        if !session::csrf_ok(&f.headers, &form.csrf) {
            return Err(Failure::csrf());
        }
        let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
        let Some(r) = user_tokens::redeem(&mut tx, Purpose::ChangeEmail, &form.token).await? else {
            return Err(link_invalid());
        };
        let address = r.email.unwrap_or_default();
        match users::change_email(&mut tx, r.user_id, &address).await {
            Ok(()) => {}
            Err(gatehouse_oidc::StoreError::Duplicate) => {
                return Err(Failure::bad(
                    "account-email-taken-title",
                    "account-email-taken",
                ));
            }
            Err(e) => return Err(e.into()),
        }
        f.audit(
            &mut tx,
            Some(r.user_id),
            action::EMAIL_CHANGED,
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(user = %r.user_id, "email address changed");
        Ok(message(
            &f,
            &f.lang.t("verified-title"),
            &f.lang.t1("verified-text", "email", &address),
            Some((f.url("/account"), f.lang.t("account-title"))),
        ))
    }
    .await
    .unwrap_or_else(|e| f.fail(e))
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

/// `POST {issuer}/account/password`.
pub async fn password(f: Front, form: Result<Form<PasswordForm>, FormRejection>) -> Response {
    let Ok(Form(form)) = form else {
        return f.fail(Failure::csrf());
    };
    async {
        let (s, user) = match authorised(&f, &form.csrf).await? {
            Ok(found) => found,
            Err(answer) => return Ok(answer),
        };
        let keys = [Key::account(&user.username), throttle::client_key(&f)];
        if let Some(wait) = throttle::check(&f, Action::Login, &keys).await? {
            return Ok(wait);
        }
        let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
        let stored = users::password_hash(&mut tx, user.id).await?;
        tx.commit().await?;
        let current_ok = match stored {
            Some(hash) => f
                .state
                .hasher
                .verify(form.current.clone(), hash)
                .await
                .map_err(internal)?,
            None => false,
        };
        let mut errors = Vec::new();
        if !current_ok {
            throttle::failed(&f, Action::Login, &keys).await?;
            errors.push(f.lang.t("account-password-wrong"));
        }
        if form.password != form.confirm {
            errors.push(f.lang.t("reset-mismatch"));
        }
        let context: Vec<&str> = [
            Some(user.username.as_str()),
            user.email.as_deref(),
            user.name.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect();
        errors.extend(policy::problems(&f, &form.password, &context));
        if !errors.is_empty() {
            return render(
                &f,
                &s,
                &user,
                None,
                Some(errors.join(" ")),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
        let hash = f.state.hasher.hash(form.password).await.map_err(internal)?;
        let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
        users::set_password_hash(&mut tx, user.id, &hash).await?;
        users::end_sessions(&mut tx, user.id).await?;
        refresh::revoke_user(&mut tx, user.id).await?;
        let epoch = users::session_epoch(&mut tx, user.id).await?;
        f.audit(
            &mut tx,
            Some(user.id),
            action::PASSWORD_CHANGED,
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        // Every other session is over; this browser continues in a new one.
        let (_, set) = session::start(&f, &f.headers, user.id, epoch, s.amr.clone()).await?;
        tracing::info!(user = %user.id, "password changed");
        Ok(page::with_cookies(back(&f, "password"), &[set]))
    }
    .await
    .unwrap_or_else(|e| f.fail(e))
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

#[derive(Debug, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

/// `GET {issuer}/account/totp`: enrolment (a new QR code each time).
pub async fn totp_get(f: Front) -> Response {
    async {
        let Some((_, user)) = signed_in(&f).await? else {
            return to_sign_in(&f).await;
        };
        let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
        let has = mfa::has_totp(&mut tx, user.id).await.map_err(internal)?;
        tx.commit().await?;
        if has {
            return Ok(back(&f, "totp-on"));
        }
        let action = f.url("/account/totp");
        setup_page(&f, user.id, &action, "", None, false).await
    }
    .await
    .unwrap_or_else(|e| f.fail(e))
}

/// `POST {issuer}/account/totp`: the confirming code; then the recovery
/// codes, once.
pub async fn totp_post(f: Front, form: Result<Form<CodeForm>, FormRejection>) -> Response {
    let Ok(Form(form)) = form else {
        return f.fail(Failure::csrf());
    };
    async {
        let (_, user) = match authorised(&f, &form.csrf).await? {
            Ok(found) => found,
            Err(answer) => return Ok(answer),
        };
        let keys = [Key::account(&user.id.to_string()), throttle::client_key(&f)];
        if let Some(wait) = throttle::check(&f, Action::Mfa, &keys).await? {
            return Ok(wait);
        }
        let action = f.url("/account/totp");
        let Some(codes) = confirm(&f, user.id, &form.code).await? else {
            throttle::failed(&f, Action::Mfa, &keys).await?;
            return setup_page(
                &f,
                user.id,
                &action,
                "",
                Some(f.lang.t("mfa-invalid")),
                false,
            )
            .await;
        };
        Ok(codes_page(&f, codes))
    }
    .await
    .unwrap_or_else(|e| f.fail(e))
}

fn codes_page(f: &Front, codes: Vec<String>) -> Response {
    let (csrf, set_csrf) = session::csrf_token(f, &f.headers);
    let page = RecoveryCodesPage {
        chrome: Chrome::terminal(f),
        action: &f.url("/account/continue"),
        req: "",
        csrf: &csrf,
        codes,
    };
    page::render(StatusCode::OK, &page, &Csp::default(), &[set_csrf])
}

/// `POST {issuer}/account/continue`: back to the page after the recovery
/// codes were shown.
pub async fn continue_post(f: Front, form: Result<Form<CsrfForm>, FormRejection>) -> Response {
    match form {
        Ok(Form(form)) if session::csrf_ok(&f.headers, &form.csrf) => back(&f, "recovery"),
        _ => f.fail(Failure::csrf()),
    }
}

/// `POST {issuer}/account/totp/remove` (a recent sign-in).
pub async fn totp_remove(f: Front, form: Result<Form<CsrfForm>, FormRejection>) -> Response {
    let Ok(Form(form)) = form else {
        return f.fail(Failure::csrf());
    };
    async {
        let (s, user) = match authorised(&f, &form.csrf).await? {
            Ok(found) => found,
            Err(answer) => return Ok(answer),
        };
        if !recent(&s) {
            return to_sign_in(&f).await;
        }
        let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
        mfa::remove_totp(&mut tx, user.id).await.map_err(internal)?;
        f.audit(
            &mut tx,
            Some(user.id),
            action::TOTP_DISABLED,
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(user = %user.id, "TOTP removed");
        Ok(back(&f, "totp-off"))
    }
    .await
    .unwrap_or_else(|e| f.fail(e))
}

/// `POST {issuer}/account/recovery`: new recovery codes (a recent sign-in).
pub async fn recovery(f: Front, form: Result<Form<CsrfForm>, FormRejection>) -> Response {
    let Ok(Form(form)) = form else {
        return f.fail(Failure::csrf());
    };
    async {
        let (s, user) = match authorised(&f, &form.csrf).await? {
            Ok(found) => found,
            Err(answer) => return Ok(answer),
        };
        if !recent(&s) {
            return to_sign_in(&f).await;
        }
        let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
        if !mfa::has_totp(&mut tx, user.id).await.map_err(internal)? {
            return Ok(back(&f, "totp-off"));
        }
        let codes = mfa::regenerate_recovery_codes(&mut tx, user.id)
            .await
            .map_err(internal)?;
        tx.commit().await?;
        tracing::info!(user = %user.id, "recovery codes regenerated");
        Ok(codes_page(&f, codes))
    }
    .await
    .unwrap_or_else(|e| f.fail(e))
}

#[derive(Debug, Deserialize)]
pub struct SessionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    sid: String,
}

/// Revokes the refresh and access tokens of an ended session, as logout
/// does (grants with `offline_access` keep theirs).
async fn end_tokens(f: &Front, sid: &str) -> Result<(), Failure> {
    sessions::end_tokens(&f.state.db, &f.state.kv, &f.provider, sid).await?;
    Ok(())
}

/// `POST {issuer}/account/sessions/end`: ends one session of the user.
pub async fn session_end(f: Front, form: Result<Form<SessionForm>, FormRejection>) -> Response {
    let Ok(Form(form)) = form else {
        return f.fail(Failure::csrf());
    };
    async {
        let (s, user) = match authorised(&f, &form.csrf).await? {
            Ok(found) => found,
            Err(answer) => return Ok(answer),
        };
        if let Some(ended) = session::end_one(&f, user.id, &form.sid).await? {
            end_tokens(&f, &ended.sid).await?;
            tracing::info!(user = %user.id, "session ended from the account page");
        }
        if form.sid == s.sid {
            let expire = session::end(&f, &f.headers).await?;
            return Ok(page::see_other(&f.url("/account"), &[expire]));
        }
        Ok(back(&f, "session-ended"))
    }
    .await
    .unwrap_or_else(|e| f.fail(e))
}

/// `POST {issuer}/account/sessions/end-others`.
pub async fn sessions_end_others(
    f: Front,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return f.fail(Failure::csrf());
    };
    async {
        let (s, user) = match authorised(&f, &form.csrf).await? {
            Ok(found) => found,
            Err(answer) => return Ok(answer),
        };
        for l in session::list(&f, user.id, &s.sid).await? {
            if !l.current {
                if let Some(ended) = session::end_one(&f, user.id, &l.session.sid).await? {
                    end_tokens(&f, &ended.sid).await?;
                }
            }
        }
        Ok(back(&f, "others-ended"))
    }
    .await
    .unwrap_or_else(|e| f.fail(e))
}

#[derive(Debug, Deserialize)]
pub struct AppForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    client_id: String,
}

/// `POST {issuer}/account/apps/revoke`: takes back an application's access:
/// the consent, its refresh tokens and their access tokens.
pub async fn app_revoke(f: Front, form: Result<Form<AppForm>, FormRejection>) -> Response {
    let Ok(Form(form)) = form else {
        return f.fail(Failure::csrf());
    };
    async {
        let (_, user) = match authorised(&f, &form.csrf).await? {
            Ok(found) => found,
            Err(answer) => return Ok(answer),
        };
        let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
        consents::revoke(&mut tx, user.id, &form.client_id).await?;
        let families = refresh::revoke_user_client(&mut tx, user.id, &form.client_id).await?;
        let details = serde_json::json!({ "client_id": form.client_id });
        f.audit(&mut tx, Some(user.id), action::CONSENT_REVOKED, details)
            .await?;
        tx.commit().await?;
        for family in families {
            tokens::revoke_grant(&f.state.kv, &f.provider, family).await?;
        }
        tracing::info!(user = %user.id, client = %form.client_id, "application access revoked");
        Ok(back(&f, "app-revoked"))
    }
    .await
    .unwrap_or_else(|e| f.fail(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_are_named_from_the_user_agent() {
        assert_eq!(
            device("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"),
            "Chrome, Linux"
        );
        assert_eq!(
            device("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1"),
            "Safari, iOS"
        );
        assert_eq!(
            device(
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:131.0) Gecko/20100101 Firefox/131.0"
            ),
            "Firefox, Windows"
        );
        assert_eq!(device(""), "");
    }
}
