//! Durable push state: WebSub subscriptions, the last announced version of
//! each topic, and the outbox of pending outgoing requests.
//!
//! Everything that must survive a crash lives here, and every change is one
//! transaction: a topic's new version and the deliveries it causes are
//! committed together, before anyone is called; a delivery row is deleted
//! only after its receiver acknowledged it. So `kill -9` at any moment
//! leaves each delivery either done or still queued (at-least-once).
//!
//! [`PushStore`] is the seam: [`SqliteStore`] is the embedded default, one
//! file in the state folder; [`PgStore`] the shared database (PostgreSQL)
//! that several replicas use at once.
//!
//! By job: `records` holds the rows every implementation shares; `common`
//! what both compute alike without a database (IndexNow batches); `postgres`
//! the shared store (leases on claims, announcements once across
//! replicas); `sqlite`
//! the embedded store, split into its schema, subscriptions, the outbox
//! (queued deliveries and their claims), topic versions (WebSub),
//! article versions (webhooks, IndexNow) and the fediverse (actor keys,
//! followers).

mod common;
mod postgres;
mod records;
mod sqlite;

use std::path::PathBuf;

use jiff::Timestamp;

pub use common::INDEXNOW_BATCH;
pub use postgres::PgStore;
pub use records::{
    Announced, Delivery, DeliveryKind, EventDelivery, Follower, NewDelivery, PendingLimits, Queued, Settled,
    Subscription,
};
pub use sqlite::{Initialise, SqliteStore};

