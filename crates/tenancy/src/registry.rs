//! Cached tenant lookups by slug and by custom-domain host. Hits and misses
//! are both cached (a miss as `None`), so a flood of requests for unknown
//! tenants costs one query per name, and every entry is dropped when the
//! event bus announces a change to its tenant (or after the configured TTL
//! when an announcement was lost).

use std::sync::Arc;
use std::time::Duration;

use gatehouse_core::ids::{Slug, TenantId};
use gatehouse_core::{Db, DbError};
use moka::future::Cache;

use crate::tenants::{from_row, Row, TenantError, TenantRecord};

type Entry = Option<Arc<TenantRecord>>;

#[derive(Clone)]
pub struct Registry {
    db: Db,
    by_slug: Cache<String, Entry>,
    by_host: Cache<String, Entry>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("slugs", &self.by_slug.entry_count())
            .field("hosts", &self.by_host.entry_count())
            .finish()
    }
}

fn to_db_error(e: TenantError) -> DbError {
    match e {
        TenantError::Db(e) => e,
        other => DbError::Url(other.to_string()),
    }
}

impl Registry {
    pub fn new(db: Db, ttl: Duration, max_entries: u64) -> Self {
        let build = || {
            Cache::builder()
                .max_capacity(max_entries)
                .time_to_live(ttl)
                .support_invalidation_closures()
                .build()
        };
        Self {
            db,
            by_slug: build(),
            by_host: build(),
        }
    }

    /// The tenant named `slug`, or None. One query per slug per TTL at most,
    /// however many requests ask at once.
    pub async fn by_slug(&self, slug: &Slug) -> Result<Entry, Arc<DbError>> {
        let db = self.db.clone();
        let key = slug.as_str().to_owned();
        self.by_slug
            .try_get_with(key.clone(), async move {
                let row = sqlx::query_as!(
                    Row,
                    "select id, slug, display_name, status, builtin, created_at, updated_at
                     from tenants where slug = $1",
                    key,
                )
                .fetch_optional(db.registry())
                .await
                .map_err(DbError::from)?;
                row.map(|r| from_row(r).map(Arc::new))
                    .transpose()
                    .map_err(to_db_error)
            })
            .await
    }

    /// The tenant owning the verified custom domain `host` (normalised), or None.
    pub async fn by_host(&self, host: &str) -> Result<Entry, Arc<DbError>> {
        let db = self.db.clone();
        let key = host.to_owned();
        self.by_host
            .try_get_with(key.clone(), async move {
                let row = sqlx::query_as!(
                    Row,
                    "select t.id, t.slug, t.display_name, t.status, t.builtin, t.created_at, t.updated_at
                     from tenant_domains d join tenants t on t.id = d.tenant_id
                     where d.host = $1 and d.verified",
                    key,
                )
                .fetch_optional(db.registry())
                .await
                .map_err(DbError::from)?;
                row.map(|r| from_row(r).map(Arc::new)).transpose().map_err(to_db_error)
            })
            .await
    }

    /// Forgets everything cached about one tenant, and any cached miss
    /// (a new tenant or domain may be what the miss was about).
    pub async fn invalidate(&self, tenant: TenantId, slug: &str) {
        self.by_slug.invalidate(slug).await;
        let matches = move |_: &String, v: &Entry| v.as_ref().is_none_or(|t| t.id == tenant);
        // Only fails when closures are not enabled, which `new` does.
        let _ = self.by_slug.invalidate_entries_if(matches);
        let _ = self.by_host.invalidate_entries_if(matches);
    }

    pub fn invalidate_all(&self) {
        self.by_slug.invalidate_all();
        self.by_host.invalidate_all();
    }

    pub fn db(&self) -> &Db {
        &self.db
    }
}
