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
