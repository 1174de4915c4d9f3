//! The shared push store: the push state in PostgreSQL, for several
//! replicas of herald at once (`[database] url`).
//!
//! What changes from the SQLite store, and why:
//! - Claims are leases in database time: `claim_due` takes jobs with
//!   `FOR UPDATE SKIP LOCKED` and stamps them with this replica's id and an
//!   end time; a task renews the claims this store holds every third of the
//!   lease. A replica that dies stops renewing, and its jobs are due again
//!   for any replica when the lease ends (`claim_lease_seconds`).
//! - Each change is announced once across replicas by unique keys
//!   (`topics`, `articles`): the replica whose insert takes queues the
//!   deliveries in the same transaction; the others find the key taken and
//!   queue nothing. An elected announcer (an advisory lock held for life)
//!   was the alternative; keys need no election, no failover, and also stop
//!   a replica that is a step behind from announcing an older version again.
//! - Every method is one transaction on a pooled connection, run from the
//!   calling thread with [`Database::block_on`] (inside a runtime, through
//!   `block_in_place`).

mod articles;
mod fediverse;
mod outbox;
mod subscriptions;
mod topics;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;

use super::common::{instant, seconds};
use super::{
    Announced, Delivery, EventDelivery, Follower, NewDelivery, PendingLimits, PushStore, Queued, Result, Settled,
    StoreError, Subscription, host_of,
};
use crate::db::Database;
use crate::parallel::lock;

/// How long versions of feeds and queued message ids are kept (a feed
/// whose bytes return to a version announced within this time is not
/// announced again).
const KEEP_TOPIC_VERSIONS: i64 = 86_400;

/// The longest an idle replica waits before looking for jobs other
/// replicas queued (and then perhaps died), in seconds.
const POLL_SECONDS: i64 = 5;

/// Announcers take turns: a transaction-scoped advisory lock.
const ANNOUNCE_LOCK: &str = "SELECT pg_advisory_xact_lock(hashtextextended('herald.announce' || current_schema(), 0))";

/// The push state in PostgreSQL, shared by replicas.
pub struct PgStore {
    database: Arc<Database>,
    /// This replica's name in claims.
    replica: String,
    /// How long a claim lasts without renewal.
    lease: Duration,
    /// The jobs this store claimed and has not settled or released: the
    /// renewal task extends their claims.
    held: Arc<Mutex<HashSet<i64>>>,
    /// The last failure, until a check succeeds.
    failing: Mutex<Option<String>>,
    renewer: tokio::task::JoinHandle<()>,
}

impl PgStore {
    /// The push store in `database` (migrated), claiming as `replica` for
    /// `lease` at a time. Starts renewing its claims at once.
    pub fn new(database: Arc<Database>, replica: &str, lease: Duration) -> PgStore {
        let held: Arc<Mutex<HashSet<i64>>> = Arc::default();
        let renewer =
            database.handle().spawn(renew_claims(Arc::clone(&database), replica.to_string(), lease, Arc::clone(&held)));
        PgStore { database, replica: replica.to_string(), lease, held, failing: Mutex::new(None), renewer }
    }

    /// The database.
    pub fn database(&self) -> &Arc<Database> {
        &self.database
    }

    /// This replica's name in claims.
    pub fn replica(&self) -> &str {
        &self.replica
    }

    /// Runs `work` on a pooled connection; a failure is remembered for
    /// [`PushStore::failure`]. Call from a blocking thread.
    fn run<T>(
        &self,
        work: impl AsyncFnOnce(&mut deadpool_postgres::Client) -> std::result::Result<T, tokio_postgres::Error>,
    ) -> Result<T> {
        let database = &self.database;
        let query = || {
            database.block_on(async {
                let mut client = database.client().await?;
                work(&mut client).await.map_err(|e| database.error(e))
            })
        };
        // Inside a runtime (a `spawn_blocking` thread, or by mistake an
        // async task of the multi-threaded runtime, as a first signing
        // key read from a delivery), `block_in_place` lets this thread
        // block: it runs the query directly on a blocking thread, and
        // moves a worker's other tasks elsewhere first.
        let result = match tokio::runtime::Handle::try_current() {
            Ok(_) => tokio::task::block_in_place(query),
            Err(_) => query(),
        };
        result.map_err(|e| {
            *lock(&self.failing) = Some(e.to_string());
            StoreError::Shared(e)
        })
    }

    fn lease_seconds(&self) -> f64 {
        self.lease.as_secs_f64()
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        self.renewer.abort();
    }
}

