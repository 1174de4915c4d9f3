//! The WebSub hub (W3C WebSub): subscription requests, verification of
//! intent, denial, content distribution with signatures, leases, retries,
//! 410, re-subscription, SSRF refusal, and what a restart announces.
//! Everything runs in-process on loopback, with a test clock.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::common::hub::{Hub, PATIENCE, PUSH_CONFIG, TOPIC, eventually, store_with_push};
use crate::common::subscriber::{Subscriber, Verify};
use crate::common::*;
use herald::clock::Clock;
use hmac::{KeyInit, Mac};

/// Publishes a change to the Vietnamese feed: a new article.
fn publish(store: &TempStore, n: u32) {
    store.article(
        &format!("thoi-su/moi-{n}.vi.md"),
        &format!("Tin mới {n}"),
        &format!("2026-11-2{}T08:00:00+07:00", n % 6),
    );
}

/// With `signature_algorithm` sha384 or sha512, deliveries to subscribers
/// with a secret carry `X-Hub-Signature: <algorithm>=<hex HMAC>`, checked
/// here with an independent HMAC.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sha384_and_sha512_signatures() {
    let secret = "a secret of thirty-two bytes....";
    for algorithm in ["sha384", "sha512"] {
        let mut store = store_with_push();
        store.extra_config = format!("{PUSH_CONFIG}signature_algorithm = \"{algorithm}\"\n");
        let hub = Hub::start(&store).await;
        let subscriber = Subscriber::start().await;
        let callback = subscriber.callback("s");
        assert_eq!(hub.subscribe(&callback, &[("hub.secret", secret)]).await.0, 202);
        hub.wait_subscribed(&callback).await;
        publish(&store, 1);
        eventually("the delivery", || !subscriber.deliveries("s").is_empty()).await;
        let delivery = &subscriber.deliveries("s")[0];
        let mac = match algorithm {
            "sha384" => {
                let mut mac = hmac::Hmac::<sha2::Sha384>::new_from_slice(secret.as_bytes()).unwrap();
                mac.update(&delivery.body);
                hex::encode(mac.finalize().into_bytes())
            }
            _ => {
                let mut mac = hmac::Hmac::<sha2::Sha512>::new_from_slice(secret.as_bytes()).unwrap();
                mac.update(&delivery.body);
                hex::encode(mac.finalize().into_bytes())
            }
        };
        assert_eq!(delivery.headers["x-hub-signature"], format!("{algorithm}={mac}"));
        // Content deliveries name herald as the hub (webhooks name the site).
        assert!(delivery.headers["user-agent"].ends_with("(WebSub hub)"), "{:?}", delivery.headers);
        subscriber.stop().await;
        hub.stop().await;
    }
}

