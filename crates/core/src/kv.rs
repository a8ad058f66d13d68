//! Short-lived shared state (DESIGN.md "Storage"): sessions, authorization
//! codes, pending authorization requests, replay markers, token denylists.
//! Every key starts with the deployment prefix and the tenant id, so one
//! tenant's entries can never be read under another tenant's name, and a
//! deleted tenant's keys can be found. Redis when configured (several nodes
//! share it); an in-process map for a single node without Redis.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

use crate::ids::TenantId;

#[derive(Debug, thiserror::Error)]
pub enum KvError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
}

#[derive(Clone)]
pub struct Kv {
    prefix: Arc<str>,
    backend: Backend,
}

/// The in-process map: key → (value, expiry).
type MemoryMap = HashMap<String, (Vec<u8>, Instant)>;

#[derive(Clone)]
enum Backend {
    Redis {
        client: redis::Client,
        conn: Arc<OnceCell<redis::aio::ConnectionManager>>,
    },
    Memory(Arc<Mutex<MemoryMap>>),
}

impl std::fmt::Debug for Kv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.backend {
            Backend::Redis { .. } => "redis",
            Backend::Memory(_) => "memory",
        };
        f.debug_struct("Kv").field("backend", &kind).finish()
    }
}

fn ttl_ms(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl Kv {
    pub fn redis(url: &str, prefix: &str) -> Result<Self, KvError> {
        Ok(Self {
            prefix: prefix.into(),
            backend: Backend::Redis {
                client: redis::Client::open(url)?,
                conn: Arc::new(OnceCell::new()),
            },
        })
    }

    pub fn memory(prefix: &str) -> Self {
        Self {
            prefix: prefix.into(),
            backend: Backend::Memory(Arc::default()),
        }
    }

    /// `{prefix}:t:{tenant}:{name}`.
    pub fn key(&self, tenant: TenantId, name: &str) -> String {
        format!("{}:t:{tenant}:{name}", self.prefix)
    }

    async fn conn(&self) -> Result<Option<redis::aio::ConnectionManager>, KvError> {
        match &self.backend {
            Backend::Redis { client, conn } => Ok(Some(
                conn.get_or_try_init(|| redis::aio::ConnectionManager::new(client.clone()))
                    .await?
                    .clone(),
            )),
            Backend::Memory(_) => Ok(None),
        }
    }

    fn memory_map(&self) -> Option<std::sync::MutexGuard<'_, MemoryMap>> {
        match &self.backend {
            Backend::Memory(m) => {
                let mut map = match m.lock() {
                    Ok(g) => g,
                    Err(p) => p.into_inner(),
                };
                let now = Instant::now();
                map.retain(|_, (_, expires)| *expires > now);
                Some(map)
            }
            Backend::Redis { .. } => None,
        }
    }

    /// Stores `value` under the tenant's `name` for `ttl`.
    pub async fn set(
        &self,
        tenant: TenantId,
        name: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<(), KvError> {
        let key = self.key(tenant, name);
        if let Some(mut c) = self.conn().await? {
            redis::cmd("SET")
                .arg(&key)
                .arg(value)
                .arg("PX")
                .arg(ttl_ms(ttl))
                .query_async::<()>(&mut c)
                .await?;
        } else if let Some(mut map) = self.memory_map() {
            map.insert(key, (value.to_vec(), Instant::now() + ttl));
        }
        Ok(())
    }

    /// Stores only if absent; true when stored (replay caches).
    pub async fn set_nx(
        &self,
        tenant: TenantId,
        name: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, KvError> {
        let key = self.key(tenant, name);
        if let Some(mut c) = self.conn().await? {
            let r: Option<String> = redis::cmd("SET")
                .arg(&key)
                .arg(value)
                .arg("NX")
                .arg("PX")
                .arg(ttl_ms(ttl))
                .query_async(&mut c)
                .await?;
            Ok(r.is_some())
        } else if let Some(mut map) = self.memory_map() {
            if map.contains_key(&key) {
                return Ok(false);
            }
            map.insert(key, (value.to_vec(), Instant::now() + ttl));
            Ok(true)
        } else {
            Ok(false)
        }
    }

    pub async fn get(&self, tenant: TenantId, name: &str) -> Result<Option<Vec<u8>>, KvError> {
        let key = self.key(tenant, name);
        if let Some(mut c) = self.conn().await? {
            Ok(redis::cmd("GET").arg(&key).query_async(&mut c).await?)
        } else {
            Ok(self
                .memory_map()
                .and_then(|m| m.get(&key).map(|(v, _)| v.clone())))
        }
    }

    /// Whether any of the tenant's `names` is present, in one round trip
    /// (EXISTS with several keys): revocation marks.
    pub async fn any_exists(&self, tenant: TenantId, names: &[&str]) -> Result<bool, KvError> {
        if names.is_empty() {
            return Ok(false);
        }
        let keys: Vec<String> = names.iter().map(|n| self.key(tenant, n)).collect();
        if let Some(mut c) = self.conn().await? {
            let n: u64 = redis::cmd("EXISTS").arg(&keys).query_async(&mut c).await?;
            Ok(n > 0)
        } else {
            Ok(self
                .memory_map()
                .is_some_and(|m| keys.iter().any(|k| m.contains_key(k))))
        }
    }

    /// Reads and deletes atomically (GETDEL): single-use values such as
    /// authorization codes.
    pub async fn take(&self, tenant: TenantId, name: &str) -> Result<Option<Vec<u8>>, KvError> {
        let key = self.key(tenant, name);
        if let Some(mut c) = self.conn().await? {
            Ok(redis::cmd("GETDEL").arg(&key).query_async(&mut c).await?)
        } else {
            Ok(self
                .memory_map()
                .and_then(|mut m| m.remove(&key).map(|(v, _)| v)))
        }
    }

    pub async fn del(&self, tenant: TenantId, name: &str) -> Result<(), KvError> {
        let key = self.key(tenant, name);
        if let Some(mut c) = self.conn().await? {
            redis::cmd("DEL")
                .arg(&key)
                .query_async::<()>(&mut c)
                .await?;
        } else if let Some(mut map) = self.memory_map() {
            map.remove(&key);
        }
        Ok(())
    }

    /// PING (readiness); Ok for the in-process map.
    pub async fn ping(&self) -> Result<(), KvError> {
        if let Some(mut c) = self.conn().await? {
            redis::cmd("PING").query_async::<String>(&mut c).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_memory_backend_keeps_tenants_apart_and_expires_values() {
        let kv = Kv::memory("gh");
        let (a, b) = (TenantId::new_random(), TenantId::new_random());
        kv.set(a, "code:x", b"A", Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(kv.get(b, "code:x").await.unwrap(), None);
        assert_eq!(kv.take(b, "code:x").await.unwrap(), None);
        assert_eq!(kv.take(a, "code:x").await.unwrap(), Some(b"A".to_vec()));
        assert_eq!(kv.take(a, "code:x").await.unwrap(), None, "single use");
        assert!(kv
            .set_nx(a, "jti", b"1", Duration::from_millis(30))
            .await
            .unwrap());
        assert!(!kv
            .set_nx(a, "jti", b"1", Duration::from_millis(30))
            .await
            .unwrap());
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            kv.set_nx(a, "jti", b"1", Duration::from_secs(1))
                .await
                .unwrap(),
            "expired"
        );
        assert!(kv.key(a, "x").starts_with(&format!("gh:t:{a}:")));
        assert!(kv.any_exists(a, &["nothing", "jti"]).await.unwrap());
        assert!(!kv.any_exists(b, &["nothing", "jti"]).await.unwrap());
        assert!(!kv.any_exists(a, &[]).await.unwrap());
    }
}
