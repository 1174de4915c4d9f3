//! The embedded push store: one SQLite file in the state folder, WAL mode.
//!
//! Every method is one transaction on one connection (behind a mutex: the
//! daemon is the only writer). The SQL lives by job: [`schema`] opens the
//! file and checks its version, [`subscriptions`], [`outbox`] (queued
//! deliveries, their claims and outcomes), [`topics`] (WebSub feed
//! versions), [`articles`] (article versions, webhook events, IndexNow
//! batches) and [`fediverse`] (actor keys, followers).

mod articles;
mod fediverse;
mod outbox;
mod schema;
mod subscriptions;
mod topics;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use jiff::Timestamp;
use rusqlite::Connection;

use super::common::{instant, seconds};
use crate::parallel::lock;

use super::{
    Announced, Delivery, EventDelivery, Follower, NewDelivery, PendingLimits, PushStore, Queued, Result, Settled,
    StoreError, Subscription, host_of,
};
pub use schema::Initialise;

/// Size of the row a check writes: larger than the store's own
/// transactions, so that the room a failed one left in the journal is not
/// enough for it (on a full disk a smaller write could still pass).
const CHECK_BYTES: i64 = 256 * 1024;

/// The embedded push store: one SQLite file, WAL mode.
pub struct SqliteStore {
    path: PathBuf,
    connection: Mutex<Connection>,
    /// The last failure, until a check succeeds.
    failing: Mutex<Option<String>>,
}

impl SqliteStore {
    /// Opens the store at `path`, creating it when no file is there; an
    /// empty or foreign file is refused ([`StoreError::Refused`]).
    pub fn open(path: &Path) -> Result<SqliteStore> {
        SqliteStore::open_with(path, Initialise::IfMissing)
    }

    /// Opens the store at `path`, creating it when no file is there, and
    /// initialising an existing empty file when `initialise` allows it.
    pub fn open_with(path: &Path, initialise: Initialise) -> Result<SqliteStore> {
        let connection = schema::open(path, initialise).map_err(|e| match e {
            schema::OpenError::Sqlite(source) => StoreError::Database { path: path.to_path_buf(), source },
            schema::OpenError::Refused(message) => StoreError::Refused(message),
        })?;
        Ok(SqliteStore { path: path.to_path_buf(), connection: Mutex::new(connection), failing: Mutex::new(None) })
    }

    /// The file of the store in `state_dir`.
    pub fn file_in(state_dir: &Path) -> PathBuf {
        state_dir.join("herald.sqlite3")
    }

    /// Runs `work` on the connection, naming the file in its error; a
    /// failure is remembered for [`PushStore::failure`].
    fn with<T>(&self, work: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> Result<T> {
        let mut connection = lock(&self.connection);
        work(&mut connection).map_err(|source| {
            let error = StoreError::Database { path: self.path.clone(), source };
            *lock(&self.failing) = Some(error.to_string());
            error
        })
    }
}

impl PushStore for SqliteStore {
    fn announced(&self, ids: Option<&[String]>) -> Result<std::collections::HashMap<String, Announced>> {
        self.with(|connection| articles::announced(connection, ids))
    }

    fn has_baseline(&self) -> Result<bool> {
        self.with(articles::has_baseline)
    }

    fn record_announcements(
        &self,
        states: &[Announced],
        cancel: &[String],
        events: &[EventDelivery],
        urls: &[(String, Vec<String>)],
        indexnow_due: Timestamp,
    ) -> Result<usize> {
        self.with(|connection| articles::record_announcements(connection, states, cancel, events, urls, indexnow_due))
    }

    fn announce(&self, changes: &[(String, String)], external_hubs: &[String], now: Timestamp) -> Result<usize> {
        self.with(|connection| topics::announce(connection, changes, external_hubs, now))
    }

    fn subscribe(
        &self,
        topic: &str,
        callback: &str,
        secret: Option<&[u8]>,
        lease_seconds: u64,
        now: Timestamp,
    ) -> Result<()> {
        self.with(|connection| subscriptions::subscribe(connection, topic, callback, secret, lease_seconds, now))
    }

    fn unsubscribe(&self, topic: &str, callback: &str) -> Result<bool> {
        self.with(|connection| subscriptions::unsubscribe(connection, topic, callback))
    }

    fn remove_subscription(&self, id: i64) -> Result<bool> {
        self.with(|connection| subscriptions::remove_subscription(connection, id))
    }

    fn subscription(&self, id: i64) -> Result<Option<Subscription>> {
        self.with(|connection| subscriptions::subscription(connection, id))
    }

    fn subscriptions(&self) -> Result<Vec<Subscription>> {
        self.with(subscriptions::subscriptions)
    }

    fn prune_expired(&self, now: Timestamp) -> Result<usize> {
        self.with(|connection| subscriptions::prune_expired(connection, now))
    }

    fn prune_failed(&self, before: Timestamp) -> Result<usize> {
        self.with(|connection| outbox::prune_failed(connection, before))
    }

    fn enqueue(&self, job: NewDelivery, now: Timestamp, limits: PendingLimits) -> Result<Queued> {
        self.with(|connection| outbox::enqueue(connection, job, now, limits))
    }

