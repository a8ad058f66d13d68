//! Sign-up, email verification, password reset and brute-force throttling,
//! in-process, with the mail captured by an SMTP sink the test starts.

use std::time::Duration;

use gatehouse_core::testing::smtp::{CapturedMail, SmtpSink};
use gatehouse_oidc::users;
use serde_json::json;

use crate::browser::*;

const MAIL_WAIT: Duration = Duration::from_secs(10);
const NEW_PASSWORD: &str = "a brand new passphrase of mine";

async fn fixture(sink: &SmtpSink, security: serde_json::Value) -> Fixture {
    Fixture::with_security(Some(sink), security).await
}

fn path_of(link: &str) -> String {
    let u = url::Url::parse(link).unwrap();
    format!("{}?{}", u.path(), u.query().unwrap_or_default())
}

async fn sign_up(fx: &Fixture, b: &mut Browser, email: &str, password: &str) -> Answer {
    let page = b.get(&fx.app, &fx.path("/signup")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    b.post(
        &fx.app,
        &fx.path("/signup"),
        &[
            ("req", ""),
            ("csrf", &page.hidden("csrf")),
            ("name", "Bob Example"),
            ("email", email),
            ("password", password),
        ],
    )
    .await
}

fn link(mail: &CapturedMail, fx: &Fixture, path: &str) -> String {
    let prefix = format!("{}{path}", fx.issuer());
    mail.link_starting_with(&prefix)
        .unwrap_or_else(|| panic!("no {prefix} link in {:?}", mail.text))
}

async fn user(fx: &Fixture, login: &str) -> Option<users::User> {
    let mut tx = fx.state.db.tenant_tx(fx.tenant.id).await.unwrap();
    let u = users::find_by_login(&mut tx, login).await.unwrap();
    tx.commit().await.unwrap();
    u
}

#[tokio::test]
async fn accounts_sign_up_sends_a_single_use_verification_link() {
    let sink = SmtpSink::start().await;
    let fx = fixture(&sink, json!({ "signup": "open" })).await;
    let mut b = Browser::default();
    let done = sign_up(&fx, &mut b, "bob@example.com", "my own long passphrase").await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("Check your email"));
    let mail = sink.next_mail(MAIL_WAIT).await;
    assert_eq!(mail.to, ["bob@example.com"]);
    assert_eq!(
        mail.subject.as_deref(),
        Some("Confirm your email address for Acme Corp")
    );
    assert!(mail
        .html
        .as_deref()
        .unwrap_or_default()
        .contains("Acme Corp"));
    let created = user(&fx, "bob@example.com").await.unwrap();
    assert!(!created.email_verified);
    assert_eq!(created.username, "bob@example.com");

    // The GET shows a button and uses nothing up.
    let verify = path_of(&link(&mail, &fx, "/verify-email?token="));
    let page = b.get(&fx.app, &verify).await;
    assert_eq!(page.status, 200);
    let page = b.get(&fx.app, &verify).await;
    assert!(page.body.contains("bob@example.com"));
    let form = [
        ("token", page.hidden("token")),
        ("req", page.hidden("req")),
        ("csrf", page.hidden("csrf")),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let confirmed = b.post(&fx.app, &fx.path("/verify-email"), &form).await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    assert!(confirmed.body.contains("Email address confirmed"));
    assert!(user(&fx, "bob@example.com").await.unwrap().email_verified);
    // Single use.
    let again = b.post(&fx.app, &fx.path("/verify-email"), &form).await;
    assert_eq!(again.status, 400);
    assert!(again.body.contains("This link cannot be used"));
    // The new account signs in.
    let done = b
        .log_in_as(&fx, "bob@example.com", "my own long passphrase")
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
}

#[tokio::test]
async fn accounts_sign_up_does_not_reveal_an_existing_address() {
    let sink = SmtpSink::start().await;
    let fx = fixture(&sink, json!({ "signup": "open" })).await;
    let mut b = Browser::default();
    // The fixture's user has alice@example.com.
    let done = sign_up(&fx, &mut b, "ALICE@example.com", "another long passphrase").await;
    let fresh = sign_up(&fx, &mut b, "carol@example.com", "another long passphrase").await;
    assert_eq!(done.status, fresh.status);
    assert_eq!(
        done.body.replace("ALICE@example.com", "X"),
        fresh.body.replace("carol@example.com", "X")
    );
    let mut subjects = vec![
        sink.next_mail(MAIL_WAIT).await.subject.unwrap_or_default(),
        sink.next_mail(MAIL_WAIT).await.subject.unwrap_or_default(),
    ];
    subjects.sort();
    assert_eq!(
        subjects,
        [
            "Confirm your email address for Acme Corp",
            "Your account at Acme Corp"
        ]
    );
    // The existing account is untouched: its password still works.
    assert_eq!(b.log_in_as(&fx, "alice", PASSWORD).await.status, 303);
}

#[tokio::test]
async fn accounts_sign_up_follows_the_tenant_policy_and_the_password_rules() {
    let sink = SmtpSink::start().await;
    let closed = fixture(&sink, json!({})).await;
    let mut b = Browser::default();
    let page = b.get(&closed.app, &closed.path("/signup")).await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("Sign-up is not available"));

    let fx = fixture(
        &sink,
        json!({ "signup": "domains", "signup_domains": ["acme.example"], "password_min_length": 14 }),
    )
    .await;
    let outside = sign_up(&fx, &mut b, "eve@other.example", "a long enough passphrase").await;
    assert_eq!(outside.status, 422);
    assert!(outside.body.contains("not allowed here"));
    let short = sign_up(&fx, &mut b, "dan@acme.example", "short pass").await;
    assert_eq!(short.status, 422);
    assert!(
        short.body.contains("at least 14 characters"),
        "{}",
        short.body
    );
    let common = sign_up(&fx, &mut b, "dan@acme.example", "1QAZ2wsx3edc4RFV").await;
    assert_eq!(common.status, 422);
    assert!(common.body.contains("too common"), "{}", common.body);
    assert!(
        user(&fx, "dan@acme.example").await.is_none(),
        "nothing created"
    );
    assert!(sink
        .try_next_mail(Duration::from_millis(300))
        .await
        .is_none());
    let long: String = "correct horse battery staple ".repeat(3);
    let ok = sign_up(&fx, &mut b, "dan@acme.example", long.trim()).await;
    assert_eq!(
        ok.status,
        200,
        "a {}-character passphrase is welcome",
        long.len()
    );
}

