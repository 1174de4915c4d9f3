//! How fast replicas drain the PostgreSQL outbox, without HTTP: claims and
//! settlements through `PgStore`, the code `herald serve` runs.
//!
//! ```sh
//! cargo run --release --example outbox_claims -- URL JOBS REPLICAS BATCH
//! ```
//!
//! URL names a database (or a schema, with `options=-c search_path=…`) that
//! is migrated if needed and must hold no herald state yet: `benches/replicas`
//! makes a schema for it and drops it afterwards. JOBS subscriptions to one
//! topic are written with one SQL statement (not timed); announcing a new
//! version of the topic queues one delivery per subscription (timed:
//! `announce`). Then REPLICAS threads, each a replica of its own (its own
//! pool and claim id), loop: claim up to BATCH due jobs
//! (`FOR UPDATE SKIP LOCKED`, under a lease), settle them all as delivered
//! (one transaction), until the outbox is empty (timed: `drain`). Prints
//! one JSON object: the times, jobs per second, claim and settle
//! transactions per second, and how many jobs each replica took.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use herald::config::{DatabaseSettings, DatabaseUrl};
use herald::db::Database;
use herald::push::state::{PgStore, PushStore, Settled};
use jiff::Timestamp;

const TOPIC: &str = "http://127.0.0.1:18200/vi/rss.xml";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: outbox_claims URL JOBS REPLICAS BATCH";
    let url = DatabaseUrl::parse(args.get(1).expect(usage)).unwrap_or_else(|e| panic!("{e}"));
    let number = |i: usize| -> usize { args.get(i).expect(usage).parse().expect(usage) };
    let (jobs, replicas, batch) = (number(2), number(3), number(4));
    let settings = DatabaseSettings { url: Some(url.clone()), pool_size: 2, ..DatabaseSettings::default() };
    let database = Arc::new(Database::connect(&url, &settings).unwrap_or_else(|e| panic!("{e}")));
    database.block_on(herald::db::migrate::migrate(&database)).unwrap_or_else(|e| panic!("{e}"));

    // The subscribers: one statement, not timed.
    let now = Timestamp::now();
    let seconds = now.as_second();
    database.block_on(async {
        let client = database.client().await.unwrap();
        let queued: i64 = client.query_one("SELECT count(*) FROM outbox", &[]).await.unwrap().get(0);
        assert_eq!(queued, 0, "the outbox is not empty: give a fresh schema");
        client
            .execute(
                "INSERT INTO subscriptions (topic, callback, host, lease_seconds, expires_at, created_at, renewed_at)
                 SELECT $1, 'http://127.0.0.1:9/cb/' || i, '127.0.0.1', 864000, $2::bigint + 864000, $2::bigint, $2::bigint
                 FROM generate_series(1, $3::bigint) AS i",
                &[&TOPIC, &seconds, &(jobs as i64)],
            )
            .await
            .unwrap();
    });

    // Announcing a new version queues one delivery per subscriber.
    let announcer = PgStore::new(Arc::clone(&database), "bench-announcer", settings.claim_lease);
    announcer.announce(&[(TOPIC.to_string(), "v1".to_string())], &[], now).unwrap();
    let started = Instant::now();
    let queued = announcer.announce(&[(TOPIC.to_string(), "v2".to_string())], &[], now).unwrap();
    let announce = started.elapsed();
    assert_eq!(queued, jobs, "announcing queued {queued} jobs, not {jobs}");

    // The replicas drain it.
    let claims = Arc::new(AtomicU64::new(0));
    let settles = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..replicas)
        .map(|i| {
            let (url, settings) = (url.clone(), settings.clone());
            let (claims, settles) = (Arc::clone(&claims), Arc::clone(&settles));
            std::thread::spawn(move || {
                let database = Arc::new(Database::connect(&url, &settings).unwrap_or_else(|e| panic!("{e}")));
                let store = PgStore::new(database, &format!("bench-replica-{i}"), settings.claim_lease);
                let mut taken = 0usize;
                loop {
                    let due = store.claim_due(Timestamp::now(), batch, &[]).unwrap();
                    claims.fetch_add(1, Ordering::Relaxed);
                    if due.is_empty() {
                        return taken;
                    }
                    taken += due.len();
                    let done: Vec<Settled> =
                        due.iter().map(|job| Settled::Done { id: job.id, generation: job.generation }).collect();
                    store.settle(&done).unwrap();
                    settles.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let taken: Vec<usize> = workers.into_iter().map(|w| w.join().expect("a replica failed")).collect();
    let drain = started.elapsed();
    let left: i64 = database.block_on(async {
        database.client().await.unwrap().query_one("SELECT count(*) FROM outbox", &[]).await.unwrap().get(0)
    });
    assert_eq!(left, 0, "jobs left in the outbox");
    assert_eq!(taken.iter().sum::<usize>(), jobs, "each job claimed once");

    let per_second = |n: f64, d: Duration| (n / d.as_secs_f64() * 10.0).round() / 10.0;
    let claims = claims.load(Ordering::Relaxed) as f64;
    let settles = settles.load(Ordering::Relaxed) as f64;
    println!(
        "{}",
        serde_json::json!({
            "jobs": jobs,
            "replicas": replicas,
            "batch": batch,
            "announce_s": (announce.as_secs_f64() * 1000.0).round() / 1000.0,
            "queued_per_s": per_second(jobs as f64, announce),
            "drain_s": (drain.as_secs_f64() * 1000.0).round() / 1000.0,
            "jobs_per_s": per_second(jobs as f64, drain),
            "claim_transactions": claims,
            "claim_transactions_per_s": per_second(claims, drain),
            "settle_transactions_per_s": per_second(settles, drain),
            "taken_per_replica": taken,
        })
    );
}
