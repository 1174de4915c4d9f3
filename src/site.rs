//! The live site: the catalog and rendered files of a running daemon, kept
//! current one small step at a time.
//!
//! [`LiveSite`] is synchronous and owns no threads or sockets, so every
//! behaviour (an edit, a deletion, a scheduled article's date arriving, a
//! broken edit keeping the last good version) is testable without a
//! process. Each step re-renders only the files the change touches: the
//! feeds of the languages and sections involved (and of translations, whose
//! Atom entries link to each other), the sitemap months involved, and the
//! small site-wide files (news sitemap, index, pages sitemap, index page).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use jiff::Timestamp;

use crate::article::{Article, Month};
use crate::catalog::{Catalog, Change, StateCounts};
use crate::config::{Config, SiteScope};
use crate::diagnostic::Diagnostic;
use crate::render::{self, BodyCache, FeedFormat, FeedScope, news_sitemap, sitemap};
use crate::snapshot::Snapshot;
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
    /// How long the last step took, in seconds.
    pub last_build_seconds: f64,
    /// Total seconds spent in steps.
    pub total_build_seconds: f64,
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
    archive_months: std::collections::HashMap<FeedScope, Vec<Month>>,
}

/// The parts of the site one step touched.
#[derive(Debug, Default)]
struct Touched {
    languages: BTreeSet<String>,
    sections: BTreeSet<(String, String)>,
    months: BTreeSet<(String, Month)>,
}

/// The months before and after `month` in `months` (sorted).
fn neighbours(months: &[Month], month: Month) -> (Option<Month>, Option<Month>) {
    let before = months.iter().rev().find(|m| **m < month).copied();
    let after = months.iter().find(|m| **m > month).copied();
    (before, after)
}

impl Touched {
    fn add(&mut self, article: &Article) {
        self.languages.insert(article.lang.clone());
        self.sections.insert((article.lang.clone(), article.section.clone()));
        self.months.insert((article.lang.clone(), article.month));
    }
}

