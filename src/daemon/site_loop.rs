//! The task that owns the [`LiveSite`]: it takes the events that change
//! the site in arrival order (store changes, the clock, cron jobs, reloads),
//! applies each batch as one step off the async threads, publishes the
//! result and announces it to push; between events it brings the archives
//! of staged steps up to date.

use crate::parallel::lock;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::{mpsc, watch};

use super::publish::{Mirror, publish};
use super::{ConfigSource, SiteEvent};
use crate::activitypub::ArticleIndex;
use crate::clock::Clock;
use crate::config::Config;
use crate::push::Push;
use crate::server::ServerState;
use crate::site::{LiveSite, Stage, Update};
use crate::store::{ArticleStore, FolderStore};
use crate::watch::{StoreChange, StoreEvent, StoreWatcher};

/// The task that owns the site.
pub(super) struct SiteLoop {
    /// The site, locked by each step (on a blocking thread).
    pub(super) site: Arc<Mutex<LiveSite>>,
    /// What the server serves.
    pub(super) state: Arc<ServerState>,
    /// The daemon's clock.
    pub(super) clock: Arc<dyn Clock>,
    /// Where a reload reads the configuration.
    pub(super) source: ConfigSource,
    /// For the events the loop sends itself (a rebuild after a failed
    /// step) and a new watcher's.
    pub(super) events: mpsc::UnboundedSender<SiteEvent>,
    /// Steps completed.
    pub(super) steps: watch::Sender<u64>,
    /// The store folder watched, and its watcher.
    pub(super) watcher: Option<(PathBuf, StoreWatcher)>,
    /// The configuration in force, for the cron jobs.
    pub(super) config: watch::Sender<Arc<Config>>,
    /// The output folder mirror.
    pub(super) mirror: Arc<Mutex<Mirror>>,
    /// Set when a step failed: the next step rebuilds everything.
    pub(super) rebuild_next: bool,
    /// Steps whose archives are still being brought up to date: they count
    /// as completed (in `steps`) once the archives are.
    pub(super) unfinished: u64,
    /// WebSub and the outbox, when enabled.
    pub(super) push: Option<Arc<Push>>,
    /// The articles table, when articles come from the database: a reload
    /// keeps reading it (and watches no folder).
    pub(super) table: Option<Arc<dyn ArticleStore>>,
}

impl SiteLoop {
    /// Takes events until `shutdown` says stop (leaving the output folder
    /// complete) or every sender is gone.
    pub(super) async fn run(
        mut self,
        mut events: mpsc::UnboundedReceiver<SiteEvent>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        loop {
            if lock(&self.site).archives_pending() {
                // The archives of earlier steps lag behind their live
                // files: bring them up to date, unless events are waiting
                // (their live files go first; the archive work adds up).
                if *shutdown.borrow() {
                    // Leave the output folder complete.
                    while lock(&self.site).archives_pending() && !self.rebuild_next {
                        self.complete_archives().await;
                    }
                    break;
                }
                match events.try_recv() {
                    Ok(event) => {
                        let mut batch = vec![event];
                        while let Ok(more) = events.try_recv() {
                            batch.push(more);
                        }
                        self.step(batch).await;
                        self.unfinished += 1;
                    }
                    Err(mpsc::error::TryRecvError::Empty) => self.complete_archives().await,
                    Err(mpsc::error::TryRecvError::Disconnected) => break,
                }
                self.count_steps();
                continue;
            }
            let next = lock(&self.site).next_change();
            let clock = Arc::clone(&self.clock);
            let event = tokio::select! {
                biased;
                _ = shutdown.wait_for(|stop| *stop) => break,
                event = events.recv() => match event {
                    Some(event) => Some(event),
                    None => break,
                },
                () = async { match next { Some(at) => clock.sleep_until(at).await, None => std::future::pending().await } } => None,
            };
            // Take every event already waiting, so a burst is one update.
            let mut batch: Vec<SiteEvent> = event.into_iter().collect();
            while let Ok(more) = events.try_recv() {
                batch.push(more);
            }
            self.step(batch).await;
            self.unfinished += 1;
            self.count_steps();
        }
        self.watcher = None;
    }

