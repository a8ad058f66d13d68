//! Database access. Every tenant-owned table is protected by row-level
//! security keyed on the transaction-local setting `app.tenant_id`; the way
//! this crate offers to reach those tables is [`Db::tenant_tx`], which
//! opens a transaction and sets that setting with
//! `set_config('app.tenant_id', $1, true)`. Because the setting is local to
//! the transaction it disappears at commit or rollback, so a pooled
//! connection never carries one tenant's context into the next request.
//! The token grants' hot paths instead call SQL functions that make the same
//! `set_config` their first statement, in the call's own transaction
//! ([`Db::tenant_call`], on connections of their own).
//!
//! The platform registry tables (`tenants`, `tenant_domains`) are not
//! tenant-scoped: resolution must find a tenant by slug or host before any
//! tenant context exists. They are reached through [`Db::registry`].

use std::ops::{Deref, DerefMut};
use std::str::FromStr as _;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection as _, PgConnection, PgPool, Postgres, Transaction};

use crate::ids::{TenantId, DEFAULT_SLUG, PLATFORMS_SLUG};

/// Migrations, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

/// Tables the server's role may insert into and read, but not change.
const APPEND_ONLY: [&str; 2] = ["audit_events", "tenant_settings_versions"];

/// Advisory lock key serialising concurrent `migrate` runs (role creation
/// and grants are not idempotent under concurrency).
const MIGRATE_LOCK: i64 = 0x6761_7465_0001;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database role: {0}")]
    UnsafeRole(String),
    #[error("database URL: {0}")]
    Url(String),
}

impl DbError {
    /// True when the error is a unique-constraint violation.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, DbError::Sqlx(sqlx::Error::Database(e)) if e.is_unique_violation())
    }
}

/// The server's connection pool, connected as the server's own role.
#[derive(Clone)]
pub struct Db {
    pool: PgPool,
    /// Connections for [`Db::tenant_call`], outside sqlx's pool.
    calls: CallPool,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("pool", &self.pool)
            .field("calls", &self.calls.status())
            .finish()
    }
}

/// How many connections [`Db::tenant_call`] keeps by default, besides the
/// pool's.
pub const DEFAULT_CALL_CONNECTIONS: usize = 4;

type CallPool = deadpool::managed::Pool<CallManager>;

/// Opens and recycles the connections of [`Db::tenant_call`] (a deadpool
/// managed pool). Why not sqlx's pool: sqlx 0.8 pings every connection
/// when it goes back to its pool (`Floating::return_to_pool`: a Sync and a
/// wait for ReadyForQuery), with no option to turn it off, so every use
/// costs two round trips where one does the work. Here a connection is
/// pinged only when it has been idle for more than a second (as
/// `before_acquire` does for the sqlx pool), and one whose call did not
/// finish (an error, a request cancelled mid-call, so the connection may
/// still owe a reply) is dropped instead of lent again ([`Call`]).
pub struct CallManager {
    options: PgConnectOptions,
}

/// A connection of [`Db::tenant_call`] and whether its last call finished.
pub struct CallConn {
    conn: PgConnection,
    finished: bool,
}

impl deadpool::managed::Manager for CallManager {
    type Type = CallConn;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<CallConn, sqlx::Error> {
        Ok(CallConn {
            conn: PgConnection::connect_with(&self.options).await?,
            finished: true,
        })
    }

    async fn recycle(
        &self,
        c: &mut CallConn,
        metrics: &deadpool::managed::Metrics,
    ) -> deadpool::managed::RecycleResult<sqlx::Error> {
        if !c.finished {
            return Err(deadpool::managed::RecycleError::Message(
                "the last call on this connection did not finish".into(),
            ));
        }
        if metrics.last_used() > Duration::from_secs(1) {
            c.conn.ping().await?;
        }
        Ok(())
    }
}

fn call_pool(options: PgConnectOptions, size: usize) -> Result<CallPool, DbError> {
    deadpool::managed::Pool::builder(CallManager { options })
        .max_size(size.max(1))
        .runtime(deadpool::Runtime::Tokio1)
        .wait_timeout(Some(Duration::from_secs(5)))
        .create_timeout(Some(Duration::from_secs(5)))
        .recycle_timeout(Some(Duration::from_secs(5)))
        .build()
        .map_err(|e| DbError::Url(format!("the grant connections: {e}")))
}

