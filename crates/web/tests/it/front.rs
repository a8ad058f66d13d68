//! The front channel in-process, as a browser sees it: the authorization
//! endpoint, login, consent, logout, their pages' headers, and sessions
//! bound to their tenant.

use axum::body::Body;
use axum::http::Request;
use gatehouse_oidc::clients;
use gatehouse_oidc::codes::{self, Presented};
use gatehouse_oidc::keys::Alg;
use gatehouse_oidc::tokens::{self, IdClaims};

use crate::browser::*;
use crate::support::send;

#[tokio::test]
async fn front_a_browser_logs_in_consents_and_returns_to_the_client_with_a_code() {
    let fx = Fixture::new().await;
    let mut b = Browser::default();
    let to_login = b.get(&fx.app, &fx.authorize(&fx.client, &[])).await;
    assert_eq!(to_login.status, 303);
    let login_url = to_login.location().unwrap();
    assert!(
        login_url
            .as_str()
            .starts_with(&format!("{}/login?req=", fx.issuer())),
        "{login_url}"
    );

    let page = b.get(&fx.app, &to_login.next()).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(r#"name="username""#));
    assert!(page.body.contains(r#"name="password""#));
    assert!(page.body.contains("Acme Corp"), "the tenant is the heading");
    assert!(
        page.body.contains("Photo &#60;Prints&#62;") || page.body.contains("Photo &lt;Prints&gt;"),
        "the client name, escaped: {}",
        page.body
    );
    assert!(!page.body.contains("<Prints>"));
    let csrf = page.hidden("csrf");
    assert!(page.sets_cookie("gatehouse_csrf"));
    assert_eq!(b.cookies["gatehouse_csrf"], csrf);

    let to_consent = b
        .post(
            &fx.app,
            &fx.path("/login"),
            &[
                ("req", &page.hidden("req")),
                ("csrf", &csrf),
                ("username", "ALICE"),
                ("password", PASSWORD),
            ],
        )
        .await;
    // Post/Redirect/Get: the login answers with a redirect to the consent page.
    assert_eq!(to_consent.status, 303, "{}", to_consent.body);
    assert!(to_consent
        .location()
        .unwrap()
        .as_str()
        .starts_with(&format!("{}/consent?req=", fx.issuer())));
    assert!(to_consent.sets_cookie("gatehouse_session"));
    let session_cookie = to_consent
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("gatehouse_session="))
        .unwrap();
    assert!(session_cookie.contains("HttpOnly"));
    assert!(session_cookie.contains("SameSite=Lax"));
    assert!(session_cookie.contains(&format!("Path=/t/{}", fx.slug())));
    assert!(
        !session_cookie.contains("Secure"),
        "the test issuer is http"
    );

    let consent = b.get(&fx.app, &to_consent.next()).await;
    assert_eq!(consent.status, 200, "{}", consent.body);
    assert!(consent.body.contains("See your profile"));
    assert!(consent
        .header("content-security-policy")
        .contains("form-action 'self' https://rp.example;"));
    assert!(consent.body.contains(r#"value="approve""#));
    assert!(consent.body.contains(r#"value="deny""#));
    let done = b
        .post(
            &fx.app,
            &fx.path("/consent"),
            &[
                ("req", &consent.hidden("req")),
                ("csrf", &consent.hidden("csrf")),
                ("decision", "approve"),
            ],
        )
        .await;
    let code = assert_code_response(&done, &fx);

    // The code carries the request to the token endpoint.
    match codes::take(&fx.state.kv, fx.tenant.id, &code)
        .await
        .unwrap()
    {
        Presented::Fresh(grant) => {
            assert_eq!(grant.client_id, fx.client);
            assert_eq!(grant.redirect_uri, CB);
            assert_eq!(grant.user_id, fx.user_id().await);
            assert_eq!(grant.scope, "openid profile");
            assert_eq!(grant.nonce.as_deref(), Some("n-456"));
            assert_eq!(grant.amr, ["pwd"]);
            assert!(!grant.sid.is_empty());
            assert!((tokens::now() - grant.auth_time).abs() < 60);
        }
        other => panic!("expected a fresh code, got {other:?}"),
    }

    // The same consent replayed does nothing.
    let replay = b
        .post(
            &fx.app,
            &fx.path("/consent"),
            &[
                ("req", &consent.hidden("req")),
                ("csrf", &consent.hidden("csrf")),
                ("decision", "approve"),
            ],
        )
        .await;
    assert_eq!(replay.status, 400);
    assert!(replay.location().is_none());

    // A second authorization skips both login and consent.
    let again = b.get(&fx.app, &fx.authorize(&fx.client, &[])).await;
    assert_code_response(&again, &fx);
}

#[tokio::test]
async fn front_a_first_party_client_never_asks_for_consent() {
    let fx = Fixture::new().await;
    let mut b = Browser::default();
    let done = b
        .log_in(&fx, &fx.authorize(&fx.first_party, &[]), PASSWORD)
        .await;
    assert_code_response(&done, &fx);
}

#[tokio::test]
async fn front_a_redirect_uri_with_a_query_keeps_it_and_gets_the_code_appended() {
    let fx = Fixture::new().await;
    let mut b = Browser::default();
    let done = b
        .log_in(
            &fx,
            &fx.authorize(
                &fx.first_party,
                &[("redirect_uri", &format!("{CB}?tenant=x"))],
            ),
            PASSWORD,
        )
        .await;
    assert_eq!(done.status, 303);
    let p = done.params();
    assert_eq!(p["tenant"], "x");
    assert!(p.contains_key("code"));
    assert_eq!(p["iss"], fx.issuer());
}

#[tokio::test]
async fn front_a_wrong_password_and_an_unknown_user_get_the_same_page() {
    let fx = Fixture::new().await;
    let mut b = Browser::default();
    let to_login = b.get(&fx.app, &fx.authorize(&fx.client, &[])).await;
    let page = b.get(&fx.app, &to_login.next()).await;
    let (req, csrf) = (page.hidden("req"), page.hidden("csrf"));
    let attempt = |user: &'static str, password: &'static str| {
        let (req, csrf) = (req.clone(), csrf.clone());
        let mut b = b.clone();
        let app = fx.app.clone();
        let path = fx.path("/login");
        async move {
            b.post(
                &app,
                &path,
                &[
                    ("req", &req),
                    ("csrf", &csrf),
                    ("username", user),
                    ("password", password),
                ],
            )
            .await
        }
    };
    let wrong = attempt("alice", "not the password").await;
    let unknown = attempt("mallory", PASSWORD).await;
    for a in [&wrong, &unknown] {
        assert_eq!(a.status, 200);
        assert!(a.body.contains("Invalid username or password."));
        assert!(!a.sets_cookie("gatehouse_session"));
        assert!(a.location().is_none());
    }
    assert_eq!(
        wrong.body.replace("alice", "USER"),
        unknown.body.replace("mallory", "USER")
    );
    // The request survives a failed attempt.
    let ok = attempt("alice", PASSWORD).await;
    assert!(ok.sets_cookie("gatehouse_session"));
    assert_eq!(ok.status, 303, "to the consent page");
    assert!(ok
        .location()
        .unwrap()
        .as_str()
        .starts_with(&format!("{}/consent?req=", fx.issuer())));

    // The tenant's audit log has both failures and the success, and no password.
    let mut tx = fx.state.db.tenant_tx(fx.tenant.id).await.unwrap();
    let logins = gatehouse_admin::audit::Filter {
        action: Some("login.".into()),
        ..Default::default()
    };
    let events = gatehouse_admin::audit::list(&mut tx, &logins)
        .await
        .unwrap()
        .items;
    let seen: Vec<(&str, &str, Option<&str>)> = events
        .iter()
        .map(|e| {
            (
                e.action.as_str(),
                e.actor_kind.as_str(),
                e.details["login"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("login.succeeded", "user", None),
            ("login.failed", "anonymous", Some("mallory")),
            ("login.failed", "anonymous", Some("alice")),
        ]
    );
    assert!(events
        .iter()
        .all(|e| !e.details.to_string().contains(PASSWORD)));
}

#[tokio::test]
async fn front_a_login_without_the_matching_csrf_cookie_is_refused_and_starts_no_session() {
    let fx = Fixture::new().await;
    let mut b = Browser::default();
    let to_login = b.get(&fx.app, &fx.authorize(&fx.client, &[])).await;
    let page = b.get(&fx.app, &to_login.next()).await;
    let (req, csrf) = (page.hidden("req"), page.hidden("csrf"));
    let form = |csrf: &str| {
        vec![
            ("req".to_owned(), req.clone()),
            ("csrf".to_owned(), csrf.to_owned()),
            ("username".to_owned(), "alice".to_owned()),
            ("password".to_owned(), PASSWORD.to_owned()),
        ]
    };
    let post = |b: &mut Browser, form: Vec<(String, String)>| {
        let app = fx.app.clone();
        let path = fx.path("/login");
        let mut b = std::mem::take(b);
        async move {
            let pairs: Vec<(&str, &str)> =
                form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            b.post(&app, &path, &pairs).await
        }
    };
    // No cookie at all.
    let mut cookieless = Browser::default();
    let a = post(&mut cookieless, form(&csrf)).await;
    assert_eq!(a.status, 400);
    assert!(!a.sets_cookie("gatehouse_session"));
    assert!(a.location().is_none());
    // A cookie that differs from the field.
    let mut other = b.clone();
    other.cookies.insert(
        "gatehouse_csrf".into(),
        gatehouse_core::crypto::random_token(),
    );
    let a = post(&mut other, form(&csrf)).await;
    assert_eq!(a.status, 400);
    assert!(!a.sets_cookie("gatehouse_session"));
    // A missing field.
    let mut same = b.clone();
    let a = post(&mut same, form("")).await;
    assert_eq!(a.status, 400);
    assert!(!a.sets_cookie("gatehouse_session"));
    assert!(a.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
}

#[tokio::test]
async fn front_an_unknown_client_or_unregistered_redirect_uri_gets_an_error_page_not_a_redirect() {
    let fx = Fixture::new().await;
    let mut b = Browser::default();
    for uri in [
        fx.authorize("no-such-client", &[]),
        fx.authorize(&fx.client, &[("redirect_uri", "https://evil.example/cb")]),
        fx.authorize(&fx.client, &[("redirect_uri", "https://rp.example/cb/")]),
        fx.authorize(&fx.client, &[("redirect_uri", "")]),
        fx.authorize(&fx.client, &[("client_id", "")]),
    ] {
        let a = b.get(&fx.app, &uri).await;
        assert_eq!(a.status, 400, "{uri}");
        assert!(a.headers.get("location").is_none(), "{uri}");
        assert!(a.header("content-type").starts_with("text/html"));
        assert!(a.body.contains("<h2"), "an HTML page: {}", a.body);
    }
    // A client of another tenant is unknown here.
    let other = fx.sibling().await;
    let a = b.get(&fx.app, &other.authorize(&fx.client, &[])).await;
    assert_eq!(a.status, 400);
    assert!(a.headers.get("location").is_none());
}

#[tokio::test]
async fn front_response_type_token_is_sent_back_as_unsupported_response_type() {
    let fx = Fixture::new().await;
    let a = Browser::default()
        .get(
            &fx.app,
            &fx.authorize(&fx.client, &[("response_type", "token")]),
        )
        .await;
    assert_error_redirect(&a, &fx, "unsupported_response_type");
}

#[tokio::test]
async fn front_plain_pkce_is_an_invalid_request() {
    let fx = Fixture::new().await;
    let a = Browser::default()
        .get(
            &fx.app,
            &fx.authorize(
                &fx.public,
                &[
                    ("code_challenge", CHALLENGE),
                    ("code_challenge_method", "plain"),
                ],
            ),
        )
        .await;
    assert_error_redirect(&a, &fx, "invalid_request");
}

#[tokio::test]
async fn front_a_public_client_without_a_code_challenge_is_an_invalid_request() {
    let fx = Fixture::new().await;
    let mut b = Browser::default();
    let a = b.get(&fx.app, &fx.authorize(&fx.public, &[])).await;
    assert_error_redirect(&a, &fx, "invalid_request");
    // With S256 it proceeds to the login page.
    let a = b
        .get(
            &fx.app,
            &fx.authorize(
                &fx.public,
                &[
                    ("code_challenge", CHALLENGE),
                    ("code_challenge_method", "S256"),
                ],
            ),
        )
        .await;
    assert!(a.next().starts_with(&fx.path("/login?req=")));
}

#[tokio::test]
async fn front_prompt_none_without_a_session_is_login_required() {
    let fx = Fixture::new().await;
    let a = Browser::default()
        .get(&fx.app, &fx.authorize(&fx.client, &[("prompt", "none")]))
        .await;
    assert_error_redirect(&a, &fx, "login_required");
}

#[tokio::test]
async fn front_prompt_none_with_a_session_needs_consent_and_then_returns_a_code() {
    let fx = Fixture::new().await;
    let mut b = Browser::default();
    // Logged in through the first-party client: no consent for the other.
    let done = b
        .log_in(&fx, &fx.authorize(&fx.first_party, &[]), PASSWORD)
        .await;
    assert_code_response(&done, &fx);
    let a = b
        .get(&fx.app, &fx.authorize(&fx.client, &[("prompt", "none")]))
        .await;
    assert_error_redirect(&a, &fx, "consent_required");
    let a = b
        .get(
            &fx.app,
            &fx.authorize(&fx.first_party, &[("prompt", "none")]),
        )
        .await;
    assert_code_response(&a, &fx);

    // An id_token_hint naming someone else: login_required.
    let p = fx.provider().await;
    let now = tokens::now();
    let claims = IdClaims {
        iss: fx.issuer(),
        sub: uuid::Uuid::new_v4().to_string(),
        aud: fx.first_party.clone(),
        exp: now + 300,
        iat: now,
        auth_time: now,
        nonce: None,
        azp: fx.first_party.clone(),
        at_hash: None,
        sid: None,
        acr: None,
        amr: vec![],
        roles: None,
    };
    let hint = tokens::sign_id_token(&p, Alg::RS256, &claims).unwrap();
    let a = b
        .get(
            &fx.app,
            &fx.authorize(
                &fx.first_party,
                &[("prompt", "none"), ("id_token_hint", &hint)],
            ),
        )
        .await;
    assert_error_redirect(&a, &fx, "login_required");
    // Naming the user: a code.
    let claims = IdClaims {
        sub: fx.user_id().await.to_string(),
        ..claims
    };
    let hint = tokens::sign_id_token(&p, Alg::RS256, &claims).unwrap();
    let a = b
        .get(
            &fx.app,
            &fx.authorize(
                &fx.first_party,
                &[("prompt", "none"), ("id_token_hint", &hint)],
            ),
        )
        .await;
    assert_code_response(&a, &fx);
}

#[tokio::test]
async fn front_prompt_login_and_max_age_zero_force_the_login_page() {
    let fx = Fixture::new().await;
    let mut b = Browser::default();
    let done = b
        .log_in(&fx, &fx.authorize(&fx.first_party, &[]), PASSWORD)
        .await;
    assert_code_response(&done, &fx);
    for extra in [("prompt", "login"), ("max_age", "0")] {
        let a = b
            .get(&fx.app, &fx.authorize(&fx.first_party, &[extra]))
            .await;
        assert!(
            a.next().starts_with(&fx.path("/login?req=")),
            "{extra:?}: {:?}",
            a.location()
        );
    }
    // A generous max_age does not.
    let a = b
        .get(
            &fx.app,
            &fx.authorize(&fx.first_party, &[("max_age", "3600")]),
        )
        .await;
    assert_code_response(&a, &fx);
    // Logging in again (prompt=login) rotates the session cookie.
    let before = b.cookies["gatehouse_session"].clone();
    let again = b
        .log_in(
            &fx,
            &fx.authorize(&fx.first_party, &[("prompt", "login")]),
            PASSWORD,
        )
        .await;
    assert_code_response(&again, &fx);
    assert_ne!(b.cookies["gatehouse_session"], before);
    let mut old = Browser::default();
    old.cookies.insert("gatehouse_session".into(), before);
    let a = old.get(&fx.app, &fx.authorize(&fx.first_party, &[])).await;
    assert!(
        a.next().starts_with(&fx.path("/login?req=")),
        "the previous session was deleted"
    );
}

#[tokio::test]
async fn front_form_post_returns_a_page_that_posts_code_state_and_iss_to_the_redirect_uri() {
    let fx = Fixture::new().await;
    let mut b = Browser::default();
    let a = b
        .log_in(
            &fx,
            &fx.authorize(&fx.first_party, &[("response_mode", "form_post")]),
            PASSWORD,
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a
        .body
        .contains(&format!(r#"<form method="post" action="{CB}""#)));
    assert!(!a.hidden("code").is_empty());
    assert_eq!(a.hidden("state"), "st-123");
    let iss = a.hidden("iss");
    assert!(iss.contains(fx.slug()), "{iss}");
    let csp = a.header("content-security-policy");
    assert!(
        csp.contains("form-action 'self' https://rp.example;"),
        "{csp}"
    );
    assert!(csp.contains("script-src 'nonce-"), "{csp}");
    assert!(
        a.body.contains(r#"<button type="submit""#),
        "works without JS"
    );
    assert!(a.headers.get("location").is_none());
}

#[tokio::test]
async fn front_denying_consent_sends_access_denied() {
    let fx = Fixture::new().await;
    let mut b = Browser::default();
    let to_consent = b
        .log_in(&fx, &fx.authorize(&fx.client, &[]), PASSWORD)
        .await;
    let consent = to_consent;
    let a = b
        .post(
            &fx.app,
            &fx.path("/consent"),
            &[
                ("req", &consent.hidden("req")),
                ("csrf", &consent.hidden("csrf")),
                ("decision", "deny"),
            ],
        )
        .await;
    assert_error_redirect(&a, &fx, "access_denied");
    // Nothing was remembered: the next request asks again.
    let again = b.get(&fx.app, &fx.authorize(&fx.client, &[])).await;
    let again = b.follow_to_consent(&fx, again).await;
    assert_eq!(again.status, 200);
    assert!(again.body.contains(r#"value="approve""#));
}

#[tokio::test]
async fn front_consent_without_the_csrf_cookie_is_refused() {
    let fx = Fixture::new().await;
    let mut b = Browser::default();
    let to_consent = b
        .log_in(&fx, &fx.authorize(&fx.client, &[]), PASSWORD)
        .await;
    let consent = to_consent;
    b.cookies.remove("gatehouse_csrf");
    let a = b
        .post(
            &fx.app,
            &fx.path("/consent"),
            &[
                ("req", &consent.hidden("req")),
                ("csrf", &consent.hidden("csrf")),
                ("decision", "approve"),
            ],
        )
        .await;
    assert_eq!(a.status, 400);
    assert!(a.location().is_none());
}

#[tokio::test]
async fn front_logout_with_a_valid_hint_ends_the_session_and_returns_with_state() {
    let fx = Fixture::new().await;
    let mut b = Browser::default();
    let done = b
        .log_in(&fx, &fx.authorize(&fx.first_party, &[]), PASSWORD)
        .await;
    let code = assert_code_response(&done, &fx);
    let sid = match codes::take(&fx.state.kv, fx.tenant.id, &code)
        .await
        .unwrap()
    {
        Presented::Fresh(g) => g.sid,
        other => panic!("{other:?}"),
    };
    let now = tokens::now();
    let hint = tokens::sign_id_token(
        &*fx.provider().await,
        Alg::RS256,
        &IdClaims {
            iss: fx.issuer(),
            sub: fx.user_id().await.to_string(),
            aud: fx.first_party.clone(),
            exp: now - 10,
            iat: now - 400,
            auth_time: now - 400,
            nonce: None,
            azp: fx.first_party.clone(),
            at_hash: None,
            sid: Some(sid),
            acr: None,
            amr: vec![],
            roles: None,
        },
    )
    .unwrap();
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("id_token_hint", hint.as_str()),
            ("post_logout_redirect_uri", LOGOUT_CB),
            ("state", "bye-1"),
        ])
        .finish();
    let session_before = b.cookies["gatehouse_session"].clone();
    let a = b.get(&fx.app, &fx.path(&format!("/logout?{query}"))).await;
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(
        a.location().unwrap().as_str(),
        format!("{LOGOUT_CB}?state=bye-1")
    );
    assert!(
        !b.cookies.contains_key("gatehouse_session"),
        "cookie expired"
    );
    // The record is gone too: the old cookie logs nobody in.
    b.cookies.insert("gatehouse_session".into(), session_before);
    let next = b.get(&fx.app, &fx.authorize(&fx.first_party, &[])).await;
    assert!(next.next().starts_with(&fx.path("/login?req=")));
}

#[tokio::test]
async fn front_logout_without_a_hint_asks_first_then_ends_the_session() {
    let fx = Fixture::new().await;
    let mut b = Browser::default();
    let done = b
        .log_in(&fx, &fx.authorize(&fx.first_party, &[]), PASSWORD)
        .await;
    assert_code_response(&done, &fx);
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("client_id", fx.first_party.as_str()),
            ("post_logout_redirect_uri", LOGOUT_CB),
            ("state", "bye-2"),
        ])
        .finish();
    let ask = b.get(&fx.app, &fx.path(&format!("/logout?{query}"))).await;
    assert_eq!(ask.status, 200, "{}", ask.body);
    assert!(ask.body.contains("Sign out?"));
    assert!(b.cookies.contains_key("gatehouse_session"), "not yet");
    let csp = ask.header("content-security-policy");
    assert!(
        csp.contains("form-action 'self' https://rp.example;"),
        "{csp}"
    );
    // Confirmed without the CSRF cookie: refused.
    let mut forged = b.clone();
    forged.cookies.remove("gatehouse_csrf");
    let form = [
        ("csrf", ask.hidden("csrf")),
        ("client_id", ask.hidden("client_id")),
        (
            "post_logout_redirect_uri",
            ask.hidden("post_logout_redirect_uri"),
        ),
        ("state", ask.hidden("state")),
        ("confirm", "yes".to_owned()),
    ];
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        forged
            .post(&fx.app, &fx.path("/logout"), &pairs)
            .await
            .status,
        400
    );
    let a = b.post(&fx.app, &fx.path("/logout"), &pairs).await;
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(
        a.location().unwrap().as_str(),
        format!("{LOGOUT_CB}?state=bye-2")
    );
    assert!(!b.cookies.contains_key("gatehouse_session"));
    let next = b.get(&fx.app, &fx.authorize(&fx.first_party, &[])).await;
    assert!(next.next().starts_with(&fx.path("/login?req=")));
    // Without a session and a return address: the signed-out page.
    let a = b.get(&fx.app, &fx.path("/logout")).await;
    assert_eq!(a.status, 200);
    assert!(a.body.contains("You are signed out"));
}

#[tokio::test]
async fn front_logout_to_an_unregistered_address_is_an_error_page() {
    let fx = Fixture::new().await;
    let mut b = Browser::default();
    for query in [
        vec![
            ("client_id", fx.first_party.as_str()),
            ("post_logout_redirect_uri", "https://evil.example/"),
        ],
        // A redirect URI is not a post-logout redirect URI.
        vec![
            ("client_id", fx.first_party.as_str()),
            ("post_logout_redirect_uri", CB),
        ],
        // No client named.
        vec![("post_logout_redirect_uri", LOGOUT_CB)],
        // A hint that was not issued here.
        vec![("id_token_hint", "e30.e30.c2ln")],
    ] {
        let q = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&query)
            .finish();
        let a = b.get(&fx.app, &fx.path(&format!("/logout?{q}"))).await;
        assert_eq!(a.status, 400, "{query:?}");
        assert!(a.headers.get("location").is_none());
    }
}

#[tokio::test]
async fn front_a_session_of_one_tenant_logs_nobody_in_at_another() {
    let a = Fixture::new().await;
    let b = a.sibling().await;
    let mut browser = Browser::default();
    let done = browser
        .log_in(&a, &a.authorize(&a.first_party, &[]), PASSWORD)
        .await;
    assert_code_response(&done, &a);
    let cookie = done
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("gatehouse_session="))
        .unwrap();
    assert!(
        cookie.contains(&format!("Path=/t/{};", a.slug())),
        "a browser keeps it to tenant A: {cookie}"
    );
    // Sent to tenant B anyway (same user name and password there): no session.
    let at_b = browser.get(&b.app, &b.authorize(&b.first_party, &[])).await;
    assert!(
        at_b.next().starts_with(&b.path("/login?req=")),
        "{:?}",
        at_b.location()
    );
    let at_b = browser
        .get(&b.app, &b.authorize(&b.first_party, &[("prompt", "none")]))
        .await;
    assert_error_redirect(&at_b, &b, "login_required");
    // Still valid at A.
    let at_a = browser.get(&a.app, &a.authorize(&a.first_party, &[])).await;
    assert_code_response(&at_a, &a);
}

#[tokio::test]
async fn front_pages_carry_the_security_headers_and_the_stylesheet_is_served() {
    let fx = Fixture::new().await;
    let mut b = Browser::default();
    let to_login = b.get(&fx.app, &fx.authorize(&fx.client, &[])).await;
    assert_eq!(to_login.header("cache-control"), "no-store");
    let page = b.get(&fx.app, &to_login.next()).await;
    assert_eq!(
        page.header("content-security-policy"),
        "default-src 'none'; style-src 'self'; img-src 'self' data: https:; form-action 'self' https://rp.example; frame-ancestors 'none'; base-uri 'none'"
    );
    assert_eq!(page.header("x-frame-options"), "DENY");
    assert_eq!(page.header("x-content-type-options"), "nosniff");
    assert_eq!(page.header("referrer-policy"), "no-referrer");
    assert_eq!(page.header("cache-control"), "no-store");
    assert_eq!(page.header("content-type"), "text/html; charset=utf-8");
    assert!(
        !page.body.contains("<script"),
        "no script on the login page"
    );
    let css_path = fx.path("/assets/gatehouse.css");
    assert!(page.body.contains(&format!(r#"href="{css_path}""#)));
    let csrf = page
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("gatehouse_csrf="))
        .unwrap();
    assert!(csrf.contains("HttpOnly") && csrf.contains("SameSite=Strict"));
    assert!(csrf.contains(&format!("Path=/t/{}", fx.slug())));

    let css = b.get(&fx.app, &css_path).await;
    assert_eq!(css.status, 200);
    assert_eq!(css.header("content-type"), "text/css; charset=utf-8");
    assert_eq!(css.header("cache-control"), "public, max-age=3600");
    assert!(css.body.contains(":focus-visible"));

    // An expired or invented pending request: an error page.
    let gone = b.get(&fx.app, &fx.path("/login?req=nope")).await;
    assert_eq!(gone.status, 400);
    assert_eq!(gone.header("x-frame-options"), "DENY");
}

#[tokio::test]
async fn front_authorize_accepts_a_form_post() {
    let fx = Fixture::new().await;
    let mut b = Browser::default();
    let a = b
        .post(
            &fx.app,
            &fx.path("/authorize"),
            &[
                ("response_type", "code"),
                ("client_id", &fx.client),
                ("redirect_uri", CB),
                ("scope", "openid"),
                ("state", "st-123"),
                ("login_hint", "alice@example.com"),
            ],
        )
        .await;
    assert!(a.next().starts_with(&fx.path("/login?req=")));
    let page = b.get(&fx.app, &a.next()).await;
    assert!(
        page.body.contains(r#"value="alice@example.com""#),
        "login_hint prefills the username"
    );
}

impl Fixture {
    /// Redeems a code at the grant layer for `client_id` (no PKCE: the
    /// fixture's confidential clients), as the token endpoint would.
    async fn redeem(&self, client_id: &str, code: &str) -> gatehouse_oidc::grants::TokenResponse {
        use gatehouse_oidc::grants::{self, Ctx, TokenParams};
        let provider = self.provider().await;
        let mut tx = self.state.db.tenant_tx(self.tenant.id).await.unwrap();
        let client = clients::find(&mut tx, client_id).await.unwrap().unwrap();
        tx.commit().await.unwrap();
        let ctx = Ctx {
            provider: &provider,
            db: &self.state.db,
            kv: &self.state.kv,
        };
        let params = TokenParams {
            grant_type: Some("authorization_code".into()),
            code: Some(code.into()),
            redirect_uri: Some(CB.into()),
            ..TokenParams::default()
        };
        grants::exchange(ctx, &client, &params).await.unwrap()
    }

    /// Whether a refresh token is still usable.
    async fn refresh_active(&self, token: &str) -> bool {
        let mut tx = self.state.db.tenant_tx(self.tenant.id).await.unwrap();
        let found = gatehouse_oidc::refresh::find(&mut tx, token)
            .await
            .unwrap()
            .unwrap();
        tx.commit().await.unwrap();
        found.is_active()
    }
}

#[tokio::test]
async fn front_logout_revokes_the_sessions_tokens_except_offline_ones() {
    let fx = Fixture::new().await;
    let mut b = Browser::default();
    let done = b
        .log_in(&fx, &fx.authorize(&fx.first_party, &[]), PASSWORD)
        .await;
    let online = fx
        .redeem(&fx.first_party, &assert_code_response(&done, &fx))
        .await;
    // The same session, a second grant with offline_access (a first-party
    // client needs no consent for it, OpenID Connect Core §11).
    let again = b
        .get(
            &fx.app,
            &fx.authorize(&fx.first_party, &[("scope", "openid offline_access")]),
        )
        .await;
    let offline = fx
        .redeem(&fx.first_party, &assert_code_response(&again, &fx))
        .await;
    assert_eq!(offline.scope, "openid offline_access");
    let p = fx.provider().await;
    let kv = &fx.state.kv;
    let id = tokens::verify_id_token_hint(&p, online.id_token.as_deref().unwrap()).unwrap();
    assert_eq!(
        id.acr.as_deref(),
        Some(tokens::ACR_ONE_FACTOR),
        "password only"
    );
    assert_eq!(id.amr, ["pwd"]);
    for t in [&online, &offline] {
        assert!(
            tokens::verify_access_token(kv, &fx.state.db, &p, &t.access_token)
                .await
                .is_ok()
        );
        assert!(fx.refresh_active(t.refresh_token.as_deref().unwrap()).await);
    }

    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("id_token_hint", online.id_token.as_deref().unwrap())])
        .finish();
    let a = b.get(&fx.app, &fx.path(&format!("/logout?{query}"))).await;
    assert_eq!(a.status, 200, "signed out: {}", a.body);

    assert!(
        tokens::verify_access_token(kv, &fx.state.db, &p, &online.access_token)
            .await
            .is_err(),
        "the session's access token ends with it"
    );
    assert!(
        !fx.refresh_active(online.refresh_token.as_deref().unwrap())
            .await
    );
    assert!(
        tokens::verify_access_token(kv, &fx.state.db, &p, &offline.access_token)
            .await
            .is_ok(),
        "offline access outlives the session"
    );
    assert!(
        fx.refresh_active(offline.refresh_token.as_deref().unwrap())
            .await
    );
}

#[tokio::test]
async fn front_offline_access_asks_a_third_party_client_for_consent_every_time() {
    let fx = Fixture::new().await;
    let mut b = Browser::default();
    let scope = [("scope", "openid offline_access")];
    let consent = b
        .log_in(&fx, &fx.authorize(&fx.client, &scope), PASSWORD)
        .await;
    assert_eq!(consent.status, 200, "{}", consent.body);
    let approve = |c: &Answer| {
        [
            ("req", c.hidden("req")),
            ("csrf", c.hidden("csrf")),
            ("decision", "approve".to_owned()),
        ]
    };
    let form = approve(&consent);
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let done = b.post(&fx.app, &fx.path("/consent"), &form).await;
    assert_code_response(&done, &fx);
    // Without offline_access the remembered consent suffices...
    let online = b
        .get(&fx.app, &fx.authorize(&fx.client, &[("scope", "openid")]))
        .await;
    assert_code_response(&online, &fx);
    // ...with it, the user is asked again, and prompt=none cannot skip that.
    let offline = b.get(&fx.app, &fx.authorize(&fx.client, &scope)).await;
    let offline = b.follow_to_consent(&fx, offline).await;
    assert_eq!(offline.status, 200);
    assert!(offline.body.contains(r#"value="approve""#));
    let silent = b
        .get(
            &fx.app,
            &fx.authorize(&fx.client, &[scope[0], ("prompt", "none")]),
        )
        .await;
    assert_error_redirect(&silent, &fx, "consent_required");
}

#[tokio::test]
async fn front_pages_speak_the_language_of_ui_locales_the_switch_or_the_browser() {
    let fx = Fixture::new().await;
    let mut b = Browser {
        accept_language: Some("de-CH, de;q=0.9, en;q=0.5".into()),
        ..Browser::default()
    };
    // Accept-Language: German.
    let to_login = b.get(&fx.app, &fx.authorize(&fx.client, &[])).await;
    let login = b.get(&fx.app, &to_login.next()).await;
    assert!(login.body.contains(r#"<html lang="de">"#), "{}", login.body);
    assert!(login.body.contains(">Anmelden</button>"));
    assert!(login.body.contains("Benutzername"));
    // A failed attempt answers in German too.
    let failed = b
        .post(
            &fx.app,
            &fx.path("/login"),
            &[
                ("req", &login.hidden("req")),
                ("csrf", &login.hidden("csrf")),
                ("username", "alice"),
                ("password", "wrong"),
            ],
        )
        .await;
    assert!(failed
        .body
        .contains("Benutzername oder Passwort ist falsch."));
    // Its language switch leads back to the sign-in request, not to the
    // POST's bare path.
    let again = format!("/login?req={}", login.hidden("req"));
    let back = url::form_urlencoded::byte_serialize(fx.path(&again).as_bytes()).collect::<String>();
    assert!(failed.body.contains(&back), "{}", failed.body);

    // ui_locales outranks the browser.
    let to_login = b
        .get(
            &fx.app,
            &fx.authorize(&fx.client, &[("ui_locales", "fr-CA en")]),
        )
        .await;
    let login_url = to_login.next();
    let login = b.get(&fx.app, &login_url).await;
    assert!(login.body.contains(r#"<html lang="fr">"#));
    assert!(login.body.contains(">Se connecter</button>"));
    // The switch lists every offered language, each in itself, linking back.
    assert!(login.body.contains(">Deutsch</a>") && login.body.contains(">English</a>"));
    let back = url::form_urlencoded::byte_serialize(login_url.as_bytes()).collect::<String>();
    assert!(
        login
            .body
            .contains(&format!("/language?lang=de&amp;return={back}"))
            || login
                .body
                .contains(&format!("/language?lang=de&#38;return={back}")),
        "{}",
        login.body
    );

    // The switch: a cookie, back to the page, and the pending request now
    // speaks the chosen language although it asked for French.
    let switched = b
        .get(
            &fx.app,
            &fx.path(&format!("/language?lang=en&return={back}")),
        )
        .await;
    assert_eq!(switched.status, 303);
    assert_eq!(switched.next(), login_url);
    assert_eq!(b.cookies["gatehouse_lang"], "en");
    let login = b.get(&fx.app, &login_url).await;
    assert!(login.body.contains(r#"<html lang="en">"#));
    assert!(login.body.contains(">Sign in</button>"));
    // The cookie outranks Accept-Language on pages without ui_locales.
    let to_login = b.get(&fx.app, &fx.authorize(&fx.client, &[])).await;
    let login = b.get(&fx.app, &to_login.next()).await;
    assert!(login.body.contains(r#"<html lang="en">"#));

    // The switch refuses other sites, other tenants and unknown languages.
    for bad in [
        "/language?lang=de&return=https%3A%2F%2Fevil.example%2F".to_owned(),
        "/language?lang=de&return=%2F%2Fevil.example%2F".to_owned(),
        "/language?lang=de&return=%2Ft%2Fother%2Flogin".to_owned(),
        format!("/language?lang=xx&return={back}"),
        "/language".to_owned(),
    ] {
        let a = b.get(&fx.app, &fx.path(&bad)).await;
        assert_eq!(a.status, 400, "{bad}");
        assert!(a.location().is_none());
    }
}

#[tokio::test]
async fn front_a_tenant_offering_one_language_shows_no_switch() {
    let fx = Fixture::new().await;
    gatehouse_tenancy::settings::put_section(
        &fx.state.db,
        &fx.state.bus,
        &fx.tenant,
        "application",
        serde_json::json!({ "locales": ["fr"], "default_locale": "fr" }),
    )
    .await
    .unwrap();
    fx.state.tenancy.pool.evict(fx.tenant.id).await;
    let mut b = Browser {
        accept_language: Some("de".into()),
        ..Browser::default()
    };
    let to_login = b.get(&fx.app, &fx.authorize(&fx.client, &[])).await;
    let login = b.get(&fx.app, &to_login.next()).await;
    assert!(
        login.body.contains(r#"<html lang="fr">"#),
        "the tenant's default"
    );
    assert!(!login.body.contains("/language?"));
    let (_, body, _) = send(
        &fx.app,
        Request::get(fx.path("/.well-known/openid-configuration"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["ui_locales_supported"], serde_json::json!(["fr"]));
}

#[tokio::test]
async fn front_pages_wear_the_tenants_brand_through_a_versioned_stylesheet() {
    let fx = Fixture::new().await;
    let plain = Browser::default()
        .get(&fx.app, &fx.path("/login?req=unknown"))
        .await;
    assert!(
        !plain.body.contains("/assets/brand.css"),
        "no brand, no stylesheet"
    );
    gatehouse_tenancy::settings::put_section(
        &fx.state.db,
        &fx.state.bus,
        &fx.tenant,
        "branding",
        serde_json::json!({
            "company_name": "Acme <Labs>",
            "logo_url": "https://cdn.acme.example/logo.svg",
            "logo_dark_url": "https://cdn.acme.example/logo-dark.svg",
            "favicon_url": "https://cdn.acme.example/favicon.png",
            "primary_color": "#0f766e",
            "primary_color_dark": "#5eead4",
            "font_family": "Inter, sans-serif"
        }),
    )
    .await
    .unwrap();
    fx.state.tenancy.pool.evict(fx.tenant.id).await;
    let page = Browser::default()
        .get(&fx.app, &fx.path("/login?req=unknown"))
        .await;
    assert!(page.body.contains("Acme &#60;Labs&#62;") || page.body.contains("Acme &lt;Labs&gt;"));
    assert!(page
        .body
        .contains(r#"src="https://cdn.acme.example/logo.svg""#));
    assert!(page
        .body
        .contains(r#"srcset="https://cdn.acme.example/logo-dark.svg""#));
    assert!(page
        .body
        .contains(r#"href="https://cdn.acme.example/favicon.png""#));
    let start = page
        .body
        .find("/assets/brand.css?v=")
        .expect("the brand stylesheet");
    let href = &page.body[start..page.body[start..].find('"').unwrap() + start];
    let css = Browser::default().get(&fx.app, &fx.path(href)).await;
    assert_eq!(css.status, 200);
    assert!(css.header("content-type").starts_with("text/css"));
    assert!(css.header("cache-control").contains("max-age"));
    assert!(css.body.contains("--accent: #0f766e;"));
    assert!(css.body.contains("--accent-text: #ffffff;"));
    assert!(css.body.contains("--font: Inter, sans-serif;"));
    assert!(css.body.contains("prefers-color-scheme: dark"));
    // No inline style anywhere: the CSP has no unsafe-inline.
    assert!(!page.body.contains("style="));
    assert!(!page
        .header("content-security-policy")
        .contains("unsafe-inline"));
}

#[tokio::test]
async fn front_a_nul_character_in_a_form_query_or_path_is_a_clear_400() {
    let fx = Fixture::new().await;
    let mut b = Browser::default();
    let to_login = b.get(&fx.app, &fx.authorize(&fx.first_party, &[])).await;
    let login_page = b.get(&fx.app, &to_login.next()).await;
    let (req, csrf) = (login_page.hidden("req"), login_page.hidden("csrf"));
    for (uri, form) in [
        (
            fx.path("/login"),
            vec![
                ("req", req.as_str()),
                ("csrf", csrf.as_str()),
                ("username", "ali\0ce"),
                ("password", PASSWORD),
            ],
        ),
        (
            fx.path("/token"),
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", "x\0"),
                ("client_secret", "y"),
            ],
        ),
    ] {
        let a = b.post(&fx.app, &uri, &form).await;
        assert_eq!(a.status, 400, "{uri}: {}", a.body);
        let body: serde_json::Value = serde_json::from_str(&a.body).unwrap();
        assert_eq!(body["error"], "invalid_request", "{uri}");
    }
    for uri in [
        fx.path("/admin/users/%00"),
        format!("{}&login_hint=a%00", fx.authorize(&fx.first_party, &[])),
    ] {
        assert_eq!(b.get(&fx.app, &uri).await.status, 400, "{uri}");
    }
    // The same sign-in without it works.
    let a = b
        .post(
            &fx.app,
            &fx.path("/login"),
            &[
                ("req", &req),
                ("csrf", &csrf),
                ("username", "alice"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.body);
}