impl LiveSite {
    /// Reads the whole store and renders every file at `now`.
    pub fn start(config: Arc<Config>, store: Arc<dyn ArticleStore>, now: Timestamp) -> LiveSite {
        let mut site = LiveSite {
            config,
            store,
            catalog: Catalog::new(now),
            bodies: BodyCache::default(),
            snapshot: Snapshot::new(),
            problems: BTreeMap::new(),
            stats: BuildStats::default(),
            archive_months: std::collections::HashMap::new(),
        };
        site.rebuild(now);
        site
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
    /// every document in or once in them) and updates what they touch.
    pub fn apply_paths(&mut self, paths: &[PathBuf], now: Timestamp) -> Update {
        let started = Instant::now();
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
        self.finish_step(change, started)
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
    /// go, the news sitemap drops what is older than 48 hours.
    pub fn advance(&mut self, now: Timestamp) -> Update {
        let started = Instant::now();
        let change = self.catalog.advance(now);
        self.finish_step(change, started)
    }

    /// Reads the whole store again (the safety net for missed file events)
    /// and re-renders everything. Broken documents keep their last good
    /// version.
    pub fn rebuild(&mut self, now: Timestamp) -> Update {
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
        // Scheduled bodies are marked as used, so the full render keeps them.
        let scheduled = self.scheduled_sources();
        self.cache_scheduled_bodies(&scheduled);
        let mut bodies = std::mem::take(&mut self.bodies);
        let mut snapshot = render::render_site(&self.catalog, &self.config, self.store.as_ref(), &mut bodies);
        self.bodies = bodies;
        self.archive_months = render::archive_layout(&self.catalog, &self.config);
        self.add_index_page(&mut snapshot);
        let changed_paths = self.snapshot.changed_paths(&snapshot);
        self.snapshot = snapshot;
        self.record(started, true);
        Update { articles: change, changed_paths }
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

    /// Re-renders what `change` touched, plus the time-dependent files.
    fn finish_step(&mut self, change: Change, started: Instant) -> Update {
        let touched = self.touched(&change);
        let before = self.snapshot.clone();
        self.render_touched(&touched);
        let changed_paths = before.changed_paths(&self.snapshot);
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

    /// The languages, sections and months a change touches, including
    /// those of the changed articles' translations.
    fn touched(&self, change: &Change) -> Touched {
        let mut touched = Touched::default();
        let mut involved: Vec<&Arc<Article>> = Vec::new();
        involved.extend(change.published.iter());
        involved.extend(change.unpublished.iter());
        for (old, new) in &change.updated {
            involved.push(old);
            involved.push(new);
        }
        for article in involved {
            touched.add(article);
            for translation in self.catalog.translations(article) {
                touched.add(translation);
            }
        }
        touched
    }

    fn render_touched(&mut self, touched: &Touched) {
        let config = Arc::clone(&self.config);
        let mut scopes: Vec<FeedScope> = Vec::new();
        let site_touched = match config.feeds.site_scope {
            SiteScope::DefaultLanguage => touched.languages.contains(&config.site.default_language),
            SiteScope::AllLanguages => !touched.languages.is_empty(),
        };
        if site_touched {
            scopes.push(FeedScope::Site);
        }
        scopes.extend(
            touched.languages.iter().filter(|l| config.language(l).is_some()).map(|l| FeedScope::Language(l.clone())),
        );
        scopes.extend(
            touched
                .sections
                .iter()
                .map(|(lang, section)| FeedScope::Section { lang: lang.clone(), section: section.clone() }),
        );
        for scope in &scopes {
            let empty_section = matches!(scope, FeedScope::Section { lang, section } if self.catalog.in_section(lang, section).next().is_none());
            if empty_section {
                for format in FeedFormat::ALL {
                    self.snapshot.remove(&scope.path(format, &config));
                }
                continue;
            }
            for (path, resource) in
                render::render_feed(scope, &self.catalog, &config, self.store.as_ref(), &mut self.bodies)
            {
                self.snapshot.insert(path, resource);
            }
        }

        if config.archives.enabled {
            self.render_touched_archives(&scopes, touched);
        }

        if config.sitemaps.enabled {
            let mut sitemap_paths = Vec::new();
            for (lang, month) in &touched.months {
                let first = sitemap::month_path(lang, *month, &config);
                let mut part = 1;
                while self.snapshot.remove(&sitemap::part_path(&first, part)).is_some() {
                    sitemap_paths.push(sitemap::part_path(&first, part));
                    part += 1;
                }
                for (path, resource) in sitemap::month_files(lang, *month, &self.catalog, &config) {
                    sitemap_paths.push(path.clone());
                    self.snapshot.insert(path, resource);
                }
            }
            let (pages_path, pages) = sitemap::pages_file(&self.catalog, &config);
            self.snapshot.insert(pages_path.clone(), pages);
            sitemap_paths.push(pages_path);
            if let Some(news_path) = &config.sitemaps.news_path {
                match news_sitemap::news_file(&self.catalog, &config) {
                    Some((path, resource)) => {
                        self.snapshot.insert(path, resource);
                    }
                    None => {
                        self.snapshot.remove(news_path);
                    }
                }
                sitemap_paths.push(news_path.clone());
            }
            render::refresh_sitemap_index(&mut self.snapshot, &config);
            sitemap_paths.push(config.sitemaps.index_path.clone());
            if config.sitemaps.gzip {
                sitemap_paths.sort();
                sitemap_paths.dedup();
                render::refresh_gzip_twins(&mut self.snapshot, &sitemap_paths);
            }
        }
        let (path, page) = render::html::index_page(&self.catalog, &config);
        self.snapshot.insert(path, page);
    }

    /// Brings the archives of `scopes` up to date: months whose articles
    /// were touched, months whose neighbours (and so links) changed, months
    /// that emptied, and whole scopes that became archived or complete.
    fn render_touched_archives(&mut self, scopes: &[FeedScope], touched: &Touched) {
        let config = Arc::clone(&self.config);
        let mut langs = BTreeSet::new();
        for scope in scopes {
            let old = self.archive_months.remove(scope).unwrap_or_default();
            let new = if render::archive::is_archived(scope, &self.catalog, &config) {
                render::archive::months(scope, &self.catalog, &config)
            } else {
                Vec::new()
            };
            let month_touched = |month: &Month| match scope {
                FeedScope::Site => touched.months.iter().any(|(_, m)| m == month),
                FeedScope::Language(lang) | FeedScope::Section { lang, .. } => {
                    touched.months.contains(&(lang.clone(), *month))
                }
            };
            for month in old.iter().filter(|m| !new.contains(m)) {
                for format in FeedFormat::ALL {
                    self.snapshot.remove(&render::archive::archive_path(scope, *month, format, &config));
                }
            }
            for month in &new {
                if !old.contains(month) || neighbours(&old, *month) != neighbours(&new, *month) || month_touched(month)
                {
                    for (path, resource) in render::render_archive_month(scope, *month, &new, &self.catalog, &config) {
                        self.snapshot.insert(path, resource);
                    }
                }
            }
            if !new.is_empty() {
                self.archive_months.insert(scope.clone(), new);
            }
            langs.insert(scope.lang(&config).to_string());
        }
        let langs: Vec<String> = langs.into_iter().collect();
        render::refresh_archive_indexes(&mut self.snapshot, &self.archive_months, &langs, &config);
    }

    fn add_index_page(&self, snapshot: &mut Snapshot) {
        let (path, resource) = render::html::index_page(&self.catalog, &self.config);
        snapshot.insert(path, resource);
    }
}