/// `external_hubs` are pinged (`hub.mode=publish` with the topic) when a
/// feed's bytes change, never when they do not (a rebuild of an unchanged
/// store), and a ping the hub refuses is retried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_hubs_are_pinged_when_a_feed_changes() {
    let receiver = Subscriber::start().await;
    receiver.set_statuses("hub", &[503]);
    let mut store = store_with_push();
    store.extra_config = format!("{PUSH_CONFIG}external_hubs = [\"{}\"]\n", receiver.callback("hub"));
    let hub = Hub::start(&store).await;
    let link = hub.client.get(format!("{}/vi/rss.xml", hub.base)).send().await.unwrap();
    assert!(link.headers()["link"].to_str().unwrap().contains(&format!("<{}>; rel=\"hub\"", receiver.callback("hub"))));

    // A rebuild of the unchanged store queues nothing.
    let mut steps = hub.daemon.steps();
    let before = *steps.borrow_and_update();
    hub.daemon.rebuild();
    tokio::time::timeout(PATIENCE, steps.wait_for(|n| *n > before)).await.unwrap().unwrap();
    assert!(receiver.attempts("hub").is_empty());
    let store_handle = Arc::clone(hub.store());
    let jobs = tokio::task::spawn_blocking(move || store_handle.deliveries(false, 100).unwrap()).await.unwrap();
    assert!(jobs.is_empty(), "{jobs:?}");

    publish(&store, 1);
    let form = |body: &[u8]| -> HashMap<String, String> { url::form_urlencoded::parse(body).into_owned().collect() };
    // One ping per changed feed; the first is refused and waits for its retry.
    eventually("the refused ping", || receiver.attempts("hub").iter().any(|(_, status)| *status == 503)).await;
    let store_handle = Arc::clone(hub.store());
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let s = Arc::clone(&store_handle);
        let jobs = tokio::task::spawn_blocking(move || s.deliveries(false, 100).unwrap()).await.unwrap();
        if jobs.len() == 1 && jobs[0].attempts == 1 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the other pings did not go out: {jobs:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let refused = form(&receiver.attempts("hub").iter().find(|(_, status)| *status == 503).unwrap().0.body);
    hub.clock.set(now() + jiff::SignedDuration::from_secs(13));
    eventually("the refused ping retried", || {
        receiver.deliveries("hub").iter().any(|ping| form(&ping.body)["hub.url"] == refused["hub.url"])
    })
    .await;
    let pinged: Vec<HashMap<String, String>> = receiver.deliveries("hub").iter().map(|p| form(&p.body)).collect();
    let mut urls: Vec<&str> = pinged.iter().map(|p| p["hub.url"].as_str()).collect();
    urls.sort_unstable();
    let count = urls.len();
    urls.dedup();
    assert_eq!(urls.len(), count, "a feed was pinged twice: {urls:?}");
    assert!(urls.contains(&TOPIC) && urls.contains(&"https://example.vn/vi/thoi-su/rss.xml"), "{urls:?}");
    assert!(!urls.iter().any(|u| u.starts_with("https://example.vn/en/")), "an unchanged feed was pinged: {urls:?}");
    for ping in &pinged {
        assert_eq!(ping["hub.mode"], "publish");
        assert_eq!(ping["hub.topic"], ping["hub.url"]);
    }
    receiver.stop().await;
    hub.stop().await;
}

/// Subscribe, verify, deliver: the verification GET carries mode, topic, a
/// challenge and the lease; the delivery carries the topic's bytes, its
/// Content-Type and Link headers, and no signature without a secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_verify_deliver() {
    let store = store_with_push();
    let hub = Hub::start(&store).await;
    let subscriber = Subscriber::start().await;
    let callback = subscriber.callback("a");
    assert_eq!(hub.subscribe(&callback, &[("hub.lease_seconds", "3600")]).await.0, 202);
    hub.wait_subscribed(&callback).await;
    let get = &subscriber.gets("a")[0];
    assert_eq!(get.query["hub.mode"], "subscribe");
    assert_eq!(get.query["hub.topic"], TOPIC);
    assert_eq!(get.query["hub.lease_seconds"], "3600");
    assert!(get.query["hub.challenge"].len() >= 16);

    publish(&store, 1);
    eventually("the delivery", || !subscriber.deliveries("a").is_empty()).await;
    let delivery = &subscriber.deliveries("a")[0];
    let body = String::from_utf8(delivery.body.to_vec()).unwrap();
    assert!(body.contains("Tin mới 1"), "{body}");
    assert_eq!(delivery.body, hub.topic_body().await);
    assert_eq!(delivery.headers["content-type"], "application/rss+xml; charset=utf-8");
    let link = &delivery.headers["link"];
    assert!(link.contains(&format!("<{}/websub>; rel=\"hub\"", "https://example.vn")), "{link}");
    assert!(link.contains(&format!("<{TOPIC}>; rel=\"self\"")), "{link}");
    assert!(!delivery.headers.contains_key("x-hub-signature"));
    // The feed advertises the hub, in the document and in Link.
    let response = hub.client.get(format!("{}/vi/atom.xml", hub.base)).send().await.unwrap();
    assert!(response.headers()["link"].to_str().unwrap().contains("rel=\"hub\""));
    assert!(response.text().await.unwrap().contains("<link href=\"https://example.vn/websub\" rel=\"hub\"/>"));
    subscriber.stop().await;
    hub.stop().await;
}

