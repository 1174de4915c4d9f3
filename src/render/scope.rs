//! Which feeds the site publishes and in which formats: a feed's scope
//! (the site, a language, a section), its paths, title and articles. The
//! feed documents ([`super::feed`]) and their archives ([`super::archive`])
//! both start from here.

use std::sync::Arc;

use crate::article::Article;
use crate::catalog::{Catalog, Term};
use crate::config::{Config, FeedPaths, SiteScope, fill_template};

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
    /// One tag, author or category in one language
    /// (`/vi/tags/le-hoi/rss.xml`).
    Term(Term),
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
/// one per declared language, one per (language, section) with articles,
/// and one per taxonomy term with at least its taxonomy's `min_articles`.
pub fn feed_scopes(catalog: &Catalog, config: &Config) -> Vec<FeedScope> {
    let mut scopes = vec![FeedScope::Site];
    scopes.extend(config.languages.iter().map(|l| FeedScope::Language(l.code.clone())));
    scopes
        .extend(catalog.placements().map(|p| FeedScope::Section { lang: p.lang.clone(), section: p.section.clone() }));
    scopes.extend(term_scopes(catalog, config));
    scopes
}

/// The term feeds the site publishes: every term of an enabled taxonomy
/// with at least its `min_articles` visible articles, sorted.
pub fn term_scopes<'a>(catalog: &'a Catalog, config: &'a Config) -> impl Iterator<Item = FeedScope> + 'a {
    catalog
        .terms()
        .filter(|(term, entry)| is_term_published(term, entry.count(), config))
        .map(|(term, _)| FeedScope::Term(term.clone()))
}

/// Whether a term with `count` visible articles gets feeds.
fn is_term_published(term: &Term, count: usize, config: &Config) -> bool {
    let settings = config.taxonomies.get(term.taxonomy);
    settings.enabled && count > 0 && count >= settings.min_articles
}

impl FeedScope {
    /// The language a feed is written in (`xml:lang`, `<language>`).
    pub fn lang<'a>(&'a self, config: &'a Config) -> &'a str {
        match self {
            FeedScope::Site => &config.site.default_language,
            FeedScope::Language(lang) | FeedScope::Section { lang, .. } | FeedScope::Term(Term { lang, .. }) => lang,
        }
    }

    /// Whether the feed's files are rarely read (a tag, author or category
    /// feed: many of them, each read by few), so that they are kept on disk
    /// ([`crate::snapshot::Resource::cold`]).
    pub fn is_cold(&self) -> bool {
        matches!(self, FeedScope::Term(_))
    }

    /// Whether the site publishes this feed now: always for the site and
    /// language feeds, while it has articles for a section, while it has
    /// `min_articles` for a term.
    pub fn is_published(&self, catalog: &Catalog, config: &Config) -> bool {
        match self {
            FeedScope::Site | FeedScope::Language(_) => true,
            FeedScope::Section { lang, section } => catalog.count_in_section(lang, section) > 0,
            FeedScope::Term(term) => {
                is_term_published(term, catalog.term(term).map_or(0, |entry| entry.count()), config)
            }
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
            FeedScope::Term(term) => {
                (&config.taxonomies.get(term.taxonomy).paths, vec![("lang", &term.lang), ("term", &term.slug)])
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
            FeedScope::Term(term) => Box::new(catalog.term(term).into_iter().flat_map(|entry| entry.articles())),
        }
    }

    /// The HTML page this feed mirrors (the site's home, language or section
    /// page; a term feed's is its language's page, as a term need not have
    /// a page of its own).
    pub fn home_url(&self, config: &Config) -> String {
        let prefix = |lang: &str| config.language(lang).map(|l| l.prefix.clone()).unwrap_or_default();
        let path = match self {
            FeedScope::Site => String::from("/"),
            FeedScope::Language(lang) | FeedScope::Term(Term { lang, .. }) => format!("{}/", prefix(lang)),
            FeedScope::Section { lang, section } => format!("{}/{section}/", prefix(lang)),
        };
        config.url_for(&path)
    }

    /// The feed's title: the site title, with the section's (or the term's
    /// most used spelling) in front for section and term feeds.
    pub fn title(&self, config: &Config, catalog: &Catalog) -> String {
        let lang = self.lang(config);
        match self {
            FeedScope::Section { section, .. } => {
                format!("{} – {}", config.section_title(section, lang), config.site_title(lang))
            }
            FeedScope::Term(term) => {
                let name = catalog.term(term).map_or(term.slug.as_str(), |entry| entry.title());
                format!("{name} – {}", config.site_title(lang))
            }
            _ => config.site_title(lang).to_string(),
        }
    }
}
