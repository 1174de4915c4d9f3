//! Article webhooks (Standard Webhooks signatures) and IndexNow: exactly
//! one announcement per article version, across edits, deletions, the
//! passing of time, restarts and outages. In-process daemon, loopback
//! receiver, test clock.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::common::subscriber::{Received, Subscriber};
use crate::common::*;
use base64::Engine as _;
use herald::clock::ManualClock;
use herald::daemon::{ConfigSource, Daemon};
use hmac::{KeyInit, Mac};

/// Longest wait for the daemon to reach a state; generous, since the
/// machine may be loaded: a poll ends as soon as the state is reached.
const PATIENCE: Duration = Duration::from_secs(60);
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const KEY: &str = "herald-test-key-0123";

/// An independent Standard Webhooks verification: the signature header
/// holds `v1,<base64 HMAC-SHA256(secret, "id.timestamp.body")>`.
fn verify(received: &Received) -> serde_json::Value {
    let id = &received.headers["webhook-id"];
    let timestamp = &received.headers["webhook-timestamp"];
    let key = base64::engine::general_purpose::STANDARD.decode(SECRET.trim_start_matches("whsec_")).unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(&received.body);
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let signatures: Vec<&str> =
        received.headers["webhook-signature"].split(' ').filter_map(|s| s.strip_prefix("v1,")).collect();
    assert!(signatures.contains(&expected.as_str()), "bad signature on {id}");
    assert!(id.starts_with("msg_"));
    serde_json::from_slice(&received.body).unwrap()
}

struct Setup {
    store: TempStore,
    receiver: Subscriber,
}

impl Setup {
    async fn new(webhook_extra: &str) -> Setup {
        let receiver = Subscriber::start().await;
        let mut store = TempStore::new();
        store.extra_config = format!(
            "[[webhooks]]\nname = \"bot\"\nurl = \"{}\"\nsecret = \"{SECRET}\"\n{webhook_extra}\n\n[indexnow]\nkey = \"{KEY}\"\nendpoint = \"{}\"\ndelay_seconds = 5\n",
            receiver.callback("bot"),
            receiver.callback("indexnow"),
        );
        store.article("thoi-su/mot.vi.md", "Một", "2026-11-20T08:00:00+07:00");
        store.article("thoi-su/mot.en.md", "One", "2026-11-20T09:00:00+07:00");
        Setup { store, receiver }
    }

    async fn start(&self, clock: Arc<ManualClock>) -> Daemon {
        let source = ConfigSource { path: self.store.config_path(), overrides: Default::default() };
        let config = source.load().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Daemon::start(config, source, listener, clock).await.unwrap()
    }

    /// Every verified event received so far: (webhook-id, body).
    fn events(&self) -> Vec<(String, serde_json::Value)> {
        self.receiver.deliveries("bot").iter().map(|r| (r.headers["webhook-id"].clone(), verify(r))).collect()
    }

    fn event_types(&self) -> Vec<String> {
        self.events()
            .iter()
            .map(|(_, e)| format!("{} {}", e["type"].as_str().unwrap(), e["data"]["url"].as_str().unwrap()))
            .collect()
    }
}

