//! Durability: `kill -9` in the middle of a fan-out (WebSub, webhooks,
//! ActivityPub), then a restart,
//! delivers every remaining notification (at-least-once), and repeats only
//! the few that were in flight when the process died.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::process::{PATIENCE, Process};
use crate::common::subscriber::Subscriber;
use crate::common::*;
use herald::push::state::{PushStore, SqliteStore};

const SUBSCRIBERS: usize = 200;
const PER_HOST: usize = 4;

fn subscriptions(state: &Path) -> usize {
    SqliteStore::open(&SqliteStore::file_in(state)).map(|s| s.subscriptions().unwrap().len()).unwrap_or(0)
}

fn pending_jobs(state: &Path) -> usize {
    SqliteStore::open(&SqliteStore::file_in(state)).map(|s| s.deliveries(false, 100_000).unwrap().len()).unwrap_or(0)
}

async fn poll(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !done() {
        assert!(Instant::now() < deadline, "{what} did not happen within {PATIENCE:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_during_fan_out_then_restart_delivers_everything() {
    let mut store = TempStore::new();
    store.extra_config = format!(
        "[websub]\nallow_private_callbacks = true\nsubscribe_rate_per_minute = 100000\nmax_pending_verifications_per_topic = 1000\nmax_concurrent_per_host = {PER_HOST}\n"
    );
    store.article("thoi-su/mot.vi.md", "Một", "2026-11-20T08:00:00+07:00");
    let config = store.config_path();
    let state = store.dir.path().join("state");
    let subscriber = Subscriber::start().await;

    let herald = Process::start(&config, &[]);
    let client = http_client();
    let hub = format!("http://{}/websub", herald.addr);
    for i in 0..SUBSCRIBERS {
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("hub.mode", "subscribe")
            .append_pair("hub.topic", "https://example.vn/vi/rss.xml")
            .append_pair("hub.callback", &subscriber.callback(&format!("s{i}")))
            .finish();
        let response = client
            .post(&hub)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202);
    }
    poll("every subscription", || subscriptions(&state) == SUBSCRIBERS).await;

    // The subscribers answer 20 deliveries, then hold the next ones
    // unanswered: the kill lands in the middle of the fan-out.
    subscriber.hold_after(20);
    store.article("thoi-su/hai.vi.md", "Hai", "2026-11-21T08:00:00+07:00");
    poll("deliveries in flight", || subscriber.held() >= 1).await;
    herald.signal("KILL");
    let mut herald = herald;
    herald.wait();
    let before_restart = subscriber.all_deliveries().len();
    assert_eq!(before_restart, 20);
    assert!(pending_jobs(&state) > 0, "the remaining deliveries must still be queued");
    subscriber.release();

    let restarted = Process::start(&config, &[]);
    poll("every subscriber's delivery", || {
        let received: std::collections::BTreeSet<String> =
            subscriber.all_deliveries().into_iter().map(|d| d.name).collect();
        received.len() == SUBSCRIBERS
    })
    .await;
    poll("the outbox to empty", || pending_jobs(&state) == 0).await;

    let mut per_callback: BTreeMap<String, usize> = BTreeMap::new();
    for delivery in subscriber.all_deliveries() {
        assert!(String::from_utf8_lossy(&delivery.body).contains("<title>Hai</title>"));
        *per_callback.entry(delivery.name).or_default() += 1;
    }
    let repeated = per_callback.values().filter(|n| **n > 1).count();
    // Only deliveries in flight at the kill (at most the per-host limit,
    // plus acknowledgements not yet committed) may arrive twice.
    assert!(repeated <= 2 * PER_HOST, "{repeated} subscribers got the change twice: {per_callback:?}");
    assert!(per_callback.values().all(|n| *n <= 2));
    eprintln!("{before_restart} delivered before the kill, {repeated} repeated after the restart");
    drop(restarted);
    subscriber.stop().await;
}

/// Webhooks: `kill -9` while events are being delivered (the receiver
/// holds requests unanswered, so the kill surely lands in the middle), then
/// a restart: every event arrives, and every attempt at an event (refused
/// ones, ones cut off by the kill, the repeats) carries the same webhook-id
/// (receivers deduplicate on it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_during_webhook_delivery_then_restart() {
    const ARTICLES: usize = 40;
    const ANSWERED: usize = 8;
    let subscriber = Subscriber::start().await;
    // The first two attempts are refused: retried later, under the same id.
    subscriber.set_statuses("bot", &[500, 503]);
    subscriber.hold_after(ANSWERED);
    let mut store = TempStore::new();
    store.extra_config = format!(
        "[websub]\nmax_concurrent_per_host = 2\nretry_base_seconds = 1\n\n[[webhooks]]\nname = \"bot\"\nurl = \"{}\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n",
        subscriber.callback("bot")
    );
    store.article("thoi-su/mot.vi.md", "Một", "2026-11-20T08:00:00+07:00");
    let config = store.config_path();
    let state = store.dir.path().join("state");

    let herald = Process::start(&config, &[]);
    for n in 0..ARTICLES {
        store.article(&format!("thoi-su/moi-{n:02}.vi.md"), &format!("Mới {n}"), "2026-11-22T08:00:00+07:00");
    }
    poll("deliveries in flight", || subscriber.held() >= 1).await;
    herald.signal("KILL");
    let mut herald = herald;
    herald.wait();
    let cut_off: Vec<String> =
        subscriber.attempts("bot")[ANSWERED..].iter().map(|(r, _)| r.headers["webhook-id"].clone()).collect();
    assert!(!cut_off.is_empty());
    assert!(pending_jobs(&state) > 0, "the remaining events must still be queued");
    subscriber.release();

    let restarted = Process::start(&config, &[]);
    poll("the outbox to empty", || pending_jobs(&state) == 0).await;
    // Every attempt, by article: (webhook-id, status answered).
    let mut by_article: BTreeMap<String, Vec<(String, u16)>> = BTreeMap::new();
    for (attempt, status) in subscriber.attempts("bot") {
        let event: serde_json::Value = serde_json::from_slice(&attempt.body).unwrap();
        by_article
            .entry(event["data"]["id"].as_str().unwrap().to_string())
            .or_default()
            .push((attempt.headers["webhook-id"].clone(), status));
    }
    assert_eq!(by_article.len(), ARTICLES);
    let attempts_of = |id: &str| by_article.values().find(|a| a[0].0 == id).map_or(0, Vec::len);
    for (article, attempts) in &by_article {
        assert!(
            attempts.iter().all(|(id, _)| *id == attempts[0].0),
            "{article} went out under different ids: {attempts:?}"
        );
        let acknowledged = attempts.iter().filter(|(_, status)| (200..300).contains(status)).count();
        assert!((1..=2).contains(&acknowledged), "{article}: {attempts:?}");
        if attempts.iter().any(|(_, status)| *status >= 500) {
            assert!(attempts.len() >= 2, "{article} was not retried: {attempts:?}");
        }
    }
    for id in &cut_off {
        assert!(attempts_of(id) >= 2, "{id}, cut off by the kill, was not sent again");
    }
    drop(restarted);
    subscriber.stop().await;
}

