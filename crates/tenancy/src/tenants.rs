//! The tenant registry: create, list, change status, delete. Every change is
//! committed first and then announced on the event bus, so every node drops
//! what it cached about the tenant.

use gatehouse_core::audit::{self, action, Actor, Entry};
use gatehouse_core::events::{Change, Event, EventBus};
use gatehouse_core::ids::{Slug, SlugError, TenantId};
use gatehouse_core::{Db, DbError};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TenantStatus {
    Active,
    Suspended,
    Inactive,
}

impl TenantStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Inactive => "inactive",
        }
    }
    fn from_db(s: &str) -> Self {
        match s {
            "active" => Self::Active,
            "suspended" => Self::Suspended,
            // The check constraint allows nothing else; an unknown value
            // must never grant access, so it reads as inactive.
            _ => Self::Inactive,
        }
    }
}

/// One row of `tenants`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TenantRecord {
    pub id: TenantId,
    pub slug: Slug,
    pub display_name: String,
    pub status: TenantStatus,
    pub builtin: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    #[error("{0}")]
    Slug(#[from] SlugError),
    #[error("the display name must be 1 to 200 characters")]
    DisplayName,
    #[error("a tenant with this slug already exists")]
    Duplicate,
    #[error("no such tenant")]
    NotFound,
    #[error(
        "tenant {0} is reserved: it cannot be created, renamed, deleted or have its status changed"
    )]
    Reserved(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for TenantError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(DbError::from(e))
    }
}

