//! The management API in-process: its authorisation matrix (every
//! operation × a platform token, the tenant's own token, another tenant's
//! token, a token without the scope, a bad token and none), problem
//! documents, what the operations do, their audit records, and the
//! OpenAPI document.

use axum::body::Body;
use axum::http::Request;
use gatehouse_core::ids::PLATFORMS_SLUG;
use gatehouse_core::testing::unique_slug;
use gatehouse_core::TenantId;
use gatehouse_oidc::clients::{self, NewClient};
use gatehouse_oidc::users::{self, NewUser};
use gatehouse_web::AppState;
use serde_json::{json, Value};

use crate::support::{app, send};

const PLATFORM_SCOPES: &str =
    "gatehouse:tenants:read gatehouse:tenants:write gatehouse:tenants:delete \
                               gatehouse:cross-tenant:read gatehouse:cross-tenant:write";
const TENANT_SCOPES: &str = "gatehouse:users:read gatehouse:users:write gatehouse:clients:read \
                             gatehouse:clients:write gatehouse:config:read gatehouse:config:write \
                             gatehouse:keys:write gatehouse:audit:read gatehouse:sessions:write";

/// A client_credentials client of `slug` allowed `scopes`; returns a token
/// for all of them from the tenant's own token endpoint.
async fn token(app: &axum::Router, state: &AppState, slug: &str, scopes: &str) -> String {
    let tenant = state.tenancy.tenants.get(slug).await.unwrap();
    let mut tx = state.db.tenant_tx(tenant.id).await.unwrap();
    let (client, secret) = clients::create(
        &mut tx,
        NewClient {
            name: "automation".into(),
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            public: false,
            first_party: false,
            allow_http: false,
            auth_method: Some("client_secret_post".into()),
            grant_types: vec!["client_credentials".into()],
            scopes: scopes.split_whitespace().map(str::to_owned).collect(),
            jwks: None,
            jwks_uri: None,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let body = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}&scope={}",
        client.client_id,
        secret.unwrap(),
        scopes.replace(' ', "%20").replace(':', "%3A"),
    );
    let req = Request::post(format!("/t/{slug}/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    let (status, body, _) = send(app, req).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<Value>(&body).unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn call(
    app: &axum::Router,
    token: Option<&str>,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> (u16, Value, axum::http::HeaderMap) {
    let mut b = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    let req = match body {
        Some(v) => b
            .header("content-type", "application/json")
            .body(Body::from(v.to_string())),
        None => b.body(Body::empty()),
    }
    .unwrap();
    let (status, text, response) = send(app, req).await;
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::Null),
        response.headers().clone(),
    )
}

async fn user_in(state: &AppState, tenant: TenantId, name: &str) -> uuid::Uuid {
    let mut tx = state.db.tenant_tx(tenant).await.unwrap();
    let u = users::create(
        &mut tx,
        NewUser {
            username: name.into(),
            ..NewUser::default()
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    u.id
}

async fn client_in(state: &AppState, tenant: TenantId) -> String {
    let mut tx = state.db.tenant_tx(tenant).await.unwrap();
    let (c, _) = clients::create(
        &mut tx,
        NewClient {
            name: "victim".into(),
            redirect_uris: vec!["https://rp.example/cb".into()],
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
    c.client_id
}

/// A new browser session of `user`; returns its sid.
async fn session_of(state: &AppState, tenant: TenantId, user: uuid::Uuid) -> String {
    let sid = unique_slug("sid");
    let session = gatehouse_oidc::sessions::Session {
        tenant,
        user_id: user,
        auth_time: time::OffsetDateTime::now_utc().unix_timestamp(),
        sid: sid.clone(),
        amr: vec!["pwd".into()],
        epoch: 0,
        user_agent: String::new(),
    };
    gatehouse_oidc::sessions::store(&state.kv, &session, std::time::Duration::from_secs(600))
        .await
        .unwrap();
    sid
}

/// Who calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Platform,
    PlatformWithoutScope,
    Own,
    OwnWithoutScope,
    Foreign,
    Bad,
    Nobody,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    Platform,
    Tenant,
}

/// One operation, made fresh for each call (a user to delete, a unique slug…).
struct Op {
    name: &'static str,
    reach: Reach,
    method: &'static str,
    uri: String,
    body: Option<Value>,
}

async fn ops(state: &AppState, a: &str, a_id: TenantId, prefix: &str) -> Vec<Op> {
    let user = user_in(state, a_id, &unique_slug("u")).await;
    let doomed = user_in(state, a_id, &unique_slug("d")).await;
    let client = client_in(state, a_id).await;
    let deleted_client = client_in(state, a_id).await;
    let doomed_tenant = unique_slug(&format!("{prefix}-del"));
    state
        .tenancy
        .tenants
        .create(&doomed_tenant, "Doomed")
        .await
        .unwrap();
    let role = unique_slug("role").replace('-', "_");
    {
        let mut tx = state.db.tenant_tx(a_id).await.unwrap();
        gatehouse_admin::roles::create(&mut tx, &role, "")
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    // A first version of the branding section, for the restore operation.
    let record = state.tenancy.tenants.get(a).await.unwrap();
    let platform = gatehouse_tenancy::settings::EffectiveSettings::platform(&state.config.settings);
    gatehouse_tenancy::sections::update(
        &gatehouse_tenancy::sections::Writer {
            db: &state.db,
            bus: &state.bus,
            keyring: &state.keyring,
            platform: &platform,
            actor: gatehouse_core::audit::Actor::system(),
        },
        &record,
        "branding",
        json!({ "company_name": "Matrix" }),
    )
    .await
    .unwrap();
    // Custom domains to change and to remove.
    let rules = state.domain_rules();
    let mut hosts = Vec::new();
    for what in ["chg", "rm"] {
        let host = format!("{}.matrix.example", unique_slug(what));
        state
            .tenancy
            .tenants
            .add_domain(
                &record,
                &host,
                false,
                &rules,
                gatehouse_core::audit::Actor::system(),
            )
            .await
            .unwrap();
        hosts.push(host);
    }
    let (changed_host, removed_host) = (&hosts[0], &hosts[1]);
    let t = |p: &str| format!("/api/v1/tenants/{a}{p}");
    let op = |name, reach, method, uri: String, body| Op {
        name,
        reach,
        method,
        uri,
        body,
    };
    vec![
        op(
            "list tenants",
            Reach::Platform,
            "GET",
            format!("/api/v1/tenants?q={prefix}"),
            None,
        ),
        op(
            "create tenant",
            Reach::Platform,
            "POST",
            "/api/v1/tenants".into(),
            Some(json!({ "slug": unique_slug(&format!("{prefix}-new")), "display_name": "New" })),
        ),
        op(
            "get tenant",
            Reach::Platform,
            "GET",
            format!("/api/v1/tenants/{a}"),
            None,
        ),
        op(
            "rename tenant",
            Reach::Platform,
            "PATCH",
            format!("/api/v1/tenants/{a}"),
            Some(json!({ "display_name": "A renamed" })),
        ),
        op(
            "list domains",
            Reach::Platform,
            "GET",
            format!("/api/v1/tenants/{a}/domains"),
            None,
        ),
        op(
            "add domain",
            Reach::Platform,
            "POST",
            format!("/api/v1/tenants/{a}/domains"),
            Some(json!({ "host": format!("{}.matrix.example", unique_slug("add")) })),
        ),
        op(
            "change domain",
            Reach::Platform,
            "PATCH",
            format!("/api/v1/tenants/{a}/domains/{changed_host}"),
            Some(json!({ "primary": false })),
        ),
        op(
            "remove domain",
            Reach::Platform,
            "DELETE",
            format!("/api/v1/tenants/{a}/domains/{removed_host}"),
            None,
        ),
        op(
            "tenant status",
            Reach::Platform,
            "PUT",
            format!("/api/v1/tenants/{a}/status"),
            Some(json!({ "status": "active" })),
        ),
        op(
            "delete tenant",
            Reach::Platform,
            "DELETE",
            format!("/api/v1/tenants/{doomed_tenant}?confirm={doomed_tenant}"),
            None,
        ),
        op("list users", Reach::Tenant, "GET", t("/users"), None),
        op(
            "create user",
            Reach::Tenant,
            "POST",
            t("/users"),
            Some(
                json!({ "username": unique_slug("new"), "password": "a long and unusual passphrase" }),
            ),
        ),
        op(
            "get user",
            Reach::Tenant,
            "GET",
            t(&format!("/users/{user}")),
            None,
        ),
        op(
            "update user",
            Reach::Tenant,
            "PATCH",
            t(&format!("/users/{user}")),
            Some(json!({ "disabled": false })),
        ),
        op(
            "delete user",
            Reach::Tenant,
            "DELETE",
            t(&format!("/users/{doomed}")),
            None,
        ),
        op(
            "assign role",
            Reach::Tenant,
            "PUT",
            t(&format!("/users/{user}/roles/member")),
            None,
        ),
        op(
            "list the tenant's sessions",
            Reach::Tenant,
            "GET",
            t("/sessions?limit=5"),
            None,
        ),
        op(
            "list sessions",
            Reach::Tenant,
            "GET",
            t(&format!("/users/{user}/sessions")),
            None,
        ),
        op(
            "end a session",
            Reach::Tenant,
            "DELETE",
            t(&format!(
                "/users/{user}/sessions/{}",
                session_of(state, a_id, user).await
            )),
            None,
        ),
        op(
            "end all sessions",
            Reach::Tenant,
            "DELETE",
            t(&format!("/users/{user}/sessions")),
            None,
        ),
        op("usage", Reach::Tenant, "GET", t("/usage"), None),
        op("list clients", Reach::Tenant, "GET", t("/clients"), None),
        op(
            "create client",
            Reach::Tenant,
            "POST",
            t("/clients"),
            Some(json!({ "name": "API made", "redirect_uris": ["https://rp.example/cb"] })),
        ),
        op(
            "get client",
            Reach::Tenant,
            "GET",
            t(&format!("/clients/{client}")),
            None,
        ),
        op(
            "update client",
            Reach::Tenant,
            "PATCH",
            t(&format!("/clients/{client}")),
            Some(json!({ "disabled": false })),
        ),
        op(
            "rotate secret",
            Reach::Tenant,
            "POST",
            t(&format!("/clients/{client}/secret")),
            None,
        ),
        op(
            "delete client",
            Reach::Tenant,
            "DELETE",
            t(&format!("/clients/{deleted_client}")),
            None,
        ),
        op("list roles", Reach::Tenant, "GET", t("/roles"), None),
        op(
            "create role",
            Reach::Tenant,
            "POST",
            t("/roles"),
            Some(json!({ "name": unique_slug("r").replace('-', "_") })),
        ),
        op(
            "delete role",
            Reach::Tenant,
            "DELETE",
            t(&format!("/roles/{role}")),
            None,
        ),
        op("list keys", Reach::Tenant, "GET", t("/keys"), None),
        op(
            "rotate keys",
            Reach::Tenant,
            "POST",
            t("/keys/rotate"),
            None,
        ),
        op("audit log", Reach::Tenant, "GET", t("/audit"), None),
        op("get config", Reach::Tenant, "GET", t("/config"), None),
        op(
            "put config",
            Reach::Tenant,
            "PUT",
            t("/config/branding"),
            Some(json!({ "company_name": "Matrix Two" })),
        ),
        op(
            "config versions",
            Reach::Tenant,
            "GET",
            t("/config/branding/versions"),
            None,
        ),
        op(
            "restore config",
            Reach::Tenant,
            "POST",
            t("/config/branding/versions/1/restore"),
            None,
        ),
    ]
}

fn expected(who: Who, reach: Reach) -> Option<u16> {
    match (who, reach) {
        (Who::Bad | Who::Nobody, _) => Some(401),
        (Who::Platform, _) | (Who::Own, Reach::Tenant) => None,
        _ => Some(403),
    }
}

#[tokio::test]
async fn api_every_operation_answers_each_kind_of_caller_as_its_scope_says() {
    let (app, state) = app().await;
    let prefix = unique_slug("api");
    let a = format!("{prefix}-a");
    let b = format!("{prefix}-b");
    let a_id = state.tenancy.tenants.create(&a, "A").await.unwrap().id;
    state.tenancy.tenants.create(&b, "B").await.unwrap();
    let platform = token(&app, &state, PLATFORMS_SLUG, PLATFORM_SCOPES).await;
    let platform_weak = token(&app, &state, PLATFORMS_SLUG, "gatehouse:audit:read").await;
    let own = token(&app, &state, &a, TENANT_SCOPES).await;
    let own_weak = token(&app, &state, &a, "api").await;
    let foreign = token(&app, &state, &b, TENANT_SCOPES).await;

    let callers = [
        (Who::Nobody, None),
        (Who::Bad, Some("not.a.token")),
        (Who::Foreign, Some(foreign.as_str())),
        (Who::OwnWithoutScope, Some(own_weak.as_str())),
        (Who::PlatformWithoutScope, Some(platform_weak.as_str())),
        (Who::Own, Some(own.as_str())),
        (Who::Platform, Some(platform.as_str())),
    ];
    for (who, token) in callers {
        for op in ops(&state, &a, a_id, &prefix).await {
            let (status, body, headers) = call(&app, token, op.method, &op.uri, op.body).await;
            match expected(who, op.reach) {
                Some(want) => {
                    assert_eq!(status, want, "{who:?} {}: {body}", op.name);
                    assert_eq!(
                        headers["content-type"], "application/problem+json",
                        "{who:?} {}",
                        op.name
                    );
                    assert_eq!(body["status"], want);
                    assert!(body["type"]
                        .as_str()
                        .unwrap()
                        .starts_with("/api/v1/problems/"));
                    if want == 401 {
                        assert!(headers.contains_key("www-authenticate"));
                    }
                }
                None => assert!(
                    (200..300).contains(&status),
                    "{who:?} {}: {status} {body}",
                    op.name
                ),
            }
        }
    }
}

#[tokio::test]
async fn api_tenants_are_created_listed_suspended_and_deleted_with_their_audit_records() {
    let (app, state) = app().await;
    let platform = token(&app, &state, PLATFORMS_SLUG, PLATFORM_SCOPES).await;
    let p = Some(platform.as_str());
    let prefix = unique_slug("apit");
    for n in 0..3 {
        let (status, body, _) = call(
            &app,
            p,
            "POST",
            "/api/v1/tenants",
            Some(json!({ "slug": format!("{prefix}-{n}"), "display_name": format!("T{n}") })),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["status"], "active");
    }
    // Keyset pages of 2 over the three.
    let (_, first, _) = call(
        &app,
        p,
        "GET",
        &format!("/api/v1/tenants?q={prefix}&limit=2"),
        None,
    )
    .await;
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let next = first["next"].as_str().unwrap();
    let (_, second, _) = call(
        &app,
        p,
        "GET",
        &format!("/api/v1/tenants?q={prefix}&limit=2&after={next}"),
        None,
    )
    .await;
    assert_eq!(second["items"][0]["slug"], format!("{prefix}-2"));
    assert!(second.get("next").is_none());

    // Bad input: a problem naming the field, nothing created.
    for (body, field) in [
        (json!({ "slug": "Bad Slug", "display_name": "x" }), "slug"),
        (
            json!({ "slug": format!("{prefix}-x"), "display_name": "" }),
            "display_name",
        ),
    ] {
        let (status, problem, _) = call(&app, p, "POST", "/api/v1/tenants", Some(body)).await;
        assert_eq!((status, problem["field"].as_str()), (422, Some(field)));
    }
    let (status, _, _) = call(
        &app,
        p,
        "POST",
        "/api/v1/tenants",
        Some(json!({ "slug": format!("{prefix}-0"), "display_name": "again" })),
    )
    .await;
    assert_eq!(status, 409);
    let (status, problem, _) = call(
        &app,
        p,
        "POST",
        "/api/v1/tenants",
        Some(json!({ "slug": 1 })),
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (422, Some("validation_failed")),
        "well-formed JSON of the wrong shape"
    );
    let req = Request::post("/api/v1/tenants")
        .header("authorization", format!("Bearer {platform}"))
        .header("content-type", "application/json")
        .body(Body::from("{\"slug\": "))
        .unwrap();
    let (status, text, _) = send(&app, req).await;
    assert_eq!(status, 400, "malformed JSON: {text}");
    let (status, _, _) = call(&app, p, "GET", "/api/v1/tenants?limit=101", None).await;
    assert_eq!(status, 422);

    // Suspend: the tenant's own pages answer 403, then serve again.
    let t0 = format!("{prefix}-0");
    let (status, body, _) = call(
        &app,
        p,
        "PUT",
        &format!("/api/v1/tenants/{t0}/status"),
        Some(json!({ "status": "suspended" })),
    )
    .await;
    assert_eq!((status, body["status"].as_str()), (200, Some("suspended")));
    let (status, _, _) = send(
        &app,
        Request::get(format!("/t/{t0}/.well-known/openid-configuration"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, 403);

    // Delete needs the slug repeated.
    let (status, _, _) = call(&app, p, "DELETE", &format!("/api/v1/tenants/{t0}"), None).await;
    assert_eq!(status, 422);
    let (status, _, _) = call(
        &app,
        p,
        "DELETE",
        &format!("/api/v1/tenants/{t0}?confirm={t0}"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _, _) = call(&app, p, "GET", &format!("/api/v1/tenants/{t0}"), None).await;
    assert_eq!(status, 404);

    // The audit log of -1 records its creation by the platform client.
    let t1 = format!("{prefix}-1");
    let (_, log, _) = call(
        &app,
        p,
        "GET",
        &format!("/api/v1/tenants/{t1}/audit?action=tenant."),
        None,
    )
    .await;
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    // Newest first: this read itself entered the tenant.
    assert_eq!(actions, ["tenant.entered", "tenant.created"]);
    assert_eq!(log["items"][1]["actor_kind"], "client");
}

#[tokio::test]
async fn api_users_clients_and_roles_are_managed_by_the_tenants_own_token() {
    let (app, state) = app().await;
    let slug = unique_slug("apiu");
    state.tenancy.tenants.create(&slug, "U").await.unwrap();
    let own = token(&app, &state, &slug, TENANT_SCOPES).await;
    let o = Some(own.as_str());
    let base = format!("/api/v1/tenants/{slug}");

    // A weak password names the field; nothing is created.
    let (status, problem, _) = call(
        &app,
        o,
        "POST",
        &format!("{base}/users"),
        Some(json!({ "username": "carol", "password": "password" })),
    )
    .await;
    assert_eq!((status, problem["field"].as_str()), (422, Some("password")));
    let (status, user, _) = call(
        &app,
        o,
        "POST",
        &format!("{base}/users"),
        Some(
            json!({ "username": "carol", "email": "carol@example.com", "email_verified": true,
                     "password": "a long and unusual passphrase" }),
        ),
    )
    .await;
    assert_eq!(status, 201, "{user}");
    assert!(user.get("password").is_none() && user.get("password_hash").is_none());
    assert_eq!(user["email_verified"], true);
    let id = user["id"].as_str().unwrap().to_owned();
    let (status, _, _) = call(
        &app,
        o,
        "POST",
        &format!("{base}/users"),
        Some(json!({ "username": "CAROL" })),
    )
    .await;
    assert_eq!(status, 409);

    // Roles: owner, a custom role; the last owner cannot be removed.
    let (status, _, _) = call(
        &app,
        o,
        "POST",
        &format!("{base}/roles"),
        Some(json!({ "name": "editor" })),
    )
    .await;
    assert_eq!(status, 201);
    for role in ["owner", "editor"] {
        let (status, _, _) = call(
            &app,
            o,
            "PUT",
            &format!("{base}/users/{id}/roles/{role}"),
            None,
        )
        .await;
        assert_eq!(status, 204);
    }
    let (status, _, _) = call(
        &app,
        o,
        "PUT",
        &format!("{base}/users/{id}/roles/platform_admin"),
        None,
    )
    .await;
    assert_eq!(status, 422);
    let (_, got, _) = call(&app, o, "GET", &format!("{base}/users/{id}"), None).await;
    assert_eq!(got["roles"], json!(["editor", "owner"]));
    let (status, _, _) = call(
        &app,
        o,
        "DELETE",
        &format!("{base}/users/{id}/roles/owner"),
        None,
    )
    .await;
    assert_eq!(status, 422);
    let (status, _, _) = call(&app, o, "DELETE", &format!("{base}/users/{id}"), None).await;
    assert_eq!(status, 422, "the last owner");

    // Disable: recorded with before and after.
    let (_, disabled, _) = call(
        &app,
        o,
        "PATCH",
        &format!("{base}/users/{id}"),
        Some(json!({ "disabled": true })),
    )
    .await;
    assert_eq!(disabled["disabled"], true);

    // A client: the secret once, then never; rotation makes a new one.
    let (status, client, _) = call(
        &app,
        o,
        "POST",
        &format!("{base}/clients"),
        Some(json!({ "name": "Shop", "redirect_uris": ["https://shop.example/cb"] })),
    )
    .await;
    assert_eq!(status, 201, "{client}");
    let cid = client["client_id"].as_str().unwrap().to_owned();
    assert!(client["client_secret"].as_str().unwrap().len() >= 43);
    let (_, again, _) = call(&app, o, "GET", &format!("{base}/clients/{cid}"), None).await;
    assert!(again.get("client_secret").is_none());
    let (_, rotated, _) = call(
        &app,
        o,
        "POST",
        &format!("{base}/clients/{cid}/secret"),
        None,
    )
    .await;
    assert_ne!(rotated["client_secret"], client["client_secret"]);
    let (status, problem, _) = call(
        &app,
        o,
        "POST",
        &format!("{base}/clients"),
        Some(json!({ "name": "Bad", "redirect_uris": ["https://rp.example/cb#fragment"] })),
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (422, Some("validation_failed"))
    );

    // The audit log has every change, newest first, secrets masked.
    let (_, log, _) = call(&app, o, "GET", &format!("{base}/audit?limit=100"), None).await;
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "user.created",
        "role.created",
        "role.assigned",
        "user.updated",
        "client.created",
        "client.secret_rotated",
    ] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    let text = log.to_string();
    assert!(!text.contains(client["client_secret"].as_str().unwrap()));
    assert!(!text.contains(rotated["client_secret"].as_str().unwrap()));
    assert!(!text.contains("unusual passphrase"));
}

#[tokio::test]
async fn api_the_openapi_document_is_3_1_and_describes_every_operation() {
    let (app, _) = app().await;
    let (status, doc, headers) = call(&app, None, "GET", "/api/v1/openapi.json", None).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/tenants",
        "/tenants/{slug}",
        "/tenants/{slug}/status",
        "/tenants/{slug}/users",
        "/tenants/{slug}/users/{id}",
        "/tenants/{slug}/users/{id}/roles/{role}",
        "/tenants/{slug}/clients",
        "/tenants/{slug}/clients/{client_id}",
        "/tenants/{slug}/clients/{client_id}/secret",
        "/tenants/{slug}/roles",
        "/tenants/{slug}/roles/{name}",
        "/tenants/{slug}/keys",
        "/tenants/{slug}/keys/rotate",
        "/tenants/{slug}/audit",
    ] {
        assert!(paths.contains_key(p), "{p}");
    }
    let scopes =
        &doc["components"]["securitySchemes"]["gatehouse"]["flows"]["clientCredentials"]["scopes"];
    assert!(scopes["gatehouse:cross-tenant:write"].is_string());
    // Every operation names its scope.
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let scopes = &op["security"][0]["gatehouse"];
            assert!(
                scopes.as_array().is_some_and(|s| s.len() == 1),
                "{method} {path}"
            );
        }
    }
    // An unknown operation is a problem document too.
    let (status, problem, _) = call(&app, None, "GET", "/api/v1/nothing", None).await;
    assert_eq!((status, problem["code"].as_str()), (404, Some("not_found")));
}

/// The rows of `tenant` in every table that has a `tenant_id` column, by
/// table (counted inside the tenant's row-level-security context).
async fn rows_per_table(state: &AppState, tenant: TenantId) -> Vec<(String, i64)> {
    let mut tx = state.db.tenant_tx(tenant).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "select table_name::text from information_schema.columns
         where table_schema = 'public' and column_name = 'tenant_id' order by 1",
    )
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    let mut out = Vec::new();
    for table in tables {
        let n: i64 = sqlx::query_scalar(&format!(
            "select count(*) from {table} where tenant_id = $1"
        ))
        .bind(tenant.as_uuid())
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        out.push((table, n));
    }
    out
}

#[tokio::test]
async fn api_deleting_a_tenant_removes_its_rows_in_every_table_and_its_redis_keys() {
    use gatehouse_admin::roles;
    use gatehouse_oidc::refresh::{self, RefreshGrant};
    let (app, state) = app().await;
    let platform = token(&app, &state, PLATFORMS_SLUG, PLATFORM_SCOPES).await;
    let p = Some(platform.as_str());
    let slug = unique_slug("gone");
    let keep = unique_slug("kept");
    for s in [&slug, &keep] {
        let (status, body, _) = call(
            &app,
            p,
            "POST",
            "/api/v1/tenants",
            Some(json!({ "slug": s, "display_name": "T" })),
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }
    let mut ids = Vec::new();
    for s in [&slug, &keep] {
        let t = state.tenancy.tenants.get(s).await.unwrap();
        // Signing keys (built with the provider), a user with a custom role,
        // a client (the token helper makes one and audit records with it),
        // a consent, a refresh token, settings.
        let _ = token(&app, &state, s, TENANT_SCOPES).await;
        let user = user_in(&state, t.id, "alice").await;
        let client = client_in(&state, t.id).await;
        let mut tx = state.db.tenant_tx(t.id).await.unwrap();
        roles::create(&mut tx, "editor", "").await.unwrap();
        roles::assign(&mut tx, false, user, "editor").await.unwrap();
        gatehouse_oidc::consents::grant(&mut tx, user, &client, &["openid"])
            .await
            .unwrap();
        refresh::issue(
            &mut tx,
            &RefreshGrant {
                family_id: uuid::Uuid::new_v4(),
                client_id: client.clone(),
                user_id: user,
                scope: "openid".into(),
                sid: None,
                auth_time: time::OffsetDateTime::now_utc(),
                acr: None,
                amr: vec![],
            },
            3600,
        )
        .await
        .unwrap()
        .unwrap();
        tx.commit().await.unwrap();
        gatehouse_tenancy::settings::put_section(
            &state.db,
            &state.bus,
            &t,
            "branding",
            json!({ "application": { "title": "Gone soon" } }),
        )
        .await
        .unwrap();
        // Short-lived entries in Redis: a session-like value and a counter.
        state
            .kv
            .set(t.id, "session:x", b"v", std::time::Duration::from_secs(600))
            .await
            .unwrap();
        state
            .kv
            .incr_with_ttl(t.id, "throttle:x", std::time::Duration::from_secs(600))
            .await
            .unwrap();
        ids.push(t.id);
    }
    let (gone, kept) = (ids[0], ids[1]);
    let before = rows_per_table(&state, gone).await;
    let kept_before = rows_per_table(&state, kept).await;
    for table in [
        "users",
        "clients",
        "roles",
        "user_roles",
        "consents",
        "refresh_tokens",
        "signing_keys",
        "audit_events",
        "tenant_settings",
    ] {
        let n = before.iter().find(|(t, _)| t == table).map(|(_, n)| *n);
        assert!(n.is_some_and(|n| n > 0), "{table}: {before:?}");
    }

    let (status, _, _) = call(
        &app,
        p,
        "DELETE",
        &format!("/api/v1/tenants/{slug}?confirm={slug}"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let after = rows_per_table(&state, gone).await;
    assert!(after.iter().all(|(_, n)| *n == 0), "{after:?}");
    assert_eq!(
        state
            .kv
            .ttls(gone, &["session:x", "throttle:x"])
            .await
            .unwrap(),
        vec![None, None]
    );
    // The other tenant lost nothing.
    assert_eq!(rows_per_table(&state, kept).await, kept_before);
    assert!(state.kv.get(kept, "session:x").await.unwrap().is_some());
}

#[tokio::test]
async fn api_tenant_settings_keep_their_bounds_seal_secrets_and_restore_versions() {
    let (app, state) = app().await;
    let platform = token(&app, &state, PLATFORMS_SLUG, PLATFORM_SCOPES).await;
    let slug = unique_slug("cfg");
    let (status, _, _) = call(
        &app,
        Some(&platform),
        "POST",
        "/api/v1/tenants",
        Some(json!({ "slug": slug, "display_name": "Configured" })),
    )
    .await;
    assert_eq!(status, 201);
    let own = token(
        &app,
        &state,
        &slug,
        "gatehouse:config:read gatehouse:config:write",
    )
    .await;
    let o = Some(own.as_str());
    let cfg = |p: &str| format!("/api/v1/tenants/{slug}/config{p}");

    // Ceilings and floors: 422 naming the field and the bound; nothing stored.
    for (section, body, field, bound) in [
        (
            "oidc",
            json!({ "access_token_ttl_secs": 999_999 }),
            "oidc.access_token_ttl_secs",
            "86400",
        ),
        (
            "security",
            json!({ "password_min_length": 4 }),
            "security.password_min_length",
            "from 12",
        ),
        (
            "security",
            json!({ "mfa": "sometimes" }),
            "security.mfa",
            "optional or required (the platform's floor)",
        ),
    ] {
        let (status, problem, _) =
            call(&app, o, "PUT", &cfg(&format!("/{section}")), Some(body)).await;
        assert_eq!(
            (status, problem["field"].as_str()),
            (422, Some(field)),
            "{problem}"
        );
        assert!(
            problem["detail"].as_str().unwrap().contains(bound),
            "{problem}"
        );
    }
    let (_, all, _) = call(&app, o, "GET", &cfg(""), None).await;
    assert_eq!(all["overrides"], json!({}), "nothing was stored");
    assert_eq!(all["ceilings"]["oidc.access_token_ttl_secs"], 86_400);
    assert_eq!(all["floors"]["security.password_min_length"], 12);
    let (status, _, _) = call(&app, o, "PUT", &cfg("/nonsense"), Some(json!({}))).await;
    assert_eq!(status, 404);
    let (status, _, _) = call(&app, o, "PUT", &cfg("/oidc"), Some(json!([1]))).await;
    assert_eq!(status, 400);
    // U+0000 cannot be stored by PostgreSQL: a malformed request, not a 503.
    let (status, problem, _) = call(
        &app,
        o,
        "PUT",
        &cfg("/branding"),
        Some(json!({ "company_name": "A\u{0}B" })),
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (422, Some("validation_failed"))
    );
    // A number PostgreSQL would keep but not give back readably: refused.
    let (status, problem, _) = call(
        &app,
        o,
        "PUT",
        &cfg("/branding"),
        Some(json!({ "size": 1.797_693_134_862_315_7e308 })),
    )
    .await;
    assert_eq!(
        (status, problem["field"].as_str()),
        (422, Some("branding.size"))
    );
    let (status, _, _) = call(&app, Some(&platform), "GET", "/api/v1/tenants?q=a%00", None).await;
    assert_eq!(status, 422);
    let (status, _, _) = call(&app, o, "GET", &cfg("/bran%00ding/versions"), None).await;
    assert_eq!(status, 404);

    // A change within bounds takes effect: the token endpoint uses it.
    let (status, v1, _) = call(
        &app,
        o,
        "PUT",
        &cfg("/oidc"),
        Some(json!({ "access_token_ttl_secs": 900 })),
    )
    .await;
    assert_eq!((status, v1["version"].as_i64()), (200, Some(1)), "{v1}");
    let (status, v2, _) = call(
        &app,
        o,
        "PUT",
        &cfg("/oidc"),
        Some(json!({ "access_token_ttl_secs": 1800 })),
    )
    .await;
    assert_eq!((status, v2["version"].as_i64()), (200, Some(2)));
    let fresh = token(&app, &state, &slug, "gatehouse:config:read").await;
    let claims: Value = serde_json::from_slice(
        &base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            fresh.split('.').nth(1).unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        1800
    );

    // Secrets: sent in clear, never returned, kept when left out.
    let smtp = json!({ "smtp": { "host": "smtp.cfg.example", "from": "no-reply@cfg.example", "username": "u", "password": "hunter2-secret" } });
    let (status, stored, _) = call(&app, o, "PUT", &cfg("/notifications"), Some(smtp)).await;
    assert_eq!(status, 200, "{stored}");
    assert_eq!(stored["document"]["smtp"]["password_set"], true);
    let (status, kept, _) = call(
        &app,
        o,
        "PUT",
        &cfg("/notifications"),
        Some(json!({ "smtp": { "host": "smtp2.cfg.example", "from": "no-reply@cfg.example", "username": "u" } })),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        kept["document"]["smtp"]["password_set"], true,
        "left out: kept"
    );
    // What a read shows can be written back as it is: the marker is not
    // stored, and the secret stays.
    let (status, again, _) = call(
        &app,
        o,
        "PUT",
        &cfg("/notifications"),
        Some(kept["document"].clone()),
    )
    .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["document"]["smtp"]["password_set"], true);
    let (_, all, _) = call(&app, o, "GET", &cfg(""), None).await;
    let (_, history, _) = call(&app, o, "GET", &cfg("/notifications/versions"), None).await;
    let (_, log, _) = call(
        &app,
        Some(&platform),
        "GET",
        &format!("/api/v1/tenants/{slug}/audit?action=settings.changed"),
        None,
    )
    .await;
    for shown in [&all, &history, &log] {
        let text = shown.to_string();
        assert!(!text.contains("hunter2"), "{text}");
        assert!(!text.contains("password_sealed"), "{text}");
    }
    let record = state.tenancy.tenants.get(&slug).await.unwrap();
    let mut tx = state.db.tenant_tx(record.id).await.unwrap();
    let raw: Value =
        sqlx::query_scalar("select document from tenant_settings where section = 'notifications'")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    tx.commit().await.unwrap();
    assert!(!raw.to_string().contains("hunter2"), "stored sealed");
    assert!(raw["smtp"].get("password_set").is_none(), "{raw}");
    let opened =
        gatehouse_core::mail::SmtpSettings::from_notifications(&raw, &state.keyring, record.id)
            .unwrap()
            .unwrap();
    assert!(format!("{opened:?}").contains("smtp2.cfg.example"));

    // Versions: who and what; restoring 1 makes version 3.
    let (_, history, _) = call(&app, o, "GET", &cfg("/oidc/versions"), None).await;
    let items = history["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["version"], 2);
    assert_eq!(items[0]["actor_kind"], "client");
    assert_eq!(
        items[1]["document"],
        json!({ "access_token_ttl_secs": 900 })
    );
    let (status, restored, _) = call(&app, o, "POST", &cfg("/oidc/versions/1/restore"), None).await;
    assert_eq!(status, 200, "{restored}");
    assert_eq!(restored["version"], 3);
    assert_eq!(
        restored["document"],
        json!({ "access_token_ttl_secs": 900 })
    );
    let (status, _, _) = call(&app, o, "POST", &cfg("/oidc/versions/9/restore"), None).await;
    assert_eq!(status, 404);
    // Each change is audited with before and after.
    let (_, log, _) = call(
        &app,
        Some(&platform),
        "GET",
        &format!("/api/v1/tenants/{slug}/audit?action=settings.changed"),
        None,
    )
    .await;
    let last = &log["items"][0];
    assert_eq!(last["details"]["restored_from"], 1);
    assert_eq!(
        last["details"]["before"],
        json!({ "access_token_ttl_secs": 1800 })
    );
    assert_eq!(
        last["details"]["after"],
        json!({ "access_token_ttl_secs": 900 })
    );

    // Two tenants' versions stay apart (row-level security): the other
    // tenant writes its own oidc section; each sees only its own history,
    // and an unfiltered count inside its context counts only its rows.
    let other = unique_slug("cfg-b");
    call(
        &app,
        Some(&platform),
        "POST",
        "/api/v1/tenants",
        Some(json!({ "slug": other, "display_name": "Other" })),
    )
    .await;
    let (status, _, _) = call(
        &app,
        Some(&platform),
        "PUT",
        &format!("/api/v1/tenants/{other}/config/oidc"),
        Some(json!({ "access_token_ttl_secs": 600 })),
    )
    .await;
    assert_eq!(status, 200);
    let (_, theirs, _) = call(
        &app,
        Some(&platform),
        "GET",
        &format!("/api/v1/tenants/{other}/config/oidc/versions"),
        None,
    )
    .await;
    assert_eq!(theirs["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        theirs["items"][0]["document"],
        json!({ "access_token_ttl_secs": 600 })
    );
    let (_, mine, _) = call(&app, o, "GET", &cfg("/oidc/versions"), None).await;
    let versions: Vec<i64> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [3, 2, 1]);
    let other_id = state.tenancy.tenants.get(&other).await.unwrap().id;
    for (tenant, expected) in [(record.id, 6_i64), (other_id, 1)] {
        let mut tx = state.db.tenant_tx(tenant).await.unwrap();
        let n: i64 = sqlx::query_scalar("select count(*) from tenant_settings_versions")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        // This tenant: oidc 1–3 and notifications 1–3.
        assert_eq!(n, expected, "only the context's own rows");
    }
}

#[tokio::test]
async fn api_a_tenant_exported_and_imported_keeps_its_clients_users_roles_and_settings() {
    let (app, state) = app().await;
    let platform = token(&app, &state, PLATFORMS_SLUG, PLATFORM_SCOPES).await;
    let p = Some(platform.as_str());
    let from = unique_slug("exp");
    let (status, _, _) = call(
        &app,
        p,
        "POST",
        "/api/v1/tenants",
        Some(json!({ "slug": from, "display_name": "Exported" })),
    )
    .await;
    assert_eq!(status, 201);
    let source = state.tenancy.tenants.get(&from).await.unwrap();
    // A machine client (its secret must keep working), a user with a
    // password and two roles, a custom role, settings with a sealed secret.
    let hash = state
        .hasher
        .hash(gatehouse_web_test_password())
        .await
        .unwrap();
    let mut tx = state.db.tenant_tx(source.id).await.unwrap();
    let (m2m, secret) = clients::create(
        &mut tx,
        NewClient {
            name: "m2m".into(),
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            public: false,
            first_party: false,
            allow_http: false,
            auth_method: Some("client_secret_post".into()),
            grant_types: vec!["client_credentials".into()],
            scopes: vec!["api".into()],
            jwks: None,
            jwks_uri: None,
        },
    )
    .await
    .unwrap();
    let user = users::create(
        &mut tx,
        NewUser {
            username: "ada".into(),
            email: Some("ada@example.com".into()),
            name: Some("Ada".into()),
            password_hash: Some(hash.clone()),
        },
    )
    .await
    .unwrap();
    gatehouse_admin::roles::create(&mut tx, "editor", "Edits")
        .await
        .unwrap();
    for r in ["editor", "owner"] {
        gatehouse_admin::roles::assign(&mut tx, false, user.id, r)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let own = token(&app, &state, &from, "gatehouse:config:write").await;
    for (section, body) in [
        ("branding", json!({ "company_name": "Exported Inc" })),
        (
            "notifications",
            json!({ "smtp": { "host": "smtp.exp.example", "from": "a@exp.example", "username": "u", "password": "hunter2-secret" } }),
        ),
    ] {
        let (status, _, _) = call(
            &app,
            Some(&own),
            "PUT",
            &format!("/api/v1/tenants/{from}/config/{section}"),
            Some(body),
        )
        .await;
        assert_eq!(status, 200);
    }

    // The export: no secret in clear, the sealed one named as left out.
    let (status, doc, _) = call(
        &app,
        p,
        "GET",
        &format!("/api/v1/tenants/{from}/export?users=true"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["format"], "gatehouse.tenant/1");
    let text = doc.to_string();
    assert!(!text.contains("hunter2") && !text.contains("password_sealed"));
    assert!(
        text.contains("notifications.smtp.password"),
        "{}",
        doc["omitted"]
    );
    assert_eq!(doc["users"][0]["username"], "ada");
    assert_eq!(doc["users"][0]["roles"], json!(["editor", "owner"]));
    // Without users: none, and said so.
    let (_, lean, _) = call(
        &app,
        p,
        "GET",
        &format!("/api/v1/tenants/{from}/export"),
        None,
    )
    .await;
    assert!(lean.get("users").is_none());
    // Only a platform token with the write scope may export.
    let reader = token(&app, &state, PLATFORMS_SLUG, "gatehouse:tenants:read").await;
    let (status, _, _) = call(
        &app,
        Some(&reader),
        "GET",
        &format!("/api/v1/tenants/{from}/export"),
        None,
    )
    .await;
    assert_eq!(status, 403);

    // Import under a new slug.
    let to = unique_slug("imp");
    let (status, made, _) = call(
        &app,
        p,
        "POST",
        &format!("/api/v1/tenants/import?slug={to}"),
        Some(doc.clone()),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let target = state.tenancy.tenants.get(&to).await.unwrap();
    let mut tx = state.db.tenant_tx(target.id).await.unwrap();
    let ada = users::find_by_username(&mut tx, "ada")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ada.id, user.id, "sub stays the same");
    assert_eq!(
        users::password_hash(&mut tx, ada.id).await.unwrap(),
        Some(hash)
    );
    assert_eq!(
        gatehouse_admin::roles::of_user(&mut tx, ada.id)
            .await
            .unwrap(),
        ["editor", "owner"]
    );
    tx.commit().await.unwrap();
    // The client's old secret authenticates at the new tenant.
    let body = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        m2m.client_id,
        secret.unwrap()
    );
    let req = Request::post(format!("/t/{to}/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    let (status, answer, _) = send(&app, req).await;
    assert_eq!(status, 200, "{answer}");
    let (_, config, _) = call(
        &app,
        p,
        "GET",
        &format!("/api/v1/tenants/{to}/config"),
        None,
    )
    .await;
    assert_eq!(
        config["overrides"]["branding"]["company_name"],
        "Exported Inc"
    );
    assert!(config["overrides"]["notifications"]["smtp"]
        .get("password_set")
        .is_none());
    let (_, log, _) = call(
        &app,
        p,
        "GET",
        &format!("/api/v1/tenants/{to}/audit?action=tenant.imported"),
        None,
    )
    .await;
    assert_eq!(log["items"][0]["details"]["users"], 1);
    // The exported tenant's own log says who took a copy, and of what.
    let (_, log, _) = call(
        &app,
        p,
        "GET",
        &format!("/api/v1/tenants/{from}/audit?action=tenant.exported"),
        None,
    )
    .await;
    let exported = log["items"].as_array().unwrap();
    assert!(
        exported
            .iter()
            .any(|e| e["details"] == json!({ "users": true, "mfa": false })
                && e["actor_kind"] == "client"),
        "{log}"
    );

    // Refusals change nothing: the same slug again (409), a bad document
    // (422) that would fail only at its clients: no tenant is left behind.
    let (status, _, _) = call(&app, p, "POST", "/api/v1/tenants/import", Some(doc.clone())).await;
    assert_eq!(status, 409, "the source slug exists");
    let mut bad = doc.clone();
    bad["clients"][0]["secret_hash"] = json!("not-a-hash");
    let left = unique_slug("imp-bad");
    let (status, problem, _) = call(
        &app,
        p,
        "POST",
        &format!("/api/v1/tenants/import?slug={left}"),
        Some(bad),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert!(
        state.tenancy.tenants.get(&left).await.is_err(),
        "no half-imported tenant"
    );
    let mut wrong = doc;
    wrong["format"] = json!("gatehouse.tenant/9");
    let (status, _, _) = call(
        &app,
        p,
        "POST",
        &format!("/api/v1/tenants/import?slug={}", unique_slug("imp-fmt")),
        Some(wrong),
    )
    .await;
    assert_eq!(status, 422);
}

/// The code an authenticator app holding `secret` (base32) shows at
/// `unix_time`.
fn totp_code(secret: &str, unix_time: i64) -> String {
    let app = totp_rs::Totp::from_url(format!(
        "otpauth://totp/Exported:grace?secret={secret}&issuer=Exported&algorithm=SHA1&digits=6&period=30"
    ))
    .unwrap();
    app.generate(u64::try_from(unix_time).unwrap()).to_string()
}

#[tokio::test]
async fn api_second_factors_are_exported_only_when_asked_and_work_after_an_import() {
    use gatehouse_oidc::{mfa, passkeys};
    use webauthn_authenticator_rs::softpasskey::SoftPasskey;
    use webauthn_authenticator_rs::WebauthnAuthenticator;
    use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse};

    let (app, state) = app().await;
    let platform = token(&app, &state, PLATFORMS_SLUG, PLATFORM_SCOPES).await;
    let p = Some(platform.as_str());
    let from = unique_slug("exp-mfa");
    let (status, _, _) = call(
        &app,
        p,
        "POST",
        "/api/v1/tenants",
        Some(json!({ "slug": from, "display_name": "Exported" })),
    )
    .await;
    assert_eq!(status, 201);
    let source = state.tenancy.tenants.get(&from).await.unwrap();

    // A user with a confirmed TOTP factor (confirmed two steps ago), ten
    // recovery codes of which one is used, and a passkey.
    let origin = url::Url::parse("http://localhost:8080").unwrap();
    let rp = passkeys::Rp::for_issuer(origin.as_str(), "Exported").unwrap();
    let mut authenticator = WebauthnAuthenticator::new(SoftPasskey::new(true));
    let mut tx = state.db.tenant_tx(source.id).await.unwrap();
    let user = users::create(
        &mut tx,
        NewUser {
            username: "grace".into(),
            ..NewUser::default()
        },
    )
    .await
    .unwrap();
    let enrolment = mfa::begin_totp(&mut tx, &state.keyring, user.id, "Exported", "grace")
        .await
        .unwrap();
    let secret = enrolment.secret_base32.clone();
    let confirmed_at = time::OffsetDateTime::now_utc().unix_timestamp() - 60;
    let recovery = mfa::confirm_totp_at(
        &mut tx,
        &state.keyring,
        user.id,
        &totp_code(&secret, confirmed_at),
        u64::try_from(confirmed_at).unwrap(),
    )
    .await
    .unwrap();
    assert!(mfa::use_recovery_code(&mut tx, user.id, &recovery[0])
        .await
        .unwrap());
    let (ceremony, options) =
        passkeys::start_registration(&mut tx, &state.kv, &rp, user.id, "grace", "Grace")
            .await
            .unwrap();
    let options: CreationChallengeResponse = serde_json::from_value(options).unwrap();
    let created = authenticator
        .do_registration(origin.clone(), options)
        .unwrap();
    passkeys::finish_registration(
        &mut tx,
        &state.kv,
        &rp,
        user.id,
        &ceremony,
        &serde_json::to_value(created).unwrap(),
        "Laptop",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    // With users but without mfa: no second factor, no secret, and said so.
    let (status, lean, _) = call(
        &app,
        p,
        "GET",
        &format!("/api/v1/tenants/{from}/export?users=true"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{lean}");
    let text = lean.to_string();
    assert!(!text.contains(&secret), "the secret only with mfa");
    for field in ["totp", "recovery_codes", "passkeys"] {
        assert!(lean["users"][0].get(field).is_none(), "{field}");
    }
    assert!(text.contains("export with mfa"), "{}", lean["omitted"]);
    // mfa without users: refused, naming the field.
    let (status, problem, _) = call(
        &app,
        p,
        "GET",
        &format!("/api/v1/tenants/{from}/export?mfa=true"),
        None,
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["field"], "mfa");

    // With mfa: the secret as an app holds it, the hashes, the passkey.
    let (status, doc, _) = call(
        &app,
        p,
        "GET",
        &format!("/api/v1/tenants/{from}/export?users=true&mfa=true"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    let grace = &doc["users"][0];
    assert_eq!(grace["totp"]["secret"], secret.as_str());
    let codes = grace["recovery_codes"].as_array().unwrap();
    assert_eq!(codes.len(), mfa::RECOVERY_CODE_COUNT);
    assert_eq!(codes.iter().filter(|c| !c["used_at"].is_null()).count(), 1);
    assert_eq!(grace["passkeys"].as_array().unwrap().len(), 1);
    assert_eq!(grace["passkeys"][0]["name"], "Laptop");
    assert!(!doc.to_string().contains("sealed_secret"));

    // A broken second factor is refused before anything is written.
    let mut twice = grace["passkeys"][0].clone();
    twice["id"] = json!(uuid::Uuid::new_v4());
    for (path, value) in [
        ("/users/0/totp/secret", json!("not base32!")),
        ("/users/0/totp/secret", json!(&secret[..30])),
        ("/users/0/recovery_codes/1/hash", json!("not-a-hash")),
        ("/users/0/passkeys/0/passkey", json!({ "cred": "no" })),
        ("/users/0/passkeys/0/credential_id", json!("AAAA")),
        ("/users/0/passkeys", json!([grace["passkeys"][0], twice])),
    ] {
        let mut bad = doc.clone();
        *bad.pointer_mut(path).unwrap() = value;
        let left = unique_slug("imp-mfa-bad");
        let (status, problem, _) = call(
            &app,
            p,
            "POST",
            &format!("/api/v1/tenants/import?slug={left}"),
            Some(bad),
        )
        .await;
        assert_eq!(status, 422, "{path}: {problem}");
        assert!(
            problem["detail"].as_str().unwrap().contains("grace"),
            "{problem}"
        );
        assert!(
            !problem.to_string().contains(&secret),
            "no secret in a refusal"
        );
        assert!(
            state.tenancy.tenants.get(&left).await.is_err(),
            "{path}: no half-imported tenant"
        );
    }

    // Imported under a new slug, the factors work there.
    let to = unique_slug("imp-mfa");
    let (status, made, _) = call(
        &app,
        p,
        "POST",
        &format!("/api/v1/tenants/import?slug={to}"),
        Some(doc.clone()),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let target = state.tenancy.tenants.get(&to).await.unwrap();
    let mut tx = state.db.tenant_tx(target.id).await.unwrap();
    // The code accepted at confirmation stays used; a fresh one works.
    assert!(!mfa::verify_totp_at(
        &mut tx,
        &state.keyring,
        user.id,
        &totp_code(&secret, confirmed_at),
        u64::try_from(confirmed_at).unwrap(),
    )
    .await
    .unwrap());
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert!(
        mfa::verify_totp(&mut tx, &state.keyring, user.id, &totp_code(&secret, now))
            .await
            .unwrap()
    );
    assert!(!mfa::use_recovery_code(&mut tx, user.id, &recovery[0])
        .await
        .unwrap());
    assert!(mfa::use_recovery_code(&mut tx, user.id, &recovery[1])
        .await
        .unwrap());
    assert_eq!(
        mfa::remaining_recovery_codes(&mut tx, user.id)
            .await
            .unwrap(),
        8
    );
    let listed = passkeys::list(&mut tx, user.id).await.unwrap();
    assert_eq!(
        listed.iter().map(|k| k.name.as_str()).collect::<Vec<_>>(),
        ["Laptop"]
    );
    // And the passkey signs in (the RP ID is the same host).
    let (ceremony, options) =
        passkeys::start_authentication(&mut tx, &state.kv, &rp, Some(user.id))
            .await
            .unwrap();
    let options: RequestChallengeResponse = serde_json::from_value(options).unwrap();
    let asserted = authenticator
        .do_authentication(origin.clone(), options)
        .unwrap();
    let signed_in = passkeys::finish_authentication(
        &mut tx,
        &state.kv,
        &rp,
        &ceremony,
        &serde_json::to_value(asserted).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(signed_in.user_id, user.id);
    tx.commit().await.unwrap();
    let (_, log, _) = call(
        &app,
        p,
        "GET",
        &format!("/api/v1/tenants/{to}/audit?action=tenant.imported"),
        None,
    )
    .await;
    let details = &log["items"][0]["details"];
    assert_eq!(
        (
            &details["totp_factors"],
            &details["recovery_codes"],
            &details["passkeys"]
        ),
        (&json!(1), &json!(10), &json!(1))
    );
}

fn gatehouse_web_test_password() -> String {
    "a long and unusual passphrase".into()
}

/// The `client_id` claim of an access token (its payload, unverified).
fn client_of(token: &str) -> String {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice::<Value>(&bytes).unwrap()["client_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn api_a_tenants_sessions_are_listed_across_users_page_by_page_and_only_its_own() {
    use gatehouse_oidc::sessions::{self, Session};
    let (app, state) = app().await;
    let slug = unique_slug("apiss");
    let tenant = state.tenancy.tenants.create(&slug, "S").await.unwrap();
    let other = state
        .tenancy
        .tenants
        .create(&unique_slug("apiss-b"), "B")
        .await
        .unwrap();
    let own = token(&app, &state, &slug, TENANT_SCOPES).await;
    let o = Some(own.as_str());
    let base = format!("/api/v1/tenants/{slug}");
    let ada = user_in(&state, tenant.id, "ada").await;
    let bob = user_in(&state, tenant.id, "bob").await;
    let theirs = user_in(&state, other.id, "ada").await;
    let store = |tenant, user_id, sid: &str| Session {
        tenant,
        user_id,
        auth_time: time::OffsetDateTime::now_utc().unix_timestamp(),
        sid: sid.into(),
        amr: vec!["pwd".into()],
        epoch: 0,
        user_agent: "Test browser".into(),
    };
    // Five sessions here (three of ada, two of bob), one at the other tenant.
    let mut cookies = Vec::new();
    for (n, user) in [ada, bob, ada, bob, ada].into_iter().enumerate() {
        let s = store(tenant.id, user, &format!("s{n}"));
        cookies.push(
            sessions::store(&state.kv, &s, std::time::Duration::from_secs(600))
                .await
                .unwrap(),
        );
        // Distinct expiry milliseconds, so the order is the order stored.
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    sessions::store(
        &state.kv,
        &store(other.id, theirs, "theirs"),
        std::time::Duration::from_secs(600),
    )
    .await
    .unwrap();

    // Pages of two, newest first, naming their users; nothing of the other
    // tenant's.
    let mut seen = Vec::new();
    let mut uri = format!("{base}/sessions?limit=2");
    let mut pages = 0;
    loop {
        let (status, page, _) = call(&app, o, "GET", &uri, None).await;
        assert_eq!(status, 200, "{page}");
        pages += 1;
        for item in page["items"].as_array().unwrap() {
            let sid = item["sid"].as_str().unwrap().to_owned();
            let want = if sid == "s1" || sid == "s3" {
                "bob"
            } else {
                "ada"
            };
            assert_eq!(item["username"], want, "{item}");
            assert_eq!(item["user_agent"], "Test browser");
            assert!(item["expires_at"].as_str().unwrap() > item["started_at"].as_str().unwrap());
            seen.push(sid);
        }
        match page["next"].as_str() {
            Some(next) => uri = format!("{base}/sessions?limit=2&after={next}"),
            None => break,
        }
    }
    assert_eq!(seen, ["s4", "s3", "s2", "s1", "s0"]);
    assert_eq!(pages, 3);

    // A cursor that is not one is refused.
    let (status, problem, _) = call(
        &app,
        o,
        "GET",
        &format!("{base}/sessions?after=nonsense"),
        None,
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (422, Some("validation_failed")),
        "{problem}"
    );

    // A record gone from the store (signed out) leaves the list, and its
    // index entry is pruned; ending all of bob's sessions (a new epoch)
    // leaves only ada's.
    state
        .kv
        .del(tenant.id, &sessions::session_key(&cookies[4]))
        .await
        .unwrap();
    assert_eq!(
        call(
            &app,
            o,
            "DELETE",
            &format!("{base}/users/{bob}/sessions"),
            None
        )
        .await
        .0,
        204
    );
    let (_, page, _) = call(&app, o, "GET", &format!("{base}/sessions"), None).await;
    let sids: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["sid"].as_str().unwrap())
        .collect();
    assert_eq!(sids, ["s2", "s0"]);
    assert!(page.get("next").is_none());
    let (index, _) = sessions::list_tenant(&state.kv, tenant.id, None, 100)
        .await
        .unwrap();
    assert_eq!(index.len(), 2, "stale entries pruned: {index:?}");

    // The other tenant sees its own session only.
    let (listed, _) = sessions::list_tenant(&state.kv, other.id, None, 100)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].session.sid, "theirs");
}

/// Calls until the answer's status is `want` (a change reaches this node's
/// caches through the event bus), for at most a second.
async fn until_status(app: &axum::Router, token: &str, uri: &str, want: u16) -> u16 {
    let mut status = 0;
    for _ in 0..100 {
        status = call(app, Some(token), "GET", uri, None).await.0;
        if status == want {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    status
}

#[tokio::test]
async fn api_sessions_are_listed_and_ended_users_locked_clients_disabled_and_usage_counted() {
    use gatehouse_oidc::sessions::{self, Session};
    let (app, state) = app().await;
    let slug = unique_slug("apis");
    let tenant = state.tenancy.tenants.create(&slug, "S").await.unwrap();
    let own = token(&app, &state, &slug, TENANT_SCOPES).await;
    let spare = token(&app, &state, &slug, TENANT_SCOPES).await;
    let o = Some(own.as_str());
    let base = format!("/api/v1/tenants/{slug}");
    let dora = user_in(&state, tenant.id, "dora").await;

    // Two browsers signed in as dora.
    for sid in ["sid-one", "sid-two"] {
        let session = Session {
            tenant: tenant.id,
            user_id: dora,
            auth_time: time::OffsetDateTime::now_utc().unix_timestamp(),
            sid: sid.into(),
            amr: vec!["pwd".into()],
            epoch: 0,
            user_agent: "Test browser".into(),
        };
        sessions::store(&state.kv, &session, std::time::Duration::from_secs(600))
            .await
            .unwrap();
    }
    // Stored under dora's tenant only: another tenant sees none of them.
    let elsewhere = state
        .tenancy
        .tenants
        .create(&unique_slug("apis-b"), "B")
        .await
        .unwrap();
    assert!(sessions::list(&state.kv, elsewhere.id, dora)
        .await
        .unwrap()
        .is_empty());
    let list = format!("{base}/users/{dora}/sessions");
    let (status, listed, _) = call(&app, o, "GET", &list, None).await;
    assert_eq!(status, 200, "{listed}");
    let mut sids: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sid"].as_str().unwrap())
        .collect();
    sids.sort_unstable();
    assert_eq!(sids, ["sid-one", "sid-two"]);
    assert_eq!(listed["items"][0]["user_agent"], "Test browser");
    assert_eq!(listed["items"][0]["amr"], json!(["pwd"]));

    // One ended: gone from the list and the store; a second time, 404.
    let one = format!("{list}/sid-one");
    assert_eq!(call(&app, o, "DELETE", &one, None).await.0, 204);
    let (status, problem, _) = call(&app, o, "DELETE", &one, None).await;
    assert_eq!((status, problem["code"].as_str()), (404, Some("not_found")));
    let (_, listed, _) = call(&app, o, "GET", &list, None).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    // All ended: the list is empty and the epoch moved on.
    assert_eq!(call(&app, o, "DELETE", &list, None).await.0, 204);
    let (_, listed, _) = call(&app, o, "GET", &list, None).await;
    assert_eq!(listed["items"], json!([]));
    assert!(sessions::list(&state.kv, tenant.id, dora)
        .await
        .unwrap()
        .is_empty());
    let mut tx = state.db.tenant_tx(tenant.id).await.unwrap();
    assert_eq!(users::session_epoch(&mut tx, dora).await.unwrap(), 1);
    tx.commit().await.unwrap();
    let nobody = uuid::Uuid::new_v4();
    for (method, uri) in [
        ("GET", format!("{base}/users/{nobody}/sessions")),
        ("DELETE", format!("{base}/users/{nobody}/sessions")),
    ] {
        assert_eq!(
            call(&app, o, method, &uri, None).await.0,
            404,
            "{method} {uri}"
        );
    }

    // Locked (signed out everywhere) and unlocked.
    session_of(&state, tenant.id, dora).await;
    let user_uri = format!("{base}/users/{dora}");
    let (status, locked, _) =
        call(&app, o, "PATCH", &user_uri, Some(json!({ "locked": true }))).await;
    assert_eq!(status, 200, "{locked}");
    assert_eq!(locked["locked"], true);
    assert!(locked["locked_at"].is_string());
    assert!(sessions::list(&state.kv, tenant.id, dora)
        .await
        .unwrap()
        .is_empty());
    let (_, unlocked, _) = call(
        &app,
        o,
        "PATCH",
        &user_uri,
        Some(json!({ "locked": false })),
    )
    .await;
    assert_eq!(unlocked["locked"], false);
    assert!(unlocked.get("locked_at").is_none());

    // Name and email edited; a new address is unverified until said so;
    // another user's address is a conflict, a malformed one refused.
    let (status, edited, _) = call(
        &app,
        o,
        "PATCH",
        &user_uri,
        Some(json!({ "name": "Dora Explorer", "email": "dora@example.com" })),
    )
    .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(
        (&edited["name"], &edited["email"], &edited["email_verified"]),
        (
            &json!("Dora Explorer"),
            &json!("dora@example.com"),
            &json!(false)
        )
    );
    let (_, verified, _) = call(
        &app,
        o,
        "PATCH",
        &user_uri,
        Some(json!({ "email_verified": true })),
    )
    .await;
    assert_eq!(verified["email_verified"], true);
    let other = user_in(&state, tenant.id, "eve").await;
    let (status, _, _) = call(
        &app,
        o,
        "PATCH",
        &format!("{base}/users/{other}"),
        Some(json!({ "email": "DORA@example.com" })),
    )
    .await;
    assert_eq!(status, 409, "the address is dora's");
    let (status, problem, _) = call(
        &app,
        o,
        "PATCH",
        &user_uri,
        Some(json!({ "email": "not an address" })),
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (422, Some("validation_failed"))
    );

    // Usage: two users, the two automation clients, no sign-ins yet.
    let (status, usage, _) = call(&app, o, "GET", &format!("{base}/usage"), None).await;
    assert_eq!(status, 200, "{usage}");
    assert_eq!(usage["users"], 2);
    assert_eq!(usage["disabled_users"], 0);
    assert_eq!(usage["clients"], 2);
    assert_eq!(usage["sign_ins_30d"], 0);
    assert_eq!(usage["active_users_30d"], 0);

    // A disabled client's tokens stop verifying; enabled, they work again.
    let own_client = client_of(&own);
    let client_uri = format!("{base}/clients/{own_client}");
    let (status, changed, _) = call(
        &app,
        Some(&spare),
        "PATCH",
        &client_uri,
        Some(json!({ "disabled": true })),
    )
    .await;
    assert_eq!(
        (status, &changed["disabled"]),
        (200, &json!(true)),
        "{changed}"
    );
    assert_eq!(
        until_status(&app, &own, &format!("{base}/usage"), 401).await,
        401
    );
    let (_, listed, _) = call(&app, Some(&spare), "GET", &format!("{base}/clients"), None).await;
    assert!(listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["client_id"] == own_client.as_str() && c["disabled"] == true));
    call(
        &app,
        Some(&spare),
        "PATCH",
        &client_uri,
        Some(json!({ "disabled": false })),
    )
    .await;
    assert_eq!(
        until_status(&app, &own, &format!("{base}/usage"), 200).await,
        200
    );

    // Redirect URIs replaced, checked as at registration.
    let victim = client_in(&state, tenant.id).await;
    let victim_uri = format!("{base}/clients/{victim}");
    let (status, changed, _) = call(
        &app,
        o,
        "PATCH",
        &victim_uri,
        Some(json!({ "redirect_uris": ["https://rp.example/new"] })),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["redirect_uris"], json!(["https://rp.example/new"]));
    let (status, _, _) = call(
        &app,
        o,
        "PATCH",
        &victim_uri,
        Some(json!({ "redirect_uris": ["https://rp.example/cb#fragment"] })),
    )
    .await;
    assert_eq!(status, 422, "a redirect URI with a fragment");
    let (status, _, _) = call(
        &app,
        o,
        "PATCH",
        &victim_uri,
        Some(json!({ "name": "renamed" })),
    )
    .await;
    assert_eq!(status, 422, "an unknown field");

    // Every change is in the tenant's audit log.
    let (_, log, _) = call(&app, o, "GET", &format!("{base}/audit?limit=100"), None).await;
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "sessions.revoked").count(),
        2,
        "{actions:?}"
    );
    assert!(actions.iter().filter(|a| **a == "user.updated").count() >= 2);
    assert!(actions.iter().filter(|a| **a == "client.updated").count() >= 3);
}

/// A GET of `path` with `Host: host`.
async fn on_host(app: &axum::Router, host: &str, path: &str) -> (u16, Value) {
    let req = Request::get(path)
        .header("host", host)
        .body(Body::empty())
        .unwrap();
    let (status, text, _) = send(app, req).await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn api_custom_domains_resolve_their_tenant_and_the_primary_one_is_its_issuer() {
    let (app, state) = app().await;
    let platform = token(&app, &state, PLATFORMS_SLUG, PLATFORM_SCOPES).await;
    let p = Some(platform.as_str());
    let slug = unique_slug("dom");
    let login = format!("login.{slug}.example");
    let other = format!("id.{slug}.example");
    let discovery = "/.well-known/openid-configuration";

    // Created with a domain: the domain is its issuer at once.
    let (status, made, _) = call(
        &app,
        p,
        "POST",
        "/api/v1/tenants",
        Some(json!({ "slug": slug, "display_name": "Dom", "domain": login.to_uppercase() })),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let (status, doc) = on_host(&app, &login, discovery).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["issuer"], format!("http://{login}"));
    let (_, doc) = on_host(&app, "localhost", &format!("/t/{slug}{discovery}")).await;
    assert_eq!(
        doc["issuer"],
        format!("http://{login}"),
        "one issuer, whatever the address"
    );

    // A second domain resolves too, but the primary one stays the issuer.
    let base = format!("/api/v1/tenants/{slug}/domains");
    let (status, added, _) = call(&app, p, "POST", &base, Some(json!({ "host": other }))).await;
    assert_eq!((status, &added["primary"]), (201, &json!(false)), "{added}");
    let (_, doc) = on_host(&app, &other, discovery).await;
    assert_eq!(doc["issuer"], format!("http://{login}"));
    let (_, listed, _) = call(&app, p, "GET", &base, None).await;
    let hosts: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["host"].as_str().unwrap())
        .collect();
    assert_eq!(hosts, [login.as_str(), other.as_str()], "the primary first");

    // Primary moved: the issuer follows, on this node within a second.
    let (status, _, _) = call(
        &app,
        p,
        "PATCH",
        &format!("{base}/{other}"),
        Some(json!({ "primary": true })),
    )
    .await;
    assert_eq!(status, 204);
    let mut issuer = Value::Null;
    for _ in 0..100 {
        issuer = on_host(&app, &login, discovery).await.1["issuer"].clone();
        if issuer == format!("http://{other}") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(issuer, format!("http://{other}"));

    // Refused: this deployment's hosts, addresses, bad names, a taken host.
    for (host, code) in [
        ("localhost", "validation_failed"),
        ("127.0.0.1", "validation_failed"),
        ("intranet", "validation_failed"),
        ("login.example.com:8443", "validation_failed"),
        ("https://login.example.com/", "validation_failed"),
        (other.as_str(), "conflict"),
    ] {
        let (status, problem, _) =
            call(&app, p, "POST", &base, Some(json!({ "host": host }))).await;
        assert_eq!(problem["code"], code, "{host}: {status} {problem}");
    }
    let (status, problem, _) = call(
        &app,
        p,
        "POST",
        "/api/v1/tenants",
        Some(json!({ "slug": unique_slug("dup"), "display_name": "Dup", "domain": other })),
    )
    .await;
    assert_eq!((status, problem["field"].as_str()), (409, Some("domain")));
    let (status, _, _) = call(
        &app,
        p,
        "POST",
        "/api/v1/tenants/default/domains",
        Some(json!({ "host": format!("www.{slug}.example") })),
    )
    .await;
    assert_eq!(status, 422, "the default tenant's issuer is the public URL");

    // Removed (named as typed, in capitals): the host no longer resolves
    // to the tenant.
    assert_eq!(
        call(
            &app,
            p,
            "DELETE",
            &format!("{base}/{}", login.to_uppercase()),
            None
        )
        .await
        .0,
        204
    );
    let mut gone = false;
    for _ in 0..100 {
        let (status, doc) = on_host(&app, &login, discovery).await;
        // Nothing, or in development the default tenant: not this one.
        gone = status != 200 || doc["issuer"] != format!("http://{other}");
        if gone {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(gone, "a removed domain no longer resolves to the tenant");
    assert_eq!(
        call(&app, p, "DELETE", &format!("{base}/{login}"), None)
            .await
            .0,
        404
    );

    // Renamed; every change is in the tenant's own log.
    let (_, renamed, _) = call(
        &app,
        p,
        "PATCH",
        &format!("/api/v1/tenants/{slug}"),
        Some(json!({ "display_name": "Domains Inc." })),
    )
    .await;
    assert_eq!(renamed["display_name"], "Domains Inc.");
    let tenant = state.tenancy.tenants.get(&slug).await.unwrap();
    let mut tx = state.db.tenant_tx(tenant.id).await.unwrap();
    let log = gatehouse_admin::audit::list(&mut tx, &Default::default())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let actions: Vec<&str> = log.items.iter().map(|e| e.action.as_str()).collect();
    for a in [
        "domain.added",
        "domain.changed",
        "domain.removed",
        "tenant.updated",
    ] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
}
