//! The provider pool: LRU eviction at its bound, one build for a burst of
//! requests for a cold tenant, idle expiry on a controllable clock.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gatehouse_core::clock::ManualClock;
use gatehouse_core::events::EventBus;
use gatehouse_core::testing::{insert_tenant, test_db, unique_slug};
use gatehouse_core::{Slug, TenantId};
use gatehouse_tenancy::pool::BuildFn;
use gatehouse_tenancy::settings::EffectiveSettings;
use gatehouse_tenancy::{
    PoolConfig, PoolMetrics, Provider, ProviderPool, TenantRecord, TenantStatus,
};

use crate::support::{system_clock, tenancy};

fn record(slug: &str) -> Arc<TenantRecord> {
    Arc::new(TenantRecord {
        id: TenantId::new_random(),
        slug: Slug::parse(slug).unwrap(),
        display_name: slug.into(),
        status: TenantStatus::Active,
        builtin: false,
        created_at: time::OffsetDateTime::UNIX_EPOCH,
        updated_at: time::OffsetDateTime::UNIX_EPOCH,
    })
}

/// A build function that counts its calls and takes `delay`.
fn counting_build(delay: Duration) -> (BuildFn, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let build: BuildFn = Arc::new(move |tenant: Arc<TenantRecord>| {
        let counter = counter.clone();
        Box::pin(async move {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(delay).await;
            Ok(Provider {
                issuer: format!("http://test/t/{}", tenant.slug),
                settings: EffectiveSettings::platform(&serde_json::Map::new()),
                tenant,
            })
        })
    });
    (build, calls)
}

#[tokio::test]
async fn the_51st_tenant_evicts_the_least_recently_used_one() {
    let (build, calls) = counting_build(Duration::ZERO);
    let metrics = PoolMetrics::default();
    let pool = ProviderPool::new(
        PoolConfig::default(),
        build,
        Arc::new(ManualClock::default()),
        metrics.clone(),
    );
    let tenants: Vec<_> = (0..51).map(|i| record(&format!("t{i}"))).collect();
    for t in &tenants[..50] {
        pool.get(t.clone()).await.unwrap();
    }
    pool.housekeeping().await;
    // Touch every tenant but t1, so t1 is the least recently used.
    for t in tenants[..50].iter().filter(|t| t.slug.as_str() != "t1") {
        pool.get(t.clone()).await.unwrap();
    }
    pool.housekeeping().await;
    assert_eq!(metrics.evictions.get(), 0);

    pool.get(tenants[50].clone()).await.unwrap();
    pool.housekeeping().await;

    assert!(
        !pool.contains(tenants[1].id),
        "t1 was the least recently used"
    );
    for (i, t) in tenants.iter().enumerate().filter(|(i, _)| *i != 1) {
        assert!(pool.contains(t.id), "t{i} should still be pooled");
    }
    assert_eq!(metrics.evictions.get(), 1);
    assert_eq!(metrics.size.get(), 50);
    assert_eq!(calls.load(Ordering::SeqCst), 51);
    assert_eq!(metrics.builds.get(), 51);
    assert_eq!(metrics.misses.get(), 51);
    assert_eq!(metrics.hits.get(), 49);
}

#[tokio::test]
async fn a_hundred_concurrent_requests_for_a_cold_tenant_build_it_once() {
    let (build, calls) = counting_build(Duration::from_millis(100));
    let metrics = PoolMetrics::default();
    let pool = ProviderPool::new(
        PoolConfig::default(),
        build,
        system_clock(),
        metrics.clone(),
    );
    let tenant = record("cold");
    let gets = (0..100).map(|_| {
        let pool = pool.clone();
        let tenant = tenant.clone();
        tokio::spawn(async move { pool.get(tenant).await.unwrap() })
    });
    let providers: Vec<_> = futures_util::future::join_all(gets)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(metrics.builds.get(), 1);
    assert!(providers.iter().all(|p| Arc::ptr_eq(p, &providers[0])));
    assert_eq!(metrics.hits.get() + metrics.misses.get(), 100);
}

#[tokio::test]
async fn a_hundred_concurrent_requests_build_a_real_tenant_from_postgres_once() {
    let db = test_db().await;
    let bus = EventBus::local();
    let t = tenancy(&db, &bus, false, system_clock());
    let slug = unique_slug("cold");
    insert_tenant(&db, &slug).await;
    let record = t
        .registry
        .by_slug(&Slug::parse(&slug).unwrap())
        .await
        .unwrap()
        .unwrap();
    let gets = (0..100).map(|_| {
        let pool = t.pool.clone();
        let record = record.clone();
        tokio::spawn(async move { pool.get(record).await.unwrap() })
    });
    let providers: Vec<_> = futures_util::future::join_all(gets)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(t.pool.metrics().builds.get(), 1);
    assert_eq!(
        providers[0].issuer,
        format!("http://127.0.0.1:8080/t/{slug}")
    );
}

