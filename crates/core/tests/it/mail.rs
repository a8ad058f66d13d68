//! Outgoing mail through the test SMTP sink: platform and tenant servers,
//! sealed tenant passwords, and failures that must be quick and clear.

use std::time::{Duration, Instant};

use base64::Engine as _;
use gatehouse_core::config::{Config, MasterKey};
use gatehouse_core::mail::{
    seal_password, MailError, Mailer, MailerOptions, OutgoingMail, SmtpSettings,
};
use gatehouse_core::secretbox::Keyring;
use gatehouse_core::testing::smtp::SmtpSink;
use gatehouse_core::testing::TEST_MASTER_KEY;
use gatehouse_core::TenantId;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(5);
const PLATFORM_FROM: &str = "Gatehouse <no-reply@platform.example>";

fn keyring() -> Keyring {
    Keyring::new(
        Some(MasterKey::parse("test", TEST_MASTER_KEY).unwrap()),
        vec![],
    )
}

fn options(timeout: Duration, development: bool) -> MailerOptions {
    MailerOptions {
        timeout,
        development,
        hello_name: Some("gatehouse.test".into()),
    }
}

fn platform(sink: &SmtpSink) -> SmtpSettings {
    SmtpSettings::from_url(&sink.url(), PLATFORM_FROM, false).unwrap()
}

/// A link long enough that quoted-printable must fold it, in a body with
/// non-ASCII text, so that reading it back exercises the decoding.
fn verification_mail(link: &str) -> OutgoingMail {
    OutgoingMail {
        to: "Ada Lovelace <ada@users.example>".into(),
        subject: "Bestätigen Sie Ihre E-Mail-Adresse".into(),
        text: format!("Grüße!\n\nBitte bestätigen:\n{link}\n\nDer Link gilt 24 Stunden.\n"),
        html: format!("<p>Grüße!</p><p><a href=\"{link}\">Bestätigen</a></p>"),
    }
}

fn tenant_smtp_json(sink: &SmtpSink, tenant: TenantId, password: &str) -> serde_json::Value {
    json!({
        "host": "127.0.0.1",
        "port": sink.port(),
        "security": "none",
        "username": "acme-mailer",
        "password_sealed": seal_password(&keyring(), tenant, password).unwrap(),
        "from": "Acme <no-reply@acme.example>",
    })
}

#[tokio::test]
async fn platform_mail_arrives_with_both_parts_subject_from_and_to() {
    let sink = SmtpSink::start().await;
    let mailer = Mailer::new(Some(platform(&sink)), options(WAIT, false));
    let link = format!(
        "https://id.example.com/t/acme/verify-email?token={}&next=%2Faccount%2Fsettings",
        "A".repeat(64)
    );
    mailer.send(None, verification_mail(&link)).await.unwrap();

    let mail = sink.next_mail(WAIT).await;
    assert_eq!(mail.envelope_from, "no-reply@platform.example");
    assert_eq!(mail.envelope_to, vec!["ada@users.example"]);
    assert_eq!(mail.from.as_deref(), Some("no-reply@platform.example"));
    assert_eq!(mail.from_name.as_deref(), Some("Gatehouse"));
    assert_eq!(mail.to, vec!["ada@users.example"]);
    assert_eq!(
        mail.subject.as_deref(),
        Some("Bestätigen Sie Ihre E-Mail-Adresse")
    );
    assert_eq!(mail.content_type.as_deref(), Some("multipart/alternative"));
    assert!(mail.text.as_deref().unwrap().contains("Grüße!"));
    assert!(mail.html.as_deref().unwrap().contains("<a href="));
    assert_eq!(
        mail.link_starting_with("https://id.example.com/"),
        Some(link)
    );
    assert!(mail.auth.is_none());
    let raw = String::from_utf8_lossy(&mail.raw);
    assert!(
        raw.contains("Message-ID: <") && raw.contains("@platform.example>"),
        "{raw}"
    );
}

#[tokio::test]
async fn mail_with_an_empty_html_part_is_text_only() {
    let sink = SmtpSink::start().await;
    let mailer = Mailer::new(Some(platform(&sink)), options(WAIT, false));
    let mut msg = verification_mail("https://id.example.com/x");
    msg.html.clear();
    mailer.send(None, msg).await.unwrap();
    let mail = sink.next_mail(WAIT).await;
    assert_eq!(mail.content_type.as_deref(), Some("text/plain"));
    assert!(mail.html.is_none());
    assert_eq!(mail.links(), vec!["https://id.example.com/x"]);
}

#[tokio::test]
async fn mail_of_a_tenant_goes_to_its_own_server_with_its_sealed_password() {
    let platform_sink = SmtpSink::start().await;
    let tenant_sink = SmtpSink::start().await;
    let tenant = TenantId::new_random();
    let notifications =
        json!({ "smtp": tenant_smtp_json(&tenant_sink, tenant, "tenant-pässword") });
    let settings = SmtpSettings::from_notifications(&notifications, &keyring(), tenant)
        .unwrap()
        .unwrap();
    assert!(!format!("{settings:?}").contains("pässword"));

    // Development: a tenant server on loopback and without TLS is allowed.
    let mailer = Mailer::new(Some(platform(&platform_sink)), options(WAIT, true));
    for _ in 0..2 {
        mailer
            .send(
                Some(&settings),
                verification_mail("https://id.example.com/r"),
            )
            .await
            .unwrap();
        let mail = tenant_sink.next_mail(WAIT).await;
        assert_eq!(mail.from.as_deref(), Some("no-reply@acme.example"));
        assert_eq!(mail.from_name.as_deref(), Some("Acme"));
        let auth = mail.auth.expect("the tenant's server was authenticated to");
        assert_eq!(auth.username, "acme-mailer");
        assert_eq!(auth.password, "tenant-pässword");
    }
    assert!(platform_sink
        .try_next_mail(Duration::from_millis(200))
        .await
        .is_none());
}

