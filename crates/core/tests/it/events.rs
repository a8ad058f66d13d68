//! The event bus on the real Redis: delivery between processes' buses, and
//! an evict-everything after a lost subscription comes back.

use std::time::Duration;

use gatehouse_core::events::{Change, Event, EventBus};
use gatehouse_core::testing::{test_env, unique_redis_prefix};
use gatehouse_core::TenantId;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast::Receiver;
use tokio::task::JoinHandle;

fn changed() -> Event {
    Event::TenantChanged {
        tenant_id: TenantId::new_random(),
        slug: "acme".into(),
        change: Change::Status,
    }
}

async fn next(rx: &mut Receiver<Event>) -> Event {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("no event within 5 s")
        .unwrap()
}

async fn wait_subscribed(url: &str, prefix: &str, n: i64) {
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    for _ in 0..200 {
        let (_, count): (String, i64) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(format!("{prefix}:events"))
            .query_async::<Vec<(String, i64)>>(&mut conn)
            .await
            .unwrap()
            .remove(0);
        if count >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("subscribers never reached {n}");
}

#[tokio::test]
async fn a_local_bus_delivers_to_its_own_subscribers() {
    let bus = EventBus::local();
    assert!(!bus.is_distributed());
    let mut rx = bus.subscribe();
    let ev = changed();
    bus.publish(&ev).await.unwrap();
    assert_eq!(next(&mut rx).await, ev);
}

#[tokio::test]
async fn an_event_published_by_one_process_reaches_every_node() {
    let env = test_env();
    let prefix = unique_redis_prefix();
    let node_a = EventBus::redis(&env.redis_url, &prefix).unwrap();
    let node_b = EventBus::redis(&env.redis_url, &prefix).unwrap();
    let cli = EventBus::redis(&env.redis_url, &prefix).unwrap();
    let (mut rx_a, mut rx_b) = (node_a.subscribe(), node_b.subscribe());
    let _la = node_a.spawn_listener().unwrap();
    let _lb = node_b.spawn_listener().unwrap();
    wait_subscribed(&env.redis_url, &prefix, 2).await;

    let ev = changed();
    cli.publish(&ev).await.unwrap();
    assert_eq!(next(&mut rx_a).await, ev);
    assert_eq!(next(&mut rx_b).await, ev);

    // Another prefix (another deployment sharing the Redis) hears nothing.
    let other = EventBus::redis(&env.redis_url, &unique_redis_prefix()).unwrap();
    other.publish(&changed()).await.unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(200), rx_a.recv())
            .await
            .is_err()
    );
}

/// A TCP proxy in front of Redis whose connections the test can cut.
struct Proxy {
    port: u16,
    conns: std::sync::Arc<std::sync::Mutex<Vec<JoinHandle<()>>>>,
    _accept: JoinHandle<()>,
}

impl Proxy {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let conns = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let registry = conns.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let handle = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                registry.lock().unwrap().push(handle);
            }
        });
        Self {
            port,
            conns,
            _accept: accept,
        }
    }

    fn cut_all(&self) {
        for h in self.conns.lock().unwrap().drain(..) {
            h.abort();
        }
    }
}

#[tokio::test]
async fn a_node_whose_subscription_drops_evicts_everything_when_it_reconnects() {
    let env = test_env();
    let upstream = env
        .redis_url
        .trim_start_matches("redis://")
        .trim_end_matches('/')
        .to_owned();
    let proxy = Proxy::start(upstream).await;
    let prefix = unique_redis_prefix();
    let node = EventBus::redis(&format!("redis://127.0.0.1:{}", proxy.port), &prefix).unwrap();
    let mut rx = node.subscribe();
    let _l = node.spawn_listener().unwrap();
    wait_subscribed(&env.redis_url, &prefix, 1).await;

    proxy.cut_all();
    assert_eq!(next(&mut rx).await, Event::EvictAll);

    // And it is subscribed again: events flow.
    wait_subscribed(&env.redis_url, &prefix, 1).await;
    let ev = changed();
    EventBus::redis(&env.redis_url, &prefix)
        .unwrap()
        .publish(&ev)
        .await
        .unwrap();
    assert_eq!(next(&mut rx).await, ev);
}
