//! Three `herald serve` replicas on loopback sharing one PostgreSQL schema
//! (articles and push state): 1,000 WebSub subscribers subscribed through
//! all three, an article inserted with SQL, the replica holding the
//! fan-out's claims killed with SIGKILL in the middle of it. Every
//! subscriber receives the new version; the only repeats are deliveries the
//! killed replica held claims on; the webhook fires once; a restart of all
//! replicas on the unchanged database announces nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::postgres::TestDb;
use crate::common::process::Process;
use crate::common::subscriber::Subscriber;
use crate::common::*;

const SUBSCRIBERS: usize = 1_000;
const REPLICAS: usize = 3;
const PER_HOST: usize = 8;
/// Deliveries answered before the subscriber holds the rest unanswered.
const ANSWERED_BEFORE_KILL: usize = 100;
/// Longest wait for anything here (the claim lease is 5 s, idle replicas
/// look at the outbox every 5 s).
const PATIENCE: Duration = Duration::from_secs(40);
const TOPIC: &str = "https://example.vn/vi/rss.xml";

/// Rows of `sql` (every value as text, NULL as "").
async fn rows(db: &TestDb, sql: &str) -> Vec<Vec<String>> {
    db.text_rows(sql).await
}

async fn execute(db: &TestDb, sql: &str) {
    rows(db, sql).await;
}

async fn count(db: &TestDb, sql: &str) -> i64 {
    rows(db, sql).await[0][0].parse().unwrap()
}

