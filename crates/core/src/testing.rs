//! Helpers for the integration tests of every crate (feature `testing`).
//! Tests connect as the server's own confined role, never as the owner or a
//! superuser, which would silently bypass row-level security.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

pub mod smtp;

use tokio::sync::OnceCell;

use crate::db::{migrate, Db};
use crate::ids::TenantId;

/// Where the test suite's services are; `scripts/test` sets these.
#[derive(Debug, Clone)]
pub struct TestEnv {
    /// The server's role on the test database.
    pub database_url: String,
    /// The owner of the test database (migrations only).
    pub admin_url: String,
    pub redis_url: String,
}

pub fn test_env() -> TestEnv {
    let var = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
    TestEnv {
        database_url: var(
            "GATEHOUSE_TEST_DATABASE_URL",
            "postgres://gatehouse_app@127.0.0.1:5432/gatehouse_test",
        ),
        admin_url: var(
            "GATEHOUSE_TEST_DATABASE_ADMIN_URL",
            "postgres://gatehouse_owner@127.0.0.1:5432/gatehouse_test",
        ),
        redis_url: var("GATEHOUSE_TEST_REDIS_URL", "redis://127.0.0.1:6379"),
    }
}

/// A fixed master key for tests (base64 of 32 bytes). Never a real key.
pub const TEST_MASTER_KEY: &str = "dS5fpHsUxLYbbspBdRGXvuHo5RE5RutZ5/0eGqGJZcs=";

static MIGRATED: OnceCell<()> = OnceCell::const_new();

/// Migrates the test database (once per process) and returns a pool
/// connected as the server's role.
pub async fn test_db() -> Db {
    let env = test_env();
    MIGRATED
        .get_or_init(|| async {
            migrate(&env.admin_url, &env.database_url)
                .await
                .expect("migrating the test database (run scripts/test, which prepares it)");
        })
        .await;
    let db = Db::connect_lazy(&env.database_url, 5).expect("test database URL");
    db.check_role_is_confined()
        .await
        .expect("tests must connect as the confined server role");
    db
}

/// A slug no other test run uses.
pub fn unique_slug(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}-{}", &id[..12])
}

/// A Redis key prefix (and so event channel) no other test run uses.
pub fn unique_redis_prefix() -> String {
    format!("gatehouse-test-{}", uuid::Uuid::new_v4().simple())
}

/// Inserts a bare active tenant row through the registry.
pub async fn insert_tenant(db: &Db, slug: &str) -> TenantId {
    let id = TenantId::new_random();
    sqlx::query("insert into tenants (id, slug, display_name) values ($1, $2, $3)")
        .bind(id.as_uuid())
        .bind(slug)
        .bind(format!("Tenant {slug}"))
        .execute(db.registry())
        .await
        .expect("insert tenant");
    id
}
