//! Signing keys: created per tenant, sealed per tenant, rotated through
//! next → active → retired → removed, and never usable across tenants.

use std::sync::Arc;
use std::time::Duration;

use gatehouse_core::config::MasterKey;
use gatehouse_core::events::EventBus;
use gatehouse_core::secretbox::{Keyring, SealError};
use gatehouse_core::testing::{test_db, unique_slug, TEST_MASTER_KEY};
use gatehouse_core::Db;
use gatehouse_oidc::keys::{self, Alg, KeyError, KeyState};
use gatehouse_oidc::provider::TenantProvider;
use gatehouse_oidc::rotation::Rotator;
use gatehouse_tenancy::settings::EffectiveSettings;
use gatehouse_tenancy::{IssuerPolicy, ProviderFactory, TenantRecord, Tenants};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};

fn keyring() -> Keyring {
    Keyring::new(
        Some(MasterKey::parse("test", TEST_MASTER_KEY).unwrap()),
        vec![],
    )
}

fn factory(db: &Db) -> ProviderFactory {
    ProviderFactory::new(
        db.clone(),
        EffectiveSettings::platform(&serde_json::Map::new()),
        IssuerPolicy {
            public_url: "http://127.0.0.1:8080".into(),
            subdomain_base: None,
        },
    )
}

async fn tenant(db: &Db, prefix: &str) -> TenantRecord {
    Tenants::new(db.clone(), EventBus::local())
        .create(&unique_slug(prefix), "Keys")
        .await
        .unwrap()
}

async fn provider(db: &Db, t: &TenantRecord, ring: &Keyring) -> TenantProvider {
    let base = factory(db).build(Arc::new(t.clone())).await.unwrap();
    TenantProvider::build(base, db, ring, Some(Duration::from_secs(90 * 86_400)))
        .await
        .unwrap()
}

fn kids(jwks: &Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

async fn states(db: &Db, t: &TenantRecord) -> Vec<(String, String, KeyState)> {
    let mut tx = db.tenant_tx(t.id).await.unwrap();
    keys::list(&mut tx)
        .await
        .unwrap()
        .into_iter()
        .map(|k| (k.kid, k.alg, k.state))
        .collect()
}

fn verify(token: &str, jwks: &Value, alg: Algorithm) -> bool {
    let set: JwkSet = serde_json::from_value(jwks.clone()).unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    let Some(jwk) = set.find(header.kid.as_deref().unwrap()) else {
        return false;
    };
    let mut v = Validation::new(alg);
    v.validate_aud = false;
    decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &v).is_ok()
}

#[tokio::test]
async fn a_tenant_gets_an_active_and_a_next_key_per_algorithm_and_signs_with_them() {
    let db = test_db().await;
    let t = tenant(&db, "keys-new").await;
    let p = provider(&db, &t, &keyring()).await;
    assert_eq!(p.keys.active.len(), 3);
    assert_eq!(
        kids(&p.keys.jwks).len(),
        6,
        "active and next keys are published"
    );
    let listed = states(&db, &t).await;
    for alg in ["RS256", "ES256", "EdDSA"] {
        for state in [KeyState::Active, KeyState::Next] {
            assert_eq!(
                listed
                    .iter()
                    .filter(|(_, a, s)| a == alg && *s == state)
                    .count(),
                1,
                "{alg} {state:?}"
            );
        }
    }
    for (alg, jwt) in [
        (Alg::RS256, Algorithm::RS256),
        (Alg::ES256, Algorithm::ES256),
        (Alg::EdDSA, Algorithm::EdDSA),
    ] {
        let key = p.keys.signing(alg).unwrap();
        let token =
            gatehouse_oidc::jws::sign(key, None, &json!({"sub": "x", "exp": 4_000_000_000u64}))
                .unwrap();
        assert!(verify(&token, &p.keys.jwks, jwt), "{alg:?}");
    }
    // The RSA key is at least 2048 bits.
    let rsa = p.keys.jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kty"] == "RSA")
        .unwrap();
    assert!(rsa["n"].as_str().unwrap().len() >= 342);
    // Building again loads, it does not create more.
    provider(&db, &t, &keyring()).await;
    assert_eq!(states(&db, &t).await.len(), 6);
}

