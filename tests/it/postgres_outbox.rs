//! The outbox in PostgreSQL under the delivery engine (each test in its own
//! schema; skipped visibly without PostgreSQL, required by `.ci/run`): a
//! claimed delivery comes with its subscription (no lookup per delivery),
//! a batch of outcomes settles each job as before, and the engine claims
//! what it can send, leaving the rest to other replicas.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use herald::clock::{Clock, ManualClock};
use herald::config::{Config, Overrides};
use herald::db::{Database, migrate};
use herald::push::Push;
use herald::push::delivery::claim_size;
use herald::push::sources::TopicSource;
use herald::push::ssrf::{Lookup, SystemLookup};
use herald::push::state::{PgStore, PushStore, Settled};
use herald::snapshot::{Resource, ResourceKind};
use jiff::Timestamp;
use tokio::sync::watch;

use crate::common::postgres::TestDb;
use crate::common::subscriber::Subscriber;
use crate::common::*;

const TOPIC: &str = "https://example.vn/vi/rss.xml";
const PATIENCE: Duration = Duration::from_secs(20);

fn now() -> Timestamp {
    "2026-11-26T00:00:00Z".parse().unwrap()
}

/// A migrated schema.
fn shared(name: &str) -> Option<TestDb> {
    let db = TestDb::create(name)?;
    let database = db.connect();
    database.block_on(migrate::migrate(&database)).unwrap();
    Some(db)
}

/// The value of a `count(*)` query.
fn count(database: &Database, sql: &str) -> i64 {
    database.block_on(async { database.client().await.unwrap().query_one(sql, &[]).await.unwrap().get(0) })
}

/// The topic's feed, always the same bytes.
struct Feed(Arc<Resource>);

impl TopicSource for Feed {
    fn current(&self, path: &str) -> Option<Arc<Resource>> {
        (path == "/vi/rss.xml").then(|| Arc::clone(&self.0))
    }
}

/// A claimed delivery carries its subscription as stored (callback, secret,
/// lease), read in the claim's statement; other kinds carry none. A batch
/// of mixed outcomes settles each job: delivered ones leave the outbox, one
/// whose content changed meanwhile is due again at once, a retry waits, a
/// failure is kept as failed, and a subscription gone takes its jobs along.
#[test]
fn a_claim_reads_the_subscriptions_and_a_batch_settles_each_job() {
    let Some(db) = shared("outbox_claim_batch") else { return };
    let store = PgStore::new(Arc::new(db.connect()), "r", Duration::from_secs(60));
    for i in 0..5 {
        let secret = (i % 2 == 0).then(|| vec![i as u8; 4]);
        store.subscribe(TOPIC, &format!("https://sub{i}.example/cb"), secret.as_deref(), 86_400, now()).unwrap();
    }
    let hubs = vec!["https://hub.example/".to_string()];
    store.announce(&[(TOPIC.to_string(), "v1".to_string())], &hubs, now()).unwrap();
    assert_eq!(store.announce(&[(TOPIC.to_string(), "v2".to_string())], &hubs, now()).unwrap(), 6);
    let subscriptions: BTreeMap<i64, _> = store.subscriptions().unwrap().into_iter().map(|s| (s.id, s)).collect();
    let jobs = store.claim_due(now(), 100, &[]).unwrap();
    assert_eq!(jobs.len(), 6);
    let mut deliveries = Vec::new();
    for job in &jobs {
        match job.subscription_id {
            Some(id) => {
                let read = job.subscription.as_ref().expect("a delivery comes with its subscription");
                assert_eq!(read, &subscriptions[&id]);
                assert_eq!(read.callback, job.target);
                deliveries.push(job.clone());
            }
            None => assert_eq!(job.subscription, None, "a ping has no subscription"),
        }
    }
    assert_eq!(deliveries.len(), 5);

    let later = now() + jiff::SignedDuration::from_secs(600);
    let (done, changed, retried, failed, gone) =
        (&deliveries[0], &deliveries[1], &deliveries[2], &deliveries[3], &deliveries[4]);
    store
        .settle(&[
            Settled::Failed { id: failed.id, error: "refused".into() },
            Settled::Done { id: changed.id, generation: changed.generation + 1 },
            Settled::Retry { id: retried.id, next: later, error: "busy".into() },
            Settled::Done { id: done.id, generation: done.generation },
            Settled::Gone { subscription: gone.subscription_id.unwrap() },
        ])
        .unwrap();
    let left: BTreeMap<i64, _> = store.deliveries(false, 100).unwrap().into_iter().map(|d| (d.id, d)).collect();
    assert!(!left.contains_key(&done.id) && !left.contains_key(&gone.id), "{left:?}");
    assert_eq!(left[&retried.id].attempts, 1);
    assert_eq!(left[&retried.id].last_error.as_deref(), Some("busy"));
    assert!(left[&failed.id].failed && left[&failed.id].last_error.as_deref() == Some("refused"));
    assert!(!left[&changed.id].failed && left[&changed.id].attempts == 0);
    assert_eq!(left.len(), 4, "the ping is still claimed: {left:?}");
    assert!(store.subscription(gone.subscription_id.unwrap()).unwrap().is_none());
    // Due again at once: the changed job only (the ping is still held, the
    // retry waits, the failure is given up).
    let again: Vec<i64> = store.claim_due(now(), 100, &[]).unwrap().into_iter().map(|j| j.id).collect();
    assert_eq!(again, vec![changed.id]);
}