#[tokio::test]
async fn mail_password_sealed_for_one_tenant_does_not_open_for_another() {
    let sink = SmtpSink::start().await;
    let owner = TenantId::new_random();
    let copied = tenant_smtp_json(&sink, owner, "secret");
    let err =
        SmtpSettings::from_tenant_json(&copied, &keyring(), TenantId::new_random()).unwrap_err();
    assert!(matches!(err, MailError::Password(_)), "{err}");
    // Under another master key it does not open either.
    let other_key = base64::engine::general_purpose::STANDARD.encode((0u8..32).collect::<Vec<_>>());
    let other = Keyring::new(Some(MasterKey::parse("test", &other_key).unwrap()), vec![]);
    assert!(matches!(
        SmtpSettings::from_tenant_json(&copied, &other, owner),
        Err(MailError::Password(_))
    ));
}

#[tokio::test]
async fn mail_settings_refuse_a_clear_password_without_echoing_it() {
    let tenant = TenantId::new_random();
    for smtp in [
        json!({"host": "smtp.acme.example", "username": "u", "password": "hunter2", "from": "a@acme.example"}),
        json!({"host": "smtp.acme.example", "username": "u", "password_sealed": "hunter2", "from": "a@acme.example"}),
    ] {
        let err = SmtpSettings::from_tenant_json(&smtp, &keyring(), tenant).unwrap_err();
        assert!(matches!(err, MailError::Settings(_)), "{err}");
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
    let absent = SmtpSettings::from_notifications(&json!({}), &keyring(), tenant).unwrap();
    assert!(absent.is_none());
}

#[tokio::test]
async fn mail_without_any_smtp_server_is_not_configured() {
    let mailer = Mailer::new(None, options(WAIT, true));
    let err = mailer
        .send(None, verification_mail("https://x.example/"))
        .await
        .unwrap_err();
    assert!(matches!(err, MailError::NotConfigured), "{err}");

    let mailer = Mailer::from_config(&Config::default()).unwrap();
    assert!(!mailer.has_platform_smtp());
    assert!(matches!(
        mailer
            .send(None, verification_mail("https://x.example/"))
            .await,
        Err(MailError::NotConfigured)
    ));
}

#[tokio::test]
async fn mail_to_a_closed_port_fails_quickly() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let settings = SmtpSettings::from_url(
        &format!("smtp+plain://127.0.0.1:{port}"),
        PLATFORM_FROM,
        false,
    )
    .unwrap();
    let mailer = Mailer::new(Some(settings), options(Duration::from_millis(500), false));
    let started = Instant::now();
    let err = mailer
        .send(None, verification_mail("https://x.example/"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, MailError::Smtp(_) | MailError::Timeout(_)),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn mail_to_a_server_that_never_answers_times_out() {
    // Accepts connections and says nothing: lettre alone would wait forever.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let settings = SmtpSettings::from_url(
        &format!("smtp+plain://127.0.0.1:{port}"),
        PLATFORM_FROM,
        false,
    )
    .unwrap();
    let mailer = Mailer::new(Some(settings), options(Duration::from_millis(300), false));
    let started = Instant::now();
    let err = mailer
        .send(None, verification_mail("https://x.example/"))
        .await
        .unwrap_err();
    assert!(matches!(err, MailError::Timeout(_)), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    silent.abort();
}

#[tokio::test]
async fn mail_to_a_tenant_server_on_an_internal_address_is_refused_outside_development() {
    let sink = SmtpSink::start().await;
    let tenant = TenantId::new_random();
    let mut smtp = tenant_smtp_json(&sink, tenant, "secret");
    smtp["security"] = json!("starttls");
    let settings = SmtpSettings::from_tenant_json(&smtp, &keyring(), tenant).unwrap();
    let mailer = Mailer::new(None, options(WAIT, false));
    let err = mailer
        .send(Some(&settings), verification_mail("https://x.example/"))
        .await
        .unwrap_err();
    assert!(matches!(err, MailError::Refused(_)), "{err}");

    // Unencrypted to a host that is not loopback: refused before connecting.
    smtp["security"] = json!("none");
    smtp["host"] = json!("smtp.acme.example");
    let settings = SmtpSettings::from_tenant_json(&smtp, &keyring(), tenant).unwrap();
    let err = mailer
        .send(Some(&settings), verification_mail("https://x.example/"))
        .await
        .unwrap_err();
    assert!(matches!(err, MailError::Refused(_)), "{err}");
    assert!(sink
        .try_next_mail(Duration::from_millis(100))
        .await
        .is_none());
}

#[tokio::test]
async fn mail_to_an_invalid_recipient_is_refused_before_sending() {
    let sink = SmtpSink::start().await;
    let mailer = Mailer::new(Some(platform(&sink)), options(WAIT, false));
    let mut msg = verification_mail("https://x.example/");
    msg.to = "not an address".into();
    let err = mailer.send(None, msg).await.unwrap_err();
    assert!(matches!(err, MailError::Recipient), "{err}");
    assert!(!err.to_string().contains("not an address"));
}
