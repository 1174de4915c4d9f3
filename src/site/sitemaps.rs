//! The live site's sitemaps: every sitemap the index lists, with its
//! newest date, and where the entries lie in each monthly sitemap written
//! since the last full build, so that a step writes again only the months
//! it touched, copying their unchanged entries
//! ([`crate::render::sitemap::splice`]), then the pages and news sitemaps,
//! the index and the `.gz` twins when their bytes changed.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::PathBuf;

use jiff::Timestamp;

use super::step::Step;
use crate::article::{Article, Month};
use crate::render::news_sitemap;
use crate::render::sitemap::{self, splice::SitemapLayout};
use crate::snapshot::{Resource, ResourceKind, Snapshot};

/// The sitemaps as published.
#[derive(Debug, Default)]
pub(super) struct Sitemaps {
    /// Every sitemap listed in the sitemap index, with its newest date.
    listed: BTreeMap<String, Option<Timestamp>>,
    /// Where the entries lie in the one-part monthly sitemaps, by language
    /// and month.
    layouts: HashMap<(String, Month), SitemapLayout>,
}

impl Sitemaps {
    /// Starts afresh from the sitemaps a full build wrote in `snapshot`.
    pub(super) fn reset(&mut self, snapshot: &Snapshot) {
        self.layouts.clear();
        self.listed = snapshot
            .iter()
            .filter(|(_, r)| r.kind == ResourceKind::Sitemap)
            .map(|(path, r)| (path.clone(), r.last_modified))
            .collect();
    }

    /// Writes again the sitemaps of `months` (language, month), copying
    /// the entries of articles not `relinked` that did not change; then
    /// the pages and news sitemaps, and the index and `.gz` twins of
    /// whichever sitemaps' bytes changed. Nothing when sitemaps are off.
    pub(super) fn render(
        &mut self,
        months: &BTreeSet<(String, Month)>,
        relinked: &HashSet<PathBuf>,
        step: &mut Step<'_>,
    ) {
        let config = step.config;
        if !config.sitemaps.enabled {
            return;
        }
        // Sitemaps whose bytes changed, appeared or disappeared.
        let mut changed = Vec::new();
        for (lang, month) in months {
            let first = sitemap::month_path(lang, *month, config);
            let files = self.month(lang, *month, &first, relinked, step);
            let mut part = files.len() + 1;
            for (path, resource) in files {
                if self.put(path.clone(), resource, step) {
                    changed.push(path);
                }
            }
            while self.remove(&sitemap::part_path(&first, part), step) {
                changed.push(sitemap::part_path(&first, part));
                part += 1;
            }
        }
        let (pages_path, pages) = sitemap::pages_file(step.catalog, config);
        if self.put(pages_path.clone(), pages, step) {
            changed.push(pages_path);
        }
        if let Some(news_path) = &config.sitemaps.news_path {
            let news_changed = match news_sitemap::news_file(step.catalog, config) {
                Some((path, resource)) => self.put(path, resource, step),
                None => self.remove(news_path, step),
            };
            if news_changed {
                changed.push(news_path.clone());
            }
        }
        if !changed.is_empty() {
            // The index lists every sitemap with its newest date.
            let children: Vec<(String, Option<Timestamp>)> =
                self.listed.iter().map(|(path, at)| (path.clone(), *at)).collect();
            let (index_path, index) = sitemap::index_file(&children, config);
            if self.put(index_path.clone(), index, step) {
                changed.push(index_path);
            }
        }
        if config.sitemaps.gzip && !changed.is_empty() {
            changed.sort();
            changed.dedup();
            step.journal.refresh_gzip_twins(&changed);
        }
    }

    /// Lays out the entries of each language's newest sitemap month that
    /// has no layout yet, so that the first edit need not write it whole;
    /// changes no file.
    pub(super) fn warm_up(&mut self, step: &mut Step<'_>) {
        let config = step.config;
        if !config.sitemaps.enabled {
            return;
        }
        let mut newest: BTreeMap<String, Month> = BTreeMap::new();
        for (lang, month) in step.catalog.months() {
            newest.insert(lang.to_string(), month);
        }
        let none = HashSet::new();
        for (lang, month) in newest {
            if !self.layouts.contains_key(&(lang.clone(), month)) {
                let first = sitemap::month_path(&lang, month, config);
                for (path, resource) in self.month(&lang, month, &first, &none, step) {
                    self.put(path, resource, step);
                }
            }
        }
    }

    /// The files of `lang`'s sitemap of `month` (whose first part is at
    /// `first`), copying the entries of articles that did not change from
    /// the current file when the month fits one.
    fn month(
        &mut self,
        lang: &str,
        month: Month,
        first: &str,
        relinked: &HashSet<PathBuf>,
        step: &Step<'_>,
    ) -> Vec<(String, Resource)> {
        let (catalog, config) = (step.catalog, step.config);
        let key = (lang.to_string(), month);
        let previous = self
            .layouts
            .get(&key)
            .and_then(|layout| step.journal.get(first).filter(|f| layout.describes(f)).map(|f| (layout, &**f)));
        let relinked = |a: &Article| relinked.contains(&a.source.path);
        let Some((resource, layout)) = sitemap::splice::month_file(lang, month, previous, relinked, catalog, config)
        else {
            self.layouts.remove(&key);
            return sitemap::month_files(lang, month, catalog, config);
        };
        debug_assert!(
            sitemap::month_files(lang, month, catalog, config) == vec![(first.to_string(), resource.clone())],
            "{first}: the assembled sitemap differs from the one written at once"
        );
        self.layouts.insert(key, layout);
        vec![(first.to_string(), resource)]
    }

    /// Writes a sitemap (or the index) at `path`, listing it in the index
    /// if it is a sitemap; whether its bytes are new.
    fn put(&mut self, path: String, resource: Resource, step: &mut Step<'_>) -> bool {
        if resource.kind == ResourceKind::Sitemap {
            self.listed.insert(path.clone(), resource.last_modified);
        }
        step.put(path, resource)
    }

    /// Removes the sitemap at `path` from the files and the index; whether
    /// there was one.
    fn remove(&mut self, path: &str, step: &mut Step<'_>) -> bool {
        self.listed.remove(path);
        step.remove(path)
    }
}
