//! The node event bus. When a tenant's settings, status, domains or keys
//! change, the process that made the change commits it first and then
//! publishes an [`Event`]; every node evicts that tenant from its caches and
//! provider pool, and the next request rebuilds from Postgres.
//!
//! With Redis configured the bus is Redis pub/sub on `{prefix}:events`, so
//! nodes and CLI invocations reach each other. A node whose subscription
//! drops has missed events it cannot know about, so when it reconnects it
//! delivers [`Event::EvictAll`] locally. Without Redis a single node runs on
//! an in-process broadcast channel.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, OnceCell};

use crate::ids::TenantId;

/// What changed about a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Created,
    Status,
    Settings,
    Domains,
    Keys,
    /// A client was changed or deleted (cached in the tenant's provider).
    Clients,
    Deleted,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// One tenant changed: evict it (by id and by slug) everywhere.
    TenantChanged {
        tenant_id: TenantId,
        slug: String,
        change: Change,
    },
    /// Evict every tenant: delivered locally after a lost subscription.
    EvictAll,
}

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("event bus: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("event bus: {0}")]
    Encode(#[from] serde_json::Error),
}

/// Cheap to clone; every clone shares the same transport and local channel.
#[derive(Clone)]
pub struct EventBus {
    inner: Arc<Inner>,
}

struct Inner {
    local: broadcast::Sender<Event>,
    redis: Option<RedisTransport>,
}

struct RedisTransport {
    client: redis::Client,
    channel: String,
    publisher: OnceCell<redis::aio::ConnectionManager>,
}

impl std::fmt::Debug for EventBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventBus")
            .field("redis", &self.inner.redis.is_some())
            .finish()
    }
}

impl EventBus {
    /// A single-node bus: events reach only this process.
    pub fn local() -> Self {
        let (local, _) = broadcast::channel(1024);
        Self {
            inner: Arc::new(Inner { local, redis: None }),
        }
    }

    /// A bus on Redis pub/sub. Does not connect yet: publishing connects on
    /// first use, and [`EventBus::spawn_listener`] keeps a subscription.
    pub fn redis(url: &str, prefix: &str) -> Result<Self, EventError> {
        let client = redis::Client::open(url)?;
        let (local, _) = broadcast::channel(1024);
        let transport = RedisTransport {
            client,
            channel: format!("{prefix}:events"),
            publisher: OnceCell::new(),
        };
        Ok(Self {
            inner: Arc::new(Inner {
                local,
                redis: Some(transport),
            }),
        })
    }

    pub fn is_distributed(&self) -> bool {
        self.inner.redis.is_some()
    }

    /// Receives every event this node should act on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.local.subscribe()
    }

    /// Publishes after a committed change. Delivered locally at once (so the
    /// publishing node never serves stale data), then to every other node.
    pub async fn publish(&self, event: &Event) -> Result<(), EventError> {
        let _ = self.inner.local.send(event.clone());
        let Some(redis) = &self.inner.redis else {
            return Ok(());
        };
        let payload = serde_json::to_string(event)?;
        let conn = redis
            .publisher
            .get_or_try_init(|| redis::aio::ConnectionManager::new(redis.client.clone()))
            .await?;
        let mut conn = conn.clone();
        redis::cmd("PUBLISH")
            .arg(&redis.channel)
            .arg(payload)
            .query_async::<i64>(&mut conn)
            .await?;
        Ok(())
    }

    /// PING through the publishing connection (readiness). Ok for a local bus.
    pub async fn ping(&self) -> Result<(), EventError> {
        let Some(redis) = &self.inner.redis else {
            return Ok(());
        };
        let conn = redis
            .publisher
            .get_or_try_init(|| redis::aio::ConnectionManager::new(redis.client.clone()))
            .await?;
        let mut conn = conn.clone();
        redis::cmd("PING").query_async::<String>(&mut conn).await?;
        Ok(())
    }

    /// Keeps a Redis subscription for the life of the process, forwarding
    /// events to [`EventBus::subscribe`]rs; reconnects with backoff and
    /// delivers [`Event::EvictAll`] after every reconnection. No-op for a
    /// local bus.
    pub fn spawn_listener(&self) -> Option<tokio::task::JoinHandle<()>> {
        self.inner.redis.as_ref()?;
        let bus = self.clone();
        Some(tokio::spawn(async move { bus.listen_forever().await }))
    }

    async fn listen_forever(self) {
        let Some(redis) = &self.inner.redis else {
            return;
        };
        // Events published while this node could not subscribe are lost to
        // it, whether it had been connected before or never was.
        let mut missed_some = false;
        let mut backoff = Duration::from_millis(100);
        loop {
            match subscribe(&redis.client, &redis.channel).await {
                Ok(mut pubsub) => {
                    backoff = Duration::from_millis(100);
                    if missed_some {
                        tracing::warn!(
                            "event bus subscription restored; evicting every cached tenant"
                        );
                        let _ = self.inner.local.send(Event::EvictAll);
                    } else {
                        tracing::info!(channel = %redis.channel, "event bus subscribed");
                    }
                    missed_some = true;
                    let mut messages = pubsub.on_message();
                    while let Some(msg) = messages.next().await {
                        let payload: String = match msg.get_payload() {
                            Ok(p) => p,
                            Err(_) => continue,
                        };
                        match serde_json::from_str::<Event>(&payload) {
                            Ok(event) => {
                                let _ = self.inner.local.send(event);
                            }
                            Err(e) => tracing::warn!(error = %e, "ignoring a malformed event"),
                        }
                    }
                    tracing::warn!("event bus subscription lost; reconnecting");
                }
                Err(e) => {
                    missed_some = true;
                    tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "event bus cannot subscribe");
                }
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    }
}

async fn subscribe(
    client: &redis::Client,
    channel: &str,
) -> Result<redis::aio::PubSub, redis::RedisError> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(channel).await?;
    Ok(pubsub)
}
