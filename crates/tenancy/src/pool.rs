//! The provider pool: a bounded LRU (moka, with the LRU policy chosen
//! explicitly; moka's default is TinyLFU, which would refuse admission to
//! a tenant seen once) of providers keyed by tenant id.
//!
//! * A cold tenant is built once however many requests for it arrive
//!   together: moka's `try_get_with` coalesces concurrent initialisations.
//! * Idle expiry is measured on an injected [`Clock`] (moka's own clock
//!   cannot be controlled from outside), checked on every access and swept
//!   by housekeeping.
//! * Counters: hits, misses, builds, evictions (by size or idleness) and
//!   the current size, exported as Prometheus metrics.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use gatehouse_core::clock::Clock;
use gatehouse_core::TenantId;
use moka::future::Cache;
use moka::notification::RemovalCause;
use moka::policy::EvictionPolicy;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry as Metrics;

use crate::provider::Provider;
use crate::tenants::TenantRecord;

/// Builds a provider for a tenant (Postgres in production, a counter in
/// tests). The pool is generic over what it holds, so the protocol layer can
/// pool its own provider (settings plus keys and documents) without this
/// crate knowing its type.
pub type BuildFn<P = Provider> =
    Arc<dyn Fn(Arc<TenantRecord>) -> BoxFuture<'static, Result<P, String>> + Send + Sync>;

#[derive(Debug, Clone, Copy)]
pub struct PoolConfig {
    pub max_size: u64,
    pub idle_ttl: Duration,
    pub housekeeping: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            max_size: 50,
            idle_ttl: Duration::from_secs(1800),
            housekeeping: Duration::from_secs(60),
        }
    }
}

/// Prometheus counters of the pool.
#[derive(Debug, Clone, Default)]
pub struct PoolMetrics {
    pub hits: Counter,
    pub misses: Counter,
    pub builds: Counter,
    pub evictions: Counter,
    pub size: Gauge,
}

impl PoolMetrics {
    pub fn register(&self, registry: &mut Metrics) {
        registry.register(
            "gatehouse_pool_hits",
            "Provider pool lookups served from memory",
            self.hits.clone(),
        );
        registry.register(
            "gatehouse_pool_misses",
            "Provider pool lookups that found no provider",
            self.misses.clone(),
        );
        registry.register(
            "gatehouse_pool_builds",
            "Providers built from the database",
            self.builds.clone(),
        );
        registry.register(
            "gatehouse_pool_evictions",
            "Providers evicted for size or idleness",
            self.evictions.clone(),
        );
        registry.register(
            "gatehouse_pool_size",
            "Providers currently in the pool",
            self.size.clone(),
        );
    }
}

#[derive(Debug, thiserror::Error)]
#[error("building the provider failed: {0}")]
pub struct PoolError(pub String);

struct Slot<P> {
    provider: Arc<P>,
    /// `tenants.updated_at` of the record it was built from. Every change
    /// to a tenant (status, settings, keys) bumps it, so a provider older
    /// than the registry's record is rebuilt even when the event announcing
    /// the change was lost: staleness is bounded by the registry's TTL.
    version: time::OffsetDateTime,
    /// Nanoseconds since the pool's epoch at the last access.
    last_used: AtomicU64,
}

pub struct ProviderPool<P = Provider> {
    cache: Cache<TenantId, Arc<Slot<P>>>,
    build: BuildFn<P>,
    clock: Arc<dyn Clock>,
    epoch: Instant,
    config: PoolConfig,
    metrics: PoolMetrics,
}

impl<P> Clone for ProviderPool<P> {
    fn clone(&self) -> Self {
        Self {
            cache: self.cache.clone(),
            build: self.build.clone(),
            clock: self.clock.clone(),
            epoch: self.epoch,
            config: self.config,
            metrics: self.metrics.clone(),
        }
    }
}

