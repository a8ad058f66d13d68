//! Per-request cost of finding a request's tenant, in memory.
//!
//! * `steps/*`: the pure resolution step ([`gatehouse_tenancy::resolve::steps`])
//!   for a few typical requests, with the server's default strategy order.
//! * `warm/*`: [`Resolver::resolve`] followed by [`ProviderPool::get`] on a
//!   warm registry cache and a warm pool: everything the tenant middleware
//!   asks of the tenancy crate for one request once the tenant is known.
//!   `warm/registry_by_slug` and `warm/pool_get` measure the two caches
//!   alone.
//!
//! The `warm` group resolves against the test database once, to fill the
//! registry cache exactly as the server does. Prepare that database first
//! with `scripts/test`, or `source scripts/lib.sh; ensure_database
//! gatehouse_test`; `GATEHOUSE_TEST_DATABASE_URL` and
//! `GATEHOUSE_TEST_DATABASE_ADMIN_URL` override its location; the database
//! must not have been migrated by a newer revision (sqlx then refuses with
//! `VersionMissing`; point them at a fresh database instead, see
//! docs/benchmarks.md). The pool's build function makes a provider in memory
//! and never touches the database.
//!
//! Run: `SQLX_OFFLINE=true cargo bench -p gatehouse-bench`.

// A benchmark has no caller to report an error to: a failed set-up aborts it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use gatehouse_core::clock::SystemClock;
use gatehouse_core::ids::Slug;
use gatehouse_core::testing::{insert_tenant, test_db, unique_slug};
use gatehouse_tenancy::pool::BuildFn;
use gatehouse_tenancy::resolve::{steps, ResolverConfig, Step, Strategy};
use gatehouse_tenancy::settings::EffectiveSettings;
use gatehouse_tenancy::{
    PoolConfig, PoolMetrics, Provider, ProviderPool, Registry, Resolved, Resolver,
};
use http::{HeaderMap, HeaderValue};

/// The header of the header strategy, as in config/gatehouse.toml.
const TENANT_HEADER: &str = "x-tenant-id";
/// A base domain, so that the subdomain strategy is active.
const BASE_DOMAIN: &str = "auth.example.com";
/// The server's default order (config/gatehouse.toml).
const ORDER: [Strategy; 4] = [
    Strategy::CustomDomain,
    Strategy::Subdomain,
    Strategy::Path,
    Strategy::Header,
];

fn resolver_config() -> ResolverConfig {
    ResolverConfig::new(ORDER, TENANT_HEADER, Some(BASE_DOMAIN)).expect("resolver configuration")
}

/// One request as the tenant middleware sees it.
struct Request {
    name: &'static str,
    host: String,
    path: String,
    headers: HeaderMap,
}

/// The typical requests for tenant `slug`: path, header and subdomain
/// strategy (the last with upper case and a port in the Host).
fn requests(slug: &str) -> Vec<Request> {
    let mut with_header = HeaderMap::new();
    with_header.insert(
        TENANT_HEADER,
        HeaderValue::from_str(slug).expect("header value"),
    );
    vec![
        Request {
            name: "path",
            host: "127.0.0.1:8080".into(),
            path: format!("/t/{slug}/tenant"),
            headers: HeaderMap::new(),
        },
        Request {
            name: "header",
            host: "127.0.0.1:8080".into(),
            path: "/tenant".into(),
            headers: with_header,
        },
        Request {
            name: "subdomain",
            host: format!("{}.Auth.Example.COM:8443", slug.to_ascii_uppercase()),
            path: "/tenant".into(),
            headers: HeaderMap::new(),
        },
    ]
}

/// (a) The pure step: iterate until the first slug, as the resolver does.
fn bench_steps(c: &mut Criterion) {
    let cfg = resolver_config();
    let mut group = c.benchmark_group("steps");
    for req in requests("acme") {
        // Check once that the request resolves as intended.
        let first = steps(&cfg, Some(req.host.as_bytes()), &req.path, &req.headers).next();
        match first {
            Some(Ok(Step::Slug { slug, .. })) if slug.as_str() == "acme" => {}
            other => panic!("{}: unexpected first step {other:?}", req.name),
        }
        group.bench_function(req.name, |b| {
            b.iter(|| {
                let it = steps(
                    &cfg,
                    Some(black_box(req.host.as_bytes())),
                    black_box(&req.path),
                    black_box(&req.headers),
                );
                for step in it {
                    black_box(step.expect("step"));
                }
            });
        });
    }
    group.finish();
}

/// A pool whose providers are made in memory, like the server's but without
/// reading settings overrides or custom domains from the database.
fn memory_pool() -> ProviderPool {
    let platform = Arc::new(EffectiveSettings::platform(&Default::default()));
    let build: BuildFn = Arc::new(move |tenant| {
        let settings = (*platform).clone();
        Box::pin(async move {
            let issuer = format!("http://127.0.0.1:8080/t/{}", tenant.slug.as_str());
            Ok(Provider {
                tenant,
                issuer,
                settings,
            })
        })
    });
    ProviderPool::new(
        PoolConfig::default(),
        build,
        Arc::new(SystemClock),
        PoolMetrics::default(),
    )
}

/// Resolves and takes the provider, as the tenant middleware does.
async fn resolve_and_get(resolver: &Resolver, pool: &ProviderPool, req: &Request) -> usize {
    match resolver
        .resolve(Some(req.host.as_bytes()), &req.path, &req.headers)
        .await
    {
        Ok(Resolved::Tenant { tenant, .. }) => {
            let provider = pool.get(tenant).await.expect("provider");
            provider.issuer.len()
        }
        Ok(other) => panic!("{}: resolved to {other:?}", req.name),
        Err(e) => panic!("{}: {e}", req.name),
    }
}

/// (b) Resolver + pool on warm caches.
fn bench_warm(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let (registry, slug) = rt.block_on(async {
        let db = test_db().await;
        let slug = unique_slug("bench");
        insert_tenant(&db, &slug).await;
        // A long TTL: no entry may expire while measuring.
        (Registry::new(db, Duration::from_secs(3600), 10_000), slug)
    });
    let resolver = Resolver::new(resolver_config(), registry.clone(), false);
    let pool = memory_pool();
    let reqs = requests(&slug);
    // Warm-up: one database read fills the registry, one build the pool.
    for req in &reqs {
        rt.block_on(resolve_and_get(&resolver, &pool, req));
    }

    let mut group = c.benchmark_group("warm");
    for req in &reqs {
        group.bench_function(format!("resolve_and_pool_get/{}", req.name), |b| {
            b.to_async(&rt)
                .iter(|| async { black_box(resolve_and_get(&resolver, &pool, req).await) });
        });
    }
    let parsed = Slug::parse(&slug).expect("slug");
    group.bench_function("registry_by_slug", |b| {
        b.to_async(&rt).iter(|| async {
            black_box(
                registry
                    .by_slug(black_box(&parsed))
                    .await
                    .expect("registry"),
            )
        });
    });
    let tenant = rt
        .block_on(registry.by_slug(&parsed))
        .expect("registry")
        .expect("the tenant exists");
    group.bench_function("pool_get", |b| {
        b.to_async(&rt).iter(|| async {
            black_box(pool.get(black_box(tenant.clone())).await.expect("provider"))
        });
    });
    group.finish();
    // Every measured pool lookup was a hit: one build (the warm-up) in all.
    let builds = pool.metrics().builds.get();
    assert_eq!(
        builds, 1,
        "the pool built {builds} providers while measuring"
    );
}

criterion_group!(benches, bench_steps, bench_warm);
criterion_main!(benches);
