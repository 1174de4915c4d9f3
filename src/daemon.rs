//! `herald serve`: the daemon.
//!
//! One task owns the [`LiveSite`] and applies, in order, everything that
//! can change it: store events from the watcher, the clock reaching the
//! next scheduled change, cron jobs, and configuration reloads. After each
//! step it publishes the new files to the HTTP server (an atomic swap), the
//! health report and metrics, and the optional output folder. The server
//! runs beside it and never waits for it.
//!
//! [`Daemon::start`] takes an already-bound listener and a [`Clock`], so
//! tests run a whole daemon in-process on a loopback port with a clock they
//! move by hand.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use jiff::Timestamp;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::config::{Config, Overrides};
use crate::diagnostic::Diagnostic;
use crate::push::Push;
use crate::server::compress::Compressor;
use crate::server::{Limits, ServedFiles, ServerState};
use crate::site::{LiveSite, Update};
use crate::store::{ArticleStore, FolderStore};
use crate::watch::{StoreChange, StoreEvent, StoreWatcher};

/// Where the daemon's configuration comes from, so a reload reads it again
/// the same way.
#[derive(Debug, Clone)]
pub struct ConfigSource {
    /// The configuration file.
    pub path: PathBuf,
    /// Command-line values that replace the file's.
    pub overrides: Overrides,
}

impl ConfigSource {
    /// Reads and validates the configuration.
    pub fn load(&self) -> Result<Config, crate::config::ConfigError> {
        Config::load(&self.path, &self.overrides)
    }
}

/// Why the daemon could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The store folder cannot be opened.
    #[error("{0}")]
    Store(Diagnostic),
    /// The state folder cannot be created or written.
    #[error("{}: error: cannot use the state folder: {source}\n  hint: create it, or pass --state DIR with a folder herald may write", path.display())]
    State {
        /// The folder.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The push state cannot be opened.
    #[error(
        "error: cannot start WebSub and push deliveries: {0}\n  hint: check that the state folder is writable and not used by another herald"
    )]
    Push(crate::push::PushError),
    /// The output folder cannot be written.
    #[error("{}: error: cannot write the output folder: {source}", path.display())]
    Output {
        /// The folder.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
}

/// Something that changes the site, in arrival order.
#[derive(Debug)]
enum SiteEvent {
    Store(StoreChange),
    Rebuild,
    Housekeeping,
    Reload,
}

/// A running daemon.
pub struct Daemon {
    /// The address the server listens on.
    pub addr: std::net::SocketAddr,
    /// What the server serves (tests read health and files from here).
    pub state: Arc<ServerState>,
    events: mpsc::UnboundedSender<SiteEvent>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    /// Steps completed, for tests that wait for the site to settle.
    steps: watch::Receiver<u64>,
    /// The push side, for tests and the CLI.
    pub push: Option<Arc<Push>>,
}

