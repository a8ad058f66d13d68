//! The bootstrap administrator: created once with the platform_admin role
//! and an audit record, never changed by a later start, refused when the
//! password breaks the policy.

use gatehouse_admin::bootstrap::{ensure_admin, BootstrapError, Outcome};
use gatehouse_admin::{audit, roles};
use gatehouse_core::crypto::PasswordHasher;
use gatehouse_core::password_policy::PasswordPolicy;
use gatehouse_core::testing::{insert_tenant, test_db, unique_slug};
use gatehouse_oidc::users;

const PASSWORD: &str = "a long and unusual passphrase";

#[tokio::test]
async fn the_bootstrap_admin_is_created_once_and_then_left_alone() {
    let db = test_db().await;
    let platforms = insert_tenant(&db, &unique_slug("boot")).await;
    let hasher = PasswordHasher::new(1).unwrap();
    let policy = PasswordPolicy::default();

    let first = ensure_admin(
        &db,
        platforms,
        &hasher,
        &policy,
        " ops@example.com ",
        PASSWORD,
    )
    .await
    .unwrap();
    let Outcome::Created(id) = first else {
        panic!("{first:?}")
    };
    // A second start, even with another password, changes nothing.
    let again = ensure_admin(
        &db,
        platforms,
        &hasher,
        &policy,
        "ops@example.com",
        "another long passphrase",
    )
    .await
    .unwrap();
    assert_eq!(again, Outcome::Exists(id));

    let mut tx = db.tenant_tx(platforms).await.unwrap();
    let user = users::find_by_email(&mut tx, "ops@example.com")
        .await
        .unwrap()
        .unwrap();
    assert!(user.email_verified);
    assert_eq!(
        roles::of_user(&mut tx, id).await.unwrap(),
        [roles::PLATFORM_ADMIN]
    );
    let hash = users::password_hash(&mut tx, id).await.unwrap().unwrap();
    assert!(hasher.verify(PASSWORD.into(), hash).await.unwrap());
    let events = audit::list(&mut tx, &audit::Filter::default())
        .await
        .unwrap()
        .items;
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].action.as_str(), events[0].actor_kind.as_str()),
        ("admin.bootstrapped", "system")
    );
    assert!(!events[0].details.to_string().contains(PASSWORD));
}

#[tokio::test]
async fn a_weak_or_malformed_bootstrap_admin_is_refused_and_nothing_is_written() {
    let db = test_db().await;
    let platforms = insert_tenant(&db, &unique_slug("boot-weak")).await;
    let hasher = PasswordHasher::new(1).unwrap();
    let policy = PasswordPolicy::default();
    assert!(matches!(
        ensure_admin(
            &db,
            platforms,
            &hasher,
            &policy,
            "ops@example.com",
            "password"
        )
        .await,
        Err(BootstrapError::WeakPassword(_))
    ));
    assert!(matches!(
        ensure_admin(&db, platforms, &hasher, &policy, "not an address", PASSWORD).await,
        Err(BootstrapError::Email(_))
    ));
    let mut tx = db.tenant_tx(platforms).await.unwrap();
    assert!(users::list(&mut tx, None, 10).await.unwrap().is_empty());
    assert!(audit::list(&mut tx, &audit::Filter::default())
        .await
        .unwrap()
        .items
        .is_empty());
}
