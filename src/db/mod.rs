//! PostgreSQL, the database herald replicas share: connecting (URL, TLS,
//! a pool), the schema's migrations, `herald db status`, and the
//! heartbeats of the replicas.
//!
//! The driver is asynchronous (tokio-postgres); herald's stores are
//! called from blocking threads (`spawn_blocking`, the commands). So a
//! [`Database`] owns a small runtime of its own, which drives its
//! connections, and [`Database::block_on`] runs a query from any thread
//! that is not itself an async task. Async code uses [`Database::pool`].
//!
//! By job: `connect` (URL → driver configuration, TLS), `migrate` (the
//! numbered SQL files of `migrations/` and the runner), `status` (what
//! `herald db status` shows), `replicas` (heartbeats).

mod connect;
pub mod migrate;
pub mod replicas;
pub mod status;

use std::future::Future;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};

use crate::config::{DatabaseSettings, DatabaseUrl};

pub use migrate::{MIGRATIONS, Migration, SCHEMA_VERSION};

/// Longest wait for a free connection of the pool.
const POOL_WAIT: Duration = Duration::from_secs(30);

/// Why the database could not be used. Messages never hold the password.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DbError {
    /// Connecting or a query failed: the URL (redacted) and why.
    #[error("{0}")]
    Failed(String),
    /// The schema is newer than this herald knows.
    #[error(
        "the database has schema version {found} (written by herald {written_by}); this herald knows versions up to {known}: run herald {written_by} or newer"
    )]
    SchemaNewer {
        /// The database's version.
        found: i32,
        /// The newest version this herald has.
        known: i32,
        /// The herald that applied the newest migration.
        written_by: String,
    },
    /// The schema is older than this herald needs (run `herald db migrate`).
    #[error(
        "the database has schema version {found}; this herald needs {known}: run `herald db migrate` (or start `herald serve`, which migrates)"
    )]
    SchemaOlder {
        /// The database's version (0: no herald tables yet).
        found: i32,
        /// The version this herald needs.
        known: i32,
    },
}

/// Shorthand for results of the database.
pub type Result<T> = std::result::Result<T, DbError>;

/// A pool of connections to the database, with the runtime that drives
/// them.
pub struct Database {
    url: DatabaseUrl,
    pool: Pool,
    /// Drives the connections; `None` only while dropping.
    runtime: Option<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Database({})", self.url)
    }
}

impl Database {
    /// Sets up a pool for `url` with `settings` (size, timeouts, TLS) and
    /// checks that one connection can be made. Call it outside any async
    /// task (a command, `spawn_blocking`) or with [`Database::connect_async`].
    pub fn connect(url: &DatabaseUrl, settings: &DatabaseSettings) -> Result<Database> {
        let database = Database::open(url, settings)?;
        database.block_on(database.check())?;
        Ok(database)
    }

    /// [`Database::connect`] from async code: the blocking parts run on a
    /// blocking thread.
    pub async fn connect_async(url: &DatabaseUrl, settings: &DatabaseSettings) -> Result<Database> {
        let (url, settings) = (url.clone(), settings.clone());
        tokio::task::spawn_blocking(move || Database::connect(&url, &settings))
            .await
            .map_err(|e| DbError::Failed(format!("cannot connect to the database: {e}")))?
    }

    /// The pool, without a first connection.
    fn open(url: &DatabaseUrl, settings: &DatabaseSettings) -> Result<Database> {
        let target = connect::target(url, settings).map_err(DbError::Failed)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("herald-db")
            .enable_all()
            .build()
            .map_err(|e| DbError::Failed(format!("cannot start the database runtime: {e}")))?;
        let manager =
            Manager::from_config(target.config, target.tls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager)
            .max_size(settings.pool_size)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .create_timeout(Some(settings.connect_timeout))
            .wait_timeout(Some(POOL_WAIT))
            .build()
            .map_err(|e| DbError::Failed(format!("{url}: cannot set up the connection pool: {e}")))?;
        Ok(Database { url: url.clone(), pool, runtime: Some(runtime) })
    }

    /// Makes one connection and asks the server for its version.
    async fn check(&self) -> Result<()> {
        let client = self.client().await?;
        client.simple_query("SELECT 1").await.map_err(|e| self.error(e))?;
        Ok(())
    }

    /// The URL (shows redacted).
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// The pool, for async code.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// A connection from the pool; the error names the URL, redacted.
    pub async fn client(&self) -> Result<deadpool_postgres::Object> {
        self.pool.get().await.map_err(|e| {
            DbError::Failed(format!("{}: cannot connect to the database: {}", self.url, self.url.scrub(&explain(&e))))
        })
    }

    /// Runs `work` to completion on the database's runtime. Call it from a
    /// thread that is not running an async task (a command's, or one of
    /// `spawn_blocking`): inside a task it would panic.
    pub fn block_on<F: Future>(&self, work: F) -> F::Output {
        match &self.runtime {
            Some(runtime) => runtime.block_on(work),
            None => unreachable!("the runtime lives as long as the database"),
        }
    }

    /// The runtime that drives the connections, for tasks that belong with
    /// the database (a LISTEN connection, renewals).
    pub fn handle(&self) -> tokio::runtime::Handle {
        match &self.runtime {
            Some(runtime) => runtime.handle().clone(),
            None => unreachable!("the runtime lives as long as the database"),
        }
    }

    /// A driver error as a [`DbError`], naming the URL (redacted) and
    /// scrubbed of the password.
    pub fn error(&self, error: impl std::error::Error) -> DbError {
        DbError::Failed(format!("{}: {}", self.url, self.url.scrub(&explain(&error))))
    }

    /// A dedicated connection outside the pool (for LISTEN, which must
    /// stay on one session): the client, with its connection driven on the
    /// database's runtime; its messages (notifications) are sent to
    /// `messages`. Its `application_name` is the pool's followed by
    /// ` listen` (`herald listen` by default), so that `pg_stat_activity`
    /// tells it apart.
    pub async fn dedicated(
        &self,
        settings: &DatabaseSettings,
        messages: tokio::sync::mpsc::UnboundedSender<tokio_postgres::AsyncMessage>,
    ) -> Result<tokio_postgres::Client> {
        let mut target = connect::target(&self.url, settings).map_err(DbError::Failed)?;
        let name = format!("{} listen", target.config.get_application_name().unwrap_or("herald"));
        target.config.application_name(&name);
        let (client, mut connection) = target.config.connect(target.tls).await.map_err(|e| self.error(e))?;
        let url = self.url.clone();
        self.handle().spawn(async move {
            loop {
                match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                    Some(Ok(message)) => {
                        if messages.send(message).is_err() {
                            return;
                        }
                    }
                    Some(Err(e)) => {
                        tracing::warn!("{url}: the listening connection failed: {}", url.scrub(&e.to_string()));
                        return;
                    }
                    None => return,
                }
            }
        });
        Ok(client)
    }
}

/// An error with its causes (the driver's own Display says only
/// "db error"), without repeating a cause its message already holds.
pub fn explain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        source = cause.source();
    }
    text
}

impl Drop for Database {
    fn drop(&mut self) {
        // Dropping a runtime blocks; in an async task it must not.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