    /// Counts the steps taken as completed once their archives are up to
    /// date.
    fn count_steps(&mut self) {
        if !lock(&self.site).archives_pending() {
            let done = std::mem::take(&mut self.unfinished);
            self.steps.send_modify(|n| *n += done);
        }
    }

    /// Renders some of the archive documents that staged steps left (those
    /// of one feed, so that a new event waits little), and publishes them
    /// once they are all done. Does not count as a step.
    async fn complete_archives(&mut self) {
        let site = Arc::clone(&self.site);
        let state = Arc::clone(&self.state);
        let mirror = Arc::clone(&self.mirror);
        let now = self.clock.now();
        let push = self.push.clone();
        let result = tokio::task::spawn_blocking(move || {
            let mut site = lock(&site);
            if let Some(update) = site.complete_some_archives() {
                publish(&state, &site, &update, &mut lock(&mirror), now, false);
                // The term feeds a deferred start left out appear now: each
                // is compared with the version last announced, so one that
                // changed while herald was down is announced once, and an
                // unchanged one not at all.
                if let Some(push) = &push {
                    push.announce(site.snapshot(), Some(&update.changed_paths), site.config(), now);
                }
            }
        })
        .await;
        if let Err(e) = result {
            tracing::error!(
                "an archive update failed: {e}; the previous files stay served, and the next update rebuilds everything"
            );
            self.rebuild_next = true;
            let _ = self.events.send(SiteEvent::Rebuild);
        }
    }

    /// Applies a batch of events (an empty batch: the clock reached the next
    /// scheduled change) and publishes the result.
    async fn step(&mut self, batch: Vec<SiteEvent>) {
        let mut paths = Vec::new();
        let mut rebuild = std::mem::take(&mut self.rebuild_next);
        let mut housekeeping = false;
        let mut new_config = None;
        // The earliest store change of the batch, for the latency metrics.
        let mut seen: Option<(Instant, Instant)> = None;
        for event in batch {
            if let SiteEvent::Store(change) = &event {
                seen = Some(match seen {
                    Some((first, delivered)) => (first.min(change.first_event), delivered.min(change.delivered)),
                    None => (change.first_event, change.delivered),
                });
            }
            match event {
                SiteEvent::Store(StoreChange { event: StoreEvent::Paths(p), .. }) => paths.extend(p),
                SiteEvent::Store(StoreChange { event: StoreEvent::Rescan, .. }) | SiteEvent::Rebuild => rebuild = true,
                SiteEvent::Housekeeping => housekeeping = true,
                // Every step reads the counts afresh (below).
                SiteEvent::Followers => {}
                SiteEvent::Reload => match self.source.load() {
                    Ok(config) => new_config = Some(config),
                    Err(e) => {
                        tracing::error!("the configuration was not reloaded; the previous one stays in force:\n{e}")
                    }
                },
            }
        }
        let now = self.clock.now();
        let site = Arc::clone(&self.site);
        let state = Arc::clone(&self.state);
        let mirror = Arc::clone(&self.mirror);
        let push = self.push.clone();
        let table = self.table.clone();
        let result = tokio::task::spawn_blocking(move || {
            let mut site = lock(&site);
            if let (Some(push), Some(_)) = (&push, &state.activitypub) {
                // The index page shows the follower counts: read afresh at
                // every step, so follows recorded elsewhere (`herald
                // followers remove`, another replica) show at the next one.
                match push.store.follower_counts() {
                    Ok(counts) => {
                        site.set_follower_counts(counts.into_iter().collect());
                    }
                    Err(e) => tracing::warn!("cannot read the follower counts ({e}); the index page keeps its own"),
                }
            }
            let mut reloaded = None;
            if let Some(config) = new_config {
                let store = match table {
                    Some(table) => Ok(table),
                    None => FolderStore::for_config(&config).map(|store| Arc::new(store) as Arc<dyn ArticleStore>),
                };
                match store {
                    Ok(store) => {
                        tracing::info!("configuration reloaded from {}", config.source.display());
                        reloaded = Some(site.reload(Arc::new(config), store, now));
                    }
                    Err(problem) => tracing::error!("the configuration was not reloaded: {problem}"),
                }
            }
            let everything = reloaded.is_some();
            let update = if let Some(update) = reloaded {
                update
            } else if rebuild {
                site.rebuild(now)
            } else if !paths.is_empty() {
                // The live feeds and sitemaps now; the archives once these
                // are served (`complete_archives`).
                site.apply(&paths, now, Stage::LiveFirst)
            } else {
                site.advance(now, Stage::LiveFirst)
            };
            if housekeeping {
                site.housekeeping();
                if let Some(push) = &push {
                    push.prune(now);
                }
            }
            let published = publish(&state, &site, &update, &mut lock(&mirror), now, everything);
            if let (Some(at), Some((first_event, delivered))) = (published, seen) {
                tracing::debug!(
                    "store change published {:.1} ms after the watcher's batch, {:.1} ms after its first file event",
                    (at - delivered).as_secs_f64() * 1000.0,
                    (at - first_event).as_secs_f64() * 1000.0
                );
                state.metrics.update_published(at - delivered, at - first_event);
            }
            if let Some(push) = &push {
                // A full rebuild is the safety net: compare every feed and
                // every article with what was last announced.
                let full = rebuild || everything;
                push.announce(site.snapshot(), (!full).then_some(&update.changed_paths[..]), site.config(), now);
                push.announce_articles(&mut *site, (!full).then_some(&update.articles), now);
            }
            if let Some(activitypub) = &state.activitypub
                && (rebuild || everything || !update.articles.is_empty())
            {
                // The actors and their outboxes follow the catalog.
                activitypub.publish_index(ArticleIndex::build(site.catalog(), site.config()));
            }
            if rebuild || everything {
                // Everything was rendered afresh: make the next edits cheap.
                site.warm_up();
            }
            (update, Arc::clone(site.config()))
        })
        .await;
        match result {
            Ok((update, config)) => {
                if let Some(summary) = summarise(&update) {
                    tracing::info!("{summary}");
                }
                if !Arc::ptr_eq(&config, &self.config.borrow()) {
                    self.config.send_replace(config);
                    self.rewatch();
                }
            }
            Err(e) => {
                tracing::error!(
                    "a site update failed: {e}; the previous files stay served, and the next update rebuilds everything"
                );
                self.rebuild_next = true;
                let _ = self.events.send(SiteEvent::Rebuild);
            }
        }
    }

