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

    /// Stores each of `entries` (name, value, ttl) under the tenant, in one
    /// round trip (pipelined SETs).
    pub async fn set_many(
        &self,
        tenant: TenantId,
        entries: &[(&str, &[u8], Duration)],
    ) -> Result<(), KvError> {
        if let Some(mut c) = self.conn().await? {
            let mut pipe = redis::pipe();
            for (name, value, ttl) in entries {
                pipe.cmd("SET")
                    .arg(self.key(tenant, name))
                    .arg(*value)
                    .arg("PX")
                    .arg(ttl_ms(*ttl))
                    .ignore();
            }
            pipe.query_async::<()>(&mut c).await?;
        } else if let Some(mut map) = self.memory_map() {
            for (name, value, ttl) in entries {
                map.insert(
                    self.key(tenant, name),
                    (value.to_vec(), Instant::now() + *ttl),
                );
            }
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

    /// Adds one to the tenant's counter `name` and returns the new value.
    /// A counter that did not exist starts at 1 and expires `ttl` later; the
    /// increments after that keep that expiry (a fixed window, like INCR
    /// after `SET … NX PX`, both in one MULTI so no counter is ever left
    /// without an expiry). Rate limits and brute-force counters.
    pub async fn incr_with_ttl(
        &self,
        tenant: TenantId,
        name: &str,
        ttl: Duration,
    ) -> Result<u64, KvError> {
        let key = self.key(tenant, name);
        if let Some(mut c) = self.conn().await? {
            let (n,): (u64,) = redis::pipe()
                .atomic()
                .cmd("SET")
                .arg(&key)
                .arg(0)
                .arg("NX")
                .arg("PX")
                .arg(ttl_ms(ttl))
                .ignore()
                .cmd("INCR")
                .arg(&key)
                .query_async(&mut c)
                .await?;
            Ok(n)
        } else if let Some(mut map) = self.memory_map() {
            let expires = Instant::now() + ttl;
            let entry = map.entry(key).or_insert_with(|| (b"0".to_vec(), expires));
            // Only this method writes counters; anything else counts as 0.
            let n = std::str::from_utf8(&entry.0)
                .ok()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
                .saturating_add(1);
            entry.0 = n.to_string().into_bytes();
            Ok(n)
        } else {
            Ok(0)
        }
    }

    /// Adds `member` to the tenant's set `name` and (re)sets the set's
    /// expiry to `ttl` (an index of short-lived records, such as a user's
    /// sessions).
    pub async fn set_add(
        &self,
        tenant: TenantId,
        name: &str,
        member: &str,
        ttl: Duration,
    ) -> Result<(), KvError> {
        let key = self.key(tenant, name);
        if let Some(mut c) = self.conn().await? {
            redis::pipe()
                .atomic()
                .cmd("SADD")
                .arg(&key)
                .arg(member)
                .ignore()
                .cmd("PEXPIRE")
                .arg(&key)
                .arg(ttl_ms(ttl))
                .ignore()
                .query_async::<()>(&mut c)
                .await?;
        } else if let Some(mut map) = self.memory_map() {
            let mut members = members_of(map.get(&key).map(|(v, _)| v.as_slice()));
            members.insert(member.to_owned());
            let body = serde_json::to_vec(&members).unwrap_or_default();
            map.insert(key, (body, Instant::now() + ttl));
        }
        Ok(())
    }

    /// Removes `member` from the tenant's set `name`.
    pub async fn set_remove(
        &self,
        tenant: TenantId,
        name: &str,
        member: &str,
    ) -> Result<(), KvError> {
        let key = self.key(tenant, name);
        if let Some(mut c) = self.conn().await? {
            redis::cmd("SREM")
                .arg(&key)
                .arg(member)
                .query_async::<()>(&mut c)
                .await?;
        } else if let Some(mut map) = self.memory_map() {
            if let Some((v, expires)) = map.get(&key).cloned() {
                let mut members = members_of(Some(&v));
                members.remove(member);
                map.insert(
                    key,
                    (serde_json::to_vec(&members).unwrap_or_default(), expires),
                );
            }
        }
        Ok(())
    }

    /// The members of the tenant's set `name` (empty when absent).
    pub async fn set_members(&self, tenant: TenantId, name: &str) -> Result<Vec<String>, KvError> {
        let key = self.key(tenant, name);
        if let Some(mut c) = self.conn().await? {
            let mut v: Vec<String> = redis::cmd("SMEMBERS").arg(&key).query_async(&mut c).await?;
            v.sort();
            Ok(v)
        } else {
            Ok(self
                .memory_map()
                .map(|m| {
                    members_of(m.get(&key).map(|(v, _)| v.as_slice()))
                        .into_iter()
                        .collect()
                })
                .unwrap_or_default())
        }
    }

    /// The time left before each of the tenant's `names` expires, in one
    /// round trip (pipelined PTTL); `None` for a name that is absent (or
    /// that has no expiry, which never holds for what `Kv` writes).
    pub async fn ttls(
        &self,
        tenant: TenantId,
        names: &[&str],
    ) -> Result<Vec<Option<Duration>>, KvError> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = names.iter().map(|n| self.key(tenant, n)).collect();
        if let Some(mut c) = self.conn().await? {
            let mut pipe = redis::pipe();
            for k in &keys {
                pipe.cmd("PTTL").arg(k);
            }
            let ms: Vec<i64> = pipe.query_async(&mut c).await?;
            Ok(ms
                .into_iter()
                .map(|ms| u64::try_from(ms).ok().map(Duration::from_millis))
                .collect())
        } else if let Some(map) = self.memory_map() {
            let now = Instant::now();
            Ok(keys
                .iter()
                .map(|k| {
                    map.get(k)
                        .map(|(_, exp)| exp.saturating_duration_since(now))
                })
                .collect())
        } else {
            Ok(vec![None; names.len()])
        }
    }

    /// Deletes every key of `tenant` (its sessions, codes, counters,
    /// denylists: everything under `{prefix}:t:{tenant}:`), for a tenant
    /// that is being deleted. SCAN in batches and UNLINK, so Redis never
    /// blocks on a large tenant; returns how many keys were removed. Keys
    /// written while it runs (a request in flight at a tenant being
    /// deleted) may survive it; each has a TTL.
    pub async fn purge_tenant(&self, tenant: TenantId) -> Result<u64, KvError> {
        let pattern = format!("{}:t:{tenant}:*", self.prefix);
        let stem = &pattern[..pattern.len() - 1];
        if let Some(mut c) = self.conn().await? {
            let mut cursor: u64 = 0;
            let mut removed = 0u64;
            loop {
                let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(1000)
                    .query_async(&mut c)
                    .await?;
                // MATCH is a glob: keep only keys that really start with the
                // tenant's stem (the prefix could hold glob characters).
                let keys: Vec<&String> = keys.iter().filter(|k| k.starts_with(stem)).collect();
                if !keys.is_empty() {
                    let n: u64 = redis::cmd("UNLINK").arg(&keys).query_async(&mut c).await?;
                    removed += n;
                }
                if next == 0 {
                    return Ok(removed);
                }
                cursor = next;
            }
        } else if let Some(mut map) = self.memory_map() {
            let before = map.len();
            map.retain(|k, _| !k.starts_with(stem));
            Ok((before - map.len()) as u64)
        } else {
            Ok(0)
        }
    }

    /// Adds `member` with `score` to the tenant's sorted set `name` (or
    /// moves it to that score), removes the members scored below `floor`,
    /// and keeps the set at least until `ttl` from now: an index of
    /// short-lived records ordered by expiry, such as a tenant's sessions,
    /// which so never holds more than its live entries and those ended
    /// since. The set's expiry only ever moves later (PEXPIRE NX, then GT:
    /// Redis 7). One round trip.
    pub async fn sorted_add(
        &self,
        tenant: TenantId,
        name: &str,
        member: &str,
        score: i64,
        floor: i64,
        ttl: Duration,
    ) -> Result<(), KvError> {
        let key = self.key(tenant, name);
        if let Some(mut c) = self.conn().await? {
            redis::pipe()
                .atomic()
                .cmd("ZREMRANGEBYSCORE")
                .arg(&key)
                .arg("-inf")
                .arg(format!("({floor}"))
                .ignore()
                .cmd("ZADD")
                .arg(&key)
                .arg(score)
                .arg(member)
                .ignore()
                .cmd("PEXPIRE")
                .arg(&key)
                .arg(ttl_ms(ttl))
                .arg("NX")
                .ignore()
                .cmd("PEXPIRE")
                .arg(&key)
                .arg(ttl_ms(ttl))
                .arg("GT")
                .ignore()
                .query_async::<()>(&mut c)
                .await?;
        } else if let Some(mut map) = self.memory_map() {
            let (raw, expires) = map
                .get(&key)
                .map(|(v, e)| (Some(v.as_slice()), *e))
                .unwrap_or((None, Instant::now()));
            let mut scores = scores_of(raw);
            scores.retain(|_, s| *s >= floor);
            scores.insert(member.to_owned(), score);
            let body = serde_json::to_vec(&scores).unwrap_or_default();
            map.insert(key, (body, expires.max(Instant::now() + ttl)));
        }
        Ok(())
    }

    /// Removes `members` from the tenant's sorted set `name`.
    pub async fn sorted_remove(
        &self,
        tenant: TenantId,
        name: &str,
        members: &[String],
    ) -> Result<(), KvError> {
        if members.is_empty() {
            return Ok(());
        }
        let key = self.key(tenant, name);
        if let Some(mut c) = self.conn().await? {
            redis::cmd("ZREM")
                .arg(&key)
                .arg(members)
                .query_async::<()>(&mut c)
                .await?;
        } else if let Some(mut map) = self.memory_map() {
            if let Some((v, expires)) = map.get(&key).cloned() {
                let mut scores = scores_of(Some(&v));
                for m in members {
                    scores.remove(m);
                }
                let body = serde_json::to_vec(&scores).unwrap_or_default();
                map.insert(key, (body, expires));
            }
        }
        Ok(())
    }

    /// One page of the tenant's sorted set `name`, highest score first
    /// (equal scores by member, descending): up to `limit` members with
    /// their scores, after `before` (a `(score, member)` of the previous
    /// page) when given. Members scored below `floor` are removed first
    /// (expired entries of an index ordered by expiry).
    pub async fn sorted_page(
        &self,
        tenant: TenantId,
        name: &str,
        floor: i64,
        before: Option<(i64, &str)>,
        limit: usize,
    ) -> Result<Vec<(String, i64)>, KvError> {
        let key = self.key(tenant, name);
        // After `before` in this order: a lower score, or the same score
        // and a lower member.
        let keep = |m: &str, s: i64| match before {
            None => true,
            Some((bs, bm)) => s < bs || (s == bs && m < bm),
        };
        let mut out = Vec::new();
        if limit == 0 {
            return Ok(out);
        }
        if let Some(mut c) = self.conn().await? {
            redis::cmd("ZREMRANGEBYSCORE")
                .arg(&key)
                .arg("-inf")
                .arg(format!("({floor}"))
                .query_async::<()>(&mut c)
                .await?;
            let max = before.map_or_else(|| "+inf".to_owned(), |(s, _)| s.to_string());
            let batch = limit + 16;
            let mut offset = 0;
            loop {
                let got: Vec<(String, f64)> = redis::cmd("ZREVRANGEBYSCORE")
                    .arg(&key)
                    .arg(&max)
                    .arg("-inf")
                    .arg("WITHSCORES")
                    .arg("LIMIT")
                    .arg(offset)
                    .arg(batch)
                    .query_async(&mut c)
                    .await?;
                let n = got.len();
                // Scores are whole milliseconds, exact in an f64 until 2^53.
                #[allow(clippy::cast_possible_truncation)]
                for (m, s) in got.into_iter().map(|(m, s)| (m, s as i64)) {
                    if keep(&m, s) {
                        out.push((m, s));
                        if out.len() == limit {
                            return Ok(out);
                        }
                    }
                }
                if n < batch {
                    return Ok(out);
                }
                offset += n;
            }
        } else if let Some(mut map) = self.memory_map() {
            if let Some((v, expires)) = map.get(&key).cloned() {
                let mut scores = scores_of(Some(&v));
                scores.retain(|_, s| *s >= floor);
                let body = serde_json::to_vec(&scores).unwrap_or_default();
                map.insert(key, (body, expires));
                let mut all: Vec<(String, i64)> = scores.into_iter().collect();
                all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| b.0.cmp(&a.0)));
                out.extend(all.into_iter().filter(|(m, s)| keep(m, *s)).take(limit));
            }
        }
        Ok(out)
    }

    /// The values of the tenant's `names`, in one round trip (MGET).
    pub async fn get_many(
        &self,
        tenant: TenantId,
        names: &[String],
    ) -> Result<Vec<Option<Vec<u8>>>, KvError> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = names.iter().map(|n| self.key(tenant, n)).collect();
        if let Some(mut c) = self.conn().await? {
            Ok(redis::cmd("MGET").arg(&keys).query_async(&mut c).await?)
        } else {
            let map = self.memory_map();
            Ok(keys
                .iter()
                .map(|k| map.as_ref().and_then(|m| m.get(k).map(|(v, _)| v.clone())))
                .collect())
        }
    }

    /// PING (readiness); Ok for the in-process map.
    pub async fn ping(&self) -> Result<(), KvError> {
        if let Some(mut c) = self.conn().await? {
            redis::cmd("PING").query_async::<String>(&mut c).await?;
        }
        Ok(())
    }
}

