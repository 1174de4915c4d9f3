//! Durable push state: WebSub subscriptions, the last announced version of
//! each topic, and the outbox of pending outgoing requests.
//!
//! Everything that must survive a crash lives here, and every change is one
//! transaction: a topic's new version and the deliveries it causes are
//! committed together, before anyone is called; a delivery row is deleted
//! only after its receiver acknowledged it. So `kill -9` at any moment
//! leaves each delivery either done or still queued (at-least-once).
//!
//! [`PushStore`] is the seam for a shared database (PostgreSQL, for several
//! replicas); [`SqliteStore`] is the embedded default, one file in the
//! state folder.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

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
}

/// Shorthand for results of the push store.
pub type Result<T> = std::result::Result<T, StoreError>;

/// An active (verified) WebSub subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// Row id, for `herald subscriptions remove`.
    pub id: i64,
    /// The topic URL.
    pub topic: String,
    /// The subscriber's callback URL.
    pub callback: String,
    /// The HMAC secret, if the subscriber gave one.
    pub secret: Option<Vec<u8>>,
    /// Granted lease, in seconds.
    pub lease_seconds: u64,
    /// When the lease ends.
    pub expires_at: Timestamp,
    /// When the subscription was first verified.
    pub created_at: Timestamp,
}

/// The kinds of outgoing request the outbox holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryKind {
    /// POST a topic's current content to a subscriber.
    Deliver,
    /// GET the callback to verify a subscribe or unsubscribe request.
    Verify,
    /// GET the callback to tell it a subscription was denied.
    Deny,
    /// POST `hub.mode=publish` to an external hub.
    Ping,
    /// POST an article event to a bot's webhook.
    Webhook,
    /// POST changed URLs to an IndexNow endpoint.
    IndexNow,
}

impl DeliveryKind {
    fn as_str(self) -> &'static str {
        match self {
            DeliveryKind::Deliver => "websub.deliver",
            DeliveryKind::Verify => "websub.verify",
            DeliveryKind::Deny => "websub.deny",
            DeliveryKind::Ping => "websub.ping",
            DeliveryKind::Webhook => "webhook",
            DeliveryKind::IndexNow => "indexnow",
        }
    }

    /// The kind as stored and shown (`websub.deliver`, `webhook` …).
    pub fn name(self) -> &'static str {
        self.as_str()
    }

    fn parse(text: &str) -> Option<DeliveryKind> {
        Some(match text {
            "websub.deliver" => DeliveryKind::Deliver,
            "websub.verify" => DeliveryKind::Verify,
            "websub.deny" => DeliveryKind::Deny,
            "websub.ping" => DeliveryKind::Ping,
            "webhook" => DeliveryKind::Webhook,
            "indexnow" => DeliveryKind::IndexNow,
            _ => return None,
        })
    }
}

/// One queued outgoing request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Row id.
    pub id: i64,
    /// What to do.
    pub kind: DeliveryKind,
    /// The URL to call (callback, hub, webhook, endpoint).
    pub target: String,
    /// What the job is about: the topic URL (WebSub), the webhook's name,
    /// the host (IndexNow).
    pub topic: String,
    /// The stable message id (webhooks: the same on every retry).
    pub message_id: Option<String>,
    /// For deliveries: the subscription.
    pub subscription_id: Option<i64>,
    /// Kind-specific data (JSON): verification parameters, denial reason.
    pub payload: String,
    /// Attempts made so far.
    pub attempts: u32,
    /// Bumped each time the topic changes again while the job waits, so a
    /// delivery that was in flight does not complete the newer change.
    pub generation: i64,
    /// When the job was queued.
    pub created_at: Timestamp,
    /// The last failure, if any.
    pub last_error: Option<String>,
    /// Whether the job was given up.
    pub failed: bool,
}

/// A verification or denial to queue (for one topic and callback: a newer
/// request replaces one still waiting).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    /// What to do.
    pub kind: DeliveryKind,
    /// The URL to call.
    pub target: String,
    /// The topic concerned.
    pub topic: String,
    /// Kind-specific data (JSON).
    pub payload: String,
}

/// What was last announced about one article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announced {
    /// The article's stable id.
    pub id: String,
    /// Digest of what the events report (title, summary, body, images, URL).
    pub version: String,
    /// Whether it was visible.
    pub visible: bool,
    /// Its URL then (for the unpublished event and IndexNow).
    pub url: String,
    /// Its language then.
    pub lang: String,
    /// Its section then.
    pub section: String,
    /// How many events were announced about it: part of each message id,
    /// so no two events ever share one.
    pub sequence: i64,
}

