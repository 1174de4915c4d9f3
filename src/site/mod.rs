//! The live site: the catalog and rendered files of a running daemon, kept
//! current one small step at a time.
//!
//! [`LiveSite`] is synchronous and owns no threads or sockets, so every
//! behaviour (an edit, a deletion, a scheduled article's date arriving, a
//! broken edit keeping the last good version) is testable without a
//! process. Each step does work proportional to the change, not to the
//! store:
//!
//! - it renders only the documents that show a changed item: the live feeds
//!   whose newest items changed (an edit to an old article leaves them
//!   alone), the archive and sitemap months of the changed articles, and
//!   those of their translations only when their links changed (a title
//!   edit leaves them alone); plus the small site-wide files;
//! - it renders a document by its items ([`crate::render::splice`]): the
//!   bytes of unchanged items are copied from the previous rendering, so a
//!   megabyte archive month with one edited item costs one item;
//! - it tracks the paths it writes instead of comparing whole snapshots.
//!
//! The daemon takes [`Stage::LiveFirst`] steps: the live feeds and
//! sitemaps are served first, and the archives follow, a feed at a time
//! ([`LiveSite::complete_some_archives`]), giving way to new changes.
//! A [`Start::LiveFirst`] start leaves out the term feeds too (with
//! taxonomies on, most of the live files), rendered the same way before
//! the archives. Either way the files end up exactly those of a full build.
//!
//! [`LiveSite`] is the facade; each part of the site has its own file:
//! `reading` (store → catalog, broken documents), `touched` (what a change
//! touches), `live_feeds`, `archives` (archive months, pending archive
//! work, archive indexes), `sitemaps`, `step` (what a step renders from and
//! writes to; documents written by their items) and `journal` (the current
//! files and what changed since the last update).

mod archives;
mod journal;
mod live_feeds;
mod reading;
mod sitemaps;
mod step;
mod touched;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use jiff::Timestamp;

use self::archives::{Archives, Portion};
use self::journal::Journal;
use self::live_feeds::{Listing, LiveFeeds};
use self::reading::Problems;
use self::sitemaps::Sitemaps;
use self::step::{ItemLayouts, Step};
use self::touched::Touched;
use crate::article::Article;
use crate::catalog::{Catalog, Change, StateCounts};
use crate::config::Config;
use crate::diagnostic::Diagnostic;
use crate::render::html::FollowerCounts;
use crate::render::{self, BodyCache};
use crate::saved_catalog::SavedCatalog;
use crate::snapshot::Snapshot;
use crate::store::ArticleStore;

/// How many deferred term feeds [`LiveSite::complete_some_archives`]
/// renders per core at a time: enough to share out their bodies, few
/// enough that a change waits little.
const TERMS_PER_PORTION: usize = 4;

/// What one step changed.
#[derive(Debug, Default)]
pub struct Update {
    /// Articles published, updated and unpublished.
    pub articles: Change,
    /// Site paths whose bytes changed, appeared or disappeared, sorted.
    pub changed_paths: Vec<String>,
}

/// Counters about builds, for `/healthz` and `/metrics`.
#[derive(Debug, Clone, Copy, Default)]
pub struct BuildStats {
    /// Steps taken (full builds and incremental updates).
    pub builds: u64,
    /// Full builds among them.
    pub full_builds: u64,
    /// When the last step finished (site clock).
    pub last_build: Option<Timestamp>,
    /// How long the last step took, in seconds (for a
    /// [`Stage::LiveFirst`] step, until its live feeds and sitemaps were
    /// ready; its archives are [`BuildStats::last_archive_seconds`]).
    pub last_build_seconds: f64,
    /// How long the last [`LiveSite::complete_archives`] took, in seconds.
    pub last_archive_seconds: f64,
    /// Total seconds spent in steps, archives included.
    pub total_build_seconds: f64,
    /// Documents of the last full read of the store whose articles were
    /// taken from the saved catalog instead of read.
    pub reused_documents: u64,
    /// Times the freed heap memory was given back to the system: once
    /// the archives a live-first (re)build left are complete, never after
    /// an edit's archive work.
    pub memory_releases: u64,
}

/// How far a step ([`LiveSite::apply`], [`LiveSite::advance`]) brings the
/// files before it returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Every file the change touches, the archives included.
    Whole,
    /// The live feeds, the sitemaps and the small site-wide files, so they
    /// can be served first; the archive documents (the months of RFC 5005
    /// archives and the archive indexes) are left as pending archive work
    /// ([`LiveSite::complete_archives`]). Until then the archives may lag
    /// behind; a further step adds its own archive work to theirs.
    LiveFirst,
}

