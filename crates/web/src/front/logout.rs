//! RP-Initiated Logout (OpenID Connect RP-Initiated Logout 1.0), by GET and
//! by form POST (§2).
//!
//! * `id_token_hint` must be an ID token this issuer signed (expired ones
//!   are fine, §2); with `client_id` too, both must name the same client.
//! * `post_logout_redirect_uri` must exactly match one registered for the
//!   client named by `client_id` or by the hint's `aud` (§3); otherwise an
//!   error page, never a redirect.
//! * §2: "the OP MUST ask the End-User [whether to log out] if an
//!   id_token_hint was not provided or if the supplied ID Token does not
//!   belong to the current OP session". Without such a hint the user sees a
//!   confirmation form (CSRF-protected); with it, the session ends at once.
//!   A cross-site POST carries no `SameSite=Lax` session cookie, so it is
//!   confirmed the same way, by a same-site form that does.
//! * Then the session record is deleted, the session's refresh and access
//!   tokens revoked (except grants with `offline_access`, OpenID Connect
//!   Core §11), the cookie expired, and the user
//!   sent to `post_logout_redirect_uri` with `state` (§3), or shown a
//!   "signed out" page.

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query};
use axum::http::StatusCode;
use axum::response::Response;
use gatehouse_core::audit::action;
use gatehouse_oidc::authorize::single;
use gatehouse_oidc::{clients, refresh, tokens};

use super::page::{self, Chrome, Csp, LoggedOutPage, LogoutPage};
use super::{session, Failure, Front};

/// `GET {issuer}/logout`.
pub async fn get(
    f: Front,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    match query {
        Ok(Query(params)) => logout(&f, &params, false).await,
        Err(_) => Err(invalid("error-logout-unreadable")),
    }
    .unwrap_or_else(|e| f.fail(e))
}

/// `POST {issuer}/logout`: a client's form POST, or the confirmation form.
pub async fn post(f: Front, form: Result<Form<Vec<(String, String)>>, FormRejection>) -> Response {
    match form {
        Ok(Form(params)) => logout(&f, &params, true).await,
        Err(_) => Err(invalid("error-logout-unreadable")),
    }
    .unwrap_or_else(|e| f.fail(e))
}

fn invalid(message: &'static str) -> Failure {
    Failure::bad("error-logout-title", message)
}

async fn logout(f: &Front, params: &[(String, String)], posted: bool) -> Result<Response, Failure> {
    let headers = &f.headers;
    let param = |name: &str| {
        single(params, name).map_err(|detail| {
            Failure::bad_detail("error-logout-title", "error-logout-unreadable", detail)
        })
    };
    let hint_raw = param("id_token_hint")?;
    let client_id = param("client_id")?;
    let redirect_raw = param("post_logout_redirect_uri")?;
    let state = param("state")?;

    let hint = match hint_raw {
        None => None,
        Some(h) => Some(
            tokens::verify_id_token_hint(&f.provider, h)
                .ok_or_else(|| invalid("error-logout-hint"))?,
        ),
    };
    if let (Some(c), Some(h)) = (client_id, &hint) {
        if h.aud != c {
            return Err(invalid("error-logout-client-mismatch"));
        }
    }
    let redirect = match redirect_raw {
        None => None,
        Some(uri) => {
            let Some(cid) = client_id.or(hint.as_ref().map(|h| h.aud.as_str())) else {
                return Err(invalid("error-logout-no-client"));
            };
            let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
            let client = clients::find(&mut tx, cid).await?;
            tx.commit().await?;
            match client {
                Some(c) if c.post_logout_redirect_uris.iter().any(|u| u == uri) => {
                    Some(uri.to_owned())
                }
                _ => return Err(invalid("error-logout-unregistered")),
            }
        }
    };

    let current = session::current(f, headers).await?;
    let confirmed = posted && param("confirm")? == Some("yes");
    if confirmed && !session::csrf_ok(headers, param("csrf")?.unwrap_or_default()) {
        return Err(Failure::csrf());
    }
    let hint_matches = match (&current, &hint) {
        (Some(s), Some(h)) => {
            h.sub == s.user_id.to_string() && h.sid.as_deref().is_none_or(|sid| sid == s.sid)
        }
        _ => false,
    };
    let cross_site_post = posted
        && headers
            .get("sec-fetch-site")
            .is_some_and(|v| v.as_bytes() == b"cross-site");
    let ask = !confirmed && !hint_matches && (current.is_some() || cross_site_post);
    if ask {
        let (csrf, set_csrf) = session::csrf_token(f, headers);
        let mut fields = Vec::new();
        for (name, value) in [
            ("id_token_hint", hint_raw),
            ("client_id", client_id),
            ("post_logout_redirect_uri", redirect_raw),
            ("state", state),
        ] {
            if let Some(v) = value {
                fields.push((name, v));
            }
        }
        let page = LogoutPage {
            chrome: Chrome::of(f),
            csrf: &csrf,
            fields,
        };
        let csp = redirect
            .as_deref()
            .map(Csp::redirecting_to)
            .unwrap_or_default();
        return Ok(page::render(StatusCode::OK, &page, &csp, &[set_csrf]));
    }

    let expire = session::end(f, headers).await?;
    if let Some(s) = &current {
        // The session's tokens end with it, unless granted offline_access.
        let mut tx = f.state.db.tenant_tx(f.tenant_id()).await?;
        refresh::revoke_session(&mut tx, &s.sid).await?;
        f.audit(
            &mut tx,
            Some(s.user_id),
            action::LOGOUT,
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        tokens::revoke_session(&f.state.kv, &f.provider, &s.sid).await?;
        tracing::info!(user = %s.user_id, "logout");
    }
    match redirect {
        Some(uri) => {
            let mut url = url::Url::parse(&uri).map_err(super::internal)?;
            if let Some(state) = state {
                url.query_pairs_mut().append_pair("state", state);
            }
            Ok(page::see_other(url.as_str(), &[expire]))
        }
        None => {
            let page = LoggedOutPage {
                chrome: Chrome::of(f),
            };
            Ok(page::render(
                StatusCode::OK,
                &page,
                &Csp::default(),
                &[expire],
            ))
        }
    }
}
