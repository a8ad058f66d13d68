//! Brute-force throttling on the real Redis: two nodes sharing one store see
//! each other's counts and locks; two tenants never do.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use gatehouse_core::kv::Kv;
use gatehouse_core::testing::{test_env, unique_redis_prefix};
use gatehouse_core::throttle::{Action, Key, KeyKind, Policy, Throttle, Verdict};
use gatehouse_core::TenantId;

/// 2 free attempts, then 500 ms, 1 s; locked for 800 ms after 4.
fn quick() -> Policy {
    Policy {
        free_attempts: 2,
        lock_after: 4,
        window: Duration::from_secs(10),
        lock_for: Duration::from_millis(800),
        first_delay: Duration::from_millis(500),
        max_delay: Duration::from_millis(1000),
    }
}

fn node(prefix: &str) -> Throttle {
    let kv = Kv::redis(&test_env().redis_url, prefix).unwrap();
    Throttle::new(kv)
        .with_policy(Action::Login, KeyKind::Account, quick())
        .with_policy(Action::Login, KeyKind::Ip, quick())
}

#[tokio::test]
async fn nodes_sharing_redis_count_failures_together_and_tenants_apart() {
    let prefix = unique_redis_prefix();
    let (a, b) = (node(&prefix), node(&prefix));
    let (tenant, other) = (TenantId::new_random(), TenantId::new_random());
    let ip = Key::ip(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9)));
    let keys = [Key::account("Alice"), ip.clone()];

    // One failure on each node: the second is the last free one.
    assert_eq!(
        a.failed(tenant, Action::Login, &keys).await.unwrap(),
        Verdict::Allowed
    );
    let v = b.failed(tenant, Action::Login, &keys).await.unwrap();
    assert!(matches!(v, Verdict::Wait { locked: false, .. }), "{v:?}");
    // Node A sees the delay node B imposed, for the name however typed.
    let v = a
        .check(tenant, Action::Login, &[Key::account(" alice ")])
        .await
        .unwrap();
    assert!(
        matches!(v, Verdict::Wait { retry_after, locked: false } if retry_after <= Duration::from_millis(500)),
        "{v:?}"
    );
    // The other tenant, same name and address: untouched.
    assert_eq!(
        b.check(other, Action::Login, &keys).await.unwrap(),
        Verdict::Allowed
    );

    // Two more failures, one per node: locked everywhere.
    a.failed(tenant, Action::Login, &keys).await.unwrap();
    let v = b.failed(tenant, Action::Login, &keys).await.unwrap();
    assert!(matches!(v, Verdict::Wait { locked: true, .. }), "{v:?}");
    let v = a.check(tenant, Action::Login, &keys).await.unwrap();
    assert!(matches!(v, Verdict::Wait { locked: true, .. }), "{v:?}");
    assert_eq!(v.retry_after_secs(), Some(1));

    // Success on node B clears the account for node A; the IP stays.
    b.succeeded(tenant, Action::Login, &keys).await.unwrap();
    assert_eq!(
        a.check(tenant, Action::Login, &[Key::account("alice")])
            .await
            .unwrap(),
        Verdict::Allowed
    );
    let v = a
        .check(tenant, Action::Login, std::slice::from_ref(&ip))
        .await
        .unwrap();
    assert!(matches!(v, Verdict::Wait { locked: true, .. }), "{v:?}");

    // Locks and delays end by themselves.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        b.check(tenant, Action::Login, &keys).await.unwrap(),
        Verdict::Allowed
    );
}

#[tokio::test]
async fn concurrent_failures_on_two_nodes_are_all_counted() {
    let prefix = unique_redis_prefix();
    let (a, b) = (node(&prefix), node(&prefix));
    let tenant = TenantId::new_random();
    let keys = [Key::account("bob")];
    let (ra, rb) = tokio::join!(
        a.failed(tenant, Action::Login, &keys),
        b.failed(tenant, Action::Login, &keys)
    );
    ra.unwrap();
    rb.unwrap();
    let (ra, rb) = tokio::join!(
        a.failed(tenant, Action::Login, &keys),
        b.failed(tenant, Action::Login, &keys)
    );
    let verdicts = [ra.unwrap(), rb.unwrap()];
    assert!(
        verdicts
            .iter()
            .any(|v| matches!(v, Verdict::Wait { locked: true, .. })),
        "the fourth failure locks, whichever node counted it: {verdicts:?}"
    );
}