/// With a secret, X-Hub-Signature is the HMAC-SHA256 of the body, checked
/// here with an independent HMAC.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_deliveries() {
    let store = store_with_push();
    let hub = Hub::start(&store).await;
    let subscriber = Subscriber::start().await;
    let callback = subscriber.callback("s");
    let secret = "a secret of thirty-two bytes....";
    assert_eq!(hub.subscribe(&callback, &[("hub.secret", secret)]).await.0, 202);
    hub.wait_subscribed(&callback).await;
    publish(&store, 1);
    eventually("the delivery", || !subscriber.deliveries("s").is_empty()).await;
    let delivery = &subscriber.deliveries("s")[0];
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(&delivery.body);
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(delivery.headers["x-hub-signature"], expected);
    subscriber.stop().await;
    hub.stop().await;
}

/// A topic herald does not serve is accepted, then denied with a GET
/// hub.mode=denied and a reason; no subscription is made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_topic_is_denied() {
    let store = store_with_push();
    let hub = Hub::start(&store).await;
    let subscriber = Subscriber::start().await;
    let callback = subscriber.callback("d");
    let (status, _) = hub
        .post(&[
            ("hub.mode", "subscribe"),
            ("hub.topic", "https://elsewhere.example/feed"),
            ("hub.callback", &callback),
        ])
        .await;
    assert_eq!(status, 202);
    eventually("the denial", || !subscriber.gets("d").is_empty()).await;
    let denial = &subscriber.gets("d")[0];
    assert_eq!(denial.query["hub.mode"], "denied");
    assert_eq!(denial.query["hub.topic"], "https://elsewhere.example/feed");
    assert!(!denial.query["hub.reason"].is_empty());
    assert!(hub.subscriptions().await.is_empty());
    subscriber.stop().await;
    hub.stop().await;
}

/// Malformed requests get 4xx with a plain reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_are_refused() {
    let store = store_with_push();
    let hub = Hub::start(&store).await;
    let long_secret = "x".repeat(250);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("hub.mode", "subscribe"), ("hub.topic", TOPIC)], "hub.callback is missing"),
        (vec![("hub.mode", "subscribe"), ("hub.callback", "http://127.0.0.1:9/cb")], "hub.topic is missing"),
        (vec![("hub.topic", TOPIC), ("hub.callback", "http://127.0.0.1:9/cb")], "hub.mode is missing"),
        (
            vec![("hub.mode", "foo"), ("hub.topic", TOPIC), ("hub.callback", "http://127.0.0.1:9/cb")],
            "hub.mode must be",
        ),
        (
            vec![("hub.mode", "subscribe"), ("hub.topic", TOPIC), ("hub.callback", "ftp://127.0.0.1/cb")],
            "http or https",
        ),
        (vec![("hub.mode", "subscribe"), ("hub.topic", TOPIC), ("hub.callback", "not a url")], "not an absolute URL"),
        (
            vec![
                ("hub.mode", "subscribe"),
                ("hub.topic", TOPIC),
                ("hub.callback", "http://127.0.0.1:9/cb"),
                ("hub.secret", &long_secret),
            ],
            "less than 200 bytes",
        ),
    ];
    for (form, reason) in cases {
        let (status, text) = hub.post(&form).await;
        assert_eq!(status, 400, "{form:?}: {text}");
        assert!(text.contains(reason), "{form:?}: {text}");
    }
    let get = hub.client.get(format!("{}/websub", hub.base)).send().await.unwrap();
    assert_eq!(get.status(), 405);
    assert_eq!(get.headers()["allow"], "POST");
    hub.stop().await;
}

/// Subscription requests from `client` (an X-Forwarded-For address) for
/// callback `name`: their statuses.
async fn subscribe_from(hub: &Hub, subscriber: &Subscriber, client: &str, names: &[&str]) -> Vec<u16> {
    let mut statuses = Vec::new();
    for name in names {
        let callback = subscriber.callback(name);
        let form = [("hub.mode", "subscribe"), ("hub.topic", TOPIC), ("hub.callback", callback.as_str())];
        statuses.push(hub.post_forwarded(Some(client), &form).await.0);
    }
    statuses
}

