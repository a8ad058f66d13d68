//! The shared key-value store on the real Redis: tenant prefixes, single-use
//! values, and the one-round-trip existence check of revocation marks.

use std::time::Duration;

use gatehouse_core::kv::Kv;
use gatehouse_core::testing::{test_env, unique_redis_prefix};
use gatehouse_core::TenantId;

#[tokio::test]
async fn kv_on_redis_keeps_tenants_apart() {
    let kv = Kv::redis(&test_env().redis_url, &unique_redis_prefix()).unwrap();
    let (a, b) = (TenantId::new_random(), TenantId::new_random());
    let minute = Duration::from_secs(60);
    kv.set(a, "revoked-at:1", b"1", minute).await.unwrap();
    assert_eq!(
        kv.get(a, "revoked-at:1").await.unwrap(),
        Some(b"1".to_vec())
    );
    assert_eq!(kv.get(b, "revoked-at:1").await.unwrap(), None);

    assert!(kv
        .any_exists(a, &["revoked-at:0", "revoked-at:1", "revoked-sid:x"])
        .await
        .unwrap());
    assert!(!kv.any_exists(a, &["revoked-at:0"]).await.unwrap());
    assert!(!kv.any_exists(b, &["revoked-at:1"]).await.unwrap());
    assert!(!kv.any_exists(a, &[]).await.unwrap());

    assert!(kv.set_nx(a, "once", b"x", minute).await.unwrap());
    assert!(!kv.set_nx(a, "once", b"y", minute).await.unwrap());
    assert!(kv.set_nx(b, "once", b"z", minute).await.unwrap());
    assert_eq!(kv.take(a, "once").await.unwrap(), Some(b"x".to_vec()));
    assert_eq!(kv.take(a, "once").await.unwrap(), None);
    kv.del(b, "once").await.unwrap();
    assert_eq!(kv.get(b, "once").await.unwrap(), None);
}

#[tokio::test]
async fn redis_counters_count_atomically_and_expire_with_their_first_ttl() {
    let kv = Kv::redis(&test_env().redis_url, &unique_redis_prefix()).unwrap();
    let (a, b) = (TenantId::new_random(), TenantId::new_random());
    let short = Duration::from_millis(300);

    // Concurrent increments lose nothing.
    let incs = (0..20).map(|_| kv.incr_with_ttl(a, "fails", short));
    let mut seen: Vec<u64> = futures_util::future::join_all(incs)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, (1..=20).collect::<Vec<u64>>());
    assert_eq!(kv.incr_with_ttl(b, "fails", short).await.unwrap(), 1);

    // Later increments keep the first expiry; absent names have none.
    assert_eq!(
        kv.incr_with_ttl(a, "fails", Duration::from_secs(600))
            .await
            .unwrap(),
        21
    );
    let ttls = kv.ttls(a, &["fails", "absent"]).await.unwrap();
    assert!(ttls[0].is_some_and(|t| t <= short), "{ttls:?}");
    assert_eq!(ttls[1], None);
    assert!(kv.ttls(a, &[]).await.unwrap().is_empty());

    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(kv.ttls(a, &["fails"]).await.unwrap(), vec![None]);
    assert_eq!(kv.incr_with_ttl(a, "fails", short).await.unwrap(), 1);
}

#[tokio::test]
async fn kv_sets_on_redis_index_members_per_tenant() {
    let kv = Kv::redis(&test_env().redis_url, &unique_redis_prefix()).unwrap();
    let (a, b) = (TenantId::new_random(), TenantId::new_random());
    let minute = Duration::from_secs(60);
    kv.set_add(a, "user-sessions:u", "s2", minute)
        .await
        .unwrap();
    kv.set_add(a, "user-sessions:u", "s1", minute)
        .await
        .unwrap();
    kv.set_add(a, "user-sessions:u", "s1", minute)
        .await
        .unwrap();
    assert_eq!(
        kv.set_members(a, "user-sessions:u").await.unwrap(),
        ["s1", "s2"]
    );
    assert!(kv
        .set_members(b, "user-sessions:u")
        .await
        .unwrap()
        .is_empty());
    kv.set_remove(a, "user-sessions:u", "s2").await.unwrap();
    assert_eq!(kv.set_members(a, "user-sessions:u").await.unwrap(), ["s1"]);
    let mem = Kv::memory("m");
    mem.set_add(a, "x", "one", minute).await.unwrap();
    mem.set_add(a, "x", "two", minute).await.unwrap();
    mem.set_remove(a, "x", "one").await.unwrap();
    assert_eq!(mem.set_members(a, "x").await.unwrap(), ["two"]);
    assert!(mem.set_members(b, "x").await.unwrap().is_empty());
}
