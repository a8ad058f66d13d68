//! The authorization endpoint (OpenID Connect Core 1.0 §3.1.2, RFC 6749
//! §3.1 and §4.1), by GET and by form POST (Core §3.1.2.1). The request is
//! validated by [`gatehouse_oidc::authorize`]; then the user's session
//! decides: log in (a pending request and a redirect to the login page),
//! consent (the consent page), or an authorization code at once.
//!
//! Responses carry `iss` (RFC 9207) beside `code` and `state`, in the query
//! of the redirect URI or, with `response_mode=form_post`, in an
//! auto-submitted form (OAuth 2.0 Form Post Response Mode).

use std::time::Duration;

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use gatehouse_core::crypto::random_token;
use gatehouse_core::TenantTx;
use gatehouse_oidc::authorize::{
    self as authz, AuthorizeError, Prompt, RedirectError, ResponseMode, ValidatedRequest,
};
use gatehouse_oidc::clients::Client;
use gatehouse_oidc::codes::{self, CodeGrant};
use gatehouse_oidc::{consents, tokens, users};
use uuid::Uuid;

use super::page::{self, Chrome, Csp, FormPostPage};
use super::pending::{self, Pending};
use super::session::{self, Session};
use super::{Failure, Front};

/// `GET {issuer}/authorize`.
pub async fn get(
    mut f: Front,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    match query {
        Ok(Query(params)) => authorize(&mut f, params).await,
        Err(_) => Err(unreadable()),
    }
    .unwrap_or_else(|e| f.fail(e))
}

/// `POST {issuer}/authorize`, form-encoded (OpenID Connect Core §3.1.2.1).
pub async fn post(
    mut f: Front,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    match form {
        Ok(Form(params)) => authorize(&mut f, params).await,
        Err(_) => Err(unreadable()),
    }
    .unwrap_or_else(|e| f.fail(e))
}

fn unreadable() -> Failure {
    Failure::bad("error-request-title", "error-request-unreadable")
}

/// A request that cannot go back to its client: a page, with the technical
/// reason as a detail.
fn not_redirectable(detail: String) -> Failure {
    Failure::bad_detail("error-request-title", "error-request-invalid", detail)
}

async fn authorize(f: &mut Front, params: Vec<(String, String)>) -> Result<Response, Failure> {
    // The pages of this request speak the language it asks for (Core
    // §3.1.2.1 ui_locales), the error page below included.
    if let Ok(ui_locales) = authz::single(&params, "ui_locales") {
        f.with_ui_locales(ui_locales);
    }
    let f = &*f;
    let headers = &f.headers;
    let client_id =
        authz::client_id(&params).map_err(|e| not_redirectable(e.description().to_owned()))?;
    let record = f.client(client_id).await?;
    let request = match authz::validate(&params, record.as_deref().map(|r| &r.client)) {
        Ok(r) => r,
        Err(AuthorizeError::NoRedirect(message)) => return Err(not_redirectable(message)),
        Err(AuthorizeError::Redirect(e)) => return respond_error(f, &e, &[]),
    };
    let Some(record) = record else {
        return Err(Failure::Internal);
    };
    let client = &record.client;

    // OpenID Connect Core §3.1.2.1 id_token_hint: the user the client
    // believes is logged in; a hint this issuer did not sign is refused.
    let hinted = match &request.id_token_hint {
        None => None,
        Some(hint) => match tokens::verify_id_token_hint(&f.provider, hint) {
            Some(claims) => Some(claims.sub),
            None => {
                let e = error_for(
                    &request,
                    "invalid_request",
                    "id_token_hint is not a valid ID token of this issuer",
                );
                return respond_error(f, &e, &[]);
            }
        },
    };
    let now = tokens::now();
    // Without a session cookie nothing below reads the database.
    let Some(current) = session::current(f, headers).await? else {
        return without_session(f, request).await;
    };
    let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
    let session = active_user(&mut tx, current).await?;
    // Core §3.1.2.1 max_age: re-authenticate when the last authentication
    // is older. max_age=0 always re-authenticates (as prompt=login), even
    // within the second of the last login.
    // Core §3.1.2.1 acr_values: a request for two factors steps up a
    // one-factor session by signing in again, when the user has a second
    // factor to give (otherwise the session's acr says what was done).
    let step_up = match &session {
        Some((s, _))
            if request.wants_two_factors()
                && tokens::acr_for(&s.amr) != tokens::ACR_TWO_FACTORS
                && super::mfa::Policy::of(f) != super::mfa::Policy::Off =>
        {
            gatehouse_oidc::mfa::has_totp(&mut tx, s.user_id)
                .await
                .map_err(super::internal)?
        }
        _ => false,
    };
    let usable = session.filter(|(s, _)| {
        let fresh = match request.max_age {
            None => true,
            Some(0) => false,
            Some(max) => now.saturating_sub(s.auth_time) <= i64::try_from(max).unwrap_or(i64::MAX),
        };
        fresh
            && !step_up
            && hinted
                .as_deref()
                .is_none_or(|sub| sub == s.user_id.to_string())
    });

    // Core §3.1.2.6: with prompt=none, nothing may be shown to the user.
    if request.has_prompt(Prompt::None) {
        let Some((s, _)) = usable else {
            tx.commit().await?;
            return without_session(f, request).await;
        };
        if needs_consent(&mut tx, client, &request, s.user_id).await? {
            let e = error_for(
                &request,
                "consent_required",
                "the user has not consented to this request",
            );
            return respond_error(f, &e, &[]);
        }
        tx.commit().await?;
        return issue(f, &request, &s, &[]).await;
    }

    let Some((s, _)) = usable.filter(|_| !request.has_prompt(Prompt::Login)) else {
        tx.commit().await?;
        return without_session(f, request).await;
    };
    if needs_consent(&mut tx, client, &request, s.user_id).await? {
        tx.commit().await?;
        let pending = Pending {
            sid: Some(s.sid.clone()),
            ..Pending::authorize(request)
        };
        return to_consent(f, &pending, &[]).await;
    }
    tx.commit().await?;
    issue(f, &request, &s, &[]).await
}

