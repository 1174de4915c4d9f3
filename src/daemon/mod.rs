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
//!
//! Here: starting and stopping (the wiring of site, server and push). The
//! task that owns the site is in `site_loop`, handing its results to the
//! server and the output folder in `publish`; `scheduled_jobs` sends the
//! cron jobs' events; `article_source` lets push read the live site;
//! `table` reads and follows the articles table instead of the folder.

mod article_source;
mod publish;
pub mod saved_files;
mod scheduled_jobs;
mod site_loop;
mod table;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::activitypub::{ActivityPub, ArticleIndex};
use crate::clock::Clock;
use crate::config::{Config, Overrides};
use crate::db::Database;
use crate::diagnostic::Diagnostic;
use crate::file_cache::FileCache;
use crate::push::Push;
use crate::push::sources::TopicSource;
use crate::push::state::Initialise;
use crate::saved_catalog::SavedCatalog;
use crate::server::compress::Compressor;
use crate::server::{CurrentFiles, Limits, ServedFiles, ServerState};
use crate::site::{LiveSite, Start};
use crate::store::{ArticleStore, FolderStore};
use crate::watch::StoreChange;
use publish::{Mirror, publish_health};
use scheduled_jobs::{ScheduledJob, run_job};
use site_loop::{SiteLoop, start_watcher};
use table::Table;

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

