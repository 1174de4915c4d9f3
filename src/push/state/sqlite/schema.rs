//! The tables of the push state, and opening the file: pragmas, and a
//! check that the file is herald's (its application id, or herald's tables
//! in a file from before that id) at the schema version this code uses. A
//! missing file is a first start; an empty or foreign one is refused with
//! what to do, and never replaced silently.

use std::path::Path;

use rusqlite::Connection;

use crate::diagnostic::Diagnostic;

/// The schema version this code reads and writes (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 1;

/// herald's mark in the file header (`PRAGMA application_id`): "HRLD".
const APPLICATION_ID: i32 = 0x4852_4c44;

/// The tables of [`SCHEMA`].
const TABLES: [&str; 7] = ["subscriptions", "topics", "outbox", "announced", "meta", "ap_keys", "ap_followers"];

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
CREATE TABLE IF NOT EXISTS ap_keys (
    actor TEXT PRIMARY KEY,
    private_pem TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS ap_followers (
    actor TEXT NOT NULL,
    follower TEXT NOT NULL,
    inbox TEXT NOT NULL,
    shared_inbox TEXT,
    follow_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (actor, follower)
);
CREATE INDEX IF NOT EXISTS ap_followers_by_follower ON ap_followers (follower);
";

/// What `open` may do with a file that holds no herald state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Initialise {
    /// Create the database only where no file exists (a first start); an
    /// existing empty file is refused, never silently replaced.
    IfMissing,
    /// Also initialise an existing empty file, zero bytes or a SQLite
    /// database without tables (`herald serve --init-state`).
    IfEmpty,
}

/// Why the state database was not opened.
#[derive(Debug, thiserror::Error)]
pub(super) enum OpenError {
    /// SQLite failed (permissions, locks, a full disk).
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The file is not (or not yet, or no longer) herald's state: what it
    /// is, and what to do.
    #[error("{0}")]
    Refused(Diagnostic),
}

/// Opens the database at `path`, creating it when no file is there (a
/// first start). A file that holds no herald state is refused with what it
/// holds and what to do: an empty one (unless `initialise` allows it),
/// another application's, another schema version.
pub(super) fn open(path: &Path, initialise: Initialise) -> Result<Connection, OpenError> {
    if !path.exists() {
        return create(path);
    }
    let connection = Connection::open(path)?;
    connection.busy_timeout(std::time::Duration::from_secs(5))?;
    // Judged before anything is written: a refused file is left as it was.
    match identify(&connection).map_err(|e| not_sqlite(path, e))? {
        Found::Herald | Found::HeraldBeforeApplicationId => {}
        Found::Empty if initialise == Initialise::IfEmpty => {
            tracing::warn!("{}: initialising an empty state database (--init-state)", path.display());
        }
        Found::Empty => return Err(OpenError::Refused(empty(path))),
        Found::Foreign(what) => return Err(OpenError::Refused(foreign(path, &what))),
        Found::OtherVersion(version) => return Err(OpenError::Refused(other_version(path, version))),
    }
    configure(&connection)?;
    write_schema(&connection)?;
    Ok(connection)
}

/// What an existing file holds.
enum Found {
    /// herald's state, this schema version.
    Herald,
    /// herald's tables at this schema version, written before herald
    /// stamped its application id.
    HeraldBeforeApplicationId,
    /// Nothing: zero bytes, or a SQLite database without tables.
    Empty,
    /// herald's state at another schema version.
    OtherVersion(i64),
    /// Another application's database: how it shows.
    Foreign(String),
}

/// Reads the header fields and table names of the open file, writing
/// nothing.
fn identify(connection: &Connection) -> rusqlite::Result<Found> {
    let application_id: i32 = connection.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    let version: i64 = connection.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let mut statement = connection.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    )?;
    let tables: Vec<String> = statement.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    if application_id != 0 && application_id != APPLICATION_ID {
        return Ok(Found::Foreign(format!("its application_id is {application_id}, herald's is {APPLICATION_ID}")));
    }
    if tables.is_empty() {
        return Ok(Found::Empty);
    }
    if application_id == 0 {
        let unknown: Vec<&str> = tables.iter().map(String::as_str).filter(|t| !TABLES.contains(t)).collect();
        let has_core = ["subscriptions", "outbox"].iter().all(|t| tables.iter().any(|name| name == t));
        if !unknown.is_empty() || !has_core || version != SCHEMA_VERSION {
            let shown = tables.iter().take(8).map(String::as_str).collect::<Vec<_>>().join(", ");
            return Ok(Found::Foreign(format!("it holds the tables {shown} (user_version {version})")));
        }
        return Ok(Found::HeraldBeforeApplicationId);
    }
    Ok(if version == SCHEMA_VERSION { Found::Herald } else { Found::OtherVersion(version) })
}