/// With 8 requests at once, an engine fanning out to 200 subscribers that
/// do not answer yet holds one claim's worth of jobs, not the whole
/// outbox: the rest stays unclaimed for other replicas. Answered, every
/// subscriber gets the change once and the outbox empties.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_claims_what_it_can_send() {
    const SUBSCRIBERS: usize = 200;
    let Some(db) = tokio::task::spawn_blocking(|| shared("outbox_engine_claims")).await.unwrap() else { return };
    let state = tempfile::tempdir().unwrap();
    let text = format!(
        "store = \"unused\"\n{TEST_CONFIG}\n[websub]\nallow_private_callbacks = true\n\
         max_concurrent_deliveries = 8\nmax_concurrent_per_host = 8\n"
    );
    let overrides = Overrides { state_dir: Some(state.path().to_path_buf()), ..Overrides::default() };
    let config = Arc::new(Config::parse(&text, std::path::Path::new("feeds.toml"), &overrides).unwrap());
    let subscriber = Subscriber::start().await;
    let callbacks: Vec<String> = (0..SUBSCRIBERS).map(|i| subscriber.callback(&format!("s{i}"))).collect();
    let (store, database) = tokio::task::spawn_blocking(move || {
        let store = PgStore::new(Arc::new(db.connect()), "r", Duration::from_secs(60));
        store.announce(&[(TOPIC.to_string(), "v1".to_string())], &[], now()).unwrap();
        for callback in &callbacks {
            store.subscribe(TOPIC, callback, None, 86_400, now()).unwrap();
        }
        store.announce(&[(TOPIC.to_string(), "v2".to_string())], &[], now()).unwrap();
        (Arc::new(store), (db.connect(), db))
    })
    .await
    .unwrap();
    let database = Arc::new(database);

    subscriber.hold_after(0);
    let (_, config_rx) = watch::channel(Arc::clone(&config));
    let feed = Resource::new(ResourceKind::Feed, b"<rss/>".to_vec(), "application/rss+xml", None);
    let push = Push::with_store(
        Arc::clone(&store) as Arc<dyn PushStore>,
        config_rx,
        Arc::new(Feed(Arc::new(feed))),
        Arc::new(ManualClock::new(now())) as Arc<dyn Clock>,
        Arc::new(SystemLookup) as Arc<dyn Lookup>,
    )
    .unwrap();
    let (shutdown, _) = watch::channel(false);
    let engine = tokio::spawn(Arc::clone(&push.engine).run(shutdown.subscribe()));

    let deadline = tokio::time::Instant::now() + PATIENCE;
    while subscriber.held() < 8 {
        assert!(tokio::time::Instant::now() < deadline, "8 deliveries in flight: {} held", subscriber.held());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let claimed_sql = "SELECT count(*) FROM outbox WHERE claimed_by IS NOT NULL";
    let probe = Arc::clone(&database);
    let claimed = tokio::task::spawn_blocking(move || count(&probe.0, claimed_sql)).await.unwrap();
    assert!(
        (8..=claim_size(&config) as i64).contains(&claimed),
        "{claimed} of {SUBSCRIBERS} claimed (8 can run at once, a claim takes at most {})",
        claim_size(&config)
    );

    subscriber.release();
    let empty = "SELECT count(*) FROM outbox";
    loop {
        let probe = Arc::clone(&database);
        if tokio::task::spawn_blocking(move || count(&probe.0, empty)).await.unwrap() == 0 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline + PATIENCE, "the outbox did not empty");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut per_callback: BTreeMap<String, usize> = BTreeMap::new();
    for delivery in subscriber.all_deliveries() {
        *per_callback.entry(delivery.name).or_default() += 1;
    }
    assert_eq!(per_callback.len(), SUBSCRIBERS);
    assert!(per_callback.values().all(|n| *n == 1), "{per_callback:?}");

    shutdown.send_replace(true);
    engine.await.unwrap();
    subscriber.stop().await;
    tokio::task::spawn_blocking(move || drop((push, store, database))).await.unwrap();
}
