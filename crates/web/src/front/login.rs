//! The login page of a pending authorization request. A failed login says
//! only "Invalid username or password." (`login-invalid`) and takes as long whether the user
//! exists or not: an unknown, disabled or password-less user is checked
//! against a dummy argon2id hash (OWASP Authentication Cheat Sheet,
//! "Authentication and Error Messages"). A successful login starts a new
//! session (never reusing a cookie value the browser brought) and continues
//! the request: the consent page, or the code for the client.

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query};
use axum::http::StatusCode;
use axum::response::Response;
use gatehouse_core::audit::action;
use gatehouse_core::crypto::random_token;
use gatehouse_core::throttle::{Action, Key};
use gatehouse_oidc::user_tokens::{self, Purpose};
use gatehouse_oidc::users;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::OnceCell;

use super::authorize::after_login;
use super::page::{self, Chrome, Csp, LoginPage};
use super::pending;
use super::signup::Signup;
use super::{email, internal, mfa, session, throttle, Failure, Front};

/// A hash of a random password, made once with the server's parameters, so
/// that verifying for a user who does not exist costs what it costs for one
/// who does.
static DUMMY_HASH: OnceCell<String> = OnceCell::const_new();

async fn dummy_hash(f: &Front) -> Result<&'static str, Failure> {
    DUMMY_HASH
        .get_or_try_init(|| f.state.hasher.hash(random_token()))
        .await
        .map(String::as_str)
        .map_err(internal)
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    req: String,
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    req: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

/// `GET {issuer}/login?req={id}`.
pub async fn get(mut f: Front, query: Result<Query<LoginQuery>, QueryRejection>) -> Response {
    let Ok(Query(query)) = query else {
        return f.fail(Failure::expired());
    };
    show(&mut f, &query.req, None, None)
        .await
        .unwrap_or_else(|e| f.fail(e))
}

/// `POST {issuer}/login`.
pub async fn post(mut f: Front, form: Result<Form<LoginForm>, FormRejection>) -> Response {
    let Ok(Form(form)) = form else {
        return f.fail(Failure::csrf());
    };
    login(&mut f, form).await.unwrap_or_else(|e| f.fail(e))
}

/// Renders the login page of pending request `req` in the language the
/// request asks for; `username` and the error after a failed attempt.
async fn show(
    f: &mut Front,
    req: &str,
    username: Option<&str>,
    error: Option<&str>,
) -> Result<Response, Failure> {
    let Some(pending) = pending::load(f, req).await? else {
        return Err(Failure::expired());
    };
    f.with_ui_locales(pending.ui_locales());
    let f = &*f;
    let client = match &pending.request {
        Some(r) => f.client(&r.client_id).await?,
        None => None,
    };
    let (csrf, set_csrf) = session::csrf_token(f, &f.headers);
    let username = username
        .or(pending
            .request
            .as_ref()
            .and_then(|r| r.login_hint.as_deref()))
        .unwrap_or_default();
    let error = error.map(|key| f.lang.t(key));
    let offer = super::passkey::sign_in_offer(f).await?;
    let here = format!("{}/login?req={req}", Chrome::of(f).base);
    let page = LoginPage {
        chrome: Chrome::at(f, &here),
        req,
        csrf: &csrf,
        username,
        client_name: client.as_ref().map(|c| c.client.name.as_str()),
        error: error.as_deref(),
        signup: Signup::of(f).enabled(),
        passkey: offer.as_ref(),
    };
    let csp = pending
        .request
        .as_ref()
        .map(|r| Csp::redirecting_to(&r.redirect_uri))
        .unwrap_or_default();
    let csp = match &offer {
        Some(o) => o.csp(csp),
        None => csp,
    };
    Ok(page::render(StatusCode::OK, &page, &csp, &[set_csrf]))
}

async fn login(f: &mut Front, form: LoginForm) -> Result<Response, Failure> {
    if !session::csrf_ok(&f.headers, &form.csrf) {
        return Err(Failure::csrf());
    }
    if pending::load(f, &form.req).await?.is_none() {
        return Err(Failure::expired());
    }
    let username = form.username.trim().to_owned();
    // Throttled per account (whether it exists or not) and per address.
    let keys = [Key::account(&username), throttle::client_key(f)];
    if let Some(wait) = throttle::check(f, Action::Login, &keys).await? {
        return Ok(wait);
    }
    let Some(checked) = check_password(f, &username, form.password).await? else {
        tracing::info!("login failed");
        throttle::failed(f, Action::Login, &keys).await?;
        let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
        let details = json!({ "login": username, "method": "pwd" });
        f.audit(&mut tx, None, action::LOGIN_FAILED, details)
            .await?;
        tx.commit().await?;
        return show(f, &form.req, Some(&username), Some("login-invalid")).await;
    };
    throttle::succeeded(f, Action::Login, &keys[0]).await?;
    let user_id = checked.user_id;
    if checked.unverified_email.is_some() && email_verification_required(f) {
        resend_verification(f, &checked, &form.req).await?;
        return show(f, &form.req, Some(&username), Some("login-unverified")).await;
    }
    match mfa::needed(f, user_id).await? {
        mfa::Need::Nothing => complete(f, &form.req, user_id, vec!["pwd".to_owned()]).await,
        need => mfa::begin(f, &form.req, user_id, need).await,
    }
}

