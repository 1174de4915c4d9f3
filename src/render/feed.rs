//! The format-neutral description of one feed: which articles, in which
//! order, with which titles and links. The RSS, Atom and JSON Feed writers
//! all read this, so the three formats of one feed always agree.

use std::sync::Arc;

use jiff::Timestamp;

use super::archive::{History, archive_path, articles_in_month, live_history};
use super::bodies::BodyCache;
pub use super::scope::{FeedFormat, FeedScope, feed_scopes, term_scopes};
use crate::article::{Article, Month};
use crate::catalog::Catalog;
use crate::config::{Config, ContentMode};
use crate::store::ArticleStore;

/// One feed, ready for any writer.
#[derive(Debug, Clone)]
pub struct FeedDoc {
    /// Which articles it holds.
    pub scope: FeedScope,
    /// Language code.
    pub lang: String,
    /// Feed title.
    pub title: String,
    /// Feed description.
    pub description: String,
    /// The HTML page the feed mirrors.
    pub home_url: String,
    /// Absolute URL of this feed in each format.
    pub rss_url: String,
    /// Atom URL.
    pub atom_url: String,
    /// JSON Feed URL.
    pub json_url: String,
    /// Newest modification among the items (the feed's `updated`); never
    /// the wall clock, so an unchanged feed keeps its bytes.
    pub updated: Timestamp,
    /// The items, newest first.
    pub items: Vec<FeedItem>,
    /// Where this document stands in the feed's history (RFC 5005).
    pub history: History,
}

impl FeedDoc {
    /// This feed's absolute URL in `format`.
    pub fn url(&self, format: FeedFormat) -> &str {
        match format {
            FeedFormat::Rss => &self.rss_url,
            FeedFormat::Atom => &self.atom_url,
            FeedFormat::Json => &self.json_url,
        }
    }

    /// The URLs this document's history links point to, in `format`:
    /// (`rel`, URL) ([`super::archive::links`]).
    pub fn history_links(&self, format: FeedFormat, config: &Config) -> Vec<(&'static str, String)> {
        super::archive::links(&self.scope, self.history, format, config)
    }
}

/// One article as a feed item.
#[derive(Debug, Clone)]
pub struct FeedItem {
    /// The article.
    pub article: Arc<Article>,
    /// Its globally unique id (never changes once published).
    pub iri: String,
    /// Section title in the article's language.
    pub section_title: String,
    /// Full sanitised HTML body, when feeds carry full content and the body
    /// could be read.
    pub content_html: Option<Arc<str>>,
    /// Other-language versions of the story: (language code, URL).
    pub translations: Vec<(String, String)>,
}

impl FeedItem {
    /// An item standing for `article` whose bytes are copied, never
    /// written: it has the article (what a document's header depends on)
    /// and nothing else.
    fn placeholder(article: &Arc<Article>) -> FeedItem {
        FeedItem {
            article: Arc::clone(article),
            iri: String::new(),
            section_title: String::new(),
            content_html: None,
            translations: Vec::new(),
        }
    }

    /// Whether this is a placeholder (an item always has an IRI).
    pub fn is_placeholder(&self) -> bool {
        self.iri.is_empty()
    }
}

/// One article as a feed item (also the article data of webhook events).
pub fn feed_item(
    article: &Arc<Article>,
    catalog: &Catalog,
    config: &Config,
    store: &dyn ArticleStore,
    bodies: &mut BodyCache,
) -> FeedItem {
    let content_html = match config.feeds.content {
        ContentMode::Full => bodies.html(article, store, config),
        ContentMode::Summary => None,
    };
    item_with(article, content_html, catalog, config)
}

/// `article` as an archive item: no body (archives carry summaries).
pub fn archive_item(article: &Arc<Article>, catalog: &Catalog, config: &Config) -> FeedItem {
    item_with(article, None, catalog, config)
}

/// `article` as a feed item carrying `content_html`.
fn item_with(article: &Arc<Article>, content_html: Option<Arc<str>>, catalog: &Catalog, config: &Config) -> FeedItem {
    FeedItem {
        iri: article.iri(config),
        section_title: config.section_title(&article.section, &article.lang).to_string(),
        content_html,
        translations: catalog
            .translations(article)
            .into_iter()
            .filter(|t| t.lang != article.lang)
            .map(|t| (t.lang.clone(), t.url.clone()))
            .collect(),
        article: Arc::clone(article),
    }
}

/// Gathers the feed for `scope` from the catalog, reading bodies through
/// `bodies` when full content is configured.
pub fn feed_doc(
    scope: &FeedScope,
    catalog: &Catalog,
    config: &Config,
    store: &dyn ArticleStore,
    bodies: &mut BodyCache,
) -> FeedDoc {
    let lang = scope.lang(config).to_string();
    let articles: Vec<&Arc<Article>> = scope.articles(catalog, config).take(config.feeds.item_limit).collect();
    // An empty feed is dated at the epoch: its bytes must depend on its own
    // items only, or an edit elsewhere would change it unnoticed.
    let updated = articles.iter().map(|a| a.updated()).max().unwrap_or(Timestamp::UNIX_EPOCH);
    let items = articles.into_iter().map(|article| feed_item(article, catalog, config, store, bodies)).collect();
    FeedDoc {
        lang: lang.clone(),
        title: scope.title(config, catalog),
        description: config.site_description(&lang).to_string(),
        home_url: scope.home_url(config),
        rss_url: config.url_for(&scope.path(FeedFormat::Rss, config)),
        atom_url: config.url_for(&scope.path(FeedFormat::Atom, config)),
        json_url: config.url_for(&scope.path(FeedFormat::Json, config)),
        updated,
        items,
        history: live_history(scope, catalog, config),
        scope: scope.clone(),
    }
}

/// The archive document of `scope` for `month`: its articles newest first,
/// with summaries (archives never read bodies), linked to its neighbours.
pub fn archive_doc(
    scope: &FeedScope,
    month: Month,
    prev: Option<Month>,
    next: Option<Month>,
    catalog: &Catalog,
    config: &Config,
) -> FeedDoc {
    archive_doc_partial(scope, month, prev, next, catalog, config, |_| true)
}

/// [`archive_doc`] with complete items only for the articles `complete`
/// names; the others are placeholders (see [`FeedItem::is_placeholder`])
/// for a writer that copies their bytes from an earlier rendering
/// ([`super::splice`]). Building an item (its links to translations) costs
/// more than copying its bytes.
pub fn archive_doc_partial(
    scope: &FeedScope,
    month: Month,
    prev: Option<Month>,
    next: Option<Month>,
    catalog: &Catalog,
    config: &Config,
    complete: impl Fn(&Arc<Article>) -> bool,
) -> FeedDoc {
    let lang = scope.lang(config).to_string();
    let articles = articles_in_month(scope, month, catalog, config);
    let updated = articles.iter().map(|a| a.updated()).max().unwrap_or(Timestamp::UNIX_EPOCH);
    let items = articles
        .into_iter()
        .map(|article| match complete(article) {
            true => item_with(article, None, catalog, config),
            false => FeedItem::placeholder(article),
        })
        .collect();
    let url = |format| config.url_for(&archive_path(scope, month, format, config));
    FeedDoc {
        lang: lang.clone(),
        title: format!("{} ({month})", scope.title(config, catalog)),
        description: config.site_description(&lang).to_string(),
        home_url: scope.home_url(config),
        rss_url: url(FeedFormat::Rss),
        atom_url: url(FeedFormat::Atom),
        json_url: url(FeedFormat::Json),
        updated,
        items,
        history: History::Archive { month, prev, next },
        scope: scope.clone(),
    }
}
