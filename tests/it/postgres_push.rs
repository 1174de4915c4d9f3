//! The push state in PostgreSQL, shared by replicas (each test in its own
//! schema; skipped visibly without PostgreSQL, required by `.ci/run`):
//! claims are exclusive and lapse with their lease when a replica dies
//! (and not while it lives), each change is announced once however many
//! replicas see it, and a subscription made through one replica is served
//! by all.

use std::sync::Arc;
use std::time::{Duration, Instant};

use herald::db::migrate;
use herald::push::state::{
    DeliveryKind, EventDelivery, NewDelivery, PendingLimits, PgStore, PushStore, Queued, Settled,
};
use jiff::Timestamp;

use crate::common::postgres::TestDb;

const ROOMY: PendingLimits = PendingLimits { per_topic: 1000, overall: 1000 };

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// A migrated schema and a way to open replicas' stores on it.
struct Shared {
    db: TestDb,
}

impl Shared {
    fn create(name: &str) -> Option<Shared> {
        let db = TestDb::create(name)?;
        let database = db.connect();
        database.block_on(migrate::migrate(&database)).unwrap();
        Some(Shared { db })
    }

    /// A replica's store: a pool of its own, as another process would have.
    fn replica(&self, name: &str, lease: Duration) -> PgStore {
        PgStore::new(Arc::new(self.db.connect()), name, lease)
    }
}

fn verification(i: usize) -> NewDelivery {
    NewDelivery {
        kind: DeliveryKind::Verify,
        target: format!("https://cb{}.example/{i}", i % 3),
        topic: format!("https://x/{i}.xml"),
        payload: "{}".into(),
    }
}

