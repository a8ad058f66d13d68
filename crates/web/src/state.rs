//! The application state: cheap-to-clone handles, built once per process
//! from the configuration (or by tests, with their own database and clock).

use std::sync::Arc;
use std::time::Duration;

use gatehouse_core::clock::{Clock, SystemClock};
use gatehouse_core::config::Config;
use gatehouse_core::crypto::PasswordHasher;
use gatehouse_core::events::EventBus;
use gatehouse_core::kv::Kv;
use gatehouse_core::mail::Mailer;
use gatehouse_core::secretbox::Keyring;
use gatehouse_core::throttle::Throttle;
use gatehouse_core::Db;
use gatehouse_oidc::client_keys::ClientKeys;
use gatehouse_oidc::provider::{build_fn, TenantProvider};
use gatehouse_oidc::rotation::Rotator;
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
    pub tenancy: Tenancy<TenantProvider>,
    pub keyring: Keyring,
    /// Short-lived shared state: sessions, codes, pending requests, replay
    /// markers (Redis, or in-process for a single node).
    pub kv: Kv,
    /// Argon2id on dedicated, lower-priority threads.
    pub hasher: PasswordHasher,
    /// Builds base providers (settings, issuer) without the pool.
    pub factory: ProviderFactory,
    pub metrics: Arc<Metrics>,
    /// Clients' JWK Sets fetched from their `jwks_uri`.
    pub client_keys: ClientKeys,
    /// Outgoing email (the platform's SMTP server or a tenant's own).
    pub mailer: Arc<Mailer>,
    /// Brute-force counters, shared by every node.
    pub throttle: Throttle,
    /// Reverse proxies whose X-Forwarded-For is believed.
    pub proxies: Arc<[ipnet::IpNet]>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// What the management API (`/api/v1`) works with.
    pub fn api_state(&self) -> gatehouse_admin::api::ApiState {
        gatehouse_admin::api::ApiState {
            db: self.db.clone(),
            tenancy: self.tenancy.clone(),
            kv: self.kv.clone(),
            bus: self.bus.clone(),
            keyring: self.keyring.clone(),
            hasher: self.hasher.clone(),
            rotator: self.rotator(),
            platform: Arc::new(EffectiveSettings::platform(&self.config.settings)),
            allow_http: self.config.environment == gatehouse_core::config::Environment::Development,
            rate_limit_per_minute: self.config.api_rate_limit_per_minute,
            domain_rules: self.domain_rules(),
        }
    }

    /// The hosts no tenant may take as a custom domain: this deployment's.
    pub fn domain_rules(&self) -> gatehouse_tenancy::domains::DomainRules {
        gatehouse_tenancy::domains::DomainRules::new(
            &self.config.public_url,
            self.tenancy.resolver.config().base_domain.as_deref(),
        )
    }

    /// Rotates keys for commands and the schedule.
    pub fn rotator(&self) -> Rotator {
        Rotator {
            db: self.db.clone(),
            keyring: self.keyring.clone(),
            bus: self.bus.clone(),
            factory: self.factory.clone(),
            period: self.config.key_rotation_period(),
        }
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
        let keyring = config.keyring().map_err(|e| e.to_string())?;
        let kv = match config.redis_url() {
            Some(url) => Kv::redis(url, &config.redis_prefix).map_err(|e| e.to_string())?,
            None => Kv::memory(&config.redis_prefix),
        };
        // Hashing threads run below the executor's priority, by default on
        // all cores but one: a login burst uses CPU the executor leaves
        // idle, and other tenants' requests keep theirs.
        let hash_threads = match config.password_hash_threads {
            0 => gatehouse_core::crypto::default_hash_threads(
                std::thread::available_parallelism()
                    .map(usize::from)
                    .unwrap_or(2),
            ),
            n => n as usize,
        };
        let hasher = PasswordHasher::new(hash_threads).map_err(|e| e.to_string())?;
        let client_keys = ClientKeys::new(!config.is_production()).map_err(|e| e.to_string())?;
        let throttle = Throttle::new(kv.clone());
        let proxies: Arc<[ipnet::IpNet]> = config.proxies().map_err(|e| e.to_string())?.into();
        let mailer = Arc::new(Mailer::from_config(&config).map_err(|e| format!("email: {e}"))?);
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
            build_fn(
                factory.clone(),
                db.clone(),
                keyring.clone(),
                config.key_rotation_period(),
            ),
            pool_config,
            clock,
            pool_metrics,
        );
        Ok(Self {
            config: Arc::new(config),
            db,
            bus,
            tenancy,
            keyring,
            kv,
            hasher,
            factory,
            metrics: Arc::new(metrics),
            client_keys,
            mailer,
            throttle,
            proxies,
        })
    }
}
