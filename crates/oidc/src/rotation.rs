//! Key rotation, by command and on schedule. A rotation is committed inside
//! the tenant's context, bumps the tenant's version (so a node that missed
//! the announcement still rebuilds its provider when its registry entry
//! expires), and is then announced on the event bus so every node evicts
//! the tenant and serves the new JWKS on its next request.
//!
//! The schedule lives in `key_rotation_schedule`, a registry table without
//! secrets: the scheduler has to find due tenants across all tenants, which
//! row-level security rightly forbids on the key table itself. Due rows are
//! claimed with `for update skip locked`, so with many nodes each tenant is
//! rotated by exactly one of them.

use gatehouse_core::audit::{self, action, Actor, Entry};
use std::time::Duration;

use gatehouse_core::events::{Change, Event, EventBus};
use gatehouse_core::secretbox::Keyring;
use gatehouse_core::{Db, TenantTx};
use gatehouse_tenancy::{ProviderFactory, TenantRecord};

use crate::keys::{self, KeyError};
use crate::provider::retire_period;

/// Sets (or moves) the tenant's next scheduled rotation.
pub async fn schedule(tx: &mut TenantTx, period: Duration) -> Result<(), KeyError> {
    let secs = i64::try_from(period.as_secs()).unwrap_or(i64::MAX);
    sqlx::query!(
        "insert into key_rotation_schedule (tenant_id, rotate_at) values ($1, now() + make_interval(secs => $2::bigint))
         on conflict (tenant_id) do update set rotate_at = excluded.rotate_at, updated_at = now()",
        tx.tenant().as_uuid(),
        secs,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn bump_version(tx: &mut TenantTx) -> Result<(), KeyError> {
    Ok(tx.bump_tenant_version().await?)
}

/// What a rotation needs from the process.
#[derive(Clone, Debug)]
pub struct Rotator {
    pub db: Db,
    pub keyring: Keyring,
    pub bus: EventBus,
    pub factory: ProviderFactory,
    /// Scheduled rotation period; None disables the schedule.
    pub period: Option<Duration>,
}

impl Rotator {
    /// Rotates one tenant's keys now, moves its next scheduled rotation,
    /// commits, and announces it. Audited as done by the server (the CLI).
    pub async fn rotate(&self, tenant: &TenantRecord) -> Result<(), KeyError> {
        self.rotate_by(tenant, Actor::system()).await
    }

    /// [`Rotator::rotate`], audited as done by `actor`.
    pub async fn rotate_by(&self, tenant: &TenantRecord, actor: Actor) -> Result<(), KeyError> {
        self.rotate_inner(tenant, true, actor).await
    }

    async fn rotate_inner(
        &self,
        tenant: &TenantRecord,
        reschedule: bool,
        actor: Actor,
    ) -> Result<(), KeyError> {
        let base = self
            .factory
            .build(std::sync::Arc::new(tenant.clone()))
            .await?;
        let mut tx = self.db.tenant_tx(tenant.id).await?;
        keys::rotate(&mut tx, &self.keyring, retire_period(&base)).await?;
        if let (true, Some(period)) = (reschedule, self.period) {
            schedule(&mut tx, period).await?;
        }
        bump_version(&mut tx).await?;
        audit::record(
            &mut tx,
            &Entry::new(actor, action::KEYS_ROTATED)
                .target("keys", tenant.slug.as_str())
                .details(serde_json::json!({ "scheduled": !reschedule })),
        )
        .await?;
        tx.commit().await?;
        let event = Event::TenantChanged {
            tenant_id: tenant.id,
            slug: tenant.slug.to_string(),
            change: Change::Keys,
        };
        if let Err(e) = self.bus.publish(&event).await {
            tracing::warn!(error = %e, tenant = %tenant.slug, "key rotation committed but not announced");
        }
        tracing::info!(tenant = %tenant.slug, "signing keys rotated");
        Ok(())
    }

    /// Rotates every tenant whose rotation is due (at most `batch`).
    /// Returns how many were rotated.
    pub async fn run_due(&self, batch: i64) -> Result<usize, KeyError> {
        let Some(period) = self.period else {
            return Ok(0);
        };
        let secs = i64::try_from(period.as_secs()).unwrap_or(i64::MAX);
        // The claimed schedule rows stay locked until this transaction ends,
        // so the rescheduling happens here, not in the tenant transaction
        // (which would wait on this one).
        let mut claim = self.db.registry().begin().await?;
        let due = sqlx::query!(
            "select t.id, t.slug, t.display_name, t.status, t.builtin, t.created_at, t.updated_at
             from key_rotation_schedule s join tenants t on t.id = s.tenant_id
             where s.rotate_at <= now() order by s.rotate_at limit $1
             for update of s skip locked",
            batch,
        )
        .fetch_all(&mut *claim)
        .await?;
        let mut rotated = 0;
        for row in due {
            let record = gatehouse_tenancy::tenants::record_from_parts(
                row.id,
                &row.slug,
                row.display_name,
                &row.status,
                row.builtin,
                row.created_at,
                row.updated_at,
            );
            let Ok(record) = record else { continue };
            match self.rotate_inner(&record, false, Actor::system()).await {
                Ok(()) => {
                    sqlx::query!(
                        "update key_rotation_schedule set rotate_at = now() + make_interval(secs => $2::bigint),
                                updated_at = now() where tenant_id = $1",
                        record.id.as_uuid(),
                        secs,
                    )
                    .execute(&mut *claim)
                    .await?;
                    rotated += 1;
                }
                Err(e) => {
                    tracing::error!(error = %e, tenant = %record.slug, "scheduled key rotation failed; retrying later")
                }
            }
        }
        claim.commit().await?;
        Ok(rotated)
    }

    /// Schedules every tenant that has no scheduled rotation, one period
    /// from now: tenants whose keys were made while the schedule was off
    /// (`key_rotation_days = 0`) join it when it is turned on. Returns how
    /// many were scheduled.
    pub async fn schedule_unscheduled(&self) -> Result<u64, KeyError> {
        let Some(period) = self.period else {
            return Ok(0);
        };
        let secs = i64::try_from(period.as_secs()).unwrap_or(i64::MAX);
        Ok(sqlx::query!(
            "insert into key_rotation_schedule (tenant_id, rotate_at)
             select t.id, now() + make_interval(secs => $1::bigint) from tenants t
             where not exists (select 1 from key_rotation_schedule s where s.tenant_id = t.id)
             on conflict (tenant_id) do nothing",
            secs,
        )
        .execute(self.db.registry())
        .await?
        .rows_affected())
    }

    /// Checks for due rotations every `every`, for the life of the process,
    /// after scheduling the tenants that have no scheduled rotation.
    pub fn spawn_scheduler(self, every: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            match self.schedule_unscheduled().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    tenants = n,
                    "scheduled key rotation for unscheduled tenants"
                ),
                Err(e) => tracing::warn!(error = %e, "scheduling unscheduled tenants failed"),
            }
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = self.run_due(100).await {
                    tracing::warn!(error = %e, "key rotation schedule check failed");
                }
            }
        })
    }
}
