//! Passkeys through the pages, with a software authenticator in place of
//! the browser: added on the account page, then used as the second step
//! after a password, and for passwordless sign-in. The issuer is on
//! `localhost` (WebAuthn refuses IP-address origins).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use gatehouse_core::testing::unique_slug;
use gatehouse_oidc::codes::{self, Presented};
use serde_json::{json, Value};
use url::Url;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse};

use crate::browser::*;
use crate::support::{app_with, test_config};

const ORIGIN: &str = "http://localhost:8080";

async fn fixture() -> Fixture {
    let mut config = test_config();
    config.public_url = ORIGIN.into();
    let (app, state) = app_with(config).await;
    let tenant = state
        .tenancy
        .tenants
        .create(&unique_slug("passkey"), "Acme Corp")
        .await
        .unwrap();
    Fixture::with_tenant(app, state, tenant).await
}

/// The options a page embeds for the script.
fn options_of(a: &Answer) -> Value {
    let start = a
        .body
        .find(r#"id="webauthn-options""#)
        .unwrap_or_else(|| panic!("no options in {}", a.body));
    let open = a.body[start..].find('>').unwrap() + start + 1;
    let close = a.body[open..].find("</script>").unwrap() + open;
    serde_json::from_str(&a.body[open..close]).unwrap()
}

/// What the script posts: extension outputs under `clientExtensionResults`.
fn as_posted(mut v: Value) -> String {
    if let Some(obj) = v.as_object_mut() {
        let ext = obj.remove("extensions").unwrap_or_else(|| json!({}));
        obj.insert("clientExtensionResults".into(), ext);
    }
    v.to_string()
}

async fn grant(fx: &Fixture, a: &Answer) -> gatehouse_oidc::codes::CodeGrant {
    match codes::take(&fx.state.kv, fx.tenant.id, &a.params()["code"])
        .await
        .unwrap()
    {
        Presented::Fresh(g) => *g,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn passkey_added_on_the_account_page_signs_in_as_second_step_and_without_password() {
    let fx = fixture().await;
    let mut authn = WebauthnAuthenticator::new(SoftPasskey::new(true));
    let origin = Url::parse(ORIGIN).unwrap();

    // Add a passkey from the account page.
    let mut b = Browser::default();
    assert_eq!(b.log_in_as(&fx, "alice", PASSWORD).await.status, 303);
    let account = b.get(&fx.app, &fx.path("/account")).await;
    assert!(account.body.contains("Add a passkey"), "{}", account.body);
    let new = b.get(&fx.app, &fx.path("/account/passkeys/new")).await;
    assert_eq!(new.status, 200, "{}", new.body);
    let csp = new.header("content-security-policy").to_owned();
    assert!(csp.contains("script-src 'nonce-"), "{csp}");
    assert!(!csp.contains("unsafe-inline"));
    let script = b.get(&fx.app, &fx.path("/assets/passkeys.js")).await;
    assert!(script.header("content-type").starts_with("text/javascript"));
    let options: CreationChallengeResponse = serde_json::from_value(options_of(&new)).unwrap();
    let created = authn.do_registration(origin.clone(), options).unwrap();
    let credential_id = created.id.clone();
    let credential = as_posted(serde_json::to_value(created).unwrap());
    let added = b
        .post(
            &fx.app,
            &fx.path("/account/passkeys"),
            &[
                ("csrf", &new.hidden("csrf")),
                ("ceremony", &new.hidden("ceremony")),
                ("credential", &credential),
                ("name", "Work laptop"),
            ],
        )
        .await;
    assert_eq!(added.status, 303, "{}", added.body);
    let account = b.get(&fx.app, &added.next()).await;
    assert!(account.body.contains("The passkey was added."));
    assert!(account.body.contains("Work laptop"));

    // The password now leads to the second step, which takes the passkey.
    let mut c = Browser::default();
    let step = c.log_in_as(&fx, "alice", PASSWORD).await;
    assert!(step.next().starts_with(&fx.path("/login/mfa?req=")));
    let page = c.get(&fx.app, &step.next()).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let options: RequestChallengeResponse = serde_json::from_value(options_of(&page)).unwrap();
    let asserted = authn.do_authentication(origin.clone(), options).unwrap();
    let done = c
        .post(
            &fx.app,
            &fx.path("/login/mfa"),
            &[
                ("req", &page.hidden("req")),
                ("csrf", &page.hidden("csrf")),
                ("method", "passkey"),
                ("ceremony", &page.hidden("ceremony")),
                (
                    "credential",
                    &as_posted(serde_json::to_value(asserted).unwrap()),
                ),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let g = grant(&fx, &done).await;
    assert_eq!(g.amr, ["pwd", "hwk", "user"]);

    // Passwordless, from the login page (a discoverable credential: the
    // software authenticator is told which one, and the user handle added).
    let mut d = Browser::default();
    let to_login = d.get(&fx.app, &fx.authorize(&fx.first_party, &[])).await;
    let login = d.get(&fx.app, &to_login.next()).await;
    assert!(login.body.contains("Sign in with a passkey"));
    assert!(login.body.contains(r#"autocomplete="username webauthn""#));
    let mut options = options_of(&login);
    assert_eq!(options["publicKey"]["allowCredentials"], json!([]));
    options["publicKey"]["allowCredentials"] =
        json!([{ "type": "public-key", "id": credential_id }]);
    let options: RequestChallengeResponse = serde_json::from_value(options).unwrap();
    let mut asserted =
        serde_json::to_value(authn.do_authentication(origin, options).unwrap()).unwrap();
    let user_id = fx.user_id().await;
    asserted["response"]["userHandle"] = URL_SAFE_NO_PAD.encode(user_id.as_bytes()).into();
    let ceremony = between(&login.body, r#"name="ceremony" value=""#, "\"");
    let done = d
        .post(
            &fx.app,
            &fx.path("/login/passkey"),
            &[
                ("req", &login.hidden("req")),
                ("csrf", &login.hidden("csrf")),
                ("ceremony", ceremony),
                ("credential", &as_posted(asserted)),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let g = grant(&fx, &done).await;
    assert_eq!(g.amr, ["hwk", "user"]);
    assert_eq!(
        g.acr.as_deref(),
        Some(gatehouse_oidc::tokens::ACR_TWO_FACTORS)
    );

    // A forged answer is refused with a page, and signs nobody in.
    let mut e = Browser::default();
    let to_login = e.get(&fx.app, &fx.authorize(&fx.first_party, &[])).await;
    let login = e.get(&fx.app, &to_login.next()).await;
    let ceremony = between(&login.body, r#"name="ceremony" value=""#, "\"");
    let refused = e
        .post(
            &fx.app,
            &fx.path("/login/passkey"),
            &[
                ("req", &login.hidden("req")),
                ("csrf", &login.hidden("csrf")),
                ("ceremony", ceremony),
                (
                    "credential",
                    r#"{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{}}"#,
                ),
            ],
        )
        .await;
    assert_eq!(refused.status, 400);
    assert!(!refused.sets_cookie("gatehouse_session"));
}

fn between<'a>(body: &'a str, start: &str, end: &str) -> &'a str {
    let i = body.find(start).unwrap_or_else(|| panic!("no {start}")) + start.len();
    let j = body[i..].find(end).unwrap() + i;
    &body[i..j]
}
