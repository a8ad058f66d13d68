//! Self-service sign-up and email verification.
//!
//! **Policy** (`security.signup`): `disabled` (the default: the pages answer
//! "Sign-up is not available"), `open`, or `domains` (only addresses whose
//! domain is listed in `security.signup_domains`).
//!
//! **Sign-up** (`GET/POST {issuer}/signup`) asks for a name, an email address
//! (which is also the username) and a password that passes the tenant's
//! password policy. It never tells whether the address already has an
//! account: both cases hash the password, answer with the same "check your
//! email" page, and send one email in the background, a verification link
//! to a new account or a note to the existing one ("you already have an
//! account", with a reset link). The new account's language is the page's.
//!
//! **Verification** (`GET {issuer}/verify-email?token=…` shows a button,
//! the `POST` uses the link): single use, 24 hours, and only for the address
//! it was sent to. The GET changes nothing, so mail scanners that open
//! links do not use them up.
//!
//! Attempts are throttled per client address and per email address.

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query};
use axum::http::StatusCode;
use axum::response::Response;
use gatehouse_core::throttle::{Action, Key};
use gatehouse_oidc::user_tokens::{self, Purpose};
use gatehouse_oidc::users::{self, NewUser};
use serde::Deserialize;

use super::email::{self, Kind};
use super::page::{self, Chrome, Csp, MessagePage};
use super::{internal, pending, policy, session, throttle, Failure, Front};

/// How a tenant lets people sign up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Signup {
    Disabled,
    Open,
    Domains(Vec<String>),
}