/// Why the daemon could not start. [`StartError::diagnostic`] says it the
/// way users read problems: the place, what went wrong, what to do.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The store folder cannot be opened.
    #[error("{0}")]
    Store(Diagnostic),
    /// The state folder cannot be created or written.
    #[error("cannot use the state folder {}: {source}", path.display())]
    State {
        /// The folder.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The push state cannot be opened.
    #[error("cannot start WebSub and push deliveries: {0}")]
    Push(crate::push::PushError),
    /// The database cannot be reached, or its schema is not this herald's.
    #[error("{0}")]
    Database(crate::db::DbError),
    /// The output folder cannot be written.
    #[error("cannot write the output folder {}: {source}", path.display())]
    Output {
        /// The folder.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
}

impl StartError {
    /// The problem with its place and a hint, as `herald serve` prints it.
    pub fn diagnostic(&self) -> Diagnostic {
        match self {
            StartError::Store(d) => d.clone(),
            StartError::State { path, source } => {
                Diagnostic::error(path, format!("cannot use the state folder: {source}"))
                    .with_hint("create it, or pass --state DIR with a folder herald may write")
            }
            // A refused state file says what it is and what to do itself.
            StartError::Push(crate::push::PushError::Store(crate::push::state::StoreError::Refused(d))) => d.clone(),
            StartError::Push(e) => Diagnostic::general_error(format!("cannot start WebSub and push deliveries: {e}"))
                .with_hint("check that the state folder is writable and not used by another herald"),
            StartError::Output { path, source } => {
                Diagnostic::error(path, format!("cannot write the output folder: {source}"))
            }
            StartError::Database(e @ crate::db::DbError::SchemaNewer { .. }) => {
                Diagnostic::general_error(e.to_string())
                    .with_hint("a newer herald migrated this database: run that version (a schema is never downgraded)")
            }
            StartError::Database(e) => Diagnostic::general_error(e.to_string()).with_hint(
                "check [database] url (or HERALD_DATABASE_URL), that PostgreSQL runs, and the user's rights",
            ),
        }
    }
}

/// Something that changes the site, in arrival order.
#[derive(Debug)]
enum SiteEvent {
    Store(StoreChange),
    Rebuild,
    Housekeeping,
    Reload,
    /// Follows were added or removed: the index page shows the counts.
    Followers,
}

/// The folder of the state folder where files kept on disk are
/// ([`FileCache`]).
pub const FILE_CACHE_DIR: &str = "files";

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
    /// The shared database, when `[database] url` is set.
    pub database: Option<Arc<Database>>,
    /// The files kept on disk.
    file_cache: FileCache,
    /// The live site (for saving its files at shutdown).
    site: Arc<Mutex<LiveSite>>,
    /// The store (for saving its state at shutdown).
    store: Arc<dyn ArticleStore>,
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
        let database = open_database(&config).await?;
        // This process in the database: its heartbeats and its claims.
        let replica = crate::db::replicas::ReplicaId::this_process();
        let cache_dir = config.state_dir.join(FILE_CACHE_DIR);
        let cache = FileCache::open(&cache_dir).map_err(|source| StartError::State { path: cache_dir, source })?;
        // Articles from the folder, or from the database's table.
        let table = Table::open(&config, database.as_ref())?;
        let store: Arc<dyn ArticleStore> = match &table {
            Some(table) => Arc::clone(&table.store) as Arc<dyn ArticleStore>,
            None => Arc::new(FolderStore::for_config(&config).map_err(StartError::Store)?),
        };
        let config = Arc::new(config);
        // Watch before the first scan: a file saved while the store is read
        // is then seen again afterwards, never lost. The table is followed
        // from a watermark taken now, for the same reason.
        let (events, events_rx) = mpsc::unbounded_channel();
        let (watcher, follow_from) = match &table {
            Some(table) => (None, Some(table.watermark().await?)),
            None => (start_watcher(&config, &events), None),
        };
        let now = clock.now();
        let file_cache = cache.clone();
        // Files saved at the last stop, when exactly current: served at
        // once, while the store is read and rendered as usual.
        // (Not with an output folder, written from the rendered files, nor
        // with ActivityPub, whose actors are published from the catalog
        // before anything is served.)
        let restored = match config.server.out_dir {
            Some(_) => None,
            None if config.activitypub.enabled => None,
            // Nor from the database's table, whose changes while herald
            // was down the saved list cannot tell.
            None if table.is_some() => None,
            None => saved_files::restore(&config, store.as_ref(), &cache, now),
        };
        // What is read from the folder is saved for the next start, which
        // then reads only what changed (the table's rows are not files).
        let saving = table.is_none();
        let early = restored.as_ref().map(|snapshot| {
            tracing::info!("serving the {} files saved at the last stop; reading the store now", snapshot.len());
            ServedFiles::prepare(snapshot, None, &config, now, None)
        });
        let (mut site, files) = match early {
            Some(files) => (None, files),
            None => {
                let (site, files) = start_site(&config, &store, &cache, now, saving, false).await;
                (Some(site), files)
            }
        };

        // The files holder first: push reads topic content from it, and the
        // server state is made complete, push parts included.
        let compressor = Compressor::start(Compressor::default_workers());
        compressor.submit(files.iter().map(Arc::clone));
        let files = Arc::new(CurrentFiles::new(files));
        let (config_tx, config_rx) = watch::channel(Arc::clone(&config));
        let push = if Push::wanted(&config) {
            let topics: Arc<dyn TopicSource> = Arc::clone(&files) as _;
            let initialise = if source.overrides.init_state { Initialise::IfEmpty } else { Initialise::IfMissing };
            let lookup = Arc::new(crate::push::ssrf::SystemLookup);
            let push = match &database {
                // Replicas share the push state in the database.
                Some(database) => {
                    let store: Arc<dyn crate::push::state::PushStore> = Arc::new(crate::push::state::PgStore::new(
                        Arc::clone(database),
                        &replica.id,
                        config.database.claim_lease,
                    ));
                    Push::with_store(store, config_rx.clone(), topics, Arc::clone(&clock), lookup)
                }
                None => Push::open(config_rx.clone(), topics, Arc::clone(&clock), initialise, lookup),
            };
            Some(push.map_err(StartError::Push)?)
        } else {
            None
        };
        // (Never with saved files: see `restored`, above.)
        let activitypub = match (&push, &mut site) {
            (Some(push), Some(site)) if config.activitypub.enabled => {
                let activitypub = Arc::new(ActivityPub::new(
                    Arc::clone(&push.store),
                    config_rx.clone(),
                    Arc::clone(&clock),
                    push.waker(),
                    Arc::new(crate::push::ssrf::SystemLookup),
                ));
                push.attach_fediverse(Arc::clone(&activitypub) as _);
                // The actors' keys are made on the first start (a blocking
                // job), before anyone can ask for them.
                let index = ArticleIndex::build(site.catalog(), &config);
                let publisher = Arc::clone(&activitypub);
                let _ = tokio::task::spawn_blocking(move || publisher.publish_index(index)).await;
                tracing::info!("ActivityPub: {} actors", activitypub.directory().actors().len());
                // The index page shows the follower counts from the first
                // file served on.
                if show_follower_counts(site, &push.store, now).await {
                    let previous = files.load();
                    files.store(Arc::new(ServedFiles::prepare(
                        site.snapshot(),
                        Some(&previous),
                        &config,
                        now,
                        Some(&compressor),
                    )));
                }
                Some(activitypub)
            }
            _ => None,
        };
        if let (Some(out), Some(site)) = (&config.server.out_dir, &site) {
            site.snapshot().write_dir_atomic(out).map_err(|source| StartError::Output { path: out.clone(), source })?;
        }
        let state = Arc::new(
            ServerState::new(
                files,
                push.as_ref().filter(|_| config.websub.enabled).map(|push| Arc::clone(&push.hub)),
                push.as_ref().map(|push| Arc::clone(&push.engine.counters)),
                Some(compressor),
                push.as_ref().map(|push| Arc::clone(&push.store)),
            )
            .with_activitypub(activitypub),
        );
        if watcher.is_some() {
            state.metrics.set_debounce(crate::watch::effective_debounce(config.server.watch_debounce));
        }

        let addr =
            listener.local_addr().map_err(|source| StartError::Output { path: PathBuf::from("listener"), source })?;
        let (shutdown, shutdown_rx) = watch::channel(false);
        let (steps_tx, steps) = watch::channel(0u64);
        let limits = Limits {
            request_timeout: config.server.request_timeout,
            write_timeout: config.server.write_timeout,
            max_header_bytes: config.server.max_header_bytes,
            max_connections: config.server.max_connections,
        };
        let mut tasks = Vec::new();
        if let Some(database) = &database {
            tasks.push(heartbeat(Arc::clone(database), replica, addr, shutdown_rx.clone()));
        }
        let server = |listener| {
            tokio::spawn(crate::server::serve(listener, Arc::clone(&state), limits, wait_for(shutdown_rx.clone())))
        };
        // With saved files, requests are answered while the store is read.
        let (mut site, listener) = match site {
            Some(site) => (site, Some(listener)),
            None => {
                tasks.push(server(listener));
                // The saved files are served until every file is rendered.
                let (site, rendered) = start_site(&config, &store, &cache, now, saving, true).await;
                drop(rendered);
                if let Some(saved) = &restored {
                    // The saved files, served unread, are checked against
                    // the build; any that fails is written again.
                    let (saved, built, cache) = (saved.clone(), site.snapshot().clone(), cache.clone());
                    let _ = tokio::task::spawn_blocking(move || saved_files::repair(&saved, &built, &cache)).await;
                }
                let changed = restored.as_ref().map_or(0, |saved| saved.changed_paths(site.snapshot()).len());
                if changed > 0 {
                    tracing::info!("{changed} files differ from those saved at the last stop: publishing them");
                }
                let previous = state.files.load();
                let files =
                    ServedFiles::prepare(site.snapshot(), Some(&previous), &config, now, state.compressor.as_ref());
                state.files.store(Arc::new(files));
                (site, None)
            }
        };
        let problems = site.problems();
        for problem in &problems {
            tracing::warn!("{problem}");
        }
        let counts = site.counts();
        tracing::info!(
            "serving {} files from {} visible articles ({} documents, {} with errors)",
            state.files.load().len(),
            counts.visible,
            site.documents(),
            problems.len()
        );
        let archives_pending = site.archives_pending();
        if archives_pending {
            tracing::info!("serving the live feeds and sitemaps; rendering the archives now");
        }
        state.archives_starting.store(archives_pending, std::sync::atomic::Ordering::Relaxed);
        publish_health(&state, &site, now);
        let push = push.map(Arc::new);
        if let Some(push) = &push {
            // Feeds and articles that changed while herald was stopped are
            // announced now; unchanged ones are not (a restart notifies
            // nobody). On a blocking thread: the store may block.
            let (push, config) = (Arc::clone(push), Arc::clone(&config));
            site = tokio::task::spawn_blocking(move || {
                push.announce(site.snapshot(), None, &config, now);
                push.announce_articles(&mut site, None, now);
                site
            })
            .await
            .expect("announcing does not panic");
        }

        // The follower first: its state is in /healthz before any request.
        if let (Some(table), Some(from)) = (&table, follow_from) {
            tasks.push(table.follow(&config, from, events.clone(), Arc::clone(&state), shutdown_rx.clone()));
        }
        if let Some(listener) = listener {
            tasks.push(server(listener));
        }
        if let Some(push) = &push {
            tasks.push(tokio::spawn(Arc::clone(&push.engine).run(shutdown_rx.clone())));
        }
        if let Some(activitypub) = &state.activitypub {
            tasks.push(forward_follower_changes(activitypub, events.clone(), shutdown_rx.clone()));
        }
        for job in [ScheduledJob::Rebuild, ScheduledJob::Housekeeping] {
            tasks.push(tokio::spawn(run_job(
                job,
                config_rx.clone(),
                Arc::clone(&clock),
                events.clone(),
                shutdown_rx.clone(),
            )));
        }
        let push_handle = push.clone();
        let site = Arc::new(Mutex::new(site));
        let looper = SiteLoop {
            site: Arc::clone(&site),
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
            table: table.as_ref().map(|table| Arc::clone(&table.store) as Arc<dyn ArticleStore>),
        };
        tasks.push(tokio::spawn(looper.run(events_rx, shutdown_rx)));
        Ok(Daemon { addr, state, events, shutdown, tasks, steps, push: push_handle, database, file_cache, site, store })
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
        // The files on disk are for the next start.
        self.file_cache.keep_files();
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        if let Some(compressor) = &self.state.compressor {
            compressor.close();
        }
        // The files as served, for a fast next start (when complete).
        let site = crate::parallel::lock(&self.site);
        site.flush_saved_catalog();
        if !site.archives_pending() && site.config().server.out_dir.is_none() {
            let saved = saved_files::save(
                site.snapshot(),
                site.next_change(),
                site.catalog().now(),
                site.config(),
                self.store.as_ref(),
                &self.file_cache,
            );
            match saved {
                Ok(()) => tracing::info!("saved the served files for the next start"),
                Err(e) => tracing::warn!("cannot save the served files for the next start: {e}"),
            }
        }
    }
}

