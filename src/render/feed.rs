//! The format-neutral description of one feed: which articles, in which
//! order, with which titles and links. The RSS, Atom and JSON Feed writers
//! all read this, so the three formats of one feed always agree.

use std::sync::Arc;

use jiff::Timestamp;

use super::bodies::BodyCache;
use crate::article::{Article, Month};
use crate::catalog::Catalog;
use crate::config::{Config, ContentMode, FeedPaths, SiteScope, fill_template};
use crate::store::ArticleStore;

/// Which articles a feed holds.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FeedScope {
    /// The site-wide feed (`/rss.xml`): the default language, or every
    /// language, per `feeds.site_scope`.
    Site,
    /// One language (`/vi/rss.xml`).
    Language(String),
    /// One section in one language (`/vi/thoi-su/rss.xml`).
    Section {
        /// Language code.
        lang: String,
        /// Section slug.
        section: String,
    },
}

/// The three published formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FeedFormat {
    /// RSS 2.0.
    Rss,
    /// Atom 1.0 (RFC 4287).
    Atom,
    /// JSON Feed 1.1.
    Json,
}

impl FeedFormat {
    /// All formats, in output order.
    pub const ALL: [FeedFormat; 3] = [FeedFormat::Rss, FeedFormat::Atom, FeedFormat::Json];

    /// The HTTP media type of this format.
    pub fn media_type(self) -> &'static str {
        match self {
            FeedFormat::Rss => "application/rss+xml",
            FeedFormat::Atom => "application/atom+xml",
            FeedFormat::Json => "application/feed+json",
        }
    }
}

/// Every feed the site publishes at the catalog's instant: the site feed,
/// one per declared language, and one per (language, section) with articles.
pub fn feed_scopes(catalog: &Catalog, config: &Config) -> Vec<FeedScope> {
    let mut scopes = vec![FeedScope::Site];
    scopes.extend(config.languages.iter().map(|l| FeedScope::Language(l.code.clone())));
    scopes
        .extend(catalog.placements().map(|p| FeedScope::Section { lang: p.lang.clone(), section: p.section.clone() }));
    scopes
}

impl FeedScope {
    /// The language a feed is written in (`xml:lang`, `<language>`).
    pub fn lang<'a>(&'a self, config: &'a Config) -> &'a str {
        match self {
            FeedScope::Site => &config.site.default_language,
            FeedScope::Language(lang) | FeedScope::Section { lang, .. } => lang,
        }
    }

    /// The site path of this feed in `format`.
    pub fn path(&self, format: FeedFormat, config: &Config) -> String {
        let (paths, values): (&FeedPaths, Vec<(&str, &str)>) = match self {
            FeedScope::Site => (&config.feeds.site_paths, vec![]),
            FeedScope::Language(lang) => (&config.feeds.language_paths, vec![("lang", lang)]),
            FeedScope::Section { lang, section } => {
                (&config.feeds.section_paths, vec![("lang", lang), ("section", section)])
            }
        };
        let template = match format {
            FeedFormat::Rss => &paths.rss,
            FeedFormat::Atom => &paths.atom,
            FeedFormat::Json => &paths.json,
        };
        fill_template(template, &values)
    }

    /// The scope's articles, newest first, unlimited.
    pub fn articles<'a>(
        &'a self,
        catalog: &'a Catalog,
        config: &'a Config,
    ) -> Box<dyn Iterator<Item = &'a Arc<Article>> + 'a> {
        match self {
            FeedScope::Site => match config.feeds.site_scope {
                SiteScope::DefaultLanguage => Box::new(catalog.in_language(&config.site.default_language)),
                SiteScope::AllLanguages => Box::new(catalog.all()),
            },
            FeedScope::Language(lang) => Box::new(catalog.in_language(lang)),
            FeedScope::Section { lang, section } => Box::new(catalog.in_section(lang, section)),
        }
    }

    /// The HTML page this feed mirrors (the site's home, language or section
    /// page).
    pub fn home_url(&self, config: &Config) -> String {
        let prefix = |lang: &str| config.language(lang).map(|l| l.prefix.clone()).unwrap_or_default();
        let path = match self {
            FeedScope::Site => String::from("/"),
            FeedScope::Language(lang) => format!("{}/", prefix(lang)),
            FeedScope::Section { lang, section } => format!("{}/{section}/", prefix(lang)),
        };
        config.url_for(&path)
    }

    /// The feed's title: the site title, with the section's in front for
    /// section feeds.
    pub fn title(&self, config: &Config) -> String {
        let lang = self.lang(config);
        match self {
            FeedScope::Section { section, .. } => {
                format!("{} – {}", config.section_title(section, lang), config.site_title(lang))
            }
            _ => config.site_title(lang).to_string(),
        }
    }
}

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
    pub history: super::archive::History,
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
        title: scope.title(config),
        description: config.site_description(&lang).to_string(),
        home_url: scope.home_url(config),
        rss_url: config.url_for(&scope.path(FeedFormat::Rss, config)),
        atom_url: config.url_for(&scope.path(FeedFormat::Atom, config)),
        json_url: config.url_for(&scope.path(FeedFormat::Json, config)),
        updated,
        items,
        history: super::archive::live_history(scope, catalog, config),
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
    use super::archive::{History, archive_path, articles_in_month};
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
        title: format!("{} ({month})", scope.title(config)),
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