impl Signup {
    pub fn of(f: &Front) -> Self {
        let s = &f.provider.settings;
        match s
            .get("security", "signup")
            .and_then(serde_json::Value::as_str)
        {
            Some("open") => Self::Open,
            Some("domains") => Self::Domains(
                s.get("security", "signup_domains")
                    .and_then(serde_json::Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(serde_json::Value::as_str)
                    .map(|d| d.trim().trim_start_matches('@').to_ascii_lowercase())
                    .filter(|d| !d.is_empty())
                    .collect(),
            ),
            _ => Self::Disabled,
        }
    }

    pub fn enabled(&self) -> bool {
        *self != Self::Disabled
    }

    fn allows(&self, email: &str) -> bool {
        let domain = email
            .rsplit_once('@')
            .map(|(_, d)| d.to_ascii_lowercase())
            .unwrap_or_default();
        match self {
            Self::Disabled => false,
            Self::Open => true,
            Self::Domains(list) => list.contains(&domain),
        }
    }
}

/// A plausible email address: one `@`, a dot in the domain, no spaces or
/// controls, at most 254 characters (RFC 5321 §4.5.3.1.3).
pub(crate) fn plausible_email(e: &str) -> bool {
    e.len() <= 254
        && e.split_once('@').is_some_and(|(l, d)| {
            !l.is_empty()
                && d.contains('.')
                && !d.starts_with('.')
                && !d.ends_with('.')
                && !d.contains('@')
        })
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[derive(Debug, Deserialize, Default)]
pub struct ReqQuery {
    #[serde(default)]
    req: String,
}

#[derive(Debug, Deserialize)]
pub struct SignupForm {
    #[serde(default)]
    req: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

#[derive(askama::Template)]
#[template(path = "signup.html", config = "src/front/askama.toml")]
struct SignupPage<'a> {
    chrome: Chrome,
    req: &'a str,
    csrf: &'a str,
    name: &'a str,
    email: &'a str,
    errors: Vec<String>,
    min_length: usize,
    max_length: usize,
}

fn unavailable() -> Failure {
    Failure::bad("signup-unavailable-title", "signup-unavailable-message")
}

fn form_page(f: &Front, req: &str, name: &str, email: &str, errors: Vec<String>) -> Response {
    let (csrf, set_csrf) = session::csrf_token(f, &f.headers);
    let policy = policy::of(f);
    let base = Chrome::of(f).base;
    let here = if req.is_empty() {
        format!("{base}/signup")
    } else {
        format!("{base}/signup?req={req}")
    };
    let page = SignupPage {
        chrome: Chrome::at(f, &here),
        req,
        csrf: &csrf,
        name,
        email,
        errors,
        min_length: policy.min_length,
        max_length: policy.max_length,
    };
    let status = if page.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    page::render(status, &page, &Csp::default(), &[set_csrf])
}

/// `GET {issuer}/signup`.
pub async fn get(mut f: Front, query: Result<Query<ReqQuery>, QueryRejection>) -> Response {
    let Query(q) = query.unwrap_or_default();
    async {
        if !Signup::of(&f).enabled() {
            return Err(unavailable());
        }
        let req = pending::adopt(&mut f, &q.req).await?;
        Ok(form_page(&f, &req, "", "", Vec::new()))
    }
    .await
    .unwrap_or_else(|e| f.fail(e))
}

/// `POST {issuer}/signup`.
pub async fn post(mut f: Front, form: Result<Form<SignupForm>, FormRejection>) -> Response {
    let Ok(Form(form)) = form else {
        return f.fail(Failure::csrf());
    };
    signup(&mut f, form).await.unwrap_or_else(|e| f.fail(e))
}

async fn signup(f: &mut Front, form: SignupForm) -> Result<Response, Failure> {
    let policy_of_signup = Signup::of(f);
    if !policy_of_signup.enabled() {
        return Err(unavailable());
    }
    let req = pending::adopt(f, &form.req).await?;
    let f = &*f;
    if !session::csrf_ok(&f.headers, &form.csrf) {
        return Err(Failure::csrf());
    }
    let email_addr = form.email.trim().to_owned();
    let name = form.name.trim();
    let keys = [Key::account(&email_addr), throttle::client_key(f)];
    if let Some(wait) = throttle::check(f, Action::Signup, &keys).await? {
        return Ok(wait);
    }
    let mut errors = Vec::new();
    if !plausible_email(&email_addr) {
        errors.push(f.lang.t("signup-email-invalid"));
    } else if !policy_of_signup.allows(&email_addr) {
        errors.push(f.lang.t("signup-domain"));
    }
    if name.chars().count() > 200 {
        errors.push(f.lang.t("signup-email-invalid"));
    }
    errors.extend(policy::problems(f, &form.password, &[&email_addr, name]));
    if !errors.is_empty() {
        throttle::failed(f, Action::Signup, &keys).await?;
        return Ok(form_page(f, &req, name, &email_addr, errors));
    }
    // The same work whether the address is new or not: one hash, one email.
    let hash = f.state.hasher.hash(form.password).await.map_err(internal)?;
    let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
    let existing = users::find_by_login(&mut tx, &email_addr).await?;
    let req_param = if req.is_empty() {
        String::new()
    } else {
        format!("&req={req}")
    };
    match existing {
        Some(_) => {
            tx.commit().await?;
            let url = f.url(&format!(
                "/password/forgot?login={}{req_param}",
                url::form_urlencoded::byte_serialize(email_addr.as_bytes()).collect::<String>()
            ));
            email::send(f, Kind::AccountExists, &email_addr, &url);
        }
        None => {
            let user = users::create(
                &mut tx,
                NewUser {
                    username: email_addr.to_ascii_lowercase(),
                    email: Some(email_addr.clone()),
                    name: Some(name.to_owned()).filter(|n| !n.is_empty()),
                    password_hash: Some(hash),
                },
            )
            .await?;
            users::set_locale(&mut tx, user.id, f.lang.tag()).await?;
            let token =
                user_tokens::issue(&mut tx, user.id, Purpose::VerifyEmail, Some(&email_addr))
                    .await?;
            tx.commit().await?;
            tracing::info!(user = %user.id, "signed up");
            let url = f.url(&format!("/verify-email?token={token}{req_param}"));
            email::send(f, Kind::VerifyEmail, &email_addr, &url);
        }
    }
    throttle::failed(f, Action::Signup, &keys).await?;
    Ok(message(
        f,
        &f.lang.t("check-email-title"),
        &f.lang.t1("check-email-text", "email", &email_addr),
        None,
    ))
}

/// A page with a title, a paragraph and perhaps one link.
pub(crate) fn message(
    f: &Front,
    title: &str,
    text: &str,
    link: Option<(String, String)>,
) -> Response {
    let page = MessagePage {
        chrome: Chrome::terminal(f),
        title,
        text,
        link,
    };
    page::render(StatusCode::OK, &page, &Csp::default(), &[])
}

/// The "continue" link after a flow that began at pending request `req`.
pub(crate) async fn continue_link(
    f: &Front,
    req: &str,
) -> Result<Option<(String, String)>, Failure> {
    if req.is_empty() || pending::load(f, req).await?.is_none() {
        return Ok(None);
    }
    Ok(Some((
        format!("{}/login?req={req}", Chrome::of(f).base),
        f.lang.t("continue-sign-in"),
    )))
}

#[derive(Debug, Deserialize, Default)]
pub struct VerifyQuery {
    #[serde(default)]
    token: String,
    #[serde(default)]
    req: String,
}

#[derive(Debug, Deserialize)]
pub struct VerifyForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    req: String,
    #[serde(default)]
    csrf: String,
}

#[derive(askama::Template)]
#[template(path = "verify.html", config = "src/front/askama.toml")]
struct VerifyPage<'a> {
    chrome: Chrome,
    action: &'a str,
    token: &'a str,
    req: &'a str,
    csrf: &'a str,
    email: &'a str,
}