    /// Restarts the watcher when the configured store folder changed.
    fn rewatch(&mut self) {
        if self.table.is_some() {
            return;
        }
        let config = Arc::clone(lock(&self.site).config());
        if self.watcher.as_ref().is_some_and(|(dir, _)| *dir == config.store_dir) {
            return;
        }
        self.watcher = start_watcher(&config, &self.events);
        if self.watcher.is_some() {
            self.state.metrics.set_debounce(crate::watch::effective_debounce(config.server.watch_debounce));
        }
    }
}

/// Watches `config`'s store folder, forwarding what changes as site
/// events. Without a watcher, the scheduled rebuild still picks changes up.
pub(super) fn start_watcher(
    config: &Config,
    events: &mpsc::UnboundedSender<SiteEvent>,
) -> Option<(PathBuf, StoreWatcher)> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    match crate::watch::watch(&config.store_dir, config.server.watch_debounce, tx) {
        Ok(watcher) => {
            let events = events.clone();
            tokio::spawn(async move {
                while let Some(event) = rx.recv().await {
                    if events.send(SiteEvent::Store(event)).is_err() {
                        break;
                    }
                }
            });
            Some((config.store_dir.clone(), watcher))
        }
        Err(e) => {
            tracing::error!(
                "{}: cannot watch the store ({e}); changes are picked up by the scheduled rebuild only",
                config.store_dir.display()
            );
            None
        }
    }
}

fn summarise(update: &Update) -> Option<String> {
    if update.changed_paths.is_empty() && update.articles.is_empty() {
        return None;
    }
    Some(format!(
        "{} files changed ({} published, {} updated, {} unpublished)",
        update.changed_paths.len(),
        update.articles.published.len(),
        update.articles.updated.len(),
        update.articles.unpublished.len()
    ))
}