/// A `tenants` row as the database returns it.
pub(crate) struct Row {
    pub id: uuid::Uuid,
    pub slug: String,
    pub display_name: String,
    pub status: String,
    pub builtin: bool,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// A record from the columns of a `tenants` row selected elsewhere.
#[allow(clippy::too_many_arguments)]
pub fn record_from_parts(
    id: uuid::Uuid,
    slug: &str,
    display_name: String,
    status: &str,
    builtin: bool,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
) -> Result<TenantRecord, TenantError> {
    from_row(Row {
        id,
        slug: slug.to_owned(),
        display_name,
        status: status.to_owned(),
        builtin,
        created_at,
        updated_at,
    })
}

pub(crate) fn from_row(row: Row) -> Result<TenantRecord, TenantError> {
    Ok(TenantRecord {
        id: TenantId::from_uuid(row.id),
        slug: Slug::parse(&row.slug)?,
        display_name: row.display_name,
        status: TenantStatus::from_db(&row.status),
        builtin: row.builtin,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// Registry operations, bound to a database and an event bus.
#[derive(Clone, Debug)]
pub struct Tenants {
    db: Db,
    bus: EventBus,
}

impl Tenants {
    pub fn new(db: Db, bus: EventBus) -> Self {
        Self { db, bus }
    }

    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    pub async fn create(
        &self,
        slug: &str,
        display_name: &str,
    ) -> Result<TenantRecord, TenantError> {
        self.create_by(slug, display_name, Actor::system()).await
    }

    /// Creates a tenant; the first entry of its audit log says who did.
    pub async fn create_by(
        &self,
        slug: &str,
        display_name: &str,
        actor: Actor,
    ) -> Result<TenantRecord, TenantError> {
        let slug = Slug::parse_new(slug)?;
        let display_name = display_name.trim();
        if display_name.is_empty() || display_name.chars().count() > 200 {
            return Err(TenantError::DisplayName);
        }
        let id = TenantId::new_random();
        let mut tx = self.db.tenant_tx(id).await?;
        let row = sqlx::query_as!(
            Row,
            "insert into tenants (id, slug, display_name) values ($1, $2, $3)
             returning id, slug, display_name, status, builtin, created_at, updated_at",
            id.as_uuid(),
            slug.as_str(),
            display_name,
        )
        .fetch_one(&mut *tx)
        .await;
        let tenant = match row {
            Ok(row) => from_row(row)?,
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(TenantError::Duplicate)
            }
            Err(e) => return Err(e.into()),
        };
        audit::record(
            &mut tx,
            &Entry::new(actor, action::TENANT_CREATED)
                .target("tenant", tenant.slug.as_str())
                .details(serde_json::json!({ "display_name": tenant.display_name })),
        )
        .await?;
        tx.commit().await?;
        self.announce(&tenant, Change::Created).await;
        Ok(tenant)
    }

    /// Looks a tenant up by slug, uncached (the CLI and admin views).
    pub async fn get(&self, slug: &str) -> Result<TenantRecord, TenantError> {
        let slug = Slug::parse(slug).map_err(|_| TenantError::NotFound)?;
        let row = sqlx::query_as!(
            Row,
            "select id, slug, display_name, status, builtin, created_at, updated_at
             from tenants where slug = $1",
            slug.as_str(),
        )
        .fetch_optional(self.db.registry())
        .await?;
        row.map(from_row).transpose()?.ok_or(TenantError::NotFound)
    }

    /// Keyset pagination by slug: the page after `after`, at most `limit`.
    pub async fn list(
        &self,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<TenantRecord>, TenantError> {
        self.search(None, after, limit).await
    }

    /// Tenants by slug after `after`, those starting with `prefix` if
    /// given: keyset pages over the slug's unique index.
    pub async fn search(
        &self,
        prefix: Option<&str>,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<TenantRecord>, TenantError> {
        let rows = sqlx::query_as!(
            Row,
            "select id, slug, display_name, status, builtin, created_at, updated_at
             from tenants where slug > $1 and ($3::text is null or starts_with(slug, $3))
             order by slug limit $2",
            after.unwrap_or(""),
            limit.clamp(1, 1000),
            prefix,
        )
        .fetch_all(self.db.registry())
        .await?;
        rows.into_iter().map(from_row).collect()
    }

    pub async fn set_status(
        &self,
        slug: &str,
        status: TenantStatus,
    ) -> Result<TenantRecord, TenantError> {
        self.set_status_by(slug, status, Actor::system()).await
    }

    /// Changes a tenant's status, recorded in its audit log as done by `actor`.
    pub async fn set_status_by(
        &self,
        slug: &str,
        status: TenantStatus,
        actor: Actor,
    ) -> Result<TenantRecord, TenantError> {
        if Slug::parse(slug).is_ok_and(|s| s.is_reserved()) {
            return Err(TenantError::Reserved(slug.to_owned()));
        }
        let current = self.get(slug).await?;
        if current.builtin {
            return Err(TenantError::Reserved(current.slug.to_string()));
        }
        let mut tx = self.db.tenant_tx(current.id).await?;
        let row = sqlx::query_as!(
            Row,
            "update tenants set status = $2, updated_at = now() where id = $1
             returning id, slug, display_name, status, builtin, created_at, updated_at",
            current.id.as_uuid(),
            status.as_str(),
        )
        .fetch_optional(&mut *tx)
        .await?;
        let tenant = row
            .map(from_row)
            .transpose()?
            .ok_or(TenantError::NotFound)?;
        audit::record(
            &mut tx,
            &Entry::new(actor, action::TENANT_STATUS_CHANGED)
                .target("tenant", tenant.slug.as_str())
                .details(serde_json::json!({
                    "from": current.status.as_str(),
                    "to": tenant.status.as_str(),
                })),
        )
        .await?;
        tx.commit().await?;
        self.announce(&tenant, Change::Status).await;
        Ok(tenant)
    }

    /// Changes a tenant's display name (its slug never changes), recorded
    /// in its audit log as done by `actor`.
    pub async fn rename_by(
        &self,
        slug: &str,
        display_name: &str,
        actor: Actor,
    ) -> Result<TenantRecord, TenantError> {
        let display_name = display_name.trim();
        if display_name.is_empty() || display_name.chars().count() > 200 {
            return Err(TenantError::DisplayName);
        }
        let current = self.get(slug).await?;
        let mut tx = self.db.tenant_tx(current.id).await?;
        let row = sqlx::query_as!(
            Row,
            "update tenants set display_name = $2, updated_at = now() where id = $1
             returning id, slug, display_name, status, builtin, created_at, updated_at",
            current.id.as_uuid(),
            display_name,
        )
        .fetch_optional(&mut *tx)
        .await?;
        let tenant = row
            .map(from_row)
            .transpose()?
            .ok_or(TenantError::NotFound)?;
        audit::record(
            &mut tx,
            &Entry::new(actor, action::TENANT_UPDATED)
                .target("tenant", tenant.slug.as_str())
                .details(serde_json::json!({
                    "display_name": { "before": current.display_name, "after": tenant.display_name },
                })),
        )
        .await?;
        tx.commit().await?;
        self.announce(&tenant, Change::Settings).await;
        Ok(tenant)
    }

    /// Deletes the tenant and, by cascade, every row it owns. Irreversible.
    pub async fn delete(&self, slug: &str) -> Result<TenantRecord, TenantError> {
        if Slug::parse(slug).is_ok_and(|s| s.is_reserved()) {
            return Err(TenantError::Reserved(slug.to_owned()));
        }
        let current = self.get(slug).await?;
        if current.builtin {
            return Err(TenantError::Reserved(current.slug.to_string()));
        }
        let deleted = sqlx::query!(
            "delete from tenants where id = $1 and not builtin",
            current.id.as_uuid()
        )
        .execute(self.db.registry())
        .await?
        .rows_affected();
        if deleted == 0 {
            return Err(TenantError::NotFound);
        }
        self.announce(&current, Change::Deleted).await;
        Ok(current)
    }

    /// Publishes after commit. A failed publish loses nothing durable: the
    /// change is committed and bumped the tenant's `updated_at`, so other
    /// nodes pick it up when their registry entry expires (its TTL), and the
    /// pool rebuilds any provider built from an older version.
    pub async fn announce(&self, tenant: &TenantRecord, change: Change) {
        let event = Event::TenantChanged {
            tenant_id: tenant.id,
            slug: tenant.slug.to_string(),
            change,
        };
        if let Err(e) = self.bus.publish(&event).await {
            tracing::warn!(error = %e, tenant = %tenant.slug, "change committed but not announced; other nodes catch up when their cache entry expires");
        }
    }
}