pub(crate) fn link_invalid() -> Failure {
    Failure::bad("link-invalid-title", "link-invalid-message")
}

/// `GET {issuer}/verify-email?token=…`: the confirmation button.
pub async fn verify_get(
    mut f: Front,
    query: Result<Query<VerifyQuery>, QueryRejection>,
) -> Response {
    let Query(q) = query.unwrap_or_default();
    async {
        let req = pending::adopt(&mut f, &q.req).await?;
        let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
        let found = user_tokens::peek(&mut tx, Purpose::VerifyEmail, &q.token).await?;
        tx.commit().await?;
        let Some(email) = found.and_then(|r| r.email) else {
            return Err(link_invalid());
        };
        let (csrf, set_csrf) = session::csrf_token(&f, &f.headers);
        let page = VerifyPage {
            chrome: Chrome::of(&f),
            action: &f.url("/verify-email"),
            token: &q.token,
            req: &req,
            csrf: &csrf,
            email: &email,
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

/// `POST {issuer}/verify-email`: uses the link.
pub async fn verify_post(mut f: Front, form: Result<Form<VerifyForm>, FormRejection>) -> Response {
    let Ok(Form(form)) = form else {
        return f.fail(Failure::csrf());
    };
    async {
        let req = pending::adopt(&mut f, &form.req).await?;
        if !session::csrf_ok(&f.headers, &form.csrf) {
            return Err(Failure::csrf());
        }
        let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
        let redeemed = user_tokens::redeem(&mut tx, Purpose::VerifyEmail, &form.token).await?;
        let Some(r) = redeemed else {
            return Err(link_invalid());
        };
        let email = r.email.unwrap_or_default();
        if !users::mark_email_verified(&mut tx, r.user_id, &email).await? {
            // The address changed since the link was sent.
            return Err(link_invalid());
        }
        tx.commit().await?;
        tracing::info!(user = %r.user_id, "email verified");
        let link = continue_link(&f, &req).await?;
        let text = match &link {
            Some(_) => f.lang.t1("verified-text", "email", &email),
            None => format!(
                "{} {}",
                f.lang.t1("verified-text", "email", &email),
                f.lang.t("return-to-app")
            ),
        };
        Ok(message(&f, &f.lang.t("verified-title"), &text, link))
    }
    .await
    .unwrap_or_else(|e| f.fail(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_checked_for_plausibility_only() {
        assert!(plausible_email("a@b.example"));
        assert!(plausible_email("first.last+tag@sub.example.org"));
        for bad in [
            "",
            "a",
            "a@b",
            "@b.example",
            "a@.example",
            "a@b.example.",
            "a b@c.example",
            "a@b@c.example",
        ] {
            assert!(!plausible_email(bad), "{bad}");
        }
    }

    #[test]
    fn domain_policy_matches_the_whole_domain() {
        let p = Signup::Domains(vec!["acme.example".into()]);
        assert!(p.allows("x@acme.example"));
        assert!(p.allows("x@ACME.example"));
        assert!(!p.allows("x@evilacme.example"));
        assert!(!p.allows("x@acme.example.evil"));
        assert!(Signup::Open.allows("x@any.example"));
        assert!(!Signup::Disabled.allows("x@any.example"));
    }
}