/// A connection lent by [`Db::tenant_call`]. Say [`Call::finish`] once the
/// call has completed; dropped without it (the call failed, or the request
/// was cancelled mid-call), the connection is dropped at its next checkout
/// rather than lent again.
pub struct Call {
    conn: deadpool::managed::Object<CallManager>,
}

impl Call {
    /// The connection, to run the call on.
    pub fn conn(&mut self) -> &mut PgConnection {
        &mut self.conn.conn
    }

    /// The call completed: the connection goes back for the next one.
    pub fn finish(mut self) {
        self.conn.finished = true;
    }
}

impl Db {
    /// Connects lazily: the pool opens connections on first use, so a node
    /// starts even while Postgres is briefly unavailable (readiness says so).
    pub fn connect_lazy(url: &str, max_connections: u32) -> Result<Self, DbError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| DbError::Url(e.to_string()))?
            .application_name("gatehouse");
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(5))
            // sqlx pings every connection when it is returned to the pool,
            // and by default again when it is checked out: one round trip
            // per transaction that, on a connection released moments ago,
            // tells nothing new. Ping only connections idle for more than
            // a second (a database restart while the pool sat idle); a
            // connection that breaks while busy fails its request with 503
            // and is closed.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for > Duration::from_secs(1) {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect_lazy_with(options.clone());
        Ok(Self {
            pool,
            calls: call_pool(options, DEFAULT_CALL_CONNECTIONS)?,
        })
    }

    /// The same, with `n` connections for [`Db::tenant_call`] (at least
    /// one) in place of [`DEFAULT_CALL_CONNECTIONS`]; opened on first use.
    pub fn with_call_connections(self, n: usize) -> Result<Self, DbError> {
        let options = (*self.pool.connect_options()).clone();
        Ok(Self {
            calls: call_pool(options, n)?,
            pool: self.pool,
        })
    }

    pub fn from_pool(pool: PgPool) -> Result<Self, DbError> {
        let options = (*pool.connect_options()).clone();
        Ok(Self {
            calls: call_pool(options, DEFAULT_CALL_CONNECTIONS)?,
            pool,
        })
    }

    /// The registry tables (`tenants`, `tenant_domains`), which carry no
    /// tenant context. Tenant-owned tables queried through this pool return
    /// no rows and refuse inserts: row-level security sees no tenant.
    pub fn registry(&self) -> &PgPool {
        &self.pool
    }

    /// Opens a transaction inside `tenant`'s row-level-security context.
    /// The way server code reaches tenant-owned tables (the other is
    /// [`Db::tenant_call`], for two SQL functions that do the same).
    ///
    /// `BEGIN` and `set_config` go to the server as one simple-query
    /// message: one round trip. The tenant id is written as a hyphenated UUID
    /// (hex digits and hyphens only), so writing
    /// it into the statement cannot inject SQL.
    pub async fn tenant_tx(&self, tenant: TenantId) -> Result<TenantTx, DbError> {
        let tx = self
            .pool
            .begin_with(format!(
                "begin; select set_config('app.tenant_id', '{}', true)",
                tenant.as_uuid().hyphenated()
            ))
            .await?;
        Ok(TenantTx { tx, tenant })
    }

    /// A connection for calls of the SQL functions that set `app.tenant_id`
    /// themselves, as their first act and for the length of the call
    /// (`refresh_rotate` and `grant_for_user`, migration
    /// `20261203000013_grant_functions`): one round trip where a
    /// transaction takes three, and no transaction held open while the
    /// caller signs tokens. Row-level security applies to them as to
    /// everything else (they run as the server's role). Anything else goes
    /// through [`Db::tenant_tx`]. The connections are kept apart from the
    /// pool's, so that none costs a second round trip ([`CallManager`]).
    pub async fn tenant_call(&self) -> Result<Call, DbError> {
        use deadpool::managed::PoolError;
        let mut conn = self.calls.get().await.map_err(|e| match e {
            PoolError::Backend(e) => DbError::Sqlx(e),
            PoolError::Timeout(_) => DbError::Sqlx(sqlx::Error::PoolTimedOut),
            PoolError::Closed => DbError::Sqlx(sqlx::Error::PoolClosed),
            other => DbError::Sqlx(sqlx::Error::Protocol(other.to_string())),
        })?;
        conn.finished = false;
        Ok(Call { conn })
    }

    /// `select 1`, for readiness.
    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("select 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Refuses a role that could see past row-level security: a superuser,
    /// a role with BYPASSRLS, the owner of a table, or a member of an
    /// owner's role (which could `set role` to it).
    pub async fn check_role_is_confined(&self) -> Result<(), DbError> {
        let row: (String, bool, bool, i64, i64) = sqlx::query_as(
            "select r.rolname::text, r.rolsuper, r.rolbypassrls,
                    (select count(*) from pg_tables t
                      where t.schemaname = 'public' and t.tableowner = r.rolname),
                    (select count(*) from pg_tables t
                      where t.schemaname = 'public' and t.tableowner <> r.rolname
                        and pg_has_role(r.oid, t.tableowner, 'MEMBER'))
               from pg_roles r where r.rolname = current_user",
        )
        .fetch_one(&self.pool)
        .await?;
        let (name, superuser, bypass, owns, member) = row;
        let problem = if superuser {
            Some("is a superuser")
        } else if bypass {
            Some("has BYPASSRLS")
        } else if owns > 0 {
            Some("owns tables")
        } else if member > 0 {
            Some("is a member of a table owner's role")
        } else {
            None
        };
        match problem {
            Some(p) => Err(DbError::UnsafeRole(format!(
                "the server's database role {name:?} {p}, so row-level security would not \
                 isolate tenants; point GATEHOUSE_DATABASE_URL at the confined role that \
                 `gatehouse migrate` creates"
            ))),
            None => Ok(()),
        }
    }
}

