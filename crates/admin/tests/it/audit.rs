//! The audit log: each tenant reads only its own events, filters and pages
//! newest first, and the server's role cannot rewrite history.

use gatehouse_admin::audit::{self, Filter};
use gatehouse_admin::StoreError;
use gatehouse_core::audit::{record, Actor, Entry};
use gatehouse_core::testing::{insert_tenant, test_db, unique_slug};
use gatehouse_core::TenantTx;
use uuid::Uuid;

async fn count(tx: &mut TenantTx, filter: Filter) -> usize {
    audit::list(tx, &filter).await.unwrap().items.len()
}

#[tokio::test]
async fn tenant_b_cannot_read_tenant_a_audit_events() {
    let db = test_db().await;
    let a = insert_tenant(&db, &unique_slug("audit-a")).await;
    let b = insert_tenant(&db, &unique_slug("audit-b")).await;
    let mut tx = db.tenant_tx(a).await.unwrap();
    record(
        &mut tx,
        &Entry::new(Actor::anonymous(), "login.failed")
            .ip(Some("192.0.2.7".parse().unwrap()))
            .details(serde_json::json!({ "login": "alice" })),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let mut tx = db.tenant_tx(b).await.unwrap();
    assert!(audit::list(&mut tx, &Filter::default())
        .await
        .unwrap()
        .items
        .is_empty());
    tx.commit().await.unwrap();

    let mut tx = db.tenant_tx(a).await.unwrap();
    let page = audit::list(&mut tx, &Filter::default()).await.unwrap();
    assert_eq!(page.items.len(), 1);
    let e = &page.items[0];
    assert_eq!(
        (e.action.as_str(), e.actor_kind.as_str(), e.ip.as_deref()),
        ("login.failed", "anonymous", Some("192.0.2.7"))
    );
    assert_eq!(e.details["login"], "alice");
}

#[tokio::test]
async fn the_server_role_can_neither_change_nor_delete_audit_events() {
    let db = test_db().await;
    let a = insert_tenant(&db, &unique_slug("audit-ro")).await;
    let mut tx = db.tenant_tx(a).await.unwrap();
    record(&mut tx, &Entry::new(Actor::system(), "keys.rotated"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    for statement in [
        "update audit_events set action = 'x'",
        "delete from audit_events",
        "truncate audit_events",
    ] {
        let mut tx = db.tenant_tx(a).await.unwrap();
        let err = sqlx::query(statement).execute(&mut *tx).await.unwrap_err();
        assert!(
            err.to_string().contains("permission denied"),
            "{statement}: {err}"
        );
    }
}

#[tokio::test]
async fn events_filter_by_action_actor_and_time_and_page_newest_first() {
    let db = test_db().await;
    let t = insert_tenant(&db, &unique_slug("audit-page")).await;
    let alice = Uuid::new_v4();
    let mut tx = db.tenant_tx(t).await.unwrap();
    for i in 0..7 {
        let (actor, action) = if i % 2 == 0 {
            (Actor::user(alice, Some("alice".into())), "login.succeeded")
        } else {
            (Actor::anonymous(), "login.failed")
        };
        record(
            &mut tx,
            &Entry::new(actor, action).details(serde_json::json!({ "i": i })),
        )
        .await
        .unwrap();
    }
    record(&mut tx, &Entry::new(Actor::system(), "keys.rotated"))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = db.tenant_tx(t).await.unwrap();
    // Pages of 3, newest first, every event once.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = audit::list(
            &mut tx,
            &Filter {
                limit: Some(3),
                after: after.clone(),
                ..Filter::default()
            },
        )
        .await
        .unwrap();
        assert!(page.items.len() <= 3);
        seen.extend(page.items.iter().map(|e| (e.at, e.id, e.action.clone())));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), 8);
    assert_eq!(seen[0].2, "keys.rotated", "newest first");
    assert!(seen.windows(2).all(|w| (w[0].0, w[0].1) > (w[1].0, w[1].1)));

    let only = |action: &str| Filter {
        action: Some(action.into()),
        ..Filter::default()
    };
    assert_eq!(count(&mut tx, only("login.failed")).await, 3);
    assert_eq!(
        count(&mut tx, only("login.")).await,
        7,
        "a prefix ending in a dot"
    );
    assert_eq!(count(&mut tx, only("login")).await, 0, "otherwise exact");
    let by_alice = Filter {
        actor: Some(alice.to_string()),
        ..Filter::default()
    };
    assert_eq!(count(&mut tx, by_alice).await, 4);
    let last = seen[0].0;
    let before_last = Filter {
        until: Some(last),
        ..Filter::default()
    };
    assert_eq!(count(&mut tx, before_last).await, 7);
    let since_last = Filter {
        since: Some(last),
        ..Filter::default()
    };
    assert_eq!(count(&mut tx, since_last).await, 1);

    for bad in [
        Filter {
            limit: Some(0),
            ..Filter::default()
        },
        Filter {
            limit: Some(101),
            ..Filter::default()
        },
        Filter {
            after: Some("not-a-cursor".into()),
            ..Filter::default()
        },
    ] {
        assert!(matches!(
            audit::list(&mut tx, &bad).await,
            Err(StoreError::Invalid(_))
        ));
    }
}