impl Daemon {
    /// Builds the site from `config`, starts serving it on `listener`, and
    /// starts watching the store and the clock.
    pub async fn start(
        config: Config,
        source: ConfigSource,
        listener: TcpListener,
        clock: Arc<dyn Clock>,
    ) -> Result<Daemon, StartError> {
        std::fs::create_dir_all(&config.state_dir)
            .and_then(|()| check_writable(&config.state_dir))
            .map_err(|source| StartError::State { path: config.state_dir.clone(), source })?;
        let store: Arc<dyn ArticleStore> = Arc::new(FolderStore::for_config(&config).map_err(StartError::Store)?);
        let config = Arc::new(config);
        // Watch before the first scan: a file saved while the store is read
        // is then seen again afterwards, never lost.
        let (events, events_rx) = mpsc::unbounded_channel();
        let watcher = start_watcher(&config, &events);
        let now = clock.now();
        let (mut site, files) = {
            let config = Arc::clone(&config);
            let store = Arc::clone(&store);
            tokio::task::spawn_blocking(move || {
                // With an output folder, whole: the folder is written once
                // complete. Without, a large store's live files are served
                // before its archives are rendered.
                let mut site = match config.server.out_dir {
                    Some(_) => LiveSite::start(config, store, now),
                    None => {
                        let from = config.server.deferred_archives_from;
                        LiveSite::start_without_archives(config, store, now, from)
                    }
                };
                // Make the first edits as cheap as the next ones (a few
                // tenths of a second at 100,000 articles; it changes no
                // file, and its archive part is left as pending work).
                site.warm_up();
                // Compressed bodies follow in the background (see publish).
                let files = ServedFiles::prepare(site.snapshot(), None, site.config(), now, None);
                (site, files)
            })
            .await
            .expect("the initial build does not panic")
        };
        let problems = site.problems();
        for problem in &problems {
            tracing::warn!("{problem}");
        }
        if let Some(out) = &config.server.out_dir {
            site.snapshot().write_dir_atomic(out).map_err(|source| StartError::Output { path: out.clone(), source })?;
        }
        let counts = site.counts();
        tracing::info!(
            "serving {} files from {} visible articles ({} documents, {} with errors)",
            files.len(),
            counts.visible,
            site.documents(),
            problems.len()
        );

        let state = Arc::new(ServerState::default());
        if site.archives_pending() {
            tracing::info!("serving the live feeds and sitemaps; rendering the archives now");
            state.archives_starting.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        let compressor = state.compressor.get_or_init(|| Compressor::start(Compressor::default_workers()));
        compressor.submit(files.iter().map(Arc::clone));
        if watcher.is_some() {
            state.metrics.set_debounce(crate::watch::effective_debounce(config.server.watch_debounce));
        }
        state.files.store(Arc::new(files));
        publish_health(&state, &site, now);
        let (config_tx, config_rx) = watch::channel(Arc::clone(&config));
        let push = if Push::wanted(&config) {
            let push =
                Push::open(config_rx.clone(), Arc::clone(&state), Arc::clone(&clock)).map_err(StartError::Push)?;
            if config.websub.enabled {
                let _ = state.hub.set(Arc::clone(&push.hub));
            }
            let _ = state.deliveries.set(Arc::clone(&push.engine.counters));
            // Feeds and articles that changed while herald was stopped are
            // announced now; unchanged ones are not (a restart notifies nobody).
            push.announce(site.snapshot(), None, &config, now);
            push.announce_articles(&mut site, None, now);
            Some(Arc::new(push))
        } else {
            None
        };

        let addr =
            listener.local_addr().map_err(|source| StartError::Output { path: PathBuf::from("listener"), source })?;
        let (shutdown, shutdown_rx) = watch::channel(false);
        let (steps_tx, steps) = watch::channel(0u64);
        let limits = Limits {
            request_timeout: config.server.request_timeout,
            write_timeout: crate::server::DEFAULT_WRITE_TIMEOUT,
            max_header_bytes: config.server.max_header_bytes,
            max_connections: config.server.max_connections,
        };

        let mut tasks = Vec::new();
        tasks.push(tokio::spawn(crate::server::serve(
            listener,
            Arc::clone(&state),
            limits,
            wait_for(shutdown_rx.clone()),
        )));
        if let Some(push) = &push {
            tasks.push(tokio::spawn(Arc::clone(&push.engine).run(shutdown_rx.clone())));
        }
        for job in [Job::Rebuild, Job::Housekeeping] {
            tasks.push(tokio::spawn(run_job(
                job,
                config_rx.clone(),
                Arc::clone(&clock),
                events.clone(),
                shutdown_rx.clone(),
            )));
        }
        let push_handle = push.clone();
        let looper = SiteLoop {
            site: Arc::new(Mutex::new(site)),
            state: Arc::clone(&state),
            clock,
            source,
            events: events.clone(),
            steps: steps_tx,
            watcher,
            config: config_tx,
            mirror: Arc::new(Mutex::new(Mirror { dir: config.server.out_dir.clone(), dirty: false })),
            rebuild_next: false,
            unfinished: 0,
            push,
        };
        tasks.push(tokio::spawn(looper.run(events_rx, shutdown_rx)));
        Ok(Daemon { addr, state, events, shutdown, tasks, steps, push: push_handle })
    }

    /// Reads the configuration file again and switches to it if it is
    /// valid; otherwise logs why and keeps the current one (SIGHUP).
    pub fn reload(&self) {
        let _ = self.events.send(SiteEvent::Reload);
    }

    /// Asks for a full rescan of the store.
    pub fn rebuild(&self) {
        let _ = self.events.send(SiteEvent::Rebuild);
    }

    /// A receiver of the number of site steps completed so far.
    pub fn steps(&self) -> watch::Receiver<u64> {
        self.steps.clone()
    }

    /// Stops accepting connections, lets in-flight requests finish, stops
    /// watching, and returns when every task has ended.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        if let Some(compressor) = self.state.compressor.get() {
            compressor.close();
        }
    }
}

