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
//! Either way the files end up exactly those of a full build.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use jiff::Timestamp;

use crate::article::{Article, Month};
use crate::catalog::{Catalog, Change, StateCounts};
use crate::config::{Config, SiteScope, fill_template};
use crate::diagnostic::Diagnostic;
use crate::render::archive::History;
use crate::render::sitemap::{self, SitemapLayout};
use crate::render::splice::{self, Layout, Previous};
use crate::render::{self, BodyCache, FeedDoc, FeedFormat, FeedScope, news_sitemap};
use crate::snapshot::{Resource, ResourceKind, Snapshot};
use crate::store::{ArticleStore, Loaded};

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
    /// `from_documents` documents, everything but the archive documents
    /// (the live feeds, sitemaps and small files, ready to serve), leaving
    /// every feed's archive months and the archive indexes as pending
    /// archive work ([`LiveSite::complete_some_archives`]); at 100,000
    /// articles the archives are most of the bytes and of the time. A
    /// smaller store is rendered whole.
    LiveFirst {
        /// The fewest documents for which the archives wait.
        from_documents: usize,
    },
}

/// A running site: configuration, store, catalog and current files.
pub struct LiveSite {
    config: Arc<Config>,
    store: Arc<dyn ArticleStore>,
    catalog: Catalog,
    bodies: BodyCache,
    snapshot: Snapshot,
    /// Documents that are broken now, by store-relative path. A broken
    /// document that had a good version keeps it in the catalog.
    problems: BTreeMap<PathBuf, Diagnostic>,
    stats: BuildStats,
    /// The archive months published for each archived feed scope.
    archive_months: HashMap<FeedScope, Vec<Month>>,
    /// What each live feed showed when it was last rendered, so a change
    /// that leaves a feed's items alone does not render it again.
    live_feeds: HashMap<FeedScope, LiveFeed>,
    /// Where the items lie in the feed and archive documents rendered
    /// since the last full build, by the document's RSS path, so that the
    /// next rendering copies the unchanged ones.
    layouts: HashMap<String, Layout>,
    /// The same for the monthly sitemaps, by language and month.
    sitemap_layouts: HashMap<(String, Month), SitemapLayout>,
    /// Every sitemap listed in the sitemap index, with its newest date.
    sitemaps: BTreeMap<String, Option<Timestamp>>,
    /// Every archive document listed in each language's archive index,
    /// with its newest date.
    archive_entries: HashMap<String, BTreeMap<String, Option<Timestamp>>>,
    /// Archive documents a [`Stage::LiveFirst`] step left for
    /// [`LiveSite::complete_archives`].
    pending: PendingArchives,
    /// Every path written or removed since the last [`Update`], with the
    /// file it held before (what the update reports as changed).
    written: BTreeMap<String, Option<Arc<Resource>>>,
}

/// The items of a live feed as last rendered.
#[derive(Debug)]
struct LiveFeed {
    /// Its articles, newest first (the very versions shown).
    articles: Vec<Arc<Article>>,
    /// Its history links.
    history: History,
}

/// Archive documents still to bring up to date.
#[derive(Debug, Default)]
struct PendingArchives {
    /// Feed scopes whose archive layout may have changed.
    scopes: BTreeSet<FeedScope>,
    /// Archive months holding an item that changed.
    months: BTreeSet<(FeedScope, Month)>,
    /// Articles whose items changed although they did not (see
    /// [`Touched::relinked`]).
    relinked: HashSet<PathBuf>,
    /// Languages whose archives changed, so whose archive index is due.
    langs: BTreeSet<String>,
    /// Archive months not rendered since a [`Start::LiveFirst`] start,
    /// newest first: each is
    /// rendered whole from the catalog as it is then, a few at a time and
    /// on every core, after the edits' own archive work.
    deferred: std::collections::VecDeque<(FeedScope, Month)>,
}

/// The parts of the site one step touched.
#[derive(Debug, Default)]
struct Touched {
    /// Feed scopes whose articles, or whose items, may have changed.
    scopes: BTreeSet<FeedScope>,
    /// Archive months holding an item that may have changed.
    archive_months: BTreeSet<(FeedScope, Month)>,
    /// Sitemap months, per language, holding an entry that may have
    /// changed.
    sitemap_months: BTreeSet<(String, Month)>,
    /// Visible articles whose feed item or sitemap entry may have changed
    /// although the article did not: another version of their story
    /// changed its address, language or visibility.
    relinked: HashSet<PathBuf>,
}

