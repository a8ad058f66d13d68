//! The second step of sign-in (TOTP, recovery codes, enrolment required by
//! policy) and the account page, in-process.

use std::time::Duration;

use gatehouse_core::testing::smtp::SmtpSink;
use gatehouse_oidc::codes::{self, Presented};
use gatehouse_oidc::tokens;
use serde_json::json;
use totp_rs::Totp;

use crate::browser::*;

async fn fixture(sink: Option<&SmtpSink>, security: serde_json::Value) -> Fixture {
    Fixture::with_security(sink, security).await
}

/// The code of `secret` (base32) for the time step `offset` steps from now.
fn code(secret: &str, offset: i64) -> String {
    let secret = secret.replace(' ', "");
    let app = Totp::from_url(format!(
        "otpauth://totp/Acme:alice?secret={secret}&issuer=Acme&algorithm=SHA1&digits=6&period=30"
    ))
    .unwrap();
    let now = u64::try_from(tokens::now() + offset * 30).unwrap();
    app.generate(now).to_string()
}

fn between<'a>(body: &'a str, start: &str, end: &str) -> &'a str {
    let i = body
        .find(start)
        .unwrap_or_else(|| panic!("no {start} in {body}"))
        + start.len();
    let j = body[i..].find(end).unwrap() + i;
    &body[i..j]
}

/// Signs in (first-party client) and returns the browser, signed in.
async fn signed_in(fx: &Fixture) -> Browser {
    let mut b = Browser::default();
    let done = b.log_in_as(fx, "alice", PASSWORD).await;
    assert_eq!(done.status, 303, "{}", done.body);
    b
}

