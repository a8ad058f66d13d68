//! Resolution against the registry: cached hits and misses, invalidation by
//! bus events, custom domains, statuses, and the fallback rules.

use gatehouse_core::events::{Change, Event, EventBus};
use gatehouse_core::testing::{insert_tenant, test_db, unique_slug};
use gatehouse_core::Slug;
use gatehouse_tenancy::{ResolveFailure, Resolved, TenantStatus};
use http::HeaderMap;

use crate::support::{settle, system_clock, tenancy};

fn slug_of(r: &Resolved) -> String {
    match r {
        Resolved::Tenant { tenant, .. } => tenant.slug.to_string(),
        Resolved::Ops { .. } => "_ops".into(),
    }
}

#[tokio::test]
async fn an_unknown_slug_is_a_cached_miss_until_an_event_names_the_tenant() {
    let db = test_db().await;
    let bus = EventBus::local();
    let t = tenancy(&db, &bus, true, system_clock());
    let slug = unique_slug("late");
    let parsed = Slug::parse(&slug).unwrap();
    assert!(t.registry.by_slug(&parsed).await.unwrap().is_none());

    // Created behind the cache's back: the cached miss still answers.
    let id = insert_tenant(&db, &slug).await;
    assert!(t.registry.by_slug(&parsed).await.unwrap().is_none());

    bus.publish(&Event::TenantChanged {
        tenant_id: id,
        slug: slug.clone(),
        change: Change::Created,
    })
    .await
    .unwrap();
    settle().await;
    assert_eq!(t.registry.by_slug(&parsed).await.unwrap().unwrap().id, id);
}

#[tokio::test]
async fn unknown_tenants_are_404_and_suspended_or_inactive_ones_403() {
    let db = test_db().await;
    let bus = EventBus::local();
    let t = tenancy(&db, &bus, true, system_clock());
    let headers = HeaderMap::new();
    let missing = t
        .resolver
        .resolve(None, &format!("/t/{}/x", unique_slug("none")), &headers)
        .await;
    assert!(matches!(missing, Err(ResolveFailure::NotFound)));

    let slug = t
        .tenants
        .create(&unique_slug("st"), "Status")
        .await
        .unwrap()
        .slug
        .to_string();
    let path = format!("/t/{slug}/tenant");
    let ok = t.resolver.resolve(None, &path, &headers).await.unwrap();
    assert!(matches!(ok, Resolved::Tenant { strip_prefix: Some(n), .. } if n == slug.len() + 3));

    for status in [TenantStatus::Suspended, TenantStatus::Inactive] {
        t.tenants.set_status(&slug, status).await.unwrap();
        settle().await;
        let refused = t.resolver.resolve(None, &path, &headers).await;
        assert!(
            matches!(refused, Err(ResolveFailure::Unavailable(s)) if s == status),
            "{refused:?}"
        );
    }
    t.tenants
        .set_status(&slug, TenantStatus::Active)
        .await
        .unwrap();
    settle().await;
    assert!(t.resolver.resolve(None, &path, &headers).await.is_ok());
}

#[tokio::test]
async fn a_verified_custom_domain_resolves_and_an_unverified_one_does_not() {
    let db = test_db().await;
    let bus = EventBus::local();
    let t = tenancy(&db, &bus, true, system_clock());
    let slug = unique_slug("dom");
    let id = insert_tenant(&db, &slug).await;
    let verified = format!("login.{slug}.example");
    let unverified = format!("pending.{slug}.example");
    for (host, ok) in [(&verified, true), (&unverified, false)] {
        sqlx::query("insert into tenant_domains (host, tenant_id, verified) values ($1, $2, $3)")
            .bind(host)
            .bind(id.as_uuid())
            .bind(ok)
            .execute(db.registry())
            .await
            .unwrap();
    }
    let headers = HeaderMap::new();
    let host = format!("LOGIN.{slug}.example.:443");
    let hit = t
        .resolver
        .resolve(Some(host.as_bytes()), "/tenant", &headers)
        .await
        .unwrap();
    assert_eq!(slug_of(&hit), slug);
    // Unverified: not a custom domain, nothing else matches, production → 400.
    let miss = t
        .resolver
        .resolve(Some(unverified.as_bytes()), "/tenant", &headers)
        .await;
    assert!(matches!(miss, Err(ResolveFailure::Unresolved)), "{miss:?}");
}

#[tokio::test]
async fn subdomain_header_and_reserved_tenants_resolve() {
    let db = test_db().await;
    let bus = EventBus::local();
    let t = tenancy(&db, &bus, true, system_clock());
    let slug = t
        .tenants
        .create(&unique_slug("sub"), "Sub")
        .await
        .unwrap()
        .slug
        .to_string();
    let empty = HeaderMap::new();
    let host = format!("{slug}.AUTH.test:8443");
    assert_eq!(
        slug_of(
            &t.resolver
                .resolve(Some(host.as_bytes()), "/", &empty)
                .await
                .unwrap()
        ),
        slug
    );

    let mut headers = HeaderMap::new();
    headers.insert("x-tenant-id", slug.parse().unwrap());
    assert_eq!(
        slug_of(&t.resolver.resolve(None, "/tenant", &headers).await.unwrap()),
        slug
    );

    for (path, expect) in [
        ("/t/_platforms/x", "_platforms"),
        ("/t/default/x", "default"),
        ("/t/_ops/healthz", "_ops"),
    ] {
        assert_eq!(
            slug_of(&t.resolver.resolve(None, path, &empty).await.unwrap()),
            expect
        );
    }
}

#[tokio::test]
async fn an_unresolved_request_is_400_in_production_and_default_in_development() {
    let db = test_db().await;
    let bus = EventBus::local();
    let empty = HeaderMap::new();
    let prod = tenancy(&db, &bus, true, system_clock());
    assert!(matches!(
        prod.resolver
            .resolve(Some(b"127.0.0.1:8080"), "/x", &empty)
            .await,
        Err(ResolveFailure::Unresolved)
    ));
    let dev = tenancy(&db, &bus, false, system_clock());
    let r = dev
        .resolver
        .resolve(Some(b"127.0.0.1:8080"), "/x", &empty)
        .await
        .unwrap();
    assert_eq!(slug_of(&r), "default");
    // Invalid input is 400 in both.
    for t in [&prod, &dev] {
        assert!(matches!(
            t.resolver.resolve(None, "/t/../x", &empty).await,
            Err(ResolveFailure::Invalid(_))
        ));
        assert!(matches!(
            t.resolver.resolve(Some(b"bad host"), "/x", &empty).await,
            Err(ResolveFailure::Invalid(_))
        ));
    }
}