#[tokio::test]
async fn an_idle_provider_expires_on_the_controllable_clock() {
    let (build, calls) = counting_build(Duration::ZERO);
    let clock = ManualClock::default();
    let metrics = PoolMetrics::default();
    let config = PoolConfig {
        idle_ttl: Duration::from_secs(30 * 60),
        ..PoolConfig::default()
    };
    let pool = ProviderPool::new(config, build, Arc::new(clock.clone()), metrics.clone());
    let (a, b) = (record("a"), record("b"));
    pool.get(a.clone()).await.unwrap();
    pool.get(b.clone()).await.unwrap();

    clock.advance(Duration::from_secs(29 * 60));
    pool.get(a.clone()).await.unwrap(); // a used again; b idle for 29 min
    pool.housekeeping().await;
    assert!(pool.contains(a.id) && pool.contains(b.id));

    clock.advance(Duration::from_secs(2 * 60)); // b idle 31 min, a 2 min
    pool.housekeeping().await;
    assert!(pool.contains(a.id));
    assert!(!pool.contains(b.id), "b was idle longer than 30 minutes");
    assert_eq!(metrics.evictions.get(), 1);

    // An idle entry found on access (before housekeeping) is rebuilt.
    clock.advance(Duration::from_secs(31 * 60));
    pool.get(a.clone()).await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(metrics.evictions.get(), 2);
}

#[tokio::test]
async fn a_settings_change_evicts_the_provider_and_the_next_request_rebuilds_it() {
    let db = test_db().await;
    let bus = EventBus::local();
    let t = tenancy(&db, &bus, false, system_clock());
    let slug = unique_slug("evict");
    insert_tenant(&db, &slug).await;
    let record = t
        .registry
        .by_slug(&Slug::parse(&slug).unwrap())
        .await
        .unwrap()
        .unwrap();
    let before = t.pool.get(record.clone()).await.unwrap();
    assert_eq!(
        before.settings.get("branding", "company_name"),
        Some(&serde_json::json!("Gatehouse"))
    );

    gatehouse_tenancy::settings::put_section(
        &db,
        &bus,
        &record,
        "branding",
        serde_json::json!({"company_name": "Acme"}),
    )
    .await
    .unwrap();
    crate::support::settle().await;
    assert!(!t.pool.contains(record.id));
    let after = t.pool.get(record).await.unwrap();
    assert_eq!(
        after.settings.get("branding", "company_name"),
        Some(&serde_json::json!("Acme"))
    );
    assert_eq!(t.pool.metrics().builds.get(), 2);
}

#[tokio::test]
async fn a_provider_older_than_the_registry_record_is_rebuilt_even_without_an_event() {
    let db = test_db().await;
    // The node listens to its own bus; the change is announced on another,
    // as if the announcement were lost.
    let node_bus = EventBus::local();
    let t = tenancy(&db, &node_bus, false, system_clock());
    let slug = unique_slug("lost");
    insert_tenant(&db, &slug).await;
    let parsed = Slug::parse(&slug).unwrap();
    let record = t.registry.by_slug(&parsed).await.unwrap().unwrap();
    t.pool.get(record.clone()).await.unwrap();

    let elsewhere = EventBus::local();
    gatehouse_tenancy::settings::put_section(
        &db,
        &elsewhere,
        &record,
        "branding",
        serde_json::json!({"company_name": "New"}),
    )
    .await
    .unwrap();
    // Still cached: the registry entry has not expired and no event came.
    let cached = t.registry.by_slug(&parsed).await.unwrap().unwrap();
    let stale = t.pool.get(cached).await.unwrap();
    assert_eq!(
        stale.settings.get("branding", "company_name"),
        Some(&serde_json::json!("Gatehouse"))
    );

    // The registry entry expires (its TTL): the fresh record is newer than
    // the pooled provider, which is rebuilt.
    t.registry.invalidate_all();
    let fresh = t.registry.by_slug(&parsed).await.unwrap().unwrap();
    assert!(fresh.updated_at > record.updated_at);
    let rebuilt = t.pool.get(fresh).await.unwrap();
    assert_eq!(
        rebuilt.settings.get("branding", "company_name"),
        Some(&serde_json::json!("New"))
    );
    assert_eq!(t.pool.metrics().builds.get(), 2);
}