#[tokio::test]
async fn tenant_b_cannot_see_use_or_open_tenant_a_keys() {
    let db = test_db().await;
    let ring = keyring();
    let a = tenant(&db, "keys-a").await;
    let b = tenant(&db, "keys-b").await;
    let pa = provider(&db, &a, &ring).await;
    let pb = provider(&db, &b, &ring).await;
    assert!(kids(&pa.keys.jwks)
        .iter()
        .all(|k| !kids(&pb.keys.jwks).contains(k)));

    // A token of A does not verify under B's JWKS.
    let token = gatehouse_oidc::jws::sign(
        pa.keys.signing(Alg::ES256).unwrap(),
        None,
        &json!({"sub": "x"}),
    )
    .unwrap();
    assert!(!verify(&token, &pb.keys.jwks, Algorithm::ES256));

    // Inside B, A's key rows are invisible.
    let mut tx = db.tenant_tx(b.id).await.unwrap();
    let visible: Vec<String> = sqlx::query_scalar("select kid from signing_keys")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    assert!(visible.iter().all(|k| !kids(&pa.keys.jwks).contains(k)));
    tx.commit().await.unwrap();

    // A's sealed private key copied into B's table (same kid) does not open there.
    let mut tx = db.tenant_tx(a.id).await.unwrap();
    let (kid, master, blob): (String, String, Vec<u8>) = sqlx::query_as(
        "select kid, master_key_id, sealed_private_key from signing_keys where alg = 'ES256' and state = 'active'",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    drop(tx);
    let mut tx = db.tenant_tx(b.id).await.unwrap();
    sqlx::query("update signing_keys set state = 'retired', remove_after = now() + interval '1 hour' where alg = 'ES256' and state = 'active'")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(
        "insert into signing_keys (tenant_id, kid, alg, state, public_jwk, master_key_id, sealed_private_key)
         values ($1, $2, 'ES256', 'active', '{}', $3, $4)",
    )
    .bind(b.id.as_uuid())
    .bind(&kid)
    .bind(&master)
    .bind(&blob)
    .execute(&mut *tx)
    .await
    .unwrap();
    let err = keys::load(&mut tx, &ring).await.unwrap_err();
    assert!(matches!(err, KeyError::Seal(SealError::Open)), "{err:?}");
}

#[tokio::test]
async fn rotation_publishes_the_next_key_before_it_signs_and_keeps_the_retired_one_until_removal() {
    let db = test_db().await;
    let ring = keyring();
    let t = tenant(&db, "keys-rot").await;
    let before = provider(&db, &t, &ring).await;
    let old_active = before.keys.signing(Alg::ES256).unwrap().kid.clone();
    let next = states(&db, &t)
        .await
        .into_iter()
        .find(|(_, a, s)| a == "ES256" && *s == KeyState::Next)
        .unwrap()
        .0;
    assert!(
        kids(&before.keys.jwks).contains(&next),
        "next is published before it signs"
    );

    let mut tx = db.tenant_tx(t.id).await.unwrap();
    keys::rotate(&mut tx, &ring, Duration::from_secs(600))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let after = provider(&db, &t, &ring).await;
    assert_eq!(
        after.keys.signing(Alg::ES256).unwrap().kid,
        next,
        "the published next key now signs"
    );
    let published = kids(&after.keys.jwks);
    assert!(
        published.contains(&old_active),
        "the retired key stays published"
    );
    assert_eq!(published.len(), 9);

    // Once every token it signed has expired, the retired key is removed.
    let mut tx = db.tenant_tx(t.id).await.unwrap();
    sqlx::query("update signing_keys set remove_after = now() - interval '1 second' where state = 'retired'")
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(keys::remove_expired(&mut tx).await.unwrap(), 3);
    tx.commit().await.unwrap();
    let later = provider(&db, &t, &ring).await;
    assert!(!kids(&later.keys.jwks).contains(&old_active));
}

#[tokio::test]
async fn keys_sealed_under_a_previous_master_key_still_load_after_master_key_rotation() {
    let db = test_db().await;
    let t = tenant(&db, "keys-mk").await;
    let first = provider(&db, &t, &keyring()).await;
    let new_key =
        MasterKey::parse("second", "FeHzISEv2ceH5vGeXXMxncxomeJKlgc9ZvXRRtL3GU0=").unwrap();
    let rotated = Keyring::new(
        Some(new_key.clone()),
        vec![MasterKey::parse("test", TEST_MASTER_KEY).unwrap()],
    );
    let again = provider(&db, &t, &rotated).await;
    assert_eq!(kids(&first.keys.jwks), kids(&again.keys.jwks));
    // Without the old master key, they do not open.
    let forgotten = Keyring::new(Some(new_key), vec![]);
    let base = factory(&db).build(Arc::new(t.clone())).await.unwrap();
    assert!(TenantProvider::build(base, &db, &forgotten, None)
        .await
        .is_err());

    // Re-sealed under the new master key, they open without the old one.
    let mut tx = db.tenant_tx(t.id).await.unwrap();
    assert_eq!(keys::reseal(&mut tx, &rotated).await.unwrap(), 6);
    assert_eq!(
        keys::reseal(&mut tx, &rotated).await.unwrap(),
        0,
        "done once"
    );
    tx.commit().await.unwrap();
    let base = factory(&db).build(Arc::new(t.clone())).await.unwrap();
    let resealed = TenantProvider::build(base, &db, &forgotten, None)
        .await
        .unwrap();
    assert_eq!(kids(&first.keys.jwks), kids(&resealed.keys.jwks));
    // Without a current master key nothing is re-sealed.
    let mut tx = db.tenant_tx(t.id).await.unwrap();
    assert!(keys::reseal(&mut tx, &Keyring::new(None, vec![]))
        .await
        .is_err());
}

#[tokio::test]
async fn due_tenants_are_rotated_by_the_schedule_and_rescheduled() {
    let db = test_db().await;
    let ring = keyring();
    let t = tenant(&db, "keys-sched").await;
    provider(&db, &t, &ring).await;
    let rotator = Rotator {
        db: db.clone(),
        keyring: ring.clone(),
        bus: EventBus::local(),
        factory: factory(&db),
        period: Some(Duration::from_secs(90 * 86_400)),
    };
    let active = |list: Vec<(String, String, KeyState)>| {
        list.into_iter()
            .filter(|(_, _, s)| *s == KeyState::Active)
            .map(|(k, _, _)| k)
            .collect::<Vec<_>>()
    };
    let before = active(states(&db, &t).await);
    sqlx::query("update key_rotation_schedule set rotate_at = now() - interval '1 minute' where tenant_id = $1")
        .bind(t.id.as_uuid())
        .execute(db.registry())
        .await
        .unwrap();
    assert!(rotator.run_due(1000).await.unwrap() >= 1);
    let after = active(states(&db, &t).await);
    assert!(
        before.iter().all(|k| !after.contains(k)),
        "every algorithm rotated"
    );
    let next_due: bool = sqlx::query_scalar(
        "select rotate_at > now() + interval '89 days' from key_rotation_schedule where tenant_id = $1",
    )
    .bind(t.id.as_uuid())
    .fetch_one(db.registry())
    .await
    .unwrap();
    assert!(next_due);
}

#[tokio::test]
async fn tenants_keyed_while_the_schedule_was_off_join_it_when_it_is_on() {
    let db = test_db().await;
    let t = tenant(&db, "keys-unsched").await;
    let scheduled = |db: Db| async move {
        sqlx::query_scalar::<_, bool>(
            "select rotate_at > now() + interval '29 days' from key_rotation_schedule where tenant_id = $1",
        )
        .bind(t.id.as_uuid())
        .fetch_optional(db.registry())
        .await
        .unwrap()
    };
    // Keys made with the schedule off: no scheduled rotation.
    let base = factory(&db).build(Arc::new(t.clone())).await.unwrap();
    TenantProvider::build(base, &db, &keyring(), None)
        .await
        .unwrap();
    assert_eq!(scheduled(db.clone()).await, None);
    let mut rotator = Rotator {
        db: db.clone(),
        keyring: keyring(),
        bus: EventBus::local(),
        factory: factory(&db),
        period: None,
    };
    assert_eq!(
        rotator.schedule_unscheduled().await.unwrap(),
        0,
        "still off"
    );
    assert_eq!(scheduled(db.clone()).await, None);
    rotator.period = Some(Duration::from_secs(30 * 86_400));
    assert!(rotator.schedule_unscheduled().await.unwrap() >= 1);
    assert_eq!(
        scheduled(db.clone()).await,
        Some(true),
        "one period from now"
    );
}