/// A transaction inside one tenant's context. Dereferences to the
/// connection, so queries take `&mut *tx`. Dropped without [`commit`]
/// it rolls back.
///
/// [`commit`]: TenantTx::commit
pub struct TenantTx {
    tx: Transaction<'static, Postgres>,
    tenant: TenantId,
}

impl TenantTx {
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    /// Bumps the tenant's version (`tenants.updated_at`), in this
    /// transaction: a node that misses the change's event still rebuilds
    /// its provider, with everything cached in it, once its registry entry
    /// expires and reloads the newer version.
    pub async fn bump_tenant_version(&mut self) -> Result<(), DbError> {
        sqlx::query("update tenants set updated_at = now() where id = $1")
            .bind(self.tenant.as_uuid())
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
    pub async fn commit(self) -> Result<(), DbError> {
        self.tx.commit().await?;
        Ok(())
    }
}

impl Deref for TenantTx {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        &self.tx
    }
}

impl DerefMut for TenantTx {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.tx
    }
}

/// What `migrate` did.
#[derive(Debug, Default, serde::Serialize)]
pub struct MigrateReport {
    pub applied: Vec<i64>,
    pub server_role: String,
    pub server_role_created: bool,
    pub platforms_tenant_created: bool,
}

/// Runs as the schema owner (`admin_url`): applies pending migrations,
/// creates the server's role named in `app_url` if it is missing, grants it
/// exactly DML on the application tables, and creates the reserved
/// tenants. Safe to run concurrently and repeatedly.
pub async fn migrate(admin_url: &str, app_url: &str) -> Result<MigrateReport, DbError> {
    let (role, password) = role_of(app_url)?;
    let mut conn = PgConnection::connect(admin_url).await?;
    sqlx::query("select pg_advisory_lock($1)")
        .bind(MIGRATE_LOCK)
        .execute(&mut conn)
        .await?;
    let result = migrate_locked(&mut conn, &role, password.as_deref()).await;
    // Unlock explicitly; closing the connection would release it too.
    let _ = sqlx::query("select pg_advisory_unlock($1)")
        .bind(MIGRATE_LOCK)
        .execute(&mut conn)
        .await;
    result
}