async fn wait_for(mut shutdown: watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

fn check_writable(dir: &std::path::Path) -> std::io::Result<()> {
    let probe = dir.join(".herald-write-test");
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(probe)
}

/// The task that owns the site.
struct SiteLoop {
    site: Arc<Mutex<LiveSite>>,
    state: Arc<ServerState>,
    clock: Arc<dyn Clock>,
    source: ConfigSource,
    events: mpsc::UnboundedSender<SiteEvent>,
    steps: watch::Sender<u64>,
    watcher: Option<(PathBuf, StoreWatcher)>,
    /// The configuration in force, for the cron jobs.
    config: watch::Sender<Arc<Config>>,
    /// The output folder mirror.
    mirror: Arc<Mutex<Mirror>>,
    /// Set when a step failed: the next step rebuilds everything.
    rebuild_next: bool,
    /// Steps whose archives are still being brought up to date: they count
    /// as completed (in `steps`) once the archives are.
    unfinished: u64,
    /// WebSub and the outbox, when enabled.
    push: Option<Arc<Push>>,
}

/// The state of the output folder that mirrors the served files.
#[derive(Debug)]
struct Mirror {
    /// The folder written last.
    dir: Option<PathBuf>,
    /// Whether it may disagree with the served files (a write failed).
    dirty: bool,
}

impl SiteLoop {
    async fn run(mut self, mut events: mpsc::UnboundedReceiver<SiteEvent>, mut shutdown: watch::Receiver<bool>) {
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
        let result = tokio::task::spawn_blocking(move || {
            let mut site = lock(&site);
            if let Some(update) = site.complete_some_archives() {
                publish(&state, &site, &update, &mut lock(&mirror), now, false);
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
        let result = tokio::task::spawn_blocking(move || {
            let mut site = lock(&site);
            let mut reloaded = None;
            if let Some(config) = new_config {
                match FolderStore::for_config(&config) {
                    Ok(store) => {
                        tracing::info!("configuration reloaded from {}", config.source.display());
                        reloaded = Some(site.reload(Arc::new(config), Arc::new(store), now));
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
                site.apply_paths_staged(&paths, now)
            } else {
                site.advance_staged(now)
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
                push.announce_articles(&mut site, (!full).then_some(&update.articles), now);
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
fn start_watcher(config: &Config, events: &mpsc::UnboundedSender<SiteEvent>) -> Option<(PathBuf, StoreWatcher)> {
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

/// Locks a mutex, recovering it if a panicking step poisoned it (the next
/// step rebuilds everything in that case).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Hands the site's current files, health and metrics to the server, and
/// mirrors changed files to the output folder (all of them when the folder
/// is new or a write failed before). Returns when the new files began to be
/// served, if any changed.
fn publish(
    state: &ServerState,
    site: &LiveSite,
    update: &Update,
    mirror: &mut Mirror,
    now: Timestamp,
    everything: bool,
) -> Option<Instant> {
    let mut published = None;
    if everything || !update.changed_paths.is_empty() {
        let previous = state.files.load();
        let compressor = state.compressor.get();
        let files = if everything {
            // The configuration may have changed every header: look at all.
            ServedFiles::prepare(site.snapshot(), Some(&previous), site.config(), now, compressor)
        } else {
            ServedFiles::update(&previous, site.snapshot(), &update.changed_paths, site.config(), now, compressor)
        };
        state.files.store(Arc::new(files));
        published = Some(Instant::now());
    }
    let out = site.config().server.out_dir.clone();
    if out != mirror.dir {
        mirror.dir = out.clone();
        mirror.dirty = true;
    }
    if let Some(out) = &out {
        let written = if mirror.dirty {
            site.snapshot().write_dir_atomic(out)
        } else {
            site.snapshot().write_changes(out, &update.changed_paths)
        };
        mirror.dirty = written.is_err();
        if let Err(e) = written {
            tracing::error!(
                "{}: cannot update the output folder: {e}; it is written in full at the next update",
                out.display()
            );
        }
    }
    if !site.archives_pending() && state.archives_starting.swap(false, std::sync::atomic::Ordering::Relaxed) {
        tracing::info!("the archives are rendered: every file is served");
    }
    publish_health(state, site, now);
    published
}

fn publish_health(state: &ServerState, site: &LiveSite, now: Timestamp) {
    let stats = site.stats();
    let counts = site.counts();
    let all_problems = site.problems();
    let problems: Vec<serde_json::Value> = all_problems
        .iter()
        .take(100)
        .map(|d| serde_json::json!({ "path": d.path.display().to_string(), "line": d.line, "message": d.message, "text": d.to_string() }))
        .collect();
    let tz = &site.config().site.time_zone;
    let health = serde_json::json!({
        "status": "ok",
        "now": crate::render::time::rfc3339(now, tz),
        "last_build": stats.last_build.map(|t| crate::render::time::rfc3339(t, tz)),
        "last_build_seconds": stats.last_build_seconds,
        "builds": stats.builds,
        "documents": site.documents(),
        "articles": {
            "visible": counts.visible,
            "draft": counts.drafts,
            "scheduled": counts.scheduled,
            "expired": counts.expired,
        },
        "files": site.snapshot().len(),
        // False while archive documents lag behind the live files (for a
        // few milliseconds after an edit; after a deferred start, until
        // they are all rendered).
        "archives_complete": !site.archives_pending(),
        "next_change": site.next_change().map(|t| crate::render::time::rfc3339(t, tz)),
        "store_error_count": all_problems.len(),
        "store_errors": problems,
    });
    let mut body = serde_json::to_vec_pretty(&health).unwrap_or_default();
    body.push(b'\n');
    state.health.store(Arc::new(Bytes::from(body)));
    state.metrics.site(stats, counts, site.documents(), all_problems.len(), site.snapshot().len());
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

/// The periodic jobs of `[schedule]`.
#[derive(Debug, Clone, Copy)]
enum Job {
    Rebuild,
    Housekeeping,
}

async fn run_job(
    job: Job,
    mut config: watch::Receiver<Arc<Config>>,
    clock: Arc<dyn Clock>,
    events: mpsc::UnboundedSender<SiteEvent>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        // Read the schedule afresh: a reload may have changed it.
        let current = Arc::clone(&config.borrow_and_update());
        let schedule = match job {
            Job::Rebuild => &current.schedule.rebuild,
            Job::Housekeeping => &current.schedule.housekeeping,
        };
        let Some(next) = schedule.next_after(clock.now(), &current.site.time_zone) else { return };
        tokio::select! {
            _ = shutdown.wait_for(|stop| *stop) => return,
            changed = config.changed() => {
                if changed.is_err() {
                    return;
                }
                continue;
            }
            () = clock.sleep_until(next) => {}
        }
        if clock.now() < next {
            continue;
        }
        let event = match job {
            Job::Rebuild => SiteEvent::Rebuild,
            Job::Housekeeping => SiteEvent::Housekeeping,
        };
        if events.send(event).is_err() {
            return;
        }
    }
}
