//! Row-level security is the isolation boundary: these tests use hand-written
//! SQL with no `where tenant_id = …` and show that the database, not the
//! query text, keeps tenants apart.

use gatehouse_core::db::Db;
use gatehouse_core::testing::{insert_tenant, test_db, test_env, unique_slug};
use gatehouse_core::TenantId;
use std::time::Duration;

use sqlx::postgres::PgPoolOptions;

async fn add_user(db: &Db, tenant: TenantId, username: &str) {
    let mut tx = db.tenant_tx(tenant).await.unwrap();
    sqlx::query("insert into users (tenant_id, id, username) values ($1, $2, $3)")
        .bind(tenant.as_uuid())
        .bind(uuid::Uuid::new_v4())
        .bind(username)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

async fn two_tenants_with_users(db: &Db) -> (TenantId, TenantId) {
    let a = insert_tenant(db, &unique_slug("rls-a")).await;
    let b = insert_tenant(db, &unique_slug("rls-b")).await;
    add_user(db, a, "alice").await;
    add_user(db, a, "anna").await;
    add_user(db, b, "bob").await;
    (a, b)
}

fn is_rls_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.code().as_deref() == Some("42501"))
}

#[tokio::test]
async fn without_a_tenant_context_selects_see_nothing_and_inserts_are_refused() {
    let db = test_db().await;
    let (a, _) = two_tenants_with_users(&db).await;
    for table in ["users", "clients", "tenant_settings"] {
        let n: i64 = sqlx::query_scalar(&format!("select count(*) from {table}"))
            .fetch_one(db.registry())
            .await
            .unwrap();
        assert_eq!(n, 0, "{table} visible without a tenant context");
    }
    let err = sqlx::query("insert into users (tenant_id, id, username) values ($1, $2, 'mallory')")
        .bind(a.as_uuid())
        .bind(uuid::Uuid::new_v4())
        .execute(db.registry())
        .await
        .unwrap_err();
    assert!(is_rls_violation(&err), "{err}");
}

#[tokio::test]
async fn inside_tenant_a_an_unfiltered_select_returns_only_a_rows() {
    let db = test_db().await;
    let (a, b) = two_tenants_with_users(&db).await;
    let mut tx = db.tenant_tx(a).await.unwrap();
    let rows: Vec<(uuid::Uuid, String)> = sqlx::query_as("select tenant_id, username from users")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    let mut names: Vec<_> = rows.iter().map(|(_, n)| n.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["alice", "anna"]);
    assert!(rows.iter().all(|(t, _)| *t == a.as_uuid()));

    let updated = sqlx::query("update users set name = 'pwned' where tenant_id = $1")
        .bind(b.as_uuid())
        .execute(&mut *tx)
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(updated, 0);
    let deleted = sqlx::query("delete from users where tenant_id = $1")
        .bind(b.as_uuid())
        .execute(&mut *tx)
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(deleted, 0);
    tx.commit().await.unwrap();

    // Writing a row for B from inside A is refused by the policy's check.
    let mut tx = db.tenant_tx(a).await.unwrap();
    let err = sqlx::query("insert into users (tenant_id, id, username) values ($1, $2, 'mallory')")
        .bind(b.as_uuid())
        .bind(uuid::Uuid::new_v4())
        .execute(&mut *tx)
        .await
        .unwrap_err();
    assert!(is_rls_violation(&err), "{err}");
    drop(tx);

    // B still has exactly its own row, untouched.
    let mut tx = db.tenant_tx(b).await.unwrap();
    let rows: Vec<(String, Option<String>)> = sqlx::query_as("select username, name from users")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    assert_eq!(rows, vec![("bob".to_owned(), None)]);
}

