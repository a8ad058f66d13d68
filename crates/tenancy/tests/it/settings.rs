//! tenant_settings: one tenant's documents are invisible to another, and
//! bad sections are refused without a write.

use gatehouse_core::events::EventBus;
use gatehouse_core::testing::{test_db, unique_slug};
use gatehouse_tenancy::settings::{load_overrides, put_section, SettingsError};
use gatehouse_tenancy::Tenants;
use serde_json::json;

#[tokio::test]
async fn one_tenant_cannot_see_another_tenants_settings() {
    let db = test_db().await;
    let bus = EventBus::local();
    let tenants = Tenants::new(db.clone(), bus.clone());
    let a = tenants.create(&unique_slug("set-a"), "A").await.unwrap();
    let b = tenants.create(&unique_slug("set-b"), "B").await.unwrap();
    put_section(&db, &bus, &a, "branding", json!({"company_name": "A Corp"}))
        .await
        .unwrap();
    put_section(&db, &bus, &b, "branding", json!({"company_name": "B Corp"}))
        .await
        .unwrap();
    put_section(&db, &bus, &b, "oidc", json!({"access_token_ttl_secs": 120}))
        .await
        .unwrap();

    assert_eq!(
        load_overrides(&db, a.id).await.unwrap(),
        vec![("branding".to_owned(), json!({"company_name": "A Corp"}))]
    );
    let b_rows = load_overrides(&db, b.id).await.unwrap();
    assert_eq!(b_rows.len(), 2);
    assert!(b_rows
        .iter()
        .all(|(_, doc)| doc != &json!({"company_name": "A Corp"})));

    // Replacing is an upsert, still per tenant.
    put_section(&db, &bus, &a, "branding", json!({"company_name": "A2"}))
        .await
        .unwrap();
    assert_eq!(
        load_overrides(&db, a.id).await.unwrap()[0].1,
        json!({"company_name": "A2"})
    );
    assert_eq!(
        load_overrides(&db, b.id).await.unwrap()[0].1,
        json!({"company_name": "B Corp"})
    );
}

#[tokio::test]
async fn unknown_sections_and_non_objects_are_refused() {
    let db = test_db().await;
    let bus = EventBus::local();
    let a = Tenants::new(db.clone(), bus.clone())
        .create(&unique_slug("set-bad"), "Bad")
        .await
        .unwrap();
    assert!(matches!(
        put_section(&db, &bus, &a, "secrets", json!({})).await,
        Err(SettingsError::UnknownSection(_))
    ));
    assert!(matches!(
        put_section(&db, &bus, &a, "branding", json!([1])).await,
        Err(SettingsError::NotAnObject)
    ));
    assert!(load_overrides(&db, a.id).await.unwrap().is_empty());
}