/// Every third of `lease`, extends the claims in `held`.
async fn renew_claims(database: Arc<Database>, replica: String, lease: Duration, held: Arc<Mutex<HashSet<i64>>>) {
    let mut ticks = tokio::time::interval((lease / 3).max(Duration::from_millis(100)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let ids: Vec<i64> = lock(&held).iter().copied().collect();
        if ids.is_empty() {
            continue;
        }
        let renewed = async {
            let mut client = database.client().await?;
            outbox::renew(&mut client, &ids, &replica, lease.as_secs_f64()).await.map_err(|e| database.error(e))
        };
        if let Err(e) = renewed.await {
            tracing::warn!("cannot renew the claims on {} deliveries: {e}", ids.len());
        }
    }
}

impl PushStore for PgStore {
    fn announced(&self, ids: Option<&[String]>) -> Result<std::collections::HashMap<String, Announced>> {
        self.run(async |c| articles::announced(c, ids).await)
    }

    fn has_baseline(&self) -> Result<bool> {
        self.run(async |c| articles::has_baseline(c).await)
    }

    fn record_announcements(
        &self,
        states: &[Announced],
        cancel: &[String],
        events: &[EventDelivery],
        urls: &[(String, Vec<String>)],
        indexnow_due: Timestamp,
    ) -> Result<usize> {
        self.run(async |c| articles::record_announcements(c, states, cancel, events, urls, indexnow_due).await)
    }

    fn announce(&self, changes: &[(String, String)], external_hubs: &[String], now: Timestamp) -> Result<usize> {
        self.run(async |c| topics::announce(c, changes, external_hubs, now).await)
    }

    fn subscribe(
        &self,
        topic: &str,
        callback: &str,
        secret: Option<&[u8]>,
        lease_seconds: u64,
        now: Timestamp,
    ) -> Result<()> {
        self.run(async |c| subscriptions::subscribe(c, topic, callback, secret, lease_seconds, now).await)
    }

    fn unsubscribe(&self, topic: &str, callback: &str) -> Result<bool> {
        self.run(async |c| subscriptions::unsubscribe(c, topic, callback).await)
    }

    fn remove_subscription(&self, id: i64) -> Result<bool> {
        self.run(async |c| subscriptions::remove_subscription(c, id).await)
    }

    fn subscription(&self, id: i64) -> Result<Option<Subscription>> {
        self.run(async |c| subscriptions::subscription(c, id).await)
    }

    fn subscriptions(&self) -> Result<Vec<Subscription>> {
        self.run(async |c| subscriptions::subscriptions(c).await)
    }

    fn prune_expired(&self, now: Timestamp) -> Result<usize> {
        self.run(async |c| subscriptions::prune_expired(c, now).await)
    }

    fn prune_failed(&self, before: Timestamp) -> Result<usize> {
        self.run(async |c| outbox::prune_failed(c, before).await)
    }

    fn enqueue(&self, job: NewDelivery, now: Timestamp, limits: PendingLimits) -> Result<Queued> {
        self.run(async |c| outbox::enqueue(c, job, now, limits).await)
    }

    fn claim_due(&self, now: Timestamp, limit: usize, skip_hosts: &[String]) -> Result<Vec<Delivery>> {
        let lease = self.lease_seconds();
        let jobs = self.run(async |c| outbox::claim_due(c, now, limit, skip_hosts, &self.replica, lease).await)?;
        lock(&self.held).extend(jobs.iter().map(|j| j.id));
        Ok(jobs)
    }

    fn settle(&self, outcomes: &[Settled]) -> Result<()> {
        self.run(async |c| outbox::settle(c, outcomes, &self.replica).await)?;
        let mut held = lock(&self.held);
        for outcome in outcomes {
            match outcome {
                Settled::Done { id, .. } | Settled::Retry { id, .. } | Settled::Failed { id, .. } => {
                    held.remove(id);
                }
                Settled::Gone { .. } => {}
            }
        }
        Ok(())
    }

    fn release(&self, ids: &[i64]) -> Result<()> {
        self.run(async |c| outbox::release(c, ids, &self.replica).await)?;
        let mut held = lock(&self.held);
        for id in ids {
            held.remove(id);
        }
        Ok(())
    }

    fn release_claims(&self) -> Result<()> {
        self.run(async |c| outbox::release_claims(c, &self.replica).await)?;
        lock(&self.held).clear();
        Ok(())
    }

    fn next_due(&self) -> Result<Option<Timestamp>> {
        self.run(async |c| outbox::next_due(c, &self.replica, POLL_SECONDS).await)
    }

    fn deliveries(&self, failed_only: bool, limit: usize) -> Result<Vec<Delivery>> {
        self.run(async |c| outbox::deliveries(c, failed_only, limit).await)
    }

    fn retry_now(&self, id: i64, now: Timestamp) -> Result<bool> {
        self.run(async |c| outbox::retry_now(c, id, now).await)
    }

    fn queue_events(&self, events: &[EventDelivery]) -> Result<usize> {
        self.run(async |c| articles::queue_events(c, events).await)
    }

    fn actor_key(&self, actor: &str) -> Result<Option<String>> {
        self.run(async |c| fediverse::actor_key(c, actor).await)
    }

    fn keep_actor_key(&self, actor: &str, pem: &str, now: Timestamp) -> Result<String> {
        self.run(async |c| fediverse::keep_actor_key(c, actor, pem, now).await)
    }

    fn add_follower(&self, follower: &Follower) -> Result<()> {
        self.run(async |c| fediverse::add_follower(c, follower).await)
    }

    fn remove_follower(&self, actor: &str, follower: &str) -> Result<bool> {
        self.run(async |c| fediverse::remove_follower(c, actor, follower).await)
    }

    fn remove_follows_of(&self, follower: &str) -> Result<usize> {
        self.run(async |c| fediverse::remove_follows_of(c, follower).await)
    }

    fn remove_followers_at(&self, actor: &str, inbox: &str) -> Result<usize> {
        self.run(async |c| fediverse::remove_followers_at(c, actor, inbox).await)
    }

    fn followers(&self, actor: Option<&str>) -> Result<Vec<Follower>> {
        self.run(async |c| fediverse::followers(c, actor).await)
    }

    fn follower_counts(&self) -> Result<Vec<(String, u64)>> {
        self.run(async |c| fediverse::follower_counts(c).await)
    }

    fn failure(&self) -> Option<String> {
        lock(&self.failing).clone()
    }

    fn check(&self) -> Option<String> {
        self.failure()?;
        let probe = self.run(async |c| {
            c.execute(
                "INSERT INTO meta (key, value) VALUES ('checked_at', now()::text)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                &[],
            )
            .await
        });
        if probe.is_ok() {
            *lock(&self.failing) = None;
        }
        self.failure()
    }
}