/// A first start: the database is made complete under a temporary name and
/// linked into place, so a crash never leaves an empty file at `path`, and
/// a file another process created meanwhile is never overwritten.
fn create(path: &Path) -> Result<Connection, OpenError> {
    let journal = sidecar(path, "-wal");
    if std::fs::metadata(&journal).is_ok_and(|m| m.len() > 0) {
        return Err(OpenError::Refused(
            Diagnostic::error(
                path,
                format!(
                    "the state database is missing but its write-ahead journal {} is still here",
                    journal.display()
                ),
            )
            .with_hint(format!(
                "restore the database beside it, or move {} away to start with no subscriptions or queued deliveries \
                 (a new database must not replay another one's journal)",
                journal.display()
            )),
        ));
    }
    let staging = sidecar(path, &format!(".new-{}", std::process::id()));
    let _ = std::fs::remove_file(&staging);
    let made = (|| -> rusqlite::Result<()> {
        let mut connection = Connection::open(&staging)?;
        let transaction = connection.transaction()?;
        transaction.execute_batch(SCHEMA)?;
        stamp(&transaction)?;
        transaction.commit()?;
        connection.close().map_err(|(_, e)| e)
    })();
    let linked = made.map_err(OpenError::from).and_then(|()| match std::fs::hard_link(&staging, path) {
        Ok(()) => Ok(()),
        // Another process made it first: open that one like any other.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        // A file system without hard links: renamed, unless one appeared.
        Err(_) if !path.exists() => std::fs::rename(&staging, path)
            .map_err(|e| OpenError::Refused(Diagnostic::error(path, format!("cannot create the state database: {e}")))),
        Err(_) => Ok(()),
    });
    let _ = std::fs::remove_file(&staging);
    linked?;
    open(path, Initialise::IfMissing)
}

/// The pragmas every connection runs with.
fn configure(connection: &Connection) -> rusqlite::Result<()> {
    connection.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;",
    )
}