/// How [`LiveSite::start`] renders the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Every file, before it returns.
    Whole,
    /// For a large store, in two stages: on a store holding at least
    /// `from_documents` documents, everything but the term feeds and the
    /// archive documents (the site, language and section feeds, sitemaps
    /// and small files, ready to serve), leaving every term feed (and its
    /// view), then every feed's archive months and the archive indexes, as
    /// pending work ([`LiveSite::complete_some_archives`]); at 100,000
    /// articles the archives are most of the bytes, and the term feeds
    /// most of the live files and of the time. A smaller store is rendered
    /// whole.
    LiveFirst {
        /// The fewest documents for which the archives wait.
        from_documents: usize,
    },
}

/// A running site: configuration, store, catalog and current files.
pub struct LiveSite {
    /// The configuration in force.
    config: Arc<Config>,
    /// Where the articles are read from.
    store: Arc<dyn ArticleStore>,
    /// The articles as last read.
    catalog: Catalog,
    /// Rendered bodies of the articles in feeds (and of scheduled ones).
    bodies: BodyCache,
    /// Documents that are broken now.
    problems: Problems,
    /// Build counters.
    stats: BuildStats,
    /// The current files, and what changed since the last [`Update`].
    journal: Journal,
    /// Where the items lie in the feed and archive documents.
    layouts: ItemLayouts,
    /// What each live feed shows.
    live_feeds: LiveFeeds,
    /// The archives, and the archive work left.
    archives: Archives,
    /// The sitemaps.
    sitemaps: Sitemaps,
    /// How many follow each fediverse actor, for the index page.
    followers: FollowerCounts,
    /// Where the articles read are saved for the next start, if anywhere.
    saved: Option<SavedCatalog>,
    /// Whether the archive work pending is a live-first (re)build's, after
    /// which the freed memory is given back to the system.
    release_memory_after_archives: bool,
}

/// Opens a [`Step`] over the site's parts, leaving its other fields free.
macro_rules! step {
    ($site:ident) => {
        Step {
            catalog: &$site.catalog,
            config: &$site.config,
            journal: &mut $site.journal,
            layouts: &mut $site.layouts,
        }
    };
}

impl LiveSite {
    /// Reads the whole store and renders the files at `now`: every file,
    /// or first all but the archives ([`Start`]).
    pub fn start(config: Arc<Config>, store: Arc<dyn ArticleStore>, now: Timestamp, how: Start) -> LiveSite {
        LiveSite::start_saving(config, store, now, how, None)
    }

    /// [`LiveSite::start`], reading from the store only the documents
    /// that changed since `saved` was written (the others' articles are
    /// taken from it), and saving there what every step reads from now on
    /// (see [`crate::saved_catalog`]).
    pub fn start_saving(
        config: Arc<Config>,
        store: Arc<dyn ArticleStore>,
        now: Timestamp,
        how: Start,
        saved: Option<SavedCatalog>,
    ) -> LiveSite {
        let mut site = LiveSite {
            config,
            store,
            catalog: Catalog::new(now),
            bodies: BodyCache::default(),
            problems: Problems::default(),
            stats: BuildStats::default(),
            journal: Journal::default(),
            layouts: ItemLayouts::default(),
            live_feeds: LiveFeeds::default(),
            archives: Archives::default(),
            sitemaps: Sitemaps::default(),
            followers: FollowerCounts::new(),
            saved,
            release_memory_after_archives: false,
        };
        site.rebuild_with(now, how);
        site
    }

    /// From now on keeps the files that belong on disk
    /// ([`crate::snapshot::Resource::belongs_on_disk`]: archives of past
    /// months, term feeds, HTML views) in `cache` instead of in memory,
    /// those already rendered included.
    pub fn keep_past_archives_in(&mut self, cache: crate::file_cache::FileCache) {
        self.journal.keep_on_disk(cache);
    }

