//! The tables of the push state, and opening the file: pragmas, and a
//! check that its schema version is the one this code uses.

use std::path::Path;

use rusqlite::Connection;

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

/// Opens (creating if needed) the database at `path`, with its tables.
pub(super) fn open(path: &Path) -> rusqlite::Result<Connection> {
    let connection = Connection::open(path)?;
    connection.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;",
    )?;
    let version: i64 = connection.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let fresh: i64 =
        connection.query_row("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'", [], |r| r.get(0))?;
    if fresh > 0 && version != SCHEMA_VERSION {
        return Err(rusqlite::Error::InvalidParameterName(format!(
            "the state database has schema version {version}; this herald uses {SCHEMA_VERSION} (move the file away to start afresh)"
        )));
    }
    connection.execute_batch(SCHEMA)?;
    connection.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION}"))?;
    Ok(connection)
}