/// Enrols TOTP from the account page; returns the secret and the codes.
async fn enrol(fx: &Fixture, b: &mut Browser) -> (String, Vec<String>) {
    let page = b.get(&fx.app, &fx.path("/account/totp")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<svg"), "a server-side QR code");
    let secret = between(&page.body, r#"<p class="secret"><code>"#, "</code>").to_owned();
    let csrf = page.hidden("csrf");
    let wrong = b
        .post(
            &fx.app,
            &fx.path("/account/totp"),
            &[("req", ""), ("csrf", &csrf), ("code", "000000")],
        )
        .await;
    assert_eq!(wrong.status, 422);
    // The page made a new secret: read it again.
    let secret2 = between(&wrong.body, r#"<p class="secret"><code>"#, "</code>").to_owned();
    assert_ne!(secret, secret2);
    let codes_page = b
        .post(
            &fx.app,
            &fx.path("/account/totp"),
            &[("req", ""), ("csrf", &csrf), ("code", &code(&secret2, -1))],
        )
        .await;
    assert_eq!(codes_page.status, 200, "{}", codes_page.body);
    let codes: Vec<String> = codes_page
        .body
        .split("<li><code>")
        .skip(1)
        .map(|c| c.split("</code>").next().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10);
    let back = b
        .post(&fx.app, &fx.path("/account/continue"), &[("csrf", &csrf)])
        .await;
    assert_eq!(back.status, 303);
    (secret2, codes)
}

/// The grant behind an authorization response.
async fn grant_of(fx: &Fixture, a: &Answer) -> gatehouse_oidc::codes::CodeGrant {
    let code = a.params()["code"].clone();
    match codes::take(&fx.state.kv, fx.tenant.id, &code)
        .await
        .unwrap()
    {
        Presented::Fresh(g) => *g,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn account_totp_enrolled_on_the_account_page_is_asked_at_sign_in() {
    let fx = fixture(None, json!({})).await;
    let mut owner = signed_in(&fx).await;
    let (secret, recovery) = enrol(&fx, &mut owner).await;
    let page = owner.get(&fx.app, &fx.path("/account?done=recovery")).await;
    assert!(
        page.body.contains("Recovery codes left: 10"),
        "{}",
        page.body
    );
    // The owner's session is from before: one factor. acr_values asking
    // for two steps the session up (sign in again); asking for either does not.
    let two = tokens::ACR_TWO_FACTORS;
    let up = owner
        .get(
            &fx.app,
            &fx.authorize(&fx.first_party, &[("acr_values", two)]),
        )
        .await;
    assert!(up.next().starts_with(&fx.path("/login?req=")), "step-up");
    let either = format!("{} {two}", tokens::ACR_ONE_FACTOR);
    let as_is = owner
        .get(
            &fx.app,
            &fx.authorize(&fx.first_party, &[("acr_values", &either)]),
        )
        .await;
    assert!(as_is.params().contains_key("code"));
    assert_eq!(
        grant_of(&fx, &as_is).await.acr.as_deref(),
        Some(tokens::ACR_ONE_FACTOR)
    );

    // A new sign-in: the password, then the code.
    let mut b = Browser::default();
    let step = b.log_in_as(&fx, "alice", PASSWORD).await;
    assert_eq!(step.status, 303);
    assert!(step.next().starts_with(&fx.path("/login/mfa?req=")));
    assert!(step.sets_cookie("gatehouse_mfa"));
    assert!(
        !step.sets_cookie("gatehouse_session"),
        "no session before the second step"
    );
    let page = b.get(&fx.app, &step.next()).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(r#"autocomplete="one-time-code""#));
    // Its forms end at the client when the sign-in completes.
    assert!(page
        .header("content-security-policy")
        .contains("form-action 'self' https://rp.example"));
    let req = page.hidden("req");
    let csrf = page.hidden("csrf");
    // Another browser cannot finish this sign-in, even with the right code.
    let mut other = Browser::default();
    other.cookies.insert("gatehouse_csrf".into(), csrf.clone());
    let stolen = other
        .post(
            &fx.app,
            &fx.path("/login/mfa"),
            &[
                ("req", &req),
                ("csrf", &csrf),
                ("method", "totp"),
                ("code", &code(&secret, 0)),
            ],
        )
        .await;
    assert_eq!(stolen.status, 400);
    let wrong = b
        .post(
            &fx.app,
            &fx.path("/login/mfa"),
            &[
                ("req", &req),
                ("csrf", &csrf),
                ("method", "totp"),
                ("code", "123456"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.body.contains("That code is not right."));
    let done = b
        .post(
            &fx.app,
            &fx.path("/login/mfa"),
            &[
                ("req", &req),
                ("csrf", &csrf),
                ("method", "totp"),
                ("code", &code(&secret, 0)),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(done.sets_cookie("gatehouse_session"));
    let grant = grant_of(&fx, &done).await;
    assert_eq!(grant.amr, ["pwd", "otp"]);
    assert_eq!(grant.acr.as_deref(), Some(tokens::ACR_TWO_FACTORS));

    // A recovery code works once instead.
    let mut c = Browser::default();
    let step = c.log_in_as(&fx, "alice", PASSWORD).await;
    let page = c
        .get(&fx.app, &format!("{}&method=recovery", step.next()))
        .await;
    assert!(page.body.contains("recovery"));
    let form = |code: &str| {
        vec![
            ("req".to_owned(), page.hidden("req")),
            ("csrf".to_owned(), page.hidden("csrf")),
            ("method".to_owned(), "recovery".to_owned()),
            ("code".to_owned(), code.to_owned()),
        ]
    };
    let post = |c: &mut Browser, form: Vec<(String, String)>| {
        let mut c = c.clone();
        let app = fx.app.clone();
        let path = fx.path("/login/mfa");
        async move {
            let f: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            c.post(&app, &path, &f).await
        }
    };
    let used = recovery[3].to_uppercase().replace('-', " ");
    let done = post(&mut c, form(&used)).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(grant_of(&fx, &done).await.amr, ["pwd", "mfa"]);
    let mut d = Browser::default();
    let step = d.log_in_as(&fx, "alice", PASSWORD).await;
    let page = d
        .get(&fx.app, &format!("{}&method=recovery", step.next()))
        .await;
    let again = d
        .post(
            &fx.app,
            &fx.path("/login/mfa"),
            &[
                ("req", &page.hidden("req")),
                ("csrf", &page.hidden("csrf")),
                ("method", "recovery"),
                ("code", &recovery[3]),
            ],
        )
        .await;
    assert_eq!(again.status, 422, "a recovery code works once");
}

#[tokio::test]
async fn account_a_required_second_factor_is_enrolled_at_the_next_sign_in() {
    let fx = fixture(None, json!({ "mfa": "required" })).await;
    let mut b = Browser::default();
    let step = b.log_in_as(&fx, "alice", PASSWORD).await;
    assert!(
        step.next().starts_with(&fx.path("/login/mfa/setup?req=")),
        "{:?}",
        step.location()
    );
    let page = b.get(&fx.app, &step.next()).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page
        .body
        .contains("asks for a second step at every sign-in"));
    let secret = between(&page.body, r#"<p class="secret"><code>"#, "</code>").to_owned();
    let codes = b
        .post(
            &fx.app,
            &fx.path("/login/mfa/setup"),
            &[
                ("req", &page.hidden("req")),
                ("csrf", &page.hidden("csrf")),
                ("code", &code(&secret, 0)),
            ],
        )
        .await;
    assert_eq!(codes.status, 200, "{}", codes.body);
    assert_eq!(codes.body.matches("<li><code>").count(), 10);
    let done = b
        .post(
            &fx.app,
            &fx.path("/login/mfa/setup/done"),
            &[
                ("req", &codes.hidden("req")),
                ("csrf", &codes.hidden("csrf")),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(grant_of(&fx, &done).await.amr, ["pwd", "otp"]);
}

#[tokio::test]
async fn account_page_needs_a_session_and_returns_after_sign_in() {
    let fx = fixture(None, json!({})).await;
    let mut b = Browser::default();
    let a = b.get(&fx.app, &fx.path("/account")).await;
    assert!(a.next().starts_with(&fx.path("/login?req=")));
    let login = b.get(&fx.app, &a.next()).await;
    assert!(
        !login.body.contains("to continue to"),
        "no application named"
    );
    let done = b
        .post(
            &fx.app,
            &fx.path("/login"),
            &[
                ("req", &login.hidden("req")),
                ("csrf", &login.hidden("csrf")),
                ("username", "alice"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(done.next(), fx.path("/account"));
    let page = b.get(&fx.app, &fx.path("/account")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Signed in as alice."));
    // The profile form saves.
    let saved = b
        .post(
            &fx.app,
            &fx.path("/account/profile"),
            &[
                ("csrf", &page.hidden("csrf")),
                ("name", "Alice Liddell"),
                ("given_name", "Alice"),
                ("family_name", "Liddell"),
                ("locale", "de"),
            ],
        )
        .await;
    assert_eq!(saved.next(), fx.path("/account?done=profile"));
    let page = b.get(&fx.app, &saved.next()).await;
    assert!(page.body.contains("Your profile is saved."));
    assert!(page.body.contains(r#"value="Alice Liddell""#));
    // A form without the CSRF cookie changes nothing.
    let mut forged = Browser::default();
    forged.cookies.insert(
        "gatehouse_session".into(),
        b.cookies["gatehouse_session"].clone(),
    );
    let refused = forged
        .post(
            &fx.app,
            &fx.path("/account/profile"),
            &[("csrf", &page.hidden("csrf")), ("name", "Mallory")],
        )
        .await;
    assert_eq!(refused.status, 400);
}

#[tokio::test]
async fn account_password_change_ends_every_other_session() {
    let fx = fixture(None, json!({})).await;
    let mut a = signed_in(&fx).await;
    let mut other = signed_in(&fx).await;
    let page = a.get(&fx.app, &fx.path("/account")).await;
    assert_eq!(page.body.matches("this browser").count(), 1);
    assert!(
        page.body.contains("Sign out everywhere else"),
        "two sessions"
    );
    let change = |current: &str, new: &str| {
        vec![
            ("csrf".to_owned(), page.hidden("csrf")),
            ("current".to_owned(), current.to_owned()),
            ("password".to_owned(), new.to_owned()),
            ("confirm".to_owned(), new.to_owned()),
        ]
    };
    let post = |b: &mut Browser, form: Vec<(String, String)>| {
        let mut b2 = b.clone();
        let app = fx.app.clone();
        let path = fx.path("/account/password");
        async move {
            let f: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let answer = b2.post(&app, &path, &f).await;
            (answer, b2)
        }
    };
    let (wrong, _) = post(&mut a, change("not it", "a fresh long passphrase")).await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.body.contains("The current password is not right."));
    let (done, a2) = post(&mut a, change(PASSWORD, "a fresh long passphrase")).await;
    assert_eq!(done.status, 303, "{}", done.body);
    a = a2;
    assert!(
        done.sets_cookie("gatehouse_session"),
        "this browser continues in a new session"
    );
    // This browser is still signed in; the other is not.
    let mine = a.get(&fx.app, &fx.authorize(&fx.first_party, &[])).await;
    assert!(mine.params().contains_key("code"));
    let theirs = other
        .get(&fx.app, &fx.authorize(&fx.first_party, &[]))
        .await;
    assert!(theirs.next().starts_with(&fx.path("/login?req=")));
}

#[tokio::test]
async fn account_sessions_are_listed_and_ended_one_by_one() {
    let fx = fixture(None, json!({})).await;
    let mut a = signed_in(&fx).await;
    let mut other = signed_in(&fx).await;
    let page = a.get(&fx.app, &fx.path("/account")).await;
    let sids: Vec<String> = page
        .body
        .split(r#"name="sid" value=""#)
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_owned())
        .collect();
    assert_eq!(sids.len(), 2);
    // The other session is the one not marked as this browser: end both
    // candidates' other by trying the one that does not sign us out.
    let own_page_sid = between(
        &page.body,
        r#"<span class="badge">this browser</span>"#,
        "</li>",
    );
    let other_sid = sids
        .iter()
        .find(|s| !own_page_sid.contains(s.as_str()))
        .unwrap()
        .clone();
    let ended = a
        .post(
            &fx.app,
            &fx.path("/account/sessions/end"),
            &[("csrf", &page.hidden("csrf")), ("sid", &other_sid)],
        )
        .await;
    assert_eq!(ended.next(), fx.path("/account?done=session-ended"));
    let theirs = other
        .get(&fx.app, &fx.authorize(&fx.first_party, &[]))
        .await;
    assert!(theirs.next().starts_with(&fx.path("/login?req=")));
    let mine = a.get(&fx.app, &fx.authorize(&fx.first_party, &[])).await;
    assert!(mine.params().contains_key("code"));
}

#[tokio::test]
async fn account_access_taken_back_from_an_application_asks_consent_again() {
    let fx = fixture(None, json!({})).await;
    let mut b = Browser::default();
    let consent = b
        .log_in(&fx, &fx.authorize(&fx.client, &[]), PASSWORD)
        .await;
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
    assert!(done.params().contains_key("code"));
    let page = b.get(&fx.app, &fx.path("/account")).await;
    assert!(
        page.body.contains("Photo &#60;Prints&#62;") || page.body.contains("Photo &lt;Prints&gt;")
    );
    assert!(page.body.contains("See your profile"));
    let revoked = b
        .post(
            &fx.app,
            &fx.path("/account/apps/revoke"),
            &[("csrf", &page.hidden("csrf")), ("client_id", &fx.client)],
        )
        .await;
    assert_eq!(revoked.next(), fx.path("/account?done=app-revoked"));
    let page = b.get(&fx.app, &revoked.next()).await;
    assert!(page
        .body
        .contains("No application has access to your account."));
    let again = b.get(&fx.app, &fx.authorize(&fx.client, &[])).await;
    let again = b.follow_to_consent(&fx, again).await;
    assert!(again.body.contains(r#"value="approve""#), "asked again");
}

#[tokio::test]
async fn account_email_changes_only_when_the_new_address_is_proved() {
    let sink = SmtpSink::start().await;
    let fx = fixture(Some(&sink), json!({})).await;
    let mut b = signed_in(&fx).await;
    let page = b.get(&fx.app, &fx.path("/account")).await;
    let sent = b
        .post(
            &fx.app,
            &fx.path("/account/email"),
            &[
                ("csrf", &page.hidden("csrf")),
                ("email", "alice@new.example"),
            ],
        )
        .await;
    assert_eq!(sent.next(), fx.path("/account?done=email-sent"));
    let page = b.get(&fx.app, &sent.next()).await;
    assert!(
        page.body.contains("alice@example.com"),
        "unchanged until proved"
    );
    let mail = sink.next_mail(Duration::from_secs(10)).await;
    assert_eq!(mail.to, ["alice@new.example"]);
    let link = mail
        .link_starting_with(&format!("{}/account/email/confirm?token=", fx.issuer()))
        .unwrap();
    let u = url::Url::parse(&link).unwrap();
    let confirm = b
        .get(&fx.app, &format!("{}?{}", u.path(), u.query().unwrap()))
        .await;
    assert_eq!(confirm.status, 200);
    let done = b
        .post(
            &fx.app,
            &fx.path("/account/email/confirm"),
            &[
                ("token", &confirm.hidden("token")),
                ("req", ""),
                ("csrf", &confirm.hidden("csrf")),
            ],
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let page = b.get(&fx.app, &fx.path("/account")).await;
    assert!(page.body.contains("alice@new.example"));
    assert!(page.body.contains("confirmed"));
}