    /// Deletes the files of the file cache no current file uses (left by
    /// an earlier run); call once the archives are complete.
    pub fn sweep_file_cache(&self) {
        let Some(cache) = self.journal.cache() else { return };
        match cache.sweep() {
            Ok(0) => {}
            Ok(n) => tracing::info!("removed {n} unused files from {}", cache.dir().display()),
            Err(e) => tracing::warn!("cannot clean {}: {e}", cache.dir().display()),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// The current files.
    pub fn snapshot(&self) -> &Snapshot {
        self.journal.snapshot()
    }

    /// Shows `counts` (how many follow each fediverse actor, by username)
    /// on the index page from the next step on ([`LiveSite::advance`] is
    /// the smallest); whether they differ from those shown. The index page
    /// stays a pure function of the catalog, the configuration and these
    /// counts, so a full build given the same counts has the same bytes.
    pub fn set_follower_counts(&mut self, counts: FollowerCounts) -> bool {
        let changed = counts != self.followers;
        self.followers = counts;
        changed
    }

    /// The catalog.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Problems with documents right now (broken files, duplicate ids),
    /// sorted by path.
    pub fn problems(&self) -> Vec<Diagnostic> {
        let mut out: Vec<Diagnostic> = self.problems.iter().cloned().collect();
        out.extend(self.catalog.duplicate_problems());
        out.sort();
        out
    }

    /// How many article documents the store holds: good ones, refused
    /// duplicates, and broken ones.
    pub fn documents(&self) -> usize {
        self.catalog.document_count() + self.problems.broken_only(&self.catalog)
    }

    /// Articles by state.
    pub fn counts(&self) -> StateCounts {
        self.catalog.counts()
    }

    /// Build counters.
    pub fn stats(&self) -> BuildStats {
        self.stats
    }

    /// When the files next change with no store change (a scheduled
    /// article, an expiry, the news sitemap's 48-hour edge).
    pub fn next_change(&self) -> Option<Timestamp> {
        render::next_change(&self.catalog, &self.config)
    }

    /// Re-reads the documents at `paths` (store-relative; folders stand for
    /// every document in or once in them) and updates what they touch, as
    /// far as `stage` says.
    pub fn apply(&mut self, paths: &[PathBuf], now: Timestamp, stage: Stage) -> Update {
        let started = Instant::now();
        let read_at = SystemTime::now();
        let (change, read) = self.problems.read(paths, now, &mut self.catalog, self.store.as_ref(), &self.config);
        if let Some(saved) = &mut self.saved {
            let documents = read
                .iter()
                .map(|path| {
                    let good = !self.problems.contains(path);
                    let article = self.catalog.by_source(path).or_else(|| self.catalog.contender(path));
                    (path.clone(), article.filter(|_| good).cloned())
                })
                .collect();
            saved.saved_documents(documents, read_at);
        }
        reading::cache_scheduled_bodies(&read, &self.catalog, &mut self.bodies, self.store.as_ref(), &self.config);
        self.finish_step(change, started, stage)
    }

    /// Moves the clock to `now`: scheduled articles appear, expired ones
    /// go, the news sitemap drops what is older than 48 hours; the files
    /// are updated as far as `stage` says.
    pub fn advance(&mut self, now: Timestamp, stage: Stage) -> Update {
        let started = Instant::now();
        let change = self.catalog.advance(now);
        self.finish_step(change, started, stage)
    }

    /// Whether a [`Start::LiveFirst`] start or [`Stage::LiveFirst`] steps
    /// left work to do before the files are those of a full build: archive
    /// documents to bring up to date, or term feeds a live-first start left
    /// out ([`LiveSite::terms_pending`]).
    pub fn archives_pending(&self) -> bool {
        self.archives.is_pending() || self.live_feeds.is_pending()
    }

    /// Whether term feeds (tags, authors, categories) a [`Start::LiveFirst`]
    /// start left out are still to render (part of
    /// [`LiveSite::archives_pending`]).
    pub fn terms_pending(&self) -> bool {
        self.live_feeds.is_pending()
    }

    /// Brings up to date the term feeds and archive documents that a
    /// live-first start and live-first steps left: afterwards the files are
    /// exactly those of a full build. The update names the files that
    /// changed; its articles are empty (the steps reported them).
    pub fn complete_archives(&mut self) -> Update {
        let started = Instant::now();
        self.live_feeds.render_deferred(usize::MAX, &mut step!(self), self.store.as_ref(), &mut self.bodies);
        self.archives.render_pending(Portion::All, &mut step!(self));
        self.archives_done(started)
    }

    /// [`LiveSite::complete_archives`] a little at a time (a few term
    /// feeds, or the archives of one feed), so that a new change need not
    /// wait for all of them: the update once the last are done, `None`
    /// before. The files rendered meanwhile are in the snapshot, and
    /// reported by the next update. The term feeds come first: they are
    /// live feeds, likelier to be asked for than past archives.
    pub fn complete_some_archives(&mut self) -> Option<Update> {
        let started = Instant::now();
        if self.live_feeds.is_pending() {
            let batch = TERMS_PER_PORTION * crate::parallel::threads();
            self.live_feeds.render_deferred(batch, &mut step!(self), self.store.as_ref(), &mut self.bodies);
        } else {
            self.archives.render_pending(Portion::OneFeed, &mut step!(self));
        }
        self.stats.total_build_seconds += started.elapsed().as_secs_f64();
        (!self.archives_pending()).then(|| self.archives_done(Instant::now()))
    }

    /// Reads the whole store again (the safety net for missed file events)
    /// and re-renders everything. Broken documents keep their last good
    /// version.
    pub fn rebuild(&mut self, now: Timestamp) -> Update {
        self.rebuild_with(now, Start::Whole)
    }

    /// Prepares what the first edits after a full build would otherwise
    /// pay for: the item layouts of the live feeds and of each language's
    /// newest sitemap month, now, and those of every feed's newest archive
    /// month, queued as archive work ([`LiveSite::complete_archives`]).
    /// Changes no file.
    pub fn warm_up(&mut self) {
        let mut step = step!(self);
        self.live_feeds.warm_up(&mut step, self.store.as_ref(), &mut self.bodies);
        self.sitemaps.warm_up(&mut step);
        if self.config.archives.enabled {
            self.archives.queue_newest_months(&self.layouts, &self.config);
        }
        let changed = self.journal.take_changes();
        debug_assert!(changed.is_empty(), "warming up changed {changed:?}");
    }

    /// Switches to a new configuration (already validated) and rebuilds.
    pub fn reload(&mut self, config: Arc<Config>, store: Arc<dyn ArticleStore>, now: Timestamp) -> Update {
        if let Some(saved) = &mut self.saved {
            saved.reconfigure(&config);
        }
        self.config = config;
        self.store = store;
        self.bodies = BodyCache::default();
        self.rebuild(now)
    }

    /// Returns once what the steps so far read is saved on disk (a no-op
    /// without a saved catalog).
    pub fn flush_saved_catalog(&self) {
        if let Some(saved) = &self.saved {
            saved.flush();
        }
    }

    /// `article` as a feed item, its body rendered (for webhook payloads).
    pub fn feed_item(&mut self, article: &Arc<Article>) -> render::feed::FeedItem {
        render::feed::feed_item(article, &self.catalog, &self.config, self.store.as_ref(), &mut self.bodies)
    }

    /// Periodic tidying: forgets rendered bodies of articles that are in no
    /// feed and not scheduled (incremental updates only ever add to the
    /// cache).
    pub fn housekeeping(&mut self) {
        let mut in_feeds: HashSet<PathBuf> = reading::scheduled_sources(&self.catalog).into_iter().collect();
        for scope in render::feed::feed_scopes(&self.catalog, &self.config) {
            for article in scope.articles(&self.catalog, &self.config).take(self.config.feeds.item_limit) {
                in_feeds.insert(article.source.path.clone());
            }
        }
        let before = self.bodies.len();
        self.bodies.retain(|path| in_feeds.contains(path));
        tracing::debug!("housekeeping: {} cached bodies dropped", before - self.bodies.len());
    }

    /// [`LiveSite::rebuild`], leaving the archive documents as pending
    /// archive work if `how` says so.
    fn rebuild_with(&mut self, now: Timestamp, how: Start) -> Update {
        let started = Instant::now();
        let read_at = SystemTime::now();
        let known = self.saved.as_ref().and_then(|saved| saved.known());
        let (articles, reused) = self.problems.scan(&self.catalog, self.store.as_ref(), &self.config, known);
        self.stats.reused_documents = reused as u64;
        // Duplicate ids are reported by the catalog itself.
        let (catalog, _duplicates) = Catalog::from_articles(articles, now, self.config.taxonomies.enabled());
        let change = Catalog::diff(&self.catalog, &catalog);
        self.catalog = catalog;
        if let Some(saved) = &mut self.saved {
            // Every good document's article (not the last good version of
            // a broken one: a full scan has none).
            let contenders = self.catalog.contender_sources();
            let articles = self
                .catalog
                .every_article()
                .chain(contenders.iter().filter_map(|path| self.catalog.contender(path)))
                .filter(|article| !self.problems.contains(&article.source.path));
            saved.saved_scan(articles, read_at);
        }
        let with_archives = match how {
            Start::Whole => true,
            Start::LiveFirst { from_documents } => self.documents() < from_documents,
        };
        // Scheduled bodies are marked as used, so the full render keeps them.
        let scheduled = reading::scheduled_sources(&self.catalog);
        reading::cache_scheduled_bodies(&scheduled, &self.catalog, &mut self.bodies, self.store.as_ref(), &self.config);
        let mut bodies = std::mem::take(&mut self.bodies);
        let mut snapshot = if with_archives {
            render::render_site(&self.catalog, &self.config, self.store.as_ref(), &mut bodies)
        } else {
            render::render_site_live_first(&self.catalog, &self.config, self.store.as_ref(), &mut bodies)
        };
        self.bodies = bodies;
        let (path, page) = render::html::index_page(&self.catalog, &self.config, &self.followers);
        snapshot.insert(path, page);
        // Everything is rendered afresh: nothing is left pending (but the
        // archives when they are left out), and the whole snapshot is
        // compared. The archive months as rendered (or as they will be
        // once the deferred work is done).
        let layout = render::archive_layout(&self.catalog, &self.config);
        self.archives.reset(layout, !with_archives, &snapshot, &self.config);
        self.layouts.clear();
        self.sitemaps.reset(&snapshot);
        self.live_feeds.remember_all(&self.catalog, &self.config, !with_archives);
        self.release_memory_after_archives = !with_archives;
        let changed_paths = self.journal.replace(snapshot);
        self.record(started, true);
        Update { articles: change, changed_paths }
    }

    /// Re-renders what `change` touched, plus the time-dependent files;
    /// the archives too for a [`Stage::Whole`] step.
    fn finish_step(&mut self, change: Change, started: Instant, stage: Stage) -> Update {
        let touched = Touched::by(&change, &self.catalog, &self.config);
        let mut step = step!(self);
        let mut retitled = Vec::new();
        let mut listing_changed = false;
        for scope in &touched.scopes {
            let listing =
                self.live_feeds.render(scope, &touched.relinked, &mut step, self.store.as_ref(), &mut self.bodies);
            if let Listing::Changed { retitled: title } = listing {
                listing_changed = true;
                if title {
                    retitled.push(scope);
                }
            }
        }
        if step.config.archives.enabled {
            self.archives.queue(&touched);
            for scope in retitled {
                self.archives.queue_every_month(scope);
            }
        }
        self.sitemaps.render(&touched.sitemap_months, &touched.relinked, &mut step);
        let (path, page) = render::html::index_page(step.catalog, step.config, &self.followers);
        step.put(path, page);
        if listing_changed {
            // The OPML files list feeds by title and address only.
            let files = render::opml::files(step.catalog, step.config);
            for path in render::opml::possible_paths(step.config) {
                if !files.iter().any(|(p, _)| *p == path) {
                    step.remove(&path);
                }
            }
            for (path, resource) in files {
                step.put(path, resource);
            }
        }
        if stage == Stage::Whole {
            self.live_feeds.render_deferred(usize::MAX, &mut step, self.store.as_ref(), &mut self.bodies);
            self.archives.render_pending(Portion::All, &mut step);
        }
        let changed_paths = self.journal.take_changes();
        self.record(started, false);
        Update { articles: change, changed_paths }
    }

    /// Ends a round of archive work begun at `started`: the update naming
    /// the files it changed.
    fn archives_done(&mut self, started: Instant) -> Update {
        // Rendering every archive of a (re)build on every core left freed
        // memory behind; an edit's few documents do not, and the trim walks
        // the whole heap (tens of milliseconds at 100,000 articles), so
        // only then.
        if std::mem::take(&mut self.release_memory_after_archives) {
            crate::parallel::release_free_memory();
            self.stats.memory_releases += 1;
        }
        let changed_paths = self.journal.take_changes();
        let seconds = started.elapsed().as_secs_f64();
        self.stats.last_archive_seconds = seconds;
        self.stats.total_build_seconds += seconds;
        Update { articles: Change::default(), changed_paths }
    }

    /// Counts a step begun at `started` (a full build if `full`).
    fn record(&mut self, started: Instant, full: bool) {
        // Unreadable bodies were logged where they happened.
        self.bodies.problems.clear();
        let seconds = started.elapsed().as_secs_f64();
        self.stats.builds += 1;
        self.stats.full_builds += u64::from(full);
        self.stats.last_build = Some(self.catalog.now());
        self.stats.last_build_seconds = seconds;
        self.stats.total_build_seconds += seconds;
    }
}