/// Shows the follower counts in `store` on `site`'s index page (before
/// anything is served); whether its files changed.
async fn show_follower_counts(
    site: &mut LiveSite,
    store: &Arc<dyn crate::push::state::PushStore>,
    now: jiff::Timestamp,
) -> bool {
    let store = Arc::clone(store);
    match tokio::task::spawn_blocking(move || store.follower_counts()).await {
        Ok(Ok(counts)) => {
            site.set_follower_counts(counts.into_iter().collect())
                && !site.advance(now, crate::site::Stage::LiveFirst).changed_paths.is_empty()
        }
        Ok(Err(e)) => {
            tracing::warn!("cannot read the follower counts ({e}); the index page shows them after the next change");
            false
        }
        Err(_) => false,
    }
}

/// Turns each notification that follows changed into a site event (the
/// next step shows the new counts on the index page), until `shutdown`.
fn forward_follower_changes(
    activitypub: &ActivityPub,
    events: mpsc::UnboundedSender<SiteEvent>,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    let changes = activitypub.follower_changes();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = changes.notified() => {
                    if events.send(SiteEvent::Followers).is_err() {
                        break;
                    }
                }
                _ = shutdown.wait_for(|stop| *stop) => break,
            }
        }
    })
}

/// Reads the whole store and renders the site (a large store's archives
/// follow, unless there is an output folder or `complete` is asked for),
/// keeping past archives in `cache`; the site and its files ready to serve.
/// With `saving`, only the documents that changed since the saved catalog
/// was written are read, and it is kept current from then on.
async fn start_site(
    config: &Arc<Config>,
    store: &Arc<dyn ArticleStore>,
    cache: &FileCache,
    now: jiff::Timestamp,
    saving: bool,
    complete: bool,
) -> (LiveSite, ServedFiles) {
    let config = Arc::clone(config);
    let store = Arc::clone(store);
    let cache = cache.clone();
    tokio::task::spawn_blocking(move || {
        // With an output folder, whole: the folder is written once
        // complete. Without, a large store's live files are served
        // before its archives are rendered.
        let how = match config.server.out_dir {
            Some(_) => Start::Whole,
            None => Start::LiveFirst { from_documents: config.server.deferred_archives_from },
        };
        let saved = saving.then(|| SavedCatalog::open(&config));
        let mut site = LiveSite::start_saving(config, store, now, how, saved);
        let reused = site.stats().reused_documents;
        if reused > 0 {
            tracing::info!("{reused} of {} documents unchanged since the last run: not read", site.documents());
        }
        site.keep_past_archives_in(cache);
        if complete && site.archives_pending() {
            // A month at a time, each kept on disk as it is rendered.
            site.complete_archives();
        }
        if !site.archives_pending() {
            site.sweep_file_cache();
        }
        // Make the first edits as cheap as the next ones (it
        // changes no file, and its archive part is left as pending
        // work; BENCHMARKS.md has its cost).
        site.warm_up();
        // Compressed bodies follow in the background (see publish).
        let files = ServedFiles::prepare(site.snapshot(), None, site.config(), now, None);
        (site, files)
    })
    .await
    .expect("the initial build does not panic")
}