/// A request with no usable session: with prompt=none, login_required to
/// the client (Core §3.1.2.6); otherwise the login page, the request
/// parked until the user has signed in.
async fn without_session(f: &Front, request: ValidatedRequest) -> Result<Response, Failure> {
    if request.has_prompt(Prompt::None) {
        let e = error_for(&request, "login_required", "the user is not logged in");
        return respond_error(f, &e, &[]);
    }
    let id = pending::park(f, &Pending::authorize(request)).await?;
    Ok(page::see_other(&f.url(&format!("/login?req={id}")), &[]))
}

/// The session with its username, if its user still exists and is enabled.
pub(crate) async fn active_user(
    tx: &mut TenantTx,
    session: Session,
) -> Result<Option<(Session, String)>, Failure> {
    // A session that began before the user's sessions were ended (a
    // password reset or change) is over.
    Ok(users::claims(tx, session.user_id)
        .await?
        .filter(|u| u.active() && u.session_epoch == session.epoch)
        .map(|u| (session, u.username)))
}

/// Whether the user must be asked (OpenID Connect Core §3.1.2.4): always
/// with prompt=consent; never for a first-party client; for offline_access
/// every time (§11); otherwise unless every requested scope was granted
/// before.
pub(crate) async fn needs_consent(
    tx: &mut TenantTx,
    client: &Client,
    request: &ValidatedRequest,
    user: Uuid,
) -> Result<bool, Failure> {
    match consent_without_store(client, request) {
        Some(decided) => Ok(decided),
        None => Ok(!consents::covers(tx, user, &client.client_id, &request.scope_refs()).await?),
    }
}

/// The decision of [`needs_consent`] when it does not depend on the
/// consents stored; None when it does.
fn consent_without_store(client: &Client, request: &ValidatedRequest) -> Option<bool> {
    if request.has_prompt(Prompt::Consent) {
        return Some(true);
    }
    if client.first_party {
        return Some(false);
    }
    // Core §11: offline_access needs the user's consent in this very request
    // unless other conditions permit it (here: a first-party client).
    if request.scopes.iter().any(|s| s == "offline_access") {
        return Some(true);
    }
    None
}

/// Continues a pending request right after the user logged in: the consent
/// page or a code.
pub(crate) async fn after_login(
    f: &Front,
    request: ValidatedRequest,
    session: &Session,
    cookies: &[Option<HeaderValue>],
) -> Result<Response, Failure> {
    let Some(record) = f.client(&request.client_id).await? else {
        return Err(Failure::bad("error-request-title", "error-client-gone"));
    };
    // The stored consents are read only when the decision depends on them.
    let consent = match consent_without_store(&record.client, &request) {
        Some(decided) => decided,
        None => {
            let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
            let scopes = request.scope_refs();
            let covered =
                consents::covers(&mut tx, session.user_id, &request.client_id, &scopes).await?;
            tx.commit().await?;
            !covered
        }
    };
    if consent {
        let pending = Pending {
            sid: Some(session.sid.clone()),
            ..Pending::authorize(request)
        };
        return to_consent(f, &pending, cookies).await;
    }
    issue(f, &request, session, cookies).await
}

