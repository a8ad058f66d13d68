//! End to end: the `openidconnect` crate as the relying party against a
//! running `gatehouse serve`, for two tenants: discovery, the code flow with
//! PKCE through the real login and consent pages, ID token validation,
//! userinfo, refresh, revocation and RP-initiated logout. The browser is a
//! plain HTTP client that follows the pages' forms.

use std::collections::HashMap;

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, RefreshToken, Scope, TokenResponse as _,
};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

use crate::support::{cli, cli_with_stdin, gatehouse, Node};
use gatehouse_core::testing::{unique_redis_prefix, unique_slug};

const REDIRECT: &str = "http://127.0.0.1:9/callback";

/// A minimal browser: a cookie jar and form following, no JavaScript.
struct Browser {
    http: reqwest::Client,
    jar: HashMap<String, String>,
}

impl Browser {
    fn new() -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            http,
            jar: HashMap::new(),
        }
    }

    fn remember(&mut self, r: &reqwest::Response) {
        for c in r.headers().get_all(SET_COOKIE) {
            let c = c.to_str().unwrap();
            let pair = c.split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            if v.is_empty() || c.to_ascii_lowercase().contains("max-age=0") {
                self.jar.remove(k);
            } else {
                self.jar.insert(k.to_owned(), v.to_owned());
            }
        }
    }

    fn cookie(&self) -> String {
        self.jar
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn get(&mut self, url: &str) -> reqwest::Response {
        let r = self
            .http
            .get(url)
            .header(COOKIE, self.cookie())
            .send()
            .await
            .unwrap();
        self.remember(&r);
        r
    }

    async fn post(&mut self, url: &str, form: &[(String, String)]) -> reqwest::Response {
        let r = self
            .http
            .post(url)
            .header(COOKIE, self.cookie())
            .form(form)
            .send()
            .await
            .unwrap();
        self.remember(&r);
        r
    }
}

/// The page's first form: its action (absolute) and hidden inputs.
fn form_of(html: &str, base: &str) -> (String, Vec<(String, String)>) {
    let attr = |tag: &str, name: &str| -> Option<String> {
        let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
        let end = tag[start..].find('"')? + start;
        Some(
            tag[start..end]
                .replace("&amp;", "&")
                .replace("&#x2F;", "/")
                .replace("&#47;", "/")
                .replace("&quot;", "\""),
        )
    };
    let form_start = html.find("<form").unwrap();
    let form_tag = &html[form_start..form_start + html[form_start..].find('>').unwrap()];
    let action = attr(form_tag, "action").unwrap_or_default();
    let action = url::Url::parse(base)
        .unwrap()
        .join(&action)
        .unwrap()
        .to_string();
    let mut hidden = Vec::new();
    for part in html[form_start..].split("<input").skip(1) {
        let tag = &part[..part.find('>').unwrap()];
        if tag.contains("type=\"hidden\"") {
            if let (Some(n), Some(v)) = (attr(tag, "name"), attr(tag, "value")) {
                hidden.push((n, v));
            }
        }
    }
    (action, hidden)
}

fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

struct Fixture {
    issuer: String,
    client_id: String,
    client_secret: String,
}

async fn tenant(prefix: &str, node: &Node) -> Fixture {
    let slug = unique_slug("e2e");
    assert!(
        cli(
            prefix,
            &["tenant", "create", "--slug", &slug, "--name", "E2E"]
        )
        .await
        .ok
    );
    let client = cli(
        prefix,
        &[
            "client",
            "create",
            "--tenant",
            &slug,
            "--name",
            "RP",
            "--redirect-uri",
            REDIRECT,
            "--post-logout-redirect-uri",
            "http://127.0.0.1:9/bye",
            "--json",
        ],
    )
    .await
    .json();
    let user = cli_with_stdin(
        prefix,
        &[
            "user",
            "create",
            "--tenant",
            &slug,
            "--username",
            "alice",
            "--email",
            "alice@example.com",
            "--name",
            "Alice",
            "--password-stdin",
        ],
        "s3cret-passphrase\n",
    )
    .await;
    assert!(user.ok, "{}", user.stderr);
    Fixture {
        issuer: format!("{}/t/{slug}", node.base),
        client_id: client["client_id"].as_str().unwrap().to_owned(),
        client_secret: client["client_secret"].as_str().unwrap().to_owned(),
    }
}

#[tokio::test]
async fn e2e_a_certified_style_relying_party_completes_the_flow_at_two_tenants() {
    let prefix = unique_redis_prefix();
    // The public URL must name the real port: take a free one first.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = gatehouse(&prefix);
    cmd.env("GATEHOUSE_LISTEN", format!("127.0.0.1:{port}"))
        .env("GATEHOUSE_PUBLIC_URL", format!("http://127.0.0.1:{port}"));
    let node = Node::start(cmd).await;

    let a = tenant(&prefix, &node).await;
    let b = tenant(&prefix, &node).await;
    // A's browser stays signed in at A; at B its cookies (all sent, whatever
    // their path) must not sign the user in: B shows its login page.
    let signed_in_at_a = flow(&a, Browser::new(), false).await;
    flow(&b, signed_in_at_a, true).await;
}