/// The shared database of `[database] url`, its schema migrated (under
/// an advisory lock: replicas may start together); a schema newer than
/// this herald's is refused.
async fn open_database(config: &Config) -> Result<Option<Arc<Database>>, StartError> {
    let Some(url) = &config.database.url else { return Ok(None) };
    let database = Arc::new(Database::connect_async(url, &config.database).await.map_err(StartError::Database)?);
    let migrating = Arc::clone(&database);
    database
        .handle()
        .spawn(async move { crate::db::migrate::migrate(&migrating).await })
        .await
        .map_err(|e| StartError::Database(crate::db::DbError::Failed(e.to_string())))?
        .map_err(StartError::Database)?;
    Ok(Some(database))
}

/// Says every few seconds in the database that this replica is alive,
/// until `shutdown`; then removes its row.
fn heartbeat(
    database: Arc<Database>,
    replica: crate::db::replicas::ReplicaId,
    addr: std::net::SocketAddr,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    use crate::db::replicas;
    tracing::info!("replica {} of {} (schema version {})", replica.id, database.url(), crate::db::SCHEMA_VERSION);
    let beating = replicas::spawn_heartbeat(Arc::clone(&database), replica.clone(), addr.to_string());
    tokio::spawn(async move {
        let _ = shutdown.wait_for(|stop| *stop).await;
        beating.abort();
        let leaving = Arc::clone(&database);
        let _ = database.handle().spawn(async move { replicas::leave(&leaving, &replica).await }).await;
    })
}

async fn wait_for(mut shutdown: watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

fn check_writable(dir: &std::path::Path) -> std::io::Result<()> {
    let probe = dir.join(".herald-write-test");
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(probe)
}
