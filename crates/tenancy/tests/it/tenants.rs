//! The tenant registry's commands: validation, reserved slugs, duplicates,
//! and delete cascading through every tenant-owned table.

use gatehouse_core::events::{Event, EventBus};
use gatehouse_core::testing::{test_db, unique_slug};
use gatehouse_core::{SlugError, TenantId};
use gatehouse_tenancy::{TenantError, TenantStatus, Tenants};

/// Tenants with one of these slugs (other tests create tenants concurrently).
async fn count_tenants(db: &gatehouse_core::Db, slugs: &[String]) -> i64 {
    sqlx::query_scalar("select count(*) from tenants where slug = any($1)")
        .bind(slugs)
        .fetch_one(db.registry())
        .await
        .unwrap()
}

#[tokio::test]
async fn bad_slugs_reserved_names_and_duplicates_are_refused_and_change_nothing() {
    let db = test_db().await;
    let tenants = Tenants::new(db.clone(), EventBus::local());
    let slug = unique_slug("dup");
    tenants.create(&slug, "First").await.unwrap();

    let cases: Vec<(String, &str)> = vec![
        ("Acme".into(), "invalid"),
        ("-acme".into(), "invalid"),
        ("a".repeat(64), "invalid"),
        ("".into(), "invalid"),
        ("default".into(), "reserved"),
        ("_platforms".into(), "reserved"),
        ("_ops".into(), "reserved"),
        ("_mine".into(), "underscore"),
        (slug.clone(), "duplicate"),
    ];
    let attempted: Vec<String> = cases.iter().map(|(s, _)| s.clone()).collect();
    let before = count_tenants(&db, &attempted).await;
    for (bad, why) in cases {
        let err = tenants.create(&bad, "Name").await.unwrap_err();
        let matched = match why {
            "invalid" => matches!(err, TenantError::Slug(SlugError::Invalid)),
            "reserved" => matches!(err, TenantError::Slug(SlugError::Reserved)),
            "underscore" => matches!(err, TenantError::Slug(SlugError::Underscore)),
            _ => matches!(err, TenantError::Duplicate),
        };
        assert!(matched, "{bad:?}: {err:?}");
    }
    assert!(matches!(
        tenants.create(&unique_slug("n"), "  ").await,
        Err(TenantError::DisplayName)
    ));
    assert_eq!(count_tenants(&db, &attempted).await, before);
}

#[tokio::test]
async fn reserved_tenants_cannot_be_deleted_or_suspended_and_unknown_ones_are_not_found() {
    let db = test_db().await;
    let tenants = Tenants::new(db.clone(), EventBus::local());
    for reserved in ["default", "_platforms", "_ops"] {
        assert!(
            matches!(
                tenants.delete(reserved).await,
                Err(TenantError::Reserved(_))
            ),
            "{reserved}"
        );
    }
    for reserved in ["default", "_platforms"] {
        assert!(matches!(
            tenants.set_status(reserved, TenantStatus::Suspended).await,
            Err(TenantError::Reserved(_))
        ));
        assert_eq!(
            tenants.get(reserved).await.unwrap().status,
            TenantStatus::Active
        );
    }
    let unknown = unique_slug("ghost");
    assert!(matches!(
        tenants.delete(&unknown).await,
        Err(TenantError::NotFound)
    ));
    assert!(matches!(
        tenants.set_status(&unknown, TenantStatus::Active).await,
        Err(TenantError::NotFound)
    ));
    assert!(matches!(
        tenants.get("NOT A SLUG").await,
        Err(TenantError::NotFound)
    ));
}

async fn owned_rows(db: &gatehouse_core::Db, tenant: TenantId) -> Vec<i64> {
    let mut tx = db.tenant_tx(tenant).await.unwrap();
    let mut counts = Vec::new();
    for table in ["users", "clients", "tenant_settings"] {
        let n: i64 = sqlx::query_scalar(&format!("select count(*) from {table}"))
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        counts.push(n);
    }
    let domains: i64 =
        sqlx::query_scalar("select count(*) from tenant_domains where tenant_id = $1")
            .bind(tenant.as_uuid())
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    counts.push(domains);
    counts
}

