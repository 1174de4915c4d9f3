//! Reading the store into the live site's catalog: the documents a change
//! names, or the whole store, keeping the problems of broken documents and
//! the last good version of each in the catalog; and the bodies of
//! articles not shown yet but due later, read while the document is good.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::Timestamp;

use crate::article::Article;
use crate::catalog::{Catalog, Change};
use crate::config::Config;
use crate::diagnostic::Diagnostic;
use crate::render::BodyCache;
use crate::store::{ArticleStore, KnownArticles, Loaded};

/// The documents that are broken now, by store-relative path. A broken
/// document that had a good version keeps it in the catalog.
#[derive(Debug, Default)]
pub(super) struct Problems(BTreeMap<PathBuf, Diagnostic>);

impl Problems {
    /// The problems of broken documents, in path order.
    pub(super) fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.values()
    }

    /// Whether the document at `path` is broken now.
    pub(super) fn contains(&self, path: &Path) -> bool {
        self.0.contains_key(path)
    }

    /// How many broken documents have no good version in `catalog`.
    pub(super) fn broken_only(&self, catalog: &Catalog) -> usize {
        self.0.keys().filter(|p| catalog.by_source(p).is_none()).count()
    }

    /// Reads the documents at `paths` (store-relative; folders stand for
    /// every document in or once in them) into `catalog`, whose clock
    /// moves to `now` first; what changed, and the documents read.
    pub(super) fn read(
        &mut self,
        paths: &[PathBuf],
        now: Timestamp,
        catalog: &mut Catalog,
        store: &dyn ArticleStore,
        config: &Config,
    ) -> (Change, BTreeSet<PathBuf>) {
        let mut change = catalog.advance(now);
        let mut documents = BTreeSet::new();
        for path in paths {
            if store.is_document(path) {
                documents.insert(path.clone());
            } else {
                // A folder (created, renamed or deleted): every document
                // in it now, or known in it before.
                documents.extend(store.list(path));
                documents.extend(catalog.sources_under(path));
                documents
                    .extend(self.0.range(path.clone()..).map(|(p, _)| p).take_while(|p| p.starts_with(path)).cloned());
            }
        }
        for path in &documents {
            match store.load(path, config) {
                Loaded::Article(article) => {
                    self.0.remove(path);
                    change.merge(catalog.upsert(*article));
                }
                Loaded::Gone => {
                    self.0.remove(path);
                    change.merge(catalog.remove(path));
                }
                Loaded::Invalid(problem) => {
                    // The last good version, if any, stays published.
                    tracing::warn!("{problem}");
                    self.0.insert(path.clone(), problem);
                }
            }
        }
        (change, documents)
    }

    /// Reads the whole store: its good articles, plus from `previous` (the
    /// catalog so far) the last good version of each broken document,
    /// whose problems replace the ones known; documents `known` vouches
    /// for are not read (see [`ArticleStore::scan_reusing`]). Also how many
    /// were not.
    pub(super) fn scan(
        &mut self,
        previous: &Catalog,
        store: &dyn ArticleStore,
        config: &Config,
        known: Option<&dyn KnownArticles>,
    ) -> (Vec<Article>, usize) {
        let scan = match known {
            Some(known) => store.scan_reusing(config, known),
            None => store.scan(config),
        };
        let mut articles = scan.articles;
        let mut problems = BTreeMap::new();
        for problem in scan.diagnostics {
            let relative = problem.path.strip_prefix(&config.store_dir).unwrap_or(&problem.path).to_path_buf();
            if let Some(good) = previous.by_source(&relative) {
                articles.push(Article::clone(good));
            }
            problems.insert(relative, problem);
        }
        self.0 = problems;
        (articles, scan.reused)
    }
}

/// Renders now the bodies of articles among `sources` that are not shown
/// yet but may be later (scheduled ones, refused duplicates), so that if a
/// document breaks before then, its last good version is still complete
/// when it is published.
pub(super) fn cache_scheduled_bodies<'a>(
    sources: impl IntoIterator<Item = &'a PathBuf>,
    catalog: &Catalog,
    bodies: &mut BodyCache,
    store: &dyn ArticleStore,
    config: &Config,
) {
    let now = catalog.now();
    for source in sources {
        let waiting = match catalog.by_source(source) {
            Some(article) if !article.draft && article.visible_from() > now => Some(Arc::clone(article)),
            Some(_) => None,
            None => catalog.contender(source).cloned(),
        };
        if let Some(article) = waiting {
            bodies.html(&article, store, config);
        }
    }
}

/// Sources of every scheduled (not yet visible, not draft) article.
pub(super) fn scheduled_sources(catalog: &Catalog) -> Vec<PathBuf> {
    let now = catalog.now();
    catalog.every_article().filter(|a| !a.draft && a.visible_from() > now).map(|a| a.source.path.clone()).collect()
}
