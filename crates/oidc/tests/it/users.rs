//! The user store keeps tenants apart even for identical usernames.

use gatehouse_core::crypto::PasswordHasher;
use gatehouse_core::testing::{insert_tenant, test_db, unique_slug};
use gatehouse_oidc::users::{self, NewUser};
use gatehouse_oidc::StoreError;

fn alice() -> NewUser {
    NewUser {
        username: "alice".into(),
        email: Some("alice@example.com".into()),
        ..NewUser::default()
    }
}

#[tokio::test]
async fn tenant_b_cannot_see_or_change_tenant_a_users() {
    let db = test_db().await;
    let a = insert_tenant(&db, &unique_slug("users-a")).await;
    let b = insert_tenant(&db, &unique_slug("users-b")).await;

    let mut tx = db.tenant_tx(a).await.unwrap();
    let created = users::create(&mut tx, alice()).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = db.tenant_tx(b).await.unwrap();
    assert!(users::find_by_username(&mut tx, "alice")
        .await
        .unwrap()
        .is_none());
    assert!(users::list(&mut tx, None, 100).await.unwrap().is_empty());
    assert!(matches!(
        users::set_password_hash(&mut tx, created.id, "x").await,
        Err(StoreError::NotFound)
    ));
    assert!(users::password_hash(&mut tx, created.id)
        .await
        .unwrap()
        .is_none());
    // The same username is free in B.
    users::create(&mut tx, alice()).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = db.tenant_tx(a).await.unwrap();
    let found = users::find_by_username(&mut tx, "ALICE")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, created.id);
    assert_eq!(users::list(&mut tx, None, 100).await.unwrap().len(), 1);
}

#[tokio::test]
async fn usernames_and_emails_are_unique_per_tenant_case_insensitively() {
    let db = test_db().await;
    let a = insert_tenant(&db, &unique_slug("users-dup")).await;
    let mut tx = db.tenant_tx(a).await.unwrap();
    users::create(&mut tx, alice()).await.unwrap();
    tx.commit().await.unwrap();
    for dup in [
        NewUser {
            username: "ALICE".into(),
            ..NewUser::default()
        },
        NewUser {
            username: "other".into(),
            email: Some("Alice@Example.com".into()),
            ..NewUser::default()
        },
    ] {
        let mut tx = db.tenant_tx(a).await.unwrap();
        assert!(matches!(
            users::create(&mut tx, dup).await,
            Err(StoreError::Duplicate)
        ));
    }
    let mut tx = db.tenant_tx(a).await.unwrap();
    for bad in [
        NewUser {
            username: " ".into(),
            ..NewUser::default()
        },
        NewUser {
            username: "x".into(),
            email: Some("not-an-email".into()),
            ..NewUser::default()
        },
    ] {
        assert!(matches!(
            users::create(&mut tx, bad).await,
            Err(StoreError::Invalid(_))
        ));
    }
}

#[tokio::test]
async fn a_stored_password_hash_verifies_only_the_password() {
    let db = test_db().await;
    let a = insert_tenant(&db, &unique_slug("users-pw")).await;
    let hasher = PasswordHasher::new(1).unwrap();
    let hash = hasher.hash("s3cret-passphrase".into()).await.unwrap();
    let mut tx = db.tenant_tx(a).await.unwrap();
    let u = users::create(
        &mut tx,
        NewUser {
            password_hash: Some(hash),
            ..alice()
        },
    )
    .await
    .unwrap();
    let stored = users::password_hash(&mut tx, u.id).await.unwrap().unwrap();
    assert!(hasher
        .verify("s3cret-passphrase".into(), stored.clone())
        .await
        .unwrap());
    assert!(!hasher.verify("wrong".into(), stored).await.unwrap());
}