    fn claim_due(&self, now: Timestamp, limit: usize, skip_hosts: &[String]) -> Result<Vec<Delivery>> {
        self.with(|connection| outbox::claim_due(connection, now, limit, skip_hosts))
    }

    fn settle(&self, outcomes: &[Settled]) -> Result<()> {
        self.with(|connection| outbox::settle(connection, outcomes))
    }

    fn release(&self, ids: &[i64]) -> Result<()> {
        self.with(|connection| outbox::release(connection, ids))
    }

    fn release_claims(&self) -> Result<()> {
        self.with(outbox::release_claims)
    }

    fn next_due(&self) -> Result<Option<Timestamp>> {
        self.with(outbox::next_due)
    }

    fn deliveries(&self, failed_only: bool, limit: usize) -> Result<Vec<Delivery>> {
        self.with(|connection| outbox::deliveries(connection, failed_only, limit))
    }

    fn retry_now(&self, id: i64, now: Timestamp) -> Result<bool> {
        self.with(|connection| outbox::retry_now(connection, id, now))
    }

    fn queue_events(&self, events: &[EventDelivery]) -> Result<usize> {
        self.with(|connection| articles::queue_events(connection, events))
    }

    fn actor_key(&self, actor: &str) -> Result<Option<String>> {
        self.with(|connection| fediverse::actor_key(connection, actor))
    }

    fn keep_actor_key(&self, actor: &str, pem: &str, now: Timestamp) -> Result<String> {
        self.with(|connection| fediverse::keep_actor_key(connection, actor, pem, now))
    }

    fn add_follower(&self, follower: &Follower) -> Result<()> {
        self.with(|connection| fediverse::add_follower(connection, follower))
    }

    fn remove_follower(&self, actor: &str, follower: &str) -> Result<bool> {
        self.with(|connection| fediverse::remove_follower(connection, actor, follower))
    }

    fn remove_follows_of(&self, follower: &str) -> Result<usize> {
        self.with(|connection| fediverse::remove_follows_of(connection, follower))
    }

    fn remove_followers_at(&self, actor: &str, inbox: &str) -> Result<usize> {
        self.with(|connection| fediverse::remove_followers_at(connection, actor, inbox))
    }

    fn followers(&self, actor: Option<&str>) -> Result<Vec<Follower>> {
        self.with(|connection| fediverse::followers(connection, actor))
    }

    fn follower_counts(&self) -> Result<Vec<(String, u64)>> {
        self.with(fediverse::follower_counts)
    }

    fn failure(&self) -> Option<String> {
        lock(&self.failing).clone()
    }

    fn check(&self) -> Option<String> {
        self.failure()?;
        let probe = self.with(|connection| {
            connection.execute(
                "INSERT INTO meta (key, value) VALUES ('checked_at', strftime('%s', 'now') || hex(zeroblob(?1)))
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [CHECK_BYTES / 2],
            )
        });
        if probe.is_ok() {
            *lock(&self.failing) = None;
            // The row was only there to be written.
            let _ = self.with(|connection| connection.execute("DELETE FROM meta WHERE key = 'checked_at'", []));
        }
        self.failure()
    }
}

#[cfg(test)]
mod testing {
    //! What the tests of the SQL files share.
    use super::*;

    pub(super) fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    pub(super) fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("push.sqlite3")).unwrap();
        (dir, store)
    }

    pub(super) fn event(id: &str, key: &str, merge_into: Option<&str>, due: Timestamp) -> EventDelivery {
        EventDelivery {
            kind: crate::push::state::DeliveryKind::Webhook,
            target: "https://bot/h".into(),
            webhook: "bot".into(),
            message_id: id.into(),
            payload: format!("{{\"v\":\"{id}\"}}"),
            due,
            key: key.into(),
            merge_into: merge_into.map(str::to_string),
        }
    }

    pub(super) fn message_ids(store: &SqliteStore) -> Vec<String> {
        store.deliveries(false, 100).unwrap().into_iter().filter_map(|j| j.message_id).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    /// A full disk (here: the page limit reached) is remembered until a
    /// check can write again.
    #[test]
    fn a_failing_store_says_why_until_a_check_writes_again() {
        let (_dir, store) = store();
        assert_eq!(store.check(), None, "a healthy store");
        let pages: i64 = store.with(|c| c.query_row("PRAGMA page_count", [], |r| r.get(0))).unwrap();
        store.with(|c| c.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |_| Ok(()))).unwrap();
        let now = at("2026-11-26T00:00:00Z");
        let limits = PendingLimits { per_topic: 1000, overall: 1000 };
        let job = |i: usize| NewDelivery {
            kind: super::super::DeliveryKind::Verify,
            target: format!("https://cb.example/{i}"),
            topic: "t".into(),
            payload: "x".repeat(8192),
        };
        let full = (0..100).find_map(|i| store.enqueue(job(i), now, limits).err());
        let error = full.expect("the page limit was never reached").to_string();
        assert!(error.contains("full"), "{error}");
        let failure = store.failure().unwrap();
        assert!(failure.contains("push.sqlite3") && failure.contains("full"), "{failure}");
        assert!(store.check().is_some(), "still full");
        store.with(|c| c.query_row("PRAGMA max_page_count = 1000000", [], |_| Ok(()))).unwrap();
        assert_eq!(store.check(), None);
        assert_eq!(store.failure(), None);
    }
}
