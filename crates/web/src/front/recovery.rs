//! Password reset by an emailed single-use link.
//!
//! `GET/POST {issuer}/password/forgot` asks for a username or email
//! address and always answers the same: "if an account exists, an email is
//! on its way" (OWASP Forgot Password Cheat Sheet). The lookup happens in
//! every case and the mail is sent in the background, so neither the words
//! nor the time tell whether the account exists. A link goes only to an
//! enabled account's address; it is valid for one hour, once, and a newer
//! link retires older ones.
//!
//! `GET {issuer}/password/reset?token=…` shows the new-password form (the
//! GET uses nothing up); `POST` checks the tenant's password policy, then
//! uses the link, sets the new password, ends every session of the user
//! and revokes their refresh tokens (a reset is what a user does when they
//! fear someone else knows the password).

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query};
use axum::http::StatusCode;
use axum::response::Response;
use gatehouse_core::audit::action;
use gatehouse_core::throttle::{Action, Key};
use gatehouse_oidc::user_tokens::{self, Purpose};
use gatehouse_oidc::{refresh, users};
use serde::Deserialize;

use super::email::{self, Kind};
use super::page::{self, Chrome, Csp};
use super::signup::{continue_link, link_invalid, message};
use super::{internal, pending, policy, session, throttle, Failure, Front};

#[derive(Debug, Deserialize, Default)]
pub struct ForgotQuery {
    #[serde(default)]
    req: String,
    #[serde(default)]
    login: String,
}

#[derive(Debug, Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    req: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    login: String,
}

#[derive(askama::Template)]
#[template(path = "forgot.html", config = "src/front/askama.toml")]
struct ForgotPage<'a> {
    chrome: Chrome,
    req: &'a str,
    csrf: &'a str,
    login: &'a str,
}

/// `GET {issuer}/password/forgot`.
pub async fn forgot_get(
    mut f: Front,
    query: Result<Query<ForgotQuery>, QueryRejection>,
) -> Response {
    let Query(q) = query.unwrap_or_default();
    match pending::adopt(&mut f, &q.req).await {
        Ok(req) => {
            let (csrf, set_csrf) = session::csrf_token(&f, &f.headers);
            let page = ForgotPage {
                chrome: Chrome::of(&f),
                req: &req,
                csrf: &csrf,
                login: q.login.trim(),
            };
            page::render(StatusCode::OK, &page, &Csp::default(), &[set_csrf])
        }
        Err(e) => f.fail(e),
    }
}

/// `POST {issuer}/password/forgot`.
pub async fn forgot_post(mut f: Front, form: Result<Form<ForgotForm>, FormRejection>) -> Response {
    let Ok(Form(form)) = form else {
        return f.fail(Failure::csrf());
    };
    async {
        let req = pending::adopt(&mut f, &form.req).await?;
        let f = &f;
        if !session::csrf_ok(&f.headers, &form.csrf) {
            return Err(Failure::csrf());
        }
        let login = form.login.trim();
        if login.is_empty() || login.chars().count() > 255 {
            return Ok(forgot_again(f, &req, login));
        }
        let keys = [Key::account(login), throttle::client_key(f)];
        if let Some(wait) = throttle::check(f, Action::Reset, &keys).await? {
            return Ok(wait);
        }
        // Every request counts: a reset link is a mail to someone's inbox.
        throttle::failed(f, Action::Reset, &keys).await?;
        let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
        let user = users::find_by_login(&mut tx, login).await?;
        let target = user
            .filter(|u| u.active())
            .and_then(|u| u.email.clone().map(|e| (u.id, e)));
        let token = match &target {
            Some((id, _)) => {
                Some(user_tokens::issue(&mut tx, *id, Purpose::ResetPassword, None).await?)
            }
            None => None,
        };
        tx.commit().await?;
        if let (Some((id, address)), Some(token)) = (target, token) {
            tracing::info!(user = %id, "password reset requested");
            let req_param = if req.is_empty() {
                String::new()
            } else {
                format!("&req={req}")
            };
            let url = f.url(&format!("/password/reset?token={token}{req_param}"));
            email::send(f, Kind::ResetPassword, &address, &url);
        }
        Ok(message(
            f,
            &f.lang.t("check-email-title"),
            &f.lang.t1("forgot-sent-text", "login", login),
            None,
        ))
    }
    .await
    .unwrap_or_else(|e| f.fail(e))
}