/// Polls `probe` until it returns `Some`, for at most `limit`.
fn eventually<T>(limit: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(start.elapsed() < limit, "not within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Four replicas claiming at once share the jobs without overlap; a
/// replica that dies (its store dropped, so it renews nothing) loses its
/// claims when the lease ends and another takes them; a living replica
/// keeps its claims past the lease by renewing them.
#[test]
fn claims_are_exclusive_and_lapse_with_their_lease() {
    let Some(shared) = Shared::create("claims_and_leases") else { return };
    let now = at("2026-11-26T00:00:00Z");
    let lease = Duration::from_secs(2);
    let first = shared.replica("first", lease);
    for i in 0..200 {
        assert_eq!(first.enqueue(verification(i), now, ROOMY).unwrap(), Queued::Yes);
    }
    let stores: Vec<Arc<PgStore>> = (0..4).map(|i| Arc::new(shared.replica(&format!("r{i}"), lease))).collect();
    let claimers: Vec<_> = stores
        .iter()
        .map(|store| {
            let store = Arc::clone(store);
            std::thread::spawn(move || {
                let mut mine = Vec::new();
                loop {
                    let jobs = store.claim_due(now, 7, &[]).unwrap();
                    if jobs.is_empty() {
                        return mine;
                    }
                    mine.extend(jobs.into_iter().map(|j| j.id));
                }
            })
        })
        .collect();
    let claimed: Vec<Vec<i64>> = claimers.into_iter().map(|t| t.join().unwrap()).collect();
    let mut all: Vec<i64> = claimed.iter().flatten().copied().collect();
    all.sort_unstable();
    let total = all.len();
    all.dedup();
    assert_eq!((total, all.len()), (200, 200), "every job claimed exactly once");
    assert!(first.claim_due(now, 1000, &[]).unwrap().is_empty(), "nothing left to claim");

    // Replica 0 dies: its jobs come back once its lease ends, not before.
    let dead: Vec<i64> = claimed[0].clone();
    assert!(!dead.is_empty());
    let mut survivors = stores;
    let victim = survivors.remove(0);
    let died = Instant::now();
    drop(Arc::try_unwrap(victim).ok().expect("the claimers have ended"));
    let mut taken: Vec<i64> = Vec::new();
    eventually(Duration::from_secs(20), || {
        taken.extend(survivors[0].claim_due(now, 1000, &[]).unwrap().into_iter().map(|j| j.id));
        (taken.len() >= dead.len()).then_some(())
    });
    assert!(died.elapsed() >= lease - Duration::from_millis(300), "taken after {:?}", died.elapsed());
    taken.sort_unstable();
    let mut dead = dead;
    dead.sort_unstable();
    assert_eq!(taken, dead, "exactly the dead replica's jobs");

    // The living replicas renewed theirs: still nothing for anyone else.
    std::thread::sleep(lease * 2);
    assert!(first.claim_due(now, 1000, &[]).unwrap().is_empty(), "living replicas keep their claims");

    // Only the holder settles a claim: a retry from a stale holder is ignored.
    let job = taken[0];
    first.settle(&[Settled::Retry { id: job, next: now, error: "not mine".into() }]).unwrap();
    assert!(first.claim_due(now, 1000, &[]).unwrap().is_empty());
    survivors[0].settle(&[Settled::Done { id: job, generation: 0 }]).unwrap();
    assert!(first.deliveries(false, 1000).unwrap().iter().all(|d| d.id != job));
}

/// A replica's renewal of its claims never waits for a job another
/// transaction holds (a settle in progress: waiting could deadlock with it,
/// and the settle's outcomes would be lost, so delivered jobs would go
/// again): every other claim is renewed while that job is held, so no other
/// replica can take them, however many leases pass.
#[test]
fn renewing_claims_skips_a_job_another_transaction_holds() {
    let Some(shared) = Shared::create("renew_skips_held") else { return };
    let now = at("2026-11-26T00:00:00Z");
    let lease = Duration::from_millis(900);
    let holder = shared.replica("holder", lease);
    for i in 0..5 {
        assert_eq!(holder.enqueue(verification(i), now, ROOMY).unwrap(), Queued::Yes);
    }
    let jobs = holder.claim_due(now, 10, &[]).unwrap();
    assert_eq!(jobs.len(), 5);
    let held = jobs[2].id;

    // Another transaction locks one claimed job's row until told to stop.
    let (locked_tx, locked) = std::sync::mpsc::channel();
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let database = shared.db.connect();
    let locker = std::thread::spawn(move || {
        database.block_on(async {
            let mut client = database.client().await.unwrap();
            let tx = client.transaction().await.unwrap();
            tx.execute("SELECT 1 FROM outbox WHERE id = $1 FOR UPDATE", &[&held]).await.unwrap();
            locked_tx.send(()).unwrap();
            let _ = tokio::task::spawn_blocking(move || stopped.recv()).await;
            tx.rollback().await.unwrap();
        })
    });
    locked.recv_timeout(Duration::from_secs(20)).expect("the row was locked");

    // Three leases pass: the holder keeps renewing the four others.
    let other = shared.replica("other", lease);
    let start = Instant::now();
    while start.elapsed() < lease * 3 {
        let taken: Vec<i64> = other.claim_due(now, 10, &[]).unwrap().into_iter().map(|j| j.id).collect();
        assert!(taken.is_empty(), "claims lapsed while a job was held elsewhere: {taken:?} taken");
        std::thread::sleep(Duration::from_millis(100));
    }
    stop.send(()).unwrap();
    locker.join().unwrap();
}

/// Two replicas see the same feed change, at once: its deliveries are
/// queued once. A replica a step behind announcing the previous version
/// queues nothing; a new version is announced again, once.
#[test]
fn each_feed_change_is_announced_once_across_replicas() {
    let Some(shared) = Shared::create("announce_once") else { return };
    let now = at("2026-11-26T00:00:00Z");
    let (a, b) = (
        Arc::new(shared.replica("a", Duration::from_secs(60))),
        Arc::new(shared.replica("b", Duration::from_secs(60))),
    );
    for i in 0..5 {
        a.subscribe("https://x/rss.xml", &format!("https://sub{i}.example/cb"), None, 86_400, now).unwrap();
    }
    // Subscribed through a, served by b.
    assert_eq!(b.subscriptions().unwrap().len(), 5);
    let topic = |v: &str| vec![("https://x/rss.xml".to_string(), v.to_string())];
    let hubs = vec!["https://hub.example/".to_string()];
    assert_eq!(a.announce(&topic("v1"), &hubs, now).unwrap(), 0, "baseline");
    assert_eq!(b.announce(&topic("v1"), &hubs, now).unwrap(), 0, "baseline, seen by b too");
    for round in 0..5 {
        let version = format!("v2-{round}");
        let announcers: Vec<_> = [&a, &b]
            .into_iter()
            .map(|store| {
                let (store, changes, hubs) = (Arc::clone(store), topic(&version), hubs.clone());
                std::thread::spawn(move || store.announce(&changes, &hubs, now).unwrap())
            })
            .collect();
        let queued: Vec<usize> = announcers.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(queued.iter().sum::<usize>(), 6, "round {round}: 5 deliveries and 1 ping, once: {queued:?}");
        assert!(queued.contains(&0), "the other replica queued nothing: {queued:?}");
        let jobs = a.claim_due(now, 100, &[]).unwrap();
        assert_eq!(jobs.len(), 6);
        a.settle(&jobs.iter().map(|j| Settled::Done { id: j.id, generation: j.generation }).collect::<Vec<_>>())
            .unwrap();
    }
    assert_eq!(b.announce(&topic("v2-3"), &hubs, now).unwrap(), 0, "a replica a step behind announces nothing");
    assert!(a.deliveries(false, 100).unwrap().is_empty());
}

/// Webhook events and IndexNow URLs of one article change, recorded by two
/// replicas that both saw it: queued once.
#[test]
fn each_article_event_is_queued_once_across_replicas() {
    use herald::push::state::Announced;
    let Some(shared) = Shared::create("events_once") else { return };
    let now = at("2026-11-26T00:00:00Z");
    let (a, b) = (shared.replica("a", Duration::from_secs(60)), shared.replica("b", Duration::from_secs(60)));
    let state = Announced {
        id: "vi/thoi-su/a".into(),
        version: "v1".into(),
        visible: true,
        url: "https://x/a".into(),
        lang: "vi".into(),
        section: "thoi-su".into(),
        sequence: 1,
    };
    let event = EventDelivery {
        kind: DeliveryKind::Webhook,
        target: "https://bot.example/hook".into(),
        webhook: "bot".into(),
        message_id: "msg_1".into(),
        payload: "{}".into(),
        due: now,
        key: "webhook:bot:vi/thoi-su/a:article.published".into(),
        merge_into: None,
    };
    let urls = vec![("x".to_string(), vec!["https://x/a".to_string()])];
    assert!(!a.has_baseline().unwrap());
    assert_eq!(
        a.record_announcements(std::slice::from_ref(&state), &[], std::slice::from_ref(&event), &urls, now).unwrap(),
        2
    );
    assert_eq!(
        b.record_announcements(std::slice::from_ref(&state), &[], std::slice::from_ref(&event), &urls, now).unwrap(),
        0
    );
    assert!(b.has_baseline().unwrap());
    let jobs = b.deliveries(false, 100).unwrap();
    assert_eq!(jobs.iter().map(|j| j.kind).collect::<Vec<_>>(), [DeliveryKind::Webhook, DeliveryKind::IndexNow]);
    assert_eq!(b.announced(None).unwrap()["vi/thoi-su/a"], state);
    // The next version is news again.
    let next = Announced { version: "v2".into(), sequence: 2, ..state };
    let update = EventDelivery { message_id: "msg_2".into(), ..event };
    assert_eq!(
        b.record_announcements(std::slice::from_ref(&next), &[], std::slice::from_ref(&update), &[], now).unwrap(),
        1,
        "replaces the waiting one"
    );
    assert_eq!(a.record_announcements(&[next], &[], &[update], &[], now).unwrap(), 0);
    let ids: Vec<_> = a.deliveries(false, 100).unwrap().into_iter().filter_map(|j| j.message_id).collect();
    assert_eq!(ids, ["msg_2"]);
}

/// ActivityPub's half of the store: a key made by one replica is the one
/// every replica signs with; a follow accepted through one replica is
/// seen by all.
#[test]
fn actor_keys_and_followers_are_shared() {
    use herald::push::state::Follower;
    let Some(shared) = Shared::create("fediverse") else { return };
    let now = at("2026-12-01T00:00:00Z");
    let (a, b) = (shared.replica("a", Duration::from_secs(60)), shared.replica("b", Duration::from_secs(60)));
    assert_eq!(a.actor_key("vi").unwrap(), None);
    assert_eq!(a.keep_actor_key("vi", "first", now).unwrap(), "first");
    assert_eq!(b.keep_actor_key("vi", "second", now).unwrap(), "first", "a key is never replaced");
    let follower = |actor: &str, who: &str, shared_inbox: Option<&str>| Follower {
        actor: actor.into(),
        follower: format!("https://{who}/users/a"),
        inbox: format!("https://{who}/users/a/inbox"),
        shared_inbox: shared_inbox.map(str::to_string),
        follow_id: format!("https://{who}/follows/1"),
        created_at: now,
    };
    a.add_follower(&follower("vi", "a.example", Some("https://a.example/inbox"))).unwrap();
    b.add_follower(&follower("vi", "b.example", None)).unwrap();
    a.add_follower(&follower("en", "a.example", Some("https://a.example/inbox"))).unwrap();
    b.add_follower(&follower("en", "a.example", Some("https://a.example/inbox"))).unwrap();
    assert_eq!(b.follower_counts().unwrap(), [("en".to_string(), 1), ("vi".to_string(), 2)]);
    assert_eq!(b.followers(Some("vi")).unwrap()[0].delivery_inbox(), "https://a.example/inbox");
    assert_eq!(a.followers(None).unwrap().len(), 3);
    assert!(b.remove_follower("vi", "https://b.example/users/a").unwrap());
    assert!(!a.remove_follower("vi", "https://b.example/users/a").unwrap());
    assert_eq!(a.remove_followers_at("vi", "https://a.example/inbox").unwrap(), 1);
    assert_eq!(b.remove_follows_of("https://a.example/users/a").unwrap(), 1);
    assert!(a.followers(None).unwrap().is_empty());
}

/// A failing shared store names the database without its password, in
/// its errors and in what `/healthz` shows (`failure`).
#[test]
fn a_failing_store_never_shows_the_password() {
    let Some(db) = TestDb::create("failing_store") else { return };
    // Trust authentication takes any password; the schema is not migrated,
    // so every query fails.
    let url = herald::config::DatabaseUrl::parse(&db.url.secret().replace("postgres@", "postgres:Sekr1t-pw@")).unwrap();
    let database = Arc::new(herald::db::Database::connect(&url, &db.settings()).unwrap());
    let store = PgStore::new(database, "r", Duration::from_secs(60));
    let error = store.subscriptions().unwrap_err().to_string();
    assert!(error.contains("postgres:***@") && error.contains("subscriptions"), "{error}");
    let failure = store.failure().unwrap();
    assert!(!error.contains("Sekr1t") && !failure.contains("Sekr1t"), "{failure}");
    assert!(store.check().is_some(), "still failing");
}

/// A store call made by mistake from an async task of the multi-threaded
/// runtime (as a delivery reading a signing key) works instead of
/// panicking.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_from_an_async_task_does_not_panic() {
    let Some(shared) = tokio::task::spawn_blocking(|| Shared::create("from_async")).await.unwrap() else { return };
    let store =
        tokio::task::spawn_blocking(move || (shared.replica("a", Duration::from_secs(60)), shared)).await.unwrap();
    assert!(store.0.subscriptions().unwrap().is_empty());
    assert_eq!(store.0.keep_actor_key("vi", "pem", at("2026-12-01T00:00:00Z")).unwrap(), "pem");
    tokio::task::spawn_blocking(move || drop(store)).await.unwrap();
}