/// Why the push store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or used.
    #[error("{path}: {source}")]
    Database {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// The shared database (PostgreSQL) failed; the message names its URL
    /// without the password.
    #[error("{0}")]
    Shared(#[from] crate::db::DbError),
    /// The file is not herald's state (empty, another application's,
    /// another schema version): the message names the file and says what
    /// to do.
    #[error("{0}")]
    Refused(crate::diagnostic::Diagnostic),
}

/// Shorthand for results of the push store.
pub type Result<T> = std::result::Result<T, StoreError>;

/// Durable push state.
pub trait PushStore: Send + Sync {
    /// What was last announced about articles `ids` (every article when
    /// `None`), by id.
    fn announced(&self, ids: Option<&[String]>) -> Result<std::collections::HashMap<String, Announced>>;

    /// Whether article announcements have a baseline yet (false before the
    /// very first start completed).
    fn has_baseline(&self) -> Result<bool>;

    /// In one transaction: records `states`, deletes waiting events under
    /// `cancel` keys, queues `events`, adds `urls` (host → URLs, due at
    /// `indexnow_due`) to IndexNow batches of at most 10,000, and marks the
    /// baseline as taken. Returns how many jobs were queued.
    fn record_announcements(
        &self,
        states: &[Announced],
        cancel: &[String],
        events: &[EventDelivery],
        urls: &[(String, Vec<String>)],
        indexnow_due: Timestamp,
    ) -> Result<usize>;

    /// Records `changes` (topic URL, version) as announced, and in the same
    /// transaction queues a delivery to each active subscriber of each topic
    /// whose version differs from the last one announced, plus a ping to
    /// each of `external_hubs`. A topic seen for the first time only gets
    /// its version recorded. Returns how many jobs were queued.
    fn announce(&self, changes: &[(String, String)], external_hubs: &[String], now: Timestamp) -> Result<usize>;

    /// Adds or renews the subscription of `callback` to `topic`.
    fn subscribe(
        &self,
        topic: &str,
        callback: &str,
        secret: Option<&[u8]>,
        lease_seconds: u64,
        now: Timestamp,
    ) -> Result<()>;

    /// Ends the subscription of `callback` to `topic`; whether there was one.
    fn unsubscribe(&self, topic: &str, callback: &str) -> Result<bool>;

    /// Ends subscription `id` (and its pending deliveries); whether it
    /// existed.
    fn remove_subscription(&self, id: i64) -> Result<bool>;

    /// The subscription with row `id`.
    fn subscription(&self, id: i64) -> Result<Option<Subscription>>;

    /// Every subscription, sorted by topic and callback.
    fn subscriptions(&self) -> Result<Vec<Subscription>>;

    /// Deletes subscriptions whose lease ended; returns how many.
    fn prune_expired(&self, now: Timestamp) -> Result<usize>;

    /// Deletes jobs given up before `before`; returns how many.
    fn prune_failed(&self, before: Timestamp) -> Result<usize>;

    /// Queues a verification or denial, unless `limits` are reached (a job
    /// that replaces the one waiting for the same topic and callback is
    /// always queued): the count and the insert are one transaction.
    fn enqueue(&self, job: NewDelivery, now: Timestamp, limits: PendingLimits) -> Result<Queued>;

    /// Claims up to `limit` jobs due at `now`, skipping jobs for the hosts
    /// in `skip_hosts` (whose queues are full): they are not handed out
    /// again until settled or released. Claims of one process are released
    /// at its start ([`PushStore::release_claims`]).
    fn claim_due(&self, now: Timestamp, limit: usize, skip_hosts: &[String]) -> Result<Vec<Delivery>>;

    /// Records the outcomes of attempts, in one transaction.
    fn settle(&self, outcomes: &[Settled]) -> Result<()>;

    /// Releases the claims on jobs `ids` (their outcome could not be
    /// recorded): they are due again.
    fn release(&self, ids: &[i64]) -> Result<()>;

    /// Releases every claim: at start-up, nothing is in flight.
    fn release_claims(&self) -> Result<()>;

    /// When the next unclaimed job is due, if any.
    fn next_due(&self) -> Result<Option<Timestamp>>;

    /// Pending and failed deliveries, oldest first.
    fn deliveries(&self, failed_only: bool, limit: usize) -> Result<Vec<Delivery>>;

    /// Makes a failed or waiting job due now; whether it existed.
    fn retry_now(&self, id: i64, now: Timestamp) -> Result<bool>;

    /// Queues `events` (webhook events or activities, keyed by their slot
    /// like [`PushStore::record_announcements`]'s) without recording any
    /// article state; returns how many were queued.
    fn queue_events(&self, events: &[EventDelivery]) -> Result<usize>;

    /// The private key (PKCS#8 PEM) of ActivityPub actor `actor`, if one
    /// was stored.
    fn actor_key(&self, actor: &str) -> Result<Option<String>>;

    /// Stores `pem` as the key of `actor` unless it has one already, and
    /// returns the key it has: a key is never replaced.
    fn keep_actor_key(&self, actor: &str, pem: &str, now: Timestamp) -> Result<String>;

    /// Adds `follower` (or renews its inboxes and follow id).
    fn add_follower(&self, follower: &Follower) -> Result<()>;

    /// Removes the follow of `follower` on `actor`; whether there was one.
    fn remove_follower(&self, actor: &str, follower: &str) -> Result<bool>;

    /// Removes every follow of `follower` (its account was deleted);
    /// returns how many.
    fn remove_follows_of(&self, follower: &str) -> Result<usize>;

    /// Removes the followers of `actor` delivered at `inbox` (it answered
    /// 410 Gone); returns how many.
    fn remove_followers_at(&self, actor: &str, inbox: &str) -> Result<usize>;

    /// The followers of `actor` (of every actor when `None`), sorted by
    /// actor and follower.
    fn followers(&self, actor: Option<&str>) -> Result<Vec<Follower>>;

    /// How many followers each actor has (actors without any are absent).
    fn follower_counts(&self) -> Result<Vec<(String, u64)>>;

    /// Why the store failed (a full disk, a damaged file), if it did and
    /// no [`PushStore::check`] has succeeded since. Reads no database.
    fn failure(&self) -> Option<String>;

    /// While the store is failing, tries a small write, and forgets the
    /// failure if it succeeds; the failure still standing, if any.
    fn check(&self) -> Option<String>;
}

/// The host a URL calls (the unit of per-host concurrency).
pub fn host_of(url: &str) -> String {
    url::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_default()
}
