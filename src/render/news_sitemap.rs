//! The Google News sitemap: articles published in the last 48 hours, at
//! most 1,000, newest first, in every language.
//!
//! Unlike other files it changes as time passes: an article leaves it 48
//! hours after its date. [`next_expiry`] says when, so the daemon wakes up
//! then instead of polling.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use super::sitemap::{NewsEntry, SITEMAP_CONTENT_TYPE, UrlEntry, pack};
use crate::article::Article;
use crate::catalog::Catalog;
use crate::config::Config;
use crate::snapshot::{Resource, ResourceKind};

/// How long an article stays in the news sitemap (Google's rule).
pub const WINDOW: SignedDuration = SignedDuration::from_hours(48);
/// Most articles in the news sitemap (Google's rule).
pub const MAX_ARTICLES: usize = 1_000;

/// The articles in the news sitemap at the catalog's instant, newest first.
pub fn news_articles(catalog: &Catalog) -> Vec<&Arc<Article>> {
    let since = catalog.now().checked_sub(WINDOW).unwrap_or(Timestamp::MIN);
    catalog.all().take_while(|a| a.date > since).filter(|a| a.in_sitemap).take(MAX_ARTICLES).collect()
}

/// When the oldest article in the news sitemap leaves it, if any.
pub fn next_expiry(catalog: &Catalog) -> Option<Timestamp> {
    news_articles(catalog).last().and_then(|a| a.date.checked_add(WINDOW).ok())
}

/// The news sitemap, or `None` when no article is recent enough (an empty
/// `<urlset>` is not a valid sitemap).
pub fn news_file(catalog: &Catalog, config: &Config) -> Option<(String, Resource)> {
    let path = config.sitemaps.news_path.clone()?;
    let articles = news_articles(catalog);
    if articles.is_empty() {
        return None;
    }
    let entries: Vec<UrlEntry> = articles
        .iter()
        .map(|a| UrlEntry {
            loc: a.url.clone(),
            lastmod: None,
            alternates: Vec::new(),
            images: Vec::new(),
            news: Some(NewsEntry {
                publication: config
                    .sitemaps
                    .news_names
                    .get(&a.lang)
                    .cloned()
                    .unwrap_or_else(|| config.site_title(&a.lang).to_string()),
                language: a.lang.clone(),
                published: a.date,
                title: a.title.clone(),
            }),
        })
        .collect();
    let newest = articles.first().map(|a| a.updated());
    let (bytes, _) = pack(&entries, config, true).remove(0);
    Some((path, Resource::new(ResourceKind::Sitemap, bytes, SITEMAP_CONTENT_TYPE, newest)))
}