/// An event for a webhook, to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventDelivery {
    /// The webhook's URL.
    pub target: String,
    /// The webhook's name.
    pub webhook: String,
    /// The message id (the same for every retry of this event).
    pub message_id: String,
    /// The JSON body.
    pub payload: String,
    /// When to send it.
    pub due: Timestamp,
    /// The event's slot: one waiting event per webhook, article and type. A
    /// newer event of the slot replaces the waiting one's content (keeping
    /// its due time), and revives it if it was given up.
    pub key: String,
    /// A slot to merge into instead, if an event waits there (an update to
    /// an article whose publication is not delivered yet becomes that
    /// publication, with the newest content).
    pub merge_into: Option<String>,
}

/// How one attempt ended, to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// Acknowledged: remove the job, unless its content changed since it
    /// was claimed (its generation moved on): then it goes again at once.
    Done {
        /// The job.
        id: i64,
        /// The generation that was sent.
        generation: i64,
    },
    /// Try again at `next`.
    Retry {
        /// The job.
        id: i64,
        /// When.
        next: Timestamp,
        /// Why the attempt failed.
        error: String,
    },
    /// Give up, keeping the job for inspection.
    Failed {
        /// The job.
        id: i64,
        /// Why.
        error: String,
    },
    /// The subscriber answered 410 Gone: end its subscription (and its jobs).
    Gone {
        /// The subscription.
        subscription: i64,
    },
}

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

    /// Queues a verification or denial.
    fn enqueue(&self, job: NewDelivery, now: Timestamp) -> Result<()>;

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
}

/// The embedded push store: one SQLite file, WAL mode.
pub struct SqliteStore {
    path: PathBuf,
    connection: Mutex<Connection>,
}

/// The schema version this code reads and writes (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS subscriptions (
    id INTEGER PRIMARY KEY,
    topic TEXT NOT NULL,
    callback TEXT NOT NULL,
    host TEXT NOT NULL,
    secret BLOB,
    lease_seconds INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    renewed_at INTEGER NOT NULL,
    UNIQUE (topic, callback)
);
CREATE INDEX IF NOT EXISTS subscriptions_by_topic ON subscriptions (topic, expires_at);
CREATE TABLE IF NOT EXISTS topics (
    topic TEXT PRIMARY KEY,
    version TEXT NOT NULL,
    changed_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    host TEXT NOT NULL,
    topic TEXT NOT NULL,
    subscription_id INTEGER,
    payload TEXT NOT NULL DEFAULT '',
    coalesce_key TEXT UNIQUE,
    generation INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    claimed_until INTEGER,
    created_at INTEGER NOT NULL,
    last_error TEXT,
    failed INTEGER NOT NULL DEFAULT 0,
    message_id TEXT
);
CREATE INDEX IF NOT EXISTS outbox_claimable ON outbox (next_attempt_at, id) WHERE claimed_until IS NULL AND failed = 0;
CREATE INDEX IF NOT EXISTS outbox_by_subscription ON outbox (subscription_id);
CREATE INDEX IF NOT EXISTS outbox_by_kind_topic ON outbox (kind, topic);
CREATE INDEX IF NOT EXISTS outbox_failed ON outbox (failed, created_at);
CREATE TABLE IF NOT EXISTS announced (
    id TEXT PRIMARY KEY,
    version TEXT NOT NULL,
    visible INTEGER NOT NULL,
    url TEXT NOT NULL,
    lang TEXT NOT NULL,
    section TEXT NOT NULL,
    sequence INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
";

/// Most URLs in one IndexNow request (the protocol's limit).
pub const INDEXNOW_BATCH: usize = 10_000;

/// How long a claim is recorded for (informational in a single process,
/// whose claims are released at start-up).
const CLAIM_SECONDS: i64 = 3600;

/// When a given-up job's slot is taken by a newer event, the job starts
/// over: these are the columns that say so.
const REVIVE: &str = "attempts = CASE WHEN failed = 1 THEN 0 ELSE attempts END,
    next_attempt_at = CASE WHEN failed = 1 THEN excluded.next_attempt_at ELSE next_attempt_at END,
    created_at = CASE WHEN failed = 1 THEN excluded.created_at ELSE created_at END,
    last_error = CASE WHEN failed = 1 THEN NULL ELSE last_error END,
    failed = 0";

impl SqliteStore {
    /// Opens (creating if needed) the store at `path`.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        let fail = |source| StoreError::Database { path: path.to_path_buf(), source };
        let connection = Connection::open(path).map_err(fail)?;
        connection
            .execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;")
            .map_err(fail)?;
        let version: i64 = connection.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(fail)?;
        let fresh: i64 = connection
            .query_row("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'", [], |r| r.get(0))
            .map_err(fail)?;
        if fresh > 0 && version != SCHEMA_VERSION {
            return Err(fail(rusqlite::Error::InvalidParameterName(format!(
                "the state database has schema version {version}; this herald uses {SCHEMA_VERSION} (move the file away to start afresh)"
            ))));
        }
        connection.execute_batch(SCHEMA).map_err(fail)?;
        connection.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION}")).map_err(fail)?;
        Ok(SqliteStore { path: path.to_path_buf(), connection: Mutex::new(connection) })
    }

    /// The file of the store in `state_dir`.
    pub fn file_in(state_dir: &Path) -> PathBuf {
        state_dir.join("herald.sqlite3")
    }

    fn with<T>(&self, work: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> Result<T> {
        let mut connection = self.connection.lock().unwrap_or_else(|p| p.into_inner());
        work(&mut connection).map_err(|source| StoreError::Database { path: self.path.clone(), source })
    }
}