impl<P> std::fmt::Debug for ProviderPool<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderPool")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<P: Send + Sync + 'static> ProviderPool<P> {
    pub fn new(
        config: PoolConfig,
        build: BuildFn<P>,
        clock: Arc<dyn Clock>,
        metrics: PoolMetrics,
    ) -> Self {
        let evictions = metrics.evictions.clone();
        let cache = Cache::builder()
            .max_capacity(config.max_size)
            .eviction_policy(EvictionPolicy::lru())
            .eviction_listener(move |_k, _v, cause| {
                if cause == RemovalCause::Size {
                    evictions.inc();
                }
            })
            .build();
        let epoch = clock.now();
        Self {
            cache,
            build,
            clock,
            epoch,
            config,
            metrics,
        }
    }

    fn stamp(&self) -> u64 {
        u64::try_from(
            self.clock
                .now()
                .saturating_duration_since(self.epoch)
                .as_nanos(),
        )
        .unwrap_or(u64::MAX)
    }

    fn is_idle(&self, slot: &Slot<P>, now: u64) -> bool {
        let idle = now.saturating_sub(slot.last_used.load(Ordering::Relaxed));
        u128::from(idle) > self.config.idle_ttl.as_nanos()
    }

    /// The tenant's provider, built on a miss.
    pub async fn get(&self, tenant: Arc<TenantRecord>) -> Result<Arc<P>, PoolError> {
        let id = tenant.id;
        let now = self.stamp();
        if let Some(slot) = self.cache.get(&id).await {
            if slot.version < tenant.updated_at {
                self.cache.invalidate(&id).await;
            } else if !self.is_idle(&slot, now) {
                slot.last_used.fetch_max(now, Ordering::Relaxed);
                self.metrics.hits.inc();
                return Ok(slot.provider.clone());
            } else {
                self.expire(id).await;
            }
        }
        self.metrics.misses.inc();
        let build = self.build.clone();
        let builds = self.metrics.builds.clone();
        let slot = self
            .cache
            .try_get_with(id, async move {
                builds.inc();
                let version = tenant.updated_at;
                let provider = build(tenant).await?;
                Ok::<_, String>(Arc::new(Slot {
                    provider: Arc::new(provider),
                    last_used: AtomicU64::new(now),
                    version,
                }))
            })
            .await
            .map_err(|e| PoolError(e.to_string()))?;
        slot.last_used.fetch_max(now, Ordering::Relaxed);
        self.metrics
            .size
            .set(i64::try_from(self.cache.entry_count()).unwrap_or(i64::MAX));
        Ok(slot.provider.clone())
    }

    async fn expire(&self, id: TenantId) {
        if self.cache.remove(&id).await.is_some() {
            self.metrics.evictions.inc();
        }
    }

    /// Drops one tenant's provider (its settings, status or keys changed).
    pub async fn evict(&self, id: TenantId) {
        self.cache.invalidate(&id).await;
    }

    pub fn evict_all(&self) {
        self.cache.invalidate_all();
    }

    /// Sweeps idle providers and applies moka's pending maintenance (size
    /// evictions). Runs every `housekeeping` interval.
    pub async fn housekeeping(&self) {
        let now = self.stamp();
        let idle: Vec<TenantId> = self
            .cache
            .iter()
            .filter(|(_, slot)| self.is_idle(slot, now))
            .map(|(id, _)| *id)
            .collect();
        for id in idle {
            self.expire(id).await;
        }
        self.cache.run_pending_tasks().await;
        self.metrics
            .size
            .set(i64::try_from(self.cache.entry_count()).unwrap_or(i64::MAX));
    }

    /// Runs [`ProviderPool::housekeeping`] forever on the configured interval.
    pub fn spawn_housekeeping(&self) -> tokio::task::JoinHandle<()> {
        let pool = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(pool.config.housekeeping);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                pool.housekeeping().await;
            }
        })
    }

    /// Applies pending maintenance and updates the size gauge (for a scrape).
    pub async fn refresh_size(&self) {
        self.cache.run_pending_tasks().await;
        self.metrics
            .size
            .set(i64::try_from(self.cache.entry_count()).unwrap_or(i64::MAX));
    }

    pub fn contains(&self, id: TenantId) -> bool {
        self.cache.contains_key(&id)
    }

    pub fn metrics(&self) -> &PoolMetrics {
        &self.metrics
    }

    pub fn config(&self) -> PoolConfig {
        self.config
    }
}