/// Parks a request that needs consent and sends the browser to the consent
/// page. Post/Redirect/Get: the page is a GET of its own, so a reload or the
/// back button never re-posts the login form.
async fn to_consent(
    f: &Front,
    pending: &Pending,
    cookies: &[Option<HeaderValue>],
) -> Result<Response, Failure> {
    let id = pending::park(f, pending).await?;
    Ok(page::see_other(
        &f.url(&format!("/consent?req={id}")),
        cookies,
    ))
}

/// Issues an authorization code for the session's user (RFC 6749 §4.1.2)
/// and sends it to the client.
pub(crate) async fn issue(
    f: &Front,
    request: &ValidatedRequest,
    session: &Session,
    cookies: &[Option<HeaderValue>],
) -> Result<Response, Failure> {
    let grant = CodeGrant {
        client_id: request.client_id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        user_id: session.user_id,
        scope: request.scope(),
        nonce: request.nonce.clone(),
        code_challenge: request.code_challenge.clone(),
        auth_time: session.auth_time,
        sid: session.sid.clone(),
        acr: Some(tokens::acr_for(&session.amr).to_owned()),
        amr: session.amr.clone(),
        family_id: Uuid::new_v4(),
    };
    let ttl = tokens::ttl(&f.provider, "authorization_code_ttl_secs", 60);
    let ttl = Duration::from_secs(u64::try_from(ttl).unwrap_or(60).max(1));
    let keep = codes::replay_window(&f.provider);
    let code = codes::issue(&f.state.kv, f.tenant_id(), &grant, ttl, keep).await?;
    let mut params = vec![("code", code.as_str())];
    if let Some(state) = &request.state {
        params.push(("state", state));
    }
    respond(
        f,
        &request.redirect_uri,
        request.response_mode,
        &params,
        cookies,
    )
}

/// An error for the client of `request`.
pub(crate) fn error_for(
    request: &ValidatedRequest,
    error: &'static str,
    description: &str,
) -> RedirectError {
    RedirectError {
        redirect_uri: request.redirect_uri.clone(),
        response_mode: request.response_mode,
        state: request.state.clone(),
        error,
        description: authz::error_description(description),
    }
}

/// Sends an error to the client (RFC 6749 §4.1.2.1).
pub(crate) fn respond_error(
    f: &Front,
    e: &RedirectError,
    cookies: &[Option<HeaderValue>],
) -> Result<Response, Failure> {
    let mut params = vec![
        ("error", e.error),
        ("error_description", e.description.as_str()),
    ];
    if let Some(state) = &e.state {
        params.push(("state", state));
    }
    respond(f, &e.redirect_uri, e.response_mode, &params, cookies)
}

/// Sends authorization response parameters, plus `iss` (RFC 9207 §2), to the
/// client's redirect URI in the request's response mode.
fn respond(
    f: &Front,
    redirect_uri: &str,
    mode: ResponseMode,
    params: &[(&str, &str)],
    cookies: &[Option<HeaderValue>],
) -> Result<Response, Failure> {
    let iss = f.provider.issuer.as_str();
    match mode {
        ResponseMode::Query => {
            // RFC 6749 §3.1.2: keep the redirect URI's own query, append ours.
            let mut url = url::Url::parse(redirect_uri).map_err(super::internal)?;
            {
                let mut q = url.query_pairs_mut();
                for (k, v) in params {
                    q.append_pair(k, v);
                }
                q.append_pair("iss", iss);
            }
            Ok(page::see_other(url.as_str(), cookies))
        }
        ResponseMode::FormPost => {
            let nonce = random_token();
            let mut fields = params.to_vec();
            fields.push(("iss", iss));
            let page = FormPostPage {
                chrome: Chrome::of(f),
                action: redirect_uri,
                fields,
                nonce: &nonce,
            };
            let mut csp = Csp::redirecting_to(redirect_uri);
            csp.script_nonce = Some(nonce.clone());
            Ok(page::render(StatusCode::OK, &page, &csp, cookies))
        }
    }
}