#[tokio::test]
async fn accounts_password_reset_never_tells_whether_the_account_exists() {
    let sink = SmtpSink::start().await;
    let fx = fixture(&sink, json!({})).await;
    let mut b = Browser::default();
    let ask = |login: &'static str| {
        let mut b = b.clone();
        let app = fx.app.clone();
        let form_path = fx.path("/password/forgot");
        async move {
            let page = b.get(&app, &form_path).await;
            b.post(
                &app,
                &form_path,
                &[
                    ("req", ""),
                    ("csrf", &page.hidden("csrf")),
                    ("login", login),
                ],
            )
            .await
        }
    };
    let unknown = ask("nobody-here").await;
    let known = ask("alice").await;
    assert_eq!(unknown.status, 200);
    assert_eq!(
        unknown.body.replace("nobody-here", "X"),
        known.body.replace("alice", "X")
    );
    assert!(known.body.contains("an email with a link is on its way"));
    let mail = sink.next_mail(MAIL_WAIT).await;
    assert_eq!(mail.to, ["alice@example.com"]);
    assert!(
        sink.try_next_mail(Duration::from_millis(300))
            .await
            .is_none(),
        "one mail only"
    );

    // A session and a refresh token from before the reset.
    let before = b
        .log_in(&fx, &fx.authorize(&fx.first_party, &[]), PASSWORD)
        .await;
    assert_eq!(before.status, 303);
    let reset = path_of(&link(&mail, &fx, "/password/reset?token="));
    let page = b.get(&fx.app, &reset).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let send = |b: &mut Browser, password: &str, confirm: &str| {
        let form = [
            ("token".to_owned(), page.hidden("token")),
            ("req".to_owned(), String::new()),
            ("csrf".to_owned(), page.hidden("csrf")),
            ("password".to_owned(), password.to_owned()),
            ("confirm".to_owned(), confirm.to_owned()),
        ];
        let mut b = b.clone();
        let app = fx.app.clone();
        let path = fx.path("/password/reset");
        async move {
            let form: Vec<(&str, &str)> =
                form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            b.post(&app, &path, &form).await
        }
    };
    let mismatch = send(&mut b, NEW_PASSWORD, "something else").await;
    assert_eq!(mismatch.status, 422);
    assert!(mismatch.body.contains("The two passwords differ."));
    let weak = send(&mut b, "alice", "alice").await;
    assert_eq!(weak.status, 422);
    let done = send(&mut b, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("Password changed"));
    // Single use.
    assert_eq!(send(&mut b, NEW_PASSWORD, NEW_PASSWORD).await.status, 400);
    // The old session is over: the next authorization asks to sign in.
    let next = b.get(&fx.app, &fx.authorize(&fx.first_party, &[])).await;
    assert!(next.next().starts_with(&fx.path("/login?req=")));
    // The old password fails, the new one works.
    let mut fresh = Browser::default();
    let old = fresh.log_in_as(&fx, "alice", PASSWORD).await;
    assert_eq!(old.status, 200);
    assert!(old.body.contains("Invalid username or password."));
    assert_eq!(
        fresh.log_in_as(&fx, "alice", NEW_PASSWORD).await.status,
        303
    );
}

