//! The application state: cheap-to-clone handles, built once per process
//! from the configuration (or by tests, with their own database and clock).

use std::sync::Arc;
use std::time::Duration;

use gatehouse_core::clock::{Clock, SystemClock};
use gatehouse_core::config::Config;
use gatehouse_core::events::EventBus;
use gatehouse_core::Db;
use gatehouse_tenancy::resolve::{ResolverConfig, Strategy};
use gatehouse_tenancy::settings::EffectiveSettings;
use gatehouse_tenancy::{
    IssuerPolicy, PoolConfig, PoolMetrics, ProviderFactory, Registry, Resolver, Tenancy, Tenants,
};
use prometheus_client::registry::Registry as Metrics;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub bus: EventBus,
    pub tenancy: Tenancy,
    pub metrics: Arc<Metrics>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The resolution order and header from the configuration.
pub fn resolver_config(config: &Config) -> Result<ResolverConfig, String> {
    let order = config
        .tenant_resolution
        .iter()
        .map(|s| s.parse::<Strategy>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("tenant_resolution (GATEHOUSE_TENANT_RESOLUTION): {e}"))?;
    if order.is_empty() {
        return Err("tenant_resolution (GATEHOUSE_TENANT_RESOLUTION) names no strategy".into());
    }
    let base = Some(config.base_domain.trim()).filter(|b| !b.is_empty());
    ResolverConfig::new(order, &config.tenant_header, base)
        .map_err(|e| format!("tenant resolution settings: {e}"))
}

impl AppState {
    pub fn new(config: Config, db: Db, bus: EventBus) -> Result<Self, String> {
        Self::with_clock(config, db, bus, Arc::new(SystemClock))
    }

    pub fn with_clock(
        config: Config,
        db: Db,
        bus: EventBus,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, String> {
        let resolver_config = resolver_config(&config)?;
        let subdomain_base = resolver_config
            .base_domain
            .clone()
            .filter(|_| resolver_config.order.contains(&Strategy::Subdomain));
        let registry = Registry::new(
            db.clone(),
            Duration::from_secs(config.tenant_cache_ttl_secs.max(1)),
            config.tenant_cache_max_entries.max(1),
        );
        let resolver = Resolver::new(resolver_config, registry.clone(), !config.is_production());
        let factory = ProviderFactory::new(
            db.clone(),
            EffectiveSettings::platform(&config.settings),
            IssuerPolicy {
                public_url: config.public_url.clone(),
                subdomain_base,
            },
        );
        let pool_config = PoolConfig {
            max_size: config.pool_max_size,
            idle_ttl: config.pool_idle_ttl(),
            housekeeping: config.pool_housekeeping(),
        };
        let mut metrics = Metrics::default();
        let pool_metrics = PoolMetrics::default();
        pool_metrics.register(&mut metrics);
        let tenancy = Tenancy::new(
            Tenants::new(db.clone(), bus.clone()),
            registry,
            resolver,
            factory,
            pool_config,
            clock,
            pool_metrics,
        );
        Ok(Self {
            config: Arc::new(config),
            db,
            bus,
            tenancy,
            metrics: Arc::new(metrics),
        })
    }
}
