//! The back channel in-process: discovery, the token endpoint's grants and
//! errors (RFC 6749 §5.2), userinfo, introspection and revocation, and
//! tenant isolation of every token. Codes are issued directly through the
//! code store here; the browser flow that issues them is tested in `front`.

use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use base64::Engine as _;
use gatehouse_core::testing::unique_slug;
use gatehouse_oidc::clients::{self, NewClient};
use gatehouse_oidc::codes::{self, CodeGrant};
use gatehouse_oidc::users::{self, NewUser};
use gatehouse_web::AppState;
use jsonwebtoken::jwk::JwkSet;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::support::{app, get, get_with, send};

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const REDIRECT: &str = "https://rp.example/cb";

struct Tenant {
    slug: String,
    id: gatehouse_core::TenantId,
    client_id: String,
    secret: String,
    m2m_id: String,
    m2m_secret: String,
    user: Uuid,
}

async fn tenant(state: &AppState) -> Tenant {
    let t = state
        .tenancy
        .tenants
        .create(&unique_slug("proto"), "Proto")
        .await
        .unwrap();
    let mut tx = state.db.tenant_tx(t.id).await.unwrap();
    let hash = state.hasher.hash("pw".into()).await.unwrap();
    let user = users::create(
        &mut tx,
        NewUser {
            username: "alice".into(),
            email: Some("alice@example.com".into()),
            name: Some("Alice".into()),
            password_hash: Some(hash),
        },
    )
    .await
    .unwrap();
    let base = NewClient {
        name: "RP".into(),
        redirect_uris: vec![REDIRECT.into()],
        post_logout_redirect_uris: vec![],
        public: false,
        first_party: false,
        allow_http: false,
        auth_method: None,
        grant_types: vec![],
        scopes: vec![],
        jwks: None,
        jwks_uri: None,
    };
    let (rp, secret) = clients::create(&mut tx, base.clone()).await.unwrap();
    let m2m = NewClient {
        name: "M2M".into(),
        redirect_uris: vec![],
        auth_method: Some("client_secret_post".into()),
        grant_types: vec!["client_credentials".into()],
        scopes: vec!["api:read".into(), "api:write".into()],
        ..base
    };
    let (m2m, m2m_secret) = clients::create(&mut tx, m2m).await.unwrap();
    tx.commit().await.unwrap();
    Tenant {
        slug: t.slug.to_string(),
        id: t.id,
        client_id: rp.client_id,
        secret: secret.unwrap(),
        m2m_id: m2m.client_id,
        m2m_secret: m2m_secret.unwrap(),
        user: user.id,
    }
}

