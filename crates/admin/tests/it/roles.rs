//! Roles and their assignments stay inside their tenant; built-in roles
//! belong to their kind of tenant; the last owner keeps the role.

use gatehouse_admin::roles;
use gatehouse_admin::StoreError;
use gatehouse_core::testing::{insert_tenant, test_db, unique_slug};
use gatehouse_core::{Db, TenantId};
use gatehouse_oidc::users::{self, NewUser};
use uuid::Uuid;

async fn user(db: &Db, tenant: TenantId, name: &str) -> Uuid {
    let mut tx = db.tenant_tx(tenant).await.unwrap();
    let u = users::create(
        &mut tx,
        NewUser {
            username: name.into(),
            ..NewUser::default()
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    u.id
}

#[tokio::test]
async fn tenant_b_cannot_see_or_change_tenant_a_roles() {
    let db = test_db().await;
    let a = insert_tenant(&db, &unique_slug("roles-a")).await;
    let b = insert_tenant(&db, &unique_slug("roles-b")).await;
    let alice = user(&db, a, "alice").await;

    let mut tx = db.tenant_tx(a).await.unwrap();
    roles::create(&mut tx, "editor", "Edits articles")
        .await
        .unwrap();
    assert!(roles::assign(&mut tx, false, alice, "editor")
        .await
        .unwrap());
    assert!(roles::assign(&mut tx, false, alice, "admin").await.unwrap());
    assert!(
        !roles::assign(&mut tx, false, alice, "admin").await.unwrap(),
        "twice"
    );
    tx.commit().await.unwrap();

    let mut tx = db.tenant_tx(b).await.unwrap();
    assert!(roles::list(&mut tx).await.unwrap().is_empty());
    assert!(roles::of_user(&mut tx, alice).await.unwrap().is_empty());
    assert!(roles::holders(&mut tx, "admin").await.unwrap().is_empty());
    // A's custom role does not exist here, and A's user cannot be given one.
    assert!(matches!(
        roles::assign(&mut tx, false, alice, "editor").await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        roles::assign(&mut tx, false, alice, "admin").await,
        Err(StoreError::NotFound)
    ));
    let mut tx = db.tenant_tx(b).await.unwrap();
    assert!(matches!(
        roles::remove(&mut tx, alice, "admin").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        roles::delete(&mut tx, "editor").await,
        Err(StoreError::NotFound)
    ));
    // The same name is free in B.
    roles::create(&mut tx, "editor", "").await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = db.tenant_tx(a).await.unwrap();
    assert_eq!(
        roles::of_user(&mut tx, alice).await.unwrap(),
        ["admin", "editor"]
    );
    assert_eq!(
        roles::custom_of_user(&mut tx, alice).await.unwrap(),
        ["editor"]
    );
    assert_eq!(
        roles::list(&mut tx).await.unwrap()[0].description,
        "Edits articles"
    );
}

#[tokio::test]
async fn built_in_roles_belong_to_their_kind_of_tenant_and_custom_names_are_checked() {
    let db = test_db().await;
    let t = insert_tenant(&db, &unique_slug("roles-kind")).await;
    let bob = user(&db, t, "bob").await;
    let mut tx = db.tenant_tx(t).await.unwrap();
    for (platforms, role) in [
        (false, "platform_admin"),
        (true, "owner"),
        (false, "nobody"),
    ] {
        assert!(
            matches!(
                roles::assign(&mut tx, platforms, bob, role).await,
                Err(StoreError::Invalid(_))
            ),
            "{role}"
        );
    }
    assert!(roles::assign(&mut tx, true, bob, "platform_viewer")
        .await
        .unwrap());
    for bad in ["owner", "Editor", "", "has space"] {
        assert!(
            matches!(
                roles::create(&mut tx, bad, "").await,
                Err(StoreError::Invalid(_))
            ),
            "{bad}"
        );
    }
    assert!(matches!(
        roles::create(&mut tx, "long", &"x".repeat(501)).await,
        Err(StoreError::Invalid(_))
    ));
    roles::create(&mut tx, "support", "").await.unwrap();
    assert!(matches!(
        roles::create(&mut tx, "support", "").await,
        Err(StoreError::Duplicate)
    ));
}

#[tokio::test]
async fn the_last_owner_keeps_the_role_and_deleting_a_custom_role_unassigns_it() {
    let db = test_db().await;
    let t = insert_tenant(&db, &unique_slug("roles-owner")).await;
    let (ann, ben) = (user(&db, t, "ann").await, user(&db, t, "ben").await);
    let mut tx = db.tenant_tx(t).await.unwrap();
    roles::assign(&mut tx, false, ann, "owner").await.unwrap();
    assert!(matches!(
        roles::remove(&mut tx, ann, "owner").await,
        Err(StoreError::Invalid(_))
    ));
    roles::assign(&mut tx, false, ben, "owner").await.unwrap();
    roles::remove(&mut tx, ann, "owner").await.unwrap();
    assert_eq!(roles::holders(&mut tx, "owner").await.unwrap(), [ben]);

    roles::create(&mut tx, "billing", "").await.unwrap();
    roles::assign(&mut tx, false, ann, "billing").await.unwrap();
    roles::delete(&mut tx, "billing").await.unwrap();
    assert!(roles::of_user(&mut tx, ann).await.unwrap().is_empty());
    tx.commit().await.unwrap();
}