/// Behind a trusted reverse proxy (here: requests from loopback with
/// `X-Forwarded-For`), each client has its own subscription budget.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trusted_proxy_clients_have_their_own_rate_limit() {
    let mut store = store_with_push();
    store.extra_config =
        format!("[server]\ntrusted_proxies = [\"127.0.0.1\", \"::1\"]\n\n{PUSH_CONFIG}subscribe_rate_per_minute = 2\n");
    let hub = Hub::start(&store).await;
    let subscriber = Subscriber::start().await;
    // A client's own X-Forwarded-For entry left of the proxy's is ignored.
    assert_eq!(subscribe_from(&hub, &subscriber, "198.51.100.1", &["a", "b"]).await, [202, 202]);
    assert_eq!(subscribe_from(&hub, &subscriber, "203.0.113.9, 198.51.100.1", &["c"]).await, [429]);
    assert_eq!(subscribe_from(&hub, &subscriber, "198.51.100.2", &["d"]).await, [202]);
    // The proxy's own requests (no header) count for the proxy.
    assert_eq!(hub.subscribe(&subscriber.callback("e"), &[]).await.0, 202);
    hub.wait_subscribed(&subscriber.callback("d")).await;
    subscriber.stop().await;
    hub.stop().await;
}

/// Without trusted proxies, X-Forwarded-For is ignored: a client cannot
/// dodge the limit by naming another address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_is_ignored_without_trusted_proxies() {
    let mut store = store_with_push();
    store.extra_config = format!("{PUSH_CONFIG}subscribe_rate_per_minute = 2\n");
    let hub = Hub::start(&store).await;
    let subscriber = Subscriber::start().await;
    assert_eq!(subscribe_from(&hub, &subscriber, "198.51.100.1", &["a", "b"]).await, [202, 202]);
    let (status, text) = hub
        .post_forwarded(
            Some("198.51.100.2"),
            &[("hub.mode", "subscribe"), ("hub.topic", TOPIC), ("hub.callback", &subscriber.callback("c"))],
        )
        .await;
    assert_eq!(status, 429, "{text}");
    assert!(text.contains("too many subscription requests"), "{text}");
    hub.wait_subscribed(&subscriber.callback("b")).await;
    subscriber.stop().await;
    hub.stop().await;
}

/// Callbacks that answer 404 or a wrong challenge are not subscribed; a
/// verified one is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unconfirmed_intent_is_not_subscribed() {
    let store = store_with_push();
    let hub = Hub::start(&store).await;
    let subscriber = Subscriber::start().await;
    subscriber.set_verify("no", Verify::NotFound);
    subscriber.set_verify("wrong", Verify::WrongChallenge);
    for name in ["no", "wrong", "yes"] {
        assert_eq!(hub.subscribe(&subscriber.callback(name), &[]).await.0, 202);
    }
    hub.wait_subscribed(&subscriber.callback("yes")).await;
    eventually("every verification", || subscriber.gets("no").len() == 1 && subscriber.gets("wrong").len() == 1).await;
    publish(&store, 1);
    eventually("the control delivery", || !subscriber.deliveries("yes").is_empty()).await;
    let callbacks: Vec<String> = hub.subscriptions().await.into_iter().map(|s| s.callback).collect();
    assert_eq!(callbacks, [subscriber.callback("yes")]);
    assert!(subscriber.deliveries("no").is_empty() && subscriber.deliveries("wrong").is_empty());
    subscriber.stop().await;
    hub.stop().await;
}

/// Re-subscribing renews instead of duplicating; unsubscribing (verified)
/// stops deliveries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resubscribe_and_unsubscribe() {
    let store = store_with_push();
    let hub = Hub::start(&store).await;
    let subscriber = Subscriber::start().await;
    let callback = subscriber.callback("r");
    hub.subscribe(&callback, &[("hub.lease_seconds", "100")]).await;
    hub.wait_subscribed(&callback).await;
    hub.subscribe(&callback, &[("hub.lease_seconds", "200")]).await;
    eventually("the second verification", || subscriber.gets("r").len() == 2).await;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let subscriptions = hub.subscriptions().await;
        assert_eq!(subscriptions.len(), 1, "renewal must not duplicate");
        if subscriptions[0].lease_seconds == 200 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    publish(&store, 1);
    eventually("one delivery", || subscriber.deliveries("r").len() == 1).await;

    let (status, _) = hub.post(&[("hub.mode", "unsubscribe"), ("hub.topic", TOPIC), ("hub.callback", &callback)]).await;
    assert_eq!(status, 202);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !hub.subscriptions().await.is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "unsubscribe never took effect");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(subscriber.gets("r").last().unwrap().query["hub.mode"], "unsubscribe");
    // A control subscriber shows the next change is delivered, not to r.
    let control = subscriber.callback("control");
    hub.subscribe(&control, &[]).await;
    hub.wait_subscribed(&control).await;
    publish(&store, 2);
    eventually("the control delivery", || !subscriber.deliveries("control").is_empty()).await;
    assert_eq!(subscriber.deliveries("r").len(), 1);
    subscriber.stop().await;
    hub.stop().await;
}

