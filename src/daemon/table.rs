//! Articles from the `articles` table (`[database] articles = true`)
//! instead of the store folder: the store the live site reads, and the
//! follower that turns the table's changes into store events, as the
//! folder's watcher turns file events into them.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::{SiteEvent, StartError};
use crate::config::Config;
use crate::db::{Database, DbError};
use crate::server::ServerState;
use crate::store::postgres::PostgresArticleStore;
use crate::store::postgres::follow::{self, Follower, Watermark};
use crate::watch::{StoreChange, StoreEvent};

/// Who reports the follower's problems to `/healthz`.
const HEALTH_SOURCE: &str = "articles table";

/// The articles table and the database it is in.
pub(super) struct Table {
    /// The store the live site reads.
    pub(super) store: Arc<PostgresArticleStore>,
    database: Arc<Database>,
}

impl Table {
    /// The table, when `config` says articles come from the database
    /// (`database` is the one `[database] url` names).
    pub(super) fn open(config: &Config, database: Option<&Arc<Database>>) -> Result<Option<Table>, StartError> {
        if !config.database.articles {
            return Ok(None);
        }
        let Some(database) = database else {
            return Err(StartError::Database(DbError::Failed(
                "[database] articles = true, but no database is configured: set [database] url, HERALD_DATABASE_URL or --database-url"
                    .into(),
            )));
        };
        let store = Arc::new(PostgresArticleStore::new(Arc::clone(database)));
        Ok(Some(Table { store, database: Arc::clone(database) }))
    }

    /// Where following starts: taken before the first full read, so that
    /// whatever that read missed is read again.
    pub(super) async fn watermark(&self) -> Result<Watermark, StartError> {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || store.watermark())
            .await
            .map_err(|e| StartError::Database(DbError::Failed(e.to_string())))?
            .map_err(|e| StartError::Database(DbError::Failed(format!("cannot follow the articles table: {e}"))))
    }

    /// Follows the table from `from` until `shutdown`, sending each batch
    /// of changed rows to the site loop as a store event; while the
    /// follower is not connected and caught up, `/healthz` (`state`) says
    /// `degraded` and why.
    pub(super) fn follow(
        &self,
        config: &Config,
        from: Watermark,
        events: mpsc::UnboundedSender<SiteEvent>,
        state: Arc<ServerState>,
        shutdown: watch::Receiver<bool>,
    ) -> JoinHandle<()> {
        let (tx, mut changes) = mpsc::unbounded_channel();
        let connect = follow::connector(Arc::clone(&self.database), config.database.clone());
        let follower = Follower::new(connect, from, tx);
        let mut status = follower.status();
        // Not following yet: said before this returns (and so before the
        // server answers).
        state.set_problem(HEALTH_SOURCE, status.borrow_and_update().problem());
        tokio::spawn(async move {
            let health = async move {
                while status.changed().await.is_ok() {
                    let problem = status.borrow_and_update().problem();
                    state.set_problem(HEALTH_SOURCE, problem);
                }
            };
            let forward = async move {
                while let Some(paths) = changes.recv().await {
                    let now = Instant::now();
                    let change = StoreChange { event: StoreEvent::Paths(paths), first_event: now, delivered: now };
                    if events.send(SiteEvent::Store(change)).is_err() {
                        break;
                    }
                }
            };
            // The forwarding and the health reports end when the follower
            // does (it holds their senders).
            tokio::join!(follower.run(shutdown), forward, health);
        })
    }
}
