//! What strangers can make the hub queue: besides the rate limit per client
//! address, verifications (and denials) waiting in the outbox are bounded
//! per topic and overall, whatever addresses the requests come from; beyond
//! the bound the hub answers 503 with `Retry-After`.

use std::net::{IpAddr, Ipv4Addr};

use crate::common::hub::{Hub, PUSH_CONFIG, TOPIC, store_with_push};
use herald::push::state::DeliveryKind;

const OTHER_TOPIC: &str = "https://example.vn/en/rss.xml";

/// A callback nobody listens on: its verification fails and waits for a
/// retry the test clock never reaches, so it stays pending.
fn dead_callback(name: &str) -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    format!("http://127.0.0.1:{port}/cb/{name}")
}

fn client(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, n))
}

/// Subscribes `callback` to `topic` from client `n`: status, Retry-After.
async fn subscribe(hub: &Hub, n: u8, topic: &str, callback: &str) -> (u16, Option<String>) {
    let form = [("hub.mode", "subscribe"), ("hub.topic", topic), ("hub.callback", callback)];
    let (status, retry_after, body) = hub.post_from(client(n), &form).await;
    if status == 503 {
        assert!(body.contains("waiting for verification"), "{body}");
    }
    (status, retry_after)
}

/// Waiting verifications and denials, by topic.
async fn pending(hub: &Hub) -> Vec<String> {
    let store = std::sync::Arc::clone(hub.store());
    let jobs = tokio::task::spawn_blocking(move || store.deliveries(false, 10_000).unwrap()).await.unwrap();
    jobs.into_iter().filter(|j| matches!(j.kind, DeliveryKind::Verify | DeliveryKind::Deny)).map(|j| j.topic).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_verifications_are_bounded_whatever_the_address() {
    let mut store = store_with_push();
    store.extra_config = format!(
        "{PUSH_CONFIG}subscribe_rate_per_minute = 4\nmax_pending_verifications = 10\nmax_pending_verifications_per_topic = 6\n"
    );
    let hub = Hub::start(&store).await;
    let callbacks: Vec<String> = (0..24).map(|i| dead_callback(&format!("c{i}"))).collect();

    // Two clients, each within its own rate, fill the topic's share.
    let mut statuses = Vec::new();
    for (i, callback) in callbacks[..8].iter().enumerate() {
        statuses.push(subscribe(&hub, 2 + (i / 4) as u8, TOPIC, callback).await);
    }
    let accepted = statuses.iter().filter(|(s, _)| *s == 202).count();
    assert_eq!(accepted, 6, "{statuses:?}");
    assert_eq!(statuses[6..], [(503, Some("60".to_string())), (503, Some("60".to_string()))]);

    // Renewing a waiting subscription adds nothing, so it is taken.
    assert_eq!(subscribe(&hub, 4, TOPIC, &callbacks[0]).await.0, 202);

    // Other topics (and denials of topics herald does not serve) fill the
    // rest of the hub's share, from yet other addresses.
    let mut statuses = Vec::new();
    for (i, callback) in callbacks[8..14].iter().enumerate() {
        let topic = if i % 2 == 0 { OTHER_TOPIC } else { "https://elsewhere.example/feed.xml" };
        statuses.push(subscribe(&hub, 5 + (i / 3) as u8, topic, callback).await.0);
    }
    assert_eq!(statuses, [202, 202, 202, 202, 503, 503]);

    let waiting = pending(&hub).await;
    assert_eq!(waiting.len(), 10, "{waiting:?}");
    assert_eq!(waiting.iter().filter(|t| *t == TOPIC).count(), 6, "{waiting:?}");
    hub.stop().await;
}