/// Leases follow the clock: an expired subscription gets nothing and is
/// pruned; the lease granted is clamped to the configured range.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leases_expire() {
    let store = store_with_push();
    let hub = Hub::start(&store).await;
    let subscriber = Subscriber::start().await;
    hub.subscribe(&subscriber.callback("short"), &[("hub.lease_seconds", "1")]).await;
    hub.subscribe(&subscriber.callback("long"), &[("hub.lease_seconds", "100000")]).await;
    hub.wait_subscribed(&subscriber.callback("short")).await;
    hub.wait_subscribed(&subscriber.callback("long")).await;
    assert_eq!(subscriber.gets("short")[0].query["hub.lease_seconds"], "10", "clamped to lease_min_seconds");
    hub.clock.set(now() + jiff::SignedDuration::from_secs(11));
    publish(&store, 1);
    eventually("the long-lease delivery", || !subscriber.deliveries("long").is_empty()).await;
    assert!(subscriber.deliveries("short").is_empty());
    let store_handle = Arc::clone(hub.store());
    let at = hub.clock.now();
    let pruned = tokio::task::spawn_blocking(move || store_handle.prune_expired(at).unwrap()).await.unwrap();
    assert_eq!(pruned, 1);
    assert_eq!(hub.subscriptions().await.len(), 1);
    subscriber.stop().await;
    hub.stop().await;
}

