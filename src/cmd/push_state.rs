//! The state database (subscriptions, the outbox) for the commands that
//! inspect it while the daemon may be running: `subscriptions` and
//! `deliveries`.

use std::path::{Path, PathBuf};

use herald::config::{Config, Overrides};
use herald::db::{Database, migrate};
use herald::diagnostic::Diagnostic;
use herald::push::state::{PgStore, PushStore, SqliteStore, StoreError};

use super::args::Cli;
use super::error::CliError;

/// The configuration and the state database of its state folder.
pub struct PushState {
    /// The configuration (its time zone shows times).
    pub config: Config,
    /// The database file.
    pub path: PathBuf,
    /// The database; `None` when it does not exist yet.
    pub store: Option<Box<dyn PushStore>>,
}

/// Opens the state database of the configured state folder, or of `state`
/// when given; a missing database is no error.
pub fn open(cli: &Cli, state: Option<PathBuf>) -> Result<PushState, CliError> {
    let overrides = Overrides { state_dir: state, database_url: super::database_url(cli)?, ..Overrides::default() };
    let config = Config::load(&cli.config, &overrides)?;
    if let Some(url) = config.database.url.clone() {
        // The shared database: its schema must be this herald's.
        let database = Database::connect(&url, &config.database).map_err(super::db::db_failed)?;
        database.block_on(migrate::check(&database)).map_err(super::db::db_failed)?;
        let replica = herald::db::replicas::ReplicaId::this_process();
        let store = PgStore::new(std::sync::Arc::new(database), &replica.id, config.database.claim_lease);
        return Ok(PushState { config, path: PathBuf::from(url.redacted()), store: Some(Box::new(store)) });
    }
    let path = SqliteStore::file_in(&config.state_dir);
    if !path.exists() {
        return Ok(PushState { config, path, store: None });
    }
    let store = SqliteStore::open(&path).map_err(|e| match e {
        // An empty or foreign file: nothing was done, and the diagnostic
        // says what the file is and what to do.
        StoreError::Refused(diagnostic) => CliError::usage(diagnostic),
        e => CliError::failed(
            Diagnostic::general_error(e.to_string())
                .with_hint("check the state folder (--state DIR) and its permissions"),
        ),
    })?;
    Ok(PushState { config, path, store: Some(Box::new(store)) })
}

/// A read or write of the database failed.
pub fn failed(e: StoreError) -> CliError {
    CliError::failed(Diagnostic::general_error(e.to_string()))
}

/// Says on stderr that the database at `path` does not exist yet (an empty
/// list, not an error).
pub fn nothing_here_yet(path: &Path) {
    eprintln!("{}: nothing here yet (herald serve creates this database)", path.display());
}

/// `what` (e.g. "subscription 12") cannot be found: the database at `path`
/// does not exist yet.
pub fn nothing_yet(path: &Path, what: &str) -> CliError {
    CliError::problems(vec![
        Diagnostic::error(path, format!("there is no {what}: the database does not exist yet"))
            .with_hint("herald serve creates it; pass --state DIR if the daemon keeps its state elsewhere"),
    ])
}