/// The members of a set as the memory backend stores it (a JSON array).
fn members_of(raw: Option<&[u8]>) -> std::collections::BTreeSet<String> {
    raw.and_then(|r| serde_json::from_slice(r).ok())
        .unwrap_or_default()
}

/// The members and scores of a sorted set as the memory backend stores it
/// (a JSON object).
fn scores_of(raw: Option<&[u8]>) -> std::collections::BTreeMap<String, i64> {
    raw.and_then(|r| serde_json::from_slice(r).ok())
        .unwrap_or_default()
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

    #[tokio::test]
    async fn memory_counters_keep_their_first_expiry_and_report_ttls() {
        let kv = Kv::memory("gh");
        let (a, b) = (TenantId::new_random(), TenantId::new_random());
        let short = Duration::from_millis(200);
        assert_eq!(kv.incr_with_ttl(a, "n", short).await.unwrap(), 1);
        assert_eq!(
            kv.incr_with_ttl(a, "n", Duration::from_secs(60))
                .await
                .unwrap(),
            2
        );
        assert_eq!(
            kv.incr_with_ttl(b, "n", short).await.unwrap(),
            1,
            "per tenant"
        );
        assert_eq!(kv.get(a, "n").await.unwrap(), Some(b"2".to_vec()));
        let ttls = kv.ttls(a, &["n", "absent"]).await.unwrap();
        assert!(ttls[0].is_some_and(|t| t <= short), "{ttls:?}");
        assert_eq!(ttls[1], None);
        assert!(kv.ttls(a, &[]).await.unwrap().is_empty());
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(kv.ttls(a, &["n"]).await.unwrap(), vec![None], "expired");
        assert_eq!(
            kv.incr_with_ttl(a, "n", short).await.unwrap(),
            1,
            "fresh window"
        );
    }

    #[tokio::test]
    async fn memory_sorted_sets_page_by_score_and_member_and_drop_the_expired() {
        let kv = Kv::memory("gh");
        let (a, b) = (TenantId::new_random(), TenantId::new_random());
        let ttl = Duration::from_secs(60);
        for (m, s) in [("m1", 10), ("m2", 20), ("m3", 20), ("m4", 30), ("old", 5)] {
            kv.sorted_add(a, "idx", m, s, 0, ttl).await.unwrap();
        }
        kv.sorted_add(b, "idx", "other", 40, 0, ttl).await.unwrap();
        let first = kv.sorted_page(a, "idx", 8, None, 2).await.unwrap();
        assert_eq!(first, vec![("m4".to_owned(), 30), ("m3".to_owned(), 20)]);
        let second = kv
            .sorted_page(a, "idx", 8, Some((20, "m3")), 2)
            .await
            .unwrap();
        assert_eq!(second, vec![("m2".to_owned(), 20), ("m1".to_owned(), 10)]);
        assert!(kv
            .sorted_page(a, "idx", 8, Some((10, "m1")), 2)
            .await
            .unwrap()
            .is_empty());
        // "old" (score 5, below the floor 8) was removed by the first page.
        let all = kv.sorted_page(a, "idx", 0, None, 10).await.unwrap();
        assert_eq!(all.len(), 4, "{all:?}");
        kv.sorted_remove(a, "idx", &["m4".to_owned()])
            .await
            .unwrap();
        assert_eq!(
            kv.sorted_page(a, "idx", 0, None, 1).await.unwrap()[0].0,
            "m3"
        );
        // An addition drops what scores below its floor.
        kv.sorted_add(a, "idx", "m5", 40, 15, ttl).await.unwrap();
        let kept: Vec<String> = kv
            .sorted_page(a, "idx", 0, None, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|(m, _)| m)
            .collect();
        assert_eq!(kept, ["m5", "m3", "m2"], "m1 (10) was below 15");
        let theirs = kv.sorted_page(b, "idx", 0, None, 10).await.unwrap();
        assert_eq!(theirs, vec![("other".to_owned(), 40)], "per tenant");
        kv.set(a, "x", b"1", ttl).await.unwrap();
        let got = kv
            .get_many(a, &["x".to_owned(), "absent".to_owned()])
            .await
            .unwrap();
        assert_eq!(got, vec![Some(b"1".to_vec()), None]);
        assert_eq!(kv.get_many(b, &["x".to_owned()]).await.unwrap(), vec![None]);
    }
}
