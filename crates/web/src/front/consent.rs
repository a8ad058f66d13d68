//! The consent page (OpenID Connect Core §3.1.2.4): the user allows or
//! denies the client the requested scopes. A pending request waiting for
//! consent is bound to the session that was asked; an approval is
//! remembered (`consents::grant`) so the user is asked again only for new
//! scopes. Deny sends `access_denied` to the client (RFC 6749 §4.1.2.1).
//! The page is reached by a redirect (`GET {issuer}/consent?req=…`) after
//! login or from the authorization endpoint, and answered by a POST.

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query};
use axum::http::StatusCode;
use axum::response::Response;
use gatehouse_core::audit::action;
use gatehouse_oidc::{clients, consents};
use serde::Deserialize;
use subtle::ConstantTimeEq as _;

use super::authorize::{active_user, error_for, issue, respond_error};
use super::page::{self, Chrome, ConsentPage, Csp};
use super::pending::{self, Pending};
use super::session::{self, Session};
use super::{Failure, Front};

#[derive(Debug, Deserialize)]
pub struct ConsentForm {
    #[serde(default)]
    req: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    decision: String,
}

#[derive(Debug, Deserialize)]
pub struct ConsentQuery {
    #[serde(default)]
    req: String,
}

/// `GET {issuer}/consent?req={id}`: the page, for the session the pending
/// request is bound to.
pub async fn get(mut f: Front, query: Result<Query<ConsentQuery>, QueryRejection>) -> Response {
    let Ok(Query(query)) = query else {
        return f.fail(Failure::expired());
    };
    show(&mut f, &query.req).await.unwrap_or_else(|e| f.fail(e))
}

async fn show(f: &mut Front, req: &str) -> Result<Response, Failure> {
    let (_, username, pending) = bound(f, req).await?;
    f.with_ui_locales(pending.ui_locales());
    let f = &*f;
    let Some(request) = &pending.request else {
        return Err(Failure::expired());
    };
    let Some(record) = f.client(&request.client_id).await? else {
        return Err(Failure::expired());
    };
    let client = &record.client;
    let (csrf, set_csrf) = session::csrf_token(f, &f.headers);
    let page = ConsentPage {
        chrome: Chrome::of(f),
        req,
        csrf: &csrf,
        client_name: &client.name,
        username: &username,
        scopes: request
            .scopes
            .iter()
            .filter_map(|s| page::scope_text(&f.lang, s))
            .collect(),
    };
    Ok(page::render(
        StatusCode::OK,
        &page,
        &Csp::redirecting_to(&request.redirect_uri),
        &[set_csrf],
    ))
}

/// `POST {issuer}/consent`.
pub async fn post(mut f: Front, form: Result<Form<ConsentForm>, FormRejection>) -> Response {
    let Ok(Form(form)) = form else {
        return f.fail(Failure::csrf());
    };
    decide(&mut f, form).await.unwrap_or_else(|e| f.fail(e))
}

fn signed_out() -> Failure {
    Failure::bad("error-signed-out-title", "error-signed-out-message")
}

/// The session (with its username) that pending request `req` is bound to,
/// if it is the request's, and the request.
async fn bound(f: &Front, req: &str) -> Result<(Session, String, Pending), Failure> {
    let Some(pending) = pending::load(f, req).await? else {
        return Err(Failure::expired());
    };
    let session = match session::current(f, &f.headers).await? {
        Some(s) => {
            let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
            let active = active_user(&mut tx, s).await?;
            tx.commit().await?;
            active
        }
        None => None,
    };
    let Some((session, username)) = session else {
        return Err(signed_out());
    };
    let same = pending
        .sid
        .as_deref()
        .is_some_and(|sid| bool::from(sid.as_bytes().ct_eq(session.sid.as_bytes())));
    if !same {
        return Err(Failure::expired());
    }
    Ok((session, username, pending))
}

async fn decide(f: &mut Front, form: ConsentForm) -> Result<Response, Failure> {
    if let Some(p) = pending::load(f, &form.req).await? {
        f.with_ui_locales(p.ui_locales());
    }
    let f = &*f;
    if !session::csrf_ok(&f.headers, &form.csrf) {
        return Err(Failure::csrf());
    }
    let approve = match form.decision.as_str() {
        "approve" => true,
        "deny" => false,
        _ => return Err(Failure::bad("error-request-title", "error-consent-choice")),
    };
    let (session, _, _) = bound(f, &form.req).await?;
    // Single use: a second submission of the same page finds nothing.
    let Some(Pending {
        request: Some(request),
        ..
    }) = pending::take(f, &form.req).await?
    else {
        return Err(Failure::expired());
    };
    if !approve {
        tracing::info!(client = %request.client_id, "consent denied");
        let e = error_for(&request, "access_denied", "the user denied the request");
        return respond_error(f, &e, &[]);
    }
    let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
    if clients::find(&mut tx, &request.client_id).await?.is_none() {
        return Err(Failure::expired());
    }
    consents::grant(
        &mut tx,
        session.user_id,
        &request.client_id,
        &request.scope_refs(),
    )
    .await?;
    let details =
        serde_json::json!({ "client_id": request.client_id, "scope": request.scope_refs() });
    f.audit(
        &mut tx,
        Some(session.user_id),
        action::CONSENT_GRANTED,
        details,
    )
    .await?;
    tx.commit().await?;
    issue(f, &request, &session, &[]).await
}