/// One full flow at one tenant, in `browser` (which may carry another
/// tenant's session cookie: it must not sign the user in here), ending with
/// RP-initiated logout when `logout`.
async fn flow(t: &Fixture, mut browser: Browser, logout: bool) -> Browser {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let meta =
        CoreProviderMetadata::discover_async(IssuerUrl::new(t.issuer.clone()).unwrap(), &http)
            .await
            .unwrap();
    let end_session = {
        let doc: serde_json::Value = http
            .get(format!("{}/.well-known/openid-configuration", t.issuer))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        doc["end_session_endpoint"].as_str().unwrap().to_owned()
    };
    let client = CoreClient::from_provider_metadata(
        meta,
        ClientId::new(t.client_id.clone()),
        Some(ClientSecret::new(t.client_secret.clone())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();

    let r = browser.get(auth_url.as_str()).await;
    assert_eq!(r.status(), 303, "authorize redirects to the login page");
    let login_url = url::Url::parse(&t.issuer)
        .unwrap()
        .join(r.headers()[LOCATION].to_str().unwrap())
        .unwrap()
        .to_string();
    let page = browser.get(&login_url).await.text().await.unwrap();
    assert!(
        page.contains("name=\"username\"") && page.contains("name=\"password\""),
        "{page}"
    );
    let (action, mut fields) = form_of(&page, &login_url);
    fields.push(("username".into(), "alice".into()));
    fields.push(("password".into(), "s3cret-passphrase".into()));
    let r = browser.post(&action, &fields).await;

    // Consent (not first party), then the redirect with code, state and iss.
    let mut r = r;
    let consent_url = format!("{}/consent?req=", t.issuer);
    let location = |r: &reqwest::Response| {
        r.headers()
            .get(LOCATION)
            .map(|l| l.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    if location(&r).starts_with(&consent_url) {
        let consent_page = location(&r);
        let consent = browser.get(&consent_page).await.text().await.unwrap();
        let (action, mut fields) = form_of(&consent, &consent_page);
        fields.push(("decision".into(), "approve".into()));
        r = browser.post(&action, &fields).await;
    }
    assert_eq!(r.status(), 303);
    let location = r.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(location.starts_with(REDIRECT), "{location}");
    assert_eq!(
        query_param(&location, "state").as_deref(),
        Some(state.secret().as_str())
    );
    assert_eq!(
        query_param(&location, "iss").as_deref(),
        Some(t.issuer.as_str()),
        "RFC 9207"
    );
    let code = query_param(&location, "code").unwrap();

    // Code exchange with the PKCE verifier; the ID token verifies.
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let id_token = tokens.id_token().unwrap();
    let verifier = client.id_token_verifier();
    let claims = id_token.claims(&verifier, &nonce).unwrap();
    let at_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&at_hash));
    assert_eq!(claims.issuer().as_str(), t.issuer);

    // userinfo.
    let info: openidconnect::core::CoreUserInfoClaims = client
        .user_info(tokens.access_token().clone(), None)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    assert_eq!(info.subject(), claims.subject());
    assert_eq!(info.preferred_username().map(|u| u.as_str()), Some("alice"));
    assert_eq!(info.email().map(|e| e.as_str()), Some("alice@example.com"));

    // Refresh: a new pair, the old refresh token now spent.
    let refresh = tokens.refresh_token().unwrap().clone();
    let refreshed = client
        .exchange_refresh_token(&refresh)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    assert_ne!(
        refreshed.refresh_token().unwrap().secret(),
        refresh.secret()
    );
    assert!(client
        .exchange_refresh_token(&RefreshToken::new(refresh.secret().clone()))
        .unwrap()
        .request_async(&http)
        .await
        .is_err());

    // Revocation of the access token: introspection then says inactive.
    let revoke_url = format!("{}/revoke", t.issuer);
    let resp = http
        .post(&revoke_url)
        .basic_auth(&t.client_id, Some(&t.client_secret))
        .form(&[("token", refreshed.access_token().secret().as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let intro: serde_json::Value = http
        .post(format!("{}/introspect", t.issuer))
        .basic_auth(&t.client_id, Some(&t.client_secret))
        .form(&[("token", refreshed.access_token().secret().as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(intro["active"], false);

    if !logout {
        return browser;
    }
    // RP-initiated logout with the ID token as hint: back to the RP with state.
    let logout = format!(
        "{end_session}?id_token_hint={}&post_logout_redirect_uri={}&state=bye",
        id_token,
        url::form_urlencoded::byte_serialize(b"http://127.0.0.1:9/bye").collect::<String>()
    );
    let r = browser.get(&logout).await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()[LOCATION].to_str().unwrap(),
        "http://127.0.0.1:9/bye?state=bye"
    );
    // Signed out: a new authorization meets the login page again.
    let (auth_url, _, _) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(PkceCodeChallenge::new_random_sha256().0)
        .url();
    let r = browser.get(auth_url.as_str()).await;
    assert!(r.headers()[LOCATION].to_str().unwrap().contains("login"));
    browser
}