/// A callback answering 500 is retried with backoff (driven by the test
/// clock) until it answers 200; 410 Gone ends the subscription.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_and_gone() {
    let store = store_with_push();
    let hub = Hub::start(&store).await;
    let subscriber = Subscriber::start().await;
    subscriber.set_statuses("flaky", &[500, 500]);
    subscriber.set_statuses("gone", &[410]);
    for name in ["flaky", "gone"] {
        hub.subscribe(&subscriber.callback(name), &[]).await;
        hub.wait_subscribed(&subscriber.callback(name)).await;
    }
    publish(&store, 1);
    // The first failure is recorded as a pending retry.
    let store_handle = Arc::clone(hub.store());
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let jobs = {
            let s = Arc::clone(&store_handle);
            tokio::task::spawn_blocking(move || s.deliveries(false, 10).unwrap()).await.unwrap()
        };
        if jobs.iter().any(|j| j.attempts == 1 && j.last_error.as_deref().is_some_and(|e| e.contains("500"))) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no retry scheduled: {jobs:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(subscriber.deliveries("flaky").is_empty());
    // 10 s ± 20%, then 20 s ± 20%: move the clock past both.
    hub.clock.set(now() + jiff::SignedDuration::from_secs(13));
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let jobs = {
            let s = Arc::clone(&store_handle);
            tokio::task::spawn_blocking(move || s.deliveries(false, 10).unwrap()).await.unwrap()
        };
        if jobs.iter().any(|j| j.attempts == 2) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no second attempt: {jobs:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    hub.clock.set(now() + jiff::SignedDuration::from_secs(13 + 25));
    eventually("the delivery after two 500s", || subscriber.deliveries("flaky").len() == 1).await;
    let callbacks: Vec<String> = hub.subscriptions().await.into_iter().map(|s| s.callback).collect();
    assert_eq!(callbacks, [subscriber.callback("flaky")], "410 ends the subscription");
    subscriber.stop().await;
    hub.stop().await;
}

/// A topic that changes again before its delivery goes out sends only the
/// newest content, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_newest_content_is_sent() {
    let store = store_with_push();
    let hub = Hub::start(&store).await;
    let subscriber = Subscriber::start().await;
    subscriber.set_statuses("slow", &[503]);
    hub.subscribe(&subscriber.callback("slow"), &[]).await;
    hub.wait_subscribed(&subscriber.callback("slow")).await;
    publish(&store, 1);
    let store_handle = Arc::clone(hub.store());
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let jobs = {
            let s = Arc::clone(&store_handle);
            tokio::task::spawn_blocking(move || s.deliveries(false, 10).unwrap()).await.unwrap()
        };
        if jobs.iter().any(|j| j.attempts == 1) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    publish(&store, 2);
    // The second change is recorded on the waiting delivery (its
    // generation moves on) before the retry is due.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let jobs = {
            let s = Arc::clone(&store_handle);
            tokio::task::spawn_blocking(move || s.deliveries(false, 10).unwrap()).await.unwrap()
        };
        if jobs.iter().any(|j| j.generation >= 1) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{jobs:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    hub.clock.set(now() + jiff::SignedDuration::from_secs(60));
    eventually("the delivery", || !subscriber.deliveries("slow").is_empty()).await;
    let delivered = String::from_utf8(subscriber.deliveries("slow")[0].body.to_vec()).unwrap();
    assert!(delivered.contains("Tin mới 2") && delivered.contains("Tin mới 1"), "the newest content: {delivered}");
    // Nothing more is pending.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let jobs = {
            let s = Arc::clone(&store_handle);
            tokio::task::spawn_blocking(move || s.deliveries(false, 10).unwrap()).await.unwrap()
        };
        if jobs.is_empty() {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{jobs:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(subscriber.deliveries("slow").len(), 1);
    subscriber.stop().await;
    hub.stop().await;
}

/// Without allow_private_callbacks, a callback on loopback is refused
/// (SSRF), with the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_callbacks_are_refused() {
    let store = TempStore::new();
    store.article("thoi-su/mot.vi.md", "Một", "2026-11-20T08:00:00+07:00");
    let hub = Hub::start(&store).await;
    for callback in [
        "http://127.0.0.1:9/cb",
        "http://localhost:9/cb",
        "http://[::1]:9/cb",
        "http://10.0.0.1/cb",
        "http://169.254.169.254/latest",
    ] {
        let (status, text) = hub.subscribe(callback, &[]).await;
        assert_eq!(status, 400, "{callback}: {text}");
        assert!(text.contains("private") || text.contains("special"), "{callback}: {text}");
    }
    hub.stop().await;
}

/// A restart on an unchanged store notifies nobody; a change made while
/// herald was stopped is delivered after the restart. Subscriptions
/// survive the restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarts_announce_only_real_changes() {
    let store = store_with_push();
    let subscriber = Subscriber::start().await;
    let callback = subscriber.callback("p");
    let hub = Hub::start(&store).await;
    hub.subscribe(&callback, &[]).await;
    hub.wait_subscribed(&callback).await;
    hub.stop().await;

    // Unchanged store: nothing is delivered. A control subscriber on a
    // changed topic proves deliveries would have arrived.
    let hub = Hub::start(&store).await;
    assert_eq!(hub.subscriptions().await.len(), 1, "the subscription survived");
    hub.post(&[
        ("hub.mode", "subscribe"),
        ("hub.topic", "https://example.vn/en/rss.xml"),
        ("hub.callback", &subscriber.callback("control")),
    ])
    .await;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while hub.subscriptions().await.len() < 2 {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    store.article("thoi-su/en.en.md", "English", "2026-11-21T08:00:00+07:00");
    eventually("the control delivery", || !subscriber.deliveries("control").is_empty()).await;
    assert!(subscriber.deliveries("p").is_empty(), "a restart must not re-announce");
    hub.stop().await;

    // Changed while stopped: delivered after the restart.
    publish(&store, 3);
    let hub = Hub::start(&store).await;
    eventually("the delivery of the change made while stopped", || !subscriber.deliveries("p").is_empty()).await;
    assert!(String::from_utf8_lossy(&subscriber.deliveries("p")[0].body).contains("Tin mới 3"));
    subscriber.stop().await;
    hub.stop().await;
}