/// ActivityPub: `kill -9` in the middle of a fan-out of one new article to
/// 200 followers' inboxes, then a restart: every follower gets the Create,
/// and only those in flight at the kill may get it twice; an inbox whose
/// delivery herald had recorded as acknowledged (no longer in the outbox
/// at the kill) never gets it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_during_activitypub_fan_out_then_restart() {
    const FOLLOWERS: usize = 200;
    let subscriber = Subscriber::start().await;
    let mut store = TempStore::new();
    store.extra_config = format!(
        "[websub]\nallow_private_callbacks = true\nmax_concurrent_per_host = {PER_HOST}\n\n[activitypub]\nenabled = true\n"
    );
    store.article("thoi-su/mot.vi.md", "Một", "2026-11-20T08:00:00+07:00");
    let config = store.config_path();
    let state = store.dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    {
        let db = SqliteStore::open(&SqliteStore::file_in(&state)).unwrap();
        for i in 0..FOLLOWERS {
            db.add_follower(&herald::push::state::Follower {
                actor: "thoi-su".into(),
                follower: format!("http://127.0.0.1:9/users/f{i}"),
                inbox: subscriber.callback(&format!("f{i}")),
                shared_inbox: None,
                follow_id: format!("http://127.0.0.1:9/follows/{i}"),
                created_at: now(),
            })
            .unwrap();
        }
    }
    let herald = Process::start(&config, &[]);
    subscriber.hold_after(20);
    store.article("thoi-su/hai.vi.md", "Hai", "2026-11-21T08:00:00+07:00");
    poll("activities in flight", || subscriber.held() >= 1).await;
    herald.signal("KILL");
    let mut herald = herald;
    herald.wait();
    assert_eq!(subscriber.all_deliveries().len(), 20);
    let queued_at_kill: std::collections::BTreeSet<String> = SqliteStore::open(&SqliteStore::file_in(&state))
        .unwrap()
        .deliveries(false, 100_000)
        .unwrap()
        .into_iter()
        .map(|job| job.target)
        .collect();
    assert!(!queued_at_kill.is_empty(), "the remaining activities must still be queued");
    subscriber.release();

    let restarted = Process::start(&config, &[]);
    poll("every follower's Create", || {
        let received: std::collections::BTreeSet<String> =
            subscriber.all_deliveries().into_iter().map(|d| d.name).collect();
        received.len() == FOLLOWERS
    })
    .await;
    poll("the outbox to empty", || pending_jobs(&state) == 0).await;
    let mut per_inbox: BTreeMap<String, usize> = BTreeMap::new();
    for delivery in subscriber.all_deliveries() {
        let activity: serde_json::Value = serde_json::from_slice(&delivery.body).unwrap();
        assert_eq!(activity["type"], "Create");
        assert!(delivery.headers.contains_key("signature"));
        *per_inbox.entry(delivery.name).or_default() += 1;
    }
    for (name, n) in &per_inbox {
        if !queued_at_kill.contains(&subscriber.callback(name)) {
            assert_eq!(*n, 1, "{name}'s delivery was recorded as acknowledged before the kill, yet sent again");
        }
    }
    let repeated = per_inbox.values().filter(|n| **n > 1).count();
    assert!(repeated <= 2 * PER_HOST, "{repeated} inboxes got the Create twice: {per_inbox:?}");
    assert!(per_inbox.values().all(|n| *n <= 2));
    drop(restarted);
    subscriber.stop().await;
}