/// Another confidential code-flow client of `t`: (client_id, secret).
async fn client_of(state: &AppState, t: &Tenant) -> (String, String) {
    let mut tx = state.db.tenant_tx(t.id).await.unwrap();
    let (c, secret) = clients::create(
        &mut tx,
        NewClient {
            name: "Other RP".into(),
            redirect_uris: vec![REDIRECT.into()],
            post_logout_redirect_uris: vec![],
            public: false,
            first_party: false,
            allow_http: false,
            auth_method: None,
            grant_types: vec![],
            scopes: vec![],
            jwks: None,
            jwks_uri: None,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    (c.client_id, secret.unwrap())
}

fn basic(id: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

fn post(uri: &str, auth: Option<&str>, body: &str) -> Request<Body> {
    let mut b = Request::post(uri).header("content-type", "application/x-www-form-urlencoded");
    if let Some(a) = auth {
        b = b.header("authorization", a);
    }
    b.body(Body::from(body.to_owned())).unwrap()
}

async fn code_for(state: &AppState, t: &Tenant, scope: &str, challenge: Option<&str>) -> String {
    let grant = CodeGrant {
        client_id: t.client_id.clone(),
        redirect_uri: REDIRECT.into(),
        user_id: t.user,
        scope: scope.into(),
        nonce: Some("n-0S6_WzA2Mj".into()),
        code_challenge: challenge.map(str::to_owned),
        auth_time: time::OffsetDateTime::now_utc().unix_timestamp(),
        sid: "sid-1".into(),
        acr: None,
        amr: vec!["pwd".into()],
        family_id: Uuid::new_v4(),
    };
    let keep = Duration::from_secs(600);
    codes::issue(&state.kv, t.id, &grant, Duration::from_secs(60), keep)
        .await
        .unwrap()
}

async fn json_of(app: &axum::Router, req: Request<Body>) -> (u16, Value, axum::http::HeaderMap) {
    let (status, body, response) = send(app, req).await;
    (
        status,
        serde_json::from_str(&body).unwrap_or(Value::Null),
        response.headers().clone(),
    )
}

async fn exchange(
    app: &axum::Router,
    t: &Tenant,
    code: &str,
    verifier: Option<&str>,
) -> (u16, Value, axum::http::HeaderMap) {
    let mut body = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}",
        urlencode(REDIRECT)
    );
    if let Some(v) = verifier {
        body.push_str(&format!("&code_verifier={v}"));
    }
    json_of(
        app,
        post(
            &format!("/t/{}/token", t.slug),
            Some(&basic(&t.client_id, &t.secret)),
            &body,
        ),
    )
    .await
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn protocol_discovery_names_the_tenant_issuer_and_endpoints_that_answer() {
    let (app, state) = app().await;
    let t = tenant(&state).await;
    let (status, doc, _) = json_of(
        &app,
        get(&format!("/t/{}/.well-known/openid-configuration", t.slug)),
    )
    .await;
    assert_eq!(status, 200);
    let issuer = format!("http://127.0.0.1:8080/t/{}", t.slug);
    assert_eq!(doc["issuer"], issuer);
    for (k, p) in [
        ("token_endpoint", "/token"),
        ("jwks_uri", "/.well-known/jwks.json"),
        ("userinfo_endpoint", "/userinfo"),
    ] {
        assert_eq!(doc[k], format!("{issuer}{p}"));
    }
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    let (status, jwks, _) =
        json_of(&app, get(&format!("/t/{}/.well-known/jwks.json", t.slug))).await;
    assert_eq!((status, jwks["keys"].as_array().unwrap().len()), (200, 6));
}

#[tokio::test]
async fn protocol_client_credentials_issues_an_rfc_9068_access_token_within_the_allowed_scopes() {
    let (app, state) = app().await;
    let t = tenant(&state).await;
    let uri = format!("/t/{}/token", t.slug);
    let body = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}&scope=api%3Aread",
        t.m2m_id, t.m2m_secret
    );
    let (status, tok, headers) = json_of(&app, post(&uri, None, &body)).await;
    assert_eq!(status, 200, "{tok}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(
        (tok["token_type"].as_str(), tok["scope"].as_str()),
        (Some("Bearer"), Some("api:read"))
    );
    assert!(tok.get("refresh_token").is_none() && tok.get("id_token").is_none());
    let header = jsonwebtoken::decode_header(tok["access_token"].as_str().unwrap()).unwrap();
    assert_eq!(
        (header.typ.as_deref(), header.alg),
        (Some("at+jwt"), jsonwebtoken::Algorithm::ES256)
    );

    // Introspection by the same client: active, with RFC 9068 claims.
    let body = format!(
        "token={}&client_id={}&client_secret={}",
        tok["access_token"].as_str().unwrap(),
        t.m2m_id,
        t.m2m_secret
    );
    let (_, intro, _) = json_of(
        &app,
        post(&format!("/t/{}/introspect", t.slug), None, &body),
    )
    .await;
    assert_eq!(intro["active"], true);
    assert_eq!(
        (intro["sub"].as_str(), intro["client_id"].as_str()),
        (Some(t.m2m_id.as_str()), Some(t.m2m_id.as_str()))
    );

    // A wider scope, a basic-auth secret for a post client, a public grant.
    let wide = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}&scope=admin",
        t.m2m_id, t.m2m_secret
    );
    assert_eq!(
        json_of(&app, post(&uri, None, &wide)).await.1["error"],
        "invalid_scope"
    );
    let (status, err, headers) = json_of(
        &app,
        post(
            &uri,
            Some(&basic(&t.m2m_id, &t.m2m_secret)),
            "grant_type=client_credentials",
        ),
    )
    .await;
    assert_eq!(
        (status, err["error"].as_str()),
        (401, Some("invalid_client"))
    );
    assert!(headers.contains_key("www-authenticate"));
    let rp = post(
        &uri,
        Some(&basic(&t.client_id, &t.secret)),
        "grant_type=client_credentials",
    );
    assert_eq!(json_of(&app, rp).await.1["error"], "unauthorized_client");
}