#[tokio::test]
async fn accounts_mail_speaks_the_language_of_the_page() {
    let sink = SmtpSink::start().await;
    let fx = fixture(&sink, json!({ "signup": "open" })).await;
    let mut b = Browser {
        accept_language: Some("fr-FR,fr;q=0.9".into()),
        ..Browser::default()
    };
    sign_up(&fx, &mut b, "zoe@example.com", "une longue phrase de passe").await;
    let mail = sink.next_mail(MAIL_WAIT).await;
    assert_eq!(
        mail.subject.as_deref(),
        Some("Confirmez votre adresse e-mail pour Acme Corp")
    );
    assert!(mail
        .html
        .as_deref()
        .unwrap_or_default()
        .contains(r#"lang="fr""#));
    let mut tx = fx.state.db.tenant_tx(fx.tenant.id).await.unwrap();
    let id = users::find_by_login(&mut tx, "zoe@example.com")
        .await
        .unwrap()
        .unwrap()
        .id;
    let claims = users::claims(&mut tx, id).await.unwrap().unwrap();
    tx.commit().await.unwrap();
    assert_eq!(claims.locale.as_deref(), Some("fr"));
}

#[tokio::test]
async fn accounts_repeated_failed_logins_are_throttled_with_retry_after() {
    let sink = SmtpSink::start().await;
    let fx = fixture(&sink, json!({})).await;
    let mut b = Browser::default();
    let mut throttled = None;
    for _ in 0..12 {
        let a = b.log_in_as(&fx, "alice", "wrong password").await;
        if a.status == 429 {
            throttled = Some(a);
            break;
        }
        assert_eq!(a.status, 200);
    }
    let a = throttled.expect("throttled within 12 failures");
    let retry: u64 = a.header("retry-after").parse().unwrap();
    assert!(retry >= 1);
    assert!(a.body.contains("Too many attempts"));
    // Even the right password waits now: nothing is evaluated.
    assert_eq!(b.log_in_as(&fx, "alice", PASSWORD).await.status, 429);
    // Another account is not throttled by alice's failures.
    let mut tx = fx.state.db.tenant_tx(fx.tenant.id).await.unwrap();
    let hash = fx.state.hasher.hash(PASSWORD.into()).await.unwrap();
    users::create(
        &mut tx,
        users::NewUser {
            username: "zed".into(),
            email: None,
            name: None,
            password_hash: Some(hash),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(b.log_in_as(&fx, "zed", PASSWORD).await.status, 303);
}

#[tokio::test]
async fn accounts_required_verification_keeps_unverified_users_out_and_resends() {
    let sink = SmtpSink::start().await;
    let fx = fixture(&sink, json!({ "email_verification": "required" })).await;
    let mut b = Browser::default();
    let a = b.log_in_as(&fx, "alice", PASSWORD).await;
    assert_eq!(a.status, 200);
    assert!(a.body.contains("Confirm your email address first"));
    assert!(!a.sets_cookie("gatehouse_session"));
    let mail = sink.next_mail(MAIL_WAIT).await;
    let verify = path_of(&link(&mail, &fx, "/verify-email?token="));
    let page = b.get(&fx.app, &verify).await;
    let form = [
        ("token", page.hidden("token")),
        ("req", page.hidden("req")),
        ("csrf", page.hidden("csrf")),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let confirmed = b.post(&fx.app, &fx.path("/verify-email"), &form).await;
    assert!(
        confirmed.body.contains("Continue to sign in"),
        "the request still waits"
    );
    assert_eq!(b.log_in_as(&fx, "alice", PASSWORD).await.status, 303);
}
