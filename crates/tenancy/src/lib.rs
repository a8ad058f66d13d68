//! Gatehouse tenancy: tenant resolution, the tenant registry and its caches,
//! reserved tenants, effective settings, and the provider pool; and
//! [`Tenancy`], which ties them to the event bus so that a change announced
//! anywhere evicts the tenant here.

pub mod domains;
pub mod pool;
pub mod provider;
pub mod registry;
pub mod resolve;
pub mod resolver;
pub mod sections;
pub mod settings;
pub mod tenants;

use std::sync::Arc;

use gatehouse_core::clock::Clock;
use gatehouse_core::events::{Event, EventBus};
use tokio::sync::broadcast::error::RecvError;

pub use pool::{PoolConfig, PoolMetrics, ProviderPool};
pub use provider::{IssuerPolicy, Provider, ProviderFactory};
pub use registry::Registry;
pub use resolver::{ResolveFailure, Resolved, Resolver};
pub use tenants::{TenantError, TenantRecord, TenantStatus, Tenants};

/// The per-node tenancy state: caches, pool, resolver. `P` is what the
/// pool holds: the base [`Provider`] here, the protocol's provider in the
/// server.
#[derive(Debug)]
pub struct Tenancy<P = Provider> {
    pub tenants: Tenants,
    pub registry: Registry,
    pub resolver: Resolver,
    pub pool: ProviderPool<P>,
}

impl<P> Clone for Tenancy<P> {
    fn clone(&self) -> Self {
        Self {
            tenants: self.tenants.clone(),
            registry: self.registry.clone(),
            resolver: self.resolver.clone(),
            pool: self.pool.clone(),
        }
    }
}

/// The build function of the base provider.
pub fn base_build(factory: ProviderFactory) -> pool::BuildFn<Provider> {
    Arc::new(move |tenant| {
        let factory = factory.clone();
        Box::pin(async move { factory.build(tenant).await.map_err(|e| e.to_string()) })
    })
}

impl<P: Send + Sync + 'static> Tenancy<P> {
    pub fn new(
        tenants: Tenants,
        registry: Registry,
        resolver: Resolver,
        build: pool::BuildFn<P>,
        pool_config: PoolConfig,
        clock: Arc<dyn Clock>,
        metrics: PoolMetrics,
    ) -> Self {
        let pool = ProviderPool::new(pool_config, build, clock, metrics);
        Self {
            tenants,
            registry,
            resolver,
            pool,
        }
    }

    /// Applies one bus event to this node's caches and pool.
    pub async fn apply(&self, event: &Event) {
        match event {
            Event::TenantChanged {
                tenant_id,
                slug,
                change,
            } => {
                tracing::debug!(tenant = %slug, ?change, "evicting tenant after a change");
                self.registry.invalidate(*tenant_id, slug).await;
                self.pool.evict(*tenant_id).await;
            }
            Event::EvictAll => {
                self.registry.invalidate_all();
                self.pool.evict_all();
            }
        }
    }

    /// Applies every event of `bus` for the life of the process. A lagging
    /// receiver has lost events, so it evicts everything.
    pub fn spawn_event_listener(&self, bus: &EventBus) -> tokio::task::JoinHandle<()> {
        let mut rx = bus.subscribe();
        let this = self.clone();
        tokio::spawn(async move {
            loop {
                match rx.recv().await {
                    Ok(event) => this.apply(&event).await,
                    Err(RecvError::Lagged(_)) => this.apply(&Event::EvictAll).await,
                    Err(RecvError::Closed) => break,
                }
            }
        })
    }
}