#[tokio::test]
async fn deleting_a_tenant_removes_every_row_it_owns_and_announces_it() {
    let db = test_db().await;
    let bus = EventBus::local();
    let mut events = bus.subscribe();
    let tenants = Tenants::new(db.clone(), bus.clone());
    let doomed = tenants
        .create(&unique_slug("doomed"), "Doomed")
        .await
        .unwrap();
    let kept = tenants.create(&unique_slug("kept"), "Kept").await.unwrap();
    for t in [&doomed, &kept] {
        let mut tx = db.tenant_tx(t.id).await.unwrap();
        sqlx::query("insert into users (tenant_id, id, username) values ($1, $2, 'u')")
            .bind(t.id.as_uuid())
            .bind(uuid::Uuid::new_v4())
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query(
            "insert into clients (tenant_id, id, client_id, name) values ($1, $2, 'c', 'C')",
        )
        .bind(t.id.as_uuid())
        .bind(uuid::Uuid::new_v4())
        .execute(&mut *tx)
        .await
        .unwrap();
        sqlx::query("insert into tenant_settings (tenant_id, section, document) values ($1, 'branding', '{}')")
            .bind(t.id.as_uuid())
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        sqlx::query("insert into tenant_domains (host, tenant_id) values ($1, $2)")
            .bind(format!("{}.example", t.slug))
            .bind(t.id.as_uuid())
            .execute(db.registry())
            .await
            .unwrap();
    }
    assert_eq!(owned_rows(&db, doomed.id).await, [1, 1, 1, 1]);

    tenants.delete(doomed.slug.as_str()).await.unwrap();
    assert_eq!(owned_rows(&db, doomed.id).await, [0, 0, 0, 0]);
    assert_eq!(owned_rows(&db, kept.id).await, [1, 1, 1, 1]);
    assert!(matches!(
        tenants.get(doomed.slug.as_str()).await,
        Err(TenantError::NotFound)
    ));

    let mut saw_delete = false;
    while let Ok(ev) = events.try_recv() {
        if let Event::TenantChanged {
            tenant_id, change, ..
        } = ev
        {
            saw_delete |=
                tenant_id == doomed.id && change == gatehouse_core::events::Change::Deleted;
        }
    }
    assert!(saw_delete);
}

#[tokio::test]
async fn tenants_list_in_slug_order_with_keyset_pagination() {
    let db = test_db().await;
    let tenants = Tenants::new(db.clone(), EventBus::local());
    let prefix = unique_slug("page");
    for i in 0..5 {
        tenants
            .create(&format!("{prefix}-{i}"), "Paged")
            .await
            .unwrap();
    }
    let first = tenants.list(Some(&prefix), 2).await.unwrap();
    let slugs: Vec<_> = first.iter().map(|t| t.slug.to_string()).collect();
    assert_eq!(slugs, [format!("{prefix}-0"), format!("{prefix}-1")]);
    let next = tenants.list(Some(&slugs[1]), 2).await.unwrap();
    assert_eq!(next[0].slug.to_string(), format!("{prefix}-2"));
}

#[tokio::test]
async fn creating_a_tenant_and_changing_its_status_are_in_its_audit_log() {
    let db = test_db().await;
    let tenants = Tenants::new(db.clone(), EventBus::local());
    let slug = unique_slug("audited");
    let t = tenants.create(&slug, "Audited").await.unwrap();
    tenants
        .set_status(&slug, TenantStatus::Suspended)
        .await
        .unwrap();
    let mut tx = db.tenant_tx(t.id).await.unwrap();
    let rows: Vec<(String, String, serde_json::Value)> =
        sqlx::query_as("select action, actor_kind, details from audit_events order by at, id")
            .fetch_all(&mut *tx)
            .await
            .unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(
        (rows[0].0.as_str(), rows[0].1.as_str()),
        ("tenant.created", "system")
    );
    assert_eq!(rows[1].0, "tenant.status_changed");
    assert_eq!(
        (rows[1].2["from"].as_str(), rows[1].2["to"].as_str()),
        (Some("active"), Some("suspended"))
    );
}
