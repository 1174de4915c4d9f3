//! What one change to the catalog touches: the feeds, archive months and
//! sitemap months that show a changed article, and the other versions of
//! its story when it changed how they link to it. The live site renders
//! those and nothing else.

use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use crate::article::{Article, Month};
use crate::catalog::{Catalog, Change};
use crate::config::{Config, SiteScope};
use crate::render::FeedScope;

/// The parts of the site one step touched.
#[derive(Debug, Default)]
pub(super) struct Touched {
    /// Feed scopes whose articles, or whose items, may have changed.
    pub scopes: BTreeSet<FeedScope>,
    /// Archive months holding an item that may have changed.
    pub archive_months: BTreeSet<(FeedScope, Month)>,
    /// Sitemap months, per language, holding an entry that may have
    /// changed.
    pub sitemap_months: BTreeSet<(String, Month)>,
    /// Visible articles whose feed item or sitemap entry may have changed
    /// although the article did not: another version of their story
    /// changed its address, language or visibility.
    pub relinked: HashSet<PathBuf>,
}

impl Touched {
    /// What `change` touches in the site of `catalog` (as changed).
    pub(super) fn by(change: &Change, catalog: &Catalog, config: &Config) -> Touched {
        let mut touched = Touched::default();
        let mut relink: Vec<&Arc<Article>> = Vec::new();
        for article in change.published.iter().chain(&change.unpublished) {
            touched.add(article, true, catalog, config);
            relink.push(article);
        }
        for (old, new) in &change.updated {
            let sitemap = sitemap_entry_differs(old, new);
            touched.add(old, sitemap, catalog, config);
            touched.add(new, sitemap, catalog, config);
            if links_differ(old, new) {
                relink.push(old);
                relink.push(new);
            }
        }
        for article in relink {
            for version in catalog.translations(article) {
                if touched.relinked.insert(version.source.path.clone()) {
                    touched.add(version, true, catalog, config);
                }
            }
        }
        touched
    }

    /// Marks every file that shows `article`: its feeds, their archive
    /// months and, if `sitemap`, its sitemap month.
    fn add(&mut self, article: &Article, sitemap: bool, catalog: &Catalog, config: &Config) {
        for scope in scopes_of(article, catalog, config) {
            self.archive_months.insert((scope.clone(), article.month));
            self.scopes.insert(scope);
        }
        if sitemap && article.in_sitemap {
            self.sitemap_months.insert((article.lang.clone(), article.month));
        }
    }
}

/// The feeds `article` appears in when visible (its term feeds whether or
/// not they have `min_articles`: the change may have crossed the line).
fn scopes_of(article: &Article, catalog: &Catalog, config: &Config) -> Vec<FeedScope> {
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
    out.extend(catalog.terms_of(article).into_iter().map(FeedScope::Term));
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