/// The host a URL calls (the unit of per-host concurrency).
pub fn host_of(url: &str) -> String {
    url::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_default()
}

fn seconds(at: Timestamp) -> i64 {
    at.as_second()
}

fn instant(seconds: i64) -> Timestamp {
    Timestamp::from_second(seconds).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn row_to_subscription(row: &rusqlite::Row<'_>) -> rusqlite::Result<Subscription> {
    Ok(Subscription {
        id: row.get(0)?,
        topic: row.get(1)?,
        callback: row.get(2)?,
        secret: row.get(3)?,
        lease_seconds: row.get::<_, i64>(4)?.max(0) as u64,
        expires_at: instant(row.get(5)?),
        created_at: instant(row.get(6)?),
    })
}

const SUBSCRIPTION_COLUMNS: &str = "id, topic, callback, secret, lease_seconds, expires_at, created_at";
const DELIVERY_COLUMNS: &str = "id, kind, target, topic, subscription_id, payload, attempts, generation, created_at, last_error, failed, message_id";

fn row_to_delivery(row: &rusqlite::Row<'_>) -> rusqlite::Result<Delivery> {
    let kind: String = row.get(1)?;
    Ok(Delivery {
        id: row.get(0)?,
        kind: DeliveryKind::parse(&kind).unwrap_or(DeliveryKind::Ping),
        target: row.get(2)?,
        topic: row.get(3)?,
        subscription_id: row.get(4)?,
        payload: row.get(5)?,
        attempts: row.get::<_, i64>(6)?.max(0) as u32,
        generation: row.get(7)?,
        created_at: instant(row.get(8)?),
        last_error: row.get(9)?,
        failed: row.get::<_, i64>(10)? != 0,
        message_id: row.get(11)?,
    })
}

impl PushStore for SqliteStore {
    fn announced(&self, ids: Option<&[String]>) -> Result<std::collections::HashMap<String, Announced>> {
        self.with(|connection| {
            let row = |r: &rusqlite::Row<'_>| -> rusqlite::Result<Announced> {
                Ok(Announced {
                    id: r.get(0)?,
                    version: r.get(1)?,
                    visible: r.get::<_, i64>(2)? != 0,
                    url: r.get(3)?,
                    lang: r.get(4)?,
                    section: r.get(5)?,
                    sequence: r.get(6)?,
                })
            };
            let columns = "id, version, visible, url, lang, section, sequence";
            let mut out = std::collections::HashMap::new();
            match ids {
                None => {
                    let mut statement = connection.prepare(&format!("SELECT {columns} FROM announced"))?;
                    for state in statement.query_map([], row)? {
                        let state = state?;
                        out.insert(state.id.clone(), state);
                    }
                }
                Some(ids) => {
                    let mut statement =
                        connection.prepare_cached(&format!("SELECT {columns} FROM announced WHERE id = ?1"))?;
                    for id in ids {
                        if let Some(state) = statement.query_row(params![id], row).optional()? {
                            out.insert(state.id.clone(), state);
                        }
                    }
                }
            }
            Ok(out)
        })
    }

    fn has_baseline(&self) -> Result<bool> {
        self.with(|connection| {
            Ok(connection.query_row("SELECT COUNT(*) FROM meta WHERE key = 'baseline'", [], |r| r.get::<_, i64>(0))?
                > 0)
        })
    }

    fn record_announcements(
        &self,
        states: &[Announced],
        cancel: &[String],
        events: &[EventDelivery],
        urls: &[(String, Vec<String>)],
        indexnow_due: Timestamp,
    ) -> Result<usize> {
        self.with(|connection| {
            let tx = connection.transaction()?;
            let mut queued = 0;
            {
                let mut state = tx.prepare_cached(
                    "INSERT INTO announced (id, version, visible, url, lang, section, sequence) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT (id) DO UPDATE SET version = excluded.version, visible = excluded.visible,
                         url = excluded.url, lang = excluded.lang, section = excluded.section, sequence = excluded.sequence",
                )?;
                for s in states {
                    state.execute(params![s.id, s.version, i64::from(s.visible), s.url, s.lang, s.section, s.sequence])?;
                }
                let mut cancel_waiting =
                    tx.prepare_cached("DELETE FROM outbox WHERE coalesce_key = ?1 AND claimed_until IS NULL")?;
                for key in cancel {
                    cancel_waiting.execute(params![key])?;
                }
                let mut merge = tx.prepare_cached(
                    "UPDATE outbox SET message_id = ?2, payload = ?3, generation = generation + 1
                     WHERE coalesce_key = ?1 AND failed = 0",
                )?;
                let mut insert = tx.prepare_cached(&format!(
                    "INSERT INTO outbox (kind, target, host, topic, message_id, payload, coalesce_key, next_attempt_at, created_at)
                     VALUES ('webhook', ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
                     ON CONFLICT (coalesce_key) DO UPDATE SET message_id = excluded.message_id, payload = excluded.payload,
                         generation = generation + 1, {REVIVE}"
                ))?;
                for e in events {
                    if let Some(slot) = &e.merge_into
                        && merge.execute(params![slot, e.message_id, e.payload])? > 0
                    {
                        continue;
                    }
                    queued += insert.execute(params![
                        e.target,
                        host_of(&e.target),
                        e.webhook,
                        e.message_id,
                        e.payload,
                        e.key,
                        seconds(e.due)
                    ])?;
                }
            }
            for (host, new_urls) in urls {
                queued += add_indexnow_urls(&tx, host, new_urls, indexnow_due)?;
            }
            tx.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('baseline', 'taken')", [])?;
            tx.commit()?;
            Ok(queued)
        })
    }

    fn announce(&self, changes: &[(String, String)], external_hubs: &[String], now: Timestamp) -> Result<usize> {
        self.with(|connection| {
            let tx = connection.transaction()?;
            let mut queued = 0;
            {
                let mut previous = tx.prepare_cached("SELECT version FROM topics WHERE topic = ?1")?;
                let mut record = tx.prepare_cached(
                    "INSERT INTO topics (topic, version, changed_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (topic) DO UPDATE SET version = excluded.version, changed_at = excluded.changed_at",
                )?;
                // One delivery per subscriber; if one is already waiting, it
                // will send the newest content: bump its generation. One that
                // was given up starts over with this change.
                let mut deliver = tx.prepare_cached(&format!(
                    "INSERT INTO outbox (kind, target, host, topic, subscription_id, coalesce_key, next_attempt_at, created_at)
                     SELECT 'websub.deliver', callback, host, topic, id, 'deliver:' || id, ?2, ?2
                     FROM subscriptions WHERE topic = ?1 AND expires_at > ?2
                     ON CONFLICT (coalesce_key) DO UPDATE SET generation = generation + 1, {REVIVE}"
                ))?;
                let mut ping = tx.prepare_cached(&format!(
                    "INSERT INTO outbox (kind, target, host, topic, coalesce_key, next_attempt_at, created_at)
                     VALUES ('websub.ping', ?1, ?2, ?3, 'ping:' || ?1 || ' ' || ?3, ?4, ?4)
                     ON CONFLICT (coalesce_key) DO UPDATE SET generation = generation + 1, {REVIVE}"
                ))?;
                for (topic, version) in changes {
                    let before: Option<String> = previous.query_row(params![topic], |row| row.get(0)).optional()?;
                    if before.as_deref() == Some(version.as_str()) {
                        continue;
                    }
                    record.execute(params![topic, version, seconds(now)])?;
                    if before.is_none() {
                        // First sight of this topic: a baseline, no news.
                        continue;
                    }
                    queued += deliver.execute(params![topic, seconds(now)])?;
                    for hub in external_hubs {
                        queued += ping.execute(params![hub, host_of(hub), topic, seconds(now)])?;
                    }
                }
            }
            tx.commit()?;
            Ok(queued)
        })
    }

    fn subscribe(
        &self,
        topic: &str,
        callback: &str,
        secret: Option<&[u8]>,
        lease_seconds: u64,
        now: Timestamp,
    ) -> Result<()> {
        let expires = seconds(now).saturating_add(lease_seconds as i64);
        self.with(|connection| {
            connection.execute(
                "INSERT INTO subscriptions (topic, callback, host, secret, lease_seconds, expires_at, created_at, renewed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
                 ON CONFLICT (topic, callback) DO UPDATE SET secret = excluded.secret,
                     lease_seconds = excluded.lease_seconds, expires_at = excluded.expires_at, renewed_at = excluded.renewed_at",
                params![topic, callback, host_of(callback), secret, lease_seconds as i64, expires, seconds(now)],
            )?;
            Ok(())
        })
    }

    fn unsubscribe(&self, topic: &str, callback: &str) -> Result<bool> {
        self.with(|connection| {
            let tx = connection.transaction()?;
            let id: Option<i64> = tx
                .query_row(
                    "SELECT id FROM subscriptions WHERE topic = ?1 AND callback = ?2",
                    params![topic, callback],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(id) = id {
                tx.execute("DELETE FROM outbox WHERE subscription_id = ?1", params![id])?;
                tx.execute("DELETE FROM subscriptions WHERE id = ?1", params![id])?;
            }
            tx.commit()?;
            Ok(id.is_some())
        })
    }

    fn remove_subscription(&self, id: i64) -> Result<bool> {
        self.with(|connection| {
            let tx = connection.transaction()?;
            tx.execute("DELETE FROM outbox WHERE subscription_id = ?1", params![id])?;
            let removed = tx.execute("DELETE FROM subscriptions WHERE id = ?1", params![id])?;
            tx.commit()?;
            Ok(removed > 0)
        })
    }

    fn subscription(&self, id: i64) -> Result<Option<Subscription>> {
        self.with(|connection| {
            connection
                .query_row(
                    &format!("SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = ?1"),
                    params![id],
                    row_to_subscription,
                )
                .optional()
        })
    }

    fn subscriptions(&self) -> Result<Vec<Subscription>> {
        self.with(|connection| {
            let mut statement = connection
                .prepare(&format!("SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions ORDER BY topic, callback"))?;
            statement.query_map([], row_to_subscription)?.collect()
        })
    }

    fn prune_expired(&self, now: Timestamp) -> Result<usize> {
        self.with(|connection| {
            let tx = connection.transaction()?;
            tx.execute(
                "DELETE FROM outbox WHERE subscription_id IN (SELECT id FROM subscriptions WHERE expires_at <= ?1)",
                params![seconds(now)],
            )?;
            let pruned = tx.execute("DELETE FROM subscriptions WHERE expires_at <= ?1", params![seconds(now)])?;
            tx.commit()?;
            Ok(pruned)
        })
    }

    fn prune_failed(&self, before: Timestamp) -> Result<usize> {
        self.with(|connection| {
            connection.execute("DELETE FROM outbox WHERE failed = 1 AND created_at < ?1", params![seconds(before)])
        })
    }

    fn enqueue(&self, job: NewDelivery, now: Timestamp) -> Result<()> {
        let key = format!("verify:{} {}", job.topic, job.target);
        self.with(|connection| {
            connection.execute(
                "INSERT INTO outbox (kind, target, host, topic, payload, coalesce_key, next_attempt_at, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
                 ON CONFLICT (coalesce_key) DO UPDATE SET kind = excluded.kind, payload = excluded.payload,
                     generation = generation + 1, attempts = 0, failed = 0, last_error = NULL,
                     next_attempt_at = excluded.next_attempt_at, created_at = excluded.created_at",
                params![job.kind.as_str(), job.target, host_of(&job.target), job.topic, job.payload, key, seconds(now)],
            )?;
            Ok(())
        })
    }

    fn claim_due(&self, now: Timestamp, limit: usize, skip_hosts: &[String]) -> Result<Vec<Delivery>> {
        let skip = serde_json::to_string(skip_hosts).unwrap_or_else(|_| "[]".into());
        self.with(|connection| {
            let tx = connection.transaction()?;
            let jobs = {
                let mut statement = tx.prepare_cached(&format!(
                    "UPDATE outbox SET claimed_until = ?2
                     WHERE id IN (SELECT id FROM outbox
                                  WHERE claimed_until IS NULL AND failed = 0 AND next_attempt_at <= ?1
                                    AND host NOT IN (SELECT value FROM json_each(?4))
                                  ORDER BY next_attempt_at, id LIMIT ?3)
                     RETURNING {DELIVERY_COLUMNS}"
                ))?;
                statement
                    .query_map(
                        params![seconds(now), seconds(now) + CLAIM_SECONDS, limit as i64, skip],
                        row_to_delivery,
                    )?
                    .collect::<rusqlite::Result<Vec<Delivery>>>()?
            };
            tx.commit()?;
            Ok(jobs)
        })
    }

    fn settle(&self, outcomes: &[Settled]) -> Result<()> {
        self.with(|connection| {
            let tx = connection.transaction()?;
            {
                let mut delete = tx.prepare_cached("DELETE FROM outbox WHERE id = ?1 AND generation = ?2")?;
                // A job whose content changed meanwhile goes again, at once.
                let mut again =
                    tx.prepare_cached("UPDATE outbox SET claimed_until = NULL, attempts = 0, last_error = NULL WHERE id = ?1")?;
                let mut retry = tx.prepare_cached(
                    "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?2, claimed_until = NULL, last_error = ?3 WHERE id = ?1",
                )?;
                let mut fail = tx.prepare_cached(
                    "UPDATE outbox SET attempts = attempts + 1, failed = 1, claimed_until = NULL, last_error = ?2 WHERE id = ?1",
                )?;
                let mut gone_jobs = tx.prepare_cached("DELETE FROM outbox WHERE subscription_id = ?1")?;
                let mut gone = tx.prepare_cached("DELETE FROM subscriptions WHERE id = ?1")?;
                for outcome in outcomes {
                    match outcome {
                        Settled::Done { id, generation } => {
                            if delete.execute(params![id, generation])? == 0 {
                                again.execute(params![id])?;
                            }
                        }
                        Settled::Retry { id, next, error } => {
                            retry.execute(params![id, seconds(*next), error])?;
                        }
                        Settled::Failed { id, error } => {
                            fail.execute(params![id, error])?;
                        }
                        Settled::Gone { subscription } => {
                            gone_jobs.execute(params![subscription])?;
                            gone.execute(params![subscription])?;
                        }
                    }
                }
            }
            tx.commit()
        })
    }

    fn release(&self, ids: &[i64]) -> Result<()> {
        self.with(|connection| {
            let tx = connection.transaction()?;
            {
                let mut release = tx.prepare_cached("UPDATE outbox SET claimed_until = NULL WHERE id = ?1")?;
                for id in ids {
                    release.execute(params![id])?;
                }
            }
            tx.commit()
        })
    }

    fn release_claims(&self) -> Result<()> {
        self.with(|connection| {
            connection.execute("UPDATE outbox SET claimed_until = NULL WHERE claimed_until IS NOT NULL", [])?;
            Ok(())
        })
    }

    fn next_due(&self) -> Result<Option<Timestamp>> {
        self.with(|connection| {
            let next: Option<i64> = connection.query_row(
                "SELECT MIN(next_attempt_at) FROM outbox WHERE claimed_until IS NULL AND failed = 0",
                [],
                |row| row.get(0),
            )?;
            Ok(next.map(instant))
        })
    }

    fn deliveries(&self, failed_only: bool, limit: usize) -> Result<Vec<Delivery>> {
        self.with(|connection| {
            let mut statement = connection.prepare(&format!(
                "SELECT {DELIVERY_COLUMNS} FROM outbox WHERE failed = 1 OR ?1 = 0 ORDER BY created_at, id LIMIT ?2"
            ))?;
            statement.query_map(params![i64::from(failed_only), limit as i64], row_to_delivery)?.collect()
        })
    }

    fn retry_now(&self, id: i64, now: Timestamp) -> Result<bool> {
        self.with(|connection| {
            let changed = connection.execute(
                "UPDATE outbox SET failed = 0, next_attempt_at = ?2, claimed_until = NULL WHERE id = ?1",
                params![id, seconds(now)],
            )?;
            Ok(changed > 0)
        })
    }
}

/// Adds `urls` to the waiting IndexNow batches of `host` (filling the
/// newest first, at most [`INDEXNOW_BATCH`] each), opening new batches due
/// at `due` as needed. Returns how many batches were opened.
fn add_indexnow_urls(
    tx: &rusqlite::Transaction<'_>,
    host: &str,
    urls: &[String],
    due: Timestamp,
) -> rusqlite::Result<usize> {
    let waiting: Vec<(i64, Vec<String>)> = {
        let mut statement = tx.prepare_cached(
            "SELECT id, payload FROM outbox WHERE kind = 'indexnow' AND topic = ?1 AND failed = 0 AND claimed_until IS NULL
             ORDER BY id",
        )?;
        statement
            .query_map(params![host], |r| {
                Ok((r.get(0)?, serde_json::from_str(&r.get::<_, String>(1)?).unwrap_or_default()))
            })?
            .collect::<rusqlite::Result<_>>()?
    };
    let mut known: std::collections::HashSet<&str> =
        waiting.iter().flat_map(|(_, b)| b.iter().map(String::as_str)).collect();
    let mut fresh: Vec<String> = Vec::new();
    for url in urls {
        if known.insert(url.as_str()) {
            fresh.push(url.clone());
        }
    }
    // Top up the newest waiting batch, then open new ones.
    if let Some((id, batch)) = waiting.last() {
        let room = INDEXNOW_BATCH.saturating_sub(batch.len()).min(fresh.len());
        if room > 0 {
            let mut batch = batch.clone();
            batch.extend(fresh.drain(..room));
            tx.execute(
                "UPDATE outbox SET payload = ?2 WHERE id = ?1",
                params![id, serde_json::to_string(&batch).unwrap_or_default()],
            )?;
        }
    }
    let mut opened = 0;
    for chunk in fresh.chunks(INDEXNOW_BATCH) {
        tx.execute(
            "INSERT INTO outbox (kind, target, host, topic, payload, next_attempt_at, created_at)
             VALUES ('indexnow', '', 'indexnow', ?1, ?2, ?3, ?3)",
            params![host, serde_json::to_string(chunk).unwrap_or_default(), seconds(due)],
        )?;
        opened += 1;
    }
    Ok(opened)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("push.sqlite3")).unwrap();
        (dir, store)
    }

    fn event(id: &str, key: &str, merge_into: Option<&str>, due: Timestamp) -> EventDelivery {
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

    fn message_ids(store: &SqliteStore) -> Vec<String> {
        store.deliveries(false, 100).unwrap().into_iter().filter_map(|j| j.message_id).collect()
    }

    #[test]
    fn first_sight_is_a_baseline_and_unchanged_versions_announce_nothing() {
        let (_dir, store) = store();
        let now = at("2026-11-26T00:00:00Z");
        store.subscribe("https://x/rss.xml", "https://sub/cb", None, 3600, now).unwrap();
        let topic = |v: &str| vec![("https://x/rss.xml".to_string(), v.to_string())];
        assert_eq!(store.announce(&topic("a"), &[], now).unwrap(), 0, "baseline");
        assert_eq!(store.announce(&topic("a"), &[], now).unwrap(), 0, "unchanged");
        assert_eq!(store.announce(&topic("b"), &["https://hub/".into()], now).unwrap(), 2, "delivery and ping");
        let jobs = store.claim_due(now, 10, &[]).unwrap();
        assert_eq!(jobs.len(), 2);
        // Claimed jobs are not handed out twice.
        assert!(store.claim_due(now, 10, &[]).unwrap().is_empty());
    }

    #[test]
    fn a_change_during_delivery_is_delivered_again() {
        let (_dir, store) = store();
        let now = at("2026-11-26T00:00:00Z");
        store.subscribe("t", "https://sub/cb", None, 3600, now).unwrap();
        store.announce(&[("t".into(), "1".into())], &[], now).unwrap();
        store.announce(&[("t".into(), "2".into())], &[], now).unwrap();
        let job = store.claim_due(now, 10, &[]).unwrap().remove(0);
        // The topic changes while the delivery is in flight.
        store.announce(&[("t".into(), "3".into())], &[], now).unwrap();
        store.settle(&[Settled::Done { id: job.id, generation: job.generation }]).unwrap();
        let again = store.claim_due(now, 10, &[]).unwrap();
        assert_eq!(again.len(), 1, "the newest content must go out too");
        store.settle(&[Settled::Done { id: again[0].id, generation: again[0].generation }]).unwrap();
        assert!(store.deliveries(false, 10).unwrap().is_empty());
    }

    #[test]
    fn leases_expire_and_are_pruned() {
        let (_dir, store) = store();
        let now = at("2026-11-26T00:00:00Z");
        store.subscribe("t", "https://sub/cb", Some(b"s"), 60, now).unwrap();
        store.subscribe("t", "https://sub/cb", Some(b"s2"), 120, now).unwrap();
        assert_eq!(store.subscriptions().unwrap().len(), 1, "renewal does not duplicate");
        store.announce(&[("t".into(), "1".into())], &[], now).unwrap();
        let later = at("2026-11-26T00:03:00Z");
        assert_eq!(store.announce(&[("t".into(), "2".into())], &[], later).unwrap(), 0, "expired lease gets nothing");
        assert_eq!(store.prune_expired(later).unwrap(), 1);
        assert!(store.subscriptions().unwrap().is_empty());
    }

    #[test]
    fn claims_are_released_at_start_and_on_request() {
        let (_dir, store) = store();
        let now = at("2026-11-26T00:00:00Z");
        store
            .enqueue(
                NewDelivery {
                    kind: DeliveryKind::Verify,
                    target: "https://cb".into(),
                    topic: "t".into(),
                    payload: "{}".into(),
                },
                now,
            )
            .unwrap();
        let job = store.claim_due(now, 10, &[]).unwrap().remove(0);
        assert!(store.claim_due(now, 10, &[]).unwrap().is_empty());
        assert_eq!(store.next_due().unwrap(), None, "claimed jobs are not due");
        store.release(&[job.id]).unwrap();
        assert_eq!(store.claim_due(now, 10, &[]).unwrap().len(), 1);
        store.release_claims().unwrap();
        assert_eq!(store.claim_due(now, 10, &[]).unwrap().len(), 1, "released at start-up");
    }

    #[test]
    fn saturated_hosts_are_skipped() {
        let (_dir, store) = store();
        let now = at("2026-11-26T00:00:00Z");
        for (topic, callback) in
            [("t1", "https://slow.example/a"), ("t2", "https://slow.example/b"), ("t3", "https://fast.example/c")]
        {
            store
                .enqueue(
                    NewDelivery {
                        kind: DeliveryKind::Verify,
                        target: callback.into(),
                        topic: topic.into(),
                        payload: "{}".into(),
                    },
                    now,
                )
                .unwrap();
        }
        let jobs = store.claim_due(now, 10, &["slow.example".to_string()]).unwrap();
        assert_eq!(jobs.iter().map(|j| j.target.as_str()).collect::<Vec<_>>(), ["https://fast.example/c"]);
    }

    #[test]
    fn a_newer_verification_replaces_a_waiting_one() {
        let (_dir, store) = store();
        let now = at("2026-11-26T00:00:00Z");
        let job = |payload: &str| NewDelivery {
            kind: DeliveryKind::Verify,
            target: "https://cb".into(),
            topic: "t".into(),
            payload: payload.into(),
        };
        store.enqueue(job("subscribe"), now).unwrap();
        store.enqueue(job("unsubscribe"), now).unwrap();
        let jobs = store.deliveries(false, 10).unwrap();
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].payload, "unsubscribe");
    }

    #[test]
    fn indexnow_urls_fill_batches_of_ten_thousand() {
        let (_dir, store) = store();
        let now = at("2026-11-26T00:00:00Z");
        let urls = |n: usize, from: usize| (from..from + n).map(|i| format!("https://x/{i}")).collect::<Vec<_>>();
        store.record_announcements(&[], &[], &[], &[("x".into(), urls(6_000, 0))], now).unwrap();
        store.record_announcements(&[], &[], &[], &[("x".into(), urls(6_000, 6_000))], now).unwrap();
        store.record_announcements(&[], &[], &[], &[("x".into(), urls(100, 0))], now).unwrap();
        let jobs = store.deliveries(false, 10).unwrap();
        let sizes: Vec<usize> =
            jobs.iter().map(|j| serde_json::from_str::<Vec<String>>(&j.payload).unwrap().len()).collect();
        assert_eq!(sizes, [10_000, 2_000], "12,000 distinct URLs, duplicates merged");
    }

    #[test]
    fn webhook_events_share_a_slot_and_merge() {
        let (_dir, store) = store();
        let now = at("2026-11-26T00:00:00Z");
        let record = |events: &[EventDelivery], cancel: &[String]| {
            store.record_announcements(&[], cancel, events, &[], now).unwrap()
        };
        record(&[event("u1", "bot:a:updated", None, now)], &[]);
        record(&[event("u2", "bot:a:updated", None, now)], &[]);
        assert_eq!(message_ids(&store), ["u2"], "a burst of updates is one, the newest");
        // An update to an article whose publication still waits merges
        // into the publication.
        record(&[event("p1", "bot:b:published", None, now)], &[]);
        record(&[event("u3", "bot:b:updated", Some("bot:b:published"), now)], &[]);
        assert_eq!(message_ids(&store), ["u2", "u3"]);
        assert!(store.deliveries(false, 10).unwrap().iter().all(|j| j.message_id.as_deref() != Some("p1")));
        record(&[], &["bot:a:updated".into()]);
        assert_eq!(message_ids(&store), ["u3"], "cancelled");
        assert!(store.has_baseline().unwrap());
    }

    /// A given-up event does not swallow later events of its slot.
    /// (Review finding: failed rows blocked their coalescing key.)
    #[test]
    fn a_failed_slot_comes_back_with_the_next_event() {
        let (_dir, store) = store();
        let now = at("2026-11-26T00:00:00Z");
        store.record_announcements(&[], &[], &[event("u1", "bot:a:updated", None, now)], &[], now).unwrap();
        let job = store.claim_due(now, 10, &[]).unwrap().remove(0);
        store.settle(&[Settled::Failed { id: job.id, error: "410".into() }]).unwrap();
        assert!(store.claim_due(now, 10, &[]).unwrap().is_empty());
        let later = at("2026-11-27T00:00:00Z");
        store.record_announcements(&[], &[], &[event("u2", "bot:a:updated", None, later)], &[], later).unwrap();
        let again = store.claim_due(later, 10, &[]).unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].message_id.as_deref(), Some("u2"));
        assert!(!again[0].failed && again[0].attempts == 0);
        // Pings too.
        store.subscribe("t", "https://sub/cb", None, 7 * 86_400, now).unwrap();
        store.announce(&[("t".into(), "1".into())], &[], now).unwrap();
        store.announce(&[("t".into(), "2".into())], &["https://hub/".into()], now).unwrap();
        for job in store.claim_due(now, 10, &[]).unwrap() {
            store.settle(&[Settled::Failed { id: job.id, error: "down".into() }]).unwrap();
        }
        store.announce(&[("t".into(), "3".into())], &["https://hub/".into()], later).unwrap();
        assert_eq!(store.claim_due(later, 10, &[]).unwrap().len(), 2, "delivery and ping revived");
        assert_eq!(store.prune_failed(at("2026-12-31T00:00:00Z")).unwrap(), 0, "nothing left given up");
    }
}
