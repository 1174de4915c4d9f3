//! Push: telling the outside world about changes, durably.
//!
//! The outbox ([`state`]) is the one mechanism for every outgoing push:
//! a change is committed there before anyone is called, and the delivery
//! engine ([`delivery`]) works it off with retries. The WebSub hub
//! ([`hub`]) adds subscribers and queues their verification.

pub mod delivery;
pub mod events;
pub mod hub;
pub mod hub_request;
pub mod signature;
pub mod sources;
pub mod ssrf;
pub mod state;
pub mod webhooks;

use std::sync::Arc;

use jiff::Timestamp;
use tokio::sync::{Notify, watch};

use crate::clock::Clock;
use crate::config::Config;
use crate::snapshot::{ResourceKind, Snapshot};
use sources::{ArticleSource, TopicSource};
use state::{PushStore, SqliteStore};

/// How long given-up jobs stay for `herald deliveries list --failed`.
pub const KEEP_FAILED: jiff::SignedDuration = jiff::SignedDuration::from_hours(7 * 24);

/// The push side of a running daemon.
pub struct Push {
    /// Durable subscriptions and outbox.
    pub store: Arc<dyn PushStore>,
    /// The hub endpoint.
    pub hub: Arc<hub::WebSubHub>,
    /// The delivery engine (run it with [`delivery::Engine::run`]).
    pub engine: Arc<delivery::Engine>,
    wake: Arc<Notify>,
    /// The fediverse publisher, once attached ([`Push::attach_fediverse`]).
    fediverse: std::sync::OnceLock<Arc<dyn sources::Fediverse>>,
    /// Set when recording article events failed: the next announcement
    /// compares every article.
    resync: std::sync::atomic::AtomicBool,
    /// Set when recording feed changes failed: the next announcement
    /// compares every feed.
    resync_feeds: std::sync::atomic::AtomicBool,
}

