//! An in-process browser for the front-channel tests: a cookie jar, an
//! answer reader, and a tenant fixture with a user and three clients.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Request};
use gatehouse_core::testing::unique_slug;
use gatehouse_oidc::clients::{self, NewClient};
use gatehouse_oidc::users::{self, NewUser};
use gatehouse_tenancy::TenantRecord;
use gatehouse_web::AppState;
use url::Url;

use crate::support::{app, send};

pub(crate) const CB: &str = "https://rp.example/cb";
pub(crate) const LOGOUT_CB: &str = "https://rp.example/logged-out";
pub(crate) const PASSWORD: &str = "correct horse battery staple";
pub(crate) const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// A tenant with one user and three clients.
pub(crate) struct Fixture {
    pub(crate) app: axum::Router,
    pub(crate) state: AppState,
    pub(crate) tenant: TenantRecord,
    pub(crate) username: String,
    /// Confidential, third party: asks for consent.
    pub(crate) client: String,
    /// Confidential, first party: never asks.
    pub(crate) first_party: String,
    /// Public: must use PKCE.
    pub(crate) public: String,
}

impl Fixture {
    /// A fixture whose tenant has `security` settings, sending mail to
    /// `sink` when there is one.
    pub(crate) async fn with_security(
        sink: Option<&gatehouse_core::testing::smtp::SmtpSink>,
        security: serde_json::Value,
    ) -> Self {
        let mut config = crate::support::test_config();
        if let Some(sink) = sink {
            config.smtp_url = sink.url();
            config.mail_from = "Gatehouse <no-reply@gatehouse.test>".into();
        }
        let (app, state) = crate::support::app_with(config).await;
        let tenant = state
            .tenancy
            .tenants
            .create(&unique_slug("acct"), "Acme Corp")
            .await
            .unwrap();
        gatehouse_tenancy::settings::put_section(
            &state.db, &state.bus, &tenant, "security", security,
        )
        .await
        .unwrap();
        Self::with_tenant(app, state, tenant).await
    }

    pub(crate) async fn new() -> Self {
        let (app, state) = app().await;
        let tenant = state
            .tenancy
            .tenants
            .create(&unique_slug("front"), "Acme Corp")
            .await
            .unwrap();
        Self::with_tenant(app, state, tenant).await
    }

    /// Another tenant of the same application, with a user of the same
    /// name and password.
    pub(crate) async fn sibling(&self) -> Self {
        let tenant = self
            .state
            .tenancy
            .tenants
            .create(&unique_slug("front-b"), "Beta Inc")
            .await
            .unwrap();
        Self::with_tenant(self.app.clone(), self.state.clone(), tenant).await
    }

    pub(crate) async fn with_tenant(
        app: axum::Router,
        state: AppState,
        tenant: TenantRecord,
    ) -> Self {
        let hash = state.hasher.hash(PASSWORD.into()).await.unwrap();
        let mut tx = state.db.tenant_tx(tenant.id).await.unwrap();
        let username = "alice".to_owned();
        users::create(
            &mut tx,
            NewUser {
                username: username.clone(),
                email: Some("alice@example.com".into()),
                name: Some("Alice".into()),
                password_hash: Some(hash),
            },
        )
        .await
        .unwrap();
        let make = |name: &str, public: bool, first_party: bool| NewClient {
            name: name.into(),
            redirect_uris: vec![CB.into(), format!("{CB}?tenant=x")],
            post_logout_redirect_uris: vec![LOGOUT_CB.into()],
            public,
            first_party,
            allow_http: false,
            auth_method: None,
            grant_types: vec![],
            scopes: vec![],
            jwks: None,
            jwks_uri: None,
        };
        let client = clients::create(&mut tx, make("Photo <Prints>", false, false))
            .await
            .unwrap()
            .0
            .client_id;
        let first_party = clients::create(&mut tx, make("Acme Portal", false, true))
            .await
            .unwrap()
            .0
            .client_id;
        let public = clients::create(&mut tx, make("Acme Mobile", true, false))
            .await
            .unwrap()
            .0
            .client_id;
        tx.commit().await.unwrap();
        Self {
            app,
            state,
            tenant,
            username,
            client,
            first_party,
            public,
        }
    }

    pub(crate) fn slug(&self) -> &str {
        self.tenant.slug.as_str()
    }

    pub(crate) fn issuer(&self) -> String {
        format!("http://127.0.0.1:8080/t/{}", self.slug())
    }

    /// `/t/{slug}/authorize?…` with the usual parameters, overridden or
    /// extended by `extra` (an empty value removes a parameter).
    pub(crate) fn authorize(&self, client_id: &str, extra: &[(&str, &str)]) -> String {
        let mut params: Vec<(&str, &str)> = vec![
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", CB),
            ("scope", "openid profile"),
            ("state", "st-123"),
            ("nonce", "n-456"),
        ];
        for (k, v) in extra {
            params.retain(|(pk, _)| pk != k);
            if !v.is_empty() {
                params.push((k, v));
            }
        }
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        format!("/t/{}/authorize?{query}", self.slug())
    }

    pub(crate) fn path(&self, rest: &str) -> String {
        format!("/t/{}{rest}", self.slug())
    }

    pub(crate) async fn provider(&self) -> Arc<gatehouse_oidc::provider::TenantProvider> {
        self.state
            .tenancy
            .pool
            .get(Arc::new(self.tenant.clone()))
            .await
            .unwrap()
    }

    pub(crate) async fn user_id(&self) -> uuid::Uuid {
        let mut tx = self.state.db.tenant_tx(self.tenant.id).await.unwrap();
        let u = users::find_by_username(&mut tx, &self.username)
            .await
            .unwrap()
            .unwrap();
        tx.commit().await.unwrap();
        u.id
    }
}

