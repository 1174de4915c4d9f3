//! The live feeds (each scope's newest items, as served at `/rss.xml`,
//! `/vi/thoi-su/atom.xml` …): what each showed when it was last rendered,
//! so that a change that leaves a feed's items alone (an edit to an old
//! article) does not render it again, and a feed that is rendered copies
//! its unchanged items' bytes.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use super::step::Step;
use crate::article::Article;
use crate::catalog::Catalog;
use crate::config::Config;
use crate::render::archive::{History, live_history};
use crate::render::feed::{feed_doc, feed_scopes};
use crate::render::{BodyCache, FeedFormat, FeedScope};
use crate::snapshot::ResourceKind;
use crate::store::ArticleStore;

/// What rendering a live feed did, as far as the lists of feeds (the
/// index page, the OPML files) care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Listing {
    /// The feed is listed as before (its items may have changed).
    Same,
    /// The feed appeared, disappeared or was retitled.
    Changed {
        /// Whether its title changed (so its archive documents must be
        /// written again too).
        retitled: bool,
    },
}

/// What every live feed showed when it was last rendered, and the term
/// feeds a live-first start left to render.
#[derive(Debug, Default)]
pub(super) struct LiveFeeds {
    shown: HashMap<FeedScope, LiveFeed>,
    /// Term feeds not rendered since a live-first start, in order: each is
    /// rendered whole from the catalog as it is then, unless a step
    /// rendered (or removed) it first.
    deferred: BTreeSet<FeedScope>,
}

/// The items of a live feed as last rendered.
#[derive(Debug)]
struct LiveFeed {
    /// Its articles, newest first (the very versions shown).
    articles: Vec<Arc<Article>>,
    /// Its history links.
    history: History,
    /// Its title (a term feed's follows the spellings of its articles).
    title: String,
}

impl LiveFeed {
    /// The articles and history `scope`'s live feed shows now.
    fn now(scope: &FeedScope, catalog: &Catalog, config: &Config) -> LiveFeed {
        let limit = config.feeds.item_limit;
        LiveFeed {
            articles: scope.articles(catalog, config).take(limit).cloned().collect(),
            history: live_history(scope, catalog, config),
            title: scope.title(config, catalog),
        }
    }
}

impl LiveFeeds {
    /// Remembers what every live feed shows (after a full render); with
    /// `terms_deferred`, the render left the term feeds out, and they become
    /// pending work ([`LiveFeeds::render_deferred`]).
    pub(super) fn remember_all(&mut self, catalog: &Catalog, config: &Config, terms_deferred: bool) {
        self.shown = feed_scopes(catalog, config)
            .into_iter()
            .map(|scope| (scope.clone(), LiveFeed::now(&scope, catalog, config)))
            .collect();
        self.deferred.clear();
        if terms_deferred {
            self.deferred = self.shown.keys().filter(|scope| matches!(scope, FeedScope::Term(_))).cloned().collect();
        }
    }

    /// Whether term feeds a live-first start left out are still to render.
    pub(super) fn is_pending(&self) -> bool {
        !self.deferred.is_empty()
    }

    /// Renders up to `limit` of the term feeds a live-first start left out
    /// (their bodies first, on every core), skipping those a step rendered
    /// or removed since; how many it took off the list.
    pub(super) fn render_deferred(
        &mut self,
        limit: usize,
        step: &mut Step<'_>,
        store: &dyn ArticleStore,
        bodies: &mut BodyCache,
    ) -> usize {
        let config = step.config;
        let mut batch = Vec::new();
        while batch.len() < limit {
            let Some(scope) = self.deferred.pop_first() else { break };
            if scope.is_published(step.catalog, config) && !step.layouts.contains(&scope.path(FeedFormat::Rss, config))
            {
                batch.push(scope);
            }
        }
        if config.feeds.content == crate::config::ContentMode::Full {
            let limit = config.feeds.item_limit;
            let articles: Vec<&Arc<Article>> =
                batch.iter().flat_map(|scope| scope.articles(step.catalog, config).take(limit)).collect();
            bodies.prefetch(&articles, store, config);
        }
        let none = HashSet::new();
        for scope in &batch {
            write(scope, &none, step, store, bodies);
            self.shown.insert(scope.clone(), LiveFeed::now(scope, step.catalog, config));
        }
        batch.len()
    }

    /// Renders `scope`'s live feed, unless it would show the very items it
    /// shows already (an edit to an article outside the feed's newest
    /// items leaves it alone); removes it when it is no longer published
    /// (its section emptied, its term fell below `min_articles`).
    /// Articles `relinked` are written again even if they did not change.
    pub(super) fn render(
        &mut self,
        scope: &FeedScope,
        relinked: &HashSet<PathBuf>,
        step: &mut Step<'_>,
        store: &dyn ArticleStore,
        bodies: &mut BodyCache,
    ) -> Listing {
        let config = step.config;
        if !scope.is_published(step.catalog, config) {
            self.deferred.remove(scope);
            for format in FeedFormat::ALL {
                step.remove(&scope.path(format, config));
            }
            step.layouts.forget(&scope.path(FeedFormat::Rss, config));
            return match self.shown.remove(scope) {
                Some(_) => Listing::Changed { retitled: false },
                None => Listing::Same,
            };
        }
        let shown = LiveFeed::now(scope, step.catalog, config);
        let listing = match self.shown.get(scope) {
            None => Listing::Changed { retitled: false },
            Some(before) if before.title != shown.title => Listing::Changed { retitled: true },
            Some(_) => Listing::Same,
        };
        if let Some(before) = self.shown.get(scope)
            && before.history == shown.history
            && before.title == shown.title
            && before.articles.len() == shown.articles.len()
            && before.articles.iter().zip(&shown.articles).all(|(a, b)| Arc::ptr_eq(a, b))
            && !shown.articles.iter().any(|a| relinked.contains(&a.source.path))
        {
            return Listing::Same;
        }
        write(scope, relinked, step, store, bodies);
        self.deferred.remove(scope);
        self.shown.insert(scope.clone(), shown);
        listing
    }

    /// Lays out the items of every live feed that has no layout yet, so
    /// that the first edit need not render them all; changes no file.
    pub(super) fn warm_up(&self, step: &mut Step<'_>, store: &dyn ArticleStore, bodies: &mut BodyCache) {
        let none = HashSet::new();
        // The deferred term feeds are laid out when they are rendered.
        let mut scopes: Vec<&FeedScope> = self.shown.keys().filter(|scope| !self.deferred.contains(*scope)).collect();
        scopes.sort();
        for scope in scopes {
            if !step.layouts.contains(&scope.path(FeedFormat::Rss, step.config)) {
                write(scope, &none, step, store, bodies);
            }
        }
    }
}

/// Renders `scope`'s live feed as it is now, copying its unchanged items'
/// bytes (those not `relinked`) from the current files.
fn write(
    scope: &FeedScope,
    relinked: &HashSet<PathBuf>,
    step: &mut Step<'_>,
    store: &dyn ArticleStore,
    bodies: &mut BodyCache,
) {
    let config = step.config;
    let doc = feed_doc(scope, step.catalog, config, store, bodies);
    let mut rendered = step.splice_doc(&doc, None, ResourceKind::Feed, |format| scope.path(format, config), relinked);
    rendered.0.iter_mut().for_each(|(_, resource)| resource.cold = scope.is_cold());
    step.keep_doc(scope.path(FeedFormat::Rss, config), rendered);
}