/// Finishes a sign-in whose factors are all done: starts a new session
/// with the methods used (`amr`, RFC 8176) and continues the pending
/// request (the consent page or the code), or goes to the account page.
pub(crate) async fn complete(
    f: &Front,
    req: &str,
    user_id: uuid::Uuid,
    amr: Vec<String>,
) -> Result<Response, Failure> {
    let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
    let epoch = users::session_epoch(&mut tx, user_id).await?;
    f.audit(
        &mut tx,
        Some(user_id),
        action::LOGIN_SUCCEEDED,
        json!({ "amr": amr }),
    )
    .await?;
    tx.commit().await?;
    let (session, set_cookie) = session::start(f, &f.headers, user_id, epoch, amr).await?;
    let cookies = [set_cookie, mfa::clear_cookie(f)];
    // From here on the session stands, whatever happens to the request.
    let Some(pending) = pending::take(f, req).await? else {
        // Finished in another tab meanwhile.
        return Ok(page::with_cookies(f.fail(Failure::expired()), &cookies));
    };
    let Some(request) = pending.request else {
        let landing = pending.landing();
        tracing::info!(user = %user_id, amr = ?session.amr, landing, "login without a client");
        return Ok(page::see_other(&f.url(landing), &cookies));
    };
    tracing::info!(user = %user_id, client = %request.client_id, amr = ?session.amr, "login");
    match after_login(f, request, &session, &cookies).await {
        Ok(response) => Ok(response),
        Err(e) => Ok(page::with_cookies(f.fail(e), &cookies)),
    }
}

/// `security.email_verification`: `required` keeps users with an unverified
/// address from signing in (they get a new link); `optional` (the default)
/// lets them, and ID tokens say `email_verified: false`.
fn email_verification_required(f: &Front) -> bool {
    f.provider
        .settings
        .get("security", "email_verification")
        .and_then(serde_json::Value::as_str)
        == Some("required")
}

/// Sends a new verification link to a user who tried to sign in unverified.
async fn resend_verification(f: &Front, checked: &Checked, req: &str) -> Result<(), Failure> {
    let Some(address) = &checked.unverified_email else {
        return Ok(());
    };
    let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
    let token = user_tokens::issue(
        &mut tx,
        checked.user_id,
        Purpose::VerifyEmail,
        Some(address),
    )
    .await?;
    tx.commit().await?;
    let url = f.url(&format!("/verify-email?token={token}&req={req}"));
    email::send(f, email::Kind::VerifyEmail, address, &url);
    Ok(())
}

/// A user whose password matched.
struct Checked {
    user_id: uuid::Uuid,
    /// Their email address, when it is not verified yet.
    unverified_email: Option<String>,
}

/// The user if `password` is theirs and they may log in. Every path
/// verifies one argon2id hash. A hash made with other parameters than the
/// server's is replaced after a successful check (rehash on login).
async fn check_password(
    f: &Front,
    username: &str,
    password: String,
) -> Result<Option<Checked>, Failure> {
    let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
    let user = users::find_by_login(&mut tx, username).await?;
    // The same two queries whether the user exists or not.
    let id = user.as_ref().map_or(uuid::Uuid::nil(), |u| u.id);
    let stored = users::password_hash(&mut tx, id).await?;
    let user = user.filter(users::User::active);
    tx.commit().await?;
    let (user, hash) = match (user, stored) {
        (Some(user), Some(hash)) => (Some(user), hash),
        _ => (None, dummy_hash(f).await?.to_owned()),
    };
    let rehash = user.is_some() && f.state.hasher.needs_rehash(&hash);
    let ok = f
        .state
        .hasher
        .verify(password.clone(), hash)
        .await
        .map_err(internal)?;
    let Some(user) = user.filter(|_| ok) else {
        return Ok(None);
    };
    if rehash {
        match f.state.hasher.hash(password).await {
            Ok(new_hash) => {
                let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
                users::set_password_hash(&mut tx, user.id, &new_hash).await?;
                tx.commit().await?;
                tracing::info!(user = %user.id, "password rehashed with the current parameters");
            }
            Err(e) => tracing::warn!(error = %e, "rehash failed; the old hash stays"),
        }
    }
    Ok(Some(Checked {
        user_id: user.id,
        unverified_email: user.email.filter(|_| !user.email_verified),
    }))
}