/// Client authentication reads clients from the tenant's provider. A
/// changed secret or a deleted client, once announced, is refused at once.
#[tokio::test]
async fn protocol_a_rotated_secret_or_deleted_client_stops_authenticating_when_announced() {
    let (app, state) = app().await;
    let t = tenant(&state).await;
    let uri = format!("/t/{}/token", t.slug);
    let grant = |secret: &str| {
        post(
            &uri,
            None,
            &format!(
                "grant_type=client_credentials&client_id={}&client_secret={secret}",
                t.m2m_id
            ),
        )
    };
    assert_eq!(json_of(&app, grant(&t.m2m_secret)).await.0, 200);
    let record = state.tenancy.tenants.get(&t.slug).await.unwrap();

    let mut tx = state.db.tenant_tx(t.id).await.unwrap();
    let new_secret = clients::rotate_secret(&mut tx, &t.m2m_id).await.unwrap();
    tx.commit().await.unwrap();
    state
        .tenancy
        .tenants
        .announce(&record, gatehouse_core::events::Change::Clients)
        .await;
    let mut old = 0;
    for _ in 0..100 {
        old = json_of(&app, grant(&t.m2m_secret)).await.0;
        if old == 401 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(old, 401, "the old secret still authenticates");
    assert_eq!(json_of(&app, grant(&new_secret)).await.0, 200);

    let mut tx = state.db.tenant_tx(t.id).await.unwrap();
    clients::delete(&mut tx, &t.m2m_id).await.unwrap();
    tx.commit().await.unwrap();
    state
        .tenancy
        .tenants
        .announce(&record, gatehouse_core::events::Change::Clients)
        .await;
    let mut status = 0;
    for _ in 0..100 {
        status = json_of(&app, grant(&new_secret)).await.0;
        if status == 401 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(status, 401, "a deleted client still authenticates");
}

#[tokio::test]
async fn protocol_token_endpoint_errors_follow_rfc_6749_section_5_2() {
    let (app, state) = app().await;
    let t = tenant(&state).await;
    let uri = format!("/t/{}/token", t.slug);
    let auth = basic(&t.client_id, &t.secret);
    let cases: Vec<(Request<Body>, u16, &str)> = vec![
        (post(&uri, Some(&auth), ""), 400, "invalid_request"),
        (
            post(
                &uri,
                Some(&auth),
                "grant_type=password&username=a&password=b",
            ),
            400,
            "unsupported_grant_type",
        ),
        (
            post(
                &uri,
                Some(&auth),
                "grant_type=authorization_code&grant_type=authorization_code",
            ),
            400,
            "invalid_request",
        ),
        (
            post(
                &uri,
                Some(&basic(&t.client_id, "wrong")),
                "grant_type=authorization_code&code=x",
            ),
            401,
            "invalid_client",
        ),
        (
            post(
                &uri,
                Some(&basic("nobody", "x")),
                "grant_type=authorization_code&code=x",
            ),
            401,
            "invalid_client",
        ),
        (
            post(&uri, None, "grant_type=authorization_code&code=x"),
            401,
            "invalid_client",
        ),
        (
            post(
                &uri,
                Some(&auth),
                "grant_type=authorization_code&code=nope&redirect_uri=x",
            ),
            400,
            "invalid_grant",
        ),
        (
            post(
                &uri,
                Some(&auth),
                "grant_type=refresh_token&refresh_token=nope",
            ),
            400,
            "invalid_grant",
        ),
        (
            post(
                &uri,
                Some(&auth),
                &format!(
                    "grant_type=authorization_code&code=x&client_secret={}",
                    t.secret
                ),
            ),
            400,
            "invalid_request",
        ),
        (
            Request::post(&uri)
                .header("authorization", &auth)
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .unwrap(),
            400,
            "invalid_request",
        ),
    ];
    for (req, status, code) in cases {
        let (s, body, headers) = json_of(&app, req).await;
        assert_eq!((s, body["error"].as_str()), (status, Some(code)), "{body}");
        assert_eq!(headers["cache-control"], "no-store");
    }
}

#[tokio::test]
async fn protocol_a_code_with_pkce_yields_verifiable_tokens_and_userinfo() {
    let (app, state) = app().await;
    let t = tenant(&state).await;
    let code = code_for(
        &state,
        &t,
        "openid profile email offline_access",
        Some(CHALLENGE),
    )
    .await;
    let (status, tok, headers) = exchange(&app, &t, &code, Some(VERIFIER)).await;
    assert_eq!(status, 200, "{tok}");
    assert_eq!(headers["cache-control"], "no-store");
    let id_token = tok["id_token"].as_str().unwrap();
    let access = tok["access_token"].as_str().unwrap();
    assert!(tok["refresh_token"].as_str().is_some());

    // The ID token verifies with the tenant's JWKS (RS256 by default).
    let (_, jwks, _) = json_of(&app, get(&format!("/t/{}/.well-known/jwks.json", t.slug))).await;
    let set: JwkSet = serde_json::from_value(jwks).unwrap();
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    let key =
        jsonwebtoken::DecodingKey::from_jwk(set.find(header.kid.as_deref().unwrap()).unwrap())
            .unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(&[&t.client_id]);
    v.set_issuer(&[format!("http://127.0.0.1:8080/t/{}", t.slug)]);
    let claims = jsonwebtoken::decode::<Value>(id_token, &key, &v)
        .unwrap()
        .claims;
    assert_eq!(claims["sub"], t.user.to_string());
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(
        (claims["azp"].as_str(), claims["sid"].as_str()),
        (Some(t.client_id.as_str()), Some("sid-1"))
    );
    assert_eq!(
        claims["at_hash"],
        gatehouse_oidc::tokens::at_hash(access, gatehouse_oidc::keys::Alg::RS256)
    );
    assert!(claims["auth_time"].is_i64() && claims["amr"] == json!(["pwd"]));

    // userinfo by header (GET) and by body (POST); claims follow the scopes.
    let bearer = format!("Bearer {access}");
    let (status, info, _) = json_of(
        &app,
        get_with(
            &format!("/t/{}/userinfo", t.slug),
            &[("authorization", bearer.as_bytes())],
        ),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(info["sub"], t.user.to_string());
    assert_eq!(
        (info["email"].as_str(), info["name"].as_str()),
        (Some("alice@example.com"), Some("Alice"))
    );
    assert_eq!(info["preferred_username"], "alice");
    assert!(info.get("phone_number").is_none());
    let (status, info, _) = json_of(
        &app,
        post(
            &format!("/t/{}/userinfo", t.slug),
            None,
            &format!("access_token={access}"),
        ),
    )
    .await;
    assert_eq!(
        (status, info["sub"].as_str()),
        (200, Some(t.user.to_string().as_str()))
    );
    let (status, _, headers) = json_of(&app, get(&format!("/t/{}/userinfo", t.slug))).await;
    assert_eq!(status, 401);
    assert_eq!(headers["www-authenticate"], "Bearer realm=\"gatehouse\"");
}

#[tokio::test]
async fn protocol_a_replayed_code_is_refused_and_revokes_what_it_issued() {
    let (app, state) = app().await;
    let t = tenant(&state).await;
    let code = code_for(&state, &t, "openid offline_access", Some(CHALLENGE)).await;
    let (_, first, _) = exchange(&app, &t, &code, Some(VERIFIER)).await;
    let (status, again, _) = exchange(&app, &t, &code, Some(VERIFIER)).await;
    assert_eq!(
        (status, again["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let refresh = format!(
        "grant_type=refresh_token&refresh_token={}",
        first["refresh_token"].as_str().unwrap()
    );
    let (_, refused, _) = json_of(
        &app,
        post(
            &format!("/t/{}/token", t.slug),
            Some(&basic(&t.client_id, &t.secret)),
            &refresh,
        ),
    )
    .await;
    assert_eq!(
        refused["error"], "invalid_grant",
        "the refresh token issued from the replayed code is revoked"
    );
    let bearer = format!("Bearer {}", first["access_token"].as_str().unwrap());
    assert_eq!(
        send(
            &app,
            get_with(
                &format!("/t/{}/userinfo", t.slug),
                &[("authorization", bearer.as_bytes())]
            )
        )
        .await
        .0,
        401
    );
}

#[tokio::test]
async fn protocol_pkce_and_redirect_uri_are_checked_at_the_token_endpoint() {
    let (app, state) = app().await;
    let t = tenant(&state).await;
    let wrong_verifier = "x".repeat(43);
    for verifier in [None, Some(wrong_verifier.as_str())] {
        let code = code_for(&state, &t, "openid", Some(CHALLENGE)).await;
        assert_eq!(
            exchange(&app, &t, &code, verifier).await.1["error"],
            "invalid_grant"
        );
    }
    // A verifier for a code that had no challenge is a downgrade attempt.
    let code = code_for(&state, &t, "openid", None).await;
    assert_eq!(
        exchange(&app, &t, &code, Some(VERIFIER)).await.1["error"],
        "invalid_grant"
    );
    let code = code_for(&state, &t, "openid", Some(CHALLENGE)).await;
    let body = format!("grant_type=authorization_code&code={code}&redirect_uri=https%3A%2F%2Fevil.example%2Fcb&code_verifier={VERIFIER}");
    let (_, err, _) = json_of(
        &app,
        post(
            &format!("/t/{}/token", t.slug),
            Some(&basic(&t.client_id, &t.secret)),
            &body,
        ),
    )
    .await;
    assert_eq!(err["error"], "invalid_grant");
}

#[tokio::test]
async fn protocol_refresh_tokens_rotate_narrow_and_revoke_their_family_on_reuse() {
    let (app, state) = app().await;
    let t = tenant(&state).await;
    let code = code_for(&state, &t, "openid profile email", Some(CHALLENGE)).await;
    let (_, first, _) = exchange(&app, &t, &code, Some(VERIFIER)).await;
    let uri = format!("/t/{}/token", t.slug);
    let auth = basic(&t.client_id, &t.secret);
    let r1 = first["refresh_token"].as_str().unwrap();

    let wider = format!("grant_type=refresh_token&refresh_token={r1}&scope=openid%20phone");
    assert_eq!(
        json_of(&app, post(&uri, Some(&auth), &wider)).await.1["error"],
        "invalid_scope"
    );
    let narrow = format!("grant_type=refresh_token&refresh_token={r1}&scope=openid%20email");
    let (status, second, _) = json_of(&app, post(&uri, Some(&auth), &narrow)).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["scope"], "openid email");
    let r2 = second["refresh_token"].as_str().unwrap();
    assert_ne!(r1, r2, "rotated on every use");

    // A locked user's grant is held, not lost: refused while locked, and
    // the same token works again once unlocked.
    let set_locked = |locked: bool| {
        let state = state.clone();
        let (tenant, user) = (t.id, t.user);
        async move {
            let mut tx = state.db.tenant_tx(tenant).await.unwrap();
            users::set_locked(&mut tx, user, locked).await.unwrap();
            tx.commit().await.unwrap();
        }
    };
    let keep = format!("grant_type=refresh_token&refresh_token={r2}");
    set_locked(true).await;
    assert_eq!(
        json_of(&app, post(&uri, Some(&auth), &keep)).await.1["error"],
        "invalid_grant"
    );
    set_locked(false).await;
    let (status, third, _) = json_of(&app, post(&uri, Some(&auth), &keep)).await;
    assert_eq!(status, 200, "{third}");
    let r3 = third["refresh_token"].as_str().unwrap();

    // Another client presenting the token gets invalid_grant, and the
    // token's family is untouched.
    let other = client_of(&state, &t).await;
    let by_other = format!("grant_type=refresh_token&refresh_token={r3}");
    assert_eq!(
        json_of(
            &app,
            post(&uri, Some(&basic(&other.0, &other.1)), &by_other)
        )
        .await
        .1["error"],
        "invalid_grant"
    );
    let (status, fourth, _) = json_of(&app, post(&uri, Some(&auth), &by_other)).await;
    assert_eq!(status, 200, "still live for its own client: {fourth}");
    let r2 = fourth["refresh_token"].as_str().unwrap();

    // Presenting the rotated r1 again revokes the family, r2 included.
    let reuse = format!("grant_type=refresh_token&refresh_token={r1}");
    assert_eq!(
        json_of(&app, post(&uri, Some(&auth), &reuse)).await.1["error"],
        "invalid_grant"
    );
    let next = format!("grant_type=refresh_token&refresh_token={r2}");
    assert_eq!(
        json_of(&app, post(&uri, Some(&auth), &next)).await.1["error"],
        "invalid_grant"
    );
}

#[tokio::test]
async fn protocol_revocation_and_introspection_follow_rfc_7009_and_7662() {
    let (app, state) = app().await;
    let t = tenant(&state).await;
    let code = code_for(&state, &t, "openid", Some(CHALLENGE)).await;
    let (_, tok, _) = exchange(&app, &t, &code, Some(VERIFIER)).await;
    let auth = basic(&t.client_id, &t.secret);
    let access = tok["access_token"].as_str().unwrap();
    let refresh = tok["refresh_token"].as_str().unwrap();
    let introspect = |token: &str| {
        post(
            &format!("/t/{}/introspect", t.slug),
            Some(&auth),
            &format!("token={token}"),
        )
    };

    assert_eq!(json_of(&app, introspect(access)).await.1["active"], true);
    let r = json_of(&app, introspect(refresh)).await.1;
    assert_eq!(
        (r["active"].as_bool(), r["token_type"].as_str()),
        (Some(true), Some("refresh_token"))
    );
    assert_eq!(
        json_of(&app, introspect("garbage")).await.1,
        json!({"active": false})
    );
    // Introspection needs client authentication.
    let anonymous = post(
        &format!("/t/{}/introspect", t.slug),
        None,
        &format!("token={access}"),
    );
    assert_eq!(json_of(&app, anonymous).await.0, 401);

    for token in [access, refresh, "unknown-token"] {
        let (status, _, _) = json_of(
            &app,
            post(
                &format!("/t/{}/revoke", t.slug),
                Some(&auth),
                &format!("token={token}"),
            ),
        )
        .await;
        assert_eq!(status, 200);
    }
    assert_eq!(json_of(&app, introspect(access)).await.1["active"], false);
    assert_eq!(json_of(&app, introspect(refresh)).await.1["active"], false);
}

#[tokio::test]
async fn protocol_tokens_of_tenant_a_are_worthless_at_tenant_b() {
    let (app, state) = app().await;
    let a = tenant(&state).await;
    let b = tenant(&state).await;
    let code = code_for(&state, &a, "openid profile", Some(CHALLENGE)).await;
    let (_, tok, _) = exchange(&app, &a, &code, Some(VERIFIER)).await;
    let access = tok["access_token"].as_str().unwrap();
    let refresh = tok["refresh_token"].as_str().unwrap();
    let b_auth = basic(&b.client_id, &b.secret);

    // A's code at B's token endpoint.
    let code = code_for(&state, &a, "openid", Some(CHALLENGE)).await;
    let body = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}&code_verifier={VERIFIER}",
        urlencode(REDIRECT)
    );
    assert_eq!(
        json_of(
            &app,
            post(&format!("/t/{}/token", b.slug), Some(&b_auth), &body)
        )
        .await
        .1["error"],
        "invalid_grant"
    );
    // A's refresh token at B.
    let body = format!("grant_type=refresh_token&refresh_token={refresh}");
    assert_eq!(
        json_of(
            &app,
            post(&format!("/t/{}/token", b.slug), Some(&b_auth), &body)
        )
        .await
        .1["error"],
        "invalid_grant"
    );
    // A's access token at B's userinfo and introspection.
    let bearer = format!("Bearer {access}");
    assert_eq!(
        send(
            &app,
            get_with(
                &format!("/t/{}/userinfo", b.slug),
                &[("authorization", bearer.as_bytes())]
            )
        )
        .await
        .0,
        401
    );
    for token in [access, refresh] {
        let intro = post(
            &format!("/t/{}/introspect", b.slug),
            Some(&b_auth),
            &format!("token={token}"),
        );
        assert_eq!(json_of(&app, intro).await.1, json!({"active": false}));
    }
    // A's client cannot authenticate at B.
    let cross = post(
        &format!("/t/{}/token", b.slug),
        Some(&basic(&a.client_id, &a.secret)),
        "grant_type=client_credentials",
    );
    assert_eq!(json_of(&app, cross).await.0, 401);
    // A's ID token does not verify under B's JWKS.
    let (_, jwks, _) = json_of(&app, get(&format!("/t/{}/.well-known/jwks.json", b.slug))).await;
    let set: JwkSet = serde_json::from_value(jwks).unwrap();
    let kid = jsonwebtoken::decode_header(tok["id_token"].as_str().unwrap())
        .unwrap()
        .kid
        .unwrap();
    assert!(set.find(&kid).is_none());
}

#[tokio::test]
async fn protocol_private_key_jwt_authenticates_once_per_assertion() {
    use gatehouse_oidc::keys::{Alg, SigningKey};
    let (app, state) = app().await;
    let t = tenant(&state).await;
    let (key, _) = SigningKey::generate(Alg::ES256).unwrap();
    let (other, _) = SigningKey::generate(Alg::ES256).unwrap();
    let mut tx = state.db.tenant_tx(t.id).await.unwrap();
    let (client, secret) = clients::create(
        &mut tx,
        NewClient {
            name: "Signed".into(),
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            public: false,
            first_party: false,
            allow_http: false,
            auth_method: Some("private_key_jwt".into()),
            grant_types: vec!["client_credentials".into()],
            scopes: vec!["api".into()],
            jwks: Some(json!({ "keys": [key.public_jwk()] })),
            jwks_uri: None,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert!(secret.is_none(), "a private_key_jwt client has no secret");
    let token_url = format!("http://127.0.0.1:8080/t/{}/token", t.slug);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let sign = |k: &SigningKey, aud: &str, exp: i64, jti: &str| {
        gatehouse_oidc::jws::sign(
            k,
            None,
            &json!({"iss": client.client_id, "sub": client.client_id, "aud": aud, "exp": exp, "iat": now, "jti": jti}),
        )
        .unwrap()
    };
    let request = |assertion: &str| {
        post(
            &format!("/t/{}/token", t.slug),
            None,
            &format!(
                "grant_type=client_credentials&client_assertion_type={}&client_assertion={assertion}",
                urlencode(gatehouse_oidc::client_auth::JWT_BEARER)
            ),
        )
    };
    let good = sign(&key, &token_url, now + 60, "a-1");
    let (status, body, _) = json_of(&app, request(&good)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "api");
    // The same assertion again: its jti was used.
    assert_eq!(json_of(&app, request(&good)).await.0, 401);
    for bad in [
        sign(&key, "https://elsewhere.example/token", now + 60, "a-2"),
        sign(&key, &token_url, now - 120, "a-3"),
        sign(&other, &token_url, now + 60, "a-4"),
    ] {
        let (status, body, _) = json_of(&app, request(&bad)).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("invalid_client"))
        );
    }
    // A secret-based client cannot authenticate with an assertion.
    let forged = gatehouse_oidc::jws::sign(
        &key,
        None,
        &json!({"iss": t.client_id, "sub": t.client_id, "aud": token_url, "exp": now + 60, "jti": "a-5"}),
    )
    .unwrap();
    assert_eq!(json_of(&app, request(&forged)).await.0, 401);
}

#[tokio::test]
async fn protocol_id_tokens_use_the_clients_registered_algorithm() {
    let (app, state) = app().await;
    let t = tenant(&state).await;
    let mut tx = state.db.tenant_tx(t.id).await.unwrap();
    assert!(clients::set_id_token_alg(&mut tx, &t.client_id, "HS256")
        .await
        .is_err());
    clients::set_id_token_alg(&mut tx, &t.client_id, "EdDSA")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let code = code_for(&state, &t, "openid", Some(CHALLENGE)).await;
    let (status, tok, _) = exchange(&app, &t, &code, Some(VERIFIER)).await;
    assert_eq!(status, 200, "{tok}");
    let id_token = tok["id_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);
    let (_, jwks, _) = json_of(&app, get(&format!("/t/{}/.well-known/jwks.json", t.slug))).await;
    let set: JwkSet = serde_json::from_value(jwks).unwrap();
    let key =
        jsonwebtoken::DecodingKey::from_jwk(set.find(header.kid.as_deref().unwrap()).unwrap())
            .unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    v.set_audience(&[&t.client_id]);
    assert!(jsonwebtoken::decode::<Value>(id_token, &key, &v).is_ok());
}

/// A client's JWK Set served over HTTP on loopback; `set` swaps what it
/// serves, `fetches` counts requests.
struct JwksHost {
    url: String,
    set: std::sync::Arc<std::sync::Mutex<Value>>,
    fetches: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl JwksHost {
    async fn start(initial: Value) -> Self {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::{Arc, Mutex};
        let set = Arc::new(Mutex::new(initial));
        let fetches = Arc::new(AtomicUsize::new(0));
        let (s, n) = (set.clone(), fetches.clone());
        let router = axum::Router::new().route(
            "/jwks.json",
            axum::routing::get(move || {
                let (s, n) = (s.clone(), n.clone());
                async move {
                    n.fetch_add(1, Ordering::SeqCst);
                    let body = s.lock().unwrap().clone();
                    axum::Json(body)
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { url, set, fetches }
    }

    fn fetches(&self) -> usize {
        self.fetches.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[tokio::test]
async fn protocol_private_key_jwt_with_a_jwks_uri_fetches_caches_and_follows_rotation() {
    use gatehouse_oidc::client_keys::ClientKeys;
    use gatehouse_oidc::keys::{Alg, SigningKey};
    let db = gatehouse_core::testing::test_db().await;
    let bus = gatehouse_core::events::EventBus::local();
    let mut state = AppState::new(crate::support::test_config(), db, bus).unwrap();
    // Refetch at once for an unknown kid (the default waits 30 s between).
    state.client_keys = ClientKeys::with_refetch_interval(false, Duration::ZERO).unwrap();
    let app = gatehouse_web::server::service(state.clone());
    let t = tenant(&state).await;
    let (first, _) = SigningKey::generate(Alg::ES256).unwrap();
    let (second, _) = SigningKey::generate(Alg::EdDSA).unwrap();
    let host = JwksHost::start(json!({ "keys": [first.public_jwk()] })).await;

    let mut tx = state.db.tenant_tx(t.id).await.unwrap();
    let new = |jwks: Option<Value>, uri: Option<&str>| NewClient {
        name: "Published keys".into(),
        redirect_uris: vec![],
        post_logout_redirect_uris: vec![],
        public: false,
        first_party: false,
        allow_http: false,
        auth_method: Some("private_key_jwt".into()),
        grant_types: vec!["client_credentials".into()],
        scopes: vec!["api".into()],
        jwks,
        jwks_uri: uri.map(str::to_owned),
    };
    // Registration: both key sources, or a non-https remote URI, is refused.
    let both = new(
        Some(json!({ "keys": [first.public_jwk()] })),
        Some(&host.url),
    );
    assert!(clients::create(&mut tx, both).await.is_err());
    let plain = new(None, Some("http://rp.example/jwks.json"));
    assert!(clients::create(&mut tx, plain).await.is_err());
    let (client, _) = clients::create(&mut tx, new(None, Some(&host.url)))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(client.jwks_uri.as_deref(), Some(host.url.as_str()));

    let token_url = format!("http://127.0.0.1:8080/t/{}/token", t.slug);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let sign = |k: &SigningKey, jti: &str| {
        gatehouse_oidc::jws::sign(
            k,
            None,
            &json!({"iss": client.client_id, "sub": client.client_id, "aud": token_url, "exp": now + 60, "jti": jti}),
        )
        .unwrap()
    };
    let request = |assertion: String| {
        post(
            &format!("/t/{}/token", t.slug),
            None,
            &format!(
                "grant_type=client_credentials&client_assertion_type={}&client_assertion={assertion}",
                urlencode(gatehouse_oidc::client_auth::JWT_BEARER)
            ),
        )
    };
    let (status, body, _) = json_of(&app, request(sign(&first, "u-1"))).await;
    assert_eq!(status, 200, "{body}");
    let (status, _, _) = json_of(&app, request(sign(&first, "u-2"))).await;
    assert_eq!(status, 200);
    assert_eq!(host.fetches(), 1, "the set is cached");

    // The client rotates: the new kid is unknown, so the set is fetched again.
    *host.set.lock().unwrap() = json!({ "keys": [second.public_jwk()] });
    let (status, body, _) = json_of(&app, request(sign(&second, "u-3"))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(host.fetches(), 2);
    // The retired key no longer authenticates.
    let (status, body, _) = json_of(&app, request(sign(&first, "u-4"))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );

    // A set with private key material is refused.
    let (leaky, _) = SigningKey::generate(Alg::ES256).unwrap();
    let mut jwk = leaky.public_jwk();
    jwk["d"] = json!("AAAA");
    *host.set.lock().unwrap() = json!({ "keys": [jwk] });
    let (status, _, _) = json_of(&app, request(sign(&leaky, "u-5"))).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn protocol_a_revoked_refresh_token_takes_its_grants_access_tokens_along() {
    let (app, state) = app().await;
    let t = tenant(&state).await;
    let auth = basic(&t.client_id, &t.secret);
    let introspect = |token: &str| {
        post(
            &format!("/t/{}/introspect", t.slug),
            Some(&auth),
            &format!("token={token}"),
        )
    };
    let refresh = |token: &str| {
        post(
            &format!("/t/{}/token", t.slug),
            Some(&auth),
            &format!("grant_type=refresh_token&refresh_token={token}"),
        )
    };
    let active = |v: Value| v["active"].as_bool().unwrap();

    // Grant 1: a code, then one refresh.
    let code = code_for(&state, &t, "openid", Some(CHALLENGE)).await;
    let (_, first, _) = exchange(&app, &t, &code, Some(VERIFIER)).await;
    let (status, second, _) =
        json_of(&app, refresh(first["refresh_token"].as_str().unwrap())).await;
    assert_eq!(status, 200, "{second}");
    // Grant 2, the same user and client.
    let code = code_for(&state, &t, "openid", Some(CHALLENGE)).await;
    let (_, other, _) = exchange(&app, &t, &code, Some(VERIFIER)).await;

    // RFC 7009 §2.1: revoking the refresh token invalidates the access
    // tokens of the same grant.
    let (status, _, _) = json_of(
        &app,
        post(
            &format!("/t/{}/revoke", t.slug),
            Some(&auth),
            &format!("token={}", second["refresh_token"].as_str().unwrap()),
        ),
    )
    .await;
    assert_eq!(status, 200);
    for tok in [&first, &second] {
        let access = tok["access_token"].as_str().unwrap();
        assert!(!active(json_of(&app, introspect(access)).await.1));
        let bearer = format!("Bearer {access}");
        let userinfo = get_with(
            &format!("/t/{}/userinfo", t.slug),
            &[("authorization", bearer.as_bytes())],
        );
        assert_eq!(json_of(&app, userinfo).await.0, 401);
    }
    let other_access = other["access_token"].as_str().unwrap();
    assert!(
        active(json_of(&app, introspect(other_access)).await.1),
        "another grant is untouched"
    );

    // A rotated refresh token presented again (RFC 9700 §4.14.2) revokes
    // its family and, with it, the grant's access tokens.
    let (_, next, _) = json_of(&app, refresh(other["refresh_token"].as_str().unwrap())).await;
    let next_access = next["access_token"].as_str().unwrap();
    assert!(active(json_of(&app, introspect(next_access)).await.1));
    let (status, replay, _) =
        json_of(&app, refresh(other["refresh_token"].as_str().unwrap())).await;
    assert_eq!(
        (status, replay["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert!(!active(json_of(&app, introspect(next_access)).await.1));
    assert!(!active(json_of(&app, introspect(other_access)).await.1));
}

/// The claims of a JWT, unverified (the tests above verify signatures).
fn payload(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn protocol_the_roles_scope_puts_custom_roles_in_tokens_and_userinfo() {
    use gatehouse_admin::roles;
    let (app, state) = app().await;
    let t = tenant(&state).await;
    let mut tx = state.db.tenant_tx(t.id).await.unwrap();
    roles::create(&mut tx, "editor", "Edits").await.unwrap();
    roles::create(&mut tx, "billing.viewer", "Reads invoices")
        .await
        .unwrap();
    for role in ["editor", "billing.viewer", "admin"] {
        roles::assign(&mut tx, false, t.user, role).await.unwrap();
    }
    tx.commit().await.unwrap();
    // Another tenant's custom role of the same name is not this user's.
    let other = tenant(&state).await;
    let mut tx = state.db.tenant_tx(other.id).await.unwrap();
    roles::create(&mut tx, "auditor", "").await.unwrap();
    roles::assign(&mut tx, false, other.user, "auditor")
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let code = code_for(&state, &t, "openid roles", Some(CHALLENGE)).await;
    let (status, tok, _) = exchange(&app, &t, &code, Some(VERIFIER)).await;
    assert_eq!(status, 200, "{tok}");
    // Custom roles only, sorted; the administrative `admin` is never released.
    let expected = json!(["billing.viewer", "editor"]);
    assert_eq!(
        payload(tok["id_token"].as_str().unwrap())["roles"],
        expected
    );
    let access = tok["access_token"].as_str().unwrap();
    assert_eq!(payload(access)["roles"], expected);
    let bearer = format!("Bearer {access}");
    let (status, info, _) = json_of(
        &app,
        get_with(
            &format!("/t/{}/userinfo", t.slug),
            &[("authorization", bearer.as_bytes())],
        ),
    )
    .await;
    assert_eq!((status, &info["roles"]), (200, &expected));

    // Roles are read at every issue: a refresh sees a removed role.
    let mut tx = state.db.tenant_tx(t.id).await.unwrap();
    roles::delete(&mut tx, "editor").await.unwrap();
    tx.commit().await.unwrap();
    let body = format!(
        "grant_type=refresh_token&refresh_token={}",
        tok["refresh_token"].as_str().unwrap()
    );
    let (status, next, _) = json_of(
        &app,
        post(
            &format!("/t/{}/token", t.slug),
            Some(&basic(&t.client_id, &t.secret)),
            &body,
        ),
    )
    .await;
    assert_eq!(status, 200, "{next}");
    assert_eq!(
        payload(next["id_token"].as_str().unwrap())["roles"],
        json!(["billing.viewer"])
    );

    // Without the scope: no claim anywhere. A user without custom roles
    // gets an empty array with the scope.
    let code = code_for(&state, &t, "openid profile", Some(CHALLENGE)).await;
    let (_, tok, _) = exchange(&app, &t, &code, Some(VERIFIER)).await;
    assert!(payload(tok["id_token"].as_str().unwrap())
        .get("roles")
        .is_none());
    assert!(payload(tok["access_token"].as_str().unwrap())
        .get("roles")
        .is_none());
    let mut tx = state.db.tenant_tx(t.id).await.unwrap();
    roles::delete(&mut tx, "billing.viewer").await.unwrap();
    tx.commit().await.unwrap();
    let code = code_for(&state, &t, "openid roles", Some(CHALLENGE)).await;
    let (_, tok, _) = exchange(&app, &t, &code, Some(VERIFIER)).await;
    assert_eq!(
        payload(tok["id_token"].as_str().unwrap())["roles"],
        json!([])
    );

    // The scope is advertised.
    let (_, doc, _) = json_of(
        &app,
        get(&format!("/t/{}/.well-known/openid-configuration", t.slug)),
    )
    .await;
    assert!(doc["scopes_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("roles")));
    assert!(doc["claims_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("roles")));
}
