//! The HTTP application in-process: resolution outcomes and their statuses,
//! operations endpoints, and that bad input never yields a 500.

use gatehouse_core::config::{Config, Environment};
use gatehouse_core::events::EventBus;
use gatehouse_core::testing::{test_db, unique_slug};
use gatehouse_core::Db;
use gatehouse_tenancy::TenantStatus;
use gatehouse_web::server::service;
use gatehouse_web::AppState;
use serde_json::{json, Value};

use crate::support::{app, app_with, get, get_with, send, test_config};

async fn settle() {
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
}

#[tokio::test]
async fn ops_endpoints_answer_on_every_host_without_resolution() {
    let (app, _) = app_with(Config {
        environment: Environment::Production,
        ..test_config()
    })
    .await;
    for host in [
        &b"id.example.com"[..],
        b"unknown.example.org",
        b"bad host!",
        b"127.0.0.1:8080",
    ] {
        let (status, body, _) = send(&app, get_with("/_ops/healthz", &[("host", host)])).await;
        assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));
    }
    let (status, body, _) = send(&app, get("/_ops/readyz")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"status": "ready", "checks": {"postgres": "ok", "redis": "not_configured"}})
    );
    // The _ops tenant is reachable by every strategy too.
    assert_eq!(send(&app, get("/t/_ops/healthz")).await.0, 200);
    assert_eq!(
        send(&app, get_with("/healthz", &[("x-tenant-id", b"_ops")]))
            .await
            .0,
        200
    );
    assert_eq!(send(&app, get("/t/_ops/")).await.0, 404);
}

#[tokio::test]
async fn metrics_export_the_pool_counters() {
    let (app, state) = app().await;
    let slug = state
        .tenancy
        .tenants
        .create(&unique_slug("m"), "M")
        .await
        .unwrap()
        .slug;
    for _ in 0..3 {
        assert_eq!(send(&app, get(&format!("/t/{slug}/tenant"))).await.0, 200);
    }
    let (status, body, response) = send(&app, get("/_ops/metrics")).await;
    assert_eq!(status, 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/openmetrics-text"));
    for line in [
        "gatehouse_pool_hits_total 2",
        "gatehouse_pool_misses_total 1",
        "gatehouse_pool_builds_total 1",
        "gatehouse_pool_evictions_total 0",
        "gatehouse_pool_size 1",
    ] {
        assert!(
            body.lines().any(|l| l == line),
            "missing {line:?} in\n{body}"
        );
    }
}

#[tokio::test]
async fn readiness_is_503_when_postgres_or_redis_is_unreachable() {
    let db = test_db().await;
    let dead_redis = EventBus::redis("redis://127.0.0.1:1", "gatehouse-test").unwrap();
    let state = AppState::new(test_config(), db, dead_redis).unwrap();
    let (status, body, _) = send(&service(state), get("/_ops/readyz")).await;
    assert_eq!(status, 503);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["checks"]["postgres"], "ok");
    assert_ne!(body["checks"]["redis"], "ok");

    let dead_pg =
        Db::connect_lazy("postgres://gatehouse_app@127.0.0.1:1/gatehouse_test", 1).unwrap();
    let state = AppState::new(test_config(), dead_pg, EventBus::local()).unwrap();
    let (status, body, _) = send(&service(state), get("/_ops/readyz")).await;
    assert_eq!(status, 503);
    assert_ne!(
        serde_json::from_str::<Value>(&body).unwrap()["checks"]["postgres"],
        "ok"
    );
}

#[tokio::test]
async fn a_tenant_is_reached_by_path_and_header_with_its_issuer() {
    let (app, state) = app().await;
    let slug = state
        .tenancy
        .tenants
        .create(&unique_slug("acme"), "Acme Corp")
        .await
        .unwrap()
        .slug;
    let expected = json!({
        "slug": slug.as_str(), "display_name": "Acme Corp",
        "issuer": format!("http://127.0.0.1:8080/t/{slug}"),
    });
    let (status, body, response) = send(&app, get(&format!("/t/{slug}/tenant?x=1"))).await;
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), expected);
    assert!(response.headers().contains_key("x-request-id"));

    let (status, body, _) = send(
        &app,
        get_with("/tenant", &[("x-tenant-id", slug.as_str().as_bytes())]),
    )
    .await;
    assert_eq!(
        (status, serde_json::from_str::<Value>(&body).unwrap()),
        (200, expected)
    );
}

#[tokio::test]
async fn subdomain_mode_resolves_the_host_and_issues_from_the_subdomain() {
    let config = Config {
        base_domain: "Auth.Test".into(),
        ..test_config()
    };
    let (app, state) = app_with(config).await;
    let slug = state
        .tenancy
        .tenants
        .create(&unique_slug("sub"), "Sub")
        .await
        .unwrap()
        .slug;
    let host = format!("{}.AUTH.test.:8080", slug.as_str().to_uppercase());
    let (status, body, _) = send(&app, get_with("/tenant", &[("host", host.as_bytes())])).await;
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["issuer"], format!("http://{slug}.auth.test:8080"));
    // Subdomain first: a disagreeing header loses.
    let (status, body, _) = send(
        &app,
        get_with(
            "/tenant",
            &[("host", host.as_bytes()), ("x-tenant-id", b"default")],
        ),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["slug"],
        slug.as_str()
    );
    // A deeper name under the base domain is not a slug.
    let deep = format!("a.{slug}.auth.test");
    assert_eq!(
        send(&app, get_with("/tenant", &[("host", deep.as_bytes())]))
            .await
            .0,
        400
    );
}

