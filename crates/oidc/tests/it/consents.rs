//! Remembered consent is per tenant: a grant in tenant A covers nothing in B,
//! even for the same user id and client id.

use gatehouse_core::testing::{insert_tenant, test_db, unique_slug};
use gatehouse_oidc::consents;
use uuid::Uuid;

#[tokio::test]
async fn consent_given_in_tenant_a_is_invisible_and_irrevocable_from_tenant_b() {
    let db = test_db().await;
    let a = insert_tenant(&db, &unique_slug("consent-a")).await;
    let b = insert_tenant(&db, &unique_slug("consent-b")).await;
    let user = Uuid::new_v4();

    let mut tx = db.tenant_tx(a).await.unwrap();
    consents::grant(&mut tx, user, "app", &["openid", "email"])
        .await
        .unwrap();
    consents::grant(&mut tx, user, "app", &["profile"])
        .await
        .unwrap();
    assert!(
        consents::covers(&mut tx, user, "app", &["openid", "email", "profile"])
            .await
            .unwrap()
    );
    assert!(!consents::covers(&mut tx, user, "app", &["phone"])
        .await
        .unwrap());
    tx.commit().await.unwrap();

    let mut tx = db.tenant_tx(b).await.unwrap();
    assert!(!consents::covers(&mut tx, user, "app", &["openid"])
        .await
        .unwrap());
    assert!(!consents::revoke(&mut tx, user, "app").await.unwrap());
    tx.commit().await.unwrap();

    let mut tx = db.tenant_tx(a).await.unwrap();
    assert!(
        consents::covers(&mut tx, user, "app", &["openid"])
            .await
            .unwrap(),
        "B's revoke touched nothing in A"
    );
    assert!(consents::revoke(&mut tx, user, "app").await.unwrap());
    assert!(!consents::covers(&mut tx, user, "app", &["openid"])
        .await
        .unwrap());
}
