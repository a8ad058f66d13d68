//! The client store keeps tenants apart, stores only secret hashes, and
//! refuses unsafe redirect URIs.

use gatehouse_core::crypto::secret_matches;
use gatehouse_core::testing::{insert_tenant, test_db, unique_slug};
use gatehouse_oidc::clients::{self, NewClient};
use gatehouse_oidc::StoreError;

fn app() -> NewClient {
    NewClient {
        name: "App".into(),
        redirect_uris: vec!["https://app.example.com/cb".into()],
        post_logout_redirect_uris: vec![],
        public: false,
        first_party: false,
        allow_http: false,
        auth_method: None,
        grant_types: vec![],
        scopes: vec![],
        jwks: None,
        jwks_uri: None,
    }
}

#[tokio::test]
async fn tenant_b_cannot_see_rotate_or_delete_tenant_a_clients() {
    let db = test_db().await;
    let a = insert_tenant(&db, &unique_slug("clients-a")).await;
    let b = insert_tenant(&db, &unique_slug("clients-b")).await;
    let mut tx = db.tenant_tx(a).await.unwrap();
    let (client, secret) = clients::create(&mut tx, app()).await.unwrap();
    tx.commit().await.unwrap();
    let secret = secret.unwrap();

    let mut tx = db.tenant_tx(b).await.unwrap();
    assert!(clients::find(&mut tx, &client.client_id)
        .await
        .unwrap()
        .is_none());
    assert!(clients::list(&mut tx).await.unwrap().is_empty());
    assert!(matches!(
        clients::rotate_secret(&mut tx, &client.client_id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        clients::delete(&mut tx, &client.client_id).await,
        Err(StoreError::NotFound)
    ));
    assert!(clients::secret_hash_of(&mut tx, &client.client_id)
        .await
        .unwrap()
        .is_none());
    tx.commit().await.unwrap();

    let mut tx = db.tenant_tx(a).await.unwrap();
    let stored = clients::secret_hash_of(&mut tx, &client.client_id)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(stored, secret, "the secret itself is never stored");
    assert!(secret_matches(&secret, &stored));
    assert_eq!(
        clients::find(&mut tx, &client.client_id)
            .await
            .unwrap()
            .unwrap(),
        client
    );
}

#[tokio::test]
async fn rotating_a_secret_invalidates_the_old_one_and_public_clients_have_none() {
    let db = test_db().await;
    let a = insert_tenant(&db, &unique_slug("clients-rot")).await;
    let mut tx = db.tenant_tx(a).await.unwrap();
    let (client, old) = clients::create(&mut tx, app()).await.unwrap();
    let new = clients::rotate_secret(&mut tx, &client.client_id)
        .await
        .unwrap();
    let stored = clients::secret_hash_of(&mut tx, &client.client_id)
        .await
        .unwrap()
        .unwrap();
    assert!(secret_matches(&new, &stored));
    assert!(!secret_matches(&old.unwrap(), &stored));

    let (public, none) = clients::create(
        &mut tx,
        NewClient {
            public: true,
            ..app()
        },
    )
    .await
    .unwrap();
    assert!(none.is_none());
    assert_eq!(public.auth_method, "none");
    assert!(matches!(
        clients::rotate_secret(&mut tx, &public.client_id).await,
        Err(StoreError::NotFound)
    ));
}

#[tokio::test]
async fn unsafe_redirect_uris_are_refused_and_nothing_is_written() {
    let db = test_db().await;
    let a = insert_tenant(&db, &unique_slug("clients-uri")).await;
    let mut tx = db.tenant_tx(a).await.unwrap();
    for uri in [
        "http://app.example.com/cb",
        "https://app.example.com/cb#frag",
        "not a url",
    ] {
        let bad = NewClient {
            redirect_uris: vec![uri.into()],
            ..app()
        };
        assert!(
            matches!(
                clients::create(&mut tx, bad).await,
                Err(StoreError::Invalid(_))
            ),
            "{uri}"
        );
    }
    assert!(clients::list(&mut tx).await.unwrap().is_empty());
}