/// Why push could not start.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The state database.
    #[error("{0}")]
    Store(#[from] state::StoreError),
    /// The HTTP client.
    #[error("cannot create the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

impl Push {
    /// Opens the state database in the configured state folder (an empty
    /// file only when `initialise` allows it) and sets up the hub and the
    /// engine, which reads what it delivers from `topics` and looks host
    /// names up through `lookup` (the system's, but for tests).
    pub fn open(
        config: watch::Receiver<Arc<Config>>,
        topics: Arc<dyn TopicSource>,
        clock: Arc<dyn Clock>,
        initialise: state::Initialise,
        lookup: Arc<dyn ssrf::Lookup>,
    ) -> Result<Push, PushError> {
        let path = SqliteStore::file_in(&config.borrow().state_dir);
        let store: Arc<dyn PushStore> = Arc::new(SqliteStore::open_with(&path, initialise)?);
        Push::with_store(store, config, topics, clock, lookup)
    }

    /// Sets up the hub and the engine over `store` (the shared PostgreSQL
    /// store of a replica, or any other).
    pub fn with_store(
        store: Arc<dyn PushStore>,
        config: watch::Receiver<Arc<Config>>,
        topics: Arc<dyn TopicSource>,
        clock: Arc<dyn Clock>,
        lookup: Arc<dyn ssrf::Lookup>,
    ) -> Result<Push, PushError> {
        let wake = Arc::new(Notify::new());
        let hub = Arc::new(hub::WebSubHub::new(
            Arc::clone(&store),
            config.clone(),
            Arc::clone(&clock),
            Arc::clone(&wake),
            Arc::clone(&lookup),
        ));
        let engine =
            Arc::new(delivery::Engine::new(Arc::clone(&store), topics, config, clock, Arc::clone(&wake), lookup)?);
        Ok(Push {
            store,
            hub,
            engine,
            wake,
            fediverse: std::sync::OnceLock::new(),
            resync: std::sync::atomic::AtomicBool::new(false),
            resync_feeds: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Whether anything needs push: the hub, a webhook, IndexNow or the
    /// fediverse.
    pub fn wanted(config: &Config) -> bool {
        config.websub.enabled || !config.webhooks.is_empty() || config.indexnow.is_some() || config.activitypub.enabled
    }

    /// Attaches the fediverse publisher: from now on article events also
    /// queue activities, and the engine signs them with it. Only the first
    /// call counts.
    pub fn attach_fediverse(&self, fediverse: Arc<dyn sources::Fediverse>) {
        let _ = self.engine.fediverse.set(Arc::clone(&fediverse));
        let _ = self.fediverse.set(fediverse);
    }

    /// Wakes the delivery engine (something was queued).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// The notifier that wakes the delivery engine.
    pub fn waker(&self) -> Arc<Notify> {
        Arc::clone(&self.wake)
    }

    /// Announces the feeds among `paths` whose bytes differ from the last
    /// version announced (all of `snapshot`'s feeds when `paths` is
    /// `None`): one delivery per subscriber, one ping per external hub,
    /// committed before the engine is woken. Unchanged feeds announce
    /// nothing, so a restart or a no-op rebuild notifies nobody.
    pub fn announce(&self, snapshot: &Snapshot, paths: Option<&[String]>, config: &Config, now: Timestamp) {
        use std::sync::atomic::Ordering;
        if !config.websub.enabled {
            return;
        }
        let paths = if self.resync_feeds.swap(false, Ordering::Relaxed) { None } else { paths };
        let feed = |path: &String| {
            snapshot.get(path).filter(|r| r.kind == ResourceKind::Feed).map(|r| (config.url_for(path), r.etag.clone()))
        };
        let changes: Vec<(String, String)> = match paths {
            Some(paths) => paths.iter().filter_map(feed).collect(),
            None => snapshot.iter().filter_map(|(path, _)| feed(path)).collect(),
        };
        if changes.is_empty() {
            return;
        }
        match self.store.announce(&changes, &config.websub.external_hubs, now) {
            Ok(0) => {}
            Ok(queued) => {
                tracing::info!("{queued} push requests queued for {} changed feeds", changes.len());
                self.wake.notify_one();
            }
            Err(e) => {
                tracing::error!("cannot queue push requests: {e}; every feed is compared again at the next update");
                self.resync_feeds.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Queues webhook events and IndexNow URLs for the articles `change`
    /// touched, or, with `None` (start-up, scheduled rebuilds, after a
    /// failure), for every article of `articles`.
    pub fn announce_articles(
        &self,
        articles: &mut dyn ArticleSource,
        change: Option<&crate::catalog::Change>,
        now: Timestamp,
    ) {
        use std::sync::atomic::Ordering;
        let change = if self.resync.swap(false, Ordering::Relaxed) { None } else { change };
        let fediverse = self.fediverse.get().map(|f| &**f);
        match events::announce(self.store.as_ref(), articles, change, now, fediverse) {
            Ok(0) => {}
            Ok(queued) => {
                tracing::info!("{queued} article events queued");
                self.wake.notify_one();
            }
            Err(e) => {
                tracing::error!("cannot queue article events: {e}; every article is compared again at the next update");
                self.resync.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Housekeeping: deletes subscriptions whose lease ended, and jobs given
    /// up more than [`KEEP_FAILED`] ago.
    pub fn prune(&self, now: Timestamp) {
        match self.store.prune_expired(now) {
            Ok(0) => {}
            Ok(n) => tracing::info!("{n} expired WebSub subscriptions removed"),
            Err(e) => tracing::error!("cannot prune subscriptions: {e}"),
        }
        let before = now.checked_sub(KEEP_FAILED).unwrap_or(now);
        match self.store.prune_failed(before) {
            Ok(0) => {}
            Ok(n) => tracing::info!("{n} given-up push jobs older than a week removed"),
            Err(e) => tracing::error!("cannot prune the outbox: {e}"),
        }
    }
}
