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
//! cron jobs' events; `article_source` lets push read the live site.

mod article_source;
mod publish;
mod scheduled_jobs;
mod site_loop;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::activitypub::{ActivityPub, ArticleIndex};
use crate::clock::Clock;
use crate::config::{Config, Overrides};
use crate::diagnostic::Diagnostic;
use crate::file_cache::FileCache;
use crate::push::Push;
use crate::push::sources::TopicSource;
use crate::push::state::Initialise;
use crate::server::compress::Compressor;
use crate::server::{CurrentFiles, Limits, ServedFiles, ServerState};
use crate::site::{LiveSite, Start};
use crate::store::{ArticleStore, FolderStore};
use crate::watch::StoreChange;
use publish::{Mirror, publish_health};
use scheduled_jobs::{ScheduledJob, run_job};
use site_loop::{SiteLoop, start_watcher};

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
    /// The files kept on disk.
    file_cache: FileCache,
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
        let cache_dir = config.state_dir.join(FILE_CACHE_DIR);
        let cache = FileCache::open(&cache_dir).map_err(|source| StartError::State { path: cache_dir, source })?;
        let store: Arc<dyn ArticleStore> = Arc::new(FolderStore::for_config(&config).map_err(StartError::Store)?);
        let config = Arc::new(config);
        // Watch before the first scan: a file saved while the store is read
        // is then seen again afterwards, never lost.
        let (events, events_rx) = mpsc::unbounded_channel();
        let watcher = start_watcher(&config, &events);
        let now = clock.now();
        let file_cache = cache.clone();
        let (mut site, files) = {
            let config = Arc::clone(&config);
            let store = Arc::clone(&store);
            tokio::task::spawn_blocking(move || {
                // With an output folder, whole: the folder is written once
                // complete. Without, a large store's live files are served
                // before its archives are rendered.
                let how = match config.server.out_dir {
                    Some(_) => Start::Whole,
                    None => Start::LiveFirst { from_documents: config.server.deferred_archives_from },
                };
                let mut site = LiveSite::start(config, store, now, how);
                site.keep_past_archives_in(cache.clone());
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

        // The files holder first: push reads topic content from it, and the
        // server state is made complete, push parts included.
        let archives_pending = site.archives_pending();
        if archives_pending {
            tracing::info!("serving the live feeds and sitemaps; rendering the archives now");
        }
        let compressor = Compressor::start(Compressor::default_workers());
        compressor.submit(files.iter().map(Arc::clone));
        let files = Arc::new(CurrentFiles::new(files));
        let (config_tx, config_rx) = watch::channel(Arc::clone(&config));
        let push = if Push::wanted(&config) {
            let topics: Arc<dyn TopicSource> = Arc::clone(&files) as _;
            let initialise = if source.overrides.init_state { Initialise::IfEmpty } else { Initialise::IfMissing };
            let lookup = Arc::new(crate::push::ssrf::SystemLookup);
            Some(
                Push::open(config_rx.clone(), topics, Arc::clone(&clock), initialise, lookup)
                    .map_err(StartError::Push)?,
            )
        } else {
            None
        };
        let activitypub = match &push {
            Some(push) if config.activitypub.enabled => {
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
                Some(activitypub)
            }
            _ => None,
        };
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
        state.archives_starting.store(archives_pending, std::sync::atomic::Ordering::Relaxed);
        if watcher.is_some() {
            state.metrics.set_debounce(crate::watch::effective_debounce(config.server.watch_debounce));
        }
        publish_health(&state, &site, now);
        if let Some(push) = &push {
            // Feeds and articles that changed while herald was stopped are
            // announced now; unchanged ones are not (a restart notifies nobody).
            push.announce(site.snapshot(), None, &config, now);
            push.announce_articles(&mut site, None, now);
        }
        let push = push.map(Arc::new);

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
        tasks.push(tokio::spawn(crate::server::serve(
            listener,
            Arc::clone(&state),
            limits,
            wait_for(shutdown_rx.clone()),
        )));
        if let Some(push) = &push {
            tasks.push(tokio::spawn(Arc::clone(&push.engine).run(shutdown_rx.clone())));
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
        Ok(Daemon { addr, state, events, shutdown, tasks, steps, push: push_handle, file_cache })
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