/// The months before and after `month` in `months` (sorted).
fn neighbours(months: &[Month], month: Month) -> (Option<Month>, Option<Month>) {
    let before = months.iter().rev().find(|m| **m < month).copied();
    let after = months.iter().find(|m| **m > month).copied();
    (before, after)
}

/// The feeds `article` appears in when visible.
fn scopes_of(article: &Article, config: &Config) -> Vec<FeedScope> {
    let mut out = Vec::with_capacity(3);
    let in_site = match config.feeds.site_scope {
        SiteScope::DefaultLanguage => article.lang == config.site.default_language,
        SiteScope::AllLanguages => true,
    };
    if in_site {
        out.push(FeedScope::Site);
    }
    if config.language(&article.lang).is_some() {
        out.push(FeedScope::Language(article.lang.clone()));
    }
    out.push(FeedScope::Section { lang: article.lang.clone(), section: article.section.clone() });
    out
}

/// Whether the other versions of a story show `old` and `new` differently
/// (in their feed items' translation links and their sitemap alternates).
fn links_differ(old: &Article, new: &Article) -> bool {
    old.url != new.url
        || old.lang != new.lang
        || old.translation_key != new.translation_key
        || old.in_sitemap != new.in_sitemap
}

/// Whether `old` and `new` have different sitemap entries or places in
/// the sitemap (sitemaps show neither titles nor summaries).
fn sitemap_entry_differs(old: &Article, new: &Article) -> bool {
    links_differ(old, new)
        || old.updated() != new.updated()
        || old.images != new.images
        || old.date != new.date
        || old.month != new.month
        || old.id != new.id
}

impl Touched {
    /// Marks every file that shows `article`: its feeds, their archive
    /// months and, if `sitemap`, its sitemap month.
    fn add(&mut self, article: &Article, sitemap: bool, config: &Config) {
        for scope in scopes_of(article, config) {
            self.archive_months.insert((scope.clone(), article.month));
            self.scopes.insert(scope);
        }
        if sitemap && article.in_sitemap {
            self.sitemap_months.insert((article.lang.clone(), article.month));
        }
    }
}

impl LiveSite {
    /// Reads the whole store and renders the files at `now`: every file,
    /// or first all but the archives ([`Start`]).
    pub fn start(config: Arc<Config>, store: Arc<dyn ArticleStore>, now: Timestamp, how: Start) -> LiveSite {
        let mut site = LiveSite::empty(config, store, now);
        site.rebuild_with(now, how);
        site
    }