#[tokio::test]
async fn the_next_transaction_on_the_same_pooled_connection_has_no_context() {
    let env = test_env();
    test_db().await;
    // One connection, so the second transaction must reuse it.
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(&env.database_url)
        .await
        .unwrap();
    let db = Db::from_pool(pool).unwrap();
    let (a, _) = two_tenants_with_users(&db).await;
    let pid_of = |db: &Db| {
        let pool = db.registry().clone();
        async move {
            sqlx::query_scalar::<_, i32>("select pg_backend_pid()")
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let pid = pid_of(&db).await;

    for commit in [true, false] {
        let mut tx = db.tenant_tx(a).await.unwrap();
        let n: i64 = sqlx::query_scalar("select count(*) from users")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        assert_eq!(n, 2);
        if commit {
            tx.commit().await.unwrap();
        } else {
            drop(tx); // rolled back
        }
        let mut plain = db.registry().begin().await.unwrap();
        let setting: Option<String> =
            sqlx::query_scalar("select current_setting('app.tenant_id', true)")
                .fetch_one(&mut *plain)
                .await
                .unwrap();
        assert!(
            setting.as_deref().unwrap_or("").is_empty(),
            "context leaked: {setting:?}"
        );
        let n: i64 = sqlx::query_scalar("select count(*) from users")
            .fetch_one(&mut *plain)
            .await
            .unwrap();
        assert_eq!(n, 0);
        plain.commit().await.unwrap();
    }
    assert_eq!(
        pid_of(&db).await,
        pid,
        "the test must have reused one connection"
    );
}

#[tokio::test]
async fn the_server_role_cannot_disable_rls_or_become_the_owner() {
    let db = test_db().await;
    let owner: String =
        sqlx::query_scalar("select tableowner::text from pg_tables where tablename = 'users'")
            .fetch_one(db.registry())
            .await
            .unwrap();
    let attempts = [
        "alter table users disable row level security".to_owned(),
        "alter table users no force row level security".to_owned(),
        "drop policy tenant_isolation on users".to_owned(),
        "create policy open on users using (true)".to_owned(),
        format!("set role {owner}"),
        format!("set session authorization {owner}"),
        "set role postgres".to_owned(),
        "create table sneaky (id int)".to_owned(),
    ];
    for sql in attempts {
        let mut conn = db.registry().acquire().await.unwrap();
        let result = sqlx::raw_sql(&sql).execute(&mut *conn).await;
        assert!(result.is_err(), "the server role was allowed to: {sql}");
    }
    db.check_role_is_confined().await.unwrap();
}

#[tokio::test]
async fn a_role_that_owns_the_tables_is_refused_at_start() {
    let env = test_env();
    test_db().await;
    let owner = Db::connect_lazy(&env.admin_url, 1).unwrap();
    let err = owner
        .check_role_is_confined()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("owns tables") || err.contains("superuser"),
        "{err}"
    );
}

#[tokio::test]
async fn reserved_tenants_exist_and_cannot_be_deleted_or_renamed_even_by_sql() {
    let db = test_db().await;
    let builtin: Vec<String> =
        sqlx::query_scalar("select slug from tenants where builtin order by slug")
            .fetch_all(db.registry())
            .await
            .unwrap();
    assert_eq!(builtin, ["_platforms", "default"]);
    assert!(sqlx::query("delete from tenants where slug = '_platforms'")
        .execute(db.registry())
        .await
        .is_err());
    assert!(
        sqlx::query("update tenants set slug = 'x' where slug = 'default'")
            .execute(db.registry())
            .await
            .is_err()
    );
    assert!(
        sqlx::query("insert into tenants (id, slug, display_name) values ($1, '_mine', 'x')")
            .bind(uuid::Uuid::new_v4())
            .execute(db.registry())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn grant_call_connections_carry_no_context_and_a_cancelled_call_is_not_lent_again() {
    let env = test_env();
    test_db().await;
    // One call connection, so each call must reuse it when it can.
    let db = Db::connect_lazy(&env.database_url, 1)
        .unwrap()
        .with_call_connections(1)
        .unwrap();
    let (a, _) = two_tenants_with_users(&db).await;
    let pid = |db: Db| async move {
        let mut call = db.tenant_call().await.unwrap();
        let pid: i32 = sqlx::query_scalar("select pg_backend_pid()")
            .fetch_one(call.conn())
            .await
            .unwrap();
        call.finish();
        pid
    };
    let first = pid(db.clone()).await;

    // A call that sets the tenant for its own transaction, as the grant
    // functions do: the next call on the same connection sees no tenant.
    let mut call = db.tenant_call().await.unwrap();
    sqlx::query("begin").execute(call.conn()).await.unwrap();
    sqlx::query("select set_config('app.tenant_id', $1, true)")
        .bind(a.as_uuid().to_string())
        .execute(call.conn())
        .await
        .unwrap();
    let seen: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(call.conn())
        .await
        .unwrap();
    sqlx::query("commit").execute(call.conn()).await.unwrap();
    call.finish();
    assert_eq!(seen, 2, "inside the call, tenant a's users");
    let mut call = db.tenant_call().await.unwrap();
    let after: (i64, String, i32) = sqlx::query_as(
        "select (select count(*) from users), coalesce(current_setting('app.tenant_id', true), ''), pg_backend_pid()",
    )
    .fetch_one(call.conn())
    .await
    .unwrap();
    call.finish();
    assert_eq!(
        after,
        (0, String::new(), first),
        "the same connection, no context"
    );

    // A call cancelled while the server still works on it: its connection
    // is closed, and the next call gets a new one that answers its own query.
    let db2 = db.clone();
    let cancelled = tokio::time::timeout(Duration::from_millis(100), async move {
        let mut call = db2.tenant_call().await.unwrap();
        sqlx::query("select pg_sleep(2)")
            .execute(call.conn())
            .await
            .unwrap();
        call.finish();
    })
    .await;
    assert!(cancelled.is_err(), "the call was cancelled mid-way");
    let mut call = db.tenant_call().await.unwrap();
    let (answer, pid_now): (i32, i32) = sqlx::query_as("select 42, pg_backend_pid()")
        .fetch_one(call.conn())
        .await
        .unwrap();
    call.finish();
    assert_eq!(answer, 42);
    assert_ne!(pid_now, first, "a new connection");
}