async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !condition() {
        assert!(tokio::time::Instant::now() < deadline, "{what} did not happen within {PATIENCE:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits until the daemon serves `path` with `needle` in it: proof that it
/// processed a store change.
async fn wait_served(daemon: &Daemon, path: &str, needle: &str) {
    eventually(&format!("{path} showing {needle:?}"), || {
        daemon
            .state
            .files
            .load()
            .get(path)
            .is_some_and(|f| String::from_utf8_lossy(&f.resource.bytes().unwrap()).contains(needle))
    })
    .await;
}

/// Waits until the daemon's health report satisfies `done`.
async fn wait_health(daemon: &Daemon, what: &str, done: impl Fn(&serde_json::Value) -> bool) {
    eventually(what, || done(&serde_json::from_slice(&daemon.state.health.load()).unwrap())).await;
}

/// Waits until the daemon's outbox (its waiting and given-up jobs)
/// satisfies `done`.
async fn wait_outbox(daemon: &Daemon, what: &str, done: impl Fn(&[herald::push::state::Delivery]) -> bool) {
    let store = Arc::clone(&daemon.push.as_ref().unwrap().store);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let s = Arc::clone(&store);
        let jobs = tokio::task::spawn_blocking(move || s.deliveries(false, 1000).unwrap()).await.unwrap();
        if done(&jobs) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{what} did not happen within {PATIENCE:?}: {jobs:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits until the daemon's outbox holds no job due at the clock's time.
async fn settle(daemon: &Daemon, clock: &ManualClock) {
    use herald::clock::Clock;
    let store = Arc::clone(&daemon.push.as_ref().unwrap().store);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let s = Arc::clone(&store);
        let now = clock.now();
        let due = tokio::task::spawn_blocking(move || s.deliveries(false, 1000).unwrap()).await.unwrap();
        // A job still waiting may be due later (a delayed update); only
        // jobs due now must be gone.
        let next = {
            let s = Arc::clone(&store);
            tokio::task::spawn_blocking(move || herald::push::state::PushStore::next_due(s.as_ref()).unwrap())
                .await
                .unwrap()
        };
        if due.is_empty() || next.is_some_and(|at| at > now) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "jobs still due: {due:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The first start records a baseline and announces nothing; then a new
/// file is one `article.published` with the article as a JSON Feed item,
/// its language, section and translations; an edit burst is one
/// `article.updated` (after the update delay); a deletion is one
/// `article.unpublished`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_updated_unpublished_once_each() {
    let setup = Setup::new("update_delay_seconds = 60").await;
    let clock = Arc::new(ManualClock::new(now()));
    let daemon = setup.start(clock.clone()).await;
    settle(&daemon, &clock).await;
    assert!(setup.events().is_empty(), "a first start announces nothing");

    // The translation first, so that the Vietnamese version's event (which
    // describes the store as it is when the event is made) surely lists it.
    setup.store.article("thoi-su/hai.en.md", "Two", "2026-11-21T09:00:00+07:00");
    eventually("the English version published", || setup.events().len() == 1).await;
    setup.store.article("thoi-su/hai.vi.md", "Hai", "2026-11-21T08:00:00+07:00");
    eventually("two published events", || setup.events().len() == 2).await;
    let (_, event) = setup.events().into_iter().find(|(_, e)| e["data"]["title"] == "Hai").unwrap();
    assert_eq!(event["type"], "article.published");
    let data = &event["data"];
    assert_eq!(data["id"], "tag:example.vn,2026:vi/thoi-su/hai");
    assert_eq!(data["url"], "https://example.vn/thoi-su/hai/");
    assert_eq!(data["language"], "vi");
    assert_eq!(data["section"], "thoi-su");
    assert_eq!(data["content_html"], "<p>Body of Hai.</p>");
    assert_eq!(data["date_published"], "2026-11-21T08:00:00+07:00");
    // Webhooks name themselves and the site, not the hub.
    let user_agent = &setup.receiver.deliveries("bot")[0].headers["user-agent"];
    assert_eq!(user_agent, &format!("herald/{} (webhooks; +https://example.vn/)", env!("CARGO_PKG_VERSION")));
    assert_eq!(
        data["translations"],
        serde_json::json!([{ "language": "en", "url": "https://example.vn/en/thoi-su/hai/" }])
    );

    // A burst of three edits in the update window: one update, the newest.
    // Each edit replaces the one waiting update: never two at once.
    for title in ["Hai (1)", "Hai (2)", "Hai (3)"] {
        setup.store.article("thoi-su/hai.vi.md", title, "2026-11-21T08:00:00+07:00");
        wait_served(&daemon, "/vi/rss.xml", &format!("<title>{title}</title>")).await;
        let holds = format!("\"title\":\"{title}\"");
        wait_outbox(&daemon, &format!("one waiting update holding {title}"), |jobs| {
            let updates: Vec<_> = jobs.iter().filter(|j| j.payload.contains("\"article.updated\"")).collect();
            updates.len() == 1 && updates[0].payload.contains(&holds)
        })
        .await;
    }
    // A step queues its events just after serving its files: the waiting
    // update must hold the newest edit before the clock moves past its delay.
    wait_outbox(&daemon, "the update holding the last edit", |jobs| {
        jobs.iter().any(|j| j.payload.contains("\"title\":\"Hai (3)\""))
    })
    .await;
    settle(&daemon, &clock).await;
    assert_eq!(setup.events().len(), 2, "updates wait for the delay");
    clock.set(now() + jiff::SignedDuration::from_secs(61));
    eventually("the update", || setup.events().len() == 3).await;
    let (_, update) = setup.events().pop().unwrap();
    assert_eq!(update["type"], "article.updated");
    assert_eq!(update["data"]["title"], "Hai (3)");

    setup.store.remove("thoi-su/hai.vi.md");
    eventually("the unpublication", || setup.events().len() == 4).await;
    let (_, gone) = setup.events().pop().unwrap();
    assert_eq!(gone["type"], "article.unpublished");
    assert_eq!(gone["data"]["url"], "https://example.vn/thoi-su/hai/");
    assert_eq!(gone["data"]["id"], "tag:example.vn,2026:vi/thoi-su/hai");
    settle(&daemon, &clock).await;
    assert_eq!(setup.events().len(), 4);
    daemon.shutdown().await;
    setup.receiver.stop().await;
}

/// A future-dated article is published when its time comes; a restart on
/// an unchanged store announces nothing; a change made while stopped is
/// announced after the restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_and_restarts() {
    let setup = Setup::new("").await;
    let clock = Arc::new(ManualClock::new(now()));
    let daemon = setup.start(clock.clone()).await;
    setup.store.article("thoi-su/sau.vi.md", "Sau", "2026-11-26T18:00:00+07:00");
    wait_health(&daemon, "the scheduled article read", |h| h["articles"]["scheduled"] == 1).await;
    settle(&daemon, &clock).await;
    assert!(setup.events().is_empty(), "not before its time");
    clock.set("2026-11-26T18:00:01+07:00".parse().unwrap());
    eventually("the scheduled publication", || setup.events().len() == 1).await;
    assert_eq!(setup.event_types(), ["article.published https://example.vn/thoi-su/sau/"]);
    daemon.shutdown().await;

    let daemon = setup.start(clock.clone()).await;
    settle(&daemon, &clock).await;
    // The step counter moves once a step is over, its announcements queued.
    let mut steps = daemon.steps();
    let before = *steps.borrow_and_update();
    daemon.rebuild();
    tokio::time::timeout(PATIENCE, steps.wait_for(|n| *n > before)).await.unwrap().unwrap();
    settle(&daemon, &clock).await;
    assert_eq!(setup.events().len(), 1, "a restart and a full rebuild announce nothing");
    daemon.shutdown().await;

    setup.store.article("thoi-su/mot.vi.md", "Một (sửa khi dừng)", "2026-11-20T08:00:00+07:00");
    let daemon = setup.start(clock.clone()).await;
    eventually("the update made while stopped", || setup.events().len() == 2).await;
    assert_eq!(setup.events()[1].1["type"], "article.updated");
    settle(&daemon, &clock).await;
    assert_eq!(setup.events().len(), 2);
    daemon.shutdown().await;
    setup.receiver.stop().await;
}

/// A receiver that is down for a while gets everything once it is back,
/// each event under its one webhook-id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receiver_down_for_a_while() {
    let setup = Setup::new("").await;
    setup.receiver.set_statuses("bot", &[503, 503, 503, 503, 503, 503]);
    let clock = Arc::new(ManualClock::new(now()));
    let daemon = setup.start(clock.clone()).await;
    for n in 1..=3 {
        setup.store.article(&format!("thoi-su/moi-{n}.vi.md"), &format!("Mới {n}"), "2026-11-22T08:00:00+07:00");
    }
    // Retries follow the test clock: move it forward in steps.
    let mut at = now();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while setup.events().len() < 3 {
        assert!(tokio::time::Instant::now() < deadline, "got {:?}", setup.event_types());
        at += jiff::SignedDuration::from_secs(30);
        clock.set(at);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    settle(&daemon, &clock).await;
    let ids: BTreeMap<String, usize> = setup.events().into_iter().fold(BTreeMap::new(), |mut m, (id, _)| {
        *m.entry(id).or_default() += 1;
        m
    });
    assert_eq!(ids.len(), 3);
    assert!(ids.values().all(|n| *n == 1));
    daemon.shutdown().await;
    setup.receiver.stop().await;
}

/// Filters: only the languages, sections and events asked for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters() {
    let setup = Setup::new("languages = [\"en\"]\nsections = [\"kinh-te\"]\nevents = [\"article.published\"]").await;
    let clock = Arc::new(ManualClock::new(now()));
    let daemon = setup.start(clock.clone()).await;
    setup.store.article("kinh-te/a.vi.md", "Vi", "2026-11-21T08:00:00+07:00");
    setup.store.article("thoi-su/b.en.md", "Other section", "2026-11-21T08:00:00+07:00");
    setup.store.article("kinh-te/c.en.md", "Wanted", "2026-11-21T08:00:00+07:00");
    eventually("the wanted event", || !setup.events().is_empty()).await;
    setup.store.article("kinh-te/c.en.md", "Wanted, edited", "2026-11-21T08:00:00+07:00");
    wait_served(&daemon, "/en/kinh-te/rss.xml", "Wanted, edited").await;
    settle(&daemon, &clock).await;
    assert_eq!(setup.event_types(), ["article.published https://example.vn/en/kinh-te/c/"]);
    daemon.shutdown().await;
    setup.receiver.stop().await;
}

/// With announce_existing, the very first start announces every visible
/// article.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn announce_existing() {
    let setup = Setup::new("announce_existing = true").await;
    let clock = Arc::new(ManualClock::new(now()));
    let daemon = setup.start(clock.clone()).await;
    eventually("two published events", || setup.events().len() == 2).await;
    let mut types = setup.event_types();
    types.sort();
    assert_eq!(
        types,
        ["article.published https://example.vn/en/thoi-su/mot/", "article.published https://example.vn/thoi-su/mot/"]
    );
    daemon.shutdown().await;
    setup.receiver.stop().await;
}

/// IndexNow: the key file is served; a burst of changes is one request
/// with every changed URL, the host and the key's location.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indexnow_batches_a_burst() {
    let setup = Setup::new("").await;
    let clock = Arc::new(ManualClock::new(now()));
    let daemon = setup.start(clock.clone()).await;
    let client = http_client();
    let key = client.get(format!("http://{}/{KEY}.txt", daemon.addr)).send().await.unwrap();
    assert_eq!(key.status(), 200);
    assert_eq!(key.text().await.unwrap(), KEY);

    for n in 1..=3 {
        setup.store.article(&format!("kinh-te/tin-{n}.vi.md"), &format!("Tin {n}"), "2026-11-22T08:00:00+07:00");
        wait_served(&daemon, "/vi/kinh-te/rss.xml", &format!("<title>Tin {n}</title>")).await;
    }
    assert!(setup.receiver.deliveries("indexnow").is_empty(), "gathered for delay_seconds");
    // The three changes wait in one batch.
    let store = Arc::clone(&daemon.push.as_ref().unwrap().store);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let s = Arc::clone(&store);
        let jobs = tokio::task::spawn_blocking(move || s.deliveries(false, 10).unwrap()).await.unwrap();
        let batches: Vec<usize> = jobs
            .iter()
            .filter(|j| j.kind == herald::push::state::DeliveryKind::IndexNow)
            .map(|j| serde_json::from_str::<Vec<String>>(&j.payload).unwrap().len())
            .collect();
        if batches == [3] {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "batches: {batches:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    clock.set(now() + jiff::SignedDuration::from_secs(6));
    eventually("the IndexNow request", || !setup.receiver.deliveries("indexnow").is_empty()).await;
    settle(&daemon, &clock).await;
    let requests = setup.receiver.deliveries("indexnow");
    assert_eq!(requests.len(), 1, "one request per burst");
    let body: serde_json::Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(body["host"], "example.vn");
    let user_agent = &requests[0].headers["user-agent"];
    assert_eq!(user_agent, &format!("herald/{} (webhooks; +https://example.vn/)", env!("CARGO_PKG_VERSION")));
    assert_eq!(body["key"], KEY);
    assert_eq!(body["keyLocation"], format!("https://example.vn/{KEY}.txt"));
    let mut urls: Vec<&str> = body["urlList"].as_array().unwrap().iter().map(|u| u.as_str().unwrap()).collect();
    urls.sort();
    assert_eq!(
        urls,
        ["https://example.vn/kinh-te/tin-1/", "https://example.vn/kinh-te/tin-2/", "https://example.vn/kinh-te/tin-3/"]
    );
    daemon.shutdown().await;
    setup.receiver.stop().await;
}

/// Publish, delete, restore the same file: three events, three distinct
/// webhook-ids, so a receiver that deduplicates sees all three. (Review
/// finding: ids were reused for equal content.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn republication_gets_a_new_id() {
    let setup = Setup::new("").await;
    let clock = Arc::new(ManualClock::new(now()));
    let daemon = setup.start(clock.clone()).await;
    setup.store.article("thoi-su/lai.vi.md", "Lại", "2026-11-21T08:00:00+07:00");
    eventually("published", || setup.events().len() == 1).await;
    setup.store.remove("thoi-su/lai.vi.md");
    eventually("unpublished", || setup.events().len() == 2).await;
    setup.store.article("thoi-su/lai.vi.md", "Lại", "2026-11-21T08:00:00+07:00");
    eventually("published again", || setup.events().len() == 3).await;
    let events = setup.events();
    let types: Vec<&str> = events.iter().map(|(_, e)| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["article.published", "article.unpublished", "article.published"]);
    let ids: std::collections::BTreeSet<&String> = events.iter().map(|(id, _)| id).collect();
    assert_eq!(ids.len(), 3, "{events:?}");
    daemon.shutdown().await;
    setup.receiver.stop().await;
}

/// Webhooks and IndexNow do not need the WebSub hub. (Review finding: they
/// were off when the hub was.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_without_the_hub() {
    let mut setup = Setup::new("").await;
    setup.store.extra_config.push_str("\n[websub]\nenabled = false\n");
    let clock = Arc::new(ManualClock::new(now()));
    let daemon = setup.start(clock.clone()).await;
    assert!(daemon.push.is_some());
    setup.store.article("thoi-su/hai.vi.md", "Hai", "2026-11-21T08:00:00+07:00");
    eventually("the event", || setup.events().len() == 1).await;
    let client = http_client();
    let hub = client.post(format!("http://{}/websub", daemon.addr)).body("hub.mode=subscribe").send().await.unwrap();
    assert_eq!(hub.status(), 404, "no hub");
    let feed = client.get(format!("http://{}/vi/rss.xml", daemon.addr)).send().await.unwrap().text().await.unwrap();
    assert!(!feed.contains("rel=\"hub\""), "feeds advertise no hub");
    daemon.shutdown().await;
    setup.receiver.stop().await;
}