    fn empty(config: Arc<Config>, store: Arc<dyn ArticleStore>, now: Timestamp) -> LiveSite {
        LiveSite {
            config,
            store,
            catalog: Catalog::new(now),
            bodies: BodyCache::default(),
            snapshot: Snapshot::new(),
            problems: BTreeMap::new(),
            stats: BuildStats::default(),
            archive_months: HashMap::new(),
            live_feeds: HashMap::new(),
            layouts: HashMap::new(),
            sitemap_layouts: HashMap::new(),
            sitemaps: BTreeMap::new(),
            archive_entries: HashMap::new(),
            pending: PendingArchives::default(),
            written: BTreeMap::new(),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// The current files.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// The catalog.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Problems with documents right now (broken files, duplicate ids),
    /// sorted by path.
    pub fn problems(&self) -> Vec<Diagnostic> {
        let mut out: Vec<Diagnostic> = self.problems.values().cloned().collect();
        out.extend(self.catalog.duplicate_problems());
        out.sort();
        out
    }

    /// How many article documents the store holds: good ones, refused
    /// duplicates, and broken ones.
    pub fn documents(&self) -> usize {
        let broken_only = self.problems.keys().filter(|p| self.catalog.by_source(p).is_none()).count();
        self.catalog.document_count() + broken_only
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
        let change = self.read_paths(paths, now);
        self.finish_step(change, started, stage)
    }

    /// Moves the clock and reads the documents at `paths` into the catalog.
    fn read_paths(&mut self, paths: &[PathBuf], now: Timestamp) -> Change {
        let mut change = self.catalog.advance(now);
        let mut documents = BTreeSet::new();
        for path in paths {
            if self.store.is_document(path) {
                documents.insert(path.clone());
            } else {
                // A folder (created, renamed or deleted): every document
                // in it now, or known in it before.
                documents.extend(self.store.list(path));
                documents.extend(self.catalog.sources_under(path));
                documents.extend(
                    self.problems.range(path.clone()..).map(|(p, _)| p).take_while(|p| p.starts_with(path)).cloned(),
                );
            }
        }
        for path in &documents {
            match self.store.load(path, &self.config) {
                Loaded::Article(article) => {
                    self.problems.remove(path);
                    change.merge(self.catalog.upsert(*article));
                }
                Loaded::Gone => {
                    self.problems.remove(path);
                    change.merge(self.catalog.remove(path));
                }
                Loaded::Invalid(problem) => {
                    // The last good version, if any, stays published.
                    tracing::warn!("{problem}");
                    self.problems.insert(path.clone(), problem);
                }
            }
        }
        self.cache_scheduled_bodies(&documents);
        change
    }

    /// Renders now the bodies of articles among `sources` that are not
    /// shown yet but may be later (scheduled ones, refused duplicates), so
    /// that if a document breaks before then, its last good version is
    /// still complete when it is published.
    fn cache_scheduled_bodies<'a>(&mut self, sources: impl IntoIterator<Item = &'a PathBuf>) {
        let now = self.catalog.now();
        for source in sources {
            let waiting = match self.catalog.by_source(source) {
                Some(article) if !article.draft && article.visible_from() > now => Some(Arc::clone(article)),
                Some(_) => None,
                None => self.catalog.contender(source).cloned(),
            };
            if let Some(article) = waiting {
                self.bodies.html(&article, self.store.as_ref(), &self.config);
            }
        }
    }

    /// Sources of every scheduled (not yet visible, not draft) article.
    fn scheduled_sources(&self) -> Vec<PathBuf> {
        let now = self.catalog.now();
        self.catalog
            .every_article()
            .filter(|a| !a.draft && a.visible_from() > now)
            .map(|a| a.source.path.clone())
            .collect()
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
    /// left archive documents to bring up to date.
    pub fn archives_pending(&self) -> bool {
        !self.pending.scopes.is_empty() || !self.pending.deferred.is_empty()
    }

    /// Brings up to date the archive documents that live-first steps left:
    /// afterwards the files are exactly those of a full build. The update
    /// names the archive files that changed; its articles are empty (the
    /// steps reported them).
    pub fn complete_archives(&mut self) -> Update {
        let started = Instant::now();
        self.render_pending_archives(usize::MAX);
        self.archives_done(started)
    }

    /// [`LiveSite::complete_archives`] a little at a time (the archives of
    /// one feed), so that a new change need not wait for all of them: the
    /// update once the last are done, `None` before. The files rendered
    /// meanwhile are in the snapshot, and reported by the next update.
    pub fn complete_some_archives(&mut self) -> Option<Update> {
        let started = Instant::now();
        self.render_pending_archives(1);
        self.stats.total_build_seconds += started.elapsed().as_secs_f64();
        (!self.archives_pending()).then(|| self.archives_done(Instant::now()))
    }

    fn archives_done(&mut self, started: Instant) -> Update {
        let changed_paths = self.take_changes();
        let seconds = started.elapsed().as_secs_f64();
        self.stats.last_archive_seconds = seconds;
        self.stats.total_build_seconds += seconds;
        Update { articles: Change::default(), changed_paths }
    }

    /// Reads the whole store again (the safety net for missed file events)
    /// and re-renders everything. Broken documents keep their last good
    /// version.
    pub fn rebuild(&mut self, now: Timestamp) -> Update {
        self.rebuild_with(now, Start::Whole)
    }

    /// [`LiveSite::rebuild`], leaving the archive documents as pending
    /// archive work if `how` says so.
    fn rebuild_with(&mut self, now: Timestamp, how: Start) -> Update {
        let started = Instant::now();
        let scan = self.store.scan(&self.config);
        let mut articles = scan.articles;
        let mut problems = BTreeMap::new();
        for problem in scan.diagnostics {
            let relative = problem.path.strip_prefix(&self.config.store_dir).unwrap_or(&problem.path).to_path_buf();
            if let Some(previous) = self.catalog.by_source(&relative) {
                articles.push(Article::clone(previous));
            }
            problems.insert(relative, problem);
        }
        // Duplicate ids are reported by the catalog itself.
        let (catalog, _duplicates) = Catalog::from_articles(articles, now);
        let change = Catalog::diff(&self.catalog, &catalog);
        self.catalog = catalog;
        self.problems = problems;
        let archives = match how {
            Start::Whole => true,
            Start::LiveFirst { from_documents } => self.documents() < from_documents,
        };
        // Scheduled bodies are marked as used, so the full render keeps them.
        let scheduled = self.scheduled_sources();
        self.cache_scheduled_bodies(&scheduled);
        let mut bodies = std::mem::take(&mut self.bodies);
        let mut snapshot = if archives {
            render::render_site(&self.catalog, &self.config, self.store.as_ref(), &mut bodies)
        } else {
            render::render_site_without_archives(&self.catalog, &self.config, self.store.as_ref(), &mut bodies)
        };
        self.bodies = bodies;
        let layout = render::archive_layout(&self.catalog, &self.config);
        // Everything is rendered afresh: nothing is left pending (but the
        // archives when they are left out), and the whole snapshot is
        // compared.
        self.pending = PendingArchives::default();
        if !archives {
            // Every archive month is left for later, newest first (the
            // likeliest to be asked for); the archive indexes at the end.
            let mut deferred: Vec<(FeedScope, Month)> =
                layout.iter().flat_map(|(scope, months)| months.iter().map(|m| (scope.clone(), *m))).collect();
            deferred.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            self.pending.deferred = deferred.into();
            self.pending.langs = layout.keys().map(|scope| scope.lang(&self.config).to_string()).collect();
        }
        // As rendered (or as they will be once the deferred work is done).
        self.archive_months = layout;
        self.add_index_page(&mut snapshot);
        self.written.clear();
        self.layouts.clear();
        self.sitemap_layouts.clear();
        self.sitemaps = snapshot
            .iter()
            .filter(|(_, r)| r.kind == ResourceKind::Sitemap)
            .map(|(path, r)| (path.clone(), r.last_modified))
            .collect();
        self.archive_entries.clear();
        for (scope, months) in &self.archive_months {
            let entries = self.archive_entries.entry(scope.lang(&self.config).to_string()).or_default();
            for month in months {
                for format in FeedFormat::ALL {
                    let path = render::archive::archive_path(scope, *month, format, &self.config);
                    let modified = snapshot.get(&path).and_then(|r| r.last_modified);
                    entries.insert(path, modified);
                }
            }
        }
        self.remember_live_feeds();
        let changed_paths = self.snapshot.changed_paths(&snapshot);
        self.snapshot = snapshot;
        self.record(started, true);
        Update { articles: change, changed_paths }
    }

    /// Prepares what the first edits after a full build would otherwise
    /// pay for: the item layouts of the live feeds and of each language's
    /// newest sitemap month, now, and those of every feed's newest archive
    /// month, queued as archive work ([`LiveSite::complete_archives`]).
    /// Changes no file.
    pub fn warm_up(&mut self) {
        let config = Arc::clone(&self.config);
        let none = HashSet::new();
        let mut scopes: Vec<FeedScope> = self.live_feeds.keys().cloned().collect();
        scopes.sort();
        for scope in scopes {
            if !self.layouts.contains_key(&scope.path(FeedFormat::Rss, &config)) {
                let doc = render::feed::feed_doc(&scope, &self.catalog, &config, self.store.as_ref(), &mut self.bodies);
                let rendered =
                    self.splice_doc(&doc, None, ResourceKind::Feed, |format| scope.path(format, &config), &none);
                self.keep_doc(scope.path(FeedFormat::Rss, &config), rendered);
            }
        }
        if config.sitemaps.enabled {
            let mut newest: BTreeMap<String, Month> = BTreeMap::new();
            for (lang, month) in self.catalog.months() {
                newest.insert(lang.to_string(), month);
            }
            for (lang, month) in newest {
                if !self.sitemap_layouts.contains_key(&(lang.clone(), month)) {
                    let first = sitemap::month_path(&lang, month, &config);
                    for (path, resource) in self.sitemap_month(&lang, month, &first, &none) {
                        self.put(path, resource);
                    }
                }
            }
        }
        if config.archives.enabled {
            for (scope, months) in &self.archive_months {
                let Some(month) = months.last() else { continue };
                if !self.layouts.contains_key(&render::archive::archive_path(scope, *month, FeedFormat::Rss, &config)) {
                    self.pending.scopes.insert(scope.clone());
                    self.pending.months.insert((scope.clone(), *month));
                }
            }
        }
        let changed = self.take_changes();
        debug_assert!(changed.is_empty(), "warming up changed {changed:?}");
    }

    /// Switches to a new configuration (already validated) and rebuilds.
    pub fn reload(&mut self, config: Arc<Config>, store: Arc<dyn ArticleStore>, now: Timestamp) -> Update {
        self.config = config;
        self.store = store;
        self.bodies = BodyCache::default();
        self.rebuild(now)
    }

    /// `article` as a feed item, its body rendered (for webhook payloads).
    pub fn feed_item(&mut self, article: &Arc<Article>) -> render::feed::FeedItem {
        render::feed::feed_item(article, &self.catalog, &self.config, self.store.as_ref(), &mut self.bodies)
    }

    /// Periodic tidying: forgets rendered bodies of articles that are in no
    /// feed and not scheduled (incremental updates only ever add to the
    /// cache).
    pub fn housekeeping(&mut self) {
        let mut in_feeds: std::collections::HashSet<PathBuf> = self.scheduled_sources().into_iter().collect();
        for scope in render::feed::feed_scopes(&self.catalog, &self.config) {
            for article in scope.articles(&self.catalog, &self.config).take(self.config.feeds.item_limit) {
                in_feeds.insert(article.source.path.clone());
            }
        }
        let before = self.bodies.len();
        self.bodies.retain(|path| in_feeds.contains(path));
        tracing::debug!("housekeeping: {} cached bodies dropped", before - self.bodies.len());
    }

    /// Re-renders what `change` touched, plus the time-dependent files;
    /// the archives too for a [`Stage::Whole`] step.
    fn finish_step(&mut self, change: Change, started: Instant, stage: Stage) -> Update {
        let touched = self.touched(&change);
        self.render_touched(&touched);
        if stage == Stage::Whole {
            self.render_pending_archives(usize::MAX);
        }
        let changed_paths = self.take_changes();
        self.record(started, false);
        Update { articles: change, changed_paths }
    }

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

    /// What a change touches: the feeds, archive months and sitemap months
    /// that show a changed article, and the other versions of its story
    /// when it changed how they link to it.
    fn touched(&self, change: &Change) -> Touched {
        let config = &self.config;
        let mut touched = Touched::default();
        let mut relink: Vec<&Arc<Article>> = Vec::new();
        for article in change.published.iter().chain(&change.unpublished) {
            touched.add(article, true, config);
            relink.push(article);
        }
        for (old, new) in &change.updated {
            let sitemap = sitemap_entry_differs(old, new);
            touched.add(old, sitemap, config);
            touched.add(new, sitemap, config);
            if links_differ(old, new) {
                relink.push(old);
                relink.push(new);
            }
        }
        for article in relink {
            for version in self.catalog.translations(article) {
                if touched.relinked.insert(version.source.path.clone()) {
                    touched.add(version, true, config);
                }
            }
        }
        touched
    }

    /// Remembers what every live feed shows (after a full render).
    fn remember_live_feeds(&mut self) {
        let mut feeds = HashMap::new();
        for scope in render::feed::feed_scopes(&self.catalog, &self.config) {
            let shown = self.live_feed(&scope);
            feeds.insert(scope, shown);
        }
        self.live_feeds = feeds;
    }

    /// The articles and history `scope`'s live feed shows now.
    fn live_feed(&self, scope: &FeedScope) -> LiveFeed {
        let limit = self.config.feeds.item_limit;
        LiveFeed {
            articles: scope.articles(&self.catalog, &self.config).take(limit).cloned().collect(),
            history: render::archive::live_history(scope, &self.catalog, &self.config),
        }
    }

    /// Renders the live feeds, sitemaps and site-wide files `touched`
    /// concerns, and queues its archive work.
    fn render_touched(&mut self, touched: &Touched) {
        let config = Arc::clone(&self.config);
        for scope in &touched.scopes {
            self.render_live_feed(scope, &touched.relinked);
        }
        if config.archives.enabled {
            self.pending.scopes.extend(touched.scopes.iter().cloned());
            self.pending.months.extend(touched.archive_months.iter().cloned());
            self.pending.relinked.extend(touched.relinked.iter().cloned());
        }

        if config.sitemaps.enabled {
            // Sitemaps whose bytes changed, appeared or disappeared.
            let mut sitemap_paths = Vec::new();
            for (lang, month) in &touched.sitemap_months {
                let first = sitemap::month_path(lang, *month, &config);
                let files = self.sitemap_month(lang, *month, &first, &touched.relinked);
                let mut part = files.len() + 1;
                for (path, resource) in files {
                    if self.put(path.clone(), resource) {
                        sitemap_paths.push(path);
                    }
                }
                while self.remove_file(&sitemap::part_path(&first, part)) {
                    sitemap_paths.push(sitemap::part_path(&first, part));
                    part += 1;
                }
            }
            let (pages_path, pages) = sitemap::pages_file(&self.catalog, &config);
            if self.put(pages_path.clone(), pages) {
                sitemap_paths.push(pages_path);
            }
            if let Some(news_path) = &config.sitemaps.news_path {
                let changed = match news_sitemap::news_file(&self.catalog, &config) {
                    Some((path, resource)) => self.put(path, resource),
                    None => self.remove_file(news_path),
                };
                if changed {
                    sitemap_paths.push(news_path.clone());
                }
            }
            if !sitemap_paths.is_empty() {
                // The index lists every sitemap with its newest date.
                let children: Vec<(String, Option<Timestamp>)> =
                    self.sitemaps.iter().map(|(path, at)| (path.clone(), *at)).collect();
                let (index_path, index) = sitemap::index_file(&children, &config);
                if self.put(index_path.clone(), index) {
                    sitemap_paths.push(index_path);
                }
            }
            if config.sitemaps.gzip && !sitemap_paths.is_empty() {
                sitemap_paths.sort();
                sitemap_paths.dedup();
                for path in &sitemap_paths {
                    self.note(&format!("{path}.gz"));
                }
                render::refresh_gzip_twins(&mut self.snapshot, &sitemap_paths);
            }
        }
        let (path, page) = render::html::index_page(&self.catalog, &config);
        self.put(path, page);
    }

    /// The files of `lang`'s sitemap of `month` (whose first part is at
    /// `first`), copying the entries of articles that did not change from
    /// the current file when the month fits one.
    fn sitemap_month(
        &mut self,
        lang: &str,
        month: Month,
        first: &str,
        relinked: &HashSet<PathBuf>,
    ) -> Vec<(String, Resource)> {
        let key = (lang.to_string(), month);
        let previous = self
            .sitemap_layouts
            .get(&key)
            .and_then(|layout| self.snapshot.get(first).filter(|f| layout.describes(f)).map(|f| (layout, &**f)));
        let relinked = |a: &Article| relinked.contains(&a.source.path);
        let Some((resource, layout)) =
            sitemap::splice::month_file(lang, month, previous, relinked, &self.catalog, &self.config)
        else {
            self.sitemap_layouts.remove(&key);
            return sitemap::month_files(lang, month, &self.catalog, &self.config);
        };
        debug_assert!(
            sitemap::month_files(lang, month, &self.catalog, &self.config)
                == vec![(first.to_string(), resource.clone())],
            "{first}: the assembled sitemap differs from the one written at once"
        );
        self.sitemap_layouts.insert(key, layout);
        vec![(first.to_string(), resource)]
    }

    /// Renders `scope`'s live feed, unless it would show the very items it
    /// shows already (an edit to an article outside the feed's newest
    /// items leaves it alone); removes it when its section emptied.
    fn render_live_feed(&mut self, scope: &FeedScope, relinked: &HashSet<PathBuf>) {
        let config = Arc::clone(&self.config);
        if let FeedScope::Section { lang, section } = scope
            && self.catalog.count_in_section(lang, section) == 0
        {
            for format in FeedFormat::ALL {
                self.remove_file(&scope.path(format, &config));
            }
            self.live_feeds.remove(scope);
            self.layouts.remove(&scope.path(FeedFormat::Rss, &config));
            return;
        }
        let shown = self.live_feed(scope);
        if let Some(before) = self.live_feeds.get(scope)
            && before.history == shown.history
            && before.articles.len() == shown.articles.len()
            && before.articles.iter().zip(&shown.articles).all(|(a, b)| Arc::ptr_eq(a, b))
            && !shown.articles.iter().any(|a| relinked.contains(&a.source.path))
        {
            return;
        }
        let doc = render::feed::feed_doc(scope, &self.catalog, &config, self.store.as_ref(), &mut self.bodies);
        let rendered = self.splice_doc(&doc, None, ResourceKind::Feed, |format| scope.path(format, &config), relinked);
        self.keep_doc(scope.path(FeedFormat::Rss, &config), rendered);
        self.live_feeds.insert(scope.clone(), shown);
    }

    /// Brings the archives of the pending scopes up to date: months whose
    /// items changed, months whose neighbours (and so links) changed,
    /// months that emptied, and whole scopes that became archived or
    /// complete; then the archive indexes of the languages concerned.
    /// Works through at most `limit` pending scopes (the archive indexes
    /// come with the last one).
    fn render_pending_archives(&mut self, limit: usize) {
        let config = Arc::clone(&self.config);
        // Shared by every pending scope, kept until the last is done.
        let months = std::mem::take(&mut self.pending.months);
        let relinked = std::mem::take(&mut self.pending.relinked);
        for _ in 0..limit {
            let Some(scope) = self.pending.scopes.pop_first() else { break };
            if self.render_scope_archives(&scope, &months, &relinked) {
                self.pending.langs.insert(scope.lang(&config).to_string());
            }
        }
        if !self.pending.scopes.is_empty() {
            self.pending.months.extend(months);
            self.pending.relinked.extend(relinked);
            return;
        }
        // Then the months a deferred start left, a batch (one month per
        // core) per step unless everything is asked for.
        loop {
            self.render_deferred_months();
            if self.pending.deferred.is_empty() {
                break;
            }
            if limit != usize::MAX {
                return;
            }
        }
        // The archive index of each language whose archives changed (a
        // full build writes those of the declared languages).
        let langs = std::mem::take(&mut self.pending.langs);
        for lang in langs.into_iter().filter(|l| config.language(l).is_some()) {
            match self.archive_entries.get(&lang).filter(|e| !e.is_empty()) {
                Some(entries) => {
                    let entries = entries.iter().map(|(path, at)| (path.as_str(), *at));
                    let (path, index) = render::archive::index_file_of(&lang, entries, &config);
                    self.put(path, index);
                }
                None => {
                    self.remove_file(&fill_template(&config.archives.index_path, &[("lang", &lang)]));
                }
            }
        }
    }

    /// Renders the next few archive months a deferred start left (one per
    /// core, in parallel: each depends on the catalog alone), skipping
    /// those an edit's archive work already rendered or removed since.
    fn render_deferred_months(&mut self) {
        let cores = crate::parallel::threads();
        let mut batch = Vec::new();
        while batch.len() < cores {
            let Some((scope, month)) = self.pending.deferred.pop_front() else { break };
            let rss = render::archive::archive_path(&scope, month, FeedFormat::Rss, &self.config);
            let listed = self.archive_months.get(&scope).is_some_and(|months| months.contains(&month));
            if listed && !self.layouts.contains_key(&rss) {
                batch.push((scope, month));
            }
        }
        let jobs: Vec<render::ArchiveMonthJob<'_>> = batch
            .iter()
            .map(|(scope, month)| (scope, *month, self.archive_months.get(scope).map_or(&[][..], Vec::as_slice)))
            .collect();
        let rendered = render::render_archive_months(&jobs, &self.catalog, &self.config);
        let langs: Vec<String> = batch.iter().map(|(scope, _)| scope.lang(&self.config).to_string()).collect();
        for (lang, files) in langs.into_iter().zip(rendered) {
            for (path, resource) in files {
                self.archive_entries.entry(lang.clone()).or_default().insert(path.clone(), resource.last_modified);
                self.put(path, resource);
            }
        }
    }

    /// Brings `scope`'s archive documents up to date, re-rendering the
    /// months in `months` and those whose neighbours changed; whether any
    /// file changed.
    fn render_scope_archives(
        &mut self,
        scope: &FeedScope,
        months: &BTreeSet<(FeedScope, Month)>,
        relinked: &HashSet<PathBuf>,
    ) -> bool {
        let config = Arc::clone(&self.config);
        let old = self.archive_months.remove(scope).unwrap_or_default();
        let new = if render::archive::is_archived(scope, &self.catalog, &config) {
            render::archive::months(scope, &self.catalog, &config)
        } else {
            Vec::new()
        };
        let mut changed = false;
        let config = &*config;
        let path_of = |month: Month| move |format| render::archive::archive_path(scope, month, format, config);
        let lang = scope.lang(config).to_string();
        for month in old.iter().filter(|m| !new.contains(m)) {
            for format in FeedFormat::ALL {
                let path = path_of(*month)(format);
                changed |= self.remove_file(&path);
                if let Some(entries) = self.archive_entries.get_mut(&lang) {
                    entries.remove(&path);
                }
            }
            self.layouts.remove(&path_of(*month)(FeedFormat::Rss));
        }
        let this_month = Month::of(self.catalog.now(), &config.site.time_zone);
        for month in &new {
            let (prev, next) = neighbours(&new, *month);
            if !old.contains(month)
                || neighbours(&old, *month) != (prev, next)
                || months.contains(&(scope.clone(), *month))
            {
                // Items whose bytes will be copied need not be built.
                let layout = self.layouts.get(&path_of(*month)(FeedFormat::Rss));
                let copied =
                    |a: &Arc<Article>| layout.is_some_and(|l| l.holds(a)) && !relinked.contains(&a.source.path);
                let catalog = &self.catalog;
                let doc = render::feed::archive_doc_partial(scope, *month, prev, next, catalog, config, |a| !copied(a));
                let complete = || render::feed::archive_doc(scope, *month, prev, next, catalog, config);
                let kind = ResourceKind::Archive { past: *month < this_month };
                let rendered = self.splice_doc(&doc, Some(&complete), kind, path_of(*month), relinked);
                let entries = self.archive_entries.entry(lang.clone()).or_default();
                for (path, resource) in &rendered.0 {
                    entries.insert(path.clone(), resource.last_modified);
                }
                changed |= self.keep_doc(path_of(*month)(FeedFormat::Rss), rendered);
            }
        }
        if !new.is_empty() {
            self.archive_months.insert(scope.clone(), new);
        }
        changed
    }

    /// Writes `doc` in the three formats, copying from its previous
    /// rendering the items whose article and body are the same and that
    /// are not `relinked`. `complete` builds the document with every item
    /// when `doc` holds placeholders ([`splice::render`]).
    fn splice_doc(
        &self,
        doc: &FeedDoc,
        complete: Option<&dyn Fn() -> FeedDoc>,
        kind: ResourceKind,
        path_of: impl Fn(FeedFormat) -> String,
        relinked: &HashSet<PathBuf>,
    ) -> (Vec<(String, Resource)>, Option<Layout>) {
        let paths = FeedFormat::ALL.map(&path_of);
        let previous = self
            .layouts
            .get(&paths[0])
            .map(|layout| Previous { layout, files: [0, 1, 2].map(|n| self.snapshot.get(&paths[n])) });
        splice::render(doc, complete, &self.config, kind, &path_of, previous, |a| relinked.contains(&a.source.path))
    }

    /// Publishes a document [`LiveSite::splice_doc`] rendered, whose RSS
    /// path is `key`; whether any of its files' bytes are new.
    fn keep_doc(&mut self, key: String, (files, layout): (Vec<(String, Resource)>, Option<Layout>)) -> bool {
        match layout {
            Some(layout) => self.layouts.insert(key, layout),
            None => self.layouts.remove(&key),
        };
        let mut changed = false;
        for (path, resource) in files {
            changed |= self.put(path, resource);
        }
        changed
    }

    /// Remembers what `path` holds before this step first writes it.
    fn note(&mut self, path: &str) {
        if !self.written.contains_key(path) {
            let before = self.snapshot.get(path).cloned();
            self.written.insert(path.to_string(), before);
        }
    }

    /// Writes `resource` at `path`; whether its bytes are new.
    fn put(&mut self, path: String, resource: Resource) -> bool {
        self.note(&path);
        if resource.kind == ResourceKind::Sitemap {
            self.sitemaps.insert(path.clone(), resource.last_modified);
        }
        let changed = self.snapshot.get(&path).is_none_or(|old| old.etag != resource.etag);
        self.snapshot.insert(path, resource);
        changed
    }

    /// Removes the file at `path`; whether there was one.
    fn remove_file(&mut self, path: &str) -> bool {
        self.note(path);
        self.sitemaps.remove(path);
        self.snapshot.remove(path).is_some()
    }

    /// The paths written since the last update whose bytes changed,
    /// appeared or disappeared, sorted.
    fn take_changes(&mut self) -> Vec<String> {
        let written = std::mem::take(&mut self.written);
        written
            .into_iter()
            .filter(|(path, before)| match (before, self.snapshot.get(path)) {
                (Some(before), Some(now)) => before.etag != now.etag,
                (None, None) => false,
                _ => true,
            })
            .map(|(path, _)| path)
            .collect()
    }

    fn add_index_page(&self, snapshot: &mut Snapshot) {
        let (path, resource) = render::html::index_page(&self.catalog, &self.config);
        snapshot.insert(path, resource);
    }
}
