use std::sync::Arc;
use std::time::Duration;

use gatehouse_core::clock::{Clock, SystemClock};
use gatehouse_core::events::EventBus;
use gatehouse_core::Db;
use gatehouse_tenancy::resolve::{ResolverConfig, Strategy};
use gatehouse_tenancy::settings::EffectiveSettings;
use gatehouse_tenancy::{
    IssuerPolicy, PoolConfig, PoolMetrics, ProviderFactory, Registry, Resolver, Tenancy, Tenants,
};

pub fn resolver_config() -> ResolverConfig {
    ResolverConfig::new(
        [
            Strategy::CustomDomain,
            Strategy::Subdomain,
            Strategy::Path,
            Strategy::Header,
        ],
        "x-tenant-id",
        Some("auth.test"),
    )
    .unwrap()
}

/// A node's tenancy on the test database with a local bus whose events it
/// applies, as a server does.
pub fn tenancy(db: &Db, bus: &EventBus, production: bool, clock: Arc<dyn Clock>) -> Tenancy {
    let registry = Registry::new(db.clone(), Duration::from_secs(300), 1000);
    let resolver = Resolver::new(resolver_config(), registry.clone(), !production);
    let factory = ProviderFactory::new(
        db.clone(),
        EffectiveSettings::platform(&serde_json::Map::new()),
        IssuerPolicy {
            public_url: "http://127.0.0.1:8080".into(),
            subdomain_base: None,
        },
    );
    let t = Tenancy::new(
        Tenants::new(db.clone(), bus.clone()),
        registry,
        resolver,
        gatehouse_tenancy::base_build(factory),
        PoolConfig::default(),
        clock,
        PoolMetrics::default(),
    );
    t.spawn_event_listener(bus);
    t
}

pub fn system_clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

/// Lets the event listener task apply what was just published.
pub async fn settle() {
    tokio::time::sleep(Duration::from_millis(50)).await;
}