/// Creates what is missing of the tables and stamps the file as herald's,
/// in one transaction.
fn write_schema(connection: &Connection) -> rusqlite::Result<()> {
    connection.execute_batch("BEGIN IMMEDIATE")?;
    let done = connection.execute_batch(SCHEMA).and_then(|()| stamp(connection));
    match done {
        Ok(()) => connection.execute_batch("COMMIT"),
        Err(e) => {
            let _ = connection.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// Writes herald's application id and this schema version into the header.
fn stamp(connection: &Connection) -> rusqlite::Result<()> {
    connection
        .execute_batch(&format!("PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {SCHEMA_VERSION};"))
}

/// `path` with `suffix` appended to its file name.
fn sidecar(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

fn empty(path: &Path) -> Diagnostic {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let what = if size == 0 {
        "empty (0 bytes)".to_string()
    } else {
        format!("an empty SQLite database ({size} bytes, no tables)")
    };
    Diagnostic::error(
        path,
        format!("the state database is {what}; expected herald's subscriptions and queued deliveries"),
    )
    .with_hint(
        "if it was lost, restore it from a backup; to start afresh with no subscriptions or queued deliveries, \
         run `herald serve --init-state` once (herald never replaces it on its own)",
    )
}

fn foreign(path: &Path, what: &str) -> Diagnostic {
    Diagnostic::error(path, format!("not a herald state database: {what}")).with_hint(
        "point --state (or state_dir in feeds.toml) at a folder of herald's own, or move this file away; \
         herald does not write into another program's database",
    )
}

fn other_version(path: &Path, version: i64) -> Diagnostic {
    Diagnostic::error(
        path,
        format!("the state database has schema version {version}; this herald uses {SCHEMA_VERSION}"),
    )
    .with_hint(
        "run the herald that wrote it, or move the file away to start with no subscriptions or queued deliveries",
    )
}

/// A file SQLite cannot read as a database is refused as not herald's;
/// other errors (locks, permissions) stay SQLite's.
fn not_sqlite(path: &Path, error: rusqlite::Error) -> OpenError {
    match error.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => {
            OpenError::Refused(foreign(path, "it is not a SQLite database (or its header is damaged)"))
        }
        _ => OpenError::Sqlite(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(path: &Path, initialise: Initialise) -> String {
        match open(path, initialise) {
            Err(OpenError::Refused(why)) => why.to_string(),
            Err(OpenError::Sqlite(e)) => panic!("a SQLite error instead of a refusal: {e}"),
            Ok(_) => panic!("{} was opened", path.display()),
        }
    }

    fn tables(path: &Path) -> Vec<String> {
        let connection = Connection::open(path).unwrap();
        let mut statement =
            connection.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").unwrap();
        statement.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    }

    #[test]
    fn a_missing_file_is_a_first_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("herald.sqlite3");
        open(&path, Initialise::IfMissing).unwrap();
        assert!(tables(&path).contains(&"outbox".to_string()));
        // Opened again, it is herald's own.
        open(&path, Initialise::IfMissing).unwrap();
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|name| !name.starts_with("herald.sqlite3"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn a_zero_byte_file_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("herald.sqlite3");
        std::fs::write(&path, b"").unwrap();
        let why = refusal(&path, Initialise::IfMissing);
        assert!(why.contains("empty"), "{why}");
        assert!(why.contains("--init-state"), "{why}");
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 0, "the file was written to");
    }

    #[test]
    fn a_zero_byte_file_is_initialised_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("herald.sqlite3");
        std::fs::write(&path, b"").unwrap();
        open(&path, Initialise::IfEmpty).unwrap();
        assert!(tables(&path).contains(&"subscriptions".to_string()));
        open(&path, Initialise::IfMissing).unwrap();
    }

    #[test]
    fn an_empty_sqlite_database_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("herald.sqlite3");
        Connection::open(&path).unwrap().execute_batch("PRAGMA user_version = 7; VACUUM;").unwrap();
        assert!(std::fs::metadata(&path).unwrap().len() > 0);
        let why = refusal(&path, Initialise::IfMissing);
        assert!(why.contains("empty") && why.contains("--init-state"), "{why}");
    }

    #[test]
    fn another_applications_database_is_refused_even_when_initialising() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("herald.sqlite3");
        Connection::open(&path)
            .unwrap()
            .execute_batch("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes VALUES (1, 'x');")
            .unwrap();
        for initialise in [Initialise::IfMissing, Initialise::IfEmpty] {
            let why = refusal(&path, initialise);
            assert!(why.contains("not a herald state database") && why.contains("notes"), "{why}");
        }
        assert_eq!(tables(&path), ["notes"], "herald wrote into it");
    }

    #[test]
    fn a_database_with_another_application_id_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("herald.sqlite3");
        // Even with herald's table names, another application's id wins.
        let connection = Connection::open(&path).unwrap();
        connection.execute_batch(SCHEMA).unwrap();
        connection.execute_batch("PRAGMA application_id = 1179603011; PRAGMA user_version = 1;").unwrap();
        drop(connection);
        let why = refusal(&path, Initialise::IfEmpty);
        assert!(why.contains("application_id") && why.contains("1179603011"), "{why}");
    }

    #[test]
    fn a_herald_database_from_before_the_application_id_still_opens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("herald.sqlite3");
        let connection = Connection::open(&path).unwrap();
        connection.execute_batch(SCHEMA).unwrap();
        connection.execute_batch("PRAGMA user_version = 1; INSERT INTO meta VALUES ('baseline', '1');").unwrap();
        drop(connection);
        let connection = open(&path, Initialise::IfMissing).unwrap();
        let id: i32 = connection.query_row("PRAGMA application_id", [], |r| r.get(0)).unwrap();
        assert_eq!(id, APPLICATION_ID);
        let kept: i64 = connection.query_row("SELECT COUNT(*) FROM meta", [], |r| r.get(0)).unwrap();
        assert_eq!(kept, 1);
    }

    #[test]
    fn another_schema_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("herald.sqlite3");
        drop(open(&path, Initialise::IfMissing).unwrap());
        Connection::open(&path).unwrap().execute_batch("PRAGMA user_version = 9").unwrap();
        let why = refusal(&path, Initialise::IfEmpty);
        assert!(why.contains("schema version 9"), "{why}");
    }

    #[test]
    fn a_missing_file_beside_a_leftover_journal_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("herald.sqlite3");
        std::fs::write(dir.path().join("herald.sqlite3-wal"), b"frames of a database moved away").unwrap();
        let why = refusal(&path, Initialise::IfMissing);
        assert!(why.contains("herald.sqlite3-wal"), "{why}");
        assert!(!path.exists());
    }

    #[test]
    fn a_file_that_is_not_sqlite_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("herald.sqlite3");
        std::fs::write(&path, vec![b'x'; 4096]).unwrap();
        let why = refusal(&path, Initialise::IfEmpty);
        assert!(why.contains("not a herald state database"), "{why}");
    }
}