async fn poll<F: std::future::Future<Output = bool>>(what: &str, mut done: impl FnMut() -> F) {
    let deadline = Instant::now() + PATIENCE;
    while !done().await {
        assert!(Instant::now() < deadline, "{what} did not happen within {PATIENCE:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn start_replicas(config: &Path, dir: &Path, db: &TestDb) -> Vec<Process> {
    let url = db.url.as_url().as_str().to_string();
    (0..REPLICAS)
        .map(|i| {
            let state = dir.join(format!("state{i}"));
            Process::start(config, &["--state", state.to_str().unwrap(), "--database-url", &url])
        })
        .collect()
}

/// Deliveries of the new version, per callback name.
fn new_version_per_callback(subscriber: &Subscriber) -> BTreeMap<String, usize> {
    let mut per_callback = BTreeMap::new();
    for delivery in subscriber.all_deliveries() {
        assert!(
            String::from_utf8_lossy(&delivery.body).contains("<title>Hai</title>"),
            "{} received a feed without the new article",
            delivery.name
        );
        *per_callback.entry(delivery.name).or_default() += 1;
    }
    per_callback
}

#[test]
fn three_replicas_one_killed_mid_fan_out_deliver_everything_once() {
    // The schema is made and dropped outside the runtime (its helper
    // runs one of its own).
    let Some(db) = TestDb::create("replicas_process") else { return };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(fan_out_with_a_kill(&db));
}

async fn fan_out_with_a_kill(db: &TestDb) {
    let subscriber = Subscriber::start().await;
    let webhook = Subscriber::start().await;
    let mut store = TempStore::new();
    store.extra_config = format!(
        "[websub]\nallow_private_callbacks = true\nsubscribe_rate_per_minute = 100000\n\
         max_pending_verifications_per_topic = {SUBSCRIBERS}\nmax_concurrent_per_host = {PER_HOST}\n\n\
         [database]\npool_size = 4\nclaim_lease_seconds = 5\narticles = true\n\n\
         [[webhooks]]\nname = \"bot\"\nurl = \"{}\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n",
        webhook.callback("bot")
    );
    let config = store.config_path();
    let url = db.url.as_url().as_str().to_string();
    let migrate = std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["db", "migrate", "--database-url", &url, "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(migrate.status.success(), "{}", String::from_utf8_lossy(&migrate.stderr));
    execute(
        db,
        "INSERT INTO articles (key, title, date, section) VALUES ('cms/1', 'Một', '2026-11-20 08:00:00+07', 'thoi-su')",
    )
    .await;

    let replicas = start_replicas(&config, store.dir.path(), db);
    let client = http_client();
    let mut subscribing = Vec::new();
    for (r, replica) in replicas.iter().enumerate() {
        let (client, hub) = (client.clone(), format!("http://{}/websub", replica.addr));
        let callbacks: Vec<String> =
            (r..SUBSCRIBERS).step_by(REPLICAS).map(|i| subscriber.callback(&format!("s{i}"))).collect();
        subscribing.push(tokio::spawn(async move {
            for callback in callbacks {
                let form = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("hub.mode", "subscribe")
                    .append_pair("hub.topic", TOPIC)
                    .append_pair("hub.callback", &callback)
                    .finish();
                let response = client
                    .post(&hub)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(form)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 202, "{callback} through {hub}");
            }
        }));
    }
    for task in subscribing {
        task.await.unwrap();
    }
    poll("every subscription verified", || async {
        count(db, "SELECT count(*) FROM subscriptions").await == SUBSCRIBERS as i64
    })
    .await;
    assert!(subscriber.all_deliveries().is_empty(), "nothing is announced before the change");

    // The subscriber answers some deliveries, then holds the rest: the
    // kill surely lands in the middle of the fan-out.
    subscriber.hold_after(ANSWERED_BEFORE_KILL);
    execute(
        db,
        "INSERT INTO articles (key, title, date, section) VALUES ('cms/2', 'Hai', '2026-11-21 08:00:00+07', 'thoi-su')",
    )
    .await;
    poll("deliveries in flight", || async { subscriber.held() >= 1 }).await;
    let claimers =
        rows(db, "SELECT claimed_by, count(*) FROM outbox WHERE claimed_by IS NOT NULL GROUP BY 1 ORDER BY 2 DESC")
            .await;
    assert!(!claimers.is_empty(), "the fan-out holds claims");
    let victim_pid: u32 = claimers[0][0].split(':').nth(1).unwrap().parse().unwrap();
    let mut replicas = replicas;
    let victim = replicas.iter().position(|p| p.child.id() == victim_pid).expect("the claimer is one of the replicas");
    let mut killed = replicas.remove(victim);
    killed.signal("KILL");
    killed.wait();
    // What the dead replica still held: a lease no one renews any more.
    let claimed =
        rows(db, &format!("SELECT o.kind, o.target FROM outbox o WHERE o.claimed_by LIKE '%:{victim_pid}:%'")).await;
    let claimed_callbacks: BTreeSet<String> =
        claimed.iter().filter_map(|row| row[1].rsplit_once("/cb/").map(|(_, name)| name.to_string())).collect();
    assert!(!claimed.is_empty(), "the killed replica died holding claims");
    subscriber.release();

    poll("every subscriber's delivery", || async { new_version_per_callback(&subscriber).len() == SUBSCRIBERS }).await;
    poll("the outbox to empty", || async { count(db, "SELECT count(*) FROM outbox").await == 0 }).await;
    let per_callback = new_version_per_callback(&subscriber);
    let repeated: Vec<&String> = per_callback.iter().filter(|(_, n)| **n > 1).map(|(name, _)| name).collect();
    assert!(per_callback.values().all(|n| *n <= 2), "{per_callback:?}");
    for name in &repeated {
        assert!(
            claimed_callbacks.contains(*name),
            "{name} got the change twice without being claimed by the killed replica"
        );
    }
    assert!(repeated.len() <= claimed.len());
    eprintln!(
        "{SUBSCRIBERS} subscribers served; the killed replica held {} claims; {} subscribers got the change twice",
        claimed.len(),
        repeated.len()
    );

    // One webhook event per version: the new article, once (twice only if
    // its delivery was among the killed replica's claims).
    poll("the webhook event", || async { !webhook.deliveries("bot").is_empty() }).await;
    let events = webhook.deliveries("bot");
    let ids: BTreeSet<&String> = events.iter().map(|e| &e.headers["webhook-id"]).collect();
    assert_eq!(ids.len(), 1, "one message per version: {events:?}");
    let event: serde_json::Value = serde_json::from_slice(&events[0].body).unwrap();
    assert_eq!(event["type"], "article.published", "{event}");
    let webhook_claimed = claimed.iter().any(|row| row[1].contains("/cb/bot"));
    assert!(events.len() == 1 || (webhook_claimed && events.len() == 2), "{} webhook deliveries", events.len());

    // A restart of every replica on the unchanged database announces nothing.
    for replica in &replicas {
        replica.signal("TERM");
    }
    for replica in &mut replicas {
        replica.wait();
    }
    drop(replicas);
    let (deliveries, hooks) = (subscriber.all_deliveries().len(), webhook.deliveries("bot").len());
    let last_job = count(db, "SELECT last_value FROM outbox_id_seq").await;
    let restarted = start_replicas(&config, store.dir.path(), db);
    for replica in &restarted {
        assert!(replica.get("/vi/rss.xml").contains("<title>Hai</title>"));
    }
    // A bounded look, longer than the 5 s between an idle replica's looks
    // at the outbox: nothing is queued, nothing arrives.
    let quiet_until = Instant::now() + Duration::from_secs(6);
    while Instant::now() < quiet_until {
        assert_eq!(count(db, "SELECT count(*) FROM outbox").await, 0, "a restart queued deliveries");
        assert_eq!(subscriber.all_deliveries().len(), deliveries, "a restart delivered again");
        assert_eq!(webhook.deliveries("bot").len(), hooks, "a restart fired the webhook again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(count(db, "SELECT last_value FROM outbox_id_seq").await, last_job, "a restart queued something");
    drop(restarted);
    subscriber.stop().await;
    webhook.stop().await;
}