/// A response, read.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: String,
    pub(crate) headers: HeaderMap,
}

impl Answer {
    pub(crate) fn location(&self) -> Option<Url> {
        self.headers
            .get("location")
            .map(|l| Url::parse(l.to_str().unwrap()).unwrap())
    }

    /// The Location as a path and query for the next in-process request.
    pub(crate) fn next(&self) -> String {
        assert_eq!(self.status, 303, "expected a redirect: {}", self.body);
        let l = self.location().unwrap();
        match l.query() {
            Some(q) => format!("{}?{q}", l.path()),
            None => l.path().to_owned(),
        }
    }

    /// The query parameters of the Location.
    pub(crate) fn params(&self) -> BTreeMap<String, String> {
        self.location()
            .unwrap()
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    /// The value of the hidden input `name`.
    pub(crate) fn hidden(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self
            .body
            .find(&marker)
            .unwrap_or_else(|| panic!("no input {name} in {}", self.body))
            + marker.len();
        let end = self.body[start..].find('"').unwrap() + start;
        self.body[start..end].to_owned()
    }

    pub(crate) fn sets_cookie(&self, name: &str) -> bool {
        self.headers
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().unwrap().starts_with(&format!("{name}=")))
    }

    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .unwrap()
    }
}

/// A cookie jar (paths ignored: tests send cookies where they mean to).
#[derive(Default, Clone)]
pub(crate) struct Browser {
    pub(crate) cookies: BTreeMap<String, String>,
    /// Sent as Accept-Language when set.
    pub(crate) accept_language: Option<String>,
}

impl Browser {
    pub(crate) fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub(crate) async fn send(&mut self, app: &axum::Router, mut req: Request<Body>) -> Answer {
        if !self.cookies.is_empty() {
            req.headers_mut()
                .insert("cookie", self.cookie_header().parse().unwrap());
        }
        if let Some(l) = &self.accept_language {
            req.headers_mut()
                .insert("accept-language", l.parse().unwrap());
        }
        let (status, body, response) = send(app, req).await;
        let headers = response.headers().clone();
        for c in headers.get_all("set-cookie") {
            let c = c.to_str().unwrap();
            let (pair, attrs) = c.split_once(';').unwrap_or((c, ""));
            let (k, v) = pair.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
        Answer {
            status,
            body,
            headers,
        }
    }

    pub(crate) async fn get(&mut self, app: &axum::Router, uri: &str) -> Answer {
        self.send(app, Request::get(uri).body(Body::empty()).unwrap())
            .await
    }

    pub(crate) async fn post(
        &mut self,
        app: &axum::Router,
        uri: &str,
        form: &[(&str, &str)],
    ) -> Answer {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let req = Request::post(uri)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.send(app, req).await
    }

    /// Follows an authorization request to the login page and logs in;
    /// returns the answer to the login POST.
    pub(crate) async fn log_in(&mut self, fx: &Fixture, authorize: &str, password: &str) -> Answer {
        let to_login = self.get(&fx.app, authorize).await;
        let login_page = self.get(&fx.app, &to_login.next()).await;
        assert_eq!(login_page.status, 200, "{}", login_page.body);
        let (req, csrf) = (login_page.hidden("req"), login_page.hidden("csrf"));
        let answer = self
            .post(
                &fx.app,
                &fx.path("/login"),
                &[
                    ("req", &req),
                    ("csrf", &csrf),
                    ("username", &fx.username),
                    ("password", password),
                ],
            )
            .await;
        self.follow_to_consent(fx, answer).await
    }

    /// Signs in as `login` through an authorization request of the
    /// first-party client; returns the answer to the login POST.
    pub(crate) async fn log_in_as(&mut self, fx: &Fixture, login: &str, password: &str) -> Answer {
        let to_login = self.get(&fx.app, &fx.authorize(&fx.first_party, &[])).await;
        let page = self.get(&fx.app, &to_login.next()).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let (req, csrf) = (page.hidden("req"), page.hidden("csrf"));
        self.post(
            &fx.app,
            &fx.path("/login"),
            &[
                ("req", &req),
                ("csrf", &csrf),
                ("username", login),
                ("password", password),
            ],
        )
        .await
    }

    /// Follows a redirect to the consent page (Post/Redirect/Get); any
    /// other answer is returned as it is.
    pub(crate) async fn follow_to_consent(&mut self, fx: &Fixture, a: Answer) -> Answer {
        let to_consent = a.status == 303
            && a.location().is_some_and(|l| {
                l.as_str()
                    .starts_with(&format!("{}/consent?req=", fx.issuer()))
            });
        if to_consent {
            self.get(&fx.app, &a.next()).await
        } else {
            a
        }
    }
}

pub(crate) fn assert_code_response(a: &Answer, fx: &Fixture) -> String {
    assert_eq!(a.status, 303, "{}", a.body);
    let l = a.location().unwrap();
    assert_eq!(
        format!("{}://{}{}", l.scheme(), l.host_str().unwrap(), l.path()),
        CB
    );
    let p = a.params();
    assert_eq!(p["state"], "st-123");
    assert_eq!(p["iss"], fx.issuer());
    assert!(!p.contains_key("error"), "{p:?}");
    p["code"].clone()
}

pub(crate) fn assert_error_redirect(a: &Answer, fx: &Fixture, error: &str) {
    assert_eq!(a.status, 303, "{}", a.body);
    assert!(a.location().unwrap().as_str().starts_with(CB));
    let p = a.params();
    assert_eq!(p["error"], error, "{p:?}");
    assert!(p.contains_key("error_description"));
    assert_eq!(p["state"], "st-123");
    assert_eq!(p["iss"], fx.issuer());
    assert!(!p.contains_key("code"));
}