fn forgot_again(f: &Front, req: &str, login: &str) -> Response {
    let (csrf, set_csrf) = session::csrf_token(f, &f.headers);
    let here = format!("{}/password/forgot?req={req}", Chrome::of(f).base);
    let page = ForgotPage {
        chrome: Chrome::at(f, &here),
        req,
        csrf: &csrf,
        login,
    };
    page::render(
        StatusCode::UNPROCESSABLE_ENTITY,
        &page,
        &Csp::default(),
        &[set_csrf],
    )
}

#[derive(Debug, Deserialize, Default)]
pub struct ResetQuery {
    #[serde(default)]
    token: String,
    #[serde(default)]
    req: String,
}

#[derive(Debug, Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    req: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

#[derive(askama::Template)]
#[template(path = "reset.html", config = "src/front/askama.toml")]
struct ResetPage<'a> {
    chrome: Chrome,
    token: &'a str,
    req: &'a str,
    csrf: &'a str,
    username: &'a str,
    errors: Vec<String>,
    min_length: usize,
    max_length: usize,
}

fn reset_page(f: &Front, token: &str, req: &str, username: &str, errors: Vec<String>) -> Response {
    let (csrf, set_csrf) = session::csrf_token(f, &f.headers);
    let policy = policy::of(f);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let here = format!(
        "{}/password/reset?token={token}&req={req}",
        Chrome::of(f).base
    );
    let page = ResetPage {
        chrome: Chrome::at(f, &here),
        token,
        req,
        csrf: &csrf,
        username,
        errors,
        min_length: policy.min_length,
        max_length: policy.max_length,
    };
    page::render(status, &page, &Csp::default(), &[set_csrf])
}

/// The user a live reset link names, with their username and email.
async fn link_user(
    f: &Front,
    token: &str,
) -> Result<(uuid::Uuid, String, Option<String>), Failure> {
    let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
    let found = user_tokens::peek(&mut tx, Purpose::ResetPassword, token).await?;
    let user = match found {
        Some(r) => users::claims(&mut tx, r.user_id).await?,
        None => None,
    };
    tx.commit().await?;
    match user {
        Some(u) if u.active() => Ok((u.id, u.username, u.email)),
        _ => Err(link_invalid()),
    }
}

/// `GET {issuer}/password/reset?token=…`.
pub async fn reset_get(mut f: Front, query: Result<Query<ResetQuery>, QueryRejection>) -> Response {
    let Query(q) = query.unwrap_or_default();
    async {
        let req = pending::adopt(&mut f, &q.req).await?;
        let (_, username, _) = link_user(&f, &q.token).await?;
        Ok(reset_page(&f, &q.token, &req, &username, Vec::new()))
    }
    .await
    .unwrap_or_else(|e| f.fail(e))
}

/// `POST {issuer}/password/reset`.
pub async fn reset_post(mut f: Front, form: Result<Form<ResetForm>, FormRejection>) -> Response {
    let Ok(Form(form)) = form else {
        return f.fail(Failure::csrf());
    };
    async {
        let req = pending::adopt(&mut f, &form.req).await?;
        let f = &f;
        if !session::csrf_ok(&f.headers, &form.csrf) {
            return Err(Failure::csrf());
        }
        let (user_id, username, email) = link_user(f, &form.token).await?;
        let mut errors = Vec::new();
        if form.password != form.confirm {
            errors.push(f.lang.t("reset-mismatch"));
        }
        let context: Vec<&str> = [Some(username.as_str()), email.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        errors.extend(policy::problems(f, &form.password, &context));
        if !errors.is_empty() {
            return Ok(reset_page(f, &form.token, &req, &username, errors));
        }
        let hash = f.state.hasher.hash(form.password).await.map_err(internal)?;
        let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
        // Used here, in the transaction that changes the password: a link
        // used meanwhile (another tab) changes nothing.
        let Some(r) = user_tokens::redeem(&mut tx, Purpose::ResetPassword, &form.token).await?
        else {
            return Err(link_invalid());
        };
        if r.user_id != user_id {
            return Err(link_invalid());
        }
        users::set_password_hash(&mut tx, user_id, &hash).await?;
        users::end_sessions(&mut tx, user_id).await?;
        refresh::revoke_user(&mut tx, user_id).await?;
        f.audit(
            &mut tx,
            Some(user_id),
            action::PASSWORD_RESET,
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(user = %user_id, "password reset");
        let link = continue_link(f, &req).await?;
        let mut text = f.lang.t("reset-done-text");
        if link.is_none() {
            text = format!("{text} {}", f.lang.t("return-to-app"));
        }
        Ok(message(f, &f.lang.t("reset-done-title"), &text, link))
    }
    .await
    .unwrap_or_else(|e| f.fail(e))
}