#[tokio::test]
async fn an_unknown_tenant_gets_exactly_the_same_404_as_an_unknown_path() {
    let (app, state) = app().await;
    let slug = state
        .tenancy
        .tenants
        .create(&unique_slug("known"), "Known")
        .await
        .unwrap()
        .slug;
    let (s1, b1, r1) = send(&app, get(&format!("/t/{}/tenant", unique_slug("unknown")))).await;
    let (s2, b2, r2) = send(&app, get(&format!("/t/{slug}/no-such-page"))).await;
    assert_eq!((s1, &b1), (404, &b2));
    assert_eq!(s2, 404);
    assert_eq!(
        b1,
        r#"{"error":"not_found","error_description":"Not found"}"#
    );
    for h in ["content-type", "cache-control"] {
        assert_eq!(r1.headers()[h], r2.headers()[h]);
    }
    // An /_ops path under a tenant prefix belongs to no tenant.
    assert_eq!(
        send(&app, get(&format!("/t/{slug}/_ops/metrics"))).await.1,
        b1
    );
}

#[tokio::test]
async fn suspended_and_inactive_tenants_answer_403_by_every_strategy() {
    let (app, state) = app().await;
    let tenants = &state.tenancy.tenants;
    let slug = tenants
        .create(&unique_slug("susp"), "Susp")
        .await
        .unwrap()
        .slug;
    let path = format!("/t/{slug}/tenant");
    assert_eq!(send(&app, get(&path)).await.0, 200);
    for (status, word) in [
        (TenantStatus::Suspended, "suspended"),
        (TenantStatus::Inactive, "inactive"),
    ] {
        tenants.set_status(slug.as_str(), status).await.unwrap();
        settle().await;
        let (code, body, _) = send(&app, get(&path)).await;
        assert_eq!(code, 403);
        assert!(body.contains(word), "{body}");
        assert_eq!(
            send(
                &app,
                get_with("/tenant", &[("x-tenant-id", slug.as_str().as_bytes())])
            )
            .await
            .0,
            403
        );
    }
    tenants
        .set_status(slug.as_str(), TenantStatus::Active)
        .await
        .unwrap();
    settle().await;
    assert_eq!(send(&app, get(&path)).await.0, 200);
}

#[tokio::test]
async fn an_unresolved_request_is_400_in_production_and_the_default_tenant_in_development() {
    let (prod, _) = app_with(Config {
        environment: Environment::Production,
        ..test_config()
    })
    .await;
    let (status, body, _) = send(&prod, get_with("/tenant", &[("host", b"127.0.0.1:8080")])).await;
    assert_eq!(status, 400);
    assert!(body.contains("does not name a tenant"));
    let (dev, _) = app().await;
    let (status, body, _) = send(&dev, get_with("/tenant", &[("host", b"127.0.0.1:8080")])).await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["slug"],
        "default"
    );
}

type Headers<'a> = Vec<(&'a str, &'a [u8])>;

#[tokio::test]
async fn bad_input_gets_a_clear_400_and_never_a_500() {
    let (app, _) = app_with(Config {
        environment: Environment::Production,
        ..test_config()
    })
    .await;
    let big = vec![b'a'; 10 * 1024];
    let cases: Vec<(String, Headers, u16)> = vec![
        ("/t/Bad/x".into(), vec![], 400),
        ("/t/../x".into(), vec![], 400),
        ("/t/%2e%2e/x".into(), vec![], 400),
        ("/t/a%2Fb/x".into(), vec![], 400),
        ("/t//x".into(), vec![], 400),
        ("/t/".into(), vec![], 400),
        (format!("/t/{}/x", "a".repeat(64)), vec![], 400),
        ("/tenant".into(), vec![("x-tenant-id", &big[..])], 400),
        ("/tenant".into(), vec![("x-tenant-id", b"ACME")], 400),
        ("/tenant".into(), vec![("x-tenant-id", b"_secret")], 400),
        ("/tenant".into(), vec![("host", b"bad host")], 400),
        ("/tenant".into(), vec![("host", b"a..b.example")], 400),
        ("/tenant".into(), vec![("host", b"example.com:99999")], 400),
        ("/tenant".into(), vec![("host", &big[..])], 400),
        ("/tenant".into(), vec![("host", b"\xff\xfe")], 400),
    ];
    for (path, headers, expected) in cases {
        let (status, body, _) = send(&app, get_with(&path, &headers)).await;
        assert_eq!(status, expected, "{path} {headers:?}: {body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["error"], "invalid_request");
    }
}