async fn migrate_locked(
    conn: &mut PgConnection,
    role: &str,
    password: Option<&str>,
) -> Result<MigrateReport, DbError> {
    let owner: String = sqlx::query_scalar("select current_user::text")
        .fetch_one(&mut *conn)
        .await?;
    if owner == role {
        return Err(DbError::UnsafeRole(
            "GATEHOUSE_DATABASE_URL and GATEHOUSE_DATABASE_ADMIN_URL name the same role; \
             the server needs its own role that owns nothing"
                .into(),
        ));
    }
    let before: Vec<i64> = applied_versions(conn).await.unwrap_or_default();
    MIGRATOR.run(&mut *conn).await?;
    let after = applied_versions(conn).await?;
    let mut report = MigrateReport {
        applied: after.into_iter().filter(|v| !before.contains(v)).collect(),
        server_role: role.to_owned(),
        ..MigrateReport::default()
    };

    let exists: bool =
        sqlx::query_scalar("select exists(select 1 from pg_roles where rolname = $1)")
            .bind(role)
            .fetch_one(&mut *conn)
            .await?;
    if !exists {
        // Identifiers cannot be bound parameters; format(%I) quotes them on
        // the server side, so no SQL is assembled from raw strings here.
        exec_formatted(
            conn,
            "select format('create role %I login nosuperuser nobypassrls nocreatedb nocreaterole noinherit', $1::text)",
            &[role],
        )
        .await?;
        report.server_role_created = true;
    }
    if let Some(pw) = password {
        exec_formatted(
            conn,
            "select format('alter role %I login password %L', $1::text, $2::text)",
            &[role, pw],
        )
        .await?;
    }
    exec_formatted(
        conn,
        "select format('grant connect on database %I to %I', current_database(), $1::text)",
        &[role],
    )
    .await?;
    exec_formatted(
        conn,
        "select format('grant usage on schema public to %I', $1::text)",
        &[role],
    )
    .await?;
    let tables: Vec<String> = sqlx::query_scalar(
        "select tablename::text from pg_tables where schemaname = 'public' and tablename <> '_sqlx_migrations' order by 1",
    )
    .fetch_all(&mut *conn)
    .await?;
    // Append-only tables: the server inserts and reads, never rewrites;
    // their privileges are only ever narrowed here, so a concurrent
    // `migrate` never opens a moment in which the server could update them.
    // (Deleting a tenant still removes their rows: foreign-key cascades run
    // with the table owner's rights.)
    for t in &tables {
        if APPEND_ONLY.contains(&t.as_str()) {
            exec_formatted(
                conn,
                "select format('revoke update, delete, truncate on table public.%I from %I', $1::text, $2::text)",
                &[t, role],
            )
            .await?;
            exec_formatted(
                conn,
                "select format('grant select, insert on table public.%I to %I', $1::text, $2::text)",
                &[t, role],
            )
            .await?;
            continue;
        }
        exec_formatted(
            conn,
            "select format('grant select, insert, update, delete on table public.%I to %I', $1::text, $2::text)",
            &[t, role],
        )
        .await?;
    }
    exec_formatted(
        conn,
        "select format('revoke all on table public._sqlx_migrations from %I', $1::text)",
        &[role],
    )
    .await?;

    report.platforms_tenant_created =
        ensure_builtin_tenant(conn, PLATFORMS_SLUG, "Platform").await?;
    ensure_builtin_tenant(conn, DEFAULT_SLUG, "Default").await?;
    Ok(report)
}

async fn applied_versions(conn: &mut PgConnection) -> Result<Vec<i64>, DbError> {
    Ok(
        sqlx::query_scalar("select version from _sqlx_migrations where success order by version")
            .fetch_all(conn)
            .await?,
    )
}

async fn exec_formatted(
    conn: &mut PgConnection,
    format_sql: &str,
    args: &[&str],
) -> Result<(), DbError> {
    let mut q = sqlx::query_scalar::<_, String>(format_sql);
    for a in args {
        q = q.bind(*a);
    }
    let statement = q.fetch_one(&mut *conn).await?;
    sqlx::raw_sql(&statement).execute(&mut *conn).await?;
    Ok(())
}

async fn ensure_builtin_tenant(
    conn: &mut PgConnection,
    slug: &str,
    name: &str,
) -> Result<bool, DbError> {
    let inserted = sqlx::query(
        "insert into tenants (id, slug, display_name, status, builtin)
         values ($1, $2, $3, 'active', true) on conflict (slug) do nothing",
    )
    .bind(TenantId::new_random().as_uuid())
    .bind(slug)
    .bind(name)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// The user name and password in a postgres:// URL.
fn role_of(url: &str) -> Result<(String, Option<String>), DbError> {
    let parsed =
        url::Url::parse(url).map_err(|e| DbError::Url(format!("GATEHOUSE_DATABASE_URL: {e}")))?;
    let user = percent_decode(parsed.username());
    if user.is_empty() {
        return Err(DbError::Url(
            "GATEHOUSE_DATABASE_URL must name the server's role (postgres://ROLE@host/db)".into(),
        ));
    }
    let password = parsed.password().map(percent_decode);
    Ok((user, password))
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_is_read_from_the_url() {
        assert_eq!(
            role_of("postgres://app@h/db").unwrap(),
            ("app".into(), None)
        );
        assert_eq!(
            role_of("postgres://app:p%40ss@h/db").unwrap(),
            ("app".into(), Some("p@ss".into()))
        );
        assert!(role_of("postgres://h/db").is_err());
    }
}
