//! Email links: single use, one purpose, a newer link retires the older,
//! expiry, and invisible to every other tenant.

use gatehouse_core::testing::{insert_tenant, test_db, unique_slug};
use gatehouse_core::{Db, TenantId};
use gatehouse_oidc::user_tokens::{self, Purpose};
use gatehouse_oidc::users::{self, NewUser};
use uuid::Uuid;

async fn user(db: &Db, tenant: TenantId) -> Uuid {
    let mut tx = db.tenant_tx(tenant).await.unwrap();
    let u = users::create(
        &mut tx,
        NewUser {
            username: "alice".into(),
            email: Some("alice@example.com".into()),
            ..NewUser::default()
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    u.id
}

#[tokio::test]
async fn user_tokens_are_single_use_per_purpose_and_per_tenant() {
    let db = test_db().await;
    let a = insert_tenant(&db, &unique_slug("links-a")).await;
    let b = insert_tenant(&db, &unique_slug("links-b")).await;
    let alice = user(&db, a).await;

    let mut tx = db.tenant_tx(a).await.unwrap();
    let old = user_tokens::issue(&mut tx, alice, Purpose::ResetPassword, None)
        .await
        .unwrap();
    let link = user_tokens::issue(&mut tx, alice, Purpose::ResetPassword, None)
        .await
        .unwrap();
    let verify = user_tokens::issue(
        &mut tx,
        alice,
        Purpose::VerifyEmail,
        Some("alice@example.com"),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    // Another tenant sees none of them.
    let mut tx = db.tenant_tx(b).await.unwrap();
    for (purpose, t) in [
        (Purpose::ResetPassword, &link),
        (Purpose::VerifyEmail, &verify),
    ] {
        assert!(user_tokens::peek(&mut tx, purpose, t)
            .await
            .unwrap()
            .is_none());
        assert!(user_tokens::redeem(&mut tx, purpose, t)
            .await
            .unwrap()
            .is_none());
    }
    let rows: i64 = sqlx::query_scalar("select count(*) from user_tokens")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(rows, 0, "row-level security hides tenant A's links");
    tx.commit().await.unwrap();

    let mut tx = db.tenant_tx(a).await.unwrap();
    // A newer link retired the older one; a link serves its purpose only.
    assert!(user_tokens::peek(&mut tx, Purpose::ResetPassword, &old)
        .await
        .unwrap()
        .is_none());
    assert!(user_tokens::redeem(&mut tx, Purpose::VerifyEmail, &link)
        .await
        .unwrap()
        .is_none());
    // Peeking uses nothing up; redeeming works once.
    assert!(user_tokens::peek(&mut tx, Purpose::ResetPassword, &link)
        .await
        .unwrap()
        .is_some());
    let r = user_tokens::redeem(&mut tx, Purpose::ResetPassword, &link)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.user_id, alice);
    assert!(user_tokens::redeem(&mut tx, Purpose::ResetPassword, &link)
        .await
        .unwrap()
        .is_none());
    let v = user_tokens::redeem(&mut tx, Purpose::VerifyEmail, &verify)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(v.email.as_deref(), Some("alice@example.com"));
    // An expired link opens nothing.
    let late = user_tokens::issue(&mut tx, alice, Purpose::ChangeEmail, Some("a2@example.com"))
        .await
        .unwrap();
    sqlx::query("update user_tokens set expires_at = now() - interval '1 second' where purpose = 'change_email'")
        .execute(&mut *tx)
        .await
        .unwrap();
    assert!(user_tokens::redeem(&mut tx, Purpose::ChangeEmail, &late)
        .await
        .unwrap()
        .is_none());
    tx.commit().await.unwrap();
}
