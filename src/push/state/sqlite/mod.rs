//! The embedded push store: one SQLite file in the state folder, WAL mode.
//!
//! Every method is one transaction on one connection (behind a mutex: the
//! daemon is the only writer). The SQL lives by job: [`schema`] opens the
//! file and checks its version, [`subscriptions`], [`outbox`] (queued
//! deliveries, their claims and outcomes), [`topics`] (WebSub feed
//! versions) and [`articles`] (article versions, webhook events, IndexNow
//! batches).

mod articles;
mod outbox;
mod schema;
mod subscriptions;
mod topics;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use jiff::Timestamp;
use rusqlite::Connection;

use super::{
    Announced, Delivery, EventDelivery, NewDelivery, PushStore, Result, Settled, StoreError, Subscription, host_of,
};
pub use articles::INDEXNOW_BATCH;

/// The embedded push store: one SQLite file, WAL mode.
pub struct SqliteStore {
    path: PathBuf,
    connection: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path`.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        let fail = |source| StoreError::Database { path: path.to_path_buf(), source };
        let connection = schema::open(path).map_err(fail)?;
        Ok(SqliteStore { path: path.to_path_buf(), connection: Mutex::new(connection) })
    }

    /// The file of the store in `state_dir`.
    pub fn file_in(state_dir: &Path) -> PathBuf {
        state_dir.join("herald.sqlite3")
    }

    /// Runs `work` on the connection, naming the file in its error.
    fn with<T>(&self, work: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> Result<T> {
        let mut connection = self.connection.lock().unwrap_or_else(|p| p.into_inner());
        work(&mut connection).map_err(|source| StoreError::Database { path: self.path.clone(), source })
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

    fn enqueue(&self, job: NewDelivery, now: Timestamp) -> Result<()> {
        self.with(|connection| outbox::enqueue(connection, job, now))
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
}

/// A time as the tables store it: Unix seconds.
fn seconds(at: Timestamp) -> i64 {
    at.as_second()
}

/// A time read from the tables.
fn instant(seconds: i64) -> Timestamp {
    Timestamp::from_second(seconds).unwrap_or(Timestamp::UNIX_EPOCH)
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
